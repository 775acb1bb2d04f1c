/* fabric_ctl.c: the fabric controller's lifecycle, model and planning.
 *
 * The fabric model is rebuilt from the topology file and the live switches
 * and links (fabric_switch.c, fabric_lldp.c) whenever they change, before
 * it is next used; a new router starts from the old one's port samples
 * and D-R choices.  A poll timer begins each statistics period.  Plans are
 * made with the planner (src/planner) on that model and handed to
 * fabric_install.c.  Nothing here blocks, talks to the core, or renders
 * anything (rest_fabric.c reads the views at the end of this file). */
#include "controller/fabric_ctl.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <unistd.h>

#include "controller/ctl.h"
#include "controller/fabric_flows.h"
#include "controller/fabric_priv.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/util.h"

#define FC_MAX_SLOTS 64     /* concurrent plans per host pair */

static const char *const fcm_names[] = {
#define FCM_STATE(ENUM, NAME) NAME,
    FCM_STATES
#undef FCM_STATE
};

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                          */

int64_t
fc_now(void)
{
    return (int64_t) clock_mono_ms();
}

void
fc_arm(struct event *ev, uint32_t ms)
{
    struct timeval tv = {
        .tv_sec = (time_t) (ms / 1000),
        .tv_usec = (suseconds_t) (ms % 1000) * 1000,
    };
    evtimer_add(ev, &tv);
}

struct fabric_mig *
fc_mig_find(const struct fabric_ctl *fc, uint64_t id)
{
    for (size_t i = 0; i < fc->n_migs; i++) {
        if (fc->migs[i]->id == id) {
            return fc->migs[i];
        }
    }
    return NULL;
}

size_t
mig_n_paths(const struct fabric_mig *m)
{
    return m->plan ? plan_n_paths(m->plan) : 1;
}

const struct route *
mig_path(const struct fabric_mig *m, size_t i)
{
    return m->plan ? plan_path(m->plan, i) : &m->route;
}

bool
mig_live(const struct fabric_mig *m)
{
    return m->state == FCM_INSTALLING || m->state == FCM_INSTALLED
           || m->state == FCM_FAILED;
}

void
mig_free(struct fabric_mig *m)
{
    if (m) {
        for (size_t i = 0; m->names && i < mig_n_paths(m); i++) {
            struct fc_names *nm = &m->names[i];
            for (size_t j = 0; j < nm->n_nodes + nm->n_hops; j++) {
                free(nm->v[j]);
            }
            free(nm->v);
        }
        free(m->names);
        plan_destroy(m->plan);
        route_destroy(&m->route);
        free(m);
    }
}

/* A switch's name if the fabric knows its dpid, else the dpid. */
void
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
void
fc_end_name(const struct fabric_ctl *fc, uint64_t dpid, uint32_t port,
            char *buf, size_t len)
{
    char name[80];
    fc_dpid_name(fc, dpid, name, sizeof name);
    snprintf(buf, len, "%s:%" PRIu32, name, port);
}

/* ---------------------------------------------------------------------- */
/* The fabric model: the file's nodes and links, then the live ones.      */

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

void
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
    fc->stats.rebuilds++;
    log_write(LOG_DBG, "fabric", "event=rebuilt nodes=%zu links=%zu",
              fabric_n_nodes(f), fabric_n_links(f));
}

void
fc_ensure(struct fabric_ctl *fc)
{
    if (fc->dirty || (!fc->fab && (fc->file || fc->n_sw))) {
        fc_rebuild(fc);
    }
}

/* ---------------------------------------------------------------------- */
/* ---------------------------------------------------------------------- */
/* Lifecycle.                                                              */

/* Each poll begins a statistics period (D-R) and asks for the counters. */
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
    fc_poll_switches(fc);
    fc_arm(fc->poll_timer, fc->opt->poll_ms);
}

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
        fc_switch_dial(s);
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

const char *
fabric_plan_errname(enum fabric_plan_err e)
{
    static const char *const names[] = {
#define FABRIC_PLAN_ERROR(ENUM, NAME) NAME,
        FABRIC_PLAN_ERRORS
#undef FABRIC_PLAN_ERROR
    };
    return (unsigned) e < ARRAY_SIZE(names) ? names[e] : "?";
}

static enum fabric_plan_err
fc_plan_fail(enum fabric_plan_err e, char *msg, size_t msglen,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum fabric_plan_err
fc_plan_fail(enum fabric_plan_err e, char *msg, size_t msglen,
             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    return e;
}

static enum fabric_plan_err
fc_plan_error(int err, char *msg, size_t msglen)
{
    switch (err) {
    case ENOENT:
        return fc_plan_fail(FABRIC_PLAN_E_NO_ROUTE, msg, msglen,
                            "the fabric has no path between the two hosts");
    case EINVAL:
        return fc_plan_fail(FABRIC_PLAN_E_INVALID_VALUE, msg, msglen,
                            "the planner refused these inputs");
    default:
        return fc_plan_fail(FABRIC_PLAN_E_NO_MEMORY, msg, msglen,
                            "out of memory");
    }
}

/* Fixes the names of the paths' nodes and switches in 'm' (a rebuild
 * renumbers the model). */
static void
fc_name_paths(const struct fabric_ctl *fc, struct fabric_mig *m)
{
    m->names = xcalloc(mig_n_paths(m), sizeof *m->names);
    for (size_t i = 0; i < mig_n_paths(m); i++) {
        const struct route *r = mig_path(m, i);
        struct fc_names *nm = &m->names[i];
        nm->n_nodes = r->n_links + 1;
        nm->n_hops = r->n_hops;
        nm->v = xcalloc(nm->n_nodes + nm->n_hops, sizeof *nm->v);
        for (size_t j = 0; j < nm->n_nodes; j++) {
            nm->v[j] = xstrdup(fabric_node_name(fc->fab, r->nodes[j]));
        }
        for (size_t j = 0; j < nm->n_hops; j++) {
            nm->v[nm->n_nodes + j] =
                xstrdup(fabric_node_name(fc->fab, r->hops[j].node));
        }
    }
}

enum fabric_plan_err
fabric_ctl_plan(struct fabric_ctl *fc, const struct fabric_plan_req *req,
                struct fabric_mig **migp, char *msg, size_t msglen)
{
    const struct fabric_plan_input *in = req->input;
    bool asked = in->given;
    uint32_t src, dst, src_ip, dst_ip;
    *migp = NULL;
    msg[0] = '\0';

    fc_ensure(fc);
    if (!fc->router || !fabric_n_hosts(fc->fab)) {
        return asked ? fc_plan_fail(FABRIC_PLAN_E_NO_FABRIC, msg, msglen,
                                    "mignetd has no fabric to plan on "
                                    "(start it with --fabric FILE)")
                     : FABRIC_PLAN_E_OK;
    }
    bool hs = fc_host(fc->fab, req->src_node, &src);
    bool hd = fc_host(fc->fab, req->dst_node, &dst);
    if (!hs || !hd) {
        return asked ? fc_plan_fail(FABRIC_PLAN_E_NOT_IN_FABRIC, msg, msglen,
                                    "node '%s' is not a host of the fabric",
                                    hs ? req->dst_node : req->src_node)
                     : FABRIC_PLAN_E_OK;
    }
    if (!addr_parse_ipv4(req->src_address, &src_ip)
        || !addr_parse_ipv4(req->dst_address, &dst_ip)) {
        if (!asked) {
            log_write(LOG_WARN, "fabric", "event=no_route_ipv6 from=%s "
                      "to=%s", req->src_node, req->dst_node);
            return FABRIC_PLAN_E_OK;
        }
        return fc_plan_fail(FABRIC_PLAN_E_INVALID_ADDRESS, msg, msglen,
                            "fabric routes need IPv4 node addresses");
    }
    uint32_t slot;
    if (!fc_slot(fc, src_ip, dst_ip, &slot)) {
        return fc_plan_fail(FABRIC_PLAN_E_BUSY, msg, msglen,
                            "too many plans between these two nodes");
    }

    struct fabric_mig *m = xcalloc(1, sizeof *m);
    route_init(&m->route);
    m->src_ip = src_ip;
    m->dst_ip = dst_ip;
    m->slot = slot;
    m->port0 = (uint16_t) (fc->opt->port_base + slot * fc->pcfg.max_paths);
    m->priority = (uint16_t) (FABRIC_PRIO_PATH + slot);
    enum route_strategy strategy = in->has_strategy ? in->strategy
                                                    : fc->strategy;
    double cpu = in->has_cpu ? in->target_cpu_free
                             : fc->opt->cpu_free_pct / 100.0;
    if (fc->install_ms_per_switch > 0) {
        fc->pcfg.flow_install_ms =
            (uint32_t) ceil(fc->install_ms_per_switch);
    }

    double t0 = clock_mono_s();
    int err;
    if (in->memory_mb) {
        struct plan_request pr = {
            .src = src,
            .dst = dst,
            .memory_bytes = (uint64_t) in->memory_mb << 20,
            .dirty_pages_per_s = in->dirty_pages_per_s,
            .page_size = in->page_size,
            .working_set_bytes = (uint64_t) in->working_set_mb << 20,
            .deadline_ms = in->deadline_ms,
            .target_cpu_free = cpu,
            .strategy = strategy,
            .learned_Bps = in->learned_Bps,
        };
        err = plan_create(fc->router, &fc->pcfg, &pr, &m->plan);
    } else {
        err = router_route(fc->router, strategy, src, dst, &m->route);
    }
    m->planning_s = clock_mono_s() - t0;
    m->dr_first = strategy == ROUTE_DR;
    m->period = fc->period;
    if (err) {
        fc->stats.plan_errors++;
        mig_free(m);
        return fc_plan_error(err, msg, msglen);
    }
    metrics_hist_observe(&fc->plan_hist, m->planning_s);
    fc->stats.plans_by_stop[m->plan ? plan_stop(m->plan)
                                    : FABRIC_STOP_ROUTE_ONLY]++;

    snprintf(m->from_host, sizeof m->from_host, "%s", req->src_node);
    snprintf(m->to_host, sizeof m->to_host, "%s", req->dst_node);
    m->input = *in;
    m->strategy = strategy;
    m->target_cpu_free = cpu;
    fc_name_paths(fc, m);
    *migp = m;
    return FABRIC_PLAN_E_OK;
}

bool
fabric_ctl_estimate(struct fabric_ctl *fc, const char *src_node,
                    const char *dst_node, const struct fabric_plan_input *in,
                    uint32_t n_paths, struct plan_step *out)
{
    uint32_t src, dst;
    fc_ensure(fc);
    if (!fc->router || !fc_host(fc->fab, src_node, &src)
        || !fc_host(fc->fab, dst_node, &dst) || !in->memory_mb) {
        return false;
    }
    struct plan_request pr = {
        .src = src,
        .dst = dst,
        .memory_bytes = (uint64_t) in->memory_mb << 20,
        .dirty_pages_per_s = in->dirty_pages_per_s,
        .page_size = in->page_size,
        .working_set_bytes = (uint64_t) in->working_set_mb << 20,
        .target_cpu_free = 1,
        .strategy = fc->strategy,
        .learned_Bps = in->learned_Bps,
    };
    return !plan_estimate_paths(fc->router, &fc->pcfg, &pr, n_paths, out);
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
fabric_ctl_release(struct fabric_ctl *fc, uint64_t migration)
{
    struct fabric_mig *m = fc ? fc_mig_find(fc, migration) : NULL;
    if (m && mig_live(m)) {
        mig_release(fc, m);
    }
}

/* ---------------------------------------------------------------------- */
/* Views (rendered by rest_fabric.c).                                      */

void
fabric_ctl_update(struct fabric_ctl *fc)
{
    fc_ensure(fc);
}

void
fabric_ctl_view(const struct fabric_ctl *fc, struct fabric_ctl_view *v)
{
    size_t ready = 0;
    for (size_t i = 0; i < fc->n_sw; i++) {
        ready += fc->sw[i]->ready;
    }
    *v = (struct fabric_ctl_view){
        .fab = fc->fab,
        .file = fc->file,
        .router = fc->router,
        .file_path = fc->opt->file,
        .strategy = fc->strategy,
        .poll_ms = fc->opt->poll_ms,
        .lldp_ms = fc->opt->lldp_ms,
        .flow_install_ms = fc->pcfg.flow_install_ms,
        .n_switches = fc->n_sw,
        .n_switches_ready = ready,
        .n_dlinks = fc->n_links,
        .stats = &fc->stats,
        .plan_hist = &fc->plan_hist,
        .install_hist = &fc->install_hist,
    };
}

const struct fabric_mig *
fabric_ctl_find_plan(const struct fabric_ctl *fc, uint64_t migration)
{
    return fc ? fc_mig_find(fc, migration) : NULL;
}

void
fabric_mig_view(const struct fabric_mig *m, struct fabric_mig_view *v)
{
    *v = (struct fabric_mig_view){
        .from_host = m->from_host,
        .to_host = m->to_host,
        .input = &m->input,
        .strategy = m->strategy,
        .target_cpu_free = m->target_cpu_free,
        .plan = m->plan,
        .n_paths = mig_n_paths(m),
        .planning_s = m->planning_s,
        .state = fcm_names[m->state],
        .n_switches = m->n_switches,
        .n_flows = m->n_flows,
        .started_ms = m->started_ms,
        .installed_ms = m->installed_ms,
        .released_ms = m->released_ms,
        .install_ms = m->install_ms,
        .error = m->error,
    };
}

void
fabric_mig_path(const struct fabric_mig *m, size_t i,
                struct fabric_path_view *v)
{
    const struct fc_names *nm = &m->names[i];
    *v = (struct fabric_path_view){
        .route = mig_path(m, i),
        .tcp_port = mig_port(m, i),
        .node_names = (const char *const *) nm->v,
        .hop_names = (const char *const *) nm->v + nm->n_nodes,
    };
}
