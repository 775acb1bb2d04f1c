/* test_core_lifecycle.c: a migration's lifecycle (DESIGN §2): prepare an
 * inactive destination, switch over by call (`manual`), by the VM's first
 * frame (`rarp`) or around the hypervisor's stop (`lossless`), abort and
 * the prepare deadline, `now` degraded, cleaning until the source
 * confirmed -- with a recording sink standing in for agents. */
#include "unit/core_fixture.h"

#include <stdio.h>

static struct core_migration
mig(const struct core_fx *f, uint64_t id)
{
    struct core_migration m;
    assert_true(core_migration_get(f->core, id, &m));
    return m;
}

static uint64_t
start(struct core_fx *f, enum mig_switchover sw, uint64_t deadline, uint64_t now)
{
    struct core_migrate_opts o = {.switchover = sw,
                                  .prepare_deadline_ms = deadline};
    struct core_migrate_result res;
    assert_int_equal(core_migrate_opts(f->core, f->vm, f->n[0], f->n[1], &o,
                                       now, &res),
                     CORE_E_OK);
    return res.migration;
}

static size_t
count_kind_on(const struct core_fx *f, size_t from, enum instr_kind k,
              uint32_t node)
{
    size_t n = 0;
    for (size_t i = from; i < f->rec.n_instrs; i++) {
        n += f->rec.instrs[i].kind == k && f->rec.instrs[i].node == node;
    }
    return n;
}

static uint32_t
vm_node(const struct core_fx *f)
{
    struct core_vm_info vi;
    assert_true(core_vm_info(f->core, f->vm, &vi));
    return vi.node;
}

/* manual: prepared inactive, nothing else moves until the call. */
static void
test_manual(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    size_t mark = f->rec.n_instrs;
    uint64_t v0 = core_map_version(f->core);
    uint64_t id = start(f, MIG_SW_MANUAL, 0, 1000);

    long inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_true(inst >= 0);
    assert_true(f->rec.instrs[inst].inactive);
    assert_false(f->rec.instrs[inst].activate_on_frame);
    assert_int_equal(f->rec.instrs[inst].epoch, 2);
    /* The source is not touched, the gateway does not move. */
    assert_int_equal(count_kind_on(f, mark, INSTR_RELAY, f->n[0]), 0);
    assert_int_equal(core_map_version(f->core), v0);
    assert_int_equal(vm_node(f), f->n[0]);
    struct core_migration m = mig(f, id);
    assert_int_equal(m.phase, MIG_PREPARING);
    assert_int_equal(m.switchover, MIG_SW_MANUAL);
    assert_int_equal(m.prepare_deadline_ms,
                     1000 + CORE_PREPARE_DEADLINE_DEFAULT_MS);
    /* A second migration of it is refused while this one runs. */
    assert_int_equal(core_migrate_check(f->core, f->vm, CORE_NONE, f->n[2]),
                     CORE_E_IN_PROGRESS);

    ack_all(f->core, 1100);
    m = mig(f, id);
    assert_int_equal(m.phase, MIG_PREPARED);
    assert_int_equal(m.prepared_ms, 1100);
    /* A frame is not a switch-over in manual mode. */
    assert_int_equal(core_node_activated(f->core, f->n[1], f->vm, 2, 1150),
                     CORE_E_OK);
    assert_int_equal(mig(f, id).switched_ms, 0);

    mark = f->rec.n_instrs;
    assert_int_equal(core_migration_switchover(f->core, id, 1200),
                     CORE_E_OK);
    inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_true(inst >= 0);
    assert_false(f->rec.instrs[inst].inactive);
    assert_int_equal(f->rec.instrs[inst].epoch, 2);
    long relay = rec_find(&f->rec, mark, INSTR_RELAY, f->n[0]);
    assert_true(relay >= 0);
    assert_int_equal(f->rec.instrs[relay].epoch, 1);
    assert_int_equal(f->rec.instrs[relay].target_epoch, 2);
    /* The call counts the VM as running at the destination: its relay
     * may leave before the commit. */
    assert_true(f->rec.instrs[relay].activated);
    assert_true(core_map_version(f->core) > v0);
    assert_int_equal(vm_node(f), f->n[1]);
    m = mig(f, id);
    assert_int_equal(m.phase, MIG_PREPARED);
    assert_int_equal(m.switched_ms, 1200);
    assert_int_equal(m.activated_ms, 1200);
    /* Idempotent: a second call changes nothing. */
    size_t before = f->rec.n_instrs;
    assert_int_equal(core_migration_switchover(f->core, id, 1210),
                     CORE_E_OK);
    assert_int_equal(f->rec.n_instrs, before);
    /* Abort after the VM resumed at the destination: refused. */
    assert_int_equal(core_migration_abort(f->core, id, "x", 1220),
                     CORE_E_ACTIVATED);

    ack_all(f->core, 1300);
    m = mig(f, id);
    assert_int_equal(m.phase, MIG_RELAYING);
    assert_false(m.degraded);
    uint64_t due = core_next_due(f->core);
    assert_int_equal(due, 1300 + m.delay_ms);
    hear_all(f->core, due - 1000);
    core_run(f->core, due);
    assert_int_equal(mig(f, id).phase, MIG_CLEANING);
    ack_all(f->core, due + 3);
    m = mig(f, id);
    assert_int_equal(m.phase, MIG_CLEANED);
    assert_int_equal(m.cleaned_ms, due + 3);
    assert_int_equal(core_n_tasks(f->core), 0);
    core_fx_free(f);
}

/* rarp: the destination agent's first frame switches over. */
static void
test_rarp(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    size_t mark = f->rec.n_instrs;
    uint64_t id = start(f, MIG_SW_RARP, 0, 10);
    long inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_true(f->rec.instrs[inst].inactive);
    assert_true(f->rec.instrs[inst].activate_on_frame);
    ack_all(f->core, 20);

    /* Reports that name another node, VM or epoch are refused. */
    assert_int_equal(core_node_activated_check(f->core, f->n[2], f->vm, 2),
                     CORE_E_NOT_PREPARING);
    assert_int_equal(core_node_activated_check(f->core, f->n[1], f->vm, 3),
                     CORE_E_NOT_PREPARING);
    assert_int_equal(core_node_activated(f->core, f->n[1], f->vm, 1, 25),
                     CORE_E_NOT_PREPARING);
    assert_int_equal(mig(f, id).switched_ms, 0);

    mark = f->rec.n_instrs;
    assert_int_equal(core_node_activated(f->core, f->n[1], f->vm, 2, 30),
                     CORE_E_OK);
    struct core_migration m = mig(f, id);
    assert_int_equal(m.switched_ms, 30);
    assert_int_equal(m.activated_ms, 30);
    long relay = rec_find(&f->rec, mark, INSTR_RELAY, f->n[0]);
    assert_true(relay >= 0);
    assert_true(f->rec.instrs[relay].activated); /* the frame proved it */
    inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_false(f->rec.instrs[inst].inactive);
    assert_false(f->rec.instrs[inst].activate_on_frame);
    assert_int_equal(vm_node(f), f->n[1]);
    /* A repeated report changes nothing. */
    size_t before = f->rec.n_instrs;
    assert_int_equal(core_node_activated(f->core, f->n[1], f->vm, 2, 31),
                     CORE_E_OK);
    assert_int_equal(f->rec.n_instrs, before);
    ack_all(f->core, 40);
    assert_int_equal(mig(f, id).phase, MIG_RELAYING);
    core_fx_free(f);
}

/* Abort before the switch-over: only the destination's copy goes. */
static void
test_abort_prepared(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    uint64_t v0 = core_map_version(f->core);
    uint64_t id = start(f, MIG_SW_RARP, 0, 10);
    ack_all(f->core, 20);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_migration_abort(f->core, id, "migrate_cancel", 30),
                     CORE_E_OK);
    long del = rec_find(&f->rec, mark, INSTR_DELETE, f->n[1]);
    assert_true(del >= 0);
    assert_int_equal(f->rec.instrs[del].epoch, 2);
    assert_int_equal(count_kind_on(f, mark, INSTR_INSTALL, f->n[0])
                         + count_kind_on(f, mark, INSTR_RELAY, f->n[0])
                         + count_kind_on(f, mark, INSTR_DELETE, f->n[0]),
                     0);
    assert_int_equal(core_map_version(f->core), v0);
    assert_int_equal(vm_node(f), f->n[0]);
    struct core_migration m = mig(f, id);
    assert_int_equal(m.phase, MIG_ABORTED);
    assert_int_equal(m.aborted_ms, 30);
    assert_string_equal(m.abort_reason, "migrate_cancel");
    assert_int_equal(core_n_tasks(f->core), 0);
    /* Aborting again is harmless; switching over is refused; a late
     * activation changes nothing. */
    assert_int_equal(core_migration_abort(f->core, id, NULL, 40), CORE_E_OK);
    assert_string_equal(mig(f, id).abort_reason, "migrate_cancel");
    assert_int_equal(core_migration_switchover(f->core, id, 40),
                     CORE_E_ABORTED);
    mark = f->rec.n_instrs;
    assert_int_equal(core_node_activated(f->core, f->n[1], f->vm, 2, 41),
                     CORE_E_OK);
    assert_int_equal(f->rec.n_instrs, mark);
    /* The next migration never reuses the aborted epoch. */
    struct core_migrate_result res;
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[1], 50,
                                  &res),
                     CORE_E_OK);
    assert_int_equal(res.epoch, 3);
    core_fx_free(f);
}

/* The prepare deadline aborts an unswitched migration, not one after. */
static void
test_prepare_deadline(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    uint64_t id = start(f, MIG_SW_MANUAL, 5000, 100);
    ack_all(f->core, 110);
    assert_int_equal(core_next_due(f->core), 5100);
    core_run(f->core, 5099);
    assert_int_equal(mig(f, id).phase, MIG_PREPARED);
    size_t mark = f->rec.n_instrs;
    core_run(f->core, 5100);
    struct core_migration m = mig(f, id);
    assert_int_equal(m.phase, MIG_ABORTED);
    assert_string_equal(m.abort_reason, "prepare_deadline");
    assert_true(rec_find(&f->rec, mark, INSTR_DELETE, f->n[1]) >= 0);
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.migrations_aborted_deadline, 1);

    /* Switched before the deadline: the deadline is gone. */
    uint64_t id2 = start(f, MIG_SW_MANUAL, 5000, 6000);
    assert_int_equal(core_migration_switchover(f->core, id2, 6100),
                     CORE_E_OK);
    ack_all(f->core, 6200);
    core_run(f->core, 11000);
    assert_int_not_equal(mig(f, id2).phase, MIG_ABORTED);
    /* Out-of-range deadlines and a deadline with `now` are refused. */
    struct core_migrate_opts bad = {.switchover = MIG_SW_RARP,
                                    .prepare_deadline_ms = 10};
    assert_int_equal(core_migrate_opts_check(f->core, f->vm, CORE_NONE,
                                             f->n[2], &bad),
                     CORE_E_BAD_VALUE);
    bad.switchover = MIG_SW_NOW;
    bad.prepare_deadline_ms = 5000;
    assert_int_equal(core_migrate_opts_check(f->core, f->vm, CORE_NONE,
                                             f->n[2], &bad),
                     CORE_E_BAD_VALUE);
    core_fx_free(f);
}

/* lossless: switched before the stop; nothing is deleted on the source
 * until the destination resumed; abort until then reverts. */
static void
test_lossless(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    uint64_t id = start(f, MIG_SW_LOSSLESS, 0, 10);
    ack_all(f->core, 20);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_migration_switchover(f->core, id, 30), CORE_E_OK);
    long inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_false(f->rec.instrs[inst].inactive);
    assert_true(f->rec.instrs[inst].activate_on_frame);
    /* Switched before the stop: the VM still runs at the source, so its
     * relay waits for the commit like any other. */
    long relay = rec_find(&f->rec, mark, INSTR_RELAY, f->n[0]);
    assert_true(relay >= 0);
    assert_false(f->rec.instrs[relay].activated);
    ack_all(f->core, 40);
    struct core_migration m = mig(f, id);
    assert_int_equal(m.phase, MIG_RELAYING);
    assert_int_equal(m.activated_ms, 0);
    /* Every node acknowledged the move: still nothing scheduled. */
    uint64_t v = core_map_version(f->core);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(core_node_refresh(f->core, f->n[i], v, 50),
                         CORE_E_OK);
    }
    assert_int_equal(core_next_due(f->core), UINT64_MAX);
    assert_int_equal(core_migrate_check(f->core, f->vm, CORE_NONE, f->n[2]),
                     CORE_E_IN_PROGRESS);

    /* The hypervisor failed before the destination resumed: revert. */
    mark = f->rec.n_instrs;
    assert_int_equal(core_migration_abort(f->core, id, "failed", 60),
                     CORE_E_OK);
    long back = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[0]);
    assert_true(back >= 0);
    assert_int_equal(f->rec.instrs[back].epoch, 3);
    assert_false(f->rec.instrs[back].inactive);
    long del = rec_find(&f->rec, mark, INSTR_DELETE, f->n[1]);
    assert_true(del >= 0);
    assert_int_equal(f->rec.instrs[del].epoch, 2);
    assert_int_equal(count_kind_on(f, mark, INSTR_DELETE, f->n[0]), 0);
    assert_int_equal(vm_node(f), f->n[0]);
    assert_true(core_map_version(f->core) > v);
    assert_int_equal(mig(f, id).phase, MIG_ABORTED);
    assert_int_equal(core_n_tasks(f->core), 0);

    /* Again, and this time the destination resumes. */
    uint64_t id2 = start(f, MIG_SW_LOSSLESS, 0, 100);
    assert_int_equal(mig(f, id2).epoch, 4);
    ack_all(f->core, 110);
    assert_int_equal(core_migration_switchover(f->core, id2, 120),
                     CORE_E_OK);
    ack_all(f->core, 130);
    assert_int_equal(core_node_activated(f->core, f->n[1], f->vm, 4, 140),
                     CORE_E_OK);
    m = mig(f, id2);
    assert_int_equal(m.activated_ms, 140);
    assert_true(core_next_due(f->core) <= 140 + m.delay_ms);
    assert_int_equal(core_migration_abort(f->core, id2, NULL, 150),
                     CORE_E_ACTIVATED);
    core_fx_free(f);
}

/* lossless whose VM resumed before the call (the hypervisor did not
 * wait): its first frame switches over as in rarp, and activates. */
static void
test_lossless_frame_first(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    uint64_t id = start(f, MIG_SW_LOSSLESS, 0, 10);
    ack_all(f->core, 20);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_node_activated(f->core, f->n[1], f->vm, 2, 30),
                     CORE_E_OK);
    struct core_migration m = mig(f, id);
    assert_int_equal(m.switched_ms, 30);
    assert_int_equal(m.activated_ms, 30);
    long relay = rec_find(&f->rec, mark, INSTR_RELAY, f->n[0]);
    assert_true(relay >= 0);
    assert_true(f->rec.instrs[relay].activated);
    core_fx_free(f);
}

/* now: not confirmed in time still switches, degraded. */
static void
test_now_degraded(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    struct core_migrate_result res;
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[1], 0,
                                  &res),
                     CORE_E_OK);
    assert_int_equal(mig(f, 1).switchover, MIG_SW_NOW);
    assert_int_equal(mig(f, 1).activated_ms, 0 + 1); /* 0 is "not yet" */
    /* Called while the VM pauses: its relay waits for the commit. */
    long relay = rec_find(&f->rec, 0, INSTR_RELAY, f->n[0]);
    assert_true(relay >= 0);
    assert_false(f->rec.instrs[relay].activated);
    ack_all_but(f->core, f->n[1], 5);
    core_run(f->core, core_get_config(f->core)->prepare_timeout_ms);
    struct core_migration m = mig(f, 1);
    assert_int_equal(m.phase, MIG_RELAYING);
    assert_true(m.degraded);
    struct core_stats st;
    core_get_stats(f->core, &st);
    assert_int_equal(st.migrations_degraded, 1);
    core_fx_free(f);
}

/* A prepared destination follows configuration changes and resyncs; a
 * VM removed while prepared takes its migration with it. */
static void
test_prepared_follows(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    uint64_t id = start(f, MIG_SW_RARP, 0, 10);
    ack_all(f->core, 20);
    size_t mark = f->rec.n_instrs;
    struct mn_config c = cfg_of(7);
    assert_int_equal(core_vm_update(f->core, f->vm, &c, 30), CORE_E_OK);
    long src = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[0]);
    long dst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_true(src >= 0 && dst >= 0);
    assert_false(f->rec.instrs[src].inactive);
    assert_true(f->rec.instrs[dst].inactive);
    assert_int_equal(f->rec.instrs[dst].config.ip, c.ip);

    /* The destination's agent reconnects: its state holds the copy. */
    mark = f->rec.n_instrs;
    assert_int_equal(core_node_resync(f->core, f->n[1], 40), CORE_E_OK);
    dst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_true(dst >= 0);
    assert_true(f->rec.instrs[dst].inactive);
    assert_true(f->rec.instrs[dst].activate_on_frame);
    assert_int_equal(f->rec.instrs[dst].epoch, 2);

    mark = f->rec.n_instrs;
    assert_int_equal(core_vm_remove(f->core, f->vm, 50), CORE_E_OK);
    assert_true(rec_find(&f->rec, mark, INSTR_DELETE, f->n[1]) >= 0);
    struct core_migration m = mig(f, id);
    assert_int_equal(m.phase, MIG_ABORTED);
    assert_string_equal(m.abort_reason, "vm_removed");
    assert_int_equal(core_n_tasks(f->core), 0);
    core_fx_free(f);
}

/* cleaning -> cleaned only by the source's confirmation; a source that
 * is removed meanwhile (forced: it is dead) has nothing left to
 * confirm. */
static void
test_cleaning_needs_source(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    core_fx_migrated(f, f->n[1], 0, 10);
    hear_all(f->core, core_next_due(f->core) - 1000);
    core_run(f->core, core_next_due(f->core));
    assert_int_equal(mig(f, 1).phase, MIG_CLEANING);
    /* Acknowledgements from other nodes do not clean it. */
    ack_all_but(f->core, f->n[0], 20);
    assert_int_equal(mig(f, 1).phase, MIG_CLEANING);
    assert_int_equal(core_node_remove(f->core, f->n[0], false, 30),
                     CORE_E_NODE_BUSY);
    assert_int_equal(mig(f, 1).phase, MIG_CLEANING);
    assert_int_equal(core_node_remove(f->core, f->n[0], true, 30),
                     CORE_E_OK);
    struct core_migration m = mig(f, 1);
    assert_int_equal(m.phase, MIG_CLEANED);
    assert_int_equal(m.cleaned_ms, 30);
    core_fx_free(f);
}

/* vm moved n0 -> n1 (`now`, relaying: n0 holds snapshot 1, its relay to
 * n1), then a migration back to n0 in mode 'sw' started at 20.  Returns
 * the number of instructions before that one. */
static size_t
back_to_relaying_node(struct core_fx *f, enum mig_switchover sw,
                      struct core_migrate_result *res)
{
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[1], 0,
                                  NULL),
                     CORE_E_OK);
    ack_all(f->core, 10);
    size_t mark = f->rec.n_instrs;
    struct core_migrate_opts o = {.switchover = sw};
    assert_int_equal(core_migrate_opts(f->core, f->vm, CORE_NONE, f->n[0],
                                       &o, 20, res),
                     CORE_E_OK);
    return mark;
}

/* Back to a node that still relays for the VM: the prepare leaves that
 * snapshot alone (stale senders still use its relay), the switch-over
 * deletes it first (I4); an abort gives the node its relay back. */
static void
test_return_to_relaying_node(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    struct core_migrate_opts o = {.switchover = MIG_SW_RARP};
    struct core_migrate_result res;
    size_t mark = back_to_relaying_node(f, MIG_SW_RARP, &res);
    assert_int_equal(res.epoch, 3);
    assert_int_equal(rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]), -1);
    long inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[0]);
    assert_true(f->rec.instrs[inst].inactive);
    assert_int_equal(core_n_tasks(f->core), 2); /* the delete, the deadline */
    /* Another migration before this one activated is told why. */
    assert_int_equal(core_migrate_check(f->core, f->vm, CORE_NONE, f->n[1]),
                     CORE_E_IN_PROGRESS);

    /* Aborted: n0's copy goes, its snapshot relays again. */
    mark = f->rec.n_instrs;
    assert_int_equal(core_migration_abort(f->core, res.migration, NULL, 30),
                     CORE_E_OK);
    long del = rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]);
    assert_int_equal(f->rec.instrs[del].epoch, 3);
    long back = rec_find(&f->rec, del, INSTR_INSTALL, f->n[0]);
    long relay = rec_find(&f->rec, del, INSTR_RELAY, f->n[0]);
    assert_true(back > del && relay > back);
    assert_int_equal(f->rec.instrs[back].epoch, 1);
    assert_int_equal(f->rec.instrs[relay].target, f->n[1]);
    assert_false(f->rec.instrs[relay].activated); /* an abort's relay */

    /* Again, switched this time: the pending deletion runs first. */
    assert_int_equal(core_migrate_opts(f->core, f->vm, CORE_NONE, f->n[0],
                                       &o, 40, &res),
                     CORE_E_OK);
    assert_int_equal(res.epoch, 4);
    ack_all(f->core, 50);
    mark = f->rec.n_instrs;
    assert_int_equal(core_node_activated(f->core, f->n[0], f->vm, 4, 60),
                     CORE_E_OK);
    del = rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]);
    inst = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[0]);
    assert_true(del >= 0 && inst > del);
    assert_int_equal(f->rec.instrs[del].epoch, 1);
    assert_int_equal(f->rec.instrs[inst].epoch, 4);
    assert_false(f->rec.instrs[inst].inactive);
    /* n0's agent reported the frame once its own relay was gone: n1's
     * relay back to it may leave at once. */
    relay = rec_find(&f->rec, mark, INSTR_RELAY, f->n[1]);
    assert_true(relay >= 0);
    assert_true(f->rec.instrs[relay].activated);
    core_fx_free(f);
}

/* A `manual` call back to a node that still relays the VM: the old
 * snapshot's DELETE there waits for the commit, so the new relay towards
 * it must too, or the two nodes would relay to each other meanwhile. */
static void
test_back_by_call_waits_for_commit(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    struct core_migrate_result res;
    back_to_relaying_node(f, MIG_SW_MANUAL, &res);
    ack_all(f->core, 30);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_migration_switchover(f->core, res.migration, 40),
                     CORE_E_OK);
    assert_true(rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]) >= 0);
    long relay = rec_find(&f->rec, mark, INSTR_RELAY, f->n[1]);
    assert_true(relay >= 0);
    assert_false(f->rec.instrs[relay].activated);
    core_fx_free(f);
}

/* A VM's port is found by its iface-id: every instruction for it names
 * it (NULL: the VM's id), and a migration keeps it. */
static void
test_iface_id(void **state)
{
    (void) state;
    struct core_fx *f = core_fx_new("mignet");
    struct mn_config c = cfg_of(9);
    uint32_t vm;
    const char *uuid = "5a9c1f0e-3b7d-4e2a-9f61-0c8d2b4e7a13";
    assert_int_equal(core_vm_add_iface(f->core, "vm9", &c, f->n[0],
                                       "bad id!", 0, &vm),
                     CORE_E_BAD_NAME);
    assert_int_equal(core_vm_find(f->core, "vm9"), CORE_NONE);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_vm_add_iface(f->core, "vm9", &c, f->n[0], uuid, 0,
                                       &vm),
                     CORE_E_OK);
    long i = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[0]);
    assert_string_equal(f->rec.instrs[i].iface_id, uuid);
    struct core_vm_info vi;
    assert_true(core_vm_info(f->core, vm, &vi));
    assert_string_equal(vi.iface_id, uuid);
    /* The default: no iface-id on the wire, the VM's id in the view. */
    mark = f->rec.n_instrs;
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, f->n[1], 1,
                                  NULL),
                     CORE_E_OK);
    i = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[1]);
    assert_null(f->rec.instrs[i].iface_id);
    assert_true(core_vm_info(f->core, f->vm, &vi));
    assert_string_equal(vi.iface_id, "vm1");
    mark = f->rec.n_instrs;
    assert_int_equal(core_migrate(f->core, vm, CORE_NONE, f->n[2], 2, NULL),
                     CORE_E_OK);
    i = rec_find(&f->rec, mark, INSTR_INSTALL, f->n[2]);
    assert_string_equal(f->rec.instrs[i].iface_id, uuid);
    core_fx_free(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manual),
        cmocka_unit_test(test_rarp),
        cmocka_unit_test(test_abort_prepared),
        cmocka_unit_test(test_prepare_deadline),
        cmocka_unit_test(test_lossless),
        cmocka_unit_test(test_lossless_frame_first),
        cmocka_unit_test(test_now_degraded),
        cmocka_unit_test(test_prepared_follows),
        cmocka_unit_test(test_cleaning_needs_source),
        cmocka_unit_test(test_iface_id),
        cmocka_unit_test(test_return_to_relaying_node),
        cmocka_unit_test(test_back_by_call_waits_for_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
