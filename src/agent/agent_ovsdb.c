/* agent_ovsdb.c: the socket to the node's ovsdb-server in mignet-agent
 * (shell), as ovn-controller keeps one: it lets the agent find a VM's
 * port by external_ids:iface-id.
 *
 * The core parses and decides (ovsdb_iface.c, sans I/O); this file
 * connects to --ovsdb unix:PATH without blocking, feeds the core what
 * arrives, writes what it queues, and reconnects after a close.  It never
 * waits on ovsdb-server in the loop. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent-private.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/ofconn.h"
#include "lib/strbuf.h"

void
agent_ovsdb_flush(struct agent *a)
{
    struct strbuf *out = agent_core_ovsdb_output(a->core);
    if (a->ovsdb_bev && a->ovsdb_up && out->len) {
        bufferevent_write(a->ovsdb_bev, out->data, out->len);
    }
    strbuf_clear(out);
}

static void
ovsdb_close(struct agent *a, const char *why)
{
    if (!a->ovsdb_bev) {
        return;
    }
    log_write(LOG_WARN, "agent", "event=ovsdb_closed node=%s reason=\"%s\"",
              a->opt.node, why);
    bufferevent_free(a->ovsdb_bev);
    a->ovsdb_bev = NULL;
    if (a->ovsdb_up) {
        a->ovsdb_up = false;
        agent_core_ovsdb_disconnected(a->core, clock_mono_us());
    }
    agent_arm_ms(a->ovsdb_retry, a->opt.reconnect_ms);
}

static void
ovsdb_read_cb(struct bufferevent *bev, void *aux)
{
    struct agent *a = aux;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    const char *p = (const char *) evbuffer_pullup(in, (ev_ssize_t) n);
    int error = agent_core_ovsdb_receive(a->core, p, n, clock_mono_us());
    evbuffer_drain(in, n);
    if (error) {
        ovsdb_close(a, strerror(error));
    }
    agent_flush(a);
}

static void
ovsdb_event_cb(struct bufferevent *bev, short what, void *aux)
{
    struct agent *a = aux;
    (void) bev;
    if (what & BEV_EVENT_CONNECTED) {
        a->ovsdb_up = true;
        log_write(LOG_INF, "agent", "event=ovsdb_connected node=%s",
                  a->opt.node);
        agent_core_ovsdb_connected(a->core, clock_mono_us());
        agent_flush(a);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        int error = (what & BEV_EVENT_ERROR) ? EVUTIL_SOCKET_ERROR() : 0;
        ovsdb_close(a, error ? strerror(error) : "closed by ovsdb-server");
        agent_flush(a);
    }
}

void
agent_ovsdb_connect(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (a->ovsdb_bev || !a->opt.ovsdb) {
        return;
    }
    struct sockaddr_storage ss;
    int sslen;
    char err[256];
    if (strncmp(a->opt.ovsdb, "unix:", 5)
        || ofconn_parse_target(a->opt.ovsdb, &ss, &sslen, err,
                               sizeof err)) {
        log_write(LOG_ERROR, "agent", "event=ovsdb_bad_target target=%s",
                  a->opt.ovsdb);
        return;
    }
    a->ovsdb_bev = bufferevent_socket_new(a->base, -1,
                                          BEV_OPT_CLOSE_ON_FREE
                                          | BEV_OPT_DEFER_CALLBACKS);
    bufferevent_setcb(a->ovsdb_bev, ovsdb_read_cb, NULL, ovsdb_event_cb, a);
    bufferevent_enable(a->ovsdb_bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(a->ovsdb_bev, (struct sockaddr *) &ss,
                                   sslen)) {
        bufferevent_free(a->ovsdb_bev);
        a->ovsdb_bev = NULL;
        agent_arm_ms(a->ovsdb_retry, a->opt.reconnect_ms);
    }
}

void
agent_ovsdb_stop(struct agent *a)
{
    if (a->ovsdb_bev) {
        bufferevent_free(a->ovsdb_bev);
        a->ovsdb_bev = NULL;
    }
    if (a->ovsdb_retry) {
        event_free(a->ovsdb_retry);
        a->ovsdb_retry = NULL;
    }
}
