/* test_core_binding.c: port-security bindings inside the core (seed 003):
 * the three origins, validation before any change, the lease as a durable
 * task that fires on time (also across a reload), and the binding moving
 * with a migration (target before resume, source by the snapshot's
 * DELETE, later updates never touching the snapshot). */
#include "unit/core_fixture.h"

#include <stdio.h>

#include "mignet/dhcp.h"

#define IP(a, b, c, d)                                                       \
    (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) \
     | (uint32_t) (d))
#define SERVER IP(198, 18, 1, 254)

struct fx {
    struct rec rec;
    struct store *store;
    struct core *core;
    struct core_config cfg;
    uint32_t n[3];
    uint32_t vm[3];
};

static struct mn_config
vm_cfg(int i)
{
    struct mn_config c = cfg_of((uint32_t) i);
    c.ip = 0; /* addresses come from bindings in these tests */
    return c;
}

static struct fx *
fx_new(void)
{
    struct fx *f = calloc(1, sizeof *f);
    core_config_default(&f->cfg);
    f->store = store_mem_create();
    struct core_sink sink = rec_sink(&f->rec);
    f->core = core_create(&f->cfg, f->store, &sink);
    char name[8];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(core_node_add(f->core, name, "198.18.0.1", 1000, 0,
                                       &f->n[i]),
                         CORE_E_OK);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "vm%d", i);
        struct mn_config c = vm_cfg(i + 1);
        assert_int_equal(core_vm_add(f->core, name, &c, f->n[0], 0,
                                     &f->vm[i]),
                         CORE_E_OK);
    }
    ack_all(f->core, 0);
    f->rec.n_instrs = 0;
    return f;
}

/* Crash and restart: a new core loaded from the same store. */
static void
fx_reload(struct fx *f)
{
    core_destroy(f->core);
    memset(&f->rec, 0, sizeof f->rec);
    struct core_sink sink = rec_sink(&f->rec);
    f->core = core_create(&f->cfg, f->store, &sink);
    assert_int_equal(core_load(f->core), CORE_E_OK);
}

static void
fx_free(struct fx *f)
{
    core_destroy(f->core);
    store_destroy(f->store);
    free(f);
}

static struct binding
static_binding(uint32_t ip)
{
    struct binding b = {0};
    b.ip = ip;
    b.type = BINDING_STATIC;
    b.origin = BINDING_FROM_MANAGER;
    return b;
}

static struct dhcp_msg
ack_for(const struct fx *f, uint32_t vm, uint32_t ip, uint32_t lease_s)
{
    struct core_vm_info vi;
    assert_true(core_vm_info(f->core, vm, &vi));
    struct dhcp_msg m;
    dhcp_msg_init(&m, DHCP_ACK, 0x1234, vi.config.mac);
    m.yiaddr = ip;
    m.opts |= DHCP_HAS(DHCP_OPT_LEASE_TIME) | DHCP_HAS(DHCP_OPT_SERVER_ID);
    m.lease_s = lease_s;
    m.server_id = SERVER;
    return m;
}

static const struct core_instr *
last_instr(const struct fx *f)
{
    assert_true(f->rec.n_instrs > 0);
    return &f->rec.instrs[f->rec.n_instrs - 1];
}

static void
test_static_set_and_delete(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    uint64_t version = core_map_version(f->core);
    struct binding b = static_binding(IP(198, 18, 1, 10));
    enum binding_err be;
    uint32_t id;
    bool created;
    assert_int_equal(core_binding_set(f->core, f->vm[0], &b, 100, &be, &id,
                                      &created),
                     CORE_E_OK);
    assert_true(created);
    assert_true(id != 0);
    /* The VM's configuration names it and takes its IP; the gateway map
     * moved on (ARP answers everywhere). */
    struct core_vm_info vi;
    assert_true(core_vm_info(f->core, f->vm[0], &vi));
    assert_int_equal(vi.config.binding, id);
    assert_int_equal(vi.config.ip, IP(198, 18, 1, 10));
    assert_true(core_map_version(f->core) > version);
    /* Its node is told, with every enforcement field. */
    assert_int_equal(f->rec.n_instrs, 1);
    const struct core_instr *in = last_instr(f);
    assert_int_equal(in->kind, INSTR_INSTALL);
    assert_int_equal(in->node, f->n[0]);
    assert_non_null(in->binding);
    assert_int_equal(in->binding->id, id);
    assert_string_equal(in->binding->vm, "vm0");
    assert_string_equal(in->binding->node, "n0");
    assert_memory_equal(in->binding->mac, vi.config.mac, 6);
    assert_int_equal(in->binding->type, BINDING_STATIC);
    assert_int_equal(in->binding->origin, BINDING_FROM_MANAGER);
    assert_int_equal(in->binding->expires_ms, 0);
    /* Static: no lease task. */
    assert_int_equal(core_n_tasks(f->core), 0);
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.bindings_by_type[BINDING_STATIC], 1);
    assert_int_equal(st.bindings_by_origin[BINDING_FROM_MANAGER], 1);
    assert_int_equal(store_mem_count(f->store, STORE_BINDING), 1);

    /* Setting again replaces it in place (same id). */
    b.port_status = BINDING_PORT_DOWN;
    assert_int_equal(core_binding_set(f->core, f->vm[0], &b, 200, &be, &id,
                                      &created),
                     CORE_E_OK);
    assert_false(created);
    assert_int_equal(core_binding_get(f->core, f->vm[0])->id, id);
    assert_int_equal(core_binding_get(f->core, f->vm[0])->port_status,
                     BINDING_PORT_DOWN);
    assert_int_equal(core_n_bindings(f->core), 1);

    assert_int_equal(core_binding_delete(f->core, f->vm[0], 300), CORE_E_OK);
    assert_null(core_binding_get(f->core, f->vm[0]));
    assert_true(core_vm_info(f->core, f->vm[0], &vi));
    assert_int_equal(vi.config.binding, 0);
    assert_int_equal(vi.config.ip, 0); /* may only ask for an address */
    in = last_instr(f);
    assert_int_equal(in->config.ip, 0);
    assert_int_equal(in->kind, INSTR_INSTALL);
    assert_null(in->binding);
    assert_int_equal(store_mem_count(f->store, STORE_BINDING), 0);
    assert_int_equal(core_binding_delete(f->core, f->vm[0], 300),
                     CORE_E_UNKNOWN_BINDING);
    fx_free(f);
}

/* A binding may not give a VM an IP another VM of its network has in its
 * configuration (a static address, no binding): set, check, DHCP snoop
 * and an agent's report are all refused with CORE_E_DUPLICATE_ADDRESS
 * and change nothing.  The same IP in another network is fine. */
static void
test_binding_takes_anothers_ip(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    const uint32_t taken = IP(198, 18, 1, 77);
    struct core_vm_info vi;
    assert_true(core_vm_info(f->core, f->vm[2], &vi));
    struct mn_config c2 = vi.config;
    c2.ip = taken;
    assert_int_equal(core_vm_update(f->core, f->vm[2], &c2, 0), CORE_E_OK);
    ack_all(f->core, 0);
    f->rec.n_instrs = 0;
    uint64_t version = core_map_version(f->core);

    struct binding b = static_binding(taken);
    enum binding_err be;
    assert_int_equal(core_binding_set_check(f->core, f->vm[0], &b, 0, &be),
                     CORE_E_DUPLICATE_ADDRESS);
    assert_int_equal(core_binding_set(f->core, f->vm[0], &b, 0, &be, NULL,
                                      NULL),
                     CORE_E_DUPLICATE_ADDRESS);
    struct dhcp_msg ack = ack_for(f, f->vm[1], taken, 3600);
    assert_int_equal(core_binding_snoop(f->core, f->n[0], f->vm[1], &ack, 0,
                                        &be, NULL, NULL),
                     CORE_E_DUPLICATE_ADDRESS);
    struct binding r = {0};
    snprintf(r.vm, sizeof r.vm, "vm1");
    r.ip = taken;
    r.type = BINDING_DYNAMIC;
    r.origin = BINDING_FROM_AGENT;
    r.lease_s = 3600;
    r.server = SERVER;
    assert_int_equal(core_binding_report(f->core, f->n[0], &r, false, 0,
                                         &be, NULL),
                     CORE_E_DUPLICATE_ADDRESS);
    assert_int_equal(core_n_bindings(f->core), 0);
    assert_int_equal(f->rec.n_instrs, 0);
    assert_int_equal(core_map_version(f->core), version);
    assert_true(core_vm_info(f->core, f->vm[0], &vi));
    assert_int_equal(vi.config.ip, 0);

    /* vm2 leaves that network: the address is free for vm0. */
    c2.vni = 200;
    assert_int_equal(core_vm_update(f->core, f->vm[2], &c2, 0), CORE_E_OK);
    assert_int_equal(core_binding_set(f->core, f->vm[0], &b, 0, &be, NULL,
                                      NULL),
                     CORE_E_OK);
    fx_free(f);
}

/* A refused binding changes nothing: no instruction, no store record, the
 * VM's configuration as it was. */
static void
test_refusals_change_nothing(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    struct binding b = static_binding(IP(198, 18, 1, 10));
    enum binding_err be;
    assert_int_equal(core_binding_set(f->core, f->vm[0], &b, 0, &be, NULL,
                                      NULL),
                     CORE_E_OK);
    size_t n_instrs = f->rec.n_instrs;
    struct core_vm_info before;
    assert_true(core_vm_info(f->core, f->vm[1], &before));
    uint64_t version = core_map_version(f->core);

    /* Another VM, the same IP: conflict. */
    assert_int_equal(core_binding_set(f->core, f->vm[1], &b, 0, &be, NULL,
                                      NULL),
                     CORE_E_BINDING);
    assert_int_equal(be, BINDING_E_IP_CONFLICT);
    /* Not the VM's MAC. */
    struct binding m = static_binding(IP(198, 18, 1, 11));
    memcpy(m.mac, "\x02\x00\x00\x00\x00\x63", 6);
    assert_int_equal(core_binding_set(f->core, f->vm[1], &m, 0, &be, NULL,
                                      NULL),
                     CORE_E_BINDING_MISMATCH);
    /* Not the VM's node or VLAN. */
    m = static_binding(IP(198, 18, 1, 11));
    snprintf(m.node, sizeof m.node, "n2");
    assert_int_equal(core_binding_set(f->core, f->vm[1], &m, 0, &be, NULL,
                                      NULL),
                     CORE_E_BINDING_MISMATCH);
    m = static_binding(IP(198, 18, 1, 11));
    m.vlan = 7;
    assert_int_equal(core_binding_set(f->core, f->vm[1], &m, 0, &be, NULL,
                                      NULL),
                     CORE_E_BINDING_MISMATCH);
    /* Invalid values, each with its own error. */
    m = static_binding(IP(224, 0, 0, 1));
    assert_int_equal(core_binding_set(f->core, f->vm[1], &m, 0, &be, NULL,
                                      NULL),
                     CORE_E_BINDING);
    assert_int_equal(be, BINDING_E_MULTICAST_IP);
    m = static_binding(IP(198, 18, 1, 11));
    m.lease_s = 60;
    assert_int_equal(core_binding_set(f->core, f->vm[1], &m, 0, &be, NULL,
                                      NULL),
                     CORE_E_BINDING);
    assert_int_equal(be, BINDING_E_STATIC_LEASE);
    m = static_binding(IP(198, 18, 1, 11));
    m.type = BINDING_DYNAMIC; /* a dynamic binding needs a lease */
    assert_int_equal(core_binding_set(f->core, f->vm[1], &m, 0, &be, NULL,
                                      NULL),
                     CORE_E_BINDING);
    assert_int_equal(be, BINDING_E_BAD_LEASE);
    assert_int_equal(core_binding_set(f->core, 99, &m, 0, &be, NULL, NULL),
                     CORE_E_UNKNOWN_VM);

    assert_int_equal(f->rec.n_instrs, n_instrs);
    assert_int_equal(core_map_version(f->core), version);
    struct core_vm_info after;
    assert_true(core_vm_info(f->core, f->vm[1], &after));
    assert_true(mn_config_equal(&before.config, &after.config));
    assert_int_equal(core_n_bindings(f->core), 1);
    assert_int_equal(store_mem_count(f->store, STORE_BINDING), 1);
    assert_int_equal(core_n_tasks(f->core), 0);

    /* While bound, the VM's addresses change only through the binding. */
    struct mn_config c = after.config;
    assert_true(core_vm_info(f->core, f->vm[0], &after));
    c = after.config;
    c.ip = IP(198, 18, 1, 99);
    assert_int_equal(core_vm_update(f->core, f->vm[0], &c, 0),
                     CORE_E_ADDRESS_BOUND);
    c = after.config;
    c.binding = 0;
    assert_int_equal(core_vm_update(f->core, f->vm[0], &c, 0),
                     CORE_E_BAD_VALUE);
    c = after.config;
    c.vni = 200; /* not an address: fine, and the install keeps it bound */
    assert_int_equal(core_vm_update(f->core, f->vm[0], &c, 0), CORE_E_OK);
    assert_non_null(last_instr(f)->binding);
    /* A new VM cannot name a binding. */
    c = vm_cfg(9);
    c.binding = after.config.binding;
    assert_int_equal(core_vm_add(f->core, "vm9", &c, f->n[0], 0, NULL),
                     CORE_E_BAD_VALUE);
    fx_free(f);
}

/* FIG. 3: the controller snoops ACKs; renewals move the lease; NAK and
 * RELEASE remove; a static binding is never replaced by DHCP. */
static void
test_snoop(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    enum binding_err be;
    enum binding_action act;
    uint32_t vm = CORE_NONE;
    struct dhcp_msg ack = ack_for(f, f->vm[0], IP(198, 18, 1, 100), 120);
    /* Found by chaddr among the node's VMs. */
    assert_int_equal(core_binding_snoop(f->core, f->n[0], CORE_NONE, &ack,
                                        1000, &be, &act, &vm),
                     CORE_E_OK);
    assert_int_equal(act, BINDING_ACT_CREATED);
    assert_int_equal(vm, f->vm[0]);
    const struct binding *b = core_binding_get(f->core, f->vm[0]);
    assert_non_null(b);
    assert_int_equal(b->origin, BINDING_FROM_CONTROLLER);
    assert_int_equal(b->type, BINDING_DYNAMIC);
    assert_int_equal(b->lease_s, 120);
    assert_int_equal(b->expires_ms, 1000 + 120000);
    assert_int_equal(b->server, SERVER);
    assert_int_equal(core_next_due(f->core), 121000);
    assert_int_equal(last_instr(f)->binding->ip, IP(198, 18, 1, 100));

    /* Renewal at 60 s: same id, lease task moved. */
    uint32_t id = b->id;
    assert_int_equal(core_binding_snoop(f->core, f->n[0], f->vm[0], &ack,
                                        60000, &be, &act, NULL),
                     CORE_E_OK);
    assert_int_equal(act, BINDING_ACT_UPDATED);
    assert_int_equal(core_binding_get(f->core, f->vm[0])->id, id);
    assert_int_equal(core_next_due(f->core), 180000);
    assert_int_equal(core_n_tasks(f->core), 1);

    /* From a node the VM is not on: refused. */
    assert_int_equal(core_binding_snoop(f->core, f->n[1], f->vm[0], &ack,
                                        60000, &be, &act, NULL),
                     CORE_E_WRONG_SOURCE);
    /* No VM with that chaddr on the node. */
    struct dhcp_msg other = ack;
    memcpy(other.chaddr, "\x02\x00\x00\x00\x00\x77", 6);
    assert_int_equal(core_binding_snoop(f->core, f->n[0], CORE_NONE, &other,
                                        60000, &be, &act, NULL),
                     CORE_E_UNKNOWN_VM);
    /* A client message grants nothing. */
    struct dhcp_msg req = ack;
    req.type = DHCP_REQUEST;
    assert_int_equal(core_binding_snoop(f->core, f->n[0], f->vm[0], &req,
                                        60000, &be, &act, NULL),
                     CORE_E_OK);
    assert_int_equal(act, BINDING_ACT_NONE);
    /* Another VM ACKed the same address: conflict, nothing changes. */
    struct dhcp_msg steal = ack_for(f, f->vm[1], IP(198, 18, 1, 100), 120);
    size_t n = f->rec.n_instrs;
    assert_int_equal(core_binding_snoop(f->core, f->n[0], CORE_NONE, &steal,
                                        60000, &be, &act, NULL),
                     CORE_E_BINDING);
    assert_int_equal(be, BINDING_E_IP_CONFLICT);
    assert_null(core_binding_get(f->core, f->vm[1]));
    assert_int_equal(f->rec.n_instrs, n);

    /* NAK removes the dynamic binding and its lease. */
    struct dhcp_msg nak = ack;
    nak.type = DHCP_NAK;
    assert_int_equal(core_binding_snoop(f->core, f->n[0], f->vm[0], &nak,
                                        70000, &be, &act, NULL),
                     CORE_E_OK);
    assert_int_equal(act, BINDING_ACT_REMOVED);
    assert_null(core_binding_get(f->core, f->vm[0]));
    assert_int_equal(core_n_tasks(f->core), 0);
    assert_null(last_instr(f)->binding);

    /* A static binding is held against DHCP. */
    struct binding s = static_binding(IP(198, 18, 1, 50));
    assert_int_equal(core_binding_set(f->core, f->vm[2], &s, 0, &be, NULL,
                                      NULL),
                     CORE_E_OK);
    struct dhcp_msg a2 = ack_for(f, f->vm[2], IP(198, 18, 1, 51), 120);
    assert_int_equal(core_binding_snoop(f->core, f->n[0], f->vm[2], &a2,
                                        70000, &be, &act, NULL),
                     CORE_E_BINDING);
    assert_int_equal(be, BINDING_E_STATIC_HELD);
    assert_int_equal(core_binding_get(f->core, f->vm[2])->ip,
                     IP(198, 18, 1, 50));
    fx_free(f);
}

/* FIG. 4: an agent's report; the controller's clock decides the expiry. */
static void
test_agent_report(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    struct core_vm_info vi;
    assert_true(core_vm_info(f->core, f->vm[1], &vi));
    struct binding b = {0};
    snprintf(b.vm, sizeof b.vm, "vm1");
    snprintf(b.node, sizeof b.node, "n0");
    memcpy(b.mac, vi.config.mac, 6);
    b.ip = IP(198, 18, 1, 120);
    b.port = 105; /* the agent's view; the core keeps the VM's (0) */
    b.type = BINDING_DYNAMIC;
    b.origin = BINDING_FROM_AGENT;
    b.lease_s = 30;
    b.expires_ms = 999999999; /* the agent's clock: ignored */
    b.server = SERVER;
    enum binding_err be;
    enum binding_action act;
    assert_int_equal(core_binding_report(f->core, f->n[1], &b, false, 5000,
                                         &be, &act),
                     CORE_E_WRONG_SOURCE);
    assert_int_equal(core_binding_report(f->core, f->n[0], &b, false, 5000,
                                         &be, &act),
                     CORE_E_OK);
    assert_int_equal(act, BINDING_ACT_CREATED);
    const struct binding *got = core_binding_get(f->core, f->vm[1]);
    assert_int_equal(got->origin, BINDING_FROM_AGENT);
    assert_int_equal(got->expires_ms, 5000 + 30000);
    assert_int_equal(got->port, 0);
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.bindings_by_origin[BINDING_FROM_AGENT], 1);
    /* An agent cannot report a static binding. */
    struct binding s = b;
    s.type = BINDING_STATIC;
    s.lease_s = 0;
    s.expires_ms = 0;
    assert_int_equal(core_binding_report(f->core, f->n[0], &s, false, 5000,
                                         &be, &act),
                     CORE_E_BINDING);
    /* Removal reported by the agent (RELEASE seen locally). */
    assert_int_equal(core_binding_report(f->core, f->n[0], &b, true, 6000,
                                         &be, &act),
                     CORE_E_OK);
    assert_int_equal(act, BINDING_ACT_REMOVED);
    assert_null(core_binding_get(f->core, f->vm[1]));
    assert_int_equal(core_n_tasks(f->core), 0);
    fx_free(f);
}

/* The lease is a task due at the expiry: never early, at once when
 * overdue after a restart, removing the binding and telling the node. */
static void
test_lease_expiry_and_restart(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    enum binding_err be;
    struct binding d = static_binding(IP(198, 18, 1, 30));
    d.type = BINDING_DYNAMIC;
    d.lease_s = 10;
    assert_int_equal(core_binding_set(f->core, f->vm[0], &d, 1000, &be, NULL,
                                      NULL),
                     CORE_E_OK);
    struct dhcp_msg ack = ack_for(f, f->vm[1], IP(198, 18, 1, 31), 20);
    assert_int_equal(core_binding_snoop(f->core, f->n[0], CORE_NONE, &ack,
                                        2000, &be, NULL, NULL),
                     CORE_E_OK);
    assert_int_equal(core_n_tasks(f->core), 2);
    uint64_t due0 = 11000, due1 = 22000;
    assert_int_equal(core_next_due(f->core), due0);

    /* Restart before either is due: both come back with their times. */
    fx_reload(f);
    assert_int_equal(core_n_bindings(f->core), 2);
    assert_int_equal(core_n_tasks(f->core), 2);
    assert_int_equal(core_next_due(f->core), due0);
    core_run(f->core, due0 - 1);
    assert_non_null(core_binding_get(f->core, f->vm[0]));
    assert_int_equal(f->rec.n_instrs, 0);
    core_run(f->core, due0);
    assert_null(core_binding_get(f->core, f->vm[0]));
    assert_int_equal(f->rec.n_instrs, 1);
    assert_int_equal(f->rec.instrs[0].kind, INSTR_INSTALL);
    assert_int_equal(f->rec.instrs[0].vm, f->vm[0]);
    assert_null(f->rec.instrs[0].binding);
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.lease_expiries, 1);

    /* Restart after the second is due: it runs at the first core_run. */
    fx_reload(f);
    assert_int_equal(core_n_bindings(f->core), 1);
    assert_int_equal(core_next_due(f->core), due1);
    core_run(f->core, due1 + 5000);
    assert_int_equal(core_n_bindings(f->core), 0);
    assert_int_equal(core_n_tasks(f->core), 0);
    fx_reload(f);
    assert_int_equal(core_n_bindings(f->core), 0);
    struct core_vm_info vi;
    assert_true(core_vm_info(f->core, f->vm[1], &vi));
    assert_int_equal(vi.config.binding, 0);
    fx_free(f);
}

/* DESIGN §2 with a binding: INSTALL on the target carries it (node and
 * port updated) and is what the migration waits for; the RELAY and the
 * DELETE on the source carry the snapshot, unchanged by a later static
 * update from the VM manager (S330-S335), which goes to the target only;
 * the snapshot survives a restart. */
static void
test_migration(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    enum binding_err be;
    struct dhcp_msg ack = ack_for(f, f->vm[0], IP(198, 18, 1, 40), 3600);
    assert_int_equal(core_binding_snoop(f->core, f->n[0], CORE_NONE, &ack,
                                        1000, &be, NULL, NULL),
                     CORE_E_OK);
    uint32_t id = core_binding_get(f->core, f->vm[0])->id;
    ack_all(f->core, 1000);
    f->rec.n_instrs = 0;

    struct core_migrate_result res;
    assert_int_equal(core_migrate(f->core, f->vm[0], f->n[0], f->n[1], 2000,
                                  &res),
                     CORE_E_OK);
    long i = rec_find(&f->rec, 0, INSTR_INSTALL, f->n[1]);
    assert_true(i >= 0);
    const struct core_instr *in = &f->rec.instrs[i];
    assert_non_null(in->binding);
    assert_int_equal(in->binding->id, id);
    assert_string_equal(in->binding->node, "n1");
    assert_int_equal(in->binding->ip, IP(198, 18, 1, 40));
    i = rec_find(&f->rec, 0, INSTR_RELAY, f->n[0]);
    assert_true(i >= 0);
    assert_non_null(f->rec.instrs[i].binding);
    assert_string_equal(f->rec.instrs[i].binding->node, "n0");
    /* The binding record follows the VM; so does its lease. */
    assert_string_equal(core_binding_get(f->core, f->vm[0])->node, "n1");
    struct core_node_info ni;
    assert_true(core_node_info(f->core, f->n[0], &ni));
    ack_all(f->core, 2100);

    /* S330-S335: the VM manager sends the updated configuration after the
     * migration: a static binding with a new address. */
    size_t mark = f->rec.n_instrs;
    struct binding s = static_binding(IP(198, 18, 1, 41));
    assert_int_equal(core_binding_set(f->core, f->vm[0], &s, 2200, &be, NULL,
                                      NULL),
                     CORE_E_OK);
    assert_int_equal(f->rec.n_instrs, mark + 1);
    in = &f->rec.instrs[mark];
    assert_int_equal(in->kind, INSTR_INSTALL);
    assert_int_equal(in->node, f->n[1]);
    assert_int_equal(in->binding->ip, IP(198, 18, 1, 41));
    assert_int_equal(in->binding->id, id);
    /* Static now: no lease task left, only the deletion. */
    assert_int_equal(core_n_tasks(f->core), 1);

    /* A restart in between keeps the snapshot; the deletion waits a fresh
     * delay from the restart (DESIGN I7). */
    fx_reload(f);
    core_run(f->core, 3000);
    assert_true(rec_find(&f->rec, 0, INSTR_DELETE, f->n[0]) < 0);
    core_run(f->core, UINT64_MAX - 1);
    i = rec_find(&f->rec, 0, INSTR_DELETE, f->n[0]);
    assert_true(i >= 0);
    in = &f->rec.instrs[i];
    assert_non_null(in->binding);
    assert_string_equal(in->binding->node, "n0");
    assert_int_equal(in->binding->ip, IP(198, 18, 1, 40));
    assert_int_equal(in->binding->type, BINDING_DYNAMIC);
    assert_int_equal(in->config.binding, id);
    struct core_migration m;
    assert_true(core_migration_get(f->core, res.migration, &m));
    assert_int_equal(m.phase, MIG_CLEANING);
    ack_all(f->core, 0);
    assert_true(core_migration_get(f->core, res.migration, &m));
    assert_int_equal(m.phase, MIG_CLEANED);
    /* The node the VM left holds nothing of it any more: once its other
     * VMs are gone, it can go without force (no task of vm0 there). */
    assert_int_equal(core_vm_remove(f->core, f->vm[1], 0), CORE_E_OK);
    assert_int_equal(core_vm_remove(f->core, f->vm[2], 0), CORE_E_OK);
    assert_int_equal(core_node_remove(f->core, f->n[0], false, 0),
                     CORE_E_OK);
    fx_free(f);
}

/* A lease task counts on the VM's node, so the node it left is free. */
static void
test_lease_follows_vm(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    enum binding_err be;
    struct dhcp_msg ack = ack_for(f, f->vm[0], IP(198, 18, 1, 60), 3600);
    assert_int_equal(core_binding_snoop(f->core, f->n[0], CORE_NONE, &ack,
                                        0, &be, NULL, NULL),
                     CORE_E_OK);
    uint32_t vms[2] = {f->vm[1], f->vm[2]};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(core_vm_remove(f->core, vms[k], 0), CORE_E_OK);
    }
    assert_int_equal(core_migrate(f->core, f->vm[0], CORE_NONE, f->n[2], 10,
                                  NULL),
                     CORE_E_OK);
    ack_all(f->core, 20);
    refresh_all(f->core, 99000);
    core_run(f->core, 100000);
    ack_all(f->core, 100000); /* n0 confirms the deletion */
    assert_int_equal(core_n_tasks(f->core), 1); /* the lease */
    assert_int_equal(core_node_remove(f->core, f->n[0], false, 0),
                     CORE_E_OK);
    /* Not while it has the VM, even forced. */
    assert_int_equal(core_node_remove(f->core, f->n[2], true, 0),
                     CORE_E_NODE_BUSY);
    assert_true(core_node_valid(f->core, f->n[2]));
    /* Removing the VM removes the binding, its record and its lease. */
    assert_int_equal(core_vm_remove(f->core, f->vm[0], 0), CORE_E_OK);
    assert_int_equal(core_n_bindings(f->core), 0);
    assert_int_equal(core_n_tasks(f->core), 0);
    assert_int_equal(store_mem_count(f->store, STORE_BINDING), 0);
    fx_free(f);
}

/* A store whose binding and VM disagree fails the load. */
static void
test_corrupt_binding_store(void **state)
{
    (void) state;
    struct fx *f = fx_new();
    enum binding_err be;
    struct binding s = static_binding(IP(198, 18, 1, 70));
    assert_int_equal(core_binding_set(f->core, f->vm[0], &s, 0, &be, NULL,
                                      NULL),
                     CORE_E_OK);
    uint32_t id = core_binding_get(f->core, f->vm[0])->id;
    struct store_rec del = {.type = STORE_BINDING, .del = true};
    del.binding.id = id;
    assert_int_equal(store_put(f->store, &del), 0);
    core_destroy(f->core);
    struct core_sink sink = rec_sink(&f->rec);
    f->core = core_create(&f->cfg, f->store, &sink);
    assert_int_equal(core_load(f->core), CORE_E_STORE);
    assert_int_equal(core_n_bindings(f->core), 0);
    fx_free(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_set_and_delete),
        cmocka_unit_test(test_refusals_change_nothing),
        cmocka_unit_test(test_binding_takes_anothers_ip),
        cmocka_unit_test(test_snoop),
        cmocka_unit_test(test_agent_report),
        cmocka_unit_test(test_lease_expiry_and_restart),
        cmocka_unit_test(test_migration),
        cmocka_unit_test(test_lease_follows_vm),
        cmocka_unit_test(test_corrupt_binding_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
