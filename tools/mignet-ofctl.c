/* mignet-ofctl: a small ovs-ofctl built on mignet's own OpenFlow stack
 * (lib/ofconn.c over libevent, the ofp13 codec), for tests and for looking
 * at a bridge the way the agent sees it.
 *
 *   mignet-ofctl TARGET show                 features and ports
 *   mignet-ofctl TARGET add-flows FLOW...    flow_mods, then one barrier
 *   mignet-ofctl TARGET del-flows [MATCH]    delete in every table
 *   mignet-ofctl TARGET dump-flows [--no-stats] [MATCH]
 *   mignet-ofctl TARGET dump-ports
 *   mignet-ofctl TARGET bench N K            N flows in one barrier-
 *                                            confirmed batch, then K single
 *                                            flow+barrier round trips
 *
 * TARGET is unix:PATH (e.g. a bridge's RUNDIR/BR.mgmt) or tcp:ADDR:PORT.
 * FLOW is the text of ofp_parse_flow_mod ("add" is the default command).
 * Exit status: 0 done, 1 the switch refused something (errors printed),
 * 2 usage, 3 connection failure or timeout.  It never retries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include <event2/event.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/ofconn.h"
#include "lib/strbuf.h"

/* The "bench" command's progress. */
struct bench {
    unsigned n_batch;  /* Flows in the batch. */
    unsigned n_single; /* Single-flow round trips. */
    unsigned done;     /* Round trips finished. */
    double start;      /* Of the current measurement, seconds. */
    double *rtt;       /* Single round trips, seconds. */
};

struct ctl {
    struct bench bench;
    struct event_base *base;
    struct ofconn *conn;
    const char *cmd;
    char **args;
    int n_args;
    bool no_stats;
    int status;
    bool done;
};

static void
finish(struct ctl *ctl, int status)
{
    if (!ctl->done) {
        ctl->done = true;
        ctl->status = status;
    }
    event_base_loopbreak(ctl->base);
}

static void
print_error_msg(const struct ofp_msg *msg)
{
    char *s = ofp_msg_to_string(msg);
    printf("%s\n", s ? s : "error");
    free(s);
}

static void
on_barrier(void *ctl_, const struct ofconn_barrier_result *r)
{
    struct ctl *ctl = ctl_;
    if (r->closed) {
        fprintf(stderr, "mignet-ofctl: connection closed before barrier\n");
        finish(ctl, 3);
        return;
    }
    printf("barrier: %u sent, %u errors\n", r->n_sent, r->n_errors);
    finish(ctl, r->n_errors ? 1 : 0);
}

/* Errors (also those counted by a barrier) are what matter here. */
static void
on_message(void *ctl_, const struct ofp_msg *msg)
{
    (void)ctl_;
    if (msg->type == OFPT_ERROR) {
        print_error_msg(msg);
    }
}

static void
on_closed(void *ctl_, int error)
{
    struct ctl *ctl = ctl_;
    fprintf(stderr, "mignet-ofctl: connection closed: %s\n",
            error ? strerror(error) : "by peer");
    finish(ctl, 3);
}

static void
on_flow_stats(void *ctl_, const struct ofp_msg *msg, bool last)
{
    struct ctl *ctl = ctl_;
    if (!msg) {
        finish(ctl, 3);
        return;
    }
    if (msg->type == OFPT_ERROR) {
        print_error_msg(msg);
        finish(ctl, 1);
        return;
    }
    struct ofp_flow_stats *fs = calloc(1, sizeof *fs);
    if (!fs) {
        finish(ctl, 3);
        return;
    }
    struct ofp_mp_iter it;
    ofp_mp_iter_init(&it, &msg->mp);
    while (ofp_flow_stats_next(&it, fs)) {
        char *s = ofp_flow_stats_to_string(fs, !ctl->no_stats);
        printf("%s\n", s ? s : "?");
        free(s);
    }
    ofp_flow_stats_destroy(fs);
    free(fs);
    if (last) {
        finish(ctl, 0);
    }
}

static void
on_port_stats(void *ctl_, const struct ofp_msg *msg, bool last)
{
    struct ctl *ctl = ctl_;
    if (!msg || msg->type == OFPT_ERROR) {
        if (msg) {
            print_error_msg(msg);
        }
        finish(ctl, msg ? 1 : 3);
        return;
    }
    char *s = ofp_msg_to_string(msg);
    printf("%s\n", s ? s : "?");
    free(s);
    if (last) {
        finish(ctl, 0);
    }
}

static void
on_port_desc(void *ctl_, const struct ofp_msg *msg, bool last)
{
    on_port_stats(ctl_, msg, last);
}

static int
parse_or_die(const char *text, struct ofp_msg *msg)
{
    char err[256];
    ofp_msg_init(msg, OFPT_FLOW_MOD, 0);
    if (ofp_parse_flow_mod(text, &msg->flow_mod, err, sizeof err)) {
        fprintf(stderr, "mignet-ofctl: \"%s\": %s\n", text, err);
        return 2;
    }
    return 0;
}

/* Flow number 'i' of the benchmark: distinct by destination MAC. */
static int
bench_flow(struct ctl *ctl, unsigned i)
{
    struct ofp_msg *msg = malloc(sizeof *msg);
    if (!msg) {
        return ENOMEM;
    }
    ofp_msg_init(msg, OFPT_FLOW_MOD, 0);
    struct ofp_flow_mod *fm = &msg->flow_mod;
    fm->table_id = 10;
    fm->priority = 100;
    fm->cookie = 0xbe7c;
    ofp_match_set(&fm->match, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&fm->match, OFP_F_ETH_DST, 0x020000000000 | i);
    ofp_match_set(&fm->match, OFP_F_IPV4_DST, 0xc6120000 | (i & 0xffff));
    struct ofp_actions *a = ofp_instructions_apply(&fm->insts);
    ofp_actions_set_field(a, OFP_F_TUNNEL_ID, i);
    ofp_actions_output(a, 1);
    int error = ofconn_send(ctl->conn, msg, NULL);
    ofp_msg_destroy(msg);
    free(msg);
    return error;
}

static int
cmp_double(const void *a_, const void *b_)
{
    double a = *(const double *)a_, b = *(const double *)b_;
    return a < b ? -1 : a > b;
}

static void bench_next(struct ctl *);

static void
on_bench_barrier(void *ctl_, const struct ofconn_barrier_result *r)
{
    struct ctl *ctl = ctl_;
    struct bench *b = &ctl->bench;
    double elapsed = clock_mono_s() - b->start;
    if (r->closed || r->n_errors) {
        fprintf(stderr, "mignet-ofctl: bench: %s\n",
                r->closed ? "connection closed" : "switch refused flows");
        finish(ctl, r->closed ? 3 : 1);
        return;
    }
    if (!b->done && b->n_batch) {
        printf("batch: %u flows + barrier in %.1f ms (%.0f flows/s)\n",
               b->n_batch, elapsed * 1e3, b->n_batch / elapsed);
    } else {
        b->rtt[b->done - 1] = elapsed;
    }
    bench_next(ctl);
}

static void
bench_next(struct ctl *ctl)
{
    struct bench *b = &ctl->bench;
    if (b->done == b->n_single) {
        if (b->n_single) {
            qsort(b->rtt, b->n_single, sizeof *b->rtt, cmp_double);
            unsigned p99 = (unsigned)((b->n_single - 1) * 0.99);
            printf("single flow + barrier round trip over %u: p50 %.3f ms, "
                   "p99 %.3f ms, max %.3f ms\n",
                   b->n_single, b->rtt[(b->n_single - 1) / 2] * 1e3,
                   b->rtt[p99] * 1e3, b->rtt[b->n_single - 1] * 1e3);
        }
        finish(ctl, 0);
        return;
    }
    b->done++;
    b->start = clock_mono_s();
    int error = bench_flow(ctl, b->n_batch + b->done);
    if (!error) {
        error = ofconn_barrier(ctl->conn, on_bench_barrier, ctl);
    }
    if (error) {
        finish(ctl, 3);
    }
}

static int
bench_start(struct ctl *ctl)
{
    struct bench *b = &ctl->bench;
    char *end;
    if (ctl->n_args != 2) {
        fprintf(stderr, "usage: mignet-ofctl TARGET bench N K\n");
        return 2;
    }
    b->n_batch = (unsigned)strtoul(ctl->args[0], &end, 10);
    b->n_single = (unsigned)strtoul(ctl->args[1], &end, 10);
    b->rtt = calloc(b->n_single + 1, sizeof *b->rtt);
    if (!b->rtt) {
        return ENOMEM;
    }
    b->start = clock_mono_s();
    for (unsigned i = 0; i < b->n_batch; i++) {
        int error = bench_flow(ctl, i);
        if (error) {
            return error;
        }
    }
    if (!b->n_batch) {
        bench_next(ctl);
        return 0;
    }
    return ofconn_barrier(ctl->conn, on_bench_barrier, ctl);
}

static void
run_command(struct ctl *ctl)
{
    struct ofp_msg *msg = malloc(sizeof *msg);
    int rc = 0;
    if (!msg) {
        finish(ctl, 3);
        return;
    }
    if (!strcmp(ctl->cmd, "show")) {
        const struct ofp_features *f = ofconn_features(ctl->conn);
        printf("dpid=0x%016llx n_tables=%u n_buffers=%u capabilities=0x%x\n",
               (unsigned long long)f->datapath_id, f->n_tables, f->n_buffers,
               f->capabilities);
        ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 0);
        msg->mp.type = OFPMP_PORT_DESC;
        rc = ofconn_request(ctl->conn, msg, on_port_desc, ctl, NULL);
    } else if (!strcmp(ctl->cmd, "add-flows")) {
        for (int i = 0; i < ctl->n_args && !rc; i++) {
            rc = parse_or_die(ctl->args[i], msg);
            if (!rc) {
                rc = ofconn_send(ctl->conn, msg, NULL);
                ofp_msg_destroy(msg);
            }
        }
        if (!rc) {
            rc = ofconn_barrier(ctl->conn, on_barrier, ctl);
        }
    } else if (!strcmp(ctl->cmd, "del-flows")) {
        struct strbuf sb;
        strbuf_init(&sb);
        strbuf_printf(&sb, "delete table=all %s",
                      ctl->n_args ? ctl->args[0] : "");
        rc = parse_or_die(strbuf_str(&sb), msg);
        strbuf_destroy(&sb);
        if (!rc) {
            rc = ofconn_send(ctl->conn, msg, NULL);
        }
        if (!rc) {
            rc = ofconn_barrier(ctl->conn, on_barrier, ctl);
        }
    } else if (!strcmp(ctl->cmd, "dump-flows")) {
        char err[256];
        ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 0);
        msg->mp.type = OFPMP_FLOW;
        if (ofp_parse_match(ctl->n_args ? ctl->args[0] : "",
                            &msg->mp.flow_req.match, err, sizeof err)) {
            fprintf(stderr, "mignet-ofctl: %s\n", err);
            rc = 2;
        } else {
            rc = ofconn_request(ctl->conn, msg, on_flow_stats, ctl, NULL);
        }
    } else if (!strcmp(ctl->cmd, "bench")) {
        rc = bench_start(ctl);
    } else if (!strcmp(ctl->cmd, "dump-ports")) {
        ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 0);
        msg->mp.type = OFPMP_PORT_STATS;
        msg->mp.port_no = OFPP_ANY;
        rc = ofconn_request(ctl->conn, msg, on_port_stats, ctl, NULL);
    } else {
        fprintf(stderr, "mignet-ofctl: unknown command %s\n", ctl->cmd);
        rc = 2;
    }
    ofp_msg_destroy(msg);
    free(msg);
    if (rc) {
        if (rc != 2) {
            fprintf(stderr, "mignet-ofctl: %s: %s\n", ctl->cmd,
                    strerror(rc));
        }
        finish(ctl, rc == 2 ? 2 : 3);
    }
}

static void
on_ready(void *ctl_, const struct ofp_features *f)
{
    (void)f;
    run_command(ctl_);
}

static void
on_timeout(evutil_socket_t fd, short what, void *ctl_)
{
    (void)fd;
    (void)what;
    fprintf(stderr, "mignet-ofctl: timed out\n");
    finish(ctl_, 3);
}

int
main(int argc, char *argv[])
{
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("mignet-ofctl %s\n", MIGNET_VERSION);
        return 0;
    }
    struct ctl ctl = {0};
    if (argc < 3) {
        fprintf(stderr, "usage: mignet-ofctl TARGET show|add-flows FLOW...|"
                        "del-flows [MATCH]|dump-flows [--no-stats] [MATCH]|"
                        "dump-ports|bench N K\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    ctl.cmd = argv[2];
    ctl.args = argv + 3;
    ctl.n_args = argc - 3;
    if (ctl.n_args && !strcmp(ctl.args[0], "--no-stats")) {
        ctl.no_stats = true;
        ctl.args++;
        ctl.n_args--;
    }

    ctl.base = event_base_new();
    struct ofconn_hooks hooks = {on_ready, on_message, on_closed};
    ctl.conn = ofconn_create(NULL, &hooks, &ctl);
    char err[256];
    int error = ofconn_open(ctl.conn, ctl.base, argv[1], err, sizeof err);
    if (error) {
        fprintf(stderr, "mignet-ofctl: %s\n", err);
        ofconn_destroy(ctl.conn);
        event_base_free(ctl.base);
        return 3;
    }
    struct event *timer = evtimer_new(ctl.base, on_timeout, &ctl);
    struct timeval tv = {strcmp(ctl.cmd, "bench") ? 10 : 120, 0};
    evtimer_add(timer, &tv);
    event_base_dispatch(ctl.base);
    event_free(timer);
    ofconn_destroy(ctl.conn);
    free(ctl.bench.rtt);
    event_base_free(ctl.base);
    return ctl.status;
}
