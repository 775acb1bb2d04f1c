/* agent_server.c: agent sessions on mignetd's loop (docs/agent-protocol.md).
 *
 * Each session reads '\n'-framed JSON lines (chan_msg), turns them into
 * core calls, and queues its answers and the core's instructions in a
 * buffer that reaches the socket after the batch commits.  Two exceptions
 * keep the migration path fast, each written at once when nothing is
 * queued before it on its session:
 *   - an install: it only adds state on the destination;
 *   - a relay of a VM that already runs at its destination
 *     (core_instr.activated: its frame there, or a `manual` or `rarp`
 *     call): the relaying node's copy no longer runs, so every packet it
 *     gets is lost until the relay is in -- one fsync, tens to hundreds
 *     of ms on a busy disk, was the largest part of a `rarp` switch-over's
 *     loss.  The relay only follows what the VM did.
 * Both are safe for the same reason: if the commit never happens the
 * controller exits, every session dies with it, and each new session
 * begins with a resync that replaces the agent's state (the VM's next
 * frame, or the caller's retry, switches over again).  Other relays and
 * every deletion, which decide what a node does with traffic, wait for
 * the commit.  A malformed message never changes state; a node never
 * holds two sessions; a session for a node the core no longer has is
 * closed.
 *
 * Node identity (docs/agent-protocol.md): a hello must carry the node's
 * token, or come over TLS with a client certificate, verified against
 * --agent-tls-ca, whose CN is the node id; otherwise `unauthorized` and
 * close.  Only an authenticated hello displaces a node's session.  Before
 * hello, anything else closes the session after one error, and little
 * output may queue.  After it, a session speaks only for its own node:
 * anything about a VM not on it (nor coming to or leaving it) is answered
 * `forbidden` and changes nothing. */
#include "controller/agent_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include "controller/ctl.h"
#include "controller/listen_guard.h"
#include "controller/node_auth.h"
#include "controller/vnet_ctl.h"
#include "proto/chan_msg.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/sock.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "mignet/core.h"
#include "mignet/dhcp.h"

/* A session whose peer does not read is closed past this much queued
 * output; its node gets everything again when it reconnects. */
#define AGENT_MAX_OUTPUT (64u << 20)
/* Before an authenticated hello a session gets at most an error line. */
#define AGENT_PRE_HELLO_MAX_OUTPUT (4u << 10)
/* Back-pressure: a session with this much output queued is not read until
 * its peer has taken all but AGENT_READ_RESUME of it, so a peer that
 * sends without reading cannot make the controller queue answers without
 * bound.  (What the controller sends on its own, a resync, is not held.) */
#define AGENT_READ_PAUSE (1u << 20)
#define AGENT_READ_RESUME (256u << 10)
/* Silent for this many heartbeat intervals: closed. */
#define AGENT_DEAD_INTERVALS 3

struct agent_session {
    struct agent_server *srv;
    struct bufferevent *bev;
    struct agent_session *prev, *next; /* all sessions */
    uint32_t node;                     /* CORE_NONE before hello */
    enum { AUTH_NONE, AUTH_TOKEN, AUTH_TLS } auth; /* how hello proved it */
    char name[MN_NAME_MAX + 1];
    char peer[64];
    uint64_t last_heard_ms;
    struct strbuf out; /* held until the batch commits, in seq order */
    size_t sealed;     /* the first bytes of 'out', of a sealed batch */
    bool queued;       /* in srv->dirty */
    double held_install_t0; /* a migration's install waits in 'out' */
    bool closing;      /* close once 'out' is written */
    bool read_paused;  /* back-pressure: output over AGENT_READ_PAUSE */
    size_t paused_queued; /* output at the last look while paused */
    /* Map push (docs/agent-protocol.md): changes after 'pushed_version'
     * go in the next push, at 'pushed_at' + the interval at the soonest. */
    bool subscribed;
    uint64_t pushed_version;
    uint64_t pushed_max; /* highest version pushed this session */
    uint64_t pushed_at;  /* monotonic ms of the last push, 0 = none */
};

/* The lines of the last push built (map entries after 'since' up to
 * 'version'), reused for every session at the same version. */
struct push_cache {
    bool valid;
    uint64_t since, version, full_since; /* full_since: since as sent */
    struct strbuf lines;
    size_t n;
};

struct agent_server {
    struct ctl *ctl;
    struct evconnlistener *listener;
    struct lguard *guard; /* connection caps, accept back-off */
    SSL_CTX *ssl_ctx;
    struct event *hb_timer;
    struct agent_session *head;
    struct agent_session **by_node; /* core node index -> session */
    size_t n_by_node;
    unsigned n_registered;
    struct agent_session **dirty; /* sessions with output queued */
    size_t n_dirty, dirty_cap;
    struct strbuf scratch; /* an instruction written at once */
    double install_t0; /* agent_server_time_installs(); 0 = not timed */
    /* Map push. */
    unsigned n_subscribed;
    struct event *push_timer; /* a session's interval ends */
    bool push_due;            /* look at every subscriber at the next flush */
    uint64_t push_seen;       /* map version at the last look */
    struct push_cache cache;
};

static void session_close(struct agent_session *);
static void session_send(struct agent_session *, const struct chan_msg *);
static void session_core_error(struct agent_session *, enum core_err);

/* ---- Output ---- */

static void
session_mark(struct agent_session *s)
{
    struct agent_server *srv = s->srv;
    if (!s->queued) {
        srv->dirty = xgrow(srv->dirty, &srv->dirty_cap, srv->n_dirty + 1,
                           sizeof *srv->dirty);
        srv->dirty[srv->n_dirty++] = s;
        s->queued = true;
    }
}

/* Closes a session whose peer lets 'extra' more bytes pile up past the
 * limit; returns true if it did. */
static bool
session_overflow(struct agent_session *s, size_t extra)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    size_t cap = s->auth == AUTH_NONE ? AGENT_PRE_HELLO_MAX_OUTPUT
                                      : AGENT_MAX_OUTPUT;
    if (evbuffer_get_length(out) + extra <= cap) {
        return false;
    }
    log_write(LOG_WARN, "agent", "event=not_reading node=%s peer=%s "
              "queued=%zu", s->name, s->peer, evbuffer_get_length(out));
    session_close(s);
    return true;
}

/* Writes an install, or a relay that follows an activation, at once when
 * nothing is queued ahead of it (see the top of this file); otherwise
 * queues it like everything else.  Installs are timed ('install_t0'). */
static void
session_send_now(struct agent_session *s, const struct chan_msg *m)
{
    struct strbuf *sb = &s->srv->scratch;
    double t0 = m->type == CHAN_INSTALL ? s->srv->install_t0 : 0;
    if (s->out.len || s->queued) {
        if (t0 > 0 && !s->held_install_t0) {
            s->held_install_t0 = t0; /* measured when it is written */
        }
        session_send(s, m);
        return;
    }
    strbuf_clear(sb);
    enum chan_err e = chan_msg_encode(m, sb);
    if (e) {
        log_write(LOG_ERROR, "agent", "event=encode_failed node=%s "
                  "type=%s err=%s", s->name, chan_msg_type_name(m->type),
                  chan_err_code(e));
        return;
    }
    if (session_overflow(s, sb->len)) {
        return;
    }
    /* A bufferevent would only write on the next loop pass, after the
     * batch's fsync: with nothing pending on a plain socket, send now and
     * leave only what did not fit to the bufferevent.  An error surfaces
     * through the bufferevent's own next read or write. */
    size_t done = 0;
    if (!s->srv->ssl_ctx
        && !evbuffer_get_length(bufferevent_get_output(s->bev))) {
        ssize_t n = send(bufferevent_getfd(s->bev), sb->data, sb->len,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        done = n > 0 ? (size_t) n : 0;
    }
    if (done < sb->len) {
        bufferevent_write(s->bev, sb->data + done, sb->len - done);
    }
    if (t0 > 0) {
        metrics_hist_observe(&s->srv->ctl->metrics.install,
                             clock_mono_s() - t0);
    }
}

static void
session_send(struct agent_session *s, const struct chan_msg *m)
{
    enum chan_err e = chan_msg_encode(m, &s->out);
    if (e) {
        log_write(LOG_ERROR, "agent",
                  "event=encode_failed node=%s type=%s err=%s", s->name,
                  chan_msg_type_name(m->type), chan_err_code(e));
        return;
    }
    session_mark(s);
}

static void
session_error(struct agent_session *s, const char *code, const char *text,
              bool fatal)
{
    struct chan_msg m;
    chan_msg_init(&m, CHAN_ERROR);
    snprintf(m.code, sizeof m.code, "%s", code);
    snprintf(m.message, sizeof m.message, "%s", text);
    session_send(s, &m);
    s->srv->ctl->metrics.agent_errors++;
    log_write(fatal ? LOG_WARN : LOG_INF, "agent",
              "event=protocol_error node=%s peer=%s code=%s fatal=%d "
              "msg=\"%s\"",
              s->name[0] ? s->name : "-", s->peer, code, (int) fatal, text);
    if (fatal) {
        s->closing = true;
        bufferevent_disable(s->bev, EV_READ);
    }
}

/* ---- Map push ---- */

/* Appends one map entry to the push cache as a map_entry line.  An
 * address the channel cannot carry (not 1-63 printable characters) is
 * left out, as an agent cannot reach such a node through the overlay
 * anyway. */
static void
push_entry_cb(void *aux, const struct core_map_entry *e)
{
    struct push_cache *pc = aux;
    struct chan_msg m;
    chan_msg_init(&m, CHAN_MAP_ENTRY);
    snprintf(m.vm, sizeof m.vm, "%s", e->vm);
    m.version = e->version;
    m.removed = e->removed;
    if (!e->removed) {
        snprintf(m.node, sizeof m.node, "%s", e->node);
        if (e->address && strlen(e->address) < sizeof m.address) {
            snprintf(m.address, sizeof m.address, "%s", e->address);
        }
        m.epoch = e->epoch;
        m.config = e->config;
    }
    enum chan_err err = chan_msg_encode(&m, &pc->lines);
    if (err == CHAN_E_BAD_STRING && m.address[0]) {
        m.address[0] = '\0';
        err = chan_msg_encode(&m, &pc->lines);
    }
    if (err) {
        log_write(LOG_ERROR, "agent", "event=encode_failed type=map_entry "
                  "vm=%s err=%s", e->vm, chan_err_code(err));
        return;
    }
    pc->n++;
}

/* The push from 'since' to the map's current 'version', built once. */
static const struct push_cache *
push_build(struct agent_server *srv, uint64_t since, uint64_t version)
{
    struct push_cache *pc = &srv->cache;
    if (pc->valid && pc->since == since && pc->version == version) {
        return pc;
    }
    const struct core *core = srv->ctl->core;
    strbuf_clear(&pc->lines);
    pc->n = 0;
    pc->full_since = since;
    if (!core_map_since(core, since, push_entry_cb, pc)) {
        /* Removals since then were forgotten: the whole map instead. */
        strbuf_clear(&pc->lines);
        pc->n = 0;
        pc->full_since = 0;
        core_map_since(core, 0, push_entry_cb, pc);
    }
    pc->since = since;
    pc->version = version;
    pc->valid = true;
    return pc;
}

/* Queues one push to 's': map_begin, the changes since the version it was
 * last pushed (one line each), map_end. */
static void
session_push(struct agent_session *s, uint64_t version, uint64_t now)
{
    struct agent_server *srv = s->srv;
    const struct push_cache *pc = push_build(srv, s->pushed_version,
                                             version);
    struct chan_msg m;
    chan_msg_init(&m, CHAN_MAP_BEGIN);
    m.since = pc->full_since;
    m.version = version;
    session_send(s, &m);
    if (strbuf_append(&s->out, pc->lines.data, pc->lines.len)) {
        out_of_memory();
    }
    chan_msg_init(&m, CHAN_MAP_END);
    m.version = version;
    session_send(s, &m);
    s->pushed_version = version;
    if (version > s->pushed_max) {
        s->pushed_max = version;
    }
    s->pushed_at = now;
    srv->ctl->metrics.map_pushes++;
    srv->ctl->metrics.map_push_entries += pc->n;
    if (log_enabled(LOG_DBG)) {
        log_write(LOG_DBG, "agent", "event=map_push node=%s since=%" PRIu64
                  " version=%" PRIu64 " entries=%zu", s->name,
                  pc->full_since, version, pc->n);
    }
}

/* After a commit: pushes the map's changes to every subscribed session
 * whose interval is over; the others wait for push_timer. */
static void
push_run(struct agent_server *srv)
{
    uint32_t iv = srv->ctl->opts.push_interval_ms;
    uint64_t version = core_map_version(srv->ctl->core);
    if (!iv || !srv->n_subscribed
        || (version == srv->push_seen && !srv->push_due)) {
        return;
    }
    srv->push_seen = version;
    srv->push_due = false;
    uint64_t now = clock_mono_ms();
    uint64_t next = UINT64_MAX;
    for (struct agent_session *s = srv->head; s; s = s->next) {
        if (!s->subscribed || s->closing || s->pushed_version >= version) {
            continue;
        }
        if (s->pushed_at && now < s->pushed_at + iv) {
            if (s->pushed_at + iv < next) {
                next = s->pushed_at + iv;
            }
            continue;
        }
        session_push(s, version, now);
    }
    if (next != UINT64_MAX) {
        uint64_t wait = next - now;
        struct timeval tv = {
            .tv_sec = (time_t) (wait / 1000),
            .tv_usec = (suseconds_t) (wait % 1000) * 1000,
        };
        evtimer_add(srv->push_timer, &tv);
    }
}

static void
push_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent_server *srv = arg;
    (void) fd;
    (void) what;
    srv->push_due = true; /* push_run() at the end of this loop pass */
}

static void
session_subscribe(struct agent_session *s, const struct chan_msg *m)
{
    struct agent_server *srv = s->srv;
    char text[128];
    if (!srv->ctl->opts.push_interval_ms) {
        session_error(s, "push_disabled", "map push is off on this "
                      "controller (--push-interval-ms 0): poll the map",
                      false);
        return;
    }
    if (m->version > core_map_version(srv->ctl->core)) {
        snprintf(text, sizeof text, "version %" PRIu64 " is above the "
                 "map's %" PRIu64, m->version,
                 core_map_version(srv->ctl->core));
        session_error(s, "invalid_version", text, false);
        return;
    }
    if (!s->subscribed) {
        s->subscribed = true;
        srv->n_subscribed++;
        srv->ctl->metrics.agents_subscribed = srv->n_subscribed;
    }
    s->pushed_version = m->version;
    srv->push_due = true;
    log_write(LOG_INF, "agent", "event=subscribed node=%s version=%" PRIu64,
              s->name, m->version);
}

/* The agent's flows implement a pushed version: an acknowledgement that
 * is no refresh sample (core_node_version_ack). */
static void
session_map_ack(struct agent_session *s, const struct chan_msg *m)
{
    struct ctl *ctl = s->srv->ctl;
    if (!s->subscribed || m->version > s->pushed_max) {
        char text[128];
        snprintf(text, sizeof text, "map_ack of version %" PRIu64
                 ", above the last pushed (%" PRIu64 ")", m->version,
                 s->pushed_max);
        session_error(s, "invalid_version", text, false);
        return;
    }
    enum core_err err = core_node_version_ack_check(ctl->core, s->node,
                                                    m->version);
    if (!err) {
        ctl->dirty = true;
        err = core_node_version_ack(ctl->core, s->node, m->version,
                                    clock_run_ms());
        ctl->metrics.map_acks++;
    }
    session_core_error(s, err);
}

/* ---- Session lifecycle ---- */

static void
session_unregister(struct agent_session *s)
{
    struct agent_server *srv = s->srv;
    if (s->node != CORE_NONE && s->node < srv->n_by_node
        && srv->by_node[s->node] == s) {
        srv->by_node[s->node] = NULL;
        srv->n_registered--;
        srv->ctl->metrics.agents_connected = srv->n_registered;
        if (s->subscribed) {
            s->subscribed = false;
            srv->n_subscribed--;
            srv->ctl->metrics.agents_subscribed = srv->n_subscribed;
        }
        log_write(LOG_INF, "agent", "event=disconnected node=%s peer=%s",
                  s->name, s->peer);
        if (srv->ctl->vnet) {
            vnet_ctl_node_down(srv->ctl->vnet, s->name);
        }
    }
    s->node = CORE_NONE;
}

/* Frees 's' now, with whatever it had queued. */
static void
session_close(struct agent_session *s)
{
    struct agent_server *srv = s->srv;
    session_unregister(s);
    if (s->queued) {
        for (size_t i = 0; i < srv->n_dirty; i++) {
            if (srv->dirty[i] == s) {
                srv->dirty[i] = srv->dirty[--srv->n_dirty];
                break;
            }
        }
    }
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        srv->head = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    bufferevent_free(s->bev);
    strbuf_destroy(&s->out);
    free(s);
}

static void
session_drained_cb(struct bufferevent *bev, void *arg)
{
    (void) bev;
    session_close(arg);
}

static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct agent_session *s = arg;
    (void) bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        unsigned long ssl_err = s->srv->ssl_ctx
                                    ? bufferevent_get_openssl_error(bev)
                                    : 0;
        if (ssl_err) {
            char buf[160];
            ERR_error_string_n(ssl_err, buf, sizeof buf);
            log_write(LOG_WARN, "agent", "event=tls_error peer=%s err=\"%s\"",
                      s->peer, buf);
        }
        session_close(s);
    }
}

/* ---- Messages from agents ---- */

static void
session_core_error(struct agent_session *s, enum core_err err)
{
    if (err != CORE_E_OK) {
        session_error(s, core_errname(err), core_strerror(err), false);
    }
}

/* The TLS client certificate's subject CN, when the peer sent one that
 * verified against --agent-tls-ca; false otherwise (two CNs, a NUL in
 * it).  A CN longer than 'cnlen' - 1 is cut, and then names no node. */
static bool
session_cert_cn(const struct agent_session *s, char *cn, size_t cnlen)
{
    if (!s->srv->ssl_ctx || !s->srv->ctl->opts.tls_ca[0]) {
        return false;
    }
    SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
    X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
    bool ok = false;
    if (cert && SSL_get_verify_result(ssl) == X509_V_OK) {
        X509_NAME *subj = X509_get_subject_name(cert);
        int at = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
        int len = at >= 0 && X509_NAME_get_index_by_NID(subj, NID_commonName,
                                                        at) < 0
                      ? X509_NAME_get_text_by_NID(subj, NID_commonName, cn,
                                                  (int) cnlen)
                      : -1;
        /* One CN, without a NUL inside that would end it early. */
        ok = len > 0 && (size_t) len == strlen(cn);
    }
    X509_free(cert);
    return ok;
}

/* Checks hello's credential for 'node': NULL when it proves the node
 * (and sets s->auth), else why not. */
static const char *
session_authenticate(struct agent_session *s, const struct chan_msg *m,
                     uint32_t node)
{
    const struct core *core = s->srv->ctl->core;
    char cn[MN_NAME_MAX + 2];
    if (m->token[0]) {
        if (!node_token_matches(m->token, core_node_token_hash(core,
                                                               node))) {
            return "the token is not the node's";
        }
        s->auth = AUTH_TOKEN;
        return NULL;
    }
    if (session_cert_cn(s, cn, sizeof cn)) {
        if (strcmp(cn, m->node)) {
            return "the client certificate names another node";
        }
        s->auth = AUTH_TLS;
        return NULL;
    }
    return s->srv->ctl->opts.tls_ca[0]
               ? "no token and no verified client certificate"
               : "no token";
}

static void
session_hello(struct agent_session *s, const struct chan_msg *m)
{
    struct agent_server *srv = s->srv;
    struct ctl *ctl = srv->ctl;
    char text[128];
    if (m->proto != CHAN_PROTO_VERSION) {
        snprintf(text, sizeof text, "proto %" PRIu32 " unsupported; this "
                 "controller speaks %d", m->proto, CHAN_PROTO_VERSION);
        session_error(s, "bad_field", text, true);
        return;
    }
    uint32_t node = core_node_find(ctl->core, m->node);
    if (node == CORE_NONE) {
        snprintf(text, sizeof text, "node '%s' is not registered", m->node);
        session_error(s, "unknown_node", text, true);
        return;
    }
    const char *why = session_authenticate(s, m, node);
    if (why) {
        ctl->metrics.agent_unauthorized++;
        snprintf(text, sizeof text, "node '%s': %s", m->node, why);
        session_error(s, "unauthorized", text, true);
        return;
    }
    if (node >= srv->n_by_node) {
        size_t n = srv->n_by_node;
        srv->by_node = xgrow(srv->by_node, &srv->n_by_node, node + 1,
                             sizeof *srv->by_node);
        memset(srv->by_node + n, 0, (srv->n_by_node - n)
                                        * sizeof *srv->by_node);
    }
    struct agent_session *old = srv->by_node[node];
    if (old) {
        log_write(LOG_WARN, "agent", "event=replaced node=%s old_peer=%s "
                  "peer=%s auth=%s", m->node, old->peer, s->peer,
                  s->auth == AUTH_TLS ? "tls" : "token");
        session_close(old);
    }
    s->node = node;
    snprintf(s->name, sizeof s->name, "%s", m->node);
    srv->by_node[node] = s;
    srv->n_registered++;
    ctl->metrics.agents_connected = srv->n_registered;

    struct chan_msg w;
    chan_msg_init(&w, CHAN_WELCOME);
    snprintf(w.node, sizeof w.node, "%s", s->name);
    w.map_version = core_map_version(ctl->core);
    w.heartbeat_ms = ctl->opts.heartbeat_ms;
    session_send(s, &w);

    struct core_node_info info;
    core_node_info(ctl->core, node, &info);
    chan_msg_init(&w, CHAN_RESYNC_BEGIN);
    w.seq = info.last_seq;
    session_send(s, &w);
    ctl->dirty = true;
    session_core_error(s, core_node_resync(ctl->core, node,
                                           clock_run_ms()));
    core_node_info(ctl->core, node, &info);
    chan_msg_init(&w, CHAN_RESYNC_END);
    w.seq = info.last_seq;
    session_send(s, &w);
    log_write(LOG_INF, "agent", "event=registered node=%s peer=%s seq=%"
              PRIu64, s->name, s->peer, info.last_seq);
    if (ctl->vnet) {
        vnet_ctl_node_up(ctl->vnet, s->name);
    }
}

/* Answers a refused binding change: the binding table's reason, or the
 * core's. */
static void
session_binding_error(struct agent_session *s, enum core_err err,
                      enum binding_err berr)
{
    if (err == CORE_E_BINDING) {
        session_error(s, core_errname(err), binding_errname(berr), false);
    } else {
        session_core_error(s, err);
    }
}

static void
session_log_binding(struct agent_session *s, const char *how, uint32_t vm,
                    enum binding_action act)
{
    struct ctl *ctl = s->srv->ctl;
    const struct binding *b = core_binding_get(ctl->core, vm);
    char text[512] = "";
    if (b) {
        binding_format(b, text, sizeof text);
    }
    log_write(LOG_INF, "agent", "event=binding_%s node=%s via=%s %s",
              binding_action_name(act), s->name, how, text);
}

/* FIG. 3: a DHCP server message the node saw on a trusted port; the
 * controller parses it (bounds-checked) and snoops it. */
static void
session_dhcp(struct agent_session *s, const struct chan_msg *m)
{
    struct ctl *ctl = s->srv->ctl;
    struct dhcp_msg d;
    ctl->metrics.dhcp_received++;
    enum dhcp_err de = dhcp_parse_frame(m->frame, m->frame_len, 0, &d);
    if (de) {
        ctl->metrics.dhcp_rejected++;
        session_error(s, "bad_dhcp", dhcp_errname(de), false);
        return;
    }
    uint32_t vm = CORE_NONE;
    if (m->vm[0]) {
        vm = core_vm_find(ctl->core, m->vm);
        if (vm == CORE_NONE) {
            ctl->metrics.dhcp_rejected++;
            session_core_error(s, CORE_E_UNKNOWN_VM);
            return;
        }
    }
    enum binding_err berr;
    enum binding_action act;
    ctl->dirty = true;
    enum core_err err = core_binding_snoop(ctl->core, s->node, vm, &d,
                                           clock_run_ms(), &berr, &act, &vm);
    if (err) {
        ctl->metrics.dhcp_rejected++;
        session_binding_error(s, err, berr);
        return;
    }
    if (act != BINDING_ACT_NONE) {
        session_log_binding(s, "controller", vm, act);
    }
}

/* FIG. 4: the agent built (or dropped) the binding itself. */
static void
session_binding(struct agent_session *s, const struct chan_msg *m)
{
    struct ctl *ctl = s->srv->ctl;
    enum binding_err berr;
    enum binding_action act;
    ctl->metrics.binding_reports++;
    ctl->dirty = true;
    enum core_err err = core_binding_report(
        ctl->core, s->node, &m->binding, m->action == BINDING_ACT_REMOVED,
        clock_run_ms(), &berr, &act);
    if (err) {
        ctl->metrics.binding_reports_refused++;
        session_binding_error(s, err, berr);
        return;
    }
    if (act != BINDING_ACT_NONE) {
        session_log_binding(s, "agent", core_vm_find(ctl->core, m->vm), act);
    }
}

/* The agent saw the VM's first frame at its port (activate_on_frame):
 * the core switches over (`rarp`) or records the activation (`lossless`).
 * Checked first: a report the core refuses is answered with an `error`
 * and changes nothing; a repeat (re-sent after a reconnection) is OK. */
static void
session_activated(struct agent_session *s, const struct chan_msg *m,
                  uint64_t now)
{
    struct ctl *ctl = s->srv->ctl;
    uint32_t vm = core_vm_find(ctl->core, m->vm);
    enum core_err err = vm == CORE_NONE
                            ? CORE_E_UNKNOWN_VM
                            : core_node_activated_check(ctl->core, s->node,
                                                        vm, m->epoch);
    log_write(err ? LOG_WARN : LOG_INF, "agent",
              "event=activated node=%s vm=%s epoch=%" PRIu64 " result=%s",
              s->name, m->vm, m->epoch, core_errname(err));
    if (!err) {
        ctl->dirty = true;
        err = core_node_activated(ctl->core, s->node, vm, m->epoch, now);
    }
    session_core_error(s, err);
}

/* Whether 's' may send 'm': a message about a VM must be about one that
 * concerns the session's node (core_node_concerns_vm); otherwise it is
 * answered `forbidden`, counted, and changes nothing.  An unknown VM is
 * left to the handler (unknown_vm). */
static bool
session_speaks_for(struct agent_session *s, const struct chan_msg *m)
{
    struct ctl *ctl = s->srv->ctl;
    bool about_vm = m->type == CHAN_REPORT || m->type == CHAN_ACTIVATED
                    || m->type == CHAN_BINDING
                    || (m->type == CHAN_DHCP && m->vm[0]);
    if (!about_vm) {
        return true;
    }
    uint32_t vm = core_vm_find(ctl->core, m->vm);
    if (vm == CORE_NONE || core_node_concerns_vm(ctl->core, s->node, vm)) {
        return true;
    }
    char text[CHAN_TEXT_MAX + 1];
    ctl->metrics.agent_forbidden++;
    snprintf(text, sizeof text, "%s about VM '%s', which is not on node "
             "'%s'", chan_msg_type_name(m->type), m->vm, s->name);
    session_error(s, "forbidden", text, false);
    return false;
}

/* The tenant virtual switches' traffic (vnet_ctl.c): what agents send
 * them, and the acks and nacks of their pushes (numbered by the vnet
 * layer apart from the core's instructions: it says which are its own).
 * True when 'm' was theirs. */
static bool
session_vnet(struct agent_session *s, const struct chan_msg *m)
{
    struct vnet_ctl *vc = s->srv->ctl->vnet;
    switch (m->type) {
    case CHAN_ACK:
    case CHAN_NACK:
        return vc && vnet_ctl_node_msg(vc, s->name, m);
    case CHAN_VNET_PACKET_IN:
    case CHAN_VNET_FSTAT:
    case CHAN_VNET_PSTAT:
    case CHAN_VNET_PTX:
    case CHAN_VNET_STATS_END:
        if (vc) {
            vnet_ctl_node_msg(vc, s->name, m);
        }
        return true;
    default:
        if (m->type >= CHAN_VNET_BEGIN && m->type < CHAN_N_TYPES) {
            char text[128];
            snprintf(text, sizeof text, "'%s' is not sent by agents",
                     chan_msg_type_name(m->type));
            session_error(s, "unknown_type", text, false);
            return true;
        }
        return false;
    }
}

static void
session_message(struct agent_session *s, const struct chan_msg *m)
{
    struct ctl *ctl = s->srv->ctl;
    uint64_t now = clock_run_ms();
    char text[128];
    /* Its records must fit in the batch (etcd bounds a commit); after a
     * failed commit nothing more is handled: mignetd stops. */
    if (!ctl_make_room(ctl)) {
        return;
    }

    if (s->node == CORE_NONE) {
        if (m->type == CHAN_HELLO) {
            session_hello(s, m);
        } else {
            session_error(s, "not_registered", "hello must come first",
                          true);
        }
        return;
    }
    if (!session_speaks_for(s, m)) {
        return;
    }
    /* Any message of an authenticated session: its node is not silent
     * (the silence hold may release deletions held for it). */
    ctl->dirty = true;
    core_node_heard(ctl->core, s->node, now);
    if (session_vnet(s, m)) {
        return;
    }
    switch (m->type) {
    case CHAN_ACK:
        ctl->dirty = true;
        session_core_error(s, core_node_ack(ctl->core, s->node, m->seq,
                                            now));
        break;
    case CHAN_NACK:
        log_write(LOG_WARN, "agent",
                  "event=nack node=%s seq=%" PRIu64 " ofp_type=%u "
                  "ofp_code=%u", s->name, m->seq, (unsigned) m->ofp_type,
                  (unsigned) m->ofp_code);
        session_core_error(s, core_node_nack(ctl->core, s->node, m->seq,
                                             m->ofp_type, m->ofp_code,
                                             now));
        break;
    case CHAN_SUBSCRIBE:
        session_subscribe(s, m);
        break;
    case CHAN_MAP_ACK:
        session_map_ack(s, m);
        break;
    case CHAN_REFRESH:
        ctl->dirty = true;
        session_core_error(s, core_node_refresh(ctl->core, s->node,
                                                m->version, now));
        break;
    case CHAN_REPORT: {
        uint32_t vm = core_vm_find(ctl->core, m->vm);
        if (vm == CORE_NONE) {
            session_core_error(s, CORE_E_UNKNOWN_VM);
        } else {
            session_core_error(s, core_node_report(ctl->core, s->node, vm,
                                                   m->epoch));
        }
        break;
    }
    case CHAN_ACTIVATED:
        session_activated(s, m, now);
        break;
    case CHAN_REFUSED:
        ctl->metrics.agent_refused++;
        log_write(LOG_WARN, "agent",
                  "event=refused node=%s vm=%s seq=%" PRIu64
                  " epoch=%" PRIu64 " held_epoch=%" PRIu64,
                  s->name, m->vm, m->seq, m->epoch, m->held_epoch);
        break;
    case CHAN_HEARTBEAT:
        break;
    case CHAN_DHCP:
        session_dhcp(s, m);
        break;
    case CHAN_BINDING:
        session_binding(s, m);
        break;
    case CHAN_ERROR:
        log_write(LOG_WARN, "agent", "event=agent_error node=%s code=%s "
                  "msg=\"%s\"", s->name, m->code, m->message);
        break;
    case CHAN_HELLO:
        session_error(s, "bad_field", "hello was already received", false);
        break;
    case CHAN_WELCOME:
    case CHAN_RESYNC_BEGIN:
    case CHAN_RESYNC_END:
    case CHAN_INSTALL:
    case CHAN_RELAY:
    case CHAN_DELETE:
    case CHAN_MAP_BEGIN:
    case CHAN_MAP_ENTRY:
    case CHAN_MAP_END:
    case CHAN_N_TYPES:
    default:
        snprintf(text, sizeof text, "'%s' is not sent by agents",
                 chan_msg_type_name(m->type));
        session_error(s, "unknown_type", text, false);
        break;
    }
}

static void
session_line(struct agent_session *s, const char *line, size_t len)
{
    struct chan_msg m;
    char err[CHAN_TEXT_MAX + 1];
    s->last_heard_ms = clock_run_ms();
    enum chan_err e = chan_msg_decode(line, len, &m, err, sizeof err);
    if (e) {
        /* Before hello every error is the last. */
        session_error(s, chan_err_code(e), err,
                      chan_err_is_fatal(e) || s->node == CORE_NONE);
        return;
    }
    session_message(s, &m);
}

/* Output queued for 's': written to the bufferevent or held for the
 * batch. */
static size_t
session_queued(const struct agent_session *s)
{
    return evbuffer_get_length(bufferevent_get_output(s->bev)) + s->out.len;
}

static void session_read_cb(struct bufferevent *, void *);

/* The peer took enough of its output: reading resumes, starting with the
 * lines already received. */
static void
session_write_cb(struct bufferevent *bev, void *arg)
{
    struct agent_session *s = arg;
    if (s->read_paused && !s->closing
        && session_queued(s) <= AGENT_READ_RESUME) {
        s->read_paused = false;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        bufferevent_enable(bev, EV_READ);
        session_read_cb(bev, s);
    }
}

/* Stops reading 's' until its output drains (session_write_cb). */
static void
session_pause_reading(struct agent_session *s)
{
    s->read_paused = true;
    s->paused_queued = session_queued(s);
    s->srv->ctl->metrics.agent_read_pauses++;
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setcb(s->bev, session_read_cb, session_write_cb,
                      session_event_cb, s);
    bufferevent_setwatermark(s->bev, EV_WRITE, AGENT_READ_RESUME, 0);
}

static void
session_read_cb(struct bufferevent *bev, void *arg)
{
    struct agent_session *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!s->closing && !s->read_paused) {
        if (session_queued(s) >= AGENT_READ_PAUSE) {
            session_pause_reading(s);
            break;
        }
        size_t eol_len = 0;
        struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len,
                                                    EVBUFFER_EOL_LF);
        if (p.pos < 0) {
            if (evbuffer_get_length(in) >= CHAN_MSG_MAX_LINE) {
                session_error(s, "too_long", chan_strerror(CHAN_E_TOO_LONG),
                              true);
            }
            break;
        }
        size_t len = (size_t) p.pos;
        if (len + 1 > CHAN_MSG_MAX_LINE) {
            session_error(s, "too_long", chan_strerror(CHAN_E_TOO_LONG),
                          true);
            break;
        }
        const char *line = (const char *) evbuffer_pullup(in,
                                                          (ev_ssize_t) len
                                                              + 1);
        session_line(s, line, len);
        evbuffer_drain(in, len + 1);
    }
    if (s->closing) {
        evbuffer_drain(in, evbuffer_get_length(in));
    }
}

/* ---- Accepting ---- */

static void
agent_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                struct sockaddr *sa, int salen, void *arg)
{
    struct agent_server *srv = arg;
    struct event_base *base = evconnlistener_get_base(l);
    int one = 1;
    (void) salen;
    if (!lguard_accept(srv->guard, fd, sa)) {
        evutil_closesocket(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    struct bufferevent *bev;
    if (srv->ssl_ctx) {
        SSL *ssl = SSL_new(srv->ssl_ctx);
        if (!ssl) {
            evutil_closesocket(fd);
            return;
        }
        bev = bufferevent_openssl_socket_new(base, fd, ssl,
                                             BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (bev) {
            bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        }
    } else {
        bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    struct agent_session *s = xcalloc(1, sizeof *s);
    s->srv = srv;
    s->bev = bev;
    s->node = CORE_NONE;
    s->last_heard_ms = clock_run_ms();
    strbuf_init(&s->out);
    sock_format_addr(sa, s->peer, sizeof s->peer);
    s->next = srv->head;
    if (srv->head) {
        srv->head->prev = s;
    }
    srv->head = s;
    srv->ctl->metrics.agent_sessions++;

    bufferevent_setcb(bev, session_read_cb, NULL, session_event_cb, s);
    bufferevent_setwatermark(bev, EV_READ, 0, 4 * CHAN_MSG_MAX_LINE);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---- Heartbeats ---- */

/* Whether the core still holds the node 's' registered as. */
static bool
session_node_current(const struct agent_session *s)
{
    struct core_node_info info;
    return core_node_info(s->srv->ctl->core, s->node, &info)
           && !strcmp(info.name, s->name);
}

static void
agent_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent_server *srv = arg;
    uint64_t now = clock_run_ms();
    uint64_t dead = (uint64_t) AGENT_DEAD_INTERVALS
                    * srv->ctl->opts.heartbeat_ms;
    (void) fd;
    (void) what;
    struct agent_session *next;
    for (struct agent_session *s = srv->head; s; s = next) {
        next = s->next;
        if (s->closing) {
            continue;
        }
        if (s->read_paused) {
            /* Not read, so not heard: a peer that takes its output (a big
             * resync) is alive; one that takes nothing times out. */
            size_t q = session_queued(s);
            if (q < s->paused_queued) {
                s->last_heard_ms = now;
            }
            s->paused_queued = q;
        }
        if (now > s->last_heard_ms && now - s->last_heard_ms > dead) {
            log_write(LOG_WARN, "agent", "event=timeout node=%s peer=%s",
                      s->name[0] ? s->name : "-", s->peer);
            session_close(s);
        } else if (s->node != CORE_NONE && !session_node_current(s)) {
            session_error(s, "unknown_node", "the node was removed", true);
        } else if (s->node != CORE_NONE) {
            struct chan_msg m;
            chan_msg_init(&m, CHAN_HEARTBEAT);
            session_send(s, &m);
        }
    }
}

/* ---- Public ---- */

/* The channel's TLS context: lib/tls's server context (the REST
 * listener's too), plus, with --agent-tls-ca, a request for a client
 * certificate verified against that CA (mutual TLS: the node id is its
 * CN, node_auth.c). */
static SSL_CTX *
agent_tls_ctx(const struct mignetd_options *o, char *err, size_t errlen)
{
    SSL_CTX *ctx = tls_server_ctx(o->tls_cert, o->tls_key, err, errlen);
    if (!ctx || !o->tls_ca[0]) {
        return ctx;
    }
    if (SSL_CTX_load_verify_locations(ctx, o->tls_ca, NULL) != 1) {
        snprintf(err, errlen, "TLS: cannot load CA %s", o->tls_ca);
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* Ask for a client certificate; one without still gets in and must
     * then give a token at hello. */
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->tls_ca);
    if (names) {
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

struct agent_server *
agent_server_create(struct ctl *ctl, char *err, size_t errlen)
{
    struct agent_server *srv = xcalloc(1, sizeof *srv);
    srv->ctl = ctl;
    strbuf_init(&srv->scratch);
    strbuf_init(&srv->cache.lines);
    if (ctl->opts.tls_cert[0]) {
        srv->ssl_ctx = agent_tls_ctx(&ctl->opts, err, errlen);
        if (!srv->ssl_ctx) {
            agent_server_destroy(srv);
            return NULL;
        }
    }
    int fd = sock_listen(ctl->opts.agent_listen, ctl->agent_addr,
                        sizeof ctl->agent_addr, err, errlen);
    if (fd < 0) {
        agent_server_destroy(srv);
        return NULL;
    }
    srv->listener = evconnlistener_new(ctl->base, agent_accept_cb, srv,
                                       LEV_OPT_CLOSE_ON_FREE
                                           | LEV_OPT_CLOSE_ON_EXEC,
                                       0, fd);
    if (!srv->listener) {
        evutil_closesocket(fd);
        snprintf(err, errlen, "agent listener: %s", strerror(errno));
        agent_server_destroy(srv);
        return NULL;
    }
    const struct lguard_config gc = {
        .name = "agent",
        .max_conns = ctl->opts.max_conns,
        .max_per_peer = ctl->opts.max_conns_per_peer,
    };
    srv->guard = lguard_new(ctl->base, &gc);
    lguard_watch_listener(srv->guard, srv->listener);
    srv->push_timer = evtimer_new(ctl->base, push_timer_cb, srv);
    srv->hb_timer = event_new(ctl->base, -1, EV_PERSIST, agent_heartbeat_cb,
                              srv);
    struct timeval tv = {
        .tv_sec = ctl->opts.heartbeat_ms / 1000,
        .tv_usec = (ctl->opts.heartbeat_ms % 1000) * 1000,
    };
    event_add(srv->hb_timer, &tv);
    return srv;
}

void
agent_server_destroy(struct agent_server *srv)
{
    if (!srv) {
        return;
    }
    while (srv->head) {
        session_close(srv->head);
    }
    if (srv->hb_timer) {
        event_free(srv->hb_timer);
    }
    if (srv->push_timer) {
        event_free(srv->push_timer);
    }
    strbuf_destroy(&srv->cache.lines);
    if (srv->listener) {
        evconnlistener_free(srv->listener);
    }
    lguard_free(srv->guard);
    if (srv->ssl_ctx) {
        SSL_CTX_free(srv->ssl_ctx);
    }
    free(srv->by_node);
    free(srv->dirty);
    strbuf_destroy(&srv->scratch);
    free(srv);
}

static struct agent_session *
agent_session_of(const struct agent_server *srv, uint32_t node)
{
    return node < srv->n_by_node ? srv->by_node[node] : NULL;
}

void
agent_server_instr(struct agent_server *srv, const struct core_instr *in)
{
    /* The instruction carries every name the channel needs: the core is
     * not read back here. */
    struct ctl *ctl = srv->ctl;
    struct agent_session *s = agent_session_of(srv, in->node);
    if (!s || s->closing || !in->vm_name || !in->node_name
        || strcmp(in->node_name, s->name)) {
        ctl->metrics.instructions_unrouted++;
        return;
    }
    static const enum chan_msg_type types[] = {
        [INSTR_INSTALL] = CHAN_INSTALL,
        [INSTR_RELAY] = CHAN_RELAY,
        [INSTR_DELETE] = CHAN_DELETE,
    };
    struct chan_msg m;
    chan_msg_init(&m, types[in->kind]);
    m.seq = in->seq;
    snprintf(m.vm, sizeof m.vm, "%s", in->vm_name);
    m.epoch = in->epoch;
    m.config = in->config;
    if (in->kind == INSTR_INSTALL) {
        m.inactive = in->inactive;
        m.activate_on_frame = in->activate_on_frame;
        /* The VM id is the default: only another one goes on the wire. */
        if (in->iface_id && strcmp(in->iface_id, in->vm_name)) {
            snprintf(m.iface_id, sizeof m.iface_id, "%s", in->iface_id);
        }
    }
    if (in->binding) {
        m.has_binding = true;
        m.binding = *in->binding;
    }
    if (in->kind == INSTR_RELAY) {
        if (!in->target_name || !in->target_address) {
            ctl->metrics.instructions_unrouted++;
            return;
        }
        snprintf(m.target, sizeof m.target, "%s", in->target_name);
        snprintf(m.target_address, sizeof m.target_address, "%s",
                 in->target_address);
        m.target_epoch = in->target_epoch;
    }
    enum instr_kind kind = in->kind;
    if (kind == INSTR_INSTALL || (kind == INSTR_RELAY && in->activated)) {
        session_send_now(s, &m); /* may close 's' */
    } else {
        session_send(s, &m);
    }
    ctl->metrics.instructions_sent[kind]++;
    if (log_enabled(LOG_DBG)) {
        log_write(LOG_DBG, "agent",
                  "event=instruction kind=%s node=%s vm=%s epoch=%" PRIu64
                  " seq=%" PRIu64,
                  instr_kind_name(kind), in->node_name, in->vm_name,
                  in->epoch, in->seq);
    }
}

void
agent_server_time_installs(struct agent_server *srv, double t0)
{
    if (srv) {
        srv->install_t0 = t0;
    }
}

void
agent_server_seal(struct agent_server *srv)
{
    push_run(srv); /* the map as this batch leaves it */
    for (size_t i = 0; i < srv->n_dirty; i++) {
        srv->dirty[i]->sealed = srv->dirty[i]->out.len;
    }
}

void
agent_server_release(struct agent_server *srv)
{
    /* Sessions closed meanwhile left the list; one closed here (an
     * overflow) is not looked for in it (n_dirty is 0 meanwhile).  Those
     * with output of the next batch are kept, compacted in place. */
    size_t n = srv->n_dirty, kept = 0;
    srv->n_dirty = 0;
    for (size_t i = 0; i < n; i++) {
        struct agent_session *s = srv->dirty[i];
        size_t len = s->sealed;
        s->sealed = 0;
        if (!len) {
            srv->dirty[kept++] = s; /* all of it queued after the seal */
            continue;
        }
        if (session_overflow(s, len)) {
            continue; /* closed (freed) */
        }
        bufferevent_write(s->bev, s->out.data, len);
        strbuf_consume(&s->out, len);
        if (s->held_install_t0 > 0) {
            metrics_hist_observe(&srv->ctl->metrics.install,
                                 clock_mono_s() - s->held_install_t0);
            s->held_install_t0 = 0;
        }
        if (s->out.len) {
            srv->dirty[kept++] = s;
            continue;
        }
        s->queued = false;
        if (s->closing) {
            /* Told to go (it was sent an error): close once that last
             * message is written. */
            session_unregister(s);
            bufferevent_setcb(s->bev, NULL, session_drained_cb,
                              session_event_cb, s);
        }
    }
    srv->n_dirty = kept;
}

void
agent_server_flush(struct agent_server *srv)
{
    agent_server_seal(srv);
    agent_server_release(srv);
}

void
agent_server_discard(struct agent_server *srv)
{
    for (size_t i = 0; i < srv->n_dirty; i++) {
        srv->dirty[i]->queued = false;
        srv->dirty[i]->sealed = 0;
        strbuf_clear(&srv->dirty[i]->out);
    }
    srv->n_dirty = 0;
}

void
agent_server_send_named(struct agent_server *srv, const char *node,
                        const struct chan_msg *m)
{
    uint32_t idx = core_node_find(srv->ctl->core, node);
    struct agent_session *s = idx == CORE_NONE ? NULL
                                               : agent_session_of(srv, idx);
    if (s && !s->closing) {
        session_send(s, m);
    }
}

bool
agent_server_connected(const struct agent_server *srv, uint32_t node)
{
    const struct agent_session *s = agent_session_of(srv, node);
    return s && !s->closing;
}

unsigned
agent_server_n_connected(const struct agent_server *srv)
{
    return srv->n_registered;
}

void
agent_server_token_rotated(struct agent_server *srv, uint32_t node)
{
    struct agent_session *s = agent_session_of(srv, node);
    if (s && !s->closing && s->auth == AUTH_TOKEN) {
        session_error(s, "unauthorized", "the node's token was rotated",
                      true);
    }
}

void
agent_server_forget_node(struct agent_server *srv, uint32_t node)
{
    struct agent_session *s = agent_session_of(srv, node);
    if (s && !s->closing) {
        session_error(s, "unknown_node", "the node was removed", true);
    }
}
