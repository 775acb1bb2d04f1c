/* rounds.c: the pre-copy engine's round bookkeeping -- what each round
 * sent and how long it took (the paper's T_i and V_i), and whether the
 * stop-and-copy comes next.
 *
 * Sans-I/O: the engine passes times and counts in.  The stop rule is the
 * planner's precopy_stops_now(), never a copy of it, so the engine and
 * the estimator stop on the same conditions (Xen's defaults: 30 rounds,
 * 200 KiB, 3x memory). */
#include "mignet/transfer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int
precopy_rounds_init(struct precopy_rounds *r, const struct precopy_config *cfg,
                    uint64_t memory_bytes, uint32_t page_size)
{
    *r = (struct precopy_rounds) {0};
    if (!cfg || cfg->max_rounds < 2 || cfg->max_rounds > PRECOPY_MAX_ROUNDS
        || !isfinite(cfg->max_factor) || cfg->max_factor < 1.0
        || memory_bytes == 0 || page_size == 0) {
        return EINVAL;
    }
    r->cfg = *cfg;
    r->memory_bytes = (double) memory_bytes;
    r->page_size = page_size;
    return 0;
}

void
precopy_rounds_destroy(struct precopy_rounds *r)
{
    if (r) {
        free(r->list);
        r->list = NULL;
        r->n = 0;
        r->cap = 0;
    }
}

static int
record(struct precopy_rounds *r, uint64_t start_us, uint64_t t_us,
       uint64_t pages, uint64_t v_bytes)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct precopy_round *l = realloc(r->list, cap * sizeof *l);
        if (!l) {
            return ENOMEM;
        }
        r->list = l;
        r->cap = cap;
    }
    r->list[r->n] = (struct precopy_round) {
        .round = r->n + 1,
        .start_us = start_us,
        .t_us = t_us,
        .v_bytes = v_bytes,
        .pages = pages,
    };
    r->n++;
    r->page_bytes_sent += (double) pages * r->page_size;
    r->wire_bytes += v_bytes;
    return 0;
}

int
precopy_rounds_end(struct precopy_rounds *r, uint64_t start_us, uint64_t t_us,
                   uint64_t pages, uint64_t v_bytes, uint64_t dirty_pages)
{
    int error = record(r, start_us, t_us, pages, v_bytes);
    if (error) {
        return error;
    }
    double next = (double) dirty_pages * r->page_size;
    double ratio;
    if (pages) {
        ratio = (double) dirty_pages / (double) pages;
    } else {
        ratio = dirty_pages ? INFINITY : 0.0;
    }
    r->stopped = precopy_stops_now(&r->cfg, r->memory_bytes, r->n,
                                   r->page_bytes_sent, next, ratio, &r->stop);
    return 0;
}

int
precopy_rounds_final(struct precopy_rounds *r, uint64_t start_us,
                     uint64_t t_us, uint64_t pages, uint64_t v_bytes)
{
    return record(r, start_us, t_us, pages, v_bytes);
}
