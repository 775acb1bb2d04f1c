/* ofp.h: mignet's OpenFlow 1.3 codec -- decode, encode, print, parse.
 *
 * Messages are decoded into plain structs (struct ofp_msg) and encoded from
 * the same structs, so decode(encode(m)) == m and encode(decode(b)) == b for
 * every message this codec accepts.  The decoder reads its input only
 * through bounds-checked pulls and answers malformed input with the
 * OpenFlow error the spec names (enum ofperr); it never crashes and never
 * reads outside its input.  Action lists are the only thing it allocates,
 * exactly as many actions as the message holds (see struct ofp_actions):
 * release a decoded message with ofp_msg_destroy().  Decoded messages may
 * point into the input (packet data, error data, multipart bodies): keep
 * the input alive while using them. */
#ifndef MIGNET_OFP_H
#define MIGNET_OFP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/ofpbuf.h"
#include "openflow/openflow13.h"

/* ---------------------------------------------------------------------- */
/* Errors: every OpenFlow 1.3 error this codec produces or names.          */

#define OFPERR_LIST                                                          \
    OFPERR(OFPHFC_INCOMPATIBLE, OFPET_HELLO_FAILED, 0,                       \
           "no common OpenFlow version")                                     \
    OFPERR(OFPHFC_EPERM, OFPET_HELLO_FAILED, 1, "hello: permissions error")  \
    OFPERR(OFPBRC_BAD_VERSION, OFPET_BAD_REQUEST, 0,                         \
           "unsupported OpenFlow version")                                   \
    OFPERR(OFPBRC_BAD_TYPE, OFPET_BAD_REQUEST, 1, "unknown message type")    \
    OFPERR(OFPBRC_BAD_MULTIPART, OFPET_BAD_REQUEST, 2,                       \
           "unknown multipart type")                                         \
    OFPERR(OFPBRC_BAD_EXPERIMENTER, OFPET_BAD_REQUEST, 3,                    \
           "unknown experimenter")                                           \
    OFPERR(OFPBRC_BAD_EXP_TYPE, OFPET_BAD_REQUEST, 4,                        \
           "unknown experimenter type")                                      \
    OFPERR(OFPBRC_EPERM, OFPET_BAD_REQUEST, 5, "request: permissions error") \
    OFPERR(OFPBRC_BAD_LEN, OFPET_BAD_REQUEST, 6,                             \
           "wrong request length for type")                                  \
    OFPERR(OFPBRC_BUFFER_EMPTY, OFPET_BAD_REQUEST, 7, "buffer already used") \
    OFPERR(OFPBRC_BUFFER_UNKNOWN, OFPET_BAD_REQUEST, 8, "unknown buffer")    \
    OFPERR(OFPBRC_BAD_TABLE_ID, OFPET_BAD_REQUEST, 9, "invalid table id")    \
    OFPERR(OFPBRC_IS_SLAVE, OFPET_BAD_REQUEST, 10,                           \
           "controller is a slave")                                          \
    OFPERR(OFPBRC_BAD_PORT, OFPET_BAD_REQUEST, 11, "invalid port")           \
    OFPERR(OFPBRC_BAD_PACKET, OFPET_BAD_REQUEST, 12,                         \
           "invalid packet in packet-out")                                   \
    OFPERR(OFPBRC_MULTIPART_BUFFER_OVERFLOW, OFPET_BAD_REQUEST, 13,          \
           "multipart request overflowed the buffer")                        \
    OFPERR(OFPBAC_BAD_TYPE, OFPET_BAD_ACTION, 0, "unknown action type")      \
    OFPERR(OFPBAC_BAD_LEN, OFPET_BAD_ACTION, 1, "bad action length")         \
    OFPERR(OFPBAC_BAD_EXPERIMENTER, OFPET_BAD_ACTION, 2,                     \
           "unknown action experimenter")                                    \
    OFPERR(OFPBAC_BAD_EXP_TYPE, OFPET_BAD_ACTION, 3,                         \
           "unknown experimenter action")                                    \
    OFPERR(OFPBAC_BAD_OUT_PORT, OFPET_BAD_ACTION, 4, "invalid output port")  \
    OFPERR(OFPBAC_BAD_ARGUMENT, OFPET_BAD_ACTION, 5, "bad action argument")  \
    OFPERR(OFPBAC_EPERM, OFPET_BAD_ACTION, 6, "action: permissions error")   \
    OFPERR(OFPBAC_TOO_MANY, OFPET_BAD_ACTION, 7, "too many actions")         \
    OFPERR(OFPBAC_BAD_QUEUE, OFPET_BAD_ACTION, 8, "invalid queue")           \
    OFPERR(OFPBAC_BAD_OUT_GROUP, OFPET_BAD_ACTION, 9, "invalid group")       \
    OFPERR(OFPBAC_MATCH_INCONSISTENT, OFPET_BAD_ACTION, 10,                  \
           "action inconsistent with the match")                             \
    OFPERR(OFPBAC_UNSUPPORTED_ORDER, OFPET_BAD_ACTION, 11,                   \
           "unsupported action order")                                       \
    OFPERR(OFPBAC_BAD_TAG, OFPET_BAD_ACTION, 12, "unsupported tag")          \
    OFPERR(OFPBAC_BAD_SET_TYPE, OFPET_BAD_ACTION, 13,                        \
           "set_field of an unsupported field")                              \
    OFPERR(OFPBAC_BAD_SET_LEN, OFPET_BAD_ACTION, 14, "bad set_field length") \
    OFPERR(OFPBAC_BAD_SET_ARGUMENT, OFPET_BAD_ACTION, 15,                    \
           "bad set_field argument")                                         \
    OFPERR(OFPBIC_UNKNOWN_INST, OFPET_BAD_INSTRUCTION, 0,                    \
           "unknown instruction")                                            \
    OFPERR(OFPBIC_UNSUP_INST, OFPET_BAD_INSTRUCTION, 1,                      \
           "unsupported instruction")                                        \
    OFPERR(OFPBIC_BAD_TABLE_ID, OFPET_BAD_INSTRUCTION, 2,                    \
           "invalid goto_table target")                                      \
    OFPERR(OFPBIC_UNSUP_METADATA, OFPET_BAD_INSTRUCTION, 3,                  \
           "unsupported metadata")                                           \
    OFPERR(OFPBIC_UNSUP_METADATA_MASK, OFPET_BAD_INSTRUCTION, 4,             \
           "unsupported metadata mask")                                      \
    OFPERR(OFPBIC_BAD_EXPERIMENTER, OFPET_BAD_INSTRUCTION, 5,                \
           "unknown instruction experimenter")                               \
    OFPERR(OFPBIC_BAD_EXP_TYPE, OFPET_BAD_INSTRUCTION, 6,                    \
           "unknown experimenter instruction")                               \
    OFPERR(OFPBIC_BAD_LEN, OFPET_BAD_INSTRUCTION, 7,                         \
           "bad instruction length")                                         \
    OFPERR(OFPBIC_EPERM, OFPET_BAD_INSTRUCTION, 8,                           \
           "instruction: permissions error")                                 \
    OFPERR(OFPBMC_BAD_TYPE, OFPET_BAD_MATCH, 0, "unsupported match type")    \
    OFPERR(OFPBMC_BAD_LEN, OFPET_BAD_MATCH, 1, "bad match length")           \
    OFPERR(OFPBMC_BAD_TAG, OFPET_BAD_MATCH, 2, "unsupported match tag")      \
    OFPERR(OFPBMC_BAD_DL_ADDR_MASK, OFPET_BAD_MATCH, 3,                      \
           "unsupported Ethernet address mask")                              \
    OFPERR(OFPBMC_BAD_NW_ADDR_MASK, OFPET_BAD_MATCH, 4,                      \
           "unsupported network address mask")                              \
    OFPERR(OFPBMC_BAD_WILDCARDS, OFPET_BAD_MATCH, 5,                         \
           "value has bits outside its mask")                                \
    OFPERR(OFPBMC_BAD_FIELD, OFPET_BAD_MATCH, 6, "unsupported match field")  \
    OFPERR(OFPBMC_BAD_VALUE, OFPET_BAD_MATCH, 7, "bad match value")          \
    OFPERR(OFPBMC_BAD_MASK, OFPET_BAD_MATCH, 8,                              \
           "mask on a field that has none")                                  \
    OFPERR(OFPBMC_BAD_PREREQ, OFPET_BAD_MATCH, 9,                            \
           "match prerequisite missing")                                     \
    OFPERR(OFPBMC_DUP_FIELD, OFPET_BAD_MATCH, 10, "duplicate match field")   \
    OFPERR(OFPBMC_EPERM, OFPET_BAD_MATCH, 11, "match: permissions error")    \
    OFPERR(OFPFMFC_UNKNOWN, OFPET_FLOW_MOD_FAILED, 0, "flow_mod failed")     \
    OFPERR(OFPFMFC_TABLE_FULL, OFPET_FLOW_MOD_FAILED, 1, "flow table full")  \
    OFPERR(OFPFMFC_BAD_TABLE_ID, OFPET_FLOW_MOD_FAILED, 2,                   \
           "no such table")                                                  \
    OFPERR(OFPFMFC_OVERLAP, OFPET_FLOW_MOD_FAILED, 3, "overlapping flow")    \
    OFPERR(OFPFMFC_EPERM, OFPET_FLOW_MOD_FAILED, 4,                          \
           "flow_mod: permissions error")                                    \
    OFPERR(OFPFMFC_BAD_TIMEOUT, OFPET_FLOW_MOD_FAILED, 5,                    \
           "unsupported timeout")                                            \
    OFPERR(OFPFMFC_BAD_COMMAND, OFPET_FLOW_MOD_FAILED, 6,                    \
           "unknown flow_mod command")                                       \
    OFPERR(OFPFMFC_BAD_FLAGS, OFPET_FLOW_MOD_FAILED, 7,                      \
           "unknown flow_mod flags")                                         \
    OFPERR(OFPSCFC_BAD_FLAGS, OFPET_SWITCH_CONFIG_FAILED, 0,                 \
           "bad switch config flags")                                        \
    OFPERR(OFPSCFC_BAD_LEN, OFPET_SWITCH_CONFIG_FAILED, 1,                   \
           "bad switch config length")                                       \
    OFPERR(OFPRRFC_STALE, OFPET_ROLE_REQUEST_FAILED, 0,                      \
           "stale generation id")                                            \
    OFPERR(OFPRRFC_UNSUP, OFPET_ROLE_REQUEST_FAILED, 1,                      \
           "role change unsupported")                                        \
    OFPERR(OFPRRFC_BAD_ROLE, OFPET_ROLE_REQUEST_FAILED, 2, "invalid role")

/* 0 is success; every other value is one OpenFlow (type, code) pair. */
enum ofperr {
    OFPERR_OK = 0,
#define OFPERR(NAME, TYPE, CODE, MSG) OFPERR_##NAME,
    OFPERR_LIST
#undef OFPERR
    OFPERR_N
};

const char *ofperr_name(enum ofperr);     /* "OFPBRC_BAD_LEN" */
const char *ofperr_strerror(enum ofperr); /* "wrong request length..." */
uint16_t ofperr_type(enum ofperr);        /* OFPET_BAD_REQUEST */
uint16_t ofperr_code(enum ofperr);        /* 6 */
/* The error for a (type, code) from the wire, or OFPERR_OK if unknown. */
enum ofperr ofperr_from_wire(uint16_t type, uint16_t code);
/* "BAD_REQUEST" for OFPET_BAD_REQUEST; NULL if unknown. */
const char *ofperr_type_name(uint16_t type);

/* ---------------------------------------------------------------------- */
/* Match fields (OXM, OpenFlow basic class), in OXM field-number order so   */
/* prerequisites are always encoded before the fields that need them.       */

enum ofp_field_format {
    OFP_FMT_DEC,  /* decimal */
    OFP_FMT_HEX,  /* 0x-prefixed hex */
    OFP_FMT_ETH,  /* 02:00:00:00:00:01 */
    OFP_FMT_IPV4, /* 198.18.0.1 */
    OFP_FMT_PORT, /* decimal or a reserved port name (LOCAL, ...) */
};

/* Fields of Open vSwitch's NXM_1 class (0x0001) carry this bit in the
 * table's OXM number: OFP_NXM1(32) is NXM_NX_TUN_IPV4_DST, the overlay
 * destination that Open vSwitch accepts in OpenFlow 1.3 set_field. */
#define OFP_NXM1(FIELD) (0x80 | (FIELD))

/* ENUM, text name, OXM field, width in bytes, maskable, text format. */
#define OFP_FIELD_LIST                                                       \
    OFP_FIELD(IN_PORT, "in_port", OFPXMT_OFB_IN_PORT, 4, false, PORT)       \
    OFP_FIELD(METADATA, "metadata", OFPXMT_OFB_METADATA, 8, true, HEX)      \
    OFP_FIELD(ETH_DST, "eth_dst", OFPXMT_OFB_ETH_DST, 6, true, ETH)         \
    OFP_FIELD(ETH_SRC, "eth_src", OFPXMT_OFB_ETH_SRC, 6, true, ETH)         \
    OFP_FIELD(ETH_TYPE, "eth_type", OFPXMT_OFB_ETH_TYPE, 2, false, HEX)     \
    OFP_FIELD(VLAN_VID, "vlan_vid", OFPXMT_OFB_VLAN_VID, 2, true, HEX)      \
    OFP_FIELD(VLAN_PCP, "vlan_pcp", OFPXMT_OFB_VLAN_PCP, 1, false, DEC)     \
    OFP_FIELD(IP_DSCP, "ip_dscp", OFPXMT_OFB_IP_DSCP, 1, false, DEC)        \
    OFP_FIELD(IP_ECN, "ip_ecn", OFPXMT_OFB_IP_ECN, 1, false, DEC)           \
    OFP_FIELD(IP_PROTO, "ip_proto", OFPXMT_OFB_IP_PROTO, 1, false, DEC)     \
    OFP_FIELD(IPV4_SRC, "ipv4_src", OFPXMT_OFB_IPV4_SRC, 4, true, IPV4)     \
    OFP_FIELD(IPV4_DST, "ipv4_dst", OFPXMT_OFB_IPV4_DST, 4, true, IPV4)     \
    OFP_FIELD(TCP_SRC, "tcp_src", OFPXMT_OFB_TCP_SRC, 2, true, DEC)         \
    OFP_FIELD(TCP_DST, "tcp_dst", OFPXMT_OFB_TCP_DST, 2, true, DEC)         \
    OFP_FIELD(UDP_SRC, "udp_src", OFPXMT_OFB_UDP_SRC, 2, true, DEC)         \
    OFP_FIELD(UDP_DST, "udp_dst", OFPXMT_OFB_UDP_DST, 2, true, DEC)         \
    OFP_FIELD(ICMPV4_TYPE, "icmpv4_type", OFPXMT_OFB_ICMPV4_TYPE, 1, false, \
              DEC)                                                           \
    OFP_FIELD(ICMPV4_CODE, "icmpv4_code", OFPXMT_OFB_ICMPV4_CODE, 1, false, \
              DEC)                                                           \
    OFP_FIELD(ARP_OP, "arp_op", OFPXMT_OFB_ARP_OP, 2, false, DEC)           \
    OFP_FIELD(ARP_SPA, "arp_spa", OFPXMT_OFB_ARP_SPA, 4, true, IPV4)        \
    OFP_FIELD(ARP_TPA, "arp_tpa", OFPXMT_OFB_ARP_TPA, 4, true, IPV4)        \
    OFP_FIELD(ARP_SHA, "arp_sha", OFPXMT_OFB_ARP_SHA, 6, true, ETH)         \
    OFP_FIELD(ARP_THA, "arp_tha", OFPXMT_OFB_ARP_THA, 6, true, ETH)         \
    OFP_FIELD(TUNNEL_ID, "tunnel_id", OFPXMT_OFB_TUNNEL_ID, 8, true, HEX)    \
    OFP_FIELD(TUN_IPV4_DST, "tun_dst", OFP_NXM1(32), 4, true, IPV4)

enum ofp_field {
#define OFP_FIELD(ENUM, NAME, OXM, WIDTH, MASKABLE, FMT) OFP_F_##ENUM,
    OFP_FIELD_LIST
#undef OFP_FIELD
    OFP_F_N
};
_Static_assert(OFP_F_N <= 32, "field sets are 32-bit masks");

struct ofp_field_info {
    const char *name;
    uint8_t oxm_field;
    uint8_t width; /* Bytes on the wire, 1..8. */
    bool maskable;
    enum ofp_field_format format;
};
const struct ofp_field_info *ofp_field_info(enum ofp_field);
/* The field named 'name' (also OVS aliases such as "tun_id", "dl_dst"). */
bool ofp_field_from_name(const char *name, size_t len, enum ofp_field *);
/* All-ones value of the field's width. */
uint64_t ofp_field_max(enum ofp_field);

/* Values are host-order integers of the field's width: an Ethernet address
 * 02:00:00:00:00:01 is 0x020000000001, an IPv4 address is its u32. */
struct ofp_match {
    uint32_t present; /* 1 << OFP_F_*. */
    uint32_t masked;  /* Subset of 'present' whose mask is not all-ones. */
    uint64_t value[OFP_F_N];
    uint64_t mask[OFP_F_N];
};

void ofp_match_init(struct ofp_match *);            /* Matches everything. */
void ofp_match_set(struct ofp_match *, enum ofp_field, uint64_t value);
/* A zero mask removes the field; value bits outside 'mask' are dropped. */
void ofp_match_set_masked(struct ofp_match *, enum ofp_field, uint64_t value,
                          uint64_t mask);
bool ofp_match_get(const struct ofp_match *, enum ofp_field, uint64_t *value,
                   uint64_t *mask);
bool ofp_match_equal(const struct ofp_match *, const struct ofp_match *);
/* OFPBMC_BAD_PREREQ if a field lacks the eth_type/ip_proto it needs (as the
 * switch would answer a flow_mod), else OFPERR_OK. */
enum ofperr ofp_match_check_prereqs(const struct ofp_match *);

/* 6 bytes <-> the integer form used in matches and set_field. */
uint64_t ofp_eth_to_u64(const uint8_t mac[OFP_ETH_ALEN]);
void ofp_eth_from_u64(uint64_t, uint8_t mac[OFP_ETH_ALEN]);

/* ---------------------------------------------------------------------- */
/* Actions and instructions.                                               */

enum ofp_action_type {
    OFP_ACT_OUTPUT,     /* OFPAT_OUTPUT */
    OFP_ACT_GROUP,      /* OFPAT_GROUP */
    OFP_ACT_SET_FIELD,  /* OFPAT_SET_FIELD (one field, no mask) */
    OFP_ACT_PUSH_VLAN,  /* OFPAT_PUSH_VLAN */
    OFP_ACT_POP_VLAN,   /* OFPAT_POP_VLAN */
    OFP_ACT_DEC_NW_TTL, /* OFPAT_DEC_NW_TTL */
    OFP_ACT_MOVE,       /* Nicira NXAST_REG_MOVE (OVS "move") */
};

struct ofp_action {
    enum ofp_action_type type;
    union {
        struct {
            uint32_t port;
            uint16_t max_len; /* Bytes to send when port is CONTROLLER. */
        } output;
        uint32_t group_id;
        struct {
            enum ofp_field field;
            uint64_t value;
        } set_field;
        uint16_t ethertype; /* push_vlan: 0x8100 or 0x88a8. */
        struct {
            enum ofp_field src, dst;
            uint16_t n_bits, src_ofs, dst_ofs;
        } move;
    };
};

/* No OpenFlow message can carry more actions: each takes at least 8 bytes
 * of a message whose length is a 16-bit field.  A list never grows past
 * it, so no size computed from a list can overflow. */
#define OFP_MAX_ACTIONS (UINT16_MAX / 8)

/* A list of actions in a heap array the list owns.
 *
 * Ownership: an all-zero struct (or ofp_actions_init()) is an empty list
 * that owns nothing.  The builders below and the decoder grow it;
 * ofp_actions_destroy() frees it.  A struct assignment would share the
 * array between two owners: copy with ofp_actions_copy() instead (a
 * shallow copy is fine only as a read-only view that is never destroyed,
 * e.g. to encode).  The same rules apply to everything that embeds a list:
 * struct ofp_instructions, ofp_flow_mod, ofp_flow_stats, ofp_packet_out
 * and struct ofp_msg (ofp_*_destroy). */
struct ofp_actions {
    size_t n;
    size_t allocated;     /* Elements of 'a'. */
    struct ofp_action *a; /* NULL when 'allocated' is 0. */
};

void ofp_actions_init(struct ofp_actions *);    /* 'acts' owns nothing. */
void ofp_actions_destroy(struct ofp_actions *); /* Leaves it empty. */
/* Empties the list, keeping its storage for reuse. */
void ofp_actions_clear(struct ofp_actions *);
/* Makes 'dst' (an initialised list) a copy of 'src', reusing its storage
 * when large enough. */
void ofp_actions_copy(struct ofp_actions *dst, const struct ofp_actions *src);

/* Builders: append one action; OFPBAC_TOO_MANY when the list already
 * holds OFP_MAX_ACTIONS, OFPBAC_BAD_ARGUMENT for a value the field cannot
 * hold.  On error the list is unchanged. */
enum ofperr ofp_actions_output(struct ofp_actions *, uint32_t port);
enum ofperr ofp_actions_controller(struct ofp_actions *, uint16_t max_len);
enum ofperr ofp_actions_group(struct ofp_actions *, uint32_t group_id);
enum ofperr ofp_actions_set_field(struct ofp_actions *, enum ofp_field,
                                  uint64_t value);
enum ofperr ofp_actions_push_vlan(struct ofp_actions *, uint16_t ethertype);
enum ofperr ofp_actions_pop_vlan(struct ofp_actions *);
enum ofperr ofp_actions_dec_nw_ttl(struct ofp_actions *);
enum ofperr ofp_actions_move(struct ofp_actions *, enum ofp_field src,
                             uint16_t src_ofs, enum ofp_field dst,
                             uint16_t dst_ofs, uint16_t n_bits);
bool ofp_actions_equal(const struct ofp_actions *, const struct ofp_actions *);

enum ofp_inst_bit {
    OFP_INST_APPLY = 1 << 0,    /* OFPIT_APPLY_ACTIONS */
    OFP_INST_CLEAR = 1 << 1,    /* OFPIT_CLEAR_ACTIONS */
    OFP_INST_WRITE = 1 << 2,    /* OFPIT_WRITE_ACTIONS */
    OFP_INST_METADATA = 1 << 3, /* OFPIT_WRITE_METADATA */
    OFP_INST_GOTO = 1 << 4,     /* OFPIT_GOTO_TABLE */
};

/* Encoded in the order above, which is also the order they execute. */
struct ofp_instructions {
    uint32_t present; /* OFP_INST_* */
    struct ofp_actions apply;
    struct ofp_actions write;
    uint64_t metadata;
    uint64_t metadata_mask;
    uint8_t goto_table;
};

/* Lifecycle as for struct ofp_actions: init (owns nothing), destroy
 * (frees, leaves it empty), clear (empty, keeps storage), copy (into an
 * initialised 'dst'). */
void ofp_instructions_init(struct ofp_instructions *);
void ofp_instructions_destroy(struct ofp_instructions *);
void ofp_instructions_clear(struct ofp_instructions *);
void ofp_instructions_copy(struct ofp_instructions *dst,
                           const struct ofp_instructions *src);
/* The bytes of a flow_mod with 'm' and 'insts' on the wire.  The encoder
 * refuses one longer than UINT16_MAX (OFPBRC_BAD_LEN): a flow that does
 * not fit one message cannot be expressed. */
size_t ofp_flow_mod_len(const struct ofp_match *,
                        const struct ofp_instructions *);
/* ofp_flow_mod_len() <= UINT16_MAX, without measuring short action lists
 * (no match and instructions with under ~2,700 actions can reach it). */
bool ofp_flow_fits(const struct ofp_match *, const struct ofp_instructions *);
/* Checks a flow the way Open vSwitch does before accepting it: every match
 * field has its prerequisites (else OFPBMC_BAD_PREREQ) and every action
 * makes sense for the packets the match admits, e.g. no set_field of
 * ipv4_dst without eth_type=0x0800, no pop_vlan of an untagged packet
 * (else OFPBAC_MATCH_INCONSISTENT).  'insts' may be NULL.  The flow_mod
 * encoder and decoder both apply it. */
enum ofperr ofp_flow_check(const struct ofp_match *,
                           const struct ofp_instructions *);
/* The apply-actions list, marked present (what "actions=..." means). */
struct ofp_actions *ofp_instructions_apply(struct ofp_instructions *);
bool ofp_instructions_equal(const struct ofp_instructions *,
                            const struct ofp_instructions *);

/* ---------------------------------------------------------------------- */
/* Messages.                                                               */

struct ofp_hello {
    uint8_t version;     /* Header version. */
    bool has_bitmap;     /* A version-bitmap element was present. */
    uint32_t bitmap;     /* Bit N = version N supported (first 32 bits). */
};

struct ofp_error {
    uint16_t type;
    uint16_t code;
    uint32_t experimenter; /* Only for type OFPET_EXPERIMENTER. */
    const uint8_t *data;   /* Usually the start of the failed request. */
    size_t data_len;
};

struct ofp_echo {
    const uint8_t *data;
    size_t data_len;
};

struct ofp_features {
    uint64_t datapath_id;
    uint32_t n_buffers;
    uint8_t n_tables;
    uint8_t auxiliary_id;
    uint32_t capabilities; /* OFPC_* */
};

struct ofp_switch_config {
    uint16_t flags;         /* OFPC_FRAG_* */
    uint16_t miss_send_len; /* OFPCML_NO_BUFFER for whole packets. */
};

struct ofp_flow_mod {
    uint64_t cookie;
    uint64_t cookie_mask; /* Modify/delete: which cookie bits must match. */
    uint8_t table_id;
    uint8_t command; /* OFPFC_* */
    uint16_t idle_timeout;
    uint16_t hard_timeout;
    uint16_t priority;
    uint32_t buffer_id;
    uint32_t out_port;  /* Delete: restrict to flows outputting here. */
    uint32_t out_group; /* Delete: restrict to flows using this group. */
    uint16_t flags;     /* OFPFF_* */
    struct ofp_match match;
    struct ofp_instructions insts;
};
/* Defaults: table 0, priority OFP_DEFAULT_PRIORITY, no buffer, out_port and
 * out_group ANY, empty match, no instructions.  'fm' must own nothing
 * (its previous contents are overwritten, not freed). */
void ofp_flow_mod_init(struct ofp_flow_mod *, uint8_t command);
/* Frees the instructions' action lists; 'fm' is then empty. */
void ofp_flow_mod_destroy(struct ofp_flow_mod *);

struct ofp_flow_removed {
    uint64_t cookie;
    uint16_t priority;
    uint8_t reason; /* OFPRR_* */
    uint8_t table_id;
    uint32_t duration_sec;
    uint32_t duration_nsec;
    uint16_t idle_timeout;
    uint16_t hard_timeout;
    uint64_t packet_count;
    uint64_t byte_count;
    struct ofp_match match;
};

struct ofp_packet_in {
    uint32_t buffer_id;
    uint16_t total_len;
    uint8_t reason; /* OFPR_* */
    uint8_t table_id;
    uint64_t cookie;
    struct ofp_match match; /* Fields this codec does not know are skipped. */
    const uint8_t *data;
    size_t data_len;
};

struct ofp_packet_out {
    uint32_t buffer_id;
    uint32_t in_port;
    struct ofp_actions actions;
    const uint8_t *data;
    size_t data_len;
};

struct ofp_port {
    uint32_t port_no;
    uint8_t hw_addr[OFP_ETH_ALEN];
    char name[OFP_MAX_PORT_NAME_LEN + 1]; /* Always NUL-terminated. */
    uint32_t config; /* OFPPC_* */
    uint32_t state;  /* OFPPS_* */
    uint32_t curr, advertised, supported, peer;
    uint32_t curr_speed, max_speed;
};

struct ofp_port_status {
    uint8_t reason; /* OFPPR_* */
    struct ofp_port desc;
};

struct ofp_role {
    uint32_t role; /* OFPCR_ROLE_* */
    uint64_t generation_id;
};

/* SET_ASYNC and GET_ASYNC_REPLY: which asynchronous messages a connection
 * receives, as bit masks of reasons; [0] applies in role master or equal,
 * [1] in role slave.  Open vSwitch sends a service connection (a bridge's
 * management socket) none until it is told. */
struct ofp_async_config {
    uint32_t packet_in[2];    /* 1 << OFPR_* */
    uint32_t port_status[2];  /* 1 << OFPPR_* */
    uint32_t flow_removed[2]; /* 1 << OFPRR_* */
};

/* Body of flow and aggregate statistics requests. */
struct ofp_flow_stats_request {
    uint8_t table_id; /* OFPTT_ALL for every table. */
    uint32_t out_port;
    uint32_t out_group;
    uint64_t cookie;
    uint64_t cookie_mask;
    struct ofp_match match;
};

struct ofp_flow_stats {
    uint8_t table_id;
    uint32_t duration_sec;
    uint32_t duration_nsec;
    uint16_t priority;
    uint16_t idle_timeout;
    uint16_t hard_timeout;
    uint16_t flags;
    uint64_t cookie;
    uint64_t packet_count;
    uint64_t byte_count;
    struct ofp_match match;
    struct ofp_instructions insts;
};

/* Frees the instructions' action lists. */
void ofp_flow_stats_destroy(struct ofp_flow_stats *);

struct ofp_aggregate_stats {
    uint64_t packet_count;
    uint64_t byte_count;
    uint32_t flow_count;
};

struct ofp_port_stats {
    uint32_t port_no;
    uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
    uint64_t rx_dropped, tx_dropped, rx_errors, tx_errors;
    uint64_t rx_frame_err, rx_over_err, rx_crc_err, collisions;
    uint32_t duration_sec, duration_nsec;
};

/* One OFPMP_TABLE reply entry. */
struct ofp_table_stats {
    uint8_t table_id;
    uint32_t active_count;
    uint64_t lookup_count, matched_count;
};

struct ofp_desc {
    char mfr_desc[DESC_STR_LEN + 1];
    char hw_desc[DESC_STR_LEN + 1];
    char sw_desc[DESC_STR_LEN + 1];
    char serial_num[SERIAL_NUM_LEN + 1];
    char dp_desc[DESC_STR_LEN + 1];
};

/* A multipart request or reply.  Requests with a body (FLOW, AGGREGATE,
 * PORT_STATS) and fixed-size replies (DESC, AGGREGATE) are decoded into the
 * union; replies that are arrays (FLOW, TABLE, PORT_STATS, PORT_DESC) keep their
 * validated wire body, read with the ofp_*_next() iterators below. */
struct ofp_multipart {
    uint16_t type;  /* OFPMP_* */
    uint16_t flags; /* OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE. */
    union {
        struct ofp_flow_stats_request flow_req; /* FLOW, AGGREGATE request */
        uint32_t port_no;                       /* PORT_STATS request */
        struct ofp_aggregate_stats aggregate;   /* AGGREGATE reply */
        struct ofp_desc desc;                   /* DESC reply */
    };
    const uint8_t *body; /* Array replies: the entries, wire format. */
    size_t body_len;
    size_t n_entries;
};

struct ofp_msg {
    uint8_t version; /* OFP13_VERSION; a hello is sent with this version. */
    uint8_t type;    /* OFPT_* */
    uint32_t xid;
    union {
        struct ofp_hello hello;
        struct ofp_error error;
        struct ofp_echo echo; /* ECHO_REQUEST, ECHO_REPLY */
        struct ofp_features features;
        struct ofp_switch_config config; /* GET_CONFIG_REPLY, SET_CONFIG */
        struct ofp_flow_mod flow_mod;
        struct ofp_flow_removed flow_removed;
        struct ofp_packet_in packet_in;
        struct ofp_packet_out packet_out;
        struct ofp_port_status port_status;
        struct ofp_role role; /* ROLE_REQUEST, ROLE_REPLY */
        struct ofp_async_config async; /* SET_ASYNC, GET_ASYNC_REPLY */
        struct ofp_multipart mp;
    };
};

/* Zeroes 'msg' and sets its type, xid and version, plus the defaults of
 * that type's body (see ofp_flow_mod_init).  'msg' must own nothing. */
void ofp_msg_init(struct ofp_msg *, uint8_t type, uint32_t xid);
/* Frees what 'msg' owns (the action lists of a FLOW_MOD or PACKET_OUT);
 * 'msg' keeps its type and xid and owns nothing.  Accepts NULL. */
void ofp_msg_destroy(struct ofp_msg *);

/* Stream framing: if 'avail' bytes at 'data' hold a complete message, sets
 * '*len' to its length; if more bytes are needed, sets '*len' to 0.  Returns
 * OFPBRC_BAD_LEN if the header's length is below 8 (the stream is lost). */
enum ofperr ofp_frame(const void *data, size_t avail, size_t *len);

/* Decodes exactly one message of 'len' bytes into 'msg', which must own
 * nothing.  On success the caller owns the result: ofp_msg_destroy() it.
 * On error 'msg' owns nothing and is left zeroed except type and xid (from
 * the header, if it could be read), so the caller can answer with
 * ofp_encode_error(). */
enum ofperr ofp_decode(const void *data, size_t len, struct ofp_msg *);

/* Appends the encoding of 'msg' to 'out'.  On error nothing is appended.
 * Errors name the offending part (e.g. OFPBAC_BAD_ARGUMENT for an action
 * whose value does not fit its field, OFPBRC_BAD_LEN if the message would
 * exceed 65535 bytes). */
enum ofperr ofp_encode(const struct ofp_msg *, struct ofpbuf *out);

/* Appends an OFPT_ERROR for 'err' quoting up to 64 bytes of 'request'. */
void ofp_encode_error(struct ofpbuf *, uint32_t xid, enum ofperr,
                      const void *request, size_t request_len);

/* Hello with a version bitmap holding exactly OpenFlow 1.3. */
void ofp_encode_hello(struct ofpbuf *, uint32_t xid);
/* The version to speak with a peer whose hello is 'peer' when we support
 * the versions in 'ours' (bit N = version N): the highest common version,
 * or 0 if there is none (answer OFPHFC_INCOMPATIBLE). */
uint8_t ofp_hello_negotiate(const struct ofp_hello *peer, uint32_t ours);

/* Building multipart replies entry by entry (as a switch or a test double
 * does): start, append entries, finish.  ofp_mp_finish() sets the length;
 * OFPBRC_BAD_LEN if the message exceeds 65535 bytes. */
size_t ofp_mp_reply_start(struct ofpbuf *, uint32_t xid, uint16_t type,
                          uint16_t flags);
enum ofperr ofp_put_flow_stats(struct ofpbuf *, const struct ofp_flow_stats *);
void ofp_put_port_stats(struct ofpbuf *, const struct ofp_port_stats *);
void ofp_put_port(struct ofpbuf *, const struct ofp_port *);
void ofp_put_table_stats(struct ofpbuf *, const struct ofp_table_stats *);
enum ofperr ofp_mp_finish(struct ofpbuf *, size_t start);

/* Iterating the entries of a decoded array reply.  Each returns true and
 * fills the entry, or false at the end (or on a body that does not parse,
 * which ofp_decode() has already ruled out).  ofp_flow_stats_next() needs
 * an initialised 'fs' (e.g. zeroed) and reuses its action storage from one
 * entry to the next: ofp_flow_stats_destroy() it after the loop. */
struct ofp_mp_iter {
    struct ofpbuf body;
    uint16_t type;
};
void ofp_mp_iter_init(struct ofp_mp_iter *, const struct ofp_multipart *);
bool ofp_flow_stats_next(struct ofp_mp_iter *, struct ofp_flow_stats *);
bool ofp_port_stats_next(struct ofp_mp_iter *, struct ofp_port_stats *);
bool ofp_port_desc_next(struct ofp_mp_iter *, struct ofp_port *);
bool ofp_table_stats_next(struct ofp_mp_iter *, struct ofp_table_stats *);

/* ---------------------------------------------------------------------- */
/* Text form (one line per message, in the spirit of ovs-ofctl).           */

/* Returns a malloc'd line describing 'msg'; the caller frees it.  NULL only
 * on allocation failure. */
char *ofp_msg_to_string(const struct ofp_msg *);
/* Decodes and prints 'len' bytes; a message that does not decode prints as
 * "bad message: OFPxxx_..." with its header. */
char *ofp_to_string(const void *data, size_t len);
char *ofp_match_to_string(const struct ofp_match *);
char *ofp_instructions_to_string(const struct ofp_instructions *);
/* One flow statistics entry, "table=0 priority=100 duration=1.5s
 * packets=3 bytes=180 in_port=1 actions=output:2".  Without counters it
 * is the flow text ofp_parse_flow_mod() reads (after "add "), so a flow
 * read back from a switch compares with the flow that was sent. */
char *ofp_flow_stats_to_string(const struct ofp_flow_stats *,
                               bool with_counters);
/* "flow_mod" for OFPT_FLOW_MOD; "unknown_type" for types it lacks. */
const char *ofp_type_name(uint8_t type);

/* Parses the flow text form printed for a flow_mod, without the
 * "flow_mod xid=..." prefix, e.g. "add table=0 priority=100
 * in_port=1,eth_dst=02:00:00:00:00:01 actions=set_field:0x5->tunnel_id,
 * output:2".  'fm' must own nothing.  Returns 0 (the caller then owns
 * 'fm': ofp_flow_mod_destroy()) or EINVAL with a reason in 'err' ('fm'
 * owns nothing). */
int ofp_parse_flow_mod(const char *text, struct ofp_flow_mod *, char *err,
                       size_t err_size);
/* The match part alone: "in_port=1,eth_type=0x0800,ipv4_dst=198.18.0.0/16"
 * (an empty string or "any" matches everything). */
int ofp_parse_match(const char *text, struct ofp_match *, char *err,
                    size_t err_size);

#endif /* mignet/ofp.h */
