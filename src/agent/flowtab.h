/* flowtab.h: a set of OpenFlow flows keyed as the switch keys them, and
 * the difference between two such sets as flow_mods.
 *
 * The agent keeps a *desired* table (computed from what it was told) and an
 * *installed* one (what it has sent to Open vSwitch), and sends only the
 * difference, as ovn-controller does: the whole tables (flowtab_sync), or
 * only the keys an incremental computation changed (flowtab_sync_keys).
 * Nothing here touches a socket. */
#ifndef MIGNET_AGENT_FLOWTAB_H
#define MIGNET_AGENT_FLOWTAB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/ofp.h"

struct flowtab_flow {
    uint8_t table;
    uint16_t priority;
    uint64_t cookie;
    struct ofp_match match;
    struct ofp_instructions insts;
};

struct flowtab;

struct flowtab *flowtab_create(void);
void flowtab_destroy(struct flowtab *);
void flowtab_clear(struct flowtab *);
size_t flowtab_count(const struct flowtab *);
/* Room for 'n' flows without rehashing (which costs as much as the flows
 * held: cheap on an empty table, a few ms at 65,536). */
void flowtab_reserve(struct flowtab *, size_t n);

/* Adds a copy of 'flow' (the caller keeps 'flow' and its action lists),
 * replacing a flow with the same table, priority and match.  The flow must
 * be expressible: ofp_flow_mod_len() <= UINT16_MAX (pipeline.c checks). */
void flowtab_put(struct flowtab *, const struct flowtab_flow *);
/* Adds a copy of 'flow' only if no flow has its key; returns whether it
 * did (the first writer wins: pipeline.c's rule for two owners of one
 * key). */
bool flowtab_put_new(struct flowtab *, const struct flowtab_flow *);
/* Removes the flow with that key, if any; returns whether there was one. */
bool flowtab_remove(struct flowtab *, uint8_t table, uint16_t priority,
                    const struct ofp_match *);
/* The hash flowtab keys flows by, for other indexes of the same keys. */
uint32_t flowtab_hash(uint8_t table, uint16_t priority,
                      const struct ofp_match *);
/* Same cookie and instructions (the key aside). */
bool flowtab_flow_same(const struct flowtab_flow *,
                       const struct flowtab_flow *);
/* The flow with that key, or NULL. */
const struct flowtab_flow *flowtab_find(const struct flowtab *, uint8_t table,
                                        uint16_t priority,
                                        const struct ofp_match *);
/* Calls 'cb' for every flow, in no particular order. */
void flowtab_walk(const struct flowtab *,
                  void (*cb)(void *aux, const struct flowtab_flow *),
                  void *aux);

struct flowtab_diff {
    size_t added, modified, deleted;
};

/* Appends to 'out' the flow_mods (OpenFlow 1.3, xids from '*xid' on) that
 * turn 'installed' into 'desired', then makes 'installed' a copy of
 * 'desired' and leaves 'desired' empty, ready to be computed again.
 * Additions and changes go first and deletions last (make before
 * break): a flow replaced by one with another key is never missing while
 * the switch works through the batch. */
void flowtab_sync(struct flowtab *installed, struct flowtab *desired,
                  struct ofpbuf *out, uint32_t *xid, struct flowtab_diff *);
/* The same for the keys of 'keys' only (its flows' instructions are not
 * read), or for every key when 'keys' is NULL, leaving 'desired' as it is:
 * 'installed' takes copies of the desired flows of those keys and loses
 * the flows 'desired' lacks.  Make before break as above.  With a tracked
 * set of changed keys (pl_engine.h) this costs the changes, not the
 * table. */
void flowtab_sync_keys(struct flowtab *installed,
                       const struct flowtab *desired,
                       const struct flowtab *keys, struct ofpbuf *out,
                       uint32_t *xid, struct flowtab_diff *);

/* flowtab_sync_keys() a slice at a time, so that a diff of 100,000 flows
 * never holds the agent's loop: each call looks at about '*budget' flows
 * (whole hash buckets; it takes what it did off '*budget': 1 per flow
 * looked at, FLOWTAB_MOD_COST more per flow_mod written) from
 * where 'cur' stopped, appends their flow_mods
 * (every addition and change before any deletion, across the calls too)
 * and returns true once the diff is complete ('cur->diff' says what it
 * did).  Between the calls of one diff, 'desired' and 'keys' must not
 * change, and nothing else may change 'installed'. */
#define FLOWTAB_MOD_COST 16
struct flowtab_cursor {
    bool deleting; /* the second pass */
    size_t bucket;
    struct flowtab_diff diff;
};
void flowtab_cursor_init(struct flowtab_cursor *);
bool flowtab_sync_step(struct flowtab *installed,
                       const struct flowtab *desired,
                       const struct flowtab *keys, struct ofpbuf *out,
                       uint32_t *xid, struct flowtab_cursor *,
                       size_t *budget);

#endif /* MIGNET_AGENT_FLOWTAB_H */
