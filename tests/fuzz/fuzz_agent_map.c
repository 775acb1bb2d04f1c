/* fuzz_agent_map.c: libFuzzer target for the agent's reading of gateway
 * answers (agent_map_apply, and agent_map_read_step a slice at a time).
 *
 * Any input must apply or fail cleanly; a failure must leave the map
 * exactly as it was (all-or-nothing), and whatever applies must leave an
 * index that finds every entry.  Read in slices of 1-3 entries, the same
 * input must give the same answer and the same map; against a whole-
 * document jansson parse, it must refuse what jansson refuses and never
 * call not JSON what jansson takes.  It keeps no state between inputs. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/agent_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] =
    "{\"version\": 3, \"full\": true, \"entries\": [{\"vm\": \"a\","
    " \"node\": \"n1\", \"address\": \"198.18.0.1\", \"epoch\": 1,"
    " \"mac\": \"02:00:00:00:00:01\", \"ip\": \"198.18.1.1\"}]}";

static struct agent_map *
based(void)
{
    struct agent_map *m = agent_map_create();
    char err[128];
    if (agent_map_apply(m, base, sizeof base - 1, err, sizeof err)) {
        abort();
    }
    return m;
}

/* 'data' read a slice at a time into 'm': the result. */
static int
read_sliced(struct agent_map *m, const uint8_t *data, size_t size)
{
    char err[128];
    int rc = agent_map_read_begin(m, (const char *) data, size, err,
                                  sizeof err);
    for (size_t k = 0; !rc || rc == EAGAIN; k++) {
        size_t budget = 1 + k % 3;
        rc = agent_map_read_step(m, &budget, err, sizeof err);
        if (!rc) {
            break;
        }
    }
    return rc;
}

static void
same_maps(const struct agent_map *a, const struct agent_map *b)
{
    if (agent_map_count(a) != agent_map_count(b)
        || agent_map_version(a) != agent_map_version(b)
        || agent_map_reading(a) || agent_map_reading(b)) {
        abort();
    }
    for (size_t i = 0; i < agent_map_count(a); i++) {
        const struct amap_entry *x = agent_map_entry(a, i);
        const struct amap_entry *y = agent_map_find(b, x->vm);
        if (!y || memcmp(x, y, sizeof *x)) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_map *m = based();
    char err[128];
    int rc = agent_map_apply(m, (const char *) data, size, err, sizeof err);
    struct agent_map *sliced = based();
    if ((read_sliced(sliced, data, size) != 0) != (rc != 0)) {
        abort();
    }
    /* The oracle: the whole document parsed by jansson at once, as the
     * reader did before it read a slice at a time.  What jansson refuses
     * the reader refuses; what it takes, the reader never calls not
     * JSON (it may still find it no map answer). */
    json_error_t je;
    json_t *whole = json_loadb((const char *) data, size,
                               JSON_REJECT_DUPLICATES, &je);
    if ((!whole && !rc) || (whole && rc && !strncmp(err, "not JSON", 8))) {
        abort();
    }
    json_decref(whole);
    same_maps(m, sliced);
    agent_map_destroy(sliced);
    if (rc) {
        if (agent_map_version(m) != 3 || agent_map_count(m) != 1
            || !agent_map_find(m, "a") || !err[0]) {
            abort();
        }
    } else {
        for (size_t i = 0; i < agent_map_count(m); i++) {
            const struct amap_entry *e = agent_map_entry(m, i);
            if (agent_map_find(m, e->vm) != e) {
                abort();
            }
        }
    }
    agent_map_destroy(m);
    return 0;
}
