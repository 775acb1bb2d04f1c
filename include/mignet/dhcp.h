/* dhcp.h: DHCP (RFC 2131/2132) messages inside Ethernet frames, parsed
 * and built without I/O.
 *
 * The parser reads a frame as a switch hands it up (Ethernet II, at most
 * one 802.1Q tag, IPv4, UDP 67/68, BOOTP, options) into a fixed-size
 * struct.  It never reads outside the given bytes, never allocates, and on
 * any malformed input returns a distinct error and leaves the output
 * untouched.  The builder writes the same struct back into a frame (tests
 * and the agent use it). */
#ifndef MIGNET_DHCP_H
#define MIGNET_DHCP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors: enum suffix, stable name, message. */
#define DHCP_ERRORS                                                          \
    DHCP_ERR(OK, "ok", "success")                                            \
    DHCP_ERR(TRUNC_ETH, "truncated_ethernet",                                \
             "frame shorter than an Ethernet header")                        \
    DHCP_ERR(TRUNC_VLAN, "truncated_vlan",                                   \
             "frame ends inside the 802.1Q tag")                             \
    DHCP_ERR(STACKED_VLAN, "stacked_vlan",                                   \
             "more than one VLAN tag (QinQ is not supported)")               \
    DHCP_ERR(NOT_IPV4, "not_ipv4", "EtherType is not IPv4")                  \
    DHCP_ERR(TRUNC_IP, "truncated_ip", "frame ends inside the IPv4 header")  \
    DHCP_ERR(BAD_IP_VERSION, "bad_ip_version", "IP version is not 4")        \
    DHCP_ERR(BAD_IHL, "bad_ihl",                                             \
             "IPv4 header length is below 20 bytes or beyond the frame")     \
    DHCP_ERR(BAD_IP_LEN, "bad_ip_length",                                    \
             "IPv4 total length is below the header or beyond the frame")    \
    DHCP_ERR(BAD_IP_CSUM, "bad_ip_checksum",                                 \
             "IPv4 header checksum is wrong")                                \
    DHCP_ERR(IP_FRAGMENT, "ip_fragment",                                     \
             "IPv4 fragment (more-fragments set or nonzero offset)")         \
    DHCP_ERR(NOT_UDP, "not_udp", "IPv4 protocol is not UDP")                 \
    DHCP_ERR(TRUNC_UDP, "truncated_udp",                                     \
             "IPv4 payload shorter than a UDP header")                       \
    DHCP_ERR(BAD_UDP_LEN, "bad_udp_length",                                  \
             "UDP length differs from the IPv4 payload length")              \
    DHCP_ERR(BAD_UDP_CSUM, "bad_udp_checksum", "UDP checksum is wrong")      \
    DHCP_ERR(BAD_PORTS, "bad_ports",                                         \
             "UDP ports are not a DHCP pair (68->67, 67->68, 67->67)")       \
    DHCP_ERR(TRUNC_BOOTP, "truncated_bootp",                                 \
             "UDP payload shorter than the BOOTP header and magic cookie")   \
    DHCP_ERR(BAD_OP, "bad_op",                                               \
             "BOOTP op is neither request (1) nor reply (2)")                \
    DHCP_ERR(OP_PORTS, "op_port_mismatch",                                   \
             "BOOTP op does not match the UDP direction")                    \
    DHCP_ERR(BAD_HTYPE, "bad_htype",                                         \
             "hardware type/length is not Ethernet (1/6)")                   \
    DHCP_ERR(BAD_COOKIE, "bad_cookie", "DHCP magic cookie is missing")       \
    DHCP_ERR(OPT_TRUNC, "option_truncated",                                  \
             "an option's length byte lies past the end of its field")       \
    DHCP_ERR(OPT_OVERRUN, "option_overrun",                                  \
             "an option's data runs past the end of its field")              \
    DHCP_ERR(NO_END, "no_end_option",                                        \
             "an option field is not terminated by the end option")          \
    DHCP_ERR(BAD_OPT_LEN, "bad_option_length",                               \
             "an option has the wrong length for its type")                  \
    DHCP_ERR(DUP_OPTION, "duplicate_option",                                 \
             "a single-valued option appears more than once")                \
    DHCP_ERR(OPT_TOO_LONG, "option_too_long",                                \
             "a concatenated option (RFC 3396) exceeds 255 bytes")           \
    DHCP_ERR(BAD_OVERLOAD, "bad_overload",                                   \
             "option overload is not 1-3, or appears outside the options "   \
             "field")                                                        \
    DHCP_ERR(NO_MSG_TYPE, "no_message_type",                                 \
             "the DHCP message type option (53) is missing")                 \
    DHCP_ERR(BAD_MSG_TYPE, "bad_message_type",                               \
             "the DHCP message type is not 1-8")                             \
    DHCP_ERR(TYPE_OP, "type_op_mismatch",                                    \
             "the DHCP message type does not match the BOOTP op")            \
    DHCP_ERR(NO_SPACE, "no_space", "the output buffer is too small")         \
    DHCP_ERR(BAD_FIELD, "bad_field", "a field cannot be encoded")

enum dhcp_err {
#define DHCP_ERR(ENUM, NAME, MSG) DHCP_E_##ENUM,
    DHCP_ERRORS
#undef DHCP_ERR
    DHCP_N_ERRORS
};
const char *dhcp_errname(enum dhcp_err);  /* "bad_cookie" */
const char *dhcp_strerror(enum dhcp_err); /* "DHCP magic cookie is ..." */

/* Message types (option 53), RFC 2132 9.6. */
#define DHCP_TYPES                                                           \
    DHCP_TYPE(DISCOVER, 1, "discover")                                       \
    DHCP_TYPE(OFFER, 2, "offer")                                             \
    DHCP_TYPE(REQUEST, 3, "request")                                         \
    DHCP_TYPE(DECLINE, 4, "decline")                                         \
    DHCP_TYPE(ACK, 5, "ack")                                                 \
    DHCP_TYPE(NAK, 6, "nak")                                                 \
    DHCP_TYPE(RELEASE, 7, "release")                                         \
    DHCP_TYPE(INFORM, 8, "inform")

enum dhcp_type {
    DHCP_TYPE_NONE = 0,
#define DHCP_TYPE(ENUM, CODE, NAME) DHCP_##ENUM = CODE,
    DHCP_TYPES
#undef DHCP_TYPE
};
/* "ack"; "none" for DHCP_TYPE_NONE, "unknown" out of range. */
const char *dhcp_type_name(enum dhcp_type);
/* True for types a server sends (OFFER, ACK, NAK). */
bool dhcp_type_is_reply(enum dhcp_type);

/* The options the parser extracts: enum suffix, code, name.  Each has a
 * presence bit in dhcp_msg.opts. */
#define DHCP_OPTS                                                            \
    DHCP_OPT(SUBNET_MASK, 1, "subnet_mask")                                  \
    DHCP_OPT(ROUTER, 3, "router")                                            \
    DHCP_OPT(HOSTNAME, 12, "hostname")                                       \
    DHCP_OPT(REQUESTED_IP, 50, "requested_ip")                               \
    DHCP_OPT(LEASE_TIME, 51, "lease_time")                                   \
    DHCP_OPT(OVERLOAD, 52, "overload")                                       \
    DHCP_OPT(MSG_TYPE, 53, "message_type")                                   \
    DHCP_OPT(SERVER_ID, 54, "server_id")                                     \
    DHCP_OPT(RENEWAL_TIME, 58, "renewal_time")                               \
    DHCP_OPT(REBINDING_TIME, 59, "rebinding_time")                           \
    DHCP_OPT(CLIENT_ID, 61, "client_id")

enum dhcp_opt {
#define DHCP_OPT(ENUM, CODE, NAME) DHCP_OPT_##ENUM,
    DHCP_OPTS
#undef DHCP_OPT
    DHCP_N_OPTS
};
#define DHCP_HAS(OPT) (UINT32_C(1) << (OPT))

#define DHCP_OP_REQUEST 1
#define DHCP_OP_REPLY 2
#define DHCP_PORT_SERVER 67
#define DHCP_PORT_CLIENT 68
#define DHCP_FLAG_BROADCAST 0x8000
#define DHCP_LEASE_INFINITE UINT32_MAX
#define DHCP_HOSTNAME_MAX 255
#define DHCP_CLIENT_ID_MAX 255
/* Fixed BOOTP header (236) plus the magic cookie. */
#define DHCP_BOOTP_MIN 240
/* Enough for any frame dhcp_build() writes from a valid message. */
#define DHCP_FRAME_MAX 1024

/* One DHCP message and the headers that carried it.  Addresses and ports
 * are in host byte order.  Option values are meaningful only when their
 * bit is set in 'opts'.  'hostname' and 'client_id' are untrusted bytes
 * (hostname may hold anything but is NUL-terminated after its length). */
struct dhcp_msg {
    /* Ethernet and 802.1Q. */
    uint8_t eth_dst[6];
    uint8_t eth_src[6];
    bool vlan_tagged;
    uint16_t vlan;    /* VID, when tagged */
    uint8_t vlan_pcp; /* priority, when tagged */

    /* IPv4 and UDP. */
    uint32_t ip_src, ip_dst;
    uint16_t udp_src, udp_dst;

    /* BOOTP fixed header. */
    uint8_t op; /* DHCP_OP_* */
    uint8_t hops;
    uint32_t xid;
    uint16_t secs, flags;
    uint32_t ciaddr, yiaddr, siaddr, giaddr;
    uint8_t chaddr[6];

    /* Options. */
    enum dhcp_type type;
    uint32_t opts; /* DHCP_HAS(DHCP_OPT_*) bits */
    uint32_t subnet_mask;
    uint32_t router; /* the first router listed */
    uint32_t requested_ip;
    uint32_t lease_s;
    uint8_t overload; /* 1 = file, 2 = sname, 3 = both carry options */
    uint32_t server_id;
    uint32_t renewal_s, rebinding_s;
    size_t hostname_len;
    char hostname[DHCP_HOSTNAME_MAX + 1];
    size_t client_id_len;
    uint8_t client_id[DHCP_CLIENT_ID_MAX];
};

static inline bool
dhcp_msg_has(const struct dhcp_msg *m, enum dhcp_opt opt)
{
    return (m->opts & DHCP_HAS(opt)) != 0;
}

/* Parser flags. */
enum {
    /* Verify a nonzero UDP checksum.  Off by default: frames a switch
     * hands up from a local veth often carry a checksum the kernel left
     * for offload (only the pseudo-header sum), which is not an attack. */
    DHCP_PARSE_UDP_CSUM = 1 << 0,
};

/* Parses the Ethernet frame 'frame' of 'len' bytes into '*out'.  Returns
 * DHCP_E_OK, or the first error found, with '*out' unchanged.  Bytes after
 * the IPv4 total length (Ethernet padding) are ignored. */
enum dhcp_err dhcp_parse_frame(const void *frame, size_t len, unsigned flags,
                               struct dhcp_msg *out);

/* Parses a UDP payload (BOOTP header onwards), e.g. from a socket.  Fills
 * only the BOOTP and option fields of '*out' (the others are zeroed);
 * '*out' is unchanged on error.  'op' is checked against nothing but the
 * message type. */
enum dhcp_err dhcp_parse_bootp(const void *payload, size_t len,
                               struct dhcp_msg *out);

/* Fills '*m' with the usual addressing of a message of 'type' for client
 * 'chaddr': op, ports, and for client messages eth_src = chaddr, broadcast
 * destinations and source IP 0.0.0.0; for replies eth_dst = chaddr and
 * IPv4 broadcast.  Sets the message type option only; the caller fills
 * the rest. */
void dhcp_msg_init(struct dhcp_msg *m, enum dhcp_type type, uint32_t xid,
                   const uint8_t chaddr[6]);

/* Writes '*m' as an Ethernet frame into 'buf' (of 'cap' bytes; at most
 * DHCP_FRAME_MAX are needed) and stores its length in '*len'.  Writes the
 * options whose bits are set (never overloads sname/file: the overload
 * bit is ignored), the end option, and pads BOOTP to 300 bytes; computes
 * the IPv4 and UDP checksums.  DHCP_E_BAD_FIELD for values the wire cannot
 * carry (VLAN > 4095, PCP > 7, type out of range, empty hostname, client
 * id shorter than 2 bytes, lengths over the maxima), DHCP_E_NO_SPACE when
 * 'cap' is short; '*len' is then unchanged. */
enum dhcp_err dhcp_build(const struct dhcp_msg *m, void *buf, size_t cap,
                         size_t *len);

#endif /* MIGNET_DHCP_H */
