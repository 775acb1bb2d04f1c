/* test_fabric_flows.c: planned routes as fabric flows.
 *
 * A route on the seed-002 topology (found by the real router) becomes, per
 * switch, the flows written out by hand below; every flow encodes (a
 * switch would accept it); cookies separate migrations and paths; bad hops
 * are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/fabric_flows.h"
#include "planner_helpers.h"

static const char topo[] =
    "switch s1 dpid=1\nswitch s2 dpid=2\nswitch s3 dpid=3\n"
    "switch s4 dpid=4\nswitch s5 dpid=5\n"
    "link s1:1 s4:4 500mbit\nlink s1:2 s5:4 500mbit\n"
    "link s2:1 s4:5 500mbit\nlink s2:2 s5:5 500mbit\n"
    "link s3:1 s4:6 500mbit\nlink s3:2 s5:6 500mbit\n"
    "host h1 s4:1\nhost h4 s5:1\n";

/* "dpid match actions" of a flow. */
static char *
flow_text(const struct fabric_flow *f)
{
    char *m = ofp_match_to_string(&f->fm.match);
    char *a = ofp_instructions_to_string(&f->fm.insts);
    char *out = malloc(512);
    snprintf(out, 512, "%llu %s %s", (unsigned long long) f->dpid, m, a);
    free(m);
    free(a);
    return out;
}

static void
test_path_flows_by_hand(void **state)
{
    (void) state;
    struct fabric *f = parse_ok(topo);
    struct router_config rc;
    router_config_default(&rc);
    struct router *r = router_create(f, &rc);
    struct route rt;
    route_init(&rt);
    assert_int_equal(router_find(r, ROUTE_SINGLE, node_of(f, "h4"),
                                 node_of(f, "h1"), &rt),
                     0);
    assert_int_equal(rt.n_hops, 3);

    struct fabric_path_key k = {
        .src_ip = 0xc6120004, /* 198.18.0.4 */
        .dst_ip = 0xc6120001,
        .tcp_port = 49153,
        .arp = true,
        .cookie = fabric_cookie(7, 1),
        .priority = FABRIC_PRIO_PATH,
    };
    size_t cap = fabric_path_n_flows(rt.n_hops, true);
    assert_int_equal(cap, 12);
    struct fabric_flow *flows = calloc(cap, sizeof *flows);
    size_t n = 0;
    assert_int_equal(fabric_path_flows(rt.hops, rt.n_hops, &k, flows, &n),
                     0);
    assert_int_equal(n, 12);

    /* h4 - s5:1 ... s5:4 - s1:2 ... s1:1 - s4:4 ... s4:1 - h1 */
    static const char *const want[12] = {
        "5 in_port=1,eth_type=0x0800,ip_proto=6,ipv4_src=198.18.0.4,"
        "ipv4_dst=198.18.0.1,tcp_dst=49153 actions=output:4",
        "5 in_port=4,eth_type=0x0800,ip_proto=6,ipv4_src=198.18.0.1,"
        "ipv4_dst=198.18.0.4,tcp_src=49153 actions=output:1",
        "5 in_port=1,eth_type=0x0806,arp_spa=198.18.0.4,"
        "arp_tpa=198.18.0.1 actions=output:4",
        "5 in_port=4,eth_type=0x0806,arp_spa=198.18.0.1,"
        "arp_tpa=198.18.0.4 actions=output:1",
        "1 in_port=2,eth_type=0x0800,ip_proto=6,ipv4_src=198.18.0.4,"
        "ipv4_dst=198.18.0.1,tcp_dst=49153 actions=output:1",
        "1 in_port=1,eth_type=0x0800,ip_proto=6,ipv4_src=198.18.0.1,"
        "ipv4_dst=198.18.0.4,tcp_src=49153 actions=output:2",
        "1 in_port=2,eth_type=0x0806,arp_spa=198.18.0.4,"
        "arp_tpa=198.18.0.1 actions=output:1",
        "1 in_port=1,eth_type=0x0806,arp_spa=198.18.0.1,"
        "arp_tpa=198.18.0.4 actions=output:2",
        "4 in_port=4,eth_type=0x0800,ip_proto=6,ipv4_src=198.18.0.4,"
        "ipv4_dst=198.18.0.1,tcp_dst=49153 actions=output:1",
        "4 in_port=1,eth_type=0x0800,ip_proto=6,ipv4_src=198.18.0.1,"
        "ipv4_dst=198.18.0.4,tcp_src=49153 actions=output:4",
        "4 in_port=4,eth_type=0x0806,arp_spa=198.18.0.4,"
        "arp_tpa=198.18.0.1 actions=output:1",
        "4 in_port=1,eth_type=0x0806,arp_spa=198.18.0.1,"
        "arp_tpa=198.18.0.4 actions=output:4",
    };
    for (size_t i = 0; i < n; i++) {
        char *t = flow_text(&flows[i]);
        if (strcmp(t, want[i])) {
            fail_msg("flow %zu:\n got  %s\n want %s", i, t, want[i]);
        }
        free(t);
        assert_true(flows[i].fm.cookie == ((UINT64_C(0x6d67) << 48)
                                           | 7 << 8 | 1));
        assert_int_equal(flows[i].fm.priority, FABRIC_PRIO_PATH);
        assert_int_equal(flows[i].fm.command, OFPFC_ADD);
        /* The switch would take it. */
        struct ofp_msg msg;
        ofp_msg_init(&msg, OFPT_FLOW_MOD, 1);
        msg.flow_mod = flows[i].fm;
        struct ofpbuf b;
        ofpbuf_init(&b, 256);
        assert_int_equal(ofp_encode(&msg, &b), OFPERR_OK);
        ofpbuf_uninit(&b);
    }

    /* Without ARP: only the TCP pair per hop. */
    k.arp = false;
    assert_int_equal(fabric_path_n_flows(rt.n_hops, false), 6);
    fabric_flows_destroy(flows, 12);
    memset(flows, 0, cap * sizeof *flows);
    assert_int_equal(fabric_path_flows(rt.hops, rt.n_hops, &k, flows, &n),
                     0);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        uint64_t v, m;
        assert_true(ofp_match_get(&flows[i].fm.match, OFP_F_ETH_TYPE, &v,
                                  &m));
        assert_int_equal(v, 0x0800);
    }
    fabric_flows_destroy(flows, n);
    free(flows);
    route_destroy(&rt);
    router_destroy(r);
    fabric_destroy(f);
}

static void
test_bad_hops(void **state)
{
    (void) state;
    struct fabric_path_key k = {.src_ip = 1, .dst_ip = 2, .tcp_port = 9};
    struct fabric_flow flows[8];
    size_t n = 99;
    struct route_hop zero_in = {.dpid = 1, .in_port = 0, .out_port = 2};
    struct route_hop same = {.dpid = 1, .in_port = 2, .out_port = 2};
    struct route_hop reserved = {.dpid = 1, .in_port = 1,
                                 .out_port = OFPP_CONTROLLER};
    assert_int_equal(fabric_path_flows(&zero_in, 1, &k, flows, &n), EINVAL);
    assert_int_equal(fabric_path_flows(&same, 1, &k, flows, &n), EINVAL);
    assert_int_equal(fabric_path_flows(&reserved, 1, &k, flows, &n),
                     EINVAL);
    assert_int_equal(n, 99);
    /* No hops: nothing to do, and said so. */
    assert_int_equal(fabric_path_flows(NULL, 0, &k, flows, &n), 0);
    assert_int_equal(n, 0);
}

static void
test_cookies_and_deletes(void **state)
{
    (void) state;
    /* Paths of one migration share the migration mask; two migrations
     * never do; the id wraps at 40 bits, never into the tag. */
    uint64_t a0 = fabric_cookie(5, 0), a3 = fabric_cookie(5, 3);
    uint64_t b0 = fabric_cookie(6, 0);
    assert_true((a0 & FABRIC_COOKIE_MIG_MASK)
                == (a3 & FABRIC_COOKIE_MIG_MASK));
    assert_true((a0 & FABRIC_COOKIE_MIG_MASK)
                != (b0 & FABRIC_COOKIE_MIG_MASK));
    assert_true((fabric_cookie(UINT64_MAX, 255) & FABRIC_COOKIE_TAG_MASK)
                == FABRIC_COOKIE_TAG);
    assert_true(fabric_cookie(FABRIC_MIGRATION_MAX, 0)
                != fabric_cookie(0, 0));

    struct ofp_flow_mod fm;
    fabric_delete_flows(a0, FABRIC_COOKIE_MIG_MASK, &fm);
    assert_int_equal(fm.command, OFPFC_DELETE);
    assert_int_equal(fm.table_id, OFPTT_ALL);
    assert_true(fm.cookie == a0);
    assert_true(fm.cookie_mask == FABRIC_COOKIE_MIG_MASK);
    assert_int_equal(fm.out_port, OFPP_ANY);

    fabric_lldp_punt_flow(&fm);
    char *m = ofp_match_to_string(&fm.match);
    char *a = ofp_instructions_to_string(&fm.insts);
    assert_string_equal(m, "eth_type=0x88cc");
    assert_string_equal(a, "actions=output:CONTROLLER:65535");
    free(m);
    free(a);
    assert_int_equal(fm.priority, FABRIC_PRIO_LLDP);
    assert_true((fm.cookie & FABRIC_COOKIE_MIG_MASK) == FABRIC_COOKIE_TAG);
    ofp_flow_mod_destroy(&fm);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_flows_by_hand),
        cmocka_unit_test(test_bad_hops),
        cmocka_unit_test(test_cookies_and_deletes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
