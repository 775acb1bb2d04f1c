/* ctl.c: mignetd's event loop, batches and lifecycle.
 *
 * Startup opens the store -- SQLite (refusing one that is missing, damaged
 * or incomplete) or etcd (--store etcd://..., docs/ha.md) -- reloads the core (pending deletions and prepare tasks
 * get fresh times at the first core_run: the restart rule, DESIGN I7),
 * adds back the tenant virtual switches it holds (rest_vswitch_load),
 * binds REST and the agent channel and prints one ready line.  The core
 * runs on the run clock (lib/clock.h): wall time at start plus elapsed
 * monotonic time, so a clock step never moves a delay.  Each loop
 * iteration is one batch: every change it made is committed with one
 * durable store commit, and only then are its HTTP answers and agent
 * instructions released (installs, and relays of a VM that already runs
 * at its destination, may go first: agent_server.c).  A
 * failed commit is fatal: the daemon answers 500 to that batch and exits,
 * so memory never runs ahead of the disk. */
#include "controller/transfers.h"
#include "controller/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

#include "controller/agent_server.h"
#include "controller/fabric_ctl.h"
#include "controller/migrations.h"
#include "controller/node_auth.h"
#include "controller/replica.h"
#include "controller/rest.h"
#include "controller/rest_vswitch.h"
#include "controller/vnet_ctl.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/sock.h"
#include "lib/util.h"
#include "mignet/core.h"
#include "mignet/etcd.h"
#include "mignet/store.h"

/* ---- Batches ---- */

void
ctl_reply(struct ctl *ctl, struct evhttp_request *req, int status,
          struct evbuffer *body, const char *content_type)
{
    ctl->replies = xgrow(ctl->replies, &ctl->replies_cap,
                         ctl->n_replies + 1, sizeof *ctl->replies);
    ctl->replies[ctl->n_replies++] = (struct ctl_reply){
        .req = req,
        .status = status,
        .body = body,
        .content_type = content_type,
    };
}

/* Sends 'n' answers; all of them fail (500) when 'failed'. */
static void
ctl_send_replies(struct ctl *ctl, struct ctl_reply *replies, size_t n,
                 bool failed)
{
    static const char fail_body[] =
        "{\"error\":{\"code\":\"store_failed\","
        "\"message\":\"the durable store failed\"}}\n";
    for (size_t i = 0; i < n; i++) {
        struct ctl_reply *r = &replies[i];
        int status = r->status;
        struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
        if (failed) {
            status = 500;
            if (!r->body) {
                r->body = evbuffer_new();
            }
            if (r->body) {
                evbuffer_drain(r->body, evbuffer_get_length(r->body));
                evbuffer_add(r->body, fail_body, sizeof fail_body - 1);
            }
            r->content_type = "application/json";
            /* Nothing was created or changed: no Location, and no ETag
             * of a state that was never committed. */
            evhttp_remove_header(h, "Location");
            evhttp_remove_header(h, "ETag");
        }
        if (r->content_type) {
            evhttp_add_header(h, "Content-Type", r->content_type);
        }
        metrics_count_api(&ctl->metrics, status);
        evhttp_send_reply(r->req, status, NULL, r->body);
        if (r->body) {
            evbuffer_free(r->body);
        }
    }
}

/* Arms the timer for the core's next due task. */
static void
ctl_arm_timer(struct ctl *ctl)
{
    uint64_t due = core_next_due(ctl->core);
    if (due == UINT64_MAX) {
        event_del(ctl->due_timer);
        return;
    }
    uint64_t now = clock_run_ms();
    uint64_t wait = due > now ? due - now : 0;
    struct timeval tv = {
        .tv_sec = (time_t) (wait / 1000),
        .tv_usec = (suseconds_t) (wait % 1000) * 1000,
    };
    evtimer_add(ctl->due_timer, &tv);
}

/* Ends the open batch's output: what is derived from the state it leaves
 * (tenant switch placement, the map push) is queued, then its answers
 * and agent output are sealed: they leave with its commit. */
static void
ctl_seal(struct ctl *ctl)
{
    vnet_ctl_after_batch(ctl->vnet);
    agent_server_seal(ctl->agents);
    struct ctl_reply *r = ctl->sealed;
    size_t cap = ctl->sealed_cap;
    ctl->sealed = ctl->replies;
    ctl->sealed_cap = ctl->replies_cap;
    ctl->n_sealed = ctl->n_replies;
    ctl->replies = r;
    ctl->replies_cap = cap;
    ctl->n_replies = 0;
}

/* The sealed batch's commit ended with 'err' (0: durable): its answers
 * and agent output go out, or -- the store failed -- every answer held,
 * sealed or not, says so, nothing goes to the agents, and mignetd must
 * stop (false): memory may not run ahead of the store. */
static bool
ctl_release(struct ctl *ctl, int err)
{
    if (err) {
        ctl->metrics.store_failures++;
        log_write(LOG_ERROR, "store", "event=commit_failed err=\"%s\" "
                  "action=exit", strerror(err));
        if (err == STORE_E_GUARD) { /* another replica leads */
            ctl->exit_code = CTL_EXIT_DEPOSED;
        }
        ctl_send_replies(ctl, ctl->sealed, ctl->n_sealed, true);
        ctl_send_replies(ctl, ctl->replies, ctl->n_replies, true);
        ctl->n_sealed = ctl->n_replies = 0;
        agent_server_discard(ctl->agents);
        return false;
    }
    ctl_send_replies(ctl, ctl->sealed, ctl->n_sealed, false);
    ctl->n_sealed = 0;
    agent_server_release(ctl->agents);
    ctl_arm_timer(ctl);
    return true;
}

/* The commit thread: the batch in flight, then a byte on the pipe. */
static void *
ctl_txn_main(void *arg)
{
    struct ctl *ctl = arg;
    ctl->txn_err = store_commit_run(ctl->store, ctl->txn);
    char b = 1;
    while (write(ctl->txn_pipe[1], &b, 1) < 0 && errno == EINTR) {
    }
    return NULL;
}

/* A commit this slow is logged (event=commit_slow): everything the batch
 * holds -- answers, relays, deletions -- waited that long. */
#define CTL_SLOW_COMMIT_S 0.1

/* The sealed batch's commit, begun at ctl->txn_t0, ended with 'err':
 * counted, then released (false: mignetd must stop). */
static bool
ctl_committed(struct ctl *ctl, int err)
{
    double s = clock_mono_s() - ctl->txn_t0;
    metrics_hist_observe(&ctl->metrics.commit, s);
    ctl->metrics.store_commits++;
    if (s >= CTL_SLOW_COMMIT_S && !err) {
        log_write(LOG_WARN, "store", "event=commit_slow ms=%.1f", s * 1e3);
    }
    return ctl_release(ctl, err);
}

/* The transaction in flight has run (ctl->txn_err): back to the store. */
static bool
ctl_txn_end(struct ctl *ctl)
{
    store_commit_end(ctl->store, ctl->txn, ctl->txn_err);
    ctl->txn = NULL;
    return ctl_committed(ctl, ctl->txn_err);
}

/* Waits for the commit in flight, if any, and releases its batch.
 * False when it failed (mignetd must stop). */
static bool
ctl_txn_finish(struct ctl *ctl)
{
    if (!ctl->txn) {
        return true;
    }
    pthread_join(ctl->txn_thread, NULL);
    return ctl_txn_end(ctl);
}

/* The store failed outside the loop's own end of batch: stop serving. */
static void
ctl_stop_failed(struct ctl *ctl)
{
    if (!ctl->exit_code) { /* CTL_EXIT_DEPOSED stays */
        ctl->exit_code = 1;
    }
    ctl->stopping = true;
    event_base_loopbreak(ctl->base);
}

static void
ctl_txn_done_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ctl *ctl = arg;
    (void) what;
    char b[16];
    while (read(fd, b, sizeof b) > 0) {
    }
    if (!ctl_txn_finish(ctl)) {
        ctl_stop_failed(ctl);
    }
    /* The open batch's commit starts at the end of this loop pass. */
}

/* Commits the open batch: sealed, then made durable -- in place, or
 * (ctl->pipeline) begun on the commit thread, released when it ends,
 * while the next batch fills.  Only with no commit in flight.  False
 * when the store failed (mignetd must stop). */
static bool
ctl_commit_open(struct ctl *ctl)
{
    ctl_seal(ctl);
    if (!ctl->dirty) {
        return ctl_release(ctl, 0);
    }
    ctl->dirty = false;
    ctl->txn_t0 = clock_mono_s();
    if (!ctl->pipeline) {
        return ctl_committed(ctl, store_commit(ctl->store));
    }
    int err = store_commit_begin(ctl->store, &ctl->txn);
    if (err || !ctl->txn) {
        return ctl_release(ctl, err);
    }
    err = pthread_create(&ctl->txn_thread, NULL, ctl_txn_main, ctl);
    if (err) { /* run it here */
        log_write(LOG_WARN, "store", "event=commit_thread_failed "
                  "err=\"%s\" action=commit_in_place", strerror(err));
        ctl->txn_err = store_commit_run(ctl->store, ctl->txn);
        return ctl_txn_end(ctl);
    }
    return true;
}

/* Ends the loop iteration: the open batch is committed, unless a commit
 * is in flight (it then waits for that one; ctl_txn_done_cb).  Returns
 * false when the store failed (the daemon must stop). */
static bool
ctl_end_batch(struct ctl *ctl)
{
    return ctl->txn ? true : ctl_commit_open(ctl);
}

/* Waits for every commit: the one in flight and the open batch's. */
static bool
ctl_end_all(struct ctl *ctl)
{
    if (!ctl_txn_finish(ctl) || !ctl_commit_open(ctl)) {
        return false;
    }
    return ctl_txn_finish(ctl);
}

/* Commits the batch so far (its answers and instructions go out) and
 * starts a new one.  False when the commit failed: mignetd stops. */
static bool
ctl_cut_batch(struct ctl *ctl)
{
    ctl->metrics.batches_cut++;
    /* The batch in flight first: then this one may begin. */
    if (!ctl_txn_finish(ctl) || !ctl_commit_open(ctl)) {
        ctl_stop_failed(ctl);
        return false;
    }
    return true;
}

/* The timer: the due tasks, as many as fit in the batch (and at most
 * 'batch_tasks'); the core then asks to run again at once, in the next
 * batch. */
static void
ctl_due_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ctl *ctl = arg;
    (void) fd;
    (void) what;
    if (ctl->stopping) {
        return;
    }
    if (store_pending(ctl->store) + CORE_TASK_RECORDS_MAX
            > ctl->batch_records
        && !ctl_cut_batch(ctl)) {
        return;
    }
    size_t fit = (ctl->batch_records - store_pending(ctl->store))
                 / CORE_TASK_RECORDS_MAX;
    size_t n = fit < ctl->batch_tasks ? fit : ctl->batch_tasks;
    ctl->dirty = true;
    /* Each ended lease logs its VM (ctl_sink_lease_ended). */
    core_run_some(ctl->core, clock_run_ms(), n ? n : 1);
}

bool
ctl_make_room(struct ctl *ctl)
{
    if (ctl->stopping) {
        return false;
    }
    if (store_pending(ctl->store) + CTL_EVENT_RECORDS_MAX
        <= ctl->batch_records) {
        return true;
    }
    return ctl_cut_batch(ctl);
}

static void
ctl_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct ctl *ctl = arg;
    (void) what;
    if (sig == SIGHUP) {
        ctl_reload(ctl);
        return;
    }
    log_write(LOG_INF, "ctl", "event=signal sig=%d action=shutdown",
              (int) sig);
    sdnotify("STOPPING=1");
    ctl->stopping = true;
    event_base_loopbreak(ctl->base);
}

/* ---- Core sink ---- */

static void
ctl_sink_instr(void *aux, const struct core_instr *in)
{
    struct ctl *ctl = aux;
    if (ctl->agents) {
        agent_server_instr(ctl->agents, in);
    }
}

static void
ctl_sink_map_change(void *aux, uint32_t vm, uint32_t node, bool removed,
                    uint64_t version)
{
    struct ctl *ctl = aux;
    (void) vm;
    (void) node;
    (void) removed;
    (void) version;
    vnet_ctl_placement_changed(ctl->vnet);
}

static void
ctl_sink_migration(void *aux, const struct core_migration *m)
{
    ctl_migration_changed(aux, m);
}

static void
ctl_sink_wrong_delete(void *aux, uint32_t vm, uint32_t node)
{
    struct ctl *ctl = aux;
    struct core_vm_info v;
    struct core_node_info n;
    ctl->metrics.wrong_deletes++;
    log_write(LOG_WARN, "core", "event=wrong_delete vm=%s node=%s",
              core_vm_info(ctl->core, vm, &v) ? v.name : "?",
              core_node_info(ctl->core, node, &n) ? n.name : "?");
}

/* A lease ended: which VM lost which address, one line each. */
static void
ctl_sink_lease_ended(void *aux, uint32_t vm, uint32_t node, uint32_t ip,
                     uint64_t expires_ms)
{
    struct ctl *ctl = aux;
    struct core_vm_info v;
    struct core_node_info n;
    char addr[ADDR_IPV4_STRLEN];
    addr_format_ipv4(ip, addr);
    (void) expires_ms; /* core time; the line's own time says when */
    log_write(LOG_INF, "core", "event=lease_ended vm=%s node=%s ip=%s",
              core_vm_info(ctl->core, vm, &v) ? v.name : "?",
              core_node_info(ctl->core, node, &n) ? n.name : "?", addr);
}

/* ---- Lifecycle ---- */

static void
ctl_store_path(const struct ctl *ctl, char *path, size_t n)
{
    if (options_store_is_etcd(&ctl->opts)) {
        snprintf(path, n, "%s%s", ctl->opts.store, ctl->opts.store_prefix);
    } else {
        snprintf(path, n, "%s/mignet.db", ctl->opts.state_dir);
    }
}

/* Opens the store; a missing, empty, damaged or incomplete one is refused
 * (store.h) unless --accept-store. */
static int
ctl_open_store(struct ctl *ctl)
{
    const char *dir = ctl->opts.state_dir;
    if (mkdir(dir, 0700) && errno != EEXIST) {
        log_write(LOG_ERROR, "ctl", "event=state_dir_failed dir=%s "
                  "err=\"%s\"", dir, strerror(errno));
        return -1;
    }
    char path[OPTIONS_PATH_MAX + OPTIONS_ADDR_MAX + 16], err[4096];
    ctl_store_path(ctl, path, sizeof path);
    if (options_store_is_etcd(&ctl->opts)) {
        struct etcd_tls tls;
        ctl->store = store_etcd_open(ctl->opts.store, ctl->opts.store_prefix,
                                     options_store_tls(&ctl->opts, &tls),
                                     err, sizeof err);
        if (ctl->store) {
            store_etcd_set_max_ops(ctl->store, ctl->opts.store_max_txn_ops);
            ctl->batch_records = ctl->opts.store_max_txn_ops;
            if (ctl->replica) { /* no commit unless this lease leads */
                store_etcd_set_guard(ctl->store, replica_key(ctl->replica),
                                     replica_lease(ctl->replica));
            }
            log_write(LOG_INF, "store", "event=etcd_opened store=%s "
                      "max_txn_ops=%u tls=%d client_cert=%d", path,
                      (unsigned) ctl->opts.store_max_txn_ops,
                      ctl->opts.store_cacert[0] != '\0',
                      ctl->opts.store_cert[0] != '\0');
        }
    } else {
        ctl->store = store_sqlite_open_flags(
            path, ctl->opts.accept_store ? STORE_SQLITE_ACCEPT : 0, err,
            sizeof err);
    }
    if (!ctl->store) {
        log_write(LOG_ERROR, "store", "event=open_failed err=\"%s\"", err);
        return -1;
    }
    /* A batch's bound: etcd's --max-txn-ops, or none (SQLite); the timer
     * runs at most so many tasks a batch (and 1024 at most, so that
     * answers are not held back behind a long run). */
    if (!ctl->batch_records) {
        ctl->batch_records = SIZE_MAX / 2;
    }
    size_t room = ctl->batch_records > CTL_EVENT_RECORDS_MAX
                      ? ctl->batch_records - CTL_EVENT_RECORDS_MAX
                      : 0;
    ctl->batch_tasks = room / CORE_TASK_RECORDS_MAX;
    if (ctl->batch_tasks < 1) {
        ctl->batch_tasks = 1;
    }
    if (ctl->batch_tasks > 1024) {
        ctl->batch_tasks = 1024;
    }
    return 0;
}

static void
ctl_free(struct ctl *ctl)
{
    /* No commit is in flight here: ctl_main ends every one it begins. */
    if (ctl->txn_done) {
        event_free(ctl->txn_done);
    }
    for (int i = 0; i < 2; i++) {
        if (ctl->txn_pipe[i] >= 0) {
            close(ctl->txn_pipe[i]);
        }
    }
    rest_destroy(ctl->rest);
    agent_server_destroy(ctl->agents);
    vnet_ctl_destroy(ctl->vnet);
    fabric_ctl_destroy(ctl->fabric);
    transfers_destroy(ctl->transfers);
    if (ctl->due_timer) {
        event_free(ctl->due_timer);
    }
    if (ctl->sig_term) {
        event_free(ctl->sig_term);
    }
    if (ctl->sig_int) {
        event_free(ctl->sig_int);
    }
    if (ctl->sig_hup) {
        event_free(ctl->sig_hup);
    }
    core_destroy(ctl->core);
    store_destroy(ctl->store);
    replica_destroy(ctl->replica); /* its timer is on ctl->base */
    if (ctl->base) {
        event_base_free(ctl->base);
    }
    /* Answers never sent (a deposed leader answers nothing more): their
     * requests go with the listener, their bodies here. */
    for (size_t i = 0; i < ctl->n_replies; i++) {
        if (ctl->replies[i].body) {
            evbuffer_free(ctl->replies[i].body);
        }
    }
    for (size_t i = 0; i < ctl->n_sealed; i++) {
        if (ctl->sealed[i].body) {
            evbuffer_free(ctl->sealed[i].body);
        }
    }
    free(ctl->replies);
    free(ctl->sealed);
}

static int
ctl_start(struct ctl *ctl)
{
    char err[512] = "";
    log_set_level(ctl->opts.log_level);
    signal(SIGPIPE, SIG_IGN);
    /* The core's clock for this run: the wall clock now, then elapsed
     * time only (docs/mignetd.md "Time"). */
    clock_run_start();
    if (clock_test_file()) {
        log_write(LOG_WARN, "ctl", "event=test_clock file=%s "
                  "wall_ms=%" PRIu64 " (MIGNET_TEST_CLOCK_FILE: for tests "
                  "only)", clock_test_file(), clock_wall_ms());
    }
    if (ctl_open_store(ctl)) {
        return -1;
    }
    struct core_sink sink = {
        .instr = ctl_sink_instr,
        .migration = ctl_sink_migration,
        .map_change = ctl_sink_map_change,
        .wrong_delete = ctl_sink_wrong_delete,
        .lease_ended = ctl_sink_lease_ended,
        .aux = ctl,
    };
    ctl->core = core_create(&ctl->opts.core, ctl->store, &sink);
    enum core_err cerr = core_load(ctl->core);
    if (cerr) {
        char path[OPTIONS_PATH_MAX + OPTIONS_ADDR_MAX + 16];
        ctl_store_path(ctl, path, sizeof path);
        log_write(LOG_ERROR, "store", "event=load_failed file=%s err=%s "
                  "msg=\"records fail their checksums or do not fit "
                  "together: refusing to start with less state\"", path,
                  core_errname(cerr));
        return -1;
    }
    struct core_stats st;
    core_get_stats(ctl->core, &st);
    log_write(LOG_INF, "ctl", "event=loaded vms=%zu nodes=%zu tasks=%" PRIu64
              " map_version=%" PRIu64, core_n_vms(ctl->core),
              core_n_nodes(ctl->core), st.tasks_pending,
              core_map_version(ctl->core));

    ctl->base = event_base_new();
    if (!ctl->base) {
        log_write(LOG_ERROR, "ctl", "event=event_base_failed");
        return -1;
    }
    ctl->rest = rest_create(ctl, err, sizeof err);
    if (ctl->rest) {
        ctl->agents = agent_server_create(ctl, err, sizeof err);
    }
    if (!ctl->rest || !ctl->agents) {
        log_write(LOG_ERROR, "ctl", "event=listen_failed err=\"%s\"", err);
        return -1;
    }
    ctl->transfers = transfers_create();
    ctl->vnet = vnet_ctl_create(ctl, err, sizeof err);
    if (!ctl->vnet) {
        log_write(LOG_ERROR, "vnet", "event=setup_failed err=\"%s\"", err);
        return -1;
    }
    /* The tenant virtual switches the store holds (the core skipped
     * them): a damaged one stops the start like a damaged core record. */
    size_t n_vswitches;
    if (rest_vswitch_load(ctl, &n_vswitches, err, sizeof err)) {
        char path[OPTIONS_PATH_MAX + OPTIONS_ADDR_MAX + 16];
        ctl_store_path(ctl, path, sizeof path);
        log_write(LOG_ERROR, "store", "event=load_failed file=%s "
                  "err=vswitch msg=\"%s: refusing to start with less "
                  "state\"", path, err);
        return -1;
    }
    if (n_vswitches) {
        log_write(LOG_INF, "ctl", "event=vswitches_loaded n=%zu",
                  n_vswitches);
    }
    ctl->fabric = fabric_ctl_create(ctl, err, sizeof err);
    if (!ctl->fabric) {
        log_write(LOG_ERROR, "fabric", "event=topology_failed err=\"%s\"",
                  err);
        return -1;
    }
    ctl->due_timer = evtimer_new(ctl->base, ctl_due_cb, ctl);
    /* Pipelined commits where the store can (docs/ha.md): the commit
     * thread says it is done on a pipe the loop watches. */
    if (store_can_pipeline(ctl->store) && !ctl->opts.serial_commits) {
        if (pipe2(ctl->txn_pipe, O_CLOEXEC | O_NONBLOCK)) {
            log_write(LOG_ERROR, "ctl", "event=pipe_failed err=\"%s\"",
                      strerror(errno));
            return -1;
        }
        ctl->txn_done = event_new(ctl->base, ctl->txn_pipe[0],
                                  EV_READ | EV_PERSIST, ctl_txn_done_cb,
                                  ctl);
        if (!ctl->txn_done || event_add(ctl->txn_done, NULL)) {
            log_write(LOG_ERROR, "ctl", "event=event_failed");
            return -1;
        }
        ctl->pipeline = true;
    }
    ctl->sig_term = evsignal_new(ctl->base, SIGTERM, ctl_signal_cb, ctl);
    ctl->sig_int = evsignal_new(ctl->base, SIGINT, ctl_signal_cb, ctl);
    ctl->sig_hup = evsignal_new(ctl->base, SIGHUP, ctl_signal_cb, ctl);
    if (!ctl->due_timer || !ctl->sig_term || !ctl->sig_int || !ctl->sig_hup
        || evsignal_add(ctl->sig_term, NULL)
        || evsignal_add(ctl->sig_int, NULL)
        || evsignal_add(ctl->sig_hup, NULL)) {
        log_write(LOG_ERROR, "ctl", "event=setup_failed");
        return -1;
    }
    /* The first batch applies the restart rule (core_run), then tasks
     * run at their times. */
    ctl_arm_timer(ctl);
    return 0;
}

uint32_t
ctl_node_by_token(struct ctl *ctl, const char *token)
{
    return node_token_find(ctl->core, token);
}

/* The leader's lease may have expired (replica.h): stop serving now;
 * nothing of this batch is committed (the guard would refuse it). */
static void
ctl_deposed(void *aux)
{
    struct ctl *ctl = aux;
    ctl->exit_code = CTL_EXIT_DEPOSED;
    ctl->stopping = true;
    event_base_loopbreak(ctl->base);
}

/* --replica: follows until elected (0), stopped by a signal (-1) or
 * failed (1). */
static int
ctl_follow(struct ctl *ctl)
{
    char err[512] = "";
    ctl->replica = replica_create(&ctl->opts, err, sizeof err);
    if (!ctl->replica) {
        log_write(LOG_ERROR, "replica", "event=setup_failed err=\"%s\"",
                  err);
        return 1;
    }
    int r = replica_follow(ctl->replica);
    return r == 0 ? 0 : r == 1 ? -1 : 1;
}

int
ctl_main(const struct mignetd_options *opts, int argc, char **argv)
{
    struct ctl ctl = {.txn_pipe = {-1, -1}};
    ctl.opts = *opts;
    ctl.argc = argc;
    ctl.argv = argv;
    metrics_init(&ctl.metrics);
    log_set_level(ctl.opts.log_level);
    if (ctl.opts.replica[0]) {
        int r = ctl_follow(&ctl);
        if (r) {
            ctl_free(&ctl);
            return r < 0 ? 0 : r;
        }
    }
    if (ctl_start(&ctl)
        || (ctl.replica
            && replica_lead(ctl.replica, ctl.base, ctl_deposed, &ctl))) {
        ctl_free(&ctl);
        return 1;
    }
    printf("mignetd ready rest=%s agents=%s state=%s\n", ctl.rest_addr,
           ctl.agent_addr, ctl.opts.state_dir);
    fflush(stdout);
    log_write(LOG_INF, "ctl", "event=ready rest=%s agents=%s state=%s "
              "strategy=%s tls=%d", ctl.rest_addr, ctl.agent_addr,
              ctl.opts.state_dir, ctl.opts.strategy,
              ctl.opts.tls_cert[0] != '\0');
    sdnotifyf("READY=1\nSTATUS=serving rest=%s agents=%s", ctl.rest_addr,
              ctl.agent_addr);

    while (!ctl.stopping) {
        if (event_base_loop(ctl.base, EVLOOP_ONCE) < 0) {
            log_write(LOG_ERROR, "ctl", "event=loop_failed");
            ctl.exit_code = 1;
            break;
        }
        if (ctl.exit_code == CTL_EXIT_DEPOSED) {
            break;
        }
        if (!ctl_end_batch(&ctl)) {
            if (!ctl.exit_code) {
                ctl.exit_code = 1;
            }
            break;
        }
    }
    /* Let the answers of the last batches leave before closing (a
     * deposed leader answers nothing more: its commit would be refused;
     * the one in flight, begun before, still ends and says how). */
    bool ended = ctl.exit_code == CTL_EXIT_DEPOSED ? ctl_txn_finish(&ctl)
                                                   : ctl_end_all(&ctl);
    if (!ended) {
        ctl.exit_code = ctl.exit_code ? ctl.exit_code : 1;
    }
    event_base_loop(ctl.base, EVLOOP_NONBLOCK);
    log_write(LOG_INF, "ctl", "event=stopped code=%d", ctl.exit_code);
    ctl_free(&ctl);
    return ctl.exit_code;
}
