/* world.c: one simulated data centre running one strategy on the real core.
 *
 * Node agents (per-VM entries built from INSTALL/RELAY/DELETE), gateway
 * polling, senders forwarding by their node's copy of the map, the VM
 * manager (pause, resume, next hop) and the control channel with its
 * latency, all on one virtual clock in microseconds.  It must never call
 * into the core from a core_sink callback, never read the wall clock except
 * through the hooks, and never let a packet go uncounted: at the end
 * sent == delivered + lost_pause + lost_stale + lost_other.
 *
 * Packets are simulated one by one only for VMs inside a migration window
 * (hot); outside, every stream's ticks are counted exactly by arithmetic
 * (docs/simulator.md explains why that is exact). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/config.h"
#include "mignet/core.h"
#include "sim/evq.h"
#include "sim/rng.h"
#include "sim/simulator.h"
#include "sim/workload.h"

#define NIL UINT32_MAX
#define RUNNING UINT64_MAX
#define HOP_LIMIT 8
#define RETRY_US 1000

/* At one instant the data plane goes first: ticks and arrivals see the
 * state from before every other event of that instant.  Counting cold
 * streams by arithmetic relies on that rule (flush_stream). */
enum ev_type {
    EV_TICK,      /* a: stream, x: generation */
    EV_ARRIVE,    /* a: vm, b: node, c: clone node, x: hops, y: stale */
    EV_INSTR,     /* a: instruction slot */
    EV_ACK,       /* a: node, b: seq (low), c: seq (high) */
    EV_REPORT,    /* a: node, b: version (low), c: version (high) */
    EV_REFRESH,   /* a: node */
    EV_CORE,      /* core timer */
    EV_ISSUE,     /* a: job, x: 1 = first attempt from the plan */
    EV_PAUSE_END, /* a: vm, b: migration id (low) */
    EV_RESUME,    /* a: vm */
    EV_CHECK,     /* a: vm: try to close its window */
    EV_HORIZON,   /* traffic stops (the workload's t_end_us) */
};

enum { LANE_DATA, LANE_CTL };

/* A gateway map entry of a VM as nodes may still see it. */
struct hist_ent {
    uint64_t version;
    uint32_t node;
    uint32_t next; /* older */
};

/* What a node's agent holds for a VM. */
struct agent_ent {
    uint64_t epoch;
    uint32_t node;
    uint32_t relay; /* target node or NIL */
    uint32_t next;
    uint32_t has_config;
};

struct instr_rec {
    uint64_t seq, epoch;
    uint32_t node, vm, target;
    uint32_t kind;
};

/* Fixed-size records with a free list threaded through their first four
 * bytes. */
struct pool {
    char *mem;
    size_t size, n, cap;
    uint32_t free_head;
};

#define VMF_PAUSE_OVER 0x01 /* pause elapsed, waiting for RELAYING */
#define VMF_LOST_COLD 0x02  /* cold, but packets are lost (no config) */
#define VMF_TASK_WAIT 0x04  /* on the task_wait list */

struct vm_state {
    uint64_t pause_start;  /* RUNNING when not paused */
    uint64_t migration;    /* latest migration id, 0 = none */
    uint64_t epoch;        /* of its placement on 'node' */
    uint32_t node;         /* where it runs or will resume */
    uint32_t prev_node;    /* source of the latest migration */
    uint32_t hist, agent;  /* list heads */
    uint32_t job;          /* active job or NIL */
    uint32_t wait_head, wait_tail;
    uint32_t instr_inflight;
    uint8_t phase; /* of 'migration' */
    uint8_t hot;
    uint8_t gen;
    uint8_t flags;
};

struct job_state {
    uint32_t done;   /* hops resumed */
    uint32_t origin; /* node before the first hop */
    uint32_t next;   /* next job waiting for the same VM */
};

struct world {
    const struct sim_workload *wl;
    const struct sim_params *p;
    const struct sim_hooks *hooks;
    struct sim_result *r;
    struct core *core;
    struct sim_evq q;
    uint64_t now;
    bool setup;
    bool exact;
    bool clone;       /* clone strategy: fresh senders also send to src */
    uint32_t refresh_div;
    uint64_t lat_us, dl_us, pause_us, gap_us;

    struct vm_state *vms;
    uint64_t *cs; /* [stream] ticks before this time are accounted */
    struct job_state *jobs;
    struct pool hist, agent, instr;

    /* Nodes. */
    uint64_t *applied; /* map version each node holds */
    uint64_t *setup_seq;
    struct sim_rng *node_rng;
    /* min over nodes of 'applied': counts per version above v_base. */
    uint32_t *vcount;
    size_t vcount_cap;
    uint64_t v_base, v_min;
    /* VMs waiting for v_min to reach the version of their move: versions
     * grow with time, so a FIFO suffices. */
    struct {
        uint64_t *version;
        uint32_t *vm;
        size_t head, n, cap;
    } vfifo;

    uint32_t *task_wait;
    size_t n_task_wait, cap_task_wait;
    uint64_t last_tasks;

    uint64_t core_timer_at;
    uint64_t *mig_start; /* [migration id] */
    size_t mig_cap;
    uint64_t *samples; /* cleanup times, us */
    size_t n_samples, cap_samples;

    uint64_t n_hot;
    uint64_t ctl_inflight; /* instructions and acks (not refresh reports) */
    uint32_t next_plan;
    uint64_t jobs_done;
    uint64_t last_progress; /* last resume */
    bool traffic_over;      /* past the traffic horizon */
    uint64_t late_wrong_core, late_wrong_agent;
    bool ending;
    uint64_t t_stop; /* the run ends: only packets on the wire count */
    bool nomem;
    uint64_t wall0, wall_last;
};

/* ---- pools ---- */

static void
pool_init(struct pool *p, size_t size)
{
    memset(p, 0, sizeof *p);
    p->size = size;
    p->free_head = NIL;
}

static uint32_t
pool_alloc(struct pool *p)
{
    if (p->free_head != NIL) {
        uint32_t i = p->free_head;
        memcpy(&p->free_head, p->mem + (size_t)i * p->size, sizeof i);
        return i;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        char *mem = realloc(p->mem, cap * p->size);
        if (!mem || cap >= NIL) {
            free(mem == p->mem ? NULL : mem);
            return NIL;
        }
        p->mem = mem;
        p->cap = cap;
    }
    return (uint32_t)p->n++;
}

static void
pool_free(struct pool *p, uint32_t i)
{
    memcpy(p->mem + (size_t)i * p->size, &p->free_head, sizeof i);
    p->free_head = i;
}

static void
pool_destroy(struct pool *p)
{
    free(p->mem);
    memset(p, 0, sizeof *p);
}

static inline struct hist_ent *
hist_at(struct world *w, uint32_t i)
{
    return (struct hist_ent *)(void *)(w->hist.mem + (size_t)i
                                       * sizeof(struct hist_ent));
}

static inline struct agent_ent *
agent_at(struct world *w, uint32_t i)
{
    return (struct agent_ent *)(void *)(w->agent.mem + (size_t)i
                                        * sizeof(struct agent_ent));
}

static inline struct instr_rec *
instr_at(struct world *w, uint32_t i)
{
    return (struct instr_rec *)(void *)(w->instr.mem + (size_t)i
                                        * sizeof(struct instr_rec));
}

/* ---- small helpers ---- */

static inline uint64_t
now_ms(const struct world *w)
{
    return w->now / 1000;
}

static void
push(struct world *w, uint64_t t, uint8_t type, uint32_t a, uint32_t b,
     uint32_t c, uint8_t x, uint16_t y)
{
    struct sim_ev ev = {.t = t, .a = a, .b = b, .c = c, .type = type,
                        .x = x, .y = y, .rank = type > EV_ARRIVE};
    if (sim_evq_push(&w->q, &ev)) {
        w->nomem = true;
    }
}

static void
push_lane(struct world *w, int lane, uint64_t t, uint8_t type, uint32_t a,
          uint32_t b, uint32_t c, uint8_t x, uint16_t y)
{
    struct sim_ev ev = {.t = t, .a = a, .b = b, .c = c, .type = type,
                        .x = x, .y = y, .rank = type > EV_ARRIVE};
    if (sim_evq_push_lane(&w->q, lane, &ev)) {
        w->nomem = true;
    }
}

static bool
grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return true;
    }
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        c *= 2;
    }
    void *a = realloc(*arr, c * size);
    if (!a) {
        return false;
    }
    memset((char *)a + *cap * size, 0, (c - *cap) * size);
    *arr = a;
    *cap = c;
    return true;
}

/* ---- map copies: a node's view of a VM ---- */

/* The entry node 'n' sees for 'vm': the newest with version <= what the
 * node applied.  Sets '*stale' when it is not the newest entry. */
static inline uint32_t
view_of(struct world *w, uint32_t vm, uint32_t n, bool *stale)
{
    uint64_t have = w->applied[n];
    uint32_t i = w->vms[vm].hist;
    const struct hist_ent *e = hist_at(w, i);
    *stale = false;
    while (e->version > have && e->next != NIL) {
        *stale = true;
        e = hist_at(w, e->next);
    }
    return e->node;
}

static void
hist_add(struct world *w, uint32_t vm, uint32_t node, uint64_t version)
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

static void
vcount_move(struct world *w, uint64_t from, uint64_t to)
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

static void
vfifo_push(struct world *w, uint64_t version, uint32_t vm)
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

/* ---- agent model ---- */

static struct agent_ent *
agent_find(struct world *w, uint32_t vm, uint32_t node, uint32_t **link)
{
    uint32_t *l = &w->vms[vm].agent;
    while (*l != NIL) {
        struct agent_ent *e = agent_at(w, *l);
        if (e->node == node) {
            if (link) {
                *link = l;
            }
            return e;
        }
        l = &e->next;
    }
    return NULL;
}

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

/* Applies one instruction as docs/agent-protocol.md says: with the epoch
 * rule when the strategy has it, else the seed's agent (a DELETE removes
 * whatever the node holds). */
static void
agent_apply(struct world *w, const struct instr_rec *in, bool guard)
{
    uint32_t *link = NULL;
    struct agent_ent *e = agent_find(w, in->vm, in->node, &link);
    switch (in->kind) {
    case INSTR_INSTALL:
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
        if (e->epoch != in->epoch || !e->has_config) {
            e->relay = NIL; /* a new placement replaces the old entry */
        }
        e->epoch = in->epoch;
        e->has_config = 1;
        return;
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
        return;
    case INSTR_DELETE:
        if (!e || (guard && e->epoch != in->epoch)) {
            w->r->refused += e != NULL;
            return;
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
    uint64_t due = core_next_due(w->core);
    if (due == UINT64_MAX) {
        return;
    }
    uint64_t t = due * 1000;
    if (due <= now_ms(w)) {
        t = after_run ? (now_ms(w) + 1) * 1000 : w->now;
    }
    if (t < w->core_timer_at) {
        w->core_timer_at = t;
        push(w, t, EV_CORE, 0, 0, 0, 0, 0);
    }
}

static void
arm_core(struct world *w)
{
    arm_core_at(w, false);
}

static void
sink_instr(void *aux, const struct core_instr *ci)
{
    struct world *w = aux;
    struct instr_rec in = {
        .seq = ci->seq, .epoch = ci->epoch, .node = ci->node,
        .vm = ci->vm, .target = ci->target, .kind = ci->kind,
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
    w->r->control_messages++;
    w->ctl_inflight++;
    push_lane(w, LANE_CTL, w->now + w->lat_us, EV_INSTR, i, 0, 0, 0, 0);
}

static void
sink_migration(void *aux, const struct core_migration *m)
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
    if (m->id == v->migration && m->phase != MIG_PREPARED
        && (v->flags & VMF_PAUSE_OVER)) {
        v->flags &= (uint8_t)~VMF_PAUSE_OVER;
        push(w, w->now, EV_RESUME, m->vm, 0, 0, 0, 0);
    }
    if (v->hot) {
        push(w, w->now, EV_CHECK, m->vm, 0, 0, 0, 0);
    }
}

static void
sink_map_change(void *aux, uint32_t vm, uint32_t node, bool removed,
                uint64_t version)
{
    struct world *w = aux;
    if (vm >= w->wl->n_vms || removed) {
        return;
    }
    hist_add(w, vm, node, version);
}

static void
sink_wrong_delete(void *aux, uint32_t vm, uint32_t node)
{
    struct world *w = aux;
    (void)vm;
    (void)node;
    w->r->wrong_core++;
    w->late_wrong_core += w->traffic_over;
}

/* ---- traffic ---- */

/* Ticks of a stream with phase 'ph' before time 'x'. */
static inline uint64_t
ticks_before(uint64_t x, uint64_t ph, uint64_t period)
{
    return x <= ph ? 0 : (x - ph - 1) / period + 1;
}

static inline uint64_t
tick_at_or_after(uint64_t x, uint64_t ph, uint64_t period)
{
    return x <= ph ? ph : ph + (x - ph + period - 1) / period * period;
}

static inline bool
simulated(const struct world *w, uint32_t vm)
{
    return w->vms[vm].hot || w->exact;
}

/* Accounts the ticks of stream 's' (receiver not simulated) from cs[s]
 * up to and including the instant 't' (the data plane goes first, so
 * they happened before the event that calls), and before the traffic
 * horizon.  A sender does not send after its pause starts up to and
 * including the instant it resumes.  Packets that arrived by 't' (all of
 * them when 'settle') get the receiver's cold outcome; the ones still in
 * flight after 't' become real packet events. */
static void
flush_stream(struct world *w, uint32_t s, uint64_t t, bool settle)
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

static void
send_packet(struct world *w, uint32_t vm, uint32_t sender)
{
    const struct vm_state *v = &w->vms[vm];
    bool stale;
    uint32_t dst = view_of(w, vm, w->vms[sender].node, &stale);
    uint32_t clone = NIL;
    if (w->clone && !stale && v->migration && v->phase != MIG_CLEANED
        && v->prev_node != dst) {
        clone = v->prev_node;
        w->r->extra_packets++;
    }
    w->r->sent++;
    push_lane(w, LANE_DATA, w->now + w->dl_us, EV_ARRIVE, vm, dst, clone,
              0, stale);
}

static void
on_tick(struct world *w, const struct sim_ev *ev)
{
    uint32_t s = ev->a;
    uint32_t vm = s / w->wl->k;
    if (ev->x != w->vms[vm].gen || !simulated(w, vm)) {
        return; /* the window closed since */
    }
    if (w->now >= w->wl->t_end_us) {
        return; /* past the traffic horizon */
    }
    uint32_t sender = w->wl->peers[s];
    w->cs[s] = w->now + 1;
    if (w->vms[sender].pause_start == RUNNING) {
        send_packet(w, vm, sender);
    }
    push(w, w->now + w->wl->period_us, EV_TICK, s, 0, 0, ev->x, 0);
}

static inline bool
deliverable(struct world *w, uint32_t vm, uint32_t node)
{
    const struct vm_state *v = &w->vms[vm];
    if (v->node != node || v->pause_start != RUNNING) {
        return false;
    }
    const struct agent_ent *e = agent_find(w, vm, node, NULL);
    return e && e->has_config;
}

static void
on_arrive(struct world *w, const struct sim_ev *ev)
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
    const struct agent_ent *e = agent_find(w, vm, node, NULL);
    if (e && e->relay != NIL) {
        if (ev->x + 1 >= HOP_LIMIT) {
            w->r->lost_other++;
            w->r->lost_hop_limit++;
            return;
        }
        w->r->relayed++;
        push_lane(w, LANE_DATA, w->now + w->dl_us, EV_ARRIVE, vm, e->relay,
                  NIL, (uint8_t)(ev->x + 1), ev->y);
        return;
    }
    if (w->vms[vm].pause_start != RUNNING) {
        w->r->lost_pause++;
    } else if (ev->y) {
        w->r->lost_stale++;
    } else {
        w->r->lost_other++;
    }
}

/* ---- migration windows ---- */

static void
window_open(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (v->hot) {
        return;
    }
    v->hot = 1;
    if (++w->n_hot > w->r->max_hot) {
        w->r->max_hot = w->n_hot;
    }
    if (w->exact) {
        return;
    }
    uint32_t k = w->wl->k;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t s = vm * k + i;
        flush_stream(w, s, w->now, false);
        uint64_t t = tick_at_or_after(w->now + 1,
                                      sim_stream_phase(w->wl, s),
                                      w->wl->period_us);
        if (t < w->wl->t_end_us) {
            push(w, t, EV_TICK, s, 0, 0, v->gen, 0);
        }
    }
}

static void
task_wait_add(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (v->flags & VMF_TASK_WAIT) {
        return;
    }
    if (!grow((void **)&w->task_wait, &w->cap_task_wait,
              w->n_task_wait + 1, sizeof *w->task_wait)) {
        w->nomem = true;
        return;
    }
    v->flags |= VMF_TASK_WAIT;
    w->task_wait[w->n_task_wait++] = vm;
}

/* Closes the window of 'vm' once nothing about it can change any more:
 * running, no instruction in flight, its migration CLEANED, no pending
 * core task, and every node's map holds its newest entry.  From then on
 * every packet for it goes to its node and meets the same fate. */
static void
try_cool(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (!v->hot || v->pause_start != RUNNING || v->instr_inflight
        || (v->migration && v->phase != MIG_CLEANED)
        || hist_at(w, v->hist)->version > w->v_min) {
        return;
    }
    struct core_vm_info info;
    if (!core_vm_info(w->core, vm, &info)) {
        return;
    }
    if (info.n_tasks) {
        task_wait_add(w, vm);
        return;
    }
    const struct agent_ent *e = agent_find(w, vm, v->node, NULL);
    if (e && !e->has_config) {
        return; /* a relay-only entry where it runs: keep simulating */
    }
    if (e) {
        v->flags &= (uint8_t)~VMF_LOST_COLD;
    } else {
        v->flags |= VMF_LOST_COLD;
    }
    v->hot = 0;
    w->n_hot--;
    if (!w->exact) {
        v->gen++;
    }
}

static void
recheck_task_wait(struct world *w)
{
    /* try_cool() re-adds the VMs that still wait: work on a copy. */
    uint32_t *list = w->task_wait;
    size_t n = w->n_task_wait;
    w->task_wait = NULL;
    w->n_task_wait = w->cap_task_wait = 0;
    for (size_t i = 0; i < n; i++) {
        w->vms[list[i]].flags &= (uint8_t)~VMF_TASK_WAIT;
    }
    for (size_t i = 0; i < n; i++) {
        try_cool(w, list[i]);
    }
    free(list);
}

static void
after_core(struct world *w)
{
    arm_core(w);
    uint64_t tasks = core_n_tasks(w->core);
    if (tasks != w->last_tasks && w->n_task_wait) {
        recheck_task_wait(w);
    }
    w->last_tasks = tasks;
}

/* ---- VM manager ---- */

static uint32_t
pick_dst(const struct world *w, uint32_t job, uint32_t hop, uint32_t cur)
{
    const struct sim_job *j = &w->wl->jobs[job];
    uint32_t n = w->wl->n_nodes;
    if (w->wl->p.pattern == SIM_PINGPONG && hop == 1) {
        return w->jobs[job].origin;
    }
    uint32_t lo = j->dst_lo < n ? j->dst_lo : 0;
    uint64_t h = sim_hash3(w->wl->p.seed, 0xd57 + (uint64_t)hop, job);
    uint32_t span = n - lo;
    uint32_t d = lo + (uint32_t)(h % span);
    if (d == cur) {
        d = span > 1 ? lo + (d - lo + 1) % span : (cur + 1) % n;
    }
    return d;
}

static void
job_next(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    uint32_t j = v->job;
    struct job_state *js = &w->jobs[j];
    js->done++;
    if (js->done < w->wl->jobs[j].hops) {
        push(w, w->now + w->gap_us, EV_ISSUE, j, 0, 0, 0, 0);
        return;
    }
    w->jobs_done++;
    v->job = NIL;
    if (v->wait_head != NIL) {
        uint32_t n = v->wait_head;
        v->wait_head = w->jobs[n].next;
        if (v->wait_head == NIL) {
            v->wait_tail = NIL;
        }
        v->job = n; /* reserved: keeps the plan's order on this VM */
        push(w, w->now, EV_ISSUE, n, 0, 0, 0, 0);
    }
}

static void
on_issue(struct world *w, const struct sim_ev *ev)
{
    uint32_t j = ev->a;
    const struct sim_job *job = &w->wl->jobs[j];
    uint32_t vm = job->vm;
    struct vm_state *v = &w->vms[vm];
    if (ev->x && w->next_plan < w->wl->n_jobs) {
        push(w, w->wl->jobs[w->next_plan].planned_us, EV_ISSUE,
             w->next_plan, 0, 0, 1, 0);
        w->next_plan++;
    }
    if (v->job != NIL && v->job != j) {
        w->jobs[j].next = NIL;
        if (v->wait_tail == NIL) {
            v->wait_head = j;
        } else {
            w->jobs[v->wait_tail].next = j;
        }
        v->wait_tail = j;
        return;
    }
    v->job = j;
    struct job_state *js = &w->jobs[j];
    if (js->done == 0) {
        js->origin = v->node;
    }
    uint32_t src = v->node;
    uint32_t dst = pick_dst(w, j, js->done, src);
    struct core_migrate_result res = {0};
    enum core_err err = core_migrate(w->core, vm, CORE_NONE, dst, now_ms(w),
                                     &res);
    if (err == CORE_E_IN_PROGRESS) {
        w->r->retries++;
        push(w, w->now + RETRY_US, EV_ISSUE, j, 0, 0, 0, 0);
        after_core(w);
        return;
    }
    if (err != CORE_E_OK) {
        w->r->migrate_errors++;
        after_core(w);
        job_next(w, vm);
        return;
    }
    w->r->migrations++;
    w->r->after_horizon += w->traffic_over;
    if (grow((void **)&w->mig_start, &w->mig_cap, (size_t)res.migration + 1,
             sizeof *w->mig_start) && !w->mig_start[res.migration]) {
        w->mig_start[res.migration] = w->now;
    }
    if (res.migration > v->migration) {
        v->migration = res.migration;
        v->phase = MIG_PREPARED;
    }
    /* Account traffic up to now with the old state, then change it. */
    window_open(w, vm);
    if (!w->exact) {
        const struct sim_workload *wl = w->wl;
        for (uint32_t i = wl->rev_off[vm]; i < wl->rev_off[vm + 1]; i++) {
            uint32_t s = wl->rev[i];
            if (!simulated(w, s / wl->k)) {
                flush_stream(w, s, w->now, false);
            }
        }
    }
    v->prev_node = src;
    v->node = dst;
    v->epoch = res.epoch;
    v->pause_start = w->now;
    v->flags &= (uint8_t)~VMF_PAUSE_OVER;
    vfifo_push(w, hist_at(w, v->hist)->version, vm);
    push(w, w->now + w->pause_us, EV_PAUSE_END, vm,
         (uint32_t)v->migration, 0, 0, 0);
    after_core(w);
}

static void
on_resume(struct world *w, uint32_t vm)
{
    struct vm_state *v = &w->vms[vm];
    if (v->pause_start == RUNNING) {
        return;
    }
    if (!w->exact) {
        const struct sim_workload *wl = w->wl;
        for (uint32_t i = wl->rev_off[vm]; i < wl->rev_off[vm + 1]; i++) {
            uint32_t s = wl->rev[i];
            if (!simulated(w, s / wl->k)) {
                flush_stream(w, s, w->now, false); /* skips the pause */
            }
        }
    }
    v->pause_start = RUNNING;
    w->last_progress = w->now;
    try_cool(w, vm);
    job_next(w, vm);
}

static void
on_pause_end(struct world *w, const struct sim_ev *ev)
{
    struct vm_state *v = &w->vms[ev->a];
    if (v->pause_start == RUNNING || (uint32_t)v->migration != ev->b) {
        return;
    }
    if (v->phase != MIG_PREPARED) {
        on_resume(w, ev->a);
    } else {
        v->flags |= VMF_PAUSE_OVER;
    }
}

/* ---- control plane ---- */

static void
on_instr(struct world *w, const struct sim_ev *ev)
{
    struct instr_rec in = *instr_at(w, ev->a);
    pool_free(&w->instr, ev->a);
    w->ctl_inflight--;
    struct core_config const *cfg = core_get_config(w->core);
    agent_apply(w, &in, cfg->epoch_guard);
    struct vm_state *v = &w->vms[in.vm];
    v->instr_inflight--;
    /* The agent acknowledges every instruction it processed. */
    w->r->control_messages++;
    w->ctl_inflight++;
    push_lane(w, LANE_CTL, w->now + w->lat_us, EV_ACK, in.node,
              (uint32_t)in.seq, (uint32_t)(in.seq >> 32), 0, 0);
    if (!v->instr_inflight) {
        try_cool(w, in.vm);
    }
}

static void
on_ack(struct world *w, const struct sim_ev *ev)
{
    w->ctl_inflight--;
    uint64_t seq = (uint64_t)ev->c << 32 | ev->b;
    if (core_node_ack(w->core, ev->a, seq, now_ms(w)) != CORE_E_OK) {
        w->r->core_errors++;
    }
    after_core(w);
}

static void
on_report(struct world *w, const struct sim_ev *ev)
{
    uint64_t version = (uint64_t)ev->c << 32 | ev->b;
    if (core_node_refresh(w->core, ev->a, version, now_ms(w))
        != CORE_E_OK) {
        w->r->core_errors++;
    }
    after_core(w);
}

static void
on_refresh(struct world *w, uint32_t n)
{
    uint64_t version = core_map_version(w->core);
    uint64_t old = w->applied[n];
    if (version > old) {
        w->applied[n] = version;
        vcount_move(w, old, version);
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
    while (w->vfifo.n
           && w->vfifo.version[w->vfifo.head] <= w->v_min) {
        uint32_t vm = w->vfifo.vm[w->vfifo.head];
        w->vfifo.head = (w->vfifo.head + 1) % w->vfifo.cap;
        w->vfifo.n--;
        try_cool(w, vm);
    }
}

static void
on_core(struct world *w, const struct sim_ev *ev)
{
    if (ev->t != w->core_timer_at) {
        return;
    }
    w->core_timer_at = UINT64_MAX;
    core_run(w->core, now_ms(w));
    arm_core_at(w, true);
    after_core(w);
}

/* ---- the run ---- */

/* Traffic stops.  From here on a packet could only meet another fate
 * than delivery if some node's map were stale, a VM paused, or a move or
 * a wrong deletion still to come: count those (0 = every loss of the
 * workload was counted; docs/simulator.md, "The traffic horizon"). */
static void
on_horizon(struct world *w)
{
    w->traffic_over = true;
    uint64_t version = core_map_version(w->core);
    for (uint32_t n = 0; n < w->wl->n_nodes; n++) {
        w->r->after_horizon += w->applied[n] < version;
    }
    for (uint32_t v = 0; v < w->wl->n_vms; v++) {
        w->r->after_horizon += w->vms[v].pause_start != RUNNING;
    }
}

/* Ends the run, never before the traffic horizon, once nothing can change
 * any more, or gives up when no VM has resumed for drain-ms after the last
 * planned job (windows that never close, jobs stuck behind a migration
 * that never gets ready). */
static void
check_end(struct world *w)
{
    if (w->ending || !w->traffic_over) {
        return;
    }
    const struct sim_workload *wl = w->wl;
    bool quiet = w->jobs_done == wl->n_jobs && w->n_hot == 0
                 && w->ctl_inflight == 0 && core_n_tasks(w->core) == 0;
    uint64_t since = w->last_progress;
    if (wl->n_jobs && wl->jobs[wl->n_jobs - 1].planned_us > since) {
        since = wl->jobs[wl->n_jobs - 1].planned_us;
    }
    bool give_up = w->next_plan >= wl->n_jobs
                   && w->now >= since + (uint64_t)w->p->drain_ms * 1000;
    if (quiet || give_up) {
        w->ending = true;
        w->t_stop = w->now + 1;
    }
}

static void
progress(struct world *w)
{
    if (!w->hooks || !w->hooks->progress || !w->hooks->wall_us) {
        return;
    }
    uint64_t t = w->hooks->wall_us(w->hooks->aux);
    if (t - w->wall_last >= 500000 && t - w->wall0 >= 1000000) {
        w->wall_last = t;
        w->hooks->progress(w->hooks->aux, w->r->strategy,
                           (w->now - w->wl->t_start_us) / 1000,
                           w->r->migrations, w->wl->n_hops, w->r->events);
    }
}

static void
dispatch(struct world *w, const struct sim_ev *ev)
{
    switch ((enum ev_type)ev->type) {
    case EV_TICK:
        on_tick(w, ev);
        break;
    case EV_ARRIVE:
        on_arrive(w, ev);
        break;
    case EV_INSTR:
        on_instr(w, ev);
        break;
    case EV_ACK:
        on_ack(w, ev);
        break;
    case EV_REPORT:
        on_report(w, ev);
        break;
    case EV_REFRESH:
        on_refresh(w, ev->a);
        check_end(w);
        break;
    case EV_CORE:
        on_core(w, ev);
        break;
    case EV_ISSUE:
        on_issue(w, ev);
        break;
    case EV_PAUSE_END:
        on_pause_end(w, ev);
        break;
    case EV_RESUME:
        on_resume(w, ev->a);
        break;
    case EV_CHECK:
        try_cool(w, ev->a);
        break;
    case EV_HORIZON:
        on_horizon(w);
        break;
    }
}

static void
loop(struct world *w)
{
    struct sim_ev ev;
    while (!w->nomem && sim_evq_pop(&w->q, &ev)) {
        w->now = ev.t;
        if (w->ending && ev.t >= w->t_stop) {
            /* Draining: only packets already on the wire still count. */
            if (ev.type == EV_ARRIVE) {
                on_arrive(w, &ev);
            }
            continue;
        }
        w->r->events++;
        dispatch(w, &ev);
        if ((w->r->events & 0xffff) == 0) {
            progress(w);
        }
    }
}

static int
setup(struct world *w, char *err, size_t errlen)
{
    const struct sim_workload *wl = w->wl;
    w->setup = true;
    w->now = wl->t_base_us;
    char name[32];
    char addr[32];
    for (uint32_t n = 0; n < wl->n_nodes; n++) {
        snprintf(name, sizeof name, "n%" PRIu32, n);
        snprintf(addr, sizeof addr, "198.%u.%u.%u", 18 + (n >> 16),
                 (n >> 8) & 0xff, n & 0xff);
        uint64_t refresh = wl->node_base_us[n] / w->refresh_div / 1000;
        uint32_t idx = 0;
        enum core_err e = core_node_add(w->core, name, addr,
                                        (uint32_t)(refresh ? refresh : 1),
                                        now_ms(w), &idx);
        if (e != CORE_E_OK || idx != n) {
            snprintf(err, errlen, "core_node_add(%s): %s", name,
                     core_strerror(e));
            return EIO;
        }
    }
    for (uint32_t v = 0; v < wl->n_vms; v++) {
        struct mn_config cfg = {0};
        cfg.mac[0] = 0x02;
        cfg.mac[2] = (uint8_t)(v >> 24);
        cfg.mac[3] = (uint8_t)(v >> 16);
        cfg.mac[4] = (uint8_t)(v >> 8);
        cfg.mac[5] = (uint8_t)v;
        cfg.ip = (198u << 24 | 18u << 16) + (v % 131070) + 1;
        cfg.vni = 1000;
        snprintf(name, sizeof name, "vm%" PRIu32, v);
        w->vms[v].node = wl->home[v];
        uint32_t idx = 0;
        enum core_err e = core_vm_add(w->core, name, &cfg, wl->home[v],
                                      now_ms(w), &idx);
        if (e != CORE_E_OK || idx != v) {
            snprintf(err, errlen, "core_vm_add(%s): %s", name,
                     core_strerror(e));
            return EIO;
        }
        if (w->vms[v].hist == NIL) {
            snprintf(err, errlen, "core_vm_add(%s) left no map entry",
                     name);
            return EIO;
        }
    }
    for (uint32_t n = 0; n < wl->n_nodes; n++) {
        if (w->setup_seq[n]
            && core_node_ack(w->core, n, w->setup_seq[n], now_ms(w))) {
            snprintf(err, errlen, "core_node_ack(n%" PRIu32 ") failed", n);
            return EIO;
        }
    }
    /* Every node starts with the whole map. */
    w->v_base = w->v_min = core_map_version(w->core);
    if (!grow((void **)&w->vcount, &w->vcount_cap, 1, sizeof *w->vcount)) {
        return ENOMEM;
    }
    w->vcount[0] = wl->n_nodes;
    for (uint32_t n = 0; n < wl->n_nodes; n++) {
        w->applied[n] = w->v_base;
        sim_rng_init(&w->node_rng[n], sim_hash3(wl->p.seed, 0xf5e, n));
        push(w, wl->t_base_us + wl->node_phase_us[n] / w->refresh_div,
             EV_REFRESH, n, 0, 0, 0, 0);
    }
    w->r->core_bytes = core_memory_bytes(w->core);
    w->setup = false;
    return w->nomem ? ENOMEM : 0;
}

static int
world_alloc(struct world *w)
{
    const struct sim_workload *wl = w->wl;
    size_t ns = (size_t)wl->n_vms * wl->k;
    w->vms = calloc(wl->n_vms, sizeof *w->vms);
    w->cs = calloc(ns ? ns : 1, sizeof *w->cs);
    w->jobs = calloc(wl->n_jobs ? wl->n_jobs : 1, sizeof *w->jobs);
    w->applied = calloc(wl->n_nodes, sizeof *w->applied);
    w->setup_seq = calloc(wl->n_nodes, sizeof *w->setup_seq);
    w->node_rng = calloc(wl->n_nodes, sizeof *w->node_rng);
    if (!w->vms || !w->cs || !w->jobs || !w->applied || !w->setup_seq
        || !w->node_rng) {
        return ENOMEM;
    }
    for (uint32_t v = 0; v < wl->n_vms; v++) {
        struct vm_state *s = &w->vms[v];
        s->pause_start = RUNNING;
        s->prev_node = NIL;
        s->hist = s->agent = NIL;
        s->job = s->wait_head = s->wait_tail = NIL;
    }
    for (size_t s = 0; s < ns; s++) {
        w->cs[s] = wl->t_start_us;
    }
    for (uint32_t j = 0; j < wl->n_jobs; j++) {
        w->jobs[j].next = NIL;
    }
    return 0;
}

static void
world_free(struct world *w)
{
    core_destroy(w->core);
    sim_evq_destroy(&w->q);
    free(w->vms);
    free(w->cs);
    free(w->jobs);
    free(w->applied);
    free(w->setup_seq);
    free(w->node_rng);
    free(w->vcount);
    free(w->vfifo.version);
    free(w->vfifo.vm);
    free(w->task_wait);
    free(w->mig_start);
    free(w->samples);
    pool_destroy(&w->hist);
    pool_destroy(&w->agent);
    pool_destroy(&w->instr);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double
percentile_ms(const uint64_t *sorted, size_t n, double q)
{
    if (!n) {
        return 0;
    }
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1) {
        rank = 1;
    }
    return (double)sorted[rank - 1] / 1000.0;
}

static void
finish(struct world *w)
{
    const struct sim_workload *wl = w->wl;
    struct sim_result *r = w->r;
    uint64_t t_stop = w->ending ? w->t_stop : w->now + 1;
    /* Streams of cold receivers: every tick before the horizon (flushes
     * stop there), settled. */
    size_t ns = (size_t)wl->n_vms * wl->k;
    for (size_t s = 0; s < ns; s++) {
        if (!simulated(w, (uint32_t)(s / wl->k))) {
            flush_stream(w, (uint32_t)s, t_stop, true);
        }
    }
    if (w->n_samples) {
        qsort(w->samples, w->n_samples, sizeof *w->samples, cmp_u64);
    }
    r->cleanup_p50_ms = percentile_ms(w->samples, w->n_samples, 0.50);
    r->cleanup_p99_ms = percentile_ms(w->samples, w->n_samples, 0.99);
    r->cleanup_max_ms = percentile_ms(w->samples, w->n_samples, 1.0);
    r->wrong_deletions = r->wrong_core > r->wrong_agent ? r->wrong_core
                                                        : r->wrong_agent;
    r->planned = wl->n_hops;
    r->tasks_left = core_n_tasks(w->core);
    r->jobs_unfinished = wl->n_jobs - w->jobs_done;
    r->hot_left = w->n_hot;
    r->sim_ms = t_stop > wl->t_start_us ? (t_stop - wl->t_start_us) / 1000
                                       : 0;
    r->horizon_ms = (wl->t_end_us - wl->t_start_us) / 1000;
    r->after_horizon += w->late_wrong_core > w->late_wrong_agent
                            ? w->late_wrong_core
                            : w->late_wrong_agent;
    struct core_stats st = {0};
    core_get_stats(w->core, &st);
    r->relays_retargeted = st.relays_retargeted;
}

/* Core switches of 'strategy' plus what the simulated network implies. */
static bool
strategy_config(const struct sim_params *p, const char *strategy,
                struct core_config *cfg)
{
    if (!core_config_strategy(cfg, strategy)) {
        return false;
    }
    /* The operator sizes the propagation bounds to the network. */
    uint32_t hops_ms = (uint32_t)((uint64_t)p->data_latency_us * HOP_LIMIT
                                  / 1000) + 1;
    uint32_t prop = (uint32_t)ceil(2 * p->latency_ms) + hops_ms;
    if (cfg->propagation_ms < prop) {
        cfg->propagation_ms = prop;
    }
    if (cfg->inflight_ms < hops_ms) {
        cfg->inflight_ms = hops_ms;
    }
    if (!strcmp(strategy, "fixed") && p->fixed_delay_ms >= 0) {
        cfg->fixed_delay_ms = (uint32_t)p->fixed_delay_ms;
    }
    if (!strcmp(strategy, "clone")) {
        cfg->fixed_delay_ms = p->pause_ms;
    }
    return true;
}

int
sim_run(const struct sim_workload *wl, const char *strategy,
        const struct sim_hooks *hooks, struct sim_result *r, char *err,
        size_t errlen)
{
    memset(r, 0, sizeof *r);
    snprintf(r->strategy, sizeof r->strategy, "%s", strategy);
    struct core_config cfg;
    if (!strategy_config(&wl->p, strategy, &cfg)) {
        snprintf(err, errlen, "unknown strategy '%s'", strategy);
        return EINVAL;
    }
    struct world *w = calloc(1, sizeof *w);
    if (!w) {
        return ENOMEM;
    }
    w->wl = wl;
    w->p = &wl->p;
    w->hooks = hooks;
    w->r = r;
    w->exact = wl->p.exact;
    w->clone = !strcmp(strategy, "clone");
    w->refresh_div = !strcmp(strategy, "fast-refresh") ? wl->p.fast_factor
                                                       : 1;
    w->lat_us = (uint64_t)llround(wl->p.latency_ms * 1000.0);
    w->dl_us = wl->p.data_latency_us;
    w->pause_us = (uint64_t)wl->p.pause_ms * 1000;
    w->gap_us = (uint64_t)wl->p.gap_ms * 1000;
    w->core_timer_at = UINT64_MAX;
    sim_evq_init(&w->q);
    pool_init(&w->hist, sizeof(struct hist_ent));
    pool_init(&w->agent, sizeof(struct agent_ent));
    pool_init(&w->instr, sizeof(struct instr_rec));

    int rc = world_alloc(w);
    if (!rc) {
        struct core_sink sink = {
            .instr = sink_instr,
            .migration = sink_migration,
            .map_change = sink_map_change,
            .wrong_delete = sink_wrong_delete,
            .aux = w,
        };
        w->core = core_create(&cfg, NULL, &sink);
        rc = w->core ? setup(w, err, errlen) : ENOMEM;
    }
    if (!rc) {
        if (hooks && hooks->wall_us) {
            w->wall0 = w->wall_last = hooks->wall_us(hooks->aux);
        }
        /* Before the run's events, so it precedes those at its time. */
        push(w, wl->t_end_us, EV_HORIZON, 0, 0, 0, 0, 0);
        if (w->exact) {
            for (size_t s = 0; s < (size_t)wl->n_vms * wl->k; s++) {
                uint64_t t = tick_at_or_after(wl->t_start_us,
                                              sim_stream_phase(wl, s),
                                              wl->period_us);
                if (t < wl->t_end_us) {
                    push(w, t, EV_TICK, (uint32_t)s, 0, 0, 0, 0);
                }
            }
        }
        if (wl->n_jobs) {
            push(w, wl->jobs[0].planned_us, EV_ISSUE, 0, 0, 0, 1, 0);
            w->next_plan = 1;
        }
        w->last_progress = wl->t_start_us;
        arm_core(w);
        loop(w);
        rc = w->nomem ? ENOMEM : 0;
    }
    if (!rc) {
        finish(w);
        if (hooks && hooks->wall_us) {
            r->wall_ms = (double)(hooks->wall_us(hooks->aux) - w->wall0)
                         / 1000.0;
        }
    }
    if (rc == ENOMEM) {
        snprintf(err, errlen, "out of memory");
    }
    world_free(w);
    free(w);
    return rc;
}
