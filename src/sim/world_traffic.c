/* world_traffic.c: the data plane of one simulated data centre.
 *
 * Nodes' copies of the gateway map (the entry a node sees for a VM),
 * senders' ticks and packets, and each packet's fate on arrival.  It must
 * never let a packet go uncounted, and counts a cold stream's ticks by
 * arithmetic only up to the instant of the event that flushes it (the data
 * plane goes first at an instant). */
#include <stdlib.h>

#include "mignet/core.h"
#include "sim/workload.h"
#include "sim/world-private.h"

/* ---- map copies: a node's view of a VM ---- */

void
world_hist_add(struct world *w, uint32_t vm, uint32_t node, uint64_t version)
{
    uint32_t i = pool_alloc(&w->hist);
    if (i == NIL) {
        w->nomem = true;
        return;
    }
    struct vm_state *v = &w->vms[vm];
    struct hist_ent *e = hist_at(w, i);
    e->version = version;
    e->node = node;
    e->next = w->setup ? NIL : v->hist;
    v->hist = i;
    /* Entries older than the newest one every node has applied are never
     * seen again. */
    for (uint32_t j = i; j != NIL; j = hist_at(w, j)->next) {
        struct hist_ent *h = hist_at(w, j);
        if (h->version <= w->v_min) {
            uint32_t k = h->next;
            h->next = NIL;
            while (k != NIL) {
                uint32_t nx = hist_at(w, k)->next;
                pool_free(&w->hist, k);
                k = nx;
            }
            break;
        }
    }
}

void
world_vcount_move(struct world *w, uint64_t from, uint64_t to)
{
    size_t need = (size_t)(to - w->v_base) + 1;
    if (!grow((void **)&w->vcount, &w->vcount_cap, need,
              sizeof *w->vcount)) {
        w->nomem = true;
        return;
    }
    w->vcount[from - w->v_base]--;
    w->vcount[to - w->v_base]++;
    while (w->vcount[w->v_min - w->v_base] == 0) {
        w->v_min++;
    }
}

void
world_vfifo_push(struct world *w, uint64_t version, uint32_t vm)
{
    if (w->vfifo.n == w->vfifo.cap) {
        size_t cap = w->vfifo.cap ? w->vfifo.cap * 2 : 256;
        uint64_t *ver = malloc(cap * sizeof *ver);
        uint32_t *vms = malloc(cap * sizeof *vms);
        if (!ver || !vms) {
            free(ver);
            free(vms);
            w->nomem = true;
            return;
        }
        for (size_t i = 0; i < w->vfifo.n; i++) {
            size_t j = (w->vfifo.head + i) % (w->vfifo.cap ? w->vfifo.cap
                                                          : 1);
            ver[i] = w->vfifo.version[j];
            vms[i] = w->vfifo.vm[j];
        }
        free(w->vfifo.version);
        free(w->vfifo.vm);
        w->vfifo.version = ver;
        w->vfifo.vm = vms;
        w->vfifo.head = 0;
        w->vfifo.cap = cap;
    }
    size_t j = (w->vfifo.head + w->vfifo.n++) % w->vfifo.cap;
    w->vfifo.version[j] = version;
    w->vfifo.vm[j] = vm;
}

/* ---- the loss time series (--plot) ---- */

void
world_series_lost(struct world *w, uint64_t t_us, uint64_t n)
{
    if (!w->series_us || !n) {
        return;
    }
    struct sim_result *r = w->r;
    uint64_t t0 = w->wl->t_start_us;
    size_t i = (size_t)((t_us > t0 ? t_us - t0 : 0) / w->series_us);
    if (i >= r->n_series) {
        if (!grow((void **)&r->lost_series, &w->cap_series, i + 1,
                  sizeof *r->lost_series)) {
            w->nomem = true;
            return;
        }
        r->n_series = i + 1;
    }
    r->lost_series[i] += n;
}

/* The cold stream's packets sent in [from, split) that are lost: each
 * in the bucket of its arrival (send time + data latency). */
static void
series_cold(struct world *w, uint64_t from, uint64_t split, uint64_t ph,
            uint64_t per)
{
    uint64_t t0 = w->wl->t_start_us;
    uint64_t b = w->series_us;
    uint64_t a = from;
    while (a < split) {
        uint64_t arrive = a + w->dl_us;
        uint64_t idx = (arrive > t0 ? arrive - t0 : 0) / b;
        /* The first send time whose arrival falls in the next bucket. */
        uint64_t next = t0 + (idx + 1) * b - w->dl_us;
        uint64_t end = next < split ? next : split;
        world_series_lost(w, arrive,
                          ticks_before(end, ph, per)
                              - ticks_before(a, ph, per));
        a = end;
    }
}

/* ---- traffic ---- */

/* Accounts the ticks of stream 's' (receiver not simulated) from cs[s]
 * up to and including the instant 't' (the data plane goes first, so
 * they happened before the event that calls), and before the traffic
 * horizon.  A sender does not send after its pause starts up to and
 * including the instant it resumes.  Packets that arrived by 't' (all of
 * them when 'settle') get the receiver's cold outcome; the ones still in
 * flight after 't' become real packet events. */
void
world_flush_stream(struct world *w, uint32_t s, uint64_t t, bool settle)
{
    const struct sim_workload *wl = w->wl;
    uint32_t vm = s / wl->k;
    const struct vm_state *snd = &w->vms[wl->peers[s]];
    uint64_t from = w->cs[s];
    uint64_t lim = t < wl->t_end_us ? t + 1 : wl->t_end_us;
    uint64_t end = lim;
    if (snd->pause_start != RUNNING && snd->pause_start < end) {
        end = snd->pause_start + 1;
    }
    if (from < end) {
        uint64_t ph = sim_stream_phase(wl, s);
        uint64_t per = wl->period_us;
        uint64_t split = end;
        if (!settle) {
            uint64_t arrived = t >= w->dl_us ? t - w->dl_us + 1 : 0;
            split = arrived < end ? arrived : end;
        }
        if (split > from) {
            uint64_t n = ticks_before(split, ph, per)
                         - ticks_before(from, ph, per);
            w->r->sent += n;
            if (w->vms[vm].flags & VMF_LOST_COLD) {
                w->r->lost_other += n;
                if (w->series_us) {
                    series_cold(w, from, split, ph, per);
                }
            } else {
                w->r->delivered += n;
            }
        }
        uint64_t tau = tick_at_or_after(split > from ? split : from, ph,
                                        per);
        for (; tau < end; tau += per) {
            w->r->sent++;
            push(w, tau + w->dl_us, EV_ARRIVE, vm, w->vms[vm].node, NIL, 0,
                 0);
        }
    }
    if (lim > w->cs[s]) {
        w->cs[s] = lim;
    }
}

static inline bool
deliverable(struct world *w, uint32_t vm, uint32_t node)
{
    const struct vm_state *v = &w->vms[vm];
    if (v->node != node || v->pause_start != RUNNING) {
        return false;
    }
    const struct agent_ent *e = agent_find(w, vm, node, NULL);
    /* A relaying entry forwards what reaches it, even while the VM still
     * runs here (lossless switches before the pause); an inactive one
     * attracts nothing. */
    return e && e->has_config && !e->inactive && e->relay == NIL;
}

/* A fresh sender's packet dropped where the VM runs or is headed by its
 * prepared copy, still inactive: the sender's map learned the switch-over
 * before the destination's INSTALL that activates it landed (the
 * simulator's poll answers at once; docs/simulator.md, "Switch-over
 * modes"). */
static bool
install_race(struct world *w, uint32_t vm, uint32_t node)
{
    const struct vm_state *v = &w->vms[vm];
    if (v->node != node && v->dst != node) {
        return false;
    }
    const struct agent_ent *e = agent_find(w, vm, node, NULL);
    if (!e) {
        return node == v->dst; /* not even the prepared copy landed */
    }
    return e->has_config && e->inactive;
}

void
world_on_arrive(struct world *w, const struct sim_ev *ev)
{
    uint32_t vm = ev->a;
    uint32_t node = ev->b;
    if (deliverable(w, vm, node)) {
        w->r->delivered++;
        return;
    }
    if (ev->c != NIL && deliverable(w, vm, ev->c)) {
        w->r->delivered++; /* the clone made it */
        return;
    }
    if (world_queue_packet(w, vm, node)) {
        return; /* lossless: delivered when the VM resumes */
    }
    const struct agent_ent *e = agent_find(w, vm, node, NULL);
    if (e && e->relay != NIL) {
        if (ev->x + 1 >= HOP_LIMIT) {
            w->r->lost_other++;
            w->r->lost_hop_limit++;
            world_series_lost(w, w->now, 1);
            return;
        }
        w->r->relayed++;
        push_lane(w, LANE_DATA, w->now + w->dl_us, EV_ARRIVE, vm, e->relay,
                  NIL, (uint8_t)(ev->x + 1), ev->y);
        return;
    }
    if (w->vms[vm].pause_start != RUNNING) {
        w->r->lost_pause++;
    } else if ((w->vms[vm].flags & VMF_ACT_GAP)
               && node == w->vms[vm].prev_node) {
        w->r->lost_activation++;
    } else if (ev->y) {
        w->r->lost_stale++;
    } else if (install_race(w, vm, node)) {
        w->r->lost_install_race++;
    } else {
        w->r->lost_other++;
    }
    world_series_lost(w, w->now, 1);
}
