/* test_ofconn.c: the OpenFlow connection state machine against a scripted
 * switch (a test double that decodes what the connection sends and answers
 * with encoded messages).  The real switch is in
 * tests/integration/test_ofconn_ovs.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/ofconn.h"

/* What the hooks and callbacks saw. */
struct seen {
    int n_ready;
    uint64_t dpid;
    int n_messages;
    uint8_t last_type;
    int n_replies;
    int n_last;
    int n_closed_replies;
    uint8_t reply_types[8];
    int n_barriers;
    struct ofconn_barrier_result barrier[4];
};

static void
hook_ready(void *aux, const struct ofp_features *f)
{
    struct seen *s = aux;
    s->n_ready++;
    s->dpid = f->datapath_id;
}

static void
hook_message(void *aux, const struct ofp_msg *msg)
{
    struct seen *s = aux;
    s->n_messages++;
    s->last_type = msg->type;
}

static const struct ofconn_hooks hooks = {hook_ready, hook_message, NULL};

static void
on_reply(void *aux, const struct ofp_msg *msg, bool last)
{
    struct seen *s = aux;
    if (!msg) {
        s->n_closed_replies++;
    } else if (s->n_replies < 8) {
        s->reply_types[s->n_replies++] = msg->type;
    }
    s->n_last += last;
}

static void
on_barrier(void *aux, const struct ofconn_barrier_result *r)
{
    struct seen *s = aux;
    if (s->n_barriers < 4) {
        s->barrier[s->n_barriers] = *r;
    }
    s->n_barriers++;
}

/* The switch side. ----------------------------------------------------- */

struct sw_msgs {
    size_t n;
    uint8_t type[16];
    uint32_t xid[16];
    struct ofpbuf raw; /* All of the bytes, for messages that borrow. */
};

/* Takes everything the connection wants to send and decodes it. */
static void
sw_take(struct ofconn *c, struct sw_msgs *m)
{
    struct ofpbuf *out = ofconn_output(c);
    struct ofp_msg *msg = malloc(sizeof *msg);
    assert_non_null(msg);
    m->n = 0;
    ofpbuf_init(&m->raw, 64);
    ofpbuf_put(&m->raw, out->data, out->size);
    size_t off = 0;
    while (off < out->size) {
        size_t len;
        assert_int_equal(ofp_frame(out->data + off, out->size - off, &len),
                         OFPERR_OK);
        assert_true(len > 0);
        assert_int_equal(ofp_decode(out->data + off, len, msg), OFPERR_OK);
        assert_true(m->n < 16);
        m->type[m->n] = msg->type;
        m->xid[m->n] = msg->xid;
        m->n++;
        ofp_msg_destroy(msg);
        off += len;
    }
    ofpbuf_clear(out);
    free(msg);
}

static void
sw_free(struct sw_msgs *m)
{
    ofpbuf_uninit(&m->raw);
}

static int
sw_send(struct ofconn *c, const struct ofp_msg *msg, int64_t now)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 64);
    assert_int_equal(ofp_encode(msg, &b), OFPERR_OK);
    int error = ofconn_receive(c, b.data, b.size, now);
    ofpbuf_uninit(&b);
    return error;
}

static int
sw_send_simple(struct ofconn *c, uint8_t type, uint32_t xid, int64_t now)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, type, xid);
    return sw_send(c, &msg, now);
}

static int
sw_send_error(struct ofconn *c, uint32_t xid, enum ofperr err, int64_t now)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_ERROR, xid);
    msg.error.type = ofperr_type(err);
    msg.error.code = ofperr_code(err);
    return sw_send(c, &msg, now);
}

/* A connection that has just sent its hello (taken by the switch). */
static struct ofconn *
start(struct seen *s, const struct ofconn_options *opts)
{
    struct ofconn *c = ofconn_create(opts, &hooks, s);
    struct sw_msgs m;
    ofconn_connected(c, 0);
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.type[0], OFPT_HELLO);
    sw_free(&m);
    assert_int_equal(ofconn_get_state(c), OFCONN_HELLO);
    return c;
}

/* Brings a connection to READY at time 0. */
static struct ofconn *
handshake(struct seen *s, const struct ofconn_options *opts)
{
    struct ofconn *c = start(s, opts);
    struct sw_msgs m;

    struct ofp_msg hello;
    ofp_msg_init(&hello, OFPT_HELLO, 100);
    hello.hello.bitmap = (1u << 1) | (1u << 4) | (1u << 6);
    assert_int_equal(sw_send(c, &hello, 0), 0);
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.type[0], OFPT_FEATURES_REQUEST);
    assert_int_equal(ofconn_get_state(c), OFCONN_FEATURES);

    struct ofp_msg fr;
    ofp_msg_init(&fr, OFPT_FEATURES_REPLY, m.xid[0]);
    fr.features.datapath_id = 0xabc;
    fr.features.n_tables = 254;
    sw_free(&m);
    int n_ready = s->n_ready;
    assert_int_equal(sw_send(c, &fr, 0), 0);
    assert_int_equal(s->n_ready, n_ready + 1);
    assert_int_equal(s->dpid, 0xabc);
    assert_int_equal(ofconn_get_state(c), OFCONN_READY);
    assert_int_equal(ofconn_version(c), OFP13_VERSION);
    assert_int_equal(ofconn_features(c)->n_tables, 254);
    return c;
}

static void
add_flow(struct ofconn *c, uint32_t port, uint32_t *xid)
{
    struct ofp_msg fm;
    ofp_msg_init(&fm, OFPT_FLOW_MOD, 0);
    ofp_match_set(&fm.flow_mod.match, OFP_F_IN_PORT, port);
    ofp_actions_output(ofp_instructions_apply(&fm.flow_mod.insts), 2);
    assert_int_equal(ofconn_send(c, &fm, xid), 0);
    assert_int_equal(fm.xid, *xid);
    ofp_msg_destroy(&fm);
}

/* Tests. ---------------------------------------------------------------- */

static void
test_handshake(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = handshake(&s, NULL);
    assert_int_equal(ofconn_n_pending(c), 0);
    ofconn_destroy(c);
}

/* Hello and features reply arrive one byte at a time. */
static void
test_handshake_split(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = start(&s, NULL);
    struct sw_msgs m;

    struct ofpbuf b;
    ofpbuf_init(&b, 64);
    ofp_encode_hello(&b, 7);
    for (size_t i = 0; i < b.size; i++) {
        assert_int_equal(ofconn_receive(c, b.data + i, 1, 0), 0);
    }
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    struct ofp_msg fr;
    ofp_msg_init(&fr, OFPT_FEATURES_REPLY, m.xid[0]);
    sw_free(&m);
    ofpbuf_clear(&b);
    assert_int_equal(ofp_encode(&fr, &b), OFPERR_OK);
    /* Plus the first half of a packet_in that completes later. */
    struct ofp_msg pi;
    ofp_msg_init(&pi, OFPT_PACKET_IN, 0);
    ofp_match_set(&pi.packet_in.match, OFP_F_IN_PORT, 5);
    size_t fr_len = b.size;
    assert_int_equal(ofp_encode(&pi, &b), OFPERR_OK);
    for (size_t i = 0; i < fr_len + 10; i++) {
        assert_int_equal(ofconn_receive(c, b.data + i, 1, 0), 0);
    }
    assert_int_equal(s.n_ready, 1);
    assert_int_equal(s.n_messages, 0);
    assert_int_equal(
        ofconn_receive(c, b.data + fr_len + 10, b.size - fr_len - 10, 0), 0);
    assert_int_equal(s.n_messages, 1);
    assert_int_equal(s.last_type, OFPT_PACKET_IN);
    ofpbuf_uninit(&b);
    ofconn_destroy(c);
}

static void
test_version_mismatch(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = start(&s, NULL);
    struct sw_msgs m;
    struct ofp_msg hello;
    ofp_msg_init(&hello, OFPT_HELLO, 3);
    hello.version = 1;
    hello.hello.has_bitmap = false;
    assert_int_equal(sw_send(c, &hello, 0), EPROTO);
    assert_int_equal(ofconn_get_state(c), OFCONN_FAILED);
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.type[0], OFPT_ERROR);
    struct ofp_msg err;
    assert_int_equal(ofp_decode(m.raw.data, m.raw.size, &err), OFPERR_OK);
    assert_int_equal(ofperr_from_wire(err.error.type, err.error.code),
                     OFPERR_OFPHFC_INCOMPATIBLE);
    sw_free(&m);
    assert_int_equal(s.n_ready, 0);
    assert_int_equal(ofconn_send(c, &hello, NULL), ENOTCONN);
    ofconn_destroy(c);
}

static void
test_first_message_not_hello(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = start(&s, NULL);
    assert_int_equal(sw_send_simple(c, OFPT_FEATURES_REPLY, 1, 0), EPROTO);
    assert_int_equal(ofconn_get_state(c), OFCONN_FAILED);
    ofconn_destroy(c);
}

static void
test_bad_framing(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = handshake(&s, NULL);
    static const uint8_t bad[8] = {4, 2, 0, 4, 0, 0, 0, 1};
    assert_int_equal(ofconn_receive(c, bad, sizeof bad, 0), EPROTO);
    assert_int_equal(ofconn_get_state(c), OFCONN_FAILED);
    assert_int_equal(ofconn_run(c, 1), EPROTO);
    ofconn_destroy(c);
}

static void
test_echo_reply(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = handshake(&s, NULL);
    static const uint8_t payload[] = {1, 2, 3};
    struct ofp_msg echo;
    ofp_msg_init(&echo, OFPT_ECHO_REQUEST, 0x55);
    echo.echo.data = payload;
    echo.echo.data_len = sizeof payload;
    assert_int_equal(sw_send(c, &echo, 10), 0);
    struct sw_msgs m;
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.type[0], OFPT_ECHO_REPLY);
    assert_int_equal(m.xid[0], 0x55);
    struct ofp_msg reply;
    assert_int_equal(ofp_decode(m.raw.data, m.raw.size, &reply), OFPERR_OK);
    assert_int_equal(reply.echo.data_len, 3);
    assert_memory_equal(reply.echo.data, payload, 3);
    sw_free(&m);
    assert_int_equal(s.n_messages, 0);
    ofconn_destroy(c);
}

static void
test_keepalive(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn_options o;
    ofconn_options_init(&o);
    o.echo_interval_ms = 1000;
    o.echo_timeout_ms = 500;
    struct ofconn *c = handshake(&s, &o);
    struct sw_msgs m;

    assert_int_equal(ofconn_next_wake(c), 1000);
    assert_int_equal(ofconn_run(c, 999), 0);
    sw_take(c, &m);
    assert_int_equal(m.n, 0);
    sw_free(&m);
    assert_int_equal(ofconn_run(c, 1000), 0);
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.type[0], OFPT_ECHO_REQUEST);
    uint32_t echo_xid = m.xid[0];
    sw_free(&m);
    assert_int_equal(ofconn_next_wake(c), 1500);

    /* Answered: the next probe is an interval after the answer. */
    assert_int_equal(sw_send_simple(c, OFPT_ECHO_REPLY, echo_xid, 1200), 0);
    assert_int_equal(s.n_messages, 0);
    assert_int_equal(ofconn_run(c, 1600), 0);
    assert_int_equal(ofconn_next_wake(c), 2200);
    assert_int_equal(ofconn_run(c, 2200), 0);
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    sw_free(&m);
    /* Unanswered: the connection times out. */
    assert_int_equal(ofconn_run(c, 2699), 0);
    assert_int_equal(ofconn_run(c, 2700), ETIMEDOUT);
    ofconn_destroy(c);
}

static void
test_handshake_timeout(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = ofconn_create(NULL, &hooks, &s);
    ofconn_connected(c, 100);
    assert_int_equal(ofconn_next_wake(c), 100 + 10000);
    assert_int_equal(ofconn_run(c, 10099), 0);
    assert_int_equal(ofconn_run(c, 10100), ETIMEDOUT);
    ofconn_destroy(c);
}

static void
test_barrier_errors(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = handshake(&s, NULL);
    struct sw_msgs m;
    uint32_t x1, x2, x3, x4;

    add_flow(c, 1, &x1);
    add_flow(c, 2, &x2);
    add_flow(c, 3, &x3);
    assert_int_equal(ofconn_barrier(c, on_barrier, &s), 0);
    add_flow(c, 4, &x4);
    assert_int_equal(ofconn_barrier(c, on_barrier, &s), 0);
    assert_int_equal(ofconn_n_pending(c), 2);
    sw_take(c, &m);
    assert_int_equal(m.n, 6);
    assert_int_equal(m.type[3], OFPT_BARRIER_REQUEST);
    assert_int_equal(m.type[5], OFPT_BARRIER_REQUEST);
    uint32_t b1 = m.xid[3], b2 = m.xid[5];
    sw_free(&m);
    assert_true(x1 < x2 && x2 < x3 && x3 < b1 && b1 < x4 && x4 < b2);

    /* The switch refuses the second flow and then confirms. */
    assert_int_equal(sw_send_error(c, x2, OFPERR_OFPBMC_BAD_PREREQ, 0), 0);
    assert_int_equal(sw_send_error(c, x4, OFPERR_OFPFMFC_TABLE_FULL, 0), 0);
    assert_int_equal(s.n_barriers, 0);
    assert_int_equal(s.n_messages, 2); /* Shown as they arrive. */
    assert_int_equal(s.last_type, OFPT_ERROR);
    assert_int_equal(sw_send_simple(c, OFPT_BARRIER_REPLY, b1, 0), 0);
    assert_int_equal(s.n_barriers, 1);
    assert_false(s.barrier[0].closed);
    assert_int_equal(s.barrier[0].n_sent, 3);
    assert_int_equal(s.barrier[0].n_errors, 1);
    assert_int_equal(s.barrier[0].first_xid, x2);
    assert_int_equal(s.barrier[0].first_type, OFPET_BAD_MATCH);
    assert_int_equal(s.barrier[0].first_code, 9);
    assert_int_equal(sw_send_simple(c, OFPT_BARRIER_REPLY, b2, 0), 0);
    assert_int_equal(s.n_barriers, 2);
    assert_int_equal(s.barrier[1].n_sent, 1);
    assert_int_equal(s.barrier[1].n_errors, 1);
    assert_int_equal(s.barrier[1].first_type, OFPET_FLOW_MOD_FAILED);
    assert_int_equal(ofconn_n_pending(c), 0);

    /* A clean batch; a barrier with nothing before it. */
    add_flow(c, 5, &x1);
    assert_int_equal(ofconn_barrier(c, on_barrier, &s), 0);
    assert_int_equal(ofconn_barrier(c, on_barrier, &s), 0);
    sw_take(c, &m);
    assert_int_equal(m.n, 3);
    /* Replying to the later barrier completes both (in order). */
    assert_int_equal(sw_send_simple(c, OFPT_BARRIER_REPLY, m.xid[2], 0), 0);
    sw_free(&m);
    assert_int_equal(s.n_barriers, 4);
    assert_int_equal(s.barrier[2].n_sent, 1);
    assert_int_equal(s.barrier[2].n_errors, 0);
    assert_int_equal(s.barrier[3].n_sent, 0);

    /* An error for nothing outstanding goes to the message hook. */
    assert_int_equal(sw_send_error(c, 0x7777, OFPERR_OFPBRC_BAD_TYPE, 0), 0);
    assert_int_equal(s.n_messages, 3);
    assert_int_equal(s.last_type, OFPT_ERROR);
    ofconn_destroy(c);
}

static void
test_request_multipart(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = handshake(&s, NULL);
    struct sw_msgs m;
    struct ofp_msg req;
    uint32_t xid;
    ofp_msg_init(&req, OFPT_MULTIPART_REQUEST, 0);
    req.mp.type = OFPMP_PORT_DESC;
    assert_int_equal(ofconn_request(c, &req, on_reply, &s, &xid), 0);
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.xid[0], xid);
    sw_free(&m);

    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    struct ofp_port p = {.port_no = 1};
    size_t start = ofp_mp_reply_start(&b, xid, OFPMP_PORT_DESC,
                                      OFPMPF_REPLY_MORE);
    ofp_put_port(&b, &p);
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    start = ofp_mp_reply_start(&b, xid, OFPMP_PORT_DESC, 0);
    ofp_put_port(&b, &p);
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    assert_int_equal(ofconn_receive(c, b.data, b.size, 0), 0);
    ofpbuf_uninit(&b);
    assert_int_equal(s.n_replies, 2);
    assert_int_equal(s.n_last, 1);
    assert_int_equal(s.reply_types[0], OFPT_MULTIPART_REPLY);
    assert_int_equal(ofconn_n_pending(c), 0);

    /* An error ends a request. */
    assert_int_equal(ofconn_request(c, &req, on_reply, &s, &xid), 0);
    assert_int_equal(sw_send_error(c, xid, OFPERR_OFPBRC_BAD_MULTIPART, 0),
                     0);
    assert_int_equal(s.n_replies, 3);
    assert_int_equal(s.reply_types[2], OFPT_ERROR);
    assert_int_equal(s.n_last, 2);

    /* A reply that does not decode ends it with the decode error. */
    assert_int_equal(ofconn_request(c, &req, on_reply, &s, &xid), 0);
    ofpbuf_clear(ofconn_output(c));
    uint8_t bad[20] = {4, OFPT_MULTIPART_REPLY, 0, 20};
    bad[4] = (uint8_t)(xid >> 24);
    bad[5] = (uint8_t)(xid >> 16);
    bad[6] = (uint8_t)(xid >> 8);
    bad[7] = (uint8_t)xid;
    bad[9] = OFPMP_PORT_DESC;
    assert_int_equal(ofconn_receive(c, bad, sizeof bad, 0), 0);
    assert_int_equal(s.n_replies, 4);
    assert_int_equal(s.reply_types[3], OFPT_ERROR);
    assert_int_equal(s.n_last, 3);
    assert_int_equal(ofconn_n_pending(c), 0);

    /* An unsolicited message that does not decode is answered. */
    bad[7] ^= 0xff;
    assert_int_equal(ofconn_receive(c, bad, sizeof bad, 0), 0);
    sw_take(c, &m);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.type[0], OFPT_ERROR);
    sw_free(&m);
    ofconn_destroy(c);
}

static void
test_disconnect_ends_everything(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = handshake(&s, NULL);
    struct ofp_msg req;
    uint32_t xid;
    ofp_msg_init(&req, OFPT_MULTIPART_REQUEST, 0);
    req.mp.type = OFPMP_DESC;
    assert_int_equal(ofconn_request(c, &req, on_reply, &s, &xid), 0);
    add_flow(c, 1, &xid);
    assert_int_equal(ofconn_barrier(c, on_barrier, &s), 0);
    ofconn_disconnected(c);
    assert_int_equal(s.n_closed_replies, 1);
    assert_int_equal(s.n_barriers, 1);
    assert_true(s.barrier[0].closed);
    assert_int_equal(s.barrier[0].n_sent, 1);
    assert_int_equal(ofconn_n_pending(c), 0);
    assert_int_equal(ofconn_get_state(c), OFCONN_IDLE);
    assert_int_equal(ofconn_barrier(c, on_barrier, &s), ENOTCONN);
    assert_int_equal(ofconn_next_wake(c), INT64_MAX);
    /* The same object connects again. */
    ofconn_destroy(c);
    c = handshake(&s, NULL);
    assert_int_equal(s.n_ready, 2);
    ofconn_destroy(c);
}

static void
test_send_errors(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofconn *c = ofconn_create(NULL, &hooks, &s);
    struct ofp_msg fm;
    ofp_msg_init(&fm, OFPT_FLOW_MOD, 0);
    assert_int_equal(ofconn_send(c, &fm, NULL), ENOTCONN);
    ofconn_destroy(c);

    c = handshake(&s, NULL);
    ofp_actions_output(ofp_instructions_apply(&fm.flow_mod.insts), 0);
    assert_int_equal(ofconn_send(c, &fm, NULL), EINVAL);
    assert_int_equal(ofconn_output(c)->size, 0);
    ofp_msg_destroy(&fm);
    ofconn_destroy(c);
}

/* A batch the caller encoded: fresh xids, counted for the barrier, errors
 * matched; bytes that are not whole 1.3 messages send nothing. */
static void
test_send_encoded(void **state)
{
    (void)state;
    struct seen s = {0};
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    for (uint32_t port = 1; port <= 2; port++) {
        struct ofp_msg fm;
        ofp_msg_init(&fm, OFPT_FLOW_MOD, 0x55);
        ofp_match_set(&fm.flow_mod.match, OFP_F_IN_PORT, port);
        ofp_actions_output(ofp_instructions_apply(&fm.flow_mod.insts), 2);
        assert_int_equal(ofp_encode(&fm, &b), OFPERR_OK);
        ofp_msg_destroy(&fm);
    }
    struct ofconn *c = ofconn_create(NULL, &hooks, &s);
    assert_int_equal(ofconn_send_encoded(c, b.data, b.size, NULL, NULL),
                     ENOTCONN);
    ofconn_destroy(c);

    c = handshake(&s, NULL);
    uint32_t first = 0;
    size_t n = 0;
    assert_int_equal(ofconn_send_encoded(c, b.data, b.size - 1, &first,
                                         &n),
                     EINVAL); /* the second message is cut */
    uint8_t *raw = b.data;
    raw[0] = 0x01; /* OpenFlow 1.0 */
    assert_int_equal(ofconn_send_encoded(c, b.data, b.size, &first, &n),
                     EINVAL);
    raw[0] = OFP13_VERSION;
    assert_int_equal(ofconn_output(c)->size, 0);
    assert_int_equal(n, 0);

    assert_int_equal(ofconn_send_encoded(c, b.data, b.size, &first, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ofconn_barrier(c, on_barrier, &s), 0);
    struct sw_msgs m;
    sw_take(c, &m);
    assert_int_equal(m.n, 3);
    assert_int_equal(m.type[0], OFPT_FLOW_MOD);
    assert_int_equal(m.type[1], OFPT_FLOW_MOD);
    assert_int_equal(m.xid[0], first);
    assert_int_equal(m.xid[1], first + 1);
    assert_true(m.xid[0] != 0x55);
    uint32_t barrier = m.xid[2];
    sw_free(&m);
    assert_int_equal(sw_send_error(c, first + 1, OFPERR_OFPFMFC_TABLE_FULL,
                                   0),
                     0);
    assert_int_equal(sw_send_simple(c, OFPT_BARRIER_REPLY, barrier, 0), 0);
    assert_int_equal(s.n_barriers, 1);
    assert_int_equal(s.barrier[0].n_sent, 2);
    assert_int_equal(s.barrier[0].n_errors, 1);
    assert_int_equal(s.barrier[0].first_xid, first + 1);
    assert_int_equal(s.barrier[0].first_type, OFPET_FLOW_MOD_FAILED);

    /* Nothing to send is no error. */
    assert_int_equal(ofconn_send_encoded(c, b.data, 0, NULL, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ofconn_output(c)->size, 0);
    ofpbuf_uninit(&b);
    ofconn_destroy(c);
}

static void
test_state_names(void **state)
{
    (void)state;
    assert_string_equal(ofconn_state_name(OFCONN_READY), "ready");
    assert_string_equal(ofconn_state_name(OFCONN_HELLO), "hello");
    assert_string_equal(ofconn_state_name(OFCONN_FAILED), "failed");
}

/* A switch dialing in: ofconn_attach() on one end of a socket pair sends
 * its hello at once and completes the handshake with the peer on the
 * other end, over the real libevent transport. */
static void
test_attach_accepted(void **state)
{
    (void) state;
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct event_base *base = event_base_new();
    assert_non_null(base);
    struct seen seen = {0};
    struct ofconn *c = ofconn_create(NULL, &hooks, &seen);
    char err[128];
    assert_int_equal(ofconn_attach(c, base, fds[0], err, sizeof err), 0);
    assert_int_equal(ofconn_get_state(c), OFCONN_HELLO);

    /* The hello is already on the wire. */
    uint8_t buf[512];
    ssize_t n = read(fds[1], buf, sizeof buf);
    struct ofp_msg *msg = malloc(sizeof *msg);
    assert_non_null(msg);
    assert_true(n >= 8);
    assert_int_equal(ofp_decode(buf, (size_t) buf[3] | buf[2] << 8, msg),
                     OFPERR_OK);
    assert_int_equal(msg->type, OFPT_HELLO);

    /* The switch's hello; then the features request comes. */
    struct ofpbuf b;
    ofpbuf_init(&b, 64);
    ofp_encode_hello(&b, 1);
    assert_int_equal(write(fds[1], b.data, b.size), (ssize_t) b.size);
    for (int i = 0; i < 50 && ofconn_get_state(c) != OFCONN_FEATURES; i++) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_int_equal(ofconn_get_state(c), OFCONN_FEATURES);
    n = read(fds[1], buf, sizeof buf);
    assert_true(n >= 8);
    assert_int_equal(ofp_decode(buf, (size_t) n, msg), OFPERR_OK);
    assert_int_equal(msg->type, OFPT_FEATURES_REQUEST);
    uint32_t xid = msg->xid;
    ofp_msg_init(msg, OFPT_FEATURES_REPLY, xid);
    msg->features.datapath_id = 0x42;
    ofpbuf_clear(&b);
    assert_int_equal(ofp_encode(msg, &b), OFPERR_OK);
    assert_int_equal(write(fds[1], b.data, b.size), (ssize_t) b.size);
    for (int i = 0; i < 50 && !seen.n_ready; i++) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_int_equal(seen.n_ready, 1);
    assert_true(seen.dpid == 0x42);
    ofpbuf_uninit(&b);
    free(msg);
    ofconn_destroy(c);
    close(fds[1]);
    event_base_free(base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_handshake_split),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_first_message_not_hello),
        cmocka_unit_test(test_bad_framing),
        cmocka_unit_test(test_echo_reply),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_barrier_errors),
        cmocka_unit_test(test_request_multipart),
        cmocka_unit_test(test_disconnect_ends_everything),
        cmocka_unit_test(test_send_errors),
        cmocka_unit_test(test_send_encoded),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_attach_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
