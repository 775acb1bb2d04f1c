/* test_sim_property.c: mignet loses nothing on 1,000 random schedules.
 *
 * Each schedule is a random small data centre (all four patterns, random
 * control latency, refresh jitter, pause, gap, rate) run through the real
 * core.  For mignet: no stale or other loss, no wrong deletion, every task
 * ends, every migration is CLEANED.  A failure prints the seed and the
 * exact `mignet sim` command that replays it. */
#include "simtest.h"

#include <inttypes.h>
#include <stdlib.h>

#define N_SCHEDULES 1000

static void
report(const struct sim_params *p, const char *strategy, uint64_t seed,
       const char *what, uint64_t got)
{
    char cmd[1024];
    sim_params_cmdline(p, strategy, cmd, sizeof cmd);
    print_error("schedule seed %" PRIu64 ": %s (got %" PRIu64 ")\n"
                "replay: %s\n", seed, what, got, cmd);
}

#define CHECK(cond, what, got)                                              \
    do {                                                                     \
        if (!(cond)) {                                                       \
            report(&p, strategy, seed, what, (uint64_t)(got));           \
            failures++;                                                      \
            continue;                                                        \
        }                                                                    \
    } while (0)

static void
test_mignet_random_schedules(void **state)
{
    (void)state;
    uint64_t base = 1;
    const char *env = getenv("MIGNET_SIM_SEED_BASE");
    if (env) {
        base = strtoull(env, NULL, 10);
    }
    /* Pointing it at a baseline shows the test can fail. */
    const char *strategy = getenv("MIGNET_SIM_STRATEGY");
    if (!strategy) {
        strategy = "mignet";
    }
    uint64_t migrations = 0, relayed = 0, lost_pause = 0;
    int failures = 0;
    uint64_t pkts = 0;
    uint64_t patterns[SIM_N_PATTERNS] = {0};
    for (uint64_t i = 0; i < N_SCHEDULES && failures < 5; i++) {
        uint64_t seed = base + i;
        struct sim_params p;
        simtest_random_params(&p, seed);
        struct sim_result r;
        simtest_run(&p, strategy, &r);
        patterns[p.pattern]++;
        pkts += r.sent;
        migrations += r.migrations;
        relayed += r.relayed;
        lost_pause += r.lost_pause;
        CHECK(simtest_conserved(&r), "sent != delivered + lost", r.sent);
        CHECK(r.lost_stale == 0, "lost_stale", r.lost_stale);
        CHECK(r.lost_other == 0, "lost_other", r.lost_other);
        CHECK(r.wrong_deletions == 0, "wrong_deletions", r.wrong_deletions);
        CHECK(r.tasks_left == 0, "pending tasks left", r.tasks_left);
        CHECK(r.jobs_unfinished == 0, "jobs unfinished", r.jobs_unfinished);
        CHECK(r.migrate_errors == 0, "migrate errors", r.migrate_errors);
        CHECK(r.core_errors == 0, "core errors", r.core_errors);
        CHECK(r.migrations == r.planned, "migrations issued",
              r.migrations);
        CHECK(r.cleaned == r.migrations, "migrations not CLEANED",
              r.migrations - r.cleaned);
        CHECK(r.hot_left == 0, "windows still open", r.hot_left);
        CHECK(r.after_horizon == 0, "changes after the traffic horizon",
              r.after_horizon);
    }
    assert_int_equal(failures, 0);
    /* The schedules really exercised something. */
    for (int i = 0; i < SIM_N_PATTERNS; i++) {
        assert_true(patterns[i] > N_SCHEDULES / 8);
    }
    assert_true(pkts > 1000000);
    assert_true(migrations > N_SCHEDULES * 5);
    assert_true(relayed > 1000);
    print_message("%d schedules: %" PRIu64 " migrations, %" PRIu64
                  " packets, %" PRIu64 " relayed, %" PRIu64 " lost while "
                  "paused\n", N_SCHEDULES, migrations, pkts, relayed,
                  lost_pause);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mignet_random_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
