/* replica.c: the etcd side of the leader election and a follower's
 * listeners (replica.h, docs/ha.md).
 *
 * The leader key PREFIX/leader holds, on the leader's lease, one JSON
 * object {"replica": NAME, "agents": "HOST:PORT", "rest": URL}.  A
 * campaign reads it and, only when it is gone, grants a lease and puts
 * the key with the comparison create_revision == 0: of two replicas
 * campaigning at once exactly one wins.  etcd calls block, each for at
 * most a third of the TTL (the election's own client).  A follower also
 * watches the key (a stream on the loop, never blocking): its deletion
 * -- the leader's lease ended -- starts a campaign at once rather than at
 * the next poll; the poll stays for when the watch is down. */
#include "controller/replica.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "controller/election.h"
#include "controller/options.h"
#include "lib/base64.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "mignet/etcd.h"
#include "proto/chan_msg.h"

struct replica {
    const struct mignetd_options *opts;
    struct etcd_client *etcd;
    struct election el;
    char key[OPTIONS_ADDR_MAX + 16];
    char value[1024];          /* ours */
    int64_t lease;             /* held (leader) */
    uint64_t campaign_failures; /* in a row: logged 1st, then every 50th */
    /* The leader as the key names it ("" = none known). */
    char leader_name[OPTIONS_ADDR_MAX];
    char leader_agents[OPTIONS_ADDR_MAX];
    char leader_rest[OPTIONS_PATH_MAX];
    /* Follower serving. */
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *chan;
    struct event *timer, *sig_term, *sig_int;
    int follow_result;
    /* The watch on the leader key (follower). */
    struct evhttp_connection *watch_conn;
    struct event *watch_retry;
    struct evbuffer *watch_buf; /* a line not yet whole */
    uint64_t watch_wakes;       /* campaigns the watch started */
    /* Leader. */
    void (*lost)(void *);
    void *lost_aux;
};

static uint64_t
replica_now(void)
{
    return clock_mono_ms();
}

struct replica *
replica_create(const struct mignetd_options *opts, char *err,
               size_t errlen)
{
    if (!opts->replica[0] || !options_store_is_etcd(opts)) {
        snprintf(err, errlen, "a replica needs --replica and an etcd store");
        return NULL;
    }
    struct replica *r = xcalloc(1, sizeof *r);
    r->opts = opts;
    int timeout = (int) (opts->lease_ttl_s * 1000 / 3);
    struct etcd_tls tls;
    r->etcd = etcd_client_create(opts->store, timeout,
                                 options_store_tls(opts, &tls), err, errlen);
    if (!r->etcd) {
        free(r);
        return NULL;
    }
    snprintf(r->key, sizeof r->key, "%s/leader", opts->store_prefix);
    /* One read now: an etcd that refuses us (TLS either way) or answers
     * what is no etcd answer (plain http at an https etcd) is a
     * configuration to fix, not to wait out.  An unreachable, slow or
     * not yet ready one (an error answer: no leader yet) is waited for
     * (campaigns). */
    struct etcd_range_result probe = {0};
    int e = etcd_range(r->etcd, r->key, strlen(r->key), NULL, 0, 1, &probe,
                       err, errlen);
    etcd_range_result_destroy(&probe);
    if (e == EACCES || e == EPROTO) {
        replica_destroy(r);
        return NULL;
    }
    err[0] = '\0';
    char rest[OPTIONS_PATH_MAX + 16];
    if (opts->advertise_rest[0]) {
        snprintf(rest, sizeof rest, "%s", opts->advertise_rest);
    } else {
        snprintf(rest, sizeof rest, "%s://%s",
                 opts->api_tls_cert[0] ? "https" : "http", opts->listen);
    }
    json_t *v = json_pack("{s:s,s:s,s:s}", "replica", opts->replica,
                          "agents", opts->advertise_agents[0]
                                        ? opts->advertise_agents
                                        : opts->agent_listen,
                          "rest", rest);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text || strlen(text) >= sizeof r->value) {
        free(text);
        replica_destroy(r);
        snprintf(err, errlen, "replica: the leader value is too long");
        return NULL;
    }
    snprintf(r->value, sizeof r->value, "%s", text);
    free(text);
    election_init(&r->el, opts->lease_ttl_s, REPLICA_POLL_MS, replica_now());
    return r;
}

static void replica_watch_stop(struct replica *);

static void
replica_close_follower(struct replica *r)
{
    replica_watch_stop(r);
    if (r->chan) {
        evconnlistener_free(r->chan);
        r->chan = NULL;
    }
    if (r->http) {
        evhttp_free(r->http);
        r->http = NULL;
    }
    struct event **evs[] = {&r->timer, &r->sig_term, &r->sig_int};
    for (size_t i = 0; i < sizeof evs / sizeof *evs; i++) {
        if (*evs[i]) {
            event_free(*evs[i]);
            *evs[i] = NULL;
        }
    }
}

void
replica_destroy(struct replica *r)
{
    if (!r) {
        return;
    }
    replica_close_follower(r);
    if (r->base) {
        event_base_free(r->base);
    }
    etcd_client_destroy(r->etcd);
    free(r);
}

const char *
replica_key(const struct replica *r)
{
    return r->key;
}

int64_t
replica_lease(const struct replica *r)
{
    return r->lease;
}

const char *
replica_role(const struct replica *r)
{
    return election_role_name(r->el.role);
}

/* Reads the leader key's value into r->leader_*; a value that does not
 * parse names no leader. */
static void
replica_note_leader(struct replica *r, const char *value, size_t len)
{
    json_error_t jerr;
    json_t *v = json_loadb(value, len, 0, &jerr);
    const char *name = NULL, *agents = NULL, *rest = NULL;
    if (!v || json_unpack(v, "{s:s,s:s,s:s}", "replica", &name, "agents",
                          &agents, "rest", &rest)) {
        name = agents = rest = "";
    }
    if (strcmp(name, r->leader_name)) {
        log_write(LOG_INF, "replica", "event=leader replica=%s leader=%s "
                  "agents=%s rest=%s", r->opts->replica,
                  *name ? name : "-", *agents ? agents : "-",
                  *rest ? rest : "-");
    }
    snprintf(r->leader_name, sizeof r->leader_name, "%s", name);
    snprintf(r->leader_agents, sizeof r->leader_agents, "%s", agents);
    snprintf(r->leader_rest, sizeof r->leader_rest, "%s", rest);
    json_decref(v);
}

/* A campaign's etcd call failed (etcd unreachable or slow): one line at
 * the first failure in a row, then every 50th (10 s at the poll). */
static void
replica_campaign_failed(struct replica *r, const char *step,
                        const char *err)
{
    if (r->campaign_failures++ % 50 == 0) {
        log_write(LOG_WARN, "replica", "event=campaign_failed step=%s "
                  "in_a_row=%" PRIu64 " err=\"%s\"", step,
                  r->campaign_failures, err);
    }
}

/* One campaign: read the key; when it is gone, take it on a new lease. */
static void
replica_campaign(struct replica *r)
{
    char err[512] = "";
    uint64_t sent = replica_now();
    struct etcd_range_result rr = {0};
    int e = etcd_range(r->etcd, r->key, strlen(r->key), NULL, 0, 1, &rr,
                       err, sizeof err);
    if (e || rr.n > 0) {
        if (!e) {
            replica_note_leader(r, rr.kvs[0].value, rr.kvs[0].value_len);
            r->campaign_failures = 0;
        } else {
            replica_campaign_failed(r, "read", err);
        }
        etcd_range_result_destroy(&rr);
        election_campaign_done(&r->el, sent, replica_now(), false, 0);
        return;
    }
    etcd_range_result_destroy(&rr);
    int64_t id = 0, ttl = 0;
    e = etcd_lease_grant(r->etcd, r->opts->lease_ttl_s, &id, &ttl, err,
                         sizeof err);
    if (e) {
        replica_campaign_failed(r, "grant", err);
        election_campaign_done(&r->el, sent, replica_now(), false, 0);
        return;
    }
    struct etcd_cmp cmp = {
        .key = r->key, .key_len = strlen(r->key),
        .target = ETCD_CMP_CREATE, .result = ETCD_CMP_EQUAL, .number = 0,
    };
    struct etcd_op put = {
        .kind = ETCD_OP_PUT, .key = r->key, .key_len = strlen(r->key),
        .value = r->value, .value_len = strlen(r->value), .lease = id,
    };
    struct etcd_txn_result tr = {0};
    e = etcd_txn(r->etcd, &cmp, 1, &put, 1, NULL, 0, &tr, err, sizeof err);
    bool won = !e && tr.succeeded;
    if (!won) {
        if (e) {
            replica_campaign_failed(r, "txn", err);
        }
        /* Another replica won (or the answer was lost: then the key is on
         * this lease, and revoking it frees the key for the next
         * campaign). */
        etcd_lease_revoke(r->etcd, id, err, sizeof err);
        election_campaign_done(&r->el, sent, replica_now(), false, 0);
        return;
    }
    r->lease = id;
    election_campaign_done(&r->el, sent, replica_now(), true, ttl);
    log_write(LOG_INF, "replica", "event=elected replica=%s lease=%" PRId64
              " ttl_s=%" PRId64 " revision=%" PRId64, r->opts->replica, id,
              ttl, tr.revision);
    replica_note_leader(r, r->value, strlen(r->value));
}

/* ---- Follower: the agent channel ---- */

static void
replica_chan_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void) what;
    (void) arg;
    bufferevent_free(bev);
}

/* After the answer: discard what comes until the agent closes. */
static void
replica_chan_drain_cb(struct bufferevent *bev, void *arg)
{
    (void) arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

/* The answer left: no more writing; the agent closes (or the timeout). */
static void
replica_chan_written_cb(struct bufferevent *bev, void *arg)
{
    (void) arg;
    shutdown(bufferevent_getfd(bev), SHUT_WR);
}

/* The peer's hello (any first line): answer not_leader. */
static void
replica_chan_read_cb(struct bufferevent *bev, void *arg)
{
    struct replica *r = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = 0;
    char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
    if (!line) {
        if (evbuffer_get_length(in) > 65536) {
            bufferevent_free(bev);
        }
        return;
    }
    free(line);
    struct chan_msg m;
    chan_msg_init(&m, CHAN_NOT_LEADER);
    if (strlen(r->leader_agents) < sizeof m.address) {
        memcpy(m.address, r->leader_agents, strlen(r->leader_agents) + 1);
    }
    struct strbuf sb;
    strbuf_init(&sb);
    if (chan_msg_encode(&m, &sb)) {
        strbuf_destroy(&sb);
        bufferevent_free(bev);
        return;
    }
    bufferevent_setcb(bev, replica_chan_drain_cb, replica_chan_written_cb,
                      replica_chan_event_cb, r);
    bufferevent_write(bev, strbuf_str(&sb), sb.len);
    strbuf_destroy(&sb);
    replica_chan_drain_cb(bev, r);
}

static void
replica_chan_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                       struct sockaddr *sa, int salen, void *arg)
{
    (void) l;
    (void) sa;
    (void) salen;
    struct replica *r = arg;
    struct bufferevent *bev = bufferevent_socket_new(
        r->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        close(fd);
        return;
    }
    struct timeval tv = {2, 0};
    bufferevent_set_timeouts(bev, &tv, &tv);
    bufferevent_setcb(bev, replica_chan_read_cb, NULL,
                      replica_chan_event_cb, r);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---- Follower: REST ---- */

static void
replica_http_send(struct evhttp_request *req, int status, const char *type,
                  const char *body)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        return;
    }
    evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", type);
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

static void
replica_http_cb(struct evhttp_request *req, void *arg)
{
    struct replica *r = arg;
    const char *uri = evhttp_request_get_uri(req);
    size_t plen = strcspn(uri, "?");
    json_t *v = NULL;
    if (plen == 8 && !strncmp(uri, "/healthz", 8)) {
        v = json_pack("{s:s,s:s,s:s,s:s?}", "status", "ok", "role",
                      replica_role(r), "replica", r->opts->replica,
                      "leader", r->leader_name[0] ? r->leader_name : NULL);
        char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
        replica_http_send(req, 200, "application/json",
                          text ? text : "{}");
        free(text);
        json_decref(v);
        return;
    }
    if (plen == 8 && !strncmp(uri, "/metrics", 8)) {
        char text[512];
        snprintf(text, sizeof text,
                 "# HELP mignet_replica_leader Whether this replica leads "
                 "(1) or follows (0).\n"
                 "# TYPE mignet_replica_leader gauge\n"
                 "mignet_replica_leader 0\n");
        replica_http_send(req, 200, "text/plain; version=0.0.4", text);
        return;
    }
    char msg[2 * OPTIONS_PATH_MAX + 2 * OPTIONS_ADDR_MAX + 128];
    if (r->leader_rest[0]) {
        snprintf(msg, sizeof msg, "replica %s does not lead; the leader is "
                 "%s at %s", r->opts->replica, r->leader_name,
                 r->leader_rest);
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Mignet-Leader", r->leader_rest);
    } else {
        snprintf(msg, sizeof msg, "replica %s does not lead and no leader "
                 "is elected yet", r->opts->replica);
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "1");
    v = json_pack("{s:{s:s,s:s}}", "error", "code", "not_leader",
                  "message", msg);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    replica_http_send(req, 503, "application/json", text ? text : "{}");
    free(text);
    json_decref(v);
}

/* ---- Follower: the watch ---- */

#define REPLICA_WATCH_RETRY_MS 1000

static void replica_watch_start(struct replica *);

static void
replica_watch_stop(struct replica *r)
{
    if (r->watch_conn) { /* frees its request without calling back */
        evhttp_connection_free(r->watch_conn);
        r->watch_conn = NULL;
    }
    if (r->watch_retry) {
        event_free(r->watch_retry);
        r->watch_retry = NULL;
    }
    if (r->watch_buf) {
        evbuffer_free(r->watch_buf);
        r->watch_buf = NULL;
    }
}

static void
replica_watch_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    replica_watch_start(arg);
}

/* The stream ended or failed: the poll goes on; a new watch later. */
static void
replica_watch_again(struct replica *r)
{
    if (!r->base || !r->watch_retry) {
        return;
    }
    struct timeval tv = {REPLICA_WATCH_RETRY_MS / 1000,
                         (REPLICA_WATCH_RETRY_MS % 1000) * 1000};
    evtimer_add(r->watch_retry, &tv);
}

/* One answer of the stream: true when it reports the key deleted. */
static bool
replica_watch_line(const char *line, size_t len)
{
    json_t *v = json_loadb(line, len, 0, NULL);
    json_t *events = json_object_get(json_object_get(v, "result"),
                                     "events");
    bool deleted = false;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        deleted |= type && !strcmp(type, "DELETE");
    }
    json_decref(v);
    return deleted;
}

static void
replica_watch_chunk_cb(struct evhttp_request *req, void *arg)
{
    struct replica *r = arg;
    evbuffer_add_buffer(r->watch_buf, evhttp_request_get_input_buffer(req));
    bool deleted = false;
    size_t len;
    char *line;
    while ((line = evbuffer_readln(r->watch_buf, &len, EVBUFFER_EOL_LF))) {
        deleted |= replica_watch_line(line, len);
        free(line);
    }
    if (evbuffer_get_length(r->watch_buf) > 1u << 20) {
        evbuffer_drain(r->watch_buf, evbuffer_get_length(r->watch_buf));
    }
    if (!deleted) {
        return;
    }
    /* Logged also when the 200 ms poll was first and this replica already
     * campaigns or leads: the watch saw it (action=none). */
    bool wake = r->el.role == ELECTION_FOLLOWER && r->timer;
    r->watch_wakes += wake;
    log_write(LOG_INF, "replica", "event=leader_key_deleted replica=%s "
              "action=%s wakes=%" PRIu64, r->opts->replica,
              wake ? "campaign" : "none", r->watch_wakes);
    if (wake) {
        election_wake(&r->el, replica_now());
        struct timeval now = {0, 0};
        evtimer_add(r->timer, &now);
    }
}

static void
replica_watch_done_cb(struct evhttp_request *req, void *arg)
{
    struct replica *r = arg;
    log_write(LOG_DBG, "replica", "event=watch_ended status=%d",
              req ? evhttp_request_get_response_code(req) : 0);
    replica_watch_again(r);
}

/* Opens the watch on the etcd endpoint in use (a new connection each
 * time: a TLS session is not resumed across connections). */
static void
replica_watch_start(struct replica *r)
{
    char host[256], port[8];
    if (!r->base
        || !sock_split_hostport(etcd_client_endpoint(r->etcd), host,
                                sizeof host, port, sizeof port)) {
        return;
    }
    if (!r->watch_retry) {
        r->watch_retry = evtimer_new(r->base, replica_watch_retry_cb, r);
        r->watch_buf = evbuffer_new();
        if (!r->watch_retry || !r->watch_buf) {
            return;
        }
    }
    if (r->watch_conn) {
        evhttp_connection_free(r->watch_conn);
        r->watch_conn = NULL;
    }
    evbuffer_drain(r->watch_buf, evbuffer_get_length(r->watch_buf));
    struct bufferevent *bev = NULL;
    SSL_CTX *ctx = etcd_client_tls_ctx(r->etcd); /* the client's own */
    if (ctx) {
        SSL *ssl = SSL_new(ctx);
        if (!ssl || tls_client_expect_host(ssl, host)) {
            SSL_free(ssl);
            return;
        }
        bev = bufferevent_openssl_socket_new(r->base, -1, ssl,
                                             BUFFEREVENT_SSL_CONNECTING,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (!bev) {
            SSL_free(ssl);
            return;
        }
    }
    r->watch_conn = evhttp_connection_base_bufferevent_new(
        r->base, NULL, bev, host, (uint16_t) atoi(port));
    struct evhttp_request *req =
        r->watch_conn ? evhttp_request_new(replica_watch_done_cb, r) : NULL;
    if (!req) {
        replica_watch_again(r);
        return;
    }
    evhttp_request_set_chunked_cb(req, replica_watch_chunk_cb);
    struct strbuf key;
    strbuf_init(&key);
    base64_encode(&key, r->key, strlen(r->key));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "application/json");
    evbuffer_add_printf(evhttp_request_get_output_buffer(req),
                        "{\"create_request\":{\"key\":\"%s\"}}",
                        strbuf_str(&key));
    strbuf_destroy(&key);
    if (evhttp_make_request(r->watch_conn, req, EVHTTP_REQ_POST,
                            "/v3/watch")) {
        replica_watch_again(r); /* the request was freed */
    }
}

/* ---- Follower: the loop ---- */

static void
replica_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct replica *r = arg;
    (void) fd;
    (void) what;
    if (election_tick(&r->el, replica_now()) == ELECTION_CAMPAIGN) {
        replica_campaign(r);
    }
    if (r->el.role != ELECTION_FOLLOWER) {
        r->follow_result = r->el.role == ELECTION_LEADER ? 0 : -1;
        event_base_loopbreak(r->base);
        return;
    }
    uint64_t now = replica_now(), next = election_next_ms(&r->el);
    uint64_t wait = next > now ? next - now : 0;
    struct timeval tv = {(time_t) (wait / 1000),
                         (suseconds_t) (wait % 1000) * 1000};
    evtimer_add(r->timer, &tv);
}

static void
replica_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct replica *r = arg;
    (void) what;
    log_write(LOG_INF, "replica", "event=signal sig=%d action=shutdown",
              (int) sig);
    r->follow_result = 1;
    event_base_loopbreak(r->base);
}

int
replica_follow(struct replica *r)
{
    char err[512] = "", bound[80];
    r->base = event_base_new();
    if (!r->base) {
        return -1;
    }
    r->follow_result = -1;
    /* The listeners a follower serves on (plain only: with TLS a
     * follower does not listen there, and clients try the next). */
    if (!r->opts->api_tls_cert[0]) {
        int fd = sock_listen(r->opts->listen, bound, sizeof bound, err,
                             sizeof err);
        r->http = fd < 0 ? NULL : evhttp_new(r->base);
        if (!r->http || !evhttp_accept_socket_with_handle(r->http, fd)) {
            if (fd >= 0) {
                close(fd);
            }
            log_write(LOG_ERROR, "replica", "event=listen_failed "
                      "listener=rest err=\"%s\"", err);
            return -1;
        }
        evhttp_set_gencb(r->http, replica_http_cb, r);
    }
    if (!r->opts->tls_cert[0]) {
        int fd = sock_listen(r->opts->agent_listen, bound, sizeof bound,
                             err, sizeof err);
        r->chan = fd < 0 ? NULL
                         : evconnlistener_new(r->base,
                                              replica_chan_accept_cb, r,
                                              LEV_OPT_CLOSE_ON_FREE, -1, fd);
        if (!r->chan) {
            if (fd >= 0) {
                close(fd);
            }
            log_write(LOG_ERROR, "replica", "event=listen_failed "
                      "listener=agents err=\"%s\"", err);
            return -1;
        }
    }
    r->timer = evtimer_new(r->base, replica_timer_cb, r);
    r->sig_term = evsignal_new(r->base, SIGTERM, replica_signal_cb, r);
    r->sig_int = evsignal_new(r->base, SIGINT, replica_signal_cb, r);
    if (!r->timer || !r->sig_term || !r->sig_int
        || evsignal_add(r->sig_term, NULL) || evsignal_add(r->sig_int, NULL)) {
        return -1;
    }
    log_write(LOG_INF, "replica", "event=following replica=%s rest=%s "
              "agents=%s key=%s ttl_s=%u", r->opts->replica, r->opts->listen,
              r->opts->agent_listen, r->key,
              (unsigned) r->opts->lease_ttl_s);
    printf("mignetd following replica=%s rest=%s agents=%s\n",
           r->opts->replica, r->opts->listen, r->opts->agent_listen);
    fflush(stdout);
    struct timeval now = {0, 0};
    evtimer_add(r->timer, &now);
    replica_watch_start(r);
    event_base_dispatch(r->base);
    replica_close_follower(r);
    event_base_free(r->base);
    r->base = NULL;
    return r->follow_result;
}

/* ---- Leader ---- */

static void
replica_lead_cb(evutil_socket_t fd, short what, void *arg)
{
    struct replica *r = arg;
    (void) fd;
    (void) what;
    uint64_t now = replica_now();
    switch (election_tick(&r->el, now)) {
    case ELECTION_KEEPALIVE: {
        char err[512] = "";
        int64_t ttl = 0;
        int e = etcd_lease_keepalive(r->etcd, r->lease, &ttl, err,
                                     sizeof err);
        if (e) {
            log_write(LOG_WARN, "replica", "event=keepalive_failed "
                      "lease=%" PRId64 " err=\"%s\"", r->lease, err);
        }
        election_keepalive_done(&r->el, now, replica_now(), e, ttl);
        break;
    }
    case ELECTION_STEP_DOWN:
    case ELECTION_NONE:
    case ELECTION_CAMPAIGN:
    default:
        break;
    }
    if (r->el.role != ELECTION_LEADER) {
        log_write(LOG_ERROR, "replica", "event=deposed replica=%s "
                  "lease=%" PRId64 " action=exit code=%d", r->opts->replica,
                  r->lease, CTL_EXIT_DEPOSED);
        if (r->lost) {
            void (*lost)(void *) = r->lost;
            r->lost = NULL;
            lost(r->lost_aux);
        }
        return;
    }
    now = replica_now();
    uint64_t next = election_next_ms(&r->el);
    uint64_t wait = next > now ? next - now : 0;
    struct timeval tv = {(time_t) (wait / 1000),
                         (suseconds_t) (wait % 1000) * 1000};
    evtimer_add(r->timer, &tv);
}

int
replica_lead(struct replica *r, struct event_base *base,
             void (*lost)(void *aux), void *aux)
{
    r->lost = lost;
    r->lost_aux = aux;
    r->timer = evtimer_new(base, replica_lead_cb, r);
    if (!r->timer) {
        return ENOMEM;
    }
    replica_lead_cb(-1, 0, r);
    return 0;
}
