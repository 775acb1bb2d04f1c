/* ofp13_encode.c: OpenFlow 1.3 encoding.
 *
 * ofp_encode() validates what it writes (matches, actions, lengths) and
 * appends nothing when it fails; it allocates nothing beyond growing the
 * caller's ofpbuf. */
#include "ofp13_private.h"

#include <string.h>

/* ---------------------------------------------------------------------- */
/* Encoding.                                                               */

static void
put_data(struct ofpbuf *b, const uint8_t *data, size_t len)
{
    if (len) {
        ofpbuf_put(b, data, len);
    }
}

size_t
ofp_flow_mod_len(const struct ofp_match *m,
                 const struct ofp_instructions *insts)
{
    return sizeof(struct ofp13_flow_mod) + ofp13_match_len(m)
           + (insts ? ofp13_instructions_len(insts) : 0);
}

bool
ofp_flow_fits(const struct ofp_match *m, const struct ofp_instructions *insts)
{
    /* Bounds: every field masked, every instruction, the longest action
     * (move, 24 bytes) for each action. */
    enum {
        MAX_MATCH = 4 + OFP_F_N * (4 + 2 * 8) + 7,
        MAX_INSTS = 8 + 8 + 8 + 24 + 8,
        MAX_ACTION = 24,
    };
    _Static_assert(sizeof(struct nx13_action_reg_move) <= MAX_ACTION &&
                       sizeof(struct ofp13_action_output) <= MAX_ACTION,
                   "MAX_ACTION bounds every action");
    size_t n = insts ? insts->apply.n + insts->write.n : 0;
    if (n <= (UINT16_MAX - sizeof(struct ofp13_flow_mod) - MAX_MATCH -
              MAX_INSTS) / MAX_ACTION) {
        return true;
    }
    return ofp_flow_mod_len(m, insts) <= UINT16_MAX;
}

static enum ofperr
encode_flow_mod(struct ofpbuf *b, const struct ofp_flow_mod *fm)
{
    if (fm->command > OFPFC_DELETE_STRICT) {
        return OFPERR_OFPFMFC_BAD_COMMAND;
    }
    if (fm->flags & ~OFPFF_ALL) {
        return OFPERR_OFPFMFC_BAD_FLAGS;
    }
    if (fm->table_id == OFPTT_ALL && fm->command < OFPFC_DELETE) {
        return OFPERR_OFPFMFC_BAD_TABLE_ID;
    }
    enum ofperr err = ofp13_check_match(&fm->match);
    if (!err) {
        err = ofp_flow_check(&fm->match, &fm->insts);
    }
    if (err) {
        return err;
    }
    struct ofp13_flow_mod *ofm = ofp13_put_fixed(b, sizeof *ofm);
    ofm->cookie = ofp_hton64(fm->cookie);
    ofm->cookie_mask = ofp_hton64(fm->cookie_mask);
    ofm->table_id = fm->table_id;
    ofm->command = fm->command;
    ofm->idle_timeout = ofp_hton16(fm->idle_timeout);
    ofm->hard_timeout = ofp_hton16(fm->hard_timeout);
    ofm->priority = ofp_hton16(fm->priority);
    ofm->buffer_id = ofp_hton32(fm->buffer_id);
    ofm->out_port = ofp_hton32(fm->out_port);
    ofm->out_group = ofp_hton32(fm->out_group);
    ofm->flags = ofp_hton16(fm->flags);
    ofp13_put_match(b, &fm->match);
    return ofp13_put_instructions(b, &fm->insts, fm->table_id);
}

static enum ofperr
encode_flow_removed(struct ofpbuf *b, const struct ofp_flow_removed *fr)
{
    enum ofperr err = ofp13_check_match(&fr->match);
    if (err) {
        return err;
    }
    struct ofp13_flow_removed *ofr = ofp13_put_fixed(b, sizeof *ofr);
    ofr->cookie = ofp_hton64(fr->cookie);
    ofr->priority = ofp_hton16(fr->priority);
    ofr->reason = fr->reason;
    ofr->table_id = fr->table_id;
    ofr->duration_sec = ofp_hton32(fr->duration_sec);
    ofr->duration_nsec = ofp_hton32(fr->duration_nsec);
    ofr->idle_timeout = ofp_hton16(fr->idle_timeout);
    ofr->hard_timeout = ofp_hton16(fr->hard_timeout);
    ofr->packet_count = ofp_hton64(fr->packet_count);
    ofr->byte_count = ofp_hton64(fr->byte_count);
    ofp13_put_match(b, &fr->match);
    return OFPERR_OK;
}

static enum ofperr
encode_packet_in(struct ofpbuf *b, const struct ofp_packet_in *pi)
{
    enum ofperr err = ofp13_check_match(&pi->match);
    if (err) {
        return err;
    }
    struct ofp13_packet_in *opi = ofp13_put_fixed(b, sizeof *opi);
    opi->buffer_id = ofp_hton32(pi->buffer_id);
    opi->total_len = ofp_hton16(pi->total_len);
    opi->reason = pi->reason;
    opi->table_id = pi->table_id;
    opi->cookie = ofp_hton64(pi->cookie);
    ofp13_put_match(b, &pi->match);
    ofpbuf_put_zeros(b, 2);
    put_data(b, pi->data, pi->data_len);
    return OFPERR_OK;
}

static enum ofperr
encode_packet_out(struct ofpbuf *b, const struct ofp_packet_out *po)
{
    size_t at = b->size;
    ofpbuf_put_zeros(b, sizeof(struct ofp13_packet_out) -
                            sizeof(struct ofp13_header));
    enum ofperr err = ofp13_put_actions(b, &po->actions);
    if (err) {
        return err;
    }
    size_t actions_len = b->size - at -
                         (sizeof(struct ofp13_packet_out) -
                          sizeof(struct ofp13_header));
    if (actions_len > UINT16_MAX) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    struct ofp13_packet_out *opo =
        (void *)(b->data + at - sizeof(struct ofp13_header));
    opo->buffer_id = ofp_hton32(po->buffer_id);
    opo->in_port = ofp_hton32(po->in_port);
    opo->actions_len = ofp_hton16((uint16_t)actions_len);
    put_data(b, po->data, po->data_len);
    return OFPERR_OK;
}

static void
encode_port(struct ofp13_port *op, const struct ofp_port *p)
{
    op->port_no = ofp_hton32(p->port_no);
    memcpy(op->hw_addr, p->hw_addr, sizeof op->hw_addr);
    ofp13_put_name(op->name, sizeof op->name, p->name);
    op->config = ofp_hton32(p->config);
    op->state = ofp_hton32(p->state);
    op->curr = ofp_hton32(p->curr);
    op->advertised = ofp_hton32(p->advertised);
    op->supported = ofp_hton32(p->supported);
    op->peer = ofp_hton32(p->peer);
    op->curr_speed = ofp_hton32(p->curr_speed);
    op->max_speed = ofp_hton32(p->max_speed);
}

static enum ofperr
encode_flow_stats_request(struct ofpbuf *b,
                          const struct ofp_flow_stats_request *r)
{
    enum ofperr err = ofp13_check_match(&r->match);
    if (err) {
        return err;
    }
    struct ofp13_flow_stats_request *o = ofpbuf_put_zeros(b, sizeof *o);
    o->table_id = r->table_id;
    o->out_port = ofp_hton32(r->out_port);
    o->out_group = ofp_hton32(r->out_group);
    o->cookie = ofp_hton64(r->cookie);
    o->cookie_mask = ofp_hton64(r->cookie_mask);
    ofp13_put_match(b, &r->match);
    return OFPERR_OK;
}

static enum ofperr
encode_multipart(struct ofpbuf *b, bool request,
                 const struct ofp_multipart *mp)
{
    uint8_t *p = ofpbuf_put_zeros(b, sizeof(struct ofp13_multipart_header) -
                                         sizeof(struct ofp13_header));
    ofp13_put_uint(p, mp->type, 2);
    ofp13_put_uint(p + 2, mp->flags, 2);

    if (request) {
        switch (mp->type) {
        case OFPMP_DESC:
        case OFPMP_PORT_DESC:
        case OFPMP_TABLE:
            return OFPERR_OK;
        case OFPMP_FLOW:
        case OFPMP_AGGREGATE:
            return encode_flow_stats_request(b, &mp->flow_req);
        case OFPMP_PORT_STATS: {
            struct ofp13_port_stats_request *r =
                ofpbuf_put_zeros(b, sizeof *r);
            r->port_no = ofp_hton32(mp->port_no);
            return OFPERR_OK;
        }
        default:
            return OFPERR_OFPBRC_BAD_MULTIPART;
        }
    }

    switch (mp->type) {
    case OFPMP_DESC: {
        struct ofp13_desc *d = ofpbuf_put_zeros(b, sizeof *d);
        ofp13_put_name(d->mfr_desc, sizeof d->mfr_desc, mp->desc.mfr_desc);
        ofp13_put_name(d->hw_desc, sizeof d->hw_desc, mp->desc.hw_desc);
        ofp13_put_name(d->sw_desc, sizeof d->sw_desc, mp->desc.sw_desc);
        ofp13_put_name(d->serial_num, sizeof d->serial_num,
                       mp->desc.serial_num);
        ofp13_put_name(d->dp_desc, sizeof d->dp_desc, mp->desc.dp_desc);
        return OFPERR_OK;
    }
    case OFPMP_AGGREGATE: {
        struct ofp13_aggregate_stats_reply *a = ofpbuf_put_zeros(b, sizeof *a);
        a->packet_count = ofp_hton64(mp->aggregate.packet_count);
        a->byte_count = ofp_hton64(mp->aggregate.byte_count);
        a->flow_count = ofp_hton32(mp->aggregate.flow_count);
        return OFPERR_OK;
    }
    default: {
        size_t n;
        enum ofperr err =
            ofp13_validate_mp_array(mp->type, mp->body, mp->body_len, &n);
        if (err) {
            return err;
        }
        put_data(b, mp->body, mp->body_len);
        return OFPERR_OK;
    }
    }
}

static enum ofperr
encode_body(struct ofpbuf *b, const struct ofp_msg *msg)
{
    switch (msg->type) {
    case OFPT_HELLO:
        if (msg->hello.has_bitmap) {
            uint8_t *e = ofpbuf_put_zeros(b, 8);
            ofp13_put_uint(e, OFPHET_VERSIONBITMAP, 2);
            ofp13_put_uint(e + 2, 8, 2);
            ofp13_put_uint(e + 4, msg->hello.bitmap, 4);
        }
        return OFPERR_OK;
    case OFPT_ERROR: {
        uint8_t *p = ofpbuf_put_zeros(b, 4);
        ofp13_put_uint(p, msg->error.type, 2);
        ofp13_put_uint(p + 2, msg->error.code, 2);
        if (msg->error.type == OFPET_EXPERIMENTER) {
            ofp13_put_uint(ofpbuf_put_zeros(b, 4), msg->error.experimenter,
                           4);
        }
        put_data(b, msg->error.data, msg->error.data_len);
        return OFPERR_OK;
    }
    case OFPT_ECHO_REQUEST:
    case OFPT_ECHO_REPLY:
        put_data(b, msg->echo.data, msg->echo.data_len);
        return OFPERR_OK;
    case OFPT_FEATURES_REQUEST:
    case OFPT_GET_CONFIG_REQUEST:
    case OFPT_BARRIER_REQUEST:
    case OFPT_BARRIER_REPLY:
        return OFPERR_OK;
    case OFPT_FEATURES_REPLY: {
        uint8_t *p = ofpbuf_put_zeros(b, 24);
        ofp13_put_uint(p, msg->features.datapath_id, 8);
        ofp13_put_uint(p + 8, msg->features.n_buffers, 4);
        p[12] = msg->features.n_tables;
        p[13] = msg->features.auxiliary_id;
        ofp13_put_uint(p + 16, msg->features.capabilities, 4);
        return OFPERR_OK;
    }
    case OFPT_GET_CONFIG_REPLY:
    case OFPT_SET_CONFIG: {
        if (msg->config.flags & ~OFPC_FRAG_MASK) {
            return OFPERR_OFPSCFC_BAD_FLAGS;
        }
        uint8_t *p = ofpbuf_put_zeros(b, 4);
        ofp13_put_uint(p, msg->config.flags, 2);
        ofp13_put_uint(p + 2, msg->config.miss_send_len, 2);
        return OFPERR_OK;
    }
    case OFPT_FLOW_MOD:
        return encode_flow_mod(b, &msg->flow_mod);
    case OFPT_FLOW_REMOVED:
        return encode_flow_removed(b, &msg->flow_removed);
    case OFPT_PACKET_IN:
        return encode_packet_in(b, &msg->packet_in);
    case OFPT_PACKET_OUT:
        return encode_packet_out(b, &msg->packet_out);
    case OFPT_PORT_STATUS: {
        uint8_t *p = ofpbuf_put_zeros(b, 8 + sizeof(struct ofp13_port));
        p[0] = msg->port_status.reason;
        encode_port((struct ofp13_port *)(p + 8), &msg->port_status.desc);
        return OFPERR_OK;
    }
    case OFPT_ROLE_REQUEST:
    case OFPT_ROLE_REPLY: {
        if (msg->role.role > OFPCR_ROLE_SLAVE) {
            return OFPERR_OFPRRFC_BAD_ROLE;
        }
        uint8_t *p = ofpbuf_put_zeros(b, 16);
        ofp13_put_uint(p, msg->role.role, 4);
        ofp13_put_uint(p + 8, msg->role.generation_id, 8);
        return OFPERR_OK;
    }
    case OFPT_GET_ASYNC_REQUEST:
        return OFPERR_OK;
    case OFPT_SET_ASYNC:
    case OFPT_GET_ASYNC_REPLY: {
        const uint32_t *masks[3] = {msg->async.packet_in,
                                    msg->async.port_status,
                                    msg->async.flow_removed};
        uint8_t *p = ofpbuf_put_zeros(b, 24);
        for (size_t i = 0; i < 6; i++) {
            ofp13_put_uint(p + 4 * i, masks[i / 2][i % 2], 4);
        }
        return OFPERR_OK;
    }
    case OFPT_MULTIPART_REQUEST:
    case OFPT_MULTIPART_REPLY:
        return encode_multipart(b, msg->type == OFPT_MULTIPART_REQUEST,
                                &msg->mp);
    default:
        return OFPERR_OFPBRC_BAD_TYPE;
    }
}

enum ofperr
ofp_encode(const struct ofp_msg *msg, struct ofpbuf *out)
{
    size_t start = ofp13_put_header(out, msg->type, msg->xid);
    if (msg->type == OFPT_HELLO) {
        /* A hello carries the sender's highest version, whatever it is. */
        out->data[start] = msg->version;
    }
    enum ofperr err = encode_body(out, msg);
    if (err) {
        ofpbuf_truncate(out, start);
        return err;
    }
    return ofp13_finish(out, start);
}

void
ofp_encode_error(struct ofpbuf *b, uint32_t xid, enum ofperr err,
                 const void *request, size_t request_len)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_ERROR, xid);
    msg.error.type = ofperr_type(err);
    msg.error.code = ofperr_code(err);
    msg.error.data = request;
    msg.error.data_len = request_len < 64 ? request_len : 64;
    (void)ofp_encode(&msg, b); /* Cannot fail: under 65535 bytes. */
}

void
ofp_encode_hello(struct ofpbuf *b, uint32_t xid)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_HELLO, xid);
    (void)ofp_encode(&msg, b); /* Cannot fail. */
}

static int
highest_bit(uint32_t x)
{
    int v = -1;
    while (x) {
        v++;
        x >>= 1;
    }
    return v;
}

uint8_t
ofp_hello_negotiate(const struct ofp_hello *peer, uint32_t ours)
{
    ours &= ~1u; /* Version 0 does not exist. */
    if (peer->has_bitmap) {
        int v = highest_bit(peer->bitmap & ours);
        return v > 0 ? (uint8_t)v : 0;
    }
    /* No bitmap: speak the lower of the two highest versions, if we can. */
    int v = highest_bit(ours);
    if (v < 0) {
        return 0;
    }
    if (peer->version < v) {
        v = peer->version;
    }
    return v > 0 && (ours & (1u << v)) ? (uint8_t)v : 0;
}

/* ---------------------------------------------------------------------- */
/* Multipart reply builders and iterators.                                 */

size_t
ofp_mp_reply_start(struct ofpbuf *b, uint32_t xid, uint16_t type,
                   uint16_t flags)
{
    size_t start = ofp13_put_header(b, OFPT_MULTIPART_REPLY, xid);
    uint8_t *p = ofpbuf_put_zeros(b, 8);
    ofp13_put_uint(p, type, 2);
    ofp13_put_uint(p + 2, flags, 2);
    return start;
}

enum ofperr
ofp_mp_finish(struct ofpbuf *b, size_t start)
{
    return ofp13_finish(b, start);
}

enum ofperr
ofp_put_flow_stats(struct ofpbuf *b, const struct ofp_flow_stats *fs)
{
    enum ofperr err = ofp13_check_match(&fs->match);
    if (err) {
        return err;
    }
    size_t start = b->size;
    struct ofp13_flow_stats *o = ofpbuf_put_zeros(b, sizeof *o);
    o->table_id = fs->table_id;
    o->duration_sec = ofp_hton32(fs->duration_sec);
    o->duration_nsec = ofp_hton32(fs->duration_nsec);
    o->priority = ofp_hton16(fs->priority);
    o->idle_timeout = ofp_hton16(fs->idle_timeout);
    o->hard_timeout = ofp_hton16(fs->hard_timeout);
    o->flags = ofp_hton16(fs->flags);
    o->cookie = ofp_hton64(fs->cookie);
    o->packet_count = ofp_hton64(fs->packet_count);
    o->byte_count = ofp_hton64(fs->byte_count);
    ofp13_put_match(b, &fs->match);
    err = ofp13_put_instructions(b, &fs->insts, fs->table_id);
    size_t len = b->size - start;
    if (!err && len > UINT16_MAX) {
        err = OFPERR_OFPBRC_BAD_LEN;
    }
    if (err) {
        ofpbuf_truncate(b, start);
        return err;
    }
    o = (struct ofp13_flow_stats *)(b->data + start);
    o->length = ofp_hton16((uint16_t)len);
    return OFPERR_OK;
}

void
ofp_put_port_stats(struct ofpbuf *b, const struct ofp_port_stats *ps)
{
    struct ofp13_port_stats *o = ofpbuf_put_zeros(b, sizeof *o);
    o->port_no = ofp_hton32(ps->port_no);
    o->rx_packets = ofp_hton64(ps->rx_packets);
    o->tx_packets = ofp_hton64(ps->tx_packets);
    o->rx_bytes = ofp_hton64(ps->rx_bytes);
    o->tx_bytes = ofp_hton64(ps->tx_bytes);
    o->rx_dropped = ofp_hton64(ps->rx_dropped);
    o->tx_dropped = ofp_hton64(ps->tx_dropped);
    o->rx_errors = ofp_hton64(ps->rx_errors);
    o->tx_errors = ofp_hton64(ps->tx_errors);
    o->rx_frame_err = ofp_hton64(ps->rx_frame_err);
    o->rx_over_err = ofp_hton64(ps->rx_over_err);
    o->rx_crc_err = ofp_hton64(ps->rx_crc_err);
    o->collisions = ofp_hton64(ps->collisions);
    o->duration_sec = ofp_hton32(ps->duration_sec);
    o->duration_nsec = ofp_hton32(ps->duration_nsec);
}

void
ofp_put_port(struct ofpbuf *b, const struct ofp_port *p)
{
    encode_port(ofpbuf_put_zeros(b, sizeof(struct ofp13_port)), p);
}

void
ofp_put_table_stats(struct ofpbuf *b, const struct ofp_table_stats *ts)
{
    struct ofp13_table_stats *o = ofpbuf_put_zeros(b, sizeof *o);
    o->table_id = ts->table_id;
    o->active_count = ofp_hton32(ts->active_count);
    o->lookup_count = ofp_hton64(ts->lookup_count);
    o->matched_count = ofp_hton64(ts->matched_count);
}
