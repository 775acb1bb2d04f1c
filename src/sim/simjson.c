/* simjson.c: jansson helpers for the simulators' JSON output (see
 * simjson.h).  Pure formatting: never prints anything but the finished
 * object. */
#include "sim/simjson.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

int
sim_json_set(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : -1;
}

json_t *
sim_json_finish(json_t *obj, int failed)
{
    if (failed) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *
sim_json_u64(uint64_t x)
{
    return x <= INT64_MAX ? json_integer((json_int_t)x)
                          : json_sprintf("%" PRIu64, x);
}

json_t *
sim_json_ms(double ms)
{
    return isfinite(ms) ? json_real(round(ms * 1000.0) / 1000.0) : json_null();
}

int
sim_json_print(FILE *f, json_t *params, json_t *results)
{
    json_t *root = json_object();
    int rc = ENOMEM;
    if (root && params && results &&
        !json_object_set(root, "params", params) &&
        !json_object_set(root, "results", results)) {
        char *s =
            json_dumps(root, JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
        if (s) {
            fprintf(f, "%s\n", s);
            free(s);
            rc = 0;
        }
    }
    json_decref(params);
    json_decref(results);
    json_decref(root);
    return rc;
}
