/* clock.h: the process's clocks, read in one place.
 *
 * Daemons and tools read time only through these; the core never does
 * (its callers pass 'now').  Monotonic clocks measure intervals; the wall
 * clock (Unix time) is for timestamps shown to people; the run clock is
 * what mignetd hands the core: anchored to the wall clock when the run
 * starts, then advanced by the monotonic clock only, so a step of the
 * wall clock never moves a delay within a run (docs/mignetd.md "Time"). */
#ifndef MIGNET_CLOCK_H
#define MIGNET_CLOCK_H 1

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds, microseconds and seconds. */
uint64_t clock_mono_ms(void);
uint64_t clock_mono_us(void);
double clock_mono_s(void);
/* CLOCK_REALTIME (Unix time) in milliseconds and microseconds.  With the
 * environment variable MIGNET_TEST_CLOCK_FILE=PATH (tests only) they are
 * the real wall clock plus the signed milliseconds written in PATH, read
 * again at most every 50 ms (a missing or unreadable file: offset 0).
 * The monotonic clock is never shifted. */
uint64_t clock_wall_ms(void);
uint64_t clock_wall_us(void);
/* The test clock file in use, or NULL (for a warning at start). */
const char *clock_test_file(void);
/* The run clock in milliseconds: clock_wall_ms() at clock_run_start()
 * (or at the first call) plus the monotonic time elapsed since.  Not
 * thread-safe: one run per process. */
void clock_run_start(void);
uint64_t clock_run_ms(void);
/* CPU time of the calling thread, in seconds (for benchmarks). */
double clock_thread_cpu_s(void);

#endif /* MIGNET_CLOCK_H */
