/* chaos.h: `mignet sim` with faults (docs/simulator.md, "Faults").
 *
 * A small data centre simulated packet by packet around the real core and
 * the real store, whose control messages are lost, duplicated and
 * reordered, whose agents restart, stall and are cut off, whose overlay is
 * partitioned and whose controller crashes and reloads; the invariants are
 * checked after every event.  Deterministic from the seed. */
#ifndef MIGNET_SIM_CHAOS_H
#define MIGNET_SIM_CHAOS_H 1

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CHAOS_FAULTS                                                         \
    CHAOS_FAULT(LOSS, "loss")                                                \
    CHAOS_FAULT(DUP, "dup")                                                  \
    CHAOS_FAULT(REORDER, "reorder")                                          \
    CHAOS_FAULT(ANSWER_LOSS, "answer_loss")                                  \
    CHAOS_FAULT(RESTART, "restart")                                          \
    CHAOS_FAULT(SLOW, "slow")                                                \
    CHAOS_FAULT(PARTITION, "partition")                                      \
    CHAOS_FAULT(OVERLAY, "overlay")                                          \
    CHAOS_FAULT(CRASH, "crash")                                              \
    CHAOS_FAULT(CRASH_COMMIT, "crash_commit")
enum chaos_fault {
#define CHAOS_FAULT(ENUM, NAME) CHAOS_##ENUM,
    CHAOS_FAULTS
#undef CHAOS_FAULT
    CHAOS_N_FAULTS
};
extern const char *const chaos_fault_names[CHAOS_N_FAULTS];

struct chaos_params {
    uint32_t nodes, vms, migrations, peers, pps;
    uint32_t refresh_ms, pause_ms, run_ms, settle_ms, ceiling_ms;
    double latency_ms;
    uint64_t seed;
    uint32_t seeds; /* runs: seed, seed + 1, ... */
    char strategy[32];
    bool json;
    /* Rates per control message. */
    double loss, dup, reorder, answer_loss;
    /* Scheduled faults per run. */
    uint32_t restarts, slow, partitions, overlay, crashes;
    /* The lifecycle: enum mig_switchover (not rarp), or -1: a mix of
     * now, manual and lossless drawn per migration. */
    int switchover;
    uint32_t precopy_ms;
    double abort_rate;
    /* The store mignetd reloads from: store_mem, or SQLite in a
     * temporary file (closed at a crash, opened strictly after). */
    bool store_sqlite;
    /* Each seed draws its own shape (nodes, VMs, migrations, peers,
     * refresh, latency, pause, pre-copy): chaos_params_for_seed. */
    bool vary;
};

struct chaos_result {
    uint64_t seed;
    uint64_t faults[CHAOS_N_FAULTS];
    uint64_t sent, delivered, relayed, lost_pause, lost_partitioned;
    uint64_t lost_dataplane_partition, lost_stale, lost_other;
    uint64_t lost_activation, queued, aborted;
    uint64_t loaded_deletions; /* deletions pending at a crash, run after */
    uint64_t wrong_deletions, early_deletions, two_hop;
    uint64_t migrations, cleaned, tasks_left, resyncs, events;
    uint64_t violations;
    char first[512]; /* the first violation, "" = none */
};

void chaos_params_default(struct chaos_params *);
/* Is this `mignet sim` invocation a fault run (any fault option)? */
bool chaos_wanted(int argc, char **argv);
int chaos_params_parse(struct chaos_params *, int argc, char **argv,
                       bool *help, char *err, size_t errlen);
/* "mignet sim ... --seed S --seeds 1": replays one run exactly. */
void chaos_cmdline(const struct chaos_params *, uint64_t seed, char *buf,
                   size_t len);
/* Prints the fault schedule of 'seed' (what chaos_run injects). */
void chaos_schedule_print(FILE *, const struct chaos_params *,
                          uint64_t seed);
/* The parameters seed 'seed' runs with: 'p', or with --vary the shape
 * that seed draws. */
void chaos_params_for_seed(const struct chaos_params *p, uint64_t seed,
                           struct chaos_params *out);
/* One run with seed 'seed'.  0, ENOMEM, or EINVAL (unknown strategy). */
int chaos_run(const struct chaos_params *, uint64_t seed,
              struct chaos_result *);
int chaos_main(int argc, char **argv);

#endif /* MIGNET_SIM_CHAOS_H */
