/* test_sim_exact.c: counting cold streams by arithmetic is exact.
 *
 * The simulator simulates packets only inside migration windows and counts
 * the rest in closed form.  --exact simulates every packet instead; on
 * random small schedules both must give identical counters for every
 * strategy (only events and wall time differ), also when packets tick
 * every 50 us, so that ticks and arrivals fall on the very instants VMs
 * pause, resume and move, and in every switch-over mode.  This is what
 * makes the scale runs trustworthy. */
#include "simtest.h"

#include <inttypes.h>

#define N_SCHEDULES 40
#define N_TIE_SCHEDULES 4
#define N_MODE_SCHEDULES 12

static void
check_exact(struct sim_params *p)
{
    for (int s = 0; s < SIM_N_STRATEGIES; s++) {
        struct sim_result a, b;
        simtest_run(p, sim_strategies[s], &a);
        p->exact = true;
        simtest_run(p, sim_strategies[s], &b);
        p->exact = false;
        assert_true(simtest_conserved(&a));
        assert_true(b.events > a.events || a.sent == 0);
        /* Everything but the work done must match. */
        a.events = b.events;
        a.max_hot = b.max_hot;
        if (memcmp(&a, &b, sizeof a)) {
            char cmd[1024];
            sim_params_cmdline(p, sim_strategies[s], cmd, sizeof cmd);
            print_error("analytic != exact: sent %" PRIu64 "/%" PRIu64
                        " delivered %" PRIu64 "/%" PRIu64
                        "\nreplay: %s (and with --exact)\n",
                        a.sent, b.sent, a.delivered, b.delivered, cmd);
        }
        assert_memory_equal(&a, &b, sizeof a);
    }
}

static void
test_exact_equals_analytic(void **state)
{
    (void)state;
    for (uint64_t seed = 1000; seed < 1000 + N_SCHEDULES; seed++) {
        struct sim_params p;
        simtest_random_params(&p, seed);
        p.drain_ms = 3000; /* fixed's broken VMs keep windows open */
        check_exact(&p);
    }
}

/* A tick every 50 us: many packets are sent or arrive at the very
 * microsecond a VM moves, resumes or its window opens, where counting by
 * arithmetic and simulating must still agree (the data plane goes first
 * at an instant). */
static void
test_exact_equals_analytic_on_ties(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= N_TIE_SCHEDULES; seed++) {
        struct sim_params p;
        simtest_random_params(&p, seed);
        p.nodes = 5;
        p.vms = 8;
        p.peers = 2;
        p.pps = 20000;
        p.migrations = 20;
        p.refresh_ms = 100 + p.refresh_ms / 10;
        p.fixed_delay_ms = 500;
        p.drain_ms = 3000;
        check_exact(&p);
    }
}

/* The switch-over modes: pre-copy, pauses held for the switch, queues
 * at the destination, activations after the resume and cancellations
 * all happen inside windows, where counting must still agree. */
static void
test_exact_equals_analytic_modes(void **state)
{
    (void)state;
    const enum mig_switchover modes[] = {MIG_SW_MANUAL, MIG_SW_RARP,
                                         MIG_SW_LOSSLESS};
    for (uint64_t seed = 3000; seed < 3000 + N_MODE_SCHEDULES; seed++) {
        struct sim_params p;
        simtest_random_params(&p, seed);
        p.switchover = modes[seed % 3];
        p.precopy_ms = (uint32_t)(seed * 37 % 400);
        p.abort_rate = seed % 2 ? 0.25 : 0;
        p.drain_ms = 3000;
        check_exact(&p);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_equals_analytic),
        cmocka_unit_test(test_exact_equals_analytic_on_ties),
        cmocka_unit_test(test_exact_equals_analytic_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
