/* sock.h: TCP helpers: blocking-with-deadline connects shared by the HTTP
 * client and the agents' channel connection, listening sockets for the
 * daemons, and the text forms of addresses.
 *
 * Every wait is bounded by a deadline on the monotonic clock; nothing here
 * raises SIGPIPE or leaves a half-open descriptor behind on failure. */
#ifndef MIGNET_SOCK_H
#define MIGNET_SOCK_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* clock_mono_ms(), signed so deadline arithmetic may go negative. */
int64_t sock_now_ms(void);

/* Connects to 'host' (name or address) port 'port' within 'timeout_ms',
 * trying every address.  On success '*fdp' is a connected, non-blocking,
 * close-on-exec socket.  Returns 0 or a positive errno: ENOENT when the
 * host does not resolve, ETIMEDOUT, or the last connect error; 'err' (if
 * not NULL) explains. */
int sock_connect(const char *host, const char *port, int timeout_ms,
                 int *fdp, char *err, size_t errlen);

/* Waits for 'events' (POLLIN/POLLOUT) on 'fd' until 'deadline' (from
 * sock_now_ms()).  Returns 0, ETIMEDOUT or an errno from poll(). */
int sock_wait(int fd, short events, int64_t deadline);

/* Splits "HOST:PORT" or "[V6]:PORT" into 'host' and a port of 0 to 65535
 * (up to five digits).  Returns false when malformed, when the host is
 * empty or does not fit 'hostlen', and for a bare IPv6 address. */
bool sock_split_addr(const char *, char *host, size_t hostlen,
                     uint16_t *port);
/* sock_split_addr() for connecting: the port must be nonzero and is copied
 * as written (for getaddrinfo()).  On failure 'host' may have been written. */
bool sock_split_hostport(const char *, char *host, size_t hostlen,
                         char *port, size_t portlen);

/* Whether 'host' is an IPv4 or IPv6 address literal (no name lookup). */
bool sock_host_numeric(const char *host);

/* Pending connections a listening socket queues (the kernel caps it at
 * net.core.somaxconn): deeper than a flood of a thousand connections, so
 * a client beside the flood is not dropped before it is accepted. */
#define SOCK_BACKLOG 4096

/* Opens a listening, non-blocking TCP socket on "ADDR:PORT" (port 0: any
 * free port) and writes the address it is bound to into 'bound'.  Returns
 * the socket or -1 with a message in 'err'. */
int sock_listen(const char *addr_port, char *bound, size_t boundlen,
                char *err, size_t errlen);
/* "198.18.0.1:7480" or "[::1]:7480". */
struct sockaddr;
void sock_format_addr(const struct sockaddr *, char *buf, size_t len);

#endif /* MIGNET_SOCK_H */
