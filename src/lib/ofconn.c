/* ofconn.c: an OpenFlow 1.3 controller-to-switch connection.
 *
 * The protocol half is sans-I/O (bytes and 'now' in, bytes out) so it can
 * be tested against a scripted switch; the libevent half at the bottom only
 * moves bytes and arms a timer.  It must never block, never trust a length
 * from the wire without ofp_frame()/ofp_decode(), and never leave a
 * request's callback uncalled: every request, reply or not, ends in exactly
 * one final callback. */
#include "lib/ofconn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "lib/log.h"
#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/util.h"

struct pending_req {
    uint32_t xid;
    ofconn_reply_fn *fn;
    void *aux;
};

/* Messages sent between two barriers, and the barrier that closes them. */
struct barrier_group {
    uint32_t first_xid;
    uint32_t barrier_xid;
    ofconn_barrier_fn *fn;
    void *aux;
    struct ofconn_barrier_result r;
};

struct ofconn {
    struct ofconn_options opts;
    struct ofconn_hooks hooks;
    void *aux;

    enum ofconn_state state;
    uint8_t version;
    struct ofp_features features;
    uint32_t next_xid;
    uint32_t features_xid;

    struct ofpbuf in;  /* Bytes of a message not yet complete. */
    struct ofpbuf out; /* Bytes to send. */
    struct ofp_msg *msg; /* Decoding scratch (about 2 kB). */

    int64_t connected_at;
    int64_t last_rx;
    bool echo_pending;
    int64_t echo_sent_at;
    uint32_t echo_xid;

    struct pending_req *reqs;
    size_t n_reqs, cap_reqs;
    struct barrier_group *groups; /* FIFO, oldest first. */
    size_t n_groups, cap_groups;
    struct ofconn_barrier_result open; /* Since the last barrier. */
    uint32_t open_first_xid;

    /* libevent transport (ofconn_open). */
    struct bufferevent *bev;
    struct event *timer;
};

const char *
ofconn_state_name(enum ofconn_state s)
{
    switch (s) {
#define OFCONN_STATE(ENUM, NAME)                                             \
    case OFCONN_##ENUM:                                                      \
        return NAME;
        OFCONN_STATES
#undef OFCONN_STATE
    }
    return "unknown";
}

void
ofconn_options_init(struct ofconn_options *o)
{
    o->versions = 1u << OFP13_VERSION;
    o->echo_interval_ms = 5000;
    o->echo_timeout_ms = 5000;
    o->handshake_timeout_ms = 10000;
}

struct ofconn *
ofconn_create(const struct ofconn_options *opts,
              const struct ofconn_hooks *hooks, void *aux)
{
    struct ofconn *c = xcalloc(1, sizeof *c);
    if (opts) {
        c->opts = *opts;
    } else {
        ofconn_options_init(&c->opts);
    }
    if (hooks) {
        c->hooks = *hooks;
    }
    c->aux = aux;
    c->state = OFCONN_IDLE;
    c->next_xid = 1;
    ofpbuf_init(&c->in, 4096);
    ofpbuf_init(&c->out, 4096);
    c->msg = xmalloc(sizeof *c->msg);
    return c;
}

void
ofconn_destroy(struct ofconn *c)
{
    if (!c) {
        return;
    }
    ofconn_close(c);
    ofconn_disconnected(c);
    ofpbuf_uninit(&c->in);
    ofpbuf_uninit(&c->out);
    free(c->msg);
    free(c->reqs);
    free(c->groups);
    free(c);
}

/* ---------------------------------------------------------------------- */
/* Sans-I/O protocol.                                                      */

static void ofconn_kick(struct ofconn *);

static uint32_t
alloc_xid(struct ofconn *c)
{
    uint32_t xid = c->next_xid++;
    if (!c->next_xid) {
        c->next_xid = 1;
    }
    return xid;
}

/* Encodes 'msg' with a fresh xid; EINVAL if it does not encode. */
static int
queue_msg(struct ofconn *c, struct ofp_msg *msg)
{
    msg->xid = alloc_xid(c);
    enum ofperr err = ofp_encode(msg, &c->out);
    if (err) {
        log_write(LOG_WARN, "ofconn", "event=encode_failed type=%s error=%s",
                  ofp_type_name(msg->type), ofperr_name(err));
        return EINVAL;
    }
    return 0;
}

static void
queue_simple(struct ofconn *c, uint8_t type, uint32_t *xidp)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, type, 0);
    (void)queue_msg(c, &msg); /* Header-only messages always encode. */
    *xidp = msg.xid;
}

void
ofconn_connected(struct ofconn *c, int64_t now)
{
    ofpbuf_clear(&c->in);
    ofpbuf_clear(&c->out);
    c->state = OFCONN_HELLO;
    c->version = 0;
    c->connected_at = c->last_rx = now;
    c->echo_pending = false;
    c->open = (struct ofconn_barrier_result){0};
    ofp_encode_hello(&c->out, alloc_xid(c));
}

/* Tells every pending request and barrier that the connection is gone. */
void
ofconn_disconnected(struct ofconn *c)
{
    struct pending_req *reqs = c->reqs;
    size_t n_reqs = c->n_reqs;
    struct barrier_group *groups = c->groups;
    size_t n_groups = c->n_groups;
    c->reqs = NULL;
    c->groups = NULL;
    c->n_reqs = c->cap_reqs = c->n_groups = c->cap_groups = 0;
    c->state = OFCONN_IDLE;
    c->echo_pending = false;
    ofpbuf_clear(&c->in);
    ofpbuf_clear(&c->out);

    for (size_t i = 0; i < n_reqs; i++) {
        reqs[i].fn(reqs[i].aux, NULL, true);
    }
    for (size_t i = 0; i < n_groups; i++) {
        groups[i].r.closed = true;
        groups[i].fn(groups[i].aux, &groups[i].r);
    }
    free(reqs);
    free(groups);
}

static bool
xid_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

static void
count_error(struct ofconn_barrier_result *r, const struct ofp_msg *msg)
{
    if (!r->n_errors++) {
        r->first_xid = msg->xid;
        r->first_type = msg->error.type;
        r->first_code = msg->error.code;
    }
}

/* Finds the pending request for 'xid'; SIZE_MAX if none. */
static size_t
find_req(const struct ofconn *c, uint32_t xid)
{
    for (size_t i = 0; i < c->n_reqs; i++) {
        if (c->reqs[i].xid == xid) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Hands a reply or error to its request.  Returns false if none waits. */
static bool
deliver_reply(struct ofconn *c, const struct ofp_msg *msg)
{
    size_t i = find_req(c, msg->xid);
    if (i == SIZE_MAX) {
        return false;
    }
    struct pending_req req = c->reqs[i];
    bool last = !(msg->type == OFPT_MULTIPART_REPLY &&
                  (msg->mp.flags & OFPMPF_REPLY_MORE));
    if (last) {
        /* Removed before the call, which may add requests. */
        c->reqs[i] = c->reqs[--c->n_reqs];
    }
    req.fn(req.aux, msg, last);
    return true;
}

/* An error for a message that is not a request: count it against the
 * barrier group that covers it.  Returns false if none does. */
static bool
account_error(struct ofconn *c, const struct ofp_msg *msg)
{
    for (size_t i = 0; i < c->n_groups; i++) {
        struct barrier_group *g = &c->groups[i];
        if (g->r.n_sent && xid_le(g->first_xid, msg->xid) &&
            xid_le(msg->xid, g->barrier_xid)) {
            count_error(&g->r, msg);
            return true;
        }
    }
    if (c->open.n_sent && xid_le(c->open_first_xid, msg->xid) &&
        xid_le(msg->xid, c->next_xid - 1)) {
        count_error(&c->open, msg);
        return true;
    }
    return false;
}

/* Completes barrier groups up to the one 'xid' closes. */
static bool
complete_barrier(struct ofconn *c, uint32_t xid)
{
    size_t i;
    for (i = 0; i < c->n_groups; i++) {
        if (c->groups[i].barrier_xid == xid) {
            break;
        }
    }
    if (i == c->n_groups) {
        return false;
    }
    size_t n = i + 1;
    struct barrier_group *done = xmalloc(n * sizeof *done);
    memcpy(done, c->groups, n * sizeof *done);
    memmove(c->groups, c->groups + n, (c->n_groups - n) * sizeof *c->groups);
    c->n_groups -= n;
    for (i = 0; i < n; i++) {
        done[i].fn(done[i].aux, &done[i].r);
    }
    free(done);
    return true;
}

static void
deliver_unsolicited(struct ofconn *c, const struct ofp_msg *msg)
{
    if (c->hooks.message) {
        c->hooks.message(c->aux, msg);
    }
}

static int
fail(struct ofconn *c, const char *why)
{
    log_write(LOG_WARN, "ofconn", "event=failed state=%s reason=\"%s\"",
              ofconn_state_name(c->state), why);
    c->state = OFCONN_FAILED;
    return EPROTO;
}

static int
handle_hello(struct ofconn *c, const struct ofp_msg *msg, enum ofperr err,
             const uint8_t *raw, size_t len)
{
    if (err || msg->type != OFPT_HELLO) {
        ofp_encode_error(&c->out, msg->xid,
                         err ? err : OFPERR_OFPHFC_INCOMPATIBLE, raw, len);
        return fail(c, err ? ofperr_name(err) : "first message not a hello");
    }
    uint8_t v = ofp_hello_negotiate(&msg->hello, c->opts.versions);
    if (v != OFP13_VERSION) {
        ofp_encode_error(&c->out, msg->xid, OFPERR_OFPHFC_INCOMPATIBLE, raw,
                         len);
        return fail(c, "no common OpenFlow version");
    }
    c->version = v;
    c->state = OFCONN_FEATURES;
    queue_simple(c, OFPT_FEATURES_REQUEST, &c->features_xid);
    return 0;
}

/* A message that did not decode: a request waiting for it learns of the
 * error; otherwise the switch is told, as OpenFlow asks. */
static void
handle_undecodable(struct ofconn *c, enum ofperr err, const uint8_t *raw,
                   size_t len)
{
    struct ofp_msg *msg = c->msg;
    uint32_t xid = msg->xid;
    uint8_t type = msg->type;
    log_write(LOG_WARN, "ofconn", "event=bad_message type=%s xid=%u error=%s",
              ofp_type_name(type), (unsigned)xid, ofperr_name(err));
    if (find_req(c, xid) != SIZE_MAX) {
        ofp_msg_init(msg, OFPT_ERROR, xid);
        msg->error.type = ofperr_type(err);
        msg->error.code = ofperr_code(err);
        msg->error.data = raw;
        msg->error.data_len = len < 64 ? len : 64;
        deliver_reply(c, msg);
        return;
    }
    if (type != OFPT_ERROR) {
        ofp_encode_error(&c->out, xid, err, raw, len);
    }
}

static int
dispatch_message(struct ofconn *c, const uint8_t *raw, size_t len)
{
    struct ofp_msg *msg = c->msg;
    enum ofperr err = ofp_decode(raw, len, msg);
    if (c->state == OFCONN_HELLO) {
        return handle_hello(c, msg, err, raw, len);
    }
    if (err) {
        handle_undecodable(c, err, raw, len);
        return 0;
    }
    switch (msg->type) {
    case OFPT_HELLO:
        break;
    case OFPT_ECHO_REQUEST: {
        struct ofp_msg reply;
        ofp_msg_init(&reply, OFPT_ECHO_REPLY, msg->xid);
        reply.echo = msg->echo;
        (void)ofp_encode(&reply, &c->out); /* Fits: it came in. */
        break;
    }
    case OFPT_ECHO_REPLY:
        /* 'echo_pending' was cleared by this input already. */
        if (msg->xid != c->echo_xid && !deliver_reply(c, msg)) {
            deliver_unsolicited(c, msg);
        }
        break;
    case OFPT_FEATURES_REPLY:
        if (c->state == OFCONN_FEATURES && msg->xid == c->features_xid) {
            c->features = msg->features;
            c->state = OFCONN_READY;
            log_write(LOG_INF, "ofconn",
                      "event=ready dpid=0x%016llx n_tables=%u",
                      (unsigned long long)c->features.datapath_id,
                      c->features.n_tables);
            if (c->hooks.ready) {
                c->hooks.ready(c->aux, &c->features);
            }
        } else if (!deliver_reply(c, msg)) {
            deliver_unsolicited(c, msg);
        }
        break;
    case OFPT_BARRIER_REPLY:
        if (!complete_barrier(c, msg->xid) && !deliver_reply(c, msg)) {
            deliver_unsolicited(c, msg);
        }
        break;
    case OFPT_ERROR:
        if (c->state == OFCONN_FEATURES && msg->xid == c->features_xid) {
            return fail(c, "switch refused features_request");
        }
        if (!deliver_reply(c, msg)) {
            /* Counted against its barrier and also shown to the owner, who
             * can tell from the xid which message failed. */
            account_error(c, msg);
            deliver_unsolicited(c, msg);
        }
        break;
    case OFPT_MULTIPART_REPLY:
    case OFPT_GET_CONFIG_REPLY:
    case OFPT_ROLE_REPLY:
        if (!deliver_reply(c, msg)) {
            deliver_unsolicited(c, msg);
        }
        break;
    default:
        deliver_unsolicited(c, msg);
        break;
    }
    return 0;
}

/* Decodes and handles one message; what the decoder allocated (action
 * lists) lives only while the hooks run. */
static int
handle_message(struct ofconn *c, const uint8_t *raw, size_t len)
{
    int error = dispatch_message(c, raw, len);
    ofp_msg_destroy(c->msg);
    return error;
}

int
ofconn_receive(struct ofconn *c, const void *data, size_t len, int64_t now)
{
    if (c->state == OFCONN_IDLE || c->state == OFCONN_FAILED) {
        return c->state == OFCONN_FAILED ? EPROTO : ENOTCONN;
    }
    c->last_rx = now;
    c->echo_pending = false;
    ofpbuf_put(&c->in, data, len);
    int error = 0;
    while (!error) {
        size_t mlen;
        if (ofp_frame(c->in.data, c->in.size, &mlen)) {
            /* A header length below 8: message boundaries are lost. */
            ofp_encode_error(&c->out, 0, OFPERR_OFPBRC_BAD_LEN, c->in.data,
                             c->in.size);
            error = fail(c, "bad message length");
            break;
        }
        if (!mlen) {
            break;
        }
        const uint8_t *raw = ofpbuf_try_pull(&c->in, mlen);
        error = handle_message(c, raw, mlen);
    }
    /* Keep the partial message at the front of the buffer. */
    if (!c->in.size) {
        ofpbuf_clear(&c->in);
    } else if (c->in.data != c->in.base) {
        memmove(c->in.base, c->in.data, c->in.size);
        c->in.data = c->in.base;
    }
    return error;
}

int
ofconn_run(struct ofconn *c, int64_t now)
{
    if (c->state == OFCONN_IDLE) {
        return 0;
    }
    if (c->state == OFCONN_FAILED) {
        return EPROTO;
    }
    if (c->state != OFCONN_READY &&
        now - c->connected_at >= c->opts.handshake_timeout_ms) {
        log_write(LOG_WARN, "ofconn", "event=handshake_timeout state=%s",
                  ofconn_state_name(c->state));
        return ETIMEDOUT;
    }
    if (c->echo_pending) {
        if (now - c->echo_sent_at >= c->opts.echo_timeout_ms) {
            log_write(LOG_WARN, "ofconn", "event=echo_timeout");
            return ETIMEDOUT;
        }
    } else if (c->state == OFCONN_READY &&
               now - c->last_rx >= c->opts.echo_interval_ms) {
        queue_simple(c, OFPT_ECHO_REQUEST, &c->echo_xid);
        c->echo_pending = true;
        c->echo_sent_at = now;
    }
    return 0;
}

int64_t
ofconn_next_wake(const struct ofconn *c)
{
    int64_t wake = INT64_MAX;
    if (c->state == OFCONN_IDLE || c->state == OFCONN_FAILED) {
        return wake;
    }
    if (c->state != OFCONN_READY) {
        wake = c->connected_at + c->opts.handshake_timeout_ms;
    }
    int64_t echo = c->echo_pending
                       ? c->echo_sent_at + c->opts.echo_timeout_ms
                       : c->last_rx + c->opts.echo_interval_ms;
    if (c->state == OFCONN_READY || c->echo_pending) {
        wake = echo < wake ? echo : wake;
    }
    return wake;
}

struct ofpbuf *
ofconn_output(struct ofconn *c)
{
    return &c->out;
}

int
ofconn_send(struct ofconn *c, struct ofp_msg *msg, uint32_t *xidp)
{
    if (c->state != OFCONN_READY) {
        return ENOTCONN;
    }
    int error = queue_msg(c, msg);
    if (error) {
        return error;
    }
    if (!c->open.n_sent++) {
        c->open_first_xid = msg->xid;
    }
    if (xidp) {
        *xidp = msg->xid;
    }
    ofconn_kick(c);
    return 0;
}

int
ofconn_send_encoded(struct ofconn *c, const void *data, size_t len,
                    uint32_t *first_xidp, size_t *n_msgsp)
{
    if (c->state != OFCONN_READY) {
        return ENOTCONN;
    }
    const uint8_t *p = data;
    size_t n_msgs = 0;
    for (size_t off = 0; off < len;) {
        size_t mlen;
        if (ofp_frame(p + off, len - off, &mlen) || !mlen
            || p[off] != c->version) {
            return EINVAL;
        }
        off += mlen;
        n_msgs++;
    }
    uint8_t *dst = ofpbuf_put(&c->out, data, len);
    for (size_t off = 0; off < len;) {
        size_t mlen;
        (void) ofp_frame(dst + off, len - off, &mlen); /* checked above */
        uint32_t xid = alloc_xid(c);
        uint8_t be[4] = {(uint8_t) (xid >> 24), (uint8_t) (xid >> 16),
                         (uint8_t) (xid >> 8), (uint8_t) xid};
        memcpy(dst + off + 4, be, sizeof be);
        if (!c->open.n_sent++) {
            c->open_first_xid = xid;
        }
        if (off == 0 && first_xidp) {
            *first_xidp = xid;
        }
        off += mlen;
    }
    if (n_msgsp) {
        *n_msgsp = n_msgs;
    }
    if (n_msgs) {
        ofconn_kick(c);
    }
    return 0;
}

int
ofconn_request(struct ofconn *c, struct ofp_msg *msg, ofconn_reply_fn *fn,
               void *aux, uint32_t *xidp)
{
    if (c->state != OFCONN_READY) {
        return ENOTCONN;
    }
    int error = queue_msg(c, msg);
    if (error) {
        return error;
    }
    c->reqs = xgrow(c->reqs, &c->cap_reqs, c->n_reqs + 1, sizeof *c->reqs);
    c->reqs[c->n_reqs++] = (struct pending_req){msg->xid, fn, aux};
    if (xidp) {
        *xidp = msg->xid;
    }
    ofconn_kick(c);
    return 0;
}

int
ofconn_barrier(struct ofconn *c, ofconn_barrier_fn *fn, void *aux)
{
    if (c->state != OFCONN_READY) {
        return ENOTCONN;
    }
    uint32_t xid;
    queue_simple(c, OFPT_BARRIER_REQUEST, &xid);
    c->groups =
        xgrow(c->groups, &c->cap_groups, c->n_groups + 1, sizeof *c->groups);
    c->groups[c->n_groups++] = (struct barrier_group){
        .first_xid = c->open_first_xid,
        .barrier_xid = xid,
        .fn = fn,
        .aux = aux,
        .r = c->open,
    };
    c->open = (struct ofconn_barrier_result){0};
    ofconn_kick(c);
    return 0;
}

enum ofconn_state
ofconn_get_state(const struct ofconn *c)
{
    return c->state;
}

const struct ofp_features *
ofconn_features(const struct ofconn *c)
{
    return c->state == OFCONN_READY ? &c->features : NULL;
}

uint8_t
ofconn_version(const struct ofconn *c)
{
    return c->version;
}

size_t
ofconn_n_pending(const struct ofconn *c)
{
    return c->n_reqs + c->n_groups;
}

/* ---------------------------------------------------------------------- */
/* libevent transport.                                                     */

void
ofconn_write_now(struct bufferevent *bev, bool connected, const void *data,
                 size_t len)
{
    /* A bufferevent writes on the next loop pass, which may come after
     * slow work of its owner (mignetd commits its batch first): with
     * nothing pending on a connected socket, send now and leave only what
     * did not fit to the bufferevent.  An error surfaces through the
     * bufferevent's next read or write. */
    size_t done = 0;
    if (connected && !evbuffer_get_length(bufferevent_get_output(bev))) {
        ssize_t n = send(bufferevent_getfd(bev), data, len,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        done = n > 0 ? (size_t) n : 0;
    }
    if (done < len) {
        bufferevent_write(bev, (const uint8_t *) data + done, len - done);
    }
}

static void
io_flush_and_arm(struct ofconn *c)
{
    if (!c->bev) {
        return;
    }
    if (c->out.size) {
        ofconn_write_now(c->bev, c->state != OFCONN_IDLE, c->out.data,
                         c->out.size);
        ofpbuf_clear(&c->out);
    }
    int64_t wake = ofconn_next_wake(c);
    if (wake == INT64_MAX) {
        evtimer_del(c->timer);
    } else {
        int64_t ms = wake - sock_now_ms();
        if (ms < 0) {
            ms = 0;
        }
        struct timeval tv = {(time_t)(ms / 1000),
                             (suseconds_t)(ms % 1000) * 1000};
        evtimer_add(c->timer, &tv);
    }
}

static void
ofconn_kick(struct ofconn *c)
{
    io_flush_and_arm(c);
}

/* The transport failed or ended: tell everyone, then the owner. */
static void
io_teardown(struct ofconn *c, int error)
{
    ofconn_close(c);
    ofconn_disconnected(c);
    if (c->hooks.closed) {
        c->hooks.closed(c->aux, error);
    }
}

static void
io_read_cb(struct bufferevent *bev, void *c_)
{
    struct ofconn *c = c_;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)n);
    int error = ofconn_receive(c, p, n, sock_now_ms());
    evbuffer_drain(in, n);
    if (error) {
        /* Let the error message for the peer go out first. */
        if (c->out.size) {
            bufferevent_write(bev, c->out.data, c->out.size);
        }
        io_teardown(c, error);
        return;
    }
    io_flush_and_arm(c);
}

static void
io_event_cb(struct bufferevent *bev, short what, void *c_)
{
    struct ofconn *c = c_;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        log_write(LOG_DBG, "ofconn", "event=connected");
        ofconn_connected(c, sock_now_ms());
        io_flush_and_arm(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        int error = (what & BEV_EVENT_ERROR) ? EVUTIL_SOCKET_ERROR() : 0;
        if ((what & BEV_EVENT_ERROR) && !error) {
            error = ECONNRESET;
        }
        log_write(LOG_INF, "ofconn", "event=closed error=%d", error);
        io_teardown(c, error);
    }
}

static void
io_timer_cb(evutil_socket_t fd, short what, void *c_)
{
    struct ofconn *c = c_;
    (void)fd;
    (void)what;
    int error = ofconn_run(c, sock_now_ms());
    if (error) {
        io_teardown(c, error);
        return;
    }
    io_flush_and_arm(c);
}

int
ofconn_parse_target(const char *target, struct sockaddr_storage *ssp,
                    int *sslenp, char *err, size_t errlen)
{
    struct sockaddr_storage ss = {0};
    int sslen = sizeof ss;
    if (!strncmp(target, "unix:", 5)) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
        const char *path = target + 5;
        if (!*path || strlen(path) >= sizeof sun->sun_path) {
            strbuf_format_into(err, errlen, "bad unix socket path \"%s\"",
                               path);
            return EINVAL;
        }
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, strlen(path) + 1);
        sslen = (int)sizeof *sun;
    } else if (!strncmp(target, "tcp:", 4)) {
        if (evutil_parse_sockaddr_port(target + 4, (struct sockaddr *)&ss,
                                       &sslen)) {
            strbuf_format_into(err, errlen, "bad address \"%s\"", target + 4);
            return EINVAL;
        }
    } else {
        strbuf_format_into(err, errlen,
                           "target \"%s\" is not unix:PATH or tcp:ADDR:PORT",
                           target);
        return EINVAL;
    }
    *ssp = ss;
    *sslenp = sslen;
    return 0;
}

int
ofconn_open(struct ofconn *c, struct event_base *base, const char *target,
            char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int sslen;
    ofconn_close(c);
    int error = ofconn_parse_target(target, &ss, &sslen, err, errlen);
    if (error) {
        return error;
    }

    c->bev = bufferevent_socket_new(base, -1,
                                    BEV_OPT_CLOSE_ON_FREE |
                                        BEV_OPT_DEFER_CALLBACKS);
    c->timer = evtimer_new(base, io_timer_cb, c);
    if (!c->bev || !c->timer) {
        ofconn_close(c);
        strbuf_format_into(err, errlen, "out of memory");
        return ENOMEM;
    }
    bufferevent_setcb(c->bev, io_read_cb, NULL, io_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, sslen)) {
        error = EVUTIL_SOCKET_ERROR();
        ofconn_close(c);
        if (!error) {
            error = ECONNREFUSED;
        }
        strbuf_format_into(err, errlen, "connect to %s: %s", target,
                           strerror(error));
        return error;
    }
    return 0;
}

int
ofconn_attach(struct ofconn *c, struct event_base *base, int fd, char *err,
              size_t errlen)
{
    ofconn_close(c);
    evutil_make_socket_nonblocking(fd);
    c->bev = bufferevent_socket_new(base, fd,
                                    BEV_OPT_CLOSE_ON_FREE |
                                        BEV_OPT_DEFER_CALLBACKS);
    c->timer = evtimer_new(base, io_timer_cb, c);
    if (!c->bev || !c->timer) {
        if (!c->bev) {
            evutil_closesocket(fd);
        }
        ofconn_close(c);
        strbuf_format_into(err, errlen, "out of memory");
        return ENOMEM;
    }
    bufferevent_setcb(c->bev, io_read_cb, NULL, io_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    ofconn_connected(c, sock_now_ms());
    io_flush_and_arm(c);
    return 0;
}

void
ofconn_close(struct ofconn *c)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    if (c->timer) {
        event_free(c->timer);
        c->timer = NULL;
    }
}
