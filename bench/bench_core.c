/* bench_core.c: throughput and memory of the in-memory core.
 *
 * Measures migrations/s through the core (migrate + both acknowledgements,
 * with up to a million deletions pending), the rate at which due deletions
 * fire, and bytes of core state per VM.  The baseline, measured in the same
 * run, is the cheapest per-VM work any control plane must do: inserting
 * and looking up the VM's name in a hash index. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/strmap.h"
#include "lib/util.h"
#include "mignet/core.h"

static size_t
heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static char **names;

static const char *
name_of(const void *aux, uint32_t i)
{
    (void) aux;
    return names[i];
}

static uint64_t acked_to;

int
main(int argc, char **argv)
{
    size_t n_vms = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t n_nodes = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
    names = xmalloc(n_vms * sizeof *names);
    char buf[32];
    for (size_t i = 0; i < n_vms; i++) {
        snprintf(buf, sizeof buf, "vm-%zu", i);
        names[i] = xstrdup(buf);
    }

    /* Baseline: index every name, then look each up once. */
    double t0 = clock_mono_s();
    struct strmap m;
    strmap_init(&m, name_of, NULL);
    for (size_t i = 0; i < n_vms; i++) {
        strmap_insert(&m, names[i], (uint32_t) i);
    }
    size_t found = 0;
    for (size_t i = 0; i < n_vms; i++) {
        found += strmap_find(&m, names[i]) == i;
    }
    double base_s = clock_mono_s() - t0;
    strmap_destroy(&m);
    if (found != n_vms) {
        fprintf(stderr, "baseline index broken\n");
        return 1;
    }

    struct core_config cfg;
    core_config_default(&cfg);
    cfg.delay_ceiling_ms = 1000000; /* keep every deletion pending */
    size_t mem0 = heap_used();
    struct core *c = core_create(&cfg, NULL, NULL);
    uint32_t *nodes = xmalloc(n_nodes * sizeof *nodes);
    for (size_t i = 0; i < n_nodes; i++) {
        snprintf(buf, sizeof buf, "node-%zu", i);
        core_node_add(c, buf, "198.18.0.1", 2000, 0, &nodes[i]);
    }
    size_t mem_nodes = heap_used();
    uint32_t *vms = xmalloc(n_vms * sizeof *vms);
    t0 = clock_mono_s();
    for (size_t i = 0; i < n_vms; i++) {
        struct mn_config mc = {.mac = {2, 0, 0, (uint8_t) (i >> 16),
                                       (uint8_t) (i >> 8), (uint8_t) i},
                               .ip = 0xc6120000u + (uint32_t) i,
                               .vni = 100};
        if (core_vm_add(c, names[i], &mc, nodes[i % n_nodes], 0, &vms[i])) {
            fprintf(stderr, "vm_add failed\n");
            return 1;
        }
    }
    double add_s = clock_mono_s() - t0;
    size_t mem_vms = heap_used();
    double per_vm = (double) (mem_vms - mem_nodes) / n_vms;

    /* Migrations: migrate, then both agents acknowledge. */
    t0 = clock_mono_s();
    for (size_t i = 0; i < n_vms; i++) {
        uint32_t src = nodes[i % n_nodes];
        uint32_t dst = nodes[(i + 1) % n_nodes];
        uint64_t now = 1 + i / 1000;
        if (core_migrate(c, vms[i], CORE_NONE, dst, now, NULL)) {
            fprintf(stderr, "migrate failed\n");
            return 1;
        }
        struct core_node_info ni;
        core_node_info(c, dst, &ni);
        core_node_ack(c, dst, ni.last_seq, now);
        core_node_info(c, src, &ni);
        core_node_ack(c, src, ni.last_seq, now);
    }
    double mig_s = clock_mono_s() - t0;
    size_t pending = core_n_tasks(c);
    size_t mem_tasks = heap_used();

    t0 = clock_mono_s();
    core_run(c, UINT64_MAX - 1);
    double fire_s = clock_mono_s() - t0;
    size_t left = core_n_tasks(c);
    (void) acked_to;

    printf("{\"vms\": %zu, \"nodes\": %zu,\n", n_vms, n_vms ? n_nodes : 0);
    printf(" \"baseline_index_ops_per_s\": %.0f,\n", 2.0 * n_vms / base_s);
    printf(" \"vm_add_per_s\": %.0f,\n", n_vms / add_s);
    printf(" \"migrations_per_s\": %.0f,\n", n_vms / mig_s);
    printf(" \"migration_vs_baseline_op\": %.2f,\n",
           (mig_s / n_vms) / (base_s / (2.0 * n_vms)));
    printf(" \"pending_tasks_peak\": %zu,\n", pending);
    printf(" \"deletions_fired_per_s\": %.0f,\n", pending / fire_s);
    printf(" \"tasks_left\": %zu,\n", left);
    printf(" \"core_bytes_per_vm\": %.1f,\n", per_vm);
    printf(" \"task_bytes_each\": %.1f,\n",
           (double) (mem_tasks - mem_vms) / (pending ? pending : 1));
    printf(" \"core_memory_bytes_reported\": %zu, \"heap_start\": %zu}\n",
           core_memory_bytes(c), mem0);
    core_destroy(c);
    for (size_t i = 0; i < n_vms; i++) {
        free(names[i]);
    }
    free(names);
    free(vms);
    free(nodes);
    return left != 0;
}
