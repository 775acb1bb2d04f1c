/* agent_chan.c: the agent channel's socket in mignet-agent (shell).
 *
 * The core (agent_core.h, chan_client inside) does the protocol; this
 * file connects to mignetd without blocking the loop
 * (bufferevent_socket_connect), over TLS with --tls-ca (the
 * controller's certificate checked against the CA and the host named in
 * --controller; the node's certificate sent with --tls-cert), feeds the
 * core what arrives, writes out what it queues and reconnects after a
 * close.  With several --controller addresses (mignetd's replicas) it
 * follows the leader: after a failed connect or a close it tries the
 * leader a replica named in 'not_leader', or the next address, at once,
 * and waits --reconnect-ms only once every address failed in a row
 * (lib/addr_list.h); a welcome ends such a streak. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent-private.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/sock.h"

void
agent_chan_flush(struct agent *a)
{
    struct strbuf *out = agent_core_chan_output(a->core);
    if (a->chan_bev && out->len) {
        bufferevent_write(a->chan_bev, out->data, out->len);
    }
    strbuf_clear(out);
}

static void
chan_read_cb(struct bufferevent *bev, void *aux)
{
    struct agent *a = aux;
    struct evbuffer *in = bufferevent_get_input(bev);
    char buf[16384];
    size_t n;
    while ((n = evbuffer_remove(in, buf, sizeof buf)) > 0) {
        int err = agent_core_chan_receive(a->core, buf, n, clock_mono_us());
        if (err == EREMCHG) {
            const char *leader = chan_client_leader(a->core->chan);
            char why[CHAN_ADDRESS_MAX + 64];
            snprintf(why, sizeof why, "not the leader (leader: %s)",
                     *leader ? leader : "not known");
            agent_flush(a);
            agent_chan_close(a, why, leader);
            return;
        }
        if (err) {
            agent_flush(a);
            agent_chan_close(a, strerror(err), NULL);
            return;
        }
    }
    if (chan_client_welcomed(a->core->chan)) {
        addr_list_succeeded(&a->ctls);
    }
    agent_flush(a);
}

static void
chan_event_cb(struct bufferevent *bev, short what, void *aux)
{
    struct agent *a = aux;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        char why[160] = "error";
        unsigned long e = a->chan_tls ? bufferevent_get_openssl_error(bev)
                                      : 0;
        if (e) {
            ERR_error_string_n(e, why, sizeof why);
        }
        agent_chan_close(a, (what & BEV_EVENT_EOF) ? "closed by controller"
                                                   : why, NULL);
    }
}

/* The address in use failed: the next attempt goes to 'leader' if
 * listed, else to the next address (the gateway follows when there is
 * one URL per controller), at once unless every address failed in a
 * row. */
static void
chan_retry_next(struct agent *a, const char *leader)
{
    size_t was = addr_list_index(&a->ctls);
    bool back_off = addr_list_next(&a->ctls, leader);
    if (addr_list_index(&a->ctls) != was) {
        log_write(LOG_INF, "agent", "event=controller_selected node=%s "
                  "controller=%s previous=%s", a->opt.node,
                  addr_list_current(&a->ctls), a->ctls.item[was]);
        if (a->gws.n == a->ctls.n) {
            agent_gateway_select(a, addr_list_index(&a->ctls));
        }
    }
    agent_arm_ms(a->chan_retry, back_off ? a->opt.reconnect_ms : 0);
}

void
agent_chan_close(struct agent *a, const char *why, const char *leader)
{
    if (a->chan_bev) {
        log_write(LOG_WARN, "agent", "event=channel_closed node=%s "
                  "controller=%s reason=\"%s\"", a->opt.node,
                  addr_list_current(&a->ctls), why);
        bufferevent_free(a->chan_bev);
        a->chan_bev = NULL;
        agent_core_chan_disconnected(a->core, clock_mono_us());
        agent_flush(a);
    }
    chan_retry_next(a, leader);
}

/* The connect started by agent_chan_connect() ended: the session starts,
 * or the next attempt is armed. */
static void
chan_connect_cb(struct bufferevent *bev, short what, void *aux)
{
    struct agent *a = aux;
    if (!(what & BEV_EVENT_CONNECTED)) {
        int dns = bufferevent_socket_get_dns_error(bev);
        unsigned long tls = a->chan_tls ? bufferevent_get_openssl_error(bev)
                                        : 0;
        char tls_why[160] = "";
        if (tls) {
            ERR_error_string_n(tls, tls_why, sizeof tls_why);
        }
        /* Warn at the first failure of a streak, then every 30 s (and
         * always for TLS, a configuration error); debug in between. */
        uint64_t now = clock_mono_us();
        bool warn = tls || !a->chan_fail_streak++
                    || now - a->chan_warned_us >= 30000000ull;
        if (warn) {
            a->chan_warned_us = now;
        }
        log_write(warn ? LOG_WARN : LOG_DBG, "agent",
                  "event=channel_connect_failed node=%s "
                  "controller=%s failures=%" PRIu64 " reason=\"%s\"",
                  a->opt.node, addr_list_current(&a->ctls),
                  a->chan_fail_streak ? a->chan_fail_streak : 1,
                  tls ? tls_why
                  : dns ? evutil_gai_strerror(dns)
                  : (what & BEV_EVENT_TIMEOUT) ? "timed out"
                  : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        bufferevent_free(bev);
        a->chan_pend = NULL;
        chan_retry_next(a, NULL);
        return;
    }
    a->chan_pend = NULL;
    a->chan_bev = bev;
    bufferevent_set_timeouts(bev, NULL, NULL);
    bufferevent_setcb(bev, chan_read_cb, NULL, chan_event_cb, a);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    agent_core_chan_connected(a->core, clock_mono_us());
    agent_flush(a);
    log_write(LOG_INF, "agent", "event=channel_connected node=%s "
              "controller=%s failures=%" PRIu64, a->opt.node,
              addr_list_current(&a->ctls), a->chan_fail_streak);
    a->chan_fail_streak = 0;
}

/* A bufferevent for a new connection to 'host': plain, or TLS whose
 * handshake starts once connected. */
static struct bufferevent *
chan_bev_new(struct agent *a, const char *host)
{
    if (!a->chan_tls) {
        return bufferevent_socket_new(a->base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    SSL *ssl = SSL_new(a->chan_tls);
    if (!ssl) {
        return NULL;
    }
    SSL_set_tlsext_host_name(ssl, host);
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (!X509_VERIFY_PARAM_set1_ip_asc(param, host)) {
        X509_VERIFY_PARAM_set1_host(param, host, 0);
    }
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        a->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

/* Starts a non-blocking connect (names through evdns); chan_connect_cb
 * hears how it ends, after CHAN_CONNECT_TIMEOUT_MS at the latest. */
#define CHAN_CONNECT_TIMEOUT_MS 1000

void
agent_chan_connect(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    char host[256], port[8];
    if (a->chan_bev || a->chan_pend) {
        return; /* connected, or a connect is under way */
    }
    if (!sock_split_hostport(addr_list_current(&a->ctls), host, sizeof host,
                             port, sizeof port)) {
        log_write(LOG_ERROR, "agent", "event=bad_controller controller=%s",
                  addr_list_current(&a->ctls));
        chan_retry_next(a, NULL);
        return;
    }
    struct bufferevent *bev = chan_bev_new(a, host);
    if (!bev) {
        chan_retry_next(a, NULL);
        return;
    }
    struct timeval tv = {.tv_sec = CHAN_CONNECT_TIMEOUT_MS / 1000,
                         .tv_usec = (CHAN_CONNECT_TIMEOUT_MS % 1000) * 1000};
    bufferevent_set_timeouts(bev, NULL, &tv); /* the connect's deadline */
    bufferevent_setcb(bev, NULL, NULL, chan_connect_cb, a);
    a->chan_pend = bev;
    if (bufferevent_socket_connect_hostname(bev, a->dns, AF_UNSPEC, host,
                                            atoi(port))
        && a->chan_pend == bev) {
        /* Failed at once, and no callback has said so. */
        bufferevent_free(bev);
        a->chan_pend = NULL;
        chan_retry_next(a, NULL);
    }
}
