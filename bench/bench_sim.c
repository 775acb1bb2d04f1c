/* bench_sim.c: simulator events per second, against a bare event loop.
 *
 * Runs `mignet sim` scenarios in-process (mid-size, and with "scale" the
 * 10,000-node, 1,000,000-VM, 100,000-migration one) and reports events/s.
 * The baseline, measured in the same run, is the event queue alone: pop
 * an event, push its successor, nothing else, which is the floor any
 * discrete-event simulator pays.
 *
 * Usage: bench_sim [mid|scale|all] [strategy] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sim/evq.h"
#include "sim/rng.h"
#include "sim/simulator.h"

/* Pop/push with 'pending' events in the heap and one lane event per pop,
 * the shape of a simulation's hot loop. */
static double
baseline_events_per_s(uint64_t n, uint32_t pending)
{
    struct sim_evq q;
    sim_evq_init(&q);
    struct sim_rng r;
    sim_rng_init(&r, 1);
    for (uint32_t i = 0; i < pending; i++) {
        struct sim_ev ev = {.t = sim_rng_below(&r, 10000), .a = i};
        sim_evq_push(&q, &ev);
    }
    uint64_t t0 = sim_wall_us(NULL);
    uint64_t done = 0;
    uint64_t sink = 0;
    struct sim_ev ev;
    while (done < n && sim_evq_pop(&q, &ev)) {
        done++;
        sink += ev.a;
        if (ev.x == 0) {
            struct sim_ev next = {.t = ev.t + 10000, .a = ev.a};
            sim_evq_push(&q, &next);
            struct sim_ev pkt = {.t = ev.t + 200, .a = ev.a, .x = 1};
            sim_evq_push_lane(&q, 0, &pkt);
        }
    }
    uint64_t dt = sim_wall_us(NULL) - t0;
    sim_evq_destroy(&q);
    if (sink == 42) {
        printf(" ");
    }
    return (double)done / ((double)(dt ? dt : 1) / 1e6);
}

static long
peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

static int
scenario(const char *name, uint32_t nodes, uint32_t vms,
         uint32_t migrations, const char *strategy)
{
    struct sim_params p;
    sim_params_default(&p);
    p.nodes = nodes;
    p.vms = vms;
    p.migrations = migrations;
    p.rate = 100;
    uint64_t t0 = sim_wall_us(NULL);
    struct sim_workload *wl = sim_workload_create(&p);
    if (!wl) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    struct sim_hooks hooks = {.wall_us = sim_wall_us};
    struct sim_result r;
    char err[256];
    if (sim_run(wl, strategy, &hooks, &r, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", strategy, err);
        sim_workload_destroy(wl);
        return 1;
    }
    double total_s = (double)(sim_wall_us(NULL) - t0) / 1e6;
    sim_workload_destroy(wl);
    double eps = (double)r.events / (r.wall_ms / 1000.0);
    double base = baseline_events_per_s(r.events < 50000000 ? r.events
                                                            : 50000000,
                                        (uint32_t)(r.max_hot * p.peers
                                                   + nodes));
    printf("%-6s %-12s nodes %6" PRIu32 " vms %8" PRIu32
           " migrations %7" PRIu32 "\n"
           "       events %12" PRIu64 " in %8.1f ms = %6.2f M events/s"
           " (target 5 M)\n"
           "       baseline (bare event queue, same heap size): %6.2f M/s"
           " -> simulator at %.2f of the baseline\n"
           "       total with setup %.1f s, simulated %.1f s, peak RSS %ld "
           "MB, core %.1f MB\n"
           "       sent %" PRIu64 " lost_pause %" PRIu64 " lost_stale %"
           PRIu64 " lost_other %" PRIu64 " wrong %" PRIu64 "\n",
           name, strategy, nodes, vms, migrations, r.events, r.wall_ms,
           eps / 1e6, base / 1e6, eps / base, total_s,
           (double)r.sim_ms / 1000, peak_rss_mb(),
           (double)r.core_bytes / 1e6, r.sent, r.lost_pause, r.lost_stale,
           r.lost_other, r.wrong_deletions);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "mid";
    const char *strategy = argc > 2 ? argv[2] : "mignet";
    int rc = 0;
    if (!strcmp(which, "mid") || !strcmp(which, "all")) {
        rc |= scenario("mid", 1000, 100000, 10000, strategy);
    }
    if (!strcmp(which, "scale") || !strcmp(which, "all")) {
        rc |= scenario("scale", 10000, 1000000, 100000, strategy);
    }
    return rc;
}
