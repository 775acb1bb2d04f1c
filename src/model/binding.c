/* binding.c: the port-security binding value (see mignet/binding.h): the
 * names of its enums and fields, its validation, its text form and its
 * versioned record.
 *
 * Pure functions: no state, no clock, no I/O, and a rejected call leaves
 * its output unchanged.  The table, DHCP snooping and the anti-spoofing
 * rules are binding_table.c, binding_snoop.c and binding_rules.c. */
#include "mignet/binding.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/bytes.h"
#include "lib/util.h"
#include "mignet/dhcp.h"
#include "mignet/model.h"

_Static_assert(BINDING_NAME_MAX == MN_NAME_MAX,
               "binding and model names follow the same rule");

/* ---- Names ---- */

static const struct {
    const char *name, *msg;
} binding_errs[] = {
#define BINDING_ERR(ENUM, NAME, MSG) {NAME, MSG},
    BINDING_ERRORS
#undef BINDING_ERR
};

const char *
binding_errname(enum binding_err e)
{
    return (unsigned) e < BINDING_N_ERRORS ? binding_errs[e].name
                                           : "unknown";
}

const char *
binding_strerror(enum binding_err e)
{
    return (unsigned) e < BINDING_N_ERRORS ? binding_errs[e].msg
                                           : "unknown error";
}

static const char *const type_names[] = {
#define BINDING_TYPE(ENUM, NAME) NAME,
    BINDING_TYPES
#undef BINDING_TYPE
};
static const char *const origin_names[] = {
#define BINDING_ORIGIN(ENUM, NAME) NAME,
    BINDING_ORIGINS
#undef BINDING_ORIGIN
};
static const char *const port_status_names[] = {
#define BINDING_PORT_STATUS(ENUM, NAME) NAME,
    BINDING_PORT_STATUSES
#undef BINDING_PORT_STATUS
};
static const char *const port_security_names[] = {
#define BINDING_PORT_SECURITY(ENUM, NAME) NAME,
    BINDING_PORT_SECURITIES
#undef BINDING_PORT_SECURITY
};
static const char *const field_names[] = {
#define BINDING_FIELD(ENUM, NAME) NAME,
    BINDING_FIELDS
#undef BINDING_FIELD
};
static const char *const action_names[] = {
#define BINDING_ACTION(ENUM, NAME) NAME,
    BINDING_ACTIONS
#undef BINDING_ACTION
};
static const char *const rule_kind_names[] = {
#define BINDING_RULE_KIND(ENUM, NAME) NAME,
    BINDING_RULE_KINDS
#undef BINDING_RULE_KIND
};

static const char *
name_in(const char *const *names, size_t n, unsigned v)
{
    return v < n ? names[v] : "?";
}

#define NAME_FUNCS(PREFIX, ENUM, TABLE)                                      \
    const char *PREFIX##_name(enum ENUM v)                                   \
    {                                                                        \
        return name_in(TABLE, ARRAY_SIZE(TABLE), v);                         \
    }                                                                        \
    bool PREFIX##_parse(const char *s, enum ENUM *out)                       \
    {                                                                        \
        unsigned i = name_index(TABLE, ARRAY_SIZE(TABLE), s);                \
        if (i == ARRAY_SIZE(TABLE)) {                                        \
            return false;                                                    \
        }                                                                    \
        *out = (enum ENUM) i;                                                \
        return true;                                                         \
    }
NAME_FUNCS(binding_type, binding_type, type_names)
NAME_FUNCS(binding_origin, binding_origin, origin_names)
NAME_FUNCS(binding_port_status, binding_port_status, port_status_names)
NAME_FUNCS(binding_port_security, binding_port_security,
           port_security_names)
#undef NAME_FUNCS

const char *
binding_field_name(enum binding_field f)
{
    return name_in(field_names, ARRAY_SIZE(field_names), f);
}

enum binding_field
binding_field_lookup(const char *name)
{
    return (enum binding_field) name_index(field_names,
                                           ARRAY_SIZE(field_names), name);
}

const char *
binding_action_name(enum binding_action a)
{
    return name_in(action_names, ARRAY_SIZE(action_names), a);
}

const char *
binding_rule_kind_name(enum binding_rule_kind k)
{
    return name_in(rule_kind_names, ARRAY_SIZE(rule_kind_names), k);
}

/* ---- Validation ---- */

static bool
name_ok(const char *s, size_t size)
{
    return memchr(s, '\0', size) && mn_name_valid(s);
}

static enum binding_err
mac_check(const uint8_t mac[6])
{
    static const uint8_t zero[6], bcast[6] = {0xff, 0xff, 0xff,
                                              0xff, 0xff, 0xff};
    if (!memcmp(mac, zero, 6)) {
        return BINDING_E_ZERO_MAC;
    }
    if (!memcmp(mac, bcast, 6)) {
        return BINDING_E_BROADCAST_MAC;
    }
    if (mac[0] & 1) {
        return BINDING_E_MULTICAST_MAC;
    }
    return BINDING_E_OK;
}

static enum binding_err
ip_check(uint32_t ip)
{
    if (ip == 0) {
        return BINDING_E_ZERO_IP;
    }
    if (ip == UINT32_MAX) {
        return BINDING_E_BROADCAST_IP;
    }
    if (ip >> 28 == 0xe) {
        return BINDING_E_MULTICAST_IP;
    }
    if (ip >> 24 == 127 || ip >> 28 == 0xf) {
        return BINDING_E_RESERVED_IP;
    }
    return BINDING_E_OK;
}

/* A dynamic binding may come from the manager too: it hands over the
 * DHCP-assigned binding with the updated configuration after a migration
 * (seed FIG. 5, S330). */
static enum binding_err
lease_check(const struct binding *b)
{
    if (b->type == BINDING_STATIC) {
        return b->lease_s || b->expires_ms ? BINDING_E_STATIC_LEASE
                                           : BINDING_E_OK;
    }
    if (b->lease_s == 0
        || (b->lease_s == DHCP_LEASE_INFINITE) != (b->expires_ms == 0)) {
        return BINDING_E_BAD_LEASE;
    }
    return BINDING_E_OK;
}

enum binding_err
binding_validate(const struct binding *b)
{
    enum binding_err e;

    if (!name_ok(b->vm, sizeof b->vm)) {
        return BINDING_E_BAD_VM;
    }
    if (!name_ok(b->node, sizeof b->node)) {
        return BINDING_E_BAD_NODE;
    }
    if ((e = mac_check(b->mac)) || (e = ip_check(b->ip))) {
        return e;
    }
    if (b->vlan > BINDING_VLAN_MAX) {
        return BINDING_E_BAD_VLAN;
    }
    if (b->port > BINDING_PORT_MAX) {
        return BINDING_E_BAD_PORT;
    }
    if ((unsigned) b->type >= BINDING_N_TYPES) {
        return BINDING_E_BAD_TYPE;
    }
    if ((unsigned) b->origin >= BINDING_N_ORIGINS) {
        return BINDING_E_BAD_ORIGIN;
    }
    if ((unsigned) b->port_status >= BINDING_N_PORT_STATUSES) {
        return BINDING_E_BAD_PORT_STATUS;
    }
    if ((unsigned) b->port_security >= BINDING_N_PORT_SECURITIES) {
        return BINDING_E_BAD_PORT_SECURITY;
    }
    if (b->origin != BINDING_FROM_MANAGER && b->type != BINDING_DYNAMIC) {
        return BINDING_E_ORIGIN_TYPE;
    }
    if ((e = lease_check(b))) {
        return e;
    }
    if (b->server && ip_check(b->server)) {
        return BINDING_E_BAD_SERVER;
    }
    return BINDING_E_OK;
}

/* ---- Text form ---- */

static enum binding_err
set_u64(const char *v, uint64_t max, enum binding_err err, uint64_t *out)
{
    return addr_parse_u64(v, 0, max, out) ? BINDING_E_OK : err;
}

static enum binding_err
set_name(const char *v, enum binding_err err, char dst[BINDING_NAME_MAX + 1])
{
    if (!mn_name_valid(v)) {
        return err;
    }
    snprintf(dst, BINDING_NAME_MAX + 1, "%s", v);
    return BINDING_E_OK;
}

enum binding_err
binding_field_set(struct binding *b, enum binding_field f, const char *v)
{
    struct binding t = *b;
    enum binding_err e = BINDING_E_OK;
    uint64_t u = 0;

    if (!v) {
        return BINDING_E_BAD_SYNTAX;
    }
    switch (f) {
    case BINDING_F_ID:
        e = set_u64(v, UINT32_MAX, BINDING_E_BAD_ID, &u);
        t.id = (uint32_t) u;
        break;
    case BINDING_F_VM:
        e = set_name(v, BINDING_E_BAD_VM, t.vm);
        break;
    case BINDING_F_NODE:
        e = set_name(v, BINDING_E_BAD_NODE, t.node);
        break;
    case BINDING_F_MAC:
        e = addr_parse_mac(v, t.mac) ? BINDING_E_OK : BINDING_E_BAD_MAC;
        break;
    case BINDING_F_IP:
        e = addr_parse_ipv4(v, &t.ip) ? BINDING_E_OK : BINDING_E_BAD_IP;
        break;
    case BINDING_F_VLAN:
        e = set_u64(v, BINDING_VLAN_MAX, BINDING_E_BAD_VLAN, &u);
        t.vlan = (uint16_t) u;
        break;
    case BINDING_F_PORT:
        e = set_u64(v, BINDING_PORT_MAX, BINDING_E_BAD_PORT, &u);
        t.port = (uint32_t) u;
        break;
    case BINDING_F_TYPE:
        e = binding_type_parse(v, &t.type) ? BINDING_E_OK
                                           : BINDING_E_BAD_TYPE;
        break;
    case BINDING_F_ORIGIN:
        e = binding_origin_parse(v, &t.origin) ? BINDING_E_OK
                                               : BINDING_E_BAD_ORIGIN;
        break;
    case BINDING_F_LEASE:
        if (!strcmp(v, "infinite")) {
            u = DHCP_LEASE_INFINITE;
        } else {
            e = set_u64(v, UINT32_MAX, BINDING_E_BAD_LEASE, &u);
        }
        t.lease_s = (uint32_t) u;
        break;
    case BINDING_F_EXPIRES:
        e = set_u64(v, UINT64_MAX, BINDING_E_BAD_LEASE, &t.expires_ms);
        break;
    case BINDING_F_SERVER:
        e = addr_parse_ipv4(v, &t.server) ? BINDING_E_OK
                                          : BINDING_E_BAD_SERVER;
        break;
    case BINDING_F_PORT_STATUS:
        e = binding_port_status_parse(v, &t.port_status)
                ? BINDING_E_OK
                : BINDING_E_BAD_PORT_STATUS;
        break;
    case BINDING_F_PORT_SECURITY:
        e = binding_port_security_parse(v, &t.port_security)
                ? BINDING_E_OK
                : BINDING_E_BAD_PORT_SECURITY;
        break;
    default:
        return BINDING_E_BAD_FIELD;
    }
    if (!e) {
        *b = t;
    }
    return e;
}

int
binding_field_format(const struct binding *b, enum binding_field f,
                     char *buf, size_t len)
{
    char tmp[ADDR_MAC_STRLEN > ADDR_IPV4_STRLEN ? ADDR_MAC_STRLEN
                                                : ADDR_IPV4_STRLEN];

    switch (f) {
    case BINDING_F_ID:
        return snprintf(buf, len, "%" PRIu32, b->id);
    case BINDING_F_VM:
        return snprintf(buf, len, "%.*s", BINDING_NAME_MAX, b->vm);
    case BINDING_F_NODE:
        return snprintf(buf, len, "%.*s", BINDING_NAME_MAX, b->node);
    case BINDING_F_MAC:
        addr_format_mac(b->mac, tmp);
        return snprintf(buf, len, "%s", tmp);
    case BINDING_F_IP:
        addr_format_ipv4(b->ip, tmp);
        return snprintf(buf, len, "%s", tmp);
    case BINDING_F_VLAN:
        return snprintf(buf, len, "%u", (unsigned) b->vlan);
    case BINDING_F_PORT:
        return snprintf(buf, len, "%" PRIu32, b->port);
    case BINDING_F_TYPE:
        return snprintf(buf, len, "%s", binding_type_name(b->type));
    case BINDING_F_ORIGIN:
        return snprintf(buf, len, "%s", binding_origin_name(b->origin));
    case BINDING_F_LEASE:
        if (b->lease_s == DHCP_LEASE_INFINITE) {
            return snprintf(buf, len, "infinite");
        }
        return snprintf(buf, len, "%" PRIu32, b->lease_s);
    case BINDING_F_EXPIRES:
        return snprintf(buf, len, "%" PRIu64, b->expires_ms);
    case BINDING_F_SERVER:
        addr_format_ipv4(b->server, tmp);
        return snprintf(buf, len, "%s", tmp);
    case BINDING_F_PORT_STATUS:
        return snprintf(buf, len, "%s",
                        binding_port_status_name(b->port_status));
    case BINDING_F_PORT_SECURITY:
        return snprintf(buf, len, "%s",
                        binding_port_security_name(b->port_security));
    default:
        return snprintf(buf, len, "?");
    }
}

int
binding_format(const struct binding *b, char *buf, size_t len)
{
    size_t off = 0;

    if (len) {
        buf[0] = '\0';
    }
    for (int f = 0; f < BINDING_N_FIELDS; f++) {
        char val[BINDING_NAME_MAX + 1];
        binding_field_format(b, (enum binding_field) f, val, sizeof val);
        char *dst = off < len ? buf + off : NULL;
        size_t room = off < len ? len - off : 0;
        int n = snprintf(dst, room, "%s%s=%s", f ? " " : "",
                         field_names[f], val);
        if (n < 0) {
            return n;
        }
        off += (size_t) n;
    }
    return (int) off;
}

/* Defaults of the text form: a static binding from the manager. */
static void
binding_defaults(struct binding *b)
{
    memset(b, 0, sizeof *b);
    b->type = BINDING_STATIC;
    b->origin = BINDING_FROM_MANAGER;
    b->port_status = BINDING_PORT_UP;
    b->port_security = BINDING_UNTRUST;
}

enum binding_err
binding_parse(const char *text, struct binding *out)
{
    struct binding b;
    bool seen[BINDING_N_FIELDS] = {0};
    enum binding_err e;

    binding_defaults(&b);
    if (!text) {
        return BINDING_E_BAD_SYNTAX;
    }
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (!*p) {
            break;
        }
        size_t n = strcspn(p, " \t");
        char tok[128];
        if (n >= sizeof tok) {
            return BINDING_E_BAD_SYNTAX;
        }
        memcpy(tok, p, n);
        tok[n] = '\0';
        p += n;
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok) {
            return BINDING_E_BAD_SYNTAX;
        }
        *eq = '\0';
        enum binding_field f = binding_field_lookup(tok);
        if (f == BINDING_N_FIELDS) {
            return BINDING_E_BAD_FIELD;
        }
        if (seen[f]) {
            return BINDING_E_DUP_FIELD;
        }
        seen[f] = true;
        if ((e = binding_field_set(&b, f, eq + 1))) {
            return e;
        }
    }
    if (!seen[BINDING_F_VM] || !seen[BINDING_F_NODE] || !seen[BINDING_F_MAC]
        || !seen[BINDING_F_IP]) {
        return BINDING_E_MISSING_FIELD;
    }
    if ((e = binding_validate(&b))) {
        return e;
    }
    *out = b;
    return BINDING_E_OK;
}

/* ---- Record ---- */

/* Record layout, version 1 (big-endian):
 *   0 version  1 type  2 origin  3 port_status  4 port_security
 *   5 vm_len   6 node_len  7 reserved (0)
 *   8 id(4)  12 mac(6)  18 vlan(2)  20 ip(4)  24 port(4)  28 lease_s(4)
 *  32 expires_ms(8)  40 server(4)  44 vm, then node (no NULs). */
enum binding_err
binding_encode(const struct binding *b, void *buf, size_t cap, size_t *len)
{
    enum binding_err e = binding_validate(b);
    if (e) {
        return e;
    }
    if (!b->id) {
        return BINDING_E_BAD_ID;
    }
    size_t vm_len = strlen(b->vm), node_len = strlen(b->node);
    size_t total = BINDING_RECORD_HDR + vm_len + node_len;
    if (total > cap) {
        return BINDING_E_NO_SPACE;
    }
    uint8_t *p = buf;
    p[0] = BINDING_RECORD_VERSION;
    p[1] = (uint8_t) b->type;
    p[2] = (uint8_t) b->origin;
    p[3] = (uint8_t) b->port_status;
    p[4] = (uint8_t) b->port_security;
    p[5] = (uint8_t) vm_len;
    p[6] = (uint8_t) node_len;
    p[7] = 0;
    bytes_put32(p + 8, b->id);
    memcpy(p + 12, b->mac, 6);
    bytes_put16(p + 18, b->vlan);
    bytes_put32(p + 20, b->ip);
    bytes_put32(p + 24, b->port);
    bytes_put32(p + 28, b->lease_s);
    bytes_put32(p + 32, (uint32_t) (b->expires_ms >> 32));
    bytes_put32(p + 36, (uint32_t) b->expires_ms);
    bytes_put32(p + 40, b->server);
    memcpy(p + BINDING_RECORD_HDR, b->vm, vm_len);
    memcpy(p + BINDING_RECORD_HDR + vm_len, b->node, node_len);
    *len = total;
    return BINDING_E_OK;
}

/* Copies a name of 'n' bytes from a record; false if it cannot be one. */
static bool
record_name(const uint8_t *p, size_t n, char dst[BINDING_NAME_MAX + 1])
{
    if (n > BINDING_NAME_MAX || memchr(p, '\0', n)) {
        return false;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
    return mn_name_valid(dst);
}

enum binding_err
binding_decode(const void *buf, size_t len, struct binding *out)
{
    const uint8_t *p = buf;
    struct binding b;

    memset(&b, 0, sizeof b);
    if (len < 1) {
        return BINDING_E_REC_SHORT;
    }
    if (p[0] != BINDING_RECORD_VERSION) {
        return BINDING_E_REC_VERSION;
    }
    if (len < BINDING_RECORD_HDR) {
        return BINDING_E_REC_SHORT;
    }
    if (p[7]) {
        return BINDING_E_REC_RESERVED;
    }
    size_t vm_len = p[5], node_len = p[6];
    if (len < BINDING_RECORD_HDR + vm_len + node_len) {
        return BINDING_E_REC_SHORT;
    }
    if (len > BINDING_RECORD_HDR + vm_len + node_len) {
        return BINDING_E_REC_LENGTH;
    }
    b.type = (enum binding_type) p[1];
    b.origin = (enum binding_origin) p[2];
    b.port_status = (enum binding_port_status) p[3];
    b.port_security = (enum binding_port_security) p[4];
    b.id = bytes_get32(p + 8);
    memcpy(b.mac, p + 12, 6);
    b.vlan = bytes_get16(p + 18);
    b.ip = bytes_get32(p + 20);
    b.port = bytes_get32(p + 24);
    b.lease_s = bytes_get32(p + 28);
    b.expires_ms = (uint64_t) bytes_get32(p + 32) << 32 | bytes_get32(p + 36);
    b.server = bytes_get32(p + 40);
    if (!b.id) {
        return BINDING_E_BAD_ID;
    }
    if (!record_name(p + BINDING_RECORD_HDR, vm_len, b.vm)) {
        return BINDING_E_BAD_VM;
    }
    if (!record_name(p + BINDING_RECORD_HDR + vm_len, node_len, b.node)) {
        return BINDING_E_BAD_NODE;
    }
    enum binding_err e = binding_validate(&b);
    if (!e) {
        *out = b;
    }
    return e;
}
