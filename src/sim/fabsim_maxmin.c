/* fabsim_maxmin.c: max-min fair rates by progressive filling (Bertsekas
 * and Gallager, "Data Networks", 2nd ed., §6.5.2), for the fabric
 * simulator.
 *
 * All unfrozen flows rise together; the resource whose fair share
 * (capacity left over unfrozen flows) is smallest fills first and
 * freezes its flows at that share; a flow's own cap acts as a resource of
 * its own.  Both solvers visit bottlenecks in the same (share, id) order,
 * so they agree.  Nothing here knows about links, time or migrations. */
#include "sim/fabsim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define NOT_IN UINT32_MAX

struct mm_flow {
    uint32_t *res;
    uint32_t n;
    bool used;
    bool frozen; /* solve scratch */
    double cap;
    double rate;
};

struct fabsim_mm {
    size_t n_res;
    double *cap;
    double *load;  /* at the last solve */
    double *bytes; /* cumulative, fabsim_mm_advance() */

    /* Resources in use at the last solve (their load may be > 0). */
    uint32_t *touched;
    size_t n_touched;
    uint8_t *is_touched;

    struct mm_flow *flows;
    size_t n_flows, flows_cap; /* slots; live ones have 'used' */
    size_t n_live;
    uint32_t *free_ids;
    size_t n_free, free_cap;

    /* Solve scratch, per resource. */
    double *rem;     /* capacity not yet given to frozen flows */
    double *share;   /* rem / cnt: the level at which it fills */
    uint32_t *cnt;   /* unfrozen flows over it */
    uint32_t *start; /* its flows: inc[start .. end) */
    uint32_t *end;
    uint32_t *pos; /* in 'heap', NOT_IN if absent */
    uint32_t *inc; /* flow ids by resource */
    size_t inc_cap;

    /* Resources by (share, id), keys inline: a binary min-heap. */
    struct mm_ent *heap;
    size_t heap_n;
    /* Capped flows by (cap, id): each fills at its cap. */
    uint32_t *capped;
    size_t n_capped, capped_cap;
};

struct mm_ent {
    double key;
    uint32_t res;
};

static void
set_share(struct fabsim_mm *mm, uint32_t r)
{
    double rem = mm->rem[r] > 0 ? mm->rem[r] : 0;
    mm->share[r] = mm->cnt[r] ? rem / mm->cnt[r] : INFINITY;
}

/* Bottlenecks fill in (level, item) order, items being resources r and
 * capped flows n_res + f, so both solvers take the same steps. */
static bool
key_before(double ka, uint32_t a, double kb, uint32_t b)
{
    return ka < kb || (ka == kb && a < b);
}

static bool
ent_before(const struct mm_ent *a, const struct mm_ent *b)
{
    return key_before(a->key, a->res, b->key, b->res);
}

static void
heap_put(struct fabsim_mm *mm, size_t i, struct mm_ent e)
{
    mm->heap[i] = e;
    mm->pos[e.res] = (uint32_t)i;
}

/* Moves the entry at 'i' down to its place (keys only grow here). */
static void
heap_down(struct fabsim_mm *mm, size_t i)
{
    struct mm_ent e = mm->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= mm->heap_n) {
            break;
        }
        if (c + 1 < mm->heap_n && ent_before(&mm->heap[c + 1], &mm->heap[c])) {
            c++;
        }
        if (!ent_before(&mm->heap[c], &e)) {
            break;
        }
        heap_put(mm, i, mm->heap[c]);
        i = c;
    }
    heap_put(mm, i, e);
}

static void
heap_up(struct fabsim_mm *mm, size_t i)
{
    struct mm_ent e = mm->heap[i];
    while (i > 0 && ent_before(&e, &mm->heap[(i - 1) / 2])) {
        heap_put(mm, i, mm->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_put(mm, i, e);
}

/* Takes resource 'r' out of the heap. */
static void
heap_del(struct fabsim_mm *mm, uint32_t r)
{
    size_t i = mm->pos[r];
    mm->pos[r] = NOT_IN;
    if (--mm->heap_n != i) {
        uint32_t moved = mm->heap[mm->heap_n].res;
        heap_put(mm, i, mm->heap[mm->heap_n]);
        heap_up(mm, i);
        heap_down(mm, mm->pos[moved]);
    }
}

static int
cmp_capped(const void *a, const void *b, void *aux)
{
    const struct fabsim_mm *mm = aux;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    double cx = mm->flows[x].cap, cy = mm->flows[y].cap;
    return cx < cy ? -1 : cx > cy ? 1 : x < y ? -1 : x > y;
}

struct fabsim_mm *
fabsim_mm_create(size_t n_res, const double *capacity)
{
    struct fabsim_mm *mm = xcalloc(1, sizeof *mm);
    size_t n = n_res ? n_res : 1;
    mm->n_res = n_res;
    mm->cap = xcalloc(n, sizeof *mm->cap);
    if (n_res) {
        memcpy(mm->cap, capacity, n_res * sizeof *mm->cap);
    }
    mm->load = xcalloc(n, sizeof *mm->load);
    mm->bytes = xcalloc(n, sizeof *mm->bytes);
    mm->touched = xcalloc(n, sizeof *mm->touched);
    mm->is_touched = xcalloc(n, sizeof *mm->is_touched);
    mm->rem = xcalloc(n, sizeof *mm->rem);
    mm->share = xcalloc(n, sizeof *mm->share);
    mm->cnt = xcalloc(n, sizeof *mm->cnt);
    mm->start = xcalloc(n, sizeof *mm->start);
    mm->end = xcalloc(n, sizeof *mm->end);
    mm->pos = xcalloc(n, sizeof *mm->pos);
    mm->heap = xcalloc(n, sizeof *mm->heap);
    return mm;
}

void
fabsim_mm_destroy(struct fabsim_mm *mm)
{
    if (!mm) {
        return;
    }
    for (size_t i = 0; i < mm->n_flows; i++) {
        free(mm->flows[i].res);
    }
    free(mm->flows);
    free(mm->free_ids);
    free(mm->cap);
    free(mm->load);
    free(mm->bytes);
    free(mm->touched);
    free(mm->is_touched);
    free(mm->rem);
    free(mm->share);
    free(mm->cnt);
    free(mm->start);
    free(mm->end);
    free(mm->pos);
    free(mm->inc);
    free(mm->heap);
    free(mm->capped);
    free(mm);
}

int
fabsim_mm_add(struct fabsim_mm *mm, const uint32_t *res, size_t n, double cap,
              uint32_t *id)
{
    if (!n || n > UINT32_MAX || !(cap > 0)) {
        return EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (res[i] >= mm->n_res) {
            return EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (res[j] == res[i]) {
                return EINVAL;
            }
        }
    }
    uint32_t f;
    if (mm->n_free) {
        f = mm->free_ids[--mm->n_free];
    } else {
        if (mm->n_flows + mm->n_res >= UINT32_MAX) {
            return EINVAL;
        }
        mm->flows = xgrow(mm->flows, &mm->flows_cap, mm->n_flows + 1,
                          sizeof *mm->flows);
        f = (uint32_t)mm->n_flows++;
    }
    struct mm_flow *fl = &mm->flows[f];
    *fl = (struct mm_flow){
        .res = xmalloc(n * sizeof *fl->res),
        .n = (uint32_t)n,
        .used = true,
        .cap = cap,
    };
    memcpy(fl->res, res, n * sizeof *fl->res);
    mm->n_live++;
    *id = f;
    return 0;
}

void
fabsim_mm_remove(struct fabsim_mm *mm, uint32_t id)
{
    if (id >= mm->n_flows || !mm->flows[id].used) {
        return;
    }
    struct mm_flow *fl = &mm->flows[id];
    free(fl->res);
    *fl = (struct mm_flow){0};
    mm->free_ids = xgrow(mm->free_ids, &mm->free_cap, mm->n_free + 1,
                         sizeof *mm->free_ids);
    mm->free_ids[mm->n_free++] = id;
    mm->n_live--;
}

size_t
fabsim_mm_n_flows(const struct fabsim_mm *mm)
{
    return mm->n_live;
}

/* Clears the last solve and counts the flows over each resource in use;
 * lists the flows of each resource, in flow id order, in mm->inc. */
static void
prepare(struct fabsim_mm *mm)
{
    for (size_t i = 0; i < mm->n_touched; i++) {
        uint32_t r = mm->touched[i];
        mm->load[r] = 0;
        mm->is_touched[r] = 0;
    }
    mm->n_touched = 0;

    size_t total = 0;
    for (size_t f = 0; f < mm->n_flows; f++) {
        struct mm_flow *fl = &mm->flows[f];
        fl->frozen = !fl->used;
        fl->rate = 0;
        for (uint32_t i = 0; fl->used && i < fl->n; i++) {
            uint32_t r = fl->res[i];
            if (!mm->is_touched[r]) {
                mm->is_touched[r] = 1;
                mm->touched[mm->n_touched++] = r;
                mm->rem[r] = mm->cap[r];
                mm->cnt[r] = 0;
                mm->pos[r] = NOT_IN;
            }
            mm->cnt[r]++;
            total++;
        }
    }
    mm->inc = xgrow(mm->inc, &mm->inc_cap, total ? total : 1, sizeof *mm->inc);
    uint32_t off = 0;
    for (size_t i = 0; i < mm->n_touched; i++) {
        uint32_t r = mm->touched[i];
        set_share(mm, r);
        mm->start[r] = mm->end[r] = off;
        off += mm->cnt[r];
    }
    for (size_t f = 0; f < mm->n_flows; f++) {
        const struct mm_flow *fl = &mm->flows[f];
        for (uint32_t i = 0; fl->used && i < fl->n; i++) {
            mm->inc[mm->end[fl->res[i]]++] = (uint32_t)f;
        }
    }
}

/* Gives flow 'f' rate 'level' and takes it off its resources; with
 * 'heap', keeps their heap entries in order (their shares only grow: a
 * flow freezes at the lowest share of all). */
static void
freeze(struct fabsim_mm *mm, uint32_t f, double level, bool heap)
{
    struct mm_flow *fl = &mm->flows[f];
    fl->frozen = true;
    fl->rate = level;
    for (uint32_t i = 0; i < fl->n; i++) {
        uint32_t r = fl->res[i];
        mm->rem[r] -= level;
        mm->cnt[r]--;
        mm->load[r] += level;
        set_share(mm, r);
        if (!heap || mm->pos[r] == NOT_IN) {
            continue;
        }
        if (!mm->cnt[r]) {
            heap_del(mm, r);
        } else {
            mm->heap[mm->pos[r]].key = mm->share[r];
            heap_down(mm, mm->pos[r]);
        }
    }
}

/* Resource 'r' fills at 'level': freezes its unfrozen flows. */
static void
fill(struct fabsim_mm *mm, uint32_t r, double level, bool heap)
{
    for (uint32_t i = mm->start[r]; i < mm->end[r]; i++) {
        if (!mm->flows[mm->inc[i]].frozen) {
            freeze(mm, mm->inc[i], level, heap);
        }
    }
}

/* The capped flows of this solve, by (cap, id). */
static void
sort_capped(struct fabsim_mm *mm)
{
    mm->n_capped = 0;
    for (size_t f = 0; f < mm->n_flows; f++) {
        if (mm->flows[f].used && isfinite(mm->flows[f].cap)) {
            mm->capped = xgrow(mm->capped, &mm->capped_cap, mm->n_capped + 1,
                               sizeof *mm->capped);
            mm->capped[mm->n_capped++] = (uint32_t)f;
        }
    }
    if (mm->n_capped > 1) {
        qsort_r(mm->capped, mm->n_capped, sizeof *mm->capped, cmp_capped,
                mm);
    }
}

void
fabsim_mm_solve(struct fabsim_mm *mm)
{
    prepare(mm);
    sort_capped(mm);
    mm->heap_n = mm->n_touched;
    for (size_t i = 0; i < mm->n_touched; i++) {
        uint32_t r = mm->touched[i];
        heap_put(mm, i, (struct mm_ent){mm->share[r], r});
    }
    for (size_t i = mm->heap_n / 2; i-- > 0;) {
        heap_down(mm, i);
    }
    size_t c = 0;
    for (;;) {
        while (c < mm->n_capped && mm->flows[mm->capped[c]].frozen) {
            c++;
        }
        bool cap_next = c < mm->n_capped;
        if (cap_next && mm->heap_n) {
            uint32_t f = mm->capped[c];
            cap_next = key_before(mm->flows[f].cap, (uint32_t)(mm->n_res + f),
                                  mm->heap[0].key, mm->heap[0].res);
        }
        if (cap_next) {
            uint32_t f = mm->capped[c++];
            freeze(mm, f, mm->flows[f].cap, true);
        } else if (mm->heap_n) {
            struct mm_ent top = mm->heap[0];
            heap_del(mm, top.res);
            fill(mm, top.res, top.key, true);
        } else {
            return;
        }
    }
}

void
fabsim_mm_solve_scan(struct fabsim_mm *mm)
{
    prepare(mm);
    for (;;) {
        uint32_t best = UINT32_MAX;
        double level = INFINITY;
        for (size_t i = 0; i < mm->n_touched; i++) {
            uint32_t r = mm->touched[i];
            if (mm->cnt[r] && (best == UINT32_MAX ||
                               key_before(mm->share[r], r, level, best))) {
                best = r;
                level = mm->share[r];
            }
        }
        for (size_t f = 0; f < mm->n_flows; f++) {
            const struct mm_flow *fl = &mm->flows[f];
            uint32_t it = (uint32_t)(mm->n_res + f);
            if (!fl->frozen && isfinite(fl->cap) &&
                (best == UINT32_MAX || key_before(fl->cap, it, level, best))) {
                best = it;
                level = fl->cap;
            }
        }
        if (best == UINT32_MAX) {
            return;
        }
        if (best < mm->n_res) {
            fill(mm, best, level, false);
        } else {
            freeze(mm, best - (uint32_t)mm->n_res, level, false);
        }
    }
}

double
fabsim_mm_rate(const struct fabsim_mm *mm, uint32_t id)
{
    return id < mm->n_flows && mm->flows[id].used ? mm->flows[id].rate : 0;
}

double
fabsim_mm_load(const struct fabsim_mm *mm, uint32_t res)
{
    return res < mm->n_res ? mm->load[res] : 0;
}

double
fabsim_mm_capacity(const struct fabsim_mm *mm, uint32_t res)
{
    return res < mm->n_res ? mm->cap[res] : 0;
}

void
fabsim_mm_advance(struct fabsim_mm *mm, double dt)
{
    if (!(dt > 0)) {
        return;
    }
    for (size_t i = 0; i < mm->n_touched; i++) {
        uint32_t r = mm->touched[i];
        mm->bytes[r] += mm->load[r] * dt;
    }
}

double
fabsim_mm_bytes(const struct fabsim_mm *mm, uint32_t res)
{
    return res < mm->n_res ? mm->bytes[res] : 0;
}
