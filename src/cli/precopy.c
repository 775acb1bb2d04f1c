/* precopy.c: `mignet precopy send|recv`, the pre-copy engine's command
 * (docs/precopy.md; the contract other tools rely on is there too).
 *
 * Parses the command line, runs the engine (mignet/transfer.h) and prints
 * its report as one JSON line on stdout (and into --json FILE).  Exits 0
 * only when the receiver verified every page, 1 on a failed migration, 2
 * on a bad command line; it never decides anything the report does not
 * say. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "lib/addr.h"
#include "lib/json.h"
#include "mignet/planner.h"
#include "mignet/transfer.h"

static const char usage_text[] =
    "Usage: mignet precopy recv --listen HOST:PORT [--listen HOST:PORT ...]\n"
    "                           [--mptcp] [--json FILE] [--timeout-s N]\n"
    "       mignet precopy send --to HOST:PORT [--to HOST:PORT ...] "
    "[--mptcp]\n"
    "                           --mem-mb M --dirty-pps D "
    "[--hot PAGES_PCT:WRITES_PCT]\n"
    "                           --mode ack|en|buffer [--max-rounds 30]\n"
    "                           [--stop-bytes 204800] [--max-factor 3]\n"
    "                           [--sample-ms 10] [--json FILE] "
    "[--timeout-s N]\n"
    "\n"
    "Live-copies M MiB of memory that a thread dirties D pages a second,\n"
    "in pre-copy rounds over one TCP connection per --to (or one MPTCP\n"
    "connection), then the stop-and-copy, and checks every page at the\n"
    "receiver.  Round boundaries: ack (all acknowledged), en (all left\n"
    "the host: Early Notification), buffer (write() returned).\n"
    "Exit: 0 verified, 1 failed migration, 2 bad command line.\n";

enum {
    OPT_LISTEN = 1, OPT_TO, OPT_MPTCP, OPT_JSON, OPT_TIMEOUT, OPT_MEM,
    OPT_DIRTY, OPT_HOT, OPT_MODE, OPT_MAX_ROUNDS, OPT_STOP_BYTES,
    OPT_MAX_FACTOR, OPT_SAMPLE, OPT_HELP,
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"to", required_argument, NULL, OPT_TO},
    {"mptcp", no_argument, NULL, OPT_MPTCP},
    {"json", required_argument, NULL, OPT_JSON},
    {"timeout-s", required_argument, NULL, OPT_TIMEOUT},
    {"mem-mb", required_argument, NULL, OPT_MEM},
    {"dirty-pps", required_argument, NULL, OPT_DIRTY},
    {"hot", required_argument, NULL, OPT_HOT},
    {"mode", required_argument, NULL, OPT_MODE},
    {"max-rounds", required_argument, NULL, OPT_MAX_ROUNDS},
    {"stop-bytes", required_argument, NULL, OPT_STOP_BYTES},
    {"max-factor", required_argument, NULL, OPT_MAX_FACTOR},
    {"sample-ms", required_argument, NULL, OPT_SAMPLE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "mignet precopy: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n(see mignet precopy --help)\n");
    va_end(args);
    return CLI_EXIT_USAGE;
}

static bool
parse_double(const char *s, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || !*s || errno || *end || !isfinite(v) || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Prints the report line and writes it to 'json_file' (if any). */
static int
emit(json_t *obj, const char *json_file)
{
    if (!obj) {
        fprintf(stderr, "mignet precopy: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!text) {
        fprintf(stderr, "mignet precopy: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", text);
    fflush(stdout);
    int rc = 0;
    if (json_file) {
        FILE *f = fopen(json_file, "w");
        if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) {
            fprintf(stderr, "mignet precopy: cannot write %s\n", json_file);
            rc = CLI_EXIT_FAIL;
        }
    }
    free(text);
    return rc;
}

static json_t *
send_json(const struct precopy_send_opts *o,
          const struct precopy_send_report *r, const char *error)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    if (!ok) {
        return NULL;
    }
    ok &= js_set(obj, "mode", json_string(precopy_mode_name(o->mode)));
    ok &= js_set(obj, "mem_mb", js_u64(o->mem_bytes >> 20));
    double d = o->workload.dirty_pps;
    ok &= js_set(obj, "dirty_pps", d == floor(d) && d < 9e15
                                       ? json_integer((json_int_t) d)
                                       : json_real(d));
    if (o->workload.hot) {
        ok &= js_set(obj, "hot", json_pack("{s:i,s:i}", "pages_pct",
                                           (int) o->workload.hot_pages_pct,
                                           "writes_pct",
                                           (int) o->workload.hot_writes_pct));
    } else {
        ok &= js_set(obj, "hot", json_null());
    }
    ok &= js_set(obj, "paths", js_u64(o->n_to));
    ok &= js_set(obj, "transport", json_string(o->mptcp ? "mptcp" : "tcp"));
    ok &= js_set(obj, "total_ms", js_ms((double) r->total_us / 1000.0));
    ok &= js_set(obj, "downtime_ms", js_ms((double) r->downtime_us / 1000.0));
    ok &= js_set(obj, "verify_ms", js_ms((double) r->verify_us / 1000.0));
    ok &= js_set(obj, "bytes", js_u64(r->bytes));
    ok &= js_set(obj, "rounds", js_u64(r->rounds.n));
    ok &= js_set(obj, "retransmits", js_u64(r->retransmits));
    ok &= js_set(obj, "verified", json_boolean(r->verified));
    ok &= js_set(obj, "stop", r->rounds.stopped
                                  ? json_string(precopy_stop_name(
                                        r->rounds.stop))
                                  : json_null());
    ok &= js_set(obj, "tracking",
                 json_string(precopy_tracking_name(r->tracking)));
    ok &= js_set(obj, "checked", js_u64(r->checked));
    ok &= js_set(obj, "mismatches", js_u64(r->mismatches));
    ok &= js_set(obj, "writes", js_u64(r->writes));
    ok &= js_set(obj, "faults", js_u64(r->faults));
    ok &= js_set(obj, "max_rounds", js_u64(o->cfg.max_rounds));
    ok &= js_set(obj, "stop_bytes", js_u64(o->cfg.stop_bytes));
    ok &= js_set(obj, "max_factor", json_real(o->cfg.max_factor));
    if (error) {
        ok &= js_set(obj, "error", json_string(error));
    }
    json_t *rounds = json_array();
    ok &= rounds != NULL;
    for (uint32_t i = 0; ok && i < r->rounds.n; i++) {
        const struct precopy_round *x = &r->rounds.list[i];
        ok &= js_append(rounds, json_pack(
            "{s:i,s:o,s:o,s:o,s:o}", "round", (int) x->round,
            "start_ms", js_ms((double) x->start_us / 1000.0),
            "t_ms", js_ms((double) x->t_us / 1000.0),
            "v_bytes", js_u64(x->v_bytes), "pages", js_u64(x->pages)));
    }
    ok &= js_set(obj, "round_list", rounds);
    json_t *tl = json_array();
    ok &= tl != NULL;
    for (size_t i = 0; ok && i < r->n_samples; i++) {
        const struct precopy_sample *x = &r->samples[i];
        ok &= js_append(tl, json_pack(
            "{s:o,s:i,s:o,s:o,s:o,s:o,s:o}",
            "t_ms", js_ms((double) x->t_us / 1000.0), "conn", (int) x->conn,
            "cwnd", js_u64(x->cwnd), "rtt_us", js_u64(x->rtt_us),
            "total_retrans", js_u64(x->total_retrans),
            "unacked", js_u64(x->unacked), "notsent", js_u64(x->notsent)));
    }
    ok &= js_set(obj, "timeline", tl);
    return js_finish(obj, ok);
}

/* What both subcommands take. */
struct common {
    const char *addr[PRECOPY_MAX_PATHS]; /* --to or --listen */
    size_t n_addr;
    bool mptcp;
    const char *json_file;
    uint32_t timeout_s;
};

#define COMMON_NOT_MINE (-1)
#define COMMON_TAKEN (-2)

/* Takes option 'c' if both subcommands have it ('addr_opt' is OPT_TO or
 * OPT_LISTEN).  Returns COMMON_NOT_MINE, COMMON_TAKEN, or an exit code
 * (after --help, or on a usage error). */
static int
common_opt(int c, int addr_opt, struct common *k)
{
    uint64_t v;
    if (c == addr_opt) {
        if (k->n_addr == PRECOPY_MAX_PATHS) {
            return bad("at most %d paths", PRECOPY_MAX_PATHS);
        }
        k->addr[k->n_addr++] = optarg;
    } else if (c == OPT_MPTCP) {
        k->mptcp = true;
    } else if (c == OPT_JSON) {
        k->json_file = optarg;
    } else if (c == OPT_TIMEOUT) {
        if (!addr_parse_u64(optarg, 1, 86400, &v)) {
            return bad("--timeout-s %s: want 1..86400", optarg);
        }
        k->timeout_s = (uint32_t) v;
    } else if (c == OPT_HELP) {
        fputs(usage_text, stdout);
        return CLI_EXIT_OK;
    } else {
        return COMMON_NOT_MINE;
    }
    return COMMON_TAKEN;
}

/* The checks both subcommands make once the options are parsed. */
static int
common_check(int argc, char **argv, const struct common *k, const char *role,
             const char *addr_name)
{
    if (optind != argc) {
        return bad("%s: unexpected argument %s", role, argv[optind]);
    }
    if (!k->n_addr) {
        return bad("%s needs %s", role, addr_name);
    }
    if (k->mptcp && k->n_addr != 1) {
        return bad("--mptcp takes exactly one %s (the kernel's path "
                   "manager adds the subflows)", addr_name);
    }
    return COMMON_TAKEN;
}

static int
cmd_send(int argc, char **argv)
{
    struct precopy_send_opts o = {0};
    struct common k = {.timeout_s = 600};
    bool have_mem = false, have_dirty = false, have_mode = false;
    uint64_t v;
    double d;

    precopy_config_default(&o.cfg);
    o.sample_ms = 10;
    o.workload.seed = 1;
    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "+", long_opts, NULL);
        if (c == -1) {
            break;
        }
        int rc = common_opt(c, OPT_TO, &k);
        if (rc != COMMON_NOT_MINE) {
            if (rc != COMMON_TAKEN) {
                return rc;
            }
            continue;
        }
        switch (c) {
        case OPT_MEM:
            if (!addr_parse_u64(optarg, 1, 65535, &v)) {
                return bad("--mem-mb %s: want 1..65535", optarg);
            }
            o.mem_bytes = v << 20;
            have_mem = true;
            break;
        case OPT_DIRTY:
            if (!parse_double(optarg, 0, 1e8, &d)) {
                return bad("--dirty-pps %s: want 0..1e8", optarg);
            }
            o.workload.dirty_pps = d;
            have_dirty = true;
            break;
        case OPT_HOT:
            if (!precopy_hot_parse(optarg, &o.workload.hot_pages_pct,
                                   &o.workload.hot_writes_pct)) {
                return bad("--hot %s: want PAGES_PCT:WRITES_PCT "
                           "(1..100:0..100)", optarg);
            }
            o.workload.hot = true;
            break;
        case OPT_MODE:
            if (!precopy_mode_parse(optarg, &o.mode)) {
                return bad("--mode %s: want ack, en or buffer", optarg);
            }
            have_mode = true;
            break;
        case OPT_MAX_ROUNDS:
            if (!addr_parse_u64(optarg, 2, PRECOPY_MAX_ROUNDS, &v)) {
                return bad("--max-rounds %s: want 2..1000", optarg);
            }
            o.cfg.max_rounds = (uint32_t) v;
            break;
        case OPT_STOP_BYTES:
            if (!addr_parse_u64(optarg, 0, UINT64_C(1) << 40, &v)) {
                return bad("--stop-bytes %s: want a byte count", optarg);
            }
            o.cfg.stop_bytes = v;
            break;
        case OPT_MAX_FACTOR:
            if (!parse_double(optarg, 1, 1000, &d)) {
                return bad("--max-factor %s: want 1..1000", optarg);
            }
            o.cfg.max_factor = d;
            break;
        case OPT_SAMPLE:
            if (!addr_parse_u64(optarg, 1, 60000, &v)) {
                return bad("--sample-ms %s: want 1..60000", optarg);
            }
            o.sample_ms = (uint32_t) v;
            break;
        default:
            return bad("send: unknown or incomplete option %s",
                       argv[optind - 1]);
        }
    }
    int rc = common_check(argc, argv, &k, "send", "--to");
    if (rc != COMMON_TAKEN) {
        return rc;
    }
    if (!have_mem || !have_dirty || !have_mode) {
        return bad("send needs --mem-mb, --dirty-pps and --mode");
    }
    memcpy(o.to, k.addr, sizeof o.to);
    o.n_to = k.n_addr;
    o.mptcp = k.mptcp;
    o.timeout_s = k.timeout_s;
    const char *tr = getenv("MIGNET_PRECOPY_TRACKING");
    o.force_mprotect = tr && !strcmp(tr, "mprotect");

    struct precopy_send_report r;
    char err[256];
    int error = precopy_send(&o, &r, err, sizeof err);
    if (error) {
        fprintf(stderr, "mignet precopy send: %s\n", err);
        r.verified = false;
    } else if (!r.verified) {
        fprintf(stderr, "mignet precopy send: the copy did not verify: %u "
                "of %u pages differ\n", r.mismatches, r.checked);
    }
    rc = emit(send_json(&o, &r, error ? err : NULL), k.json_file);
    bool verified = !error && r.verified;
    precopy_send_report_destroy(&r);
    if (error == EPROTONOSUPPORT || error == EINVAL) {
        return error == EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    return verified && !rc ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int
cmd_recv(int argc, char **argv)
{
    struct precopy_recv_opts o = {0};
    struct common k = {.timeout_s = 600};

    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "+", long_opts, NULL);
        if (c == -1) {
            break;
        }
        int rc = common_opt(c, OPT_LISTEN, &k);
        if (rc == COMMON_NOT_MINE) {
            return bad("recv: unknown or incomplete option %s",
                       argv[optind - 1]);
        }
        if (rc != COMMON_TAKEN) {
            return rc;
        }
    }
    int rc = common_check(argc, argv, &k, "recv", "--listen");
    if (rc != COMMON_TAKEN) {
        return rc;
    }
    memcpy(o.listen, k.addr, sizeof o.listen);
    o.n_listen = k.n_addr;
    o.mptcp = k.mptcp;
    o.timeout_s = k.timeout_s;
    /* Test only (tests/integration/test_precopy_loopback.sh): spoil one
     * page before the check, to prove the check can fail. */
    const char *corrupt = getenv("MIGNET_PRECOPY_CORRUPT");
    o.corrupt = corrupt && !strcmp(corrupt, "1");

    struct precopy_recv_report r;
    char err[256];
    int error = precopy_recv(&o, &r, err, sizeof err);
    if (error) {
        fprintf(stderr, "mignet precopy recv: %s\n", err);
    } else if (!r.verified) {
        fprintf(stderr, "mignet precopy recv: the copy did not verify: %u "
                "of %u pages differ\n", r.mismatches, r.checked);
    }
    json_t *obj = json_pack(
        "{s:s,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o}", "role", "recv",
        "verified", !error && r.verified, "pages", js_u64(r.n_pages),
        "paths", js_u64(o.n_listen), "page_frames", js_u64(r.pages),
        "bytes", js_u64(r.bytes), "checked", js_u64(r.checked),
        "mismatches", js_u64(r.mismatches), "transport",
        o.mptcp ? "mptcp" : "tcp", "total_ms",
        js_ms((double) r.total_us / 1000.0));
    if (obj && error) {
        json_object_set_new(obj, "error", json_string(err));
    }
    rc = emit(obj, k.json_file);
    if (error == EPROTONOSUPPORT || error == EINVAL) {
        return error == EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    return !error && r.verified && !rc ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int
precopy_main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "send")) {
        return cmd_send(argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "recv")) {
        return cmd_recv(argc - 1, argv + 1);
    }
    return bad("unknown subcommand %s (want send or recv)", argv[1]);
}
