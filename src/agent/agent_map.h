/* agent_map.h: a node's copy of the gateway map (VM -> node), as the agent
 * learns it by polling `GET /v1/map?since=V` and from map pushes on the
 * agent channel (map_push.h).
 *
 * Applying a poll answer or a push is all-or-nothing: malformed input
 * changes nothing and says why.  Pure: it never does the polling itself. */
#ifndef MIGNET_AGENT_MAP_H
#define MIGNET_AGENT_MAP_H 1

#include <stdbool.h>
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
 * "vlan", "port"}]}).  An answer whose version is below the map's (a push
 * overtook the poll) is checked but changes nothing.  Returns 0, or
 * EINVAL with 'err' filled and the map unchanged. */
int agent_map_apply(struct agent_map *, const char *json, size_t len,
                    char *err, size_t errlen);
/* The same a slice at a time, so that 50,000 entries (9 MB) never hold
 * the agent's loop: agent_map_read_begin() keeps a copy of the answer
 * (EINVAL when it is not a JSON object, or while another is being
 * read); each agent_map_read_step() reads about '*budget' entries
 * (taking them off it) and returns EAGAIN until the answer is read, then
 * applies it as agent_map_apply() and returns 0, or EINVAL with 'err'
 * filled and the map unchanged.  The map serves, and takes pushes, in
 * between; the answer's version is compared with the map's when it is
 * applied. */
int agent_map_read_begin(struct agent_map *, const char *json, size_t len,
                         char *err, size_t errlen);
/* The same with no copy: takes 'json' (malloc'd; freed by the map, also
 * when it is refused). */
int agent_map_read_take(struct agent_map *, char *json, size_t len,
                        char *err, size_t errlen);
int agent_map_read_step(struct agent_map *, size_t *budget, char *err,
                        size_t errlen);
/* An answer is being read. */
bool agent_map_reading(const struct agent_map *);
/* The version the last applied poll answer gave (0 before one): a version
 * above it was reached by a push. */
uint64_t agent_map_polled_version(const struct agent_map *);

/* One change of a map push: the entry as the map's JSON has it ('e.vm'
 * always, the rest unless 'removed'). */
struct amap_change {
    struct amap_entry e;
    bool removed;
};
/* Applies a pushed update: the changes after version 'since' up to
 * 'version' (since == 0: the whole map, which replaces this copy).
 * Returns 0 (the map now holds 'version'), EALREADY when it already holds
 * 'version' or a newer one (nothing to do), or EINVAL with 'err' filled
 * and the map unchanged: a change that is not valid (as in a poll answer),
 * since > version, or a gap ('since' above the version held). */
int agent_map_apply_push(struct agent_map *, uint64_t since,
                         uint64_t version, const struct amap_change *,
                         size_t n, char *err, size_t errlen);

/* The VMs whose entry changed (added, changed, removed) since the last
 * agent_map_clear_changes(), or "everything" after a full answer (and
 * before the first drain).  Every apply path records here. */
const struct vm_changes *agent_map_changes(const struct agent_map *);
void agent_map_clear_changes(struct agent_map *);

#endif /* MIGNET_AGENT_MAP_H */
