/* migrate.c: the migration protocol of DESIGN §2, steps 1-6 in order.
 *
 * A migration is created PREPARED by core_migrate() (steps 1-4), becomes
 * RELAYING when both agents acknowledged or the prepare phase timed out
 * (step 5), and CLEANED when the source's snapshot is deleted (step 6).
 * Every phase change goes through the one table below; nothing else in the
 * core may change a migration's phase, and nothing here reads a clock. */
#include "core/core-private.h"

#include <assert.h>
#include <string.h>

#include "lib/util.h"

/* ---- Lifecycle: the transition table ---- */

/* What happens to a migration. */
enum mig_event {
    MIG_EV_BOTH_ACKED,       /* both agents acknowledged steps 2 and 4 */
    MIG_EV_PREPARE_TIMEOUT,  /* they did not within prepare_timeout_ms */
    MIG_EV_SNAPSHOT_DELETED, /* the source's snapshot was deleted */
};

typedef void mig_action(struct core *, struct migration *, uint64_t now);

static mig_action step5_schedule_deletion;
static mig_action step6_release_early;
static mig_action step6_cleaned;

/* From 'from', event 'ev' leads to 'to': 'action' runs first, then the
 * phase changes (counted, persisted, reported), then 'after'.  A row with
 * from == to and no action is an event that changes nothing in that
 * phase.  An event with no row in the migration's phase is a bug. */
static const struct mig_rule {
    enum mig_phase from;
    enum mig_event ev;
    enum mig_phase to;
    mig_action *action;
    mig_action *after;
} mig_rules[] = {
    /* Step 5: the relay is in place, the deletion is scheduled; step 6's
     * early release may apply at once. */
    {MIG_PREPARED, MIG_EV_BOTH_ACKED, MIG_RELAYING, step5_schedule_deletion,
     step6_release_early},
    /* Step 5 without both acknowledgements: the deletion delay still
     * bounds the wait (I2), the VM manager never waits (I6). */
    {MIG_PREPARED, MIG_EV_PREPARE_TIMEOUT, MIG_RELAYING,
     step5_schedule_deletion, step6_release_early},
    /* Step 6. */
    {MIG_RELAYING, MIG_EV_SNAPSHOT_DELETED, MIG_CLEANED, step6_cleaned,
     NULL},
    /* The VM was removed while prepared: its snapshot went at once. */
    {MIG_PREPARED, MIG_EV_SNAPSHOT_DELETED, MIG_CLEANED, step6_cleaned,
     NULL},
    /* Acknowledgements that arrive after the timeout (or after the
     * snapshot went) no longer matter. */
    {MIG_RELAYING, MIG_EV_BOTH_ACKED, MIG_RELAYING, NULL, NULL},
    {MIG_CLEANED, MIG_EV_BOTH_ACKED, MIG_CLEANED, NULL, NULL},
    /* A timeout task is freed when its migration leaves PREPARED, so these
     * cannot fire today; a stale one from an old store is ignored. */
    {MIG_RELAYING, MIG_EV_PREPARE_TIMEOUT, MIG_RELAYING, NULL, NULL},
    {MIG_CLEANED, MIG_EV_PREPARE_TIMEOUT, MIG_CLEANED, NULL, NULL},
};

/* The one place a migration's phase changes. */
static void
mig_transition(struct core *c, struct migration *m, enum mig_event ev,
               uint64_t now)
{
    const struct mig_rule *r = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(mig_rules); i++) {
        if (mig_rules[i].from == m->pub.phase && mig_rules[i].ev == ev) {
            r = &mig_rules[i];
            break;
        }
    }
    assert(r);
    if (!r || (r->to == r->from && !r->action)) {
        return;
    }
    r->action(c, m, now);
    c->stats.migrations_by_phase[m->pub.phase]--;
    m->pub.phase = r->to;
    c->stats.migrations_by_phase[r->to]++;
    core_persist_mig(c, m);
    if (c->sink.migration) {
        c->sink.migration(c->sink.aux, &m->pub);
    }
    if (r->after) {
        r->after(c, m, now);
    }
}

/* ---- Validation ---- */

enum core_err
core_migrate_check(const struct core *c, uint32_t vi, uint32_t from,
                   uint32_t to)
{
    if (!core_vm_live(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    if (!core_node_live(c, to)
        || (from != CORE_NONE && !core_node_live(c, from))) {
        return CORE_E_UNKNOWN_NODE;
    }
    const struct vm *v = &c->vms[vi];
    uint32_t src = v->node;
    /* Cordon (nodes.c): no new placement on the destination. */
    if (c->nodes[to].cordoned && to != src) {
        return CORE_E_CORDONED;
    }
    if (from != CORE_NONE && from != src) {
        return CORE_E_WRONG_SOURCE;
    }
    if (to == src) {
        return CORE_E_SAME_NODE;
    }
    if (v->migration && v->migration <= c->n_migs
        && c->migs[v->migration - 1].pub.phase == MIG_PREPARED) {
        return CORE_E_IN_PROGRESS;
    }
    return CORE_E_OK;
}

/* What one core_migrate() call carries from step to step. */
struct mig_move {
    uint32_t vm, src, dst;
    uint64_t old_epoch, new_epoch;
    struct mn_config snapshot;
    struct binding *snap_binding; /* owned; goes to the DELETE task */
};

/* ==== Step 1: Prepare ====================================================
 * Snapshot what is installed on the source, binding included, and open the
 * migration PREPARED.  Keeps I3: the deletion of step 6 removes exactly
 * this snapshot, never a configuration written later. */
static struct migration *
step1_prepare(struct core *c, struct mig_move *mv, uint64_t now)
{
    const struct vm *v = &c->vms[mv->vm];
    mv->src = v->node;
    mv->snapshot = v->config;
    mv->snap_binding = core_binding_snapshot(c, mv->vm);
    mv->old_epoch = v->epoch;
    mv->new_epoch = mv->old_epoch + 1;

    c->migs = xgrow(c->migs, &c->migs_cap, c->n_migs + 1, sizeof *c->migs);
    struct migration *m = &c->migs[c->n_migs++];
    memset(m, 0, sizeof *m);
    m->pub.id = c->n_migs;
    m->pub.vm = mv->vm;
    m->pub.src = mv->src;
    m->pub.dst = mv->dst;
    m->pub.epoch = mv->new_epoch;
    m->pub.phase = MIG_PREPARED; /* born here, not a transition */
    m->pub.started_ms = now;
    m->timeout_task = m->delete_task = NIL;
    c->stats.migrations_by_phase[MIG_PREPARED]++;
    return m;
}

static void task_run_delete(struct core *, uint32_t task, uint64_t now);

/* ==== Step 2: Switch-over ================================================
 * The VM is placed on the destination with a new epoch and INSTALLed
 * there; the destination's acknowledgement is awaited.  Keeps I4: a
 * snapshot still pending on the destination (an earlier migration away
 * from it) is deleted first, so it can never remove the placement
 * installed now; agents refuse older epochs. */
static void
step2_switch_over(struct core *c, const struct mig_move *mv,
                  struct migration *m, uint64_t now)
{
    uint32_t vi = mv->vm, to = mv->dst;
    if (c->cfg.pending_check) {
        uint32_t ti = c->vms[vi].task_head;
        while (ti != NIL) {
            uint32_t next = c->tasks[ti].vm_next;
            const struct task *t = &c->tasks[ti];
            if (t->node == to && t->kind == TASK_DELETE) {
                c->stats.tasks_cancelled++;
                task_run_delete(c, ti, now);
            }
            ti = next;
        }
    }
    struct vm *v = &c->vms[vi];
    v->epoch = mv->new_epoch;
    v->migration = m->pub.id;
    core_vm_place(c, vi, to);
    core_binding_follow(c, vi);
    v = &c->vms[vi];
    core_emit(c, INSTR_INSTALL, to, vi, mv->new_epoch, &v->config, NIL, 0,
              core_vm_binding(c, vi));
    m->dst_seq = c->nodes[to].last_seq;
    core_node_wait(c, to, m->dst_seq, m->pub.id);
}

/* ==== Step 3: Update the gateway =========================================
 * The VM's entry moves to the destination; the map version grows.  Nodes
 * learn it by push or poll; until they do, step 4's relay keeps I1. */
static void
step3_gateway(struct core *c, const struct mig_move *mv,
              struct migration *m)
{
    core_gateway_touch(c, mv->vm);
    m->pub.map_version = c->vms[mv->vm].map_version;
}

/* ==== Step 4: Relay on the source ========================================
 * The source's snapshot forwards what still arrives there to the
 * destination (I1, no stale loss); the source's acknowledgement is
 * awaited.  Keeps I5: every older relay of the VM still pending now points
 * at the newest node, so a chain A->B->C leaves no two-hop relay. */
static void
step4_relay(struct core *c, const struct mig_move *mv, struct migration *m)
{
    uint32_t vi = mv->vm, to = mv->dst;
    if (c->cfg.relay) {
        core_emit(c, INSTR_RELAY, mv->src, vi, mv->old_epoch, &mv->snapshot,
                  to, mv->new_epoch, mv->snap_binding);
        m->src_seq = c->nodes[mv->src].last_seq;
        core_node_wait(c, mv->src, m->src_seq, m->pub.id);
    } else {
        m->src_acked = true;
    }
    if (!c->cfg.retarget) {
        return;
    }
    for (uint32_t ti = c->vms[vi].task_head; ti != NIL;
         ti = c->tasks[ti].vm_next) {
        struct task *t = &c->tasks[ti];
        if (t->kind != TASK_DELETE || t->target == to) {
            continue;
        }
        t->target = to;
        t->target_epoch = mv->new_epoch;
        c->stats.relays_retargeted++;
        core_persist_task(c, ti);
        core_emit(c, INSTR_RELAY, t->node, vi, t->epoch, &t->snapshot, to,
                  mv->new_epoch, t->snap);
    }
}

/* The tasks of a new migration: its DELETE exists from now on, so a crash
 * cannot lose it (I7), but is scheduled only at RELAYING (step 5); the
 * PREPARE_TIMEOUT bounds the wait for acknowledgements. */
static void
mig_tasks_create(struct core *c, const struct mig_move *mv,
                 struct migration *m, uint64_t now)
{
    uint32_t di = core_task_alloc(c);
    struct task *d = &c->tasks[di];
    d->id = c->next_task_id++;
    d->kind = TASK_DELETE;
    d->vm = mv->vm;
    d->node = mv->src;
    d->epoch = mv->old_epoch;
    d->snapshot = mv->snapshot;
    d->snap = mv->snap_binding;
    d->migration = m->pub.id;
    d->need_version = m->pub.map_version;
    d->target = c->cfg.relay ? mv->dst : NIL;
    d->target_epoch = mv->new_epoch;
    d->due = UINT64_MAX;
    m->delete_task = di;
    core_task_link_unscheduled(c, di);

    uint32_t ti = core_task_alloc(c);
    struct task *t = &c->tasks[ti];
    t->id = c->next_task_id++;
    t->kind = TASK_PREPARE_TIMEOUT;
    t->vm = mv->vm;
    t->node = mv->dst;
    t->epoch = mv->new_epoch;
    t->migration = m->pub.id;
    t->due = now + c->cfg.prepare_timeout_ms;
    m->timeout_task = ti;
    core_task_link(c, ti);
}

enum core_err
core_migrate(struct core *c, uint32_t vi, uint32_t from, uint32_t to,
             uint64_t now, struct core_migrate_result *res)
{
    /* Validate everything before touching anything. */
    enum core_err err = core_migrate_check(c, vi, from, to);
    if (err) {
        return err;
    }
    struct mig_move mv = {.vm = vi, .dst = to};
    struct migration *m = step1_prepare(c, &mv, now);
    uint64_t id = m->pub.id;
    step2_switch_over(c, &mv, m, now);
    m = core_mig_get(c, id);
    step3_gateway(c, &mv, m);
    step4_relay(c, &mv, m);
    mig_tasks_create(c, &mv, m, now);

    core_persist_vm(c, vi);
    core_persist_mig(c, m);
    core_persist_meta(c);
    if (c->sink.migration) {
        c->sink.migration(c->sink.aux, &m->pub);
    }
    if (res) {
        res->migration = m->pub.id;
        res->epoch = mv.new_epoch;
        res->delay_ms = core_delay_ms(c);
    }
    /* With no relay to wait for, the destination may already be enough. */
    if (m->dst_acked && m->src_acked) {
        mig_transition(c, m, MIG_EV_BOTH_ACKED, now);
    }
    return CORE_E_OK;
}

/* ==== Step 5: Schedule deletion ==========================================
 * Once both agents acknowledged (or the prepare phase timed out), the
 * source's snapshot is due for deletion after the dynamic delay: the
 * slowest node's next refresh plus propagation and a margin (I2).  The VM
 * manager was answered at step 4 already (I6). */

uint64_t
core_delay_ms(const struct core *c)
{
    uint64_t d;
    if (!c->cfg.dynamic_delay) {
        return c->cfg.fixed_delay_ms;
    }
    uint64_t upper = heap_is_empty(&c->upper_heap)
                         ? 0
                         : c->nodes[heap_top(&c->upper_heap)].upper;
    d = upper + c->cfg.propagation_ms + c->cfg.delay_margin_ms;
    if (d < c->cfg.delay_floor_ms) {
        d = c->cfg.delay_floor_ms;
    }
    if (d > c->cfg.delay_ceiling_ms) {
        d = c->cfg.delay_ceiling_ms;
    }
    return d;
}

static void
step5_schedule_deletion(struct core *c, struct migration *m, uint64_t now)
{
    if (m->timeout_task != NIL) {
        core_task_free(c, m->timeout_task);
        m->timeout_task = NIL;
    }
    m->pub.relaying_ms = now;
    m->pub.delay_ms = core_delay_ms(c);
    if (m->delete_task != NIL) {
        core_task_schedule(c, m->delete_task, now + m->pub.delay_ms);
    }
}

void
core_mig_acked(struct core *c, struct migration *m, uint32_t node,
               uint64_t seq, uint64_t now)
{
    if (m->pub.dst == node && m->dst_seq == seq) {
        m->dst_acked = true;
    }
    if (m->pub.src == node && m->src_seq == seq) {
        m->src_acked = true;
    }
    if (m->dst_acked && m->src_acked) {
        mig_transition(c, m, MIG_EV_BOTH_ACKED, now);
    }
}

void
core_mig_nacked(struct core *c, struct migration *m,
                const struct core_nack *nack)
{
    (void) c;
    if (m->pub.n_nacks < CORE_MIG_NACKS_MAX) {
        m->pub.nacks[m->pub.n_nacks] = *nack;
    }
    m->pub.n_nacks++;
}

void
core_mig_timeout_run(struct core *c, uint32_t ti, uint64_t now)
{
    struct migration *m = core_mig_get(c, c->tasks[ti].migration);
    c->stats.prepare_timeouts++;
    core_task_free(c, ti);
    if (m) {
        m->timeout_task = NIL;
        mig_transition(c, m, MIG_EV_PREPARE_TIMEOUT, now);
    }
}

/* ==== Step 6: Delete =====================================================
 * The snapshot goes when its delay ends, or earlier once every live node
 * acknowledged a map version >= the one of step 3 and the in-flight margin
 * passed (I2).  The DELETE removes exactly the snapshot (I3); the
 * migration is CLEANED when it is issued. */

/* Every live node has acknowledged the gateway up to this version. */
static uint64_t
acked_horizon(const struct core *c)
{
    return heap_is_empty(&c->ack_heap)
               ? c->map_version
               : c->nodes[heap_top(&c->ack_heap)].acked_version;
}

void
core_release_check(struct core *c, uint64_t now)
{
    uint64_t horizon = acked_horizon(c);
    while (!heap_is_empty(&c->release_heap)) {
        uint32_t i = heap_top(&c->release_heap);
        struct task *t = &c->tasks[i];
        if (t->need_version > horizon) {
            break;
        }
        heap_remove(&c->release_heap, t->release_pos);
        uint64_t due = now + c->cfg.inflight_ms;
        if (due < t->due) {
            core_task_set_due(c, i, due);
            c->migs[t->migration - 1].pub.released_early = true;
            c->stats.released_early++;
        }
    }
}

static void
step6_release_early(struct core *c, struct migration *m, uint64_t now)
{
    (void) m;
    core_release_check(c, now);
}

static void
step6_cleaned(struct core *c, struct migration *m, uint64_t now)
{
    m->delete_task = NIL;
    m->pub.cleaned_ms = now ? now : 1;
}

/* Runs a DELETE task now: the snapshot and its relay go. */
static void
task_run_delete(struct core *c, uint32_t ti, uint64_t now)
{
    struct task *t = &c->tasks[ti];
    struct vm *v = &c->vms[t->vm];
    if (c->sink.wrong_delete && v->node == t->node) {
        c->sink.wrong_delete(c->sink.aux, t->vm, t->node);
    }
    core_emit(c, INSTR_DELETE, t->node, t->vm, t->epoch, &t->snapshot, NIL,
              0, t->snap);
    struct migration *m = core_mig_get(c, t->migration);
    core_task_free(c, ti);
    if (m && m->delete_task == ti) {
        mig_transition(c, m, MIG_EV_SNAPSHOT_DELETED, now);
    }
}

void
core_mig_delete_run(struct core *c, uint32_t ti, uint64_t now)
{
    task_run_delete(c, ti, now);
}

void
core_mig_vm_removed(struct core *c, uint32_t vi, uint64_t now)
{
    struct migration *m = core_mig_get(c, c->vms[vi].migration);
    if (m && m->pub.phase == MIG_PREPARED) {
        /* Its snapshot goes below, which cleans it: no timeout any
         * more, and no step 5 either. */
        if (m->timeout_task != NIL) {
            core_task_free(c, m->timeout_task);
            m->timeout_task = NIL;
        }
        m->pub.relaying_ms = now;
    }
    while (c->vms[vi].task_head != NIL) {
        uint32_t ti = c->vms[vi].task_head;
        if (c->tasks[ti].kind == TASK_DELETE) {
            task_run_delete(c, ti, now);
        } else {
            core_task_free(c, ti);
        }
    }
}

/* ---- Reading ---- */

bool
core_migration_get(const struct core *c, uint64_t id,
                   struct core_migration *out)
{
    if (id < 1 || id > c->n_migs) {
        return false;
    }
    *out = c->migs[id - 1].pub;
    return true;
}

uint64_t
core_n_migrations(const struct core *c)
{
    return c->n_migs;
}
