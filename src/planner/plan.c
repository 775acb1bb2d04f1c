/* plan.c: the seed-004 loop (FIG. 3, blocks 304-314; claim 1): estimate
 * the migration on the paths chosen so far; while the estimate misses the
 * deadline, add the next D-R path if its set-up time is within the second
 * threshold and the target has CPU to reassemble another stream.
 *
 * It decides only: installing and removing flows is the caller's job,
 * from plan_path() and plan_release().  It never adds a path that does
 * not shorten the estimate, so the loop always ends. */
#include "mignet/planner.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stop_names[] = {
#define PLAN_STOP(ENUM, NAME, MSG) NAME,
    PLAN_STOPS
#undef PLAN_STOP
};

static const char *const stop_strs[] = {
#define PLAN_STOP(ENUM, NAME, MSG) MSG,
    PLAN_STOPS
#undef PLAN_STOP
};

const char *
plan_stop_name(enum plan_stop s)
{
    return (unsigned) s < PLAN_N_STOPS ? stop_names[s] : "unknown";
}

const char *
plan_stop_str(enum plan_stop s)
{
    return (unsigned) s < PLAN_N_STOPS ? stop_strs[s] : "unknown";
}

void
plan_config_default(struct plan_config *cfg)
{
    *cfg = (struct plan_config) {
        .striping_overhead = 0.05,
        .flow_install_ms = 5,
        .setup_max_ms = 50,
        .cpu_per_stream = 0.10,
        .max_paths = 8,
        .use_residual = true,
    };
    precopy_config_default(&cfg->precopy);
}

struct plan {
    struct route *paths;
    struct plan_step *steps;    /* steps[i]: with paths 0..i */
    size_t n_paths;
    size_t cap;
    enum plan_stop stop;
    bool released;
    char explain[200];
};

void
plan_destroy(struct plan *p)
{
    if (p) {
        for (size_t i = 0; i < p->n_paths; i++) {
            route_destroy(&p->paths[i]);
        }
        free(p->paths);
        free(p->steps);
        free(p);
    }
}

/* Bandwidth of 'n' paths striped, bits per second.  A link that k of the
 * paths share gives each of them 1/k of what it has left, and a path
 * runs at its narrowest link: right for disjoint paths, and adding a path
 * through a shared bottleneck gains nothing. */
static double
paths_bandwidth(const struct router *r, const struct plan_config *cfg,
                const struct route *paths, size_t n)
{
    const struct fabric *f = router_fabric(r);
    double bw[64];
    if (n > sizeof bw / sizeof bw[0]) {
        n = sizeof bw / sizeof bw[0];
    }
    for (size_t i = 0; i < n; i++) {
        double narrowest = INFINITY;
        for (size_t j = 0; j < paths[i].n_links; j++) {
            uint32_t l = paths[i].links[j];
            const struct fabric_link *lk = fabric_link(f, l);
            unsigned from = lk->node[0] == paths[i].nodes[j] ? 0 : 1;
            double left = cfg->use_residual
                              ? router_link_residual_bps(r, l, from)
                              : (double) lk->capacity_bps;
            unsigned sharing = 0;
            for (size_t k = 0; k < n; k++) {
                for (size_t m = 0; m < paths[k].n_links; m++) {
                    sharing += paths[k].links[m] == l;
                }
            }
            double share = left / sharing;
            narrowest = share < narrowest ? share : narrowest;
        }
        bw[i] = isfinite(narrowest) ? narrowest : 0;
    }
    return precopy_stripe_bandwidth(bw, n, cfg->striping_overhead);
}

static double
setup_ms(const struct plan_config *cfg, const struct route *path)
{
    return (double) path->n_hops * cfg->flow_install_ms;
}

static int
estimate(const struct router *r, const struct plan_config *cfg,
         const struct plan_request *req, const struct route *paths, size_t n,
         double setup, struct plan_step *step)
{
    double bps = paths_bandwidth(r, cfg, paths, n);
    if (req->learned_Bps > 0) {
        /* Calibrated: the first path alone runs at the learned goodput,
         * every path in the same proportion to what the links give. */
        double first = paths_bandwidth(r, cfg, paths, 1);
        double learned = req->learned_Bps * 8;
        if (first > 0) {
            bps *= learned / first;
        } else {
            double same[64];
            size_t k = n < 64 ? n : 64;
            for (size_t i = 0; i < k; i++) {
                same[i] = learned;
            }
            bps = precopy_stripe_bandwidth(same, k, cfg->striping_overhead);
        }
    }
    struct precopy_input in = {
        .memory_bytes = req->memory_bytes,
        .dirty_pages_per_s = req->dirty_pages_per_s,
        .page_size = req->page_size ? req->page_size : 4096,
        .bandwidth_Bps = bps / 8,
        .working_set_bytes = req->working_set_bytes,
    };
    *step = (struct plan_step) {
        .n_paths = (uint32_t) n,
        .bandwidth_bps = bps,
        .setup_ms = setup,
    };
    int err = precopy_estimate(&cfg->precopy, &in, &step->estimate);
    if (!err) {
        step->total_ms = step->estimate.total_s * 1000.0 + setup;
    }
    return err;
}

static bool
config_ok(const struct plan_config *cfg)
{
    return isfinite(cfg->striping_overhead) && cfg->striping_overhead >= 0
           && cfg->striping_overhead < 1 && isfinite(cfg->cpu_per_stream)
           && cfg->cpu_per_stream >= 0 && cfg->max_paths >= 1
           && cfg->max_paths <= 64;
}

static bool
request_ok(const struct plan_request *req)
{
    return req->memory_bytes > 0 && isfinite(req->dirty_pages_per_s)
           && req->dirty_pages_per_s >= 0 && isfinite(req->target_cpu_free)
           && req->target_cpu_free >= 0 && req->target_cpu_free <= 1
           && isfinite(req->learned_Bps) && req->learned_Bps >= 0
           && req->working_set_bytes <= req->memory_bytes
           && (unsigned) req->strategy < ROUTE_N_STRATEGIES;
}

/* Makes room for one more path and step. */
static int
reserve(struct plan *p)
{
    if (p->n_paths < p->cap) {
        return 0;
    }
    size_t ncap = p->cap ? p->cap * 2 : 4;
    struct route *paths = realloc(p->paths, ncap * sizeof *paths);
    if (!paths) {
        return ENOMEM;
    }
    p->paths = paths;
    struct plan_step *steps = realloc(p->steps, ncap * sizeof *steps);
    if (!steps) {
        return ENOMEM;
    }
    p->steps = steps;
    p->cap = ncap;
    return 0;
}

static void explain(struct plan *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
explain(struct plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->explain, sizeof p->explain, fmt, ap);
    va_end(ap);
}

/* Decides whether the loop ends before looking for another path (block
 * 306, and the path limit).  Returns true with p->stop set if so. */
static bool
done(struct plan *p, const struct plan_config *cfg,
     const struct plan_request *req)
{
    const struct plan_step *last = &p->steps[p->n_paths - 1];
    double deadline = (double) req->deadline_ms;

    if (!req->deadline_ms) {
        p->stop = PLAN_STOP_NO_DEADLINE;
        explain(p, "no deadline; estimate %.0f ms on %zu path(s)",
                last->total_ms, p->n_paths);
    } else if (last->total_ms <= deadline) {
        p->stop = PLAN_STOP_FITS;
        explain(p, "estimate %.0f ms <= deadline %.0f ms on %zu path(s)",
                last->total_ms, deadline, p->n_paths);
    } else if (p->n_paths >= cfg->max_paths) {
        p->stop = PLAN_STOP_MAX_PATHS;
        explain(p, "estimate %.0f ms > deadline %.0f ms with %zu path(s), "
                "the limit", last->total_ms, deadline, p->n_paths);
    } else {
        return false;
    }
    return true;
}

/* The loop proper (blocks 304-314), once the first path is in.  Returns
 * 0 or an errno. */
static int
add_paths(struct plan *p, struct router *r, const struct plan_config *cfg,
          const struct plan_request *req)
{
    while (!done(p, cfg, req)) {
        size_t n = p->n_paths;
        int err = reserve(p); /* moves p->steps: take 'last' after */
        if (err) {
            return err;
        }
        const struct plan_step *last = &p->steps[n - 1];
        double deadline = (double) req->deadline_ms;

        struct route *cand = &p->paths[n];
        route_init(cand);
        err = router_find_extra(r, req->src, req->dst, p->paths, n, cand);
        if (err == ENOENT) {
            p->stop = PLAN_STOP_NO_PATH;
            explain(p, "estimate %.0f ms > deadline %.0f ms; no path "
                    "besides the %zu in use", last->total_ms, deadline, n);
            return 0;
        } else if (err) {
            return err;
        }
        double setup = setup_ms(cfg, cand);
        if (setup > cfg->setup_max_ms) {
            p->stop = PLAN_STOP_SETUP_TOO_SLOW;
            explain(p, "estimate %.0f ms > deadline %.0f ms; path %zu "
                    "needs %.0f ms to set up > %" PRIu32 " ms",
                    last->total_ms, deadline, n + 1, setup,
                    cfg->setup_max_ms);
            route_destroy(cand);
            return 0;
        }
        /* The candidate would be extra stream number n. */
        double cpu = (double) n * cfg->cpu_per_stream;
        if (cpu > req->target_cpu_free + 1e-9) {
            p->stop = PLAN_STOP_CPU_EXHAUSTED;
            explain(p, "estimate %.0f ms > deadline %.0f ms; %zu extra "
                    "stream(s) need %.2f of the target's CPU, %.2f is free",
                    last->total_ms, deadline, n, cpu, req->target_cpu_free);
            route_destroy(cand);
            return 0;
        }
        struct plan_step step;
        err = estimate(r, cfg, req, p->paths, n + 1,
                       last->setup_ms + setup, &step);
        if (err || step.total_ms >= last->total_ms) {
            if (!err) {
                p->stop = PLAN_STOP_NO_GAIN;
                explain(p, "estimate %.0f ms > deadline %.0f ms; with "
                        "path %zu it would be %.0f ms", last->total_ms,
                        deadline, n + 1, step.total_ms);
            }
            route_destroy(cand);
            return err;
        }
        p->steps[n] = step;
        p->n_paths++;
        /* Extra paths are D-R choices: others avoid them this period. */
        router_mark(r, cand);
    }
    return 0;
}

int
plan_create(struct router *r, const struct plan_config *cfg,
            const struct plan_request *req, struct plan **planp)
{
    if (!config_ok(cfg) || !request_ok(req)) {
        return EINVAL;
    }
    struct plan *p = calloc(1, sizeof *p);
    if (!p) {
        return ENOMEM;
    }
    int err = reserve(p);
    if (!err) {
        route_init(&p->paths[0]);
        err = router_find(r, req->strategy, req->src, req->dst,
                          &p->paths[0]);
    }
    if (!err) {
        p->n_paths = 1;
        err = estimate(r, cfg, req, p->paths, 1, 0, &p->steps[0]);
    }
    if (!err && req->strategy == ROUTE_DR) {
        router_mark(r, &p->paths[0]);
    }
    if (!err) {
        err = add_paths(p, r, cfg, req);
    }
    if (err) {
        plan_destroy(p);
        return err;
    }
    *planp = p;
    return 0;
}

int
plan_estimate_paths(struct router *r, const struct plan_config *cfg,
                    const struct plan_request *req, uint32_t n_paths,
                    struct plan_step *out)
{
    if (!config_ok(cfg) || !request_ok(req) || !n_paths
        || n_paths > cfg->max_paths) {
        return EINVAL;
    }
    struct route *paths = calloc(n_paths, sizeof *paths);
    if (!paths) {
        return ENOMEM;
    }
    size_t n = 0;
    double setup = 0;
    int err = 0;
    for (; n < n_paths && !err; n++) {
        route_init(&paths[n]);
        err = n ? router_find_extra(r, req->src, req->dst, paths, n,
                                    &paths[n])
                : router_find(r, req->strategy, req->src, req->dst,
                              &paths[0]);
        if (!err && n) {
            setup += setup_ms(cfg, &paths[n]);
        }
    }
    if (!err) {
        err = estimate(r, cfg, req, paths, n_paths, setup, out);
    }
    for (size_t i = 0; i < n; i++) {
        route_destroy(&paths[i]);
    }
    free(paths);
    return err;
}

size_t
plan_n_paths(const struct plan *p)
{
    return p->n_paths;
}

const struct route *
plan_path(const struct plan *p, size_t i)
{
    return i < p->n_paths ? &p->paths[i] : NULL;
}

size_t
plan_n_steps(const struct plan *p)
{
    return p->n_paths;
}

const struct plan_step *
plan_step(const struct plan *p, size_t i)
{
    return i < p->n_paths ? &p->steps[i] : NULL;
}

const struct plan_step *
plan_final(const struct plan *p)
{
    return &p->steps[p->n_paths - 1];
}

enum plan_stop
plan_stop(const struct plan *p)
{
    return p->stop;
}

const char *
plan_explain(const struct plan *p)
{
    return p->explain;
}

int
plan_release(struct plan *p, struct route_hop **hops, size_t *n)
{
    size_t total = 0;

    *hops = NULL;
    *n = 0;
    if (p->released) {
        return 0;
    }
    for (size_t i = 1; i < p->n_paths; i++) {
        total += p->paths[i].n_hops;
    }
    if (total) {
        struct route_hop *out = malloc(total * sizeof *out);
        if (!out) {
            return ENOMEM;
        }
        size_t k = 0;
        for (size_t i = 1; i < p->n_paths; i++) {
            memcpy(&out[k], p->paths[i].hops,
                   p->paths[i].n_hops * sizeof *out);
            k += p->paths[i].n_hops;
        }
        *hops = out;
        *n = total;
    }
    p->released = true;
    return 0;
}
