/* transfers.c: mignetd's transfer learning (transfers.h): the goodput of
 * each reported pre-copy transfer, a median per node pair, and the
 * estimate error the reports show.
 *
 * The estimator.  A transfer's goodput is sum V_i / sum T_i over its
 * iterative rounds: the paper's VM_model takes the link rate as what a
 * round moves over how long it takes, and the stop-and-copy is left out
 * because its time is mostly the pause and the final verification.  A
 * pair's learned goodput is the median of its last TRANSFERS_WINDOW
 * transfers' per-path goodputs: one transfer that shared its path with a
 * burst (or ran on an idle night) moves a median by one rank, an average
 * by its whole deviation, and the window follows a lasting change within
 * TRANSFERS_WINDOW / 2 + 1 transfers.  Memory only: nothing is stored. */
#include "controller/transfers.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/metrics.h"
#include "lib/strbuf.h"
#include "lib/util.h"

bool
transfer_goodput(const struct transfer_post *p, double *Bps)
{
    size_t n = p->n_rounds > 1 ? p->n_rounds - 1 : p->n_rounds;
    double v = 0, t = 0;
    for (size_t i = 0; i < n; i++) {
        v += p->round_list[i].v_bytes;
        t += p->round_list[i].t_ms;
    }
    if (!(v > 0) || !(t > 0)) {
        return false;
    }
    *Bps = v / (t / 1000.0);
    return isfinite(*Bps);
}

double
transfer_per_path(double goodput, uint32_t paths, double overhead)
{
    if (paths <= 1) {
        return goodput;
    }
    double f = (double) paths * (1.0 - overhead * (double) (paths - 1));
    return f > 0 ? goodput / f : goodput / (double) paths;
}

static int
transfer_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

double
transfer_median(const double *v, size_t n)
{
    double s[TRANSFERS_WINDOW];
    if (!n) {
        return 0;
    }
    if (n > TRANSFERS_WINDOW) {
        n = TRANSFERS_WINDOW;
    }
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, transfer_cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- State ---- */

/* Bounds of the error ratio's histogram. */
static const double error_bounds[] = {0.01, 0.02, 0.05, 0.1, 0.2,
                                      0.5,  1,    2,    5,   10};

struct transfers {
    struct transfer_entry *ring; /* TRANSFERS_KEEP */
    size_t n, head;              /* head: the oldest */
    uint64_t next_id;
    struct transfer_pair *pairs;
    size_t n_pairs, cap_pairs;
    uint64_t total;
    struct metrics_hist err[2];  /* [learned] */
};

struct transfers *
transfers_create(void)
{
    struct transfers *t = xcalloc(1, sizeof *t);
    t->ring = xcalloc(TRANSFERS_KEEP, sizeof *t->ring);
    t->next_id = 1;
    for (int i = 0; i < 2; i++) {
        metrics_hist_init(&t->err[i], "mignet_transfer_estimate_error_ratio",
                          "", error_bounds, ARRAY_SIZE(error_bounds));
    }
    return t;
}

void
transfers_destroy(struct transfers *t)
{
    if (t) {
        free(t->ring);
        free(t->pairs);
        free(t);
    }
}

static struct transfer_pair *
transfers_pair_mut(const struct transfers *t, const char *from,
                   const char *to)
{
    for (size_t i = 0; i < t->n_pairs; i++) {
        if (!strcmp(t->pairs[i].from, from) && !strcmp(t->pairs[i].to, to)) {
            return &t->pairs[i];
        }
    }
    return NULL;
}

const struct transfer_pair *
transfers_find_pair(const struct transfers *t, const char *from,
                    const char *to)
{
    return transfers_pair_mut(t, from, to);
}

bool
transfers_learned(const struct transfers *t, const char *from,
                  const char *to, double *Bps, uint64_t *n)
{
    const struct transfer_pair *p = t ? transfers_find_pair(t, from, to)
                                      : NULL;
    if (!p || !p->n_window) {
        return false;
    }
    *Bps = p->learned_Bps;
    *n = p->seen;
    return true;
}

const struct transfer_entry *
transfers_add(struct transfers *t, const struct transfer_post *p,
              double goodput, double overhead,
              const struct transfer_estimate *before, uint64_t now_ms)
{
    struct transfer_pair *pair = transfers_pair_mut(t, p->from, p->to);
    if (!pair) {
        if (t->n_pairs >= TRANSFERS_PAIRS_MAX) {
            return NULL;
        }
        t->pairs = xgrow(t->pairs, &t->cap_pairs, t->n_pairs + 1,
                         sizeof *t->pairs);
        pair = &t->pairs[t->n_pairs++];
        *pair = (struct transfer_pair){0};
        snprintf(pair->from, sizeof pair->from, "%s", p->from);
        snprintf(pair->to, sizeof pair->to, "%s", p->to);
    }
    double per_path = transfer_per_path(goodput, p->paths, overhead);
    pair->window[pair->next] = per_path;
    pair->next = (pair->next + 1) % TRANSFERS_WINDOW;
    if (pair->n_window < TRANSFERS_WINDOW) {
        pair->n_window++;
    }
    pair->learned_Bps = transfer_median(pair->window, pair->n_window);
    pair->seen++;

    size_t slot;
    if (t->n < TRANSFERS_KEEP) {
        slot = (t->head + t->n++) % TRANSFERS_KEEP;
    } else {
        slot = t->head;
        t->head = (t->head + 1) % TRANSFERS_KEEP;
    }
    struct transfer_entry *en = &t->ring[slot];
    *en = (struct transfer_entry){
        .id = t->next_id++,
        .received_ms = now_ms,
        .mem_mb = p->mem_mb,
        .paths = p->paths,
        .rounds = p->rounds,
        .dirty_pps = p->dirty_pps,
        .total_ms = p->total_ms,
        .downtime_ms = p->downtime_ms,
        .bytes = p->bytes,
        .goodput_Bps = goodput,
        .path_Bps = per_path,
        .before = *before,
    };
    snprintf(en->from, sizeof en->from, "%s", p->from);
    snprintf(en->to, sizeof en->to, "%s", p->to);
    snprintf(en->mode, sizeof en->mode, "%s", p->mode);
    snprintf(en->transport, sizeof en->transport, "%s", p->transport);
    pair->last_id = en->id;
    t->total++;
    /* A report with no plan to compare (no fabric route) counts in
     * mignet_transfers_total only. */
    if (before->has && isfinite(before->error_ratio)) {
        metrics_hist_observe(&t->err[before->learned], before->error_ratio);
    }
    return en;
}

size_t
transfers_n(const struct transfers *t)
{
    return t->n;
}

const struct transfer_entry *
transfers_get(const struct transfers *t, size_t i)
{
    return i < t->n ? &t->ring[(t->head + i) % TRANSFERS_KEEP] : NULL;
}

size_t
transfers_n_pairs(const struct transfers *t)
{
    return t->n_pairs;
}

const struct transfer_pair *
transfers_pair(const struct transfers *t, size_t i)
{
    return i < t->n_pairs ? &t->pairs[i] : NULL;
}

/* One labelled histogram's samples (no HELP/TYPE). */
static int
transfers_hist_lines(struct strbuf *sb, const struct metrics_hist *h,
                     const char *source)
{
    static const char *const N = "mignet_transfer_estimate_error_ratio";
    uint64_t cum = 0;
    int err = 0;
    for (size_t i = 0; !err && i < h->n_bounds; i++) {
        cum += h->counts[i];
        err = strbuf_printf(sb, "%s_bucket{source=\"%s\",le=\"%g\"} %llu\n",
                            N, source, h->bounds[i],
                            (unsigned long long) cum);
    }
    if (!err) {
        err = strbuf_printf(sb,
                            "%s_bucket{source=\"%s\",le=\"+Inf\"} %llu\n"
                            "%s_sum{source=\"%s\"} %.17g\n"
                            "%s_count{source=\"%s\"} %llu\n",
                            N, source, (unsigned long long) h->count, N,
                            source, h->sum, N, source,
                            (unsigned long long) h->count);
    }
    return err;
}

int
transfers_metrics(const struct transfers *t, struct strbuf *sb)
{
    int err = metrics_head(sb, "mignet_transfers_total", "counter",
                           "pre-copy transfer reports learned from "
                           "(POST /v1/transfers)");
    if (!err) {
        err = strbuf_printf(sb, "mignet_transfers_total %llu\n",
                            (unsigned long long) t->total);
    }
    if (!err) {
        err = metrics_head(sb, "mignet_transfer_estimate_error_ratio",
                           "histogram",
                           "|measured - estimate| / measured total time of "
                           "each reported transfer, against the plan's "
                           "estimate when it arrived, by the bandwidth the "
                           "estimate used (nominal links or learned)");
    }
    if (!err) {
        err = transfers_hist_lines(sb, &t->err[0], "nominal");
    }
    if (!err) {
        err = transfers_hist_lines(sb, &t->err[1], "learned");
    }
    return err ? ENOMEM : 0;
}
