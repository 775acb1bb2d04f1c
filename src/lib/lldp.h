/* lldp.h: the LLDP frames of link discovery over OpenFlow (IEEE 802.1AB).
 *
 * The controller sends one frame out of every switch port (packet-out),
 * naming the switch in the Chassis ID ("dpid:" and 16 hex digits, locally
 * assigned, as Ryu writes it) and the port in the Port ID (its number, 4
 * bytes big-endian, port component); the frame that comes back as a
 * packet-in on another switch is a link.  The decoder reads only through
 * bounds checks and never trusts a length it has not verified; it allocates
 * nothing and keeps no state. */
#ifndef MIGNET_LIB_LLDP_H
#define MIGNET_LIB_LLDP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LLDP_ETHERTYPE 0x88cc
/* Nearest-bridge group address: bridges never forward it. */
#define LLDP_DST_MAC {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}
#define LLDP_ID_MAX 255          /* bytes of a chassis or port id */
#define LLDP_DISCOVERY_LEN 60    /* what lldp_encode_discovery() writes */
#define LLDP_DEFAULT_TTL 120     /* seconds */

#define LLDP_CHASSIS_LOCAL 7     /* chassis id subtype "locally assigned" */
#define LLDP_PORT_COMPONENT 2    /* port id subtype "port component" */

#define LLDP_ERRORS                                                          \
    LLDP_ERR(OK, "ok", "success")                                            \
    LLDP_ERR(SHORT, "short", "shorter than an Ethernet header")             \
    LLDP_ERR(NOT_LLDP, "not_lldp", "the ethertype is not 0x88cc")           \
    LLDP_ERR(TRUNCATED, "truncated", "a TLV runs past the end of the frame") \
    LLDP_ERR(MISSING, "missing_tlv",                                         \
             "Chassis ID, Port ID and TTL must come first, in that order")  \
    LLDP_ERR(BAD_LEN, "bad_length", "a TLV has a length its type forbids") \
    LLDP_ERR(DUPLICATE, "duplicate_tlv",                                     \
             "Chassis ID, Port ID or TTL appears twice")

enum lldp_err {
#define LLDP_ERR(ENUM, NAME, MSG) LLDP_E_##ENUM,
    LLDP_ERRORS
#undef LLDP_ERR
    LLDP_N_ERRORS
};
const char *lldp_errname(enum lldp_err);

/* The mandatory part of an LLDPDU. */
struct lldp_pdu {
    uint8_t dst[6], src[6];
    uint8_t chassis_subtype;
    uint8_t chassis_len;            /* 1..255 */
    uint8_t chassis_id[LLDP_ID_MAX];
    uint8_t port_subtype;
    uint8_t port_len;               /* 1..255 */
    uint8_t port_id[LLDP_ID_MAX];
    uint16_t ttl;                   /* seconds */
};

/* Decodes the Ethernet frame of 'len' bytes at 'frame'.  Optional TLVs
 * after the TTL are skipped (their lengths still checked); the End TLV or
 * the end of the frame ends the PDU.  On error '*pdu' is unspecified. */
enum lldp_err lldp_decode(const void *frame, size_t len,
                          struct lldp_pdu *pdu);

/* Writes the discovery frame for port 'port' of switch 'dpid', sent from
 * 'src_mac', into 'buf' (at least LLDP_DISCOVERY_LEN bytes, padded to the
 * Ethernet minimum).  Returns the length. */
size_t lldp_encode_discovery(uint64_t dpid, uint32_t port,
                             const uint8_t src_mac[6], uint16_t ttl,
                             uint8_t *buf);

/* The switch and port a discovery frame names: true only for a chassis id
 * "dpid:" + 16 hex digits (locally assigned) and a 4-byte port component
 * id in 1..0xffffff00. */
bool lldp_discovery_ids(const struct lldp_pdu *, uint64_t *dpid,
                        uint32_t *port);

#endif /* lib/lldp.h */
