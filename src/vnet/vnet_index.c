/* vnet_index.c: hash indexes over a switch's arrays, so that a node's
 * counter reports (one per flow, version and port, every few hundred
 * milliseconds) find their flow and their last value in constant time.
 *
 * An index maps a hash to positions in an array the switch owns; it holds
 * no keys of its own.  Whoever moves or removes array elements marks the
 * index stale and the next lookup rebuilds it: arrays change rarely
 * (flow-mods, version drops), lookups are the hot path. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "vnet/vnet_private.h"

void
vidx_destroy(struct vidx *x)
{
    free(x->slot);
    memset(x, 0, sizeof *x);
}

static uint32_t
fid_hash(uint32_t fid)
{
    return (uint32_t)hash_u64(fid);
}

static uint32_t
ctr_hash(const char *node, uint32_t fid, uint64_t version, uint32_t q)
{
    uint64_t h = hash_str(node);
    h = hash_u64(h ^ fid);
    h = hash_u64(h ^ version);
    return (uint32_t)hash_u64(h ^ q);
}

/* Empties the index with room for 'n' entries at most half full. */
static void
vidx_reset(struct vidx *x, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2) {
        cap *= 2;
    }
    if (cap != x->cap) {
        free(x->slot);
        x->slot = xcalloc(cap, sizeof *x->slot);
        x->cap = cap;
    } else {
        memset(x->slot, 0, cap * sizeof *x->slot);
    }
    x->n = 0;
    x->stale = false;
}

/* Records position 'pos' under 'hash' (slots hold pos + 1; 0 is free). */
static void
vidx_put(struct vidx *x, uint32_t hash, size_t pos)
{
    size_t mask = x->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        if (!x->slot[i]) {
            x->slot[i] = (uint32_t)pos + 1;
            x->n++;
            return;
        }
    }
}

static void
fid_rebuild(struct vswitch *s)
{
    vidx_reset(&s->fid_idx, s->n_flows);
    for (size_t i = 0; i < s->n_flows; i++) {
        vidx_put(&s->fid_idx, fid_hash(s->flows[i].fid), i);
    }
}

struct vflow *
vtable_find(struct vswitch *s, uint32_t fid)
{
    struct vidx *x = &s->fid_idx;
    if (x->stale || !x->cap || x->n != s->n_flows) {
        fid_rebuild(s);
    }
    size_t mask = x->cap - 1;
    for (size_t i = fid_hash(fid) & mask; x->slot[i]; i = (i + 1) & mask) {
        struct vflow *f = &s->flows[x->slot[i] - 1];
        if (f->fid == fid) {
            return f;
        }
    }
    return NULL;
}

static void
ctr_rebuild(struct vswitch *s)
{
    vidx_reset(&s->ctr_idx, s->n_ctr);
    for (size_t i = 0; i < s->n_ctr; i++) {
        const struct vctr *c = &s->ctr[i];
        vidx_put(&s->ctr_idx, ctr_hash(c->node, c->fid, c->version, c->q),
                 i);
    }
}

struct vctr *
vidx_find_ctr(struct vswitch *s, const char *node, uint32_t fid,
              uint64_t version, uint32_t q)
{
    struct vidx *x = &s->ctr_idx;
    if (x->stale || !x->cap || x->n != s->n_ctr) {
        ctr_rebuild(s);
    }
    size_t mask = x->cap - 1;
    uint32_t h = ctr_hash(node, fid, version, q);
    for (size_t i = h & mask; x->slot[i]; i = (i + 1) & mask) {
        struct vctr *c = &s->ctr[x->slot[i] - 1];
        if (c->fid == fid && c->version == version && c->q == q
            && !strcmp(c->node, node)) {
            return c;
        }
    }
    return NULL;
}

void
vidx_added_ctr(struct vswitch *s)
{
    struct vidx *x = &s->ctr_idx;
    if (x->stale || !x->cap || 2 * (x->n + 1) + 2 > x->cap
        || x->n + 1 != s->n_ctr) {
        x->stale = true; /* Rebuilt, with the new entry, on next lookup. */
        return;
    }
    const struct vctr *c = &s->ctr[s->n_ctr - 1];
    vidx_put(x, ctr_hash(c->node, c->fid, c->version, c->q), s->n_ctr - 1);
}
