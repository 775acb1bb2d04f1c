/* test_precopy_rounds.c: the pre-copy engine's round bookkeeping (src/
 * transfer/rounds.c) and its dirty bitmap (src/transfer/bitmap.c), both
 * sans-I/O: each stop reason reached with numbers worked out by hand, the
 * rounds recorded as given, and the bitmap's take losing no bit that
 * another thread sets meanwhile. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "mignet/transfer.h"

#define PAGES 8192u                 /* 32 MiB of 4 KiB pages */
#define MEM ((uint64_t) PAGES * 4096)

static struct precopy_rounds
rounds_default(void)
{
    struct precopy_config cfg;
    struct precopy_rounds r;
    precopy_config_default(&cfg);
    assert_int_equal(precopy_rounds_init(&r, &cfg, MEM, 4096), 0);
    return r;
}

static void
test_init_refuses(void **state)
{
    (void) state;
    struct precopy_config cfg;
    struct precopy_rounds r;
    precopy_config_default(&cfg);
    assert_int_equal(precopy_rounds_init(&r, &cfg, 0, 4096), EINVAL);
    assert_int_equal(precopy_rounds_init(&r, &cfg, MEM, 0), EINVAL);
    assert_int_equal(precopy_rounds_init(&r, NULL, MEM, 4096), EINVAL);
    cfg.max_rounds = 1;
    assert_int_equal(precopy_rounds_init(&r, &cfg, MEM, 4096), EINVAL);
    precopy_config_default(&cfg);
    cfg.max_factor = 0.5;
    assert_int_equal(precopy_rounds_init(&r, &cfg, MEM, 4096), EINVAL);
}

/* 500 dirty pages (2 MB) after round 1 are over 200 KiB: go on; 40 (160
 * KiB) after round 2 are under: stop on the threshold. */
static void
test_threshold(void **state)
{
    (void) state;
    struct precopy_rounds r = rounds_default();
    assert_int_equal(precopy_rounds_end(&r, 0, 100000, PAGES,
                                        PAGES * 4112ull, 500), 0);
    assert_false(r.stopped);
    assert_int_equal(precopy_rounds_end(&r, 100000, 6000, 500, 500 * 4112ull,
                                        40), 0);
    assert_true(r.stopped);
    assert_int_equal(r.stop, PRECOPY_STOP_THRESHOLD);
    assert_int_equal(precopy_rounds_final(&r, 106000, 900, 40, 40 * 4112ull),
                     0);
    assert_int_equal(r.n, 3);
    assert_true(r.page_bytes_sent == (double) (PAGES + 500 + 40) * 4096);
    assert_true(r.wire_bytes == (PAGES + 500 + 40) * 4112ull);
    /* The list is what was given, rounds numbered from 1. */
    assert_int_equal(r.list[1].round, 2);
    assert_int_equal(r.list[1].start_us, 100000);
    assert_int_equal(r.list[1].t_us, 6000);
    assert_int_equal(r.list[1].pages, 500);
    assert_int_equal(r.list[2].round, 3);
    assert_int_equal(r.list[2].v_bytes, 40 * 4112ull);
    precopy_rounds_destroy(&r);
    precopy_rounds_destroy(&r); /* twice is fine */
}

/* With max_rounds 4, three iterative rounds at most, however much is
 * dirtied (ratio 0.5 keeps the other tests quiet). */
static void
test_max_rounds(void **state)
{
    (void) state;
    struct precopy_config cfg;
    struct precopy_rounds r;
    precopy_config_default(&cfg);
    cfg.max_rounds = 4;
    assert_int_equal(precopy_rounds_init(&r, &cfg, MEM, 4096), 0);
    uint64_t pages = PAGES;
    for (int i = 1; i <= 3; i++) {
        assert_false(r.stopped);
        assert_int_equal(precopy_rounds_end(&r, 0, 1, pages, pages * 4112,
                                            pages / 2), 0);
        pages /= 2;
    }
    assert_true(r.stopped);
    assert_int_equal(r.stop, PRECOPY_STOP_MAX_ROUNDS);
    assert_int_equal(r.n, 3);
    precopy_rounds_destroy(&r);
}

/* Round 1: 8192 pages, 7500 dirtied (r = 0.9155): 8192 + 7500 + 6866 =
 * 22558 pages < 3 x 8192 = 24576: go on.  Round 2: 7500, 7000 dirtied
 * (r = 0.9333): 15692 + 7000 + 6533 = 29225 > 24576: stop, MAX_SENT. */
static void
test_max_sent(void **state)
{
    (void) state;
    struct precopy_rounds r = rounds_default();
    assert_int_equal(precopy_rounds_end(&r, 0, 1, PAGES, 1, 7500), 0);
    assert_false(r.stopped);
    assert_int_equal(precopy_rounds_end(&r, 1, 1, 7500, 1, 7000), 0);
    assert_true(r.stopped);
    assert_int_equal(r.stop, PRECOPY_STOP_MAX_SENT);
    precopy_rounds_destroy(&r);
}

/* As many pages dirtied as sent: the copy does not converge. */
static void
test_nonconvergent(void **state)
{
    (void) state;
    struct precopy_rounds r = rounds_default();
    assert_int_equal(precopy_rounds_end(&r, 0, 1, PAGES, 1, 100), 0);
    assert_false(r.stopped);
    assert_int_equal(precopy_rounds_end(&r, 1, 1, 100, 1, 100), 0);
    assert_true(r.stopped);
    assert_int_equal(r.stop, PRECOPY_STOP_NONCONVERGENT);
    precopy_rounds_destroy(&r);
}

/* A round that sent nothing: nothing dirtied stops on the threshold,
 * something dirtied is non-convergent. */
static void
test_empty_round(void **state)
{
    (void) state;
    struct precopy_rounds r = rounds_default();
    assert_int_equal(precopy_rounds_end(&r, 0, 1, 0, 0, 0), 0);
    assert_true(r.stopped);
    assert_int_equal(r.stop, PRECOPY_STOP_THRESHOLD);
    precopy_rounds_destroy(&r);
    r = rounds_default();
    assert_int_equal(precopy_rounds_end(&r, 0, 1, 0, 0, 60), 0);
    assert_true(r.stopped);
    assert_int_equal(r.stop, PRECOPY_STOP_NONCONVERGENT);
    precopy_rounds_destroy(&r);
}

/* Many rounds: the list grows past its first allocation. */
static void
test_many_rounds(void **state)
{
    (void) state;
    struct precopy_config cfg;
    struct precopy_rounds r;
    precopy_config_default(&cfg);
    cfg.max_rounds = 100;
    cfg.max_factor = 1000;
    assert_int_equal(precopy_rounds_init(&r, &cfg, MEM, 4096), 0);
    for (uint32_t i = 0; i < 99 && !r.stopped; i++) {
        assert_int_equal(precopy_rounds_end(&r, i, 1, 1000, 1, 900), 0);
    }
    assert_int_equal(r.n, 99);
    assert_int_equal(r.stop, PRECOPY_STOP_MAX_ROUNDS);
    assert_int_equal(r.list[98].round, 99);
    assert_int_equal(r.list[98].start_us, 98);
    precopy_rounds_destroy(&r);
}

/* ---- the bitmap ---- */

static void
test_bitmap_basics(void **state)
{
    (void) state;
    assert_null(precopy_bitmap_create(0));
    struct precopy_bitmap *b = precopy_bitmap_create(130);
    assert_non_null(b);
    assert_int_equal(precopy_bitmap_size(b), 130);
    assert_int_equal(precopy_bitmap_count(b), 0);
    assert_int_equal(precopy_bitmap_next(b, 0), 130);
    precopy_bitmap_set(b, 0);
    precopy_bitmap_set(b, 63);
    precopy_bitmap_set(b, 64);
    precopy_bitmap_set(b, 129);
    precopy_bitmap_set(b, 129);
    precopy_bitmap_set(b, 130);   /* out of range: ignored */
    assert_int_equal(precopy_bitmap_count(b), 4);
    assert_true(precopy_bitmap_test(b, 63));
    assert_false(precopy_bitmap_test(b, 62));
    assert_false(precopy_bitmap_test(b, 130));
    assert_int_equal(precopy_bitmap_next(b, 0), 0);
    assert_int_equal(precopy_bitmap_next(b, 1), 63);
    assert_int_equal(precopy_bitmap_next(b, 64), 64);
    assert_int_equal(precopy_bitmap_next(b, 65), 129);
    assert_int_equal(precopy_bitmap_next(b, 130), 130);
    assert_int_equal(precopy_bitmap_next(b, 1000), 130);
    precopy_bitmap_set_all(b);
    assert_int_equal(precopy_bitmap_count(b), 130); /* no bit past 129 */
    precopy_bitmap_clear_all(b);
    assert_int_equal(precopy_bitmap_count(b), 0);
    precopy_bitmap_destroy(b);
    precopy_bitmap_destroy(NULL);
}

static void
test_bitmap_take(void **state)
{
    (void) state;
    struct precopy_bitmap *from = precopy_bitmap_create(200);
    struct precopy_bitmap *to = precopy_bitmap_create(200);
    precopy_bitmap_set(from, 3);
    precopy_bitmap_set(from, 150);
    precopy_bitmap_set(to, 7);
    assert_int_equal(precopy_bitmap_take(from, to), 2);
    assert_int_equal(precopy_bitmap_count(from), 0);
    assert_int_equal(precopy_bitmap_count(to), 3);  /* added to, not set */
    assert_true(precopy_bitmap_test(to, 150));
    assert_int_equal(precopy_bitmap_take(from, to), 0);
    precopy_bitmap_destroy(from);
    precopy_bitmap_destroy(to);
}

#define RACE_BITS 200000u

static void *
setter(void *b)
{
    for (size_t i = 0; i < RACE_BITS; i++) {
        precopy_bitmap_set(b, (i * 7919) % RACE_BITS);
    }
    return NULL;
}

/* A thread sets every bit once while the main thread takes again and
 * again: every bit is moved exactly once. */
static void
test_bitmap_take_races(void **state)
{
    (void) state;
    struct precopy_bitmap *from = precopy_bitmap_create(RACE_BITS);
    struct precopy_bitmap *to = precopy_bitmap_create(RACE_BITS);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, setter, from), 0);
    size_t moved = 0;
    for (int i = 0; i < 200; i++) {
        moved += precopy_bitmap_take(from, to);
    }
    pthread_join(t, NULL);
    moved += precopy_bitmap_take(from, to);
    assert_int_equal(moved, RACE_BITS);
    assert_int_equal(precopy_bitmap_count(to), RACE_BITS);
    assert_int_equal(precopy_bitmap_count(from), 0);
    precopy_bitmap_destroy(from);
    precopy_bitmap_destroy(to);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_refuses),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_max_rounds),
        cmocka_unit_test(test_max_sent),
        cmocka_unit_test(test_nonconvergent),
        cmocka_unit_test(test_empty_round),
        cmocka_unit_test(test_many_rounds),
        cmocka_unit_test(test_bitmap_basics),
        cmocka_unit_test(test_bitmap_take),
        cmocka_unit_test(test_bitmap_take_races),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
