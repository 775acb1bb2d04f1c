/* pipeline.c: the integration bridge's flows (docs/dataplane.md).
 *
 * Table 0 classifies by ingress (a VM's port tags the packet with the VM's
 * overlay key; the tunnel brings its key), table 10 is port security
 * (docs/port-security.md: the bound MAC and IP only, DHCP snooped on
 * trusted ports),
 * table 20 forwards VM traffic (ARP answered from flows, local delivery,
 * relay, remote by the map), table 30 delivers or relays overlay traffic
 * and drops what this node cannot place -- never forwarding by the map,
 * so a stale map can never make packets loop between nodes. */
#include "agent/pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/flowtab.h"
#include "lib/util.h"
#include "mignet/ofp.h"

/* Priorities inside tables 20 and 30: a VM placed here wins over a relay,
 * a relay over the map (a node's own instructions are newer than any map
 * it may hold). */
enum {
    PRIO_ARP = 300,
    PRIO_LOCAL = 200,
    PRIO_RELAY = 150,
    PRIO_REMOTE = 100,
    PRIO_CLASSIFY = 100,
    PRIO_DEFAULT = 0,
};

uint64_t
pl_cookie(enum pl_kind kind, const char *vm)
{
    return pl_cookie_kind(kind) | (vm ? hash_str(vm) : 0);
}

uint32_t
pl_key(const struct mn_config *c)
{
    return c->vni ? c->vni : c->vlan;
}

static uint64_t
mac_u64(const uint8_t mac[6])
{
    return ofp_eth_to_u64(mac);
}

/* Where the flows go, and the first flow that could not be expressed. */
struct pl_out {
    struct flowtab *table;
    int error; /* 0 or EMSGSIZE */
    char *err; /* what failed, for the caller's log; may be NULL */
    size_t err_size;
    /* Action storage handed from one flow to the next (at most two flows
     * are built at once), so a computation allocates nothing for it. */
    struct ofp_instructions spare[2];
    size_t n_spare;
};

/* Starts a flow; its action lists come from 'out''s spares and go back
 * there with flow_done() (emit() calls it). */
static void
flow_init(struct pl_out *out, struct flowtab_flow *f, uint8_t table,
          uint16_t prio, enum pl_kind kind, const char *vm)
{
    /* No memset: the match and instructions say which of their parts
     * mean anything, and nothing reads the rest. */
    f->table = table;
    f->priority = prio;
    f->cookie = pl_cookie(kind, vm);
    ofp_match_init(&f->match);
    if (out->n_spare) {
        f->insts = out->spare[--out->n_spare]; /* moved, not shared */
        ofp_instructions_clear(&f->insts);
    } else {
        ofp_instructions_init(&f->insts);
    }
}

/* Takes back the action storage of 'f', which then owns nothing. */
static void
flow_done(struct pl_out *out, struct flowtab_flow *f)
{
    if (out->n_spare < ARRAY_SIZE(out->spare)) {
        out->spare[out->n_spare++] = f->insts;
    } else {
        ofp_instructions_destroy(&f->insts);
    }
    ofp_instructions_init(&f->insts);
}

static void
must(enum ofperr e)
{
    /* Every flow here is built from validated configuration; a failure is
     * a bug the unit tests catch. */
    if (e) {
        abort();
    }
}

/* Records that 'f' (at least 'len' bytes as a flow_mod) cannot be
 * expressed; the first such flow names the error. */
static void
refuse(struct pl_out *out, const struct flowtab_flow *f, size_t len)
{
    if (!out->error) {
        out->error = EMSGSIZE;
        if (out->err && out->err_size) {
            snprintf(out->err, out->err_size,
                     "table %u priority %u cookie 0x%016llx: %zu or more "
                     "actions need at least %zu bytes, more than one "
                     "flow_mod holds (65535)",
                     f->table, f->priority, (unsigned long long) f->cookie,
                     f->insts.apply.n, len);
        }
    }
}

/* Adds 'f' to the table unless it cannot be one OpenFlow message (a flow
 * is never cut short to fit: it is refused, and so is the computation),
 * or the table has a flow with its key already (the owner that ranks first
 * keeps it: pipeline.h); then flow_done() either way. */
static void
emit(struct pl_out *out, struct flowtab_flow *f)
{
    if (ofp_flow_fits(&f->match, &f->insts)) {
        flowtab_put_new(out->table, f); /* the first owner wins */
    } else {
        refuse(out, f, ofp_flow_mod_len(&f->match, &f->insts));
    }
    flow_done(out, f);
}

/* Send to node 'peer' through the overlay port. */
static void
tunnel_to(struct ofp_actions *a, uint32_t peer, uint32_t out_port)
{
    must(ofp_actions_set_field(a, OFP_F_TUN_IPV4_DST, peer));
    must(ofp_actions_output(a, out_port));
}

static void
add_default_drop(struct pl_out *out, uint8_t table)
{
    struct flowtab_flow f;
    flow_init(out, &f, table, PRIO_DEFAULT, PL_K_INFRA, NULL);
    emit(out, &f);
}

static void
match_dst(struct flowtab_flow *f, const struct mn_config *c)
{
    ofp_match_set(&f->match, OFP_F_TUNNEL_ID, pl_key(c));
    ofp_match_set(&f->match, OFP_F_ETH_DST, mac_u64(c->mac));
}

/* ARP requests for a VM's address are answered from the flow, as OVN's
 * ARP responder does: the request is turned into a reply in place and
 * sent back where it came from. */
static void
add_arp_responder(struct pl_out *out, const struct pl_vm *v)
{
    const struct mn_config *c = &v->config;
    struct flowtab_flow f;
    flow_init(out, &f, PL_T_FROM_VM, PRIO_ARP, PL_K_ARP, v->vm);
    ofp_match_set(&f.match, OFP_F_TUNNEL_ID, pl_key(c));
    ofp_match_set(&f.match, OFP_F_ETH_TYPE, 0x0806);
    ofp_match_set(&f.match, OFP_F_ARP_OP, 1);
    ofp_match_set(&f.match, OFP_F_ARP_TPA, c->ip);
    struct ofp_actions *a = ofp_instructions_apply(&f.insts);
    must(ofp_actions_move(a, OFP_F_ETH_SRC, 0, OFP_F_ETH_DST, 0, 48));
    must(ofp_actions_set_field(a, OFP_F_ETH_SRC, mac_u64(c->mac)));
    must(ofp_actions_set_field(a, OFP_F_ARP_OP, 2));
    must(ofp_actions_move(a, OFP_F_ARP_SHA, 0, OFP_F_ARP_THA, 0, 48));
    must(ofp_actions_set_field(a, OFP_F_ARP_SHA, mac_u64(c->mac)));
    must(ofp_actions_move(a, OFP_F_ARP_SPA, 0, OFP_F_ARP_TPA, 0, 32));
    must(ofp_actions_set_field(a, OFP_F_ARP_SPA, c->ip));
    must(ofp_actions_output(a, OFPP_IN_PORT));
    emit(out, &f);
}

/* Table 0 for the port of a VM placed (or still running) here: its
 * traffic carries its overlay key on to port security.  A watched port
 * also sends a copy to the agent (the frame that activates the VM). */
static void
add_classify(struct pl_out *out, const struct pl_vm *v)
{
    struct flowtab_flow f;
    bool watch = v->watch_port && v->watch_port == v->ofport;
    flow_init(out, &f, PL_T_CLASSIFY, PRIO_CLASSIFY,
              watch ? PL_K_ACTIVATE : PL_K_LOCAL, v->vm);
    ofp_match_set(&f.match, OFP_F_IN_PORT, v->ofport);
    struct ofp_actions *a = ofp_instructions_apply(&f.insts);
    if (watch) {
        must(ofp_actions_controller(a, 0xffff));
    }
    must(ofp_actions_set_field(a, OFP_F_TUNNEL_ID, pl_key(&v->config)));
    f.insts.present |= OFP_INST_GOTO;
    f.insts.goto_table = PL_T_PORTSEC;
    emit(out, &f);
}

static void
add_vm(struct pl_out *out, const struct pl_input *in, const struct pl_vm *v)
{
    struct flowtab_flow f;
    const struct mn_config *c = &v->config;
    if (v->watch_port && (v->kind != PL_VM_LOCAL
                          || v->watch_port != v->ofport)) {
        /* Held inactive: the port attracts nothing, its first frame
         * activates the VM (the agent installs the rest).  With or
         * without an overlay. */
        flow_init(out, &f, PL_T_CLASSIFY, PRIO_CLASSIFY, PL_K_ACTIVATE,
                  v->vm);
        ofp_match_set(&f.match, OFP_F_IN_PORT, v->watch_port);
        must(ofp_actions_controller(ofp_instructions_apply(&f.insts),
                                    0xffff));
        emit(out, &f);
    }
    switch (v->kind) {
    case PL_VM_LOCAL:
        if (!v->ofport) {
            return; /* not plugged yet: nothing to deliver to */
        }
        add_classify(out, v);
        /* Deliver, from local VMs and from the overlay alike. */
        for (int t = 0; t < 2; t++) {
            flow_init(out, &f, t ? PL_T_FROM_TUN : PL_T_FROM_VM, PRIO_LOCAL,
                      PL_K_LOCAL, v->vm);
            match_dst(&f, c);
            must(ofp_actions_output(ofp_instructions_apply(&f.insts),
                                    v->ofport));
            emit(out, &f);
        }
        break;
    case PL_VM_RELAY:
        /* The VM may still run here (lossless: until the hypervisor stops
         * it): its egress keeps going while its port exists. */
        if (v->ofport) {
            add_classify(out, v);
        }
        if (!in->tunnel_port) {
            return;
        }
        /* Local senders with a stale map, and overlay packets from stale
         * nodes, go on to the VM's new node. */
        flow_init(out, &f, PL_T_FROM_VM, PRIO_RELAY, PL_K_RELAY, v->vm);
        match_dst(&f, c);
        tunnel_to(ofp_instructions_apply(&f.insts), v->peer,
                  in->tunnel_port);
        emit(out, &f);
        flow_init(out, &f, PL_T_FROM_TUN, PRIO_RELAY, PL_K_RELAY, v->vm);
        match_dst(&f, c);
        tunnel_to(ofp_instructions_apply(&f.insts), v->peer, OFPP_IN_PORT);
        emit(out, &f);
        break;
    case PL_VM_REMOTE:
        if (!in->tunnel_port) {
            return;
        }
        flow_init(out, &f, PL_T_FROM_VM, PRIO_REMOTE, PL_K_REMOTE, v->vm);
        match_dst(&f, c);
        tunnel_to(ofp_instructions_apply(&f.insts), v->peer,
                  in->tunnel_port);
        emit(out, &f);
        break;
    case PL_VM_INACTIVE:
        break;
    }
}

/* ---- Port security (seed 003) ---- */

/* One binding_rules() rule as a table-10 flow: allowed traffic goes on to
 * forwarding, the rest is dropped (and counted by the flow). */
static void
add_portsec_rule(struct pl_out *out, const struct pl_vm *v,
                 const struct binding_rule *r)
{
    struct flowtab_flow f;
    flow_init(out, &f, PL_T_PORTSEC,
              (uint16_t) (PL_PORTSEC_BASE + r->priority), PL_K_PORTSEC,
              v->vm);
    struct ofp_match *m = &f.match;
    ofp_match_set(m, OFP_F_IN_PORT, r->in_port);
    if (r->match & BINDING_M_ETH_SRC) {
        ofp_match_set(m, OFP_F_ETH_SRC, mac_u64(r->eth_src));
    }
    if (r->match & BINDING_M_ETH_TYPE) {
        ofp_match_set(m, OFP_F_ETH_TYPE, r->eth_type);
    }
    if (r->match & BINDING_M_IP_SRC) {
        ofp_match_set(m, OFP_F_IPV4_SRC, r->ip_src);
    }
    if (r->match & BINDING_M_IP_PROTO) {
        ofp_match_set(m, OFP_F_IP_PROTO, r->ip_proto);
    }
    if (r->match & BINDING_M_UDP_SRC) {
        ofp_match_set(m, OFP_F_UDP_SRC, r->udp_src);
    }
    if (r->match & BINDING_M_UDP_DST) {
        ofp_match_set(m, OFP_F_UDP_DST, r->udp_dst);
    }
    if (r->match & BINDING_M_ARP_SHA) {
        ofp_match_set(m, OFP_F_ARP_SHA, mac_u64(r->arp_sha));
    }
    if (r->match & BINDING_M_ARP_SPA) {
        ofp_match_set(m, OFP_F_ARP_SPA, r->arp_spa);
    }
    if (!r->drop) {
        f.insts.present |= OFP_INST_GOTO;
        f.insts.goto_table = PL_T_FROM_VM;
    }
    emit(out, &f);
}

bool
pl_trusted(const struct pl_vm *v)
{
    return v->binding && v->binding->port_security == BINDING_TRUST
           && v->binding->port_status != BINDING_PORT_DISABLE;
}

/* Matches a DHCP message of direction 'src' -> 'dst' (UDP ports). */
static void
match_dhcp(struct ofp_match *m, uint16_t src, uint16_t dst)
{
    ofp_match_set(m, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(m, OFP_F_IP_PROTO, 17);
    ofp_match_set(m, OFP_F_UDP_SRC, src);
    ofp_match_set(m, OFP_F_UDP_DST, dst);
}

static void
add_portsec(struct pl_out *out, const struct pl_input *in,
            const struct pl_vm *v)
{
    struct binding_rule rules[BINDING_MAX_RULES];
    size_t n;
    if (!v->ofport || (v->kind != PL_VM_LOCAL && v->kind != PL_VM_RELAY)) {
        return;
    }
    if (v->binding) {
        n = binding_rules(v->binding, v->ofport, rules);
    } else if (!v->config.ip) {
        n = binding_rules_unbound(v->ofport, v->config.mac, rules);
    } else {
        return; /* an address given by hand: not filtered */
    }
    for (size_t i = 0; i < n; i++) {
        add_portsec_rule(out, v, &rules[i]);
    }
    if (in->dhcp_punt && pl_trusted(v) && v->kind == PL_VM_LOCAL) {
        /* DHCP snooping: what a server says goes on to the client and up
         * to the controller (OFPCML_NO_BUFFER: the whole frame). */
        struct flowtab_flow f;
        flow_init(out, &f, PL_T_PORTSEC, PL_PRIO_DHCP_PUNT, PL_K_PORTSEC,
                  v->vm);
        ofp_match_set(&f.match, OFP_F_IN_PORT, v->ofport);
        match_dhcp(&f.match, 67, 68);
        must(ofp_actions_controller(ofp_instructions_apply(&f.insts),
                                    0xffff));
        f.insts.present |= OFP_INST_GOTO;
        f.insts.goto_table = PL_T_FROM_VM;
        emit(out, &f);
    }
}

/* DHCP broadcasts in table 20, per overlay key: from clients to the
 * trusted (server) ports of that key here, and from servers to every
 * untrusted VM port of that key here.  Unicast DHCP is forwarded like any
 * traffic. */
static void
add_dhcp_broadcast(struct pl_out *out, uint32_t key,
                   const struct pl_vm *const *members, size_t n)
{
    bool any_trusted = false;
    for (size_t i = 0; i < n && !any_trusted; i++) {
        any_trusted = pl_trusted(members[i]);
    }
    if (!any_trusted) {
        return;
    }
    struct flowtab_flow up, down;
    flow_init(out, &up, PL_T_FROM_VM, PL_PRIO_DHCP, PL_K_PORTSEC, NULL);
    flow_init(out, &down, PL_T_FROM_VM, PL_PRIO_DHCP, PL_K_PORTSEC, NULL);
    ofp_match_set(&up.match, OFP_F_TUNNEL_ID, key);
    ofp_match_set(&up.match, OFP_F_ETH_DST, UINT64_C(0xffffffffffff));
    down.match = up.match;
    match_dhcp(&up.match, 68, 67);
    match_dhcp(&down.match, 67, 68);
    struct ofp_actions *ua = ofp_instructions_apply(&up.insts);
    struct ofp_actions *da = ofp_instructions_apply(&down.insts);
    bool fits = true;
    for (size_t j = 0; j < n && fits; j++) {
        const struct pl_vm *t = members[j];
        struct ofp_actions *a = pl_trusted(t) ? ua : da;
        if (ofp_actions_output(a, t->ofport)) {
            /* More ports than any message can name. */
            refuse(out, a == ua ? &up : &down,
                   ofp_flow_mod_len(&up.match, a == ua ? &up.insts
                                                       : &down.insts));
            fits = false;
        }
    }
    if (fits) {
        emit(out, &up);
        if (da->n) {
            emit(out, &down);
        }
    }
    flow_done(out, &up);
    flow_done(out, &down);
}

static int
out_finish(struct pl_out *out)
{
    while (out->n_spare) {
        ofp_instructions_destroy(&out->spare[--out->n_spare]);
    }
    return out->error;
}

int
pipeline_infra(const struct pl_input *in, struct flowtab *table, char *err,
               size_t err_size)
{
    struct pl_out o = {.table = table, .err = err, .err_size = err_size};
    struct pl_out *out = &o;
    struct flowtab_flow f;

    add_default_drop(out, PL_T_CLASSIFY);
    add_default_drop(out, PL_T_FROM_VM);
    add_default_drop(out, PL_T_FROM_TUN);
    /* Port security passes everything until bindings say otherwise. */
    flow_init(out, &f, PL_T_PORTSEC, PRIO_DEFAULT, PL_K_INFRA, NULL);
    f.insts.present |= OFP_INST_GOTO;
    f.insts.goto_table = PL_T_FROM_VM;
    emit(out, &f);
    if (in->tunnel_port) {
        flow_init(out, &f, PL_T_CLASSIFY, PRIO_CLASSIFY, PL_K_INFRA, NULL);
        ofp_match_set(&f.match, OFP_F_IN_PORT, in->tunnel_port);
        f.insts.present |= OFP_INST_GOTO;
        f.insts.goto_table = PL_T_FROM_TUN;
        emit(out, &f);
    }
    return out_finish(out);
}

int
pipeline_vm(const struct pl_input *in, const struct pl_vm *v,
            struct flowtab *table, char *err, size_t err_size)
{
    struct pl_out o = {.table = table, .err = err, .err_size = err_size};
    add_vm(&o, in, v);
    add_portsec(&o, in, v);
    /* ARP answers for every VM this node can reach: placed here or
     * elsewhere per the map (a relay's snapshot is an old address, an
     * inactive copy attracts nothing). */
    if ((v->kind == PL_VM_LOCAL || v->kind == PL_VM_REMOTE)
        && v->config.ip) {
        add_arp_responder(&o, v);
    }
    return out_finish(&o);
}

int
pipeline_key(const struct pl_input *in, uint32_t key,
             const struct pl_vm *const *members, size_t n,
             struct flowtab *table, char *err, size_t err_size)
{
    struct pl_out o = {.table = table, .err = err, .err_size = err_size};
    (void) in;
    add_dhcp_broadcast(&o, key, members, n);
    return out_finish(&o);
}

bool
pl_key_member(const struct pl_vm *v)
{
    return v->kind == PL_VM_LOCAL && v->ofport;
}

int
pl_vm_cmp(const struct pl_vm *a, const struct pl_vm *b)
{
    return strcmp(a->vm, b->vm);
}

/* qsort: VMs by name, members of key groups by key first. */
static int
by_name(const void *a_, const void *b_)
{
    const struct pl_vm *const *a = a_, *const *b = b_;
    int c = pl_vm_cmp(*a, *b);
    /* Equal names (a caller's bug): by position, still deterministic. */
    return c ? c : (*a < *b ? -1 : *a > *b);
}

static int
by_key_name(const void *a_, const void *b_)
{
    const struct pl_vm *const *a = a_, *const *b = b_;
    uint32_t ka = pl_key(&(*a)->config), kb = pl_key(&(*b)->config);
    return ka != kb ? (ka < kb ? -1 : 1) : by_name(a_, b_);
}

int
pipeline_compute(const struct pl_input *in, struct flowtab *table, char *err,
                 size_t err_size)
{
    flowtab_clear(table);
    int error = pipeline_infra(in, table, err, err_size);
    const struct pl_vm **v = xcalloc(in->n_vms + 1, sizeof *v);
    size_t n = 0;
    /* Key groups, in order of key, their members in order of name. */
    for (size_t i = 0; i < in->n_vms; i++) {
        if (pl_key_member(&in->vms[i])) {
            v[n++] = &in->vms[i];
        }
    }
    qsort(v, n, sizeof *v, by_key_name);
    for (size_t i = 0, j; i < n && !error; i = j) {
        uint32_t key = pl_key(&v[i]->config);
        for (j = i + 1; j < n && pl_key(&v[j]->config) == key; j++) {
            continue;
        }
        error = pipeline_key(in, key, v + i, j - i, table, err, err_size);
    }
    /* Then every VM, in order of name. */
    for (size_t i = 0; i < in->n_vms; i++) {
        v[i] = &in->vms[i];
    }
    qsort(v, in->n_vms, sizeof *v, by_name);
    for (size_t i = 0; i < in->n_vms && !error; i++) {
        error = pipeline_vm(in, v[i], table, err, err_size);
    }
    free(v);
    return error;
}
