/* vnet_conn.c: a tenant controller's OpenFlow 1.3 session with its virtual
 * switch -- bytes in, bytes out.
 *
 * It plays the switch: hello negotiation (1.3 only), echo, features,
 * switch config, role (as asked; a slave may not modify, and gets the
 * asynchronous messages of its async config's slave half), async config,
 * multipart DESC, PORT_DESC, FLOW, AGGREGATE, PORT_STATS and TABLE,
 * FLOW_MOD (vnet_table.c), PACKET_OUT and BARRIER, whose reply waits
 * until every earlier flow-mod is acked by every up hosting node.
 * Statistics are asked of the nodes first and answered
 * when all of them reported, or after options.stats_timeout_ms.  Anything
 * else gets the OpenFlow error the spec names.  Input is read only through
 * the codec's bounds-checked decoder; nothing the tenant sends can crash it
 * or change state when refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "vnet/vnet_private.h"

/* Most bytes of unframed tenant input kept (a message is at most 64 KiB). */
#define VCONN_MAX_INPUT (1u << 20)
/* Most barriers and statistics requests waiting at once. */
#define VCONN_MAX_WAITING 1024

/* ---- Output. ---------------------------------------------------------- */

void
vconn_send_msg(struct vswitch *s, const struct ofp_msg *m)
{
    if (s->connected && !s->must_close) {
        ofp_encode(m, &s->out);
    }
}

void
vconn_send_error(struct vswitch *s, uint32_t xid, enum ofperr e,
                 const void *req, size_t req_len)
{
    if (s->connected) {
        ofp_encode_error(&s->out, xid, e, req, req_len);
        s->vnet->counters.errors_sent++;
    }
}

static void
send_simple(struct vswitch *s, uint8_t type, uint32_t xid)
{
    struct ofp_msg m;
    ofp_msg_init(&m, type, xid);
    vconn_send_msg(s, &m);
}

static void
free_sreq(struct vstats_req *r)
{
    free(r->wait);
    r->wait = NULL;
    r->n_wait = 0;
}

void
vconn_reset(struct vswitch *s)
{
    for (size_t i = 0; i < s->n_sreq; i++) {
        free_sreq(&s->sreq[i]);
    }
    s->n_sreq = 0;
    s->n_barriers = 0;
    ofpbuf_clear(&s->in);
    ofpbuf_clear(&s->out);
    s->connected = s->ready = s->must_close = false;
    s->miss_send_len = 128;
    s->config_flags = 0;
    s->role = OFPCR_ROLE_EQUAL;
    s->generation_id = 0;
    memset(&s->async, 0, sizeof s->async);
    s->async.packet_in[0] = (1u << OFPR_NO_MATCH) | (1u << OFPR_ACTION);
    s->async.port_status[0] = s->async.port_status[1] = 0x7;
    s->async.flow_removed[0] = 0xf;
}

/* ---- Connection lifecycle. -------------------------------------------- */

void
vnet_tenant_connected(struct vnet *v, const char *vs, int64_t now_ms)
{
    struct vswitch *s = vnet_find(v, vs);
    v->now_ms = now_ms;
    if (!s) {
        return;
    }
    vconn_reset(s);
    s->connected = true;
    ofp_encode_hello(&s->out, 0);
}

void
vnet_tenant_disconnected(struct vnet *v, const char *vs)
{
    struct vswitch *s = vnet_find(v, vs);
    if (s) {
        vconn_reset(s);
    }
}

struct ofpbuf *
vnet_tenant_output(struct vnet *v, const char *vs)
{
    struct vswitch *s = vnet_find(v, vs);
    return s ? &s->out : NULL;
}

bool
vnet_tenant_must_close(const struct vnet *v, const char *vs)
{
    const struct vswitch *s = vnet_find(v, vs);
    return s && s->must_close;
}

/* ---- Simple requests. ------------------------------------------------- */

static void
on_hello(struct vswitch *s, const struct ofp_msg *m)
{
    if (ofp_hello_negotiate(&m->hello, 1u << OFP13_VERSION)
        != OFP13_VERSION) {
        vconn_send_error(s, m->xid, OFPERR_OFPHFC_INCOMPATIBLE, NULL, 0);
        s->must_close = true;
        return;
    }
    s->ready = true;
}

static void
on_echo(struct vswitch *s, const struct ofp_msg *m)
{
    struct ofp_msg r;
    ofp_msg_init(&r, OFPT_ECHO_REPLY, m->xid);
    r.echo = m->echo;
    vconn_send_msg(s, &r);
}

static void
on_features(struct vswitch *s, uint32_t xid)
{
    struct ofp_msg r;
    ofp_msg_init(&r, OFPT_FEATURES_REPLY, xid);
    r.features.datapath_id = s->def.datapath_id;
    r.features.n_buffers = 0;
    r.features.n_tables = 1;
    r.features.capabilities = OFPC_FLOW_STATS | OFPC_TABLE_STATS
                              | OFPC_PORT_STATS;
    vconn_send_msg(s, &r);
}

static void
on_get_config(struct vswitch *s, uint32_t xid)
{
    struct ofp_msg r;
    ofp_msg_init(&r, OFPT_GET_CONFIG_REPLY, xid);
    r.config.flags = s->config_flags;
    r.config.miss_send_len = s->miss_send_len;
    vconn_send_msg(s, &r);
}

static void
on_role(struct vswitch *s, const struct ofp_msg *m, const void *req,
        size_t len)
{
    uint32_t role = m->role.role;
    if (role != OFPCR_ROLE_NOCHANGE) {
        s->role = role;
        s->generation_id = m->role.generation_id;
    }
    struct ofp_msg r;
    ofp_msg_init(&r, OFPT_ROLE_REPLY, m->xid);
    r.role.role = s->role;
    r.role.generation_id = s->generation_id;
    vconn_send_msg(s, &r);
}

static void
on_get_async(struct vswitch *s, uint32_t xid)
{
    struct ofp_msg r;
    ofp_msg_init(&r, OFPT_GET_ASYNC_REPLY, xid);
    r.async = s->async;
    vconn_send_msg(s, &r);
}

/* ---- Barriers. -------------------------------------------------------- */

static void
on_barrier(struct vswitch *s, uint32_t xid)
{
    vpush_flush(s);
    if (s->n_barriers >= VCONN_MAX_WAITING) {
        vconn_send_error(s, xid, OFPERR_OFPBRC_EPERM, NULL, 0);
        return;
    }
    s->barriers = xgrow(s->barriers, &s->cap_barriers, s->n_barriers + 1,
                        sizeof *s->barriers);
    s->barriers[s->n_barriers++] = (struct vbarrier){.xid = xid,
                                                     .gen = s->gen};
    vconn_barriers(s);
}

void
vconn_barriers(struct vswitch *s)
{
    size_t done = 0;
    while (done < s->n_barriers
           && vpush_barrier_ready(s, s->barriers[done].gen)) {
        send_simple(s, OFPT_BARRIER_REPLY, s->barriers[done].xid);
        done++;
    }
    if (done) {
        memmove(s->barriers, s->barriers + done,
                (s->n_barriers - done) * sizeof *s->barriers);
        s->n_barriers -= done;
    }
}

/* ---- Flow-mod and packet-out. ----------------------------------------- */

static void
on_flow_mod(struct vswitch *s, const struct ofp_msg *m, const void *req,
            size_t len, int64_t now_ms)
{
    enum ofperr e = vtable_flow_mod(s, &m->flow_mod, m->xid, now_ms);
    if (e) {
        vconn_send_error(s, m->xid, e, req, len);
        s->vnet->counters.flow_mods_refused++;
    } else {
        s->vnet->counters.flow_mods++;
    }
}

static enum ofperr
check_packet_out(const struct vswitch *s, const struct ofp_packet_out *po)
{
    if (po->buffer_id != OFP_NO_BUFFER) {
        return OFPERR_OFPBRC_BUFFER_UNKNOWN;
    }
    /* From the controller: CONTROLLER, or ANY ("none", as ovs-ofctl's
     * packet-out sends it). */
    bool from_ctl =
        po->in_port == OFPP_CONTROLLER || po->in_port == OFPP_ANY;
    if (!from_ctl && !vswitch_port((struct vswitch *)s, po->in_port)) {
        return OFPERR_OFPBRC_BAD_PORT;
    }
    enum ofperr e = vtable_check_actions(s, &po->actions, true);
    if (e) {
        return e;
    }
    for (size_t i = 0; i < po->actions.n; i++) {
        if (from_ctl && po->actions.a[i].output.port == OFPP_IN_PORT) {
            return OFPERR_OFPBAC_BAD_OUT_PORT;
        }
    }
    if (!po->data_len || po->data_len > CHAN_FRAME_MAX) {
        return OFPERR_OFPBRC_BAD_PACKET;
    }
    return OFPERR_OK;
}

static void
packet_out_action(struct vswitch *s, const struct ofp_packet_out *po,
                  uint32_t out)
{
    uint32_t in = po->in_port;
    if (out == OFPP_IN_PORT) {
        vpush_packet_out(s, in, po->data, po->data_len);
    } else if (out == OFPP_FLOOD || out == OFPP_ALL) {
        for (size_t i = 0; i < s->n_ports; i++) {
            if (s->ports[i].port != in) {
                vpush_packet_out(s, s->ports[i].port, po->data,
                                 po->data_len);
            }
        }
    } else if (out != in) {
        vpush_packet_out(s, out, po->data, po->data_len);
    }
}

static void
on_packet_out(struct vswitch *s, const struct ofp_msg *m, const void *req,
              size_t len)
{
    const struct ofp_packet_out *po = &m->packet_out;
    enum ofperr e = check_packet_out(s, po);
    if (e) {
        vconn_send_error(s, m->xid, e, req, len);
        return;
    }
    for (size_t i = 0; i < po->actions.n; i++) {
        packet_out_action(s, po, po->actions.a[i].output.port);
    }
    s->vnet->counters.packet_outs++;
}

/* ---- Multipart. ------------------------------------------------------- */

/* A multipart reply split into messages of at most 64 KiB. */
struct mpw {
    struct vswitch *s;
    uint32_t xid;
    uint16_t type;
    size_t start;
};

static void
mpw_start(struct mpw *w, struct vswitch *s, uint32_t xid, uint16_t type)
{
    w->s = s;
    w->xid = xid;
    w->type = type;
    w->start = ofp_mp_reply_start(&s->out, xid, type, 0);
}

/* Called after an entry was appended from 'pre' on: if the message grew
 * too long, moves the entry into a new message.  Returns false if it must
 * be appended again (the caller does so once). */
static bool
mpw_fits(struct mpw *w, size_t pre)
{
    struct ofpbuf *b = &w->s->out;
    if (b->size - w->start <= UINT16_MAX) {
        return true;
    }
    ofpbuf_truncate(b, pre);
    b->data[w->start + 11] |= OFPMPF_REPLY_MORE;
    ofp_mp_finish(b, w->start);
    w->start = ofp_mp_reply_start(b, w->xid, w->type, 0);
    return false;
}

static void
mpw_finish(struct mpw *w)
{
    ofp_mp_finish(&w->s->out, w->start);
}

static void
reply_desc(struct vswitch *s, uint32_t xid)
{
    struct ofp_msg r;
    ofp_msg_init(&r, OFPT_MULTIPART_REPLY, xid);
    r.mp.type = OFPMP_DESC;
    struct ofp_desc *d = &r.mp.desc;
    snprintf(d->mfr_desc, sizeof d->mfr_desc, "mignet");
    snprintf(d->hw_desc, sizeof d->hw_desc, "mignet virtual switch");
    snprintf(d->sw_desc, sizeof d->sw_desc, "mignetd");
    snprintf(d->serial_num, sizeof d->serial_num, "%.31s", s->def.id);
    snprintf(d->dp_desc, sizeof d->dp_desc, "tenant %.63s vswitch %.63s",
             s->def.tenant, s->def.id);
    vconn_send_msg(s, &r);
}

static void
reply_port_desc(struct vswitch *s, uint32_t xid)
{
    if (!s->connected) {
        return;
    }
    struct mpw w;
    mpw_start(&w, s, xid, OFPMP_PORT_DESC);
    for (size_t i = 0; i < s->n_ports; i++) {
        struct ofp_port p;
        memset(&p, 0, sizeof p);
        p.port_no = s->ports[i].port;
        memcpy(p.hw_addr, s->ports[i].mac, 6);
        snprintf(p.name, sizeof p.name, "%.15s", s->ports[i].vm);
        p.state = OFPPS_LIVE;
        ofp_put_port(&s->out, &p);
    }
    mpw_finish(&w);
}

static bool
flow_in_request(const struct vflow *f, const struct ofp_flow_stats_request *r)
{
    return (r->table_id == 0 || r->table_id == OFPTT_ALL)
           && r->out_group == OFPG_ANY
           && vtable_selects(f, &r->match, r->cookie, r->cookie_mask,
                             r->out_port);
}

static void
fill_flow_stats(const struct vflow *f, struct ofp_flow_stats *fs,
                int64_t now_ms)
{
    int64_t age = now_ms > f->created_ms ? now_ms - f->created_ms : 0;
    memset(fs, 0, sizeof *fs);
    fs->table_id = 0;
    fs->duration_sec = (uint32_t)(age / 1000);
    fs->duration_nsec = (uint32_t)(age % 1000) * 1000000u;
    fs->priority = f->priority;
    fs->idle_timeout = f->idle_timeout;
    fs->hard_timeout = f->hard_timeout;
    fs->flags = f->flags;
    fs->cookie = f->cookie;
    fs->packet_count = f->packets;
    fs->byte_count = f->bytes;
    fs->match = f->match;
    fs->insts = f->insts; /* A read-only view: never destroyed. */
}

static void
reply_flows(struct vswitch *s, const struct vstats_req *r, int64_t now_ms)
{
    struct mpw w;
    mpw_start(&w, s, r->xid, OFPMP_FLOW);
    for (size_t i = 0; i < s->n_flows; i++) {
        if (!flow_in_request(&s->flows[i], &r->flow_req)) {
            continue;
        }
        struct ofp_flow_stats fs;
        fill_flow_stats(&s->flows[i], &fs, now_ms);
        size_t pre = s->out.size;
        if (!ofp_put_flow_stats(&s->out, &fs) && !mpw_fits(&w, pre)) {
            ofp_put_flow_stats(&s->out, &fs);
        }
    }
    mpw_finish(&w);
}

static void
reply_aggregate(struct vswitch *s, const struct vstats_req *r)
{
    struct ofp_msg m;
    ofp_msg_init(&m, OFPT_MULTIPART_REPLY, r->xid);
    m.mp.type = OFPMP_AGGREGATE;
    for (size_t i = 0; i < s->n_flows; i++) {
        if (flow_in_request(&s->flows[i], &r->flow_req)) {
            m.mp.aggregate.packet_count += s->flows[i].packets;
            m.mp.aggregate.byte_count += s->flows[i].bytes;
            m.mp.aggregate.flow_count++;
        }
    }
    vconn_send_msg(s, &m);
}

static void
reply_ports(struct vswitch *s, const struct vstats_req *r)
{
    struct mpw w;
    mpw_start(&w, s, r->xid, OFPMP_PORT_STATS);
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct vport *p = &s->ports[i];
        if (r->port_no != OFPP_ANY && r->port_no != p->port) {
            continue;
        }
        struct ofp_port_stats ps;
        memset(&ps, 0, sizeof ps);
        ps.port_no = p->port;
        ps.rx_packets = p->rx_packets;
        ps.rx_bytes = p->rx_bytes;
        ps.tx_packets = p->tx_packets;
        ps.tx_bytes = p->tx_bytes;
        ofp_put_port_stats(&s->out, &ps);
    }
    mpw_finish(&w);
}

/* OFPMP_TABLE: one entry, for table 0. */
static void
reply_table(struct vswitch *s, uint32_t xid)
{
    struct ofp_table_stats ts = {.table_id = 0, .active_count = s->n_flows};
    for (size_t i = 0; i < s->n_ports; i++) {
        ts.lookup_count += s->ports[i].rx_packets;
    }
    for (size_t i = 0; i < s->n_flows; i++) {
        ts.matched_count += s->flows[i].packets;
    }
    struct mpw w;
    mpw_start(&w, s, xid, OFPMP_TABLE);
    ofp_put_table_stats(&s->out, &ts);
    mpw_finish(&w);
}

void
vconn_stats_end(struct vswitch *s, const char *node, uint64_t seq)
{
    for (size_t i = 0; i < s->n_sreq; i++) {
        struct vstats_req *r = &s->sreq[i];
        for (size_t k = 0; r->seq == seq && k < r->n_wait; k++) {
            if (!strcmp(r->wait[k], node)) {
                memcpy(r->wait[k], r->wait[r->n_wait - 1], sizeof *r->wait);
                r->n_wait--;
                break;
            }
        }
    }
}

static void
answer(struct vswitch *s, const struct vstats_req *r, int64_t now_ms)
{
    if (!s->connected) {
        return;
    }
    switch (r->type) {
    case OFPMP_FLOW:
        reply_flows(s, r, now_ms);
        break;
    case OFPMP_AGGREGATE:
        reply_aggregate(s, r);
        break;
    case OFPMP_PORT_STATS:
        reply_ports(s, r);
        break;
    default:
        reply_table(s, r->xid);
        break;
    }
}

void
vconn_answer_ready_stats(struct vswitch *s, int64_t now_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_sreq; i++) {
        struct vstats_req *r = &s->sreq[i];
        if (r->n_wait) {
            s->sreq[kept++] = *r;
            continue;
        }
        answer(s, r, now_ms);
        free_sreq(r);
    }
    s->n_sreq = kept;
}

void
vconn_stats_timeouts(struct vswitch *s, int64_t now_ms)
{
    for (size_t i = 0; i < s->n_sreq; i++) {
        if (s->sreq[i].deadline_ms <= now_ms) {
            s->sreq[i].n_wait = 0;
        }
    }
    vconn_answer_ready_stats(s, now_ms);
}

int64_t
vconn_next_wake(const struct vswitch *s)
{
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < s->n_sreq; i++) {
        t = s->sreq[i].deadline_ms < t ? s->sreq[i].deadline_ms : t;
    }
    return t;
}

static void
ask_nodes(struct vswitch *s, const struct ofp_msg *m, int64_t now_ms)
{
    struct vstats_req r;
    memset(&r, 0, sizeof r);
    r.xid = m->xid;
    r.type = m->mp.type;
    if (r.type == OFPMP_FLOW || r.type == OFPMP_AGGREGATE) {
        r.flow_req = m->mp.flow_req;
    }
    r.port_no = r.type == OFPMP_PORT_STATS ? m->mp.port_no : OFPP_ANY;
    r.deadline_ms = now_ms + s->vnet->opts.stats_timeout_ms;
    if (s->n_sreq < VCONN_MAX_WAITING) {
        r.seq = vpush_stats_req(s, &r);
    }
    s->sreq = xgrow(s->sreq, &s->cap_sreq, s->n_sreq + 1, sizeof *s->sreq);
    s->sreq[s->n_sreq++] = r;
    vconn_answer_ready_stats(s, now_ms);
}

static void
on_multipart(struct vswitch *s, const struct ofp_msg *m, const void *req,
             size_t len, int64_t now_ms)
{
    switch (m->mp.type) {
    case OFPMP_DESC:
        reply_desc(s, m->xid);
        break;
    case OFPMP_PORT_DESC:
        reply_port_desc(s, m->xid);
        break;
    case OFPMP_PORT_STATS:
        if (m->mp.port_no != OFPP_ANY
            && !vswitch_port(s, m->mp.port_no)) {
            vconn_send_error(s, m->xid, OFPERR_OFPBRC_BAD_PORT, req, len);
            break;
        }
        ask_nodes(s, m, now_ms);
        break;
    case OFPMP_FLOW:
    case OFPMP_AGGREGATE:
    case OFPMP_TABLE:
        ask_nodes(s, m, now_ms);
        break;
    default:
        vconn_send_error(s, m->xid, OFPERR_OFPBRC_BAD_MULTIPART, req, len);
        break;
    }
}

/* ---- Dispatch. -------------------------------------------------------- */

static void
dispatch(struct vswitch *s, const struct ofp_msg *m, const void *req,
         size_t len, int64_t now_ms)
{
    if (s->role == OFPCR_ROLE_SLAVE
        && (m->type == OFPT_FLOW_MOD || m->type == OFPT_PACKET_OUT)) {
        vconn_send_error(s, m->xid, OFPERR_OFPBRC_IS_SLAVE, req, len);
        return;
    }
    switch (m->type) {
    case OFPT_HELLO:
    case OFPT_ERROR:
    case OFPT_ECHO_REPLY:
        break;
    case OFPT_ECHO_REQUEST:
        on_echo(s, m);
        break;
    case OFPT_FEATURES_REQUEST:
        on_features(s, m->xid);
        break;
    case OFPT_GET_CONFIG_REQUEST:
        on_get_config(s, m->xid);
        break;
    case OFPT_SET_CONFIG:
        s->config_flags = m->config.flags;
        s->miss_send_len = m->config.miss_send_len;
        break;
    case OFPT_ROLE_REQUEST:
        on_role(s, m, req, len);
        break;
    case OFPT_GET_ASYNC_REQUEST:
        on_get_async(s, m->xid);
        break;
    case OFPT_SET_ASYNC:
        s->async = m->async;
        break;
    case OFPT_FLOW_MOD:
        on_flow_mod(s, m, req, len, now_ms);
        break;
    case OFPT_PACKET_OUT:
        on_packet_out(s, m, req, len);
        break;
    case OFPT_BARRIER_REQUEST:
        on_barrier(s, m->xid);
        break;
    case OFPT_MULTIPART_REQUEST:
        on_multipart(s, m, req, len, now_ms);
        break;
    default: /* A switch's message, or one this switch does not take. */
        vconn_send_error(s, m->xid, OFPERR_OFPBRC_BAD_TYPE, req, len);
        break;
    }
}

static void
handle(struct vswitch *s, const uint8_t *data, size_t len, int64_t now_ms)
{
    struct ofp_msg m;
    enum ofperr e = ofp_decode(data, len, &m);
    if (!s->ready) {
        if (e || m.type != OFPT_HELLO) {
            vconn_send_error(s, m.xid, OFPERR_OFPHFC_INCOMPATIBLE, data,
                             len);
            s->must_close = true;
        } else {
            on_hello(s, &m);
        }
        ofp_msg_destroy(&m);
        return;
    }
    if (e) {
        vconn_send_error(s, m.xid, e, data, len);
        if (m.type == OFPT_FLOW_MOD) {
            s->vnet->counters.flow_mods_refused++;
        }
        return;
    }
    dispatch(s, &m, data, len, now_ms);
    ofp_msg_destroy(&m);
}

void
vnet_tenant_input(struct vnet *v, const char *vs, const void *data,
                  size_t len, int64_t now_ms)
{
    struct vswitch *s = vnet_find(v, vs);
    v->now_ms = now_ms;
    if (!s || !s->connected || s->must_close) {
        return;
    }
    if (len > VCONN_MAX_INPUT - s->in.size) {
        s->must_close = true;
        return;
    }
    if (len) {
        ofpbuf_put(&s->in, data, len);
    }
    size_t off = 0;
    while (!s->must_close) {
        size_t mlen = 0;
        if (ofp_frame(s->in.data + off, s->in.size - off, &mlen)) {
            s->must_close = true;
        }
        if (s->must_close || !mlen) {
            break;
        }
        handle(s, s->in.data + off, mlen, now_ms);
        off += mlen;
    }
    size_t rest = s->in.size - off;
    if (off) {
        memmove(s->in.data, s->in.data + off, rest);
        ofpbuf_truncate(&s->in, rest);
    }
    vpush_flush(s);
    vpush_progress(s, now_ms);
}
