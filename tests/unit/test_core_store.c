/* test_core_store.c: I7 through the store interface (in-memory backend).
 *
 * After every single operation of a random schedule, a second core loaded
 * from the store must show exactly the live core's state: a crash at any
 * moment loses no accepted change.  After a restart the pending deletions
 * wait for fresh acknowledgements or a fresh full delay (DESIGN I7). */
#include "unit/core_fixture.h"

#include <inttypes.h>
#include <stdio.h>

#include "mignet/dhcp.h"

/* A printable description of all observable state. */
struct dump {
    char *buf;
    size_t len, cap;
};

static void dump_add(struct dump *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
dump_add(struct dump *d, const char *fmt, ...)
{
    va_list ap;
    char line[512];
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t) n < sizeof line);
    if (d->len + (size_t) n + 1 > d->cap) {
        d->cap = (d->cap + (size_t) n + 1) * 2;
        d->buf = realloc(d->buf, d->cap);
    }
    memcpy(d->buf + d->len, line, (size_t) n + 1);
    d->len += (size_t) n;
}

struct task_line {
    struct dump *d;
    const struct core *c;
};

static bool
dump_task(void *aux, const struct core_task_info *t)
{
    struct task_line *tl = aux;
    struct core_vm_info vi;
    struct core_node_info ni;
    assert_true(core_vm_info(tl->c, t->vm, &vi));
    assert_true(core_node_info(tl->c, t->node, &ni));
    struct core_node_info target = {.name = "-"};
    if (t->relay_target != CORE_NONE) {
        assert_true(core_node_info(tl->c, t->relay_target, &target));
    }
    char line[256];
    snprintf(line, sizeof line, "task %" PRIu64 " %s %s@%s e%" PRIu64
             " due %" PRIu64 " mig %" PRIu64 " ->%s\n",
             t->id, task_kind_name(t->kind), vi.name, ni.name, t->epoch,
             t->due_ms, t->migration, target.name);
    dump_add(tl->d, "%s", line);
    return true;
}

/* Orders the lines of a state dump. */
static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

struct drain_line {
    struct dump *d;
    const struct core *c;
};

static bool
dump_drain(void *aux, uint32_t vm, uint32_t target)
{
    struct drain_line *dl = aux;
    struct core_vm_info vi;
    struct core_node_info ni;
    assert_true(core_vm_info(dl->c, vm, &vi));
    dump_add(dl->d, "drain %s -> %s\n", vi.name,
             target == CORE_NONE ? "-"
             : core_node_info(dl->c, target, &ni) ? ni.name
                                                  : "?");
    return true;
}

static char *
state_of(const struct core *c)
{
    struct dump d = {0};
    dump_add(&d, "map %" PRIu64 "\n", core_map_version(c));
    for (uint32_t i = 0; i < core_n_nodes(c); i++) {
        struct core_node_info ni;
        if (core_node_info(c, i, &ni)) {
            dump_add(&d, "node %s %s %u state=%s vms=%u\n", ni.name,
                     ni.address, ni.expected_refresh_ms,
                     core_node_state_name(ni.state), ni.n_vms);
            struct drain_line dl = {.d = &d, .c = c};
            core_node_vms_walk(c, i, dump_drain, &dl);
        }
    }
    for (uint32_t i = 0; i < core_n_vms(c); i++) {
        struct core_vm_info vi;
        struct core_node_info ni;
        if (core_vm_info(c, i, &vi)) {
            assert_true(core_node_info(c, vi.node, &ni));
            dump_add(&d, "vm %s @%s e%" PRIu64 " v%" PRIu64 " ip%u m%" PRIu64
                     " t%u b%u\n", vi.name, ni.name, vi.epoch,
                     vi.map_version, vi.config.ip, vi.migration, vi.n_tasks,
                     vi.config.binding);
        }
    }
    for (uint64_t id = 1; id <= core_n_migrations(c); id++) {
        struct core_migration m;
        assert_true(core_migration_get(c, id, &m));
        dump_add(&d, "mig %" PRIu64 " %s e%" PRIu64 " %" PRIu64 "/%" PRIu64
                 "/%" PRIu64 " d%" PRIu64 " %s %" PRIu64 "/%" PRIu64
                 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 " dl%" PRIu64
                 " deg%d '%s' %s:%s>%s\n", m.id,
                 mig_phase_name(m.phase), m.epoch, m.started_ms,
                 m.relaying_ms, m.cleaned_ms, m.delay_ms,
                 mig_switchover_name(m.switchover), m.prepared_ms,
                 m.switched_ms, m.activated_ms, m.cleaning_ms, m.aborted_ms,
                 m.prepare_deadline_ms, (int) m.degraded, m.abort_reason,
                 m.vm_name, m.src_name, m.dst_name);
    }
    uint32_t cursor = 0;
    for (const struct binding *b; (b = core_binding_next(c, &cursor));) {
        char text[512];
        binding_format(b, text, sizeof text);
        dump_add(&d, "binding %s\n", text);
    }
    struct task_line tl = {.d = &d, .c = c};
    core_tasks_walk(c, dump_task, &tl);
    /* Slots may be reused in another order after a reload: compare the
     * state as a sorted set of lines. */
    struct dump td = d;
    d = (struct dump){0};
    if (td.len) {
        char *lines[4096];
        size_t n = 0;
        for (char *p = strtok(td.buf, "\n"); p; p = strtok(NULL, "\n")) {
            assert_true(n < 4096);
            lines[n++] = p;
        }
        qsort(lines, n, sizeof *lines, cmp_str);
        for (size_t i = 0; i < n; i++) {
            dump_add(&d, "%s\n", lines[i]);
        }
    }
    free(td.buf);
    if (!d.buf) {
        d.buf = calloc(1, 1);
    }
    return d.buf;
}

static struct core *
reload(struct store *s, struct rec *r)
{
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(r);
    struct core *c = core_create(&cfg, s, &sink);
    assert_int_equal(core_load(c), CORE_E_OK);
    return c;
}

static void
check_same(struct core *live, struct store *s)
{
    struct rec *r = calloc(1, sizeof *r);
    struct core *copy = reload(s, r);
    char *a = state_of(live), *b = state_of(copy);
    if (strcmp(a, b)) {
        fprintf(stderr, "--- live\n%s--- reloaded\n%s", a, b);
        fail_msg("reloaded state differs (both printed above)");
    }
    /* Loading is silent: agents learn by resync. */
    assert_int_equal(r->n_instrs, 0);
    free(a);
    free(b);
    core_destroy(copy);
    free(r);
}

/* A migration's history names its VM and nodes as they were: after the
 * source node is removed and its slot taken by a new node, after the VM
 * is deleted, and after a reload (the stored form keeps the names). */
static void
test_history_names(void **state)
{
    (void) state;
    struct store *s = store_mem_create();
    struct rec *r = calloc(1, sizeof *r);
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(r);
    struct core *c = core_create(&cfg, s, &sink);
    uint32_t na, nb, nd, vm;
    assert_int_equal(core_node_add(c, "na", "198.18.0.1", 500, 0, &na), 0);
    assert_int_equal(core_node_add(c, "nb", "198.18.0.2", 500, 0, &nb), 0);
    struct mn_config mc = cfg_of(1);
    assert_int_equal(core_vm_add(c, "vm1", &mc, na, 0, &vm), 0);
    struct core_migrate_result res;
    assert_int_equal(core_migrate(c, vm, na, nb, 10, &res), 0);
    /* No agent answers: the prepare timeout relays it, its deletion on
     * na waits; a forced removal of na drops that and ends it. */
    for (uint64_t now = 20; now < 600000; now += 1000) {
        core_run(c, now);
    }
    assert_int_equal(core_node_remove(c, na, true, 600000), 0);
    assert_int_equal(core_node_add(c, "nd", "198.18.0.4", 500, 600001, &nd),
                     0);
    assert_int_equal(nd, na); /* the slot is reused */
    assert_int_equal(core_vm_remove(c, vm, 600002), 0);
    struct core_migration m;
    assert_true(core_migration_get(c, res.migration, &m));
    assert_string_equal(m.vm_name, "vm1");
    assert_string_equal(m.src_name, "na");
    assert_string_equal(m.dst_name, "nb");
    check_same(c, s);
    struct rec *r2 = calloc(1, sizeof *r2);
    struct core *copy = reload(s, r2);
    assert_true(core_migration_get(copy, res.migration, &m));
    assert_string_equal(m.vm_name, "vm1");
    assert_string_equal(m.src_name, "na");
    assert_string_equal(m.dst_name, "nb");
    core_destroy(copy);
    core_destroy(c);
    store_destroy(s);
    free(r);
    free(r2);
}

/* A duplicate address accepted with CORE_VM_ALLOW_DUPLICATE is stored as
 * it was accepted: the store loads (mignetd starts), and the reloaded
 * core still refuses a new duplicate that was not allowed. */
static void
test_reload_allowed_duplicate(void **state)
{
    struct store *s = store_mem_create();
    struct rec *r = calloc(1, sizeof *r);
    struct core *c = reload(s, r); /* an empty store: a new core */
    uint32_t n, vi;
    assert_int_equal(core_node_add(c, "n0", "198.18.0.9", 500, 0, &n), 0);
    struct mn_config mc = cfg_of(5);
    assert_int_equal(core_vm_add(c, "a", &mc, n, 0, &vi), CORE_E_OK);
    assert_int_equal(core_vm_add(c, "b", &mc, n, 0, &vi),
                     CORE_E_DUPLICATE_ADDRESS);
    assert_int_equal(core_vm_add_opts(c, "b", &mc, n, NULL,
                                      CORE_VM_ALLOW_DUPLICATE, 0, &vi),
                     CORE_E_OK);
    check_same(c, s);
    struct rec *r2 = calloc(1, sizeof *r2);
    struct core *copy = reload(s, r2);
    assert_int_not_equal(core_vm_find(copy, "b"), CORE_NONE);
    assert_int_equal(core_vm_add(copy, "c", &mc, n, 0, &vi),
                     CORE_E_DUPLICATE_ADDRESS);
    core_destroy(copy);
    core_destroy(c);
    store_destroy(s);
    free(r);
    free(r2);
}

static void
test_reload_after_every_step(void **state)
{
    struct store *s = store_mem_create();
    struct rec *r = calloc(1, sizeof *r);
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(r);
    struct core *c = core_create(&cfg, s, &sink);
    uint32_t nodes[4];
    char name[16];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(core_node_add(c, name, "198.18.0.9", 500, 0,
                                       &nodes[i]),
                         0);
        check_same(c, s);
    }
    srand(12345);
    uint64_t now = 1000;
    int n_vms = 0;
    size_t max_bindings = 0;
    int drains = 0; /* accepted drains of a node with VMs */
    struct core_node_info dni;
    bool seen_phase[MIG_N_PHASES] = {false};
    for (int step = 0; step < 400; step++) {
        now += (uint64_t) (rand() % 300);
        int op = rand() % 14;
        if (op == 0 || n_vms < 3) {
            snprintf(name, sizeof name, "vm%d", n_vms++);
            struct mn_config mc = cfg_of((uint32_t) n_vms);
            core_vm_add(c, name, &mc, nodes[rand() % 4], now, NULL);
        } else if (op <= 4) {
            /* Every switch-over mode; the lifecycle calls on the newest
             * migration (refusals must change nothing). */
            snprintf(name, sizeof name, "vm%d", rand() % n_vms);
            uint32_t vm = core_vm_find(c, name);
            uint64_t last = core_n_migrations(c);
            struct core_vm_info vi;
            int what = rand() % 6;
            if (vm == CORE_NONE) {
                /* removed meanwhile */
            } else if (what <= 1) {
                struct core_migrate_opts o = {
                    .switchover = (enum mig_switchover) (rand() % 4),
                    .prepare_deadline_ms = 0,
                };
                if (o.switchover != MIG_SW_NOW && rand() % 2) {
                    o.prepare_deadline_ms = 1000 + (uint64_t) (rand() % 3000);
                }
                core_migrate_opts(c, vm, CORE_NONE, nodes[rand() % 4], &o,
                                  now, NULL);
            } else if (what == 2 && last) {
                core_migration_switchover(c, last, now);
            } else if (what == 3 && last) {
                core_migration_abort(c, last, "random", now);
            } else if (what == 4 && core_vm_info(c, vm, &vi)
                       && vi.migration) {
                struct core_migration m;
                core_migration_get(c, vi.migration, &m);
                core_node_activated(c, m.dst, vm, m.epoch, now);
            } else if (what == 5) {
                core_node_resync(c, nodes[rand() % 4], now);
            }
        } else if (op == 5) {
            ack_all(c, now);
        } else if (op == 6) {
            core_run(c, now);
        } else if (op == 7) {
            snprintf(name, sizeof name, "vm%d", rand() % n_vms);
            uint32_t vm = core_vm_find(c, name);
            struct mn_config mc = cfg_of((uint32_t) rand() % 200);
            if (vm != CORE_NONE) {
                core_vm_update(c, vm, &mc, now);
            }
        } else if (op == 10 || op == 11) {
            /* Bindings: static or dynamic from the manager, snooped,
             * deleted; conflicts and all (refusals must not be stored). */
            snprintf(name, sizeof name, "vm%d", rand() % n_vms);
            uint32_t vm = core_vm_find(c, name);
            struct binding b = {0};
            b.ip = 0xc6120100u | (uint32_t) (rand() % 8 + 1);
            b.type = rand() % 2 ? BINDING_STATIC : BINDING_DYNAMIC;
            b.lease_s = b.type == BINDING_DYNAMIC ? 1 + rand() % 60 : 0;
            enum binding_err be;
            if (vm == CORE_NONE) {
                /* removed meanwhile */
            } else if (op == 10) {
                core_binding_set(c, vm, &b, now, &be, NULL, NULL);
            } else if (rand() % 2) {
                core_binding_delete(c, vm, now);
            } else {
                struct core_vm_info vi;
                assert_true(core_vm_info(c, vm, &vi));
                struct dhcp_msg m;
                dhcp_msg_init(&m, DHCP_ACK, 1, vi.config.mac);
                m.yiaddr = b.ip;
                m.opts |= DHCP_HAS(DHCP_OPT_LEASE_TIME)
                          | DHCP_HAS(DHCP_OPT_SERVER_ID);
                m.lease_s = (uint32_t) (1 + rand() % 60);
                m.server_id = 0xc61201feu;
                core_binding_snoop(c, vi.node, vm, &m, now, &be, NULL,
                                   NULL);
            }
        } else if (op >= 12) {
            /* Node lifecycle: cordon, uncordon, drain (targets chosen by
             * the core, or one given). */
            uint32_t n = nodes[rand() % 4];
            int what = rand() % 4;
            if (what < 2) {
                core_node_cordon(c, n, what == 0, now);
            } else {
                struct core_drain_target tg = {
                    .vm = core_vm_find(c, "vm1"), .node = nodes[rand() % 4]};
                drains += core_node_drain(c, n, &tg, what == 3 ? 1 : 0,
                                          now) == CORE_E_OK
                          && core_node_info(c, n, &dni) && dni.n_vms > 0;
            }
        } else if (op == 8) {
            int n = rand() % 4;
            core_node_refresh(c, nodes[n], core_map_version(c), now);
        } else if (rand() % 4 == 0) {
            snprintf(name, sizeof name, "vm%d", rand() % n_vms);
            uint32_t vm = core_vm_find(c, name);
            if (vm != CORE_NONE) {
                core_vm_remove(c, vm, now);
            }
        }
        check_same(c, s);
        for (uint64_t id = 1; id <= core_n_migrations(c); id++) {
            struct core_migration m;
            core_migration_get(c, id, &m);
            seen_phase[m.phase] = true;
        }
        if (core_n_bindings(c) > max_bindings) {
            max_bindings = core_n_bindings(c);
        }
    }
    /* The schedule did exercise bindings and their leases. */
    struct core_stats st;
    core_get_stats(c, &st);
    assert_true(max_bindings >= 2);
    assert_true(st.lease_expiries > 0);
    assert_true(drains >= 3);
    /* ... and every phase of the lifecycle. */
    for (int p = 0; p < MIG_N_PHASES; p++) {
        if (!seen_phase[p]) {
            fail_msg("no migration ever %s", mig_phase_name(p));
        }
    }
    core_destroy(c);
    store_destroy(s);
    free(r);
}

/* Two nodes, v1 and v2 moved a -> b at 'base' and 'base' + 4900 with every
 * instruction acknowledged: two deletions pending.  Committed, then the
 * core is destroyed (the crash); '*due1' and '*due2' get their due times. */
static struct core *
two_pending(struct store *s, struct rec *r, const struct core_config *cfg,
            uint64_t base, uint64_t *due1, uint64_t *due2)
{
    struct core_sink sink = rec_sink(r);
    struct core *c = core_create(cfg, s, &sink);
    uint32_t a, b, v1, v2;
    assert_int_equal(core_node_add(c, "a", "198.18.0.1", 1000, base, &a), 0);
    assert_int_equal(core_node_add(c, "b", "198.18.0.2", 1000, base, &b), 0);
    struct mn_config m1 = cfg_of(1), m2 = cfg_of(2);
    assert_int_equal(core_vm_add(c, "v1", &m1, a, base, &v1), 0);
    assert_int_equal(core_vm_add(c, "v2", &m2, a, base, &v2), 0);
    assert_int_equal(core_migrate(c, v1, CORE_NONE, b, base + 100, NULL), 0);
    ack_all(c, base + 100);
    assert_int_equal(core_migrate(c, v2, CORE_NONE, b, base + 5000, NULL),
                     0);
    ack_all(c, base + 5000);
    *due1 = base + 100 + core_delay_ms(c);
    *due2 = base + 5000 + core_delay_ms(c);
    assert_int_equal(core_next_due(c), *due1);
    assert_int_equal(store_commit(s), 0);
    core_destroy(c);
    memset(r, 0, sizeof *r);
    c = core_create(cfg, s, &sink);
    assert_int_equal(core_load(c), 0);
    assert_int_equal(core_n_tasks(c), 2);
    return c;
}

static size_t
n_deletes(const struct rec *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_instrs; i++) {
        n += r->instrs[i].kind == INSTR_DELETE;
    }
    return n;
}

/* The restart rule (DESIGN I7): loaded deletions are not run at load, nor
 * at once because their stored due times passed (a late restart, or the
 * clock an hour ahead), nor an hour late when the clock is an hour behind:
 * each waits a full fresh delay from the first core_run(). */
static void
test_restart_fresh_delay(void **state)
{
    (void) state;
    static const int64_t shifts[] = {10, 10000, 3600000, -10000, -3600000};
    const uint64_t base = 10000000;
    for (size_t k = 0; k < sizeof shifts / sizeof shifts[0]; k++) {
        struct store *s = store_mem_create();
        struct rec *r = calloc(1, sizeof *r);
        struct core_config cfg;
        core_config_default(&cfg);
        uint64_t due1, due2;
        struct core *c = two_pending(s, r, &cfg, base, &due1, &due2);
        /* Nothing runs while loading; the core asks to be run now. */
        assert_int_equal(r->n_instrs, 0);
        assert_int_equal(core_next_due(c), 0);
        uint64_t restart = (uint64_t) ((int64_t) due1 + shifts[k]);
        core_run(c, restart);
        assert_int_equal(n_deletes(r), 0);
        assert_int_equal(core_n_tasks(c), 2);
        uint64_t fresh = restart + core_delay_ms(c);
        assert_int_equal(core_next_due(c), fresh);
        hear_all(c, restart + 1000); /* the agents are back */
        struct core_stats st;
        core_get_stats(c, &st);
        assert_int_equal(st.tasks_restarted, 2);
        core_run(c, fresh - 1);
        assert_int_equal(n_deletes(r), 0);
        core_run(c, fresh);
        assert_int_equal(n_deletes(r), 2);
        assert_int_equal(core_n_tasks(c), 0);
        core_destroy(c);
        store_destroy(s);
        free(r);
    }
}

/* ...or earlier, once every node acknowledged (after the restart) a map
 * version that includes the move; one node is not enough. */
static void
test_restart_fresh_acks(void **state)
{
    (void) state;
    struct store *s = store_mem_create();
    struct rec *r = calloc(1, sizeof *r);
    struct core_config cfg;
    core_config_default(&cfg);
    uint64_t due1, due2;
    struct core *c = two_pending(s, r, &cfg, 1000, &due1, &due2);
    uint64_t restart = due2 + 3600000;
    core_run(c, restart);
    uint64_t v = core_map_version(c);
    uint32_t a = core_node_find(c, "a"), b = core_node_find(c, "b");
    assert_int_equal(core_node_version_ack(c, a, v, restart + 10), 0);
    core_run(c, restart + 10 + cfg.inflight_ms);
    assert_int_equal(n_deletes(r), 0);
    assert_int_equal(core_next_due(c), restart + core_delay_ms(c));
    assert_int_equal(core_node_version_ack(c, b, v, restart + 20), 0);
    assert_int_equal(core_next_due(c), restart + 20 + cfg.inflight_ms);
    core_run(c, restart + 20 + cfg.inflight_ms - 1);
    assert_int_equal(n_deletes(r), 0);
    core_run(c, restart + 20 + cfg.inflight_ms);
    assert_int_equal(n_deletes(r), 2);
    struct core_migration m;
    assert_true(core_migration_get(c, 1, &m));
    assert_true(m.released_early);

    /* Acknowledgements that arrive before the first core_run() after a
     * load count too: they came after the restart. */
    assert_int_equal(store_commit(s), 0);
    core_destroy(c);
    struct store *s2 = store_mem_create();
    c = two_pending(s2, r, &cfg, 1000, &due1, &due2);
    a = core_node_find(c, "a");
    b = core_node_find(c, "b");
    v = core_map_version(c);
    assert_int_equal(core_node_version_ack(c, a, v, restart), 0);
    assert_int_equal(core_node_version_ack(c, b, v, restart), 0);
    core_run(c, restart);
    assert_int_equal(n_deletes(r), 0);
    assert_int_equal(core_next_due(c), restart + cfg.inflight_ms);
    core_run(c, restart + cfg.inflight_ms);
    assert_int_equal(n_deletes(r), 2);
    core_destroy(c);
    store_destroy(s2);
    store_destroy(s);
    free(r);
}

/* Prepare tasks after a restart: a timeout gets a fresh prepare_timeout_ms,
 * a deadline keeps its stored time unless that is sooner than that. */
static void
test_restart_prepare_tasks(void **state)
{
    (void) state;
    struct rec *r = calloc(1, sizeof *r);
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(r);
    for (int late = 0; late < 2; late++) {
        struct store *s = store_mem_create();
        struct core *c = core_create(&cfg, s, &sink);
        uint32_t a, b, v1, v2;
        assert_int_equal(core_node_add(c, "a", "198.18.0.1", 1000, 0, &a),
                         0);
        assert_int_equal(core_node_add(c, "b", "198.18.0.2", 1000, 0, &b),
                         0);
        struct mn_config m1 = cfg_of(1), m2 = cfg_of(2);
        assert_int_equal(core_vm_add(c, "v1", &m1, a, 0, &v1), 0);
        assert_int_equal(core_vm_add(c, "v2", &m2, a, 0, &v2), 0);
        /* v1: `now`, unacknowledged: a prepare timeout.  v2: prepared
         * with a 60 s deadline. */
        assert_int_equal(core_migrate(c, v1, CORE_NONE, b, 1000, NULL), 0);
        struct core_migrate_opts o = {.switchover = MIG_SW_MANUAL,
                                      .prepare_deadline_ms = 60000};
        assert_int_equal(core_migrate_opts(c, v2, CORE_NONE, b, &o, 1000,
                                           NULL),
                         0);
        assert_int_equal(store_commit(s), 0);
        core_destroy(c);

        memset(r, 0, sizeof *r);
        c = core_create(&cfg, s, &sink);
        assert_int_equal(core_load(c), 0);
        /* Early restart: the deadline stays at 61000; late (an hour on):
         * it moves to a fresh prepare timeout.  Neither runs at once. */
        uint64_t restart = late ? 3600000 : 2000;
        core_run(c, restart);
        struct core_migration m;
        assert_true(core_migration_get(c, 1, &m));
        assert_false(m.degraded);
        assert_true(core_migration_get(c, 2, &m));
        assert_int_not_equal(m.phase, MIG_ABORTED);
        uint64_t deadline = late ? restart + cfg.prepare_timeout_ms : 61000;
        assert_int_equal(m.prepare_deadline_ms, deadline);
        core_run(c, restart + cfg.prepare_timeout_ms - 1);
        assert_true(core_migration_get(c, 1, &m));
        assert_false(m.degraded);
        assert_true(core_migration_get(c, 2, &m));
        assert_int_not_equal(m.phase, MIG_ABORTED);
        core_run(c, restart + cfg.prepare_timeout_ms);
        assert_true(core_migration_get(c, 1, &m));
        assert_true(m.degraded);
        if (deadline > restart + cfg.prepare_timeout_ms) {
            core_run(c, deadline - 1);
            assert_true(core_migration_get(c, 2, &m));
            assert_int_not_equal(m.phase, MIG_ABORTED);
        }
        core_run(c, deadline);
        assert_true(core_migration_get(c, 2, &m));
        assert_int_equal(m.phase, MIG_ABORTED);
        core_destroy(c);
        store_destroy(s);
    }
    free(r);
}

/* core_run_some(): a run cut into bounded steps does what one core_run()
 * does -- the restart rule and then the tasks, every kind -- and no step
 * writes more than CORE_TASK_RECORDS_MAX records a task, so a store that
 * bounds a commit (etcd's --max-txn-ops) can take every batch. */
static void
test_run_some_bounded(void **state)
{
    (void) state;
    struct rec *r = calloc(1, sizeof *r);
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(r);
    struct store *s = store_mem_create();
    struct core *c = core_create(&cfg, s, &sink);
    uint32_t a, b;
    assert_int_equal(core_node_add(c, "a", "198.18.0.1", 1000, 0, &a), 0);
    assert_int_equal(core_node_add(c, "b", "198.18.0.2", 1000, 0, &b), 0);
    enum { N = 30 };
    char name[16];
    for (uint32_t i = 0; i < N; i++) {
        uint32_t v;
        struct mn_config m = cfg_of(i + 1);
        snprintf(name, sizeof name, "v%u", (unsigned) i);
        assert_int_equal(core_vm_add(c, name, &m, a, 0, &v), 0);
        /* A third each: `now` (prepare timeout, then a deletion), manual
         * with a deadline, and `now` again. */
        if (i % 3 == 1) {
            struct core_migrate_opts o = {.switchover = MIG_SW_MANUAL,
                                          .prepare_deadline_ms = 60000};
            assert_int_equal(core_migrate_opts(c, v, CORE_NONE, b, &o, 1000,
                                               NULL),
                             0);
        } else {
            assert_int_equal(core_migrate(c, v, CORE_NONE, b, 1000, NULL), 0);
        }
    }
    assert_int_equal(store_commit(s), 0);
    core_destroy(c);

    memset(r, 0, sizeof *r);
    c = core_create(&cfg, s, &sink);
    assert_int_equal(core_load(c), 0);
    assert_int_equal(store_commit(s), 0);
    size_t tasks = core_n_tasks(c); /* the durable ones, all held */
    assert_true(tasks >= N);
    /* The restart rule, two tasks a step. */
    uint64_t now = 2000;
    size_t steps = 0;
    while (core_run_some(c, now, 2)) {
        assert_true(store_pending(s) <= 2 * CORE_TASK_RECORDS_MAX);
        assert_int_equal(store_commit(s), 0);
        assert_true(core_next_due(c) <= now);
        steps++;
    }
    assert_true(store_pending(s) <= 2 * CORE_TASK_RECORDS_MAX);
    assert_int_equal(store_commit(s), 0);
    /* Every held task was restarted (the others were not held: leases
     * keep their times), two a step. */
    struct core_stats st;
    core_get_stats(c, &st);
    assert_true(st.tasks_restarted >= N);
    assert_true(steps >= st.tasks_restarted / 2 - 1);
    assert_true(core_next_due(c) > now);

    /* Every task fires, one a step, far in the future. */
    now += 10 * 3600 * 1000ull;
    size_t fired = 0;
    for (;;) {
        bool more = core_run_some(c, now, 1);
        assert_true(store_pending(s) <= CORE_TASK_RECORDS_MAX);
        assert_int_equal(store_commit(s), 0);
        fired++;
        if (!more && core_next_due(c) > now) {
            break;
        }
        assert_true(fired < 10 * tasks); /* it ends */
    }
    /* Tasks fired (a migration's other tasks may go with it, unfired),
     * and nothing due is left. */
    core_get_stats(c, &st);
    assert_true(st.tasks_fired >= N);
    assert_true(fired >= st.tasks_fired);
    assert_true(core_n_tasks(c) < tasks);
    assert_true(core_next_due(c) > now);
    core_destroy(c);
    store_destroy(s);
    free(r);
}

static int
count_vswitches(void *aux, const struct store_rec *r)
{
    if (r->type == STORE_VSWITCH) {
        (*(unsigned *) aux)++;
    }
    return 0;
}

/* Virtual switch records (mignetd's, issue 14) in the store: the core's
 * load passes over them -- also one naming nothing the core knows -- and
 * rebuilds exactly the live state, silently; the core's own writes leave
 * them in the store for mignetd to read. */
static void
test_reload_skips_vswitches(void **state)
{
    (void) state;
    struct store *s = store_mem_create();
    struct store_rec vs = {.type = STORE_VSWITCH};
    vs.vswitch.name = "red";
    vs.vswitch.record = "{\"id\":\"red\",\"ports\":{\"vm1\":1}}";
    vs.vswitch.len = strlen(vs.vswitch.record);
    assert_int_equal(store_put(s, &vs), 0);
    struct rec *r = calloc(1, sizeof *r);
    struct core *c = reload(s, r);
    uint32_t na, nb, vm;
    assert_int_equal(core_node_add(c, "na", "198.18.0.1", 500, 0, &na), 0);
    assert_int_equal(core_node_add(c, "nb", "198.18.0.2", 500, 0, &nb), 0);
    struct mn_config mc = cfg_of(1);
    assert_int_equal(core_vm_add(c, "vm1", &mc, na, 0, &vm), 0);
    vs.vswitch.name = "ghost";
    vs.vswitch.record = "{\"ports\":{\"no-such-vm\":1}}";
    vs.vswitch.len = strlen(vs.vswitch.record);
    assert_int_equal(store_put(s, &vs), 0);
    struct core_migrate_result res;
    assert_int_equal(core_migrate(c, vm, na, nb, 10, &res), 0);
    core_run(c, 20);
    check_same(c, s);
    assert_int_equal(store_mem_count(s, STORE_VSWITCH), 2);
    unsigned n = 0;
    assert_int_equal(s->ops->load(s, count_vswitches, &n), 0);
    assert_int_equal(n, 2);
    core_destroy(c);
    store_destroy(s);
    free(r);
}

/* A store that refers to a missing node fails the load, leaving nothing. */
static void
test_corrupt_store(void **state)
{
    struct store *s = store_mem_create();
    struct store_rec rec = {.type = STORE_VM};
    rec.vm.name = "orphan";
    rec.vm.node = "nowhere";
    rec.vm.epoch = 1;
    assert_int_equal(store_put(s, &rec), 0);
    struct rec *r = calloc(1, sizeof *r);
    struct core_config cfg;
    core_config_default(&cfg);
    struct core_sink sink = rec_sink(r);
    struct core *c = core_create(&cfg, s, &sink);
    assert_int_equal(core_load(c), CORE_E_STORE);
    assert_int_equal(core_vm_find(c, "orphan"), CORE_NONE);
    assert_int_equal(core_n_tasks(c), 0);
    assert_int_equal(core_map_version(c), 0);
    /* The core is usable afterwards. */
    assert_int_equal(core_node_add(c, "n", "x", 100, 0, NULL), 0);
    core_destroy(c);
    store_destroy(s);
    free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_names),
        cmocka_unit_test(test_reload_after_every_step),
        cmocka_unit_test(test_restart_fresh_delay),
        cmocka_unit_test(test_restart_fresh_acks),
        cmocka_unit_test(test_restart_prepare_tasks),
        cmocka_unit_test(test_run_some_bounded),
        cmocka_unit_test(test_corrupt_store),
        cmocka_unit_test(test_reload_allowed_duplicate),
        cmocka_unit_test(test_reload_skips_vswitches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
