/* test_precopy_track.c: the pre-copy engine's write tracking (src/
 * transfer/track.c) with userfaultfd write-protect and with the mprotect
 * fallback, and its workload thread (src/transfer/workload.c): a write
 * marks exactly its page, once until the page is protected again, the
 * contents survive, and a paused workload writes nothing.
 *
 * Real memory and threads, no sockets; not in the valgrind list (valgrind
 * knows neither userfaultfd nor a SIGSEGV that a handler resolves). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mignet/transfer.h"

#define NPAGES 64

static uint8_t *
region(void)
{
    void *p = mmap(NULL, NPAGES * PRECOPY_PAGE_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    precopy_region_fill(p, NPAGES, 42);
    return p;
}

static void
poke(uint8_t *base, size_t page, uint8_t v)
{
    ((volatile uint8_t *) base)[page * PRECOPY_PAGE_SIZE + 100] = v;
}

static void
check_tracking(bool force_mprotect)
{
    uint8_t *base = region();
    struct precopy_bitmap *dirty = precopy_bitmap_create(NPAGES);
    struct precopy_bitmap *set = precopy_bitmap_create(NPAGES);
    struct precopy_track *t = NULL;
    char err[200] = "";
    assert_int_equal(precopy_track_start(base, NPAGES, dirty, force_mprotect,
                                         &t, err, sizeof err), 0);
    if (force_mprotect) {
        assert_int_equal(precopy_track_kind(t), PRECOPY_TRACK_MPROTECT);
    } else {
        /* This machine kind has userfaultfd write-protect
         * (shared/PLATFORM-NOTES.md): the fallback would be a bug. */
        assert_int_equal(precopy_track_kind(t), PRECOPY_TRACK_UFFD_WP);
    }
    assert_int_equal(precopy_bitmap_count(dirty), 0);

    /* Reads do not count. */
    volatile uint8_t sink = base[9 * PRECOPY_PAGE_SIZE];
    (void) sink;
    assert_int_equal(precopy_bitmap_count(dirty), 0);

    poke(base, 5, 0xa5);
    precopy_track_quiesce(t);
    assert_true(precopy_bitmap_test(dirty, 5));
    assert_int_equal(precopy_bitmap_count(dirty), 1);
    assert_int_equal(precopy_track_faults(t), 1);
    assert_int_equal(base[5 * PRECOPY_PAGE_SIZE + 100], 0xa5);

    /* Unprotected now: a second write costs no fault. */
    poke(base, 5, 0x5a);
    assert_int_equal(precopy_track_faults(t), 1);

    /* The sender's step: take, protect, then read.  The next write marks
     * the page again; a page not written stays clean. */
    precopy_bitmap_take(dirty, set);
    assert_int_equal(precopy_bitmap_count(dirty), 0);
    assert_int_equal(precopy_track_protect(t, set), 0);
    poke(base, 5, 0x11);
    poke(base, 63, 0x22);
    precopy_track_quiesce(t);
    assert_true(precopy_bitmap_test(dirty, 5));
    assert_true(precopy_bitmap_test(dirty, 63));
    assert_false(precopy_bitmap_test(dirty, 6));
    assert_int_equal(precopy_bitmap_count(dirty), 2);
    assert_int_equal(precopy_track_faults(t), 3);
    assert_int_equal(base[5 * PRECOPY_PAGE_SIZE + 100], 0x11);
    assert_int_equal(base[63 * PRECOPY_PAGE_SIZE + 100], 0x22);

    /* Protecting many pages at once (the whole-region path). */
    precopy_bitmap_clear_all(set);
    precopy_bitmap_set_all(set);
    precopy_bitmap_clear_all(dirty);
    assert_int_equal(precopy_track_protect(t, set), 0);
    for (size_t p = 0; p < NPAGES; p += 2) {
        poke(base, p, 1);
    }
    precopy_track_quiesce(t);
    assert_int_equal(precopy_bitmap_count(dirty), NPAGES / 2);

    precopy_track_stop(t);
    /* Untracked again: writes go through and mark nothing. */
    precopy_bitmap_clear_all(dirty);
    poke(base, 7, 3);
    assert_int_equal(precopy_bitmap_count(dirty), 0);
    munmap(base, NPAGES * PRECOPY_PAGE_SIZE);
    precopy_bitmap_destroy(dirty);
    precopy_bitmap_destroy(set);
}

static void
test_uffd_wp(void **state)
{
    (void) state;
    check_tracking(false);
}

static void
test_mprotect(void **state)
{
    (void) state;
    check_tracking(true);
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static uint64_t
region_sum(const uint8_t *base)
{
    uint64_t s = 0;
    for (uint32_t i = 0; i < NPAGES; i++) {
        s ^= precopy_page_sum(base + (size_t) i * PRECOPY_PAGE_SIZE, i) + i;
    }
    return s;
}

/* A hot set of 10 % of the pages taking every write: only those are
 * dirtied; paused, the region holds still. */
static void
test_workload_hot_and_pause(void **state)
{
    (void) state;
    uint8_t *base = region();
    struct precopy_bitmap *dirty = precopy_bitmap_create(NPAGES);
    struct precopy_track *t = NULL;
    char err[200];
    assert_int_equal(precopy_track_start(base, NPAGES, dirty, false, &t, err,
                                         sizeof err), 0);
    uint64_t before = region_sum(base);
    struct precopy_workload_config cfg = {
        .dirty_pps = 20000, .hot = true, .hot_pages_pct = 10,
        .hot_writes_pct = 100, .seed = 7,
    };
    struct precopy_workload *w = NULL;
    assert_int_equal(precopy_workload_start(base, NPAGES, &cfg, &w), 0);
    sleep_ms(60);
    precopy_workload_pause(w);
    precopy_track_quiesce(t);
    uint64_t writes = precopy_workload_writes(w);
    assert_true(writes > 100);
    size_t hot = NPAGES * 10 / 100; /* 6 pages */
    assert_true(precopy_bitmap_count(dirty) >= 1);
    assert_int_equal(precopy_bitmap_next(dirty, hot), NPAGES);
    uint64_t paused = region_sum(base);
    assert_true(paused != before);
    sleep_ms(30);
    assert_true(region_sum(base) == paused);
    assert_true(precopy_workload_writes(w) == writes);
    precopy_workload_stop(w);
    precopy_track_stop(t);

    /* Bad configurations are refused. */
    cfg.hot_pages_pct = 0;
    assert_int_equal(precopy_workload_start(base, NPAGES, &cfg, &w), EINVAL);
    cfg.hot_pages_pct = 10;
    cfg.dirty_pps = -1;
    assert_int_equal(precopy_workload_start(base, NPAGES, &cfg, &w), EINVAL);
    munmap(base, NPAGES * PRECOPY_PAGE_SIZE);
    precopy_bitmap_destroy(dirty);
}

static void
test_parsers(void **state)
{
    (void) state;
    unsigned a = 0, b = 0;
    assert_true(precopy_hot_parse("10:90", &a, &b));
    assert_int_equal(a, 10);
    assert_int_equal(b, 90);
    assert_true(precopy_hot_parse("100:0", &a, &b));
    static const char *const bad[] = {
        "", "10", "10:", ":90", "0:90", "101:5", "10:101", "10:90x",
        "-1:5", "10:-5", "10 :90", "1000:1", "a:b", "10:90:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = b = 77;
        assert_false(precopy_hot_parse(bad[i], &a, &b));
        assert_int_equal(a, 77);
    }
    assert_false(precopy_hot_parse(NULL, &a, &b));

    enum precopy_mode m;
    assert_true(precopy_mode_parse("ack", &m));
    assert_int_equal(m, PRECOPY_MODE_ACK);
    assert_true(precopy_mode_parse("en", &m));
    assert_int_equal(m, PRECOPY_MODE_EN);
    assert_true(precopy_mode_parse("buffer", &m));
    assert_int_equal(m, PRECOPY_MODE_BUFFER);
    assert_false(precopy_mode_parse("EN", &m));
    assert_false(precopy_mode_parse("", &m));
    assert_false(precopy_mode_parse(NULL, &m));
    assert_string_equal(precopy_tracking_name(PRECOPY_TRACK_UFFD_WP),
                        "uffd-wp");
    assert_string_equal(precopy_tracking_name(PRECOPY_TRACK_MPROTECT),
                        "mprotect");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uffd_wp),
        cmocka_unit_test(test_mprotect),
        cmocka_unit_test(test_workload_hot_and_pause),
        cmocka_unit_test(test_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
