/* simjson.c: the simulators' JSON printer (see simjson.h).  Never prints
 * anything but the finished object. */
#include "sim/simjson.h"

#include <errno.h>
#include <stdlib.h>

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
