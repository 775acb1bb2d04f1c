/* chan_msg.h: the agent channel's message codec (docs/agent-protocol.md),
 * shared by both ends: mignetd's agent sessions and node agents.
 *
 * It turns one line of the channel into a 'struct chan_msg' and back.  It
 * never allocates anything the caller must free, never accepts a message a
 * peer would have to reject (encode validates exactly like decode), and
 * reports every malformed input with its own error.
 *
 * API in brief:
 *
 *   struct chan_msg msg;
 *   char err[128];
 *   enum chan_err e = chan_msg_decode(line, len, &msg, err, sizeof err);
 *   if (e) {                       // malformed: answer and maybe close
 *       chan_msg_init_error(&reply, e, err);
 *       chan_msg_encode(&reply, &out);
 *       if (chan_err_is_fatal(e)) close...;
 *   }
 *
 *   chan_msg_init(&msg, CHAN_INSTALL);  // then fill the fields
 *   chan_msg_encode(&msg, &sb);         // appends one line, with '\n'
 *
 *   // Framing a byte stream:
 *   size_t line_len, used;
 *   while (!(e = chan_frame(buf, n, &line_len, &used)) && used) {
 *       decode(buf, line_len); consume 'used' bytes;
 *   }                                   // e == CHAN_E_TOO_LONG: close
 *
 * Which members each type uses ("R" required on decode, always encoded;
 * "o" optional on decode, default 0, always encoded):
 *
 *   hello         node R, proto R, token s
 *   welcome       node R, map_version R, heartbeat_ms R
 *   resync_begin  seq R
 *   resync_end    seq R
 *   install       seq R, vm R, epoch R, config: mac R, ip R, vni o, vlan o,
 *                 port o; binding o; inactive f, activate_on_frame f,
 *                 iface_id s
 *   relay         as install + target R, target_address R, target_epoch R
 *   delete        as install
 *   ack           seq R
 *   refresh       version R
 *   report        vm R, epoch R
 *   refused       seq R, vm R, epoch R, held_epoch R
 *   nack          seq R, ofp_error R
 *   heartbeat     -
 *   error         code R, message o
 *   dhcp          port R, frame R, vm o            (agent -> controller)
 *   binding       vm R, action R, binding R        (agent -> controller)
 *   subscribe     version R                        (agent -> controller)
 *   map_begin     since R, version R               (controller -> agent)
 *   map_entry     vm R, version o, removed o; unless removed: node R,
 *                 address o (encoded when not empty), epoch R, mac R, ip R,
 *                 vni o, vlan o, port o            (controller -> agent)
 *   map_end       version R                        (controller -> agent)
 *   map_ack       version R                        (agent -> controller)
 *   activated     vm R, epoch R                    (agent -> controller)
 *   not_leader    leader s                         (controller -> agent)
 *
 * Tenant virtual switches (seed 001, docs/vswitch.md):
 *   vnet_begin    vswitch R, vni R, active R, seq R, full f   (ctl -> agent)
 *   vnet_port     vswitch R, port R, vm R, key R              (ctl -> agent)
 *   vnet_flow     vswitch R, id R, version R, ofp R           (ctl -> agent)
 *   vnet_flow_del vswitch R, id R, version R                  (ctl -> agent)
 *   vnet_end      vswitch R, seq R                            (ctl -> agent)
 *   vnet_drop     vswitch R, version R, seq R                 (ctl -> agent)
 *   vnet_remove   vswitch R, seq R                            (ctl -> agent)
 *   vnet_packet_out vswitch R, port R, frame R                (ctl -> agent)
 *   vnet_stats_req vswitch R, seq R                           (ctl -> agent)
 *   vnet_packet_in vswitch R, port R, id R, version R, total_len R, frame R
 *                                                             (agent -> ctl)
 *   vnet_fstat    vswitch R, id R, version R, port R, packets R, bytes R
 *                                                             (agent -> ctl)
 *   vnet_pstat    vswitch R, port R, packets R, bytes R       (agent -> ctl)
 *   vnet_stats_end vswitch R, seq R, final f                  (agent -> ctl)
 *   vnet_ptx      vswitch R, port R, packets R, bytes R       (agent -> ctl)
 * 'ofp' (vnet_flow) is an OpenFlow 1.3 FLOW_MOD in the tenant's terms, in
 * lowercase hex like 'frame' and held in the same member; 'key' is a
 * tunnel key (0-VNI_MAX).
 *
 * "f": an optional boolean, default false, encoded only when true (so a
 * plain install reads as before).  "s": an optional string, encoded only
 * when not empty.  'iface_id' (default: empty, meaning the VM id) is the
 * OVS external_ids:iface-id of the VM's port, 1-CHAN_IFACE_MAX printable
 * ASCII characters (0x20-0x7e).  'token' (hello) is the node's token
 * (docs/mignetd.md, "Node identity"), 1-CHAN_TOKEN_MAX characters
 * 0x21-0x7e; absent when the agent authenticates by its TLS certificate.
 *
 * 'ofp_error' is a nested object {type R, code R}, the OpenFlow error
 * (16-bit type and code) Open vSwitch answered a flow_mod with.
 * 'binding' is a nested object with the binding's enforcement fields (seed
 * 003 Table 1): id R, node R, mac R, ip R, vlan o, port o, type R,
 * origin R, lease o, expires o, server o, port_status o, port_security o;
 * its VM is the message's 'vm'.  It is encoded only when 'has_binding'
 * (optional members: peers that do not know it ignore it), and decoded
 * only if it passes binding_validate().  'frame' is an Ethernet frame in
 * lowercase hex, at most CHAN_FRAME_MAX bytes; 'action' is "created",
 * "updated" or "removed".
 *
 * Map push (docs/agent-protocol.md): a push is map_begin, one map_entry
 * per changed VM (so no line comes near CHAN_MSG_MAX_LINE), map_end.
 * map_begin's 'since' is at most its 'version'.  A removed map_entry
 * carries (and encodes) only vm, version and removed.
 *
 * Unknown members are ignored (forward compatibility).  Integers are JSON
 * integers in [0, 2^63-1] (vlan 0-4095, vni 0-16777215, port and
 * heartbeat_ms 32-bit, proto >= 1).  Every other type is rejected. */
#ifndef MIGNET_CHAN_MSG_H
#define MIGNET_CHAN_MSG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/binding.h"
#include "mignet/model.h"

struct strbuf;

/* The protocol version this codec speaks (hello's 'proto'). */
#define CHAN_PROTO_VERSION 1
/* Longest line on the channel, counting its terminating '\n'. */
#define CHAN_MSG_MAX_LINE 65536
/* Longest error code and error message kept (bytes, without the NUL).
 * Longer messages are cut at a UTF-8 character boundary. */
#define CHAN_CODE_MAX 31
#define CHAN_TEXT_MAX 255
/* Longest node data-plane address (relay's target_address). */
#define CHAN_ADDRESS_MAX 63
#define VLAN_MAX 4095
#define VNI_MAX 16777215
/* Longest 'iface_id' (bytes, without the NUL). */
#define CHAN_IFACE_MAX 63
/* Longest hello 'token' (bytes, without the NUL). */
#define CHAN_TOKEN_MAX 127
/* Longest frame a 'dhcp' message carries (bytes, before hex). */
#define CHAN_FRAME_MAX 2048

#define CHAN_MSG_TYPES                                                       \
    CHAN_MSG_TYPE(HELLO, "hello")                                            \
    CHAN_MSG_TYPE(WELCOME, "welcome")                                        \
    CHAN_MSG_TYPE(RESYNC_BEGIN, "resync_begin")                              \
    CHAN_MSG_TYPE(RESYNC_END, "resync_end")                                  \
    CHAN_MSG_TYPE(INSTALL, "install")                                        \
    CHAN_MSG_TYPE(RELAY, "relay")                                            \
    CHAN_MSG_TYPE(DELETE, "delete")                                          \
    CHAN_MSG_TYPE(ACK, "ack")                                                \
    CHAN_MSG_TYPE(REFRESH, "refresh")                                        \
    CHAN_MSG_TYPE(REPORT, "report")                                          \
    CHAN_MSG_TYPE(REFUSED, "refused")                                        \
    CHAN_MSG_TYPE(HEARTBEAT, "heartbeat")                                    \
    CHAN_MSG_TYPE(ERROR, "error")                                            \
    CHAN_MSG_TYPE(DHCP, "dhcp")                                              \
    CHAN_MSG_TYPE(BINDING, "binding")                                        \
    CHAN_MSG_TYPE(NACK, "nack")                                              \
    CHAN_MSG_TYPE(SUBSCRIBE, "subscribe")                                    \
    CHAN_MSG_TYPE(MAP_BEGIN, "map_begin")                                    \
    CHAN_MSG_TYPE(MAP_ENTRY, "map_entry")                                    \
    CHAN_MSG_TYPE(MAP_END, "map_end")                                        \
    CHAN_MSG_TYPE(MAP_ACK, "map_ack")                                        \
    CHAN_MSG_TYPE(ACTIVATED, "activated")                                    \
    CHAN_MSG_TYPE(NOT_LEADER, "not_leader")                                  \
    CHAN_MSG_TYPE(VNET_BEGIN, "vnet_begin")                                  \
    CHAN_MSG_TYPE(VNET_PORT, "vnet_port")                                    \
    CHAN_MSG_TYPE(VNET_FLOW, "vnet_flow")                                    \
    CHAN_MSG_TYPE(VNET_FLOW_DEL, "vnet_flow_del")                            \
    CHAN_MSG_TYPE(VNET_END, "vnet_end")                                      \
    CHAN_MSG_TYPE(VNET_DROP, "vnet_drop")                                    \
    CHAN_MSG_TYPE(VNET_REMOVE, "vnet_remove")                                \
    CHAN_MSG_TYPE(VNET_PACKET_OUT, "vnet_packet_out")                        \
    CHAN_MSG_TYPE(VNET_STATS_REQ, "vnet_stats_req")                          \
    CHAN_MSG_TYPE(VNET_PACKET_IN, "vnet_packet_in")                          \
    CHAN_MSG_TYPE(VNET_FSTAT, "vnet_fstat")                                  \
    CHAN_MSG_TYPE(VNET_PSTAT, "vnet_pstat")                                  \
    CHAN_MSG_TYPE(VNET_STATS_END, "vnet_stats_end")                          \
    CHAN_MSG_TYPE(VNET_PTX, "vnet_ptx")

enum chan_msg_type {
#define CHAN_MSG_TYPE(ENUM, NAME) CHAN_##ENUM,
    CHAN_MSG_TYPES
#undef CHAN_MSG_TYPE
    CHAN_N_TYPES
};
const char *chan_msg_type_name(enum chan_msg_type); /* "install" */
/* Returns false for an unknown name. */
bool chan_msg_type_from_name(const char *, enum chan_msg_type *);

/* Codec errors: enum, protocol error code sent to the peer, message.
 * Several map to the same protocol code ('bad_field'); the enum says
 * exactly what was wrong. */
#define CHAN_ERRORS                                                          \
    CHAN_ERR(OK, "ok", "success")                                            \
    CHAN_ERR(TOO_LONG, "too_long", "line longer than 65536 bytes")           \
    CHAN_ERR(BAD_JSON, "bad_json", "not valid JSON")                         \
    CHAN_ERR(NOT_OBJECT, "bad_json", "not a JSON object")                    \
    CHAN_ERR(NO_TYPE, "no_type", "no string member 'type'")                 \
    CHAN_ERR(UNKNOWN_TYPE, "unknown_type", "unknown message type")           \
    CHAN_ERR(MISSING, "bad_field", "a required member is missing")           \
    CHAN_ERR(WRONG_TYPE, "bad_field", "a member has the wrong JSON type")    \
    CHAN_ERR(RANGE, "bad_field", "a number is out of range")                 \
    CHAN_ERR(BAD_NAME, "bad_field",                                          \
             "an id is not 1-63 characters of [A-Za-z0-9._:-]")             \
    CHAN_ERR(BAD_MAC, "bad_field", "not a MAC address like 02:00:00:00:00:01")\
    CHAN_ERR(BAD_IP, "bad_field", "not an IPv4 address like 198.18.1.1")     \
    CHAN_ERR(BAD_STRING, "bad_field",                                        \
             "a string is empty, too long or has invalid characters")        \
    CHAN_ERR(BAD_ENUM, "bad_field", "not one of the names this member takes") \
    CHAN_ERR(BAD_HEX, "bad_field",                                           \
             "not an even number of lowercase hex digits within the limit")  \
    CHAN_ERR(BAD_BINDING, "bad_field", "the binding is not valid")           \
    CHAN_ERR(NOMEM, "no_memory", "out of memory")

enum chan_err {
#define CHAN_ERR(ENUM, CODE, MSG) CHAN_E_##ENUM,
    CHAN_ERRORS
#undef CHAN_ERR
    CHAN_N_ERRORS
};
const char *chan_err_code(enum chan_err);   /* protocol code: "bad_field" */
const char *chan_strerror(enum chan_err);   /* human message */
/* Whether the protocol says to close the session after answering this
 * decode error: a line too long, invalid JSON, not an object, or no type.
 * Unknown types and bad members of a known type are answered with an
 * 'error' and the session stays up. */
bool chan_err_is_fatal(enum chan_err);

/* One message.  A flat value type: copy it freely.  Only the members that
 * its type uses (table above) are meaningful; chan_msg_init() zeroes the
 * rest. */
struct chan_msg {
    enum chan_msg_type type;
    char node[MN_NAME_MAX + 1];     /* hello, welcome, map_entry */
    uint32_t proto;                   /* hello */
    char token[CHAN_TOKEN_MAX + 1];   /* hello: "" = none (TLS) */
    uint64_t map_version;             /* welcome */
    uint32_t heartbeat_ms;            /* welcome */
    uint64_t seq;                     /* instructions, resync, ack, refused */
    char vm[MN_NAME_MAX + 1];       /* instructions, report, refused */
    uint64_t epoch;                   /* instructions, report, refused */
    /* install: the migration lifecycle (docs/agent-protocol.md). */
    bool inactive;                    /* hold, attract no traffic */
    bool activate_on_frame;           /* activate on the port's frame */
    char iface_id[CHAN_IFACE_MAX + 1]; /* "" = the VM id */
    struct mn_config config;          /* instructions, map_entry */
    char target[MN_NAME_MAX + 1];   /* relay */
    char target_address[CHAN_ADDRESS_MAX + 1]; /* relay */
    uint64_t target_epoch;            /* relay */
    uint64_t version;                 /* refresh, subscribe, map_* */
    uint64_t since;                   /* map_begin */
    bool removed;                     /* map_entry */
    char address[CHAN_ADDRESS_MAX + 1]; /* map_entry: the node's address;
                                          * not_leader: the leader's channel
                                          * address, "" = not known */
    uint64_t held_epoch;              /* refused */
    uint16_t ofp_type, ofp_code;      /* nack: its OpenFlow error */
    char code[CHAN_CODE_MAX + 1];     /* error */
    char message[CHAN_TEXT_MAX + 1];  /* error */
    /* Port security (seed 003). */
    bool has_binding;                 /* instructions (optional), binding */
    struct binding binding;           /* its 'vm' is the message's */
    enum binding_action action;       /* binding */
    uint32_t port;                    /* dhcp: the port it came in on */
    size_t frame_len;                 /* dhcp */
    uint8_t frame[CHAN_FRAME_MAX];    /* dhcp, vnet_packet_*, vnet_flow */
    /* Tenant virtual switches (seed 001). */
    char vswitch[MN_NAME_MAX + 1];  /* every vnet_* message */
    uint32_t vni;                     /* vnet_begin */
    uint64_t active;                  /* vnet_begin: the dispatched version */
    bool full;                        /* vnet_begin: replaces every flow */
    uint32_t key;                     /* vnet_port: its tunnel key */
    uint32_t flow_id;                 /* vnet_flow*, _packet_in, _fstat */
    uint64_t packets, bytes;          /* vnet_fstat, vnet_pstat */
    uint32_t total_len;               /* vnet_packet_in */
    bool final;                       /* vnet_stats_end */
};

/* Zeroes 'msg' and sets its type (and proto for hello). */
void chan_msg_init(struct chan_msg *, enum chan_msg_type);
/* Makes an 'error' message for codec error 'e'; 'detail' (may be NULL)
 * becomes the message, else chan_strerror(e). */
void chan_msg_init_error(struct chan_msg *, enum chan_err e,
                         const char *detail);

/* Decodes one line ('len' bytes, without its '\n'; a trailing '\r' is not
 * stripped and makes it invalid JSON only if it is inside a token).  On
 * success fills 'out'.  On failure 'out' is unspecified, and 'err' (if not
 * NULL) receives a NUL-terminated explanation naming the member at fault.
 * For CHAN_E_UNKNOWN_TYPE the explanation names the type. */
enum chan_err chan_msg_decode(const char *line, size_t len,
                              struct chan_msg *out, char *err,
                              size_t errlen);

/* Appends 'msg' to 'out' as one compact JSON line ending in '\n', members
 * in the order of the table above, "type" first.  Validates exactly as the
 * decoder does; on error 'out' is unchanged. */
enum chan_err chan_msg_encode(const struct chan_msg *, struct strbuf *out);

/* Stream framing.  Looks for the first complete line in 'buf'.  Returns
 * CHAN_E_OK with *consumed > 0 (line plus '\n') and *line_len (without the
 * '\n') when there is one, CHAN_E_OK with *consumed == 0 when more bytes
 * are needed, CHAN_E_TOO_LONG when the line cannot fit the limit. */
enum chan_err chan_frame(const char *buf, size_t len, size_t *line_len,
                         size_t *consumed);

#endif /* MIGNET_CHAN_MSG_H */
