/* vms.c: the VMs the core knows and where each is placed.
 *
 * A VM has a name, a configuration, a node and an epoch that grows with
 * every migration; it sits on its node's list.  Adding, updating and
 * removing one sends its node the matching instruction and moves its
 * gateway entry.  It must never change a placement: that is migrate.c's
 * job, the only place epochs grow. */
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

enum core_err
core_vm_add_check(const struct core *c, const char *name,
                  const struct mn_config *cfg, uint32_t node)
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
    return CORE_E_OK;
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
    enum core_err err = core_vm_add_check(c, name, cfg, node);
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

enum core_err
core_vm_update_check(const struct core *c, uint32_t vi,
                     const struct mn_config *cfg)
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
    return CORE_E_OK;
}

enum core_err
core_vm_update(struct core *c, uint32_t vi, const struct mn_config *cfg,
               uint64_t now)
{
    enum core_err err = core_vm_update_check(c, vi, cfg);
    if (err) {
        return err;
    }
    struct vm *v = &c->vms[vi];
    if (mn_config_equal(&v->config, cfg)) {
        return CORE_E_OK;
    }
    /* Only the live placement changes; snapshots of pending deletions
     * stay exactly as they were taken (I3). */
    v->config = *cfg;
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
