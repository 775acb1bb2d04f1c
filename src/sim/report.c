/* report.c: `mignet sim` output: a readable table or the JSON contract.
 *
 * JSON goes through jansson so it is always well-formed; the table is for
 * people.  Neither ever prints anything the run did not count. */
#include <inttypes.h>
#include <math.h>

#include <jansson.h>

#include "lib/json.h"
#include "sim/simjson.h"
#include "sim/simulator.h"

static json_t *
params_json(const struct sim_params *p)
{
    json_t *o = json_object();
    if (!o) {
        return NULL;
    }
    bool ok = true;
    ok &= js_set(o, "nodes", json_integer(p->nodes));
    ok &= js_set(o, "vms", json_integer(p->vms));
    ok &= js_set(o, "migrations", json_integer(p->migrations));
    ok &= js_set(o, "pattern", json_string(sim_pattern_name(p->pattern)));
    ok &= js_set(o, "refresh_ms", json_integer(p->refresh_ms));
    ok &= js_set(o, "refresh_jitter", json_real(p->refresh_jitter));
    ok &= js_set(o, "refresh_wobble", json_real(p->refresh_wobble));
    ok &= js_set(o, "peers", json_integer(p->peers));
    ok &= js_set(o, "pps", json_integer(p->pps));
    ok &= js_set(o, "pause_ms", json_integer(p->pause_ms));
    ok &= js_set(o, "gap_ms", json_integer(p->gap_ms));
    ok &= js_set(o, "seed", js_u64(p->seed));
    ok &= js_set(o, "strategy", json_string(p->strategy));
    ok &= js_set(o, "latency_ms", json_real(p->latency_ms));
    ok &= js_set(o, "data_latency_us", json_integer(p->data_latency_us));
    ok &= js_set(o, "rate", json_real(p->rate));
    ok &= js_set(o, "fast_factor", json_integer(p->fast_factor));
    ok &= js_set(o, "fixed_delay_ms", json_integer(p->fixed_delay_ms));
    ok &= js_set(o, "chain_len", json_integer(p->chain_len));
    ok &= js_set(o, "warmup_ms", json_integer(p->warmup_ms));
    ok &= js_set(o, "drain_ms", json_integer(p->drain_ms));
    ok &= js_set(o, "tail_ms", json_integer(p->tail_ms));
    ok &= js_set(o, "exact", json_boolean(p->exact));
    ok &= js_set(o, "push_interval_ms", json_integer(p->push_interval_ms));
    ok &= js_set(o, "push_down", json_real(p->push_down));
    ok &= js_set(o, "switchover",
                 json_string(mig_switchover_name(p->switchover)));
    ok &= js_set(o, "precopy_ms", json_integer(p->precopy_ms));
    ok &= js_set(o, "abort_rate", json_real(p->abort_rate));
    return js_finish(o, ok);
}

static json_t *
result_json(const struct sim_result *r)
{
    json_t *o = json_object();
    json_t *c = json_object();
    if (!o || !c) {
        json_decref(o);
        json_decref(c);
        return NULL;
    }
    bool ok = true;
    ok &= js_set(c, "p50", js_ms(r->cleanup_p50_ms));
    ok &= js_set(c, "p99", js_ms(r->cleanup_p99_ms));
    ok &= js_set(c, "max", js_ms(r->cleanup_max_ms));
    ok &= js_set(o, "strategy", json_string(r->strategy));
#define INT(name) ok &= js_set(o, #name, json_integer((json_int_t)r->name))
    INT(sent);
    INT(delivered);
    INT(lost_pause);
    INT(lost_stale);
    INT(lost_other);
    INT(relayed);
    INT(extra_packets);
    INT(wrong_deletions);
    INT(gateway_polls);
    INT(control_messages);
    ok &= js_set(o, "cleanup_ms", c);
    INT(events);
    ok &= js_set(o, "wall_ms", json_real(round(r->wall_ms * 10) / 10));
    INT(planned);
    INT(migrations);
    INT(cleaned);
    INT(retries);
    INT(migrate_errors);
    INT(core_errors);
    INT(wrong_core);
    INT(wrong_agent);
    INT(refused);
    INT(lost_hop_limit);
    INT(tasks_left);
    INT(jobs_unfinished);
    INT(hot_left);
    INT(max_hot);
    INT(sim_ms);
    INT(horizon_ms);
    INT(after_horizon);
    INT(released_early);
    INT(relays_retargeted);
    INT(core_bytes);
    INT(instructions);
    INT(instruction_acks);
    INT(pushes);
    INT(version_acks);
    INT(open_connections);
    INT(subscriptions);
    INT(stale_sent);
    INT(early_deletes);
    ok &= js_set(o, "switchover", json_string(r->switchover));
    INT(lost_activation);
    INT(lost_install_race);
    INT(queued);
    ok &= js_set(o, "queued_delay_max_ms", js_ms(r->queued_delay_max_ms));
    ok &= js_set(o, "queued_delay_mean_ms", js_ms(r->queued_delay_mean_ms));
    INT(aborted);
    INT(activations);
#undef INT
    return js_finish(o, ok);
}

int
sim_report_json(FILE *f, const struct sim_params *p,
                const struct sim_result *r, size_t n)
{
    json_t *results = json_array();
    for (size_t i = 0; results && i < n; i++) {
        if (!js_append(results, result_json(&r[i]))) {
            json_decref(results);
            results = NULL;
        }
    }
    return sim_json_print(f, params_json(p), results);
}

void
sim_report_table(FILE *f, const struct sim_params *p,
                 const struct sim_result *r, size_t n)
{
    fprintf(f,
            "mignet sim: %" PRIu32 " nodes, %" PRIu32 " VMs, %" PRIu32
            " migrations (%s), refresh %" PRIu32 " ms +-%.0f%%, latency "
            "%g ms, %" PRIu32 " peers x %" PRIu32 " pps, pause %" PRIu32
            " ms, gap %" PRIu32 " ms, seed %" PRIu64 "\n",
            p->nodes, p->vms, p->migrations, sim_pattern_name(p->pattern),
            p->refresh_ms, p->refresh_jitter * 100, p->latency_ms, p->peers,
            p->pps, p->pause_ms, p->gap_ms, p->seed);
    if (p->switchover != MIG_SW_NOW) {
        fprintf(f,
                "switch-over %s: pre-copy %" PRIu32 " ms before the pause, "
                "abort rate %g\n",
                mig_switchover_name(p->switchover), p->precopy_ms,
                p->abort_rate);
    }
    if (n) {
        fprintf(f,
                "traffic: %.3f s for every strategy, until the last "
                "planned move + %" PRIu64 " ms (--tail-ms)\n\n",
                (double)r[0].horizon_ms / 1000.0, sim_params_tail_ms(p));
    }
    fprintf(f, "%-12s %12s %12s %9s %9s %9s %9s %9s %6s %9s %10s "
               "%27s %10s %8s\n",
            "strategy", "sent", "delivered", "lost_pse", "lost_stl",
            "lost_oth", "relayed", "extra", "wrong", "polls", "control",
            "cleanup ms p50/p99/max", "events", "wall_ms");
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *x = &r[i];
        char cl[40];
        snprintf(cl, sizeof cl, "%.1f/%.1f/%.1f", x->cleanup_p50_ms,
                 x->cleanup_p99_ms, x->cleanup_max_ms);
        fprintf(f,
                "%-12s %12" PRIu64 " %12" PRIu64 " %9" PRIu64 " %9" PRIu64
                " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %6" PRIu64
                " %9" PRIu64 " %10" PRIu64 " %27s %10" PRIu64 " %8.0f\n",
                x->strategy, x->sent, x->delivered, x->lost_pause,
                x->lost_stale, x->lost_other, x->relayed, x->extra_packets,
                x->wrong_deletions, x->gateway_polls, x->control_messages,
                cl, x->events, x->wall_ms);
    }
    fprintf(f, "\ncontrol messages by kind, connections, stale senders:\n"
               "%-12s %10s %10s %10s %10s %10s %8s %8s %12s %8s\n",
            "strategy", "instr", "instr_ack", "polls", "pushes",
            "vers_ack", "conns", "subscr", "stale_sent", "early_del");
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *x = &r[i];
        fprintf(f,
                "%-12s %10" PRIu64 " %10" PRIu64 " %10" PRIu64
                " %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64
                " %12" PRIu64 " %8" PRIu64 "\n",
                x->strategy, x->instructions, x->instruction_acks,
                x->gateway_polls, x->pushes, x->version_acks,
                x->open_connections, x->subscriptions, x->stale_sent,
                x->early_deletes);
    }
    if (p->switchover != MIG_SW_NOW) {
        fprintf(f, "\nlifecycle (--switchover %s):\n"
                   "%-12s %10s %10s %10s %12s %12s %8s %8s\n",
                mig_switchover_name(p->switchover), "strategy",
                "lost_act", "lost_race", "queued", "q_delay_max",
                "q_delay_avg", "aborted", "activ");
        for (size_t i = 0; i < n; i++) {
            const struct sim_result *x = &r[i];
            fprintf(f,
                    "%-12s %10" PRIu64 " %10" PRIu64 " %10" PRIu64
                    " %12.3f %12.3f %8" PRIu64 " %8" PRIu64 "\n",
                    x->strategy, x->lost_activation, x->lost_install_race,
                    x->queued,
                    x->queued_delay_max_ms, x->queued_delay_mean_ms,
                    x->aborted, x->activations);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct sim_result *x = &r[i];
        if (x->jobs_unfinished || x->tasks_left || x->migrate_errors
            || x->core_errors || x->hot_left) {
            fprintf(f,
                    "note: %s: %" PRIu64 " jobs unfinished, %" PRIu64
                    " tasks left, %" PRIu64 " windows open, %" PRIu64
                    " migrate errors, %" PRIu64 " core errors\n",
                    x->strategy, x->jobs_unfinished, x->tasks_left,
                    x->hot_left, x->migrate_errors, x->core_errors);
        }
        if (x->after_horizon) {
            fprintf(f,
                    "note: %s: %" PRIu64 " changes after the traffic "
                    "horizon (stale maps, paused VMs, moves or wrong "
                    "deletions): later losses uncounted; raise --tail-ms\n",
                    x->strategy, x->after_horizon);
        }
    }
}
