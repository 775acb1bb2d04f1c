/* fabric_ctl.c: the fabric's switches, links, statistics, plans and flows.
 *
 * One OpenFlow connection per switch (lib/ofconn) on mignetd's loop: to
 * each configured switch (reconnected with backoff), and from each switch
 * that dials in on --fabric-listen.  On connect: ask for packet-ins and
 * port changes, delete every flow with mignet's cookie tag, punt LLDP to
 * the controller, re-install the flows of live plans, learn the ports
 * and send LLDP out of each.  A poll timer feeds port counters to the
 * router (D-R weights); an LLDP timer re-sends discovery frames and
 * expires links not heard for three periods.  Plans are made with the
 * planner (src/planner) and installed as flows (fabric_flows.c), each
 * batch closed by a barrier whose answer says whether the switch took it.
 * The fabric model is rebuilt from the topology file and the live links
 * whenever they change, before it is next used.  Nothing here blocks, and
 * nothing here talks to the core. */
#include "controller/fabric_ctl.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "controller/ctl.h"
#include "controller/fabric_flows.h"
#include "controller/metrics.h"
#include "controller/options.h"
#include "controller/rest_parse.h"
#include "lib/addr.h"
#include "lib/lldp.h"
#include "lib/log.h"
#include "lib/ofconn.h"
#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/util.h"
#include "mignet/core.h"
#include "mignet/planner.h"

#define FC_RETRY_MIN_MS 200
#define FC_RETRY_MAX_MS 5000
#define FC_MAX_PORTS 4096
#define FC_KEEP_ENDED 1024  /* released plans kept for GET */
#define FC_MAX_SLOTS 64     /* concurrent plans per host pair */

struct fc_port {
    uint32_t no;
    uint8_t mac[6];
    bool up;
};

struct fc_switch {
    struct fabric_ctl *fc;
    char name[OPTIONS_SWITCH_NAME_MAX + 1];
    char target[OPTIONS_TARGET_MAX]; /* configured, or the peer that dialed */
    bool dialed_in;              /* accepted on --fabric-listen */
    bool dead;                   /* dialed in and gone: to be freed */
    struct ofconn *conn;
    struct event *retry;         /* configured switches: reconnect */
    uint32_t retry_ms;
    bool ready;
    uint64_t dpid;
    struct fc_port *ports;
    size_t n_ports, cap_ports;
    uint64_t connects, lldp_sent, lldp_received, errors;
};

/* A link LLDP found, ends ordered by (dpid, port). */
struct fc_dlink {
    uint64_t dpid[2];
    uint32_t port[2];
    int64_t seen_ms[2]; /* frame from end i seen at the other; 0 = never */
};

/* The last two counter samples of a switch port, replayed into a new
 * router when the fabric is rebuilt so D-R weights survive it. */
struct fc_sample {
    uint64_t dpid;
    uint32_t port;
    unsigned n;          /* samples held, 0..2; [1] is the newer */
    uint64_t tx[2], rx[2];
    int64_t t[2];
};

#define FCM_STATES                                                          \
    FCM_STATE(INSTALLING, "installing")                                     \
    FCM_STATE(INSTALLED, "installed")                                       \
    FCM_STATE(FAILED, "failed")                                             \
    FCM_STATE(RELEASING, "releasing")                                       \
    FCM_STATE(RELEASED, "released")

enum fcm_state {
#define FCM_STATE(ENUM, NAME) FCM_##ENUM,
    FCM_STATES
#undef FCM_STATE
};

static const char *const fcm_names[] = {
#define FCM_STATE(ENUM, NAME) NAME,
    FCM_STATES
#undef FCM_STATE
};

struct fabric_mig {
    uint64_t id;                 /* 0 until the core accepted it */
    uint32_t src_ip, dst_ip;
    uint32_t slot;
    uint16_t port0;              /* TCP port of path 0 */
    uint16_t priority;
    struct plan *plan;           /* NULL: a route only (no estimate) */
    struct route route;          /* that route */
    bool dr_first;               /* path 0 was a D-R choice (marked) */
    uint64_t period;             /* the statistics period it was made in */
    json_t *request;             /* what was planned for, for GET */
    json_t *paths;               /* names fixed at planning time */
    json_t *steps;
    double planning_s;

    enum fcm_state state;
    unsigned pending[2];         /* barriers outstanding: install, release */
    uint32_t n_flows, n_switches, n_errors;
    char error[160];
    double t0;                   /* monotonic start of install/release */
    uint64_t started_ms, installed_ms, released_ms; /* Unix ms; 0 = not */
    double install_ms;
};

#define FC_STOP_ROUTE_ONLY PLAN_N_STOPS /* plans_by_stop[] slot */

struct fabric_ctl {
    struct ctl *ctl;
    const struct options_fabric *opt;
    struct fabric *file;         /* the topology file, NULL if none */
    struct fabric *fab;          /* file + live links; NULL if neither */
    struct router *router;
    bool dirty;                  /* rebuild before the next use */
    struct plan_config pcfg;
    enum route_strategy strategy;
    double install_ms_per_switch; /* smoothed, for pcfg.flow_install_ms */

    struct fc_switch **sw;
    size_t n_sw, cap_sw;
    struct evconnlistener *listener;
    char listen_path[OPTIONS_TARGET_MAX]; /* a unix socket to unlink */
    struct fc_dlink *links;
    size_t n_links, cap_links;
    struct fabric_mig **migs;
    size_t n_migs, cap_migs;
    struct fc_sample *samples;
    size_t n_samples, cap_samples;
    uint64_t period;             /* statistics periods begun */

    struct event *poll_timer, *lldp_timer;
    struct event *reaper;        /* frees switches that dialed in and left */

    uint64_t plans_by_stop[PLAN_N_STOPS + 1];
    uint64_t plan_errors, routes_installed, flows_installed, flows_removed;
    uint64_t install_failures, lldp_sent, lldp_received, lldp_foreign;
    uint64_t stats_polls, stats_replies, rebuilds, links_expired;
    struct metrics_hist plan_hist, install_hist;
};

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                          */

static int64_t
fc_now(void)
{
    return sock_now_ms();
}

static void
fc_arm(struct event *ev, uint32_t ms)
{
    struct timeval tv = {
        .tv_sec = (time_t) (ms / 1000),
        .tv_usec = (suseconds_t) (ms % 1000) * 1000,
    };
    evtimer_add(ev, &tv);
}

static struct fc_switch *
fc_switch_by_dpid(struct fabric_ctl *fc, uint64_t dpid)
{
    for (size_t i = 0; i < fc->n_sw; i++) {
        if (fc->sw[i]->ready && fc->sw[i]->dpid == dpid) {
            return fc->sw[i];
        }
    }
    return NULL;
}

static struct fabric_mig *
fc_mig_find(const struct fabric_ctl *fc, uint64_t id)
{
    for (size_t i = 0; i < fc->n_migs; i++) {
        if (fc->migs[i]->id == id) {
            return fc->migs[i];
        }
    }
    return NULL;
}

static size_t
mig_n_paths(const struct fabric_mig *m)
{
    return m->plan ? plan_n_paths(m->plan) : 1;
}

static const struct route *
mig_path(const struct fabric_mig *m, size_t i)
{
    return m->plan ? plan_path(m->plan, i) : &m->route;
}

static bool
mig_live(const struct fabric_mig *m)
{
    return m->state == FCM_INSTALLING || m->state == FCM_INSTALLED
           || m->state == FCM_FAILED;
}

static void
mig_free(struct fabric_mig *m)
{
    if (m) {
        plan_destroy(m->plan);
        route_destroy(&m->route);
        json_decref(m->request);
        json_decref(m->paths);
        json_decref(m->steps);
        free(m);
    }
}

static void
fc_set(json_t *obj, const char *key, json_t *v)
{
    if (!v || json_object_set_new(obj, key, v)) {
        out_of_memory();
    }
}

static void
fc_append(json_t *arr, json_t *v)
{
    if (!v || json_array_append_new(arr, v)) {
        out_of_memory();
    }
}

static json_t *
fc_time(uint64_t ms)
{
    return ms ? json_integer((json_int_t) ms) : json_null();
}

static json_t *
fc_dpid_json(uint64_t dpid)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%016" PRIx64, dpid);
    return json_string(buf);
}

/* A switch's name if the fabric knows its dpid, else the dpid. */
static void
fc_dpid_name(const struct fabric_ctl *fc, uint64_t dpid, char *buf,
             size_t len)
{
    uint32_t node;
    if (fc->fab && fabric_find_dpid(fc->fab, dpid, &node)) {
        snprintf(buf, len, "%s", fabric_node_name(fc->fab, node));
    } else {
        snprintf(buf, len, "0x%" PRIx64, dpid);
    }
}

/* "s1:4" for an end of a link, by name if the fabric knows the dpid. */
static void
fc_end_name(const struct fabric_ctl *fc, uint64_t dpid, uint32_t port,
            char *buf, size_t len)
{
    char name[80];
    fc_dpid_name(fc, dpid, name, sizeof name);
    snprintf(buf, len, "%s:%" PRIu32, name, port);
}

/* ---------------------------------------------------------------------- */
/* The fabric model: the file's nodes and links, then the live ones.      */

static bool
fc_dlink_alive(const struct fabric_ctl *fc, const struct fc_dlink *l,
               int64_t now)
{
    int64_t last = l->seen_ms[0] > l->seen_ms[1] ? l->seen_ms[0]
                                                 : l->seen_ms[1];
    return last && now - last <= 3 * (int64_t) fc->opt->lldp_ms;
}

/* Copies the file's nodes (same indices) and links into 'f'. */
static enum fabric_err
fc_copy_file(const struct fabric *file, struct fabric *f)
{
    enum fabric_err e = FABRIC_E_OK;
    size_t n = fabric_n_nodes(file);
    for (uint32_t i = 0; !e && i < n; i++) {
        const char *name = fabric_node_name(file, i);
        e = fabric_node_kind(file, i) == FABRIC_SWITCH
                ? fabric_add_switch(f, name, fabric_node_dpid(file, i), NULL)
                : fabric_add_host(f, name, NULL);
    }
    size_t nl = fabric_n_links(file);
    for (uint32_t i = 0; !e && i < nl; i++) {
        const struct fabric_link *l = fabric_link(file, i);
        bool h0 = fabric_node_kind(file, l->node[0]) == FABRIC_HOST;
        bool h1 = fabric_node_kind(file, l->node[1]) == FABRIC_HOST;
        if (h0 || h1) {
            unsigned h = h0 ? 0 : 1;
            e = fabric_attach(f, l->node[h], l->node[!h], l->port[!h],
                              l->capacity_bps, NULL);
        } else {
            e = fabric_add_link(f, l->node[0], l->port[0], l->node[1],
                                l->port[1], l->capacity_bps, NULL);
        }
    }
    return e;
}

/* 'r' with its links looked up again in the current fabric from its hops
 * (a rebuild renumbers links); links that are gone are left out. */
static void
fc_remark(struct fabric_ctl *fc, const struct route *r)
{
    uint32_t *links = xcalloc(r->n_hops * 2 + 1, sizeof *links);
    size_t n = 0;
    for (size_t i = 0; i < r->n_hops; i++) {
        const struct route_hop *h = &r->hops[i];
        uint32_t node, link;
        unsigned end;
        if (!fabric_find_dpid(fc->fab, h->dpid, &node)) {
            continue;
        }
        if (fabric_port_link(fc->fab, node, h->in_port, &link, &end)) {
            links[n++] = link;
        }
        if (i + 1 == r->n_hops
            && fabric_port_link(fc->fab, node, h->out_port, &link, &end)) {
            links[n++] = link;
        }
    }
    struct route tmp;
    route_init(&tmp);
    tmp.n_links = n;
    tmp.links = links;
    router_mark(fc->router, &tmp);
    free(links);
}

/* A new router starts where the old one was: the port samples of the
 * last two polls, and this period's D-R choices at maximum weight. */
static void
fc_replay(struct fabric_ctl *fc)
{
    for (size_t i = 0; i < fc->n_samples; i++) {
        const struct fc_sample *sp = &fc->samples[i];
        for (unsigned k = 2 - sp->n; k < 2; k++) {
            (void) router_port_stats(fc->router, sp->dpid, sp->port,
                                     sp->tx[k], sp->rx[k],
                                     (uint64_t) sp->t[k]);
        }
    }
    for (size_t i = 0; i < fc->n_migs; i++) {
        const struct fabric_mig *m = fc->migs[i];
        if (!mig_live(m) || m->period != fc->period) {
            continue;
        }
        for (size_t p = m->dr_first ? 0 : 1; p < mig_n_paths(m); p++) {
            fc_remark(fc, mig_path(m, p));
        }
    }
}

static void
fc_sample(struct fabric_ctl *fc, uint64_t dpid, uint32_t port, uint64_t tx,
          uint64_t rx, int64_t now)
{
    struct fc_sample *sp = NULL;
    for (size_t i = 0; i < fc->n_samples && !sp; i++) {
        if (fc->samples[i].dpid == dpid && fc->samples[i].port == port) {
            sp = &fc->samples[i];
        }
    }
    if (!sp) {
        fc->samples = xgrow(fc->samples, &fc->cap_samples,
                            fc->n_samples + 1, sizeof *fc->samples);
        sp = &fc->samples[fc->n_samples++];
        *sp = (struct fc_sample){.dpid = dpid, .port = port};
    }
    sp->tx[0] = sp->tx[1];
    sp->rx[0] = sp->rx[1];
    sp->t[0] = sp->t[1];
    sp->tx[1] = tx;
    sp->rx[1] = rx;
    sp->t[1] = now;
    sp->n = sp->n < 2 ? sp->n + 1 : 2;
}

static void
fc_rebuild(struct fabric_ctl *fc)
{
    int64_t now = fc_now();
    struct fabric *f = fabric_create();
    if (!f) {
        out_of_memory();
    }
    enum fabric_err e = fc->file ? fc_copy_file(fc->file, f) : FABRIC_E_OK;
    if (e) {
        /* The file parsed: copying it cannot fail but for memory. */
        out_of_memory();
    }
    for (size_t i = 0; i < fc->n_sw; i++) {
        const struct fc_switch *s = fc->sw[i];
        uint32_t node;
        if (!s->ready || fabric_find_dpid(f, s->dpid, &node)) {
            continue;
        }
        if (fabric_find(f, s->name, &node)) {
            log_write(LOG_WARN, "fabric", "event=dpid_mismatch switch=%s "
                      "dpid=0x%" PRIx64 " topology_dpid=0x%" PRIx64,
                      s->name, s->dpid, fabric_node_dpid(f, node));
            continue;
        }
        fabric_add_switch(f, s->name, s->dpid, NULL);
    }
    uint64_t bps = (uint64_t) fc->opt->link_mbit * 1000000u;
    for (size_t i = 0; i < fc->n_links; i++) {
        const struct fc_dlink *l = &fc->links[i];
        uint32_t a, b, link;
        unsigned end;
        if (!fc_dlink_alive(fc, l, now)
            || !fabric_find_dpid(f, l->dpid[0], &a)
            || !fabric_find_dpid(f, l->dpid[1], &b)) {
            continue;
        }
        if (fabric_port_link(f, a, l->port[0], &link, &end)
            || fabric_port_link(f, b, l->port[1], &link, &end)) {
            continue; /* the file's link (the same or a conflict: GET) */
        }
        fabric_add_link(f, a, l->port[0], b, l->port[1], bps, NULL);
    }
    router_destroy(fc->router);
    fabric_destroy(fc->fab);
    fc->fab = f;
    struct router_config rc;
    router_config_default(&rc);
    rc.period_ms = fc->opt->poll_ms;
    fc->router = router_create(f, &rc);
    if (!fc->router) {
        out_of_memory();
    }
    fc_replay(fc);
    fc->dirty = false;
    fc->rebuilds++;
    log_write(LOG_DBG, "fabric", "event=rebuilt nodes=%zu links=%zu",
              fabric_n_nodes(f), fabric_n_links(f));
}

static void
fc_ensure(struct fabric_ctl *fc)
{
    if (fc->dirty || (!fc->fab && (fc->file || fc->n_sw))) {
        fc_rebuild(fc);
    }
}

/* ---------------------------------------------------------------------- */
/* Sending.                                                                */

static void
fc_send(struct fc_switch *s, struct ofp_msg *msg)
{
    if (ofconn_send(s->conn, msg, NULL)) {
        s->errors++;
    }
}

static void
fc_send_flow(struct fc_switch *s, const struct ofp_flow_mod *fm)
{
    struct ofp_msg *msg = xmalloc(sizeof *msg);
    ofp_msg_init(msg, OFPT_FLOW_MOD, 0);
    msg->flow_mod = *fm;
    fc_send(s, msg);
    free(msg);
}

static void
fc_send_lldp(struct fc_switch *s, const struct fc_port *p)
{
    uint8_t frame[LLDP_DISCOVERY_LEN];
    size_t n = lldp_encode_discovery(s->dpid, p->no, p->mac,
                                     LLDP_DEFAULT_TTL, frame);
    struct ofp_msg *msg = xmalloc(sizeof *msg);
    ofp_msg_init(msg, OFPT_PACKET_OUT, 0);
    msg->packet_out.in_port = OFPP_CONTROLLER;
    ofp_actions_output(&msg->packet_out.actions, p->no);
    msg->packet_out.data = frame;
    msg->packet_out.data_len = n;
    if (!ofconn_send(s->conn, msg, NULL)) {
        s->lldp_sent++;
        s->fc->lldp_sent++;
    }
    free(msg);
}

static void
fc_send_lldp_all(struct fc_switch *s)
{
    for (size_t i = 0; s->ready && i < s->n_ports; i++) {
        if (s->ports[i].up) {
            fc_send_lldp(s, &s->ports[i]);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Installing and removing a plan's flows.                                 */

struct fc_barrier {
    struct fabric_ctl *fc;
    uint64_t mig;
    bool release;
};

static uint16_t
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
        m->released_ms = ctl_now_ms();
        fc->flows_removed += m->n_flows;
        log_write(LOG_INF, "fabric", "event=released migration=%" PRIu64
                  " flows=%" PRIu32 " switches=%" PRIu32, m->id, m->n_flows,
                  m->n_switches);
        return;
    }
    m->install_ms = (ctl_mono_seconds() - m->t0) * 1000.0;
    if (m->n_errors) {
        m->state = FCM_FAILED;
        fc->install_failures++;
        log_write(LOG_WARN, "fabric", "event=install_failed migration=%"
                  PRIu64 " errors=%" PRIu32 " error=\"%s\"", m->id,
                  m->n_errors, m->error);
        return;
    }
    m->state = FCM_INSTALLED;
    m->installed_ms = ctl_now_ms();
    fc->routes_installed += mig_n_paths(m);
    fc->flows_installed += m->n_flows;
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
static uint32_t
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

static void
mig_install(struct fabric_ctl *fc, struct fabric_mig *m)
{
    uint64_t *dpids = xcalloc(mig_n_hops(m) + 1, sizeof *dpids);
    size_t n = mig_dpids(m, dpids);
    m->state = FCM_INSTALLING;
    m->t0 = ctl_mono_seconds();
    m->started_ms = ctl_now_ms();
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

static void
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
static void
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

/* ---------------------------------------------------------------------- */
/* Links found by LLDP.                                                    */

static void
fc_link_remove(struct fabric_ctl *fc, size_t i, const char *why)
{
    const struct fc_dlink *l = &fc->links[i];
    char a[96], b[96];
    fc_end_name(fc, l->dpid[0], l->port[0], a, sizeof a);
    fc_end_name(fc, l->dpid[1], l->port[1], b, sizeof b);
    log_write(LOG_INF, "fabric", "event=link_lost a=%s b=%s reason=%s", a,
              b, why);
    fc->links[i] = fc->links[--fc->n_links];
    fc->dirty = true;
}

/* Removes links with an end on ('dpid', 'port'); port 0: any port. */
static void
fc_links_drop_port(struct fabric_ctl *fc, uint64_t dpid, uint32_t port,
                   const char *why)
{
    for (size_t i = 0; i < fc->n_links;) {
        const struct fc_dlink *l = &fc->links[i];
        bool hit = false;
        for (unsigned e = 0; e < 2; e++) {
            hit |= l->dpid[e] == dpid && (!port || l->port[e] == port);
        }
        if (hit) {
            fc_link_remove(fc, i, why);
        } else {
            i++;
        }
    }
}

/* A frame sent from (sd, sp) arrived at (rd, rp). */
static void
fc_link_seen(struct fabric_ctl *fc, uint64_t sd, uint32_t sp, uint64_t rd,
             uint32_t rp, int64_t now)
{
    bool s_first = sd < rd || (sd == rd && sp < rp);
    uint64_t d0 = s_first ? sd : rd, d1 = s_first ? rd : sd;
    uint32_t p0 = s_first ? sp : rp, p1 = s_first ? rp : sp;
    unsigned dir = s_first ? 0 : 1;
    for (size_t i = 0; i < fc->n_links; i++) {
        struct fc_dlink *l = &fc->links[i];
        if (l->dpid[0] == d0 && l->port[0] == p0 && l->dpid[1] == d1
            && l->port[1] == p1) {
            bool was_alive = fc_dlink_alive(fc, l, now);
            l->seen_ms[dir] = now;
            fc->dirty |= !was_alive;
            return;
        }
    }
    /* A port is cabled once: a new peer replaces the old link. */
    fc_links_drop_port(fc, d0, p0, "recabled");
    fc_links_drop_port(fc, d1, p1, "recabled");
    fc->links = xgrow(fc->links, &fc->cap_links, fc->n_links + 1,
                      sizeof *fc->links);
    struct fc_dlink *l = &fc->links[fc->n_links++];
    *l = (struct fc_dlink){{d0, d1}, {p0, p1}, {0, 0}};
    l->seen_ms[dir] = now;
    fc->dirty = true;
    char a[96], b[96];
    fc_end_name(fc, d0, p0, a, sizeof a);
    fc_end_name(fc, d1, p1, b, sizeof b);
    log_write(LOG_INF, "fabric", "event=link_discovered a=%s b=%s", a, b);
}

static void
fc_expire_links(struct fabric_ctl *fc, int64_t now)
{
    for (size_t i = 0; i < fc->n_links;) {
        if (!fc_dlink_alive(fc, &fc->links[i], now)) {
            fc->links_expired++;
            fc_link_remove(fc, i, "expired");
        } else {
            i++;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Switch connections.                                                     */

static void sw_connect(struct fc_switch *);

static void
sw_retry_cb(evutil_socket_t fd, short what, void *aux)
{
    (void) fd;
    (void) what;
    sw_connect(aux);
}

static void
sw_schedule_retry(struct fc_switch *s)
{
    fc_arm(s->retry, s->retry_ms);
    s->retry_ms = s->retry_ms * 2 > FC_RETRY_MAX_MS ? FC_RETRY_MAX_MS
                                                     : s->retry_ms * 2;
}

static void
sw_connect(struct fc_switch *s)
{
    char err[256];
    if (ofconn_open(s->conn, s->fc->ctl->base, s->target, err,
                    sizeof err)) {
        log_write(LOG_DBG, "fabric", "event=connect_failed switch=%s "
                  "err=\"%s\"", s->name, err);
        sw_schedule_retry(s);
    }
}

static struct fc_port *
sw_port(struct fc_switch *s, uint32_t no)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        if (s->ports[i].no == no) {
            return &s->ports[i];
        }
    }
    return NULL;
}

/* Records port 'p' (add or change); false for ports mignet ignores. */
static struct fc_port *
sw_port_set(struct fc_switch *s, const struct ofp_port *p)
{
    if (!p->port_no || p->port_no > OFPP_MAX) {
        return NULL;
    }
    struct fc_port *fp = sw_port(s, p->port_no);
    if (!fp) {
        if (s->n_ports >= FC_MAX_PORTS) {
            return NULL;
        }
        s->ports = xgrow(s->ports, &s->cap_ports, s->n_ports + 1,
                         sizeof *s->ports);
        fp = &s->ports[s->n_ports++];
        fp->no = p->port_no;
    }
    memcpy(fp->mac, p->hw_addr, 6);
    fp->up = !(p->state & OFPPS_LINK_DOWN) && !(p->config & OFPPC_PORT_DOWN);
    return fp;
}

static void
sw_port_desc_cb(void *aux, const struct ofp_msg *msg, bool last)
{
    struct fc_switch *s = aux;
    if (!msg || msg->type != OFPT_MULTIPART_REPLY
        || msg->mp.type != OFPMP_PORT_DESC) {
        return;
    }
    struct ofp_mp_iter it;
    struct ofp_port p;
    ofp_mp_iter_init(&it, &msg->mp);
    while (ofp_port_desc_next(&it, &p)) {
        sw_port_set(s, &p);
    }
    if (last) {
        fc_send_lldp_all(s);
    }
}

static void
sw_port_stats_cb(void *aux, const struct ofp_msg *msg, bool last)
{
    struct fc_switch *s = aux;
    struct fabric_ctl *fc = s->fc;
    (void) last;
    if (!msg || msg->type != OFPT_MULTIPART_REPLY
        || msg->mp.type != OFPMP_PORT_STATS || !fc->router) {
        return;
    }
    int64_t now = fc_now();
    struct ofp_mp_iter it;
    struct ofp_port_stats ps;
    ofp_mp_iter_init(&it, &msg->mp);
    while (ofp_port_stats_next(&it, &ps)) {
        if (!ps.port_no || ps.port_no > OFPP_MAX) {
            continue;
        }
        fc_sample(fc, s->dpid, ps.port_no, ps.tx_bytes, ps.rx_bytes, now);
        /* ENOENT: a port no link uses; EINVAL: a sample not newer. */
        (void) router_port_stats(fc->router, s->dpid, ps.port_no,
                                 ps.tx_bytes, ps.rx_bytes, (uint64_t) now);
    }
    fc->stats_replies++;
}

static void
sw_setup_done(void *aux, const struct ofconn_barrier_result *r)
{
    struct fc_switch *s = aux;
    if (!r->closed && r->n_errors) {
        s->errors += r->n_errors;
        log_write(LOG_WARN, "fabric", "event=setup_refused switch=%s "
                  "errors=%" PRIu32, s->name, r->n_errors);
    }
}

static void
sw_ready(void *aux, const struct ofp_features *features)
{
    struct fc_switch *s = aux;
    struct fabric_ctl *fc = s->fc;
    struct fc_switch *twin = fc_switch_by_dpid(fc, features->datapath_id);
    if (twin && twin != s) {
        log_write(LOG_WARN, "fabric", "event=duplicate_dpid switch=%s "
                  "dpid=0x%" PRIx64 " peer=%s action=%s", twin->name,
                  features->datapath_id, s->target,
                  s->dialed_in ? "dropped" : "ignored");
        if (s->dialed_in) {
            /* Closed by the reaper: not from inside its own callback. */
            s->dead = true;
            event_active(fc->reaper, EV_TIMEOUT, 0);
        }
        return;
    }
    if (s->dialed_in) {
        /* Named as the topology names its dpid, else by the dpid. */
        uint32_t node;
        if (fc->file && fabric_find_dpid(fc->file, features->datapath_id,
                                         &node)) {
            snprintf(s->name, sizeof s->name, "%s",
                     fabric_node_name(fc->file, node));
        } else {
            snprintf(s->name, sizeof s->name, "dpid-%016" PRIx64,
                     features->datapath_id);
        }
    }
    s->ready = true;
    s->dpid = features->datapath_id;
    s->connects++;
    s->retry_ms = FC_RETRY_MIN_MS;
    s->n_ports = 0;
    fc->dirty = true;
    log_write(LOG_INF, "fabric", "event=switch_connected switch=%s dpid=0x%"
              PRIx64, s->name, s->dpid);

    struct ofp_msg *msg = xmalloc(sizeof *msg);
    /* Packet-ins from our own punt flow, and port changes. */
    ofp_msg_init(msg, OFPT_SET_ASYNC, 0);
    msg->async.packet_in[0] = 1u << OFPR_ACTION;
    msg->async.port_status[0] = 0x7;
    fc_send(s, msg);
    /* Start from what we know: no stale mignet flow survives a restart. */
    struct ofp_flow_mod fm;
    fabric_delete_flows(FABRIC_COOKIE_TAG, FABRIC_COOKIE_TAG_MASK, &fm);
    fc_send_flow(s, &fm);
    fabric_lldp_punt_flow(&fm);
    fc_send_flow(s, &fm);
    for (size_t i = 0; i < fc->n_migs; i++) {
        struct fabric_mig *m = fc->migs[i];
        if (mig_live(m) && m->id) {
            mig_send_flows(m, s);
        }
    }
    ofconn_barrier(s->conn, sw_setup_done, s);
    ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 0);
    msg->mp.type = OFPMP_PORT_DESC;
    ofconn_request(s->conn, msg, sw_port_desc_cb, s, NULL);
    free(msg);
}

static void
sw_packet_in(struct fc_switch *s, const struct ofp_packet_in *pi)
{
    struct fabric_ctl *fc = s->fc;
    uint64_t in_port = 0;
    struct lldp_pdu pdu;
    uint64_t dpid;
    uint32_t port;
    if (!ofp_match_get(&pi->match, OFP_F_IN_PORT, &in_port, NULL)
        || !in_port || in_port > OFPP_MAX
        || lldp_decode(pi->data, pi->data_len, &pdu)
        || !lldp_discovery_ids(&pdu, &dpid, &port)
        || !fc_switch_by_dpid(fc, dpid)) {
        /* Not ours: another LLDP speaker, or a switch we do not run. */
        fc->lldp_foreign++;
        return;
    }
    if (dpid == s->dpid && port == in_port) {
        return;
    }
    s->lldp_received++;
    fc->lldp_received++;
    fc_link_seen(fc, dpid, port, s->dpid, (uint32_t) in_port, fc_now());
}

static void
sw_message(void *aux, const struct ofp_msg *msg)
{
    struct fc_switch *s = aux;
    if (!s->ready) {
        return; /* a duplicate waiting to be dropped */
    }
    switch (msg->type) {
    case OFPT_PACKET_IN:
        sw_packet_in(s, &msg->packet_in);
        break;
    case OFPT_PORT_STATUS: {
        const struct ofp_port *p = &msg->port_status.desc;
        if (msg->port_status.reason == OFPPR_DELETE) {
            struct fc_port *fp = sw_port(s, p->port_no);
            if (fp) {
                *fp = s->ports[--s->n_ports];
            }
            fc_links_drop_port(s->fc, s->dpid, p->port_no, "port_deleted");
            break;
        }
        struct fc_port *fp = sw_port_set(s, p);
        if (fp && fp->up) {
            fc_send_lldp(s, fp);
        } else if (fp) {
            fc_links_drop_port(s->fc, s->dpid, p->port_no, "port_down");
        }
        break;
    }
    case OFPT_ERROR:
        s->errors++;
        log_write(LOG_DBG, "fabric", "event=switch_error switch=%s type=%u "
                  "code=%u", s->name, msg->error.type,
                  msg->error.code);
        break;
    default:
        break;
    }
}

static void
sw_closed(void *aux, int error)
{
    struct fc_switch *s = aux;
    if (s->ready) {
        log_write(LOG_WARN, "fabric", "event=switch_disconnected switch=%s "
                  "err=%d", s->name, error);
    }
    s->ready = false;
    s->n_ports = 0;
    s->fc->dirty = true;
    if (s->dialed_in) {
        s->dead = true;
        event_active(s->fc->reaper, EV_TIMEOUT, 0);
    } else {
        sw_schedule_retry(s);
    }
}

/* ---------------------------------------------------------------------- */
/* Switches: configured ones, and ones that dial in.                       */

#define FC_MAX_DIALED 1024

static struct fc_switch *
fc_switch_new(struct fabric_ctl *fc, const char *name, const char *target)
{
    static const struct ofconn_hooks hooks = {
        .ready = sw_ready,
        .message = sw_message,
        .closed = sw_closed,
    };
    struct fc_switch *s = xcalloc(1, sizeof *s);
    s->fc = fc;
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->target, sizeof s->target, "%s", target);
    s->retry_ms = FC_RETRY_MIN_MS;
    s->conn = ofconn_create(NULL, &hooks, s);
    fc->sw = xgrow(fc->sw, &fc->cap_sw, fc->n_sw + 1, sizeof *fc->sw);
    fc->sw[fc->n_sw++] = s;
    return s;
}

static void
fc_switch_free(struct fc_switch *s)
{
    if (s) {
        ofconn_destroy(s->conn);
        if (s->retry) {
            event_free(s->retry);
        }
        free(s->ports);
        free(s);
    }
}

/* Frees the switches that dialed in and went away (not from inside their
 * own connection's callbacks). */
static void
fc_reap_cb(evutil_socket_t fd, short what, void *aux)
{
    struct fabric_ctl *fc = aux;
    (void) fd;
    (void) what;
    for (size_t i = 0; i < fc->n_sw;) {
        if (fc->sw[i]->dead) {
            fc_switch_free(fc->sw[i]);
            fc->sw[i] = fc->sw[--fc->n_sw];
        } else {
            i++;
        }
    }
}

static void
fc_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
             struct sockaddr *sa, int salen, void *aux)
{
    struct fabric_ctl *fc = aux;
    (void) l;
    (void) salen;
    size_t dialed = 0;
    for (size_t i = 0; i < fc->n_sw; i++) {
        dialed += fc->sw[i]->dialed_in;
    }
    if (dialed >= FC_MAX_DIALED) {
        log_write(LOG_WARN, "fabric", "event=dial_in_refused reason=limit");
        evutil_closesocket(fd);
        return;
    }
    char peer[OPTIONS_TARGET_MAX] = "unix";
    if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
        ctl_format_sockaddr(sa, peer, sizeof peer);
    }
    struct fc_switch *s = fc_switch_new(fc, "(dialing in)", peer);
    s->dialed_in = true;
    char err[128];
    if (ofconn_attach(s->conn, fc->ctl->base, fd, err, sizeof err)) {
        log_write(LOG_WARN, "fabric", "event=dial_in_failed err=\"%s\"",
                  err);
        s->dead = true;
        event_active(fc->reaper, EV_TIMEOUT, 0);
    }
}

/* Listens on --fabric-listen for switches that dial in (Open vSwitch's
 * set-controller). */
static int
fc_listen(struct fabric_ctl *fc, char *err, size_t errlen)
{
    const char *t = fc->opt->listen;
    struct sockaddr_storage ss = {0};
    int sslen = sizeof ss;
    if (!strncmp(t, "unix:", 5)) {
        struct sockaddr_un *sun = (struct sockaddr_un *) &ss;
        const char *path = t + 5;
        struct stat st;
        if (strlen(path) >= sizeof sun->sun_path) {
            snprintf(err, errlen, "%s: path too long", t);
            return -1;
        }
        if (!lstat(path, &st)) {
            if (!S_ISSOCK(st.st_mode)) {
                snprintf(err, errlen, "%s exists and is not a socket", path);
                return -1;
            }
            unlink(path); /* a stale socket of an earlier run */
        }
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, strlen(path) + 1);
        sslen = (int) sizeof *sun;
        snprintf(fc->listen_path, sizeof fc->listen_path, "%s", path);
    } else if (evutil_parse_sockaddr_port(t + 4, (struct sockaddr *) &ss,
                                          &sslen)) {
        snprintf(err, errlen, "%s: bad address", t);
        return -1;
    }
    fc->listener = evconnlistener_new_bind(
        fc->ctl->base, fc_accept_cb, fc,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
        64, (struct sockaddr *) &ss, sslen);
    if (!fc->listener) {
        snprintf(err, errlen, "cannot listen on %s: %s", t,
                 strerror(errno));
        fc->listen_path[0] = '\0';
        return -1;
    }
    log_write(LOG_INF, "fabric", "event=listening target=%s", t);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Timers.                                                                 */

static void
fc_poll_cb(evutil_socket_t fd, short what, void *aux)
{
    struct fabric_ctl *fc = aux;
    (void) fd;
    (void) what;
    fc_ensure(fc);
    if (fc->router) {
        router_period_begin(fc->router);
    }
    fc->period++;
    for (size_t i = 0; i < fc->n_sw; i++) {
        struct fc_switch *s = fc->sw[i];
        if (!s->ready) {
            continue;
        }
        struct ofp_msg *msg = xmalloc(sizeof *msg);
        ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 0);
        msg->mp.type = OFPMP_PORT_STATS;
        msg->mp.port_no = OFPP_ANY;
        if (!ofconn_request(s->conn, msg, sw_port_stats_cb, s, NULL)) {
            fc->stats_polls++;
        }
        free(msg);
    }
    fc_arm(fc->poll_timer, fc->opt->poll_ms);
}

static void
fc_lldp_cb(evutil_socket_t fd, short what, void *aux)
{
    struct fabric_ctl *fc = aux;
    (void) fd;
    (void) what;
    fc_expire_links(fc, fc_now());
    for (size_t i = 0; i < fc->n_sw; i++) {
        fc_send_lldp_all(fc->sw[i]);
    }
    fc_arm(fc->lldp_timer, fc->opt->lldp_ms);
}

/* ---------------------------------------------------------------------- */
/* Lifecycle.                                                              */

static int
fc_load_file(struct fabric_ctl *fc, const char *path, char *err,
             size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct strbuf sb;
    strbuf_init(&sb);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (strbuf_append(&sb, buf, n) || sb.len > (64u << 20)) {
            fclose(f);
            strbuf_destroy(&sb);
            snprintf(err, errlen, "%s: too large", path);
            return -1;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        strbuf_destroy(&sb);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    struct fabric_parse_error perr;
    enum fabric_err e = fabric_parse(sb.len ? sb.data : "", sb.len,
                                     &fc->file, &perr);
    strbuf_destroy(&sb);
    if (e) {
        snprintf(err, errlen, "%s:%s", path, perr.msg);
        return -1;
    }
    return 0;
}

struct fabric_ctl *
fabric_ctl_create(struct ctl *ctl, char *err, size_t errlen)
{
    static const double plan_s[] = {
        0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002,
        0.005, 0.01, 0.1,
    };
    static const double install_s[] = {
        0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
        0.1, 0.5, 1,
    };
    struct fabric_ctl *fc = xcalloc(1, sizeof *fc);
    fc->ctl = ctl;
    fc->opt = &ctl->opts.fabric;
    fc->reaper = evtimer_new(ctl->base, fc_reap_cb, fc);
    if (!fc->reaper) {
        out_of_memory();
    }
    metrics_hist_init(&fc->plan_hist, "mignet_plan_seconds",
                      "Time to plan one migration (routes, estimate, added "
                      "paths) inside mignetd.",
                      plan_s, sizeof plan_s / sizeof plan_s[0]);
    metrics_hist_init(&fc->install_hist, "mignet_fabric_install_seconds",
                      "From sending a plan's flows to the last switch's "
                      "barrier reply.",
                      install_s, sizeof install_s / sizeof install_s[0]);
    plan_config_default(&fc->pcfg);
    fc->pcfg.setup_max_ms = fc->opt->setup_max_ms;
    fc->pcfg.max_paths = fc->opt->max_paths;
    route_strategy_from_name(fc->opt->strategy, &fc->strategy);
    if (fc->opt->file[0] && fc_load_file(fc, fc->opt->file, err, errlen)) {
        fabric_ctl_destroy(fc);
        return NULL;
    }
    for (size_t i = 0; i < fc->opt->n_switches; i++) {
        struct fc_switch *s = fc_switch_new(fc, fc->opt->switches[i].name,
                                            fc->opt->switches[i].target);
        s->retry = evtimer_new(ctl->base, sw_retry_cb, s);
        if (!s->retry) {
            out_of_memory();
        }
        sw_connect(s);
    }
    if (fc->opt->listen[0] && fc_listen(fc, err, errlen)) {
        fabric_ctl_destroy(fc);
        return NULL;
    }
    fc->poll_timer = evtimer_new(ctl->base, fc_poll_cb, fc);
    fc->lldp_timer = evtimer_new(ctl->base, fc_lldp_cb, fc);
    if (!fc->poll_timer || !fc->lldp_timer) {
        out_of_memory();
    }
    if (fc->file || fc->n_sw || fc->listener) {
        /* The first poll early: D-R needs two samples for a load. */
        fc_arm(fc->poll_timer, fc->opt->poll_ms < 1000 ? fc->opt->poll_ms
                                                       : 1000);
        fc_arm(fc->lldp_timer, fc->opt->lldp_ms);
        fc_rebuild(fc);
        log_write(LOG_INF, "fabric", "event=configured file=\"%s\" "
                  "switches=%zu hosts=%zu strategy=%s poll_ms=%" PRIu32,
                  fc->opt->file, fc->n_sw,
                  fc->file ? fabric_n_hosts(fc->file) : 0,
                  route_strategy_name(fc->strategy), fc->opt->poll_ms);
    }
    return fc;
}

void
fabric_ctl_destroy(struct fabric_ctl *fc)
{
    if (!fc) {
        return;
    }
    if (fc->listener) {
        evconnlistener_free(fc->listener);
    }
    if (fc->listen_path[0]) {
        unlink(fc->listen_path);
    }
    /* Connections first: their pending barriers still find the plans. */
    for (size_t i = 0; i < fc->n_sw; i++) {
        fc_switch_free(fc->sw[i]);
    }
    free(fc->sw);
    if (fc->reaper) {
        event_free(fc->reaper);
    }
    for (size_t i = 0; i < fc->n_migs; i++) {
        mig_free(fc->migs[i]);
    }
    free(fc->migs);
    free(fc->links);
    free(fc->samples);
    if (fc->poll_timer) {
        event_free(fc->poll_timer);
    }
    if (fc->lldp_timer) {
        event_free(fc->lldp_timer);
    }
    router_destroy(fc->router);
    fabric_destroy(fc->fab);
    fabric_destroy(fc->file);
    free(fc);
}

/* ---------------------------------------------------------------------- */
/* Planning.                                                               */

static bool
fc_host(const struct fabric *f, const char *name, uint32_t *node)
{
    return f && fabric_find(f, name, node)
           && fabric_node_kind(f, *node) == FABRIC_HOST;
}

/* A free port block for a plan between 'a' and 'b' (either direction). */
static bool
fc_slot(const struct fabric_ctl *fc, uint32_t a, uint32_t b, uint32_t *slot)
{
    uint32_t per = fc->pcfg.max_paths;
    uint32_t max = (65536 - fc->opt->port_base) / per;
    max = max < FC_MAX_SLOTS ? max : FC_MAX_SLOTS;
    uint64_t used = 0;
    for (size_t i = 0; i < fc->n_migs; i++) {
        const struct fabric_mig *m = fc->migs[i];
        if (mig_live(m) && ((m->src_ip == a && m->dst_ip == b)
                            || (m->src_ip == b && m->dst_ip == a))) {
            used |= UINT64_C(1) << m->slot;
        }
    }
    for (uint32_t s = 0; s < max; s++) {
        if (!(used & (UINT64_C(1) << s))) {
            *slot = s;
            return true;
        }
    }
    return false;
}

static json_t *
fc_path_json(const struct fabric_ctl *fc, const struct fabric_mig *m,
             size_t i)
{
    const struct route *r = mig_path(m, i);
    json_t *o = json_object(), *nodes = json_array(), *hops = json_array();
    for (size_t j = 0; j <= r->n_links; j++) {
        fc_append(nodes, json_string(fabric_node_name(fc->fab,
                                                      r->nodes[j])));
    }
    for (size_t j = 0; j < r->n_hops; j++) {
        const struct route_hop *h = &r->hops[j];
        json_t *hop = json_object();
        fc_set(hop, "switch", json_string(fabric_node_name(fc->fab,
                                                           h->node)));
        fc_set(hop, "dpid", fc_dpid_json(h->dpid));
        fc_set(hop, "in_port", json_integer(h->in_port));
        fc_set(hop, "out_port", json_integer(h->out_port));
        fc_append(hops, hop);
    }
    fc_set(o, "index", json_integer((json_int_t) i));
    fc_set(o, "added", json_boolean(i > 0));
    fc_set(o, "tcp_port", json_integer(mig_port(m, i)));
    fc_set(o, "nodes", nodes);
    fc_set(o, "hops", hops);
    fc_set(o, "weight", json_integer((json_int_t) (r->weight > INT64_MAX
                                                       ? INT64_MAX
                                                       : r->weight)));
    return o;
}

static json_t *
fc_step_json(const struct plan_step *st)
{
    const struct precopy_estimate *e = &st->estimate;
    json_t *o = json_object();
    fc_set(o, "paths", json_integer(st->n_paths));
    fc_set(o, "bandwidth_bps", json_real(st->bandwidth_bps));
    fc_set(o, "setup_ms", json_real(st->setup_ms));
    bool finite = isfinite(st->total_ms);
    fc_set(o, "total_ms", finite ? json_real(st->total_ms) : json_null());
    fc_set(o, "downtime_ms", isfinite(e->downtime_s)
                                 ? json_real(e->downtime_s * 1000.0)
                                 : json_null());
    fc_set(o, "rounds", json_integer(e->rounds));
    fc_set(o, "bytes", isfinite(e->bytes_sent) ? json_real(e->bytes_sent)
                                               : json_null());
    fc_set(o, "precopy_stop", json_string(precopy_stop_name(e->stop)));
    fc_set(o, "converged", json_boolean(e->converged));
    return o;
}

static bool
fc_plan_error(int err, struct rest_error *e)
{
    switch (err) {
    case ENOENT:
        return rest_fail(e, 409, "no_route",
                         "the fabric has no path between the two hosts");
    case EINVAL:
        return rest_fail(e, 422, "invalid_value",
                         "the planner refused these inputs");
    default:
        return rest_fail(e, 500, "no_memory", "out of memory");
    }
}

bool
fabric_ctl_plan(struct fabric_ctl *fc, const struct fabric_plan_req *req,
                struct fabric_mig **migp, struct rest_error *e)
{
    const struct rest_plan_fields *pf = req->fields;
    bool asked = pf->given;
    uint32_t src, dst, src_ip, dst_ip;
    *migp = NULL;

    fc_ensure(fc);
    if (!fc->router || !fabric_n_hosts(fc->fab)) {
        return asked ? rest_fail(e, 409, "no_fabric",
                                 "mignetd has no fabric to plan on "
                                 "(start it with --fabric FILE)")
                     : true;
    }
    bool hs = fc_host(fc->fab, req->src_node, &src);
    bool hd = fc_host(fc->fab, req->dst_node, &dst);
    if (!hs || !hd) {
        return asked ? rest_fail(e, 422, "not_in_fabric",
                                 "node '%s' is not a host of the fabric",
                                 hs ? req->dst_node : req->src_node)
                     : true;
    }
    if (!addr_parse_ipv4(req->src_address, &src_ip)
        || !addr_parse_ipv4(req->dst_address, &dst_ip)) {
        if (!asked) {
            log_write(LOG_WARN, "fabric", "event=no_route_ipv6 from=%s "
                      "to=%s", req->src_node, req->dst_node);
            return true;
        }
        return rest_fail(e, 422, "invalid_address",
                         "fabric routes need IPv4 node addresses");
    }
    uint32_t slot;
    if (!fc_slot(fc, src_ip, dst_ip, &slot)) {
        return rest_fail(e, 409, "fabric_busy",
                         "too many plans between these two nodes");
    }

    struct fabric_mig *m = xcalloc(1, sizeof *m);
    route_init(&m->route);
    m->src_ip = src_ip;
    m->dst_ip = dst_ip;
    m->slot = slot;
    m->port0 = (uint16_t) (fc->opt->port_base + slot * fc->pcfg.max_paths);
    m->priority = (uint16_t) (FABRIC_PRIO_PATH + slot);
    enum route_strategy strategy = pf->has_strategy ? pf->strategy
                                                    : fc->strategy;
    double cpu = pf->has_cpu ? pf->target_cpu_free
                             : fc->opt->cpu_free_pct / 100.0;
    if (fc->install_ms_per_switch > 0) {
        fc->pcfg.flow_install_ms =
            (uint32_t) ceil(fc->install_ms_per_switch);
    }

    double t0 = ctl_mono_seconds();
    int err;
    if (pf->memory_mb) {
        struct plan_request pr = {
            .src = src,
            .dst = dst,
            .memory_bytes = (uint64_t) pf->memory_mb << 20,
            .dirty_pages_per_s = pf->dirty_pages_per_s,
            .page_size = pf->page_size,
            .deadline_ms = pf->deadline_ms,
            .target_cpu_free = cpu,
            .strategy = strategy,
        };
        err = plan_create(fc->router, &fc->pcfg, &pr, &m->plan);
    } else {
        err = router_route(fc->router, strategy, src, dst, &m->route);
    }
    m->planning_s = ctl_mono_seconds() - t0;
    m->dr_first = strategy == ROUTE_DR;
    m->period = fc->period;
    if (err) {
        fc->plan_errors++;
        mig_free(m);
        return fc_plan_error(err, e);
    }
    metrics_hist_observe(&fc->plan_hist, m->planning_s);
    fc->plans_by_stop[m->plan ? plan_stop(m->plan) : FC_STOP_ROUTE_ONLY]++;

    m->request = json_object();
    fc_set(m->request, "strategy",
           json_string(route_strategy_name(strategy)));
    fc_set(m->request, "from_host", json_string(req->src_node));
    fc_set(m->request, "to_host", json_string(req->dst_node));
    fc_set(m->request, "memory_mb", pf->memory_mb
                                        ? json_integer(pf->memory_mb)
                                        : json_null());
    fc_set(m->request, "dirty_pages_per_s",
           pf->memory_mb ? json_real(pf->dirty_pages_per_s) : json_null());
    fc_set(m->request, "page_size",
           pf->memory_mb ? json_integer(pf->page_size ? pf->page_size
                                                      : 4096)
                         : json_null());
    fc_set(m->request, "deadline_ms", pf->deadline_ms
                                          ? json_integer(pf->deadline_ms)
                                          : json_null());
    fc_set(m->request, "target_cpu_free", json_real(cpu));
    m->paths = json_array();
    m->steps = json_array();
    for (size_t i = 0; i < mig_n_paths(m); i++) {
        fc_append(m->paths, fc_path_json(fc, m, i));
    }
    for (size_t i = 0; m->plan && i < plan_n_steps(m->plan); i++) {
        fc_append(m->steps, fc_step_json(plan_step(m->plan, i)));
    }
    *migp = m;
    return true;
}

void
fabric_ctl_start(struct fabric_ctl *fc, struct fabric_mig *m,
                 uint64_t migration)
{
    m->id = migration;
    fc->migs = xgrow(fc->migs, &fc->cap_migs, fc->n_migs + 1,
                     sizeof *fc->migs);
    fc->migs[fc->n_migs++] = m;
    log_write(LOG_INF, "fabric", "event=plan migration=%" PRIu64
              " paths=%zu stop=%s planning_us=%.1f", m->id, mig_n_paths(m),
              m->plan ? plan_stop_name(plan_stop(m->plan)) : "route_only",
              m->planning_s * 1e6);
    mig_install(fc, m);
    fc_trim(fc);
}

void
fabric_ctl_discard(struct fabric_ctl *fc, struct fabric_mig *m)
{
    (void) fc;
    mig_free(m);
}

void
fabric_ctl_migration(struct fabric_ctl *fc, const struct core_migration *cm)
{
    if (!fc || cm->phase != MIG_CLEANED) {
        return;
    }
    struct fabric_mig *m = fc_mig_find(fc, cm->id);
    if (m && mig_live(m)) {
        mig_release(fc, m);
    }
}

/* ---------------------------------------------------------------------- */
/* JSON and metrics.                                                       */

json_t *
fabric_ctl_plan_json(const struct fabric_ctl *fc, uint64_t migration)
{
    const struct fabric_mig *m = fc ? fc_mig_find(fc, migration) : NULL;
    if (!m) {
        return NULL;
    }
    json_t *o = json_deep_copy(m->request);
    if (!o) {
        out_of_memory();
    }
    fc_set(o, "paths", json_deep_copy(m->paths));
    fc_set(o, "steps", json_deep_copy(m->steps));
    const struct plan_step *fin = m->plan ? plan_final(m->plan) : NULL;
    enum plan_stop stop = m->plan ? plan_stop(m->plan) : PLAN_STOP_FITS;
    fc_set(o, "stop", m->plan ? json_string(plan_stop_name(stop))
                              : json_null());
    fc_set(o, "stop_reason", m->plan ? json_string(plan_stop_str(stop))
                                     : json_null());
    fc_set(o, "explain", m->plan ? json_string(plan_explain(m->plan))
                                 : json_string("route only: no memory_mb, "
                                               "no estimate"));
    fc_set(o, "estimate", fin ? fc_step_json(fin) : json_null());
    json_t *deadline = json_object_get(m->request, "deadline_ms");
    fc_set(o, "deadline_met",
           fin && json_is_integer(deadline)
               ? json_boolean(fin->total_ms
                              <= (double) json_integer_value(deadline))
               : json_null());
    fc_set(o, "planning_us", json_real(m->planning_s * 1e6));
    json_t *fl = json_object();
    fc_set(fl, "state", json_string(fcm_names[m->state]));
    fc_set(fl, "switches", json_integer(m->n_switches));
    fc_set(fl, "flows", json_integer(m->n_flows));
    fc_set(fl, "started_unix_ms", fc_time(m->started_ms));
    fc_set(fl, "installed_unix_ms", fc_time(m->installed_ms));
    fc_set(fl, "install_ms", m->installed_ms ? json_real(m->install_ms)
                                             : json_null());
    fc_set(fl, "released_unix_ms", fc_time(m->released_ms));
    fc_set(fl, "error", m->error[0] ? json_string(m->error) : json_null());
    fc_set(o, "install", fl);
    return o;
}

json_t *
fabric_ctl_json(struct fabric_ctl *fc)
{
    int64_t now = fc_now();
    fc_ensure(fc);
    json_t *o = json_object();
    fc_set(o, "configured", json_boolean(fc->fab != NULL));
    fc_set(o, "file", fc->opt->file[0] ? json_string(fc->opt->file)
                                       : json_null());
    fc_set(o, "strategy", json_string(route_strategy_name(fc->strategy)));
    fc_set(o, "poll_ms", json_integer(fc->opt->poll_ms));
    fc_set(o, "lldp_ms", json_integer(fc->opt->lldp_ms));
    fc_set(o, "flow_install_ms", json_integer(fc->pcfg.flow_install_ms));

    json_t *sws = json_array();
    for (size_t i = 0; i < fc->n_sw; i++) {
        const struct fc_switch *s = fc->sw[i];
        json_t *j = json_object();
        fc_set(j, "name", json_string(s->name));
        fc_set(j, "target", json_string(s->target));
        fc_set(j, "connected", json_boolean(s->ready));
        fc_set(j, "dpid", s->ready ? fc_dpid_json(s->dpid) : json_null());
        fc_set(j, "ports", json_integer((json_int_t) s->n_ports));
        fc_set(j, "lldp_sent", json_integer((json_int_t) s->lldp_sent));
        fc_set(j, "lldp_received",
               json_integer((json_int_t) s->lldp_received));
        fc_append(sws, j);
    }
    fc_set(o, "switches", sws);

    json_t *hosts = json_array(), *links = json_array();
    const struct fabric *f = fc->fab;
    size_t nl = f ? fabric_n_links(f) : 0;
    for (uint32_t l = 0; l < nl; l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        char a[96], b[96];
        snprintf(a, sizeof a, "%s:%" PRIu32,
                 fabric_node_name(f, lk->node[0]), lk->port[0]);
        snprintf(b, sizeof b, "%s:%" PRIu32,
                 fabric_node_name(f, lk->node[1]), lk->port[1]);
        json_t *j = json_object();
        if (fabric_node_kind(f, lk->node[1]) == FABRIC_HOST) {
            fc_set(j, "name", json_string(fabric_node_name(f,
                                                           lk->node[1])));
            fc_set(j, "nic", json_integer(lk->port[1]));
            fc_set(j, "switch", json_string(a));
            fc_set(j, "capacity_bps",
                   json_integer((json_int_t) lk->capacity_bps));
            fc_append(hosts, j);
            continue;
        }
        bool in_file = false, seen = false;
        if (fc->file && lk->node[0] < fabric_n_nodes(fc->file)) {
            uint32_t fl;
            unsigned end;
            in_file = fabric_port_link(fc->file, lk->node[0], lk->port[0],
                                       &fl, &end)
                      && fabric_link(fc->file, fl)->node[!end]
                             == lk->node[1];
        }
        for (size_t i = 0; i < fc->n_links; i++) {
            const struct fc_dlink *dl = &fc->links[i];
            uint64_t d0 = fabric_node_dpid(f, lk->node[0]);
            uint64_t d1 = fabric_node_dpid(f, lk->node[1]);
            seen |= fc_dlink_alive(fc, dl, now)
                    && ((dl->dpid[0] == d0 && dl->port[0] == lk->port[0]
                         && dl->dpid[1] == d1 && dl->port[1] == lk->port[1])
                        || (dl->dpid[0] == d1 && dl->port[0] == lk->port[1]
                            && dl->dpid[1] == d0
                            && dl->port[1] == lk->port[0]));
        }
        fc_set(j, "a", json_string(a));
        fc_set(j, "b", json_string(b));
        fc_set(j, "capacity_bps", json_integer((json_int_t) lk->capacity_bps));
        uint64_t w = fc->router ? router_link_weight(fc->router, l) : 0;
        fc_set(j, "weight", json_integer((json_int_t) (w > INT64_MAX
                                                           ? INT64_MAX
                                                           : w)));
        fc_set(j, "chosen", json_boolean(w >= ROUTER_WEIGHT_MAX));
        fc_set(j, "source", json_string(in_file ? "file" : "lldp"));
        fc_set(j, "lldp", json_boolean(seen));
        fc_append(links, j);
    }
    fc_set(o, "hosts", hosts);
    fc_set(o, "links", links);

    json_t *disc = json_array();
    for (size_t i = 0; i < fc->n_links; i++) {
        const struct fc_dlink *dl = &fc->links[i];
        if (!fc_dlink_alive(fc, dl, now)) {
            continue;
        }
        char a[96], b[96];
        fc_end_name(fc, dl->dpid[0], dl->port[0], a, sizeof a);
        fc_end_name(fc, dl->dpid[1], dl->port[1], b, sizeof b);
        json_t *j = json_object();
        fc_set(j, "a", json_string(a));
        fc_set(j, "b", json_string(b));
        fc_set(j, "both_directions",
               json_boolean(dl->seen_ms[0] && dl->seen_ms[1]));
        fc_append(disc, j);
    }
    fc_set(o, "discovered", disc);
    return o;
}

int
fabric_ctl_metrics(const struct fabric_ctl *fc, struct strbuf *out)
{
    size_t connected = 0;
    for (size_t i = 0; i < fc->n_sw; i++) {
        connected += fc->sw[i]->ready;
    }
    struct {
        const char *name, *type, *help;
        uint64_t v;
    } scalars[] = {
        {"mignet_fabric_switches_connected", "gauge", "Fabric switches "
         "with a ready OpenFlow connection.", connected},
        {"mignet_fabric_links_discovered", "gauge", "Links LLDP currently "
         "confirms.", fc->n_links},
        {"mignet_fabric_routes_installed_total", "counter", "Plan paths "
         "whose flows every switch confirmed.", fc->routes_installed},
        {"mignet_fabric_flows_installed_total", "counter", "Flows of "
         "confirmed installs.", fc->flows_installed},
        {"mignet_fabric_flows_removed_total", "counter", "Flows of ended "
         "migrations removed.", fc->flows_removed},
        {"mignet_fabric_install_failures_total", "counter", "Installs a "
         "switch refused or could not take.", fc->install_failures},
        {"mignet_fabric_lldp_sent_total", "counter", "LLDP frames sent "
         "(packet-out).", fc->lldp_sent},
        {"mignet_fabric_lldp_received_total", "counter", "LLDP frames of "
         "our switches received (packet-in).", fc->lldp_received},
        {"mignet_fabric_lldp_foreign_total", "counter", "Packet-ins that "
         "were not our discovery frames.", fc->lldp_foreign},
        {"mignet_fabric_stats_polls_total", "counter", "Port statistics "
         "requests sent.", fc->stats_polls},
        {"mignet_fabric_stats_replies_total", "counter", "Port statistics "
         "replies fed to the D-R weights.", fc->stats_replies},
        {"mignet_plan_errors_total", "counter", "Migrations that could "
         "not be planned.", fc->plan_errors},
    };
    int err = 0;
    for (size_t i = 0; !err && i < sizeof scalars / sizeof scalars[0];
         i++) {
        err = metrics_scalar(out, scalars[i].name, scalars[i].type,
                             scalars[i].help, scalars[i].v);
    }
    if (!err) {
        err = metrics_head(out, "mignet_plans_total", "counter",
                           "Migration plans by why the seed-004 loop "
                           "stopped (route_only: no estimate asked).");
    }
    for (int s = 0; !err && s <= PLAN_N_STOPS; s++) {
        err = strbuf_printf(out, "mignet_plans_total{stop=\"%s\"} %" PRIu64
                                 "\n",
                            s == FC_STOP_ROUTE_ONLY
                                ? "route_only"
                                : plan_stop_name((enum plan_stop) s),
                            fc->plans_by_stop[s]);
    }
    if (!err && fc->router) {
        err = metrics_head(out, "mignet_fabric_link_weight", "gauge",
                           "D-R weight of a fabric link: 1 + bytes its two "
                           "ports counted last period (2^50: chosen).");
    }
    size_t nl = fc->router ? fabric_n_links(fc->fab) : 0;
    for (uint32_t l = 0; !err && l < nl; l++) {
        const struct fabric_link *lk = fabric_link(fc->fab, l);
        if (fabric_node_kind(fc->fab, lk->node[1]) == FABRIC_HOST) {
            continue;
        }
        err = strbuf_printf(out,
                            "mignet_fabric_link_weight{a=\"%s:%" PRIu32
                            "\",b=\"%s:%" PRIu32 "\"} %" PRIu64 "\n",
                            fabric_node_name(fc->fab, lk->node[0]),
                            lk->port[0],
                            fabric_node_name(fc->fab, lk->node[1]),
                            lk->port[1], router_link_weight(fc->router, l));
    }
    if (!err) {
        err = metrics_render_hist(out, &fc->plan_hist);
    }
    if (!err) {
        err = metrics_render_hist(out, &fc->install_hist);
    }
    return err;
}
