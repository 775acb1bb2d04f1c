/* ofp13_match.c: OXM match fields -- the field table, struct ofp_match, and
 * its wire encoding.
 *
 * The decoder walks OXM TLVs only through bounds-checked pulls and rejects
 * (strict mode) anything it cannot represent exactly, so a decoded match
 * always re-encodes to the same bytes.  It must never accept a TLV whose
 * length disagrees with its field. */
#include "ofp13_private.h"

#include <string.h>

static const struct ofp_field_info ofp_fields[OFP_F_N] = {
#define OFP_FIELD(ENUM, NAME, OXM, WIDTH, MASKABLE, FMT)                     \
    [OFP_F_##ENUM] = {NAME, OXM, WIDTH, MASKABLE, OFP_FMT_##FMT},
    OFP_FIELD_LIST
#undef OFP_FIELD
};

const struct ofp_field_info *
ofp_field_info(enum ofp_field f)
{
    return (unsigned)f < OFP_F_N ? &ofp_fields[f] : NULL;
}

uint64_t
ofp_field_max(enum ofp_field f)
{
    unsigned w = ofp_fields[f].width;
    return w >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * w)) - 1;
}

uint64_t
ofp13_field_value_max(enum ofp_field f)
{
    switch (f) {
    case OFP_F_VLAN_VID:
        return OFPVID_PRESENT | 0xfff;
    case OFP_F_VLAN_PCP:
        return 7;
    case OFP_F_IP_DSCP:
        return 63;
    case OFP_F_IP_ECN:
        return 3;
    default:
        return ofp_field_max(f);
    }
}

/* OXM field number (NXM_1 fields with bit 7 set) -> 1 + enum ofp_field
 * (0: not a field we know). */
static const uint8_t oxm_to_field[256] = {
#define OFP_FIELD(ENUM, NAME, OXM, WIDTH, MASKABLE, FMT)                     \
    [OXM] = OFP_F_##ENUM + 1,
    OFP_FIELD_LIST
#undef OFP_FIELD
};

bool
ofp13_field_from_oxm(uint8_t oxm_field, enum ofp_field *fp)
{
    uint8_t f = oxm_to_field[oxm_field];
    if (!f) {
        return false;
    }
    *fp = (enum ofp_field)(f - 1);
    return true;
}

uint32_t
ofp13_oxm_header(enum ofp_field f, bool hasmask)
{
    const struct ofp_field_info *fi = ofp_field_info(f);
    uint16_t cls = fi->oxm_field & 0x80 ? OFPXMC_NXM_1
                                        : OFPXMC_OPENFLOW_BASIC;
    return OXM_HEADER(cls, fi->oxm_field & 0x7f, hasmask,
                      fi->width * (hasmask ? 2u : 1u));
}

bool
ofp13_field_from_header(uint32_t h, enum ofp_field *fp)
{
    if (OXM_CLASS(h) == OFPXMC_OPENFLOW_BASIC && OXM_FIELD(h) < 0x80) {
        return ofp13_field_from_oxm(OXM_FIELD(h), fp);
    }
    if (OXM_CLASS(h) == OFPXMC_NXM_1 && OXM_FIELD(h) < 0x80) {
        return ofp13_field_from_oxm(0x80 | OXM_FIELD(h), fp);
    }
    return false;
}

static const struct {
    const char *alias;
    enum ofp_field field;
} ofp_field_aliases[] = {
    {"tun_id", OFP_F_TUNNEL_ID},  {"dl_src", OFP_F_ETH_SRC},
    {"dl_dst", OFP_F_ETH_DST},    {"dl_type", OFP_F_ETH_TYPE},
    {"nw_src", OFP_F_IPV4_SRC},   {"nw_dst", OFP_F_IPV4_DST},
    {"ip_src", OFP_F_IPV4_SRC},   {"ip_dst", OFP_F_IPV4_DST},
    {"nw_proto", OFP_F_IP_PROTO}, {"nw_ecn", OFP_F_IP_ECN},
};

static bool
name_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && !memcmp(name, want, len);
}

bool
ofp_field_from_name(const char *name, size_t len, enum ofp_field *fp)
{
    for (int f = 0; f < OFP_F_N; f++) {
        if (name_is(name, len, ofp_fields[f].name)) {
            *fp = (enum ofp_field)f;
            return true;
        }
    }
    for (size_t i = 0;
         i < sizeof ofp_field_aliases / sizeof *ofp_field_aliases; i++) {
        if (name_is(name, len, ofp_field_aliases[i].alias)) {
            *fp = ofp_field_aliases[i].field;
            return true;
        }
    }
    return false;
}

uint64_t
ofp_eth_to_u64(const uint8_t mac[OFP_ETH_ALEN])
{
    return ofp13_get_uint(mac, OFP_ETH_ALEN);
}

void
ofp_eth_from_u64(uint64_t v, uint8_t mac[OFP_ETH_ALEN])
{
    ofp13_put_uint(mac, v, OFP_ETH_ALEN);
}

void
ofp13_put_uint(uint8_t *p, uint64_t v, size_t width)
{
    for (size_t i = width; i > 0; i--) {
        p[i - 1] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t
ofp13_get_uint(const uint8_t *p, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

void
ofp_match_init(struct ofp_match *m)
{
    *m = (struct ofp_match){0};
}

void
ofp_match_set(struct ofp_match *m, enum ofp_field f, uint64_t value)
{
    ofp_match_set_masked(m, f, value, UINT64_MAX);
}

void
ofp_match_set_masked(struct ofp_match *m, enum ofp_field f, uint64_t value,
                     uint64_t mask)
{
    if ((unsigned)f >= OFP_F_N) {
        return;
    }
    uint64_t full = ofp_field_max(f);
    uint32_t bit = UINT32_C(1) << f;
    /* A partial mask on a field without masks is kept, so that encoding
     * reports it (OFPBMC_BAD_MASK) instead of silently widening it. */
    mask &= full;
    if (!mask) {
        m->present &= ~bit;
        m->masked &= ~bit;
        m->value[f] = m->mask[f] = 0;
        return;
    }
    m->present |= bit;
    m->value[f] = value & mask;
    m->mask[f] = mask;
    if (mask == full) {
        m->masked &= ~bit;
    } else {
        m->masked |= bit;
    }
}

bool
ofp_match_get(const struct ofp_match *m, enum ofp_field f, uint64_t *value,
              uint64_t *mask)
{
    if ((unsigned)f >= OFP_F_N || !(m->present & (UINT32_C(1) << f))) {
        return false;
    }
    if (value) {
        *value = m->value[f];
    }
    if (mask) {
        *mask = m->mask[f];
    }
    return true;
}

bool
ofp_match_equal(const struct ofp_match *a, const struct ofp_match *b)
{
    if (a->present != b->present || a->masked != b->masked) {
        return false;
    }
    for (int f = 0; f < OFP_F_N; f++) {
        if ((a->present & (UINT32_C(1) << f)) &&
            (a->value[f] != b->value[f] || a->mask[f] != b->mask[f])) {
            return false;
        }
    }
    return true;
}

/* The exact value of a narrow field, or -1 if it is absent or masked. */
static int
exact_value(const struct ofp_match *m, enum ofp_field f)
{
    uint32_t bit = UINT32_C(1) << f;
    return (m->present & bit) && !(m->masked & bit) ? (int)m->value[f] : -1;
}

void
ofp13_flow_ctx_init(struct ofp13_flow_ctx *ctx, const struct ofp_match *m)
{
    ctx->eth_type = exact_value(m, OFP_F_ETH_TYPE);
    ctx->ip_proto = exact_value(m, OFP_F_IP_PROTO);
    ctx->vlan = (m->present & (UINT32_C(1) << OFP_F_VLAN_VID)) &&
                (m->value[OFP_F_VLAN_VID] & m->mask[OFP_F_VLAN_VID] &
                 OFPVID_PRESENT);
}

bool
ofp13_field_prereqs_ok(enum ofp_field f, const struct ofp13_flow_ctx *ctx,
                       bool for_action)
{
    bool ip = ctx->eth_type == 0x0800;
    bool ip_any = ip || ctx->eth_type == 0x86dd;
    switch (f) {
    case OFP_F_VLAN_VID:
        return !for_action || ctx->vlan;
    case OFP_F_VLAN_PCP:
        return ctx->vlan;
    case OFP_F_IP_PROTO:
    case OFP_F_IP_DSCP:
    case OFP_F_IP_ECN:
        return ip_any;
    case OFP_F_IPV4_SRC:
    case OFP_F_IPV4_DST:
        return ip;
    case OFP_F_TCP_SRC:
    case OFP_F_TCP_DST:
        return ip_any && ctx->ip_proto == 6;
    case OFP_F_UDP_SRC:
    case OFP_F_UDP_DST:
        return ip_any && ctx->ip_proto == 17;
    case OFP_F_ICMPV4_TYPE:
    case OFP_F_ICMPV4_CODE:
        return ip && ctx->ip_proto == 1;
    case OFP_F_ARP_OP:
    case OFP_F_ARP_SPA:
    case OFP_F_ARP_TPA:
    case OFP_F_ARP_SHA:
    case OFP_F_ARP_THA:
        return ctx->eth_type == 0x0806;
    default:
        return true;
    }
}

enum ofperr
ofp_match_check_prereqs(const struct ofp_match *m)
{
    struct ofp13_flow_ctx ctx;
    ofp13_flow_ctx_init(&ctx, m);
    for (int i = 0; i < OFP_F_N; i++) {
        enum ofp_field f = (enum ofp_field)i;
        if ((m->present & (UINT32_C(1) << f)) &&
            !ofp13_field_prereqs_ok(f, &ctx, false)) {
            return OFPERR_OFPBMC_BAD_PREREQ;
        }
    }
    return OFPERR_OK;
}

enum ofperr
ofp13_check_match(const struct ofp_match *m)
{
    for (int i = 0; i < OFP_F_N; i++) {
        enum ofp_field f = (enum ofp_field)i;
        uint32_t bit = UINT32_C(1) << f;
        if (!(m->present & bit)) {
            continue;
        }
        if ((m->masked & bit) && !ofp_fields[f].maskable) {
            return OFPERR_OFPBMC_BAD_MASK;
        }
        if (m->value[f] > ofp13_field_value_max(f) ||
            m->mask[f] > ofp_field_max(f)) {
            return OFPERR_OFPBMC_BAD_VALUE;
        }
        if (m->value[f] & ~m->mask[f]) {
            return OFPERR_OFPBMC_BAD_WILDCARDS;
        }
    }
    if (m->masked & ~m->present) {
        return OFPERR_OFPBMC_BAD_MASK;
    }
    return OFPERR_OK;
}

/* One OXM TLV from 'oxms'.  Unknown fields are skipped in lenient mode. */
static enum ofperr
pull_oxm(struct ofpbuf *oxms, struct ofp_match *m, enum ofp13_match_mode mode)
{
    const ofp_be32 *hp = ofpbuf_try_pull(oxms, sizeof *hp);
    if (!hp) {
        return OFPERR_OFPBMC_BAD_LEN;
    }
    uint32_t h = ofp_ntoh32(*hp);
    const uint8_t *payload = ofpbuf_try_pull(oxms, OXM_LENGTH(h));
    if (!payload) {
        return OFPERR_OFPBMC_BAD_LEN;
    }

    enum ofp_field f;
    if (!ofp13_field_from_header(h, &f)) {
        return mode == OFP13_MATCH_LENIENT ? OFPERR_OK
                                           : OFPERR_OFPBMC_BAD_FIELD;
    }
    const struct ofp_field_info *fi = &ofp_fields[f];
    bool hasmask = OXM_HASMASK(h);
    if (OXM_LENGTH(h) != fi->width * (hasmask ? 2 : 1)) {
        /* As Open vSwitch: a header whose length does not fit the field
         * names no field at all. */
        return OFPERR_OFPBMC_BAD_FIELD;
    }
    if (hasmask && !fi->maskable) {
        return OFPERR_OFPBMC_BAD_MASK;
    }
    uint32_t bit = UINT32_C(1) << f;
    if (m->present & bit) {
        return OFPERR_OFPBMC_DUP_FIELD;
    }
    uint64_t value = ofp13_get_uint(payload, fi->width);
    uint64_t mask = hasmask ? ofp13_get_uint(payload + fi->width, fi->width)
                            : ofp_field_max(f);
    if (value & ~mask) {
        return OFPERR_OFPBMC_BAD_WILDCARDS;
    }
    if (value > ofp13_field_value_max(f)) {
        return OFPERR_OFPBMC_BAD_VALUE;
    }
    m->present |= bit;
    if (hasmask) {
        /* Kept as masked even if the mask is all-ones, so that the match
         * re-encodes to the same bytes. */
        m->masked |= bit;
    }
    m->value[f] = value;
    m->mask[f] = mask;
    return OFPERR_OK;
}

enum ofperr
ofp13_pull_match(struct ofpbuf *b, struct ofp_match *m,
                 enum ofp13_match_mode mode)
{
    ofp_match_init(m);
    const struct ofp13_match *om = ofpbuf_try_pull(b, sizeof *om);
    if (!om) {
        return OFPERR_OFPBMC_BAD_LEN;
    }
    size_t len = ofp_ntoh16(om->length);
    if (ofp_ntoh16(om->type) != OFPMT_OXM) {
        return OFPERR_OFPBMC_BAD_TYPE;
    }
    if (len < sizeof *om) {
        return OFPERR_OFPBMC_BAD_LEN;
    }
    /* 'len' <= 65535, so neither expression can overflow. */
    size_t oxm_len = len - sizeof *om;
    size_t pad_len = ofp13_round_up8(len) - len;
    const void *oxm_bytes = ofpbuf_try_pull(b, oxm_len);
    if (!oxm_bytes || !ofpbuf_try_pull(b, pad_len)) {
        return OFPERR_OFPBMC_BAD_LEN;
    }
    struct ofpbuf oxms;
    ofpbuf_use_const(&oxms, oxm_bytes, oxm_len);
    while (ofpbuf_remaining(&oxms)) {
        enum ofperr err = pull_oxm(&oxms, m, mode);
        if (err) {
            return err;
        }
    }
    return OFPERR_OK;
}

size_t
ofp13_match_len(const struct ofp_match *m)
{
    size_t len = sizeof(struct ofp13_match);
    for (int i = 0; i < OFP_F_N; i++) {
        uint32_t bit = UINT32_C(1) << i;
        if (m->present & bit) {
            len += 4 + ofp_fields[i].width * ((m->masked & bit) ? 2u : 1u);
        }
    }
    return ofp13_round_up8(len);
}

void
ofp13_put_match(struct ofpbuf *b, const struct ofp_match *m)
{
    size_t start = b->size;
    struct ofp13_match *om = ofpbuf_put_zeros(b, sizeof *om);
    om->type = ofp_hton16(OFPMT_OXM);
    for (int i = 0; i < OFP_F_N; i++) {
        enum ofp_field f = (enum ofp_field)i;
        uint32_t bit = UINT32_C(1) << f;
        if (!(m->present & bit)) {
            continue;
        }
        const struct ofp_field_info *fi = &ofp_fields[f];
        bool hasmask = (m->masked & bit) != 0;
        size_t plen = fi->width * (hasmask ? 2u : 1u);
        ofp_be32 h = ofp_hton32(ofp13_oxm_header(f, hasmask));
        ofpbuf_put(b, &h, sizeof h);
        uint8_t *p = ofpbuf_put_uninit(b, plen);
        ofp13_put_uint(p, m->value[f], fi->width);
        if (hasmask) {
            ofp13_put_uint(p + fi->width, m->mask[f], fi->width);
        }
    }
    size_t len = b->size - start;
    om = (struct ofp13_match *)(b->data + start);
    om->length = ofp_hton16((uint16_t)len);
    ofpbuf_put_zeros(b, ofp13_round_up8(len) - len);
}
