/* election.h: a replica's leader election as a small state machine,
 * without I/O (docs/ha.md "Leader election").
 *
 * The shell (replica.c) asks election_tick() what to do at 'now', does it
 * against etcd and reports the result back; the machine only keeps time.
 * A follower campaigns (reads PREFIX/leader; when it is gone, grants a
 * lease and puts the key on it with create_revision == 0) every poll
 * period.  A leader renews its lease every third of its TTL and counts it
 * valid until the time it sent its last successful grant or keepalive
 * plus the TTL etcd answered -- before etcd itself can expire it.  When
 * that time passes without a renewal, or etcd says the lease is gone,
 * the leader is LOST for good: the process must stop serving at once
 * (mignetd exits with CTL_EXIT_DEPOSED). */
#ifndef MIGNET_CONTROLLER_ELECTION_H
#define MIGNET_CONTROLLER_ELECTION_H 1

#include <stdbool.h>
#include <stdint.h>

enum election_role {
    ELECTION_FOLLOWER,
    ELECTION_LEADER,
    ELECTION_LOST, /* was leader; its lease may be gone: stop */
};

enum election_action {
    ELECTION_NONE,      /* nothing before election_next_ms() */
    ELECTION_CAMPAIGN,  /* follower: read the key, campaign if it is gone */
    ELECTION_KEEPALIVE, /* leader: renew the lease */
    ELECTION_STEP_DOWN, /* leader: the lease may have expired: stop now */
};

struct election {
    enum election_role role;
    uint64_t ttl_ms;     /* the TTL asked for */
    uint64_t poll_ms;    /* a follower's campaign period */
    uint64_t next_ms;    /* when the next action is due */
    uint64_t expires_ms; /* leader: the lease holds at least until then */
};

/* A follower with a lease TTL of 'ttl_s' seconds (>= 1) that campaigns
 * at once, then every 'poll_ms'. */
void election_init(struct election *, uint32_t ttl_s, uint32_t poll_ms,
                   uint64_t now_ms);
/* What to do at 'now_ms'.  STEP_DOWN makes the role LOST. */
enum election_action election_tick(struct election *, uint64_t now_ms);
/* A campaign sent (its lease granted) at 'sent_ms' ended at 'now_ms':
 * 'won' with a lease of 'ttl_s' seconds, or not (another leader, or an
 * error). */
void election_campaign_done(struct election *, uint64_t sent_ms,
                            uint64_t now_ms, bool won, int64_t ttl_s);
/* A keepalive sent at 'sent_ms' ended at 'now_ms': 'err' 0 with
 * 'ttl_s' seconds left, ENOENT (the lease is gone: LOST) or another
 * error (retried soon; the lease still counts until it would expire). */
void election_keepalive_done(struct election *, uint64_t sent_ms,
                             uint64_t now_ms, int err, int64_t ttl_s);
/* A follower learnt that the leader key is gone (a watch): its next
 * campaign is due at 'now_ms' rather than at the next poll.  Nothing for
 * a leader. */
void election_wake(struct election *, uint64_t now_ms);
/* When election_tick() has something to do next (a leader: no later
 * than its lease's expiry). */
uint64_t election_next_ms(const struct election *);
const char *election_role_name(enum election_role);

#endif /* MIGNET_CONTROLLER_ELECTION_H */
