/* fuzz_vnet_flow.c: libFuzzer target for a tenant flow as mignetd sends
 * it to the agent (vnet_flow's 'ofp': an OF1.3 FLOW_MOD in tenant terms),
 * decoded by pl_vnet_flow_decode() and compiled by pipeline_vnet_flow().
 *
 * Any input must decode or be refused with an OpenFlow error, never
 * crash; whatever decodes must compile into flows that each fit one
 * flow_mod, carry the tenant flow's cookie, live in its version's table
 * and match the switch's VNI -- or be refused whole (EMSGSIZE), never
 * cut.  It keeps no state between inputs. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "agent/pipeline_vnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pl_vm vms[] = {
    {.vm = "vm1", .kind = PL_VM_LOCAL, .ofport = 101},
    {.vm = "vm2", .kind = PL_VM_REMOTE, .peer = 0xc6120002},
    {.vm = "vm3", .kind = PL_VM_RELAY, .ofport = 103, .peer = 0xc6120003},
};

static const struct pl_vm *
lookup(void *aux, const char *vm)
{
    (void) aux;
    for (size_t i = 0; i < sizeof vms / sizeof vms[0]; i++) {
        if (!strcmp(vms[i].vm, vm)) {
            return &vms[i];
        }
    }
    return NULL;
}

struct check {
    uint64_t cookie;
    uint8_t table;
};

static void
check_flow(void *aux, const struct flowtab_flow *f)
{
    const struct check *c = aux;
    uint64_t v, m;
    if (f->cookie != c->cookie || f->table != c->table
        || !ofp_flow_fits(&f->match, &f->insts)
        || !ofp_match_get(&f->match, OFP_F_TUNNEL_ID, &v, &m) || v != 100
        || !ofp_match_get(&f->match, OFP_F_METADATA, &v, &m)
        || m != 0xffffffff
        || ofp_match_get(&f->match, OFP_F_IN_PORT, &v, &m)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pl_vnet_port ports[] = {
        {1, "vm1", 0xf00001}, {2, "vm2", 0xf00002}, {3, "vm3", 0xf00003},
    };
    const struct pl_vnet_env env = {.tunnel_port = 1, .vm = lookup};
    const struct pl_vnet vs = {.vni = 100, .active = 7, .ports = ports,
                               .n_ports = 3};
    struct pl_vnet_flow f;
    if (pl_vnet_flow_decode(data, size, &f)) {
        return 0;
    }
    f.id = 42;
    f.version = 7;
    struct flowtab *t = flowtab_create();
    int error = pipeline_vnet_flow(&env, &vs, &f, t, NULL, 0);
    if (error && error != EMSGSIZE) {
        abort();
    }
    struct check c = {pl_vnet_cookie(7, 42), PL_T_VNET + 1};
    flowtab_walk(t, check_flow, &c);
    /* Two local tenant ports (1, and 3 relaying while plugged). */
    if (flowtab_count(t) > 2) {
        abort();
    }
    flowtab_destroy(t);
    pl_vnet_flow_destroy(&f);
    return 0;
}
