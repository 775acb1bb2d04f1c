/* test_sim_horizon.c: every strategy runs on the same traffic.
 *
 * Traffic lasts from the traffic start to the workload's horizon (last
 * planned move + tail), whatever a strategy's cleanup takes, so `sent` is
 * the same in every row; and the default tail is long enough that a much
 * longer one finds no further loss.  A horizon cut short is reported
 * (after_horizon), never silent. */
#include "simtest.h"

#include <inttypes.h>

#define LONGER_MS 30000

static void
run_all(const struct sim_params *p, struct sim_result r[SIM_N_STRATEGIES])
{
    for (int s = 0; s < SIM_N_STRATEGIES; s++) {
        simtest_run(p, sim_strategies[s], &r[s]);
    }
}

static bool
is_fast(int s)
{
    return !strcmp(sim_strategies[s], "fast-refresh");
}

static bool
is_ovn(int s)
{
    return !strcmp(sim_strategies[s], "ovn");
}

/* Same sent, same traffic time, nothing after the horizon; polls over
 * the same time, so equal for every strategy refreshing at the same
 * rate (ovn does not poll: changes are pushed). */
static void
check_same_traffic(const struct sim_params *p)
{
    struct sim_result r[SIM_N_STRATEGIES];
    run_all(p, r);
    const struct sim_result *ref = &r[0];
    assert_true(ref->sent > 0);
    for (int s = 0; s < SIM_N_STRATEGIES; s++) {
        if (r[s].sent != ref->sent || r[s].after_horizon) {
            char cmd[1024];
            sim_params_cmdline(p, "all", cmd, sizeof cmd);
            print_error("%s: sent %" PRIu64 " vs %" PRIu64 " (%s), "
                        "after_horizon %" PRIu64 "\nreplay: %s\n",
                        r[s].strategy, r[s].sent, ref->sent,
                        ref->strategy, r[s].after_horizon, cmd);
        }
        assert_int_equal(r[s].sent, ref->sent);
        assert_int_equal(r[s].horizon_ms, ref->horizon_ms);
        assert_int_equal(r[s].after_horizon, 0);
        assert_true(simtest_conserved(&r[s]));
        /* The control plane outlives the traffic when it needs to. */
        assert_true(r[s].sim_ms >= r[s].horizon_ms);
        if (is_ovn(s)) {
            assert_int_equal(r[s].gateway_polls, 0);
        } else if (!is_fast(s)) {
            assert_int_equal(r[s].gateway_polls, ref->gateway_polls);
        } else {
            assert_true(r[s].gateway_polls > ref->gateway_polls);
        }
    }
}

static void
test_sent_equal_across_strategies(void **state)
{
    (void)state;
    for (int pat = 0; pat < SIM_N_PATTERNS; pat++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            struct sim_params p;
            simtest_small_params(&p, (enum sim_pattern)pat, seed);
            check_same_traffic(&p);
        }
    }
}

/* Harsher random schedules: latency, jitter, pause, gap, rate. */
static void
test_sent_equal_random_schedules(void **state)
{
    (void)state;
    for (uint64_t seed = 500; seed < 524; seed++) {
        struct sim_params p;
        simtest_random_params(&p, seed);
        check_same_traffic(&p);
    }
}

/* A much longer tail sends more and loses nothing more: the default tail
 * already holds every loss.  (A VM whose configuration was wrongly
 * deleted loses its packets for ever; that loss grows with the tail.) */
static void
test_longer_tail_finds_no_more_loss(void **state)
{
    (void)state;
    uint64_t naive_stale = 0;
    for (int pat = 0; pat < SIM_N_PATTERNS; pat++) {
        for (uint64_t seed = 1; seed <= 2; seed++) {
            struct sim_params p;
            simtest_small_params(&p, (enum sim_pattern)pat, seed);
            struct sim_result a[SIM_N_STRATEGIES], b[SIM_N_STRATEGIES];
            run_all(&p, a);
            p.tail_ms = (int64_t)sim_params_tail_ms(&p) + LONGER_MS;
            run_all(&p, b);
            for (int s = 0; s < SIM_N_STRATEGIES; s++) {
                assert_int_equal(b[s].horizon_ms,
                                 a[s].horizon_ms + LONGER_MS);
                assert_true(b[s].sent > a[s].sent);
                assert_int_equal(b[s].lost_pause, a[s].lost_pause);
                assert_int_equal(b[s].lost_stale, a[s].lost_stale);
                assert_int_equal(b[s].wrong_deletions,
                                 a[s].wrong_deletions);
                if (a[s].wrong_deletions == 0) {
                    assert_int_equal(b[s].lost_other, a[s].lost_other);
                    assert_int_equal(b[s].sent - a[s].sent,
                                     b[s].delivered - a[s].delivered);
                } else {
                    assert_true(b[s].lost_other > a[s].lost_other);
                }
            }
            naive_stale += a[0].lost_stale;
        }
    }
    /* The comparison covered real stale losses. */
    assert_string_equal(sim_strategies[0], "naive");
    assert_true(naive_stale > 0);
}

/* Too short a tail is reported, for every strategy. */
static void
test_short_tail_reported(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 4);
    p.tail_ms = 0;
    struct sim_result r[SIM_N_STRATEGIES];
    run_all(&p, r);
    for (int s = 0; s < SIM_N_STRATEGIES; s++) {
        assert_true(r[s].after_horizon > 0);
        assert_int_equal(r[s].sent, r[0].sent);
    }
}

/* The default tail covers the fixed delay and four refreshes of the
 * slowest node, whichever is longer. */
static void
test_default_tail(void **state)
{
    (void)state;
    struct sim_params p;
    sim_params_default(&p);
    uint64_t t = sim_params_tail_ms(&p);
    double slowest = p.refresh_ms * (1 + p.refresh_jitter)
                     * (1 + p.refresh_wobble);
    assert_true((double)t >= 4 * slowest + p.pause_ms);
    p.fixed_delay_ms = 20000;
    assert_true(sim_params_tail_ms(&p) >= 20000 + (uint64_t)p.pause_ms);
    p.refresh_ms = 10000;
    assert_true((double)sim_params_tail_ms(&p) >= 4 * 10000 * 1.2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sent_equal_across_strategies),
        cmocka_unit_test(test_sent_equal_random_schedules),
        cmocka_unit_test(test_longer_tail_finds_no_more_loss),
        cmocka_unit_test(test_short_tail_reported),
        cmocka_unit_test(test_default_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
