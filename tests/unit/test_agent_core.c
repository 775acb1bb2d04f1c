/* test_agent_core.c: mignet-agent's sans-I/O core (agent_core.h) driven
 * with canned agent-channel lines and canned Open vSwitch replies (built
 * with lib's OpenFlow 1.3 encoder), no socket and no clock: an
 * instruction becomes flow_mods and a barrier, whose reply becomes an
 * `ack`; an OpenFlow error becomes a `nack` and a full resend; a
 * reconnection to a switch that still holds the agent's flows deletes
 * nothing before the desired state is known; a channel reconnection with
 * a resync replaces the held entries, one without keeps them; an
 * instruction with a stale epoch is refused and changes no flow; an
 * inactive install over a relay (a VM migrating back) keeps the relay's
 * flows until it is activated or deleted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_core.h"
#include "agent/agent_map.h"
#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "agent/pipeline_vnet.h"
#include "lib/ofconn.h"
#include "lib/strbuf.h"
#include "unit/fake_switch.h"

#define CFG(N) "\"mac\":\"02:00:00:00:00:0" N "\",\"ip\":\"198.18.1." N "\""
#define INSTALL(SEQ, VM, EPOCH, N)                                           \
    "{\"type\":\"install\",\"seq\":" SEQ ",\"vm\":\"" VM "\",\"epoch\":"     \
    EPOCH "," CFG(N) "}\n"
#define WELCOME                                                              \
    "{\"type\":\"welcome\",\"node\":\"n1\",\"map_version\":5,"               \
    "\"heartbeat_ms\":1000}\n"
/* The gateway's map: vm9 lives on n2, so this node forwards to it. */
#define MAP                                                                  \
    "{\"version\": 7, \"full\": true, \"entries\": ["                        \
    "{\"vm\": \"vm9\", \"version\": 7, \"removed\": false, \"node\": \"n2\"," \
    " \"address\": \"198.18.0.2\", \"epoch\": 1,"                            \
    " \"mac\": \"02:00:00:00:00:09\", \"ip\": \"198.18.1.9\"}]}"

/* The bridge's ports. */
static const struct {
    const char *name;
    uint32_t no;
} ports[] = {{"vm1", 1}, {"vm2", 2}, {"vxlan0", 10}, {"tap-x", 3}};

struct fx {
    struct agent_core *c;
    uint64_t now; /* microseconds */
};

static size_t
count(const struct taken *t, uint8_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        n += t->type[i] == type;
    }
    return n;
}

static size_t
count_mods(const struct taken *t, uint8_t cmd)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        n += t->type[i] == OFPT_FLOW_MOD && t->cmd[i] == cmd;
    }
    return n;
}

/* The xid of the first message of 'type' (and multipart 'mp'), or fails. */
static uint32_t
xid_of(const struct taken *t, uint8_t type, uint16_t mp)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->type[i] == type
            && (type != OFPT_MULTIPART_REQUEST || t->mp_type[i] == mp)) {
            return t->xid[i];
        }
    }
    fail_msg("no message of type %u", type);
    return 0;
}

static void
deliver(void *aux, const void *data, size_t len)
{
    struct fx *f = aux;
    assert_int_equal(agent_core_of_receive(f->c, data, len, f->now), 0);
}

static void
sw_take(struct fx *f, struct taken *t)
{
    fsw_take(agent_core_of_output(f->c), t);
}

static void
sw_bytes(struct fx *f, const struct ofpbuf *b)
{
    deliver(f, b->data, b->size);
}

static void
sw_send(struct fx *f, const struct ofp_msg *msg)
{
    fsw_send(deliver, f, msg);
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

struct put_ctx {
    struct ofpbuf *b;
    size_t n;
    uint64_t packets; /* each flow's packet count */
};

static void
put_flow(void *aux, const struct flowtab_flow *fl)
{
    struct put_ctx *p = aux;
    struct ofp_flow_stats fs = {
        .table_id = fl->table, .priority = fl->priority,
        .cookie = fl->cookie, .match = fl->match, .insts = fl->insts,
        .packet_count = p->packets,
    };
    assert_int_equal(ofp_put_flow_stats(p->b, &fs), OFPERR_OK);
    p->n++;
}

/* The switch's answer to the flow read 'xid': the flows of 'held' (NULL:
 * none). */
static void
sw_flows(struct fx *f, uint32_t xid, const struct flowtab *held)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 4096);
    size_t start = ofp_mp_reply_start(&b, xid, OFPMP_FLOW, 0);
    struct put_ctx p = {.b = &b};
    if (held) {
        flowtab_walk(held, put_flow, &p);
    }
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    sw_bytes(f, &b);
    ofpbuf_uninit(&b);
}

/* The switch's answer to a relay counter request 'xid': the flows of
 * 'flows', each having carried 'packets'. */
static void
sw_relay_stats(struct fx *f, uint32_t xid, const struct flowtab *flows,
               uint64_t packets)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 4096);
    size_t start = ofp_mp_reply_start(&b, xid, OFPMP_FLOW, 0);
    struct put_ctx p = {.b = &b, .packets = packets};
    flowtab_walk(flows, put_flow, &p);
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    sw_bytes(f, &b);
    ofpbuf_uninit(&b);
}

/* The switch connects and answers the handshake, the port table and the
 * read of the agent's flows ('held', see sw_flows). */
static void
sw_connect(struct fx *f, const struct flowtab *held)
{
    struct taken t;
    agent_core_of_connected(f->c, f->now);
    sw_take(f, &t);
    assert_int_equal(t.type[0], OFPT_HELLO);
    struct ofp_msg hello;
    ofp_msg_init(&hello, OFPT_HELLO, 1);
    hello.hello.bitmap = 1u << OFP13_VERSION;
    sw_send(f, &hello);
    sw_take(f, &t);
    assert_int_equal(t.type[0], OFPT_FEATURES_REQUEST);
    sw_reply(f, OFPT_FEATURES_REPLY, t.xid[0]);
    assert_true(f->c->of_ready);

    sw_take(f, &t);
    uint32_t port_xid = xid_of(&t, OFPT_MULTIPART_REQUEST, OFPMP_PORT_DESC);
    uint32_t read_xid = xid_of(&t, OFPT_MULTIPART_REQUEST, OFPMP_FLOW);
    assert_int_equal(count(&t, OFPT_FLOW_MOD), 0); /* nothing cleared */
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    size_t start = ofp_mp_reply_start(&b, port_xid, OFPMP_PORT_DESC, 0);
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        struct ofp_port p = {.port_no = ports[i].no};
        snprintf(p.name, sizeof p.name, "%s", ports[i].name);
        ofp_put_port(&b, &p);
    }
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    sw_bytes(f, &b);
    ofpbuf_uninit(&b);
    sw_flows(f, read_xid, held);
}

static void
feed(struct fx *f, const char *text)
{
    assert_int_equal(agent_core_chan_receive(f->c, text, strlen(text),
                                             f->now),
                     0);
}

static void
expect_chan(struct fx *f, const char *want)
{
    struct strbuf *out = agent_core_chan_output(f->c);
    assert_string_equal(strbuf_str(out), want);
    strbuf_clear(out);
}

/* The channel connects and is welcomed (no resync). */
static void
chan_connect(struct fx *f)
{
    agent_core_chan_connected(f->c, f->now);
    feed(f, WELCOME);
    strbuf_clear(agent_core_chan_output(f->c)); /* hello */
}

/* Time passes by 'ms'; the core runs and the switch takes what it sent. */
static void
run(struct fx *f, uint64_t ms, struct taken *t)
{
    f->now += ms * 1000;
    assert_int_equal(agent_core_run(f->c, f->now), 0);
    sw_take(f, t);
}

/* Runs; the core must send a batch closed by a barrier. */
static void
run_batch(struct fx *f, struct taken *t)
{
    run(f, 1, t);
    assert_true(t->n >= 1);
    assert_int_equal(t->type[t->n - 1], OFPT_BARRIER_REQUEST);
    assert_int_equal(count(t, OFPT_BARRIER_REQUEST), 1);
}

static struct agent_core *
core_new(uint64_t now)
{
    struct agent_core_options o = {
        .node = "n1", .tunnel_port = "vxlan0",
        .dhcp_snoop = AGENT_SNOOP_OFF,
    };
    struct agent_core *c = agent_core_create(&o, now);
    assert_non_null(c);
    return c;
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->now = 1000000;
    f->c = core_new(f->now);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    agent_core_destroy(f->c);
    free(f);
    return 0;
}

/* The switch's reply to the barrier that ends 't': the channel then
 * carries exactly 'want'. */
static void
barrier_reply(struct fx *f, const struct taken *t, const char *want)
{
    sw_reply(f, OFPT_BARRIER_REPLY, t->xid[t->n - 1]);
    expect_chan(f, want);
}

/* A welcomed channel and a switch that holds nothing. */
static void
up(struct fx *f)
{
    chan_connect(f);
    sw_connect(f, NULL);
}

/* A switch and a channel, and instructions 1 (vm1) and 2 (vm2) confirmed
 * and acknowledged. */
static void
up_with_two(struct fx *f)
{
    struct taken t;
    up(f);
    feed(f, INSTALL("1", "vm1", "1", "1") INSTALL("2", "vm2", "1", "2"));
    run_batch(f, &t);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
}

/* Whether a flow_mod in 't' matches on 'port'. */
static bool
touches_port(const struct taken *t, uint32_t port)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->type[i] == OFPT_FLOW_MOD && t->in_port[i] == port) {
            return true;
        }
    }
    return false;
}

/* (1) An install becomes flow_mods for the VM's port and a barrier; the
 * ack comes with the barrier's reply, not before. */
static void
test_install_barrier_ack(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up(f);
    feed(f, INSTALL("1", "vm1", "1", "1"));
    expect_chan(f, ""); /* nothing on arrival */
    assert_true(agent_core_next_wake(f->c) <= f->now); /* a sync is due */
    run_batch(f, &t);
    assert_true(count_mods(&t, OFPFC_ADD) > 0);
    assert_true(touches_port(&t, 1));       /* vm1's port */
    assert_false(touches_port(&t, 2));      /* not vm2's */
    assert_int_equal(count_mods(&t, OFPFC_DELETE), 0);
    expect_chan(f, "");
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n");
    assert_int_equal(f->c->confirmed_flows, flowtab_count(f->c->installed));
    assert_int_equal(f->c->instr_lat.total, 1);
    /* Nothing changed since: nothing to send. */
    assert_true(agent_core_next_wake(f->c) > f->now);
}

/* (2) An OpenFlow error before the barrier reply: a nack with the error,
 * no ack; the next sync sends the whole table again, and its success
 * acks. */
static void
test_error_nacks_and_resends(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up(f);
    feed(f, INSTALL("1", "vm1", "1", "1"));
    run_batch(f, &t);
    size_t n_flows = flowtab_count(f->c->installed);
    assert_int_equal(count_mods(&t, OFPFC_ADD), n_flows);
    sw_error(f, t.xid[0], OFPET_FLOW_MOD_FAILED, 1); /* table full */
    expect_chan(f, "");
    barrier_reply(f, &t, "{\"type\":\"nack\",\"seq\":1,"
                   "\"ofp_error\":{\"type\":5,\"code\":1}}\n");
    assert_int_equal(f->c->of_errors, 1);

    /* vm2's install: every flow goes again, not only vm2's. */
    feed(f, INSTALL("2", "vm2", "1", "2"));
    run_batch(f, &t);
    assert_int_equal(count_mods(&t, OFPFC_ADD),
                     flowtab_count(f->c->installed));
    assert_true(touches_port(&t, 1));
    assert_true(touches_port(&t, 2));
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
}

/* What the switch holds once agent 'c' is gone: a copy of its installed
 * table ('c' is destroyed). */
static struct flowtab *
held_by(struct agent_core *c)
{
    struct flowtab *held = flowtab_create();
    struct flowtab_diff d;
    struct ofpbuf b;
    uint32_t xid = 1;
    ofpbuf_init(&b, 4096);
    flowtab_sync(held, c->installed, &b, &xid, &d); /* copies over */
    ofpbuf_uninit(&b);
    assert_true(flowtab_count(held) > 0);
    agent_core_destroy(c);
    return held;
}

/* The flows a first agent confirmed for vm1 and the map's vm9: what the
 * switch holds when a new agent process connects. */
static struct flowtab *
flows_of_previous_agent(void)
{
    struct fx g = {.now = 1000000};
    g.c = core_new(g.now);
    struct taken t;
    chan_connect(&g);
    sw_connect(&g, NULL);
    char err[128];
    assert_int_equal(agent_core_map_answer(g.c, MAP, strlen(MAP), g.now,
                                           err, sizeof err),
                     0);
    feed(&g, INSTALL("1", "vm1", "1", "1"));
    run_batch(&g, &t);
    barrier_reply(&g, &t, "{\"type\":\"ack\",\"seq\":1}\n"
                          "{\"type\":\"refresh\",\"version\":7}\n");
    return held_by(g.c);
}

#define RESYNC_VM1                                                           \
    "{\"type\":\"resync_begin\",\"seq\":0}\n" INSTALL("1", "vm1", "1", "1") \
    "{\"type\":\"resync_end\",\"seq\":1}\n"

/* (3a) A new agent, a switch still holding its flows: no delete-all, and
 * nothing at all until the resync and the map are in; then the minimal
 * diff (nothing) and a barrier that acknowledges the resync. */
static void
test_restart_waits_for_resync_and_map(void **state)
{
    struct fx *f = *state;
    struct flowtab *held = flows_of_previous_agent();
    struct taken t;
    sw_connect(f, held);
    assert_int_equal(flowtab_count(f->c->installed), flowtab_count(held));
    chan_connect(f);
    feed(f, RESYNC_VM1);
    run(f, 1, &t);
    assert_int_equal(t.n, 0); /* vm9's flows are not deleted: no map yet */
    uint64_t wake = agent_core_next_wake(f->c);
    assert_true(wake > f->now && wake <= f->now + SETTLE_WAIT_MS * 1000);
    char err[128];
    assert_int_equal(agent_core_map_answer(f->c, MAP, strlen(MAP), f->now,
                                           err, sizeof err),
                     0);
    run_batch(f, &t);
    assert_int_equal(t.n, 1); /* the barrier alone: nothing differs */
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n"
                   "{\"type\":\"refresh\",\"version\":7}\n");
    assert_int_equal(flowtab_count(f->c->installed), flowtab_count(held));
    flowtab_destroy(held);
}

/* (3b) No map ever comes: the settle deadline ends the wait, and only the
 * flows nobody asked for (vm9's) are deleted, one by one. */
static void
test_restart_settles_at_deadline(void **state)
{
    struct fx *f = *state;
    struct flowtab *held = flows_of_previous_agent();
    struct taken t;
    sw_connect(f, held);
    chan_connect(f);
    feed(f, RESYNC_VM1);
    /* Almost the whole wait, mignetd alive (heartbeats): nothing. */
    for (int ms = 0; ms < SETTLE_WAIT_MS - 500; ms += 500) {
        feed(f, "{\"type\":\"heartbeat\"}\n");
        run(f, 500, &t);
        assert_int_equal(count(&t, OFPT_FLOW_MOD), 0);
        assert_int_equal(count(&t, OFPT_BARRIER_REQUEST), 0);
    }
    assert_false(f->c->settled);
    strbuf_clear(agent_core_chan_output(f->c)); /* heartbeats */
    uint64_t wake = agent_core_next_wake(f->c);
    assert_true(wake > f->now);
    f->now = wake - 1000;
    run(f, 1, &t); /* at the deadline */
    assert_true(f->c->settled);
    assert_int_equal(count(&t, OFPT_BARRIER_REQUEST), 1);
    assert_int_equal(count_mods(&t, OFPFC_DELETE), 0);   /* no delete-all */
    assert_int_equal(count_mods(&t, OFPFC_ADD), 0);      /* vm1 is there */
    size_t deleted = count_mods(&t, OFPFC_DELETE_STRICT);
    assert_true(deleted > 0);
    assert_int_equal(flowtab_count(f->c->installed) + deleted,
                     flowtab_count(held));
    assert_false(touches_port(&t, 1)); /* vm1's flows stay */
    flowtab_destroy(held);
}

/* (4a) The channel reconnects and mignetd resyncs: the held entries are
 * exactly the resync's (vm2, not in it, goes, with its flows), and the
 * resync is acknowledged once the barrier confirms it. */
static void
test_chan_reconnect_resync(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_with_two(f);
    agent_core_chan_disconnected(f->c, f->now);
    run(f, 1, &t);
    assert_int_equal(t.n, 0); /* a lost channel changes no flow */
    chan_connect(f);
    feed(f, RESYNC_VM1);
    assert_int_equal(chan_client_n_entries(f->c->chan), 1);
    assert_non_null(chan_client_find(f->c->chan, "vm1"));
    run_batch(f, &t);
    assert_true(count_mods(&t, OFPFC_DELETE_STRICT) > 0);
    assert_true(touches_port(&t, 2));  /* vm2's flows go */
    assert_false(touches_port(&t, 1)); /* vm1's stay as they are */
    expect_chan(f, "");
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n");
}

/* (4b) The channel reconnects and no resync comes (a new session only):
 * the core keeps the entries it holds and their flows, and has nothing
 * to acknowledge.  (mignetd always resyncs a new session; until it does,
 * the node keeps forwarding as it was told.) */
static void
test_chan_reconnect_no_resync_keeps(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_with_two(f);
    size_t n_flows = flowtab_count(f->c->installed);
    agent_core_chan_disconnected(f->c, f->now);
    chan_connect(f);
    assert_int_equal(f->c->session, 2);
    assert_int_equal(chan_client_n_entries(f->c->chan), 2);
    run(f, 1, &t);
    assert_int_equal(count(&t, OFPT_FLOW_MOD), 0);
    assert_int_equal(flowtab_count(f->c->installed), n_flows);
    expect_chan(f, "");
    /* The new session's instructions start again at seq 1. */
    feed(f, "{\"type\":\"delete\",\"seq\":1,\"vm\":\"vm2\",\"epoch\":1,"
            CFG("2") "}\n");
    run_batch(f, &t);
    assert_true(touches_port(&t, 2));
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n");
}

/* (5) An install with an epoch older than the one held is refused: the
 * entry and the flows stay; the refusal is answered at once, and the
 * instruction (processed) acknowledged by the next barrier. */
static void
test_stale_epoch_refused(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up(f);
    feed(f, INSTALL("1", "vm1", "2", "1"));
    run_batch(f, &t);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n");
    size_t n_flows = flowtab_count(f->c->installed);

    /* Epoch 1 < 2, with another address: refused. */
    feed(f, INSTALL("2", "vm1", "1", "5"));
    expect_chan(f, "{\"type\":\"refused\",\"seq\":2,\"vm\":\"vm1\","
                   "\"epoch\":1,\"held_epoch\":2}\n");
    const struct chan_entry *e = chan_client_find(f->c->chan, "vm1");
    assert_non_null(e);
    assert_int_equal(e->epoch, 2);
    assert_int_equal(e->config.mac[5], 1);
    run_batch(f, &t);
    assert_int_equal(t.n, 1); /* the barrier alone: no flow changes */
    assert_int_equal(flowtab_count(f->c->installed), n_flows);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
}

/* A lost switch connection: the batch in flight is neither acked nor
 * nacked; the next connection reads the switch and syncs again. */
static void
test_switch_lost_mid_batch(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up(f);
    feed(f, INSTALL("1", "vm1", "1", "1"));
    run_batch(f, &t);
    agent_core_of_disconnected(f->c, f->now);
    assert_false(f->c->of_ready);
    expect_chan(f, "");
    run(f, 1, &t);
    assert_int_equal(t.n, 0); /* no session: nothing to send */
    sw_connect(f, NULL);      /* it lost its flows, too */
    run_batch(f, &t);
    assert_true(touches_port(&t, 1));
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n");
}

/* Bad input changes nothing: an invalid node id, a malformed map. */
static void
test_bad_input(void **state)
{
    struct fx *f = *state;
    struct agent_core_options o = {.node = "", .tunnel_port = "vxlan0"};
    assert_null(agent_core_create(&o, 0));
    char err[128] = "";
    assert_int_equal(agent_core_map_answer(f->c, "{\"version\":", 11,
                                           f->now, err, sizeof err),
                     EINVAL);
    assert_true(err[0] != '\0');
    assert_false(f->c->map_loaded);
    assert_int_equal(agent_map_version(f->c->map), 0);
    agent_core_destroy(NULL);
}

/* Relay counters are asked for only while a held entry relays: the
 * request makes the switch walk its whole table. */
static void
test_relay_stats_only_with_relays(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_with_two(f);
    agent_core_request_stats(f->c, f->now);
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 1); /* portsec */
    feed(f, "{\"type\":\"relay\",\"seq\":3,\"vm\":\"vm1\",\"epoch\":1,"
            CFG("1") ",\"target\":\"n2\",\"target_address\":"
            "\"198.18.0.2\",\"target_epoch\":2}\n");
    agent_core_request_stats(f->c, f->now);
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 2);
    /* The relay's counters by its exact cookie (the switch looks that up
     * by index; a masked cookie makes it walk every flow). */
    size_t k = FSW_MAX;
    for (size_t i = 0; i < t.n; i++) {
        if (t.type[i] == OFPT_MULTIPART_REQUEST
            && t.cookie_mask[i] == UINT64_MAX) {
            assert_int_equal(k, FSW_MAX); /* only one */
            k = i;
        }
    }
    assert_int_not_equal(k, FSW_MAX);
    assert_int_equal(t.cookie[k], pl_cookie(PL_K_RELAY, "vm1"));
    /* Its reply counts what the relay carried, and the next round only
     * what it carried since. */
    struct flowtab *relay = flowtab_create();
    struct flowtab_flow fl = {.table = PL_T_FROM_TUN, .priority = 150,
                              .cookie = pl_cookie(PL_K_RELAY, "vm1")};
    ofp_match_init(&fl.match);
    ofp_instructions_init(&fl.insts);
    flowtab_put(relay, &fl);
    uint64_t before = f->c->relayed_packets;
    sw_relay_stats(f, t.xid[k], relay, 7);
    assert_int_equal(f->c->relayed_packets - before, 7);
    assert_int_equal(f->c->relay_flows, 1);
    agent_core_request_stats(f->c, f->now);
    sw_take(f, &t);
    for (size_t i = 0; i < t.n; i++) {
        if (t.cookie_mask[i] == UINT64_MAX) {
            sw_relay_stats(f, t.xid[i], relay, 10);
        }
    }
    assert_int_equal(f->c->relayed_packets - before, 10);
    ofp_instructions_destroy(&fl.insts);
    flowtab_destroy(relay);
}

/* ---- The migration lifecycle (docs/agent-protocol.md) ---- */

/* vm1 lives on n2 per the map: a copy held here inactive follows it. */
#define MAP_VM1_N2                                                           \
    "{\"version\": 8, \"full\": true, \"entries\": ["                        \
    "{\"vm\": \"vm1\", \"version\": 8, \"removed\": false, \"node\": \"n2\"," \
    " \"address\": \"198.18.0.2\", \"epoch\": 1,"                            \
    " \"mac\": \"02:00:00:00:00:01\", \"ip\": \"198.18.1.1\"}]}"
#define INSTALL_X(SEQ, VM, EPOCH, N, EXTRA)                                  \
    "{\"type\":\"install\",\"seq\":" SEQ ",\"vm\":\"" VM "\",\"epoch\":"     \
    EPOCH "," CFG(N) EXTRA "}\n"
#define WATCHED ",\"inactive\":true,\"activate_on_frame\":true"
#define ACTIVATED_VM1_2 "{\"type\":\"activated\",\"vm\":\"vm1\",\"epoch\":2}\n"

struct kind_count {
    uint64_t cookie;
    int table;        /* -1: any */
    uint64_t in_port; /* 0: any */
    size_t n;
};

static void
count_kind_cb(void *aux, const struct flowtab_flow *fl)
{
    struct kind_count *k = aux;
    uint64_t port = 0;
    if (fl->cookie != k->cookie || (k->table >= 0 && fl->table != k->table)) {
        return;
    }
    (void) ofp_match_get(&fl->match, OFP_F_IN_PORT, &port, NULL);
    k->n += !k->in_port || port == k->in_port;
}

/* Installed flows of 'kind' for 'vm' in 'table' (-1: any) matching
 * 'in_port' (0: any). */
static size_t
n_installed(struct fx *f, enum pl_kind kind, const char *vm, int table,
            uint64_t in_port)
{
    struct kind_count k = {pl_cookie(kind, vm), table, in_port, 0};
    flowtab_walk(f->c->installed, count_kind_cb, &k);
    return k.n;
}

/* The switch reports a frame that entered on 'port' and hit a flow with
 * cookie 'cookie'. */
static void
sw_packet_in(struct fx *f, uint32_t port, uint64_t cookie)
{
    static const uint8_t rarp[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0x02, 0, 0, 0, 0, 0x01, 0x80, 0x35};
    struct ofp_msg pi;
    ofp_msg_init(&pi, OFPT_PACKET_IN, 0);
    pi.packet_in.buffer_id = UINT32_MAX;
    pi.packet_in.reason = 1; /* OFPR_ACTION */
    pi.packet_in.cookie = cookie;
    pi.packet_in.total_len = sizeof rarp;
    ofp_match_set(&pi.packet_in.match, OFP_F_IN_PORT, port);
    pi.packet_in.data = rarp;
    pi.packet_in.data_len = sizeof rarp;
    sw_send(f, &pi);
}

/* Instructions 'text' are applied, their batch confirmed; the channel
 * then carries exactly 'want'. */
static void
confirmed(struct fx *f, const char *text, const char *want)
{
    struct taken t;
    feed(f, text);
    run_batch(f, &t);
    barrier_reply(f, &t, want);
}

/* Up, and the map says vm1 is on n2. */
static void
up_map_vm1_n2(struct fx *f)
{
    char err[128];
    up(f);
    assert_int_equal(agent_core_map_answer(f->c, MAP_VM1_N2,
                                           strlen(MAP_VM1_N2), f->now, err,
                                           sizeof err),
                     0);
}

/* vm1 held inactive at epoch 2, watched, vm1 on n2 per the map: the
 * install is confirmed and acknowledged. */
static void
up_inactive_vm1(struct fx *f)
{
    up_map_vm1_n2(f);
    confirmed(f, INSTALL_X("1", "vm1", "2", "1", WATCHED),
              "{\"type\":\"ack\",\"seq\":1}\n"
                         "{\"type\":\"refresh\",\"version\":8}\n");
}

/* The packet_outs in 't' to 'port' with EtherType 0x88b5. */
static size_t
primes_to(const struct taken *t, uint32_t port)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        n += t->type[i] == OFPT_PACKET_OUT && t->out_port[i] == port
             && t->ethertype[i] == 0x88b5;
    }
    return n;
}

/* (L0) A prepared copy's port gets one frame of the agent's own first, so
 * a hypervisor that swallows the first frame before the VM runs (QEMU's
 * incoming side) swallows that one; once per copy, again for a newer one;
 * never for an active entry. */
static void
test_prepared_port_primed(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_map_vm1_n2(f);
    feed(f, INSTALL_X("1", "vm1", "2", "1", WATCHED));
    run_batch(f, &t);
    assert_int_equal(primes_to(&t, 1), 1);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n"
                         "{\"type\":\"refresh\",\"version\":8}\n");
    /* The same copy again (a resync's install): not primed twice. */
    feed(f, INSTALL_X("2", "vm1", "2", "1", WATCHED));
    run_batch(f, &t);
    assert_int_equal(primes_to(&t, 1), 0);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
    /* A newer prepared copy (another migration here): primed. */
    feed(f, INSTALL_X("3", "vm1", "4", "1", WATCHED));
    run_batch(f, &t);
    assert_int_equal(primes_to(&t, 1), 1);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":3}\n");
    /* An active entry's port: nothing. */
    feed(f, INSTALL("4", "vm2", "1", "2"));
    run_batch(f, &t);
    assert_int_equal(primes_to(&t, 2), 0);
    assert_int_equal(f->c->primes_sent, 2);
}

/* (L1) An inactive install attracts nothing: no delivery to the VM's
 * port from local senders, no classify of it, no ARP answer; local
 * senders still reach the VM where the map says; the port's frames only
 * go to the agent.  Only what the overlay brings (nobody tunnels the VM
 * here before the switch-over, whose relay may land before the install
 * that activates the copy) is delivered to the port. */
static void
test_inactive_install_no_delivery(void **state)
{
    struct fx *f = *state;
    up_inactive_vm1(f);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_FROM_VM, 0), 0);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_FROM_TUN, 0),
                     1);
    assert_int_equal(n_installed(f, PL_K_REMOTE, "vm1", PL_T_FROM_VM, 0),
                     1);
    assert_int_equal(n_installed(f, PL_K_ACTIVATE, "vm1", PL_T_CLASSIFY,
                                 1),
                     1);
    const struct flowtab_flow *w = NULL;
    struct ofp_match m;
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 1);
    w = flowtab_find(f->c->installed, PL_T_CLASSIFY, 100, &m);
    assert_non_null(w);
    assert_false(w->insts.present & OFP_INST_GOTO); /* to the agent only */
    /* Without activate_on_frame: not even the watch. */
    struct taken t;
    feed(f, INSTALL_X("2", "vm2", "1", "2", ",\"inactive\":true"));
    run_batch(f, &t);
    assert_false(touches_port(&t, 2));
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
    /* The same epoch without 'inactive': the controller's switch-over
     * activates it. */
    feed(f, INSTALL_X("3", "vm2", "1", "2", ""));
    run_batch(f, &t);
    assert_true(touches_port(&t, 2));
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm2", PL_T_FROM_TUN, 0),
                     1);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":3}\n");
}

/* (L2) The first frame from the watched port activates the VM at once
 * (local delivery, the watch gone) and 'activated' goes at once, before
 * the switch confirmed that batch (the source's relay must not wait for
 * it) -- once: neither the barrier nor a late second punt repeats it. */
static void
test_first_frame_activates(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_inactive_vm1(f);
    sw_packet_in(f, 2, pl_cookie(PL_K_ACTIVATE, "vm2")); /* not watched */
    run(f, 1, &t);
    assert_int_equal(t.n, 0);
    sw_packet_in(f, 1, pl_cookie(PL_K_ACTIVATE, "vm1"));
    expect_chan(f, ACTIVATED_VM1_2); /* at the frame, not at the barrier */
    run_batch(f, &t);
    assert_true(count_mods(&t, OFPFC_ADD) > 0);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_FROM_TUN, 0),
                     1);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_CLASSIFY, 1),
                     1);
    assert_int_equal(n_installed(f, PL_K_ACTIVATE, "vm1", -1, 0), 0);
    barrier_reply(f, &t, "");
    sw_packet_in(f, 1, pl_cookie(PL_K_ACTIVATE, "vm1"));
    run(f, 1, &t);
    assert_int_equal(t.n, 0);
    expect_chan(f, "");
    assert_int_equal(f->c->activation_punts, 3);
    struct chan_client_stats cs;
    chan_client_get_stats(f->c->chan, &cs);
    assert_int_equal(cs.activations, 1);
    assert_int_equal(cs.activated_sent, 1);
}

/* (L3) After a reconnection 'activated' goes again -- also when the
 * resync still says inactive (mignetd had not heard it): the activation
 * sticks for its epoch -- until an install of that epoch comes without
 * activate_on_frame. */
static void
test_activated_resent_after_reconnect(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_inactive_vm1(f);
    sw_packet_in(f, 1, pl_cookie(PL_K_ACTIVATE, "vm1"));
    run_batch(f, &t);
    barrier_reply(f, &t, ACTIVATED_VM1_2);
    size_t n_flows = flowtab_count(f->c->installed);

    agent_core_chan_disconnected(f->c, f->now);
    chan_connect(f);
    feed(f, "{\"type\":\"resync_begin\",\"seq\":0}\n"
            INSTALL_X("1", "vm1", "2", "1", WATCHED)
            "{\"type\":\"resync_end\",\"seq\":1}\n");
    run_batch(f, &t);
    assert_int_equal(count(&t, OFPT_FLOW_MOD), 0); /* still active */
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n"
                         "{\"type\":\"refresh\",\"version\":8}\n"
                         ACTIVATED_VM1_2);
    assert_int_equal(flowtab_count(f->c->installed), n_flows);

    /* Reconnected without a resync: the welcome alone brings it. */
    agent_core_chan_disconnected(f->c, f->now);
    chan_connect(f);
    run_batch(f, &t);
    barrier_reply(f, &t, "{\"type\":\"refresh\",\"version\":8}\n"
                         ACTIVATED_VM1_2);

    /* mignetd's switch-over install: heard, no more reports. */
    confirmed(f, INSTALL_X("1", "vm1", "2", "1", ""),
              "{\"type\":\"ack\",\"seq\":1}\n");
    agent_core_chan_disconnected(f->c, f->now);
    chan_connect(f);
    confirmed(f, "{\"type\":\"resync_begin\",\"seq\":0}\n"
            INSTALL_X("1", "vm1", "2", "1", "")
            "{\"type\":\"resync_end\",\"seq\":1}\n",
              "{\"type\":\"ack\",\"seq\":1}\n"
                         "{\"type\":\"refresh\",\"version\":8}\n");
}

/* (L4) A relay keeps the VM's own port configuration -- classify and
 * port security -- while its port is still on this node (the VM may
 * still run here); the overlay delivery becomes the relay. */
static void
test_relay_keeps_port_egress(void **state)
{
    struct fx *f = *state;
    up(f);
    confirmed(f, INSTALL_X("1", "vm1", "1", "1",
                      ",\"binding\":{\"id\":3,\"node\":\"n1\","
                      "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\","
                      "\"type\":\"static\",\"origin\":\"manager\"}"),
              "{\"type\":\"ack\",\"seq\":1}\n");
    size_t portsec = n_installed(f, PL_K_PORTSEC, "vm1", PL_T_PORTSEC, 1);
    assert_true(portsec > 0);
    confirmed(f, "{\"type\":\"relay\",\"seq\":2,\"vm\":\"vm1\",\"epoch\":1,"
            CFG("1") ",\"target\":\"n2\",\"target_address\":\"198.18.0.2\","
            "\"target_epoch\":2}\n",
              "{\"type\":\"ack\",\"seq\":2}\n");
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_CLASSIFY, 1),
                     1);
    assert_int_equal(n_installed(f, PL_K_PORTSEC, "vm1", PL_T_PORTSEC, 1),
                     portsec);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_FROM_TUN, 0),
                     0);
    assert_int_equal(n_installed(f, PL_K_RELAY, "vm1", -1, 0), 2);
}

/* vm1 is no longer held, nor watched: senders here follow the map. */
static void
expect_gone_to_map(struct fx *f)
{
    assert_null(chan_client_find(f->c->chan, "vm1"));
    assert_int_equal(n_installed(f, PL_K_ACTIVATE, "vm1", -1, 0), 0);
    assert_int_equal(n_installed(f, PL_K_REMOTE, "vm1", PL_T_FROM_VM, 0),
                     1);
}

/* (L5) DELETE of an inactive copy (an abort) removes it, watch and all;
 * the VM's map entry stays. */
static void
test_delete_inactive_copy(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_inactive_vm1(f);
    feed(f, "{\"type\":\"delete\",\"seq\":2,\"vm\":\"vm1\",\"epoch\":2,"
            CFG("1") "}\n");
    run_batch(f, &t);
    /* The watch and the overlay delivery to its port. */
    assert_int_equal(count_mods(&t, OFPFC_DELETE_STRICT), 2);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
    expect_gone_to_map(f);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", -1, 0), 0);
    /* A frame punted before the delete took effect activates nothing. */
    sw_packet_in(f, 1, pl_cookie(PL_K_ACTIVATE, "vm1"));
    run(f, 1, &t);
    assert_int_equal(t.n, 0);
    expect_chan(f, "");
}

/* (L6) An active install that watches (lossless): the port forwards as
 * usual and sends its frames to the agent too; the first one is reported
 * and the watch goes, delivery untouched. */
static void
test_active_watch_keeps_forwarding(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up(f);
    confirmed(f,
              INSTALL_X("1", "vm1", "2", "1", ",\"activate_on_frame\":true"),
              "{\"type\":\"ack\",\"seq\":1}\n");
    struct ofp_match m;
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 1);
    const struct flowtab_flow *c =
        flowtab_find(f->c->installed, PL_T_CLASSIFY, 100, &m);
    assert_non_null(c);
    assert_int_equal(c->cookie, pl_cookie(PL_K_ACTIVATE, "vm1"));
    assert_true(c->insts.present & OFP_INST_GOTO);
    assert_int_equal(c->insts.goto_table, PL_T_PORTSEC);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_FROM_TUN, 0),
                     1);
    sw_packet_in(f, 1, pl_cookie(PL_K_ACTIVATE, "vm1"));
    run_batch(f, &t);
    assert_int_equal(count_mods(&t, OFPFC_ADD)
                         + count_mods(&t, OFPFC_MODIFY_STRICT),
                     1); /* the classify flow, without the copy */
    barrier_reply(f, &t, ACTIVATED_VM1_2);
}

/* ---- An inactive install over a relay (a VM migrating back) ---- */

#define RELAY_VM1(SEQ, EPOCH, TARGET, ADDR)                                 \
    "{\"type\":\"relay\",\"seq\":" SEQ ",\"vm\":\"vm1\",\"epoch\":" EPOCH  \
    "," CFG("1") ",\"target\":\"" TARGET "\",\"target_address\":\"" ADDR  \
    "\",\"target_epoch\":2}\n"
#define ACTIVATED_VM1_3 "{\"type\":\"activated\",\"vm\":\"vm1\",\"epoch\":3}\n"

struct peer_find {
    uint64_t cookie;
    int table;
    uint64_t peer; /* the tunnel destination its first action sets */
    uint64_t eth_dst; /* the MAC it matches */
    size_t n;
};

static void
peer_find_cb(void *aux, const struct flowtab_flow *fl)
{
    struct peer_find *p = aux;
    if (fl->cookie == p->cookie && fl->table == p->table
        && fl->insts.apply.n > 0
        && fl->insts.apply.a[0].type == OFP_ACT_SET_FIELD
        && fl->insts.apply.a[0].set_field.field == OFP_F_TUN_IPV4_DST) {
        p->peer = fl->insts.apply.a[0].set_field.value;
        (void) ofp_match_get(&fl->match, OFP_F_ETH_DST, &p->eth_dst, NULL);
        p->n++;
    }
}

/* Where vm1's installed relay flow in 'table' tunnels to (0: none), and
 * the MAC it matches in '*mac' (if not NULL). */
static uint64_t
relay_flow(struct fx *f, int table, uint64_t *mac)
{
    struct peer_find p = {pl_cookie(PL_K_RELAY, "vm1"), table, 0, 0, 0};
    flowtab_walk(f->c->installed, peer_find_cb, &p);
    assert_true(p.n <= 1);
    if (mac) {
        *mac = p.eth_dst;
    }
    return p.peer;
}

static uint64_t
relay_peer(struct fx *f, int table)
{
    return relay_flow(f, table, NULL);
}

/* vm1 migrated n1 -> n2 (epoch 1 relays to n2, vm1 on n2 per the map)
 * and now migrates back: the inactive, watched install of epoch 3 is
 * confirmed and acknowledged (seq 3). */
static void
up_back_to_n1(struct fx *f)
{
    up_map_vm1_n2(f);
    confirmed(f, INSTALL("1", "vm1", "1", "1")
                     RELAY_VM1("2", "1", "n2", "198.18.0.2"),
              "{\"type\":\"ack\",\"seq\":2}\n"
              "{\"type\":\"refresh\",\"version\":8}\n");
    assert_int_equal(relay_peer(f, PL_T_FROM_VM), 0xc6120002);
    assert_int_equal(f->c->primes_sent, 0); /* an active entry's port */
    confirmed(f, INSTALL_X("3", "vm1", "3", "1", WATCHED),
              "{\"type\":\"ack\",\"seq\":3}\n");
    assert_int_equal(n_installed(f, PL_K_RELAY, "vm1", -1, 0), 2);
    /* The prepared copy's port is primed under the inherited relay too. */
    assert_int_equal(f->c->primes_sent, 1);
}

/* (R1) The inactive install keeps the relay it replaces: local senders
 * with a stale map and overlay packets from stale nodes still go to n2;
 * the VM's port attracts nothing but the watch.  The pending deletion of
 * the old snapshot (epoch 1) is refused and changes nothing; a relay of
 * epoch 1 retargets the inherited relay -- only while an inactive entry
 * holds it. */
static void
test_inactive_over_relay_keeps_it(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_back_to_n1(f);
    const struct chan_entry *e = chan_client_find(f->c->chan, "vm1");
    assert_int_equal(e->epoch, 3);
    assert_true(e->inactive && e->relay);
    assert_int_equal(e->relay_epoch, 1);
    assert_int_equal(relay_peer(f, PL_T_FROM_VM), 0xc6120002);
    assert_int_equal(relay_peer(f, PL_T_FROM_TUN), 0xc6120002);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", -1, 0), 0);
    assert_int_equal(n_installed(f, PL_K_ACTIVATE, "vm1", PL_T_CLASSIFY,
                                 1),
                     1);
    size_t n_flows = flowtab_count(f->c->installed);

    feed(f, "{\"type\":\"delete\",\"seq\":4,\"vm\":\"vm1\",\"epoch\":1,"
            CFG("1") "}\n");
    expect_chan(f, "{\"type\":\"refused\",\"seq\":4,\"vm\":\"vm1\","
                   "\"epoch\":1,\"held_epoch\":3}\n");
    run_batch(f, &t);
    assert_int_equal(t.n, 1); /* the barrier alone */
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":4}\n");
    assert_int_equal(flowtab_count(f->c->installed), n_flows);

    confirmed(f, RELAY_VM1("5", "1", "n3", "198.18.0.3"),
              "{\"type\":\"ack\",\"seq\":5}\n");
    e = chan_client_find(f->c->chan, "vm1");
    assert_string_equal(e->target, "n3");
    assert_int_equal(e->epoch, 3);
    assert_true(e->inactive);
    assert_int_equal(relay_peer(f, PL_T_FROM_VM), 0xc6120003);
    assert_int_equal(relay_peer(f, PL_T_FROM_TUN), 0xc6120003);

    /* vm2 held active, replaced by an inactive install: nothing to
     * inherit, and a relay of its old epoch is refused. */
    confirmed(f, INSTALL("6", "vm2", "1", "2")
                     INSTALL_X("7", "vm2", "3", "2", ",\"inactive\":true"),
              "{\"type\":\"ack\",\"seq\":7}\n");
    feed(f, "{\"type\":\"relay\",\"seq\":8,\"vm\":\"vm2\",\"epoch\":1,"
            CFG("2") ",\"target\":\"n2\",\"target_address\":"
            "\"198.18.0.2\",\"target_epoch\":2}\n");
    expect_chan(f, "{\"type\":\"refused\",\"seq\":8,\"vm\":\"vm2\","
                   "\"epoch\":1,\"held_epoch\":3}\n");
    assert_false(chan_client_find(f->c->chan, "vm2")->relay);

    /* The VM resumes here: its first frame activates it, local delivery
     * replaces the relay. */
    sw_packet_in(f, 1, pl_cookie(PL_K_ACTIVATE, "vm1"));
    run_batch(f, &t);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":8}\n" ACTIVATED_VM1_3);
    assert_false(chan_client_find(f->c->chan, "vm1")->relay);
    assert_int_equal(n_installed(f, PL_K_RELAY, "vm1", -1, 0), 0);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_FROM_TUN, 0),
                     1);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_CLASSIFY, 1),
                     1);
}

/* (R2) The controller's activating install (epoch 3, not inactive):
 * local delivery replaces the inherited relay; the pending deletion of
 * epoch 1 sent just before it changes nothing. */
static void
test_inherited_relay_ends_at_activation(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_back_to_n1(f);
    feed(f, "{\"type\":\"delete\",\"seq\":4,\"vm\":\"vm1\",\"epoch\":1,"
            CFG("1") "}\n"
            INSTALL_X("5", "vm1", "3", "1", ""));
    expect_chan(f, "{\"type\":\"refused\",\"seq\":4,\"vm\":\"vm1\","
                   "\"epoch\":1,\"held_epoch\":3}\n");
    run_batch(f, &t);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":5}\n");
    const struct chan_entry *e = chan_client_find(f->c->chan, "vm1");
    assert_int_equal(e->epoch, 3);
    assert_false(e->inactive || e->relay);
    assert_int_equal(n_installed(f, PL_K_RELAY, "vm1", -1, 0), 0);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_FROM_VM, 0),
                     1);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_FROM_TUN, 0),
                     1);
    /* A relay of epoch 1 no longer names anything held. */
    feed(f, RELAY_VM1("6", "1", "n3", "198.18.0.3"));
    expect_chan(f, "{\"type\":\"refused\",\"seq\":6,\"vm\":\"vm1\","
                   "\"epoch\":1,\"held_epoch\":3}\n");
}

/* (R3) A delete of the inactive entry's epoch (an abort of the way back)
 * removes it all, the inherited relay included: the map's forwarding
 * is left. */
static void
test_inherited_relay_deleted_with_entry(void **state)
{
    struct fx *f = *state;
    up_back_to_n1(f);
    confirmed(f, "{\"type\":\"delete\",\"seq\":4,\"vm\":\"vm1\","
                 "\"epoch\":3," CFG("1") "}\n",
              "{\"type\":\"ack\",\"seq\":4}\n");
    assert_int_equal(n_installed(f, PL_K_RELAY, "vm1", -1, 0), 0);
    expect_gone_to_map(f);
}

/* (R4) After a reconnection the controller resyncs such a node with the
 * snapshot (install + relay of epoch 1) then the inactive install of
 * epoch 3: the same entry and the same flows, not one flow_mod. */
static void
test_inherited_relay_resync(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_back_to_n1(f);
    size_t n_flows = flowtab_count(f->c->installed);
    agent_core_chan_disconnected(f->c, f->now);
    chan_connect(f);
    feed(f, "{\"type\":\"resync_begin\",\"seq\":0}\n"
            INSTALL("1", "vm1", "1", "1")
            RELAY_VM1("2", "1", "n2", "198.18.0.2")
            INSTALL_X("3", "vm1", "3", "1", WATCHED)
            "{\"type\":\"resync_end\",\"seq\":4}\n");
    run_batch(f, &t);
    assert_int_equal(count(&t, OFPT_FLOW_MOD), 0);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":4}\n"
                         "{\"type\":\"refresh\",\"version\":8}\n");
    assert_int_equal(flowtab_count(f->c->installed), n_flows);
    const struct chan_entry *e = chan_client_find(f->c->chan, "vm1");
    assert_int_equal(e->epoch, 3);
    assert_true(e->inactive && e->relay);
    assert_int_equal(e->relay_epoch, 1);
    assert_string_equal(e->target, "n2");
    assert_int_equal(relay_peer(f, PL_T_FROM_TUN), 0xc6120002);
}

/* (R5) The inherited relay forwards as the snapshot did, whatever the
 * new install says (here another MAC): stale senders know the old one.
 * A further inactive install inherits the same relay, which a relay of
 * the snapshot's epoch still retargets. */
static void
test_inherited_relay_is_the_snapshots(void **state)
{
    struct fx *f = *state;
    uint64_t mac = 0;
    up(f);
    confirmed(f, INSTALL("1", "vm1", "1", "1")
                     RELAY_VM1("2", "1", "n2", "198.18.0.2")
                     INSTALL_X("3", "vm1", "3", "5", WATCHED),
              "{\"type\":\"ack\",\"seq\":3}\n");
    for (int table = PL_T_FROM_VM; table <= PL_T_FROM_TUN; table += 10) {
        assert_int_equal(relay_flow(f, table, &mac), 0xc6120002);
        assert_int_equal(mac, 0x020000000001);
    }
    confirmed(f, INSTALL_X("4", "vm1", "5", "5", WATCHED)
                     RELAY_VM1("5", "1", "n3", "198.18.0.3"),
              "{\"type\":\"ack\",\"seq\":5}\n");
    const struct chan_entry *e = chan_client_find(f->c->chan, "vm1");
    assert_int_equal(e->epoch, 5);
    assert_int_equal(e->relay_epoch, 1);
    assert_int_equal(relay_flow(f, PL_T_FROM_TUN, &mac), 0xc6120003);
    assert_int_equal(mac, 0x020000000001);
    assert_int_equal(n_installed(f, PL_K_RELAY, "vm1", -1, 0), 2);
}

/* (L7) With --ovsdb, a VM's port is the interface whose
 * external_ids:iface-id is the install's iface_id (else the VM id), on
 * this bridge (the Interface table spans every bridge); without such an
 * interface, the port named like the VM. */
static void
test_port_by_iface_id(void **state)
{
    struct fx *f = *state;
    struct taken t;
    agent_core_destroy(f->c);
    struct agent_core_options o = {
        .node = "n1", .tunnel_port = "vxlan0",
        .dhcp_snoop = AGENT_SNOOP_OFF, .ovsdb = true,
    };
    f->c = agent_core_create(&o, f->now);
    up(f);
    agent_core_ovsdb_connected(f->c, f->now);
    assert_non_null(strstr(strbuf_str(agent_core_ovsdb_output(f->c)),
                           "\"method\":\"monitor\""));
    strbuf_clear(agent_core_ovsdb_output(f->c));
    /* aa-other carries the iface-id too, on another bridge of this Open
     * vSwitch (its ofport 1 is vm1 here): not this bridge's port. */
    static const char rows[] =
        "{\"id\":\"mignet-iface\",\"error\":null,\"result\":{\"Interface\":"
        "{\"u1\":{\"new\":{\"name\":\"tap-x\",\"ofport\":3,\"external_ids\":"
        "[\"map\",[[\"iface-id\",\"5f1c-vm1\"]]]}},"
        "\"u0\":{\"new\":{\"name\":\"aa-other\",\"ofport\":1,"
        "\"external_ids\":[\"map\",[[\"iface-id\",\"5f1c-vm1\"]]]}}}}}";
    assert_int_equal(agent_core_ovsdb_receive(f->c, rows, strlen(rows),
                                              f->now),
                     0);
    confirmed(f, INSTALL_X("1", "vm1", "1", "1",
                           ",\"iface_id\":\"5f1c-vm1\""),
              "{\"type\":\"ack\",\"seq\":1}\n");
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_CLASSIFY, 3),
                     1);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_CLASSIFY, 1),
                     0);
    /* The interface loses the iface-id: the port named vm1 it is. */
    static const char upd[] =
        "{\"id\":null,\"method\":\"update\",\"params\":[\"mignet-iface\","
        "{\"Interface\":{\"u1\":{\"new\":{\"name\":\"tap-x\",\"ofport\":3,"
        "\"external_ids\":[\"map\",[]]}}}}]}";
    assert_int_equal(agent_core_ovsdb_receive(f->c, upd, strlen(upd),
                                              f->now),
                     0);
    run_batch(f, &t);
    assert_true(touches_port(&t, 1));
    assert_true(touches_port(&t, 3));
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_CLASSIFY, 1),
                     1);
    assert_int_equal(n_installed(f, PL_K_LOCAL, "vm1", PL_T_CLASSIFY, 3),
                     0);
    /* A malformed message is refused and changes nothing. */
    assert_int_equal(agent_core_ovsdb_receive(f->c, "]", 1, f->now),
                     EPROTO);
    assert_int_equal(f->c->ovsdb_errors, 1);
}

/* ---- Tenant virtual switches (agent_vnet.c) ---- */

/* 'line' with "OFP" replaced by the hex of the tenant flow_mod 'text'. */
static void
feed_flow(struct fx *f, const char *line, const char *text)
{
    struct ofp_msg msg;
    char err[160];
    ofp_msg_init(&msg, OFPT_FLOW_MOD, 1);
    assert_int_equal(ofp_parse_flow_mod(text, &msg.flow_mod, err,
                                        sizeof err), 0);
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    assert_int_equal(ofp_encode(&msg, &b), 0);
    char hex[1024] = "";
    for (size_t i = 0; i < b.size && 2 * i + 3 < sizeof hex; i++) {
        snprintf(hex + 2 * i, 3, "%02x", ((const uint8_t *) b.data)[i]);
    }
    const char *at = strstr(line, "OFP");
    assert_non_null(at);
    char buf[2048];
    snprintf(buf, sizeof buf, "%.*s%s%s", (int) (at - line), line, hex,
             at + 3);
    feed(f, buf);
    ofpbuf_uninit(&b);
    ofp_msg_destroy(&msg);
}

#define VNET_BEGIN(SEQ, ACTIVE, FULL)                                        \
    "{\"type\":\"vnet_begin\",\"vswitch\":\"vs1\",\"vni\":100,\"active\":"   \
    ACTIVE ",\"seq\":" SEQ FULL "}\n"
#define VNET_PORT(P, VM)                                                     \
    "{\"type\":\"vnet_port\",\"vswitch\":\"vs1\",\"port\":" P ",\"vm\":\""   \
    VM "\",\"key\":1572864" P "}\n"
#define VNET_FLOW(ID, V)                                                     \
    "{\"type\":\"vnet_flow\",\"vswitch\":\"vs1\",\"id\":" ID                 \
    ",\"version\":" V ",\"ofp\":\"OFP\"}\n"
#define VNET_END(SEQ)                                                        \
    "{\"type\":\"vnet_end\",\"vswitch\":\"vs1\",\"seq\":" SEQ "}\n"

/* Installed flows whose cookie's kind is 'kind'. */
struct kind_only {
    uint64_t kind;
    size_t n;
};

static void
count_kind_only(void *aux, const struct flowtab_flow *fl)
{
    struct kind_only *k = aux;
    k->n += (fl->cookie & PL_COOKIE_KIND_MASK) == k->kind;
}

static size_t
n_kind(struct fx *f, enum pl_kind kind)
{
    struct kind_only k = {pl_cookie_kind(kind), 0};
    flowtab_walk(f->c->installed, count_kind_only, &k);
    return k.n;
}

/* With vm1 (port 1) and vm2 (port 2) here: vs1 pushed, tenant ports 1, 2
 * are vm1, vm2; flow 1 of version 4 floods. */
static void
up_vnet_pushed(struct fx *f)
{
    struct taken t;
    feed(f, VNET_BEGIN("3", "4", ",\"full\":true") VNET_PORT("1", "vm1")
                VNET_PORT("2", "vm2"));
    feed_flow(f, VNET_FLOW("1", "4"), "add priority=0 actions=output:FLOOD");
    feed(f, VNET_END("3"));
    expect_chan(f, ""); /* nothing before the barrier */
    run_batch(f, &t);
    /* Two dispatch flows, two deliveries, the tenant flow once per q. */
    assert_int_equal(count_mods(&t, OFPFC_ADD), 6);
    assert_int_equal(n_kind(f, PL_K_VNET_INFRA), 4);
    assert_int_equal(n_kind(f, PL_K_VNET), 2);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":3}\n");
}

static void
up_vnet(struct fx *f)
{
    up_with_two(f);
    up_vnet_pushed(f);
}

/* (T1) A push is acknowledged by its barrier; one tenant flow more or
 * less costs its own flow_mods, not the switch's. */
static void
test_vnet_push_incremental(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_vnet(f);
    feed(f, VNET_BEGIN("4", "4", "") VNET_PORT("1", "vm1")
                VNET_PORT("2", "vm2"));
    feed_flow(f, VNET_FLOW("2", "4"),
              "add priority=5 in_port=1,eth_type=0x0800 actions=output:2");
    feed(f, VNET_END("4"));
    run_batch(f, &t);
    assert_int_equal(count(&t, OFPT_FLOW_MOD), 1); /* only q = 1 */
    assert_true(t.cookie[0] == pl_vnet_cookie(4, 2));
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":4}\n");
    feed(f, VNET_BEGIN("5", "4", "") VNET_PORT("1", "vm1")
                VNET_PORT("2", "vm2")
            "{\"type\":\"vnet_flow_del\",\"vswitch\":\"vs1\",\"id\":2,"
            "\"version\":4}\n" VNET_END("5"));
    run_batch(f, &t);
    assert_int_equal(count_mods(&t, OFPFC_DELETE_STRICT), 1);
    assert_int_equal(count(&t, OFPT_FLOW_MOD), 1);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":5}\n");
    assert_int_equal(n_kind(f, PL_K_VNET), 2);
    /* The two-phase flip: a new active version moves the dispatch. */
    feed(f, VNET_BEGIN("6", "5", "") VNET_PORT("1", "vm1")
                VNET_PORT("2", "vm2") VNET_END("6"));
    run_batch(f, &t);
    assert_int_equal(count_mods(&t, OFPFC_ADD), 2); /* the dispatches */
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":6}\n");
}

/* (T2) A tenant flow that does not decode: the push is nacked with its
 * OpenFlow error at once and changes nothing. */
static void
test_vnet_bad_flow_nacked(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_vnet(f);
    feed(f, VNET_BEGIN("4", "5", "") VNET_PORT("1", "vm1"));
    feed_flow(f, VNET_FLOW("2", "4"), "add table=1 actions=output:2");
    feed(f, VNET_END("4"));
    expect_chan(f, "{\"type\":\"nack\",\"seq\":4,\"ofp_error\":"
                   "{\"type\":5,\"code\":2}}\n");
    run(f, 1, &t);
    assert_int_equal(count(&t, OFPT_FLOW_MOD), 0);
    assert_int_equal(n_kind(f, PL_K_VNET_INFRA), 4); /* still 2 ports */
}

struct sel_ctx {
    struct flowtab *sel;
    uint64_t cookie, mask;
    int table; /* -1: any */
};

static void
select_cookie(void *aux, const struct flowtab_flow *fl)
{
    struct sel_ctx *c = aux;
    if ((fl->cookie & c->mask) == c->cookie
        && (c->table < 0 || fl->table == c->table)) {
        flowtab_put(c->sel, fl);
    }
}

/* The switch answers counter request 'xid' with its installed flows
 * whose cookie is 'cookie' under 'mask' (in 'table', -1: any), each
 * having counted 'packets'. */
static void
sw_vnet_stats(struct fx *f, uint32_t xid, uint64_t cookie, uint64_t mask,
              int table, uint64_t packets)
{
    struct sel_ctx c = {flowtab_create(), cookie, mask, table};
    flowtab_walk(f->c->installed, select_cookie, &c);
    sw_relay_stats(f, xid, c.sel, packets);
    flowtab_destroy(c.sel);
}

/* The index of the 'nth' (0-based) flow statistics request in 't'. */
static size_t
nth_stats(const struct taken *t, size_t nth)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->type[i] == OFPT_MULTIPART_REQUEST && t->mp_type[i] == OFPMP_FLOW
            && !nth--) {
            return i;
        }
    }
    fail_msg("no flow statistics request");
    return 0;
}

/* (T3) vnet_drop: the version's final counters are asked for before the
 * batch that deletes its flows, reported as final, and the drop is
 * acknowledged by that batch's barrier. */
static void
test_vnet_drop_final_stats(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_vnet(f);
    feed(f, "{\"type\":\"vnet_drop\",\"vswitch\":\"vs1\",\"version\":4,"
            "\"seq\":4}\n");
    run_batch(f, &t);
    size_t infra = nth_stats(&t, 0), flows = nth_stats(&t, 1);
    size_t first_mod = 0;
    while (t.type[first_mod] != OFPT_FLOW_MOD) {
        first_mod++;
    }
    assert_true(flows < first_mod); /* read, then deleted */
    assert_true(t.cookie[flows] == pl_vnet_cookie(4, 0));
    assert_int_equal(count_mods(&t, OFPFC_DELETE_STRICT), 2);
    sw_vnet_stats(f, t.xid[infra], pl_cookie_kind(PL_K_VNET_INFRA),
                  PL_COOKIE_KIND_MASK, PL_T_FROM_VM, 7);
    /* Counters are those the switch held before the deletion. */
    struct ofpbuf b;
    ofpbuf_init(&b, 4096);
    size_t start = ofp_mp_reply_start(&b, t.xid[flows], OFPMP_FLOW, 0);
    struct ofp_flow_stats fs = {.table_id = 40, .priority = 0,
                                .cookie = pl_vnet_cookie(4, 1),
                                .packet_count = 9, .byte_count = 900};
    ofp_match_init(&fs.match);
    ofp_match_set(&fs.match, OFP_F_TUNNEL_ID, 100);
    ofp_match_set_masked(&fs.match, OFP_F_METADATA, 2, 0xffffffff);
    assert_int_equal(ofp_put_flow_stats(&b, &fs), OFPERR_OK);
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    sw_bytes(f, &b);
    ofpbuf_uninit(&b);
    const char *out = strbuf_str(agent_core_chan_output(f->c));
    assert_non_null(strstr(out, "{\"type\":\"vnet_pstat\",\"vswitch\":"
                                "\"vs1\",\"port\":1,\"packets\":7"));
    assert_non_null(strstr(out, "{\"type\":\"vnet_fstat\",\"vswitch\":"
                                "\"vs1\",\"id\":1,\"version\":4,"
                                "\"port\":2,\"packets\":9,\"bytes\":900}"));
    assert_non_null(strstr(out, "{\"type\":\"vnet_stats_end\",\"vswitch\":"
                                "\"vs1\",\"seq\":4,\"final\":true}"));
    assert_null(strstr(out, "\"ack\""));
    strbuf_clear(agent_core_chan_output(f->c));
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":4}\n");
    assert_int_equal(n_kind(f, PL_K_VNET), 0);
    assert_int_equal(n_kind(f, PL_K_VNET_INFRA), 4);
    /* vnet_remove: everything of the switch goes. */
    feed(f, "{\"type\":\"vnet_remove\",\"vswitch\":\"vs1\",\"seq\":5}\n");
    run_batch(f, &t);
    assert_int_equal(count_mods(&t, OFPFC_DELETE_STRICT), 4);
    assert_int_equal(n_kind(f, PL_K_VNET_INFRA), 0);
}

/* (T4) A tenant flow's packet-in goes up with the tenant port from the
 * metadata and the flow's id and version from its cookie; a packet-out
 * leaves through the tenant port's VM's port. */
static void
test_vnet_packet_in_out(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_vnet(f);
    static const uint8_t frame[20] = {0x02, 0, 0, 0, 0, 0x02,
                                      0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
    struct ofp_msg pi;
    ofp_msg_init(&pi, OFPT_PACKET_IN, 0);
    pi.packet_in.buffer_id = UINT32_MAX;
    pi.packet_in.reason = 1;
    pi.packet_in.table_id = 40;
    pi.packet_in.cookie = pl_vnet_cookie(4, 1);
    pi.packet_in.total_len = 60;
    ofp_match_set(&pi.packet_in.match, OFP_F_IN_PORT, 1);
    ofp_match_set(&pi.packet_in.match, OFP_F_TUNNEL_ID, 100);
    ofp_match_set(&pi.packet_in.match, OFP_F_METADATA,
                  pl_vnet_metadata(4, 1));
    pi.packet_in.data = frame;
    pi.packet_in.data_len = sizeof frame;
    sw_send(f, &pi);
    expect_chan(f, "{\"type\":\"vnet_packet_in\",\"vswitch\":\"vs1\","
                   "\"port\":1,\"id\":1,\"version\":4,\"total_len\":60,"
                   "\"frame\":\"02000000000202000000000108000000"
                   "00000000\"}\n");
    /* Not a tenant flow's: not a vnet_packet_in. */
    sw_packet_in(f, 2, pl_cookie(PL_K_LOCAL, "vm2"));
    expect_chan(f, "");
    feed(f, "{\"type\":\"vnet_packet_out\",\"vswitch\":\"vs1\",\"port\":2,"
            "\"frame\":\"0200000000020200000000010800\"}\n");
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_PACKET_OUT), 1);
    assert_int_equal(t.out_port[0], 2);
    /* A port the switch lacks: nothing. */
    feed(f, "{\"type\":\"vnet_packet_out\",\"vswitch\":\"vs1\",\"port\":9,"
            "\"frame\":\"0200000000020200000000010800\"}\n");
    sw_take(f, &t);
    assert_int_equal(t.n, 0);
}

/* (T5) A port's VM leaves the node: its flows' final counters are asked
 * for first, in the batch that removes them. */
static void
test_vnet_port_leaves(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_vnet(f);
    feed(f, "{\"type\":\"delete\",\"seq\":4,\"vm\":\"vm2\",\"epoch\":1,"
         CFG("2") "}\n");
    run_batch(f, &t);
    size_t flows = nth_stats(&t, 1);
    size_t first_mod = 0;
    while (t.type[first_mod] != OFPT_FLOW_MOD) {
        first_mod++;
    }
    assert_true(flows < first_mod);
    /* vm2's dispatch, delivery and tenant flow (q = 2) go; vm1's tenant
     * flow changes (no output to vm2). */
    assert_int_equal(n_kind(f, PL_K_VNET_INFRA), 2);
    assert_int_equal(n_kind(f, PL_K_VNET), 1);
    /* A stats request is answered even with nothing to report. */
    strbuf_clear(agent_core_chan_output(f->c));
    feed(f, "{\"type\":\"vnet_stats_req\",\"vswitch\":\"vs1\",\"seq\":5}\n");
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 2);
    sw_vnet_stats(f, t.xid[0], 0, UINT64_MAX, -1, 0);
    sw_vnet_stats(f, t.xid[1], 0, UINT64_MAX, -1, 0);
    expect_chan(f, "{\"type\":\"vnet_stats_end\",\"vswitch\":\"vs1\","
                   "\"seq\":5}\n");
    /* A switch this node does not hold: the round ends at once. */
    feed(f, "{\"type\":\"vnet_stats_req\",\"vswitch\":\"vs9\",\"seq\":6}\n");
    expect_chan(f, "{\"type\":\"vnet_stats_end\",\"vswitch\":\"vs9\","
                   "\"seq\":6}\n");
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 0);
}

/* (T6) With --vnet-stats-ms the counters of every switch held come by
 * themselves: the dispatch flows', then the tenant flows', then
 * vnet_stats_end {seq 0}; none while no switch is held. */
static void
test_vnet_periodic_stats(void **state)
{
    struct fx *f = *state;
    struct taken t;
    agent_core_destroy(f->c);
    struct agent_core_options o = {
        .node = "n1", .tunnel_port = "vxlan0",
        .dhcp_snoop = AGENT_SNOOP_OFF, .vnet_stats_ms = 100,
    };
    f->c = agent_core_create(&o, f->now);
    up_with_two(f);
    run(f, 200, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 0); /* none held */
    up_vnet_pushed(f);
    assert_true(agent_core_next_wake(f->c) <= f->now + 100 * 1000);
    run(f, 100, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 2);
    size_t infra = nth_stats(&t, 0), flows = nth_stats(&t, 1);
    assert_true(t.cookie[infra] == pl_cookie_kind(PL_K_VNET_INFRA));
    assert_true(t.cookie[flows] == pl_cookie_kind(PL_K_VNET));
    sw_vnet_stats(f, t.xid[infra], pl_cookie_kind(PL_K_VNET_INFRA),
                  PL_COOKIE_KIND_MASK, PL_T_FROM_VM, 3);
    sw_vnet_stats(f, t.xid[flows], pl_cookie_kind(PL_K_VNET),
                  PL_COOKIE_KIND_MASK, -1, 5);
    const char *out = strbuf_str(agent_core_chan_output(f->c));
    assert_non_null(strstr(out, "\"type\":\"vnet_pstat\",\"vswitch\":\"vs1\","
                                "\"port\":2,\"packets\":3"));
    assert_non_null(strstr(out, "\"type\":\"vnet_fstat\",\"vswitch\":\"vs1\","
                                "\"id\":1,\"version\":4,\"port\":1,"
                                "\"packets\":5"));
    assert_non_null(strstr(out, "{\"type\":\"vnet_stats_end\",\"vswitch\":"
                                "\"vs1\",\"seq\":0}\n"));
    assert_null(strstr(out, "final"));
}

/* (T7) A push's seq is mignetd's vnet module's own (from 2^62): it is
 * acknowledged exactly, beside the instructions' cumulative ack, by the
 * barrier of the batch that carries it; a refused batch nacks it with
 * the switch's error, and the resend's barrier does not ack it again. */
static void
test_vnet_seq_apart(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_with_two(f);
    feed(f, VNET_BEGIN("4611686018427387904", "0", ",\"full\":true")
            VNET_PORT("1", "vm1")
            VNET_END("4611686018427387904")
            "{\"type\":\"install\",\"seq\":3,\"vm\":\"vm3\",\"epoch\":1,"
            CFG("3") "}\n");
    run_batch(f, &t);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":3}\n"
                         "{\"type\":\"ack\",\"seq\":4611686018427387904}\n");
    feed(f, VNET_BEGIN("4611686018427387905", "1", "") VNET_PORT("1", "vm1")
            VNET_END("4611686018427387905"));
    run_batch(f, &t);
    sw_error(f, t.xid[0], 5, 1); /* OFPFMFC_TABLE_FULL */
    barrier_reply(f, &t, "{\"type\":\"nack\",\"seq\":4611686018427387905,"
                         "\"ofp_error\":{\"type\":5,\"code\":1}}\n");
    /* The next push goes with the whole table again; only it is
     * acknowledged. */
    feed(f, VNET_BEGIN("4611686018427387906", "1", "") VNET_PORT("1", "vm1")
            VNET_END("4611686018427387906"));
    run_batch(f, &t);
    assert_true(count_mods(&t, OFPFC_ADD) > 4);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":4611686018427387906}\n");
}

/* (T8) A requested round cut by the end of the bridge's connection still
 * ends (mignetd waits for it); a periodic one just stops. */
static void
test_vnet_stats_cut(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_vnet(f);
    feed(f, "{\"type\":\"vnet_stats_req\",\"vswitch\":\"vs1\",\"seq\":7}\n");
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 2);
    expect_chan(f, "");
    agent_core_of_disconnected(f->c, f->now);
    expect_chan(f, "{\"type\":\"vnet_stats_end\",\"vswitch\":\"vs1\","
                   "\"seq\":7}\n");
}

/* The switch answers port statistics request 'xid': each port in 'no'
 * has sent 'tx[i]' packets of 100 bytes. */
static void
sw_port_tx(struct fx *f, uint32_t xid, const uint32_t *no,
           const uint64_t *tx, size_t n)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 1024);
    size_t start = ofp_mp_reply_start(&b, xid, OFPMP_PORT_STATS, 0);
    for (size_t i = 0; i < n; i++) {
        struct ofp_port_stats ps = {.port_no = no[i], .tx_packets = tx[i],
                                    .tx_bytes = tx[i] * 100,
                                    .rx_packets = 1000};
        ofp_put_port_stats(&b, &ps);
    }
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    sw_bytes(f, &b);
    ofpbuf_uninit(&b);
}

/* The index of the port statistics request for 'port' in 't', or fails. */
static size_t
port_req(const struct taken *t, uint32_t port)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->type[i] == OFPT_MULTIPART_REQUEST
            && t->mp_type[i] == OFPMP_PORT_STATS && t->mp_port[i] == port) {
            return i;
        }
    }
    fail_msg("no port statistics request for port %u", port);
    return 0;
}

static size_t
first_flow_mod(const struct taken *t)
{
    size_t i = 0;
    while (i < t->n && t->type[i] != OFPT_FLOW_MOD) {
        i++;
    }
    return i;
}

/* (T10) A tenant port's tx is what Open vSwitch delivered to its VM's
 * interface here, counted from a base read before the batch that begins
 * to deliver to it; it is read at once when the interface's link goes
 * down; a port whose VM leaves has its last tx read before its flows go,
 * and is read no more. */
static void
test_vnet_port_tx(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_with_two(f);
    feed(f, VNET_BEGIN("3", "4", ",\"full\":true") VNET_PORT("1", "vm1")
                VNET_PORT("2", "vm2"));
    feed_flow(f, VNET_FLOW("1", "4"), "add priority=0 actions=output:FLOOD");
    feed(f, VNET_END("3"));
    run_batch(f, &t);
    size_t b1 = port_req(&t, 1), b2 = port_req(&t, 2);
    assert_true(b1 < first_flow_mod(&t) && b2 < first_flow_mod(&t));
    /* Before this node delivered to them, vm1's interface had sent 100
     * (DHCP, anything), vm2's 7. */
    sw_port_tx(f, t.xid[b1], (uint32_t[]){1}, (uint64_t[]){100}, 1);
    sw_port_tx(f, t.xid[b2], (uint32_t[]){2}, (uint64_t[]){7}, 1);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":3}\n");

    feed(f, "{\"type\":\"vnet_stats_req\",\"vswitch\":\"vs1\",\"seq\":5}\n");
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 3);
    size_t all = port_req(&t, OFPP_ANY);
    assert_true(all < nth_stats(&t, 1)); /* before the round's end */
    /* vm1's interface 130 (30 delivered), vm2's 7, tap-x (no tenant
     * port) 999. */
    sw_port_tx(f, t.xid[all], (uint32_t[]){1, 2, 3},
               (uint64_t[]){130, 7, 999}, 3);
    sw_vnet_stats(f, t.xid[nth_stats(&t, 0)], 0, UINT64_MAX, -1, 0);
    sw_vnet_stats(f, t.xid[nth_stats(&t, 1)], 0, UINT64_MAX, -1, 0);
    expect_chan(f, "{\"type\":\"vnet_ptx\",\"vswitch\":\"vs1\",\"port\":1,"
                   "\"packets\":30,\"bytes\":3000}\n"
                   "{\"type\":\"vnet_ptx\",\"vswitch\":\"vs1\",\"port\":2,"
                   "\"packets\":0,\"bytes\":0}\n"
                   "{\"type\":\"vnet_stats_end\",\"vswitch\":\"vs1\","
                   "\"seq\":5}\n");

    /* vm1's link goes down (paused; its tap may go at once): its tx is
     * read now, that interface alone. */
    struct ofp_msg ps;
    ofp_msg_init(&ps, OFPT_PORT_STATUS, 0);
    ps.port_status.reason = OFPPR_MODIFY;
    ps.port_status.desc.port_no = 1;
    snprintf(ps.port_status.desc.name, sizeof ps.port_status.desc.name,
             "vm1");
    ps.port_status.desc.state = OFPPS_LINK_DOWN;
    sw_send(f, &ps);
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 1);
    sw_port_tx(f, t.xid[port_req(&t, 1)], (uint32_t[]){1},
               (uint64_t[]){135}, 1);
    expect_chan(f, "{\"type\":\"vnet_ptx\",\"vswitch\":\"vs1\",\"port\":1,"
                   "\"packets\":35,\"bytes\":3500}\n");
    ps.port_status.desc.state = 0; /* back: nothing to read */
    sw_send(f, &ps);
    sw_take(f, &t);
    assert_int_equal(count(&t, OFPT_MULTIPART_REQUEST), 0);

    /* vm2 leaves: its last tx is read before the batch removes it. */
    feed(f, "{\"type\":\"delete\",\"seq\":4,\"vm\":\"vm2\",\"epoch\":1,"
         CFG("2") "}\n");
    run_batch(f, &t);
    all = port_req(&t, OFPP_ANY);
    assert_true(all < first_flow_mod(&t));
    sw_port_tx(f, t.xid[all], (uint32_t[]){1, 2}, (uint64_t[]){131, 9}, 2);
    const char *out = strbuf_str(agent_core_chan_output(f->c));
    assert_non_null(strstr(out, "{\"type\":\"vnet_ptx\",\"vswitch\":\"vs1\","
                                "\"port\":2,\"packets\":2,\"bytes\":200}"));
    strbuf_clear(agent_core_chan_output(f->c));
    feed(f, "{\"type\":\"vnet_stats_req\",\"vswitch\":\"vs1\",\"seq\":6}\n");
    sw_take(f, &t);
    all = port_req(&t, OFPP_ANY);
    sw_port_tx(f, t.xid[all], (uint32_t[]){1, 2}, (uint64_t[]){140, 50}, 2);
    out = strbuf_str(agent_core_chan_output(f->c));
    assert_non_null(strstr(out, "{\"type\":\"vnet_ptx\",\"vswitch\":\"vs1\","
                                "\"port\":1,\"packets\":40,"));
    assert_null(strstr(out, "\"port\":2"));
}

/* (T9) A new agent on a switch that still holds tenant switch flows: the
 * first sync waits for a push as well as for the resync and the map, so
 * a restart deletes none of the tenant's flows. */
static void
test_vnet_restart_waits_for_push(void **state)
{
    struct fx *f = *state;
    struct taken t;
    struct fx g = {.now = 1000000};
    g.c = core_new(g.now);
    up_vnet(&g);
    struct flowtab *held = held_by(g.c);

    sw_connect(f, held);
    chan_connect(f);
    feed(f, "{\"type\":\"resync_begin\",\"seq\":0}\n"
            INSTALL("1", "vm1", "1", "1") INSTALL("2", "vm2", "1", "2")
            "{\"type\":\"resync_end\",\"seq\":2}\n");
    char err[128];
    assert_int_equal(agent_core_map_answer(f->c, MAP, strlen(MAP), f->now,
                                           err, sizeof err),
                     0);
    run(f, 1, &t);
    assert_int_equal(t.n, 0); /* the tenant flows are not deleted */
    feed(f, VNET_BEGIN("3", "4", ",\"full\":true") VNET_PORT("1", "vm1")
                VNET_PORT("2", "vm2"));
    feed_flow(f, VNET_FLOW("1", "4"), "add priority=0 actions=output:FLOOD");
    feed(f, VNET_END("3"));
    run_batch(f, &t);
    assert_int_equal(count_mods(&t, OFPFC_DELETE_STRICT), 0);
    assert_int_equal(n_kind(f, PL_K_VNET), 2);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n"
                         "{\"type\":\"ack\",\"seq\":3}\n"
                         "{\"type\":\"refresh\",\"version\":7}\n");
    flowtab_destroy(held);
}

/* ---- A big start, a slice per turn (issue 10 item 4) ---- */

/* A full map of 'n' VMs on n2 (two flows each here). */
static char *
big_map(size_t n, uint64_t version)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_printf(&sb, "{\"version\": %llu, \"full\": true, \"entries\": [",
                  (unsigned long long) version);
    for (size_t i = 1; i <= n; i++) {
        strbuf_printf(&sb, "%s{\"vm\": \"bulk%zu\", \"node\": \"n2\", "
                      "\"address\": \"198.18.0.2\", \"epoch\": 1, "
                      "\"mac\": \"02:00:00:03:%02zx:%02zx\", "
                      "\"ip\": \"198.19.%zu.%zu\"}", i > 1 ? "," : "",
                      i, i / 256, i % 256, 1 + i / 250, i % 250 + 1);
    }
    strbuf_printf(&sb, "]}");
    char *out = strdup(strbuf_str(&sb));
    strbuf_destroy(&sb);
    return out;
}

#define BIG_VMS 3000
/* Most flow_mods one turn may send (agent_sync.c's budget is ~100). */
#define TURN_MODS_MAX 200

/* Runs turn after turn until a batch's barrier is sent; 't' holds that
 * last turn.  Returns the flow_mods sent, and asserts that no turn sent
 * more than TURN_MODS_MAX; '*turns' counts the turns. */
static size_t
run_until_barrier(struct fx *f, struct taken *t, size_t *turns,
                  void (*mid)(struct fx *), size_t mid_turn)
{
    size_t mods = 0;
    for (*turns = 1;; ++*turns) {
        assert_true(*turns < 10000);
        run(f, 0, t);
        size_t n = count(t, OFPT_FLOW_MOD);
        assert_true(n <= TURN_MODS_MAX);
        mods += n;
        if (*turns == mid_turn && mid) {
            assert_int_equal(count(t, OFPT_BARRIER_REQUEST), 0);
            mid(f);
        }
        if (count(t, OFPT_BARRIER_REQUEST)) {
            assert_int_equal(t->type[t->n - 1], OFPT_BARRIER_REQUEST);
            return mods;
        }
    }
}

/* A welcomed channel, a switch that holds nothing, and the first batch
 * (the node's own flows, no map yet) confirmed. */
static void
up_no_map(struct fx *f)
{
    struct taken t;
    up(f);
    run_batch(f, &t);
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[t.n - 1]);
    strbuf_clear(agent_core_chan_output(f->c));
}

/* The gateway answers with big_map(BIG_VMS, version). */
static void
answer_big_map(struct fx *f, uint64_t version)
{
    char *map = big_map(BIG_VMS, version);
    char err[128];
    assert_int_equal(agent_core_map_answer(f->c, map, strlen(map), f->now,
                                           err, sizeof err), 0);
    free(map);
}

static void
install_vm1(struct fx *f)
{
    feed(f, INSTALL("1", "vm1", "1", "1"));
}

/* 3,000 VMs (6,000 flows): the map answer is read over many turns (the
 * map unchanged meanwhile), the flows go out over many turns, no turn
 * sending more than a slice, and one barrier ends them.  An instruction
 * that arrives while they go is not acknowledged by their barrier, only
 * by the next one, which carries its flows. */
static void
test_big_start_is_sliced(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_no_map(f);
    answer_big_map(f, 9);
    assert_int_equal(agent_map_version(f->c->map), 0); /* still reading */
    size_t turns;
    size_t mods = run_until_barrier(f, &t, &turns, install_vm1, 40);
    assert_true(turns > 40);
    assert_true(mods >= 2 * BIG_VMS);
    assert_int_equal(agent_map_version(f->c->map), 9);
    /* The barrier confirms the map, not the instruction. */
    barrier_reply(f, &t, "{\"type\":\"refresh\",\"version\":9}\n");
    assert_int_equal(f->c->confirmed_flows, flowtab_count(f->c->installed));
    /* The next batch carries vm1's flows, and its ack. */
    run_batch(f, &t);
    assert_true(touches_port(&t, 1));
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n");
}

/* The switch refuses a flow_mod of the first slice: the barrier that
 * ends the last slice carries it, so the map version is not reported,
 * and the whole table goes again. */
static void
test_big_start_error_in_early_slice(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up_no_map(f);
    answer_big_map(f, 9);
    uint32_t first_mod = 0;
    size_t turns = 0;
    for (;;) {
        assert_true(++turns < 10000);
        run(f, 0, &t);
        if (!first_mod && count(&t, OFPT_FLOW_MOD)) {
            first_mod = xid_of(&t, OFPT_FLOW_MOD, 0);
            assert_int_equal(count(&t, OFPT_BARRIER_REQUEST), 0);
            sw_error(f, first_mod, OFPET_FLOW_MOD_FAILED, 0);
        }
        if (count(&t, OFPT_BARRIER_REQUEST)) {
            break;
        }
    }
    assert_true(first_mod != 0);
    sw_reply(f, OFPT_BARRIER_REPLY, t.xid[t.n - 1]);
    expect_chan(f, ""); /* no refresh: the batch was refused */
    assert_true(ofctrl_failed(f->c->ofctrl));
    /* The next sync (an instruction) resends every flow, still a slice
     * per turn, and its barrier confirms the map and the instruction. */
    install_vm1(f);
    size_t mods = run_until_barrier(f, &t, &turns, NULL, 0);
    assert_true(mods >= 2 * BIG_VMS);
    assert_true(turns > 20);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n"
                         "{\"type\":\"refresh\",\"version\":9}\n");
}

/* The channel reconnects while a big batch goes out (a full resend
 * after a refusal, carrying the old session's seq 2): the new session's
 * seq 1 (vm2) is not in it, so its barrier acknowledges nothing -- the
 * map version, true on the switch, is still reported -- and the next
 * batch, with vm2's flows, acknowledges seq 1. */
static void
reconnect_with_vm2(struct fx *f)
{
    agent_core_chan_disconnected(f->c, f->now);
    chan_connect(f);
    feed(f, INSTALL("1", "vm2", "1", "2"));
}

/* The big map's table confirmed, then install 1 (vm1) refused: the next
 * sync resends the whole table. */
static void
big_table_refused(struct fx *f)
{
    struct taken t;
    up_no_map(f);
    answer_big_map(f, 9);
    size_t turns;
    (void) run_until_barrier(f, &t, &turns, NULL, 0);
    barrier_reply(f, &t, "{\"type\":\"refresh\",\"version\":9}\n");
    feed(f, INSTALL("1", "vm1", "1", "1"));
    run_batch(f, &t);
    sw_error(f, t.xid[0], OFPET_FLOW_MOD_FAILED, 1);
    barrier_reply(f, &t, "{\"type\":\"nack\",\"seq\":1,"
                  "\"ofp_error\":{\"type\":5,\"code\":1}}\n");
}

static void
test_big_sync_session_changes(void **state)
{
    struct fx *f = *state;
    struct taken t;
    size_t turns;
    big_table_refused(f);
    feed(f, INSTALL("2", "vm1", "2", "1"));
    /* Turn 40: the recompute done (about 15 turns), the flow_mods going
     * out (about 60). */
    size_t mods = run_until_barrier(f, &t, &turns, reconnect_with_vm2, 40);
    assert_true(mods >= 2 * BIG_VMS);
    assert_true(turns > 60);
    barrier_reply(f, &t, "{\"type\":\"refresh\",\"version\":9}\n");
    run_batch(f, &t);
    assert_true(touches_port(&t, 2));
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n");
}

/* An activation report goes only with the batch that made its flows
 * true.  vm1 and vm2 each migrate back to n1 (inactive installs over
 * their relays, watched); vm1's first frame: batch A carries its report.
 * A long sync begins (a full map), and vm2's first frame comes while it
 * runs: neither A nor that sync carries vm2's report, so A's
 * barrier reports nothing (the report names every activation not yet
 * reported), and the batch after reports both. */
#define RELAY_VM2(SEQ)                                                       \
    "{\"type\":\"relay\",\"seq\":" SEQ ",\"vm\":\"vm2\",\"epoch\":1,"     \
    CFG("2") ",\"target\":\"n2\",\"target_address\":\"198.18.0.2\","     \
    "\"target_epoch\":2}\n"

static void
frame_vm2(struct fx *f)
{
    sw_packet_in(f, 2, pl_cookie(PL_K_ACTIVATE, "vm2"));
}

static void
test_activation_waits_for_its_batch(void **state)
{
    struct fx *f = *state;
    struct taken ta, t;
    up_back_to_n1(f);
    confirmed(f, INSTALL("4", "vm2", "1", "2") RELAY_VM2("5"),
              "{\"type\":\"ack\",\"seq\":5}\n");
    confirmed(f, INSTALL_X("6", "vm2", "3", "2", WATCHED),
              "{\"type\":\"ack\",\"seq\":6}\n");
    sw_packet_in(f, 1, pl_cookie(PL_K_ACTIVATE, "vm1"));
    run_batch(f, &ta); /* A: vm1's local delivery; not answered yet */
    answer_big_map(f, 20);
    size_t turns;
    /* Turn 30: the map is read (8 turns), the sync under way. */
    (void) run_until_barrier(f, &t, &turns, frame_vm2, 30);
    assert_true(turns > 40);
    barrier_reply(f, &ta, ""); /* vm2's flows are not true yet */
    barrier_reply(f, &t, "{\"type\":\"refresh\",\"version\":20}\n");
    run_batch(f, &t);
    barrier_reply(f, &t, ACTIVATED_VM1_3
                  "{\"type\":\"activated\",\"vm\":\"vm2\",\"epoch\":3}\n");
}

/* A message that is no instruction (a heartbeat) arrives while a big
 * sync carrying instruction 1 goes out, and a second batch begins before
 * the first's barrier is answered: instruction 1's latency is counted
 * once, from its arrival -- the heartbeat starts no clock for it. */
static void
heartbeat(struct fx *f)
{
    feed(f, "{\"type\":\"heartbeat\"}\n");
}

static void
test_latency_counted_once_over_a_big_sync(void **state)
{
    struct fx *f = *state;
    struct taken t, t2;
    size_t turns;
    big_table_refused(f); /* the next sync resends every flow */
    assert_int_equal(f->c->instr_lat.total, 0);
    feed(f, INSTALL("2", "vm2", "1", "2"));
    uint64_t t0 = f->now;
    (void) run_until_barrier(f, &t, &turns, heartbeat, 10);
    assert_true(turns > 10);
    run_batch(f, &t2); /* the heartbeat's sync, before the first reply */
    f->now += 3000;
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
    assert_int_equal(f->c->instr_lat.total, 1);
    assert_int_equal(f->c->instr_lat.us[0], f->now - t0);
    barrier_reply(f, &t2, "");
    assert_int_equal(f->c->instr_lat.total, 1);
}

/* A resync's replay is the (re)start's, not an instruction: it is timed
 * as resync_confirmed_us; the next instruction is timed as one. */
static void
test_resync_not_an_instruction(void **state)
{
    struct fx *f = *state;
    struct taken t;
    sw_connect(f, NULL);
    chan_connect(f);
    feed(f, RESYNC_VM1);
    uint64_t t0 = f->now;
    char err[128];
    assert_int_equal(agent_core_map_answer(f->c, MAP, strlen(MAP), f->now,
                                           err, sizeof err),
                     0);
    run_batch(f, &t);
    f->now += 7000;
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n"
                  "{\"type\":\"refresh\",\"version\":7}\n");
    assert_int_equal(f->c->instr_lat.total, 0);
    assert_int_equal(f->c->resync_confirmed_us, f->now - t0);
    feed(f, INSTALL("2", "vm2", "1", "2"));
    run_batch(f, &t);
    f->now += 2000;
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
    assert_int_equal(f->c->instr_lat.total, 1);
    assert_int_equal(f->c->instr_lat.us[0], 2000 + 1000); /* run_batch: 1 ms */
    assert_int_equal(f->c->resync_confirmed_us, 7000 + 1000);
}

/* An instruction in the same read as the resync's end is one: the batch
 * that confirms both times each. */
static void
test_instruction_after_resync_same_read(void **state)
{
    struct fx *f = *state;
    struct taken t;
    sw_connect(f, NULL);
    chan_connect(f);
    char err[128];
    assert_int_equal(agent_core_map_answer(f->c, MAP, strlen(MAP), f->now,
                                           err, sizeof err),
                     0);
    feed(f, RESYNC_VM1 INSTALL("2", "vm2", "1", "2"));
    run_batch(f, &t);
    f->now += 4000;
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n"
                  "{\"type\":\"refresh\",\"version\":7}\n");
    assert_int_equal(f->c->instr_lat.total, 1);
    assert_int_equal(f->c->instr_lat.us[0], 5000);
    assert_int_equal(f->c->resync_confirmed_us, 5000);
}

/* A resync that comes in two reads, a map answer and a turn of the loop
 * between them: nothing of it is an instruction, the batch of that turn
 * acknowledges none of it (its flows are not computed yet), and the
 * first batch after resync_end confirms it all and is timed as the
 * resync. */
static void
test_resync_in_two_reads(void **state)
{
    struct fx *f = *state;
    struct taken mid, t;
    up_with_two(f);
    agent_core_chan_disconnected(f->c, f->now);
    chan_connect(f);
    feed(f, "{\"type\":\"resync_begin\",\"seq\":0}\n"
            INSTALL("1", "vm1", "1", "1"));
    /* A map answer between the reads: its batch goes out mid-resync. */
    char err[128];
    assert_int_equal(agent_core_map_answer(f->c, MAP, strlen(MAP), f->now,
                                           err, sizeof err),
                     0);
    run_batch(f, &mid);
    f->now += 2000;
    uint64_t t0 = f->now;
    feed(f, INSTALL("2", "vm2", "1", "2")
            "{\"type\":\"resync_end\",\"seq\":2}\n");
    run_batch(f, &t);
    /* Its reply comes after resync_end: the map, but no ack. */
    barrier_reply(f, &mid, "{\"type\":\"refresh\",\"version\":7}\n");
    f->now += 3000;
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":2}\n");
    assert_int_equal(f->c->instr_lat.total, 1); /* up_with_two's */
    assert_int_equal(f->c->resync_confirmed_us, f->now - t0);
}

/* An instruction unconfirmed when the channel drops comes back in the
 * new session's resync: timed as the resync, not as an instruction
 * whose clock ran across the reconnection. */
static void
test_reconnect_drops_the_clock(void **state)
{
    struct fx *f = *state;
    struct taken t;
    up(f);
    feed(f, INSTALL("1", "vm1", "1", "1"));
    agent_core_chan_disconnected(f->c, f->now);
    f->now += 100000;
    chan_connect(f);
    uint64_t t0 = f->now;
    feed(f, RESYNC_VM1);
    run_batch(f, &t);
    barrier_reply(f, &t, "{\"type\":\"ack\",\"seq\":1}\n");
    assert_int_equal(f->c->instr_lat.total, 0);
    assert_int_equal(f->c->resync_confirmed_us, f->now - t0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_install_barrier_ack, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_latency_counted_once_over_a_big_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resync_not_an_instruction,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_instruction_after_resync_same_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resync_in_two_reads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_drops_the_clock,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_nacks_and_resends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_restart_waits_for_resync_and_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_settles_at_deadline,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_reconnect_resync, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chan_reconnect_no_resync_keeps,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_epoch_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_switch_lost_mid_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepared_port_primed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_inactive_install_no_delivery,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_frame_activates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_activated_resent_after_reconnect,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_keeps_port_egress, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_inactive_copy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_active_watch_keeps_forwarding,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_by_iface_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_relay_stats_only_with_relays,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_inactive_over_relay_keeps_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_inherited_relay_ends_at_activation, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_inherited_relay_deleted_with_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inherited_relay_resync, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_inherited_relay_is_the_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vnet_push_incremental, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vnet_bad_flow_nacked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vnet_drop_final_stats, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vnet_packet_in_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vnet_port_leaves, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vnet_periodic_stats, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vnet_seq_apart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vnet_port_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vnet_stats_cut, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_big_start_is_sliced, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_big_start_error_in_early_slice,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_sync_session_changes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_activation_waits_for_its_batch,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_vnet_restart_waits_for_push,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
