/* test_sim_evq.c: the event queue pops in (time, rank, insertion) order.
 *
 * Random pushes onto the heap and the FIFO lanes, checked against a
 * reference order; equal times come out by rank, then in insertion order,
 * and a lane refuses a (time, rank) before its last. */
#include "simtest.h"

#include <errno.h>
#include <stdlib.h>

#include "sim/evq.h"

struct ref {
    uint64_t t;
    uint32_t order;
};

static int
ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a;
    const struct ref *y = b;
    if (x->t != y->t) {
        return x->t < y->t ? -1 : 1;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

static void
test_order(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct sim_evq q;
    sim_evq_init(&q);
    struct ref *ref = calloc(N, sizeof *ref);
    assert_non_null(ref);
    struct sim_rng r;
    sim_rng_init(&r, 42);
    uint64_t lane_t[SIM_EVQ_LANES] = {0};
    size_t n = 0;
    uint64_t now = 0;
    size_t popped = 0;
    uint32_t last = 0;
    /* Interleave pushes and pops like a simulation does. */
    while (popped < N) {
        if (n < N && (sim_rng_below(&r, 3) || popped == n)) {
            struct sim_ev ev = {0};
            int lane = (int)sim_rng_below(&r, 3) - 1;
            if (lane >= 0) {
                lane_t[lane] += sim_rng_below(&r, 3);
                if (lane_t[lane] < now) {
                    lane_t[lane] = now;
                }
                ev.t = lane_t[lane];
            } else {
                ev.t = now + sim_rng_below(&r, 50);
            }
            ev.a = (uint32_t)n;
            ref[n].t = ev.t;
            ref[n].order = (uint32_t)n;
            n++;
            assert_int_equal(lane >= 0 ? sim_evq_push_lane(&q, lane, &ev)
                                       : sim_evq_push(&q, &ev),
                             0);
        } else {
            /* Popping in time order with every event popped once means
             * each pop was the minimum; equal times keep push order. */
            struct sim_ev ev;
            assert_true(sim_evq_pop(&q, &ev));
            assert_true(ev.t >= now);
            assert_true(ev.t > now || popped == 0 || ev.a > last);
            assert_int_equal(ref[ev.a].t, ev.t);
            assert_int_equal(ref[ev.a].order, ev.a);
            ref[ev.a].order = UINT32_MAX; /* popped */
            now = ev.t;
            last = ev.a;
            popped++;
        }
    }
    struct sim_ev ev;
    assert_false(sim_evq_pop(&q, &ev));
    sim_evq_destroy(&q);
    free(ref);
}

static void
test_ties_in_insertion_order(void **state)
{
    (void)state;
    struct sim_evq q;
    sim_evq_init(&q);
    struct ref refs[300];
    for (uint32_t i = 0; i < 300; i++) {
        struct sim_ev ev = {.t = 1000 - (i % 3) * 100, .a = i};
        refs[i].t = ev.t;
        refs[i].order = i;
        int lane = (int)(i % 3) - 1;
        if (lane >= 0 && ev.t == 1000) {
            assert_int_equal(sim_evq_push_lane(&q, lane, &ev), 0);
        } else {
            assert_int_equal(sim_evq_push(&q, &ev), 0);
        }
    }
    qsort(refs, 300, sizeof refs[0], ref_cmp);
    for (int i = 0; i < 300; i++) {
        struct sim_ev ev;
        assert_true(sim_evq_pop(&q, &ev));
        assert_int_equal(ev.a, refs[i].order);
        assert_int_equal(ev.t, refs[i].t);
    }
    assert_int_equal(sim_evq_size(&q), 0);
    sim_evq_destroy(&q);
}

/* Equal times: every rank-0 event before any rank-1 one, wherever it was
 * queued, then insertion order. */
static void
test_rank_orders_ties(void **state)
{
    (void)state;
    struct sim_evq q;
    sim_evq_init(&q);
    struct sim_rng r;
    sim_rng_init(&r, 7);
    enum { N = 400 };
    uint8_t rank[N];
    for (uint32_t i = 0; i < N; i++) {
        struct sim_ev ev = {.t = 500, .a = i};
        int where = (int)sim_rng_below(&r, 3); /* heap, lane 0, lane 1 */
        ev.rank = where == 0 ? (uint8_t)sim_rng_below(&r, 2)
                             : (uint8_t)(where - 1);
        rank[i] = ev.rank;
        assert_int_equal(where ? sim_evq_push_lane(&q, where - 1, &ev)
                               : sim_evq_push(&q, &ev),
                         0);
    }
    struct sim_ev early = {.t = 499, .rank = 1, .a = N};
    assert_int_equal(sim_evq_push(&q, &early), 0);
    struct sim_ev ev;
    assert_true(sim_evq_pop(&q, &ev));
    assert_int_equal(ev.a, N); /* an earlier time beats any rank */
    int last_rank = 0;
    uint32_t last = 0;
    size_t n0 = 0;
    for (int i = 0; i < N; i++) {
        assert_true(sim_evq_pop(&q, &ev));
        assert_int_equal(ev.rank, rank[ev.a]);
        assert_true(ev.rank >= last_rank);
        if (i > 0 && ev.rank == last_rank) {
            assert_true(ev.a > last);
        }
        n0 += ev.rank == 0;
        last_rank = ev.rank;
        last = ev.a;
    }
    assert_true(n0 > 0 && n0 < N);
    assert_int_equal(sim_evq_size(&q), 0);
    sim_evq_destroy(&q);
}

static void
test_lane_refuses_the_past(void **state)
{
    (void)state;
    struct sim_evq q;
    sim_evq_init(&q);
    struct sim_ev a = {.t = 10};
    struct sim_ev b = {.t = 9};
    assert_int_equal(sim_evq_push_lane(&q, 0, &a), 0);
    assert_int_equal(sim_evq_push_lane(&q, 0, &b), EINVAL);
    assert_int_equal(sim_evq_push_lane(&q, 1, &b), 0);
    assert_int_equal(sim_evq_push_lane(&q, SIM_EVQ_LANES, &b), EINVAL);
    /* Same time, lower rank: also the past. */
    struct sim_ev c = {.t = 10, .rank = 1};
    struct sim_ev d = {.t = 10, .rank = 0};
    assert_int_equal(sim_evq_push_lane(&q, 0, &c), 0);
    assert_int_equal(sim_evq_push_lane(&q, 0, &d), EINVAL);
    assert_int_equal(sim_evq_size(&q), 3);
    struct sim_ev ev;
    assert_true(sim_evq_pop(&q, &ev));
    assert_int_equal(ev.t, 9);
    sim_evq_destroy(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_ties_in_insertion_order),
        cmocka_unit_test(test_rank_orders_ties),
        cmocka_unit_test(test_lane_refuses_the_past),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
