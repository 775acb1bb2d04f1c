/* test_clock.c: the test seam of the wall clock and the run clock
 * (lib/clock.h).
 *
 * MIGNET_TEST_CLOCK_FILE shifts clock_wall_ms() by the milliseconds in the
 * file; the run clock mignetd feeds the core is anchored to the wall clock
 * once and then follows only the monotonic clock, so steps of +-10 s and
 * +-1 h of the wall clock do not move it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clock.h"

static char path[] = "/tmp/mignet-test-clock-XXXXXX";

static void
set_offset(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    /* Past the seam's re-read interval (50 ms). */
    usleep(60 * 1000);
}

static uint64_t
real_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* clock_wall_ms() minus the real wall clock, in ms. */
static int64_t
shift_now(void)
{
    uint64_t real = real_wall_ms();
    return (int64_t) clock_wall_ms() - (int64_t) real;
}

static void
test_seam_shifts_wall_only(void **state)
{
    (void) state;
    assert_string_equal(clock_test_file(), path);
    set_offset("10000\n");
    int64_t d = shift_now();
    assert_true(d >= 9000 && d <= 11000);
    set_offset("-3600000");
    d = shift_now();
    assert_true(d >= -3601000 && d <= -3599000);
    /* Microseconds follow the same offset. */
    uint64_t us = clock_wall_us(), ms = clock_wall_ms();
    assert_true(us / 1000 + 1000 >= ms && us / 1000 <= ms + 1000);
    /* Garbage or a missing file: no shift. */
    set_offset("soon");
    d = shift_now();
    assert_true(d >= -1000 && d <= 1000);
    unlink(path);
    usleep(60 * 1000);
    d = shift_now();
    assert_true(d >= -1000 && d <= 1000);
}

/* Steps of +-10 s and +-1 h: the wall clock jumps, the run clock does
 * not. */
static void
test_run_clock_ignores_steps(void **state)
{
    (void) state;
    static const char *const steps[] = {"10000", "-10000", "3600000",
                                        "-3600000"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        set_offset("0");
        clock_run_start();
        uint64_t r0 = clock_run_ms(), w0 = clock_wall_ms();
        set_offset(steps[i]);
        uint64_t r1 = clock_run_ms(), w1 = clock_wall_ms();
        int64_t step = strtoll(steps[i], NULL, 10);
        int64_t wall_moved = (int64_t) w1 - (int64_t) w0;
        /* The wall clock moved by the step (give or take 5 s of run)... */
        assert_true(wall_moved >= step - 5000 && wall_moved <= step + 5000);
        /* ...the run clock only forward, by the time that passed. */
        assert_true(r1 >= r0);
        assert_true(r1 - r0 < 5000);
    }
    /* A new anchor takes the shifted wall clock: that is what a restart
     * with the clock an hour ahead looks like to the core. */
    set_offset("3600000");
    clock_run_start();
    int64_t d = (int64_t) clock_run_ms() - (int64_t) real_wall_ms();
    assert_true(d >= 3599000 && d <= 3601000);
    unlink(path);
}

int
main(void)
{
    int fd = mkstemp(path);
    if (fd < 0) {
        return 1;
    }
    close(fd);
    setenv("MIGNET_TEST_CLOCK_FILE", path, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seam_shifts_wall_only),
        cmocka_unit_test(test_run_clock_ignores_steps),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}
