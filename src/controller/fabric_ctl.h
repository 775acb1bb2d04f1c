/* fabric_ctl.h: mignetd's control of the fabric between compute nodes.
 *
 * It owns the fabric model (the topology file plus the links LLDP finds),
 * the planner's router, and one OpenFlow connection per fabric switch on
 * the daemon's loop: it polls port statistics every period for the D-R
 * weights, discovers links with LLDP, plans migrations (seed 004 on D-R
 * paths) and installs each plan's paths as flows, confirmed by barriers,
 * removing them when the migration ends.  It never blocks, never calls
 * into the core, and never touches a flow that does not carry its cookie.
 * How nodes map to hosts and what the flows match: docs/planner.md. */
#ifndef MIGNET_CONTROLLER_FABRIC_CTL_H
#define MIGNET_CONTROLLER_FABRIC_CTL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct ctl;
struct core_migration;
struct rest_error;
struct rest_plan_fields;
struct strbuf;

struct fabric_ctl;
struct fabric_mig;

/* Reads the topology file (if any), connects to the configured switches
 * on ctl->base and arms the timers.  Works (and plans nothing) when no
 * fabric is configured.  NULL with 'err' set for an unreadable or invalid
 * topology file. */
struct fabric_ctl *fabric_ctl_create(struct ctl *, char *err, size_t errlen);
void fabric_ctl_destroy(struct fabric_ctl *);

/* What a migrate request asks of the fabric. */
struct fabric_plan_req {
    const char *src_node, *dst_node;       /* node ids = fabric host names */
    const char *src_address, *dst_address; /* the nodes' addresses */
    const struct rest_plan_fields *fields;
};

/* Plans the migration before the core starts it.  Returns true with
 * '*migp' set to the plan, or to NULL when none applies (no fabric, or a
 * node is not a fabric host and no plan field was given); false with 'e'
 * set when the request cannot be planned (409 no_fabric / no_route, 422
 * not_in_fabric / invalid_address / invalid_value).  D-R marks the paths
 * it takes for the current period. */
bool fabric_ctl_plan(struct fabric_ctl *, const struct fabric_plan_req *,
                     struct fabric_mig **migp, struct rest_error *e);
/* The core accepted the migration as 'migration': keep the plan with it
 * and install its paths (barrier-confirmed).  Takes ownership. */
void fabric_ctl_start(struct fabric_ctl *, struct fabric_mig *,
                      uint64_t migration);
/* The core refused it: forget the plan.  Accepts NULL. */
void fabric_ctl_discard(struct fabric_ctl *, struct fabric_mig *);

/* A migration changed phase; when it is cleaned, its paths' flows are
 * removed. */
void fabric_ctl_migration(struct fabric_ctl *, const struct core_migration *);

/* The plan of 'migration' as JSON (a new reference), or NULL if it has
 * none. */
json_t *fabric_ctl_plan_json(const struct fabric_ctl *, uint64_t migration);
/* GET /v1/fabric: switches, hosts, links with weights, what LLDP found. */
json_t *fabric_ctl_json(struct fabric_ctl *);
/* Appends the fabric's metrics.  0 or ENOMEM. */
int fabric_ctl_metrics(const struct fabric_ctl *, struct strbuf *);

#endif /* controller/fabric_ctl.h */
