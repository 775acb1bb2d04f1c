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

#include "lib/heap.h"
#include "lib/util.h"

struct mm_flow {
    uint32_t *res;
    uint32_t n;
    bool used;
    bool frozen;       /* solve scratch */
    uint32_t heap_pos; /* of its cap item, solve scratch */
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
    uint32_t *cnt;   /* unfrozen flows over it */
    uint32_t *start; /* its flows: inc[start .. end) */
    uint32_t *end;
    uint32_t *pos; /* heap position */
    uint32_t *inc; /* flow ids by resource */
    size_t inc_cap;
    struct heap heap; /* items: resource r, or n_res + capped flow */
};

/* The fill level at which item 'it' (resource or capped flow) fills. */
static double
item_key(const struct fabsim_mm *mm, uint32_t it)
{
    if (it < mm->n_res) {
        double rem = mm->rem[it] > 0 ? mm->rem[it] : 0;
        return rem / mm->cnt[it];
    }
    return mm->flows[it - mm->n_res].cap;
}

static bool
item_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct fabsim_mm *mm = aux;
    double ka = item_key(mm, a), kb = item_key(mm, b);
    return ka < kb || (ka == kb && a < b);
}

static void
item_set_pos(void *aux, uint32_t it, uint32_t pos)
{
    struct fabsim_mm *mm = aux;
    if (it < mm->n_res) {
        mm->pos[it] = pos;
    } else {
        mm->flows[it - mm->n_res].heap_pos = pos;
    }
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
    mm->cnt = xcalloc(n, sizeof *mm->cnt);
    mm->start = xcalloc(n, sizeof *mm->start);
    mm->end = xcalloc(n, sizeof *mm->end);
    mm->pos = xcalloc(n, sizeof *mm->pos);
    heap_init(&mm->heap, item_before, item_set_pos, mm);
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
    free(mm->cnt);
    free(mm->start);
    free(mm->end);
    free(mm->pos);
    free(mm->inc);
    heap_destroy(&mm->heap);
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
        fl->heap_pos = HEAP_NOT_IN;
        for (uint32_t i = 0; fl->used && i < fl->n; i++) {
            uint32_t r = fl->res[i];
            if (!mm->is_touched[r]) {
                mm->is_touched[r] = 1;
                mm->touched[mm->n_touched++] = r;
                mm->rem[r] = mm->cap[r];
                mm->cnt[r] = 0;
                mm->pos[r] = HEAP_NOT_IN;
            }
            mm->cnt[r]++;
            total++;
        }
    }
    mm->inc = xgrow(mm->inc, &mm->inc_cap, total ? total : 1, sizeof *mm->inc);
    uint32_t off = 0;
    for (size_t i = 0; i < mm->n_touched; i++) {
        uint32_t r = mm->touched[i];
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

/* Gives flow 'f' rate 'level' and takes it off its resources (and off the
 * heap, when 'use_heap'). */
static void
freeze(struct fabsim_mm *mm, uint32_t f, double level, bool use_heap)
{
    struct mm_flow *fl = &mm->flows[f];
    fl->frozen = true;
    fl->rate = level;
    if (use_heap && fl->heap_pos != HEAP_NOT_IN) {
        heap_remove(&mm->heap, fl->heap_pos);
    }
    for (uint32_t i = 0; i < fl->n; i++) {
        uint32_t r = fl->res[i];
        mm->rem[r] -= level;
        mm->cnt[r]--;
        mm->load[r] += level;
        if (use_heap && mm->pos[r] != HEAP_NOT_IN) {
            if (mm->cnt[r]) {
                heap_update(&mm->heap, mm->pos[r]);
            } else {
                heap_remove(&mm->heap, mm->pos[r]);
            }
        }
    }
}

/* Item 'it' fills at 'level': freezes its unfrozen flows. */
static void
fill(struct fabsim_mm *mm, uint32_t it, double level, bool use_heap)
{
    if (it >= mm->n_res) {
        uint32_t f = it - (uint32_t)mm->n_res;
        if (!mm->flows[f].frozen) {
            freeze(mm, f, level, use_heap);
        }
        return;
    }
    for (uint32_t i = mm->start[it]; i < mm->end[it]; i++) {
        if (!mm->flows[mm->inc[i]].frozen) {
            freeze(mm, mm->inc[i], level, use_heap);
        }
    }
}

void
fabsim_mm_solve(struct fabsim_mm *mm)
{
    prepare(mm);
    mm->heap.n = 0;
    for (size_t i = 0; i < mm->n_touched; i++) {
        heap_push(&mm->heap, mm->touched[i]);
    }
    for (size_t f = 0; f < mm->n_flows; f++) {
        if (mm->flows[f].used && isfinite(mm->flows[f].cap)) {
            heap_push(&mm->heap, (uint32_t)(mm->n_res + f));
        }
    }
    while (!heap_is_empty(&mm->heap)) {
        uint32_t it = heap_top(&mm->heap);
        double level = item_key(mm, it);
        heap_remove(&mm->heap, 0);
        fill(mm, it, level, true);
    }
}

void
fabsim_mm_solve_scan(struct fabsim_mm *mm)
{
    prepare(mm);
    for (;;) {
        uint32_t best = UINT32_MAX;
        for (size_t i = 0; i < mm->n_touched; i++) {
            uint32_t r = mm->touched[i];
            if (mm->cnt[r] &&
                (best == UINT32_MAX || item_before(mm, r, best))) {
                best = r;
            }
        }
        for (size_t f = 0; f < mm->n_flows; f++) {
            uint32_t it = (uint32_t)(mm->n_res + f);
            if (!mm->flows[f].frozen && isfinite(mm->flows[f].cap) &&
                (best == UINT32_MAX || item_before(mm, it, best))) {
                best = it;
            }
        }
        if (best == UINT32_MAX) {
            return;
        }
        fill(mm, best, item_key(mm, best), false);
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
