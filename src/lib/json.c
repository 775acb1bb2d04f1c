/* json.c: jansson helpers (see json.h).  Pure formatting: no I/O. */
#include "lib/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/strbuf.h"

json_t *
js_u64(uint64_t v)
{
    return v <= INT64_MAX ? json_integer((json_int_t) v)
                          : json_sprintf("%" PRIu64, v);
}

json_t *
js_time(uint64_t ms)
{
    return ms ? js_u64(ms) : json_null();
}

json_t *
js_ms(double ms)
{
    return isfinite(ms) ? json_real(round(ms * 1000.0) / 1000.0)
                        : json_null();
}

json_t *
js_hex64(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
    return json_string(buf);
}

bool
js_set(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0;
}

bool
js_append(json_t *arr, json_t *v)
{
    return v && json_array_append_new(arr, v) == 0;
}

json_t *
js_finish(json_t *obj, bool ok)
{
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

int
js_put_string(struct strbuf *sb, const char *s)
{
    if (strbuf_putc(sb, '"')) {
        return ENOMEM;
    }
    const char *run = s;
    for (;; s++) {
        unsigned char ch = (unsigned char) *s;
        if (ch && ch != '"' && ch != '\\' && ch >= 0x20) {
            continue;
        }
        if (s > run && strbuf_append(sb, run, (size_t) (s - run))) {
            return ENOMEM;
        }
        if (!ch) {
            break;
        }
        int err;
        switch (ch) {
        case '"': err = strbuf_puts(sb, "\\\""); break;
        case '\\': err = strbuf_puts(sb, "\\\\"); break;
        case '\n': err = strbuf_puts(sb, "\\n"); break;
        case '\r': err = strbuf_puts(sb, "\\r"); break;
        case '\t': err = strbuf_puts(sb, "\\t"); break;
        case '\b': err = strbuf_puts(sb, "\\b"); break;
        case '\f': err = strbuf_puts(sb, "\\f"); break;
        default: err = strbuf_printf(sb, "\\u%04X", ch); break;
        }
        if (err) {
            return ENOMEM;
        }
        run = s + 1;
    }
    return strbuf_putc(sb, '"') ? ENOMEM : 0;
}

int
js_put_u64(struct strbuf *sb, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, v <= INT64_MAX ? "%" PRIu64
                                                     : "\"%" PRIu64 "\"", v);
    return strbuf_append(sb, buf, (size_t) n) ? ENOMEM : 0;
}

static bool
js_is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t
js_ws_len(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && js_is_ws(p[i])) {
        i++;
    }
    return i;
}

/* A string's length, quotes included; 0 if it does not end. */
static size_t
string_len(const char *p, size_t len)
{
    for (size_t i = 1; i < len; i++) {
        if (p[i] == '\\') {
            i++; /* the escaped character, whatever it is */
        } else if (p[i] == '"') {
            return i + 1;
        }
    }
    return 0;
}

size_t
js_value_len(const char *p, size_t len, size_t *depthp)
{
    size_t unused;
    depthp = depthp ? depthp : &unused;
    *depthp = 0;
    if (!len) {
        return 0;
    }
    if (p[0] == '"') {
        return string_len(p, len);
    }
    if (p[0] == '{' || p[0] == '[') {
        size_t depth = 0;
        for (size_t i = 0; i < len; i++) {
            if (p[i] == '"') {
                size_t n = string_len(p + i, len - i);
                if (!n) {
                    return 0;
                }
                i += n - 1;
            } else if (p[i] == '{' || p[i] == '[') {
                if (++depth > *depthp) {
                    *depthp = depth;
                }
            } else if ((p[i] == '}' || p[i] == ']') && !--depth) {
                return i + 1;
            }
        }
        return 0;
    }
    size_t i = 0;
    while (i < len && !js_is_ws(p[i]) && p[i] != ',' && p[i] != ':'
           && p[i] != '}' && p[i] != ']') {
        i++;
    }
    return i;
}
