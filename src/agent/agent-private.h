/* agent-private.h: what the files of mignet-agent share.  Internal to
 * src/agent; nothing else includes it.
 *
 * The agent is a sans-I/O core (struct agent_core, agent_core.h) inside a
 * thin libevent shell (struct agent, below).  The core decides; the shell
 * owns the sockets, the timers and the clock, feeds the core and sends
 * what it queues.
 *
 *   core, no I/O and no clock (unit tests: tests/unit/test_agent_core.c)
 *   agent_core.c     the core's inputs and outputs: channel, OpenFlow
 *                    session and its messages, ports, map answers, timers
 *   agent_sync.c     desired state -> flow table sync (compute, ofctrl.c),
 *                    the settle wait after a reconnection, and what a
 *                    confirmed batch reports (acks, map versions)
 *   agent_snoop.c    port security: DHCP punts, snooped bindings
 *   shell (libevent)
 *   agent.c          lifecycle, the loop, the core's wake-up timer,
 *                    the gateway poll, the loop-stall probe
 *   agent_chan.c     the agent channel's socket
 *   agent_of.c       the socket to the node's bridge
 *   agent_ovsdb.c    the socket to the node's ovsdb-server (--ovsdb)
 *   agent_metrics.c  the statistics timer and GET /metrics */
#ifndef MIGNET_AGENT_AGENT_PRIVATE_H
#define MIGNET_AGENT_AGENT_PRIVATE_H 1

#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/agent_core.h"
#include "lib/addr_list.h"
#include "lib/http_client.h"

struct bufferevent;
struct event;
struct evdns_base;
struct event_base;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;

/* The loop-stall histogram: how late a probe timer ran after its due
 * time (agent.c); agent_stall_le_us are its bucket bounds. */
#define AGENT_STALL_BUCKETS 12
extern const uint64_t agent_stall_le_us[AGENT_STALL_BUCKETS];
struct stall_hist {
    uint64_t le[AGENT_STALL_BUCKETS]; /* observations <= each bound */
    uint64_t count, sum_us, max_us;
};

/* The shell: event handles and sockets around the core. */
struct agent {
    struct agent_options opt;
    struct event_base *base;
    uint64_t rng;
    struct agent_core *core;
    struct event *wake;      /* at agent_core_next_wake() */

    /* Agent channel: --controller, one address per replica of mignetd;
     * the agent follows the leader (docs/agent-protocol.md). */
    struct addr_list ctls;
    char token[CHAN_TOKEN_MAX + 1]; /* --token-file; "" = none */
    struct ssl_ctx_st *chan_tls;    /* --tls-ca; NULL = plain TCP */
    struct bufferevent *chan_bev;  /* connected */
    struct bufferevent *chan_pend; /* connecting, not yet up */
    struct event *chan_retry;
    /* Failed connects in a row and when the last was logged at warn
     * (monotonic us): the first of a streak and then one every 30 s. */
    uint64_t chan_fail_streak, chan_warned_us;

    /* Gateway: --gateway, one URL per replica (then the one of the
     * controller in use), or one for all; 'gw' is the one in use. */
    struct addr_list gws;
    size_t gw_index;                 /* of 'gw' in 'gws' */
    const char *gw_url;              /* its text */
    struct http_url gw;
    struct evdns_base *dns;          /* names resolved off the loop */
    struct evhttp_connection *gw_conn;
    struct evhttp_request *poll_req; /* the poll in flight, or NULL */
    struct event *poll_deadline;     /* ends it after 1 s in all */
    const char *poll_why;            /* why it failed, for the log */
    /* The answer's body, taken as it arrives (poll_chunk_cb) so that a
     * 9 MB map is never copied in one turn; handed to the core whole. */
    char *poll_body;
    size_t poll_len, poll_cap;
    struct event *poll_timer;
    uint64_t polls, poll_errors;
    /* Failed polls in a row, when the streak began and when it was last
     * logged (monotonic us): warn at its start, then every
     * GATEWAY_WARN_EVERY_MS, and one info line when it ends. */
    uint64_t gw_fail_streak, gw_fail_since_us, gw_warned_us;

    /* OpenFlow socket. */
    struct bufferevent *of_bev; /* connecting or connected */
    bool of_up;                 /* connected: the core has the session */
    struct event *of_retry;

    /* ovsdb-server (--ovsdb), for external_ids:iface-id. */
    struct bufferevent *ovsdb_bev;
    bool ovsdb_up;
    struct event *ovsdb_retry;

    struct event *stats_timer;
    struct evhttp *http;

    struct event *stall_timer; /* the loop-stall probe */
    uint64_t stall_due_us;
    struct stall_hist stall;

    struct event *sig_term, *sig_int, *sig_hup;
};

/* ---- Core (no I/O): called only from the core's files. ---- */

/* The core's clocks during the call being handled. */
static inline uint64_t
agent_core_ms(const struct agent_core *a)
{
    return a->now_us / 1000;
}
static inline uint64_t
agent_core_wall_ms(const struct agent_core *a)
{
    return a->now_us / 1000 + a->opt.wall_offset_ms;
}

/* agent_snoop.c */
const struct binding *agent_entry_binding(const struct agent_core *,
                                          const struct chan_entry *);
void agent_snooped_prune(struct agent_core *);
void agent_packet_in(struct agent_core *, const struct ofp_packet_in *);
/* Sends one priming frame to the port of a prepared (inactive) copy of
 * 'vm' at 'epoch', once per copy and port (agent_core.c, "Priming"). */
void agent_prime_port(struct agent_core *, const char *vm, uint64_t epoch,
                      const uint8_t mac[6], uint32_t port);

/* agent_sync.c */
/* ofctrl hooks: the core's clock; a batch's barrier completed. */
uint64_t agent_now_ms(void *aux);
void agent_batch_done(void *aux, const struct ofctrl_batch *,
                      enum ofctrl_outcome,
                      const struct ofconn_barrier_result *);
/* ofctrl hook: the switch's flows were read (or deleted). */
void agent_flows_read(void *aux, bool ok);
/* The bounded wait for the desired state is over. */
void agent_settle_expired(struct agent_core *);
/* Recomputes, sends the difference and a barrier. */
struct agent_sync_job *agent_sync_job_create(void);
void agent_sync_job_destroy(struct agent_sync_job *);
/* A sync is under way: agent_core_run() goes on with it every turn. */
bool agent_sync_busy(const struct agent_core *);
/* The highest instruction a batch covers: sent, being built, or a
 * resync's replay (the latency clock runs only for later ones). */
uint64_t agent_sync_covered_seq(const struct agent_core *);
void agent_sync(struct agent_core *);
/* A sync runs at the next agent_core_run(). */
void agent_schedule_sync(struct agent_core *);

/* agent_core.c */
void agent_lat_add(struct lat *, uint64_t us);
/* The bridge's number for the port of held entry 'e', 0 if none. */
uint32_t agent_entry_port(const struct agent_core *,
                          const struct chan_entry *);

/* ---- Shell (libevent). ---- */

/* agent.c */
/* Adds 'ev' to its loop, due in 'ms' milliseconds. */
void agent_arm_ms(struct event *ev, uint64_t ms);
/* Counts one loop stall of 'us' microseconds in 'h'. */
void agent_stall_add(struct stall_hist *h, uint64_t us);
/* After every call into the core: sends what it queued on the channel
 * and to the switch, and arms its wake-up. */
void agent_flush(struct agent *);

/* agent_of.c */
/* Event callback: connects to the bridge. */
void agent_of_connect(evutil_socket_t, short what, void *aux);
/* Closes the bridge's socket (the core hears it) and retries later. */
void agent_of_close(struct agent *, const char *why);
/* Writes what the core queued for the switch. */
void agent_of_flush(struct agent *);

/* agent_ovsdb.c */
/* Event callback: connects to ovsdb-server (nothing without --ovsdb). */
void agent_ovsdb_connect(evutil_socket_t, short what, void *aux);
/* Writes what the core queued for ovsdb-server. */
void agent_ovsdb_flush(struct agent *);
/* Closes the socket and frees the retry timer. */
void agent_ovsdb_stop(struct agent *);

/* agent_chan.c */
/* Event callback: (re)connects the channel. */
void agent_chan_connect(evutil_socket_t, short what, void *aux);
/* Closes the channel (the core hears it) and retries: with the leader
 * the replica named ('leader', NULL or "" for none) if it is listed, else
 * with the next address; at once, or after --reconnect-ms once every
 * address failed in a row. */
void agent_chan_close(struct agent *, const char *why, const char *leader);
/* Writes what the core queued for the channel. */
void agent_chan_flush(struct agent *);

/* agent.c */
/* Polls the gateway at --gateway's URL 'index' from the next poll on. */
void agent_gateway_select(struct agent *, size_t index);

/* agent_metrics.c */
/* Event callback: asks the switch for the counters. */
void agent_stats_cb(evutil_socket_t, short what, void *aux);
/* evhttp callback of GET /metrics. */
void agent_metrics_cb(struct evhttp_request *, void *aux);

/* SIGHUP (agent_reload.c): reads the config file and the token file
 * again; applies the log level and the token (used from the next
 * connection to mignetd), logs the settings that need a restart.  A file
 * that does not parse changes nothing. */
void agent_reload(struct agent *);

#endif /* MIGNET_AGENT_AGENT_PRIVATE_H */
