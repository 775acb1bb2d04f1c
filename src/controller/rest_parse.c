/* rest_parse.c: request parsing and validation for the northbound API.
 *
 * Everything a client sends is checked here, completely, before the REST
 * layer calls the core: a request either yields a whole valid structure or
 * an error with status and code.  It must never touch the core, a socket
 * or global state, so it can run under the fuzzer. */
#include "controller/rest_parse.h"

#include <arpa/inet.h>
#include <math.h>
#include <sys/queue.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "lib/addr.h"
#include "lib/util.h"
#include "mignet/model.h"

bool
rest_fail(struct rest_error *e, int status, const char *code,
          const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    e->allow = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return false;
}

int
rest_core_status(enum core_err err)
{
    switch (err) {
    case CORE_E_OK:
        return 200;
    case CORE_E_UNKNOWN_VM:
    case CORE_E_UNKNOWN_NODE:
    case CORE_E_UNKNOWN_MIGRATION:
    case CORE_E_UNKNOWN_BINDING:
        return 404;
    case CORE_E_DUPLICATE_VM:
    case CORE_E_DUPLICATE_NODE:
    case CORE_E_DUPLICATE_ADDRESS:
    case CORE_E_SAME_NODE:
    case CORE_E_CORDONED:
    case CORE_E_NO_TARGET:
    case CORE_E_WRONG_SOURCE:
    case CORE_E_IN_PROGRESS:
    case CORE_E_STALE_EPOCH:
    case CORE_E_NODE_BUSY:
    case CORE_E_ADDRESS_BOUND:
    case CORE_E_ABORTED:
    case CORE_E_ACTIVATED:
    case CORE_E_NOT_PREPARING:
        return 409;
    case CORE_E_BAD_NAME:
    case CORE_E_BAD_VALUE:
    case CORE_E_BAD_SEQ:
    case CORE_E_BAD_VERSION:
    case CORE_E_BINDING_MISMATCH:
    case CORE_E_BINDING: /* rest_binding_error() says more */
        return 422;
    case CORE_E_NOMEM:
    case CORE_E_STORE:
    case CORE_N_ERRORS:
    default:
        return 500;
    }
}

void
rest_core_error(struct rest_error *e, enum core_err err)
{
    rest_fail(e, rest_core_status(err), core_errname(err), "%s",
              core_strerror(err));
}

int
rest_binding_status(enum binding_err err)
{
    switch (err) {
    case BINDING_E_OK:
        return 200;
    case BINDING_E_UNKNOWN_ID:
        return 404;
    case BINDING_E_DUP_ID:
    case BINDING_E_VM_BOUND:
    case BINDING_E_MAC_CONFLICT:
    case BINDING_E_IP_CONFLICT:
    case BINDING_E_STATIC_HELD:
        return 409;
    case BINDING_E_FULL:
    case BINDING_E_NO_SPACE:
        return 500;
    default:
        return 422;
    }
}

void
rest_binding_error(struct rest_error *e, enum binding_err err)
{
    rest_fail(e, rest_binding_status(err), binding_errname(err), "%s",
              binding_strerror(err));
}

/* ---- Routes ---- */

static bool
rest_method_fail(struct rest_error *e, const char *allowed)
{
    rest_fail(e, 405, "method_not_allowed", "this resource allows %s",
              allowed);
    e->allow = allowed;
    return false;
}

/* Copies the next path segment (up to '/' or the end) into 'out'. */
static const char *
rest_segment(const char *p, char *out, size_t n, bool *too_long)
{
    size_t len = strcspn(p, "/");
    *too_long = len >= n;
    if (!*too_long) {
        memcpy(out, p, len);
        out[len] = '\0';
    } else {
        out[0] = '\0';
    }
    return p + len;
}

/* Routes under /v1/nodes and /v1/vms: the collection, one item, and the
 * actions (a VM's migrate and binding, a node's cordon, uncordon,
 * drain and token). */
static bool
rest_route_items(enum rest_method m, const char *rest, bool vms,
                 struct rest_route *r, struct rest_error *e)
{
    if (!*rest) {
        r->id = vms ? REST_R_VMS : REST_R_NODES;
        return m == REST_GET || m == REST_POST
                   ? true
                   : rest_method_fail(e, "GET, POST");
    }
    bool too_long;
    const char *after = rest_segment(rest, r->name, sizeof r->name,
                                     &too_long);
    const char *unknown = vms ? "unknown_vm" : "unknown_node";
    if (too_long || !mn_name_valid(r->name)) {
        return rest_fail(e, 404, unknown, "no %s with that id",
                         vms ? "VM" : "node");
    }
    if (!*after || !strcmp(after, "/")) {
        r->id = vms ? REST_R_VM : REST_R_NODE;
        if (m == REST_GET || m == REST_DELETE || (vms && m == REST_PATCH)) {
            return true;
        }
        return rest_method_fail(e, vms ? "GET, PATCH, DELETE"
                                       : "GET, DELETE");
    }
    if (vms && (!strcmp(after, "/migrate") || !strcmp(after, "/migrate/"))) {
        r->id = REST_R_VM_MIGRATE;
        return m == REST_POST ? true : rest_method_fail(e, "POST");
    }
    static const struct {
        const char *action;
        enum rest_route_id id;
    } node_actions[] = {
        {"/cordon", REST_R_NODE_CORDON},
        {"/uncordon", REST_R_NODE_UNCORDON},
        {"/drain", REST_R_NODE_DRAIN},
        {"/token", REST_R_NODE_TOKEN},
    };
    for (size_t i = 0; !vms && i < ARRAY_SIZE(node_actions); i++) {
        size_t n = strlen(node_actions[i].action);
        if (!strncmp(after, node_actions[i].action, n)
            && (!after[n] || !strcmp(after + n, "/"))) {
            r->id = node_actions[i].id;
            return m == REST_POST ? true : rest_method_fail(e, "POST");
        }
    }
    if (vms && (!strcmp(after, "/binding") || !strcmp(after, "/binding/"))) {
        r->id = REST_R_VM_BINDING;
        return m == REST_GET || m == REST_PUT || m == REST_DELETE
                   ? true
                   : rest_method_fail(e, "GET, PUT, DELETE");
    }
    return rest_fail(e, 404, "not_found", "no such resource");
}

/* Routes under /v1/vswitches (docs/vswitch.md). */
static bool
rest_route_vswitches(enum rest_method m, const char *rest,
                     struct rest_route *r, struct rest_error *e)
{
    if (!*rest) {
        r->id = REST_R_VSWITCHES;
        return m == REST_GET || m == REST_POST
                   ? true
                   : rest_method_fail(e, "GET, POST");
    }
    bool too_long;
    const char *after = rest_segment(rest, r->name, sizeof r->name,
                                     &too_long);
    if (too_long || !mn_name_valid(r->name)) {
        return rest_fail(e, 404, "unknown_vswitch",
                         "no virtual switch with that id");
    }
    if (!*after || !strcmp(after, "/")) {
        r->id = REST_R_VSWITCH;
        return m == REST_GET || m == REST_DELETE
                   ? true
                   : rest_method_fail(e, "GET, DELETE");
    }
    if (!strcmp(after, "/flows") || !strcmp(after, "/flows/")) {
        r->id = REST_R_VSWITCH_FLOWS;
        return m == REST_GET ? true : rest_method_fail(e, "GET");
    }
    if (!strcmp(after, "/migrate") || !strcmp(after, "/migrate/")) {
        r->id = REST_R_VSWITCH_MIGRATE;
        return m == REST_POST ? true : rest_method_fail(e, "POST");
    }
    return rest_fail(e, 404, "not_found", "no such resource");
}

bool
rest_route_match(enum rest_method m, const char *path, struct rest_route *r,
                 struct rest_error *e)
{
    memset(r, 0, sizeof *r);
    r->method = m;
    if (!path) {
        return rest_fail(e, 404, "not_found", "no such resource");
    }
    static const struct {
        const char *path;
        enum rest_route_id id;
    } fixed[] = {
        {"/v1/tasks", REST_R_TASKS},
        {"/v1/bindings", REST_R_BINDINGS},
        {"/v1/migrations", REST_R_MIGRATIONS},
        {"/v1/map", REST_R_MAP},
        {"/v1/fabric", REST_R_FABRIC},
        {"/v1/transfers/pairs", REST_R_TRANSFER_PAIRS},
        {"/healthz", REST_R_HEALTHZ},
        {"/metrics", REST_R_METRICS},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        size_t n = strlen(fixed[i].path);
        if (!strncmp(path, fixed[i].path, n)
            && (!path[n] || !strcmp(path + n, "/"))) {
            r->id = fixed[i].id;
            return m == REST_GET ? true : rest_method_fail(e, "GET");
        }
    }
    /* Transfer reports (transfers.h): read, and posted. */
    if (!strcmp(path, "/v1/transfers") || !strcmp(path, "/v1/transfers/")) {
        r->id = REST_R_TRANSFERS;
        return m == REST_GET || m == REST_POST
                   ? true
                   : rest_method_fail(e, "GET, POST");
    }
    if (!strncmp(path, "/v1/vswitches", 13)
        && (!path[13] || path[13] == '/')) {
        return rest_route_vswitches(m, path[13] ? path + 14 : path + 13, r,
                                    e);
    }
    if (!strncmp(path, "/v1/nodes", 9) && (!path[9] || path[9] == '/')) {
        return rest_route_items(m, path[9] ? path + 10 : path + 9, false, r,
                                e);
    }
    if (!strncmp(path, "/v1/vms", 7) && (!path[7] || path[7] == '/')) {
        return rest_route_items(m, path[7] ? path + 8 : path + 7, true, r,
                                e);
    }
    if (!strncmp(path, "/v1/migrations/", 15)) {
        char id[24];
        bool too_long;
        const char *after = rest_segment(path + 15, id, sizeof id,
                                         &too_long);
        if (!*after || !strcmp(after, "/")) {
            r->id = REST_R_MIGRATION;
        } else if (!strcmp(after, "/switchover")
                   || !strcmp(after, "/switchover/")) {
            r->id = REST_R_MIGRATION_SWITCHOVER;
        } else if (!strcmp(after, "/abort") || !strcmp(after, "/abort/")) {
            r->id = REST_R_MIGRATION_ABORT;
        } else {
            return rest_fail(e, 404, "not_found", "no such resource");
        }
        if (too_long || !addr_parse_u64(id, 1, UINT64_MAX, &r->migration)) {
            return rest_fail(e, 404, "unknown_migration",
                             "migration ids are positive integers");
        }
        if (r->id == REST_R_MIGRATION) {
            return m == REST_GET ? true : rest_method_fail(e, "GET");
        }
        return m == REST_POST ? true : rest_method_fail(e, "POST");
    }
    return rest_fail(e, 404, "not_found", "no such resource");
}

bool
rest_route_has_body(const struct rest_route *r)
{
    return r->method == REST_POST || r->method == REST_PATCH
           || r->method == REST_PUT;
}

bool
rest_check_content_type(const char *ct, struct rest_error *e)
{
    static const char want[] = "application/json";
    if (ct) {
        while (*ct == ' ' || *ct == '\t') {
            ct++;
        }
        size_t n = sizeof want - 1;
        if (!strncasecmp(ct, want, n)
            && (!ct[n] || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t')) {
            return true;
        }
    }
    return rest_fail(e, 415, "unsupported_media_type",
                     "the body must be application/json");
}

bool
rest_check_body_size(size_t len, size_t max, struct rest_error *e)
{
    if (len > max) {
        return rest_fail(e, 413, "too_large",
                         "the body is %zu bytes; the limit is %zu", len, max);
    }
    return true;
}

/* ---- Values ---- */

bool
rest_mac_valid(const uint8_t m[6])
{
    return mn_mac_valid(m); /* the CLI checks the same (model.h) */
}

bool
rest_ip_valid(uint32_t ip)
{
    return mn_ip_valid(ip);
}

/* ---- Bodies ---- */

static bool rest_get_switchover(json_t *obj, enum mig_switchover *sw,
                                uint32_t *deadline, struct rest_error *e);

static json_t *
rest_parse_object(const char *body, size_t len, struct rest_error *e)
{
    if (!body || !len) {
        rest_fail(e, 400, "bad_json", "the request needs a JSON body");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rest_fail(e, 400, "bad_json", "invalid JSON at line %d column %d: %s",
                  jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        rest_fail(e, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    return root;
}

/* Every key of 'obj' must be in 'allowed' (NULL-terminated). */
static bool
rest_check_keys(json_t *obj, const char *const *allowed, struct rest_error *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++) {
            if (!strcmp(key, *a)) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            return rest_fail(e, 422, "unknown_field", "unknown field '%.40s'",
                             key);
        }
    }
    return true;
}

/* The string at 'key', NULL when absent or null (after setting an error
 * if it was required, or if it is present but not a string). */
static const char *
rest_get_string(json_t *obj, const char *key, bool required, bool *bad,
                struct rest_error *e)
{
    json_t *v = json_object_get(obj, key);
    *bad = false;
    if (!v || json_is_null(v)) {
        if (required) {
            *bad = true;
            rest_fail(e, 422, "missing_field", "'%s' is required", key);
        }
        return NULL;
    }
    if (!json_is_string(v)) {
        *bad = true;
        rest_fail(e, 422, "invalid_type", "'%s' must be a string", key);
        return NULL;
    }
    return json_string_value(v);
}

static bool
rest_get_name(json_t *obj, const char *key, bool required,
              char out[MN_NAME_MAX + 1], struct rest_error *e)
{
    bool bad;
    const char *s = rest_get_string(obj, key, required, &bad, e);
    if (bad) {
        return false;
    }
    if (!s) {
        out[0] = '\0';
        return true;
    }
    if (!mn_name_valid(s)) {
        return rest_fail(e, 422, "invalid_name",
                         "'%s' must be 1-63 characters of [A-Za-z0-9._:-]",
                         key);
    }
    snprintf(out, MN_NAME_MAX + 1, "%s", s);
    return true;
}

/* An unsigned integer in [min, max]; '*present' tells whether it was
 * given (absent or null leaves '*out' alone). */
static bool
rest_get_u32(json_t *obj, const char *key, uint32_t min, uint32_t max,
             bool *present, uint32_t *out, struct rest_error *e)
{
    json_t *v = json_object_get(obj, key);
    *present = false;
    if (!v || json_is_null(v)) {
        return true;
    }
    if (!json_is_integer(v)) {
        return rest_fail(e, 422, "invalid_type", "'%s' must be an integer",
                         key);
    }
    json_int_t n = json_integer_value(v);
    if (n < (json_int_t) min || n > (json_int_t) max) {
        return rest_fail(e, 422, "invalid_value",
                         "'%s' must be between %u and %u", key,
                         (unsigned) min, (unsigned) max);
    }
    *present = true;
    *out = (uint32_t) n;
    return true;
}

/* "allow_duplicate": a boolean, false when absent or null. */
static bool
rest_get_allow_dup(json_t *obj, bool *out, struct rest_error *e)
{
    json_t *v = json_object_get(obj, "allow_duplicate");
    if (v && !json_is_null(v) && !json_is_boolean(v)) {
        return rest_fail(e, 422, "invalid_type",
                         "'allow_duplicate' must be true or false");
    }
    *out = json_is_true(v);
    return true;
}

/* The configuration fields shared by create and patch; only the fields
 * present are written to 'c'. */
static bool
rest_get_config(json_t *obj, bool create, struct mn_config *c,
                unsigned *n_fields, struct rest_error *e)
{
    bool bad, present;
    const char *mac = rest_get_string(obj, "mac", create, &bad, e);
    if (bad) {
        return false;
    }
    if (mac) {
        if (!addr_parse_mac(mac, c->mac) || !rest_mac_valid(c->mac)) {
            return rest_fail(e, 422, "invalid_mac",
                             "'mac' must be a unicast MAC like "
                             "02:00:00:00:00:01");
        }
        ++*n_fields;
    }
    /* A VM created without an IP gets one by DHCP (seed 003): until its
     * binding exists it may only send DHCP. */
    const char *ip = rest_get_string(obj, "ip", false, &bad, e);
    if (bad) {
        return false;
    }
    if (ip) {
        if (!addr_parse_ipv4(ip, &c->ip) || !rest_ip_valid(c->ip)) {
            return rest_fail(e, 422, "invalid_ip",
                             "'ip' must be an IPv4 host address like "
                             "198.18.1.1");
        }
        ++*n_fields;
    }
    uint32_t v = 0;
    if (!rest_get_u32(obj, "vni", 0, REST_VNI_MAX, &present, &c->vni, e)) {
        return false;
    }
    *n_fields += present;
    if (!rest_get_u32(obj, "vlan", 0, REST_VLAN_MAX, &present, &v, e)) {
        return false;
    }
    if (present) {
        c->vlan = (uint16_t) v;
        ++*n_fields;
    }
    if (!rest_get_u32(obj, "port", 0, REST_PORT_MAX, &present, &c->port,
                      e)) {
        return false;
    }
    *n_fields += present;
    return true;
}

bool
rest_parse_node(const char *body, size_t len, struct rest_node_req *req,
                struct rest_error *e)
{
    static const char *const keys[] = {"id", "address", "refresh_ms", NULL};
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    struct rest_node_req r = {.refresh_ms = REST_REFRESH_DEFAULT_MS};
    bool ok = rest_check_keys(obj, keys, e)
              && rest_get_name(obj, "id", true, r.id, e);
    if (ok) {
        bool bad, present;
        const char *addr = rest_get_string(obj, "address", true, &bad, e);
        unsigned char tmp[16];
        if (bad) {
            ok = false;
        } else if (strlen(addr) > REST_ADDRESS_MAX
                   || (inet_pton(AF_INET, addr, tmp) != 1
                       && inet_pton(AF_INET6, addr, tmp) != 1)) {
            ok = rest_fail(e, 422, "invalid_address",
                           "'address' must be an IPv4 or IPv6 address");
        } else {
            snprintf(r.address, sizeof r.address, "%s", addr);
            ok = rest_get_u32(obj, "refresh_ms", REST_REFRESH_MIN_MS,
                              REST_REFRESH_MAX_MS, &present, &r.refresh_ms,
                              e);
        }
    }
    json_decref(obj);
    if (ok) {
        *req = r;
    }
    return ok;
}

bool
rest_parse_vm_create(const char *body, size_t len, struct rest_vm_req *req,
                     struct rest_error *e)
{
    static const char *const keys[] = {
        "id", "mac", "ip", "node", "vni", "vlan", "port", "iface_id",
        "allow_duplicate", NULL,
    };
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    struct rest_vm_req r = {0};
    unsigned n_fields = 0;
    bool ok = !json_object_get(obj, "binding")
                  ? true
                  : rest_fail(e, 422, "immutable_field",
                              "the binding is set with "
                              "PUT /v1/vms/{id}/binding");
    ok = ok && rest_check_keys(obj, keys, e)
              && rest_get_name(obj, "id", true, r.id, e)
              && rest_get_name(obj, "node", true, r.node, e)
              && rest_get_name(obj, "iface_id", false, r.iface_id, e)
              && rest_get_config(obj, true, &r.config, &n_fields, e)
              && rest_get_allow_dup(obj, &r.allow_duplicate, e);
    json_decref(obj);
    if (ok) {
        *req = r;
    }
    return ok;
}

bool
rest_parse_vm_patch(const char *body, size_t len, struct mn_config *config,
                    bool *allow_duplicate, struct rest_error *e)
{
    static const char *const keys[] = {
        "mac", "ip", "vni", "vlan", "port", "allow_duplicate", NULL,
    };
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    bool ok;
    if (json_object_get(obj, "node") || json_object_get(obj, "id")) {
        ok = rest_fail(e, 422, "immutable_field",
                       "'id' and 'node' cannot be patched; use "
                       "POST /v1/vms/{id}/migrate to move a VM");
    } else if (json_object_get(obj, "iface_id")) {
        ok = rest_fail(e, 422, "immutable_field",
                       "'iface_id' is set when the VM is created");
    } else if (json_object_get(obj, "binding")) {
        ok = rest_fail(e, 422, "immutable_field",
                       "the binding is set with PUT /v1/vms/{id}/binding");
    } else {
        ok = rest_check_keys(obj, keys, e);
    }
    struct mn_config c = *config;
    unsigned n_fields = 0;
    bool dup = false;
    ok = ok && rest_get_config(obj, false, &c, &n_fields, e)
         && rest_get_allow_dup(obj, &dup, e);
    json_decref(obj);
    if (ok && !n_fields) {
        ok = rest_fail(e, 422, "missing_field",
                       "give at least one of mac, ip, vni, vlan, port");
    }
    if (ok) {
        *config = c;
        if (allow_duplicate) {
            *allow_duplicate = dup;
        }
    }
    return ok;
}

/* One member of a binding body as the text binding_field_set() reads:
 * strings as they are, integers in decimal. */
static bool
rest_binding_member(json_t *obj, const char *key, enum binding_field f,
                    bool is_int, struct binding *b, bool *present,
                    struct rest_error *e)
{
    json_t *v = json_object_get(obj, key);
    *present = false;
    if (!v || json_is_null(v)) {
        return true;
    }
    char text[32];
    if (json_is_integer(v) && (is_int || f == BINDING_F_LEASE)) {
        json_int_t n = json_integer_value(v);
        if (n < 0) {
            return rest_fail(e, 422, "invalid_value",
                             "'%s' must not be negative", key);
        }
        snprintf(text, sizeof text, "%lld", (long long) n);
    } else if (json_is_string(v) && !is_int) {
        const char *s = json_string_value(v);
        if (strlen(s) >= sizeof text || strlen(s) != json_string_length(v)) {
            rest_binding_error(e, binding_field_set(b, f, "\x01"));
            return false;
        }
        snprintf(text, sizeof text, "%s", s);
    } else {
        return rest_fail(e, 422, "invalid_type", "'%s' must be %s", key,
                         is_int ? "an integer"
                         : f == BINDING_F_LEASE
                             ? "an integer or \"infinite\""
                             : "a string");
    }
    enum binding_err be = binding_field_set(b, f, text);
    if (be) {
        rest_binding_error(e, be);
        snprintf(e->message, sizeof e->message, "'%s': %s", key,
                 binding_strerror(be));
        return false;
    }
    *present = true;
    return true;
}

bool
rest_parse_binding(const char *body, size_t len,
                   struct rest_binding_req *req, struct rest_error *e)
{
    static const struct {
        const char *key;
        enum binding_field field;
        bool is_int;
    } members[] = {
        {"ip", BINDING_F_IP, false},
        {"type", BINDING_F_TYPE, false},
        {"lease", BINDING_F_LEASE, false},
        {"server", BINDING_F_SERVER, false},
        {"port_status", BINDING_F_PORT_STATUS, false},
        {"port_security", BINDING_F_PORT_SECURITY, false},
        {"port", BINDING_F_PORT, true},
        {"mac", BINDING_F_MAC, false},
        {"vlan", BINDING_F_VLAN, true},
        {"node", BINDING_F_NODE, false},
    };
    static const char *const keys[] = {
        "ip", "type", "lease", "server", "port_status", "port_security",
        "port", "mac", "vlan", "node", NULL,
    };
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    struct rest_binding_req r = {0};
    r.b.type = BINDING_STATIC;
    r.b.origin = BINDING_FROM_MANAGER;
    r.b.port_status = BINDING_PORT_UP;
    r.b.port_security = BINDING_UNTRUST;
    bool ok;
    if (json_object_get(obj, "id") || json_object_get(obj, "vm")
        || json_object_get(obj, "origin") || json_object_get(obj, "expires")
        || json_object_get(obj, "expires_unix_ms")) {
        ok = rest_fail(e, 422, "immutable_field",
                       "'id', 'vm', 'origin' and the expiry are set by the "
                       "controller (the expiry from 'lease')");
    } else {
        ok = rest_check_keys(obj, keys, e);
    }
    bool present = false;
    for (size_t i = 0; ok && i < sizeof members / sizeof members[0]; i++) {
        ok = rest_binding_member(obj, members[i].key, members[i].field,
                                 members[i].is_int, &r.b, &present, e);
        if (ok && members[i].field == BINDING_F_IP && !present) {
            ok = rest_fail(e, 422, "missing_field", "'ip' is required");
        }
        if (ok && members[i].field == BINDING_F_VLAN) {
            r.has_vlan = present;
        }
    }
    json_decref(obj);
    if (ok) {
        *req = r;
    }
    return ok;

}

/* A JSON number (integer or real) in [min, max]. */
static bool
rest_get_number(json_t *obj, const char *key, double min, double max,
                bool *present, double *out, struct rest_error *e)
{
    json_t *v = json_object_get(obj, key);
    *present = false;
    if (!v || json_is_null(v)) {
        return true;
    }
    if (!json_is_number(v)) {
        return rest_fail(e, 422, "invalid_type", "'%s' must be a number",
                         key);
    }
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max) {
        return rest_fail(e, 422, "invalid_value",
                         "'%s' must be between %g and %g", key, min, max);
    }
    *present = true;
    *out = d;
    return true;
}

static bool
rest_get_plan(json_t *obj, struct rest_plan_fields *p, struct rest_error *e)
{
    bool mem, dirty, page, ws, deadline, bad;
    if (!rest_get_u32(obj, "memory_mb", 1, REST_MEMORY_MB_MAX, &mem,
                      &p->memory_mb, e)
        || !rest_get_u32(obj, "working_set_mb", 1, REST_MEMORY_MB_MAX, &ws,
                         &p->working_set_mb, e)
        || !rest_get_number(obj, "dirty_pages_per_s", 0,
                            REST_DIRTY_RATE_MAX, &dirty,
                            &p->dirty_pages_per_s, e)
        || !rest_get_u32(obj, "page_size", REST_PAGE_SIZE_MIN,
                         REST_PAGE_SIZE_MAX, &page, &p->page_size, e)
        || !rest_get_u32(obj, "deadline_ms", 1, REST_DEADLINE_MS_MAX,
                         &deadline, &p->deadline_ms, e)
        || !rest_get_number(obj, "target_cpu_free", 0, 1, &p->has_cpu,
                            &p->target_cpu_free, e)) {
        return false;
    }
    if (page && (p->page_size & (p->page_size - 1))) {
        return rest_fail(e, 422, "invalid_value",
                         "'page_size' must be a power of two");
    }
    const char *strategy = rest_get_string(obj, "strategy", false, &bad, e);
    if (bad) {
        return false;
    }
    if (strategy) {
        if (!route_strategy_from_name(strategy, &p->strategy)) {
            return rest_fail(e, 422, "invalid_value",
                             "'strategy' must be single, ecmp or dr");
        }
        p->has_strategy = true;
    }
    if (!mem && (dirty || page || ws || deadline)) {
        return rest_fail(e, 422, "missing_field",
                         "'memory_mb' is required with dirty_pages_per_s, "
                         "page_size, working_set_mb or deadline_ms");
    }
    if (ws && p->working_set_mb > p->memory_mb) {
        return rest_fail(e, 422, "invalid_value",
                         "'working_set_mb' must be at most 'memory_mb'");
    }
    p->given = mem || dirty || page || ws || deadline || p->has_strategy
               || p->has_cpu;
    return true;
}

bool
rest_parse_migrate(const char *body, size_t len, struct rest_migrate_req *req,
                   struct rest_error *e)
{
    static const char *const keys[] = {
        "to", "from", "switchover", "prepare_deadline_ms", "memory_mb",
        "dirty_pages_per_s", "page_size", "working_set_mb", "deadline_ms",
        "strategy",
        "target_cpu_free", NULL,
    };
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    struct rest_migrate_req r = {.switchover = MIG_SW_NOW};
    bool ok = rest_check_keys(obj, keys, e)
              && rest_get_name(obj, "to", true, r.to, e)
              && rest_get_name(obj, "from", false, r.from, e)
              && rest_get_plan(obj, &r.plan, e)
              && rest_get_switchover(obj, &r.switchover,
                                     &r.prepare_deadline_ms, e);
    json_decref(obj);
    if (ok) {
        *req = r;
    }
    return ok;
}

/* "switchover" and "prepare_deadline_ms" of a migrate request. */
static bool
rest_get_switchover(json_t *obj, enum mig_switchover *sw_out,
                    uint32_t *deadline, struct rest_error *e)
{
    bool bad = false, has_deadline = false;
    if (!rest_get_u32(obj, "prepare_deadline_ms",
                      CORE_PREPARE_DEADLINE_MIN_MS,
                      CORE_PREPARE_DEADLINE_MAX_MS, &has_deadline, deadline,
                      e)) {
        return false;
    }
    const char *sw = rest_get_string(obj, "switchover", false, &bad, e);
    if (bad) {
        return false;
    }
    if (sw && !mig_switchover_from_name(sw, sw_out)) {
        return rest_fail(e, 422, "invalid_value", "'switchover' must be now, "
                         "manual, rarp or lossless");
    }
    if (has_deadline && *sw_out == MIG_SW_NOW) {
        return rest_fail(e, 422, "invalid_value", "'prepare_deadline_ms' "
                         "needs a switchover other than now");
    }
    return true;
}

void
rest_vswitch_req_destroy(struct rest_vswitch_req *r)
{
    free(r->ports);
    r->ports = NULL;
    r->n_ports = 0;
}

/* The "ports" object of a vswitch: VM -> distinct port numbers. */
static bool
rest_get_vswitch_ports(json_t *obj, struct rest_vswitch_req *r,
                       struct rest_error *e)
{
    json_t *ports = json_object_get(obj, "ports");
    if (!ports || json_is_null(ports)) {
        return rest_fail(e, 422, "missing_field", "'ports' is required");
    }
    if (!json_is_object(ports)) {
        return rest_fail(e, 422, "invalid_type", "'ports' must be an object "
                         "of VM: port number");
    }
    size_t n = json_object_size(ports);
    if (n > REST_VSWITCH_PORTS_MAX) {
        return rest_fail(e, 422, "invalid_value", "at most %d ports",
                         REST_VSWITCH_PORTS_MAX);
    }
    r->ports = xcalloc(n ? n : 1, sizeof *r->ports);
    const char *vm;
    json_t *v;
    json_object_foreach(ports, vm, v) {
        if (!mn_name_valid(vm)) {
            return rest_fail(e, 422, "invalid_name", "port VM '%.40s' must "
                             "be 1-63 characters of [A-Za-z0-9._:-]", vm);
        }
        json_int_t p = json_is_integer(v) ? json_integer_value(v) : 0;
        if (p < 1 || p > (json_int_t) REST_VSWITCH_PORT_MAX) {
            return rest_fail(e, 422, "invalid_value", "the port of '%s' must "
                             "be an integer 1-%u", vm,
                             (unsigned) REST_VSWITCH_PORT_MAX);
        }
        for (size_t i = 0; i < r->n_ports; i++) {
            if (r->ports[i].port == (uint32_t) p) {
                return rest_fail(e, 422, "invalid_value", "port %u is given "
                                 "twice", (unsigned) p);
            }
        }
        struct rest_vswitch_port *rp = &r->ports[r->n_ports++];
        snprintf(rp->vm, sizeof rp->vm, "%s", vm);
        rp->port = (uint32_t) p;
    }
    return true;
}

bool
rest_parse_vswitch(const char *body, size_t len, struct rest_vswitch_req *req,
                   struct rest_error *e)
{
    static const char *const keys[] = {
        "id", "tenant", "vni", "controller", "datapath_id", "ports", NULL,
    };
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    struct rest_vswitch_req r = {0};
    bool bad = false, has_vni = false;
    bool ok = rest_check_keys(obj, keys, e)
              && rest_get_name(obj, "id", true, r.id, e)
              && rest_get_name(obj, "tenant", true, r.tenant, e)
              && rest_get_u32(obj, "vni", 1, REST_VNI_MAX, &has_vni, &r.vni,
                              e);
    if (ok && !has_vni) {
        ok = rest_fail(e, 422, "missing_field", "'vni' is required");
    }
    const char *c = ok ? rest_get_string(obj, "controller", true, &bad, e)
                       : NULL;
    if (ok && bad) {
        ok = false;
    } else if (ok && (!*c || strlen(c) > REST_TARGET_MAX)) {
        ok = rest_fail(e, 422, "invalid_value", "'controller' must be "
                       "tcp:ADDRESS:PORT or unix:PATH");
    } else if (ok) {
        snprintf(r.controller, sizeof r.controller, "%s", c);
    }
    json_t *dp = ok ? json_object_get(obj, "datapath_id") : NULL;
    if (dp && !json_is_null(dp)) {
        if (!json_is_integer(dp) || json_integer_value(dp) < 1) {
            ok = rest_fail(e, 422, "invalid_value", "'datapath_id' must be "
                           "a positive integer");
        } else {
            r.has_dpid = true;
            r.dpid = (uint64_t) json_integer_value(dp);
        }
    }
    ok = ok && rest_get_vswitch_ports(obj, &r, e);
    json_decref(obj);
    if (!ok) {
        rest_vswitch_req_destroy(&r);
        return false;
    }
    *req = r;
    return true;
}

void
rest_vswitch_migrate_req_destroy(struct rest_vswitch_migrate_req *r)
{
    free(r->moves);
    r->moves = NULL;
    r->n = 0;
}

bool
rest_parse_vswitch_migrate(const char *body, size_t len,
                           struct rest_vswitch_migrate_req *req,
                           struct rest_error *e)
{
    static const char *const keys[] = {
        "moves", "switchover", "prepare_deadline_ms", NULL,
    };
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    struct rest_vswitch_migrate_req r = {.switchover = MIG_SW_NOW};
    bool ok = rest_check_keys(obj, keys, e)
              && rest_get_switchover(obj, &r.switchover,
                                     &r.prepare_deadline_ms, e);
    json_t *moves = ok ? json_object_get(obj, "moves") : NULL;
    if (ok && (!moves || !json_is_object(moves) || !json_object_size(moves)
               || json_object_size(moves) > REST_VSWITCH_PORTS_MAX)) {
        ok = rest_fail(e, 422, "invalid_value", "'moves' must be an object "
                       "of 1-%d VM: node", REST_VSWITCH_PORTS_MAX);
    }
    if (ok) {
        r.moves = xcalloc(json_object_size(moves), sizeof *r.moves);
        const char *vm;
        json_t *v;
        json_object_foreach(moves, vm, v) {
            const char *node = json_is_string(v) ? json_string_value(v)
                                                 : NULL;
            if (!mn_name_valid(vm) || !node || !mn_name_valid(node)) {
                ok = rest_fail(e, 422, "invalid_name", "each move must be "
                               "VM: node, both 1-63 characters of "
                               "[A-Za-z0-9._:-]");
                break;
            }
            struct rest_vswitch_move *m = &r.moves[r.n++];
            snprintf(m->vm, sizeof m->vm, "%s", vm);
            snprintf(m->node, sizeof m->node, "%s", node);
        }
    }
    json_decref(obj);
    if (!ok) {
        rest_vswitch_migrate_req_destroy(&r);
        return false;
    }
    *req = r;
    return true;
}

bool
rest_parse_abort(const char *body, size_t len, struct rest_abort_req *req,
                 struct rest_error *e)
{
    static const char *const keys[] = {"reason", NULL};
    struct rest_abort_req r = {{0}};
    if (!len) {
        *req = r;
        return true;
    }
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    bool bad = false;
    bool ok = rest_check_keys(obj, keys, e);
    const char *reason = ok ? rest_get_string(obj, "reason", false, &bad, e)
                            : NULL;
    if (ok && bad) {
        ok = false;
    } else if (ok && reason) {
        size_t n = strlen(reason);
        bool printable = n > 0 && n <= CORE_ABORT_REASON_MAX;
        for (size_t i = 0; printable && i < n; i++) {
            printable = reason[i] >= 0x20 && reason[i] < 0x7f;
        }
        if (!printable) {
            ok = rest_fail(e, 422, "invalid_value", "'reason' must be 1-%d "
                           "printable ASCII characters",
                           CORE_ABORT_REASON_MAX);
        } else {
            memcpy(r.reason, reason, n + 1);
        }
    }
    json_decref(obj);
    if (ok) {
        *req = r;
    }
    return ok;
}

bool
rest_parse_switchover(const char *body, size_t len, struct rest_error *e)
{
    static const char *const keys[] = {NULL};
    if (!len) {
        return true;
    }
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    bool ok = rest_check_keys(obj, keys, e);
    json_decref(obj);
    return ok;
}

bool
rest_parse_map_query(const char *query, const char *header_node,
                     struct rest_map_query *q, struct rest_error *e)
{
    struct rest_map_query r = {0};
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    bool ok = true;
    if (query && *query) {
        if (evhttp_parse_query_str(query, &params)) {
            return rest_fail(e, 400, "bad_query", "malformed query string");
        }
    }
    bool seen_node = false;
    struct evkeyval *kv;
    TAILQ_FOREACH(kv, &params, next) {
        if (!strcmp(kv->key, "since")) {
            if (r.has_since
                || !addr_parse_u64(kv->value, 0, UINT64_MAX, &r.since)) {
                ok = rest_fail(e, 400, "bad_query",
                               "'since' must be one unsigned integer");
                break;
            }
            r.has_since = true;
        } else if (!strcmp(kv->key, "node")) {
            if (seen_node || !mn_name_valid(kv->value)) {
                ok = rest_fail(e, 400, "bad_query",
                               "'node' must be one node id");
                break;
            }
            snprintf(r.node, sizeof r.node, "%s", kv->value);
            seen_node = true;
        } else {
            ok = rest_fail(e, 400, "bad_query",
                           "unknown query parameter '%.40s'", kv->key);
            break;
        }
    }
    evhttp_clear_headers(&params);
    if (ok && header_node) {
        if (!mn_name_valid(header_node)) {
            ok = rest_fail(e, 400, "bad_query",
                           "X-Mignet-Node must be a node id");
        } else if (seen_node && strcmp(header_node, r.node)) {
            ok = rest_fail(e, 400, "bad_query",
                           "X-Mignet-Node and node= name different nodes");
        } else {
            snprintf(r.node, sizeof r.node, "%s", header_node);
        }
    }
    if (ok) {
        *q = r;
    }
    return ok;
}

/* One filter's value: a name given once. */
static bool
rest_query_name(const struct evkeyval *kv, char *out, size_t n,
                struct rest_error *e)
{
    if (out[0] || !mn_name_valid(kv->value) || strlen(kv->value) >= n) {
        return rest_fail(e, 400, "bad_query", "'%s' must be one id",
                         kv->key);
    }
    snprintf(out, n, "%s", kv->value);
    return true;
}

static bool
rest_query_phase(const char *v, struct rest_list_query *r,
                 struct rest_error *e)
{
    for (int p = 0; !r->has_phase && p < MIG_N_PHASES; p++) {
        if (!strcmp(v, mig_phase_name(p))) {
            r->has_phase = true;
            r->phase = p;
            return true;
        }
    }
    return rest_fail(e, 400, "bad_query",
                     "'phase' must be one migration phase");
}

/* A marker: what a "next" can be (ids, numbers, "due.id"). */
static bool
rest_marker_valid(const char *v)
{
    size_t n = strlen(v);
    return n >= 1 && n <= REST_MARKER_MAX && mn_name_valid(v);
}

bool
rest_parse_list_query(const char *query, unsigned allowed,
                      struct rest_list_query *q, struct rest_error *e)
{
    struct rest_list_query r = {0};
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    if (query && *query && evhttp_parse_query_str(query, &params)) {
        return rest_fail(e, 400, "bad_query", "malformed query string");
    }
    bool ok = true, seen_limit = false;
    struct evkeyval *kv;
    TAILQ_FOREACH(kv, &params, next) {
        uint64_t n;
        if (!strcmp(kv->key, "limit")) {
            if (seen_limit
                || !addr_parse_u64(kv->value, 1, REST_LIMIT_MAX, &n)) {
                ok = rest_fail(e, 400, "bad_query",
                               "'limit' must be one integer, 1 to %u",
                               REST_LIMIT_MAX);
                break;
            }
            seen_limit = true;
            r.limit = (uint32_t) n;
        } else if (!strcmp(kv->key, "marker")) {
            if (r.marker[0] || !rest_marker_valid(kv->value)) {
                ok = rest_fail(e, 400, "bad_query",
                               "'marker' must be one 'next' of a page");
                break;
            }
            snprintf(r.marker, sizeof r.marker, "%s", kv->value);
        } else if ((allowed & REST_Q_NODE) && !strcmp(kv->key, "node")) {
            if (!(ok = rest_query_name(kv, r.node, sizeof r.node, e))) {
                break;
            }
        } else if ((allowed & REST_Q_VM) && !strcmp(kv->key, "vm")) {
            if (!(ok = rest_query_name(kv, r.vm, sizeof r.vm, e))) {
                break;
            }
        } else if ((allowed & REST_Q_PHASE) && !strcmp(kv->key, "phase")) {
            if (!(ok = rest_query_phase(kv->value, &r, e))) {
                break;
            }
        } else {
            ok = rest_fail(e, 400, "bad_query",
                           "unknown query parameter '%.40s'", kv->key);
            break;
        }
    }
    evhttp_clear_headers(&params);
    if (ok) {
        *q = r;
    }
    return ok;
}

bool
rest_parse_no_query(const char *query, struct rest_error *e)
{
    struct rest_list_query q;
    /* No filter allowed; limit and marker are not either. */
    if (!rest_parse_list_query(query, 0, &q, e)) {
        return false;
    }
    if (q.limit || q.marker[0]) {
        return rest_fail(e, 400, "bad_query",
                         "unknown query parameter '%s'",
                         q.limit ? "limit" : "marker");
    }
    return true;
}

/* ---- Node lifecycle ---- */

bool
rest_parse_empty_body(const char *body, size_t len, struct rest_error *e)
{
    /* The same as a switch-over's body: none, or an empty object. */
    return rest_parse_switchover(body, len, e);
}

void
rest_drain_req_destroy(struct rest_drain_req *r)
{
    if (r) {
        free(r->targets);
        r->targets = NULL;
        r->n_targets = 0;
    }
}

bool
rest_parse_drain(const char *body, size_t len, struct rest_drain_req *req,
                 struct rest_error *e)
{
    req->targets = NULL;
    req->n_targets = 0;
    if (!body || !len) {
        return true;
    }
    json_t *obj = rest_parse_object(body, len, e);
    if (!obj) {
        return false;
    }
    static const char *const allowed[] = {"targets", NULL};
    bool ok = rest_check_keys(obj, allowed, e);
    json_t *tg = json_object_get(obj, "targets");
    if (ok && tg && !json_is_null(tg) && !json_is_object(tg)) {
        ok = rest_fail(e, 422, "invalid_type",
                       "'targets' must be an object of VM id -> node id");
    }
    size_t n = ok && json_is_object(tg) ? json_object_size(tg) : 0;
    struct rest_drain_target *v = n ? calloc(n, sizeof *v) : NULL;
    if (n && !v) {
        ok = rest_fail(e, 413, "too_large", "too many targets");
    }
    size_t k = 0;
    const char *vm;
    json_t *node;
    if (ok && n) {
        json_object_foreach(tg, vm, node) {
            if (!mn_name_valid(vm)) {
                ok = rest_fail(e, 422, "invalid_name",
                               "'targets' keys must be VM ids");
                break;
            }
            if (!json_is_string(node)
                || !mn_name_valid(json_string_value(node))) {
                ok = rest_fail(e, 422, "invalid_name",
                               "the target of '%s' must be a node id", vm);
                break;
            }
            snprintf(v[k].vm, sizeof v[k].vm, "%s", vm);
            snprintf(v[k].node, sizeof v[k].node, "%s",
                     json_string_value(node));
            k++;
        }
    }
    json_decref(obj);
    if (!ok) {
        free(v);
        return false;
    }
    req->targets = v;
    req->n_targets = k;
    return true;
}

bool
rest_parse_node_delete_query(const char *query, bool *force,
                             struct rest_error *e)
{
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    bool ok = true, seen = false, f = false;
    if (query && *query && evhttp_parse_query_str(query, &params)) {
        return rest_fail(e, 400, "bad_query", "malformed query string");
    }
    struct evkeyval *kv;
    TAILQ_FOREACH(kv, &params, next) {
        if (strcmp(kv->key, "force")) {
            ok = rest_fail(e, 400, "bad_query",
                           "unknown query parameter '%.40s'", kv->key);
            break;
        }
        if (seen
            || (strcmp(kv->value, "true") && strcmp(kv->value, "false"))) {
            ok = rest_fail(e, 400, "bad_query",
                           "'force' must be given once, true or false");
            break;
        }
        seen = true;
        f = !strcmp(kv->value, "true");
    }
    evhttp_clear_headers(&params);
    if (ok) {
        *force = f;
    }
    return ok;
}
