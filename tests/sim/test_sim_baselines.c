/* test_sim_baselines.c: the baselines show the problems they exist for.
 *
 * naive loses packets to stale maps; fixed deletes the configuration of a
 * VM that came back (pingpong with a gap shorter than its delay); clone
 * pays duplicates; fast-refresh pays polls; and the same arguments always
 * give the same numbers.  Each check compares against mignet on the very
 * same workload, so a test passes only when the difference is real. */
#include "simtest.h"

#include <errno.h>
#include <stdlib.h>

static void
test_naive_loses_to_stale_maps(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        struct sim_params p;
        simtest_small_params(&p, SIM_RANDOM, seed);
        struct sim_result naive, mignet;
        simtest_run(&p, "naive", &naive);
        simtest_run(&p, "mignet", &mignet);
        assert_true(simtest_conserved(&naive));
        assert_true(naive.lost_stale > 0);
        assert_int_equal(naive.relayed, 0); /* naive has no relay */
        assert_int_equal(mignet.lost_stale, 0);
        assert_true(mignet.relayed > 0);
        assert_int_equal(naive.migrations, mignet.migrations);
    }
}

static void
test_fixed_deletes_returned_vm(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        struct sim_params p;
        simtest_small_params(&p, SIM_PINGPONG, seed);
        p.fixed_delay_ms = 2000; /* the gap (100 ms) is much shorter */
        struct sim_result fixed, seedr, mignet;
        simtest_run(&p, "fixed", &fixed);
        simtest_run(&p, "seed", &seedr);
        simtest_run(&p, "mignet", &mignet);
        assert_true(fixed.wrong_deletions > 0);
        assert_true(fixed.wrong_core > 0);
        assert_true(fixed.wrong_agent > 0);
        /* The VM lost its configuration: its packets are lost. */
        assert_true(fixed.lost_other > 0);
        assert_int_equal(seedr.wrong_deletions, 0);
        assert_int_equal(mignet.wrong_deletions, 0);
        assert_int_equal(mignet.lost_other, 0);
    }
}

static void
test_fixed_safe_when_gap_exceeds_delay(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_PINGPONG, 7);
    p.fixed_delay_ms = 300;
    p.gap_ms = 3000; /* returns long after the deletion */
    struct sim_result fixed;
    simtest_run(&p, "fixed", &fixed);
    assert_int_equal(fixed.wrong_deletions, 0);
    assert_true(fixed.migrations > 0);
}

static void
test_clone_and_fast_refresh_costs(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 3);
    struct sim_result naive, clone, fast;
    simtest_run(&p, "naive", &naive);
    simtest_run(&p, "clone", &clone);
    simtest_run(&p, "fast-refresh", &fast);
    assert_int_equal(naive.extra_packets, 0);
    assert_true(clone.extra_packets > 0);
    assert_true(simtest_conserved(&clone));
    /* k times more polls over the same traffic time, and fewer stale
     * losses. */
    assert_int_equal(fast.horizon_ms, naive.horizon_ms);
    assert_true(fast.gateway_polls > 3 * naive.gateway_polls);
    assert_true(fast.lost_stale < naive.lost_stale);
}

static void
test_cleanup_times(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 11);
    p.fixed_delay_ms = 2500;
    struct sim_result fixed, mignet, seedr;
    simtest_run(&p, "fixed", &fixed);
    simtest_run(&p, "mignet", &mignet);
    simtest_run(&p, "seed", &seedr);
    /* fixed cleans after its delay (+ the prepare round trip). */
    assert_true(fixed.cleanup_p50_ms >= 2500);
    assert_true(fixed.cleanup_max_ms < 2600);
    /* Acknowledgements end mignet's wait before seed's delay. */
    assert_true(mignet.cleanup_p50_ms < seedr.cleanup_p50_ms);
    assert_true(mignet.released_early > 0);
    assert_int_equal(seedr.released_early, 0);
    assert_true(mignet.cleanup_p50_ms <= mignet.cleanup_p99_ms);
    assert_true(mignet.cleanup_p99_ms <= mignet.cleanup_max_ms);
}

static void
test_deterministic(void **state)
{
    (void)state;
    for (int pat = 0; pat < SIM_N_PATTERNS; pat++) {
        struct sim_params p;
        simtest_small_params(&p, (enum sim_pattern)pat, 5);
        for (int s = 0; s < SIM_N_STRATEGIES; s++) {
            struct sim_result a, b;
            simtest_run(&p, sim_strategies[s], &a);
            simtest_run(&p, sim_strategies[s], &b);
            assert_true(a.sent > 0);
            assert_memory_equal(&a, &b, sizeof a);
        }
    }
    /* And a different seed gives a different run. */
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 5);
    struct sim_result a, b;
    simtest_run(&p, "mignet", &a);
    p.seed = 6;
    simtest_run(&p, "mignet", &b);
    assert_true(a.sent != b.sent || a.lost_pause != b.lost_pause);
}

static void
test_params_parse(void **state)
{
    (void)state;
    struct sim_params p, before;
    sim_params_default(&p);
    char err[256];
    bool help;
    char *ok[] = {"sim", "--nodes", "7", "--pattern=chain", "--json",
                  "--refresh-jitter", "0.5", "--strategy", "naive,mignet",
                  "--seed", "18446744073709551615", "--tail-ms=2500"};
    assert_int_equal(sim_params_parse(&p, 12, ok, &help, err, sizeof err),
                     0);
    assert_int_equal(p.tail_ms, 2500);
    assert_int_equal(sim_params_tail_ms(&p), 2500);
    assert_int_equal(p.nodes, 7);
    assert_int_equal(p.pattern, SIM_CHAIN);
    assert_true(p.json);
    assert_true(p.refresh_jitter == 0.5);
    assert_string_equal(p.strategy, "naive,mignet");
    assert_true(p.seed == UINT64_MAX);
    assert_false(help);

    char *bad[][3] = {
        {"sim", "--nodes", "1"},          {"sim", "--nodes", "-3"},
        {"sim", "--nodes", "12x"},        {"sim", "--pattern", "spiral"},
        {"sim", "--strategy", "magic"},   {"sim", "--strategy", "naive,"},
        {"sim", "--refresh-jitter", "2"}, {"sim", "--bogus", "1"},
        {"sim", "--pps", "0"},            {"sim", "--rate", "nan"},
        {"sim", "--seed", "-1"},          {"sim", "--json=1", "x"},
        {"sim", "--tail-ms", "-2"},
        {"sim", "--tail-ms", "99999999999"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        before = p;
        err[0] = '\0';
        assert_int_equal(sim_params_parse(&p, 3, bad[i], &help, err,
                                          sizeof err),
                         EINVAL);
        assert_true(strlen(err) > 0);
        assert_memory_equal(&p, &before, sizeof p);
    }
    char *missing[] = {"sim", "--nodes"};
    assert_int_equal(sim_params_parse(&p, 2, missing, &help, err,
                                      sizeof err),
                     EINVAL);

    /* The replay line parses back to the same parameters. */
    char cmd[1024];
    sim_params_cmdline(&p, "seed", cmd, sizeof cmd);
    char *argv[64];
    int argc = 0;
    char *save = NULL;
    for (char *t = strtok_r(cmd, " ", &save); t && argc < 64;
         t = strtok_r(NULL, " ", &save)) {
        argv[argc++] = t;
    }
    assert_string_equal(argv[0], "mignet");
    struct sim_params q;
    sim_params_default(&q);
    assert_int_equal(sim_params_parse(&q, argc - 1, argv + 1, &help, err,
                                      sizeof err),
                     0);
    memset(p.strategy, 0, sizeof p.strategy);
    snprintf(p.strategy, sizeof p.strategy, "seed");
    p.progress = q.progress;
    assert_memory_equal(&p, &q, sizeof p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_naive_loses_to_stale_maps),
        cmocka_unit_test(test_fixed_deletes_returned_vm),
        cmocka_unit_test(test_fixed_safe_when_gap_exceeds_delay),
        cmocka_unit_test(test_clone_and_fast_refresh_costs),
        cmocka_unit_test(test_cleanup_times),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_params_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
