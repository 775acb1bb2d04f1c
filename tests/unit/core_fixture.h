/* core_fixture.h: a recording sink and helpers shared by the core's unit
 * tests.  Test-only; the recorder is a double for node agents. */
#ifndef MIGNET_TESTS_CORE_FIXTURE_H
#define MIGNET_TESTS_CORE_FIXTURE_H 1

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mignet/core.h"
#include "mignet/store.h"

#define REC_MAX 4096

struct rec {
    struct core_instr instrs[REC_MAX];
    /* Copies of the instructions' bindings (the core's pointer is valid
     * only during the callback); instrs[i].binding points here. */
    struct binding bindings[REC_MAX];
    size_t n_instrs;
    struct core_migration migs[REC_MAX];
    size_t n_migs;
    size_t wrong_deletes;
    size_t map_changes;
};

static void
rec_instr(void *aux, const struct core_instr *in)
{
    struct rec *r = aux;
    assert_true(r->n_instrs < REC_MAX);
    size_t i = r->n_instrs++;
    r->instrs[i] = *in;
    if (in->binding) {
        r->bindings[i] = *in->binding;
        r->instrs[i].binding = &r->bindings[i];
    }
}

static void
rec_mig(void *aux, const struct core_migration *m)
{
    struct rec *r = aux;
    assert_true(r->n_migs < REC_MAX);
    r->migs[r->n_migs++] = *m;
}

static void
rec_wrong(void *aux, uint32_t vm, uint32_t node)
{
    struct rec *r = aux;
    (void) vm;
    (void) node;
    r->wrong_deletes++;
}

static void
rec_map(void *aux, uint32_t vm, uint32_t node, bool removed, uint64_t v)
{
    struct rec *r = aux;
    (void) vm;
    (void) node;
    (void) removed;
    (void) v;
    r->map_changes++;
}

static inline struct core_sink
rec_sink(struct rec *r)
{
    struct core_sink s = {
        .instr = rec_instr,
        .migration = rec_mig,
        .map_change = rec_map,
        .wrong_delete = rec_wrong,
        .aux = r,
    };
    return s;
}

/* Finds the index-th (0-based) recorded instruction of 'kind' for 'node'
 * at or after position 'from'; returns its position or -1. */
static inline long
rec_find(const struct rec *r, size_t from, enum instr_kind kind,
         uint32_t node)
{
    for (size_t i = from; i < r->n_instrs; i++) {
        if (r->instrs[i].kind == kind && r->instrs[i].node == node) {
            return (long) i;
        }
    }
    return -1;
}

static inline struct mn_config
cfg_of(uint32_t ip)
{
    struct mn_config c = {0};
    c.mac[0] = 0x02;
    c.mac[4] = (uint8_t) (ip >> 8); /* distinct MACs up to 65535 */
    c.mac[5] = (uint8_t) ip;
    c.ip = 0xc6120000u | ip; /* 198.18.x.x */
    c.vni = 100;
    return c;
}

/* Acknowledges everything sent to every node. */
static inline void
ack_all(struct core *c, uint64_t now)
{
    for (uint32_t i = 0; i < core_n_nodes(c); i++) {
        struct core_node_info ni;
        if (core_node_info(c, i, &ni)) {
            assert_int_equal(core_node_ack(c, i, ni.last_seq, now),
                             CORE_E_OK);
        }
    }
}

/* Every node polls the map at 'now', acknowledging nothing (agents poll
 * every refresh interval: every node read the map, the silence hold stays
 * out of the way). */
static inline void
hear_all(struct core *c, uint64_t now)
{
    for (uint32_t i = 0; i < core_n_nodes(c); i++) {
        if (core_node_valid(c, i)) {
            assert_int_equal(core_node_poll(c, i, 0, now), CORE_E_OK);
        }
    }
}

/* Every node refreshes its map to the current version (an
 * acknowledgement of every move so far: nothing waits for a silent
 * node). */
static inline void
refresh_all(struct core *c, uint64_t now)
{
    for (uint32_t i = 0; i < core_n_nodes(c); i++) {
        if (core_node_valid(c, i)) {
            assert_int_equal(core_node_version_ack(c, i, core_map_version(c),
                                                   now),
                             CORE_E_OK);
        }
    }
}

/* Acknowledges everything sent to every node but 'skip'. */
static inline void
ack_all_but(struct core *c, uint32_t skip, uint64_t now)
{
    for (uint32_t i = 0; i < core_n_nodes(c); i++) {
        struct core_node_info ni;
        if (i != skip && core_node_info(c, i, &ni)) {
            assert_int_equal(core_node_ack(c, i, ni.last_seq, now),
                             CORE_E_OK);
        }
    }
}

/* A core of strategy 'strategy' with nodes n0..n3 (refresh 1000 ms) and
 * vm1 on n0, everything acknowledged. */
struct core_fx {
    struct rec rec;
    struct core *core;
    uint32_t n[4];
    uint32_t vm;
};

static inline struct core_fx *
core_fx_new(const char *strategy)
{
    struct core_fx *f = calloc(1, sizeof *f);
    struct core_config cfg;
    assert_true(core_config_strategy(&cfg, strategy));
    struct core_sink sink = rec_sink(&f->rec);
    f->core = core_create(&cfg, NULL, &sink);
    char name[8];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(core_node_add(f->core, name, "198.18.0.1", 1000, 0,
                                       &f->n[i]),
                         CORE_E_OK);
    }
    struct mn_config c = cfg_of(1);
    assert_int_equal(core_vm_add(f->core, "vm1", &c, f->n[0], 0, &f->vm),
                     CORE_E_OK);
    ack_all(f->core, 0);
    return f;
}

/* vm1 migrates (`now`) to node 'to' at 'now', and every agent
 * acknowledges it at 'acked': the migration relays. */
static inline void
core_fx_migrated(struct core_fx *f, uint32_t to, uint64_t now,
                 uint64_t acked)
{
    assert_int_equal(core_migrate(f->core, f->vm, CORE_NONE, to, now, NULL),
                     CORE_E_OK);
    ack_all(f->core, acked);
}

static inline void
core_fx_free(struct core_fx *f)
{
    core_destroy(f->core);
    free(f);
}

#endif /* MIGNET_TESTS_CORE_FIXTURE_H */
