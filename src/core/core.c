/* core.c: the migration control plane (DESIGN §2), sans I/O.
 *
 * Holds nodes, VMs, placements with epochs, the gateway map and the pending
 * tasks of migrations, and turns requests, acknowledgements, refresh
 * reports and the passing of time into instructions for node agents.  It
 * must never read a clock or a socket, and never change state before an
 * input has been fully validated. */
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

/* ---- Heaps' orders ---- */

static const char *
node_name_of(const void *aux, uint32_t i)
{
    const struct core *core = aux;
    return core->nodes[i].name;
}

static const char *
vm_name_of(const void *aux, uint32_t i)
{
    const struct core *core = aux;
    return core->vms[i].name;
}

static bool
ack_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct core *c = aux;
    return c->nodes[a].acked_version < c->nodes[b].acked_version;
}

static void
ack_set_pos(void *aux, uint32_t i, uint32_t pos)
{
    struct core *c = aux;
    c->nodes[i].ack_pos = pos;
}

static bool
upper_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct core *c = aux;
    return c->nodes[a].upper > c->nodes[b].upper;
}

static void
upper_set_pos(void *aux, uint32_t i, uint32_t pos)
{
    struct core *c = aux;
    c->nodes[i].upper_pos = pos;
}

static bool
due_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct core *c = aux;
    const struct task *x = &c->tasks[a], *y = &c->tasks[b];
    return x->due != y->due ? x->due < y->due : x->id < y->id;
}

static void
due_set_pos(void *aux, uint32_t i, uint32_t pos)
{
    struct core *c = aux;
    c->tasks[i].due_pos = pos;
}

static bool
release_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct core *c = aux;
    const struct task *x = &c->tasks[a], *y = &c->tasks[b];
    return x->need_version != y->need_version
               ? x->need_version < y->need_version
               : x->id < y->id;
}

static void
release_set_pos(void *aux, uint32_t i, uint32_t pos)
{
    struct core *c = aux;
    c->tasks[i].release_pos = pos;
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
    c->node_free = c->vm_free = c->task_free = NIL;
    c->chg_head = c->chg_tail = NIL;
    strmap_init(&c->node_index, node_name_of, c);
    strmap_init(&c->vm_index, vm_name_of, c);
    heap_init(&c->ack_heap, ack_before, ack_set_pos, c);
    heap_init(&c->upper_heap, upper_before, upper_set_pos, c);
    heap_init(&c->due_heap, due_before, due_set_pos, c);
    heap_init(&c->release_heap, release_before, release_set_pos, c);
    c->tombs = xcalloc(c->cfg.tombstones, sizeof *c->tombs);
    c->next_task_id = 1;
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

/* ---- Persistence ---- */

static void
persist(struct core *c, const struct store_rec *r)
{
    if (c->store && !c->loading) {
        store_put(c->store, r);
    }
}

static void
persist_meta(struct core *c)
{
    struct store_rec r = {.type = STORE_META};
    r.meta.map_version = c->map_version;
    r.meta.next_migration = c->n_migs + 1;
    r.meta.next_task = c->next_task_id;
    persist(c, &r);
}

static void
persist_node(struct core *c, uint32_t i)
{
    const struct node *n = &c->nodes[i];
    struct store_rec r = {.type = STORE_NODE};
    r.node.name = n->name;
    r.node.address = n->address;
    r.node.refresh_ms = n->expected_refresh_ms;
    r.node.gone = n->gone;
    persist(c, &r);
}

static void
persist_node_del(struct core *c, const char *name)
{
    struct store_rec r = {.type = STORE_NODE, .del = true};
    r.node.name = name;
    persist(c, &r);
}

void
core_persist_vm(struct core *c, uint32_t i)
{
    const struct vm *v = &c->vms[i];
    struct store_rec r = {.type = STORE_VM};
    r.vm.name = v->name;
    r.vm.node = c->nodes[v->node].name;
    r.vm.config = v->config;
    r.vm.epoch = v->epoch;
    r.vm.map_version = v->map_version;
    r.vm.migration = v->migration;
    persist(c, &r);
}

static void
persist_vm_del(struct core *c, const char *name)
{
    struct store_rec r = {.type = STORE_VM, .del = true};
    r.vm.name = name;
    persist(c, &r);
}

void
core_persist_task(struct core *c, uint32_t i)
{
    const struct task *t = &c->tasks[i];
    struct store_rec r = {.type = STORE_TASK};
    r.task.id = t->id;
    r.task.kind = t->kind;
    r.task.vm = c->vms[t->vm].name;
    r.task.node = c->nodes[t->node].name;
    r.task.epoch = t->epoch;
    r.task.due_ms = t->due;
    r.task.migration = t->migration;
    r.task.need_version = t->need_version;
    r.task.relay_target = t->target != NIL ? c->nodes[t->target].name : NULL;
    r.task.target_epoch = t->target_epoch;
    r.task.snapshot = t->snapshot;
    uint8_t rec[BINDING_RECORD_MAX];
    size_t n = core_binding_encode_snap(t, rec, sizeof rec);
    r.task.binding = n ? rec : NULL;
    r.task.binding_len = n;
    persist(c, &r);
}

static void
persist_task_del(struct core *c, uint64_t id)
{
    struct store_rec r = {.type = STORE_TASK, .del = true};
    r.task.id = id;
    persist(c, &r);
}

static void
persist_mig(struct core *c, const struct migration *m)
{
    struct store_rec r = {.type = STORE_MIGRATION};
    r.migration.id = m->pub.id;
    r.migration.vm = c->vms[m->pub.vm].name;
    r.migration.src = c->nodes[m->pub.src].name;
    r.migration.dst = c->nodes[m->pub.dst].name;
    r.migration.epoch = m->pub.epoch;
    r.migration.map_version = m->pub.map_version;
    r.migration.phase = m->pub.phase;
    r.migration.started_ms = m->pub.started_ms;
    r.migration.relaying_ms = m->pub.relaying_ms;
    r.migration.cleaned_ms = m->pub.cleaned_ms;
    r.migration.delay_ms = m->pub.delay_ms;
    r.migration.released_early = m->pub.released_early;
    persist(c, &r);
}

/* ---- Output ---- */

void
core_emit(struct core *c, enum instr_kind kind, uint32_t node, uint32_t vm,
          uint64_t epoch, const struct mn_config *config, uint32_t target,
          uint64_t target_epoch, const struct binding *binding)
{
    struct node *n = &c->nodes[node];
    struct core_instr in = {
        .kind = kind,
        .node = node,
        .vm = vm,
        .target = target,
        .seq = ++n->last_seq,
        .epoch = epoch,
        .target_epoch = target_epoch,
        .config = *config,
        .binding = binding,
    };
    c->stats.instructions++;
    if (c->sink.instr) {
        c->sink.instr(c->sink.aux, &in);
    }
}

static void
mig_set_phase(struct core *c, struct migration *m, enum mig_phase phase)
{
    c->stats.migrations_by_phase[m->pub.phase]--;
    m->pub.phase = phase;
    c->stats.migrations_by_phase[phase]++;
    persist_mig(c, m);
    if (c->sink.migration) {
        c->sink.migration(c->sink.aux, &m->pub);
    }
}

/* ---- Nodes ---- */

static void
node_update_upper(struct core *c, uint32_t i)
{
    struct node *n = &c->nodes[i];
    uint64_t upper;
    if (n->refreshes >= 2) {
        upper = (uint64_t) (n->mean + c->cfg.dev_factor * n->dev + 0.5);
    } else {
        upper = 2 * (uint64_t) n->expected_refresh_ms;
    }
    if (upper != n->upper) {
        n->upper = upper;
        if (n->upper_pos != HEAP_NOT_IN) {
            heap_update(&c->upper_heap, n->upper_pos);
        }
    }
}

enum core_err
core_node_add(struct core *c, const char *name, const char *address,
              uint32_t refresh_ms, uint64_t now, uint32_t *idxp)
{
    if (!mn_name_valid(name)) {
        return CORE_E_BAD_NAME;
    }
    if (!address || strlen(address) > 255 || refresh_ms == 0
        || refresh_ms > 3600 * 1000) {
        return CORE_E_BAD_VALUE;
    }
    if (strmap_find(&c->node_index, name) != STRMAP_NONE) {
        return CORE_E_DUPLICATE_NODE;
    }
    uint32_t i;
    if (c->node_free != NIL) {
        i = c->node_free;
        c->node_free = c->nodes[i].next_free;
    } else {
        c->nodes = xgrow(c->nodes, &c->nodes_cap, c->n_nodes + 1,
                         sizeof *c->nodes);
        i = c->n_nodes++;
    }
    struct node *n = &c->nodes[i];
    memset(n, 0, sizeof *n);
    n->name = xstrdup(name);
    n->address = xstrdup(address);
    n->expected_refresh_ms = refresh_ms;
    n->vm_head = NIL;
    n->ack_pos = n->upper_pos = HEAP_NOT_IN;
    n->next_free = NIL;
    strmap_insert(&c->node_index, name, i);
    node_update_upper(c, i);
    heap_push(&c->ack_heap, i);
    heap_push(&c->upper_heap, i);
    persist_node(c, i);
    (void) now;
    if (idxp) {
        *idxp = i;
    }
    return CORE_E_OK;
}

static void release_check(struct core *, uint64_t now);

static void
node_free_slot(struct core *c, uint32_t i)
{
    struct node *n = &c->nodes[i];
    strmap_remove(&c->node_index, n->name);
    persist_node_del(c, n->name);
    free(n->name);
    free(n->address);
    free(n->waits);
    memset(n, 0, sizeof *n);
    n->next_free = c->node_free;
    c->node_free = i;
}

enum core_err
core_node_remove(struct core *c, uint32_t i, uint64_t now)
{
    if (!core_node_valid(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    struct node *n = &c->nodes[i];
    if (!n->gone) {
        heap_remove(&c->ack_heap, n->ack_pos);
        heap_remove(&c->upper_heap, n->upper_pos);
    }
    if (n->n_vms == 0 && n->n_tasks == 0) {
        node_free_slot(c, i);
    } else {
        n->gone = true;
        persist_node(c, i);
    }
    /* A departed node no longer holds back early release. */
    release_check(c, now);
    return CORE_E_OK;
}

uint32_t
core_node_find(const struct core *c, const char *name)
{
    return name ? strmap_find(&c->node_index, name) : CORE_NONE;
}

size_t
core_n_nodes(const struct core *c)
{
    return c->n_nodes;
}

bool
core_node_valid(const struct core *c, uint32_t i)
{
    return i < c->n_nodes && c->nodes[i].name;
}

bool
core_node_info(const struct core *c, uint32_t i, struct core_node_info *out)
{
    if (!core_node_valid(c, i)) {
        return false;
    }
    const struct node *n = &c->nodes[i];
    out->name = n->name;
    out->address = n->address;
    out->expected_refresh_ms = n->expected_refresh_ms;
    out->gone = n->gone;
    out->n_vms = n->n_vms;
    out->acked_version = n->acked_version;
    out->acked_seq = n->acked_seq;
    out->last_seq = n->last_seq;
    out->refreshes = n->refreshes;
    out->last_refresh_ms = n->last_refresh_ms;
    out->refresh_mean_ms = n->mean;
    out->refresh_dev_ms = n->dev;
    out->refresh_upper_ms = n->upper;
    return true;
}

enum core_err
core_node_refresh(struct core *c, uint32_t i, uint64_t version, uint64_t now)
{
    if (!core_node_valid(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (version > c->map_version) {
        return CORE_E_BAD_VERSION;
    }
    struct node *n = &c->nodes[i];
    if (n->refreshes > 0 && now >= n->last_refresh_ms) {
        double interval = (double) (now - n->last_refresh_ms);
        if (n->refreshes == 1) {
            n->mean = interval;
            n->dev = interval / 2;
        } else {
            double err = interval - n->mean;
            n->mean += err / 8;
            n->dev += ((err < 0 ? -err : err) - n->dev) / 4;
        }
    }
    n->refreshes++;
    if (now > n->last_refresh_ms) {
        n->last_refresh_ms = now;
    }
    if (!n->gone) {
        node_update_upper(c, i);
    }
    if (version > n->acked_version) {
        n->acked_version = version;
        if (!n->gone) {
            heap_update(&c->ack_heap, n->ack_pos);
            release_check(c, now);
        }
    }
    return CORE_E_OK;
}

/* ---- Tasks ---- */

uint32_t
core_task_alloc(struct core *c)
{
    uint32_t i;
    if (c->task_free != NIL) {
        i = c->task_free;
        c->task_free = c->tasks[i].vm_next;
    } else {
        c->tasks = xgrow(c->tasks, &c->tasks_cap, c->n_task_slots + 1,
                         sizeof *c->tasks);
        i = c->n_task_slots++;
    }
    struct task *t = &c->tasks[i];
    memset(t, 0, sizeof *t);
    t->due_pos = t->release_pos = HEAP_NOT_IN;
    t->vm_prev = t->vm_next = NIL;
    t->target = NIL;
    t->live = true;
    return i;
}

/* Links a filled-in task: VM list, node count, heaps, store. */
void
core_task_link(struct core *c, uint32_t i)
{
    struct task *t = &c->tasks[i];
    struct vm *v = &c->vms[t->vm];
    t->vm_next = v->task_head;
    if (v->task_head != NIL) {
        c->tasks[v->task_head].vm_prev = i;
    }
    v->task_head = i;
    c->nodes[t->node].n_tasks++;
    heap_push(&c->due_heap, i);
    if (t->kind == TASK_DELETE && c->cfg.ack_release) {
        heap_push(&c->release_heap, i);
    }
    c->live_tasks++;
    core_persist_task(c, i);
}

void
core_task_free(struct core *c, uint32_t i)
{
    struct task *t = &c->tasks[i];
    struct vm *v = &c->vms[t->vm];
    if (t->vm_prev != NIL) {
        c->tasks[t->vm_prev].vm_next = t->vm_next;
    } else {
        v->task_head = t->vm_next;
    }
    if (t->vm_next != NIL) {
        c->tasks[t->vm_next].vm_prev = t->vm_prev;
    }
    if (t->due_pos != HEAP_NOT_IN) {
        heap_remove(&c->due_heap, t->due_pos);
    }
    if (t->release_pos != HEAP_NOT_IN) {
        heap_remove(&c->release_heap, t->release_pos);
    }
    struct node *n = &c->nodes[t->node];
    n->n_tasks--;
    persist_task_del(c, t->id);
    c->live_tasks--;
    uint32_t node = t->node;
    free(t->snap);
    t->snap = NULL;
    t->live = false;
    t->vm_next = c->task_free;
    c->task_free = i;
    /* A gone node is forgotten once nothing refers to it. */
    if (n->gone && n->n_vms == 0 && n->n_tasks == 0) {
        node_free_slot(c, node);
    }
}

void
core_task_set_due(struct core *c, uint32_t i, uint64_t due)
{
    struct task *t = &c->tasks[i];
    if (due != t->due) {
        t->due = due;
        heap_update(&c->due_heap, t->due_pos);
        core_persist_task(c, i);
    }
}

/* Every live node has acknowledged the gateway up to this version. */
static uint64_t
acked_horizon(const struct core *c)
{
    return heap_is_empty(&c->ack_heap)
               ? c->map_version
               : c->nodes[heap_top(&c->ack_heap)].acked_version;
}

/* Brings forward the deletions whose move every node has acknowledged
 * (and whose relays are in place), to 'now' plus the in-flight margin. */
static void
release_check(struct core *c, uint64_t now)
{
    uint64_t horizon = acked_horizon(c);
    while (!heap_is_empty(&c->release_heap)) {
        uint32_t i = heap_top(&c->release_heap);
        struct task *t = &c->tasks[i];
        if (t->need_version > horizon) {
            break;
        }
        heap_remove(&c->release_heap, t->release_pos);
        uint64_t due = now + c->cfg.inflight_ms;
        if (due < t->due) {
            core_task_set_due(c, i, due);
            c->migs[t->migration - 1].pub.released_early = true;
            c->stats.released_early++;
        }
    }
}

/* ---- Migrations ---- */

static struct migration *
mig_get(struct core *c, uint64_t id)
{
    return id >= 1 && id <= c->n_migs ? &c->migs[id - 1] : NULL;
}

uint64_t
core_delay_ms(const struct core *c)
{
    uint64_t d;
    if (!c->cfg.dynamic_delay) {
        return c->cfg.fixed_delay_ms;
    }
    uint64_t upper = heap_is_empty(&c->upper_heap)
                         ? 0
                         : c->nodes[heap_top(&c->upper_heap)].upper;
    d = upper + c->cfg.propagation_ms + c->cfg.delay_margin_ms;
    if (d < c->cfg.delay_floor_ms) {
        d = c->cfg.delay_floor_ms;
    }
    if (d > c->cfg.delay_ceiling_ms) {
        d = c->cfg.delay_ceiling_ms;
    }
    return d;
}

static void
mig_cleaned(struct core *c, struct migration *m, uint64_t now)
{
    m->delete_task = NIL;
    m->pub.cleaned_ms = now ? now : 1;
    mig_set_phase(c, m, MIG_CLEANED);
}

/* Step 5: the relay is in place; schedule the deletion of the snapshot. */
static void
mig_relaying(struct core *c, struct migration *m, uint64_t now)
{
    if (m->timeout_task != NIL) {
        core_task_free(c, m->timeout_task);
        m->timeout_task = NIL;
    }
    m->pub.relaying_ms = now;
    m->pub.delay_ms = core_delay_ms(c);
    uint32_t d = m->delete_task;
    if (d != NIL) {
        struct task *t = &c->tasks[d];
        t->due = now + m->pub.delay_ms;
        heap_push(&c->due_heap, d);
        if (c->cfg.ack_release) {
            heap_push(&c->release_heap, d);
        }
        core_persist_task(c, d);
    }
    mig_set_phase(c, m, MIG_RELAYING);
    release_check(c, now);
}

static void
node_wait(struct core *c, uint32_t node, uint64_t seq, uint64_t mig)
{
    struct node *n = &c->nodes[node];
    if (n->waits_head > 0 && n->waits_head * 2 >= n->n_waits) {
        memmove(n->waits, n->waits + n->waits_head,
                (n->n_waits - n->waits_head) * sizeof *n->waits);
        n->n_waits -= n->waits_head;
        n->waits_head = 0;
    }
    n->waits = xgrow(n->waits, &n->waits_cap, n->n_waits + 1,
                     sizeof *n->waits);
    n->waits[n->n_waits++] = (struct ack_wait){.seq = seq, .migration = mig};
}

enum core_err
core_node_ack(struct core *c, uint32_t i, uint64_t seq, uint64_t now)
{
    if (!core_node_valid(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    struct node *n = &c->nodes[i];
    if (seq > n->last_seq) {
        return CORE_E_BAD_SEQ;
    }
    if (seq <= n->acked_seq) {
        return CORE_E_OK;
    }
    n->acked_seq = seq;
    while (n->waits_head < n->n_waits && n->waits[n->waits_head].seq <= seq) {
        const struct ack_wait *w = &n->waits[n->waits_head++];
        struct migration *m = mig_get(c, w->migration);
        if (!m || m->pub.phase != MIG_PREPARED) {
            continue;
        }
        if (m->pub.dst == i && m->dst_seq == w->seq) {
            m->dst_acked = true;
        }
        if (m->pub.src == i && m->src_seq == w->seq) {
            m->src_acked = true;
        }
        if (m->dst_acked && m->src_acked) {
            mig_relaying(c, m, now);
        }
    }
    if (n->waits_head == n->n_waits) {
        n->waits_head = n->n_waits = 0;
    }
    return CORE_E_OK;
}

/* ---- VMs ---- */

static void
vm_link_node(struct core *c, uint32_t vi)
{
    struct vm *v = &c->vms[vi];
    struct node *n = &c->nodes[v->node];
    v->node_prev = NIL;
    v->node_next = n->vm_head;
    if (n->vm_head != NIL) {
        c->vms[n->vm_head].node_prev = vi;
    }
    n->vm_head = vi;
    n->n_vms++;
}

static void
vm_unlink_node(struct core *c, uint32_t vi)
{
    struct vm *v = &c->vms[vi];
    struct node *n = &c->nodes[v->node];
    if (v->node_prev != NIL) {
        c->vms[v->node_prev].node_next = v->node_next;
    } else {
        n->vm_head = v->node_next;
    }
    if (v->node_next != NIL) {
        c->vms[v->node_next].node_prev = v->node_prev;
    }
    n->n_vms--;
}

static void
chg_unlink(struct core *c, uint32_t vi)
{
    struct vm *v = &c->vms[vi];
    if (v->chg_prev == NIL && c->chg_head != vi) {
        return; /* not in the list */
    }
    if (v->chg_prev != NIL) {
        c->vms[v->chg_prev].chg_next = v->chg_next;
    } else {
        c->chg_head = v->chg_next;
    }
    if (v->chg_next != NIL) {
        c->vms[v->chg_next].chg_prev = v->chg_prev;
    } else {
        c->chg_tail = v->chg_prev;
    }
    v->chg_prev = v->chg_next = NIL;
}

static void
chg_append(struct core *c, uint32_t vi)
{
    struct vm *v = &c->vms[vi];
    v->chg_next = NIL;
    v->chg_prev = c->chg_tail;
    if (c->chg_tail != NIL) {
        c->vms[c->chg_tail].chg_next = vi;
    } else {
        c->chg_head = vi;
    }
    c->chg_tail = vi;
}

/* The gateway entry of 'vi' changed: new map version. */
void
core_gateway_touch(struct core *c, uint32_t vi)
{
    struct vm *v = &c->vms[vi];
    v->map_version = ++c->map_version;
    chg_unlink(c, vi);
    chg_append(c, vi);
    persist_meta(c);
    if (c->sink.map_change) {
        c->sink.map_change(c->sink.aux, vi, v->node, false, v->map_version);
    }
}

enum core_err
core_vm_add(struct core *c, const char *name, const struct mn_config *cfg,
            uint32_t node, uint64_t now, uint32_t *idxp)
{
    if (!mn_name_valid(name)) {
        return CORE_E_BAD_NAME;
    }
    if (!cfg || !mn_config_valid(cfg) || (cfg->binding && !c->loading)) {
        /* A binding is made through core_binding_*(), never named. */
        return CORE_E_BAD_VALUE;
    }
    if (strmap_find(&c->vm_index, name) != STRMAP_NONE) {
        return CORE_E_DUPLICATE_VM;
    }
    if (!core_node_valid(c, node)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (c->nodes[node].gone) {
        return CORE_E_NODE_GONE;
    }
    uint32_t i;
    if (c->vm_free != NIL) {
        i = c->vm_free;
        c->vm_free = c->vms[i].node_next;
    } else {
        c->vms = xgrow(c->vms, &c->vms_cap, c->n_vms + 1, sizeof *c->vms);
        i = c->n_vms++;
    }
    struct vm *v = &c->vms[i];
    memset(v, 0, sizeof *v);
    v->name = xstrdup(name);
    v->config = *cfg;
    v->node = node;
    v->epoch = 1;
    v->task_head = NIL;
    v->chg_prev = v->chg_next = NIL;
    strmap_insert(&c->vm_index, name, i);
    vm_link_node(c, i);
    c->live_vms++;
    core_gateway_touch(c, i);
    core_persist_vm(c, i);
    core_emit(c, INSTR_INSTALL, node, i, v->epoch, &v->config, NIL, 0,
              NULL);
    (void) now;
    if (idxp) {
        *idxp = i;
    }
    return CORE_E_OK;
}

enum core_err
core_vm_update(struct core *c, uint32_t vi, const struct mn_config *cfg,
               uint64_t now)
{
    if (!core_vm_valid(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    if (!cfg || !mn_config_valid(cfg)) {
        return CORE_E_BAD_VALUE;
    }
    struct vm *v = &c->vms[vi];
    if (cfg->binding != v->config.binding) {
        return CORE_E_BAD_VALUE; /* bindings change through their calls */
    }
    const struct binding *b = core_vm_binding(c, vi);
    if (b && (memcmp(cfg->mac, b->mac, sizeof b->mac) || cfg->ip != b->ip
              || cfg->vlan != b->vlan)) {
        return CORE_E_ADDRESS_BOUND;
    }
    if (mn_config_equal(&v->config, cfg)) {
        return CORE_E_OK;
    }
    /* Only the live placement changes; snapshots of pending deletions
     * stay exactly as they were taken (I3). */
    v->config = *cfg;
    core_gateway_touch(c, vi);
    core_persist_vm(c, vi);
    core_emit(c, INSTR_INSTALL, v->node, vi, v->epoch, &v->config, NIL, 0,
              b);
    (void) now;
    return CORE_E_OK;
}

static void
tombstone_add(struct core *c, const char *name, uint64_t version)
{
    size_t cap = c->cfg.tombstones;
    if (c->n_tombs == cap) {
        struct tombstone *old = &c->tombs[c->tomb_head];
        c->tomb_horizon = old->version;
        free(old->name);
        c->tomb_head = (c->tomb_head + 1) % cap;
        c->n_tombs--;
    }
    struct tombstone *t = &c->tombs[(c->tomb_head + c->n_tombs) % cap];
    t->name = xstrdup(name);
    t->version = version;
    c->n_tombs++;
}

/* Runs a DELETE task now: the snapshot and its relay go. */
static void
task_run_delete(struct core *c, uint32_t ti, uint64_t now)
{
    struct task *t = &c->tasks[ti];
    struct vm *v = &c->vms[t->vm];
    if (c->sink.wrong_delete && v->node == t->node) {
        c->sink.wrong_delete(c->sink.aux, t->vm, t->node);
    }
    core_emit(c, INSTR_DELETE, t->node, t->vm, t->epoch, &t->snapshot, NIL,
              0, t->snap);
    struct migration *m = mig_get(c, t->migration);
    core_task_free(c, ti);
    if (m && m->delete_task == ti) {
        mig_cleaned(c, m, now);
    }
}

enum core_err
core_vm_remove(struct core *c, uint32_t vi, uint64_t now)
{
    if (!core_vm_valid(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    struct vm *v = &c->vms[vi];
    struct migration *m = mig_get(c, v->migration);
    if (m && m->pub.phase == MIG_PREPARED) {
        if (m->timeout_task != NIL) {
            core_task_free(c, m->timeout_task);
            m->timeout_task = NIL;
        }
        m->pub.relaying_ms = now;
    }
    /* Every pending snapshot goes now: the VM no longer exists. */
    while (v->task_head != NIL) {
        uint32_t ti = v->task_head;
        struct task *t = &c->tasks[ti];
        if (t->kind == TASK_DELETE) {
            task_run_delete(c, ti, now);
        } else {
            core_task_free(c, ti);
        }
        v = &c->vms[vi];
    }
    core_emit(c, INSTR_DELETE, v->node, vi, v->epoch, &v->config, NIL, 0,
              core_vm_binding(c, vi));
    core_binding_drop(c, vi);
    vm_unlink_node(c, vi);
    uint32_t node = v->node;
    chg_unlink(c, vi);
    uint64_t version = ++c->map_version;
    tombstone_add(c, v->name, version);
    strmap_remove(&c->vm_index, v->name);
    persist_vm_del(c, v->name);
    persist_meta(c);
    if (c->sink.map_change) {
        c->sink.map_change(c->sink.aux, vi, node, true, version);
    }
    free(v->name);
    memset(v, 0, sizeof *v);
    v->node_next = c->vm_free;
    c->vm_free = vi;
    c->live_vms--;
    struct node *n = &c->nodes[node];
    if (n->gone && n->n_vms == 0 && n->n_tasks == 0) {
        node_free_slot(c, node);
    }
    return CORE_E_OK;
}

uint32_t
core_vm_find(const struct core *c, const char *name)
{
    return name ? strmap_find(&c->vm_index, name) : CORE_NONE;
}

size_t
core_n_vms(const struct core *c)
{
    return c->n_vms;
}

bool
core_vm_valid(const struct core *c, uint32_t i)
{
    return i < c->n_vms && c->vms[i].name;
}

bool
core_vm_info(const struct core *c, uint32_t i, struct core_vm_info *out)
{
    if (!core_vm_valid(c, i)) {
        return false;
    }
    const struct vm *v = &c->vms[i];
    out->name = v->name;
    out->config = v->config;
    out->node = v->node;
    out->epoch = v->epoch;
    out->map_version = v->map_version;
    out->migration = v->migration;
    out->n_tasks = 0;
    for (uint32_t t = v->task_head; t != NIL; t = c->tasks[t].vm_next) {
        out->n_tasks++;
    }
    return true;
}

enum core_err
core_migrate_check(const struct core *c, uint32_t vi, uint32_t from,
                   uint32_t to)
{
    if (!core_vm_valid(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    if (!core_node_valid(c, to)
        || (from != CORE_NONE && !core_node_valid(c, from))) {
        return CORE_E_UNKNOWN_NODE;
    }
    const struct vm *v = &c->vms[vi];
    uint32_t src = v->node;
    if (c->nodes[src].gone || c->nodes[to].gone) {
        return CORE_E_NODE_GONE;
    }
    if (from != CORE_NONE && from != src) {
        return CORE_E_WRONG_SOURCE;
    }
    if (to == src) {
        return CORE_E_SAME_NODE;
    }
    if (v->migration && v->migration <= c->n_migs
        && c->migs[v->migration - 1].pub.phase == MIG_PREPARED) {
        return CORE_E_IN_PROGRESS;
    }
    return CORE_E_OK;
}

enum core_err
core_migrate(struct core *c, uint32_t vi, uint32_t from, uint32_t to,
             uint64_t now, struct core_migrate_result *res)
{
    /* Validate everything before touching anything. */
    enum core_err err = core_migrate_check(c, vi, from, to);
    if (err) {
        return err;
    }
    struct vm *v = &c->vms[vi];
    uint32_t src = v->node;

    /* Step 1: snapshot what is installed on the source, binding
     * included. */
    struct mn_config snapshot = v->config;
    struct binding *snap_binding = core_binding_snapshot(c, vi);
    uint64_t old_epoch = v->epoch;
    uint64_t new_epoch = old_epoch + 1;

    c->migs = xgrow(c->migs, &c->migs_cap, c->n_migs + 1, sizeof *c->migs);
    struct migration *m = &c->migs[c->n_migs++];
    memset(m, 0, sizeof *m);
    m->pub.id = c->n_migs;
    m->pub.vm = vi;
    m->pub.src = src;
    m->pub.dst = to;
    m->pub.epoch = new_epoch;
    m->pub.phase = MIG_PREPARED;
    m->pub.started_ms = now;
    m->timeout_task = m->delete_task = NIL;
    c->stats.migrations_by_phase[MIG_PREPARED]++;

    /* I4: a snapshot still pending on the destination is deleted first, so
     * it can never remove the placement we are about to install. */
    if (c->cfg.pending_check) {
        uint32_t ti = v->task_head;
        while (ti != NIL) {
            uint32_t next = c->tasks[ti].vm_next;
            struct task *t = &c->tasks[ti];
            if (t->node == to && t->kind == TASK_DELETE) {
                c->stats.tasks_cancelled++;
                task_run_delete(c, ti, now);
                v = &c->vms[vi];
                m = &c->migs[c->n_migs - 1];
            }
            ti = next;
        }
    }

    /* Step 2: install on the destination. */
    v->epoch = new_epoch;
    v->migration = m->pub.id;
    vm_unlink_node(c, vi);
    v->node = to;
    vm_link_node(c, vi);
    core_binding_follow(c, vi);
    v = &c->vms[vi];
    core_emit(c, INSTR_INSTALL, to, vi, new_epoch, &v->config, NIL, 0,
              core_vm_binding(c, vi));
    m->dst_seq = c->nodes[to].last_seq;
    node_wait(c, to, m->dst_seq, m->pub.id);

    /* Step 3: the gateway moves the entry. */
    core_gateway_touch(c, vi);
    m->pub.map_version = v->map_version;

    /* Step 4: relay on the source. */
    if (c->cfg.relay) {
        core_emit(c, INSTR_RELAY, src, vi, old_epoch, &snapshot, to,
                  new_epoch, snap_binding);
        m->src_seq = c->nodes[src].last_seq;
        node_wait(c, src, m->src_seq, m->pub.id);
    } else {
        m->src_acked = true;
    }

    /* I5: every older relay still pending now points at the newest node. */
    if (c->cfg.retarget) {
        for (uint32_t ti = v->task_head; ti != NIL;
             ti = c->tasks[ti].vm_next) {
            struct task *t = &c->tasks[ti];
            if (t->kind != TASK_DELETE || t->target == to) {
                continue;
            }
            t->target = to;
            t->target_epoch = new_epoch;
            c->stats.relays_retargeted++;
            core_persist_task(c, ti);
            core_emit(c, INSTR_RELAY, t->node, vi, t->epoch, &t->snapshot,
                      to, new_epoch, t->snap);
        }
    }

    /* The deletion task exists from now on (so a crash cannot lose it);
     * it is scheduled when the migration reaches RELAYING. */
    uint32_t di = core_task_alloc(c);
    struct task *d = &c->tasks[di];
    d->id = c->next_task_id++;
    d->kind = TASK_DELETE;
    d->vm = vi;
    d->node = src;
    d->epoch = old_epoch;
    d->snapshot = snapshot;
    d->snap = snap_binding;
    d->migration = m->pub.id;
    d->need_version = m->pub.map_version;
    d->target = c->cfg.relay ? to : NIL;
    d->target_epoch = new_epoch;
    d->due = UINT64_MAX;
    m->delete_task = di;
    {
        /* Linked like any task, but outside the heaps until RELAYING. */
        struct vm *vv = &c->vms[vi];
        d->vm_next = vv->task_head;
        if (vv->task_head != NIL) {
            c->tasks[vv->task_head].vm_prev = di;
        }
        vv->task_head = di;
        c->nodes[src].n_tasks++;
        c->live_tasks++;
        core_persist_task(c, di);
    }

    uint32_t ti = core_task_alloc(c);
    struct task *to_task = &c->tasks[ti];
    to_task->id = c->next_task_id++;
    to_task->kind = TASK_PREPARE_TIMEOUT;
    to_task->vm = vi;
    to_task->node = to;
    to_task->epoch = new_epoch;
    to_task->migration = m->pub.id;
    to_task->due = now + c->cfg.prepare_timeout_ms;
    m->timeout_task = ti;
    core_task_link(c, ti);

    core_persist_vm(c, vi);
    persist_mig(c, m);
    persist_meta(c);
    if (c->sink.migration) {
        c->sink.migration(c->sink.aux, &m->pub);
    }
    if (res) {
        res->migration = m->pub.id;
        res->epoch = new_epoch;
        res->delay_ms = core_delay_ms(c);
    }
    /* With no relay to wait for, the destination may already be enough. */
    if (m->dst_acked && m->src_acked) {
        mig_relaying(c, m, now);
    }
    return CORE_E_OK;
}

bool
core_migration_get(const struct core *c, uint64_t id,
                   struct core_migration *out)
{
    if (id < 1 || id > c->n_migs) {
        return false;
    }
    *out = c->migs[id - 1].pub;
    return true;
}

uint64_t
core_n_migrations(const struct core *c)
{
    return c->n_migs;
}

enum core_err
core_node_report(struct core *c, uint32_t ni, uint32_t vi, uint64_t epoch)
{
    if (!core_node_valid(c, ni)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (!core_vm_valid(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    const struct vm *v = &c->vms[vi];
    uint64_t desired = 0;
    if (v->node == ni) {
        desired = v->epoch;
    }
    for (uint32_t ti = v->task_head; ti != NIL; ti = c->tasks[ti].vm_next) {
        const struct task *t = &c->tasks[ti];
        if (t->kind == TASK_DELETE && t->node == ni && t->epoch > desired) {
            desired = t->epoch;
        }
    }
    if (epoch > v->epoch) {
        return CORE_E_BAD_VALUE;
    }
    return epoch < desired ? CORE_E_STALE_EPOCH : CORE_E_OK;
}

enum core_err
core_node_resync(struct core *c, uint32_t ni, uint64_t now)
{
    if (!core_node_valid(c, ni)) {
        return CORE_E_UNKNOWN_NODE;
    }
    for (size_t ti = 0; ti < c->n_task_slots; ti++) {
        const struct task *t = &c->tasks[ti];
        if (!t->live || t->kind != TASK_DELETE || t->node != ni) {
            continue;
        }
        struct task copy = *t;
        core_emit(c, INSTR_INSTALL, ni, copy.vm, copy.epoch, &copy.snapshot,
                  NIL, 0, copy.snap);
        if (copy.target != NIL) {
            core_emit(c, INSTR_RELAY, ni, copy.vm, copy.epoch,
                      &copy.snapshot, copy.target, copy.target_epoch,
                      copy.snap);
        }
    }
    for (uint32_t vi = c->nodes[ni].vm_head; vi != NIL;
         vi = c->vms[vi].node_next) {
        const struct vm *v = &c->vms[vi];
        core_emit(c, INSTR_INSTALL, ni, vi, v->epoch, &v->config, NIL, 0,
                  core_vm_binding(c, vi));
    }
    (void) now;
    return CORE_E_OK;
}

/* ---- Time ---- */

void
core_run(struct core *c, uint64_t now)
{
    while (!heap_is_empty(&c->due_heap)) {
        uint32_t ti = heap_top(&c->due_heap);
        struct task *t = &c->tasks[ti];
        if (t->due > now) {
            break;
        }
        c->stats.tasks_fired++;
        if (t->kind == TASK_DELETE) {
            task_run_delete(c, ti, now);
        } else if (t->kind == TASK_LEASE) {
            core_lease_run(c, ti, now);
        } else {
            struct migration *m = mig_get(c, t->migration);
            c->stats.prepare_timeouts++;
            core_task_free(c, ti);
            if (m) {
                m->timeout_task = NIL;
                if (m->pub.phase == MIG_PREPARED) {
                    mig_relaying(c, m, now);
                }
            }
        }
    }
}

uint64_t
core_next_due(const struct core *c)
{
    return heap_is_empty(&c->due_heap)
               ? UINT64_MAX
               : c->tasks[heap_top(&c->due_heap)].due;
}

size_t
core_n_tasks(const struct core *c)
{
    return c->live_tasks;
}

void
core_tasks_walk(const struct core *c,
                bool (*cb)(void *, const struct core_task_info *), void *aux)
{
    for (size_t i = 0; i < c->n_task_slots; i++) {
        const struct task *t = &c->tasks[i];
        if (!t->live) {
            continue;
        }
        struct core_task_info info = {
            .id = t->id,
            .kind = t->kind,
            .vm = t->vm,
            .node = t->node,
            .epoch = t->epoch,
            .due_ms = t->due,
            .migration = t->migration,
            .relay_target = t->target,
        };
        if (!cb(aux, &info)) {
            return;
        }
    }
}

/* ---- Gateway map ---- */

uint64_t
core_map_version(const struct core *c)
{
    return c->map_version;
}

static void
map_entry_of(const struct core *c, uint32_t vi, struct core_map_entry *e)
{
    const struct vm *v = &c->vms[vi];
    e->vm = v->name;
    e->node = c->nodes[v->node].name;
    e->address = c->nodes[v->node].address;
    e->config = v->config;
    e->epoch = v->epoch;
    e->version = v->map_version;
    e->removed = false;
}

bool
core_map_since(const struct core *c, uint64_t since,
               void (*cb)(void *, const struct core_map_entry *), void *aux)
{
    /* Start at the oldest VM changed after 'since' (walk back from the
     * newest change: the cost is the size of the answer). */
    uint32_t vi = c->chg_tail;
    if (since == 0) {
        vi = c->chg_head;
    } else {
        while (vi != NIL && c->vms[vi].chg_prev != NIL
               && c->vms[c->vms[vi].chg_prev].map_version > since) {
            vi = c->vms[vi].chg_prev;
        }
        if (vi != NIL && c->vms[vi].map_version <= since) {
            vi = NIL;
        }
    }
    size_t tomb = 0;
    if (since == 0) {
        tomb = c->n_tombs; /* a full map lists live entries only */
    } else {
        while (tomb < c->n_tombs
               && c->tombs[(c->tomb_head + tomb) % c->cfg.tombstones].version
                      <= since) {
            tomb++;
        }
    }
    while (vi != NIL || tomb < c->n_tombs) {
        const struct tombstone *t =
            tomb < c->n_tombs
                ? &c->tombs[(c->tomb_head + tomb) % c->cfg.tombstones]
                : NULL;
        struct core_map_entry e = {0};
        if (vi != NIL && (!t || c->vms[vi].map_version < t->version)) {
            map_entry_of(c, vi, &e);
            vi = c->vms[vi].chg_next;
        } else {
            e.vm = t->name;
            e.version = t->version;
            e.removed = true;
            tomb++;
        }
        cb(aux, &e);
    }
    return since == 0 || since >= c->tomb_horizon;
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
    b += strmap_memory(&c->node_index) + strmap_memory(&c->vm_index);
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
