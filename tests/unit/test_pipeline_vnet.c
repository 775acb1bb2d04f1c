/* test_pipeline_vnet.c: a tenant virtual switch compiled into br-int
 * flows (src/agent/pipeline_vnet.c, docs/dataplane.md "Tenant virtual
 * switches").
 *
 * Tenant flows are written as ovs-ofctl text, encoded as the FLOW_MOD
 * bytes mignetd sends and decoded by pl_vnet_flow_decode(); the compiled
 * flows are compared as text.  A node holds vm1 (port 101) and vm2 (port
 * 102) here, vm3 on 198.18.0.3, vm4 relaying to 198.18.0.4 and vm5 as a
 * prepared copy (port 105) of a VM still on 198.18.0.5; the tunnel port
 * is 1, the switch's VNI 100 and its ports 1-5 have keys 0xf00001...
 * A seeded property test runs the same compile incrementally through
 * pl_engine's external owners (one per tenant flow, one for the switch's
 * own flows, as agent_vnet.c does) against pipeline_vnet() of the same
 * state, flow for flow, with the tracked sync's copy equal too; and one
 * tenant flow's change touches only its own flows. */
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
#include "agent/pipeline_vnet.h"
#include "agent/pl_engine.h"
#include "lib/util.h"
#include "mignet/ofp.h"
#include "mignet/ofpbuf.h"

#define IP(a, b, c, d)                                                       \
    ((uint32_t) (a) << 24 | (uint32_t) (b) << 16 | (uint32_t) (c) << 8      \
     | (uint32_t) (d))

static struct pl_vm vms[6];
static size_t n_vms;

static const struct pl_vm *
lookup(void *aux, const char *vm)
{
    (void) aux;
    for (size_t i = 0; i < n_vms; i++) {
        if (!strcmp(vms[i].vm, vm)) {
            return &vms[i];
        }
    }
    return NULL;
}

static const struct pl_vnet_env env = {.tunnel_port = 1, .vm = lookup};

static struct pl_vnet_port ports[] = {
    {1, "vm1", 0xf00001}, {2, "vm2", 0xf00002}, {3, "vm3", 0xf00003},
    {4, "vm4", 0xf00004}, {5, "vm5", 0xf00005},
};

static struct pl_vnet vs = {
    .vni = 100, .active = 6, .ports = ports, .n_ports = 5,
};

static int
setup(void **state)
{
    (void) state;
    memset(vms, 0, sizeof vms);
    vms[0] = (struct pl_vm){.vm = "vm1", .kind = PL_VM_LOCAL, .ofport = 101};
    vms[1] = (struct pl_vm){.vm = "vm2", .kind = PL_VM_LOCAL, .ofport = 102};
    vms[2] = (struct pl_vm){.vm = "vm3", .kind = PL_VM_REMOTE,
                            .peer = IP(198, 18, 0, 3)};
    vms[3] = (struct pl_vm){.vm = "vm4", .kind = PL_VM_RELAY,
                            .peer = IP(198, 18, 0, 4)};
    vms[4] = (struct pl_vm){.vm = "vm5", .kind = PL_VM_REMOTE,
                            .ofport = 105, .peer = IP(198, 18, 0, 5)};
    n_vms = 5;
    vs.active = 6;
    vs.n_ports = 5;
    return 0;
}

/* The flow_mod 'text' (after "add ") encoded as mignetd sends it and
 * decoded into 'out' (which owns something only on success). */
static enum ofperr
decode_into(const char *text, struct pl_vnet_flow *out)
{
    struct ofp_msg msg;
    char err[160];
    ofp_msg_init(&msg, OFPT_FLOW_MOD, 7);
    assert_int_equal(ofp_parse_flow_mod(text, &msg.flow_mod, err,
                                        sizeof err), 0);
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    assert_int_equal(ofp_encode(&msg, &b), 0);
    enum ofperr e = pl_vnet_flow_decode(b.data, b.size, out);
    ofpbuf_uninit(&b);
    ofp_msg_destroy(&msg);
    return e;
}

static void
tenant_flow(const char *text, uint32_t id, uint64_t version,
            struct pl_vnet_flow *out)
{
    assert_int_equal(decode_into(text, out), 0);
    out->id = id;
    out->version = version;
}

static enum ofperr
decode_text(const char *text)
{
    struct pl_vnet_flow f;
    enum ofperr e = decode_into(text, &f);
    if (!e) {
        pl_vnet_flow_destroy(&f);
    }
    return e;
}

/* "table=T priority=P cookie=0x.. MATCH actions=ACTIONS" of the flow
 * with that key, or "" when there is none. */
static char line[1024];

static const char *
flow_text(const struct flowtab *t, uint8_t table, uint16_t prio,
          const char *match)
{
    struct ofp_match m;
    char err[160];
    assert_int_equal(ofp_parse_match(match, &m, err, sizeof err), 0);
    const struct flowtab_flow *f = flowtab_find(t, table, prio, &m);
    if (!f) {
        line[0] = 0;
        return line;
    }
    char *a = ofp_instructions_to_string(&f->insts);
    snprintf(line, sizeof line, "cookie=0x%016llx %s",
             (unsigned long long) f->cookie, a);
    free(a);
    return line;
}

static const char *
actions_of(const struct flowtab *t, uint8_t table, uint16_t prio,
           const char *match)
{
    const char *s = flow_text(t, table, prio, match);
    const char *sp = strchr(s, ' ');
    return sp ? sp + 1 : s;
}

static void
test_cookies(void **state)
{
    (void) state;
    assert_int_equal(PL_K_VNET, 7);
    assert_int_equal(PL_K_VNET_INFRA, 8);
    uint64_t c = pl_vnet_cookie(0x1234, 0xdeadbeef);
    assert_true(c == UINT64_C(0x4d47073400000000) + 0xdeadbeef);
    uint8_t v;
    uint32_t id;
    assert_true(pl_vnet_cookie_parse(c, &v, &id));
    assert_int_equal(v, 0x34);
    assert_int_equal(id, 0xdeadbeef);
    assert_false(pl_vnet_cookie_parse(pl_cookie(PL_K_VNET_INFRA, "vm1"), &v,
                                      &id));
    assert_false(pl_vnet_cookie_parse(pl_cookie(PL_K_LOCAL, "vm1"), &v,
                                      &id));
    assert_true(pl_vnet_metadata(UINT64_C(0x100000007), 3)
                == UINT64_C(0x0000000700000003));
}

static void
test_decode_refuses(void **state)
{
    (void) state;
    assert_int_equal(decode_text("add priority=5 in_port=1 "
                                 "actions=output:2"), 0);
    assert_int_equal(decode_text("add table=1 priority=5 actions=output:2"),
                     OFPERR_OFPFMFC_BAD_TABLE_ID);
    assert_int_equal(decode_text("delete priority=5 actions=output:2"),
                     OFPERR_OFPFMFC_BAD_COMMAND);
    assert_int_equal(decode_text("add priority=5 tunnel_id=5 "
                                 "actions=output:2"),
                     OFPERR_OFPBMC_BAD_FIELD);
    assert_int_equal(decode_text("add priority=5 metadata=5 "
                                 "actions=output:2"),
                     OFPERR_OFPBMC_BAD_FIELD);
    assert_int_equal(decode_text("add priority=5 "
                                 "actions=set_field:5->tunnel_id,"
                                 "output:2"), OFPERR_OFPBAC_BAD_TYPE);
    assert_int_equal(decode_text("add priority=5 actions=output:LOCAL"),
                     OFPERR_OFPBAC_BAD_OUT_PORT);
    assert_int_equal(decode_text("add priority=5 actions=goto_table:1"),
                     OFPERR_OFPBIC_UNSUP_INST);
    /* Not a flow_mod at all. */
    struct pl_vnet_flow f;
    static const uint8_t hello[8] = {4, 0, 0, 8, 0, 0, 0, 1};
    assert_int_not_equal(pl_vnet_flow_decode(hello, sizeof hello, &f), 0);
    assert_int_not_equal(pl_vnet_flow_decode(hello, 3, &f), 0);
}

static void
test_infra(void **state)
{
    (void) state;
    struct flowtab *t = flowtab_create();
    pipeline_vnet_infra(&env, &vs, t);
    /* Dispatch for the two local ports; version 6 -> table 40. */
    char want[256];
    snprintf(want, sizeof want, "cookie=0x%016llx "
             "actions=write_metadata:0x600000001/0xffffffffffffffff,"
             "goto_table:40",
             (unsigned long long) pl_cookie(PL_K_VNET_INFRA, "vm1"));
    assert_string_equal(flow_text(t, 20, 400, "in_port=101,tunnel_id=100"),
                        want);
    assert_string_equal(actions_of(t, 20, 400, "in_port=102,tunnel_id=100"),
                        "actions=write_metadata:0x600000002/"
                        "0xffffffffffffffff,goto_table:40");
    /* Delivery: local, relayed on, a prepared copy; the remote VM none. */
    assert_string_equal(actions_of(t, 30, 250, "tunnel_id=0xf00001"),
                        "actions=output:101");
    assert_string_equal(actions_of(t, 30, 250, "tunnel_id=0xf00004"),
                        "actions=set_field:198.18.0.4->tun_dst,"
                        "output:IN_PORT");
    assert_string_equal(actions_of(t, 30, 250, "tunnel_id=0xf00005"),
                        "actions=output:105");
    assert_string_equal(flow_text(t, 30, 250, "tunnel_id=0xf00003"), "");
    assert_int_equal(flowtab_count(t), 2 + 4);
    /* The flip to version 7 moves the dispatch to table 41. */
    flowtab_clear(t);
    vs.active = 7;
    pipeline_vnet_infra(&env, &vs, t);
    assert_string_equal(actions_of(t, 20, 400, "in_port=101,tunnel_id=100"),
                        "actions=write_metadata:0x700000001/"
                        "0xffffffffffffffff,goto_table:41");
    flowtab_destroy(t);
}

static void
test_outputs(void **state)
{
    (void) state;
    struct flowtab *t = flowtab_create();
    struct pl_vnet_flow f;
    tenant_flow("add priority=10 in_port=1,eth_type=0x0800 "
                "actions=output:2,output:3,output:4,output:5,output:1",
                42, 6, &f);
    assert_int_equal(pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0), 0);
    assert_int_equal(flowtab_count(t), 1); /* in_port=1: only q=1 */
    char want[512];
    snprintf(want, sizeof want, "cookie=0x%016llx actions=output:102,"
             "set_field:0xf00003->tunnel_id,set_field:198.18.0.3->tun_dst,"
             "output:1,"
             "set_field:0xf00004->tunnel_id,set_field:198.18.0.4->tun_dst,"
             "output:1,"
             "set_field:0xf00005->tunnel_id,set_field:198.18.0.5->tun_dst,"
             "output:1",
             (unsigned long long) pl_vnet_cookie(6, 42));
    /* The tenant's other match fields unchanged; output:1 (its in_port)
     * dropped. */
    assert_string_equal(flow_text(t, 40, 10, "metadata=0x1/0xffffffff,"
                                  "eth_type=0x0800,tunnel_id=100"), want);
    pl_vnet_flow_destroy(&f);
    flowtab_destroy(t);
}

static void
test_flood_per_q(void **state)
{
    (void) state;
    struct flowtab *t = flowtab_create();
    struct pl_vnet_flow f;
    tenant_flow("add priority=0 actions=output:FLOOD", 1, 7, &f);
    assert_int_equal(pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0), 0);
    /* One per local q (1 and 2), version 7 -> table 41, never back to q. */
    assert_int_equal(flowtab_count(t), 2);
    const char *tun = "set_field:0xf00003->tunnel_id,"
                      "set_field:198.18.0.3->tun_dst,output:1,"
                      "set_field:0xf00004->tunnel_id,"
                      "set_field:198.18.0.4->tun_dst,output:1,"
                      "set_field:0xf00005->tunnel_id,"
                      "set_field:198.18.0.5->tun_dst,output:1";
    char want[512];
    snprintf(want, sizeof want, "actions=output:102,%s", tun);
    assert_string_equal(actions_of(t, 41, 0, "tunnel_id=100,"
                                   "metadata=0x1/0xffffffff"), want);
    snprintf(want, sizeof want, "actions=output:101,%s", tun);
    assert_string_equal(actions_of(t, 41, 0, "tunnel_id=100,"
                                   "metadata=0x2/0xffffffff"), want);
    assert_string_equal(flow_text(t, 40, 0, "tunnel_id=100,"
                                  "metadata=0x1/0xffffffff"), "");
    pl_vnet_flow_destroy(&f);
    /* ALL is the same expansion. */
    flowtab_clear(t);
    tenant_flow("add priority=0 in_port=2 actions=output:ALL", 1, 7, &f);
    assert_int_equal(pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0), 0);
    assert_int_equal(flowtab_count(t), 1);
    assert_string_equal(actions_of(t, 41, 0, "tunnel_id=100,"
                                   "metadata=0x2/0xffffffff"), want);
    pl_vnet_flow_destroy(&f);
    flowtab_destroy(t);
}

static void
test_in_port_controller(void **state)
{
    (void) state;
    struct flowtab *t = flowtab_create();
    struct pl_vnet_flow f;
    tenant_flow("add priority=3 in_port=2,eth_dst=02:00:00:00:01:02 "
                "actions=output:IN_PORT,output:CONTROLLER:128", 9, 6, &f);
    assert_int_equal(pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0), 0);
    assert_string_equal(actions_of(t, 40, 3, "eth_dst=02:00:00:00:01:02,"
                                   "tunnel_id=100,"
                                   "metadata=0x2/0xffffffff"),
                        "actions=output:IN_PORT,output:CONTROLLER:65535");
    pl_vnet_flow_destroy(&f);
    /* An output to nothing reachable is a drop (no instructions). */
    flowtab_clear(t);
    tenant_flow("add priority=3 in_port=1 actions=output:1,output:9", 9, 6,
                &f);
    assert_int_equal(pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0), 0);
    assert_string_equal(actions_of(t, 40, 3, "tunnel_id=100,"
                                   "metadata=0x1/0xffffffff"), "actions=drop");
    pl_vnet_flow_destroy(&f);
    flowtab_destroy(t);
}

static void
test_not_here(void **state)
{
    (void) state;
    struct flowtab *t = flowtab_create();
    struct pl_vnet_flow f;
    /* Port 3's VM is remote, port 5's a prepared copy: nothing enters
     * the switch there. */
    tenant_flow("add priority=3 in_port=3 actions=output:1", 9, 6, &f);
    assert_int_equal(pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0), 0);
    pl_vnet_flow_destroy(&f);
    tenant_flow("add priority=3 in_port=5 actions=output:1", 10, 6, &f);
    assert_int_equal(pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0), 0);
    pl_vnet_flow_destroy(&f);
    tenant_flow("add priority=3 in_port=77 actions=output:1", 11, 6, &f);
    assert_int_equal(pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0), 0);
    pl_vnet_flow_destroy(&f);
    assert_int_equal(flowtab_count(t), 0);
    /* No VM of the switch known here at all: nothing, infra included. */
    n_vms = 0;
    tenant_flow("add priority=0 actions=output:FLOOD", 1, 6, &f);
    assert_int_equal(pipeline_vnet(&env, &vs, &f, 1, t, NULL, 0), 0);
    assert_int_equal(flowtab_count(t), 0);
    pl_vnet_flow_destroy(&f);
    flowtab_destroy(t);
}

static void
test_relay_still_plugged(void **state)
{
    (void) state;
    /* vm1 relays to 198.18.0.9 while its port is still here (lossless):
     * its frames still enter at port 1; outputs to it are tunnelled. */
    vms[0].kind = PL_VM_RELAY;
    vms[0].peer = IP(198, 18, 0, 9);
    struct flowtab *t = flowtab_create();
    struct pl_vnet_flow f;
    tenant_flow("add priority=1 in_port=2 actions=output:1", 2, 6, &f);
    assert_int_equal(pipeline_vnet(&env, &vs, &f, 1, t, NULL, 0), 0);
    assert_string_equal(actions_of(t, 20, 400, "in_port=101,tunnel_id=100"),
                        "actions=write_metadata:0x600000001/"
                        "0xffffffffffffffff,goto_table:40");
    assert_string_equal(actions_of(t, 40, 1, "tunnel_id=100,"
                                   "metadata=0x2/0xffffffff"),
                        "actions=set_field:0xf00001->tunnel_id,"
                        "set_field:198.18.0.9->tun_dst,output:1");
    assert_string_equal(actions_of(t, 30, 250, "tunnel_id=0xf00001"),
                        "actions=set_field:198.18.0.9->tun_dst,"
                        "output:IN_PORT");
    pl_vnet_flow_destroy(&f);
    /* Without a tunnel port, nothing is tunnelled. */
    struct pl_vnet_env no_tun = env;
    no_tun.tunnel_port = 0;
    flowtab_clear(t);
    tenant_flow("add priority=1 in_port=2 actions=output:3", 2, 6, &f);
    assert_int_equal(pipeline_vnet_flow(&no_tun, &vs, &f, t, NULL, 0), 0);
    assert_string_equal(actions_of(t, 40, 1, "tunnel_id=100,"
                                   "metadata=0x2/0xffffffff"), "actions=drop");
    pl_vnet_flow_destroy(&f);
    flowtab_destroy(t);
}

static void
test_versions(void **state)
{
    (void) state;
    struct flowtab *t = flowtab_create();
    struct pl_vnet_flow f[2];
    tenant_flow("add priority=1 in_port=1 actions=output:2", 5, 6, &f[0]);
    tenant_flow("add priority=1 in_port=1 actions=output:2", 5, 7, &f[1]);
    assert_int_equal(pipeline_vnet(&env, &vs, f, 2, t, NULL, 0), 0);
    /* Same tenant flow in two versions: two tables, two cookies. */
    char want[128];
    snprintf(want, sizeof want, "cookie=0x%016llx actions=output:102",
             (unsigned long long) pl_vnet_cookie(6, 5));
    assert_string_equal(flow_text(t, 40, 1, "tunnel_id=100,"
                                  "metadata=0x1/0xffffffff"), want);
    snprintf(want, sizeof want, "cookie=0x%016llx actions=output:102",
             (unsigned long long) pl_vnet_cookie(7, 5));
    assert_string_equal(flow_text(t, 41, 1, "tunnel_id=100,"
                                  "metadata=0x1/0xffffffff"), want);
    assert_int_equal(flowtab_count(t), 2 + 4 + 2);
    pl_vnet_flow_destroy(&f[0]);
    pl_vnet_flow_destroy(&f[1]);
    flowtab_destroy(t);
}

static void
test_too_big(void **state)
{
    (void) state;
    /* A FLOOD to 3,000 remote ports cannot be one flow_mod: refused
     * whole, never cut short. */
    enum { N = 3000 };
    struct pl_vnet_port *big = calloc(N, sizeof *big);
    char (*names)[8] = calloc(N, sizeof *names);
    assert_non_null(big);
    assert_non_null(names);
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "vm%zu", i + 1);
        big[i] = (struct pl_vnet_port){(uint32_t) i + 1, names[i],
                                       0xf00000 + (uint32_t) i};
    }
    snprintf(names[1], sizeof names[1], "vm3"); /* remote */
    for (size_t i = 2; i < N; i++) {
        snprintf(names[i], sizeof names[i], "vm3");
    }
    struct pl_vnet bvs = {.vni = 100, .active = 0, .ports = big,
                          .n_ports = N};
    struct flowtab *t = flowtab_create();
    struct pl_vnet_flow f;
    tenant_flow("add priority=0 in_port=1 actions=output:FLOOD", 1, 0, &f);
    char err[200] = "";
    assert_int_equal(pipeline_vnet_flow(&env, &bvs, &f, t, err, sizeof err),
                     EMSGSIZE);
    assert_non_null(strstr(err, "tenant flow 1"));
    assert_int_equal(flowtab_count(t), 0);
    pl_vnet_flow_destroy(&f);
    flowtab_destroy(t);
    free(big);
    free(names);
}

/* ---- The incremental compile against its oracle ---- */

#define MAXF 24
static struct pl_vnet_flow pflows[MAXF];
static bool pused[MAXF];
static struct pl_engine *eng;

static const struct pl_vm *
engine_view(void *aux, const char *vm)
{
    (void) aux;
    return pl_engine_find_vm(eng, vm);
}

static const struct pl_vnet_env eenv = {.tunnel_port = 1, .vm = engine_view};

/* The owners: "sw" and "f<i>". */
static int
gen(void *aux, const char *owner, struct flowtab *out, char *err,
    size_t err_size)
{
    (void) aux;
    if (!strcmp(owner, "sw")) {
        pipeline_vnet_infra(&eenv, &vs, out);
        return 0;
    }
    int i = atoi(owner + 1);
    assert_true(i >= 0 && i < MAXF);
    return pused[i] ? pipeline_vnet_flow(&eenv, &vs, &pflows[i], out, err,
                                         err_size)
                    : 0;
}

struct only_vnet {
    struct flowtab *t;
};

static void
keep_vnet(void *aux, const struct flowtab_flow *f)
{
    struct only_vnet *o = aux;
    uint64_t k = f->cookie & PL_COOKIE_KIND_MASK;
    if (k == pl_cookie_kind(PL_K_VNET)
        || k == pl_cookie_kind(PL_K_VNET_INFRA)) {
        flowtab_put(o->t, f);
    }
}

/* Whether no flow_mod turns a copy of 'a' into 'b' (same keys, cookies
 * and instructions). */
static bool
same_tables(const struct flowtab *a, const struct flowtab *b)
{
    struct flowtab *copy = flowtab_create();
    struct ofpbuf buf;
    ofpbuf_init(&buf, 4096);
    uint32_t xid = 1;
    struct flowtab_diff d;
    flowtab_sync_keys(copy, a, NULL, &buf, &xid, &d);
    flowtab_sync_keys(copy, b, NULL, &buf, &xid, &d);
    ofpbuf_uninit(&buf);
    flowtab_destroy(copy);
    return !d.added && !d.modified && !d.deleted;
}

static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t) (rng % n);
}

static const char *const texts[] = {
    "add priority=0 actions=output:FLOOD",
    "add priority=5 in_port=1 actions=output:2,output:3",
    "add priority=5 in_port=2 actions=output:IN_PORT,output:1",
    "add priority=7 eth_type=0x0800 actions=output:CONTROLLER:64",
    "add priority=9 eth_dst=02:00:00:00:01:04 actions=output:4",
    "add priority=9 in_port=3 actions=output:ALL",
    "add priority=1 in_port=5 actions=output:5,output:1",
};

/* A random view of VM 'i' (1-5). */
static void
random_vm(int i)
{
    static const char *const names[] = {"vm1", "vm2", "vm3", "vm4", "vm5"};
    struct pl_vm v = {.vm = names[i - 1]};
    v.kind = (enum pl_vm_kind) rnd(4);
    v.ofport = rnd(3) ? 100 + (uint32_t) i : 0;
    v.peer = rnd(4) ? IP(198, 18, 0, 10 + rnd(3)) : 0;
    v.config.vni = 100;
    if (rnd(6)) {
        pl_engine_set_vm(eng, &v);
    } else {
        pl_engine_remove_vm(eng, v.vm);
    }
}

static int by_name[MAXF]; /* owner indexes in strcmp order of "f<i>" */

static int
owner_cmp(const void *a_, const void *b_)
{
    char a[8], b[8];
    snprintf(a, sizeof a, "f%d", *(const int *) a_);
    snprintf(b, sizeof b, "f%d", *(const int *) b_);
    return strcmp(a, b);
}

static void
test_incremental_oracle(void **state)
{
    (void) state;
    for (int j = 0; j < MAXF; j++) {
        by_name[j] = j;
    }
    qsort(by_name, MAXF, sizeof by_name[0], owner_cmp);
    const char *env_seqs = getenv("MIGNET_PL_SEQS");
    int seqs = env_seqs ? atoi(env_seqs) : 300;
    rng = 0x9e3779b97f4a7c15ull;
    for (int seq = 0; seq < seqs; seq++) {
        eng = pl_engine_create();
        pl_engine_set_options(eng, 1, false);
        pl_engine_set_ext(eng, gen, NULL);
        pl_engine_ext_dirty(eng, "sw");
        memset(pused, 0, sizeof pused);
        vs.active = rnd(4);
        vs.n_ports = 5;
        struct flowtab *installed = flowtab_create();
        struct flowtab *oracle = flowtab_create();
        struct flowtab *mine = flowtab_create();
        for (int step = 0; step < 40; step++) {
            char owner[8];
            int i = (int) rnd(MAXF);
            snprintf(owner, sizeof owner, "f%d", i);
            switch (rnd(5)) {
            case 0: /* upsert a tenant flow */
            case 1:
                if (pused[i]) {
                    pl_vnet_flow_destroy(&pflows[i]);
                }
                tenant_flow(texts[rnd(ARRAY_SIZE(texts))], (uint32_t) i,
                            vs.active + rnd(2), &pflows[i]);
                pused[i] = true;
                pl_engine_ext_dirty(eng, owner);
                break;
            case 2: /* delete one */
                if (pused[i]) {
                    pl_vnet_flow_destroy(&pflows[i]);
                    pused[i] = false;
                }
                pl_engine_ext_remove(eng, owner);
                break;
            case 3: /* a VM moves: the agent dirties the whole switch */
                random_vm(1 + (int) rnd(5));
                pl_engine_ext_dirty(eng, "sw");
                for (int j = 0; j < MAXF; j++) {
                    if (pused[j]) {
                        snprintf(owner, sizeof owner, "f%d", j);
                        pl_engine_ext_dirty(eng, owner);
                    }
                }
                break;
            default: /* the flip, or a port less */
                if (rnd(2)) {
                    vs.active++;
                } else {
                    vs.n_ports = 3 + rnd(3);
                }
                pl_engine_recompute_all(eng);
                break;
            }
            assert_int_equal(pl_engine_run(eng, NULL, 0), 0);
            /* The oracle: the whole switch at once, its flows in the
             * order the engine ranks their owners (by name: two tenant
             * flows with one key, the first keeps it). */
            struct pl_vnet_flow all[MAXF];
            size_t n = 0;
            for (int j = 0; j < MAXF; j++) {
                int k = by_name[j];
                if (pused[k]) {
                    all[n++] = pflows[k];
                }
            }
            flowtab_clear(oracle);
            assert_int_equal(pipeline_vnet(&eenv, &vs, all, n, oracle, NULL,
                                           0), 0);
            flowtab_clear(mine);
            struct only_vnet o = {mine};
            flowtab_walk(pl_engine_desired(eng), keep_vnet, &o);
            assert_true(same_tables(mine, oracle));
            /* The tracked keys alone keep an installed copy equal. */
            struct ofpbuf b;
            ofpbuf_init(&b, 4096);
            uint32_t xid = 1;
            flowtab_sync_keys(installed, pl_engine_desired(eng),
                              pl_engine_tracked(eng), &b, &xid, NULL);
            ofpbuf_uninit(&b);
            pl_engine_clear_tracked(eng);
            assert_true(same_tables(installed, pl_engine_desired(eng)));
        }
        for (int j = 0; j < MAXF; j++) {
            if (pused[j]) {
                pl_vnet_flow_destroy(&pflows[j]);
            }
        }
        flowtab_destroy(installed);
        flowtab_destroy(oracle);
        flowtab_destroy(mine);
        pl_engine_destroy(eng);
    }
    vs.n_ports = 5;
}

/* One tenant flow changed among many: only its own flows change. */
static void
test_one_flow_one_change(void **state)
{
    (void) state;
    eng = pl_engine_create();
    pl_engine_set_options(eng, 1, false);
    pl_engine_set_ext(eng, gen, NULL);
    for (size_t i = 0; i < n_vms; i++) {
        pl_engine_set_vm(eng, &vms[i]);
    }
    pl_engine_ext_dirty(eng, "sw");
    char owner[8];
    for (int i = 0; i < MAXF; i++) {
        char text[96];
        snprintf(text, sizeof text, "add priority=%d in_port=1 "
                 "actions=output:2", 10 + i);
        tenant_flow(text, (uint32_t) i, 6, &pflows[i]);
        pused[i] = true;
        snprintf(owner, sizeof owner, "f%d", i);
        pl_engine_ext_dirty(eng, owner);
    }
    assert_int_equal(pl_engine_run(eng, NULL, 0), 0);
    pl_engine_clear_tracked(eng);
    struct pl_engine_stats s0, s1;
    pl_engine_get_stats(eng, &s0);
    pl_vnet_flow_destroy(&pflows[7]);
    tenant_flow("add priority=17 in_port=1 actions=output:3", 7, 6,
                &pflows[7]);
    pl_engine_ext_dirty(eng, "f7");
    assert_int_equal(pl_engine_run(eng, NULL, 0), 0);
    pl_engine_get_stats(eng, &s1);
    assert_int_equal(s1.exts - s0.exts, 1);
    assert_int_equal(s1.changes - s0.changes, 1);
    assert_int_equal(flowtab_count(pl_engine_tracked(eng)), 1);
    for (int i = 0; i < MAXF; i++) {
        pl_vnet_flow_destroy(&pflows[i]);
        pused[i] = false;
    }
    pl_engine_destroy(eng);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cookies, setup),
        cmocka_unit_test_setup(test_decode_refuses, setup),
        cmocka_unit_test_setup(test_infra, setup),
        cmocka_unit_test_setup(test_outputs, setup),
        cmocka_unit_test_setup(test_flood_per_q, setup),
        cmocka_unit_test_setup(test_in_port_controller, setup),
        cmocka_unit_test_setup(test_not_here, setup),
        cmocka_unit_test_setup(test_relay_still_plugged, setup),
        cmocka_unit_test_setup(test_versions, setup),
        cmocka_unit_test_setup(test_too_big, setup),
        cmocka_unit_test_setup(test_incremental_oracle, setup),
        cmocka_unit_test_setup(test_one_flow_one_change, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
