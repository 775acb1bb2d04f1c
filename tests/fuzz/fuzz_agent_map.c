/* fuzz_agent_map.c: libFuzzer target for the agent's reading of gateway
 * answers (agent_map_apply).
 *
 * Any input must apply or fail cleanly; a failure must leave the map
 * exactly as it was (all-or-nothing), and whatever applies must leave an
 * index that finds every entry.  It keeps no state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] =
    "{\"version\": 3, \"full\": true, \"entries\": [{\"vm\": \"a\","
    " \"node\": \"n1\", \"address\": \"198.18.0.1\", \"epoch\": 1,"
    " \"mac\": \"02:00:00:00:00:01\", \"ip\": \"198.18.1.1\"}]}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_map *m = agent_map_create();
    char err[128];
    if (agent_map_apply(m, base, sizeof base - 1, err, sizeof err)) {
        abort();
    }
    if (agent_map_apply(m, (const char *) data, size, err, sizeof err)) {
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
