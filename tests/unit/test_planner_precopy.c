/* test_planner_precopy.c: the pre-copy estimator against hand-computed
 * cases, each stop condition, bad input, and closed form vs iteration.
 *
 * Expected numbers are worked out in the comments from the model in
 * docs/planner.md §1; none is read back from the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "unit/planner_helpers.h"

/* M = 10^9 B, pages of 1000 B, B = 10^8 B/s: D/B = pages_per_s / 10^5. */
static struct precopy_input
input(double pages_per_s)
{
    return (struct precopy_input) {
        .memory_bytes = 1000000000,
        .dirty_pages_per_s = pages_per_s,
        .page_size = 1000,
        .bandwidth_Bps = 1e8,
    };
}

/* Runs both forms and checks that they agree before returning one. */
static struct precopy_estimate
both(const struct precopy_config *cfg, const struct precopy_input *in)
{
    struct precopy_estimate c, i;
    assert_int_equal(precopy_estimate(cfg, in, &c), 0);
    assert_int_equal(precopy_iterate(cfg, in, &i), 0);
    assert_int_equal(c.rounds, i.rounds);
    assert_int_equal(c.stop, i.stop);
    assert_int_equal(c.converged, i.converged);
    assert_near(c.total_s, i.total_s, 1e-9);
    assert_near(c.downtime_s, i.downtime_s, 1e-9);
    assert_near(c.bytes_sent, i.bytes_sent, 1e-9);
    assert_near(c.final_bytes, i.final_bytes, 1e-9);
    return c;
}

static void
test_defaults_are_xen(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    assert_int_equal(cfg.max_rounds, 30);
    assert_int_equal(cfg.stop_bytes, 200 * 1024);
    assert_near(cfg.max_factor, 3.0, 0);
}

/* Nothing dirtied: one full copy of 1 GiB at 1 Gbit/s, then an empty
 * stop-and-copy.  8 * 2^30 / 10^9 = 8.589934592 s. */
static void
test_no_dirtying(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    struct precopy_input in = {
        .memory_bytes = UINT64_C(1) << 30,
        .dirty_pages_per_s = 0,
        .page_size = 4096,
        .bandwidth_Bps = 125e6,
    };
    struct precopy_estimate e = both(&cfg, &in);
    assert_int_equal(e.rounds, 2);
    assert_int_equal(e.stop, PRECOPY_STOP_THRESHOLD);
    assert_true(e.converged);
    assert_near(e.total_s, 8.589934592, 1e-12);
    assert_near(e.downtime_s, 0, 0);
    assert_near(e.bytes_sent, 1073741824.0, 1e-12);
}

/* D/B = 1/2.  V_(n+1) = 10^9 / 2^n < 204800 first at n = 13
 * (2^12 = 4096 gives 244140.6; 2^13 gives 122070.3125).  Rounds 14; sent
 * 10^9 (1 - 2^-14) / (1/2) = 1999877929.6875 B; 19.998779296875 s; the
 * stop-and-copy 122070.3125 B in 1.220703125 ms. */
static void
test_threshold_hand_computed(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    struct precopy_input in = input(50000);
    struct precopy_estimate e = both(&cfg, &in);
    assert_int_equal(e.stop, PRECOPY_STOP_THRESHOLD);
    assert_true(e.converged);
    assert_int_equal(e.rounds, 14);
    assert_near(e.final_bytes, 122070.3125, 1e-12);
    assert_near(e.bytes_sent, 1999877929.6875, 1e-12);
    assert_near(e.total_s, 19.998779296875, 1e-12);
    assert_near(e.downtime_s, 0.001220703125, 1e-12);
}

/* The same with a 1 MB threshold: 10^9 / 2^n < 10^6 first at n = 10
 * (2^10 = 1024 gives 976562.5), so 11 rounds. */
static void
test_threshold_configurable(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    cfg.stop_bytes = 1000000;
    struct precopy_input in = input(50000);
    struct precopy_estimate e = both(&cfg, &in);
    assert_int_equal(e.stop, PRECOPY_STOP_THRESHOLD);
    assert_int_equal(e.rounds, 11);
    assert_near(e.final_bytes, 976562.5, 1e-12);
}

/* D/B = 0.6 with 5 rounds allowed: iterative rounds 1..4, then the
 * stop-and-copy of 10^9 * 0.6^4 = 129600000 B (1.296 s).  Sent
 * 10^9 (1 - 0.6^5) / 0.4 = 2305600000 B, 23.056 s.  (0.6 <= 2/3, so the
 * 3x cap can never bind; the threshold needs n = 17.) */
static void
test_max_rounds(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    cfg.max_rounds = 5;
    struct precopy_input in = input(60000);
    struct precopy_estimate e = both(&cfg, &in);
    assert_int_equal(e.stop, PRECOPY_STOP_MAX_ROUNDS);
    assert_false(e.converged);
    assert_int_equal(e.rounds, 5);
    assert_near(e.final_bytes, 129600000, 1e-12);
    assert_near(e.downtime_s, 1.296, 1e-12);
    assert_near(e.bytes_sent, 2305600000, 1e-12);
    assert_near(e.total_s, 23.056, 1e-12);

    /* With the default 30 the threshold stops it instead, at n = 17:
     * 0.6^16 * 10^9 = 282110.99 >= 204800 > 0.6^17 * 10^9 = 169266.6. */
    precopy_config_default(&cfg);
    e = both(&cfg, &in);
    assert_int_equal(e.stop, PRECOPY_STOP_THRESHOLD);
    assert_int_equal(e.rounds, 18);
}

/* D/B = 0.9 and a 3x cap.  After round 1, another round would bring the
 * total to (1 + 0.9 + 0.81) M = 2.71 M <= 3 M: go on.  After round 2,
 * (1 + 0.9 + 0.81 + 0.729) M = 3.439 M > 3 M: stop.  Stop-and-copy
 * 0.81 * 10^9 B (8.1 s), sent 2.71 * 10^9 B, 27.1 s. */
static void
test_max_sent(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    struct precopy_input in = input(90000);
    struct precopy_estimate e = both(&cfg, &in);
    assert_int_equal(e.stop, PRECOPY_STOP_MAX_SENT);
    assert_int_equal(e.rounds, 3);
    assert_near(e.final_bytes, 0.81e9, 1e-12);
    assert_near(e.downtime_s, 8.1, 1e-12);
    assert_near(e.bytes_sent, 2.71e9, 1e-12);
    assert_near(e.total_s, 27.1, 1e-12);
    assert_true(e.bytes_sent <= 3.0 * 1e9);

    /* A cap of 4 M lets round 3 happen (3.439 M), not round 4
     * (3.439 + 0.6561 = 4.0951 M). */
    cfg.max_factor = 4.0;
    e = both(&cfg, &in);
    assert_int_equal(e.stop, PRECOPY_STOP_MAX_SENT);
    assert_int_equal(e.rounds, 4);
    assert_true(e.bytes_sent <= 4.0 * 1e9);
}

/* D >= B never converges: one full round shows it, then everything is
 * copied with the VM paused.  2 * 10 s total, 10 s downtime. */
static void
test_nonconvergent(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    double rates[] = {100000, 150000};
    for (size_t i = 0; i < 2; i++) {
        struct precopy_input in = input(rates[i]);
        struct precopy_estimate e = both(&cfg, &in);
        assert_int_equal(e.stop, PRECOPY_STOP_NONCONVERGENT);
        assert_false(e.converged);
        assert_int_equal(e.rounds, 2);
        assert_near(e.total_s, 20, 1e-12);
        assert_near(e.downtime_s, 10, 1e-12);
        assert_near(e.bytes_sent, 2e9, 1e-12);
    }
    /* Just under the bandwidth it does iterate. */
    struct precopy_input in = input(99999);
    struct precopy_estimate e = both(&cfg, &in);
    assert_int_not_equal(e.stop, PRECOPY_STOP_NONCONVERGENT);
    assert_true(e.rounds > 2);
}

static void
test_no_bandwidth(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    struct precopy_input in = input(10);
    in.bandwidth_Bps = 0;
    struct precopy_estimate e = both(&cfg, &in);
    assert_true(isinf(e.total_s));
    assert_int_equal(e.stop, PRECOPY_STOP_NONCONVERGENT);
}

static void
test_bad_input(void **state)
{
    struct precopy_config good;
    precopy_config_default(&good);
    struct precopy_input ok = input(10);

    struct precopy_input ins[6];
    for (size_t i = 0; i < 6; i++) {
        ins[i] = ok;
    }
    ins[0].memory_bytes = 0;
    ins[1].page_size = 0;
    ins[2].dirty_pages_per_s = -1;
    ins[3].dirty_pages_per_s = NAN;
    ins[4].bandwidth_Bps = -5;
    ins[5].bandwidth_Bps = INFINITY;
    struct precopy_config cfgs[5] = {good, good, good, good, good};
    cfgs[0].max_rounds = 1;
    cfgs[1].max_rounds = PRECOPY_MAX_ROUNDS + 1;
    cfgs[2].max_factor = 0.5;
    cfgs[3].max_factor = NAN;
    cfgs[4].max_rounds = 0;

    struct precopy_estimate e = {.rounds = 77};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(precopy_estimate(&good, &ins[i], &e), EINVAL);
        assert_int_equal(precopy_iterate(&good, &ins[i], &e), EINVAL);
    }
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(precopy_estimate(&cfgs[i], &ok, &e), EINVAL);
        assert_int_equal(precopy_iterate(&cfgs[i], &ok, &e), EINVAL);
    }
    assert_int_equal(e.rounds, 77); /* untouched */
}

/* Closed form and iteration over a grid of inputs and configurations;
 * the grid must reach every stop condition, so that agreement is tested
 * on each branch. */
static void
test_closed_form_matches_iteration(void **state)
{
    static const uint64_t mems[] = {
        1 << 20, 100 << 20, UINT64_C(1) << 30, UINT64_C(3) << 33,
        UINT64_C(64) << 30};
    static const double ratios[] = {0, 1e-6, 0.01, 0.1, 0.3, 0.5, 0.61,
                                    0.66, 0.7, 0.77, 0.8, 0.9, 0.95,
                                    0.99, 0.999, 1.0, 1.7};
    static const uint32_t rounds[] = {2, 3, 5, 30, 100};
    static const uint64_t stops[] = {0, 4096, 200 * 1024, 50 << 20};
    static const double factors[] = {1.0, 1.5, 3.0, 10.0};
    unsigned seen[PRECOPY_N_STOPS] = {0};
    unsigned cases = 0;

#define N(A) (sizeof A / sizeof *A)
    size_t total = N(mems) * N(ratios) * N(rounds) * N(stops) * N(factors);
    for (size_t i = 0; i < total; i++) {
        /* Decompose i into one index per axis. */
        size_t x = i;
        size_t a = x % N(mems);
        x /= N(mems);
        size_t b = x % N(ratios);
        x /= N(ratios);
        size_t c = x % N(rounds);
        x /= N(rounds);
        size_t d = x % N(stops);
        size_t g = x / N(stops);
#undef N
        struct precopy_config cfg = {
            .max_rounds = rounds[c],
            .stop_bytes = stops[d],
            .max_factor = factors[g],
        };
        struct precopy_input in = {
            .memory_bytes = mems[a],
            .dirty_pages_per_s = ratios[b] * 30517.578125,
            .page_size = 4096,
            .bandwidth_Bps = 125e6, /* 125e6 / 4096 = 30517.578125 */
        };
        struct precopy_estimate e = both(&cfg, &in);
        seen[e.stop]++;
        cases++;
        /* Invariants of the model. */
        assert_true(e.rounds >= 2 && e.rounds <= cfg.max_rounds);
        assert_true(e.total_s >= e.downtime_s);
        assert_near(e.total_s, e.bytes_sent / in.bandwidth_Bps, 1e-12);
        if (e.stop != PRECOPY_STOP_NONCONVERGENT) {
            /* Never past the cap, except for the first copy and its
             * stop-and-copy, which always happen. */
            double m = (double) mems[a];
            assert_true(e.bytes_sent <= cfg.max_factor * m * (1 + 1e-12)
                        || e.rounds == 2);
        }
    }
    assert_true(cases > 1000);
    for (unsigned s = 0; s < PRECOPY_N_STOPS; s++) {
        if (!seen[s]) {
            fail_msg("no grid case stopped on %s", precopy_stop_name(s));
        }
    }
}

/* The same on 20,000 pseudo-random inputs (a fixed sequence). */
static void
test_closed_form_matches_iteration_random(void **state)
{
    uint64_t x = 0x243f6a8885a308d3u;
    for (int i = 0; i < 20000; i++) {
        uint64_t v[5];
        for (int j = 0; j < 5; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v[j] = x;
        }
        struct precopy_config cfg = {
            .max_rounds = 2 + (uint32_t) (v[0] % 60),
            .stop_bytes = v[1] % (64u << 20),
            .max_factor = 1.0 + (double) (v[2] % 1000) / 100.0,
        };
        struct precopy_input in = {
            .memory_bytes = 1 + v[3] % (UINT64_C(256) << 30),
            .dirty_pages_per_s = (double) (v[4] % 40000),
            .page_size = 4096,
            .bandwidth_Bps = 125e6, /* r = pages / 30517.6: 0 .. 1.31 */
        };
        both(&cfg, &in);
    }
}

static void
test_stripe_bandwidth(void **state)
{
    double two[] = {1e9, 1e9};
    double three[] = {1e9, 5e8, 2.5e8};
    assert_near(precopy_stripe_bandwidth(two, 1, 0.05), 1e9, 1e-12);
    assert_near(precopy_stripe_bandwidth(two, 2, 0.05), 1.9e9, 1e-12);
    assert_near(precopy_stripe_bandwidth(three, 3, 0.1), 1.4e9, 1e-12);
    assert_near(precopy_stripe_bandwidth(two, 2, 0), 2e9, 1e-12);
    assert_near(precopy_stripe_bandwidth(two, 2, 1.5), 0, 0);
    assert_near(precopy_stripe_bandwidth(two, 0, 0.05), 0, 0);
}

static void
test_names(void **state)
{
    assert_string_equal(precopy_stop_name(PRECOPY_STOP_MAX_SENT),
                        "max_sent");
    assert_string_equal(precopy_stop_name(PRECOPY_STOP_NONCONVERGENT),
                        "nonconvergent");
    assert_string_equal(precopy_stop_name(PRECOPY_N_STOPS), "unknown");
}

/* A working set W: writes on pages already dirty in the round are not
 * new.  M = W = 10^9 B, pages of 1000 B, B = 10^8 B/s, D = 50,000
 * writes/s (D/B = 0.5).  V_1 = 10^9 (10 s) leaves
 * 10^9 (1 - e^-0.5) = 393,469,340 B; V_3 = 10^9 (1 - e^-0.19673) =
 * 178,591,451; ... V_12 = 320,012; V_13 = 159,993 < 200 KiB: threshold,
 * 13 rounds, 1,740,376,109 B, 17.4037611 s, downtime 1.59993 ms.  The
 * same input without a working set halves each round: 0.5^13 M =
 * 122,070 B is the first under 200 KiB: 14 rounds, 2 x 10^9 (1 - 2^-14)
 * B, 19.9987793 s. */
static void
test_working_set_hand_computed(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    struct precopy_input in = input(50000);
    struct precopy_estimate lin = both(&cfg, &in);
    assert_int_equal(lin.rounds, 14);
    assert_near(lin.total_s, 19.998779296875, 1e-9);

    in.working_set_bytes = in.memory_bytes;
    struct precopy_estimate e = both(&cfg, &in);
    assert_int_equal(e.rounds, 13);
    assert_int_equal(e.stop, PRECOPY_STOP_THRESHOLD);
    assert_true(e.converged);
    assert_near(e.bytes_sent, 1740376109.4888413, 1e-12);
    assert_near(e.total_s, 17.403761094888413, 1e-12);
    assert_near(e.final_bytes, 159992.981946236, 1e-12);
    assert_near(e.downtime_s, 0.0015999298194624, 1e-12);
}

/* D >= B: without a working set round 2 would send at least round 1, so
 * the model stops at once (nonconvergent).  With W = M the dirty set
 * cannot outgrow memory: D = 150,000 (1.5 B) leaves 10^9 (1 - e^-1.5) =
 * 776,869,840 B after round 1, and round 3 would send more than 3 M:
 * max_sent after 2 iterative rounds, 3 rounds, 688,172,385 B last. */
static void
test_working_set_fast_dirtying(void **state)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    struct precopy_input in = input(150000);
    assert_int_equal(both(&cfg, &in).stop, PRECOPY_STOP_NONCONVERGENT);

    in.working_set_bytes = in.memory_bytes;
    struct precopy_estimate e = both(&cfg, &in);
    assert_int_equal(e.stop, PRECOPY_STOP_MAX_SENT);
    assert_int_equal(e.rounds, 3);
    assert_near(e.final_bytes, 688172384.9643999, 1e-12);
    assert_near(e.total_s, 24.6504222481597, 1e-12);
    assert_true(e.bytes_sent <= 3 * (double) in.memory_bytes);
}

/* precopy_dirty_bytes(): linear without a working set; with one, never
 * above W nor above the writes, close to the writes while they are a
 * small part of W, and no pages when nothing is written.  A working set
 * larger than memory is refused. */
static void
test_working_set_dirty_bytes(void **state)
{
    struct precopy_input in = input(1000); /* 10^6 B/s of writes */
    assert_near(precopy_dirty_bytes(&in, 2.5), 2.5e6, 1e-9);
    in.working_set_bytes = 100000000;      /* 10^8 B */
    /* 10^8 (1 - e^-0.025) = 2,469,008.797166733 */
    assert_near(precopy_dirty_bytes(&in, 2.5), 2469008.797166733, 1e-12);
    /* Nothing written in an endless time is nothing (not 0 x inf). */
    struct precopy_input idle = in;
    idle.dirty_pages_per_s = 0;
    assert_near(precopy_dirty_bytes(&idle, INFINITY), 0, 0);
    assert_true(precopy_dirty_bytes(&in, 1e6) <= 1e8);
    assert_near(precopy_dirty_bytes(&in, 1e6), 1e8, 1e-12);
    assert_near(precopy_dirty_bytes(&in, 0), 0, 0);
    in.dirty_pages_per_s = 0;
    assert_near(precopy_dirty_bytes(&in, 5), 0, 0);

    struct precopy_config cfg;
    precopy_config_default(&cfg);
    struct precopy_estimate e = {.rounds = 77};
    in = input(10);
    in.working_set_bytes = in.memory_bytes + 1;
    assert_int_equal(precopy_estimate(&cfg, &in, &e), EINVAL);
    assert_int_equal(precopy_iterate(&cfg, &in, &e), EINVAL);
    assert_int_equal(e.rounds, 77);
    /* Nothing dirtied, threshold test off: the walk still ends. */
    in = input(0);
    in.working_set_bytes = in.memory_bytes;
    cfg.stop_bytes = 0;
    e = both(&cfg, &in);
    assert_true(isfinite(e.total_s));
    assert_near(e.final_bytes, 0, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_xen),
        cmocka_unit_test(test_no_dirtying),
        cmocka_unit_test(test_threshold_hand_computed),
        cmocka_unit_test(test_threshold_configurable),
        cmocka_unit_test(test_max_rounds),
        cmocka_unit_test(test_max_sent),
        cmocka_unit_test(test_nonconvergent),
        cmocka_unit_test(test_no_bandwidth),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_closed_form_matches_iteration),
        cmocka_unit_test(test_closed_form_matches_iteration_random),
        cmocka_unit_test(test_stripe_bandwidth),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_working_set_hand_computed),
        cmocka_unit_test(test_working_set_fast_dirtying),
        cmocka_unit_test(test_working_set_dirty_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
