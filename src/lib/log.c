/* log.c: structured (logfmt) log lines with level filtering.
 *
 * Every line is built in one buffer and written with a single fwrite, so
 * lines from one process never interleave mid-line.  It must never call
 * back into other mignet modules or abort on a formatting problem. */
#include "lib/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/util.h"

static enum log_level log_level = LOG_LEVEL_INFO;
static FILE *log_stream;

static const char *const log_names[] = {
    [LOG_LEVEL_DEBUG] = "debug",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_ERROR] = "error",
};

void
log_set_level(enum log_level level)
{
    if ((unsigned) level <= LOG_LEVEL_ERROR) {
        log_level = level;
    }
}

enum log_level
log_get_level(void)
{
    return log_level;
}

bool
log_enabled(enum log_level level)
{
    return level >= log_level;
}

bool
log_level_parse(const char *s, enum log_level *out)
{
    if (!s) {
        return false;
    }
    size_t i = name_index(log_names, LOG_LEVEL_ERROR + 1, s);
    if (i <= LOG_LEVEL_ERROR) {
        *out = (enum log_level) i;
        return true;
    }
    if (!strcmp(s, "warning")) {
        *out = LOG_LEVEL_WARN;
        return true;
    }
    return false;
}

const char *
log_level_name(enum log_level level)
{
    return (unsigned) level <= LOG_LEVEL_ERROR ? log_names[level] : "?";
}

void
log_set_stream(FILE *f)
{
    log_stream = f;
}

void
log_write(enum log_level level, const char *comp, const char *fmt, ...)
{
    if (!log_enabled(level)) {
        return;
    }
    char line[1024];
    uint64_t now = clock_wall_ms();
    time_t sec = (time_t) (now / 1000);
    struct tm tm = {0};
    gmtime_r(&sec, &tm);

    int n = snprintf(line, sizeof line,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s "
                     "comp=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long) (now % 1000), log_level_name(level),
                     comp ? comp : "-");
    if (n < 0) {
        return;
    }
    size_t len = (size_t) n < sizeof line ? (size_t) n : sizeof line - 1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
    va_end(ap);
    if (m > 0) {
        len += (size_t) m;
    }
    if (len > sizeof line - 2) {
        len = sizeof line - 2; /* truncated: still one line */
    }
    line[len++] = '\n';

    FILE *f = log_stream ? log_stream : stderr;
    fwrite(line, 1, len, f);
    fflush(f);
}
