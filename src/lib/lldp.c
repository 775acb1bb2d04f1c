/* lldp.c: LLDP frames for link discovery (IEEE 802.1AB-2016 §8).
 *
 * A TLV header is 7 bits of type and 9 bits of length; the first three
 * TLVs must be Chassis ID (1), Port ID (2) and TTL (3).  Every read here is
 * preceded by a check that the bytes exist, so any input, however short or
 * hostile, yields an error rather than an out-of-bounds access. */
#include "lib/lldp.h"

#include <stdio.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/util.h"

enum {
    TLV_END = 0,
    TLV_CHASSIS = 1,
    TLV_PORT = 2,
    TLV_TTL = 3,
};

static const char *const err_names[] = {
#define LLDP_ERR(ENUM, NAME, MSG) NAME,
    LLDP_ERRORS
#undef LLDP_ERR
};

const char *
lldp_errname(enum lldp_err e)
{
    return (unsigned) e < LLDP_N_ERRORS ? err_names[e] : "unknown";
}

/* Reads the TLV at 'p' (with 'left' bytes to the end of the frame). */
static enum lldp_err
tlv_next(const uint8_t *p, size_t left, unsigned *type, size_t *len)
{
    if (left < 2) {
        return LLDP_E_TRUNCATED;
    }
    uint16_t h = bytes_get16(p);
    *type = h >> 9;
    *len = h & 0x1ff;
    return *len > left - 2 ? LLDP_E_TRUNCATED : LLDP_E_OK;
}

/* Copies an id TLV's value (subtype + 1..255 bytes). */
static enum lldp_err
take_id(const uint8_t *v, size_t len, uint8_t *subtype, uint8_t *id,
        uint8_t *id_len)
{
    if (len < 2 || len > 1 + LLDP_ID_MAX) {
        return LLDP_E_BAD_LEN;
    }
    *subtype = v[0];
    *id_len = (uint8_t) (len - 1);
    memcpy(id, v + 1, len - 1);
    return LLDP_E_OK;
}

enum lldp_err
lldp_decode(const void *frame, size_t len, struct lldp_pdu *pdu)
{
    const uint8_t *p = frame;
    if (!p || len < 14) {
        return LLDP_E_SHORT;
    }
    if (bytes_get16(p + 12) != LLDP_ETHERTYPE) {
        return LLDP_E_NOT_LLDP;
    }
    memcpy(pdu->dst, p, 6);
    memcpy(pdu->src, p + 6, 6);
    p += 14;
    len -= 14;
    if (!len) {
        return LLDP_E_MISSING;
    }

    static const unsigned mandatory[3] = {TLV_CHASSIS, TLV_PORT, TLV_TTL};
    for (unsigned i = 0; len; i++) {
        unsigned type;
        size_t vlen;
        enum lldp_err err = tlv_next(p, len, &type, &vlen);
        if (i < 3 && (err || type != mandatory[i])) {
            return err ? err : LLDP_E_MISSING;
        }
        if (err) {
            /* Past the mandatory TLVs, a trailing byte of padding is not
             * a TLV; anything longer that overruns is. */
            return len == 1 && !p[0] ? LLDP_E_OK : err;
        }
        const uint8_t *v = p + 2;
        switch (type) {
        case TLV_CHASSIS:
            err = i == 0 ? take_id(v, vlen, &pdu->chassis_subtype,
                                   pdu->chassis_id, &pdu->chassis_len)
                         : LLDP_E_DUPLICATE;
            break;
        case TLV_PORT:
            err = i == 1 ? take_id(v, vlen, &pdu->port_subtype,
                                   pdu->port_id, &pdu->port_len)
                         : LLDP_E_DUPLICATE;
            break;
        case TLV_TTL:
            if (i != 2) {
                return LLDP_E_DUPLICATE;
            }
            if (vlen != 2) {
                return LLDP_E_BAD_LEN;
            }
            pdu->ttl = bytes_get16(v);
            break;
        case TLV_END:
            /* The end; what follows is Ethernet padding. */
            return vlen ? LLDP_E_BAD_LEN : LLDP_E_OK;
        default:
            break; /* optional TLV: skipped */
        }
        if (err) {
            return err;
        }
        p += 2 + vlen;
        len -= 2 + vlen;
        if (!len && i < 2) {
            return LLDP_E_MISSING;
        }
    }
    return LLDP_E_OK;
}

static uint8_t *
put_tlv(uint8_t *p, unsigned type, size_t len)
{
    bytes_put16(p, (uint16_t) (type << 9 | len));
    return p + 2;
}

size_t
lldp_encode_discovery(uint64_t dpid, uint32_t port, const uint8_t src_mac[6],
                      uint16_t ttl, uint8_t *buf)
{
    static const uint8_t dst[6] = LLDP_DST_MAC;
    char chassis[24];
    int n = snprintf(chassis, sizeof chassis, "dpid:%016llx",
                     (unsigned long long) dpid);
    uint8_t *p = buf;

    memset(buf, 0, LLDP_DISCOVERY_LEN);
    memcpy(p, dst, 6);
    memcpy(p + 6, src_mac, 6);
    bytes_put16(p + 12, LLDP_ETHERTYPE);
    p += 14;
    p = put_tlv(p, TLV_CHASSIS, 1 + (size_t) n);
    *p++ = LLDP_CHASSIS_LOCAL;
    memcpy(p, chassis, (size_t) n);
    p += n;
    p = put_tlv(p, TLV_PORT, 5);
    *p++ = LLDP_PORT_COMPONENT;
    bytes_put32(p, port);
    p += 4;
    p = put_tlv(p, TLV_TTL, 2);
    bytes_put16(p, ttl);
    p += 2;
    p = put_tlv(p, TLV_END, 0);
    /* 14 + 24 + 7 + 4 + 2 = 51 bytes; padded to the 60-byte minimum. */
    return LLDP_DISCOVERY_LEN;
}

bool
lldp_discovery_ids(const struct lldp_pdu *pdu, uint64_t *dpid,
                   uint32_t *port)
{
    if (pdu->chassis_subtype != LLDP_CHASSIS_LOCAL || pdu->chassis_len != 21
        || memcmp(pdu->chassis_id, "dpid:", 5)
        || pdu->port_subtype != LLDP_PORT_COMPONENT || pdu->port_len != 4) {
        return false;
    }
    uint64_t d = 0;
    for (size_t i = 5; i < 21; i++) {
        int h = hex_digit((char) pdu->chassis_id[i]);
        if (h < 0) {
            return false;
        }
        d = d << 4 | (uint64_t) h;
    }
    uint32_t p = bytes_get32(pdu->port_id);
    if (!p || p > 0xffffff00u) {
        return false;
    }
    *dpid = d;
    *port = p;
    return true;
}
