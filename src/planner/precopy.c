/* precopy.c: the pre-copy live-migration time model (docs/planner.md §1).
 *
 * Round 1 sends all memory; each later round sends what was dirtied while
 * the previous one was on the wire, V_i = V_(i-1) * D/B, until a Xen stop
 * condition holds; then a stop-and-copy round sends the rest.  With a
 * working set W, writes falling on pages already dirty in the round are
 * not new: V_i = W (1 - exp(-V_(i-1) * D / (B W))), which has no closed
 * form and is walked round by round.  Pure arithmetic: it must never loop
 * without bound or divide by zero. */
#include "mignet/planner.h"

#include <errno.h>
#include <math.h>

static const char *const stop_names[] = {
#define PRECOPY_STOP(ENUM, NAME, MSG) NAME,
    PRECOPY_STOPS
#undef PRECOPY_STOP
};

static const char *const stop_strs[] = {
#define PRECOPY_STOP(ENUM, NAME, MSG) MSG,
    PRECOPY_STOPS
#undef PRECOPY_STOP
};

const char *
precopy_stop_name(enum precopy_stop s)
{
    return (unsigned) s < PRECOPY_N_STOPS ? stop_names[s] : "unknown";
}

const char *
precopy_stop_str(enum precopy_stop s)
{
    return (unsigned) s < PRECOPY_N_STOPS ? stop_strs[s] : "unknown";
}

void
precopy_config_default(struct precopy_config *cfg)
{
    *cfg = (struct precopy_config) {
        .max_rounds = 30,
        .stop_bytes = 200 * 1024,
        .max_factor = 3.0,
    };
}

static bool
valid(const struct precopy_config *cfg, const struct precopy_input *in)
{
    /* Two rounds at least: the full copy and the stop-and-copy. */
    return cfg->max_rounds >= 2 && cfg->max_rounds <= PRECOPY_MAX_ROUNDS
           && isfinite(cfg->max_factor)
           && cfg->max_factor >= 1.0 && in->memory_bytes > 0
           && in->page_size > 0 && isfinite(in->dirty_pages_per_s)
           && in->dirty_pages_per_s >= 0 && isfinite(in->bandwidth_Bps)
           && in->bandwidth_Bps >= 0
           && in->working_set_bytes <= in->memory_bytes;
}

double
precopy_dirty_bytes(const struct precopy_input *in, double seconds)
{
    double writes = in->dirty_pages_per_s * (double) in->page_size * seconds;
    if (!(writes > 0)) {
        return 0; /* nothing written (and no 0 x infinity) */
    }
    if (!in->working_set_bytes) {
        return writes;
    }
    double w = (double) in->working_set_bytes;
    return -w * expm1(-writes / w);
}

/* The cases both forms share: no bandwidth, and D >= B.  Returns true if
 * it filled 'out'. */
static bool
degenerate(const struct precopy_input *in, double r,
           struct precopy_estimate *out)
{
    double m = (double) in->memory_bytes;
    double b = in->bandwidth_Bps;

    if (b <= 0) {
        *out = (struct precopy_estimate) {
            .total_s = INFINITY,
            .downtime_s = INFINITY,
            .stop = PRECOPY_STOP_NONCONVERGENT,
        };
        return true;
    }
    if (r >= 1.0) {
        /* Round 1 shows the dirty set does not shrink (Xen: this round
         * sent more than the last at full rate); Xen stops and copies
         * what is dirty, which is all memory at most. */
        *out = (struct precopy_estimate) {
            .total_s = 2 * m / b,
            .downtime_s = m / b,
            .rounds = 2,
            .bytes_sent = 2 * m,
            .final_bytes = m,
            .stop = PRECOPY_STOP_NONCONVERGENT,
        };
        return true;
    }
    return false;
}

static double
ratio(const struct precopy_input *in)
{
    double d = in->dirty_pages_per_s * (double) in->page_size;

    return in->bandwidth_Bps > 0 ? d / in->bandwidth_Bps : INFINITY;
}

/* Sum of the first 'k' terms of 1, r, r^2, ... */
static double
geometric(double r, uint32_t k)
{
    return r == 0 ? (k ? 1.0 : 0.0) : (1 - pow(r, k)) / (1 - r);
}

/* Whether a model stopped after iterative round 'n' ('n' >= 1), and why.
 * V_(n+1) = M r^n remains; a further round would bring the total, its own
 * stop-and-copy included, to M (1 - r^(n+2)) / (1 - r). */
static bool
stops_after(const struct precopy_config *cfg, double m, double r,
            uint32_t n, enum precopy_stop *why)
{
    if (m * pow(r, n) < (double) cfg->stop_bytes) {
        *why = PRECOPY_STOP_THRESHOLD;
    } else if (n + 1 >= cfg->max_rounds) {
        *why = PRECOPY_STOP_MAX_ROUNDS;
    } else if (m * geometric(r, n + 2) > cfg->max_factor * m) {
        *why = PRECOPY_STOP_MAX_SENT;
    } else {
        return false;
    }
    return true;
}

/* The smallest n >= 1 with r^(n + offset) < c, from x = ln c / ln r
 * (n + offset > x), clamped to [1, limit].  Logarithms round, so the
 * caller settles the answer against stops_after(). */
static uint32_t
first_round(double x, uint32_t offset, uint32_t limit)
{
    double n = floor(x) + 1 - offset;

    if (!(n >= 1)) {
        return 1;
    }
    return n >= limit ? limit : (uint32_t) n;
}

/* The answer after 'n' iterative rounds that sent 'sent' bytes, with
 * 'rest' left for the stop-and-copy. */
static void
fill(struct precopy_estimate *out, uint32_t n, double sent, double rest,
     double b, enum precopy_stop why)
{
    *out = (struct precopy_estimate) {
        .total_s = (sent + rest) / b,
        .downtime_s = rest / b,
        .rounds = n + 1,
        .bytes_sent = sent + rest,
        .final_bytes = rest,
        .stop = why,
        .converged = why == PRECOPY_STOP_THRESHOLD,
    };
}

/* The closed form: find the first round after which a stop condition
 * holds, then sum the geometric series. */
static void
closed_form(const struct precopy_config *cfg, double m, double b, double r,
            struct precopy_estimate *out)
{
    uint32_t limit = cfg->max_rounds - 1; /* iterative rounds */
    uint32_t n = limit;

    if (r > 0) {
        double lr = log(r);
        if (cfg->stop_bytes > 0) {
            /* M r^n < T  <=>  n > ln(T/M) / ln r. */
            double t = (double) cfg->stop_bytes;
            uint32_t nt = first_round(log(t / m) / lr, 0, limit);
            n = nt < n ? nt : n;
        }
        /* (1 - r^(n+2)) / (1 - r) > F  <=>  r^(n+2) < 1 - F (1 - r). */
        double c = 1 - cfg->max_factor * (1 - r);
        if (c > 0) {
            uint32_t nf = first_round(log(c) / lr, 2, limit);
            n = nf < n ? nf : n;
        }
    } else {
        n = 1; /* nothing is dirtied: V_2 = 0 */
    }
    /* Every stop condition, once true, stays true as n grows, so the
     * first stopping round is where the exact test turns: a few steps
     * from the logarithms' guess (max_rounds is bounded anyway). */
    enum precopy_stop why = PRECOPY_STOP_MAX_ROUNDS;
    while (n > 1 && stops_after(cfg, m, r, n - 1, &why)) {
        n--;
    }
    while (n < limit && !stops_after(cfg, m, r, n, &why)) {
        n++;
    }
    /* Round 'limit' always stops, on MAX_ROUNDS at worst. */
    stops_after(cfg, m, r, n, &why);
    fill(out, n, m * geometric(r, n), m * pow(r, n), b, why);
}

bool
precopy_stops_now(const struct precopy_config *cfg, double memory_bytes,
                  uint32_t n, double sent, double next, double ratio,
                  enum precopy_stop *why)
{
    if (ratio >= 1.0) {
        *why = PRECOPY_STOP_NONCONVERGENT;
    } else if (next < (double) cfg->stop_bytes) {
        *why = PRECOPY_STOP_THRESHOLD;
    } else if (n + 1 >= cfg->max_rounds) {
        *why = PRECOPY_STOP_MAX_ROUNDS;
    } else if (sent + next + next * ratio > cfg->max_factor * memory_bytes) {
        *why = PRECOPY_STOP_MAX_SENT;
    } else {
        return false;
    }
    return true;
}

/* Round by round, as a hypervisor would run it: each round leaves what
 * its own time dirties (precopy_dirty_bytes), and the stop rule gets the
 * ratio of two rounds.  Bandwidth > 0; without a working set r < 1 here
 * (degenerate() took the rest), with one the ratio shrinks as the
 * working set fills, so D >= B may still converge. */
static void
iterate(const struct precopy_config *cfg, const struct precopy_input *in,
        struct precopy_estimate *out)
{
    double m = (double) in->memory_bytes;
    double b = in->bandwidth_Bps;
    double v = m;
    double sent = 0;
    uint32_t n = 0;
    enum precopy_stop why;

    for (;;) {
        sent += v;
        n++;
        double next = precopy_dirty_bytes(in, v / b);
        double r = v > 0 ? next / v : 0;
        v = next;
        if (precopy_stops_now(cfg, m, n, sent, v, r, &why)) {
            break;
        }
    }
    fill(out, n, sent, v, b, why);
}

static int
run(const struct precopy_config *cfg, const struct precopy_input *in,
    struct precopy_estimate *out, bool closed)
{
    if (!valid(cfg, in)) {
        return EINVAL;
    }
    if (in->working_set_bytes && in->bandwidth_Bps > 0) {
        iterate(cfg, in, out); /* no closed form */
        return 0;
    }
    double r = ratio(in);
    if (degenerate(in, r, out)) {
        return 0;
    }
    if (closed) {
        closed_form(cfg, (double) in->memory_bytes, in->bandwidth_Bps, r,
                    out);
    } else {
        iterate(cfg, in, out);
    }
    return 0;
}

int
precopy_estimate(const struct precopy_config *cfg,
                 const struct precopy_input *in, struct precopy_estimate *out)
{
    return run(cfg, in, out, true);
}

int
precopy_iterate(const struct precopy_config *cfg,
                const struct precopy_input *in, struct precopy_estimate *out)
{
    return run(cfg, in, out, false);
}

double
precopy_stripe_bandwidth(const double *path_bw, size_t n, double overhead)
{
    double sum = 0;

    for (size_t i = 0; i < n; i++) {
        sum += path_bw[i] > 0 ? path_bw[i] : 0;
    }
    double keep = n ? 1 - overhead * (double) (n - 1) : 0;
    return keep > 0 ? sum * keep : 0;
}
