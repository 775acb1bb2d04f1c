/* mignet-test-agent: a node agent for tests only.  It dials mignetd's agent
 * port, speaks the agent channel (docs/agent-protocol.md) through the same
 * chan_client code a real agent uses, optionally polls the gateway, and
 * records everything: a log line per message (--log) and its held state as
 * JSON, rewritten after every change (--state).
 *
 * It programs nothing and must never be deployed as a real agent; it never
 * sends anything the protocol does not define. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent_map.h"
#include "agent/map_push.h"
#include "agent/chan_client.h"
#include "lib/addr.h"
#include "lib/addr_list.h"
#include "mignet/model.h"
#include "lib/http_client.h"
#include "agent/credentials.h"
#include "lib/sock.h"
#include "lib/stopflag.h"
#include "lib/strbuf.h"

struct options {
    /* HOST:PORT[,HOST:PORT...] of the agent channel: replicas, tried in
     * turn; a 'not_leader' answer moves to the leader it names. */
    const char *controller;
    const char *node;
    const char *log_file;
    const char *state_file;
    const char *gateway; /* http://HOST:PORT */
    uint32_t refresh_ms; /* 0: do not poll */
    const char *tls_ca;
    const char *tls_name;
    const char *tls_cert, *tls_key; /* the node's client certificate */
    const char *token_file;         /* the node's token */
    uint32_t reconnect_ms;
    bool no_ack;
    bool nack;      /* nack every instruction with this OpenFlow error */
    uint16_t nack_type, nack_code;
    bool report;
    bool refresh_msg; /* report refreshes by message, not by the poll */
    bool once;
    bool subscribe; /* map push: subscribe, apply, acknowledge */
};

struct agent {
    struct options opt;
    struct chan_client *chan;
    FILE *log;

    /* Connection. */
    int fd;
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    char host[256], port[8];
    struct addr_list ctls; /* --controller */
    bool not_leader;       /* the session ended with 'not_leader' */
    struct strbuf out;

    /* Gateway. */
    struct http_url gateway;
    /* The node's token ("" for none): in hello, and as the bearer of the
     * map polls with node=, which then acknowledge (docs/mignetd.md). */
    char token[CHAN_TOKEN_MAX + 1];
    uint64_t polls, poll_errors;
    struct agent_map *map; /* the same copy of the gateway map the real
                            * agent keeps */
    struct map_push *push; /* --subscribe */

    /* Protocol violations seen, last few kept for the state file. */
    char violations[8][200];
    size_t n_violations;
    bool state_dirty;
};

/* ---- Recording ---- */

static void
log_line(struct agent *a, const char *kind, const char *text, size_t len)
{
    if (!a->log) {
        return;
    }
    while (len && (text[len - 1] == '\r' || text[len - 1] == '\n')) {
        len--;
    }
    fprintf(a->log, "%s ", kind);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];
        fputc(c < 0x20 || c == 0x7f ? '?' : c, a->log);
    }
    fputc('\n', a->log);
    fflush(a->log);
}

static void
log_event(struct agent *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
log_event(struct agent *a, const char *fmt, ...)
{
    char text[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    log_line(a, "event", text, strlen(text));
}

static json_t *
entry_json(const struct chan_entry *e)
{
    char mac[ADDR_MAC_STRLEN], ip[ADDR_IPV4_STRLEN];
    addr_format_mac(e->config.mac, mac);
    addr_format_ipv4(e->config.ip, ip);
    json_t *relay = json_null();
    if (e->relay) {
        relay = json_pack("{s:s, s:s, s:I}", "target", e->target,
                          "target_address", e->target_address,
                          "target_epoch", (json_int_t) e->target_epoch);
    }
    return json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:o}", "vm", e->vm,
                     "epoch", (json_int_t) e->epoch, "mac", mac, "ip", ip,
                     "vni", (json_int_t) e->config.vni, "vlan",
                     (json_int_t) e->config.vlan, "port",
                     (json_int_t) e->config.port, "relay", relay);
}

/* Rewrites the state file atomically (write a temporary file, rename). */
static void
write_state(struct agent *a)
{
    a->state_dirty = false;
    if (!a->opt.state_file) {
        return;
    }
    struct chan_client_stats st;
    chan_client_get_stats(a->chan, &st);

    json_t *entries = json_array();
    for (size_t i = 0; i < chan_client_n_entries(a->chan); i++) {
        json_array_append_new(entries,
                              entry_json(chan_client_entry(a->chan, i)));
    }
    json_t *map = json_array();
    for (size_t i = 0; i < agent_map_count(a->map); i++) {
        const struct amap_entry *m = agent_map_entry(a->map, i);
        json_array_append_new(map, json_pack("{s:s, s:s, s:I}", "vm",
                                             m->vm, "node", m->node,
                                             "epoch",
                                             (json_int_t) m->epoch));
    }
    json_t *violations = json_array();
    size_t kept = a->n_violations < 8 ? a->n_violations : 8;
    for (size_t i = 0; i < kept; i++) {
        json_array_append_new(violations, json_string(a->violations[i]));
    }
    json_t *root = json_pack(
        "{s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
        " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
        "node", a->opt.node, "connected", a->fd >= 0, "welcomed",
        chan_client_welcomed(a->chan), "in_resync",
        chan_client_in_resync(a->chan), "sessions",
        (json_int_t) st.sessions, "welcome_map_version",
        (json_int_t) st.map_version, "heartbeat_ms",
        (json_int_t) st.heartbeat_ms, "last_seq", (json_int_t) st.last_seq,
        "acked_seq", (json_int_t) st.acked_seq, "nacked_seq",
        (json_int_t) st.nacked_seq, "nacks", (json_int_t) st.nacks,
        "installs",
        (json_int_t) st.installs, "relays", (json_int_t) st.relays,
        "deletes", (json_int_t) st.deletes, "refused",
        (json_int_t) st.refused, "resyncs", (json_int_t) st.resyncs,
        "errors", (json_int_t) st.errors, "violation_count",
        (json_int_t) st.violations, "map_version",
        (json_int_t) agent_map_version(a->map), "polls", (json_int_t) a->polls,
        "violations", violations, "entries", entries, "map", map);

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", a->opt.state_file);
    if (!root || json_dump_file(root, tmp, JSON_INDENT(1) | JSON_SORT_KEYS)
        || rename(tmp, a->opt.state_file)) {
        fprintf(stderr, "mignet-test-agent: cannot write %s: %s\n",
                a->opt.state_file, strerror(errno));
    }
    json_decref(root);
}

static void
hook_received(void *aux, const char *line, size_t len,
              const struct chan_msg *msg, enum chan_err e)
{
    struct agent *a = aux;
    if (msg) {
        log_line(a, "recv", line, len);
        if (a->push) {
            /* No flows to confirm: a push applied is acknowledged at
             * once (unless --no-ack). */
            char why[160];
            uint64_t now = (uint64_t) sock_now_ms();
            enum map_push_result r = map_push_receive(a->push, a->map, msg,
                                                      why, sizeof why);
            if (r == MAP_PUSH_APPLIED && !a->opt.no_ack) {
                map_push_confirmed(a->push, a->chan, a->map,
                                   agent_map_version(a->map), now, &a->out);
            } else if (r == MAP_PUSH_REFUSED) {
                log_event(a, "push_refused %s", why);
            }
        }
    } else {
        char kind[64];
        snprintf(kind, sizeof kind, "recv-bad %s", chan_err_code(e));
        log_line(a, kind, line, len > 300 ? 300 : len);
    }
    a->state_dirty = true; /* counters changed */
}

static void
hook_sent(void *aux, const struct chan_msg *msg)
{
    struct agent *a = aux;
    struct strbuf sb;
    strbuf_init(&sb);
    if (!chan_msg_encode(msg, &sb)) {
        log_line(a, "send", sb.data, sb.len);
    }
    strbuf_destroy(&sb);
}

static void
hook_state_changed(void *aux)
{
    struct agent *a = aux;
    a->state_dirty = true;
}

static void
hook_violation(void *aux, const char *what)
{
    struct agent *a = aux;
    log_event(a, "violation %s", what);
    if (a->n_violations < 8) {
        snprintf(a->violations[a->n_violations], sizeof a->violations[0],
                 "%s", what);
    }
    a->n_violations++;
    a->state_dirty = true;
}

/* ---- Connection ---- */

/* host and port from the controller address in use. */
static bool
ctl_select(struct agent *a)
{
    return sock_split_hostport(addr_list_current(&a->ctls), a->host,
                               sizeof a->host, a->port, sizeof a->port);
}

/* The address in use failed: the leader a 'not_leader' named, else the
 * next. */
static void
ctl_next(struct agent *a)
{
    if (a->ctls.n > 1) {
        addr_list_next(&a->ctls, a->not_leader ? chan_client_leader(a->chan)
                                               : NULL);
        ctl_select(a);
    }
    a->not_leader = false;
}

static void
conn_close(struct agent *a, const char *why)
{
    if (a->fd < 0) {
        return;
    }
    if (a->ssl) {
        SSL_shutdown(a->ssl);
        SSL_free(a->ssl);
        a->ssl = NULL;
    }
    close(a->fd);
    a->fd = -1;
    strbuf_clear(&a->out);
    chan_client_disconnected(a->chan);
    log_event(a, "disconnected %s", why);
    ctl_next(a);
    a->state_dirty = true;
}

/* Runs the TLS handshake on the connected non-blocking socket. */
static int
tls_handshake(struct agent *a, int64_t deadline, char *err, size_t errlen)
{
    a->ssl = SSL_new(a->ssl_ctx);
    if (!a->ssl) {
        snprintf(err, errlen, "SSL_new failed");
        return EPROTO;
    }
    SSL_set_fd(a->ssl, a->fd);
    const char *name = a->opt.tls_name ? a->opt.tls_name : a->host;
    SSL_set_tlsext_host_name(a->ssl, name);
    X509_VERIFY_PARAM *param = SSL_get0_param(a->ssl);
    if (!X509_VERIFY_PARAM_set1_ip_asc(param, name)) {
        X509_VERIFY_PARAM_set1_host(param, name, 0);
    }
    for (;;) {
        int r = SSL_connect(a->ssl);
        if (r == 1) {
            return 0;
        }
        int why = SSL_get_error(a->ssl, r);
        short events = why == SSL_ERROR_WANT_READ    ? POLLIN
                       : why == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                     : 0;
        if (!events) {
            snprintf(err, errlen, "TLS handshake failed: %s",
                     ERR_reason_error_string(ERR_get_error()));
            return EPROTO;
        }
        if (sock_wait(a->fd, events, deadline)) {
            snprintf(err, errlen, "TLS handshake timed out");
            return ETIMEDOUT;
        }
    }
}

static bool
conn_open(struct agent *a, uint64_t now)
{
    char err[256];
    int error = sock_connect(a->host, a->port, 5000, &a->fd, err,
                             sizeof err);
    if (!error && a->ssl_ctx) {
        error = tls_handshake(a, sock_now_ms() + 5000, err, sizeof err);
        if (error) {
            SSL_free(a->ssl);
            a->ssl = NULL;
            close(a->fd);
        }
    }
    if (error) {
        a->fd = -1;
        log_event(a, "connect-failed %s", err);
        ctl_next(a);
        return false;
    }
    addr_list_succeeded(&a->ctls);
    log_event(a, "connected %s:%s%s", a->host, a->port,
              a->ssl ? " tls" : "");
    chan_client_connected(a->chan, now, &a->out);
    if (a->push) {
        map_push_session(a->push);
    }
    a->state_dirty = true;
    return true;
}

/* Reads what is available.  Returns bytes read, 0 on EOF, -1 on error,
 * -2 when nothing is available yet. */
static ssize_t
conn_read(struct agent *a, char *buf, size_t size)
{
    if (a->ssl) {
        int n = SSL_read(a->ssl, buf, (int) size);
        if (n > 0) {
            return n;
        }
        int why = SSL_get_error(a->ssl, n);
        if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
            return -2;
        }
        return why == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    ssize_t n = recv(a->fd, buf, size, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return -2;
    }
    return n;
}

/* Sends all of a->out, waiting at most a few seconds. */
static bool
conn_flush(struct agent *a)
{
    int64_t deadline = sock_now_ms() + 5000;
    while (a->fd >= 0 && a->out.len) {
        ssize_t n;
        short wait_for = POLLOUT;
        if (a->ssl) {
            int r = SSL_write(a->ssl, a->out.data, (int) a->out.len);
            n = r;
            if (r <= 0) {
                int why = SSL_get_error(a->ssl, r);
                if (why != SSL_ERROR_WANT_READ
                    && why != SSL_ERROR_WANT_WRITE) {
                    return false;
                }
                wait_for = why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
                n = -2;
            }
        } else {
            n = send(a->fd, a->out.data, a->out.len, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK
                    && errno != EINTR) {
                    return false;
                }
                n = -2;
            }
        }
        if (n > 0) {
            strbuf_consume(&a->out, (size_t) n);
        } else if (sock_wait(a->fd, wait_for, deadline)) {
            return false;
        }
    }
    return true;
}

/* ---- Gateway ---- */

/* Polls GET /v1/map?since=V&node=ID (which reports the version held), or
 * with --refresh-msg polls without 'node' and sends 'refresh {version}';
 * either way the controller sees one refresh per poll. */
static void
poll_gateway(struct agent *a, uint64_t now)
{
    struct strbuf path;
    strbuf_init(&path);
    strbuf_puts(&path, "/v1/map?");
    /* since=0 (nothing held yet) asks for the full map. */
    strbuf_printf(&path, "since=%llu&",
                  (unsigned long long) agent_map_version(a->map));
    if (!a->opt.refresh_msg) {
        /* The poll itself acknowledges the version and counts as a
         * refresh observation. */
        strbuf_puts(&path, "node=");
        http_escape(&path, a->opt.node);
    }

    struct http_response resp;
    char err[256];
    http_response_init(&resp);
    int timeout = a->opt.refresh_ms < 2000 ? 2000 : (int) a->opt.refresh_ms;
    struct http_opts hopts = {
        .token = a->token[0] ? a->token : NULL,
        .cacert = a->opt.tls_ca,
    };
    enum http_err e = http_request_opts(&a->gateway, &hopts, "GET",
                                        strbuf_str(&path), NULL, 0, timeout,
                                        &resp, err, sizeof err);
    char why[160] = "";
    if (e || resp.status != 200
        || agent_map_apply(a->map, resp.body, resp.body_len, why,
                           sizeof why)) {
        a->poll_errors++;
        log_event(a, "poll-failed %s status=%d",
                  e ? err : why[0] ? why : "bad answer",
                  e ? 0 : resp.status);
    } else {
        a->polls++;
        log_event(a, "poll version=%llu entries=%zu",
                  (unsigned long long) agent_map_version(a->map),
                  agent_map_count(a->map));
        if (a->opt.refresh_msg) {
            chan_client_refreshed(a->chan, agent_map_version(a->map), now,
                                  &a->out);
        }
        a->state_dirty = true;
    }
    http_response_destroy(&resp);
    strbuf_destroy(&path);
}

/* ---- Main loop ---- */

static int
run(struct agent *a)
{
    int64_t reconnect_at = 0, next_poll = 0;
    bool ever_connected = false;

    while (!stopflag_raised()) {
        int64_t now = sock_now_ms();
        if (a->fd < 0 && ever_connected && a->opt.once) {
            return 1;
        }
        if (a->fd < 0 && now >= reconnect_at) {
            if (conn_open(a, (uint64_t) now)) {
                ever_connected = true;
            } else if (a->opt.once) {
                return 1;
            }
            reconnect_at = now + a->opt.reconnect_ms;
        }
        if (a->opt.refresh_ms && now >= next_poll) {
            poll_gateway(a, (uint64_t) now);
            next_poll = now + a->opt.refresh_ms;
        }
        if (a->fd >= 0) {
            int error = chan_client_run(a->chan, (uint64_t) now, &a->out);
            if (error || !conn_flush(a)) {
                conn_close(a, error ? "heartbeat-timeout" : "write-failed");
            }
        }
        if (a->state_dirty) {
            write_state(a);
        }

        /* Sleep until the next thing to do. */
        int64_t wake = a->fd >= 0 ? (int64_t) chan_client_next_wake(a->chan)
                                  : reconnect_at;
        if (a->opt.refresh_ms && next_poll < wake) {
            wake = next_poll;
        }
        int64_t wait = wake - sock_now_ms();
        wait = wait < 0 ? 0 : wait > 1000 ? 1000 : wait;
        if (a->ssl && SSL_pending(a->ssl)) {
            wait = 0;
        }
        struct pollfd pfd = {.fd = a->fd, .events = POLLIN};
        int n = poll(&pfd, a->fd >= 0 ? 1 : 0, (int) wait);
        if (n <= 0 && !(a->ssl && SSL_pending(a->ssl))) {
            continue;
        }

        char buf[16384];
        for (;;) {
            ssize_t got = conn_read(a, buf, sizeof buf);
            if (got == -2) {
                break;
            }
            if (got <= 0) {
                conn_close(a, got == 0 ? "closed-by-peer" : "read-failed");
                break;
            }
            int error = chan_client_receive(a->chan, buf, (size_t) got,
                                            (uint64_t) sock_now_ms(),
                                            &a->out);
            if (!error && a->push) {
                map_push_run(a->push, a->chan, a->map,
                             (uint64_t) sock_now_ms(), &a->out);
            }
            if (!error && a->opt.nack) {
                /* As if Open vSwitch refused every flow they imply. */
                chan_client_nack(a->chan, chan_client_pending_ack(a->chan),
                                 a->opt.nack_type, a->opt.nack_code,
                                 (uint64_t) sock_now_ms(), &a->out);
            }
            if (!conn_flush(a)) {
                conn_close(a, "write-failed");
                break;
            }
            if (error) {
                a->not_leader = error == EREMCHG;
                conn_close(a, strerror(error));
                break;
            }
        }
        if (a->state_dirty) {
            write_state(a);
        }
    }
    return 0;
}

static void
usage(FILE *stream)
{
    fprintf(stream,
            "Usage: mignet-test-agent --controller HOST:PORT[,...] --node ID "
            "[options]\n"
            "A node agent for tests: speaks the agent channel and records "
            "what it is told.\n\n"
            "  --controller HOST:PORT[,HOST:PORT...]  mignetd's agent port, or its replicas' (required)\n"
            "  --node ID               node id, registered with mignetd "
            "(required)\n"
            "  --log FILE              log a line per message "
            "('recv JSON', 'send JSON')\n"
            "                          and per event ('event ...')\n"
            "  --state FILE            held state as JSON, rewritten after "
            "each change\n"
            "  --gateway URL           gateway, e.g. http://127.0.0.1:7480\n"
            "  --refresh-ms MS         poll the gateway every MS ms "
            "(0: never; default 0)\n"
            "  --refresh-msg           report refreshes with 'refresh' "
            "messages instead of\n"
            "                          polling with node=ID\n"
            "  --tls-ca FILE           use TLS, trusting the CAs in FILE\n"
            "  --tls-name NAME         name to verify in the controller's "
            "certificate\n"
            "  --tls-cert FILE         client certificate (CN = node id) "
            "with --tls-key FILE\n"
            "  --token-file FILE       the node's token (from POST "
            "/v1/nodes), sent in hello\n"
            "                          and as the bearer of map polls "
            "(without it a poll\n"
            "                          with node=ID acknowledges nothing); "
            "an https gateway\n"
            "                          is verified against --tls-ca\n"
            "  --reconnect-ms MS       wait between connection attempts "
            "(default 200)\n"
            "  --no-ack                never acknowledge instructions "
            "(nor pushed map versions)\n"
            "  --subscribe             subscribe to map push; acknowledge "
            "each push applied\n"
            "  --nack TYPE,CODE        nack every instruction with this "
            "OpenFlow error\n"
            "                          (as if Open vSwitch refused its "
            "flows)\n"
            "  --report                report held entries after each "
            "welcome\n"
            "  --once                  exit 1 when the session ends "
            "instead of reconnecting\n"
            "Stops cleanly on SIGTERM/SIGINT (exit 0).\n");
}

static bool
parse_ms(const char *s, uint32_t *out)
{
    uint64_t v;
    if (!addr_parse_u64(s, 0, 3600000, &v)) {
        return false;
    }
    *out = (uint32_t) v;
    return true;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"controller", required_argument, NULL, 'c'},
        {"node", required_argument, NULL, 'n'},
        {"log", required_argument, NULL, 'l'},
        {"state", required_argument, NULL, 's'},
        {"gateway", required_argument, NULL, 'g'},
        {"refresh-ms", required_argument, NULL, 'r'},
        {"tls-ca", required_argument, NULL, 'a'},
        {"tls-name", required_argument, NULL, 'N'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'k'},
        {"token-file", required_argument, NULL, 'T'},
        {"reconnect-ms", required_argument, NULL, 'R'},
        {"no-ack", no_argument, NULL, 'A'},
        {"nack", required_argument, NULL, 'K'},
        {"report", no_argument, NULL, 'P'},
        {"refresh-msg", no_argument, NULL, 'M'},
        {"once", no_argument, NULL, 'o'},
        {"subscribe", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->reconnect_ms = 200;
    for (;;) {
        int c = getopt_long(argc, argv, "h", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'c': o->controller = optarg; break;
        case 'n': o->node = optarg; break;
        case 'l': o->log_file = optarg; break;
        case 's': o->state_file = optarg; break;
        case 'g': o->gateway = optarg; break;
        case 'a': o->tls_ca = optarg; break;
        case 'N': o->tls_name = optarg; break;
        case 'C': o->tls_cert = optarg; break;
        case 'k': o->tls_key = optarg; break;
        case 'T': o->token_file = optarg; break;
        case 'A': o->no_ack = true; break;
        case 'K': {
            unsigned t, k;
            char end;
            if (sscanf(optarg, "%u,%u%c", &t, &k, &end) != 2 || t > 65535
                || k > 65535) {
                fprintf(stderr, "--nack: TYPE,CODE (0-65535 each)\n");
                return 2;
            }
            o->nack = true;
            o->nack_type = (uint16_t) t;
            o->nack_code = (uint16_t) k;
            break;
        }
        case 'P': o->report = true; break;
        case 'M': o->refresh_msg = true; break;
        case 'o': o->once = true; break;
        case 'S': o->subscribe = true; break;
        case 'r':
            if (!parse_ms(optarg, &o->refresh_ms)) {
                fprintf(stderr, "--refresh-ms: 0 to 3600000\n");
                return 2;
            }
            break;
        case 'R':
            if (!parse_ms(optarg, &o->reconnect_ms) || !o->reconnect_ms) {
                fprintf(stderr, "--reconnect-ms: 1 to 3600000\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !o->controller || !o->node) {
        usage(stderr);
        return 2;
    }
    if (!mn_name_valid(o->node)) {
        fprintf(stderr, "--node: 1-63 characters of [A-Za-z0-9._:-]\n");
        return 2;
    }
    if ((o->tls_cert || o->tls_key) && !o->tls_ca) {
        fprintf(stderr, "--tls-cert and --tls-key need --tls-ca\n");
        return 2;
    }
    if (o->refresh_ms && !o->gateway) {
        fprintf(stderr, "--refresh-ms needs --gateway URL\n");
        return 2;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct agent a = {0};
    int rc = parse_options(argc, argv, &a.opt);
    if (rc) {
        return rc < 0 ? 0 : rc;
    }
    a.fd = -1;
    strbuf_init(&a.out);
    char lerr[128];
    if (addr_list_parse(&a.ctls, a.opt.controller, lerr, sizeof lerr)
        || !ctl_select(&a)) {
        fprintf(stderr, "--controller: HOST:PORT expected, not '%s'\n",
                a.opt.controller);
        return 2;
    }
    char err[256];
    if (a.opt.gateway
        && http_url_parse(a.opt.gateway, &a.gateway, err, sizeof err)) {
        fprintf(stderr, "--gateway: %s\n", err);
        return 2;
    }
    if (a.opt.token_file
        && agent_token_read(a.opt.token_file, a.token, err, sizeof err)) {
        fprintf(stderr, "--token-file: %s\n", err);
        return 2;
    }
    if (a.opt.tls_ca) {
        a.ssl_ctx = agent_tls_client_ctx(a.opt.tls_ca, a.opt.tls_cert,
                                         a.opt.tls_key, err, sizeof err);
        if (!a.ssl_ctx) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
    }
    if (a.opt.log_file) {
        a.log = fopen(a.opt.log_file, "a");
        if (!a.log) {
            fprintf(stderr, "--log: %s: %s\n", a.opt.log_file,
                    strerror(errno));
            SSL_CTX_free(a.ssl_ctx);
            return 2;
        }
    }
    struct chan_client_hooks hooks = {
        .received = hook_received,
        .sent = hook_sent,
        .state_changed = hook_state_changed,
        .violation = hook_violation,
        .aux = &a,
    };
    a.map = agent_map_create();
    a.push = a.opt.subscribe ? map_push_create() : NULL;
    a.chan = chan_client_create(a.opt.node, &hooks);
    chan_client_set_ack(a.chan, !a.opt.no_ack && !a.opt.nack);
    chan_client_set_report(a.chan, a.opt.report);
    chan_client_set_token(a.chan, a.token); /* agent_token_read checked */

    stopflag_install();
    signal(SIGPIPE, SIG_IGN);

    log_event(&a, "start node=%s", a.opt.node);
    write_state(&a);
    rc = run(&a);
    conn_close(&a, "stopping");
    write_state(&a);
    log_event(&a, "stop");

    chan_client_destroy(a.chan);
    SSL_CTX_free(a.ssl_ctx);
    strbuf_destroy(&a.out);
    agent_map_destroy(a.map);
    map_push_destroy(a.push);
    if (a.log) {
        fclose(a.log);
    }
    return rc;
}
