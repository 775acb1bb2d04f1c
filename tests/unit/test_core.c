/* test_core.c: the core's migration protocol (DESIGN §2) and invariants
 * I2-I6, every error path, with a recording sink standing in for agents. */
#include "unit/core_fixture.h"

#include <stdio.h>

/* Drives time forward in 1 ms steps until no task is due before 'until'. */
static void
run_until(struct core *c, uint64_t until)
{
    while (core_next_due(c) <= until) {
        core_run(c, core_next_due(c));
    }
}

static void
test_migrate_steps(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    size_t mark = f->rec.n_instrs;
    struct core_migrate_result res;
    assert_int_equal(core_migrate(f->core, f->vm, f->n[0], f->n[1], 1000,
                                  &res),
                     CORE_E_OK);
    assert_int_equal(res.epoch, 2);
    assert_int_equal(res.migration, 1);

    /* Step 2: INSTALL on the destination with the new epoch. */
    long inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_true(inst >= 0);
    assert_int_equal(f->rec.instrs[inst].epoch, 2);
    /* Step 4: RELAY on the source for the snapshot, pointing at dst. */
    long relay = rec_find(&f->rec, mark, INSTR_RELAY, f->n[0]);
    assert_true(relay > inst);
    assert_int_equal(f->rec.instrs[relay].epoch, 1);
    assert_int_equal(f->rec.instrs[relay].target, f->n[1]);
    assert_int_equal(f->rec.instrs[relay].target_epoch, 2);
    /* Step 3: the gateway moved the entry. */
    struct core_vm_info vi;
    assert_true(core_vm_info(f->core, f->vm, &vi));
    assert_int_equal(vi.node, f->n[1]);
    assert_int_equal(vi.map_version, core_map_version(f->core));

    struct core_migration m;
    assert_true(core_migration_get(f->core, 1, &m));
    assert_int_equal(m.phase, MIG_PREPARING);
    /* No deletion is scheduled before the relay is acknowledged. */
    assert_int_equal(rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]), -1);

    ack_all(f->core, 1010);
    assert_true(core_migration_get(f->core, 1, &m));
    assert_int_equal(m.phase, MIG_RELAYING);
    assert_int_equal(m.relaying_ms, 1010);
    assert_true(m.delay_ms >= 100);
    uint64_t due = core_next_due(f->core);
    assert_int_equal(due, 1010 + m.delay_ms);

    /* I2: nothing is deleted a millisecond early. */
    hear_all(f->core, due - 1000);
    core_run(f->core, due - 1);
    assert_int_equal(rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]), -1);
    core_run(f->core, due);
    long del = rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]);
    assert_true(del >= 0);
    assert_int_equal(f->rec.instrs[del].epoch, 1);
    /* Step 6: cleaning until the source confirmed the deletion. */
    assert_true(core_migration_get(f->core, 1, &m));
    assert_int_equal(m.phase, MIG_CLEANING);
    assert_int_equal(m.cleaning_ms, due);
    assert_int_equal(m.cleaned_ms, 0);
    assert_int_equal(core_n_tasks(f->core), 0);
    ack_all(f->core, due + 7);
    assert_true(core_migration_get(f->core, 1, &m));
    assert_int_equal(m.phase, MIG_CLEANED);
    assert_int_equal(m.cleaned_ms, due + 7);
    assert_int_equal(f->rec.wrong_deletes, 0);
    core_fx_free(f);
}

/* I6: the migrate call returns before any cleanup, with the delay. */
static void
test_manager_never_waits(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    struct core_migrate_result res;
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[1], 0,
                                  &res),
                     CORE_E_OK);
    assert_int_equal(res.delay_ms, core_delay_ms(f->core));
    assert_int_equal(core_n_tasks(f->core), 2); /* delete + timeout */
    core_fx_free(f);
}

/* I3: an update after the migration does not change the snapshot. */
static void
test_snapshot_after_update(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    struct mn_config before = cfg_of(1);
    core_fx_migrated(f, f->n[1], 0, 1);
    size_t mark = f->rec.n_instrs;
    struct mn_config after = cfg_of(77);
    assert_int_equal(core_vm_update(f->core, f->vm, &after, 2), CORE_E_OK);
    long up = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_true(up >= 0);
    assert_true(mn_config_equal(&f->rec.instrs[up].config, &after));
    run_until(f->core, UINT64_MAX - 1);
    long del = rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]);
    assert_true(del >= 0);
    assert_true(mn_config_equal(&f->rec.instrs[del].config, &before));
    assert_false(mn_config_equal(&f->rec.instrs[del].config, &after));
    core_fx_free(f);
}

/* I4: A->B->A inside the delay: the pending deletion on A runs first, so
 * it can never remove the VM's new placement on A. */
static void
test_pingpong_run_first(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    core_fx_migrated(f, f->n[1], 0, 1);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[0], 50,
                                  NULL),
                     CORE_E_OK);
    long del = rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]);
    long inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[0]);
    assert_true(del >= 0 && inst > del);
    assert_int_equal(f->rec.instrs[del].epoch, 1);
    assert_int_equal(f->rec.instrs[inst].epoch, 3);
    ack_all(f->core, 51);
    mark = f->rec.n_instrs;
    run_until(f->core, UINT64_MAX - 1);
    /* The only later deletion is B's snapshot (epoch 2), never A's. */
    assert_int_equal(rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]), -1);
    long del_b = rec_find(&f->rec, mark, INSTR_DELETE, f->n[1]);
    assert_true(del_b >= 0);
    assert_int_equal(f->rec.instrs[del_b].epoch, 2);
    assert_int_equal(f->rec.wrong_deletes, 0);
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.tasks_cancelled, 1);
    assert_int_equal(core_n_tasks(f->core), 0);
    core_fx_free(f);
}

/* The seed's bug, reproduced by the 'fixed' strategy on the same core. */
static void
test_pingpong_fixed_deletes_wrong(void **state)
{
    struct core_fx *f = core_fx_new("fixed");
    core_fx_migrated(f, f->n[1], 0, 1);
    core_fx_migrated(f, f->n[0], 50, 51);
    run_until(f->core, UINT64_MAX - 1);
    assert_true(f->rec.wrong_deletes >= 1);
    core_fx_free(f);
}

/* I5: A->B->C: A's relay is retargeted to C (no two-hop relay). */
static void
test_chain_retarget(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    core_fx_migrated(f, f->n[1], 0, 1);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[2], 20,
                                  NULL),
                     CORE_E_OK);
    long ra = rec_find(&f->rec, mark, INSTR_RELAY, f->n[0]);
    long rb = rec_find(&f->rec, mark, INSTR_RELAY, f->n[1]);
    assert_true(ra >= 0 && rb >= 0);
    assert_int_equal(f->rec.instrs[ra].target, f->n[2]);
    assert_int_equal(f->rec.instrs[ra].epoch, 1);
    assert_int_equal(f->rec.instrs[ra].target_epoch, 3);
    assert_int_equal(f->rec.instrs[rb].target, f->n[2]);
    /* Every pending relay points at the newest node. */
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.relays_retargeted, 1);

    /* Seed without retargeting leaves A -> B. */
    struct core_fx *g = core_fx_new("seed");
    assert_int_equal(core_migrate(g->core, g->vm, CORE_NONE, g->n[1], 0,
                                  NULL),
                     CORE_E_OK);
    ack_all(g->core, 1);
    mark = g->rec.n_instrs;
    assert_int_equal(core_migrate(g->core, g->vm, CORE_NONE, g->n[2], 20,
                                  NULL),
                     CORE_E_OK);
    assert_int_equal(rec_find(&g->rec, mark, INSTR_RELAY, g->n[0]), -1);
    core_fx_free(g);
    core_fx_free(f);
}

/* The delay follows measured refresh behaviour of the slowest node. */
static void
test_dynamic_delay(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    const struct core_config *cfg = core_get_config(f->core);
    /* Before observations: 2 x expected (1000 ms) + propagation+margin. */
    assert_int_equal(core_delay_ms(f->core),
                     2000 + cfg->propagation_ms + cfg->delay_margin_ms);
    /* Nodes 0-2 refresh steadily every 500 ms, node 3 every 4000 ms. */
    uint64_t v = core_map_version(f->core);
    for (int k = 0; k <= 40; k++) {
        for (int i = 0; i < 3; i++) {
            assert_int_equal(core_node_refresh(f->core, f->n[i], v,
                                               (uint64_t) k * 500),
                             CORE_E_OK);
        }
        if (k % 8 == 0) {
            assert_int_equal(core_node_refresh(f->core, f->n[3], v,
                                               (uint64_t) k * 500),
                             CORE_E_OK);
        }
    }
    struct core_node_info ni;
    assert_true(core_node_info(f->core, f->n[3], &ni));
    assert_true(ni.refresh_mean_ms > 3900 && ni.refresh_mean_ms < 4100);
    uint64_t d = core_delay_ms(f->core);
    /* Covers node 3's next refresh, not much more. */
    assert_true(d >= 4000 + cfg->propagation_ms + cfg->delay_margin_ms);
    assert_true(d < 4000 * 2);
    /* Removing the slow node shrinks the delay to the 500 ms nodes. */
    assert_int_equal(core_node_remove(f->core, f->n[3], false, 20000),
                     CORE_E_OK);
    d = core_delay_ms(f->core);
    assert_true(d >= 500 && d < 1500);
    core_fx_free(f);
}

static void
test_delay_clamped(void **state)
{
    struct core_config cfg;
    core_config_default(&cfg);
    cfg.delay_floor_ms = 5000;
    struct core *c = core_create(&cfg, NULL, NULL);
    assert_int_equal(core_node_add(c, "a", "x", 10, 0, NULL), CORE_E_OK);
    assert_int_equal(core_delay_ms(c), 5000);
    core_destroy(c);
    cfg.delay_floor_ms = 0;
    cfg.delay_ceiling_ms = 700;
    c = core_create(&cfg, NULL, NULL);
    assert_int_equal(core_node_add(c, "a", "x", 60000, 0, NULL), CORE_E_OK);
    assert_int_equal(core_delay_ms(c), 700);
    core_destroy(c);
}

/* Acknowledgements end the wait early, but only once every node has one. */
static void
test_early_release(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    core_fx_migrated(f, f->n[1], 0, 10);
    uint64_t due = core_next_due(f->core);
    uint64_t v = core_map_version(f->core);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(core_node_refresh(f->core, f->n[i], v, 100),
                         CORE_E_OK);
    }
    assert_int_equal(core_next_due(f->core), due); /* n3 still stale */
    assert_int_equal(core_node_refresh(f->core, f->n[3], v - 1, 150),
                     CORE_E_OK);
    assert_int_equal(core_next_due(f->core), due); /* older version */
    assert_int_equal(core_node_refresh(f->core, f->n[3], v, 200),
                     CORE_E_OK);
    uint64_t early = 200 + core_get_config(f->core)->inflight_ms;
    assert_int_equal(core_next_due(f->core), early);
    core_run(f->core, early);
    struct core_migration m;
    assert_true(core_migration_get(f->core, 1, &m));
    assert_int_equal(m.phase, MIG_CLEANING);
    assert_true(m.released_early);
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.released_early, 1);

    /* The 'seed' strategy has no early release. */
    struct core_fx *g = core_fx_new("seed");
    assert_int_equal(core_migrate(g->core, g->vm, CORE_NONE, g->n[1], 0,
                                  NULL),
                     CORE_E_OK);
    ack_all(g->core, 10);
    due = core_next_due(g->core);
    for (int i = 0; i < 4; i++) {
        core_node_refresh(g->core, g->n[i], core_map_version(g->core), 100);
    }
    assert_int_equal(core_next_due(g->core), due);
    core_fx_free(g);
    core_fx_free(f);
}

/* A pushed version's acknowledgement releases a deletion as a refresh
 * does, but is no refresh observation: the delay's bound is unchanged. */
static void
test_version_ack_no_sample(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    core_fx_migrated(f, f->n[1], 0, 10);
    uint64_t due = core_next_due(f->core);
    uint64_t v = core_map_version(f->core);
    struct core_node_info before, after;
    assert_true(core_node_info(f->core, f->n[0], &before));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(core_node_version_ack(f->core, f->n[i], v, 100),
                         CORE_E_OK);
    }
    assert_int_equal(core_next_due(f->core), due); /* n3 still stale */
    assert_int_equal(core_node_version_ack(f->core, f->n[3], v + 1, 120),
                     CORE_E_BAD_VERSION);
    assert_int_equal(core_node_version_ack(f->core, 999, v, 120),
                     CORE_E_UNKNOWN_NODE);
    assert_int_equal(core_next_due(f->core), due); /* errors change nothing */
    assert_int_equal(core_node_version_ack(f->core, f->n[3], v, 200),
                     CORE_E_OK);
    assert_int_equal(core_next_due(f->core),
                     200 + core_get_config(f->core)->inflight_ms);
    assert_true(core_node_info(f->core, f->n[0], &after));
    assert_int_equal(after.acked_version, v);
    assert_int_equal(after.refreshes, before.refreshes);
    assert_int_equal(after.last_refresh_ms, before.last_refresh_ms);
    assert_int_equal(after.refresh_upper_ms, before.refresh_upper_ms);
    core_fx_free(f);
}

static void
test_prepare_timeout(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[1], 0,
                                  NULL),
                     CORE_E_OK);
    uint64_t t = core_get_config(f->core)->prepare_timeout_ms;
    assert_int_equal(core_next_due(f->core), t);
    core_run(f->core, t);
    struct core_migration m;
    assert_true(core_migration_get(f->core, 1, &m));
    assert_int_equal(m.phase, MIG_RELAYING);
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.prepare_timeouts, 1);
    assert_int_equal(core_n_tasks(f->core), 1);
    core_fx_free(f);
}

/* I9: a nack is no acknowledgement.  The migration keeps it (bounded),
 * stays PREPARED, and still advances on a later ack or the timeout. */
static void
test_nack_holds_migration(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    struct core *c = f->core;
    struct core_node_info src, dst;
    assert_int_equal(core_migrate(c, f->vm, CORE_NONE, f->n[1], 100, NULL),
                     CORE_E_OK);
    assert_true(core_node_info(c, f->n[0], &src));
    assert_true(core_node_info(c, f->n[1], &dst));
    assert_int_equal(core_node_ack(c, f->n[0], src.last_seq, 110),
                     CORE_E_OK);
    assert_int_equal(core_node_nack_check(c, f->n[1], dst.last_seq),
                     CORE_E_OK);
    assert_int_equal(core_node_nack(c, f->n[1], dst.last_seq, 5, 6, 120),
                     CORE_E_OK);
    struct core_migration m;
    assert_true(core_migration_get(c, 1, &m));
    assert_int_equal(m.phase, MIG_PREPARING);
    assert_int_equal(m.n_nacks, 1);
    assert_int_equal(m.nacks[0].node, f->n[1]);
    assert_int_equal(m.nacks[0].seq, dst.last_seq);
    assert_int_equal(m.nacks[0].ofp_type, 5);
    assert_int_equal(m.nacks[0].ofp_code, 6);
    struct core_stats st;
    core_get_stats(c, &st);
    assert_int_equal(st.agent_nacks, 1);

    /* Bad nacks: refused, and nothing is recorded. */
    assert_int_equal(core_node_nack(c, f->n[1], 0, 1, 1, 130),
                     CORE_E_BAD_SEQ);
    assert_int_equal(core_node_nack(c, f->n[1], dst.last_seq + 1, 1, 1,
                                    130),
                     CORE_E_BAD_SEQ);
    assert_int_equal(core_node_nack(c, f->n[0], src.last_seq, 1, 1, 130),
                     CORE_E_BAD_SEQ); /* already acknowledged */
    assert_int_equal(core_node_nack_check(c, f->n[0], src.last_seq),
                     CORE_E_BAD_SEQ);
    assert_int_equal(core_node_nack(c, 999, 1, 1, 1, 130),
                     CORE_E_UNKNOWN_NODE);
    assert_int_equal(core_node_nack_check(c, 999, 1), CORE_E_UNKNOWN_NODE);
    assert_true(core_migration_get(c, 1, &m));
    assert_int_equal(m.n_nacks, 1);

    /* A nack of an instruction no migration waits on is only counted. */
    struct mn_config cfg = cfg_of(7);
    assert_int_equal(core_vm_add(c, "vm7", &cfg, f->n[2], 135, NULL),
                     CORE_E_OK);
    struct core_node_info other;
    assert_true(core_node_info(c, f->n[2], &other));
    assert_int_equal(core_node_nack(c, f->n[2], other.last_seq, 1, 1, 135),
                     CORE_E_OK);
    core_get_stats(c, &st);
    assert_int_equal(st.agent_nacks, 2);
    assert_true(core_migration_get(c, 1, &m));
    assert_int_equal(m.n_nacks, 1);

    /* More nacks than kept: counted, the first ones kept. */
    for (int i = 0; i < CORE_MIG_NACKS_MAX + 2; i++) {
        assert_int_equal(core_node_nack(c, f->n[1], dst.last_seq, 5,
                                        (uint16_t) i, 140),
                         CORE_E_OK);
    }
    assert_true(core_migration_get(c, 1, &m));
    assert_int_equal(m.n_nacks, CORE_MIG_NACKS_MAX + 3);
    assert_int_equal(m.nacks[CORE_MIG_NACKS_MAX - 1].ofp_code,
                     CORE_MIG_NACKS_MAX - 2);
    assert_int_equal(m.phase, MIG_PREPARING);

    /* The agent retried and Open vSwitch accepted: the ack counts. */
    assert_int_equal(core_node_ack(c, f->n[1], dst.last_seq, 150),
                     CORE_E_OK);
    assert_true(core_migration_get(c, 1, &m));
    assert_int_equal(m.phase, MIG_RELAYING);
    assert_int_equal(m.relaying_ms, 150);
    core_fx_free(f);
}

/* A nacked migration still leaves PREPARED at the prepare timeout. */
static void
test_nack_then_timeout(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[1], 0,
                                  NULL),
                     CORE_E_OK);
    ack_all_but(f->core, f->n[1], 5);
    struct core_node_info dst;
    assert_true(core_node_info(f->core, f->n[1], &dst));
    assert_int_equal(core_node_nack(f->core, f->n[1], dst.last_seq, 5, 0,
                                    10),
                     CORE_E_OK);
    uint64_t t = core_get_config(f->core)->prepare_timeout_ms;
    core_run(f->core, t - 1);
    struct core_migration m;
    assert_true(core_migration_get(f->core, 1, &m));
    assert_int_equal(m.phase, MIG_PREPARING);
    core_run(f->core, t);
    assert_true(core_migration_get(f->core, 1, &m));
    assert_int_equal(m.phase, MIG_RELAYING);
    assert_int_equal(m.n_nacks, 1);
    core_fx_free(f);
}

/* A digest of observable state, to prove failed calls change nothing. */
static uint64_t
digest(struct core *c)
{
    uint64_t h = core_map_version(c) * 31 + core_n_tasks(c);
    h = h * 31 + core_n_migrations(c);
    for (uint32_t i = 0; i < core_n_vms(c); i++) {
        struct core_vm_info vi;
        if (core_vm_info(c, i, &vi)) {
            h = h * 31 + vi.node;
            h = h * 31 + vi.epoch;
            h = h * 31 + vi.config.ip;
        }
    }
    for (uint32_t i = 0; i < core_n_nodes(c); i++) {
        struct core_node_info ni;
        if (core_node_info(c, i, &ni)) {
            h = h * 31 + ni.acked_version + ni.acked_seq * 7 + ni.last_seq;
            h = h * 31 + ni.cordoned + ni.draining * 2u + ni.n_tasks * 4u;
        }
    }
    return h;
}

static void
test_errors_change_nothing(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    struct core *c = f->core;
    struct mn_config cfg = cfg_of(2);
    uint32_t vm2;
    assert_int_equal(core_vm_add(c, "vm2", &cfg, f->n[2], 0, &vm2),
                     CORE_E_OK);
    assert_int_equal(core_migrate(c, vm2, CORE_NONE, f->n[3], 0, NULL),
                     CORE_E_OK); /* vm2 is now prepared */
    uint64_t d0 = digest(c);
    size_t instrs = f->rec.n_instrs;
    struct mn_config bad = cfg_of(3);
    bad.vlan = 5000;

    struct {
        enum core_err got, want;
    } cases[] = {
        {core_migrate(c, 999, CORE_NONE, f->n[1], 1, NULL),
         CORE_E_UNKNOWN_VM},
        {core_migrate(c, f->vm, CORE_NONE, 999, 1, NULL),
         CORE_E_UNKNOWN_NODE},
        {core_migrate(c, f->vm, 999, f->n[1], 1, NULL), CORE_E_UNKNOWN_NODE},
        {core_migrate(c, f->vm, CORE_NONE, f->n[0], 1, NULL),
         CORE_E_SAME_NODE},
        {core_migrate(c, f->vm, f->n[2], f->n[1], 1, NULL),
         CORE_E_WRONG_SOURCE},
        {core_migrate(c, vm2, CORE_NONE, f->n[1], 1, NULL),
         CORE_E_IN_PROGRESS},
        {core_vm_add(c, "vm1", &cfg, f->n[1], 1, NULL), CORE_E_DUPLICATE_VM},
        {core_vm_add(c, "bad name", &cfg, f->n[1], 1, NULL),
         CORE_E_BAD_NAME},
        {core_vm_add(c, "", &cfg, f->n[1], 1, NULL), CORE_E_BAD_NAME},
        {core_vm_add(c, "vm9", &bad, f->n[1], 1, NULL), CORE_E_BAD_VALUE},
        {core_vm_add(c, "vm9", &cfg, 999, 1, NULL), CORE_E_UNKNOWN_NODE},
        {core_vm_update(c, 999, &cfg, 1), CORE_E_UNKNOWN_VM},
        {core_vm_update(c, f->vm, &bad, 1), CORE_E_BAD_VALUE},
        {core_vm_remove(c, 999, 1), CORE_E_UNKNOWN_VM},
        {core_node_add(c, "n1", "x", 1000, 1, NULL), CORE_E_DUPLICATE_NODE},
        {core_node_add(c, "n9", "x", 0, 1, NULL), CORE_E_BAD_VALUE},
        {core_node_add(c, "n/9", "x", 10, 1, NULL), CORE_E_BAD_NAME},
        {core_node_remove(c, 999, false, 1), CORE_E_UNKNOWN_NODE},
        {core_node_remove(c, f->n[0], true, 1), CORE_E_NODE_BUSY},
        {core_node_cordon(c, 999, true, 1), CORE_E_UNKNOWN_NODE},
        {core_node_drain(c, 999, NULL, 0, 1), CORE_E_UNKNOWN_NODE},
        {core_node_ack(c, f->n[1], 1u << 30, 1), CORE_E_BAD_SEQ},
        {core_node_ack(c, 999, 1, 1), CORE_E_UNKNOWN_NODE},
        {core_node_nack(c, f->n[1], 1u << 30, 1, 1, 1), CORE_E_BAD_SEQ},
        {core_node_nack(c, f->n[1], 0, 1, 1, 1), CORE_E_BAD_SEQ},
        {core_node_nack(c, 999, 1, 1, 1, 1), CORE_E_UNKNOWN_NODE},
        {core_node_refresh(c, f->n[1], core_map_version(c) + 1, 1),
         CORE_E_BAD_VERSION},
        {core_node_refresh(c, 999, 0, 1), CORE_E_UNKNOWN_NODE},
        {core_node_report(c, f->n[3], vm2, 1), CORE_E_STALE_EPOCH},
        {core_node_report(c, f->n[3], 999, 1), CORE_E_UNKNOWN_VM},
        {core_node_resync(c, 999, 1), CORE_E_UNKNOWN_NODE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].got != cases[i].want) {
            fail_msg("case %zu: got %s want %s", i,
                     core_errname(cases[i].got),
                     core_errname(cases[i].want));
        }
        /* Every code has its own name and message. */
        assert_string_not_equal(core_errname(cases[i].want), "ok");
    }
    assert_int_equal(digest(c), d0);
    assert_int_equal(f->rec.n_instrs, instrs);

    /* A cordoned node takes no new placement, and the refusal changes
     * nothing; its own VM still migrates off. */
    assert_int_equal(core_node_cordon(c, f->n[1], true, 2), CORE_E_OK);
    d0 = digest(c);
    instrs = f->rec.n_instrs;
    assert_int_equal(core_migrate(c, f->vm, CORE_NONE, f->n[1], 3, NULL),
                     CORE_E_CORDONED);
    assert_int_equal(core_migrate_check(c, f->vm, CORE_NONE, f->n[1]),
                     CORE_E_CORDONED);
    assert_int_equal(core_vm_add(c, "vm8", &cfg, f->n[1], 3, NULL),
                     CORE_E_CORDONED);
    assert_int_equal(digest(c), d0);
    assert_int_equal(f->rec.n_instrs, instrs);
    /* The error names are distinct. */
    for (int a = 0; a < CORE_N_ERRORS; a++) {
        for (int b = a + 1; b < CORE_N_ERRORS; b++) {
            assert_string_not_equal(core_errname(a), core_errname(b));
        }
    }
    core_fx_free(f);
}

static void
test_vm_remove_runs_tasks(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    core_fx_migrated(f, f->n[1], 0, 1);
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[2], 2,
                                  NULL),
                     CORE_E_OK);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_vm_remove(f->core, f->vm, 3), CORE_E_OK);
    assert_true(rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]) >= 0);
    assert_true(rec_find(&f->rec, mark, INSTR_DELETE, f->n[1]) >= 0);
    assert_true(rec_find(&f->rec, mark, INSTR_DELETE, f->n[2]) >= 0);
    assert_int_equal(core_n_tasks(f->core), 0);
    assert_int_equal(core_vm_find(f->core, "vm1"), CORE_NONE);
    for (uint64_t id = 1; id <= 2; id++) {
        struct core_migration m;
        assert_true(core_migration_get(f->core, id, &m));
        assert_int_equal(m.phase, MIG_CLEANING);
    }
    ack_all(f->core, 4);
    for (uint64_t id = 1; id <= 2; id++) {
        struct core_migration m;
        assert_true(core_migration_get(f->core, id, &m));
        assert_int_equal(m.phase, MIG_CLEANED);
    }
    core_fx_free(f);
}

struct map_seen {
    char names[64][16];
    bool removed[64];
    uint64_t versions[64];
    size_t n;
};

static void
map_cb(void *aux, const struct core_map_entry *e)
{
    struct map_seen *s = aux;
    assert_true(s->n < 64);
    snprintf(s->names[s->n], sizeof s->names[0], "%s", e->vm);
    s->removed[s->n] = e->removed;
    s->versions[s->n] = e->version;
    s->n++;
}


/* Duplicate addresses (core.h): a MAC, or an IP other than 0, that another
 * VM has in the same network is refused unless allowed; the same VM
 * moving or keeping its addresses never is. */
static void
test_duplicate_address(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    struct core *c = f->core;
    const struct mn_config one = cfg_of(1); /* vm1's: VNI 100 */
    struct mn_config x;
    uint32_t i, j;

    /* Exactly vm1's MAC, IP and VNI: refused, and nothing changes. */
    uint64_t version = core_map_version(c);
    assert_int_equal(core_vm_add_check(c, "vm2", &one, f->n[1]),
                     CORE_E_DUPLICATE_ADDRESS);
    assert_int_equal(core_vm_add(c, "vm2", &one, f->n[1], 0, &i),
                     CORE_E_DUPLICATE_ADDRESS);
    assert_int_equal(core_vm_find(c, "vm2"), CORE_NONE);
    assert_int_equal(core_map_version(c), version);
    /* Only the MAC, or only the IP, is enough; the VLAN does not split a
     * VNI. */
    x = cfg_of(2);
    memcpy(x.mac, one.mac, 6);
    x.vlan = 7;
    assert_int_equal(core_vm_add(c, "vm2", &x, f->n[1], 0, &i),
                     CORE_E_DUPLICATE_ADDRESS);
    x = cfg_of(2);
    x.ip = one.ip;
    assert_int_equal(core_vm_add(c, "vm2", &x, f->n[1], 0, &i),
                     CORE_E_DUPLICATE_ADDRESS);
    assert_int_equal(core_vm_address_owner(c, &x, CORE_NONE), f->vm);
    assert_int_equal(core_vm_address_owner(c, &x, f->vm), CORE_NONE);

    /* Another VNI is another network. */
    x = one;
    x.vni = 200;
    assert_int_equal(core_vm_add(c, "vm2", &x, f->n[1], 0, &i), CORE_E_OK);
    /* Without a VNI the VLAN is the network; 0 is the untagged one. */
    x = one;
    x.vni = 0;
    x.vlan = 10;
    assert_int_equal(core_vm_add(c, "vm3", &x, f->n[1], 0, &j), CORE_E_OK);
    x.vlan = 11;
    assert_int_equal(core_vm_add(c, "vm4", &x, f->n[1], 0, &j), CORE_E_OK);
    x.vlan = 10;
    assert_int_equal(core_vm_add(c, "vm5", &x, f->n[1], 0, &j),
                     CORE_E_DUPLICATE_ADDRESS);
    /* No IP (DHCP will assign one) is no duplicate of another without. */
    x = cfg_of(20);
    x.ip = 0;
    assert_int_equal(core_vm_add(c, "vm6", &x, f->n[1], 0, &j), CORE_E_OK);
    x = cfg_of(21);
    x.ip = 0;
    assert_int_equal(core_vm_add(c, "vm7", &x, f->n[1], 0, &j), CORE_E_OK);

    /* Allowed explicitly. */
    uint32_t twin;
    assert_int_equal(core_vm_add_opts(c, "twin", &one, f->n[2], NULL,
                                      CORE_VM_ALLOW_DUPLICATE, 0, &twin),
                     CORE_E_OK);
    /* Keeping its (duplicate) addresses is no new duplicate... */
    x = one;
    x.port = 9;
    assert_int_equal(core_vm_update(c, twin, &x, 0), CORE_E_OK);
    /* ...taking another VM's is, unless allowed. */
    x = cfg_of(3);
    assert_int_equal(core_vm_update(c, twin, &x, 0), CORE_E_OK);
    x = one;
    assert_int_equal(core_vm_update_check(c, twin, &x),
                     CORE_E_DUPLICATE_ADDRESS);
    assert_int_equal(core_vm_update(c, twin, &x, 0),
                     CORE_E_DUPLICATE_ADDRESS);
    assert_int_equal(core_vm_update_opts(c, twin, &x,
                                         CORE_VM_ALLOW_DUPLICATE, 0),
                     CORE_E_OK);

    /* A migration moves vm1 with its addresses: not a duplicate of
     * itself, and they stay taken. */
    assert_int_equal(core_vm_remove(c, twin, 0), CORE_E_OK);
    core_fx_migrated(f, f->n[3], 10, 20);
    assert_int_equal(core_vm_add(c, "vm8", &one, f->n[1], 30, &j),
                     CORE_E_DUPLICATE_ADDRESS);
    /* Removed, its addresses are free again. */
    assert_int_equal(core_vm_remove(c, f->vm, 40), CORE_E_OK);
    assert_int_equal(core_vm_add(c, "vm8", &one, f->n[1], 50, &j),
                     CORE_E_OK);
    core_fx_free(f);
}

static void
test_map_since(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    struct core *c = f->core;
    struct mn_config cfg = cfg_of(2), cfg3 = cfg_of(3);
    uint32_t vm2, vm3;
    assert_int_equal(core_vm_add(c, "vm2", &cfg, f->n[1], 0, &vm2), 0);
    assert_int_equal(core_vm_add(c, "vm3", &cfg3, f->n[1], 0, &vm3), 0);
    uint64_t v0 = core_map_version(c);
    assert_int_equal(v0, 3);
    assert_int_equal(core_migrate(c, f->vm, CORE_NONE, f->n[2], 0, NULL), 0);
    assert_int_equal(core_vm_remove(c, vm2, 1), 0);

    struct map_seen s = {0};
    assert_true(core_map_since(c, 0, map_cb, &s));
    assert_int_equal(s.n, 2); /* vm3 and vm1, live only */
    assert_string_equal(s.names[0], "vm3");
    assert_string_equal(s.names[1], "vm1");

    memset(&s, 0, sizeof s);
    assert_true(core_map_since(c, v0, map_cb, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "vm1");
    assert_false(s.removed[0]);
    assert_string_equal(s.names[1], "vm2");
    assert_true(s.removed[1]);
    assert_true(s.versions[0] < s.versions[1]);

    memset(&s, 0, sizeof s);
    assert_true(core_map_since(c, core_map_version(c), map_cb, &s));
    assert_int_equal(s.n, 0);
    core_fx_free(f);

    /* With room for one tombstone, older removals are forgotten and the
     * answer says it is incomplete. */
    struct core_config cc;
    core_config_default(&cc);
    cc.tombstones = 1;
    c = core_create(&cc, NULL, NULL);
    uint32_t n, a, b;
    assert_int_equal(core_node_add(c, "n", "x", 100, 0, &n), 0);
    assert_int_equal(core_vm_add(c, "a", &cfg, n, 0, &a), 0);
    assert_int_equal(core_vm_add(c, "b", &cfg3, n, 0, &b), 0);
    uint64_t before = core_map_version(c);
    assert_int_equal(core_vm_remove(c, a, 0), 0);
    assert_int_equal(core_vm_remove(c, b, 0), 0);
    memset(&s, 0, sizeof s);
    assert_false(core_map_since(c, before, map_cb, &s));
    memset(&s, 0, sizeof s);
    assert_true(core_map_since(c, before + 1, map_cb, &s));
    assert_int_equal(s.n, 1);
    assert_string_equal(s.names[0], "b");
    core_destroy(c);
}

/* Resync lists the node's whole desired state. */
static void
test_resync(void **state)
{
    struct core_fx *f = core_fx_new("mignet");
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[1], 0,
                                  NULL),
                     0);
    ack_all(f->core, 1);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_node_resync(f->core, f->n[0], 2), 0);
    long inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[0]);
    long relay = rec_find(&f->rec, mark, INSTR_RELAY, f->n[0]);
    assert_true(inst >= 0 && relay > inst);
    assert_int_equal(f->rec.instrs[inst].epoch, 1);
    assert_int_equal(f->rec.instrs[relay].target, f->n[1]);
    mark = f->rec.n_instrs;
    assert_int_equal(core_node_resync(f->core, f->n[1], 2), 0);
    inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_true(inst >= 0);
    assert_int_equal(f->rec.instrs[inst].epoch, 2);
    /* Nothing for a node with no VMs and no tasks. */
    mark = f->rec.n_instrs;
    assert_int_equal(core_node_resync(f->core, f->n[3], 2), 0);
    assert_int_equal(f->rec.n_instrs, mark);
    core_fx_free(f);
}

/* Many tasks fire in due order. */
static void
test_many_tasks_in_order(void **state)
{
    struct core_config cfg;
    core_config_default(&cfg);
    cfg.ack_release = false;
    struct rec *r = calloc(1, sizeof *r);
    struct core *c = core_create(&cfg, NULL, NULL);
    uint32_t a, b;
    assert_int_equal(core_node_add(c, "a", "x", 1000, 0, &a), 0);
    assert_int_equal(core_node_add(c, "b", "x", 1000, 0, &b), 0);
    enum { N = 20000 };
    uint32_t *vms = malloc(N * sizeof *vms);
    char name[16];
    srand(7);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "v%d", i);
        struct mn_config mc = cfg_of((uint32_t) i);
        assert_int_equal(core_vm_add(c, name, &mc, a, 0, &vms[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        /* Acks at scattered times make scattered due times. */
        assert_int_equal(core_migrate(c, vms[i], CORE_NONE, b,
                                      (uint64_t) (rand() % 100000), NULL),
                         0);
    }
    ack_all(c, 50000);
    assert_int_equal(core_n_tasks(c), N);
    uint64_t last = 0;
    size_t fired = 0;
    while (core_next_due(c) != UINT64_MAX) {
        uint64_t due = core_next_due(c);
        assert_true(due >= last);
        last = due;
        size_t before = core_n_tasks(c);
        core_run(c, due);
        fired += before - core_n_tasks(c);
    }
    assert_int_equal(fired, N);
    free(vms);
    free(r);
    core_destroy(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_steps),
        cmocka_unit_test(test_manager_never_waits),
        cmocka_unit_test(test_snapshot_after_update),
        cmocka_unit_test(test_pingpong_run_first),
        cmocka_unit_test(test_pingpong_fixed_deletes_wrong),
        cmocka_unit_test(test_chain_retarget),
        cmocka_unit_test(test_dynamic_delay),
        cmocka_unit_test(test_delay_clamped),
        cmocka_unit_test(test_early_release),
        cmocka_unit_test(test_version_ack_no_sample),
        cmocka_unit_test(test_prepare_timeout),
        cmocka_unit_test(test_nack_holds_migration),
        cmocka_unit_test(test_nack_then_timeout),
        cmocka_unit_test(test_errors_change_nothing),
        cmocka_unit_test(test_vm_remove_runs_tasks),
        cmocka_unit_test(test_map_since),
        cmocka_unit_test(test_duplicate_address),
        cmocka_unit_test(test_resync),
        cmocka_unit_test(test_many_tasks_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
