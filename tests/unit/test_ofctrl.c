/* test_ofctrl.c: the agent's flow batches, barriers and the acks or nacks
 * they earn on the agent channel, without sockets: a scripted switch
 * answers lib/ofconn with canned replies (flow_mods + error + barrier reply
 * -> nack; no error -> ack), and a chan_client holds the instructions.
 * A reconnection reads the switch's flows (canned flow statistics) and
 * sends only the difference; a tracked sync sends only the changed keys,
 * and the whole difference after a reconnection or a refused batch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/chan_client.h"
#include "agent/flowtab.h"
#include "agent/ofctrl.h"
#include "lib/ofconn.h"
#include "lib/strbuf.h"
#include "unit/fake_switch.h"

#define CFG(N) "\"mac\":\"02:00:00:00:00:0" N "\",\"ip\":\"198.18.1." N "\""
#define WELCOME                                                              \
    "{\"type\":\"welcome\",\"node\":\"n1\",\"map_version\":5,"               \
    "\"heartbeat_ms\":1000}\n"

struct fx {
    struct ofconn *conn;
    struct chan_client *chan;
    struct strbuf out; /* the channel's output */
    struct ofctrl *ctl;
    struct flowtab *installed, *desired;
    int n_done;
    enum ofctrl_outcome outcome[8];
    uint64_t done_id[8];
    int n_read, read_ok; /* the read hook's calls, and how many said ok */
};

/* The agent's cookie space in these tests, and one outside it. */
#define OURS UINT64_C(0x4d47000000000000)
#define OURS_MASK UINT64_C(0xffff000000000000)
#define FOREIGN UINT64_C(0x1234000000000000)

static void
on_read(void *aux, bool ok)
{
    struct fx *f = aux;
    f->n_read++;
    f->read_ok += ok;
}

static void
on_done(void *aux, const struct ofctrl_batch *b, enum ofctrl_outcome o,
        const struct ofconn_barrier_result *r)
{
    struct fx *f = aux;
    (void) r;
    assert_true(f->n_done < 8);
    f->done_id[f->n_done] = b->id;
    f->outcome[f->n_done++] = o;
}

static void
deliver(void *aux, const void *data, size_t len)
{
    struct fx *f = aux;
    assert_int_equal(ofconn_receive(f->conn, data, len, 0), 0);
}

static void
sw_take(struct fx *f, struct taken *t)
{
    fsw_take(ofconn_output(f->conn), t);
}

static void
sw_reply(struct fx *f, uint8_t type, uint32_t xid)
{
    fsw_reply(deliver, f, type, xid);
}

static void
sw_error(struct fx *f, uint32_t xid, uint16_t type, uint16_t code)
{
    fsw_error(deliver, f, xid, type, code);
}

static void
feed(struct fx *f, const char *text)
{
    assert_int_equal(chan_client_receive(f->chan, text, strlen(text), 10,
                                         &f->out),
                     0);
}

static void
expect_chan(struct fx *f, const char *want)
{
    assert_string_equal(strbuf_str(&f->out), want);
    strbuf_clear(&f->out);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->conn = ofconn_create(NULL, NULL, NULL);
    f->chan = chan_client_create("n1", NULL);
    chan_client_set_ack(f->chan, false);
    strbuf_init(&f->out);
    struct ofctrl_hooks hooks = {.done = on_done, .read = on_read,
                                 .aux = f};
    f->ctl = ofctrl_create(f->conn, f->chan, &f->out, &hooks);
    ofctrl_set_session(f->ctl, 1);
    f->installed = flowtab_create();
    f->desired = flowtab_create();

    /* The switch: hello, then the features reply. */
    struct taken t;
    ofconn_connected(f->conn, 0);
    sw_take(f, &t);
    struct ofp_msg hello;
    ofp_msg_init(&hello, OFPT_HELLO, 1);
    hello.hello.bitmap = 1u << OFP13_VERSION;
    fsw_send(deliver, f, &hello);
    sw_take(f, &t);
    assert_int_equal(t.type[0], OFPT_FEATURES_REQUEST);
    sw_reply(f, OFPT_FEATURES_REPLY, t.xid[0]);
    assert_int_equal(ofconn_get_state(f->conn), OFCONN_READY);
    ofctrl_reconnected(f->ctl);

    /* The controller: two instructions. */
    chan_client_connected(f->chan, 0, &f->out);
    feed(f, WELCOME);
    feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":1,"
            CFG("1") "}\n{\"type\":\"install\",\"seq\":2,\"vm\":\"vm2\","
            "\"epoch\":1," CFG("2") "}\n");
    strbuf_clear(&f->out);
    assert_int_equal(chan_client_pending_ack(f->chan), 2);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    ofconn_destroy(f->conn); /* its barriers call back into ofctrl */
    ofctrl_destroy(f->ctl);
    chan_client_destroy(f->chan);
    strbuf_destroy(&f->out);
    flowtab_destroy(f->installed);
    flowtab_destroy(f->desired);
    free(f);
    return 0;
}

/* A flow for 'in_port' that outputs to 'out'. */
static void
make_flow(struct flowtab_flow *fl, uint64_t cookie, uint32_t in_port,
          uint32_t out)
{
    memset(fl, 0, sizeof *fl);
    fl->priority = 100;
    fl->cookie = cookie;
    ofp_match_init(&fl->match);
    ofp_match_set(&fl->match, OFP_F_IN_PORT, in_port);
    ofp_actions_output(ofp_instructions_apply(&fl->insts), out);
}

/* The desired table: flows for in_port 1..n. */
static void
want_flows(struct fx *f, uint32_t n)
{
    for (uint32_t port = 1; port <= n; port++) {
        struct flowtab_flow fl;
        make_flow(&fl, OURS | port, port, 7);
        flowtab_put(f->desired, &fl); /* a copy: 'fl' keeps its lists */
        ofp_instructions_destroy(&fl.insts);
    }
}

/* The switch answers flow statistics request 'xid' with 'n' flows, each
 * {cookie, in_port, output}, in two parts when there are several. */
static void
sw_flows(struct fx *f, uint32_t xid, const uint64_t (*flows)[3], size_t n)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    size_t half = n / 2;
    size_t start = ofp_mp_reply_start(&b, xid, OFPMP_FLOW,
                                      half ? OFPMPF_REPLY_MORE : 0);
    for (size_t i = 0; i < n; i++) {
        if (half && i == half) {
            assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
            start = ofp_mp_reply_start(&b, xid, OFPMP_FLOW, 0);
        }
        struct flowtab_flow fl;
        make_flow(&fl, flows[i][0], (uint32_t) flows[i][1],
                  (uint32_t) flows[i][2]);
        struct ofp_flow_stats fs = {
            .priority = fl.priority, .cookie = fl.cookie,
            .packet_count = 42, .match = fl.match, .insts = fl.insts,
        };
        assert_int_equal(ofp_put_flow_stats(&b, &fs), OFPERR_OK);
        ofp_instructions_destroy(&fl.insts);
    }
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    assert_int_equal(ofconn_receive(f->conn, b.data, b.size, 0), 0);
    ofpbuf_uninit(&b);
}

/* A reconnection: ofctrl reads the switch's flows with the agent's
 * cookie; returns the request's xid.  Syncing waits for the answer. */
static uint32_t
reconnect_read(struct fx *f)
{
    struct taken t;
    ofctrl_reconnected(f->ctl);
    assert_int_equal(ofctrl_read_switch(f->ctl, f->installed, OURS,
                                        OURS_MASK),
                     0);
    assert_true(ofctrl_reading(f->ctl));
    sw_take(f, &t);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.type[0], OFPT_MULTIPART_REQUEST);
    uint32_t xid = t.xid[0];
    want_flows(f, 1);
    struct ofctrl_batch b = {.session = 1, .ack_seq = 2};
    assert_int_equal(ofctrl_sync(f->ctl, f->installed, f->desired, &b,
                                 NULL),
                     EAGAIN);
    sw_take(f, &t);
    assert_int_equal(t.n, 0); /* nothing sent while reading */
    flowtab_clear(f->desired);
    return xid;
}

/* A reconnection to a switch holding 'held' (see sw_flows). */
static void
reconnect_holding(struct fx *f, const uint64_t (*held)[3], size_t n)
{
    sw_flows(f, reconnect_read(f), held, n);
    assert_false(ofctrl_reading(f->ctl));
    assert_int_equal(f->n_read, 1);
    assert_int_equal(f->read_ok, 1);
}

/* Syncs what is desired as a batch for the pending instructions; returns
 * what the switch received (flow_mods, then the barrier). */
static void
sync(struct fx *f, struct taken *t)
{
    struct ofctrl_batch b = {
        .session = 1,
        .ack_seq = chan_client_pending_ack(f->chan),
    };
    assert_int_equal(ofctrl_sync(f->ctl, f->installed, f->desired, &b,
                                 NULL),
                     0);
    sw_take(f, t);
    assert_true(t->n >= 1);
    assert_int_equal(t->type[t->n - 1], OFPT_BARRIER_REQUEST);
}

static void
test_no_error_acks(void **state)
{
    struct fx *f = *state;
    struct taken t;
    want_flows(f, 2);
    sync(f, &t);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.type[0], OFPT_FLOW_MOD);
    expect_chan(f, ""); /* nothing before the barrier reply */
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[2]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":2}\n");
    assert_int_equal(f->n_done, 1);
    assert_int_equal(f->outcome[0], OFCTRL_CONFIRMED);
    assert_false(ofctrl_failed(f->ctl));
    /* Nothing changed: an empty batch, nothing more to acknowledge. */
    want_flows(f, 2);
    sync(f, &t);
    assert_int_equal(t.n, 1);
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[0]);
    expect_chan(f, "");
    assert_int_equal(f->outcome[1], OFCTRL_CONFIRMED);
}

/* Flow_mods + an error + the barrier reply: a nack with the error, no ack;
 * the next sync sends the whole table again and its success acks. */
static void
test_error_nacks_then_resend_acks(void **state)
{
    struct fx *f = *state;
    struct taken t;
    want_flows(f, 3);
    sync(f, &t);
    assert_int_equal(t.n, 4);
    sw_error(f, t.xid[1], OFPET_FLOW_MOD_FAILED, 1); /* table full */
    expect_chan(f, "");
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[3]);
    expect_chan(f, "{\"type\":\"nack\",\"seq\":2,"
                   "\"ofp_error\":{\"type\":5,\"code\":1}}\n");
    assert_int_equal(f->outcome[0], OFCTRL_REFUSED);
    assert_true(ofctrl_failed(f->ctl));
    struct chan_client_stats st;
    chan_client_get_stats(f->chan, &st);
    assert_int_equal(st.acked_seq, 0);

    /* The same desired table: all three flows go again. */
    want_flows(f, 3);
    sync(f, &t);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.type[0], OFPT_FLOW_MOD);
    assert_false(ofctrl_failed(f->ctl));
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[3]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":2}\n");
    assert_int_equal(f->outcome[1], OFCTRL_CONFIRMED);
    struct ofctrl_stats os;
    ofctrl_get_stats(f->ctl, &os);
    assert_int_equal(os.refused, 1);
    assert_int_equal(os.confirmed, 1);
    assert_int_equal(os.ofp_errors, 1);
}

/* A batch sent before an earlier one's failure was known is not
 * acknowledged even without an error of its own: it was computed on a
 * table the switch does not hold. */
static void
test_batch_after_failure_is_stale(void **state)
{
    struct fx *f = *state;
    struct taken t1, t2, t3;
    want_flows(f, 2);
    sync(f, &t1);
    feed(f, "{\"type\":\"install\",\"seq\":3,\"vm\":\"vm3\",\"epoch\":1,"
            CFG("3") "}\n");
    want_flows(f, 3);
    sync(f, &t2);
    assert_int_equal(t2.n, 2); /* the third flow and the barrier */
    sw_error(f, t1.xid[0], OFPET_BAD_MATCH, 9);
    sw_reply(f, OFPT_BARRIER_REPLY, t1.xid[2]);
    /* The failed batch implemented instructions up to 2. */
    expect_chan(f, "{\"type\":\"nack\",\"seq\":2,"
                   "\"ofp_error\":{\"type\":4,\"code\":9}}\n");
    sw_reply(f, OFPT_BARRIER_REPLY, t2.xid[1]);
    expect_chan(f, ""); /* no ack of 3 */
    assert_int_equal(f->outcome[0], OFCTRL_REFUSED);
    assert_int_equal(f->outcome[1], OFCTRL_STALE);
    /* The full resend is confirmed: now 3 is acknowledged. */
    want_flows(f, 3);
    sync(f, &t3);
    assert_int_equal(t3.n, 4);
    sw_reply(f, OFPT_BARRIER_REPLY, t3.xid[3]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":3}\n");
    assert_int_equal(f->outcome[2], OFCTRL_CONFIRMED);
}

/* A lost connection or a replaced channel session: nothing is claimed. */
static void
test_lost_and_old_session(void **state)
{
    struct fx *f = *state;
    struct taken t;
    want_flows(f, 1);
    sync(f, &t);
    ofctrl_set_session(f->ctl, 2); /* the channel reconnected */
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[1]);
    expect_chan(f, "");
    assert_int_equal(f->outcome[0], OFCTRL_CONFIRMED);

    ofctrl_set_session(f->ctl, 1);
    want_flows(f, 2);
    sync(f, &t);
    ofconn_disconnected(f->conn);
    expect_chan(f, "");
    assert_int_equal(f->n_done, 2);
    assert_int_equal(f->outcome[1], OFCTRL_LOST);
    want_flows(f, 2);
    struct ofctrl_batch b = {.session = 1, .ack_seq = 2};
    assert_int_equal(ofctrl_sync(f->ctl, f->installed, f->desired, &b,
                                 NULL),
                     ENOTCONN);
    assert_int_equal(flowtab_count(f->desired), 2); /* untouched */
}

/* The switch already holds the desired flows (an agent restart): the
 * reconnection sends no flow_mod, only the barrier that acknowledges. */
static void
test_reconnect_same_flows_sends_nothing(void **state)
{
    static const uint64_t held[][3] = {
        {OURS | 1, 1, 7}, {OURS | 2, 2, 7}, {OURS | 3, 3, 7}};
    struct fx *f = *state;
    struct taken t;
    reconnect_holding(f, held, 3);
    assert_int_equal(flowtab_count(f->installed), 3);
    want_flows(f, 3);
    sync(f, &t);
    assert_int_equal(t.n, 1); /* the barrier alone */
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[0]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":2}\n");
    assert_int_equal(f->outcome[0], OFCTRL_CONFIRMED);
    struct ofctrl_stats os;
    ofctrl_get_stats(f->ctl, &os);
    assert_int_equal(os.reads, 1);
    assert_int_equal(os.read_flows, 3);
}

/* The switch holds one flow as desired, one with other actions, one the
 * agent no longer wants and one of someone else's: exactly the change,
 * the addition and the deletion go; the foreign flow is never touched. */
static void
test_reconnect_sends_exactly_the_difference(void **state)
{
    static const uint64_t held[][3] = {
        {OURS | 1, 1, 7}, {OURS | 2, 2, 9}, {OURS | 5, 5, 7},
        {FOREIGN, 6, 7}};
    struct fx *f = *state;
    struct taken t;
    reconnect_holding(f, held, 4);
    assert_int_equal(flowtab_count(f->installed), 3); /* not the foreign */
    want_flows(f, 3);
    sync(f, &t);
    assert_int_equal(t.n, 4);
    bool mod2 = false, add3 = false, del5 = false;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(t.type[i], OFPT_FLOW_MOD);
        mod2 |= t.cmd[i] == OFPFC_ADD && t.in_port[i] == 2;
        add3 |= t.cmd[i] == OFPFC_ADD && t.in_port[i] == 3;
        del5 |= t.cmd[i] == OFPFC_DELETE_STRICT && t.in_port[i] == 5;
    }
    assert_true(mod2 && add3 && del5);
    assert_int_equal(t.cmd[2], OFPFC_DELETE_STRICT); /* make, then break */
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[3]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":2}\n");
}

/* The switch cannot list its flows: the agent's (by cookie) are deleted
 * and the whole desired table goes, as a fresh start would. */
static void
test_reconnect_read_error_deletes_own(void **state)
{
    struct fx *f = *state;
    struct taken t;
    uint32_t xid = reconnect_read(f);
    sw_error(f, xid, OFPET_BAD_REQUEST, 1);
    assert_false(ofctrl_reading(f->ctl));
    assert_int_equal(f->n_read, 1);
    assert_int_equal(f->read_ok, 0);
    want_flows(f, 2);
    sync(f, &t);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.cmd[0], OFPFC_DELETE);
    assert_int_equal(t.cookie[0], OURS);
    assert_int_equal(t.cookie_mask[0], OURS_MASK);
    assert_int_equal(t.cmd[1], OFPFC_ADD);
    assert_int_equal(t.cmd[2], OFPFC_ADD);
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[3]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":2}\n");
}

/* The connection ends during the read: nothing is claimed, and the
 * next connection reads again from an empty table. */
static void
test_reconnect_read_lost(void **state)
{
    struct fx *f = *state;
    (void) reconnect_read(f);
    ofconn_disconnected(f->conn);
    assert_false(ofctrl_reading(f->ctl));
    assert_int_equal(f->n_read, 0);
    assert_int_equal(ofctrl_read_switch(f->ctl, f->installed, OURS,
                                        OURS_MASK),
                     ENOTCONN);
}

/* ofctrl_sync_tracked(): the desired table stays; returns what the
 * switch received. */
static void
sync_tracked(struct fx *f, const struct flowtab *tracked, struct taken *t)
{
    struct ofctrl_batch b = {
        .session = 1,
        .ack_seq = chan_client_pending_ack(f->chan),
    };
    assert_int_equal(ofctrl_sync_tracked(f->ctl, f->installed, f->desired,
                                         tracked, &b, NULL),
                     0);
    sw_take(f, t);
    assert_true(t->n >= 1);
    assert_int_equal(t->type[t->n - 1], OFPT_BARRIER_REQUEST);
}

/* Puts the flow for 'in_port' -> 'out' in 't'. */
static void
put_port(struct flowtab *t, uint32_t in_port, uint32_t out)
{
    struct flowtab_flow fl;
    make_flow(&fl, OURS | in_port, in_port, out);
    flowtab_put(t, &fl);
    ofp_instructions_destroy(&fl.insts);
}

static bool
has_mod(const struct taken *t, uint8_t cmd, uint64_t in_port)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->type[i] == OFPT_FLOW_MOD && t->cmd[i] == cmd
            && t->in_port[i] == in_port) {
            return true;
        }
    }
    return false;
}

/* Only the tracked keys are looked at: a change the tracked set does not
 * name is not sent; the first sync after a connection diffs everything. */
static void
test_tracked_sends_only_tracked(void **state)
{
    struct fx *f = *state;
    struct taken t;
    struct flowtab *tracked = flowtab_create();
    want_flows(f, 3);
    sync_tracked(f, tracked, &t); /* new connection: whole table */
    assert_int_equal(t.n, 4);
    assert_int_equal(flowtab_count(f->desired), 3); /* left as it was */
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[3]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":2}\n");

    /* Port 2 changes, port 4 comes, port 3 changes untracked, port 5 is
     * tracked but neither desired nor installed. */
    put_port(f->desired, 2, 9);
    put_port(f->desired, 4, 7);
    put_port(f->desired, 3, 9);
    put_port(tracked, 2, 0);
    put_port(tracked, 4, 0);
    put_port(tracked, 5, 0);
    sync_tracked(f, tracked, &t);
    assert_int_equal(t.n, 3);
    assert_true(has_mod(&t, OFPFC_ADD, 2));
    assert_true(has_mod(&t, OFPFC_ADD, 4));
    assert_false(has_mod(&t, OFPFC_ADD, 3));
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[2]);
    assert_int_equal(f->outcome[1], OFCTRL_CONFIRMED);

    /* Port 1 goes: one strict delete, after nothing else. */
    flowtab_clear(tracked);
    struct flowtab_flow k;
    make_flow(&k, OURS | 1, 1, 7);
    assert_true(flowtab_remove(f->desired, k.table, k.priority, &k.match));
    assert_false(flowtab_remove(f->desired, k.table, k.priority, &k.match));
    flowtab_put(tracked, &k);
    ofp_instructions_destroy(&k.insts);
    sync_tracked(f, tracked, &t);
    assert_int_equal(t.n, 2);
    assert_true(has_mod(&t, OFPFC_DELETE_STRICT, 1));
    assert_int_equal(flowtab_count(f->installed), 3);
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[1]);
    assert_int_equal(f->outcome[2], OFCTRL_CONFIRMED);
    flowtab_destroy(tracked);
}

/* After a refused batch the next tracked sync sends the whole table,
 * whatever the tracked set says, and only its success is acknowledged. */
static void
test_tracked_after_refusal_resends_all(void **state)
{
    struct fx *f = *state;
    struct taken t;
    struct flowtab *tracked = flowtab_create();
    want_flows(f, 3);
    sync_tracked(f, tracked, &t);
    sw_error(f, t.xid[0], OFPET_FLOW_MOD_FAILED, 1);
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[3]);
    expect_chan(f, "{\"type\":\"nack\",\"seq\":2,"
                   "\"ofp_error\":{\"type\":5,\"code\":1}}\n");
    assert_true(ofctrl_failed(f->ctl));
    sync_tracked(f, tracked, &t); /* nothing tracked: all three again */
    assert_int_equal(t.n, 4);
    assert_true(has_mod(&t, OFPFC_ADD, 1) && has_mod(&t, OFPFC_ADD, 2)
                && has_mod(&t, OFPFC_ADD, 3));
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[3]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":2}\n");
    /* Then back to the tracked keys only. */
    sync_tracked(f, tracked, &t);
    assert_int_equal(t.n, 1);
    flowtab_destroy(tracked);
}

/* After a reconnection's read, the first tracked sync diffs the whole
 * tables: a stale flow the switch holds goes though nothing tracks it. */
static void
test_tracked_after_read_diffs_whole(void **state)
{
    static const uint64_t held[][3] = {{OURS | 1, 1, 7}, {OURS | 5, 5, 7}};
    struct fx *f = *state;
    struct taken t;
    struct flowtab *tracked = flowtab_create();
    reconnect_holding(f, held, 2);
    want_flows(f, 2);
    sync_tracked(f, tracked, &t);
    assert_int_equal(t.n, 3);
    assert_true(has_mod(&t, OFPFC_ADD, 2));
    assert_true(has_mod(&t, OFPFC_DELETE_STRICT, 5));
    assert_int_equal(t.cmd[1], OFPFC_DELETE_STRICT); /* make, then break */
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[2]);
    expect_chan(f, "{\"type\":\"ack\",\"seq\":2}\n");
    flowtab_destroy(tracked);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_error_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_nacks_then_resend_acks,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_after_failure_is_stale,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_and_old_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_reconnect_same_flows_sends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_reconnect_sends_exactly_the_difference, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_reconnect_read_error_deletes_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_read_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tracked_sends_only_tracked,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_tracked_after_refusal_resends_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracked_after_read_diffs_whole,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
