/* ofctrl.h: mignet-agent's flow table control over one OpenFlow session
 * (lib/ofconn), and what its barriers let the agent claim.
 *
 * ofctrl_sync() sends the difference between the installed and the desired
 * flow tables as one batch followed by a barrier (ofctrl_sync_tracked():
 * only the difference at the keys an incremental computation changed).
 * When the barrier's reply comes, the batch is *confirmed* only if Open vSwitch sent no error for any
 * of its messages and every batch before it since the last failure was
 * confirmed too; then the instructions it implements are acknowledged on
 * the agent channel ('ack {seq}') and its map version reported.  A batch
 * with an error is *refused*: its instructions are negatively acknowledged
 * ('nack {seq, ofp_error}', docs/agent-protocol.md), never acknowledged, and
 * the next sync sends the whole desired table again.  On a (re)connection
 * it reads the switch's flows with the agent's cookie into the installed
 * table rather than clearing them (ofctrl_read_switch), so the first sync
 * sends only the difference and a restart blackholes nothing.  Sans-I/O
 * like ofconn and chan_client: unit tests drive it with canned switch replies
 * (tests/unit/test_ofctrl.c).  It never claims what a barrier did not
 * confirm (DESIGN I9). */
#ifndef MIGNET_AGENT_OFCTRL_H
#define MIGNET_AGENT_OFCTRL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ofconn.h"

struct chan_client;
struct flowtab;
struct flowtab_diff;
struct strbuf;

/* One batch of flow_mods and what its barrier confirms. */
struct ofctrl_batch {
    uint64_t id;        /* 1, 2, ... per ofctrl, set with its barrier */
    uint64_t session;   /* channel session it belongs to */
    uint64_t ack_seq;   /* highest instruction it implements, 0 = none */
    uint64_t version;   /* gateway map version it implements, 0 = none */
    uint64_t begun_us;  /* caller's clock: the sync that built it began */
    uint64_t sent_us;   /* caller's clock, for latency figures */
    uint64_t oldest_instr_us; /* arrival of the oldest instruction in it */
    size_t n_mods;      /* flow_mods in it */
    size_t n_installed; /* size of the table once it is confirmed */
    uint64_t gen;       /* internal: the failure generation it was sent in */
};

enum ofctrl_outcome {
    OFCTRL_CONFIRMED, /* no error: acknowledged */
    OFCTRL_REFUSED,   /* an error for one of its messages: nacked */
    OFCTRL_STALE,     /* no error, but an earlier batch failed: nothing */
    OFCTRL_LOST,      /* the connection ended first: nothing */
};

struct ofctrl_hooks {
    /* A batch's barrier completed (after any ack or nack was queued). */
    void (*done)(void *aux, const struct ofctrl_batch *,
                 enum ofctrl_outcome, const struct ofconn_barrier_result *);
    /* The channel's clock (monotonic ms) for the acks and nacks it queues;
     * NULL: 0. */
    uint64_t (*now_ms)(void *aux);
    /* ofctrl_read_switch() is done: the installed table is what the
     * switch holds ('ok'), or the switch could not say and its flows with
     * the cookie were deleted (!'ok').  NULL: not told. */
    void (*read)(void *aux, bool ok);
    void *aux;
};

struct ofctrl;

/* Controls the flows over 'conn' (not owned) and speaks for them on
 * 'chan' (not owned), queueing acks, nacks and refreshes in 'chan_out'.
 * 'session' in a batch must match 'ofctrl_set_session()' when its reply
 * comes, or the channel session it was for is gone and nothing is sent. */
struct ofctrl *ofctrl_create(struct ofconn *conn, struct chan_client *chan,
                             struct strbuf *chan_out,
                             const struct ofctrl_hooks *);
/* Accepts NULL.  Destroy the ofconn first: its pending barriers call back
 * into this. */
void ofctrl_destroy(struct ofctrl *);

/* The channel session now in use (the caller counts connections). */
void ofctrl_set_session(struct ofctrl *, uint64_t session);
/* The switch connection is new: batches still pending are void, nothing
 * needs resending.  Call ofctrl_read_switch() next. */
void ofctrl_reconnected(struct ofctrl *);
/* Reads what the switch holds instead of clearing it (no blackhole on a
 * reconnection): clears 'installed' (kept by the caller, not owned) and
 * fills it with the switch's flows whose cookie matches 'cookie' under
 * 'cookie_mask', so the next sync sends only the difference; flows with
 * other cookies are never touched.  Until the reply is complete
 * ofctrl_sync() returns EAGAIN.  If the switch answers with an error, its
 * flows with the cookie are deleted and 'installed' stays empty (a full
 * resync, as before).  Returns 0 or ENOTCONN. */
int ofctrl_read_switch(struct ofctrl *, struct flowtab *installed,
                       uint64_t cookie, uint64_t cookie_mask);
/* 'msg' becomes a flow statistics request for every table, filtered by
 * 'cookie' under 'cookie_mask' (its xid is set when it is sent). */
void ofctrl_flow_stats_request(struct ofp_msg *msg, uint64_t cookie,
                               uint64_t cookie_mask);
/* A read of the switch's flows is under way. */
bool ofctrl_reading(const struct ofctrl *);

/* Sends the flow_mods that turn 'installed' into 'desired' (flowtab_sync:
 * 'installed' becomes the desired table, 'desired' is left empty) and a
 * barrier for 'batch' (copied; its id and gen are set here).  After a
 * refused batch the whole desired table goes again (every flow added,
 * stale ones deleted).  Returns 0 or ENOTCONN (nothing sent, nothing
 * changed), or EAGAIN while ofctrl_read_switch() waits for its reply. */
int ofctrl_sync(struct ofctrl *, struct flowtab *installed,
                struct flowtab *desired, struct ofctrl_batch *batch,
                struct flowtab_diff *);
/* The same with only the changes: for every key in 'tracked' (an
 * incremental computation's changed keys, pl_engine.h; their instructions
 * are not read), the flow_mods that make 'installed' hold what 'desired'
 * holds, so a sync costs the changes, not the table.  'desired' is left
 * as it is and 'installed' takes copies.  The whole tables are diffed
 * instead (every desired key is checked, every installed flow it lacks
 * deleted) on the first sync after ofctrl_create(), a reconnection or a
 * read of the switch, and after a refused batch (every flow added again,
 * as ofctrl_sync).  The caller clears its tracked set after 0; after an
 * error it keeps it for the next try. */
int ofctrl_sync_tracked(struct ofctrl *, struct flowtab *installed,
                        const struct flowtab *desired,
                        const struct flowtab *tracked,
                        struct ofctrl_batch *batch, struct flowtab_diff *);
/* The same a slice at a time, so that a diff of 100,000 flows never
 * holds the agent's loop (flowtab_sync_step): ofctrl_sync_begin() starts
 * it (0, ENOTCONN, EAGAIN as above, or EBUSY while one is under way);
 * each ofctrl_sync_step() sends the flow_mods of about '*budget' flows
 * (taking them off it) and
 * returns EAGAIN until the last slice, whose call sends the barrier for
 * 'batch' and returns 0 (ENOTCONN: the connection ended, the sync with
 * it).  Between the steps 'desired' and 'tracked' must not change; the
 * batch belongs to the generation the sync began in, so a failure
 * meanwhile makes it stale, never confirmed. */
int ofctrl_sync_begin(struct ofctrl *, struct flowtab *installed,
                      const struct flowtab *desired,
                      const struct flowtab *tracked);
int ofctrl_sync_step(struct ofctrl *, struct flowtab *installed,
                     const struct flowtab *desired,
                     const struct flowtab *tracked, size_t *budget,
                     struct ofctrl_batch *batch, struct flowtab_diff *);
/* A refused batch has not been followed by a confirmed full resend. */
bool ofctrl_failed(const struct ofctrl *);

struct ofctrl_stats {
    uint64_t batches, confirmed, refused, stale, lost;
    uint64_t ofp_errors; /* error replies counted by refused batches */
    uint64_t reads;      /* completed reads of the switch's flows */
    uint64_t read_flows; /* flows the last read found */
};
void ofctrl_get_stats(const struct ofctrl *, struct ofctrl_stats *);

#endif /* MIGNET_AGENT_OFCTRL_H */
