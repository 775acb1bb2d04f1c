/* fabric_install.c: a plan's flows on the fabric switches.
 *
 * Installing sends every flow of a plan's paths (fabric_flows.c) to the
 * switches they belong on, each batch closed by a barrier whose answer
 * says whether the switch took it; the plan is installed once every
 * barrier came back clean.  Releasing deletes them by the migration's
 * cookie, again barrier-confirmed.  It never chooses paths (the planner
 * does) and never claims a flow installed before its barrier answered. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/fabric_flows.h"
#include "controller/fabric_priv.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/ofconn.h"
#include "lib/util.h"

#define FC_KEEP_ENDED 1024  /* released plans kept for GET */

struct fc_barrier {
    struct fabric_ctl *fc;
    uint64_t mig;
    bool release;
};

uint16_t
mig_port(const struct fabric_mig *m, size_t path)
{
    return (uint16_t) (m->port0 + path);
}

static void
mig_finish(struct fabric_ctl *fc, struct fabric_mig *m, bool release)
{
    if (!release && m->state != FCM_INSTALLING) {
        return; /* released before its install was confirmed */
    }
    if (release) {
        m->state = FCM_RELEASED;
        m->released_ms = clock_wall_ms();
        fc->stats.flows_removed += m->n_flows;
        log_write(LOG_INF, "fabric", "event=released migration=%" PRIu64
                  " flows=%" PRIu32 " switches=%" PRIu32, m->id, m->n_flows,
                  m->n_switches);
        return;
    }
    m->install_ms = (clock_mono_s() - m->t0) * 1000.0;
    if (m->n_errors) {
        m->state = FCM_FAILED;
        fc->stats.install_failures++;
        log_write(LOG_WARN, "fabric", "event=install_failed migration=%"
                  PRIu64 " errors=%" PRIu32 " error=\"%s\"", m->id,
                  m->n_errors, m->error);
        return;
    }
    m->state = FCM_INSTALLED;
    m->installed_ms = clock_wall_ms();
    fc->stats.routes_installed += mig_n_paths(m);
    fc->stats.flows_installed += m->n_flows;
    metrics_hist_observe(&fc->install_hist, m->install_ms / 1000.0);
    if (m->n_switches) {
        double per = m->install_ms / m->n_switches;
        fc->install_ms_per_switch = fc->install_ms_per_switch > 0
                                        ? 0.8 * fc->install_ms_per_switch
                                              + 0.2 * per
                                        : per;
    }
    log_write(LOG_INF, "fabric", "event=installed migration=%" PRIu64
              " paths=%zu flows=%" PRIu32 " switches=%" PRIu32
              " install_ms=%.3f", m->id, mig_n_paths(m), m->n_flows,
              m->n_switches, m->install_ms);
}

static void
fc_barrier_cb(void *aux, const struct ofconn_barrier_result *r)
{
    struct fc_barrier *b = aux;
    struct fabric_mig *m = fc_mig_find(b->fc, b->mig);
    if (m && m->pending[b->release]) {
        if (r->closed || r->n_errors) {
            m->n_errors += r->closed ? 1 : r->n_errors;
            if (!m->error[0]) {
                if (r->closed) {
                    snprintf(m->error, sizeof m->error,
                             "a switch closed the connection");
                } else {
                    enum ofperr e = ofperr_from_wire(r->first_type,
                                                     r->first_code);
                    snprintf(m->error, sizeof m->error,
                             "switch refused a flow: %s",
                             e ? ofperr_name(e) : "unknown error");
                }
            }
        }
        if (!--m->pending[b->release]) {
            mig_finish(b->fc, m, b->release);
        }
    }
    free(b);
}

/* Sends the flows of 'm' that belong on switch 's' (all paths).  Returns
 * how many. */
uint32_t
mig_send_flows(struct fabric_mig *m, struct fc_switch *s)
{
    uint32_t sent = 0;
    for (size_t i = 0; i < mig_n_paths(m); i++) {
        const struct route *r = mig_path(m, i);
        struct fabric_path_key k = {
            .src_ip = m->src_ip,
            .dst_ip = m->dst_ip,
            .tcp_port = mig_port(m, i),
            .arp = i == 0,
            .cookie = fabric_cookie(m->id, (unsigned) i),
            .priority = m->priority,
        };
        size_t cap = fabric_path_n_flows(r->n_hops, k.arp), n = 0;
        struct fabric_flow *flows = xcalloc(cap ? cap : 1, sizeof *flows);
        if (!fabric_path_flows(r->hops, r->n_hops, &k, flows, &n)) {
            for (size_t j = 0; j < n; j++) {
                if (flows[j].dpid == s->dpid) {
                    fc_send_flow(s, &flows[j].fm);
                    sent++;
                }
            }
            fabric_flows_destroy(flows, n);
        }
        free(flows);
    }
    return sent;
}

/* The distinct switches of 'm''s paths, into 'dpids' (room for every
 * hop).  Returns how many. */
static size_t
mig_dpids(const struct fabric_mig *m, uint64_t *dpids)
{
    size_t n = 0;
    for (size_t i = 0; i < mig_n_paths(m); i++) {
        const struct route *r = mig_path(m, i);
        for (size_t j = 0; j < r->n_hops; j++) {
            size_t k = 0;
            while (k < n && dpids[k] != r->hops[j].dpid) {
                k++;
            }
            if (k == n) {
                dpids[n++] = r->hops[j].dpid;
            }
        }
    }
    return n;
}

static size_t
mig_n_hops(const struct fabric_mig *m)
{
    size_t n = 0;
    for (size_t i = 0; i < mig_n_paths(m); i++) {
        n += mig_path(m, i)->n_hops;
    }
    return n;
}

static void
fc_barrier(struct fabric_ctl *fc, struct fc_switch *s, struct fabric_mig *m,
           bool release)
{
    struct fc_barrier *b = xmalloc(sizeof *b);
    *b = (struct fc_barrier){fc, m->id, release};
    if (ofconn_barrier(s->conn, fc_barrier_cb, b)) {
        free(b);
        m->n_errors++;
        return;
    }
    m->pending[release]++;
}

void
mig_install(struct fabric_ctl *fc, struct fabric_mig *m)
{
    uint64_t *dpids = xcalloc(mig_n_hops(m) + 1, sizeof *dpids);
    size_t n = mig_dpids(m, dpids);
    m->state = FCM_INSTALLING;
    m->t0 = clock_mono_s();
    m->started_ms = clock_wall_ms();
    m->n_switches = (uint32_t) n;
    for (size_t i = 0; i < n; i++) {
        struct fc_switch *s = fc_switch_by_dpid(fc, dpids[i]);
        if (!s) {
            m->n_errors++;
            if (!m->error[0]) {
                char name[80];
                fc_dpid_name(fc, dpids[i], name, sizeof name);
                snprintf(m->error, sizeof m->error,
                         "switch %s is not connected", name);
            }
            continue;
        }
        m->n_flows += mig_send_flows(m, s);
        fc_barrier(fc, s, m, false);
    }
    free(dpids);
    if (!m->pending[0]) {
        mig_finish(fc, m, false);
    }
}

void
mig_release(struct fabric_ctl *fc, struct fabric_mig *m)
{
    uint64_t *dpids = xcalloc(mig_n_hops(m) + 1, sizeof *dpids);
    size_t n = mig_dpids(m, dpids);
    m->state = FCM_RELEASING;
    for (size_t i = 0; i < n; i++) {
        struct fc_switch *s = fc_switch_by_dpid(fc, dpids[i]);
        if (s) {
            /* Unreachable switches lose these flows when they reconnect:
             * every untracked mignet flow is deleted then. */
            struct ofp_flow_mod fm;
            fabric_delete_flows(fabric_cookie(m->id, 0),
                                FABRIC_COOKIE_MIG_MASK, &fm);
            fc_send_flow(s, &fm);
            fc_barrier(fc, s, m, true);
        }
    }
    free(dpids);
    if (m->plan) {
        /* Seed 004: the added paths end with the migration. */
        struct route_hop *hops = NULL;
        size_t nh = 0;
        plan_release(m->plan, &hops, &nh);
        free(hops);
    }
    if (!m->pending[1]) {
        mig_finish(fc, m, true);
    }
}

/* Drops the oldest ended plans beyond FC_KEEP_ENDED. */
void
fc_trim(struct fabric_ctl *fc)
{
    size_t ended = 0;
    for (size_t i = 0; i < fc->n_migs; i++) {
        ended += fc->migs[i]->state == FCM_RELEASED;
    }
    for (size_t i = 0; ended > FC_KEEP_ENDED && i < fc->n_migs;) {
        if (fc->migs[i]->state == FCM_RELEASED) {
            mig_free(fc->migs[i]);
            memmove(&fc->migs[i], &fc->migs[i + 1],
                    (fc->n_migs - i - 1) * sizeof *fc->migs);
            fc->n_migs--;
            ended--;
        } else {
            i++;
        }
    }
}

