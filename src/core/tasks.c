/* tasks.c: the core's pending tasks and the passing of time.
 *
 * A task is a durable promise to act at a due time: delete a snapshot
 * (step 6), end a prepare phase, end a lease.  This file keeps them (slots,
 * per-VM lists, the due and release heaps, the store) and runs the due
 * ones; what a task does belongs to migrate.c and vm_binding.c.  It must
 * never run a task before its due time, and never run one on a due time
 * computed in an earlier run (the restart rule below). */
#include <stdint.h>
#include "core/core-private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* ---- Heaps' orders ---- */

static bool
due_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct core *c = aux;
    const struct task *x = &c->tasks[a], *y = &c->tasks[b];
    return x->due != y->due ? x->due < y->due : x->id < y->id;
}

static void
due_set_pos(void *aux, uint32_t i, uint32_t pos)
{
    struct core *c = aux;
    c->tasks[i].due_pos = pos;
}

static bool
release_before(const void *aux, uint32_t a, uint32_t b)
{
    const struct core *c = aux;
    const struct task *x = &c->tasks[a], *y = &c->tasks[b];
    return x->need_version != y->need_version
               ? x->need_version < y->need_version
               : x->id < y->id;
}

static void
release_set_pos(void *aux, uint32_t i, uint32_t pos)
{
    struct core *c = aux;
    c->tasks[i].release_pos = pos;
}

void
core_tasks_init(struct core *c)
{
    c->task_free = NIL;
    heap_init(&c->due_heap, due_before, due_set_pos, c);
    heap_init(&c->release_heap, release_before, release_set_pos, c);
    c->next_task_id = 1;
}

/* ---- Slots and lists ---- */

uint32_t
core_task_alloc(struct core *c)
{
    uint32_t i;
    if (c->task_free != NIL) {
        i = c->task_free;
        c->task_free = c->tasks[i].vm_next;
    } else {
        c->tasks = xgrow(c->tasks, &c->tasks_cap, c->n_task_slots + 1,
                         sizeof *c->tasks);
        i = c->n_task_slots++;
    }
    struct task *t = &c->tasks[i];
    memset(t, 0, sizeof *t);
    t->due_pos = t->release_pos = HEAP_NOT_IN;
    t->vm_prev = t->vm_next = NIL;
    t->target = NIL;
    t->park_node = t->park_prev = t->park_next = NIL;
    t->live = true;
    return i;
}

/* Puts the task on its VM's list and counts it on its node. */
static void
task_link_lists(struct core *c, uint32_t i)
{
    struct task *t = &c->tasks[i];
    struct vm *v = &c->vms[t->vm];
    t->vm_next = v->task_head;
    if (v->task_head != NIL) {
        c->tasks[v->task_head].vm_prev = i;
    }
    v->task_head = i;
    c->nodes[t->node].n_tasks++;
}

void
core_task_link(struct core *c, uint32_t i)
{
    struct task *t = &c->tasks[i];
    task_link_lists(c, i);
    heap_push(&c->due_heap, i);
    if (t->kind == TASK_DELETE && c->cfg.ack_release) {
        heap_push(&c->release_heap, i);
    }
    c->live_tasks++;
    core_persist_task(c, i);
}

void
core_task_link_unscheduled(struct core *c, uint32_t i)
{
    task_link_lists(c, i);
    c->live_tasks++;
    core_persist_task(c, i);
}

void
core_task_schedule(struct core *c, uint32_t i, uint64_t due)
{
    struct task *t = &c->tasks[i];
    t->due = due;
    heap_push(&c->due_heap, i);
    if (c->cfg.ack_release) {
        heap_push(&c->release_heap, i);
    }
    core_persist_task(c, i);
}

void
core_task_free(struct core *c, uint32_t i)
{
    struct task *t = &c->tasks[i];
    struct vm *v = &c->vms[t->vm];
    if (t->vm_prev != NIL) {
        c->tasks[t->vm_prev].vm_next = t->vm_next;
    } else {
        v->task_head = t->vm_next;
    }
    if (t->vm_next != NIL) {
        c->tasks[t->vm_next].vm_prev = t->vm_prev;
    }
    if (t->due_pos != HEAP_NOT_IN) {
        heap_remove(&c->due_heap, t->due_pos);
    }
    if (t->release_pos != HEAP_NOT_IN) {
        heap_remove(&c->release_heap, t->release_pos);
    }
    core_task_unhold(c, i);
    core_silence_unpark(c, i);
    struct node *n = &c->nodes[t->node];
    n->n_tasks--;
    core_persist_task_del(c, t->id);
    c->live_tasks--;
    free(t->snap);
    t->snap = NULL;
    t->live = false;
    t->vm_next = c->task_free;
    c->task_free = i;
}

void
core_task_set_due(struct core *c, uint32_t i, uint64_t due)
{
    struct task *t = &c->tasks[i];
    if (due != t->due) {
        t->due = due;
        heap_update(&c->due_heap, t->due_pos);
        core_persist_task(c, i);
    }
}

void
core_task_unhold(struct core *c, uint32_t i)
{
    struct task *t = &c->tasks[i];
    if (t->held) {
        t->held = false;
        c->n_held--;
    }
}

/* ---- The restart rule (DESIGN I7) ----
 * Due times are stored as times of the run clock, which is the wall clock
 * at a run's start plus elapsed time.  A restart may find them far in the
 * past (mignetd was down, or the wall clock stepped ahead) or far in the
 * future; either way they say nothing about what the nodes have seen: the
 * gateway lives in mignetd, so no node could refresh while it was down.
 * So core_load() holds every loaded deletion and prepare task, and the
 * first core_run() after it gives each a fresh due time from its 'now':
 *   DELETE            now + a full delay (the migration's own, or the one
 *                     the core would choose now if longer); earlier only
 *                     when every node acknowledges the move's map version
 *                     after the restart (core_release_check);
 *   PREPARE_TIMEOUT   now + prepare_timeout_ms (agents reconnect first);
 *   PREPARE_DEADLINE  its stored time, but no sooner than now +
 *                     prepare_timeout_ms.
 * A LEASE ends at its stored time: a lease's end is a fact of the wall
 * clock, not a wait for the nodes. */

static uint64_t
restart_due(struct core *c, const struct task *t, uint64_t now)
{
    struct migration *m = core_mig_get(c, t->migration);
    uint64_t due;
    switch (t->kind) {
    case TASK_DELETE: {
        uint64_t delay = core_delay_ms(c);
        if (m && m->pub.delay_ms > delay) {
            delay = m->pub.delay_ms;
        }
        due = core_add_sat(now, delay);
        break;
    }
    case TASK_PREPARE_DEADLINE:
        due = core_add_sat(now, c->cfg.prepare_timeout_ms);
        if (t->due > due) {
            due = t->due;
        }
        if (m) {
            m->pub.prepare_deadline_ms = due;
            core_persist_mig(c, m);
        }
        break;
    case TASK_PREPARE_TIMEOUT:
    default:
        due = core_add_sat(now, c->cfg.prepare_timeout_ms);
        break;
    }
    return due > now ? due : core_add_sat(now, 1);
}

/* Gives at most '*budget' held tasks their fresh due time (the budget
 * goes down by each).  A rule cut short goes on at the next call: until
 * every task is unheld, core_next_due() says 0.  Cutting it is safe: a
 * crash in between loads every task held again, and the rule is applied
 * again from that start. */
static void
restart_rule(struct core *c, uint64_t now, size_t *budget)
{
    for (size_t i = 0; i < c->n_task_slots && c->n_held && *budget; i++) {
        struct task *t = &c->tasks[i];
        if (t->live && t->held) {
            uint64_t due = restart_due(c, t, now);
            t->hold_from = now; /* the silence hold's ceiling too */
            core_task_unhold(c, (uint32_t) i);
            core_task_set_due(c, (uint32_t) i, due);
            c->stats.tasks_restarted++;
            (*budget)--;
        }
    }
}

/* ---- Time ---- */

void
core_run(struct core *c, uint64_t now)
{
    core_run_some(c, now, SIZE_MAX);
}

bool
core_run_some(struct core *c, uint64_t now, size_t max_tasks)
{
    size_t budget = max_tasks ? max_tasks : 1;
    if (c->hear_all) {
        c->hear_all = false;
        core_silence_restart(c, now);
    }
    if (c->n_held) {
        restart_rule(c, now, &budget);
        if (c->n_held) {
            return true;
        }
    }
    while (!heap_is_empty(&c->due_heap)) {
        uint32_t ti = heap_top(&c->due_heap);
        const struct task *t = &c->tasks[ti];
        if (t->due > now) {
            break;
        }
        if (!budget) {
            return true;
        }
        budget--;
        c->stats.tasks_fired++;
        switch (t->kind) {
        case TASK_DELETE:
            core_mig_delete_due(c, ti, now);
            break;
        case TASK_LEASE:
            core_lease_run(c, ti, now);
            break;
        case TASK_PREPARE_DEADLINE:
            core_mig_deadline_run(c, ti, now);
            break;
        case TASK_PREPARE_TIMEOUT:
        default:
            core_mig_timeout_run(c, ti, now);
            break;
        }
    }
    return false;
}

uint64_t
core_next_due(const struct core *c)
{
    if (c->n_held) {
        return 0; /* core_run() has the restart rule to apply */
    }
    return heap_is_empty(&c->due_heap)
               ? UINT64_MAX
               : c->tasks[heap_top(&c->due_heap)].due;
}

/* ---- Reading ---- */

size_t
core_n_tasks(const struct core *c)
{
    return c->live_tasks;
}

void
core_tasks_walk(const struct core *c,
                bool (*cb)(void *, const struct core_task_info *), void *aux)
{
    for (size_t i = 0; i < c->n_task_slots; i++) {
        const struct task *t = &c->tasks[i];
        if (!t->live) {
            continue;
        }
        struct core_task_info info = {
            .id = t->id,
            .kind = t->kind,
            .vm = t->vm,
            .node = t->node,
            .epoch = t->epoch,
            .due_ms = t->due,
            .migration = t->migration,
            .relay_target = t->target,
        };
        if (!cb(aux, &info)) {
            return;
        }
    }
}
