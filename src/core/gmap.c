/* gmap.c: the gateway map, the location directory of DESIGN §2 step 3.
 *
 * Every VM's entry (node, configuration, epoch) carries the map version of
 * its last change; a list of VMs in change order and a ring of tombstones
 * for removed VMs let a reader ask for what changed since the version it
 * holds, at the cost of the answer.  It must never hand out a partial
 * answer as complete: removals older than the ring are reported as lost. */
#include "core/core-private.h"

#include <stdlib.h>

#include "lib/util.h"

/* ---- The change list ---- */

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

/* ---- Tombstones ---- */

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

/* ---- Changes ---- */

void
core_gateway_touch(struct core *c, uint32_t vi)
{
    struct vm *v = &c->vms[vi];
    v->map_version = ++c->map_version;
    chg_unlink(c, vi);
    chg_append(c, vi);
    core_persist_meta(c);
    if (c->sink.map_change) {
        c->sink.map_change(c->sink.aux, vi, v->node, false, v->map_version);
    }
}

void
core_gateway_remove(struct core *c, uint32_t vi)
{
    const struct vm *v = &c->vms[vi];
    chg_unlink(c, vi);
    uint64_t version = ++c->map_version;
    tombstone_add(c, v->name, version);
    core_persist_meta(c);
    if (c->sink.map_change) {
        c->sink.map_change(c->sink.aux, vi, v->node, true, version);
    }
}

/* ---- Reading ---- */

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
