/* pl_engine.h: the agent's flow table computed incrementally, in the
 * spirit of ovn-controller's incremental processing engine.
 *
 * Inputs carry change sets: per-VM views (struct pl_vm, set or removed by
 * name) and options (tunnel port, DHCP punt: a change there recomputes
 * everything).  Owners -- the infrastructure, one key group per overlay
 * key (its DHCP broadcast flows depend on every local port of the key) and
 * one per VM -- are marked dirty by the inputs they read, and running the
 * engine recomputes only the dirty ones.  The desired table is the owners'
 * flows merged by pipeline.h's rule (the owner that ranks first keeps a
 * key), so it always equals pipeline_compute() of the same inputs, flow for
 * flow; the keys whose desired flow changed are tracked until drained
 * (flowtab_sync_keys / ofctrl_sync_tracked send only those).  Pure: no
 * I/O, no clock. */
#ifndef MIGNET_AGENT_PL_ENGINE_H
#define MIGNET_AGENT_PL_ENGINE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/pipeline.h"

struct flowtab;
struct pl_engine;

struct pl_engine *pl_engine_create(void);
void pl_engine_destroy(struct pl_engine *);

/* The options of pipeline.h's struct pl_input.  A change marks every
 * owner dirty (a full recompute at the next run). */
void pl_engine_set_options(struct pl_engine *, uint32_t tunnel_port,
                           bool dhcp_punt);
/* Sets the view of VM 'v->vm' (copied, its binding too) and marks it
 * dirty, with the key groups it leaves and joins. */
void pl_engine_set_vm(struct pl_engine *, const struct pl_vm *v);
/* Removes VM 'vm' (nothing if unknown); its flows go at the next run. */
void pl_engine_remove_vm(struct pl_engine *, const char *vm);
/* The VMs held (including ones removed since the last run), by index;
 * the index is valid until the next set, remove or run. */
size_t pl_engine_n_vms(const struct pl_engine *);
const struct pl_vm *pl_engine_vm(const struct pl_engine *, size_t i);
bool pl_engine_has_vm(const struct pl_engine *, const char *vm);
/* The view of VM 'vm' (not removed), or NULL. */
const struct pl_vm *pl_engine_find_vm(const struct pl_engine *,
                                      const char *vm);

/* External owners: flows the engine does not derive from VMs itself --
 * the tenant virtual switches (pipeline_vnet.h, agent_vnet.c), one owner
 * per switch's infrastructure and one per tenant flow -- each named by a
 * string and generated, when dirty, by the hook into 'out' (with
 * flowtab_put_new; 0 or EMSGSIZE as pipeline_compute()).  The hook may
 * read the VM views (pl_engine_find_vm).  They rank after every VM, by
 * name (their keys never meet mignet's own flows anyway). */
typedef int pl_engine_ext_fn(void *aux, const char *owner,
                             struct flowtab *out, char *err,
                             size_t err_size);
void pl_engine_set_ext(struct pl_engine *, pl_engine_ext_fn *, void *aux);
/* Creates owner 'name' if needed and marks it dirty. */
void pl_engine_ext_dirty(struct pl_engine *, const char *name);
/* Removes owner 'name' (nothing if unknown); its flows go at the next
 * run. */
void pl_engine_ext_remove(struct pl_engine *, const char *name);
size_t pl_engine_n_exts(const struct pl_engine *);

/* Room for 'flows' desired flows without rehashing in a run (the
 * agent reserves a first table's room before it computes it). */
void pl_engine_reserve(struct pl_engine *, size_t flows);

/* Marks every owner dirty: the fallback full recompute. */
void pl_engine_recompute_all(struct pl_engine *);

/* Recomputes the dirty owners.  Returns 0, or EMSGSIZE while some owner
 * has a flow that cannot be expressed ('err' says which, as
 * pipeline_compute()): the desired table then lacks it and must not be
 * installed; the tracked changes stay, and go once the error is fixed. */
int pl_engine_run(struct pl_engine *, char *err, size_t err_size);
/* The same a slice at a time: recomputes at most '*budget' dirty owners
 * (taking them off it) and returns EAGAIN while some remain (a full recompute of 50,000 VMs
 * must not hold the agent's loop), else as pl_engine_run().  Inputs may
 * change between the slices; an owner they mark joins the same run.  The
 * desired table is complete only once it returned 0. */
int pl_engine_run_some(struct pl_engine *, size_t *budget, char *err,
                       size_t err_size);

/* The desired table (valid until the next run). */
const struct flowtab *pl_engine_desired(const struct pl_engine *);
/* The keys whose desired flow was added, changed or deleted since the
 * last pl_engine_clear_tracked() (their instructions are empty: look the
 * flow up in the desired table; a key it lacks was deleted), or NULL
 * when there were more than a few thousand (a full build): then every key
 * may have changed, and the whole tables are to be compared
 * (flowtab_sync_keys() with NULL). */
const struct flowtab *pl_engine_tracked(const struct pl_engine *);
void pl_engine_clear_tracked(struct pl_engine *);

struct pl_engine_stats {
    uint64_t runs;
    uint64_t full;    /* runs after pl_engine_recompute_all or options */
    uint64_t vms;     /* VM owners recomputed, in all */
    uint64_t keys;    /* key groups recomputed, in all */
    uint64_t exts;    /* external owners recomputed, in all */
    uint64_t changes; /* desired keys added, changed or deleted, in all */
};
void pl_engine_get_stats(const struct pl_engine *, struct pl_engine_stats *);

#endif /* MIGNET_AGENT_PL_ENGINE_H */
