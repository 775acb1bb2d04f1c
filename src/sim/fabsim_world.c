/* fabsim_world.c: what every strategy of a fabric run shares: the fabric
 * (a builder or a topology file) and the workload (migration pairs and
 * arrival times, background pairs) drawn once from the seed.
 *
 * The only file of the fabric simulator that reads a file; it never
 * changes the fabric or the workload after fabsim_world_create(). */
#include "sim/fabsim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sim/rng.h"

#define TOPO_FILE_MAX (64u << 20)
#define DEFAULT_MIGRATIONS 16

static const char seed002_pairs[] = "h4:h1,h5:h2,h6:h3";

static int
read_topo(const char *path, struct fabric **fp, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return EIO;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= TOPO_FILE_MAX) {
                snprintf(err, errlen, "%s: larger than %u MiB", path,
                         TOPO_FILE_MAX >> 20);
                free(buf);
                fclose(f);
                return EINVAL;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        return EIO;
    }
    struct fabric_parse_error pe = {0};
    enum fabric_err e = fabric_parse(buf, n, fp, &pe);
    free(buf);
    if (e) {
        snprintf(err, errlen, "%s:%s", path, pe.msg);
        return EINVAL;
    }
    return 0;
}

static int
build_fabric(const struct fabsim_params *p, struct fabric **fp, char *err,
             size_t errlen)
{
    enum fabric_err e = FABRIC_E_OK;
    switch (p->topo) {
    case FABSIM_TOPO_FATTREE:
        e = fabric_fat_tree(p->k, (uint64_t)(p->host_mbps * 1e6),
                            (uint64_t)(p->link_mbps * 1e6), fp);
        break;
    case FABSIM_TOPO_SEED002:
        e = fabric_seed002((uint64_t)(p->link_mbps * 1e6), fp);
        break;
    case FABSIM_TOPO_FILE:
        return read_topo(p->topo_file, fp, err, errlen);
    case FABSIM_N_TOPOS:
    default:
        e = FABRIC_E_BAD_ARG;
        break;
    }
    if (e) {
        snprintf(err, errlen, "building the %s fabric: %s",
                 fabsim_topo_name(p->topo), fabric_strerror(e));
        return EINVAL;
    }
    return 0;
}

static int
find_host(const struct fabric *f, const char *name, size_t len, uint32_t *node,
          char *err, size_t errlen)
{
    char buf[FABRIC_NAME_MAX + 1];
    if (len > FABRIC_NAME_MAX) {
        len = FABRIC_NAME_MAX;
    }
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (!fabric_find(f, buf, node) ||
        fabric_node_kind(f, *node) != FABRIC_HOST) {
        snprintf(err, errlen, "--pairs: '%s' is not a host of the fabric",
                 buf);
        return EINVAL;
    }
    return 0;
}

/* "SRC:DST,..." (shape checked by the parser) into host pairs. */
static int
resolve_pairs(const struct fabric *f, const char *spec,
              struct fabsim_job **pairsp, size_t *np, char *err, size_t errlen)
{
    size_t n = 0, cap = 0;
    struct fabsim_job *pairs = NULL;
    while (*spec) {
        const char *comma = strchr(spec, ',');
        size_t len = comma ? (size_t)(comma - spec) : strlen(spec);
        const char *colon = memchr(spec, ':', len);
        struct fabsim_job j = {0};
        if (!colon ||
            find_host(f, spec, (size_t)(colon - spec), &j.src, err, errlen) ||
            find_host(f, colon + 1, len - (size_t)(colon - spec) - 1, &j.dst,
                      err, errlen)) {
            if (!colon) {
                snprintf(err, errlen, "--pairs: expected SRC:DST");
            }
            free(pairs);
            return EINVAL;
        }
        if (j.src == j.dst) {
            snprintf(err, errlen,
                     "--pairs: '%.*s' migrates a host to "
                     "itself",
                     (int)len, spec);
            free(pairs);
            return EINVAL;
        }
        pairs = xgrow(pairs, &cap, n + 1, sizeof *pairs);
        pairs[n++] = j;
        spec = comma ? comma + 1 : spec + len;
    }
    *pairsp = pairs;
    *np = n;
    return 0;
}

/* Two distinct hosts, uniformly. */
static void
random_pair(struct sim_rng *r, const uint32_t *hosts, size_t n,
            struct fabsim_job *j)
{
    size_t a = (size_t)sim_rng_below(r, n);
    size_t b = (size_t)sim_rng_below(r, n - 1);
    j->src = hosts[a];
    j->dst = hosts[b >= a ? b + 1 : b];
}

/* The parameters as run: the topology's defaults filled in. */
static void
resolve_defaults(struct fabsim_params *q)
{
    if (q->topo == FABSIM_TOPO_FATTREE) {
        q->host_mbps = q->host_mbps >= 0 ? q->host_mbps : 10000;
        q->link_mbps = q->link_mbps >= 0 ? q->link_mbps : 1000;
    } else if (q->topo == FABSIM_TOPO_SEED002) {
        q->link_mbps = q->link_mbps >= 0 ? q->link_mbps : 500;
        q->host_mbps = q->link_mbps;
    }
    if (q->warmup_ms < 0) {
        q->warmup_ms = q->period_ms;
    }
    if (!q->pairs[0] && q->topo == FABSIM_TOPO_SEED002) {
        snprintf(q->pairs, sizeof q->pairs, "%s", seed002_pairs);
    }
}

int
fabsim_world_create(const struct fabsim_params *p, struct fabsim_world **wp,
                    char *err, size_t errlen)
{
    struct fabsim_params q = *p;
    resolve_defaults(&q);
    if (q.working_set_mb > q.memory_mb) {
        snprintf(err, errlen, "--working-set-mb %g is more than --memory-mb %g",
                 q.working_set_mb, q.memory_mb);
        return EINVAL;
    }
    if (q.working_set_mb > 0 && q.working_set_mb * 1048576.0 < 4096) {
        snprintf(err, errlen, "--working-set-mb %g is less than one page of "
                 "4096 bytes (0 for none)", q.working_set_mb);
        return EINVAL;
    }

    struct fabric *f = NULL;
    int e = build_fabric(&q, &f, err, errlen);
    if (e) {
        return e;
    }
    size_t n_hosts = fabric_n_hosts(f);
    if (n_hosts < 2) {
        snprintf(err, errlen, "the fabric has fewer than two hosts");
        fabric_destroy(f);
        return EINVAL;
    }
    struct fabsim_job *pairs = NULL;
    size_t n_pairs = 0;
    e = resolve_pairs(f, q.pairs, &pairs, &n_pairs, err, errlen);
    if (e) {
        fabric_destroy(f);
        return e;
    }
    uint32_t *hosts = xmalloc(n_hosts * sizeof *hosts);
    for (uint32_t i = 0, k = 0; i < fabric_n_nodes(f); i++) {
        if (fabric_node_kind(f, i) == FABRIC_HOST) {
            hosts[k++] = i;
        }
    }

    struct fabsim_world *w = xcalloc(1, sizeof *w);
    w->p = q;
    w->fabric = f;
    w->memory_bytes = (uint64_t)(q.memory_mb * 1048576.0);
    if (!w->memory_bytes) {
        w->memory_bytes = 1;
    }
    /* <= memory_bytes: checked above, and both round alike. */
    w->working_set_bytes = (uint64_t)(q.working_set_mb * 1048576.0);
    w->n_jobs = q.migrations >= 0 ? (size_t)q.migrations
                : n_pairs         ? n_pairs
                                  : DEFAULT_MIGRATIONS;
    w->jobs = xcalloc(w->n_jobs ? w->n_jobs : 1, sizeof *w->jobs);
    double warmup = (double)q.warmup_ms / 1000.0;
    struct sim_rng r;
    sim_rng_init(&r, sim_hash3(q.seed, 1, 0));
    for (size_t i = 0; i < w->n_jobs; i++) {
        struct fabsim_job *j = &w->jobs[i];
        if (n_pairs) {
            *j = pairs[i % n_pairs];
        } else {
            random_pair(&r, hosts, n_hosts, j);
        }
        j->t_arrive = q.concurrent ? warmup : warmup + (double)i / q.rate;
    }
    w->n_background = q.background;
    w->background =
        xcalloc(q.background ? q.background : 1, sizeof *w->background);
    sim_rng_init(&r, sim_hash3(q.seed, 2, 0));
    for (size_t i = 0; i < w->n_background; i++) {
        random_pair(&r, hosts, n_hosts, &w->background[i]);
    }
    free(pairs);
    free(hosts);
    *wp = w;
    return 0;
}

void
fabsim_world_destroy(struct fabsim_world *w)
{
    if (w) {
        fabric_destroy(w->fabric);
        free(w->jobs);
        free(w->background);
        free(w);
    }
}
