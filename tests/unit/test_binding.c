/* test_binding.c: the port-security binding value (seed 003 Table 1):
 * every field and its text form, the enum names, every validation error,
 * and the versioned record.
 *
 * Expected values are written out here, never computed by the code under
 * test. */
#include "unit/binding_fixture.h"

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_text),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_record_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
