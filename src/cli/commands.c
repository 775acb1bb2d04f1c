/* commands.c: the commands of `mignet` and the HTTP request each one makes
 * (issue 3, section 5; bodies exactly as the northbound API takes them).
 *
 * Builders are pure: they turn parsed arguments into a method, an escaped
 * path and a JSON body.  They refuse exactly what the controller would
 * refuse, with the same bounds (mignet/limits.h, mn_*_valid() of
 * mignet/model.h, binding_field_set() of mignet/binding.h, the planner's
 * strategy names), so a command line the CLI accepts is one the API
 * accepts and the other way round. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/cli.h"
#include "lib/addr.h"
#include "lib/http_client.h"
#include "lib/ofconn.h"
#include "mignet/binding.h"
#include "mignet/limits.h"
#include "mignet/model.h"
#include "mignet/planner.h"

/* A switch's controller target and port numbers, as the API takes them
 * (REST_TARGET_MAX, REST_VSWITCH_PORT_MAX of controller/rest_parse.h;
 * test_cli checks they agree). */
#define CLI_TARGET_MAX VNET_TARGET_MAX
#define CLI_VSWITCH_PORT_MAX MN_PORT_MAX

void
cli_request_init(struct cli_request *r)
{
    r->method = "GET";
    strbuf_init(&r->path);
    r->body = NULL;
}

void
cli_request_destroy(struct cli_request *r)
{
    if (r) {
        strbuf_destroy(&r->path);
        free(r->body);
        r->body = NULL;
    }
}

static bool
usage(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
usage(char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
    return false;
}

/* Sets the path to 'prefix' followed by the escaped 'segment' (if any) and
 * 'suffix' (if any). */
static bool
set_path(struct cli_request *r, const char *prefix, const char *segment,
         const char *suffix, char *err, size_t errlen)
{
    strbuf_clear(&r->path);
    if (strbuf_puts(&r->path, prefix)
        || (segment && http_escape(&r->path, segment))
        || (suffix && strbuf_puts(&r->path, suffix))) {
        return usage(err, errlen, "out of memory");
    }
    return true;
}

/* Takes ownership of 'body' (a JSON object) and stores its text. */
static bool
set_body(struct cli_request *r, json_t *body, char *err, size_t errlen)
{
    if (body) {
        r->body = json_dumps(body, JSON_COMPACT);
        json_decref(body);
    }
    return r->body ? true : usage(err, errlen, "out of memory");
}

/* Adds string option 'name' as member 'key' when it was given. */
static void
put_string(json_t *obj, const struct cli_parsed *p, const char *name,
           const char *key)
{
    const char *v = cli_opt_value(p, name);
    if (v) {
        json_object_set_new(obj, key, json_string(v));
    }
}

/* The positional id: a node or VM name as the API takes it. */
static bool
check_id(const struct cli_parsed *p, const char *what, char *err,
         size_t errlen)
{
    if (!mn_name_valid(p->pos[0])) {
        return usage(err, errlen, "%s '%s' must be 1-%d characters of "
                     "[A-Za-z0-9._:-]", what, p->pos[0], MN_NAME_MAX);
    }
    return true;
}

/* Adds name option 'name' (a node or VM id) as member 'key' when given. */
static bool
put_name(json_t *obj, const struct cli_parsed *p, const char *name,
         const char *key, char *err, size_t errlen)
{
    const char *v = cli_opt_value(p, name);
    if (v && !mn_name_valid(v)) {
        return usage(err, errlen, "--%s must be 1-%d characters of "
                     "[A-Za-z0-9._:-], not '%s'", name, MN_NAME_MAX, v);
    }
    put_string(obj, p, name, key);
    return true;
}

/* Adds --mac and --ip when given, checked as the API checks them. */
static bool
put_addresses(json_t *obj, const struct cli_parsed *p, char *err,
              size_t errlen)
{
    const char *mac = cli_opt_value(p, "mac");
    const char *ip = cli_opt_value(p, "ip");
    uint8_t m[6];
    uint32_t a;
    if (mac && (!addr_parse_mac(mac, m) || !mn_mac_valid(m))) {
        return usage(err, errlen, "--mac must be a unicast MAC like "
                     "02:00:00:00:00:01, not '%s'", mac);
    }
    if (ip && (!addr_parse_ipv4(ip, &a) || !mn_ip_valid(a))) {
        return usage(err, errlen, "--ip must be an IPv4 host address like "
                     "198.18.1.1, not '%s'", ip);
    }
    put_string(obj, p, "mac", "mac");
    put_string(obj, p, "ip", "ip");
    return true;
}

/* Adds number option 'name' as member 'key' when it was given; false with
 * 'err' set when it is not a number in [min, max]. */
static bool
put_number(json_t *obj, const struct cli_parsed *p, const char *name,
           const char *key, uint64_t min, uint64_t max, char *err,
           size_t errlen)
{
    const char *v = cli_opt_value(p, name);
    uint64_t n;
    if (!v) {
        return true;
    }
    if (!addr_parse_u64(v, min, max, &n)) {
        return usage(err, errlen, "--%s must be a number from %llu to %llu",
                     name, (unsigned long long) min,
                     (unsigned long long) max);
    }
    json_object_set_new(obj, key, json_integer((json_int_t) n));
    return true;
}

/* Adds number option 'name' (integer or decimal) in [0, max] as member
 * 'key' when it was given. */
static bool
put_real(json_t *obj, const struct cli_parsed *p, const char *name,
         const char *key, double max, char *err, size_t errlen)
{
    const char *v = cli_opt_value(p, name);
    if (!v) {
        return true;
    }
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(d) || d < 0 || d > max
        || v[0] == '-' || v[0] == '+' || v[0] == ' ') {
        return usage(err, errlen, "--%s must be a number from 0 to %g, not "
                     "'%s'", name, max, v);
    }
    /* Whole numbers go as JSON integers. */
    json_object_set_new(obj, key, d == floor(d) && d < 9007199254740992.0
                                      ? json_integer((json_int_t) d)
                                      : json_real(d));
    return true;
}

static bool
build_node_add(const struct cli_parsed *p, struct cli_request *r,
               char *err, size_t errlen)
{
    json_t *body = json_object();
    r->method = "POST";
    json_object_set_new(body, "id", json_string(p->pos[0]));
    const char *addr = cli_opt_value(p, "address");
    unsigned char tmp[16];
    if (addr && (strlen(addr) > MN_ADDRESS_MAX
                 || (inet_pton(AF_INET, addr, tmp) != 1
                     && inet_pton(AF_INET6, addr, tmp) != 1))) {
        json_decref(body);
        return usage(err, errlen, "--address must be an IPv4 or IPv6 "
                     "address, not '%s'", addr);
    }
    put_string(body, p, "address", "address");
    if (!check_id(p, "node id", err, errlen)
        || !put_number(body, p, "refresh-ms", "refresh_ms",
                       MN_REFRESH_MIN_MS, MN_REFRESH_MAX_MS, err, errlen)) {
        json_decref(body);
        return false;
    }
    return set_path(r, "/v1/nodes", NULL, NULL, err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_node_list(const struct cli_parsed *p, struct cli_request *r,
                char *err, size_t errlen)
{
    return set_path(r, "/v1/nodes", NULL, NULL, err, errlen);
}

static bool
build_node_show(const struct cli_parsed *p, struct cli_request *r,
                char *err, size_t errlen)
{
    return set_path(r, "/v1/nodes/", p->pos[0], NULL, err, errlen);
}

/* POST /v1/nodes/ID/token: a new token (--token-out: client.c). */
static bool
build_node_token(const struct cli_parsed *p, struct cli_request *r,
                 char *err, size_t errlen)
{
    r->method = "POST";
    return set_path(r, "/v1/nodes/", p->pos[0], "/token", err, errlen)
           && set_body(r, json_object(), err, errlen);
}

/* POST /v1/nodes/ID/cordon and /uncordon (an empty object body). */
static bool
build_node_cordon(const struct cli_parsed *p, struct cli_request *r,
                  char *err, size_t errlen)
{
    r->method = "POST";
    return set_path(r, "/v1/nodes/", p->pos[0],
                    strcmp(p->cmd->name, "cordon") ? "/uncordon" : "/cordon",
                    err, errlen)
           && set_body(r, json_object(), err, errlen);
}

/* POST /v1/nodes/ID/drain; --targets vm1=n3,vm2=n4 becomes
 * {"targets": {"vm1": "n3", "vm2": "n4"}}. */
static bool
build_node_drain(const struct cli_parsed *p, struct cli_request *r,
                 char *err, size_t errlen)
{
    json_t *body = json_object();
    const char *list = cli_opt_value(p, "targets");
    if (list) {
        json_t *tg = json_object();
        json_object_set_new(body, "targets", tg);
        for (const char *s = list; *s;) {
            size_t len = strcspn(s, ",");
            const char *eq = memchr(s, '=', len);
            char vm[128], node[128];
            if (!eq || eq == s || eq + 1 == s + len
                || (size_t) (eq - s) >= sizeof vm
                || (size_t) (s + len - eq - 1) >= sizeof node) {
                json_decref(body);
                return usage(err, errlen, "--targets must be VM=NODE[,"
                             "VM=NODE...], not '%s'", list);
            }
            snprintf(vm, sizeof vm, "%.*s", (int) (eq - s), s);
            snprintf(node, sizeof node, "%.*s", (int) (s + len - eq - 1),
                     eq + 1);
            if (!mn_name_valid(vm) || !mn_name_valid(node)) {
                json_decref(body);
                return usage(err, errlen, "--targets: '%s' and '%s' must be "
                             "VM and node ids (1-%d characters of "
                             "[A-Za-z0-9._:-])", vm, node, MN_NAME_MAX);
            }
            json_object_set_new(tg, vm, json_string(node));
            s += len + (s[len] == ',');
        }
    }
    r->method = "POST";
    return set_path(r, "/v1/nodes/", p->pos[0], "/drain", err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_node_delete(const struct cli_parsed *p, struct cli_request *r,
                  char *err, size_t errlen)
{
    r->method = "DELETE";
    return set_path(r, "/v1/nodes/", p->pos[0],
                    cli_opt_value(p, "force") ? "?force=true" : NULL, err,
                    errlen);
}

/* The configuration options of create and update, in body order. */
static bool
put_config(json_t *body, const struct cli_parsed *p, char *err,
           size_t errlen)
{
    if (cli_opt_value(p, "allow-duplicate")) {
        json_object_set_new(body, "allow_duplicate", json_true());
    }
    return put_addresses(body, p, err, errlen)
           && put_number(body, p, "vni", "vni", 0, MN_VNI_MAX, err, errlen)
           && put_number(body, p, "vlan", "vlan", 0, MN_VLAN_MAX, err,
                         errlen)
           && put_number(body, p, "port", "port", 0, MN_PORT_MAX, err,
                         errlen);
}

static bool
build_vm_create(const struct cli_parsed *p, struct cli_request *r,
                char *err, size_t errlen)
{
    json_t *body = json_object();
    r->method = "POST";
    json_object_set_new(body, "id", json_string(p->pos[0]));
    if (!check_id(p, "VM id", err, errlen)
        || !put_config(body, p, err, errlen)
        || !put_name(body, p, "node", "node", err, errlen)
        || !put_name(body, p, "iface-id", "iface_id", err, errlen)) {
        json_decref(body);
        return false;
    }
    return set_path(r, "/v1/vms", NULL, NULL, err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_vm_list(const struct cli_parsed *p, struct cli_request *r, char *err,
              size_t errlen)
{
    return set_path(r, "/v1/vms", NULL, NULL, err, errlen);
}

static bool
build_vm_show(const struct cli_parsed *p, struct cli_request *r, char *err,
              size_t errlen)
{
    return set_path(r, "/v1/vms/", p->pos[0], NULL, err, errlen);
}

static bool
build_vm_update(const struct cli_parsed *p, struct cli_request *r,
                char *err, size_t errlen)
{
    json_t *body = json_object();
    r->method = "PATCH";
    if (!put_config(body, p, err, errlen)) {
        json_decref(body);
        return false;
    }
    if (json_object_size(body)
        == (size_t) !!cli_opt_value(p, "allow-duplicate")) {
        json_decref(body);
        return usage(err, errlen,
                     "nothing to update: give --mac, --ip, --vni, --vlan "
                     "or --port");
    }
    return set_path(r, "/v1/vms/", p->pos[0], NULL, err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_vm_delete(const struct cli_parsed *p, struct cli_request *r,
                char *err, size_t errlen)
{
    r->method = "DELETE";
    return set_path(r, "/v1/vms/", p->pos[0], NULL, err, errlen);
}

/* What is wrong with --switchover and --prepare-deadline-ms (checked as
 * the API checks "switchover" and "prepare_deadline_ms"), or NULL. */
static const char *
switchover_problem(const struct cli_parsed *p)
{
    const char *sw = cli_opt_value(p, "switchover");
    enum mig_switchover mode = MIG_SW_NOW;
    if (sw && !mig_switchover_from_name(sw, &mode)) {
        return "--switchover must be now, manual, rarp or lossless";
    }
    if (cli_opt_value(p, "prepare-deadline-ms") && mode == MIG_SW_NOW) {
        return "--prepare-deadline-ms needs --switchover manual, rarp or "
               "lossless";
    }
    return NULL;
}

static bool
build_vm_migrate(const struct cli_parsed *p, struct cli_request *r,
                 char *err, size_t errlen)
{
    json_t *body = json_object();
    r->method = "POST";
    if (!check_id(p, "VM id", err, errlen)
        || !put_name(body, p, "to", "to", err, errlen)
        || !put_name(body, p, "from", "from", err, errlen)
        || !put_number(body, p, "memory-mb", "memory_mb", 1,
                       MN_MEMORY_MB_MAX, err, errlen)
        || !put_real(body, p, "dirty-pages-per-s", "dirty_pages_per_s",
                     MN_DIRTY_RATE_MAX, err, errlen)
        || !put_number(body, p, "page-size", "page_size", MN_PAGE_SIZE_MIN,
                       MN_PAGE_SIZE_MAX, err, errlen)
        || !put_number(body, p, "working-set-mb", "working_set_mb", 1,
                       MN_MEMORY_MB_MAX, err, errlen)
        || !put_number(body, p, "deadline-ms", "deadline_ms", 1,
                       MN_DEADLINE_MS_MAX, err, errlen)
        || !put_real(body, p, "target-cpu-free", "target_cpu_free",
                     MN_CPU_FREE_MAX, err, errlen)
        || !put_number(body, p, "prepare-deadline-ms", "prepare_deadline_ms",
                       MN_PREPARE_DEADLINE_MIN_MS, MN_PREPARE_DEADLINE_MAX_MS,
                       err, errlen)) {
        json_decref(body);
        return false;
    }
    const json_t *page = json_object_get(body, "page_size");
    const char *strategy = cli_opt_value(p, "strategy");
    const char *sw_bad = switchover_problem(p);
    enum route_strategy rs;
    const char *bad = NULL;
    if (page && (json_integer_value(page) & (json_integer_value(page) - 1))) {
        bad = "--page-size must be a power of two";
    } else if (strategy && !route_strategy_from_name(strategy, &rs)) {
        bad = "--strategy must be single, ecmp or dr";
    } else if (sw_bad) {
        bad = sw_bad;
    } else if (!cli_opt_value(p, "memory-mb")
               && (cli_opt_value(p, "dirty-pages-per-s")
                   || cli_opt_value(p, "page-size")
                   || cli_opt_value(p, "working-set-mb")
                   || cli_opt_value(p, "deadline-ms"))) {
        bad = "--memory-mb is needed with --dirty-pages-per-s, --page-size, "
              "--working-set-mb or --deadline-ms";
    }
    if (bad) {
        json_decref(body);
        return usage(err, errlen, "%s", bad);
    }
    put_string(body, p, "strategy", "strategy");
    put_string(body, p, "switchover", "switchover");
    return set_path(r, "/v1/vms/", p->pos[0], "/migrate", err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_migration_show(const struct cli_parsed *p, struct cli_request *r,
                     char *err, size_t errlen)
{
    uint64_t id;
    if (!addr_parse_u64(p->pos[0], 1, UINT64_MAX, &id)) {
        return usage(err, errlen, "migration ID must be a positive number, "
                                  "not '%s'",
                     p->pos[0]);
    }
    return set_path(r, "/v1/migrations/", p->pos[0], NULL, err, errlen);
}

/* POST /v1/migrations/ID/ACTION, with 'body' (may be NULL). */
static bool
build_migration_action(const struct cli_parsed *p, struct cli_request *r,
                       const char *action, json_t *body, char *err,
                       size_t errlen)
{
    uint64_t id;
    if (!addr_parse_u64(p->pos[0], 1, UINT64_MAX, &id)) {
        json_decref(body);
        return usage(err, errlen, "migration ID must be a positive number, "
                                  "not '%s'",
                     p->pos[0]);
    }
    r->method = "POST";
    if (!body) {
        body = json_object();
    }
    return set_path(r, "/v1/migrations/", p->pos[0], action, err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_migration_switchover(const struct cli_parsed *p,
                           struct cli_request *r, char *err, size_t errlen)
{
    return build_migration_action(p, r, "/switchover", NULL, err, errlen);
}

static bool
build_migration_abort(const struct cli_parsed *p, struct cli_request *r,
                      char *err, size_t errlen)
{
    const char *reason = cli_opt_value(p, "reason");
    size_t n = reason ? strlen(reason) : 0;
    bool printable = n > 0 && n <= MN_ABORT_REASON_MAX;
    for (size_t i = 0; printable && i < n; i++) {
        printable = reason[i] >= 0x20 && reason[i] < 0x7f;
    }
    if (reason && !printable) {
        return usage(err, errlen, "--reason must be 1-%d printable ASCII "
                     "characters", MN_ABORT_REASON_MAX);
    }
    json_t *body = json_object();
    put_string(body, p, "reason", "reason");
    return build_migration_action(p, r, "/abort", body, err, errlen);
}

static bool
build_fabric_show(const struct cli_parsed *p, struct cli_request *r,
                  char *err, size_t errlen)
{
    return set_path(r, "/v1/fabric", NULL, NULL, err, errlen);
}

static bool
build_tasks(const struct cli_parsed *p, struct cli_request *r, char *err,
            size_t errlen)
{
    return set_path(r, "/v1/tasks", NULL, NULL, err, errlen);
}

static bool
build_map(const struct cli_parsed *p, struct cli_request *r, char *err,
          size_t errlen)
{
    const char *since = cli_opt_value(p, "since");
    uint64_t v;
    if (since && !addr_parse_u64(since, 0, UINT64_MAX, &v)) {
        return usage(err, errlen, "--since must be a map version (a number"
                                  " from 0), not '%s'",
                     since);
    }
    return since ? set_path(r, "/v1/map?since=", since, NULL, err, errlen)
                 : set_path(r, "/v1/map", NULL, NULL, err, errlen);
}

/* POST /v1/transfers: the pre-copy engine's report (the file, a JSON
 * object as `mignet precopy send --json` writes it) between two nodes.
 * Its "timeline" (TCP_INFO samples, nothing the controller learns from)
 * is left out: a long transfer's would exceed the API's body limit. */
static bool
build_transfer_report(const struct cli_parsed *p, struct cli_request *r,
                      char *err, size_t errlen)
{
    const char *from = cli_opt_value(p, "from");
    const char *to = cli_opt_value(p, "to");
    json_error_t jerr;
    json_t *report = p->input ? json_loadb(p->input, p->input_len,
                                           JSON_REJECT_DUPLICATES, &jerr)
                              : NULL;
    if (!report) {
        return usage(err, errlen, "%s is not JSON: %s", p->pos[0],
                     p->input ? jerr.text : "not read");
    }
    if (!json_is_object(report)) {
        json_decref(report);
        return usage(err, errlen, "%s is not a JSON object (the engine's "
                     "report)", p->pos[0]);
    }
    json_object_del(report, "timeline");
    json_t *body = json_object();
    if (!body || json_object_set_new(body, "report", report)) {
        json_decref(body);
        return usage(err, errlen, "out of memory");
    }
    if (!put_name(body, p, "from", "from", err, errlen)
        || !put_name(body, p, "to", "to", err, errlen)) {
        json_decref(body);
        return false;
    }
    if (!strcmp(from, to)) {
        json_decref(body);
        return usage(err, errlen, "--from and --to are the same node");
    }
    r->method = "POST";
    return set_path(r, "/v1/transfers", NULL, NULL, err, errlen)
           && set_body(r, body, err, errlen);
}

/* GET /v1/transfers or /v1/transfers/pairs, with --node. */
static bool
build_transfer_get(const char *path, const struct cli_parsed *p,
                   struct cli_request *r, char *err, size_t errlen)
{
    const char *node = cli_opt_value(p, "node");
    if (node && !mn_name_valid(node)) {
        return usage(err, errlen, "--node must be 1-%d characters of "
                     "[A-Za-z0-9._:-], not '%s'", MN_NAME_MAX, node);
    }
    return node ? set_path(r, path, node, NULL, err, errlen)
                : set_path(r, path, NULL, NULL, err, errlen);
}

static bool
build_transfer_list(const struct cli_parsed *p, struct cli_request *r,
                    char *err, size_t errlen)
{
    return build_transfer_get(cli_opt_value(p, "node")
                                  ? "/v1/transfers?node="
                                  : "/v1/transfers",
                              p, r, err, errlen);
}

static bool
build_transfer_pairs(const struct cli_parsed *p, struct cli_request *r,
                     char *err, size_t errlen)
{
    return build_transfer_get(cli_opt_value(p, "node")
                                  ? "/v1/transfers/pairs?node="
                                  : "/v1/transfers/pairs",
                              p, r, err, errlen);
}

/* PUT /v1/vms/ID/binding: the VM manager's static (or leased) binding.
 * Each value is read by binding_field_set(), as the controller reads it;
 * "lease" is a number of seconds or "infinite", "vlan" and "port" go as
 * JSON integers. */
static bool
build_binding_set(const struct cli_parsed *p, struct cli_request *r,
                  char *err, size_t errlen)
{
    static const struct {
        const char *opt, *key;
        enum binding_field field;
        bool is_int;
    } fields[] = {
        {"ip", "ip", BINDING_F_IP, false},
        {"type", "type", BINDING_F_TYPE, false},
        {"lease", "lease", BINDING_F_LEASE, false},
        {"server", "server", BINDING_F_SERVER, false},
        {"port-status", "port_status", BINDING_F_PORT_STATUS, false},
        {"port-security", "port_security", BINDING_F_PORT_SECURITY, false},
        {"mac", "mac", BINDING_F_MAC, false},
        {"node", "node", BINDING_F_NODE, false},
        {"vlan", "vlan", BINDING_F_VLAN, true},
        {"port", "port", BINDING_F_PORT, true},
    };
    struct binding scratch = {0};
    if (!check_id(p, "VM id", err, errlen)) {
        return false;
    }
    json_t *body = json_object();
    r->method = "PUT";
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = cli_opt_value(p, fields[i].opt);
        if (!v) {
            continue;
        }
        uint64_t n;
        bool digits = addr_parse_u64(v, 0, UINT32_MAX, &n);
        enum binding_err be = binding_field_set(&scratch, fields[i].field, v);
        if (be || (fields[i].is_int && !digits)) {
            json_decref(body);
            return usage(err, errlen, "--%s '%s': %s", fields[i].opt, v,
                         be ? binding_strerror(be) : "not a number");
        }
        json_object_set_new(body, fields[i].key,
                            digits && (fields[i].is_int
                                       || fields[i].field == BINDING_F_LEASE)
                                ? json_integer((json_int_t) n)
                                : json_string(v));
    }
    return set_path(r, "/v1/vms/", p->pos[0], "/binding", err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_binding_show(const struct cli_parsed *p, struct cli_request *r,
                   char *err, size_t errlen)
{
    return set_path(r, "/v1/vms/", p->pos[0], "/binding", err, errlen);
}

static bool
build_binding_delete(const struct cli_parsed *p, struct cli_request *r,
                     char *err, size_t errlen)
{
    r->method = "DELETE";
    return set_path(r, "/v1/vms/", p->pos[0], "/binding", err, errlen);
}

static bool
build_binding_list(const struct cli_parsed *p, struct cli_request *r,
                   char *err, size_t errlen)
{
    return set_path(r, "/v1/bindings", NULL, NULL, err, errlen);
}

/* ---- Tenant virtual switches (docs/vswitch.md) ---- */

/* Splits "LEFT=RIGHT" ('word') into two names (node, VM or port ids of
 * at most MN_NAME_MAX characters); false if it is not that shape. */
static bool
split_pair(const char *word, char left[MN_NAME_MAX + 1],
           char right[MN_NAME_MAX + 1])
{
    const char *eq = strchr(word, '=');
    size_t l = eq ? (size_t) (eq - word) : 0;
    if (!eq || !l || l > MN_NAME_MAX || !eq[1]
        || strlen(eq + 1) > MN_NAME_MAX) {
        return false;
    }
    snprintf(left, MN_NAME_MAX + 1, "%.*s", (int) l, word);
    snprintf(right, MN_NAME_MAX + 1, "%s", eq + 1);
    return true;
}

/* A datapath id: decimal, or hexadecimal after "0x"; 1 to INT64_MAX (a
 * JSON integer). */
static bool
parse_dpid(const char *s, uint64_t *out)
{
    if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
        uint64_t v = 0;
        size_t n = 0;
        for (s += 2; *s; s++, n++) {
            int d = *s >= '0' && *s <= '9'   ? *s - '0'
                    : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                    : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                             : -1;
            if (d < 0 || v >> 60) {
                return false;
            }
            v = v << 4 | (uint64_t) d;
        }
        *out = v;
        return n && v >= 1 && v <= INT64_MAX;
    }
    return addr_parse_u64(s, 1, INT64_MAX, out);
}

/* POST /v1/vswitches: {"id", "tenant", "vni", "controller",
 * "datapath_id"?, "ports": {VM: number, ...}}.  Each --port is VM=NUM;
 * a VM or a number given twice is refused (the API's JSON could not say
 * it). */
static bool
build_vswitch_create(const struct cli_parsed *p, struct cli_request *r,
                     char *err, size_t errlen)
{
    if (!check_id(p, "virtual switch id", err, errlen)) {
        return false;
    }
    json_t *body = json_object();
    json_object_set_new(body, "id", json_string(p->pos[0]));
    if (!put_name(body, p, "tenant", "tenant", err, errlen)
        || !put_number(body, p, "vni", "vni", 1, MN_VNI_MAX, err, errlen)) {
        json_decref(body);
        return false;
    }
    const char *ctl = cli_opt_value(p, "controller");
    struct sockaddr_storage ss;
    int sslen;
    char why[128] = "";
    if (strlen(ctl) > CLI_TARGET_MAX
        || ofconn_parse_target(ctl, &ss, &sslen, why, sizeof why)) {
        json_decref(body);
        return usage(err, errlen, "--controller must be tcp:ADDRESS:PORT or "
                     "unix:PATH (at most %d characters)%s%s",
                     CLI_TARGET_MAX, *why ? ": " : "", why);
    }
    json_object_set_new(body, "controller", json_string(ctl));
    const char *dp = cli_opt_value(p, "datapath-id");
    uint64_t dpid;
    if (dp && !parse_dpid(dp, &dpid)) {
        json_decref(body);
        return usage(err, errlen, "--datapath-id must be a number from 1 to "
                     "%lld (decimal, or hexadecimal after 0x), not '%s'",
                     (long long) INT64_MAX, dp);
    }
    if (dp) {
        json_object_set_new(body, "datapath_id",
                            json_integer((json_int_t) dpid));
    }
    json_t *ports = json_object();
    json_object_set_new(body, "ports", ports);
    const char *word;
    for (size_t i = 0; (word = cli_opt_nth(p, "port", i)); i++) {
        char vm[MN_NAME_MAX + 1], num[MN_NAME_MAX + 1];
        uint64_t n;
        const char *bad = NULL;
        if (!split_pair(word, vm, num) || !mn_name_valid(vm)
            || !addr_parse_u64(num, 1, CLI_VSWITCH_PORT_MAX, &n)) {
            bad = "must be VM=NUMBER, the number 1-4294967040";
        } else if (json_object_get(ports, vm)) {
            bad = "names a VM given before";
        }
        const char *k;
        json_t *v;
        json_object_foreach (ports, k, v) {
            if (!bad && (uint64_t) json_integer_value(v) == n) {
                bad = "has a port number given before";
            }
        }
        if (bad) {
            json_decref(body);
            return usage(err, errlen, "--port '%s' %s", word, bad);
        }
        json_object_set_new(ports, vm, json_integer((json_int_t) n));
    }
    r->method = "POST";
    return set_path(r, "/v1/vswitches", NULL, NULL, err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_vswitch_list(const struct cli_parsed *p, struct cli_request *r,
                   char *err, size_t errlen)
{
    return set_path(r, "/v1/vswitches", NULL, NULL, err, errlen);
}

/* GET or DELETE /v1/vswitches/ID; flows: GET /v1/vswitches/ID/flows. */
static bool
build_vswitch_item(const struct cli_parsed *p, struct cli_request *r,
                   char *err, size_t errlen)
{
    const char *name = p->cmd->name;
    if (!strcmp(name, "delete")) {
        r->method = "DELETE";
    }
    return set_path(r, "/v1/vswitches/", p->pos[0],
                    !strcmp(name, "flows") ? "/flows" : NULL, err, errlen);
}

/* POST /v1/vswitches/ID/migrate: {"moves": {VM: node, ...},
 * "switchover"?, "prepare_deadline_ms"?} from `ID VM=NODE...`. */
static bool
build_vswitch_migrate(const struct cli_parsed *p, struct cli_request *r,
                      char *err, size_t errlen)
{
    if (!check_id(p, "virtual switch id", err, errlen)) {
        return false;
    }
    json_t *body = json_object();
    json_t *moves = json_object();
    json_object_set_new(body, "moves", moves);
    for (int i = 1; i < p->n_pos; i++) {
        char vm[MN_NAME_MAX + 1], node[MN_NAME_MAX + 1];
        const char *bad = NULL;
        if (!split_pair(p->pos[i], vm, node) || !mn_name_valid(vm)
            || !mn_name_valid(node)) {
            bad = "must be VM=NODE, both 1-63 characters of "
                  "[A-Za-z0-9._:-]";
        } else if (json_object_get(moves, vm)) {
            bad = "moves a VM moved before";
        }
        if (bad) {
            json_decref(body);
            return usage(err, errlen, "'%s' %s", p->pos[i], bad);
        }
        json_object_set_new(moves, vm, json_string(node));
    }
    const char *bad = switchover_problem(p);
    if (bad || !put_number(body, p, "prepare-deadline-ms",
                           "prepare_deadline_ms", MN_PREPARE_DEADLINE_MIN_MS,
                           MN_PREPARE_DEADLINE_MAX_MS, err, errlen)) {
        json_decref(body);
        return bad ? usage(err, errlen, "%s", bad) : false;
    }
    put_string(body, p, "switchover", "switchover");
    r->method = "POST";
    return set_path(r, "/v1/vswitches/", p->pos[0], "/migrate", err, errlen)
           && set_body(r, body, err, errlen);
}

#define OPT_MAC {"mac", "MAC", false, "MAC address, e.g. 02:00:00:00:00:01"}
#define OPT_IP {"ip", "IP", false, "IPv4 address, e.g. 198.18.1.1"}
#define OPT_VNI                                                              \
    {"vni", "N", false, "overlay (VXLAN) network 1-16777215; 0 = none"}
#define OPT_VLAN {"vlan", "N", false, "802.1Q VLAN id 1-4094; 0 = untagged"}
#define OPT_ALLOW_DUP                                                        \
    {"allow-duplicate", NULL, false, "accept a MAC or IP another VM has "  \
     "in the same network"}
#define OPT_TOKEN_OUT                                                        \
    {"token-out", "FILE", false, "write the node's token to FILE (0600)"}
#define OPT_PORT                                                             \
    {"port", "N", false, "OpenFlow port on the node (0 = agent chooses)"}

static const struct cli_cmd commands[] = {
    {"node", "add", "ID", 1, "register a compute node",
     "The node's agent then connects to mignetd's agent port as ID with "
     "the node's\ntoken (mignet-agent --token-file), shown only in this "
     "answer: --token-out\nFILE writes it to FILE (mode 0600) instead of "
     "printing it.",
     {{"address", "ADDR", true, "data-plane address, e.g. 198.18.0.1"},
      {"refresh-ms", "MS", false,
       "how often its agent re-reads the map, 10-3600000 "
       "(2000)"},
      OPT_TOKEN_OUT},
     CLI_RENDER_OBJECT, build_node_add},
    {"node", "token", "ID", 1, "give a node a new token (rotate)",
     "The old token stops working at once; the node's session that used it "
     "is\nclosed, and its agent must reconnect with the new one.",
     {OPT_TOKEN_OUT}, CLI_RENDER_OBJECT, build_node_token},
    {"node", "list", NULL, 0,
     "list nodes, their refresh statistics and map version",
     NULL, {{0}}, CLI_RENDER_NODES, build_node_list},
    {"node", "show", "ID", 1, "show one node", NULL, {{0}},
     CLI_RENDER_OBJECT, build_node_show},
    {"node", "cordon", "ID", 1, "stop placing VMs on a node",
     "New VMs and migrations to it are refused (node_cordoned); its VMs "
     "stay and\ncan migrate away.", {{0}}, CLI_RENDER_OBJECT,
     build_node_cordon},
    {"node", "uncordon", "ID", 1, "let a node take VMs again (ends a drain)",
     NULL, {{0}}, CLI_RENDER_OBJECT, build_node_cordon},
    {"node", "drain", "ID", 1,
     "cordon a node and give each of its VMs a target node",
     "VMs not named in --targets go to the least-loaded node that is live "
     "and not\ncordoned (fewest VMs placed or headed there; ties to the "
     "lowest id).  mignetd\nmoves nothing: the VM manager migrates each "
     "VM (drain.targets in the node).\nThe drain is complete when the "
     "node holds no VM, no task and no\nunconfirmed cleanup.",
     {{"targets", "VM=NODE,...", false, "targets for some VMs"}},
     CLI_RENDER_OBJECT, build_node_drain},
    {"node", "delete", "ID", 1, "remove a node that holds no VM",
     "Refused while VMs are placed on it (move or delete them first) or, "
     "without\n--force, while cleanups of migrations away from it are "
     "pending.  --force is for\na dead node: those cleanups are dropped "
     "(and logged by mignetd).",
     {{"force", NULL, false, "drop the node's pending cleanups"}},
     CLI_RENDER_DONE, build_node_delete},
    {"vm", "create", "ID", 1, "create a VM placed on a node",
     "--vni puts the VM on an overlay network, --vlan on a VLAN; without "
     "either it\nis on the node's untagged network.  A MAC or IP address "
     "another VM already\nhas in the same network (same VNI; without a "
     "VNI, same VLAN) is refused\n(duplicate_address) unless "
     "--allow-duplicate is given.",
     {{"mac", "MAC", true, "MAC address, e.g. 02:00:00:00:00:01"},
      {"ip", "IP", false,
       "IPv4 address, e.g. 198.18.1.1 (none: DHCP assigns one)"},
      OPT_VNI,
      OPT_VLAN,
      {"node", "NODE", true, "node the VM runs on"},
      OPT_PORT,
      {"iface-id", "ID", false, "its port's external_ids:iface-id (as "
       "libvirt or OpenStack\nset it; default: the VM's id)"},
      OPT_ALLOW_DUP},
     CLI_RENDER_OBJECT, build_vm_create},
    {"vm", "list", NULL, 0, "list VMs with their node and epoch", NULL,
     {{0}}, CLI_RENDER_VMS, build_vm_list},
    {"vm", "show", "ID", 1, "show one VM", NULL, {{0}}, CLI_RENDER_OBJECT,
     build_vm_show},
    {"vm", "update", "ID", 1,
     "change a VM's network configuration where it runs",
     "Only the options given change.  Nodes the VM left earlier keep "
     "its old\nconfiguration until their copy is deleted.  A new MAC or "
     "IP that another VM\nhas in the same network is refused unless "
     "--allow-duplicate is given.",
     {OPT_MAC, OPT_IP, OPT_VNI, OPT_VLAN, OPT_PORT, OPT_ALLOW_DUP},
     CLI_RENDER_OBJECT,
     build_vm_update},
    {"vm", "delete", "ID", 1, "delete a VM and its configuration everywhere",
     NULL, {{0}}, CLI_RENDER_DONE, build_vm_delete},
    {"vm", "migrate", "VM", 1, "migrate a VM's network state to a node",
     "Returns at once (the controller answers 202); the source keeps a "
     "relay until\nevery node has the new location or the deletion delay "
     "ends.  Follow it with\n'mignet migration show ID'.\n\n"
     "With a fabric (mignetd --fabric FILE; node ids are the topology's "
     "host names)\nthe controller plans the transfer: the route of the "
     "first path, and with\n--memory-mb the pre-copy estimate; with "
     "--deadline-ms it adds paths while the\nestimate misses the deadline.  "
     "Each path carries TCP to its own\nport of the target "
     "(tcp_port in the plan).  --plan prints the plan.\n\n"
     "--switchover says when the network follows the VM: now "
     "(default:\nprepare and switch at once, called when the VM pauses), "
     "manual (the\ndestination is prepared inactive; 'mignet migration "
     "switchover ID' switches),\nrarp (switched by the VM's first frame at "
     "the destination) or lossless\n(switched just before the hypervisor "
     "stops the VM; mignet-qemu drives it).\nA migration not switched "
     "within --prepare-deadline-ms (default 600000) is\naborted.",
     {{"to", "NODE", true, "destination node"},
      {"from", "NODE", false,
       "expected source node (refused if the VM is elsewhere)"},
      {"plan", NULL, false, "print the migration plan"},
      {"memory-mb", "MB", false, "VM memory to copy, MiB (enables the "
       "estimate)"},
      {"dirty-pages-per-s", "N", false, "pages the VM dirties per second"},
      {"page-size", "BYTES", false, "page size (default 4096)"},
      {"working-set-mb", "MB", false, "the dirtying writes fall on this "
       "much memory"},
      {"deadline-ms", "MS", false, "time budget of the transfer"},
      {"strategy", "S", false, "first path by single, ecmp or dr"},
      {"target-cpu-free", "F", false, "free CPU fraction of the target, "
       "0-1"},
      {"switchover", "MODE", false, "now, manual, rarp or lossless"},
      {"prepare-deadline-ms", "MS", false, "abort if not switched over "
       "by then"}},
     CLI_RENDER_MIGRATE, build_vm_migrate},
    {"migration", "show", "ID", 1,
     "show a migration's phase, timeline and plan",
     "The timeline lists each phase the migration reached (preparing, "
     "prepared,\nswitched, relaying, cleaning, cleaned or aborted) with "
     "its time and the time\nsince the start; --json prints the "
     "controller's answer with its *_unix_ms\nfields.",
     {{0}}, CLI_RENDER_MIGRATION, build_migration_show},
    {"migration", "switchover", "ID", 1,
     "switch a prepared migration over to its destination",
     "The gateway moves, the source relays, the destination delivers.  "
     "Call it when\nthe VM resumes at the destination (or, lossless, just "
     "before the hypervisor\nstops it, and again once it resumed).",
     {{0}}, CLI_RENDER_MIGRATION, build_migration_switchover},
    {"migration", "abort", "ID", 1,
     "abort a migration that has not switched over",
     "The destination's copy is removed; the source keeps the VM.  After "
     "the VM\nresumed at the destination it is refused (409): migrate it "
     "back instead.",
     {{"reason", "TEXT", false, "why, kept with the migration"}},
     CLI_RENDER_MIGRATION, build_migration_abort},
    {"fabric", "show", NULL, 0,
     "show fabric switches, links (load weights) and hosts",
     "Links come from the topology file and from LLDP discovery; a "
     "link's weight\n(migration traffic is routed around heavy links) "
     "is 1 + the bytes its two\nports counted in the last statistics "
     "period.", {{0}},
     CLI_RENDER_FABRIC, build_fabric_show},
    {"transfer", "report", "FILE", 1,
     "report a pre-copy transfer (mignetd learns from it)",
     "FILE is the report `mignet precopy send --json FILE` wrote.  "
     "mignetd takes the\ngoodput of its rounds (sum V_i / sum T_i but the "
     "stop-and-copy) as the\nbandwidth between the two nodes: a plan "
     "between them then uses the median of\nthe last 8 transfers instead "
     "of the links' bandwidth.  Kept in memory only\n(a restart of "
     "mignetd forgets it).  The report's timeline is not sent.",
     {{"from", "NODE", true, "the node the transfer left"},
      {"to", "NODE", true, "the node it went to"}},
     CLI_RENDER_TRANSFER, build_transfer_report},
    {"transfer", "list", NULL, 0,
     "list reported transfers and their estimate errors",
     NULL, {{"node", "NODE", false, "only those from or to NODE"}},
     CLI_RENDER_TRANSFERS, build_transfer_list},
    {"transfer", "pairs", NULL, 0,
     "show the bandwidth learned per node pair",
     NULL, {{"node", "NODE", false, "only pairs from or to NODE"}},
     CLI_RENDER_TRANSFER_PAIRS, build_transfer_pairs},
    {"binding", "list", NULL, 0,
     "list port-security bindings (static or from DHCP)", NULL, {{0}},
     CLI_RENDER_BINDINGS, build_binding_list},
    {"binding", "show", "VM", 1, "show a VM's binding (addresses, lease, port state)",
     NULL, {{0}}, CLI_RENDER_OBJECT, build_binding_show},
    {"binding", "set", "VM", 1,
     "set a VM's binding as the VM manager would",
     "The VM's node enforces it at once: only packets from the binding's "
     "MAC and\nIP leave the VM's port.  Static by default; --type "
     "dynamic with --lease S\nmakes it expire S seconds from now.  MAC, "
     "VLAN and node default to the VM's.",
     {{"ip", "IP", true, "bound IPv4 address, e.g. 198.18.1.10"},
      {"type", "TYPE", false, "static (default) or dynamic"},
      {"lease", "S", false, "lease in seconds (dynamic), or 'infinite'"},
      {"port-status", "ST", false, "up (default), down or disable"},
      {"port-security", "SEC", false,
       "untrust (default, filtered) or trust (DHCP server)"},
      {"server", "IP", false, "DHCP server that granted the lease"},
      {"mac", "MAC", false, "must be the VM's MAC"},
      {"vlan", "N", false, "must be the VM's VLAN"},
      {"port", "N", false, "OpenFlow port (0 = the VM's port)"},
      {"node", "NODE", false, "must be the VM's node"}},
     CLI_RENDER_OBJECT, build_binding_set},
    {"binding", "delete", "VM", 1, "remove a VM's binding", NULL, {{0}},
     CLI_RENDER_DONE, build_binding_delete},
    {"vswitch", "create", "ID", 1,
     "create a tenant's virtual switch over some of its VMs",
     "The tenant's OpenFlow 1.3 controller sees one switch with one port "
     "per VM:\nmignetd connects to --controller (as ovs-vsctl "
     "set-controller makes a switch\ndo) and compiles the tenant's flows "
     "onto the nodes the VMs run on.  Each\n--port VM=NUM makes VM port "
     "NUM; the VMs exist, are in no other switch and\nhave the switch's "
     "VNI (mignet vm create --vni N).  Two switches never share\na VNI.  "
     "--datapath-id is what the controller is told (default: from the "
     "VNI).",
     {{"tenant", "NAME", true, "the tenant owning the switch"},
      {"vni", "N", true, "the VNI of its VMs, 1-16777215"},
      {"controller", "TARGET", true, "tcp:ADDRESS:PORT or unix:PATH"},
      {"datapath-id", "N", false, "decimal, or hexadecimal after 0x"},
      {"port", "VM=NUM...", true, "a port: a VM and its number"}},
     CLI_RENDER_VSWITCH, build_vswitch_create},
    {"vswitch", "list", NULL, 0,
     "list virtual switches, their controllers and nodes", NULL, {{0}},
     CLI_RENDER_VSWITCHES, build_vswitch_list},
    {"vswitch", "show", "ID", 1,
     "show a virtual switch and its ports' counters", NULL, {{0}},
     CLI_RENDER_VSWITCH, build_vswitch_item},
    {"vswitch", "flows", "ID", 1,
     "show the tenant's flow table with combined counters",
     "Counters are summed over every node that holds a copy of a flow "
     "and never go\nback, also across an ensemble migration.",
     {{0}}, CLI_RENDER_VSWITCH_FLOWS, build_vswitch_item},
    {"vswitch", "delete", "ID", 1,
     "delete a virtual switch (its VMs stay)",
     "Its flows are removed from every node and its controller connection "
     "is closed.", {{0}}, CLI_RENDER_DONE, build_vswitch_item},
    {"vswitch", "migrate", "ID VM=NODE...", 2,
     "migrate VMs of the switch together (ensemble)",
     "Starts one migration per VM (each as 'mignet vm migrate' would) "
     "and answers\nwith their ids.  Until every one of them is over the "
     "switch is split: the\nnodes on both sides hold its flows, the "
     "tenant's flow changes are applied\nin two phases (never a mix of "
     "old and new rules on one packet's path),\npacket-ins are merged "
     "and counters combined.  Refused while another ensemble\nof the "
     "switch runs.  --switchover applies to each migration.",
     {{"switchover", "MODE", false, "now, manual, rarp or lossless"},
      {"prepare-deadline-ms", "MS", false, "abort if not switched over "
       "by then"}},
     CLI_RENDER_VSWITCH_MIGRATE, build_vswitch_migrate},
    {NULL, "tasks", NULL, 0,
     "list pending tasks (deletions, timeouts, leases)",
     NULL, {{0}}, CLI_RENDER_TASKS, build_tasks},
    {NULL, "map", NULL, 0, "show the gateway map (VM address -> node)",
     "Without --since the whole map; with it, the entries changed after "
     "that\nversion (removals included).",
     {{"since", "V", false, "only changes after map version V"}},
     CLI_RENDER_MAP, build_map},
};

const struct cli_cmd *
cli_commands(size_t *n)
{
    *n = sizeof commands / sizeof commands[0];
    return commands;
}
