/* metrics.c: counters, histograms and the Prometheus text exposition.
 *
 * Metric names follow Prometheus conventions (base units: seconds; _total
 * for counters).  Rendering reads the counters and the core's statistics
 * and must never change either. */
#include "controller/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lib/strbuf.h"
#include "lib/util.h"

void
metrics_hist_init(struct metrics_hist *h, const char *name, const char *help,
                  const double *bounds, size_t n)
{
    memset(h, 0, sizeof *h);
    h->name = name;
    h->help = help;
    h->n_bounds = n < METRICS_MAX_BUCKETS ? n : METRICS_MAX_BUCKETS;
    memcpy(h->bounds, bounds, h->n_bounds * sizeof *bounds);
}

void
metrics_hist_observe(struct metrics_hist *h, double v)
{
    size_t i = 0;
    while (i < h->n_bounds && v > h->bounds[i]) {
        i++;
    }
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

void
metrics_init(struct metrics *m)
{
    static const double delay_s[] = {
        0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128,
    };
    static const double commit_s[] = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
        0.1, 0.25, 1,
    };
    static const double install_s[] = {
        0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.1,
    };
    memset(m, 0, sizeof *m);
    metrics_hist_init(&m->delay, "mignet_deletion_delay_seconds",
                      "Deletion delay chosen when a migration starts "
                      "relaying.",
                      delay_s, sizeof delay_s / sizeof delay_s[0]);
    metrics_hist_init(&m->commit, "mignet_store_commit_seconds",
                      "Latency of one durable store commit (a batch).",
                      commit_s, sizeof commit_s / sizeof commit_s[0]);
    metrics_hist_init(&m->install, "mignet_migrate_install_seconds",
                      "From handling POST migrate to writing the "
                      "destination's install to its agent socket.",
                      install_s, sizeof install_s / sizeof install_s[0]);
}

void
metrics_count_api(struct metrics *m, int status)
{
    if (status >= 100 && status < 600) {
        m->api_requests[status]++;
    }
}

int
metrics_head(struct strbuf *out, const char *name, const char *type,
             const char *help)
{
    return strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
                         name, type);
}

int
metrics_scalar(struct strbuf *out, const char *name, const char *type,
               const char *help, uint64_t v)
{
    int err = metrics_head(out, name, type, help);
    return err ? err : strbuf_printf(out, "%s %" PRIu64 "\n", name, v);
}

int
metrics_scalars(struct strbuf *out, const struct metrics_sample *v, size_t n)
{
    int err = 0;
    for (size_t i = 0; !err && i < n; i++) {
        err = metrics_scalar(out, v[i].name, v[i].type, v[i].help, v[i].v);
    }
    return err;
}

int
metrics_render_hist(struct strbuf *out, const struct metrics_hist *h)
{
    int err = metrics_head(out, h->name, "histogram", h->help);
    uint64_t cum = 0;
    for (size_t i = 0; !err && i < h->n_bounds; i++) {
        cum += h->counts[i];
        err = strbuf_printf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n",
                            h->name, h->bounds[i], cum);
    }
    if (!err) {
        err = strbuf_printf(out,
                            "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n"
                            "%s_sum %.9g\n%s_count %" PRIu64 "\n",
                            h->name, h->count, h->name, h->sum, h->name,
                            h->count);
    }
    return err;
}

int
metrics_render(const struct metrics *m, const struct core *core,
               struct strbuf *out)
{
    struct core_stats st;
    core_get_stats(core, &st);
    int err = metrics_head(out, "mignet_migrations", "gauge",
                           "Migrations by their current phase.");
    for (int p = 0; !err && p < MIG_N_PHASES; p++) {
        err = strbuf_printf(out, "mignet_migrations{phase=\"%s\"} %" PRIu64
                                 "\n",
                            mig_phase_name((enum mig_phase) p),
                            st.migrations_by_phase[p]);
    }
    const struct metrics_sample scalars[] = {
        {"mignet_tasks_pending", "gauge", "Pending tasks (deletions and "
         "prepare timeouts).", st.tasks_pending},
        {"mignet_tasks_fired_total", "counter", "Pending tasks that ran.",
         st.tasks_fired},
        {"mignet_tasks_cancelled_total", "counter", "Pending tasks run "
         "first or cancelled when a VM returned (I4).", st.tasks_cancelled},
        {"mignet_relays_retargeted_total", "counter", "Relays pointed at "
         "a newer location (I5).", st.relays_retargeted},
        {"mignet_deletions_released_early_total", "counter", "Deletions "
         "ended early by acknowledgements.", st.released_early},
        {"mignet_deletions_held_total", "counter", "Deletions held past "
         "their delay for a silent node (the silence hold).",
         st.deletions_held},
        {"mignet_deletions_forced_total", "counter", "Held deletions run "
         "at the delay ceiling with a node still silent.",
         st.deletions_forced},
        {"mignet_prepare_timeouts_total", "counter", "Migrations that "
         "relayed without both agents' acknowledgements.",
         st.prepare_timeouts},
        {"mignet_migrations_degraded_total", "counter", "Migrations "
         "switched over without both agents' confirmation in time.",
         st.migrations_degraded},
        {"mignet_migrations_deadline_aborts_total", "counter", "Migrations "
         "aborted because their prepare deadline passed.",
         st.migrations_aborted_deadline},
        {"mignet_agent_nacks_total", "counter", "Negative acknowledgements "
         "from agents: Open vSwitch refused a flow of an instruction.",
         st.agent_nacks},
        {"mignet_core_instructions_total", "counter", "Instructions the "
         "core issued.", st.instructions},
        {"mignet_map_version", "gauge", "Gateway map version.",
         core_map_version(core)},
        {"mignet_agents_connected", "gauge", "Registered agent sessions.",
         m->agents_connected},
        {"mignet_agent_sessions_total", "counter", "Agent connections "
         "accepted.", m->agent_sessions},
        {"mignet_agent_errors_total", "counter", "Error messages sent to "
         "agents.", m->agent_errors},
        {"mignet_agent_refused_total", "counter", "Instructions agents "
         "refused (stale epoch).", m->agent_refused},
        {"mignet_map_pushes_total", "counter", "Map pushes sent to "
         "subscribed agents.", m->map_pushes},
        {"mignet_map_push_entries_total", "counter", "Map entries carried "
         "by map pushes.", m->map_push_entries},
        {"mignet_map_acks_total", "counter", "Pushed map versions agents "
         "acknowledged (map_ack; not refresh samples).", m->map_acks},
        {"mignet_agents_subscribed", "gauge", "Agent sessions subscribed "
         "to map push.", m->agents_subscribed},
        {"mignet_instructions_unrouted_total", "counter", "Instructions "
         "for nodes without a session (sent at resync instead).",
         m->instructions_unrouted},
        {"mignet_wrong_deletes_total", "counter", "Deletions that hit a "
         "current placement (strategies without checks only).",
         m->wrong_deletes},
        {"mignet_store_commits_total", "counter", "Durable store commits.",
         m->store_commits},
        {"mignet_store_failures_total", "counter", "Failed store "
         "commits.", m->store_failures},
        {"mignet_store_batches_cut_total", "counter", "Batches committed "
         "early to stay within the store's bound on a commit "
         "(--store-max-txn-ops).", m->batches_cut},
        {"mignet_bindings_lease_expiries_total", "counter", "Dynamic "
         "bindings removed because their lease ended.", st.lease_expiries},
        {"mignet_dhcp_snooped_total", "counter", "DHCP server messages "
         "agents sent up (controller snooping).", m->dhcp_received},
        {"mignet_dhcp_rejected_total", "counter", "Snooped DHCP messages "
         "refused (malformed, unknown VM, conflict).", m->dhcp_rejected},
        {"mignet_binding_reports_total", "counter", "Bindings agents "
         "reported (agent snooping).", m->binding_reports},
        {"mignet_binding_reports_refused_total", "counter", "Agent "
         "binding reports refused.", m->binding_reports_refused},
        {"mignet_agent_unauthorized_total", "counter", "Agent hellos "
         "refused for want of a valid node credential.",
         m->agent_unauthorized},
        {"mignet_agent_forbidden_total", "counter", "Agent messages "
         "refused because they spoke for another node.", m->agent_forbidden},
        {"mignet_agent_read_pauses_total", "counter", "Times an agent "
         "session was not read until it took its queued output.",
         m->agent_read_pauses},
        {"mignet_map_reads_unauthenticated_total", "counter", "Map reads "
         "naming a node without its token (no acknowledgement).",
         m->map_reads_unauthenticated},
        {"mignet_refresh_samples_ignored_total", "counter", "Refreshes "
         "too soon after the last sample to be one.", st.refreshes_ignored},
    };
    if (!err) {
        err = metrics_scalars(out, scalars, ARRAY_SIZE(scalars));
    }
    uint64_t by_state[CORE_NODE_N_STATES] = {0};
    struct core_node_info ni;
    for (uint32_t i = 0; i < core_n_nodes(core); i++) {
        if (core_node_info(core, i, &ni)) {
            by_state[ni.state]++;
        }
    }
    if (!err) {
        err = metrics_head(out, "mignet_nodes", "gauge",
                           "Nodes by lifecycle state (cordon, drain).");
    }
    for (int s = 0; !err && s < CORE_NODE_N_STATES; s++) {
        err = strbuf_printf(out, "mignet_nodes{state=\"%s\"} %" PRIu64 "\n",
                            core_node_state_name((enum core_node_state) s),
                            by_state[s]);
    }
    if (!err) {
        err = metrics_head(out, "mignet_bindings", "gauge",
                           "Port-security bindings by type.");
    }
    for (int t = 0; !err && t < BINDING_N_TYPES; t++) {
        err = strbuf_printf(out, "mignet_bindings{type=\"%s\"} %" PRIu64
                                 "\n",
                            binding_type_name((enum binding_type) t),
                            st.bindings_by_type[t]);
    }
    if (!err) {
        err = metrics_head(out, "mignet_bindings_created_total", "counter",
                           "Bindings created, by origin.");
    }
    for (int o = 0; !err && o < BINDING_N_ORIGINS; o++) {
        err = strbuf_printf(out,
                            "mignet_bindings_created_total{origin=\"%s\"} "
                            "%" PRIu64 "\n",
                            binding_origin_name((enum binding_origin) o),
                            st.bindings_by_origin[o]);
    }
    if (!err) {
        err = metrics_head(out, "mignet_instructions_sent_total", "counter",
                           "Instructions written to agent sessions.");
    }
    for (int k = INSTR_INSTALL; !err && k <= INSTR_DELETE; k++) {
        err = strbuf_printf(out,
                            "mignet_instructions_sent_total{kind=\"%s\"} "
                            "%" PRIu64 "\n",
                            instr_kind_name((enum instr_kind) k),
                            m->instructions_sent[k]);
    }
    if (!err) {
        err = metrics_head(out, "mignet_api_requests_total", "counter",
                           "Northbound API requests by status code.");
    }
    for (int code = 100; !err && code < 600; code++) {
        if (m->api_requests[code]) {
            err = strbuf_printf(out,
                                "mignet_api_requests_total{code=\"%d\"} "
                                "%" PRIu64 "\n",
                                code, m->api_requests[code]);
        }
    }
    if (!err) {
        err = metrics_render_hist(out, &m->delay);
    }
    if (!err) {
        err = metrics_render_hist(out, &m->commit);
    }
    if (!err) {
        err = metrics_render_hist(out, &m->install);
    }
    return err;
}
