/* rest_fabric.c: the fabric's views as JSON and Prometheus text, and the
 * REST side of planning (see rest_fabric.h).
 *
 * Everything here reads the fabric through fabric_ctl.h's views and the
 * planner's read-only calls; it never changes the fabric.  JSON is built
 * with lib/json.h and checked once per object: a failed allocation is
 * fatal, as everywhere in the REST layer. */
#include "controller/rest_fabric.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "controller/metrics.h"
#include "controller/rest_parse.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/util.h"

void
rest_fabric_input(const struct rest_plan_fields *pf,
                  struct fabric_plan_input *in)
{
    *in = (struct fabric_plan_input){
        .given = pf->given,
        .memory_mb = pf->memory_mb,
        .dirty_pages_per_s = pf->dirty_pages_per_s,
        .page_size = pf->page_size,
        .working_set_mb = pf->working_set_mb,
        .deadline_ms = pf->deadline_ms,
        .has_strategy = pf->has_strategy,
        .strategy = pf->strategy,
        .has_cpu = pf->has_cpu,
        .target_cpu_free = pf->target_cpu_free,
    };
}

void
rest_fabric_error(struct rest_error *e, enum fabric_plan_err err,
                  const char *msg)
{
    int status;
    switch (err) {
    case FABRIC_PLAN_E_NO_FABRIC:
    case FABRIC_PLAN_E_BUSY:
    case FABRIC_PLAN_E_NO_ROUTE:
        status = 409;
        break;
    case FABRIC_PLAN_E_NOT_IN_FABRIC:
    case FABRIC_PLAN_E_INVALID_ADDRESS:
    case FABRIC_PLAN_E_INVALID_VALUE:
        status = 422;
        break;
    case FABRIC_PLAN_E_OK:
    case FABRIC_PLAN_E_NO_MEMORY:
    default:
        status = 500;
        break;
    }
    rest_fail(e, status, fabric_plan_errname(err), "%s", msg);
}

/* 'o', or the process ends: the REST layer treats no memory as fatal. */
static json_t *
rest_fabric_done(json_t *o, bool ok)
{
    o = js_finish(o, ok);
    if (!o) {
        out_of_memory();
    }
    return o;
}

/* ---- A migration's plan ---- */

static json_t *
rest_fabric_path(const struct fabric_mig *m, size_t i)
{
    struct fabric_path_view pv;
    fabric_mig_path(m, i, &pv);
    const struct route *r = pv.route;
    json_t *o = json_object(), *nodes = json_array(), *hops = json_array();
    bool ok = o && nodes && hops;
    for (size_t j = 0; ok && j <= r->n_links; j++) {
        ok = js_append(nodes, json_string(pv.node_names[j]));
    }
    for (size_t j = 0; ok && j < r->n_hops; j++) {
        const struct route_hop *h = &r->hops[j];
        json_t *hop = json_object();
        bool hok = hop != NULL;
        hok &= js_set(hop, "switch", json_string(pv.hop_names[j]));
        hok &= js_set(hop, "dpid", js_hex64(h->dpid));
        hok &= js_set(hop, "in_port", json_integer(h->in_port));
        hok &= js_set(hop, "out_port", json_integer(h->out_port));
        ok = js_append(hops, js_finish(hop, hok));
    }
    ok &= js_set(o, "index", json_integer((json_int_t) i));
    ok &= js_set(o, "added", json_boolean(i > 0));
    ok &= js_set(o, "tcp_port", json_integer(pv.tcp_port));
    ok &= js_set(o, "nodes", nodes);
    ok &= js_set(o, "hops", hops);
    ok &= js_set(o, "weight", js_u64(r->weight));
    return rest_fabric_done(o, ok);
}

static json_t *
rest_fabric_step(const struct plan_step *st)
{
    const struct precopy_estimate *e = &st->estimate;
    json_t *o = json_object();
    bool ok = o != NULL;
    ok &= js_set(o, "paths", json_integer(st->n_paths));
    ok &= js_set(o, "bandwidth_bps", json_real(st->bandwidth_bps));
    ok &= js_set(o, "setup_ms", json_real(st->setup_ms));
    ok &= js_set(o, "total_ms", isfinite(st->total_ms)
                                    ? json_real(st->total_ms)
                                    : json_null());
    ok &= js_set(o, "downtime_ms", isfinite(e->downtime_s)
                                       ? json_real(e->downtime_s * 1000.0)
                                       : json_null());
    ok &= js_set(o, "rounds", json_integer(e->rounds));
    ok &= js_set(o, "bytes", isfinite(e->bytes_sent)
                                 ? json_real(e->bytes_sent)
                                 : json_null());
    ok &= js_set(o, "precopy_stop",
                 json_string(precopy_stop_name(e->stop)));
    ok &= js_set(o, "converged", json_boolean(e->converged));
    return rest_fabric_done(o, ok);
}

/* What was planned for. */
static bool
rest_fabric_request(json_t *o, const struct fabric_mig_view *v)
{
    const struct fabric_plan_input *in = v->input;
    bool mem = in->memory_mb != 0;
    bool ok = true;
    ok &= js_set(o, "strategy",
                 json_string(route_strategy_name(v->strategy)));
    ok &= js_set(o, "from_host", json_string(v->from_host));
    ok &= js_set(o, "to_host", json_string(v->to_host));
    ok &= js_set(o, "memory_mb", mem ? json_integer(in->memory_mb)
                                     : json_null());
    ok &= js_set(o, "dirty_pages_per_s",
                 mem ? json_real(in->dirty_pages_per_s) : json_null());
    ok &= js_set(o, "page_size",
                 mem ? json_integer(in->page_size ? in->page_size : 4096)
                     : json_null());
    ok &= js_set(o, "working_set_mb", in->working_set_mb
                                          ? json_integer(in->working_set_mb)
                                          : json_null());
    ok &= js_set(o, "deadline_ms", in->deadline_ms
                                       ? json_integer(in->deadline_ms)
                                       : json_null());
    ok &= js_set(o, "target_cpu_free", json_real(v->target_cpu_free));
    /* Which bandwidth the estimate assumed (mignetd's transfer
     * learning, docs/mignetd.md). */
    bool learned = mem && in->learned_Bps > 0;
    ok &= js_set(o, "bandwidth_source",
                 json_string(learned ? "learned" : "nominal"));
    ok &= js_set(o, "learned_transfers",
                 js_u64(learned ? in->learned_n : 0));
    ok &= js_set(o, "learned_bandwidth_Bps",
                 learned ? json_real(in->learned_Bps) : json_null());
    return ok;
}

static json_t *
rest_fabric_install(const struct fabric_mig_view *v)
{
    json_t *fl = json_object();
    bool ok = fl != NULL;
    ok &= js_set(fl, "state", json_string(v->state));
    ok &= js_set(fl, "switches", json_integer(v->n_switches));
    ok &= js_set(fl, "flows", json_integer(v->n_flows));
    ok &= js_set(fl, "started_unix_ms", js_time(v->started_ms));
    ok &= js_set(fl, "installed_unix_ms", js_time(v->installed_ms));
    ok &= js_set(fl, "install_ms", v->installed_ms
                                       ? json_real(v->install_ms)
                                       : json_null());
    ok &= js_set(fl, "released_unix_ms", js_time(v->released_ms));
    ok &= js_set(fl, "error", v->error[0] ? json_string(v->error)
                                          : json_null());
    return rest_fabric_done(fl, ok);
}

json_t *
rest_fabric_plan_json(const struct fabric_ctl *fc, uint64_t migration)
{
    const struct fabric_mig *m = fabric_ctl_find_plan(fc, migration);
    if (!m) {
        return NULL;
    }
    struct fabric_mig_view v;
    fabric_mig_view(m, &v);
    const struct plan *p = v.plan;
    json_t *o = json_object(), *paths = json_array(), *steps = json_array();
    bool ok = o && paths && steps && rest_fabric_request(o, &v);
    for (size_t i = 0; ok && i < v.n_paths; i++) {
        ok = js_append(paths, rest_fabric_path(m, i));
    }
    for (size_t i = 0; ok && p && i < plan_n_steps(p); i++) {
        ok = js_append(steps, rest_fabric_step(plan_step(p, i)));
    }
    ok &= js_set(o, "paths", paths);
    ok &= js_set(o, "steps", steps);
    const struct plan_step *fin = p ? plan_final(p) : NULL;
    enum plan_stop stop = p ? plan_stop(p) : PLAN_STOP_FITS;
    ok &= js_set(o, "stop", p ? json_string(plan_stop_name(stop))
                              : json_null());
    ok &= js_set(o, "stop_reason", p ? json_string(plan_stop_str(stop))
                                     : json_null());
    ok &= js_set(o, "explain", p ? json_string(plan_explain(p))
                                 : json_string("route only: no memory_mb, "
                                               "no estimate"));
    ok &= js_set(o, "estimate", fin ? rest_fabric_step(fin) : json_null());
    uint32_t deadline = v.input->deadline_ms;
    ok &= js_set(o, "deadline_met",
                 fin && deadline
                     ? json_boolean(fin->total_ms <= (double) deadline)
                     : json_null());
    ok &= js_set(o, "planning_us", json_real(v.planning_s * 1e6));
    ok &= js_set(o, "install", rest_fabric_install(&v));
    return rest_fabric_done(o, ok);
}

/* ---- GET /v1/fabric ---- */

static json_t *
rest_fabric_switches(const struct fabric_ctl *fc, size_t n)
{
    json_t *sws = json_array();
    bool ok = sws != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        struct fabric_switch_view s;
        fabric_ctl_switch(fc, i, &s);
        json_t *j = json_object();
        bool jok = j != NULL;
        jok &= js_set(j, "name", json_string(s.name));
        jok &= js_set(j, "target", json_string(s.target));
        jok &= js_set(j, "connected", json_boolean(s.connected));
        jok &= js_set(j, "dpid", s.connected ? js_hex64(s.dpid)
                                             : json_null());
        jok &= js_set(j, "ports", js_u64(s.n_ports));
        jok &= js_set(j, "lldp_sent", js_u64(s.lldp_sent));
        jok &= js_set(j, "lldp_received", js_u64(s.lldp_received));
        ok = js_append(sws, js_finish(j, jok));
    }
    return rest_fabric_done(sws, ok);
}

/* Whether 'lk' (of the model) is a link of the topology file. */
static bool
rest_fabric_in_file(const struct fabric_ctl_view *v,
                    const struct fabric_link *lk)
{
    uint32_t fl;
    unsigned end;
    return v->file && lk->node[0] < fabric_n_nodes(v->file)
           && fabric_port_link(v->file, lk->node[0], lk->port[0], &fl, &end)
           && fabric_link(v->file, fl)->node[!end] == lk->node[1];
}

/* Appends link 'l' to 'links', or to 'hosts' when it attaches a host.
 * False when out of memory. */
static bool
rest_fabric_link(const struct fabric_ctl *fc, const struct fabric_ctl_view *v,
                 uint32_t l, json_t *hosts, json_t *links)
{
    const struct fabric *f = v->fab;
    const struct fabric_link *lk = fabric_link(f, l);
    char a[96], b[96];
    snprintf(a, sizeof a, "%s:%" PRIu32, fabric_node_name(f, lk->node[0]),
             lk->port[0]);
    snprintf(b, sizeof b, "%s:%" PRIu32, fabric_node_name(f, lk->node[1]),
             lk->port[1]);
    json_t *j = json_object();
    bool ok = j != NULL;
    if (fabric_node_kind(f, lk->node[1]) == FABRIC_HOST) {
        ok &= js_set(j, "name",
                     json_string(fabric_node_name(f, lk->node[1])));
        ok &= js_set(j, "nic", json_integer(lk->port[1]));
        ok &= js_set(j, "switch", json_string(a));
        ok &= js_set(j, "capacity_bps", js_u64(lk->capacity_bps));
        return js_append(hosts, js_finish(j, ok));
    }
    uint64_t w = v->router ? router_link_weight(v->router, l) : 0;
    ok &= js_set(j, "a", json_string(a));
    ok &= js_set(j, "b", json_string(b));
    ok &= js_set(j, "capacity_bps", js_u64(lk->capacity_bps));
    ok &= js_set(j, "weight", js_u64(w));
    ok &= js_set(j, "chosen", json_boolean(w >= ROUTER_WEIGHT_MAX));
    ok &= js_set(j, "source", json_string(rest_fabric_in_file(v, lk)
                                              ? "file"
                                              : "lldp"));
    ok &= js_set(j, "lldp", json_boolean(fabric_ctl_lldp_confirms(fc, l)));
    return js_append(links, js_finish(j, ok));
}

static json_t *
rest_fabric_discovered(const struct fabric_ctl *fc, size_t n)
{
    json_t *disc = json_array();
    bool ok = disc != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        struct fabric_dlink_view dl;
        fabric_ctl_dlink(fc, i, &dl);
        if (!dl.alive) {
            continue;
        }
        json_t *j = json_object();
        bool jok = j != NULL;
        jok &= js_set(j, "a", json_string(dl.a));
        jok &= js_set(j, "b", json_string(dl.b));
        jok &= js_set(j, "both_directions",
                      json_boolean(dl.both_directions));
        ok = js_append(disc, js_finish(j, jok));
    }
    return rest_fabric_done(disc, ok);
}

json_t *
rest_fabric_json(struct fabric_ctl *fc)
{
    struct fabric_ctl_view v;
    fabric_ctl_update(fc);
    fabric_ctl_view(fc, &v);
    json_t *o = json_object();
    bool ok = o != NULL;
    ok &= js_set(o, "configured", json_boolean(v.fab != NULL));
    ok &= js_set(o, "file", v.file_path[0] ? json_string(v.file_path)
                                           : json_null());
    ok &= js_set(o, "strategy", json_string(route_strategy_name(v.strategy)));
    ok &= js_set(o, "poll_ms", json_integer(v.poll_ms));
    ok &= js_set(o, "lldp_ms", json_integer(v.lldp_ms));
    ok &= js_set(o, "flow_install_ms", json_integer(v.flow_install_ms));
    ok &= js_set(o, "switches", rest_fabric_switches(fc, v.n_switches));

    json_t *hosts = json_array(), *links = json_array();
    ok &= hosts && links;
    size_t nl = v.fab ? fabric_n_links(v.fab) : 0;
    for (uint32_t l = 0; ok && l < nl; l++) {
        ok = rest_fabric_link(fc, &v, l, hosts, links);
    }
    ok &= js_set(o, "hosts", hosts);
    ok &= js_set(o, "links", links);
    ok &= js_set(o, "discovered", rest_fabric_discovered(fc, v.n_dlinks));
    return rest_fabric_done(o, ok);
}

/* ---- /metrics ---- */

int
rest_fabric_metrics(const struct fabric_ctl *fc, struct strbuf *out)
{
    struct fabric_ctl_view v;
    fabric_ctl_view(fc, &v);
    const struct fabric_ctl_stats *st = v.stats;
    const struct metrics_sample scalars[] = {
        {"mignet_fabric_switches_connected", "gauge", "Fabric switches "
         "with a ready OpenFlow connection.", v.n_switches_ready},
        {"mignet_fabric_links_discovered", "gauge", "Links LLDP currently "
         "confirms.", v.n_dlinks},
        {"mignet_fabric_routes_installed_total", "counter", "Plan paths "
         "whose flows every switch confirmed.", st->routes_installed},
        {"mignet_fabric_flows_installed_total", "counter", "Flows of "
         "confirmed installs.", st->flows_installed},
        {"mignet_fabric_flows_removed_total", "counter", "Flows of ended "
         "migrations removed.", st->flows_removed},
        {"mignet_fabric_install_failures_total", "counter", "Installs a "
         "switch refused or could not take.", st->install_failures},
        {"mignet_fabric_lldp_sent_total", "counter", "LLDP frames sent "
         "(packet-out).", st->lldp_sent},
        {"mignet_fabric_lldp_received_total", "counter", "LLDP frames of "
         "our switches received (packet-in).", st->lldp_received},
        {"mignet_fabric_lldp_foreign_total", "counter", "Packet-ins that "
         "were not our discovery frames.", st->lldp_foreign},
        {"mignet_fabric_stats_polls_total", "counter", "Port statistics "
         "requests sent.", st->stats_polls},
        {"mignet_fabric_stats_replies_total", "counter", "Port statistics "
         "replies fed to the D-R weights.", st->stats_replies},
        {"mignet_plan_errors_total", "counter", "Migrations that could "
         "not be planned.", st->plan_errors},
    };
    int err = metrics_scalars(out, scalars, ARRAY_SIZE(scalars));
    if (!err) {
        err = metrics_head(out, "mignet_plans_total", "counter",
                           "Migration plans by why the seed-004 loop "
                           "stopped (route_only: no estimate asked).");
    }
    for (int s = 0; !err && s <= PLAN_N_STOPS; s++) {
        err = strbuf_printf(out, "mignet_plans_total{stop=\"%s\"} %" PRIu64
                                 "\n",
                            s == FABRIC_STOP_ROUTE_ONLY
                                ? "route_only"
                                : plan_stop_name((enum plan_stop) s),
                            st->plans_by_stop[s]);
    }
    if (!err && v.router) {
        err = metrics_head(out, "mignet_fabric_link_weight", "gauge",
                           "D-R weight of a fabric link: 1 + bytes its two "
                           "ports counted last period (2^50: chosen).");
    }
    size_t nl = v.router ? fabric_n_links(v.fab) : 0;
    for (uint32_t l = 0; !err && l < nl; l++) {
        const struct fabric_link *lk = fabric_link(v.fab, l);
        if (fabric_node_kind(v.fab, lk->node[1]) == FABRIC_HOST) {
            continue;
        }
        err = strbuf_printf(out,
                            "mignet_fabric_link_weight{a=\"%s:%" PRIu32
                            "\",b=\"%s:%" PRIu32 "\"} %" PRIu64 "\n",
                            fabric_node_name(v.fab, lk->node[0]),
                            lk->port[0],
                            fabric_node_name(v.fab, lk->node[1]),
                            lk->port[1], router_link_weight(v.router, l));
    }
    if (!err) {
        err = metrics_render_hist(out, v.plan_hist);
    }
    if (!err) {
        err = metrics_render_hist(out, v.install_hist);
    }
    return err;
}
