/* agent_metrics.c: mignet-agent's statistics and its /metrics endpoint.
 *
 * A timer asks the switch for the counters of the relay and the
 * port-security drop flows; the replies feed the counters that GET
 * /metrics renders in the Prometheus text format, with the latency
 * summaries.  It reads and counts; it never changes a flow or the
 * channel (it only asks for a sync once a snooped lease has ended). */
#include <event2/buffer.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_map.h"
#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "lib/clock.h"
#include "mignet/binding.h"
#include "mignet/ofp.h"

void
agent_lat_add(struct lat *l, uint64_t us)
{
    l->us[l->total++ % LAT_SAMPLES] = us;
    if (l->n < LAT_SAMPLES) {
        l->n++;
    }
}

void
agent_relay_stats(struct agent *a, const struct ofp_multipart *mp)
{
    struct ofp_mp_iter it;
    struct ofp_flow_stats fs;
    uint64_t packets = 0, flows = 0;
    ofp_mp_iter_init(&it, mp);
    while (ofp_flow_stats_next(&it, &fs)) {
        packets += fs.packet_count;
        flows++;
    }
    /* Relay flows come and go; the counter grows by what the current ones
     * carried since the last reading (a flow deleted between two readings
     * takes its last increments with it). */
    if (packets >= a->relay_sum) {
        a->relayed_packets += packets - a->relay_sum;
    }
    a->relay_sum = packets;
    a->relay_flows = flows;
}

void
agent_portsec_stats(struct agent *a, const struct ofp_multipart *mp)
{
    struct ofp_mp_iter it;
    struct ofp_flow_stats fs;
    uint64_t packets = 0, flows = 0;
    ofp_mp_iter_init(&it, mp);
    while (ofp_flow_stats_next(&it, &fs)) {
        /* Drop flows have no instructions; the allow flows go on. */
        if (fs.table_id == PL_T_PORTSEC && !fs.insts.present) {
            packets += fs.packet_count;
            flows++;
        }
    }
    if (packets >= a->portsec_sum) {
        a->spoof_drops += packets - a->portsec_sum;
    }
    a->portsec_sum = packets;
    a->portsec_flows = flows;
}

void
agent_stats_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (a->of_ready) {
        struct ofp_msg req;
        ofp_msg_init(&req, OFPT_MULTIPART_REQUEST, 0);
        req.mp.type = OFPMP_FLOW;
        req.mp.flow_req.table_id = OFPTT_ALL;
        req.mp.flow_req.out_port = OFPP_ANY;
        req.mp.flow_req.out_group = OFPG_ANY;
        req.mp.flow_req.cookie = pl_cookie_kind(PL_K_RELAY);
        req.mp.flow_req.cookie_mask = PL_COOKIE_KIND_MASK;
        agent_of_send_msg(a, &req); /* the session sets the xid */
        a->stats_xid = req.xid;
        req.mp.flow_req.table_id = PL_T_PORTSEC;
        req.mp.flow_req.cookie = pl_cookie_kind(PL_K_PORTSEC);
        agent_of_send_msg(a, &req);
        a->portsec_xid = req.xid;
        /* A snooped binding's lease may have ended. */
        if (binding_table_count(a->snooped)) {
            uint64_t due;
            if (binding_table_next_expiry(a->snooped, &due)
                && due <= clock_wall_ms()) {
                agent_schedule_sync(a);
            }
        }
    }
    agent_arm_ms(a->stats_timer, a->opt.stats_ms);
}

static int
cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *) x, b = *(const uint64_t *) y;
    return a < b ? -1 : a > b;
}

/* The median, 99th percentile and maximum of 'l' in milliseconds. */
static void
lat_summary(const struct lat *l, double *p50, double *p99, double *max)
{
    static uint64_t sorted[LAT_SAMPLES];
    memcpy(sorted, l->us, l->n * sizeof *sorted);
    qsort(sorted, l->n, sizeof *sorted, cmp_u64);
    *p50 = l->n ? sorted[l->n / 2] / 1000.0 : 0;
    *p99 = l->n ? sorted[(l->n * 99) / 100] / 1000.0 : 0;
    *max = l->n ? sorted[l->n - 1] / 1000.0 : 0;
}

void
agent_metrics_cb(struct evhttp_request *req, void *aux)
{
    struct agent *a = aux;
    struct evbuffer *out = evbuffer_new();
    struct chan_client_stats cs;
    chan_client_get_stats(a->chan, &cs);
    double p50, p99, max, e50, e99, emax;
    lat_summary(&a->instr_lat, &p50, &p99, &max);
    lat_summary(&a->enforce_lat, &e50, &e99, &emax);
    evbuffer_add_printf(out,
        "# TYPE mignet_agent_flows_installed gauge\n"
        "mignet_agent_flows_installed %zu\n"
        "# TYPE mignet_agent_flows_confirmed gauge\n"
        "mignet_agent_flows_confirmed %zu\n"
        "# TYPE mignet_agent_flow_mods_total counter\n"
        "mignet_agent_flow_mods_total %" PRIu64 "\n"
        "# TYPE mignet_agent_relayed_packets_total counter\n"
        "mignet_agent_relayed_packets_total %" PRIu64 "\n"
        "# TYPE mignet_agent_relay_flows gauge\n"
        "mignet_agent_relay_flows %" PRIu64 "\n"
        "# TYPE mignet_agent_instruction_latency_ms summary\n"
        "mignet_agent_instruction_latency_ms{quantile=\"0.5\"} %.3f\n"
        "mignet_agent_instruction_latency_ms{quantile=\"0.99\"} %.3f\n"
        "mignet_agent_instruction_latency_ms_count %" PRIu64 "\n"
        "# TYPE mignet_agent_dhcp_ack_to_enforced_ms summary\n"
        "mignet_agent_dhcp_ack_to_enforced_ms{quantile=\"0.5\"} %.3f\n"
        "mignet_agent_dhcp_ack_to_enforced_ms{quantile=\"0.99\"} %.3f\n"
        "mignet_agent_dhcp_ack_to_enforced_ms{quantile=\"1\"} %.3f\n"
        "mignet_agent_dhcp_ack_to_enforced_ms_count %" PRIu64 "\n"
        "# TYPE mignet_agent_spoof_drops_total counter\n"
        "mignet_agent_spoof_drops_total %" PRIu64 "\n"
        "# TYPE mignet_agent_portsec_drop_flows gauge\n"
        "mignet_agent_portsec_drop_flows %" PRIu64 "\n"
        "# TYPE mignet_agent_dhcp_punts_total counter\n"
        "mignet_agent_dhcp_punts_total %" PRIu64 "\n"
        "mignet_agent_dhcp_sent_total %" PRIu64 "\n"
        "mignet_agent_dhcp_bad_total %" PRIu64 "\n"
        "mignet_agent_bindings_snooped_total %" PRIu64 "\n"
        "# TYPE mignet_agent_map_version gauge\n"
        "mignet_agent_map_version %" PRIu64 "\n"
        "# TYPE mignet_agent_gateway_polls_total counter\n"
        "mignet_agent_gateway_polls_total %" PRIu64 "\n"
        "mignet_agent_gateway_poll_errors_total %" PRIu64 "\n"
        "# TYPE mignet_agent_instructions_total counter\n"
        "mignet_agent_instructions_total{kind=\"install\"} %" PRIu64 "\n"
        "mignet_agent_instructions_total{kind=\"relay\"} %" PRIu64 "\n"
        "mignet_agent_instructions_total{kind=\"delete\"} %" PRIu64 "\n"
        "mignet_agent_instructions_refused_total %" PRIu64 "\n"
        "mignet_agent_openflow_errors_total %" PRIu64 "\n"
        "mignet_agent_openflow_connects_total %" PRIu64 "\n"
        "# TYPE mignet_agent_biggest_batch_flow_mods gauge\n"
        "mignet_agent_biggest_batch_flow_mods %zu\n"
        "mignet_agent_biggest_batch_seconds %.6f\n"
        "mignet_agent_openflow_connected %d\n"
        "mignet_agent_channel_connected %d\n",
        flowtab_count(a->installed), a->confirmed_flows, a->flow_mods,
        a->relayed_packets, a->relay_flows, p50, p99, a->instr_lat.total,
        e50, e99, emax, a->enforce_lat.total, a->spoof_drops, a->portsec_flows,
        a->dhcp_punts, a->dhcp_sent, a->dhcp_bad, a->bindings_snooped,
        agent_map_version(a->map), a->polls, a->poll_errors, cs.installs,
        cs.relays, cs.deletes, cs.refused, a->of_errors, a->of_connects,
        a->biggest_batch, a->biggest_batch_us / 1e6, a->of_ready,
        chan_client_welcomed(a->chan));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}
