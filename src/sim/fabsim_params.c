/* fabsim_params.c: the options of `mignet sim --fabric`: defaults,
 * parsing with bounds, usage.
 *
 * Every value is range-checked; a bad one leaves the parameters untouched
 * and names the option in the message.  Prints nothing except through
 * fabsim_params_usage(). */
#include "sim/fabsim.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"

static const char *const topo_names[] = {
#define FABSIM_TOPO(ENUM, NAME) NAME,
    FABSIM_TOPOS
#undef FABSIM_TOPO
};

static const char *const strategy_names[] = {
#define FABSIM_STRATEGY(ENUM, NAME) NAME,
    FABSIM_STRATEGIES
#undef FABSIM_STRATEGY
};

const char *
fabsim_topo_name(enum fabsim_topo t)
{
    return (unsigned)t < FABSIM_N_TOPOS ? topo_names[t] : "?";
}

const char *
fabsim_strategy_name(enum fabsim_strategy s)
{
    return (unsigned)s < FABSIM_N_STRATEGIES ? strategy_names[s] : "?";
}

bool
fabsim_strategy_from_name(const char *name, enum fabsim_strategy *s)
{
    size_t i = name_index(strategy_names, FABSIM_N_STRATEGIES, name);
    if (i == FABSIM_N_STRATEGIES) {
        return false;
    }
    *s = (enum fabsim_strategy)i;
    return true;
}

void
fabsim_params_default(struct fabsim_params *p)
{
    *p = (struct fabsim_params){
        .topo = FABSIM_TOPO_FATTREE,
        .k = 4,
        .host_mbps = -1,
        .link_mbps = -1,
        .migrations = -1,
        .rate = 1,
        .memory_mb = 1024,
        .dirty_pages_per_s = 5000,
        .deadline_ms = 8000,
        .period_ms = 5000,
        .warmup_ms = -1,
        .cpu_free = 0.5,
        .setup_max_ms = 50,
        .flow_install_ms = 5,
        .max_paths = 8,
        .striping_overhead = 0.05,
        .seed = 1,
        .strategies = (1u << FABSIM_N_STRATEGIES) - 1,
    };
}

/* How an option's value is read. */
enum kind {
    K_NUM, /* a number within [min, max] into a double, then cast */
    K_FLAG,
    K_TOPO,
    K_FILE,
    K_PAIRS,
    K_STRATEGY,
    K_SOLVER,
    K_ESTIMATE,
};

/* Where a number goes. */
enum store { S_DBL, S_U32, S_U64, S_I64 };

struct fopt {
    const char *name;
    enum kind kind;
    enum store store;
    size_t off;
    double min, max;
    bool integer;
    const char *help;
};

#define F(field) offsetof(struct fabsim_params, field)
static const struct fopt fopts[] = {
    {"fabric", K_TOPO, 0, F(topo), 0, 0, false,
     "fattree|seed002|file: the topology (fattree)"},
    {"topo", K_FILE, 0, F(topo_file), 0, 0, false,
     "topology file in the planner's format (implies --fabric file)"},
    {"k", K_NUM, S_U32, F(k), 2, 48, true, "fat-tree arity, even (4)"},
    {"host-mbps", K_NUM, S_DBL, F(host_mbps), 1e-3, 1e9, false,
     "fat-tree host NICs, Mbit/s (10000)"},
    {"link-mbps", K_NUM, S_DBL, F(link_mbps), 1e-3, 1e9, false,
     "switch links, Mbit/s (fattree 1000; seed002 every link, 500)"},
    {"migrations", K_NUM, S_I64, F(migrations), 0, 1e6, true,
     "migrations (the number of --pairs, else 16)"},
    {"rate", K_NUM, S_DBL, F(rate), 1e-3, 1e6, false,
     "migrations started per second (1)"},
    {"concurrent", K_FLAG, 0, F(concurrent), 0, 0, false,
     "start every migration at once"},
    {"memory-mb", K_NUM, S_DBL, F(memory_mb), 1e-3, 1e7, false,
     "VM memory, MiB (1024)"},
    {"dirty-pages-per-s", K_NUM, S_DBL, F(dirty_pages_per_s), 0, 1e9, false,
     "pages of 4 KiB dirtied per second (5000)"},
    {"working-set-mb", K_NUM, S_DBL, F(working_set_mb), 0, 1e7, false,
     "MiB the dirtying writes fall on uniformly (a page written twice in "
     "a round is sent once; at most --memory-mb); 0: every dirtied page "
     "is new (0)"},
    {"deadline-ms", K_NUM, S_U64, F(deadline_ms), 0, 1e12, true,
     "migration deadline, 0 for none (8000)"},
    {"background", K_NUM, S_U32, F(background), 0, 1e6, true,
     "long-lived background flows between random hosts (0)"},
    {"background-mbps", K_NUM, S_DBL, F(background_mbps), 0, 1e9, false,
     "rate cap of each background flow, 0 for none (0)"},
    {"period-ms", K_NUM, S_U32, F(period_ms), 1, 3.6e6, true,
     "port statistics period of D-R (5000)"},
    {"warmup-ms", K_NUM, S_I64, F(warmup_ms), -1, 3.6e9, true,
     "time of the first migration, -1 for one period (-1)"},
    {"cpu-free", K_NUM, S_DBL, F(cpu_free), 0, 1, false,
     "free CPU of a target for reassembly, 0..1 (0.5)"},
    {"setup-max-ms", K_NUM, S_U32, F(setup_max_ms), 0, 3.6e6, true,
     "dr+paths: most set-up time of an added path (50)"},
    {"flow-install-ms", K_NUM, S_U32, F(flow_install_ms), 0, 3.6e6, true,
     "dr+paths: set-up time per switch of a path (5)"},
    {"max-paths", K_NUM, S_U32, F(max_paths), 1, 64, true,
     "dr+paths: most paths per migration (8)"},
    {"striping-overhead", K_NUM, S_DBL, F(striping_overhead), 0, 0.99, false,
     "goodput lost per extra stream (0.05)"},
    {"pairs", K_PAIRS, 0, F(pairs), 0, 0, false,
     "SRC:DST,... host names, used in turn (seed002: h4:h1,h5:h2,h6:h3; "
     "else random)"},
    {"seed", K_NUM, S_U64, F(seed), 0, 0x1p64, true, "random seed (1)"},
    {"strategy", K_STRATEGY, 0, F(strategies), 0, 0, false,
     "single|ecmp|dr|dr+paths|all, or a comma list (all)"},
    {"solver", K_SOLVER, 0, F(scan_solver), 0, 0, false,
     "heap|scan: max-min solver (heap)"},
    {"estimate", K_ESTIMATE, 0, F(capacity_estimate), 0, 0, false,
     "residual|capacity: bandwidth the estimates assume: capacity less "
     "the last period's measured load, or capacity (residual)"},
    {"json", K_FLAG, 0, F(json), 0, 0, false, "one JSON object on stdout"},
    {"per-migration", K_FLAG, 0, F(per_migration), 0, 0, false,
     "table: a line per migration (default when there are <= 20)"},
};
#undef F
#define N_FOPTS (sizeof fopts / sizeof fopts[0])

void
fabsim_params_usage(FILE *f)
{
    fprintf(f, "usage: mignet sim --fabric fattree|seed002 [options]\n"
               "       mignet sim --topo FILE [options]\n"
               "Flow-level simulation of pre-copy migrations across a "
               "fabric: max-min fair\nsharing, background flows, and "
               "the routing strategies on one workload.\n\noptions:\n");
    for (size_t i = 0; i < N_FOPTS; i++) {
        fprintf(f, "  --%s%s\n      %s\n", fopts[i].name,
                fopts[i].kind == K_FLAG ? "" : " V", fopts[i].help);
    }
}

/* A number into its field; 'v' is complete and in range. */
static void
store_num(struct fabsim_params *p, const struct fopt *o, double v)
{
    char *at = (char *)p + o->off;
    switch (o->store) {
    case S_DBL:
        memcpy(at, &v, sizeof v);
        break;
    case S_U32: {
        uint32_t x = (uint32_t)v;
        memcpy(at, &x, sizeof x);
        break;
    }
    case S_U64: {
        uint64_t x = (uint64_t)v;
        memcpy(at, &x, sizeof x);
        break;
    }
    case S_I64: {
        int64_t x = (int64_t)v;
        memcpy(at, &x, sizeof x);
        break;
    }
    }
}

static int
parse_num(struct fabsim_params *p, const struct fopt *o, const char *v,
          char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    if (o->integer && o->store == S_U64) {
        /* Seeds and deadlines need every bit of a uint64_t. */
        if (*v < '0' || *v > '9') {
            goto bad;
        }
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || *end || (double)x > o->max) {
            goto bad;
        }
        uint64_t u = x;
        memcpy((char *)p + o->off, &u, sizeof u);
        return 0;
    }
    double x = strtod(v, &end);
    if (!*v || errno || *end || !isfinite(x) ||
        (o->integer && x != floor(x))) {
        goto bad;
    }
    if (x < o->min || x > o->max) {
        snprintf(err, errlen, "--%s: %s is out of range [%g, %g]", o->name, v,
                 o->min, o->max);
        return EINVAL;
    }
    store_num(p, o, x);
    return 0;
bad:
    snprintf(err, errlen, "--%s: '%s' is not a valid %s", o->name, v,
             o->integer ? "integer" : "number");
    return EINVAL;
}

/* "all" or a comma list of strategy names into a bit set. */
static bool
parse_strategies(const char *v, uint32_t *set)
{
    if (!strcmp(v, "all")) {
        *set = (1u << FABSIM_N_STRATEGIES) - 1;
        return true;
    }
    uint32_t s = 0;
    for (;;) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        char name[16];
        enum fabsim_strategy st;
        if (!len || len >= sizeof name) {
            return false;
        }
        memcpy(name, v, len);
        name[len] = '\0';
        if (!fabsim_strategy_from_name(name, &st)) {
            return false;
        }
        s |= 1u << st;
        if (!comma) {
            break;
        }
        v = comma + 1;
    }
    *set = s;
    return true;
}

/* The pair list's shape: SRC:DST items separated by commas. */
static bool
pairs_shape_ok(const char *v)
{
    if (!*v) {
        return false;
    }
    for (;;) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        const char *colon = memchr(v, ':', len);
        if (!colon || colon == v || colon == v + len - 1 ||
            memchr(colon + 1, ':', len - (size_t)(colon - v) - 1)) {
            return false;
        }
        if (!comma) {
            return true;
        }
        v = comma + 1;
    }
}

static int
set_value(struct fabsim_params *p, const struct fopt *o, const char *v,
          char *err, size_t errlen)
{
    switch (o->kind) {
    case K_NUM:
        return parse_num(p, o, v, err, errlen);
    case K_TOPO: {
        size_t i = name_index(topo_names, FABSIM_N_TOPOS, v);
        if (i < FABSIM_N_TOPOS) {
            p->topo = (enum fabsim_topo)i;
            return 0;
        }
        snprintf(err, errlen,
                 "--fabric: '%s' is not fattree, seed002 or "
                 "file",
                 v);
        return EINVAL;
    }
    case K_FILE:
        if (!*v || strlen(v) >= sizeof p->topo_file) {
            snprintf(err, errlen,
                     "--topo: the file name is empty or "
                     "longer than %zu bytes",
                     sizeof p->topo_file - 1);
            return EINVAL;
        }
        snprintf(p->topo_file, sizeof p->topo_file, "%s", v);
        p->topo = FABSIM_TOPO_FILE;
        return 0;
    case K_PAIRS:
        if (strlen(v) >= sizeof p->pairs || !pairs_shape_ok(v)) {
            snprintf(err, errlen,
                     "--pairs: expected SRC:DST[,SRC:DST...] "
                     "of host names (< %zu bytes)",
                     sizeof p->pairs);
            return EINVAL;
        }
        snprintf(p->pairs, sizeof p->pairs, "%s", v);
        return 0;
    case K_STRATEGY:
        if (!parse_strategies(v, &p->strategies)) {
            snprintf(err, errlen,
                     "--strategy: '%s' is not all or a comma "
                     "list of single, ecmp, dr, dr+paths",
                     v);
            return EINVAL;
        }
        return 0;
    case K_SOLVER:
        if (strcmp(v, "heap") && strcmp(v, "scan")) {
            snprintf(err, errlen, "--solver: '%s' is not heap or scan", v);
            return EINVAL;
        }
        p->scan_solver = !strcmp(v, "scan");
        return 0;
    case K_ESTIMATE:
        if (strcmp(v, "residual") && strcmp(v, "capacity")) {
            snprintf(err, errlen,
                     "--estimate: '%s' is not residual or "
                     "capacity",
                     v);
            return EINVAL;
        }
        p->capacity_estimate = !strcmp(v, "capacity");
        return 0;
    case K_FLAG:
        break;
    }
    return EINVAL;
}

/* Combinations the single options cannot check. */
static int
check(struct fabsim_params *p, char *err, size_t errlen)
{
    if (p->topo == FABSIM_TOPO_FATTREE && p->k % 2) {
        snprintf(err, errlen, "--k must be even");
        return EINVAL;
    }
    if (p->topo == FABSIM_TOPO_FILE && !p->topo_file[0]) {
        snprintf(err, errlen, "--fabric file needs --topo FILE");
        return EINVAL;
    }
    if (p->topo != FABSIM_TOPO_FILE && p->topo_file[0]) {
        snprintf(err, errlen, "--topo goes with --fabric file only");
        return EINVAL;
    }
    if (p->topo != FABSIM_TOPO_FATTREE && p->host_mbps >= 0) {
        snprintf(err, errlen,
                 "--host-mbps is for --fabric fattree (seed002 "
                 "uses --link-mbps for every link; a file "
                 "gives its own rates)");
        return EINVAL;
    }
    if (p->topo == FABSIM_TOPO_FILE && p->link_mbps >= 0) {
        snprintf(err, errlen,
                 "--link-mbps does not apply to a topology "
                 "file: it gives its own rates");
        return EINVAL;
    }
    if (!p->strategies) {
        snprintf(err, errlen, "--strategy: no strategy given");
        return EINVAL;
    }
    return 0;
}

int
fabsim_params_parse(struct fabsim_params *out, int argc, char **argv,
                    bool *help, char *err, size_t errlen)
{
    struct fabsim_params p = *out;
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
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const struct fopt *o = NULL;
        for (size_t j = 0; j < N_FOPTS && !o; j++) {
            if (strlen(fopts[j].name) == len &&
                !strncmp(fopts[j].name, a + 2, len)) {
                o = &fopts[j];
            }
        }
        if (!o) {
            snprintf(err, errlen,
                     "unknown option '%s' (see --fabric "
                     "fattree --help)",
                     a);
            return EINVAL;
        }
        if (o->kind == K_FLAG) {
            if (eq) {
                snprintf(err, errlen, "--%s takes no value", o->name);
                return EINVAL;
            }
            *(bool *)((char *)&p + o->off) = true;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && i + 1 >= argc) {
            snprintf(err, errlen, "--%s needs a value", o->name);
            return EINVAL;
        }
        int e = set_value(&p, o, v ? v : argv[++i], err, errlen);
        if (e) {
            return e;
        }
    }
    int e = check(&p, err, errlen);
    if (e) {
        return e;
    }
    *out = p;
    return 0;
}
