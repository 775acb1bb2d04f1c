/* metrics.h: mignetd's counters and histograms, and their Prometheus text.
 *
 * The daemon's modules bump plain counters here; /metrics renders them
 * together with the core's statistics.  Nothing here allocates while
 * counting, and rendering never changes a value. */
#ifndef MIGNET_CONTROLLER_METRICS_H
#define MIGNET_CONTROLLER_METRICS_H 1

#include <stddef.h>
#include <stdint.h>

#include "mignet/core.h"

struct strbuf;

#define METRICS_MAX_BUCKETS 16

/* A histogram with fixed upper bounds (in the unit it is rendered in). */
struct metrics_hist {
    const char *name;
    const char *help;
    size_t n_bounds;
    double bounds[METRICS_MAX_BUCKETS];
    uint64_t counts[METRICS_MAX_BUCKETS + 1]; /* per bucket; last = +Inf */
    uint64_t count;
    double sum;
};

void metrics_hist_observe(struct metrics_hist *, double value);
/* 'name' and 'help' must outlive the histogram; 'n' bounds, ascending. */
void metrics_hist_init(struct metrics_hist *, const char *name,
                       const char *help, const double *bounds, size_t n);

/* Pieces of the exposition, for modules that render their own metrics:
 * the HELP/TYPE lines, one unlabelled sample with them, a histogram.
 * Each returns 0 or ENOMEM. */
int metrics_head(struct strbuf *, const char *name, const char *type,
                 const char *help);
int metrics_scalar(struct strbuf *, const char *name, const char *type,
                   const char *help, uint64_t v);
int metrics_render_hist(struct strbuf *, const struct metrics_hist *);

/* One unlabelled sample and its HELP/TYPE, for tables of them. */
struct metrics_sample {
    const char *name, *type, *help;
    uint64_t v;
};
/* metrics_scalar() for each of the 'n' samples of 'v'. */
int metrics_scalars(struct strbuf *, const struct metrics_sample *v,
                    size_t n);

struct metrics {
    uint64_t api_requests[600];   /* by HTTP status */
    uint64_t instructions_sent[3]; /* by enum instr_kind */
    uint64_t instructions_unrouted; /* node had no session */
    uint64_t agent_sessions;      /* accepted */
    uint64_t agent_errors;        /* error messages sent to agents */
    uint64_t agent_refused;       /* instructions agents refused */
    uint64_t map_pushes;          /* map pushes sent to agents */
    uint64_t map_push_entries;    /* map entries they carried */
    uint64_t map_acks;            /* map_ack messages accepted */
    unsigned agents_subscribed;   /* sessions subscribed to map push */
    uint64_t wrong_deletes;
    uint64_t store_commits;
    uint64_t store_failures;
    uint64_t batches_cut; /* batches ended early to stay under the bound */
    uint64_t dhcp_received;           /* 'dhcp' messages from agents */
    uint64_t dhcp_rejected;           /* ... that created nothing */
    uint64_t binding_reports;         /* 'binding' messages from agents */
    uint64_t binding_reports_refused;
    /* Node identity (docs/mignetd.md). */
    uint64_t agent_unauthorized;  /* hellos without a valid credential */
    uint64_t agent_forbidden;     /* messages about another node's VMs */
    uint64_t agent_read_pauses;   /* sessions not read (back-pressure) */
    uint64_t map_reads_unauthenticated; /* GET /v1/map?node= without the
                                         * node's token: no ack */
    unsigned agents_connected;
    struct metrics_hist delay;    /* deletion delay chosen, seconds */
    struct metrics_hist commit;   /* store commit latency, seconds */
    /* From a migrate request being handled to the destination's install
     * being written to its agent's socket, seconds. */
    struct metrics_hist install;
};

void metrics_init(struct metrics *);
void metrics_count_api(struct metrics *, int status);

/* Appends the Prometheus text exposition of 'm' and of 'core' to 'out'.
 * Returns 0 or ENOMEM. */
int metrics_render(const struct metrics *, const struct core *,
                   struct strbuf *out);

#endif /* MIGNET_CONTROLLER_METRICS_H */
