/* test_fabsim_maxmin.c: the fabric simulator's max-min fair solver.
 *
 * Hand-checkable cases (a shared link split evenly; a flow bottlenecked
 * elsewhere leaves the rest to the others; caps), then random instances
 * checked against the definition of max-min fairness — every flow is at
 * its cap or crosses a full resource on which no flow is faster — and the
 * two solvers against each other. */
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

#include "sim/fabsim.h"
#include "sim/rng.h"

#define EPS 1e-9

static void
assert_near(double got, double want)
{
    if (fabs(got - want) > EPS * (fabs(want) > 1 ? fabs(want) : 1)) {
        fail_msg("got %.12g, want %.12g", got, want);
    }
}

static uint32_t
add(struct fabsim_mm *mm, const uint32_t *res, size_t n, double cap)
{
    uint32_t id = UINT32_MAX;
    assert_int_equal(fabsim_mm_add(mm, res, n, cap, &id), 0);
    return id;
}

static void
test_shared_link_splits(void **state)
{
    (void)state;
    double cap[] = {10};
    struct fabsim_mm *mm = fabsim_mm_create(1, cap);
    uint32_t r0 = 0;
    uint32_t a = add(mm, &r0, 1, INFINITY);
    fabsim_mm_solve(mm);
    assert_near(fabsim_mm_rate(mm, a), 10);
    uint32_t b = add(mm, &r0, 1, INFINITY);
    fabsim_mm_solve(mm);
    assert_near(fabsim_mm_rate(mm, a), 5);
    assert_near(fabsim_mm_rate(mm, b), 5);
    assert_near(fabsim_mm_load(mm, 0), 10);
    /* The flow that ends gives its share back. */
    fabsim_mm_remove(mm, a);
    fabsim_mm_solve(mm);
    assert_near(fabsim_mm_rate(mm, b), 10);
    assert_int_equal(fabsim_mm_n_flows(mm), 1);
    fabsim_mm_destroy(mm);
}

static void
test_bottleneck_elsewhere_frees_capacity(void **state)
{
    (void)state;
    /* A crosses r0 (10) and r1 (2); B only r0.  A is held to 2 by r1, so
     * B gets the 8 left on r0, not an even 5. */
    double cap[] = {10, 2};
    struct fabsim_mm *mm = fabsim_mm_create(2, cap);
    uint32_t pa[] = {0, 1}, pb[] = {0};
    uint32_t a = add(mm, pa, 2, INFINITY);
    uint32_t b = add(mm, pb, 1, INFINITY);
    fabsim_mm_solve(mm);
    assert_near(fabsim_mm_rate(mm, a), 2);
    assert_near(fabsim_mm_rate(mm, b), 8);
    assert_near(fabsim_mm_load(mm, 0), 10);
    assert_near(fabsim_mm_load(mm, 1), 2);
    fabsim_mm_destroy(mm);
}

static void
test_three_levels(void **state)
{
    (void)state;
    /* Capacities a = 10, b = 6, c = 1.  f3 over {b, c} is held to 1 by
     * c; f0 over {a, b} and f2 over {b} split the 5 left on b, 2.5 each;
     * f1 over {a} takes the 7.5 that f0 leaves on a. */
    double cap[] = {10, 6, 1};
    struct fabsim_mm *mm = fabsim_mm_create(3, cap);
    uint32_t p0[] = {0, 1}, p1[] = {0}, p2[] = {1}, p3[] = {1, 2};
    uint32_t f0 = add(mm, p0, 2, INFINITY);
    uint32_t f1 = add(mm, p1, 1, INFINITY);
    uint32_t f2 = add(mm, p2, 1, INFINITY);
    uint32_t f3 = add(mm, p3, 2, INFINITY);
    for (int solver = 0; solver < 2; solver++) {
        (solver ? fabsim_mm_solve_scan : fabsim_mm_solve)(mm);
        assert_near(fabsim_mm_rate(mm, f3), 1);
        assert_near(fabsim_mm_rate(mm, f0), 2.5);
        assert_near(fabsim_mm_rate(mm, f2), 2.5);
        assert_near(fabsim_mm_rate(mm, f1), 7.5);
    }
    fabsim_mm_destroy(mm);
}

static void
test_caps(void **state)
{
    (void)state;
    double cap[] = {10};
    struct fabsim_mm *mm = fabsim_mm_create(1, cap);
    uint32_t r0 = 0;
    uint32_t capped = add(mm, &r0, 1, 3);
    uint32_t free1 = add(mm, &r0, 1, INFINITY);
    uint32_t big = add(mm, &r0, 1, 100); /* a cap that never binds */
    for (int solver = 0; solver < 2; solver++) {
        (solver ? fabsim_mm_solve_scan : fabsim_mm_solve)(mm);
        assert_near(fabsim_mm_rate(mm, capped), 3);
        assert_near(fabsim_mm_rate(mm, free1), 3.5);
        assert_near(fabsim_mm_rate(mm, big), 3.5);
    }
    fabsim_mm_destroy(mm);
}

static void
test_bad_flows(void **state)
{
    (void)state;
    double cap[] = {1, 1};
    struct fabsim_mm *mm = fabsim_mm_create(2, cap);
    uint32_t id = 77, dup[] = {0, 0}, out[] = {0, 2}, ok[] = {0, 1};
    assert_int_equal(fabsim_mm_add(mm, dup, 2, INFINITY, &id), EINVAL);
    assert_int_equal(fabsim_mm_add(mm, out, 2, INFINITY, &id), EINVAL);
    assert_int_equal(fabsim_mm_add(mm, ok, 0, INFINITY, &id), EINVAL);
    assert_int_equal(fabsim_mm_add(mm, ok, 2, 0, &id), EINVAL);
    assert_int_equal(fabsim_mm_add(mm, ok, 2, NAN, &id), EINVAL);
    assert_int_equal(id, 77);
    assert_int_equal(fabsim_mm_n_flows(mm), 0);
    /* Removing an unknown id changes nothing. */
    fabsim_mm_remove(mm, 5);
    assert_int_equal(fabsim_mm_n_flows(mm), 0);
    fabsim_mm_destroy(mm);
}

static void
test_bytes_follow_loads(void **state)
{
    (void)state;
    double cap[] = {8, 4};
    struct fabsim_mm *mm = fabsim_mm_create(2, cap);
    uint32_t pa[] = {0, 1}, pb[] = {0};
    add(mm, pa, 2, INFINITY);
    fabsim_mm_solve(mm);
    fabsim_mm_advance(mm, 2.0); /* 4/s on both for 2 s */
    uint32_t b = add(mm, pb, 1, INFINITY);
    fabsim_mm_solve(mm);
    fabsim_mm_advance(mm, 0.5); /* r0 at 8/s, r1 at 4/s */
    assert_near(fabsim_mm_bytes(mm, 0), 8 + 4);
    assert_near(fabsim_mm_bytes(mm, 1), 8 + 2);
    fabsim_mm_remove(mm, b);
    fabsim_mm_advance(mm, -1); /* time never runs back */
    assert_near(fabsim_mm_bytes(mm, 0), 12);
    fabsim_mm_destroy(mm);
}

enum { N_RES = 12, N_FLOWS = 40, MAX_LEN = 5 };

/* Flows as the test knows them: path, cap, solver id. */
struct inst {
    size_t n;
    uint32_t path[N_FLOWS][MAX_LEN];
    size_t len[N_FLOWS];
    double cap[N_FLOWS];
    uint32_t id[N_FLOWS];
};

/* A random instance: N_RES resources, N_FLOWS flows of 1..MAX_LEN
 * distinct resources, a quarter of them capped. */
static struct fabsim_mm *
random_instance(struct sim_rng *r, struct inst *in)
{
    double cap[N_RES];
    for (size_t i = 0; i < N_RES; i++) {
        cap[i] = 1 + (double)sim_rng_below(r, 1000);
    }
    struct fabsim_mm *mm = fabsim_mm_create(N_RES, cap);
    in->n = N_FLOWS;
    for (size_t f = 0; f < N_FLOWS; f++) {
        in->len[f] = 1 + (size_t)sim_rng_below(r, MAX_LEN);
        for (size_t i = 0; i < in->len[f]; i++) {
            bool again;
            do {
                in->path[f][i] = (uint32_t)sim_rng_below(r, N_RES);
                again = false;
                for (size_t j = 0; j < i; j++) {
                    again |= in->path[f][j] == in->path[f][i];
                }
            } while (again);
        }
        in->cap[f] =
            sim_rng_below(r, 4) ? INFINITY : 1 + (double)sim_rng_below(r, 300);
        in->id[f] = add(mm, in->path[f], in->len[f], in->cap[f]);
    }
    return mm;
}

static bool
crosses(const struct inst *in, size_t f, uint32_t x)
{
    for (size_t i = 0; i < in->len[f]; i++) {
        if (in->path[f][i] == x) {
            return true;
        }
    }
    return false;
}

/* Max-min fairness by its definition (Bertsekas and Gallager, Data
 * Networks, §6.5.2): feasible, and every flow is at its cap or has a
 * bottleneck, a full resource where no flow is faster than it. */
static void
check_max_min(const struct fabsim_mm *mm, const struct inst *in)
{
    for (uint32_t x = 0; x < N_RES; x++) {
        double load = 0;
        for (size_t f = 0; f < in->n; f++) {
            load += crosses(in, f, x) ? fabsim_mm_rate(mm, in->id[f]) : 0;
        }
        assert_near(fabsim_mm_load(mm, x), load);
        assert_true(load <= fabsim_mm_capacity(mm, x) * (1 + EPS));
    }
    for (size_t f = 0; f < in->n; f++) {
        double rate = fabsim_mm_rate(mm, in->id[f]);
        assert_true(rate > 0);
        assert_true(rate <= in->cap[f] * (1 + EPS));
        bool bottleneck = rate >= in->cap[f] * (1 - EPS);
        for (size_t i = 0; i < in->len[f] && !bottleneck; i++) {
            uint32_t x = in->path[f][i];
            bool full =
                fabsim_mm_load(mm, x) >= fabsim_mm_capacity(mm, x) * (1 - EPS);
            bool fastest = true;
            for (size_t g = 0; g < in->n && full; g++) {
                if (crosses(in, g, x) &&
                    fabsim_mm_rate(mm, in->id[g]) > rate * (1 + EPS)) {
                    fastest = false;
                }
            }
            bottleneck = full && fastest;
        }
        if (!bottleneck) {
            fail_msg("flow %zu (rate %g) has no bottleneck", f, rate);
        }
    }
}

static void
test_random_instances_are_max_min(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        struct sim_rng r;
        struct inst in;
        sim_rng_init(&r, seed);
        struct fabsim_mm *mm = random_instance(&r, &in);

        fabsim_mm_solve(mm);
        check_max_min(mm, &in);
        double heap_rates[N_FLOWS];
        for (size_t f = 0; f < in.n; f++) {
            heap_rates[f] = fabsim_mm_rate(mm, in.id[f]);
        }
        fabsim_mm_solve_scan(mm);
        for (size_t f = 0; f < in.n; f++) {
            assert_near(fabsim_mm_rate(mm, in.id[f]), heap_rates[f]);
        }

        /* Take every third flow away: still max-min. */
        struct inst kept = {0};
        for (size_t f = 0; f < in.n; f++) {
            if (f % 3 == 1) {
                fabsim_mm_remove(mm, in.id[f]);
                continue;
            }
            size_t k = kept.n++;
            kept.len[k] = in.len[f];
            kept.cap[k] = in.cap[f];
            kept.id[k] = in.id[f];
            memcpy(kept.path[k], in.path[f], sizeof kept.path[k]);
        }
        fabsim_mm_solve(mm);
        check_max_min(mm, &kept);
        fabsim_mm_destroy(mm);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_link_splits),
        cmocka_unit_test(test_bottleneck_elsewhere_frees_capacity),
        cmocka_unit_test(test_three_levels),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_bad_flows),
        cmocka_unit_test(test_bytes_follow_loads),
        cmocka_unit_test(test_random_instances_are_max_min),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
