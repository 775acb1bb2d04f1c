/* silence.c: the silence hold -- a deletion waits for a node cut off.
 *
 * The deletion delay (step 5) bounds a node's next refresh only while the
 * node can reach the controller: a partitioned node keeps its stale map
 * however long the delay.  So when a deletion is due while a node that
 * has not acknowledged the move is silent -- nothing heard from it for
 * longer than its bound -- the deletion is held until that node is heard
 * and either acknowledges or stays in contact for its bound, or until
 * delay_ceiling_ms after the delay started, when it runs anyway (forced,
 * counted).  Nothing here reads a clock: 'now' comes with every call. */
#include "core/core-private.h"

/* How long node 'n' may go unheard, and how long it must stay in contact
 * after a silence before it no longer holds a deletion: its share of the
 * dynamic delay (its refresh bound, propagation and the margin). */
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
    if (!n->heard || node_silent(c, n, now)) {
        n->contact_ms = now; /* a silence (or the first contact) ends */
    }
    if (!n->heard || now > n->heard_ms) {
        n->heard_ms = now;
    }
    n->heard = true;
    /* What it held is looked at again once packets it sent before this
     * are no longer in flight. */
    unpark_all(c, ni, core_add_sat(now, c->cfg.inflight_ms));
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
            c->nodes[i].heard_ms = c->nodes[i].contact_ms = now;
        }
    }
}

/* ---- The rule ---- */

/* The node that holds deletion 't' at 'now', or NIL.  A node holds it
 * when it has not acknowledged the move's map version, was heard in this
 * run (one never heard holds no map of this run), and is silent now
 * (then '*wake' is 0: it holds until heard) or came back from a silence
 * after the delay started less than its bound ago (then '*wake' is when
 * the last such node stops holding). */
static uint32_t
silence_blocker(const struct core *c, const struct task *t, uint64_t now,
                uint64_t *wake)
{
    uint32_t blocker = NIL;
    *wake = 0;
    if (!heap_is_empty(&c->ack_heap)
        && c->nodes[heap_top(&c->ack_heap)].acked_version
               >= t->need_version) {
        return NIL; /* every node acknowledged the move */
    }
    for (uint32_t i = 0; i < c->n_nodes; i++) {
        const struct node *n = &c->nodes[i];
        if (!core_node_live(c, i) || !n->heard
            || n->acked_version >= t->need_version) {
            continue;
        }
        if (node_silent(c, n, now)) {
            *wake = 0;
            return i;
        }
        uint64_t back = core_add_sat(n->contact_ms, node_bound(c, n));
        if (n->contact_ms > t->hold_from && back > now && back > *wake) {
            *wake = back;
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
    uint64_t wake;
    uint32_t b = silence_blocker(c, t, now, &wake);
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
    if (wake) {
        core_task_set_due(c, ti, wake < force ? wake : force);
    } else {
        park(c, ti, b);
        core_task_set_due(c, ti, force);
    }
    return true;
}
