/* pl_engine.c: incremental flow computation (see pl_engine.h).
 *
 * Every owner keeps the flows it produced ("contributions"), indexed by
 * flow key in one hash with every other owner's; the desired table holds,
 * per key, the contribution of the owner that ranks first (pipeline.h).
 * Recomputing an owner diffs its new flows against its contributions, and
 * only keys whose winning flow changed are touched and tracked. */
#include "agent/pl_engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/flowtab.h"
#include "lib/strmap.h"
#include "lib/util.h"
#include "mignet/binding.h"

enum owner_type { OWNER_INFRA, OWNER_KEY, OWNER_VM, OWNER_EXT };

struct contrib;

struct owner {
    enum owner_type type;
    uint32_t key;     /* OWNER_KEY */
    const char *name; /* OWNER_VM, OWNER_EXT */
    struct contrib **c; /* its flows */
    size_t n, cap;
    bool dirty;
    bool error; /* its last computation had an inexpressible flow */
};

struct contrib {
    struct contrib *next; /* in its hash bucket */
    uint32_t hash;
    struct owner *owner;
    size_t idx; /* in owner->c */
    struct flowtab_flow flow;
};

struct group;

struct evm {
    struct owner owner; /* first: an owner of type OWNER_VM is an evm */
    char *name;
    struct pl_vm view;
    struct binding binding;
    bool removed;
    size_t idx;           /* in engine->vms */
    struct group *group;  /* the key group it is a member of, or NULL */
    size_t member_idx;    /* in group->members */
    bool trusted;         /* counted in group->n_trusted */
};

/* An external owner (pl_engine_ext_dirty): flows the caller's hook
 * generates, e.g. one tenant flow of a virtual switch. */
struct eext {
    struct owner owner; /* first, as in evm */
    char *name;
    bool removed;
    size_t idx; /* in engine->exts */
};

struct group {
    struct owner owner; /* first, as in evm */
    struct evm **members;
    size_t n, cap;
    size_t n_trusted;
    size_t idx; /* in engine->groups */
};

struct pl_engine {
    struct pl_input opts; /* tunnel_port, dhcp_punt; no VMs */
    struct owner infra;
    struct evm **vms;
    size_t n_vms, cap_vms;
    struct strmap vm_index;
    struct group **groups;
    size_t n_groups, cap_groups;
    struct strmap group_index;
    struct eext **exts;
    size_t n_exts, cap_exts;
    struct strmap ext_index;
    pl_engine_ext_fn *ext_fn;
    void *ext_aux;
    struct owner **dirty;
    size_t n_dirty, cap_dirty;
    size_t dirty_next; /* a run under way: the dirty owners done so far */
    bool full; /* everything was marked dirty since the last run */
    /* Contributions by flow key. */
    struct contrib **buckets;
    size_t n_buckets, n_contribs;
    struct flowtab *desired, *tracked, *scratch;
    bool track_all; /* more than PL_TRACK_MAX changes: every key counts */
    size_t n_errors; /* owners with error set */
    char err[256];   /* the last owner error */
    struct pl_engine_stats stats;
};

static const char *
vm_name(const void *aux, uint32_t i)
{
    const struct pl_engine *e = aux;
    return e->vms[i]->name;
}

static const char *
ext_name(const void *aux, uint32_t i)
{
    const struct pl_engine *e = aux;
    return e->exts[i]->name;
}

static uint32_t
key_hash(uint32_t key)
{
    return hash_bytes(&key, sizeof key);
}

static bool
group_match(const void *aux, uint32_t i, const void *key)
{
    const struct pl_engine *e = aux;
    return e->groups[i]->owner.key == *(const uint32_t *) key;
}

struct pl_engine *
pl_engine_create(void)
{
    struct pl_engine *e = xcalloc(1, sizeof *e);
    e->infra.type = OWNER_INFRA;
    strmap_init(&e->vm_index, vm_name, e);
    strmap_init(&e->group_index, NULL, e);
    strmap_init(&e->ext_index, ext_name, e);
    e->n_buckets = 1024;
    e->buckets = xcalloc(e->n_buckets, sizeof *e->buckets);
    e->desired = flowtab_create();
    e->tracked = flowtab_create();
    e->scratch = flowtab_create();
    e->infra.dirty = true;
    e->dirty = xgrow(e->dirty, &e->cap_dirty, 1, sizeof *e->dirty);
    e->dirty[e->n_dirty++] = &e->infra;
    return e;
}

static void
owner_free_contribs(struct owner *o)
{
    for (size_t i = 0; i < o->n; i++) {
        ofp_instructions_destroy(&o->c[i]->flow.insts);
        free(o->c[i]);
    }
    free(o->c);
}

void
pl_engine_destroy(struct pl_engine *e)
{
    if (!e) {
        return;
    }
    owner_free_contribs(&e->infra);
    for (size_t i = 0; i < e->n_vms; i++) {
        owner_free_contribs(&e->vms[i]->owner);
        free(e->vms[i]->name);
        free(e->vms[i]);
    }
    for (size_t i = 0; i < e->n_groups; i++) {
        owner_free_contribs(&e->groups[i]->owner);
        free(e->groups[i]->members);
        free(e->groups[i]);
    }
    for (size_t i = 0; i < e->n_exts; i++) {
        owner_free_contribs(&e->exts[i]->owner);
        free(e->exts[i]->name);
        free(e->exts[i]);
    }
    free(e->exts);
    strmap_destroy(&e->ext_index);
    free(e->vms);
    free(e->groups);
    free(e->dirty);
    strmap_destroy(&e->vm_index);
    strmap_destroy(&e->group_index);
    free(e->buckets);
    flowtab_destroy(e->desired);
    flowtab_destroy(e->tracked);
    flowtab_destroy(e->scratch);
    free(e);
}

static void
mark_dirty(struct pl_engine *e, struct owner *o)
{
    if (!o->dirty) {
        o->dirty = true;
        e->dirty = xgrow(e->dirty, &e->cap_dirty, e->n_dirty + 1,
                         sizeof *e->dirty);
        e->dirty[e->n_dirty++] = o;
    }
}

void
pl_engine_recompute_all(struct pl_engine *e)
{
    e->full = true;
    mark_dirty(e, &e->infra);
    for (size_t i = 0; i < e->n_vms; i++) {
        mark_dirty(e, &e->vms[i]->owner);
    }
    for (size_t i = 0; i < e->n_groups; i++) {
        mark_dirty(e, &e->groups[i]->owner);
    }
    for (size_t i = 0; i < e->n_exts; i++) {
        mark_dirty(e, &e->exts[i]->owner);
    }
}

void
pl_engine_set_options(struct pl_engine *e, uint32_t tunnel_port,
                      bool dhcp_punt)
{
    if (e->opts.tunnel_port != tunnel_port || e->opts.dhcp_punt != dhcp_punt) {
        e->opts.tunnel_port = tunnel_port;
        e->opts.dhcp_punt = dhcp_punt;
        pl_engine_recompute_all(e);
    }
}

/* ---- Key groups ---- */

static struct group *
group_get(struct pl_engine *e, uint32_t key)
{
    uint32_t i = strmap_find_keyed(&e->group_index, key_hash(key),
                                   group_match, &key);
    if (i != STRMAP_NONE) {
        return e->groups[i];
    }
    struct group *g = xcalloc(1, sizeof *g);
    g->owner.type = OWNER_KEY;
    g->owner.key = key;
    g->idx = e->n_groups;
    e->groups = xgrow(e->groups, &e->cap_groups, e->n_groups + 1,
                      sizeof *e->groups);
    e->groups[e->n_groups++] = g;
    strmap_insert_keyed(&e->group_index, key_hash(key), (uint32_t) g->idx);
    return g;
}

static void
group_leave(struct pl_engine *e, struct evm *v)
{
    struct group *g = v->group;
    if (!g) {
        return;
    }
    size_t last = g->n - 1;
    if (v->member_idx != last) {
        g->members[v->member_idx] = g->members[last];
        g->members[v->member_idx]->member_idx = v->member_idx;
    }
    g->n--;
    g->n_trusted -= v->trusted;
    v->group = NULL;
    v->trusted = false;
    mark_dirty(e, &g->owner);
}

static void
group_join(struct pl_engine *e, struct evm *v)
{
    struct group *g = group_get(e, pl_key(&v->view.config));
    g->members = xgrow(g->members, &g->cap, g->n + 1, sizeof *g->members);
    v->member_idx = g->n;
    g->members[g->n++] = v;
    v->group = g;
    v->trusted = pl_trusted(&v->view);
    g->n_trusted += v->trusted;
    mark_dirty(e, &g->owner);
}

/* After its last member left and its flows went. */
static void
group_free(struct pl_engine *e, struct group *g)
{
    uint32_t key = g->owner.key;
    strmap_remove_keyed(&e->group_index, key_hash(key), group_match, &key);
    size_t last = e->n_groups - 1;
    if (g->idx != last) {
        struct group *m = e->groups[last];
        strmap_remove_keyed(&e->group_index, key_hash(m->owner.key),
                            group_match, &m->owner.key);
        e->groups[g->idx] = m;
        m->idx = g->idx;
        strmap_insert_keyed(&e->group_index, key_hash(m->owner.key),
                            (uint32_t) m->idx);
    }
    e->n_groups--;
    free(g->owner.c);
    free(g->members);
    free(g);
}

/* ---- VMs ---- */

static struct evm *
vm_find(const struct pl_engine *e, const char *name)
{
    uint32_t i = strmap_find(&e->vm_index, name);
    return i == STRMAP_NONE ? NULL : e->vms[i];
}

void
pl_engine_set_vm(struct pl_engine *e, const struct pl_vm *in)
{
    struct evm *v = vm_find(e, in->vm);
    if (!v) {
        v = xcalloc(1, sizeof *v);
        v->owner.type = OWNER_VM;
        v->name = xstrdup(in->vm);
        v->owner.name = v->name;
        v->idx = e->n_vms;
        e->vms = xgrow(e->vms, &e->cap_vms, e->n_vms + 1, sizeof *e->vms);
        e->vms[e->n_vms++] = v;
        strmap_insert(&e->vm_index, v->name, (uint32_t) v->idx);
    }
    group_leave(e, v);
    v->removed = false;
    v->view = *in;
    v->view.vm = v->name;
    if (in->binding) {
        v->binding = *in->binding;
        v->view.binding = &v->binding;
    }
    if (pl_key_member(&v->view)) {
        group_join(e, v);
    }
    mark_dirty(e, &v->owner);
}

void
pl_engine_remove_vm(struct pl_engine *e, const char *name)
{
    struct evm *v = vm_find(e, name);
    if (v && !v->removed) {
        group_leave(e, v);
        v->removed = true;
        mark_dirty(e, &v->owner);
    }
}

bool
pl_engine_has_vm(const struct pl_engine *e, const char *name)
{
    const struct evm *v = vm_find(e, name);
    return v && !v->removed;
}

size_t
pl_engine_n_vms(const struct pl_engine *e)
{
    return e->n_vms;
}

const struct pl_vm *
pl_engine_vm(const struct pl_engine *e, size_t i)
{
    return i < e->n_vms ? &e->vms[i]->view : NULL;
}

/* After a removed VM's flows went. */
static void
vm_free(struct pl_engine *e, struct evm *v)
{
    strmap_remove(&e->vm_index, v->name);
    size_t last = e->n_vms - 1;
    if (v->idx != last) {
        struct evm *m = e->vms[last];
        strmap_remove(&e->vm_index, m->name);
        e->vms[v->idx] = m;
        m->idx = v->idx;
        strmap_insert(&e->vm_index, m->name, (uint32_t) m->idx);
    }
    e->n_vms--;
    free(v->owner.c);
    free(v->name);
    free(v);
}

const struct pl_vm *
pl_engine_find_vm(const struct pl_engine *e, const char *name)
{
    const struct evm *v = vm_find(e, name);
    return v && !v->removed ? &v->view : NULL;
}

/* ---- External owners ---- */

void
pl_engine_set_ext(struct pl_engine *e, pl_engine_ext_fn *fn, void *aux)
{
    e->ext_fn = fn;
    e->ext_aux = aux;
}

static struct eext *
ext_find(const struct pl_engine *e, const char *name)
{
    uint32_t i = strmap_find(&e->ext_index, name);
    return i == STRMAP_NONE ? NULL : e->exts[i];
}

void
pl_engine_ext_dirty(struct pl_engine *e, const char *name)
{
    struct eext *x = ext_find(e, name);
    if (!x) {
        x = xcalloc(1, sizeof *x);
        x->owner.type = OWNER_EXT;
        x->name = xstrdup(name);
        x->owner.name = x->name;
        x->idx = e->n_exts;
        e->exts = xgrow(e->exts, &e->cap_exts, e->n_exts + 1,
                        sizeof *e->exts);
        e->exts[e->n_exts++] = x;
        strmap_insert(&e->ext_index, x->name, (uint32_t) x->idx);
    }
    x->removed = false;
    mark_dirty(e, &x->owner);
}

void
pl_engine_ext_remove(struct pl_engine *e, const char *name)
{
    struct eext *x = ext_find(e, name);
    if (x && !x->removed) {
        x->removed = true;
        mark_dirty(e, &x->owner);
    }
}

size_t
pl_engine_n_exts(const struct pl_engine *e)
{
    return e->n_exts;
}

/* After a removed external owner's flows went. */
static void
ext_free(struct pl_engine *e, struct eext *x)
{
    strmap_remove(&e->ext_index, x->name);
    size_t last = e->n_exts - 1;
    if (x->idx != last) {
        struct eext *m = e->exts[last];
        strmap_remove(&e->ext_index, m->name);
        e->exts[x->idx] = m;
        m->idx = x->idx;
        strmap_insert(&e->ext_index, m->name, (uint32_t) m->idx);
    }
    e->n_exts--;
    free(x->owner.c);
    free(x->name);
    free(x);
}

/* ---- The desired table ---- */

/* pipeline.h's rank of owners: infrastructure, key groups by key, VMs by
 * name; then external owners by name. */
static int
owner_cmp(const struct owner *a, const struct owner *b)
{
    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }
    switch (a->type) {
    case OWNER_KEY:
        return a->key < b->key ? -1 : a->key > b->key;
    case OWNER_VM:
    case OWNER_EXT:
        return strcmp(a->name, b->name);
    case OWNER_INFRA:
    default:
        return 0;
    }
}

static bool
same_key(const struct flowtab_flow *a, const struct flowtab_flow *b)
{
    return a->table == b->table && a->priority == b->priority
           && ofp_match_equal(&a->match, &b->match);
}

/* Past this many changed keys (a full build) the keys are no longer
 * recorded: a whole-table diff then costs no more than the changes, and
 * the agent does not hold a third copy of every flow's match. */
#define PL_TRACK_MAX 4096

static void
track(struct pl_engine *e, const struct flowtab_flow *f)
{
    e->stats.changes++;
    if (e->track_all) {
        return;
    }
    if (flowtab_count(e->tracked) >= PL_TRACK_MAX) {
        e->track_all = true;
        flowtab_destroy(e->tracked); /* its nodes and buckets */
        e->tracked = flowtab_create();
        return;
    }
    struct flowtab_flow k = {
        .table = f->table,
        .priority = f->priority,
        .match = f->match,
    };
    ofp_instructions_init(&k.insts);
    flowtab_put(e->tracked, &k);
}

/* The key of 'f' (hash 'h') gained, lost or changed a contribution: the
 * desired table takes the first-ranked owner's flow for it. */
static void
touch(struct pl_engine *e, uint32_t h, const struct flowtab_flow *f)
{
    const struct contrib *best = NULL;
    for (const struct contrib *c = e->buckets[h & (e->n_buckets - 1)]; c;
         c = c->next) {
        if (c->hash == h && same_key(&c->flow, f)
            && (!best || owner_cmp(c->owner, best->owner) < 0)) {
            best = c;
        }
    }
    const struct flowtab_flow *cur =
        flowtab_find(e->desired, f->table, f->priority, &f->match);
    if (best) {
        if (!cur || !flowtab_flow_same(cur, &best->flow)) {
            flowtab_put(e->desired, &best->flow);
            track(e, f);
        }
    } else if (cur) {
        track(e, f);
        flowtab_remove(e->desired, f->table, f->priority, &f->match);
    }
}

static void
grow_buckets_to(struct pl_engine *e, size_t nb)
{
    struct contrib **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < e->n_buckets; i++) {
        struct contrib *c = e->buckets[i];
        while (c) {
            struct contrib *next = c->next;
            c->next = b[c->hash & (nb - 1)];
            b[c->hash & (nb - 1)] = c;
            c = next;
        }
    }
    free(e->buckets);
    e->buckets = b;
    e->n_buckets = nb;
}

static void
grow_buckets(struct pl_engine *e)
{
    grow_buckets_to(e, e->n_buckets * 2);
}

void
pl_engine_reserve(struct pl_engine *e, size_t flows)
{
    size_t nb = e->n_buckets;
    while (nb < flows && nb < SIZE_MAX / 2) {
        nb *= 2;
    }
    if (nb != e->n_buckets) {
        grow_buckets_to(e, nb);
    }
    flowtab_reserve(e->desired, flows);
}

struct add_ctx {
    struct pl_engine *e;
    struct owner *o;
};

/* flowtab_walk callback: a flow of the recomputed owner it did not have. */
static void
contrib_add(void *aux, const struct flowtab_flow *f)
{
    struct add_ctx *ctx = aux;
    struct pl_engine *e = ctx->e;
    struct owner *o = ctx->o;
    if (e->n_contribs >= e->n_buckets) {
        grow_buckets(e);
    }
    struct contrib *c = xmalloc(sizeof *c);
    c->hash = flowtab_hash(f->table, f->priority, &f->match);
    c->owner = o;
    c->flow = *f;
    ofp_instructions_init(&c->flow.insts);
    ofp_instructions_copy(&c->flow.insts, &f->insts);
    c->next = e->buckets[c->hash & (e->n_buckets - 1)];
    e->buckets[c->hash & (e->n_buckets - 1)] = c;
    e->n_contribs++;
    o->c = xgrow(o->c, &o->cap, o->n + 1, sizeof *o->c);
    c->idx = o->n;
    o->c[o->n++] = c;
    touch(e, c->hash, &c->flow);
}

/* Drops contribution 'c' of its owner. */
static void
contrib_remove(struct pl_engine *e, struct contrib *c)
{
    for (struct contrib **p = &e->buckets[c->hash & (e->n_buckets - 1)];
         *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    e->n_contribs--;
    struct owner *o = c->owner;
    size_t last = o->n - 1;
    if (c->idx != last) {
        o->c[c->idx] = o->c[last];
        o->c[c->idx]->idx = c->idx;
    }
    o->n--;
    touch(e, c->hash, &c->flow);
    ofp_instructions_destroy(&c->flow.insts);
    free(c);
}

/* qsort: key group members as pipeline.h orders them. */
static int
member_cmp(const void *a_, const void *b_)
{
    const struct pl_vm *const *a = a_, *const *b = b_;
    return pl_vm_cmp(*a, *b);
}

/* 'o''s flows as they are now, into the scratch table. */
static int
generate(struct pl_engine *e, struct owner *o, char *err, size_t err_size)
{
    switch (o->type) {
    case OWNER_INFRA:
        return pipeline_infra(&e->opts, e->scratch, err, err_size);
    case OWNER_VM: {
        struct evm *v = (struct evm *) o;
        return v->removed ? 0 : pipeline_vm(&e->opts, &v->view, e->scratch,
                                            err, err_size);
    }
    case OWNER_EXT: {
        struct eext *x = (struct eext *) o;
        return x->removed || !e->ext_fn
                   ? 0
                   : e->ext_fn(e->ext_aux, x->name, e->scratch, err,
                               err_size);
    }
    case OWNER_KEY: {
        struct group *g = (struct group *) o;
        if (!g->n_trusted) {
            return 0; /* no server port: no broadcast flows */
        }
        const struct pl_vm **m = xcalloc(g->n, sizeof *m);
        for (size_t i = 0; i < g->n; i++) {
            m[i] = &g->members[i]->view;
        }
        qsort(m, g->n, sizeof *m, member_cmp);
        int error = pipeline_key(&e->opts, o->key, m, g->n, e->scratch, err,
                                 err_size);
        free(m);
        return error;
    }
    default:
        return 0;
    }
}

/* Recomputes owner 'o' and applies the difference to the desired table. */
static void
recompute(struct pl_engine *e, struct owner *o)
{
    char err[sizeof e->err];
    flowtab_clear(e->scratch);
    int error = generate(e, o, err, sizeof err);
    if (error && !o->error) {
        e->n_errors++;
    } else if (!error && o->error) {
        e->n_errors--;
    }
    o->error = error != 0;
    if (error) {
        snprintf(e->err, sizeof e->err, "%s", err);
    }
    /* Old flows: gone, changed or the same; what is left in the scratch
     * table afterwards is new. */
    for (size_t i = o->n; i-- > 0;) {
        struct contrib *c = o->c[i];
        const struct flowtab_flow *nf = flowtab_find(
            e->scratch, c->flow.table, c->flow.priority, &c->flow.match);
        if (!nf) {
            contrib_remove(e, c);
            continue;
        }
        if (!flowtab_flow_same(&c->flow, nf)) {
            c->flow.cookie = nf->cookie;
            ofp_instructions_copy(&c->flow.insts, &nf->insts);
            touch(e, c->hash, &c->flow);
        }
        flowtab_remove(e->scratch, c->flow.table, c->flow.priority,
                       &c->flow.match);
    }
    struct add_ctx ctx = {e, o};
    flowtab_walk(e->scratch, contrib_add, &ctx);
}

int
pl_engine_run_some(struct pl_engine *e, size_t *budget, char *err,
                   size_t err_size)
{
    if (!e->dirty_next) {
        e->stats.runs++;
        e->stats.full += e->full;
        e->full = false;
    }
    /* Recomputing only reads the inputs; an owner marked between two
     * slices joins the end of the list and this run. */
    while (e->dirty_next < e->n_dirty) {
        if (!*budget) {
            return EAGAIN;
        }
        --*budget;
        struct owner *o = e->dirty[e->dirty_next++];
        o->dirty = false;
        recompute(e, o);
        if (o->type == OWNER_VM) {
            e->stats.vms++;
            struct evm *v = (struct evm *) o;
            if (v->removed) {
                vm_free(e, v);
            }
        } else if (o->type == OWNER_EXT) {
            e->stats.exts++;
            struct eext *x = (struct eext *) o;
            if (x->removed) {
                ext_free(e, x);
            }
        } else if (o->type == OWNER_KEY) {
            e->stats.keys++;
            struct group *g = (struct group *) o;
            if (!g->n) {
                group_free(e, g);
            }
        }
    }
    e->n_dirty = 0;
    e->dirty_next = 0;
    if (e->n_errors) {
        if (err && err_size) {
            snprintf(err, err_size, "%s", e->err);
        }
        return EMSGSIZE;
    }
    return 0;
}

int
pl_engine_run(struct pl_engine *e, char *err, size_t err_size)
{
    size_t budget = SIZE_MAX;
    return pl_engine_run_some(e, &budget, err, err_size);
}

const struct flowtab *
pl_engine_desired(const struct pl_engine *e)
{
    return e->desired;
}

const struct flowtab *
pl_engine_tracked(const struct pl_engine *e)
{
    return e->track_all ? NULL : e->tracked;
}

void
pl_engine_clear_tracked(struct pl_engine *e)
{
    flowtab_clear(e->tracked); /* never above PL_TRACK_MAX keys */
    e->track_all = false;
}

void
pl_engine_get_stats(const struct pl_engine *e, struct pl_engine_stats *out)
{
    *out = e->stats;
}
