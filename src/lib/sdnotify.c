/* sdnotify.c: readiness notification to systemd (see sdnotify.h).
 *
 * The protocol is one AF_UNIX datagram of text to the socket named in
 * $NOTIFY_SOCKET; nothing is ever read back.  The socket is opened and
 * closed for each message: notifications are rare (start, reload, stop). */
#include "lib/sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool
sdnotify_addr(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 2 || (name[0] != '/' && name[0] != '@')
        || n > sizeof sa->sun_path - (name[0] == '/')) {
        return false;
    }
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, name, n);
    if (name[0] == '@') {
        /* Abstract namespace: the name's bytes after a NUL, no NUL at the
         * end; the address length says where it stops. */
        sa->sun_path[0] = '\0';
        *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return true;
}

int
sdnotify(const char *state)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !*name) {
        return 0;
    }
    struct sockaddr_un sa;
    socklen_t len;
    if (!sdnotify_addr(name, &sa, &len)) {
        return EINVAL;
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    int err = 0;
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                       (const struct sockaddr *) &sa, len);
    if (n < 0) {
        err = errno;
    } else if ((size_t) n != strlen(state)) {
        err = EMSGSIZE;
    }
    close(fd);
    return err;
}

int
sdnotifyf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return sdnotify(buf);
}

int
sdnotify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return sdnotifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
                     (unsigned long long) ts.tv_sec * 1000000ull
                     + (unsigned long long) ts.tv_nsec / 1000);
}
