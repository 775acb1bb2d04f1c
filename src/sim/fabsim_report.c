/* fabsim_report.c: output of `mignet sim --fabric`: the one JSON object
 * of the `mignet sim` convention ({"params": ..., "results": [...]}) or a
 * table for people.
 *
 * JSON goes through jansson so it is always well-formed.  Neither form
 * prints anything a run did not compute. */
#include "sim/fabsim.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/strbuf.h"
#include "lib/json.h"
#include "sim/simjson.h"

#define TABLE_PER_MIGRATION 20

/* The chosen strategies as "a,b,c". */
static void
strategy_list(uint32_t set, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < FABSIM_N_STRATEGIES && n < len; i++) {
        if (set & (1u << i)) {
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
                                  fabsim_strategy_name(i));
        }
    }
}

static json_t *
params_json(const struct fabsim_world *w)
{
    const struct fabsim_params *p = &w->p;
    const struct fabric *f = w->fabric;
    json_t *o = json_object();
    char strategies[64];
    strategy_list(p->strategies, strategies, sizeof strategies);
    if (!o) {
        return NULL;
    }
    bool ok = true;
    ok &= js_set(o, "fabric", json_string(fabsim_topo_name(p->topo)));
    ok &= js_set(o, "topo",
                 p->topo_file[0] ? json_string(p->topo_file) : json_null());
    ok &= js_set(o, "k", json_integer(p->k));
    /* A topology file gives its own rates. */
    ok &= js_set(o, "host_mbps",
                 p->host_mbps >= 0 ? json_real(p->host_mbps)
                                   : json_null());
    ok &= js_set(o, "link_mbps",
                 p->link_mbps >= 0 ? json_real(p->link_mbps)
                                   : json_null());
    ok &= js_set(o, "hosts", json_integer((json_int_t)fabric_n_hosts(f)));
    ok &= js_set(o, "switches",
                 json_integer((json_int_t)(fabric_n_nodes(f)
                                           - fabric_n_hosts(f))));
    ok &= js_set(o, "links", json_integer((json_int_t)fabric_n_links(f)));
    ok &= js_set(o, "migrations", json_integer((json_int_t)w->n_jobs));
    ok &= js_set(o, "rate", json_real(p->rate));
    ok &= js_set(o, "concurrent", json_boolean(p->concurrent));
    ok &= js_set(o, "memory_mb", json_real(p->memory_mb));
    ok &= js_set(o, "memory_bytes",
                 json_integer((json_int_t)w->memory_bytes));
    ok &= js_set(o, "dirty_pages_per_s", json_real(p->dirty_pages_per_s));
    ok &= js_set(o, "working_set_bytes",
                 json_integer((json_int_t)w->working_set_bytes));
    ok &= js_set(o, "page_size", json_integer(4096));
    ok &= js_set(o, "deadline_ms",
                 json_integer((json_int_t)p->deadline_ms));
    ok &= js_set(o, "background", json_integer(p->background));
    ok &= js_set(o, "background_mbps", json_real(p->background_mbps));
    ok &= js_set(o, "period_ms", json_integer(p->period_ms));
    ok &= js_set(o, "warmup_ms", json_integer(p->warmup_ms));
    ok &= js_set(o, "cpu_free", json_real(p->cpu_free));
    ok &= js_set(o, "setup_max_ms", json_integer(p->setup_max_ms));
    ok &= js_set(o, "flow_install_ms", json_integer(p->flow_install_ms));
    ok &= js_set(o, "max_paths", json_integer(p->max_paths));
    ok &= js_set(o, "striping_overhead", json_real(p->striping_overhead));
    ok &= js_set(o, "pairs", json_string(p->pairs));
    ok &= js_set(o, "seed", js_u64(p->seed));
    ok &= js_set(o, "strategy", json_string(strategies));
    ok &= js_set(o, "solver",
                 json_string(p->scan_solver ? "scan" : "heap"));
    ok &= js_set(o, "estimate",
                 json_string(p->capacity_estimate ? "capacity"
                                                  : "residual"));
    return js_finish(o, ok);
}

static json_t *
path_json(const struct fabric *f, const struct route *rt)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i <= rt->n_links; i++) {
        if (json_array_append_new(
                a, json_string(fabric_node_name(f, rt->nodes[i])))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *
mig_json(const struct fabsim_world *w, size_t i, const struct fabsim_mig *g)
{
    const struct fabric *f = w->fabric;
    json_t *o = json_object();
    json_t *paths = json_array();
    if (!o || !paths) {
        json_decref(o);
        json_decref(paths);
        return NULL;
    }
    bool ok = true;
    for (size_t k = 0; k < g->n_paths; k++) {
        ok &= js_append(paths, path_json(f, &g->paths[k]));
    }
    ok &= js_set(o, "id", json_integer((json_int_t)i));
    ok &= js_set(o, "src", json_string(fabric_node_name(f, g->src)));
    ok &= js_set(o, "dst", json_string(fabric_node_name(f, g->dst)));
    ok &= js_set(o, "start_ms", js_ms(g->start_ms));
    ok &= js_set(o, "estimate_ms", js_ms(g->estimate_ms));
    ok &= js_set(o, "sim_ms", js_ms(g->sim_ms));
    ok &= js_set(o, "setup_ms", js_ms(g->setup_ms));
    ok &= js_set(o, "downtime_ms", js_ms(g->downtime_ms));
    ok &= js_set(o, "rounds", json_integer(g->rounds));
    ok &= js_set(o, "bytes", json_real(round(g->bytes)));
    ok &= js_set(o, "throughput_mbps",
                 json_real(round(g->throughput_mbps * 1000) / 1000));
    ok &= js_set(o, "n_paths", json_integer((json_int_t)g->n_paths));
    ok &= js_set(o, "paths", paths);
    ok &= js_set(o, "deadline_met",
                 w->p.deadline_ms ? json_boolean(g->deadline_met)
                                  : json_null());
    ok &= js_set(o, "precopy_stop",
                 json_string(precopy_stop_name(g->precopy_stop)));
    ok &= js_set(o, "plan_stop",
                 json_string(plan_stop_name(g->plan_stop)));
    return js_finish(o, ok);
}

static json_t *
result_json(const struct fabsim_world *w, const struct fabsim_result *r)
{
    json_t *o = json_object();
    json_t *t = json_object();
    json_t *migs = json_array();
    if (!o || !t || !migs) {
        json_decref(o);
        json_decref(t);
        json_decref(migs);
        return NULL;
    }
    bool ok = true;
    ok &= js_set(t, "mean", js_ms(r->time_mean_ms));
    ok &= js_set(t, "p50", js_ms(r->time_p50_ms));
    ok &= js_set(t, "p99", js_ms(r->time_p99_ms));
    ok &= js_set(t, "max", js_ms(r->time_max_ms));
    for (size_t i = 0; i < r->n; i++) {
        ok &= js_append(migs, mig_json(w, i, &r->mig[i]));
    }
    ok &= js_set(o, "strategy",
                 json_string(fabsim_strategy_name(r->strategy)));
    ok &= js_set(o, "migrations", json_integer((json_int_t)r->n));
    ok &= js_set(o, "time_ms", t);
    ok &= js_set(o, "estimate_mean_ms", js_ms(r->estimate_mean_ms));
    ok &= js_set(o, "estimate_p50_ms", js_ms(r->estimate_p50_ms));
    ok &= js_set(o, "estimates_infinite",
                 json_integer((json_int_t)r->estimates_infinite));
    ok &= js_set(o, "sim_over_estimate_mean",
                 json_real(round(r->ratio_mean * 1e6) / 1e6));
    ok &= js_set(o, "sim_over_estimate_p50",
                 json_real(round(r->ratio_p50 * 1e6) / 1e6));
    ok &= js_set(o, "sim_over_estimate_max",
                 json_real(round(r->ratio_max * 1e6) / 1e6));
#define INT(name) ok &= js_set(o, #name, json_integer((json_int_t)r->name))
    INT(deadlines_met);
    INT(deadlines_missed);
    ok &= js_set(o, "bytes", json_real(round(r->bytes)));
    ok &= js_set(o, "background_bytes",
                 json_real(round(r->background_bytes)));
    ok &= js_set(o, "mean_link_util",
                 json_real(round(r->mean_link_util * 1e6) / 1e6));
    INT(paths);
    INT(paths_added);
    INT(hops_released);
    INT(events);
    INT(solves);
    INT(polls);
#undef INT
    ok &= js_set(o, "sim_ms", js_ms(r->sim_ms));
    ok &= js_set(o, "wall_ms", json_real(round(r->wall_ms * 10) / 10));
    ok &= js_set(o, "per_migration", migs);
    return js_finish(o, ok);
}

int
fabsim_report_json(FILE *f, const struct fabsim_world *w,
                   const struct fabsim_result *r, size_t n)
{
    json_t *results = json_array();
    for (size_t i = 0; results && i < n; i++) {
        if (!js_append(results, result_json(w, &r[i]))) {
            json_decref(results);
            results = NULL;
        }
    }
    return sim_json_print(f, params_json(w), results);
}

/* The switches of each path, "s5>s1>s4 | s5>s2>s4". */
static void
paths_text(const struct fabric *f, const struct fabsim_mig *g,
           struct strbuf *sb)
{
    for (size_t k = 0; k < g->n_paths; k++) {
        const struct route *rt = &g->paths[k];
        if (k) {
            strbuf_puts(sb, " | ");
        }
        for (size_t i = 1; i < rt->n_links; i++) {
            strbuf_printf(sb, "%s%s", i > 1 ? ">" : "",
                          fabric_node_name(f, rt->nodes[i]));
        }
    }
}

static void
table_migrations(FILE *out, const struct fabsim_world *w,
                 const struct fabsim_result *r)
{
    const struct fabric *f = w->fabric;
    fprintf(out, "\n%s:\n", fabsim_strategy_name(r->strategy));
    for (size_t i = 0; i < r->n; i++) {
        const struct fabsim_mig *g = &r->mig[i];
        struct strbuf sb;
        strbuf_init(&sb);
        paths_text(f, g, &sb);
        fprintf(out,
                "  #%-3zu %s -> %s  est %.1f ms  sim %.1f ms (x%.2f)  "
                "%.0f Mbit/s  rounds %u (%s)  %s  paths %zu: %s\n",
                i, fabric_node_name(f, g->src), fabric_node_name(f, g->dst),
                g->estimate_ms, g->sim_ms,
                g->estimate_ms > 0 && isfinite(g->estimate_ms)
                    ? g->sim_ms / g->estimate_ms
                    : 0,
                g->throughput_mbps, g->rounds,
                precopy_stop_name(g->precopy_stop),
                !w->p.deadline_ms ? "no deadline"
                : g->deadline_met ? "met"
                                  : "MISSED",
                g->n_paths, strbuf_str(&sb));
        strbuf_destroy(&sb);
    }
}

/* What met/missed means, under the table, and why every migration missed
 * when no plan could have met the deadline (seed002's example: one NIC
 * per host caps each transfer, however many paths). */
static void
deadline_note(FILE *out, const struct fabsim_world *w,
              const struct fabsim_result *r, size_t n)
{
    uint64_t deadline = w->p.deadline_ms;
    if (!deadline) {
        fprintf(out, "\nmet/missed: no deadline (--deadline-ms 0), none "
                     "counted; compare the times.\n");
        return;
    }
    fprintf(out,
            "\nmet/missed: migrations that ended (arrival to the end of "
            "stop-and-copy)\n  within the deadline, %" PRIu64 " ms "
            "(--deadline-ms): the time the VM manager\n  asks a "
            "migration to take; dr+paths adds paths while its estimate "
            "is over.\n",
            deadline);
    double best = INFINITY;
    uint64_t missed = 0, all = 0;
    const struct fabsim_mig *paths_mig = NULL;
    for (size_t i = 0; i < n; i++) {
        missed += r[i].deadlines_missed;
        all += r[i].n;
        for (size_t j = 0; j < r[i].n; j++) {
            best = fmin(best, r[i].mig[j].estimate_ms);
        }
        if (r[i].strategy == FABSIM_DR_PATHS && r[i].n) {
            paths_mig = &r[i].mig[0];
        }
    }
    if (all && missed == all && best > (double)deadline) {
        char why[160] = "";
        if (paths_mig) {
            snprintf(why, sizeof why, "\n  (dr+paths stopped: %s)",
                     plan_stop_str(paths_mig->plan_stop));
        }
        fprintf(out,
                "  None could meet it here: the shortest estimate of any "
                "plan is %.0f ms%s.\n  Compare the time columns, or "
                "give a reachable --deadline-ms.\n",
                best, why);
    }
}

void
fabsim_report_table(FILE *out, const struct fabsim_world *w,
                    const struct fabsim_result *r, size_t n)
{
    const struct fabsim_params *p = &w->p;
    const struct fabric *f = w->fabric;
    char arrivals[48], ws[48] = "";
    if (w->working_set_bytes) {
        snprintf(ws, sizeof ws, " written on %g MiB", p->working_set_mb);
    }
    if (p->concurrent) {
        snprintf(arrivals, sizeof arrivals, "all at once");
    } else {
        snprintf(arrivals, sizeof arrivals, "%g/s", p->rate);
    }
    fprintf(out,
            "mignet sim --fabric %s: %zu hosts, %zu switches, %zu links; "
            "%zu migrations (%s) of %g MiB, %g pages/s%s; deadline %" PRIu64
            " ms; %u background flows; D-R period %u ms; seed %" PRIu64 "\n\n",
            p->topo == FABSIM_TOPO_FILE ? p->topo_file
                                        : fabsim_topo_name(p->topo),
            fabric_n_hosts(f), fabric_n_nodes(f) - fabric_n_hosts(f),
            fabric_n_links(f), w->n_jobs, arrivals, p->memory_mb,
            p->dirty_pages_per_s, ws, p->deadline_ms, p->background,
            p->period_ms,
            p->seed);
    fprintf(out, "%-9s %6s %13s %33s %10s %13s %9s %9s %6s %8s %8s\n",
            "strategy", "migr", "met/missed", "time ms mean/p50/p99/max",
            "est p50", "sim/est p50", "paths", "GB sent", "util", "events",
            "wall_ms");
    for (size_t i = 0; i < n; i++) {
        const struct fabsim_result *x = &r[i];
        char met[32], times[64], ratio[32], paths[32];
        snprintf(met, sizeof met, "%" PRIu64 "/%" PRIu64, x->deadlines_met,
                 x->deadlines_missed);
        snprintf(times, sizeof times, "%.0f/%.0f/%.0f/%.0f", x->time_mean_ms,
                 x->time_p50_ms, x->time_p99_ms, x->time_max_ms);
        snprintf(ratio, sizeof ratio, "%.3f (max %.2f)", x->ratio_p50,
                 x->ratio_max);
        snprintf(paths, sizeof paths, "%" PRIu64 "+%" PRIu64,
                 x->paths - x->paths_added, x->paths_added);
        fprintf(out,
                "%-9s %6zu %13s %33s %10.0f %13s %9s %9.2f %5.1f%% "
                "%8" PRIu64 " %8.0f\n",
                fabsim_strategy_name(x->strategy), x->n, met, times,
                x->estimate_p50_ms, ratio, paths, x->bytes / 1e9,
                x->mean_link_util * 100, x->events, x->wall_ms);
    }
    deadline_note(out, w, r, n);
    for (size_t i = 0;
         i < n && (p->per_migration || w->n_jobs <= TABLE_PER_MIGRATION);
         i++) {
        table_migrations(out, w, &r[i]);
    }
}
