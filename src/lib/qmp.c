/* qmp.c: the QMP client (see qmp.h): line framing with a bound, the pure
 * line classifier, and blocking command/answer exchanges with a deadline
 * that queue the events read on the way.
 *
 * Only for short-lived blocking tools (mignet-qemu); the daemons never
 * talk to QEMU. */
#include "lib/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/util.h"

struct qmp {
    int fd;
    struct strbuf in;           /* bytes read, not yet a whole line */
    struct qmp_msg *queue;      /* events read, oldest first */
    size_t qlen, qcap;
};

/* Latest timestamp accepted, in seconds (year 33658): keeps the
 * microsecond product far from overflow. */
#define QMP_MAX_TS_S 1000000000000LL

void
qmp_msg_destroy(struct qmp_msg *msg)
{
    if (msg) {
        json_decref(msg->root);
        memset(msg, 0, sizeof *msg);
    }
}

static int
parse_event(json_t *root, struct qmp_msg *msg, char *err, size_t errlen)
{
    json_t *name = json_object_get(root, "event");
    json_t *ts = json_object_get(root, "timestamp");
    json_t *data = json_object_get(root, "data");
    if (!json_is_string(name) || !json_is_object(ts)
        || (data && !json_is_object(data))) {
        strbuf_format_into(err, errlen, "malformed event");
        return EINVAL;
    }
    json_t *s = json_object_get(ts, "seconds");
    json_t *us = json_object_get(ts, "microseconds");
    if (!json_is_integer(s) || !json_is_integer(us)) {
        strbuf_format_into(err, errlen, "event timestamp not two integers");
        return EINVAL;
    }
    json_int_t sv = json_integer_value(s), usv = json_integer_value(us);
    if (sv == -1 && usv == -1) {
        msg->ts_us = 0;        /* QEMU could not read its clock */
    } else if (sv < 0 || sv > QMP_MAX_TS_S || usv < 0 || usv > 999999) {
        strbuf_format_into(err, errlen, "event timestamp out of range");
        return EINVAL;
    } else {
        msg->ts_us = (uint64_t) sv * 1000000u + (uint64_t) usv;
    }
    msg->kind = QMP_EVENT;
    msg->event = json_string_value(name);
    msg->data = data;
    return 0;
}

static int
parse_object(json_t *root, struct qmp_msg *msg, char *err, size_t errlen)
{
    json_t *v;
    if ((v = json_object_get(root, "return"))) {
        msg->kind = QMP_RETURN;
        msg->data = v;
        return 0;
    }
    if ((v = json_object_get(root, "error"))) {
        json_t *cls = json_object_get(v, "class");
        json_t *desc = json_object_get(v, "desc");
        if (!json_is_string(cls) || !json_is_string(desc)) {
            strbuf_format_into(err, errlen, "malformed error answer");
            return EINVAL;
        }
        msg->kind = QMP_ERROR;
        msg->err_class = json_string_value(cls);
        msg->err_desc = json_string_value(desc);
        return 0;
    }
    if (json_object_get(root, "event")) {
        return parse_event(root, msg, err, errlen);
    }
    if (json_is_object(json_object_get(root, "QMP"))) {
        msg->kind = QMP_GREETING;
        return 0;
    }
    strbuf_format_into(err, errlen, "not a QMP message");
    return EINVAL;
}

int
qmp_msg_parse(const char *line, size_t len, struct qmp_msg *msg, char *err,
              size_t errlen)
{
    memset(msg, 0, sizeof *msg);
    if (len && line[len - 1] == '\r') {
        len--;
    }
    json_error_t jerr;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        strbuf_format_into(err, errlen, "bad JSON: %s", jerr.text);
        return EINVAL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        strbuf_format_into(err, errlen, "not a JSON object");
        return EINVAL;
    }
    int rc = parse_object(root, msg, err, errlen);
    if (rc) {
        json_decref(root);
        memset(msg, 0, sizeof *msg);
        return rc;
    }
    msg->root = root;
    return 0;
}

const char *
qmp_migration_status(const struct qmp_msg *ev)
{
    if (ev->kind != QMP_EVENT || strcmp(ev->event, "MIGRATION")) {
        return NULL;
    }
    return json_string_value(json_object_get(ev->data, "status"));
}

/* ---- the connection ---- */

static int
io_error(int e, const char *what, char *err, size_t errlen)
{
    if (e == ETIMEDOUT) {
        strbuf_format_into(err, errlen, "timed out %s", what);
    } else {
        strbuf_format_into(err, errlen, "%s: %s", what, strerror(e));
    }
    return e;
}

/* Reads the next whole line into 'msg' by 'deadline'. */
static int
read_msg(struct qmp *q, int64_t deadline, struct qmp_msg *msg, char *err,
         size_t errlen)
{
    for (;;) {
        char *nl = q->in.len ? memchr(q->in.data, '\n', q->in.len) : NULL;
        if (nl) {
            size_t n = (size_t) (nl - q->in.data);
            int rc = qmp_msg_parse(q->in.data, n, msg, err, errlen);
            strbuf_consume(&q->in, n + 1);
            return rc ? EPROTO : 0;
        }
        if (q->in.len > QMP_MAX_LINE) {
            strbuf_format_into(err, errlen, "line longer than %d bytes",
                               QMP_MAX_LINE);
            return EPROTO;
        }
        int rc = sock_wait(q->fd, POLLIN, deadline);
        if (rc) {
            return io_error(rc, "waiting for QEMU", err, errlen);
        }
        char buf[65536];
        ssize_t got = recv(q->fd, buf, sizeof buf, 0);
        if (got == 0) {
            strbuf_format_into(err, errlen, "QEMU closed the connection");
            return EPIPE;
        }
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return io_error(errno, "reading from QEMU", err, errlen);
        }
        if (strbuf_append(&q->in, buf, (size_t) got)) {
            out_of_memory();
        }
    }
}

static int
write_all(struct qmp *q, const char *p, size_t len, int64_t deadline,
          char *err, size_t errlen)
{
    while (len) {
        ssize_t n = send(q->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                return io_error(errno, "writing to QEMU", err, errlen);
            }
            int rc = sock_wait(q->fd, POLLOUT, deadline);
            if (rc) {
                return io_error(rc, "writing to QEMU", err, errlen);
            }
            continue;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

static int
enqueue(struct qmp *q, struct qmp_msg *ev, char *err, size_t errlen)
{
    if (q->qlen >= QMP_MAX_QUEUE) {
        qmp_msg_destroy(ev);
        strbuf_format_into(err, errlen, "more than %d unread events",
                           QMP_MAX_QUEUE);
        return EPROTO;
    }
    q->queue = xgrow(q->queue, &q->qcap, q->qlen + 1, sizeof *q->queue);
    q->queue[q->qlen++] = *ev;
    memset(ev, 0, sizeof *ev);
    return 0;
}

int
qmp_execute(struct qmp *q, const char *name, json_t *args, int timeout_ms,
            json_t **ret, char *err, size_t errlen)
{
    int64_t deadline = sock_now_ms() + timeout_ms;
    json_t *cmd = json_pack("{s:s}", "execute", name);
    if (!cmd || (args && json_object_set_new(cmd, "arguments", args))) {
        out_of_memory();
    }
    char *text = json_dumps(cmd, JSON_COMPACT);
    json_decref(cmd);
    if (!text) {
        out_of_memory();
    }
    struct strbuf line;
    strbuf_init(&line);
    if (strbuf_puts(&line, text) || strbuf_putc(&line, '\n')) {
        out_of_memory();
    }
    free(text);
    int rc = write_all(q, line.data, line.len, deadline, err, errlen);
    strbuf_destroy(&line);
    while (!rc) {
        struct qmp_msg msg;
        rc = read_msg(q, deadline, &msg, err, errlen);
        if (rc) {
            break;
        }
        if (msg.kind == QMP_EVENT) {
            rc = enqueue(q, &msg, err, errlen);
            continue;
        }
        if (msg.kind == QMP_RETURN) {
            if (ret) {
                *ret = json_incref(msg.data);
            }
        } else if (msg.kind == QMP_ERROR) {
            strbuf_format_into(err, errlen, "%s: %s: %s", name,
                               msg.err_class, msg.err_desc);
            rc = EREMOTEIO;
        } else {
            strbuf_format_into(err, errlen, "a second greeting");
            rc = EPROTO;
        }
        qmp_msg_destroy(&msg);
        return rc;
    }
    return rc;
}

int
qmp_next_event(struct qmp *q, int timeout_ms, struct qmp_msg *ev, char *err,
               size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    if (q->qlen) {
        *ev = q->queue[0];
        memmove(q->queue, q->queue + 1, --q->qlen * sizeof *q->queue);
        return 0;
    }
    /* 0 still reads what already arrived: a deadline 1 ms ahead. */
    int64_t deadline = sock_now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    int rc = read_msg(q, deadline, ev, err, errlen);
    if (rc || ev->kind == QMP_EVENT) {
        return rc;
    }
    qmp_msg_destroy(ev);
    strbuf_format_into(err, errlen, "an answer nobody asked for");
    return EPROTO;
}

struct qmp *
qmp_open_fd(int fd, int timeout_ms, char *err, size_t errlen)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        io_error(errno, "socket", err, errlen);
        close(fd);
        return NULL;
    }
    struct qmp *q = xcalloc(1, sizeof *q);
    q->fd = fd;
    strbuf_init(&q->in);
    int64_t deadline = sock_now_ms() + timeout_ms;
    struct qmp_msg hello = {0}; /* destroyed even if nothing was read */
    char why[256];
    int rc = read_msg(q, deadline, &hello, why, sizeof why);
    if (!rc && hello.kind != QMP_GREETING) {
        snprintf(why, sizeof why, "no QMP greeting");
        rc = EPROTO;
    }
    qmp_msg_destroy(&hello);
    if (!rc) {
        int64_t left = deadline - sock_now_ms();
        rc = qmp_execute(q, "qmp_capabilities", NULL,
                         left > 1 ? (int) left : 1, NULL, why, sizeof why);
    }
    if (rc) {
        strbuf_format_into(err, errlen, "QMP handshake: %s", why);
        qmp_close(q);
        return NULL;
    }
    return q;
}

struct qmp *
qmp_connect(const char *path, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path) {
        strbuf_format_into(err, errlen, "socket path too long: %s", path);
        return NULL;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        io_error(errno, "socket", err, errlen);
        return NULL;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        strbuf_format_into(err, errlen, "cannot connect to %s: %s", path,
                           strerror(errno));
        close(fd);
        return NULL;
    }
    return qmp_open_fd(fd, timeout_ms, err, errlen);
}

void
qmp_close(struct qmp *q)
{
    if (!q) {
        return;
    }
    for (size_t i = 0; i < q->qlen; i++) {
        qmp_msg_destroy(&q->queue[i]);
    }
    free(q->queue);
    strbuf_destroy(&q->in);
    close(q->fd);
    free(q);
}
