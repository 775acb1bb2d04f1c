/* simulator.h: the data-centre simulator's internal interface.
 *
 * Parameters (parsed from `mignet sim` arguments), the shared workload, one
 * run per strategy driving the real core (include/mignet/core.h), and the
 * result counters of the JSON contract.  Nothing here reads the wall clock
 * or the environment: callers pass hooks for wall time and progress, so a
 * run is a pure function of its parameters. */
#ifndef MIGNET_SIM_SIMULATOR_H
#define MIGNET_SIM_SIMULATOR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mignet/model.h"

#define SIM_PATTERNS                                                         \
    SIM_PATTERN(RANDOM, "random")                                            \
    SIM_PATTERN(DRAIN, "drain")                                              \
    SIM_PATTERN(PINGPONG, "pingpong")                                        \
    SIM_PATTERN(CHAIN, "chain")
enum sim_pattern {
#define SIM_PATTERN(ENUM, NAME) SIM_##ENUM,
    SIM_PATTERNS
#undef SIM_PATTERN
    SIM_N_PATTERNS
};
const char *sim_pattern_name(enum sim_pattern);
bool sim_pattern_parse(const char *, enum sim_pattern *);

/* The strategies, in the order `--strategy all` runs them. */
#define SIM_N_STRATEGIES 8
extern const char *const sim_strategies[SIM_N_STRATEGIES];

#define SIM_STRATEGY_MAX 80 /* "all" or a comma-separated list */

struct sim_params {
    uint32_t nodes;
    uint32_t vms;
    uint32_t migrations;
    enum sim_pattern pattern;
    uint32_t refresh_ms;     /* mean refresh interval of a node */
    double refresh_jitter;   /* each node's interval: mean * (1 +- F) */
    double refresh_wobble;   /* each refresh: node interval * (1 +- W) */
    uint32_t peers;          /* K senders per VM */
    uint32_t pps;            /* packets/s per sender */
    uint32_t pause_ms;       /* VM pause during switch-over */
    uint32_t gap_ms;         /* pingpong return / chain hop gap */
    uint64_t seed;
    char strategy[SIM_STRATEGY_MAX + 1];
    bool json;
    double latency_ms;       /* control message latency, one way */
    uint32_t data_latency_us;
    double rate;             /* migrations (jobs) started per second */
    uint32_t fast_factor;    /* fast-refresh: k times more often */
    int64_t fixed_delay_ms;  /* -1: the core's default */
    uint32_t chain_len;      /* hops per chain */
    int64_t warmup_ms;       /* -1: 3 * refresh_ms */
    uint32_t drain_ms;       /* give up this long after the last job */
    int64_t tail_ms;         /* traffic after the last move (-1: auto) */
    bool exact;              /* simulate every packet (no cold streams) */
    bool progress;           /* progress on stderr (table mode) */
    uint32_t push_interval_ms; /* push: one update per node per interval */
    double push_down;          /* push: fraction of nodes not subscribed */
    /* How the VM manager drives a migration (docs/simulator.md, "Switch-
     * over modes"): `now` calls core_migrate() at the pause; the others
     * start it precopy_ms before the pause and switch as the mode says. */
    enum mig_switchover switchover;
    uint32_t precopy_ms;       /* pre-copy before the pause (not `now`) */
    double abort_rate;         /* fraction of migrations cancelled */
    /* Pictures (docs/simulator.md, "Plots"): not part of the run's
     * parameters, so neither in the JSON nor in the replay line.  The
     * strings point into argv. */
    const char *plot;          /* --plot FILE.png, or NULL */
    const char *plot_data;     /* --plot-data FILE.tsv, or NULL */
    uint32_t plot_bucket_ms;   /* loss time series bucket (100) */
};

void sim_params_default(struct sim_params *);
/* Parses `sim [options]` (argv[0] is skipped).  On error returns EINVAL
 * and writes a message to 'err' (size 'errlen'); 'p' is then unchanged.
 * Sets '*help' when --help was given. */
int sim_params_parse(struct sim_params *p, int argc, char **argv,
                     bool *help, char *err, size_t errlen);
/* Checks ranges and combinations; EINVAL with a message, else 0. */
int sim_params_check(const struct sim_params *, char *err, size_t errlen);
/* "mignet sim --nodes ... --strategy S --json": replays 'p' exactly. */
void sim_params_cmdline(const struct sim_params *, const char *strategy,
                        char *buf, size_t len);
void sim_params_usage(FILE *);

struct sim_result {
    char strategy[32];
    /* The JSON contract. */
    uint64_t sent, delivered;
    uint64_t lost_pause, lost_stale, lost_other;
    uint64_t relayed, extra_packets;
    uint64_t wrong_deletions;
    uint64_t gateway_polls, control_messages;
    double cleanup_p50_ms, cleanup_p99_ms, cleanup_max_ms;
    uint64_t events;
    double wall_ms;
    /* Extras. */
    uint64_t planned;           /* migrations in the plan */
    uint64_t migrations;        /* core_migrate(_opts) calls that
                                   succeeded */
    uint64_t cleaned;           /* migrations that reached CLEANED */
    uint64_t retries;           /* core_migrate said IN_PROGRESS */
    uint64_t migrate_errors;    /* any other core_migrate error */
    uint64_t core_errors;       /* errors from ack/refresh calls */
    uint64_t wrong_core;        /* core_sink.wrong_delete */
    uint64_t wrong_agent;       /* agent model saw the bug */
    uint64_t refused;           /* agent refused (epoch rule) */
    uint64_t lost_hop_limit;    /* of lost_other: relayed HOP_LIMIT times */
    uint64_t tasks_left;        /* core_n_tasks() at the end */
    uint64_t jobs_unfinished;   /* migrations never issued/resumed */
    uint64_t hot_left;          /* windows still open at the end */
    uint64_t max_hot;           /* most windows open at once */
    uint64_t sim_ms;            /* simulated time from traffic start */
    uint64_t horizon_ms;        /* traffic time: the same for all */
    uint64_t after_horizon;     /* changes that would hit later packets */
    uint64_t released_early;    /* core_stats */
    uint64_t relays_retargeted; /* core_stats */
    size_t core_bytes;          /* core_memory_bytes() after setup */
    /* Cost and gain of map push (docs/simulator.md, "Map push"). */
    uint64_t instructions;      /* control_messages by kind: ... */
    uint64_t instruction_acks;
    uint64_t pushes;            /* map updates sent to nodes */
    uint64_t version_acks;      /* core_node_version_ack messages */
    uint64_t open_connections;  /* persistent channel sessions */
    uint64_t subscriptions;     /* of those, subscribed to map pushes */
    uint64_t stale_sent;        /* packets sent by a stale map copy */
    uint64_t early_deletes;     /* DELETEs while a map still sent there */
    /* The migration lifecycle (docs/simulator.md, "Switch-over modes"). */
    char switchover[16];        /* the VM manager's mode */
    uint64_t lost_activation;   /* dropped at the source after the VM
                                   resumed, before the switch reached it */
    uint64_t lost_install_race; /* dropped where the VM runs or goes,
                                   its INSTALL still on the way */
    uint64_t queued;            /* lossless: held at the destination while
                                   the VM was not running there */
    double queued_delay_max_ms; /* ... their extra delay, max and mean */
    double queued_delay_mean_ms;
    uint64_t aborted;           /* migrations that reached ABORTED */
    uint64_t activations;       /* `activated` reports of agents */
    /* With --plot or --plot-data only (else NULL): packets lost in each
     * 'series_ms' of simulated time from the traffic start (they add up
     * to the lost_* classes), and every cleaned migration's cleanup
     * time in microseconds, sorted ('cleaned' of them).  Owned by the
     * result: sim_result_destroy(). */
    uint64_t series_ms;
    uint64_t *lost_series;
    size_t n_series;
    uint64_t *cleanup_us;
};

/* Frees what a result owns (its series); NULL is fine. */
void sim_result_destroy(struct sim_result *);
/* Every packet the run lost, whatever the cause: sent - delivered. */
uint64_t sim_result_lost(const struct sim_result *);

/* Is 'name' a strategy of the simulator (sim_strategies)? */
bool sim_strategy_known(const char *name);

struct sim_workload;

/* The tail of traffic after the workload's last move, milliseconds:
 * --tail-ms, or the default docs/simulator.md derives. */
uint64_t sim_params_tail_ms(const struct sim_params *);

/* Builds the workload every strategy shares: placement, peers, refresh
 * phases, the migration plan.  NULL on ENOMEM. */
struct sim_workload *sim_workload_create(const struct sim_params *);
void sim_workload_destroy(struct sim_workload *);
/* Migrations the plan holds (may be fewer than asked, e.g. drain). */
uint64_t sim_workload_hops(const struct sim_workload *);

struct sim_hooks {
    uint64_t (*wall_us)(void *aux); /* NULL: wall_ms = 0 */
    /* Called now and then during long runs. */
    void (*progress)(void *aux, const char *strategy, uint64_t sim_ms,
                     uint64_t migrations, uint64_t planned,
                     uint64_t events);
    void *aux;
};

/* The wall clock (CLOCK_MONOTONIC, microseconds) for sim_hooks.wall_us:
 * the one place the simulator reads real time. */
uint64_t sim_wall_us(void *aux);

/* Runs 'strategy' on 'wl'.  0 on success, ENOMEM, EINVAL (unknown
 * strategy) or EIO (the core refused the setup; message in 'err'). */
int sim_run(const struct sim_workload *wl, const char *strategy,
            const struct sim_hooks *, struct sim_result *,
            char *err, size_t errlen);

/* Output. */
void sim_report_table(FILE *, const struct sim_params *,
                      const struct sim_result *, size_t n);
/* Prints the one JSON object of the contract; 0 or ENOMEM. */
int sim_report_json(FILE *, const struct sim_params *,
                    const struct sim_result *, size_t n);

/* Pictures (plot.c).  Is gnuplot on PATH?  If not, writes a message
 * naming the Debian package to 'err' and returns ENOENT. */
int sim_plot_check(char *err, size_t errlen);
/* Writes the numbers behind the picture (the loss series of every
 * result, one column a strategy, then each strategy's cleanup times) to
 * 'path'.  0 or errno with a message in 'err'. */
int sim_plot_write_data(const char *path, const struct sim_params *,
                        const struct sim_result *, size_t n,
                        char *err, size_t errlen);
/* Draws p->plot from p->plot_data's numbers (or a temporary copy) with
 * gnuplot.  0 or errno with a message in 'err'. */
int sim_plot(const struct sim_params *, const struct sim_result *,
             size_t n, char *err, size_t errlen);

#endif /* MIGNET_SIM_SIMULATOR_H */
