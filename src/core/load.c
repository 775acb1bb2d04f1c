/* load.c: rebuilding the core from its durable store (I7).
 *
 * Replays the store's records into an empty core.  Pending deletions and
 * prepare tasks come back held: the first core_run() gives them fresh due
 * times (the restart rule, tasks.c), so none runs at once because its old
 * due time has passed; leases keep their stored end.  A record that
 * refers to something the store does not hold fails the whole load: the
 * core is left empty rather than half-built. */
#include "core/core-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int
load_node(struct core *c, const struct store_node_rec *r)
{
    uint32_t i;
    if (core_node_add(c, r->name, r->address, r->refresh_ms, 0, &i)) {
        return -1;
    }
    /* A node stored 'gone' (removed while it had VMs, before nodes could
     * be cordoned) comes back cordoned: its VMs can move off, then it can
     * be removed. */
    c->nodes[i].cordoned = r->cordoned || r->gone;
    c->nodes[i].draining = r->draining && c->nodes[i].cordoned;
    /* A node stored without a hash (schema <= 4) authenticates only by
     * TLS until its token is rotated. */
    if (r->token_hash && r->token_hash[0]
        && core_node_set_token_hash(c, i, r->token_hash)) {
        return -1;
    }
    return 0;
}

static int
load_vm(struct core *c, const struct store_vm_rec *r)
{
    uint32_t node = core_node_find(c, r->node);
    uint32_t vi;
    if (node == CORE_NONE || r->epoch == 0) {
        return -1;
    }
    /* While loading, core_vm_add accepts a cordoned node. */
    uint64_t version = c->map_version;
    enum core_err e = core_vm_add_iface(c, r->name, &r->config, node,
                                        r->iface_id, 0, &vi);
    c->map_version = version;
    if (e) {
        return -1;
    }
    /* A drain target is advice: one naming a node no longer there (or the
     * VM's own) is dropped rather than failing the load. */
    uint32_t target = core_node_find(c, r->drain_target);
    if (target != CORE_NONE && target != node) {
        core_node_drain_set(c, vi, target);
    }
    struct vm *v = &c->vms[vi];
    v->epoch = r->epoch;
    v->map_version = r->map_version;
    v->migration = r->migration;
    return 0;
}

static int
load_migration(struct core *c, const struct store_migration_rec *r)
{
    uint32_t vm = core_vm_find(c, r->vm);
    uint32_t src = core_node_find(c, r->src);
    uint32_t dst = core_node_find(c, r->dst);
    /* A finished migration may name what was removed since; a cleaning
     * one only waits for its source. */
    bool done = r->phase == MIG_CLEANED || r->phase == MIG_ABORTED;
    bool cleaning = r->phase == MIG_CLEANING;
    if (r->id != c->n_migs + 1 || (unsigned) r->phase >= MIG_N_PHASES
        || (unsigned) r->switchover >= MIG_N_SWITCHOVERS) {
        return -1;
    }
    if (!done && (src == CORE_NONE
                  || (!cleaning && (vm == CORE_NONE || dst == CORE_NONE)))) {
        return -1;
    }
    c->migs = xgrow(c->migs, &c->migs_cap, c->n_migs + 1, sizeof *c->migs);
    struct migration *m = &c->migs[c->n_migs++];
    memset(m, 0, sizeof *m);
    m->pub.id = r->id;
    m->pub.vm = vm;
    m->pub.src = src;
    m->pub.dst = dst;
    /* The names as stored, also of what was removed since. */
    snprintf(m->pub.vm_name, sizeof m->pub.vm_name, "%s",
             r->vm ? r->vm : "");
    snprintf(m->pub.src_name, sizeof m->pub.src_name, "%s",
             r->src ? r->src : "");
    snprintf(m->pub.dst_name, sizeof m->pub.dst_name, "%s",
             r->dst ? r->dst : "");
    m->pub.epoch = r->epoch;
    m->pub.map_version = r->map_version;
    m->pub.phase = r->phase;
    m->pub.switchover = r->switchover;
    m->pub.started_ms = r->started_ms;
    m->pub.prepared_ms = r->prepared_ms;
    m->pub.switched_ms = r->switched_ms;
    m->pub.activated_ms = r->activated_ms;
    m->pub.relaying_ms = r->relaying_ms;
    m->pub.cleaning_ms = r->cleaning_ms;
    m->pub.cleaned_ms = r->cleaned_ms;
    m->pub.aborted_ms = r->aborted_ms;
    m->pub.prepare_deadline_ms = r->prepare_deadline_ms;
    m->pub.delay_ms = r->delay_ms;
    m->pub.released_early = r->released_early;
    m->pub.degraded = r->degraded;
    snprintf(m->pub.abort_reason, sizeof m->pub.abort_reason, "%s",
             r->abort_reason ? r->abort_reason : "");
    m->timeout_task = m->delete_task = m->deadline_task = NIL;
    m->pub.held_for = CORE_NONE;
    c->stats.migrations_by_phase[r->phase]++;
    return 0;
}

static int
load_task(struct core *c, const struct store_task_rec *r)
{
    uint32_t vm = core_vm_find(c, r->vm);
    uint32_t node = core_node_find(c, r->node);
    uint32_t target = r->relay_target ? core_node_find(c, r->relay_target)
                                      : NIL;
    struct migration *m = r->migration >= 1 && r->migration <= c->n_migs
                              ? &c->migs[r->migration - 1]
                              : NULL;
    bool lease = r->kind == TASK_LEASE;
    if (vm == CORE_NONE || node == CORE_NONE || (!m && !lease)
        || (m && lease) || (r->relay_target && target == CORE_NONE)
        || (r->kind != TASK_DELETE && r->kind != TASK_PREPARE_TIMEOUT
            && r->kind != TASK_PREPARE_DEADLINE && !lease)
        || (lease && (r->due_ms == UINT64_MAX || r->binding))) {
        return -1;
    }
    struct binding *snap = NULL;
    if (r->binding) {
        snap = xmalloc(sizeof *snap);
        if (r->kind != TASK_DELETE
            || binding_decode(r->binding, r->binding_len, snap)
            || snap->id != r->snapshot.binding
            || strcmp(snap->vm, r->vm)) {
            free(snap);
            return -1;
        }
    }
    struct task tmp = {0};
    tmp.id = r->id;
    tmp.kind = r->kind;
    tmp.vm = vm;
    tmp.node = node;
    tmp.epoch = r->epoch;
    tmp.due = r->due_ms;
    tmp.migration = r->migration;
    tmp.need_version = r->need_version;
    tmp.target = target;
    tmp.target_epoch = r->target_epoch;
    tmp.snapshot = r->snapshot;
    tmp.snap = snap;
    tmp.park_node = tmp.park_prev = tmp.park_next = NIL;

    /* A fresh core has no free task slots: append. */
    c->tasks = xgrow(c->tasks, &c->tasks_cap, c->n_task_slots + 1,
                     sizeof *c->tasks);
    uint32_t i = (uint32_t) c->n_task_slots++;
    struct task *t = &c->tasks[i];
    *t = tmp;
    t->live = true;
    t->due_pos = t->release_pos = HEAP_NOT_IN;
    t->vm_prev = NIL;
    struct vm *v = &c->vms[vm];
    t->vm_next = v->task_head;
    if (v->task_head != NIL) {
        c->tasks[v->task_head].vm_prev = i;
    }
    v->task_head = i;
    c->nodes[node].n_tasks++;
    c->live_tasks++;
    if (t->due != UINT64_MAX) {
        if (!lease) {
            t->held = true;
            c->n_held++;
        }
        heap_push(&c->due_heap, i);
        if (t->kind == TASK_DELETE && c->cfg.ack_release
            && m->pub.phase == MIG_RELAYING) {
            heap_push(&c->release_heap, i);
        }
    }
    if (t->kind == TASK_DELETE) {
        m->delete_task = i;
    } else if (t->kind == TASK_PREPARE_DEADLINE) {
        m->deadline_task = i;
    } else if (!lease) {
        m->timeout_task = i;
    }
    if (r->id >= c->next_task_id) {
        c->next_task_id = r->id + 1;
    }
    return 0;
}

static int
load_rec(void *aux, const struct store_rec *r)
{
    struct core *c = aux;
    if (r->del) {
        return -1;
    }
    switch (r->type) {
    case STORE_META:
        c->map_version = r->meta.map_version;
        if (r->meta.next_task > c->next_task_id) {
            c->next_task_id = r->meta.next_task;
        }
        return 0;
    case STORE_NODE:
        return load_node(c, &r->node);
    case STORE_VM:
        return load_vm(c, &r->vm);
    case STORE_MIGRATION:
        return load_migration(c, &r->migration);
    case STORE_TASK:
        return load_task(c, &r->task);
    case STORE_BINDING:
        return core_load_binding(c, &r->binding);
    case STORE_VSWITCH:
        /* The core has no virtual switches: mignetd loads them itself. */
        return 0;
    }
    return -1;
}

static int
cmp_version(const void *a_, const void *b_, void *aux)
{
    const struct core *c = aux;
    uint64_t a = c->vms[*(const uint32_t *) a_].map_version;
    uint64_t b = c->vms[*(const uint32_t *) b_].map_version;
    return a < b ? -1 : a > b;
}

/* Rebuilds the gateway change list in version order. */
static void
rebuild_changes(struct core *c)
{
    uint32_t *order = xmalloc((c->n_vms + 1) * sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < c->n_vms; i++) {
        if (c->vms[i].name) {
            order[n++] = (uint32_t) i;
        }
    }
    qsort_r(order, n, sizeof *order, cmp_version, c);
    c->chg_head = c->chg_tail = NIL;
    for (size_t k = 0; k < n; k++) {
        struct vm *v = &c->vms[order[k]];
        v->chg_prev = c->chg_tail;
        v->chg_next = NIL;
        if (c->chg_tail != NIL) {
            c->vms[c->chg_tail].chg_next = order[k];
        } else {
            c->chg_head = order[k];
        }
        c->chg_tail = order[k];
    }
    free(order);
}

enum core_err
core_load(struct core *c)
{
    if (!c->store) {
        return CORE_E_OK;
    }
    /* Replaying is silent: no instructions, no callbacks.  Agents get the
     * state by resync when they connect. */
    struct core_sink sink = c->sink;
    memset(&c->sink, 0, sizeof c->sink);
    c->loading = true;
    int err = c->store->ops->load(c->store, load_rec, c);
    c->loading = false;
    c->sink = sink;
    if (!err) {
        /* core_vm_add bumped the version while replaying; the store's
         * counter is the truth, and every VM keeps its own version. */
        uint64_t max = 0;
        for (size_t i = 0; i < c->n_vms; i++) {
            if (c->vms[i].name && c->vms[i].map_version > max) {
                max = c->vms[i].map_version;
            }
        }
        if (max > c->map_version) {
            err = -1;
        }
    }
    if (!err) {
        err = core_load_bindings_check(c);
    }
    if (err) {
        struct core_config cfg = c->cfg;
        struct store *store = c->store;
        core_free_contents(c);
        core_init_contents(c, &cfg, store, &sink);
        return CORE_E_STORE;
    }
    rebuild_changes(c);
    /* Removals before the restart are forgotten: incremental readers from
     * before it get a full map. */
    c->tomb_horizon = c->map_version;
    c->stats.instructions = 0;
    for (size_t i = 0; i < c->n_nodes; i++) {
        c->nodes[i].last_seq = 0;
    }
    c->hear_all = true; /* silence counts from the first core_run */
    return CORE_E_OK;
}
