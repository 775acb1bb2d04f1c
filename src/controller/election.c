/* election.c: the leader election's state machine (election.h).  Pure:
 * time comes in as arguments, etcd's answers as results. */
#include "controller/election.h"

#include <errno.h>

/* A failed keepalive is retried after this, or sooner if the lease
 * would expire first. */
#define ELECTION_RETRY_MS 100

void
election_init(struct election *e, uint32_t ttl_s, uint32_t poll_ms,
              uint64_t now_ms)
{
    *e = (struct election){
        .role = ELECTION_FOLLOWER,
        .ttl_ms = (uint64_t) (ttl_s ? ttl_s : 1) * 1000,
        .poll_ms = poll_ms ? poll_ms : 1,
        .next_ms = now_ms,
    };
}

void
election_wake(struct election *e, uint64_t now_ms)
{
    if (e->role == ELECTION_FOLLOWER && e->next_ms > now_ms) {
        e->next_ms = now_ms;
    }
}

enum election_action
election_tick(struct election *e, uint64_t now_ms)
{
    switch (e->role) {
    case ELECTION_FOLLOWER:
        return now_ms >= e->next_ms ? ELECTION_CAMPAIGN : ELECTION_NONE;
    case ELECTION_LEADER:
        if (now_ms >= e->expires_ms) {
            e->role = ELECTION_LOST;
            return ELECTION_STEP_DOWN;
        }
        return now_ms >= e->next_ms ? ELECTION_KEEPALIVE : ELECTION_NONE;
    case ELECTION_LOST:
    default:
        return ELECTION_STEP_DOWN;
    }
}

static void
election_renewed(struct election *e, uint64_t sent_ms, uint64_t now_ms,
                 int64_t ttl_s)
{
    uint64_t ttl = ttl_s > 0 ? (uint64_t) ttl_s * 1000 : 0;
    e->expires_ms = sent_ms + ttl;
    e->next_ms = now_ms + e->ttl_ms / 3;
}

void
election_campaign_done(struct election *e, uint64_t sent_ms,
                       uint64_t now_ms, bool won, int64_t ttl_s)
{
    if (e->role != ELECTION_FOLLOWER) {
        return;
    }
    if (won && ttl_s > 0) {
        e->role = ELECTION_LEADER;
        election_renewed(e, sent_ms, now_ms, ttl_s);
        if (e->expires_ms <= now_ms) { /* the campaign outlived it */
            e->role = ELECTION_LOST;
        }
    } else {
        e->next_ms = now_ms + e->poll_ms;
    }
}

void
election_keepalive_done(struct election *e, uint64_t sent_ms,
                        uint64_t now_ms, int err, int64_t ttl_s)
{
    if (e->role != ELECTION_LEADER) {
        return;
    }
    if (!err && ttl_s > 0) {
        uint64_t old = e->expires_ms;
        election_renewed(e, sent_ms, now_ms, ttl_s);
        if (e->expires_ms < old) { /* a late answer: keep the later */
            e->expires_ms = old;
        }
    } else if (err == ENOENT || (!err && ttl_s <= 0)) {
        e->role = ELECTION_LOST;
    } else {
        e->next_ms = now_ms + ELECTION_RETRY_MS;
    }
    if (e->role == ELECTION_LEADER && now_ms >= e->expires_ms) {
        e->role = ELECTION_LOST;
    }
}

uint64_t
election_next_ms(const struct election *e)
{
    if (e->role == ELECTION_LEADER && e->expires_ms < e->next_ms) {
        return e->expires_ms;
    }
    return e->role == ELECTION_LOST ? 0 : e->next_ms;
}

const char *
election_role_name(enum election_role r)
{
    switch (r) {
    case ELECTION_FOLLOWER:
        return "follower";
    case ELECTION_LEADER:
        return "leader";
    case ELECTION_LOST:
    default:
        return "deposed";
    }
}
