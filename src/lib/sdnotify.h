/* sdnotify.h: the service manager's readiness protocol (sd_notify(3)),
 * without libsystemd.
 *
 * A daemon started by systemd with Type=notify finds the path of a
 * datagram socket in $NOTIFY_SOCKET and sends it "READY=1" once it
 * serves, "RELOADING=1" then "READY=1" around a reload, and "STOPPING=1"
 * when it shuts down.  Without $NOTIFY_SOCKET every call does nothing. */
#ifndef MIGNET_LIB_SDNOTIFY_H
#define MIGNET_LIB_SDNOTIFY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Sends 'state' (newline-separated "KEY=VALUE" assignments) as one
 * datagram to the socket named by $NOTIFY_SOCKET.  Returns 0 when sent,
 * 0 also when $NOTIFY_SOCKET is unset or empty (nobody listens), EINVAL
 * for a socket name that is neither an absolute path nor "@abstract", or
 * the errno of the send. */
int sdnotify(const char *state);

/* Like sdnotify() with a printf format; the text is cut at 1024 bytes. */
int sdnotifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "RELOADING=1" with the MONOTONIC_USEC=... stamp newer systemd wants;
 * send "READY=1" when the reload is over. */
int sdnotify_reloading(void);

/* Fills 'sa' for socket name 'name' ("/path" or "@abstract": '@' becomes
 * the leading NUL of Linux's abstract namespace) and its length in
 * '*len'.  False when 'name' is empty, relative or too long. */
bool sdnotify_addr(const char *name, struct sockaddr_un *sa,
                   socklen_t *len);

#endif /* MIGNET_LIB_SDNOTIFY_H */
