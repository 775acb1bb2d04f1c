/* vnet_stats.c: the tenant's counters, combined from every node's, and
 * its packet-ins, merged across nodes.
 *
 * Each node reports cumulative counts per (flow id, version, tenant port),
 * per port rx (the frames its dispatch flow sent into the switch) and per
 * port tx (vnet_ptx: what Open vSwitch delivered to the port's VM
 * interface on that node since the node began delivering to it -- the
 * frames the tenant's flows and packet-outs put out of the port, counted
 * where they really left).  The last value of each key is kept; a new
 * value adds its growth to the tenant's counter, and a value below the
 * last one (the node's counter restarted) adds itself.  So the tenant's
 * counters never decrease -- across node restarts, version drops and nodes
 * leaving.  Tx is not derived from flow counters: Open vSwitch credits the
 * packets in flight while a rule is added (its revalidation) to the new
 * rule, so flow counters times outputs over-count at every learning step.
 *
 * A packet-in whose (in_port, frame hash) came from a different node within
 * the merge window is the same packet seen twice (an ensemble runs the VM
 * on two nodes): it is dropped and counted. */
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "vnet/vnet_private.h"

/* Most counter keys one switch keeps; reports beyond are ignored. */
#define VNET_MAX_KEYS 65536

static struct vctr *
find_key(struct vswitch *s, const char *node, uint32_t fid, uint64_t version,
         uint32_t q, bool create)
{
    struct vctr *found = vidx_find_ctr(s, node, fid, version, q);
    if (found) {
        return found;
    }
    if (!create || s->n_ctr >= VNET_MAX_KEYS) {
        return NULL;
    }
    s->ctr = xgrow(s->ctr, &s->cap_ctr, s->n_ctr + 1, sizeof *s->ctr);
    struct vctr *c = &s->ctr[s->n_ctr++];
    memset(c, 0, sizeof *c);
    snprintf(c->node, sizeof c->node, "%s", node);
    c->fid = fid;
    c->version = version;
    c->q = q;
    vidx_added_ctr(s);
    return c;
}

/* Growth of a cumulative counter from 'last' to 'now'. */
static uint64_t
growth(uint64_t last, uint64_t now)
{
    return now >= last ? now - last : now;
}

void
vstats_fstat(struct vswitch *s, const char *node, const struct chan_msg *m,
             int64_t now_ms)
{
    struct vflow *f = vtable_find(s, m->flow_id);
    if (!f || !m->flow_id || !vswitch_port(s, m->port)) {
        return;
    }
    struct vctr *c = find_key(s, node, m->flow_id, m->version, m->port, true);
    if (!c) {
        return;
    }
    uint64_t dp = growth(c->packets, m->packets);
    uint64_t db = growth(c->bytes, m->bytes);
    c->packets = m->packets;
    c->bytes = m->bytes;
    if (!dp && !db) {
        return;
    }
    f->packets += dp;
    f->bytes += db;
    f->used_ms = now_ms;
}

/* A port counter report: 'version' 0 is rx (vnet_pstat), 1 tx (vnet_ptx);
 * their keys have no flow id. */
static void
port_counter(struct vswitch *s, const char *node, const struct chan_msg *m,
             uint64_t version, uint64_t *packets, uint64_t *bytes)
{
    struct vctr *c = find_key(s, node, 0, version, m->port, true);
    if (!c) {
        return;
    }
    *packets += growth(c->packets, m->packets);
    *bytes += growth(c->bytes, m->bytes);
    c->packets = m->packets;
    c->bytes = m->bytes;
}

void
vstats_pstat(struct vswitch *s, const char *node, const struct chan_msg *m)
{
    struct vport *p = vswitch_port(s, m->port);
    if (p) {
        port_counter(s, node, m, 0, &p->rx_packets, &p->rx_bytes);
    }
}

void
vstats_ptx(struct vswitch *s, const char *node, const struct chan_msg *m)
{
    struct vport *p = vswitch_port(s, m->port);
    if (p) {
        port_counter(s, node, m, 1, &p->tx_packets, &p->tx_bytes);
    }
}

static void
drop_keys(struct vswitch *s, const char *node, bool by_version,
          uint64_t version, uint32_t fid)
{
    for (size_t i = 0; i < s->n_ctr;) {
        struct vctr *c = &s->ctr[i];
        bool hit = (!node || !strcmp(c->node, node))
                   && (!by_version || (c->fid && c->version == version))
                   && (!fid || c->fid == fid);
        if (hit) {
            s->ctr[i] = s->ctr[--s->n_ctr];
            s->ctr_idx.stale = true;
        } else {
            i++;
        }
    }
}

void
vstats_drop_version(struct vswitch *s, const char *node, uint64_t version)
{
    drop_keys(s, node, true, version, 0);
}

void
vstats_drop_node(struct vswitch *s, const char *node)
{
    drop_keys(s, node, false, 0, 0);
}

void
vstats_drop_flow(struct vswitch *s, uint32_t fid)
{
    if (fid) {
        drop_keys(s, NULL, false, 0, fid);
    }
}

/* ---- Packet-ins. ------------------------------------------------------- */

/* Whether the same packet came from another node within the window;
 * records it either way. */
static bool
is_duplicate(struct vswitch *s, const char *node, uint32_t port,
             uint32_t hash, int64_t now_ms)
{
    int64_t window = s->vnet->opts.merge_window_ms;
    for (size_t i = 0; i < VNET_PIN_RING; i++) {
        const struct vpin_seen *e = &s->pin[i];
        if (e->node[0] && e->port == port && e->hash == hash
            && now_ms - e->at_ms < window && now_ms >= e->at_ms
            && strcmp(e->node, node)) {
            return true;
        }
    }
    struct vpin_seen *e = &s->pin[s->pin_next];
    s->pin_next = (s->pin_next + 1) % VNET_PIN_RING;
    e->port = port;
    e->hash = hash;
    e->at_ms = now_ms;
    snprintf(e->node, sizeof e->node, "%s", node);
    return false;
}

static uint16_t
controller_max_len(const struct vflow *f, uint16_t miss_send_len)
{
    if (!f) {
        return miss_send_len;
    }
    const struct ofp_actions *a = &f->insts.apply;
    for (size_t i = 0; i < a->n; i++) {
        if (a->a[i].type == OFP_ACT_OUTPUT
            && a->a[i].output.port == OFPP_CONTROLLER) {
            return a->a[i].output.max_len;
        }
    }
    return miss_send_len;
}

void
vstats_packet_in(struct vswitch *s, const char *node, const struct chan_msg *m,
                 int64_t now_ms)
{
    if (!vswitch_port(s, m->port) || !m->frame_len
        || m->frame_len > CHAN_FRAME_MAX) {
        return;
    }
    uint32_t hash = hash_bytes(m->frame, m->frame_len);
    if (is_duplicate(s, node, m->port, hash, now_ms)) {
        s->vnet->counters.packet_in_duplicates++;
        return;
    }
    struct vflow *f = m->flow_id ? vtable_find(s, m->flow_id) : NULL;
    uint8_t reason = f && vflow_is_table_miss(f) ? OFPR_NO_MATCH : OFPR_ACTION;
    uint32_t mask = s->async.packet_in[s->role == OFPCR_ROLE_SLAVE];
    if (!s->ready || !(mask & (1u << reason))) {
        return;
    }
    uint16_t max_len = controller_max_len(f, s->miss_send_len);
    size_t len = m->frame_len;
    if (max_len != OFPCML_NO_BUFFER && len > max_len) {
        len = max_len;
    }
    struct ofp_msg pm;
    ofp_msg_init(&pm, OFPT_PACKET_IN, 0);
    struct ofp_packet_in *pi = &pm.packet_in;
    pi->buffer_id = OFP_NO_BUFFER;
    uint32_t total = m->total_len ? m->total_len : (uint32_t)m->frame_len;
    pi->total_len = (uint16_t)(total > UINT16_MAX ? UINT16_MAX : total);
    pi->reason = reason;
    pi->table_id = 0;
    pi->cookie = f ? f->cookie : UINT64_MAX;
    ofp_match_init(&pi->match);
    ofp_match_set(&pi->match, OFP_F_IN_PORT, m->port);
    pi->data = m->frame;
    pi->data_len = len;
    vconn_send_msg(s, &pm);
    s->vnet->counters.packet_ins++;
}
