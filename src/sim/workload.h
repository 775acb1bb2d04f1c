/* workload.h: what every strategy of one `mignet sim` run shares.
 *
 * Initial placement, each VM's peers (who sends to it), every node's
 * refresh interval and phase, and the migration plan.  Built once from the
 * seed; the runs only read it, so all strategies see the identical
 * workload. */
#ifndef MIGNET_SIM_WORKLOAD_H
#define MIGNET_SIM_WORKLOAD_H 1

#include <stdint.h>

#include "sim/rng.h"
#include "sim/simulator.h"

/* One migration job: 'hops' migrations of one VM, the first at
 * 'planned_us', each next one 'gap' after the VM resumed.  Destinations are
 * drawn when a hop is issued, from [dst_lo, nodes) minus the VM's node
 * (pingpong hop 2 returns to the origin). */
struct sim_job {
    uint64_t planned_us;
    uint32_t vm;
    uint32_t hops;
    uint32_t dst_lo;
};

struct sim_workload {
    struct sim_params p;
    uint32_t n_nodes, n_vms, k;
    uint64_t period_us;    /* stream period: 1e6 / pps */
    uint64_t t_base_us;    /* setup time */
    uint64_t t_start_us;   /* traffic and migrations start */
    uint64_t t_last_us;    /* the plan's last move (nominal schedule) */
    uint64_t t_end_us;     /* traffic horizon: t_last_us + tail */
    uint32_t *home;        /* [vm] initial node */
    uint32_t *peers;       /* [vm * k + i] sender of stream vm*k+i */
    uint32_t *rev_off;     /* [vm]..[vm+1]: streams 'vm' sends on */
    uint32_t *rev;
    uint64_t *node_base_us;  /* each node's own refresh interval */
    uint64_t *node_phase_us; /* first refresh after t_base */
    struct sim_job *jobs;
    uint32_t n_jobs;
    uint64_t n_hops;
    uint32_t max_hops;
};

/* Stream 's' ticks at phase + n * period (n >= 0). */
static inline uint64_t
sim_stream_phase(const struct sim_workload *wl, uint64_t s)
{
    return sim_hash3(wl->p.seed, 0x57e4a, s) % wl->period_us;
}

#endif /* MIGNET_SIM_WORKLOAD_H */
