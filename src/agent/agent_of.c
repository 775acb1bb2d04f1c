/* agent_of.c: mignet-agent's OpenFlow 1.3 session with its node's bridge.
 *
 * It connects to the bridge's unix socket, says hello, asks for port
 * changes and packet-ins, keeps the port table, answers echoes and hands
 * each message on: barrier replies to agent_sync.c, flow statistics to
 * agent_metrics.c, packet-ins to agent_snoop.c.  Nothing a switch sends may
 * crash it: what the codec cannot decode is logged and dropped. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent-private.h"
#include "agent/flowtab.h"
#include "lib/log.h"
#include "mignet/ofp.h"

void
agent_of_send(struct agent *a, struct ofpbuf *b)
{
    if (a->of_bev && b->size) {
        bufferevent_write(a->of_bev, b->data, b->size);
    }
}

void
agent_of_send_msg(struct agent *a, struct ofp_msg *msg)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    if (!ofp_encode(msg, &b)) {
        agent_of_send(a, &b);
    }
    ofpbuf_uninit(&b);
}

/* Asks for port changes (and packet-ins, flow removals) on this
 * connection: Open vSwitch sends a service connection, such as the
 * bridge's management socket, no asynchronous messages until told. */
static void
of_send_set_async(struct agent *a)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_SET_ASYNC, a->xid++);
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

static void
of_close(struct agent *a, const char *why)
{
    if (a->of_bev) {
        log_write(LOG_WARN, "agent", "event=ofp_closed node=%s reason=\"%s\"",
                  a->opt.node, why);
        bufferevent_free(a->of_bev);
        a->of_bev = NULL;
    }
    a->of_ready = false;
    a->n_barriers = 0;
    agent_arm_ms(a->of_retry, a->opt.reconnect_ms);
}

static void
of_handle(struct agent *a, const uint8_t *data, size_t len)
{
    struct ofp_msg msg;
    enum ofperr err = ofp_decode(data, len, &msg);
    if (err) {
        /* Something this codec does not know: never fatal. */
        log_write(LOG_DBG, "agent", "event=ofp_undecoded error=%s",
                  ofperr_name(err));
        return;
    }
    /* The agent reads no action list from the switch (a flow_mod or
     * packet_out from it is ignored): free them at once. */
    ofp_msg_destroy(&msg);
    switch (msg.type) {
    case OFPT_HELLO: {
        if (!ofp_hello_negotiate(&msg.hello, 1u << OFP13_VERSION)) {
            of_close(a, "no common OpenFlow version");
            return;
        }
        /* Hear about port changes, learn the ports, then start from a
         * clean table. */
        of_send_set_async(a);
        /* Packet-ins carry the whole frame (the DHCP punt). */
        struct ofp_msg cfg;
        ofp_msg_init(&cfg, OFPT_SET_CONFIG, a->xid++);
        cfg.config.miss_send_len = OFPCML_NO_BUFFER;
        agent_of_send_msg(a, &cfg);
        struct ofp_msg req;
        ofp_msg_init(&req, OFPT_MULTIPART_REQUEST, a->xid++);
        req.mp.type = OFPMP_PORT_DESC;
        agent_of_send_msg(a, &req);
        struct ofp_msg del;
        ofp_msg_init(&del, OFPT_FLOW_MOD, a->xid++);
        ofp_flow_mod_init(&del.flow_mod, OFPFC_DELETE);
        del.flow_mod.table_id = OFPTT_ALL;
        agent_of_send_msg(a, &del);
        flowtab_clear(a->installed);
        a->of_ready = true;
        a->of_connects++;
        log_write(LOG_INF, "agent", "event=ofp_connected node=%s",
                  a->opt.node);
        agent_schedule_sync(a);
        break;
    }
    case OFPT_ECHO_REQUEST: {
        struct ofp_msg rep;
        ofp_msg_init(&rep, OFPT_ECHO_REPLY, msg.xid);
        rep.echo = msg.echo;
        agent_of_send_msg(a, &rep);
        break;
    }
    case OFPT_ERROR:
        a->of_errors++;
        log_write(LOG_WARN, "agent", "event=ofp_error node=%s type=%u "
                  "code=%u xid=%" PRIu32, a->opt.node, msg.error.type,
                  msg.error.code, msg.xid);
        break;
    case OFPT_BARRIER_REPLY:
        agent_barrier_done(a, msg.xid);
        break;
    case OFPT_PORT_STATUS:
        port_set(a, &msg.port_status.desc,
                 msg.port_status.reason != OFPPR_DELETE);
        agent_schedule_sync(a);
        break;
    case OFPT_MULTIPART_REPLY:
        if (msg.mp.type == OFPMP_PORT_DESC) {
            struct ofp_mp_iter it;
            struct ofp_port p;
            ofp_mp_iter_init(&it, &msg.mp);
            while (ofp_port_desc_next(&it, &p)) {
                port_set(a, &p, true);
            }
            agent_schedule_sync(a);
        } else if (msg.mp.type == OFPMP_FLOW && msg.xid == a->stats_xid) {
            agent_relay_stats(a, &msg.mp);
        } else if (msg.mp.type == OFPMP_FLOW
                   && msg.xid == a->portsec_xid) {
            agent_portsec_stats(a, &msg.mp);
        }
        break;
    case OFPT_PACKET_IN:
        agent_packet_in(a, &msg.packet_in);
        break;
    default:
        break;
    }
}

static void
of_read_cb(struct bufferevent *bev, void *aux)
{
    struct agent *a = aux;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        if (avail < 8) {
            return;
        }
        const uint8_t *p = evbuffer_pullup(in, 8);
        size_t len;
        if (ofp_frame(p, avail, &len)) {
            of_close(a, "bad OpenFlow framing");
            return;
        }
        if (!len) {
            return;
        }
        p = evbuffer_pullup(in, (ssize_t) len);
        of_handle(a, p, len);
        if (!a->of_bev) {
            return; /* closed while handling */
        }
        evbuffer_drain(in, len);
    }
}

static void
of_event_cb(struct bufferevent *bev, short what, void *aux)
{
    struct agent *a = aux;
    (void) bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        of_close(a, (what & BEV_EVENT_EOF) ? "closed by switch" : "error");
    }
}

void
agent_of_connect(evutil_socket_t fd_, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd_;
    (void) what;
    const char *path = a->opt.ofp;
    if (!strncmp(path, "unix:", 5)) {
        path += 5;
    }
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path) {
        log_write(LOG_ERROR, "agent", "event=ofp_path_too_long");
        return;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        agent_arm_ms(a->of_retry, a->opt.reconnect_ms);
        return;
    }
    evutil_make_socket_nonblocking(fd);
    a->of_bev = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(a->of_bev, of_read_cb, NULL, of_event_cb, a);
    bufferevent_enable(a->of_bev, EV_READ | EV_WRITE);
    struct ofpbuf b;
    ofpbuf_init(&b, 16);
    ofp_encode_hello(&b, a->xid++);
    agent_of_send(a, &b);
    ofpbuf_uninit(&b);
}
