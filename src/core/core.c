/* core.c: the sans-I/O control plane's lifecycle, errors, output and
 * statistics.
 *
 * The state and its rules live in one file per job: migrate.c (the protocol
 * of DESIGN §2), nodes.c, vms.c, tasks.c, gmap.c (the gateway map),
 * vm_binding.c, persist.c and load.c.  Nothing in the core may read a clock
 * or a socket, or change state before an input has been fully validated. */
#include "core/core-private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* ---- Names and errors ---- */

static const char *const err_names[] = {
#define CORE_ERR(ENUM, NAME, MSG) NAME,
    CORE_ERRORS
#undef CORE_ERR
};
static const char *const err_msgs[] = {
#define CORE_ERR(ENUM, NAME, MSG) MSG,
    CORE_ERRORS
#undef CORE_ERR
};

const char *
core_errname(enum core_err e)
{
    return (unsigned) e < CORE_N_ERRORS ? err_names[e] : "unknown_error";
}

const char *
core_strerror(enum core_err e)
{
    return (unsigned) e < CORE_N_ERRORS ? err_msgs[e] : "unknown error";
}

const char *
instr_kind_name(enum instr_kind k)
{
    static const char *const names[] = {
#define INSTR_KIND(ENUM, NAME) NAME,
        INSTR_KINDS
#undef INSTR_KIND
    };
    return (unsigned) k < ARRAY_SIZE(names) ? names[k] : "?";
}

/* ---- Lifecycle ---- */

void
core_init_contents(struct core *c, const struct core_config *cfg,
                   struct store *store, const struct core_sink *sink)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    if (!c->cfg.tombstones) {
        c->cfg.tombstones = 1;
    }
    if (!c->cfg.dev_factor) {
        c->cfg.dev_factor = 4;
    }
    c->store = store;
    if (sink) {
        c->sink = *sink;
    }
    core_nodes_init(c);
    core_vms_init(c);
    core_tasks_init(c);
    c->tombs = xcalloc(c->cfg.tombstones, sizeof *c->tombs);
    c->bindings = binding_table_create();
}

struct core *
core_create(const struct core_config *cfg, struct store *store,
            const struct core_sink *sink)
{
    struct core *c = xmalloc(sizeof *c);
    core_init_contents(c, cfg, store, sink);
    return c;
}

void
core_free_contents(struct core *c)
{
    for (size_t i = 0; i < c->n_nodes; i++) {
        free(c->nodes[i].name);
        free(c->nodes[i].address);
        free(c->nodes[i].waits);
    }
    for (size_t i = 0; i < c->n_vms; i++) {
        free(c->vms[i].name);
        free(c->vms[i].iface_id);
    }
    for (size_t i = 0; i < c->n_tombs; i++) {
        free(c->tombs[(c->tomb_head + i) % c->cfg.tombstones].name);
    }
    for (size_t i = 0; i < c->n_task_slots; i++) {
        if (c->tasks[i].live) {
            free(c->tasks[i].snap);
        }
    }
    free(c->tombs);
    free(c->nodes);
    free(c->vms);
    free(c->tasks);
    binding_table_destroy(c->bindings);
    free(c->migs);
    strmap_destroy(&c->node_index);
    strmap_destroy(&c->vm_index);
    strmap_destroy(&c->addr_index);
    heap_destroy(&c->ack_heap);
    heap_destroy(&c->upper_heap);
    heap_destroy(&c->due_heap);
    heap_destroy(&c->release_heap);
}

void
core_destroy(struct core *c)
{
    if (c) {
        core_free_contents(c);
        free(c);
    }
}

const struct core_config *
core_get_config(const struct core *c)
{
    return &c->cfg;
}

/* ---- Output ---- */

void
core_emit_flags(struct core *c, enum instr_kind kind, uint32_t node,
                uint32_t vm, uint64_t epoch, const struct mn_config *config,
                uint32_t target, uint64_t target_epoch,
                const struct binding *binding, unsigned flags)
{
    struct node *n = &c->nodes[node];
    /* A relay target is not counted as a reference to its node: once
     * removed, the slot may be free (NULL names: the sink drops it). */
    bool has_target = target != NIL && core_node_live(c, target);
    struct core_instr in = {
        .kind = kind,
        .node = node,
        .vm = vm,
        .target = target,
        .seq = ++n->last_seq,
        .epoch = epoch,
        .target_epoch = target_epoch,
        .inactive = (flags & CORE_EMIT_INACTIVE) != 0,
        .activate_on_frame = (flags & CORE_EMIT_ON_FRAME) != 0,
        .activated = (flags & CORE_EMIT_ACTIVATED) != 0,
        .config = *config,
        .binding = binding,
        .node_name = n->name,
        .vm_name = c->vms[vm].name,
        .iface_id = c->vms[vm].iface_id,
        .target_name = has_target ? c->nodes[target].name : NULL,
        .target_address = has_target ? c->nodes[target].address : NULL,
    };
    c->stats.instructions++;
    if (c->sink.instr) {
        c->sink.instr(c->sink.aux, &in);
    }
}

void
core_emit(struct core *c, enum instr_kind kind, uint32_t node, uint32_t vm,
          uint64_t epoch, const struct mn_config *config, uint32_t target,
          uint64_t target_epoch, const struct binding *binding)
{
    core_emit_flags(c, kind, node, vm, epoch, config, target, target_epoch,
                    binding, 0);
}

/* ---- Statistics ---- */

void
core_get_stats(const struct core *c, struct core_stats *s)
{
    *s = c->stats;
    s->tasks_pending = c->live_tasks;
}

size_t
core_memory_bytes(const struct core *c)
{
    size_t b = sizeof *c;
    b += c->nodes_cap * sizeof *c->nodes;
    b += c->vms_cap * sizeof *c->vms;
    b += c->tasks_cap * sizeof *c->tasks;
    b += c->migs_cap * sizeof *c->migs;
    b += strmap_memory(&c->node_index) + strmap_memory(&c->vm_index)
         + strmap_memory(&c->addr_index);
    b += (c->ack_heap.cap + c->upper_heap.cap + c->due_heap.cap
          + c->release_heap.cap)
         * sizeof(uint32_t);
    for (size_t i = 0; i < c->n_vms; i++) {
        if (c->vms[i].name) {
            b += strlen(c->vms[i].name) + 1;
        }
    }
    return b;
}
