/* listen_guard.h: the limits in front of mignetd's two listeners.
 *
 * One guard per listener: it backs off when accept() runs out of file
 * descriptors (the listener is disabled and re-enabled on a growing
 * timer), caps open connections per listener and per client address
 * (closing the ones beyond at once), and for the REST server bounds a
 * request's total time and answers evhttp's own refusals (a body over
 * the limit, refused before it is read) in JSON.  What it refuses is
 * counted and logged at most once a second. */
#ifndef MIGNET_CONTROLLER_LISTEN_GUARD_H
#define MIGNET_CONTROLLER_LISTEN_GUARD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bufferevent;
struct event_base;
struct evconnlistener;
struct evhttp;
struct evhttp_bound_socket;
struct sockaddr;

#define LGUARD_PEER_MAX 64      /* a numeric address, no port */
#define LGUARD_HEAD_MAX 16384   /* a REST request's headers (evhttp) */
#define LGUARD_BACKOFF_MIN_MS 50
#define LGUARD_BACKOFF_MAX_MS 2000
/* A back-off starts again from the minimum after this long without an
 * accept error. */
#define LGUARD_BACKOFF_RESET_MS 5000

/* ---- Pure parts (unit-tested) ---- */

/* Open connections of one listener: a slot per connection, identified by
 * its descriptor and the socket's inode (a reused descriptor is another
 * socket). */
struct lguard_slot {
    bool used;
    int fd;
    ino_t ino;
    uint32_t gen; /* bumped at each release: stale handles are ignored */
    char peer[LGUARD_PEER_MAX];
    void *conn; /* REST: the guard's record of the connection */
};

struct lguard_table {
    struct lguard_slot *slots;
    size_t n_slots; /* == the listener's cap */
    size_t n_used;
    size_t n_hw;    /* slots at and past this one are free */
    uint32_t max_per_peer;
};

enum lguard_verdict {
    LGUARD_OK,
    LGUARD_PEER_FULL,  /* the address has max_per_peer open */
    LGUARD_TOTAL_FULL, /* the listener has max_conns open */
};

void lguard_table_init(struct lguard_table *, uint32_t max_conns,
                       uint32_t max_per_peer);
void lguard_table_destroy(struct lguard_table *);
/* Takes a slot for a connection from 'peer' or says why not; the slot's
 * index in '*idx'. */
enum lguard_verdict lguard_table_admit(struct lguard_table *,
                                       const char *peer, int fd, ino_t ino,
                                       size_t *idx);
/* Frees slot 'idx' if it still has generation 'gen'. */
void lguard_table_release(struct lguard_table *, size_t idx, uint32_t gen);
/* Open connections from 'peer'. */
size_t lguard_table_peer_count(const struct lguard_table *,
                               const char *peer);

/* The next back-off after an accept error: 'prev_ms' the last one (0 =
 * none), 'quiet_ms' the time since the last error.  Doubles from
 * LGUARD_BACKOFF_MIN_MS up to LGUARD_BACKOFF_MAX_MS; starts over after
 * LGUARD_BACKOFF_RESET_MS without errors. */
uint32_t lguard_backoff_next(uint32_t prev_ms, uint64_t quiet_ms);

/* ---- On the event loop ---- */

struct lguard_config {
    const char *name;     /* "rest", "agent": in log lines */
    uint32_t max_conns;   /* per listener */
    uint32_t max_per_peer;
    uint32_t request_timeout_ms; /* REST: 0 = none */
};

struct lguard;

struct lguard *lguard_new(struct event_base *, const struct lguard_config *);
/* Accepts NULL.  Free it after the listener and its connections. */
void lguard_free(struct lguard *);

/* Backs the listener off on accept errors (EMFILE, ENFILE, ...) instead
 * of letting libevent retry at once. */
void lguard_watch_listener(struct lguard *, struct evconnlistener *);

/* A plain accept path (the agent channel): whether the connection 'fd'
 * from 'sa' may stay (its slot is freed once the socket is closed).  On
 * false the caller closes it. */
bool lguard_accept(struct lguard *, int fd, const struct sockaddr *sa);

/* The REST server: every connection 'http' accepts on 'bound' goes
 * through the guard (evhttp_set_bevcb).  'make' builds the transport
 * bufferevent (fd -1) for a TLS server; NULL = plain TCP. */
typedef struct bufferevent *(*lguard_make_bev)(struct event_base *, void *);
void lguard_http(struct lguard *, struct evhttp *,
                 struct evhttp_bound_socket *bound, lguard_make_bev make,
                 void *make_arg);

/* Counters for tests and /metrics. */
struct lguard_stats {
    uint64_t refused_peer, refused_total, backoffs, timeouts, too_large;
    uint64_t open;
};
void lguard_get_stats(const struct lguard *, struct lguard_stats *);

#endif /* MIGNET_CONTROLLER_LISTEN_GUARD_H */
