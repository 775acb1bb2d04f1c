/* sock.c: TCP connect with a deadline, bounded waits, host:port parsing
 * (see sock.h).
 *
 * Used by short-lived blocking clients (the CLI, the test agent); the
 * daemons use libevent instead and must not call into this. */
#include "lib/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/strbuf.h"

int64_t
sock_now_ms(void)
{
    return (int64_t) clock_mono_ms();
}

int
sock_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - sock_now_ms();
        if (left <= 0) {
            return ETIMEDOUT;
        }
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int) left);
        if (n > 0) {
            return 0;
        }
        if (n < 0 && errno != EINTR) {
            return errno;
        }
    }
}

static int
connect_one(const struct addrinfo *ai, int64_t deadline, int *fdp)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0) {
        return errno;
    }
    int error = 0;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        error = errno;
    } else if (connect(fd, ai->ai_addr, ai->ai_addrlen)
               && errno != EINPROGRESS) {
        error = errno;
    } else {
        error = sock_wait(fd, POLLOUT, deadline);
        if (!error) {
            socklen_t slen = sizeof error;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &slen)) {
                error = errno;
            }
        }
    }
    if (error) {
        close(fd);
        return error;
    }
    *fdp = fd;
    return 0;
}

int
sock_connect(const char *host, const char *port, int timeout_ms, int *fdp,
             char *err, size_t errlen)
{
    int64_t deadline = sock_now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    struct addrinfo hints = {0}, *res = NULL;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai) {
        strbuf_format_into(err, errlen, "%s: %s", host, gai_strerror(gai));
        return ENOENT;
    }
    int error = ECONNREFUSED;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        error = connect_one(ai, deadline, fdp);
        if (!error || error == ETIMEDOUT) {
            break;
        }
    }
    freeaddrinfo(res);
    if (error) {
        strbuf_format_into(err, errlen, "%s port %s: %s", host, port,
                           strerror(error));
    }
    return error;
}

bool
sock_split_addr(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon, *h = s;
    size_t hn;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':') {
            return false;
        }
        h = s + 1;
        hn = (size_t) (end - h);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || strchr(s, ':') != colon) {
            return false; /* none, or a bare IPv6 address */
        }
        hn = (size_t) (colon - s);
    }
    const char *p = colon + 1;
    size_t pn = strlen(p);
    if (!hn || hn >= hostlen || !pn || pn > 5
        || strspn(p, "0123456789") != pn) {
        return false;
    }
    unsigned long v = strtoul(p, NULL, 10);
    if (v > 65535) {
        return false;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    *port = (uint16_t) v;
    return true;
}

bool
sock_split_hostport(const char *s, char *host, size_t hostlen, char *port,
                    size_t portlen)
{
    uint16_t v;
    if (!sock_split_addr(s, host, hostlen, &v) || !v) {
        return false;
    }
    /* The port as written: after the last ':' once the split succeeded. */
    const char *p = strrchr(s, ':') + 1;
    size_t pn = strlen(p);
    if (pn >= portlen) {
        return false;
    }
    memcpy(port, p, pn + 1);
    return true;
}

void
sock_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    /* Copies, not casts: 'sa' need not be aligned for the larger types. */
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
        port = ntohs(in.sin_port);
        snprintf(buf, len, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
        port = ntohs(in6.sin6_port);
        snprintf(buf, len, "[%s]:%u", host, port);
    } else {
        snprintf(buf, len, "?");
    }
}

int
sock_listen(const char *addr_port, char *bound, size_t boundlen, char *err,
           size_t errlen)
{
    char host[256], port[8];
    uint16_t p;
    if (!sock_split_addr(addr_port, host, sizeof host, &p)) {
        snprintf(err, errlen, "'%s' is not ADDR:PORT", addr_port);
        return -1;
    }
    snprintf(port, sizeof port, "%u", (unsigned) p);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "%s: %s", addr_port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
    int one = 1;
    if (fd < 0
        || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || bind(fd, ai->ai_addr, ai->ai_addrlen)
        || listen(fd, SOCK_BACKLOG)) {
        snprintf(err, errlen, "%s: %s", addr_port, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *) &ss, &sslen)) {
        snprintf(bound, boundlen, "%s", addr_port);
    } else {
        sock_format_addr((struct sockaddr *) &ss, bound, boundlen);
    }
    return fd;
}

bool
sock_host_numeric(const char *host)
{
    struct in6_addr a6;
    struct in_addr a4;
    return host && (inet_pton(AF_INET, host, &a4) == 1
                    || inet_pton(AF_INET6, host, &a6) == 1);
}
