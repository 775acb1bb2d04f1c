/* agent_of.c: mignet-agent's OpenFlow 1.3 session with its node's bridge.
 *
 * lib/ofconn runs the session (hello, features, echo, xids, barriers with
 * the errors before them); this file opens it on the bridge's socket
 * without blocking, sets it up once it is ready (asynchronous messages,
 * port table, a read of the agent's flows it already holds), keeps the
 * port table, and hands each message on: flow statistics to
 * agent_metrics.c, packet-ins to agent_snoop.c.  Barrier results go to
 * ofctrl.c (agent_sync.c).  Nothing a switch sends may crash it: what the
 * codec cannot decode is dropped. */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/flowtab.h"
#include "agent/ofctrl.h"
#include "agent/pipeline.h"
#include "lib/log.h"
#include "lib/ofconn.h"
#include "mignet/ofp.h"

static void of_message(void *aux, const struct ofp_msg *);

/* A reply (or error) to a request: dispatched like any message, but an
 * error for a statistics request never counts against a flow batch. */
static void
of_reply(void *aux, const struct ofp_msg *msg, bool last)
{
    (void) last;
    if (msg) {
        of_message(aux, msg);
    }
    if (msg && msg->type == OFPT_ERROR) {
        /* E.g. no port table: sync with what is known rather than never. */
        agent_schedule_sync(aux);
    }
}

void
agent_of_send_msg(struct agent *a, struct ofp_msg *msg)
{
    if (!a->of_ready) {
        return;
    }
    if (msg->type == OFPT_MULTIPART_REQUEST) {
        (void) ofconn_request(a->of, msg, of_reply, a, NULL);
    } else {
        (void) ofconn_send(a->of, msg, NULL);
    }
}

/* Asks for port changes (and packet-ins, flow removals) on this
 * connection: Open vSwitch sends a service connection, such as the
 * bridge's management socket, no asynchronous messages until told. */
static void
of_send_set_async(struct agent *a)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_SET_ASYNC, 0);
    msg.async.packet_in[0] = 0x7;    /* no match, action, invalid TTL */
    msg.async.port_status[0] = 0x7;  /* add, delete, modify */
    msg.async.port_status[1] = 0x7;
    msg.async.flow_removed[0] = 0xf; /* every reason */
    agent_of_send_msg(a, &msg);
}

uint32_t
agent_port_lookup(const struct agent *a, const char *name)
{
    for (size_t i = 0; i < a->n_ports; i++) {
        if (!strcmp(a->ports[i].name, name)) {
            return a->ports[i].no;
        }
    }
    return 0;
}

static void
port_set(struct agent *a, const struct ofp_port *p, bool present)
{
    vm_changes_add(&a->changed, p->name); /* the VM of that name, if any */
    for (size_t i = 0; i < a->n_ports; i++) {
        if (!strcmp(a->ports[i].name, p->name)) {
            if (present) {
                a->ports[i].no = p->port_no;
            } else {
                a->ports[i] = a->ports[--a->n_ports];
            }
            return;
        }
    }
    if (present && a->n_ports < MAX_PORTS && p->port_no < OFPP_MAX) {
        snprintf(a->ports[a->n_ports].name, sizeof a->ports[0].name, "%s",
                 p->name);
        a->ports[a->n_ports].no = p->port_no;
        a->n_ports++;
    }
}

/* ofconn hook: the handshake is done.  Hear about port changes, learn the
 * ports, then read the agent's flows the switch already holds. */
static void
of_ready(void *aux, const struct ofp_features *features)
{
    struct agent *a = aux;
    (void) features;
    a->of_ready = true;
    of_send_set_async(a);
    /* Packet-ins carry the whole frame (the DHCP punt). */
    struct ofp_msg cfg;
    ofp_msg_init(&cfg, OFPT_SET_CONFIG, 0);
    cfg.config.miss_send_len = OFPCML_NO_BUFFER;
    agent_of_send_msg(a, &cfg);
    struct ofp_msg req;
    ofp_msg_init(&req, OFPT_MULTIPART_REQUEST, 0);
    req.mp.type = OFPMP_PORT_DESC;
    agent_of_send_msg(a, &req);
    /* Read what the switch holds rather than clear it: an agent restart
     * must not blackhole the node's VMs (agent_sync.c converges). */
    ofctrl_reconnected(a->ofctrl);
    (void) ofctrl_read_switch(a->ofctrl, a->installed,
                              PL_COOKIE_MAGIC << 48, PL_COOKIE_MAGIC_MASK);
    a->of_connects++;
    log_write(LOG_INF, "agent", "event=ofp_connected node=%s", a->opt.node);
    /* The first sync waits for the port table (its reply schedules it):
     * flows computed without it would deliver to no port, and their
     * barrier would confirm a table that is not the node's. */
}

/* ofconn hook: what the session did not consume itself. */
static void
of_message(void *aux, const struct ofp_msg *msg)
{
    struct agent *a = aux;
    switch (msg->type) {
    case OFPT_ERROR:
        /* For a flow_mod: also counted against its batch (ofctrl.c). */
        a->of_errors++;
        log_write(LOG_WARN, "agent", "event=ofp_error node=%s type=%u "
                  "code=%u xid=%" PRIu32, a->opt.node, msg->error.type,
                  msg->error.code, msg->xid);
        break;
    case OFPT_PORT_STATUS:
        port_set(a, &msg->port_status.desc,
                 msg->port_status.reason != OFPPR_DELETE);
        agent_schedule_sync(a);
        break;
    case OFPT_MULTIPART_REPLY:
        if (msg->mp.type == OFPMP_PORT_DESC) {
            struct ofp_mp_iter it;
            struct ofp_port p;
            ofp_mp_iter_init(&it, &msg->mp);
            while (ofp_port_desc_next(&it, &p)) {
                port_set(a, &p, true);
            }
            agent_schedule_sync(a);
        } else if (msg->mp.type == OFPMP_FLOW && msg->xid == a->stats_xid) {
            agent_relay_stats(a, &msg->mp);
        } else if (msg->mp.type == OFPMP_FLOW
                   && msg->xid == a->portsec_xid) {
            agent_portsec_stats(a, &msg->mp);
        }
        break;
    case OFPT_PACKET_IN:
        agent_packet_in(a, &msg->packet_in);
        break;
    default:
        break;
    }
}

/* ofconn hook: the session ended (its barriers already reported 'lost'). */
static void
of_closed(void *aux, int error)
{
    struct agent *a = aux;
    log_write(LOG_WARN, "agent", "event=ofp_closed node=%s reason=\"%s\"",
              a->opt.node, error ? strerror(error) : "closed by switch");
    a->of_ready = false;
    agent_arm_ms(a->of_retry, a->opt.reconnect_ms);
}

const struct ofconn_hooks agent_of_hooks = {
    .ready = of_ready,
    .message = of_message,
    .closed = of_closed,
};

void
agent_of_connect(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    /* A bare path is a unix socket, as it always was. */
    char target[512], err[256];
    const char *ofp = a->opt.ofp;
    if (strncmp(ofp, "unix:", 5) && strncmp(ofp, "tcp:", 4)) {
        snprintf(target, sizeof target, "unix:%s", ofp);
    } else {
        snprintf(target, sizeof target, "%s", ofp);
    }
    a->of_ready = false;
    int error = ofconn_open(a->of, a->base, target, err, sizeof err);
    if (error == EINVAL) {
        log_write(LOG_ERROR, "agent", "event=ofp_bad_target error=\"%s\"",
                  err);
        return;
    }
    if (error) {
        log_write(LOG_DBG, "agent", "event=ofp_connect_failed error=\"%s\"",
                  err);
        agent_arm_ms(a->of_retry, a->opt.reconnect_ms);
    }
}
