/* evq.c: 4-ary heap plus FIFO lanes, ordered by (time, rank, sequence).
 *
 * This is the simulator's hottest code.  It must stay deterministic: no
 * pointer comparisons, no unstable ordering, ties by insertion order. */
#include "sim/evq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* True when 'x' must be popped before 'y'.  Sequence numbers compare
 * modulo 2^32, which is exact while fewer than 2^31 events with the same
 * time are queued together. */
static inline bool
ev_before(const struct sim_ev *x, const struct sim_ev *y)
{
    if (x->t != y->t) {
        return x->t < y->t;
    }
    if (x->rank != y->rank) {
        return x->rank < y->rank;
    }
    return (int32_t)(x->seq - y->seq) < 0;
}

void
sim_evq_init(struct sim_evq *q)
{
    memset(q, 0, sizeof *q);
}

void
sim_evq_destroy(struct sim_evq *q)
{
    if (!q) {
        return;
    }
    free(q->heap);
    for (int i = 0; i < SIM_EVQ_LANES; i++) {
        free(q->lane[i].ev);
    }
    memset(q, 0, sizeof *q);
}

size_t
sim_evq_size(const struct sim_evq *q)
{
    size_t n = q->n;
    for (int i = 0; i < SIM_EVQ_LANES; i++) {
        n += q->lane[i].n;
    }
    return n;
}

int
sim_evq_push(struct sim_evq *q, struct sim_ev *ev)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        struct sim_ev *h = realloc(q->heap, cap * sizeof *h);
        if (!h) {
            return ENOMEM;
        }
        q->heap = h;
        q->cap = cap;
    }
    ev->seq = q->seq++;
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!ev_before(ev, &q->heap[parent])) {
            break;
        }
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = *ev;
    return 0;
}

static int
fifo_grow(struct sim_evq_fifo *f)
{
    size_t cap = f->cap ? f->cap * 2 : 1024;
    struct sim_ev *ev = malloc(cap * sizeof *ev);
    if (!ev) {
        return ENOMEM;
    }
    for (size_t i = 0; i < f->n; i++) {
        ev[i] = f->ev[(f->head + i) & (f->cap - 1)];
    }
    free(f->ev);
    f->ev = ev;
    f->head = 0;
    f->cap = cap;
    return 0;
}

int
sim_evq_push_lane(struct sim_evq *q, int lane, struct sim_ev *ev)
{
    if (lane < 0 || lane >= SIM_EVQ_LANES) {
        return EINVAL;
    }
    struct sim_evq_fifo *f = &q->lane[lane];
    if (f->n > 0) {
        const struct sim_ev *last = &f->ev[(f->head + f->n - 1)
                                           & (f->cap - 1)];
        if (ev->t < last->t || (ev->t == last->t && ev->rank < last->rank)) {
            return EINVAL;
        }
    }
    if (f->n == f->cap) {
        int err = fifo_grow(f);
        if (err) {
            return err;
        }
    }
    ev->seq = q->seq++;
    f->ev[(f->head + f->n) & (f->cap - 1)] = *ev;
    f->n++;
    return 0;
}

static void
heap_pop(struct sim_evq *q, struct sim_ev *out)
{
    *out = q->heap[0];
    struct sim_ev last = q->heap[--q->n];
    size_t n = q->n;
    size_t i = 0;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n) {
            break;
        }
        size_t best = c;
        size_t end = c + 4 < n ? c + 4 : n;
        for (size_t j = c + 1; j < end; j++) {
            if (ev_before(&q->heap[j], &q->heap[best])) {
                best = j;
            }
        }
        if (!ev_before(&q->heap[best], &last)) {
            break;
        }
        q->heap[i] = q->heap[best];
        i = best;
    }
    if (n > 0) {
        q->heap[i] = last;
    }
}

bool
sim_evq_pop(struct sim_evq *q, struct sim_ev *ev)
{
    const struct sim_ev *best = q->n ? &q->heap[0] : NULL;
    int from = -1;
    for (int i = 0; i < SIM_EVQ_LANES; i++) {
        struct sim_evq_fifo *f = &q->lane[i];
        if (f->n && (!best || ev_before(&f->ev[f->head], best))) {
            best = &f->ev[f->head];
            from = i;
        }
    }
    if (!best) {
        return false;
    }
    if (from < 0) {
        heap_pop(q, ev);
    } else {
        struct sim_evq_fifo *f = &q->lane[from];
        *ev = f->ev[f->head];
        f->head = (f->head + 1) & (f->cap - 1);
        f->n--;
    }
    return true;
}
