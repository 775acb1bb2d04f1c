/* flowtab.c: flow sets and their difference (see flowtab.h).
 *
 * A chained hash keyed by (table, priority, match).  Each flow lives in
 * its own node, which owns the flow's action lists; a cleared table keeps
 * its nodes, storage included, so recomputing it allocates nothing. */
#include "agent/flowtab.h"

#include <stdlib.h>
#include <string.h>

#include "agent/pipeline.h"
#include "lib/util.h"

struct fnode {
    struct fnode *next;
    uint32_t hash;
    struct flowtab_flow flow;
};

struct flowtab {
    struct fnode **buckets;
    size_t n_buckets; /* power of two */
    size_t n;
    struct fnode *spare; /* nodes kept for reuse: recomputing a table
                          * every change allocates nothing */
};

static uint32_t
mix(uint32_t h, uint64_t v)
{
    h ^= (uint32_t) v;
    h *= 0x9e3779b1u;
    h ^= (uint32_t) (v >> 32);
    h *= 0x85ebca6bu;
    return h ^ (h >> 15);
}

uint32_t
flowtab_hash(uint8_t table, uint16_t priority, const struct ofp_match *m)
{
    uint32_t h = mix(0, ((uint64_t) table << 16) | priority);
    h = mix(h, ((uint64_t) m->present << 32) | m->masked);
    for (int f = 0; f < OFP_F_N; f++) {
        if (m->present & (UINT32_C(1) << f)) {
            h = mix(h, m->value[f]);
            h = mix(h, m->mask[f]);
        }
    }
    return h;
}

struct flowtab *
flowtab_create(void)
{
    struct flowtab *t = xcalloc(1, sizeof *t);
    t->n_buckets = 64;
    t->buckets = xcalloc(t->n_buckets, sizeof *t->buckets);
    return t;
}

void
flowtab_clear(struct flowtab *t)
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct fnode *n = t->buckets[i];
        while (n) {
            struct fnode *next = n->next;
            n->next = t->spare;
            t->spare = n;
            n = next;
        }
        t->buckets[i] = NULL;
    }
    t->n = 0;
}

void
flowtab_destroy(struct flowtab *t)
{
    if (t) {
        flowtab_clear(t);
        while (t->spare) {
            struct fnode *n = t->spare;
            t->spare = n->next;
            ofp_instructions_destroy(&n->flow.insts);
            free(n);
        }
        free(t->buckets);
        free(t);
    }
}

size_t
flowtab_count(const struct flowtab *t)
{
    return t->n;
}

static struct fnode *
lookup(const struct flowtab *t, uint32_t hash, uint8_t table,
       uint16_t priority, const struct ofp_match *m)
{
    for (struct fnode *n = t->buckets[hash & (t->n_buckets - 1)]; n;
         n = n->next) {
        if (n->hash == hash && n->flow.table == table
            && n->flow.priority == priority
            && ofp_match_equal(&n->flow.match, m)) {
            return n;
        }
    }
    return NULL;
}

const struct flowtab_flow *
flowtab_find(const struct flowtab *t, uint8_t table, uint16_t priority,
             const struct ofp_match *m)
{
    struct fnode *n = lookup(t, flowtab_hash(table, priority, m), table,
                             priority, m);
    return n ? &n->flow : NULL;
}

static void
grow_to(struct flowtab *t, size_t nb)
{
    struct fnode **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct fnode *n = t->buckets[i];
        while (n) {
            struct fnode *next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = nb;
}

static void
grow(struct flowtab *t)
{
    grow_to(t, t->n_buckets * 2);
}

void
flowtab_reserve(struct flowtab *t, size_t n)
{
    size_t nb = t->n_buckets;
    while (nb < n && nb < SIZE_MAX / 2) {
        nb *= 2;
    }
    if (nb != t->n_buckets) {
        grow_to(t, nb);
    }
}

/* 'dst' (an initialised flow) becomes a copy of 'src', reusing the action
 * storage 'dst' already owns. */
static void
copy_flow(struct flowtab_flow *dst, const struct flowtab_flow *src)
{
    dst->table = src->table;
    dst->priority = src->priority;
    dst->cookie = src->cookie;
    dst->match = src->match;
    ofp_instructions_copy(&dst->insts, &src->insts);
}

/* Inserts a copy of 'f', whose key (hash 'h') is not in 't'. */
static void
insert(struct flowtab *t, uint32_t h, const struct flowtab_flow *f)
{
    struct fnode *n;
    if (t->n >= t->n_buckets) {
        grow(t);
    }
    if (t->spare) {
        n = t->spare;
        t->spare = n->next;
    } else {
        n = xmalloc(sizeof *n);
        ofp_instructions_init(&n->flow.insts);
    }
    n->hash = h;
    copy_flow(&n->flow, f);
    n->next = t->buckets[h & (t->n_buckets - 1)];
    t->buckets[h & (t->n_buckets - 1)] = n;
    t->n++;
}

void
flowtab_put(struct flowtab *t, const struct flowtab_flow *f)
{
    uint32_t h = flowtab_hash(f->table, f->priority, &f->match);
    struct fnode *n = lookup(t, h, f->table, f->priority, &f->match);
    if (n) {
        copy_flow(&n->flow, f);
    } else {
        insert(t, h, f);
    }
}

bool
flowtab_put_new(struct flowtab *t, const struct flowtab_flow *f)
{
    uint32_t h = flowtab_hash(f->table, f->priority, &f->match);
    if (lookup(t, h, f->table, f->priority, &f->match)) {
        return false;
    }
    insert(t, h, f);
    return true;
}

/* Unlinks the node with that key (hash 'h') into the spares. */
static bool
remove_hashed(struct flowtab *t, uint32_t h, uint8_t table,
              uint16_t priority, const struct ofp_match *m)
{
    for (struct fnode **p = &t->buckets[h & (t->n_buckets - 1)]; *p;
         p = &(*p)->next) {
        struct fnode *n = *p;
        if (n->hash == h && n->flow.table == table
            && n->flow.priority == priority
            && ofp_match_equal(&n->flow.match, m)) {
            *p = n->next;
            n->next = t->spare;
            t->spare = n;
            t->n--;
            return true;
        }
    }
    return false;
}

bool
flowtab_remove(struct flowtab *t, uint8_t table, uint16_t priority,
               const struct ofp_match *m)
{
    return remove_hashed(t, flowtab_hash(table, priority, m), table,
                         priority, m);
}

bool
flowtab_flow_same(const struct flowtab_flow *a, const struct flowtab_flow *b)
{
    return a->cookie == b->cookie
           && ofp_instructions_equal(&a->insts, &b->insts);
}

void
flowtab_walk(const struct flowtab *t,
             void (*cb)(void *, const struct flowtab_flow *), void *aux)
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (struct fnode *n = t->buckets[i]; n; n = n->next) {
            cb(aux, &n->flow);
        }
    }
}

static void
put_flow_mod(struct ofpbuf *out, uint32_t *xid, uint8_t command,
             const struct flowtab_flow *f)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_FLOW_MOD, (*xid)++);
    struct ofp_flow_mod *fm = &msg.flow_mod;
    ofp_flow_mod_init(fm, command);
    fm->table_id = f->table;
    fm->priority = f->priority;
    fm->cookie = f->cookie;
    fm->match = f->match;
    if (command != OFPFC_DELETE_STRICT) {
        /* A read-only view of the node's lists: 'msg' is only encoded,
         * never destroyed. */
        fm->insts = f->insts;
    }
    if (command == OFPFC_ADD
        && (f->cookie & PL_COOKIE_KIND_MASK) == pl_cookie_kind(PL_K_RELAY)) {
        /* A relay flow reports its last counters when it is deleted, so
         * that every packet it carried is counted (agent_metrics.c). */
        fm->flags |= OFPFF_SEND_FLOW_REM;
    }
    /* The agent builds every flow itself; an encoding failure is a bug in
     * the pipeline, caught by the unit tests. */
    if (ofp_encode(&msg, out)) {
        abort();
    }
}

/* One key of flowtab_sync_keys()'s first pass: add or change it. */
static void
sync_put(struct flowtab *installed, const struct fnode *d, struct ofpbuf *out,
         uint32_t *xid, struct flowtab_diff *diff)
{
    struct fnode *have = lookup(installed, d->hash, d->flow.table,
                                d->flow.priority, &d->flow.match);
    if (!have) {
        put_flow_mod(out, xid, OFPFC_ADD, &d->flow);
        insert(installed, d->hash, &d->flow);
        diff->added++;
    } else if (!flowtab_flow_same(&have->flow, &d->flow)) {
        put_flow_mod(out, xid, OFPFC_ADD, &d->flow);
        copy_flow(&have->flow, &d->flow);
        diff->modified++;
    }
}

void
flowtab_cursor_init(struct flowtab_cursor *cur)
{
    memset(cur, 0, sizeof *cur);
}

static void
charge(size_t *budget, size_t cost)
{
    *budget -= cost < *budget ? cost : *budget;
}

/* The first pass: every key of 'adds' ('keys', else 'desired') that
 * 'desired' holds is added or changed. */
static bool
step_adds(struct flowtab *installed, const struct flowtab *desired,
          const struct flowtab *keys, struct ofpbuf *out, uint32_t *xid,
          struct flowtab_cursor *cur, size_t *budget)
{
    const struct flowtab *adds = keys ? keys : desired;
    for (; cur->bucket < adds->n_buckets; cur->bucket++) {
        if (!*budget) {
            return false;
        }
        for (struct fnode *k = adds->buckets[cur->bucket]; k; k = k->next) {
            const struct fnode *n =
                keys ? lookup(desired, k->hash, k->flow.table,
                              k->flow.priority, &k->flow.match)
                     : k;
            size_t mods = cur->diff.added + cur->diff.modified;
            if (n) {
                sync_put(installed, n, out, xid, &cur->diff);
            }
            charge(budget, 1 + (cur->diff.added + cur->diff.modified - mods)
                                   * FLOWTAB_MOD_COST);
        }
    }
    return true;
}

/* The second pass: installed flows of the tracked keys that 'desired'
 * lacks go. */
static bool
step_deletes_keys(struct flowtab *installed, const struct flowtab *desired,
                  const struct flowtab *keys, struct ofpbuf *out,
                  uint32_t *xid, struct flowtab_cursor *cur, size_t *budget)
{
    for (; cur->bucket < keys->n_buckets; cur->bucket++) {
        if (!*budget) {
            return false;
        }
        for (struct fnode *k = keys->buckets[cur->bucket]; k; k = k->next) {
            charge(budget, 1);
            if (lookup(desired, k->hash, k->flow.table, k->flow.priority,
                       &k->flow.match)) {
                continue;
            }
            struct fnode *have = lookup(installed, k->hash, k->flow.table,
                                        k->flow.priority, &k->flow.match);
            if (have) {
                put_flow_mod(out, xid, OFPFC_DELETE_STRICT, &have->flow);
                remove_hashed(installed, k->hash, k->flow.table,
                              k->flow.priority, &k->flow.match);
                cur->diff.deleted++;
                charge(budget, FLOWTAB_MOD_COST);
            }
        }
    }
    return true;
}

/* The second pass of a whole-table diff: every installed flow 'desired'
 * lacks goes.  Removing never rehashes, so the bucket cursor holds. */
static bool
step_deletes_all(struct flowtab *installed, const struct flowtab *desired,
                 struct ofpbuf *out, uint32_t *xid,
                 struct flowtab_cursor *cur, size_t *budget)
{
    for (; cur->bucket < installed->n_buckets; cur->bucket++) {
        if (!*budget) {
            return false;
        }
        struct fnode **p = &installed->buckets[cur->bucket];
        while (*p) {
            struct fnode *n = *p;
            charge(budget, 1);
            if (lookup(desired, n->hash, n->flow.table, n->flow.priority,
                       &n->flow.match)) {
                p = &n->next;
                continue;
            }
            put_flow_mod(out, xid, OFPFC_DELETE_STRICT, &n->flow);
            *p = n->next;
            n->next = installed->spare;
            installed->spare = n;
            installed->n--;
            cur->diff.deleted++;
            charge(budget, FLOWTAB_MOD_COST);
        }
    }
    return true;
}

bool
flowtab_sync_step(struct flowtab *installed, const struct flowtab *desired,
                  const struct flowtab *keys, struct ofpbuf *out,
                  uint32_t *xid, struct flowtab_cursor *cur, size_t *budget)
{
    /* Make before break: a VM's new flows (another kind, another key) are
     * in place before its old ones go, so no packet falls in between. */
    if (!cur->deleting) {
        if (!step_adds(installed, desired, keys, out, xid, cur, budget)) {
            return false;
        }
        cur->deleting = true;
        cur->bucket = 0;
    }
    return keys ? step_deletes_keys(installed, desired, keys, out, xid, cur,
                                    budget)
                : step_deletes_all(installed, desired, out, xid, cur,
                                   budget);
}

void
flowtab_sync_keys(struct flowtab *installed, const struct flowtab *desired,
                  const struct flowtab *keys, struct ofpbuf *out,
                  uint32_t *xid, struct flowtab_diff *diffp)
{
    struct flowtab_cursor cur;
    flowtab_cursor_init(&cur);
    size_t budget = SIZE_MAX;
    (void) flowtab_sync_step(installed, desired, keys, out, xid, &cur,
                             &budget);
    if (diffp) {
        *diffp = cur.diff;
    }
}

void
flowtab_sync(struct flowtab *installed, struct flowtab *desired,
             struct ofpbuf *out, uint32_t *xid, struct flowtab_diff *diff)
{
    flowtab_sync_keys(installed, desired, NULL, out, xid, diff);
    flowtab_clear(desired); /* its nodes kept for the next computation */
}
