/* test_fabsim_model.c: the fabric simulator against the paper results
 * and the pre-copy model.
 *
 * Seed 002's experiment (three transfers 4->1, 5->2, 6->3: D-R gives each
 * the link rate, a single path does not); without contention the
 * simulated time is the estimate (the same model, within 1 %), with
 * contention or background load it is longer; dr+paths meets a deadline
 * 'single' misses; D-R follows port statistics; runs are deterministic. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mignet/planner.h"
#include "sim/fabsim.h"

static struct fabsim_world *
world(const struct fabsim_params *p)
{
    char err[256] = "";
    struct fabsim_world *w = NULL;
    if (fabsim_world_create(p, &w, err, sizeof err)) {
        fail_msg("fabsim_world_create: %s", err);
    }
    return w;
}

static void
run(const struct fabsim_world *w, enum fabsim_strategy s,
    struct fabsim_result *r)
{
    char err[256] = "";
    if (fabsim_run(w, s, r, err, sizeof err)) {
        fail_msg("fabsim_run(%s): %s", fabsim_strategy_name(s), err);
    }
    assert_int_equal(r->n, w->n_jobs);
}

/* Seed 002 §5.2 and §6.1: three parallel transfers over 500 Mbit/s
 * links.  'dirty' 0 makes them plain bulk transfers. */
static void
seed002_params(struct fabsim_params *p, double dirty)
{
    fabsim_params_default(p);
    p->topo = FABSIM_TOPO_SEED002;
    p->concurrent = true;
    p->memory_mb = 256;
    p->dirty_pages_per_s = dirty;
    p->deadline_ms = 0;
}

/* The core switch a seed-002 route crosses (h, edge, core, edge, h). */
static uint32_t
core_of(const struct fabsim_mig *g)
{
    assert_int_equal(g->paths[0].n_links, 4);
    return g->paths[0].nodes[2];
}

static void
test_seed002_dr_gives_each_transfer_the_link(void **state)
{
    (void)state;
    struct fabsim_params p;
    seed002_params(&p, 0);
    struct fabsim_world *w = world(&p);
    assert_int_equal(w->n_jobs, 3);
    struct fabsim_result single, dr;
    run(w, FABSIM_SINGLE, &single);
    run(w, FABSIM_DR, &dr);
    for (size_t i = 0; i < 3; i++) {
        /* Fig. 10: every transfer at full speed. */
        assert_true(dr.mig[i].throughput_mbps >= 0.95 * 500);
        /* Fig. 9: they share (5, 1, 4) and crawl. */
        assert_true(single.mig[i].throughput_mbps <= 0.5 * 500);
        assert_int_equal(core_of(&single.mig[i]), core_of(&single.mig[0]));
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(core_of(&dr.mig[i]), core_of(&dr.mig[j]));
        }
        assert_true(dr.mig[i].sim_ms < single.mig[i].sim_ms / 2);
    }
    assert_true(dr.mean_link_util > 2 * single.mean_link_util);
    fabsim_result_destroy(&single);
    fabsim_result_destroy(&dr);
    fabsim_world_destroy(w);
}

/* The estimate for one path of 'mbps', straight from the estimator. */
static void
expected(const struct fabsim_world *w, double mbps,
         struct precopy_estimate *est)
{
    struct precopy_config cfg;
    precopy_config_default(&cfg);
    struct precopy_input in = {
        .memory_bytes = w->memory_bytes,
        .dirty_pages_per_s = w->p.dirty_pages_per_s,
        .page_size = 4096,
        .bandwidth_Bps = mbps * 1e6 / 8,
    };
    assert_int_equal(precopy_estimate(&cfg, &in, est), 0);
}

static void
assert_within(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * want)) {
        fail_msg("got %.6f, want %.6f within %g %%", got, want, rel * 100);
    }
}

/* One migration alone: simulated == estimated within 1 %, and both are
 * the estimator's answer at the path's bandwidth, round for round. */
static void
test_no_contention_matches_estimate(void **state)
{
    (void)state;
    static const double memories[] = {128, 1024};
    /* 0 is one round; 25,000 pages/s is 819 Mbit/s: many rounds on 1
     * Gbit/s, nonconvergent on 500 Mbit/s. */
    static const double dirties[] = {0, 5000, 10000, 25000};
    size_t multi_round = 0;
    for (int topo = 0; topo < 2; topo++) {
        for (size_t m = 0; m < 2; m++) {
            for (size_t d = 0; d < 4; d++) {
                struct fabsim_params p;
                fabsim_params_default(&p);
                if (topo) {
                    seed002_params(&p, dirties[d]);
                    snprintf(p.pairs, sizeof p.pairs, "h5:h2");
                } else {
                    snprintf(p.pairs, sizeof p.pairs, "h1_1_1:h3_2_1");
                    p.dirty_pages_per_s = dirties[d];
                    p.deadline_ms = 0;
                }
                p.memory_mb = memories[m];
                struct fabsim_world *w = world(&p);
                struct precopy_estimate est;
                expected(w, topo ? 500 : 1000, &est);
                for (unsigned s = 0; s < FABSIM_N_STRATEGIES; s++) {
                    struct fabsim_result r;
                    run(w, s, &r);
                    const struct fabsim_mig *g = &r.mig[0];
                    assert_within(g->estimate_ms, est.total_s * 1000, 1e-9);
                    assert_within(g->sim_ms, g->estimate_ms, 0.01);
                    assert_int_equal(g->rounds, est.rounds);
                    assert_int_equal(g->precopy_stop, est.stop);
                    assert_within(g->bytes, est.bytes_sent, 1e-6);
                    assert_within(g->downtime_ms, est.downtime_s * 1000, 0.01);
                    multi_round += g->rounds > 3;
                    fabsim_result_destroy(&r);
                }
                fabsim_world_destroy(w);
            }
        }
    }
    /* The cases above do exercise the rounds. */
    assert_true(multi_round >= 8);
}

static void
test_nonconvergent_stops_after_one_round(void **state)
{
    (void)state;
    struct fabsim_params p;
    seed002_params(&p, 20000); /* 655 Mbit/s dirtied > 500 Mbit/s */
    snprintf(p.pairs, sizeof p.pairs, "h4:h1");
    struct fabsim_world *w = world(&p);
    struct fabsim_result r;
    run(w, FABSIM_DR, &r);
    assert_int_equal(r.mig[0].precopy_stop, PRECOPY_STOP_NONCONVERGENT);
    assert_int_equal(r.mig[0].rounds, 2);
    double m_bits = (double)w->memory_bytes * 8;
    assert_within(r.mig[0].sim_ms, 2 * m_bits / 500e6 * 1000, 1e-6);
    fabsim_result_destroy(&r);
    fabsim_world_destroy(w);
}

static void
test_contention_is_longer(void **state)
{
    (void)state;
    struct fabsim_params p;
    seed002_params(&p, 5000);
    struct fabsim_world *w = world(&p);
    struct fabsim_result single, dr;
    run(w, FABSIM_SINGLE, &single);
    run(w, FABSIM_DR, &dr);
    for (size_t i = 0; i < 3; i++) {
        /* The estimate assumed the whole link; three share it. */
        assert_true(single.mig[i].sim_ms > 1.5 * single.mig[i].estimate_ms);
        assert_within(dr.mig[i].sim_ms, dr.mig[i].estimate_ms, 0.01);
    }
    assert_true(single.ratio_mean > 1.5);
    assert_true(single.time_mean_ms > 1.5 * dr.time_mean_ms);
    fabsim_result_destroy(&single);
    fabsim_result_destroy(&dr);
    fabsim_world_destroy(w);
}

/* A background flow between the migration's own hosts shares both NICs:
 * capped at 100 Mbit/s it leaves 400; uncapped it takes half. */
static void
test_background_load(void **state)
{
    (void)state;
    for (int capped = 0; capped < 2; capped++) {
        for (int on_capacity = 0; on_capacity < 2; on_capacity++) {
            struct fabsim_params p;
            seed002_params(&p, 5000);
            snprintf(p.pairs, sizeof p.pairs, "h4:h1");
            p.background = 1;
            p.background_mbps = capped ? 100 : 0;
            p.capacity_estimate = on_capacity;
            struct fabsim_world *w = world(&p);
            w->background[0] = w->jobs[0];
            struct precopy_estimate alone, shared;
            expected(w, 500, &alone);
            expected(w, capped ? 400 : 250, &shared);
            struct fabsim_result r;
            run(w, FABSIM_DR, &r);
            const struct fabsim_mig *g = &r.mig[0];
            assert_within(g->sim_ms, shared.total_s * 1000, 0.01);
            assert_true(g->sim_ms > 1.05 * alone.total_s * 1000);
            if (on_capacity) {
                assert_within(g->estimate_ms, alone.total_s * 1000, 1e-9);
            } else if (capped) {
                /* The last period measured the 100 Mbit/s it takes. */
                assert_within(g->estimate_ms, g->sim_ms, 0.01);
            } else {
                /* It measured a full NIC: nothing left, by the model. */
                assert_true(isinf(g->estimate_ms));
                assert_int_equal(r.estimates_infinite, 1);
            }
            assert_true(r.background_bytes > 0);
            fabsim_result_destroy(&r);
            fabsim_world_destroy(w);
        }
    }
}

/* Seed 004 on a fat-tree whose host NICs (10 Gbit/s) outrun one fabric
 * path (1 Gbit/s): one path misses an 8 s deadline for 1 GiB, two meet
 * it. */
static void
test_dr_paths_meets_deadline_single_misses(void **state)
{
    (void)state;
    struct fabsim_params p;
    fabsim_params_default(&p);
    snprintf(p.pairs, sizeof p.pairs, "h1_1_1:h3_1_1");
    p.deadline_ms = 8000;
    struct fabsim_world *w = world(&p);
    struct fabsim_result single, paths;
    run(w, FABSIM_SINGLE, &single);
    run(w, FABSIM_DR_PATHS, &paths);
    assert_true(single.mig[0].sim_ms > 8000);
    assert_false(single.mig[0].deadline_met);
    assert_int_equal(single.deadlines_missed, 1);
    assert_int_equal(single.mig[0].plan_stop, PLAN_STOP_MAX_PATHS);

    const struct fabsim_mig *g = &paths.mig[0];
    assert_true(g->sim_ms <= 8000);
    assert_true(g->deadline_met);
    assert_int_equal(paths.deadlines_met, 1);
    assert_int_equal(g->plan_stop, PLAN_STOP_FITS);
    assert_true(g->n_paths >= 2);
    assert_true(g->setup_ms > 0);
    assert_within(g->sim_ms, g->estimate_ms, 0.01);
    size_t added_hops = 0;
    for (size_t k = 1; k < g->n_paths; k++) {
        added_hops += g->paths[k].n_hops;
    }
    assert_int_equal(paths.hops_released, added_hops);
    assert_int_equal(paths.paths_added, g->n_paths - 1);
    fabsim_result_destroy(&single);
    fabsim_result_destroy(&paths);
    fabsim_world_destroy(w);

    /* No CPU to reassemble a second stream: one path, deadline missed. */
    p.cpu_free = 0;
    w = world(&p);
    run(w, FABSIM_DR_PATHS, &paths);
    assert_int_equal(paths.mig[0].n_paths, 1);
    assert_int_equal(paths.mig[0].plan_stop, PLAN_STOP_CPU_EXHAUSTED);
    assert_false(paths.mig[0].deadline_met);
    fabsim_result_destroy(&paths);
    fabsim_world_destroy(w);
}

/* D-R's weights are last period's port counters: a migration that starts
 * after a poll saw the first one's load avoids its core; 'single' takes
 * the same path again. */
static void
test_dr_follows_port_statistics(void **state)
{
    (void)state;
    struct fabsim_params p;
    seed002_params(&p, 0);
    p.concurrent = false;
    p.rate = 1.0 / 6;   /* arrivals at 5 s and 11 s; polls every 5 s */
    p.memory_mb = 2048; /* 34 s at 500 Mbit/s: still running at 11 s */
    snprintf(p.pairs, sizeof p.pairs, "h4:h1,h5:h2");
    struct fabsim_world *w = world(&p);
    struct fabsim_result dr, single;
    run(w, FABSIM_DR, &dr);
    run(w, FABSIM_SINGLE, &single);
    assert_int_not_equal(core_of(&dr.mig[0]), core_of(&dr.mig[1]));
    assert_int_equal(core_of(&single.mig[0]), core_of(&single.mig[1]));
    assert_true(dr.polls >= 3);
    /* No mark survives a poll: at 11 s only the counters spoke. */
    assert_within(dr.mig[1].sim_ms, dr.mig[1].estimate_ms, 0.01);
    assert_true(single.mig[1].sim_ms > 1.2 * dr.mig[1].sim_ms);
    fabsim_result_destroy(&dr);
    fabsim_result_destroy(&single);
    fabsim_world_destroy(w);
}

/* A busy random workload: background flows, overlapping migrations. */
static void
busy_params(struct fabsim_params *p)
{
    fabsim_params_default(p);
    p->migrations = 24;
    p->rate = 3;
    p->background = 12;
    p->background_mbps = 300;
    p->memory_mb = 512;
    p->period_ms = 1000;
    p->seed = 7;
}

static char *
json_of(const struct fabsim_world *w, struct fabsim_result *r, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        r[i].wall_ms = 0;
    }
    assert_int_equal(fabsim_report_json(f, w, r, n), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void
test_deterministic(void **state)
{
    (void)state;
    struct fabsim_params p;
    busy_params(&p);
    char *out[2];
    struct fabsim_result first[FABSIM_N_STRATEGIES];
    for (int k = 0; k < 2; k++) {
        struct fabsim_world *w = world(&p);
        struct fabsim_result r[FABSIM_N_STRATEGIES];
        for (unsigned s = 0; s < FABSIM_N_STRATEGIES; s++) {
            run(w, s, &r[s]);
        }
        out[k] = json_of(w, r, FABSIM_N_STRATEGIES);
        for (unsigned s = 0; s < FABSIM_N_STRATEGIES; s++) {
            if (!k) {
                first[s] = r[s];
                continue;
            }
            assert_true(r[s].events == first[s].events);
            for (size_t i = 0; i < r[s].n; i++) {
                assert_true(r[s].mig[i].sim_ms == first[s].mig[i].sim_ms);
                assert_true(r[s].mig[i].estimate_ms ==
                            first[s].mig[i].estimate_ms);
                assert_true(r[s].mig[i].bytes == first[s].mig[i].bytes);
            }
            fabsim_result_destroy(&r[s]);
            fabsim_result_destroy(&first[s]);
        }
        fabsim_world_destroy(w);
    }
    assert_string_equal(out[0], out[1]);
    /* The workload is busy enough to mean something. */
    assert_non_null(strstr(out[0], "\"deadline_met\": false"));
    free(out[0]);
    free(out[1]);

    /* Another seed is another workload. */
    p.seed = 8;
    struct fabsim_world *w = world(&p);
    struct fabsim_result r;
    run(w, FABSIM_DR, &r);
    char *other = json_of(w, &r, 1);
    assert_null(strstr(other, "\"seed\": 7"));
    fabsim_result_destroy(&r);
    fabsim_world_destroy(w);
    free(other);
}

static void
test_solvers_agree_on_a_run(void **state)
{
    (void)state;
    struct fabsim_params p;
    busy_params(&p);
    struct fabsim_world *w = world(&p);
    for (unsigned s = 0; s < FABSIM_N_STRATEGIES; s++) {
        struct fabsim_result heap, scan;
        w->p.scan_solver = false;
        run(w, s, &heap);
        w->p.scan_solver = true;
        run(w, s, &scan);
        assert_true(heap.solves > 24);
        for (size_t i = 0; i < heap.n; i++) {
            assert_within(scan.mig[i].sim_ms, heap.mig[i].sim_ms, 1e-9);
        }
        fabsim_result_destroy(&heap);
        fabsim_result_destroy(&scan);
    }
    fabsim_world_destroy(w);
}

static void
expect_bad(const char *const *args, int n, const char *needle)
{
    struct fabsim_params p, before;
    fabsim_params_default(&p);
    before = p;
    char err[256] = "";
    bool help = false;
    char *argv[16];
    argv[0] = "sim";
    for (int i = 0; i < n; i++) {
        argv[i + 1] = (char *)args[i];
    }
    assert_int_equal(
        fabsim_params_parse(&p, n + 1, argv, &help, err, sizeof err), EINVAL);
    assert_memory_equal(&p, &before, sizeof p);
    if (!strstr(err, needle)) {
        fail_msg("error '%s' does not name '%s'", err, needle);
    }
}

static void
test_params(void **state)
{
    (void)state;
#define BAD(needle, ...)                                                      \
    do {                                                                      \
        const char *const a[] = {__VA_ARGS__};                                \
        expect_bad(a, (int)(sizeof a / sizeof a[0]), needle);                 \
    } while (0)
    BAD("--fabric", "--fabric", "nope");
    BAD("--k", "--fabric", "fattree", "--k", "5");
    BAD("--k", "--k", "50");
    BAD("--k", "--k", "4.5");
    BAD("--rate", "--rate", "0");
    BAD("--strategy", "--strategy", "dr,bogus");
    BAD("--strategy", "--strategy", "");
    BAD("--topo", "--topo");
    BAD("--host-mbps", "--fabric", "seed002", "--host-mbps", "100");
    BAD("--pairs", "--pairs", "h1");
    BAD("--pairs", "--pairs", "h1:h2:h3");
    BAD("--cpu-free", "--cpu-free", "2");
    BAD("--memory-mb", "--memory-mb", "12x");
    BAD("--json", "--json=1");
    BAD("--topo FILE", "--fabric", "file");
    BAD("--solver", "--solver", "fast");
    BAD("unknown option", "--frobnicate", "1");
#undef BAD

    struct fabsim_params p;
    fabsim_params_default(&p);
    char err[256] = "";
    bool help = false;
    char *argv[] = {
        "sim",    "--fabric=seed002", "--strategy",           "dr,single",
        "--json", "--seed",           "18446744073709551615", "--help"};
    assert_int_equal(fabsim_params_parse(&p, 8, argv, &help, err, sizeof err),
                     0);
    assert_int_equal(p.topo, FABSIM_TOPO_SEED002);
    assert_int_equal(p.strategies, (1u << FABSIM_DR) | (1u << FABSIM_SINGLE));
    assert_true(p.json);
    assert_true(help);
    assert_true(p.seed == UINT64_MAX);

    /* Pairs are checked against the fabric. */
    fabsim_params_default(&p);
    snprintf(p.pairs, sizeof p.pairs, "h1_1_1:nosuch");
    struct fabsim_world *w = NULL;
    assert_int_equal(fabsim_world_create(&p, &w, err, sizeof err), EINVAL);
    assert_non_null(strstr(err, "nosuch"));
    snprintf(p.pairs, sizeof p.pairs, "h1_1_1:c1");
    assert_int_equal(fabsim_world_create(&p, &w, err, sizeof err), EINVAL);
    snprintf(p.pairs, sizeof p.pairs, "h1_1_1:h1_1_1");
    assert_int_equal(fabsim_world_create(&p, &w, err, sizeof err), EINVAL);
    assert_null(w);
    p.pairs[0] = '\0';
    p.topo = FABSIM_TOPO_FILE;
    snprintf(p.topo_file, sizeof p.topo_file, "/nonexistent/x.topo");
    assert_int_equal(fabsim_world_create(&p, &w, err, sizeof err), EIO);
    assert_null(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed002_dr_gives_each_transfer_the_link),
        cmocka_unit_test(test_no_contention_matches_estimate),
        cmocka_unit_test(test_nonconvergent_stops_after_one_round),
        cmocka_unit_test(test_contention_is_longer),
        cmocka_unit_test(test_background_load),
        cmocka_unit_test(test_dr_paths_meets_deadline_single_misses),
        cmocka_unit_test(test_dr_follows_port_statistics),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_solvers_agree_on_a_run),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
