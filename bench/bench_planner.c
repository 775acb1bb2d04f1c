/* bench_planner.c: how fast the planner routes and plans on a k-ary
 * fat-tree (k = 16: 1,024 hosts, 320 switches): D-R Dijkstra against a BFS
 * baseline (the 'single' strategy) and ECMP in the same run, then whole
 * seed-004 plans that add paths.
 *
 * Usage: bench_planner [k] [routes]   (defaults 16 and 20000)
 * Figures are CPU time of the benchmarking thread (clock_thread_cpu_s()):
 * the 2-core machine is shared, and wall time would count other processes'
 * turns as ours.
 * The only program here that reads a clock; it never touches the network. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/clock.h"
#include "mignet/planner.h"

/* xorshift64*: a fixed sequence, so every run routes the same pairs. */
static uint64_t
next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

struct pairs {
    uint32_t *src, *dst;
    size_t n;
};

static int
make_pairs(const struct fabric *f, size_t n, struct pairs *p)
{
    size_t hosts = fabric_n_hosts(f);
    uint32_t *ids = malloc(hosts * sizeof *ids);
    p->src = malloc(n * sizeof *p->src);
    p->dst = malloc(n * sizeof *p->dst);
    if (!ids || !p->src || !p->dst) {
        free(ids);
        return ENOMEM;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < fabric_n_nodes(f); i++) {
        if (fabric_node_kind(f, i) == FABRIC_HOST) {
            ids[k++] = i;
        }
    }
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = ids[next_rand(&seed) % hosts];
        uint32_t b;
        do {
            b = ids[next_rand(&seed) % hosts];
        } while (b == a);
        p->src[i] = a;
        p->dst[i] = b;
    }
    p->n = n;
    free(ids);
    return 0;
}

/* Two samples a period apart on every switch port, random loads, so
 * that Dijkstra works on distinct weights rather than hop counts. */
static void
load_fabric(const struct fabric *f, struct router *r)
{
    uint64_t seed = 42;
    for (uint32_t l = 0; l < fabric_n_links(f); l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        for (unsigned e = 0; e < 2; e++) {
            uint64_t dpid = fabric_node_dpid(f, lk->node[e]);
            if (!dpid) {
                continue;
            }
            uint64_t tx = next_rand(&seed) % 600000000;
            uint64_t rx = next_rand(&seed) % 600000000;
            router_port_stats(r, dpid, lk->port[e], 0, 0, 1);
            router_port_stats(r, dpid, lk->port[e], tx, rx, 5001);
        }
    }
}

struct result {
    double seconds;
    size_t routes;
    size_t links;
};

static struct result
run_routes(struct router *r, enum route_strategy s, const struct pairs *p,
           bool mark, unsigned period)
{
    struct route route;
    struct result res = {0};
    route_init(&route);
    double t0 = clock_thread_cpu_s();
    for (size_t i = 0; i < p->n; i++) {
        if (mark && period && i % period == 0) {
            router_period_begin(r);
        }
        int err = mark ? router_route(r, s, p->src[i], p->dst[i], &route)
                       : router_find(r, s, p->src[i], p->dst[i], &route);
        if (err) {
            fprintf(stderr, "route failed: %d\n", err);
            exit(1);
        }
        res.links += route.n_links;
    }
    res.seconds = clock_thread_cpu_s() - t0;
    res.routes = p->n;
    route_destroy(&route);
    return res;
}

static void
report(const char *what, struct result res, double baseline)
{
    double rps = (double) res.routes / res.seconds;
    printf("%-34s %10.0f routes/s %8.2f us/route  %5.2f links  %5.2fx\n",
           what, rps, 1e6 * res.seconds / (double) res.routes,
           (double) res.links / (double) res.routes,
           baseline > 0 ? rps / baseline : 1.0);
}

static int
cmp_double(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;
    return (a > b) - (a < b);
}

/* Whole plans: 1 GiB, 20k dirty pages/s (82 MB/s), a 4 s deadline that
 * one 1 Gbit/s path misses (D/B = 0.66: 20.4 s) and four idle ones meet
 * (host NICs are 10 Gbit/s; 5 extra streams fit the target's CPU). */
static void
run_plans(struct router *r, const struct pairs *p, size_t plans,
          const char *what)
{
    struct plan_config cfg;
    plan_config_default(&cfg);
    size_t paths = 0, counts[PLAN_N_STOPS] = {0};
    double *times = calloc(plans, sizeof *times);
    if (!times) {
        exit(1);
    }
    double t0 = clock_thread_cpu_s();
    for (size_t i = 0; i < plans && i < p->n; i++) {
        struct plan_request req = {
            .src = p->src[i],
            .dst = p->dst[i],
            .memory_bytes = UINT64_C(1) << 30,
            .dirty_pages_per_s = 20000,
            .page_size = 4096,
            .deadline_ms = 4000,
            .target_cpu_free = 0.5,
            .strategy = ROUTE_DR,
        };
        struct plan *plan;
        double t1 = clock_thread_cpu_s();
        if (plan_create(r, &cfg, &req, &plan)) {
            fprintf(stderr, "plan failed\n");
            exit(1);
        }
        times[i] = clock_thread_cpu_s() - t1;
        paths += plan_n_paths(plan);
        counts[plan_stop(plan)]++;
        plan_destroy(plan);
        /* A new period now and then, as polls would bring. */
        if (i % 16 == 15) {
            router_period_begin(r);
        }
    }
    double dt = clock_thread_cpu_s() - t0;
    qsort(times, plans, sizeof *times, cmp_double);
    printf("%-34s %10.0f plans/s  %8.2f us/plan   %5.2f paths\n", what,
           (double) plans / dt, 1e6 * dt / (double) plans,
           (double) paths / (double) plans);
    printf("  per plan: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
           times[plans / 2] * 1e3, times[plans * 99 / 100] * 1e3,
           times[plans - 1] * 1e3);
    free(times);
    printf("  stop reasons:");
    for (unsigned s = 0; s < PLAN_N_STOPS; s++) {
        if (counts[s]) {
            printf(" %s=%zu", plan_stop_name(s), counts[s]);
        }
    }
    printf("\n");
}

int
main(int argc, char **argv)
{
    unsigned k = argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 16;
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000;
    struct fabric *f = NULL;

    if (fabric_fat_tree(k, 10000000000ull, 1000000000ull, &f)) {
        fprintf(stderr, "bad k %u (even, 2..48)\n", k);
        return 2;
    }
    struct router_config rc;
    router_config_default(&rc);
    struct router *r = router_create(f, &rc);
    struct pairs p;
    if (!r || !n || make_pairs(f, n, &p)) {
        fprintf(stderr, "out of memory or no routes asked for\n");
        return 1;
    }
    printf("fat-tree k=%u: %zu hosts, %zu nodes, %zu links; %zu random "
           "host pairs\n", k, fabric_n_hosts(f), fabric_n_nodes(f),
           fabric_n_links(f), n);

    /* Warm up caches and page in the scratch arrays. */
    run_routes(r, ROUTE_DR, &p, false, 0);

    struct result bfs = run_routes(r, ROUTE_SINGLE, &p, false, 0);
    double base = (double) bfs.routes / bfs.seconds;
    report("single (BFS, baseline)", bfs, 0);
    report("ecmp (BFS from dst + count)", run_routes(r, ROUTE_ECMP, &p,
                                                     false, 0), base);
    report("dr Dijkstra, idle fabric", run_routes(r, ROUTE_DR, &p, false, 0),
           base);
    load_fabric(f, r);
    report("dr Dijkstra, loaded fabric", run_routes(r, ROUTE_DR, &p, false,
                                                    0), base);
    report("dr Dijkstra + marks, 64/period", run_routes(r, ROUTE_DR, &p,
                                                        true, 64), base);

    run_plans(r, &p, n / 10 ? n / 10 : 1, "plan (seed-004 loop), loaded");
    router_destroy(r);
    r = router_create(f, &rc);
    if (!r) {
        return 1;
    }
    run_plans(r, &p, n / 10 ? n / 10 : 1, "plan (seed-004 loop), idle");

    free(p.src);
    free(p.dst);
    router_destroy(r);
    fabric_destroy(f);
    return 0;
}
