/* agent.c: mignet-agent's lifecycle and event loop (see agent.h).
 *
 * Three connections, one libevent loop: the agent channel to mignetd
 * (agent_chan.c; chan_client does the protocol), the OpenFlow connection
 * to the node's bridge (agent_of.c, on lib/ofconn), and gateway polls
 * (here).  Every change recomputes the desired flow table and sends the
 * difference followed by a barrier (agent_sync.c, ofctrl.c); instructions
 * are acknowledged, and map versions reported, only when that barrier's
 * reply arrives with no error before it, and nacked when there was one.
 * It must never acknowledge what Open vSwitch has not confirmed, and never
 * crash on anything a peer sends.  Port security (seed 003) is
 * agent_snoop.c; statistics and /metrics are agent_metrics.c.  This file
 * creates, arms and frees the loop's events and options. */
#include "agent/agent.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_map.h"
#include "agent/flowtab.h"
#include "lib/clock.h"
#include "lib/http_client.h"
#include "lib/log.h"
#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/util.h"
#include "mignet/binding.h"

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
        agent_schedule_sync(a); /* the barrier reports the refresh */
    }
    http_response_destroy(&resp);
    strbuf_destroy(&path);
    double j = a->opt.refresh_jitter
               * ((double) (rng_next(a) % 20001) / 10000.0 - 1.0);
    double next = a->opt.refresh_ms * (1.0 + j);
    agent_arm_ms(a->poll_timer, next < 1 ? 1 : (uint64_t) next);
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
    struct chan_client_hooks hooks = {
        .state_changed = agent_chan_state_changed,
        .received = agent_chan_received,
        .aux = a,
    };
    a->chan = chan_client_create(opt->node, &hooks);
    if (!a->chan) {
        fprintf(stderr, "mignet-agent: invalid node id '%s'\n", opt->node);
        free(a);
        return 2;
    }
    chan_client_set_ack(a->chan, false);
    a->rng = opt->seed ? opt->seed : (uint64_t) hash_str(opt->node) | 1;
    strbuf_init(&a->chan_out);
    a->map = agent_map_create();
    a->desired = flowtab_create();
    a->installed = flowtab_create();
    a->snooped = binding_table_create();
    a->of = ofconn_create(NULL, &agent_of_hooks, a);
    struct ofctrl_hooks ofctrl_hooks = {
        .done = agent_batch_done, .now_ms = agent_now_ms, .aux = a};
    a->ofctrl = ofctrl_create(a->of, a->chan, &a->chan_out, &ofctrl_hooks);
    signal(SIGPIPE, SIG_IGN);
    a->base = event_base_new();
    a->sync_ev = event_new(a->base, -1, 0, agent_sync_cb, a);
    a->chan_timer = evtimer_new(a->base, agent_chan_timer_cb, a);
    a->chan_retry = evtimer_new(a->base, agent_chan_connect, a);
    a->of_retry = evtimer_new(a->base, agent_of_connect, a);
    a->poll_timer = evtimer_new(a->base, poll_cb, a);
    a->stats_timer = evtimer_new(a->base, agent_stats_cb, a);
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
        evhttp_set_cb(a->http, "/metrics", agent_metrics_cb, a);
    }
    agent_of_connect(-1, 0, a);
    agent_chan_connect(-1, 0, a);
    agent_arm_ms(a->chan_timer, 100);
    agent_arm_ms(a->poll_timer, 1);
    agent_arm_ms(a->stats_timer, opt->stats_ms);
    printf("mignet-agent ready node=%s controller=%s gateway=%s ofp=%s\n",
           opt->node, opt->controller, opt->gateway, opt->ofp);
    fflush(stdout);
    event_base_dispatch(a->base);
out:
    if (a->chan_bev) {
        bufferevent_free(a->chan_bev);
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
    /* Its pending barriers call back into ofctrl: the session first. */
    ofconn_destroy(a->of);
    ofctrl_destroy(a->ofctrl);
    event_base_free(a->base);
    chan_client_destroy(a->chan);
    agent_map_destroy(a->map);
    flowtab_destroy(a->desired);
    flowtab_destroy(a->installed);
    binding_table_destroy(a->snooped);
    strbuf_destroy(&a->chan_out);
    free(a);
    return rc;
}
