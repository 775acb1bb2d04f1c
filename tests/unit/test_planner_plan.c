/* test_planner_plan.c: the seed-004 loop: every stop reason reached,
 * estimates per step worked out by hand, D-R marks, the release of added
 * paths, and bad requests.
 *
 * The fabric: hosts s and d with 10 Gbit/s NICs on switches a and b,
 * which three middle switches m1-m3 join with 1 Gbit/s links, so each
 * path adds exactly 1 Gbit/s.  No pages are dirtied unless a test says
 * so, making a migration's time M / B: 1.25e9 B take 10 s on one path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "unit/planner_helpers.h"

static const char three_ways[] =
    "switch a dpid=1\n"
    "switch b dpid=2\n"
    "switch m1 dpid=11\n"
    "switch m2 dpid=12\n"
    "switch m3 dpid=13\n"
    "link a:1 m1:1 1gbit\n"
    "link m1:2 b:1 1gbit\n"
    "link a:2 m2:1 1gbit\n"
    "link m2:2 b:2 1gbit\n"
    "link a:3 m3:1 1gbit\n"
    "link m3:2 b:3 1gbit\n"
    "host s a:10 10gbit\n"
    "host d b:10 10gbit\n"
    "host s2 a:11 10gbit\n"
    "host d2 b:11 10gbit\n"
    "host slow a:12 1gbit\n";

struct env {
    struct fabric *f;
    struct router *r;
    struct plan_config cfg;
    struct plan_request req;
    struct plan *plan;
};

static int
setup(void **state)
{
    struct env *env = calloc(1, sizeof *env);
    assert_non_null(env);
    env->f = parse_ok(three_ways);
    struct router_config rc;
    router_config_default(&rc);
    env->r = router_create(env->f, &rc);
    assert_non_null(env->r);
    plan_config_default(&env->cfg);
    env->req = (struct plan_request) {
        .src = node_of(env->f, "s"),
        .dst = node_of(env->f, "d"),
        .memory_bytes = 1250000000,
        .dirty_pages_per_s = 0,
        .page_size = 4096,
        .deadline_ms = 1000,
        .target_cpu_free = 1.0,
        .strategy = ROUTE_DR,
    };
    *state = env;
    return 0;
}

static int
teardown(void **state)
{
    struct env *env = *state;
    plan_destroy(env->plan);
    router_destroy(env->r);
    fabric_destroy(env->f);
    free(env);
    return 0;
}

static const struct plan *
run(struct env *env)
{
    plan_destroy(env->plan);
    env->plan = NULL;
    int err = plan_create(env->r, &env->cfg, &env->req, &env->plan);
    if (err) {
        fail_msg("plan_create: %d", err);
    }
    return env->plan;
}

/* The middle switch path i goes through. */
static const char *
middle(const struct env *env, size_t i)
{
    const struct route *p = plan_path(env->plan, i);
    assert_non_null(p);
    assert_int_equal(p->n_links, 4);
    return fabric_node_name(env->f, p->nodes[2]);
}

static void
assert_stop(const struct plan *p, enum plan_stop want)
{
    if (plan_stop(p) != want) {
        fail_msg("stopped on %s (%s), want %s", plan_stop_name(plan_stop(p)),
                 plan_explain(p), plan_stop_name(want));
    }
}

/* Estimates per step, by hand.  Default striping overhead 5 % a stream,
 * flow install 5 ms per switch, 3 switches a path:
 *   1 path:  1 Gbit/s            -> 1.25e9 B / 1.25e8 B/s = 10 s
 *   2 paths: 2 * 0.95 = 1.9 Gbit/s -> 1.25e9 / 2.375e8 = 5.263157894736842 s
 *            + 15 ms set-up
 *   3 paths: 3 * 0.90 = 2.7 Gbit/s -> 1.25e9 / 3.375e8 = 3.703703703703704 s
 *            + 30 ms set-up */
static void
test_fits_at_each_step(void **state)
{
    struct env *env = *state;
    static const struct {
        uint64_t deadline_ms;
        size_t paths;
    } cases[] = {{10000, 1}, {9999, 2}, {5279, 2}, {5278, 3}, {3734, 3}};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        router_period_begin(env->r);
        env->req.deadline_ms = cases[i].deadline_ms;
        const struct plan *p = run(env);
        assert_stop(p, PLAN_STOP_FITS);
        assert_int_equal(plan_n_paths(p), cases[i].paths);
        assert_int_equal(plan_n_steps(p), cases[i].paths);
        assert_true(plan_final(p)->total_ms <= (double) cases[i].deadline_ms);
    }

    /* The 3-path plan's steps in full. */
    const struct plan *p = env->plan;
    const struct plan_step *s0 = plan_step(p, 0), *s1 = plan_step(p, 1),
                           *s2 = plan_step(p, 2);
    assert_null(plan_step(p, 3));
    assert_near(s0->bandwidth_bps, 1e9, 1e-12);
    assert_near(s0->total_ms, 10000, 1e-12);
    assert_near(s0->setup_ms, 0, 0);
    assert_near(s1->bandwidth_bps, 1.9e9, 1e-12);
    assert_near(s1->setup_ms, 15, 1e-12);
    assert_near(s1->total_ms, 5263.157894736842 + 15, 1e-12);
    assert_near(s2->bandwidth_bps, 2.7e9, 1e-12);
    assert_near(s2->setup_ms, 30, 1e-12);
    assert_near(s2->total_ms, 3703.703703703704 + 30, 1e-12);
    assert_int_equal(s2->n_paths, 3);
    assert_true(s2->estimate.converged);
    /* Each path through its own middle switch. */
    assert_string_equal(middle(env, 0), "m1");
    assert_string_equal(middle(env, 1), "m2");
    assert_string_equal(middle(env, 2), "m3");
}

static void
test_no_path(void **state)
{
    struct env *env = *state;
    env->req.deadline_ms = 1000; /* even 3 paths need 3734 ms */
    const struct plan *p = run(env);
    assert_stop(p, PLAN_STOP_NO_PATH);
    assert_int_equal(plan_n_paths(p), 3);
    assert_true(plan_final(p)->total_ms > 1000);
}

static void
test_max_paths(void **state)
{
    struct env *env = *state;
    env->cfg.max_paths = 2;
    const struct plan *p = run(env);
    assert_stop(p, PLAN_STOP_MAX_PATHS);
    assert_int_equal(plan_n_paths(p), 2);

    env->cfg.max_paths = 1;
    router_period_begin(env->r);
    p = run(env);
    assert_stop(p, PLAN_STOP_MAX_PATHS);
    assert_int_equal(plan_n_paths(p), 1);
}

/* Each extra stream needs 0.10 of the target's CPU. */
static void
test_cpu_exhausted(void **state)
{
    struct env *env = *state;
    static const struct {
        double free;
        size_t paths;
    } cases[] = {{0, 1}, {0.09, 1}, {0.10, 2}, {0.15, 2}, {0.20, 3}};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        router_period_begin(env->r);
        env->req.target_cpu_free = cases[i].free;
        const struct plan *p = run(env);
        assert_int_equal(plan_n_paths(p), cases[i].paths);
        /* With 3 paths the fabric runs out first. */
        assert_stop(p, cases[i].paths < 3 ? PLAN_STOP_CPU_EXHAUSTED
                                          : PLAN_STOP_NO_PATH);
    }
    env->cfg.cpu_per_stream = 0.5;
    env->req.target_cpu_free = 0.99;
    router_period_begin(env->r);
    assert_int_equal(plan_n_paths(run(env)), 2);
    assert_stop(env->plan, PLAN_STOP_CPU_EXHAUSTED);
}

/* Three switches at 17 ms each is 51 ms > the 50 ms threshold 2; at
 * 16 ms, 48 ms is within it. */
static void
test_setup_too_slow(void **state)
{
    struct env *env = *state;
    env->cfg.flow_install_ms = 17;
    const struct plan *p = run(env);
    assert_stop(p, PLAN_STOP_SETUP_TOO_SLOW);
    assert_int_equal(plan_n_paths(p), 1);
    assert_non_null(strstr(plan_explain(p), "51 ms"));

    env->cfg.flow_install_ms = 16;
    router_period_begin(env->r);
    p = run(env);
    assert_int_equal(plan_n_paths(p), 3);
    assert_near(plan_final(p)->setup_ms, 96, 1e-12);

    env->cfg.flow_install_ms = 5;
    env->cfg.setup_max_ms = 14;
    router_period_begin(env->r);
    assert_stop(run(env), PLAN_STOP_SETUP_TOO_SLOW);
}

/* A 1 Gbit/s NIC: a second path shares it, each gets half, and striping
 * costs 5 %: 0.95 Gbit/s < 1 Gbit/s.  The loop says so and stops. */
static void
test_no_gain(void **state)
{
    struct env *env = *state;
    env->req.src = node_of(env->f, "slow");
    const struct plan *p = run(env);
    assert_stop(p, PLAN_STOP_NO_GAIN);
    assert_int_equal(plan_n_paths(p), 1);
    assert_near(plan_final(p)->total_ms, 10000, 1e-12);
    /* Without striping overhead and set-up cost it is still no gain. */
    env->cfg.striping_overhead = 0;
    env->cfg.flow_install_ms = 0;
    router_period_begin(env->r);
    assert_stop(run(env), PLAN_STOP_NO_GAIN);
}

static void
test_no_deadline(void **state)
{
    struct env *env = *state;
    env->req.deadline_ms = 0;
    const struct plan *p = run(env);
    assert_stop(p, PLAN_STOP_NO_DEADLINE);
    assert_int_equal(plan_n_paths(p), 1);
    assert_near(plan_final(p)->total_ms, 10000, 1e-12);
}

/* Dirtying 1.5e8 B/s outruns one path (1.25e8 B/s): the estimate says
 * it never converges, 2 M / B = 20 s.  Two paths (2.375e8 B/s, D/B =
 * 0.632) converge after 19 rounds, in 1.25e9 (1 - 0.632^20) / 0.368 /
 * 2.375e8 s = 14.3 s. */
static void
test_nonconvergent_then_paths(void **state)
{
    struct env *env = *state;
    env->req.page_size = 1000;
    env->req.dirty_pages_per_s = 150000;
    env->req.deadline_ms = 15000;
    const struct plan *p = run(env);
    const struct plan_step *s0 = plan_step(p, 0);
    assert_int_equal(s0->estimate.stop, PRECOPY_STOP_NONCONVERGENT);
    assert_false(s0->estimate.converged);
    assert_near(s0->total_ms, 20000, 1e-12); /* 2 M / B */
    assert_stop(p, PLAN_STOP_FITS);
    assert_int_equal(plan_n_paths(p), 2);
    assert_true(plan_step(p, 1)->estimate.converged);
    assert_int_equal(plan_step(p, 1)->estimate.rounds, 20);
    assert_true(plan_step(p, 1)->total_ms > 14000);
    assert_true(plan_step(p, 1)->total_ms < 14400);
}

/* With strategy DR the plan's paths are marked: a second migration
 * between the same switches in the same period starts on another middle
 * switch.  Measured load also steers and shrinks the estimate. */
static void
test_dr_marks_and_load(void **state)
{
    struct env *env = *state;
    env->req.deadline_ms = 6000;
    run(env);
    assert_int_equal(plan_n_paths(env->plan), 2);
    assert_string_equal(middle(env, 0), "m1");
    assert_string_equal(middle(env, 1), "m2");

    env->req.src = node_of(env->f, "s2");
    env->req.dst = node_of(env->f, "d2");
    env->req.deadline_ms = 0;
    run(env);
    assert_string_equal(middle(env, 0), "m3");

    /* Next period: a:1 (to m1) sent 156.25 MB in 5 s, 250 Mbit/s.  D-R
     * starts on m2, the least-loaded, and adds m3 rather than m1. */
    router_period_begin(env->r);
    for (uint64_t t = 0; t < 2; t++) {
        assert_int_equal(router_port_stats(env->r, 1, 1, t * 156250000, 0,
                                           t * 5000 + 1),
                         0);
    }
    env->req.deadline_ms = 6500;
    run(env);
    assert_stop(env->plan, PLAN_STOP_FITS);
    assert_int_equal(plan_n_paths(env->plan), 2);
    assert_string_equal(middle(env, 0), "m2");
    assert_string_equal(middle(env, 1), "m3");

    /* 'single' starts on m1 anyway; its estimate uses the 750 Mbit/s
     * left: 1.25e9 B / 93.75e6 B/s = 13333.3 ms.  With use_residual off,
     * capacity counts: 10000 ms. */
    router_period_begin(env->r);
    env->req.strategy = ROUTE_SINGLE;
    env->req.deadline_ms = 0;
    run(env);
    assert_string_equal(middle(env, 0), "m1");
    assert_near(plan_step(env->plan, 0)->bandwidth_bps, 0.75e9, 1e-12);
    assert_near(plan_step(env->plan, 0)->total_ms, 40000.0 / 3, 1e-12);
    env->cfg.use_residual = false;
    run(env);
    assert_near(plan_step(env->plan, 0)->bandwidth_bps, 1e9, 1e-12);
    assert_near(plan_step(env->plan, 0)->total_ms, 10000, 1e-12);
}

/* plan_release() hands back the flows of the added paths once. */
static void
test_release(void **state)
{
    struct env *env = *state;
    const struct plan *p = run(env); /* 3 paths, NO_PATH */
    assert_int_equal(plan_n_paths(p), 3);

    struct route_hop *hops = NULL;
    size_t n = 0;
    assert_int_equal(plan_release(env->plan, &hops, &n), 0);
    assert_int_equal(n, 6);
    assert_non_null(hops);
    /* Paths 2 and 3, in order: a, m2, b then a, m3, b. */
    static const uint64_t dpids[] = {1, 12, 2, 1, 13, 2};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hops[i].dpid, dpids[i]);
        const struct route_hop *want = &plan_path(p, 1 + i / 3)->hops[i % 3];
        assert_int_equal(hops[i].in_port, want->in_port);
        assert_int_equal(hops[i].out_port, want->out_port);
    }
    /* a's flows of path 2 go from the host port 10 to m2's port 2. */
    assert_int_equal(hops[0].in_port, 10);
    assert_int_equal(hops[0].out_port, 2);
    free(hops);

    assert_int_equal(plan_release(env->plan, &hops, &n), 0);
    assert_int_equal(n, 0);
    assert_null(hops);

    /* A one-path plan has nothing to release. */
    env->req.deadline_ms = 0;
    run(env);
    assert_int_equal(plan_release(env->plan, &hops, &n), 0);
    assert_int_equal(n, 0);
}

static void
test_bad_requests(void **state)
{
    struct env *env = *state;
    struct plan *p = (struct plan *) env; /* must stay untouched */
    struct plan_request good = env->req;
    struct plan_config cfg = env->cfg;

    struct plan_request reqs[7];
    for (size_t i = 0; i < 7; i++) {
        reqs[i] = good;
    }
    reqs[0].memory_bytes = 0;
    reqs[1].target_cpu_free = 1.5;
    reqs[2].target_cpu_free = -0.1;
    reqs[3].dirty_pages_per_s = -1;
    reqs[4].strategy = ROUTE_N_STRATEGIES;
    reqs[5].src = node_of(env->f, "a"); /* a switch */
    reqs[6].dst = reqs[6].src;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(plan_create(env->r, &cfg, &reqs[i], &p), EINVAL);
    }
    struct plan_config cfgs[4] = {cfg, cfg, cfg, cfg};
    cfgs[0].striping_overhead = 1.0;
    cfgs[1].max_paths = 0;
    cfgs[2].max_paths = 65;
    cfgs[3].precopy.max_rounds = 1;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(plan_create(env->r, &cfgs[i], &good, &p), EINVAL);
    }
    assert_ptr_equal(p, (struct plan *) env);

    /* Unreachable target. */
    struct fabric *f = parse_ok("switch a dpid=1\nswitch b dpid=2\n"
                                "host x a:1\nhost y b:1\n");
    struct router_config rc;
    router_config_default(&rc);
    struct router *r = router_create(f, &rc);
    good.src = node_of(f, "x");
    good.dst = node_of(f, "y");
    assert_int_equal(plan_create(r, &cfg, &good, &p), ENOENT);
    assert_ptr_equal(p, (struct plan *) env);
    router_destroy(r);
    fabric_destroy(f);
}

/* A learned goodput replaces the first path's bandwidth and scales the
 * others in proportion: 25e6 B/s is a fifth of the 1 Gbit/s links, so
 *   1 path:  200 Mbit/s -> 1.25e9 B / 25e6 B/s = 50 s
 *   2 paths: 2 * 0.95 * 200 Mbit/s = 380 Mbit/s -> 1.25e9 / 47.5e6 B/s
 *            = 26.315789473684212 s + 15 ms set-up. */
static void
test_learned_bandwidth(void **state)
{
    struct env *env = *state;
    struct plan_step st;
    env->req.deadline_ms = 0;
    env->req.learned_Bps = 25e6;
    const struct plan *p = run(env);
    assert_int_equal(plan_n_paths(p), 1);
    assert_float_equal(plan_final(p)->bandwidth_bps, 200e6, 1e-3);
    assert_float_equal(plan_final(p)->total_ms, 50000, 1e-6);

    assert_int_equal(plan_estimate_paths(env->r, &env->cfg, &env->req, 2,
                                         &st), 0);
    assert_int_equal(st.n_paths, 2);
    assert_float_equal(st.bandwidth_bps, 380e6, 1e-3);
    assert_float_equal(st.total_ms, 26315.789473684212 + 15, 1e-6);
    /* Without it, the links' own: 1.9 Gbit/s. */
    env->req.learned_Bps = 0;
    assert_int_equal(plan_estimate_paths(env->r, &env->cfg, &env->req, 2,
                                         &st), 0);
    assert_float_equal(st.bandwidth_bps, 1.9e9, 1e-3);
    assert_float_equal(st.total_ms, 5263.157894736842 + 15, 1e-6);
    /* Three middle switches: a fourth path would repeat one. */
    assert_int_equal(plan_estimate_paths(env->r, &env->cfg, &env->req, 4,
                                         &st), ENOENT);
    assert_int_equal(plan_estimate_paths(env->r, &env->cfg, &env->req, 0,
                                         &st), EINVAL);
    assert_int_equal(plan_estimate_paths(env->r, &env->cfg, &env->req, 65,
                                         &st), EINVAL);
    env->req.learned_Bps = -1;
    assert_int_equal(plan_estimate_paths(env->r, &env->cfg, &env->req, 1,
                                         &st), EINVAL);
    env->req.learned_Bps = NAN;
    struct plan *none = NULL;
    assert_int_equal(plan_create(env->r, &env->cfg, &env->req, &none),
                     EINVAL);
    assert_null(none);
}

static void
test_stop_names(void **state)
{
    assert_string_equal(plan_stop_name(PLAN_STOP_CPU_EXHAUSTED),
                        "cpu_exhausted");
    assert_string_equal(plan_stop_name(PLAN_STOP_SETUP_TOO_SLOW),
                        "setup_too_slow");
    assert_string_equal(plan_stop_name(PLAN_N_STOPS), "unknown");
    assert_non_null(strstr(plan_stop_str(PLAN_STOP_NO_PATH), "path"));
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_fits_at_each_step),
        T(test_no_path),
        T(test_max_paths),
        T(test_cpu_exhausted),
        T(test_setup_too_slow),
        T(test_no_gain),
        T(test_no_deadline),
        T(test_nonconvergent_then_paths),
        T(test_dr_marks_and_load),
        T(test_release),
        T(test_bad_requests),
        T(test_learned_bandwidth),
        cmocka_unit_test(test_stop_names),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
