/* ofp13.c: OpenFlow 1.3 messages -- the pieces the decoder and the
 * encoder share (headers, lengths, names), message initialisers and
 * framing.  Decoding (with the multipart iterators) is in ofp13_decode.c,
 * encoding (with the multipart reply builders) in ofp13_encode.c.  Nothing
 * here reads past its input or allocates beyond growing the caller's
 * ofpbuf. */
#include "ofp13_private.h"

#include <string.h>

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                          */

size_t
ofp13_put_header(struct ofpbuf *b, uint8_t type, uint32_t xid)
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
enum ofperr
ofp13_finish(struct ofpbuf *b, size_t start)
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

void
ofp13_copy_name(char *dst, size_t dst_size, const char *src, size_t src_len)
{
    size_t n = strnlen(src, src_len);
    if (n >= dst_size) {
        n = dst_size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void
ofp13_put_name(char *dst, size_t dst_len, const char *src)
{
    /* Wire strings are NUL-padded; they need no terminator when full. */
    memset(dst, 0, dst_len);
    memcpy(dst, src, strnlen(src, dst_len));
}

/* Appends the zeroed fixed part of a struct whose first 8 bytes are the
 * header already written; returns a pointer to the whole struct, valid
 * until the next put. */
void *
ofp13_put_fixed(struct ofpbuf *b, size_t struct_size)
{
    uint8_t *p =
        ofpbuf_put_zeros(b, struct_size - sizeof(struct ofp13_header));
    return p - sizeof(struct ofp13_header);
}

/* Pulls the fixed part of a struct whose first 8 bytes are the header that
 * has already been consumed; returns a pointer to the whole struct. */
const void *
ofp13_pull_fixed(struct ofpbuf *b, size_t struct_size)
{
    const uint8_t *p =
        ofpbuf_try_pull(b, struct_size - sizeof(struct ofp13_header));
    return p ? p - sizeof(struct ofp13_header) : NULL;
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
ofp_flow_mod_destroy(struct ofp_flow_mod *fm)
{
    if (fm) {
        ofp_instructions_destroy(&fm->insts);
    }
}

void
ofp_flow_stats_destroy(struct ofp_flow_stats *fs)
{
    if (fs) {
        ofp_instructions_destroy(&fs->insts);
    }
}

void
ofp_msg_destroy(struct ofp_msg *msg)
{
    if (!msg) {
        return;
    }
    switch (msg->type) {
    case OFPT_FLOW_MOD:
        ofp_flow_mod_destroy(&msg->flow_mod);
        break;
    case OFPT_PACKET_OUT:
        ofp_actions_destroy(&msg->packet_out.actions);
        break;
    default:
        break; /* Nothing else owns memory. */
    }
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
