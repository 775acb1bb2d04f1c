/* ofconn.h: one OpenFlow 1.3 connection from a controller to a switch.
 *
 * The protocol logic is sans-I/O: the caller feeds received bytes and 'now'
 * (monotonic milliseconds) and takes the bytes to send from
 * ofconn_output(), so unit tests drive it with a fake switch.  It performs
 * the hello/version negotiation and the features handshake, answers echo
 * requests, probes an idle switch with echo requests, gives every message a
 * fresh xid, matches replies and errors to requests, and confirms batches
 * with barriers: a barrier's callback reports every error the switch sent
 * for the messages before it.  Optionally it runs itself on a libevent
 * loop over a unix or TCP socket (ofconn_open).  It never blocks.
 *
 * Usage (on a loop):
 *   c = ofconn_create(NULL, &hooks, aux);
 *   ofconn_open(c, base, "unix:/run/ovs/br0.mgmt", err, sizeof err);
 *   ... hooks.ready(aux, features) ...
 *   ofconn_send(c, &flow_mod, NULL);  (any number)
 *   ofconn_barrier(c, done_cb, aux);  -> done_cb(aux, &result) */
#ifndef MIGNET_LIB_OFCONN_H
#define MIGNET_LIB_OFCONN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/ofp.h"

struct bufferevent;
struct event_base;
struct sockaddr_storage;

#define OFCONN_STATES                                                        \
    OFCONN_STATE(IDLE, "idle")         /* not connected */                   \
    OFCONN_STATE(HELLO, "hello")       /* hello sent, waiting for peer's */  \
    OFCONN_STATE(FEATURES, "features") /* features_request sent */           \
    OFCONN_STATE(READY, "ready")                                             \
    OFCONN_STATE(FAILED, "failed") /* protocol failure; disconnect */

enum ofconn_state {
#define OFCONN_STATE(ENUM, NAME) OFCONN_##ENUM,
    OFCONN_STATES
#undef OFCONN_STATE
};
const char *ofconn_state_name(enum ofconn_state);

struct ofconn_options {
    uint32_t versions;       /* Bit N: version N allowed; only 1.3 works. */
    int echo_interval_ms;    /* Probe after this long without input. */
    int echo_timeout_ms;     /* Fail if the probe gets no answer. */
    int handshake_timeout_ms;
};
/* Defaults: OpenFlow 1.3, echo after 5 s idle, 5 s to answer, 10 s for
 * hello + features. */
void ofconn_options_init(struct ofconn_options *);

struct ofconn_hooks {
    /* The handshake finished; the switch is 'features'. */
    void (*ready)(void *aux, const struct ofp_features *features);
    /* Anything not consumed by the connection: packet_in, port_status,
     * flow_removed, replies for no outstanding request, and every error
     * that is not for a request (those sent for messages before a barrier
     * are also counted in the barrier's result).  'msg' and what it
     * points to (action lists, data) live only during the call. */
    void (*message)(void *aux, const struct ofp_msg *);
    /* Only with ofconn_open(): the connection ended ('error' is 0 when
     * the peer closed it, else an errno such as ECONNREFUSED, ETIMEDOUT,
     * EPROTO).  Pending callbacks have been called with 'closed' set. */
    void (*closed)(void *aux, int error);
};

/* Result of a barrier: what happened to the messages sent since the
 * previous barrier. */
struct ofconn_barrier_result {
    bool closed;         /* The connection ended first: outcome unknown. */
    uint32_t n_sent;     /* Messages covered. */
    uint32_t n_errors;   /* Error replies to them. */
    uint32_t first_xid;  /* Of the first error. */
    uint16_t first_type; /* Its OpenFlow error type and code. */
    uint16_t first_code;
};
typedef void ofconn_barrier_fn(void *aux,
                               const struct ofconn_barrier_result *);

/* A reply (each part of a multipart reply, in order) or an error for a
 * request.  'msg' is NULL if the connection ended first.  'last' is true
 * on the final call for the request.  'msg' lives only during the call. */
typedef void ofconn_reply_fn(void *aux, const struct ofp_msg *msg, bool last);

struct ofconn;

/* 'opts' may be NULL for defaults.  Hooks are called with 'aux'. */
struct ofconn *ofconn_create(const struct ofconn_options *,
                             const struct ofconn_hooks *, void *aux);
/* Closes the socket if open; pending callbacks see 'closed'.  Accepts
 * NULL.  Must not be called from inside one of its own callbacks. */
void ofconn_destroy(struct ofconn *);

/* --- Sans-I/O interface. ------------------------------------------- */

/* A transport is up: queues the hello. */
void ofconn_connected(struct ofconn *, int64_t now);
/* Feeds received bytes.  Returns 0, or EPROTO (unusable framing, failed
 * version negotiation, no hello first) after which the caller must
 * disconnect; any error message for the peer is already queued. */
int ofconn_receive(struct ofconn *, const void *data, size_t len,
                   int64_t now);
/* Timers: returns 0 or ETIMEDOUT (disconnect). */
int ofconn_run(struct ofconn *, int64_t now);
/* When ofconn_run() next has something to do; INT64_MAX if never. */
int64_t ofconn_next_wake(const struct ofconn *);
/* Bytes to send; the caller removes what it sent (ofpbuf_clear). */
struct ofpbuf *ofconn_output(struct ofconn *);
/* The transport is gone: pending callbacks see 'closed', state IDLE. */
void ofconn_disconnected(struct ofconn *);

/* --- Sending (state READY, else ENOTCONN). ----------------------------- */

/* Sends 'msg' with a fresh xid (stored in msg->xid and '*xidp').  Returns
 * 0, ENOTCONN, or EINVAL when 'msg' does not encode (nothing is sent).
 * The caller keeps ownership of 'msg'. */
int ofconn_send(struct ofconn *, struct ofp_msg *msg, uint32_t *xidp);
/* Sends 'len' bytes of OpenFlow messages the caller encoded itself (e.g. a
 * batch of flow_mods), in one piece: each gets a fresh xid in place of the
 * one it carries, and counts for the next barrier like ofconn_send().
 * '*first_xidp' (may be NULL) gets the first xid, '*n_msgsp' (may be NULL)
 * how many there were.  Returns 0, ENOTCONN, or EINVAL when the bytes are
 * not whole messages of the negotiated version (nothing is sent). */
int ofconn_send_encoded(struct ofconn *, const void *data, size_t len,
                        uint32_t *first_xidp, size_t *n_msgsp);
/* Sends 'msg' and calls 'fn' with its reply or error. */
int ofconn_request(struct ofconn *, struct ofp_msg *msg, ofconn_reply_fn *fn,
                   void *aux, uint32_t *xidp);
/* Sends a barrier; 'fn' runs when the switch has processed everything
 * sent before it. */
int ofconn_barrier(struct ofconn *, ofconn_barrier_fn *fn, void *aux);

enum ofconn_state ofconn_get_state(const struct ofconn *);
const struct ofp_features *ofconn_features(const struct ofconn *);
uint8_t ofconn_version(const struct ofconn *);
/* Requests and barriers still waiting for an answer. */
size_t ofconn_n_pending(const struct ofconn *);

/* --- libevent transport. ------------------------------------------- */

/* Connects to "unix:PATH" or "tcp:HOST:PORT" (HOST an address) on 'base'
 * and runs the connection there: output is flushed after every call and
 * timers are armed.  Returns 0 or an errno with a reason in 'err'. */
int ofconn_open(struct ofconn *, struct event_base *, const char *target,
                char *err, size_t errlen);
/* Runs the connection over 'fd', a connected stream socket (e.g. one a
 * listener accepted: a switch dialing in), on 'base'; the hello goes out
 * at once.  Takes ownership of 'fd' (closed on error too).  Returns 0 or
 * an errno with a reason in 'err'. */
int ofconn_attach(struct ofconn *, struct event_base *, int fd, char *err,
                  size_t errlen);
/* Parses "unix:PATH" or "tcp:ADDR:PORT" into '*ss' ('*sslen' bytes).
 * Returns 0, or EINVAL with a reason in 'err'. */
int ofconn_parse_target(const char *target, struct sockaddr_storage *ss,
                        int *sslen, char *err, size_t errlen);
/* Writes 'len' bytes to 'bev': on a 'connected' socket with nothing
 * queued, at once (send), the rest through the bufferevent. */
void ofconn_write_now(struct bufferevent *bev, bool connected,
                      const void *data, size_t len);
/* Closes the socket (no 'closed' hook call). */
void ofconn_close(struct ofconn *);

#endif /* lib/ofconn.h */
