/* simtest.h: helpers shared by the simulator's tests.
 *
 * Random small schedules drawn from a test seed, and running one strategy
 * on them.  Test code only; never linked into libmignet. */
#ifndef MIGNET_TESTS_SIMTEST_H
#define MIGNET_TESTS_SIMTEST_H 1

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "sim/rng.h"
#include "sim/simulator.h"

/* A random small schedule: every pattern, latency, jitter and timing
 * within ranges where a correct mignet must lose nothing but paused
 * packets. */
static inline void
simtest_random_params(struct sim_params *p, uint64_t seed)
{
    struct sim_rng r;
    sim_rng_init(&r, seed);
    sim_params_default(p);
    p->seed = seed;
    p->pattern = (enum sim_pattern)sim_rng_below(&r, SIM_N_PATTERNS);
    p->nodes = 3 + (uint32_t)sim_rng_below(&r, 14);
    p->vms = 5 + (uint32_t)sim_rng_below(&r, 60);
    p->migrations = 1 + (uint32_t)sim_rng_below(&r, 30);
    p->peers = 1 + (uint32_t)sim_rng_below(&r, 4);
    p->pps = 20 + (uint32_t)sim_rng_below(&r, 300);
    p->refresh_ms = 50 + (uint32_t)sim_rng_below(&r, 1500);
    p->refresh_jitter = (double)sim_rng_below(&r, 60) / 100;
    p->refresh_wobble = (double)sim_rng_below(&r, 6) / 100;
    p->latency_ms = (double)sim_rng_below(&r, 40000) / 1000;
    p->data_latency_us = 10 + (uint32_t)sim_rng_below(&r, 2000);
    p->pause_ms = (uint32_t)sim_rng_below(&r, 200);
    p->gap_ms = (uint32_t)sim_rng_below(&r, 1500);
    p->rate = 1 + (double)sim_rng_below(&r, 100);
    p->chain_len = 2 + (uint32_t)sim_rng_below(&r, 5);
    p->warmup_ms = (int64_t)sim_rng_below(&r, 4) * p->refresh_ms;
    p->drain_ms = 20000;
    p->json = true;
}

/* A small data centre with a fixed shape: 'pat' with 'seed'. */
static inline void
simtest_small_params(struct sim_params *p, enum sim_pattern pat,
                     uint64_t seed)
{
    sim_params_default(p);
    p->nodes = 20;
    p->vms = 300;
    p->migrations = 60;
    p->pattern = pat;
    p->seed = seed;
    p->refresh_ms = 1000;
    p->pps = 200;
    p->gap_ms = 100;
    p->drain_ms = 20000;
}

/* Runs 'strategy' on 'p'; fails the test if the run itself fails. */
static inline void
simtest_run(const struct sim_params *p, const char *strategy,
            struct sim_result *r)
{
    struct sim_workload *wl = sim_workload_create(p);
    assert_non_null(wl);
    char err[256] = "";
    int rc = sim_run(wl, strategy, NULL, r, err, sizeof err);
    if (rc) {
        print_error("sim_run(%s): %s\n", strategy, err);
    }
    assert_int_equal(rc, 0);
    sim_workload_destroy(wl);
}

/* Every packet sent is delivered or lost in exactly one class. */
static inline bool
simtest_conserved(const struct sim_result *r)
{
    return r->sent == r->delivered + r->lost_pause + r->lost_stale
                          + r->lost_other + r->lost_activation
                          + r->lost_install_race;
}

/* The control messages by kind add up to control_messages. */
static inline bool
simtest_kinds_add_up(const struct sim_result *r)
{
    return r->instructions + r->instruction_acks + r->gateway_polls
               + r->pushes + r->version_acks + r->activations
           == r->control_messages;
}

/* Runs `mignet ARGS` from MIGNET_BUILD_DIR; returns its stdout (to
 * free) and sets '*status' to its exit status (-1: killed). */
static inline char *
simtest_run_cli(const char *args, int *status)
{
    const char *dir = getenv("MIGNET_BUILD_DIR");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/mignet %s 2>/dev/null", dir ? dir : ".",
             args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    int st = pclose(f);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

#endif /* MIGNET_TESTS_SIMTEST_H */
