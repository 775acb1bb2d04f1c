/* fabric_lldp.c: the links between fabric switches that LLDP finds.
 *
 * Every LLDP period each switch sends a discovery frame (lib/lldp) out of
 * each up port; a frame of ours that comes back in on another switch's
 * port (packet-in, punted by the flow fabric_flows.c installs) confirms
 * the link between the two ports.  Links not heard for three periods, on
 * a port that went down, or recabled, are dropped; every change marks the
 * model for a rebuild.  It never trusts a frame whose sender is not one of
 * our ready switches. */
#include <inttypes.h>
#include <stdlib.h>

#include "controller/fabric_priv.h"
#include "lib/lldp.h"
#include "lib/log.h"
#include "lib/ofconn.h"
#include "lib/util.h"

bool
fc_dlink_alive(const struct fabric_ctl *fc, const struct fc_dlink *l,
               int64_t now)
{
    int64_t last = l->seen_ms[0] > l->seen_ms[1] ? l->seen_ms[0]
                                                 : l->seen_ms[1];
    return last && now - last <= 3 * (int64_t) fc->opt->lldp_ms;
}

void
fc_send_lldp(struct fc_switch *s, const struct fc_port *p)
{
    uint8_t frame[LLDP_DISCOVERY_LEN];
    size_t n = lldp_encode_discovery(s->dpid, p->no, p->mac,
                                     LLDP_DEFAULT_TTL, frame);
    struct ofp_msg *msg = xmalloc(sizeof *msg);
    ofp_msg_init(msg, OFPT_PACKET_OUT, 0);
    msg->packet_out.in_port = OFPP_CONTROLLER;
    msg->packet_out.data = frame;
    msg->packet_out.data_len = n;
    if (!ofp_actions_output(&msg->packet_out.actions, p->no)
        && !ofconn_send(s->conn, msg, NULL)) {
        s->lldp_sent++;
        s->fc->stats.lldp_sent++;
    }
    ofp_msg_destroy(msg);
    free(msg);
}

void
fc_send_lldp_all(struct fc_switch *s)
{
    for (size_t i = 0; s->ready && i < s->n_ports; i++) {
        if (s->ports[i].up) {
            fc_send_lldp(s, &s->ports[i]);
        }
    }
}

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
void
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
            fc->stats.links_expired++;
            fc_link_remove(fc, i, "expired");
        } else {
            i++;
        }
    }
}

void
fc_lldp_packet_in(struct fc_switch *s, const struct ofp_packet_in *pi)
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
        fc->stats.lldp_foreign++;
        return;
    }
    if (dpid == s->dpid && port == in_port) {
        return;
    }
    s->lldp_received++;
    fc->stats.lldp_received++;
    fc_link_seen(fc, dpid, port, s->dpid, (uint32_t) in_port, fc_now());
}

void
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


void
fabric_ctl_dlink(const struct fabric_ctl *fc, size_t i,
                 struct fabric_dlink_view *v)
{
    const struct fc_dlink *dl = &fc->links[i];
    fc_end_name(fc, dl->dpid[0], dl->port[0], v->a, sizeof v->a);
    fc_end_name(fc, dl->dpid[1], dl->port[1], v->b, sizeof v->b);
    v->alive = fc_dlink_alive(fc, dl, fc_now());
    v->both_directions = dl->seen_ms[0] && dl->seen_ms[1];
}

bool
fabric_ctl_lldp_confirms(const struct fabric_ctl *fc, uint32_t link)
{
    int64_t now = fc_now();
    const struct fabric_link *lk = fabric_link(fc->fab, link);
    uint64_t d0 = fabric_node_dpid(fc->fab, lk->node[0]);
    uint64_t d1 = fabric_node_dpid(fc->fab, lk->node[1]);
    bool seen = false;
    for (size_t i = 0; i < fc->n_links; i++) {
        const struct fc_dlink *dl = &fc->links[i];
        seen |= fc_dlink_alive(fc, dl, now)
                && ((dl->dpid[0] == d0 && dl->port[0] == lk->port[0]
                     && dl->dpid[1] == d1 && dl->port[1] == lk->port[1])
                    || (dl->dpid[0] == d1 && dl->port[0] == lk->port[1]
                        && dl->dpid[1] == d0 && dl->port[1] == lk->port[0]));
    }
    return seen;
}
