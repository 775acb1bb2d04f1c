/* agent_metrics.c: mignet-agent's statistics timer and its /metrics
 * endpoint (shell).
 *
 * A timer has the core ask the switch for the counters of the relay and
 * the port-security drop flows (agent_core_request_stats); GET /metrics
 * renders the core's counters in the Prometheus text format, with the
 * latency summaries and the shell's loop-stall histogram.  It reads; it
 * never changes a flow or the channel. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_vnet.h"
#include "agent/ofctrl.h"
#include "agent/agent_map.h"
#include "agent/map_push.h"
#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "lib/clock.h"
#include "lib/util.h"
#include "mignet/ofp.h"

void
agent_stats_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    agent_core_request_stats(a->core, clock_mono_us());
    agent_flush(a);
    agent_arm_ms(a->stats_timer, a->opt.stats_ms);
}

static int
cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *) x, b = *(const uint64_t *) y;
    return a < b ? -1 : a > b;
}

/* The median, 99th percentile and maximum of 'l' in seconds. */
static void
lat_summary(const struct lat *l, double *p50, double *p99, double *max)
{
    static uint64_t sorted[LAT_SAMPLES];
    memcpy(sorted, l->us, l->n * sizeof *sorted);
    qsort(sorted, l->n, sizeof *sorted, cmp_u64);
    *p50 = l->n ? sorted[l->n / 2] / 1e6 : 0;
    *p99 = l->n ? sorted[(l->n * 99) / 100] / 1e6 : 0;
    *max = l->n ? sorted[l->n - 1] / 1e6 : 0;
}

/* The HELP and TYPE lines of the family mignet_agent_'name'. */
static void
family(struct evbuffer *out, const char *name, const char *type,
       const char *help)
{
    evbuffer_add_printf(out, "# HELP mignet_agent_%s %s\n"
                        "# TYPE mignet_agent_%s %s\n", name, help, name,
                        type);
}

static void
summary(struct evbuffer *out, const char *name, const char *help,
        const struct lat *l)
{
    double p50, p99, max;
    lat_summary(l, &p50, &p99, &max);
    family(out, name, "summary", help);
    evbuffer_add_printf(out,
        "mignet_agent_%s{quantile=\"0.5\"} %.6f\n"
        "mignet_agent_%s{quantile=\"0.99\"} %.6f\n"
        "mignet_agent_%s{quantile=\"1\"} %.6f\n",
        name, p50, name, p99, name, max);
    evbuffer_add_printf(out, "mignet_agent_%s_sum %.6f\n"
                        "mignet_agent_%s_count %" PRIu64 "\n",
                        name, l->sum_us / 1e6, name, l->total);
}

static void
stall_histogram(struct evbuffer *out, const struct stall_hist *h)
{
    family(out, "loop_stall_seconds", "histogram",
           "How late the loop ran a probe timer due every 20 ms.");
    for (size_t i = 0; i < AGENT_STALL_BUCKETS; i++) {
        evbuffer_add_printf(out, "mignet_agent_loop_stall_seconds_bucket"
                            "{le=\"%g\"} %" PRIu64 "\n",
                            agent_stall_le_us[i] / 1e6, h->le[i]);
    }
    evbuffer_add_printf(out,
        "mignet_agent_loop_stall_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
        "mignet_agent_loop_stall_seconds_sum %.6f\n"
        "mignet_agent_loop_stall_seconds_count %" PRIu64 "\n",
        h->count, h->sum_us / 1e6, h->count);
    family(out, "loop_stall_max_seconds", "gauge",
           "The longest loop stall seen.");
    evbuffer_add_printf(out, "mignet_agent_loop_stall_max_seconds %.6f\n",
                        h->max_us / 1e6);
}

/* A family of one sample without labels. */
struct one_sample {
    const char *name, *type, *help;
    uint64_t v;
};

void
agent_metrics_cb(struct evhttp_request *req, void *aux)
{
    struct agent *sh = aux;
    const struct agent_core *a = sh->core;
    struct evbuffer *out = evbuffer_new();
    struct chan_client_stats cs;
    chan_client_get_stats(a->chan, &cs);
    struct ofctrl_stats os = {0};
    if (a->ofctrl) {
        ofctrl_get_stats(a->ofctrl, &os);
    }
    struct map_push_stats ps;
    map_push_get_stats(a->push, &ps);
    struct agent_vnet_stats vs;
    agent_vnet_get_stats(a, &vs);
    const struct one_sample ones[] = {
        {"vnet_switches", "gauge",
         "Tenant virtual switches held on this node.", vs.switches},
        {"vnet_flows", "gauge", "Tenant flows held (every version).",
         vs.flows},
        {"vnet_pushes_total", "counter",
         "Tenant switch pushes applied.", vs.pushes},
        {"vnet_pushes_refused_total", "counter",
         "Tenant switch pushes refused (a flow did not decode: nacked).",
         vs.refused},
        {"vnet_packet_ins_total", "counter",
         "Tenant flows' packet-ins sent up as vnet_packet_in.",
         vs.packet_ins},
        {"vnet_packet_outs_total", "counter",
         "Tenant packet-outs sent to the switch.", vs.packet_outs},
        {"vnet_stats_rounds_total", "counter",
         "Periodic reads of the tenant switches' counters.",
         vs.stats_rounds},
        {"map_pushes_total", "counter",
         "Map pushes received and applied.", ps.applied},
        {"map_push_entries_total", "counter",
         "Map entries the applied pushes carried.", ps.changes},
        {"map_pushes_refused_total", "counter",
         "Map pushes that could not apply (then subscribed again).",
         ps.refused},
        {"map_acks_total", "counter",
         "Pushed map versions acknowledged once their flows were "
         "confirmed.", ps.acks},
        {"flow_batches_total", "counter",
         "Flow batches sent to the switch, each closed by a barrier.",
         os.batches},
        {"flow_batches_confirmed_total", "counter",
         "Flow batches whose barrier came back with no error.",
         os.confirmed},
        {"flow_batches_refused_total", "counter",
         "Flow batches the switch refused a flow mod of: their instructions "
         "were nacked, never acked.", os.refused},
        {"flows_installed", "gauge",
         "Flows in the table the agent last sent.",
         flowtab_count(a->installed)},
        {"flows_confirmed", "gauge",
         "Flows in the switch per the last barrier reply.",
         a->confirmed_flows},
        {"flow_mods_total", "counter", "Flow mods sent.", a->flow_mods},
        {"flows_read", "gauge",
         "The agent's flows the switch held at the last (re)connection.",
         os.read_flows},
        {"relayed_packets_total", "counter",
         "Packets the relay flows carried.", a->relayed_packets},
        {"relay_flows", "gauge", "Relay flows in the switch.",
         a->relay_flows},
        {"spoof_drops_total", "counter",
         "Packets the port-security drop flows dropped.", a->spoof_drops},
        {"portsec_drop_flows", "gauge",
         "Port-security drop flows in the switch.", a->portsec_flows},
        {"dhcp_punts_total", "counter", "DHCP packets punted to the agent.",
         a->dhcp_punts},
        {"dhcp_sent_total", "counter",
         "DHCP packets sent up to the controller.", a->dhcp_sent},
        {"dhcp_bad_total", "counter",
         "Punted DHCP packets that did not parse.", a->dhcp_bad},
        {"bindings_snooped_total", "counter",
         "Bindings the agent built from DHCP ACKs.", a->bindings_snooped},
        {"activation_punts_total", "counter",
         "Frames a watched VM port sent to the agent (activation).",
         a->activation_punts},
        {"activations_total", "counter",
         "Entries the agent activated on their port's first frame.",
         cs.activations},
        {"activated_sent_total", "counter",
         "'activated' reports sent (again after reconnections).",
         cs.activated_sent},
        {"ovsdb_errors_total", "counter",
         "Malformed messages from ovsdb-server (each closed the "
         "connection).", a->ovsdb_errors},
        {"map_version", "gauge", "Version of the agent's map copy.",
         agent_map_version(a->map)},
        {"gateway_polls_total", "counter", "Gateway map polls started.",
         sh->polls},
        {"gateway_poll_errors_total", "counter",
         "Gateway map polls that failed or returned a bad map.",
         sh->poll_errors + a->map_errors},
        {"instructions_refused_total", "counter",
         "Instructions refused (stale or invalid).", cs.refused},
        {"openflow_errors_total", "counter",
         "OpenFlow errors the switch sent.", a->of_errors},
        {"openflow_connects_total", "counter",
         "OpenFlow connections to the switch.", a->of_connects},
        {"biggest_batch_flow_mods", "gauge",
         "Most flow mods one barrier confirmed.", a->biggest_batch},
        {"openflow_connected", "gauge",
         "1 when the OpenFlow session with the switch is up.", a->of_ready},
        {"channel_connected", "gauge",
         "1 when the agent channel to mignetd is welcomed.",
         chan_client_welcomed(a->chan)},
    };
    family(out, "build_info", "gauge", "The agent's version.");
    evbuffer_add_printf(out, "mignet_agent_build_info{version=\"%s\"} 1\n",
                        MIGNET_AGENT_VERSION);
    for (size_t i = 0; i < ARRAY_SIZE(ones); i++) {
        family(out, ones[i].name, ones[i].type, ones[i].help);
        evbuffer_add_printf(out, "mignet_agent_%s %" PRIu64 "\n",
                            ones[i].name, ones[i].v);
    }
    family(out, "instructions_total", "counter",
           "Instructions received on the agent channel, by kind.");
    evbuffer_add_printf(out,
        "mignet_agent_instructions_total{kind=\"install\"} %" PRIu64 "\n"
        "mignet_agent_instructions_total{kind=\"relay\"} %" PRIu64 "\n"
        "mignet_agent_instructions_total{kind=\"delete\"} %" PRIu64 "\n",
        cs.installs, cs.relays, cs.deletes);
    family(out, "resync_confirmed_seconds", "gauge",
           "The last channel resync's end to the barrier confirming it.");
    evbuffer_add_printf(out, "mignet_agent_resync_confirmed_seconds %.6f\n",
                        a->resync_confirmed_us / 1e6);
    family(out, "biggest_batch_seconds", "gauge",
           "Time from that batch's first send to its barrier reply.");
    evbuffer_add_printf(out, "mignet_agent_biggest_batch_seconds %.6f\n",
                        a->biggest_batch_us / 1e6);
    summary(out, "instruction_latency_seconds",
            "Instruction arrival to its barrier reply.", &a->instr_lat);
    summary(out, "dhcp_ack_to_enforced_seconds",
            "DHCP ACK seen to its binding's flows confirmed.",
            &a->enforce_lat);
    stall_histogram(out, &sh->stall);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}
