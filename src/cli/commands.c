/* commands.c: the commands of `mignet` and the HTTP request each one makes
 * (issue 3, section 5; bodies exactly as the northbound API takes them).
 *
 * Builders are pure: they turn parsed arguments into a method, an escaped
 * path and a JSON body.  They check only what the client must (numbers are
 * numbers, something to update); the controller validates values, so there
 * is one source of truth for what is acceptable. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/addr.h"
#include "lib/http_client.h"

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

/* Adds number option 'name' as member 'key' when it was given; false with
 * 'err' set when it is not a number in [0, max]. */
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

/* Adds non-negative number option 'name' (integer or decimal) as member
 * 'key' when it was given. */
static bool
put_real(json_t *obj, const struct cli_parsed *p, const char *name,
         const char *key, char *err, size_t errlen)
{
    const char *v = cli_opt_value(p, name);
    if (!v) {
        return true;
    }
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(d) || d < 0 || v[0] == '-'
        || v[0] == '+' || v[0] == ' ') {
        return usage(err, errlen, "--%s must be a number from 0, not '%s'",
                     name, v);
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
    put_string(body, p, "address", "address");
    if (!put_number(body, p, "refresh-ms", "refresh_ms", 1, UINT32_MAX, err,
                    errlen)) {
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
    put_string(body, p, "mac", "mac");
    put_string(body, p, "ip", "ip");
    return put_number(body, p, "vni", "vni", 0, UINT32_MAX, err, errlen)
           && put_number(body, p, "vlan", "vlan", 0, UINT32_MAX, err,
                         errlen);
}

static bool
build_vm_create(const struct cli_parsed *p, struct cli_request *r,
                char *err, size_t errlen)
{
    if (!cli_opt_value(p, "vni") && !cli_opt_value(p, "vlan")) {
        return usage(err, errlen, "give --vni N or --vlan N");
    }
    json_t *body = json_object();
    r->method = "POST";
    json_object_set_new(body, "id", json_string(p->pos[0]));
    if (!put_config(body, p, err, errlen)) {
        json_decref(body);
        return false;
    }
    put_string(body, p, "node", "node");
    put_string(body, p, "iface-id", "iface_id");
    if (!put_number(body, p, "port", "port", 0, UINT32_MAX, err, errlen)) {
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
    if (!put_config(body, p, err, errlen)
        || !put_number(body, p, "port", "port", 0, UINT32_MAX, err,
                       errlen)) {
        json_decref(body);
        return false;
    }
    if (json_object_size(body) == 0) {
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

static bool
build_vm_migrate(const struct cli_parsed *p, struct cli_request *r,
                 char *err, size_t errlen)
{
    json_t *body = json_object();
    r->method = "POST";
    put_string(body, p, "to", "to");
    put_string(body, p, "from", "from");
    if (!put_number(body, p, "memory-mb", "memory_mb", 1, UINT32_MAX, err,
                    errlen)
        || !put_real(body, p, "dirty-pages-per-s", "dirty_pages_per_s", err,
                     errlen)
        || !put_number(body, p, "page-size", "page_size", 1, UINT32_MAX,
                       err, errlen)
        || !put_number(body, p, "deadline-ms", "deadline_ms", 1, UINT32_MAX,
                       err, errlen)
        || !put_real(body, p, "target-cpu-free", "target_cpu_free", err,
                     errlen)) {
        json_decref(body);
        return false;
    }
    put_string(body, p, "strategy", "strategy");
    put_string(body, p, "switchover", "switchover");
    if (!put_number(body, p, "prepare-deadline-ms", "prepare_deadline_ms",
                    1, UINT32_MAX, err, errlen)) {
        json_decref(body);
        return false;
    }
    return set_path(r, "/v1/vms/", p->pos[0], "/migrate", err, errlen)
           && set_body(r, body, err, errlen);
}

static bool
build_migration_show(const struct cli_parsed *p, struct cli_request *r,
                     char *err, size_t errlen)
{
    uint64_t id;
    if (!addr_parse_u64(p->pos[0], 1, INT64_MAX, &id)) {
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
    if (!addr_parse_u64(p->pos[0], 1, INT64_MAX, &id)) {
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
    if (since && !addr_parse_u64(since, 0, INT64_MAX, &v)) {
        return usage(err, errlen, "--since must be a map version (a number"
                                  " from 0), not '%s'",
                     since);
    }
    return since ? set_path(r, "/v1/map?since=", since, NULL, err, errlen)
                 : set_path(r, "/v1/map", NULL, NULL, err, errlen);
}

/* PUT /v1/vms/ID/binding: the VM manager's static (or leased) binding
 * (seed 003, FIG. 5).  Values go as the API takes them; "lease" is a
 * number of seconds or "infinite". */
static bool
build_binding_set(const struct cli_parsed *p, struct cli_request *r,
                  char *err, size_t errlen)
{
    json_t *body = json_object();
    r->method = "PUT";
    put_string(body, p, "ip", "ip");
    put_string(body, p, "type", "type");
    const char *lease = cli_opt_value(p, "lease");
    if (lease && !strcmp(lease, "infinite")) {
        json_object_set_new(body, "lease", json_string(lease));
    } else if (!put_number(body, p, "lease", "lease", 1, UINT32_MAX, err,
                           errlen)) {
        json_decref(body);
        return false;
    }
    put_string(body, p, "server", "server");
    put_string(body, p, "port-status", "port_status");
    put_string(body, p, "port-security", "port_security");
    put_string(body, p, "mac", "mac");
    put_string(body, p, "node", "node");
    if (!put_number(body, p, "vlan", "vlan", 0, UINT32_MAX, err, errlen)
        || !put_number(body, p, "port", "port", 0, UINT32_MAX, err,
                       errlen)) {
        json_decref(body);
        return false;
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

#define OPT_MAC {"mac", "MAC", false, "MAC address, e.g. 02:00:00:00:00:01"}
#define OPT_IP {"ip", "IP", false, "IPv4 address, e.g. 198.18.1.1"}
#define OPT_VNI {"vni", "N", false, "overlay VNI (0 = none)"}
#define OPT_VLAN {"vlan", "N", false, "802.1Q VLAN id (0 = none)"}
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
       "expected map refresh interval (default: the controller's)"},
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
     "Give --vni for an overlay network or --vlan for a VLAN (or both).",
     {{"mac", "MAC", true, "MAC address, e.g. 02:00:00:00:00:01"},
      {"ip", "IP", false,
       "IPv4 address, e.g. 198.18.1.1 (none: DHCP assigns one)"},
      OPT_VNI,
      OPT_VLAN,
      {"node", "NODE", true, "node the VM runs on"},
      OPT_PORT,
      {"iface-id", "ID", false, "its port's external_ids:iface-id (as "
       "libvirt or OpenStack\nset it; default: the VM's id)"}},
     CLI_RENDER_OBJECT, build_vm_create},
    {"vm", "list", NULL, 0, "list VMs with their node and epoch", NULL,
     {{0}}, CLI_RENDER_VMS, build_vm_list},
    {"vm", "show", "ID", 1, "show one VM", NULL, {{0}}, CLI_RENDER_OBJECT,
     build_vm_show},
    {"vm", "update", "ID", 1,
     "change a VM's network configuration where it runs",
     "Only the options given change.  Pending deletions on former nodes "
     "keep the\nconfiguration snapshotted when the VM left (I3).",
     {OPT_MAC, OPT_IP, OPT_VNI, OPT_VLAN, OPT_PORT}, CLI_RENDER_OBJECT,
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
     "--deadline-ms it adds paths while the\nestimate misses the deadline "
     "(seed 004).  Each path carries TCP to its own\nport of the target "
     "(tcp_port in the plan).  --plan prints the plan.\n\n"
     "--switchover says when the network follows the VM (DESIGN §2): now "
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
      {"deadline-ms", "MS", false, "time budget of the transfer"},
      {"strategy", "S", false, "first path by single, ecmp or dr"},
      {"target-cpu-free", "F", false, "free CPU fraction of the target, "
       "0-1"},
      {"switchover", "MODE", false, "now, manual, rarp or lossless"},
      {"prepare-deadline-ms", "MS", false, "abort if not switched over "
       "by then"}},
     CLI_RENDER_MIGRATE, build_vm_migrate},
    {"migration", "show", "ID", 1,
     "show a migration's phase, times and plan",
     NULL, {{0}}, CLI_RENDER_MIGRATION, build_migration_show},
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
     "show fabric switches, links (D-R weights) and hosts",
     "Links come from the topology file and from LLDP discovery; a "
     "link's weight\nis 1 + the bytes its two ports counted in the last "
     "statistics period.", {{0}},
     CLI_RENDER_FABRIC, build_fabric_show},
    {"binding", "list", NULL, 0,
     "list port-security bindings (seed 003, DHCP snooping)", NULL, {{0}},
     CLI_RENDER_BINDINGS, build_binding_list},
    {"binding", "show", "VM", 1, "show a VM's binding (every Table 1 field)",
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
