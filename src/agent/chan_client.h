/* chan_client.h: the agent's side of the agent channel
 * (docs/agent-protocol.md) as a sans-I/O state machine.
 *
 * It holds the node's configuration entries (one per VM: epoch,
 * configuration, relay), applies install/relay/delete with the epoch rule,
 * swaps in the full state at resync_end, and writes acks, refusals,
 * refresh reports and heartbeats into an output buffer.  It never touches a
 * socket or the clock: the caller feeds bytes and 'now' (any monotonic
 * milliseconds) and sends what it gets back, so the test agent, the real
 * agent and unit tests drive the same code.
 *
 * Usage:
 *   c = chan_client_create("n1", &hooks);
 *   on connect:     chan_client_connected(c, now, &out);   // queues hello
 *   on bytes:       if (chan_client_receive(c, buf, n, now, &out)) close;
 *   on timer:       if (chan_client_run(c, now, &out)) close;  // ETIMEDOUT
 *                   wake again at chan_client_next_wake(c)
 *   after a map refresh: chan_client_refreshed(c, version, now, &out);
 *   on close:       chan_client_disconnected(c);
 *   send 'out' after each call. */
#ifndef MIGNET_AGENT_CHAN_CLIENT_H
#define MIGNET_AGENT_CHAN_CLIENT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/vm_changes.h"
#include "proto/chan_msg.h"

struct strbuf;

/* Waiting this long for 'welcome' after connecting closes the session. */
#define CHAN_CLIENT_WELCOME_TIMEOUT_MS 10000

/* One VM's configuration held by the node. */
struct chan_entry {
    char vm[MN_NAME_MAX + 1];
    uint64_t epoch;
    struct mn_config config;
    bool relay; /* the snapshot forwards the VM's traffic to 'target' */
    char target[MN_NAME_MAX + 1];
    char target_address[CHAN_ADDRESS_MAX + 1];
    uint64_t target_epoch;
    bool has_binding; /* port security (seed 003): the install's binding */
    struct binding binding;
    /* The migration lifecycle (docs/agent-protocol.md).  'inactive': held
     * but attracting no traffic.  'activate_on_frame': activate on the
     * first frame from the VM's port.  'activated': the agent did so at
     * this epoch (chan_client_activate); like an install without
     * 'inactive', it sticks for the epoch: an install of the same epoch
     * (a resync's, sent before the controller heard 'activated') never
     * makes the entry inactive again. */
    bool inactive;
    bool activate_on_frame;
    bool activated;
    /* The snapshot epoch the relay belongs to: 'epoch', or below it for
     * a relay an inactive install inherited (the VM migrates back here
     * while this node still relays its old snapshot).  An inherited
     * relay forwards as 'relay_config' did until the entry is activated
     * (then local delivery replaces it) or deleted; a `relay` of
     * 'relay_epoch' retargets it (the epoch rule's one exception). */
    uint64_t relay_epoch;
    struct mn_config relay_config;
    char iface_id[CHAN_IFACE_MAX + 1]; /* OVS iface-id; "" = the VM id */
};

struct chan_client_stats {
    uint64_t sessions;     /* welcomes received */
    uint64_t installs, relays, deletes; /* applied */
    uint64_t activations;  /* chan_client_activate() that activated */
    uint64_t activated_sent; /* 'activated' reports queued */
    uint64_t refused;      /* instructions refused by the epoch rule */
    uint64_t resyncs;      /* completed resyncs */
    uint64_t resync_seq;   /* the last completed resync's resync_end seq */
    uint64_t errors;       /* 'error' messages received */
    uint64_t not_leader;   /* 'not_leader' answers received */
    uint64_t heartbeats;   /* heartbeats received */
    uint64_t violations;   /* protocol violations by the controller */
    uint64_t last_seq;     /* highest instruction seq received */
    uint64_t acked_seq;    /* highest seq acknowledged */
    uint64_t nacked_seq;   /* highest seq negatively acknowledged */
    uint64_t nacks;        /* nacks sent */
    uint64_t map_version;  /* from the last welcome */
    uint32_t heartbeat_ms; /* from the last welcome */
};

struct chan_client_hooks {
    /* A line arrived: 'msg' decoded, or NULL with 'e' the decode error. */
    void (*received)(void *aux, const char *line, size_t len,
                     const struct chan_msg *msg, enum chan_err e);
    /* A message was queued for sending. */
    void (*sent)(void *aux, const struct chan_msg *msg);
    /* The held entries changed. */
    void (*state_changed)(void *aux);
    /* The controller broke the protocol ('what' explains). */
    void (*violation)(void *aux, const char *what);
    void *aux;
};

struct chan_client;

/* Creates a client for node 'node' (a valid id).  'hooks' may be NULL;
 * it is copied.  Returns NULL on an invalid id or no memory. */
struct chan_client *chan_client_create(const char *node,
                                       const struct chan_client_hooks *);
void chan_client_destroy(struct chan_client *);

/* Options (default off). */
/* Never acknowledge instructions (to test how the controller copes with a
 * node that does not catch up). */
void chan_client_set_ack(struct chan_client *, bool ack);
/* With acknowledgements held back (chan_client_set_ack(false)), e.g.
 * until Open vSwitch confirms the flows with a barrier: the highest
 * applied instruction not yet acknowledged, 0 when there is none --
 * also while a resync comes in: what it replays is staged, not applied,
 * until resync_end. */
uint64_t chan_client_pending_ack(const struct chan_client *);
/* Acknowledges every applied instruction up to 'seq' (never beyond what
 * was applied; nothing during a resync or before welcome). */
void chan_client_ack(struct chan_client *, uint64_t seq, uint64_t now,
                     struct strbuf *out);
/* Open vSwitch refused a flow_mod (OpenFlow error 'ofp_type'/'ofp_code')
 * of the batch that implements the applied instructions up to 'seq':
 * queues 'nack {seq, ofp_error}' (docs/agent-protocol.md).  Nothing is
 * acknowledged; 'seq' is capped to what was applied, and a seq at or below
 * the last ack or the last nack of the session is not nacked again. */
void chan_client_nack(struct chan_client *, uint64_t seq, uint16_t ofp_type,
                      uint16_t ofp_code, uint64_t now, struct strbuf *out);
/* The node's token, sent in every hello (docs/agent-protocol.md); ""
 * (the default) for none, when the TLS client certificate authenticates
 * the node.  Returns false, changing nothing, for a token the channel
 * cannot carry (over CHAN_TOKEN_MAX bytes, spaces, control characters). */
bool chan_client_set_token(struct chan_client *, const char *token);
/* After each welcome, report every held entry ('report {vm, epoch}'). */
void chan_client_set_report(struct chan_client *, bool report);

/* A new connection is up: resets the session (held entries stay) and
 * queues hello. */
void chan_client_connected(struct chan_client *, uint64_t now,
                           struct strbuf *out);
/* The connection is gone: drops a half-received resync. */
void chan_client_disconnected(struct chan_client *);

/* Feeds received bytes (any split).  Returns 0, or a positive errno when
 * the session must be closed: EPROTO after a fatal decode error (an
 * 'error' is queued first), EMSGSIZE for a line over the limit, EREMCHG
 * when the controller is a replica that does not lead ('not_leader':
 * chan_client_leader() names the leader it gave). */
int chan_client_receive(struct chan_client *, const char *data, size_t len,
                        uint64_t now, struct strbuf *out);
/* The leader's channel address the last 'not_leader' named; "" when it
 * named none (or none came). */
const char *chan_client_leader(const struct chan_client *);
/* Time passed: queues a heartbeat when due.  Returns ETIMEDOUT when the
 * controller has been silent for 3 heartbeat intervals (or sent no
 * welcome in time). */
int chan_client_run(struct chan_client *, uint64_t now, struct strbuf *out);
/* When chan_client_run() next has work (UINT64_MAX when not connected). */
uint64_t chan_client_next_wake(const struct chan_client *);
/* Queues an agent-originated message ('dhcp', 'binding') if the session
 * is welcomed; returns false (nothing queued) otherwise or when it does
 * not encode. */
bool chan_client_send(struct chan_client *, const struct chan_msg *,
                      uint64_t now, struct strbuf *out);
/* The agent now holds gateway map version 'version': queues 'refresh'
 * if the session is welcomed. */
void chan_client_refreshed(struct chan_client *, uint64_t version,
                           uint64_t now, struct strbuf *out);

/* The agent saw the first frame from the port of 'vm', held at 'epoch'
 * with activate_on_frame: the entry is active from now on (its state
 * changed).  Returns false, changing nothing, for any other entry or one
 * already activated. */
bool chan_client_activate(struct chan_client *, const char *vm,
                          uint64_t epoch);
/* Whether 'e' relays a snapshot of an older epoch (an inactive entry
 * that inherited the relay it replaced). */
bool chan_entry_relay_inherited(const struct chan_entry *e);
/* Whether 'e' still needs an 'activated' report: the agent activated it
 * and no install of its epoch without activate_on_frame came since. */
bool chan_client_activation_unreported(const struct chan_entry *e);
/* Queues 'activated {vm, epoch}' for every such entry, if the session is
 * welcomed and not inside a resync; returns how many. */
size_t chan_client_report_activated(struct chan_client *, uint64_t now,
                                    struct strbuf *out);

bool chan_client_welcomed(const struct chan_client *);
bool chan_client_in_resync(const struct chan_client *);
const char *chan_client_node(const struct chan_client *);
void chan_client_get_stats(const struct chan_client *,
                           struct chan_client_stats *);
/* Held entries, sorted by VM id. */
size_t chan_client_n_entries(const struct chan_client *);
const struct chan_entry *chan_client_entry(const struct chan_client *,
                                           size_t i);
const struct chan_entry *chan_client_find(const struct chan_client *,
                                          const char *vm);
/* The VMs whose held entry an instruction changed since the last
 * chan_client_clear_changes(), or "everything" after a resync (and
 * before the first drain). */
const struct vm_changes *chan_client_changes(const struct chan_client *);
void chan_client_clear_changes(struct chan_client *);

#endif /* MIGNET_AGENT_CHAN_CLIENT_H */
