/* agent_map.h: a node's copy of the gateway map (VM -> node), as the agent
 * learns it by polling `GET /v1/map?since=V`.
 *
 * Applying a poll answer is all-or-nothing: a malformed answer changes
 * nothing and says why.  Pure: it never does the polling itself. */
#ifndef MIGNET_AGENT_MAP_H
#define MIGNET_AGENT_MAP_H 1

#include <stddef.h>
#include <stdint.h>

#include "agent/vm_changes.h"
#include "mignet/model.h"

struct amap_entry {
    char vm[MN_NAME_MAX + 1];
    char node[MN_NAME_MAX + 1];
    uint32_t address; /* the node's underlay IPv4, 0 when not an IPv4 */
    struct mn_config config;
    uint64_t epoch;
};

struct agent_map;

struct agent_map *agent_map_create(void);
void agent_map_destroy(struct agent_map *);
/* The gateway version this copy holds (0 before the first answer). */
uint64_t agent_map_version(const struct agent_map *);
size_t agent_map_count(const struct agent_map *);
/* Entries in no particular order; valid until the next apply. */
const struct amap_entry *agent_map_entry(const struct agent_map *, size_t);
const struct amap_entry *agent_map_find(const struct agent_map *,
                                        const char *vm);

/* Applies one answer of GET /v1/map (JSON {"version", "full", "entries":
 * [{"vm", "removed", "node", "address", "epoch", "mac", "ip", "vni",
 * "vlan", "port"}]}).  Returns 0, or EINVAL with 'err' filled and the map
 * unchanged. */
int agent_map_apply(struct agent_map *, const char *json, size_t len,
                    char *err, size_t errlen);

/* The VMs whose entry changed (added, changed, removed) since the last
 * agent_map_clear_changes(), or "everything" after a full answer (and
 * before the first drain).  Every apply path records here. */
const struct vm_changes *agent_map_changes(const struct agent_map *);
void agent_map_clear_changes(struct agent_map *);

#endif /* MIGNET_AGENT_MAP_H */
