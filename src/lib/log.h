/* log.h: structured log lines for every mignet program.
 *
 * One line per event in logfmt: "ts=... level=info comp=agent event=hello
 * node=n1 ...".  The caller formats its own key=value pairs; this module
 * adds time, level and component, and never blocks on anything but the
 * stream it writes to. */
#ifndef MIGNET_LIB_LOG_H
#define MIGNET_LIB_LOG_H 1

#include <stdbool.h>
#include <stdio.h>

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

/* Writes "ts=... level=L comp=COMP " followed by the formatted pairs. */
void log_write(enum log_level, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* MIGNET_LIB_LOG_H */
