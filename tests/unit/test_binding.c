/* test_binding.c: port-security bindings (seed 003 Table 1): every field,
 * every validation error, the table's indexes and conflict rule, lease
 * expiry order, the three origins (controller from a reported ACK, agent
 * built and reported, manager static), snooping, the record encoding and
 * the anti-spoofing rules, judged by evaluating them on packets.
 *
 * Expected values are written out here, never computed by the code under
 * test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mignet/binding.h"
#include "mignet/dhcp.h"

#define IP(A, B, C, D)                                                       \
    ((uint32_t) (A) << 24 | (uint32_t) (B) << 16 | (uint32_t) (C) << 8 | (D))

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t mac2[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
static const uint8_t server_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};

/* A valid dynamic binding learned by the controller. */
static struct binding
sample(void)
{
    struct binding b;
    memset(&b, 0, sizeof b);
    snprintf(b.vm, sizeof b.vm, "vm1");
    snprintf(b.node, sizeof b.node, "node-a");
    memcpy(b.mac, mac1, 6);
    b.ip = IP(198, 18, 0, 10);
    b.vlan = 100;
    b.port = 3;
    b.type = BINDING_DYNAMIC;
    b.origin = BINDING_FROM_CONTROLLER;
    b.port_status = BINDING_PORT_UP;
    b.port_security = BINDING_UNTRUST;
    b.lease_s = 3600;
    b.expires_ms = 5000 + 3600 * 1000;
    b.server = IP(198, 18, 0, 1);
    return b;
}

/* The i-th of many distinct valid bindings. */
static struct binding
nth(uint32_t i)
{
    struct binding b = sample();
    snprintf(b.vm, sizeof b.vm, "vm-%u", (unsigned) i);
    b.mac[3] = (uint8_t) (i >> 16);
    b.mac[4] = (uint8_t) (i >> 8);
    b.mac[5] = (uint8_t) i;
    b.ip = IP(198, 18, 0, 0) + 1 + i;
    return b;
}

/* Compares every field through the text form (which prints them all);
 * memcmp would also compare padding. */
static void
assert_binding_equal(const struct binding *a, const struct binding *b)
{
    char ta[512], tb[512];
    binding_format(a, ta, sizeof ta);
    binding_format(b, tb, sizeof tb);
    assert_string_equal(ta, tb);
}

#define assert_err(CALL, WANT)                                               \
    do {                                                                     \
        enum binding_err got_ = (CALL);                                      \
        if (got_ != (WANT)) {                                                \
            fail_msg("%s: got %s, want %s", #CALL, binding_errname(got_),    \
                     binding_errname(WANT));                                 \
        }                                                                    \
    } while (0)

/* ---- Fields and text form ---- */

static void
test_fields_text(void **state)
{
    (void) state;
    struct binding b = sample(), back;
    char text[512];

    b.id = 42;
    assert_err(binding_validate(&b), BINDING_E_OK);
    int n = binding_format(&b, text, sizeof text);
    assert_string_equal(text,
                        "id=42 vm=vm1 node=node-a mac=52:54:00:12:34:56 "
                        "ip=198.18.0.10 vlan=100 port=3 type=dynamic "
                        "origin=controller lease=3600 expires=3605000 "
                        "server=198.18.0.1 port_status=up "
                        "port_security=untrust");
    assert_int_equal(n, strlen(text));
    /* A short buffer truncates but reports the full length. */
    char small[10];
    assert_int_equal(binding_format(&b, small, sizeof small), n);
    assert_string_equal(small, "id=42 vm=");

    memset(&back, 0x77, sizeof back);
    assert_err(binding_parse(text, &back), BINDING_E_OK);
    assert_binding_equal(&back, &b);

    /* Every other value of every enum, and the infinite lease. */
    b.type = BINDING_STATIC;
    b.origin = BINDING_FROM_MANAGER;
    b.lease_s = 0;
    b.expires_ms = 0;
    b.server = 0;
    b.port_status = BINDING_PORT_DISABLE;
    b.port_security = BINDING_TRUST;
    b.vlan = 0;
    b.port = 0;
    binding_format(&b, text, sizeof text);
    assert_string_equal(text,
                        "id=42 vm=vm1 node=node-a mac=52:54:00:12:34:56 "
                        "ip=198.18.0.10 vlan=0 port=0 type=static "
                        "origin=manager lease=0 expires=0 "
                        "server=0.0.0.0 port_status=disable "
                        "port_security=trust");
    assert_err(binding_parse(text, &back), BINDING_E_OK);
    assert_binding_equal(&back, &b);

    b = sample();
    b.origin = BINDING_FROM_AGENT;
    b.port_status = BINDING_PORT_DOWN;
    b.lease_s = DHCP_LEASE_INFINITE;
    b.expires_ms = 0;
    char lease[16];
    binding_field_format(&b, BINDING_F_LEASE, lease, sizeof lease);
    assert_string_equal(lease, "infinite");
    binding_format(&b, text, sizeof text);
    assert_err(binding_parse(text, &back), BINDING_E_OK);
    assert_binding_equal(&back, &b);
    assert_int_equal(back.origin, BINDING_FROM_AGENT);
    assert_int_equal(back.port_status, BINDING_PORT_DOWN);

    /* Minimal text: the manager's static defaults. */
    assert_err(binding_parse("  vm=v9\tnode=n1 mac=02:00:00:00:00:09 "
                             "ip=198.18.9.9 ",
                             &back),
               BINDING_E_OK);
    assert_int_equal(back.id, 0);
    assert_int_equal(back.type, BINDING_STATIC);
    assert_int_equal(back.origin, BINDING_FROM_MANAGER);
    assert_int_equal(back.port_status, BINDING_PORT_UP);
    assert_int_equal(back.port_security, BINDING_UNTRUST);
    assert_int_equal(back.ip, IP(198, 18, 9, 9));
    assert_string_equal(back.node, "n1");
}

static void
test_names(void **state)
{
    (void) state;
    static const char *const types[] = {"dynamic", "static"};
    static const char *const origins[] = {"controller", "agent", "manager"};
    static const char *const statuses[] = {"up", "down", "disable"};
    static const char *const secs[] = {"untrust", "trust"};

    for (unsigned i = 0; i < 2; i++) {
        enum binding_type t = BINDING_N_TYPES;
        assert_true(binding_type_parse(types[i], &t));
        assert_int_equal(t, i);
        assert_string_equal(binding_type_name(t), types[i]);
        enum binding_port_security s = BINDING_N_PORT_SECURITIES;
        assert_true(binding_port_security_parse(secs[i], &s));
        assert_int_equal(s, i);
        assert_string_equal(binding_port_security_name(s), secs[i]);
    }
    for (unsigned i = 0; i < 3; i++) {
        enum binding_origin o = BINDING_N_ORIGINS;
        assert_true(binding_origin_parse(origins[i], &o));
        assert_int_equal(o, i);
        assert_string_equal(binding_origin_name(o), origins[i]);
        enum binding_port_status p = BINDING_N_PORT_STATUSES;
        assert_true(binding_port_status_parse(statuses[i], &p));
        assert_int_equal(p, i);
        assert_string_equal(binding_port_status_name(p), statuses[i]);
    }
    enum binding_type t = BINDING_STATIC;
    assert_false(binding_type_parse("Dynamic", &t));
    assert_false(binding_type_parse(NULL, &t));
    assert_int_equal(t, BINDING_STATIC);
    assert_string_equal(binding_type_name((enum binding_type) 2), "?");
    assert_string_equal(binding_field_name(BINDING_F_PORT_SECURITY),
                        "port_security");
    assert_int_equal(binding_field_lookup("lease"), BINDING_F_LEASE);
    assert_int_equal(binding_field_lookup("leases"), BINDING_N_FIELDS);
    assert_string_equal(binding_action_name(BINDING_ACT_REMOVED),
                        "removed");
    assert_string_equal(binding_rule_kind_name(BINDING_RULE_ALLOW_ARP),
                        "allow_arp");
    assert_string_equal(binding_errname(BINDING_E_IP_CONFLICT),
                        "ip_conflict");
    assert_string_equal(binding_errname((enum binding_err) 999), "unknown");
    for (int i = 0; i < BINDING_N_ERRORS; i++) {
        for (int j = i + 1; j < BINDING_N_ERRORS; j++) {
            assert_string_not_equal(binding_errname((enum binding_err) i),
                                    binding_errname((enum binding_err) j));
            assert_string_not_equal(binding_strerror((enum binding_err) i),
                                    binding_strerror((enum binding_err) j));
        }
    }
}

/* ---- Validation ---- */

struct bad {
    const char *what;
    void (*spoil)(struct binding *);
    enum binding_err want;
};

#define SPOIL(NAME, BODY)                                                    \
    static void spoil_##NAME(struct binding *b)                              \
    {                                                                        \
        BODY;                                                                \
    }
SPOIL(vm_empty, b->vm[0] = '\0')
SPOIL(vm_char, snprintf(b->vm, sizeof b->vm, "vm 1"))
SPOIL(vm_unterminated, memset(b->vm, 'a', sizeof b->vm))
SPOIL(node_slash, snprintf(b->node, sizeof b->node, "a/b"))
SPOIL(mac_zero, memset(b->mac, 0, 6))
SPOIL(mac_bcast, memset(b->mac, 0xff, 6))
SPOIL(mac_mcast, b->mac[0] = 0x01)
SPOIL(ip_zero, b->ip = 0)
SPOIL(ip_bcast, b->ip = UINT32_MAX)
SPOIL(ip_mcast, b->ip = IP(224, 0, 0, 251))
SPOIL(ip_loop, b->ip = IP(127, 0, 0, 1))
SPOIL(ip_class_e, b->ip = IP(240, 0, 0, 1))
SPOIL(vlan, b->vlan = 4095)
SPOIL(port, b->port = 0xffffff01u)
SPOIL(type, b->type = (enum binding_type) 2)
SPOIL(origin, b->origin = (enum binding_origin) 3)
SPOIL(status, b->port_status = (enum binding_port_status) 3)
SPOIL(security, b->port_security = (enum binding_port_security) 2)
SPOIL(origin_static, b->type = BINDING_STATIC)
SPOIL(static_lease, {
    b->origin = BINDING_FROM_MANAGER;
    b->type = BINDING_STATIC;
})
SPOIL(static_expiry, {
    b->origin = BINDING_FROM_MANAGER;
    b->type = BINDING_STATIC;
    b->lease_s = 0;
})
SPOIL(no_lease, b->lease_s = 0)
SPOIL(no_expiry, b->expires_ms = 0)
SPOIL(infinite_expiry, b->lease_s = DHCP_LEASE_INFINITE)
SPOIL(server, b->server = UINT32_MAX)

static const struct bad bads[] = {
    {"empty VM id", spoil_vm_empty, BINDING_E_BAD_VM},
    {"space in VM id", spoil_vm_char, BINDING_E_BAD_VM},
    {"VM id without NUL", spoil_vm_unterminated, BINDING_E_BAD_VM},
    {"slash in node id", spoil_node_slash, BINDING_E_BAD_NODE},
    {"zero MAC", spoil_mac_zero, BINDING_E_ZERO_MAC},
    {"broadcast MAC", spoil_mac_bcast, BINDING_E_BROADCAST_MAC},
    {"multicast MAC", spoil_mac_mcast, BINDING_E_MULTICAST_MAC},
    {"IP 0.0.0.0", spoil_ip_zero, BINDING_E_ZERO_IP},
    {"broadcast IP", spoil_ip_bcast, BINDING_E_BROADCAST_IP},
    {"multicast IP", spoil_ip_mcast, BINDING_E_MULTICAST_IP},
    {"loopback IP", spoil_ip_loop, BINDING_E_RESERVED_IP},
    {"class E IP", spoil_ip_class_e, BINDING_E_RESERVED_IP},
    {"VLAN 4095", spoil_vlan, BINDING_E_BAD_VLAN},
    {"port past OFPP_MAX", spoil_port, BINDING_E_BAD_PORT},
    {"type 2", spoil_type, BINDING_E_BAD_TYPE},
    {"origin 3", spoil_origin, BINDING_E_BAD_ORIGIN},
    {"port status 3", spoil_status, BINDING_E_BAD_PORT_STATUS},
    {"port security 2", spoil_security, BINDING_E_BAD_PORT_SECURITY},
    {"static from the controller", spoil_origin_static,
     BINDING_E_ORIGIN_TYPE},
    {"static with a lease", spoil_static_lease, BINDING_E_STATIC_LEASE},
    {"static with an expiry", spoil_static_expiry, BINDING_E_STATIC_LEASE},
    {"dynamic without lease", spoil_no_lease, BINDING_E_BAD_LEASE},
    {"finite lease, no expiry", spoil_no_expiry, BINDING_E_BAD_LEASE},
    {"infinite lease, expiry", spoil_infinite_expiry, BINDING_E_BAD_LEASE},
    {"broadcast server", spoil_server, BINDING_E_BAD_SERVER},
};

static void
test_validation(void **state)
{
    (void) state;
    struct binding_table *t = binding_table_create();
    struct binding good = sample();
    assert_err(binding_validate(&good), BINDING_E_OK);

    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        struct binding b = sample();
        bads[i].spoil(&b);
        enum binding_err e = binding_validate(&b);
        if (e != bads[i].want) {
            fail_msg("%s: got %s, want %s", bads[i].what, binding_errname(e),
                     binding_errname(bads[i].want));
        }
        /* The table refuses it the same way, and stays empty. */
        assert_err(binding_table_add(t, &b, NULL), bads[i].want);
        assert_int_equal(binding_table_count(t), 0);
    }
    binding_table_destroy(t);
    binding_table_destroy(NULL);
}

struct text_case {
    const char *text;
    enum binding_err want;
};

#define REQ " vm=v1 node=n1 mac=52:54:00:00:00:01 ip=198.18.0.5"
static const struct text_case text_cases[] = {
    {"", BINDING_E_MISSING_FIELD},
    {"vm=v1 node=n1 mac=52:54:00:00:00:01", BINDING_E_MISSING_FIELD},
    {"vm" REQ, BINDING_E_BAD_SYNTAX},
    {"=v1" REQ, BINDING_E_BAD_SYNTAX},
    {"colour=red" REQ, BINDING_E_BAD_FIELD},
    {"vm=v2" REQ, BINDING_E_DUP_FIELD},
    {"id=-1" REQ, BINDING_E_BAD_ID},
    {"id=4294967296" REQ, BINDING_E_BAD_ID},
    {"vm=v/1 node=n1 mac=52:54:00:00:00:01 ip=198.18.0.5", BINDING_E_BAD_VM},
    {"vm=v1 node= mac=52:54:00:00:00:01 ip=198.18.0.5", BINDING_E_BAD_NODE},
    {"vm=v1 node=n1 mac=52:54:00:00:01 ip=198.18.0.5", BINDING_E_BAD_MAC},
    {"vm=v1 node=n1 mac=52:54:00:00:00:01 ip=198.18.0.256",
     BINDING_E_BAD_IP},
    {"vlan=4095" REQ, BINDING_E_BAD_VLAN},
    {"vlan=-1" REQ, BINDING_E_BAD_VLAN},
    {"port=4294967041" REQ, BINDING_E_BAD_PORT},
    {"type=dhcp" REQ, BINDING_E_BAD_TYPE},
    {"origin=switch" REQ, BINDING_E_BAD_ORIGIN},
    {"port_status=UP" REQ, BINDING_E_BAD_PORT_STATUS},
    {"port_security=trusted" REQ, BINDING_E_BAD_PORT_SECURITY},
    {"lease=1h" REQ, BINDING_E_BAD_LEASE},
    {"expires=18446744073709551616" REQ, BINDING_E_BAD_LEASE},
    {"server=198.18.0" REQ, BINDING_E_BAD_SERVER},
    /* Whole-binding validation after parsing. */
    {"vm=v1 node=n1 mac=00:00:00:00:00:00 ip=198.18.0.5",
     BINDING_E_ZERO_MAC},
    {"vm=v1 node=n1 mac=52:54:00:00:00:01 ip=0.0.0.0", BINDING_E_ZERO_IP},
    {"lease=60" REQ, BINDING_E_STATIC_LEASE},
    {"type=dynamic" REQ, BINDING_E_BAD_LEASE},
    {"origin=agent" REQ, BINDING_E_ORIGIN_TYPE},
    {"vm=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     " node=n1 mac=52:54:00:00:00:01 ip=198.18.0.5",
     BINDING_E_BAD_SYNTAX},
    {"vm=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     " node=n1 mac=52:54:00:00:00:01 ip=198.18.0.5",
     BINDING_E_BAD_VM},
};

static void
test_text_errors(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
        struct binding b, before;
        memset(&b, 0x3c, sizeof b);
        memcpy(&before, &b, sizeof b);
        enum binding_err e = binding_parse(text_cases[i].text, &b);
        if (e != text_cases[i].want) {
            fail_msg("\"%s\": got %s, want %s", text_cases[i].text,
                     binding_errname(e),
                     binding_errname(text_cases[i].want));
        }
        assert_memory_equal(&b, &before, sizeof b);
    }
    struct binding b = sample(), before = b;
    assert_err(binding_parse(NULL, &b), BINDING_E_BAD_SYNTAX);
    assert_err(binding_field_set(&b, BINDING_N_FIELDS, "x"),
               BINDING_E_BAD_FIELD);
    assert_err(binding_field_set(&b, BINDING_F_VLAN, "4095"),
               BINDING_E_BAD_VLAN);
    assert_err(binding_field_set(&b, BINDING_F_VM, NULL),
               BINDING_E_BAD_SYNTAX);
    assert_memory_equal(&b, &before, sizeof b);
    assert_err(binding_field_set(&b, BINDING_F_VLAN, "4094"), BINDING_E_OK);
    assert_int_equal(b.vlan, 4094);
}

/* ---- Table ---- */

static void
test_table(void **state)
{
    (void) state;
    struct binding_table *t = binding_table_create();
    struct binding a = sample(), b = sample();
    uint32_t id_a = 0, id_b = 0;

    snprintf(b.vm, sizeof b.vm, "vm2");
    memcpy(b.mac, mac2, 6);
    b.ip = IP(198, 18, 0, 11);

    assert_err(binding_table_add(t, &a, &id_a), BINDING_E_OK);
    assert_err(binding_table_add(t, &b, &id_b), BINDING_E_OK);
    assert_int_equal(id_a, 1);
    assert_int_equal(id_b, 2);
    assert_int_equal(binding_table_count(t), 2);

    const struct binding *g = binding_table_get(t, id_b);
    assert_non_null(g);
    assert_string_equal(g->vm, "vm2");
    assert_int_equal(g->id, id_b);
    assert_ptr_equal(binding_table_find_vm(t, "vm2"), g);
    assert_ptr_equal(binding_table_find_mac(t, mac2, 100), g);
    assert_ptr_equal(binding_table_find_ip(t, IP(198, 18, 0, 11), 100), g);
    assert_string_equal(binding_table_find_ip(t, IP(198, 18, 0, 10), 100)->vm,
                        "vm1");
    /* Lookups are per VLAN. */
    assert_null(binding_table_find_mac(t, mac2, 101));
    assert_null(binding_table_find_ip(t, IP(198, 18, 0, 11), 0));
    assert_null(binding_table_find_vm(t, "vm3"));
    assert_null(binding_table_find_vm(t, NULL));
    assert_null(binding_table_get(t, 3));

    /* A second VM may not take vm1's MAC or IP; vm1 may not bind twice;
     * ids are unique. */
    struct binding c = sample();
    snprintf(c.vm, sizeof c.vm, "vm3");
    assert_err(binding_table_add(t, &c, NULL), BINDING_E_MAC_CONFLICT);
    memcpy(c.mac, (uint8_t[6]) {0x52, 0x54, 0, 0, 0, 3}, 6);
    assert_err(binding_table_add(t, &c, NULL), BINDING_E_IP_CONFLICT);
    c.ip = IP(198, 18, 0, 12);
    struct binding again = sample();
    again.ip = IP(198, 18, 0, 99);
    assert_err(binding_table_add(t, &again, NULL), BINDING_E_VM_BOUND);
    c.id = id_a;
    assert_err(binding_table_add(t, &c, NULL), BINDING_E_DUP_ID);
    assert_int_equal(binding_table_count(t), 2);
    /* The same IP in another VLAN is another address. */
    c.id = 0;
    c.ip = a.ip;
    c.vlan = 200;
    uint32_t id_c;
    assert_err(binding_table_add(t, &c, &id_c), BINDING_E_OK);
    assert_int_equal(id_c, 3);
    assert_string_equal(binding_table_find_ip(t, a.ip, 200)->vm, "vm3");
    assert_string_equal(binding_table_find_ip(t, a.ip, 100)->vm, "vm1");

    /* Replace: by id, checked against the others. */
    struct binding r = *binding_table_get(t, id_b);
    r.ip = a.ip;
    assert_err(binding_table_replace(t, &r), BINDING_E_IP_CONFLICT);
    r.ip = IP(198, 18, 0, 20);
    memcpy(r.mac, mac1, 6);
    assert_err(binding_table_replace(t, &r), BINDING_E_MAC_CONFLICT);
    memcpy(r.mac, mac2, 6);
    snprintf(r.vm, sizeof r.vm, "vm1");
    assert_err(binding_table_replace(t, &r), BINDING_E_VM_BOUND);
    snprintf(r.vm, sizeof r.vm, "vm2b");
    r.id = 77;
    assert_err(binding_table_replace(t, &r), BINDING_E_UNKNOWN_ID);
    r.id = id_b;
    r.vlan = 4095;
    assert_err(binding_table_replace(t, &r), BINDING_E_BAD_VLAN);
    assert_ptr_equal(binding_table_find_ip(t, IP(198, 18, 0, 11), 100),
                     binding_table_get(t, id_b));
    r.vlan = 100;
    assert_err(binding_table_replace(t, &r), BINDING_E_OK);
    assert_null(binding_table_find_ip(t, IP(198, 18, 0, 11), 100));
    assert_null(binding_table_find_vm(t, "vm2"));
    assert_int_equal(binding_table_find_vm(t, "vm2b")->id, id_b);
    assert_int_equal(binding_table_find_ip(t, IP(198, 18, 0, 20), 100)->id,
                     id_b);
    /* Replacing a binding by itself (same keys) is fine. */
    assert_err(binding_table_replace(t, &r), BINDING_E_OK);

    /* Iteration sees each binding once. */
    uint32_t cursor = 0, seen = 0;
    const struct binding *it;
    while ((it = binding_table_next(t, &cursor))) {
        seen |= 1u << it->id;
    }
    assert_int_equal(seen, 1u << 1 | 1u << 2 | 1u << 3);

    /* Delete. */
    struct binding old;
    assert_err(binding_table_delete(t, id_a, &old), BINDING_E_OK);
    assert_string_equal(old.vm, "vm1");
    assert_err(binding_table_delete(t, id_a, NULL), BINDING_E_UNKNOWN_ID);
    assert_null(binding_table_find_vm(t, "vm1"));
    assert_null(binding_table_find_mac(t, mac1, 100));
    assert_null(binding_table_find_ip(t, a.ip, 100));
    assert_int_equal(binding_table_count(t), 2);
    /* Its MAC and IP are free again, for another VM; ids are not reused. */
    struct binding d = sample();
    snprintf(d.vm, sizeof d.vm, "vm4");
    uint32_t id_d;
    assert_err(binding_table_add(t, &d, &id_d), BINDING_E_OK);
    assert_int_equal(id_d, 4);

    /* put: the VM's binding is replaced in place, keeping its id. */
    struct binding p = d;
    p.ip = IP(198, 18, 0, 40);
    p.id = 999; /* ignored */
    uint32_t id_p;
    bool created = true;
    assert_err(binding_table_put(t, &p, &id_p, &created), BINDING_E_OK);
    assert_false(created);
    assert_int_equal(id_p, id_d);
    assert_int_equal(binding_table_get(t, id_d)->ip, IP(198, 18, 0, 40));
    assert_null(binding_table_find_ip(t, d.ip, 100));
    snprintf(p.vm, sizeof p.vm, "vm5");
    memcpy(p.mac, (uint8_t[6]) {0x52, 0x54, 0, 0, 0, 5}, 6);
    p.ip = IP(198, 18, 0, 50);
    assert_err(binding_table_put(t, &p, &id_p, &created), BINDING_E_OK);
    assert_true(created);
    assert_int_equal(id_p, 5);
    p.ip = IP(198, 18, 0, 40);
    assert_err(binding_table_put(t, &p, &id_p, &created),
               BINDING_E_IP_CONFLICT);
    assert_int_equal(binding_table_get(t, 5)->ip, IP(198, 18, 0, 50));

    /* Explicit ids (as on reload) move the id counter past them. */
    struct binding e = nth(60);
    e.id = 1000;
    assert_err(binding_table_add(t, &e, NULL), BINDING_E_OK);
    uint32_t id_f;
    struct binding f = nth(61);
    assert_err(binding_table_add(t, &f, &id_f), BINDING_E_OK);
    assert_int_equal(id_f, 1001);
    e = nth(62);
    e.id = UINT32_MAX;
    assert_err(binding_table_add(t, &e, NULL), BINDING_E_OK);
    f = nth(63);
    assert_err(binding_table_add(t, &f, NULL), BINDING_E_FULL);
    binding_table_destroy(t);
}

/* Adds and deletes many bindings against a shadow array: every index
 * agrees with the shadow after every step (exercises growth and the
 * backward-shift deletion of the keyed maps). */
static void
test_table_churn(void **state)
{
    (void) state;
    enum { N = 3000 };
    static uint32_t ids[N];
    struct binding_table *t = binding_table_create();
    uint64_t rng = 12345;
    size_t live = 0;

    memset(ids, 0, sizeof ids);
    for (int step = 0; step < 20000; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t i = (uint32_t) (rng >> 33) % N;
        struct binding b = nth(i);
        if (ids[i]) {
            assert_err(binding_table_delete(t, ids[i], NULL), BINDING_E_OK);
            assert_null(binding_table_find_vm(t, b.vm));
            assert_null(binding_table_find_mac(t, b.mac, b.vlan));
            assert_null(binding_table_find_ip(t, b.ip, b.vlan));
            assert_null(binding_table_get(t, ids[i]));
            ids[i] = 0;
            live--;
        } else {
            assert_err(binding_table_add(t, &b, &ids[i]), BINDING_E_OK);
            live++;
        }
        assert_int_equal(binding_table_count(t), live);
    }
    for (uint32_t i = 0; i < N; i++) {
        struct binding b = nth(i);
        const struct binding *g = binding_table_find_vm(t, b.vm);
        if (!ids[i]) {
            assert_null(g);
            continue;
        }
        assert_non_null(g);
        assert_int_equal(g->id, ids[i]);
        assert_ptr_equal(binding_table_get(t, ids[i]), g);
        assert_ptr_equal(binding_table_find_mac(t, b.mac, b.vlan), g);
        assert_ptr_equal(binding_table_find_ip(t, b.ip, b.vlan), g);
    }
    binding_table_destroy(t);
}

/* ---- Lease expiry ---- */

static void
test_expiry(void **state)
{
    (void) state;
    struct binding_table *t = binding_table_create();
    static const uint64_t expiries[] = {9000, 3000, 7000, 3000, 1000, 5000};
    struct binding out[8];
    uint64_t due;

    assert_false(binding_table_next_expiry(t, &due));
    assert_int_equal(binding_table_expire(t, UINT64_MAX, out, 8), 0);
    for (uint32_t i = 0; i < 6; i++) {
        struct binding b = nth(i);
        b.expires_ms = expiries[i];
        assert_err(binding_table_add(t, &b, NULL), BINDING_E_OK);
    }
    /* A static binding and an infinite lease never expire. */
    struct binding s = nth(6);
    s.type = BINDING_STATIC;
    s.origin = BINDING_FROM_MANAGER;
    s.lease_s = 0;
    s.expires_ms = 0;
    assert_err(binding_table_add(t, &s, NULL), BINDING_E_OK);
    struct binding inf = nth(7);
    inf.lease_s = DHCP_LEASE_INFINITE;
    inf.expires_ms = 0;
    assert_err(binding_table_add(t, &inf, NULL), BINDING_E_OK);

    assert_true(binding_table_next_expiry(t, &due));
    assert_int_equal(due, 1000);
    assert_int_equal(binding_table_expire(t, 999, out, 8), 0);
    assert_int_equal(binding_table_count(t), 8);
    /* Exactly at the expiry it is gone. */
    assert_int_equal(binding_table_expire(t, 1000, out, 8), 1);
    assert_string_equal(out[0].vm, "vm-4");
    assert_null(binding_table_find_vm(t, "vm-4"));

    /* Renewal (replace with a later expiry) reorders: vm-1 (3000) moves to
     * 8000. */
    struct binding r = *binding_table_find_vm(t, "vm-1");
    r.expires_ms = 8000;
    assert_err(binding_table_replace(t, &r), BINDING_E_OK);
    /* Deleting one takes it out of the order: vm-5 (5000). */
    assert_err(binding_table_delete(t, binding_table_find_vm(t, "vm-5")->id,
                                    NULL),
               BINDING_E_OK);
    assert_true(binding_table_next_expiry(t, &due));
    assert_int_equal(due, 3000);

    /* 'max' bounds one call; the rest wait. */
    assert_int_equal(binding_table_expire(t, 8500, out, 2), 2);
    assert_string_equal(out[0].vm, "vm-3"); /* 3000 */
    assert_string_equal(out[1].vm, "vm-2"); /* 7000 */
    assert_int_equal(binding_table_expire(t, 8500, out, 8), 1);
    assert_string_equal(out[0].vm, "vm-1"); /* 8000 */
    assert_true(binding_table_next_expiry(t, &due));
    assert_int_equal(due, 9000);
    assert_int_equal(binding_table_expire(t, UINT64_MAX, out, 8), 1);
    assert_string_equal(out[0].vm, "vm-0");
    assert_false(binding_table_next_expiry(t, &due));
    assert_int_equal(binding_table_count(t), 2);
    assert_non_null(binding_table_find_vm(t, "vm-6"));
    assert_non_null(binding_table_find_vm(t, "vm-7"));

    /* A dynamic binding replaced by a static one leaves the order. */
    struct binding d = nth(8);
    d.expires_ms = 100;
    uint32_t id_d;
    assert_err(binding_table_add(t, &d, &id_d), BINDING_E_OK);
    d.id = id_d;
    d.type = BINDING_STATIC;
    d.origin = BINDING_FROM_MANAGER;
    d.lease_s = 0;
    d.expires_ms = 0;
    assert_err(binding_table_replace(t, &d), BINDING_E_OK);
    assert_false(binding_table_next_expiry(t, &due));
    binding_table_destroy(t);
}

/* Many random expiries come out in order, ties by id. */
static void
test_expiry_many(void **state)
{
    (void) state;
    enum { N = 2000 };
    struct binding_table *t = binding_table_create();
    uint64_t rng = 99;
    struct binding out[64];

    for (uint32_t i = 0; i < N; i++) {
        struct binding b = nth(i);
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        b.expires_ms = 1 + (rng >> 33) % 500;
        assert_err(binding_table_add(t, &b, NULL), BINDING_E_OK);
    }
    uint64_t last = 0, last_id = 0;
    size_t total = 0;
    for (uint64_t now = 0; now < 500 + 7; now += 7) {
        size_t n;
        while ((n = binding_table_expire(t, now, out, 64)) > 0) {
            for (size_t k = 0; k < n; k++) {
                assert_true(out[k].expires_ms <= now);
                assert_true(out[k].expires_ms > last
                            || (out[k].expires_ms == last
                                && out[k].id > last_id));
                last = out[k].expires_ms;
                last_id = out[k].id;
            }
            total += n;
        }
        uint64_t due;
        if (binding_table_next_expiry(t, &due)) {
            assert_true(due > now);
        }
    }
    assert_int_equal(total, N);
    assert_int_equal(binding_table_count(t), 0);
    binding_table_destroy(t);
}

/* ---- DHCP: the three origins and snooping ---- */

/* A DHCPACK frame from the server for 'chaddr', built and parsed back. */
static struct dhcp_msg
ack_msg(const uint8_t chaddr[6], uint32_t yiaddr, uint32_t lease_s,
        bool tagged)
{
    struct dhcp_msg m, back;
    uint8_t buf[DHCP_FRAME_MAX];
    size_t len;

    dhcp_msg_init(&m, DHCP_ACK, 0x3903f326, chaddr);
    memcpy(m.eth_src, server_mac, 6);
    m.ip_src = IP(198, 18, 0, 1);
    m.ip_dst = yiaddr;
    m.yiaddr = yiaddr;
    m.server_id = IP(198, 18, 0, 1);
    m.lease_s = lease_s;
    m.vlan_tagged = tagged;
    m.vlan = tagged ? 100 : 0;
    m.opts |= DHCP_HAS(DHCP_OPT_SERVER_ID) | DHCP_HAS(DHCP_OPT_LEASE_TIME);
    assert_int_equal(dhcp_build(&m, buf, sizeof buf, &len), DHCP_E_OK);
    assert_int_equal(dhcp_parse_frame(buf, len, 0, &back), DHCP_E_OK);
    return back;
}

static struct binding_ctx
ctx_of(const char *vm, enum binding_origin origin)
{
    return (struct binding_ctx) {
        .vm = vm,
        .node = "node-a",
        .port = 3,
        .vlan = BINDING_VLAN_FRAME,
        .origin = origin,
        .port_status = BINDING_PORT_UP,
        .port_security = BINDING_UNTRUST,
    };
}

/* FIG. 3: the switch reports the ACK, the controller creates the
 * binding. */
static void
test_origin_controller(void **state)
{
    (void) state;
    struct binding_table *ctl = binding_table_create();
    struct dhcp_msg ack = ack_msg(mac1, IP(198, 18, 0, 10), 3600, true);
    struct binding_ctx ctx = ctx_of("vm1", BINDING_FROM_CONTROLLER);
    enum binding_action act = BINDING_ACT_NONE;
    struct binding got;

    assert_err(binding_table_snoop(ctl, &ack, &ctx, 5000, &act, &got),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_CREATED);
    const struct binding *b = binding_table_find_vm(ctl, "vm1");
    assert_non_null(b);
    assert_binding_equal(&got, b);
    assert_int_equal(b->id, 1);
    assert_memory_equal(b->mac, mac1, 6);
    assert_int_equal(b->ip, IP(198, 18, 0, 10));
    assert_int_equal(b->vlan, 100); /* from the frame's tag */
    assert_int_equal(b->port, 3);
    assert_string_equal(b->node, "node-a");
    assert_int_equal(b->type, BINDING_DYNAMIC);
    assert_int_equal(b->origin, BINDING_FROM_CONTROLLER);
    assert_int_equal(b->lease_s, 3600);
    assert_int_equal(b->expires_ms, 5000 + 3600000);
    assert_int_equal(b->server, IP(198, 18, 0, 1));
    assert_int_equal(b->port_status, BINDING_PORT_UP);
    assert_int_equal(b->port_security, BINDING_UNTRUST);

    /* Renewal: a later ACK for the same VM extends the lease in place. */
    assert_err(binding_table_snoop(ctl, &ack, &ctx, 9000, &act, &got),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_UPDATED);
    assert_int_equal(binding_table_count(ctl), 1);
    assert_int_equal(binding_table_find_vm(ctl, "vm1")->expires_ms,
                     9000 + 3600000);
    assert_int_equal(got.id, 1);

    /* A second VM cannot take vm1's address, nor vm1's MAC. */
    struct dhcp_msg stolen = ack_msg(mac2, IP(198, 18, 0, 10), 60, true);
    struct binding_ctx ctx2 = ctx_of("vm2", BINDING_FROM_CONTROLLER);
    act = BINDING_ACT_CREATED;
    assert_err(binding_table_snoop(ctl, &stolen, &ctx2, 9000, &act, NULL),
               BINDING_E_IP_CONFLICT);
    stolen = ack_msg(mac1, IP(198, 18, 0, 11), 60, true);
    assert_err(binding_table_snoop(ctl, &stolen, &ctx2, 9000, &act, NULL),
               BINDING_E_MAC_CONFLICT);
    assert_int_equal(binding_table_count(ctl), 1);
    assert_null(binding_table_find_vm(ctl, "vm2"));
    binding_table_destroy(ctl);
}

/* FIG. 4: the agent builds the binding from the ACK and reports it; the
 * report (a record) recreates it at the controller. */
static void
test_origin_agent(void **state)
{
    (void) state;
    struct binding_table *agent = binding_table_create();
    struct binding_table *ctl = binding_table_create();
    struct dhcp_msg ack = ack_msg(mac1, IP(198, 18, 0, 10), 600, false);
    struct binding_ctx ctx = ctx_of("vm1", BINDING_FROM_AGENT);
    ctx.vlan = 0;
    struct binding local;
    uint8_t rec[BINDING_RECORD_MAX];
    size_t len;

    assert_err(binding_table_snoop(agent, &ack, &ctx, 100, NULL, &local),
               BINDING_E_OK);
    assert_int_equal(local.origin, BINDING_FROM_AGENT);
    assert_int_equal(local.vlan, 0);
    assert_int_equal(local.expires_ms, 100 + 600000);
    assert_err(binding_encode(&local, rec, sizeof rec, &len), BINDING_E_OK);

    struct binding reported;
    assert_err(binding_decode(rec, len, &reported), BINDING_E_OK);
    assert_binding_equal(&reported, &local);

    /* The controller already knows another VM: its table assigns its own
     * id; every other field is the agent's. */
    struct binding other = nth(1);
    assert_err(binding_table_add(ctl, &other, NULL), BINDING_E_OK);
    uint32_t id;
    bool created;
    assert_err(binding_table_put(ctl, &reported, &id, &created),
               BINDING_E_OK);
    assert_true(created);
    assert_int_equal(id, 2);
    struct binding want = local;
    want.id = id;
    assert_binding_equal(binding_table_get(ctl, id), &want);
    assert_int_equal(binding_table_get(ctl, id)->origin, BINDING_FROM_AGENT);
    binding_table_destroy(agent);
    binding_table_destroy(ctl);
}

/* FIG. 5: the VM manager supplies the binding statically, and after the
 * migration the updated configuration (S330); DHCP does not override
 * it. */
static void
test_origin_manager(void **state)
{
    (void) state;
    struct binding_table *ctl = binding_table_create();
    struct binding b;
    uint32_t id, id2;
    bool created;

    assert_err(binding_parse("vm=vm1 node=node-a port=3 vlan=100 "
                             "mac=52:54:00:12:34:56 ip=198.18.0.10",
                             &b),
               BINDING_E_OK);
    assert_err(binding_table_put(ctl, &b, &id, &created), BINDING_E_OK);
    assert_true(created);
    const struct binding *g = binding_table_get(ctl, id);
    assert_int_equal(g->type, BINDING_STATIC);
    assert_int_equal(g->origin, BINDING_FROM_MANAGER);
    assert_int_equal(g->expires_ms, 0);

    /* S330: after the migration the manager sends the updated
     * configuration: new node and port, same VM, same addresses. */
    assert_err(binding_parse("vm=vm1 node=node-b port=7 vlan=100 "
                             "mac=52:54:00:12:34:56 ip=198.18.0.10",
                             &b),
               BINDING_E_OK);
    assert_err(binding_table_put(ctl, &b, &id2, &created), BINDING_E_OK);
    assert_false(created);
    assert_int_equal(id2, id);
    g = binding_table_find_ip(ctl, IP(198, 18, 0, 10), 100);
    assert_string_equal(g->node, "node-b");
    assert_int_equal(g->port, 7);

    /* A DHCP ACK for the VM does not replace the static binding. */
    struct dhcp_msg ack = ack_msg(mac1, IP(198, 18, 0, 99), 60, true);
    struct binding_ctx ctx = ctx_of("vm1", BINDING_FROM_CONTROLLER);
    assert_err(binding_table_snoop(ctl, &ack, &ctx, 0, NULL, NULL),
               BINDING_E_STATIC_HELD);
    assert_int_equal(binding_table_find_vm(ctl, "vm1")->ip,
                     IP(198, 18, 0, 10));
    /* The manager does not snoop. */
    ctx.origin = BINDING_FROM_MANAGER;
    assert_err(binding_from_ack(&ack, &ctx, 0, &b), BINDING_E_BAD_ORIGIN);
    binding_table_destroy(ctl);
}

static void
test_from_ack_errors(void **state)
{
    (void) state;
    struct binding_ctx ctx = ctx_of("vm1", BINDING_FROM_CONTROLLER);
    struct dhcp_msg m;
    struct binding b, before;

    memset(&b, 0x11, sizeof b);
    memcpy(&before, &b, sizeof b);

    m = ack_msg(mac1, IP(198, 18, 0, 10), 60, false);
    m.type = DHCP_OFFER;
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_NOT_ACK);
    m = ack_msg(mac1, 0, 60, false);
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_NO_YIADDR);
    m = ack_msg(mac1, IP(198, 18, 0, 10), 60, false);
    m.opts &= ~DHCP_HAS(DHCP_OPT_LEASE_TIME);
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_NO_LEASE_OPT);
    m = ack_msg(mac1, IP(198, 18, 0, 10), 60, false);
    m.opts &= ~DHCP_HAS(DHCP_OPT_SERVER_ID);
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_NO_SERVER_ID);
    m = ack_msg(mac1, IP(198, 18, 0, 10), 0, false);
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_BAD_LEASE);
    m = ack_msg(mac1, IP(198, 18, 0, 10), 60, false);
    assert_err(binding_from_ack(&m, &ctx, UINT64_MAX - 59999, &b),
               BINDING_E_BAD_LEASE);
    m = ack_msg(mac1, UINT32_MAX, 60, false);
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_BROADCAST_IP);
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    m = ack_msg(mcast, IP(198, 18, 0, 10), 60, false);
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_MULTICAST_MAC);
    m = ack_msg(mac1, IP(198, 18, 0, 10), 60, false);
    ctx.vlan = 4095;
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_BAD_VLAN);
    ctx.vlan = 0;
    ctx.vm = "no such vm!";
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_BAD_VM);
    ctx.vm = "vm1";
    ctx.node = NULL;
    assert_err(binding_from_ack(&m, &ctx, 0, &b), BINDING_E_BAD_NODE);
    assert_memory_equal(&b, &before, sizeof b);

    /* An infinite lease never expires; the last representable expiry is
     * fine. */
    ctx.node = "node-a";
    m = ack_msg(mac1, IP(198, 18, 0, 10), DHCP_LEASE_INFINITE, false);
    assert_err(binding_from_ack(&m, &ctx, 7, &b), BINDING_E_OK);
    assert_int_equal(b.expires_ms, 0);
    assert_int_equal(b.lease_s, DHCP_LEASE_INFINITE);
    m = ack_msg(mac1, IP(198, 18, 0, 10), 60, false);
    assert_err(binding_from_ack(&m, &ctx, UINT64_MAX - 60000, &b),
               BINDING_E_OK);
    assert_int_equal(b.expires_ms, UINT64_MAX);
}

/* A client message from vm1's MAC. */
static struct dhcp_msg
client_msg(enum dhcp_type type, const uint8_t mac[6], uint32_t ciaddr)
{
    struct dhcp_msg m;
    dhcp_msg_init(&m, type, 7, mac);
    m.ciaddr = ciaddr;
    return m;
}

static void
test_snoop_release(void **state)
{
    (void) state;
    struct binding_table *t = binding_table_create();
    struct binding_ctx ctx = ctx_of("vm1", BINDING_FROM_CONTROLLER);
    struct dhcp_msg ack = ack_msg(mac1, IP(198, 18, 0, 10), 60, false);
    enum binding_action act;
    struct binding got;

    assert_err(binding_table_snoop(t, &ack, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_CREATED);

    /* Messages that do not concern the binding change nothing. */
    struct dhcp_msg m = client_msg(DHCP_RELEASE, mac1, IP(198, 18, 0, 11));
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    m = client_msg(DHCP_RELEASE, mac2, IP(198, 18, 0, 10));
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    m = client_msg(DHCP_RELEASE, mac1, 0);
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    m = client_msg(DHCP_DISCOVER, mac1, 0);
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    struct binding_ctx other = ctx_of("vm2", BINDING_FROM_CONTROLLER);
    m = client_msg(DHCP_RELEASE, mac1, IP(198, 18, 0, 10));
    assert_err(binding_table_snoop(t, &m, &other, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    /* An ACK to an INFORM grants no address. */
    struct dhcp_msg inform_ack = ack_msg(mac1, 0, 60, false);
    assert_err(binding_table_snoop(t, &inform_ack, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    assert_int_equal(binding_table_count(t), 1);

    /* RELEASE of the bound address removes it. */
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, &got),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_REMOVED);
    assert_int_equal(got.ip, IP(198, 18, 0, 10));
    assert_int_equal(binding_table_count(t), 0);

    /* DECLINE of the requested address removes it. */
    assert_err(binding_table_snoop(t, &ack, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    m = client_msg(DHCP_DECLINE, mac1, 0);
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE); /* no requested IP */
    m.requested_ip = IP(198, 18, 0, 10);
    m.opts |= DHCP_HAS(DHCP_OPT_REQUESTED_IP);
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_REMOVED);

    /* NAK to the VM's MAC removes its dynamic binding. */
    assert_err(binding_table_snoop(t, &ack, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    struct dhcp_msg nak;
    dhcp_msg_init(&nak, DHCP_NAK, 8, mac2);
    assert_err(binding_table_snoop(t, &nak, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    dhcp_msg_init(&nak, DHCP_NAK, 8, mac1);
    assert_err(binding_table_snoop(t, &nak, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_REMOVED);

    /* A static binding survives RELEASE and NAK. */
    struct binding s;
    assert_err(binding_parse("vm=vm1 node=node-a mac=52:54:00:12:34:56 "
                             "ip=198.18.0.10",
                             &s),
               BINDING_E_OK);
    assert_err(binding_table_add(t, &s, NULL), BINDING_E_OK);
    m = client_msg(DHCP_RELEASE, mac1, IP(198, 18, 0, 10));
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_err(binding_table_snoop(t, &nak, &ctx, 0, &act, NULL),
               BINDING_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    assert_int_equal(binding_table_count(t), 1);
    ctx.vm = NULL;
    assert_err(binding_table_snoop(t, &m, &ctx, 0, &act, NULL),
               BINDING_E_BAD_VM);
    binding_table_destroy(t);
}

/* ---- Record ---- */

/* Version 1 of sample() with id 42, written out by hand. */
static const uint8_t sample_record[] = {
    1,    0,    0,    0,    0,    3,    6,    0,    /* v1 dyn ctl up un */
    0,    0,    0,    42,                           /* id */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,             /* mac */
    0,    100,                                      /* vlan */
    198,  18,   0,    10,                           /* ip */
    0,    0,    0,    3,                            /* port */
    0,    0,    0x0e, 0x10,                         /* lease 3600 */
    0,    0,    0,    0,    0,    0x37, 0x02, 0x08, /* expires 3605000 */
    198,  18,   0,    1,                            /* server */
    'v',  'm',  '1',  'n',  'o',  'd',  'e',  '-',  'a',
};

static void
test_record(void **state)
{
    (void) state;
    struct binding b = sample(), back;
    uint8_t buf[BINDING_RECORD_MAX + 8];
    size_t len = 0;

    b.id = 42;
    assert_err(binding_encode(&b, buf, sizeof buf, &len), BINDING_E_OK);
    assert_int_equal(len, sizeof sample_record);
    assert_memory_equal(buf, sample_record, len);
    assert_err(binding_decode(sample_record, sizeof sample_record, &back),
               BINDING_E_OK);
    assert_binding_equal(&back, &b);

    /* Longest names, every enum's last value, a 64-bit expiry. */
    memset(b.vm, 'v', BINDING_NAME_MAX);
    b.vm[BINDING_NAME_MAX] = '\0';
    memset(b.node, 'n', BINDING_NAME_MAX);
    b.node[BINDING_NAME_MAX] = '\0';
    b.origin = BINDING_FROM_MANAGER;
    b.port_status = BINDING_PORT_DISABLE;
    b.port_security = BINDING_TRUST;
    b.expires_ms = UINT64_MAX - 1;
    b.id = UINT32_MAX;
    b.port = BINDING_PORT_MAX;
    b.vlan = BINDING_VLAN_MAX;
    assert_err(binding_encode(&b, buf, BINDING_RECORD_MAX - 1, &len),
               BINDING_E_NO_SPACE);
    assert_err(binding_encode(&b, buf, BINDING_RECORD_MAX, &len),
               BINDING_E_OK);
    assert_int_equal(len, BINDING_RECORD_MAX);
    assert_err(binding_decode(buf, len, &back), BINDING_E_OK);
    assert_binding_equal(&back, &b);

    /* Encoding wants a valid binding with an id. */
    b = sample();
    assert_err(binding_encode(&b, buf, sizeof buf, &len), BINDING_E_BAD_ID);
    b.id = 1;
    b.vlan = 5000;
    assert_err(binding_encode(&b, buf, sizeof buf, &len),
               BINDING_E_BAD_VLAN);
}

struct rec_case {
    const char *what;
    size_t at;     /* byte to change, SIZE_MAX = none */
    uint8_t value;
    long resize;   /* added to the length */
    enum binding_err want;
};

static const struct rec_case rec_cases[] = {
    {"empty", SIZE_MAX, 0, -53, BINDING_E_REC_SHORT},
    {"header cut", SIZE_MAX, 0, -10, BINDING_E_REC_SHORT},
    {"node cut", SIZE_MAX, 0, -1, BINDING_E_REC_SHORT},
    {"version 2", 0, 2, 0, BINDING_E_REC_VERSION},
    {"version 0", 0, 0, 0, BINDING_E_REC_VERSION},
    {"trailing byte", SIZE_MAX, 0, 1, BINDING_E_REC_LENGTH},
    {"reserved byte", 7, 1, 0, BINDING_E_REC_RESERVED},
    {"vm_len past the end", 5, 200, 0, BINDING_E_REC_SHORT},
    {"vm_len 0", 5, 0, -3, BINDING_E_BAD_VM},
    {"vm_len 64", 5, 64, 0, BINDING_E_REC_SHORT},
    {"NUL in vm", 45, 0, 0, BINDING_E_BAD_VM},
    {"space in node", 48, ' ', 0, BINDING_E_BAD_NODE},
    {"id 0", 11, 0, 0, BINDING_E_BAD_ID},
    {"type 2", 1, 2, 0, BINDING_E_BAD_TYPE},
    {"origin 3", 2, 3, 0, BINDING_E_BAD_ORIGIN},
    {"port status 9", 3, 9, 0, BINDING_E_BAD_PORT_STATUS},
    {"port security 2", 4, 2, 0, BINDING_E_BAD_PORT_SECURITY},
    {"multicast MAC", 12, 0x53, 0, BINDING_E_MULTICAST_MAC},
    {"VLAN 4196", 18, 0x10, 0, BINDING_E_BAD_VLAN},
    {"class E IP", 20, 255, 0, BINDING_E_RESERVED_IP},
    {"static from the controller", 1, 1, 0, BINDING_E_ORIGIN_TYPE},
    {"finite lease, zero expiry", SIZE_MAX, 0, 0, BINDING_E_BAD_LEASE},
};

static void
test_record_errors(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof rec_cases / sizeof rec_cases[0]; i++) {
        const struct rec_case *c = &rec_cases[i];
        uint8_t buf[BINDING_RECORD_MAX + 8] = {0};
        size_t len = sizeof sample_record;
        struct binding b, before;

        memcpy(buf, sample_record, len);
        if (c->at != SIZE_MAX) {
            buf[c->at] = c->value;
        }
        if (c->want == BINDING_E_BAD_LEASE) {
            memset(buf + 32, 0, 8);
        }
        len = (size_t) ((long) len + c->resize);
        memset(&b, 0x42, sizeof b);
        memcpy(&before, &b, sizeof b);
        enum binding_err e = binding_decode(buf, len, &b);
        if (e != c->want) {
            fail_msg("%s: got %s, want %s", c->what, binding_errname(e),
                     binding_errname(c->want));
        }
        assert_memory_equal(&b, &before, sizeof b);
    }
    /* A 64-byte name cannot be an id, even when the bytes are there. */
    uint8_t buf[BINDING_RECORD_HDR + 64];
    struct binding b;
    memcpy(buf, sample_record, BINDING_RECORD_HDR);
    buf[5] = 64;
    buf[6] = 0;
    memset(buf + BINDING_RECORD_HDR, 'a', 64);
    assert_err(binding_decode(buf, sizeof buf, &b), BINDING_E_BAD_VM);
    /* Every prefix fails. */
    for (size_t n = 0; n < sizeof sample_record; n++) {
        assert_int_not_equal(binding_decode(sample_record, n, &b),
                             BINDING_E_OK);
    }
}

/* The table survives a round trip through records (what a store holds):
 * same bindings, same ids, same lookups, and fresh ids do not collide. */
static void
test_persistence(void **state)
{
    (void) state;
    enum { N = 50 };
    struct binding_table *t = binding_table_create();
    static uint8_t blobs[N][BINDING_RECORD_MAX];
    size_t lens[N];
    size_t n = 0;

    for (uint32_t i = 0; i < N; i++) {
        struct binding b = nth(i);
        if (i % 3 == 0) {
            b.type = BINDING_STATIC;
            b.origin = BINDING_FROM_MANAGER;
            b.lease_s = 0;
            b.expires_ms = 0;
        }
        b.expires_ms = b.expires_ms ? 1000 + i : 0;
        assert_err(binding_table_add(t, &b, NULL), BINDING_E_OK);
    }
    for (uint32_t i = 0; i < N; i += 4) {
        assert_err(binding_table_delete(t, i + 1, NULL), BINDING_E_OK);
    }
    uint32_t cursor = 0;
    const struct binding *it;
    while ((it = binding_table_next(t, &cursor))) {
        assert_err(binding_encode(it, blobs[n], sizeof blobs[n], &lens[n]),
                   BINDING_E_OK);
        n++;
    }
    assert_int_equal(n, binding_table_count(t));

    struct binding_table *r = binding_table_create();
    for (size_t k = 0; k < n; k++) {
        struct binding b;
        assert_err(binding_decode(blobs[k], lens[k], &b), BINDING_E_OK);
        assert_err(binding_table_add(r, &b, NULL), BINDING_E_OK);
    }
    assert_int_equal(binding_table_count(r), binding_table_count(t));
    cursor = 0;
    while ((it = binding_table_next(t, &cursor))) {
        const struct binding *c = binding_table_get(r, it->id);
        assert_non_null(c);
        assert_binding_equal(c, it);
        assert_ptr_equal(binding_table_find_ip(r, it->ip, it->vlan), c);
        assert_ptr_equal(binding_table_find_mac(r, it->mac, it->vlan), c);
    }
    uint64_t due_t, due_r;
    assert_true(binding_table_next_expiry(t, &due_t));
    assert_true(binding_table_next_expiry(r, &due_r));
    assert_int_equal(due_t, due_r);
    struct binding fresh = nth(N + 1);
    uint32_t id;
    assert_err(binding_table_add(r, &fresh, &id), BINDING_E_OK);
    assert_int_equal(id, N + 1); /* the largest id loaded was N */
    binding_table_destroy(t);
    binding_table_destroy(r);
}

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
        cmocka_unit_test(test_fields_text),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_churn),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expiry_many),
        cmocka_unit_test(test_origin_controller),
        cmocka_unit_test(test_origin_agent),
        cmocka_unit_test(test_origin_manager),
        cmocka_unit_test(test_from_ack_errors),
        cmocka_unit_test(test_snoop_release),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_record_errors),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
