/* chaos_main.c: the options, runs and output of `mignet sim` with faults.
 *
 * Parses the fault knobs (any of them selects this mode), runs one seed or
 * many, and prints per run or in total the packets, the faults injected by
 * kind and the invariant violations, with the schedule and the replay
 * command of the first failing seed. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/config.h"
#include "mignet/model.h"
#include "sim/chaos.h"

void
chaos_params_default(struct chaos_params *p)
{
    *p = (struct chaos_params){
        .nodes = 6, .vms = 12, .migrations = 12, .peers = 2, .pps = 50,
        .refresh_ms = 200, .pause_ms = 20, .run_ms = 8000,
        .settle_ms = 8000, .ceiling_ms = 3000, .latency_ms = 2,
        .seed = 1, .seeds = 1, .strategy = "mignet",
        .switchover = MIG_SW_NOW, .precopy_ms = 300,
    };
}

static const char *const chaos_opts[] = {
    "--faults", "--loss", "--dup", "--reorder", "--answer-loss",
    "--restarts", "--slow", "--partitions", "--overlay-cuts", "--crashes",
    "--seeds", "--ceiling-ms", "--run-ms", "--settle-ms", "--vary",
};

bool
chaos_wanted(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        for (size_t k = 0; k < sizeof chaos_opts / sizeof *chaos_opts; k++) {
            if (!strcmp(argv[i], chaos_opts[k])) {
                return true;
            }
        }
    }
    return false;
}

static void
faults_all(struct chaos_params *p)
{
    p->loss = 0.01;
    p->dup = 0.02;
    p->reorder = 0.05;
    p->answer_loss = 0.02;
    p->restarts = p->slow = p->partitions = p->overlay = p->crashes = 2;
}

static bool
parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool
parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= 0.5)) {
        return false;
    }
    *out = v;
    return true;
}

int
chaos_params_parse(struct chaos_params *out, int argc, char **argv,
                   bool *help, char *err, size_t errlen)
{
    struct chaos_params p = *out;
    *help = false;
    struct {
        const char *name;
        uint32_t *v;
        uint32_t lo, hi;
    } u32[] = {
        {"--nodes", &p.nodes, 2, 64}, {"--vms", &p.vms, 1, 10000},
        {"--migrations", &p.migrations, 0, 100000},
        {"--peers", &p.peers, 1, 64}, {"--pps", &p.pps, 1, 100000},
        {"--refresh-ms", &p.refresh_ms, 10, 60000},
        {"--pause-ms", &p.pause_ms, 0, 60000},
        {"--run-ms", &p.run_ms, 100, 3600000},
        {"--settle-ms", &p.settle_ms, 0, 3600000},
        {"--ceiling-ms", &p.ceiling_ms, 100, 3600000},
        {"--seeds", &p.seeds, 1, 10000000},
        {"--restarts", &p.restarts, 0, 1000},
        {"--slow", &p.slow, 0, 1000},
        {"--partitions", &p.partitions, 0, 1000},
        {"--overlay-cuts", &p.overlay, 0, 1000},
        {"--crashes", &p.crashes, 0, 1000},
        {"--precopy-ms", &p.precopy_ms, 2, 60000},
    };
    struct {
        const char *name;
        double *v;
    } rates[] = {
        {"--loss", &p.loss}, {"--dup", &p.dup}, {"--reorder", &p.reorder},
        {"--answer-loss", &p.answer_loss}, {"--abort-rate", &p.abort_rate},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *help = true;
            return 0;
        }
        if (!strcmp(a, "--json")) {
            p.json = true;
            continue;
        }
        if (!strcmp(a, "--vary")) {
            p.vary = true;
            continue;
        }
        if (i + 1 >= argc) {
            snprintf(err, errlen, "unknown option or missing value: %s", a);
            return EINVAL;
        }
        const char *val = argv[++i];
        bool done = false, bad = false;
        for (size_t k = 0; k < sizeof u32 / sizeof *u32 && !done; k++) {
            if (!strcmp(a, u32[k].name)) {
                done = true;
                bad = !parse_u32(val, u32[k].lo, u32[k].hi, u32[k].v);
            }
        }
        for (size_t k = 0; k < sizeof rates / sizeof *rates && !done; k++) {
            if (!strcmp(a, rates[k].name)) {
                done = true;
                bad = !parse_rate(val, rates[k].v);
            }
        }
        if (!done && !strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            p.seed = strtoull(val, &end, 10);
            done = true;
            bad = errno || end == val || *end || val[0] == '-';
        } else if (!done && !strcmp(a, "--latency-ms")) {
            char *end;
            p.latency_ms = strtod(val, &end);
            done = true;
            bad = end == val || *end || !(p.latency_ms > 0
                                          && p.latency_ms <= 1000);
        } else if (!done && !strcmp(a, "--strategy")) {
            struct core_config c;
            done = true;
            bad = strlen(val) >= sizeof p.strategy
                  || !core_config_strategy(&c, val);
            if (!bad) {
                snprintf(p.strategy, sizeof p.strategy, "%s", val);
            }
        } else if (!done && !strcmp(a, "--switchover")) {
            done = true;
            if (!strcmp(val, "now")) {
                p.switchover = MIG_SW_NOW;
            } else if (!strcmp(val, "manual")) {
                p.switchover = MIG_SW_MANUAL;
            } else if (!strcmp(val, "lossless")) {
                p.switchover = MIG_SW_LOSSLESS;
            } else if (!strcmp(val, "mix")) {
                p.switchover = -1;
            } else {
                bad = true; /* rarp is not modelled with faults */
            }
        } else if (!done && !strcmp(a, "--store")) {
            done = true;
            if (!strcmp(val, "sqlite") || !strcmp(val, "mem")) {
                p.store_sqlite = val[0] == 's';
            } else {
                bad = true;
            }
        } else if (!done && !strcmp(a, "--faults")) {
            done = true;
            if (!strcmp(val, "all")) {
                faults_all(&p);
            } else if (strcmp(val, "none")) {
                bad = true;
            }
        }
        if (!done) {
            snprintf(err, errlen, "unknown option with faults: %s", a);
            return EINVAL;
        }
        if (bad) {
            snprintf(err, errlen, "bad value for %s: %s", a, val);
            return EINVAL;
        }
    }
    *out = p;
    return 0;
}

void
chaos_cmdline(const struct chaos_params *p, uint64_t seed, char *buf,
              size_t len)
{
    snprintf(buf, len,
             "mignet sim --strategy %s --nodes %" PRIu32 " --vms %" PRIu32
             " --migrations %" PRIu32 " --peers %" PRIu32 " --pps %" PRIu32
             " --refresh-ms %" PRIu32 " --pause-ms %" PRIu32
             " --latency-ms %g --run-ms %" PRIu32 " --settle-ms %" PRIu32
             " --ceiling-ms %" PRIu32 " --loss %g --dup %g --reorder %g"
             " --answer-loss %g --restarts %" PRIu32 " --slow %" PRIu32
             " --partitions %" PRIu32 " --overlay-cuts %" PRIu32
             " --crashes %" PRIu32 " --switchover %s --precopy-ms %" PRIu32
             " --abort-rate %g --store %s%s --seed %" PRIu64 " --seeds 1",
             p->strategy, p->nodes, p->vms, p->migrations, p->peers, p->pps,
             p->refresh_ms, p->pause_ms, p->latency_ms, p->run_ms,
             p->settle_ms, p->ceiling_ms, p->loss, p->dup, p->reorder,
             p->answer_loss, p->restarts, p->slow, p->partitions,
             p->overlay, p->crashes,
             p->switchover < 0 ? "mix"
                               : mig_switchover_name(
                                     (enum mig_switchover)p->switchover),
             p->precopy_ms, p->abort_rate, p->store_sqlite ? "sqlite" : "mem",
             p->vary ? " --vary" : "", seed);
}

static void
usage(FILE *f)
{
    fprintf(f,
            "mignet sim with faults (docs/simulator.md, \"Faults\"):\n"
            "  --faults all|none   every kind at its default rate/count\n"
            "  --loss F --dup F --reorder F   per control message (0-0.5)\n"
            "  --answer-loss F     per map answer (poll)\n"
            "  --restarts N --slow N --partitions N --overlay-cuts N\n"
            "  --crashes N         scheduled per run\n"
            "  --seed S --seeds N  runs S .. S+N-1\n"
            "  --strategy NAME --nodes N --vms N --migrations N --peers K\n"
            "  --pps R --refresh-ms MS --pause-ms MS --latency-ms MS\n"
            "  --run-ms MS (faults) --settle-ms MS (after) --ceiling-ms MS\n"
            "  --switchover now|manual|lossless|mix --precopy-ms MS\n"
            "  --abort-rate F      the lifecycle, under the same faults\n"
            "  --store mem|sqlite  what a crashed mignetd reloads from\n"
            "  --vary              each seed draws its own shape\n"
            "  --json\n");
}

struct totals {
    struct chaos_result sum;
    uint64_t runs, failed;
};

static void
add(struct chaos_result *s, const struct chaos_result *r)
{
    for (size_t k = 0; k < CHAOS_N_FAULTS; k++) {
        s->faults[k] += r->faults[k];
    }
#define ADD(f) s->f += r->f
    ADD(sent); ADD(delivered); ADD(relayed); ADD(lost_pause);
    ADD(lost_partitioned); ADD(lost_dataplane_partition); ADD(lost_stale);
    ADD(lost_other); ADD(wrong_deletions); ADD(early_deletions);
    ADD(two_hop); ADD(migrations); ADD(cleaned); ADD(tasks_left);
    ADD(resyncs); ADD(events); ADD(violations); ADD(lost_activation);
    ADD(queued); ADD(aborted); ADD(loaded_deletions);
#undef ADD
}

static void
print_json(FILE *f, const struct chaos_params *p, const struct totals *t,
           uint64_t first_seed, const char *first, const char *replay)
{
    const struct chaos_result *s = &t->sum;
    fprintf(f, "{\"strategy\": \"%s\", \"seed\": %" PRIu64
            ", \"seeds\": %" PRIu64 ", \"failed_seeds\": %" PRIu64
            ", \"violations\": %" PRIu64 ", \"faults\": {",
            p->strategy, p->seed, t->runs, t->failed, s->violations);
    for (size_t k = 0; k < CHAOS_N_FAULTS; k++) {
        fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "",
                chaos_fault_names[k], s->faults[k]);
    }
    fprintf(f, "}, \"sent\": %" PRIu64 ", \"delivered\": %" PRIu64
            ", \"relayed\": %" PRIu64 ", \"lost_pause\": %" PRIu64
            ", \"lost_partitioned\": %" PRIu64
            ", \"lost_dataplane_partition\": %" PRIu64
            ", \"lost_stale\": %" PRIu64 ", \"lost_other\": %" PRIu64
            ", \"wrong_deletions\": %" PRIu64
            ", \"early_deletions\": %" PRIu64 ", \"two_hop\": %" PRIu64
            ", \"migrations\": %" PRIu64 ", \"cleaned\": %" PRIu64
            ", \"tasks_left\": %" PRIu64 ", \"resyncs\": %" PRIu64
            ", \"events\": %" PRIu64 ", \"lost_activation\": %" PRIu64
            ", \"queued\": %" PRIu64 ", \"aborted\": %" PRIu64
            ", \"loaded_deletions\": %" PRIu64,
            s->sent, s->delivered, s->relayed, s->lost_pause,
            s->lost_partitioned, s->lost_dataplane_partition, s->lost_stale,
            s->lost_other, s->wrong_deletions, s->early_deletions,
            s->two_hop, s->migrations, s->cleaned, s->tasks_left,
            s->resyncs, s->events, s->lost_activation, s->queued,
            s->aborted, s->loaded_deletions);
    if (t->failed) {
        fprintf(f, ", \"first_failure\": {\"seed\": %" PRIu64
                ", \"violation\": \"%s\", \"replay\": \"%s\"}",
                first_seed, first, replay);
    }
    fprintf(f, "}\n");
}

static void
print_table(FILE *f, const struct chaos_params *p, const struct totals *t)
{
    const struct chaos_result *s = &t->sum;
    fprintf(f, "%s: %" PRIu64 " seed(s) from %" PRIu64 ", %" PRIu64
            " violation(s) in %" PRIu64 " seed(s)\n", p->strategy, t->runs,
            p->seed, s->violations, t->failed);
    fprintf(f, "faults injected:");
    for (size_t k = 0; k < CHAOS_N_FAULTS; k++) {
        fprintf(f, " %s %" PRIu64, chaos_fault_names[k], s->faults[k]);
    }
    fprintf(f, "\npackets: sent %" PRIu64 " delivered %" PRIu64
            " relayed %" PRIu64 " lost_pause %" PRIu64
            " lost_partitioned %" PRIu64 " lost_dataplane_partition %"
            PRIu64 " lost_stale %" PRIu64 " lost_other %" PRIu64 "\n",
            s->sent, s->delivered, s->relayed, s->lost_pause,
            s->lost_partitioned, s->lost_dataplane_partition, s->lost_stale,
            s->lost_other);
    fprintf(f, "control: migrations %" PRIu64 " cleaned %" PRIu64
            " tasks_left %" PRIu64 " resyncs %" PRIu64
            " wrong_deletions %" PRIu64 " early_deletions %" PRIu64
            " two_hop %" PRIu64 " events %" PRIu64 "\n",
            s->migrations, s->cleaned, s->tasks_left, s->resyncs,
            s->wrong_deletions, s->early_deletions, s->two_hop, s->events);
    fprintf(f, "lifecycle: aborted %" PRIu64 " lost_activation %" PRIu64
            " queued %" PRIu64 "; loaded_deletions %" PRIu64 "\n",
            s->aborted, s->lost_activation, s->queued, s->loaded_deletions);
}

int
chaos_main(int argc, char **argv)
{
    struct chaos_params p;
    chaos_params_default(&p);
    char err[256] = "";
    bool help;
    if (chaos_params_parse(&p, argc, argv, &help, err, sizeof err)) {
        fprintf(stderr, "mignet sim: %s\n", err);
        return 2;
    }
    if (help) {
        usage(stdout);
        return 0;
    }
    struct totals t = {0};
    uint64_t first_seed = 0;
    char first[512] = "", replay[1024] = "";
    for (uint64_t i = 0; i < p.seeds; i++) {
        struct chaos_result r;
        uint64_t seed = p.seed + i;
        int e = chaos_run(&p, seed, &r);
        if (e) {
            fprintf(stderr, "mignet sim: seed %" PRIu64 ": %s\n", seed,
                    strerror(e));
            return 1;
        }
        add(&t.sum, &r);
        t.runs++;
        if (r.violations && !t.failed++) {
            first_seed = seed;
            snprintf(first, sizeof first, "%s", r.first);
            chaos_cmdline(&p, seed, replay, sizeof replay);
            fprintf(stderr, "VIOLATION seed %" PRIu64 ": %s\n"
                    "fault schedule:\n", seed, r.first);
            chaos_schedule_print(stderr, &p, seed);
            fprintf(stderr, "replay: %s\n", replay);
        }
    }
    if (p.json) {
        print_json(stdout, &p, &t, first_seed, first, replay);
    } else {
        print_table(stdout, &p, &t);
    }
    if (fflush(stdout)) {
        return 1;
    }
    return t.failed ? 3 : 0;
}
