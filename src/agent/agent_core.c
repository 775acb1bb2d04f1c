/* agent_core.c: the inputs and outputs of mignet-agent's sans-I/O core
 * (agent_core.h).
 *
 * It creates what the core owns, turns what the shell feeds it (channel
 * bytes, switch bytes, map answers, 'now') into calls of chan_client,
 * lib/ofconn and ofctrl, keeps the port table and the flow statistics,
 * and says when it next needs to run.  The decisions about flows are in
 * agent_sync.c, port security in agent_snoop.c.  Nothing here reads a
 * clock or touches a socket. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_map.h"
#include "agent/agent_vnet.h"
#include "agent/map_push.h"
#include "agent/flowtab.h"
#include "agent/ovsdb_iface.h"
#include "agent/pipeline.h"
#include "agent/pl_engine.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mignet/binding.h"

/* ---- Latency and statistics ---- */

void
agent_lat_add(struct lat *l, uint64_t us)
{
    l->us[l->total++ % LAT_SAMPLES] = us;
    l->sum_us += us;
    if (l->n < LAT_SAMPLES) {
        l->n++;
    }
}

/* The relay flow with that key as last read, or NULL. */
static struct relay_seen *
relay_seen_find(struct agent_core *a, uint8_t table, uint16_t priority,
                const struct ofp_match *match)
{
    for (size_t i = 0; i < a->n_relay_seen; i++) {
        struct relay_seen *r = &a->relay_seen[i];
        if (r->table == table && r->priority == priority
            && ofp_match_equal(&r->match, match)) {
            return r;
        }
    }
    return NULL;
}

/* What a relay flow carried since it was last read ('packets' below the
 * last reading: the flow was replaced, its count started again). */
static uint64_t
relay_delta(const struct relay_seen *r, uint64_t packets)
{
    return r && packets >= r->packets ? packets - r->packets : packets;
}

/* One reply of a round of relay counter requests: each flow adds what it
 * carried since it was last read (a deleted one adds its last increments
 * when the switch reports its removal: relay_removed); the round's
 * flows become the last reading once every reply is in. */
static void
relay_stats(struct agent_core *a, const struct ofp_multipart *mp)
{
    struct ofp_mp_iter it;
    struct ofp_flow_stats fs = {0};
    ofp_mp_iter_init(&it, mp);
    while (ofp_flow_stats_next(&it, &fs)) {
        a->relayed_packets += relay_delta(
            relay_seen_find(a, fs.table_id, fs.priority, &fs.match),
            fs.packet_count);
        a->relay_next = xgrow(a->relay_next, &a->relay_next_cap,
                              a->n_relay_next + 1, sizeof *a->relay_next);
        a->relay_next[a->n_relay_next++] = (struct relay_seen){
            .table = fs.table_id, .priority = fs.priority,
            .match = fs.match, .packets = fs.packet_count,
        };
        a->relay_next_sum += fs.packet_count;
    }
    ofp_flow_stats_destroy(&fs);
    if (a->n_relay_xids) {
        return; /* more replies to come */
    }
    free(a->relay_seen);
    a->relay_seen = a->relay_next;
    a->n_relay_seen = a->n_relay_next;
    a->relay_sum = a->relay_next_sum;
    a->relay_flows = a->n_relay_next;
    a->relay_next = NULL;
    a->n_relay_next = a->relay_next_cap = 0;
    a->relay_next_sum = 0;
}

/* Whether 'xid' answers a relay counter request of this round (it is then
 * no longer awaited). */
static bool
relay_xid_take(struct agent_core *a, uint32_t xid)
{
    for (size_t i = 0; i < a->n_relay_xids; i++) {
        if (a->relay_xids[i] == xid) {
            a->relay_xids[i] = a->relay_xids[--a->n_relay_xids];
            return true;
        }
    }
    return false;
}

/* A relay flow was deleted: counts what it carried since the last read. */
static void
relay_removed(struct agent_core *a, const struct ofp_flow_removed *fr)
{
    if ((fr->cookie & PL_COOKIE_KIND_MASK) != pl_cookie_kind(PL_K_RELAY)) {
        return;
    }
    struct relay_seen *r = relay_seen_find(a, fr->table_id, fr->priority,
                                           &fr->match);
    uint64_t delta = relay_delta(r, fr->packet_count);
    a->relayed_packets += delta;
    log_write(LOG_DBG, "agent", "event=relay_flow_removed node=%s table=%u "
              "packets=%" PRIu64 " counted_now=%" PRIu64 " duration_ms=%"
              PRIu64, a->opt.node, (unsigned) fr->table_id,
              fr->packet_count, delta,
              (uint64_t) fr->duration_sec * 1000
                  + fr->duration_nsec / 1000000);
    if (r) {
        *r = a->relay_seen[--a->n_relay_seen];
    }
}

static void
portsec_stats(struct agent_core *a, const struct ofp_multipart *mp)
{
    struct ofp_mp_iter it;
    struct ofp_flow_stats fs = {0};
    uint64_t packets = 0, flows = 0;
    ofp_mp_iter_init(&it, mp);
    while (ofp_flow_stats_next(&it, &fs)) {
        /* Drop flows have no instructions; the allow flows go on. */
        if (fs.table_id == PL_T_PORTSEC && !fs.insts.present) {
            packets += fs.packet_count;
            flows++;
        }
    }
    ofp_flow_stats_destroy(&fs);
    if (packets >= a->portsec_sum) {
        a->spoof_drops += packets - a->portsec_sum;
    }
    a->portsec_sum = packets;
    a->portsec_flows = flows;
}

/* ---- The agent channel ---- */

static void
chan_state_changed(void *aux)
{
    agent_schedule_sync(aux);
}

/* A map push line: applied to the map at its map_end, which schedules a
 * sync; the confirmed batch acknowledges the version (agent_sync.c). */
static void
chan_push(struct agent_core *a, const struct chan_msg *msg)
{
    char err[160];
    enum map_push_result r = map_push_receive(a->push, a->map, msg, err,
                                              sizeof err);
    if (r == MAP_PUSH_APPLIED) {
        a->map_loaded = true;
        agent_schedule_sync(a);
    } else if (r == MAP_PUSH_REFUSED) {
        log_write(LOG_WARN, "agent", "event=push_refused node=%s "
                  "error=\"%s\" held=%" PRIu64, a->opt.node, err,
                  agent_map_version(a->map));
    }
}

/* mignetd refused a binding this agent reported: what it snooped is not
 * the truth, so it stops enforcing it (the controller's install, or the
 * unbound rules, apply). */
/* A tenant virtual switch's message (agent_vnet.c); only once welcomed
 * (chan_client counts a violation otherwise). */
static void
chan_vnet(struct agent_core *a, const struct chan_msg *m)
{
    if (!chan_client_welcomed(a->chan)) {
        return;
    }
    switch (m->type) {
    case CHAN_VNET_BEGIN:
        agent_vnet_begin(a, m->vswitch, m->vni, m->active, m->seq, m->full);
        break;
    case CHAN_VNET_PORT:
        agent_vnet_port(a, m->vswitch, m->port, m->vm, m->key);
        break;
    case CHAN_VNET_FLOW:
        agent_vnet_flow(a, m->vswitch, m->flow_id, m->version, m->frame,
                        m->frame_len);
        break;
    case CHAN_VNET_FLOW_DEL:
        agent_vnet_flow_del(a, m->vswitch, m->flow_id, m->version);
        break;
    case CHAN_VNET_END:
        agent_vnet_end(a, m->vswitch, m->seq);
        break;
    case CHAN_VNET_DROP:
        agent_vnet_drop(a, m->vswitch, m->version, m->seq);
        break;
    case CHAN_VNET_REMOVE:
        agent_vnet_remove(a, m->vswitch, m->seq);
        break;
    case CHAN_VNET_PACKET_OUT: {
        int error = agent_vnet_packet_out(a, m->vswitch, m->port, m->frame,
                                          m->frame_len);
        if (error) {
            log_write(LOG_DBG, "agent", "event=vnet_packet_out_dropped "
                      "node=%s vswitch=%s port=%" PRIu32 " error=%s",
                      a->opt.node, m->vswitch, m->port, strerror(error));
        }
        break;
    }
    case CHAN_VNET_STATS_REQ:
        agent_vnet_stats_req(a, m->vswitch, m->seq);
        break;
    default:
        break;
    }
}

static void
chan_received(void *aux, const char *line, size_t len,
              const struct chan_msg *msg, enum chan_err e)
{
    struct agent_core *a = aux;
    (void) line;
    (void) len;
    (void) e;
    if (msg) {
        chan_push(a, msg);
        chan_vnet(a, msg);
    }
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
    agent_schedule_sync(a);
}

static bool
unreported_activations(const struct agent_core *a)
{
    for (size_t i = 0; i < chan_client_n_entries(a->chan); i++) {
        if (chan_client_activation_unreported(chan_client_entry(a->chan,
                                                                i))) {
            return true;
        }
    }
    return false;
}

void
agent_core_chan_connected(struct agent_core *a, uint64_t now)
{
    a->now_us = now;
    a->session++;
    /* A batch of the old session, still waiting for its barrier (a sync
     * of many slices waits long), acknowledges nothing in this one. */
    ofctrl_set_session(a->ofctrl, a->session);
    a->synced_seq = 0; /* sequence numbers start again */
    a->replayed_seq = 0;
    a->resync_since_us = 0;
    a->unconfirmed_since_us = 0; /* those instructions come as a replay */
    a->confirmed_version = 0; /* report the held version again */
    /* ... and what it activated, if mignetd may not have heard it. */
    a->activation_due = unreported_activations(a);
    map_push_session(a->push);
    agent_vnet_session(a);
    chan_client_connected(a->chan, agent_core_ms(a), &a->chan_out);
}

int
agent_core_chan_receive(struct agent_core *a, const char *data, size_t len,
                        uint64_t now)
{
    a->now_us = now;
    struct chan_client_stats st;
    chan_client_get_stats(a->chan, &st);
    uint64_t resyncs = st.resyncs;
    int err = chan_client_receive(a->chan, data, len, agent_core_ms(a),
                                  &a->chan_out);
    if (err) {
        return err;
    }
    chan_client_get_stats(a->chan, &st);
    if (st.resyncs != resyncs) {
        /* A resync ended: what it replayed is confirmed as a resync. */
        a->replayed_seq = st.resync_seq;
        a->resync_since_us = now;
    }
    uint64_t pending = chan_client_pending_ack(a->chan);
    if (pending) {
        /* Instructions no batch covers yet start the latency clock, also
         * while an earlier barrier is in flight or a sync is under way
         * (which covers those it began with). */
        if (pending > agent_sync_covered_seq(a)
            && !a->unconfirmed_since_us) {
            a->unconfirmed_since_us = now;
        }
        agent_schedule_sync(a); /* a barrier will confirm and acknowledge */
    }
    if (a->activation_due && chan_client_welcomed(a->chan)
        && !chan_client_in_resync(a->chan)) {
        agent_schedule_sync(a); /* its barrier reports the activations */
    }
    map_push_run(a->push, a->chan, a->map, agent_core_ms(a), &a->chan_out);
    return 0;
}

void
agent_core_chan_disconnected(struct agent_core *a, uint64_t now)
{
    a->now_us = now;
    chan_client_disconnected(a->chan);
}

/* ---- The OpenFlow session ---- */

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

/* Sends 'msg' if the session is ready; its xid is then in msg->xid. */
static void
of_send_msg(struct agent_core *a, struct ofp_msg *msg)
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

/* ---- Priming a prepared copy's port ----
 *
 * A hypervisor that has not started the VM yet may still take the first
 * frame that reaches its tap into a queue of its own and drop it when the
 * VM starts: QEMU 7.2 reads one frame while its virtio NIC cannot receive
 * (the incoming side of a migration), queues it, stops reading the tap,
 * and purges that queue when the device is loaded -- exactly one packet
 * of a `lossless` switch-over lost, the first one after it.  The frames
 * after that one wait in the kernel's tap queue and reach the guest.  So
 * the agent gives a prepared copy's port one frame of its own first: to
 * the VM's MAC, EtherType 0x88b5 (IEEE local experimental), which a guest
 * that ever sees it drops.  Once per copy and port. */
void
agent_prime_port(struct agent_core *a, const char *vm, uint64_t epoch,
                 const uint8_t mac[6], uint32_t port)
{
    for (size_t i = 0; i < AGENT_PRIMED_MAX; i++) {
        const struct agent_primed *p = &a->primed[i];
        if (p->port == port && p->epoch == epoch && !strcmp(p->vm, vm)) {
            return;
        }
    }
    if (!a->of_ready) {
        return; /* primed when the switch is back (a full recompute) */
    }
    static const char payload[] = "mignet: priming a prepared port";
    uint8_t frame[64] = {0};
    memcpy(frame, mac, 6);
    static const uint8_t src[6] = {0x02, 0x6d, 0x67, 0x6e, 0x74, 0x00};
    memcpy(frame + 6, src, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    memcpy(frame + 14, payload, sizeof payload);
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_PACKET_OUT, 0);
    msg.packet_out.buffer_id = OFP_NO_BUFFER;
    msg.packet_out.in_port = OFPP_CONTROLLER;
    msg.packet_out.data = frame;
    msg.packet_out.data_len = sizeof frame;
    if (ofp_actions_output(&msg.packet_out.actions, port)) {
        ofp_msg_destroy(&msg);
        return;
    }
    of_send_msg(a, &msg);
    ofp_msg_destroy(&msg);
    struct agent_primed *p = &a->primed[a->primed_next];
    snprintf(p->vm, sizeof p->vm, "%s", vm);
    p->epoch = epoch;
    p->port = port;
    a->primed_next = (a->primed_next + 1) % AGENT_PRIMED_MAX;
    a->primes_sent++;
    log_write(LOG_INF, "agent", "event=port_primed node=%s vm=%s epoch=%"
              PRIu64 " port=%" PRIu32, a->opt.node, vm, epoch, port);
}

/* Asks for port changes (and packet-ins, flow removals) on this
 * connection: Open vSwitch sends a service connection, such as the
 * bridge's management socket, no asynchronous messages until told. */
static void
of_send_set_async(struct agent_core *a)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_SET_ASYNC, 0);
    msg.async.packet_in[0] = 0x7;    /* no match, action, invalid TTL */
    msg.async.port_status[0] = 0x7;  /* add, delete, modify */
    msg.async.port_status[1] = 0x7;
    msg.async.flow_removed[0] = 0xf; /* every reason */
    of_send_msg(a, &msg);
}

uint32_t
agent_port_lookup(const struct agent_core *a, const char *name)
{
    for (size_t i = 0; i < a->n_ports; i++) {
        if (!strcmp(a->ports[i].name, name)) {
            return a->ports[i].no;
        }
    }
    return 0;
}

/* The OpenFlow port of the interface 'r' (an OVSDB row) on this
 * bridge, 0 if none: its ofport, when the bridge has that port under that
 * name (OpenFlow cuts names to 15 characters; the Interface table spans
 * every bridge), else the bridge's port of that name. */
static uint32_t
ovsdb_row_port(const struct agent_core *a, const struct ovsdb_row *r)
{
    for (size_t i = 0; r->ofport && i < a->n_ports; i++) {
        const struct port *p = &a->ports[i];
        if (p->no == r->ofport
            && !strncmp(p->name, r->name, sizeof p->name - 1)) {
            return p->no;
        }
    }
    return agent_port_lookup(a, r->name);
}

/* The iface-id that names 'e''s port: its own, else the VM id. */
static const char *
entry_iface_id(const struct chan_entry *e)
{
    return e->iface_id[0] ? e->iface_id : e->vm;
}

uint32_t
agent_entry_port(const struct agent_core *a, const struct chan_entry *e)
{
    if (e->config.port) {
        return e->config.port;
    }
    /* The interface with that iface-id on this bridge (one Open vSwitch
     * may hold the VM's source and destination ports on two bridges); of
     * several, the first by name. */
    const char *id = entry_iface_id(e);
    const struct ovsdb_row *best = NULL;
    uint32_t no = 0;
    for (size_t i = 0; a->ovsdb && i < ovsdb_iface_count(a->ovsdb); i++) {
        const struct ovsdb_row *r = ovsdb_iface_row(a->ovsdb, i);
        uint32_t p;
        if (!strcmp(r->iface_id, id) && (p = ovsdb_row_port(a, r))
            && (!best || strcmp(r->name, best->name) < 0)) {
            best = r;
            no = p;
        }
    }
    if (no) {
        return no;
    }
    return agent_port_lookup(a, e->vm); /* the port named like the VM */
}

/* The held entries whose port an interface called, or with iface-id,
 * 'key' may be: their views are rebuilt at the next sync. */
static void
mark_iface(struct agent_core *a, const char *key)
{
    for (size_t i = 0; i < chan_client_n_entries(a->chan); i++) {
        const struct chan_entry *e = chan_client_entry(a->chan, i);
        if (!strcmp(e->vm, key) || !strcmp(entry_iface_id(e), key)) {
            vm_changes_add(&a->changed, e->vm);
        }
    }
}

/* A frame from a watched port (PL_K_ACTIVATE): the VM held there with
 * activate_on_frame runs here now.  Its entry becomes active at once
 * (the sync installs local delivery and drops the watch) and 'activated'
 * goes to mignetd at once, in parallel with that batch: the frame proves
 * the VM runs here, and what mignetd does next -- the source's relay, the
 * map -- only sends the VM's traffic over the overlay, whose delivery to
 * this port the prepared copy already has (its batch put the watch and
 * that delivery in, in order, before this frame could come).  A copy held
 * over a relay it inherited (the VM moving back) has no such delivery
 * until the batch replaces the relay: it reports after the barrier, as
 * does a session not ready to hear it. */
static void
activate_on_frame(struct agent_core *a, const struct ofp_packet_in *pi)
{
    uint64_t port = 0, mask;
    a->activation_punts++;
    if (!ofp_match_get(&pi->match, OFP_F_IN_PORT, &port, &mask)) {
        return;
    }
    for (size_t i = 0; i < chan_client_n_entries(a->chan); i++) {
        const struct chan_entry *e = chan_client_entry(a->chan, i);
        if (e->activate_on_frame && !e->activated
            && (!e->relay || e->inactive)
            && agent_entry_port(a, e) == port) {
            uint64_t epoch = e->epoch;
            bool over_relay = e->relay;
            char vm[sizeof e->vm];
            snprintf(vm, sizeof vm, "%s", e->vm);
            if (chan_client_activate(a->chan, vm, epoch)) {
                /* (its state_changed hook schedules the sync) */
                if (over_relay
                    || !chan_client_report_activated(a->chan,
                                                     agent_core_ms(a),
                                                     &a->chan_out)) {
                    a->activation_due = true;
                }
                log_write(LOG_INF, "agent", "event=activated_on_frame "
                          "node=%s vm=%s epoch=%" PRIu64 " port=%" PRIu64,
                          a->opt.node, vm, epoch, port);
            }
            return;
        }
    }
}

static void
port_set(struct agent_core *a, const struct ofp_port *p, bool present)
{
    vm_changes_add(&a->changed, p->name); /* the VM of that name, if any */
    const struct ovsdb_row *r = a->ovsdb ? ovsdb_iface_by_name(a->ovsdb,
                                                               p->name)
                                         : NULL;
    if (r && r->iface_id[0]) {
        mark_iface(a, r->iface_id); /* the VM whose iface-id it has */
    }
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
    struct agent_core *a = aux;
    (void) features;
    a->of_ready = true;
    of_send_set_async(a);
    /* Packet-ins carry the whole frame (the DHCP punt). */
    struct ofp_msg cfg;
    ofp_msg_init(&cfg, OFPT_SET_CONFIG, 0);
    cfg.config.miss_send_len = OFPCML_NO_BUFFER;
    of_send_msg(a, &cfg);
    struct ofp_msg req;
    ofp_msg_init(&req, OFPT_MULTIPART_REQUEST, 0);
    req.mp.type = OFPMP_PORT_DESC;
    of_send_msg(a, &req);
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
    struct agent_core *a = aux;
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
        if (msg->port_status.reason == OFPPR_MODIFY
            && (msg->port_status.desc.state & OFPPS_LINK_DOWN)) {
            agent_vnet_link_down(a, msg->port_status.desc.port_no);
        }
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
        } else if (msg->mp.type == OFPMP_FLOW
                   && relay_xid_take(a, msg->xid)) {
            relay_stats(a, &msg->mp);
        } else if (msg->mp.type == OFPMP_FLOW
                   && msg->xid == a->portsec_xid) {
            portsec_stats(a, &msg->mp);
        }
        break;
    case OFPT_PACKET_IN:
        if (agent_vnet_packet_in(a, &msg->packet_in)) {
            break; /* a tenant flow's: up to mignetd as vnet_packet_in */
        }
        if ((msg->packet_in.cookie & PL_COOKIE_KIND_MASK)
            == pl_cookie_kind(PL_K_ACTIVATE)) {
            activate_on_frame(a, &msg->packet_in);
        } else {
            agent_packet_in(a, &msg->packet_in);
        }
        break;
    case OFPT_FLOW_REMOVED:
        relay_removed(a, &msg->flow_removed);
        break;
    default:
        break;
    }
}

static const struct ofconn_hooks of_hooks = {
    .ready = of_ready,
    .message = of_message,
};

void
agent_core_of_connected(struct agent_core *a, uint64_t now)
{
    a->now_us = now;
    a->of_ready = false;
    ofconn_connected(a->of, (int64_t) agent_core_ms(a));
}

int
agent_core_of_receive(struct agent_core *a, const void *data, size_t len,
                      uint64_t now)
{
    a->now_us = now;
    return ofconn_receive(a->of, data, len, (int64_t) agent_core_ms(a));
}

void
agent_core_of_disconnected(struct agent_core *a, uint64_t now)
{
    a->now_us = now;
    /* Its pending barriers report 'lost': resynced in full when the
     * switch is back. */
    ofconn_disconnected(a->of);
    ofpbuf_clear(ofconn_output(a->of));
    a->of_ready = false;
}

/* ---- Open vSwitch's Interface table ---- */

void
agent_core_ovsdb_connected(struct agent_core *a, uint64_t now)
{
    a->now_us = now;
    if (a->ovsdb) {
        ovsdb_iface_connected(a->ovsdb, &a->ovsdb_out);
    }
}

int
agent_core_ovsdb_receive(struct agent_core *a, const char *data, size_t len,
                         uint64_t now)
{
    a->now_us = now;
    if (!a->ovsdb) {
        return ENOTCONN;
    }
    char err[160];
    int error = ovsdb_iface_receive(a->ovsdb, data, len, &a->ovsdb_out, err,
                                    sizeof err);
    if (error) {
        a->ovsdb_errors++;
        log_write(LOG_WARN, "agent", "event=ovsdb_refused node=%s "
                  "error=\"%s\"", a->opt.node, err);
    }
    struct vm_changes *c = ovsdb_iface_changes(a->ovsdb);
    if (c->all) {
        vm_changes_all(&a->changed);
    }
    for (size_t i = 0; i < c->n; i++) {
        mark_iface(a, c->names[i]);
    }
    if (c->all || c->n) {
        agent_schedule_sync(a);
    }
    vm_changes_clear(c);
    return error;
}

void
agent_core_ovsdb_disconnected(struct agent_core *a, uint64_t now)
{
    a->now_us = now;
    if (a->ovsdb) {
        ovsdb_iface_disconnected(a->ovsdb);
    }
    strbuf_clear(&a->ovsdb_out);
}

struct strbuf *
agent_core_ovsdb_output(struct agent_core *a)
{
    return &a->ovsdb_out;
}

/* ---- The gateway map, statistics, timers ---- */

/* Map entries read per turn of the loop (about 5 us each on the bench
 * machine, bench/bench_agent_turns.c): a 50,000-VM answer is read over
 * about 125 turns, other events served in between. */
#define MAP_READ_TURN 400

/* One slice of the poll answer being read: 0 (applied, or more to
 * read), or EINVAL with 'err' filled (it is dropped, nothing applied). */
static int
map_read(struct agent_core *a, char *err, size_t errlen)
{
    size_t budget = MAP_READ_TURN;
    int rc = agent_map_read_step(a->map, &budget, err, errlen);
    if (rc == EAGAIN) {
        return 0;
    }
    if (!rc) {
        a->map_loaded = true;
        agent_schedule_sync(a); /* the barrier reports the refresh */
    }
    return rc;
}

int
agent_core_map_answer_take(struct agent_core *a, char *body, size_t len,
                           uint64_t now, char *err, size_t errlen)
{
    a->now_us = now;
    if (agent_map_read_take(a->map, body, len, err, errlen)
        || map_read(a, err, errlen)) {
        return EINVAL; /* a small answer is read at once */
    }
    return 0;
}

int
agent_core_map_answer(struct agent_core *a, const char *body, size_t len,
                      uint64_t now, char *err, size_t errlen)
{
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, body, len);
    return agent_core_map_answer_take(a, copy, len, now, err, errlen);
}

/* Asks for the relay flows' counters: one request per held relay by its
 * exact cookie, which Open vSwitch finds by index -- a masked cookie
 * makes it walk every flow (100,000 at 50,000 map entries) and delays
 * the barriers queued behind it.  With more relays than
 * AGENT_RELAY_REQ_MAX, or relay flows last seen but no relay held, one
 * request by the relay kind.  A deleted relay flow reports its last
 * counters itself (relay_removed). */
static void
relay_request(struct agent_core *a)
{
    /* A round still unanswered is void: its flows so far are dropped. */
    a->n_relay_xids = 0;
    a->n_relay_next = 0;
    a->relay_next_sum = 0;
    const char *vms[AGENT_RELAY_REQ_MAX];
    size_t n = 0;
    bool many = false;
    for (size_t i = 0; i < chan_client_n_entries(a->chan); i++) {
        const struct chan_entry *e = chan_client_entry(a->chan, i);
        if (!e->relay) {
            continue;
        }
        if (n == AGENT_RELAY_REQ_MAX) {
            many = true;
            break;
        }
        vms[n++] = e->vm;
    }
    struct ofp_msg req;
    if (many || (!n && a->n_relay_seen)) {
        ofctrl_flow_stats_request(&req, pl_cookie_kind(PL_K_RELAY),
                                  PL_COOKIE_KIND_MASK);
        of_send_msg(a, &req); /* the session sets the xid */
        a->relay_xids[a->n_relay_xids++] = req.xid;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ofctrl_flow_stats_request(&req, pl_cookie(PL_K_RELAY, vms[i]),
                                  UINT64_MAX);
        of_send_msg(a, &req);
        a->relay_xids[a->n_relay_xids++] = req.xid;
    }
}

void
agent_core_request_stats(struct agent_core *a, uint64_t now)
{
    a->now_us = now;
    if (!a->of_ready) {
        return;
    }
    relay_request(a);
    struct ofp_msg req;
    ofctrl_flow_stats_request(&req, pl_cookie_kind(PL_K_PORTSEC),
                              PL_COOKIE_KIND_MASK);
    req.mp.flow_req.table_id = PL_T_PORTSEC;
    of_send_msg(a, &req);
    a->portsec_xid = req.xid;
    /* A snooped binding's lease may have ended. */
    uint64_t due;
    if (binding_table_count(a->snooped)
        && binding_table_next_expiry(a->snooped, &due)
        && due <= agent_core_wall_ms(a)) {
        agent_schedule_sync(a);
    }
}

int
agent_core_run(struct agent_core *a, uint64_t now)
{
    a->now_us = now;
    int todo = 0;
    if (chan_client_run(a->chan, agent_core_ms(a), &a->chan_out)) {
        todo |= AGENT_CORE_CLOSE_CHAN;
    }
    if (ofconn_get_state(a->of) != OFCONN_IDLE
        && ofconn_run(a->of, (int64_t) agent_core_ms(a))) {
        todo |= AGENT_CORE_CLOSE_OF;
    }
    if (a->settle_at && now >= a->settle_at) {
        a->settle_at = 0;
        agent_settle_expired(a);
    }
    if (a->opt.vnet_stats_ms && agent_vnet_count(a->vnet)
        && now >= a->vnet_stats_at) {
        a->vnet_stats_at = now + a->opt.vnet_stats_ms * UINT64_C(1000);
        agent_vnet_stats(a);
    }
    char err[256];
    if (agent_map_reading(a->map) && map_read(a, err, sizeof err)) {
        a->map_errors++;
        log_write(LOG_WARN, "agent", "event=bad_map node=%s error=\"%s\"",
                  a->opt.node, err);
    }
    if (agent_sync_busy(a)) {
        agent_sync(a); /* one slice of the sync under way */
    } else if (a->sync_due) {
        a->sync_due = false;
        agent_sync(a);
    }
    return todo;
}

static uint64_t
min_u64(uint64_t x, uint64_t y)
{
    return x < y ? x : y;
}

/* Milliseconds of a peer module's clock as core microseconds. */
static uint64_t
ms_to_us(uint64_t ms)
{
    return ms >= UINT64_MAX / 1000 ? UINT64_MAX : ms * 1000;
}

uint64_t
agent_core_next_wake(const struct agent_core *a)
{
    uint64_t wake = a->sync_due || agent_sync_busy(a)
                            || agent_map_reading(a->map)
                        ? a->now_us
                        : UINT64_MAX;
    if (a->settle_at) {
        wake = min_u64(wake, a->settle_at);
    }
    wake = min_u64(wake, ms_to_us(chan_client_next_wake(a->chan)));
    if (a->opt.vnet_stats_ms && agent_vnet_count(a->vnet)) {
        wake = min_u64(wake, a->vnet_stats_at);
    }
    int64_t of = ofconn_next_wake(a->of);
    if (of != INT64_MAX && ofconn_get_state(a->of) != OFCONN_IDLE) {
        wake = min_u64(wake, ms_to_us(of < 0 ? 0 : (uint64_t) of));
    }
    return wake;
}

struct strbuf *
agent_core_chan_output(struct agent_core *a)
{
    return &a->chan_out;
}

struct ofpbuf *
agent_core_of_output(struct agent_core *a)
{
    return ofconn_output(a->of);
}

/* ---- Lifecycle ---- */

struct agent_core *
agent_core_create(const struct agent_core_options *opt, uint64_t now)
{
    struct agent_core *a = xcalloc(1, sizeof *a);
    a->opt = *opt;
    a->now_us = now;
    struct chan_client_hooks hooks = {
        .state_changed = chan_state_changed,
        .received = chan_received,
        .aux = a,
    };
    a->chan = chan_client_create(opt->node, &hooks);
    if (!a->chan) {
        free(a);
        return NULL;
    }
    chan_client_set_ack(a->chan, false);
    strbuf_init(&a->chan_out);
    a->map = agent_map_create();
    a->push = map_push_create();
    a->engine = pl_engine_create();
    a->job = agent_sync_job_create();
    a->vnet = agent_vnet_create(a);
    vm_changes_init(&a->changed);
    a->installed = flowtab_create();
    a->snooped = binding_table_create();
    a->ovsdb = opt->ovsdb ? ovsdb_iface_create() : NULL;
    strbuf_init(&a->ovsdb_out);
    a->of = ofconn_create(NULL, &of_hooks, a);
    struct ofctrl_hooks ofctrl_hooks = {
        .done = agent_batch_done, .now_ms = agent_now_ms,
        .read = agent_flows_read, .aux = a};
    a->ofctrl = ofctrl_create(a->of, a->chan, &a->chan_out, &ofctrl_hooks);
    return a;
}

void
agent_core_destroy(struct agent_core *a)
{
    if (!a) {
        return;
    }
    /* Its pending barriers call back into ofctrl: the session first. */
    ofconn_destroy(a->of);
    ofctrl_destroy(a->ofctrl);
    chan_client_destroy(a->chan);
    agent_map_destroy(a->map);
    map_push_destroy(a->push);
    free(a->relay_seen);
    free(a->relay_next);
    agent_vnet_destroy(a->vnet); /* after the session: its requests */
    pl_engine_destroy(a->engine);
    agent_sync_job_destroy(a->job);
    vm_changes_destroy(&a->changed);
    flowtab_destroy(a->installed);
    binding_table_destroy(a->snooped);
    ovsdb_iface_destroy(a->ovsdb);
    strbuf_destroy(&a->ovsdb_out);
    strbuf_destroy(&a->chan_out);
    free(a);
}
