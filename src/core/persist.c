/* persist.c: the core's records for its durable store (I7).
 *
 * Every change the core makes is written here, as a whole record, before
 * the call that made it returns; the caller commits.  It must never write
 * while the core is replaying the store (core_load), and never decide
 * anything: what to write is the caller's business. */
#include "core/core-private.h"

static void
persist(struct core *c, const struct store_rec *r)
{
    if (c->store && !c->loading) {
        store_put(c->store, r);
    }
}

void
core_persist_meta(struct core *c)
{
    struct store_rec r = {.type = STORE_META};
    r.meta.map_version = c->map_version;
    r.meta.next_migration = c->n_migs + 1;
    r.meta.next_task = c->next_task_id;
    persist(c, &r);
}

void
core_persist_node(struct core *c, uint32_t i)
{
    const struct node *n = &c->nodes[i];
    struct store_rec r = {.type = STORE_NODE};
    r.node.name = n->name;
    r.node.address = n->address;
    r.node.refresh_ms = n->expected_refresh_ms;
    r.node.cordoned = n->cordoned;
    r.node.draining = n->draining;
    r.node.token_hash = n->token_hash;
    persist(c, &r);
}

void
core_persist_node_del(struct core *c, const char *name)
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
    r.vm.iface_id = v->iface_id;
    r.vm.drain_target = v->drain_target != NIL
                            ? c->nodes[v->drain_target].name
                            : NULL;
    persist(c, &r);
}

void
core_persist_vm_del(struct core *c, const char *name)
{
    struct store_rec r = {.type = STORE_VM, .del = true};
    r.vm.name = name;
    persist(c, &r);
}

/* The task record's binding snapshot, encoded; 0 bytes when none. */
static size_t
encode_snap(const struct task *t, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    if (!t->snap || binding_encode(t->snap, buf, cap, &len)) {
        return 0;
    }
    return len;
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
    size_t n = encode_snap(t, rec, sizeof rec);
    r.task.binding = n ? rec : NULL;
    r.task.binding_len = n;
    persist(c, &r);
}

void
core_persist_task_del(struct core *c, uint64_t id)
{
    struct store_rec r = {.type = STORE_TASK, .del = true};
    r.task.id = id;
    persist(c, &r);
}

void
core_persist_mig(struct core *c, const struct migration *m)
{
    struct store_rec r = {.type = STORE_MIGRATION};
    r.migration.id = m->pub.id;
    /* The names it started with: a finished migration may outlive its
     * VM and nodes. */
    r.migration.vm = m->pub.vm_name;
    r.migration.src = m->pub.src_name;
    r.migration.dst = m->pub.dst_name;
    r.migration.epoch = m->pub.epoch;
    r.migration.map_version = m->pub.map_version;
    r.migration.phase = m->pub.phase;
    r.migration.switchover = m->pub.switchover;
    r.migration.started_ms = m->pub.started_ms;
    r.migration.prepared_ms = m->pub.prepared_ms;
    r.migration.switched_ms = m->pub.switched_ms;
    r.migration.activated_ms = m->pub.activated_ms;
    r.migration.relaying_ms = m->pub.relaying_ms;
    r.migration.cleaning_ms = m->pub.cleaning_ms;
    r.migration.cleaned_ms = m->pub.cleaned_ms;
    r.migration.aborted_ms = m->pub.aborted_ms;
    r.migration.prepare_deadline_ms = m->pub.prepare_deadline_ms;
    r.migration.delay_ms = m->pub.delay_ms;
    r.migration.released_early = m->pub.released_early;
    r.migration.degraded = m->pub.degraded;
    r.migration.abort_reason = m->pub.abort_reason;
    persist(c, &r);
}

void
core_persist_binding(struct core *c, const struct binding *b)
{
    uint8_t rec[BINDING_RECORD_MAX];
    size_t len = 0;
    if (!c->store || c->loading
        || binding_encode(b, rec, sizeof rec, &len)) {
        return;
    }
    struct store_rec r = {.type = STORE_BINDING};
    r.binding.id = b->id;
    r.binding.record = rec;
    r.binding.len = len;
    store_put(c->store, &r);
}

void
core_persist_binding_del(struct core *c, uint32_t id)
{
    struct store_rec r = {.type = STORE_BINDING, .del = true};
    r.binding.id = id;
    persist(c, &r);
}
