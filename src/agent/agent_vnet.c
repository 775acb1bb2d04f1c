/* agent_vnet.c: tenant virtual switches on this node (part of the
 * sans-I/O core, agent_core.h: no socket, no clock).
 *
 * It holds what mignetd pushed of each virtual switch (its VNI, active
 * version, tenant ports with their tunnel keys, tenant flows per
 * version), hands them to the flow engine as external owners -- one per
 * switch's infrastructure, one per tenant flow -- so that a change of
 * one tenant flow costs the flow_mods of that flow alone, and compiles
 * them with pipeline_vnet.c against the engine's VM views.  It turns the
 * switch's packet-ins into vnet_packet_in, tenant packet-outs into
 * packet_outs on the port's local ofport or its tunnel, and reads the
 * tenant flows' counters (periodically, on request, and one final time
 * before any of them is deleted) and each tenant port's tx where Open
 * vSwitch really delivers it: the counters of its VM's interface here,
 * from a base read before this node began delivering to it.  A push is
 * acknowledged only through
 * the barrier of the batch that installed it (ofctrl.c), like any
 * instruction. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_vnet.h"
#include "agent/flowtab.h"
#include "agent/pipeline_vnet.h"
#include "agent/pl_engine.h"
#include "lib/log.h"
#include "lib/util.h"

/* One tenant flow held. */
struct vflow {
    struct pl_vnet_flow f; /* id, version inside */
};

/* A tenant port's tx base: none yet, asked for, read. */
enum vtx_state { VTX_NONE, VTX_ASKED, VTX_BASED };

/* One tenant port held: the port, its VM, K(p); whether its frames
 * entered the switch here at the last look (for the final counters when
 * it leaves); the VM's interface here whose tx is the port's (0: none)
 * and that interface's counters when this node began delivering to it. */
struct vport {
    uint32_t port;
    char vm[MN_NAME_MAX + 1];
    uint32_t key;
    bool was_local;
    uint32_t tx_ofport;
    enum vtx_state tx_state;
    uint64_t tx_base_packets, tx_base_bytes;
};

/* A tenant port's tx as it was when a counter round was asked for. */
struct vtx_snap {
    char vs[MN_NAME_MAX + 1];
    uint32_t port, ofport;
    uint64_t base_packets, base_bytes;
};

/* A push being received (vnet_begin .. vnet_end). */
struct vpush {
    bool open;
    uint64_t seq;
    uint32_t vni;
    uint64_t active;
    bool full;
    struct vport *ports;
    size_t n_ports, cap_ports;
    struct vflow *flows; /* upserts */
    size_t n_flows, cap_flows;
    struct vdel {
        uint32_t id;
        uint64_t version;
    } *dels;
    size_t n_dels, cap_dels;
    enum ofperr error; /* the first flow that did not decode */
};

struct vswitch {
    char name[MN_NAME_MAX + 1];
    bool known; /* a push completed */
    uint32_t vni;
    uint64_t active;
    struct vport *ports;
    size_t n_ports;
    struct vflow *flows;
    size_t n_flows, cap_flows;
    struct vpush push;
};

/* What a counter read in flight asked for. */
enum vreq_kind {
    VREQ_FLOWS, /* the tenant flows (vnet_fstat): ends the round */
    VREQ_INFRA, /* the dispatch flows (vnet_pstat: rx) */
    VREQ_PORTS, /* the VM interfaces (vnet_ptx: tx) */
    VREQ_BASE,  /* one VM interface's tx base */
};

/* A counter read in flight: every switch (periodic: 'vs' ""), or one. */
struct vstats_req {
    struct agent_core *a;
    char vs[MN_NAME_MAX + 1];
    uint64_t seq;
    bool final;
    bool has_version; /* a vnet_drop's: that version only */
    uint64_t version;
    enum vreq_kind kind;
    struct vtx_snap *snap; /* VREQ_PORTS: the ports and their bases */
    size_t n_snap;
    uint32_t port, ofport; /* VREQ_BASE */
    /* One switch's: its VNI and active version when asked (it may be
     * removed before the answer: vnet_remove's final counters). */
    uint32_t vni;
    uint64_t active;
};

/* A push, drop or removal applied and waiting for the barrier of the
 * batch that carries it ('batch' 0: not sent yet). */
struct vseq {
    uint64_t seq;
    uint64_t batch; /* 0: not sent yet; VSEQ_IN_SYNC: in the sync under
                     * way, whose batch has no id yet */
};
#define VSEQ_IN_SYNC UINT64_MAX

struct agent_vnet {
    struct vswitch **sw;
    size_t n;
    struct vseq *seqs; /* in arrival order */
    size_t n_seqs, cap_seqs;
    bool await_push; /* the switch held tenant flows we know nothing of */
    /* Counters. */
    uint64_t packet_ins, packet_outs, stats_rounds, pushes, refused;
};

/* ---- Lookup ---- */

static struct vswitch *
sw_find(const struct agent_vnet *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++) {
        if (!strcmp(v->sw[i]->name, name)) {
            return v->sw[i];
        }
    }
    return NULL;
}

static struct vswitch *
sw_by_vni(const struct agent_vnet *v, uint32_t vni)
{
    for (size_t i = 0; i < v->n; i++) {
        if (v->sw[i]->known && v->sw[i]->vni == vni) {
            return v->sw[i];
        }
    }
    return NULL;
}

static struct vflow *
flow_find(struct vflow *flows, size_t n, uint32_t id, uint64_t version)
{
    for (size_t i = 0; i < n; i++) {
        if (flows[i].f.id == id && flows[i].f.version == version) {
            return &flows[i];
        }
    }
    return NULL;
}

static const struct vport *
port_find(const struct vswitch *s, uint32_t port)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        if (s->ports[i].port == port) {
            return &s->ports[i];
        }
    }
    return NULL;
}

/* ---- Engine owners: "SW" for a switch's infra, "SW/VERSION/ID" for a
 * tenant flow (a switch's name never holds '/'). ---- */

static void
owner_flow(char *buf, size_t size, const char *sw, uint64_t version,
           uint32_t id)
{
    snprintf(buf, size, "%s/%" PRIu64 "/%" PRIu32, sw, version, id);
}

static void
dirty_flow(struct agent_core *a, const struct vswitch *s,
           const struct vflow *f)
{
    char o[MN_NAME_MAX + 48];
    owner_flow(o, sizeof o, s->name, f->f.version, f->f.id);
    pl_engine_ext_dirty(a->engine, o);
}

static void
remove_flow_owner(struct agent_core *a, const struct vswitch *s,
                  const struct vflow *f)
{
    char o[MN_NAME_MAX + 48];
    owner_flow(o, sizeof o, s->name, f->f.version, f->f.id);
    pl_engine_ext_remove(a->engine, o);
}

/* Everything of 's' is to be compiled again (ports, active, a VM). */
static void
dirty_switch(struct agent_core *a, const struct vswitch *s)
{
    pl_engine_ext_dirty(a->engine, s->name);
    for (size_t i = 0; i < s->n_flows; i++) {
        dirty_flow(a, s, &s->flows[i]);
    }
}

static const struct pl_vm *
vm_view(void *aux, const char *vm)
{
    struct agent_core *a = aux;
    return pl_engine_find_vm(a->engine, vm);
}

/* The compile input of 's' ('ports' has room for s->n_ports). */
static void
compile_input(struct agent_core *a, const struct vswitch *s,
              struct pl_vnet_port *ports, struct pl_vnet_env *env,
              struct pl_vnet *vs)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        ports[i] = (struct pl_vnet_port){
            s->ports[i].port, s->ports[i].vm, s->ports[i].key};
    }
    *env = (struct pl_vnet_env){
        .tunnel_port = agent_port_lookup(a, a->opt.tunnel_port),
        .vm = vm_view, .aux = a};
    *vs = (struct pl_vnet){.vni = s->vni, .active = s->active,
                           .ports = ports, .n_ports = s->n_ports};
}

/* pl_engine hook: the flows of one owner. */
static int
gen_owner(void *aux, const char *owner, struct flowtab *out, char *err,
          size_t err_size)
{
    struct agent_core *a = aux;
    char name[MN_NAME_MAX + 1];
    const char *slash = strchr(owner, '/');
    size_t len = slash ? (size_t) (slash - owner) : strlen(owner);
    if (len >= sizeof name) {
        return 0;
    }
    memcpy(name, owner, len);
    name[len] = 0;
    const struct vswitch *s = sw_find(a->vnet, name);
    if (!s || !s->known) {
        return 0;
    }
    struct pl_vnet_port *ports = xcalloc(s->n_ports + 1, sizeof *ports);
    struct pl_vnet_env env;
    struct pl_vnet vs;
    int error = 0;
    compile_input(a, s, ports, &env, &vs);
    if (!slash) {
        pipeline_vnet_infra(&env, &vs, out);
    } else {
        uint64_t version = 0;
        uint32_t id = 0;
        if (sscanf(slash + 1, "%" SCNu64 "/%" SCNu32, &version, &id) == 2) {
            const struct vflow *f = flow_find(s->flows, s->n_flows, id,
                                              version);
            if (f) {
                error = pipeline_vnet_flow(&env, &vs, &f->f, out, err,
                                           err_size);
            }
        }
    }
    free(ports);
    return error;
}

/* ---- Lifecycle ---- */

struct agent_vnet *
agent_vnet_create(struct agent_core *a)
{
    struct agent_vnet *v = xcalloc(1, sizeof *v);
    pl_engine_set_ext(a->engine, gen_owner, a);
    return v;
}

static void
push_clear(struct vpush *p)
{
    for (size_t i = 0; i < p->n_flows; i++) {
        pl_vnet_flow_destroy(&p->flows[i].f);
    }
    p->n_flows = 0;
    p->n_ports = 0;
    p->n_dels = 0;
    p->open = false;
    p->error = OFPERR_OK;
}

static void
sw_free(struct vswitch *s)
{
    push_clear(&s->push);
    free(s->push.ports);
    free(s->push.flows);
    free(s->push.dels);
    for (size_t i = 0; i < s->n_flows; i++) {
        pl_vnet_flow_destroy(&s->flows[i].f);
    }
    free(s->flows);
    free(s->ports);
    free(s);
}

void
agent_vnet_destroy(struct agent_vnet *v)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        sw_free(v->sw[i]);
    }
    free(v->sw);
    free(v->seqs);
    free(v);
}

size_t
agent_vnet_count(const struct agent_vnet *v)
{
    return v->n;
}

/* ---- Counters: flow statistics of the tenant flows ---- */

static void
send_msg(struct agent_core *a, const struct chan_msg *m)
{
    (void) chan_client_send(a->chan, m, agent_core_ms(a), &a->chan_out);
}

/* The full version of a tenant flow of 's' whose cookie says 'lo' (its
 * low byte) and whose dispatch said 'hi32' (its low 32 bits, or none):
 * the held flow's, else 'lo' as it is. */
static uint64_t
full_version(const struct vswitch *s, uint32_t id, uint8_t lo)
{
    for (size_t i = 0; i < s->n_flows; i++) {
        const struct pl_vnet_flow *f = &s->flows[i].f;
        if (f->id == id && (f->version & 0xff) == lo) {
            return f->version;
        }
    }
    if ((s->active & 0xff) == lo) {
        return s->active;
    }
    return (s->active & ~UINT64_C(0xff)) | lo;
}

static void stats_reply(void *aux, const struct ofp_msg *msg, bool last);

static void
req_free(struct vstats_req *r)
{
    free(r->snap);
    free(r);
}

static void
port_stats_request(struct ofp_msg *req, uint32_t ofport)
{
    ofp_msg_init(req, OFPT_MULTIPART_REQUEST, 0);
    req->mp.type = OFPMP_PORT_STATS;
    req->mp.port_no = ofport;
}

/* The ports of 'vs' ("" = every switch) whose tx is read here (from
 * interface 'ofport' only, unless 0), with their bases as they are now. */
static size_t
snap_tx(const struct agent_vnet *v, const char *vs, uint32_t ofport,
        struct vtx_snap **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const struct vswitch *s = v->sw[i];
        if (!s->known || (vs[0] && strcmp(vs, s->name))) {
            continue;
        }
        for (size_t j = 0; j < s->n_ports; j++) {
            const struct vport *vp = &s->ports[j];
            if (!vp->tx_ofport || vp->tx_state != VTX_BASED
                || (ofport && vp->tx_ofport != ofport)) {
                continue;
            }
            *out = xgrow(*out, &cap, n + 1, sizeof **out);
            struct vtx_snap *e = &(*out)[n++];
            snprintf(e->vs, sizeof e->vs, "%s", s->name);
            e->port = vp->port;
            e->ofport = vp->tx_ofport;
            e->base_packets = vp->tx_base_packets;
            e->base_bytes = vp->tx_base_bytes;
        }
    }
    return n;
}

/* Asks for the tx of the ports of 'vs' ("" = every switch) read from
 * interface 'ofport' (0: any): one port statistics request, answered by
 * vnet_ptx.  Returns false when the request could not be sent (nothing
 * to read is not a failure). */
static bool
ask_tx(struct agent_core *a, const char *vs, uint32_t ofport)
{
    struct vtx_snap *snap;
    size_t n = a->of_ready ? snap_tx(a->vnet, vs, ofport, &snap) : 0;
    if (!n) {
        return true;
    }
    struct vstats_req *r = xcalloc(1, sizeof *r);
    r->a = a;
    r->kind = VREQ_PORTS;
    r->snap = snap;
    r->n_snap = n;
    struct ofp_msg req;
    port_stats_request(&req, ofport ? ofport : OFPP_ANY);
    if (ofconn_request(a->of, &req, stats_reply, r, NULL)) {
        req_free(r);
        return false;
    }
    return true;
}

/* Asks for the counters of every tenant flow (cookie kind PL_K_VNET), of
 * the dispatch flows (PL_K_VNET_INFRA) and of the tenant ports' VM
 * interfaces here, for 'vs' ("" = every switch), reported with 'seq' and
 * 'final'.  Returns false when nothing could be asked (no bridge, no such
 * switch): no vnet_stats_end will come. */
static bool
request(struct agent_core *a, const char *vs, uint64_t seq, bool final,
        const uint64_t *version)
{
    if (!a->of_ready) {
        return false; /* nothing to read: counts since the last are lost */
    }
    const struct vswitch *s = vs[0] ? sw_find(a->vnet, vs) : NULL;
    if (vs[0] && (!s || !s->known)) {
        return false;
    }
    /* The interfaces and the dispatch flows first: the tenant flows'
     * answer ends the round (Open vSwitch answers in order).  A version's
     * read (vnet_drop) is about that version's flows alone. */
    if (!version && !ask_tx(a, vs, 0)) {
        return false;
    }
    for (int k = VREQ_INFRA; k >= VREQ_FLOWS; k--) {
        struct vstats_req *r = xcalloc(1, sizeof *r);
        r->a = a;
        snprintf(r->vs, sizeof r->vs, "%s", vs);
        if (s) {
            r->vni = s->vni;
            r->active = s->active;
        }
        r->seq = seq;
        r->final = final;
        r->kind = (enum vreq_kind) k;
        if (version) {
            r->has_version = true;
            r->version = *version;
        }
        struct ofp_msg req;
        if (k == VREQ_INFRA) {
            ofctrl_flow_stats_request(&req, pl_cookie_kind(PL_K_VNET_INFRA),
                                      PL_COOKIE_KIND_MASK);
            req.mp.flow_req.table_id = PL_T_FROM_VM;
        } else if (version) {
            ofctrl_flow_stats_request(
                &req, pl_vnet_cookie(*version, 0),
                PL_COOKIE_KIND_MASK | (UINT64_C(0xff) << 32));
            req.mp.flow_req.table_id =
                (uint8_t) (PL_T_VNET + (*version & 1));
        } else {
            ofctrl_flow_stats_request(&req, pl_cookie_kind(PL_K_VNET),
                                      PL_COOKIE_KIND_MASK);
        }
        if (ofconn_request(a->of, &req, stats_reply, r, NULL)) {
            req_free(r);
            return false;
        }
    }
    return true;
}

/* ---- Counters: each tenant port's tx, where it is delivered ---- */

static uint32_t
port_ofport(struct agent_core *a, const struct vport *vp)
{
    const struct pl_vm *v = pl_engine_find_vm(a->engine, vp->vm);
    return v ? v->ofport : 0;
}

/* Asks for the counters of 'vp''s VM interface before anything sent after
 * this: what it had counted before this node delivered to it. */
static void
ask_base(struct agent_core *a, const struct vswitch *s, struct vport *vp)
{
    vp->tx_state = VTX_NONE;
    if (!a->of_ready) {
        return; /* asked again at the next look */
    }
    struct vstats_req *r = xcalloc(1, sizeof *r);
    r->a = a;
    snprintf(r->vs, sizeof r->vs, "%s", s->name);
    r->kind = VREQ_BASE;
    r->port = vp->port;
    r->ofport = vp->tx_ofport;
    struct ofp_msg req;
    port_stats_request(&req, vp->tx_ofport);
    if (ofconn_request(a->of, &req, stats_reply, r, NULL)) {
        req_free(r);
        return;
    }
    vp->tx_state = VTX_ASKED;
}

/* Follows the VM interface of each port of 's': one that changed (or
 * whose base is still to be read) gets its base asked for. */
static void
track_tx(struct agent_core *a, struct vswitch *s)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        struct vport *vp = &s->ports[i];
        uint32_t of = port_ofport(a, vp);
        if (of != vp->tx_ofport) {
            vp->tx_ofport = of;
            vp->tx_state = VTX_NONE;
        }
        if (vp->tx_ofport && vp->tx_state == VTX_NONE) {
            ask_base(a, s, vp);
        }
    }
}

void
agent_vnet_link_down(struct agent_core *a, uint32_t ofport)
{
    (void) ask_tx(a, "", ofport);
}

/* Whether a port of 's' whose VM is 'vm' reads its tx from an interface
 * other than the one it has now. */
static bool
tx_moves(struct agent_core *a, const struct vswitch *s, const char *vm)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct vport *vp = &s->ports[i];
        if (!strcmp(vm, vp->vm) && vp->tx_ofport
            && vp->tx_ofport != port_ofport(a, vp)) {
            return true;
        }
    }
    return false;
}

/* The port a base request (VREQ_BASE) was for, if it still waits for
 * that answer. */
static struct vport *
base_port(const struct vstats_req *r)
{
    struct vswitch *s = sw_find(r->a->vnet, r->vs);
    for (size_t i = 0; s && i < s->n_ports; i++) {
        struct vport *vp = &s->ports[i];
        if (vp->port == r->port) {
            return vp->tx_ofport == r->ofport && vp->tx_state == VTX_ASKED
                       ? vp : NULL; /* else asked again meanwhile */
        }
    }
    return NULL;
}

/* One interface's counters in a round's answer: the tx of each tenant
 * port read from it, less its base. */
static void
emit_ptx(struct vstats_req *r, const struct ofp_port_stats *ps)
{
    for (size_t i = 0; i < r->n_snap; i++) {
        const struct vtx_snap *e = &r->snap[i];
        if (e->ofport != ps->port_no) {
            continue;
        }
        struct chan_msg m;
        chan_msg_init(&m, CHAN_VNET_PTX);
        snprintf(m.vswitch, sizeof m.vswitch, "%s", e->vs);
        m.port = e->port;
        /* Below the base: the interface was made again (its counters
         * restarted), which mignetd counts as a restart. */
        m.packets = ps->tx_packets >= e->base_packets
                        ? ps->tx_packets - e->base_packets
                        : ps->tx_packets;
        m.bytes = ps->tx_bytes >= e->base_bytes ? ps->tx_bytes - e->base_bytes
                                                : ps->tx_bytes;
        send_msg(r->a, &m);
    }
}

/* A port statistics reply (NULL: the connection ended): a base
 * (VREQ_BASE) or a round's tx (VREQ_PORTS). */
static void
port_stats_reply(struct vstats_req *r, const struct ofp_msg *msg)
{
    struct vport *vp = NULL;
    if (r->kind == VREQ_BASE) {
        if (!(vp = base_port(r))) {
            return;
        }
        if (!msg) {
            vp->tx_state = VTX_NONE; /* asked again at the next look */
            return;
        }
        vp->tx_base_packets = vp->tx_base_bytes = 0; /* no such port: 0 */
        vp->tx_state = VTX_BASED;
    }
    if (!msg || msg->type != OFPT_MULTIPART_REPLY
        || msg->mp.type != OFPMP_PORT_STATS) {
        return;
    }
    struct ofp_mp_iter it;
    struct ofp_port_stats ps;
    ofp_mp_iter_init(&it, &msg->mp);
    while (ofp_port_stats_next(&it, &ps)) {
        if (!vp) {
            emit_ptx(r, &ps);
        } else if (ps.port_no == r->ofport) {
            vp->tx_base_packets = ps.tx_packets;
            vp->tx_base_bytes = ps.tx_bytes;
        }
    }
}

static void
emit_end(struct agent_core *a, const char *vs, uint64_t seq, bool final)
{
    struct chan_msg m;
    chan_msg_init(&m, CHAN_VNET_STATS_END);
    snprintf(m.vswitch, sizeof m.vswitch, "%s", vs);
    m.seq = seq;
    m.final = final;
    send_msg(a, &m);
}

/* One entry of a counter reply. */
static void
stats_entry(struct vstats_req *r, const struct ofp_flow_stats *fs)
{
    struct agent_core *a = r->a;
    uint64_t vni, meta, mask;
    if (!ofp_match_get(&fs->match, OFP_F_TUNNEL_ID, &vni, &mask)) {
        return;
    }
    const struct vswitch *s;
    if (r->vs[0]) {
        if (vni != r->vni) {
            return;
        }
        s = sw_find(a->vnet, r->vs); /* NULL once removed */
    } else if (!(s = sw_by_vni(a->vnet, (uint32_t) vni))) {
        return;
    }
    const char *name = s ? s->name : r->vs;
    struct chan_msg m;
    if (r->kind == VREQ_INFRA) {
        /* A dispatch flow: its tenant port is in the metadata it writes;
         * what it counted entered the switch (rx). */
        if (fs->table_id != PL_T_FROM_VM
            || !(fs->insts.present & OFP_INST_METADATA)) {
            return;
        }
        chan_msg_init(&m, CHAN_VNET_PSTAT);
        m.port = (uint32_t) fs->insts.metadata;
    } else {
        uint8_t lo;
        uint32_t id;
        if (!pl_vnet_cookie_parse(fs->cookie, &lo, &id)
            || !ofp_match_get(&fs->match, OFP_F_METADATA, &meta, &mask)) {
            return;
        }
        chan_msg_init(&m, CHAN_VNET_FSTAT);
        m.flow_id = id;
        m.version = r->has_version && (r->version & 0xff) == lo
                        ? r->version
                    : s ? full_version(s, id, lo)
                        : (r->active & ~UINT64_C(0xff)) | lo;
        m.port = (uint32_t) meta;
    }
    snprintf(m.vswitch, sizeof m.vswitch, "%s", name);
    m.packets = fs->packet_count;
    m.bytes = fs->byte_count;
    send_msg(a, &m);
}

/* ofconn reply hook: a part of a counter reply, an error, or NULL when
 * the connection ended.  The tenant flows' request ends the round: one
 * vnet_stats_end per switch (or the one asked for); a periodic round cut
 * by the connection's end just stops. */
static void
stats_reply(void *aux, const struct ofp_msg *msg, bool last)
{
    struct vstats_req *r = aux;
    struct agent_core *a = r->a;
    if (r->kind == VREQ_PORTS || r->kind == VREQ_BASE) {
        port_stats_reply(r, msg);
        if (!msg || last) {
            req_free(r);
        }
        return;
    }
    if (msg && msg->type == OFPT_MULTIPART_REPLY
        && msg->mp.type == OFPMP_FLOW) {
        struct ofp_mp_iter it;
        struct ofp_flow_stats fs = {0};
        ofp_mp_iter_init(&it, &msg->mp);
        while (ofp_flow_stats_next(&it, &fs)) {
            stats_entry(r, &fs);
        }
        ofp_flow_stats_destroy(&fs);
    }
    if (msg && !last) {
        return;
    }
    /* The round ends even when the bridge's connection did (msg NULL):
     * mignetd waits for the end of a round it asked for. */
    if (r->kind == VREQ_FLOWS && (msg || r->seq || r->final)) {
        for (size_t i = 0; i < a->vnet->n; i++) {
            const struct vswitch *s = a->vnet->sw[i];
            if (s->known && (!r->vs[0] || !strcmp(r->vs, s->name))) {
                emit_end(a, s->name, r->seq, r->final);
            }
        }
        if (r->vs[0] && !sw_find(a->vnet, r->vs)) {
            emit_end(a, r->vs, r->seq, r->final); /* removed meanwhile */
        }
    }
    req_free(r);
}

void
agent_vnet_stats(struct agent_core *a)
{
    bool any = false;
    for (size_t i = 0; i < a->vnet->n; i++) {
        struct vswitch *s = a->vnet->sw[i];
        if (s->known) {
            any = true;
            track_tx(a, s); /* a base the connection's end cut */
        }
    }
    if (any) {
        a->vnet->stats_rounds++;
        (void) request(a, "", 0, false, NULL);
    }
}

/* ---- Acknowledgements ----
 *
 * The seqs of vnet_end, vnet_drop and vnet_remove are mignetd's vnet
 * module's own (from 2^62 up, never an instruction's): each is answered
 * exactly -- ack {seq} once the barrier of the batch that carries it came
 * back with no error, nack {seq, ofp_error} when that batch was refused
 * -- and never by the instructions' cumulative acks (chan_client). */

static void
answer(struct agent_core *a, uint64_t seq, bool nack, uint16_t type,
       uint16_t code)
{
    struct chan_msg m;
    chan_msg_init(&m, nack ? CHAN_NACK : CHAN_ACK);
    m.seq = seq;
    m.ofp_type = type;
    m.ofp_code = code;
    send_msg(a, &m);
}

/* 'seq' is applied: the next batch carries it. */
static void
applied(struct agent_core *a, uint64_t seq)
{
    struct agent_vnet *v = a->vnet;
    v->seqs = xgrow(v->seqs, &v->cap_seqs, v->n_seqs + 1, sizeof *v->seqs);
    v->seqs[v->n_seqs++] = (struct vseq){seq, 0};
    agent_schedule_sync(a);
}

/* A sync began: the changes received so far go with its batch. */
void
agent_vnet_batch_begin(struct agent_core *a)
{
    struct agent_vnet *v = a->vnet;
    for (size_t i = 0; i < v->n_seqs; i++) {
        if (!v->seqs[i].batch) {
            v->seqs[i].batch = VSEQ_IN_SYNC;
        }
    }
}

void
agent_vnet_batch_sent(struct agent_core *a, uint64_t batch)
{
    struct agent_vnet *v = a->vnet;
    for (size_t i = 0; i < v->n_seqs; i++) {
        if (v->seqs[i].batch == VSEQ_IN_SYNC) {
            v->seqs[i].batch = batch;
        }
    }
}

void
agent_vnet_batch_done(struct agent_core *a, uint64_t batch, bool confirmed,
                      bool refused, uint16_t type, uint16_t code)
{
    struct agent_vnet *v = a->vnet;
    size_t j = 0;
    for (size_t i = 0; i < v->n_seqs; i++) {
        struct vseq *q = &v->seqs[i];
        if (q->batch && q->batch <= batch && (confirmed || refused)) {
            answer(a, q->seq, refused, type, code);
            continue;
        }
        if (q->batch && q->batch <= batch) {
            q->batch = 0; /* not confirmed (lost, or after a failure):
                           * the next batch carries it again */
            agent_schedule_sync(a);
        }
        v->seqs[j++] = *q;
    }
    v->n_seqs = j;
}

struct vnet_read {
    bool any;
};

static void
find_vnet(void *aux, const struct flowtab_flow *f)
{
    struct vnet_read *r = aux;
    uint64_t k = f->cookie & PL_COOKIE_KIND_MASK;
    r->any |= k == pl_cookie_kind(PL_K_VNET)
              || k == pl_cookie_kind(PL_K_VNET_INFRA);
}

void
agent_vnet_flows_read(struct agent_core *a, bool ok)
{
    struct vnet_read r = {false};
    if (ok && !a->vnet->n) {
        flowtab_walk(a->installed, find_vnet, &r);
    }
    a->vnet->await_push = r.any;
}

bool
agent_vnet_awaited(const struct agent_core *a)
{
    return a->vnet->await_push;
}

void
agent_vnet_session(struct agent_core *a)
{
    a->vnet->n_seqs = 0; /* a new session: mignetd pushes again */
}

/* ---- Pushes and instructions ---- */

static struct vswitch *
sw_get(struct agent_vnet *v, const char *name)
{
    struct vswitch *s = sw_find(v, name);
    if (!s) {
        s = xcalloc(1, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", name);
        v->sw = xrealloc(v->sw, (v->n + 1) * sizeof *v->sw);
        v->sw[v->n++] = s;
    }
    return s;
}

void
agent_vnet_begin(struct agent_core *a, const char *vs, uint32_t vni,
                 uint64_t active, uint64_t seq, bool full)
{
    struct vswitch *s = sw_get(a->vnet, vs);
    push_clear(&s->push);
    s->push.open = true;
    s->push.seq = seq;
    s->push.vni = vni;
    s->push.active = active;
    s->push.full = full;
}

void
agent_vnet_port(struct agent_core *a, const char *vs, uint32_t port,
                const char *vm, uint32_t key)
{
    struct vswitch *s = sw_find(a->vnet, vs);
    if (!s || !s->push.open) {
        log_write(LOG_WARN, "agent", "event=vnet_out_of_push node=%s "
                  "vswitch=%s what=port", a->opt.node, vs);
        return;
    }
    struct vpush *p = &s->push;
    p->ports = xgrow(p->ports, &p->cap_ports, p->n_ports + 1,
                     sizeof *p->ports);
    struct vport *vp = &p->ports[p->n_ports++];
    memset(vp, 0, sizeof *vp);
    vp->port = port;
    snprintf(vp->vm, sizeof vp->vm, "%s", vm);
    vp->key = key;
}

void
agent_vnet_flow(struct agent_core *a, const char *vs, uint32_t id,
                uint64_t version, const uint8_t *ofp, size_t len)
{
    struct vswitch *s = sw_find(a->vnet, vs);
    if (!s || !s->push.open) {
        log_write(LOG_WARN, "agent", "event=vnet_out_of_push node=%s "
                  "vswitch=%s what=flow", a->opt.node, vs);
        return;
    }
    struct vpush *p = &s->push;
    struct pl_vnet_flow f;
    enum ofperr e = pl_vnet_flow_decode(ofp, len, &f);
    if (e) {
        if (!p->error) {
            p->error = e;
        }
        log_write(LOG_WARN, "agent", "event=vnet_flow_refused node=%s "
                  "vswitch=%s id=%" PRIu32 " version=%" PRIu64
                  " error=%s", a->opt.node, vs, id, version,
                  ofperr_name(e));
        return;
    }
    f.id = id;
    f.version = version;
    struct vflow *old = flow_find(p->flows, p->n_flows, id, version);
    if (old) {
        pl_vnet_flow_destroy(&old->f);
        old->f = f;
        return;
    }
    p->flows = xgrow(p->flows, &p->cap_flows, p->n_flows + 1,
                     sizeof *p->flows);
    p->flows[p->n_flows++].f = f;
}

void
agent_vnet_flow_del(struct agent_core *a, const char *vs, uint32_t id,
                    uint64_t version)
{
    struct vswitch *s = sw_find(a->vnet, vs);
    if (!s || !s->push.open) {
        return;
    }
    struct vpush *p = &s->push;
    p->dels = xgrow(p->dels, &p->cap_dels, p->n_dels + 1, sizeof *p->dels);
    p->dels[p->n_dels++] = (struct vdel){id, version};
}

/* Removes held flow 'i' of 's' (its owner goes at the next run). */
static void
drop_flow(struct agent_core *a, struct vswitch *s, size_t i)
{
    remove_flow_owner(a, s, &s->flows[i]);
    pl_vnet_flow_destroy(&s->flows[i].f);
    s->flows[i] = s->flows[--s->n_flows];
}

static bool
ports_equal(const struct vswitch *s, const struct vpush *p)
{
    if (s->n_ports != p->n_ports) {
        return false;
    }
    for (size_t i = 0; i < s->n_ports; i++) {
        if (s->ports[i].port != p->ports[i].port
            || s->ports[i].key != p->ports[i].key
            || strcmp(s->ports[i].vm, p->ports[i].vm)) {
            return false;
        }
    }
    return true;
}

static int
port_cmp(const void *a_, const void *b_)
{
    const struct vport *a = a_, *b = b_;
    return a->port < b->port ? -1 : a->port > b->port;
}

/* Whether 'vp''s frames enter the switch here now. */
static bool
port_local(struct agent_core *a, const struct vport *vp)
{
    return pl_vnet_local(pl_engine_find_vm(a->engine, vp->vm));
}

void
agent_vnet_end(struct agent_core *a, const char *vs, uint64_t seq)
{
    struct vswitch *s = sw_find(a->vnet, vs);
    if (!s || !s->push.open) {
        log_write(LOG_WARN, "agent", "event=vnet_out_of_push node=%s "
                  "vswitch=%s what=end", a->opt.node, vs);
        return;
    }
    struct vpush *p = &s->push;
    if (p->error) {
        /* Nothing of the push is applied: the switch keeps its state. */
        a->vnet->refused++;
        answer(a, seq, true, ofperr_type(p->error), ofperr_code(p->error));
        push_clear(p);
        if (!s->known) {
            agent_vnet_remove_now(a, vs);
        }
        return;
    }
    a->vnet->pushes++;
    a->vnet->await_push = false;
    qsort(p->ports, p->n_ports, sizeof *p->ports, port_cmp);
    /* The tenant flows' compile reads the VNI and the ports, not the
     * active version: the flip recomputes the dispatch alone. */
    bool all = !s->known || s->vni != p->vni || !ports_equal(s, p);
    bool flip = s->known && s->active != p->active;
    /* Ports that stop entering the switch here report their counters one
     * last time before their flows go (the request precedes the batch). */
    if (s->known && !ports_equal(s, p)) {
        (void) request(a, s->name, 0, true, NULL);
    }
    s->vni = p->vni;
    s->active = p->active;
    struct vport *prev = s->ports;
    size_t n_prev = s->n_ports;
    s->ports = xcalloc(p->n_ports + 1, sizeof *s->ports);
    if (p->n_ports) {
        memcpy(s->ports, p->ports, p->n_ports * sizeof *p->ports);
    }
    s->n_ports = p->n_ports;
    for (size_t i = 0; i < s->n_ports; i++) {
        struct vport *vp = &s->ports[i];
        vp->was_local = port_local(a, vp);
        for (size_t j = 0; j < n_prev; j++) {
            const struct vport *o = &prev[j];
            if (o->port == vp->port && !strcmp(o->vm, vp->vm)) {
                vp->tx_ofport = o->tx_ofport; /* its tx goes on */
                vp->tx_state = o->tx_state;
                vp->tx_base_packets = o->tx_base_packets;
                vp->tx_base_bytes = o->tx_base_bytes;
            }
        }
    }
    free(prev);
    track_tx(a, s); /* new interfaces' bases: before the batch */
    for (size_t i = 0; i < p->n_dels; i++) {
        for (size_t j = 0; j < s->n_flows; j++) {
            if (s->flows[j].f.id == p->dels[i].id
                && s->flows[j].f.version == p->dels[i].version) {
                drop_flow(a, s, j);
                break;
            }
        }
    }
    if (p->full) {
        for (size_t j = s->n_flows; j-- > 0;) {
            if (!flow_find(p->flows, p->n_flows, s->flows[j].f.id,
                           s->flows[j].f.version)) {
                drop_flow(a, s, j);
            }
        }
    }
    for (size_t i = 0; i < p->n_flows; i++) {
        struct pl_vnet_flow *nf = &p->flows[i].f;
        struct vflow *old = flow_find(s->flows, s->n_flows, nf->id,
                                      nf->version);
        if (old) {
            if (!pl_vnet_flow_equal(&old->f, nf)) {
                pl_vnet_flow_destroy(&old->f);
                old->f = *nf;
                ofp_actions_init(&nf->actions); /* moved */
                dirty_flow(a, s, old);
            }
            continue;
        }
        s->flows = xgrow(s->flows, &s->cap_flows, s->n_flows + 1,
                         sizeof *s->flows);
        s->flows[s->n_flows].f = *nf;
        ofp_actions_init(&nf->actions);
        dirty_flow(a, s, &s->flows[s->n_flows]);
        s->n_flows++;
    }
    s->known = true;
    if (all) {
        dirty_switch(a, s);
    } else if (flip) {
        pl_engine_ext_dirty(a->engine, s->name);
    }
    push_clear(p);
    applied(a, seq); /* the barrier of the next batch acknowledges it */
}

void
agent_vnet_drop(struct agent_core *a, const char *vs, uint64_t version,
                uint64_t seq)
{
    struct vswitch *s = sw_find(a->vnet, vs);
    /* The final counters of that version, read before the batch that
     * deletes its flows (OpenFlow keeps the order); without a bridge (or
     * a switch) there are none, and the round still ends. */
    if (!request(a, vs, seq, true, &version)) {
        emit_end(a, vs, seq, true);
    }
    for (size_t j = s ? s->n_flows : 0; j-- > 0;) {
        if (s->flows[j].f.version == version) {
            drop_flow(a, s, j);
        }
    }
    applied(a, seq);
}

void
agent_vnet_remove_now(struct agent_core *a, const char *vs)
{
    struct agent_vnet *v = a->vnet;
    for (size_t i = 0; i < v->n; i++) {
        struct vswitch *s = v->sw[i];
        if (strcmp(s->name, vs)) {
            continue;
        }
        while (s->n_flows) {
            drop_flow(a, s, s->n_flows - 1);
        }
        pl_engine_ext_remove(a->engine, s->name);
        sw_free(s);
        v->sw[i] = v->sw[--v->n];
        return;
    }
}

void
agent_vnet_remove(struct agent_core *a, const char *vs, uint64_t seq)
{
    if (!request(a, vs, seq, true, NULL)) {
        emit_end(a, vs, seq, true);
    }
    agent_vnet_remove_now(a, vs);
    applied(a, seq);
}

void
agent_vnet_stats_req(struct agent_core *a, const char *vs, uint64_t seq)
{
    if (!request(a, vs, seq, false, NULL)) {
        emit_end(a, vs, seq, false); /* nothing to read: the round ends */
    }
}

/* ---- Frames ---- */

int
agent_vnet_packet_out(struct agent_core *a, const char *vs, uint32_t port,
                      const uint8_t *frame, size_t len)
{
    const struct vswitch *s = sw_find(a->vnet, vs);
    const struct vport *vp = s ? port_find(s, port) : NULL;
    if (!vp) {
        return ENOENT;
    }
    const struct pl_vm *v = pl_engine_find_vm(a->engine, vp->vm);
    uint32_t tunnel = agent_port_lookup(a, a->opt.tunnel_port);
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_PACKET_OUT, 0);
    msg.packet_out.buffer_id = OFP_NO_BUFFER;
    msg.packet_out.in_port = OFPP_CONTROLLER;
    msg.packet_out.data = frame;
    msg.packet_out.data_len = len;
    struct ofp_actions *acts = &msg.packet_out.actions;
    enum ofperr e = OFPERR_OK;
    if (v && v->kind == PL_VM_LOCAL && v->ofport) {
        e = ofp_actions_output(acts, v->ofport);
    } else if (v && (v->kind == PL_VM_REMOTE || v->kind == PL_VM_RELAY)
               && v->peer && tunnel) {
        /* To the VM's node, keyed for its directed delivery. */
        e = ofp_actions_set_field(acts, OFP_F_TUNNEL_ID, vp->key);
        if (!e) {
            e = ofp_actions_set_field(acts, OFP_F_TUN_IPV4_DST, v->peer);
        }
        if (!e) {
            e = ofp_actions_output(acts, tunnel);
        }
    } else {
        ofp_msg_destroy(&msg);
        return EHOSTUNREACH;
    }
    int error = 0;
    if (e || !a->of_ready || ofconn_send(a->of, &msg, NULL)) {
        error = ENOTCONN;
    } else {
        a->vnet->packet_outs++;
    }
    ofp_msg_destroy(&msg);
    return error;
}

bool
agent_vnet_packet_in(struct agent_core *a, const struct ofp_packet_in *pi)
{
    uint8_t lo;
    uint32_t id;
    if (!pl_vnet_cookie_parse(pi->cookie, &lo, &id)) {
        return false;
    }
    uint64_t vni, meta, mask;
    const struct vswitch *s = NULL;
    if (ofp_match_get(&pi->match, OFP_F_TUNNEL_ID, &vni, &mask)) {
        s = sw_by_vni(a->vnet, (uint32_t) vni);
    }
    if (!s || !ofp_match_get(&pi->match, OFP_F_METADATA, &meta, &mask)) {
        log_write(LOG_DBG, "agent", "event=vnet_packet_in_unknown node=%s "
                  "cookie=0x%016" PRIx64, a->opt.node, pi->cookie);
        return true;
    }
    struct chan_msg m;
    chan_msg_init(&m, CHAN_VNET_PACKET_IN);
    snprintf(m.vswitch, sizeof m.vswitch, "%s", s->name);
    m.port = (uint32_t) meta;
    m.flow_id = id;
    /* The version the dispatch chose (metadata's upper half), when it is
     * the cookie's; else the held flow's. */
    uint64_t hi = meta >> 32;
    m.version = (hi & 0xff) == lo && (s->active & 0xffffffff) == hi
                    ? s->active
                    : full_version(s, id, lo);
    m.total_len = pi->total_len ? pi->total_len : (uint32_t) pi->data_len;
    m.frame_len = pi->data_len < sizeof m.frame ? pi->data_len
                                                 : sizeof m.frame;
    memcpy(m.frame, pi->data, m.frame_len);
    send_msg(a, &m);
    a->vnet->packet_ins++;
    return true;
}

/* ---- VM views ---- */

void
agent_vnet_vm_changed(struct agent_core *a, const char *vm)
{
    struct agent_vnet *v = a->vnet;
    for (size_t i = 0; i < v->n; i++) {
        struct vswitch *s = v->sw[i];
        bool uses = false, leaves = false;
        for (size_t j = 0; j < s->n_ports; j++) {
            struct vport *vp = &s->ports[j];
            if (strcmp(vp->vm, vm)) {
                continue;
            }
            uses = true;
            bool now = port_local(a, vp);
            leaves |= vp->was_local && !now;
            vp->was_local = now;
        }
        if (!uses || !s->known) {
            continue;
        }
        if (leaves || tx_moves(a, s, vm)) {
            /* Its flows go with the batch this sync sends, or its tx is
             * read elsewhere from now on: the last counters first. */
            (void) request(a, s->name, 0, true, NULL);
        }
        track_tx(a, s);
        dirty_switch(a, s);
    }
}

void
agent_vnet_get_stats(const struct agent_core *a, struct agent_vnet_stats *st)
{
    const struct agent_vnet *v = a->vnet;
    memset(st, 0, sizeof *st);
    st->switches = v->n;
    for (size_t i = 0; i < v->n; i++) {
        st->flows += v->sw[i]->n_flows;
    }
    st->packet_ins = v->packet_ins;
    st->packet_outs = v->packet_outs;
    st->stats_rounds = v->stats_rounds;
    st->pushes = v->pushes;
    st->refused = v->refused;
}
