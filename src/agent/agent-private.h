/* agent-private.h: what the files of mignet-agent share: struct agent,
 * the state of one running agent, and the functions one of its files
 * calls in another.  Internal to src/agent; nothing else includes it.
 *
 *   agent.c          lifecycle, the event loop, timers, the gateway poll
 *   agent_of.c       the OpenFlow session with the node's bridge (ofconn)
 *   agent_snoop.c    port security: DHCP punts, snooped bindings
 *   agent_sync.c     desired state -> flow table sync (ofctrl.c), and
 *                    what a confirmed batch reports
 *   agent_chan.c     the agent channel's socket around chan_client
 *   agent_metrics.c  flow statistics and GET /metrics */
#ifndef MIGNET_AGENT_AGENT_PRIVATE_H
#define MIGNET_AGENT_AGENT_PRIVATE_H 1

#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/chan_client.h"
#include "agent/ofctrl.h"
#include "agent/vm_changes.h"
#include "lib/http_client.h"
#include "lib/ofconn.h"
#include "lib/strbuf.h"
#include "mignet/ofp.h"

struct agent_map;
struct binding_table;
struct bufferevent;
struct event;
struct evdns_base;
struct event_base;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;
struct flowtab;
struct pl_engine;

#define MAX_PORTS 4096
#define LAT_SAMPLES 4096
/* DHCP ACKs whose enforcement is being timed, and for how long at most. */
#define MAX_PENDING_ACKS 64
#define PENDING_ACK_MAX_US (30 * 1000000ull)

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

/* A latency summary over the last LAT_SAMPLES observations. */
struct lat {
    uint64_t us[LAT_SAMPLES];
    size_t n;
    uint64_t total;
    uint64_t sum_us; /* of every observation, for the summary's _sum */
};

/* The loop-stall histogram: how late a probe timer ran after its due
 * time (agent.c); agent_stall_le_us are its bucket bounds. */
#define AGENT_STALL_BUCKETS 12
extern const uint64_t agent_stall_le_us[AGENT_STALL_BUCKETS];
struct stall_hist {
    uint64_t le[AGENT_STALL_BUCKETS]; /* observations <= each bound */
    uint64_t count, sum_us, max_us;
};

struct agent {
    struct agent_options opt;
    struct event_base *base;
    uint64_t rng;

    /* Agent channel. */
    struct chan_client *chan;
    struct bufferevent *chan_bev;  /* connected */
    struct bufferevent *chan_pend; /* connecting, not yet up */
    struct event *chan_timer;
    struct event *chan_retry;
    struct strbuf chan_out;
    uint64_t session; /* counts connections */
    uint64_t unconfirmed_since_us; /* oldest applied, unacked instruction */
    uint64_t synced_seq; /* highest instruction a barrier already covers */
    size_t confirmed_flows; /* flows in the switch, per the last barrier */

    /* Gateway. */
    struct http_url gw;
    struct evdns_base *dns;          /* names resolved off the loop */
    struct evhttp_connection *gw_conn;
    struct evhttp_request *poll_req; /* the poll in flight, or NULL */
    struct event *poll_deadline;     /* ends it after 1 s in all */
    const char *poll_why;            /* why it failed, for the log */
    struct agent_map *map;
    struct event *poll_timer;
    uint64_t polls, poll_errors;
    uint64_t confirmed_version; /* map version confirmed by a barrier */

    /* OpenFlow. */
    struct ofconn *of;        /* the session (agent_of.c) */
    struct ofctrl *ofctrl;    /* flow batches and their barriers */
    struct event *of_retry;
    bool of_ready;
    struct port ports[MAX_PORTS];
    size_t n_ports;
    struct flowtab *installed;
    /* The desired flows, computed incrementally (agent_sync.c), and the
     * VMs whose port or snooped binding changed since compute(). */
    struct pl_engine *engine;
    struct vm_changes changed;
    struct event *sync_ev;
    /* No blackhole on reconnect (agent_sync.c): with the agent's flows
     * still in the switch, the first sync waits until the desired state
     * is known (channel resync and a map read) or settle_timer fires. */
    bool settled, map_loaded;
    struct event *settle_timer;
    struct event *stats_timer;
    uint32_t stats_xid;

    /* Port security (seed 003). */
    struct binding_table *snooped; /* agent-snooped, not yet confirmed */
    struct pending_ack pend[MAX_PENDING_ACKS];
    size_t n_pend;
    uint32_t portsec_xid;
    uint64_t spoof_drops;  /* packets the drop flows of table 10 counted */
    uint64_t portsec_sum;  /* ... as last read */
    uint64_t portsec_flows;
    uint64_t dhcp_punts, dhcp_sent, dhcp_bad, bindings_snooped;

    /* Metrics. */
    struct evhttp *http;
    uint64_t flow_mods, syncs, of_errors, of_connects;
    uint64_t relayed_packets, relay_flows;
    uint64_t relay_sum; /* packets counted by the relay flows last read */
    struct lat instr_lat;   /* instruction -> barrier reply */
    struct lat enforce_lat; /* DHCP ACK -> its binding's flows confirmed */
    size_t biggest_batch;     /* most flow_mods confirmed by one barrier */
    uint64_t biggest_batch_us; /* its time from first send to reply */

    struct event *stall_timer; /* the loop-stall probe */
    uint64_t stall_due_us;
    struct stall_hist stall;

    struct event *sig_term, *sig_int;
};

/* agent.c */
/* Adds 'ev' to its loop, due in 'ms' milliseconds. */
void agent_arm_ms(struct event *ev, uint64_t ms);
/* Counts one loop stall of 'us' microseconds in 'h'. */
void agent_stall_add(struct stall_hist *h, uint64_t us);

/* agent_of.c */
/* The session's hooks, for ofconn_create(). */
extern const struct ofconn_hooks agent_of_hooks;
/* Sends 'msg' if the session is ready; its xid is then in msg->xid. */
void agent_of_send_msg(struct agent *, struct ofp_msg *);
/* The bridge's number for the port called 'name', 0 if none. */
uint32_t agent_port_lookup(const struct agent *, const char *name);
/* Event callback: connects to the bridge and says hello. */
void agent_of_connect(evutil_socket_t, short what, void *aux);

/* agent_snoop.c */
const struct binding *agent_entry_binding(const struct agent *,
                                          const struct chan_entry *);
void agent_snooped_prune(struct agent *);
void agent_packet_in(struct agent *, const struct ofp_packet_in *);

/* agent_sync.c */
/* ofctrl hooks: the channel's clock; a batch's barrier completed. */
uint64_t agent_now_ms(void *aux);
void agent_batch_done(void *aux, const struct ofctrl_batch *,
                      enum ofctrl_outcome,
                      const struct ofconn_barrier_result *);
/* ofctrl hook: the switch's flows were read (or deleted). */
void agent_flows_read(void *aux, bool ok);
/* Event callback: the bounded wait for the desired state is over. */
void agent_settle_cb(evutil_socket_t, short what, void *aux);
/* Event callback: recompute, send the difference and a barrier. */
void agent_sync_cb(evutil_socket_t, short what, void *aux);
void agent_schedule_sync(struct agent *);

/* agent_chan.c */
void agent_chan_flush(struct agent *);
/* chan_client hooks. */
void agent_chan_state_changed(void *aux);
void agent_chan_received(void *aux, const char *line, size_t len,
                         const struct chan_msg *, enum chan_err);
/* Event callbacks: the channel's 100 ms timer, and (re)connecting. */
void agent_chan_timer_cb(evutil_socket_t, short what, void *aux);
void agent_chan_connect(evutil_socket_t, short what, void *aux);

/* agent_metrics.c */
void agent_lat_add(struct lat *, uint64_t us);
void agent_relay_stats(struct agent *, const struct ofp_multipart *);
void agent_portsec_stats(struct agent *, const struct ofp_multipart *);
/* Event callback: asks the switch for the counters. */
void agent_stats_cb(evutil_socket_t, short what, void *aux);
/* evhttp callback of GET /metrics. */
void agent_metrics_cb(struct evhttp_request *, void *aux);

#endif /* MIGNET_AGENT_AGENT_PRIVATE_H */
