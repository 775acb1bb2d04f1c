/* silence.c: the silence hold -- a deletion waits for a node cut off.
 *
 * The deletion delay (step 5) bounds a node's next refresh only while the
 * node can reach the controller: a partitioned node keeps its stale map
 * however long the delay, and a node heard again has not read the map
 * until it refreshes.  So when a deletion is due while a node has neither
 * acknowledged the move's map version nor polled the map since the delay
 * started, the deletion is held until that node acknowledges or polls,
 * or until delay_ceiling_ms after the delay started, when it runs anyway
 * (forced, counted).  Nothing here reads a clock: 'now' comes
 * with every call. */
#include "core/core-private.h"

/* How long node 'n' may go unheard: its share of the dynamic delay (its
 * refresh bound, propagation and the margin). */
static uint64_t
node_bound(const struct core *c, const struct node *n)
{
    return n->upper + c->cfg.propagation_ms + c->cfg.delay_margin_ms;
}

/* Silent: unheard for its whole bound (a node heard last exactly when
 * the delay started, then cut off, is silent when the delay ends). */
static bool
node_silent(const struct core *c, const struct node *n, uint64_t now)
{
    return now >= n->heard_ms && now - n->heard_ms >= node_bound(c, n);
}

/* ---- Parking: the deletions held for a silent node ---- */

static void
park(struct core *c, uint32_t ti, uint32_t ni)
{
    struct task *t = &c->tasks[ti];
    struct node *n = &c->nodes[ni];
    t->park_node = ni;
    t->park_prev = NIL;
    t->park_next = n->park_head;
    if (n->park_head != NIL) {
        c->tasks[n->park_head].park_prev = ti;
    }
    n->park_head = ti;
}

void
core_silence_unpark(struct core *c, uint32_t ti)
{
    struct task *t = &c->tasks[ti];
    if (t->park_node == NIL) {
        return;
    }
    if (t->park_prev != NIL) {
        c->tasks[t->park_prev].park_next = t->park_next;
    } else {
        c->nodes[t->park_node].park_head = t->park_next;
    }
    if (t->park_next != NIL) {
        c->tasks[t->park_next].park_prev = t->park_prev;
    }
    t->park_node = t->park_prev = t->park_next = NIL;
}

/* Every deletion held for node 'ni' is looked at again at 'due' (or
 * sooner if it was due sooner). */
static void
unpark_all(struct core *c, uint32_t ni, uint64_t due)
{
    while (c->nodes[ni].park_head != NIL) {
        uint32_t ti = c->nodes[ni].park_head;
        core_silence_unpark(c, ti);
        if (due < c->tasks[ti].due) {
            core_task_set_due(c, ti, due);
        }
    }
}

/* ---- Hearing ---- */

void
core_silence_heard(struct core *c, uint32_t ni, uint64_t now)
{
    struct node *n = &c->nodes[ni];
    if (!n->heard || now > n->heard_ms) {
        n->heard_ms = now;
    }
    n->heard = true;
    /* What it held is looked at again once packets it sent before this
     * are no longer in flight. */
    unpark_all(c, ni, core_add_sat(now, c->cfg.inflight_ms));
}

/* A poll answered with the current map. */
void
core_silence_read(struct core *c, uint32_t ni, uint64_t now)
{
    struct node *n = &c->nodes[ni];
    n->read_ms = n->read && n->read_ms > now ? n->read_ms : now;
    n->read = true;
    core_silence_heard(c, ni, now);
}

void
core_silence_node_gone(struct core *c, uint32_t ni, uint64_t now)
{
    unpark_all(c, ni, now); /* a removed node is never waited for */
}

void
core_silence_restart(struct core *c, uint64_t now)
{
    /* The nodes' silence counts from the restart: mignetd (and its
     * gateway) was down, nobody could be heard. */
    for (size_t i = 0; i < c->n_nodes; i++) {
        if (core_node_live(c, (uint32_t) i)) {
            c->nodes[i].heard = true;
            c->nodes[i].heard_ms = now;
            c->nodes[i].read = false; /* what it read was last run's map */
        }
    }
}

/* ---- The rule ---- */

/* Whether node 'n' has read a map including the move of 't': it
 * acknowledged the move's map version, or it polled the gateway (answered
 * with the current map) once an answer sent before the delay started can
 * no longer be in flight.  Merely being heard is no evidence: a node back
 * from a silence keeps its stale map until it refreshes; nor is a session
 * refresh, which may arrive late or twice and only names what it holds. */
static bool
node_has_read(const struct core *c, const struct node *n,
              const struct task *t)
{
    return n->acked_version >= t->need_version
           || (n->read
               && n->read_ms >= core_add_sat(t->hold_from,
                                             c->cfg.inflight_ms));
}

/* The node that holds deletion 't' at 'now', or NIL: one that was heard
 * in this run (one never heard holds no map of this run) and has not read
 * the move; a silent one first (the one reported as held for). */
static uint32_t
silence_blocker(const struct core *c, const struct task *t, uint64_t now)
{
    uint32_t blocker = NIL;
    if (!heap_is_empty(&c->ack_heap)
        && c->nodes[heap_top(&c->ack_heap)].acked_version
               >= t->need_version) {
        return NIL; /* every node acknowledged the move */
    }
    for (uint32_t i = 0; i < c->n_nodes; i++) {
        const struct node *n = &c->nodes[i];
        if (!core_node_live(c, i) || !n->heard || node_has_read(c, n, t)) {
            continue;
        }
        if (node_silent(c, n, now)) {
            return i;
        }
        if (blocker == NIL) {
            blocker = i;
        }
    }
    return blocker;
}

bool
core_silence_hold(struct core *c, uint32_t ti, uint64_t now)
{
    if (!c->cfg.silence_hold || !c->cfg.ack_release) {
        return false;
    }
    struct task *t = &c->tasks[ti];
    core_silence_unpark(c, ti);
    uint32_t b = silence_blocker(c, t, now);
    if (b == NIL) {
        return false;
    }
    struct migration *m = core_mig_get(c, t->migration);
    uint64_t force = core_add_sat(t->hold_from, c->cfg.delay_ceiling_ms);
    if (m) {
        m->pub.held_for = b;
    }
    if (now >= force) {
        c->stats.deletions_forced++;
        if (m) {
            m->pub.deletion_forced = true;
        }
        return false;
    }
    if (!t->silence_held) {
        t->silence_held = true;
        c->stats.deletions_held++;
        if (m) {
            m->pub.deletion_held = true;
        }
    }
    /* Looked at again when 'b' is heard, at the latest at the ceiling. */
    park(c, ti, b);
    core_task_set_due(c, ti, force);
    return true;
}
