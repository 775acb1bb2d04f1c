/* workload.c: builds the shared workload of a `mignet sim` run.
 *
 * Everything here is a pure function of the parameters (seed included).
 * It must never depend on a strategy: the runs compare strategies on the
 * very same placement, peers, refresh phases and migration plan. */
#include "sim/workload.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *
xcalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

static int
build_peers(struct sim_workload *wl, struct sim_rng *rng)
{
    uint32_t n = wl->n_vms;
    uint32_t k = wl->k;
    size_t ns = (size_t)n * k;
    wl->peers = xcalloc(ns, sizeof *wl->peers);
    wl->rev_off = xcalloc((size_t)n + 1, sizeof *wl->rev_off);
    wl->rev = xcalloc(ns, sizeof *wl->rev);
    if (!wl->peers || !wl->rev_off || !wl->rev) {
        return -1;
    }
    for (uint32_t v = 0; v < n; v++) {
        uint32_t *pv = &wl->peers[(size_t)v * k];
        for (uint32_t i = 0; i < k; i++) {
            uint32_t p;
            bool dup;
            do {
                p = (uint32_t)sim_rng_below(rng, n - 1);
                if (p >= v) {
                    p++; /* never oneself */
                }
                dup = false;
                for (uint32_t j = 0; j < i; j++) {
                    dup |= pv[j] == p;
                }
            } while (dup);
            pv[i] = p;
        }
    }
    /* Reverse index (counting sort by sender). */
    for (size_t s = 0; s < ns; s++) {
        wl->rev_off[wl->peers[s] + 1]++;
    }
    for (uint32_t v = 0; v < n; v++) {
        wl->rev_off[v + 1] += wl->rev_off[v];
    }
    uint32_t *fill = xcalloc(n, sizeof *fill);
    if (!fill) {
        return -1;
    }
    for (size_t s = 0; s < ns; s++) {
        uint32_t p = wl->peers[s];
        wl->rev[wl->rev_off[p] + fill[p]++] = (uint32_t)s;
    }
    free(fill);
    return 0;
}

static int
add_job(struct sim_workload *wl, uint32_t *cap, uint32_t vm, uint32_t hops,
        uint32_t dst_lo)
{
    if (wl->n_jobs == *cap) {
        uint32_t c = *cap ? *cap * 2 : 64;
        struct sim_job *j = realloc(wl->jobs, (size_t)c * sizeof *j);
        if (!j) {
            return -1;
        }
        wl->jobs = j;
        *cap = c;
    }
    double per = 1e6 / wl->p.rate;
    struct sim_job *j = &wl->jobs[wl->n_jobs];
    j->planned_us = wl->t_start_us + (uint64_t)(wl->n_jobs * per);
    j->vm = vm;
    j->hops = hops;
    j->dst_lo = dst_lo;
    wl->n_jobs++;
    wl->n_hops += hops;
    if (hops > wl->max_hops) {
        wl->max_hops = hops;
    }
    return 0;
}

/* Drain: evacuate nodes 0, 1, ... in turn until the plan holds the asked
 * number of migrations; destinations are the nodes never drained. */
static int
plan_drain(struct sim_workload *wl, uint32_t *cap)
{
    uint32_t n = wl->n_nodes;
    uint32_t *off = xcalloc((size_t)n + 1, sizeof *off);
    uint32_t *order = xcalloc(wl->n_vms, sizeof *order);
    if (!off || !order) {
        free(off);
        free(order);
        return -1;
    }
    for (uint32_t v = 0; v < wl->n_vms; v++) {
        off[wl->home[v] + 1]++;
    }
    uint64_t want = wl->p.migrations;
    uint32_t drained = 0;
    while (drained < n - 2 && off[drained] < want) {
        drained++;
        off[drained] += off[drained - 1];
    }
    /* off[d] is now the first slot of node d for d <= drained: place the
     * VMs of the drained nodes, in VM order, node by node. */
    for (uint32_t v = 0; v < wl->n_vms; v++) {
        uint32_t h = wl->home[v];
        if (h < drained) {
            order[off[h]++] = v;
        }
    }
    /* off[h] advanced to the end of node h = start of node h + 1. */
    uint32_t total = drained ? off[drained - 1] : 0;
    int rc = 0;
    for (uint32_t i = 0; i < total && wl->n_hops < want && !rc; i++) {
        rc = add_job(wl, cap, order[i], 1, drained);
    }
    free(off);
    free(order);
    return rc;
}

static int
plan(struct sim_workload *wl, struct sim_rng *rng)
{
    uint32_t cap = 0;
    uint64_t want = wl->p.migrations;
    if (wl->p.pattern == SIM_DRAIN) {
        return plan_drain(wl, &cap);
    }
    uint32_t per_job = 1;
    if (wl->p.pattern == SIM_PINGPONG) {
        per_job = 2;
    } else if (wl->p.pattern == SIM_CHAIN) {
        per_job = wl->p.chain_len;
    }
    while (wl->n_hops < want) {
        uint64_t left = want - wl->n_hops;
        uint32_t hops = left < per_job ? (uint32_t)left : per_job;
        uint32_t vm = (uint32_t)sim_rng_below(rng, wl->n_vms);
        if (add_job(wl, &cap, vm, hops, 0)) {
            return -1;
        }
    }
    return 0;
}

/* When the plan's last move (the gateway's switch) happens if every
 * switch-over takes what the network needs and no more: a hop starts at
 * its planned time or when the VM's previous job ended, moves and
 * resumes as its switch-over mode says (now: moves at once, resumes after
 * max(pause, the destination's install round trip); manual: pre-copy,
 * pause, moves and resumes; rarp: pre-copy, pause, resumes, moves a
 * latency later; lossless: pre-copy, moves, pauses once the switch is
 * confirmed, resumes), the next hop follows 'gap' after the resume.
 * Every strategy runs this schedule; the horizon derives from it, so it
 * is the same for all. */
static int
plan_last_move(struct sim_workload *wl)
{
    const struct sim_params *p = &wl->p;
    uint64_t lat = (uint64_t)llround(p->latency_ms * 1000.0);
    uint64_t pause = (uint64_t)p->pause_ms * 1000;
    uint64_t pre = (uint64_t)p->precopy_ms * 1000;
    uint64_t move_us = 0, switch_us = pause > 2 * lat ? pause : 2 * lat;
    switch (p->switchover) {
    case MIG_SW_MANUAL:
        move_us = switch_us = pre + pause;
        break;
    case MIG_SW_RARP:
        move_us = pre + pause + lat;
        switch_us = pre + pause;
        break;
    case MIG_SW_LOSSLESS:
        move_us = pre;
        switch_us = pre + 2 * lat + pause;
        break;
    case MIG_SW_NOW:
    case MIG_N_SWITCHOVERS:
        break;
    }
    uint64_t gap = (uint64_t)p->gap_ms * 1000;
    uint64_t *free_at = xcalloc(wl->n_vms, sizeof *free_at);
    if (!free_at) {
        return -1;
    }
    wl->t_last_us = wl->t_start_us;
    for (uint32_t i = 0; i < wl->n_jobs; i++) {
        const struct sim_job *j = &wl->jobs[i];
        uint64_t t = j->planned_us > free_at[j->vm] ? j->planned_us
                                                    : free_at[j->vm];
        for (uint32_t h = 0; h < j->hops; h++) {
            if (h) {
                t += gap;
            }
            if (t + move_us > wl->t_last_us) {
                wl->t_last_us = t + move_us;
            }
            t += switch_us;
        }
        free_at[j->vm] = t;
    }
    free(free_at);
    wl->t_end_us = wl->t_last_us + sim_params_tail_ms(p) * 1000;
    return 0;
}

struct sim_workload *
sim_workload_create(const struct sim_params *p)
{
    struct sim_workload *wl = calloc(1, sizeof *wl);
    if (!wl) {
        return NULL;
    }
    wl->p = *p;
    wl->n_nodes = p->nodes;
    wl->n_vms = p->vms;
    wl->k = p->peers < p->vms ? p->peers : p->vms - 1;
    wl->period_us = 1000000 / p->pps;
    if (wl->period_us == 0) {
        wl->period_us = 1;
    }
    uint64_t warm = p->warmup_ms >= 0 ? (uint64_t)p->warmup_ms
                                      : 3 * (uint64_t)p->refresh_ms;
    wl->t_base_us = 1000000; /* core times stay clear of 0 ("not yet") */
    wl->t_start_us = wl->t_base_us + warm * 1000;

    struct sim_rng rng;
    sim_rng_init(&rng, p->seed);
    wl->home = xcalloc(wl->n_vms, sizeof *wl->home);
    wl->node_base_us = xcalloc(wl->n_nodes, sizeof *wl->node_base_us);
    wl->node_phase_us = xcalloc(wl->n_nodes, sizeof *wl->node_phase_us);
    if (!wl->home || !wl->node_base_us || !wl->node_phase_us) {
        goto fail;
    }
    for (uint32_t n = 0; n < wl->n_nodes; n++) {
        double f = 1 + p->refresh_jitter * (2 * sim_rng_unit(&rng) - 1);
        uint64_t base = (uint64_t)(p->refresh_ms * 1000.0 * f);
        wl->node_base_us[n] = base ? base : 1;
        wl->node_phase_us[n] = sim_rng_below(&rng, wl->node_base_us[n]);
    }
    for (uint32_t v = 0; v < wl->n_vms; v++) {
        wl->home[v] = (uint32_t)sim_rng_below(&rng, wl->n_nodes);
    }
    if (build_peers(wl, &rng) || plan(wl, &rng) || plan_last_move(wl)) {
        goto fail;
    }
    return wl;
fail:
    sim_workload_destroy(wl);
    return NULL;
}

void
sim_workload_destroy(struct sim_workload *wl)
{
    if (!wl) {
        return;
    }
    free(wl->home);
    free(wl->peers);
    free(wl->rev_off);
    free(wl->rev);
    free(wl->node_base_us);
    free(wl->node_phase_us);
    free(wl->jobs);
    free(wl);
}

uint64_t
sim_workload_hops(const struct sim_workload *wl)
{
    return wl->n_hops;
}
