/* ofp13_decode.c: OpenFlow 1.3 decoding.
 *
 * ofp_decode() checks the header length against the input, then consumes
 * each body only through bounds-checked pulls and insists that the bytes
 * add up exactly; any mismatch is an OpenFlow error, never a read past the
 * input.  Its only allocations are action lists, sized by what the message
 * holds (ofp13_actions.c); on error it frees them before returning. */
#include "ofp13_private.h"

#include <string.h>

/* ---------------------------------------------------------------------- */
/* Decoding, one function per body.  Each consumes from 'b', which holds   */
/* exactly the body (the message minus its header).                        */

static enum ofperr
expect_empty(const struct ofpbuf *b)
{
    return ofpbuf_remaining(b) ? OFPERR_OFPBRC_BAD_LEN : OFPERR_OK;
}

static enum ofperr
decode_hello(struct ofpbuf *b, struct ofp_hello *h)
{
    while (ofpbuf_remaining(b)) {
        const struct ofp13_hello_elem_header *eh = ofpbuf_at(b, 0, 4);
        if (!eh) {
            return OFPERR_OFPBRC_BAD_LEN;
        }
        size_t elen = ofp_ntoh16(eh->length);
        if (elen < sizeof *eh) {
            return OFPERR_OFPBRC_BAD_LEN;
        }
        const uint8_t *e = ofpbuf_try_pull(b, ofp13_round_up8(elen));
        if (!e) {
            return OFPERR_OFPBRC_BAD_LEN;
        }
        if (ofp_ntoh16(eh->type) != OFPHET_VERSIONBITMAP) {
            continue; /* Unknown elements are ignored (spec 7.5.1). */
        }
        size_t words = elen - sizeof *eh;
        if (words % 4 || h->has_bitmap) {
            return OFPERR_OFPBRC_BAD_LEN;
        }
        h->has_bitmap = true;
        /* Only versions 0-31 exist; later words name none we know. */
        h->bitmap = words ? (uint32_t)ofp13_get_uint(e + sizeof *eh, 4) : 0;
    }
    return OFPERR_OK;
}

static enum ofperr
decode_error(struct ofpbuf *b, struct ofp_error *e)
{
    const ofp_be16 *tc = ofpbuf_try_pull(b, 4);
    if (!tc) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    e->type = ofp_ntoh16(tc[0]);
    e->code = ofp_ntoh16(tc[1]);
    if (e->type == OFPET_EXPERIMENTER) {
        const ofp_be32 *exp = ofpbuf_try_pull(b, sizeof *exp);
        if (!exp) {
            return OFPERR_OFPBRC_BAD_LEN;
        }
        e->experimenter = ofp_ntoh32(*exp);
    }
    e->data_len = ofpbuf_remaining(b);
    e->data = e->data_len ? ofpbuf_try_pull(b, e->data_len) : NULL;
    return OFPERR_OK;
}

static enum ofperr
decode_features(struct ofpbuf *b, struct ofp_features *f)
{
    const size_t len = sizeof(struct ofp13_switch_features) -
                       sizeof(struct ofp13_header);
    const uint8_t *p = ofpbuf_try_pull(b, len);
    if (!p || ofpbuf_remaining(b)) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    const struct ofp13_switch_features *sf =
        (const void *)(p - sizeof(struct ofp13_header));
    f->datapath_id = ofp_ntoh64(sf->datapath_id);
    f->n_buffers = ofp_ntoh32(sf->n_buffers);
    f->n_tables = sf->n_tables;
    f->auxiliary_id = sf->auxiliary_id;
    f->capabilities = ofp_ntoh32(sf->capabilities);
    return OFPERR_OK;
}

static enum ofperr
decode_config(struct ofpbuf *b, struct ofp_switch_config *c)
{
    const ofp_be16 *p = ofpbuf_try_pull(b, 4);
    if (!p || ofpbuf_remaining(b)) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    c->flags = ofp_ntoh16(p[0]);
    c->miss_send_len = ofp_ntoh16(p[1]);
    if (c->flags & ~OFPC_FRAG_MASK) {
        return OFPERR_OFPSCFC_BAD_FLAGS;
    }
    return OFPERR_OK;
}

static enum ofperr
decode_flow_mod(struct ofpbuf *b, struct ofp_flow_mod *fm)
{
    const struct ofp13_flow_mod *ofm = ofp13_pull_fixed(b, sizeof *ofm);
    if (!ofm) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    fm->cookie = ofp_ntoh64(ofm->cookie);
    fm->cookie_mask = ofp_ntoh64(ofm->cookie_mask);
    fm->table_id = ofm->table_id;
    fm->command = ofm->command;
    fm->idle_timeout = ofp_ntoh16(ofm->idle_timeout);
    fm->hard_timeout = ofp_ntoh16(ofm->hard_timeout);
    fm->priority = ofp_ntoh16(ofm->priority);
    fm->buffer_id = ofp_ntoh32(ofm->buffer_id);
    fm->out_port = ofp_ntoh32(ofm->out_port);
    fm->out_group = ofp_ntoh32(ofm->out_group);
    fm->flags = ofp_ntoh16(ofm->flags);

    enum ofperr err = ofp13_pull_match(b, &fm->match, OFP13_MATCH_STRICT);
    if (!err) {
        err = ofp_match_check_prereqs(&fm->match);
    }
    if (err) {
        return err;
    }
    if (fm->command > OFPFC_DELETE_STRICT) {
        return OFPERR_OFPFMFC_BAD_COMMAND;
    }
    if (fm->flags & ~OFPFF_ALL) {
        return OFPERR_OFPFMFC_BAD_FLAGS;
    }
    if (fm->table_id == OFPTT_ALL && fm->command < OFPFC_DELETE) {
        return OFPERR_OFPFMFC_BAD_TABLE_ID;
    }
    err = ofp13_pull_instructions(b, ofpbuf_remaining(b), fm->table_id,
                                  &fm->insts);
    return err ? err : ofp_flow_check(&fm->match, &fm->insts);
}

static enum ofperr
decode_flow_removed(struct ofpbuf *b, struct ofp_flow_removed *fr)
{
    const struct ofp13_flow_removed *ofr = ofp13_pull_fixed(b, sizeof *ofr);
    if (!ofr) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    fr->cookie = ofp_ntoh64(ofr->cookie);
    fr->priority = ofp_ntoh16(ofr->priority);
    fr->reason = ofr->reason;
    fr->table_id = ofr->table_id;
    fr->duration_sec = ofp_ntoh32(ofr->duration_sec);
    fr->duration_nsec = ofp_ntoh32(ofr->duration_nsec);
    fr->idle_timeout = ofp_ntoh16(ofr->idle_timeout);
    fr->hard_timeout = ofp_ntoh16(ofr->hard_timeout);
    fr->packet_count = ofp_ntoh64(ofr->packet_count);
    fr->byte_count = ofp_ntoh64(ofr->byte_count);
    enum ofperr err = ofp13_pull_match(b, &fr->match, OFP13_MATCH_LENIENT);
    return err ? err : expect_empty(b);
}

static enum ofperr
decode_packet_in(struct ofpbuf *b, struct ofp_packet_in *pi)
{
    const struct ofp13_packet_in *opi = ofp13_pull_fixed(b, sizeof *opi);
    if (!opi) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    pi->buffer_id = ofp_ntoh32(opi->buffer_id);
    pi->total_len = ofp_ntoh16(opi->total_len);
    pi->reason = opi->reason;
    pi->table_id = opi->table_id;
    pi->cookie = ofp_ntoh64(opi->cookie);
    enum ofperr err = ofp13_pull_match(b, &pi->match, OFP13_MATCH_LENIENT);
    if (err) {
        return err;
    }
    if (!ofpbuf_try_pull(b, 2)) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    pi->data_len = ofpbuf_remaining(b);
    pi->data = pi->data_len ? ofpbuf_try_pull(b, pi->data_len) : NULL;
    return OFPERR_OK;
}

static enum ofperr
decode_packet_out(struct ofpbuf *b, struct ofp_packet_out *po)
{
    const struct ofp13_packet_out *opo = ofp13_pull_fixed(b, sizeof *opo);
    if (!opo) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    po->buffer_id = ofp_ntoh32(opo->buffer_id);
    po->in_port = ofp_ntoh32(opo->in_port);
    size_t actions_len = ofp_ntoh16(opo->actions_len);
    if (actions_len > ofpbuf_remaining(b)) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    enum ofperr err = ofp13_pull_actions(b, actions_len, &po->actions);
    if (err) {
        return err;
    }
    po->data_len = ofpbuf_remaining(b);
    po->data = po->data_len ? ofpbuf_try_pull(b, po->data_len) : NULL;
    return OFPERR_OK;
}

static void
decode_port(const struct ofp13_port *op, struct ofp_port *p)
{
    p->port_no = ofp_ntoh32(op->port_no);
    memcpy(p->hw_addr, op->hw_addr, sizeof p->hw_addr);
    ofp13_copy_name(p->name, sizeof p->name, op->name, sizeof op->name);
    p->config = ofp_ntoh32(op->config);
    p->state = ofp_ntoh32(op->state);
    p->curr = ofp_ntoh32(op->curr);
    p->advertised = ofp_ntoh32(op->advertised);
    p->supported = ofp_ntoh32(op->supported);
    p->peer = ofp_ntoh32(op->peer);
    p->curr_speed = ofp_ntoh32(op->curr_speed);
    p->max_speed = ofp_ntoh32(op->max_speed);
}

static enum ofperr
decode_port_status(struct ofpbuf *b, struct ofp_port_status *ps)
{
    const struct ofp13_port_status *ops = ofp13_pull_fixed(b, sizeof *ops);
    if (!ops || ofpbuf_remaining(b)) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    ps->reason = ops->reason;
    decode_port(&ops->desc, &ps->desc);
    return OFPERR_OK;
}

static enum ofperr
decode_role(struct ofpbuf *b, struct ofp_role *r)
{
    const struct ofp13_role_request *orr = ofp13_pull_fixed(b, sizeof *orr);
    if (!orr || ofpbuf_remaining(b)) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    r->role = ofp_ntoh32(orr->role);
    r->generation_id = ofp_ntoh64(orr->generation_id);
    return r->role <= OFPCR_ROLE_SLAVE ? OFPERR_OK : OFPERR_OFPRRFC_BAD_ROLE;
}

static enum ofperr
decode_async(struct ofpbuf *b, struct ofp_async_config *a)
{
    const uint8_t *p = ofpbuf_try_pull(b, 24);
    if (!p || ofpbuf_remaining(b)) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    uint32_t *masks[3] = {a->packet_in, a->port_status, a->flow_removed};
    for (size_t i = 0; i < 6; i++) {
        ofp_be32 v;
        memcpy(&v, p + 4 * i, sizeof v);
        masks[i / 2][i % 2] = ofp_ntoh32(v);
    }
    return OFPERR_OK;
}

static enum ofperr
decode_flow_stats_request(struct ofpbuf *b, struct ofp_flow_stats_request *r)
{
    const struct ofp13_flow_stats_request *ofsr =
        ofpbuf_try_pull(b, sizeof *ofsr);
    if (!ofsr) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    r->table_id = ofsr->table_id;
    r->out_port = ofp_ntoh32(ofsr->out_port);
    r->out_group = ofp_ntoh32(ofsr->out_group);
    r->cookie = ofp_ntoh64(ofsr->cookie);
    r->cookie_mask = ofp_ntoh64(ofsr->cookie_mask);
    enum ofperr err = ofp13_pull_match(b, &r->match, OFP13_MATCH_STRICT);
    return err ? err : expect_empty(b);
}

/* One flow statistics entry from 'b'. */
static enum ofperr
pull_flow_stats(struct ofpbuf *b, struct ofp_flow_stats *fs)
{
    const struct ofp13_flow_stats *ofs = ofpbuf_at(b, 0, sizeof *ofs);
    if (!ofs) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    size_t len = ofp_ntoh16(ofs->length);
    if (len < sizeof *ofs + sizeof(struct ofp13_match) || len % 8) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    const uint8_t *entry = ofpbuf_try_pull(b, len);
    if (!entry) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    struct ofpbuf e;
    ofpbuf_use_const(&e, entry + sizeof *ofs, len - sizeof *ofs);
    fs->table_id = ofs->table_id;
    fs->duration_sec = ofp_ntoh32(ofs->duration_sec);
    fs->duration_nsec = ofp_ntoh32(ofs->duration_nsec);
    fs->priority = ofp_ntoh16(ofs->priority);
    fs->idle_timeout = ofp_ntoh16(ofs->idle_timeout);
    fs->hard_timeout = ofp_ntoh16(ofs->hard_timeout);
    fs->flags = ofp_ntoh16(ofs->flags);
    fs->cookie = ofp_ntoh64(ofs->cookie);
    fs->packet_count = ofp_ntoh64(ofs->packet_count);
    fs->byte_count = ofp_ntoh64(ofs->byte_count);
    enum ofperr err = ofp13_pull_match(&e, &fs->match, OFP13_MATCH_STRICT);
    if (err) {
        return err;
    }
    return ofp13_pull_instructions(&e, ofpbuf_remaining(&e), fs->table_id,
                                   &fs->insts);
}

/* Checks every entry of an array reply body; counts them. */
enum ofperr
ofp13_validate_mp_array(uint16_t type, const uint8_t *body, size_t len,
                        size_t *n)
{
    *n = 0;
    switch (type) {
    case OFPMP_PORT_STATS:
    case OFPMP_PORT_DESC:
    case OFPMP_TABLE: {
        size_t sz = type == OFPMP_PORT_STATS ? sizeof(struct ofp13_port_stats)
                    : type == OFPMP_TABLE    ? sizeof(struct ofp13_table_stats)
                                             : sizeof(struct ofp13_port);
        if (len % sz) {
            return OFPERR_OFPBRC_BAD_LEN;
        }
        *n = len / sz;
        return OFPERR_OK;
    }
    case OFPMP_FLOW: {
        struct ofpbuf b;
        ofpbuf_use_const(&b, body, len);
        struct ofp_flow_stats fs = {0};
        enum ofperr err = OFPERR_OK;
        while (!err && ofpbuf_remaining(&b)) {
            err = pull_flow_stats(&b, &fs);
            *n += !err;
        }
        ofp_flow_stats_destroy(&fs);
        return err;
    }
    default:
        return OFPERR_OFPBRC_BAD_MULTIPART;
    }
}

static enum ofperr
decode_multipart(struct ofpbuf *b, bool request, struct ofp_multipart *mp)
{
    const struct ofp13_multipart_header *omh =
        ofp13_pull_fixed(b, sizeof *omh);
    if (!omh) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    mp->type = ofp_ntoh16(omh->type);
    mp->flags = ofp_ntoh16(omh->flags);
    if (mp->type == OFPMP_EXPERIMENTER) {
        return OFPERR_OFPBRC_BAD_EXPERIMENTER;
    }
    if (request) {
        switch (mp->type) {
        case OFPMP_DESC:
        case OFPMP_PORT_DESC:
        case OFPMP_TABLE:
            return expect_empty(b);
        case OFPMP_FLOW:
        case OFPMP_AGGREGATE:
            return decode_flow_stats_request(b, &mp->flow_req);
        case OFPMP_PORT_STATS: {
            const struct ofp13_port_stats_request *r =
                ofpbuf_try_pull(b, sizeof *r);
            if (!r || ofpbuf_remaining(b)) {
                return OFPERR_OFPBRC_BAD_LEN;
            }
            mp->port_no = ofp_ntoh32(r->port_no);
            return OFPERR_OK;
        }
        default:
            return OFPERR_OFPBRC_BAD_MULTIPART;
        }
    }

    switch (mp->type) {
    case OFPMP_DESC: {
        const struct ofp13_desc *d = ofpbuf_try_pull(b, sizeof *d);
        if (!d || ofpbuf_remaining(b)) {
            return OFPERR_OFPBRC_BAD_LEN;
        }
        struct ofp_desc *o = &mp->desc;
        ofp13_copy_name(o->mfr_desc, sizeof o->mfr_desc, d->mfr_desc,
                  sizeof d->mfr_desc);
        ofp13_copy_name(o->hw_desc, sizeof o->hw_desc, d->hw_desc,
                  sizeof d->hw_desc);
        ofp13_copy_name(o->sw_desc, sizeof o->sw_desc, d->sw_desc,
                  sizeof d->sw_desc);
        ofp13_copy_name(o->serial_num, sizeof o->serial_num, d->serial_num,
                  sizeof d->serial_num);
        ofp13_copy_name(o->dp_desc, sizeof o->dp_desc, d->dp_desc,
                  sizeof d->dp_desc);
        return OFPERR_OK;
    }
    case OFPMP_AGGREGATE: {
        const struct ofp13_aggregate_stats_reply *a =
            ofpbuf_try_pull(b, sizeof *a);
        if (!a || ofpbuf_remaining(b)) {
            return OFPERR_OFPBRC_BAD_LEN;
        }
        mp->aggregate.packet_count = ofp_ntoh64(a->packet_count);
        mp->aggregate.byte_count = ofp_ntoh64(a->byte_count);
        mp->aggregate.flow_count = ofp_ntoh32(a->flow_count);
        return OFPERR_OK;
    }
    default: {
        size_t len = ofpbuf_remaining(b);
        const uint8_t *body = len ? ofpbuf_try_pull(b, len) : NULL;
        enum ofperr err = ofp13_validate_mp_array(mp->type, body, len,
                                            &mp->n_entries);
        if (err) {
            mp->n_entries = 0;
            return err;
        }
        mp->body = body;
        mp->body_len = len;
        return OFPERR_OK;
    }
    }
}

static enum ofperr
decode_body(struct ofpbuf *b, struct ofp_msg *msg)
{
    switch (msg->type) {
    case OFPT_HELLO:
        return decode_hello(b, &msg->hello);
    case OFPT_ERROR:
        return decode_error(b, &msg->error);
    case OFPT_ECHO_REQUEST:
    case OFPT_ECHO_REPLY:
        msg->echo.data_len = ofpbuf_remaining(b);
        msg->echo.data =
            msg->echo.data_len ? ofpbuf_try_pull(b, msg->echo.data_len) : NULL;
        return OFPERR_OK;
    case OFPT_FEATURES_REQUEST:
    case OFPT_GET_CONFIG_REQUEST:
    case OFPT_BARRIER_REQUEST:
    case OFPT_BARRIER_REPLY:
        return expect_empty(b);
    case OFPT_FEATURES_REPLY:
        return decode_features(b, &msg->features);
    case OFPT_GET_CONFIG_REPLY:
    case OFPT_SET_CONFIG:
        return decode_config(b, &msg->config);
    case OFPT_FLOW_MOD:
        return decode_flow_mod(b, &msg->flow_mod);
    case OFPT_FLOW_REMOVED:
        return decode_flow_removed(b, &msg->flow_removed);
    case OFPT_PACKET_IN:
        return decode_packet_in(b, &msg->packet_in);
    case OFPT_PACKET_OUT:
        return decode_packet_out(b, &msg->packet_out);
    case OFPT_PORT_STATUS:
        return decode_port_status(b, &msg->port_status);
    case OFPT_ROLE_REQUEST:
    case OFPT_ROLE_REPLY:
        return decode_role(b, &msg->role);
    case OFPT_GET_ASYNC_REQUEST:
        return expect_empty(b);
    case OFPT_SET_ASYNC:
    case OFPT_GET_ASYNC_REPLY:
        return decode_async(b, &msg->async);
    case OFPT_MULTIPART_REQUEST:
    case OFPT_MULTIPART_REPLY:
        return decode_multipart(b, msg->type == OFPT_MULTIPART_REQUEST,
                                &msg->mp);
    case OFPT_EXPERIMENTER:
        return ofpbuf_remaining(b) < 8 ? OFPERR_OFPBRC_BAD_LEN
                                       : OFPERR_OFPBRC_BAD_EXPERIMENTER;
    default:
        return OFPERR_OFPBRC_BAD_TYPE;
    }
}

enum ofperr
ofp_decode(const void *data, size_t len, struct ofp_msg *msg)
{
    memset(msg, 0, sizeof *msg);
    struct ofpbuf b;
    ofpbuf_use_const(&b, data, len);
    const struct ofp13_header *oh = ofpbuf_try_pull(&b, sizeof *oh);
    if (!oh) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    msg->version = oh->version;
    msg->type = oh->type;
    msg->xid = ofp_ntoh32(oh->xid);
    if (ofp_ntoh16(oh->length) != len) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    if (oh->type == OFPT_HELLO) {
        msg->hello.version = oh->version;
    } else if (oh->version != OFP13_VERSION) {
        return OFPERR_OFPBRC_BAD_VERSION;
    }
    enum ofperr err = decode_body(&b, msg);
    if (err) {
        ofp_msg_destroy(msg);
        uint8_t version = msg->version, type = msg->type;
        uint32_t xid = msg->xid;
        memset(msg, 0, sizeof *msg);
        msg->version = version;
        msg->type = type;
        msg->xid = xid;
    }
    return err;
}

/* ---------------------------------------------------------------------- */
/* Multipart reply iterators.                                              */

void
ofp_mp_iter_init(struct ofp_mp_iter *it, const struct ofp_multipart *mp)
{
    ofpbuf_use_const(&it->body, mp->body, mp->body_len);
    it->type = mp->type;
}

bool
ofp_flow_stats_next(struct ofp_mp_iter *it, struct ofp_flow_stats *fs)
{
    if (it->type != OFPMP_FLOW || !ofpbuf_remaining(&it->body)) {
        return false;
    }
    if (pull_flow_stats(&it->body, fs)) {
        ofpbuf_use_const(&it->body, NULL, 0);
        return false;
    }
    return true;
}

bool
ofp_port_stats_next(struct ofp_mp_iter *it, struct ofp_port_stats *ps)
{
    const struct ofp13_port_stats *o;
    if (it->type != OFPMP_PORT_STATS ||
        !(o = ofpbuf_try_pull(&it->body, sizeof *o))) {
        return false;
    }
    ps->port_no = ofp_ntoh32(o->port_no);
    ps->rx_packets = ofp_ntoh64(o->rx_packets);
    ps->tx_packets = ofp_ntoh64(o->tx_packets);
    ps->rx_bytes = ofp_ntoh64(o->rx_bytes);
    ps->tx_bytes = ofp_ntoh64(o->tx_bytes);
    ps->rx_dropped = ofp_ntoh64(o->rx_dropped);
    ps->tx_dropped = ofp_ntoh64(o->tx_dropped);
    ps->rx_errors = ofp_ntoh64(o->rx_errors);
    ps->tx_errors = ofp_ntoh64(o->tx_errors);
    ps->rx_frame_err = ofp_ntoh64(o->rx_frame_err);
    ps->rx_over_err = ofp_ntoh64(o->rx_over_err);
    ps->rx_crc_err = ofp_ntoh64(o->rx_crc_err);
    ps->collisions = ofp_ntoh64(o->collisions);
    ps->duration_sec = ofp_ntoh32(o->duration_sec);
    ps->duration_nsec = ofp_ntoh32(o->duration_nsec);
    return true;
}

bool
ofp_port_desc_next(struct ofp_mp_iter *it, struct ofp_port *p)
{
    const struct ofp13_port *o;
    if (it->type != OFPMP_PORT_DESC ||
        !(o = ofpbuf_try_pull(&it->body, sizeof *o))) {
        return false;
    }
    decode_port(o, p);
    return true;
}

bool
ofp_table_stats_next(struct ofp_mp_iter *it, struct ofp_table_stats *ts)
{
    const struct ofp13_table_stats *o;
    if (it->type != OFPMP_TABLE ||
        !(o = ofpbuf_try_pull(&it->body, sizeof *o))) {
        return false;
    }
    ts->table_id = o->table_id;
    ts->active_count = ofp_ntoh32(o->active_count);
    ts->lookup_count = ofp_ntoh64(o->lookup_count);
    ts->matched_count = ofp_ntoh64(o->matched_count);
    return true;
}
