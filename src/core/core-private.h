/* core-private.h: the core's internal state, shared by its .c files only.
 *
 * Objects live in arrays and refer to each other by uint32 index, so the
 * arrays can grow without invalidating anything and a million VMs cost
 * about a hundred bytes each.  Nothing outside src/core may include it. */
#ifndef MIGNET_CORE_PRIVATE_H
#define MIGNET_CORE_PRIVATE_H 1

#include "mignet/core.h"
#include "mignet/store.h"
#include "lib/heap.h"
#include "lib/strmap.h"

#define NIL UINT32_MAX

struct ack_wait {
    uint64_t seq;
    uint64_t migration;
};

struct node {
    char *name; /* NULL: free slot */
    char *address;
    uint32_t expected_refresh_ms;
    bool cordoned, draining;
    char token_hash[CORE_TOKEN_HASH_HEX + 1]; /* "" = TLS only */
    uint32_t n_incoming; /* VMs whose drain target it is */
    uint32_t n_vms, n_tasks;
    uint32_t vm_head; /* list of VMs placed here */
    uint64_t acked_version;
    uint64_t acked_seq, last_seq;
    uint64_t refreshes, last_refresh_ms;
    double mean, dev;
    uint64_t upper;
    uint32_t ack_pos, upper_pos; /* positions in the node heaps */
    /* The silence hold (silence.c): when anything of the node was last
     * heard ('heard': at all in this run), when it last polled the map
     * ('read': at all in this run; a sample or not), and the deletions
     * held until it is heard again. */
    bool heard, read;
    uint64_t heard_ms, read_ms;
    uint32_t park_head;
    /* Migrations waiting for this node's acknowledgement, seq ascending. */
    struct ack_wait *waits;
    size_t n_waits, waits_head, waits_cap;
    uint32_t next_free;
};

struct vm {
    char *name; /* NULL: free slot */
    char *iface_id; /* NULL: the name */
    struct mn_config config;
    uint32_t node;
    uint32_t task_head;               /* pending tasks of this VM */
    uint32_t node_prev, node_next;    /* VMs on the same node */
    uint32_t chg_prev, chg_next;      /* gateway change list */
    uint64_t epoch;
    uint64_t map_version;
    uint64_t migration; /* latest, 0 = none */
    uint32_t drain_target; /* NIL = none (nodes.c) */
};

struct task {
    uint64_t id;
    uint64_t due;
    uint64_t migration;
    uint64_t epoch;
    uint64_t need_version;
    uint64_t target_epoch;
    struct mn_config snapshot; /* LEASE: snapshot.binding is the binding */
    struct binding *snap;      /* DELETE: the snapshot's binding, or NULL */
    uint32_t vm, node, target;
    uint32_t vm_prev, vm_next;
    uint32_t due_pos, release_pos;
    enum task_kind kind;
    bool live;
    /* Loaded after a restart and not yet given a fresh due time: its
     * stored one belongs to the last run (tasks.c, the restart rule). */
    bool held;
    /* DELETE: when its delay started (the silence hold's ceiling counts
     * from there), the node it is held for (NIL: none) and its place on
     * that node's list, and whether a silence ever held it. */
    uint64_t hold_from;
    uint32_t park_node, park_prev, park_next;
    bool silence_held;
};

struct migration {
    struct core_migration pub;
    /* The instructions it waits for: the destination's INSTALL and the
     * source's RELAY (or, CLEANING, its DELETE in src_seq). */
    uint64_t dst_seq, src_seq;
    bool dst_acked, src_acked;
    uint32_t timeout_task;  /* PREPARE_TIMEOUT, NIL when none */
    uint32_t deadline_task; /* PREPARE_DEADLINE, NIL when none */
    uint32_t delete_task;   /* NIL when none */
    /* Switching over on the VM's frame at the destination (only during
     * that call; not stored). */
    bool on_frame;
};

struct tombstone {
    char *name;
    uint64_t version;
};

struct core {
    struct core_config cfg;
    struct store *store;
    struct core_sink sink;

    struct node *nodes;
    size_t n_nodes, nodes_cap;
    uint32_t node_free;
    struct strmap node_index;
    struct heap ack_heap;   /* live nodes by acked_version, min first */
    struct heap upper_heap; /* live nodes by refresh bound, max first */

    struct vm *vms;
    size_t n_vms, vms_cap, live_vms;
    uint32_t vm_free;
    struct strmap vm_index;
    struct strmap addr_index; /* live VMs by (network, MAC) and (network,
                               * IP): duplicate addresses (vms.c) */
    uint32_t chg_head, chg_tail; /* oldest and newest gateway change */

    struct task *tasks;
    size_t n_task_slots, tasks_cap, live_tasks;
    uint32_t task_free;
    struct heap due_heap;     /* tasks by due time */
    struct heap release_heap; /* DELETE tasks waiting for acks */
    size_t n_held;            /* tasks with 'held' set */

    struct migration *migs;
    size_t n_migs, migs_cap;
    size_t migs_open_from; /* migrations before this index are finished */

    struct binding_table *bindings; /* seed 003, one per VM */

    struct tombstone *tombs; /* ring */
    size_t tomb_head, n_tombs;
    uint64_t tomb_horizon; /* newest forgotten removal */

    uint64_t map_version;
    uint64_t next_task_id;
    struct core_stats stats;
    bool loading;
    /* Loaded: the first core_run() counts every node heard at its 'now'
     * (silence.c). */
    bool hear_all;
};

/* ---- core.c: lifecycle and output ---- */
void core_init_contents(struct core *, const struct core_config *,
                        struct store *, const struct core_sink *);
void core_free_contents(struct core *);
/* Hands one instruction to the sink, with the names of its node, VM and
 * target filled in. */
void core_emit(struct core *, enum instr_kind, uint32_t node, uint32_t vm,
               uint64_t epoch, const struct mn_config *, uint32_t target,
               uint64_t target_epoch, const struct binding *);
/* core_emit() with flags. */
#define CORE_EMIT_INACTIVE 1u /* INSTALL: a prepared destination */
#define CORE_EMIT_ON_FRAME 2u /* INSTALL: report activation on a frame */
#define CORE_EMIT_ACTIVATED 4u /* RELAY: the VM runs at the destination */
void core_emit_flags(struct core *, enum instr_kind, uint32_t node,
                     uint32_t vm, uint64_t epoch, const struct mn_config *,
                     uint32_t target, uint64_t target_epoch,
                     const struct binding *, unsigned flags);

/* ---- persist.c: records for the store (nothing while loading) ---- */
void core_persist_meta(struct core *);
void core_persist_node(struct core *, uint32_t node);
void core_persist_node_del(struct core *, const char *name);
void core_persist_vm(struct core *, uint32_t vm);
void core_persist_vm_del(struct core *, const char *name);
void core_persist_task(struct core *, uint32_t task);
void core_persist_task_del(struct core *, uint64_t id);
void core_persist_mig(struct core *, const struct migration *);
void core_persist_binding(struct core *, const struct binding *);
void core_persist_binding_del(struct core *, uint32_t id);

/* ---- nodes.c ---- */
void core_nodes_init(struct core *);
/* Forgets node 'node' (its slot becomes free). */
void core_node_free_slot(struct core *, uint32_t node);
/* VM 'vm' leaves its node (migrated away or removed): it no longer needs
 * a drain target. */
void core_node_drain_vm_left(struct core *, uint32_t vm);
/* Loading: VM 'vm' was stored with drain target 'node'. */
void core_node_drain_set(struct core *, uint32_t vm, uint32_t node);
/* Migration 'mig' waits for node 'node' to acknowledge 'seq'. */
void core_node_wait(struct core *, uint32_t node, uint64_t seq,
                    uint64_t mig);

/* ---- vms.c ---- */
void core_vms_init(struct core *);
/* Moves VM 'vm' onto the list of node 'node'. */
void core_vm_place(struct core *, uint32_t vm, uint32_t node);
/* Sets the VM's IP (its binding's), keeping the address index true. */
void core_vm_set_ip(struct core *, uint32_t vm, uint32_t ip);
/* Whether a binding of IP 'ip' for 'vm' would give it an address another
 * live VM of its network has in its configuration without a binding
 * (core_vm_address_owner); never while the core loads its store. */
bool core_vm_ip_taken(const struct core *, uint32_t vm, uint32_t ip);

/* ---- tasks.c ---- */
void core_tasks_init(struct core *);
uint32_t core_task_alloc(struct core *);
/* Links a filled-in task: VM list, node count, heaps, store. */
void core_task_link(struct core *, uint32_t task);
/* Links a filled-in task like core_task_link(), but outside the heaps: it
 * is not scheduled yet. */
void core_task_link_unscheduled(struct core *, uint32_t task);
/* Schedules a task linked by core_task_link_unscheduled() at 'due'. */
void core_task_schedule(struct core *, uint32_t task, uint64_t due);
void core_task_free(struct core *, uint32_t task);
void core_task_set_due(struct core *, uint32_t task, uint64_t due);
/* Task 'task' no longer waits for the restart rule (its due time was just
 * chosen afresh). */
void core_task_unhold(struct core *, uint32_t task);

/* ---- silence.c: the silence hold (DESIGN I2 under partitions) ---- */
/* Something authenticated of node 'node' was heard at 'now'. */
void core_silence_heard(struct core *, uint32_t node, uint64_t now);
/* Node 'node' polled (read the map) at 'now'; it was heard too. */
void core_silence_read(struct core *, uint32_t node, uint64_t now);
/* DELETE task 'task' is due: true when a silent node holds it (it was
 * given a later due time), false when it may run now (if a silent node
 * still blocks it, the ceiling passed: counted as forced). */
bool core_silence_hold(struct core *, uint32_t task, uint64_t now);
/* Task 'task' no longer waits for any node (it runs or goes). */
void core_silence_unpark(struct core *, uint32_t task);
/* Node 'node' is being removed: nothing waits for it any longer. */
void core_silence_node_gone(struct core *, uint32_t node, uint64_t now);
/* After core_load(): every node counts as heard at 'now'. */
void core_silence_restart(struct core *, uint64_t now);

/* ---- gmap.c: the gateway map ---- */
/* The gateway entry of 'vm' changed: new map version. */
void core_gateway_touch(struct core *, uint32_t vm);
/* The gateway entry of 'vm' is removed: new map version, a tombstone. */
void core_gateway_remove(struct core *, uint32_t vm);

/* ---- migrate.c: the protocol (DESIGN §2) ---- */
/* Node 'node' acknowledged instruction 'seq' that migration 'm' waits
 * for. */
void core_mig_acked(struct core *, struct migration *, uint32_t node,
                    uint64_t seq, uint64_t now);
/* Node 'nack->node' nacked instruction 'nack->seq' that 'm' waits for:
 * kept with the migration, which does not advance on it. */
void core_mig_nacked(struct core *, struct migration *,
                     const struct core_nack *);
/* Step 6, early: brings forward the deletions every node's
 * acknowledgements allow (I2). */
void core_release_check(struct core *, uint64_t now);
/* Runs a DELETE task now (step 6). */
void core_mig_delete_run(struct core *, uint32_t task, uint64_t now);
/* A DELETE task is due: it runs unless the silence hold holds it. */
void core_mig_delete_due(struct core *, uint32_t task, uint64_t now);
/* A PREPARE_DEADLINE task is due: the migration is aborted. */
void core_mig_deadline_run(struct core *, uint32_t task, uint64_t now);
/* Node 'node' was sent its whole desired state: the prepared copies it
 * holds as a destination, and new waits for every migration that waits
 * on it (a restart forgot the old ones; a reconnect renumbered them). */
void core_mig_resync(struct core *, uint32_t node);
/* INSTALLs the live configuration of 'vm' where it runs, and on the
 * destination of a migration being prepared (inactive there). */
void core_vm_emit_install(struct core *, uint32_t vm);
/* The INSTALL flags of 'vm' placed on 'node' (lossless: watch for the
 * first frame until activated). */
unsigned core_mig_install_flags(const struct core *, uint32_t vm,
                                uint32_t node);
/* Node 'node' is being removed: migrations waiting for it to confirm a
 * deletion are cleaned. */
void core_mig_node_removed(struct core *, uint32_t node, uint64_t now);
/* A PREPARE_TIMEOUT task is due. */
void core_mig_timeout_run(struct core *, uint32_t task, uint64_t now);
/* VM 'vm' is being removed: every pending task of it goes now. */
void core_mig_vm_removed(struct core *, uint32_t vm, uint64_t now);

/* ---- vm_binding.c: the VMs' port-security bindings ---- */
/* The VM's binding, or NULL. */
const struct binding *core_vm_binding(const struct core *, uint32_t vm);
/* A heap copy of the VM's binding for a snapshot, or NULL. */
struct binding *core_binding_snapshot(const struct core *, uint32_t vm);
/* The VM now lives on its new node: the binding follows (node, port) and
 * so does its lease task. */
void core_binding_follow(struct core *, uint32_t vm);
/* The VM is being removed: its binding goes (its tasks go with it). */
void core_binding_drop(struct core *, uint32_t vm);
/* A LEASE task is due. */
void core_lease_run(struct core *, uint32_t task, uint64_t now);
/* Loading: one binding record; then the cross-checks once all is in. */
int core_load_binding(struct core *, const struct store_binding_rec *);
int core_load_bindings_check(struct core *);

/* The hot path's lookups, inline so that the split into files costs no
 * calls: the public core_node_valid()/core_vm_valid() are these. */
static inline bool
core_node_live(const struct core *c, uint32_t i)
{
    return i < c->n_nodes && c->nodes[i].name;
}

static inline bool
core_vm_live(const struct core *c, uint32_t i)
{
    return i < c->n_vms && c->vms[i].name;
}

/* now + d, short of UINT64_MAX (which means "not scheduled"). */
static inline uint64_t
core_add_sat(uint64_t now, uint64_t d)
{
    return now < UINT64_MAX - 1 && d < UINT64_MAX - 1 - now
               ? now + d
               : UINT64_MAX - 1;
}

/* Migration 'id', or NULL. */
static inline struct migration *
core_mig_get(struct core *c, uint64_t id)
{
    return id >= 1 && id <= c->n_migs ? &c->migs[id - 1] : NULL;
}

#endif /* MIGNET_CORE_PRIVATE_H */
