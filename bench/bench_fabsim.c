/* bench_fabsim.c: how fast the fabric simulator (`mignet sim --fabric`)
 * runs: events/s, max-min solves/s and migrations simulated per CPU
 * second, for each routing strategy, with the heap solver against the
 * textbook scan solver (the baseline) on the identical workload in the
 * same run.
 *
 * Usage: bench_fabsim [k8|k16|all]   (default all)
 * Figures are CPU time of this thread (clock_thread_cpu_s()): the 2-core
 * machine is shared, and wall time would count other processes' turns as
 * ours.  The only program of the fabric simulator that reads a clock; it
 * never touches the network. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "sim/fabsim.h"

struct scenario {
    const char *name;
    unsigned k;
    int64_t migrations;
    double rate;
    uint32_t background;
};

static const struct scenario scenarios[] = {
    /* 128 hosts; 1,000 migrations of 512 MiB, 5 a second. */
    {"k8", 8, 1000, 5, 64},
    /* 1,024 hosts; 2,000 migrations, 20 a second. */
    {"k16", 16, 2000, 20, 512},
};

static int
bench(const struct scenario *sc)
{
    struct fabsim_params p;
    fabsim_params_default(&p);
    p.k = sc->k;
    p.migrations = sc->migrations;
    p.rate = sc->rate;
    p.background = sc->background;
    p.background_mbps = 200;
    p.memory_mb = 512;

    char err[256] = "";
    struct fabsim_world *w = NULL;
    if (fabsim_world_create(&p, &w, err, sizeof err)) {
        fprintf(stderr, "bench_fabsim: %s\n", err);
        return 1;
    }
    printf("\n%s: k = %u fat-tree (%zu hosts, %zu links), %" PRId64
           " migrations of 512 MiB at %g/s, %u background flows of 200 "
           "Mbit/s\n",
           sc->name, sc->k, fabric_n_hosts(w->fabric),
           fabric_n_links(w->fabric), sc->migrations, sc->rate,
           sc->background);
    printf("%-9s %-5s %8s %7s %8s %10s %9s %10s %10s %8s\n", "strategy",
           "solve", "events", "solves", "cpu_s", "events/s", "solves/s",
           "migr/s", "sim_s/cpu", "vs scan");
    for (unsigned s = 0; s < FABSIM_N_STRATEGIES; s++) {
        double rate[2] = {0, 0};
        for (int scan = 1; scan >= 0; scan--) {
            struct fabsim_result r;
            w->p.scan_solver = scan;
            double t0 = clock_thread_cpu_s();
            if (fabsim_run(w, s, &r, err, sizeof err)) {
                fprintf(stderr, "bench_fabsim: %s\n", err);
                fabsim_world_destroy(w);
                return 1;
            }
            double cpu = clock_thread_cpu_s() - t0;
            rate[scan] = (double)r.events / cpu;
            printf("%-9s %-5s %8" PRIu64 " %7" PRIu64 " %8.3f %10.0f %9.0f "
                   "%10.0f %10.1f %7.2fx\n",
                   fabsim_strategy_name(s), scan ? "scan" : "heap", r.events,
                   r.solves, cpu, rate[scan], (double)r.solves / cpu,
                   (double)r.n / cpu, r.sim_ms / 1000.0 / cpu,
                   rate[scan] / rate[1]);
            fabsim_result_destroy(&r);
        }
    }
    fabsim_world_destroy(w);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    int rc = 0, ran = 0;
    for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++) {
        if (!strcmp(which, "all") || !strcmp(which, scenarios[i].name)) {
            rc |= bench(&scenarios[i]);
            ran++;
        }
    }
    if (!ran) {
        fprintf(stderr, "usage: bench_fabsim [k8|k16|all]\n");
        return 2;
    }
    return rc;
}
