/* agent_core.h: mignet-agent's decisions without I/O (issue 10 item 7).
 *
 * The core owns what the agent knows and decides: the channel session
 * (chan_client), the gateway map copy, the desired and installed flow
 * tables, the OpenFlow session (lib/ofconn, driven sans-I/O) with its
 * batches (ofctrl), the port table, the settle wait after a reconnection,
 * port security and the pending acknowledgements.  It never touches a
 * socket, a timer or the clock: the shell (agent.c, agent_chan.c,
 * agent_of.c) feeds it bytes, answers and 'now', sends what it queues and
 * wakes it at agent_core_next_wake(); unit tests do the same with canned
 * lines and switch replies (tests/unit/test_agent_core.c).
 *
 * Usage (every call takes 'now', monotonic microseconds):
 *   c = agent_core_create(&opts, now);
 *   channel up / bytes / down:  agent_core_chan_connected(c, now),
 *       agent_core_chan_receive(c, buf, n, now) (!= 0: close it),
 *       agent_core_chan_disconnected(c, now)
 *   switch up / bytes / down:   agent_core_of_connected(c, now),
 *       agent_core_of_receive(c, buf, n, now) (!= 0: close it),
 *       agent_core_of_disconnected(c, now)
 *   a gateway map answer:       agent_core_map_answer(c, body, n, now, ...)
 *   timers:                     agent_core_run(c, now) at
 *       agent_core_next_wake(c); agent_core_request_stats(c, now)
 *   after each call: send agent_core_chan_output() on the channel and
 *   agent_core_of_output() to the switch, then clear them. */
#ifndef MIGNET_AGENT_AGENT_CORE_H
#define MIGNET_AGENT_AGENT_CORE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/chan_client.h"
#include "agent/ofctrl.h"
#include "agent/vm_changes.h"
#include "lib/ofconn.h"
#include "lib/strbuf.h"
#include "mignet/ofp.h"

struct agent_map;
struct binding_table;
struct ovsdb_iface;
struct map_push;
struct flowtab;
struct pl_engine;
struct agent_vnet;
struct agent_sync_job;

#define MAX_PORTS 4096
#define LAT_SAMPLES 4096
/* DHCP ACKs whose enforcement is being timed, and for how long at most. */
#define MAX_PENDING_ACKS 64
#define PENDING_ACK_MAX_US (30 * 1000000ull)
/* How long the first sync after an OpenFlow (re)connection waits for the
 * desired state when the switch still holds the agent's flows (no
 * mignetd, no gateway: it stops waiting then, and the flows it was not
 * told about go). */
#define SETTLE_WAIT_MS 3000
/* Most relay counter requests in one round (agent_core_request_stats). */
#define AGENT_RELAY_REQ_MAX 64

struct port {
    char name[OFP_MAX_PORT_NAME_LEN + 1];
    uint32_t no;
};

/* A DHCP ACK seen on a trusted port, until a barrier confirms flows that
 * enforce the binding it granted (the ACK -> enforcement latency). */
struct pending_ack {
    uint8_t mac[6];
    uint32_t ip;
    uint64_t t0_us;
    bool enforced; /* the desired flows enforce it */
    uint64_t batch; /* ofctrl batch that confirms them, 0 = not sent */
};

/* A relay flow's packet count as last read (agent_core.c). */
struct relay_seen {
    uint8_t table;
    uint16_t priority;
    struct ofp_match match;
    uint64_t packets;
};

/* A latency summary over the last LAT_SAMPLES observations. */
struct lat {
    uint64_t us[LAT_SAMPLES];
    size_t n;
    uint64_t total;
    uint64_t sum_us; /* of every observation, for the summary's _sum */
};

struct agent_core_options {
    const char *node;        /* this node's id (kept, not copied) */
    const char *tunnel_port; /* name of the overlay port on the bridge */
    enum agent_dhcp_snoop dhcp_snoop;
    /* Wall-clock milliseconds minus monotonic milliseconds: snooped DHCP
     * leases are wall-clock times.  0 in tests. */
    uint64_t wall_offset_ms;
    /* Find VMs' ports by OVS external_ids:iface-id, read from ovsdb-server
     * (agent_core_ovsdb_*); false: by their name alone. */
    bool ovsdb;
    /* Tenant virtual switches' counters are read this often (ms); 0 =
     * only on request and before deletions (agent_vnet.c). */
    uint32_t vnet_stats_ms;
};

/* The shell reads these fields (metrics, the poll's URL); only the
 * agent_core_* functions and the core's files change them. */
struct agent_core {
    struct agent_core_options opt;
    uint64_t now_us; /* of the call being handled */

    /* Agent channel. */
    struct chan_client *chan;
    struct strbuf chan_out;  /* queued for the channel */
    uint64_t session;        /* counts connections */
    uint64_t unconfirmed_since_us; /* oldest applied, unacked instruction */
    uint64_t synced_seq; /* highest instruction a batch sent covers */
    /* The last resync's replay: instructions up to 'replayed_seq' are
     * state replayed at a (re)connection, not new instructions; the time
     * from its end to its barrier is the resync's, not an instruction's
     * latency ('resync_since_us' while unconfirmed). */
    uint64_t replayed_seq;
    uint64_t resync_since_us;
    uint64_t resync_confirmed_us; /* the last one's, 0 = none yet */
    size_t confirmed_flows; /* flows in the switch, per the last barrier */

    /* Gateway map. */
    struct agent_map *map;
    struct map_push *push; /* map push on the channel (map_push.h) */
    bool map_loaded;
    uint64_t map_errors; /* answers found malformed while being read */
    uint64_t confirmed_version; /* map version confirmed by a barrier */

    /* OpenFlow. */
    struct ofconn *of;        /* the session, driven sans-I/O */
    struct ofctrl *ofctrl;    /* flow batches and their barriers */
    bool of_ready;
    struct port ports[MAX_PORTS];
    size_t n_ports;
    /* Open vSwitch's Interface table (NULL without opt.ovsdb). */
    struct ovsdb_iface *ovsdb;
    struct strbuf ovsdb_out; /* queued for ovsdb-server */
    uint64_t ovsdb_errors;   /* malformed messages (each closes it) */
    struct flowtab *installed;
    /* The desired flows, computed incrementally (agent_sync.c), and the
     * VMs whose port or snooped binding changed since compute(). */
    struct pl_engine *engine;
    struct vm_changes changed;
    bool sync_due; /* a sync runs at the next agent_core_run() */
    struct agent_sync_job *job; /* the sync under way (agent_sync.c) */
    /* No blackhole on reconnect (agent_sync.c): with the agent's flows
     * still in the switch, the first sync waits until the desired state
     * is known (channel resync and a map read) or until settle_at. */
    bool settled;
    uint64_t settle_at; /* microseconds; 0 = no deadline armed */
    /* A round of relay counter requests: one per held relay, by its exact
     * cookie (Open vSwitch finds those by index instead of walking the
     * table), or one by the relay kind when there are too many. */
    uint32_t relay_xids[AGENT_RELAY_REQ_MAX];
    size_t n_relay_xids;     /* replies of the round still to come */
    struct relay_seen *relay_next; /* the round's flows so far */
    size_t n_relay_next, relay_next_cap;
    uint64_t relay_next_sum;

    /* Tenant virtual switches (agent_vnet.c) and when their counters
     * are next read (microseconds; 0 = not armed). */
    struct agent_vnet *vnet;
    uint64_t vnet_stats_at;

    /* Port security (seed 003). */
    struct binding_table *snooped; /* agent-snooped, not yet confirmed */
    struct pending_ack pend[MAX_PENDING_ACKS];
    size_t n_pend;
    uint32_t portsec_xid;
    uint64_t spoof_drops;  /* packets the drop flows of table 10 counted */
    uint64_t portsec_sum;  /* ... as last read */
    uint64_t portsec_flows;
    uint64_t dhcp_punts, dhcp_sent, dhcp_bad, bindings_snooped;

    /* The migration lifecycle: an entry activated on its port's first
     * frame is reported ('activated') once a batch sent after the
     * activation -- or after a channel (re)connection -- is confirmed:
     * the local delivery is true on the switch before mignetd moves
     * traffic here.  'activation_due': the next batch carries the
     * report; 'activation_batch': the batch that does (0: none). */
    bool activation_due;
    uint64_t activation_batch;
    uint64_t activation_punts; /* frames punted by a watch flow */
    /* The prepared copies whose port got its priming frame (a ring: the
     * newest AGENT_PRIMED_MAX), and how many frames were sent. */
#define AGENT_PRIMED_MAX 64
    struct agent_primed {
        char vm[MN_NAME_MAX + 1];
        uint64_t epoch;
        uint32_t port;
    } primed[AGENT_PRIMED_MAX];
    size_t primed_next;
    uint64_t primes_sent;

    /* Counters. */
    uint64_t flow_mods, syncs, of_errors, of_connects;
    uint64_t relayed_packets, relay_flows;
    uint64_t relay_sum; /* packets counted by the relay flows last read */
    struct relay_seen *relay_seen; /* each relay flow's count last read */
    size_t n_relay_seen;
    struct lat instr_lat;   /* instruction -> barrier reply */
    struct lat enforce_lat; /* DHCP ACK -> its binding's flows confirmed */
    size_t biggest_batch;     /* most flow_mods confirmed by one barrier */
    uint64_t biggest_batch_us; /* its time from first send to reply */
};

/* Returns NULL when 'opts->node' is not a valid node id. */
struct agent_core *agent_core_create(const struct agent_core_options *,
                                     uint64_t now);
/* Accepts NULL. */
void agent_core_destroy(struct agent_core *);

/* The agent channel's connection is up (queues hello), received bytes
 * (any split; returns 0, or an errno after which the shell closes it and
 * calls agent_core_chan_disconnected), and it is gone. */
void agent_core_chan_connected(struct agent_core *, uint64_t now);
int agent_core_chan_receive(struct agent_core *, const char *data,
                            size_t len, uint64_t now);
void agent_core_chan_disconnected(struct agent_core *, uint64_t now);

/* The switch's connection is up (queues hello), received bytes (returns 0,
 * or EPROTO: send the output, then close it), and it is gone (its pending
 * batches are lost; the next connection reads the switch again). */
void agent_core_of_connected(struct agent_core *, uint64_t now);
int agent_core_of_receive(struct agent_core *, const void *data, size_t len,
                          uint64_t now);
void agent_core_of_disconnected(struct agent_core *, uint64_t now);

/* With opt.ovsdb: the connection to ovsdb-server is up (queues the
 * monitor), received bytes (returns 0, or an errno after which the shell
 * closes it, calls agent_core_ovsdb_disconnected and reconnects later),
 * and it is gone. */
void agent_core_ovsdb_connected(struct agent_core *, uint64_t now);
int agent_core_ovsdb_receive(struct agent_core *, const char *data,
                             size_t len, uint64_t now);
void agent_core_ovsdb_disconnected(struct agent_core *, uint64_t now);
struct strbuf *agent_core_ovsdb_output(struct agent_core *);

/* A 200 answer of GET /v1/map?since=V: read a slice per call here and in
 * agent_core_run() (agent_map_read_step), applied once it is all read.
 * Returns 0, or EINVAL with 'err' filled and nothing changed when it is
 * not a JSON object or an answer is still being read (the shell does not
 * poll then); a fault found later is logged and counted (map_errors). */
int agent_core_map_answer(struct agent_core *, const char *body, size_t len,
                          uint64_t now, char *err, size_t errlen);
/* The same with no copy: takes 'body' (malloc'd), freed by the core. */
int agent_core_map_answer_take(struct agent_core *, char *body, size_t len,
                               uint64_t now, char *err, size_t errlen);

/* Asks the switch for the port-security counters, and for the relay ones
 * while relay flows may exist; a snooped lease that ended schedules a
 * sync. */
void agent_core_request_stats(struct agent_core *, uint64_t now);

/* What agent_core_run() says the shell must do. */
enum {
    AGENT_CORE_CLOSE_CHAN = 1 << 0, /* mignetd silent: close the channel */
    AGENT_CORE_CLOSE_OF = 1 << 1,   /* switch silent: close the session */
};
/* Timers: heartbeats, the settle deadline, a scheduled sync.  Returns 0 or
 * AGENT_CORE_CLOSE_* bits. */
int agent_core_run(struct agent_core *, uint64_t now);
/* When agent_core_run() next has work (microseconds, at most 'now' when a
 * sync is due; UINT64_MAX: never). */
uint64_t agent_core_next_wake(const struct agent_core *);

/* What is queued for the channel and for the switch (the caller sends
 * and clears it). */
struct strbuf *agent_core_chan_output(struct agent_core *);
struct ofpbuf *agent_core_of_output(struct agent_core *);

/* The bridge's number for the port called 'name', 0 if none. */
uint32_t agent_port_lookup(const struct agent_core *, const char *name);

#endif /* MIGNET_AGENT_AGENT_CORE_H */
