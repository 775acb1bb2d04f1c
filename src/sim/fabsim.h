/* fabsim.h: the fabric simulator's internal interface (`mignet sim
 * --fabric ...`): migrations as pre-copy bulk transfers across a fabric,
 * with max-min fair bandwidth sharing and the planner's routing.
 *
 * A run is a pure function of its parameters: nothing here reads a clock,
 * the environment or a socket (fabsim_main() times runs for wall_ms and
 * reads the topology file).  Out of memory aborts (lib/util.h).  The model
 * and its sources: docs/simulator.md, "Fabric mode". */
#ifndef MIGNET_SIM_FABSIM_H
#define MIGNET_SIM_FABSIM_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mignet/planner.h"

/* ------------------------------------------------------------------ */
/* Max-min fair rates (progressive filling).                           */
/* ------------------------------------------------------------------ */

/* Resources have a capacity (here: bytes per second of one direction of
 * a link); a flow crosses a set of resources and may have a rate cap of
 * its own.  fabsim_mm_solve() gives every flow its max-min fair rate:
 * raise all rates together, freeze the flows of a resource once it is
 * full (or of a flow once it reaches its cap), go on with the rest. */
struct fabsim_mm;

/* 'n_res' resources with capacities 'capacity' (> 0 each, copied). */
struct fabsim_mm *fabsim_mm_create(size_t n_res, const double *capacity);
void fabsim_mm_destroy(struct fabsim_mm *);

/* Adds a flow over the 'n' resources 'res' (distinct, each < n_res),
 * rate cap 'cap' (> 0; INFINITY for none).  Its rate is 0 until the next
 * solve.  Returns 0 and its id in '*id', or EINVAL. */
int fabsim_mm_add(struct fabsim_mm *, const uint32_t *res, size_t n,
                  double cap, uint32_t *id);
/* Removes flow 'id' (ids are reused). */
void fabsim_mm_remove(struct fabsim_mm *, uint32_t id);
size_t fabsim_mm_n_flows(const struct fabsim_mm *);

/* Recomputes every flow's rate and every resource's load: a heap of
 * resources ordered by fair share, O((F P + R) log R) for F flows of P
 * resources over R resources in use. */
void fabsim_mm_solve(struct fabsim_mm *);
/* The same by the textbook method, a scan of every resource in use per
 * fill level, O(R) per level: the oracle of the tests and the baseline
 * of the benchmark.  Both give the same rates up to rounding. */
void fabsim_mm_solve_scan(struct fabsim_mm *);

double fabsim_mm_rate(const struct fabsim_mm *, uint32_t id);
/* Sum of the rates of the flows over 'res' at the last solve. */
double fabsim_mm_load(const struct fabsim_mm *, uint32_t res);
double fabsim_mm_capacity(const struct fabsim_mm *, uint32_t res);

/* Lets 'dt' seconds pass at the current loads: every resource's byte
 * counter grows by load * dt.  O(resources loaded). */
void fabsim_mm_advance(struct fabsim_mm *, double dt);
double fabsim_mm_bytes(const struct fabsim_mm *, uint32_t res);

/* ------------------------------------------------------------------ */
/* Parameters.                                                         */
/* ------------------------------------------------------------------ */

#define FABSIM_TOPOS                                                          \
    FABSIM_TOPO(FATTREE, "fattree")                                           \
    FABSIM_TOPO(SEED002, "seed002")                                           \
    FABSIM_TOPO(FILE, "file")
enum fabsim_topo {
#define FABSIM_TOPO(ENUM, NAME) FABSIM_TOPO_##ENUM,
    FABSIM_TOPOS
#undef FABSIM_TOPO
        FABSIM_N_TOPOS
};
const char *fabsim_topo_name(enum fabsim_topo);

/* The strategies, in the order `--strategy all` runs them. */
#define FABSIM_STRATEGIES                                                     \
    FABSIM_STRATEGY(SINGLE, "single")                                         \
    FABSIM_STRATEGY(ECMP, "ecmp")                                             \
    FABSIM_STRATEGY(DR, "dr")                                                 \
    FABSIM_STRATEGY(DR_PATHS, "dr+paths")
enum fabsim_strategy {
#define FABSIM_STRATEGY(ENUM, NAME) FABSIM_##ENUM,
    FABSIM_STRATEGIES
#undef FABSIM_STRATEGY
        FABSIM_N_STRATEGIES
};
const char *fabsim_strategy_name(enum fabsim_strategy);
bool fabsim_strategy_from_name(const char *, enum fabsim_strategy *);

#define FABSIM_PATH_MAX 512
#define FABSIM_PAIRS_MAX 1024

struct fabsim_params {
    enum fabsim_topo topo;
    char topo_file[FABSIM_PATH_MAX]; /* FABSIM_TOPO_FILE */
    uint32_t k;                      /* fat-tree arity */
    double host_mbps;         /* host NICs; < 0: the topology's default */
    double link_mbps;         /* switch-switch links; < 0: default */
    int64_t migrations;       /* < 0: the number of --pairs, else 16 */
    double rate;              /* migrations started per second */
    bool concurrent;          /* all start at once */
    double memory_mb;         /* MiB per VM */
    double dirty_pages_per_s; /* 4 KiB pages */
    double working_set_mb;    /* writes fall uniformly on it; 0: none */
    uint64_t deadline_ms;     /* 0: none */
    uint32_t background;      /* long-lived background flows */
    double background_mbps;   /* rate cap of each; 0: none */
    uint32_t period_ms;       /* port statistics period (D-R) */
    int64_t warmup_ms;        /* first migration; < 0: one period */
    double cpu_free;          /* target CPU free for reassembly, 0..1 */
    uint32_t setup_max_ms;    /* seed-004 threshold 2 */
    uint32_t flow_install_ms; /* per switch of an added path */
    uint32_t max_paths;
    double striping_overhead;
    char pairs[FABSIM_PAIRS_MAX]; /* "SRC:DST,...", host names; "" */
    uint64_t seed;
    uint32_t strategies;    /* bit i: strategy i */
    bool scan_solver;       /* fabsim_mm_solve_scan() */
    bool capacity_estimate; /* estimate on capacity, not residual */
    bool json;
    bool per_migration; /* table: a line per migration */
};

void fabsim_params_default(struct fabsim_params *);
/* Parses `sim --fabric ...` (argv[0] is skipped).  On error returns
 * EINVAL with a message in 'err' and leaves 'p' unchanged.  Sets '*help'
 * for --help. */
int fabsim_params_parse(struct fabsim_params *p, int argc, char **argv,
                        bool *help, char *err, size_t errlen);
void fabsim_params_usage(FILE *);

/* ------------------------------------------------------------------ */
/* The world every strategy shares: fabric and workload.               */
/* ------------------------------------------------------------------ */

struct fabsim_job {
    uint32_t src, dst; /* fabric host nodes */
    double t_arrive;   /* seconds */
};

struct fabsim_world {
    struct fabsim_params p;
    struct fabric *fabric;
    size_t n_jobs;
    struct fabsim_job *jobs; /* by arrival time */
    size_t n_background;
    struct fabsim_job *background; /* t_arrive unused: always on */
    uint64_t memory_bytes;
    uint64_t working_set_bytes;    /* <= memory_bytes; 0: none */
};

/* Builds the fabric (builder or 'p->topo_file') and draws the workload
 * from 'p->seed'.  Returns 0, or EINVAL/EIO with a message in 'err'. */
int fabsim_world_create(const struct fabsim_params *, struct fabsim_world **,
                        char *err, size_t errlen);
void fabsim_world_destroy(struct fabsim_world *);

/* ------------------------------------------------------------------ */
/* One run per strategy.                                               */
/* ------------------------------------------------------------------ */

struct fabsim_mig {
    uint32_t src, dst;
    double start_ms;        /* arrival */
    double estimate_ms;     /* the plan's estimate, set-up included */
    double sim_ms;          /* arrival to the end of stop-and-copy */
    double setup_ms;        /* added paths' flow set-up */
    double downtime_ms;     /* the stop-and-copy round */
    double bytes;           /* pre-copy bytes sent, every round */
    double throughput_mbps; /* bytes over the copy time */
    uint32_t rounds;        /* stop-and-copy included */
    enum precopy_stop precopy_stop;
    enum plan_stop plan_stop;
    bool deadline_met; /* true when there is no deadline */
    size_t n_paths;
    struct route *paths;
};

struct fabsim_result {
    enum fabsim_strategy strategy;
    size_t n;
    struct fabsim_mig *mig;
    double time_mean_ms, time_p50_ms, time_p99_ms, time_max_ms;
    double estimate_mean_ms;      /* of the finite estimates */
    double estimate_p50_ms;       /* of all, infinite ones too */
    uint64_t estimates_infinite;  /* no capacity left, by the estimate */
    /* Simulated over estimated, for the finite estimates. */
    double ratio_mean, ratio_p50, ratio_max;
    uint64_t deadlines_met, deadlines_missed;
    double bytes;            /* every migration's pre-copy bytes */
    double background_bytes; /* from the first arrival to the end */
    double mean_link_util;   /* switch-switch links, both ways, same */
    uint64_t paths, paths_added, hops_released;
    uint64_t events, solves, polls;
    double sim_ms;  /* time 0 to the last migration's end */
    double wall_ms; /* set by the caller */
};

/* Runs 'strategy' on 'w'.  Returns 0, or EIO with a message in 'err' (a
 * migration without a route, a stalled run).  On success the caller
 * destroys '*r'. */
int fabsim_run(const struct fabsim_world *w, enum fabsim_strategy,
               struct fabsim_result *r, char *err, size_t errlen);
void fabsim_result_destroy(struct fabsim_result *);

/* Output: the one JSON object of the `mignet sim` convention, or a
 * table.  JSON returns 0 or ENOMEM. */
int fabsim_report_json(FILE *, const struct fabsim_world *,
                       const struct fabsim_result *, size_t n);
void fabsim_report_table(FILE *, const struct fabsim_world *,
                         const struct fabsim_result *, size_t n);

/* `mignet sim` with --fabric or --topo among its arguments. */
bool fabsim_wanted(int argc, char **argv);
/* Runs `mignet sim --fabric ...`; returns the exit code (0, 1 a run
 * failed, 2 bad usage). */
int fabsim_main(int argc, char **argv);

#endif /* MIGNET_SIM_FABSIM_H */
