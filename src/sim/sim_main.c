/* sim_main.c: `mignet sim`: parse, build the workload, run the strategies,
 * print.
 *
 * The only place of the simulator that reads the wall clock (for wall_ms
 * and the progress line); the simulation itself never does.  Exit codes:
 * 0 ok, 2 bad usage, 1 a run failed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "mignet/sim.h"
#include "sim/chaos.h"
#include "sim/fabsim.h"
#include "sim/simulator.h"

uint64_t
sim_wall_us(void *aux)
{
    (void)aux;
    return clock_mono_us();
}

static void
progress(void *aux, const char *strategy, uint64_t sim_ms,
         uint64_t migrations, uint64_t planned, uint64_t events)
{
    bool *printed = aux;
    fprintf(stderr,
            "\r%-12s sim %8.1f s  migrations %" PRIu64 "/%" PRIu64
            "  events %.1fM   ",
            strategy, (double)sim_ms / 1000.0, migrations, planned,
            (double)events / 1e6);
    *printed = true;
}

/* Splits the --strategy value into names; returns how many. */
static size_t
strategy_list(const char *spec, char names[][32], size_t max)
{
    if (!strcmp(spec, "all")) {
        for (size_t i = 0; i < SIM_N_STRATEGIES && i < max; i++) {
            snprintf(names[i], 32, "%s", sim_strategies[i]);
        }
        return SIM_N_STRATEGIES < max ? SIM_N_STRATEGIES : max;
    }
    size_t n = 0;
    while (*spec && n < max) {
        const char *comma = strchr(spec, ',');
        size_t len = comma ? (size_t)(comma - spec) : strlen(spec);
        snprintf(names[n++], 32, "%.*s", (int)(len < 31 ? len : 31), spec);
        spec = comma ? comma + 1 : spec + len;
    }
    return n;
}

/* The table or the JSON, then the pictures; the exit code. */
static int
report(const struct sim_params *p, const struct sim_result *results,
       size_t n)
{
    if (p->json) {
        if (sim_report_json(stdout, p, results, n)) {
            fprintf(stderr, "mignet sim: out of memory writing JSON\n");
            return 1;
        }
    } else {
        sim_report_table(stdout, p, results, n);
    }
    if (fflush(stdout)) {
        return 1;
    }
    char err[512] = "";
    if (p->plot_data
        && sim_plot_write_data(p->plot_data, p, results, n, err,
                               sizeof err)) {
        fprintf(stderr, "mignet sim: --plot-data: %s\n", err);
        return 1;
    }
    if (p->plot && sim_plot(p, results, n, err, sizeof err)) {
        fprintf(stderr, "mignet sim: --plot: %s\n", err);
        return 1;
    }
    if (p->plot && !p->json) {
        printf("plot: %s%s%s\n", p->plot, p->plot_data ? ", its numbers: "
                                                      : "",
               p->plot_data ? p->plot_data : "");
    }
    return fflush(stdout) ? 1 : 0;
}

int
sim_main(int argc, char **argv)
{
    if (fabsim_wanted(argc, argv)) {
        return fabsim_main(argc, argv);
    }
    if (chaos_wanted(argc, argv)) {
        return chaos_main(argc, argv);
    }
    struct sim_params p;
    sim_params_default(&p);
    char err[256] = "";
    bool help = false;
    if (sim_params_parse(&p, argc, argv, &help, err, sizeof err)) {
        fprintf(stderr, "mignet sim: %s\n", err);
        return 2;
    }
    if (help) {
        sim_params_usage(stdout);
        printf("\nfabric mode: mignet sim --fabric fattree --help\n");
        printf("fault mode:  mignet sim --faults all --help\n");
        return 0;
    }
    /* Before simulating: a missing gnuplot should not cost a long run. */
    if (p.plot && sim_plot_check(err, sizeof err)) {
        fprintf(stderr, "mignet sim: %s\n", err);
        return 1;
    }
    char names[16][32];
    size_t n = strategy_list(p.strategy, names, 16);
    struct sim_workload *wl = sim_workload_create(&p);
    if (!wl) {
        fprintf(stderr, "mignet sim: out of memory building the workload\n");
        return 1;
    }
    struct sim_result results[16] = {0};
    bool printed = false;
    struct sim_hooks hooks = {
        .wall_us = sim_wall_us,
        .progress = !p.json && p.progress ? progress : NULL,
        .aux = &printed,
    };
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int e = sim_run(wl, names[i], &hooks, &results[i], err, sizeof err);
        if (printed) {
            fprintf(stderr, "\r%*s\r", 70, "");
            printed = false;
        }
        if (e) {
            fprintf(stderr, "mignet sim: %s: %s\n", names[i], err);
            rc = 1;
            break;
        }
    }
    sim_workload_destroy(wl);
    if (!rc) {
        rc = report(&p, results, n);
    }
    for (size_t i = 0; i < n; i++) {
        sim_result_destroy(&results[i]);
    }
    return rc;
}
