/* params.c: `mignet sim` options: defaults, parsing, checks, replay line.
 *
 * Every option is bounds-checked; a bad value leaves the parameters
 * untouched and produces a message naming the option.  This file must
 * never print anything except through sim_params_usage(). */
#include "sim/simulator.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/config.h"
#include "lib/util.h"

const char *const sim_strategies[SIM_N_STRATEGIES] = {
    "naive", "fixed", "fast-refresh", "clone", "seed", "mignet", "push",
    "ovn",
};

bool
sim_strategy_known(const char *name)
{
    return name_index(sim_strategies, SIM_N_STRATEGIES, name)
           < SIM_N_STRATEGIES;
}

static const char *const pattern_names[] = {
#define SIM_PATTERN(ENUM, NAME) NAME,
    SIM_PATTERNS
#undef SIM_PATTERN
};

const char *
sim_pattern_name(enum sim_pattern p)
{
    return (unsigned)p < SIM_N_PATTERNS ? pattern_names[p] : "?";
}

bool
sim_pattern_parse(const char *s, enum sim_pattern *p)
{
    size_t i = name_index(pattern_names, SIM_N_PATTERNS, s);
    if (i == SIM_N_PATTERNS) {
        return false;
    }
    *p = (enum sim_pattern)i;
    return true;
}

void
sim_params_default(struct sim_params *p)
{
    memset(p, 0, sizeof *p);
    p->nodes = 100;
    p->vms = 2000;
    p->migrations = 200;
    p->pattern = SIM_RANDOM;
    p->refresh_ms = 1000;
    p->refresh_jitter = 0.2;
    p->refresh_wobble = 0.02;
    p->peers = 4;
    p->pps = 100;
    p->pause_ms = 50;
    p->gap_ms = 200;
    p->seed = 1;
    snprintf(p->strategy, sizeof p->strategy, "all");
    p->latency_ms = 5;
    p->data_latency_us = 200;
    p->rate = 20;
    p->fast_factor = 4;
    p->fixed_delay_ms = -1;
    p->chain_len = 4;
    p->warmup_ms = -1;
    p->drain_ms = 60000;
    p->tail_ms = -1;
    p->progress = true;
    p->push_interval_ms = 10;
    p->switchover = MIG_SW_NOW;
    p->precopy_ms = 500;
    p->plot_bucket_ms = 100;
}

enum opt_type { OPT_U32, OPT_U64, OPT_I64, OPT_DBL, OPT_PATTERN,
                OPT_STRATEGY, OPT_SWITCHOVER, OPT_FLAG, OPT_NOFLAG,
                OPT_PATH };

struct opt {
    const char *name;
    enum opt_type type;
    size_t off;
    double min, max;
    const char *help;
};

#define P(field) offsetof(struct sim_params, field)
static const struct opt opts[] = {
    {"nodes", OPT_U32, P(nodes), 2, 1e6, "compute nodes (100)"},
    {"vms", OPT_U32, P(vms), 1, 2e7, "VMs (2000)"},
    {"migrations", OPT_U32, P(migrations), 0, 1e7, "migrations (200)"},
    {"pattern", OPT_PATTERN, P(pattern), 0, 0,
     "random|drain|pingpong|chain (random)"},
    {"refresh-ms", OPT_U32, P(refresh_ms), 1, 3.6e6,
     "mean map refresh interval of a node (1000)"},
    {"refresh-jitter", OPT_DBL, P(refresh_jitter), 0, 0.95,
     "node intervals uniform in mean*(1+-F) (0.2)"},
    {"refresh-wobble", OPT_DBL, P(refresh_wobble), 0, 0.5,
     "each refresh varies by +-W of the node's interval (0.02)"},
    {"peers", OPT_U32, P(peers), 0, 256, "senders per VM (4)"},
    {"pps", OPT_U32, P(pps), 1, 1e6, "packets/s per sender (100)"},
    {"pause-ms", OPT_U32, P(pause_ms), 0, 3.6e6,
     "VM pause at switch-over (50)"},
    {"gap-ms", OPT_U32, P(gap_ms), 0, 3.6e6,
     "pingpong return / chain hop gap after resume (200)"},
    {"seed", OPT_U64, P(seed), 0, 0, "random seed (1)"},
    {"strategy", OPT_STRATEGY, P(strategy), 0, 0,
     "naive|fixed|fast-refresh|clone|seed|mignet|push|ovn|all, or a "
     "comma list (all)"},
    {"json", OPT_FLAG, P(json), 0, 0, "one JSON object on stdout"},
    {"latency-ms", OPT_DBL, P(latency_ms), 0, 60000,
     "control message latency, one way (5)"},
    {"data-latency-us", OPT_U32, P(data_latency_us), 0, 1e7,
     "data plane latency per hop (200)"},
    {"rate", OPT_DBL, P(rate), 1e-3, 1e7,
     "migration jobs started per second (20)"},
    {"fast-factor", OPT_U32, P(fast_factor), 1, 1000,
     "fast-refresh: nodes refresh k times more often (4)"},
    {"fixed-delay-ms", OPT_I64, P(fixed_delay_ms), -1, 3.6e6,
     "fixed: deletion delay (-1 = core default)"},
    {"chain-len", OPT_U32, P(chain_len), 1, 1000, "hops per chain (4)"},
    {"warmup-ms", OPT_I64, P(warmup_ms), -1, 3.6e7,
     "time before traffic and migrations (-1 = 3 * refresh-ms)"},
    {"drain-ms", OPT_U32, P(drain_ms), 1, 3.6e7,
     "stop waiting for cleanup this long after the last migration "
     "(60000)"},
    {"tail-ms", OPT_I64, P(tail_ms), -1, 3.6e7,
     "traffic runs until the last planned move + this (-1 = auto: "
     "max(fixed delay, 4 refresh intervals) + pause + 4 latency + 1 s)"},
    {"push-interval-ms", OPT_U32, P(push_interval_ms), 0, 60000,
     "push: at most one map update per node per interval (10)"},
    {"push-down", OPT_DBL, P(push_down), 0, 1,
     "push: fraction of nodes whose channel is down: no pushes, they "
     "learn by polling (0)"},
    {"switchover", OPT_SWITCHOVER, P(switchover), 0, 0,
     "now|manual|rarp|lossless: how the VM manager drives the lifecycle "
     "(now)"},
    {"precopy-ms", OPT_U32, P(precopy_ms), 0, 3.6e6,
     "pre-copy before the pause: the migration starts this early (not "
     "with now) (500)"},
    {"abort-rate", OPT_DBL, P(abort_rate), 0, 1,
     "fraction of migrations cancelled in their pre-copy (not with now) "
     "(0)"},
    {"exact", OPT_FLAG, P(exact), 0, 0,
     "simulate every packet (slow; checks the cold-stream counting)"},
    {"no-progress", OPT_NOFLAG, P(progress), 0, 0,
     "no progress line on stderr"},
    {"plot", OPT_PATH, P(plot), 0, 0,
     "also draw FILE.png with gnuplot: packets lost per strategy over "
     "simulated time, and each strategy's cleanup-time distribution"},
    {"plot-data", OPT_PATH, P(plot_data), 0, 0,
     "also write the numbers behind the plot to FILE (tab-separated)"},
    {"plot-bucket-ms", OPT_U32, P(plot_bucket_ms), 1, 3.6e6,
     "plot: losses are counted per this much simulated time (100)"},
};
#undef P
#define N_OPTS (sizeof opts / sizeof opts[0])

void
sim_params_usage(FILE *f)
{
    fprintf(f, "usage: mignet sim [options]\n"
               "Deterministic data-centre simulation of live migrations "
               "driving the real core.\n\noptions:\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt *o = &opts[i];
        bool arg = o->type != OPT_FLAG && o->type != OPT_NOFLAG;
        fprintf(f, "  --%s%s\n      %s\n", o->name, arg ? " V" : "",
                o->help);
    }
}

static bool
strategy_known(const char *name, size_t len)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf) {
        return false;
    }
    memcpy(buf, name, len);
    buf[len] = '\0';
    return sim_strategy_known(buf);
}

static int
check_strategy(const char *s)
{
    if (!strcmp(s, "all")) {
        return 0;
    }
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (!strategy_known(s, len)) {
            return EINVAL;
        }
        if (!comma) {
            return 0;
        }
        s = comma + 1;
    }
}

_Static_assert(sizeof(enum sim_pattern) == sizeof(int)
                   && sizeof(enum mig_switchover) == sizeof(int),
               "set_choice() stores an int");

/* Stores an enum option's value, or says which ones it takes (value
 * -1: not one of them). */
static int
set_choice(char *field, int value, const struct opt *o, const char *v,
           const char *choices, char *err, size_t errlen)
{
    if (value < 0) {
        snprintf(err, errlen, "--%s: '%s' is not %s", o->name, v, choices);
        return EINVAL;
    }
    memcpy(field, &value, sizeof value);
    return 0;
}

static int
set_opt(struct sim_params *p, const struct opt *o, const char *v,
        char *err, size_t errlen)
{
    char *base = (char *)p;
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case OPT_U32:
    case OPT_U64:
    case OPT_I64: {
        if (!*v || (o->type != OPT_I64 && *v == '-')) {
            goto bad;
        }
        if (o->type == OPT_U64) {
            unsigned long long ux = strtoull(v, &end, 10);
            if (errno || *end) {
                goto bad;
            }
            uint64_t val = ux;
            memcpy(base + o->off, &val, sizeof val);
            return 0;
        }
        long long x = strtoll(v, &end, 10);
        if (errno || *end) {
            goto bad;
        }
        if ((double)x < o->min || (double)x > o->max) {
            goto range;
        }
        if (o->type == OPT_U32) {
            uint32_t val = (uint32_t)x;
            memcpy(base + o->off, &val, sizeof val);
        } else {
            int64_t val = x;
            memcpy(base + o->off, &val, sizeof val);
        }
        return 0;
    }
    case OPT_DBL: {
        double x = strtod(v, &end);
        if (!*v || errno || *end || !isfinite(x)) {
            goto bad;
        }
        if (x < o->min || x > o->max) {
            goto range;
        }
        memcpy(base + o->off, &x, sizeof x);
        return 0;
    }
    case OPT_PATTERN: {
        enum sim_pattern pat;
        return set_choice(base + o->off,
                          sim_pattern_parse(v, &pat) ? (int)pat : -1, o, v,
                          "random, drain, pingpong or chain", err, errlen);
    }
    case OPT_STRATEGY:
        if (strlen(v) > SIM_STRATEGY_MAX || check_strategy(v)) {
            snprintf(err, errlen,
                     "--strategy: '%s' is not all or a comma list of "
                     "naive, fixed, fast-refresh, clone, seed, mignet, "
                     "push, ovn", v);
            return EINVAL;
        }
        snprintf(base + o->off, SIM_STRATEGY_MAX + 1, "%s", v);
        return 0;
    case OPT_SWITCHOVER: {
        enum mig_switchover sw;
        return set_choice(base + o->off,
                          mig_switchover_from_name(v, &sw) ? (int)sw : -1,
                          o, v, "now, manual, rarp or lossless", err,
                          errlen);
    }
    case OPT_PATH:
        if (!*v) {
            snprintf(err, errlen, "--%s needs a file name", o->name);
            return EINVAL;
        }
        for (const char *c = v; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                snprintf(err, errlen,
                         "--%s: the file name has a control character",
                         o->name);
                return EINVAL;
            }
        }
        memcpy(base + o->off, &v, sizeof v);
        return 0;
    case OPT_FLAG:
    case OPT_NOFLAG:
        break;
    }
bad:
    snprintf(err, errlen, "--%s: '%s' is not a valid number", o->name, v);
    return EINVAL;
range:
    snprintf(err, errlen, "--%s: %s is out of range [%g, %g]", o->name, v,
             o->min, o->max);
    return EINVAL;
}

int
sim_params_parse(struct sim_params *out, int argc, char **argv, bool *help,
                 char *err, size_t errlen)
{
    struct sim_params p = *out;
    *help = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *help = true;
            continue;
        }
        if (strncmp(a, "--", 2)) {
            snprintf(err, errlen, "unexpected argument '%s'", a);
            return EINVAL;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const struct opt *o = NULL;
        for (size_t j = 0; j < N_OPTS; j++) {
            if (strlen(opts[j].name) == len && !strncmp(opts[j].name, a,
                                                        len)) {
                o = &opts[j];
                break;
            }
        }
        if (!o) {
            snprintf(err, errlen, "unknown option '%s' (see --help)",
                     argv[i]);
            return EINVAL;
        }
        if (o->type == OPT_FLAG || o->type == OPT_NOFLAG) {
            if (eq) {
                snprintf(err, errlen, "--%s takes no value", o->name);
                return EINVAL;
            }
            bool val = o->type == OPT_FLAG;
            memcpy((char *)&p + o->off, &val, sizeof val);
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", o->name);
                return EINVAL;
            }
            v = argv[++i];
        }
        int e = set_opt(&p, o, v, err, errlen);
        if (e) {
            return e;
        }
    }
    int e = sim_params_check(&p, err, errlen);
    if (e) {
        return e;
    }
    *out = p;
    return 0;
}

int
sim_params_check(const struct sim_params *p, char *err, size_t errlen)
{
    if (p->nodes < 2) {
        snprintf(err, errlen, "--nodes must be at least 2");
        return EINVAL;
    }
    if (p->vms < 1) {
        snprintf(err, errlen, "--vms must be at least 1");
        return EINVAL;
    }
    if ((uint64_t)p->vms * p->peers > UINT32_MAX / 2) {
        snprintf(err, errlen, "--vms * --peers must stay below 2^31");
        return EINVAL;
    }
    if (p->pattern == SIM_DRAIN && p->nodes < 3 && p->migrations > 0) {
        snprintf(err, errlen, "--pattern drain needs at least 3 nodes");
        return EINVAL;
    }
    if (p->abort_rate > 0 && p->switchover == MIG_SW_NOW) {
        snprintf(err, errlen, "--abort-rate needs --switchover manual, "
                              "rarp or lossless (now has no prepared "
                              "phase to cancel)");
        return EINVAL;
    }
    if (p->plot && p->plot_data && !strcmp(p->plot, p->plot_data)) {
        snprintf(err, errlen, "--plot and --plot-data name the same file");
        return EINVAL;
    }
    if (p->exact && (uint64_t)p->vms * p->peers > 10000000) {
        snprintf(err, errlen, "--exact is for small runs "
                              "(vms * peers <= 10^7)");
        return EINVAL;
    }
    return 0;
}

uint64_t
sim_params_tail_ms(const struct sim_params *p)
{
    if (p->tail_ms >= 0) {
        return (uint64_t)p->tail_ms;
    }
    /* Long enough for the slowest node to refresh three times after the
     * last move (so every map is fresh), for fixed's delayed deletion to
     * fire and reach its agent, and for the last VM to resume; plus 1 s
     * of slack.  docs/simulator.md, "The traffic horizon". */
    struct core_config cfg;
    core_config_default(&cfg);
    double fixed = p->fixed_delay_ms >= 0 ? (double)p->fixed_delay_ms
                                          : (double)cfg.fixed_delay_ms;
    double slowest = (double)p->refresh_ms * (1 + p->refresh_jitter)
                     * (1 + p->refresh_wobble);
    double wait = fmax(fixed, 4 * slowest);
    return (uint64_t)ceil(wait) + p->pause_ms
           + (uint64_t)ceil(4 * p->latency_ms) + 1000;
}

/* The shortest of %.15g / %.17g that reads back as exactly 'x'. */
static void
fmt_double(char *buf, size_t len, double x)
{
    snprintf(buf, len, "%.15g", x);
    if (strtod(buf, NULL) != x) {
        snprintf(buf, len, "%.17g", x);
    }
}

void
sim_params_cmdline(const struct sim_params *p, const char *strategy,
                   char *buf, size_t len)
{
    char jit[32], wob[32], lat[32], rate[32], down[32], abrt[32];
    fmt_double(jit, sizeof jit, p->refresh_jitter);
    fmt_double(wob, sizeof wob, p->refresh_wobble);
    fmt_double(lat, sizeof lat, p->latency_ms);
    fmt_double(rate, sizeof rate, p->rate);
    fmt_double(down, sizeof down, p->push_down);
    fmt_double(abrt, sizeof abrt, p->abort_rate);
    char fixed[48] = "";
    char warm[48] = "";
    char tail[48] = "";
    if (p->fixed_delay_ms >= 0) {
        snprintf(fixed, sizeof fixed, " --fixed-delay-ms %" PRId64,
                 p->fixed_delay_ms);
    }
    if (p->warmup_ms >= 0) {
        snprintf(warm, sizeof warm, " --warmup-ms %" PRId64, p->warmup_ms);
    }
    if (p->tail_ms >= 0) {
        snprintf(tail, sizeof tail, " --tail-ms %" PRId64, p->tail_ms);
    }
    snprintf(buf, len,
             "mignet sim --nodes %" PRIu32 " --vms %" PRIu32
             " --migrations %" PRIu32 " --pattern %s --refresh-ms %" PRIu32
             " --refresh-jitter %s --refresh-wobble %s"
             " --peers %" PRIu32 " --pps %" PRIu32 " --pause-ms %" PRIu32
             " --gap-ms %" PRIu32 " --seed %" PRIu64
             " --latency-ms %s --data-latency-us %" PRIu32
             " --rate %s --fast-factor %" PRIu32 " --chain-len %" PRIu32
             " --drain-ms %" PRIu32 " --push-interval-ms %" PRIu32
             " --push-down %s --switchover %s --precopy-ms %" PRIu32
             " --abort-rate %s%s%s%s%s --strategy %s --json",
             p->nodes, p->vms, p->migrations, sim_pattern_name(p->pattern),
             p->refresh_ms, jit, wob, p->peers, p->pps, p->pause_ms,
             p->gap_ms, p->seed, lat, p->data_latency_us, rate,
             p->fast_factor, p->chain_len, p->drain_ms, p->push_interval_ms,
             down, mig_switchover_name(p->switchover), p->precopy_ms, abrt,
             fixed, warm, tail, p->exact ? " --exact" : "",
             strategy ? strategy : p->strategy);
}
