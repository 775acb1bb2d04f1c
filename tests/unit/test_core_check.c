/* test_core_check.c: every core_*_check() answers exactly what its call
 * would refuse, and changes nothing.
 *
 * Random operation sequences (fixed seeds) drive one core through adds,
 * removals, updates, migrations, bindings, acknowledgements and time, with
 * valid and invalid arguments alike; before each mutating call its check
 * is asked, and must agree with the call's own answer while leaving the
 * core exactly as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mignet/core.h"
#include "mignet/store.h"

/* What the sink saw. */
struct seen {
    uint64_t instrs, migrations, map_changes, wrong_deletes;
};

static void
seen_instr(void *aux, const struct core_instr *in)
{
    struct seen *s = aux;
    s->instrs++;
    /* Instructions carry their names (valid during the callback). */
    assert_non_null(in->node_name);
    assert_non_null(in->vm_name);
    if (in->kind != INSTR_RELAY) {
        assert_null(in->target_name);
    }
}

static void
seen_mig(void *aux, const struct core_migration *m)
{
    struct seen *s = aux;
    (void) m;
    s->migrations++;
}

static void
seen_map(void *aux, uint32_t vm, uint32_t node, bool removed, uint64_t v)
{
    struct seen *s = aux;
    (void) vm;
    (void) node;
    (void) removed;
    (void) v;
    s->map_changes++;
}

static void
seen_wrong(void *aux, uint32_t vm, uint32_t node)
{
    struct seen *s = aux;
    (void) vm;
    (void) node;
    s->wrong_deletes++;
}

/* Everything observable that a check must leave alone. */
struct print {
    struct seen seen;
    struct core_stats stats;
    uint64_t map_version, n_migrations, next_due;
    size_t n_tasks, n_bindings, n_nodes, n_vms, memory;
    uint64_t node_lifecycle; /* digest of cordons, drains and targets */
};

struct run {
    struct core *core;
    struct store *store;
    struct seen seen;
    uint64_t rng;
    uint64_t now;
    size_t refusals, accepts;
};

/* How often each answer came, over all runs: the sequences must reach the
 * interesting ones. */
static size_t answers[CORE_N_ERRORS];
static size_t binding_answers[BINDING_N_ERRORS];

static bool
hash_target(void *aux, uint32_t vm, uint32_t target)
{
    uint64_t *h = aux;
    *h = *h * 31 + vm;
    *h = *h * 31 + target;
    return true;
}

static uint64_t
node_lifecycle_digest(const struct core *c)
{
    uint64_t h = 0;
    for (uint32_t i = 0; i < core_n_nodes(c); i++) {
        struct core_node_info ni;
        if (core_node_info(c, i, &ni)) {
            h = h * 31 + ni.state;
            core_node_vms_walk(c, i, hash_target, &h);
        }
    }
    return h;
}

static void
print_of(const struct run *r, struct print *p)
{
    memset(p, 0, sizeof *p);
    p->seen = r->seen;
    core_get_stats(r->core, &p->stats);
    p->map_version = core_map_version(r->core);
    p->n_migrations = core_n_migrations(r->core);
    p->next_due = core_next_due(r->core);
    p->n_tasks = core_n_tasks(r->core);
    p->n_bindings = core_n_bindings(r->core);
    p->n_nodes = core_n_nodes(r->core);
    p->n_vms = core_n_vms(r->core);
    p->memory = core_memory_bytes(r->core);
    p->node_lifecycle = node_lifecycle_digest(r->core);
}

static void
assert_same(const struct print *a, const struct print *b)
{
    assert_memory_equal(a, b, sizeof *a);
}

static uint32_t
rnd(struct run *r, uint32_t n)
{
    /* xorshift64* */
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return (uint32_t) ((r->rng * 2685821657736338717ull) >> 33) % n;
}

/* A node or VM index: mostly live ones, sometimes free slots or nonsense. */
static uint32_t
pick(struct run *r, size_t n_slots)
{
    switch (rnd(r, 10)) {
    case 0:
        return CORE_NONE;
    case 1:
        return (uint32_t) n_slots + rnd(r, 3);
    default:
        return n_slots ? rnd(r, (uint32_t) n_slots) : 0;
    }
}

static void
name_of(struct run *r, const char *prefix, char *buf, size_t len)
{
    if (rnd(r, 20) == 0) {
        snprintf(buf, len, "bad name!");
    } else {
        snprintf(buf, len, "%s%u", prefix, rnd(r, 12));
    }
}

static struct mn_config
config_of(struct run *r)
{
    struct mn_config c = {0};
    c.mac[0] = 0x02;
    c.mac[5] = (uint8_t) rnd(r, 8);
    c.ip = rnd(r, 4) ? 0xc6120000u | rnd(r, 8) : 0;
    c.vlan = (uint16_t) (rnd(r, 15) == 0 ? 5000 : rnd(r, 2));
    c.vni = 100;
    c.port = rnd(r, 3);
    c.binding = rnd(r, 15) == 0 ? 1 + rnd(r, 3) : 0;
    return c;
}

/* A VM's configuration with a few fields changed (keeps its binding id,
 * mostly: the call refuses a changed one). */
static struct mn_config
config_near(struct run *r, uint32_t vm)
{
    struct core_vm_info vi;
    if (!core_vm_valid(r->core, vm) || rnd(r, 6) == 0) {
        return config_of(r);
    }
    assert_true(core_vm_info(r->core, vm, &vi));
    struct mn_config c = vi.config;
    switch (rnd(r, 5)) {
    case 0:
        c.port++;
        break;
    case 1:
        c.mac[5] ^= 1;
        break;
    case 2:
        c.ip ^= 1;
        break;
    case 3:
        c.vni = (c.vni + 1) % 200;
        break;
    default:
        break; /* unchanged */
    }
    return c;
}

static struct binding
binding_of(struct run *r)
{
    struct binding b = {0};
    b.ip = rnd(r, 12) ? (198u << 24) | (18u << 16) | (1u << 8)
                            | (1 + rnd(r, 6))
                      : 0xe0000001u; /* multicast: invalid */
    b.type = rnd(r, 2) ? BINDING_STATIC : BINDING_DYNAMIC;
    b.origin = rnd(r, 8) ? BINDING_FROM_MANAGER : BINDING_FROM_AGENT;
    b.lease_s = b.type == BINDING_DYNAMIC ? 60 + rnd(r, 600) : 0;
    if (rnd(r, 10) == 0) {
        b.mac[0] = 0x02;
        b.mac[5] = (uint8_t) rnd(r, 8); /* maybe not the VM's */
    }
    if (rnd(r, 10) == 0) {
        b.vlan = (uint16_t) rnd(r, 3); /* maybe not the VM's */
    }
    if (rnd(r, 20) == 0) {
        snprintf(b.vm, sizeof b.vm, "vm%u", rnd(r, 12));
    }
    if (rnd(r, 30) == 0) {
        b.type = (enum binding_type) 7; /* invalid */
    }
    return b;
}

/* Asks the check, then makes the call: they must agree, and a refusal (and
 * the check in any case) must leave the core as it was. */
#define CHECKED(r, CHECK, CALL)                                              \
    do {                                                                     \
        struct print before_, after_;                                        \
        print_of(r, &before_);                                               \
        enum core_err want_ = (CHECK);                                       \
        print_of(r, &after_);                                                \
        assert_same(&before_, &after_);                                      \
        enum core_err got_ = (CALL);                                         \
        assert_int_equal(want_, got_);                                       \
        answers[got_]++;                                                     \
        if (got_) {                                                          \
            print_of(r, &after_);                                            \
            assert_same(&before_, &after_);                                  \
            (r)->refusals++;                                                 \
        } else {                                                             \
            (r)->accepts++;                                                  \
        }                                                                    \
    } while (0)

static void
step(struct run *r)
{
    struct core *c = r->core;
    char name[32];
    uint32_t vm = pick(r, core_n_vms(c));
    uint32_t node = pick(r, core_n_nodes(c));
    r->now += rnd(r, 400);
    switch (rnd(r, 16)) {
    case 0: {
        name_of(r, "n", name, sizeof name);
        const char *address = rnd(r, 20) ? "198.18.0.1" : NULL;
        uint32_t refresh = rnd(r, 20) ? 500 + rnd(r, 1000) : 0;
        CHECKED(r, core_node_add_check(c, name, address, refresh),
                core_node_add(c, name, address, refresh, r->now, NULL));
        break;
    }
    case 1:
        if (rnd(r, 3) == 0) {
            bool force = rnd(r, 2);
            CHECKED(r, core_node_remove_check(c, node, force),
                    core_node_remove(c, node, force, r->now));
        }
        break;
    case 14:
        if (rnd(r, 2)) {
            bool on = rnd(r, 3) != 0;
            CHECKED(r, core_node_cordon_check(c, node),
                    core_node_cordon(c, node, on, r->now));
        }
        break;
    case 15: {
        /* Targets for some VMs (of the node or not), to any node. */
        struct core_drain_target tg[3];
        size_t n = rnd(r, 4);
        for (size_t k = 0; k < n; k++) {
            tg[k].vm = pick(r, core_n_vms(c));
            tg[k].node = pick(r, core_n_nodes(c));
        }
        CHECKED(r, core_node_drain_check(c, node, tg, n),
                core_node_drain(c, node, tg, n, r->now));
        break;
    }
    case 2:
    case 3: {
        name_of(r, "vm", name, sizeof name);
        struct mn_config cfg = config_of(r);
        CHECKED(r, core_vm_add_check(c, name, &cfg, node),
                core_vm_add(c, name, &cfg, node, r->now, NULL));
        break;
    }
    case 4: {
        struct mn_config cfg = config_near(r, vm);
        CHECKED(r, core_vm_update_check(c, vm, &cfg),
                core_vm_update(c, vm, &cfg, r->now));
        break;
    }
    case 5:
        if (rnd(r, 3) == 0) {
            CHECKED(r, core_vm_remove_check(c, vm),
                    core_vm_remove(c, vm, r->now));
        }
        break;
    case 6:
    case 7: {
        uint32_t from = rnd(r, 2) ? CORE_NONE : pick(r, core_n_nodes(c));
        struct core_migrate_result res;
        CHECKED(r, core_migrate_check(c, vm, from, node),
                core_migrate(c, vm, from, node, r->now, &res));
        break;
    }
    case 8: {
        struct binding b = binding_of(r);
        enum binding_err want = BINDING_E_OK, got = BINDING_E_OK;
        CHECKED(r, core_binding_set_check(c, vm, &b, r->now, &want),
                core_binding_set(c, vm, &b, r->now, &got, NULL, NULL));
        assert_int_equal(want, got);
        binding_answers[got]++;
        break;
    }
    case 9:
        CHECKED(r, core_binding_delete_check(c, vm),
                core_binding_delete(c, vm, r->now));
        break;
    case 10:
    case 11:
        /* Agents acknowledge what they were sent, or some of it. */
        for (uint32_t i = 0; i < core_n_nodes(c); i++) {
            struct core_node_info ni;
            if (core_node_info(c, i, &ni) && rnd(r, 4) == 0) {
                /* Or Open vSwitch refused their flows (seq maybe bad). */
                uint64_t seq = rnd(r, 3) == 0
                                   ? rnd(r, (uint32_t) ni.last_seq + 2)
                                   : ni.last_seq;
                CHECKED(r, core_node_nack_check(c, i, seq),
                        core_node_nack(c, i, seq, 5, 1, r->now));
            } else if (core_node_info(c, i, &ni) && rnd(r, 2)) {
                core_node_ack(c, i, ni.last_seq, r->now);
                core_node_refresh(c, i, core_map_version(c), r->now);
            }
        }
        break;
    default:
        r->now += rnd(r, 3000);
        core_run(c, r->now);
        break;
    }
    store_commit(r->store);
}

static void
run_seed(uint64_t seed, const char *strategy)
{
    struct run r = {.rng = seed, .now = 1000};
    struct core_config cfg;
    assert_true(core_config_strategy(&cfg, strategy));
    struct core_sink sink = {
        .instr = seen_instr,
        .migration = seen_mig,
        .map_change = seen_map,
        .wrong_delete = seen_wrong,
        .aux = &r.seen,
    };
    r.store = store_mem_create();
    r.core = core_create(&cfg, r.store, &sink);
    for (int i = 0; i < 4000; i++) {
        step(&r);
    }
    /* The sequences reach both answers of every kind of call often. */
    assert_true(r.refusals > 200);
    assert_true(r.accepts > 200);
    core_destroy(r.core);
    store_destroy(r.store);
}

static void
test_check_agrees_mignet(void **state)
{
    (void) state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        run_seed(seed * 0x9e3779b97f4a7c15ull, "mignet");
    }
}

static void
test_check_agrees_baselines(void **state)
{
    (void) state;
    run_seed(42, "naive");
    run_seed(43, "fixed");
    run_seed(44, "seed");
}

/* Runs after the two above: their sequences reached every answer that
 * matters (set CHECK_VERBOSE to see them all). */
static void
test_answers_covered(void **state)
{
    (void) state;
    static const enum core_err core_must[] = {
        CORE_E_OK, CORE_E_UNKNOWN_VM, CORE_E_UNKNOWN_NODE,
        CORE_E_DUPLICATE_VM, CORE_E_DUPLICATE_NODE, CORE_E_SAME_NODE,
        CORE_E_WRONG_SOURCE, CORE_E_IN_PROGRESS, CORE_E_CORDONED,
        CORE_E_NODE_BUSY, CORE_E_NO_TARGET,
        CORE_E_BAD_NAME, CORE_E_BAD_VALUE, CORE_E_UNKNOWN_BINDING,
        CORE_E_BINDING, CORE_E_BINDING_MISMATCH, CORE_E_ADDRESS_BOUND,
    };
    static const enum binding_err binding_must[] = {
        BINDING_E_MAC_CONFLICT, BINDING_E_IP_CONFLICT, BINDING_E_BAD_TYPE,
        BINDING_E_ORIGIN_TYPE,
    };
    bool verbose = getenv("CHECK_VERBOSE") != NULL;
    for (int e = 0; verbose && e < CORE_N_ERRORS; e++) {
        printf("%-24s %zu\n", core_errname((enum core_err) e), answers[e]);
    }
    for (int e = 0; verbose && e < BINDING_N_ERRORS; e++) {
        printf("binding %-16s %zu\n", binding_errname((enum binding_err) e),
               binding_answers[e]);
    }
    for (size_t i = 0; i < sizeof core_must / sizeof *core_must; i++) {
        assert_true(answers[core_must[i]] > 0);
    }
    for (size_t i = 0; i < sizeof binding_must / sizeof *binding_must; i++) {
        assert_true(binding_answers[binding_must[i]] > 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_agrees_mignet),
        cmocka_unit_test(test_check_agrees_baselines),
        cmocka_unit_test(test_answers_covered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
