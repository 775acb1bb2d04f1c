/* vnet.h: tenant virtual switches (seed 001, docs/vswitch.md) -- the
 * sans-I/O core mignetd runs for them.
 *
 * A virtual switch is what one tenant's OpenFlow 1.3 controller sees: one
 * switch with one port per tenant VM and one flow table.  This module
 * speaks OpenFlow with that controller (bytes in, bytes out), keeps the
 * tenant's logical flow table with full OpenFlow flow-mod semantics,
 * refuses whatever leaves the tenant's slice, and compiles the table into
 * agent channel messages ('struct chan_msg', vnet_*) for the nodes that
 * host the switch: full pushes to nodes that (re)connect, incremental
 * pushes afterwards, and while an ensemble migration runs, two-phase
 * version updates (stage a+1, flip, drop a).  It combines the nodes'
 * counters into monotone tenant counters and merges duplicate packet-ins.
 *
 * It never reads a clock or a socket: the daemon passes 'now_ms' in and
 * drains the outputs (vnet_tenant_output, vnet_node_output).
 *
 * Channel sequence numbers: every push this module sends has a 'seq' of
 * its own counter, starting at options.seq_base (default 2^62) so that it
 * never collides with the daemon's own; vnet_node_msg() says whether an
 * ack/nack was one of them. */
#ifndef MIGNET_VNET_H
#define MIGNET_VNET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/model.h"

struct chan_msg;
struct json_t;
struct ofpbuf;

/* Most ports one virtual switch has; most flows in its table. */
#define VNET_MAX_PORTS 128
#define VNET_MAX_FLOWS 4096
/* Longest controller target ("tcp:127.0.0.1:6653"). */
#define VNET_TARGET_MAX 127

struct vnet_options {
    uint32_t key_base;       /* First tunnel key K(p) (default 0xf00000). */
    uint32_t key_max;        /* Last usable key (default 0xffffff). */
    uint64_t seq_base;       /* First push seq (default 1 << 62). */
    int stats_timeout_ms;    /* Answer a stats request after (1000). */
    int merge_window_ms;     /* Packet-in duplicate window (1000). */
};
void vnet_options_init(struct vnet_options *);

struct vnet_port_def {
    uint32_t port;                 /* Tenant port number, 1..0xffffff00. */
    char vm[MN_NAME_MAX + 1];      /* The VM behind it. */
    uint8_t mac[6];                /* Its MAC (the port's hw_addr). */
    uint32_t key;                  /* Its tunnel key K(p); 0: allocate one
                                    * (a daemon that restarts passes back
                                    * the vnet_port_key() it stored). */
};

struct vnet_switch_def {
    char id[MN_NAME_MAX + 1];
    char tenant[MN_NAME_MAX + 1];
    uint32_t vni;                          /* The tenant VMs' VNI. */
    uint64_t datapath_id;                  /* 0: derived from the vni. */
    char controller[VNET_TARGET_MAX + 1];  /* For the daemon; kept here. */
    size_t n_ports;
    struct vnet_port_def ports[VNET_MAX_PORTS];
};

/* Counts for metrics, summed over every virtual switch. */
struct vnet_counters {
    uint64_t flow_mods;            /* Accepted flow-mods. */
    uint64_t flow_mods_refused;    /* Flow-mods answered with an error. */
    uint64_t packet_ins;           /* Packet-ins sent to tenants. */
    uint64_t packet_in_duplicates; /* Merged (dropped) duplicates. */
    uint64_t packet_outs;          /* Tenant packet-outs accepted. */
    uint64_t errors_sent;          /* OpenFlow errors sent to tenants. */
    uint64_t two_phase_updates;    /* Completed stage/flip/drop rounds. */
    uint64_t pushes;               /* Pushes sent to nodes. */
    uint64_t nacks;                /* Pushes a node refused. */
    uint64_t flows_expired;        /* Idle or hard timeouts. */
};

/* What the REST layer shows of one switch (vnet_switch_to_json has all). */
struct vnet_switch_info {
    bool tenant_connected;   /* A transport is up (vnet_tenant_connected). */
    bool tenant_ready;       /* Its hello was accepted. */
    uint64_t active;         /* Version the nodes dispatch to. */
    size_t n_flows;
    size_t n_nodes;          /* Hosting nodes. */
    bool split;              /* Inside vnet_split_begin/end. */
    bool update_pending;     /* Changes not yet acked by every node. */
};

struct vnet;

/* 'opts' may be NULL for defaults. */
struct vnet *vnet_create(const struct vnet_options *);
void vnet_destroy(struct vnet *); /* Accepts NULL. */

/* Adds a switch.  Returns 0, EEXIST, ENOSPC (no tunnel keys left) or
 * EINVAL with a reason in 'err' (bad id, vni, port number, duplicate
 * port or VM, a given key outside [key_base, key_max] or already used). */
int vnet_switch_add(struct vnet *, const struct vnet_switch_def *,
                    char *err, size_t errlen);
/* Removes a switch: queues vnet_remove to its up nodes.  ENOENT if none. */
int vnet_switch_remove(struct vnet *, const char *vs);
/* The definition a switch was added with (keys not included), or NULL. */
const struct vnet_switch_def *vnet_switch_def(const struct vnet *,
                                              const char *vs);
/* The tunnel key K(p) of tenant port 'port', or 0 if there is none. */
uint32_t vnet_port_key(const struct vnet *, const char *vs, uint32_t port);
/* Number of switches; the id of the i-th (in the order they were added). */
size_t vnet_n_switches(const struct vnet *);
const char *vnet_switch_id(const struct vnet *, size_t i);
/* false if there is no such switch. */
bool vnet_switch_info(const struct vnet *, const char *vs,
                      struct vnet_switch_info *);

/* ---- The tenant's OpenFlow connection (the daemon owns the socket). -- */

/* A transport to the tenant controller is up: queues the hello. */
void vnet_tenant_connected(struct vnet *, const char *vs, int64_t now_ms);
/* Bytes from the tenant.  Answers go to vnet_tenant_output(). */
void vnet_tenant_input(struct vnet *, const char *vs, const void *data,
                       size_t len, int64_t now_ms);
/* The transport is gone; pending answers are dropped. */
void vnet_tenant_disconnected(struct vnet *, const char *vs);
/* Bytes to send to the tenant; the caller removes what it sent
 * (ofpbuf_clear).  NULL if there is no such switch. */
struct ofpbuf *vnet_tenant_output(struct vnet *, const char *vs);
/* The session failed (no common version, unusable framing): the daemon
 * sends what is queued, then closes and later reconnects. */
bool vnet_tenant_must_close(const struct vnet *, const char *vs);

/* ---- Nodes. ----------------------------------------------------------- */

/* The nodes that host switch 'vs' (where its VMs are, and the nodes an
 * ensemble clones to).  Nodes that joined get a full push, nodes that
 * left get vnet_remove (when up). */
void vnet_set_nodes(struct vnet *, const char *vs, const char *const *nodes,
                    size_t n);
/* Where VM 'vm' runs, so that a packet-out to its port is sent there
 * (else to the first up hosting node).  'node' NULL or "" forgets it. */
void vnet_set_vm_node(struct vnet *, const char *vs, const char *vm,
                      const char *node);
/* An ensemble migration of the switch's VMs runs between begin and end:
 * flow-mods become two-phase version updates. */
void vnet_split_begin(struct vnet *, const char *vs);
void vnet_split_end(struct vnet *, const char *vs);
/* A node's agent connected (every switch it hosts gets a full push) or
 * disconnected (nothing waits for it any more). */
void vnet_node_up(struct vnet *, const char *node, int64_t now_ms);
void vnet_node_down(struct vnet *, const char *node, int64_t now_ms);
/* A message from node 'node': ack/nack of a vnet push, vnet_packet_in,
 * vnet_fstat, vnet_pstat, vnet_stats_end.  Returns true if it was for this
 * module (false: an ack/nack of a seq it never sent, or another type). */
bool vnet_node_msg(struct vnet *, const char *node, const struct chan_msg *,
                   int64_t now_ms);
/* Pops the next message for a node into '*msg' and its node name into
 * 'node'.  false when there is none. */
bool vnet_node_output(struct vnet *, char node[MN_NAME_MAX + 1],
                      struct chan_msg *msg);

/* ---- Time. ------------------------------------------------------------- */

/* Timeouts: flow idle/hard timeouts, stats requests, packet-in window. */
void vnet_run(struct vnet *, int64_t now_ms);
/* When vnet_run() next has something to do; INT64_MAX if never. */
int64_t vnet_next_wake(const struct vnet *);

/* ---- Views. ------------------------------------------------------------ */

void vnet_get_counters(const struct vnet *, struct vnet_counters *);
/* {"id","tenant","vni","datapath_id","controller","connected","active",
 *  "split","update_pending","nodes":[...],"ports":[{"port","vm","mac",
 *  "key","rx_packets","rx_bytes","tx_packets","tx_bytes"}],"n_flows"}
 * plus "flows":[{"priority","cookie","match","actions","packets","bytes",
 * "duration_ms","idle_timeout","hard_timeout"}] when 'with_flows'.
 * NULL if there is no such switch or on allocation failure. */
struct json_t *vnet_switch_to_json(const struct vnet *, const char *vs,
                                   bool with_flows, int64_t now_ms);

#endif /* mignet/vnet.h */
