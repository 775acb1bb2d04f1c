/* fabric_ctl.h: mignetd's control of the fabric between compute nodes.
 *
 * It owns the fabric model (the topology file plus the links LLDP finds),
 * the planner's router, and one OpenFlow connection per fabric switch on
 * the daemon's loop: it polls port statistics every period for the D-R
 * weights, discovers links with LLDP, plans migrations (seed 004 on D-R
 * paths) and installs each plan's paths as flows, confirmed by barriers,
 * removing them when the migration ends.  It never blocks, never calls
 * into the core, never speaks HTTP or JSON (rest_fabric.c renders its
 * views), and never touches a flow that does not carry its cookie.  How
 * nodes map to hosts and what the flows match: docs/planner.md. */
#ifndef MIGNET_CONTROLLER_FABRIC_CTL_H
#define MIGNET_CONTROLLER_FABRIC_CTL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/planner.h"

struct ctl;
struct metrics_hist;

struct fabric_ctl;
struct fabric_mig;

/* Reads the topology file (if any), connects to the configured switches
 * on ctl->base and arms the timers.  Works (and plans nothing) when no
 * fabric is configured.  NULL with 'err' set for an unreadable or invalid
 * topology file. */
struct fabric_ctl *fabric_ctl_create(struct ctl *, char *err, size_t errlen);
void fabric_ctl_destroy(struct fabric_ctl *);

/* ---- Planning ---- */

/* What a migration asks of the planner (docs/planner.md).  'memory_mb' 0
 * asks for a route only (no estimate). */
struct fabric_plan_input {
    bool given;               /* any field was given: refuse, never skip */
    uint32_t memory_mb;       /* 0: route only */
    double dirty_pages_per_s;
    uint32_t page_size;       /* 0: 4096 */
    uint32_t working_set_mb;  /* <= memory_mb; 0: none (precopy_input) */
    uint32_t deadline_ms;     /* 0: none */
    bool has_strategy;        /* else the daemon's --fabric-strategy */
    enum route_strategy strategy;
    bool has_cpu;             /* else the daemon's --fabric-cpu-free */
    double target_cpu_free;   /* 0..1 */
    /* The pair's learned goodput (transfers.h), bytes/s of one path, and
     * how many transfers it came from; 0: the links' bandwidth. */
    double learned_Bps;
    uint64_t learned_n;
};

/* What a migrate request asks of the fabric. */
struct fabric_plan_req {
    const char *src_node, *dst_node;       /* node ids = fabric host names */
    const char *src_address, *dst_address; /* the nodes' addresses */
    const struct fabric_plan_input *input;
};

/* Why a migration could not be planned: enum and code name. */
#define FABRIC_PLAN_ERRORS                                                 \
    FABRIC_PLAN_ERROR(OK, "ok")                                            \
    FABRIC_PLAN_ERROR(NO_FABRIC, "no_fabric")                              \
    FABRIC_PLAN_ERROR(NOT_IN_FABRIC, "not_in_fabric")                      \
    FABRIC_PLAN_ERROR(INVALID_ADDRESS, "invalid_address")                  \
    FABRIC_PLAN_ERROR(BUSY, "fabric_busy")                                 \
    FABRIC_PLAN_ERROR(NO_ROUTE, "no_route")                                \
    FABRIC_PLAN_ERROR(INVALID_VALUE, "invalid_value")                      \
    FABRIC_PLAN_ERROR(NO_MEMORY, "no_memory")

enum fabric_plan_err {
#define FABRIC_PLAN_ERROR(ENUM, NAME) FABRIC_PLAN_E_##ENUM,
    FABRIC_PLAN_ERRORS
#undef FABRIC_PLAN_ERROR
};
const char *fabric_plan_errname(enum fabric_plan_err);

/* Plans the migration before the core starts it.  Returns FABRIC_PLAN_E_OK
 * with '*migp' set to the plan, or to NULL when none applies (no fabric,
 * or a node is not a fabric host and no plan field was given); else why
 * the request cannot be planned, with a sentence in 'msg'.  D-R marks the
 * paths it takes for the current period. */
enum fabric_plan_err fabric_ctl_plan(struct fabric_ctl *,
                                     const struct fabric_plan_req *,
                                     struct fabric_mig **migp, char *msg,
                                     size_t msglen);
/* The pre-copy estimate between nodes 'src_node' and 'dst_node' (fabric
 * host names) on 'n_paths' paths, as a plan would make it now (the
 * daemon's strategy and bandwidth model; in->learned_Bps when it is
 * not 0), marking nothing.  False when there is no fabric, a node is no
 * host of it, or the estimate fails (no route, fewer paths). */
bool fabric_ctl_estimate(struct fabric_ctl *, const char *src_node,
                         const char *dst_node,
                         const struct fabric_plan_input *in,
                         uint32_t n_paths, struct plan_step *out);
/* The core accepted the migration as 'migration': keep the plan with it
 * and install its paths (barrier-confirmed).  Takes ownership. */
void fabric_ctl_start(struct fabric_ctl *, struct fabric_mig *,
                      uint64_t migration);
/* The core refused it: forget the plan.  Accepts NULL. */
void fabric_ctl_discard(struct fabric_ctl *, struct fabric_mig *);
/* The migration ended: remove its paths' flows.  Accepts a migration the
 * fabric has no plan for. */
void fabric_ctl_release(struct fabric_ctl *, uint64_t migration);

/* ---- Views, read by the REST side (rest_fabric.c) ---- */

/* Counters for /metrics. */
struct fabric_ctl_stats {
    uint64_t plans_by_stop[PLAN_N_STOPS + 1]; /* + route only */
    uint64_t plan_errors, routes_installed, flows_installed, flows_removed;
    uint64_t install_failures, lldp_sent, lldp_received, lldp_foreign;
    uint64_t stats_polls, stats_replies, rebuilds, links_expired;
};
#define FABRIC_STOP_ROUTE_ONLY PLAN_N_STOPS /* plans_by_stop[] slot */

struct fabric_ctl_view {
    const struct fabric *fab;      /* file + live links; NULL if neither */
    const struct fabric *file;     /* the topology file; NULL if none */
    const struct router *router;   /* NULL without a model */
    const char *file_path;         /* "" without a file */
    enum route_strategy strategy;
    uint32_t poll_ms, lldp_ms, flow_install_ms;
    size_t n_switches;             /* fabric_ctl_switch() indices */
    size_t n_switches_ready;
    size_t n_dlinks;               /* fabric_ctl_dlink() indices */
    const struct fabric_ctl_stats *stats;
    const struct metrics_hist *plan_hist, *install_hist;
};

/* Rebuilds the model if switches or links changed since it was built. */
void fabric_ctl_update(struct fabric_ctl *);
/* The fabric as it is (no rebuild); valid until the loop runs again. */
void fabric_ctl_view(const struct fabric_ctl *, struct fabric_ctl_view *);

struct fabric_switch_view {
    const char *name, *target;
    bool connected;
    uint64_t dpid;                 /* when connected */
    size_t n_ports;
    uint64_t lldp_sent, lldp_received;
};
/* Switch 'i' (< view.n_switches). */
void fabric_ctl_switch(const struct fabric_ctl *, size_t i,
                       struct fabric_switch_view *);

/* A link LLDP found: its ends by name ("s1:4"), whether it is alive (heard
 * within three LLDP periods) and heard both ways. */
struct fabric_dlink_view {
    char a[96], b[96];
    bool alive, both_directions;
};
/* Discovered link 'i' (< view.n_dlinks). */
void fabric_ctl_dlink(const struct fabric_ctl *, size_t i,
                      struct fabric_dlink_view *);
/* Whether LLDP currently confirms 'link' of view.fab. */
bool fabric_ctl_lldp_confirms(const struct fabric_ctl *, uint32_t link);

/* The plan of 'migration', or NULL if it has none. */
const struct fabric_mig *fabric_ctl_find_plan(const struct fabric_ctl *,
                                              uint64_t migration);

struct fabric_mig_view {
    /* What was planned for, with the daemon's defaults filled in. */
    const char *from_host, *to_host;
    const struct fabric_plan_input *input;
    enum route_strategy strategy;
    double target_cpu_free;
    const struct plan *plan;       /* NULL: a route only, no estimate */
    size_t n_paths;
    double planning_s;
    /* Its flows. */
    const char *state;             /* installing ... released */
    uint32_t n_switches, n_flows;
    uint64_t started_ms, installed_ms, released_ms; /* Unix ms; 0 = not */
    double install_ms;
    const char *error;             /* "" = none */
};
void fabric_mig_view(const struct fabric_mig *, struct fabric_mig_view *);

/* Path 'i' of a plan, with the names it had when it was planned (the
 * model is renumbered by rebuilds). */
struct fabric_path_view {
    const struct route *route;
    uint16_t tcp_port;
    const char *const *node_names; /* route->n_links + 1 */
    const char *const *hop_names;  /* route->n_hops */
};
void fabric_mig_path(const struct fabric_mig *, size_t i,
                     struct fabric_path_view *);

#endif /* controller/fabric_ctl.h */
