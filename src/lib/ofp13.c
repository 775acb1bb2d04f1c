/* ofp13.c: OpenFlow 1.3 messages -- framing, decoding and encoding.
 *
 * ofp_decode() checks the header length against the input, then consumes
 * each body only through bounds-checked pulls and insists that the bytes
 * add up exactly; any mismatch is an OpenFlow error, never a read past the
 * input.  ofp_encode() appends nothing when it fails.  Neither allocates
 * beyond growing the caller's ofpbuf. */
#include "ofp13_private.h"

#include <string.h>

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                          */

static size_t
put_header(struct ofpbuf *b, uint8_t type, uint32_t xid)
{
    size_t start = b->size;
    struct ofp13_header *oh = ofpbuf_put_zeros(b, sizeof *oh);
    oh->version = OFP13_VERSION;
    oh->type = type;
    oh->xid = ofp_hton32(xid);
    return start;
}

/* Sets the length of the message that begins at 'start', or removes it if
 * it is too long for the 16-bit length field. */
static enum ofperr
finish(struct ofpbuf *b, size_t start)
{
    size_t len = b->size - start;
    if (len > UINT16_MAX) {
        ofpbuf_truncate(b, start);
        return OFPERR_OFPBRC_BAD_LEN;
    }
    struct ofp13_header *oh = (struct ofp13_header *)(b->data + start);
    oh->length = ofp_hton16((uint16_t)len);
    return OFPERR_OK;
}

static void
copy_name(char *dst, size_t dst_size, const char *src, size_t src_len)
{
    size_t n = strnlen(src, src_len);
    if (n >= dst_size) {
        n = dst_size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void
put_name(char *dst, size_t dst_len, const char *src)
{
    /* Wire strings are NUL-padded; they need no terminator when full. */
    memset(dst, 0, dst_len);
    memcpy(dst, src, strnlen(src, dst_len));
}

void
ofp_flow_mod_init(struct ofp_flow_mod *fm, uint8_t command)
{
    memset(fm, 0, sizeof *fm);
    fm->command = command;
    fm->priority = OFP_DEFAULT_PRIORITY;
    fm->buffer_id = OFP_NO_BUFFER;
    fm->out_port = OFPP_ANY;
    fm->out_group = OFPG_ANY;
}

void
ofp_msg_init(struct ofp_msg *msg, uint8_t type, uint32_t xid)
{
    memset(msg, 0, sizeof *msg);
    msg->version = OFP13_VERSION;
    msg->type = type;
    msg->xid = xid;
    switch (type) {
    case OFPT_HELLO:
        msg->hello.version = OFP13_VERSION;
        msg->hello.has_bitmap = true;
        msg->hello.bitmap = 1u << OFP13_VERSION;
        break;
    case OFPT_FLOW_MOD:
        ofp_flow_mod_init(&msg->flow_mod, OFPFC_ADD);
        break;
    case OFPT_PACKET_IN:
        msg->packet_in.buffer_id = OFP_NO_BUFFER;
        break;
    case OFPT_PACKET_OUT:
        msg->packet_out.buffer_id = OFP_NO_BUFFER;
        msg->packet_out.in_port = OFPP_CONTROLLER;
        break;
    case OFPT_MULTIPART_REQUEST:
        msg->mp.flow_req.table_id = OFPTT_ALL;
        msg->mp.flow_req.out_port = OFPP_ANY;
        msg->mp.flow_req.out_group = OFPG_ANY;
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* Framing.                                                                */

enum ofperr
ofp_frame(const void *data, size_t avail, size_t *len)
{
    *len = 0;
    if (avail < sizeof(struct ofp13_header)) {
        return OFPERR_OK;
    }
    const struct ofp13_header *oh = data;
    size_t mlen = ofp_ntoh16(oh->length);
    if (mlen < sizeof *oh) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    if (mlen <= avail) {
        *len = mlen;
    }
    return OFPERR_OK;
}

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

/* Appends the zeroed fixed part of a struct whose first 8 bytes are the
 * header already written; returns a pointer to the whole struct, valid
 * until the next put. */
static void *
put_fixed(struct ofpbuf *b, size_t struct_size)
{
    uint8_t *p =
        ofpbuf_put_zeros(b, struct_size - sizeof(struct ofp13_header));
    return p - sizeof(struct ofp13_header);
}

/* Pulls the fixed part of a struct whose first 8 bytes are the header that
 * has already been consumed; returns a pointer to the whole struct. */
static const void *
pull_fixed(struct ofpbuf *b, size_t struct_size)
{
    const uint8_t *p =
        ofpbuf_try_pull(b, struct_size - sizeof(struct ofp13_header));
    return p ? p - sizeof(struct ofp13_header) : NULL;
}

static enum ofperr
decode_flow_mod(struct ofpbuf *b, struct ofp_flow_mod *fm)
{
    const struct ofp13_flow_mod *ofm = pull_fixed(b, sizeof *ofm);
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
    const struct ofp13_flow_removed *ofr = pull_fixed(b, sizeof *ofr);
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
    const struct ofp13_packet_in *opi = pull_fixed(b, sizeof *opi);
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
    const struct ofp13_packet_out *opo = pull_fixed(b, sizeof *opo);
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
    copy_name(p->name, sizeof p->name, op->name, sizeof op->name);
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
    const struct ofp13_port_status *ops = pull_fixed(b, sizeof *ops);
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
    const struct ofp13_role_request *orr = pull_fixed(b, sizeof *orr);
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
static enum ofperr
validate_mp_array(uint16_t type, const uint8_t *body, size_t len, size_t *n)
{
    *n = 0;
    switch (type) {
    case OFPMP_PORT_STATS:
    case OFPMP_PORT_DESC: {
        size_t sz = type == OFPMP_PORT_STATS ? sizeof(struct ofp13_port_stats)
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
        while (ofpbuf_remaining(&b)) {
            struct ofp_flow_stats fs;
            enum ofperr err = pull_flow_stats(&b, &fs);
            if (err) {
                return err;
            }
            ++*n;
        }
        return OFPERR_OK;
    }
    default:
        return OFPERR_OFPBRC_BAD_MULTIPART;
    }
}

static enum ofperr
decode_multipart(struct ofpbuf *b, bool request, struct ofp_multipart *mp)
{
    const struct ofp13_multipart_header *omh = pull_fixed(b, sizeof *omh);
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
        copy_name(o->mfr_desc, sizeof o->mfr_desc, d->mfr_desc,
                  sizeof d->mfr_desc);
        copy_name(o->hw_desc, sizeof o->hw_desc, d->hw_desc,
                  sizeof d->hw_desc);
        copy_name(o->sw_desc, sizeof o->sw_desc, d->sw_desc,
                  sizeof d->sw_desc);
        copy_name(o->serial_num, sizeof o->serial_num, d->serial_num,
                  sizeof d->serial_num);
        copy_name(o->dp_desc, sizeof o->dp_desc, d->dp_desc,
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
        enum ofperr err = validate_mp_array(mp->type, body, len,
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
/* Encoding.                                                               */

static void
put_data(struct ofpbuf *b, const uint8_t *data, size_t len)
{
    if (len) {
        ofpbuf_put(b, data, len);
    }
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
    struct ofp13_flow_mod *ofm = put_fixed(b, sizeof *ofm);
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
    struct ofp13_flow_removed *ofr = put_fixed(b, sizeof *ofr);
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
    struct ofp13_packet_in *opi = put_fixed(b, sizeof *opi);
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
    put_name(op->name, sizeof op->name, p->name);
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
        put_name(d->mfr_desc, sizeof d->mfr_desc, mp->desc.mfr_desc);
        put_name(d->hw_desc, sizeof d->hw_desc, mp->desc.hw_desc);
        put_name(d->sw_desc, sizeof d->sw_desc, mp->desc.sw_desc);
        put_name(d->serial_num, sizeof d->serial_num, mp->desc.serial_num);
        put_name(d->dp_desc, sizeof d->dp_desc, mp->desc.dp_desc);
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
            validate_mp_array(mp->type, mp->body, mp->body_len, &n);
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
    size_t start = put_header(out, msg->type, msg->xid);
    if (msg->type == OFPT_HELLO) {
        /* A hello carries the sender's highest version, whatever it is. */
        out->data[start] = msg->version;
    }
    enum ofperr err = encode_body(out, msg);
    if (err) {
        ofpbuf_truncate(out, start);
        return err;
    }
    return finish(out, start);
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
    size_t start = put_header(b, OFPT_MULTIPART_REPLY, xid);
    uint8_t *p = ofpbuf_put_zeros(b, 8);
    ofp13_put_uint(p, type, 2);
    ofp13_put_uint(p + 2, flags, 2);
    return start;
}

enum ofperr
ofp_mp_finish(struct ofpbuf *b, size_t start)
{
    return finish(b, start);
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
