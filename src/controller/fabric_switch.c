/* fabric_switch.c: mignetd's OpenFlow sessions to the fabric switches.
 *
 * One connection per switch (lib/ofconn) on mignetd's loop: to each
 * configured switch (reconnected with backoff), and from each switch that
 * dials in on --fabric-listen.  On connect: ask for packet-ins and port
 * changes, delete every flow with mignet's cookie tag, punt LLDP to the
 * controller, re-install the flows of live plans, learn the ports and
 * send LLDP out of each.  Port counters go to the router.  It never
 * blocks, and never frees a switch from inside its own callbacks. */
#include <errno.h>
#include <inttypes.h>
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
#include "controller/fabric_priv.h"
#include "lib/log.h"
#include "lib/ofconn.h"
#include "lib/sock.h"
#include "lib/util.h"

#define FC_RETRY_MIN_MS 200
#define FC_RETRY_MAX_MS 5000
#define FC_MAX_PORTS 4096

struct fc_switch *
fc_switch_by_dpid(struct fabric_ctl *fc, uint64_t dpid)
{
    for (size_t i = 0; i < fc->n_sw; i++) {
        if (fc->sw[i]->ready && fc->sw[i]->dpid == dpid) {
            return fc->sw[i];
        }
    }
    return NULL;
}

void
fc_send(struct fc_switch *s, struct ofp_msg *msg)
{
    if (ofconn_send(s->conn, msg, NULL)) {
        s->errors++;
    }
}

void
fc_send_flow(struct fc_switch *s, const struct ofp_flow_mod *fm)
{
    struct ofp_msg *msg = xmalloc(sizeof *msg);
    ofp_msg_init(msg, OFPT_FLOW_MOD, 0);
    msg->flow_mod = *fm; /* A view of the caller's lists: not destroyed. */
    fc_send(s, msg);
    free(msg);
}

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
    fc->stats.stats_replies++;
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
    ofp_flow_mod_destroy(&fm);
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
sw_message(void *aux, const struct ofp_msg *msg)
{
    struct fc_switch *s = aux;
    if (!s->ready) {
        return; /* a duplicate waiting to be dropped */
    }
    switch (msg->type) {
    case OFPT_PACKET_IN:
        fc_lldp_packet_in(s, &msg->packet_in);
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

#define FC_MAX_DIALED 1024

struct fc_switch *
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

void
fc_switch_dial(struct fc_switch *s)
{
    s->retry = evtimer_new(s->fc->ctl->base, sw_retry_cb, s);
    if (!s->retry) {
        out_of_memory();
    }
    sw_connect(s);
}

void
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
void
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
        sock_format_addr(sa, peer, sizeof peer);
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
int
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

/* Asks every ready switch for its port counters (the D-R weights). */
void
fc_poll_switches(struct fabric_ctl *fc)
{
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
            fc->stats.stats_polls++;
        }
        free(msg);
    }
}

void
fabric_ctl_switch(const struct fabric_ctl *fc, size_t i,
                  struct fabric_switch_view *v)
{
    const struct fc_switch *s = fc->sw[i];
    *v = (struct fabric_switch_view){
        .name = s->name,
        .target = s->target,
        .connected = s->ready,
        .dpid = s->dpid,
        .n_ports = s->n_ports,
        .lldp_sent = s->lldp_sent,
        .lldp_received = s->lldp_received,
    };
}
