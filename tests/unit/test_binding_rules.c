/* test_binding_rules.c: the anti-spoofing rules a binding implies, judged
 * by evaluating them on packets.
 *
 * Expected values are written out here, never computed by the code under
 * test. */
#include "unit/binding_fixture.h"

/* ---- Anti-spoofing rules ---- */

/* A packet from a VM port, as the rules see it. */
struct pkt {
    uint32_t in_port;
    const uint8_t *eth_src;
    uint16_t eth_type;
    uint32_t ip_src;
    uint8_t ip_proto;
    uint16_t udp_src, udp_dst;
    const uint8_t *arp_sha;
    uint32_t arp_spa;
};

static bool
rule_matches(const struct binding_rule *r, const struct pkt *p)
{
    uint32_t m = r->match;
    bool is_ip = p->eth_type == 0x0800, is_arp = p->eth_type == 0x0806;
    bool is_udp = is_ip && p->ip_proto == 17;
    return (!(m & BINDING_M_IN_PORT) || r->in_port == p->in_port)
           && (!(m & BINDING_M_ETH_SRC) || !memcmp(r->eth_src, p->eth_src, 6))
           && (!(m & BINDING_M_ETH_TYPE) || r->eth_type == p->eth_type)
           && (!(m & BINDING_M_IP_SRC) || (is_ip && r->ip_src == p->ip_src))
           && (!(m & BINDING_M_IP_PROTO)
               || (is_ip && r->ip_proto == p->ip_proto))
           && (!(m & BINDING_M_UDP_SRC)
               || (is_udp && r->udp_src == p->udp_src))
           && (!(m & BINDING_M_UDP_DST)
               || (is_udp && r->udp_dst == p->udp_dst))
           && (!(m & BINDING_M_ARP_SHA)
               || (is_arp && !memcmp(r->arp_sha, p->arp_sha, 6)))
           && (!(m & BINDING_M_ARP_SPA)
               || (is_arp && r->arp_spa == p->arp_spa));
}

/* True if the highest-priority matching rule allows the packet; packets
 * from other ports are not the rules' business (allowed). */
static bool
allowed(const struct binding_rule *rules, size_t n, const struct pkt *p)
{
    const struct binding_rule *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (rule_matches(&rules[i], p)
            && (!best || rules[i].priority > best->priority)) {
            best = &rules[i];
        }
    }
    return !best || !best->drop;
}

static void
test_rules(void **state)
{
    (void) state;
    struct binding b = sample();
    struct binding_rule rules[BINDING_MAX_RULES];
    char text[256];
    static const uint8_t evil[6] = {0x52, 0x54, 0x00, 0x66, 0x66, 0x66};

    size_t n = binding_rules(&b, 99, rules);
    assert_int_equal(n, 6);
    static const char *const want[] = {
        "in_port=3,dl_type=0x0800,nw_proto=17,tp_src=67",
        "in_port=3,dl_src=52:54:00:12:34:56,dl_type=0x0800,nw_src=0.0.0.0,"
        "nw_proto=17,tp_src=68,tp_dst=67",
        "in_port=3,dl_src=52:54:00:12:34:56,dl_type=0x0800,"
        "nw_src=198.18.0.10",
        "in_port=3,dl_src=52:54:00:12:34:56,dl_type=0x0806,"
        "arp_sha=52:54:00:12:34:56,arp_spa=198.18.0.10",
        "in_port=3,dl_src=52:54:00:12:34:56,dl_type=0x0806,"
        "arp_sha=52:54:00:12:34:56,arp_spa=0.0.0.0",
        "in_port=3",
    };
    static const enum binding_rule_kind kinds[] = {
        BINDING_RULE_DROP_DHCP_SERVER, BINDING_RULE_ALLOW_DHCP,
        BINDING_RULE_ALLOW_IP,         BINDING_RULE_ALLOW_ARP,
        BINDING_RULE_ALLOW_ARP_PROBE,  BINDING_RULE_DROP_ALL,
    };
    for (size_t i = 0; i < n; i++) {
        int len = binding_rule_format(&rules[i], text, sizeof text);
        assert_string_equal(text, want[i]);
        assert_int_equal(len, strlen(want[i]));
        assert_int_equal(rules[i].kind, kinds[i]);
        assert_int_equal(rules[i].drop,
                         kinds[i] == BINDING_RULE_DROP_DHCP_SERVER
                             || kinds[i] == BINDING_RULE_DROP_ALL);
    }
    assert_true(rules[0].priority > rules[2].priority);
    assert_true(rules[2].priority > rules[5].priority);
    char small[8];
    assert_int_equal(binding_rule_format(&rules[1], small, sizeof small),
                     strlen(want[1]));
    assert_string_equal(small, "in_port");

    /* The rules, evaluated. */
    struct pkt ok_ip = {3, mac1, 0x0800, IP(198, 18, 0, 10), 6, 0, 0, NULL,
                        0};
    assert_true(allowed(rules, n, &ok_ip));
    struct pkt spoof_ip = ok_ip;
    spoof_ip.ip_src = IP(198, 18, 0, 11);
    assert_false(allowed(rules, n, &spoof_ip));
    struct pkt spoof_mac = ok_ip;
    spoof_mac.eth_src = evil;
    assert_false(allowed(rules, n, &spoof_mac));
    struct pkt arp = {3, mac1, 0x0806, 0, 0, 0, 0, mac1, IP(198, 18, 0, 10)};
    assert_true(allowed(rules, n, &arp));
    struct pkt arp_probe = arp;
    arp_probe.arp_spa = 0;
    assert_true(allowed(rules, n, &arp_probe));
    struct pkt arp_spoof = arp;
    arp_spoof.arp_spa = IP(198, 18, 0, 1); /* claims the gateway */
    assert_false(allowed(rules, n, &arp_spoof));
    struct pkt arp_sha = arp;
    arp_sha.arp_sha = evil;
    assert_false(allowed(rules, n, &arp_sha));
    struct pkt discover = {3, mac1, 0x0800, 0, 17, 68, 67, NULL, 0};
    assert_true(allowed(rules, n, &discover));
    struct pkt renew = discover;
    renew.ip_src = IP(198, 18, 0, 10); /* unicast renewal */
    assert_true(allowed(rules, n, &renew));
    struct pkt discover_evil = discover;
    discover_evil.eth_src = evil;
    assert_false(allowed(rules, n, &discover_evil));
    struct pkt rogue = {3, mac1, 0x0800, IP(198, 18, 0, 10), 17, 67, 68,
                        NULL, 0};
    assert_false(allowed(rules, n, &rogue)); /* a VM acting as server */
    struct pkt v6 = {3, mac1, 0x86dd, 0, 0, 0, 0, NULL, 0};
    assert_false(allowed(rules, n, &v6));
    struct pkt elsewhere = spoof_ip;
    elsewhere.in_port = 4;
    assert_true(allowed(rules, n, &elsewhere));

    /* The port argument serves bindings without a port of their own. */
    b.port = 0;
    assert_int_equal(binding_rules(&b, 9, rules), 6);
    assert_int_equal(rules[5].in_port, 9);
    assert_int_equal(binding_rules(&b, 0, rules), 0);

    /* Trusted: everything passes.  Disabled: nothing does. */
    b.port_security = BINDING_TRUST;
    n = binding_rules(&b, 9, rules);
    assert_int_equal(n, 1);
    assert_int_equal(rules[0].kind, BINDING_RULE_ALLOW_ALL);
    spoof_ip.in_port = 9;
    assert_true(allowed(rules, n, &spoof_ip));
    b.port_status = BINDING_PORT_DISABLE;
    n = binding_rules(&b, 9, rules);
    assert_int_equal(n, 1);
    assert_int_equal(rules[0].kind, BINDING_RULE_DROP_ALL);
    struct pkt ok9 = ok_ip;
    ok9.in_port = 9;
    assert_false(allowed(rules, n, &ok9));
    /* A port that is merely down keeps its filter, ready for "up". */
    b.port_status = BINDING_PORT_DOWN;
    b.port_security = BINDING_UNTRUST;
    assert_int_equal(binding_rules(&b, 9, rules), 6);

    /* Before any binding: only DHCP from the VM's MAC. */
    n = binding_rules_unbound(3, mac1, rules);
    assert_int_equal(n, 3);
    assert_true(allowed(rules, n, &discover));
    assert_false(allowed(rules, n, &discover_evil));
    assert_false(allowed(rules, n, &ok_ip));
    assert_false(allowed(rules, n, &arp));
    assert_false(allowed(rules, n, &rogue));
    assert_int_equal(binding_rules_unbound(0, mac1, rules), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
