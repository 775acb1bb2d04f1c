/* test_sim_lifecycle.c: the switch-over modes of `mignet sim`.
 *
 * The simulated VM manager follows the hypervisor through the core's
 * lifecycle (--switchover manual|rarp|lossless, --precopy-ms,
 * --abort-rate).  Each check compares modes on seeded worlds: lossless
 * queues what `now` loses in the pause, rarp's activation switches the
 * network after the resume, a cancelled migration loses nothing and
 * leaves nothing behind.  No timing is measured: every number is a count
 * of the deterministic simulation. */
#include "simtest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

static void
run_mode(struct sim_params *p, enum mig_switchover sw, const char *strategy,
         struct sim_result *r)
{
    p->switchover = sw;
    simtest_run(p, strategy, r);
    assert_true(simtest_conserved(r));
    assert_string_equal(r->switchover, mig_switchover_name(sw));
}

/* What every run of a mode must keep: the lifecycle ends, nothing is
 * deleted early or wrongly, no core call fails, no window stays open. */
static void
assert_clean_end(const struct sim_result *r)
{
    assert_int_equal(r->core_errors + r->migrate_errors, 0);
    assert_int_equal(r->wrong_deletions + r->early_deletes, 0);
    assert_int_equal(r->tasks_left, 0);
    assert_int_equal(r->hot_left, 0);
    assert_int_equal(r->jobs_unfinished, 0);
    assert_int_equal(r->after_horizon, 0);
    assert_int_equal(r->cleaned + r->aborted, r->migrations);
}

/* Packets per millisecond that reach one VM. */
static double
rate_per_ms(const struct sim_params *p)
{
    return (double)p->peers * p->pps / 1000.0;
}

/* now loses the pause; lossless switches before it and queues what
 * arrives at the destination until the resume: nothing lost, inside the
 * pause or outside it, each queued packet late by at most the pause and
 * the switch's confirmation. */
static void
test_lossless_queues_the_pause(void **state)
{
    (void)state;
    const enum sim_pattern pats[] = {SIM_RANDOM, SIM_DRAIN};
    const char *strategies[] = {"mignet", "push"};
    for (size_t i = 0; i < 2; i++) {
        for (size_t s = 0; s < 2; s++) {
            struct sim_params p;
            simtest_small_params(&p, pats[i], 3);
            struct sim_result now, ll;
            run_mode(&p, MIG_SW_NOW, strategies[s], &now);
            run_mode(&p, MIG_SW_LOSSLESS, strategies[s], &ll);
            assert_clean_end(&now);
            assert_clean_end(&ll);
            assert_int_equal(ll.migrations, p.migrations);
            /* now: every packet of the pause is lost. */
            double pause_pkts = rate_per_ms(&p) * p.pause_ms
                                * (double)now.migrations;
            assert_true((double)now.lost_pause > 0.9 * pause_pkts);
            assert_int_equal(now.queued, 0);
            /* lossless: none (but the rare install race of polls that
             * answer at once, test_install_race_counted). */
            assert_int_equal(ll.lost_pause + ll.lost_stale + ll.lost_other
                                 + ll.lost_activation,
                             0);
            assert_true(ll.lost_install_race * 1000 <= ll.queued);
            /* Held instead: about the pause and one latency per move. */
            double held = rate_per_ms(&p) * (p.pause_ms + p.latency_ms)
                          * (double)ll.migrations;
            assert_true((double)ll.queued > 0.9 * held);
            assert_true((double)ll.queued < 1.1 * held);
            assert_true(ll.queued_delay_max_ms >= p.pause_ms);
            assert_true(ll.queued_delay_max_ms
                        <= p.pause_ms + 2 * p.latency_ms + 1);
            assert_true(ll.queued_delay_mean_ms > 0);
            assert_true(ll.queued_delay_mean_ms < ll.queued_delay_max_ms);
            /* The destination's agent saw the VM's first frame. */
            assert_int_equal(ll.activations, ll.migrations);
            assert_int_equal(now.activations, 0);
        }
    }
}

/* rarp: the VM resumes on its own; the destination delivers at once and
 * reports `activated`; mignetd switches a latency later and the relay
 * reaches the source another latency later.  What the source drops in
 * those two latencies is the activation gap -- nothing stale, nothing
 * else.  manual's switch-over call comes with the resume: one latency. */
static void
test_rarp_activation_switches(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_DRAIN, 4);
    struct sim_result rarp, manual;
    run_mode(&p, MIG_SW_RARP, "mignet", &rarp);
    run_mode(&p, MIG_SW_MANUAL, "mignet", &manual);
    assert_clean_end(&rarp);
    assert_clean_end(&manual);
    assert_int_equal(rarp.cleaned, p.migrations);
    /* Every migration switched on its activation report, a control
     * message of its own. */
    assert_int_equal(rarp.activations, rarp.migrations);
    assert_true(simtest_kinds_add_up(&rarp));
    assert_true(simtest_kinds_add_up(&manual));
    assert_int_equal(manual.activations, 0);
    assert_true(rarp.relayed > 0);
    assert_int_equal(rarp.lost_stale + rarp.lost_other + rarp.queued, 0);
    /* The destination delivers from the resume on, before mignet even
     * heard of it: no sender that learned the switch finds it
     * inactive. */
    assert_int_equal(rarp.lost_install_race, 0);
    assert_int_equal(manual.lost_stale + manual.lost_other + manual.queued,
                     0);
    double gap = rate_per_ms(&p) * p.latency_ms * (double)rarp.migrations;
    assert_true((double)rarp.lost_activation > 1.5 * gap);
    assert_true((double)rarp.lost_activation < 2.5 * gap);
    assert_true((double)manual.lost_activation > 0.5 * gap);
    assert_true((double)manual.lost_activation < 1.5 * gap);
    /* Both pause as long as the hypervisor does. */
    double pause_pkts = rate_per_ms(&p) * p.pause_ms
                        * (double)rarp.migrations;
    assert_true((double)rarp.lost_pause > 0.9 * pause_pkts);
    assert_true((double)rarp.lost_pause < 1.1 * pause_pkts);
}

/* Cancelled in the pre-copy: the destination's prepared copy goes, the
 * VM keeps running on its source and loses nothing, the core keeps no
 * task and the map never moved. */
static void
test_aborts_lose_nothing(void **state)
{
    (void)state;
    const enum mig_switchover modes[] = {MIG_SW_MANUAL, MIG_SW_RARP,
                                         MIG_SW_LOSSLESS};
    for (size_t m = 0; m < 3; m++) {
        struct sim_params p;
        simtest_small_params(&p, SIM_CHAIN, 5);
        p.abort_rate = 1;
        struct sim_result r;
        run_mode(&p, modes[m], "mignet", &r);
        assert_clean_end(&r);
        assert_true(r.migrations > 0);
        assert_int_equal(r.aborted, r.migrations);
        assert_int_equal(r.cleaned, 0);
        assert_int_equal(r.delivered, r.sent);
        assert_int_equal(r.relayed + r.queued + r.activations, 0);
        /* An inactive INSTALL and its DELETE per migration, acked. */
        assert_int_equal(r.instructions, 2 * r.migrations);
        assert_int_equal(r.instruction_acks, r.instructions);
        /* A cancelled job ends: its later hops never start. */
        assert_true(r.migrations < r.planned);
    }
    /* Some cancelled, some not: the others still lose nothing outside
     * the pause, and lossless nothing at all. */
    struct sim_params p;
    simtest_small_params(&p, SIM_DRAIN, 6);
    p.abort_rate = 0.4;
    struct sim_result r;
    run_mode(&p, MIG_SW_LOSSLESS, "mignet", &r);
    assert_clean_end(&r);
    assert_true(r.aborted > r.migrations / 5);
    assert_true(r.cleaned > r.migrations / 5);
    assert_int_equal(r.sent, r.delivered + r.lost_install_race);
    assert_true(r.lost_install_race * 1000 <= r.queued);
    assert_true(r.queued > 0);
}

/* The lossless switch confirmed before the pause needs the relay: a
 * strategy without one queues only what fresh senders send and loses the
 * rest, in the pause and after it, to stale maps. */
static void
test_lossless_needs_the_relay(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 7);
    struct sim_result naive, mignet;
    run_mode(&p, MIG_SW_LOSSLESS, "naive", &naive);
    run_mode(&p, MIG_SW_LOSSLESS, "mignet", &mignet);
    assert_int_equal(naive.sent, mignet.sent);
    assert_true(naive.lost_pause > 0);
    assert_true(naive.lost_stale > 0);
    assert_true(naive.queued * 5 < mignet.queued);
    assert_int_equal(mignet.lost_pause + mignet.lost_stale, 0);
}

/* The install race: a node whose poll lands within a control latency of
 * a switch-over sends to the destination before the INSTALL that
 * activates its copy arrived there.  Counted apart, never as
 * lost_other; frequent polls make it visible, `now` hides it in the
 * pause, and rarp never has it: its destination activates itself. */
static void
test_install_race_counted(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_RANDOM, 8);
    p.refresh_ms = 20;
    p.latency_ms = 8;
    p.warmup_ms = 200;
    struct sim_result now, ll, manual, rarp;
    run_mode(&p, MIG_SW_NOW, "mignet", &now);
    run_mode(&p, MIG_SW_LOSSLESS, "mignet", &ll);
    run_mode(&p, MIG_SW_MANUAL, "mignet", &manual);
    run_mode(&p, MIG_SW_RARP, "mignet", &rarp);
    assert_int_equal(now.lost_install_race, 0);
    /* rarp's destination activated itself before mignet moved the map. */
    assert_int_equal(rarp.lost_install_race, 0);
    assert_true(rarp.lost_activation > 0);
    assert_true(ll.lost_install_race > 0);
    assert_true(manual.lost_install_race > 0);
    assert_int_equal(ll.lost_other + ll.lost_stale + ll.lost_pause, 0);
    assert_int_equal(manual.lost_other + manual.lost_stale, 0);
}

static void
report(const struct sim_params *p, const char *strategy, uint64_t seed,
       const struct sim_result *r)
{
    char cmd[1024];
    sim_params_cmdline(p, strategy, cmd, sizeof cmd);
    print_error("seed %" PRIu64 ": pause %" PRIu64 " stale %" PRIu64
                " other %" PRIu64 " act %" PRIu64 " race %" PRIu64
                " early %" PRIu64 " tasks %" PRIu64 " errors %" PRIu64
                "\nreplay: %s\n",
                seed, r->lost_pause, r->lost_stale, r->lost_other,
                r->lost_activation, r->lost_install_race, r->early_deletes,
                r->tasks_left, r->core_errors + r->migrate_errors, cmd);
}

/* A random small schedule in a random mode (latency up to 40 ms,
 * pre-copy 0-600 ms, a quarter with cancellations). */
static void
random_mode_params(struct sim_params *p, uint64_t seed)
{
    const enum mig_switchover modes[] = {MIG_SW_MANUAL, MIG_SW_RARP,
                                         MIG_SW_LOSSLESS};
    simtest_random_params(p, seed);
    p->switchover = modes[seed % 3];
    p->precopy_ms = (uint32_t)(sim_hash3(seed, 0x9c, 0) % 600);
    p->abort_rate = seed % 4 == 0 ? 0.3 : 0;
}

/* What holds in every mode whatever the pattern: conserved, no fresh
 * sender's packet lost, no wrong deletion, every migration CLEANED or
 * ABORTED, no task, window or core error left. */
static bool
lifecycle_ok(const struct sim_result *r)
{
    return simtest_conserved(r) && r->lost_other == 0
           && r->wrong_deletions == 0 && r->tasks_left == 0
           && r->hot_left == 0 && r->after_horizon == 0
           && r->core_errors == 0 && r->migrate_errors == 0
           && r->jobs_unfinished == 0
           && r->cleaned + r->aborted == r->migrations;
}

/* Drains (a VM never returns to a node) in every mode: no stale loss, no
 * early deletion, and lossless loses nothing in the pause or after it;
 * both strategies with relays. */
static void
test_modes_random_drains(void **state)
{
    (void)state;
    const char *strategies[] = {"mignet", "push"};
    int failures = 0;
    uint64_t queued = 0, aborted = 0, activations = 0;
    for (uint64_t seed = 20000; seed < 20100 && failures < 3; seed++) {
        struct sim_params p;
        random_mode_params(&p, seed);
        p.pattern = SIM_DRAIN;
        struct sim_result r;
        const char *strategy = strategies[seed % 2];
        simtest_run(&p, strategy, &r);
        queued += r.queued;
        aborted += r.aborted;
        activations += r.activations;
        bool ok = lifecycle_ok(&r) && r.lost_stale == 0
                  && r.early_deletes == 0
                  && (p.switchover != MIG_SW_LOSSLESS
                      || r.lost_pause + r.lost_activation == 0);
        if (!ok) {
            report(&p, strategy, seed, &r);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
    assert_true(queued > 0);
    assert_true(aborted > 0);
    assert_true(activations > 0);
}

/* Every pattern, push and mignet: the lifecycle's own invariants hold
 * even where a VM returns to a node that still relays for it (the stale
 * loss there is docs/simulator.md's "A return to a relaying node"). */
static void
test_modes_random_schedules(void **state)
{
    (void)state;
    const char *strategies[] = {"mignet", "push"};
    int failures = 0;
    uint64_t patterns[SIM_N_PATTERNS] = {0};
    for (uint64_t seed = 21000; seed < 21150 && failures < 3; seed++) {
        struct sim_params p;
        random_mode_params(&p, seed);
        struct sim_result r;
        const char *strategy = strategies[seed % 2];
        simtest_run(&p, strategy, &r);
        patterns[p.pattern]++;
        if (!lifecycle_ok(&r)) {
            report(&p, strategy, seed, &r);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
    for (int i = 0; i < SIM_N_PATTERNS; i++) {
        assert_true(patterns[i] > 10);
    }
}

/* A VM migrating back to a node that still relays for it (pingpong inside
 * the deletion delay), in a prepare mode: the relay lives on under the
 * prepared copy until the switch-over, so stale senders lose nothing and
 * nothing is deleted early (the core used to run that deletion at the
 * prepare, the agent to replace the relay with the inactive copy). */
static void
test_return_to_relaying_node(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_PINGPONG, 3);
    for (int m = MIG_SW_NOW; m <= MIG_SW_LOSSLESS; m++) {
        struct sim_result r;
        run_mode(&p, (enum mig_switchover)m, "mignet", &r);
        assert_int_equal(r.early_deletes, 0);
        assert_int_equal(r.lost_stale, 0);
        assert_int_equal(r.lost_other, 0);
        assert_true(r.relayed > 0); /* the relays did carry stale traffic */
        if (m == MIG_SW_LOSSLESS) {
            assert_int_equal(r.lost_pause, 0);
        }
    }
}

/* Same arguments, same numbers; every strategy sends the same packets in
 * a mode (the traffic horizon follows the mode's schedule). */
static void
test_deterministic_and_same_traffic(void **state)
{
    (void)state;
    struct sim_params p;
    simtest_small_params(&p, SIM_PINGPONG, 9);
    p.switchover = MIG_SW_RARP;
    p.abort_rate = 0.2;
    struct sim_result a, b;
    simtest_run(&p, "mignet", &a);
    simtest_run(&p, "mignet", &b);
    a.wall_ms = b.wall_ms = 0;
    assert_memory_equal(&a, &b, sizeof a);
    for (int s = 0; s < SIM_N_STRATEGIES; s++) {
        struct sim_result r;
        simtest_run(&p, sim_strategies[s], &r);
        assert_int_equal(r.horizon_ms, a.horizon_ms);
        assert_int_equal(r.sent, a.sent);
        assert_int_equal(r.after_horizon, 0);
        assert_int_equal(r.aborted, a.aborted);
        assert_true(simtest_conserved(&r));
    }
}

static void
test_options(void **state)
{
    (void)state;
    struct sim_params p;
    sim_params_default(&p);
    assert_int_equal(p.switchover, MIG_SW_NOW);
    assert_int_equal(p.precopy_ms, 500);
    assert_true(p.abort_rate == 0);
    char err[256];
    bool help;
    char *ok[] = {"sim", "--switchover", "lossless", "--precopy-ms", "250",
                  "--abort-rate", "0.125"};
    assert_int_equal(sim_params_parse(&p, 7, ok, &help, err, sizeof err),
                     0);
    assert_int_equal(p.switchover, MIG_SW_LOSSLESS);
    assert_int_equal(p.precopy_ms, 250);
    assert_true(p.abort_rate == 0.125);
    struct sim_params before = p;
    char *bad[][3] = {
        {"sim", "--switchover", "later"},
        {"sim", "--precopy-ms", "-5"},
        {"sim", "--abort-rate", "1.5"},
    };
    for (size_t i = 0; i < 3; i++) {
        err[0] = '\0';
        assert_int_equal(sim_params_parse(&p, 3, bad[i], &help, err,
                                          sizeof err),
                         EINVAL);
        assert_non_null(strstr(err, bad[i][1] + 2));
        assert_memory_equal(&p, &before, sizeof p);
    }
    /* Cancelling needs a prepared phase. */
    char *now_abort[] = {"sim", "--switchover", "now", "--abort-rate", "0.1"};
    assert_int_equal(sim_params_parse(&p, 5, now_abort, &help, err,
                                      sizeof err),
                     EINVAL);
    assert_non_null(strstr(err, "abort-rate"));
    assert_memory_equal(&p, &before, sizeof p);
    char cmd[1024];
    sim_params_cmdline(&p, "mignet", cmd, sizeof cmd);
    assert_non_null(strstr(cmd, " --switchover lossless --precopy-ms 250 "
                                "--abort-rate 0.125 "));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lossless_queues_the_pause),
        cmocka_unit_test(test_rarp_activation_switches),
        cmocka_unit_test(test_aborts_lose_nothing),
        cmocka_unit_test(test_lossless_needs_the_relay),
        cmocka_unit_test(test_install_race_counted),
        cmocka_unit_test(test_modes_random_drains),
        cmocka_unit_test(test_modes_random_schedules),
        cmocka_unit_test(test_return_to_relaying_node),
        cmocka_unit_test(test_deterministic_and_same_traffic),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
