/* world_vmm.c: the VM manager and the migration windows of one simulated
 * data centre.
 *
 * Issues the workload's jobs to the core (migrate, pause, resume, next
 * hop) and opens and closes the windows inside which a VM's packets are
 * simulated one by one.  A window must never close while anything about
 * its VM can still change. */
#include <stdlib.h>

#include "mignet/core.h"
#include "sim/rng.h"
#include "sim/workload.h"
#include "sim/world-private.h"

#define RETRY_US 1000

/* ---- migration windows ---- */

static void
window_open(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (v->hot) {
        return;
    }
    v->hot = 1;
    if (++w->n_hot > w->r->max_hot) {
        w->r->max_hot = w->n_hot;
    }
    if (w->exact) {
        return;
    }
    uint32_t k = w->wl->k;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t s = vm * k + i;
        world_flush_stream(w, s, w->now, false);
        uint64_t t = tick_at_or_after(w->now + 1,
                                      sim_stream_phase(w->wl, s),
                                      w->wl->period_us);
        if (t < w->wl->t_end_us) {
            push(w, t, EV_TICK, s, 0, 0, v->gen, 0);
        }
    }
}

static void
task_wait_add(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (v->flags & VMF_TASK_WAIT) {
        return;
    }
    if (!grow((void **)&w->task_wait, &w->cap_task_wait,
              w->n_task_wait + 1, sizeof *w->task_wait)) {
        w->nomem = true;
        return;
    }
    v->flags |= VMF_TASK_WAIT;
    w->task_wait[w->n_task_wait++] = vm;
}

/* Closes the window of 'vm' once nothing about it can change any more:
 * running, out of ovn's dual binding, no migration of the VM manager in
 * flight, no instruction or report in flight, its migration CLEANED or
 * ABORTED, no pending core task, and every node's map holds its newest
 * entry.  From then on every packet for it goes to its node and meets
 * the same fate. */
void
world_try_cool(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (!v->hot || v->pause_start != RUNNING || v->instr_inflight
        || v->dst != NIL || w->now < v->dual_until
        || (v->migration && v->phase != MIG_CLEANED
            && v->phase != MIG_ABORTED)
        || hist_at(w, v->hist)->version > w->v_min) {
        return;
    }
    struct core_vm_info info;
    if (!core_vm_info(w->core, vm, &info)) {
        return;
    }
    if (info.n_tasks) {
        task_wait_add(w, vm);
        return;
    }
    const struct agent_ent *e = agent_find(w, vm, v->node, NULL);
    if (e && (!e->has_config || e->inactive)) {
        return; /* a relay-only entry where it runs: keep simulating */
    }
    if (e) {
        v->flags &= (uint8_t)~VMF_LOST_COLD;
    } else {
        v->flags |= VMF_LOST_COLD;
    }
    v->hot = 0;
    w->n_hot--;
    if (!w->exact) {
        v->gen++;
    }
}

static void
recheck_task_wait(struct world *w)
{
    /* world_try_cool() re-adds the VMs that still wait: work on a copy. */
    uint32_t *list = w->task_wait;
    size_t n = w->n_task_wait;
    w->task_wait = NULL;
    w->n_task_wait = w->cap_task_wait = 0;
    for (size_t i = 0; i < n; i++) {
        w->vms[list[i]].flags &= (uint8_t)~VMF_TASK_WAIT;
    }
    for (size_t i = 0; i < n; i++) {
        world_try_cool(w, list[i]);
    }
    free(list);
}

void
world_after_core(struct world *w)
{
    world_arm_core(w);
    uint64_t tasks = core_n_tasks(w->core);
    if (tasks != w->last_tasks && w->n_task_wait) {
        recheck_task_wait(w);
    }
    w->last_tasks = tasks;
}

/* ---- VM manager ---- */

static uint32_t
pick_dst(const struct world *w, uint32_t job, uint32_t hop, uint32_t cur)
{
    const struct sim_job *j = &w->wl->jobs[job];
    uint32_t n = w->wl->n_nodes;
    if (w->wl->p.pattern == SIM_PINGPONG && hop == 1) {
        return w->jobs[job].origin;
    }
    uint32_t lo = j->dst_lo < n ? j->dst_lo : 0;
    uint64_t h = sim_hash3(w->wl->p.seed, 0xd57 + (uint64_t)hop, job);
    uint32_t span = n - lo;
    uint32_t d = lo + (uint32_t)(h % span);
    if (d == cur) {
        d = span > 1 ? lo + (d - lo + 1) % span : (cur + 1) % n;
    }
    return d;
}

/* The VM's job is over: the next job waiting for the VM may start. */
static void
job_finish(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    w->jobs_done++;
    v->job = NIL;
    if (v->wait_head != NIL) {
        uint32_t n = v->wait_head;
        v->wait_head = w->jobs[n].next;
        if (v->wait_head == NIL) {
            v->wait_tail = NIL;
        }
        v->job = n; /* reserved: keeps the plan's order on this VM */
        push(w, w->now, EV_ISSUE, n, 0, 0, 0, 0);
    }
}

static void
job_next(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    uint32_t j = v->job;
    struct job_state *js = &w->jobs[j];
    js->done++;
    if (js->done < w->wl->jobs[j].hops) {
        push(w, w->now + w->gap_us, EV_ISSUE, j, 0, 0, 0, 0);
        return;
    }
    job_finish(w, vm);
}

/* Accounts the streams 'vm' sends on up to now, before it pauses or
 * resumes (a paused sender does not send). */
static void
flush_senders(struct world *w, uint32_t vm)
{
    if (w->exact) {
        return;
    }
    const struct sim_workload *wl = w->wl;
    for (uint32_t i = wl->rev_off[vm]; i < wl->rev_off[vm + 1]; i++) {
        uint32_t s = wl->rev[i];
        if (!simulated(w, s / wl->k)) {
            world_flush_stream(w, s, w->now, false);
        }
    }
}

/* Is this migration one the VM manager cancels (--abort-rate)? */
static bool
cancelled(const struct world *w, uint32_t job, uint32_t hop)
{
    if (w->p->abort_rate <= 0) {
        return false;
    }
    uint64_t h = sim_hash3(w->wl->p.seed, 0xab0 + (uint64_t)hop, job);
    return (double)(h >> 11) * 0x1p-53 < w->p->abort_rate;
}

/* The prepare deadline the VM manager asks for: the default, or longer
 * when its pre-copy and pause could outlast it. */
static uint64_t
prepare_deadline_ms(const struct world *w)
{
    uint64_t need = 2 * ((uint64_t)w->p->precopy_ms + w->p->pause_ms)
                    + 1000;
    if (need <= CORE_PREPARE_DEADLINE_DEFAULT_MS) {
        return 0;
    }
    return need < CORE_PREPARE_DEADLINE_MAX_MS ? need
                                               : CORE_PREPARE_DEADLINE_MAX_MS;
}

/* The VM stops on its source; it will resume on its destination. */
static void
pause_begin(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    struct core_migration m;
    flush_senders(w, vm); /* account traffic up to now, then change */
    v->node = v->dst;
    if (core_migration_get(w->core, v->migration, &m)) {
        v->epoch = m.epoch;
    }
    v->pause_start = w->now;
    v->flags &= (uint8_t)~VMF_PAUSE_OVER;
    push(w, w->now + w->pause_us, EV_PAUSE_END, vm,
         (uint32_t)v->migration, 0, 0, 0);
}

/* ovn: the VM is bound to both nodes from the switch until it resumed. */
static void
dual_binding(struct world *w, uint32_t vm)
{
    if (w->push_mode == PUSH_OVN) {
        w->vms[vm].dual_until = UINT64_MAX;
    }
}

/* Has the VM's latest migration ended from mignet's view: activated,
 * or aborted?  Until then the core may still place the VM on the source
 * (rarp: the activation report is on its way) and would answer a
 * migration back there with same_node rather than in_progress. */
static bool
activated(const struct world *w, uint32_t vm)
{
    struct core_migration m;
    if (!w->vms[vm].migration
        || !core_migration_get(w->core, w->vms[vm].migration, &m)) {
        return true;
    }
    return m.activated_ms || m.phase == MIG_ABORTED;
}

void
world_on_issue(struct world *w, const struct sim_ev *ev)
{
    uint32_t j = ev->a;
    const struct sim_job *job = &w->wl->jobs[j];
    uint32_t vm = job->vm;
    struct vm_state *v = &w->vms[vm];
    if (ev->x && w->next_plan < w->wl->n_jobs) {
        push(w, w->wl->jobs[w->next_plan].planned_us, EV_ISSUE,
             w->next_plan, 0, 0, 1, 0);
        w->next_plan++;
    }
    if (v->job != NIL && v->job != j) {
        w->jobs[j].next = NIL;
        if (v->wait_tail == NIL) {
            v->wait_head = j;
        } else {
            w->jobs[v->wait_tail].next = j;
        }
        v->wait_tail = j;
        return;
    }
    v->job = j;
    struct job_state *js = &w->jobs[j];
    if (js->done == 0) {
        js->origin = v->node;
    }
    uint32_t src = v->node;
    uint32_t dst = pick_dst(w, j, js->done, src);
    struct core_migrate_result res = {0};
    struct core_migrate_opts opts = {
        .switchover = w->sw,
        .prepare_deadline_ms = w->sw == MIG_SW_NOW ? 0
                                                   : prepare_deadline_ms(w),
    };
    enum core_err err = w->sw != MIG_SW_NOW && !activated(w, vm)
                            ? CORE_E_IN_PROGRESS
                            : core_migrate_opts(w->core, vm, CORE_NONE, dst,
                                                &opts, now_ms(w), &res);
    if (err == CORE_E_IN_PROGRESS) {
        w->r->retries++;
        push(w, w->now + RETRY_US, EV_ISSUE, j, 0, 0, 0, 0);
        world_after_core(w);
        return;
    }
    if (err != CORE_E_OK) {
        w->r->migrate_errors++;
        world_after_core(w);
        job_next(w, vm);
        return;
    }
    w->r->migrations++;
    if (grow((void **)&w->mig_start, &w->mig_cap, (size_t)res.migration + 1,
             sizeof *w->mig_start) && !w->mig_start[res.migration]) {
        w->mig_start[res.migration] = w->now;
    }
    if (res.migration > v->migration) {
        v->migration = res.migration;
        v->phase = MIG_PREPARING;
    }
    window_open(w, vm);
    v->prev_node = src;
    v->dst = dst;
    v->flags &= (uint8_t)~VMF_ACT_GAP;
    if (w->sw == MIG_SW_NOW) {
        /* Prepared and switched at the pause, as today. */
        pause_begin(w, vm);
        dual_binding(w, vm);
    } else if (cancelled(w, j, js->done)) {
        push(w, w->now + w->precopy_us / 2, EV_ABORT, vm,
             (uint32_t)v->migration, 0, 0, 0);
    } else {
        push(w, w->now + w->precopy_us, EV_PRECOPY_END, vm,
             (uint32_t)v->migration, 0, 0, 0);
    }
    world_after_core(w);
}

/* The switch-over call of the VM manager (manual, lossless). */
static void
switch_over(struct world *w, uint32_t vm)
{
    if (core_migration_switchover(w->core, w->vms[vm].migration, now_ms(w))
        != CORE_E_OK) {
        w->r->core_errors++;
    }
    world_after_core(w);
}

/* Does the VM run on its destination before the network switched to it:
 * no relay at the source yet (or, without relays, no move in the map)? */
static bool
network_behind(struct world *w, uint32_t vm)
{
    const struct vm_state *v = &w->vms[vm];
    if (!core_get_config(w->core)->relay) {
        return hist_at(w, v->hist)->node != v->node;
    }
    const struct agent_ent *e = agent_find(w, vm, v->prev_node, NULL);
    return e && e->relay != v->node;
}

/* lossless: what the destination held reaches the VM, in order. */
static void
queue_deliver(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (v->queue == NIL) {
        return;
    }
    struct queue_rec *q = queue_at(w, v->queue);
    w->r->delivered += q->n;
    w->queued_now -= q->n;
    uint64_t max = w->now - q->first_us;
    if (max > w->queued_delay_max_us) {
        w->queued_delay_max_us = max;
    }
    w->queued_delay_sum_us += q->n * w->now - q->sum_us;
    pool_free(&w->queue, v->queue);
    v->queue = NIL;
}

bool
world_queue_packet(struct world *w, uint32_t vm, uint32_t node)
{
    struct vm_state *v = &w->vms[vm];
    if (w->sw != MIG_SW_LOSSLESS || v->dst != node) {
        return false;
    }
    const struct agent_ent *e = agent_find(w, vm, node, NULL);
    if (!e || !e->has_config || e->inactive || e->relay != NIL) {
        return false;
    }
    if (v->queue == NIL) {
        uint32_t i = pool_alloc(&w->queue);
        if (i == NIL) {
            w->nomem = true;
            return false;
        }
        struct queue_rec *q = queue_at(w, i);
        q->n = 0;
        q->first_us = w->now;
        q->sum_us = 0;
        v->queue = i;
    }
    struct queue_rec *q = queue_at(w, v->queue);
    q->n++;
    q->sum_us += w->now;
    w->r->queued++;
    w->queued_now++;
    return true;
}

/* The VM runs on its destination from now on. */
static bool
vm_resume(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (v->pause_start == RUNNING) {
        return false;
    }
    flush_senders(w, vm); /* skips the pause */
    v->pause_start = RUNNING;
    w->last_progress = w->now;
    if (w->push_mode == PUSH_OVN) {
        /* The destination activates (RARP); every node hears it a control
         * latency later and stops cloning. */
        v->dual_until = w->now + w->lat_us;
        push(w, v->dual_until, EV_CHECK, vm, 0, 0, 0, 0);
    }
    queue_deliver(w, vm);
    if (w->sw != MIG_SW_NOW && network_behind(w, vm)) {
        v->flags |= VMF_ACT_GAP;
    }
    v->dst = NIL;
    /* Its first frame (RARP): a watching agent activates. */
    world_frame_seen(w, vm, v->node);
    return true;
}

void
world_on_resume(struct world *w, uint32_t vm)
{
    if (vm_resume(w, vm)) {
        world_try_cool(w, vm);
        job_next(w, vm);
    }
}

void
world_on_pause_end(struct world *w, const struct sim_ev *ev)
{
    uint32_t vm = ev->a;
    struct vm_state *v = &w->vms[vm];
    if (v->pause_start == RUNNING || (uint32_t)v->migration != ev->b) {
        return;
    }
    switch (w->sw) {
    case MIG_SW_NOW:
        /* Resumes once the core confirmed the switch (nova's
         * vif-plugged). */
        if (v->phase != MIG_PREPARING) {
            world_on_resume(w, vm);
        } else {
            v->flags |= VMF_PAUSE_OVER;
        }
        return;
    case MIG_SW_MANUAL:
        /* QEMU's `completed`: the adapter switches, the VM resumes. */
        dual_binding(w, vm);
        switch_over(w, vm);
        world_on_resume(w, vm);
        return;
    case MIG_SW_RARP:
        world_on_resume(w, vm); /* the agent activates on its frame */
        return;
    case MIG_SW_LOSSLESS:
        /* Switched before the pause: resume, then the activation call. */
        vm_resume(w, vm);
        switch_over(w, vm);
        world_try_cool(w, vm);
        job_next(w, vm);
        return;
    case MIG_N_SWITCHOVERS:
        break;
    }
}

/* Is the event's migration the VM's, still in its pre-copy (running on
 * its source, not paused yet)? */
static bool
in_precopy(const struct world *w, const struct sim_ev *ev)
{
    const struct vm_state *v = &w->vms[ev->a];
    return (uint32_t)v->migration == ev->b && v->dst != NIL
           && v->pause_start == RUNNING;
}

/* The pre-copy converged: the pause is due. */
void
world_on_precopy_end(struct world *w, const struct sim_ev *ev)
{
    uint32_t vm = ev->a;
    struct vm_state *v = &w->vms[vm];
    if (!in_precopy(w, ev)) {
        return;
    }
    if (w->sw != MIG_SW_LOSSLESS) {
        pause_begin(w, vm);
        return;
    }
    /* lossless: the adapter holds QEMU's convergence, switches the
     * network while the VM still runs on its source, and lets QEMU stop
     * it once the switch is confirmed (RELAYING). */
    v->flags |= VMF_HOLD;
    dual_binding(w, vm);
    switch_over(w, vm);
}

void
world_on_pause_start(struct world *w, const struct sim_ev *ev)
{
    if (in_precopy(w, ev)) {
        pause_begin(w, ev->a);
    }
}

/* A cancelled migration (QEMU's migrate_cancel in the pre-copy): the VM
 * keeps running on its source; the VM manager gives up the job. */
void
world_on_abort(struct world *w, const struct sim_ev *ev)
{
    uint32_t vm = ev->a;
    struct vm_state *v = &w->vms[vm];
    if (!in_precopy(w, ev)) {
        return;
    }
    if (core_migration_abort(w->core, v->migration, "cancelled",
                             now_ms(w)) != CORE_E_OK) {
        w->r->core_errors++;
    }
    v->dst = NIL;
    w->last_progress = w->now;
    world_after_core(w);
    world_try_cool(w, vm);
    job_finish(w, vm);
}
