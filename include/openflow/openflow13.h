/* openflow13.h: OpenFlow 1.3 (spec 1.3.5) wire layouts and constants.
 *
 * Every multi-byte field is a byte array wrapped in a typed struct
 * (ofp_be16/32/64), so the structs have alignment 1, no padding the compiler
 * chooses, and can be overlaid on any byte offset of a received buffer.
 * There are no bit-fields, and every size is asserted against the spec.  This
 * header holds layouts only; it must never hold parsing logic. */
#ifndef OPENFLOW_OPENFLOW13_H
#define OPENFLOW_OPENFLOW13_H 1

#include <stdint.h>

/* Big-endian integers as they appear on the wire. */
typedef struct {
    uint8_t b[2];
} ofp_be16;
typedef struct {
    uint8_t b[4];
} ofp_be32;
typedef struct {
    uint8_t b[8];
} ofp_be64;

static inline uint16_t
ofp_ntoh16(ofp_be16 x)
{
    return (uint16_t)((x.b[0] << 8) | x.b[1]);
}

static inline uint32_t
ofp_ntoh32(ofp_be32 x)
{
    return ((uint32_t)x.b[0] << 24) | ((uint32_t)x.b[1] << 16) |
           ((uint32_t)x.b[2] << 8) | x.b[3];
}

static inline uint64_t
ofp_ntoh64(ofp_be64 x)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | x.b[i];
    }
    return v;
}

static inline ofp_be16
ofp_hton16(uint16_t v)
{
    ofp_be16 x = {{(uint8_t)(v >> 8), (uint8_t)v}};
    return x;
}

static inline ofp_be32
ofp_hton32(uint32_t v)
{
    ofp_be32 x = {{(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                   (uint8_t)v}};
    return x;
}

static inline ofp_be64
ofp_hton64(uint64_t v)
{
    ofp_be64 x;
    for (int i = 7; i >= 0; i--) {
        x.b[i] = (uint8_t)v;
        v >>= 8;
    }
    return x;
}

#define OFP13_VERSION 0x04
#define OFP_ETH_ALEN 6
#define OFP_MAX_PORT_NAME_LEN 16
#define OFP_DEFAULT_PRIORITY 0x8000
#define OFP_NO_BUFFER 0xffffffffu
#define OFPCML_MAX 0xffe5      /* Largest max_len that asks for buffering. */
#define OFPCML_NO_BUFFER 0xffff /* Send the whole packet, do not buffer. */

/* Message types. */
enum ofp13_type {
    OFPT_HELLO = 0,
    OFPT_ERROR = 1,
    OFPT_ECHO_REQUEST = 2,
    OFPT_ECHO_REPLY = 3,
    OFPT_EXPERIMENTER = 4,
    OFPT_FEATURES_REQUEST = 5,
    OFPT_FEATURES_REPLY = 6,
    OFPT_GET_CONFIG_REQUEST = 7,
    OFPT_GET_CONFIG_REPLY = 8,
    OFPT_SET_CONFIG = 9,
    OFPT_PACKET_IN = 10,
    OFPT_FLOW_REMOVED = 11,
    OFPT_PORT_STATUS = 12,
    OFPT_PACKET_OUT = 13,
    OFPT_FLOW_MOD = 14,
    OFPT_GROUP_MOD = 15,
    OFPT_PORT_MOD = 16,
    OFPT_TABLE_MOD = 17,
    OFPT_MULTIPART_REQUEST = 18,
    OFPT_MULTIPART_REPLY = 19,
    OFPT_BARRIER_REQUEST = 20,
    OFPT_BARRIER_REPLY = 21,
    OFPT_QUEUE_GET_CONFIG_REQUEST = 22,
    OFPT_QUEUE_GET_CONFIG_REPLY = 23,
    OFPT_ROLE_REQUEST = 24,
    OFPT_ROLE_REPLY = 25,
    OFPT_GET_ASYNC_REQUEST = 26,
    OFPT_GET_ASYNC_REPLY = 27,
    OFPT_SET_ASYNC = 28,
    OFPT_METER_MOD = 29,
};

/* Reserved port numbers. */
enum ofp13_port_no {
    OFPP_MAX = 0xffffff00u,
    OFPP_IN_PORT = 0xfffffff8u,
    OFPP_TABLE = 0xfffffff9u,
    OFPP_NORMAL = 0xfffffffau,
    OFPP_FLOOD = 0xfffffffbu,
    OFPP_ALL = 0xfffffffcu,
    OFPP_CONTROLLER = 0xfffffffdu,
    OFPP_LOCAL = 0xfffffffeu,
    OFPP_ANY = 0xffffffffu,
};

#define OFPG_MAX 0xffffff00u
#define OFPG_ALL 0xfffffffcu
#define OFPG_ANY 0xffffffffu
#define OFPTT_MAX 0xfe
#define OFPTT_ALL 0xff

struct ofp13_header {
    uint8_t version;
    uint8_t type;
    ofp_be16 length; /* Including this header. */
    ofp_be32 xid;
};
_Static_assert(sizeof(struct ofp13_header) == 8, "ofp_header");

/* Hello. */
enum { OFPHET_VERSIONBITMAP = 1 };

struct ofp13_hello_elem_header {
    ofp_be16 type;
    ofp_be16 length; /* Excluding padding to 8. */
};
_Static_assert(sizeof(struct ofp13_hello_elem_header) == 4, "hello_elem");

/* Error. */
enum ofp13_error_type {
    OFPET_HELLO_FAILED = 0,
    OFPET_BAD_REQUEST = 1,
    OFPET_BAD_ACTION = 2,
    OFPET_BAD_INSTRUCTION = 3,
    OFPET_BAD_MATCH = 4,
    OFPET_FLOW_MOD_FAILED = 5,
    OFPET_GROUP_MOD_FAILED = 6,
    OFPET_PORT_MOD_FAILED = 7,
    OFPET_TABLE_MOD_FAILED = 8,
    OFPET_QUEUE_OP_FAILED = 9,
    OFPET_SWITCH_CONFIG_FAILED = 10,
    OFPET_ROLE_REQUEST_FAILED = 11,
    OFPET_METER_MOD_FAILED = 12,
    OFPET_TABLE_FEATURES_FAILED = 13,
    OFPET_EXPERIMENTER = 0xffff,
};

struct ofp13_error_msg {
    struct ofp13_header header;
    ofp_be16 type;
    ofp_be16 code;
    /* Followed by at least 64 bytes of the failed request (or all of it). */
};
_Static_assert(sizeof(struct ofp13_error_msg) == 12, "ofp_error_msg");

struct ofp13_error_experimenter_msg {
    struct ofp13_header header;
    ofp_be16 type; /* OFPET_EXPERIMENTER. */
    ofp_be16 exp_type;
    ofp_be32 experimenter;
};
_Static_assert(sizeof(struct ofp13_error_experimenter_msg) == 16,
               "ofp_error_experimenter_msg");

/* Features. */
enum ofp13_capabilities {
    OFPC_FLOW_STATS = 1 << 0,
    OFPC_TABLE_STATS = 1 << 1,
    OFPC_PORT_STATS = 1 << 2,
    OFPC_GROUP_STATS = 1 << 3,
    OFPC_IP_REASM = 1 << 5,
    OFPC_QUEUE_STATS = 1 << 6,
    OFPC_PORT_BLOCKED = 1 << 8,
};

struct ofp13_switch_features {
    struct ofp13_header header;
    ofp_be64 datapath_id;
    ofp_be32 n_buffers;
    uint8_t n_tables;
    uint8_t auxiliary_id;
    uint8_t pad[2];
    ofp_be32 capabilities;
    ofp_be32 reserved;
};
_Static_assert(sizeof(struct ofp13_switch_features) == 32, "switch_features");

/* Switch configuration. */
enum ofp13_config_flags {
    OFPC_FRAG_NORMAL = 0,
    OFPC_FRAG_DROP = 1,
    OFPC_FRAG_REASM = 2,
    OFPC_FRAG_MASK = 3,
};

struct ofp13_switch_config {
    struct ofp13_header header;
    ofp_be16 flags;
    ofp_be16 miss_send_len;
};
_Static_assert(sizeof(struct ofp13_switch_config) == 12, "switch_config");

/* Match. */
enum { OFPMT_STANDARD = 0, OFPMT_OXM = 1 };

struct ofp13_match {
    ofp_be16 type;   /* OFPMT_OXM. */
    ofp_be16 length; /* Excluding padding to 8. */
    /* Followed by OXM TLVs, then padding to a multiple of 8. */
};
_Static_assert(sizeof(struct ofp13_match) == 4, "ofp_match header");

enum ofp13_oxm_class {
    OFPXMC_NXM_0 = 0x0000,
    OFPXMC_NXM_1 = 0x0001,
    OFPXMC_OPENFLOW_BASIC = 0x8000,
    OFPXMC_EXPERIMENTER = 0xffff,
};

/* OXM header: class (16) | field (7) | hasmask (1) | length (8). */
#define OXM_HEADER(CLASS, FIELD, HASMASK, LEN)                               \
    (((uint32_t)(CLASS) << 16) | ((uint32_t)(FIELD) << 9) |                  \
     ((uint32_t)(HASMASK) << 8) | (uint32_t)(LEN))
#define OXM_CLASS(H) ((uint16_t)((H) >> 16))
#define OXM_FIELD(H) ((uint8_t)(((H) >> 9) & 0x7f))
#define OXM_HASMASK(H) (((H) >> 8) & 1)
#define OXM_LENGTH(H) ((uint8_t)((H)&0xff))

enum ofp13_oxm_ofb_field {
    OFPXMT_OFB_IN_PORT = 0,
    OFPXMT_OFB_IN_PHY_PORT = 1,
    OFPXMT_OFB_METADATA = 2,
    OFPXMT_OFB_ETH_DST = 3,
    OFPXMT_OFB_ETH_SRC = 4,
    OFPXMT_OFB_ETH_TYPE = 5,
    OFPXMT_OFB_VLAN_VID = 6,
    OFPXMT_OFB_VLAN_PCP = 7,
    OFPXMT_OFB_IP_DSCP = 8,
    OFPXMT_OFB_IP_ECN = 9,
    OFPXMT_OFB_IP_PROTO = 10,
    OFPXMT_OFB_IPV4_SRC = 11,
    OFPXMT_OFB_IPV4_DST = 12,
    OFPXMT_OFB_TCP_SRC = 13,
    OFPXMT_OFB_TCP_DST = 14,
    OFPXMT_OFB_UDP_SRC = 15,
    OFPXMT_OFB_UDP_DST = 16,
    OFPXMT_OFB_SCTP_SRC = 17,
    OFPXMT_OFB_SCTP_DST = 18,
    OFPXMT_OFB_ICMPV4_TYPE = 19,
    OFPXMT_OFB_ICMPV4_CODE = 20,
    OFPXMT_OFB_ARP_OP = 21,
    OFPXMT_OFB_ARP_SPA = 22,
    OFPXMT_OFB_ARP_TPA = 23,
    OFPXMT_OFB_ARP_SHA = 24,
    OFPXMT_OFB_ARP_THA = 25,
    OFPXMT_OFB_TUNNEL_ID = 38,
};

#define OFPVID_PRESENT 0x1000
#define OFPVID_NONE 0x0000

/* Instructions. */
enum ofp13_instruction_type {
    OFPIT_GOTO_TABLE = 1,
    OFPIT_WRITE_METADATA = 2,
    OFPIT_WRITE_ACTIONS = 3,
    OFPIT_APPLY_ACTIONS = 4,
    OFPIT_CLEAR_ACTIONS = 5,
    OFPIT_METER = 6,
    OFPIT_EXPERIMENTER = 0xffff,
};

struct ofp13_instruction {
    ofp_be16 type;
    ofp_be16 len;
};
_Static_assert(sizeof(struct ofp13_instruction) == 4, "instruction");

struct ofp13_instruction_goto_table {
    ofp_be16 type;
    ofp_be16 len; /* 8. */
    uint8_t table_id;
    uint8_t pad[3];
};
_Static_assert(sizeof(struct ofp13_instruction_goto_table) == 8, "goto");

struct ofp13_instruction_write_metadata {
    ofp_be16 type;
    ofp_be16 len; /* 24. */
    uint8_t pad[4];
    ofp_be64 metadata;
    ofp_be64 metadata_mask;
};
_Static_assert(sizeof(struct ofp13_instruction_write_metadata) == 24,
               "write_metadata");

struct ofp13_instruction_actions {
    ofp_be16 type; /* WRITE, APPLY or CLEAR_ACTIONS. */
    ofp_be16 len;
    uint8_t pad[4];
    /* Followed by actions. */
};
_Static_assert(sizeof(struct ofp13_instruction_actions) == 8, "inst_actions");

/* Actions. */
enum ofp13_action_type {
    OFPAT_OUTPUT = 0,
    OFPAT_COPY_TTL_OUT = 11,
    OFPAT_COPY_TTL_IN = 12,
    OFPAT_SET_MPLS_TTL = 15,
    OFPAT_DEC_MPLS_TTL = 16,
    OFPAT_PUSH_VLAN = 17,
    OFPAT_POP_VLAN = 18,
    OFPAT_PUSH_MPLS = 19,
    OFPAT_POP_MPLS = 20,
    OFPAT_SET_QUEUE = 21,
    OFPAT_GROUP = 22,
    OFPAT_SET_NW_TTL = 23,
    OFPAT_DEC_NW_TTL = 24,
    OFPAT_SET_FIELD = 25,
    OFPAT_PUSH_PBB = 26,
    OFPAT_POP_PBB = 27,
    OFPAT_EXPERIMENTER = 0xffff,
};

struct ofp13_action_header {
    ofp_be16 type;
    ofp_be16 len; /* Multiple of 8, including this header. */
    uint8_t pad[4];
};
_Static_assert(sizeof(struct ofp13_action_header) == 8, "action_header");

struct ofp13_action_output {
    ofp_be16 type;
    ofp_be16 len; /* 16. */
    ofp_be32 port;
    ofp_be16 max_len;
    uint8_t pad[6];
};
_Static_assert(sizeof(struct ofp13_action_output) == 16, "action_output");

struct ofp13_action_group {
    ofp_be16 type;
    ofp_be16 len; /* 8. */
    ofp_be32 group_id;
};
_Static_assert(sizeof(struct ofp13_action_group) == 8, "action_group");

struct ofp13_action_push {
    ofp_be16 type; /* OFPAT_PUSH_VLAN etc. */
    ofp_be16 len;  /* 8. */
    ofp_be16 ethertype;
    uint8_t pad[2];
};
_Static_assert(sizeof(struct ofp13_action_push) == 8, "action_push");

struct ofp13_action_set_field {
    ofp_be16 type; /* OFPAT_SET_FIELD. */
    ofp_be16 len;  /* 4 + OXM TLV, padded to 8. */
    /* Followed by one OXM TLV (no mask), then zero padding. */
};
_Static_assert(sizeof(struct ofp13_action_set_field) == 4, "set_field");

struct ofp13_action_experimenter_header {
    ofp_be16 type; /* OFPAT_EXPERIMENTER. */
    ofp_be16 len;
    ofp_be32 experimenter;
};
_Static_assert(sizeof(struct ofp13_action_experimenter_header) == 8,
               "action_experimenter");

/* Nicira extension: copy bits between fields (OVS "move"). */
#define NX_VENDOR_ID 0x00002320u
#define NXAST_REG_MOVE 6

struct nx13_action_reg_move {
    ofp_be16 type; /* OFPAT_EXPERIMENTER. */
    ofp_be16 len;  /* 24. */
    ofp_be32 vendor; /* NX_VENDOR_ID. */
    ofp_be16 subtype; /* NXAST_REG_MOVE. */
    ofp_be16 n_bits;
    ofp_be16 src_ofs;
    ofp_be16 dst_ofs;
    ofp_be32 src; /* OXM/NXM header of the source field. */
    ofp_be32 dst; /* OXM/NXM header of the destination field. */
};
_Static_assert(sizeof(struct nx13_action_reg_move) == 24, "nx reg_move");

/* Flow mod. */
enum ofp13_flow_mod_command {
    OFPFC_ADD = 0,
    OFPFC_MODIFY = 1,
    OFPFC_MODIFY_STRICT = 2,
    OFPFC_DELETE = 3,
    OFPFC_DELETE_STRICT = 4,
};

enum ofp13_flow_mod_flags {
    OFPFF_SEND_FLOW_REM = 1 << 0,
    OFPFF_CHECK_OVERLAP = 1 << 1,
    OFPFF_RESET_COUNTS = 1 << 2,
    OFPFF_NO_PKT_COUNTS = 1 << 3,
    OFPFF_NO_BYT_COUNTS = 1 << 4,
};
#define OFPFF_ALL 0x1f

struct ofp13_flow_mod {
    struct ofp13_header header;
    ofp_be64 cookie;
    ofp_be64 cookie_mask;
    uint8_t table_id;
    uint8_t command;
    ofp_be16 idle_timeout;
    ofp_be16 hard_timeout;
    ofp_be16 priority;
    ofp_be32 buffer_id;
    ofp_be32 out_port;
    ofp_be32 out_group;
    ofp_be16 flags;
    uint8_t pad[2];
    /* Followed by ofp13_match, then instructions. */
};
_Static_assert(sizeof(struct ofp13_flow_mod) == 48, "flow_mod");

/* Flow removed. */
enum ofp13_flow_removed_reason {
    OFPRR_IDLE_TIMEOUT = 0,
    OFPRR_HARD_TIMEOUT = 1,
    OFPRR_DELETE = 2,
    OFPRR_GROUP_DELETE = 3,
};

struct ofp13_flow_removed {
    struct ofp13_header header;
    ofp_be64 cookie;
    ofp_be16 priority;
    uint8_t reason;
    uint8_t table_id;
    ofp_be32 duration_sec;
    ofp_be32 duration_nsec;
    ofp_be16 idle_timeout;
    ofp_be16 hard_timeout;
    ofp_be64 packet_count;
    ofp_be64 byte_count;
    /* Followed by ofp13_match. */
};
_Static_assert(sizeof(struct ofp13_flow_removed) == 48, "flow_removed");

/* Packet in / out. */
enum ofp13_packet_in_reason {
    OFPR_NO_MATCH = 0,
    OFPR_ACTION = 1,
    OFPR_INVALID_TTL = 2,
};

struct ofp13_packet_in {
    struct ofp13_header header;
    ofp_be32 buffer_id;
    ofp_be16 total_len;
    uint8_t reason;
    uint8_t table_id;
    ofp_be64 cookie;
    /* Followed by ofp13_match, 2 bytes of zero padding, then the frame. */
};
_Static_assert(sizeof(struct ofp13_packet_in) == 24, "packet_in");

struct ofp13_packet_out {
    struct ofp13_header header;
    ofp_be32 buffer_id;
    ofp_be32 in_port;
    ofp_be16 actions_len;
    uint8_t pad[6];
    /* Followed by actions, then the frame. */
};
_Static_assert(sizeof(struct ofp13_packet_out) == 24, "packet_out");

/* Ports. */
enum ofp13_port_config {
    OFPPC_PORT_DOWN = 1 << 0,
    OFPPC_NO_RECV = 1 << 2,
    OFPPC_NO_FWD = 1 << 5,
    OFPPC_NO_PACKET_IN = 1 << 6,
};

enum ofp13_port_state {
    OFPPS_LINK_DOWN = 1 << 0,
    OFPPS_BLOCKED = 1 << 1,
    OFPPS_LIVE = 1 << 2,
};

struct ofp13_port {
    ofp_be32 port_no;
    uint8_t pad[4];
    uint8_t hw_addr[OFP_ETH_ALEN];
    uint8_t pad2[2];
    char name[OFP_MAX_PORT_NAME_LEN]; /* NUL-padded, maybe not terminated. */
    ofp_be32 config;
    ofp_be32 state;
    ofp_be32 curr;
    ofp_be32 advertised;
    ofp_be32 supported;
    ofp_be32 peer;
    ofp_be32 curr_speed; /* kbps. */
    ofp_be32 max_speed;  /* kbps. */
};
_Static_assert(sizeof(struct ofp13_port) == 64, "ofp_port");

enum ofp13_port_reason {
    OFPPR_ADD = 0,
    OFPPR_DELETE = 1,
    OFPPR_MODIFY = 2,
};

struct ofp13_port_status {
    struct ofp13_header header;
    uint8_t reason;
    uint8_t pad[7];
    struct ofp13_port desc;
};
_Static_assert(sizeof(struct ofp13_port_status) == 80, "port_status");

/* Role. */
enum ofp13_controller_role {
    OFPCR_ROLE_NOCHANGE = 0,
    OFPCR_ROLE_EQUAL = 1,
    OFPCR_ROLE_MASTER = 2,
    OFPCR_ROLE_SLAVE = 3,
};

struct ofp13_role_request {
    struct ofp13_header header;
    ofp_be32 role;
    uint8_t pad[4];
    ofp_be64 generation_id;
};
_Static_assert(sizeof(struct ofp13_role_request) == 24, "role_request");

/* Multipart. */
enum ofp13_multipart_type {
    OFPMP_DESC = 0,
    OFPMP_FLOW = 1,
    OFPMP_AGGREGATE = 2,
    OFPMP_TABLE = 3,
    OFPMP_PORT_STATS = 4,
    OFPMP_QUEUE = 5,
    OFPMP_GROUP = 6,
    OFPMP_GROUP_DESC = 7,
    OFPMP_GROUP_FEATURES = 8,
    OFPMP_METER = 9,
    OFPMP_METER_CONFIG = 10,
    OFPMP_METER_FEATURES = 11,
    OFPMP_TABLE_FEATURES = 12,
    OFPMP_PORT_DESC = 13,
    OFPMP_EXPERIMENTER = 0xffff,
};

enum { OFPMPF_REQ_MORE = 1, OFPMPF_REPLY_MORE = 1 };

struct ofp13_multipart_header {
    struct ofp13_header header;
    ofp_be16 type;
    ofp_be16 flags;
    uint8_t pad[4];
    /* Followed by the body. */
};
_Static_assert(sizeof(struct ofp13_multipart_header) == 16, "multipart");

#define DESC_STR_LEN 256
#define SERIAL_NUM_LEN 32

struct ofp13_desc {
    char mfr_desc[DESC_STR_LEN];
    char hw_desc[DESC_STR_LEN];
    char sw_desc[DESC_STR_LEN];
    char serial_num[SERIAL_NUM_LEN];
    char dp_desc[DESC_STR_LEN];
};
_Static_assert(sizeof(struct ofp13_desc) == 1056, "ofp_desc");

/* Body of OFPMP_FLOW and OFPMP_AGGREGATE requests. */
struct ofp13_flow_stats_request {
    uint8_t table_id;
    uint8_t pad[3];
    ofp_be32 out_port;
    ofp_be32 out_group;
    uint8_t pad2[4];
    ofp_be64 cookie;
    ofp_be64 cookie_mask;
    /* Followed by ofp13_match. */
};
_Static_assert(sizeof(struct ofp13_flow_stats_request) == 32,
               "flow_stats_request");

struct ofp13_flow_stats {
    ofp_be16 length; /* Of this entry, including match and instructions. */
    uint8_t table_id;
    uint8_t pad;
    ofp_be32 duration_sec;
    ofp_be32 duration_nsec;
    ofp_be16 priority;
    ofp_be16 idle_timeout;
    ofp_be16 hard_timeout;
    ofp_be16 flags;
    uint8_t pad2[4];
    ofp_be64 cookie;
    ofp_be64 packet_count;
    ofp_be64 byte_count;
    /* Followed by ofp13_match, then instructions. */
};
_Static_assert(sizeof(struct ofp13_flow_stats) == 48, "flow_stats");

struct ofp13_aggregate_stats_reply {
    ofp_be64 packet_count;
    ofp_be64 byte_count;
    ofp_be32 flow_count;
    uint8_t pad[4];
};
_Static_assert(sizeof(struct ofp13_aggregate_stats_reply) == 24,
               "aggregate_stats_reply");

/* OFPMP_TABLE reply entry (the request has no body). */
struct ofp13_table_stats {
    uint8_t table_id;
    uint8_t pad[3];
    ofp_be32 active_count;
    ofp_be64 lookup_count;
    ofp_be64 matched_count;
};
_Static_assert(sizeof(struct ofp13_table_stats) == 24, "table_stats");

struct ofp13_port_stats_request {
    ofp_be32 port_no; /* OFPP_ANY for all ports. */
    uint8_t pad[4];
};
_Static_assert(sizeof(struct ofp13_port_stats_request) == 8,
               "port_stats_request");

struct ofp13_port_stats {
    ofp_be32 port_no;
    uint8_t pad[4];
    ofp_be64 rx_packets;
    ofp_be64 tx_packets;
    ofp_be64 rx_bytes;
    ofp_be64 tx_bytes;
    ofp_be64 rx_dropped;
    ofp_be64 tx_dropped;
    ofp_be64 rx_errors;
    ofp_be64 tx_errors;
    ofp_be64 rx_frame_err;
    ofp_be64 rx_over_err;
    ofp_be64 rx_crc_err;
    ofp_be64 collisions;
    ofp_be32 duration_sec;
    ofp_be32 duration_nsec;
};
_Static_assert(sizeof(struct ofp13_port_stats) == 112, "port_stats");

#endif /* openflow/openflow13.h */
