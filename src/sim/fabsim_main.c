/* fabsim_main.c: `mignet sim --fabric ...`: parse, build the world, run
 * each chosen strategy on it, print.
 *
 * Reads the wall clock only to fill wall_ms (through sim_wall_us(), the
 * data-centre simulator's one clock); the runs never see it.  Exit codes:
 * 0 ok, 2 bad usage, 1 a run failed. */
#include "sim/fabsim.h"

#include <string.h>

#include "sim/simulator.h"

bool
fabsim_wanted(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fabric") ||
            !strncmp(argv[i], "--fabric=", 9) || !strcmp(argv[i], "--topo") ||
            !strncmp(argv[i], "--topo=", 7)) {
            return true;
        }
    }
    return false;
}

int
fabsim_main(int argc, char **argv)
{
    struct fabsim_params p;
    char err[512] = "";
    bool help = false;

    fabsim_params_default(&p);
    if (fabsim_params_parse(&p, argc, argv, &help, err, sizeof err)) {
        fprintf(stderr, "mignet sim: %s\n", err);
        return 2;
    }
    if (help) {
        fabsim_params_usage(stdout);
        return 0;
    }
    struct fabsim_world *w = NULL;
    if (fabsim_world_create(&p, &w, err, sizeof err)) {
        fprintf(stderr, "mignet sim: %s\n", err);
        return 2;
    }
    struct fabsim_result results[FABSIM_N_STRATEGIES];
    size_t n = 0;
    int rc = 0;
    for (unsigned s = 0; s < FABSIM_N_STRATEGIES && !rc; s++) {
        if (!(p.strategies & (1u << s))) {
            continue;
        }
        uint64_t t0 = sim_wall_us(NULL);
        if (fabsim_run(w, (enum fabsim_strategy)s, &results[n], err,
                       sizeof err)) {
            fprintf(stderr, "mignet sim: %s: %s\n", fabsim_strategy_name(s),
                    err);
            rc = 1;
            break;
        }
        results[n++].wall_ms = (double)(sim_wall_us(NULL) - t0) / 1000.0;
    }
    if (!rc && p.json) {
        if (fabsim_report_json(stdout, w, results, n)) {
            fprintf(stderr, "mignet sim: out of memory writing JSON\n");
            rc = 1;
        }
    } else if (!rc) {
        fabsim_report_table(stdout, w, results, n);
    }
    for (size_t i = 0; i < n; i++) {
        fabsim_result_destroy(&results[i]);
    }
    fabsim_world_destroy(w);
    if (!rc && fflush(stdout)) {
        rc = 1;
    }
    return rc;
}
