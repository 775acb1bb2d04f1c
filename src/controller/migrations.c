/* migrations.c: a migration's orchestration in mignetd (migrations.h).
 *
 * The order is the protocol's: refuse what the core would refuse, plan,
 * start in the core, then install the plan's paths -- or forget the plan
 * when the core refused after all.  The install instruction the core call
 * emits is timed from the moment the core is asked: that time is handed
 * down to the agent server (agent_server_time_installs), never left in
 * shared state for it to find. */
#include "controller/migrations.h"

#include <inttypes.h>
#include <stdio.h>

#include "controller/agent_server.h"
#include "controller/ctl.h"
#include "controller/vnet_ctl.h"
#include "controller/transfers.h"
#include "lib/clock.h"
#include "lib/log.h"

/* Plans the fabric paths of a migration the core would accept.  False
 * with '*why' set when the fabric refuses. */
static bool
ctl_migrate_plan(struct ctl *ctl, const struct ctl_migrate_req *r,
                 struct fabric_mig **plan, struct ctl_migrate_refusal *why)
{
    struct core_vm_info v;
    struct core_node_info src, dst;
    *plan = NULL;
    if (!core_vm_info(ctl->core, r->vm, &v)
        || !core_node_info(ctl->core, v.node, &src)
        || !core_node_info(ctl->core, r->to, &dst)) {
        return true;
    }
    /* The pair's learned goodput, if any (transfers.h). */
    struct fabric_plan_input in = *r->plan;
    if (!transfers_learned(ctl->transfers, src.name, dst.name,
                           &in.learned_Bps, &in.learned_n)) {
        in.learned_Bps = 0;
        in.learned_n = 0;
    }
    struct fabric_plan_req pr = {
        .src_node = src.name,
        .dst_node = dst.name,
        .src_address = src.address,
        .dst_address = dst.address,
        .input = &in,
    };
    why->fabric = fabric_ctl_plan(ctl->fabric, &pr, plan, why->message,
                                  sizeof why->message);
    return why->fabric == FABRIC_PLAN_E_OK;
}

bool
ctl_migrate(struct ctl *ctl, const struct ctl_migrate_req *r, uint64_t now,
            struct core_migrate_result *res, struct ctl_migrate_refusal *why)
{
    struct fabric_mig *plan = NULL;
    *why = (struct ctl_migrate_refusal){
        .core = core_migrate_opts_check(ctl->core, r->vm, r->from, r->to,
                                        r->opts),
    };
    if (why->core) {
        return false;
    }
    /* Seed 004: estimate and add paths, then migrate. */
    if (!ctl_migrate_plan(ctl, r, &plan, why)) {
        return false;
    }
    ctl->dirty = true;
    agent_server_time_installs(ctl->agents, clock_mono_s());
    why->core = core_migrate_opts(ctl->core, r->vm, r->from, r->to, r->opts,
                                  now, res);
    agent_server_time_installs(ctl->agents, 0);
    if (why->core) {
        fabric_ctl_discard(ctl->fabric, plan);
        return false;
    }
    if (plan) {
        fabric_ctl_start(ctl->fabric, plan, res->migration);
    }
    return true;
}

/* The name of node 'node', "?" when it is gone. */
static const char *
unconfirmed_name(struct ctl *ctl, uint32_t node)
{
    struct core_node_info n;
    return core_node_info(ctl->core, node, &n) ? n.name : "?";
}

void
ctl_migration_changed(struct ctl *ctl, const struct core_migration *m)
{
    struct core_vm_info v;
    struct core_node_info src, dst;
    vnet_ctl_placement_changed(ctl->vnet);
    if (m->phase == MIG_RELAYING) {
        metrics_hist_observe(&ctl->metrics.delay, (double) m->delay_ms
                                                      / 1000.0);
    }
    /* The transfer's paths are done with once the source's snapshot is
     * being deleted (the VM runs at the destination), or on an abort. */
    if (m->phase == MIG_CLEANING || m->phase == MIG_CLEANED
        || m->phase == MIG_ABORTED) {
        fabric_ctl_release(ctl->fabric, m->id);
    }
    /* Switched over without both agents' confirmation: the VM moved
     * regardless, but a node may not be ready -- an operator should
     * know. */
    bool degraded = m->phase == MIG_RELAYING && m->degraded;
    /* The ceiling ended a silence hold: a node that may still hold the
     * old map was cut off all along. */
    bool forced = m->phase == MIG_CLEANING && m->deletion_forced;
    enum log_level level = degraded || forced ? LOG_WARN : LOG_INF;
    if (!log_enabled(level) || !core_vm_info(ctl->core, m->vm, &v)
        || !core_node_info(ctl->core, m->src, &src)
        || !core_node_info(ctl->core, m->dst, &dst)) {
        return;
    }
    log_write(level, "core",
              "event=migration id=%" PRIu64 " phase=%s vm=%s node=%s "
              "from=%s epoch=%" PRIu64 " switchover=%s delay_ms=%" PRIu64
              " early=%d degraded=%d%s%s%s%s%s",
              m->id, mig_phase_name(m->phase), v.name, dst.name, src.name,
              m->epoch, mig_switchover_name(m->switchover), m->delay_ms,
              (int) m->released_early, (int) m->degraded,
              forced ? " deletion_forced=1 unconfirmed_node=" : "",
              forced ? unconfirmed_name(ctl, m->held_for) : "",
              m->phase == MIG_ABORTED ? " reason=\"" : "",
              m->phase == MIG_ABORTED ? m->abort_reason : "",
              m->phase == MIG_ABORTED ? "\"" : "");
}
