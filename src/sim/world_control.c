/* world_control.c: the control plane of one simulated data centre.
 *
 * The node agents (what INSTALL, RELAY and DELETE leave on a node), the
 * core_sink callbacks, and the control channel's events: instructions,
 * acks, map refreshes and their reports, map pushes and version acks, the
 * core's timer.  A sink must
 * never call into the core: it queues an event instead. */
#include <string.h>

#include "mignet/config.h"
#include "mignet/core.h"
#include "sim/rng.h"
#include "sim/workload.h"
#include "sim/world-private.h"

/* ---- agent model ---- */

static struct agent_ent *
agent_new(struct world *w, uint32_t vm, uint32_t node)
{
    uint32_t i = pool_alloc(&w->agent);
    if (i == NIL) {
        w->nomem = true;
        return NULL;
    }
    struct agent_ent *e = agent_at(w, i);
    memset(e, 0, sizeof *e);
    e->node = node;
    e->relay = NIL;
    e->next = w->vms[vm].agent;
    w->vms[vm].agent = i;
    return e;
}

/* Could a sender still pick 'node' for 'vm' by its copy of the map?  The
 * entries some node may still see: every one newer than the oldest map
 * any node holds, and the newest at or below it. */
static bool
some_view_is(struct world *w, uint32_t vm, uint32_t node)
{
    for (uint32_t i = w->vms[vm].hist; i != NIL;) {
        const struct hist_ent *e = hist_at(w, i);
        if (e->node == node) {
            return true;
        }
        if (e->version <= w->v_min) {
            return false;
        }
        i = e->next;
    }
    return false;
}

/* Applies one instruction as docs/agent-protocol.md says: with the epoch
 * rule when the strategy has it, else the seed's agent (a DELETE removes
 * whatever the node holds). */
static void
agent_apply(struct world *w, const struct instr_rec *in, bool guard)
{
    uint32_t *link = NULL;
    struct agent_ent *e = agent_find(w, in->vm, in->node, &link);
    switch (in->kind) {
    case INSTR_INSTALL: {
        if (e && guard && e->epoch > in->epoch) {
            w->r->refused++;
            return;
        }
        if (!e) {
            e = agent_new(w, in->vm, in->node);
            if (!e) {
                return;
            }
        }
        bool same = e->epoch == in->epoch && e->has_config;
        bool inactive = (in->flags & INSTRF_INACTIVE) != 0;
        if (!same) {
            /* A new placement replaces the old entry -- but a prepared
             * copy over a relaying snapshot keeps its relay until it is
             * activated (docs/agent-protocol.md). */
            if (!(inactive && e->relay != NIL && e->epoch < in->epoch)) {
                e->relay = NIL;
            }
            e->reported = 0;
        }
        /* An active copy stays active; an INSTALL without 'inactive'
         * activates (docs/agent-protocol.md). */
        e->inactive = inactive && !(same && !e->inactive);
        if (!e->inactive) {
            e->relay = NIL; /* delivers here now */
        }
        e->on_frame = (in->flags & INSTRF_ON_FRAME) != 0;
        e->epoch = in->epoch;
        e->has_config = 1;
        /* Watching a VM that already runs here: its frames come at once. */
        const struct vm_state *v = &w->vms[in->vm];
        if (!w->setup && v->node == in->node && v->pause_start == RUNNING) {
            world_frame_seen(w, in->vm, in->node);
        }
        return;
    }
    case INSTR_RELAY:
        if (guard && (!e || e->epoch != in->epoch)) {
            w->r->refused++;
            return;
        }
        if (!e) {
            e = agent_new(w, in->vm, in->node);
            if (!e) {
                return;
            }
            e->epoch = in->epoch;
        }
        e->relay = in->target;
        /* The switch-over reached the source: what it drops from now on
         * is no activation gap. */
        if (w->vms[in->vm].prev_node == in->node) {
            w->vms[in->vm].flags &= (uint8_t)~VMF_ACT_GAP;
        }
        return;
    case INSTR_DELETE:
        if (!e || (guard && e->epoch != in->epoch)) {
            w->r->refused += e != NULL;
            return;
        }
        /* Early: a node's map still sends the VM's packets here, and
         * the VM does not run here (its packets are lost, or only a
         * relay would have saved them). */
        if (!w->setup && w->vms[in->vm].node != in->node
            && some_view_is(w, in->vm, in->node)) {
            w->r->early_deletes++;
        }
        /* The seed's bug: what goes is the VM's current placement, not
         * the snapshot the instruction means. */
        if (e->has_config && w->vms[in->vm].node == in->node
            && e->epoch == w->vms[in->vm].epoch) {
            w->r->wrong_agent++;
            w->late_wrong_agent += w->traffic_over;
        }
        uint32_t i = *link;
        *link = e->next;
        pool_free(&w->agent, i);
        return;
    }
}

/* ---- core plumbing ---- */

/* Keeps one timer event at the core's next due time.  Right after
 * core_run(now) a due time <= now would spin: it waits a millisecond. */
static void
arm_core_at(struct world *w, bool after_run)
{
    uint64_t t = sim_core_wake_us(core_next_due(w->core), w->now,
                                  after_run);
    if (t != UINT64_MAX && t < w->core_timer_at) {
        w->core_timer_at = t;
        push(w, t, EV_CORE, 0, 0, 0, 0, 0);
    }
}

void
world_arm_core(struct world *w)
{
    arm_core_at(w, false);
}

void
world_sink_instr(void *aux, const struct core_instr *ci)
{
    struct world *w = aux;
    struct instr_rec in = {
        .seq = ci->seq, .epoch = ci->epoch, .node = ci->node,
        .vm = ci->vm, .target = ci->target, .kind = (uint16_t)ci->kind,
        .flags = (uint16_t)((ci->inactive ? INSTRF_INACTIVE : 0)
                            | (ci->activate_on_frame ? INSTRF_ON_FRAME
                                                     : 0)),
    };
    if (ci->vm >= w->wl->n_vms || ci->node >= w->wl->n_nodes) {
        w->r->core_errors++;
        return;
    }
    if (w->setup) {
        agent_apply(w, &in, true);
        if (ci->kind == INSTR_INSTALL) {
            w->vms[ci->vm].epoch = ci->epoch;
        }
        if (ci->seq > w->setup_seq[ci->node]) {
            w->setup_seq[ci->node] = ci->seq;
        }
        return;
    }
    uint32_t i = pool_alloc(&w->instr);
    if (i == NIL) {
        w->nomem = true;
        return;
    }
    *instr_at(w, i) = in;
    w->vms[ci->vm].instr_inflight++;
    w->r->instructions++;
    w->r->control_messages++;
    w->ctl_inflight++;
    push_lane(w, LANE_CTL, w->now + w->lat_us, EV_INSTR, i, 0, 0, 0, 0);
}

void
world_sink_migration(void *aux, const struct core_migration *m)
{
    struct world *w = aux;
    if (w->setup || m->vm >= w->wl->n_vms) {
        return;
    }
    if (!grow((void **)&w->mig_start, &w->mig_cap, (size_t)m->id + 1,
              sizeof *w->mig_start)) {
        w->nomem = true;
        return;
    }
    if (!w->mig_start[m->id]) {
        w->mig_start[m->id] = w->now;
    }
    struct vm_state *v = &w->vms[m->vm];
    if (m->id >= v->migration) {
        v->migration = m->id;
        v->phase = (uint8_t)m->phase;
    }
    if (m->phase == MIG_CLEANED) {
        w->r->cleaned++;
        w->r->released_early += m->released_early;
        if (w->n_samples == w->cap_samples
            && !grow((void **)&w->samples, &w->cap_samples,
                     w->n_samples + 1, sizeof *w->samples)) {
            w->nomem = true;
            return;
        }
        w->samples[w->n_samples++] = w->now - w->mig_start[m->id];
    }
    if (m->phase == MIG_ABORTED) {
        w->r->aborted++;
    }
    if (m->id == v->migration && m->phase != MIG_PREPARING
        && (v->flags & VMF_PAUSE_OVER)) {
        v->flags &= (uint8_t)~VMF_PAUSE_OVER;
        push(w, w->now, EV_RESUME, m->vm, 0, 0, 0, 0);
    }
    /* lossless: the switch is confirmed, QEMU may stop the VM. */
    if (m->id == v->migration && m->phase == MIG_RELAYING
        && (v->flags & VMF_HOLD)) {
        v->flags &= (uint8_t)~VMF_HOLD;
        push(w, w->now, EV_PAUSE_START, m->vm, (uint32_t)m->id, 0, 0, 0);
    }
    if (v->hot) {
        push(w, w->now, EV_CHECK, m->vm, 0, 0, 0, 0);
    }
}

void
world_sink_map_change(void *aux, uint32_t vm, uint32_t node,
                      bool removed, uint64_t version)
{
    struct world *w = aux;
    if (vm >= w->wl->n_vms || removed) {
        return;
    }
    world_hist_add(w, vm, node, version);
    if (!w->setup) {
        /* A move: the VM's window waits until every node holds it; one
         * after the traffic horizon would change what later packets
         * meet. */
        world_vfifo_push(w, version, vm);
        w->r->after_horizon += w->traffic_over;
        if (!core_get_config(w->core)->relay) {
            /* No relay will close the activation gap: from the move on
             * what the source drops is lost to stale maps. */
            w->vms[vm].flags &= (uint8_t)~VMF_ACT_GAP;
        }
    }
    if (w->push_mode != PUSH_NONE && !w->setup) {
        w->push_dirty = true;
        if (!w->push_armed) {
            /* Coalesced: at most one push per interval.  One event for
             * every node: they are all subscribed and equally far. */
            uint64_t t = w->push_last + w->push_us;
            w->push_armed = true;
            push(w, t > w->now ? t : w->now, EV_PUSH, 0, 0, 0, 0, 0);
        }
    }
}

void
world_sink_wrong_delete(void *aux, uint32_t vm, uint32_t node)
{
    struct world *w = aux;
    (void)vm;
    (void)node;
    w->r->wrong_core++;
    w->late_wrong_core += w->traffic_over;
}

/* ---- control plane ---- */

void
world_on_instr(struct world *w, const struct sim_ev *ev)
{
    struct instr_rec in = *instr_at(w, ev->a);
    pool_free(&w->instr, ev->a);
    w->ctl_inflight--;
    struct core_config const *cfg = core_get_config(w->core);
    agent_apply(w, &in, cfg->epoch_guard);
    struct vm_state *v = &w->vms[in.vm];
    v->instr_inflight--;
    /* The agent acknowledges every instruction it processed. */
    w->r->instruction_acks++;
    w->r->control_messages++;
    w->ctl_inflight++;
    push_lane(w, LANE_CTL, w->now + w->lat_us, EV_ACK, in.node,
              (uint32_t)in.seq, (uint32_t)(in.seq >> 32), 0, 0);
    if (!v->instr_inflight) {
        world_try_cool(w, in.vm);
    }
}

void
world_on_ack(struct world *w, const struct sim_ev *ev)
{
    w->ctl_inflight--;
    uint64_t seq = (uint64_t)ev->c << 32 | ev->b;
    if (core_node_ack(w->core, ev->a, seq, now_ms(w)) != CORE_E_OK) {
        w->r->core_errors++;
    }
    world_after_core(w);
}

void
world_on_report(struct world *w, const struct sim_ev *ev)
{
    uint64_t version = (uint64_t)ev->c << 32 | ev->b;
    if (core_node_refresh(w->core, ev->a, version, now_ms(w))
        != CORE_E_OK) {
        w->r->core_errors++;
    }
    world_after_core(w);
}

/* Windows waiting for every node to hold their VM's move may close. */
static void
drain_vfifo(struct world *w)
{
    while (w->vfifo.n
           && w->vfifo.version[w->vfifo.head] <= w->v_min) {
        uint32_t vm = w->vfifo.vm[w->vfifo.head];
        w->vfifo.head = (w->vfifo.head + 1) % w->vfifo.cap;
        w->vfifo.n--;
        world_try_cool(w, vm);
    }
}

void
world_on_refresh(struct world *w, uint32_t n)
{
    uint64_t version = core_map_version(w->core);
    uint64_t old = w->applied[n];
    if (version > old) {
        w->applied[n] = version;
        world_vcount_move(w, old, version);
    }
    /* Polls are a steady cost: counted over the traffic time, the same
     * for every strategy, not over each strategy's cleanup. */
    if (!w->traffic_over) {
        w->r->gateway_polls++;
        w->r->control_messages++;
    }
    push_lane(w, LANE_CTL, w->now + w->lat_us, EV_REPORT, n,
              (uint32_t)version, (uint32_t)(version >> 32), 0, 0);
    double f = 1 + w->p->refresh_wobble
                       * (2 * sim_rng_unit(&w->node_rng[n]) - 1);
    uint64_t dt = (uint64_t)((double)w->wl->node_base_us[n] * f)
                  / w->refresh_div;
    push(w, w->now + (dt ? dt : 1), EV_REFRESH, n, 0, 0, 0, 0);
    drain_vfifo(w);
}

/* ---- map push ---- */

/* The controller pushes the map version of now to every subscribed node:
 * one message per node, arriving after the control latency. */
void
world_on_push(struct world *w)
{
    w->push_armed = false;
    if (!w->push_dirty) {
        return;
    }
    w->push_dirty = false;
    w->push_last = w->now;
    uint64_t version = core_map_version(w->core);
    w->r->pushes += w->n_subscribed;
    w->r->control_messages += w->n_subscribed;
    w->ctl_inflight++;
    push_lane(w, LANE_CTL, w->now + w->lat_us, EV_PUSH_IN, 0,
              (uint32_t)version, (uint32_t)(version >> 32), 0, 0);
}

/* Every node applies the pushed version (its flows follow, as after a
 * poll) and, with push, acknowledges it after the control latency. */
void
world_on_push_in(struct world *w, const struct sim_ev *ev)
{
    uint64_t version = (uint64_t)ev->c << 32 | ev->b;
    w->ctl_inflight--;
    for (uint32_t n = 0; n < w->wl->n_nodes; n++) {
        uint64_t old = w->applied[n];
        if (version > old && w->subscribed[n]) {
            w->applied[n] = version;
            world_vcount_move(w, old, version);
        }
    }
    if (w->push_mode == PUSH_MAP) {
        w->r->version_acks += w->n_subscribed;
        w->r->control_messages += w->n_subscribed;
        w->ctl_inflight++;
        push_lane(w, LANE_CTL, w->now + w->lat_us, EV_VACK, 0, ev->b, ev->c,
                  0, 0);
    }
    drain_vfifo(w);
}

/* The nodes' acknowledgements of a pushed version reach the core: never
 * refresh samples (core_node_version_ack). */
void
world_on_vack(struct world *w, const struct sim_ev *ev)
{
    uint64_t version = (uint64_t)ev->c << 32 | ev->b;
    w->ctl_inflight--;
    for (uint32_t n = 0; n < w->wl->n_nodes; n++) {
        if (w->subscribed[n]
            && core_node_version_ack(w->core, n, version, now_ms(w))
                   != CORE_E_OK) {
            w->r->core_errors++;
        }
    }
    world_after_core(w);
}

/* ---- activation (rarp, lossless) ---- */

void
world_frame_seen(struct world *w, uint32_t vm, uint32_t node)
{
    struct agent_ent *e = agent_find(w, vm, node, NULL);
    if (!e || !e->has_config || !e->on_frame || e->reported) {
        return;
    }
    /* Local delivery at once, in the data plane; mignetd hears of it a
     * control latency later. */
    e->inactive = 0;
    e->relay = NIL;
    e->reported = 1;
    if (e->epoch > UINT32_MAX) {
        w->r->core_errors++; /* the event cannot carry it */
        return;
    }
    w->r->activations++;
    w->r->control_messages++;
    w->ctl_inflight++;
    w->vms[vm].instr_inflight++; /* keeps the window open */
    push_lane(w, LANE_CTL, w->now + w->lat_us, EV_ACTIVATED, vm, node,
              (uint32_t)e->epoch, 0, 0);
}

void
world_on_activated(struct world *w, const struct sim_ev *ev)
{
    w->ctl_inflight--;
    w->vms[ev->a].instr_inflight--;
    enum core_err e = core_node_activated(w->core, ev->b, ev->a, ev->c,
                                          now_ms(w));
    /* NOT_PREPARING: a newer migration of the VM started since; the
     * report is moot, as mignetd would answer. */
    if (e != CORE_E_OK && e != CORE_E_NOT_PREPARING) {
        w->r->core_errors++;
    }
    world_after_core(w);
    if (!w->vms[ev->a].instr_inflight) {
        world_try_cool(w, ev->a);
    }
}

void
world_on_core(struct world *w, const struct sim_ev *ev)
{
    if (ev->t != w->core_timer_at) {
        return;
    }
    w->core_timer_at = UINT64_MAX;
    core_run(w->core, now_ms(w));
    arm_core_at(w, true);
    world_after_core(w);
}
