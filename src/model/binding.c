/* binding.c: the port-security binding table (see mignet/binding.h).
 *
 * Bindings live in a slot array indexed four ways (id, VM, MAC+VLAN,
 * IP+VLAN) and, when they expire, in an indexed heap by expiry.  Nothing
 * here reads a clock or does I/O, and every call checks all it needs
 * before it changes anything, so a rejected call leaves the table as it
 * was. */
#include "mignet/binding.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/bytes.h"
#include "lib/heap.h"
#include "lib/strmap.h"
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

/* ---- From DHCP ---- */

enum binding_err
binding_from_ack(const struct dhcp_msg *m, const struct binding_ctx *ctx,
                 uint64_t now_ms, struct binding *out)
{
    struct binding b;

    memset(&b, 0, sizeof b);
    if (m->type != DHCP_ACK) {
        return BINDING_E_NOT_ACK;
    }
    if (!m->yiaddr) {
        return BINDING_E_NO_YIADDR;
    }
    if (!dhcp_msg_has(m, DHCP_OPT_LEASE_TIME)) {
        return BINDING_E_NO_LEASE_OPT;
    }
    if (!dhcp_msg_has(m, DHCP_OPT_SERVER_ID)) {
        return BINDING_E_NO_SERVER_ID;
    }
    if (ctx->origin != BINDING_FROM_CONTROLLER
        && ctx->origin != BINDING_FROM_AGENT) {
        return BINDING_E_BAD_ORIGIN;
    }
    if (!ctx->vm || !mn_name_valid(ctx->vm)) {
        return BINDING_E_BAD_VM;
    }
    if (!ctx->node || !mn_name_valid(ctx->node)) {
        return BINDING_E_BAD_NODE;
    }
    uint32_t vlan = ctx->vlan == BINDING_VLAN_FRAME
                        ? (m->vlan_tagged ? m->vlan : 0)
                        : ctx->vlan;
    if (vlan > BINDING_VLAN_MAX) {
        return BINDING_E_BAD_VLAN;
    }
    if (m->lease_s == 0) {
        return BINDING_E_BAD_LEASE;
    }
    if (m->lease_s != DHCP_LEASE_INFINITE) {
        uint64_t ms = (uint64_t) m->lease_s * 1000;
        if (now_ms > UINT64_MAX - ms) {
            return BINDING_E_BAD_LEASE;
        }
        b.expires_ms = now_ms + ms;
    }
    snprintf(b.vm, sizeof b.vm, "%s", ctx->vm);
    snprintf(b.node, sizeof b.node, "%s", ctx->node);
    memcpy(b.mac, m->chaddr, sizeof b.mac);
    b.ip = m->yiaddr;
    b.vlan = (uint16_t) vlan;
    b.port = ctx->port;
    b.type = BINDING_DYNAMIC;
    b.origin = ctx->origin;
    b.port_status = ctx->port_status;
    b.port_security = ctx->port_security;
    b.lease_s = m->lease_s;
    b.server = m->server_id;
    enum binding_err e = binding_validate(&b);
    if (!e) {
        *out = b;
    }
    return e;
}

/* ---- Table ---- */

struct bslot {
    struct binding b;
    uint32_t heap_pos;
    bool used;
};

struct binding_table {
    struct bslot *slots;
    size_t n_slots, cap_slots;
    uint32_t *free_slots;
    size_t n_free, cap_free;
    size_t count;
    uint64_t next_id;
    struct strmap by_id, by_vm, by_mac, by_ip;
    struct heap expiry;
};

/* Index keys, packed so no padding is hashed. */
struct mac_key {
    uint8_t mac[6];
    uint16_t vlan;
};
struct ip_key {
    uint32_t ip;
    uint16_t vlan;
};

static uint32_t
hash_id(uint32_t id)
{
    uint8_t k[4];
    bytes_put32(k, id);
    return hash_bytes(k, sizeof k);
}

static uint32_t
hash_mac(const struct mac_key *key)
{
    uint8_t k[8];
    memcpy(k, key->mac, 6);
    bytes_put16(k + 6, key->vlan);
    return hash_bytes(k, sizeof k);
}

static uint32_t
hash_ip(const struct ip_key *key)
{
    uint8_t k[6];
    bytes_put32(k, key->ip);
    bytes_put16(k + 4, key->vlan);
    return hash_bytes(k, sizeof k);
}

static const struct binding *
slot_binding(const void *t_, uint32_t idx)
{
    const struct binding_table *t = t_;
    return &t->slots[idx].b;
}

static bool
match_id(const void *t, uint32_t idx, const void *key)
{
    return slot_binding(t, idx)->id == *(const uint32_t *) key;
}

static bool
match_mac(const void *t, uint32_t idx, const void *key_)
{
    const struct mac_key *key = key_;
    const struct binding *b = slot_binding(t, idx);
    return b->vlan == key->vlan && !memcmp(b->mac, key->mac, 6);
}

static bool
match_ip(const void *t, uint32_t idx, const void *key_)
{
    const struct ip_key *key = key_;
    const struct binding *b = slot_binding(t, idx);
    return b->vlan == key->vlan && b->ip == key->ip;
}

static const char *
vm_name_of(const void *t, uint32_t idx)
{
    return slot_binding(t, idx)->vm;
}

static bool
expiry_before(const void *t, uint32_t a, uint32_t b)
{
    const struct binding *x = slot_binding(t, a), *y = slot_binding(t, b);
    return x->expires_ms < y->expires_ms
           || (x->expires_ms == y->expires_ms && x->id < y->id);
}

static void
expiry_set_pos(void *t_, uint32_t idx, uint32_t pos)
{
    struct binding_table *t = t_;
    t->slots[idx].heap_pos = pos;
}

struct binding_table *
binding_table_create(void)
{
    struct binding_table *t = xcalloc(1, sizeof *t);
    t->next_id = 1;
    strmap_init(&t->by_id, NULL, t);
    strmap_init(&t->by_vm, vm_name_of, t);
    strmap_init(&t->by_mac, NULL, t);
    strmap_init(&t->by_ip, NULL, t);
    heap_init(&t->expiry, expiry_before, expiry_set_pos, t);
    return t;
}

void
binding_table_destroy(struct binding_table *t)
{
    if (!t) {
        return;
    }
    strmap_destroy(&t->by_id);
    strmap_destroy(&t->by_vm);
    strmap_destroy(&t->by_mac);
    strmap_destroy(&t->by_ip);
    heap_destroy(&t->expiry);
    free(t->slots);
    free(t->free_slots);
    free(t);
}

size_t
binding_table_count(const struct binding_table *t)
{
    return t->count;
}

static uint32_t
slot_by_id(const struct binding_table *t, uint32_t id)
{
    return strmap_find_keyed(&t->by_id, hash_id(id), match_id, &id);
}

static uint32_t
slot_by_mac(const struct binding_table *t, const uint8_t mac[6],
            uint16_t vlan)
{
    struct mac_key k = {.vlan = vlan};
    memcpy(k.mac, mac, 6);
    return strmap_find_keyed(&t->by_mac, hash_mac(&k), match_mac, &k);
}

static uint32_t
slot_by_ip(const struct binding_table *t, uint32_t ip, uint16_t vlan)
{
    struct ip_key k = {.ip = ip, .vlan = vlan};
    return strmap_find_keyed(&t->by_ip, hash_ip(&k), match_ip, &k);
}

static const struct binding *
binding_at(const struct binding_table *t, uint32_t idx)
{
    return idx == STRMAP_NONE ? NULL : &t->slots[idx].b;
}

const struct binding *
binding_table_get(const struct binding_table *t, uint32_t id)
{
    return binding_at(t, slot_by_id(t, id));
}

const struct binding *
binding_table_find_vm(const struct binding_table *t, const char *vm)
{
    return vm ? binding_at(t, strmap_find(&t->by_vm, vm)) : NULL;
}

const struct binding *
binding_table_find_mac(const struct binding_table *t, const uint8_t mac[6],
                       uint16_t vlan)
{
    return binding_at(t, slot_by_mac(t, mac, vlan));
}

const struct binding *
binding_table_find_ip(const struct binding_table *t, uint32_t ip,
                      uint16_t vlan)
{
    return binding_at(t, slot_by_ip(t, ip, vlan));
}

const struct binding *
binding_table_next(const struct binding_table *t, uint32_t *cursor)
{
    while (*cursor < t->n_slots) {
        const struct bslot *s = &t->slots[(*cursor)++];
        if (s->used) {
            return &s->b;
        }
    }
    return NULL;
}

/* Checks '*b' against every binding but the one in slot 'self'. */
static enum binding_err
table_check(const struct binding_table *t, const struct binding *b,
            uint32_t self)
{
    enum binding_err e = binding_validate(b);
    uint32_t other;

    if (e) {
        return e;
    }
    other = strmap_find(&t->by_vm, b->vm);
    if (other != STRMAP_NONE && other != self) {
        return BINDING_E_VM_BOUND;
    }
    other = slot_by_mac(t, b->mac, b->vlan);
    if (other != STRMAP_NONE && other != self) {
        return BINDING_E_MAC_CONFLICT;
    }
    other = slot_by_ip(t, b->ip, b->vlan);
    if (other != STRMAP_NONE && other != self) {
        return BINDING_E_IP_CONFLICT;
    }
    return BINDING_E_OK;
}

static void
table_index(struct binding_table *t, uint32_t idx)
{
    struct bslot *s = &t->slots[idx];
    const struct binding *b = &s->b;
    struct mac_key mk = {.vlan = b->vlan};
    struct ip_key ik = {.ip = b->ip, .vlan = b->vlan};

    memcpy(mk.mac, b->mac, 6);
    strmap_insert_keyed(&t->by_id, hash_id(b->id), idx);
    strmap_insert(&t->by_vm, b->vm, idx);
    strmap_insert_keyed(&t->by_mac, hash_mac(&mk), idx);
    strmap_insert_keyed(&t->by_ip, hash_ip(&ik), idx);
    s->heap_pos = HEAP_NOT_IN;
    if (b->expires_ms) {
        heap_push(&t->expiry, idx);
    }
}

static void
table_unindex(struct binding_table *t, uint32_t idx)
{
    struct bslot *s = &t->slots[idx];
    const struct binding *b = &s->b;
    struct mac_key mk = {.vlan = b->vlan};
    struct ip_key ik = {.ip = b->ip, .vlan = b->vlan};

    memcpy(mk.mac, b->mac, 6);
    strmap_remove_keyed(&t->by_id, hash_id(b->id), match_id, &b->id);
    strmap_remove(&t->by_vm, b->vm);
    strmap_remove_keyed(&t->by_mac, hash_mac(&mk), match_mac, &mk);
    strmap_remove_keyed(&t->by_ip, hash_ip(&ik), match_ip, &ik);
    if (s->heap_pos != HEAP_NOT_IN) {
        heap_remove(&t->expiry, s->heap_pos);
    }
}

enum binding_err
binding_table_add(struct binding_table *t, const struct binding *b,
                  uint32_t *idp)
{
    enum binding_err e = table_check(t, b, STRMAP_NONE);
    if (e) {
        return e;
    }
    uint32_t id = b->id;
    if (id) {
        if (slot_by_id(t, id) != STRMAP_NONE) {
            return BINDING_E_DUP_ID;
        }
    } else if (t->next_id > UINT32_MAX) {
        return BINDING_E_FULL;
    } else {
        id = (uint32_t) t->next_id;
    }

    uint32_t idx;
    if (t->n_free) {
        idx = t->free_slots[--t->n_free];
    } else {
        t->slots = xgrow(t->slots, &t->cap_slots, t->n_slots + 1,
                         sizeof *t->slots);
        idx = (uint32_t) t->n_slots++;
    }
    struct bslot *s = &t->slots[idx];
    s->b = *b;
    s->b.id = id;
    s->used = true;
    table_index(t, idx);
    t->count++;
    if ((uint64_t) id >= t->next_id) {
        t->next_id = (uint64_t) id + 1;
    }
    if (idp) {
        *idp = id;
    }
    return BINDING_E_OK;
}

enum binding_err
binding_table_replace(struct binding_table *t, const struct binding *b)
{
    uint32_t idx = slot_by_id(t, b->id);
    if (idx == STRMAP_NONE) {
        return BINDING_E_UNKNOWN_ID;
    }
    enum binding_err e = table_check(t, b, idx);
    if (e) {
        return e;
    }
    table_unindex(t, idx);
    t->slots[idx].b = *b;
    table_index(t, idx);
    return BINDING_E_OK;
}

enum binding_err
binding_table_put(struct binding_table *t, const struct binding *b,
                  uint32_t *idp, bool *created)
{
    const struct binding *old = binding_table_find_vm(t, b->vm);
    struct binding nb = *b;
    enum binding_err e;

    nb.id = old ? old->id : 0;
    e = old ? binding_table_replace(t, &nb)
            : binding_table_add(t, &nb, &nb.id);
    if (!e) {
        if (idp) {
            *idp = nb.id;
        }
        if (created) {
            *created = !old;
        }
    }
    return e;
}

enum binding_err
binding_table_delete(struct binding_table *t, uint32_t id,
                     struct binding *old)
{
    uint32_t idx = slot_by_id(t, id);
    if (idx == STRMAP_NONE) {
        return BINDING_E_UNKNOWN_ID;
    }
    struct bslot *s = &t->slots[idx];
    if (old) {
        *old = s->b;
    }
    table_unindex(t, idx);
    memset(&s->b, 0, sizeof s->b);
    s->used = false;
    t->free_slots = xgrow(t->free_slots, &t->cap_free, t->n_free + 1,
                          sizeof *t->free_slots);
    t->free_slots[t->n_free++] = idx;
    t->count--;
    return BINDING_E_OK;
}

bool
binding_table_next_expiry(const struct binding_table *t, uint64_t *due_ms)
{
    if (heap_is_empty(&t->expiry)) {
        return false;
    }
    *due_ms = t->slots[heap_top(&t->expiry)].b.expires_ms;
    return true;
}

size_t
binding_table_expire(struct binding_table *t, uint64_t now_ms,
                     struct binding *out, size_t max)
{
    size_t n = 0;
    while (n < max && !heap_is_empty(&t->expiry)) {
        const struct binding *b = &t->slots[heap_top(&t->expiry)].b;
        if (b->expires_ms > now_ms) {
            break;
        }
        binding_table_delete(t, b->id, &out[n++]);
    }
    return n;
}

/* The VM's dynamic binding if it is for 'mac' (and 'ip', unless 0). */
static const struct binding *
snoop_own(const struct binding_table *t, const char *vm,
          const uint8_t mac[6], uint32_t ip)
{
    const struct binding *b = binding_table_find_vm(t, vm);
    if (!b || b->type != BINDING_DYNAMIC || memcmp(b->mac, mac, 6)
        || (ip && b->ip != ip)) {
        return NULL;
    }
    return b;
}

enum binding_err
binding_table_snoop(struct binding_table *t, const struct dhcp_msg *m,
                    const struct binding_ctx *ctx, uint64_t now_ms,
                    enum binding_action *action, struct binding *result)
{
    enum binding_action act = BINDING_ACT_NONE;
    struct binding nb;
    const struct binding *own = NULL;
    enum binding_err e;
    bool created;

    memset(&nb, 0, sizeof nb);
    if (!ctx->vm || !mn_name_valid(ctx->vm)) {
        return BINDING_E_BAD_VM;
    }
    switch (m->type) {
    case DHCP_ACK:
        if (!m->yiaddr) {
            break; /* an ACK to an INFORM grants nothing */
        }
        if ((e = binding_from_ack(m, ctx, now_ms, &nb))) {
            return e;
        }
        own = binding_table_find_vm(t, ctx->vm);
        if (own && own->type == BINDING_STATIC) {
            return BINDING_E_STATIC_HELD;
        }
        if ((e = binding_table_put(t, &nb, &nb.id, &created))) {
            return e;
        }
        act = created ? BINDING_ACT_CREATED : BINDING_ACT_UPDATED;
        break;
    case DHCP_RELEASE:
        if (m->ciaddr) {
            own = snoop_own(t, ctx->vm, m->chaddr, m->ciaddr);
        }
        break;
    case DHCP_DECLINE:
        if (dhcp_msg_has(m, DHCP_OPT_REQUESTED_IP) && m->requested_ip) {
            own = snoop_own(t, ctx->vm, m->chaddr, m->requested_ip);
        }
        break;
    case DHCP_NAK:
        own = snoop_own(t, ctx->vm, m->chaddr, 0);
        break;
    default:
        break;
    }
    if (act == BINDING_ACT_NONE && own) {
        binding_table_delete(t, own->id, &nb);
        act = BINDING_ACT_REMOVED;
    }
    if (action) {
        *action = act;
    }
    if (result && act != BINDING_ACT_NONE) {
        *result = nb;
    }
    return BINDING_E_OK;
}

/* ---- Anti-spoofing intent ---- */

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define IP_PROTO_UDP 17
#define PRIO_GUARD 300
#define PRIO_ALLOW 200
#define PRIO_DEFAULT 100

static struct binding_rule *
rule_new(struct binding_rule *r, enum binding_rule_kind kind, bool drop,
         uint16_t priority, uint32_t port)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->drop = drop;
    r->priority = priority;
    r->match = BINDING_M_IN_PORT;
    r->in_port = port;
    return r;
}

/* Matches Ethernet source 'mac' and EtherType 'type'. */
static void
rule_eth(struct binding_rule *r, const uint8_t mac[6], uint16_t type)
{
    r->match |= BINDING_M_ETH_SRC | BINDING_M_ETH_TYPE;
    memcpy(r->eth_src, mac, 6);
    r->eth_type = type;
}

static void
rule_udp(struct binding_rule *r, uint16_t src, uint16_t dst)
{
    r->match |= BINDING_M_ETH_TYPE | BINDING_M_IP_PROTO | BINDING_M_UDP_SRC;
    r->eth_type = ETH_TYPE_IPV4;
    r->ip_proto = IP_PROTO_UDP;
    r->udp_src = src;
    if (dst) {
        r->match |= BINDING_M_UDP_DST;
        r->udp_dst = dst;
    }
}

static void
rule_arp(struct binding_rule *r, const uint8_t mac[6], uint32_t spa)
{
    rule_eth(r, mac, ETH_TYPE_ARP);
    r->match |= BINDING_M_ARP_SHA | BINDING_M_ARP_SPA;
    memcpy(r->arp_sha, mac, 6);
    r->arp_spa = spa;
}

/* DHCP server messages are dropped, DHCP client messages from 'mac' with
 * source 0.0.0.0 allowed; returns the rules written. */
static size_t
rules_dhcp(uint32_t port, const uint8_t mac[6], struct binding_rule *out)
{
    rule_udp(rule_new(&out[0], BINDING_RULE_DROP_DHCP_SERVER, true,
                      PRIO_GUARD, port),
             DHCP_PORT_SERVER, 0);
    struct binding_rule *r = rule_new(&out[1], BINDING_RULE_ALLOW_DHCP,
                                      false, PRIO_ALLOW, port);
    rule_eth(r, mac, ETH_TYPE_IPV4);
    r->match |= BINDING_M_IP_SRC;
    r->ip_src = 0;
    rule_udp(r, DHCP_PORT_CLIENT, DHCP_PORT_SERVER);
    return 2;
}

size_t
binding_rules(const struct binding *b, uint32_t port,
              struct binding_rule out[BINDING_MAX_RULES])
{
    uint32_t p = b->port ? b->port : port;
    struct binding_rule *r;
    size_t n;

    if (!p) {
        return 0;
    }
    if (b->port_status == BINDING_PORT_DISABLE) {
        rule_new(&out[0], BINDING_RULE_DROP_ALL, true, PRIO_DEFAULT, p);
        return 1;
    }
    if (b->port_security == BINDING_TRUST) {
        rule_new(&out[0], BINDING_RULE_ALLOW_ALL, false, PRIO_DEFAULT, p);
        return 1;
    }
    n = rules_dhcp(p, b->mac, out);
    r = rule_new(&out[n++], BINDING_RULE_ALLOW_IP, false, PRIO_ALLOW, p);
    rule_eth(r, b->mac, ETH_TYPE_IPV4);
    r->match |= BINDING_M_IP_SRC;
    r->ip_src = b->ip;
    rule_arp(rule_new(&out[n++], BINDING_RULE_ALLOW_ARP, false, PRIO_ALLOW,
                      p),
             b->mac, b->ip);
    rule_arp(rule_new(&out[n++], BINDING_RULE_ALLOW_ARP_PROBE, false,
                      PRIO_ALLOW, p),
             b->mac, 0);
    rule_new(&out[n++], BINDING_RULE_DROP_ALL, true, PRIO_DEFAULT, p);
    return n;
}

size_t
binding_rules_unbound(uint32_t port, const uint8_t mac[6],
                      struct binding_rule out[BINDING_MAX_RULES])
{
    if (!port) {
        return 0;
    }
    size_t n = rules_dhcp(port, mac, out);
    rule_new(&out[n++], BINDING_RULE_DROP_ALL, true, PRIO_DEFAULT, port);
    return n;
}

int
binding_rule_format(const struct binding_rule *r, char *buf, size_t len)
{
    char mac[ADDR_MAC_STRLEN], ip[ADDR_IPV4_STRLEN];
    size_t off = 0;
    int n;

#define RULE_PUT(...)                                                        \
    do {                                                                     \
        n = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0, \
                     __VA_ARGS__);                                           \
        if (n < 0) {                                                         \
            return n;                                                        \
        }                                                                    \
        off += (size_t) n;                                                   \
    } while (0)

    if (len) {
        buf[0] = '\0';
    }
    RULE_PUT("in_port=%" PRIu32, r->in_port);
    if (r->match & BINDING_M_ETH_SRC) {
        addr_format_mac(r->eth_src, mac);
        RULE_PUT(",dl_src=%s", mac);
    }
    if (r->match & BINDING_M_ETH_TYPE) {
        RULE_PUT(",dl_type=0x%04x", (unsigned) r->eth_type);
    }
    if (r->match & BINDING_M_IP_SRC) {
        addr_format_ipv4(r->ip_src, ip);
        RULE_PUT(",nw_src=%s", ip);
    }
    if (r->match & BINDING_M_IP_PROTO) {
        RULE_PUT(",nw_proto=%u", (unsigned) r->ip_proto);
    }
    if (r->match & BINDING_M_UDP_SRC) {
        RULE_PUT(",tp_src=%u", (unsigned) r->udp_src);
    }
    if (r->match & BINDING_M_UDP_DST) {
        RULE_PUT(",tp_dst=%u", (unsigned) r->udp_dst);
    }
    if (r->match & BINDING_M_ARP_SHA) {
        addr_format_mac(r->arp_sha, mac);
        RULE_PUT(",arp_sha=%s", mac);
    }
    if (r->match & BINDING_M_ARP_SPA) {
        addr_format_ipv4(r->arp_spa, ip);
        RULE_PUT(",arp_spa=%s", ip);
    }
#undef RULE_PUT
    return (int) off;
}
