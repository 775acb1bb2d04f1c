/* vnet_private.h: the structures shared by the vnet layer's files
 * (vswitch.c: switches and ports; vnet_table.c: the tenant flow table;
 * vnet_push.c: nodes, pushes and versions; vnet_stats.c: counters and
 * packet-ins; vnet_conn.c: the tenant OpenFlow session; vnet_json.c). */
#ifndef MIGNET_VNET_PRIVATE_H
#define MIGNET_VNET_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/ofp.h"
#include "mignet/ofpbuf.h"
#include "mignet/vnet.h"
#include "proto/chan_msg.h"

/* One tenant flow.  'fid' names it on the nodes and never comes back. */
struct vflow {
    uint32_t fid;
    uint16_t priority;
    uint16_t idle_timeout, hard_timeout; /* Seconds; 0 = none. */
    uint16_t flags;                      /* OFPFF_* */
    uint64_t cookie;
    struct ofp_match match;
    struct ofp_instructions insts; /* Apply-actions only. */
    int64_t created_ms;
    int64_t used_ms;               /* Last time its packets grew. */
    uint64_t packets, bytes;       /* Combined over nodes: monotone. */
};

/* Last counter values a node reported for one (flow, version, port) or
 * (port) key: a later value below it means the node's counter restarted. */
struct vctr {
    char node[MN_NAME_MAX + 1];
    uint32_t fid;      /* 0 for a port (rx) counter. */
    uint64_t version;
    uint32_t q;
    uint64_t packets, bytes;
};

struct vport {
    uint32_t port;
    char vm[MN_NAME_MAX + 1];
    uint8_t mac[6];
    uint32_t key;                 /* K(p) */
    char node[MN_NAME_MAX + 1];   /* Where the VM runs, "" unknown. */
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
};

/* One encoded flow of a version as the nodes hold it. */
struct vsnap_flow {
    uint32_t fid;
    size_t len;
    uint8_t *ofp; /* An OF1.3 FLOW_MOD (ADD), tenant terms. */
};
struct vsnap {
    size_t n, cap;
    struct vsnap_flow *f;
};

/* A hash index of positions in one of a switch's arrays (vnet_index.c). */
struct vidx {
    size_t cap, n;   /* Slots (a power of 2), positions recorded. */
    uint32_t *slot;  /* Position + 1; 0 = free. */
    bool stale;      /* Elements moved: rebuilt on the next lookup. */
};

enum vpush_kind { VP_FULL, VP_INCR, VP_STAGE, VP_FLIP, VP_DROP, VP_STATS };

/* A push (or stats request) sent to a node, waiting for its ack. */
struct vpush {
    uint64_t seq;
    enum vpush_kind kind;
    uint64_t gen;      /* First change it may hold: barriers for changes
                        * from 'gen' on wait for its ack. */
    uint64_t version;  /* VP_DROP: the version dropped. */
    uint32_t xid;      /* First flow-mod in it (for a nack). */
};

struct vnode {
    char name[MN_NAME_MAX + 1];
    unsigned nacks;          /* Nacks in a row: a full push retries once. */
    size_t n_push, cap_push;
    struct vpush *push;
};

struct vbarrier {
    uint32_t xid;
    uint64_t gen;
};

struct vstats_req {
    uint64_t seq;
    uint32_t xid;
    uint16_t type; /* OFPMP_* */
    struct ofp_flow_stats_request flow_req;
    uint32_t port_no;
    int64_t deadline_ms;
    size_t n_wait;
    char (*wait)[MN_NAME_MAX + 1]; /* Nodes whose stats_end is missing. */
};

struct vpin_seen {
    uint32_t port;
    uint32_t hash;
    int64_t at_ms;
    char node[MN_NAME_MAX + 1];
};
#define VNET_PIN_RING 256

enum vtp_phase { VTP_NONE, VTP_STAGE, VTP_FLIP, VTP_DROP };

struct vswitch {
    struct vnet *vnet;
    struct vnet_switch_def def;
    size_t n_ports;
    struct vport ports[VNET_MAX_PORTS];

    /* Tenant flow table, sorted by priority (high first). */
    size_t n_flows, cap_flows;
    struct vflow *flows;
    uint32_t next_fid;
    struct vidx fid_idx; /* fid -> position in 'flows'. */

    /* Tenant session. */
    bool connected, ready, must_close;
    struct ofpbuf in, out;
    uint16_t config_flags, miss_send_len;
    uint32_t role;
    uint64_t generation_id;
    struct ofp_async_config async;
    size_t n_barriers, cap_barriers;
    struct vbarrier *barriers;
    size_t n_sreq, cap_sreq;
    struct vstats_req *sreq;

    /* Changes not yet pushed (in-place mode): fids upserted or deleted. */
    size_t n_dirty, cap_dirty;
    uint32_t *dirty;
    uint32_t dirty_xid;      /* First flow-mod among them. */
    bool table_dirty;        /* Split mode: a round is needed. */
    uint32_t round_xid;      /* First flow-mod waiting for that round. */
    uint64_t gen;            /* Accepted changes so far. */
    uint64_t pushed_gen;     /* Changes fully sent (or committed). */

    /* Versions. */
    uint64_t active;
    bool split;
    enum vtp_phase phase;
    uint64_t round_gen;
    struct vsnap snap_active, snap_staged;

    /* Nodes hosting it. */
    size_t n_nodes, cap_nodes;
    struct vnode *nodes;

    /* Counters. */
    size_t n_ctr, cap_ctr;
    struct vctr *ctr;
    struct vidx ctr_idx;
    struct vpin_seen pin[VNET_PIN_RING];
    size_t pin_next;
};

struct vqueued {
    char node[MN_NAME_MAX + 1];
    struct chan_msg msg;
};

struct vnet {
    struct vnet_options opts;
    size_t n_sw, cap_sw;
    struct vswitch **sw;
    uint64_t next_seq;
    uint32_t next_key;
    struct vnet_counters counters;
    /* Nodes whose agent is connected. */
    size_t n_up, cap_up;
    char (*up)[MN_NAME_MAX + 1];
    int64_t now_ms;          /* Latest time an input carried. */
    /* Seqs of pushes no switch waits for (vnet_remove): acks swallowed. */
    size_t n_orphan, cap_orphan;
    uint64_t *orphan;
    /* Messages for nodes, FIFO. */
    size_t q_head, q_n, q_cap;
    struct vqueued *q;
};

/* vswitch.c */
struct vswitch *vnet_find(const struct vnet *, const char *vs);
struct vport *vswitch_port(struct vswitch *, uint32_t port);
bool vnet_node_is_up(const struct vnet *, const char *node);

/* vnet_table.c: the flow table.  Flow-mods return an OpenFlow error (and
 * change nothing) or OFPERR_OK; 'now_ms' stamps new flows. */
enum ofperr vtable_flow_mod(struct vswitch *, const struct ofp_flow_mod *,
                            uint32_t xid, int64_t now_ms);
enum ofperr vtable_check_actions(const struct vswitch *,
                                 const struct ofp_actions *, bool packet_out);
struct vflow *vtable_find(struct vswitch *, uint32_t fid);
/* Whether flow 'f' is selected by a (non-strict) request match, cookie
 * mask and out_port, as for flow statistics and DELETE. */
bool vtable_selects(const struct vflow *, const struct ofp_match *,
                    uint64_t cookie, uint64_t cookie_mask, uint32_t out_port);
/* Removes flow index 'i' with 'reason' (OFPRR_*): FLOW_REMOVED to the
 * tenant if asked for, the nodes told. */
void vtable_remove(struct vswitch *, size_t i, uint8_t reason,
                   int64_t now_ms);
void vtable_expire(struct vswitch *, int64_t now_ms);
int64_t vtable_next_expiry(const struct vswitch *);
void vtable_clear(struct vswitch *);
void vflow_destroy(struct vflow *);
bool vflow_is_table_miss(const struct vflow *);

/* vnet_push.c */
void vpush_changed(struct vswitch *, uint32_t fid, uint32_t xid);
void vpush_flush(struct vswitch *);
bool vpush_barrier_ready(const struct vswitch *, uint64_t gen);
void vpush_full(struct vswitch *, struct vnode *);
struct vnode *vpush_node(struct vswitch *, const char *name);
void vpush_remove_all(struct vswitch *);
void vpush_nodes_destroy(struct vswitch *);
void vsnap_clear(struct vsnap *);
/* A packet-out of 'len' bytes to tenant port 'port' (one node gets it). */
void vpush_packet_out(struct vswitch *, uint32_t port, const uint8_t *frame,
                      size_t len);
/* Sends vnet_stats_req to every up hosting node; fills the request's
 * waiting list.  Returns the seq used. */
uint64_t vpush_stats_req(struct vswitch *, struct vstats_req *);
bool vpush_ack(struct vnet *, const char *node, uint64_t seq, bool nack,
               uint16_t ofp_type, uint16_t ofp_code, int64_t now_ms);
void vnet_queue(struct vnet *, const char *node, const struct chan_msg *);
/* After acks: barriers, rounds. */
void vpush_progress(struct vswitch *, int64_t now_ms);

/* vnet_index.c */
void vidx_destroy(struct vidx *);
struct vctr *vidx_find_ctr(struct vswitch *, const char *node, uint32_t fid,
                           uint64_t version, uint32_t q);
/* The last element of 's->ctr' is new. */
void vidx_added_ctr(struct vswitch *);

/* vnet_stats.c */
void vstats_fstat(struct vswitch *, const char *node,
                  const struct chan_msg *, int64_t now_ms);
void vstats_pstat(struct vswitch *, const char *node,
                  const struct chan_msg *);
void vstats_ptx(struct vswitch *, const char *node, const struct chan_msg *);
void vstats_drop_version(struct vswitch *, const char *node,
                         uint64_t version);
void vstats_drop_node(struct vswitch *, const char *node);
void vstats_drop_flow(struct vswitch *, uint32_t fid);
void vstats_packet_in(struct vswitch *, const char *node,
                      const struct chan_msg *, int64_t now_ms);

/* vnet_conn.c */
void vconn_send_error(struct vswitch *, uint32_t xid, enum ofperr,
                      const void *req, size_t req_len);
void vconn_send_msg(struct vswitch *, const struct ofp_msg *);
void vconn_barriers(struct vswitch *);
void vconn_stats_end(struct vswitch *, const char *node, uint64_t seq);
void vconn_stats_timeouts(struct vswitch *, int64_t now_ms);
int64_t vconn_next_wake(const struct vswitch *);
void vconn_reset(struct vswitch *);
/* Answers every stats request no node is missing from any more. */
void vconn_answer_ready_stats(struct vswitch *, int64_t now_ms);

#endif /* vnet_private.h */
