/* replica.h: mignetd as one replica of several (--replica NAME,
 * docs/ha.md): the etcd side of the leader election (election.h is its
 * state machine) and what a follower serves.
 *
 * A follower binds the same listeners the leader would, answers the agent
 * channel's hello with 'not_leader' naming the leader's channel and
 * closes, answers REST with 503 not_leader naming the leader's URL
 * (/healthz and /metrics answer locally and say the role), and
 * campaigns every poll period.  Once elected, it closes those listeners
 * and mignetd starts as the leader: it loads from etcd, applies the
 * restart rule, and every commit is guarded by the lease.  A leader whose
 * lease may have expired stops at once (CTL_EXIT_DEPOSED): it never
 * serves again; a supervisor restarts it as a follower. */
#ifndef MIGNET_CONTROLLER_REPLICA_H
#define MIGNET_CONTROLLER_REPLICA_H 1

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct mignetd_options;
struct replica;

/* mignetd's exit code when its leadership ended (lease lost or expired,
 * or a commit the guard refused). */
#define CTL_EXIT_DEPOSED 3

/* A follower's campaign period, ms. */
#define REPLICA_POLL_MS 200

/* The replica 'opts' describes (opts->replica set, an etcd store).  NULL
 * with 'err' set when the options do not make one. */
struct replica *replica_create(const struct mignetd_options *opts,
                               char *err, size_t errlen);
void replica_destroy(struct replica *);

/* Serves as a follower until elected (0), stopped by SIGTERM or SIGINT
 * (1), or a listener cannot be bound (-1, logged). */
int replica_follow(struct replica *);

/* The leader key and the lease that holds it (after replica_follow
 * returned 0): the store's guard. */
const char *replica_key(const struct replica *);
int64_t replica_lease(const struct replica *);

/* The leader: renews the lease on 'base' (each renewal blocks for at most
 * a third of the TTL) and calls 'lost'(aux) once when the lease may have
 * expired or is gone. */
int replica_lead(struct replica *, struct event_base *base,
                 void (*lost)(void *aux), void *aux);

/* "follower", "leader" or "deposed". */
const char *replica_role(const struct replica *);

#endif /* MIGNET_CONTROLLER_REPLICA_H */
