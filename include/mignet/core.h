/* core.h: the sans-I/O migration control plane.
 *
 * The core owns the truth about nodes, VMs, their placements (with epochs),
 * the gateway map and the pending tasks of live migrations (DESIGN §2).  It
 * never reads a socket or the clock: callers pass 'now' (milliseconds on a
 * clock of their choosing that never goes back within a run; mignetd uses
 * its run clock, Unix time at start plus elapsed time, so delays ignore
 * clock steps and stored due times read as wall time) and receive
 * instructions for node agents through a sink.  The daemon, the simulator
 * and the tests all drive this same code. */
#ifndef MIGNET_CORE_H
#define MIGNET_CORE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/binding.h"
#include "mignet/config.h"
#include "mignet/model.h"

struct dhcp_msg;
struct store;

/* Index meaning "no node" / "no VM". */
#define CORE_NONE UINT32_MAX

/* Errors: name, HTTP-ish class, message. */
#define CORE_ERRORS                                                          \
    CORE_ERR(OK, "ok", "success")                                            \
    CORE_ERR(UNKNOWN_VM, "unknown_vm", "no such VM")                         \
    CORE_ERR(UNKNOWN_NODE, "unknown_node", "no such node")                   \
    CORE_ERR(UNKNOWN_MIGRATION, "unknown_migration", "no such migration")    \
    CORE_ERR(DUPLICATE_VM, "duplicate_vm", "a VM with this id exists")       \
    CORE_ERR(DUPLICATE_NODE, "duplicate_node", "a node with this id exists") \
    CORE_ERR(DUPLICATE_ADDRESS, "duplicate_address",                         \
             "another VM has this MAC or IP address in the same network")   \
    CORE_ERR(SAME_NODE, "same_node", "the VM is already on that node")       \
    CORE_ERR(WRONG_SOURCE, "wrong_source",                                   \
             "the VM is not on the given source node")                       \
    CORE_ERR(IN_PROGRESS, "migration_in_progress",                           \
             "a migration of this VM is still being prepared")               \
    CORE_ERR(STALE_EPOCH, "stale_epoch",                                     \
             "the report carries an epoch older than the node's placement")  \
    CORE_ERR(BAD_NAME, "invalid_name",                                       \
             "ids are 1-63 characters of [A-Za-z0-9._:-]")                   \
    CORE_ERR(BAD_VALUE, "invalid_value", "a value is out of range")          \
    CORE_ERR(NODE_BUSY, "node_busy", "the node still has VMs or tasks")      \
    CORE_ERR(BAD_SEQ, "invalid_seq", "acknowledged a sequence never sent")   \
    CORE_ERR(BAD_VERSION, "invalid_version",                                 \
             "reported a map version the gateway never had")                 \
    CORE_ERR(UNKNOWN_BINDING, "unknown_binding", "the VM has no binding")   \
    CORE_ERR(BINDING, "binding_refused",                                     \
             "the binding table refused the binding (see its error)")        \
    CORE_ERR(BINDING_MISMATCH, "binding_mismatch",                           \
             "the binding's VM, node, MAC or VLAN is not the VM's")          \
    CORE_ERR(ADDRESS_BOUND, "address_bound",                                 \
             "the VM's MAC, IP and VLAN are held by its binding; change "   \
             "the binding instead")                                          \
    CORE_ERR(ABORTED, "migration_aborted", "the migration was aborted")     \
    CORE_ERR(ACTIVATED, "already_activated",                                 \
             "the VM already runs at the destination; migrate it back "     \
             "instead")                                                      \
    CORE_ERR(NOT_PREPARING, "not_preparing",                                 \
             "no migration of this VM is being prepared to that node at "   \
             "that epoch")                                                   \
    /* Node lifecycle (cordon, drain, delete): nodes.c. */                   \
    CORE_ERR(CORDONED, "node_cordoned",                                      \
             "the node is cordoned: it takes no new placements")             \
    CORE_ERR(NO_TARGET, "no_drain_target",                                   \
             "no live uncordoned node can take the node's VMs")              \
    CORE_ERR(NOMEM, "no_memory", "out of memory")                            \
    CORE_ERR(STORE, "store_failed", "the durable store failed")

enum core_err {
#define CORE_ERR(ENUM, NAME, MSG) CORE_E_##ENUM,
    CORE_ERRORS
#undef CORE_ERR
    CORE_N_ERRORS
};
const char *core_errname(enum core_err); /* "unknown_vm" */
const char *core_strerror(enum core_err); /* "no such VM" */

/* Instructions for node agents. */
#define INSTR_KINDS                                                          \
    INSTR_KIND(INSTALL, "install")                                           \
    INSTR_KIND(RELAY, "relay")                                               \
    INSTR_KIND(DELETE, "delete")
enum instr_kind {
#define INSTR_KIND(ENUM, NAME) INSTR_##ENUM,
    INSTR_KINDS
#undef INSTR_KIND
};
const char *instr_kind_name(enum instr_kind);

/* One instruction for the agent of 'node'.
 *
 * INSTALL: hold 'config' for 'vm' as placed here with 'epoch' (replaces any
 *          entry with a lower epoch; equal epoch = configuration update).
 *          'inactive': a prepared destination -- held, but attracting no
 *          traffic; an INSTALL of the same epoch without it activates.
 *          'activate_on_frame': the agent reports `activated` on the
 *          VM's first frame at its port (and activates an inactive entry
 *          at once, in the data plane).
 * RELAY:   the entry for 'vm' with epoch 'epoch' (the snapshot) now forwards
 *          traffic for the VM to node 'target', where it is placed with
 *          'target_epoch'.  Sent again with a new target on chains (I5).
 * DELETE:  remove exactly the snapshot 'config' of 'vm' with epoch 'epoch',
 *          and its relay.  An agent that holds a newer epoch refuses it.
 * 'seq' grows by one per instruction per node; agents acknowledge it.
 * The names and the target's address are what the agent channel needs, so
 * a sink never reads back into the core; like 'binding' they are valid
 * only during the sink callback.  'target_name' and 'target_address' are
 * NULL except for RELAY, and NULL too for a RELAY whose target node has
 * been removed since (the sink drops it). */
struct core_instr {
    enum instr_kind kind;
    uint32_t node;
    uint32_t vm;
    uint32_t target;       /* RELAY: node index */
    const char *node_name;
    const char *vm_name;
    const char *target_name;    /* RELAY */
    const char *target_address; /* RELAY: the target's data-plane address */
    uint64_t seq;
    uint64_t epoch;
    uint64_t target_epoch; /* RELAY */
    /* The VM's port on a node is the one whose external_ids:iface-id is
     * this (as libvirt and OpenStack set it); NULL: the VM's id. */
    const char *iface_id;
    bool inactive;          /* INSTALL */
    bool activate_on_frame; /* INSTALL */
    /* RELAY: sent by a switch-over once the VM runs at the destination
     * (its frame there, or a `manual` or `rarp` call), unless the
     * destination still relayed the VM (migrate.c, step2to4_switch_over).
     * The relaying node's copy no longer runs, so each packet it gets is
     * lost until this relay is in: mignetd sends it before its batch
     * commits (agent_server.c). */
    bool activated;
    struct mn_config config;
    /* The port-security binding that goes with 'config' (its enforcement
     * fields), or NULL when the VM has none.  For RELAY and DELETE of a
     * snapshot it is the binding as snapshotted.  Valid only during the
     * sink callback. */
    const struct binding *binding;
};

/* A migration's public record. */
/* A node's agent could not make an instruction of a migration true: Open
 * vSwitch refused a flow_mod with this OpenFlow error (nack). */
struct core_nack {
    uint32_t node;
    uint64_t seq;
    uint16_t ofp_type, ofp_code;
};
/* Nacks kept per migration; later ones are only counted. */
#define CORE_MIG_NACKS_MAX 8

/* Longest abort reason kept, not counting the NUL. */
#define CORE_ABORT_REASON_MAX MN_ABORT_REASON_MAX

struct core_migration {
    uint64_t id;
    uint32_t vm;
    uint32_t src, dst;
    /* Their names when it started: the history keeps them after the VM
     * or a node is removed (and its slot reused); stored with it. */
    char vm_name[MN_NAME_MAX + 1];
    char src_name[MN_NAME_MAX + 1], dst_name[MN_NAME_MAX + 1];
    uint64_t epoch;       /* the VM's epoch on 'dst' */
    uint64_t map_version; /* gateway version that moved it, 0 = not yet */
    enum mig_phase phase;
    enum mig_switchover switchover;
    uint64_t started_ms;
    uint64_t prepared_ms;  /* the destination confirmed its copy */
    uint64_t switched_ms;  /* the gateway moved (switch-over) */
    uint64_t activated_ms; /* the VM runs at the destination */
    uint64_t relaying_ms;  /* both agents confirmed the switch */
    uint64_t cleaning_ms;  /* the source's deletion was sent */
    uint64_t cleaned_ms;   /* ... and confirmed; all: 0 = not yet */
    uint64_t aborted_ms;
    uint64_t prepare_deadline_ms; /* absolute; 0 for `now` */
    uint64_t delay_ms;    /* the deletion delay chosen at relaying */
    bool released_early;  /* every node acknowledged before the delay */
    bool degraded;        /* switched without the agents' confirmation */
    /* The silence hold (docs/mignetd.md): the deletion was held past its
     * delay for a silent node, and ran at the ceiling with one still
     * silent ('forced'); 'held_for' is the last node it was held for
     * (CORE_NONE: none).  Not persisted: a restart forgets them. */
    bool deletion_held, deletion_forced;
    uint32_t held_for;
    char abort_reason[CORE_ABORT_REASON_MAX + 1];
    /* Nacks for the instructions it waits on (not persisted: a restart
     * forgets them), the first CORE_MIG_NACKS_MAX of 'n_nacks'. */
    uint32_t n_nacks;
    struct core_nack nacks[CORE_MIG_NACKS_MAX];
};

/* Output sink.  Callbacks run synchronously inside core calls; they must not
 * call back into the core.  Any may be NULL. */
struct core_sink {
    void (*instr)(void *aux, const struct core_instr *);
    /* A migration changed phase. */
    void (*migration)(void *aux, const struct core_migration *);
    /* The gateway entry of 'vm' changed (moved, created, deleted when
     * 'removed'); the map is now at 'version'. */
    void (*map_change)(void *aux, uint32_t vm, uint32_t node, bool removed,
                       uint64_t version);
    /* A DELETE was issued while 'vm' is currently placed on that node with
     * a configuration equal to the snapshot: only possible in strategies
     * without the pending-task check (the seed's "wrong VM deleted"). */
    void (*wrong_delete)(void *aux, uint32_t vm, uint32_t node);
    /* The lease of 'vm''s binding to 'ip' (host order) on 'node' ended at
     * 'expires_ms': the VM lost its address (may be NULL). */
    void (*lease_ended)(void *aux, uint32_t vm, uint32_t node, uint32_t ip,
                        uint64_t expires_ms);
    void *aux;
};

struct core;

/* Creates a core with 'cfg' (copied).  'store' may be NULL (nothing is
 * persisted); otherwise every change is written to it before the call that
 * made it returns, and the caller commits (store_commit) before it answers
 * anyone.  The core does not own 'store'. */
struct core *core_create(const struct core_config *, struct store *,
                         const struct core_sink *);
void core_destroy(struct core *);

/* Rebuilds the state from the store given at creation (on an empty core).
 * The restart rule (DESIGN I7): a loaded deletion runs only once every
 * node acknowledged (after the load) a map version that includes its move,
 * or a full fresh delay after the first core_run() that follows the load
 * -- never at once because its stored due time has passed; prepare
 * timeouts and deadlines get at least prepare_timeout_ms from then; leases
 * keep their stored end (tasks.c).  Returns CORE_E_STORE on a corrupt
 * store, leaving the core empty. */
enum core_err core_load(struct core *);

const struct core_config *core_get_config(const struct core *);

/* ---- Validation ----
 *
 * Each mutating call that the northbound API makes has a _check() twin
 * that answers exactly what the call would refuse (CORE_E_OK when it would
 * accept) and changes nothing; the call runs its check first, so the two
 * never disagree.  core_migrate_check() is with core_migrate(). */

/* ---- Nodes ---- */
enum core_err core_node_add_check(const struct core *, const char *name,
                                  const char *address, uint32_t refresh_ms);
enum core_err core_node_add(struct core *, const char *name,
                            const char *address, uint32_t refresh_ms,
                            uint64_t now, uint32_t *idx);
/* Removes a node.  Refused with CORE_E_NODE_BUSY while a VM is placed on
 * it, 'force' or not: move the VMs off (drain) or delete them first.
 * Without 'force' also refused while tasks are pending there or a
 * deletion sent there awaits its agent's confirmation.  'force' is for a
 * dead node: its pending cleanups (core_node_cleanups_walk) are dropped --
 * a scheduled DELETE is issued at once to its agent, which is gone, and
 * no confirmation is awaited: the migrations end cleaned -- while any
 * other task there (a migration to it not yet switched) still refuses.
 * Relays on other nodes that pointed at it lose their target, and drains
 * that had chosen it choose again. */
enum core_err core_node_remove(struct core *, uint32_t node, bool force,
                               uint64_t now);
enum core_err core_node_remove_check(const struct core *, uint32_t node,
                                     bool force);
/* Cordons ('on') or uncordons a node.  A cordoned node takes no new
 * placements: core_vm_add() and migrations to it are refused with
 * CORE_E_CORDONED; what is placed there stays and works.  Uncordoning
 * ends a drain (its VMs' targets are forgotten).  Cordoning a node that
 * drains chose as a target makes them choose again for those VMs (no
 * target when no node is eligible).  Both are idempotent. */
enum core_err core_node_cordon_check(const struct core *, uint32_t node);
enum core_err core_node_cordon(struct core *, uint32_t node, bool on,
                               uint64_t now);
/* A VM of a draining node and the node it should move to. */
struct core_drain_target {
    uint32_t vm, node;
};
/* Drains 'node': cordons it and records a target for every VM placed
 * there: 'targets' name some (VM on 'node' -> target node); every other VM
 * keeps the target it has if still eligible, else gets the least-loaded
 * eligible node (live, not cordoned, not 'node'; load = VMs placed there +
 * VMs that drains send there; ties to the lowest name).  The core moves
 * nothing: the VM manager migrates each VM (any destination is accepted;
 * the target is advice); a VM leaving the node drops its target.  The
 * drain is complete when no VM, no task and no unconfirmed deletion is
 * left on the node (then core_node_remove() accepts it).  Refused:
 * CORE_E_WRONG_SOURCE for a VM not on 'node', CORE_E_SAME_NODE for 'node'
 * as a target, CORE_E_CORDONED for a cordoned target, CORE_E_BAD_VALUE for
 * a VM named twice, CORE_E_NO_TARGET when a VM without a target has no
 * eligible node. */
enum core_err core_node_drain_check(const struct core *, uint32_t node,
                                    const struct core_drain_target *,
                                    size_t n_targets);
enum core_err core_node_drain(struct core *, uint32_t node,
                              const struct core_drain_target *,
                              size_t n_targets, uint64_t now);
/* Migrations away from 'node' whose DELETE there was sent and is not yet
 * confirmed by its agent (phase cleaning).  A walk of the open
 * migrations: for views, not for hot paths. */
uint32_t core_node_cleanups(const struct core *, uint32_t node);
/* Calls 'cb' for every pending cleanup on 'node' -- a migration away from
 * it whose DELETE there is scheduled, or sent and not yet confirmed: what
 * a forced removal drops -- with the migration and its VM; stops early
 * when it returns false. */
void core_node_cleanups_walk(const struct core *, uint32_t node,
                             bool (*cb)(void *aux, uint64_t migration,
                                        uint32_t vm),
                             void *aux);
/* Calls 'cb' for every VM placed on 'node' with its drain target
 * (CORE_NONE: none); stops early when it returns false. */
void core_node_vms_walk(const struct core *, uint32_t node,
                        bool (*cb)(void *aux, uint32_t vm, uint32_t target),
                        void *aux);
uint32_t core_node_find(const struct core *, const char *name);
size_t core_n_nodes(const struct core *); /* slots, including free ones */
bool core_node_valid(const struct core *, uint32_t node);

/* A node's lifecycle state, from its cordon and drain: drained = draining
 * with no VM and no task left. */
#define CORE_NODE_STATES                                                     \
    CORE_NODE_STATE(ACTIVE, "active")                                        \
    CORE_NODE_STATE(CORDONED, "cordoned")                                    \
    CORE_NODE_STATE(DRAINING, "draining")                                    \
    CORE_NODE_STATE(DRAINED, "drained")
enum core_node_state {
#define CORE_NODE_STATE(ENUM, NAME) CORE_NODE_##ENUM,
    CORE_NODE_STATES
#undef CORE_NODE_STATE
    CORE_NODE_N_STATES
};
const char *core_node_state_name(enum core_node_state);

struct core_node_info {
    const char *name;
    const char *address;
    uint32_t expected_refresh_ms;
    bool cordoned;           /* no new placements */
    bool draining;           /* cordoned and its VMs have targets */
    uint32_t n_vms;
    uint32_t n_tasks;        /* pending tasks on the node */
    enum core_node_state state;
    uint64_t acked_version;  /* highest map version the node reported */
    uint64_t acked_seq;      /* highest instruction acknowledged */
    uint64_t last_seq;       /* highest instruction sent */
    uint64_t refreshes;      /* refresh observations */
    uint64_t last_refresh_ms;
    double refresh_mean_ms;  /* smoothed observed interval, 0 = none yet */
    double refresh_dev_ms;
    uint64_t refresh_upper_ms; /* the bound the delay uses for this node */
    bool heard;              /* heard at all in this run */
    uint64_t heard_ms;       /* when last heard (if 'heard') */
};
bool core_node_info(const struct core *, uint32_t node,
                    struct core_node_info *);

/* A node's credential (docs/mignetd.md, "Node identity"): the SHA-256 of
 * its token as CORE_TOKEN_HASH_HEX lowercase hex digits, or "" for none
 * (the node then authenticates only by a TLS client certificate).  The
 * core keeps and persists it; making and hashing tokens is the caller's
 * job.  Setting refuses CORE_E_BAD_VALUE for anything but "" or 64
 * lowercase hex digits, CORE_E_UNKNOWN_NODE for a node not there. */
#define CORE_TOKEN_HASH_HEX 64
enum core_err core_node_set_token_hash(struct core *, uint32_t node,
                                       const char *hex);
/* The node's token hash, "" for none, NULL for a node not there. */
const char *core_node_token_hash(const struct core *, uint32_t node);
/* Whether the agent of 'node' may speak about 'vm': the VM is placed on
 * the node, has a pending task there (a relay or deletion), or its latest
 * migration, not yet cleaned or aborted, comes from or goes to it. */
bool core_node_concerns_vm(const struct core *, uint32_t node, uint32_t vm);

/* Something authenticated of the node's agent arrived at 'now' (any
 * message of its session, a map read with its token): the node is not
 * silent (the silence hold, docs/mignetd.md).  The calls below that take
 * 'now' count as heard by themselves. */
enum core_err core_node_heard(struct core *, uint32_t node, uint64_t now);
/* The node's agent refreshed its map and now holds gateway version
 * 'version': an acknowledgement of every change up to it, and a refresh
 * observation at 'now' -- unless it comes sooner than the larger of
 * refresh_floor_ms and half the node's expected refresh interval after
 * the last observation taken, which is then not a sample (a fast or forged
 * poller cannot shrink the node's refresh bound). */
enum core_err core_node_refresh(struct core *, uint32_t node,
                                uint64_t version, uint64_t now);
/* The node polled the gateway at 'now' holding 'version' and is answered
 * with the current map: core_node_refresh, and evidence for the silence
 * hold that the node read the map at 'now' (a refresh report, which may
 * arrive late or twice, is not: it only acknowledges what it holds). */
enum core_err core_node_poll(struct core *, uint32_t node, uint64_t version,
                             uint64_t now);
/* The node's agent confirmed that its flows implement gateway version
 * 'version', which it was sent (map push, docs/agent-protocol.md): an
 * acknowledgement of every change up to it, but never a refresh
 * observation -- the deletion delay stays bounded by the pull cadence. */
enum core_err core_node_version_ack(struct core *, uint32_t node,
                                    uint64_t version, uint64_t now);
enum core_err core_node_version_ack_check(const struct core *,
                                          uint32_t node, uint64_t version);
/* The node's agent applied every instruction up to 'seq'. */
enum core_err core_node_ack(struct core *, uint32_t node, uint64_t seq,
                            uint64_t now);
/* The node's agent applied every instruction up to 'seq' but Open vSwitch
 * refused a flow_mod (OpenFlow error 'ofp_type'/'ofp_code') of the batch
 * that implements the instructions after its last ack up to 'seq': none
 * of them is acknowledged (a later ack still may).  Every migration that
 * waits on one of them records the nack and keeps waiting (the prepare
 * timeout still applies).  CORE_E_BAD_SEQ for a seq of 0, above the last
 * one sent, or at or below one already acknowledged. */
enum core_err core_node_nack_check(const struct core *, uint32_t node,
                                   uint64_t seq);
enum core_err core_node_nack(struct core *, uint32_t node, uint64_t seq,
                             uint16_t ofp_type, uint16_t ofp_code,
                             uint64_t now);
/* The agent reports it holds 'vm' at 'epoch'.  CORE_E_STALE_EPOCH when the
 * node's desired state for the VM has a newer epoch (the agent will be
 * corrected by a resync); changes nothing either way. */
enum core_err core_node_report(struct core *, uint32_t node, uint32_t vm,
                               uint64_t epoch);
/* Emits the node's whole desired state (INSTALL for every VM placed there,
 * INSTALL+RELAY for every pending snapshot there), e.g. after the agent
 * (re)connects.  Instructions carry fresh sequence numbers. */
enum core_err core_node_resync(struct core *, uint32_t node, uint64_t now);

/* ---- VMs ---- */
enum core_err core_vm_add_check(const struct core *, const char *name,
                                const struct mn_config *, uint32_t node);
enum core_err core_vm_add(struct core *, const char *name,
                          const struct mn_config *, uint32_t node,
                          uint64_t now, uint32_t *idx);
/* core_vm_add() for a VM whose port carries external_ids:iface-id
 * 'iface_id' (NULL: the VM's id; else an id as mn_name_valid() allows,
 * e.g. a UUID, or CORE_E_BAD_NAME). */
enum core_err core_vm_add_iface(struct core *, const char *name,
                                const struct mn_config *, uint32_t node,
                                const char *iface_id, uint64_t now,
                                uint32_t *idx);
/* Replaces the configuration where the VM now runs (INSTALL, same epoch).
 * Pending deletions keep their snapshots (I3). */
enum core_err core_vm_update(struct core *, uint32_t vm,
                             const struct mn_config *, uint64_t now);
enum core_err core_vm_update_check(const struct core *, uint32_t vm,
                                   const struct mn_config *);

/* Duplicate addresses.  Two VMs are in the same network when their VNIs
 * are equal and not 0, or both have VNI 0 and the same VLAN (0 = the
 * untagged network).  core_vm_add*() and core_vm_update*() refuse
 * CORE_E_DUPLICATE_ADDRESS for a MAC, or an IP other than 0, that another
 * live VM has in the same network -- unless 'flags' holds
 * CORE_VM_ALLOW_DUPLICATE (the operator said so), or the core is loading
 * its store (what was stored was accepted).  An update is checked only
 * when it changes the VM's MAC, IP, VNI or VLAN; a migration moves a VM,
 * never its addresses, and is never a duplicate of itself. */
#define CORE_VM_ALLOW_DUPLICATE 0x1u
enum core_err core_vm_add_opts(struct core *, const char *name,
                               const struct mn_config *, uint32_t node,
                               const char *iface_id, unsigned flags,
                               uint64_t now, uint32_t *idx);
enum core_err core_vm_update_opts(struct core *, uint32_t vm,
                                  const struct mn_config *, unsigned flags,
                                  uint64_t now);
/* The live VM other than 'except' (CORE_NONE: none excepted) that has
 * 'cfg''s MAC, or its IP if not 0, in the same network; CORE_NONE when
 * there is none. */
uint32_t core_vm_address_owner(const struct core *,
                               const struct mn_config *cfg, uint32_t except);
/* Deletes the VM: its configuration on its node and every pending snapshot
 * are removed at once. */
enum core_err core_vm_remove(struct core *, uint32_t vm, uint64_t now);
enum core_err core_vm_remove_check(const struct core *, uint32_t vm);
uint32_t core_vm_find(const struct core *, const char *name);
size_t core_n_vms(const struct core *); /* slots, including free ones */
bool core_vm_valid(const struct core *, uint32_t vm);

struct core_vm_info {
    const char *name;
    const char *iface_id; /* its port's iface-id (the name when unset) */
    struct mn_config config;
    uint32_t node;
    uint64_t epoch;
    uint64_t map_version; /* version of its last gateway change */
    uint64_t migration;   /* latest migration id, 0 = none */
    uint32_t n_tasks;     /* pending tasks */
};
bool core_vm_info(const struct core *, uint32_t vm, struct core_vm_info *);

/* ---- Migration ---- */
struct core_migrate_result {
    uint64_t migration;
    uint64_t epoch;
    uint64_t delay_ms; /* deletion delay the core would choose now */
};
/* Default and bounds of a migration's prepare deadline. */
#define CORE_PREPARE_DEADLINE_DEFAULT_MS MN_PREPARE_DEADLINE_DEFAULT_MS
#define CORE_PREPARE_DEADLINE_MIN_MS MN_PREPARE_DEADLINE_MIN_MS
#define CORE_PREPARE_DEADLINE_MAX_MS MN_PREPARE_DEADLINE_MAX_MS

struct core_migrate_opts {
    enum mig_switchover switchover;
    /* Not for `now` (0 there): an unswitched migration is aborted this
     * long after its start; 0 = CORE_PREPARE_DEADLINE_DEFAULT_MS. */
    uint64_t prepare_deadline_ms;
};

/* Starts a migration of 'vm' to 'to' ('from' may be CORE_NONE).
 * `now` (opts NULL or switchover MIG_SW_NOW): DESIGN §2 steps 1-4 at once
 * (INSTALL on 'to', gateway update, RELAY on the source); PREPARING until
 * both agents acknowledge, then RELAYING with the deletion scheduled (step
 * 5); after prepare_timeout_ms it goes on unconfirmed and is 'degraded'.
 * Other modes: only an inactive INSTALL on 'to'; PREPARED once that is
 * acknowledged; the switch-over comes from core_migration_switchover() or
 * core_node_activated(), or the deadline aborts it. */
enum core_err core_migrate_opts(struct core *, uint32_t vm, uint32_t from,
                                uint32_t to, const struct core_migrate_opts *,
                                uint64_t now, struct core_migrate_result *);
enum core_err core_migrate_opts_check(const struct core *, uint32_t vm,
                                      uint32_t from, uint32_t to,
                                      const struct core_migrate_opts *);
/* core_migrate_opts() in `now` mode. */
enum core_err core_migrate(struct core *, uint32_t vm, uint32_t from,
                           uint32_t to, uint64_t now,
                           struct core_migrate_result *);
/* What core_migrate() would refuse, without changing anything: CORE_E_OK
 * when it would accept. */
enum core_err core_migrate_check(const struct core *, uint32_t vm,
                                 uint32_t from, uint32_t to);
/* The switch-over (DESIGN §2 steps 2-4) of a preparing or prepared
 * migration: the VM is placed on the destination with its new epoch, the
 * gateway moves, the source relays.  In every mode but `lossless` the VM
 * counts as running at the destination from now on (activated); in
 * `lossless` a second call (after the destination resumed) or the
 * destination agent's activation does that.  A call once activated
 * changes nothing.  CORE_E_ABORTED once aborted, CORE_E_UNKNOWN_MIGRATION
 * when unknown; a migration already past its switch-over answers OK. */
enum core_err core_migration_switchover(struct core *, uint64_t id,
                                        uint64_t now);
enum core_err core_migration_switchover_check(const struct core *,
                                              uint64_t id);
/* Aborts a migration that has not activated: before the switch-over the
 * destination's copy is deleted and nothing else changes; after a
 * `lossless` switch-over the VM goes back to its source with a new epoch
 * (gateway and source INSTALL), the relay and the destination's copy go.
 * 'reason' (may be NULL) is kept, truncated to CORE_ABORT_REASON_MAX.
 * CORE_E_ACTIVATED once the VM runs at the destination; an aborted
 * migration answers OK and changes nothing. */
enum core_err core_migration_abort(struct core *, uint64_t id,
                                   const char *reason, uint64_t now);
enum core_err core_migration_abort_check(const struct core *, uint64_t id);
/* Node 'node''s agent saw the first frame of 'vm' at its port while it
 * held the VM at 'epoch' with activate_on_frame: the VM runs there.  A
 * migration to 'node' at that epoch switches over (`rarp`) or activates
 * (`lossless`); a report for a migration already past that changes nothing
 * (CORE_E_OK); CORE_E_NOT_PREPARING when no migration of the VM to that
 * node at that epoch exists. */
enum core_err core_node_activated(struct core *, uint32_t node, uint32_t vm,
                                  uint64_t epoch, uint64_t now);
enum core_err core_node_activated_check(const struct core *, uint32_t node,
                                        uint32_t vm, uint64_t epoch);
bool core_migration_get(const struct core *, uint64_t id,
                        struct core_migration *);
uint64_t core_n_migrations(const struct core *); /* ids are 1..n */

/* The deletion delay the core would choose now (dynamic or fixed). */
uint64_t core_delay_ms(const struct core *);

/* ---- Port-security bindings (seed 003, docs/port-security.md) ----
 *
 * The core holds at most one binding per VM (MAC, IP, lease, type, VLAN,
 * port, VM, node, port status, port security).  It is part of the VM's
 * configuration: 'config.binding' names it, 'config.ip' follows its IP,
 * every INSTALL for the VM carries it, a migration snapshots it with the
 * configuration (the source's DELETE carries the snapshot) and moves it to
 * the destination (node and port updated).  A dynamic binding's lease is
 * a durable TASK_LEASE due at its expiry: it removes the binding and
 * INSTALLs the VM without it.  Every call below validates everything
 * before changing anything; on CORE_E_BINDING '*berr' says why the
 * binding table refused. */

/* The VM manager sets the binding of 'vm' (FIG. 5, S300-S335), replacing
 * any it has and keeping its id.  'b' gives ip, type, lease_s, server,
 * port, port_status, port_security and origin; vm, node, mac and vlan
 * must be the VM's own (or empty/zero: filled in), else
 * CORE_E_BINDING_MISMATCH.  expires_ms is computed from 'now' and
 * lease_s.  The VM's IP becomes the binding's. */
enum core_err core_binding_set(struct core *, uint32_t vm,
                               const struct binding *b, uint64_t now,
                               enum binding_err *berr, uint32_t *id,
                               bool *created);
/* What core_binding_set() would refuse ('*berr' too), changing nothing. */
enum core_err core_binding_set_check(const struct core *, uint32_t vm,
                                     const struct binding *b, uint64_t now,
                                     enum binding_err *berr);
/* The controller snoops a DHCP server message that node 'node' saw on a
 * trusted port (FIG. 3): an ACK creates or renews the VM's dynamic binding
 * (origin controller), a NAK/RELEASE/DECLINE removes it.  The VM is 'vm',
 * or with CORE_NONE the VM on 'node' whose MAC is the message's chaddr.
 * '*vm_out' (may be NULL) gets the VM, '*act' what happened. */
enum core_err core_binding_snoop(struct core *, uint32_t node, uint32_t vm,
                                 const struct dhcp_msg *, uint64_t now,
                                 enum binding_err *berr,
                                 enum binding_action *act,
                                 uint32_t *vm_out);
/* Node 'node''s agent reports a binding it built from an ACK (FIG. 4;
 * origin agent), or, with 'removed', that it dropped it.  The VM b->vm
 * must be placed on 'node' (else CORE_E_WRONG_SOURCE); the expiry is
 * recomputed from 'now' and the lease; a static binding is never
 * replaced (BINDING_E_STATIC_HELD). */
enum core_err core_binding_report(struct core *, uint32_t node,
                                  const struct binding *b, bool removed,
                                  uint64_t now, enum binding_err *berr,
                                  enum binding_action *act);
/* Removes the VM's binding (CORE_E_UNKNOWN_BINDING if it has none); the
 * VM's IP goes with it (0.0.0.0: its node lets it only ask for one). */
enum core_err core_binding_delete(struct core *, uint32_t vm, uint64_t now);
enum core_err core_binding_delete_check(const struct core *, uint32_t vm);
/* The VM's binding, or NULL.  Valid until the core next changes. */
const struct binding *core_binding_get(const struct core *, uint32_t vm);
/* Iteration in no particular order, as binding_table_next(). */
const struct binding *core_binding_next(const struct core *,
                                        uint32_t *cursor);
size_t core_n_bindings(const struct core *);

/* ---- Time ---- */
/* Runs every task due at or before 'now'.  The first call after
 * core_load() first gives the loaded tasks fresh due times from 'now' (the
 * restart rule); 'now' must not go back within a run. */
void core_run(struct core *, uint64_t now);
/* core_run(), but it handles at most 'max_tasks' tasks (the restart rule
 * counts each task it gives a fresh due time) and returns true when it
 * stopped with more to do; core_next_due() then says 0 or a time not
 * after 'now', so the caller commits and calls again.  Each task writes a
 * handful of records, so a caller whose store bounds a commit's size
 * bounds its batches with it. */
bool core_run_some(struct core *, uint64_t now, size_t max_tasks);
/* The most records one task writes when it runs or is restarted
 * (tests/unit/test_core_store.c checks it for every kind). */
#define CORE_TASK_RECORDS_MAX 8
/* When core_run() next has work: a due time, or UINT64_MAX; 0 after
 * core_load() until core_run() applied the restart rule. */
uint64_t core_next_due(const struct core *);

/* ---- Pending tasks ---- */
struct core_task_info {
    uint64_t id;
    enum task_kind kind;
    uint32_t vm, node;
    uint64_t epoch;
    uint64_t due_ms;  /* UINT64_MAX: not scheduled yet (still prepared) */
    uint64_t migration;
    uint32_t relay_target; /* CORE_NONE when none */
};
size_t core_n_tasks(const struct core *);
/* Calls 'cb' for every pending task in no particular order; stops early
 * when it returns false. */
void core_tasks_walk(const struct core *,
                     bool (*cb)(void *aux, const struct core_task_info *),
                     void *aux);

/* ---- Gateway map ---- */
uint64_t core_map_version(const struct core *);
struct core_map_entry {
    const char *vm;   /* name */
    const char *node; /* name; NULL when removed */
    const char *address; /* the node's data-plane address; NULL if removed */
    struct mn_config config;
    uint64_t epoch;
    uint64_t version; /* version of this entry's last change */
    bool removed;
};
/* Calls 'cb' for each entry changed after version 'since' (every live entry
 * when since == 0), oldest change first, including removals still
 * remembered.  Returns true if the answer is complete; false when removals
 * older than the tombstone horizon were forgotten, in which case the caller
 * should treat it as a full map (call again with since == 0). */
bool core_map_since(const struct core *, uint64_t since,
                    void (*cb)(void *aux, const struct core_map_entry *),
                    void *aux);

/* ---- Statistics ---- */
struct core_stats {
    uint64_t migrations_by_phase[MIG_N_PHASES];
    uint64_t migrations_degraded; /* switched without confirmation */
    uint64_t migrations_aborted_deadline; /* by the prepare deadline */
    uint64_t tasks_pending;
    uint64_t tasks_fired;
    uint64_t tasks_restarted;  /* given fresh due times after a restart */
    uint64_t tasks_cancelled;  /* run first or cancelled on a return (I4) */
    uint64_t relays_retargeted; /* I5 */
    uint64_t released_early;   /* deletions ended by acknowledgements */
    uint64_t instructions;
    uint64_t prepare_timeouts;
    uint64_t agent_nacks;      /* nacks accepted from agents */
    uint64_t bindings_by_type[2];    /* live, by enum binding_type */
    uint64_t bindings_by_origin[3];  /* created, by enum binding_origin */
    uint64_t lease_expiries;         /* dynamic bindings whose lease ended */
    uint64_t refreshes_ignored; /* refreshes too soon to be observations */
    uint64_t deletions_held;   /* held past their delay for a silent node */
    uint64_t deletions_forced; /* ... and run at the ceiling regardless */
};
void core_get_stats(const struct core *, struct core_stats *);

/* Approximate bytes of heap the core holds (for benchmarks). */
size_t core_memory_bytes(const struct core *);

#endif /* MIGNET_CORE_H */
