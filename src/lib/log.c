/* log.c: structured (logfmt) log lines with level filtering.
 *
 * Every line is built in one buffer and written with a single fwrite, so
 * lines from one process never interleave mid-line.  Control characters
 * in the formatted pairs are escaped (a value cannot start a line of its
 * own) and each (component, event) pair has a token bucket, so one noisy
 * event cannot flood the log; a later line of that event says how many
 * were dropped.  It must never call back into other mignet modules or
 * abort on a formatting problem. */
#include "lib/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/util.h"

static enum log_level log_level = LOG_LEVEL_INFO;
static FILE *log_stream;

/* Rate limit: one bucket per (component, event); a small table whose
 * least recently refilled slot is reused when full. */
#define LOG_RL_SLOTS 64
#define LOG_RL_KEY 48

struct log_rl_slot {
    char key[LOG_RL_KEY]; /* "comp event"; "" = free */
    double tokens;
    uint64_t at_ms; /* last refill */
    uint64_t suppressed;
};

static struct log_rl_slot log_rl[LOG_RL_SLOTS];
static uint32_t log_rl_burst = LOG_RATE_BURST_DEFAULT;
static uint32_t log_rl_per_s = LOG_RATE_PER_S_DEFAULT;
static uint64_t (*log_now_ms)(void) = clock_mono_ms;

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
log_set_rate(uint32_t burst, uint32_t per_s)
{
    log_rl_burst = burst;
    log_rl_per_s = per_s;
    memset(log_rl, 0, sizeof log_rl);
}

void
log_set_time_source(uint64_t (*now_ms)(void))
{
    log_now_ms = now_ms ? now_ms : clock_mono_ms;
    memset(log_rl, 0, sizeof log_rl);
}

size_t
log_escape(char *dst, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!cap) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) src[i];
        char esc[4];
        size_t n = 0;
        if (c == '\n' || c == '\r' || c == '\t') {
            esc[n++] = '\\';
            esc[n++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7f) {
            esc[n++] = '\\';
            esc[n++] = 'x';
            esc[n++] = hex[c >> 4];
            esc[n++] = hex[c & 15];
        } else {
            esc[n++] = (char) c;
        }
        if (o + n >= cap) {
            break; /* cut at a whole character */
        }
        memcpy(dst + o, esc, n);
        o += n;
    }
    dst[o] = '\0';
    return o;
}

/* "comp event" from the formatted pairs: the value of the first
 * "event=" (or "" when there is none). */
static void
log_rl_key(char *key, size_t cap, const char *comp, const char *pairs)
{
    const char *ev = NULL;
    for (const char *p = pairs; (p = strstr(p, "event=")); p++) {
        if (p == pairs || p[-1] == ' ') {
            ev = p + 6;
            break;
        }
    }
    int evlen = ev ? (int) strcspn(ev, " ") : 0;
    snprintf(key, cap, "%s %.*s", comp ? comp : "-", evlen, ev ? ev : "");
}

bool
log_rl_take(const char *key, uint64_t now, uint64_t *suppressed)
{
    struct log_rl_slot *slot = NULL, *oldest = &log_rl[0];
    *suppressed = 0;
    if (!log_rl_burst) {
        return true; /* rate limit off */
    }
    for (size_t i = 0; i < LOG_RL_SLOTS; i++) {
        struct log_rl_slot *s = &log_rl[i];
        if (!strncmp(s->key, key, LOG_RL_KEY - 1)) {
            slot = s;
            break;
        }
        if (s->at_ms < oldest->at_ms || !s->key[0]) {
            oldest = s;
        }
    }
    if (!slot) {
        slot = oldest;
        memset(slot, 0, sizeof *slot);
        snprintf(slot->key, sizeof slot->key, "%s", key);
        slot->tokens = log_rl_burst;
        slot->at_ms = now;
    }
    if (now > slot->at_ms) {
        slot->tokens += (double) (now - slot->at_ms) * log_rl_per_s / 1000.0;
        if (slot->tokens > log_rl_burst) {
            slot->tokens = log_rl_burst;
        }
    }
    slot->at_ms = now;
    if (slot->tokens < 1.0) {
        slot->suppressed++;
        return false;
    }
    slot->tokens -= 1.0;
    *suppressed = slot->suppressed;
    slot->suppressed = 0;
    return true;
}

void
log_write(enum log_level level, const char *comp, const char *fmt, ...)
{
    if (!log_enabled(level)) {
        return;
    }
    char pairs[1024];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(pairs, sizeof pairs, fmt, ap);
    va_end(ap);
    if (m < 0) {
        return;
    }
    size_t plen = (size_t) m < sizeof pairs ? (size_t) m : sizeof pairs - 1;

    char key[LOG_RL_KEY];
    uint64_t suppressed;
    log_rl_key(key, sizeof key, comp, pairs);
    if (!log_rl_take(key, log_now_ms(), &suppressed)) {
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
    len += log_escape(line + len, sizeof line - len, pairs, plen);
    if (suppressed && len < sizeof line) {
        n = snprintf(line + len, sizeof line - len, " log_suppressed=%llu",
                     (unsigned long long) suppressed);
        if (n > 0) {
            len += (size_t) n;
        }
    }
    if (len > sizeof line - 2) {
        len = sizeof line - 2; /* truncated: still one line */
    }
    line[len++] = '\n';

    FILE *f = log_stream ? log_stream : stderr;
    fwrite(line, 1, len, f);
    fflush(f);
}
