/* test_core_silence.c: the silence hold (src/core/silence.c).
 *
 * A due deletion waits while a node has neither acknowledged the move nor
 * polled (read the map) since the delay started -- silent, or heard
 * without a poll -- until it acknowledges or polls, or until the delay
 * ceiling; a node never heard, or removed, is not waited for; after a
 * restart what a node read counts from the first core_run.  Nodes
 * refresh every 1000 ms: bound = 2 * 1000 + 50 + 200 = 2250 ms, which is
 * also the delay. */
#include "core_fixture.h"

#define BOUND 2250
#define MOVED 100
#define RELAYING 101                   /* the agents confirmed */
#define DUE (RELAYING + BOUND)         /* the delay passed */
#define FORCE (RELAYING + 120000)      /* the default ceiling */

/* Every live node but 'skip' (CORE_NONE: none) polls at 'now': it reads
 * the map but acknowledges nothing (since 0). */
static void
hear_but(struct core *c, uint32_t skip, uint64_t now)
{
    for (uint32_t i = 0; i < core_n_nodes(c); i++) {
        if (i != skip && core_node_valid(c, i)) {
            assert_int_equal(core_node_poll(c, i, 0, now), CORE_E_OK);
        }
    }
}

/* Every node but 'skip' refreshes every 1000 ms in [from, to], and at
 * 'to'. */
static void
hear_until(struct core *c, uint32_t skip, uint64_t from, uint64_t to)
{
    for (uint64_t t = from; t < to; t += 1000) {
        hear_but(c, skip, t);
    }
    hear_but(c, skip, to);
}

static bool
deleted(const struct core_fx *f)
{
    return rec_find(&f->rec, 0, INSTR_DELETE, f->n[0]) >= 0;
}

static struct core_migration
mig(const struct core_fx *f)
{
    struct core_migration m;
    assert_true(core_migration_get(f->core, 1, &m));
    return m;
}

/* The core counted 'held' holds and 'forced' forced runs, and the
 * migration shows them, held for n3. */
static void
assert_hold(const struct core_fx *f, uint64_t held, uint64_t forced)
{
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.deletions_held, held);
    assert_int_equal(st.deletions_forced, forced);
    struct core_migration m = mig(f);
    assert_int_equal(m.deletion_held, held > 0);
    assert_int_equal(m.deletion_forced, forced > 0);
    assert_int_equal(m.held_for, f->n[3]);
}

/* vm1 moves n0 -> n1; everybody but n3 confirms and keeps refreshing the
 * map (without acknowledging it); n3 was last heard at 0 and is cut off.
 * When the delay ends the deletion is held. */
static struct core_fx *
held_fx(void)
{
    struct core_fx *f = core_fx_new("mignet");
    struct core *c = f->core;
    assert_int_equal(core_migrate(c, f->vm, CORE_NONE, f->n[1], MOVED,
                                  NULL),
                     CORE_E_OK);
    ack_all_but(c, f->n[3], RELAYING);
    assert_int_equal(mig(f).phase, MIG_RELAYING);
    assert_int_equal(core_next_due(c), DUE);
    hear_until(c, f->n[3], 1000, DUE);
    core_run(c, DUE);
    assert_false(deleted(f));
    assert_hold(f, 1, 0);
    assert_int_equal(mig(f).phase, MIG_RELAYING);
    /* Waiting for n3 to be heard, at the latest until the ceiling. */
    assert_int_equal(core_next_due(c), FORCE);
    return f;
}

/* Heard again, n3 still holds its stale map until it refreshes: being
 * heard (here a message every 500 ms for twice its bound) is no evidence
 * that it read the map.  Its refresh releases the deletion once what it
 * sent before is no longer in flight. */
static void
test_back_held_until_it_refreshes(void **state)
{
    (void) state;
    struct core_fx *f = held_fx();
    struct core *c = f->core;
    hear_until(c, f->n[3], 3000, 4999);
    for (uint64_t t = 5000; t <= 5000 + 2 * BOUND; t += 500) {
        assert_int_equal(core_node_heard(c, f->n[3], t), CORE_E_OK);
        hear_but(c, f->n[3], t);
        core_run(c, t);
        assert_false(deleted(f));
    }
    core_run(c, 5000 + 2 * BOUND + 50);
    assert_false(deleted(f));
    assert_int_equal(core_node_poll(c, f->n[3], 0, 10000), CORE_E_OK);
    assert_int_equal(core_next_due(c), 10000 + 50);
    core_run(c, 10000 + 49);
    assert_false(deleted(f));
    core_run(c, 10000 + 50);
    assert_true(deleted(f));
    assert_int_equal(mig(f).phase, MIG_CLEANING);
    assert_hold(f, 1, 0);
    core_fx_free(f);
}

/* A node heard after the move but quiet for less than its bound when the
 * delay ends, that has not refreshed since the delay started, holds the
 * deletion: a refresh in the delay's first --inflight-ms (its answer may
 * predate the move) and an instruction ack are no evidence it read the
 * new map.  (Before: not silent, so not waited for.) */
static void
test_quiet_node_without_refresh_holds(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    struct core *c = f->core;
    assert_int_equal(core_migrate(c, f->vm, CORE_NONE, f->n[1], MOVED,
                                  NULL),
                     CORE_E_OK);
    ack_all(c, RELAYING);
    assert_int_equal(core_next_due(c), DUE);
    assert_int_equal(core_node_poll(c, f->n[3], 0, RELAYING + 10),
                     CORE_E_OK);
    hear_until(c, f->n[3], 1000, DUE);
    assert_int_equal(core_node_heard(c, f->n[3], DUE - 1084), CORE_E_OK);
    core_run(c, DUE);
    assert_false(deleted(f));
    assert_hold(f, 1, 0);
    assert_int_equal(core_next_due(c), FORCE);
    /* A refresh report of an old version (late, or sent twice) is no
     * read either. */
    assert_int_equal(core_node_refresh(c, f->n[3], 0, DUE + 100),
                     CORE_E_OK);
    core_run(c, DUE + 150);
    assert_false(deleted(f));
    assert_int_equal(core_node_poll(c, f->n[3], 0, DUE + 300),
                     CORE_E_OK);
    core_run(c, DUE + 349);
    assert_false(deleted(f));
    core_run(c, DUE + 350);
    assert_true(deleted(f));
    core_fx_free(f);
}

/* Heard with an acknowledgement of the move: the deletion runs once
 * what n3 sent before it is no longer in flight. */
static void
test_held_until_acknowledged(void **state)
{
    (void) state;
    struct core_fx *f = held_fx();
    struct core *c = f->core;
    hear_until(c, f->n[3], 3000, 5000);
    assert_int_equal(core_node_version_ack(c, f->n[3], core_map_version(c),
                                           5000),
                     CORE_E_OK);
    assert_int_equal(core_next_due(c), 5000 + 50);
    core_run(c, 5000 + 49);
    assert_false(deleted(f));
    core_run(c, 5000 + 50);
    assert_true(deleted(f));
    core_fx_free(f);
}

/* Silent to the end: the ceiling runs it, counted as forced.  A cordoned
 * node is waited for like any other (its agent still forwards). */
static void
test_ceiling_forces(void **state)
{
    (void) state;
    struct core_fx *f = held_fx();
    struct core *c = f->core;
    assert_int_equal(core_node_cordon(c, f->n[3], true, 3000), CORE_E_OK);
    hear_until(c, f->n[3], 3000, FORCE - 1);
    core_run(c, FORCE - 1);
    assert_false(deleted(f));
    core_run(c, FORCE);
    assert_true(deleted(f));
    assert_hold(f, 1, 1);
    core_fx_free(f);
}

/* A removed node is never waited for. */
static void
test_removed_node_releases(void **state)
{
    (void) state;
    struct core_fx *f = held_fx();
    struct core *c = f->core;
    hear_until(c, f->n[3], 3000, 4000);
    assert_int_equal(core_node_remove(c, f->n[3], false, 4000), CORE_E_OK);
    assert_int_equal(core_next_due(c), 4000);
    core_run(c, 4000);
    assert_true(deleted(f));
    core_fx_free(f);
}

/* A node never heard in this run holds no map of it: not waited for.
 * Neither is any node with the hold off (the baselines). */
static void
test_never_heard_and_baselines(void **state)
{
    (void) state;
    const char *strategies[] = {"mignet", "seed"};
    for (size_t k = 0; k < 2; k++) {
        struct core_fx *f = core_fx_new(strategies[k]);
        struct core *c = f->core;
        uint32_t n4;
        assert_int_equal(core_node_add(c, "n4", "198.18.0.5", 1000, 0, &n4),
                         CORE_E_OK);
        assert_int_equal(core_migrate(c, f->vm, CORE_NONE, f->n[1], MOVED,
                                      NULL),
                         CORE_E_OK);
        for (int i = 0; i < 3; i++) {
            struct core_node_info ni;
            assert_true(core_node_info(c, f->n[i], &ni));
            assert_int_equal(core_node_ack(c, f->n[i], ni.last_seq,
                                           RELAYING),
                             CORE_E_OK);
        }
        struct core_node_info ni;
        assert_true(core_node_info(c, n4, &ni));
        assert_false(ni.heard);
        assert_true(core_node_info(c, f->n[3], &ni));
        assert_true(ni.heard);
        /* n3 silent since 0: only the baseline ignores it. */
        uint64_t due = core_next_due(c);
        uint64_t times[] = {1000, 2000, due};
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < 3; i++) {
                assert_int_equal(core_node_poll(c, f->n[i], 0, times[t]),
                                 CORE_E_OK);
            }
        }
        core_run(c, due);
        assert_int_equal(deleted(f), k == 1);
        /* n3 acknowledges: n4, never heard, does not hold it. */
        assert_int_equal(core_node_version_ack(c, f->n[3],
                                               core_map_version(c), due + 1),
                         CORE_E_OK);
        core_run(c, due + 51);
        assert_true(deleted(f));
        core_fx_free(f);
    }
}

/* After a restart every node's silence counts from the first core_run:
 * one not heard since is waited for beyond the fresh full delay (up to
 * the ceiling from the restart); acknowledgements since the restart
 * still release at once. */
static void
test_restart(void **state)
{
    (void) state;
    for (int acks = 0; acks < 2; acks++) {
        struct rec *rec = calloc(1, sizeof *rec);
        struct store *s = store_mem_create();
        struct core_config cfg;
        core_config_default(&cfg);
        struct core_sink sink = rec_sink(rec);
        struct core *c = core_create(&cfg, s, &sink);
        uint32_t n[3], vm;
        char name[8];
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "n%d", i);
            assert_int_equal(core_node_add(c, name, "198.18.0.1", 1000, 0,
                                           &n[i]),
                             CORE_E_OK);
        }
        struct mn_config mc = cfg_of(1);
        assert_int_equal(core_vm_add(c, "vm1", &mc, n[0], 0, &vm),
                         CORE_E_OK);
        ack_all(c, 0);
        assert_int_equal(core_migrate(c, vm, CORE_NONE, n[1], MOVED, NULL),
                         CORE_E_OK);
        ack_all(c, RELAYING);
        assert_int_equal(store_commit(s), 0);
        core_destroy(c);

        /* Restarted at 50000: n2 is never heard again. */
        memset(rec, 0, sizeof *rec);
        c = core_create(&cfg, s, &sink);
        assert_int_equal(core_load(c), CORE_E_OK);
        uint64_t r = 50000;
        core_run(c, r);
        uint64_t due = core_next_due(c);
        assert_int_equal(due, r + BOUND);
        uint32_t n0 = core_node_find(c, "n0");
        if (acks) {
            refresh_all(c, r + 10);
            core_run(c, r + 59);
            assert_true(rec_find(rec, 0, INSTR_DELETE, n0) < 0);
            core_run(c, r + 60);
            assert_true(rec_find(rec, 0, INSTR_DELETE, n0) >= 0);
        } else {
            uint32_t n2 = core_node_find(c, "n2");
            hear_until(c, n2, r + 1000, due);
            core_run(c, due);
            assert_true(rec_find(rec, 0, INSTR_DELETE, n0) < 0);
            assert_int_equal(core_next_due(c), r + 120000);
            hear_until(c, n2, due + 1000, r + 120000 - 1);
            core_run(c, r + 120000 - 1);
            assert_true(rec_find(rec, 0, INSTR_DELETE, n0) < 0);
            core_run(c, r + 120000);
            assert_true(rec_find(rec, 0, INSTR_DELETE, n0) >= 0);
        }
        core_destroy(c);
        store_destroy(s);
        free(rec);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_back_held_until_it_refreshes),
        cmocka_unit_test(test_quiet_node_without_refresh_holds),
        cmocka_unit_test(test_held_until_acknowledged),
        cmocka_unit_test(test_ceiling_forces),
        cmocka_unit_test(test_removed_node_releases),
        cmocka_unit_test(test_never_heard_and_baselines),
        cmocka_unit_test(test_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
