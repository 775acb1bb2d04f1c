/* test_clock.c: the test seam of the wall clock and the run clock
 * (lib/clock.h).
 *
 * MIGNET_TEST_CLOCK_FILE shifts clock_wall_ms() by the milliseconds in the
 * file; the run clock mignetd feeds the core is anchored to the wall clock
 * once and then follows only the monotonic clock, so steps of +-10 s and
 * +-1 h of the wall clock do not move it, nor a deletion delay of a core
 * driven by it as mignetd drives it. */
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "unit/core_fixture.h"

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

/* The core driven as mignetd drives it (now = clock_run_ms()): a deletion
 * delay of 60 s is not cut short by wall clock steps of +-10 s and +-1 h
 * within the run, nor made an hour longer. */
static void
test_core_on_run_clock(void **state)
{
    (void) state;
    struct rec *r = calloc(1, sizeof *r);
    struct core_config cfg;
    core_config_default(&cfg);
    cfg.delay_floor_ms = cfg.delay_ceiling_ms = 60000;
    struct core_sink sink = rec_sink(r);
    struct core *c = core_create(&cfg, NULL, &sink);
    set_offset("0");
    clock_run_start();
    uint32_t a, b, v;
    uint64_t t0 = clock_run_ms();
    assert_int_equal(core_node_add(c, "a", "198.18.0.1", 1000, t0, &a), 0);
    assert_int_equal(core_node_add(c, "b", "198.18.0.2", 1000, t0, &b), 0);
    struct mn_config mc = cfg_of(1);
    assert_int_equal(core_vm_add(c, "v", &mc, a, t0, &v), 0);
    assert_int_equal(core_migrate(c, v, CORE_NONE, b, clock_run_ms(), NULL),
                     0);
    ack_all(c, clock_run_ms());
    uint64_t due = core_next_due(c);
    assert_true(due >= t0 + 60000 && due < UINT64_MAX);
    static const char *const steps[] = {"10000", "-10000", "3600000",
                                        "-3600000", "0"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        set_offset(steps[i]);
        core_run(c, clock_run_ms());
        assert_int_equal(rec_find(r, 0, INSTR_DELETE, a), -1);
        assert_int_equal(core_next_due(c), due);
    }
    /* Its own 60 s later (elapsed), it runs. */
    core_run(c, due);
    assert_true(rec_find(r, 0, INSTR_DELETE, a) >= 0);
    core_destroy(c);
    free(r);
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
        cmocka_unit_test(test_core_on_run_clock),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}
