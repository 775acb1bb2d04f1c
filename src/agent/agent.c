/* agent.c: mignet-agent's event loop (see agent.h).
 *
 * Three connections, one libevent loop: the agent channel to mignetd
 * (chan_client does the protocol), the OpenFlow connection to the node's
 * bridge, and gateway polls.  Every change recomputes the desired flow
 * table (pipeline.c) and sends the difference (flowtab.c) followed by a
 * barrier; instructions are acknowledged, and map versions reported, only
 * when that barrier's reply arrives.  It must never acknowledge what
 * Open vSwitch has not confirmed, and never crash on anything a peer
 * sends.  Port security (seed 003): DHCP server messages punted from
 * trusted ports are sent up to mignetd or snooped here; bindings become
 * table-10 flows. */
#include "agent/agent.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent_map.h"
#include "lib/addr.h"
#include "agent/chan_client.h"
#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "lib/clock.h"
#include "lib/http_client.h"
#include "lib/log.h"
#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/util.h"
#include "mignet/binding.h"
#include "mignet/dhcp.h"
#include "mignet/ofp.h"

#define MAX_PORTS 4096
#define LAT_SAMPLES 4096
/* DHCP ACKs whose enforcement is being timed, and for how long at most. */
#define MAX_PENDING_ACKS 64
#define PENDING_ACK_MAX_US (30 * 1000000ull)

bool
agent_dhcp_snoop_parse(const char *s, enum agent_dhcp_snoop *out)
{
    static const char *const names[] = {"controller", "agent", "off"};
    size_t i = name_index(names, ARRAY_SIZE(names), s);
    if (i == ARRAY_SIZE(names)) {
        return false;
    }
    *out = (enum agent_dhcp_snoop) i;
    return true;
}

void
agent_options_default(struct agent_options *o)
{
    memset(o, 0, sizeof *o);
    o->controller = "127.0.0.1:7481";
    o->gateway = "http://127.0.0.1:7480";
    o->tunnel_port = "vxlan0";
    o->refresh_ms = 2000;
    o->refresh_jitter = 0.1;
    o->stats_ms = 1000;
    o->reconnect_ms = 500;
}

struct port {
    char name[OFP_MAX_PORT_NAME_LEN + 1];
    uint32_t no;
};

/* A barrier in flight and what its reply confirms. */
struct barrier {
    uint32_t xid;
    uint64_t session;  /* chan session it belongs to */
    uint64_t ack_seq;  /* instructions confirmed by it */
    uint64_t version;  /* map version confirmed by it */
    uint64_t sent_us;
    uint64_t oldest_instr_us; /* arrival of the oldest unconfirmed instr */
    size_t n_mods;            /* flow_mods the barrier closes */
    size_t n_installed;       /* size of the table once it is confirmed */
};

/* A DHCP ACK seen on a trusted port, until a barrier confirms flows that
 * enforce the binding it granted (the ACK -> enforcement latency). */
struct pending_ack {
    uint8_t mac[6];
    uint32_t ip;
    uint64_t t0_us;
    bool enforced; /* the desired flows enforce it */
    uint32_t xid;  /* barrier that confirms them, 0 = not sent yet */
};

/* A latency summary over the last LAT_SAMPLES observations. */
struct lat {
    uint64_t us[LAT_SAMPLES];
    size_t n;
    uint64_t total;
};

struct agent {
    struct agent_options opt;
    struct event_base *base;
    uint64_t rng;

    /* Agent channel. */
    struct chan_client *chan;
    struct bufferevent *chan_bev;
    struct event *chan_timer;
    struct event *chan_retry;
    struct strbuf chan_out;
    uint64_t session; /* counts connections */
    uint64_t unconfirmed_since_us; /* oldest applied, unacked instruction */
    uint64_t synced_seq; /* highest instruction a barrier already covers */
    size_t confirmed_flows; /* flows in the switch, per the last barrier */

    /* Gateway. */
    struct http_url gw;
    struct agent_map *map;
    struct event *poll_timer;
    uint64_t polls, poll_errors;
    uint64_t confirmed_version; /* map version confirmed by a barrier */

    /* OpenFlow. */
    struct bufferevent *of_bev;
    struct event *of_retry;
    bool of_ready;
    uint32_t xid;
    struct port ports[MAX_PORTS];
    size_t n_ports;
    struct flowtab *desired, *installed;
    struct barrier *barriers;
    size_t n_barriers, barriers_cap;
    struct event *sync_ev;
    struct event *stats_timer;
    uint32_t stats_xid;

    /* Port security (seed 003). */
    struct binding_table *snooped; /* agent-snooped, not yet confirmed */
    struct pending_ack pend[MAX_PENDING_ACKS];
    size_t n_pend;
    uint32_t portsec_xid;
    uint64_t spoof_drops;  /* packets the drop flows of table 10 counted */
    uint64_t portsec_sum;  /* ... as last read */
    uint64_t portsec_flows;
    uint64_t dhcp_punts, dhcp_sent, dhcp_bad, bindings_snooped;

    /* Metrics. */
    struct evhttp *http;
    uint64_t flow_mods, syncs, of_errors, of_connects;
    uint64_t relayed_packets, relay_flows;
    uint64_t relay_sum; /* packets counted by the relay flows last read */
    struct lat instr_lat;   /* instruction -> barrier reply */
    struct lat enforce_lat; /* DHCP ACK -> its binding's flows confirmed */
    size_t biggest_batch;     /* most flow_mods confirmed by one barrier */
    uint64_t biggest_batch_us; /* its time from first send to reply */

    struct event *sig_term, *sig_int;
};

static void
lat_add(struct lat *l, uint64_t us)
{
    l->us[l->total++ % LAT_SAMPLES] = us;
    if (l->n < LAT_SAMPLES) {
        l->n++;
    }
}

static uint64_t
rng_next(struct agent *a)
{
    /* xorshift64*: jitter only, nothing security-relevant. */
    a->rng ^= a->rng >> 12;
    a->rng ^= a->rng << 25;
    a->rng ^= a->rng >> 27;
    return a->rng * UINT64_C(2685821657736338717);
}

static void
arm_ms(struct event *ev, uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t) (ms / 1000),
                         .tv_usec = (suseconds_t) (ms % 1000) * 1000};
    event_add(ev, &tv);
}

static void schedule_sync(struct agent *);

/* ---- OpenFlow ---- */

static void
of_send(struct agent *a, struct ofpbuf *b)
{
    if (a->of_bev && b->size) {
        bufferevent_write(a->of_bev, b->data, b->size);
    }
}

static void
of_send_msg(struct agent *a, struct ofp_msg *msg)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    if (!ofp_encode(msg, &b)) {
        of_send(a, &b);
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
    of_send_msg(a, &msg);
}

static uint32_t
port_lookup(const struct agent *a, const char *name)
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
    arm_ms(a->of_retry, a->opt.reconnect_ms);
}

/* A barrier reply: acknowledge what it confirms. */
static void
barrier_done(struct agent *a, uint32_t xid)
{
    uint64_t t = clock_mono_ms();
    size_t k = 0;
    while (k < a->n_barriers && a->barriers[k].xid <= xid) {
        const struct barrier *b = &a->barriers[k++];
        a->confirmed_flows = b->n_installed;
        if (b->n_mods >= a->biggest_batch) {
            a->biggest_batch = b->n_mods;
            a->biggest_batch_us = clock_mono_us() - b->sent_us;
        }
        if (b->session == a->session && b->ack_seq) {
            chan_client_ack(a->chan, b->ack_seq, t, &a->chan_out);
            if (b->oldest_instr_us) {
                lat_add(&a->instr_lat, clock_mono_us() - b->oldest_instr_us);
            }
        }
        if (b->version > a->confirmed_version) {
            a->confirmed_version = b->version;
            chan_client_refreshed(a->chan, b->version, t, &a->chan_out);
        }
    }
    /* ACKs whose binding's flows this barrier confirmed. */
    uint64_t us = clock_mono_us();
    size_t j = 0;
    for (size_t i = 0; i < a->n_pend; i++) {
        struct pending_ack *p = &a->pend[i];
        if (p->xid && p->xid <= xid) {
            lat_add(&a->enforce_lat, us - p->t0_us);
            log_write(LOG_INF, "agent", "event=binding_enforced node=%s "
                      "ack_to_flows_us=%" PRIu64, a->opt.node,
                      us - p->t0_us);
        } else if (us - p->t0_us < PENDING_ACK_MAX_US) {
            a->pend[j++] = *p;
        }
    }
    a->n_pend = j;
    memmove(a->barriers, a->barriers + k,
            (a->n_barriers - k) * sizeof *a->barriers);
    a->n_barriers -= k;
    if (a->chan_bev && a->chan_out.len) {
        bufferevent_write(a->chan_bev, a->chan_out.data, a->chan_out.len);
        strbuf_clear(&a->chan_out);
    }
}

static void
relay_stats(struct agent *a, const struct ofp_multipart *mp)
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

static void
portsec_stats(struct agent *a, const struct ofp_multipart *mp)
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

static void schedule_sync(struct agent *);
static void chan_flush(struct agent *);

/* The held, local entry of the VM whose MAC is 'mac', or NULL. */
static const struct chan_entry *
local_entry_by_mac(const struct agent *a, const uint8_t mac[6])
{
    size_t n = chan_client_n_entries(a->chan);
    for (size_t i = 0; i < n; i++) {
        const struct chan_entry *e = chan_client_entry(a->chan, i);
        if (!e->relay && !memcmp(e->config.mac, mac, 6)) {
            return e;
        }
    }
    return NULL;
}

/* The binding enforced for a held entry: the controller's, or one this
 * agent snooped and the controller has not confirmed yet. */
static const struct binding *
entry_binding(const struct agent *a, const struct chan_entry *e)
{
    const struct binding *local =
        e->relay ? NULL : binding_table_find_vm(a->snooped, e->vm);
    if (local) {
        return local;
    }
    return e->has_binding ? &e->binding : NULL;
}

/* Drops snooped bindings the controller now holds (same MAC and IP),
 * whose VM is no longer placed here, or whose lease ended. */
static void
snooped_prune(struct agent *a)
{
    uint32_t cursor = 0, drop[64];
    size_t n_drop = 0;
    uint64_t now = clock_wall_ms();
    for (const struct binding *b;
         n_drop < 64 && (b = binding_table_next(a->snooped, &cursor));) {
        const struct chan_entry *e = chan_client_find(a->chan, b->vm);
        if (!e || e->relay
            || (e->has_binding && e->binding.ip == b->ip
                && !memcmp(e->binding.mac, b->mac, 6))
            || (b->expires_ms && b->expires_ms <= now)) {
            drop[n_drop++] = b->id;
        }
    }
    for (size_t i = 0; i < n_drop; i++) {
        binding_table_delete(a->snooped, drop[i], NULL);
    }
}

/* FIG. 4: this agent turns the server's message into the VM's binding,
 * enforces it at once and reports it to mignetd. */
static void
snoop_here(struct agent *a, const struct dhcp_msg *d)
{
    const struct chan_entry *e = local_entry_by_mac(a, d->chaddr);
    if (!e) {
        return; /* not a VM placed here */
    }
    const struct binding *cur = entry_binding(a, e);
    struct binding_table *scratch = binding_table_create();
    enum binding_err be = BINDING_E_OK;
    if (cur) {
        struct binding c = *cur;
        c.id = 1;
        be = binding_table_add(scratch, &c, NULL);
    }
    struct binding_ctx ctx = {
        .vm = e->vm,
        .node = a->opt.node,
        .port = e->config.port,
        .vlan = e->config.vlan,
        .origin = BINDING_FROM_AGENT,
        .port_status = cur ? cur->port_status : BINDING_PORT_UP,
        .port_security = cur ? cur->port_security : BINDING_UNTRUST,
    };
    enum binding_action act = BINDING_ACT_NONE;
    struct binding nb;
    if (!be) {
        be = binding_table_snoop(scratch, d, &ctx, clock_wall_ms(), &act, &nb);
    }
    binding_table_destroy(scratch);
    if (be) {
        a->dhcp_bad++;
        log_write(LOG_WARN, "agent", "event=snoop_refused node=%s vm=%s "
                  "err=%s", a->opt.node, e->vm, binding_errname(be));
        return;
    }
    if (act == BINDING_ACT_NONE) {
        return;
    }
    const struct binding *old = binding_table_find_vm(a->snooped, e->vm);
    if (old) {
        binding_table_delete(a->snooped, old->id, NULL);
    }
    if (act != BINDING_ACT_REMOVED
        && (be = binding_table_add(a->snooped, &nb, NULL))) {
        log_write(LOG_WARN, "agent", "event=snoop_refused node=%s vm=%s "
                  "err=%s", a->opt.node, e->vm, binding_errname(be));
    }
    a->bindings_snooped++;
    struct chan_msg m;
    chan_msg_init(&m, CHAN_BINDING);
    snprintf(m.vm, sizeof m.vm, "%s", e->vm);
    m.action = act;
    m.has_binding = true;
    m.binding = nb;
    chan_client_send(a->chan, &m, clock_mono_ms(), &a->chan_out);
    chan_flush(a);
    schedule_sync(a);
}

static void
packet_in(struct agent *a, const struct ofp_packet_in *pi)
{
    uint64_t port = 0, mask;
    if ((pi->cookie & PL_COOKIE_KIND_MASK) != pl_cookie_kind(PL_K_PORTSEC)
        || !ofp_match_get(&pi->match, OFP_F_IN_PORT, &port, &mask)
        || a->opt.dhcp_snoop == AGENT_SNOOP_OFF) {
        return;
    }
    a->dhcp_punts++;
    struct dhcp_msg d;
    enum dhcp_err de = dhcp_parse_frame(pi->data, pi->data_len, 0, &d);
    if (!de && d.type == DHCP_ACK && d.yiaddr
        && a->n_pend < MAX_PENDING_ACKS) {
        struct pending_ack *p = &a->pend[a->n_pend++];
        memset(p, 0, sizeof *p);
        memcpy(p->mac, d.chaddr, 6);
        p->ip = d.yiaddr;
        p->t0_us = clock_mono_us();
    }
    if (a->opt.dhcp_snoop == AGENT_SNOOP_CONTROLLER) {
        /* FIG. 3: the controller parses and decides; send what came. */
        if (!pi->data_len || pi->data_len > CHAN_FRAME_MAX) {
            a->dhcp_bad++;
            return;
        }
        struct chan_msg m;
        chan_msg_init(&m, CHAN_DHCP);
        m.port = (uint32_t) port;
        memcpy(m.frame, pi->data, pi->data_len);
        m.frame_len = pi->data_len;
        if (chan_client_send(a->chan, &m, clock_mono_ms(), &a->chan_out)) {
            a->dhcp_sent++;
        }
        chan_flush(a);
    } else if (de) {
        a->dhcp_bad++;
        log_write(LOG_INF, "agent", "event=bad_dhcp node=%s port=%" PRIu64
                  " err=%s", a->opt.node, port, dhcp_errname(de));
    } else {
        snoop_here(a, &d);
    }
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
        of_send_msg(a, &cfg);
        struct ofp_msg req;
        ofp_msg_init(&req, OFPT_MULTIPART_REQUEST, a->xid++);
        req.mp.type = OFPMP_PORT_DESC;
        of_send_msg(a, &req);
        struct ofp_msg del;
        ofp_msg_init(&del, OFPT_FLOW_MOD, a->xid++);
        ofp_flow_mod_init(&del.flow_mod, OFPFC_DELETE);
        del.flow_mod.table_id = OFPTT_ALL;
        of_send_msg(a, &del);
        flowtab_clear(a->installed);
        a->of_ready = true;
        a->of_connects++;
        log_write(LOG_INF, "agent", "event=ofp_connected node=%s",
                  a->opt.node);
        schedule_sync(a);
        break;
    }
    case OFPT_ECHO_REQUEST: {
        struct ofp_msg rep;
        ofp_msg_init(&rep, OFPT_ECHO_REPLY, msg.xid);
        rep.echo = msg.echo;
        of_send_msg(a, &rep);
        break;
    }
    case OFPT_ERROR:
        a->of_errors++;
        log_write(LOG_WARN, "agent", "event=ofp_error node=%s type=%u "
                  "code=%u xid=%" PRIu32, a->opt.node, msg.error.type,
                  msg.error.code, msg.xid);
        break;
    case OFPT_BARRIER_REPLY:
        barrier_done(a, msg.xid);
        break;
    case OFPT_PORT_STATUS:
        port_set(a, &msg.port_status.desc,
                 msg.port_status.reason != OFPPR_DELETE);
        schedule_sync(a);
        break;
    case OFPT_MULTIPART_REPLY:
        if (msg.mp.type == OFPMP_PORT_DESC) {
            struct ofp_mp_iter it;
            struct ofp_port p;
            ofp_mp_iter_init(&it, &msg.mp);
            while (ofp_port_desc_next(&it, &p)) {
                port_set(a, &p, true);
            }
            schedule_sync(a);
        } else if (msg.mp.type == OFPMP_FLOW && msg.xid == a->stats_xid) {
            relay_stats(a, &msg.mp);
        } else if (msg.mp.type == OFPMP_FLOW
                   && msg.xid == a->portsec_xid) {
            portsec_stats(a, &msg.mp);
        }
        break;
    case OFPT_PACKET_IN:
        packet_in(a, &msg.packet_in);
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

static void
of_connect(evutil_socket_t fd_, short what, void *aux)
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
        arm_ms(a->of_retry, a->opt.reconnect_ms);
        return;
    }
    evutil_make_socket_nonblocking(fd);
    a->of_bev = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(a->of_bev, of_read_cb, NULL, of_event_cb, a);
    bufferevent_enable(a->of_bev, EV_READ | EV_WRITE);
    struct ofpbuf b;
    ofpbuf_init(&b, 16);
    ofp_encode_hello(&b, a->xid++);
    of_send(a, &b);
    ofpbuf_uninit(&b);
}

/* ---- Desired state ---- */

/* The node's view: held entries (placed here or relaying) and the map. */
static void
compute(struct agent *a)
{
    snooped_prune(a);
    size_t n_held = chan_client_n_entries(a->chan);
    size_t n_map = agent_map_count(a->map);
    struct pl_vm *vms = xcalloc(n_held + n_map + 1, sizeof *vms);
    size_t n = 0;
    uint32_t tunnel = port_lookup(a, a->opt.tunnel_port);
    for (size_t i = 0; i < n_held; i++) {
        const struct chan_entry *e = chan_client_entry(a->chan, i);
        struct pl_vm *v = &vms[n++];
        v->vm = e->vm;
        v->config = e->config;
        v->binding = entry_binding(a, e);
        if (v->binding) {
            /* Timing an ACK's enforcement: these flows enforce it. */
            for (size_t k = 0; k < a->n_pend; k++) {
                struct pending_ack *p = &a->pend[k];
                if (!p->enforced && p->ip == v->binding->ip
                    && !memcmp(p->mac, v->binding->mac, 6)) {
                    p->enforced = true;
                }
            }
        }
        if (e->relay) {
            /* The snapshot keeps its binding's flows while the VM's port
             * is still here (until its DELETE). */
            v->ofport = e->config.port ? e->config.port
                                       : port_lookup(a, e->vm);
            v->kind = PL_VM_RELAY;
            v->peer = 0;
            uint32_t ip;
            if (!addr_parse_ipv4(e->target_address, &ip)) {
                n--; /* cannot tunnel to it */
                continue;
            }
            v->peer = ip;
        } else {
            v->kind = PL_VM_LOCAL;
            v->ofport = e->config.port ? e->config.port
                                       : port_lookup(a, e->vm);
        }
    }
    for (size_t i = 0; i < n_map; i++) {
        const struct amap_entry *m = agent_map_entry(a->map, i);
        if (!strcmp(m->node, a->opt.node) || !m->address
            || chan_client_find(a->chan, m->vm)) {
            continue; /* ours, unreachable, or held: the instruction wins */
        }
        struct pl_vm *v = &vms[n++];
        v->vm = m->vm;
        v->kind = PL_VM_REMOTE;
        v->config = m->config;
        v->peer = m->address;
    }
    struct pl_input in = {
        .tunnel_port = tunnel,
        .dhcp_punt = a->opt.dhcp_snoop != AGENT_SNOOP_OFF,
        .vms = vms,
        .n_vms = n,
    };
    pipeline_compute(&in, a->desired);
    free(vms);
}

static void
sync_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (!a->of_ready) {
        return; /* resynced in full when the switch is back */
    }
    compute(a);
    struct ofpbuf b;
    ofpbuf_init(&b, 4096);
    struct flowtab_diff d;
    uint64_t start_us = clock_mono_us();
    flowtab_sync(a->installed, a->desired, &b, &a->xid, &d);
    a->flow_mods += d.added + d.modified + d.deleted;
    a->syncs++;
    struct ofp_msg barrier;
    ofp_msg_init(&barrier, OFPT_BARRIER_REQUEST, a->xid++);
    if (ofp_encode(&barrier, &b)) {
        abort();
    }
    of_send(a, &b);
    ofpbuf_uninit(&b);
    a->barriers = xgrow(a->barriers, &a->barriers_cap, a->n_barriers + 1,
                        sizeof *a->barriers);
    a->barriers[a->n_barriers++] = (struct barrier){
        .xid = barrier.xid,
        .session = a->session,
        .ack_seq = chan_client_pending_ack(a->chan),
        .version = agent_map_version(a->map),
        .sent_us = start_us,
        .oldest_instr_us = a->unconfirmed_since_us,
        .n_mods = d.added + d.modified + d.deleted,
        .n_installed = flowtab_count(a->installed),
    };
    a->unconfirmed_since_us = 0;
    a->synced_seq = a->barriers[a->n_barriers - 1].ack_seq;
    for (size_t k = 0; k < a->n_pend; k++) {
        if (a->pend[k].enforced && !a->pend[k].xid) {
            a->pend[k].xid = barrier.xid;
        }
    }
    if (d.added || d.modified || d.deleted) {
        log_write(LOG_DBG, "agent", "event=flows_synced node=%s added=%zu "
                  "modified=%zu deleted=%zu installed=%zu", a->opt.node,
                  d.added, d.modified, d.deleted,
                  flowtab_count(a->installed));
    }
}

static void
schedule_sync(struct agent *a)
{
    event_active(a->sync_ev, EV_TIMEOUT, 0);
}

/* ---- Agent channel ---- */

static void chan_close(struct agent *, const char *why);

static void
chan_flush(struct agent *a)
{
    if (a->chan_bev && a->chan_out.len) {
        bufferevent_write(a->chan_bev, a->chan_out.data, a->chan_out.len);
    }
    strbuf_clear(&a->chan_out);
}

static void
chan_state_changed(void *aux)
{
    schedule_sync(aux);
}

/* mignetd refused a binding this agent reported: what it snooped is not
 * the truth, so it stops enforcing it (the controller's install, or the
 * unbound rules, apply). */
static void
chan_received(void *aux, const char *line, size_t len,
              const struct chan_msg *msg, enum chan_err e)
{
    struct agent *a = aux;
    (void) line;
    (void) len;
    (void) e;
    if (!msg || msg->type != CHAN_ERROR || !binding_table_count(a->snooped)
        || (strcmp(msg->code, "binding_refused")
            && strcmp(msg->code, "binding_mismatch")
            && strcmp(msg->code, "wrong_source"))) {
        return;
    }
    log_write(LOG_WARN, "agent", "event=binding_report_refused node=%s "
              "code=%s msg=\"%s\" dropped=%zu", a->opt.node, msg->code,
              msg->message, binding_table_count(a->snooped));
    binding_table_destroy(a->snooped);
    a->snooped = binding_table_create();
    schedule_sync(a);
}

static void
chan_read_cb(struct bufferevent *bev, void *aux)
{
    struct agent *a = aux;
    struct evbuffer *in = bufferevent_get_input(bev);
    char buf[16384];
    size_t n;
    while ((n = evbuffer_remove(in, buf, sizeof buf)) > 0) {
        int err = chan_client_receive(a->chan, buf, n, clock_mono_ms(),
                                      &a->chan_out);
        if (err) {
            chan_flush(a);
            chan_close(a, strerror(err));
            return;
        }
    }
    uint64_t pending = chan_client_pending_ack(a->chan);
    if (pending) {
        /* Instructions no barrier covers yet start the latency clock,
         * also while an earlier barrier is still in flight. */
        if (pending > a->synced_seq && !a->unconfirmed_since_us) {
            a->unconfirmed_since_us = clock_mono_us();
        }
        schedule_sync(a); /* a barrier will confirm and acknowledge */
    }
    chan_flush(a);
}

static void
chan_event_cb(struct bufferevent *bev, short what, void *aux)
{
    (void) bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        chan_close(aux, (what & BEV_EVENT_EOF) ? "closed by controller"
                                               : "error");
    }
}

static void
chan_close(struct agent *a, const char *why)
{
    if (a->chan_bev) {
        log_write(LOG_WARN, "agent", "event=channel_closed node=%s "
                  "reason=\"%s\"", a->opt.node, why);
        bufferevent_free(a->chan_bev);
        a->chan_bev = NULL;
        chan_client_disconnected(a->chan);
    }
    arm_ms(a->chan_retry, a->opt.reconnect_ms);
}

static void
chan_timer_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (a->chan_bev) {
        int err = chan_client_run(a->chan, clock_mono_ms(), &a->chan_out);
        chan_flush(a);
        if (err) {
            chan_close(a, "controller silent");
        }
    }
    arm_ms(a->chan_timer, 100);
}

static void
chan_connect(evutil_socket_t fd_, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd_;
    (void) what;
    char host[256], port[8], err[128];
    int fd;
    if (!sock_split_hostport(a->opt.controller, host, sizeof host, port,
                             sizeof port)
        || sock_connect(host, port, 1000, &fd, err, sizeof err)) {
        arm_ms(a->chan_retry, a->opt.reconnect_ms);
        return;
    }
    a->chan_bev = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(a->chan_bev, chan_read_cb, NULL, chan_event_cb, a);
    bufferevent_enable(a->chan_bev, EV_READ | EV_WRITE);
    a->session++;
    a->synced_seq = 0; /* sequence numbers start again */
    a->confirmed_version = 0; /* report the held version again */
    chan_client_connected(a->chan, clock_mono_ms(), &a->chan_out);
    chan_flush(a);
    log_write(LOG_INF, "agent", "event=channel_connected node=%s "
              "controller=%s", a->opt.node, a->opt.controller);
}

/* ---- Gateway ---- */

static void
poll_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    struct strbuf path;
    strbuf_init(&path);
    /* No node= parameter: this node reports the version it holds over the
     * channel once its flows are confirmed, so a refresh is counted
     * once, when it is true. */
    strbuf_printf(&path, "/v1/map?since=%" PRIu64,
                  agent_map_version(a->map));
    struct http_response resp;
    http_response_init(&resp);
    char err[160];
    a->polls++;
    enum http_err e = http_request(&a->gw, "GET", strbuf_str(&path), NULL, 0,
                                   1000, &resp, err, sizeof err);
    if (e || resp.status != 200) {
        a->poll_errors++;
        log_write(LOG_DBG, "agent", "event=poll_failed node=%s error=\"%s\" "
                  "status=%d", a->opt.node, e ? err : "", resp.status);
    } else if (agent_map_apply(a->map, resp.body, resp.body_len, err,
                               sizeof err)) {
        a->poll_errors++;
        log_write(LOG_WARN, "agent", "event=bad_map node=%s error=\"%s\"",
                  a->opt.node, err);
    } else {
        schedule_sync(a); /* the barrier reports the refresh */
    }
    http_response_destroy(&resp);
    strbuf_destroy(&path);
    double j = a->opt.refresh_jitter
               * ((double) (rng_next(a) % 20001) / 10000.0 - 1.0);
    double next = a->opt.refresh_ms * (1.0 + j);
    arm_ms(a->poll_timer, next < 1 ? 1 : (uint64_t) next);
}

/* ---- Statistics and metrics ---- */

static void
stats_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (a->of_ready) {
        struct ofp_msg req;
        ofp_msg_init(&req, OFPT_MULTIPART_REQUEST, a->xid++);
        req.mp.type = OFPMP_FLOW;
        req.mp.flow_req.table_id = OFPTT_ALL;
        req.mp.flow_req.out_port = OFPP_ANY;
        req.mp.flow_req.out_group = OFPG_ANY;
        req.mp.flow_req.cookie = pl_cookie_kind(PL_K_RELAY);
        req.mp.flow_req.cookie_mask = PL_COOKIE_KIND_MASK;
        a->stats_xid = req.xid;
        of_send_msg(a, &req);
        req.xid = a->xid++;
        req.mp.flow_req.table_id = PL_T_PORTSEC;
        req.mp.flow_req.cookie = pl_cookie_kind(PL_K_PORTSEC);
        a->portsec_xid = req.xid;
        of_send_msg(a, &req);
        /* A snooped binding's lease may have ended. */
        if (binding_table_count(a->snooped)) {
            uint64_t due;
            if (binding_table_next_expiry(a->snooped, &due)
                && due <= clock_wall_ms()) {
                schedule_sync(a);
            }
        }
    }
    arm_ms(a->stats_timer, a->opt.stats_ms);
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

static void
metrics_cb(struct evhttp_request *req, void *aux)
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
        a->relayed_packets, a->relay_flows, p50, p99, a->instr_lat.total, e50, e99, emax,
        a->enforce_lat.total, a->spoof_drops, a->portsec_flows,
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

static void
signal_cb(evutil_socket_t sig, short what, void *aux)
{
    struct agent *a = aux;
    (void) what;
    log_write(LOG_INF, "agent", "event=stopping node=%s signal=%d",
              a->opt.node, (int) sig);
    event_base_loopexit(a->base, NULL);
}

int
agent_run(const struct agent_options *opt)
{
    struct agent *a = xcalloc(1, sizeof *a);
    a->opt = *opt;
    char err[160];
    if (http_url_parse(opt->gateway, &a->gw, err, sizeof err)) {
        fprintf(stderr, "mignet-agent: --gateway: %s\n", err);
        free(a);
        return 2;
    }
    struct chan_client_hooks hooks = {.state_changed = chan_state_changed,
                                      .received = chan_received,
                                      .aux = a};
    a->chan = chan_client_create(opt->node, &hooks);
    if (!a->chan) {
        fprintf(stderr, "mignet-agent: invalid node id '%s'\n", opt->node);
        free(a);
        return 2;
    }
    chan_client_set_ack(a->chan, false);
    a->rng = opt->seed ? opt->seed : (uint64_t) hash_str(opt->node) | 1;
    a->xid = 1;
    strbuf_init(&a->chan_out);
    a->map = agent_map_create();
    a->desired = flowtab_create();
    a->installed = flowtab_create();
    a->snooped = binding_table_create();
    signal(SIGPIPE, SIG_IGN);
    a->base = event_base_new();
    a->sync_ev = event_new(a->base, -1, 0, sync_cb, a);
    a->chan_timer = evtimer_new(a->base, chan_timer_cb, a);
    a->chan_retry = evtimer_new(a->base, chan_connect, a);
    a->of_retry = evtimer_new(a->base, of_connect, a);
    a->poll_timer = evtimer_new(a->base, poll_cb, a);
    a->stats_timer = evtimer_new(a->base, stats_cb, a);
    a->sig_term = evsignal_new(a->base, SIGTERM, signal_cb, a);
    a->sig_int = evsignal_new(a->base, SIGINT, signal_cb, a);
    event_add(a->sig_term, NULL);
    event_add(a->sig_int, NULL);
    int rc = 0;
    if (opt->metrics) {
        char host[256], port[8];
        a->http = evhttp_new(a->base);
        if (!sock_split_hostport(opt->metrics, host, sizeof host, port,
                                 sizeof port)
            || evhttp_bind_socket(a->http, host,
                                  (uint16_t) atoi(port))) {
            fprintf(stderr, "mignet-agent: cannot listen on %s\n",
                    opt->metrics);
            rc = 1;
            goto out;
        }
        evhttp_set_cb(a->http, "/metrics", metrics_cb, a);
    }
    of_connect(-1, 0, a);
    chan_connect(-1, 0, a);
    arm_ms(a->chan_timer, 100);
    arm_ms(a->poll_timer, 1);
    arm_ms(a->stats_timer, opt->stats_ms);
    printf("mignet-agent ready node=%s controller=%s gateway=%s ofp=%s\n",
           opt->node, opt->controller, opt->gateway, opt->ofp);
    fflush(stdout);
    event_base_dispatch(a->base);
out:
    if (a->chan_bev) {
        bufferevent_free(a->chan_bev);
    }
    if (a->of_bev) {
        bufferevent_free(a->of_bev);
    }
    if (a->http) {
        evhttp_free(a->http);
    }
    event_free(a->sync_ev);
    event_free(a->chan_timer);
    event_free(a->chan_retry);
    event_free(a->of_retry);
    event_free(a->poll_timer);
    event_free(a->stats_timer);
    event_free(a->sig_term);
    event_free(a->sig_int);
    event_base_free(a->base);
    chan_client_destroy(a->chan);
    agent_map_destroy(a->map);
    flowtab_destroy(a->desired);
    flowtab_destroy(a->installed);
    binding_table_destroy(a->snooped);
    strbuf_destroy(&a->chan_out);
    free(a->barriers);
    free(a);
    return rc;
}
