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
 * running, out of ovn's dual binding, no instruction in flight, its
 * migration CLEANED, no pending
 * core task, and every node's map holds its newest entry.  From then on
 * every packet for it goes to its node and meets the same fate. */
void
world_try_cool(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (!v->hot || v->pause_start != RUNNING || v->instr_inflight
        || w->now < v->dual_until
        || (v->migration && v->phase != MIG_CLEANED)
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
    if (e && !e->has_config) {
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
    enum core_err err = core_migrate(w->core, vm, CORE_NONE, dst, now_ms(w),
                                     &res);
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
    w->r->after_horizon += w->traffic_over;
    if (grow((void **)&w->mig_start, &w->mig_cap, (size_t)res.migration + 1,
             sizeof *w->mig_start) && !w->mig_start[res.migration]) {
        w->mig_start[res.migration] = w->now;
    }
    if (res.migration > v->migration) {
        v->migration = res.migration;
        v->phase = MIG_PREPARING;
    }
    /* Account traffic up to now with the old state, then change it. */
    window_open(w, vm);
    if (!w->exact) {
        const struct sim_workload *wl = w->wl;
        for (uint32_t i = wl->rev_off[vm]; i < wl->rev_off[vm + 1]; i++) {
            uint32_t s = wl->rev[i];
            if (!simulated(w, s / wl->k)) {
                world_flush_stream(w, s, w->now, false);
            }
        }
    }
    v->prev_node = src;
    v->node = dst;
    v->epoch = res.epoch;
    v->pause_start = w->now;
    if (w->push_mode == PUSH_OVN) {
        v->dual_until = UINT64_MAX; /* bound to source and destination */
    }
    v->flags &= (uint8_t)~VMF_PAUSE_OVER;
    world_vfifo_push(w, hist_at(w, v->hist)->version, vm);
    push(w, w->now + w->pause_us, EV_PAUSE_END, vm,
         (uint32_t)v->migration, 0, 0, 0);
    world_after_core(w);
}

void
world_on_resume(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (v->pause_start == RUNNING) {
        return;
    }
    if (!w->exact) {
        const struct sim_workload *wl = w->wl;
        for (uint32_t i = wl->rev_off[vm]; i < wl->rev_off[vm + 1]; i++) {
            uint32_t s = wl->rev[i];
            if (!simulated(w, s / wl->k)) {
                world_flush_stream(w, s, w->now, false); /* skips the pause */
            }
        }
    }
    v->pause_start = RUNNING;
    w->last_progress = w->now;
    if (w->push_mode == PUSH_OVN) {
        /* The destination activates (RARP); every node hears it a control
         * latency later and stops cloning. */
        v->dual_until = w->now + w->lat_us;
        push(w, v->dual_until, EV_CHECK, vm, 0, 0, 0, 0);
    }
    world_try_cool(w, vm);
    job_next(w, vm);
}

void
world_on_pause_end(struct world *w, const struct sim_ev *ev)
{
    struct vm_state *v = &w->vms[ev->a];
    if (v->pause_start == RUNNING || (uint32_t)v->migration != ev->b) {
        return;
    }
    if (v->phase != MIG_PREPARING) {
        world_on_resume(w, ev->a);
    } else {
        v->flags |= VMF_PAUSE_OVER;
    }
}
