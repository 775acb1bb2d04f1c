/* agent.c: mignet-agent's lifecycle and event loop (see agent.h).
 *
 * The agent is a sans-I/O core (agent_core.h) in a libevent shell.  Three
 * connections, one loop: the agent channel to mignetd (agent_chan.c), the
 * OpenFlow connection to the node's bridge (agent_of.c), and gateway polls
 * (here, with libevent's HTTP client: nothing in the loop waits on a
 * peer); each feeds the core, and agent_flush() sends what the core queued
 * and arms its wake-up.  The core recomputes the desired flow table on
 * every change and sends the difference followed by a barrier
 * (agent_sync.c, ofctrl.c); instructions are acknowledged, and map
 * versions reported, only when that barrier's reply arrives with no error
 * before it, and nacked when there was one.  It must never acknowledge
 * what Open vSwitch has not confirmed, and never crash on anything a peer
 * sends.  This file creates, arms and frees the loop's events. */
#include "agent/agent.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_map.h"
#include "agent/credentials.h"
#include "lib/clock.h"
#include "lib/http_client.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/util.h"

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
    o->vnet_stats_ms = 500;
    o->reconnect_ms = 500;
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

void
agent_arm_ms(struct event *ev, uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t) (ms / 1000),
                         .tv_usec = (suseconds_t) (ms % 1000) * 1000};
    event_add(ev, &tv);
}

/* ---- Gateway ---- */

/* The whole poll (connect, request, answer) ends after this, as the
 * blocking client's deadline did; the loop never waits for it. */
#define POLL_TIMEOUT_MS 1000
/* ... except the first, whole map: 50,000 VMs are ~9 MB, which a loaded
 * mignetd may take over a second to write; cut short, it was asked for
 * again and again and never arrived (bench/bench_agent.sh, V2).  A
 * silent gateway still ends it after 1 s (the connection's timeout). */
#define POLL_FULL_TIMEOUT_MS 10000

static void
poll_arm_next(struct agent *a)
{
    double j = a->opt.refresh_jitter
               * ((double) (rng_next(a) % 20001) / 10000.0 - 1.0);
    double next = a->opt.refresh_ms * (1.0 + j);
    agent_arm_ms(a->poll_timer, next < 1 ? 1 : (uint64_t) next);
}

/* While the gateway stays unreachable, one warning this often. */
#define GATEWAY_WARN_EVERY_MS 30000

/* A poll got no map: warn at the first failure of a streak and then
 * every GATEWAY_WARN_EVERY_MS (log.c's rate limit caps bursts too). */
static void
gateway_failed(struct agent *a, int status)
{
    /* One URL per controller: the channel picks the replica (and the
     * gateway with it).  Otherwise the next URL serves the next poll. */
    if (a->gws.n > 1 && a->gws.n != a->ctls.n) {
        addr_list_next(&a->gws, NULL);
        agent_gateway_select(a, addr_list_index(&a->gws));
    }
    uint64_t now = clock_mono_us();
    if (!a->gw_fail_streak++) {
        a->gw_fail_since_us = now;
    } else if (now - a->gw_warned_us < GATEWAY_WARN_EVERY_MS * 1000ull) {
        return;
    }
    a->gw_warned_us = now;
    log_write(LOG_WARN, "agent", "event=gateway_unreachable node=%s "
              "gateway=%s error=\"%s\" status=%d failures=%" PRIu64
              " for_ms=%" PRIu64, a->opt.node, a->gw_url,
              status ? "" : a->poll_why ? a->poll_why : "no answer", status,
              a->gw_fail_streak, (now - a->gw_fail_since_us) / 1000);
}

/* A poll got an answer: after failures, say the gateway is back. */
static void
gateway_reached(struct agent *a)
{
    if (a->gw_fail_streak) {
        log_write(LOG_INF, "agent", "event=gateway_reachable node=%s "
                  "gateway=%s failures=%" PRIu64 " down_ms=%" PRIu64,
                  a->opt.node, a->gw_url, a->gw_fail_streak,
                  (clock_mono_us() - a->gw_fail_since_us) / 1000);
        a->gw_fail_streak = 0;
    }
}

/* Appends what the answer's input buffer holds to the body. */
static void
poll_take(struct agent *a, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    if (n) {
        a->poll_body = xgrow(a->poll_body, &a->poll_cap, a->poll_len + n,
                             1);
        evbuffer_remove(in, a->poll_body + a->poll_len, n);
        a->poll_len += n;
    }
}

/* A piece of the answer's body arrived (libevent drains the buffer
 * afterwards): a 9 MB map is taken a read at a time, not in one turn. */
static void
poll_chunk_cb(struct evhttp_request *req, void *aux)
{
    struct agent *a = aux;
    if (a->poll_req == req && evhttp_request_get_response_code(req) == 200) {
        poll_take(a, req);
    }
}

/* The poll ended: 'req' holds the answer, or NULL when there is none. */
static void
poll_finish(struct agent *a, struct evhttp_request *req)
{
    a->poll_req = NULL;
    event_del(a->poll_deadline);
    int status = req ? evhttp_request_get_response_code(req) : 0;
    char err[160];
    if (status != 200) {
        a->poll_errors++;
        gateway_failed(a, status);
    } else {
        gateway_reached(a);
        addr_list_succeeded(&a->gws);
        poll_take(a, req); /* what no chunk callback took */
        char *body = a->poll_body ? a->poll_body : xmalloc(1);
        size_t len = a->poll_len;
        a->poll_body = NULL; /* the core's now */
        a->poll_len = a->poll_cap = 0;
        if (agent_core_map_answer_take(a->core, body, len, clock_mono_us(),
                                       err, sizeof err)) {
            a->poll_errors++;
            log_write(LOG_WARN, "agent", "event=bad_map node=%s "
                      "error=\"%s\"", a->opt.node, err);
        }
        agent_flush(a); /* the barrier reports the refresh */
    }
    poll_arm_next(a);
}

static void
poll_done_cb(struct evhttp_request *req, void *aux)
{
    struct agent *a = aux;
    if (a->poll_req) {
        poll_finish(a, req);
    }
}

static void
poll_error_cb(enum evhttp_request_error e, void *aux)
{
    static const char *const why[] = {
        [EVREQ_HTTP_TIMEOUT] = "timed out",
        [EVREQ_HTTP_EOF] = "connection closed",
        [EVREQ_HTTP_INVALID_HEADER] = "malformed answer",
        [EVREQ_HTTP_BUFFER_ERROR] = "cannot connect",
        [EVREQ_HTTP_REQUEST_CANCEL] = "cancelled",
        [EVREQ_HTTP_DATA_TOO_LONG] = "answer too large",
    };
    struct agent *a = aux;
    a->poll_why = (size_t) e < ARRAY_SIZE(why) && why[e] ? why[e] : "error";
}

static void
poll_deadline_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (a->poll_req) {
        /* Closes the connection; the request's callback is not run. */
        evhttp_cancel_request(a->poll_req);
        a->poll_why = "timed out";
        poll_finish(a, NULL);
    }
}

/* The poll timer: one GET /v1/map?since=V, answered in poll_done_cb.  A
 * poll in flight is never started again; its end arms the next. */
static void
poll_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (a->poll_req) {
        return;
    }
    if (agent_map_reading(a->core->map)) {
        poll_arm_next(a); /* the last answer is still being read */
        return;
    }
    struct strbuf path, host;
    strbuf_init(&path);
    strbuf_init(&host);
    /* No node= parameter: this node reports the version it holds over the
     * channel once its flows are confirmed, so a refresh is counted
     * once, when it is true. */
    strbuf_printf(&path, "%s/v1/map?since=%" PRIu64, a->gw.prefix,
                  agent_map_version(a->core->map));
    strbuf_printf(&host, strchr(a->gw.host, ':') ? "[%s]:%s" : "%s:%s",
                  a->gw.host, a->gw.port);
    struct evhttp_request *req = evhttp_request_new(poll_done_cb, a);
    evhttp_request_set_error_cb(req, poll_error_cb);
    evhttp_request_set_chunked_cb(req, poll_chunk_cb);
    a->poll_len = 0;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", strbuf_str(&host));
    evhttp_add_header(h, "Accept", "application/json");
    evhttp_add_header(h, "Connection", "close");
    if (a->token[0]) {
        /* The node's credential: the gateway may ask for it. */
        struct strbuf auth;
        strbuf_init(&auth);
        strbuf_printf(&auth, "Bearer %s", a->token);
        evhttp_add_header(h, "Authorization", strbuf_str(&auth));
        strbuf_destroy(&auth);
    }
    a->polls++;
    a->poll_why = NULL;
    a->poll_req = req;
    agent_arm_ms(a->poll_deadline, agent_map_version(a->core->map)
                                       ? POLL_TIMEOUT_MS
                                       : POLL_FULL_TIMEOUT_MS);
    if (evhttp_make_request(a->gw_conn, req, EVHTTP_REQ_GET,
                            strbuf_str(&path))
        && a->poll_req) {
        /* Freed by libevent; its callback did not run. */
        a->poll_why = "cannot send";
        poll_finish(a, NULL);
    }
    strbuf_destroy(&host);
    strbuf_destroy(&path);
}

/* ---- The core's wake-up ---- */

void
agent_flush(struct agent *a)
{
    agent_chan_flush(a);
    agent_of_flush(a);
    agent_ovsdb_flush(a);
    uint64_t wake = agent_core_next_wake(a->core);
    if (wake == UINT64_MAX) {
        event_del(a->wake);
        return;
    }
    uint64_t now = clock_mono_us();
    uint64_t us = wake > now ? wake - now : 0;
    struct timeval tv = {.tv_sec = (time_t) (us / 1000000),
                         .tv_usec = (suseconds_t) (us % 1000000)};
    event_add(a->wake, &tv);
}

static void
wake_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    int todo = agent_core_run(a->core, clock_mono_us());
    if (todo & AGENT_CORE_CLOSE_CHAN) {
        agent_chan_close(a, "controller silent", NULL);
    }
    if (todo & AGENT_CORE_CLOSE_OF) {
        agent_of_close(a, strerror(ETIMEDOUT));
    }
    agent_flush(a);
}

/* ---- Loop stalls ---- */

/* The probe runs every STALL_PROBE_MS; how late it runs after its due
 * time is how long something else held the loop.  A stall of d ms is
 * seen whenever it covers a due time: always when d >= STALL_PROBE_MS. */
#define STALL_PROBE_MS 20

const uint64_t agent_stall_le_us[AGENT_STALL_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000,
};

void
agent_stall_add(struct stall_hist *h, uint64_t us)
{
    for (size_t i = 0; i < AGENT_STALL_BUCKETS; i++) {
        if (us <= agent_stall_le_us[i]) {
            h->le[i]++;
        }
    }
    h->count++;
    h->sum_us += us;
    if (us > h->max_us) {
        h->max_us = us;
    }
}

static void
stall_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    uint64_t now = clock_mono_us();
    agent_stall_add(&a->stall,
                    now > a->stall_due_us ? now - a->stall_due_us : 0);
    a->stall_due_us = now + STALL_PROBE_MS * 1000;
    agent_arm_ms(a->stall_timer, STALL_PROBE_MS);
}

static void
signal_cb(evutil_socket_t sig, short what, void *aux)
{
    struct agent *a = aux;
    (void) what;
    if (sig == SIGHUP) {
        agent_reload(a);
        return;
    }
    log_write(LOG_INF, "agent", "event=stopping node=%s signal=%d",
              a->opt.node, (int) sig);
    sdnotify("STOPPING=1");
    event_base_loopexit(a->base, NULL);
}

/* --controller and --gateway: one address each, or one per replica of
 * mignetd.  Every controller must be HOST:PORT and every gateway an
 * http:// URL: the poll is plain evhttp, which reconnects for every poll;
 * libevent 2.1 cannot reuse a TLS bufferevent across reconnections, so
 * https is refused rather than polled in clear or half-working.  0, or
 * EINVAL with a message. */
static int
agent_peers_parse(struct agent *a, const struct agent_options *opt,
                  char *err, size_t errlen)
{
    char why[128], host[256], port[8];
    if (addr_list_parse(&a->ctls, opt->controller, why, sizeof why)) {
        snprintf(err, errlen, "--controller: %s", why);
        return EINVAL;
    }
    for (size_t i = 0; i < a->ctls.n; i++) {
        if (!sock_split_hostport(a->ctls.item[i], host, sizeof host, port,
                                 sizeof port)) {
            snprintf(err, errlen, "--controller: '%s' is not HOST:PORT",
                     a->ctls.item[i]);
            return EINVAL;
        }
    }
    if (addr_list_parse(&a->gws, opt->gateway, why, sizeof why)) {
        snprintf(err, errlen, "--gateway: %s", why);
        return EINVAL;
    }
    for (size_t i = 0; i < a->gws.n; i++) {
        if (http_url_parse(a->gws.item[i], &a->gw, why, sizeof why)) {
            snprintf(err, errlen, "--gateway: %s", why);
            return EINVAL;
        }
        if (a->gw.tls) {
            snprintf(err, errlen, "--gateway: https:// is not supported by "
                     "mignet-agent's map poll; give the gateway's http:// "
                     "address (a loopback or management-network listener)");
            return EINVAL;
        }
    }
    a->gw_index = 0;
    http_url_parse(a->gws.item[0], &a->gw, why, sizeof why);
    a->gw_url = a->gws.item[0];
    return 0;
}

/* Whether a controller or gateway is given by name (evdns needed). */
static bool
agent_peers_named(struct agent *a)
{
    char host[256], port[8], why[160];
    struct http_url u;
    for (size_t i = 0; i < a->ctls.n; i++) {
        if (sock_split_hostport(a->ctls.item[i], host, sizeof host, port,
                                sizeof port)
            && !sock_host_numeric(host)) {
            return true;
        }
    }
    for (size_t i = 0; i < a->gws.n; i++) {
        if (!http_url_parse(a->gws.item[i], &u, why, sizeof why)
            && !sock_host_numeric(u.host)) {
            return true;
        }
    }
    return false;
}

/* The HTTP connection the polls use, to 'gw'. */
static void
gw_conn_new(struct agent *a)
{
    a->gw_conn = evhttp_connection_base_new(a->base, a->dns, a->gw.host,
                                            (uint16_t) atoi(a->gw.port));
    evhttp_connection_set_timeout(a->gw_conn, POLL_TIMEOUT_MS / 1000);
    evhttp_connection_set_retries(a->gw_conn, 0);
    evhttp_connection_set_max_body_size(a->gw_conn, HTTP_MAX_BODY);
    evhttp_connection_set_max_headers_size(a->gw_conn, HTTP_MAX_HEADER);
}

void
agent_gateway_select(struct agent *a, size_t index)
{
    char why[160];
    if (index >= a->gws.n || index == a->gw_index) {
        return;
    }
    if (a->poll_req) {
        /* A poll to the replica left behind ends now; the next one goes
         * to the new URL. */
        evhttp_cancel_request(a->poll_req);
        a->poll_req = NULL;
        event_del(a->poll_deadline);
        agent_arm_ms(a->poll_timer, 1);
    }
    evhttp_connection_free(a->gw_conn);
    a->gw_index = index;
    a->gw_url = a->gws.item[index];
    http_url_parse(a->gw_url, &a->gw, why, sizeof why); /* checked at start */
    gw_conn_new(a);
    log_write(LOG_INF, "agent", "event=gateway_selected node=%s gateway=%s",
              a->opt.node, a->gw_url);
}

int
agent_run(const struct agent_options *opt)
{
    struct agent *a = xcalloc(1, sizeof *a);
    a->opt = *opt;
    char err[320];
    if (agent_peers_parse(a, opt, err, sizeof err)) {
        fprintf(stderr, "mignet-agent: %s\n", err);
        free(a);
        return 2;
    }
    struct agent_core_options copt = {
        .node = opt->node,
        .tunnel_port = opt->tunnel_port,
        .dhcp_snoop = opt->dhcp_snoop,
        .wall_offset_ms = clock_wall_ms() - clock_mono_ms(),
        .ovsdb = opt->ovsdb != NULL,
        .vnet_stats_ms = opt->vnet_stats_ms,
    };
    a->core = agent_core_create(&copt, clock_mono_us());
    if (!a->core) {
        fprintf(stderr, "mignet-agent: invalid node id '%s'\n", opt->node);
        free(a);
        return 2;
    }
    if (opt->token_file
        && agent_token_read(opt->token_file, a->token, err, sizeof err)) {
        fprintf(stderr, "mignet-agent: --token-file: %s\n", err);
        agent_core_destroy(a->core);
        free(a);
        return 2;
    }
    chan_client_set_token(a->core->chan, a->token);
    if (opt->tls_ca) {
        a->chan_tls = agent_tls_client_ctx(opt->tls_ca, opt->tls_cert,
                                           opt->tls_key, err, sizeof err);
        if (!a->chan_tls) {
            fprintf(stderr, "mignet-agent: %s\n", err);
            agent_core_destroy(a->core);
            free(a);
            return 2;
        }
    }
    a->rng = opt->seed ? opt->seed : (uint64_t) hash_str(opt->node) | 1;
    signal(SIGPIPE, SIG_IGN);
    a->base = event_base_new();
    a->wake = evtimer_new(a->base, wake_cb, a);
    a->chan_retry = evtimer_new(a->base, agent_chan_connect, a);
    a->of_retry = evtimer_new(a->base, agent_of_connect, a);
    a->ovsdb_retry = evtimer_new(a->base, agent_ovsdb_connect, a);
    a->poll_timer = evtimer_new(a->base, poll_cb, a);
    a->poll_deadline = evtimer_new(a->base, poll_deadline_cb, a);
    a->stall_timer = evtimer_new(a->base, stall_cb, a);
    /* Host names are resolved by evdns, never by a blocking getaddrinfo();
     * numeric addresses need no resolver, so the system's name servers
     * are read (and asked) only when a peer is given by name. */
    bool named = agent_peers_named(a);
    if (named) {
        a->dns = evdns_base_new(a->base, EVDNS_BASE_INITIALIZE_NAMESERVERS
                                         | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (!a->dns) {
            a->dns = evdns_base_new(a->base, 0);
        }
    }
    gw_conn_new(a);
    a->stats_timer = evtimer_new(a->base, agent_stats_cb, a);
    a->sig_term = evsignal_new(a->base, SIGTERM, signal_cb, a);
    a->sig_int = evsignal_new(a->base, SIGINT, signal_cb, a);
    event_add(a->sig_term, NULL);
    event_add(a->sig_int, NULL);
    a->sig_hup = evsignal_new(a->base, SIGHUP, signal_cb, a);
    event_add(a->sig_hup, NULL);
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
        evhttp_set_cb(a->http, "/metrics", agent_metrics_cb, a);
    }
    agent_of_connect(-1, 0, a);
    agent_ovsdb_connect(-1, 0, a);
    agent_chan_connect(-1, 0, a);
    agent_arm_ms(a->poll_timer, 1);
    a->stall_due_us = clock_mono_us() + STALL_PROBE_MS * 1000;
    agent_arm_ms(a->stall_timer, STALL_PROBE_MS);
    agent_arm_ms(a->stats_timer, opt->stats_ms);
    printf("mignet-agent ready node=%s controller=%s gateway=%s ofp=%s\n",
           opt->node, opt->controller, opt->gateway, opt->ofp);
    fflush(stdout);
    sdnotifyf("READY=1\nSTATUS=node %s, controller %s", opt->node,
              opt->controller);
    event_base_dispatch(a->base);
out:
    if (a->chan_bev) {
        bufferevent_free(a->chan_bev);
    }
    if (a->chan_pend) {
        bufferevent_free(a->chan_pend);
    }
    if (a->of_bev) {
        bufferevent_free(a->of_bev);
    }
    agent_ovsdb_stop(a);
    if (a->gw_conn) {
        evhttp_connection_free(a->gw_conn); /* drops a poll in flight */
    }
    if (a->http) {
        evhttp_free(a->http);
    }
    event_free(a->wake);
    event_free(a->chan_retry);
    event_free(a->of_retry);
    event_free(a->poll_timer);
    event_free(a->poll_deadline);
    free(a->poll_body);
    event_free(a->stall_timer);
    if (a->dns) {
        evdns_base_free(a->dns, 0);
    }
    event_free(a->stats_timer);
    event_free(a->sig_term);
    event_free(a->sig_int);
    event_free(a->sig_hup);
    event_base_free(a->base);
    agent_core_destroy(a->core);
    SSL_CTX_free(a->chan_tls);
    free(a);
    return rc;
}
