/* vnet_ctl.c: tenant virtual switches in mignetd: the vnet layer's
 * sockets, its nodes and its ensembles (vnet_ctl.h). */
#include "controller/vnet_ctl.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "controller/agent_server.h"
#include "controller/ctl.h"
#include "controller/metrics.h"
#include "controller/migrations.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/ofconn.h"
#include "mignet/ofpbuf.h"
#include "lib/util.h"
#include "mignet/vnet.h"
#include "proto/chan_msg.h"

/* A tenant controller that hung up or could not be reached is dialed
 * again after this long. */
#define VNET_CTL_RETRY_MS 1000

/* One switch's connection to its tenant controller. */
struct vnet_tenant {
    struct vnet_ctl *vc;
    struct vnet_tenant *next;
    char vswitch[MN_NAME_MAX + 1];
    struct bufferevent *bev;
    bool up;
    struct event *retry;
};

/* An ensemble migration in progress. */
struct vnet_ensemble {
    struct vnet_ensemble *next;
    char vswitch[MN_NAME_MAX + 1];
    uint64_t *ids;
    size_t n;
};

struct vnet_ctl {
    struct ctl *ctl;
    struct vnet *vnet;
    struct vnet_tenant *tenants;
    struct vnet_ensemble *ensembles;
    struct event *timer; /* vnet_next_wake() */
    bool placement_dirty; /* recompute which nodes host what */
};

static void tenant_dial(struct vnet_tenant *);

/* The switch's controller, as its definition gives it. */
static const char *
tenant_target(const struct vnet_tenant *t)
{
    const struct vnet_switch_def *d = vnet_switch_def(t->vc->vnet,
                                                      t->vswitch);
    return d ? d->controller : "";
}
static void ensembles_check(struct vnet_ctl *);
static void vnet_ctl_drain(struct vnet_ctl *);

static int64_t
now_ms(void)
{
    return (int64_t) clock_run_ms();
}

/* ---- Tenant controllers ---- */

static struct vnet_tenant *
tenant_find(const struct vnet_ctl *vc, const char *vs)
{
    for (struct vnet_tenant *t = vc->tenants; t; t = t->next) {
        if (!strcmp(t->vswitch, vs)) {
            return t;
        }
    }
    return NULL;
}

static void
tenant_close(struct vnet_tenant *t, const char *why)
{
    if (t->bev) {
        bufferevent_free(t->bev);
        t->bev = NULL;
    }
    if (t->up) {
        t->up = false;
        log_write(LOG_WARN, "vnet", "event=tenant_down vswitch=%s "
                  "controller=%s reason=\"%s\"", t->vswitch, tenant_target(t),
                  why);
        vnet_tenant_disconnected(t->vc->vnet, t->vswitch);
        vnet_ctl_drain(t->vc);
    }
    struct timeval tv = {VNET_CTL_RETRY_MS / 1000,
                         (VNET_CTL_RETRY_MS % 1000) * 1000};
    evtimer_add(t->retry, &tv);
}

static void
tenant_read_cb(struct bufferevent *bev, void *arg)
{
    struct vnet_tenant *t = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    if (!n) {
        return;
    }
    const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t) n);
    vnet_tenant_input(t->vc->vnet, t->vswitch, p, n, now_ms());
    evbuffer_drain(in, n);
    vnet_ctl_drain(t->vc);
}

static void
tenant_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct vnet_tenant *t = arg;
    (void) bev;
    if (what & BEV_EVENT_CONNECTED) {
        t->up = true;
        log_write(LOG_INF, "vnet", "event=tenant_up vswitch=%s "
                  "controller=%s", t->vswitch, tenant_target(t));
        vnet_tenant_connected(t->vc->vnet, t->vswitch, now_ms());
        vnet_ctl_drain(t->vc);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        int err = EVUTIL_SOCKET_ERROR();
        tenant_close(t, what & BEV_EVENT_EOF ? "closed" : strerror(err));
    }
}

static void
tenant_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    tenant_dial(arg);
}

static void
tenant_dial(struct vnet_tenant *t)
{
    struct sockaddr_storage ss;
    int sslen;
    char err[128];
    if (ofconn_parse_target(tenant_target(t), &ss, &sslen, err, sizeof err)) {
        log_write(LOG_WARN, "vnet", "event=tenant_target vswitch=%s "
                  "controller=%s err=\"%s\"", t->vswitch, tenant_target(t), err);
        return;
    }
    struct event_base *base = t->vc->ctl->base;
    t->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!t->bev) {
        tenant_close(t, "no memory");
        return;
    }
    bufferevent_setcb(t->bev, tenant_read_cb, NULL, tenant_event_cb, t);
    bufferevent_enable(t->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(t->bev, (struct sockaddr *) &ss,
                                   sslen)) {
        tenant_close(t, "connect failed");
    }
}

void
vnet_ctl_switch_added(struct vnet_ctl *vc, const char *vs)
{
    const struct vnet_switch_def *def = vnet_switch_def(vc->vnet, vs);
    if (tenant_find(vc, vs) || !def) {
        return;
    }
    struct vnet_tenant *t = xcalloc(1, sizeof *t);
    t->vc = vc;
    snprintf(t->vswitch, sizeof t->vswitch, "%s", vs);
    t->retry = evtimer_new(vc->ctl->base, tenant_retry_cb, t);
    t->next = vc->tenants;
    vc->tenants = t;
    vc->placement_dirty = true;
    tenant_dial(t);
    vnet_ctl_drain(vc);
}

static void
tenant_free(struct vnet_tenant *t)
{
    if (t->bev) {
        bufferevent_free(t->bev);
    }
    event_free(t->retry);
    free(t);
}

void
vnet_ctl_switch_removed(struct vnet_ctl *vc, const char *vs)
{
    for (struct vnet_tenant **p = &vc->tenants; *p; p = &(*p)->next) {
        if (!strcmp((*p)->vswitch, vs)) {
            struct vnet_tenant *t = *p;
            *p = t->next;
            tenant_free(t);
            break;
        }
    }
    for (struct vnet_ensemble **p = &vc->ensembles; *p; p = &(*p)->next) {
        if (!strcmp((*p)->vswitch, vs)) {
            struct vnet_ensemble *en = *p;
            *p = en->next;
            free(en->ids);
            free(en);
            break;
        }
    }
    vnet_ctl_drain(vc);
}

bool
vnet_ctl_connected(const struct vnet_ctl *vc, const char *vs)
{
    const struct vnet_tenant *t = tenant_find(vc, vs);
    return t && t->up;
}

/* ---- Output ---- */

static void
vnet_ctl_arm(struct vnet_ctl *vc)
{
    int64_t wake = vnet_next_wake(vc->vnet);
    if (wake == INT64_MAX) {
        event_del(vc->timer);
        return;
    }
    int64_t wait = wake - now_ms();
    if (wait < 0) {
        wait = 0;
    }
    struct timeval tv = {(time_t) (wait / 1000),
                         (suseconds_t) (wait % 1000) * 1000};
    evtimer_add(vc->timer, &tv);
}

/* Everything the switches produced: bytes to tenant controllers (written
 * at once: nothing of theirs is durable), messages to agents (held with
 * the batch, like the core's instructions). */
static void
vnet_ctl_drain(struct vnet_ctl *vc)
{
    for (struct vnet_tenant *t = vc->tenants; t; t = t->next) {
        struct ofpbuf *out = vnet_tenant_output(vc->vnet, t->vswitch);
        if (out && out->size && t->up && t->bev) {
            bufferevent_write(t->bev, out->data, out->size);
        }
        if (out) {
            ofpbuf_clear(out);
        }
        if (t->up && vnet_tenant_must_close(vc->vnet, t->vswitch)) {
            tenant_close(t, "OpenFlow session failed");
        }
    }
    char node[MN_NAME_MAX + 1];
    struct chan_msg m;
    while (vnet_node_output(vc->vnet, node, &m)) {
        agent_server_send_named(vc->ctl->agents, node, &m);
    }
    vnet_ctl_arm(vc);
}

static void
vnet_ctl_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct vnet_ctl *vc = arg;
    (void) fd;
    (void) what;
    vnet_run(vc->vnet, now_ms());
    vnet_ctl_drain(vc);
}

/* ---- Nodes ---- */

void
vnet_ctl_node_up(struct vnet_ctl *vc, const char *node)
{
    vnet_node_up(vc->vnet, node, now_ms());
    vnet_ctl_drain(vc);
}

void
vnet_ctl_node_down(struct vnet_ctl *vc, const char *node)
{
    vnet_node_down(vc->vnet, node, now_ms());
    vnet_ctl_drain(vc);
}

bool
vnet_ctl_node_msg(struct vnet_ctl *vc, const char *node,
                  const struct chan_msg *msg)
{
    bool mine = vnet_node_msg(vc->vnet, node, msg, now_ms());
    if (mine) {
        vnet_ctl_drain(vc);
    }
    return mine;
}

/* The nodes that hold a switch: those its VMs are placed on, and both
 * ends of a migration of one of them that is not over (so the
 * destination holds the rules before the VM arrives, and the source
 * until its copy is deleted). */
static void
vnet_ctl_place(struct vnet_ctl *vc, const char *vs)
{
    struct core *core = vc->ctl->core;
    const struct vnet_switch_def *def = vnet_switch_def(vc->vnet, vs);
    if (!def) {
        return;
    }
    /* Names copied: a migration's are in a struct read per VM. */
    typedef char node_name[MN_NAME_MAX + 1];
    node_name *names = xcalloc(2 * def->n_ports + 1, sizeof *names);
    const char **nodes = xcalloc(2 * def->n_ports + 1, sizeof *nodes);
    size_t n = 0;
    for (size_t i = 0; i < def->n_ports; i++) {
        node_name cand[2] = {"", ""};
        const char *vm_name = def->ports[i].vm;
        struct core_vm_info vi;
        struct core_node_info ni;
        uint32_t vm = core_vm_find(core, vm_name);
        if (vm == CORE_NONE || !core_vm_info(core, vm, &vi)) {
            vnet_set_vm_node(vc->vnet, vs, vm_name, NULL);
            continue;
        }
        if (vi.node != CORE_NONE && core_node_info(core, vi.node, &ni)) {
            snprintf(cand[0], sizeof cand[0], "%s", ni.name);
        }
        vnet_set_vm_node(vc->vnet, vs, vm_name, cand[0]);
        struct core_migration m;
        if (vi.migration && core_migration_get(core, vi.migration, &m)
            && m.phase != MIG_CLEANED && m.phase != MIG_ABORTED) {
            snprintf(cand[0], sizeof cand[0], "%s", m.src_name);
            snprintf(cand[1], sizeof cand[1], "%s", m.dst_name);
        }
        for (size_t c = 0; c < 2; c++) {
            bool seen = !cand[c][0];
            for (size_t k = 0; k < n && !seen; k++) {
                seen = !strcmp(names[k], cand[c]);
            }
            if (!seen) {
                memcpy(names[n], cand[c], sizeof names[n]);
                nodes[n] = names[n];
                n++;
            }
        }
    }
    vnet_set_nodes(vc->vnet, vs, nodes, n);
    free(nodes);
    free(names);
}

void
vnet_ctl_after_batch(struct vnet_ctl *vc)
{
    if (!vc) {
        return;
    }
    if (vc->placement_dirty) {
        vc->placement_dirty = false;
        for (struct vnet_tenant *t = vc->tenants; t; t = t->next) {
            vnet_ctl_place(vc, t->vswitch);
        }
        ensembles_check(vc);
    }
    vnet_ctl_drain(vc);
}

/* ---- Ensembles ---- */

static struct vnet_ensemble *
ensemble_find(const struct vnet_ctl *vc, const char *vs)
{
    for (struct vnet_ensemble *en = vc->ensembles; en; en = en->next) {
        if (!strcmp(en->vswitch, vs)) {
            return en;
        }
    }
    return NULL;
}

size_t
vnet_ctl_ensemble(const struct vnet_ctl *vc, const char *vs,
                  const uint64_t **ids)
{
    const struct vnet_ensemble *en = ensemble_find(vc, vs);
    *ids = en ? en->ids : NULL;
    return en ? en->n : 0;
}

static bool
ensemble_over(const struct vnet_ctl *vc, const struct vnet_ensemble *en)
{
    for (size_t i = 0; i < en->n; i++) {
        struct core_migration m;
        if (core_migration_get(vc->ctl->core, en->ids[i], &m)
            && m.phase != MIG_CLEANED && m.phase != MIG_ABORTED) {
            return false;
        }
    }
    return true;
}

/* Called inside the core (its sink): only notes that placements and
 * ensembles must be looked at again, after the batch. */
void
vnet_ctl_placement_changed(struct vnet_ctl *vc)
{
    if (vc) {
        vc->placement_dirty = true;
    }
}

/* Ensembles whose every migration is over: the switch is whole again. */
static void
ensembles_check(struct vnet_ctl *vc)
{
    for (struct vnet_ensemble **p = &vc->ensembles; *p;) {
        struct vnet_ensemble *en = *p;
        if (ensemble_over(vc, en)) {
            log_write(LOG_INF, "vnet", "event=ensemble_done vswitch=%s "
                      "migrations=%zu", en->vswitch, en->n);
            vnet_split_end(vc->vnet, en->vswitch);
            *p = en->next;
            free(en->ids);
            free(en);
            continue;
        }
        p = &en->next;
    }
}

bool
vnet_ctl_migrate(struct vnet_ctl *vc, const char *vs,
                 const struct vnet_ctl_move *moves, size_t n,
                 const struct core_migrate_opts *opts, uint64_t *ids,
                 enum core_err *cerr, char *err, size_t errlen)
{
    struct ctl *ctl = vc->ctl;
    *cerr = CORE_E_OK;
    if (ensemble_find(vc, vs)) {
        snprintf(err, errlen, "an ensemble migration of '%s' is running",
                 vs);
        return false;
    }
    /* Every move checked first: a refusal starts nothing. */
    for (size_t i = 0; i < n; i++) {
        uint32_t vm = core_vm_find(ctl->core, moves[i].vm);
        uint32_t to = core_node_find(ctl->core, moves[i].node);
        *cerr = vm == CORE_NONE   ? CORE_E_UNKNOWN_VM
                : to == CORE_NONE ? CORE_E_UNKNOWN_NODE
                                  : core_migrate_opts_check(ctl->core, vm,
                                                            CORE_NONE, to,
                                                            opts);
        if (*cerr) {
            snprintf(err, errlen, "%s to %s: %s", moves[i].vm,
                     moves[i].node, core_errname(*cerr));
            return false;
        }
    }
    vnet_split_begin(vc->vnet, vs);
    uint64_t now = clock_run_ms();
    /* No plan fields: a fabric plans each VM's path as it would for a
     * migrate request without them. */
    const struct fabric_plan_input plan = {0};
    for (size_t i = 0; i < n; i++) {
        struct ctl_migrate_req mr = {
            .vm = core_vm_find(ctl->core, moves[i].vm),
            .from = CORE_NONE,
            .to = core_node_find(ctl->core, moves[i].node),
            .opts = opts,
            .plan = &plan,
        };
        struct core_migrate_result res;
        struct ctl_migrate_refusal why;
        if (!ctl_migrate(ctl, &mr, now, &res, &why)) {
            /* Checked above: only the fabric's planner can refuse here;
             * what started is aborted, so nothing is left half done. */
            for (size_t k = 0; k < i; k++) {
                core_migration_abort(ctl->core, ids[k], "ensemble refused",
                                     now);
            }
            vnet_split_end(vc->vnet, vs);
            *cerr = why.core;
            snprintf(err, errlen, "%s: %s", moves[i].vm,
                     why.core ? core_errname(why.core) : why.message);
            return false;
        }
        ids[i] = res.migration;
    }
    struct vnet_ensemble *en = xcalloc(1, sizeof *en);
    snprintf(en->vswitch, sizeof en->vswitch, "%s", vs);
    en->ids = xcalloc(n ? n : 1, sizeof *en->ids);
    memcpy(en->ids, ids, n * sizeof *ids);
    en->n = n;
    en->next = vc->ensembles;
    vc->ensembles = en;
    vc->placement_dirty = true;
    log_write(LOG_INF, "vnet", "event=ensemble_start vswitch=%s "
              "migrations=%zu", vs, n);
    return true;
}

/* ---- Life ---- */

struct vnet_ctl *
vnet_ctl_create(struct ctl *ctl, char *err, size_t errlen)
{
    struct vnet_ctl *vc = xcalloc(1, sizeof *vc);
    vc->ctl = ctl;
    struct vnet_options o;
    vnet_options_init(&o);
    o.key_base = ctl->opts.vnet_key_base;
    vc->vnet = vnet_create(&o);
    vc->timer = evtimer_new(ctl->base, vnet_ctl_timer_cb, vc);
    if (!vc->vnet || !vc->timer) {
        snprintf(err, errlen, "cannot create the virtual switches");
        vnet_ctl_destroy(vc);
        return NULL;
    }
    return vc;
}

void
vnet_ctl_destroy(struct vnet_ctl *vc)
{
    if (!vc) {
        return;
    }
    while (vc->tenants) {
        struct vnet_tenant *t = vc->tenants;
        vc->tenants = t->next;
        tenant_free(t);
    }
    while (vc->ensembles) {
        struct vnet_ensemble *en = vc->ensembles;
        vc->ensembles = en->next;
        free(en->ids);
        free(en);
    }
    if (vc->timer) {
        event_free(vc->timer);
    }
    vnet_destroy(vc->vnet);
    free(vc);
}

struct vnet *
vnet_ctl_vnet(struct vnet_ctl *vc)
{
    return vc->vnet;
}

int
vnet_ctl_metrics(const struct vnet_ctl *vc, struct strbuf *out)
{
    struct vnet_counters c;
    vnet_get_counters(vc->vnet, &c);
    size_t connected = 0;
    for (const struct vnet_tenant *t = vc->tenants; t; t = t->next) {
        connected += t->up;
    }
    const struct metrics_sample v[] = {
        {"mignet_vnet_switches", "gauge", "Tenant virtual switches.",
         vnet_n_switches(vc->vnet)},
        {"mignet_vnet_controllers_connected", "gauge", "Tenant "
         "controllers connected.", connected},
        {"mignet_vnet_flow_mods_total", "counter", "Tenant flow-mods "
         "accepted.", c.flow_mods},
        {"mignet_vnet_flow_mods_refused_total", "counter", "Tenant "
         "flow-mods refused with an OpenFlow error.", c.flow_mods_refused},
        {"mignet_vnet_packet_ins_total", "counter", "Packet-ins sent to "
         "tenant controllers.", c.packet_ins},
        {"mignet_vnet_packet_in_duplicates_total", "counter", "Packet-ins "
         "merged away: the same packet reported by a second node.",
         c.packet_in_duplicates},
        {"mignet_vnet_packet_outs_total", "counter", "Tenant packet-outs "
         "accepted.", c.packet_outs},
        {"mignet_vnet_errors_sent_total", "counter", "OpenFlow errors sent "
         "to tenant controllers.", c.errors_sent},
        {"mignet_vnet_two_phase_updates_total", "counter", "Version "
         "updates done in two phases (stage, flip, drop) while split.",
         c.two_phase_updates},
        {"mignet_vnet_pushes_total", "counter", "Tenant switch pushes "
         "sent to nodes.", c.pushes},
        {"mignet_vnet_nacks_total", "counter", "Pushes a node's switch "
         "refused.", c.nacks},
        {"mignet_vnet_flows_expired_total", "counter", "Tenant flows "
         "removed by their idle or hard timeout.", c.flows_expired},
    };
    return metrics_scalars(out, v, sizeof v / sizeof v[0]);
}
