/* fabsim_run.c: one strategy's run of the fabric simulator: migrations
 * as pre-copy rounds whose bytes cross the fabric at max-min fair rates,
 * routed and planned by the planner (include/mignet/planner.h).
 *
 * Event-driven with exact piecewise-constant rates: rates change only when
 * a flow starts or ends, and are recomputed then; between events every
 * transfer moves at a constant rate, so a round's end is computed, not
 * stepped to.  It never reimplements routing or the estimator: routes and
 * estimates come from plan_create(), the stop rule from
 * precopy_stops_now(). */
#include "sim/fabsim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define PAGE_SIZE 4096u
#define MAX_SUB 64 /* plan_config.max_paths is at most 64 */
/* A run that has simulated this long without finishing is stalled. */
#define STALL_S 1e9

enum mstate { M_WAIT, M_SETUP, M_COPY, M_DONE };

/* A migration in flight. */
struct mrun {
    enum mstate st;
    struct plan *plan;
    uint32_t sub[MAX_SUB]; /* max-min flow per path */
    size_t n_sub;
    double t_copy;  /* SETUP: when copying starts; then: started */
    double goodput; /* bytes/s of memory, striping overhead off */
    double rem;     /* bytes of this round not yet sent */
    double t_last;  /* when 'rem' was last brought up to date */
    double round_bytes;
    double t_round; /* when this round began */
    double sent;    /* bytes of the rounds finished */
    uint32_t round; /* iterative rounds finished */
    bool final;     /* this round is the stop-and-copy */
    enum precopy_stop why;
};

struct run {
    const struct fabsim_world *w;
    const struct fabsim_params *p;
    enum fabsim_strategy strategy;
    struct router *router;
    struct plan_config pcfg;
    struct fabsim_mm *mm;
    struct fabsim_result *r;
    double t;
    uint64_t poll_ms; /* time of the next statistics poll */
    size_t next_job;
    size_t done;
    struct mrun *m;
    uint32_t *live; /* migrations arrived and not done */
    size_t n_live;
    uint32_t *bg;   /* max-min flow per background pair */
    double bg_rate; /* sum of the background rates */
    bool dirty;     /* flows changed: rates due before time moves */
    bool window;    /* from the first arrival on */
    double t_window;
    double *snap; /* per resource, bytes at t_window */
};

/* Resource of the direction of 'route' link i: link * 2 + the end the
 * bytes leave from. */
static uint32_t
hop_res(const struct fabric *f, const struct route *rt, size_t i)
{
    const struct fabric_link *lk = fabric_link(f, rt->links[i]);
    return rt->links[i] * 2 + (lk->node[0] == rt->nodes[i] ? 0u : 1u);
}

/* Adds a max-min flow along 'rt'. */
static uint32_t
add_flow(struct run *R, const struct route *rt, double cap)
{
    uint32_t *res = xmalloc(rt->n_links * sizeof *res);
    for (size_t i = 0; i < rt->n_links; i++) {
        res[i] = hop_res(R->w->fabric, rt, i);
    }
    uint32_t id = 0;
    /* A route's directed links are distinct and exist: cannot fail. */
    int e = fabsim_mm_add(R->mm, res, rt->n_links, cap, &id);
    free(res);
    if (e) {
        abort();
    }
    return id;
}

/* Lets time run to 'tn' at the current rates. */
static void
advance(struct run *R, double tn)
{
    double dt = tn - R->t;
    if (dt > 0) {
        fabsim_mm_advance(R->mm, dt);
        if (R->window) {
            R->r->background_bytes += R->bg_rate * dt;
        }
        R->t = tn;
    }
}

/* Brings a copying migration's round up to now. */
static void
catch_up(struct run *R, struct mrun *m)
{
    m->rem -= m->goodput * (R->t - m->t_last);
    if (m->rem < 0) {
        m->rem = 0;
    }
    m->t_last = R->t;
}

/* The flow set changed: new max-min rates, new goodputs. */
static void
resolve(struct run *R)
{
    for (size_t i = 0; i < R->n_live; i++) {
        struct mrun *m = &R->m[R->live[i]];
        if (m->st == M_COPY) {
            catch_up(R, m);
        }
    }
    if (R->p->scan_solver) {
        fabsim_mm_solve_scan(R->mm);
    } else {
        fabsim_mm_solve(R->mm);
    }
    R->r->solves++;
    R->dirty = false;
    for (size_t i = 0; i < R->n_live; i++) {
        struct mrun *m = &R->m[R->live[i]];
        if (m->st == M_COPY) {
            double bw[MAX_SUB];
            for (size_t k = 0; k < m->n_sub; k++) {
                bw[k] = fabsim_mm_rate(R->mm, m->sub[k]);
            }
            m->goodput = precopy_stripe_bandwidth(bw, m->n_sub,
                                                  R->pcfg.striping_overhead);
        }
    }
    R->bg_rate = 0;
    for (size_t i = 0; i < R->w->n_background; i++) {
        R->bg_rate += fabsim_mm_rate(R->mm, R->bg[i]);
    }
}

/* Port statistics, as the controller polls them (OFPMP_PORT_STATS):
 * every switch port's cumulative bytes, fed to the router. */
static void
poll(struct run *R)
{
    const struct fabric *f = R->w->fabric;
    router_period_begin(R->router);
    for (uint32_t l = 0; l < fabric_n_links(f); l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        for (unsigned e = 0; e < 2; e++) {
            if (fabric_node_kind(f, lk->node[e]) != FABRIC_SWITCH) {
                continue;
            }
            double tx = fabsim_mm_bytes(R->mm, l * 2 + e);
            double rx = fabsim_mm_bytes(R->mm, l * 2 + !e);
            router_port_stats(R->router, fabric_node_dpid(f, lk->node[e]),
                              lk->port[e], (uint64_t)tx, (uint64_t)rx,
                              R->poll_ms);
        }
    }
    R->poll_ms += R->p->period_ms;
    R->r->polls++;
}

static void
start_copy(struct run *R, uint32_t i)
{
    struct mrun *m = &R->m[i];
    const struct fabsim_mig *g = &R->r->mig[i];
    m->st = M_COPY;
    m->t_copy = R->t;
    m->n_sub = g->n_paths;
    for (size_t k = 0; k < g->n_paths; k++) {
        m->sub[k] = add_flow(R, &g->paths[k], INFINITY);
    }
    m->round_bytes = m->rem = (double)R->w->memory_bytes;
    m->t_round = m->t_last = R->t;
    R->dirty = true;
}

static int
arrive(struct run *R, uint32_t i, char *err, size_t errlen)
{
    const struct fabsim_job *j = &R->w->jobs[i];
    const struct fabsim_params *p = R->p;
    struct mrun *m = &R->m[i];
    struct fabsim_mig *g = &R->r->mig[i];
    const struct fabric *f = R->w->fabric;

    struct plan_request req = {
        .src = j->src,
        .dst = j->dst,
        .memory_bytes = R->w->memory_bytes,
        .dirty_pages_per_s = p->dirty_pages_per_s,
        .page_size = PAGE_SIZE,
        .working_set_bytes = R->w->working_set_bytes,
        .deadline_ms = p->deadline_ms,
        .target_cpu_free = p->cpu_free,
        .strategy = R->strategy == FABSIM_SINGLE ? ROUTE_SINGLE
                    : R->strategy == FABSIM_ECMP ? ROUTE_ECMP
                                                 : ROUTE_DR,
    };
    int e = plan_create(R->router, &R->pcfg, &req, &m->plan);
    if (e) {
        snprintf(err, errlen, "migration %u (%s -> %s): no plan: %s", i,
                 fabric_node_name(f, j->src), fabric_node_name(f, j->dst),
                 strerror(e));
        return EIO;
    }
    const struct plan_step *fin = plan_final(m->plan);
    g->src = j->src;
    g->dst = j->dst;
    g->start_ms = R->t * 1000.0;
    g->estimate_ms = fin->total_ms;
    g->setup_ms = fin->setup_ms;
    g->plan_stop = plan_stop(m->plan);
    g->n_paths = plan_n_paths(m->plan);
    g->paths = xcalloc(g->n_paths, sizeof *g->paths);
    for (size_t k = 0; k < g->n_paths; k++) {
        route_init(&g->paths[k]);
        if (route_copy(&g->paths[k], plan_path(m->plan, k))) {
            out_of_memory();
        }
    }
    R->live[R->n_live++] = i;
    if (g->setup_ms > 0) {
        m->st = M_SETUP;
        m->t_copy = R->t + g->setup_ms / 1000.0;
    } else {
        start_copy(R, i);
    }
    return 0;
}

static void
finish(struct run *R, uint32_t i)
{
    struct mrun *m = &R->m[i];
    struct fabsim_mig *g = &R->r->mig[i];
    for (size_t k = 0; k < m->n_sub; k++) {
        fabsim_mm_remove(R->mm, m->sub[k]);
    }
    m->st = M_DONE;
    for (size_t k = 0; k < R->n_live; k++) {
        if (R->live[k] == i) {
            memmove(&R->live[k], &R->live[k + 1],
                    (R->n_live - k - 1) * sizeof *R->live);
            R->n_live--;
            break;
        }
    }
    R->dirty = true;

    /* Seed 004: the added paths' flows go when the migration ends. */
    struct route_hop *hops = NULL;
    size_t n_hops = 0;
    if (!plan_release(m->plan, &hops, &n_hops)) {
        R->r->hops_released += n_hops;
    }
    free(hops);
    plan_destroy(m->plan);
    m->plan = NULL;

    double t_start = R->w->jobs[i].t_arrive;
    g->sim_ms = (R->t - t_start) * 1000.0;
    g->downtime_ms = (R->t - m->t_round) * 1000.0;
    g->bytes = m->sent;
    g->rounds = m->round + 1;
    g->precopy_stop = m->why;
    g->throughput_mbps =
        R->t > m->t_copy ? m->sent * 8 / (R->t - m->t_copy) / 1e6 : 0;
    g->deadline_met =
        !R->p->deadline_ms || g->sim_ms <= (double)R->p->deadline_ms;
    R->done++;
}

/* A round's bytes are all sent (seed 002's early notification: the next
 * round starts at once, not when they are acknowledged). */
static void
round_end(struct run *R, uint32_t i)
{
    struct mrun *m = &R->m[i];
    double dur = R->t - m->t_round;
    double mem = (double)R->w->memory_bytes;

    m->rem = 0;
    m->t_last = R->t;
    m->sent += m->round_bytes;
    if (m->final) {
        finish(R, i);
        return;
    }
    m->round++;
    struct precopy_input load = {
        .memory_bytes = R->w->memory_bytes,
        .dirty_pages_per_s = R->p->dirty_pages_per_s,
        .page_size = PAGE_SIZE,
        .working_set_bytes = R->w->working_set_bytes,
    };
    double dirty = precopy_dirty_bytes(&load, dur);
    double next = dirty < mem ? dirty : mem;
    double ratio = m->round_bytes > 0 ? next / m->round_bytes : 0;
    m->final = precopy_stops_now(&R->pcfg.precopy, mem, m->round, m->sent,
                                 next, ratio, &m->why);
    m->round_bytes = m->rem = next;
    m->t_round = R->t;
}

/* When migration 'm' has its next event; INFINITY if it cannot move. */
static double
mig_next(const struct mrun *m)
{
    if (m->st == M_SETUP) {
        return m->t_copy;
    }
    if (m->rem <= 0) {
        return m->t_last;
    }
    return m->goodput > 0 ? m->t_last + m->rem / m->goodput : INFINITY;
}

static void
open_window(struct run *R)
{
    size_t n_res = fabric_n_links(R->w->fabric) * 2;
    R->snap = xcalloc(n_res ? n_res : 1, sizeof *R->snap);
    for (size_t x = 0; x < n_res; x++) {
        R->snap[x] = fabsim_mm_bytes(R->mm, (uint32_t)x);
    }
    R->window = true;
    R->t_window = R->t;
}

/* Events at the same time go: poll, migrations by index, arrival. */
static int
loop(struct run *R, char *err, size_t errlen)
{
    const struct fabsim_world *w = R->w;
    while (R->done < w->n_jobs) {
        double t_poll = (double)R->poll_ms / 1000.0;
        double best = t_poll;
        int kind = 0; /* 0 poll, 1 migration, 2 arrival */
        uint32_t who = UINT32_MAX;
        for (size_t k = 0; k < R->n_live; k++) {
            uint32_t i = R->live[k];
            double tn = mig_next(&R->m[i]);
            if (tn < best || (tn == best && kind == 1 && i < who)) {
                best = tn;
                kind = 1;
                who = i;
            }
        }
        bool progress = R->next_job < w->n_jobs;
        if (progress) {
            double ta = w->jobs[R->next_job].t_arrive;
            if (ta < best) {
                best = ta;
                kind = 2;
            }
        }
        /* Flows that start or end at one instant share one solve. */
        if (R->dirty && best > R->t) {
            resolve(R);
            continue;
        }
        for (size_t k = 0; k < R->n_live && !progress; k++) {
            progress = isfinite(mig_next(&R->m[R->live[k]]));
        }
        if (!progress || best > STALL_S) {
            snprintf(err, errlen,
                     "stalled at %.3f s with %zu migrations "
                     "left",
                     R->t, w->n_jobs - R->done);
            return EIO;
        }
        advance(R, best);
        R->r->events++;
        if (kind == 0) {
            poll(R);
        } else if (kind == 1) {
            if (R->m[who].st == M_SETUP) {
                start_copy(R, who);
            } else {
                round_end(R, who);
            }
        } else {
            if (!R->window) {
                open_window(R);
            }
            int e = arrive(R, (uint32_t)R->next_job++, err, errlen);
            if (e) {
                return e;
            }
        }
    }
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank, as the data-centre simulator's percentiles. */
static double
percentile(const double *sorted, size_t n, double q)
{
    if (!n) {
        return 0;
    }
    size_t rank = (size_t)ceil(q * (double)n);
    return sorted[(rank < 1 ? 1 : rank) - 1];
}

/* Mean, and the nearest-rank p50, p99 and max of 'x' (sorted here). */
static void
stats(double *x, size_t n, double *mean, double *p50, double *p99, double *max)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
    }
    qsort(x, n, sizeof *x, cmp_double);
    *mean = n ? sum / (double)n : 0;
    *p50 = percentile(x, n, 0.50);
    *p99 = percentile(x, n, 0.99);
    *max = percentile(x, n, 1.0);
}

static void
summarise(struct run *R)
{
    struct fabsim_result *r = R->r;
    size_t n = r->n, n_ratio = 0;
    double *times = xcalloc(n ? n : 1, sizeof *times);
    double *ests = xcalloc(n ? n : 1, sizeof *ests);
    double *ratios = xcalloc(n ? n : 1, sizeof *ratios);
    double est_sum = 0, unused;
    for (size_t i = 0; i < n; i++) {
        const struct fabsim_mig *g = &r->mig[i];
        times[i] = g->sim_ms;
        ests[i] = g->estimate_ms;
        if (!isfinite(g->estimate_ms)) {
            r->estimates_infinite++;
        } else if (g->estimate_ms > 0) {
            est_sum += g->estimate_ms;
            ratios[n_ratio++] = g->sim_ms / g->estimate_ms;
        }
        if (R->p->deadline_ms) {
            r->deadlines_met += g->deadline_met;
            r->deadlines_missed += !g->deadline_met;
        }
        r->bytes += g->bytes;
        r->paths += g->n_paths;
        r->paths_added += g->n_paths ? g->n_paths - 1 : 0;
    }
    stats(times, n, &r->time_mean_ms, &r->time_p50_ms, &r->time_p99_ms,
          &r->time_max_ms);
    stats(ratios, n_ratio, &r->ratio_mean, &r->ratio_p50, &unused,
          &r->ratio_max);
    qsort(ests, n, sizeof *ests, cmp_double);
    r->estimate_p50_ms = percentile(ests, n, 0.50);
    r->estimate_mean_ms = n_ratio ? est_sum / (double)n_ratio : 0;
    r->sim_ms = R->t * 1000.0;
    free(times);
    free(ests);
    free(ratios);

    /* Utilisation of the switch-switch links, both directions, over the
     * time migrations ran. */
    const struct fabric *f = R->w->fabric;
    double span = R->t - R->t_window, util = 0;
    size_t n_links = 0;
    for (uint32_t l = 0; R->window && span > 0 && l < fabric_n_links(f); l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        if (fabric_node_kind(f, lk->node[0]) != FABRIC_SWITCH ||
            fabric_node_kind(f, lk->node[1]) != FABRIC_SWITCH) {
            continue;
        }
        for (uint32_t x = l * 2; x < l * 2 + 2; x++) {
            util += (fabsim_mm_bytes(R->mm, x) - R->snap[x]) /
                    (fabsim_mm_capacity(R->mm, x) * span);
            n_links++;
        }
    }
    r->mean_link_util = n_links ? util / (double)n_links : 0;
}

static void
run_destroy(struct run *R)
{
    for (size_t i = 0; R->m && i < R->w->n_jobs; i++) {
        plan_destroy(R->m[i].plan);
    }
    free(R->m);
    free(R->live);
    free(R->bg);
    free(R->snap);
    fabsim_mm_destroy(R->mm);
    router_destroy(R->router);
}

int
fabsim_run(const struct fabsim_world *w, enum fabsim_strategy strategy,
           struct fabsim_result *r, char *err, size_t errlen)
{
    const struct fabsim_params *p = &w->p;
    const struct fabric *f = w->fabric;
    struct run R = {
        .w = w,
        .p = p,
        .strategy = strategy,
        .r = r,
    };

    *r = (struct fabsim_result){.strategy = strategy, .n = w->n_jobs};
    r->mig = xcalloc(w->n_jobs ? w->n_jobs : 1, sizeof *r->mig);

    struct router_config rc;
    router_config_default(&rc);
    rc.period_ms = p->period_ms;
    R.router = router_create(f, &rc);
    if (!R.router) {
        out_of_memory();
    }
    plan_config_default(&R.pcfg);
    R.pcfg.striping_overhead = p->striping_overhead;
    R.pcfg.flow_install_ms = p->flow_install_ms;
    R.pcfg.setup_max_ms = p->setup_max_ms;
    R.pcfg.max_paths = strategy == FABSIM_DR_PATHS ? p->max_paths : 1;
    R.pcfg.use_residual = !p->capacity_estimate;

    size_t n_res = fabric_n_links(f) * 2;
    double *cap = xcalloc(n_res ? n_res : 1, sizeof *cap);
    for (uint32_t l = 0; l < fabric_n_links(f); l++) {
        cap[l * 2] = cap[l * 2 + 1] =
            (double)fabric_link(f, l)->capacity_bps / 8.0;
    }
    R.mm = fabsim_mm_create(n_res, cap);
    free(cap);
    R.m = xcalloc(w->n_jobs ? w->n_jobs : 1, sizeof *R.m);
    R.live = xcalloc(w->n_jobs ? w->n_jobs : 1, sizeof *R.live);
    R.bg = xcalloc(w->n_background ? w->n_background : 1, sizeof *R.bg);

    /* Time 0: the first statistics sample, then the background flows,
     * routed by ECMP whatever the strategy (the fabric's default
     * forwarding for everything but migrations). */
    poll(&R);
    double bg_cap =
        p->background_mbps > 0 ? p->background_mbps * 1e6 / 8 : INFINITY;
    int e = 0;
    for (size_t i = 0; !e && i < w->n_background; i++) {
        struct route rt;
        route_init(&rt);
        e = router_find(R.router, ROUTE_ECMP, w->background[i].src,
                        w->background[i].dst, &rt);
        if (e) {
            snprintf(err, errlen, "background flow %zu: no route: %s", i,
                     strerror(e));
            e = EIO;
        } else {
            R.bg[i] = add_flow(&R, &rt, bg_cap);
        }
        route_destroy(&rt);
    }
    R.dirty = w->n_background > 0;
    if (!e) {
        e = loop(&R, err, errlen);
    }
    if (!e) {
        summarise(&R);
    }
    run_destroy(&R);
    if (e) {
        fabsim_result_destroy(r);
    }
    return e;
}

void
fabsim_result_destroy(struct fabsim_result *r)
{
    if (!r || !r->mig) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        for (size_t k = 0; k < r->mig[i].n_paths; k++) {
            route_destroy(&r->mig[i].paths[k]);
        }
        free(r->mig[i].paths);
    }
    free(r->mig);
    r->mig = NULL;
    r->n = 0;
}
