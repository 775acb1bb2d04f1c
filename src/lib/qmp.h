/* qmp.h: a small blocking client of QEMU's machine protocol (QMP): JSON
 * objects, one a line, over a unix socket -- the greeting, commands and
 * their answers, and asynchronous events with QEMU's own timestamps.
 *
 * Every wait is bounded by a timeout; a line is parsed only through
 * qmp_msg_parse(), a pure function (tested and fuzzed on its own) that
 * never accepts a line it cannot classify.  Events read while waiting for
 * an answer are queued, in order, for qmp_next_event(). */
#ifndef MIGNET_QMP_H
#define MIGNET_QMP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Longest line accepted from QEMU (query answers are a few KiB). */
#define QMP_MAX_LINE (1024 * 1024)
/* Most events held unread before the connection is declared broken. */
#define QMP_MAX_QUEUE 4096

enum qmp_kind {
    QMP_GREETING,   /* {"QMP": {...}} */
    QMP_RETURN,     /* {"return": X} */
    QMP_ERROR,      /* {"error": {"class": C, "desc": D}} */
    QMP_EVENT,      /* {"event": NAME, "timestamp": {...}, "data"?: {...}} */
};

/* One parsed line.  'root' holds the reference; the other pointers point
 * into it.  Destroy with qmp_msg_destroy() (accepts a zeroed one). */
struct qmp_msg {
    enum qmp_kind kind;
    json_t *root;
    const char *event;      /* QMP_EVENT: its name */
    uint64_t ts_us;         /* QMP_EVENT: QEMU's wall-clock timestamp in
                             * microseconds since the epoch; 0 when QEMU
                             * sent none it could (-1, -1) */
    json_t *data;           /* QMP_EVENT: "data" or NULL; QMP_RETURN: the
                             * returned value */
    const char *err_class;  /* QMP_ERROR */
    const char *err_desc;   /* QMP_ERROR */
};

/* Parses one line ('len' bytes, without its newline; a trailing '\r' is
 * allowed).  Returns 0 with 'msg' filled, or EINVAL with the reason in
 * 'err': not one JSON object, or none of the four shapes above (an event
 * needs a string name and a well-formed timestamp; an error needs string
 * class and desc). */
int qmp_msg_parse(const char *line, size_t len, struct qmp_msg *msg,
                  char *err, size_t errlen);
void qmp_msg_destroy(struct qmp_msg *);

/* A connection: qmp_connect() / qmp_close(). */
struct qmp;

/* Connects to the QMP socket at 'path', reads the greeting and negotiates
 * (qmp_capabilities), all within 'timeout_ms'.  Returns the connection, or
 * NULL with the reason in 'err'. */
struct qmp *qmp_connect(const char *path, int timeout_ms, char *err,
                        size_t errlen);
/* Wraps an already connected stream socket 'fd' (taken) and does the same
 * greeting and negotiation: for tests over a socketpair. */
struct qmp *qmp_open_fd(int fd, int timeout_ms, char *err, size_t errlen);
void qmp_close(struct qmp *);   /* accepts NULL */

/* Runs command 'name' with 'args' (an object, taken; NULL for none) and
 * waits at most 'timeout_ms' for its answer.  Returns 0 with '*ret' (may
 * be NULL when the caller does not want it) holding a new reference to the
 * returned value; EREMOTEIO when QEMU answered with an error ('err' has its
 * class and description); ETIMEDOUT, EPROTO (a line that is not QMP, too
 * long, or too many queued events), EPIPE (QEMU closed the connection) or
 * an errno of the socket, with 'err' explaining. */
int qmp_execute(struct qmp *, const char *name, json_t *args,
                int timeout_ms, json_t **ret, char *err, size_t errlen);

/* Takes the oldest event read so far, or waits at most 'timeout_ms' (0:
 * do not wait) for one.  Returns 0 with 'ev' filled (the caller destroys
 * it), ETIMEDOUT when none came, or an error as qmp_execute(). */
int qmp_next_event(struct qmp *, int timeout_ms, struct qmp_msg *ev,
                   char *err, size_t errlen);

/* The status of a MIGRATION event ("setup", "active", "completed", ...),
 * or NULL when 'ev' is another event or has no string status. */
const char *qmp_migration_status(const struct qmp_msg *ev);

#endif /* MIGNET_QMP_H */
