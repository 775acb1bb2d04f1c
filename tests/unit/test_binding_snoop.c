/* test_binding_snoop.c: bindings from DHCP -- the three origins
 * (controller from a reported ACK, agent built and reported, manager
 * static), the ACK's errors, and snooping RELEASE, DECLINE and NAK.
 *
 * Expected values are written out here, never computed by the code under
 * test. */
#include "unit/binding_fixture.h"

/* ---- DHCP: the three origins and snooping ---- */

static const uint8_t server_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin_controller),
        cmocka_unit_test(test_origin_agent),
        cmocka_unit_test(test_origin_manager),
        cmocka_unit_test(test_from_ack_errors),
        cmocka_unit_test(test_snoop_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
