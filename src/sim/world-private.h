/* world-private.h: what the files of one simulated data centre share.
 *
 * struct world and its records, the event types, the cross-file functions
 * of world.c (the run), world_traffic.c (data plane), world_control.c
 * (agents, sinks, control channel) and world_vmm.c (VM manager, migration
 * windows), and the hot-path helpers as static inline so they still inline
 * across those files.  Only src/sim/world*.c may include it. */
#ifndef MIGNET_SIM_WORLD_PRIVATE_H
#define MIGNET_SIM_WORLD_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/core.h"
#include "sim/evq.h"
#include "sim/simulator.h"
#include "sim/workload.h"

struct sim_rng;

#define NIL UINT32_MAX
#define RUNNING UINT64_MAX
#define HOP_LIMIT 8

/* At one instant the data plane goes first: ticks and arrivals see the
 * state from before every other event of that instant.  Counting cold
 * streams by arithmetic relies on that rule (world_flush_stream). */
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
    EV_PUSH,      /* the controller sends the map to every node */
    EV_PUSH_IN,   /* b: version (low), c: version (high): nodes apply it */
    EV_VACK,      /* b, c: version: every node's version ack arrives */
    /* The lifecycle of the modes but `now` (world_vmm.c). */
    EV_PRECOPY_END, /* a: vm, b: migration id (low): the pause is due */
    EV_PAUSE_START, /* a: vm, b: migration id (low) */
    EV_ABORT,       /* a: vm, b: migration id (low): the VMM cancels */
    EV_ACTIVATED,   /* a: vm, b: node, c: epoch (low): report arrives */
};

/* How nodes learn map changes besides polling (docs/simulator.md). */
enum push_mode {
    PUSH_NONE,  /* polls only */
    PUSH_MAP,   /* push: coalesced pushes, version acks, polls go on */
    PUSH_OVN,   /* ovn: every change pushed, no acks, no polls */
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
    uint8_t has_config;
    uint8_t inactive; /* a prepared copy: attracts nothing */
    uint8_t on_frame; /* activate_on_frame: watches the VM's port */
    uint8_t reported; /* ... and sent `activated` for this epoch */
};

#define INSTRF_INACTIVE 0x1
#define INSTRF_ON_FRAME 0x2

struct instr_rec {
    uint64_t seq, epoch;
    uint32_t node, vm, target;
    uint16_t kind;
    uint16_t flags; /* INSTRF_* */
};

/* Packets a lossless destination holds for a VM that does not run there
 * yet (the tap's queue), delivered when it resumes. */
struct queue_rec {
    uint32_t next_free; /* the pool's free list */
    uint32_t n;
    uint64_t first_us; /* arrival of the oldest */
    uint64_t sum_us;   /* of the arrival times */
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
#define VMF_ACT_GAP 0x08    /* resumed on dst before the source relays */
#define VMF_HOLD 0x10       /* lossless: pause held until RELAYING */

struct vm_state {
    uint64_t pause_start;  /* RUNNING when not paused */
    uint64_t dual_until;   /* ovn: packets cloned to prev_node before */
    uint64_t migration;    /* latest migration id, 0 = none */
    uint64_t epoch;        /* of its placement on 'node' */
    uint32_t node;         /* where it runs or will resume */
    uint32_t prev_node;    /* source of the latest migration */
    uint32_t dst;          /* the VM manager's migration in flight: its
                              destination until the VM resumed, or NIL */
    uint32_t queue;        /* queue_rec at 'dst' or NIL */
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
    enum push_mode push_mode;
    bool poll;        /* nodes poll the gateway (all but ovn) */
    bool push_dirty;  /* the map changed since the last push */
    bool push_armed;  /* an EV_PUSH is queued */
    uint64_t push_us, push_last; /* interval; when the last push left */
    uint8_t *subscribed; /* [node]: its channel takes pushes */
    uint32_t n_subscribed;
    uint32_t refresh_div;
    uint64_t lat_us, dl_us, pause_us, gap_us;
    enum mig_switchover sw; /* the VM manager's mode */
    uint64_t precopy_us;
    uint64_t queued_now;    /* packets in lossless queues */
    uint64_t queued_delay_sum_us, queued_delay_max_us;

    struct vm_state *vms;
    uint64_t *cs; /* [stream] ticks before this time are accounted */
    struct job_state *jobs;
    struct pool hist, agent, instr, queue;

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
    uint64_t series_us; /* --plot: loss bucket width (0: no series) */
    size_t cap_series;  /* of r->lost_series */

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

static inline uint32_t
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

static inline void
pool_free(struct pool *p, uint32_t i)
{
    memcpy(p->mem + (size_t)i * p->size, &p->free_head, sizeof i);
    p->free_head = i;
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

static inline struct queue_rec *
queue_at(struct world *w, uint32_t i)
{
    return (struct queue_rec *)(void *)(w->queue.mem + (size_t)i
                                        * sizeof(struct queue_rec));
}

/* ---- small helpers ---- */

static inline uint64_t
now_ms(const struct world *w)
{
    return w->now / 1000;
}

static inline void
push(struct world *w, uint64_t t, uint8_t type, uint32_t a, uint32_t b,
     uint32_t c, uint8_t x, uint16_t y)
{
    struct sim_ev ev = {.t = t, .a = a, .b = b, .c = c, .type = type,
                        .x = x, .y = y, .rank = type > EV_ARRIVE};
    if (sim_evq_push(&w->q, &ev)) {
        w->nomem = true;
    }
}

static inline void
push_lane(struct world *w, int lane, uint64_t t, uint8_t type, uint32_t a,
          uint32_t b, uint32_t c, uint8_t x, uint16_t y)
{
    struct sim_ev ev = {.t = t, .a = a, .b = b, .c = c, .type = type,
                        .x = x, .y = y, .rank = type > EV_ARRIVE};
    if (sim_evq_push_lane(&w->q, lane, &ev)) {
        w->nomem = true;
    }
}

static inline bool
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

/* ---- the agent model: what a node holds for a VM ---- */

static inline struct agent_ent *
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

/* ---- stream ticks ---- */

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

/* ---- the data plane's hot path ----
 *
 * A tick sends one packet by the sender's node's copy of the map.  Here,
 * not in world_traffic.c, so that dispatch() inlines it as it did when the
 * world was one file. */

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

static inline void
send_packet(struct world *w, uint32_t vm, uint32_t sender)
{
    const struct vm_state *v = &w->vms[vm];
    bool stale;
    uint32_t dst = view_of(w, vm, w->vms[sender].node, &stale);
    uint32_t clone = NIL;
    if (!stale && v->migration && v->prev_node != dst
        && ((w->clone && v->phase != MIG_CLEANED)
            || w->now < v->dual_until)) {
        clone = v->prev_node;
        w->r->extra_packets++;
    }
    w->r->stale_sent += stale;
    w->r->sent++;
    push_lane(w, LANE_DATA, w->now + w->dl_us, EV_ARRIVE, vm, dst, clone,
              0, stale);
}

static inline void
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

/* ---- world_traffic.c: map copies and the data plane ---- */

void world_hist_add(struct world *, uint32_t vm, uint32_t node,
                    uint64_t version);
void world_vcount_move(struct world *, uint64_t from, uint64_t to);
void world_vfifo_push(struct world *, uint64_t version, uint32_t vm);
void world_flush_stream(struct world *, uint32_t s, uint64_t t, bool settle);
void world_on_arrive(struct world *, const struct sim_ev *);
/* Counts 'n' packets lost at 't_us' in the run's loss time series
 * (--plot); nothing without one. */
void world_series_lost(struct world *, uint64_t t_us, uint64_t n);

/* ---- world_control.c: agents, core sinks, control channel ---- */

void world_arm_core(struct world *);
void world_sink_instr(void *aux, const struct core_instr *);
void world_sink_migration(void *aux, const struct core_migration *);
void world_sink_map_change(void *aux, uint32_t vm, uint32_t node,
                           bool removed, uint64_t version);
void world_sink_wrong_delete(void *aux, uint32_t vm, uint32_t node);
void world_on_instr(struct world *, const struct sim_ev *);
void world_on_ack(struct world *, const struct sim_ev *);
void world_on_report(struct world *, const struct sim_ev *);
void world_on_refresh(struct world *, uint32_t n);
void world_on_core(struct world *, const struct sim_ev *);
void world_on_push(struct world *);
void world_on_push_in(struct world *, const struct sim_ev *);
void world_on_vack(struct world *, const struct sim_ev *);
void world_on_activated(struct world *, const struct sim_ev *);
/* The VM's first frame at 'node' (it resumed there): an agent watching
 * for it activates its copy and reports `activated`. */
void world_frame_seen(struct world *, uint32_t vm, uint32_t node);

/* ---- world_vmm.c: migration windows and the VM manager ---- */

void world_try_cool(struct world *, uint32_t vm);
void world_after_core(struct world *);
void world_on_issue(struct world *, const struct sim_ev *);
void world_on_resume(struct world *, uint32_t vm);
void world_on_pause_end(struct world *, const struct sim_ev *);
void world_on_precopy_end(struct world *, const struct sim_ev *);
void world_on_pause_start(struct world *, const struct sim_ev *);
void world_on_abort(struct world *, const struct sim_ev *);
/* The lossless queue of 'vm' at 'node', if it holds the packet. */
bool world_queue_packet(struct world *, uint32_t vm, uint32_t node);

#endif /* sim/world-private.h */
