/* test_agent_flows.c: the agent's pipeline (what flows a node's view
 * yields), its flow-table difference, and its copy of the gateway map. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/agent_map.h"
#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "lib/strbuf.h"
#include "lib/util.h"
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
    assert_int_equal(pipeline_compute(&in, t, NULL, 0), 0);

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
    size_t n_flows = flowtab_count(t);
    flowtab_sync(installed, t, &b, &xid, &d);
    assert_int_equal(d.added, n_flows);
    assert_int_equal(d.deleted + d.modified, 0);
    assert_int_equal(xid, 1 + n_flows);
    /* The flows moved into 'installed'; 'desired' is left empty. */
    assert_int_equal(flowtab_count(installed), n_flows);
    assert_int_equal(flowtab_count(t), 0);
    ofpbuf_uninit(&b);
    flowtab_destroy(installed);
    flowtab_destroy(t);
}

/* Without an overlay port nothing can leave the node. */
/* ---- Port security (table 10, docs/port-security.md) ---- */

struct count_aux {
    uint64_t cookie;
    uint8_t table;
    size_t n;
};

static void
count_cb(void *aux, const struct flowtab_flow *f)
{
    struct count_aux *c = aux;
    if (f->cookie == c->cookie && f->table == c->table) {
        c->n++;
    }
}

static size_t
count_flows(const struct flowtab *t, uint8_t table, uint64_t cookie)
{
    struct count_aux c = {.cookie = cookie, .table = table};
    flowtab_walk(t, count_cb, &c);
    return c.n;
}

static struct binding
bind_of(const struct mn_config *c, const char *vm, bool trust)
{
    struct binding b = {0};
    snprintf(b.vm, sizeof b.vm, "%s", vm);
    snprintf(b.node, sizeof b.node, "n1");
    memcpy(b.mac, c->mac, 6);
    b.ip = c->ip;
    b.type = BINDING_STATIC;
    b.origin = BINDING_FROM_MANAGER;
    b.port_security = trust ? BINDING_TRUST : BINDING_UNTRUST;
    return b;
}

/* A flow of table 10 at 'prio' whose match is 'm' (in_port first). */
static const struct flowtab_flow *
ps_find(const struct flowtab *t, uint16_t prio, const struct ofp_match *m)
{
    return flowtab_find(t, PL_T_PORTSEC, prio, m);
}

static void
test_pipeline_portsec(void **state)
{
    struct mn_config c1 = vmcfg(1), c2 = vmcfg(2), c3 = vmcfg(3),
                     srv = vmcfg(254);
    c2.ip = 0; /* waits for DHCP */
    struct binding b1 = bind_of(&c1, "vm1", false);
    struct binding bs = bind_of(&srv, "dhcp", true);
    struct pl_vm vms[] = {
        {.vm = "vm1", .kind = PL_VM_LOCAL, .config = c1, .ofport = 5,
         .binding = &b1},
        {.vm = "vm2", .kind = PL_VM_LOCAL, .config = c2, .ofport = 6},
        {.vm = "vm3", .kind = PL_VM_LOCAL, .config = c3, .ofport = 7},
        {.vm = "dhcp", .kind = PL_VM_LOCAL, .config = srv, .ofport = 8,
         .binding = &bs},
    };
    struct pl_input in = {.tunnel_port = TUN, .dhcp_punt = true, .vms = vms,
                          .n_vms = 4};
    struct flowtab *t = flowtab_create();
    assert_int_equal(pipeline_compute(&in, t, NULL, 0), 0);
    uint64_t mac1 = ofp_eth_to_u64(c1.mac);

    /* Bound: the six rules of binding_rules(), as OpenFlow. */
    assert_int_equal(count_flows(t, PL_T_PORTSEC,
                                 pl_cookie(PL_K_PORTSEC, "vm1")),
                     6);
    struct ofp_match m;
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 5);
    ofp_match_set(&m, OFP_F_ETH_SRC, mac1);
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&m, OFP_F_IPV4_SRC, c1.ip);
    const struct flowtab_flow *f = ps_find(t, PL_PORTSEC_BASE + 200, &m);
    assert_non_null(f);
    assert_int_equal(f->insts.present, OFP_INST_GOTO);
    assert_int_equal(f->insts.goto_table, PL_T_FROM_VM);
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 5);
    ofp_match_set(&m, OFP_F_ETH_SRC, mac1);
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0806);
    ofp_match_set(&m, OFP_F_ARP_SHA, mac1);
    ofp_match_set(&m, OFP_F_ARP_SPA, c1.ip);
    assert_non_null(ps_find(t, PL_PORTSEC_BASE + 200, &m));
    ofp_match_set(&m, OFP_F_ARP_SPA, 0); /* probes */
    assert_non_null(ps_find(t, PL_PORTSEC_BASE + 200, &m));
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 5);
    ofp_match_set(&m, OFP_F_ETH_SRC, mac1);
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&m, OFP_F_IPV4_SRC, 0);
    ofp_match_set(&m, OFP_F_IP_PROTO, 17);
    ofp_match_set(&m, OFP_F_UDP_SRC, 68);
    ofp_match_set(&m, OFP_F_UDP_DST, 67);
    assert_non_null(ps_find(t, PL_PORTSEC_BASE + 200, &m));
    /* Everything else from the port: dropped (no instructions). */
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 5);
    f = ps_find(t, PL_PORTSEC_BASE + 100, &m);
    assert_non_null(f);
    assert_int_equal(f->insts.present, 0);
    /* A VM cannot be a DHCP server: above the allow rules. */
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&m, OFP_F_IP_PROTO, 17);
    ofp_match_set(&m, OFP_F_UDP_SRC, 67);
    f = ps_find(t, PL_PORTSEC_BASE + 300, &m);
    assert_non_null(f);
    assert_int_equal(f->insts.present, 0);

    /* Unbound, no address yet: DHCP only (guard, allow, drop). */
    assert_int_equal(count_flows(t, PL_T_PORTSEC,
                                 pl_cookie(PL_K_PORTSEC, "vm2")),
                     3);
    /* An address given by hand and no binding: not filtered. */
    assert_int_equal(count_flows(t, PL_T_PORTSEC,
                                 pl_cookie(PL_K_PORTSEC, "vm3")),
                     0);

    /* Trusted server port: everything passes, and server messages also
     * go to the controller, whole. */
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 8);
    f = ps_find(t, PL_PORTSEC_BASE + 100, &m);
    assert_non_null(f);
    assert_int_equal(f->insts.present, OFP_INST_GOTO);
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&m, OFP_F_IP_PROTO, 17);
    ofp_match_set(&m, OFP_F_UDP_SRC, 67);
    ofp_match_set(&m, OFP_F_UDP_DST, 68);
    f = ps_find(t, PL_PRIO_DHCP_PUNT, &m);
    assert_non_null(f);
    assert_int_equal(act(f, 0)->output.port, OFPP_CONTROLLER);
    assert_int_equal(act(f, 0)->output.max_len, 0xffff);
    assert_true(f->insts.present & OFP_INST_GOTO);
    assert_int_equal(f->insts.goto_table, PL_T_FROM_VM);

    /* Table 20: client broadcasts reach the server port, server
     * broadcasts every untrusted VM port of the key. */
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_TUNNEL_ID, 100);
    ofp_match_set(&m, OFP_F_ETH_DST, UINT64_C(0xffffffffffff));
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&m, OFP_F_IP_PROTO, 17);
    ofp_match_set(&m, OFP_F_UDP_SRC, 68);
    ofp_match_set(&m, OFP_F_UDP_DST, 67);
    f = flowtab_find(t, PL_T_FROM_VM, PL_PRIO_DHCP, &m);
    assert_non_null(f);
    assert_int_equal(f->insts.apply.n, 1);
    assert_int_equal(act(f, 0)->output.port, 8);
    ofp_match_set(&m, OFP_F_UDP_SRC, 67);
    ofp_match_set(&m, OFP_F_UDP_DST, 68);
    f = flowtab_find(t, PL_T_FROM_VM, PL_PRIO_DHCP, &m);
    assert_non_null(f);
    assert_int_equal(f->insts.apply.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(act(f, i)->output.port, 5 + i);
    }

    /* Snooping off: no punt; a disabled port drops everything; a
     * trusted port never is a client's destination when disabled. */
    in.dhcp_punt = false;
    bs.port_status = BINDING_PORT_DISABLE;
    b1.port_status = BINDING_PORT_DISABLE;
    assert_int_equal(pipeline_compute(&in, t, NULL, 0), 0);
    assert_int_equal(count_flows(t, PL_T_PORTSEC,
                                 pl_cookie(PL_K_PORTSEC, "dhcp")),
                     1);
    assert_int_equal(count_flows(t, PL_T_PORTSEC,
                                 pl_cookie(PL_K_PORTSEC, "vm1")),
                     1);
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 5);
    f = ps_find(t, PL_PORTSEC_BASE + 100, &m);
    assert_non_null(f);
    assert_int_equal(f->insts.present, 0);
    assert_int_equal(count_flows(t, PL_T_FROM_VM,
                                 pl_cookie(PL_K_PORTSEC, NULL)),
                     0);

    /* A snapshot relaying elsewhere keeps its binding's flows while its
     * port is still on the node, and has none once the port is gone. */
    b1.port_status = BINDING_PORT_UP;
    struct pl_vm relay = {.vm = "vm1", .kind = PL_VM_RELAY, .config = c1,
                          .ofport = 5, .peer = PEER_B, .binding = &b1};
    struct pl_input rin = {.tunnel_port = TUN, .vms = &relay, .n_vms = 1};
    assert_int_equal(pipeline_compute(&rin, t, NULL, 0), 0);
    assert_int_equal(count_flows(t, PL_T_PORTSEC,
                                 pl_cookie(PL_K_PORTSEC, "vm1")),
                     6);
    relay.ofport = 0;
    assert_int_equal(pipeline_compute(&rin, t, NULL, 0), 0);
    assert_int_equal(count_flows(t, PL_T_PORTSEC,
                                 pl_cookie(PL_K_PORTSEC, "vm1")),
                     0);
    flowtab_destroy(t);
}

/* The DHCP broadcast from a server to the untrusted ports of its key is
 * one flow with an output per port: no cap.  With more ports than one
 * flow_mod can name, the computation fails; the flow is never cut short. */
static void
test_pipeline_inexpressible(void **state)
{
    (void) state;
    /* 48 fixed + 56 match + 8 instruction header, 16 per output. */
    const size_t fit = (UINT16_MAX - 48 - 56 - 8) / 16;
    struct mn_config srv = vmcfg(254);
    struct binding bs = bind_of(&srv, "dhcp", true);
    struct pl_vm *vms = calloc(fit + 2, sizeof *vms);
    assert_non_null(vms);
    vms[0] = (struct pl_vm){.vm = "dhcp", .kind = PL_VM_LOCAL,
                            .config = srv, .ofport = 1, .binding = &bs};
    for (size_t i = 1; i < fit + 2; i++) {
        vms[i].vm = "client";
        vms[i].kind = PL_VM_LOCAL;
        vms[i].config = vmcfg(1);
        vms[i].config.mac[3] = (uint8_t) (i >> 8);
        vms[i].config.mac[4] = (uint8_t) i;
        vms[i].ofport = (uint32_t) (i + 1);
    }
    struct ofp_match down;
    ofp_match_init(&down);
    ofp_match_set(&down, OFP_F_TUNNEL_ID, 100);
    ofp_match_set(&down, OFP_F_ETH_DST, UINT64_C(0xffffffffffff));
    ofp_match_set(&down, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&down, OFP_F_IP_PROTO, 17);
    ofp_match_set(&down, OFP_F_UDP_SRC, 67);
    ofp_match_set(&down, OFP_F_UDP_DST, 68);

    /* As many clients as fit: one flow, every port, and it encodes. */
    struct pl_input in = {.tunnel_port = TUN, .vms = vms, .n_vms = fit + 1};
    struct flowtab *t = flowtab_create(), *installed = flowtab_create();
    char err[256] = "";
    assert_int_equal(pipeline_compute(&in, t, err, sizeof err), 0);
    const struct flowtab_flow *f =
        flowtab_find(t, PL_T_FROM_VM, PL_PRIO_DHCP, &down);
    assert_non_null(f);
    assert_int_equal(f->insts.apply.n, fit);
    assert_int_equal(act(f, fit - 1)->output.port, fit + 1);
    assert_true(ofp_flow_fits(&f->match, &f->insts));
    struct ofpbuf b;
    ofpbuf_init(&b, 4096);
    uint32_t xid = 1;
    struct flowtab_diff d;
    flowtab_sync(installed, t, &b, &xid, &d);
    assert_true(d.added > fit);
    ofpbuf_uninit(&b);

    /* One more: an error naming the flow, and no shortened flow. */
    in.n_vms = fit + 2;
    assert_int_equal(pipeline_compute(&in, t, err, sizeof err), EMSGSIZE);
    assert_non_null(strstr(err, "65535"));
    assert_non_null(strstr(err, "table 20"));
    assert_null(flowtab_find(t, PL_T_FROM_VM, PL_PRIO_DHCP, &down));
    flowtab_destroy(t);
    flowtab_destroy(installed);
    free(vms);
}

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
    assert_int_equal(pipeline_compute(&in, t, NULL, 0), 0);
    assert_null(find_dst(t, PL_T_FROM_VM, 150, &vms[0].config));
    assert_null(find_dst(t, PL_T_FROM_VM, 100, &vms[1].config));
    flowtab_destroy(t);
}

/* A held-inactive copy's watched port (a REMOTE view from the map, or
 * INACTIVE) sends its frames to the agent only, with or without an
 * overlay port; a LOCAL VM's watched port forwards and sends a copy. */
static void
test_pipeline_watch(void **state)
{
    struct pl_vm vms[] = {
        {.vm = "vm1", .kind = PL_VM_REMOTE, .config = vmcfg(1),
         .peer = PEER_B, .watch_port = 11},
        {.vm = "vm2", .kind = PL_VM_INACTIVE, .config = vmcfg(2),
         .watch_port = 12},
        {.vm = "vm3", .kind = PL_VM_LOCAL, .config = vmcfg(3), .ofport = 13,
         .watch_port = 13},
    };
    for (uint32_t tun = 0; tun <= TUN; tun += TUN) {
        struct pl_input in = {.tunnel_port = tun, .vms = vms, .n_vms = 3};
        struct flowtab *t = flowtab_create();
        assert_int_equal(pipeline_compute(&in, t, NULL, 0), 0);
        for (uint32_t port = 11; port <= 13; port++) {
            struct ofp_match m;
            ofp_match_init(&m);
            ofp_match_set(&m, OFP_F_IN_PORT, port);
            const struct flowtab_flow *f = flowtab_find(t, PL_T_CLASSIFY,
                                                        100, &m);
            assert_non_null(f);
            assert_int_equal(f->cookie & PL_COOKIE_KIND_MASK,
                             pl_cookie_kind(PL_K_ACTIVATE));
            assert_int_equal(act(f, 0)->type, OFPAT_OUTPUT);
            assert_int_equal(act(f, 0)->output.port, OFPP_CONTROLLER);
            /* Only the placed VM's goes on into the pipeline. */
            assert_int_equal((f->insts.present & OFP_INST_GOTO) != 0,
                             port == 13);
        }
        /* Nothing delivers to the inactive copies. */
        assert_null(find_dst(t, PL_T_FROM_TUN, 200, &vms[0].config));
        assert_null(find_dst(t, PL_T_FROM_TUN, 200, &vms[1].config));
        assert_non_null(find_dst(t, PL_T_FROM_TUN, 200, &vms[2].config));
        flowtab_destroy(t);
    }
}

/* A prepared copy with its port plugged takes what the overlay brings for
 * the VM (the switch-over's relay may land before the activating install)
 * but nothing from local senders, who still follow the map. */
static void
test_pipeline_prepared_takes_overlay(void **state)
{
    struct pl_vm vms[] = {
        {.vm = "vm1", .kind = PL_VM_REMOTE, .config = vmcfg(1),
         .peer = PEER_B, .ofport = 11, .watch_port = 11},
        {.vm = "vm2", .kind = PL_VM_INACTIVE, .config = vmcfg(2),
         .ofport = 12},
    };
    struct pl_input in = {.tunnel_port = TUN, .vms = vms, .n_vms = 2};
    struct flowtab *t = flowtab_create();
    assert_int_equal(pipeline_compute(&in, t, NULL, 0), 0);
    for (int i = 0; i < 2; i++) {
        const struct flowtab_flow *f = find_dst(t, PL_T_FROM_TUN, 200,
                                                &vms[i].config);
        assert_non_null(f);
        assert_int_equal(act(f, 0)->type, OFPAT_OUTPUT);
        assert_int_equal(act(f, 0)->output.port, vms[i].ofport);
        assert_null(find_dst(t, PL_T_FROM_VM, 200, &vms[i].config));
    }
    /* Local senders to vm1 still go to its node by the map. */
    assert_non_null(find_dst(t, PL_T_FROM_VM, 100, &vms[0].config));
    /* No classify, no port security: the port itself attracts nothing. */
    struct ofp_match m;
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IN_PORT, 12);
    assert_null(flowtab_find(t, PL_T_CLASSIFY, 100, &m));
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
    assert_int_equal(pipeline_compute(&in, desired, NULL, 0), 0);
    flowtab_sync(installed, desired, &b, &xid, &d);
    size_t n_before = flowtab_count(installed);

    /* The same view computed again (into reused nodes) changes nothing. */
    b.size = 0;
    assert_int_equal(pipeline_compute(&in, desired, NULL, 0), 0);
    assert_int_equal(flowtab_count(desired), n_before);
    flowtab_sync(installed, desired, &b, &xid, &d);
    assert_int_equal(d.added + d.modified + d.deleted, 0);
    assert_int_equal(b.size, 0);
    assert_int_equal(flowtab_count(installed), n_before);

    in.vms = after;
    assert_int_equal(pipeline_compute(&in, desired, NULL, 0), 0);
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
    int n_msgs = 0, n_relay_adds = 0;
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
        /* Relay flows, and only they, report their counters when they
         * are deleted (the relayed packets metric counts them all). */
        bool relay = (msg.flow_mod.cookie & PL_COOKIE_KIND_MASK)
                     == pl_cookie_kind(PL_K_RELAY);
        if (msg.flow_mod.command == OFPFC_ADD) {
            n_relay_adds += relay;
            assert_int_equal(msg.flow_mod.flags & OFPFF_SEND_FLOW_REM,
                             relay ? OFPFF_SEND_FLOW_REM : 0);
        }
        ofp_msg_destroy(&msg);
        off += len;
        n_msgs++;
    }
    assert_true(seen_delete);
    assert_int_equal(n_msgs, 7);
    assert_int_equal(n_relay_adds, 2);
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
    /* A full answer changes everything; a delta names its VMs. */
    assert_true(agent_map_changes(m)->all);
    agent_map_clear_changes(m);
    assert_false(agent_map_changes(m)->all);
    assert_int_equal(agent_map_changes(m)->n, 0);
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
    const struct vm_changes *ch = agent_map_changes(m);
    assert_false(ch->all);
    assert_int_equal(ch->n, 2);
    assert_string_equal(ch->names[0], "vm1"); /* removed */
    assert_string_equal(ch->names[1], "vm2"); /* moved */
    agent_map_clear_changes(m);

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
        assert_false(ch->all); /* nor does it record a change */
        assert_int_equal(ch->n, 0);
    }
    agent_map_destroy(m);
}

/* A full answer of 'n' entries (vmI on nI % 3), 'bad' (1-based) an
 * entry with no node; 'order': 0 version/full/entries, 1 entries first. */
static char *
big_answer(size_t n, uint64_t version, size_t bad, int order)
{
    struct strbuf sb;
    strbuf_init(&sb);
    if (order) {
        strbuf_printf(&sb, "{\"entries\": [");
    } else {
        strbuf_printf(&sb, "{\"version\": %" PRIu64 ", \"full\": true, "
                      "\"entries\": [", version);
    }
    for (size_t i = 1; i <= n; i++) {
        char node[16] = "";
        if (i != bad) {
            snprintf(node, sizeof node, "n%zu", i % 3);
        }
        strbuf_printf(&sb, "%s\n {\"vm\": \"vm%zu\", \"node\": \"%s\", "
                      "\"address\": \"198.18.0.%zu\", \"epoch\": %zu, "
                      "\"mac\": \"02:00:00:00:%02zx:%02zx\", "
                      "\"ip\": \"198.19.%zu.%zu\"}", i > 1 ? "," : "",
                      i, node, i % 3 + 1, i, i / 256, i % 256, i / 250,
                      i % 250 + 1);
    }
    if (order) {
        strbuf_printf(&sb, "], \"full\": true, \"version\": %" PRIu64 "}",
                      version);
    } else {
        strbuf_printf(&sb, "]}");
    }
    char *out = xstrdup(strbuf_str(&sb));
    strbuf_destroy(&sb);
    return out;
}

static bool
maps_equal(const struct agent_map *a, const struct agent_map *b)
{
    if (agent_map_count(a) != agent_map_count(b)
        || agent_map_version(a) != agent_map_version(b)) {
        return false;
    }
    for (size_t i = 0; i < agent_map_count(a); i++) {
        const struct amap_entry *x = agent_map_entry(a, i);
        const struct amap_entry *y = agent_map_find(b, x->vm);
        if (!y || memcmp(x, y, sizeof *x)) {
            return false;
        }
    }
    return true;
}

/* Reads the answer being read with budgets of 1-7; returns the result
 * and how many steps it took. */
static int
read_sliced(struct agent_map *m, char *err, size_t errlen, size_t *steps)
{
    static uint64_t x = 88172645463325252ull;
    int rc;
    *steps = 0;
    do {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t budget = 1 + x % 7;
        rc = agent_map_read_step(m, &budget, err, errlen);
        ++*steps;
    } while (rc == EAGAIN);
    return rc;
}

/* A poll answer read a slice at a time (agent_map_read_step) is the
 * answer applied at once, whatever the members' order; the map serves
 * meanwhile; a fault anywhere in it changes nothing; a push that
 * overtakes it wins. */
static void
test_map_read_sliced(void **state)
{
    (void) state;
    char err[160];
    for (int order = 0; order < 2; order++) {
        char *text = big_answer(1000, 12, 0, order);
        struct agent_map *once = agent_map_create();
        assert_int_equal(agent_map_apply(once, text, strlen(text), err,
                                         sizeof err), 0);
        assert_int_equal(agent_map_count(once), 1000);
        struct agent_map *m = agent_map_create();
        assert_int_equal(agent_map_apply(m, full, strlen(full), err,
                                         sizeof err), 0);
        assert_int_equal(agent_map_read_begin(m, text, strlen(text), err,
                                              sizeof err), 0);
        assert_true(agent_map_reading(m));
        /* A second answer waits for this one. */
        assert_int_equal(agent_map_read_begin(m, full, strlen(full), err,
                                              sizeof err), EINVAL);
        size_t budget = 10;
        assert_int_equal(agent_map_read_step(m, &budget, err, sizeof err),
                         EAGAIN);
        assert_int_equal(budget, 0);
        /* Still the old map, whole, while the answer is read. */
        assert_int_equal(agent_map_version(m), 7);
        assert_int_equal(agent_map_count(m), 2);
        size_t steps;
        assert_int_equal(read_sliced(m, err, sizeof err, &steps), 0);
        assert_true(steps > 100); /* it did take slices */
        assert_false(agent_map_reading(m));
        assert_true(maps_equal(m, once));
        assert_true(agent_map_changes(m)->all);
        agent_map_destroy(m);
        agent_map_destroy(once);
        free(text);
    }

    /* A malformed entry near the end: refused late, nothing changed. */
    char *bad = big_answer(1000, 12, 990, 0);
    struct agent_map *m = agent_map_create();
    assert_int_equal(agent_map_apply(m, full, strlen(full), err, sizeof err),
                     0);
    agent_map_clear_changes(m);
    assert_int_equal(agent_map_read_begin(m, bad, strlen(bad), err,
                                          sizeof err), 0);
    size_t steps;
    err[0] = 0;
    assert_int_equal(read_sliced(m, err, sizeof err, &steps), EINVAL);
    assert_true(steps > 100);
    assert_non_null(strstr(err, "entry 989"));
    assert_false(agent_map_reading(m));
    assert_int_equal(agent_map_version(m), 7);
    assert_int_equal(agent_map_count(m), 2);
    assert_false(agent_map_changes(m)->all);
    free(bad);

    /* A push to version 13 while a version-12 answer is read: the push
     * stays, the answer is only counted as polled. */
    char *text = big_answer(1000, 12, 0, 1);
    assert_int_equal(agent_map_read_begin(m, text, strlen(text), err,
                                          sizeof err), 0);
    size_t budget = 500;
    assert_int_equal(agent_map_read_step(m, &budget, err, sizeof err),
                     EAGAIN);
    struct amap_change ch = {.e = {.vm = "pushed", .node = "n9",
                                   .epoch = 1}};
    assert_int_equal(agent_map_apply_push(m, 7, 13, &ch, 1, err, sizeof err),
                     0);
    assert_int_equal(read_sliced(m, err, sizeof err, &steps), 0);
    assert_int_equal(agent_map_version(m), 13);
    assert_int_equal(agent_map_count(m), 3);
    assert_non_null(agent_map_find(m, "pushed"));
    assert_int_equal(agent_map_polled_version(m), 12);
    free(text);

    /* What the whole-document parser refused, this one refuses too. */
    static const char *const refused[] = {
        "{\"version\": 1, \"entries\": []} x",
        "{\"version\": 1, \"entries\": [], \"version\": 2}",
        "{\"version\": 1, \"entries\": [{\"vm\": \"a\", \"removed\": true},]}",
        "{\"version\": 1, \"entries\": [,]}",
        "{\"version\": 1 \"entries\": []}",
        "{\"version\": 1, \"entries\": [] ",
        "{\"version\": 1, \"entries\": {}}",
        "{\"version\": 1, \"entries\": [\"a]}",
        "{\"version\": tru, \"entries\": []}",
        "{\"entries\": []}",
        "[]",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        err[0] = 0;
        assert_int_equal(agent_map_apply(m, refused[i], strlen(refused[i]),
                                         err, sizeof err),
                         EINVAL);
        assert_true(err[0] != 0);
        assert_int_equal(agent_map_version(m), 13);
        assert_false(agent_map_reading(m));
    }
    /* ... and what it took, this one takes. */
    static const char ok[] =
        " {\"extra\": {\"a\": [1, \"]\"]}, \"entries\": [ ] ,"
        " \"version\": 14 , \"full\": false}\n";
    assert_int_equal(agent_map_apply(m, ok, strlen(ok), err, sizeof err), 0);
    assert_int_equal(agent_map_version(m), 14);
    assert_int_equal(agent_map_count(m), 3);
    agent_map_destroy(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_kinds),
        cmocka_unit_test(test_pipeline_no_tunnel),
        cmocka_unit_test(test_pipeline_watch),
        cmocka_unit_test(test_pipeline_prepared_takes_overlay),
        cmocka_unit_test(test_pipeline_portsec),
        cmocka_unit_test(test_pipeline_inexpressible),
        cmocka_unit_test(test_flowtab_diff),
        cmocka_unit_test(test_map_apply),
        cmocka_unit_test(test_map_read_sliced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
