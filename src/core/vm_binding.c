/* vm_binding.c: the core's port-security bindings (seed 003, DESIGN §3).
 *
 * Keeps the binding table (binding.c) inside the core so that a binding
 * is part of the VM's configuration: persisted through the same store,
 * carried by every INSTALL, snapshotted by migrations and moved with the
 * VM.  A dynamic binding's lease is a durable LEASE task due at its
 * expiry.  It must never change anything before a request is fully
 * validated, and never let a lease end early. */
#include "core/core-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "mignet/dhcp.h"

/* ---- Lookups ---- */

const struct binding *
core_vm_binding(const struct core *c, uint32_t vi)
{
    uint32_t id = c->vms[vi].config.binding;
    return id ? binding_table_get(c->bindings, id) : NULL;
}

const struct binding *
core_binding_get(const struct core *c, uint32_t vi)
{
    return core_vm_live(c, vi) ? core_vm_binding(c, vi) : NULL;
}

const struct binding *
core_binding_next(const struct core *c, uint32_t *cursor)
{
    return binding_table_next(c->bindings, cursor);
}

size_t
core_n_bindings(const struct core *c)
{
    return binding_table_count(c->bindings);
}

struct binding *
core_binding_snapshot(const struct core *c, uint32_t vi)
{
    const struct binding *b = core_vm_binding(c, vi);
    if (!b) {
        return NULL;
    }
    struct binding *copy = xmalloc(sizeof *copy);
    *copy = *b;
    return copy;
}

/* The VM's LEASE task, or NIL. */
static uint32_t
lease_task_of(const struct core *c, uint32_t vi)
{
    for (uint32_t ti = c->vms[vi].task_head; ti != NIL;
         ti = c->tasks[ti].vm_next) {
        if (c->tasks[ti].kind == TASK_LEASE) {
            return ti;
        }
    }
    return NIL;
}

/* ---- Statistics ---- */

static void
count_type(struct core *c, const struct binding *b, int delta)
{
    if (b && (unsigned) b->type < 2) {
        c->stats.bindings_by_type[b->type] += (uint64_t) (int64_t) delta;
    }
}

/* ---- Changing a VM's binding ---- */

/* Makes the VM's lease task agree with its binding: due at the expiry of a
 * dynamic binding that expires, absent otherwise. */
static void
lease_sync(struct core *c, uint32_t vi, const struct binding *b)
{
    uint32_t ti = lease_task_of(c, vi);
    bool want = b && b->type == BINDING_DYNAMIC && b->expires_ms;
    if (!want) {
        if (ti != NIL) {
            core_task_free(c, ti);
        }
        return;
    }
    if (ti != NIL) {
        struct task *t = &c->tasks[ti];
        if (t->snapshot.binding != b->id || t->node != c->vms[vi].node) {
            /* Cannot happen (one binding per VM, moved with it); start
             * afresh rather than keep a wrong task. */
            core_task_free(c, ti);
            ti = NIL;
        } else {
            core_task_set_due(c, ti, b->expires_ms);
            return;
        }
    }
    ti = core_task_alloc(c);
    struct task *t = &c->tasks[ti];
    t->id = c->next_task_id++;
    t->kind = TASK_LEASE;
    t->vm = vi;
    t->node = c->vms[vi].node;
    t->epoch = c->vms[vi].epoch;
    t->due = b->expires_ms;
    t->snapshot.binding = b->id;
    core_task_link(c, ti);
}

/* The binding table accepted '*b' for VM 'vi' (already stored there with
 * id 'id'; 'old' is the binding it replaced, if any): the VM's
 * configuration follows, the store learns it, the node enforces it. */
static void
vm_bound(struct core *c, uint32_t vi, uint32_t id, const struct binding *old)
{
    struct vm *v = &c->vms[vi];
    const struct binding *b = binding_table_get(c->bindings, id);
    count_type(c, old, -1);
    count_type(c, b, +1);
    v->config.binding = id;
    if (v->config.ip != b->ip) {
        /* The gateway map carries the IP (ARP answers everywhere). */
        core_vm_set_ip(c, vi, b->ip);
        core_gateway_touch(c, vi);
    }
    core_persist_vm(c, vi);
    core_persist_binding(c, b);
    lease_sync(c, vi, b);
    core_vm_emit_install(c, vi);
}

/* Removes the VM's binding; with 'install', tells its node.  The VM's
 * address went with it (a lease that ended is no longer the VM's): its IP
 * becomes 0.0.0.0, so its node lets it do nothing but ask for one. */
static void
vm_unbind(struct core *c, uint32_t vi, bool install)
{
    struct vm *v = &c->vms[vi];
    struct binding old;
    uint32_t id = v->config.binding;
    if (!id || binding_table_delete(c->bindings, id, &old)) {
        return;
    }
    count_type(c, &old, -1);
    core_persist_binding_del(c, id);
    lease_sync(c, vi, NULL);
    v = &c->vms[vi];
    v->config.binding = 0;
    if (install) {
        if (v->config.ip) {
            core_vm_set_ip(c, vi, 0);
            core_gateway_touch(c, vi);
        }
        core_persist_vm(c, vi);
        core_vm_emit_install(c, vi);
    }
}

/* Puts '*nb' (complete: vm, node, addresses, lease) as the VM's binding. */
static enum core_err
vm_put(struct core *c, uint32_t vi, const struct binding *nb,
       enum binding_err *berr, uint32_t *idp, bool *createdp)
{
    const struct binding *cur = core_vm_binding(c, vi);
    struct binding old = {0};
    bool had = cur != NULL;
    if (had) {
        old = *cur;
    }
    if (core_vm_ip_taken(c, vi, nb->ip)) {
        return CORE_E_DUPLICATE_ADDRESS;
    }
    uint32_t id = 0;
    bool created = false;
    enum binding_err e = binding_table_put(c->bindings, nb, &id, &created);
    if (berr) {
        *berr = e;
    }
    if (e) {
        return CORE_E_BINDING;
    }
    vm_bound(c, vi, id, had ? &old : NULL);
    if (created) {
        c->stats.bindings_by_origin[nb->origin]++;
    }
    if (idp) {
        *idp = id;
    }
    if (createdp) {
        *createdp = created;
    }
    return CORE_E_OK;
}

/* Fills in what the VM determines: vm, node, port; checks that the MAC
 * and VLAN given (if any) are the VM's. */
static enum core_err
complete(const struct core *c, uint32_t vi, struct binding *b)
{
    const struct vm *v = &c->vms[vi];
    const char *node = c->nodes[v->node].name;
    static const uint8_t zero[6];
    if ((b->vm[0] && strcmp(b->vm, v->name))
        || (b->node[0] && strcmp(b->node, node))
        || (memcmp(b->mac, zero, 6) && memcmp(b->mac, v->config.mac, 6))
        || b->vlan != v->config.vlan) {
        return CORE_E_BINDING_MISMATCH;
    }
    snprintf(b->vm, sizeof b->vm, "%s", v->name);
    snprintf(b->node, sizeof b->node, "%s", node);
    memcpy(b->mac, v->config.mac, 6);
    if (!b->port) {
        b->port = v->config.port;
    }
    return CORE_E_OK;
}

/* Absolute expiry of a lease granted at 'now'; false when it overflows. */
static bool
lease_expiry(uint32_t lease_s, uint64_t now, uint64_t *expires)
{
    if (!lease_s || lease_s == DHCP_LEASE_INFINITE) {
        *expires = 0;
        return true;
    }
    uint64_t ms = (uint64_t) lease_s * 1000;
    if (now > UINT64_MAX - ms) {
        return false;
    }
    *expires = now + ms;
    return true;
}

/* The binding core_binding_set() would put for 'vi', in '*out', or why it
 * refuses (with '*berr' for CORE_E_BINDING). */
static enum core_err
binding_set_prepare(const struct core *c, uint32_t vi,
                    const struct binding *in, uint64_t now,
                    enum binding_err *berr, struct binding *out)
{
    *berr = BINDING_E_OK;
    if (!core_vm_live(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    if (!in) {
        return CORE_E_BAD_VALUE;
    }
    struct binding b = *in;
    b.id = 0;
    if (b.type == BINDING_DYNAMIC
        && !lease_expiry(b.lease_s, now, &b.expires_ms)) {
        *berr = BINDING_E_BAD_LEASE;
        return CORE_E_BINDING;
    }
    /* Invalid values first (a multicast MAC is invalid before it is
     * someone else's), then whether they are the VM's. */
    const struct vm *v = &c->vms[vi];
    struct binding probe = b;
    static const uint8_t zero[6];
    if (!probe.vm[0]) {
        snprintf(probe.vm, sizeof probe.vm, "%s", v->name);
    }
    if (!probe.node[0]) {
        snprintf(probe.node, sizeof probe.node, "%s",
                 c->nodes[v->node].name);
    }
    if (!memcmp(probe.mac, zero, 6)) {
        memcpy(probe.mac, v->config.mac, 6);
    }
    *berr = binding_validate(&probe);
    if (*berr) {
        return CORE_E_BINDING;
    }
    enum core_err err = complete(c, vi, &b);
    if (err) {
        return err;
    }
    if (core_vm_ip_taken(c, vi, b.ip)) {
        return CORE_E_DUPLICATE_ADDRESS;
    }
    *berr = binding_table_put_check(c->bindings, &b);
    if (*berr) {
        return CORE_E_BINDING;
    }
    *out = b;
    return CORE_E_OK;
}

enum core_err
core_binding_set_check(const struct core *c, uint32_t vi,
                       const struct binding *in, uint64_t now,
                       enum binding_err *berr)
{
    struct binding b;
    enum binding_err e;
    enum core_err err = binding_set_prepare(c, vi, in, now, &e, &b);
    if (berr) {
        *berr = e;
    }
    return err;
}

enum core_err
core_binding_set(struct core *c, uint32_t vi, const struct binding *in,
                 uint64_t now, enum binding_err *berr, uint32_t *idp,
                 bool *created)
{
    struct binding b;
    enum binding_err e;
    enum core_err err = binding_set_prepare(c, vi, in, now, &e, &b);
    if (berr) {
        *berr = e;
    }
    if (err) {
        return err;
    }
    return vm_put(c, vi, &b, berr, idp, created);
}

/* The VM on 'node' whose MAC is 'mac': CORE_NONE when there is none,
 * CORE_NONE - 1 when there are several. */
static uint32_t
vm_by_mac(const struct core *c, uint32_t node, const uint8_t mac[6])
{
    uint32_t found = CORE_NONE;
    for (uint32_t vi = c->nodes[node].vm_head; vi != NIL;
         vi = c->vms[vi].node_next) {
        if (!memcmp(c->vms[vi].config.mac, mac, 6)) {
            if (found != CORE_NONE) {
                return CORE_NONE - 1;
            }
            found = vi;
        }
    }
    return found;
}

enum core_err
core_binding_snoop(struct core *c, uint32_t ni, uint32_t vi,
                   const struct dhcp_msg *m, uint64_t now,
                   enum binding_err *berr, enum binding_action *act,
                   uint32_t *vm_out)
{
    if (berr) {
        *berr = BINDING_E_OK;
    }
    if (act) {
        *act = BINDING_ACT_NONE;
    }
    if (!core_node_live(c, ni)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (!m) {
        return CORE_E_BAD_VALUE;
    }
    if (vi == CORE_NONE) {
        vi = vm_by_mac(c, ni, m->chaddr);
        if (vi == CORE_NONE - 1) {
            return CORE_E_BAD_VALUE; /* ambiguous: refuse to guess */
        }
    }
    if (!core_vm_live(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    const struct vm *v = &c->vms[vi];
    if (v->node != ni) {
        return CORE_E_WRONG_SOURCE;
    }
    if (memcmp(v->config.mac, m->chaddr, 6)) {
        return CORE_E_BINDING_MISMATCH;
    }
    if (vm_out) {
        *vm_out = vi;
    }
    const struct binding *cur = core_vm_binding(c, vi);
    struct binding_ctx ctx = {
        .vm = v->name,
        .node = c->nodes[ni].name,
        .port = v->config.port,
        .vlan = v->config.vlan,
        .origin = BINDING_FROM_CONTROLLER,
        .port_status = cur ? cur->port_status : BINDING_PORT_UP,
        .port_security = cur ? cur->port_security : BINDING_UNTRUST,
    };
    /* Snoop on a scratch table holding the VM's binding only, so that the
     * checks against the other bindings and the bookkeeping (store, lease
     * task, instruction) happen in one place: vm_put(). */
    struct binding nb;
    enum binding_action a = BINDING_ACT_NONE;
    enum binding_err e;
    struct binding_table *scratch = binding_table_create();
    if (cur) {
        e = binding_table_add(scratch, cur, NULL);
        if (e) {
            binding_table_destroy(scratch);
            if (berr) {
                *berr = e;
            }
            return CORE_E_BINDING;
        }
    }
    e = binding_table_snoop(scratch, m, &ctx, now, &a, &nb);
    binding_table_destroy(scratch);
    if (berr) {
        *berr = e;
    }
    if (e) {
        return CORE_E_BINDING;
    }
    enum core_err err = CORE_E_OK;
    if (a == BINDING_ACT_CREATED || a == BINDING_ACT_UPDATED) {
        err = vm_put(c, vi, &nb, berr, NULL, NULL);
    } else if (a == BINDING_ACT_REMOVED) {
        vm_unbind(c, vi, true);
    }
    if (act && !err) {
        *act = a;
    }
    return err;
}

enum core_err
core_binding_report(struct core *c, uint32_t ni, const struct binding *in,
                    bool removed, uint64_t now, enum binding_err *berr,
                    enum binding_action *act)
{
    if (berr) {
        *berr = BINDING_E_OK;
    }
    if (act) {
        *act = BINDING_ACT_NONE;
    }
    if (!core_node_live(c, ni)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (!in) {
        return CORE_E_BAD_VALUE;
    }
    uint32_t vi = core_vm_find(c, in->vm);
    if (vi == CORE_NONE) {
        return CORE_E_UNKNOWN_VM;
    }
    if (c->vms[vi].node != ni) {
        return CORE_E_WRONG_SOURCE;
    }
    struct binding b = *in;
    b.port = 0;
    enum core_err err = complete(c, vi, &b);
    if (err) {
        return err;
    }
    const struct binding *cur = core_vm_binding(c, vi);
    if (removed) {
        if (cur && cur->type == BINDING_DYNAMIC && cur->ip == b.ip
            && !memcmp(cur->mac, b.mac, 6)) {
            vm_unbind(c, vi, true);
            if (act) {
                *act = BINDING_ACT_REMOVED;
            }
        }
        return CORE_E_OK;
    }
    if (b.origin != BINDING_FROM_AGENT || b.type != BINDING_DYNAMIC) {
        if (berr) {
            *berr = b.origin != BINDING_FROM_AGENT ? BINDING_E_BAD_ORIGIN
                                                   : BINDING_E_ORIGIN_TYPE;
        }
        return CORE_E_BINDING;
    }
    if (cur && cur->type == BINDING_STATIC) {
        if (berr) {
            *berr = BINDING_E_STATIC_HELD;
        }
        return CORE_E_BINDING;
    }
    /* The agent's clock is its own: the lease runs from now here. */
    if (!lease_expiry(b.lease_s, now, &b.expires_ms)) {
        if (berr) {
            *berr = BINDING_E_BAD_LEASE;
        }
        return CORE_E_BINDING;
    }
    if (cur) {
        b.port_status = cur->port_status;
        b.port_security = cur->port_security;
    }
    bool created = false;
    err = vm_put(c, vi, &b, berr, NULL, &created);
    if (act && !err) {
        *act = created ? BINDING_ACT_CREATED : BINDING_ACT_UPDATED;
    }
    return err;
}

enum core_err
core_binding_delete_check(const struct core *c, uint32_t vi)
{
    if (!core_vm_live(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    if (!core_vm_binding(c, vi)) {
        return CORE_E_UNKNOWN_BINDING;
    }
    return CORE_E_OK;
}

enum core_err
core_binding_delete(struct core *c, uint32_t vi, uint64_t now)
{
    (void) now;
    enum core_err err = core_binding_delete_check(c, vi);
    if (err) {
        return err;
    }
    vm_unbind(c, vi, true);
    return CORE_E_OK;
}

/* ---- Following the VM ---- */

void
core_binding_follow(struct core *c, uint32_t vi)
{
    const struct binding *cur = core_vm_binding(c, vi);
    if (!cur) {
        return;
    }
    struct vm *v = &c->vms[vi];
    struct binding b = *cur;
    snprintf(b.node, sizeof b.node, "%s", c->nodes[v->node].name);
    b.port = v->config.port;
    if (binding_table_replace(c->bindings, &b) == BINDING_E_OK) {
        core_persist_binding(c, &b);
    }
    uint32_t ti = lease_task_of(c, vi);
    if (ti != NIL && c->tasks[ti].node != v->node) {
        /* The lease belongs to the VM: it counts where the VM is. */
        struct task *t = &c->tasks[ti];
        c->nodes[t->node].n_tasks--;
        t->node = v->node;
        c->nodes[t->node].n_tasks++;
        core_persist_task(c, ti);
    }
}

void
core_binding_drop(struct core *c, uint32_t vi)
{
    vm_unbind(c, vi, false);
}

void
core_lease_run(struct core *c, uint32_t ti, uint64_t now)
{
    struct task *t = &c->tasks[ti];
    uint32_t vi = t->vm;
    uint32_t id = t->snapshot.binding;
    const struct binding *b = binding_table_get(c->bindings, id);
    if (b && b->expires_ms > now) {
        core_task_set_due(c, ti, b->expires_ms); /* renewed meanwhile */
        return;
    }
    core_task_free(c, ti);
    if (b && c->vms[vi].config.binding == id) {
        uint32_t ip = b->ip;
        uint64_t expires = b->expires_ms;
        c->stats.lease_expiries++;
        vm_unbind(c, vi, true);
        if (c->sink.lease_ended) {
            c->sink.lease_ended(c->sink.aux, vi, c->vms[vi].node, ip,
                                expires);
        }
    }
}

/* ---- Loading ---- */

int
core_load_binding(struct core *c, const struct store_binding_rec *r)
{
    struct binding b;
    if (!r->record || binding_decode(r->record, r->len, &b)
        || b.id != r->id) {
        return -1;
    }
    uint32_t vi = core_vm_find(c, b.vm);
    if (vi == CORE_NONE || c->vms[vi].config.binding != b.id
        || strcmp(b.node, c->nodes[c->vms[vi].node].name)) {
        return -1;
    }
    if (binding_table_add(c->bindings, &b, NULL)) {
        return -1;
    }
    count_type(c, &b, +1);
    return 0;
}

int
core_load_bindings_check(struct core *c)
{
    for (size_t vi = 0; vi < c->n_vms; vi++) {
        const struct vm *v = &c->vms[vi];
        if (!v->name || !v->config.binding) {
            continue;
        }
        if (!core_vm_binding(c, (uint32_t) vi)) {
            return -1; /* a VM names a binding the store lost */
        }
    }
    for (size_t ti = 0; ti < c->n_task_slots; ti++) {
        const struct task *t = &c->tasks[ti];
        if (!t->live || t->kind != TASK_LEASE) {
            continue;
        }
        const struct binding *b =
            binding_table_get(c->bindings, t->snapshot.binding);
        if (!b || c->vms[t->vm].config.binding != b->id
            || b->type != BINDING_DYNAMIC || !b->expires_ms) {
            return -1;
        }
    }
    return 0;
}
