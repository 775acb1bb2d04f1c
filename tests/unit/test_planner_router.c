/* test_planner_router.c: routing: Dijkstra on small graphs (including
 * unreachable hosts), link weights from port statistics, D-R's maximum
 * weight after a choice, the seed-002 experiment (dr vs single), ECMP
 * and the extra-path search the seed-004 loop uses.
 *
 * Expected routes are derived by hand from the topologies below. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "unit/planner_helpers.h"

/* Two routes of 4 links from h1 to h2: a-b-d and a-c-d.  h3 sits on a,
 * h4 on d; e is an island with h5. */
static const char square[] =
    "switch a dpid=1\n"
    "switch b dpid=2\n"
    "switch c dpid=3\n"
    "switch d dpid=4\n"
    "switch e dpid=5\n"
    "link a:1 b:1 1gbit\n"   /* link 0 */
    "link b:2 d:1 1gbit\n"   /* link 1 */
    "link a:2 c:1 1gbit\n"   /* link 2 */
    "link c:2 d:2 1gbit\n"   /* link 3 */
    "host h1 a:10\n"
    "host h2 d:10\n"
    "host h3 a:11\n"
    "host h4 d:11\n"
    "host h5 e:1\n";

struct env {
    struct fabric *f;
    struct router *r;
    struct route route;
    char buf[256];
};

static struct env *
env_new(struct fabric *f)
{
    struct env *env = calloc(1, sizeof *env);
    assert_non_null(env);
    struct router_config cfg;
    router_config_default(&cfg);
    env->f = f;
    env->r = router_create(f, &cfg);
    assert_non_null(env->r);
    route_init(&env->route);
    return env;
}

static void
env_free(struct env *env)
{
    route_destroy(&env->route);
    router_destroy(env->r);
    fabric_destroy(env->f);
    free(env);
}

/* Routes 'src' -> 'dst' with 's' (marking for DR) and returns the node
 * names along it. */
static const char *
go(struct env *env, enum route_strategy s, const char *src, const char *dst)
{
    int err = router_route(env->r, s, node_of(env->f, src),
                           node_of(env->f, dst), &env->route);
    if (err) {
        fail_msg("route %s -> %s: %d", src, dst, err);
    }
    return route_str(env->f, &env->route, env->buf, sizeof env->buf);
}

static uint32_t
link_of(const struct fabric *f, const char *sw, uint32_t port)
{
    uint32_t l = UINT32_MAX;
    assert_true(fabric_port_link(f, node_of(f, sw), port, &l, NULL));
    return l;
}

static void
test_dijkstra_idle_ties_and_hops(void **state)
{
    struct env *env = env_new(parse_ok(square));

    /* Both routes weigh 4 (one per idle link); the tie goes to the lower
     * node id, b. */
    assert_string_equal(go(env, ROUTE_DR, "h1", "h2"), "h1 a b d h2");
    assert_int_equal(env->route.weight, 4);
    assert_int_equal(env->route.n_links, 4);
    assert_int_equal(env->route.n_hops, 3);
    const struct route_hop *h = env->route.hops;
    assert_int_equal(h[0].dpid, 1);
    assert_int_equal(h[0].in_port, 10);
    assert_int_equal(h[0].out_port, 1);
    assert_int_equal(h[1].dpid, 2);
    assert_int_equal(h[1].in_port, 1);
    assert_int_equal(h[1].out_port, 2);
    assert_int_equal(h[2].dpid, 4);
    assert_int_equal(h[2].in_port, 1);
    assert_int_equal(h[2].out_port, 10);
    assert_int_equal(env->route.links[1], link_of(env->f, "a", 1));
    env_free(env);
}

static void
test_unreachable_and_bad_endpoints(void **state)
{
    struct env *env = env_new(parse_ok(square));
    uint32_t h1 = node_of(env->f, "h1"), h5 = node_of(env->f, "h5");
    uint32_t a = node_of(env->f, "a");

    for (unsigned s = 0; s < ROUTE_N_STRATEGIES; s++) {
        assert_int_equal(router_find(env->r, s, h1, h5, &env->route), ENOENT);
        assert_int_equal(router_find(env->r, s, h5, h1, &env->route), ENOENT);
        assert_int_equal(router_find(env->r, s, h1, h1, &env->route), EINVAL);
        assert_int_equal(router_find(env->r, s, h1, a, &env->route), EINVAL);
        assert_int_equal(router_find(env->r, s, 999, h1, &env->route),
                         EINVAL);
    }
    assert_int_equal(router_find(env->r, ROUTE_N_STRATEGIES, h1,
                                 node_of(env->f, "h2"), &env->route),
                     EINVAL);
    env_free(env);
}

/* Routes never cross a host: hx joins a and d with two NICs, yet h1 and
 * h2 cannot reach each other through it. */
static void
test_hosts_do_not_forward(void **state)
{
    struct env *env = env_new(parse_ok("switch a dpid=1\nswitch d dpid=2\n"
                                       "host hx a:1\nnic hx d:1\n"
                                       "host h1 a:2\nhost h2 d:2\n"));
    uint32_t h1 = node_of(env->f, "h1"), h2 = node_of(env->f, "h2");
    for (unsigned s = 0; s < ROUTE_N_STRATEGIES; s++) {
        assert_int_equal(router_find(env->r, s, h1, h2, &env->route), ENOENT);
    }
    /* hx itself may leave by either NIC. */
    assert_string_equal(go(env, ROUTE_DR, "hx", "h2"), "hx d h2");
    assert_string_equal(go(env, ROUTE_SINGLE, "hx", "h1"), "hx a h1");
    env_free(env);
}

/* A link weighs 1 + the bytes its two ports counted in the last period;
 * a heavy link turns D-R away. */
static void
test_weights_from_port_stats(void **state)
{
    struct env *env = env_new(parse_ok(square));
    struct router *r = env->r;
    uint32_t ab = link_of(env->f, "a", 1);

    assert_int_equal(router_link_weight(r, ab), 1);
    /* First samples only set the baseline. */
    assert_int_equal(router_port_stats(r, 1, 1, 5000, 7000, 1000), 0);
    assert_int_equal(router_port_stats(r, 2, 1, 100, 200, 1000), 0);
    assert_int_equal(router_link_weight(r, ab), 1);
    /* One period later: a:1 sent 10^6 more, b:1 received 10^6 more. */
    assert_int_equal(router_port_stats(r, 1, 1, 1005000, 7000, 6000), 0);
    assert_int_equal(router_port_stats(r, 2, 1, 100, 1000200, 6000), 0);
    assert_int_equal(router_link_weight(r, ab), 2000001);
    assert_string_equal(go(env, ROUTE_DR, "h1", "h2"), "h1 a c d h2");
    assert_int_equal(env->route.weight, 4);

    /* Two periods' worth of time: the count is scaled to one period. */
    assert_int_equal(router_port_stats(r, 1, 1, 3005000, 7000, 16000), 0);
    assert_int_equal(router_link_weight(r, ab), 1000000 + 1000000 + 1);

    /* A counter that went back was reset: it counts from zero. */
    assert_int_equal(router_port_stats(r, 1, 1, 4000, 7000, 21000), 0);
    assert_int_equal(router_link_weight(r, ab), 4000 + 1000000 + 1);

    /* Refused samples change nothing. */
    assert_int_equal(router_port_stats(r, 1, 1, 9999999, 0, 21000), EINVAL);
    assert_int_equal(router_port_stats(r, 1, 1, 9999999, 0, 20000), EINVAL);
    assert_int_equal(router_port_stats(r, 9, 1, 1, 1, 30000), ENOENT);
    assert_int_equal(router_port_stats(r, 1, 77, 1, 1, 30000), ENOENT);
    assert_int_equal(router_link_weight(r, ab), 4000 + 1000000 + 1);

    /* The load also shrinks what is left of the link, per direction.
     * a->b: a:1 sent 4000 B, b:1 last received 10^6 B a period; the
     * larger, 10^6 B in 5 s, is 1.6 Mbit/s.  b->a carried nothing. */
    assert_near(router_link_residual_bps(r, ab, 0), 1e9 - 1600000, 1e-12);
    assert_near(router_link_residual_bps(r, ab, 1), 1e9, 1e-12);
    env_free(env);
}

/* D-R: a chosen route's links weigh the maximum until the next period,
 * so the next pair takes the other route; a new period forgets. */
static void
test_max_after_choice(void **state)
{
    struct env *env = env_new(parse_ok(square));
    struct router *r = env->r;

    assert_string_equal(go(env, ROUTE_DR, "h1", "h2"), "h1 a b d h2");
    assert_int_equal(router_link_weight(r, link_of(env->f, "a", 1)),
                     ROUTER_WEIGHT_MAX);
    assert_int_equal(router_link_weight(r, link_of(env->f, "b", 2)),
                     ROUTER_WEIGHT_MAX);
    assert_int_equal(router_link_weight(r, link_of(env->f, "a", 2)), 1);
    assert_string_equal(go(env, ROUTE_DR, "h3", "h4"), "h3 a c d h4");

    /* Both routes are taken now: the least-marked one wins again. */
    assert_string_equal(go(env, ROUTE_DR, "h1", "h4"), "h1 a b d h4");

    /* router_find() alone does not mark. */
    router_period_begin(r);
    assert_int_equal(router_link_weight(r, link_of(env->f, "a", 1)), 1);
    assert_int_equal(router_find(r, ROUTE_DR, node_of(env->f, "h1"),
                                 node_of(env->f, "h2"), &env->route),
                     0);
    assert_int_equal(router_link_weight(r, link_of(env->f, "a", 1)), 1);
    assert_string_equal(go(env, ROUTE_DR, "h3", "h4"), "h3 a b d h4");

    /* single and ECMP never mark. */
    router_period_begin(r);
    go(env, ROUTE_SINGLE, "h1", "h2");
    go(env, ROUTE_ECMP, "h1", "h2");
    for (uint32_t l = 0; l < fabric_n_links(env->f); l++) {
        assert_true(router_link_weight(r, l) < ROUTER_WEIGHT_MAX);
    }
    env_free(env);
}

/* Seed 002 §5.2: transfers 4->1, 5->2, 6->3 at once.  'dr' gives each a
 * core of its own; 'single' puts all three through the same core. */
static void
test_seed002_dr_vs_single(void **state)
{
    static const char *const pairs[3][2] = {
        {"h4", "h1"}, {"h5", "h2"}, {"h6", "h3"}};
    struct fabric *f = NULL;
    assert_int_equal(fabric_seed002(500000000, &f), FABRIC_E_OK);
    struct env *env = env_new(f);

    uint32_t cores_dr[3], cores_single[3];
    for (int i = 0; i < 3; i++) {
        go(env, ROUTE_DR, pairs[i][0], pairs[i][1]);
        assert_int_equal(env->route.n_links, 4);
        cores_dr[i] = env->route.nodes[2];
    }
    router_period_begin(env->r);
    for (int i = 0; i < 3; i++) {
        go(env, ROUTE_SINGLE, pairs[i][0], pairs[i][1]);
        assert_int_equal(env->route.n_links, 4);
        cores_single[i] = env->route.nodes[2];
    }
    assert_true(cores_dr[0] != cores_dr[1] && cores_dr[1] != cores_dr[2]
                && cores_dr[0] != cores_dr[2]);
    assert_true(cores_single[0] == cores_single[1]
                && cores_single[1] == cores_single[2]);
    for (int i = 0; i < 3; i++) {
        const char *name = fabric_node_name(env->f, cores_dr[i]);
        assert_true(!strcmp(name, "s1") || !strcmp(name, "s2")
                    || !strcmp(name, "s3"));
    }

    /* The first dr route in detail: h4 on s5:1, s5:4 - s1:2, s1:1 -
     * s4:4, h1 on s4:1. */
    router_period_begin(env->r);
    assert_string_equal(go(env, ROUTE_DR, "h4", "h1"), "h4 s5 s1 s4 h1");
    const struct route_hop *h = env->route.hops;
    assert_int_equal(env->route.n_hops, 3);
    assert_true(h[0].dpid == 5 && h[0].in_port == 1 && h[0].out_port == 4);
    assert_true(h[1].dpid == 1 && h[1].in_port == 2 && h[1].out_port == 1);
    assert_true(h[2].dpid == 4 && h[2].in_port == 4 && h[2].out_port == 1);

    /* With load on s1 and s2 from the last period, the first pair goes
     * by s3 even though nothing was chosen yet. */
    router_period_begin(env->r);
    for (uint64_t t = 0; t < 2; t++) {
        router_port_stats(env->r, 1, 1, t * 9000000, 0, 1000 + t * 5000);
        router_port_stats(env->r, 2, 1, t * 5000000, 0, 1000 + t * 5000);
    }
    assert_string_equal(go(env, ROUTE_DR, "h4", "h1"), "h4 s5 s3 s4 h1");
    env_free(env);
}

/* ECMP: deterministic, shortest, and spread over the equal-hop paths. */
static void
test_ecmp_fat_tree(void **state)
{
    struct fabric *f = NULL;
    assert_int_equal(fabric_fat_tree(4, 1000000000, 1000000000, &f),
                     FABRIC_E_OK);
    struct env *env = env_new(f);
    uint32_t src = node_of(f, "h1_1_1");
    bool core_used[4] = {false};
    struct route again;
    route_init(&again);

    for (uint32_t dst = 0; dst < fabric_n_nodes(f); dst++) {
        if (fabric_node_kind(f, dst) != FABRIC_HOST || dst == src) {
            continue;
        }
        const char *name = fabric_node_name(f, dst);
        go(env, ROUTE_ECMP, "h1_1_1", name);
        assert_int_equal(router_find(env->r, ROUTE_ECMP, src, dst, &again),
                         0);
        assert_true(route_equal(&env->route, &again));
        /* Shortest: 2 links in the same edge, 4 in the pod, 6 across. */
        bool same_edge = !strncmp(name, "h1_1_", 5);
        bool same_pod = !strncmp(name, "h1_", 3);
        size_t want = same_edge ? 2 : same_pod ? 4 : 6;
        assert_int_equal(env->route.n_links, want);
        go(env, ROUTE_SINGLE, "h1_1_1", name);
        assert_int_equal(env->route.n_links, want);
        if (want == 6) {
            go(env, ROUTE_ECMP, "h1_1_1", name);
            const char *core = fabric_node_name(f, env->route.nodes[3]);
            assert_true(core[0] == 'c');
            core_used[core[1] - '1'] = true;
        }
    }
    /* 12 destinations across pods hash over 4 cores. */
    int used = 0;
    for (int c = 0; c < 4; c++) {
        used += core_used[c];
    }
    assert_true(used >= 2);
    route_destroy(&again);
    env_free(env);
}

/* The seed-004 loop's next path: disjoint if possible, else sharing as
 * little as it can, never a route already in use. */
static void
test_find_extra(void **state)
{
    struct fabric *f = NULL;
    assert_int_equal(fabric_seed002(500000000, &f), FABRIC_E_OK);
    struct env *env = env_new(f);
    uint32_t h4 = node_of(f, "h4"), h1 = node_of(f, "h1");
    struct route used[4];
    for (int i = 0; i < 4; i++) {
        route_init(&used[i]);
    }

    assert_int_equal(router_find(env->r, ROUTE_SINGLE, h4, h1, &used[0]),
                     0);
    /* Single-NIC hosts: nothing is disjoint, so each extra path shares
     * only the two host links. */
    for (int i = 1; i < 3; i++) {
        assert_int_equal(router_find_extra(env->r, h4, h1, used, i,
                                           &used[i]),
                         0);
        for (int j = 0; j < i; j++) {
            assert_int_not_equal(used[i].nodes[2], used[j].nodes[2]);
            assert_false(route_equal(&used[i], &used[j]));
        }
    }
    /* All three cores taken: no further path. */
    assert_int_equal(router_find_extra(env->r, h4, h1, used, 3, &used[3]),
                     ENOENT);
    assert_int_equal(used[3].n_links, 0);
    /* Searching does not mark. */
    for (uint32_t l = 0; l < fabric_n_links(f); l++) {
        assert_true(router_link_weight(env->r, l) < ROUTER_WEIGHT_MAX);
    }
    for (int i = 0; i < 4; i++) {
        route_destroy(&used[i]);
    }
    env_free(env);

    /* A host with a second NIC gets a fully disjoint path. */
    env = env_new(parse_ok("switch a dpid=1\nswitch b dpid=2\n"
                           "switch c dpid=3\n"
                           "link a:1 c:1 1gbit\nlink b:1 c:2 1gbit\n"
                           "host src a:2\nnic src b:2\nhost dst c:3\n"
                           "nic dst c:4\n"));
    uint32_t s = node_of(env->f, "src"), d = node_of(env->f, "dst");
    assert_int_equal(router_find(env->r, ROUTE_DR, s, d, &used[0]), 0);
    assert_int_equal(router_find_extra(env->r, s, d, used, 1, &used[1]), 0);
    for (size_t i = 0; i < used[1].n_links; i++) {
        for (size_t j = 0; j < used[0].n_links; j++) {
            assert_int_not_equal(used[1].links[i], used[0].links[j]);
        }
    }
    route_destroy(&used[0]);
    route_destroy(&used[1]);
    env_free(env);
}

static void
test_route_copy_and_names(void **state)
{
    struct env *env = env_new(parse_ok(square));
    go(env, ROUTE_DR, "h1", "h2");
    struct route copy;
    route_init(&copy);
    assert_int_equal(route_copy(&copy, &env->route), 0);
    assert_true(route_equal(&copy, &env->route));
    assert_int_equal(copy.n_hops, env->route.n_hops);
    assert_int_equal(copy.hops[2].out_port, env->route.hops[2].out_port);
    go(env, ROUTE_DR, "h1", "h2"); /* now via c */
    assert_false(route_equal(&copy, &env->route));
    route_destroy(&copy);

    enum route_strategy s;
    assert_true(route_strategy_from_name("ecmp", &s));
    assert_int_equal(s, ROUTE_ECMP);
    assert_true(route_strategy_from_name("dr", &s));
    assert_int_equal(s, ROUTE_DR);
    assert_false(route_strategy_from_name("dr+paths", &s));
    assert_string_equal(route_strategy_name(ROUTE_SINGLE), "single");
    env_free(env);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dijkstra_idle_ties_and_hops),
        cmocka_unit_test(test_unreachable_and_bad_endpoints),
        cmocka_unit_test(test_hosts_do_not_forward),
        cmocka_unit_test(test_weights_from_port_stats),
        cmocka_unit_test(test_max_after_choice),
        cmocka_unit_test(test_seed002_dr_vs_single),
        cmocka_unit_test(test_ecmp_fat_tree),
        cmocka_unit_test(test_find_extra),
        cmocka_unit_test(test_route_copy_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
