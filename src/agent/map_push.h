/* map_push.h: the agent's side of map push on the agent channel
 * (docs/agent-protocol.md, "Map push"), sans I/O.
 *
 * It subscribes once per session, collects a push (map_begin, map_entry
 * lines, map_end) and applies it to the agent's map all at once, and
 * decides what a barrier-confirmed map version is reported as: a
 * 'refresh' for a version a poll brought (as before push), a 'map_ack'
 * for one a push brought -- never a refresh sample for a push.  The real
 * agent and the test agent drive the same code. */
#ifndef MIGNET_AGENT_MAP_PUSH_H
#define MIGNET_AGENT_MAP_PUSH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_map;
struct chan_client;
struct chan_msg;
struct strbuf;

/* Most changes one push may carry (a push is staged before it applies). */
#define MAP_PUSH_MAX_CHANGES (1u << 20)

struct map_push_stats {
    uint64_t applied;  /* pushes applied */
    uint64_t changes;  /* entries they carried */
    uint64_t stale;    /* pushes the map was already past */
    uint64_t refused;  /* pushes refused (then subscribed again) */
    uint64_t acks;     /* map_ack sent */
    uint64_t refreshes; /* refresh sent */
};

struct map_push;

struct map_push *map_push_create(void);
void map_push_destroy(struct map_push *); /* accepts NULL */

/* A new channel session: drops a half-received push, and the next
 * map_push_run() subscribes again; versions are reported again. */
void map_push_session(struct map_push *);

/* Subscribes (once per session, when the session is welcomed) from the
 * version 'map' holds.  Queues in 'out'. */
void map_push_run(struct map_push *, struct chan_client *,
                  const struct agent_map *, uint64_t now, struct strbuf *out);

enum map_push_result {
    MAP_PUSH_NONE,    /* not a push message, or a push still arriving */
    MAP_PUSH_APPLIED, /* map_end applied a push: the map changed */
    MAP_PUSH_STALE,   /* the map already held the push's version */
    MAP_PUSH_REFUSED, /* not applied ('err' says why; the map unchanged):
                       * the next map_push_run() subscribes again */
};
/* Feeds one received message.  Pushes apply to 'map' only at map_end. */
enum map_push_result map_push_receive(struct map_push *, struct agent_map *,
                                      const struct chan_msg *, char *err,
                                      size_t errlen);

/* A barrier confirmed flows computed from map version 'version' of 'map':
 * queues 'refresh {P}' when the last poll's version P is covered and not
 * yet reported, and 'map_ack {version}' when a push of this session
 * brought 'version' (above P) and it was not yet acknowledged. */
void map_push_confirmed(struct map_push *, struct chan_client *,
                        const struct agent_map *, uint64_t version,
                        uint64_t now, struct strbuf *out);

void map_push_get_stats(const struct map_push *, struct map_push_stats *);

#endif /* MIGNET_AGENT_MAP_PUSH_H */
