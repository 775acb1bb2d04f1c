/* test_sim_series.c: the loss time series and cleanup samples behind
 * `mignet sim --plot` (src/sim/plot.c) are the run's own counters.
 *
 * For every strategy, on random small schedules and every switch-over
 * mode, in the cold-stream arithmetic and in --exact: the buckets add up
 * to the lost_* classes (sent - delivered), no bucket lies past the run,
 * the cleanup samples are 'cleaned' sorted values whose nearest-rank
 * percentiles are cleanup_ms; without --plot no series is kept; and the
 * data file holds the same sums.  Runs under ASan with the sim label. */
#include "simtest.h"

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

static double
rank_ms(const struct sim_result *r, double q)
{
    size_t n = (size_t)r->cleaned;
    size_t k = (size_t)(q * (double)n);
    if ((double)k < q * (double)n) {
        k++;
    }
    if (k < 1) {
        k = 1;
    }
    return (double)r->cleanup_us[k - 1] / 1000.0;
}

static void
check_series(const struct sim_params *p, const struct sim_result *r)
{
    assert_int_equal(r->series_ms, p->plot_bucket_ms);
    uint64_t sum = 0;
    for (size_t i = 0; i < r->n_series; i++) {
        sum += r->lost_series[i];
    }
    if (sum != sim_result_lost(r)) {
        print_error("%s seed %" PRIu64 ": series %" PRIu64 ", lost %" PRIu64
                    "\n", r->strategy, p->seed, sum, sim_result_lost(r));
    }
    assert_int_equal(sum, sim_result_lost(r));
    assert_int_equal(sum, r->sent - r->delivered);
    /* Nothing is lost after the run stops. */
    assert_true(r->n_series <= r->sim_ms / r->series_ms + 1);
    if (!r->cleaned) {
        return;
    }
    assert_non_null(r->cleanup_us);
    for (uint64_t k = 1; k < r->cleaned; k++) {
        assert_true(r->cleanup_us[k - 1] <= r->cleanup_us[k]);
    }
    assert_true(rank_ms(r, 0.50) == r->cleanup_p50_ms);
    assert_true(rank_ms(r, 0.99) == r->cleanup_p99_ms);
    assert_true(rank_ms(r, 1.0) == r->cleanup_max_ms);
}

static void
run_all(struct sim_params *p)
{
    struct sim_workload *wl = sim_workload_create(p);
    assert_non_null(wl);
    for (size_t s = 0; s < SIM_N_STRATEGIES; s++) {
        struct sim_result r;
        char err[256] = "";
        assert_int_equal(sim_run(wl, sim_strategies[s], NULL, &r, err,
                                 sizeof err),
                         0);
        check_series(p, &r);
        sim_result_destroy(&r);
        assert_null(r.lost_series);
        assert_null(r.cleanup_us);
    }
    sim_workload_destroy(wl);
}

static void
test_random_schedules(void **state)
{
    (void)state;
    static const enum mig_switchover modes[] = {
        MIG_SW_NOW, MIG_SW_MANUAL, MIG_SW_RARP, MIG_SW_LOSSLESS,
    };
    for (uint64_t seed = 1; seed <= 24; seed++) {
        struct sim_params p;
        simtest_random_params(&p, seed);
        p.switchover = modes[seed % 4];
        p.plot_data = "unused";
        p.plot_bucket_ms = 1 + (uint32_t)(seed * 37 % 250);
        run_all(&p);
    }
}

static void
test_exact_and_cold_agree(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_PINGPONG, 5);
    p.plot = "unused.png";
    struct sim_result cold, exact;
    simtest_run(&p, "fixed", &cold);
    p.exact = true;
    simtest_run(&p, "fixed", &exact);
    assert_true(sim_result_lost(&cold) > 0);
    check_series(&p, &cold);
    check_series(&p, &exact);
    /* The same packets, the same buckets, whichever way they are
     * counted (docs/simulator.md: cold streams are exact). */
    assert_int_equal(sim_result_lost(&cold), sim_result_lost(&exact));
    size_t n = cold.n_series > exact.n_series ? cold.n_series
                                              : exact.n_series;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = i < cold.n_series ? cold.lost_series[i] : 0;
        uint64_t b = i < exact.n_series ? exact.lost_series[i] : 0;
        if (a != b) {
            print_error("bucket %zu: cold %" PRIu64 ", exact %" PRIu64
                        "\n", i, a, b);
        }
        assert_int_equal(a, b);
    }
    sim_result_destroy(&cold);
    sim_result_destroy(&exact);
}

static void
test_no_series_without_plot(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 2);
    struct sim_result r;
    simtest_run(&p, "naive", &r);
    assert_true(sim_result_lost(&r) > 0);
    assert_null(r.lost_series);
    assert_null(r.cleanup_us);
    assert_int_equal(r.n_series, 0);
    sim_result_destroy(&r);
    sim_result_destroy(NULL);
}

static void
test_data_file(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_CHAIN, 3);
    char path[] = "/tmp/mignet-series.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    p.plot_data = path;
    struct sim_result r[2];
    simtest_run(&p, "naive", &r[0]);
    simtest_run(&p, "mignet", &r[1]);
    char err[256] = "";
    assert_int_equal(sim_plot_write_data(path, &p, r, 2, err, sizeof err),
                     0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    uint64_t sum[2] = {0, 0};
    uint64_t rows = 0, cleanup_rows = 0;
    int block = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n') {
            block++;
            continue;
        }
        if (line[0] == '#') {
            continue;
        }
        if (block == 0) {
            double t;
            unsigned long long a, b;
            assert_int_equal(sscanf(line, "%lf\t%llu\t%llu", &t, &a, &b), 3);
            sum[0] += a;
            sum[1] += b;
            rows++;
        } else {
            cleanup_rows++;
        }
    }
    fclose(f);
    unlink(path);
    assert_int_equal(sum[0], sim_result_lost(&r[0]));
    assert_int_equal(sum[1], sim_result_lost(&r[1]));
    assert_true(rows >= r[0].horizon_ms / p.plot_bucket_ms);
    assert_int_equal(cleanup_rows, r[0].cleaned + r[1].cleaned);
    /* A file that cannot be written: an error naming it. */
    assert_int_equal(sim_plot_write_data("/nonexistent/x.tsv", &p, r, 2,
                                         err, sizeof err),
                     ENOENT);
    assert_non_null(strstr(err, "/nonexistent/x.tsv"));
    sim_result_destroy(&r[0]);
    sim_result_destroy(&r[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_schedules),
        cmocka_unit_test(test_exact_and_cold_agree),
        cmocka_unit_test(test_no_series_without_plot),
        cmocka_unit_test(test_data_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
