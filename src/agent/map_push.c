/* map_push.c: the agent's side of map push (see map_push.h).
 *
 * A push is staged line by line and applied at its map_end through
 * agent_map_apply_push(), which checks every change before it changes
 * anything; a push that cannot apply (lines out of order, a gap in
 * versions, a bad entry) leaves the map as it was and makes the agent
 * subscribe again from the version it holds. */
#include "agent/map_push.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_map.h"
#include "agent/chan_client.h"
#include "lib/addr.h"
#include "lib/util.h"
#include "proto/chan_msg.h"

struct map_push {
    bool subscribed;     /* this session */
    bool disabled;       /* the controller said push is off */
    uint64_t sub_version; /* the version the last subscribe gave */
    bool receiving;      /* between map_begin and map_end */
    uint64_t since, version;
    struct amap_change *ch;
    size_t n, cap;
    uint64_t refreshed, acked; /* reported this session */
    uint64_t pushed;     /* highest version a push brought this session */
    struct map_push_stats stats;
};

struct map_push *
map_push_create(void)
{
    return xcalloc(1, sizeof(struct map_push));
}

void
map_push_destroy(struct map_push *p)
{
    if (p) {
        free(p->ch);
        free(p);
    }
}

void
map_push_session(struct map_push *p)
{
    p->subscribed = false;
    p->disabled = false;
    p->receiving = false;
    p->n = 0;
    p->refreshed = 0;
    p->acked = 0;
    p->pushed = 0;
}

void
map_push_run(struct map_push *p, struct chan_client *chan,
             const struct agent_map *map, uint64_t now, struct strbuf *out)
{
    if (p->subscribed || p->disabled || !chan_client_welcomed(chan)) {
        return;
    }
    struct chan_msg m;
    chan_msg_init(&m, CHAN_SUBSCRIBE);
    m.version = agent_map_version(map);
    if (chan_client_send(chan, &m, now, out)) {
        p->subscribed = true;
        p->sub_version = m.version;
    }
}

/* Drops the push being received; subscribes again unless the last
 * subscription already asked from the version the map holds (pushes sent
 * before the controller read it may still come and are refused too). */
static enum map_push_result
refuse(struct map_push *p, const struct agent_map *map, char *err,
       size_t errlen, const char *why)
{
    if (why && err && errlen) {
        snprintf(err, errlen, "%s", why);
    }
    p->receiving = false;
    p->n = 0;
    p->stats.refused++;
    if (p->sub_version != agent_map_version(map)) {
        p->subscribed = false;
    }
    return MAP_PUSH_REFUSED;
}

static void
stage(struct map_push *p, const struct chan_msg *m)
{
    p->ch = xgrow(p->ch, &p->cap, p->n + 1, sizeof *p->ch);
    struct amap_change *c = &p->ch[p->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->e.vm, sizeof c->e.vm, "%s", m->vm);
    c->removed = m->removed;
    if (!m->removed) {
        snprintf(c->e.node, sizeof c->e.node, "%s", m->node);
        if (!addr_parse_ipv4(m->address, &c->e.address)) {
            c->e.address = 0; /* not an overlay peer we can reach */
        }
        c->e.config = m->config;
        c->e.epoch = m->epoch;
    }
}

enum map_push_result
map_push_receive(struct map_push *p, struct agent_map *map,
                 const struct chan_msg *m, char *err, size_t errlen)
{
    switch (m->type) {
    case CHAN_MAP_BEGIN:
        if (p->receiving) {
            return refuse(p, map, err, errlen, "map_begin inside a push");
        }
        p->receiving = true;
        p->since = m->since;
        p->version = m->version;
        p->n = 0;
        return MAP_PUSH_NONE;
    case CHAN_MAP_ENTRY:
        if (!p->receiving) {
            return refuse(p, map, err, errlen, "map_entry outside a push");
        }
        if (p->n >= MAP_PUSH_MAX_CHANGES) {
            return refuse(p, map, err, errlen, "push too long");
        }
        stage(p, m);
        return MAP_PUSH_NONE;
    case CHAN_MAP_END: {
        if (!p->receiving || m->version != p->version) {
            return refuse(p, map, err, errlen,
                          "map_end without its map_begin");
        }
        int rc = agent_map_apply_push(map, p->since, p->version, p->ch,
                                      p->n, err, errlen);
        size_t n = p->n;
        p->receiving = false;
        p->n = 0;
        if (rc == EALREADY) {
            p->stats.stale++;
            return MAP_PUSH_STALE;
        }
        if (rc) {
            return refuse(p, map, NULL, 0, NULL);
        }
        p->stats.applied++;
        p->stats.changes += n;
        p->pushed = p->version;
        return MAP_PUSH_APPLIED;
    }
    case CHAN_ERROR:
        if (!strcmp(m->code, "push_disabled")) {
            p->disabled = true;
        }
        return MAP_PUSH_NONE;
    default:
        return MAP_PUSH_NONE;
    }
}

void
map_push_confirmed(struct map_push *p, struct chan_client *chan,
                   const struct agent_map *map, uint64_t version,
                   uint64_t now, struct strbuf *out)
{
    uint64_t polled = agent_map_polled_version(map);
    if (polled && polled <= version && polled > p->refreshed) {
        chan_client_refreshed(chan, polled, now, out);
        p->refreshed = polled;
        p->stats.refreshes++;
    }
    /* Only a version this session was pushed: the controller refuses the
     * others (a batch may be confirmed after a reconnection). */
    if (version > polled && version > p->acked && version > p->refreshed
        && version <= p->pushed) {
        struct chan_msg m;
        chan_msg_init(&m, CHAN_MAP_ACK);
        m.version = version;
        if (chan_client_send(chan, &m, now, out)) {
            p->acked = version;
            p->stats.acks++;
        }
    }
}

void
map_push_get_stats(const struct map_push *p, struct map_push_stats *st)
{
    *st = p->stats;
}
