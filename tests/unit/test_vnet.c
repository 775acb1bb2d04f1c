/* test_vnet.c: the tenant virtual switch core (src/vnet) driven as mignetd
 * drives it: a tenant controller speaking real OpenFlow 1.3 bytes built by
 * the codec, and nodes answering the channel messages it queues.  Checks
 * the handshake, the slice refusals (right error, nothing changed), flow-mod
 * semantics, barriers waiting for node acks, the two-phase update while
 * split, counters combined monotonically, tx computation, packet-in
 * merging and timeouts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "mignet/ofp.h"
#include "mignet/vnet.h"
#include "lib/strbuf.h"
#include "proto/chan_msg.h"

#define VS "vs1"

static struct vnet *v;
static int64_t now = 1000;

/* Received tenant messages keep pointing into this buffer until the next
 * recv. */
static uint8_t rx_buf[70000];

static void
add_switch(void)
{
    struct vnet_switch_def *d = calloc(1, sizeof *d);
    snprintf(d->id, sizeof d->id, VS);
    snprintf(d->tenant, sizeof d->tenant, "t1");
    d->vni = 100;
    d->datapath_id = 0x42;
    d->n_ports = 3;
    for (int i = 0; i < 3; i++) {
        d->ports[i].port = (uint32_t)i + 1;
        snprintf(d->ports[i].vm, sizeof d->ports[i].vm, "vm%d", i + 1);
        uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)(i + 1)};
        memcpy(d->ports[i].mac, mac, 6);
    }
    char err[128];
    assert_int_equal(vnet_switch_add(v, d, err, sizeof err), 0);
    free(d);
}

static int
setup(void **state)
{
    (void)state;
    v = vnet_create(NULL);
    now = 1000;
    add_switch();
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    vnet_destroy(v);
    v = NULL;
    return 0;
}

/* ---- Tenant side. ----------------------------------------------------- */

static void
send_msg(const struct ofp_msg *m)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 128);
    assert_int_equal(ofp_encode(m, &b), 0);
    vnet_tenant_input(v, VS, b.data, b.size, now);
    ofpbuf_uninit(&b);
}

static void
send_simple(uint8_t type, uint32_t xid)
{
    struct ofp_msg m;
    ofp_msg_init(&m, type, xid);
    send_msg(&m);
}

/* Sends a flow-mod written as text ("add priority=10 in_port=1
 * actions=output:2"), with 'flags' and 'xid'. */
static void
send_flow(const char *text, uint16_t flags, uint32_t xid)
{
    struct ofp_msg m;
    char err[128];
    ofp_msg_init(&m, OFPT_FLOW_MOD, xid);
    if (ofp_parse_flow_mod(text, &m.flow_mod, err, sizeof err)) {
        fail_msg("%s: %s", text, err);
    }
    m.flow_mod.flags |= flags;
    /* The text form's CONTROLLER has max_len 0; take whole frames. */
    for (size_t i = 0; i < m.flow_mod.insts.apply.n; i++) {
        struct ofp_action *a = &m.flow_mod.insts.apply.a[i];
        if (a->output.port == OFPP_CONTROLLER) {
            a->output.max_len = OFPCML_NO_BUFFER;
        }
    }
    send_msg(&m);
    ofp_msg_destroy(&m);
}

/* Pops the next message the switch sent the tenant; false if none. */
static bool
recv_msg(struct ofp_msg *m)
{
    struct ofpbuf *out = vnet_tenant_output(v, VS);
    size_t len = 0;
    if (!out->size) {
        return false;
    }
    assert_int_equal(ofp_frame(out->data, out->size, &len), 0);
    assert_true(len > 0 && len <= sizeof rx_buf);
    memcpy(rx_buf, out->data, len);
    memmove(out->data, out->data + len, out->size - len);
    ofpbuf_truncate(out, out->size - len);
    assert_int_equal(ofp_decode(rx_buf, len, m), 0);
    return true;
}

static void
expect_type(struct ofp_msg *m, uint8_t type)
{
    assert_true(recv_msg(m));
    assert_int_equal(m->type, type);
}

static void
expect_error(enum ofperr e, uint32_t xid)
{
    struct ofp_msg m;
    expect_type(&m, OFPT_ERROR);
    assert_string_equal(ofperr_name(ofperr_from_wire(m.error.type,
                                                     m.error.code)),
                        ofperr_name(e));
    assert_int_equal(m.xid, xid);
    ofp_msg_destroy(&m);
}

static void
expect_nothing(void)
{
    assert_int_equal(vnet_tenant_output(v, VS)->size, 0);
}

static void
handshake(void)
{
    struct ofp_msg m;
    vnet_tenant_connected(v, VS, now);
    expect_type(&m, OFPT_HELLO);
    send_simple(OFPT_HELLO, 1);
    send_simple(OFPT_FEATURES_REQUEST, 2);
    expect_type(&m, OFPT_FEATURES_REPLY);
    assert_int_equal(m.xid, 2);
    assert_int_equal(m.features.datapath_id, 0x42);
    assert_int_equal(m.features.n_tables, 1);
    assert_int_equal(m.features.n_buffers, 0);
    assert_int_equal(m.features.capabilities,
                     OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS);
    expect_nothing();
}

/* Flow statistics of the whole table (no node is asked when none is up,
 * or the answer is pushed by the caller). */
static size_t
flow_stats(struct ofp_flow_stats *fs, size_t max)
{
    struct ofp_msg m;
    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 77);
    m.mp.type = OFPMP_FLOW;
    send_msg(&m);
    expect_type(&m, OFPT_MULTIPART_REPLY);
    assert_int_equal(m.mp.type, OFPMP_FLOW);
    struct ofp_mp_iter it;
    ofp_mp_iter_init(&it, &m.mp);
    size_t n = 0;
    struct ofp_flow_stats tmp = {0};
    while (ofp_flow_stats_next(&it, &tmp)) {
        if (n < max) {
            fs[n] = tmp;
            fs[n].insts.apply.a = NULL; /* Not kept. */
            fs[n].insts.apply.n = tmp.insts.apply.n;
            fs[n].insts.apply.allocated = 0;
        }
        n++;
    }
    ofp_flow_stats_destroy(&tmp);
    return n;
}

/* ---- Node side. ------------------------------------------------------- */

#define MAXQ 256
static struct chan_msg q[MAXQ];
static char qnode[MAXQ][MN_NAME_MAX + 1];

/* Drains every queued node message; returns how many.  Each must pass
 * the channel codec (what the agent would accept) and read back equal. */
static size_t
drain(void)
{
    size_t n = 0;
    struct strbuf sb;
    strbuf_init(&sb);
    while (n < MAXQ && vnet_node_output(v, qnode[n], &q[n])) {
        strbuf_clear(&sb);
        assert_int_equal(chan_msg_encode(&q[n], &sb), CHAN_E_OK);
        static struct chan_msg back;
        assert_int_equal(chan_msg_decode(sb.data, sb.len - 1, &back, NULL, 0),
                         CHAN_E_OK);
        assert_int_equal(back.type, q[n].type);
        assert_int_equal(back.seq, q[n].seq);
        n++;
    }
    strbuf_destroy(&sb);
    return n;
}

/* Index of the i-th (0-based) message of 'type' for 'node', or -1. */
static int
find(size_t n, const char *node, enum chan_msg_type type, int i)
{
    for (size_t k = 0; k < n; k++) {
        if (q[k].type == type && (!node || !strcmp(qnode[k], node))
            && i-- == 0) {
            return (int)k;
        }
    }
    return -1;
}

static void
node_send(const char *node, struct chan_msg *m)
{
    snprintf(m->vswitch, sizeof m->vswitch, VS);
    assert_true(vnet_node_msg(v, node, m, now));
}

static void
ack(const char *node, uint64_t seq)
{
    struct chan_msg m;
    chan_msg_init(&m, CHAN_ACK);
    m.seq = seq;
    assert_true(vnet_node_msg(v, node, &m, now));
}

/* Acks every push (vnet_end, vnet_drop) among the 'n' drained messages. */
static void
ack_all(size_t n)
{
    char node[MN_NAME_MAX + 1];
    for (size_t k = 0; k < n; k++) {
        if (q[k].type == CHAN_VNET_END || q[k].type == CHAN_VNET_DROP) {
            snprintf(node, sizeof node, "%s", qnode[k]);
            ack(node, q[k].seq);
        }
    }
}

static void
fstat(const char *node, uint32_t fid, uint64_t version, uint32_t q_port,
      uint64_t packets, uint64_t bytes)
{
    struct chan_msg m;
    chan_msg_init(&m, CHAN_VNET_FSTAT);
    m.flow_id = fid;
    m.version = version;
    m.port = q_port;
    m.packets = packets;
    m.bytes = bytes;
    node_send(node, &m);
}

static void
hosts(const char *a, const char *b)
{
    const char *nodes[2] = {a, b};
    if (a) {
        vnet_node_up(v, a, now);
    }
    if (b) {
        vnet_node_up(v, b, now);
    }
    vnet_set_nodes(v, VS, nodes, b ? 2 : 1);
    ack_all(drain());
}

/* The flow id of the last vnet_flow among 'n' drained messages. */
static uint32_t
last_fid(size_t n)
{
    int k = -1;
    for (size_t i = 0; i < n; i++) {
        if (q[i].type == CHAN_VNET_FLOW) {
            k = (int)i;
        }
    }
    assert_true(k >= 0);
    return q[k].flow_id;
}

/* ---- Tests. ----------------------------------------------------------- */

static void
test_handshake_and_simple_requests(void **state)
{
    (void)state;
    struct ofp_msg m;
    handshake();

    ofp_msg_init(&m, OFPT_ECHO_REQUEST, 5);
    m.echo.data = (const uint8_t *)"abc";
    m.echo.data_len = 3;
    send_msg(&m);
    expect_type(&m, OFPT_ECHO_REPLY);
    assert_int_equal(m.xid, 5);
    assert_int_equal(m.echo.data_len, 3);

    ofp_msg_init(&m, OFPT_SET_CONFIG, 6);
    m.config.miss_send_len = 64;
    send_msg(&m);
    send_simple(OFPT_GET_CONFIG_REQUEST, 7);
    expect_type(&m, OFPT_GET_CONFIG_REPLY);
    assert_int_equal(m.config.miss_send_len, 64);

    ofp_msg_init(&m, OFPT_ROLE_REQUEST, 8);
    m.role.role = OFPCR_ROLE_MASTER;
    m.role.generation_id = 9;
    send_msg(&m);
    expect_type(&m, OFPT_ROLE_REPLY);
    assert_int_equal(m.role.role, OFPCR_ROLE_MASTER);
    assert_int_equal(m.role.generation_id, 9);

    /* As a slave: no flow-mods. */
    ofp_msg_init(&m, OFPT_ROLE_REQUEST, 15);
    m.role.role = OFPCR_ROLE_SLAVE;
    m.role.generation_id = 10;
    send_msg(&m);
    expect_type(&m, OFPT_ROLE_REPLY);
    assert_int_equal(m.role.role, OFPCR_ROLE_SLAVE);
    send_flow("add priority=1 actions=output:1", 0, 16);
    expect_error(OFPERR_OFPBRC_IS_SLAVE, 16);
    ofp_msg_init(&m, OFPT_ROLE_REQUEST, 17);
    m.role.role = OFPCR_ROLE_EQUAL;
    m.role.generation_id = 11;
    send_msg(&m);
    expect_type(&m, OFPT_ROLE_REPLY);
    assert_int_equal(m.role.role, OFPCR_ROLE_EQUAL);

    send_simple(OFPT_GET_ASYNC_REQUEST, 10);
    expect_type(&m, OFPT_GET_ASYNC_REPLY);
    assert_int_equal(m.async.packet_in[0], 3);

    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 11);
    m.mp.type = OFPMP_DESC;
    send_msg(&m);
    expect_type(&m, OFPT_MULTIPART_REPLY);
    assert_string_equal(m.mp.desc.serial_num, VS);

    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 12);
    m.mp.type = OFPMP_PORT_DESC;
    send_msg(&m);
    expect_type(&m, OFPT_MULTIPART_REPLY);
    struct ofp_mp_iter it;
    struct ofp_port p;
    ofp_mp_iter_init(&it, &m.mp);
    int n = 0;
    while (ofp_port_desc_next(&it, &p)) {
        n++;
        assert_int_equal(p.port_no, n);
        assert_int_equal(p.hw_addr[5], n);
        assert_int_equal(p.state, OFPPS_LIVE);
        char name[16];
        snprintf(name, sizeof name, "vm%d", n);
        assert_string_equal(p.name, name);
    }
    assert_int_equal(n, 3);

    send_flow("add priority=1 actions=output:1", 0, 18);
    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 13);
    m.mp.type = OFPMP_TABLE;
    send_msg(&m);
    expect_type(&m, OFPT_MULTIPART_REPLY);
    assert_int_equal(m.mp.type, OFPMP_TABLE);
    assert_int_equal(m.mp.n_entries, 1);
    struct ofp_table_stats ts;
    ofp_mp_iter_init(&it, &m.mp);
    assert_true(ofp_table_stats_next(&it, &ts));
    assert_int_equal(ts.table_id, 0);
    struct vnet_switch_info info;
    assert_true(vnet_switch_info(v, VS, &info));
    assert_int_equal(info.n_flows, 1);
    assert_int_equal(ts.active_count, 1);
    assert_false(ofp_table_stats_next(&it, &ts));

    /* A switch-to-controller message from the tenant: BAD_TYPE. */
    send_simple(OFPT_FEATURES_REPLY, 14);
    expect_error(OFPERR_OFPBRC_BAD_TYPE, 14);
    expect_nothing();
    assert_false(vnet_tenant_must_close(v, VS));
}

static void
test_hello_without_13_fails(void **state)
{
    (void)state;
    struct ofp_msg m;
    vnet_tenant_connected(v, VS, now);
    expect_type(&m, OFPT_HELLO);
    uint8_t hello10[8] = {1, OFPT_HELLO, 0, 8, 0, 0, 0, 3};
    vnet_tenant_input(v, VS, hello10, sizeof hello10, now);
    expect_type(&m, OFPT_ERROR);
    assert_int_equal(m.error.type, OFPET_HELLO_FAILED);
    assert_true(vnet_tenant_must_close(v, VS));
    /* Anything later is ignored. */
    send_simple(OFPT_FEATURES_REQUEST, 2);
    expect_nothing();
}

static void
test_slice_refusals_change_nothing(void **state)
{
    (void)state;
    handshake();
    hosts("n1", NULL);
    send_flow("add priority=10 in_port=1 actions=output:2", 0, 20);
    ack_all(drain());
    expect_nothing();

    static const struct {
        const char *flow;
        enum ofperr e;
    } bad[] = {
        {"add table=1 priority=10 in_port=1 actions=output:2",
         OFPERR_OFPFMFC_BAD_TABLE_ID},
        {"add priority=10 in_port=9 actions=output:2",
         OFPERR_OFPBMC_BAD_VALUE},
        {"add priority=10 in_port=1 actions=output:9",
         OFPERR_OFPBAC_BAD_OUT_PORT},
        {"add priority=10 in_port=1 actions=output:LOCAL",
         OFPERR_OFPBAC_BAD_OUT_PORT},
        {"add priority=10 in_port=1 actions=output:TABLE",
         OFPERR_OFPBAC_BAD_OUT_PORT},
        {"add priority=10 in_port=1 actions=set_field:0x5->tunnel_id,"
         "output:2",
         OFPERR_OFPBAC_BAD_TYPE},
        {"add priority=10 in_port=1 actions=goto_table:1",
         OFPERR_OFPBIC_UNSUP_INST},
        {"add priority=10 tunnel_id=100 actions=output:2",
         OFPERR_OFPBMC_BAD_FIELD},
        {"add priority=10 metadata=0x1 actions=output:2",
         OFPERR_OFPBMC_BAD_FIELD},
        {"modify table=3 actions=output:3", OFPERR_OFPFMFC_BAD_TABLE_ID},
        {"delete table=2", OFPERR_OFPFMFC_BAD_TABLE_ID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        send_flow(bad[i].flow, 0, 100 + (uint32_t)i);
        expect_error(bad[i].e, 100 + (uint32_t)i);
        expect_nothing();
    }
    assert_int_equal(drain(), 0); /* No node heard of any of them. */

    /* Stats ask the node first. */
    struct ofp_msg m;
    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 77);
    m.mp.type = OFPMP_FLOW;
    send_msg(&m);
    expect_nothing();
    size_t n = drain();
    int k = find(n, "n1", CHAN_VNET_STATS_REQ, 0);
    assert_true(k >= 0);
    struct chan_msg end;
    chan_msg_init(&end, CHAN_VNET_STATS_END);
    end.seq = q[k].seq;
    node_send("n1", &end);
    expect_type(&m, OFPT_MULTIPART_REPLY);
    struct ofp_mp_iter it;
    ofp_mp_iter_init(&it, &m.mp);
    struct ofp_flow_stats tmp = {0};
    size_t nf = 0;
    while (ofp_flow_stats_next(&it, &tmp)) {
        nf++;
        assert_int_equal(tmp.priority, 10);
        assert_int_equal(tmp.insts.apply.a[0].output.port, 2);
    }
    ofp_flow_stats_destroy(&tmp);
    assert_int_equal(nf, 1);

    /* Packet-out refusals. */
    ofp_msg_init(&m, OFPT_PACKET_OUT, 200);
    m.packet_out.in_port = 7;
    ofp_actions_output(&m.packet_out.actions, 2);
    m.packet_out.data = (const uint8_t *)"0123456789abcdef";
    m.packet_out.data_len = 16;
    send_msg(&m);
    expect_error(OFPERR_OFPBRC_BAD_PORT, 200);
    m.packet_out.in_port = OFPP_CONTROLLER;
    m.packet_out.actions.a[0].output.port = OFPP_TABLE;
    send_msg(&m);
    expect_error(OFPERR_OFPBAC_BAD_OUT_PORT, 200);
    m.packet_out.actions.a[0].output.port = 2;
    m.packet_out.buffer_id = 5;
    send_msg(&m);
    expect_error(OFPERR_OFPBRC_BUFFER_UNKNOWN, 200);
    ofp_msg_destroy(&m);
    assert_int_equal(drain(), 0);
}

static void
test_flow_mod_semantics(void **state)
{
    (void)state;
    struct ofp_flow_stats fs[8];
    handshake();
    send_flow("add priority=10 in_port=1 actions=output:2", 0, 1);
    send_flow("add priority=20 in_port=1,eth_type=0x0800 actions=output:3",
              0, 2);
    send_flow("add cookie=0x5 priority=5 actions=output:CONTROLLER", 0, 3);
    expect_nothing();
    assert_int_equal(flow_stats(fs, 8), 3);
    assert_int_equal(fs[0].priority, 20); /* Highest first. */

    /* Identical match and priority: replaced, not added. */
    send_flow("add priority=10 in_port=1 actions=output:3", 0, 4);
    assert_int_equal(flow_stats(fs, 8), 3);

    /* CHECK_OVERLAP: in_port=1 overlaps the wildcard at priority 5. */
    send_flow("add priority=5 in_port=1 actions=output:2",
              OFPFF_CHECK_OVERLAP, 5);
    expect_error(OFPERR_OFPFMFC_OVERLAP, 5);
    /* No overlap (different in_port than an existing same-priority flow
     * with in_port): accepted. */
    send_flow("add priority=10 in_port=2 actions=output:1",
              OFPFF_CHECK_OVERLAP, 6);
    expect_nothing();
    assert_int_equal(flow_stats(fs, 8), 4);

    /* MODIFY_STRICT of a flow that does not exist: nothing happens. */
    send_flow("modify_strict priority=11 in_port=1 actions=output:2", 0, 7);
    expect_nothing();
    /* Non-strict delete with a cookie mask: only cookie 0x5. */
    send_flow("delete cookie=0x5/0xff", 0, 8);
    assert_int_equal(flow_stats(fs, 8), 3);
    /* Delete with out_port: only flows that output to 3 (two of them). */
    send_flow("delete out_port=3", 0, 9);
    assert_int_equal(flow_stats(fs, 8), 1);
    assert_int_equal(fs[0].priority, 10);
    /* DELETE_STRICT needs the exact priority. */
    send_flow("delete_strict priority=9 in_port=2", 0, 10);
    assert_int_equal(flow_stats(fs, 8), 1);
    send_flow("delete_strict priority=10 in_port=2", 0, 11);
    assert_int_equal(flow_stats(fs, 8), 0);
    expect_nothing();
}

static void
test_modify_keeps_counters(void **state)
{
    (void)state;
    struct ofp_flow_stats fs[4];
    handshake();
    hosts("n1", NULL);
    send_flow("add priority=10 in_port=1 actions=output:2", 0, 1);
    size_t n = drain();
    uint32_t fid = last_fid(n);
    ack_all(n);
    fstat("n1", fid, 1, 1, 7, 700);
    send_flow("modify in_port=1 actions=output:3", 0, 2);
    n = drain();
    assert_int_equal(last_fid(n), fid); /* Same flow, new actions. */
    ack_all(n);
    fstat("n1", fid, 1, 1, 9, 900);
    vnet_node_down(v, "n1", now); /* Stats answer at once without nodes. */
    assert_int_equal(flow_stats(fs, 4), 1);
    assert_int_equal(fs[0].packet_count, 9);
    assert_int_equal(fs[0].byte_count, 900);
}

static void
test_barrier_waits_for_every_node(void **state)
{
    (void)state;
    struct ofp_msg m;
    handshake();
    hosts("n1", "n2");
    send_flow("add priority=10 in_port=1 actions=output:2", 0, 1);
    send_simple(OFPT_BARRIER_REQUEST, 2);
    expect_nothing();
    size_t n = drain();
    /* Each node got begin, 3 ports, the flow, end. */
    for (int i = 0; i < 2; i++) {
        const char *node = i ? "n2" : "n1";
        int b = find(n, node, CHAN_VNET_BEGIN, 0);
        int f = find(n, node, CHAN_VNET_FLOW, 0);
        int e = find(n, node, CHAN_VNET_END, 0);
        assert_true(b >= 0 && f > b && e > f);
        assert_false(q[b].full);
        assert_int_equal(q[b].active, 1);
        assert_int_equal(q[b].vni, 100);
        assert_int_equal(q[f].version, 1);
        assert_int_equal(q[b].seq, q[e].seq);
        assert_true(q[e].seq >= (UINT64_C(1) << 62));
        assert_int_equal(q[b + 1].type, CHAN_VNET_PORT);
        assert_int_equal(q[b + 1].key, 0xf00000);
        struct ofp_msg fm;
        assert_int_equal(ofp_decode(q[f].frame, q[f].frame_len, &fm), 0);
        assert_int_equal(fm.type, OFPT_FLOW_MOD);
        assert_int_equal(fm.flow_mod.priority, 10);
        ofp_msg_destroy(&fm);
    }
    ack("n1", q[find(n, "n1", CHAN_VNET_END, 0)].seq);
    expect_nothing(); /* n2 has not acked. */
    ack("n2", q[find(n, "n2", CHAN_VNET_END, 0)].seq);
    expect_type(&m, OFPT_BARRIER_REPLY);
    assert_int_equal(m.xid, 2);

    /* A node going down no longer holds barriers back. */
    send_flow("add priority=11 in_port=1 actions=output:3", 0, 3);
    send_simple(OFPT_BARRIER_REQUEST, 4);
    n = drain();
    ack("n1", q[find(n, "n1", CHAN_VNET_END, 0)].seq);
    expect_nothing();
    vnet_node_down(v, "n2", now);
    expect_type(&m, OFPT_BARRIER_REPLY);
    assert_int_equal(m.xid, 4);

    /* It comes back: a full push of the whole table. */
    vnet_node_up(v, "n2", now);
    n = drain();
    int b = find(n, "n2", CHAN_VNET_BEGIN, 0);
    assert_true(b >= 0 && q[b].full);
    assert_true(find(n, "n2", CHAN_VNET_FLOW, 1) >= 0);
    assert_int_equal(find(n, "n2", CHAN_VNET_FLOW, 2), -1);
}

static void
test_two_phase_while_split(void **state)
{
    (void)state;
    struct ofp_msg m;
    handshake();
    hosts("n1", "n2");
    send_flow("add priority=10 in_port=1 actions=output:2", 0, 1);
    ack_all(drain());

    vnet_split_begin(v, VS);
    send_flow("add priority=20 in_port=2 actions=output:1", 0, 2);
    send_simple(OFPT_BARRIER_REQUEST, 3);
    size_t n = drain();
    /* Stage: both flows as version 2, active still 1. */
    for (int i = 0; i < 2; i++) {
        const char *node = i ? "n2" : "n1";
        int b = find(n, node, CHAN_VNET_BEGIN, 0);
        assert_true(b >= 0);
        assert_int_equal(q[b].active, 1);
        assert_false(q[b].full);
        int f0 = find(n, node, CHAN_VNET_FLOW, 0);
        int f1 = find(n, node, CHAN_VNET_FLOW, 1);
        assert_true(f0 > b && f1 > f0);
        assert_int_equal(q[f0].version, 2);
        assert_int_equal(q[f1].version, 2);
        assert_int_equal(find(n, node, CHAN_VNET_FLOW_DEL, 0), -1);
    }
    /* A flow-mod during the round waits for the next one. */
    send_flow("add priority=30 in_port=3 actions=output:1", 0, 4);
    assert_int_equal(drain(), 0);
    ack("n1", q[find(n, "n1", CHAN_VNET_END, 0)].seq);
    assert_int_equal(drain(), 0); /* n2 still staging. */
    ack("n2", q[find(n, "n2", CHAN_VNET_END, 0)].seq);
    n = drain();
    /* Flip: begin with active 2, ports, end; no flows. */
    for (int i = 0; i < 2; i++) {
        const char *node = i ? "n2" : "n1";
        int b = find(n, node, CHAN_VNET_BEGIN, 0);
        assert_true(b >= 0);
        assert_int_equal(q[b].active, 2);
        assert_int_equal(find(n, node, CHAN_VNET_FLOW, 0), -1);
    }
    expect_nothing();
    ack_all(n);
    n = drain();
    /* Drop version 1. */
    int d1 = find(n, "n1", CHAN_VNET_DROP, 0);
    int d2 = find(n, "n2", CHAN_VNET_DROP, 0);
    assert_true(d1 >= 0 && d2 >= 0);
    assert_int_equal(q[d1].version, 1);
    expect_nothing();
    ack_all(n);
    /* Round done: the barrier is answered, and the next round (the
     * flow-mod that came meanwhile) starts as version 3. */
    expect_type(&m, OFPT_BARRIER_REPLY);
    assert_int_equal(m.xid, 3);
    n = drain();
    int b = find(n, "n1", CHAN_VNET_BEGIN, 0);
    assert_true(b >= 0);
    assert_int_equal(q[b].active, 2);
    assert_int_equal(q[find(n, "n1", CHAN_VNET_FLOW, 2)].version, 3);
    ack_all(n);
    ack_all(drain()); /* flip */
    ack_all(drain()); /* drop */
    vnet_split_end(v, VS);
    struct vnet_switch_info info;
    assert_true(vnet_switch_info(v, VS, &info));
    assert_int_equal(info.active, 3);
    assert_false(info.update_pending);
    struct vnet_counters c;
    vnet_get_counters(v, &c);
    assert_int_equal(c.two_phase_updates, 2);

    /* Out of the split: in-place again. */
    send_flow("add priority=40 in_port=3 actions=output:2", 0, 5);
    n = drain();
    b = find(n, "n1", CHAN_VNET_BEGIN, 0);
    assert_int_equal(q[b].active, 3);
    assert_int_equal(q[find(n, "n1", CHAN_VNET_FLOW, 0)].version, 3);
    assert_int_equal(find(n, "n1", CHAN_VNET_FLOW, 1), -1);
}

static void
test_counters_monotone_and_tx(void **state)
{
    (void)state;
    struct ofp_flow_stats fs[4];
    handshake();
    hosts("n1", "n2");
    send_flow("add priority=10 in_port=1 actions=output:2,output:3", 0, 1);
    size_t n = drain();
    uint32_t fid = last_fid(n);
    ack_all(n);

    fstat("n1", fid, 1, 1, 10, 1000);
    fstat("n2", fid, 1, 1, 5, 500);
    fstat("n1", fid, 1, 1, 4, 400); /* n1's counter restarted: +4 */
    /* Split, so a round moves the flow to version 2 and drops 1. */
    vnet_split_begin(v, VS);
    send_flow("add priority=20 in_port=2 actions=output:FLOOD", 0, 2);
    n = drain();
    int s0 = find(n, "n1", CHAN_VNET_FLOW, 0);
    int s1 = find(n, "n1", CHAN_VNET_FLOW, 1);
    assert_true(s0 >= 0 && s1 >= 0);
    uint32_t fid2 = q[s0].flow_id == fid ? q[s1].flow_id : q[s0].flow_id;
    assert_int_not_equal(fid2, fid);
    ack_all(n);
    ack_all(drain()); /* flip */
    n = drain();      /* drop: final stats first, then the acks */
    fstat("n1", fid, 1, 1, 6, 600);
    fstat("n2", fid, 1, 1, 5, 500);
    ack_all(n);
    /* Version 2 counts from zero on both nodes. */
    fstat("n1", fid, 2, 1, 3, 300);
    fstat("n2", fid2, 2, 2, 2, 200);
    struct chan_msg ps;
    chan_msg_init(&ps, CHAN_VNET_PSTAT);
    ps.port = 1;
    ps.packets = 50;
    ps.bytes = 5000;
    node_send("n1", &ps);
    ps.packets = 20; /* restart */
    node_send("n1", &ps);
    /* Tx is what the nodes delivered to each port's VM interface
     * (vnet_ptx), never flow counters times outputs: n1 delivered 30 to
     * port 2, then restarted and delivered 12; n2 delivered 5 to port 2
     * and 26 to port 3. */
    struct chan_msg tx;
    chan_msg_init(&tx, CHAN_VNET_PTX);
    tx.port = 2;
    tx.packets = 30;
    tx.bytes = 3000;
    node_send("n1", &tx);
    tx.packets = 12;
    tx.bytes = 1200;
    node_send("n1", &tx);
    tx.packets = 5;
    tx.bytes = 500;
    node_send("n2", &tx);
    tx.port = 3;
    tx.packets = 26;
    tx.bytes = 2600;
    node_send("n2", &tx);

    vnet_node_down(v, "n1", now);
    vnet_node_down(v, "n2", now);
    assert_int_equal(flow_stats(fs, 4), 2);
    /* 10 + 5 + 4 + 2 (to the final 6) + 3 = 24 */
    const struct ofp_flow_stats *f1 = fs[0].priority == 10 ? &fs[0] : &fs[1];
    assert_int_equal(f1->packet_count, 24);
    assert_int_equal(f1->byte_count, 2400);

    struct ofp_msg m;
    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 9);
    m.mp.type = OFPMP_PORT_STATS;
    m.mp.port_no = OFPP_ANY;
    send_msg(&m);
    expect_type(&m, OFPT_MULTIPART_REPLY);
    struct ofp_mp_iter it;
    struct ofp_port_stats p;
    uint64_t tx_pk[4] = {0}, tx_by[4] = {0}, rx[4] = {0};
    ofp_mp_iter_init(&it, &m.mp);
    while (ofp_port_stats_next(&it, &p)) {
        tx_pk[p.port_no] = p.tx_packets;
        tx_by[p.port_no] = p.tx_bytes;
        rx[p.port_no] = p.rx_packets;
    }
    /* Flow 1 (24 packets from port 1) outputs to 2 and 3 and flow 2
     * floods: none of it is tx, only the interfaces' counts are. */
    assert_int_equal(tx_pk[1], 0);
    assert_int_equal(tx_pk[2], 47);
    assert_int_equal(tx_by[2], 4700);
    assert_int_equal(tx_pk[3], 26);
    assert_int_equal(rx[1], 70);

    /* A packet-out is tx where it is delivered: not when it is sent. */
    vnet_node_up(v, "n1", now);
    ack_all(drain());
    ofp_msg_init(&m, OFPT_PACKET_OUT, 10);
    m.packet_out.in_port = OFPP_CONTROLLER;
    ofp_actions_output(&m.packet_out.actions, 3);
    m.packet_out.data = (const uint8_t *)"0123456789abcdef";
    m.packet_out.data_len = 16;
    send_msg(&m);
    ofp_msg_destroy(&m);
    n = drain();
    int k = find(n, "n1", CHAN_VNET_PACKET_OUT, 0);
    assert_true(k >= 0);
    assert_int_equal(q[k].port, 3);
    assert_int_equal(q[k].frame_len, 16);
    json_t *j = vnet_switch_to_json(v, VS, true, now);
    assert_non_null(j);
    json_t *ports = json_object_get(j, "ports");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(ports, 2), "tx_packets")),
                     26);
    json_decref(j);
    tx.packets = 1; /* n1 delivered it */
    tx.bytes = 16;
    node_send("n1", &tx);
    j = vnet_switch_to_json(v, VS, true, now);
    ports = json_object_get(j, "ports");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(ports, 2), "tx_packets")),
                     27);
    assert_int_equal(json_array_size(json_object_get(j, "flows")), 2);
    json_decref(j);
}

static void
test_packet_in_merge(void **state)
{
    (void)state;
    struct ofp_msg m;
    handshake();
    hosts("n1", "n2");
    send_flow("add priority=0 actions=output:CONTROLLER", 0, 1);
    size_t n = drain();
    uint32_t miss = last_fid(n);
    ack_all(n);

    struct chan_msg pi;
    chan_msg_init(&pi, CHAN_VNET_PACKET_IN);
    pi.port = 2;
    pi.flow_id = miss;
    pi.version = 1;
    pi.frame_len = 200;
    for (size_t i = 0; i < pi.frame_len; i++) {
        pi.frame[i] = (uint8_t)i;
    }
    pi.total_len = 200;
    node_send("n1", &pi);
    expect_type(&m, OFPT_PACKET_IN);
    assert_int_equal(m.packet_in.reason, OFPR_NO_MATCH);
    assert_int_equal(m.packet_in.buffer_id, OFP_NO_BUFFER);
    assert_int_equal(m.packet_in.total_len, 200);
    assert_int_equal(m.packet_in.data_len, 200); /* CONTROLLER: whole */
    uint64_t in_port;
    assert_true(ofp_match_get(&m.packet_in.match, OFP_F_IN_PORT, &in_port,
                              NULL));
    assert_int_equal(in_port, 2);

    now += 300;
    node_send("n2", &pi); /* The same packet from the clone: merged. */
    expect_nothing();
    node_send("n1", &pi); /* Again from the same node: a new packet. */
    expect_type(&m, OFPT_PACKET_IN);
    now += 1500;
    node_send("n2", &pi); /* Outside the window. */
    expect_type(&m, OFPT_PACKET_IN);
    struct vnet_counters c;
    vnet_get_counters(v, &c);
    assert_int_equal(c.packet_in_duplicates, 1);
    assert_int_equal(c.packet_ins, 3);

    /* A flow's controller action with max_len 64: data cut, ACTION. */
    struct ofp_msg fm;
    char err[128];
    ofp_msg_init(&fm, OFPT_FLOW_MOD, 5);
    assert_int_equal(ofp_parse_flow_mod("add cookie=0x77 priority=9 in_port=3"
                                        " actions=output:1",
                                        &fm.flow_mod, err, sizeof err),
                     0);
    ofp_actions_controller(&fm.flow_mod.insts.apply, 64);
    send_msg(&fm);
    ofp_msg_destroy(&fm);
    n = drain();
    pi.flow_id = last_fid(n);
    pi.port = 3;
    ack_all(n);
    node_send("n1", &pi);
    expect_type(&m, OFPT_PACKET_IN);
    assert_int_equal(m.packet_in.reason, OFPR_ACTION);
    assert_int_equal(m.packet_in.cookie, 0x77);
    assert_int_equal(m.packet_in.data_len, 64);
    assert_int_equal(m.packet_in.total_len, 200);
}

static void
test_timeouts_and_flow_removed(void **state)
{
    (void)state;
    struct ofp_msg m;
    handshake();
    hosts("n1", NULL);
    send_flow("add priority=10 in_port=1 idle_timeout=2 actions=output:2",
              OFPFF_SEND_FLOW_REM, 1);
    send_flow("add priority=11 in_port=2 hard_timeout=5 actions=output:1",
              OFPFF_SEND_FLOW_REM, 2);
    size_t n = drain();
    uint32_t idle_fid = q[find(n, "n1", CHAN_VNET_FLOW, 0)].flow_id;
    ack_all(n);
    assert_int_equal(vnet_next_wake(v), now + 2000);

    now += 1500;
    fstat("n1", idle_fid, 1, 1, 3, 300); /* Used: idle restarts. */
    now += 1000;
    vnet_run(v, now);
    expect_nothing();
    now += 1000;
    vnet_run(v, now);
    expect_type(&m, OFPT_FLOW_REMOVED);
    assert_int_equal(m.flow_removed.reason, OFPRR_IDLE_TIMEOUT);
    assert_int_equal(m.flow_removed.priority, 10);
    assert_int_equal(m.flow_removed.packet_count, 3);
    n = drain();
    int d = find(n, "n1", CHAN_VNET_FLOW_DEL, 0);
    assert_true(d >= 0);
    assert_int_equal(q[d].flow_id, idle_fid);
    ack_all(n);

    now += 2000;
    vnet_run(v, now);
    expect_type(&m, OFPT_FLOW_REMOVED);
    assert_int_equal(m.flow_removed.reason, OFPRR_HARD_TIMEOUT);
    ack_all(drain());
    assert_int_equal(vnet_next_wake(v), INT64_MAX);

    /* Delete sends FLOW_REMOVED with reason DELETE. */
    send_flow("add priority=12 actions=output:1", OFPFF_SEND_FLOW_REM, 3);
    send_flow("delete", 0, 4);
    expect_type(&m, OFPT_FLOW_REMOVED);
    assert_int_equal(m.flow_removed.reason, OFPRR_DELETE);
}

static void
test_packet_out_flood_per_node(void **state)
{
    (void)state;
    struct ofp_msg m;
    handshake();
    hosts("n1", "n2");
    vnet_set_vm_node(v, VS, "vm3", "n2");
    ofp_msg_init(&m, OFPT_PACKET_OUT, 1);
    m.packet_out.in_port = 1;
    ofp_actions_output(&m.packet_out.actions, OFPP_FLOOD);
    m.packet_out.data = (const uint8_t *)"0123456789abcdef";
    m.packet_out.data_len = 16;
    send_msg(&m);
    ofp_msg_destroy(&m);
    expect_nothing();
    size_t n = drain();
    assert_int_equal(n, 2);
    int a = find(n, NULL, CHAN_VNET_PACKET_OUT, 0);
    int b = find(n, NULL, CHAN_VNET_PACKET_OUT, 1);
    assert_int_equal(q[a].port, 2);
    assert_string_equal(qnode[a], "n1"); /* Unknown placement: first. */
    assert_int_equal(q[b].port, 3);
    assert_string_equal(qnode[b], "n2");
}

static void
test_stats_timeout_and_nodes_leaving(void **state)
{
    (void)state;
    struct ofp_msg m;
    handshake();
    hosts("n1", "n2");
    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 3);
    m.mp.type = OFPMP_AGGREGATE;
    send_msg(&m);
    size_t n = drain();
    int k = find(n, "n1", CHAN_VNET_STATS_REQ, 0);
    assert_true(k >= 0 && find(n, "n2", CHAN_VNET_STATS_REQ, 0) >= 0);
    struct chan_msg end;
    chan_msg_init(&end, CHAN_VNET_STATS_END);
    end.seq = q[k].seq;
    node_send("n1", &end);
    expect_nothing();
    assert_int_equal(vnet_next_wake(v), now + 1000);
    now += 1000;
    vnet_run(v, now);
    expect_type(&m, OFPT_MULTIPART_REPLY);
    assert_int_equal(m.mp.type, OFPMP_AGGREGATE);

    /* A node leaving the hosting set gets vnet_remove; its ack is ours. */
    const char *one[1] = {"n1"};
    vnet_set_nodes(v, VS, one, 1);
    n = drain();
    k = find(n, "n2", CHAN_VNET_REMOVE, 0);
    assert_true(k >= 0);
    ack("n2", q[k].seq);
    /* An ack this module never sent is not consumed. */
    struct chan_msg a;
    chan_msg_init(&a, CHAN_ACK);
    a.seq = 5;
    assert_false(vnet_node_msg(v, "n1", &a, now));
}

static void
test_nack_reports_and_resyncs_once(void **state)
{
    (void)state;
    struct ofp_msg m;
    handshake();
    hosts("n1", NULL);
    send_flow("add priority=10 in_port=1 actions=output:2", 0, 41);
    send_simple(OFPT_BARRIER_REQUEST, 42);
    size_t n = drain();
    struct chan_msg nk;
    chan_msg_init(&nk, CHAN_NACK);
    nk.seq = q[find(n, "n1", CHAN_VNET_END, 0)].seq;
    nk.ofp_type = OFPET_FLOW_MOD_FAILED;
    nk.ofp_code = 1; /* TABLE_FULL */
    assert_true(vnet_node_msg(v, "n1", &nk, now));
    expect_error(OFPERR_OFPFMFC_TABLE_FULL, 41);
    /* A full push follows; the barrier waits for it. */
    n = drain();
    int b = find(n, "n1", CHAN_VNET_BEGIN, 0);
    assert_true(b >= 0 && q[b].full);
    expect_nothing();
    /* A second nack in a row: no further push (no loop). */
    nk.seq = q[find(n, "n1", CHAN_VNET_END, 0)].seq;
    assert_true(vnet_node_msg(v, "n1", &nk, now));
    expect_type(&m, OFPT_BARRIER_REPLY);
    assert_int_equal(m.xid, 42);
    assert_int_equal(drain(), 0);
    struct vnet_counters c;
    vnet_get_counters(v, &c);
    assert_int_equal(c.nacks, 2);
}

static void
test_nack_of_a_staged_round(void **state)
{
    (void)state;
    handshake();
    hosts("n1", NULL);
    vnet_split_begin(v, VS);
    send_flow("add priority=10 in_port=1 actions=output:2", 0, 50);
    send_flow("add priority=11 in_port=1 actions=output:3", 0, 51);
    size_t n = drain();
    /* 50 started a round; 51 and the next two came while it staged: the
     * next round, which 51 opened. */
    send_flow("add priority=12 in_port=2 actions=output:3", 0, 52);
    send_flow("add priority=13 in_port=2 actions=output:1", 0, 53);
    ack_all(n);       /* stage */
    ack_all(drain()); /* flip */
    ack_all(drain()); /* drop; the next round stages */
    n = drain();
    int e = find(n, "n1", CHAN_VNET_END, 0);
    assert_true(e >= 0);
    struct chan_msg nk;
    chan_msg_init(&nk, CHAN_NACK);
    nk.seq = q[e].seq;
    nk.ofp_type = OFPET_FLOW_MOD_FAILED;
    nk.ofp_code = 1;
    assert_true(vnet_node_msg(v, "n1", &nk, now));
    /* The first flow-mod of that batch hears of it. */
    expect_error(OFPERR_OFPFMFC_TABLE_FULL, 51);
    expect_nothing();
}

/* ---- A fake node: applies pushes as the agent would. ------------------ */

struct fake_flow {
    uint32_t fid;
    uint64_t version;
    size_t len;
    uint8_t ofp[CHAN_FRAME_MAX];
    bool listed;
};

struct fake_node {
    uint64_t active;
    bool in_full;
    size_t n;
    struct fake_flow f[256];
};

static struct fake_flow *
fake_find(struct fake_node *fn, uint32_t fid, uint64_t version)
{
    for (size_t i = 0; i < fn->n; i++) {
        if (fn->f[i].fid == fid && fn->f[i].version == version) {
            return &fn->f[i];
        }
    }
    return NULL;
}

static void
fake_apply(struct fake_node *fn, const struct chan_msg *m)
{
    struct fake_flow *f;
    switch (m->type) {
    case CHAN_VNET_BEGIN:
        fn->active = m->active;
        fn->in_full = m->full;
        for (size_t i = 0; i < fn->n; i++) {
            fn->f[i].listed = false;
        }
        break;
    case CHAN_VNET_FLOW:
        f = fake_find(fn, m->flow_id, m->version);
        if (!f) {
            assert_true(fn->n < 256);
            f = &fn->f[fn->n++];
        }
        f->fid = m->flow_id;
        f->version = m->version;
        f->len = m->frame_len;
        memcpy(f->ofp, m->frame, m->frame_len);
        f->listed = true;
        break;
    case CHAN_VNET_FLOW_DEL:
        f = fake_find(fn, m->flow_id, m->version);
        if (f) {
            *f = fn->f[--fn->n];
        }
        break;
    case CHAN_VNET_END:
        for (size_t i = 0; fn->in_full && i < fn->n;) {
            if (!fn->f[i].listed) {
                fn->f[i] = fn->f[--fn->n];
            } else {
                i++;
            }
        }
        break;
    case CHAN_VNET_DROP:
        for (size_t i = 0; i < fn->n;) {
            if (fn->f[i].version == m->version) {
                fn->f[i] = fn->f[--fn->n];
            } else {
                i++;
            }
        }
        break;
    default:
        break;
    }
}

/* Applies every drained message to its fake node, then acks. */
static void
fake_round(struct fake_node *a, struct fake_node *b)
{
    for (int again = 0; again < 8; again++) {
        size_t n = drain();
        if (!n) {
            return;
        }
        for (size_t k = 0; k < n; k++) {
            fake_apply(!strcmp(qnode[k], "n1") ? a : b, &q[k]);
        }
        ack_all(n);
    }
}

static bool
fake_same(struct fake_node *a, struct fake_node *b)
{
    if (a->active != b->active || a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        struct fake_flow *o = fake_find(b, a->f[i].fid, a->f[i].version);
        if (!o || o->len != a->f[i].len
            || memcmp(o->ofp, a->f[i].ofp, o->len)) {
            return false;
        }
    }
    return true;
}

static void
test_incremental_matches_full_push(void **state)
{
    (void)state;
    static struct fake_node a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    handshake();
    vnet_node_up(v, "n1", now);
    const char *one[1] = {"n1"};
    vnet_set_nodes(v, VS, one, 1);
    fake_round(&a, &b);
    uint32_t seed = 12345;
    char text[160];
    for (int i = 0; i < 400; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 8;
        unsigned prio = r % 4, in = 1 + (r >> 4) % 3, out = 1 + (r >> 6) % 3;
        const char *cmd[] = {"add", "add", "modify", "delete",
                             "delete_strict", "modify_strict"};
        snprintf(text, sizeof text,
                 "%s priority=%u in_port=%u actions=output:%u",
                 cmd[(r >> 9) % 6], prio, in, out);
        if ((r >> 12) % 5 == 0) {
            snprintf(text, sizeof text, "add priority=%u actions=output:%u",
                     prio, out);
        }
        send_flow(text, 0, (uint32_t)i + 1);
        if (i == 100) {
            vnet_split_begin(v, VS);
        } else if (i == 250) {
            vnet_split_end(v, VS);
        }
        if (r % 3 == 0) {
            fake_round(&a, &b);
        }
    }
    fake_round(&a, &b);
    /* Drain the tenant side (flow-removed and errors are none here). */
    expect_nothing();
    /* A fresh node gets a full push: the same state as n1's. */
    vnet_node_up(v, "n2", now);
    const char *two[2] = {"n1", "n2"};
    vnet_set_nodes(v, VS, two, 2);
    fake_round(&a, &b);
    assert_true(a.n > 0);
    assert_true(fake_same(&a, &b));
    struct vnet_switch_info info;
    assert_true(vnet_switch_info(v, VS, &info));
    assert_int_equal(info.n_flows, a.n); /* One version left on the node. */
    assert_true(info.active > 1);        /* Rounds ran while split. */
}

static void
test_large_flow_stats_split_into_parts(void **state)
{
    (void)state;
    handshake();
    char text[96];
    for (int i = 0; i < 1500; i++) {
        snprintf(text, sizeof text,
                 "add priority=%d in_port=1,eth_type=0x0800,"
                 "ipv4_dst=198.18.%d.%d actions=output:2,output:3",
                 100 + i % 7, i / 250, i % 250);
        send_flow(text, 0, (uint32_t)i);
    }
    expect_nothing();
    struct ofp_msg m;
    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 5);
    m.mp.type = OFPMP_FLOW;
    send_msg(&m);
    size_t total = 0, parts = 0;
    bool more = true;
    while (more) {
        expect_type(&m, OFPT_MULTIPART_REPLY);
        assert_int_equal(m.xid, 5);
        more = m.mp.flags & OFPMPF_REPLY_MORE;
        total += m.mp.n_entries;
        parts++;
    }
    expect_nothing();
    assert_int_equal(total, 1500);
    assert_true(parts > 1);
}

static void
test_many_counters_add_up(void **state)
{
    (void)state;
    handshake();
    hosts("n1", "n2");
    char text[96];
    static uint32_t fids[1000];
    size_t nf = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(text, sizeof text,
                 "add priority=%d eth_type=0x0800,ipv4_dst=198.18.%d.%d"
                 " actions=output:2",
                 10 + i % 5, i / 250, i % 250);
        send_flow(text, 0, (uint32_t)i);
        size_t n = drain();
        fids[nf++] = q[find(n, "n1", CHAN_VNET_FLOW, 0)].flow_id;
        ack_all(n);
    }
    /* Three rounds of reports from both nodes for ports 1 and 3; n2's
     * counters restart before the last round. */
    uint64_t want = 0;
    for (int round = 1; round <= 3; round++) {
        for (size_t i = 0; i < nf; i++) {
            for (uint32_t qp = 1; qp <= 3; qp += 2) {
                fstat("n1", fids[i], 1, qp, (uint64_t)round * 2, 100);
                uint64_t n2 = round == 3 ? 1 : (uint64_t)round;
                fstat("n2", fids[i], 1, qp, n2, 100);
            }
        }
    }
    /* n1: 6 per key; n2: 2 then a restart at 1: 3 per key. */
    want = nf * 2 * (6 + 3);
    vnet_node_down(v, "n1", now);
    vnet_node_down(v, "n2", now);
    struct ofp_msg m;
    ofp_msg_init(&m, OFPT_MULTIPART_REQUEST, 3);
    m.mp.type = OFPMP_AGGREGATE;
    send_msg(&m);
    expect_type(&m, OFPT_MULTIPART_REPLY);
    assert_int_equal(m.mp.aggregate.flow_count, 1000);
    assert_int_equal(m.mp.aggregate.packet_count, want);
}

static void
test_garbage_input_never_crashes(void **state)
{
    (void)state;
    handshake();
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof junk; i++) {
        junk[i] = (uint8_t)(i * 37 + 4);
    }
    junk[0] = 4; /* version 1.3 */
    junk[1] = OFPT_FLOW_MOD;
    junk[2] = 0;
    junk[3] = 64;
    vnet_tenant_input(v, VS, junk, sizeof junk, now);
    struct ofp_msg m;
    expect_type(&m, OFPT_ERROR);
    /* A length below the header: the stream is lost. */
    uint8_t bad[8] = {4, 2, 0, 4, 0, 0, 0, 1};
    vnet_tenant_input(v, VS, bad, sizeof bad, now);
    assert_true(vnet_tenant_must_close(v, VS));
    vnet_tenant_disconnected(v, VS);
    assert_false(vnet_tenant_must_close(v, VS));
}

static void
test_switch_definitions(void **state)
{
    (void)state;
    struct vnet_switch_def *d = calloc(1, sizeof *d);
    char err[128];
    snprintf(d->id, sizeof d->id, VS);
    d->vni = 5;
    assert_int_equal(vnet_switch_add(v, d, err, sizeof err), EEXIST);
    snprintf(d->id, sizeof d->id, "vs2");
    d->vni = 0xf00001; /* Not below the key base. */
    assert_int_equal(vnet_switch_add(v, d, err, sizeof err), EINVAL);
    d->vni = 5;
    d->n_ports = 2;
    d->ports[0].port = 1;
    d->ports[1].port = 1;
    snprintf(d->ports[0].vm, sizeof d->ports[0].vm, "a");
    snprintf(d->ports[1].vm, sizeof d->ports[1].vm, "b");
    assert_int_equal(vnet_switch_add(v, d, err, sizeof err), EINVAL);
    d->ports[1].port = 2;
    assert_int_equal(vnet_switch_add(v, d, err, sizeof err), 0);
    assert_int_equal(vnet_port_key(v, "vs2", 2), 0xf00004);
    assert_int_equal(vnet_n_switches(v), 2);
    assert_string_equal(vnet_switch_id(v, 1), "vs2");
    assert_int_equal(vnet_switch_remove(v, "vs2"), 0);
    assert_int_equal(vnet_switch_remove(v, "vs2"), ENOENT);

    /* Keys given back (a restarted daemon): kept, and checked. */
    snprintf(d->id, sizeof d->id, "vs3");
    d->ports[0].key = 0xf00001; /* vs1's port 2 */
    assert_int_equal(vnet_switch_add(v, d, err, sizeof err), EINVAL);
    d->ports[0].key = 0xf00010;
    d->ports[1].key = 0xf00010;
    assert_int_equal(vnet_switch_add(v, d, err, sizeof err), EINVAL);
    d->ports[1].key = 0;
    assert_int_equal(vnet_switch_add(v, d, err, sizeof err), 0);
    assert_int_equal(vnet_port_key(v, "vs3", 1), 0xf00010);
    uint32_t k2 = vnet_port_key(v, "vs3", 2);
    assert_true(k2 >= 0xf00000 && k2 != 0xf00010);
    for (uint32_t p = 1; p <= 3; p++) {
        assert_int_not_equal(vnet_port_key(v, VS, p), k2);
    }
    free(d);

    /* A key space that runs out. */
    struct vnet_options o;
    vnet_options_init(&o);
    o.key_base = 0x100;
    o.key_max = 0x101;
    struct vnet *small = vnet_create(&o);
    struct vnet_switch_def *e = calloc(1, sizeof *e);
    snprintf(e->id, sizeof e->id, "a");
    e->vni = 1;
    e->n_ports = 3;
    for (int i = 0; i < 3; i++) {
        e->ports[i].port = (uint32_t)i + 1;
        snprintf(e->ports[i].vm, sizeof e->ports[i].vm, "m%d", i);
    }
    assert_int_equal(vnet_switch_add(small, e, err, sizeof err), ENOSPC);
    e->n_ports = 2;
    assert_int_equal(vnet_switch_add(small, e, err, sizeof err), 0);
    assert_int_equal(vnet_switch_remove(small, "a"), 0);
    assert_int_equal(vnet_switch_add(small, e, err, sizeof err), 0);
    vnet_destroy(small);
    free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
        T(test_handshake_and_simple_requests),
        T(test_hello_without_13_fails),
        T(test_slice_refusals_change_nothing),
        T(test_flow_mod_semantics),
        T(test_modify_keeps_counters),
        T(test_barrier_waits_for_every_node),
        T(test_two_phase_while_split),
        T(test_counters_monotone_and_tx),
        T(test_packet_in_merge),
        T(test_timeouts_and_flow_removed),
        T(test_packet_out_flood_per_node),
        T(test_stats_timeout_and_nodes_leaving),
        T(test_nack_reports_and_resyncs_once),
        T(test_nack_of_a_staged_round),
        T(test_incremental_matches_full_push),
        T(test_large_flow_stats_split_into_parts),
        T(test_many_counters_add_up),
        T(test_garbage_input_never_crashes),
        T(test_switch_definitions),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
