/* clock.c: the process's clocks (see clock.h).  Nothing else in mignet
 * calls clock_gettime(). */
#include "lib/clock.h"

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

uint64_t
clock_wall_ms(void)
{
    struct timespec ts = clock_read(CLOCK_REALTIME);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

uint64_t
clock_wall_us(void)
{
    struct timespec ts = clock_read(CLOCK_REALTIME);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

double
clock_thread_cpu_s(void)
{
    struct timespec ts = clock_read(CLOCK_THREAD_CPUTIME_ID);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}
