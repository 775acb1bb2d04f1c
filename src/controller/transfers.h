/* transfers.h: what mignetd learns from the pre-copy transfers it is told
 * about (POST /v1/transfers, `mignet transfer report`; docs/mignetd.md).
 *
 * A report is the pre-copy engine's (docs/api.yaml, TransferReport): its
 * rounds' times T_i and sizes V_i give the goodput the transfer really had
 * between its two nodes.  Per (from, to) pair the module keeps the last
 * TRANSFERS_WINDOW goodputs and learns their median; the planner uses it
 * in place of the links' bandwidth for that pair (fabric_plan_input's
 * learned_Bps).  Parsing is pure (no ctl, no clock) so the unit tests and
 * the fuzzer run the very code mignetd runs.  The state is in memory only:
 * a restart forgets what was learned. */
#ifndef MIGNET_CONTROLLER_TRANSFERS_H
#define MIGNET_CONTROLLER_TRANSFERS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/limits.h"
#include "mignet/model.h"

struct rest_error;
struct strbuf;

/* ---- The report ---- */

struct transfer_round {
    uint32_t round;     /* 1, 2, ...: the last is the stop-and-copy */
    double start_ms;    /* from the transfer's start */
    double t_ms;        /* T_i */
    double v_bytes;     /* V_i */
    double pages;
};

/* POST /v1/transfers: {"from", "to", "report": {...}}. */
struct transfer_post {
    char from[MN_NAME_MAX + 1];
    char to[MN_NAME_MAX + 1];
    char mode[8];               /* ack, en or buffer */
    char transport[8];          /* tcp or mptcp */
    uint32_t mem_mb;            /* 1..MN_MEMORY_MB_MAX */
    double dirty_pps;           /* 0..MN_DIRTY_RATE_MAX */
    bool hot;                   /* the writes had a hot set; else uniform */
    uint32_t paths;             /* 1..MN_TRANSFER_PATHS_MAX */
    double total_ms, downtime_ms;
    double bytes;
    uint32_t rounds;            /* == n_rounds */
    struct transfer_round *round_list; /* heap: transfer_post_destroy() */
    size_t n_rounds;
};

/* Parses and validates a whole body: every field the engine's report may
 * carry is checked (type, range, finiteness; round numbers 1..n in order,
 * starts not going back, downtime <= total), unknown fields refused.  On
 * success '*p' holds the report (free it with transfer_post_destroy());
 * on failure 'e' says why (400 bad_json, 422 missing_field /
 * invalid_type / invalid_value / unknown_field / invalid_name) and '*p'
 * holds nothing to free. */
bool transfer_parse_post(const char *body, size_t len,
                         struct transfer_post *p, struct rest_error *e);
void transfer_post_destroy(struct transfer_post *);

/* The goodput of a transfer, bytes per second: sum V_i over sum T_i of
 * its iterative rounds (all but the last: the stop-and-copy's time holds
 * the pause and the final handshake, not the link's rate), or of every
 * round when there is only one.  False when those rounds moved nothing or
 * took no time (nothing to learn). */
bool transfer_goodput(const struct transfer_post *, double *Bps);

/* The goodput of one path that 'goodput' over 'paths' striped paths
 * implies, with the planner's striping overhead per extra path
 * (precopy_stripe_bandwidth()'s inverse for equal paths). */
double transfer_per_path(double goodput, uint32_t paths, double overhead);

/* The median of 'n' (>= 1) values (not changed). */
double transfer_median(const double *v, size_t n);

/* ---- The learning state ---- */

#define TRANSFERS_WINDOW 8      /* goodputs a pair's median is over */
#define TRANSFERS_KEEP 1000     /* transfers listed (the newest) */
#define TRANSFERS_PAIRS_MAX 4096 /* pairs remembered */

/* The estimate a report was compared with when it arrived. */
struct transfer_estimate {
    bool has;                   /* false: no fabric plan for the pair */
    bool learned;               /* the bandwidth was learned, not nominal */
    uint64_t learned_n;         /* from this many transfers */
    double bandwidth_bps;       /* striped, what the estimate assumed */
    double total_ms;
    double error_ratio;         /* |measured - estimate| / measured */
};

/* One transfer as kept. */
struct transfer_entry {
    uint64_t id;
    uint64_t received_ms;       /* Unix ms */
    char from[MN_NAME_MAX + 1], to[MN_NAME_MAX + 1];
    char mode[8], transport[8];
    uint32_t mem_mb, paths, rounds;
    double dirty_pps, total_ms, downtime_ms, bytes;
    double goodput_Bps;         /* transfer_goodput() */
    double path_Bps;            /* per path */
    struct transfer_estimate before;
};

/* A pair's learning. */
struct transfer_pair {
    char from[MN_NAME_MAX + 1], to[MN_NAME_MAX + 1];
    uint64_t seen;              /* transfers reported */
    double window[TRANSFERS_WINDOW]; /* per-path goodputs, ring */
    size_t n_window, next;
    double learned_Bps;         /* median of the window, per path */
    uint64_t last_id;
};

struct transfers;

struct transfers *transfers_create(void); /* aborts when out of memory */
void transfers_destroy(struct transfers *);

/* The learned per-path goodput of 'from' -> 'to' and how many transfers
 * taught it; false (nothing set) when the pair has none. */
bool transfers_learned(const struct transfers *, const char *from,
                       const char *to, double *Bps, uint64_t *n);

/* Learns from 'p' (which transfer_goodput() accepted, 'goodput' its
 * result) with 'before' the estimate it was compared with; 'overhead' is
 * the planner's striping overhead.  Returns the new entry (valid until
 * the next add); NULL when the pair table is full (nothing changed). */
const struct transfer_entry *
transfers_add(struct transfers *, const struct transfer_post *p,
              double goodput, double overhead,
              const struct transfer_estimate *before, uint64_t now_ms);

size_t transfers_n(const struct transfers *);
/* Entry 'i' (0 = the oldest kept), NULL past the end. */
const struct transfer_entry *transfers_get(const struct transfers *,
                                           size_t i);
size_t transfers_n_pairs(const struct transfers *);
const struct transfer_pair *transfers_pair(const struct transfers *,
                                           size_t i);
const struct transfer_pair *transfers_find_pair(const struct transfers *,
                                                const char *from,
                                                const char *to);

/* Appends the metrics: mignet_transfers_total and the histogram
 * mignet_transfer_estimate_error_ratio{source="nominal"|"learned"}.
 * 0 or ENOMEM. */
int transfers_metrics(const struct transfers *, struct strbuf *);

#endif /* controller/transfers.h */
