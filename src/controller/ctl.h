/* ctl.h: mignetd's shared context and its event loop.
 *
 * One 'struct ctl' ties the core, the store, the REST server, the agent
 * server and the metrics to one libevent loop.  Every loop iteration ends
 * with one batch: a single durable store commit of every change the
 * iteration made, and only then the HTTP answers and the agent
 * instructions it produced (installs excepted: agent_server.c).  Nothing
 * is ever answered before its commit. */
#ifndef MIGNET_CONTROLLER_CTL_H
#define MIGNET_CONTROLLER_CTL_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/metrics.h"
#include "controller/options.h"

struct agent_server;
struct core;
struct event;
struct event_base;
struct evbuffer;
struct evhttp_request;
struct fabric_ctl;
struct rest;
struct replica;
struct store;
struct vnet_ctl;

/* An HTTP answer held until the batch commits. */
struct ctl_reply {
    struct evhttp_request *req;
    int status;
    struct evbuffer *body; /* owned; NULL = empty */
    const char *content_type;
};

struct ctl {
    struct mignetd_options opts;
    struct event_base *base;
    struct core *core;
    struct store *store;
    struct rest *rest;
    struct agent_server *agents;
    struct fabric_ctl *fabric; /* fabric switches and migration plans */
    struct transfers *transfers; /* learned goodputs, memory only */
    struct vnet_ctl *vnet; /* tenant virtual switches (seed 001) */
    struct metrics metrics;
    /* --replica: the election (replica.h); NULL = a single mignetd. */
    struct replica *replica;

    struct event *due_timer;  /* core_next_due() */
    struct event *sig_term, *sig_int, *sig_hup;
    /* The command line, parsed again by a reload (SIGHUP). */
    int argc;
    char **argv;
    bool stopping;
    int exit_code;

    /* The current batch: at most 'batch_records' records (a store may
     * bound a commit: etcd's --max-txn-ops), 'batch_tasks' tasks run by
     * the timer in one. */
    bool dirty; /* the core may have written to the store */
    size_t batch_records, batch_tasks;
    struct ctl_reply *replies;
    size_t n_replies, replies_cap;

    /* Pipelined commits (a store that can, store.h; not with
     * --serial-commits): the sealed batch's records are in 'txn', being
     * committed on 'txn_thread', its answers in 'sealed' (its agent
     * output sealed in agent_server); the open batch fills meanwhile and
     * begins its commit only when that one ended (a byte on 'txn_pipe'). */
    bool pipeline;
    struct store_txn *txn; /* NULL = none in flight */
    pthread_t txn_thread;
    int txn_pipe[2];
    struct event *txn_done;
    int txn_err;
    double txn_t0;
    struct ctl_reply *sealed;
    size_t n_sealed, sealed_cap;

    /* Bound addresses, for the ready line ("127.0.0.1:7480"). */
    char rest_addr[80];
    char agent_addr[80];
};

/* Before an event that may write (a request, an agent's message): ends
 * the batch early when the event's records might not fit in it any more.
 * Returns false when that commit failed: the event must not be handled
 * (answer 500 store_failed, or drop it) and mignetd stops. */
bool ctl_make_room(struct ctl *);
/* The most records one request or agent message writes, apart from the
 * few that touch a whole node (a forced node removal). */
#define CTL_EVENT_RECORDS_MAX 32

/* Queues an answer for the end of the batch; takes ownership of 'body'. */
void ctl_reply(struct ctl *, struct evhttp_request *, int status,
               struct evbuffer *body, const char *content_type);

/* The node whose token 'token' is (node_auth.h), or CORE_NONE: for
 * gates that accept a node's credential (GET /v1/map). */
uint32_t ctl_node_by_token(struct ctl *, const char *token);

/* Runs mignetd with 'opts' (parsed from 'argc'/'argv', which a reload
 * parses again): opens the store, loads the core, binds both listeners,
 * prints the ready line to stdout (and READY=1 to systemd) and serves
 * until SIGTERM or SIGINT; SIGHUP reloads (ctl_reload).  Returns the
 * process exit code. */
int ctl_main(const struct mignetd_options *opts, int argc, char **argv);

/* SIGHUP (reload.c): parses the command line and the config file again,
 * applies what can change while running (the log levels, the API tokens
 * file) and logs the settings that changed and those that need a
 * restart.  A setting or file that does not parse changes nothing. */
void ctl_reload(struct ctl *);

#endif /* MIGNET_CONTROLLER_CTL_H */
