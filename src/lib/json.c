/* json.c: jansson helpers (see json.h).  Pure formatting: no I/O. */
#include "lib/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

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
