/* nodes.c: the compute nodes the core knows, and what their agents report.
 *
 * Keeps each node's placements list, its acknowledgements (map versions and
 * instruction sequence numbers) and its observed refresh behaviour, from
 * which the dynamic deletion delay is computed (DESIGN §2), and the
 * operator's lifecycle of a node: cordon, drain (a target per VM, the VM
 * manager moves them), removal.  Acknowledgements
 * only move a migration forward through migrate.c; this file never changes
 * a migration's phase itself. */
#include "core/core-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* ---- Heaps' orders ---- */

static const char *
node_name_of(const void *aux, uint32_t i)
{
    const struct core *core = aux;
    return core->nodes[i].name;
}

static bool
ack_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct core *c = aux;
    return c->nodes[a].acked_version < c->nodes[b].acked_version;
}

static void
ack_set_pos(void *aux, uint32_t i, uint32_t pos)
{
    struct core *c = aux;
    c->nodes[i].ack_pos = pos;
}

static bool
upper_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct core *c = aux;
    return c->nodes[a].upper > c->nodes[b].upper;
}

static void
upper_set_pos(void *aux, uint32_t i, uint32_t pos)
{
    struct core *c = aux;
    c->nodes[i].upper_pos = pos;
}

void
core_nodes_init(struct core *c)
{
    c->node_free = NIL;
    strmap_init(&c->node_index, node_name_of, c);
    heap_init(&c->ack_heap, ack_before, ack_set_pos, c);
    heap_init(&c->upper_heap, upper_before, upper_set_pos, c);
}

/* ---- Adding and removing ---- */

/* The bound on the node's next refresh that the dynamic delay uses. */
static void
node_update_upper(struct core *c, uint32_t i)
{
    struct node *n = &c->nodes[i];
    uint64_t upper;
    if (n->refreshes >= 2) {
        upper = (uint64_t) (n->mean + c->cfg.dev_factor * n->dev + 0.5);
    } else {
        upper = 2 * (uint64_t) n->expected_refresh_ms;
    }
    if (upper != n->upper) {
        n->upper = upper;
        if (n->upper_pos != HEAP_NOT_IN) {
            heap_update(&c->upper_heap, n->upper_pos);
        }
    }
}

enum core_err
core_node_add_check(const struct core *c, const char *name,
                    const char *address, uint32_t refresh_ms)
{
    if (!mn_name_valid(name)) {
        return CORE_E_BAD_NAME;
    }
    if (!address || strlen(address) > 255 || refresh_ms == 0
        || refresh_ms > 3600 * 1000) {
        return CORE_E_BAD_VALUE;
    }
    if (strmap_find(&c->node_index, name) != STRMAP_NONE) {
        return CORE_E_DUPLICATE_NODE;
    }
    return CORE_E_OK;
}

enum core_err
core_node_add(struct core *c, const char *name, const char *address,
              uint32_t refresh_ms, uint64_t now, uint32_t *idxp)
{
    enum core_err err = core_node_add_check(c, name, address, refresh_ms);
    if (err) {
        return err;
    }
    uint32_t i;
    if (c->node_free != NIL) {
        i = c->node_free;
        c->node_free = c->nodes[i].next_free;
    } else {
        c->nodes = xgrow(c->nodes, &c->nodes_cap, c->n_nodes + 1,
                         sizeof *c->nodes);
        i = c->n_nodes++;
    }
    struct node *n = &c->nodes[i];
    memset(n, 0, sizeof *n);
    n->name = xstrdup(name);
    n->address = xstrdup(address);
    n->expected_refresh_ms = refresh_ms;
    n->vm_head = NIL;
    n->ack_pos = n->upper_pos = HEAP_NOT_IN;
    n->next_free = NIL;
    n->park_head = NIL;
    strmap_insert(&c->node_index, name, i);
    node_update_upper(c, i);
    heap_push(&c->ack_heap, i);
    heap_push(&c->upper_heap, i);
    core_persist_node(c, i);
    (void) now;
    if (idxp) {
        *idxp = i;
    }
    return CORE_E_OK;
}

void
core_node_free_slot(struct core *c, uint32_t i)
{
    struct node *n = &c->nodes[i];
    heap_remove(&c->ack_heap, n->ack_pos);
    heap_remove(&c->upper_heap, n->upper_pos);
    strmap_remove(&c->node_index, n->name);
    core_persist_node_del(c, n->name);
    free(n->name);
    free(n->address);
    free(n->waits);
    memset(n, 0, sizeof *n);
    n->next_free = c->node_free;
    c->node_free = i;
}

/* ---- Cordon and drain ---- */

/* Whether node 'i' may take VMs drained from node 'from'. */
static bool
drain_eligible(const struct core *c, uint32_t i, uint32_t from)
{
    return i != from && core_node_live(c, i) && !c->nodes[i].cordoned;
}

/* The least-loaded node eligible for a VM of 'from' other than 'skip'
 * (NIL: none): fewest VMs placed plus VMs headed there, ties to the
 * lowest name so that the choice does not depend on slot order. */
static uint32_t
drain_pick(const struct core *c, uint32_t from, uint32_t skip)
{
    uint32_t best = NIL;
    uint64_t best_load = 0;
    for (uint32_t i = 0; i < c->n_nodes; i++) {
        if (i == skip || !drain_eligible(c, i, from)) {
            continue;
        }
        const struct node *n = &c->nodes[i];
        uint64_t load = (uint64_t) n->n_vms + n->n_incoming;
        if (best == NIL || load < best_load
            || (load == best_load
                && strcmp(n->name, c->nodes[best].name) < 0)) {
            best = i;
            best_load = load;
        }
    }
    return best;
}

void
core_node_drain_set(struct core *c, uint32_t vi, uint32_t node)
{
    struct vm *v = &c->vms[vi];
    if (v->drain_target != NIL) {
        c->nodes[v->drain_target].n_incoming--;
    }
    v->drain_target = node;
    if (node != NIL) {
        c->nodes[node].n_incoming++;
    }
}

void
core_node_drain_vm_left(struct core *c, uint32_t vi)
{
    core_node_drain_set(c, vi, NIL);
}

/* Node 'bad' can no longer take VMs (cordoned or removed): every VM
 * headed there gets a new target, or none when no node is eligible. */
static void
drain_retarget_from(struct core *c, uint32_t bad)
{
    for (uint32_t d = 0; d < c->n_nodes && c->nodes[bad].n_incoming;
         d++) {
        if (!core_node_live(c, d) || !c->nodes[d].draining) {
            continue;
        }
        for (uint32_t vi = c->nodes[d].vm_head; vi != NIL;
             vi = c->vms[vi].node_next) {
            if (c->vms[vi].drain_target == bad) {
                core_node_drain_set(c, vi, drain_pick(c, d, bad));
                core_persist_vm(c, vi);
            }
        }
    }
}

enum core_err
core_node_cordon_check(const struct core *c, uint32_t i)
{
    return core_node_live(c, i) ? CORE_E_OK : CORE_E_UNKNOWN_NODE;
}

enum core_err
core_node_cordon(struct core *c, uint32_t i, bool on, uint64_t now)
{
    enum core_err err = core_node_cordon_check(c, i);
    if (err) {
        return err;
    }
    struct node *n = &c->nodes[i];
    (void) now;
    if (on) {
        if (!n->cordoned) {
            n->cordoned = true;
            core_persist_node(c, i);
            drain_retarget_from(c, i);
        }
        return CORE_E_OK;
    }
    if (!n->cordoned && !n->draining) {
        return CORE_E_OK;
    }
    n->cordoned = n->draining = false;
    core_persist_node(c, i);
    for (uint32_t vi = n->vm_head; vi != NIL; vi = c->vms[vi].node_next) {
        if (c->vms[vi].drain_target != NIL) {
            core_node_drain_set(c, vi, NIL);
            core_persist_vm(c, vi);
        }
    }
    return CORE_E_OK;
}

enum core_err
core_node_drain_check(const struct core *c, uint32_t i,
                      const struct core_drain_target *tg, size_t n_tg)
{
    if (!core_node_live(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (n_tg && !tg) {
        return CORE_E_BAD_VALUE;
    }
    for (size_t k = 0; k < n_tg; k++) {
        if (!core_vm_live(c, tg[k].vm)) {
            return CORE_E_UNKNOWN_VM;
        }
        if (!core_node_live(c, tg[k].node)) {
            return CORE_E_UNKNOWN_NODE;
        }
        if (c->vms[tg[k].vm].node != i) {
            return CORE_E_WRONG_SOURCE;
        }
        if (tg[k].node == i) {
            return CORE_E_SAME_NODE;
        }
        if (c->nodes[tg[k].node].cordoned) {
            return CORE_E_CORDONED;
        }
        for (size_t j = 0; j < k; j++) {
            if (tg[j].vm == tg[k].vm) {
                return CORE_E_BAD_VALUE;
            }
        }
    }
    /* Every VM not named needs a node to go to. */
    if (c->nodes[i].n_vms > n_tg && drain_pick(c, i, NIL) == NIL) {
        return CORE_E_NO_TARGET;
    }
    return CORE_E_OK;
}

enum core_err
core_node_drain(struct core *c, uint32_t i,
                const struct core_drain_target *tg, size_t n_tg,
                uint64_t now)
{
    enum core_err err = core_node_drain_check(c, i, tg, n_tg);
    if (err) {
        return err;
    }
    struct node *n = &c->nodes[i];
    if (!n->cordoned || !n->draining) {
        bool was_cordoned = n->cordoned;
        n->cordoned = n->draining = true;
        core_persist_node(c, i);
        if (!was_cordoned) {
            drain_retarget_from(c, i);
        }
    }
    for (size_t k = 0; k < n_tg; k++) {
        if (c->vms[tg[k].vm].drain_target != tg[k].node) {
            core_node_drain_set(c, tg[k].vm, tg[k].node);
            core_persist_vm(c, tg[k].vm);
        }
    }
    for (uint32_t vi = c->nodes[i].vm_head; vi != NIL;
         vi = c->vms[vi].node_next) {
        uint32_t t = c->vms[vi].drain_target;
        if (t == NIL || !drain_eligible(c, t, i)) {
            core_node_drain_set(c, vi, drain_pick(c, i, NIL));
            core_persist_vm(c, vi);
        }
    }
    (void) now;
    return CORE_E_OK;
}

void
core_node_vms_walk(const struct core *c, uint32_t i,
                   bool (*cb)(void *aux, uint32_t vm, uint32_t target),
                   void *aux)
{
    if (!core_node_live(c, i)) {
        return;
    }
    for (uint32_t vi = c->nodes[i].vm_head; vi != NIL;
         vi = c->vms[vi].node_next) {
        uint32_t t = c->vms[vi].drain_target;
        if (!cb(aux, vi, t == NIL ? CORE_NONE : t)) {
            return;
        }
    }
}

/* ---- Removing ---- */

/* Whether every task on node 'i' is a DELETE: the only kind that a
 * forced removal drops. */
static bool
node_tasks_droppable(const struct core *c, uint32_t i)
{
    for (size_t ti = 0; ti < c->n_task_slots; ti++) {
        const struct task *t = &c->tasks[ti];
        if (t->live && t->node == i && t->kind != TASK_DELETE) {
            return false;
        }
    }
    return true;
}

/* Migrations away from node 'i' whose DELETE there was sent and awaits
 * its agent's confirmation (phase cleaning). */
static uint32_t
node_cleanups_confirming(const struct core *c, uint32_t i)
{
    uint32_t k = 0;
    for (size_t mi = c->migs_open_from; mi < c->n_migs; mi++) {
        const struct migration *m = &c->migs[mi];
        k += m->pub.phase == MIG_CLEANING && m->pub.src == i;
    }
    return k;
}

uint32_t
core_node_cleanups(const struct core *c, uint32_t i)
{
    return core_node_live(c, i) ? node_cleanups_confirming(c, i) : 0;
}

void
core_node_cleanups_walk(const struct core *c, uint32_t i,
                        bool (*cb)(void *aux, uint64_t migration,
                                   uint32_t vm),
                        void *aux)
{
    if (!core_node_live(c, i)) {
        return;
    }
    for (size_t ti = 0; ti < c->n_task_slots; ti++) {
        const struct task *t = &c->tasks[ti];
        if (t->live && t->node == i && t->kind == TASK_DELETE
            && !cb(aux, t->migration, t->vm)) {
            return;
        }
    }
    for (size_t mi = c->migs_open_from; mi < c->n_migs; mi++) {
        const struct migration *m = &c->migs[mi];
        if (m->pub.phase == MIG_CLEANING && m->pub.src == i
            && !cb(aux, m->pub.id, m->pub.vm)) {
            return;
        }
    }
}

enum core_err
core_node_remove_check(const struct core *c, uint32_t i, bool force)
{
    if (!core_node_live(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    const struct node *n = &c->nodes[i];
    if (n->n_vms > 0) {
        return CORE_E_NODE_BUSY;
    }
    if (force ? !node_tasks_droppable(c, i)
              : n->n_tasks > 0 || node_cleanups_confirming(c, i) > 0) {
        return CORE_E_NODE_BUSY;
    }
    return CORE_E_OK;
}

enum core_err
core_node_remove(struct core *c, uint32_t i, bool force, uint64_t now)
{
    enum core_err err = core_node_remove_check(c, i, force);
    if (err) {
        return err;
    }
    /* Forced: the pending deletions go to the agent at once (it is gone:
     * nothing arrives), and no confirmation is awaited from it. */
    for (size_t ti = 0; ti < c->n_task_slots && c->nodes[i].n_tasks;
         ti++) {
        const struct task *t = &c->tasks[ti];
        if (t->live && t->node == i) {
            core_mig_delete_run(c, (uint32_t) ti, now);
        }
    }
    core_mig_node_removed(c, i, now);
    for (size_t ti = 0; ti < c->n_task_slots; ti++) {
        struct task *t = &c->tasks[ti];
        if (t->live && t->target == i) {
            t->target = NIL;
            core_persist_task(c, (uint32_t) ti);
        }
    }
    c->nodes[i].cordoned = true; /* no target for the drains below */
    drain_retarget_from(c, i);
    core_silence_node_gone(c, i, now);
    core_node_free_slot(c, i);
    /* A departed node no longer holds back early release. */
    core_release_check(c, now);
    return CORE_E_OK;
}

/* ---- Reading ---- */

const char *
core_node_state_name(enum core_node_state s)
{
    static const char *const names[] = {
#define CORE_NODE_STATE(ENUM, NAME) NAME,
        CORE_NODE_STATES
#undef CORE_NODE_STATE
    };
    return (unsigned) s < CORE_NODE_N_STATES ? names[s] : "?";
}

uint32_t
core_node_find(const struct core *c, const char *name)
{
    return name ? strmap_find(&c->node_index, name) : CORE_NONE;
}

size_t
core_n_nodes(const struct core *c)
{
    return c->n_nodes;
}

bool
core_node_valid(const struct core *c, uint32_t i)
{
    return core_node_live(c, i);
}

bool
core_node_info(const struct core *c, uint32_t i, struct core_node_info *out)
{
    if (!core_node_live(c, i)) {
        return false;
    }
    const struct node *n = &c->nodes[i];
    out->name = n->name;
    out->address = n->address;
    out->expected_refresh_ms = n->expected_refresh_ms;
    out->cordoned = n->cordoned;
    out->draining = n->draining;
    out->n_vms = n->n_vms;
    out->n_tasks = n->n_tasks;
    /* The walk of open migrations only for an otherwise empty drain. */
    out->state = !n->cordoned   ? CORE_NODE_ACTIVE
                 : !n->draining ? CORE_NODE_CORDONED
                 : n->n_vms || n->n_tasks || node_cleanups_confirming(c, i)
                     ? CORE_NODE_DRAINING
                     : CORE_NODE_DRAINED;
    out->acked_version = n->acked_version;
    out->acked_seq = n->acked_seq;
    out->last_seq = n->last_seq;
    out->refreshes = n->refreshes;
    out->last_refresh_ms = n->last_refresh_ms;
    out->refresh_mean_ms = n->mean;
    out->refresh_dev_ms = n->dev;
    out->refresh_upper_ms = n->upper;
    out->heard = n->heard;
    out->heard_ms = n->heard_ms;
    return true;
}

/* ---- What agents report ---- */

/* Node 'i' holds map version 'version': an acknowledgement of every change
 * up to it. */
static void
node_version_acked(struct core *c, uint32_t i, uint64_t version,
                   uint64_t now)
{
    struct node *n = &c->nodes[i];
    if (version > n->acked_version) {
        n->acked_version = version;
        heap_update(&c->ack_heap, n->ack_pos);
        core_release_check(c, now);
    }
}

enum core_err
core_node_version_ack_check(const struct core *c, uint32_t i,
                            uint64_t version)
{
    if (!core_node_live(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (version > c->map_version) {
        return CORE_E_BAD_VERSION;
    }
    return CORE_E_OK;
}

static enum core_err
node_refresh(struct core *c, uint32_t i, uint64_t version, bool poll,
             uint64_t now)
{
    enum core_err err = core_node_version_ack_check(c, i, version);
    if (err) {
        return err;
    }
    /* Refresh statistics: a smoothed interval and deviation, as TCP's
     * RTT estimator, from observations at least 'min_gap' apart (a
     * sooner refresh still acknowledges, but is no observation). */
    if (poll) {
        core_silence_read(c, i, now);
    } else {
        core_silence_heard(c, i, now);
    }
    struct node *n = &c->nodes[i];
    uint64_t min_gap = n->expected_refresh_ms / 2;
    if (c->cfg.refresh_floor_ms > min_gap) {
        min_gap = c->cfg.refresh_floor_ms;
    }
    if (n->refreshes > 0
        && (now < n->last_refresh_ms || now - n->last_refresh_ms < min_gap)) {
        c->stats.refreshes_ignored++;
        node_version_acked(c, i, version, now);
        return CORE_E_OK;
    }
    if (n->refreshes > 0) {
        double interval = (double) (now - n->last_refresh_ms);
        if (n->refreshes == 1) {
            n->mean = interval;
            n->dev = interval / 2;
        } else {
            double e = interval - n->mean;
            n->mean += e / 8;
            n->dev += ((e < 0 ? -e : e) - n->dev) / 4;
        }
    }
    n->refreshes++;
    n->last_refresh_ms = now;
    node_update_upper(c, i);
    node_version_acked(c, i, version, now);
    return CORE_E_OK;
}

enum core_err
core_node_refresh(struct core *c, uint32_t i, uint64_t version, uint64_t now)
{
    return node_refresh(c, i, version, false, now);
}

enum core_err
core_node_poll(struct core *c, uint32_t i, uint64_t version, uint64_t now)
{
    return node_refresh(c, i, version, true, now);
}

static bool
token_hash_valid(const char *hex)
{
    size_t n = 0;
    for (; hex[n]; n++) {
        char ch = hex[n];
        if (n >= CORE_TOKEN_HASH_HEX
            || !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            return false;
        }
    }
    return n == 0 || n == CORE_TOKEN_HASH_HEX;
}

enum core_err
core_node_set_token_hash(struct core *c, uint32_t i, const char *hex)
{
    if (!core_node_live(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (!hex || !token_hash_valid(hex)) {
        return CORE_E_BAD_VALUE;
    }
    snprintf(c->nodes[i].token_hash, sizeof c->nodes[i].token_hash, "%s",
             hex);
    core_persist_node(c, i);
    return CORE_E_OK;
}

const char *
core_node_token_hash(const struct core *c, uint32_t i)
{
    return core_node_live(c, i) ? c->nodes[i].token_hash : NULL;
}

bool
core_node_concerns_vm(const struct core *c, uint32_t ni, uint32_t vi)
{
    if (!core_node_live(c, ni) || !core_vm_live(c, vi)) {
        return false;
    }
    const struct vm *v = &c->vms[vi];
    if (v->node == ni) {
        return true;
    }
    for (uint32_t ti = v->task_head; ti != NIL; ti = c->tasks[ti].vm_next) {
        if (c->tasks[ti].node == ni) {
            return true;
        }
    }
    const struct migration *m = v->migration
                                    ? core_mig_get((struct core *) c,
                                                   v->migration)
                                    : NULL;
    return m && m->pub.phase != MIG_CLEANED && m->pub.phase != MIG_ABORTED
           && (m->pub.src == ni || m->pub.dst == ni);
}

enum core_err
core_node_version_ack(struct core *c, uint32_t i, uint64_t version,
                      uint64_t now)
{
    enum core_err err = core_node_version_ack_check(c, i, version);
    if (err) {
        return err;
    }
    core_silence_heard(c, i, now);
    node_version_acked(c, i, version, now);
    return CORE_E_OK;
}

enum core_err
core_node_heard(struct core *c, uint32_t i, uint64_t now)
{
    if (!core_node_live(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    core_silence_heard(c, i, now);
    return CORE_E_OK;
}

void
core_node_wait(struct core *c, uint32_t node, uint64_t seq, uint64_t mig)
{
    struct node *n = &c->nodes[node];
    if (n->waits_head > 0 && n->waits_head * 2 >= n->n_waits) {
        memmove(n->waits, n->waits + n->waits_head,
                (n->n_waits - n->waits_head) * sizeof *n->waits);
        n->n_waits -= n->waits_head;
        n->waits_head = 0;
    }
    n->waits = xgrow(n->waits, &n->waits_cap, n->n_waits + 1,
                     sizeof *n->waits);
    n->waits[n->n_waits++] = (struct ack_wait){.seq = seq, .migration = mig};
}

enum core_err
core_node_ack(struct core *c, uint32_t i, uint64_t seq, uint64_t now)
{
    if (!core_node_live(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    struct node *n = &c->nodes[i];
    if (seq > n->last_seq) {
        return CORE_E_BAD_SEQ;
    }
    core_silence_heard(c, i, now);
    n = &c->nodes[i];
    if (seq <= n->acked_seq) {
        return CORE_E_OK;
    }
    n->acked_seq = seq;
    while (n->waits_head < n->n_waits && n->waits[n->waits_head].seq <= seq) {
        const struct ack_wait *w = &n->waits[n->waits_head++];
        struct migration *m = core_mig_get(c, w->migration);
        if (m) {
            core_mig_acked(c, m, i, w->seq, now);
        }
        n = &c->nodes[i];
    }
    if (n->waits_head == n->n_waits) {
        n->waits_head = n->n_waits = 0;
    }
    return CORE_E_OK;
}

enum core_err
core_node_nack_check(const struct core *c, uint32_t i, uint64_t seq)
{
    if (!core_node_valid(c, i)) {
        return CORE_E_UNKNOWN_NODE;
    }
    const struct node *n = &c->nodes[i];
    if (seq == 0 || seq > n->last_seq || seq <= n->acked_seq) {
        return CORE_E_BAD_SEQ;
    }
    return CORE_E_OK;
}

enum core_err
core_node_nack(struct core *c, uint32_t i, uint64_t seq, uint16_t ofp_type,
               uint16_t ofp_code, uint64_t now)
{
    enum core_err err = core_node_nack_check(c, i, seq);
    if (err) {
        return err;
    }
    c->stats.agent_nacks++;
    core_silence_heard(c, i, now);
    /* The waits stay: only an ack moves a migration (I9). */
    const struct node *n = &c->nodes[i];
    for (size_t k = n->waits_head; k < n->n_waits; k++) {
        const struct ack_wait *w = &n->waits[k];
        if (w->seq > seq) {
            break;
        }
        struct migration *m = core_mig_get(c, w->migration);
        if (m) {
            core_mig_nacked(c, m, &(struct core_nack){
                .node = i, .seq = w->seq, .ofp_type = ofp_type,
                .ofp_code = ofp_code});
        }
    }
    return CORE_E_OK;
}

enum core_err
core_node_report(struct core *c, uint32_t ni, uint32_t vi, uint64_t epoch)
{
    if (!core_node_live(c, ni)) {
        return CORE_E_UNKNOWN_NODE;
    }
    if (!core_vm_live(c, vi)) {
        return CORE_E_UNKNOWN_VM;
    }
    const struct vm *v = &c->vms[vi];
    uint64_t desired = 0;
    if (v->node == ni) {
        desired = v->epoch;
    }
    for (uint32_t ti = v->task_head; ti != NIL; ti = c->tasks[ti].vm_next) {
        const struct task *t = &c->tasks[ti];
        if (t->kind == TASK_DELETE && t->node == ni && t->epoch > desired) {
            desired = t->epoch;
        }
    }
    if (epoch > v->epoch) {
        return CORE_E_BAD_VALUE;
    }
    return epoch < desired ? CORE_E_STALE_EPOCH : CORE_E_OK;
}

enum core_err
core_node_resync(struct core *c, uint32_t ni, uint64_t now)
{
    if (!core_node_live(c, ni)) {
        return CORE_E_UNKNOWN_NODE;
    }
    for (size_t ti = 0; ti < c->n_task_slots; ti++) {
        const struct task *t = &c->tasks[ti];
        if (!t->live || t->kind != TASK_DELETE || t->node != ni) {
            continue;
        }
        struct task copy = *t;
        core_emit(c, INSTR_INSTALL, ni, copy.vm, copy.epoch, &copy.snapshot,
                  NIL, 0, copy.snap);
        if (copy.target != NIL) {
            core_emit(c, INSTR_RELAY, ni, copy.vm, copy.epoch,
                      &copy.snapshot, copy.target, copy.target_epoch,
                      copy.snap);
        }
    }
    for (uint32_t vi = c->nodes[ni].vm_head; vi != NIL;
         vi = c->vms[vi].node_next) {
        const struct vm *v = &c->vms[vi];
        core_emit_flags(c, INSTR_INSTALL, ni, vi, v->epoch, &v->config, NIL,
                        0, core_vm_binding(c, vi),
                        core_mig_install_flags(c, vi, ni));
    }
    core_mig_resync(c, ni);
    core_silence_heard(c, ni, now);
    return CORE_E_OK;
}
