/* world.c: one simulated data centre running one strategy on the real core.
 *
 * Node agents (per-VM entries built from INSTALL/RELAY/DELETE), gateway
 * polling, senders forwarding by their node's copy of the map, the VM
 * manager (pause, resume, next hop) and the control channel with its
 * latency, all on one virtual clock in microseconds.  It must never call
 * into the core from a core_sink callback, never read the wall clock except
 * through the hooks, and never let a packet go uncounted: at the end
 * sent == delivered + lost_pause + lost_stale + lost_other +
 * lost_activation + lost_install_race.
 *
 * Packets are simulated one by one only for VMs inside a migration window
 * (hot); outside, every stream's ticks are counted exactly by arithmetic
 * (docs/simulator.md explains why that is exact).
 *
 * This file sets a run up, dispatches its events and sums it up; the data
 * plane is in world_traffic.c, the agents and the control channel in
 * world_control.c, the VM manager and the migration windows in
 * world_vmm.c, and what they share in world-private.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/config.h"
#include "mignet/core.h"
#include "sim/rng.h"
#include "sim/simulator.h"
#include "sim/workload.h"
#include "sim/world-private.h"

/* ---- pools ---- */

static void
pool_init(struct pool *p, size_t size)
{
    memset(p, 0, sizeof *p);
    p->size = size;
    p->free_head = NIL;
}

static void
pool_destroy(struct pool *p)
{
    free(p->mem);
    memset(p, 0, sizeof *p);
}

/* ---- the run ---- */

/* Traffic stops.  From here on a packet could only meet another fate
 * than delivery if some node's map were stale, a VM paused, or a move or
 * a wrong deletion still to come: count those (0 = every loss of the
 * workload was counted; docs/simulator.md, "The traffic horizon"). */
static void
on_horizon(struct world *w)
{
    w->traffic_over = true;
    uint64_t version = core_map_version(w->core);
    for (uint32_t n = 0; n < w->wl->n_nodes; n++) {
        w->r->after_horizon += w->applied[n] < version;
    }
    for (uint32_t v = 0; v < w->wl->n_vms; v++) {
        w->r->after_horizon += w->vms[v].pause_start != RUNNING;
    }
}

/* Ends the run, never before the traffic horizon, once nothing can change
 * any more, or gives up when no VM has resumed for drain-ms after the last
 * planned job (windows that never close, jobs stuck behind a migration
 * that never gets ready). */
static void
check_end(struct world *w)
{
    if (w->ending || !w->traffic_over) {
        return;
    }
    const struct sim_workload *wl = w->wl;
    bool quiet = w->jobs_done == wl->n_jobs && w->n_hot == 0
                 && w->ctl_inflight == 0 && core_n_tasks(w->core) == 0;
    uint64_t since = w->last_progress;
    if (wl->n_jobs && wl->jobs[wl->n_jobs - 1].planned_us > since) {
        since = wl->jobs[wl->n_jobs - 1].planned_us;
    }
    bool give_up = w->next_plan >= wl->n_jobs
                   && w->now >= since + (uint64_t)w->p->drain_ms * 1000;
    if (quiet || give_up) {
        w->ending = true;
        w->t_stop = w->now + 1;
    }
}

static void
progress(struct world *w)
{
    if (!w->hooks || !w->hooks->progress || !w->hooks->wall_us) {
        return;
    }
    uint64_t t = w->hooks->wall_us(w->hooks->aux);
    if (t - w->wall_last >= 500000 && t - w->wall0 >= 1000000) {
        w->wall_last = t;
        w->hooks->progress(w->hooks->aux, w->r->strategy,
                           (w->now - w->wl->t_start_us) / 1000,
                           w->r->migrations, w->wl->n_hops, w->r->events);
    }
}

static void
dispatch(struct world *w, const struct sim_ev *ev)
{
    switch ((enum ev_type)ev->type) {
    case EV_TICK:
        on_tick(w, ev);
        break;
    case EV_ARRIVE:
        world_on_arrive(w, ev);
        break;
    case EV_INSTR:
        world_on_instr(w, ev);
        break;
    case EV_ACK:
        world_on_ack(w, ev);
        break;
    case EV_REPORT:
        world_on_report(w, ev);
        break;
    case EV_REFRESH:
        world_on_refresh(w, ev->a);
        check_end(w);
        break;
    case EV_CORE:
        world_on_core(w, ev);
        break;
    case EV_ISSUE:
        world_on_issue(w, ev);
        break;
    case EV_PAUSE_END:
        world_on_pause_end(w, ev);
        break;
    case EV_RESUME:
        world_on_resume(w, ev->a);
        break;
    case EV_CHECK:
        world_try_cool(w, ev->a);
        break;
    case EV_HORIZON:
        on_horizon(w);
        break;
    case EV_PUSH:
        world_on_push(w);
        break;
    case EV_PUSH_IN:
        world_on_push_in(w, ev);
        break;
    case EV_VACK:
        world_on_vack(w, ev);
        break;
    case EV_PRECOPY_END:
        world_on_precopy_end(w, ev);
        break;
    case EV_PAUSE_START:
        world_on_pause_start(w, ev);
        break;
    case EV_ABORT:
        world_on_abort(w, ev);
        break;
    case EV_ACTIVATED:
        world_on_activated(w, ev);
        break;
    }
    /* Without polls no refresh event checks for the end: every control
     * event does. */
    if (!w->poll && ev->type > EV_ARRIVE) {
        check_end(w);
    }
}

static void
loop(struct world *w)
{
    struct sim_ev ev;
    while (!w->nomem && sim_evq_pop(&w->q, &ev)) {
        w->now = ev.t;
        if (w->ending && ev.t >= w->t_stop) {
            /* Draining: only packets already on the wire still count. */
            if (ev.type == EV_ARRIVE) {
                world_on_arrive(w, &ev);
            }
            continue;
        }
        w->r->events++;
        dispatch(w, &ev);
        if ((w->r->events & 0xffff) == 0) {
            progress(w);
        }
    }
}

static int
setup(struct world *w, char *err, size_t errlen)
{
    const struct sim_workload *wl = w->wl;
    w->setup = true;
    w->now = wl->t_base_us;
    char name[32];
    char addr[32];
    for (uint32_t n = 0; n < wl->n_nodes; n++) {
        snprintf(name, sizeof name, "n%" PRIu32, n);
        snprintf(addr, sizeof addr, "198.%u.%u.%u", 18 + (n >> 16),
                 (n >> 8) & 0xff, n & 0xff);
        uint64_t refresh = wl->node_base_us[n] / w->refresh_div / 1000;
        uint32_t idx = 0;
        enum core_err e = core_node_add(w->core, name, addr,
                                        (uint32_t)(refresh ? refresh : 1),
                                        now_ms(w), &idx);
        if (e != CORE_E_OK || idx != n) {
            snprintf(err, errlen, "core_node_add(%s): %s", name,
                     core_strerror(e));
            return EIO;
        }
    }
    for (uint32_t v = 0; v < wl->n_vms; v++) {
        struct mn_config cfg = {0};
        cfg.mac[0] = 0x02;
        cfg.mac[2] = (uint8_t)(v >> 24);
        cfg.mac[3] = (uint8_t)(v >> 16);
        cfg.mac[4] = (uint8_t)(v >> 8);
        cfg.mac[5] = (uint8_t)v;
        cfg.ip = (198u << 24 | 18u << 16) + (v % 131070) + 1;
        cfg.vni = 1000;
        snprintf(name, sizeof name, "vm%" PRIu32, v);
        w->vms[v].node = wl->home[v];
        uint32_t idx = 0;
        /* Past 131070 VMs the IPs repeat in VNI 1000: say so. */
        enum core_err e = core_vm_add_opts(
            w->core, name, &cfg, wl->home[v], NULL,
            v >= 131070 ? CORE_VM_ALLOW_DUPLICATE : 0, now_ms(w), &idx);
        if (e != CORE_E_OK || idx != v) {
            snprintf(err, errlen, "core_vm_add(%s): %s", name,
                     core_strerror(e));
            return EIO;
        }
        if (w->vms[v].hist == NIL) {
            snprintf(err, errlen, "core_vm_add(%s) left no map entry",
                     name);
            return EIO;
        }
    }
    for (uint32_t n = 0; n < wl->n_nodes; n++) {
        if (w->setup_seq[n]
            && core_node_ack(w->core, n, w->setup_seq[n], now_ms(w))) {
            snprintf(err, errlen, "core_node_ack(n%" PRIu32 ") failed", n);
            return EIO;
        }
    }
    /* Every node starts with the whole map. */
    w->v_base = w->v_min = core_map_version(w->core);
    if (!grow((void **)&w->vcount, &w->vcount_cap, 1, sizeof *w->vcount)) {
        return ENOMEM;
    }
    w->vcount[0] = wl->n_nodes;
    for (uint32_t n = 0; n < wl->n_nodes; n++) {
        w->applied[n] = w->v_base;
        sim_rng_init(&w->node_rng[n], sim_hash3(wl->p.seed, 0xf5e, n));
        if (w->poll) {
            push(w, wl->t_base_us + wl->node_phase_us[n] / w->refresh_div,
                 EV_REFRESH, n, 0, 0, 0, 0);
        }
    }
    /* Every node's agent holds one channel session (docs/agent-protocol.md);
     * with push it is also subscribed to the map. */
    w->r->open_connections = wl->n_nodes;
    w->r->subscriptions = w->n_subscribed;
    w->r->core_bytes = core_memory_bytes(w->core);
    w->setup = false;
    return w->nomem ? ENOMEM : 0;
}

static int
world_alloc(struct world *w)
{
    const struct sim_workload *wl = w->wl;
    size_t ns = (size_t)wl->n_vms * wl->k;
    w->vms = calloc(wl->n_vms, sizeof *w->vms);
    w->cs = calloc(ns ? ns : 1, sizeof *w->cs);
    w->jobs = calloc(wl->n_jobs ? wl->n_jobs : 1, sizeof *w->jobs);
    w->applied = calloc(wl->n_nodes, sizeof *w->applied);
    w->setup_seq = calloc(wl->n_nodes, sizeof *w->setup_seq);
    w->node_rng = calloc(wl->n_nodes, sizeof *w->node_rng);
    w->subscribed = calloc(wl->n_nodes, sizeof *w->subscribed);
    if (!w->vms || !w->cs || !w->jobs || !w->applied || !w->setup_seq
        || !w->node_rng || !w->subscribed) {
        return ENOMEM;
    }
    /* push: --push-down of the nodes (a hash of the seed) have their
     * channel down and learn by polling only. */
    for (uint32_t n = 0; w->push_mode != PUSH_NONE && n < wl->n_nodes;
         n++) {
        double u = (double)(sim_hash3(wl->p.seed, 0x9d0, n) >> 11)
                   * 0x1p-53;
        w->subscribed[n] = w->push_mode == PUSH_OVN
                           || u >= wl->p.push_down;
        w->n_subscribed += w->subscribed[n];
    }
    for (uint32_t v = 0; v < wl->n_vms; v++) {
        struct vm_state *s = &w->vms[v];
        s->pause_start = RUNNING;
        s->prev_node = s->dst = s->queue = NIL;
        s->hist = s->agent = NIL;
        s->job = s->wait_head = s->wait_tail = NIL;
    }
    for (size_t s = 0; s < ns; s++) {
        w->cs[s] = wl->t_start_us;
    }
    for (uint32_t j = 0; j < wl->n_jobs; j++) {
        w->jobs[j].next = NIL;
    }
    return 0;
}

static void
world_free(struct world *w)
{
    core_destroy(w->core);
    sim_evq_destroy(&w->q);
    free(w->vms);
    free(w->cs);
    free(w->jobs);
    free(w->applied);
    free(w->setup_seq);
    free(w->node_rng);
    free(w->subscribed);
    free(w->vcount);
    free(w->vfifo.version);
    free(w->vfifo.vm);
    free(w->task_wait);
    free(w->mig_start);
    free(w->samples);
    pool_destroy(&w->hist);
    pool_destroy(&w->agent);
    pool_destroy(&w->instr);
    pool_destroy(&w->queue);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank, in ms of the microsecond samples; the fabric simulator's
 * percentile() (fabsim_run.c) uses the same rule on its doubles. */
static double
percentile_ms(const uint64_t *sorted, size_t n, double q)
{
    if (!n) {
        return 0;
    }
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1) {
        rank = 1;
    }
    return (double)sorted[rank - 1] / 1000.0;
}

static void
finish(struct world *w)
{
    const struct sim_workload *wl = w->wl;
    struct sim_result *r = w->r;
    uint64_t t_stop = w->ending ? w->t_stop : w->now + 1;
    /* Streams of cold receivers: every tick before the horizon (flushes
     * stop there), settled. */
    size_t ns = (size_t)wl->n_vms * wl->k;
    for (size_t s = 0; s < ns; s++) {
        if (!simulated(w, (uint32_t)(s / wl->k))) {
            world_flush_stream(w, (uint32_t)s, t_stop, true);
        }
    }
    if (w->n_samples) {
        qsort(w->samples, w->n_samples, sizeof *w->samples, cmp_u64);
    }
    r->cleanup_p50_ms = percentile_ms(w->samples, w->n_samples, 0.50);
    r->cleanup_p99_ms = percentile_ms(w->samples, w->n_samples, 0.99);
    r->cleanup_max_ms = percentile_ms(w->samples, w->n_samples, 1.0);
    r->wrong_deletions = r->wrong_core > r->wrong_agent ? r->wrong_core
                                                        : r->wrong_agent;
    r->planned = wl->n_hops;
    r->tasks_left = core_n_tasks(w->core);
    r->jobs_unfinished = wl->n_jobs - w->jobs_done;
    r->hot_left = w->n_hot;
    r->sim_ms = t_stop > wl->t_start_us ? (t_stop - wl->t_start_us) / 1000
                                       : 0;
    r->horizon_ms = (wl->t_end_us - wl->t_start_us) / 1000;
    r->after_horizon += w->late_wrong_core > w->late_wrong_agent
                            ? w->late_wrong_core
                            : w->late_wrong_agent;
    struct core_stats st = {0};
    core_get_stats(w->core, &st);
    r->relays_retargeted = st.relays_retargeted;
    /* Held for a VM that never resumed (a run that gave up): lost. */
    r->lost_pause += w->queued_now;
    world_series_lost(w, t_stop, w->queued_now);
    if (w->series_us) {
        /* The sorted samples behind the percentiles, for the plot. */
        r->cleanup_us = w->samples;
        w->samples = NULL;
    }
    r->queued_delay_max_ms = (double)w->queued_delay_max_us / 1000.0;
    uint64_t released = r->queued - w->queued_now;
    r->queued_delay_mean_ms =
        released ? (double)w->queued_delay_sum_us / 1000.0
                       / (double)released
                 : 0;
}

/* Core switches of 'strategy' plus what the simulated network implies.
 * push runs mignet's core; ovn a core without relay that deletes the
 * source's binding when the dual-binding window ends (docs/simulator.md,
 * "Map push and ovn"). */
static bool
strategy_config(const struct sim_params *p, const char *strategy,
                struct core_config *cfg)
{
    bool ovn = !strcmp(strategy, "ovn");
    const char *base = ovn || !strcmp(strategy, "push") ? "mignet"
                                                        : strategy;
    if (!sim_strategy_known(strategy) || !core_config_strategy(cfg, base)) {
        return false;
    }
    if (ovn) {
        cfg->relay = false;
        cfg->retarget = false;
        cfg->ack_release = false;
        cfg->dynamic_delay = false;
        /* RELAYING comes 2 latencies after the move; the window ends a
         * latency after the resume, max(pause, 2 latencies) after it. */
        double d = fmax((double)p->pause_ms - 2 * p->latency_ms, 0)
                   + p->latency_ms;
        cfg->fixed_delay_ms = (uint32_t)ceil(d);
    }
    /* The operator sizes the propagation bounds to the network. */
    uint32_t hops_ms = (uint32_t)((uint64_t)p->data_latency_us * HOP_LIMIT
                                  / 1000) + 1;
    uint32_t prop = (uint32_t)ceil(2 * p->latency_ms) + hops_ms;
    if (cfg->propagation_ms < prop) {
        cfg->propagation_ms = prop;
    }
    if (cfg->inflight_ms < hops_ms) {
        cfg->inflight_ms = hops_ms;
    }
    if (!strcmp(strategy, "fixed") && p->fixed_delay_ms >= 0) {
        cfg->fixed_delay_ms = (uint32_t)p->fixed_delay_ms;
    }
    if (!strcmp(strategy, "clone")) {
        cfg->fixed_delay_ms = p->pause_ms;
    }
    return true;
}

uint64_t
sim_result_lost(const struct sim_result *r)
{
    return r->lost_pause + r->lost_stale + r->lost_other
           + r->lost_activation + r->lost_install_race;
}

void
sim_result_destroy(struct sim_result *r)
{
    if (r) {
        free(r->lost_series);
        free(r->cleanup_us);
        r->lost_series = NULL;
        r->cleanup_us = NULL;
        r->n_series = 0;
    }
}

int
sim_run(const struct sim_workload *wl, const char *strategy,
        const struct sim_hooks *hooks, struct sim_result *r, char *err,
        size_t errlen)
{
    memset(r, 0, sizeof *r);
    snprintf(r->strategy, sizeof r->strategy, "%s", strategy);
    snprintf(r->switchover, sizeof r->switchover, "%s",
             mig_switchover_name(wl->p.switchover));
    struct core_config cfg;
    if (!strategy_config(&wl->p, strategy, &cfg)) {
        snprintf(err, errlen, "unknown strategy '%s'", strategy);
        return EINVAL;
    }
    struct world *w = calloc(1, sizeof *w);
    if (!w) {
        return ENOMEM;
    }
    w->wl = wl;
    w->p = &wl->p;
    w->hooks = hooks;
    w->r = r;
    w->exact = wl->p.exact;
    w->clone = !strcmp(strategy, "clone");
    w->push_mode = !strcmp(strategy, "push")  ? PUSH_MAP
                   : !strcmp(strategy, "ovn") ? PUSH_OVN
                                              : PUSH_NONE;
    w->poll = w->push_mode != PUSH_OVN;
    w->push_us = w->push_mode == PUSH_MAP
                     ? (uint64_t)wl->p.push_interval_ms * 1000
                     : 0;
    w->refresh_div = !strcmp(strategy, "fast-refresh") ? wl->p.fast_factor
                                                       : 1;
    w->lat_us = (uint64_t)llround(wl->p.latency_ms * 1000.0);
    w->dl_us = wl->p.data_latency_us;
    w->pause_us = (uint64_t)wl->p.pause_ms * 1000;
    w->gap_us = (uint64_t)wl->p.gap_ms * 1000;
    w->sw = wl->p.switchover;
    w->precopy_us = (uint64_t)wl->p.precopy_ms * 1000;
    w->core_timer_at = UINT64_MAX;
    if (wl->p.plot || wl->p.plot_data) {
        w->series_us = (uint64_t)wl->p.plot_bucket_ms * 1000;
        r->series_ms = wl->p.plot_bucket_ms;
    }
    sim_evq_init(&w->q);
    pool_init(&w->hist, sizeof(struct hist_ent));
    pool_init(&w->agent, sizeof(struct agent_ent));
    pool_init(&w->instr, sizeof(struct instr_rec));
    pool_init(&w->queue, sizeof(struct queue_rec));

    int rc = world_alloc(w);
    if (!rc) {
        struct core_sink sink = {
            .instr = world_sink_instr,
            .migration = world_sink_migration,
            .map_change = world_sink_map_change,
            .wrong_delete = world_sink_wrong_delete,
            .aux = w,
        };
        w->core = core_create(&cfg, NULL, &sink);
        rc = w->core ? setup(w, err, errlen) : ENOMEM;
    }
    if (!rc) {
        if (hooks && hooks->wall_us) {
            w->wall0 = w->wall_last = hooks->wall_us(hooks->aux);
        }
        /* Before the run's events, so it precedes those at its time. */
        push(w, wl->t_end_us, EV_HORIZON, 0, 0, 0, 0, 0);
        if (w->exact) {
            for (size_t s = 0; s < (size_t)wl->n_vms * wl->k; s++) {
                uint64_t t = tick_at_or_after(wl->t_start_us,
                                              sim_stream_phase(wl, s),
                                              wl->period_us);
                if (t < wl->t_end_us) {
                    push(w, t, EV_TICK, (uint32_t)s, 0, 0, 0, 0);
                }
            }
        }
        if (wl->n_jobs) {
            push(w, wl->jobs[0].planned_us, EV_ISSUE, 0, 0, 0, 1, 0);
            w->next_plan = 1;
        }
        w->last_progress = wl->t_start_us;
        world_arm_core(w);
        loop(w);
        rc = w->nomem ? ENOMEM : 0;
    }
    if (!rc) {
        finish(w);
        if (hooks && hooks->wall_us) {
            r->wall_ms = (double)(hooks->wall_us(hooks->aux) - w->wall0)
                         / 1000.0;
        }
    }
    if (rc == ENOMEM) {
        snprintf(err, errlen, "out of memory");
    }
    world_free(w);
    free(w);
    return rc;
}
