/* mignet-qemu: follows one QEMU live migration over QMP and makes the
 * matching mignet calls -- start a migration on `setup`, switch over on
 * `completed` (manual), abort on `failed`/`cancelled` -- and in `lossless`
 * mode holds QEMU's convergence (a tiny max-bandwidth and downtime-limit)
 * until mignet has switched the network, then releases it.
 *
 * For operators who run QEMU directly; libvirt users have the hook in
 * contrib/libvirt.  Every wait is bounded; it prints one JSON line with
 * what happened and when (docs/qemu.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/http_client.h"
#include "lib/json.h"
#include "lib/qmp.h"
#include "lib/stopflag.h"
#include "lib/strbuf.h"
#include "lib/util.h"

/* Exit codes (also in --help and docs/qemu.md). */
enum {
    EXIT_DONE = 0,        /* QEMU completed; every mignet call succeeded */
    EXIT_QEMU = 1,        /* QMP error, a timeout, or interrupted */
    EXIT_USAGE = 2,
    EXIT_MIGNET = 3,      /* mignetd unreachable or refused a call */
    EXIT_ABORTED = 4,     /* QEMU's migration failed or was cancelled;
                           * mignet's migration was aborted */
};

enum mode { MODE_RARP, MODE_MANUAL, MODE_LOSSLESS };
static const char *const mode_names[] = {"rarp", "manual", "lossless"};

/* Where a lossless migration stands. */
enum stage {
    ST_IDLE,         /* no migration seen yet */
    ST_PREPARING,    /* mignet migration started, waiting for `prepared` */
    ST_PRECOPY,      /* released for pre-copy, watching the remaining RAM */
    ST_CONFIRMING,   /* switched over, waiting for mignet's confirmation */
    ST_RELEASED,     /* QEMU may stop the VM and complete */
    ST_DONE,
};

struct opts {
    const char *qmp, *dst_qmp, *vm, *to, *url, *migrate_uri;
    enum mode mode;
    uint64_t max_bandwidth;        /* 0: leave QEMU's */
    uint64_t downtime_limit;       /* UINT64_MAX: leave QEMU's */
    uint64_t hold_bandwidth, hold_downtime;
    uint64_t switch_remaining;
    uint64_t prepare_deadline_ms;  /* 0: mignet's default */
    uint64_t poll_ms, timeout_ms, step_timeout_ms, http_timeout_ms;
};

/* Wall-clock times in microseconds; 0 = did not happen. */
struct times {
    uint64_t setup, migrate_call, prepared, switch_call, confirmed, release;
    uint64_t stop, completed, resume, activation_call, abort_call;
};

struct run {
    struct opts o;
    struct qmp *src, *dst;
    struct http_url url;
    struct http_opts http; /* $MIGNET_TOKEN, $MIGNET_CACERT */
    enum stage stage;
    uint64_t mig_id;
    bool have_mig;
    bool started_by_us;       /* --migrate-uri */
    bool touched_params;      /* lossless: QEMU's parameters to restore */
    uint64_t orig_bw, orig_dt;
    uint64_t run_bw, release_dt;
    bool frozen;              /* lossless: max-bandwidth at the hold */
    bool switched, held;
    uint64_t remaining_at_switch;
    const char *result;       /* "completed", "failed", "cancelled", NULL */
    double qemu_downtime_ms;  /* NAN until known */
    uint64_t stage_deadline;  /* mono ms for the current stage's wait */
    struct times t;
    char err[512];
};

static void
usage(FILE *f)
{
    fputs(
"usage: mignet-qemu --qmp SOCKET --vm ID --to NODE --switchover MODE\n"
"                   [--url URL] [--dst-qmp SOCKET] [--migrate-uri URI]\n"
"                   [--max-bandwidth BYTES_S] [--downtime-limit MS]\n"
"                   [--switch-remaining BYTES] [--hold-bandwidth BYTES_S]\n"
"                   [--hold-downtime MS] [--prepare-deadline-ms MS]\n"
"                   [--poll-ms 5] [--step-timeout-ms 10000]\n"
"                   [--timeout-ms 600000] [--http-timeout-ms 5000]\n"
"Follows the QEMU live migration of the source QEMU whose QMP socket is\n"
"SOCKET and makes mignet's calls (MODE: rarp, manual or lossless):\n"
"  setup      POST /v1/vms/ID/migrate {to, switchover}\n"
"  completed  manual: POST /v1/migrations/M/switchover;\n"
"             lossless: the activation call (switchover again) after the\n"
"             destination's RESUME (--dst-qmp) or at once\n"
"  failed, cancelled  POST /v1/migrations/M/abort {reason}\n"
"lossless holds QEMU's convergence from the start (max-bandwidth\n"
"--hold-bandwidth, default 10 B/s: QEMU's smallest that limits; downtime-\n"
"limit --hold-downtime, default 1 ms), lets pre-copy run at the normal\n"
"bandwidth once mignet's migration is `prepared`, freezes it again when\n"
"QEMU's remaining RAM is at most --switch-remaining (default 32 MiB),\n"
"switches over, waits for mignet's confirmation (phase relaying) and then\n"
"releases QEMU (normal bandwidth, --downtime-limit or QEMU's previous\n"
"downtime-limit) so it stops the VM and completes.  QEMU's previous\n"
"parameters are restored at the end.\n"
"--migrate-uri tcp:ADDR:PORT starts the migration too (after setting\n"
"--max-bandwidth and --downtime-limit: they stick across migrations).\n"
"--url defaults to $MIGNET_URL or http://127.0.0.1:7480 (https:// too:\n"
"the server is verified against $MIGNET_CACERT, else the system's CAs).\n"
"With mignetd's --api-tokens, $MIGNET_TOKEN is sent as the bearer token\n"
"(role vmm).  Prints one JSON line: the result and the times (Unix us) of\n"
"QEMU's events and the calls.\n"
"Exit: 0 completed and every mignet call succeeded; 1 QMP error, timeout\n"
"or interrupted; 2 usage; 3 mignetd unreachable or refused a call; 4 the\n"
"QEMU migration failed or was cancelled (mignet's migration aborted).\n",
        f);
}

static int
die_usage(const char *what)
{
    fprintf(stderr, "mignet-qemu: %s\n", what);
    usage(stderr);
    return EXIT_USAGE;
}

static uint64_t
now_us(void)
{
    return clock_wall_us();
}

/* ---- mignet's REST API ---- */

/* Sends 'method' 'path' with 'body' (taken; NULL for none).  Returns 0 on
 * a 2xx answer with '*reply' (if not NULL) its JSON body; else EXIT_MIGNET
 * with 'r->err' explaining. */
static int
rest(struct run *r, const char *method, const char *path, json_t *body,
     json_t **reply)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct http_response resp;
    http_response_init(&resp);
    char err[256] = "";
    enum http_err e = http_request_opts(&r->url, &r->http, method, path,
                                        text, text ? strlen(text) : 0,
                                        (int) r->o.http_timeout_ms, &resp,
                                        err, sizeof err);
    free(text);
    int rc = 0;
    if (e != HTTP_E_OK) {
        snprintf(r->err, sizeof r->err, "%s %s: %s (%s)", method, path,
                 http_strerror(e), err);
        rc = EXIT_MIGNET;
    } else if (resp.status < 200 || resp.status > 299) {
        snprintf(r->err, sizeof r->err, "%s %s: HTTP %d: %.300s", method,
                 path, resp.status, resp.body);
        rc = EXIT_MIGNET;
    } else if (reply) {
        json_error_t jerr;
        *reply = json_loadb(resp.body, resp.body_len, 0, &jerr);
        if (!json_is_object(*reply)) {
            json_decref(*reply);
            *reply = NULL;
            snprintf(r->err, sizeof r->err, "%s %s: answer not a JSON "
                     "object", method, path);
            rc = EXIT_MIGNET;
        }
    }
    http_response_destroy(&resp);
    return rc;
}

static int
post_migrate(struct run *r)
{
    char path[512];
    struct strbuf vm;
    strbuf_init(&vm);
    if (http_escape(&vm, r->o.vm)) {
        strbuf_destroy(&vm);
        snprintf(r->err, sizeof r->err, "out of memory");
        return EXIT_MIGNET;
    }
    snprintf(path, sizeof path, "/v1/vms/%s/migrate", strbuf_str(&vm));
    strbuf_destroy(&vm);
    json_t *body = json_pack("{s:s, s:s}", "to", r->o.to, "switchover",
                             mode_names[r->o.mode]);
    if (r->o.prepare_deadline_ms) {
        json_object_set_new(body, "prepare_deadline_ms",
                            js_u64(r->o.prepare_deadline_ms));
    }
    json_t *reply = NULL;
    r->t.migrate_call = now_us();
    int rc = rest(r, "POST", path, body, &reply);
    if (rc) {
        return rc;
    }
    /* The answer names the migration "migration" (and its view "id"). */
    json_t *id = json_object_get(reply, "migration");
    if (!json_is_integer(id)) {
        id = json_object_get(reply, "id");
    }
    if (!json_is_integer(id) || json_integer_value(id) < 0) {
        snprintf(r->err, sizeof r->err, "POST %.400s: no migration id in the "
                 "answer", path);
        json_decref(reply);
        return EXIT_MIGNET;
    }
    r->mig_id = (uint64_t) json_integer_value(id);
    r->have_mig = true;
    json_decref(reply);
    fprintf(stderr, "mignet-qemu: vm %s: mignet migration %" PRIu64
            " (%s) started\n", r->o.vm, r->mig_id, mode_names[r->o.mode]);
    return 0;
}

/* POST /v1/migrations/ID/ACTION with 'body' (taken). */
static int
post_action(struct run *r, const char *action, json_t *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/migrations/%" PRIu64 "/%s", r->mig_id,
             action);
    return rest(r, "POST", path, body ? body : json_object(), NULL);
}

/* The migration's phase into 'phase' (GET /v1/migrations/ID). */
static int
get_phase(struct run *r, char *phase, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/migrations/%" PRIu64, r->mig_id);
    json_t *view = NULL;
    int rc = rest(r, "GET", path, NULL, &view);
    if (rc) {
        return rc;
    }
    const char *p = json_string_value(json_object_get(view, "phase"));
    if (!p) {
        snprintf(r->err, sizeof r->err, "GET %s: no phase", path);
        json_decref(view);
        return EXIT_MIGNET;
    }
    snprintf(phase, len, "%s", p);
    json_decref(view);
    return 0;
}

static bool
phase_in(const char *phase, const char *const *set)
{
    for (; *set; set++) {
        if (!strcmp(phase, *set)) {
            return true;
        }
    }
    return false;
}

/* ---- QEMU ---- */

static int
qmp_call(struct run *r, const char *cmd, json_t *args, json_t **ret)
{
    char err[400];
    int rc = qmp_execute(r->src, cmd, args, (int) r->o.step_timeout_ms, ret,
                         err, sizeof err);
    if (rc) {
        snprintf(r->err, sizeof r->err, "QMP %s: %s", cmd, err);
        return EXIT_QEMU;
    }
    return 0;
}

/* migrate-set-parameters max-bandwidth 'bw' (bytes/s) and downtime-limit
 * 'dt' (ms); UINT64_MAX leaves one as it is. */
static int
set_params(struct run *r, uint64_t bw, uint64_t dt)
{
    json_t *args = json_object();
    if (bw != UINT64_MAX) {
        json_object_set_new(args, "max-bandwidth", js_u64(bw));
    }
    if (dt != UINT64_MAX) {
        json_object_set_new(args, "downtime-limit", js_u64(dt));
    }
    if (!json_object_size(args)) {
        json_decref(args);
        return 0;
    }
    return qmp_call(r, "migrate-set-parameters", args, NULL);
}

/* QEMU's ram remaining (query-migrate) into '*remaining' and the status
 * into 'status'. */
static int
query_migrate(struct run *r, char *status, size_t len, uint64_t *remaining,
              double *downtime_ms)
{
    json_t *ret = NULL;
    int rc = qmp_call(r, "query-migrate", NULL, &ret);
    if (rc) {
        return rc;
    }
    const char *s = json_string_value(json_object_get(ret, "status"));
    snprintf(status, len, "%s", s ? s : "none");
    json_t *rem = json_object_get(json_object_get(ret, "ram"), "remaining");
    *remaining = json_is_integer(rem) && json_integer_value(rem) >= 0
                 ? (uint64_t) json_integer_value(rem) : UINT64_MAX;
    json_t *dt = json_object_get(ret, "downtime");
    if (downtime_ms && json_is_integer(dt)) {
        *downtime_ms = (double) json_integer_value(dt);
    }
    json_decref(ret);
    return 0;
}

/* lossless: remembers QEMU's parameters and holds its convergence. */
static int
hold_start(struct run *r)
{
    json_t *ret = NULL;
    int rc = qmp_call(r, "query-migrate-parameters", NULL, &ret);
    if (rc) {
        return rc;
    }
    json_t *bw = json_object_get(ret, "max-bandwidth");
    json_t *dt = json_object_get(ret, "downtime-limit");
    if (!json_is_integer(bw) || !json_is_integer(dt)
        || json_integer_value(bw) < 0 || json_integer_value(dt) < 0) {
        json_decref(ret);
        snprintf(r->err, sizeof r->err, "query-migrate-parameters: no "
                 "max-bandwidth or downtime-limit");
        return EXIT_QEMU;
    }
    r->orig_bw = (uint64_t) json_integer_value(bw);
    r->orig_dt = (uint64_t) json_integer_value(dt);
    json_decref(ret);
    r->run_bw = r->o.max_bandwidth ? r->o.max_bandwidth : r->orig_bw;
    r->release_dt = r->o.downtime_limit != UINT64_MAX ? r->o.downtime_limit
                                                       : r->orig_dt;
    r->touched_params = true;
    r->frozen = true;
    return set_params(r, r->o.hold_bandwidth, r->o.hold_downtime);
}

/* Puts back what hold_start() found (best effort, at the end). */
static void
hold_restore(struct run *r)
{
    if (!r->touched_params) {
        return;
    }
    char save[sizeof r->err];
    memcpy(save, r->err, sizeof save);
    if (set_params(r, r->orig_bw, r->orig_dt)) {
        fprintf(stderr, "mignet-qemu: warning: cannot restore QEMU's "
                "parameters: %s\n", r->err);
    }
    memcpy(r->err, save, sizeof save);
    r->touched_params = false;
}

/* Cancels QEMU's migration after an error we cannot recover from (only
 * one we started or hold). */
static void
cancel_qemu(struct run *r)
{
    if (!r->started_by_us && r->o.mode != MODE_LOSSLESS) {
        return;
    }
    char save[sizeof r->err];
    memcpy(save, r->err, sizeof save);
    if (qmp_call(r, "migrate_cancel", NULL, NULL)) {
        fprintf(stderr, "mignet-qemu: warning: migrate_cancel: %s\n",
                r->err);
    } else {
        fprintf(stderr, "mignet-qemu: QEMU's migration cancelled\n");
    }
    memcpy(r->err, save, sizeof save);
}

/* ---- the follower ---- */

static int
on_setup(struct run *r, uint64_t ts)
{
    if (r->have_mig) {
        return 0;
    }
    r->t.setup = ts ? ts : now_us();
    int rc = post_migrate(r);
    if (rc) {
        return rc;
    }
    if (r->o.mode == MODE_LOSSLESS) {
        r->stage = ST_PREPARING;
        r->stage_deadline = clock_mono_ms() + r->o.step_timeout_ms;
    }
    return 0;
}

static const char *const prepared_set[] = {
    "prepared", "relaying", "cleaning", "cleaned", NULL,
};
static const char *const confirmed_set[] = {
    "relaying", "cleaning", "cleaned", NULL,
};

/* lossless: freezes QEMU, switches over, waits for the confirmation. */
static int
switch_now(struct run *r, uint64_t remaining)
{
    int rc;
    if (!r->frozen) {
        if ((rc = set_params(r, r->o.hold_bandwidth, UINT64_MAX))) {
            return rc;
        }
        r->frozen = true;
    }
    r->remaining_at_switch = remaining;
    r->t.switch_call = now_us();
    rc = post_action(r, "switchover", NULL);
    if (rc) {
        return rc;
    }
    r->switched = true;
    r->held = true;
    r->stage = ST_CONFIRMING;
    r->stage_deadline = clock_mono_ms() + r->o.step_timeout_ms;
    return 0;
}

/* One step of the lossless stages, run every poll interval. */
static int
lossless_tick(struct run *r)
{
    char phase[64], status[64];
    uint64_t remaining;
    int rc;
    switch (r->stage) {
    case ST_PREPARING:
        if ((rc = get_phase(r, phase, sizeof phase))) {
            return rc;
        }
        if (!strcmp(phase, "aborted")) {
            snprintf(r->err, sizeof r->err, "mignet aborted migration %"
                     PRIu64 " before it was prepared", r->mig_id);
            return EXIT_MIGNET;
        }
        if (phase_in(phase, prepared_set)) {
            r->t.prepared = now_us();
            r->stage = ST_PRECOPY;
            return lossless_tick(r);
        }
        if (clock_mono_ms() > r->stage_deadline) {
            snprintf(r->err, sizeof r->err, "migration %" PRIu64 " not "
                     "prepared within %" PRIu64 " ms (phase %s)", r->mig_id,
                     r->o.step_timeout_ms, phase);
            return EXIT_MIGNET;
        }
        return 0;
    case ST_PRECOPY:
        if ((rc = query_migrate(r, status, sizeof status, &remaining,
                                NULL))) {
            return rc;
        }
        if (!strcmp(status, "active") && remaining <= r->o.switch_remaining) {
            return switch_now(r, remaining);
        }
        if (r->frozen) {
            /* Pre-copy at the normal bandwidth until the RAM left is
             * small. */
            if ((rc = set_params(r, r->run_bw, UINT64_MAX))) {
                return rc;
            }
            r->frozen = false;
        }
        return 0;
    case ST_CONFIRMING:
        if ((rc = get_phase(r, phase, sizeof phase))) {
            return rc;
        }
        if (phase_in(phase, confirmed_set)) {
            r->t.confirmed = now_us();
            if ((rc = set_params(r, r->run_bw, r->release_dt))) {
                return rc;
            }
            r->frozen = false;
            r->t.release = now_us();
            r->stage = ST_RELEASED;
            return 0;
        }
        if (clock_mono_ms() > r->stage_deadline) {
            snprintf(r->err, sizeof r->err, "switch-over of migration %"
                     PRIu64 " not confirmed within %" PRIu64 " ms (phase "
                     "%s)", r->mig_id, r->o.step_timeout_ms, phase);
            return EXIT_MIGNET;
        }
        return 0;
    case ST_IDLE:
    case ST_RELEASED:
    case ST_DONE:
        return 0;
    }
    return 0;
}

/* The destination's RESUME timestamp, waited for at most one step. */
static void
wait_resume(struct run *r)
{
    if (!r->dst) {
        return;
    }
    int64_t deadline = (int64_t) clock_mono_ms()
                       + (int64_t) r->o.step_timeout_ms;
    for (;;) {
        int64_t left = deadline - (int64_t) clock_mono_ms();
        if (left <= 0 || stopflag_raised()) {
            fprintf(stderr, "mignet-qemu: warning: no RESUME from the "
                    "destination within %" PRIu64 " ms\n",
                    r->o.step_timeout_ms);
            return;
        }
        struct qmp_msg ev;
        char err[256];
        int rc = qmp_next_event(r->dst, (int) left, &ev, err, sizeof err);
        if (rc) {
            if (rc != ETIMEDOUT) {
                fprintf(stderr, "mignet-qemu: warning: destination QMP: "
                        "%s\n", err);
                return;
            }
            continue;
        }
        bool resume = !strcmp(ev.event, "RESUME");
        uint64_t ts = ev.ts_us;
        qmp_msg_destroy(&ev);
        if (resume) {
            r->t.resume = ts ? ts : now_us();
            return;
        }
    }
}

/* QEMU's downtime figure; it may read 0 at the instant of completion. */
static void
read_downtime(struct run *r)
{
    for (int i = 0; i < 5; i++) {
        char status[64];
        uint64_t remaining;
        double dt = NAN;
        if (query_migrate(r, status, sizeof status, &remaining, &dt)) {
            return;
        }
        if (isfinite(dt) && dt > 0) {
            r->qemu_downtime_ms = dt;
            return;
        }
    }
}

/* The calls for QEMU's `completed`, without QEMU's downtime figure. */
static int
completed_calls(struct run *r)
{
    int rc;
    if (r->o.mode == MODE_MANUAL) {
        r->t.switch_call = now_us();
        rc = post_action(r, "switchover", NULL);
        wait_resume(r);
        return rc;
    }
    if (r->o.mode != MODE_LOSSLESS) {
        wait_resume(r);
        return 0;
    }
    if (!r->switched) {
        /* QEMU converged before the hold: switch now, as manual. */
        fprintf(stderr, "mignet-qemu: warning: QEMU completed before the "
                "switch-over (hold lost); switching now\n");
        r->t.switch_call = now_us();
        if ((rc = post_action(r, "switchover", NULL))) {
            return rc;
        }
        r->switched = true;
    }
    wait_resume(r);
    r->t.activation_call = now_us();
    return post_action(r, "switchover", NULL);
}

static int
on_completed(struct run *r)
{
    if (!r->have_mig) {
        snprintf(r->err, sizeof r->err, "QEMU completed a migration whose "
                 "setup was not seen");
        return EXIT_QEMU;
    }
    r->stage = ST_DONE;
    if (r->held && r->t.stop && r->t.stop < r->t.switch_call) {
        fprintf(stderr, "mignet-qemu: warning: QEMU stopped the VM before "
                "the switch-over call (hold lost)\n");
    }
    int rc = completed_calls(r);
    read_downtime(r);
    return rc;
}

static int
on_failed(struct run *r, const char *status)
{
    r->stage = ST_DONE;
    if (!r->have_mig) {
        return EXIT_ABORTED;
    }
    char reason[96];
    snprintf(reason, sizeof reason, "qemu migration %s", status);
    r->t.abort_call = now_us();
    int rc = post_action(r, "abort", json_pack("{s:s}", "reason", reason));
    return rc ? rc : EXIT_ABORTED;
}

/* Handles one event of the source; sets 'r->result' when the migration
 * ended. */
static int
on_event(struct run *r, const struct qmp_msg *ev)
{
    if (!strcmp(ev->event, "STOP")) {
        if (r->t.setup && !r->t.stop) {
            r->t.stop = ev->ts_us ? ev->ts_us : now_us();
        }
        return 0;
    }
    const char *status = qmp_migration_status(ev);
    if (!status) {
        return 0;
    }
    fprintf(stderr, "mignet-qemu: vm %s: QEMU migration %s\n", r->o.vm,
            status);
    if (!strcmp(status, "setup") || !strcmp(status, "active")) {
        return on_setup(r, ev->ts_us);
    }
    if (!strcmp(status, "completed")) {
        r->t.completed = ev->ts_us ? ev->ts_us : now_us();
        r->result = "completed";
        return on_completed(r);
    }
    if (!strcmp(status, "failed") || !strcmp(status, "cancelled")) {
        r->result = !strcmp(status, "failed") ? "failed" : "cancelled";
        return on_failed(r, r->result);
    }
    return 0;
}

static json_t *
js_us(uint64_t us)
{
    return us ? js_u64(us) : json_null();
}

static json_t *
js_gap(uint64_t from, uint64_t to)
{
    return from && to ? js_ms(((double) to - (double) from) / 1000.0)
                      : json_null();
}

static void
print_report(const struct run *r, int rc)
{
    const struct times *t = &r->t;
    /* QEMU may have begun to stop the VM before the freeze took effect:
     * then the switch did not come first. */
    bool held = r->held && !(t->stop && t->stop < t->switch_call);
    json_t *o = json_object();
    bool ok = js_set(o, "vm", json_string(r->o.vm))
        && js_set(o, "to", json_string(r->o.to))
        && js_set(o, "switchover", json_string(mode_names[r->o.mode]))
        && js_set(o, "migration", r->have_mig ? js_u64(r->mig_id)
                                              : json_null())
        && js_set(o, "result", r->result ? json_string(r->result)
                                         : json_null())
        && js_set(o, "exit", json_integer(rc))
        && js_set(o, "error", rc && rc != EXIT_ABORTED
                              ? json_string(r->err) : json_null())
        && js_set(o, "held", json_boolean(held))
        && js_set(o, "remaining_at_switch", r->held
                  ? js_u64(r->remaining_at_switch) : json_null())
        && js_set(o, "setup_unix_us", js_us(t->setup))
        && js_set(o, "migrate_call_unix_us", js_us(t->migrate_call))
        && js_set(o, "prepared_unix_us", js_us(t->prepared))
        && js_set(o, "switchover_call_unix_us", js_us(t->switch_call))
        && js_set(o, "confirmed_unix_us", js_us(t->confirmed))
        && js_set(o, "release_unix_us", js_us(t->release))
        && js_set(o, "stop_unix_us", js_us(t->stop))
        && js_set(o, "completed_unix_us", js_us(t->completed))
        && js_set(o, "resume_unix_us", js_us(t->resume))
        && js_set(o, "activation_call_unix_us", js_us(t->activation_call))
        && js_set(o, "abort_call_unix_us", js_us(t->abort_call))
        && js_set(o, "switch_confirm_ms", js_gap(t->switch_call,
                                                 t->confirmed))
        && js_set(o, "release_to_stop_ms", js_gap(t->release, t->stop))
        && js_set(o, "pause_ms", js_gap(t->stop, t->resume))
        && js_set(o, "qemu_downtime_ms", js_ms(r->qemu_downtime_ms));
    o = js_finish(o, ok);
    if (!o) {
        fprintf(stderr, "mignet-qemu: out of memory\n");
        return;
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER
                             | JSON_REAL_PRECISION(15));
    if (text) {
        puts(text);
        fflush(stdout);
        free(text);
    }
    json_decref(o);
}

/* Starts the migration (--migrate-uri) or notices one already running. */
static int
begin(struct run *r)
{
    char status[64];
    uint64_t remaining;
    int rc = query_migrate(r, status, sizeof status, &remaining, NULL);
    if (rc) {
        return rc;
    }
    bool running = !strcmp(status, "setup") || !strcmp(status, "active")
                   || !strcmp(status, "pre-switchover")
                   || !strcmp(status, "device");
    if (running && (r->o.migrate_uri || r->o.mode == MODE_LOSSLESS)) {
        snprintf(r->err, sizeof r->err, "a migration is already %s%s",
                 status, r->o.migrate_uri ? ""
                 : " (lossless must hold QEMU before it starts)");
        return EXIT_QEMU;
    }
    if (r->o.mode == MODE_LOSSLESS && (rc = hold_start(r))) {
        return rc;
    }
    if (r->o.migrate_uri) {
        if (r->o.mode != MODE_LOSSLESS
            && (rc = set_params(r, r->o.max_bandwidth ? r->o.max_bandwidth
                                                      : UINT64_MAX,
                                r->o.downtime_limit))) {
            return rc;
        }
        r->started_by_us = true;
        return qmp_call(r, "migrate",
                        json_pack("{s:s}", "uri", r->o.migrate_uri), NULL);
    }
    return running ? on_setup(r, 0) : 0;
}

static int
follow(struct run *r)
{
    int rc;
    if ((rc = begin(r))) {
        return rc;
    }
    /* A script that starts the migration itself waits for this line (in
     * lossless QEMU is held from here on). */
    fprintf(stderr, "mignet-qemu: ready: following vm %s (%s)\n", r->o.vm,
            mode_names[r->o.mode]);
    uint64_t deadline = clock_mono_ms() + r->o.timeout_ms;
    while (!r->result) {
        if (stopflag_raised()) {
            snprintf(r->err, sizeof r->err, "interrupted");
            return EXIT_QEMU;
        }
        if (clock_mono_ms() > deadline) {
            snprintf(r->err, sizeof r->err, "the migration did not end "
                     "within %" PRIu64 " ms", r->o.timeout_ms);
            return EXIT_QEMU;
        }
        struct qmp_msg ev;
        char err[400];
        int wait = r->stage == ST_IDLE || r->stage == ST_RELEASED
                   ? 100 : (int) r->o.poll_ms;
        rc = qmp_next_event(r->src, wait, &ev, err, sizeof err);
        if (rc == 0) {
            rc = on_event(r, &ev);
            qmp_msg_destroy(&ev);
            if (rc || r->result) {
                return rc;
            }
        } else if (rc != ETIMEDOUT) {
            snprintf(r->err, sizeof r->err, "source QMP: %s", err);
            return EXIT_QEMU;
        }
        if (r->o.mode == MODE_LOSSLESS && (rc = lossless_tick(r))) {
            return rc;
        }
    }
    return 0;
}

/* After an error: abort mignet's migration when QEMU's will not complete,
 * cancel QEMU's if we hold or started it. */
static void
clean_up_after_error(struct run *r)
{
    if (r->result || (r->o.mode != MODE_LOSSLESS && !r->started_by_us)) {
        return;
    }
    if (r->t.setup || r->started_by_us) {
        cancel_qemu(r);
    }
    if (!r->have_mig) {
        return;
    }
    char save[sizeof r->err];
    memcpy(save, r->err, sizeof save);
    r->t.abort_call = now_us();
    if (post_action(r, "abort", json_pack("{s:s}", "reason",
                                          "mignet-qemu error"))) {
        fprintf(stderr, "mignet-qemu: warning: abort: %s\n", r->err);
    }
    memcpy(r->err, save, sizeof save);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    enum {
        O_QMP = 256, O_DST, O_VM, O_TO, O_URL, O_MODE, O_URI, O_BW, O_DT,
        O_SWREM, O_HOLDBW, O_HOLDDT, O_DEADLINE, O_POLL, O_STEP, O_TIMEOUT,
        O_HTTP, O_HELP,
    };
    static const struct option opts[] = {
        {"qmp", required_argument, NULL, O_QMP},
        {"dst-qmp", required_argument, NULL, O_DST},
        {"vm", required_argument, NULL, O_VM},
        {"to", required_argument, NULL, O_TO},
        {"url", required_argument, NULL, O_URL},
        {"switchover", required_argument, NULL, O_MODE},
        {"migrate-uri", required_argument, NULL, O_URI},
        {"max-bandwidth", required_argument, NULL, O_BW},
        {"downtime-limit", required_argument, NULL, O_DT},
        {"switch-remaining", required_argument, NULL, O_SWREM},
        {"hold-bandwidth", required_argument, NULL, O_HOLDBW},
        {"hold-downtime", required_argument, NULL, O_HOLDDT},
        {"prepare-deadline-ms", required_argument, NULL, O_DEADLINE},
        {"poll-ms", required_argument, NULL, O_POLL},
        {"step-timeout-ms", required_argument, NULL, O_STEP},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"http-timeout-ms", required_argument, NULL, O_HTTP},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *mode = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case O_QMP: o->qmp = optarg; break;
        case O_DST: o->dst_qmp = optarg; break;
        case O_VM: o->vm = optarg; break;
        case O_TO: o->to = optarg; break;
        case O_URL: o->url = optarg; break;
        case O_MODE: mode = optarg; break;
        case O_URI: o->migrate_uri = optarg; break;
        case O_BW:
            ok = addr_parse_u64(optarg, 1, INT64_MAX, &o->max_bandwidth);
            break;
        case O_DT:
            ok = addr_parse_u64(optarg, 0, 2000000, &o->downtime_limit);
            break;
        case O_SWREM:
            ok = addr_parse_u64(optarg, 0, INT64_MAX, &o->switch_remaining);
            break;
        case O_HOLDBW:
            ok = addr_parse_u64(optarg, 10, INT64_MAX, &o->hold_bandwidth);
            break;
        case O_HOLDDT:
            ok = addr_parse_u64(optarg, 0, 2000000, &o->hold_downtime);
            break;
        case O_DEADLINE:
            ok = addr_parse_u64(optarg, 1000, 86400000, &o->prepare_deadline_ms);
            break;
        case O_POLL: ok = addr_parse_u64(optarg, 1, 1000, &o->poll_ms); break;
        case O_STEP:
            ok = addr_parse_u64(optarg, 1, 3600000, &o->step_timeout_ms);
            break;
        case O_TIMEOUT:
            ok = addr_parse_u64(optarg, 1, 86400000, &o->timeout_ms);
            break;
        case O_HTTP:
            ok = addr_parse_u64(optarg, 1, 600000, &o->http_timeout_ms);
            break;
        case O_HELP: usage(stdout); exit(EXIT_DONE);
        default: return die_usage("unknown option");
        }
        if (!ok) {
            char msg[128];
            snprintf(msg, sizeof msg, "bad value for --%s: '%s'",
                     opts[c - O_QMP].name, optarg);
            return die_usage(msg);
        }
    }
    if (optind < argc) {
        return die_usage("unexpected argument");
    }
    if (!o->qmp || !o->vm || !o->to || !mode) {
        return die_usage("--qmp, --vm, --to and --switchover are required");
    }
    if (!*o->vm || !*o->to) {
        return die_usage("--vm and --to must not be empty");
    }
    size_t m = name_index(mode_names, 3, mode);
    if (m == 3) {
        return die_usage("--switchover must be rarp, manual or lossless");
    }
    o->mode = (enum mode) m;
    if (o->migrate_uri && strncmp(o->migrate_uri, "tcp:", 4)
        && strncmp(o->migrate_uri, "unix:", 5)) {
        return die_usage("--migrate-uri must be tcp:ADDR:PORT or unix:PATH");
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("mignet-qemu %s\n", MIGNET_VERSION);
        return 0;
    }
    struct run r = {
        .o = {
            .downtime_limit = UINT64_MAX, .hold_bandwidth = 10,
            .hold_downtime = 1, .switch_remaining = 32 * 1024 * 1024,
            .poll_ms = 5, .timeout_ms = 600000, .step_timeout_ms = 10000,
            .http_timeout_ms = 5000,
        },
        .qemu_downtime_ms = NAN,
    };
    int rc = parse_args(argc, argv, &r.o);
    if (rc) {
        return rc;
    }
    const char *url = r.o.url;
    if (!url) {
        url = getenv("MIGNET_URL");
        url = url && *url ? url : "http://127.0.0.1:7480";
    }
    char err[256];
    if (http_url_parse(url, &r.url, err, sizeof err)) {
        char msg[400];
        snprintf(msg, sizeof msg, "bad --url '%s': %s", url, err);
        return die_usage(msg);
    }
    const char *token = getenv("MIGNET_TOKEN");
    const char *cacert = getenv("MIGNET_CACERT");
    r.http.token = token && *token ? token : NULL;
    r.http.cacert = cacert && *cacert ? cacert : NULL;
    stopflag_install();
    int step = (int) r.o.step_timeout_ms;
    r.src = qmp_connect(r.o.qmp, step, err, sizeof err);
    if (!r.src) {
        fprintf(stderr, "mignet-qemu: source QMP %s: %s\n", r.o.qmp, err);
        return EXIT_QEMU;
    }
    rc = qmp_execute(r.src, "migrate-set-capabilities",
                     json_pack("{s:[{s:s, s:b}]}", "capabilities",
                               "capability", "events", "state", 1),
                     step, NULL, err, sizeof err);
    if (rc) {
        fprintf(stderr, "mignet-qemu: enabling migration events: %s\n", err);
        qmp_close(r.src);
        return EXIT_QEMU;
    }
    if (r.o.dst_qmp) {
        r.dst = qmp_connect(r.o.dst_qmp, step, err, sizeof err);
        if (!r.dst) {
            fprintf(stderr, "mignet-qemu: destination QMP %s: %s\n",
                    r.o.dst_qmp, err);
            qmp_close(r.src);
            return EXIT_QEMU;
        }
    }
    rc = follow(&r);
    if (rc && rc != EXIT_ABORTED) {
        clean_up_after_error(&r);
        fprintf(stderr, "mignet-qemu: %s\n", r.err);
    }
    hold_restore(&r);
    print_report(&r, rc);
    qmp_close(r.dst);
    qmp_close(r.src);
    return rc;
}
