/* store_mem.c: the in-memory backend of the durable store interface.
 *
 * It keeps the latest record per key, in the order each key was first
 * written, so that tests and the simulator can reload a core exactly as
 * mignetd reloads one from SQLite.  It never keeps a pointer the caller
 * gave it: every string is copied into the entry that holds it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/store.h"

#define MEM_N_TYPES STORE_N_TYPES

/* One record; its strings (and byte records) live right after the
 * struct. */
struct mem_entry {
    struct mem_entry *next; /* hash chain */
    size_t pos;             /* index in the table's order list */
    uint64_t hash;
    struct store_rec rec;
    char strings[];
};

/* The records of one type: a chained hash for lookup and a list that keeps
 * first-write order for load().  Deleted entries leave NULL holes in the
 * list until there are more holes than records. */
struct mem_table {
    struct mem_entry **buckets;
    size_t n_buckets; /* power of two or 0 */
    size_t n_live;
    struct mem_entry **list;
    size_t n_list, cap_list;
};

struct store_mem {
    struct store up;
    struct mem_table tables[MEM_N_TYPES];
};

static struct store_mem *
store_mem_cast(const struct store *s)
{
    return (struct store_mem *) s;
}

static uint64_t
mem_hash_bytes(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t
mem_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* The key of 'r': a name for nodes, VMs and virtual switches, a number
 * otherwise. */
static const char *
mem_key_name(const struct store_rec *r)
{
    switch (r->type) {
    case STORE_NODE:
        return r->node.name;
    case STORE_VM:
        return r->vm.name;
    case STORE_VSWITCH:
        return r->vswitch.name;
    case STORE_META:
    case STORE_TASK:
    case STORE_MIGRATION:
    case STORE_BINDING:
    default:
        return NULL;
    }
}

static uint64_t
mem_key_id(const struct store_rec *r)
{
    switch (r->type) {
    case STORE_TASK:
        return r->task.id;
    case STORE_MIGRATION:
        return r->migration.id;
    case STORE_BINDING:
        return r->binding.id;
    case STORE_META:
    case STORE_NODE:
    case STORE_VM:
    case STORE_VSWITCH:
    default:
        return 0;
    }
}

static bool
mem_type_valid(enum store_rec_type t)
{
    return (unsigned) t < MEM_N_TYPES;
}

static uint64_t
mem_hash(const struct store_rec *r)
{
    const char *name = mem_key_name(r);
    return name ? mem_hash_bytes(name) : mem_hash_u64(mem_key_id(r));
}

static bool
mem_same_key(const struct store_rec *a, const struct store_rec *b)
{
    const char *na = mem_key_name(a);
    if (na) {
        return !strcmp(na, mem_key_name(b));
    }
    return mem_key_id(a) == mem_key_id(b);
}

/* Returns the address of the chain link that points at the entry with the
 * key of 'r', or at the chain's terminating NULL. */
static struct mem_entry **
mem_find_link(struct mem_table *t, const struct store_rec *r, uint64_t hash)
{
    struct mem_entry **link = &t->buckets[hash & (t->n_buckets - 1)];
    while (*link && !((*link)->hash == hash && mem_same_key(&(*link)->rec,
                                                             r))) {
        link = &(*link)->next;
    }
    return link;
}

static int
mem_grow_buckets(struct mem_table *t)
{
    size_t n = t->n_buckets ? t->n_buckets * 2 : 16;
    struct mem_entry **b = calloc(n, sizeof *b);
    if (!b) {
        return ENOMEM;
    }
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct mem_entry *e = t->buckets[i];
        while (e) {
            struct mem_entry *next = e->next;
            struct mem_entry **slot = &b[e->hash & (n - 1)];
            e->next = *slot;
            *slot = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
    return 0;
}

/* Drops the NULL holes from the order list. */
static void
mem_compact(struct mem_table *t)
{
    size_t j = 0;
    for (size_t i = 0; i < t->n_list; i++) {
        if (t->list[i]) {
            t->list[i]->pos = j;
            t->list[j++] = t->list[i];
        }
    }
    t->n_list = j;
}

static int
mem_list_append(struct mem_table *t, struct mem_entry *e)
{
    if (t->n_list == t->cap_list) {
        if (t->n_list > 2 * t->n_live + 16) {
            mem_compact(t);
        }
    }
    if (t->n_list == t->cap_list) {
        size_t cap = t->cap_list ? t->cap_list * 2 : 16;
        struct mem_entry **l = realloc(t->list, cap * sizeof *l);
        if (!l) {
            return ENOMEM;
        }
        t->list = l;
        t->cap_list = cap;
    }
    e->pos = t->n_list;
    t->list[t->n_list++] = e;
    return 0;
}

static size_t
mem_strsize(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copies 's' into '*area' and advances it; NULL stays NULL. */
static const char *
mem_strcopy(char **area, const char *s)
{
    if (!s) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *dst = *area;
    memcpy(dst, s, n);
    *area += n;
    return dst;
}

/* Copies 'len' bytes of 'p' into '*area' and advances it; NULL stays
 * NULL. */
static const void *
mem_bytescopy(char **area, const void *p, size_t len)
{
    if (!p) {
        return NULL;
    }
    char *dst = *area;
    memcpy(dst, p, len);
    *area += len;
    return dst;
}

/* A heap copy of 'r' that owns its strings. */
static struct mem_entry *
mem_entry_create(const struct store_rec *r, uint64_t hash)
{
    size_t extra = 0;
    switch (r->type) {
    case STORE_NODE:
        extra = mem_strsize(r->node.name) + mem_strsize(r->node.address)
                + mem_strsize(r->node.token_hash);
        break;
    case STORE_VM:
        extra = mem_strsize(r->vm.name) + mem_strsize(r->vm.node)
                + mem_strsize(r->vm.iface_id)
                + mem_strsize(r->vm.drain_target);
        break;
    case STORE_TASK:
        extra = mem_strsize(r->task.vm) + mem_strsize(r->task.node)
                + mem_strsize(r->task.relay_target)
                + (r->task.binding ? r->task.binding_len : 0);
        break;
    case STORE_BINDING:
        extra = r->binding.record ? r->binding.len : 0;
        break;
    case STORE_VSWITCH:
        extra = mem_strsize(r->vswitch.name) + r->vswitch.len;
        break;
    case STORE_MIGRATION:
        extra = mem_strsize(r->migration.vm) + mem_strsize(r->migration.src)
                + mem_strsize(r->migration.dst)
                + mem_strsize(r->migration.abort_reason);
        break;
    case STORE_META:
    default:
        break;
    }

    struct mem_entry *e = malloc(sizeof *e + extra);
    if (!e) {
        return NULL;
    }
    e->next = NULL;
    e->pos = 0;
    e->hash = hash;
    e->rec = *r;
    char *area = e->strings;
    switch (r->type) {
    case STORE_NODE:
        e->rec.node.name = mem_strcopy(&area, r->node.name);
        e->rec.node.address = mem_strcopy(&area, r->node.address);
        e->rec.node.token_hash = mem_strcopy(&area, r->node.token_hash);
        break;
    case STORE_VM:
        e->rec.vm.name = mem_strcopy(&area, r->vm.name);
        e->rec.vm.node = mem_strcopy(&area, r->vm.node);
        e->rec.vm.iface_id = mem_strcopy(&area, r->vm.iface_id);
        e->rec.vm.drain_target = mem_strcopy(&area, r->vm.drain_target);
        break;
    case STORE_TASK:
        e->rec.task.vm = mem_strcopy(&area, r->task.vm);
        e->rec.task.node = mem_strcopy(&area, r->task.node);
        e->rec.task.relay_target = mem_strcopy(&area, r->task.relay_target);
        e->rec.task.binding = mem_bytescopy(&area, r->task.binding,
                                            r->task.binding_len);
        break;
    case STORE_BINDING:
        e->rec.binding.record = mem_bytescopy(&area, r->binding.record,
                                              r->binding.len);
        break;
    case STORE_VSWITCH:
        e->rec.vswitch.name = mem_strcopy(&area, r->vswitch.name);
        e->rec.vswitch.record = mem_bytescopy(&area, r->vswitch.record,
                                              r->vswitch.len);
        break;
    case STORE_MIGRATION:
        e->rec.migration.vm = mem_strcopy(&area, r->migration.vm);
        e->rec.migration.src = mem_strcopy(&area, r->migration.src);
        e->rec.migration.dst = mem_strcopy(&area, r->migration.dst);
        e->rec.migration.abort_reason =
            mem_strcopy(&area, r->migration.abort_reason);
        break;
    case STORE_META:
    default:
        break;
    }
    return e;
}

/* What every backend refuses of a virtual switch: no name, and (unless
 * deleted) no record or one outside 1..STORE_VSWITCH_RECORD_MAX. */
static bool
mem_vswitch_valid(const struct store_rec *r)
{
    const struct store_vswitch_rec *v = &r->vswitch;
    return v->name && v->name[0]
           && (r->del
               || (v->record && v->len && v->len <= STORE_VSWITCH_RECORD_MAX));
}

static int
store_mem_put(struct store *s, const struct store_rec *r)
{
    struct store_mem *m = store_mem_cast(s);
    if (!r || !mem_type_valid(r->type)
        || ((r->type == STORE_NODE || r->type == STORE_VM)
            && !mem_key_name(r))
        || (r->type == STORE_VSWITCH && !mem_vswitch_valid(r))) {
        return EINVAL;
    }
    struct mem_table *t = &m->tables[r->type];
    if (!t->n_buckets && mem_grow_buckets(t)) {
        return ENOMEM;
    }

    uint64_t hash = mem_hash(r);
    struct mem_entry **link = mem_find_link(t, r, hash);
    struct mem_entry *old = *link;

    if (r->del) {
        if (old) {
            *link = old->next;
            t->list[old->pos] = NULL;
            t->n_live--;
            free(old);
        }
        return 0;
    }

    struct mem_entry *e = mem_entry_create(r, hash);
    if (!e) {
        return ENOMEM;
    }
    e->rec.del = false;
    if (old) {
        /* Same place in the chain and in the order list. */
        e->next = old->next;
        e->pos = old->pos;
        t->list[e->pos] = e;
        *link = e;
        free(old);
        return 0;
    }
    if (mem_list_append(t, e)) {
        free(e);
        return ENOMEM;
    }
    e->next = t->buckets[hash & (t->n_buckets - 1)];
    t->buckets[hash & (t->n_buckets - 1)] = e;
    t->n_live++;
    if (t->n_live > t->n_buckets) {
        /* A failed grow only makes chains longer. */
        (void) mem_grow_buckets(t);
    }
    return 0;
}

static int
store_mem_commit(struct store *s)
{
    (void) s;
    return 0;
}

static int
store_mem_load(struct store *s, int (*cb)(void *, const struct store_rec *),
               void *aux)
{
    static const enum store_rec_type order[] = {
        STORE_META,    STORE_NODE,      STORE_VM,   STORE_BINDING,
        STORE_VSWITCH, STORE_MIGRATION, STORE_TASK,
    };
    _Static_assert(sizeof order / sizeof order[0] == MEM_N_TYPES,
                   "every type in the load order");
    struct store_mem *m = store_mem_cast(s);
    for (size_t i = 0; i < MEM_N_TYPES; i++) {
        struct mem_table *t = &m->tables[order[i]];
        mem_compact(t);
        for (size_t j = 0; j < t->n_list; j++) {
            int err = cb(aux, &t->list[j]->rec);
            if (err) {
                return err;
            }
        }
    }
    return 0;
}

static void
store_mem_destroy(struct store *s)
{
    struct store_mem *m = store_mem_cast(s);
    for (size_t i = 0; i < MEM_N_TYPES; i++) {
        struct mem_table *t = &m->tables[i];
        for (size_t j = 0; j < t->n_list; j++) {
            free(t->list[j]);
        }
        free(t->list);
        free(t->buckets);
    }
    free(m);
}

static const struct store_ops store_mem_ops = {
    .put = store_mem_put,
    .commit = store_mem_commit,
    .load = store_mem_load,
    .destroy = store_mem_destroy,
};

struct store *
store_mem_create(void)
{
    struct store_mem *m = calloc(1, sizeof *m);
    if (!m) {
        return NULL;
    }
    m->up.ops = &store_mem_ops;
    return &m->up;
}

unsigned long
store_mem_count(const struct store *s, enum store_rec_type type)
{
    if (!s || !mem_type_valid(type)) {
        return 0;
    }
    return store_mem_cast(s)->tables[type].n_live;
}
