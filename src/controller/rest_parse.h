/* rest_parse.h: the northbound API's request parsing and validation.
 *
 * Pure functions from request text (method, path, query, headers, body) to
 * validated request structures or an error with its HTTP status and code.
 * No sockets, no core: the REST layer, the unit tests and the fuzzer call
 * the very same code, and nothing reaches the core unless it passed here. */
#ifndef MIGNET_CONTROLLER_REST_PARSE_H
#define MIGNET_CONTROLLER_REST_PARSE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/binding.h"
#include "mignet/core.h"
#include "mignet/planner.h"

/* Default limit of a request body; larger bodies get 413. */
#define REST_MAX_BODY_DEFAULT 65536

/* An error answer: status, machine code, human message. */
struct rest_error {
    int status;
    const char *code; /* static string, e.g. "invalid_mac" */
    char message[160];
    const char *allow; /* 405: the methods the path has (Allow) */
};

/* Sets '*e' and returns false, so parsers can 'return rest_fail(...)'. */
bool rest_fail(struct rest_error *e, int status, const char *code,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The HTTP status for a core error (404 unknown_*, 409 conflicts, 422
 * invalid values, 500 store/memory). */
int rest_core_status(enum core_err);
/* Fills 'e' from a core error. */
void rest_core_error(struct rest_error *e, enum core_err);
/* The HTTP status for a binding table error: 409 for conflicts
 * (vm_bound, mac_conflict, ip_conflict, static_binding_held,
 * duplicate_binding), 404 unknown_binding, 500 table_full, 422 for every
 * invalid value. */
int rest_binding_status(enum binding_err);
/* Fills 'e' from a binding error (code: binding_errname()). */
void rest_binding_error(struct rest_error *e, enum binding_err);

/* ---- Routes ---- */

enum rest_method {
    REST_GET,
    REST_POST,
    REST_PATCH,
    REST_PUT,
    REST_DELETE,
    REST_OTHER,
};

#define REST_ROUTES                                                          \
    REST_ROUTE(NODES, "nodes")                                               \
    REST_ROUTE(NODE, "node")                                                 \
    REST_ROUTE(NODE_CORDON, "node_cordon")                                   \
    REST_ROUTE(NODE_UNCORDON, "node_uncordon")                               \
    REST_ROUTE(NODE_DRAIN, "node_drain")                                     \
    REST_ROUTE(NODE_TOKEN, "node_token")                                     \
    REST_ROUTE(VMS, "vms")                                                   \
    REST_ROUTE(VM, "vm")                                                     \
    REST_ROUTE(VM_MIGRATE, "vm_migrate")                                     \
    REST_ROUTE(VM_BINDING, "vm_binding")                                     \
    REST_ROUTE(BINDINGS, "bindings")                                         \
    REST_ROUTE(MIGRATIONS, "migrations")                                     \
    REST_ROUTE(MIGRATION, "migration")                                       \
    REST_ROUTE(MIGRATION_SWITCHOVER, "migration_switchover")                 \
    REST_ROUTE(MIGRATION_ABORT, "migration_abort")                           \
    REST_ROUTE(TASKS, "tasks")                                               \
    REST_ROUTE(MAP, "map")                                                   \
    REST_ROUTE(FABRIC, "fabric")                                             \
    REST_ROUTE(TRANSFERS, "transfers")                                       \
    REST_ROUTE(TRANSFER_PAIRS, "transfer_pairs")                             \
    REST_ROUTE(VSWITCHES, "vswitches")                                       \
    REST_ROUTE(VSWITCH, "vswitch")                                           \
    REST_ROUTE(VSWITCH_FLOWS, "vswitch_flows")                               \
    REST_ROUTE(VSWITCH_MIGRATE, "vswitch_migrate")                           \
    REST_ROUTE(HEALTHZ, "healthz")                                           \
    REST_ROUTE(METRICS, "metrics")
enum rest_route_id {
#define REST_ROUTE(ENUM, NAME) REST_R_##ENUM,
    REST_ROUTES
#undef REST_ROUTE
};

struct rest_route {
    enum rest_route_id id;
    enum rest_method method;
    char name[MN_NAME_MAX + 1]; /* {id} of a node, VM or vswitch */
    uint64_t migration;           /* {id} of a migration */
};

/* Matches 'method' and 'path' (without the query).  Unknown paths get 404
 * not_found; a known path with another method gets 405; a path {id} that
 * cannot name anything gets 404 with the resource's unknown_* code. */
bool rest_route_match(enum rest_method, const char *path,
                      struct rest_route *, struct rest_error *);
/* Whether the route takes a JSON body (POST/PATCH/PUT). */
bool rest_route_has_body(const struct rest_route *);

/* 415 unless 'content_type' is application/json (parameters allowed). */
bool rest_check_content_type(const char *content_type, struct rest_error *);
/* 413 when 'len' exceeds 'max'. */
bool rest_check_body_size(size_t len, size_t max, struct rest_error *);

/* ---- Values ---- */

/* Names, MACs and IPv4 addresses are parsed by lib/addr.h; these add
 * what a VM's own addresses must also be. */
/* Unicast and not all-zero. */
bool rest_mac_valid(const uint8_t mac[6]);
/* A host address: not 0.0.0.0, multicast, class E or broadcast. */
bool rest_ip_valid(uint32_t ip);

/* Limits of configuration values: one source with the CLI
 * (mignet/limits.h). */
#define REST_VNI_MAX MN_VNI_MAX
#define REST_VLAN_MAX MN_VLAN_MAX
#define REST_PORT_MAX MN_PORT_MAX
#define REST_REFRESH_MIN_MS MN_REFRESH_MIN_MS
#define REST_REFRESH_MAX_MS MN_REFRESH_MAX_MS
#define REST_REFRESH_DEFAULT_MS MN_REFRESH_DEFAULT_MS
#define REST_ADDRESS_MAX MN_ADDRESS_MAX

/* ---- Bodies ---- */

/* POST /v1/nodes: {"id", "address", "refresh_ms"?} */
struct rest_node_req {
    char id[MN_NAME_MAX + 1];
    char address[REST_ADDRESS_MAX + 1];
    uint32_t refresh_ms;
};
bool rest_parse_node(const char *body, size_t len, struct rest_node_req *,
                     struct rest_error *);

/* ---- Node lifecycle ---- */

/* POST /v1/nodes/{id}/cordon and /uncordon: no body, or an empty
 * object. */
bool rest_parse_empty_body(const char *body, size_t len,
                           struct rest_error *);

/* POST /v1/nodes/{id}/drain: no body, or {"targets": {"vm1": "n3", ...}}
 * (VM id -> node id; VMs not named get a target chosen by the core).
 * 'targets' is a heap array owned by the request: free it with
 * rest_drain_req_destroy() (also after a failed parse). */
struct rest_drain_target {
    char vm[MN_NAME_MAX + 1];
    char node[MN_NAME_MAX + 1];
};
struct rest_drain_req {
    struct rest_drain_target *targets;
    size_t n_targets;
};
bool rest_parse_drain(const char *body, size_t len, struct rest_drain_req *,
                      struct rest_error *);
void rest_drain_req_destroy(struct rest_drain_req *);

/* DELETE /v1/nodes/{id}?force=true|false (default false). */
bool rest_parse_node_delete_query(const char *query, bool *force,
                                  struct rest_error *);

/* POST /v1/vms: {"id", "mac", "ip", "node", "vni"?, "vlan"?, "port"?,
 * "binding"?, "allow_duplicate"?} */
struct rest_vm_req {
    char id[MN_NAME_MAX + 1];
    char node[MN_NAME_MAX + 1];
    char iface_id[MN_NAME_MAX + 1]; /* "" = the VM's id */
    struct mn_config config;
    bool allow_duplicate; /* "allow_duplicate": true */
};
bool rest_parse_vm_create(const char *body, size_t len, struct rest_vm_req *,
                          struct rest_error *);

/* PATCH /v1/vms/{id}: any of "mac", "ip", "vni", "vlan", "port",
 * "binding" replace those fields of '*config'; at least one is required.
 * '*config' is only written when the whole body is valid.
 * '*allow_duplicate' (may be NULL) tells whether "allow_duplicate": true
 * was given (it is no field to change on its own). */
bool rest_parse_vm_patch(const char *body, size_t len,
                         struct mn_config *config, bool *allow_duplicate,
                         struct rest_error *);

/* PUT /v1/vms/{id}/binding: {"ip", "type"?, "lease"?, "server"?,
 * "port_status"?, "port_security"?, "port"?, "mac"?, "vlan"?, "node"?}.
 * Each value is checked as the binding table checks it (errors named by
 * binding_errname(), 422); "lease" is seconds or "infinite".  The binding
 * defaults to static, from the manager, port up, untrusted; mac (zero),
 * vlan and node are the VM's unless given ('has_vlan').  The whole binding
 * is validated by the core once the VM's own values are filled in. */
struct rest_binding_req {
    struct binding b;
    bool has_vlan;
};
bool rest_parse_binding(const char *body, size_t len,
                        struct rest_binding_req *, struct rest_error *);

/* Limits of the migration plan's inputs. */
#define REST_MEMORY_MB_MAX MN_MEMORY_MB_MAX
#define REST_DIRTY_RATE_MAX MN_DIRTY_RATE_MAX
#define REST_PAGE_SIZE_MIN MN_PAGE_SIZE_MIN
#define REST_PAGE_SIZE_MAX MN_PAGE_SIZE_MAX
#define REST_DEADLINE_MS_MAX MN_DEADLINE_MS_MAX

/* The plan inputs of a migrate request (docs/planner.md).  'memory_mb' is
 * required once any of dirty_pages_per_s, page_size, working_set_mb,
 * deadline_ms is given; working_set_mb is at most memory_mb. */
struct rest_plan_fields {
    bool given;                 /* any plan field was present */
    uint32_t memory_mb;         /* 0: not given (route only) */
    double dirty_pages_per_s;   /* 0 when not given */
    uint32_t page_size;         /* 0: not given (4096) */
    uint32_t working_set_mb;    /* 0: not given (none); <= memory_mb */
    uint32_t deadline_ms;       /* 0: none */
    bool has_strategy;
    enum route_strategy strategy;
    bool has_cpu;
    double target_cpu_free;     /* 0..1 */
};

/* POST /v1/vms/{id}/migrate: {"to", "from"?, "switchover"?,
 * "prepare_deadline_ms"?, "memory_mb"?, "dirty_pages_per_s"?,
 * "page_size"?, "working_set_mb"?, "deadline_ms"?, "strategy"?,
 * "target_cpu_free"?} */
struct rest_migrate_req {
    char to[MN_NAME_MAX + 1];
    char from[MN_NAME_MAX + 1]; /* "" = not given */
    enum mig_switchover switchover;   /* "now" when not given */
    uint32_t prepare_deadline_ms;     /* 0 = not given */
    struct rest_plan_fields plan;
};
bool rest_parse_migrate(const char *body, size_t len,
                        struct rest_migrate_req *, struct rest_error *);

/* POST /v1/vswitches (docs/vswitch.md): {"id", "tenant", "vni",
 * "controller": "tcp:ADDR:PORT" | "unix:PATH", "datapath_id"?: integer,
 * "ports": {VM: port number 1..REST_VSWITCH_PORT_MAX, ...}}; the ports'
 * numbers and VMs distinct, at most REST_VSWITCH_PORTS_MAX. */
#define REST_VSWITCH_PORTS_MAX 1024
#define REST_VSWITCH_PORT_MAX 0xffffff00u /* OFPP_MAX */
#define REST_TARGET_MAX 127
struct rest_vswitch_port {
    char vm[MN_NAME_MAX + 1];
    uint32_t port;
};
struct rest_vswitch_req {
    char id[MN_NAME_MAX + 1];
    char tenant[MN_NAME_MAX + 1];
    uint32_t vni;
    bool has_dpid;
    uint64_t dpid;
    char controller[REST_TARGET_MAX + 1];
    size_t n_ports;
    struct rest_vswitch_port *ports; /* owned: rest_vswitch_req_destroy() */
};
bool rest_parse_vswitch(const char *body, size_t len,
                        struct rest_vswitch_req *, struct rest_error *);
void rest_vswitch_req_destroy(struct rest_vswitch_req *);

/* POST /v1/vswitches/{id}/migrate: {"moves": {VM: node, ...} (1 to
 * REST_VSWITCH_PORTS_MAX), "switchover"?, "prepare_deadline_ms"?} (the
 * same two as a VM's migrate). */
struct rest_vswitch_move {
    char vm[MN_NAME_MAX + 1];
    char node[MN_NAME_MAX + 1];
};
struct rest_vswitch_migrate_req {
    size_t n;
    struct rest_vswitch_move *moves; /* owned */
    enum mig_switchover switchover;
    uint32_t prepare_deadline_ms; /* 0 = not given */
};
bool rest_parse_vswitch_migrate(const char *body, size_t len,
                                struct rest_vswitch_migrate_req *,
                                struct rest_error *);
void rest_vswitch_migrate_req_destroy(struct rest_vswitch_migrate_req *);

/* POST /v1/migrations/{id}/abort: no body, or {"reason"?: string of at
 * most CORE_ABORT_REASON_MAX printable characters}. */
struct rest_abort_req {
    char reason[CORE_ABORT_REASON_MAX + 1]; /* "" = not given */
};
bool rest_parse_abort(const char *body, size_t len, struct rest_abort_req *,
                      struct rest_error *);
/* POST /v1/migrations/{id}/switchover: no body, or {}. */
bool rest_parse_switchover(const char *body, size_t len,
                           struct rest_error *);

/* The query of a list (GET /v1/nodes, /v1/vms, /v1/bindings, /v1/tasks,
 * /v1/migrations): "limit" (1..REST_LIMIT_MAX; absent: the whole list),
 * "marker" (the "next" of the previous page: where this page starts,
 * after that item) and the filters 'allowed' names (REST_Q_*).  Each
 * parameter at most once; anything else is 400 bad_query. */
#define REST_LIMIT_MAX 10000u
#define REST_MARKER_MAX 63
enum {
    REST_Q_NODE = 1 << 0,  /* node=ID */
    REST_Q_VM = 1 << 1,    /* vm=ID */
    REST_Q_PHASE = 1 << 2, /* phase=NAME (a migration phase) */
};
struct rest_list_query {
    uint32_t limit; /* 0: no limit */
    char marker[REST_MARKER_MAX + 1]; /* "" = from the start */
    char node[MN_NAME_MAX + 1];       /* "" = any */
    char vm[MN_NAME_MAX + 1];         /* "" = any */
    bool has_phase;
    enum mig_phase phase;
};
bool rest_parse_list_query(const char *query, unsigned allowed,
                           struct rest_list_query *, struct rest_error *);
/* 400 bad_query unless 'query' has no parameter (routes that take
 * none). */
bool rest_parse_no_query(const char *query, struct rest_error *);

/* GET /v1/map?since=V&node=ID.  'header_node' is the X-Mignet-Node header
 * (may be NULL); giving both with different values is an error. */
struct rest_map_query {
    bool has_since;
    uint64_t since;
    char node[MN_NAME_MAX + 1]; /* "" = not a node's poll */
};
bool rest_parse_map_query(const char *query, const char *header_node,
                          struct rest_map_query *, struct rest_error *);

#endif /* MIGNET_CONTROLLER_REST_PARSE_H */
