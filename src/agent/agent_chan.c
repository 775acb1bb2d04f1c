/* agent_chan.c: the agent channel's socket in mignet-agent.
 *
 * chan_client does the protocol (sans I/O); this file connects to
 * mignetd without blocking the loop (bufferevent_socket_connect), feeds
 * it what arrives, writes out what it queues, runs its timer and
 * reconnects after a close.  An instruction only schedules a
 * sync here: it is acknowledged by agent_sync.c once a barrier confirms
 * its flows, never on arrival. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent-private.h"
#include "agent/agent_map.h"
#include "agent/map_push.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/sock.h"
#include "mignet/binding.h"

static void chan_close(struct agent *, const char *why);

void
agent_chan_flush(struct agent *a)
{
    if (a->chan_bev && a->chan_out.len) {
        bufferevent_write(a->chan_bev, a->chan_out.data, a->chan_out.len);
    }
    strbuf_clear(&a->chan_out);
}

void
agent_chan_state_changed(void *aux)
{
    agent_schedule_sync(aux);
}

/* mignetd refused a binding this agent reported: what it snooped is not
 * the truth, so it stops enforcing it (the controller's install, or the
 * unbound rules, apply). */
/* A map push line: applied to the map at its map_end, which schedules a
 * sync; the confirmed batch acknowledges the version (agent_sync.c). */
static void
chan_push(struct agent *a, const struct chan_msg *msg)
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

void
agent_chan_received(void *aux, const char *line, size_t len,
                    const struct chan_msg *msg, enum chan_err e)
{
    struct agent *a = aux;
    (void) line;
    (void) len;
    (void) e;
    if (msg) {
        chan_push(a, msg);
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
            agent_chan_flush(a);
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
        agent_schedule_sync(a); /* a barrier will confirm and acknowledge */
    }
    map_push_run(a->push, a->chan, a->map, clock_mono_ms(), &a->chan_out);
    agent_chan_flush(a);
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
    agent_arm_ms(a->chan_retry, a->opt.reconnect_ms);
}

void
agent_chan_timer_cb(evutil_socket_t fd, short what, void *aux)
{
    struct agent *a = aux;
    (void) fd;
    (void) what;
    if (a->chan_bev) {
        int err = chan_client_run(a->chan, clock_mono_ms(), &a->chan_out);
        agent_chan_flush(a);
        if (err) {
            chan_close(a, "controller silent");
        }
    }
    agent_arm_ms(a->chan_timer, 100);
}

/* The connect started by agent_chan_connect() ended: the session starts,
 * or the next attempt is armed. */
static void
chan_connect_cb(struct bufferevent *bev, short what, void *aux)
{
    struct agent *a = aux;
    if (!(what & BEV_EVENT_CONNECTED)) {
        int dns = bufferevent_socket_get_dns_error(bev);
        log_write(LOG_DBG, "agent", "event=channel_connect_failed node=%s "
                  "controller=%s reason=\"%s\"", a->opt.node,
                  a->opt.controller,
                  dns ? evutil_gai_strerror(dns)
                  : (what & BEV_EVENT_TIMEOUT) ? "timed out"
                  : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        bufferevent_free(bev);
        a->chan_pend = NULL;
        agent_arm_ms(a->chan_retry, a->opt.reconnect_ms);
        return;
    }
    a->chan_pend = NULL;
    a->chan_bev = bev;
    bufferevent_set_timeouts(bev, NULL, NULL);
    bufferevent_setcb(bev, chan_read_cb, NULL, chan_event_cb, a);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    a->session++;
    a->synced_seq = 0; /* sequence numbers start again */
    a->confirmed_version = 0; /* report the held version again */
    map_push_session(a->push);
    chan_client_connected(a->chan, clock_mono_ms(), &a->chan_out);
    agent_chan_flush(a);
    log_write(LOG_INF, "agent", "event=channel_connected node=%s "
              "controller=%s", a->opt.node, a->opt.controller);
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
    if (!sock_split_hostport(a->opt.controller, host, sizeof host, port,
                             sizeof port)) {
        log_write(LOG_ERROR, "agent", "event=bad_controller controller=%s",
                  a->opt.controller);
        agent_arm_ms(a->chan_retry, a->opt.reconnect_ms);
        return;
    }
    struct bufferevent *bev = bufferevent_socket_new(a->base, -1,
                                                     BEV_OPT_CLOSE_ON_FREE);
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
        agent_arm_ms(a->chan_retry, a->opt.reconnect_ms);
    }
}
