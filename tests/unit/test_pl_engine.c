/* test_pl_engine.c: the incremental flow computation against its oracle.
 *
 * A seeded property test drives random input sequences (VMs placed here,
 * relaying, remote or held inactive appearing, moving, changing
 * configuration, port and binding; watched ports, activations and
 * deactivations; inactive copies that go on relaying; keys shared; trusted ports; options toggled; removals) and
 * after every step checks that pl_engine's desired table equals a full
 * pipeline_compute() of the same inputs, given in a shuffled order, flow
 * for flow, and that syncing only the tracked keys keeps a copy equal to
 * it too, additions before deletions; every other sequence runs the
 * engine and the sync a slice at a time, inputs changing in between.  Focused tests show that one VM's change touches only its
 * flows, how a key group follows its ports, and how owners of one key
 * are ranked, and a change set that overflows.  MIGNET_PL_SEQS
 * overrides the number of sequences (10,000). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "agent/pl_engine.h"
#include "agent/vm_changes.h"
#include "mignet/binding.h"
#include "mignet/ofp.h"

/* ---- Comparing tables ---- */

struct cmp {
    const struct flowtab *other;
    size_t missing, differ;
};

static void
cmp_flow(void *aux, const struct flowtab_flow *f)
{
    struct cmp *c = aux;
    const struct flowtab_flow *o =
        flowtab_find(c->other, f->table, f->priority, &f->match);
    if (!o) {
        c->missing++;
    } else if (!flowtab_flow_same(f, o)) {
        c->differ++;
    }
}

/* Same keys, and the same cookie and instructions for each. */
static bool
tables_equal(const struct flowtab *a, const struct flowtab *b)
{
    struct cmp c = {.other = b};
    flowtab_walk(a, cmp_flow, &c);
    return !c.missing && !c.differ && flowtab_count(a) == flowtab_count(b);
}

struct kind_ctx {
    uint64_t kind;
    size_t n;
};

static void
kind_cb(void *aux, const struct flowtab_flow *f)
{
    struct kind_ctx *k = aux;
    k->n += (f->cookie & PL_COOKIE_KIND_MASK) == k->kind;
}

/* How many flows of 't' have a cookie of 'kind'. */
static size_t
n_cookie_kind(const struct flowtab *t, enum pl_kind kind)
{
    struct kind_ctx k = {pl_cookie_kind(kind), 0};
    flowtab_walk(t, kind_cb, &k);
    return k.n;
}

/* ---- The model the test drives ---- */

#define POOL 12

struct model {
    bool present[POOL];
    struct pl_vm vm[POOL];
    struct binding b[POOL];
    bool has_b[POOL];
    char name[POOL][8];
    uint32_t tunnel;
    bool punt;
};

static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t) (rng % n);
}

/* The port the agent watches for 'v''s first frame: its own port when
 * placed here (lossless: it forwards too), any port when held inactive
 * (a REMOTE view from the map, or INACTIVE), none for a relay -- unless
 * it is an inactive copy that inherited the relay (a VM migrating back to
 * a node that still relays its old snapshot): its port then attracts
 * nothing but the watch. */
static void
random_watch(struct pl_vm *v)
{
    switch (v->kind) {
    case PL_VM_LOCAL:
        v->watch_port = rnd(3) ? 0 : v->ofport;
        break;
    case PL_VM_REMOTE:
    case PL_VM_INACTIVE:
        v->watch_port = rnd(3) ? 1 + rnd(6) : 0;
        break;
    case PL_VM_RELAY:
    default:
        v->watch_port = 0;
        if (!rnd(3)) {
            v->ofport = 0;
            v->watch_port = 1 + rnd(6);
        }
        break;
    }
}

/* Whether 'v' is an inactive copy forwarding as the relay it inherited. */
static bool
inherited_relay(const struct pl_vm *v)
{
    return v->kind == PL_VM_RELAY && v->watch_port && !v->ofport;
}

static void
random_vm(struct model *m, int i)
{
    struct pl_vm *v = &m->vm[i];
    memset(v, 0, sizeof *v);
    v->vm = m->name[i];
    v->kind = (enum pl_vm_kind) rnd(4);
    /* Small pools: shared keys, MACs, IPs and ports make conflicts. */
    v->config.mac[0] = 0x02;
    v->config.mac[5] = (uint8_t) rnd(6);
    v->config.ip = rnd(4) ? 0xc6120000u + rnd(6) : 0;
    if (rnd(2)) {
        v->config.vni = 100 + rnd(3);
    } else {
        v->config.vlan = (uint16_t) rnd(3);
    }
    v->ofport = rnd(4) ? 1 + rnd(6) : 0;
    v->peer = 0x0a000001u + rnd(3);
    random_watch(v);
    m->has_b[i] = v->kind != PL_VM_REMOTE && rnd(3) > 0;
    if (m->has_b[i]) {
        struct binding *b = &m->b[i];
        memset(b, 0, sizeof *b);
        memcpy(b->mac, v->config.mac, 6);
        b->ip = 0xc6120000u + rnd(6);
        b->port_security = rnd(2) ? BINDING_TRUST : BINDING_UNTRUST;
        b->port_status = (enum binding_port_status) rnd(3);
        v->binding = b;
    }
}

/* One random step, applied to the model and the engine alike. */
static void
step(struct model *m, struct pl_engine *e)
{
    int i = (int) rnd(POOL);
    switch (rnd(11)) {
    case 0:
    case 1:
    case 2:
    case 3: /* appear, or change anything */
        random_vm(m, i);
        m->present[i] = true;
        pl_engine_set_vm(e, &m->vm[i]);
        break;
    case 4: /* move: another kind, port or peer */
        if (m->present[i]) {
            struct pl_vm *v = &m->vm[i];
            v->kind = (enum pl_vm_kind) rnd(4);
            v->ofport = rnd(4) ? 1 + rnd(6) : 0;
            v->peer = 0x0a000001u + rnd(3);
            random_watch(v);
            pl_engine_set_vm(e, v);
        }
        break;
    case 5: /* binding: trust, status, gone */
        if (m->present[i]) {
            struct pl_vm *v = &m->vm[i];
            if (v->binding && rnd(3)) {
                m->b[i].port_security =
                    rnd(2) ? BINDING_TRUST : BINDING_UNTRUST;
                m->b[i].port_status = (enum binding_port_status) rnd(3);
            } else {
                v->binding = NULL;
            }
            pl_engine_set_vm(e, v);
        }
        break;
    case 6:
    case 7: /* removal */
        m->present[i] = false;
        pl_engine_remove_vm(e, m->name[i]);
        break;
    case 8: /* options */
        m->tunnel = rnd(3) ? 50 + rnd(2) : 0;
        if (rnd(2)) {
            m->tunnel = 3; /* a VM's port number too: a conflict */
        }
        m->punt = rnd(2);
        pl_engine_set_options(e, m->tunnel, m->punt);
        break;
    case 9: /* activation on a frame, or a copy held inactive again */
        if (m->present[i]) {
            struct pl_vm *v = &m->vm[i];
            if (v->kind != PL_VM_LOCAL) {
                v->kind = PL_VM_LOCAL;
                v->ofport = v->watch_port ? v->watch_port : v->ofport;
                v->watch_port = rnd(2) ? v->ofport : 0;
            } else {
                v->kind = rnd(2) ? PL_VM_REMOTE : PL_VM_INACTIVE;
                v->watch_port = v->ofport;
            }
            pl_engine_set_vm(e, v);
        }
        break;
    default: /* the fallback, which must change nothing */
        pl_engine_recompute_all(e);
        break;
    }
}

/* The oracle: pipeline_compute() of the model, its VMs shuffled. */
static int
full(const struct model *m, struct flowtab *out)
{
    struct pl_vm vms[POOL];
    size_t n = 0;
    for (int i = 0; i < POOL; i++) {
        if (m->present[i]) {
            vms[n++] = m->vm[i];
        }
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd((uint32_t) i);
        struct pl_vm t = vms[i - 1];
        vms[i - 1] = vms[j];
        vms[j] = t;
    }
    struct pl_input in = {
        .tunnel_port = m->tunnel,
        .dhcp_punt = m->punt,
        .vms = vms,
        .n_vms = n,
    };
    return pipeline_compute(&in, out, NULL, 0);
}

static size_t
n_sequences(void)
{
    const char *s = getenv("MIGNET_PL_SEQS");
    if (s && *s) {
        return (size_t) strtoul(s, NULL, 10);
    }
    /* ~1 s in the normal build, ~5 s under ASan: all of them in both. */
    return 10000;
}

/* pl_engine_run_some() in slices of 1-5 owners, with inputs changing
 * between the slices now and then (at most 3 times): the run must end
 * with the table of the inputs as they are then. */
static int
run_sliced(struct model *m, struct pl_engine *e)
{
    int error, changes = 0;
    do {
        size_t budget = 1 + rnd(5);
        error = pl_engine_run_some(e, &budget, NULL, 0);
        if (error == EAGAIN && changes < 3 && !rnd(4)) {
            step(m, e);
            changes++;
        }
    } while (error == EAGAIN);
    return error;
}

/* flowtab_sync_step() with budgets of 1-40. */
static void
sync_sliced(struct flowtab *installed, const struct flowtab *desired,
            const struct flowtab *keys, struct ofpbuf *buf)
{
    struct flowtab_cursor cur;
    flowtab_cursor_init(&cur);
    uint32_t xid = 1;
    size_t budget;
    do {
        budget = 1 + rnd(40);
    } while (!flowtab_sync_step(installed, desired, keys, buf, &xid, &cur,
                                &budget));
}

/* Make before break: no flow_mod adds after one deletes. */
static bool
adds_before_deletes(const struct ofpbuf *buf)
{
    const uint8_t *p = buf->data;
    bool deleting = false;
    for (size_t off = 0; off < buf->size;) {
        size_t len;
        if (ofp_frame(p + off, buf->size - off, &len) || !len) {
            return false;
        }
        uint8_t cmd = p[off + 25]; /* ofp_flow_mod's command */
        if (cmd == OFPFC_DELETE_STRICT) {
            deleting = true;
        } else if (deleting) {
            return false;
        }
        off += len;
    }
    return true;
}

static void
test_property_incremental_equals_full(void **state)
{
    (void) state;
    size_t n_seq = n_sequences();
    struct flowtab *oracle = flowtab_create();
    struct flowtab *installed = flowtab_create();
    struct ofpbuf buf;
    ofpbuf_init(&buf, 4096);
    size_t steps = 0, checked = 0, watched = 0, inherited = 0;
    for (size_t s = 0; s < n_seq; s++) {
        rng = 0x9e3779b97f4a7c15ull ^ (s * 0x100000001b3ull + 1);
        struct model m = {0};
        for (int i = 0; i < POOL; i++) {
            snprintf(m.name[i], sizeof m.name[i], "vm%d", (i * 7) % POOL);
        }
        struct pl_engine *e = pl_engine_create();
        flowtab_clear(installed);
        /* Every other sequence runs and syncs a slice at a time, as the
         * agent does with a big change (agent_sync.c). */
        bool sliced = s % 2;
        int n_steps = 4 + (int) rnd(12);
        for (int k = 0; k < n_steps; k++) {
            /* Several changes between runs, as the agent batches them. */
            for (int j = 1 + (int) rnd(3); j > 0; j--) {
                step(&m, e);
            }
            int ie = sliced ? run_sliced(&m, e) : pl_engine_run(e, NULL, 0);
            int fe = full(&m, oracle);
            steps++;
            if (ie != fe) {
                fail_msg("sequence %zu step %d: engine %d, full %d", s, k, ie,
                         fe);
            }
            if (ie) {
                continue;
            }
            if (!tables_equal(pl_engine_desired(e), oracle)) {
                fail_msg("sequence %zu step %d: %zu flows incremental, %zu "
                         "full, not the same", s, k,
                         flowtab_count(pl_engine_desired(e)),
                         flowtab_count(oracle));
            }
            /* Only the tracked keys go: the copy stays equal. */
            uint32_t xid = 1;
            ofpbuf_clear(&buf);
            if (sliced) {
                sync_sliced(installed, pl_engine_desired(e),
                            pl_engine_tracked(e), &buf);
            } else {
                flowtab_sync_keys(installed, pl_engine_desired(e),
                                  pl_engine_tracked(e), &buf, &xid, NULL);
            }
            pl_engine_clear_tracked(e);
            if (!tables_equal(installed, oracle)) {
                fail_msg("sequence %zu step %d: tracked sync diverged", s, k);
            }
            if (!adds_before_deletes(&buf)) {
                fail_msg("sequence %zu step %d: a deletion before an "
                         "addition", s, k);
            }
            checked++;
            watched += n_cookie_kind(oracle, PL_K_ACTIVATE) > 0;
            for (int i = 0; i < POOL; i++) {
                if (m.present[i] && inherited_relay(&m.vm[i])) {
                    inherited++;
                    break;
                }
            }
        }
        pl_engine_destroy(e);
    }
    print_message("%zu sequences, %zu steps, %zu tables compared\n", n_seq,
                  steps, checked);
    assert_true(checked > n_seq); /* the runs did compare tables */
    assert_true(watched > checked / 10); /* with watched ports, often */
    /* ... and with inactive copies relaying, often too. */
    assert_true(inherited > checked / 10);
    ofpbuf_uninit(&buf);
    flowtab_destroy(oracle);
    flowtab_destroy(installed);
}

/* ---- Focused tests ---- */

static struct pl_vm
remote(const char *name, uint8_t mac, uint32_t peer)
{
    struct pl_vm v = {
        .vm = name,
        .kind = PL_VM_REMOTE,
        .config = {.mac = {2, 0, 0, 0, 1, mac}, .ip = 0xc6130000u + mac,
                   .vni = 100},
        .peer = peer,
    };
    return v;
}

static void
test_one_vm_change_emits_only_its_flows(void **state)
{
    (void) state;
    struct pl_engine *e = pl_engine_create();
    pl_engine_set_options(e, 9, false);
    char names[100][8];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "r%d", i);
        struct pl_vm v = remote(names[i], (uint8_t) i, 0x0a000002u);
        pl_engine_set_vm(e, &v);
    }
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    /* Infra (4 + tunnel) and two flows per remote VM. */
    assert_int_equal(flowtab_count(pl_engine_desired(e)), 5 + 200);
    assert_int_equal(flowtab_count(pl_engine_tracked(e)), 205);
    pl_engine_clear_tracked(e);
    struct pl_engine_stats before, after;
    pl_engine_get_stats(e, &before);

    /* r7 moves to another node: its forwarding flow, nothing else. */
    struct pl_vm v = remote(names[7], 7, 0x0a000003u);
    pl_engine_set_vm(e, &v);
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    pl_engine_get_stats(e, &after);
    assert_int_equal(after.vms - before.vms, 1);
    const struct flowtab *t = pl_engine_tracked(e);
    assert_int_equal(flowtab_count(t), 1);
    struct flowtab_flow k = {.table = PL_T_FROM_VM, .priority = 100};
    ofp_match_init(&k.match);
    ofp_match_set(&k.match, OFP_F_TUNNEL_ID, 100);
    ofp_match_set(&k.match, OFP_F_ETH_DST,
                  ofp_eth_to_u64(v.config.mac));
    assert_non_null(flowtab_find(t, k.table, k.priority, &k.match));
    pl_engine_clear_tracked(e);

    /* The same view again: recomputed, nothing tracked. */
    pl_engine_set_vm(e, &v);
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    assert_int_equal(flowtab_count(pl_engine_tracked(e)), 0);

    /* Removed: its two flows go. */
    pl_engine_remove_vm(e, names[7]);
    assert_false(pl_engine_has_vm(e, names[7]));
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    assert_int_equal(flowtab_count(pl_engine_tracked(e)), 2);
    assert_int_equal(flowtab_count(pl_engine_desired(e)), 5 + 198);
    assert_null(flowtab_find(pl_engine_desired(e), k.table, k.priority,
                             &k.match));
    pl_engine_destroy(e);
}

/* The DHCP broadcast from servers of key 100 to its clients' ports. */
static const struct flowtab_flow *
dhcp_down(const struct flowtab *t, uint32_t key)
{
    struct ofp_match m;
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_TUNNEL_ID, key);
    ofp_match_set(&m, OFP_F_ETH_DST, UINT64_C(0xffffffffffff));
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&m, OFP_F_IP_PROTO, 17);
    ofp_match_set(&m, OFP_F_UDP_SRC, 67);
    ofp_match_set(&m, OFP_F_UDP_DST, 68);
    return flowtab_find(t, PL_T_FROM_VM, PL_PRIO_DHCP, &m);
}

static struct pl_vm
local(const char *name, uint8_t mac, uint32_t port, const struct binding *b)
{
    struct pl_vm v = {
        .vm = name,
        .kind = PL_VM_LOCAL,
        .config = {.mac = {2, 0, 0, 0, 2, mac}, .vni = 100},
        .ofport = port,
        .binding = b,
    };
    return v;
}

static void
test_key_group_follows_its_ports(void **state)
{
    (void) state;
    struct pl_engine *e = pl_engine_create();
    struct binding server = {.port_security = BINDING_TRUST,
                             .mac = {2, 0, 0, 0, 2, 1}, .ip = 1};
    struct pl_vm s = local("srv", 1, 4, &server);
    struct pl_vm c1 = local("c1", 2, 5, NULL);
    pl_engine_set_vm(e, &c1);
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    assert_null(dhcp_down(pl_engine_desired(e), 100)); /* no server yet */
    pl_engine_set_vm(e, &s);
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    const struct flowtab_flow *f = dhcp_down(pl_engine_desired(e), 100);
    assert_non_null(f);
    assert_int_equal(f->insts.apply.n, 1); /* to c1 */
    struct pl_engine_stats before, after;
    pl_engine_get_stats(e, &before);
    pl_engine_clear_tracked(e);

    /* A second client port: the group is recomputed, its flow changes. */
    struct pl_vm c2 = local("c2", 3, 6, NULL);
    pl_engine_set_vm(e, &c2);
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    pl_engine_get_stats(e, &after);
    assert_int_equal(after.keys - before.keys, 1);
    f = dhcp_down(pl_engine_desired(e), 100);
    assert_non_null(f);
    assert_int_equal(f->insts.apply.n, 2);
    assert_non_null(dhcp_down(pl_engine_tracked(e), 100));

    /* The server goes: no more broadcast flows for the key. */
    server.port_security = BINDING_UNTRUST;
    pl_engine_set_vm(e, &s);
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    assert_null(dhcp_down(pl_engine_desired(e), 100));
    pl_engine_destroy(e);
}

static void
test_conflicting_owners_rank_by_name(void **state)
{
    (void) state;
    /* "a" and "b" say one MAC is on two nodes: "a" keeps the key,
     * whichever came first, and "b" takes over when "a" goes. */
    for (int order = 0; order < 2; order++) {
        struct pl_engine *e = pl_engine_create();
        struct flowtab *oracle = flowtab_create();
        pl_engine_set_options(e, 9, false);
        struct pl_vm v[2] = {remote("a", 1, 0x0a000002u),
                             remote("b", 1, 0x0a000003u)};
        pl_engine_set_vm(e, &v[order]);
        assert_int_equal(pl_engine_run(e, NULL, 0), 0);
        pl_engine_set_vm(e, &v[!order]);
        assert_int_equal(pl_engine_run(e, NULL, 0), 0);
        struct flowtab_flow k = {.table = PL_T_FROM_VM, .priority = 100};
        ofp_match_init(&k.match);
        ofp_match_set(&k.match, OFP_F_TUNNEL_ID, 100);
        ofp_match_set(&k.match, OFP_F_ETH_DST,
                      ofp_eth_to_u64(v[0].config.mac));
        const struct flowtab_flow *f = flowtab_find(
            pl_engine_desired(e), k.table, k.priority, &k.match);
        assert_non_null(f);
        assert_int_equal(f->cookie, pl_cookie(PL_K_REMOTE, "a"));
        /* The full computation agrees, in either input order. */
        struct pl_vm in_order[2] = {v[order], v[!order]};
        struct pl_input in = {.tunnel_port = 9, .vms = in_order, .n_vms = 2};
        assert_int_equal(pipeline_compute(&in, oracle, NULL, 0), 0);
        assert_true(tables_equal(oracle, pl_engine_desired(e)));

        pl_engine_clear_tracked(e);
        pl_engine_remove_vm(e, "a");
        assert_int_equal(pl_engine_run(e, NULL, 0), 0);
        f = flowtab_find(pl_engine_desired(e), k.table, k.priority,
                         &k.match);
        assert_non_null(f);
        assert_int_equal(f->cookie, pl_cookie(PL_K_REMOTE, "b"));
        assert_non_null(flowtab_find(pl_engine_tracked(e), k.table,
                                     k.priority, &k.match));
        pl_engine_destroy(e);
        flowtab_destroy(oracle);
    }
}

static void
test_inexpressible_group_is_an_error(void **state)
{
    (void) state;
    /* More client ports of one key than a flow_mod can name. */
    enum { N = 5000 };
    struct pl_engine *e = pl_engine_create();
    struct binding server = {.port_security = BINDING_TRUST};
    char (*names)[8] = calloc(N, sizeof *names);
    assert_non_null(names);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        struct pl_vm c = local(names[i], (uint8_t) i, 10 + (uint32_t) i,
                               NULL);
        pl_engine_set_vm(e, &c);
    }
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    pl_engine_clear_tracked(e);
    struct pl_vm s = local("srv", 1, 4, &server);
    pl_engine_set_vm(e, &s);
    char err[256] = "";
    assert_int_equal(pl_engine_run(e, err, sizeof err), EMSGSIZE);
    assert_non_null(strstr(err, "more than one flow_mod holds"));
    assert_null(dhcp_down(pl_engine_desired(e), 100));
    /* Still an error at the next run, though nothing changed. */
    assert_int_equal(pl_engine_run(e, NULL, 0), EMSGSIZE);
    /* The server goes: fine again, and its tracked changes are kept. */
    pl_engine_remove_vm(e, "srv");
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    assert_true(flowtab_count(pl_engine_tracked(e)) > 0);
    pl_engine_destroy(e);
    free(names);
}

/* A change set that cannot name every change says "everything". */
/* A full build's changes are not recorded key by key: the tracked set
 * says "every key" (NULL), and a whole-table sync then adds every flow
 * and deletes what the engine dropped, also past the limit. */
static void
test_full_build_tracks_every_key(void **state)
{
    (void) state;
    enum { N = 3000 }; /* 6,000 flows: past the engine's 4,096 */
    static char names[N][8];
    struct pl_engine *e = pl_engine_create();
    pl_engine_set_options(e, 9, false);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "r%d", i);
        struct pl_vm v = remote(names[i], (uint8_t) i, 0x0a000002u);
        v.config.ip = 0xc6130000u + (uint32_t) i;
        v.config.mac[4] = (uint8_t) (i >> 8);
        pl_engine_set_vm(e, &v);
    }
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    assert_int_equal(flowtab_count(pl_engine_desired(e)), 5 + 2 * N);
    assert_null(pl_engine_tracked(e));

    struct flowtab *installed = flowtab_create();
    struct flowtab_flow stale = {.table = PL_T_FROM_VM, .priority = 7};
    ofp_match_init(&stale.match);
    ofp_match_set(&stale.match, OFP_F_TUNNEL_ID, 4242);
    ofp_instructions_init(&stale.insts);
    flowtab_put(installed, &stale);
    struct ofpbuf buf;
    ofpbuf_init(&buf, 4096);
    uint32_t xid = 1;
    struct flowtab_diff d;
    flowtab_sync_keys(installed, pl_engine_desired(e), pl_engine_tracked(e),
                      &buf, &xid, &d);
    assert_int_equal(d.added, 5 + 2 * N);
    assert_int_equal(d.deleted, 1); /* not the engine's: gone */
    assert_true(tables_equal(installed, pl_engine_desired(e)));
    pl_engine_clear_tracked(e);
    assert_non_null(pl_engine_tracked(e));
    assert_int_equal(flowtab_count(pl_engine_tracked(e)), 0);

    /* Every VM leaves: 6,000 deletions, none of them lost. */
    for (int i = 0; i < N; i++) {
        pl_engine_remove_vm(e, names[i]);
    }
    assert_int_equal(pl_engine_run(e, NULL, 0), 0);
    assert_null(pl_engine_tracked(e));
    ofpbuf_clear(&buf);
    flowtab_sync_keys(installed, pl_engine_desired(e), pl_engine_tracked(e),
                      &buf, &xid, &d);
    assert_int_equal(d.deleted, 2 * N);
    assert_int_equal(flowtab_count(installed), 5);
    pl_engine_clear_tracked(e);
    ofpbuf_uninit(&buf);
    flowtab_destroy(installed);
    pl_engine_destroy(e);
}

static void
test_change_set_overflows_to_everything(void **state)
{
    (void) state;
    struct vm_changes c;
    vm_changes_init(&c);
    assert_true(c.all);
    vm_changes_add(&c, "a");
    assert_int_equal(c.n, 0); /* "everything" covers it */
    vm_changes_clear(&c);
    assert_false(c.all);
    for (size_t i = 0; i < VM_CHANGES_MAX; i++) {
        vm_changes_add(&c, "a");
    }
    assert_false(c.all);
    assert_int_equal(c.n, VM_CHANGES_MAX);
    vm_changes_add(&c, "b");
    assert_true(c.all);
    assert_int_equal(c.n, 0);
    vm_changes_clear(&c);
    char longname[MN_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    vm_changes_add(&c, longname);
    assert_true(c.all);
    vm_changes_destroy(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_vm_change_emits_only_its_flows),
        cmocka_unit_test(test_key_group_follows_its_ports),
        cmocka_unit_test(test_conflicting_owners_rank_by_name),
        cmocka_unit_test(test_inexpressible_group_is_an_error),
        cmocka_unit_test(test_change_set_overflows_to_everything),
        cmocka_unit_test(test_full_build_tracks_every_key),
        cmocka_unit_test(test_property_incremental_equals_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
