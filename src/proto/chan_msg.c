/* chan_msg.c: encode and decode agent-channel lines (see chan_msg.h).
 *
 * One table says which members each message type has; decode and encode
 * both walk it, so the two can never disagree about a field.  Decoding must
 * never crash or read past 'len', whatever the bytes: it is fuzzed. */
#include "proto/chan_msg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "mignet/model.h"
#include "lib/strbuf.h"
#include "lib/util.h"

static const char *const type_names[] = {
#define CHAN_MSG_TYPE(ENUM, NAME) NAME,
    CHAN_MSG_TYPES
#undef CHAN_MSG_TYPE
};

static const struct {
    const char *code;
    const char *message;
} err_table[] = {
#define CHAN_ERR(ENUM, CODE, MSG) {CODE, MSG},
    CHAN_ERRORS
#undef CHAN_ERR
};

const char *
chan_msg_type_name(enum chan_msg_type type)
{
    return (unsigned) type < CHAN_N_TYPES ? type_names[type] : "?";
}

bool
chan_msg_type_from_name(const char *name, enum chan_msg_type *type)
{
    size_t i = name_index(type_names, CHAN_N_TYPES, name);
    if (i == CHAN_N_TYPES) {
        return false;
    }
    *type = (enum chan_msg_type) i;
    return true;
}

const char *
chan_err_code(enum chan_err e)
{
    return (unsigned) e < CHAN_N_ERRORS ? err_table[e].code : "?";
}

const char *
chan_strerror(enum chan_err e)
{
    return (unsigned) e < CHAN_N_ERRORS ? err_table[e].message
                                        : "unknown error";
}

bool
chan_err_is_fatal(enum chan_err e)
{
    return e == CHAN_E_TOO_LONG || e == CHAN_E_BAD_JSON
           || e == CHAN_E_NOT_OBJECT || e == CHAN_E_NO_TYPE;
}

/* ---- The member table ---- */

enum field_kind {
    F_NAME,    /* char[MN_NAME_MAX + 1], mn_name_valid() */
    F_U64,     /* uint64_t, 0..INT64_MAX */
    F_U32,     /* uint32_t */
    F_PROTO,   /* uint32_t >= 1 */
    F_VNI,     /* uint32_t <= VNI_MAX */
    F_VLAN,    /* uint16_t <= VLAN_MAX */
    F_MAC,     /* uint8_t[6] */
    F_IP,      /* uint32_t, dotted quad */
    F_ADDRESS, /* char[CHAN_ADDRESS_MAX + 1], printable, no spaces */
    F_CODE,    /* char[CHAN_CODE_MAX + 1], [a-z0-9_] */
    F_TEXT,    /* char[CHAN_TEXT_MAX + 1], cut on decode */
    F_BVLAN,   /* uint16_t <= BINDING_VLAN_MAX */
    F_BTYPE,   /* enum binding_type, by name */
    F_BORIGIN, /* enum binding_origin, by name */
    F_BSTATUS, /* enum binding_port_status, by name */
    F_BSEC,    /* enum binding_port_security, by name */
    F_ACTION,  /* enum binding_action: created, updated, removed */
    F_HEX,     /* frame[CHAN_FRAME_MAX] + frame_len, lowercase hex */
    F_BINDING, /* the nested binding object (binding_fields) */
    F_U16,     /* uint16_t */
    F_OFPERR,  /* the nested ofp_error object (ofp_error_fields) */
    F_BOOL,    /* bool */
    F_FLAG,    /* bool, optional, encoded only when true */
    F_IFACE,   /* char[CHAN_IFACE_MAX + 1], printable ASCII */
    F_TOKEN,   /* char[CHAN_TOKEN_MAX + 1], printable, no spaces */
};

struct field {
    const char *key;
    enum field_kind kind;
    size_t offset;
    bool required;
};

#define FIELD(KEY, KIND, MEMBER, REQ)                                        \
    {KEY, KIND, offsetof(struct chan_msg, MEMBER), REQ}
#define F_SEQ FIELD("seq", F_U64, seq, true)
#define F_VM FIELD("vm", F_NAME, vm, true)
#define F_EPOCH FIELD("epoch", F_U64, epoch, true)
#define F_CONFIG                                                             \
    FIELD("mac", F_MAC, config.mac, true),                                   \
        FIELD("ip", F_IP, config.ip, true),                                  \
        FIELD("vni", F_VNI, config.vni, false),                              \
        FIELD("vlan", F_VLAN, config.vlan, false),                           \
        FIELD("port", F_U32, config.port, false)
#define F_BINDING_OPT FIELD("binding", F_BINDING, binding, false)
#define END {NULL, F_U64, 0, false}

static const struct field hello_fields[] = {
    FIELD("node", F_NAME, node, true),
    FIELD("proto", F_PROTO, proto, true),
    FIELD("token", F_TOKEN, token, false),
    END,
};
static const struct field welcome_fields[] = {
    FIELD("node", F_NAME, node, true),
    FIELD("map_version", F_U64, map_version, true),
    FIELD("heartbeat_ms", F_U32, heartbeat_ms, true),
    END,
};
static const struct field seq_fields[] = {F_SEQ, END};
static const struct field instr_fields[] = {
    F_SEQ, F_VM, F_EPOCH, F_CONFIG, F_BINDING_OPT, END,
};
static const struct field install_fields[] = {
    F_SEQ,
    F_VM,
    F_EPOCH,
    F_CONFIG,
    F_BINDING_OPT,
    FIELD("inactive", F_FLAG, inactive, false),
    FIELD("activate_on_frame", F_FLAG, activate_on_frame, false),
    FIELD("iface_id", F_IFACE, iface_id, false),
    END,
};
static const struct field relay_fields[] = {
    F_SEQ,
    F_VM,
    F_EPOCH,
    F_CONFIG,
    FIELD("target", F_NAME, target, true),
    FIELD("target_address", F_ADDRESS, target_address, true),
    FIELD("target_epoch", F_U64, target_epoch, true),
    F_BINDING_OPT,
    END,
};
static const struct field refresh_fields[] = {
    FIELD("version", F_U64, version, true),
    END,
};
static const struct field report_fields[] = {F_VM, F_EPOCH, END};
static const struct field refused_fields[] = {
    F_SEQ,
    F_VM,
    F_EPOCH,
    FIELD("held_epoch", F_U64, held_epoch, true),
    END,
};
static const struct field no_fields[] = {END};
/* Members of the nested "ofp_error" object. */
static const struct field ofp_error_fields[] = {
    FIELD("type", F_U16, ofp_type, true),
    FIELD("code", F_U16, ofp_code, true),
    END,
};
static const struct field nack_fields[] = {
    F_SEQ,
    FIELD("ofp_error", F_OFPERR, ofp_type, true),
    END,
};
/* Members of the nested "binding" object. */
static const struct field binding_fields[] = {
    FIELD("id", F_U32, binding.id, true),
    FIELD("node", F_NAME, binding.node, true),
    FIELD("mac", F_MAC, binding.mac, true),
    FIELD("ip", F_IP, binding.ip, true),
    FIELD("vlan", F_BVLAN, binding.vlan, false),
    FIELD("port", F_U32, binding.port, false),
    FIELD("type", F_BTYPE, binding.type, true),
    FIELD("origin", F_BORIGIN, binding.origin, true),
    FIELD("lease", F_U32, binding.lease_s, false),
    FIELD("expires", F_U64, binding.expires_ms, false),
    FIELD("server", F_IP, binding.server, false),
    FIELD("port_status", F_BSTATUS, binding.port_status, false),
    FIELD("port_security", F_BSEC, binding.port_security, false),
    END,
};
static const struct field dhcp_fields[] = {
    FIELD("port", F_U32, port, true),
    FIELD("frame", F_HEX, frame, true),
    FIELD("vm", F_NAME, vm, false),
    END,
};
static const struct field binding_msg_fields[] = {
    F_VM,
    FIELD("action", F_ACTION, action, true),
    FIELD("binding", F_BINDING, binding, true),
    END,
};
static const struct field version_fields[] = {
    FIELD("version", F_U64, version, true),
    END,
};
static const struct field map_begin_fields[] = {
    FIELD("since", F_U64, since, true),
    FIELD("version", F_U64, version, true),
    END,
};
/* A map entry as GET /v1/map lists it: a removed one has only these... */
static const struct field map_removed_fields[] = {
    F_VM,
    FIELD("version", F_U64, version, false),
    FIELD("removed", F_BOOL, removed, true),
    END,
};
/* ... a live one these. */
static const struct field map_entry_fields[] = {
    F_VM,
    FIELD("version", F_U64, version, false),
    FIELD("removed", F_BOOL, removed, false),
    FIELD("node", F_NAME, node, true),
    FIELD("address", F_ADDRESS, address, false),
    F_EPOCH,
    F_CONFIG,
    END,
};
/* A replica that does not lead answers 'hello' with this and closes. */
static const struct field not_leader_fields[] = {
    FIELD("leader", F_ADDRESS, address, false),
    END,
};
static const struct field error_fields[] = {
    FIELD("code", F_CODE, code, true),
    FIELD("message", F_TEXT, message, false),
    END,
};

/* Tenant virtual switches (seed 001). */
#define F_VSWITCH FIELD("vswitch", F_NAME, vswitch, true)
static const struct field vnet_begin_fields[] = {
    F_VSWITCH,
    FIELD("vni", F_VNI, vni, true),
    FIELD("active", F_U64, active, true),
    F_SEQ,
    FIELD("full", F_FLAG, full, false),
    END,
};
static const struct field vnet_port_fields[] = {
    F_VSWITCH,
    FIELD("port", F_U32, port, true),
    F_VM,
    FIELD("key", F_VNI, key, true),
    END,
};
static const struct field vnet_flow_fields[] = {
    F_VSWITCH,
    FIELD("id", F_U32, flow_id, true),
    FIELD("version", F_U64, version, true),
    FIELD("ofp", F_HEX, frame, true),
    END,
};
static const struct field vnet_flow_del_fields[] = {
    F_VSWITCH,
    FIELD("id", F_U32, flow_id, true),
    FIELD("version", F_U64, version, true),
    END,
};
static const struct field vnet_seq_fields[] = {F_VSWITCH, F_SEQ, END};
static const struct field vnet_drop_fields[] = {
    F_VSWITCH,
    FIELD("version", F_U64, version, true),
    F_SEQ,
    END,
};
static const struct field vnet_packet_out_fields[] = {
    F_VSWITCH,
    FIELD("port", F_U32, port, true),
    FIELD("frame", F_HEX, frame, true),
    END,
};
static const struct field vnet_packet_in_fields[] = {
    F_VSWITCH,
    FIELD("port", F_U32, port, true),
    FIELD("id", F_U32, flow_id, true),
    FIELD("version", F_U64, version, true),
    FIELD("total_len", F_U32, total_len, true),
    FIELD("frame", F_HEX, frame, true),
    END,
};
static const struct field vnet_fstat_fields[] = {
    F_VSWITCH,
    FIELD("id", F_U32, flow_id, true),
    FIELD("version", F_U64, version, true),
    FIELD("port", F_U32, port, true),
    FIELD("packets", F_U64, packets, true),
    FIELD("bytes", F_U64, bytes, true),
    END,
};
static const struct field vnet_pstat_fields[] = {
    F_VSWITCH,
    FIELD("port", F_U32, port, true),
    FIELD("packets", F_U64, packets, true),
    FIELD("bytes", F_U64, bytes, true),
    END,
};
static const struct field vnet_stats_end_fields[] = {
    F_VSWITCH,
    F_SEQ,
    FIELD("final", F_FLAG, final, false),
    END,
};

static const struct field *const type_fields[CHAN_N_TYPES] = {
    [CHAN_HELLO] = hello_fields,          [CHAN_WELCOME] = welcome_fields,
    [CHAN_RESYNC_BEGIN] = seq_fields,     [CHAN_RESYNC_END] = seq_fields,
    [CHAN_INSTALL] = install_fields,      [CHAN_RELAY] = relay_fields,
    [CHAN_DELETE] = instr_fields,         [CHAN_ACK] = seq_fields,
    [CHAN_REFRESH] = refresh_fields,      [CHAN_REPORT] = report_fields,
    [CHAN_REFUSED] = refused_fields,      [CHAN_HEARTBEAT] = no_fields,
    [CHAN_ERROR] = error_fields,          [CHAN_DHCP] = dhcp_fields,
    [CHAN_BINDING] = binding_msg_fields,  [CHAN_NACK] = nack_fields,
    [CHAN_SUBSCRIBE] = version_fields,    [CHAN_MAP_BEGIN] = map_begin_fields,
    [CHAN_MAP_ENTRY] = map_entry_fields,  [CHAN_MAP_END] = version_fields,
    [CHAN_MAP_ACK] = version_fields,      [CHAN_ACTIVATED] = report_fields,
    [CHAN_NOT_LEADER] = not_leader_fields,
    [CHAN_VNET_BEGIN] = vnet_begin_fields,
    [CHAN_VNET_PORT] = vnet_port_fields,
    [CHAN_VNET_FLOW] = vnet_flow_fields,
    [CHAN_VNET_FLOW_DEL] = vnet_flow_del_fields,
    [CHAN_VNET_END] = vnet_seq_fields,
    [CHAN_VNET_DROP] = vnet_drop_fields,
    [CHAN_VNET_REMOVE] = vnet_seq_fields,
    [CHAN_VNET_PACKET_OUT] = vnet_packet_out_fields,
    [CHAN_VNET_STATS_REQ] = vnet_seq_fields,
    [CHAN_VNET_PACKET_IN] = vnet_packet_in_fields,
    [CHAN_VNET_FSTAT] = vnet_fstat_fields,
    [CHAN_VNET_PSTAT] = vnet_pstat_fields,
    [CHAN_VNET_STATS_END] = vnet_stats_end_fields,
    [CHAN_VNET_PTX] = vnet_pstat_fields,
};

/* Checks across members, after each member passed its own: where it
 * fails, '*at' names the member at fault. */
static enum chan_err
check_message(const struct chan_msg *msg, const char **at)
{
    if (msg->type == CHAN_MAP_BEGIN && msg->since > msg->version) {
        *at = "since";
        return CHAN_E_RANGE;
    }
    return CHAN_E_OK;
}

/* ---- Value checks shared by decode and encode ---- */

static bool
code_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= CHAN_CODE_MAX
            || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                 || c == '_')) {
            return false;
        }
    }
    return n > 0;
}

/* An OVS iface-id: 1-CHAN_IFACE_MAX printable ASCII characters. */
static bool
iface_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char) s[n];
        if (n >= CHAN_IFACE_MAX || c < 0x20 || c >= 0x7f) {
            return false;
        }
    }
    return n > 0;
}

/* 1-'max' printable ASCII characters without spaces. */
static bool
visible_valid(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char) s[n];
        if (n >= max || c <= 0x20 || c >= 0x7f) {
            return false;
        }
    }
    return n > 0;
}

/* Largest value of an integer member. */
static uint64_t
int_max(enum field_kind kind)
{
    switch (kind) {
    case F_U32:
    case F_PROTO:
        return UINT32_MAX;
    case F_VNI:
        return VNI_MAX;
    case F_VLAN:
        return VLAN_MAX;
    case F_BVLAN:
        return BINDING_VLAN_MAX;
    case F_U16:
        return UINT16_MAX;
    default:
        return INT64_MAX;
    }
}

static bool
is_int_kind(enum field_kind kind)
{
    return kind == F_U64 || kind == F_U32 || kind == F_PROTO
           || kind == F_VNI || kind == F_VLAN || kind == F_BVLAN
           || kind == F_U16;
}

static uint64_t
get_int(const struct chan_msg *msg, const struct field *f)
{
    const char *p = (const char *) msg + f->offset;
    switch (f->kind) {
    case F_U64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case F_VLAN:
    case F_BVLAN:
    case F_U16: {
        uint16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
}

static void
set_int(struct chan_msg *msg, const struct field *f, uint64_t value)
{
    char *p = (char *) msg + f->offset;
    switch (f->kind) {
    case F_U64:
        memcpy(p, &value, sizeof value);
        break;
    case F_VLAN:
    case F_BVLAN:
    case F_U16: {
        uint16_t v = (uint16_t) value;
        memcpy(p, &v, sizeof v);
        break;
    }
    default: {
        uint32_t v = (uint32_t) value;
        memcpy(p, &v, sizeof v);
        break;
    }
    }
}

static size_t
string_capacity(enum field_kind kind)
{
    switch (kind) {
    case F_NAME:
        return MN_NAME_MAX + 1;
    case F_ADDRESS:
        return CHAN_ADDRESS_MAX + 1;
    case F_CODE:
        return CHAN_CODE_MAX + 1;
    case F_IFACE:
        return CHAN_IFACE_MAX + 1;
    case F_TOKEN:
        return CHAN_TOKEN_MAX + 1;
    default:
        return CHAN_TEXT_MAX + 1;
    }
}

/* Checks a string member's value; 'value' is NUL-terminated. */
static enum chan_err
check_string(enum field_kind kind, const char *value)
{
    switch (kind) {
    case F_NAME:
        return mn_name_valid(value) ? CHAN_E_OK : CHAN_E_BAD_NAME;
    case F_ADDRESS:
        return visible_valid(value, CHAN_ADDRESS_MAX) ? CHAN_E_OK
                                                      : CHAN_E_BAD_STRING;
    case F_TOKEN:
        return visible_valid(value, CHAN_TOKEN_MAX) ? CHAN_E_OK
                                                    : CHAN_E_BAD_STRING;
    case F_CODE:
        return code_valid(value) ? CHAN_E_OK : CHAN_E_BAD_STRING;
    case F_IFACE:
        return iface_valid(value) ? CHAN_E_OK : CHAN_E_BAD_STRING;
    default:
        return CHAN_E_OK;
    }
}

/* Enum members: their name, and back (false for an unknown name). */
static bool
is_enum_kind(enum field_kind kind)
{
    return kind == F_BTYPE || kind == F_BORIGIN || kind == F_BSTATUS
           || kind == F_BSEC || kind == F_ACTION;
}

static const char *
enum_name(enum field_kind kind, int v)
{
    switch (kind) {
    case F_BTYPE:
        return (unsigned) v < BINDING_N_TYPES
                   ? binding_type_name((enum binding_type) v)
                   : NULL;
    case F_BORIGIN:
        return (unsigned) v < BINDING_N_ORIGINS
                   ? binding_origin_name((enum binding_origin) v)
                   : NULL;
    case F_BSTATUS:
        return (unsigned) v < BINDING_N_PORT_STATUSES
                   ? binding_port_status_name((enum binding_port_status) v)
                   : NULL;
    case F_BSEC:
        return (unsigned) v < BINDING_N_PORT_SECURITIES
                   ? binding_port_security_name(
                         (enum binding_port_security) v)
                   : NULL;
    case F_ACTION:
        /* 'none' is not something an agent reports. */
        return v >= BINDING_ACT_CREATED && v <= BINDING_ACT_REMOVED
                   ? binding_action_name((enum binding_action) v)
                   : NULL;
    default:
        return NULL;
    }
}

static bool
enum_parse(enum field_kind kind, const char *s, int *out)
{
    for (int v = 0; v < 8; v++) {
        const char *name = enum_name(kind, v);
        if (name && !strcmp(name, s)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static int
get_enum(const struct chan_msg *msg, const struct field *f)
{
    int v;
    memcpy(&v, (const char *) msg + f->offset, sizeof v);
    return v;
}

static void
set_enum(struct chan_msg *msg, const struct field *f, int v)
{
    memcpy((char *) msg + f->offset, &v, sizeof v);
}

/* The binding a message carries, as binding_validate() sees it: its VM is
 * the message's. */
static enum chan_err
check_binding(const struct chan_msg *msg)
{
    struct binding b = msg->binding;
    snprintf(b.vm, sizeof b.vm, "%s", msg->vm);
    return binding_validate(&b) ? CHAN_E_BAD_BINDING : CHAN_E_OK;
}

/* ---- Public helpers ---- */

void
chan_msg_init(struct chan_msg *msg, enum chan_msg_type type)
{
    memset(msg, 0, sizeof *msg);
    msg->type = type;
    if (type == CHAN_HELLO) {
        msg->proto = CHAN_PROTO_VERSION;
    }
}

/* Copies 's' into 'dst' of 'size' bytes, cutting it at a UTF-8 character
 * boundary if it does not fit. */
static void
copy_text(char *dst, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

void
chan_msg_init_error(struct chan_msg *msg, enum chan_err e,
                    const char *detail)
{
    chan_msg_init(msg, CHAN_ERROR);
    snprintf(msg->code, sizeof msg->code, "%s", chan_err_code(e));
    copy_text(msg->message, sizeof msg->message,
              detail && *detail ? detail : chan_strerror(e));
}

/* ---- Decode ---- */

static enum chan_err
fail(enum chan_err e, char *err, size_t errlen, const char *what)
{
    if (err && errlen) {
        if (what) {
            snprintf(err, errlen, "%s: %s", what, chan_strerror(e));
        } else {
            snprintf(err, errlen, "%s", chan_strerror(e));
        }
    }
    return e;
}

/* Where a decode failed: "seq", "binding.type". */
#define CHAN_AT_MAX 48

static enum chan_err decode_fields(const json_t *obj,
                                   const struct field *fields,
                                   struct chan_msg *out,
                                   char at[CHAN_AT_MAX]);

static enum chan_err
decode_field(const json_t *value, const struct field *f,
             struct chan_msg *out, char at[CHAN_AT_MAX])
{
    char *dst = (char *) out + f->offset;

    if (f->kind == F_BINDING) {
        char sub[CHAN_AT_MAX];
        if (!json_is_object(value)) {
            return CHAN_E_WRONG_TYPE;
        }
        enum chan_err e = decode_fields(value, binding_fields, out, sub);
        if (e) {
            snprintf(at, CHAN_AT_MAX, "%s.%.20s", f->key, sub);
        } else {
            out->has_binding = true;
            /* The message's vm is decoded before its binding. */
            e = check_binding(out);
            snprintf(out->binding.vm, sizeof out->binding.vm, "%s",
                     out->vm);
        }
        return e;
    }
    if (f->kind == F_OFPERR) {
        char sub[CHAN_AT_MAX];
        if (!json_is_object(value)) {
            return CHAN_E_WRONG_TYPE;
        }
        enum chan_err e = decode_fields(value, ofp_error_fields, out, sub);
        if (e) {
            snprintf(at, CHAN_AT_MAX, "%s.%.20s", f->key, sub);
        }
        return e;
    }
    if (f->kind == F_BOOL || f->kind == F_FLAG) {
        if (!json_is_boolean(value)) {
            return CHAN_E_WRONG_TYPE;
        }
        *(bool *) dst = json_is_true(value);
        return CHAN_E_OK;
    }
    if (is_int_kind(f->kind)) {
        if (!json_is_integer(value)) {
            return CHAN_E_WRONG_TYPE;
        }
        json_int_t v = json_integer_value(value);
        if (v < 0 || (uint64_t) v > int_max(f->kind)
            || (f->kind == F_PROTO && v < 1)) {
            return CHAN_E_RANGE;
        }
        set_int(out, f, (uint64_t) v);
        return CHAN_E_OK;
    }
    if (!json_is_string(value)) {
        return CHAN_E_WRONG_TYPE;
    }
    const char *s = json_string_value(value);
    if (strlen(s) != json_string_length(value)) {
        return CHAN_E_BAD_STRING; /* embedded NUL */
    }
    if (is_enum_kind(f->kind)) {
        int v;
        if (!enum_parse(f->kind, s, &v)) {
            return CHAN_E_BAD_ENUM;
        }
        set_enum(out, f, v);
        return CHAN_E_OK;
    }
    switch (f->kind) {
    case F_HEX: {
        size_t n = strlen(s);
        if (n % 2 || n / 2 > CHAN_FRAME_MAX || !n) {
            return CHAN_E_BAD_HEX;
        }
        for (size_t i = 0; i < n / 2; i++) {
            int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
            /* Canonical: lowercase only (what the encoder writes). */
            if (hi < 0 || lo < 0 || (s[2 * i] >= 'A' && s[2 * i] <= 'F')
                || (s[2 * i + 1] >= 'A' && s[2 * i + 1] <= 'F')) {
                return CHAN_E_BAD_HEX;
            }
            out->frame[i] = (uint8_t) (hi << 4 | lo);
        }
        out->frame_len = n / 2;
        return CHAN_E_OK;
    }
    case F_MAC: {
        uint8_t mac[6];
        if (!addr_parse_mac(s, mac)) {
            return CHAN_E_BAD_MAC;
        }
        memcpy(dst, mac, sizeof mac);
        return CHAN_E_OK;
    }
    case F_IP: {
        uint32_t ip;
        if (!addr_parse_ipv4(s, &ip)) {
            return CHAN_E_BAD_IP;
        }
        memcpy(dst, &ip, sizeof ip);
        return CHAN_E_OK;
    }
    case F_TEXT:
        copy_text(dst, string_capacity(f->kind), s);
        return CHAN_E_OK;
    default: {
        enum chan_err e = check_string(f->kind, s);
        if (e) {
            return e;
        }
        snprintf(dst, string_capacity(f->kind), "%s", s);
        return CHAN_E_OK;
    }
    }
}

/* Decodes the members 'fields' of 'obj' into 'out'; on error '*at' names
 * the member at fault. */
static enum chan_err
decode_fields(const json_t *obj, const struct field *fields,
              struct chan_msg *out, char at[CHAN_AT_MAX])
{
    for (const struct field *f = fields; f->key; f++) {
        const json_t *value = json_object_get(obj, f->key);
        snprintf(at, CHAN_AT_MAX, "%s", f->key);
        if (!value) {
            if (f->required) {
                return CHAN_E_MISSING;
            }
            continue;
        }
        enum chan_err e = decode_field(value, f, out, at);
        if (e) {
            return e;
        }
    }
    return CHAN_E_OK;
}

enum chan_err
chan_msg_decode(const char *line, size_t len, struct chan_msg *out,
                char *err, size_t errlen)
{
    if (err && errlen) {
        err[0] = '\0';
    }
    if (len > CHAN_MSG_MAX_LINE - 1) {
        return fail(CHAN_E_TOO_LONG, err, errlen, NULL);
    }

    json_error_t jerr;
    json_t *root = json_loadb(line, len,
                              JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                              &jerr);
    if (!root) {
        if (err && errlen) {
            snprintf(err, errlen, "%s: %s at column %d",
                     chan_strerror(CHAN_E_BAD_JSON), jerr.text,
                     jerr.column);
        }
        return CHAN_E_BAD_JSON;
    }

    enum chan_err e = CHAN_E_OK;
    if (!json_is_object(root)) {
        e = fail(CHAN_E_NOT_OBJECT, err, errlen, NULL);
        goto out;
    }
    const json_t *type = json_object_get(root, "type");
    if (!json_is_string(type)) {
        e = fail(CHAN_E_NO_TYPE, err, errlen, NULL);
        goto out;
    }
    enum chan_msg_type t;
    const char *type_name = json_string_value(type);
    if (strlen(type_name) != json_string_length(type)
        || !chan_msg_type_from_name(type_name, &t)) {
        if (err && errlen) {
            snprintf(err, errlen, "unknown message type '%.40s'",
                     type_name);
        }
        e = CHAN_E_UNKNOWN_TYPE;
        goto out;
    }

    chan_msg_init(out, t);
    out->proto = 0;
    char at[CHAN_AT_MAX];
    const struct field *fields = type_fields[t];
    if (t == CHAN_MAP_ENTRY
        && json_is_true(json_object_get(root, "removed"))) {
        fields = map_removed_fields;
    }
    e = decode_fields(root, fields, out, at);
    if (e) {
        fail(e, err, errlen, at);
    } else {
        const char *where = NULL;
        e = check_message(out, &where);
        if (e) {
            fail(e, err, errlen, where);
        }
    }

out:
    json_decref(root);
    return e;
}

/* ---- Encode ---- */

static enum chan_err encode_fields(const struct chan_msg *msg,
                                   const struct field *fields, json_t *obj);

static enum chan_err
encode_field(const struct chan_msg *msg, const struct field *f,
             json_t **valuep)
{
    const char *src = (const char *) msg + f->offset;

    *valuep = NULL;
    if (f->kind == F_BINDING) {
        enum chan_err e = check_binding(msg);
        if (e) {
            return e;
        }
        *valuep = json_object();
        if (!*valuep) {
            return CHAN_E_NOMEM;
        }
        return encode_fields(msg, binding_fields, *valuep);
    }
    if (f->kind == F_OFPERR) {
        *valuep = json_object();
        if (!*valuep) {
            return CHAN_E_NOMEM;
        }
        return encode_fields(msg, ofp_error_fields, *valuep);
    }
    if (f->kind == F_BOOL || f->kind == F_FLAG) {
        *valuep = json_boolean(*(const bool *) src);
        return *valuep ? CHAN_E_OK : CHAN_E_NOMEM;
    }
    if (is_enum_kind(f->kind)) {
        const char *name = enum_name(f->kind, get_enum(msg, f));
        if (!name) {
            return CHAN_E_BAD_ENUM;
        }
        *valuep = json_string(name);
        return *valuep ? CHAN_E_OK : CHAN_E_NOMEM;
    }
    if (f->kind == F_HEX) {
        if (!msg->frame_len || msg->frame_len > CHAN_FRAME_MAX) {
            return CHAN_E_BAD_HEX;
        }
        char *hex = malloc(2 * msg->frame_len + 1);
        if (!hex) {
            return CHAN_E_NOMEM;
        }
        for (size_t i = 0; i < msg->frame_len; i++) {
            snprintf(hex + 2 * i, 3, "%02x", msg->frame[i]);
        }
        *valuep = json_string(hex);
        free(hex);
        return *valuep ? CHAN_E_OK : CHAN_E_NOMEM;
    }
    if (is_int_kind(f->kind)) {
        uint64_t v = get_int(msg, f);
        if (v > int_max(f->kind) || (f->kind == F_PROTO && v < 1)) {
            return CHAN_E_RANGE;
        }
        *valuep = json_integer((json_int_t) v);
        return *valuep ? CHAN_E_OK : CHAN_E_NOMEM;
    }

    char buf[ADDR_MAC_STRLEN > ADDR_IPV4_STRLEN ? ADDR_MAC_STRLEN
                                                : ADDR_IPV4_STRLEN];
    const char *s = buf;
    switch (f->kind) {
    case F_MAC: {
        uint8_t mac[6];
        memcpy(mac, src, sizeof mac);
        addr_format_mac(mac, buf);
        break;
    }
    case F_IP: {
        uint32_t ip;
        memcpy(&ip, src, sizeof ip);
        addr_format_ipv4(ip, buf);
        break;
    }
    default: {
        size_t cap = string_capacity(f->kind);
        if (strnlen(src, cap) == cap) {
            return f->kind == F_NAME ? CHAN_E_BAD_NAME : CHAN_E_BAD_STRING;
        }
        enum chan_err e = check_string(f->kind, src);
        if (e) {
            return e;
        }
        s = src;
        break;
    }
    }
    *valuep = json_string(s);
    /* json_string() also fails on invalid UTF-8. */
    return *valuep ? CHAN_E_OK : CHAN_E_BAD_STRING;
}

/* Adds the members 'fields' of 'msg' to 'obj' (an optional binding only
 * when the message has one). */
static enum chan_err
encode_fields(const struct chan_msg *msg, const struct field *fields,
              json_t *obj)
{
    for (const struct field *f = fields; f->key; f++) {
        json_t *value;
        if (f->kind == F_BINDING && !f->required && !msg->has_binding) {
            continue;
        }
        if ((f->kind == F_NAME || f->kind == F_ADDRESS
             || f->kind == F_IFACE || f->kind == F_TOKEN)
            && !f->required && !((const char *) msg)[f->offset]) {
            continue; /* optional and not given (dhcp's vm, an address) */
        }
        if (f->kind == F_FLAG
            && !*(const bool *) ((const char *) msg + f->offset)) {
            continue; /* false: the default, left out */
        }
        enum chan_err e = encode_field(msg, f, &value);
        if (!e && json_object_set_new(obj, f->key, value)) {
            e = CHAN_E_NOMEM;
        }
        if (e) {
            json_decref(value);
            return e;
        }
    }
    return CHAN_E_OK;
}

enum chan_err
chan_msg_encode(const struct chan_msg *msg, struct strbuf *out)
{
    if ((unsigned) msg->type >= CHAN_N_TYPES) {
        return CHAN_E_UNKNOWN_TYPE;
    }

    enum chan_err e = CHAN_E_OK;
    json_t *root = json_object();
    if (!root
        || json_object_set_new(root, "type",
                               json_string(type_names[msg->type]))) {
        e = CHAN_E_NOMEM;
        goto out;
    }
    const char *where = NULL;
    e = check_message(msg, &where);
    if (e) {
        goto out;
    }
    e = encode_fields(msg, msg->type == CHAN_MAP_ENTRY && msg->removed
                               ? map_removed_fields
                               : type_fields[msg->type],
                      root);
    if (e) {
        goto out;
    }

    char *text = json_dumps(root, JSON_COMPACT);
    if (!text) {
        e = CHAN_E_NOMEM;
        goto out;
    }
    size_t n = strlen(text);
    if (n > CHAN_MSG_MAX_LINE - 1) {
        e = CHAN_E_TOO_LONG;
    } else {
        size_t old_len = out->len;
        if (strbuf_append(out, text, n) || strbuf_putc(out, '\n')) {
            strbuf_truncate(out, old_len);
            e = CHAN_E_NOMEM;
        }
    }
    free(text);

out:
    json_decref(root);
    return e;
}

/* ---- Framing ---- */

enum chan_err
chan_frame(const char *buf, size_t len, size_t *line_len, size_t *consumed)
{
    size_t scan = len < CHAN_MSG_MAX_LINE ? len : CHAN_MSG_MAX_LINE;
    const char *nl = memchr(buf, '\n', scan);

    *line_len = 0;
    *consumed = 0;
    if (nl) {
        *line_len = (size_t) (nl - buf);
        *consumed = *line_len + 1;
        return CHAN_E_OK;
    }
    return len >= CHAN_MSG_MAX_LINE ? CHAN_E_TOO_LONG : CHAN_E_OK;
}
