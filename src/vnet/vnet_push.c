/* vnet_push.c: what the nodes hosting a virtual switch are told, and when
 * a change counts as done.
 *
 * A push is vnet_begin, the vnet_port lines, vnet_flow or vnet_flow_del
 * lines, vnet_end, answered by ack/nack of its seq.  A node that
 * (re)connects or starts hosting gets a full push; outside an ensemble,
 * accepted flow-mods go out as incremental pushes of version 'active';
 * while split, each batch is a two-phase round: the whole table as version
 * a+1 (stage), then active = a+1 (flip), then vnet_drop a -- each phase
 * once every up hosting node acked the previous one.  A change is
 * committed (barrier replies) once every up node acked the push that
 * holds it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "vnet/vnet_private.h"

/* ---- Snapshots: the encoded flows of a version. ----------------------- */

void
vsnap_clear(struct vsnap *sn)
{
    for (size_t i = 0; i < sn->n; i++) {
        free(sn->f[i].ofp);
    }
    sn->n = 0;
}

static void
vsnap_del(struct vsnap *sn, uint32_t fid)
{
    for (size_t i = 0; i < sn->n; i++) {
        if (sn->f[i].fid == fid) {
            free(sn->f[i].ofp);
            sn->f[i] = sn->f[--sn->n];
            return;
        }
    }
}

static void
vsnap_set(struct vsnap *sn, uint32_t fid, const struct ofpbuf *b)
{
    vsnap_del(sn, fid);
    sn->f = xgrow(sn->f, &sn->cap, sn->n + 1, sizeof *sn->f);
    struct vsnap_flow *e = &sn->f[sn->n++];
    e->fid = fid;
    e->len = b->size;
    e->ofp = xmalloc(b->size ? b->size : 1);
    memcpy(e->ofp, b->data, b->size);
}

/* The FLOW_MOD (ADD, tenant terms) a node installs for 'f'. */
static void
encode_flow(const struct vflow *f, struct ofpbuf *b)
{
    struct ofp_msg m;
    ofp_msg_init(&m, OFPT_FLOW_MOD, 0);
    m.flow_mod.priority = f->priority;
    m.flow_mod.cookie = f->cookie;
    m.flow_mod.match = f->match;
    m.flow_mod.insts = f->insts; /* A read-only view: never destroyed. */
    ofpbuf_clear(b);
    if (ofp_encode(&m, b)) {
        ofpbuf_clear(b); /* Checked at flow-mod time: cannot happen. */
    }
}

static void
vsnap_build(struct vsnap *sn, const struct vswitch *s)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    vsnap_clear(sn);
    for (size_t i = 0; i < s->n_flows; i++) {
        encode_flow(&s->flows[i], &b);
        vsnap_set(sn, s->flows[i].fid, &b);
    }
    ofpbuf_uninit(&b);
}

/* ---- Nodes. ----------------------------------------------------------- */

struct vnode *
vpush_node(struct vswitch *s, const char *name)
{
    for (size_t i = 0; name && i < s->n_nodes; i++) {
        if (!strcmp(s->nodes[i].name, name)) {
            return &s->nodes[i];
        }
    }
    return NULL;
}

static bool
node_up(const struct vswitch *s, const struct vnode *n)
{
    return vnet_node_is_up(s->vnet, n->name);
}

void
vpush_nodes_destroy(struct vswitch *s)
{
    for (size_t i = 0; i < s->n_nodes; i++) {
        free(s->nodes[i].push);
    }
    free(s->nodes);
    s->nodes = NULL;
    s->n_nodes = s->cap_nodes = 0;
}

static void
add_pending(struct vnode *n, uint64_t seq, enum vpush_kind kind, uint64_t gen,
            uint64_t version, uint32_t xid)
{
    n->push = xgrow(n->push, &n->cap_push, n->n_push + 1, sizeof *n->push);
    n->push[n->n_push++] = (struct vpush){
        .seq = seq, .kind = kind, .gen = gen, .version = version, .xid = xid};
}

static uint64_t
next_seq(struct vswitch *s)
{
    return s->vnet->next_seq++;
}

/* ---- Messages. -------------------------------------------------------- */

static void
msg_init(struct chan_msg *m, const struct vswitch *s, enum chan_msg_type t)
{
    chan_msg_init(m, t);
    snprintf(m->vswitch, sizeof m->vswitch, "%s", s->def.id);
}

static void
emit_begin(struct vswitch *s, const char *node, uint64_t seq, bool full)
{
    struct chan_msg m;
    msg_init(&m, s, CHAN_VNET_BEGIN);
    m.vni = s->def.vni;
    m.active = s->active;
    m.seq = seq;
    m.full = full;
    vnet_queue(s->vnet, node, &m);
    for (size_t i = 0; i < s->n_ports; i++) {
        msg_init(&m, s, CHAN_VNET_PORT);
        m.port = s->ports[i].port;
        snprintf(m.vm, sizeof m.vm, "%s", s->ports[i].vm);
        m.key = s->ports[i].key;
        vnet_queue(s->vnet, node, &m);
    }
}

static void
emit_flow(struct vswitch *s, const char *node, const struct vsnap_flow *f,
          uint64_t version)
{
    struct chan_msg m;
    msg_init(&m, s, CHAN_VNET_FLOW);
    m.flow_id = f->fid;
    m.version = version;
    m.frame_len = f->len <= CHAN_FRAME_MAX ? f->len : 0;
    memcpy(m.frame, f->ofp, m.frame_len);
    vnet_queue(s->vnet, node, &m);
}

static void
emit_flow_del(struct vswitch *s, const char *node, uint32_t fid,
              uint64_t version)
{
    struct chan_msg m;
    msg_init(&m, s, CHAN_VNET_FLOW_DEL);
    m.flow_id = fid;
    m.version = version;
    vnet_queue(s->vnet, node, &m);
}

static void
emit_snap(struct vswitch *s, const char *node, const struct vsnap *sn,
          uint64_t version)
{
    for (size_t i = 0; i < sn->n; i++) {
        emit_flow(s, node, &sn->f[i], version);
    }
}

static void
emit_end(struct vswitch *s, const char *node, uint64_t seq)
{
    struct chan_msg m;
    msg_init(&m, s, CHAN_VNET_END);
    m.seq = seq;
    vnet_queue(s->vnet, node, &m);
    s->vnet->counters.pushes++;
}

static void
emit_seq_msg(struct vswitch *s, const char *node, enum chan_msg_type t,
             uint64_t seq, uint64_t version)
{
    struct chan_msg m;
    msg_init(&m, s, t);
    m.seq = seq;
    m.version = version;
    vnet_queue(s->vnet, node, &m);
}

/* ---- Pushes. ---------------------------------------------------------- */

void
vpush_full(struct vswitch *s, struct vnode *n)
{
    if (!node_up(s, n)) {
        return;
    }
    uint64_t seq = next_seq(s);
    emit_begin(s, n->name, seq, true);
    emit_snap(s, n->name, &s->snap_active, s->active);
    if (s->phase == VTP_STAGE) {
        emit_snap(s, n->name, &s->snap_staged, s->active + 1);
    } else if (s->phase == VTP_FLIP) {
        emit_snap(s, n->name, &s->snap_staged, s->active - 1);
    }
    emit_end(s, n->name, seq);
    add_pending(n, seq, VP_FULL, 1, 0, 0);
}

static void
forget_orphan_push(struct vswitch *s, const char *node)
{
    struct vnet *v = s->vnet;
    uint64_t seq = next_seq(s);
    emit_seq_msg(s, node, CHAN_VNET_REMOVE, seq, 0);
    v->orphan = xgrow(v->orphan, &v->cap_orphan, v->n_orphan + 1,
                      sizeof *v->orphan);
    v->orphan[v->n_orphan++] = seq;
}

void
vpush_remove_all(struct vswitch *s)
{
    for (size_t i = 0; i < s->n_nodes; i++) {
        if (node_up(s, &s->nodes[i])) {
            forget_orphan_push(s, s->nodes[i].name);
        }
    }
}

void
vpush_changed(struct vswitch *s, uint32_t fid, uint32_t xid)
{
    s->gen++;
    if (!s->n_dirty || !s->dirty_xid) {
        s->dirty_xid = xid;
    }
    for (size_t i = 0; i < s->n_dirty; i++) {
        if (s->dirty[i] == fid) {
            return;
        }
    }
    s->dirty = xgrow(s->dirty, &s->cap_dirty, s->n_dirty + 1,
                     sizeof *s->dirty);
    s->dirty[s->n_dirty++] = fid;
}

static void
start_round(struct vswitch *s)
{
    s->round_gen = s->gen;
    s->table_dirty = false;
    s->phase = VTP_STAGE;
    vsnap_build(&s->snap_staged, s);
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct vnode *n = &s->nodes[i];
        if (node_up(s, n)) {
            uint64_t seq = next_seq(s);
            emit_begin(s, n->name, seq, false);
            emit_snap(s, n->name, &s->snap_staged, s->active + 1);
            emit_end(s, n->name, seq);
            add_pending(n, seq, VP_STAGE, s->pushed_gen + 1, 0,
                        s->round_xid);
        }
    }
    s->round_xid = 0;
}

static void
push_incremental(struct vswitch *s)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    for (size_t d = 0; d < s->n_dirty; d++) {
        struct vflow *f = vtable_find(s, s->dirty[d]);
        if (f) {
            encode_flow(f, &b);
            vsnap_set(&s->snap_active, f->fid, &b);
        } else {
            vsnap_del(&s->snap_active, s->dirty[d]);
        }
    }
    ofpbuf_uninit(&b);
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct vnode *n = &s->nodes[i];
        if (!node_up(s, n)) {
            continue;
        }
        uint64_t seq = next_seq(s);
        emit_begin(s, n->name, seq, false);
        for (size_t d = 0; d < s->n_dirty; d++) {
            const struct vsnap_flow *sf = NULL;
            for (size_t k = 0; k < s->snap_active.n; k++) {
                if (s->snap_active.f[k].fid == s->dirty[d]) {
                    sf = &s->snap_active.f[k];
                }
            }
            if (sf) {
                emit_flow(s, n->name, sf, s->active);
            } else {
                emit_flow_del(s, n->name, s->dirty[d], s->active);
            }
        }
        emit_end(s, n->name, seq);
        add_pending(n, seq, VP_INCR, s->pushed_gen + 1, 0, s->dirty_xid);
    }
    s->pushed_gen = s->gen;
}

void
vpush_flush(struct vswitch *s)
{
    if (s->split || s->phase != VTP_NONE) {
        if (s->n_dirty) {
            s->table_dirty = true;
            if (!s->round_xid) {
                s->round_xid = s->dirty_xid;
            }
        }
        s->n_dirty = 0;
        s->dirty_xid = 0;
        if (s->phase == VTP_NONE && s->table_dirty) {
            start_round(s);
        }
        return;
    }
    if (s->n_dirty) {
        push_incremental(s);
        s->n_dirty = 0;
        s->dirty_xid = 0;
    }
}

/* ---- Progress. -------------------------------------------------------- */

static bool
any_pending(const struct vswitch *s)
{
    for (size_t i = 0; i < s->n_nodes; i++) {
        if (s->nodes[i].n_push && node_up(s, &s->nodes[i])) {
            return true;
        }
    }
    return false;
}

bool
vpush_barrier_ready(const struct vswitch *s, uint64_t gen)
{
    if (gen == 0) {
        return true;
    }
    if (gen > s->pushed_gen) {
        return false;
    }
    for (size_t i = 0; i < s->n_nodes; i++) {
        const struct vnode *n = &s->nodes[i];
        for (size_t k = 0; k < n->n_push && node_up(s, n); k++) {
            if (n->push[k].gen <= gen) {
                return false;
            }
        }
    }
    return true;
}

static void
phase_push(struct vswitch *s, enum vpush_kind kind)
{
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct vnode *n = &s->nodes[i];
        if (!node_up(s, n)) {
            continue;
        }
        uint64_t seq = next_seq(s);
        if (kind == VP_FLIP) {
            emit_begin(s, n->name, seq, false);
            emit_end(s, n->name, seq);
            add_pending(n, seq, kind, s->pushed_gen + 1, 0, 0);
        } else {
            emit_seq_msg(s, n->name, CHAN_VNET_DROP, seq, s->active - 1);
            s->vnet->counters.pushes++;
            add_pending(n, seq, kind, s->pushed_gen + 1, s->active - 1, 0);
        }
    }
}

/* Moves a two-phase round on while no up node owes an ack. */
static void
advance_round(struct vswitch *s)
{
    while (s->phase != VTP_NONE && !any_pending(s)) {
        if (s->phase == VTP_STAGE) {
            struct vsnap t = s->snap_active;
            s->snap_active = s->snap_staged;
            s->snap_staged = t;
            s->active++;
            s->phase = VTP_FLIP;
            phase_push(s, VP_FLIP);
        } else if (s->phase == VTP_FLIP) {
            vsnap_clear(&s->snap_staged);
            s->phase = VTP_DROP;
            phase_push(s, VP_DROP);
        } else {
            s->phase = VTP_NONE;
            s->pushed_gen = s->round_gen;
            s->vnet->counters.two_phase_updates++;
            vpush_flush(s);
        }
    }
}

void
vpush_progress(struct vswitch *s, int64_t now_ms)
{
    advance_round(s);
    vconn_barriers(s);
    vconn_answer_ready_stats(s, now_ms);
}

static bool
take_pending(struct vnode *n, uint64_t seq, struct vpush *out)
{
    for (size_t k = 0; k < n->n_push; k++) {
        if (n->push[k].seq == seq) {
            *out = n->push[k];
            memmove(&n->push[k], &n->push[k + 1],
                    (n->n_push - k - 1) * sizeof *n->push);
            n->n_push--;
            return true;
        }
    }
    return false;
}

static bool
take_orphan(struct vnet *v, uint64_t seq)
{
    for (size_t i = 0; i < v->n_orphan; i++) {
        if (v->orphan[i] == seq) {
            v->orphan[i] = v->orphan[--v->n_orphan];
            return true;
        }
    }
    return false;
}

bool
vpush_ack(struct vnet *v, const char *node, uint64_t seq, bool nack,
          uint16_t ofp_type, uint16_t ofp_code, int64_t now_ms)
{
    for (size_t i = 0; i < v->n_sw; i++) {
        struct vswitch *s = v->sw[i];
        struct vnode *n = vpush_node(s, node);
        struct vpush p;
        if (!n || !take_pending(n, seq, &p)) {
            continue;
        }
        if (nack) {
            v->counters.nacks++;
            enum ofperr e = ofperr_from_wire(ofp_type, ofp_code);
            if (p.xid) {
                vconn_send_error(s, p.xid, e ? e : OFPERR_OFPFMFC_UNKNOWN,
                                 NULL, 0);
            }
            /* The node's state is unknown now: one full push to
             * resynchronise it, not a loop if it keeps refusing. */
            if (n->nacks++ == 0) {
                vpush_full(s, n);
            }
        } else {
            n->nacks = 0;
            if (p.kind == VP_DROP) {
                vstats_drop_version(s, node, p.version);
            }
        }
        vpush_progress(s, now_ms);
        return true;
    }
    return take_orphan(v, seq);
}

/* ---- Hosting nodes. --------------------------------------------------- */

static bool
in_list(const char *name, const char *const *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (nodes[i] && !strcmp(nodes[i], name)) {
            return true;
        }
    }
    return false;
}

void
vnet_set_nodes(struct vnet *v, const char *vs, const char *const *nodes,
               size_t n)
{
    struct vswitch *s = vnet_find(v, vs);
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n_nodes;) {
        struct vnode *nd = &s->nodes[i];
        if (in_list(nd->name, nodes, n)) {
            i++;
            continue;
        }
        if (node_up(s, nd)) {
            forget_orphan_push(s, nd->name);
        }
        vstats_drop_node(s, nd->name);
        for (size_t r = 0; r < s->n_sreq; r++) {
            vconn_stats_end(s, nd->name, s->sreq[r].seq);
        }
        free(nd->push);
        s->nodes[i] = s->nodes[--s->n_nodes];
    }
    for (size_t i = 0; i < n; i++) {
        if (!nodes[i] || !mn_name_valid(nodes[i]) || vpush_node(s, nodes[i])) {
            continue;
        }
        s->nodes = xgrow(s->nodes, &s->cap_nodes, s->n_nodes + 1,
                         sizeof *s->nodes);
        struct vnode *nd = &s->nodes[s->n_nodes++];
        memset(nd, 0, sizeof *nd);
        snprintf(nd->name, sizeof nd->name, "%s", nodes[i]);
        vpush_full(s, nd);
    }
    vpush_progress(s, v->now_ms);
}

void
vnet_set_vm_node(struct vnet *v, const char *vs, const char *vm,
                 const char *node)
{
    struct vswitch *s = vnet_find(v, vs);
    for (size_t i = 0; s && vm && i < s->n_ports; i++) {
        if (!strcmp(s->ports[i].vm, vm)) {
            snprintf(s->ports[i].node, sizeof s->ports[i].node, "%s",
                     node ? node : "");
        }
    }
}

void
vnet_split_begin(struct vnet *v, const char *vs)
{
    struct vswitch *s = vnet_find(v, vs);
    if (s) {
        vpush_flush(s); /* What came before the split goes out in place. */
        s->split = true;
    }
}

void
vnet_split_end(struct vnet *v, const char *vs)
{
    struct vswitch *s = vnet_find(v, vs);
    if (s) {
        vpush_flush(s); /* A pending batch still gets its round. */
        s->split = false;
        vpush_progress(s, v->now_ms);
    }
}

/* ---- Packet-out and statistics requests. ------------------------------ */

static const char *
packet_out_node(struct vswitch *s, uint32_t port)
{
    struct vport *p = vswitch_port(s, port);
    if (p && p->node[0] && vpush_node(s, p->node)
        && vnet_node_is_up(s->vnet, p->node)) {
        return p->node;
    }
    for (size_t i = 0; i < s->n_nodes; i++) {
        if (node_up(s, &s->nodes[i])) {
            return s->nodes[i].name;
        }
    }
    return NULL;
}

void
vpush_packet_out(struct vswitch *s, uint32_t port, const uint8_t *frame,
                 size_t len)
{
    const char *node = packet_out_node(s, port);
    if (!node || len > CHAN_FRAME_MAX) {
        return;
    }
    struct chan_msg m;
    msg_init(&m, s, CHAN_VNET_PACKET_OUT);
    m.port = port;
    m.frame_len = len;
    memcpy(m.frame, frame, len);
    vnet_queue(s->vnet, node, &m); /* its tx is counted where it leaves */
}

uint64_t
vpush_stats_req(struct vswitch *s, struct vstats_req *r)
{
    uint64_t seq = next_seq(s);
    r->n_wait = 0;
    r->wait = NULL;
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct vnode *n = &s->nodes[i];
        if (!node_up(s, n)) {
            continue;
        }
        emit_seq_msg(s, n->name, CHAN_VNET_STATS_REQ, seq, 0);
        r->wait = xrealloc(r->wait, (r->n_wait + 1) * sizeof *r->wait);
        snprintf(r->wait[r->n_wait++], sizeof *r->wait, "%s", n->name);
    }
    return seq;
}
