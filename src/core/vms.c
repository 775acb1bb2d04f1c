/* vms.c: the VMs the core knows and where each is placed.
 *
 * A VM has a name, a configuration, a node and an epoch that grows with
 * every migration; it sits on its node's list.  Adding, updating and
 * removing one sends its node the matching instruction and moves its
 * gateway entry.  It must never change a placement: that is migrate.c's
 * job, the only place epochs grow.  It also keeps the addresses of live
 * VMs indexed by network, so a MAC or IP another VM already has in the
 * same network is refused unless the caller allows it (core.h). */
#include "core/core-private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char *
vm_name_of(const void *aux, uint32_t i)
{
    const struct core *core = aux;
    return core->vms[i].name;
}

void
core_vms_init(struct core *c)
{
    c->vm_free = NIL;
    c->chg_head = c->chg_tail = NIL;
    strmap_init(&c->vm_index, vm_name_of, c);
    strmap_init(&c->addr_index, NULL, c);
}

/* ---- The address index ---- */

/* A key of the address index: a MAC or an IP within a network. */
struct addr_key {
    bool is_ip;
    uint64_t net;      /* vni | 1 << 32 with a VNI, else the VLAN */
    uint64_t addr;     /* the MAC's 48 bits, or the IP */
    uint32_t except;   /* an entry of this VM does not match (NIL: none) */
    uint32_t only;     /* only an entry of this VM matches (NIL: any) */
};

static uint64_t
addr_net(const struct mn_config *cfg)
{
    return cfg->vni ? (uint64_t) cfg->vni | UINT64_C(1) << 32 : cfg->vlan;
}

static uint64_t
addr_mac(const uint8_t mac[6])
{
    uint64_t m = 0;
    for (int i = 0; i < 6; i++) {
        m = m << 8 | mac[i];
    }
    return m;
}

static uint32_t
addr_hash(const struct addr_key *k)
{
    uint64_t h = (k->net * UINT64_C(0x9e3779b97f4a7c15))
                 ^ (k->addr + (k->is_ip ? UINT64_C(0x5bd1e995) << 20 : 0));
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    return (uint32_t) h;
}

static void
addr_key_init(struct addr_key *k, const struct mn_config *cfg, bool is_ip,
              uint32_t except, uint32_t only)
{
    k->is_ip = is_ip;
    k->net = addr_net(cfg);
    k->addr = is_ip ? cfg->ip : addr_mac(cfg->mac);
    k->except = except;
    k->only = only;
}

static bool
addr_match(const void *aux, uint32_t idx, const void *key_)
{
    const struct core *c = aux;
    const struct addr_key *k = key_;
    if (k->only != NIL) {
        return idx == k->only;
    }
    if (idx == k->except) {
        return false;
    }
    const struct mn_config *cfg = &c->vms[idx].config;
    return addr_net(cfg) == k->net
           && (k->is_ip ? cfg->ip : addr_mac(cfg->mac)) == k->addr;
}

/* Adds (or, 'add' false, removes) VM 'vi''s entries under its current
 * configuration. */
static void
addr_index_update(struct core *c, uint32_t vi, bool add)
{
    const struct mn_config *cfg = &c->vms[vi].config;
    for (int is_ip = 0; is_ip < 2; is_ip++) {
        if (is_ip && !cfg->ip) {
            break;
        }
        struct addr_key k;
        addr_key_init(&k, cfg, is_ip, NIL, vi);
        if (add) {
            strmap_insert_keyed(&c->addr_index, addr_hash(&k), vi);
        } else {
            strmap_remove_keyed(&c->addr_index, addr_hash(&k), addr_match,
                                &k);
        }
    }
}

uint32_t
core_vm_address_owner(const struct core *c, const struct mn_config *cfg,
                      uint32_t except)
{
    if (!cfg) {
        return CORE_NONE;
    }
    for (int is_ip = 0; is_ip < 2; is_ip++) {
        if (is_ip && !cfg->ip) {
            break;
        }
        struct addr_key k;
        addr_key_init(&k, cfg, is_ip, except == CORE_NONE ? NIL : except,
                      NIL);
        uint32_t owner = strmap_find_keyed(&c->addr_index, addr_hash(&k),
                                           addr_match, &k);
        if (owner != STRMAP_NONE) {
            return owner;
        }
    }
    return CORE_NONE;
}

bool
core_vm_ip_taken(const struct core *c, uint32_t vi, uint32_t ip)
{
    if (c->loading || !ip) {
        return false;
    }
    struct mn_config probe = c->vms[vi].config;
    probe.ip = ip;
    uint32_t owner = core_vm_address_owner(c, &probe, vi);
    /* Only the IP (a MAC another VM shares was allowed when it was set),
     * and only a configured one: an IP another binding holds is the
     * binding table's conflict (CORE_E_BINDING, with its reason). */
    return owner != CORE_NONE && c->vms[owner].config.ip == ip
           && !c->vms[owner].config.binding;
}

void
core_vm_set_ip(struct core *c, uint32_t vi, uint32_t ip)
{
    addr_index_update(c, vi, false);
    c->vms[vi].config.ip = ip;
    addr_index_update(c, vi, true);
}

/* Whether 'cfg' of VM 'vi' (NIL for a new VM) takes an address another
 * VM has in its network, and that is to be refused. */
static bool
addr_refused(const struct core *c, const struct mn_config *cfg, uint32_t vi,
             unsigned flags)
{
    return !(flags & CORE_VM_ALLOW_DUPLICATE) && !c->loading
           && core_vm_address_owner(c, cfg, vi == NIL ? CORE_NONE : vi)
                  != CORE_NONE;
}

/* Whether 'a' and 'b' differ in what makes an address duplicate. */
static bool
addr_changed(const struct mn_config *a, const struct mn_config *b)
{
    return memcmp(a->mac, b->mac, sizeof a->mac) || a->ip != b->ip
           || addr_net(a) != addr_net(b);
}

/* ---- Node lists ---- */

static void
vm_link_node(struct core *c, uint32_t vi)
{
    struct vm *v = &c->vms[vi];
    struct node *n = &c->nodes[v->node];
    v->node_prev = NIL;
    v->node_next = n->vm_head;
    if (n->vm_head != NIL) {
        c->vms[n->vm_head].node_prev = vi;
    }
    n->vm_head = vi;
    n->n_vms++;
}

static void
vm_unlink_node(struct core *c, uint32_t vi)
{
    core_node_drain_vm_left(c, vi);
    struct vm *v = &c->vms[vi];
    struct node *n = &c->nodes[v->node];
    if (v->node_prev != NIL) {
        c->vms[v->node_prev].node_next = v->node_next;
    } else {
        n->vm_head = v->node_next;
    }
    if (v->node_next != NIL) {
        c->vms[v->node_next].node_prev = v->node_prev;
    }
    n->n_vms--;
}

void
core_vm_place(struct core *c, uint32_t vi, uint32_t node)
{
    vm_unlink_node(c, vi);
    c->vms[vi].node = node;
    vm_link_node(c, vi);
}

/* ---- Adding, updating, removing ---- */

static enum core_err
vm_add_check(const struct core *c, const char *name,
             const struct mn_config *cfg, uint32_t node, unsigned flags)
{
    if (!mn_name_valid(name)) {
        return CORE_E_BAD_NAME;
    }
    if (!cfg || !mn_config_valid(cfg) || (cfg->binding && !c->loading)) {
        /* A binding is made through core_binding_*(), never named. */
        return CORE_E_BAD_VALUE;
    }
    if (strmap_find(&c->vm_index, name) != STRMAP_NONE) {
        return CORE_E_DUPLICATE_VM;
    }
    if (!core_node_live(c, node)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (c->nodes[node].cordoned && !c->loading) {
        return CORE_E_CORDONED;
    }
    if (addr_refused(c, cfg, NIL, flags)) {
        return CORE_E_DUPLICATE_ADDRESS;
    }
    return CORE_E_OK;
}

enum core_err
core_vm_add_check(const struct core *c, const char *name,
                  const struct mn_config *cfg, uint32_t node)
{
    return vm_add_check(c, name, cfg, node, 0);
}

enum core_err
core_vm_add(struct core *c, const char *name, const struct mn_config *cfg,
            uint32_t node, uint64_t now, uint32_t *idxp)
{
    return core_vm_add_iface(c, name, cfg, node, NULL, now, idxp);
}

enum core_err
core_vm_add_iface(struct core *c, const char *name,
                  const struct mn_config *cfg, uint32_t node,
                  const char *iface_id, uint64_t now, uint32_t *idxp)
{
    return core_vm_add_opts(c, name, cfg, node, iface_id, 0, now, idxp);
}

enum core_err
core_vm_add_opts(struct core *c, const char *name,
                 const struct mn_config *cfg, uint32_t node,
                 const char *iface_id, unsigned flags, uint64_t now,
                 uint32_t *idxp)
{
    enum core_err err = vm_add_check(c, name, cfg, node, flags);
    if (err) {
        return err;
    }
    if (iface_id && *iface_id && !mn_name_valid(iface_id)) {
        return CORE_E_BAD_NAME;
    }
    uint32_t i;
    if (c->vm_free != NIL) {
        i = c->vm_free;
        c->vm_free = c->vms[i].node_next;
    } else {
        c->vms = xgrow(c->vms, &c->vms_cap, c->n_vms + 1, sizeof *c->vms);
        i = c->n_vms++;
    }
    struct vm *v = &c->vms[i];
    memset(v, 0, sizeof *v);
    v->name = xstrdup(name);
    v->iface_id = iface_id && *iface_id && strcmp(iface_id, name)
                      ? xstrdup(iface_id)
                      : NULL;
    v->config = *cfg;
    v->node = node;
    v->epoch = 1;
    v->task_head = NIL;
    v->chg_prev = v->chg_next = NIL;
    v->drain_target = NIL;
    strmap_insert(&c->vm_index, name, i);
    addr_index_update(c, i, true);
    vm_link_node(c, i);
    c->live_vms++;
    core_gateway_touch(c, i);
    core_persist_vm(c, i);
    core_emit(c, INSTR_INSTALL, node, i, v->epoch, &v->config, NIL, 0,
              NULL);
    (void) now;
    if (idxp) {
        *idxp = i;
    }
    return CORE_E_OK;
}

static enum core_err
vm_update_check(const struct core *c, uint32_t vi,
                const struct mn_config *cfg, unsigned flags)
{
    if (!core_vm_live(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    if (!cfg || !mn_config_valid(cfg)) {
        return CORE_E_BAD_VALUE;
    }
    const struct vm *v = &c->vms[vi];
    if (cfg->binding != v->config.binding) {
        return CORE_E_BAD_VALUE; /* bindings change through their calls */
    }
    const struct binding *b = core_vm_binding(c, vi);
    if (b && (memcmp(cfg->mac, b->mac, sizeof b->mac) || cfg->ip != b->ip
              || cfg->vlan != b->vlan)) {
        return CORE_E_ADDRESS_BOUND;
    }
    /* Keeping its addresses (a port change, or a duplicate accepted
     * earlier) is never refused; taking another VM's is. */
    if (addr_changed(&v->config, cfg) && addr_refused(c, cfg, vi, flags)) {
        return CORE_E_DUPLICATE_ADDRESS;
    }
    return CORE_E_OK;
}

enum core_err
core_vm_update_check(const struct core *c, uint32_t vi,
                     const struct mn_config *cfg)
{
    return vm_update_check(c, vi, cfg, 0);
}

enum core_err
core_vm_update(struct core *c, uint32_t vi, const struct mn_config *cfg,
               uint64_t now)
{
    return core_vm_update_opts(c, vi, cfg, 0, now);
}

enum core_err
core_vm_update_opts(struct core *c, uint32_t vi, const struct mn_config *cfg,
                    unsigned flags, uint64_t now)
{
    enum core_err err = vm_update_check(c, vi, cfg, flags);
    if (err) {
        return err;
    }
    struct vm *v = &c->vms[vi];
    if (mn_config_equal(&v->config, cfg)) {
        return CORE_E_OK;
    }
    /* Only the live placement changes; snapshots of pending deletions
     * stay exactly as they were taken (I3). */
    bool moved = addr_changed(&v->config, cfg);
    if (moved) {
        addr_index_update(c, vi, false);
    }
    v->config = *cfg;
    if (moved) {
        addr_index_update(c, vi, true);
    }
    core_gateway_touch(c, vi);
    core_persist_vm(c, vi);
    core_vm_emit_install(c, vi);
    (void) now;
    return CORE_E_OK;
}

enum core_err
core_vm_remove_check(const struct core *c, uint32_t vi)
{
    return core_vm_live(c, vi) ? CORE_E_OK : CORE_E_UNKNOWN_VM;
}

enum core_err
core_vm_remove(struct core *c, uint32_t vi, uint64_t now)
{
    enum core_err err = core_vm_remove_check(c, vi);
    if (err) {
        return err;
    }
    /* Every pending snapshot goes now: the VM no longer exists. */
    core_mig_vm_removed(c, vi, now);
    struct vm *v = &c->vms[vi];
    core_emit(c, INSTR_DELETE, v->node, vi, v->epoch, &v->config, NIL, 0,
              core_vm_binding(c, vi));
    core_binding_drop(c, vi);
    vm_unlink_node(c, vi);
    addr_index_update(c, vi, false);
    strmap_remove(&c->vm_index, v->name);
    core_persist_vm_del(c, v->name);
    core_gateway_remove(c, vi);
    free(v->name);
    free(v->iface_id);
    memset(v, 0, sizeof *v);
    v->node_next = c->vm_free;
    c->vm_free = vi;
    c->live_vms--;
    return CORE_E_OK;
}

/* ---- Reading ---- */

uint32_t
core_vm_find(const struct core *c, const char *name)
{
    return name ? strmap_find(&c->vm_index, name) : CORE_NONE;
}

size_t
core_n_vms(const struct core *c)
{
    return c->n_vms;
}

bool
core_vm_valid(const struct core *c, uint32_t i)
{
    return core_vm_live(c, i);
}

bool
core_vm_info(const struct core *c, uint32_t i, struct core_vm_info *out)
{
    if (!core_vm_live(c, i)) {
        return false;
    }
    const struct vm *v = &c->vms[i];
    out->name = v->name;
    out->iface_id = v->iface_id ? v->iface_id : v->name;
    out->config = v->config;
    out->node = v->node;
    out->epoch = v->epoch;
    out->map_version = v->map_version;
    out->migration = v->migration;
    out->n_tasks = 0;
    for (uint32_t t = v->task_head; t != NIL; t = c->tasks[t].vm_next) {
        out->n_tasks++;
    }
    return true;
}
