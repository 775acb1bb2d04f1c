/* test_core_nodes.c: the operator's lifecycle of a node in the core --
 * cordon, drain (a target per VM, progress until empty), uncordon and
 * removal (refused while busy; forced for a dead node).
 *
 * Each test builds a small core over the in-memory store, drives it as
 * the REST handlers would, and checks what the node views, the sink and a
 * reloaded copy show. */
#include "unit/core_fixture.h"

#include <stdio.h>

struct nfx {
    struct store *store;
    struct core *core;
    struct rec rec;
    uint32_t n[4];
};

static struct nfx *
nfx_new(void)
{
    struct nfx *f = calloc(1, sizeof *f);
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(&f->rec);
    f->store = store_mem_create();
    f->core = core_create(&cfg, f->store, &sink);
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(core_node_add(f->core, name, "198.18.0.1", 1000, 0,
                                       &f->n[i]),
                         CORE_E_OK);
    }
    return f;
}

static void
nfx_free(struct nfx *f)
{
    core_destroy(f->core);
    store_destroy(f->store);
    free(f);
}

static uint32_t
vm_on(struct nfx *f, const char *name, uint32_t node)
{
    static uint32_t ip = 1;
    struct mn_config cfg = cfg_of(ip++);
    uint32_t vm;
    assert_int_equal(core_vm_add(f->core, name, &cfg, node, 0, &vm),
                     CORE_E_OK);
    return vm;
}

static struct core_node_info
info(struct nfx *f, uint32_t node)
{
    struct core_node_info ni;
    assert_true(core_node_info(f->core, node, &ni));
    return ni;
}

struct targets {
    uint32_t vm[16], target[16];
    size_t n;
};

static bool
collect(void *aux, uint32_t vm, uint32_t target)
{
    struct targets *t = aux;
    assert_true(t->n < 16);
    t->vm[t->n] = vm;
    t->target[t->n++] = target;
    return true;
}

static struct targets
targets_of(struct nfx *f, uint32_t node)
{
    struct targets t = {.n = 0};
    core_node_vms_walk(f->core, node, collect, &t);
    return t;
}

static uint32_t
target_of(struct nfx *f, uint32_t node, uint32_t vm)
{
    struct targets t = targets_of(f, node);
    for (size_t i = 0; i < t.n; i++) {
        if (t.vm[i] == vm) {
            return t.target[i];
        }
    }
    fail_msg("vm %u is not on node %u", vm, node);
    return CORE_NONE;
}

static size_t
count_target(const struct targets *t, uint32_t node)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        k += t->target[i] == node;
    }
    return k;
}

/* A cordoned node takes no new VM and no migration, keeps what it has
 * (which may leave), and survives a restart; uncordon lifts it. */
static void
test_cordon(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    uint32_t a = vm_on(f, "a", f->n[0]);
    uint32_t b = vm_on(f, "b", f->n[1]);
    assert_int_equal(core_node_cordon(c, f->n[0], true, 1), CORE_E_OK);
    assert_int_equal(core_node_cordon(c, f->n[0], true, 1), CORE_E_OK);
    assert_int_equal(info(f, f->n[0]).state, CORE_NODE_CORDONED);
    assert_true(info(f, f->n[0]).cordoned);
    assert_false(info(f, f->n[0]).draining);

    struct mn_config cfg = cfg_of(99);
    assert_int_equal(core_vm_add_check(c, "x", &cfg, f->n[0]),
                     CORE_E_CORDONED);
    assert_int_equal(core_vm_add(c, "x", &cfg, f->n[0], 2, NULL),
                     CORE_E_CORDONED);
    assert_int_equal(core_migrate(c, b, CORE_NONE, f->n[0], 2, NULL),
                     CORE_E_CORDONED);
    assert_int_equal(core_vm_find(c, "x"), CORE_NONE);

    /* A restart keeps the cordon. */
    struct rec *r2 = calloc(1, sizeof *r2); /* megabytes: not the stack */
    assert_non_null(r2);
    struct core_config ccfg;
    core_config_default(&ccfg);
    struct core_sink sink = rec_sink(r2);
    struct core *copy = core_create(&ccfg, f->store, &sink);
    assert_int_equal(core_load(copy), CORE_E_OK);
    struct core_node_info ni;
    assert_true(core_node_info(copy, core_node_find(copy, "n0"), &ni));
    assert_int_equal(ni.state, CORE_NODE_CORDONED);
    assert_int_equal(ni.n_vms, 1);
    core_destroy(copy);
    free(r2);

    /* Its own VM leaves as usual. */
    assert_int_equal(core_migrate(c, a, CORE_NONE, f->n[2], 3, NULL),
                     CORE_E_OK);
    assert_int_equal(core_node_cordon(c, f->n[0], false, 4), CORE_E_OK);
    assert_int_equal(info(f, f->n[0]).state, CORE_NODE_ACTIVE);
    assert_int_equal(core_migrate(c, b, CORE_NONE, f->n[0], 5, NULL),
                     CORE_E_OK);
    nfx_free(f);
}

/* Drain: targets for every VM -- the given one, the rest to the
 * least-loaded live uncordoned node (ties to the lowest name) -- then
 * progress as the VM manager moves them, complete once the node holds
 * nothing, and then it can be removed. */
static void
test_drain_to_empty(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    uint32_t v[4];
    v[0] = vm_on(f, "a", f->n[0]);
    v[1] = vm_on(f, "b", f->n[0]);
    v[2] = vm_on(f, "c", f->n[0]);
    v[3] = vm_on(f, "d", f->n[0]);
    vm_on(f, "e", f->n[1]);
    assert_int_equal(core_node_cordon(c, f->n[3], true, 0), CORE_E_OK);

    struct core_drain_target given = {.vm = v[3], .node = f->n[1]};
    size_t instrs = f->rec.n_instrs;
    assert_int_equal(core_node_drain(c, f->n[0], &given, 1, 1), CORE_E_OK);
    assert_int_equal(f->rec.n_instrs, instrs); /* moves nothing itself */
    struct core_node_info ni = info(f, f->n[0]);
    assert_int_equal(ni.state, CORE_NODE_DRAINING);
    assert_true(ni.cordoned && ni.draining);
    assert_int_equal(target_of(f, f->n[0], v[3]), f->n[1]);
    /* n1 holds e and gets d (load 2), n2 nothing: the other three go to
     * n2 (load 0), n2 (1 < 2), then n1 (a 2-2 tie, n1 by name); none to
     * the cordoned n3. */
    struct targets t = targets_of(f, f->n[0]);
    assert_int_equal(t.n, 4);
    assert_int_equal(count_target(&t, f->n[2]), 2);
    assert_int_equal(count_target(&t, f->n[1]), 2);
    assert_int_equal(count_target(&t, f->n[3]), 0);

    /* Draining again keeps the targets. */
    assert_int_equal(core_node_drain(c, f->n[0], NULL, 0, 2), CORE_E_OK);
    struct targets t2 = targets_of(f, f->n[0]);
    assert_memory_equal(&t, &t2, sizeof t);

    /* The VM manager moves them; each leaves its target behind. */
    for (int i = 0; i < 4; i++) {
        uint32_t to = target_of(f, f->n[0], v[i]);
        assert_int_equal(core_migrate(c, v[i], f->n[0], to, 10, NULL),
                         CORE_E_OK);
        assert_int_equal(info(f, f->n[0]).n_vms, (uint32_t) (3 - i));
        ack_all(c, 11);
    }
    /* Empty of VMs, but the cleanups are still pending there. */
    ni = info(f, f->n[0]);
    assert_int_equal(ni.state, CORE_NODE_DRAINING);
    assert_true(ni.n_tasks > 0);
    assert_int_equal(core_node_remove(c, f->n[0], false, 12),
                     CORE_E_NODE_BUSY);
    refresh_all(c, 99000);
    core_run(c, 100000);
    /* The DELETEs are sent: drained only once n0's agent confirms. */
    ni = info(f, f->n[0]);
    assert_int_equal(ni.n_tasks, 0);
    assert_int_equal(core_node_cleanups(c, f->n[0]), 4);
    assert_int_equal(ni.state, CORE_NODE_DRAINING);
    assert_int_equal(core_node_remove(c, f->n[0], false, 100000),
                     CORE_E_NODE_BUSY);
    ack_all(c, 100000);
    ni = info(f, f->n[0]);
    assert_int_equal(core_node_cleanups(c, f->n[0]), 0);
    assert_int_equal(ni.state, CORE_NODE_DRAINED);
    assert_int_equal(core_node_remove(c, f->n[0], false, 100001),
                     CORE_E_OK);
    assert_false(core_node_valid(c, f->n[0]));
    nfx_free(f);
}

/* Everything a drain refuses, refused before anything changes. */
static void
test_drain_refusals(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    uint32_t a = vm_on(f, "a", f->n[0]);
    uint32_t b = vm_on(f, "b", f->n[0]);
    uint32_t e = vm_on(f, "e", f->n[1]);
    assert_int_equal(core_node_cordon(c, f->n[3], true, 0), CORE_E_OK);
    struct {
        struct core_drain_target tg[2];
        size_t n;
        enum core_err want;
    } cases[] = {
        {{{e, f->n[2]}}, 1, CORE_E_WRONG_SOURCE},
        {{{a, f->n[0]}}, 1, CORE_E_SAME_NODE},
        {{{a, f->n[3]}}, 1, CORE_E_CORDONED},
        {{{a, f->n[1]}, {a, f->n[2]}}, 2, CORE_E_BAD_VALUE},
        {{{999, f->n[1]}}, 1, CORE_E_UNKNOWN_VM},
        {{{b, 999}}, 1, CORE_E_UNKNOWN_NODE},
    };
    size_t instrs = f->rec.n_instrs;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(core_node_drain_check(c, f->n[0], cases[i].tg,
                                               cases[i].n),
                         cases[i].want);
        assert_int_equal(core_node_drain(c, f->n[0], cases[i].tg,
                                         cases[i].n, 1),
                         cases[i].want);
        assert_int_equal(info(f, f->n[0]).state, CORE_NODE_ACTIVE);
        assert_int_equal(target_of(f, f->n[0], a), CORE_NONE);
    }
    /* No node can take them: n1, n2 cordoned too. */
    assert_int_equal(core_node_cordon(c, f->n[1], true, 2), CORE_E_OK);
    assert_int_equal(core_node_cordon(c, f->n[2], true, 2), CORE_E_OK);
    assert_int_equal(core_node_drain(c, f->n[0], NULL, 0, 3),
                     CORE_E_NO_TARGET);
    assert_int_equal(info(f, f->n[0]).state, CORE_NODE_ACTIVE);
    /* ... but an empty node drains (to nothing) at once. */
    assert_int_equal(core_node_drain(c, f->n[2], NULL, 0, 3), CORE_E_OK);
    assert_int_equal(info(f, f->n[2]).state, CORE_NODE_DRAINED);
    assert_int_equal(f->rec.n_instrs, instrs);
    nfx_free(f);
}

/* A target that stops being eligible (cordoned, removed) is replaced;
 * uncordoning the drained node forgets its targets. */
static void
test_drain_retarget_and_uncordon(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    uint32_t a = vm_on(f, "a", f->n[0]);
    assert_int_equal(core_node_cordon(c, f->n[1], true, 0), CORE_E_OK);
    assert_int_equal(core_node_cordon(c, f->n[3], true, 0), CORE_E_OK);
    assert_int_equal(core_node_drain(c, f->n[0], NULL, 0, 1), CORE_E_OK);
    assert_int_equal(target_of(f, f->n[0], a), f->n[2]);

    /* n2 cordoned: nothing else is eligible, the VM has no target. */
    assert_int_equal(core_node_cordon(c, f->n[2], true, 2), CORE_E_OK);
    assert_int_equal(target_of(f, f->n[0], a), CORE_NONE);
    /* n1 back: drain again picks it. */
    assert_int_equal(core_node_cordon(c, f->n[1], false, 3), CORE_E_OK);
    assert_int_equal(core_node_drain(c, f->n[0], NULL, 0, 3), CORE_E_OK);
    assert_int_equal(target_of(f, f->n[0], a), f->n[1]);
    /* n1 removed (it is empty): a new target, n2 after its uncordon. */
    assert_int_equal(core_node_cordon(c, f->n[2], false, 4), CORE_E_OK);
    assert_int_equal(core_node_remove(c, f->n[1], false, 4), CORE_E_OK);
    assert_int_equal(target_of(f, f->n[0], a), f->n[2]);

    /* Uncordon ends the drain: no target, active, and n2 counts no VM
     * headed to it any more (a new drain of n3's VM picks by load). */
    assert_int_equal(core_node_cordon(c, f->n[0], false, 5), CORE_E_OK);
    assert_int_equal(info(f, f->n[0]).state, CORE_NODE_ACTIVE);
    assert_int_equal(target_of(f, f->n[0], a), CORE_NONE);
    assert_int_equal(core_node_cordon(c, f->n[3], false, 6), CORE_E_OK);
    uint32_t d = vm_on(f, "d", f->n[3]);
    assert_int_equal(core_node_cordon(c, f->n[0], true, 6), CORE_E_OK);
    assert_int_equal(core_node_drain(c, f->n[3], NULL, 0, 6), CORE_E_OK);
    assert_int_equal(target_of(f, f->n[3], d), f->n[2]);
    nfx_free(f);
}

/* Removal: never with VMs; pending cleanups refuse it unless forced, and
 * a forced removal drops them (the DELETE goes to the dead node, the
 * migration ends). */
static void
test_remove_force(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    uint32_t a = vm_on(f, "a", f->n[0]);
    assert_int_equal(core_node_remove_check(c, f->n[0], true),
                     CORE_E_NODE_BUSY);
    assert_int_equal(core_node_remove(c, f->n[0], true, 1),
                     CORE_E_NODE_BUSY);
    struct core_migrate_result res;
    assert_int_equal(core_migrate(c, a, CORE_NONE, f->n[1], 2, &res),
                     CORE_E_OK);
    /* n0 is dead: it never acknowledges; its cleanup stays pending. */
    ack_all_but(c, f->n[0], 3);
    core_run(c, 6000);
    struct core_migration m;
    assert_true(core_migration_get(c, res.migration, &m));
    assert_int_not_equal(m.phase, MIG_CLEANED);
    assert_int_equal(info(f, f->n[0]).n_tasks, 1);
    assert_int_equal(core_node_remove_check(c, f->n[0], false),
                     CORE_E_NODE_BUSY);
    assert_int_equal(core_node_remove(c, f->n[0], false, 7),
                     CORE_E_NODE_BUSY);
    size_t mark = f->rec.n_instrs;
    assert_int_equal(core_node_remove_check(c, f->n[0], true), CORE_E_OK);
    assert_int_equal(core_node_remove(c, f->n[0], true, 8), CORE_E_OK);
    assert_false(core_node_valid(c, f->n[0]));
    assert_int_equal(core_node_find(c, "n0"), CORE_NONE);
    assert_true(rec_find(&f->rec, mark, INSTR_DELETE, f->n[0]) >= 0);
    assert_true(core_migration_get(c, res.migration, &m));
    assert_int_equal(m.phase, MIG_CLEANED);
    assert_int_equal(core_n_tasks(c), 0);
    assert_int_equal(store_mem_count(f->store, STORE_TASK), 0);
    assert_int_equal(store_mem_count(f->store, STORE_NODE), 3);
    /* The name is free again. */
    assert_int_equal(core_node_add(c, "n0", "198.18.0.1", 1000, 9, NULL),
                     CORE_E_OK);
    nfx_free(f);
}

/* With a switch-over mode: a migration to a cordoned node is refused
 * at its start; one admitted before the cordon still switches over; the
 * VM leaves its drain target behind only when it actually moves (at the
 * switch-over), and a migration being prepared to a node keeps it from
 * being removed, even forced. */
static void
test_cordon_and_switchover_modes(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    uint32_t a = vm_on(f, "a", f->n[0]);
    struct core_migrate_opts manual = {.switchover = MIG_SW_MANUAL};
    assert_int_equal(core_node_cordon(c, f->n[1], true, 1), CORE_E_OK);
    assert_int_equal(core_migrate_opts_check(c, a, CORE_NONE, f->n[1],
                                             &manual),
                     CORE_E_CORDONED);
    assert_int_equal(core_migrate_opts(c, a, CORE_NONE, f->n[1], &manual, 1,
                                       NULL),
                     CORE_E_CORDONED);
    assert_int_equal(core_n_migrations(c), 0);
    assert_int_equal(core_node_cordon(c, f->n[1], false, 2), CORE_E_OK);

    struct core_drain_target tg = {.vm = a, .node = f->n[2]};
    assert_int_equal(core_node_drain(c, f->n[0], &tg, 1, 3), CORE_E_OK);
    struct core_migrate_result res;
    assert_int_equal(core_migrate_opts(c, a, CORE_NONE, f->n[1], &manual, 4,
                                       &res),
                     CORE_E_OK);
    /* Prepared, not switched: still on n0, still headed to n2. */
    assert_int_equal(target_of(f, f->n[0], a), f->n[2]);
    assert_int_equal(info(f, f->n[0]).state, CORE_NODE_DRAINING);
    assert_int_equal(core_node_remove(c, f->n[1], true, 5),
                     CORE_E_NODE_BUSY);
    /* n1 cordoned after the start: the switch-over still happens. */
    assert_int_equal(core_node_cordon(c, f->n[1], true, 5), CORE_E_OK);
    ack_all(c, 6);
    assert_int_equal(core_migration_switchover(c, res.migration, 7),
                     CORE_E_OK);
    struct core_vm_info vi;
    assert_true(core_vm_info(c, a, &vi));
    assert_int_equal(vi.node, f->n[1]);
    struct core_node_info ni = info(f, f->n[0]);
    assert_int_equal(ni.n_vms, 0);
    assert_int_equal(targets_of(f, f->n[0]).n, 0);
    /* n2 no longer counts a VM headed to it. */
    uint32_t b = vm_on(f, "b", f->n[3]);
    assert_int_equal(core_node_drain(c, f->n[3], NULL, 0, 8), CORE_E_OK);
    assert_int_equal(target_of(f, f->n[3], b), f->n[2]);
    nfx_free(f);
}

/* A store written before nodes could be cordoned holds a node 'gone'
 * with VMs; it loads cordoned, its VM migrates off (no longer trapped),
 * and then the node can be removed. */
static void
test_old_gone_record(void **state)
{
    (void) state;
    struct store *s = store_mem_create();
    struct store_rec r = {.type = STORE_META};
    r.meta.map_version = 1;
    r.meta.next_migration = 1;
    r.meta.next_task = 1;
    assert_int_equal(store_put(s, &r), 0);
    const char *names[2] = {"old", "new"};
    for (int i = 0; i < 2; i++) {
        r = (struct store_rec){.type = STORE_NODE};
        r.node.name = names[i];
        r.node.address = "198.18.0.7";
        r.node.refresh_ms = 1000;
        r.node.gone = i == 0;
        assert_int_equal(store_put(s, &r), 0);
    }
    r = (struct store_rec){.type = STORE_VM};
    r.vm.name = "vm1";
    r.vm.node = "old";
    r.vm.config = cfg_of(5);
    r.vm.epoch = 1;
    r.vm.map_version = 1;
    assert_int_equal(store_put(s, &r), 0);
    assert_int_equal(store_commit(s), 0);

    struct rec *rec = calloc(1, sizeof *rec);
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(rec);
    struct core *c = core_create(&cfg, s, &sink);
    assert_int_equal(core_load(c), CORE_E_OK);
    uint32_t old = core_node_find(c, "old");
    struct core_node_info ni;
    assert_true(core_node_info(c, old, &ni));
    assert_int_equal(ni.state, CORE_NODE_CORDONED);
    assert_int_equal(ni.n_vms, 1);
    uint32_t vm = core_vm_find(c, "vm1");
    assert_int_equal(core_migrate(c, vm, CORE_NONE, core_node_find(c, "new"),
                                  10, NULL),
                     CORE_E_OK);
    ack_all(c, 11);
    refresh_all(c, 99000);
    core_run(c, 100000);
    ack_all(c, 100000);
    assert_int_equal(core_node_remove(c, old, false, 100001), CORE_E_OK);
    core_destroy(c);
    store_destroy(s);
    free(rec);
}

/* Refresh samples are rate-limited: forty polls 1 ms apart neither count
 * as observations nor lower the node's refresh bound (they still
 * acknowledge), while a poll after the node's interval is a sample. */
static void
test_refresh_floor(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    uint32_t n = f->n[0];
    vm_on(f, "vm-r", f->n[1]);
    uint64_t v = core_map_version(c);
    assert_true(v > 0);
    for (uint64_t t = 0; t <= 3000; t += 1000) {
        assert_int_equal(core_node_refresh(c, n, 0, 10000 + t), CORE_E_OK);
    }
    struct core_node_info before = info(f, n);
    assert_int_equal(before.refreshes, 4);
    for (uint64_t i = 1; i <= 40; i++) {
        assert_int_equal(core_node_refresh(c, n, i == 40 ? v : 0,
                                           13000 + i),
                         CORE_E_OK);
    }
    struct core_node_info after = info(f, n);
    assert_int_equal(after.refreshes, before.refreshes);
    assert_int_equal(after.refresh_upper_ms, before.refresh_upper_ms);
    assert_true(after.refresh_mean_ms == before.refresh_mean_ms);
    assert_int_equal(after.last_refresh_ms, 13000);
    assert_int_equal(after.acked_version, v); /* still an ack */
    struct core_stats st;
    core_get_stats(c, &st);
    assert_int_equal(st.refreshes_ignored, 40);
    /* Half the expected interval (500 ms) after the last sample: one. */
    assert_int_equal(core_node_refresh(c, n, v, 13500), CORE_E_OK);
    assert_int_equal(info(f, n).refreshes, 5);
    nfx_free(f);

    /* The floor binds where half the interval is shorter: a node expected
     * every 100 ms polled every 60 ms gets no samples below 100 ms. */
    struct core_config cfg;
    core_config_default(&cfg);
    cfg.refresh_floor_ms = 100;
    struct store *s = store_mem_create();
    struct rec *rec = calloc(1, sizeof *rec);
    struct core_sink sink = rec_sink(rec);
    c = core_create(&cfg, s, &sink);
    assert_int_equal(core_node_add(c, "fast", "198.18.0.9", 100, 0, &n),
                     CORE_E_OK);
    for (uint64_t t = 0; t < 600; t += 60) {
        assert_int_equal(core_node_refresh(c, n, 0, 1000 + t), CORE_E_OK);
    }
    struct core_node_info ni;
    assert_true(core_node_info(c, n, &ni));
    /* Samples at 1000, 1120, 1240, 1360, 1480 (every other poll). */
    assert_int_equal(ni.refreshes, 5);
    assert_true(ni.refresh_mean_ms >= 100);
    core_destroy(c);
    store_destroy(s);
    free(rec);
}

/* A node's token hash: validated, persisted, reloaded, cleared. */
static void
test_token_hash(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    static const char good[] = "9f86d081884c7d659a2feaa0c55ad015"
                               "a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assert_string_equal(core_node_token_hash(c, f->n[0]), "");
    const char *bad[] = {
        "abc", NULL,
        "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a080",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(core_node_set_token_hash(c, f->n[0], bad[i]),
                         CORE_E_BAD_VALUE);
    }
    assert_string_equal(core_node_token_hash(c, f->n[0]), "");
    assert_int_equal(core_node_set_token_hash(c, 999, good),
                     CORE_E_UNKNOWN_NODE);
    assert_null(core_node_token_hash(c, 999));
    assert_int_equal(core_node_set_token_hash(c, f->n[1], good), CORE_E_OK);
    assert_string_equal(core_node_token_hash(c, f->n[1]), good);

    /* Reloaded from the store: the hash comes back; n0 has none. */
    struct rec *rec = calloc(1, sizeof *rec);
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(rec);
    struct core *c2 = core_create(&cfg, f->store, &sink);
    assert_int_equal(core_load(c2), CORE_E_OK);
    assert_string_equal(core_node_token_hash(c2, core_node_find(c2, "n1")),
                        good);
    assert_string_equal(core_node_token_hash(c2, core_node_find(c2, "n0")),
                        "");
    core_destroy(c2);
    free(rec);
    assert_int_equal(core_node_set_token_hash(c, f->n[1], ""), CORE_E_OK);
    assert_string_equal(core_node_token_hash(c, f->n[1]), "");
    nfx_free(f);
}

/* Which node may speak about a VM: where it runs, and both ends of a
 * migration until it is cleaned; never a third node. */
static void
test_concerns_vm(void **state)
{
    (void) state;
    struct nfx *f = nfx_new();
    struct core *c = f->core;
    uint32_t vm = vm_on(f, "vm-c", f->n[0]);
    assert_true(core_node_concerns_vm(c, f->n[0], vm));
    assert_false(core_node_concerns_vm(c, f->n[1], vm));
    assert_false(core_node_concerns_vm(c, f->n[0], 999));
    assert_false(core_node_concerns_vm(c, 999, vm));
    assert_int_equal(core_migrate(c, vm, CORE_NONE, f->n[1], 10, NULL),
                     CORE_E_OK);
    assert_true(core_node_concerns_vm(c, f->n[0], vm));
    assert_true(core_node_concerns_vm(c, f->n[1], vm));
    assert_false(core_node_concerns_vm(c, f->n[2], vm));
    ack_all(c, 11);
    refresh_all(c, 99000);
    core_run(c, 100000);
    ack_all(c, 100000);
    core_run(c, 100001);
    /* Cleaned: the source no longer speaks for it. */
    assert_false(core_node_concerns_vm(c, f->n[0], vm));
    assert_true(core_node_concerns_vm(c, f->n[1], vm));
    nfx_free(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cordon),
        cmocka_unit_test(test_drain_to_empty),
        cmocka_unit_test(test_drain_refusals),
        cmocka_unit_test(test_drain_retarget_and_uncordon),
        cmocka_unit_test(test_remove_force),
        cmocka_unit_test(test_cordon_and_switchover_modes),
        cmocka_unit_test(test_old_gone_record),
        cmocka_unit_test(test_refresh_floor),
        cmocka_unit_test(test_token_hash),
        cmocka_unit_test(test_concerns_vm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
