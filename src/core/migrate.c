/* migrate.c: the migration protocol of DESIGN §2, steps 1-6 in order, and
 * its lifecycle: preparing -> prepared -> relaying -> cleaning -> cleaned,
 * or aborted.
 *
 * A migration is born PREPARING by core_migrate_opts(): the destination
 * holds the VM inactive (step 1), or, in `now` mode, the switch-over
 * (steps 2-4) happens at once.  It is PREPARED when the destination
 * confirmed its copy, RELAYING when both agents confirmed the switch-over
 * (step 5: the deletion is scheduled once the VM runs at the destination),
 * CLEANING when the source's snapshot is deleted (step 6) and CLEANED when
 * the source confirmed that.  Every phase change goes through the one
 * table below; nothing else in the core may change a migration's phase,
 * and nothing here reads a clock. */
#include "core/core-private.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

/* ---- Lifecycle: the transition table ---- */

/* What happens to a migration. */
enum mig_event {
    MIG_EV_DST_READY,        /* the destination confirmed its copy */
    MIG_EV_SWITCH,           /* switch-over: steps 2-4 */
    MIG_EV_CONFIRMED,        /* both agents confirmed the switch-over */
    MIG_EV_CONFIRM_TIMEOUT,  /* they did not within prepare_timeout_ms */
    MIG_EV_ACTIVATED,        /* the VM runs at the destination (lossless) */
    MIG_EV_SNAPSHOT_DELETED, /* the source's DELETE was sent */
    MIG_EV_DELETE_CONFIRMED, /* ... and the source acknowledged it */
    MIG_EV_ABORT,            /* the VM manager, or the prepare deadline */
};

typedef void mig_action(struct core *, struct migration *, uint64_t now);

static mig_action mark_prepared;
static mig_action step2to4_switch_over;
static mig_action step5_schedule_deletion;
static mig_action step5_degraded;
static mig_action step5_activated;
static mig_action mark_activated;
static mig_action step6_release_early;
static mig_action step6_cleaning;
static mig_action step6_cleaned;
static mig_action abort_migration;

/* From 'from', event 'ev' leads to 'to': 'action' runs first, then the
 * phase changes (counted, persisted, reported), then 'after'.  A row with
 * from == to and an action changes the migration within its phase
 * (persisted, not reported); one without an action changes nothing.  An
 * event with no row in the migration's phase is a bug. */
static const struct mig_rule {
    enum mig_phase from;
    enum mig_event ev;
    enum mig_phase to;
    mig_action *action;
    mig_action *after;
} mig_rules[] = {
    /* Step 1 done: the destination holds the VM, inactive. */
    {MIG_PREPARING, MIG_EV_DST_READY, MIG_PREPARED, mark_prepared, NULL},
    /* Steps 2-4, from either; `now` switches while preparing. */
    {MIG_PREPARING, MIG_EV_SWITCH, MIG_PREPARING, step2to4_switch_over,
     NULL},
    {MIG_PREPARED, MIG_EV_SWITCH, MIG_PREPARED, step2to4_switch_over, NULL},
    /* Step 5: the relay is in place; the deletion is scheduled if the VM
     * runs at the destination, and step 6's early release may apply. */
    {MIG_PREPARING, MIG_EV_CONFIRMED, MIG_RELAYING, step5_schedule_deletion,
     step6_release_early},
    {MIG_PREPARED, MIG_EV_CONFIRMED, MIG_RELAYING, step5_schedule_deletion,
     step6_release_early},
    /* Step 5 without both confirmations: the VM is moving regardless, the
     * deletion delay still bounds the wait (I2), the VM manager never
     * waits (I6); the migration is degraded. */
    {MIG_PREPARING, MIG_EV_CONFIRM_TIMEOUT, MIG_RELAYING, step5_degraded,
     step6_release_early},
    {MIG_PREPARED, MIG_EV_CONFIRM_TIMEOUT, MIG_RELAYING, step5_degraded,
     step6_release_early},
    /* `lossless`: the destination resumed after the network switched. */
    {MIG_PREPARING, MIG_EV_ACTIVATED, MIG_PREPARING, mark_activated, NULL},
    {MIG_PREPARED, MIG_EV_ACTIVATED, MIG_PREPARED, mark_activated, NULL},
    {MIG_RELAYING, MIG_EV_ACTIVATED, MIG_RELAYING, step5_activated,
     step6_release_early},
    /* Step 6: sent, then confirmed.  The VM removed before its migration
     * was confirmed takes its snapshot with it at once. */
    {MIG_RELAYING, MIG_EV_SNAPSHOT_DELETED, MIG_CLEANING, step6_cleaning,
     NULL},
    {MIG_PREPARING, MIG_EV_SNAPSHOT_DELETED, MIG_CLEANING, step6_cleaning,
     NULL},
    {MIG_PREPARED, MIG_EV_SNAPSHOT_DELETED, MIG_CLEANING, step6_cleaning,
     NULL},
    {MIG_CLEANING, MIG_EV_DELETE_CONFIRMED, MIG_CLEANED, step6_cleaned,
     NULL},
    /* Abort: before activation only (the callers check). */
    {MIG_PREPARING, MIG_EV_ABORT, MIG_ABORTED, abort_migration, NULL},
    {MIG_PREPARED, MIG_EV_ABORT, MIG_ABORTED, abort_migration, NULL},
    {MIG_RELAYING, MIG_EV_ABORT, MIG_ABORTED, abort_migration, NULL},
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
    if (!r || !r->action) {
        return;
    }
    uint64_t id = m->pub.id;
    r->action(c, m, now);
    m = core_mig_get(c, id); /* actions may grow the migrations array */
    if (r->to != r->from) {
        c->stats.migrations_by_phase[m->pub.phase]--;
        m->pub.phase = r->to;
        c->stats.migrations_by_phase[r->to]++;
    }
    core_persist_mig(c, m);
    if (r->to != r->from && c->sink.migration) {
        c->sink.migration(c->sink.aux, &m->pub);
    }
    if (r->after) {
        r->after(c, m, now);
    }
}

static bool
mig_switched(const struct migration *m)
{
    return m->pub.switched_ms != 0;
}

static bool
mig_activated(const struct migration *m)
{
    return m->pub.activated_ms != 0;
}

/* Preparing or prepared and not switched over yet. */
static bool
mig_unswitched(const struct migration *m)
{
    return (m->pub.phase == MIG_PREPARING || m->pub.phase == MIG_PREPARED)
           && !mig_switched(m);
}

/* The VM has not resumed at the destination yet: its source must keep it
 * and no other migration of it may start. */
static bool
mig_in_progress(const struct migration *m)
{
    return m->pub.phase == MIG_PREPARING || m->pub.phase == MIG_PREPARED
           || (m->pub.phase == MIG_RELAYING && !mig_activated(m));
}

static const struct migration *
vm_latest_mig(const struct core *c, uint32_t vi)
{
    uint64_t id = c->vms[vi].migration;
    return id >= 1 && id <= c->n_migs ? &c->migs[id - 1] : NULL;
}

static void
task_free_ref(struct core *c, uint32_t *ti)
{
    if (*ti != NIL) {
        core_task_free(c, *ti);
        *ti = NIL;
    }
}

/* ---- Validation ---- */

static enum core_err
opts_check(const struct core_migrate_opts *o)
{
    if (!o) {
        return CORE_E_OK;
    }
    if ((unsigned) o->switchover >= MIG_N_SWITCHOVERS) {
        return CORE_E_BAD_VALUE;
    }
    if (o->switchover == MIG_SW_NOW) {
        return o->prepare_deadline_ms ? CORE_E_BAD_VALUE : CORE_E_OK;
    }
    if (o->prepare_deadline_ms
        && (o->prepare_deadline_ms < CORE_PREPARE_DEADLINE_MIN_MS
            || o->prepare_deadline_ms > CORE_PREPARE_DEADLINE_MAX_MS)) {
        return CORE_E_BAD_VALUE;
    }
    return CORE_E_OK;
}

enum core_err
core_migrate_opts_check(const struct core *c, uint32_t vi, uint32_t from,
                        uint32_t to, const struct core_migrate_opts *o)
{
    enum core_err err = opts_check(o);
    if (err) {
        return err;
    }
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
    /* A migration still running answers first: "back to where it runs"
     * before its activation is that migration's business (abort it). */
    const struct migration *m = vm_latest_mig(c, vi);
    if (m && mig_in_progress(m)) {
        return CORE_E_IN_PROGRESS;
    }
    if (to == src) {
        return CORE_E_SAME_NODE;
    }
    return CORE_E_OK;
}

enum core_err
core_migrate_check(const struct core *c, uint32_t vi, uint32_t from,
                   uint32_t to)
{
    return core_migrate_opts_check(c, vi, from, to, NULL);
}

/* ==== Step 1: Prepare ====================================================
 * The migration opens PREPARING with the VM's next epoch.  Keeps I4: a
 * snapshot still pending on the destination (an earlier migration away
 * from it) is deleted first, so it can never remove the copy installed
 * now; agents refuse older epochs.  Except in `now` mode the destination
 * gets the VM's configuration inactive: it attracts no traffic until the
 * switch-over, and the source is not touched. */

static void task_run_delete(struct core *, uint32_t task, uint64_t now);

/* True when it ran one: 'node' held a snapshot of the VM until now. */
static bool
run_pending_deletes_on(struct core *c, uint32_t vi, uint32_t node,
                       uint64_t now)
{
    if (!c->cfg.pending_check) {
        return false;
    }
    bool ran = false;
    uint32_t ti = c->vms[vi].task_head;
    while (ti != NIL) {
        uint32_t next = c->tasks[ti].vm_next;
        const struct task *t = &c->tasks[ti];
        if (t->node == node && t->kind == TASK_DELETE) {
            c->stats.tasks_cancelled++;
            task_run_delete(c, ti, now);
            ran = true;
        }
        ti = next;
    }
    return ran;
}

/* The epoch of the VM's next placement: above every one it ever had,
 * including those of aborted migrations. */
static uint64_t
next_epoch(const struct core *c, uint32_t vi)
{
    uint64_t e = c->vms[vi].epoch;
    const struct migration *m = vm_latest_mig(c, vi);
    if (m && m->pub.epoch > e) {
        e = m->pub.epoch;
    }
    return e + 1;
}

static struct migration *
step1_open(struct core *c, uint32_t vi, uint32_t to,
           const struct core_migrate_opts *o, uint64_t now)
{
    c->migs = xgrow(c->migs, &c->migs_cap, c->n_migs + 1, sizeof *c->migs);
    struct migration *m = &c->migs[c->n_migs++];
    memset(m, 0, sizeof *m);
    m->pub.id = c->n_migs;
    m->pub.vm = vi;
    m->pub.src = c->vms[vi].node;
    m->pub.dst = to;
    snprintf(m->pub.vm_name, sizeof m->pub.vm_name, "%s", c->vms[vi].name);
    snprintf(m->pub.src_name, sizeof m->pub.src_name, "%s",
             c->nodes[m->pub.src].name);
    snprintf(m->pub.dst_name, sizeof m->pub.dst_name, "%s",
             c->nodes[to].name);
    m->pub.epoch = next_epoch(c, vi);
    m->pub.phase = MIG_PREPARING; /* born here, not a transition */
    m->pub.switchover = o ? o->switchover : MIG_SW_NOW;
    m->pub.started_ms = now;
    m->timeout_task = m->delete_task = m->deadline_task = NIL;
    m->pub.held_for = CORE_NONE;
    c->stats.migrations_by_phase[MIG_PREPARING]++;
    c->vms[vi].migration = m->pub.id;
    return m;
}

/* The INSTALL flags of the destination's inactive copy. */
static unsigned
prepared_flags(const struct migration *m)
{
    /* `lossless` watches too: if the VM resumes at the destination before
     * the network was switched (the hypervisor did not wait), the first
     * frame switches it as in `rarp`. */
    return CORE_EMIT_INACTIVE
           | (m->pub.switchover == MIG_SW_RARP
                      || m->pub.switchover == MIG_SW_LOSSLESS
                  ? CORE_EMIT_ON_FRAME
                  : 0);
}

static void
emit_prepared_copy(struct core *c, struct migration *m)
{
    uint32_t vi = m->pub.vm;
    core_emit_flags(c, INSTR_INSTALL, m->pub.dst, vi, m->pub.epoch,
                    &c->vms[vi].config, NIL, 0, core_vm_binding(c, vi),
                    prepared_flags(m));
    m->dst_seq = c->nodes[m->pub.dst].last_seq;
    m->dst_acked = false;
    core_node_wait(c, m->pub.dst, m->dst_seq, m->pub.id);
}

static void
step1_prepare(struct core *c, struct migration *m,
              const struct core_migrate_opts *o, uint64_t now)
{
    uint64_t deadline = o->prepare_deadline_ms
                            ? o->prepare_deadline_ms
                            : CORE_PREPARE_DEADLINE_DEFAULT_MS;
    m->pub.prepare_deadline_ms = now + deadline;
    emit_prepared_copy(c, m);

    uint32_t ti = core_task_alloc(c);
    struct task *t = &c->tasks[ti];
    t->id = c->next_task_id++;
    t->kind = TASK_PREPARE_DEADLINE;
    t->vm = m->pub.vm;
    t->node = m->pub.dst;
    t->epoch = m->pub.epoch;
    t->migration = m->pub.id;
    t->target = NIL;
    t->due = m->pub.prepare_deadline_ms;
    m->deadline_task = ti;
    core_task_link(c, ti);
}

static void
mark_prepared(struct core *c, struct migration *m, uint64_t now)
{
    (void) c;
    m->pub.prepared_ms = now ? now : 1;
}

/* ==== Steps 2-4: Switch-over =============================================
 * The VM is placed on the destination with its new epoch and INSTALLed
 * there active (step 2); the gateway entry moves (step 3); the source's
 * snapshot relays to the destination (step 4).  The snapshot is what the
 * source holds now, binding included (I3: the deletion of step 6 removes
 * exactly this, never a configuration written later).  Keeps I5: every
 * older relay of the VM still pending now points at the newest node. */

/* What one switch-over carries from step to step. */
struct mig_move {
    uint32_t vm, src, dst;
    uint64_t old_epoch, new_epoch;
    struct mn_config snapshot;
    struct binding *snap_binding; /* owned; goes to the DELETE task */
    unsigned relay_flags; /* CORE_EMIT_ACTIVATED or 0 */
};

static void
step2_place(struct core *c, const struct mig_move *mv, struct migration *m)
{
    uint32_t vi = mv->vm, to = mv->dst;
    struct vm *v = &c->vms[vi];
    v->epoch = mv->new_epoch;
    core_vm_place(c, vi, to);
    core_binding_follow(c, vi);
    v = &c->vms[vi];
    core_emit_flags(c, INSTR_INSTALL, to, vi, mv->new_epoch, &v->config, NIL,
                    0, core_vm_binding(c, vi),
                    core_mig_install_flags(c, vi, to));
    m->dst_seq = c->nodes[to].last_seq;
    m->dst_acked = false;
    core_node_wait(c, to, m->dst_seq, m->pub.id);
}

/* Step 3: nodes learn the move by push or poll; until they do, step 4's
 * relay keeps I1. */
static void
step3_gateway(struct core *c, const struct mig_move *mv,
              struct migration *m)
{
    core_gateway_touch(c, mv->vm);
    m->pub.map_version = c->vms[mv->vm].map_version;
}

/* Points every pending relay of 'vi' other than towards 'to' at 'to';
 * 'flags' as step4_relay's. */
static void
retarget_relays(struct core *c, uint32_t vi, uint32_t to, uint64_t epoch,
                unsigned flags)
{
    if (!c->cfg.retarget) {
        return;
    }
    for (uint32_t ti = c->vms[vi].task_head; ti != NIL;
         ti = c->tasks[ti].vm_next) {
        struct task *t = &c->tasks[ti];
        if (t->kind != TASK_DELETE || t->target == to || t->node == to) {
            continue;
        }
        t->target = to;
        t->target_epoch = epoch;
        c->stats.relays_retargeted++;
        core_persist_task(c, ti);
        core_emit_flags(c, INSTR_RELAY, t->node, vi, t->epoch, &t->snapshot,
                        to, epoch, t->snap, flags);
    }
}

static void
step4_relay(struct core *c, const struct mig_move *mv, struct migration *m)
{
    uint32_t vi = mv->vm, to = mv->dst;
    /* Older relays first, so the new snapshot is not retargeted. */
    retarget_relays(c, vi, to, mv->new_epoch, mv->relay_flags);
    if (c->cfg.relay) {
        core_emit_flags(c, INSTR_RELAY, mv->src, vi, mv->old_epoch,
                        &mv->snapshot, to, mv->new_epoch, mv->snap_binding,
                        mv->relay_flags);
        m->src_seq = c->nodes[mv->src].last_seq;
        m->src_acked = false;
        core_node_wait(c, mv->src, m->src_seq, m->pub.id);
    } else {
        m->src_acked = true;
    }
}

/* The tasks of a switch-over: its DELETE exists from now on, so a crash
 * cannot lose it (I7), but is scheduled only at RELAYING once the VM runs
 * at the destination (step 5); the PREPARE_TIMEOUT bounds the wait for
 * the agents' confirmations. */
static void
switch_tasks_create(struct core *c, const struct mig_move *mv,
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
    t->target = NIL;
    t->due = now + c->cfg.prepare_timeout_ms;
    m->timeout_task = ti;
    core_task_link(c, ti);
}

static void
step2to4_switch_over(struct core *c, struct migration *m, uint64_t now)
{
    uint64_t id = m->pub.id;
    task_free_ref(c, &m->deadline_task);
    struct mig_move mv = {.vm = m->pub.vm, .dst = m->pub.dst};
    bool dst_relayed = run_pending_deletes_on(c, mv.vm, mv.dst, now);
    m = core_mig_get(c, id);
    /* The relays may leave before the commit (core_instr.activated) once
     * the VM runs at the destination: after its frame there, or a
     * `manual` or `rarp` call.  Not after a `now` call, made while the VM
     * pauses (its caller may resume it at the source if the commit
     * fails), nor while the destination still relayed the VM (the DELETE
     * above, which waits for the commit): the two nodes would relay to
     * each other until it lands -- unless a frame came, which the
     * destination's agent reports only once its own relay is gone. */
    enum mig_switchover sw = m->pub.switchover;
    if (m->on_frame || (!dst_relayed && (sw == MIG_SW_MANUAL
                                         || sw == MIG_SW_RARP))) {
        mv.relay_flags = CORE_EMIT_ACTIVATED;
    }
    const struct vm *v = &c->vms[mv.vm];
    mv.src = v->node;
    mv.snapshot = v->config;
    mv.snap_binding = core_binding_snapshot(c, mv.vm);
    mv.old_epoch = v->epoch;
    mv.new_epoch = m->pub.epoch;
    m->pub.switched_ms = now ? now : 1;
    if (m->pub.switchover != MIG_SW_LOSSLESS) {
        m->pub.activated_ms = m->pub.switched_ms;
    }
    step2_place(c, &mv, m);
    step3_gateway(c, &mv, m);
    step4_relay(c, &mv, m);
    switch_tasks_create(c, &mv, m, now);
    core_persist_vm(c, mv.vm);
    core_persist_meta(c);
}

/* Both confirmations in: step 5. */
static void
confirm_if_acked(struct core *c, struct migration *m, uint64_t now)
{
    if (mig_switched(m) && m->dst_acked && m->src_acked
        && (m->pub.phase == MIG_PREPARING || m->pub.phase == MIG_PREPARED)) {
        mig_transition(c, m, MIG_EV_CONFIRMED, now);
    }
}

/* ---- Starting ---- */

enum core_err
core_migrate_opts(struct core *c, uint32_t vi, uint32_t from, uint32_t to,
                  const struct core_migrate_opts *o, uint64_t now,
                  struct core_migrate_result *res)
{
    /* Validate everything before touching anything. */
    enum core_err err = core_migrate_opts_check(c, vi, from, to, o);
    if (err) {
        return err;
    }
    bool now_mode = !o || o->switchover == MIG_SW_NOW;
    struct migration *m = step1_open(c, vi, to, o, now);
    uint64_t id = m->pub.id;
    if (now_mode) {
        mig_transition(c, m, MIG_EV_SWITCH, now);
    } else {
        /* A snapshot of the VM still pending on 'to' keeps relaying for
         * stale senders until the switch-over runs its deletion (I4 then:
         * step2to4_switch_over); the agent keeps that relay under the
         * inactive copy (docs/agent-protocol.md). */
        step1_prepare(c, m, o, now);
        core_persist_vm(c, vi);
        core_persist_mig(c, m);
        core_persist_meta(c);
    }
    m = core_mig_get(c, id);
    if (c->sink.migration) {
        c->sink.migration(c->sink.aux, &m->pub);
    }
    if (res) {
        res->migration = id;
        res->epoch = m->pub.epoch;
        res->delay_ms = core_delay_ms(c);
    }
    /* With no relay to wait for, the destination may already be enough. */
    confirm_if_acked(c, m, now);
    return CORE_E_OK;
}

enum core_err
core_migrate(struct core *c, uint32_t vi, uint32_t from, uint32_t to,
             uint64_t now, struct core_migrate_result *res)
{
    return core_migrate_opts(c, vi, from, to, NULL, now, res);
}

/* ---- Switch-over and activation ---- */

enum core_err
core_migration_switchover_check(const struct core *c, uint64_t id)
{
    if (id < 1 || id > c->n_migs) {
        return CORE_E_UNKNOWN_MIGRATION;
    }
    const struct migration *m = &c->migs[id - 1];
    if (m->pub.phase == MIG_ABORTED) {
        return CORE_E_ABORTED;
    }
    if (mig_unswitched(m) && !core_vm_live(c, m->pub.vm)) {
        return CORE_E_UNKNOWN_VM;
    }
    return CORE_E_OK;
}

/* Switches over if not yet, then counts the VM as running at the
 * destination -- at once when it 'resumed' there (its first frame), else
 * only if it had switched before (lossless: the second call, after the
 * destination resumed; in every other mode the switch-over activates). */
static void
mig_switch_and_activate(struct core *c, struct migration *m, bool resumed,
                        uint64_t now)
{
    uint64_t id = m->pub.id;
    bool was_switched = !mig_unswitched(m);
    if (!was_switched) {
        m->on_frame = resumed;
        mig_transition(c, m, MIG_EV_SWITCH, now);
        m = core_mig_get(c, id);
        m->on_frame = false;
    }
    if ((resumed || was_switched) && !mig_activated(m)
        && m->pub.phase != MIG_CLEANING && m->pub.phase != MIG_CLEANED) {
        mig_transition(c, m, MIG_EV_ACTIVATED, now);
    }
}

enum core_err
core_migration_switchover(struct core *c, uint64_t id, uint64_t now)
{
    enum core_err err = core_migration_switchover_check(c, id);
    if (err) {
        return err;
    }
    mig_switch_and_activate(c, &c->migs[id - 1], false, now);
    return CORE_E_OK;
}

/* The migration of 'vi' to 'node' at 'epoch', if it is the VM's latest. */
static struct migration *
activation_target(const struct core *c, uint32_t node, uint32_t vi,
                  uint64_t epoch)
{
    if (!core_vm_live(c, vi)) {
        return NULL;
    }
    const struct migration *m = vm_latest_mig(c, vi);
    if (!m || m->pub.dst != node || m->pub.epoch != epoch) {
        return NULL;
    }
    return (struct migration *) m;
}

enum core_err
core_node_activated_check(const struct core *c, uint32_t node, uint32_t vi,
                          uint64_t epoch)
{
    if (!core_node_live(c, node)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (!core_vm_live(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    return activation_target(c, node, vi, epoch) ? CORE_E_OK
                                                 : CORE_E_NOT_PREPARING;
}

enum core_err
core_node_activated(struct core *c, uint32_t node, uint32_t vi,
                    uint64_t epoch, uint64_t now)
{
    enum core_err err = core_node_activated_check(c, node, vi, epoch);
    if (err) {
        return err;
    }
    core_silence_heard(c, node, now);
    struct migration *m = activation_target(c, node, vi, epoch);
    /* An aborted migration stays aborted: the agent is corrected by the
     * DELETE it was sent. */
    if (m->pub.phase == MIG_ABORTED) {
        return CORE_E_OK;
    }
    /* `manual` waits for its call; a frame is not a switch-over there. */
    if (mig_unswitched(m) && m->pub.switchover == MIG_SW_MANUAL) {
        return CORE_E_OK;
    }
    mig_switch_and_activate(c, m, true, now);
    return CORE_E_OK;
}

unsigned
core_mig_install_flags(const struct core *c, uint32_t vi, uint32_t node)
{
    const struct migration *m = vm_latest_mig(c, vi);
    if (m && m->pub.dst == node && m->pub.switchover == MIG_SW_LOSSLESS
        && mig_switched(m) && !mig_activated(m)
        && m->pub.phase != MIG_ABORTED) {
        return CORE_EMIT_ON_FRAME;
    }
    return 0;
}

/* ---- Abort ---- */

enum core_err
core_migration_abort_check(const struct core *c, uint64_t id)
{
    if (id < 1 || id > c->n_migs) {
        return CORE_E_UNKNOWN_MIGRATION;
    }
    const struct migration *m = &c->migs[id - 1];
    if (m->pub.phase == MIG_ABORTED) {
        return CORE_E_OK;
    }
    if (mig_activated(m) || m->pub.phase == MIG_CLEANING
        || m->pub.phase == MIG_CLEANED) {
        return CORE_E_ACTIVATED;
    }
    return CORE_E_OK;
}

/* Deletes the destination's copy: exactly the epoch it was given.  A
 * snapshot of the VM still pending there (the VM left that node earlier,
 * its relay lived on under the copy) is installed and relaying again. */
static void
delete_dst_copy(struct core *c, const struct migration *m)
{
    uint32_t vi = m->pub.vm, dst = m->pub.dst;
    core_emit(c, INSTR_DELETE, dst, vi, m->pub.epoch, &c->vms[vi].config,
              NIL, 0, core_vm_binding(c, vi));
    for (uint32_t ti = c->vms[vi].task_head; ti != NIL;
         ti = c->tasks[ti].vm_next) {
        const struct task *t = &c->tasks[ti];
        if (t->kind != TASK_DELETE || t->node != dst) {
            continue;
        }
        core_emit(c, INSTR_INSTALL, dst, vi, t->epoch, &t->snapshot, NIL, 0,
                  t->snap);
        if (t->target != NIL) {
            core_emit(c, INSTR_RELAY, dst, vi, t->epoch, &t->snapshot,
                      t->target, t->target_epoch, t->snap);
        }
    }
}

/* After a `lossless` switch-over the VM goes back to its source with a
 * new epoch, and every relay of it points there again. */
static void
revert_switch_over(struct core *c, struct migration *m)
{
    uint32_t vi = m->pub.vm, src = m->pub.src;
    task_free_ref(c, &m->delete_task); /* the source's snapshot stays */
    struct vm *v = &c->vms[vi];
    v->epoch = m->pub.epoch + 1;
    core_vm_place(c, vi, src);
    core_binding_follow(c, vi);
    v = &c->vms[vi];
    core_emit(c, INSTR_INSTALL, src, vi, v->epoch, &v->config, NIL, 0,
              core_vm_binding(c, vi));
    core_gateway_touch(c, vi);
    retarget_relays(c, vi, src, v->epoch, 0);
    core_persist_vm(c, vi);
    core_persist_meta(c);
}

static void
abort_migration(struct core *c, struct migration *m, uint64_t now)
{
    task_free_ref(c, &m->deadline_task);
    task_free_ref(c, &m->timeout_task);
    if (core_vm_live(c, m->pub.vm)) {
        if (mig_switched(m)) {
            revert_switch_over(c, m);
        }
        delete_dst_copy(c, m);
    }
    m->pub.aborted_ms = now ? now : 1;
}

static void
set_reason(struct migration *m, const char *reason)
{
    snprintf(m->pub.abort_reason, sizeof m->pub.abort_reason, "%s",
             reason && *reason ? reason : "aborted");
}

enum core_err
core_migration_abort(struct core *c, uint64_t id, const char *reason,
                     uint64_t now)
{
    enum core_err err = core_migration_abort_check(c, id);
    if (err) {
        return err;
    }
    struct migration *m = &c->migs[id - 1];
    if (m->pub.phase == MIG_ABORTED) {
        return CORE_E_OK;
    }
    set_reason(m, reason);
    mig_transition(c, m, MIG_EV_ABORT, now);
    return CORE_E_OK;
}

void
core_mig_deadline_run(struct core *c, uint32_t ti, uint64_t now)
{
    struct migration *m = core_mig_get(c, c->tasks[ti].migration);
    core_task_free(c, ti);
    if (!m) {
        return;
    }
    if (m->deadline_task == ti) {
        m->deadline_task = NIL;
    }
    if (mig_unswitched(m)) {
        c->stats.migrations_aborted_deadline++;
        set_reason(m, "prepare_deadline");
        mig_transition(c, m, MIG_EV_ABORT, now);
    }
}

/* ==== Step 5: Schedule deletion ==========================================
 * Once both agents confirmed the switch-over (or the prepare timeout
 * passed) and the VM runs at the destination, the source's snapshot is
 * due for deletion after the dynamic delay: the slowest node's next
 * refresh plus propagation and a margin (I2).  Until the VM resumed
 * (`lossless`) nothing is deleted on the source, not even on early
 * acknowledgements.  The VM manager was answered long before (I6). */

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
schedule_deletion(struct core *c, struct migration *m, uint64_t now)
{
    m->pub.delay_ms = core_delay_ms(c);
    if (m->delete_task != NIL) {
        c->tasks[m->delete_task].hold_from = now;
        core_task_schedule(c, m->delete_task, now + m->pub.delay_ms);
    }
}

static void
step5_schedule_deletion(struct core *c, struct migration *m, uint64_t now)
{
    task_free_ref(c, &m->timeout_task);
    m->pub.relaying_ms = now ? now : 1;
    if (mig_activated(m)) {
        schedule_deletion(c, m, now);
    }
}

static void
step5_degraded(struct core *c, struct migration *m, uint64_t now)
{
    m->pub.degraded = true;
    c->stats.migrations_degraded++;
    step5_schedule_deletion(c, m, now);
}

static void
mark_activated(struct core *c, struct migration *m, uint64_t now)
{
    (void) c;
    m->pub.activated_ms = now ? now : 1;
}

static void
step5_activated(struct core *c, struct migration *m, uint64_t now)
{
    mark_activated(c, m, now);
    schedule_deletion(c, m, now);
}

void
core_mig_acked(struct core *c, struct migration *m, uint32_t node,
               uint64_t seq, uint64_t now)
{
    if (m->pub.phase == MIG_CLEANING) {
        if (m->pub.src == node && m->src_seq == seq) {
            mig_transition(c, m, MIG_EV_DELETE_CONFIRMED, now);
        }
        return;
    }
    if (m->pub.phase != MIG_PREPARING && m->pub.phase != MIG_PREPARED) {
        return; /* late: after the timeout, or aborted */
    }
    if (m->pub.dst == node && m->dst_seq == seq) {
        m->dst_acked = true;
    }
    if (m->pub.src == node && m->src_seq == seq) {
        m->src_acked = true;
    }
    if (!mig_switched(m)) {
        if (m->dst_acked && m->pub.phase == MIG_PREPARING) {
            mig_transition(c, m, MIG_EV_DST_READY, now);
        }
        return;
    }
    confirm_if_acked(c, m, now);
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
    if (!m) {
        return;
    }
    if (m->timeout_task == ti) {
        m->timeout_task = NIL;
    }
    if (mig_switched(m)
        && (m->pub.phase == MIG_PREPARING || m->pub.phase == MIG_PREPARED)) {
        mig_transition(c, m, MIG_EV_CONFIRM_TIMEOUT, now);
    }
}

/* ==== Step 6: Delete =====================================================
 * The snapshot goes when its delay ends, or earlier once every live node
 * acknowledged a map version >= the one of step 3 and the in-flight margin
 * passed (I2).  The DELETE removes exactly the snapshot (I3); the
 * migration is CLEANING until the source's agent confirmed it, then
 * CLEANED. */

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
        /* Held after a restart: its stored due time is not a bound, and
         * these acknowledgements came after the restart. */
        bool held = t->held;
        core_task_unhold(c, i);
        if (held) {
            t->hold_from = now;
        }
        if (due < t->due || held) {
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

/* The source's agent can still confirm a deletion: its node exists (a
 * node is removed only once nothing of it is left, or forced, which ends
 * the migrations waiting for it: nodes.c). */
static bool
src_can_confirm(const struct core *c, const struct migration *m)
{
    return core_node_live(c, m->pub.src);
}

static void
step6_cleaning(struct core *c, struct migration *m, uint64_t now)
{
    task_free_ref(c, &m->timeout_task);
    m->delete_task = NIL;
    if (!m->pub.relaying_ms) {
        m->pub.relaying_ms = now ? now : 1;
    }
    m->pub.cleaning_ms = now ? now : 1;
    if (src_can_confirm(c, m)) {
        m->src_seq = c->nodes[m->pub.src].last_seq;
        core_node_wait(c, m->pub.src, m->src_seq, m->pub.id);
    }
}

static void
step6_cleaned(struct core *c, struct migration *m, uint64_t now)
{
    (void) c;
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
    core_task_free(c, ti); /* may forget a removed source node */
    if (m && m->delete_task == ti) {
        uint64_t id = m->pub.id;
        mig_transition(c, m, MIG_EV_SNAPSHOT_DELETED, now);
        m = core_mig_get(c, id);
        if (m->pub.phase == MIG_CLEANING && !src_can_confirm(c, m)) {
            /* Nobody is left to confirm: nothing is left there. */
            mig_transition(c, m, MIG_EV_DELETE_CONFIRMED, now);
        }
    }
}

void
core_mig_delete_run(struct core *c, uint32_t ti, uint64_t now)
{
    task_run_delete(c, ti, now);
}

void
core_mig_delete_due(struct core *c, uint32_t ti, uint64_t now)
{
    if (!core_silence_hold(c, ti, now)) {
        task_run_delete(c, ti, now);
    }
}

void
core_mig_vm_removed(struct core *c, uint32_t vi, uint64_t now)
{
    struct migration *m = core_mig_get(c, c->vms[vi].migration);
    if (m && mig_unswitched(m)) {
        set_reason(m, "vm_removed");
        mig_transition(c, m, MIG_EV_ABORT, now);
    }
    while (c->vms[vi].task_head != NIL) {
        uint32_t ti = c->vms[vi].task_head;
        if (c->tasks[ti].kind == TASK_DELETE) {
            task_run_delete(c, ti, now);
        } else {
            struct task *t = &c->tasks[ti];
            struct migration *tm = core_mig_get(c, t->migration);
            if (tm && tm->timeout_task == ti) {
                tm->timeout_task = NIL;
            }
            if (tm && tm->deadline_task == ti) {
                tm->deadline_task = NIL;
            }
            core_task_free(c, ti);
        }
    }
}

/* ---- Agents: resync and updates ---- */

static bool
mig_open(const struct migration *m)
{
    return m->pub.phase != MIG_CLEANED && m->pub.phase != MIG_ABORTED;
}

void
core_mig_resync(struct core *c, uint32_t ni)
{
    while (c->migs_open_from < c->n_migs
           && !mig_open(&c->migs[c->migs_open_from])) {
        c->migs_open_from++;
    }
    for (size_t i = c->migs_open_from; i < c->n_migs; i++) {
        struct migration *m = &c->migs[i];
        if (!mig_open(m) || !core_vm_live(c, m->pub.vm)) {
            continue;
        }
        if (mig_unswitched(m) && m->pub.dst == ni) {
            emit_prepared_copy(c, m);
        }
    }
    /* Everything the node was sent is in this resync.  The resync itself
     * takes one more seq (the resync_end's): its acknowledgement confirms
     * the whole state -- that a snapshot is gone, too, even when the
     * resync sent nothing at all. */
    uint64_t seq = ++c->nodes[ni].last_seq;
    for (size_t i = c->migs_open_from; i < c->n_migs; i++) {
        struct migration *m = &c->migs[i];
        bool waits = false;
        if (m->pub.phase == MIG_CLEANING && m->pub.src == ni) {
            m->src_seq = seq;
            waits = true;
        } else if (m->pub.phase == MIG_PREPARING
                   || m->pub.phase == MIG_PREPARED) {
            if (m->pub.dst == ni && !m->dst_acked) {
                m->dst_seq = seq;
                waits = true;
            }
            if (mig_switched(m) && m->pub.src == ni && !m->src_acked) {
                m->src_seq = seq;
                waits = true;
            }
        }
        if (waits) {
            core_node_wait(c, ni, seq, m->pub.id);
        }
    }
}

void
core_mig_node_removed(struct core *c, uint32_t ni, uint64_t now)
{
    for (size_t i = c->migs_open_from; i < c->n_migs; i++) {
        struct migration *m = &c->migs[i];
        if (m->pub.phase == MIG_CLEANING && m->pub.src == ni) {
            mig_transition(c, m, MIG_EV_DELETE_CONFIRMED, now);
        }
    }
}

void
core_vm_emit_install(struct core *c, uint32_t vi)
{
    const struct vm *v = &c->vms[vi];
    core_emit_flags(c, INSTR_INSTALL, v->node, vi, v->epoch, &v->config, NIL,
                    0, core_vm_binding(c, vi),
                    core_mig_install_flags(c, vi, v->node));
    struct migration *m = core_mig_get(c, c->vms[vi].migration);
    if (m && mig_unswitched(m)) {
        emit_prepared_copy(c, m);
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
