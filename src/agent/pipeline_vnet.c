/* pipeline_vnet.c: a tenant virtual switch compiled into br-int flows
 * (see pipeline_vnet.h, docs/dataplane.md "Tenant virtual switches").
 *
 * A frame a tenant VM sends is classified as any VM's (table 0, port
 * security in 10); in table 20 the dispatch flow of its port writes the
 * tenant port and the active version into the metadata and goes to that
 * version's tenant table, where each tenant flow exists once per local
 * tenant port it admits, its outputs turned into this node's ports or
 * tunnels keyed by the destination port's K(p).  It never reads a clock
 * or a socket, and never emits a flow the tenant did not ask for. */
#include "agent/pipeline_vnet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/flowtab.h"
#include "lib/util.h"

uint64_t
pl_vnet_cookie(uint64_t version, uint32_t id)
{
    return pl_cookie_kind(PL_K_VNET) | ((version & 0xff) << 32) | id;
}

bool
pl_vnet_cookie_parse(uint64_t cookie, uint8_t *version_lo, uint32_t *id)
{
    if ((cookie & PL_COOKIE_KIND_MASK) != pl_cookie_kind(PL_K_VNET)) {
        return false;
    }
    *version_lo = (uint8_t) (cookie >> 32);
    *id = (uint32_t) cookie;
    return true;
}

uint64_t
pl_vnet_metadata(uint64_t active, uint32_t port)
{
    return ((active & 0xffffffff) << 32) | port;
}

bool
pl_vnet_local(const struct pl_vm *v)
{
    return v && v->ofport
           && (v->kind == PL_VM_LOCAL || v->kind == PL_VM_RELAY);
}

/* ---- Tenant flows in tenant terms ---- */

static enum ofperr
check_actions(const struct ofp_actions *a)
{
    for (size_t i = 0; i < a->n; i++) {
        const struct ofp_action *x = &a->a[i];
        if (x->type != OFP_ACT_OUTPUT) {
            return OFPERR_OFPBAC_BAD_TYPE;
        }
        uint32_t p = x->output.port;
        if (p >= OFPP_MAX && p != OFPP_IN_PORT && p != OFPP_FLOOD
            && p != OFPP_ALL && p != OFPP_CONTROLLER) {
            return OFPERR_OFPBAC_BAD_OUT_PORT;
        }
    }
    return OFPERR_OK;
}

enum ofperr
pl_vnet_flow_decode(const void *ofp, size_t len, struct pl_vnet_flow *out)
{
    struct ofp_msg msg;
    memset(out, 0, sizeof *out);
    ofp_match_init(&out->match);
    enum ofperr e = ofp_decode(ofp, len, &msg);
    if (e) {
        return e;
    }
    const struct ofp_flow_mod *fm = &msg.flow_mod;
    if (msg.type != OFPT_FLOW_MOD) {
        e = OFPERR_OFPBRC_BAD_TYPE;
    } else if (fm->command != OFPFC_ADD) {
        e = OFPERR_OFPFMFC_BAD_COMMAND;
    } else if (fm->table_id != 0) {
        e = OFPERR_OFPFMFC_BAD_TABLE_ID;
    } else if (fm->insts.present & ~(uint32_t) OFP_INST_APPLY) {
        e = OFPERR_OFPBIC_UNSUP_INST;
    } else if (fm->match.present
               & ((UINT32_C(1) << OFP_F_TUNNEL_ID)
                  | (UINT32_C(1) << OFP_F_METADATA)
                  | (UINT32_C(1) << OFP_F_TUN_IPV4_DST))) {
        e = OFPERR_OFPBMC_BAD_FIELD;
    } else {
        e = check_actions(&fm->insts.apply);
    }
    if (!e) {
        uint64_t in_port, mask;
        if (ofp_match_get(&fm->match, OFP_F_IN_PORT, &in_port, &mask)
            && in_port >= OFPP_MAX) {
            e = OFPERR_OFPBMC_BAD_VALUE;
        }
    }
    if (!e) {
        out->priority = fm->priority;
        out->match = fm->match;
        ofp_actions_copy(&out->actions, &fm->insts.apply);
    }
    ofp_msg_destroy(&msg);
    return e;
}

void
pl_vnet_flow_destroy(struct pl_vnet_flow *f)
{
    if (f) {
        ofp_actions_destroy(&f->actions);
    }
}

void
pl_vnet_flow_copy(struct pl_vnet_flow *dst, const struct pl_vnet_flow *src)
{
    *dst = *src;
    ofp_actions_init(&dst->actions);
    ofp_actions_copy(&dst->actions, &src->actions);
}

bool
pl_vnet_flow_equal(const struct pl_vnet_flow *a,
                   const struct pl_vnet_flow *b)
{
    return a->priority == b->priority && ofp_match_equal(&a->match, &b->match)
           && ofp_actions_equal(&a->actions, &b->actions);
}

/* ---- Compiling ---- */

static const struct pl_vm *
view(const struct pl_vnet_env *env, const struct pl_vnet_port *p)
{
    return env->vm ? env->vm(env->aux, p->vm) : NULL;
}

static void
flow_start(struct flowtab_flow *f, uint8_t table, uint16_t prio,
           uint64_t cookie)
{
    f->table = table;
    f->priority = prio;
    f->cookie = cookie;
    ofp_match_init(&f->match);
    ofp_instructions_init(&f->insts);
}

/* Keeps the first failure of a builder: an action list that grows past
 * OFP_MAX_ACTIONS (a FLOOD to thousands of ports) cannot be one message,
 * and the flow is refused whole rather than cut short. */
static void
acc(enum ofperr *first, enum ofperr e)
{
    if (e && !*first) {
        *first = e;
    }
}

/* The switch's own flows never hold more than two actions. */
static void
must(enum ofperr e)
{
    if (e) {
        abort();
    }
}

void
pipeline_vnet_infra(const struct pl_vnet_env *env, const struct pl_vnet *vs,
                    struct flowtab *out)
{
    for (size_t i = 0; i < vs->n_ports; i++) {
        const struct pl_vnet_port *p = &vs->ports[i];
        const struct pl_vm *v = view(env, p);
        struct flowtab_flow f;
        if (!v) {
            continue;
        }
        uint64_t cookie = pl_cookie(PL_K_VNET_INFRA, p->vm);
        if (pl_vnet_local(v)) {
            /* Its frames enter the tenant switch at port p. */
            flow_start(&f, PL_T_FROM_VM, PL_PRIO_VNET_DISPATCH, cookie);
            ofp_match_set(&f.match, OFP_F_IN_PORT, v->ofport);
            ofp_match_set(&f.match, OFP_F_TUNNEL_ID, vs->vni);
            f.insts.present = OFP_INST_METADATA | OFP_INST_GOTO;
            f.insts.metadata = pl_vnet_metadata(vs->active, p->port);
            f.insts.metadata_mask = UINT64_MAX;
            f.insts.goto_table = (uint8_t) (PL_T_VNET + (vs->active & 1));
            flowtab_put_new(out, &f);
            ofp_instructions_destroy(&f.insts);
        }
        /* What another node's tenant flows send to port p. */
        flow_start(&f, PL_T_FROM_TUN, PL_PRIO_VNET_DELIVER, cookie);
        ofp_match_set(&f.match, OFP_F_TUNNEL_ID, p->key);
        struct ofp_actions *a = ofp_instructions_apply(&f.insts);
        if (v->kind == PL_VM_RELAY && v->peer) {
            must(ofp_actions_set_field(a, OFP_F_TUN_IPV4_DST, v->peer));
            must(ofp_actions_output(a, OFPP_IN_PORT));
        } else if (v->ofport) {
            must(ofp_actions_output(a, v->ofport));
        }
        if (a->n) {
            flowtab_put_new(out, &f);
        }
        ofp_instructions_destroy(&f.insts);
    }
}

/* Output to tenant port 'p' from a frame that entered at port 'q'. */
static void
output_port(const struct pl_vnet_env *env, const struct pl_vnet_port *p,
            uint32_t q, struct ofp_actions *a, enum ofperr *e)
{
    if (p->port == q) {
        return; /* OpenFlow: never back out of the in_port (IN_PORT is) */
    }
    const struct pl_vm *v = view(env, p);
    if (!v) {
        return;
    }
    if (v->kind == PL_VM_LOCAL && v->ofport) {
        acc(e, ofp_actions_output(a, v->ofport));
    } else if ((v->kind == PL_VM_REMOTE || v->kind == PL_VM_RELAY)
               && v->peer && env->tunnel_port) {
        /* To the VM's node, keyed so that its directed delivery (table
         * 30) hands it to that port alone. */
        acc(e, ofp_actions_set_field(a, OFP_F_TUNNEL_ID, p->key));
        acc(e, ofp_actions_set_field(a, OFP_F_TUN_IPV4_DST, v->peer));
        acc(e, ofp_actions_output(a, env->tunnel_port));
    }
}

static const struct pl_vnet_port *
find_port(const struct pl_vnet *vs, uint32_t port)
{
    for (size_t i = 0; i < vs->n_ports; i++) {
        if (vs->ports[i].port == port) {
            return &vs->ports[i];
        }
    }
    return NULL;
}

/* The tenant actions of 'tf' for a frame that entered at 'q'. */
static enum ofperr
translate(const struct pl_vnet_env *env, const struct pl_vnet *vs,
          const struct pl_vnet_flow *tf, uint32_t q, struct ofp_actions *a)
{
    enum ofperr e = OFPERR_OK;
    for (size_t i = 0; i < tf->actions.n; i++) {
        const struct ofp_action *x = &tf->actions.a[i];
        if (x->type != OFP_ACT_OUTPUT) {
            continue; /* never decoded (pl_vnet_flow_decode) */
        }
        uint32_t port = x->output.port;
        if (port == OFPP_IN_PORT) {
            acc(&e, ofp_actions_output(a, OFPP_IN_PORT));
        } else if (port == OFPP_CONTROLLER) {
            /* The whole frame: mignetd cuts it to the tenant's max_len. */
            acc(&e, ofp_actions_controller(a, 0xffff));
        } else if (port == OFPP_FLOOD || port == OFPP_ALL) {
            for (size_t j = 0; j < vs->n_ports; j++) {
                output_port(env, &vs->ports[j], q, a, &e);
            }
        } else if (port < OFPP_MAX) {
            const struct pl_vnet_port *p = find_port(vs, port);
            if (p) {
                output_port(env, p, q, a, &e);
            }
        }
    }
    return e;
}

int
pipeline_vnet_flow(const struct pl_vnet_env *env, const struct pl_vnet *vs,
                   const struct pl_vnet_flow *tf, struct flowtab *out,
                   char *err, size_t err_size)
{
    uint64_t in_port = 0, mask;
    bool has_in = ofp_match_get(&tf->match, OFP_F_IN_PORT, &in_port, &mask);
    int error = 0;
    for (size_t i = 0; i < vs->n_ports; i++) {
        const struct pl_vnet_port *q = &vs->ports[i];
        if (has_in && q->port != in_port) {
            continue;
        }
        if (!pl_vnet_local(view(env, q))) {
            continue; /* its frames do not enter the switch here */
        }
        struct flowtab_flow f;
        flow_start(&f, (uint8_t) (PL_T_VNET + (tf->version & 1)),
                   tf->priority, pl_vnet_cookie(tf->version, tf->id));
        f.match = tf->match;
        f.match.present &= ~(UINT32_C(1) << OFP_F_IN_PORT);
        f.match.masked &= ~(UINT32_C(1) << OFP_F_IN_PORT);
        ofp_match_set(&f.match, OFP_F_TUNNEL_ID, vs->vni);
        ofp_match_set_masked(&f.match, OFP_F_METADATA, q->port,
                             UINT64_C(0xffffffff));
        struct ofp_actions *a = ofp_instructions_apply(&f.insts);
        enum ofperr built = translate(env, vs, tf, q->port, a);
        if (!a->n) {
            f.insts.present = 0; /* drop: as the switch reports it */
        }
        if (!built && ofp_flow_fits(&f.match, &f.insts)) {
            flowtab_put_new(out, &f);
        } else if (!error) {
            error = EMSGSIZE;
            if (err && err_size) {
                snprintf(err, err_size, "tenant flow %u version %llu "
                         "port %u: %zu actions are more than one flow_mod "
                         "holds", tf->id, (unsigned long long) tf->version,
                         q->port, a->n);
            }
        }
        ofp_instructions_destroy(&f.insts);
    }
    return error;
}

int
pipeline_vnet(const struct pl_vnet_env *env, const struct pl_vnet *vs,
              const struct pl_vnet_flow *flows, size_t n_flows,
              struct flowtab *out, char *err, size_t err_size)
{
    int error = 0;
    pipeline_vnet_infra(env, vs, out);
    for (size_t i = 0; i < n_flows; i++) {
        int e = pipeline_vnet_flow(env, vs, &flows[i], out,
                                   error ? NULL : err, err_size);
        if (e && !error) {
            error = e;
        }
    }
    return error;
}
