/* chan_msg.c: encode and decode agent-channel lines (see chan_msg.h).
 *
 * One table says which members each message type has; decode and encode
 * both walk it, so the two can never disagree about a field.  Decoding must
 * never crash or read past 'len', whatever the bytes: it is fuzzed. */
#include "lib/chan_msg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/strbuf.h"

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
    for (int i = 0; i < CHAN_N_TYPES; i++) {
        if (!strcmp(name, type_names[i])) {
            *type = (enum chan_msg_type) i;
            return true;
        }
    }
    return false;
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
    F_NAME,    /* char[CORE_NAME_MAX + 1], addr_name_valid() */
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
#define END {NULL, F_U64, 0, false}

static const struct field hello_fields[] = {
    FIELD("node", F_NAME, node, true),
    FIELD("proto", F_PROTO, proto, true),
    END,
};
static const struct field welcome_fields[] = {
    FIELD("node", F_NAME, node, true),
    FIELD("map_version", F_U64, map_version, true),
    FIELD("heartbeat_ms", F_U32, heartbeat_ms, true),
    END,
};
static const struct field seq_fields[] = {F_SEQ, END};
static const struct field instr_fields[] = {F_SEQ, F_VM, F_EPOCH, F_CONFIG,
                                            END};
static const struct field relay_fields[] = {
    F_SEQ,
    F_VM,
    F_EPOCH,
    F_CONFIG,
    FIELD("target", F_NAME, target, true),
    FIELD("target_address", F_ADDRESS, target_address, true),
    FIELD("target_epoch", F_U64, target_epoch, true),
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
static const struct field error_fields[] = {
    FIELD("code", F_CODE, code, true),
    FIELD("message", F_TEXT, message, false),
    END,
};

static const struct field *const type_fields[CHAN_N_TYPES] = {
    [CHAN_HELLO] = hello_fields,          [CHAN_WELCOME] = welcome_fields,
    [CHAN_RESYNC_BEGIN] = seq_fields,     [CHAN_RESYNC_END] = seq_fields,
    [CHAN_INSTALL] = instr_fields,        [CHAN_RELAY] = relay_fields,
    [CHAN_DELETE] = instr_fields,         [CHAN_ACK] = seq_fields,
    [CHAN_REFRESH] = refresh_fields,      [CHAN_REPORT] = report_fields,
    [CHAN_REFUSED] = refused_fields,      [CHAN_HEARTBEAT] = no_fields,
    [CHAN_ERROR] = error_fields,
};

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

static bool
address_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char) s[n];
        if (n >= CHAN_ADDRESS_MAX || c <= 0x20 || c >= 0x7f) {
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
    default:
        return INT64_MAX;
    }
}

static bool
is_int_kind(enum field_kind kind)
{
    return kind == F_U64 || kind == F_U32 || kind == F_PROTO
           || kind == F_VNI || kind == F_VLAN;
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
    case F_VLAN: {
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
    case F_VLAN: {
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
        return CORE_NAME_MAX + 1;
    case F_ADDRESS:
        return CHAN_ADDRESS_MAX + 1;
    case F_CODE:
        return CHAN_CODE_MAX + 1;
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
        return addr_name_valid(value) ? CHAN_E_OK : CHAN_E_BAD_NAME;
    case F_ADDRESS:
        return address_valid(value) ? CHAN_E_OK : CHAN_E_BAD_STRING;
    case F_CODE:
        return code_valid(value) ? CHAN_E_OK : CHAN_E_BAD_STRING;
    default:
        return CHAN_E_OK;
    }
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

static enum chan_err
decode_field(const json_t *value, const struct field *f,
             struct chan_msg *out)
{
    char *dst = (char *) out + f->offset;

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
    switch (f->kind) {
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
    for (const struct field *f = type_fields[t]; f->key; f++) {
        const json_t *value = json_object_get(root, f->key);
        if (!value) {
            if (f->required) {
                e = fail(CHAN_E_MISSING, err, errlen, f->key);
                goto out;
            }
            continue;
        }
        e = decode_field(value, f, out);
        if (e) {
            fail(e, err, errlen, f->key);
            goto out;
        }
    }

out:
    json_decref(root);
    return e;
}

/* ---- Encode ---- */

static enum chan_err
encode_field(const struct chan_msg *msg, const struct field *f,
             json_t **valuep)
{
    const char *src = (const char *) msg + f->offset;

    *valuep = NULL;
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
    for (const struct field *f = type_fields[msg->type]; f->key; f++) {
        json_t *value;
        e = encode_field(msg, f, &value);
        if (e) {
            goto out;
        }
        if (json_object_set_new(root, f->key, value)) {
            e = CHAN_E_NOMEM;
            goto out;
        }
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
