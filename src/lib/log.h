/* log.h: structured log lines for every mignet program.
 *
 * One line per event in logfmt: "ts=... level=info comp=agent event=hello
 * node=n1 ...".  The caller formats its own key=value pairs; this module
 * adds time, level and component, and never blocks on anything but the
 * stream it writes to. */
#ifndef MIGNET_LIB_LOG_H
#define MIGNET_LIB_LOG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Default rate limit per (component, event): a burst, then a steady
 * rate of lines per second. */
#define LOG_RATE_BURST_DEFAULT 50
#define LOG_RATE_PER_S_DEFAULT 10

enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

/* Short aliases used throughout the code. */
#define LOG_DBG LOG_LEVEL_DEBUG
#define LOG_INF LOG_LEVEL_INFO
#define LOG_WARN LOG_LEVEL_WARN
#define LOG_ERROR LOG_LEVEL_ERROR

/* Lines below 'level' are dropped.  Default: info. */
void log_set_level(enum log_level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level);

/* "debug", "info", "warn" (or "warning"), "error" -> level; false if
 * unknown. */
bool log_level_parse(const char *, enum log_level *);
const char *log_level_name(enum log_level);

/* Where lines go (default stderr).  NULL restores stderr. */
void log_set_stream(FILE *);

/* Writes "ts=... level=L comp=COMP " followed by the formatted pairs,
 * with control characters escaped ("\n", "\r", "\t", "\xHH").  Lines of
 * one (COMP, first "event=" value) beyond the rate limit are dropped; the
 * next line of that pair ends with " log_suppressed=N". */
void log_write(enum log_level, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rate limit per (component, event): 'burst' lines at once, then
 * 'per_s' a second.  burst 0 = no limit.  Resets the buckets. */
void log_set_rate(uint32_t burst, uint32_t per_s);
/* Tests: the monotonic milliseconds the rate limit reads (NULL = the
 * real clock).  Resets the buckets. */
void log_set_time_source(uint64_t (*now_ms)(void));

/* Copies 'len' bytes of 'src' to 'dst' (NUL-terminated, at most 'cap'
 * bytes with the NUL) with control characters escaped; stops before a
 * character that would not fit whole.  Returns the length written. */
size_t log_escape(char *dst, size_t cap, const char *src, size_t len);
/* One line of bucket 'key' at 'now' (ms): true when it may be written,
 * with the count dropped since the last written one in 'suppressed'. */
bool log_rl_take(const char *key, uint64_t now, uint64_t *suppressed);

#endif /* MIGNET_LIB_LOG_H */
