/* clock.c: the process's clocks (see clock.h).  Nothing else in mignet
 * calls clock_gettime().  It also holds the test seam that shifts the wall
 * clock (MIGNET_TEST_CLOCK_FILE) and the run clock mignetd feeds the core. */
#include "lib/clock.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct timespec
clock_read(clockid_t id)
{
    struct timespec ts = {0};
    clock_gettime(id, &ts);
    return ts;
}

uint64_t
clock_mono_ms(void)
{
    struct timespec ts = clock_read(CLOCK_MONOTONIC);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

uint64_t
clock_mono_us(void)
{
    struct timespec ts = clock_read(CLOCK_MONOTONIC);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

double
clock_mono_s(void)
{
    struct timespec ts = clock_read(CLOCK_MONOTONIC);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- The test seam: a shifted wall clock ---- */

/* Longest a read offset is used before the file is read again. */
#define CLOCK_TEST_REREAD_MS 50

static struct {
    bool init;
    const char *file; /* NULL: no seam */
    bool have;        /* 'offset' was read at 'read_ms' */
    int64_t offset;
    uint64_t read_ms;
} clock_test;

const char *
clock_test_file(void)
{
    if (!clock_test.init) {
        const char *p = getenv("MIGNET_TEST_CLOCK_FILE");
        clock_test.file = p && *p ? p : NULL;
        clock_test.init = true;
    }
    return clock_test.file;
}

/* The seam's offset in milliseconds (0 without it). */
static int64_t
clock_test_offset(void)
{
    if (!clock_test_file()) {
        return 0;
    }
    uint64_t now = clock_mono_ms();
    if (clock_test.have && now - clock_test.read_ms < CLOCK_TEST_REREAD_MS) {
        return clock_test.offset;
    }
    int64_t v = 0;
    FILE *f = fopen(clock_test.file, "r");
    if (f) {
        if (fscanf(f, "%" SCNd64, &v) != 1) {
            v = 0;
        }
        fclose(f);
    }
    clock_test.offset = v;
    clock_test.read_ms = now;
    clock_test.have = true;
    return v;
}

/* 'base' shifted by 'off' units, clamped at 0. */
static uint64_t
clock_shift(uint64_t base, int64_t off)
{
    if (off < 0 && (uint64_t) -off > base) {
        return 0;
    }
    return off < 0 ? base - (uint64_t) -off : base + (uint64_t) off;
}

uint64_t
clock_wall_ms(void)
{
    struct timespec ts = clock_read(CLOCK_REALTIME);
    uint64_t ms = (uint64_t) ts.tv_sec * 1000
                  + (uint64_t) ts.tv_nsec / 1000000;
    return clock_shift(ms, clock_test_offset());
}

uint64_t
clock_wall_us(void)
{
    struct timespec ts = clock_read(CLOCK_REALTIME);
    uint64_t us = (uint64_t) ts.tv_sec * 1000000
                  + (uint64_t) ts.tv_nsec / 1000;
    return clock_shift(us, clock_test_offset() * 1000);
}

/* ---- The run clock ---- */

static struct {
    bool started;
    uint64_t wall0, mono0;
} clock_run;

void
clock_run_start(void)
{
    clock_run.mono0 = clock_mono_ms();
    clock_run.wall0 = clock_wall_ms();
    clock_run.started = true;
}

uint64_t
clock_run_ms(void)
{
    if (!clock_run.started) {
        clock_run_start();
    }
    return clock_run.wall0 + (clock_mono_ms() - clock_run.mono0);
}

double
clock_thread_cpu_s(void)
{
    struct timespec ts = clock_read(CLOCK_THREAD_CPUTIME_ID);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}
