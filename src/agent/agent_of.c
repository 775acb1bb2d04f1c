/* agent_of.c: the socket to the node's bridge in mignet-agent (shell).
 *
 * The core runs the OpenFlow session (lib/ofconn, sans I/O) and decides
 * what to send; this file connects to the bridge's socket without
 * blocking, feeds the core what arrives, writes what it queues and
 * reconnects after a close. */
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

void
agent_of_flush(struct agent *a)
{
    struct ofpbuf *out = agent_core_of_output(a->core);
    if (a->of_bev && a->of_up && out->size) {
        ofconn_write_now(a->of_bev, true, out->data, out->size);
    }
    ofpbuf_clear(out);
}

void
agent_of_close(struct agent *a, const char *why)
{
    if (!a->of_bev) {
        return;
    }
    log_write(LOG_WARN, "agent", "event=ofp_closed node=%s reason=\"%s\"",
              a->opt.node, why);
    bufferevent_free(a->of_bev);
    a->of_bev = NULL;
    if (a->of_up) {
        a->of_up = false;
        agent_core_of_disconnected(a->core, clock_mono_us());
        agent_flush(a);
    }
    agent_arm_ms(a->of_retry, a->opt.reconnect_ms);
}

static void
of_read_cb(struct bufferevent *bev, void *aux)
{
    struct agent *a = aux;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t) n);
    int error = agent_core_of_receive(a->core, p, n, clock_mono_us());
    evbuffer_drain(in, n);
    if (error) {
        agent_of_flush(a); /* the error message for the switch first */
        agent_of_close(a, strerror(error));
        return;
    }
    agent_flush(a);
}

static void
of_event_cb(struct bufferevent *bev, short what, void *aux)
{
    struct agent *a = aux;
    (void) bev;
    if (what & BEV_EVENT_CONNECTED) {
        a->of_up = true;
        agent_core_of_connected(a->core, clock_mono_us());
        agent_flush(a);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        int error = (what & BEV_EVENT_ERROR) ? EVUTIL_SOCKET_ERROR() : 0;
        if ((what & BEV_EVENT_ERROR) && !error) {
            error = ECONNRESET;
        }
        agent_of_close(a, error ? strerror(error) : "closed by switch");
    }
}

void
agent_of_connect(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (a->of_bev) {
        return; /* connected, or a connect is under way */
    }
    /* A bare path is a unix socket, as it always was. */
    char target[512], err[256];
    const char *ofp = a->opt.ofp;
    if (strncmp(ofp, "unix:", 5) && strncmp(ofp, "tcp:", 4)) {
        snprintf(target, sizeof target, "unix:%s", ofp);
    } else {
        snprintf(target, sizeof target, "%s", ofp);
    }
    struct sockaddr_storage ss;
    int sslen;
    if (ofconn_parse_target(target, &ss, &sslen, err, sizeof err)) {
        log_write(LOG_ERROR, "agent", "event=ofp_bad_target error=\"%s\"",
                  err);
        return;
    }
    a->of_bev = bufferevent_socket_new(a->base, -1,
                                       BEV_OPT_CLOSE_ON_FREE
                                       | BEV_OPT_DEFER_CALLBACKS);
    bufferevent_setcb(a->of_bev, of_read_cb, NULL, of_event_cb, a);
    bufferevent_enable(a->of_bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(a->of_bev, (struct sockaddr *) &ss,
                                   sslen)) {
        int error = EVUTIL_SOCKET_ERROR();
        log_write(LOG_DBG, "agent", "event=ofp_connect_failed error=\"%s\"",
                  strerror(error ? error : ECONNREFUSED));
        bufferevent_free(a->of_bev);
        a->of_bev = NULL;
        agent_arm_ms(a->of_retry, a->opt.reconnect_ms);
    }
}
