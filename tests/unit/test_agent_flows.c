/* test_agent_flows.c: the agent's pipeline (what flows a node's view
 * yields), its flow-table difference, and its copy of the gateway map. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/agent_map.h"
#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "mignet/ofp.h"

#define TUN 9
#define PEER_B 0xc6120002u /* 198.18.0.2 */
#define PEER_C 0xc6120003u

static struct mn_config
vmcfg(uint8_t n)
{
    struct mn_config c = {0};
    c.mac[0] = 2;
    c.mac[5] = n;
    c.ip = 0xc6120100u | n; /* 198.18.1.n */
    c.vni = 100;
    return c;
}

static const struct flowtab_flow *
find_dst(const struct flowtab *t, uint8_t table, uint16_t prio,
         const struct mn_config *c)
{
    struct ofp_match m;
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_TUNNEL_ID, c->vni);
    ofp_match_set(&m, OFP_F_ETH_DST, ofp_eth_to_u64(c->mac));
    return flowtab_find(t, table, prio, &m);
}

static const struct ofp_action *
act(const struct flowtab_flow *f, size_t i)
{
    assert_non_null(f);
    assert_true(f->insts.present & OFP_INST_APPLY);
    assert_true(i < f->insts.apply.n);
    return &f->insts.apply.a[i];
}

static void
test_pipeline_kinds(void **state)
{
    struct pl_vm vms[] = {
        {.vm = "vm1", .kind = PL_VM_LOCAL, .config = vmcfg(1), .ofport = 5},
        {.vm = "vm2", .kind = PL_VM_RELAY, .config = vmcfg(2),
         .peer = PEER_B},
        {.vm = "vm3", .kind = PL_VM_REMOTE, .config = vmcfg(3),
         .peer = PEER_C},
        {.vm = "vm4", .kind = PL_VM_LOCAL, .config = vmcfg(4), .ofport = 0},
    };
    struct pl_input in = {.tunnel_port = TUN, .vms = vms, .n_vms = 4};
    struct flowtab *t = flowtab_create();
    pipeline_compute(&in, t);

    /* Local delivery from VMs and from the overlay. */
    for (int k = 0; k < 2; k++) {
        const struct flowtab_flow *f =
            find_dst(t, k ? PL_T_FROM_TUN : PL_T_FROM_VM, 200, &vms[0].config);
        assert_int_equal(act(f, 0)->type, OFP_ACT_OUTPUT);
        assert_int_equal(act(f, 0)->output.port, 5);
        assert_int_equal(f->cookie, pl_cookie(PL_K_LOCAL, "vm1"));
    }
    /* Relay: from a local VM out of the tunnel port, from the overlay
     * back out of the port it came in on; both to the new node. */
    const struct flowtab_flow *r =
        find_dst(t, PL_T_FROM_VM, 150, &vms[1].config);
    assert_int_equal(act(r, 0)->type, OFP_ACT_SET_FIELD);
    assert_int_equal(act(r, 0)->set_field.field, OFP_F_TUN_IPV4_DST);
    assert_int_equal(act(r, 0)->set_field.value, PEER_B);
    assert_int_equal(act(r, 1)->output.port, TUN);
    r = find_dst(t, PL_T_FROM_TUN, 150, &vms[1].config);
    assert_int_equal(act(r, 1)->output.port, OFPP_IN_PORT);
    assert_int_equal(r->cookie & PL_COOKIE_KIND_MASK,
                     pl_cookie_kind(PL_K_RELAY));
    /* Remote: only for local senders, never from the overlay (no loops). */
    const struct flowtab_flow *rem =
        find_dst(t, PL_T_FROM_VM, 100, &vms[2].config);
    assert_int_equal(act(rem, 0)->set_field.value, PEER_C);
    assert_null(find_dst(t, PL_T_FROM_TUN, 100, &vms[2].config));
    /* An unplugged local VM gets no delivery flow. */
    assert_null(find_dst(t, PL_T_FROM_VM, 200, &vms[3].config));
    /* Classification tags VM traffic with its key. */
    struct ofp_match m;
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 5);
    const struct flowtab_flow *cl = flowtab_find(t, PL_T_CLASSIFY, 100, &m);
    assert_int_equal(act(cl, 0)->set_field.field, OFP_F_TUNNEL_ID);
    assert_int_equal(act(cl, 0)->set_field.value, 100);
    assert_int_equal(cl->insts.goto_table, PL_T_PORTSEC);
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, TUN);
    cl = flowtab_find(t, PL_T_CLASSIFY, 100, &m);
    assert_non_null(cl);
    assert_int_equal(cl->insts.goto_table, PL_T_FROM_TUN);
    /* ARP answers for local and remote VMs, not for a relay snapshot. */
    for (int i = 0; i < 4; i++) {
        ofp_match_init(&m);
        ofp_match_set(&m, OFP_F_TUNNEL_ID, 100);
        ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0806);
        ofp_match_set(&m, OFP_F_ARP_OP, 1);
        ofp_match_set(&m, OFP_F_ARP_TPA, vms[i].config.ip);
        const struct flowtab_flow *arp =
            flowtab_find(t, PL_T_FROM_VM, 300, &m);
        if (i == 1) {
            assert_null(arp);
        } else {
            assert_non_null(arp);
            const struct ofp_action *last =
                &arp->insts.apply.a[arp->insts.apply.n - 1];
            assert_int_equal(last->output.port, OFPP_IN_PORT);
        }
    }
    /* Every flow passes the switch's own consistency checks. */
    struct ofpbuf b;
    ofpbuf_init(&b, 1024);
    struct flowtab *installed = flowtab_create();
    uint32_t xid = 1;
    struct flowtab_diff d;
    flowtab_sync(installed, t, &b, &xid, &d);
    assert_int_equal(d.added, flowtab_count(t));
    assert_int_equal(d.deleted + d.modified, 0);
    assert_int_equal(xid, 1 + flowtab_count(t));
    ofpbuf_uninit(&b);
    flowtab_destroy(installed);
    flowtab_destroy(t);
}

/* Without an overlay port nothing can leave the node. */
static void
test_pipeline_no_tunnel(void **state)
{
    struct pl_vm vms[] = {
        {.vm = "vm2", .kind = PL_VM_RELAY, .config = vmcfg(2),
         .peer = PEER_B},
        {.vm = "vm3", .kind = PL_VM_REMOTE, .config = vmcfg(3),
         .peer = PEER_C},
    };
    struct pl_input in = {.tunnel_port = 0, .vms = vms, .n_vms = 2};
    struct flowtab *t = flowtab_create();
    pipeline_compute(&in, t);
    assert_null(find_dst(t, PL_T_FROM_VM, 150, &vms[0].config));
    assert_null(find_dst(t, PL_T_FROM_VM, 100, &vms[1].config));
    flowtab_destroy(t);
}

/* The difference is exactly what changed: a local VM that left and
 * relays now, and nothing at all when nothing changed. */
static void
test_flowtab_diff(void **state)
{
    struct pl_vm before[] = {
        {.vm = "vm1", .kind = PL_VM_LOCAL, .config = vmcfg(1), .ofport = 5},
        {.vm = "vm3", .kind = PL_VM_REMOTE, .config = vmcfg(3),
         .peer = PEER_C},
    };
    struct pl_vm after[] = {
        {.vm = "vm1", .kind = PL_VM_RELAY, .config = vmcfg(1),
         .peer = PEER_B},
        {.vm = "vm3", .kind = PL_VM_REMOTE, .config = vmcfg(3),
         .peer = PEER_B},
    };
    struct flowtab *desired = flowtab_create();
    struct flowtab *installed = flowtab_create();
    struct ofpbuf b;
    ofpbuf_init(&b, 1024);
    uint32_t xid = 1;
    struct flowtab_diff d;
    struct pl_input in = {.tunnel_port = TUN, .vms = before, .n_vms = 2};
    pipeline_compute(&in, desired);
    flowtab_sync(installed, desired, &b, &xid, &d);
    size_t n_before = flowtab_count(installed);

    b.size = 0;
    flowtab_sync(installed, desired, &b, &xid, &d);
    assert_int_equal(d.added + d.modified + d.deleted, 0);
    assert_int_equal(b.size, 0);

    in.vms = after;
    pipeline_compute(&in, desired);
    flowtab_sync(installed, desired, &b, &xid, &d);
    /* Gone: classification (1) and delivery (2) of vm1.  New: two relay
     * flows.  Changed: vm3's remote flow (new peer); vm1's ARP flow also
     * goes (a relay snapshot does not answer ARP). */
    assert_int_equal(d.deleted, 4);
    assert_int_equal(d.added, 2);
    assert_int_equal(d.modified, 1);
    assert_int_equal(flowtab_count(installed), n_before - 4 + 2);
    /* Make before break: every add precedes every delete. */
    struct ofp_msg msg;
    size_t len, off = 0;
    bool seen_delete = false;
    int n_msgs = 0;
    while (off < b.size) {
        assert_int_equal(ofp_frame(b.data + off, b.size - off, &len),
                         OFPERR_OK);
        assert_int_equal(ofp_decode(b.data + off, len, &msg), OFPERR_OK);
        assert_int_equal(msg.type, OFPT_FLOW_MOD);
        if (msg.flow_mod.command == OFPFC_DELETE_STRICT) {
            seen_delete = true;
        } else {
            assert_false(seen_delete);
        }
        off += len;
        n_msgs++;
    }
    assert_true(seen_delete);
    assert_int_equal(n_msgs, 7);
    ofpbuf_uninit(&b);
    flowtab_destroy(desired);
    flowtab_destroy(installed);
}

static const char *full =
    "{\"version\": 7, \"full\": true, \"entries\": ["
    "{\"vm\": \"vm1\", \"version\": 3, \"removed\": false, \"node\": \"n1\","
    " \"address\": \"198.18.0.1\", \"epoch\": 1,"
    " \"mac\": \"02:00:00:00:00:01\", \"ip\": \"198.18.1.1\", \"vni\": 100},"
    "{\"vm\": \"vm2\", \"version\": 7, \"removed\": false, \"node\": \"n2\","
    " \"address\": \"198.18.0.2\", \"epoch\": 4,"
    " \"mac\": \"02:00:00:00:00:02\", \"ip\": \"198.18.1.2\", \"vlan\": 7}]}";

static void
test_map_apply(void **state)
{
    struct agent_map *m = agent_map_create();
    char err[128];
    assert_int_equal(agent_map_apply(m, full, strlen(full), err, sizeof err),
                     0);
    assert_int_equal(agent_map_version(m), 7);
    assert_int_equal(agent_map_count(m), 2);
    const struct amap_entry *e = agent_map_find(m, "vm2");
    assert_non_null(e);
    assert_string_equal(e->node, "n2");
    assert_int_equal(e->address, 0xc6120002u);
    assert_int_equal(e->epoch, 4);
    assert_int_equal(e->config.vlan, 7);

    const char *inc =
        "{\"version\": 9, \"full\": false, \"entries\": ["
        "{\"vm\": \"vm1\", \"version\": 8, \"removed\": true},"
        "{\"vm\": \"vm2\", \"version\": 9, \"node\": \"n3\","
        " \"address\": \"198.18.0.3\", \"epoch\": 5,"
        " \"mac\": \"02:00:00:00:00:02\", \"ip\": \"198.18.1.2\"}]}";
    assert_int_equal(agent_map_apply(m, inc, strlen(inc), err, sizeof err),
                     0);
    assert_int_equal(agent_map_count(m), 1);
    assert_null(agent_map_find(m, "vm1"));
    assert_string_equal(agent_map_find(m, "vm2")->node, "n3");

    /* Malformed answers change nothing, whatever part is wrong. */
    const char *bad[] = {
        "not json",
        "[]",
        "{\"full\": true, \"entries\": []}",
        "{\"version\": 10, \"entries\": {}}",
        "{\"version\": 10, \"full\": true, \"entries\": [{\"vm\": \"a b\"}]}",
        "{\"version\": 10, \"full\": true, \"entries\": [{\"vm\": \"x\","
        " \"node\": \"n1\", \"epoch\": 1, \"mac\": \"zz\","
        " \"ip\": \"198.18.1.9\"}]}",
        "{\"version\": 10, \"full\": true, \"entries\": [{\"vm\": \"x\","
        " \"node\": \"n1\", \"epoch\": 1, \"mac\": \"02:00:00:00:00:09\","
        " \"ip\": \"198.18.1.9\", \"vni\": 99999999}]}",
        "{\"version\": 10, \"full\": true, \"entries\": [{\"vm\": \"ok\","
        " \"node\": \"n1\", \"epoch\": 1, \"mac\": \"02:00:00:00:00:09\","
        " \"ip\": \"198.18.1.9\"}, {\"vm\": \"x\", \"removed\": 3}]}",
        "{\"version\": -1, \"full\": true, \"entries\": []}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_not_equal(agent_map_apply(m, bad[i], strlen(bad[i]), err,
                                             sizeof err),
                             0);
        assert_true(err[0] != 0);
        assert_int_equal(agent_map_version(m), 9);
        assert_int_equal(agent_map_count(m), 1);
        assert_string_equal(agent_map_find(m, "vm2")->node, "n3");
    }
    agent_map_destroy(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_kinds),
        cmocka_unit_test(test_pipeline_no_tunnel),
        cmocka_unit_test(test_flowtab_diff),
        cmocka_unit_test(test_map_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
