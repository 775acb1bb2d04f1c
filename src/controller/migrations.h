/* migrations.h: one migration's way through mignetd, in one place.
 *
 * ctl_migrate() is the whole start of a migration: ask the core whether
 * it would accept, plan the fabric paths (seed 004), start it in the core
 * (DESIGN §2 steps 1-4), then keep and install the plan or discard it.
 * ctl_migration_changed() is the other end: the core's phase changes, on
 * which the plan's paths are released.  Neither parses nor renders
 * anything (rest.c does), and neither reaches into another module's
 * state. */
#ifndef MIGNET_CONTROLLER_MIGRATIONS_H
#define MIGNET_CONTROLLER_MIGRATIONS_H 1

#include <stdbool.h>
#include <stdint.h>

#include "controller/fabric_ctl.h"
#include "mignet/core.h"

struct ctl;

/* A migrate request, names already resolved to core indices. */
struct ctl_migrate_req {
    uint32_t vm;
    uint32_t from;                       /* CORE_NONE: wherever it is */
    uint32_t to;
    const struct core_migrate_opts *opts; /* NULL: `now` */
    const struct fabric_plan_input *plan;
};

/* Why a migration was refused: by the core, or by the fabric's planner
 * (with its sentence). */
struct ctl_migrate_refusal {
    enum core_err core;                  /* CORE_E_OK: not the core */
    enum fabric_plan_err fabric;         /* FABRIC_PLAN_E_OK: not the fabric */
    char message[160];
};

/* Starts the migration at 'now' (Unix ms): true with '*res' filled, or
 * false with '*why' saying who refused.  What the core would refuse is
 * refused before planning, so D-R never marks paths for nothing.  Marks
 * the batch dirty. */
bool ctl_migrate(struct ctl *, const struct ctl_migrate_req *, uint64_t now,
                 struct core_migrate_result *res,
                 struct ctl_migrate_refusal *why);

/* The core's migration sink: records the delay, releases the plan's paths
 * when the migration is cleaned, logs the phase. */
void ctl_migration_changed(struct ctl *, const struct core_migration *);

#endif /* controller/migrations.h */
