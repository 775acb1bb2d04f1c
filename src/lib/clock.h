/* clock.h: the process's clocks, read in one place.
 *
 * Daemons and tools read time only through these; the core never does
 * (its callers pass 'now').  Monotonic clocks measure intervals; the wall
 * clock (Unix time) is for due times that must survive a restart and for
 * timestamps shown to people. */
#ifndef MIGNET_CLOCK_H
#define MIGNET_CLOCK_H 1

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds, microseconds and seconds. */
uint64_t clock_mono_ms(void);
uint64_t clock_mono_us(void);
double clock_mono_s(void);
/* CLOCK_REALTIME (Unix time) in milliseconds and microseconds. */
uint64_t clock_wall_ms(void);
uint64_t clock_wall_us(void);
/* CPU time of the calling thread, in seconds (for benchmarks). */
double clock_thread_cpu_s(void);

#endif /* MIGNET_CLOCK_H */
