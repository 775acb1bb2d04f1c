/* ofp13_actions.c: actions and instructions -- the lists' lifecycle (heap
 * arrays they own, grown by the builders, sized exactly by the decoder),
 * builders, wire decoding and encoding.
 *
 * Every action and instruction is length-checked (at least 8, a multiple of
 * 8, inside its container, the exact size of its type) before its body is
 * read, and the first problem is reported with the code Open vSwitch would
 * send.  The encoder refuses what the decoder would refuse, so mignet never
 * sends a switch something it could not itself parse. */
#include "ofp13_private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* ---------------------------------------------------------------------- */
/* Lists: lifecycle and builders.                                          */

void
ofp_actions_init(struct ofp_actions *acts)
{
    *acts = (struct ofp_actions){0};
}

void
ofp_actions_destroy(struct ofp_actions *acts)
{
    if (acts) {
        free(acts->a);
        ofp_actions_init(acts);
    }
}

void
ofp_actions_clear(struct ofp_actions *acts)
{
    acts->n = 0;
}

/* Makes room for exactly 'n' actions (no more: the decoder allocates what
 * the message holds).  'n' is at most OFP_MAX_ACTIONS, so the byte count
 * cannot overflow; the check says so to the reader and to the compiler. */
static void
actions_reserve_exact(struct ofp_actions *acts, size_t n)
{
    if (n <= acts->allocated) {
        return;
    }
    _Static_assert(OFP_MAX_ACTIONS <= SIZE_MAX / sizeof(struct ofp_action),
                   "a full action list fits in size_t bytes");
    if (n > OFP_MAX_ACTIONS) {
        abort();
    }
    acts->a = xrealloc(acts->a, n * sizeof *acts->a);
    acts->allocated = n;
}

void
ofp_actions_copy(struct ofp_actions *dst, const struct ofp_actions *src)
{
    if (dst == src) {
        return;
    }
    actions_reserve_exact(dst, src->n);
    if (src->n) {
        memcpy(dst->a, src->a, src->n * sizeof *src->a);
    }
    dst->n = src->n;
}

static struct ofp_action *
actions_append(struct ofp_actions *acts, enum ofp_action_type type)
{
    if (acts->n >= OFP_MAX_ACTIONS) {
        return NULL;
    }
    if (acts->n == acts->allocated) {
        /* Doubling from 4, capped at the most a message can hold. */
        size_t cap = acts->allocated ? acts->allocated * 2 : 4;
        actions_reserve_exact(acts, cap < OFP_MAX_ACTIONS ? cap
                                                          : OFP_MAX_ACTIONS);
    }
    struct ofp_action *a = &acts->a[acts->n++];
    *a = (struct ofp_action){0};
    a->type = type;
    return a;
}

enum ofperr
ofp_actions_output(struct ofp_actions *acts, uint32_t port)
{
    struct ofp_action *a = actions_append(acts, OFP_ACT_OUTPUT);
    if (!a) {
        return OFPERR_OFPBAC_TOO_MANY;
    }
    a->output.port = port;
    a->output.max_len = port == OFPP_CONTROLLER ? OFPCML_NO_BUFFER : 0;
    return OFPERR_OK;
}

enum ofperr
ofp_actions_controller(struct ofp_actions *acts, uint16_t max_len)
{
    struct ofp_action *a = actions_append(acts, OFP_ACT_OUTPUT);
    if (!a) {
        return OFPERR_OFPBAC_TOO_MANY;
    }
    a->output.port = OFPP_CONTROLLER;
    a->output.max_len = max_len;
    return OFPERR_OK;
}

enum ofperr
ofp_actions_group(struct ofp_actions *acts, uint32_t group_id)
{
    struct ofp_action *a = actions_append(acts, OFP_ACT_GROUP);
    if (!a) {
        return OFPERR_OFPBAC_TOO_MANY;
    }
    a->group_id = group_id;
    return OFPERR_OK;
}

static enum ofperr check_action(const struct ofp_action *);

enum ofperr
ofp_actions_set_field(struct ofp_actions *acts, enum ofp_field f,
                      uint64_t value)
{
    struct ofp_action *a = actions_append(acts, OFP_ACT_SET_FIELD);
    if (!a) {
        return OFPERR_OFPBAC_TOO_MANY;
    }
    a->set_field.field = f;
    a->set_field.value = value;
    enum ofperr err = check_action(a);
    if (err) {
        acts->n--;
    }
    return err;
}

enum ofperr
ofp_actions_push_vlan(struct ofp_actions *acts, uint16_t ethertype)
{
    struct ofp_action *a = actions_append(acts, OFP_ACT_PUSH_VLAN);
    if (!a) {
        return OFPERR_OFPBAC_TOO_MANY;
    }
    a->ethertype = ethertype;
    return OFPERR_OK;
}

enum ofperr
ofp_actions_pop_vlan(struct ofp_actions *acts)
{
    return actions_append(acts, OFP_ACT_POP_VLAN) ? OFPERR_OK
                                                  : OFPERR_OFPBAC_TOO_MANY;
}

enum ofperr
ofp_actions_dec_nw_ttl(struct ofp_actions *acts)
{
    return actions_append(acts, OFP_ACT_DEC_NW_TTL) ? OFPERR_OK
                                                    : OFPERR_OFPBAC_TOO_MANY;
}

enum ofperr
ofp_actions_move(struct ofp_actions *acts, enum ofp_field src,
                 uint16_t src_ofs, enum ofp_field dst, uint16_t dst_ofs,
                 uint16_t n_bits)
{
    struct ofp_action *a = actions_append(acts, OFP_ACT_MOVE);
    if (!a) {
        return OFPERR_OFPBAC_TOO_MANY;
    }
    a->move.src = src;
    a->move.dst = dst;
    a->move.src_ofs = src_ofs;
    a->move.dst_ofs = dst_ofs;
    a->move.n_bits = n_bits;
    return OFPERR_OK;
}

static bool
action_equal(const struct ofp_action *a, const struct ofp_action *b)
{
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case OFP_ACT_OUTPUT:
        return a->output.port == b->output.port &&
               a->output.max_len == b->output.max_len;
    case OFP_ACT_GROUP:
        return a->group_id == b->group_id;
    case OFP_ACT_SET_FIELD:
        return a->set_field.field == b->set_field.field &&
               a->set_field.value == b->set_field.value;
    case OFP_ACT_PUSH_VLAN:
        return a->ethertype == b->ethertype;
    case OFP_ACT_POP_VLAN:
    case OFP_ACT_DEC_NW_TTL:
        return true;
    case OFP_ACT_MOVE:
        return a->move.src == b->move.src && a->move.dst == b->move.dst &&
               a->move.src_ofs == b->move.src_ofs &&
               a->move.dst_ofs == b->move.dst_ofs &&
               a->move.n_bits == b->move.n_bits;
    }
    return false;
}

bool
ofp_actions_equal(const struct ofp_actions *a, const struct ofp_actions *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (!action_equal(&a->a[i], &b->a[i])) {
            return false;
        }
    }
    return true;
}

void
ofp_instructions_init(struct ofp_instructions *insts)
{
    *insts = (struct ofp_instructions){0};
}

void
ofp_instructions_destroy(struct ofp_instructions *insts)
{
    if (insts) {
        ofp_actions_destroy(&insts->apply);
        ofp_actions_destroy(&insts->write);
        ofp_instructions_init(insts);
    }
}

void
ofp_instructions_clear(struct ofp_instructions *insts)
{
    insts->present = 0;
    ofp_actions_clear(&insts->apply);
    ofp_actions_clear(&insts->write);
    insts->metadata = insts->metadata_mask = 0;
    insts->goto_table = 0;
}

void
ofp_instructions_copy(struct ofp_instructions *dst,
                      const struct ofp_instructions *src)
{
    dst->present = src->present;
    dst->metadata = src->metadata;
    dst->metadata_mask = src->metadata_mask;
    dst->goto_table = src->goto_table;
    ofp_actions_copy(&dst->apply, &src->apply);
    ofp_actions_copy(&dst->write, &src->write);
}

struct ofp_actions *
ofp_instructions_apply(struct ofp_instructions *insts)
{
    insts->present |= OFP_INST_APPLY;
    return &insts->apply;
}

bool
ofp_instructions_equal(const struct ofp_instructions *a,
                       const struct ofp_instructions *b)
{
    if (a->present != b->present) {
        return false;
    }
    if ((a->present & OFP_INST_APPLY) &&
        !ofp_actions_equal(&a->apply, &b->apply)) {
        return false;
    }
    if ((a->present & OFP_INST_WRITE) &&
        !ofp_actions_equal(&a->write, &b->write)) {
        return false;
    }
    if ((a->present & OFP_INST_METADATA) &&
        (a->metadata != b->metadata ||
         a->metadata_mask != b->metadata_mask)) {
        return false;
    }
    if ((a->present & OFP_INST_GOTO) && a->goto_table != b->goto_table) {
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------------- */
/* Validation shared by decoder and encoder.                               */

static bool
output_port_ok(uint32_t port)
{
    return (port != 0 && port <= OFPP_MAX) ||
           (port >= OFPP_IN_PORT && port <= OFPP_LOCAL);
}

static enum ofperr
check_move(enum ofp_field src, uint16_t src_ofs, enum ofp_field dst,
           uint16_t dst_ofs, uint16_t n_bits)
{
    if ((unsigned)src >= OFP_F_N || (unsigned)dst >= OFP_F_N) {
        return OFPERR_OFPBAC_BAD_ARGUMENT;
    }
    unsigned src_bits = ofp_field_info(src)->width * 8u;
    unsigned dst_bits = ofp_field_info(dst)->width * 8u;
    if (!n_bits || src_ofs >= src_bits || n_bits > src_bits - src_ofs ||
        dst_ofs >= dst_bits || n_bits > dst_bits - dst_ofs) {
        return OFPERR_OFPBAC_BAD_ARGUMENT;
    }
    return OFPERR_OK;
}

static enum ofperr
check_action(const struct ofp_action *a)
{
    switch (a->type) {
    case OFP_ACT_OUTPUT:
        return output_port_ok(a->output.port) ? OFPERR_OK
                                              : OFPERR_OFPBAC_BAD_OUT_PORT;
    case OFP_ACT_GROUP:
        return a->group_id <= OFPG_MAX ? OFPERR_OK
                                       : OFPERR_OFPBAC_BAD_OUT_GROUP;
    case OFP_ACT_SET_FIELD: {
        enum ofp_field f = a->set_field.field;
        if ((unsigned)f >= OFP_F_N) {
            return OFPERR_OFPBAC_BAD_SET_TYPE;
        }
        /* As Open vSwitch: these fields are read-only, and a VLAN ID is
         * written together with its "present" bit. */
        if (f == OFP_F_IN_PORT || f == OFP_F_ETH_TYPE || f == OFP_F_IP_PROTO ||
            a->set_field.value > ofp13_field_value_max(f) ||
            (f == OFP_F_VLAN_VID && !(a->set_field.value & OFPVID_PRESENT))) {
            return OFPERR_OFPBAC_BAD_SET_ARGUMENT;
        }
        return OFPERR_OK;
    }
    case OFP_ACT_PUSH_VLAN:
        return a->ethertype == 0x8100 || a->ethertype == 0x88a8
                   ? OFPERR_OK
                   : OFPERR_OFPBAC_BAD_ARGUMENT;
    case OFP_ACT_POP_VLAN:
    case OFP_ACT_DEC_NW_TTL:
        return OFPERR_OK;
    case OFP_ACT_MOVE:
        return check_move(a->move.src, a->move.src_ofs, a->move.dst,
                          a->move.dst_ofs, a->move.n_bits);
    }
    return OFPERR_OFPBAC_BAD_TYPE;
}

/* Walks 'acts' as the switch would, updating what is known about the
 * packet in 'ctx'. */
static enum ofperr
check_actions_consistent(const struct ofp_actions *acts,
                         struct ofp13_flow_ctx *ctx)
{
    for (size_t i = 0; i < acts->n; i++) {
        const struct ofp_action *a = &acts->a[i];
        bool ok = true;
        switch (a->type) {
        case OFP_ACT_SET_FIELD:
            ok = ofp13_field_prereqs_ok(a->set_field.field, ctx, true);
            break;
        case OFP_ACT_MOVE:
            ok = ofp13_field_prereqs_ok(a->move.src, ctx, true) &&
                 ofp13_field_prereqs_ok(a->move.dst, ctx, true);
            break;
        case OFP_ACT_PUSH_VLAN:
            ctx->vlan = true;
            break;
        case OFP_ACT_POP_VLAN:
            ok = ctx->vlan;
            ctx->vlan = false;
            break;
        case OFP_ACT_DEC_NW_TTL:
            ok = ctx->eth_type == 0x0800 || ctx->eth_type == 0x86dd;
            break;
        case OFP_ACT_OUTPUT:
        case OFP_ACT_GROUP:
            break;
        }
        if (!ok) {
            return OFPERR_OFPBAC_MATCH_INCONSISTENT;
        }
    }
    return OFPERR_OK;
}

enum ofperr
ofp_flow_check(const struct ofp_match *m,
               const struct ofp_instructions *insts)
{
    enum ofperr err = ofp_match_check_prereqs(m);
    if (err || !insts) {
        return err;
    }
    struct ofp13_flow_ctx ctx;
    ofp13_flow_ctx_init(&ctx, m);
    if (insts->present & OFP_INST_APPLY) {
        err = check_actions_consistent(&insts->apply, &ctx);
    }
    if (!err && (insts->present & OFP_INST_WRITE)) {
        err = check_actions_consistent(&insts->write, &ctx);
    }
    return err;
}

/* ---------------------------------------------------------------------- */
/* Actions on the wire.                                                    */

static uint32_t
field_oxm_header(enum ofp_field f)
{
    return ofp13_oxm_header(f, false);
}

/* Nicira (NXM) names of the fields we know, which Open vSwitch uses for
 * the operands of the "move" actions it reports. */
static const struct {
    uint16_t class;
    uint8_t field;
    enum ofp_field f;
} nxm_fields[] = {
    {OFPXMC_NXM_0, 1, OFP_F_ETH_DST},
    {OFPXMC_NXM_0, 2, OFP_F_ETH_SRC},
    {OFPXMC_NXM_0, 3, OFP_F_ETH_TYPE},
    {OFPXMC_NXM_0, 6, OFP_F_IP_PROTO},
    {OFPXMC_NXM_0, 7, OFP_F_IPV4_SRC},
    {OFPXMC_NXM_0, 8, OFP_F_IPV4_DST},
    {OFPXMC_NXM_0, 9, OFP_F_TCP_SRC},
    {OFPXMC_NXM_0, 10, OFP_F_TCP_DST},
    {OFPXMC_NXM_0, 11, OFP_F_UDP_SRC},
    {OFPXMC_NXM_0, 12, OFP_F_UDP_DST},
    {OFPXMC_NXM_0, 13, OFP_F_ICMPV4_TYPE},
    {OFPXMC_NXM_0, 14, OFP_F_ICMPV4_CODE},
    {OFPXMC_NXM_0, 15, OFP_F_ARP_OP},
    {OFPXMC_NXM_0, 16, OFP_F_ARP_SPA},
    {OFPXMC_NXM_0, 17, OFP_F_ARP_TPA},
    {OFPXMC_NXM_1, 16, OFP_F_TUNNEL_ID},
    {OFPXMC_NXM_1, 17, OFP_F_ARP_SHA},
    {OFPXMC_NXM_1, 18, OFP_F_ARP_THA},
};

/* The field an unmasked OXM (basic class) or NXM header names, if it is
 * one we know, with the right length. */
static bool
field_from_oxm_header(uint32_t h, enum ofp_field *fp)
{
    if (OXM_HASMASK(h)) {
        return false;
    }
    bool found = ofp13_field_from_header(h, fp);
    for (size_t i = 0; !found && i < sizeof nxm_fields / sizeof *nxm_fields;
         i++) {
        if (nxm_fields[i].class == OXM_CLASS(h) &&
            nxm_fields[i].field == OXM_FIELD(h)) {
            *fp = nxm_fields[i].f;
            found = true;
        }
    }
    return found && OXM_LENGTH(h) == ofp_field_info(*fp)->width;
}

static enum ofperr
decode_set_field(const uint8_t *p, size_t len, struct ofp_action *a)
{
    /* 'len' >= 8: the 4-byte action header and a 4-byte OXM header. */
    uint32_t h = ofp13_get_uint(p + 4, 4);
    enum ofp_field f;
    if (!ofp13_field_from_header(h, &f)) {
        return OFPERR_OFPBAC_BAD_SET_TYPE;
    }
    if (OXM_HASMASK(h)) {
        return OFPERR_OFPBAC_BAD_SET_ARGUMENT;
    }
    size_t width = ofp_field_info(f)->width;
    if (OXM_LENGTH(h) != width || 8 + width > len ||
        ofp13_round_up8(8 + width) != len) {
        return OFPERR_OFPBAC_BAD_SET_LEN;
    }
    for (size_t i = 8 + width; i < len; i++) {
        if (p[i]) {
            return OFPERR_OFPBAC_BAD_SET_ARGUMENT;
        }
    }
    a->set_field.field = f;
    a->set_field.value = ofp13_get_uint(p + 8, width);
    return OFPERR_OK;
}

static enum ofperr
decode_experimenter(const uint8_t *p, size_t len, struct ofp_action *a)
{
    const struct ofp13_action_experimenter_header *eh = (const void *)p;
    if (ofp_ntoh32(eh->experimenter) != NX_VENDOR_ID) {
        return OFPERR_OFPBAC_BAD_EXPERIMENTER;
    }
    /* 'len' >= 16 here, so the subtype is inside the action. */
    uint16_t subtype = (uint16_t)ofp13_get_uint(p + sizeof *eh, 2);
    if (subtype != NXAST_REG_MOVE) {
        return OFPERR_OFPBAC_BAD_EXP_TYPE;
    }
    if (len != sizeof(struct nx13_action_reg_move)) {
        return OFPERR_OFPBAC_BAD_LEN;
    }
    const struct nx13_action_reg_move *rm = (const void *)p;
    enum ofp_field src, dst;
    if (!field_from_oxm_header(ofp_ntoh32(rm->src), &src) ||
        !field_from_oxm_header(ofp_ntoh32(rm->dst), &dst)) {
        return OFPERR_OFPBAC_BAD_ARGUMENT;
    }
    a->type = OFP_ACT_MOVE;
    a->move.src = src;
    a->move.dst = dst;
    a->move.n_bits = ofp_ntoh16(rm->n_bits);
    a->move.src_ofs = ofp_ntoh16(rm->src_ofs);
    a->move.dst_ofs = ofp_ntoh16(rm->dst_ofs);
    return OFPERR_OK;
}

/* Decodes the 'len'-byte action at 'p' ('len' is a checked multiple of 8,
 * at least 8, and is the action's own length field). */
static enum ofperr
decode_action(const uint8_t *p, size_t len, struct ofp_action *a)
{
    uint16_t type = (uint16_t)ofp13_get_uint(p, 2);
    *a = (struct ofp_action){0};
    switch (type) {
    case OFPAT_OUTPUT: {
        if (len != sizeof(struct ofp13_action_output)) {
            return OFPERR_OFPBAC_BAD_LEN;
        }
        const struct ofp13_action_output *ao = (const void *)p;
        a->type = OFP_ACT_OUTPUT;
        a->output.port = ofp_ntoh32(ao->port);
        a->output.max_len = ofp_ntoh16(ao->max_len);
        break;
    }
    case OFPAT_GROUP: {
        if (len != sizeof(struct ofp13_action_group)) {
            return OFPERR_OFPBAC_BAD_LEN;
        }
        const struct ofp13_action_group *ag = (const void *)p;
        a->type = OFP_ACT_GROUP;
        a->group_id = ofp_ntoh32(ag->group_id);
        break;
    }
    case OFPAT_PUSH_VLAN: {
        if (len != sizeof(struct ofp13_action_push)) {
            return OFPERR_OFPBAC_BAD_LEN;
        }
        const struct ofp13_action_push *ap = (const void *)p;
        a->type = OFP_ACT_PUSH_VLAN;
        a->ethertype = ofp_ntoh16(ap->ethertype);
        break;
    }
    case OFPAT_POP_VLAN:
    case OFPAT_DEC_NW_TTL:
        if (len != sizeof(struct ofp13_action_header)) {
            return OFPERR_OFPBAC_BAD_LEN;
        }
        a->type = type == OFPAT_POP_VLAN ? OFP_ACT_POP_VLAN
                                         : OFP_ACT_DEC_NW_TTL;
        break;
    case OFPAT_SET_FIELD: {
        a->type = OFP_ACT_SET_FIELD;
        enum ofperr err = decode_set_field(p, len, a);
        if (err) {
            return err;
        }
        break;
    }
    case OFPAT_EXPERIMENTER: {
        if (len < 16) {
            return OFPERR_OFPBAC_BAD_LEN;
        }
        enum ofperr err = decode_experimenter(p, len, a);
        if (err) {
            return err;
        }
        break;
    }
    default:
        return OFPERR_OFPBAC_BAD_TYPE;
    }
    return check_action(a);
}

/* How many actions the 'len' bytes at 'region' hold, checking only their
 * lengths (each at least 8, a multiple of 8, inside the region). */
static enum ofperr
count_actions(const uint8_t *region, size_t len, size_t *n)
{
    struct ofpbuf r;
    ofpbuf_use_const(&r, region, len);
    *n = 0;
    while (ofpbuf_remaining(&r)) {
        const struct ofp13_action_header *ah = ofpbuf_at(&r, 0, sizeof *ah);
        if (!ah) {
            return OFPERR_OFPBAC_BAD_LEN;
        }
        size_t alen = ofp_ntoh16(ah->len);
        if (alen < sizeof *ah || alen % 8 || !ofpbuf_try_pull(&r, alen)) {
            return OFPERR_OFPBAC_BAD_LEN;
        }
        ++*n;
    }
    return OFPERR_OK;
}

enum ofperr
ofp13_pull_actions(struct ofpbuf *b, size_t len, struct ofp_actions *acts)
{
    ofp_actions_clear(acts);
    const uint8_t *region = ofpbuf_try_pull(b, len);
    if (!region && len) {
        return OFPERR_OFPBAC_BAD_LEN;
    }
    /* Lengths first, so the list gets exactly the room the message
     * holds: at most len / 8 actions, never a size the sender chose. */
    size_t n;
    enum ofperr err = count_actions(region, len, &n);
    if (err) {
        return err;
    }
    if (n > OFP_MAX_ACTIONS) {
        return OFPERR_OFPBAC_TOO_MANY;
    }
    actions_reserve_exact(acts, n);
    struct ofpbuf r;
    ofpbuf_use_const(&r, region, len);
    for (size_t i = 0; i < n; i++) {
        const struct ofp13_action_header *ah = ofpbuf_at(&r, 0, sizeof *ah);
        size_t alen = ofp_ntoh16(ah->len);
        const uint8_t *p = ofpbuf_try_pull(&r, alen);
        err = decode_action(p, alen, &acts->a[i]);
        if (err) {
            ofp_actions_clear(acts);
            return err;
        }
        acts->n++;
    }
    return OFPERR_OK;
}

/* The bytes put_action() appends for 'a'. */
static size_t
action_len(const struct ofp_action *a)
{
    switch (a->type) {
    case OFP_ACT_OUTPUT:
        return sizeof(struct ofp13_action_output);
    case OFP_ACT_GROUP:
        return sizeof(struct ofp13_action_group);
    case OFP_ACT_PUSH_VLAN:
        return sizeof(struct ofp13_action_push);
    case OFP_ACT_POP_VLAN:
    case OFP_ACT_DEC_NW_TTL:
        return sizeof(struct ofp13_action_header);
    case OFP_ACT_SET_FIELD:
        return ofp13_round_up8(8 + ofp_field_info(a->set_field.field)->width);
    case OFP_ACT_MOVE:
        return sizeof(struct nx13_action_reg_move);
    }
    return 0;
}

static size_t
actions_len(const struct ofp_actions *acts)
{
    size_t len = 0;
    for (size_t i = 0; i < acts->n; i++) {
        len += action_len(&acts->a[i]); /* <= 8191 * 24: no overflow. */
    }
    return len;
}

size_t
ofp13_instructions_len(const struct ofp_instructions *insts)
{
    size_t len = 0;
    if (insts->present & OFP_INST_APPLY) {
        len += sizeof(struct ofp13_instruction_actions)
               + actions_len(&insts->apply);
    }
    if (insts->present & OFP_INST_CLEAR) {
        len += sizeof(struct ofp13_instruction_actions);
    }
    if (insts->present & OFP_INST_WRITE) {
        len += sizeof(struct ofp13_instruction_actions)
               + actions_len(&insts->write);
    }
    if (insts->present & OFP_INST_METADATA) {
        len += sizeof(struct ofp13_instruction_write_metadata);
    }
    if (insts->present & OFP_INST_GOTO) {
        len += sizeof(struct ofp13_instruction_goto_table);
    }
    return len;
}

static void
put_action(struct ofpbuf *b, const struct ofp_action *a)
{
    switch (a->type) {
    case OFP_ACT_OUTPUT: {
        struct ofp13_action_output *ao = ofpbuf_put_zeros(b, sizeof *ao);
        ao->type = ofp_hton16(OFPAT_OUTPUT);
        ao->len = ofp_hton16(sizeof *ao);
        ao->port = ofp_hton32(a->output.port);
        ao->max_len = ofp_hton16(a->output.max_len);
        break;
    }
    case OFP_ACT_GROUP: {
        struct ofp13_action_group *ag = ofpbuf_put_zeros(b, sizeof *ag);
        ag->type = ofp_hton16(OFPAT_GROUP);
        ag->len = ofp_hton16(sizeof *ag);
        ag->group_id = ofp_hton32(a->group_id);
        break;
    }
    case OFP_ACT_PUSH_VLAN: {
        struct ofp13_action_push *ap = ofpbuf_put_zeros(b, sizeof *ap);
        ap->type = ofp_hton16(OFPAT_PUSH_VLAN);
        ap->len = ofp_hton16(sizeof *ap);
        ap->ethertype = ofp_hton16(a->ethertype);
        break;
    }
    case OFP_ACT_POP_VLAN:
    case OFP_ACT_DEC_NW_TTL: {
        struct ofp13_action_header *ah = ofpbuf_put_zeros(b, sizeof *ah);
        ah->type = ofp_hton16(a->type == OFP_ACT_POP_VLAN ? OFPAT_POP_VLAN
                                                          : OFPAT_DEC_NW_TTL);
        ah->len = ofp_hton16(sizeof *ah);
        break;
    }
    case OFP_ACT_SET_FIELD: {
        size_t width = ofp_field_info(a->set_field.field)->width;
        size_t len = ofp13_round_up8(8 + width);
        uint8_t *p = ofpbuf_put_zeros(b, len);
        ofp13_put_uint(p, OFPAT_SET_FIELD, 2);
        ofp13_put_uint(p + 2, len, 2);
        ofp13_put_uint(p + 4, field_oxm_header(a->set_field.field), 4);
        ofp13_put_uint(p + 8, a->set_field.value, width);
        break;
    }
    case OFP_ACT_MOVE: {
        struct nx13_action_reg_move *rm = ofpbuf_put_zeros(b, sizeof *rm);
        rm->type = ofp_hton16(OFPAT_EXPERIMENTER);
        rm->len = ofp_hton16(sizeof *rm);
        rm->vendor = ofp_hton32(NX_VENDOR_ID);
        rm->subtype = ofp_hton16(NXAST_REG_MOVE);
        rm->n_bits = ofp_hton16(a->move.n_bits);
        rm->src_ofs = ofp_hton16(a->move.src_ofs);
        rm->dst_ofs = ofp_hton16(a->move.dst_ofs);
        rm->src = ofp_hton32(field_oxm_header(a->move.src));
        rm->dst = ofp_hton32(field_oxm_header(a->move.dst));
        break;
    }
    }
}

enum ofperr
ofp13_put_actions(struct ofpbuf *b, const struct ofp_actions *acts)
{
    if (acts->n > OFP_MAX_ACTIONS) {
        return OFPERR_OFPBAC_TOO_MANY;
    }
    for (size_t i = 0; i < acts->n; i++) {
        enum ofperr err = check_action(&acts->a[i]);
        if (err) {
            return err;
        }
    }
    for (size_t i = 0; i < acts->n; i++) {
        put_action(b, &acts->a[i]);
    }
    return OFPERR_OK;
}

/* ---------------------------------------------------------------------- */
/* Instructions on the wire.                                               */

static enum ofperr
decode_instruction(struct ofpbuf *ib, uint16_t type, size_t ilen,
                   uint8_t table_id, struct ofp_instructions *insts)
{
    uint32_t bit;
    switch (type) {
    case OFPIT_APPLY_ACTIONS:
        bit = OFP_INST_APPLY;
        break;
    case OFPIT_CLEAR_ACTIONS:
        bit = OFP_INST_CLEAR;
        break;
    case OFPIT_WRITE_ACTIONS:
        bit = OFP_INST_WRITE;
        break;
    case OFPIT_WRITE_METADATA:
        bit = OFP_INST_METADATA;
        break;
    case OFPIT_GOTO_TABLE:
        bit = OFP_INST_GOTO;
        break;
    case OFPIT_METER:
        return OFPERR_OFPBIC_UNSUP_INST;
    case OFPIT_EXPERIMENTER:
        return OFPERR_OFPBIC_BAD_EXPERIMENTER;
    default:
        return OFPERR_OFPBIC_UNKNOWN_INST;
    }
    if (insts->present & bit) {
        /* OpenFlow 1.3 has no code for a repeated instruction (1.4 added
         * OFPBIC_DUP_INST); the switch cannot support it, so UNSUP_INST. */
        return OFPERR_OFPBIC_UNSUP_INST;
    }
    insts->present |= bit;

    if (bit == OFP_INST_GOTO) {
        const struct ofp13_instruction_goto_table *g =
            ofpbuf_try_pull(ib, sizeof *g);
        if (!g || ilen != sizeof *g) {
            return OFPERR_OFPBIC_BAD_LEN;
        }
        if (g->table_id > OFPTT_MAX ||
            (table_id != OFPTT_ALL && g->table_id <= table_id)) {
            return OFPERR_OFPBIC_BAD_TABLE_ID;
        }
        insts->goto_table = g->table_id;
    } else if (bit == OFP_INST_METADATA) {
        const struct ofp13_instruction_write_metadata *wm =
            ofpbuf_try_pull(ib, sizeof *wm);
        if (!wm || ilen != sizeof *wm) {
            return OFPERR_OFPBIC_BAD_LEN;
        }
        insts->metadata = ofp_ntoh64(wm->metadata);
        insts->metadata_mask = ofp_ntoh64(wm->metadata_mask);
        if (insts->metadata & ~insts->metadata_mask) {
            return OFPERR_OFPBIC_UNSUP_METADATA;
        }
    } else {
        const struct ofp13_instruction_actions *ia =
            ofpbuf_try_pull(ib, sizeof *ia);
        if (!ia) {
            return OFPERR_OFPBIC_BAD_LEN;
        }
        size_t alen = ilen - sizeof *ia; /* ilen >= 8 was checked. */
        if (bit == OFP_INST_CLEAR) {
            return alen ? OFPERR_OFPBIC_BAD_LEN : OFPERR_OK;
        }
        return ofp13_pull_actions(
            ib, alen, bit == OFP_INST_APPLY ? &insts->apply : &insts->write);
    }
    return OFPERR_OK;
}

enum ofperr
ofp13_pull_instructions(struct ofpbuf *b, size_t len, uint8_t table_id,
                        struct ofp_instructions *insts)
{
    ofp_instructions_clear(insts);
    const uint8_t *region = ofpbuf_try_pull(b, len);
    if (!region && len) {
        return OFPERR_OFPBIC_BAD_LEN;
    }
    struct ofpbuf r;
    ofpbuf_use_const(&r, region, len);
    while (ofpbuf_remaining(&r)) {
        const struct ofp13_instruction *ih = ofpbuf_at(&r, 0, sizeof *ih);
        if (!ih) {
            return OFPERR_OFPBIC_BAD_LEN;
        }
        uint16_t type = ofp_ntoh16(ih->type);
        size_t ilen = ofp_ntoh16(ih->len);
        if (ilen < 8 || ilen % 8 || ilen > ofpbuf_remaining(&r)) {
            return OFPERR_OFPBIC_BAD_LEN;
        }
        struct ofpbuf ib;
        ofpbuf_use_const(&ib, ofpbuf_try_pull(&r, ilen), ilen);
        enum ofperr err = decode_instruction(&ib, type, ilen, table_id, insts);
        if (err) {
            return err;
        }
    }
    return OFPERR_OK;
}

static enum ofperr
put_actions_instruction(struct ofpbuf *b, uint16_t type,
                        const struct ofp_actions *acts)
{
    size_t start = b->size;
    struct ofp13_instruction_actions *ia = ofpbuf_put_zeros(b, sizeof *ia);
    ia->type = ofp_hton16(type);
    if (acts) {
        enum ofperr err = ofp13_put_actions(b, acts);
        if (err) {
            return err;
        }
    }
    size_t len = b->size - start;
    if (len > UINT16_MAX) {
        return OFPERR_OFPBRC_BAD_LEN;
    }
    ia = (struct ofp13_instruction_actions *)(b->data + start);
    ia->len = ofp_hton16((uint16_t)len);
    return OFPERR_OK;
}

enum ofperr
ofp13_put_instructions(struct ofpbuf *b, const struct ofp_instructions *insts,
                       uint8_t table_id)
{
    enum ofperr err;
    if (insts->present & OFP_INST_APPLY) {
        err = put_actions_instruction(b, OFPIT_APPLY_ACTIONS, &insts->apply);
        if (err) {
            return err;
        }
    }
    if (insts->present & OFP_INST_CLEAR) {
        err = put_actions_instruction(b, OFPIT_CLEAR_ACTIONS, NULL);
        if (err) {
            return err;
        }
    }
    if (insts->present & OFP_INST_WRITE) {
        err = put_actions_instruction(b, OFPIT_WRITE_ACTIONS, &insts->write);
        if (err) {
            return err;
        }
    }
    if (insts->present & OFP_INST_METADATA) {
        if (insts->metadata & ~insts->metadata_mask) {
            return OFPERR_OFPBIC_UNSUP_METADATA;
        }
        struct ofp13_instruction_write_metadata *wm =
            ofpbuf_put_zeros(b, sizeof *wm);
        wm->type = ofp_hton16(OFPIT_WRITE_METADATA);
        wm->len = ofp_hton16(sizeof *wm);
        wm->metadata = ofp_hton64(insts->metadata);
        wm->metadata_mask = ofp_hton64(insts->metadata_mask);
    }
    if (insts->present & OFP_INST_GOTO) {
        if (insts->goto_table > OFPTT_MAX ||
            (table_id != OFPTT_ALL && insts->goto_table <= table_id)) {
            return OFPERR_OFPBIC_BAD_TABLE_ID;
        }
        struct ofp13_instruction_goto_table *g =
            ofpbuf_put_zeros(b, sizeof *g);
        g->type = ofp_hton16(OFPIT_GOTO_TABLE);
        g->len = ofp_hton16(sizeof *g);
        g->table_id = insts->goto_table;
    }
    return OFPERR_OK;
}
