/* test_sim_push.c: map push and the OVN-like strategy in the simulator.
 *
 * push (mignet + coalesced map push with version acks) must cut relayed
 * packets and cleanup against mignet on the same workload without ever
 * deleting early; ovn must pay duplicated packets and need no relay; both
 * must count their control messages by kind and be deterministic.  Each
 * check compares strategies on the very same workload. */
#include "simtest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

static void
assert_kinds_add_up(const struct sim_result *r)
{
    assert_true(simtest_kinds_add_up(r));
}

static void
test_push_cuts_relays_and_cleanup(void **state)
{
    (void)state;
    for (int pat = 0; pat < SIM_N_PATTERNS; pat++) {
        struct sim_params p;
        simtest_small_params(&p, (enum sim_pattern)pat, 3);
        struct sim_result push, mignet;
        simtest_run(&p, "push", &push);
        simtest_run(&p, "mignet", &mignet);
        assert_true(simtest_conserved(&push));
        assert_int_equal(push.sent, mignet.sent);
        assert_int_equal(push.migrations, mignet.migrations);
        assert_int_equal(push.cleaned, push.migrations);
        assert_int_equal(push.lost_stale + push.lost_other, 0);
        assert_int_equal(push.wrong_deletions + push.early_deletes, 0);
        /* The gain: nodes learn within a latency instead of a poll. */
        assert_true(mignet.relayed > 0);
        assert_true(push.relayed * 10 < mignet.relayed);
        assert_true(push.stale_sent * 10 < mignet.stale_sent);
        assert_true(push.cleanup_p99_ms * 5 < mignet.cleanup_p99_ms);
        assert_true(push.released_early > 0);
        /* The cost: one push and one version ack per node and update;
         * polls go on at the same cadence. */
        assert_true(push.pushes > 0);
        assert_int_equal(push.pushes % p.nodes, 0);
        assert_int_equal(push.version_acks, push.pushes);
        assert_int_equal(push.gateway_polls, mignet.gateway_polls);
        assert_int_equal(push.subscriptions, p.nodes);
        assert_int_equal(mignet.subscriptions, 0);
        assert_int_equal(mignet.pushes + mignet.version_acks, 0);
        assert_int_equal(push.open_connections, p.nodes);
        assert_kinds_add_up(&push);
        assert_kinds_add_up(&mignet);
    }
}

/* Coalescing: a longer interval sends fewer pushes and, nodes learning
 * later, relays more; never a loss. */
static void
test_push_coalesces(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 5);
    p.rate = 200;
    struct sim_result fast, slow;
    p.push_interval_ms = 0;
    simtest_run(&p, "push", &fast);
    p.push_interval_ms = 500;
    simtest_run(&p, "push", &slow);
    assert_true(slow.pushes * 4 < fast.pushes);
    assert_true(slow.relayed > fast.relayed);
    assert_int_equal(slow.lost_stale + slow.lost_other, 0);
    assert_int_equal(slow.early_deletes + slow.wrong_deletions, 0);
    /* Every map change reached every node: one push per change, but
     * for changes at the same instant. */
    assert_true(fast.pushes <= (uint64_t)fast.migrations * p.nodes);
    assert_true(fast.pushes * 10 >= (uint64_t)fast.migrations * p.nodes * 9);
}

/* Random schedules, as the property test's: push never deletes early and
 * loses nothing but paused packets; the invariant checks stay on. */
static void
test_push_never_deletes_early(void **state)
{
    (void)state;
    for (uint64_t seed = 9000; seed < 10000; seed++) {
        struct sim_params p;
        simtest_random_params(&p, seed);
        p.push_interval_ms = (uint32_t)(seed % 4) * 25;
        p.push_down = (double)(seed % 3) * 0.25;
        struct sim_result r;
        simtest_run(&p, "push", &r);
        bool ok = simtest_conserved(&r) && r.lost_stale == 0
                  && r.lost_other == 0 && r.wrong_deletions == 0
                  && r.early_deletes == 0 && r.tasks_left == 0
                  && r.hot_left == 0 && r.after_horizon == 0
                  && r.core_errors == 0 && r.cleaned == r.migrations
                  && r.migrations == r.planned;
        if (!ok) {
            char cmd[1024];
            sim_params_cmdline(&p, "push", cmd, sizeof cmd);
            print_error("seed %" PRIu64 ": stale %" PRIu64 " other %" PRIu64
                        " early %" PRIu64 "\nreplay: %s\n", seed,
                        r.lost_stale, r.lost_other, r.early_deletes, cmd);
        }
        assert_true(ok);
    }
}

/* Nodes whose channel is down learn by polling: the deletion waits for
 * them (bounded by the pull cadence, as mignet's), and with every channel
 * down push is mignet. */
static void
test_push_channel_down_falls_back_to_polls(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 2);
    struct sim_result up, some, none, mignet;
    simtest_run(&p, "push", &up);
    simtest_run(&p, "mignet", &mignet);
    p.push_down = 0.3;
    simtest_run(&p, "push", &some);
    p.push_down = 1;
    simtest_run(&p, "push", &none);
    assert_true(some.subscriptions < p.nodes);
    assert_true(some.subscriptions > 0);
    assert_int_equal(some.pushes % some.subscriptions, 0);
    assert_int_equal(some.lost_stale + some.lost_other, 0);
    assert_int_equal(some.early_deletes, 0);
    assert_true(some.cleanup_p50_ms > 5 * up.cleanup_p99_ms);
    assert_true(some.relayed > up.relayed);
    assert_int_equal(none.subscriptions + none.pushes + none.version_acks,
                     0);
    assert_int_equal(none.relayed, mignet.relayed);
    assert_int_equal(none.delivered, mignet.delivered);
    assert_true(none.cleanup_p99_ms == mignet.cleanup_p99_ms);
}

/* The detector can fire: naive deletes at once. */
static void
test_early_delete_detector(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 1);
    struct sim_result naive, mignet;
    simtest_run(&p, "naive", &naive);
    simtest_run(&p, "mignet", &mignet);
    assert_true(naive.early_deletes > 0);
    assert_int_equal(mignet.early_deletes, 0);
}

static void
test_ovn_duplicates_without_relays(void **state)
{
    (void)state;
    for (int pat = 0; pat < SIM_N_PATTERNS; pat++) {
        struct sim_params p;
        simtest_small_params(&p, (enum sim_pattern)pat, 4);
        struct sim_result ovn, naive;
        simtest_run(&p, "ovn", &ovn);
        simtest_run(&p, "naive", &naive);
        assert_true(simtest_conserved(&ovn));
        assert_int_equal(ovn.sent, naive.sent);
        assert_int_equal(ovn.relayed, 0);
        assert_true(ovn.extra_packets > 0);
        assert_int_equal(naive.extra_packets, 0);
        /* Pushed within the latency (< the pause): no stale loss, which
         * naive, polling, has. */
        assert_int_equal(ovn.lost_stale + ovn.lost_other, 0);
        assert_true(naive.lost_stale > 0);
        assert_int_equal(ovn.wrong_deletions + ovn.early_deletes, 0);
        assert_int_equal(ovn.cleaned, ovn.migrations);
        assert_int_equal(ovn.gateway_polls, 0);
        assert_int_equal(ovn.version_acks, 0);
        /* A push per change (changes at one instant share one). */
        assert_int_equal(ovn.pushes % p.nodes, 0);
        assert_true(ovn.pushes > 0);
        assert_true(ovn.pushes <= (uint64_t)ovn.migrations * p.nodes);
        assert_int_equal(ovn.subscriptions, p.nodes);
        assert_int_equal(ovn.hot_left, 0);
        /* The dual binding ends a latency after the destination's
         * activation: pause + latency after the move here; the source
         * confirms the deletion a round trip later (cleaned). */
        assert_true(p.pause_ms >= 2 * p.latency_ms);
        assert_true(ovn.cleanup_p50_ms >= p.pause_ms + p.latency_ms);
        assert_true(ovn.cleanup_max_ms
                    <= p.pause_ms + 3 * p.latency_ms + 2);
        assert_kinds_add_up(&ovn);
    }
}

/* Duplicates grow with the window: every fresh sender clones for the
 * pause plus one latency. */
static void
test_ovn_duplicates_grow_with_pause(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 6);
    struct sim_result a, b;
    p.pause_ms = 20;
    simtest_run(&p, "ovn", &a);
    p.pause_ms = 200;
    simtest_run(&p, "ovn", &b);
    assert_true(b.extra_packets > 5 * a.extra_packets);
    assert_true(a.extra_packets > 0);
}

/* Without relays, packets still on the wire to the old node when the VM
 * resumes elsewhere are lost: a stale sender's (until nodes learn the
 * binding) when a latency plus a data hop outlast the pause.  push's
 * relay delivers them. */
static void
test_ovn_loses_what_no_relay_saves(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 7);
    p.latency_ms = 1;
    p.pause_ms = 2;
    p.data_latency_us = 3000;
    struct sim_result ovn, push;
    simtest_run(&p, "ovn", &ovn);
    simtest_run(&p, "push", &push);
    assert_true(ovn.lost_stale > 0);
    assert_true(ovn.lost_other > 0); /* sent before the move */
    assert_int_equal(ovn.early_deletes + ovn.wrong_deletions, 0);
    assert_int_equal(push.lost_stale + push.lost_other, 0);
    assert_true(push.relayed > 0);
    assert_int_equal(ovn.sent, push.sent);
}

static char *
json_of(const struct sim_params *p, const char *strategy)
{
    struct sim_result r;
    simtest_run(p, strategy, &r);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(sim_report_json(f, p, &r, 1), 0);
    fclose(f);
    return buf;
}

static void
test_deterministic_json(void **state)
{
    (void)state;
    const char *strategies[] = {"push", "ovn"};
    for (size_t i = 0; i < 2; i++) {
        struct sim_params p;
        simtest_small_params(&p, SIM_CHAIN, 8);
        char *a = json_of(&p, strategies[i]);
        char *b = json_of(&p, strategies[i]);
        assert_string_equal(a, b);
        assert_non_null(strstr(a, "\"pushes\": "));
        p.seed = 9;
        char *c = json_of(&p, strategies[i]);
        assert_string_not_equal(a, c);
        free(a);
        free(b);
        free(c);
    }
}

static void
test_push_interval_option(void **state)
{
    (void)state;
    struct sim_params p;
    sim_params_default(&p);
    assert_int_equal(p.push_interval_ms, 10);
    char err[256];
    bool help;
    char *ok[] = {"sim", "--push-interval-ms", "250", "--strategy",
                  "push,ovn"};
    assert_int_equal(sim_params_parse(&p, 5, ok, &help, err, sizeof err),
                     0);
    assert_int_equal(p.push_interval_ms, 250);
    assert_string_equal(p.strategy, "push,ovn");
    char *bad[] = {"sim", "--push-interval-ms", "-1"};
    assert_int_equal(sim_params_parse(&p, 3, bad, &help, err, sizeof err),
                     EINVAL);
    assert_non_null(strstr(err, "push-interval-ms"));
    assert_int_equal(p.push_interval_ms, 250);
    char *big[] = {"sim", "--push-interval-ms", "60001"};
    assert_int_equal(sim_params_parse(&p, 3, big, &help, err, sizeof err),
                     EINVAL);
    char *down[] = {"sim", "--push-down", "1.5"};
    assert_int_equal(sim_params_parse(&p, 3, down, &help, err, sizeof err),
                     EINVAL);
    assert_non_null(strstr(err, "push-down"));
    assert_true(p.push_down == 0);
    char cmd[1024];
    sim_params_cmdline(&p, "push", cmd, sizeof cmd);
    assert_non_null(strstr(cmd, "--push-interval-ms 250"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_cuts_relays_and_cleanup),
        cmocka_unit_test(test_push_coalesces),
        cmocka_unit_test(test_push_never_deletes_early),
        cmocka_unit_test(test_push_channel_down_falls_back_to_polls),
        cmocka_unit_test(test_early_delete_detector),
        cmocka_unit_test(test_ovn_duplicates_without_relays),
        cmocka_unit_test(test_ovn_duplicates_grow_with_pause),
        cmocka_unit_test(test_ovn_loses_what_no_relay_saves),
        cmocka_unit_test(test_deterministic_json),
        cmocka_unit_test(test_push_interval_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
