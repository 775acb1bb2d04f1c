/* test_rest_parse.c: the northbound API's request validation, table-driven.
 *
 * Every malformed or invalid route, header, body and query maps to one
 * status and error code; every valid one yields exactly the fields it
 * named.  Failing parses must leave their output untouched, so a handler
 * can never act on half a request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/rest_parse.h"

/* ---- Routes ---- */

struct route_case {
    enum rest_method method;
    const char *path;
    int status; /* 0 = matches */
    const char *code;
    enum rest_route_id id;
    const char *name;
    uint64_t migration;
};

static const struct route_case route_cases[] = {
    {REST_GET, "/v1/nodes", 0, NULL, REST_R_NODES, "", 0},
    {REST_POST, "/v1/nodes", 0, NULL, REST_R_NODES, "", 0},
    {REST_POST, "/v1/nodes/", 0, NULL, REST_R_NODES, "", 0},
    {REST_PATCH, "/v1/nodes", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/nodes/n1", 0, NULL, REST_R_NODE, "n1", 0},
    {REST_DELETE, "/v1/nodes/n-1.a:b_c", 0, NULL, REST_R_NODE,
     "n-1.a:b_c", 0},
    {REST_POST, "/v1/nodes/n1", 405, "method_not_allowed", 0, NULL, 0},
    {REST_PATCH, "/v1/nodes/n1", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/nodes/bad%20name", 404, "unknown_node", 0, NULL, 0},
    {REST_GET,
     "/v1/nodes/0123456789012345678901234567890123456789012345678901234"
     "567890123",
     404, "unknown_node", 0, NULL, 0},
    {REST_GET, "/v1/nodes/n1/extra", 404, "not_found", 0, NULL, 0},
    {REST_POST, "/v1/nodes/n1/cordon", 0, NULL, REST_R_NODE_CORDON, "n1",
     0},
    {REST_POST, "/v1/nodes/n1/uncordon/", 0, NULL, REST_R_NODE_UNCORDON,
     "n1", 0},
    {REST_POST, "/v1/nodes/n1/drain", 0, NULL, REST_R_NODE_DRAIN, "n1", 0},
    {REST_POST, "/v1/nodes/n1/token", 0, NULL, REST_R_NODE_TOKEN, "n1", 0},
    {REST_GET, "/v1/nodes/n1/token", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/nodes/n1/drain", 405, "method_not_allowed", 0, NULL, 0},
    {REST_POST, "/v1/nodes/n1/drainx", 404, "not_found", 0, NULL, 0},
    {REST_POST, "/v1/nodes/n1/cordon/x", 404, "not_found", 0, NULL, 0},
    {REST_POST, "/v1/vms/vm1/cordon", 404, "not_found", 0, NULL, 0},
    {REST_GET, "/v1/vms", 0, NULL, REST_R_VMS, "", 0},
    {REST_DELETE, "/v1/vms", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/vms/vm1", 0, NULL, REST_R_VM, "vm1", 0},
    {REST_PATCH, "/v1/vms/vm1", 0, NULL, REST_R_VM, "vm1", 0},
    {REST_DELETE, "/v1/vms/vm1/", 0, NULL, REST_R_VM, "vm1", 0},
    {REST_POST, "/v1/vms/vm1", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/vms/a%2Fb", 404, "unknown_vm", 0, NULL, 0},
    {REST_POST, "/v1/vms/vm1/migrate", 0, NULL, REST_R_VM_MIGRATE, "vm1", 0},
    {REST_GET, "/v1/vms/vm1/binding", 0, NULL, REST_R_VM_BINDING, "vm1", 0},
    {REST_PUT, "/v1/vms/vm1/binding/", 0, NULL, REST_R_VM_BINDING, "vm1", 0},
    {REST_DELETE, "/v1/vms/vm1/binding", 0, NULL, REST_R_VM_BINDING, "vm1",
     0},
    {REST_POST, "/v1/vms/vm1/binding", 405, "method_not_allowed", 0, NULL,
     0},
    {REST_GET, "/v1/vms/vm1/binding/x", 404, "not_found", 0, NULL, 0},
    {REST_GET, "/v1/bindings", 0, NULL, REST_R_BINDINGS, "", 0},
    {REST_PUT, "/v1/bindings", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/vms/vm1/migrate", 405, "method_not_allowed", 0, NULL, 0},
    {REST_POST, "/v1/vms/vm1/move", 404, "not_found", 0, NULL, 0},
    {REST_GET, "/v1/migrations/12", 0, NULL, REST_R_MIGRATION, "", 12},
    {REST_GET, "/v1/migrations/18446744073709551615", 0, NULL,
     REST_R_MIGRATION, "", UINT64_MAX},
    {REST_GET, "/v1/migrations/18446744073709551616", 404,
     "unknown_migration", 0, NULL, 0},
    {REST_GET, "/v1/migrations/0", 404, "unknown_migration", 0, NULL, 0},
    {REST_GET, "/v1/migrations/-1", 404, "unknown_migration", 0, NULL, 0},
    {REST_GET, "/v1/migrations/abc", 404, "unknown_migration", 0, NULL, 0},
    {REST_GET, "/v1/migrations/", 0, NULL, REST_R_MIGRATIONS, "", 0},
    {REST_GET, "/v1/migrations", 0, NULL, REST_R_MIGRATIONS, "", 0},
    {REST_POST, "/v1/migrations", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/migrations//", 404, "unknown_migration", 0, NULL, 0},
    {REST_GET, "/v1/migrations/1/x", 404, "not_found", 0, NULL, 0},
    {REST_DELETE, "/v1/migrations/1", 405, "method_not_allowed", 0, NULL,
     0},
    {REST_GET, "/v1/tasks", 0, NULL, REST_R_TASKS, "", 0},
    {REST_POST, "/v1/tasks", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/map", 0, NULL, REST_R_MAP, "", 0},
    {REST_GET, "/v1/fabric", 0, NULL, REST_R_FABRIC, "", 0},
    {REST_GET, "/v1/fabric/", 0, NULL, REST_R_FABRIC, "", 0},
    {REST_POST, "/v1/fabric", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/fabricx", 404, "not_found", 0, NULL, 0},
    {REST_GET, "/healthz", 0, NULL, REST_R_HEALTHZ, "", 0},
    {REST_GET, "/metrics", 0, NULL, REST_R_METRICS, "", 0},
    {REST_OTHER, "/metrics", 405, "method_not_allowed", 0, NULL, 0},
    {REST_GET, "/v1/nodesx", 404, "not_found", 0, NULL, 0},
    {REST_GET, "/v1/mapx", 404, "not_found", 0, NULL, 0},
    {REST_GET, "/v2/nodes", 404, "not_found", 0, NULL, 0},
    {REST_GET, "/", 404, "not_found", 0, NULL, 0},
    {REST_GET, "", 404, "not_found", 0, NULL, 0},
    {REST_GET, NULL, 404, "not_found", 0, NULL, 0},
};

static void
test_routes(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof route_cases / sizeof route_cases[0];
         i++) {
        const struct route_case *c = &route_cases[i];
        struct rest_route r;
        struct rest_error e = {0};
        bool ok = rest_route_match(c->method, c->path, &r, &e);
        if (ok != (c->status == 0)) {
            fail_msg("%s: matched=%d, want status %d (%s %s)",
                     c->path ? c->path : "NULL", ok, c->status,
                     e.code ? e.code : "-", e.message);
        }
        if (ok) {
            assert_int_equal(r.id, c->id);
            assert_int_equal(r.method, c->method);
            assert_string_equal(r.name, c->name);
            assert_true(r.migration == c->migration);
        } else {
            assert_int_equal(e.status, c->status);
            assert_string_equal(e.code, c->code);
            assert_true(e.message[0] != '\0');
            /* A 405 names the methods the path has (the Allow header),
             * the method asked for not among them. */
            if (c->status == 405) {
                assert_non_null(e.allow);
                assert_null(strstr(e.allow, c->method == REST_GET ? "GET"
                                            : c->method == REST_POST
                                                ? "POST"
                                            : c->method == REST_PATCH
                                                ? "PATCH"
                                            : c->method == REST_PUT ? "PUT"
                                                                    : "DELETE"));
            } else {
                assert_null(e.allow);
            }
        }
    }
}

static void
test_body_checks(void **state)
{
    (void) state;
    struct rest_error e = {0};
    static const char *const good[] = {
        "application/json", "application/json; charset=utf-8",
        "APPLICATION/JSON", " application/json",
    };
    static const char *const bad[] = {
        NULL, "", "text/plain", "application/jsonx", "application/x-json",
        "json",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_true(rest_check_content_type(good[i], &e));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.status = 0;
        assert_false(rest_check_content_type(bad[i], &e));
        assert_int_equal(e.status, 415);
        assert_string_equal(e.code, "unsupported_media_type");
    }
    assert_true(rest_check_body_size(65536, 65536, &e));
    assert_false(rest_check_body_size(65537, 65536, &e));
    assert_int_equal(e.status, 413);
    assert_string_equal(e.code, "too_large");

    struct rest_route r;
    assert_true(rest_route_match(REST_PATCH, "/v1/vms/a", &r, &e));
    assert_true(rest_route_has_body(&r));
    assert_true(rest_route_match(REST_DELETE, "/v1/vms/a", &r, &e));
    assert_false(rest_route_has_body(&r));
}

/* ---- Bodies: every failure case, one status and code each ---- */

struct body_case {
    const char *body;
    int status;
    const char *code;
};

typedef bool body_parser(const char *, size_t, struct rest_error *);

static void
run_fail_cases(const char *what, body_parser *parse,
               const struct body_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct rest_error e = {0};
        const char *b = cases[i].body;
        if (parse(b, b ? strlen(b) : 0, &e)) {
            fail_msg("%s: accepted %s", what, b ? b : "NULL");
        }
        if (e.status != cases[i].status || strcmp(e.code, cases[i].code)) {
            fail_msg("%s: %s -> %d %s (%s), want %d %s", what,
                     b ? b : "NULL", e.status, e.code, e.message,
                     cases[i].status, cases[i].code);
        }
        assert_true(e.message[0] != '\0');
    }
}

/* Malformed JSON is the same 400 for every body. */
#define MALFORMED_CASES                                                      \
    {NULL, 400, "bad_json"}, {"", 400, "bad_json"},                          \
    {"{", 400, "bad_json"}, {"[]", 400, "bad_json"},                         \
    {"null", 400, "bad_json"}, {"\"x\"", 400, "bad_json"},                   \
    {"{} {}", 400, "bad_json"}, {"{\"a\":1,\"a\":2}", 400, "bad_json"},      \
    {"{\"id\":\"a\\u0000b\"}", 400, "bad_json"},                             \
    {"{\"x\":123456789012345678901234567890}", 400, "bad_json"}

static struct rest_node_req node_out;
static bool
parse_node(const char *b, size_t n, struct rest_error *e)
{
    return rest_parse_node(b, n, &node_out, e);
}

static void
test_node_body(void **state)
{
    (void) state;
    static const struct body_case bad[] = {
        MALFORMED_CASES,
        {"{}", 422, "missing_field"},
        {"{\"address\":\"198.18.0.1\"}", 422, "missing_field"},
        {"{\"id\":null,\"address\":\"198.18.0.1\"}", 422, "missing_field"},
        {"{\"id\":\"n1\"}", 422, "missing_field"},
        {"{\"id\":5,\"address\":\"198.18.0.1\"}", 422, "invalid_type"},
        {"{\"id\":\"bad name\",\"address\":\"198.18.0.1\"}", 422,
         "invalid_name"},
        {"{\"id\":\"\",\"address\":\"198.18.0.1\"}", 422, "invalid_name"},
        {"{\"id\":\"n1\",\"address\":\"nowhere\"}", 422, "invalid_address"},
        {"{\"id\":\"n1\",\"address\":\"198.18.0.256\"}", 422,
         "invalid_address"},
        {"{\"id\":\"n1\",\"address\":7}", 422, "invalid_type"},
        {"{\"id\":\"n1\",\"address\":\"198.18.0.1\",\"refresh_ms\":0}", 422,
         "invalid_value"},
        {"{\"id\":\"n1\",\"address\":\"198.18.0.1\",\"refresh_ms\":-5}", 422,
         "invalid_value"},
        {"{\"id\":\"n1\",\"address\":\"198.18.0.1\","
         "\"refresh_ms\":3600001}",
         422, "invalid_value"},
        {"{\"id\":\"n1\",\"address\":\"198.18.0.1\",\"refresh_ms\":1.5}",
         422, "invalid_type"},
        {"{\"id\":\"n1\",\"address\":\"198.18.0.1\",\"refresh_ms\":\"9\"}",
         422, "invalid_type"},
        {"{\"id\":\"n1\",\"address\":\"198.18.0.1\",\"colour\":1}", 422,
         "unknown_field"},
    };
    run_fail_cases("node", parse_node, bad, sizeof bad / sizeof bad[0]);

    struct rest_error e = {0};
    const char *ok = "{\"id\":\"n1\",\"address\":\"198.18.0.1\","
                     "\"refresh_ms\":1500}";
    assert_true(rest_parse_node(ok, strlen(ok), &node_out, &e));
    assert_string_equal(node_out.id, "n1");
    assert_string_equal(node_out.address, "198.18.0.1");
    assert_int_equal(node_out.refresh_ms, 1500);

    ok = "{\"id\":\"n2\",\"address\":\"2001:db8::2\",\"refresh_ms\":null}";
    assert_true(rest_parse_node(ok, strlen(ok), &node_out, &e));
    assert_string_equal(node_out.address, "2001:db8::2");
    assert_int_equal(node_out.refresh_ms, REST_REFRESH_DEFAULT_MS);

    /* A failed parse leaves the output as it was. */
    struct rest_node_req before = node_out;
    const char *bad_one = "{\"id\":\"n3\",\"address\":\"x\"}";
    assert_false(rest_parse_node(bad_one, strlen(bad_one), &node_out, &e));
    assert_memory_equal(&before, &node_out, sizeof before);
}

static struct rest_vm_req vm_out;
static bool
parse_vm(const char *b, size_t n, struct rest_error *e)
{
    return rest_parse_vm_create(b, n, &vm_out, e);
}

#define VM_PREFIX "{\"id\":\"vm1\",\"node\":\"n1\","
#define VM_OK_ADDR "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\""

static void
test_vm_body(void **state)
{
    (void) state;
    static const struct body_case bad[] = {
        MALFORMED_CASES,
        {"{\"node\":\"n1\"," VM_OK_ADDR "}", 422, "missing_field"},
        {"{\"id\":\"vm1\"," VM_OK_ADDR "}", 422, "missing_field"},
        {VM_PREFIX "\"ip\":\"198.18.1.1\"}", 422, "missing_field"},
        {VM_PREFIX "\"mac\":\"02:00:00:00:00\",\"ip\":\"198.18.1.1\"}", 422,
         "invalid_mac"},
        {VM_PREFIX "\"mac\":\"02-00-00-00-00-01\",\"ip\":\"198.18.1.1\"}",
         422, "invalid_mac"},
        {VM_PREFIX "\"mac\":\"01:00:5e:00:00:01\",\"ip\":\"198.18.1.1\"}",
         422, "invalid_mac"},
        {VM_PREFIX "\"mac\":\"ff:ff:ff:ff:ff:ff\",\"ip\":\"198.18.1.1\"}",
         422, "invalid_mac"},
        {VM_PREFIX "\"mac\":\"00:00:00:00:00:00\",\"ip\":\"198.18.1.1\"}",
         422, "invalid_mac"},
        {VM_PREFIX "\"mac\":\"02:00:00:00:00:0g\",\"ip\":\"198.18.1.1\"}",
         422, "invalid_mac"},
        {VM_PREFIX "\"mac\":2,\"ip\":\"198.18.1.1\"}", 422, "invalid_type"},
        {VM_PREFIX "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1\"}", 422,
         "invalid_ip"},
        {VM_PREFIX "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.01.1\"}",
         422, "invalid_ip"},
        {VM_PREFIX "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"0.0.0.0\"}", 422,
         "invalid_ip"},
        {VM_PREFIX "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"224.0.0.1\"}",
         422, "invalid_ip"},
        {VM_PREFIX "\"mac\":\"02:00:00:00:00:01\","
                   "\"ip\":\"255.255.255.255\"}",
         422, "invalid_ip"},
        {VM_PREFIX VM_OK_ADDR ",\"vni\":16777216}", 422, "invalid_value"},
        {VM_PREFIX VM_OK_ADDR ",\"vni\":-1}", 422, "invalid_value"},
        {VM_PREFIX VM_OK_ADDR ",\"vlan\":4095}", 422, "invalid_value"},
        {VM_PREFIX VM_OK_ADDR ",\"vlan\":true}", 422, "invalid_type"},
        {VM_PREFIX VM_OK_ADDR ",\"port\":4294967041}", 422, "invalid_value"},
        {VM_PREFIX VM_OK_ADDR ",\"binding\":7}", 422, "immutable_field"},
        {VM_PREFIX VM_OK_ADDR ",\"epoch\":3}", 422, "unknown_field"},
        {"{\"id\":\"vm 1\",\"node\":\"n1\"," VM_OK_ADDR "}", 422,
         "invalid_name"},
        {"{\"id\":\"vm1\",\"node\":[\"n1\"]," VM_OK_ADDR "}", 422,
         "invalid_type"},
    };
    run_fail_cases("vm", parse_vm, bad, sizeof bad / sizeof bad[0]);

    struct rest_error e = {0};
    const char *ok = VM_PREFIX "\"mac\":\"0A:bb:cc:dd:ee:ff\","
                               "\"ip\":\"198.19.2.3\",\"vni\":16777215,"
                               "\"port\":4294967040}";
    assert_true(rest_parse_vm_create(ok, strlen(ok), &vm_out, &e));
    assert_string_equal(vm_out.id, "vm1");
    assert_string_equal(vm_out.node, "n1");
    static const uint8_t mac[6] = {0x0a, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    assert_memory_equal(vm_out.config.mac, mac, 6);
    assert_int_equal(vm_out.config.ip, (198u << 24) | (19u << 16)
                                           | (2u << 8) | 3u);
    assert_int_equal(vm_out.config.vni, 16777215);
    assert_int_equal(vm_out.config.vlan, 0);
    assert_int_equal(vm_out.config.port, 4294967040u);
    assert_int_equal(vm_out.config.binding, 0);
    /* Without an IP: DHCP will give it one. */
    ok = VM_PREFIX "\"mac\":\"02:00:00:00:00:01\"}";
    assert_true(rest_parse_vm_create(ok, strlen(ok), &vm_out, &e));
    assert_int_equal(vm_out.config.ip, 0);

    ok = VM_PREFIX VM_OK_ADDR ",\"vlan\":4094}";
    assert_true(rest_parse_vm_create(ok, strlen(ok), &vm_out, &e));
    assert_int_equal(vm_out.config.vlan, 4094);
    assert_int_equal(vm_out.config.vni, 0);
}

static struct mn_config patch_cfg;
static bool
parse_patch(const char *b, size_t n, struct rest_error *e)
{
    return rest_parse_vm_patch(b, n, &patch_cfg, NULL, e);
}

static void
test_patch_body(void **state)
{
    (void) state;
    const struct mn_config orig = {
        .mac = {2, 0, 0, 0, 0, 9}, .vlan = 7, .ip = 0xc6120109u, .vni = 9,
        .port = 3, .binding = 4,
    };
    static const struct body_case bad[] = {
        MALFORMED_CASES,
        {"{}", 422, "missing_field"},
        {"{\"ip\":null}", 422, "missing_field"},
        {"{\"node\":\"n2\"}", 422, "immutable_field"},
        {"{\"id\":\"vm2\",\"ip\":\"198.18.1.2\"}", 422, "immutable_field"},
        {"{\"vni\":5,\"mac\":\"bad\"}", 422, "invalid_mac"},
        {"{\"vni\":5,\"vlan\":\"x\"}", 422, "invalid_type"},
        {"{\"ip\":\"198.18.1.2\",\"speed\":1}", 422, "unknown_field"},
        {"{\"binding\":5}", 422, "immutable_field"},
    };
    patch_cfg = orig;
    run_fail_cases("patch", parse_patch, bad, sizeof bad / sizeof bad[0]);
    /* Nothing of a refused patch was applied. */
    assert_memory_equal(&patch_cfg, &orig, sizeof orig);

    struct rest_error e = {0};
    const char *ok = "{\"ip\":\"198.18.1.2\",\"vlan\":0}";
    assert_true(rest_parse_vm_patch(ok, strlen(ok), &patch_cfg, NULL, &e));
    struct mn_config want = orig;
    want.ip = 0xc6120102u;
    want.vlan = 0;
    assert_memory_equal(&patch_cfg, &want, sizeof want);
}

static struct rest_binding_req binding_out;
static bool
parse_binding(const char *b, size_t n, struct rest_error *e)
{
    return rest_parse_binding(b, n, &binding_out, e);
}

/* PUT /v1/vms/{id}/binding: each member checked as the binding table
 * checks it, with the table's error names. */
static void
test_binding_body(void **state)
{
    (void) state;
    static const struct body_case bad[] = {
        MALFORMED_CASES,
        {"{}", 422, "missing_field"},
        {"{\"ip\":null}", 422, "missing_field"},
        {"{\"ip\":\"198.18.1\"}", 422, "invalid_ip"},
        {"{\"ip\":7}", 422, "invalid_type"},
        {"{\"ip\":\"198.18.1.2\",\"type\":\"other\"}", 422, "invalid_type"},
        {"{\"ip\":\"198.18.1.2\",\"lease\":\"forever\"}", 422,
         "invalid_lease"},
        {"{\"ip\":\"198.18.1.2\",\"lease\":-5}", 422, "invalid_value"},
        {"{\"ip\":\"198.18.1.2\",\"lease\":1.5}", 422, "invalid_type"},
        {"{\"ip\":\"198.18.1.2\",\"vlan\":4095}", 422, "invalid_vlan"},
        {"{\"ip\":\"198.18.1.2\",\"vlan\":\"3\"}", 422, "invalid_type"},
        {"{\"ip\":\"198.18.1.2\",\"port\":4294967041}", 422,
         "invalid_port"},
        {"{\"ip\":\"198.18.1.2\",\"mac\":\"02:00:00:00:00\"}", 422,
         "invalid_mac"},
        {"{\"ip\":\"198.18.1.2\",\"node\":\"a b\"}", 422, "invalid_node"},
        {"{\"ip\":\"198.18.1.2\",\"port_status\":\"UP\"}", 422,
         "invalid_port_status"},
        {"{\"ip\":\"198.18.1.2\",\"port_security\":\"\"}", 422,
         "invalid_port_security"},
        {"{\"ip\":\"198.18.1.2\",\"server\":\"x\"}", 422, "invalid_server"},
        {"{\"ip\":\"198.18.1.2\",\"vm\":\"vm1\"}", 422, "immutable_field"},
        {"{\"ip\":\"198.18.1.2\",\"origin\":\"agent\"}", 422,
         "immutable_field"},
        {"{\"ip\":\"198.18.1.2\",\"expires\":5}", 422, "immutable_field"},
        {"{\"ip\":\"198.18.1.2\",\"colour\":1}", 422, "unknown_field"},
    };
    memset(&binding_out, 0x5a, sizeof binding_out);
    struct rest_binding_req before = binding_out;
    run_fail_cases("binding", parse_binding, bad, sizeof bad / sizeof bad[0]);
    assert_memory_equal(&binding_out, &before, sizeof before);

    struct rest_error e = {0};
    const char *ok = "{\"ip\":\"198.18.1.2\"}";
    assert_true(rest_parse_binding(ok, strlen(ok), &binding_out, &e));
    assert_int_equal(binding_out.b.ip, 0xc6120102u);
    assert_int_equal(binding_out.b.type, BINDING_STATIC);
    assert_int_equal(binding_out.b.origin, BINDING_FROM_MANAGER);
    assert_int_equal(binding_out.b.port_status, BINDING_PORT_UP);
    assert_int_equal(binding_out.b.port_security, BINDING_UNTRUST);
    assert_false(binding_out.has_vlan);
    assert_string_equal(binding_out.b.vm, "");
    ok = "{\"ip\":\"198.18.1.3\",\"type\":\"dynamic\",\"lease\":\"infinite\","
         "\"server\":\"198.18.1.254\",\"port_status\":\"down\","
         "\"port_security\":\"trust\",\"port\":7,\"vlan\":0,"
         "\"mac\":\"02:00:00:00:00:09\",\"node\":\"n2\"}";
    assert_true(rest_parse_binding(ok, strlen(ok), &binding_out, &e));
    assert_int_equal(binding_out.b.type, BINDING_DYNAMIC);
    assert_int_equal(binding_out.b.lease_s, UINT32_MAX);
    assert_int_equal(binding_out.b.server, 0xc61201feu);
    assert_int_equal(binding_out.b.port_status, BINDING_PORT_DOWN);
    assert_int_equal(binding_out.b.port_security, BINDING_TRUST);
    assert_int_equal(binding_out.b.port, 7);
    assert_true(binding_out.has_vlan);
    assert_int_equal(binding_out.b.mac[5], 9);
    assert_string_equal(binding_out.b.node, "n2");
    ok = "{\"ip\":\"198.18.1.3\",\"type\":\"dynamic\",\"lease\":60}";
    assert_true(rest_parse_binding(ok, strlen(ok), &binding_out, &e));
    assert_int_equal(binding_out.b.lease_s, 60);
    /* Binding errors' statuses. */
    assert_int_equal(rest_binding_status(BINDING_E_IP_CONFLICT), 409);
    assert_int_equal(rest_binding_status(BINDING_E_MAC_CONFLICT), 409);
    assert_int_equal(rest_binding_status(BINDING_E_STATIC_HELD), 409);
    assert_int_equal(rest_binding_status(BINDING_E_UNKNOWN_ID), 404);
    assert_int_equal(rest_binding_status(BINDING_E_ZERO_IP), 422);
    rest_binding_error(&e, BINDING_E_MAC_CONFLICT);
    assert_string_equal(e.code, "mac_conflict");
}

static struct rest_migrate_req mig_out;
static bool
parse_mig(const char *b, size_t n, struct rest_error *e)
{
    return rest_parse_migrate(b, n, &mig_out, e);
}

static void
test_migrate_body(void **state)
{
    (void) state;
    static const struct body_case bad[] = {
        MALFORMED_CASES,
        {"{}", 422, "missing_field"},
        {"{\"from\":\"n1\"}", 422, "missing_field"},
        {"{\"to\":\"\"}", 422, "invalid_name"},
        {"{\"to\":\"n2\",\"from\":\"a/b\"}", 422, "invalid_name"},
        {"{\"to\":[\"n2\"]}", 422, "invalid_type"},
        {"{\"to\":\"n2\",\"from\":1}", 422, "invalid_type"},
        {"{\"to\":\"n2\",\"when\":\"now\"}", 422, "unknown_field"},
    };
    run_fail_cases("migrate", parse_mig, bad, sizeof bad / sizeof bad[0]);

    struct rest_error e = {0};
    const char *ok = "{\"to\":\"n2\"}";
    assert_true(rest_parse_migrate(ok, strlen(ok), &mig_out, &e));
    assert_string_equal(mig_out.to, "n2");
    assert_string_equal(mig_out.from, "");
    ok = "{\"from\":\"n1\",\"to\":\"n3\"}";
    assert_true(rest_parse_migrate(ok, strlen(ok), &mig_out, &e));
    assert_string_equal(mig_out.to, "n3");
    assert_string_equal(mig_out.from, "n1");
    ok = "{\"to\":\"n4\",\"from\":null}";
    assert_true(rest_parse_migrate(ok, strlen(ok), &mig_out, &e));
    assert_string_equal(mig_out.from, "");
    assert_false(mig_out.plan.given);
    assert_int_equal(mig_out.plan.memory_mb, 0);
}

/* The plan's inputs (docs/planner.md, "mignetd"). */
static void
test_migrate_plan_fields(void **state)
{
    (void) state;
#define TO "{\"to\":\"n2\","
    static const struct body_case bad[] = {
        {TO "\"memory_mb\":0}", 422, "invalid_value"},
        {TO "\"memory_mb\":-1}", 422, "invalid_value"},
        {TO "\"memory_mb\":16777217}", 422, "invalid_value"},
        {TO "\"memory_mb\":1.5}", 422, "invalid_type"},
        {TO "\"memory_mb\":\"64\"}", 422, "invalid_type"},
        {TO "\"memory_mb\":64,\"dirty_pages_per_s\":-0.5}", 422,
         "invalid_value"},
        {TO "\"memory_mb\":64,\"dirty_pages_per_s\":1e10}", 422,
         "invalid_value"},
        {TO "\"memory_mb\":64,\"dirty_pages_per_s\":\"5\"}", 422,
         "invalid_type"},
        {TO "\"memory_mb\":64,\"page_size\":4095}", 422,
         "invalid_value"},
        {TO "\"memory_mb\":64,\"page_size\":256}", 422, "invalid_value"},
        {TO "\"memory_mb\":64,\"page_size\":2147483648}", 422,
         "invalid_value"},
        {TO "\"memory_mb\":64,\"deadline_ms\":0}", 422, "invalid_value"},
        {TO "\"memory_mb\":64,\"deadline_ms\":86400001}", 422,
         "invalid_value"},
        {TO "\"memory_mb\":64,\"deadline_ms\":true}", 422,
         "invalid_type"},
        {TO "\"strategy\":\"ospf\"}", 422, "invalid_value"},
        {TO "\"strategy\":1}", 422, "invalid_type"},
        {TO "\"target_cpu_free\":1.01}", 422, "invalid_value"},
        {TO "\"target_cpu_free\":-0.1}", 422, "invalid_value"},
        /* Estimating needs the memory size. */
        {TO "\"deadline_ms\":5000}", 422, "missing_field"},
        {TO "\"dirty_pages_per_s\":100}", 422, "missing_field"},
        {TO "\"page_size\":4096}", 422, "missing_field"},
        {TO "\"memory_mb\":64,\"deadline\":5}", 422, "unknown_field"},
    };
#undef TO
    run_fail_cases("migrate plan", parse_mig, bad, sizeof bad / sizeof bad[0]);

    struct rest_error e = {0};
    const char *ok = "{\"to\":\"n2\",\"memory_mb\":16777216,"
                     "\"dirty_pages_per_s\":2500.5,\"page_size\":2097152,"
                     "\"deadline_ms\":86400000,\"strategy\":\"ecmp\","
                     "\"target_cpu_free\":0}";
    assert_true(rest_parse_migrate(ok, strlen(ok), &mig_out, &e));
    assert_true(mig_out.plan.given);
    assert_int_equal(mig_out.plan.memory_mb, 16777216);
    assert_true(mig_out.plan.dirty_pages_per_s == 2500.5);
    assert_int_equal(mig_out.plan.page_size, 2097152);
    assert_int_equal(mig_out.plan.deadline_ms, 86400000);
    assert_true(mig_out.plan.has_strategy);
    assert_int_equal(mig_out.plan.strategy, ROUTE_ECMP);
    assert_true(mig_out.plan.has_cpu);
    assert_true(mig_out.plan.target_cpu_free == 0);

    /* Integers are numbers too; absent fields stay zero. */
    ok = "{\"to\":\"n2\",\"memory_mb\":1,\"dirty_pages_per_s\":0}";
    assert_true(rest_parse_migrate(ok, strlen(ok), &mig_out, &e));
    assert_true(mig_out.plan.given);
    assert_int_equal(mig_out.plan.memory_mb, 1);
    assert_int_equal(mig_out.plan.deadline_ms, 0);
    assert_int_equal(mig_out.plan.page_size, 0);
    assert_false(mig_out.plan.has_strategy);
    assert_false(mig_out.plan.has_cpu);

    /* A strategy alone asks for a route, no estimate. */
    ok = "{\"to\":\"n2\",\"strategy\":\"dr\",\"memory_mb\":null}";
    assert_true(rest_parse_migrate(ok, strlen(ok), &mig_out, &e));
    assert_true(mig_out.plan.given);
    assert_int_equal(mig_out.plan.strategy, ROUTE_DR);
    assert_int_equal(mig_out.plan.memory_mb, 0);

    /* A refusal leaves the last good answer alone. */
    struct rest_migrate_req before = mig_out;
    ok = "{\"to\":\"n9\",\"memory_mb\":64,\"page_size\":3000}";
    assert_false(rest_parse_migrate(ok, strlen(ok), &mig_out, &e));
    assert_memory_equal(&before, &mig_out, sizeof before);
}

/* ---- Map query ---- */

static void
test_list_query(void **state)
{
    (void) state;
    struct rest_list_query q;
    struct rest_error e = {0};
    unsigned all = REST_Q_NODE | REST_Q_VM | REST_Q_PHASE;

    assert_true(rest_parse_list_query(NULL, 0, &q, &e));
    assert_int_equal(q.limit, 0);
    assert_string_equal(q.marker, "");
    assert_true(rest_parse_list_query("", 0, &q, &e));
    assert_true(rest_parse_list_query("limit=2&marker=vm7", 0, &q, &e));
    assert_int_equal(q.limit, 2);
    assert_string_equal(q.marker, "vm7");
    assert_true(rest_parse_list_query("limit=10000&marker=5.12", 0, &q, &e));
    assert_int_equal(q.limit, 10000);
    assert_string_equal(q.marker, "5.12");
    assert_true(rest_parse_list_query("node=n1&vm=vm2&phase=cleaned", all,
                                      &q, &e));
    assert_string_equal(q.node, "n1");
    assert_string_equal(q.vm, "vm2");
    assert_true(q.has_phase);
    assert_int_equal(q.phase, MIG_CLEANED);
    assert_true(rest_parse_no_query(NULL, &e));
    assert_true(rest_parse_no_query("", &e));

    static const struct {
        const char *query;
        unsigned allowed;
    } bad[] = {
        {"limit=0", 0}, {"limit=10001", 0}, {"limit=x", 0}, {"limit=", 0},
        {"limit=1&limit=2", 0}, {"marker=", 0}, {"marker=a%20b", 0},
        {"marker=a&marker=b", 0}, {"node=n1", 0}, {"node=n1", REST_Q_VM},
        {"vm=vm1", REST_Q_NODE}, {"phase=cleaned", REST_Q_NODE | REST_Q_VM},
        {"phase=done", REST_Q_PHASE}, {"phase=cleaned&phase=aborted",
                                       REST_Q_PHASE},
        {"node=bad%20name", REST_Q_NODE}, {"node=n1&node=n2", REST_Q_NODE},
        {"colour=red", REST_Q_NODE | REST_Q_VM | REST_Q_PHASE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q.limit = 4242;
        e.status = 0;
        if (rest_parse_list_query(bad[i].query, bad[i].allowed, &q, &e)) {
            fail_msg("accepted list query '%s'", bad[i].query);
        }
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "bad_query");
        assert_int_equal(q.limit, 4242);
    }
    static const char *const bad_none[] = {"x=1", "limit=1", "marker=a",
                                           "force=true"};
    for (size_t i = 0; i < sizeof bad_none / sizeof bad_none[0]; i++) {
        e.status = 0;
        assert_false(rest_parse_no_query(bad_none[i], &e));
        assert_int_equal(e.status, 400);
    }
}

static void
test_map_query(void **state)
{
    (void) state;
    struct rest_map_query q;
    struct rest_error e = {0};

    assert_true(rest_parse_map_query(NULL, NULL, &q, &e));
    assert_false(q.has_since);
    assert_string_equal(q.node, "");
    assert_true(rest_parse_map_query("since=5", NULL, &q, &e));
    assert_true(q.has_since);
    assert_true(q.since == 5);
    assert_true(rest_parse_map_query("since=18446744073709551615&node=n1",
                                     NULL, &q, &e));
    assert_true(q.since == UINT64_MAX);
    assert_string_equal(q.node, "n1");
    assert_true(rest_parse_map_query("node=n1", "n1", &q, &e));
    assert_string_equal(q.node, "n1");
    assert_true(rest_parse_map_query("since=0", "n7", &q, &e));
    assert_string_equal(q.node, "n7");

    static const struct {
        const char *query, *header;
    } bad[] = {
        {"since=abc", NULL}, {"since=", NULL}, {"since=-1", NULL},
        {"since=18446744073709551616", NULL}, {"since=1&since=2", NULL},
        {"node=bad%20name", NULL}, {"node=n1&node=n2", NULL},
        {"colour=red", NULL}, {"node=n1", "n2"}, {NULL, "bad name"},
        {"since=1", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q.since = 4242;
        e.status = 0;
        if (rest_parse_map_query(bad[i].query, bad[i].header, &q, &e)) {
            fail_msg("accepted query '%s' header '%s'",
                     bad[i].query ? bad[i].query : "NULL",
                     bad[i].header ? bad[i].header : "NULL");
        }
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "bad_query");
        assert_true(q.since == 4242);
    }
}

/* ---- Node lifecycle ---- */

static void
test_node_lifecycle_bodies(void **state)
{
    (void) state;
    struct rest_error e = {0};
    assert_true(rest_parse_empty_body(NULL, 0, &e));
    assert_true(rest_parse_empty_body("{}", 2, &e));
    assert_false(rest_parse_empty_body("{\"x\":1}", 7, &e));
    assert_string_equal(e.code, "unknown_field");
    assert_false(rest_parse_empty_body("[]", 2, &e));
    assert_int_equal(e.status, 400);

    struct rest_drain_req r;
    assert_true(rest_parse_drain(NULL, 0, &r, &e));
    assert_int_equal(r.n_targets, 0);
    assert_true(rest_parse_drain("{}", 2, &r, &e));
    assert_int_equal(r.n_targets, 0);
    const char *two = "{\"targets\": {\"vm1\": \"n3\", \"vm-2\": \"n4\"}}";
    assert_true(rest_parse_drain(two, strlen(two), &r, &e));
    assert_int_equal(r.n_targets, 2);
    assert_string_equal(r.targets[0].vm, "vm1");
    assert_string_equal(r.targets[0].node, "n3");
    assert_string_equal(r.targets[1].vm, "vm-2");
    assert_string_equal(r.targets[1].node, "n4");
    rest_drain_req_destroy(&r);
    assert_null(r.targets);

    static const struct {
        const char *body, *code;
    } bad[] = {
        {"{\"targets\": [\"n1\"]}", "invalid_type"},
        {"{\"targets\": {\"vm1\": 3}}", "invalid_name"},
        {"{\"targets\": {\"vm1\": \"bad name\"}}", "invalid_name"},
        {"{\"targets\": {\"bad name\": \"n1\"}}", "invalid_name"},
        {"{\"targets\": {\"vm1\": \"n1\", \"vm1\": \"n2\"}}", "bad_json"},
        {"{\"target\": {}}", "unknown_field"},
        {"{\"targets\": {", "bad_json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&r, 0x5a, sizeof r);
        if (rest_parse_drain(bad[i].body, strlen(bad[i].body), &r, &e)) {
            fail_msg("accepted drain body %s", bad[i].body);
        }
        assert_string_equal(e.code, bad[i].code);
        assert_null(r.targets);
        assert_int_equal(r.n_targets, 0);
    }

    bool force = true;
    assert_true(rest_parse_node_delete_query(NULL, &force, &e));
    assert_false(force);
    assert_true(rest_parse_node_delete_query("force=true", &force, &e));
    assert_true(force);
    assert_true(rest_parse_node_delete_query("force=false", &force, &e));
    assert_false(force);
    static const char *const bad_q[] = {
        "force=yes", "force=", "force=true&force=true", "forced=true",
        "force=1",
    };
    for (size_t i = 0; i < sizeof bad_q / sizeof bad_q[0]; i++) {
        force = true;
        if (rest_parse_node_delete_query(bad_q[i], &force, &e)) {
            fail_msg("accepted query %s", bad_q[i]);
        }
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "bad_query");
        assert_true(force);
    }
}

/* ---- Core errors ---- */

static void
test_core_errors(void **state)
{
    (void) state;
    static const struct {
        enum core_err err;
        int status;
    } map[] = {
        {CORE_E_UNKNOWN_VM, 404}, {CORE_E_UNKNOWN_NODE, 404},
        {CORE_E_UNKNOWN_MIGRATION, 404}, {CORE_E_DUPLICATE_VM, 409},
        {CORE_E_DUPLICATE_NODE, 409}, {CORE_E_SAME_NODE, 409},
        {CORE_E_CORDONED, 409}, {CORE_E_NO_TARGET, 409},
        {CORE_E_WRONG_SOURCE, 409},
        {CORE_E_IN_PROGRESS, 409}, {CORE_E_STALE_EPOCH, 409},
        {CORE_E_NODE_BUSY, 409}, {CORE_E_BAD_NAME, 422},
        {CORE_E_BAD_VALUE, 422}, {CORE_E_BAD_SEQ, 422},
        {CORE_E_BAD_VERSION, 422}, {CORE_E_NOMEM, 500}, {CORE_E_STORE, 500},
        {CORE_E_UNKNOWN_BINDING, 404}, {CORE_E_BINDING, 422},
        {CORE_E_BINDING_MISMATCH, 422}, {CORE_E_ADDRESS_BOUND, 409},
        {CORE_E_ABORTED, 409}, {CORE_E_ACTIVATED, 409},
        {CORE_E_NOT_PREPARING, 409}, {CORE_E_DUPLICATE_ADDRESS, 409},
    };
    assert_int_equal(sizeof map / sizeof map[0], CORE_N_ERRORS - 1);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        struct rest_error e = {0};
        rest_core_error(&e, map[i].err);
        assert_int_equal(e.status, map[i].status);
        assert_string_equal(e.code, core_errname(map[i].err));
        assert_string_equal(e.message, core_strerror(map[i].err));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_body_checks),
        cmocka_unit_test(test_node_body),
        cmocka_unit_test(test_vm_body),
        cmocka_unit_test(test_patch_body),
        cmocka_unit_test(test_migrate_body),
        cmocka_unit_test(test_binding_body),
        cmocka_unit_test(test_migrate_plan_fields),
        cmocka_unit_test(test_list_query),
        cmocka_unit_test(test_map_query),
        cmocka_unit_test(test_node_lifecycle_bodies),
        cmocka_unit_test(test_core_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
