/* fuzz_transfer_report.c: libFuzzer target for the body of POST
 * /v1/transfers (transfer_parse_post, transfers.h).
 *
 * The input is the body.  An accepted one must hold what the parser
 * promises (names valid and distinct, every number finite and in range,
 * rounds numbered 1..n with starts that never go back, downtime within
 * the total), and transfer_goodput() of it must be finite when it says
 * so; a refused one must carry a known status, a code and a message.  It
 * must never crash, leak or read out of bounds. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/rest_parse.h"
#include "controller/transfers.h"
#include "mignet/limits.h"
#include "mignet/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
in(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

static void
check_post(const struct transfer_post *p)
{
    if (!mn_name_valid(p->from) || !mn_name_valid(p->to)
        || !strcmp(p->from, p->to) || p->n_rounds != p->rounds
        || !p->n_rounds || p->n_rounds > MN_TRANSFER_ROUNDS_MAX
        || !p->paths || p->paths > MN_TRANSFER_PATHS_MAX || !p->mem_mb
        || p->mem_mb > MN_MEMORY_MB_MAX
        || !in(p->dirty_pps, 0, MN_DIRTY_RATE_MAX)
        || !in(p->total_ms, 0, MN_TRANSFER_MS_MAX) || !(p->total_ms > 0)
        || !in(p->downtime_ms, 0, p->total_ms)
        || !in(p->bytes, 0, MN_TRANSFER_BYTES_MAX)) {
        abort();
    }
    double prev = 0;
    for (size_t i = 0; i < p->n_rounds; i++) {
        const struct transfer_round *r = &p->round_list[i];
        if (r->round != i + 1 || !in(r->start_ms, prev, MN_TRANSFER_MS_MAX)
            || !in(r->t_ms, 0, MN_TRANSFER_MS_MAX)
            || !in(r->v_bytes, 0, MN_TRANSFER_BYTES_MAX)
            || !in(r->pages, 0, MN_TRANSFER_BYTES_MAX)) {
            abort();
        }
        prev = r->start_ms;
    }
    double g;
    if (transfer_goodput(p, &g) && !(isfinite(g) && g > 0)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct transfer_post p;
    struct rest_error e = {0};
    if (transfer_parse_post((const char *) data, size, &p, &e)) {
        check_post(&p);
        transfer_post_destroy(&p);
    } else if ((e.status != 400 && e.status != 422 && e.status != 500)
               || !e.code || !e.code[0] || !e.message[0]) {
        abort();
    }
    return 0;
}
