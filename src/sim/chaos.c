/* chaos.c: one fault run of `mignet sim` (docs/simulator.md, "Faults").
 *
 * Nodes, agents, VMs and packets around the real core with the in-memory
 * store; every control message passes one delivery function where the
 * faults are drawn (the core never sees them), and every event that can
 * break an invariant checks it at once, recording the first violation. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mignet/config.h"
#include "mignet/core.h"
#include "mignet/store.h"
#include "sim/chaos.h"
#include "sim/evq.h"
#include "sim/rng.h"

#define NIL UINT32_MAX
#define HOPS_MAX 8

enum {
    EV_TICK, EV_ARRIVE, /* the data plane first at an instant */
    EV_DOWN, EV_UP, EV_POLL, EV_ANSWER, EV_CORE, EV_MIGRATE,
    EV_FAULT, EV_RECONNECT, EV_CTL_UP, EV_RESUME,
    /* The lifecycle of the modes but `now`: a: vm, b: migration (low). */
    EV_PRECOPY, EV_PAUSE_END, EV_SWITCH, EV_ABORT,
    EV_BREAK, /* a: node, b: session (low), c: reconnect after, ms */
};

/* Where the VM manager is with a VM's migration. */
enum vm_stage {
    ST_IDLE,    /* runs, no migration in hand */
    ST_PRECOPY, /* runs on its source, the destination prepared */
    ST_HOLD,    /* lossless: switched, the pause waits for RELAYING */
    ST_PAUSED,  /* stopped */
    ST_SWITCH,  /* runs on its destination; the switch-over call is due */
};

#define INF_INACTIVE 0x1
#define INF_ON_FRAME 0x2

enum msg_kind { M_INSTR, M_RESYNC, M_ACK, M_REPORT };

struct minstr {
    uint8_t kind;
    uint8_t flags; /* INF_* */
    uint32_t vm, target;
    uint64_t seq, epoch;
};

struct msg {
    uint8_t kind;
    uint8_t refs;
    uint32_t node;
    uint64_t gen;   /* the session it travels on */
    uint64_t value; /* ack seq, report version */
    struct minstr in;
    struct minstr *batch; /* resync */
    size_t n_batch;
};

struct hent {
    uint64_t version, t_us;
    uint32_t node;
};

struct vmx {
    struct hent *h;
    size_t nh, caph;
    uint32_t node;
    bool paused;
    uint64_t pause_end, mig;
    uint32_t dst, src;
    uint8_t stage, mode; /* enum vm_stage; the migration's switchover */
};

struct ent {
    uint64_t epoch;
    uint32_t relay;
    uint8_t has;
    uint8_t inactive; /* a prepared copy: attracts nothing */
};

/* A scheduled fault: kind, start, duration, node(s). */
struct sched {
    uint8_t kind;
    uint64_t t_us, dur_us;
    uint32_t node, node2;
    uint64_t set; /* partition: bit per node (first 64) */
};

/* The pending tasks before a crash (I7). */
struct task_set {
    struct core_task_info *t;
    size_t n, cap;
};

struct pend {
    uint32_t node, vm;
    uint64_t epoch;
};

struct cw {
    const struct chaos_params *p;
    struct chaos_result *r;
    struct core_config cfg;
    struct core_sink sink;
    struct store *store;
    struct core *core;
    struct sim_evq q;
    uint64_t now, lat_us, dl_us, t_quiet, t_end, core_at;
    struct sim_rng rng, frng; /* workload; faults */
    struct vmx *vm;
    struct ent *ent; /* [node * vms + vm] */
    uint32_t *peers;
    uint64_t *applied, *gen, *heard, *fifo_down, *fifo_up;
    uint64_t *frozen_until, *down_until, *cut_until, *sess_since;
    uint64_t *wrote_down, *wrote_up; /* instant of the last write, + 1 */
    uint64_t *seen_since_load; /* highest version reported since */
    uint64_t ctl_since; /* the controller's last start */
    uint8_t *sess, *restarted;
    uint8_t *synced; /* the session's resync reached the agent */
    bool ctl_up, crash_armed;
    uint64_t *ovl_until; /* [a * nodes + b] */
    struct minstr *out;
    uint32_t *out_node;
    size_t n_out, cap_out;
    struct msg *msgs;
    size_t n_msgs, cap_msgs;
    uint32_t *free_msgs;
    size_t n_free;
    struct sched *sc;
    size_t n_sc;
    uint64_t seed;
    struct task_set crash_tasks;
    char dir[64], db[96]; /* --store sqlite: a temporary file */
    struct pend *pend; /* deletions to judge at the instant's end */
    size_t n_pend, cap_pend;
    bool nomem;
};

const char *const chaos_fault_names[CHAOS_N_FAULTS] = {
#define CHAOS_FAULT(ENUM, NAME) NAME,
    CHAOS_FAULTS
#undef CHAOS_FAULT
};

/* ---- plumbing ---- */

static void
push(struct cw *w, uint64_t t, uint8_t type, uint32_t a, uint32_t b,
     uint32_t c, uint8_t x, uint16_t y)
{
    struct sim_ev ev = {.t = t, .a = a, .b = b, .c = c, .type = type,
                        .x = x, .y = y, .rank = type > EV_ARRIVE};
    if (sim_evq_push(&w->q, &ev)) {
        w->nomem = true;
    }
}

static uint64_t
now_ms(const struct cw *w)
{
    return w->now / 1000;
}

static void
violation(struct cw *w, const char *what, uint32_t vm, uint32_t node,
          uint32_t other)
{
    if (!w->r->violations++) {
        /* For a stale node: how long the controller has not heard it
         * (what the silence-hold rule looks at). */
        char heard[64] = "";
        if (other < w->p->nodes && w->heard) {
            snprintf(heard, sizeof heard, ", other node %" PRIu32
                     " heard %" PRIu64 " ms ago", other,
                     (w->now - w->heard[other]) / 1000);
        }
        snprintf(w->r->first, sizeof w->r->first,
                 "t=%" PRIu64 ".%03" PRIu64 " ms %s (vm %" PRId64
                 ", node %" PRId64 "%s)", w->now / 1000, w->now % 1000,
                 what, vm == NIL ? (int64_t)-1 : (int64_t)vm,
                 node == NIL ? (int64_t)-1 : (int64_t)node, heard);
    }
}

static struct ent *
ent_at(struct cw *w, uint32_t node, uint32_t vm)
{
    return &w->ent[(size_t)node * w->p->vms + vm];
}

/* Is the controller cut from 'n' (partition), or the agent down? */
static bool
unreachable(const struct cw *w, uint32_t n)
{
    return !w->ctl_up || w->now < w->cut_until[n]
           || w->now < w->down_until[n];
}

static bool
overlay_cut(const struct cw *w, uint32_t a, uint32_t b)
{
    return a != b && w->now < w->ovl_until[(size_t)a * w->p->nodes + b];
}

/* ---- sinks: the controller's outbox ---- */

static void
sink_instr(void *aux, const struct core_instr *ci)
{
    struct cw *w = aux;
    if (w->n_out == w->cap_out) {
        size_t cap = w->cap_out ? w->cap_out * 2 : 64;
        struct minstr *o = realloc(w->out, cap * sizeof *o);
        uint32_t *on = o ? realloc(w->out_node, cap * sizeof *on) : NULL;
        if (o) {
            w->out = o;
        }
        if (!on) {
            w->nomem = true;
            return;
        }
        w->out_node = on;
        w->cap_out = cap;
    }
    w->out[w->n_out] = (struct minstr){
        .kind = (uint8_t)ci->kind, .vm = ci->vm, .target = ci->target,
        .flags = (uint8_t)((ci->inactive ? INF_INACTIVE : 0)
                           | (ci->activate_on_frame ? INF_ON_FRAME : 0)),
        .seq = ci->seq, .epoch = ci->epoch};
    w->out_node[w->n_out++] = ci->node;
}

static void
sink_map_change(void *aux, uint32_t vm, uint32_t node, bool removed,
                uint64_t version)
{
    struct cw *w = aux;
    if (removed || vm >= w->p->vms) {
        return;
    }
    struct vmx *v = &w->vm[vm];
    if (v->nh && v->h[v->nh - 1].version >= version) {
        violation(w, "map version went back", vm, node, NIL);
        return;
    }
    if (v->nh == v->caph) {
        size_t cap = v->caph ? v->caph * 2 : 8;
        struct hent *h = realloc(v->h, cap * sizeof *h);
        if (!h) {
            w->nomem = true;
            return;
        }
        v->h = h;
        v->caph = cap;
    }
    v->h[v->nh++] = (struct hent){version, w->now, node};
}

static void
sink_wrong_delete(void *aux, uint32_t vm, uint32_t node)
{
    struct cw *w = aux;
    (void)vm;
    (void)node;
    w->r->wrong_deletions++;
}

/* ---- messages and the faults of delivery ---- */

static uint32_t
msg_new(struct cw *w)
{
    if (w->n_free) {
        return w->free_msgs[--w->n_free];
    }
    if (w->n_msgs == w->cap_msgs) {
        size_t cap = w->cap_msgs ? w->cap_msgs * 2 : 256;
        struct msg *m = realloc(w->msgs, cap * sizeof *m);
        uint32_t *f = m ? realloc(w->free_msgs, cap * sizeof *f) : NULL;
        if (m) {
            w->msgs = m;
        }
        if (!f) {
            w->nomem = true;
            return NIL;
        }
        w->free_msgs = f;
        w->cap_msgs = cap;
    }
    return (uint32_t)w->n_msgs++;
}

static void
msg_put(struct cw *w, uint32_t i)
{
    struct msg *m = &w->msgs[i];
    if (--m->refs == 0) {
        free(m->batch);
        m->batch = NULL;
        w->free_msgs[w->n_free++] = i;
    }
}

static void session_drop(struct cw *w, uint32_t n, uint64_t retry_us);

/* Sends message 'i' on node n's session, down (to the agent) or up: the
 * faults are drawn here.  A lost message breaks the session (TCP cannot
 * lose one and go on): the agent reconnects and is resynced.  Reordering
 * is a delay spike that holds the session's queue (a session stays FIFO);
 * a duplicate arrives right behind the original. */
static void
send_msg(struct cw *w, uint32_t i, bool down)
{
    struct msg *m = &w->msgs[i];
    uint32_t n = m->node;
    const struct chaos_params *p = w->p;
    bool faults = w->now < w->t_quiet;
    if (!w->sess[n] || unreachable(w, n)) {
        msg_put(w, i);
        return;
    }
    uint64_t *fifo = down ? &w->fifo_down[n] : &w->fifo_up[n];
    uint64_t *wrote = down ? &w->wrote_down[n] : &w->wrote_up[n];
    /* What one instant writes on a session is one write: it arrives
     * whole or not at all, together (a spike delays all of it). */
    bool more = *wrote == w->now + 1;
    if (!more && faults && p->loss > 0
        && sim_rng_unit(&w->frng) < p->loss) {
        w->r->faults[CHAOS_LOSS]++;
        msg_put(w, i);
        /* The session breaks once this instant is over: what reached
         * either side at this instant was read. */
        push(w, w->now + 1, EV_BREAK, n, (uint32_t)w->gen[n],
             (uint32_t)(50 + sim_rng_below(&w->frng, 450)), 0, 0);
        return;
    }
    uint64_t t = w->now + w->lat_us;
    if (more && *fifo >= t) {
        t = *fifo;
    } else if (faults && p->reorder > 0
               && sim_rng_unit(&w->frng) < p->reorder) {
        w->r->faults[CHAOS_REORDER]++;
        t += 1 + sim_rng_below(&w->frng, 8 * w->lat_us);
    }
    if (t < *fifo) {
        t = *fifo;
    }
    *fifo = t;
    *wrote = w->now + 1;
    push(w, t, down ? EV_DOWN : EV_UP, i, 0, 0, 0, 0);
    if (faults && p->dup > 0 && sim_rng_unit(&w->frng) < p->dup) {
        w->r->faults[CHAOS_DUP]++;
        m->refs++;
        push(w, t, down ? EV_DOWN : EV_UP, i, 0, 0, 0, 0);
    }
}

static void
send_up(struct cw *w, uint32_t n, uint8_t kind, uint64_t value)
{
    uint32_t i = msg_new(w);
    if (i == NIL) {
        return;
    }
    w->msgs[i] = (struct msg){.kind = kind, .refs = 1, .node = n,
                              .gen = w->gen[n], .value = value};
    send_msg(w, i, false);
}

/* ---- the controller: core calls end with commit, then send ---- */

static void arm_core(struct cw *w, bool after_run);
static void ctl_crash(struct cw *w);
static void check_resumes(struct cw *w);

/* Ends a core call as mignetd ends a loop iteration (ctl_end_batch):
 * commit, then release the instructions.  An armed crash strikes between
 * the two. */
/* I7, the restart rule: a deletion pending at the crash runs no sooner
 * than its migration's delay after the restart, unless every node
 * reported the move's map version since. */
static void
check_restart_rule(struct cw *w, uint32_t node, const struct minstr *in)
{
    for (size_t i = 0; i < w->crash_tasks.n; i++) {
        const struct core_task_info *t = &w->crash_tasks.t[i];
        struct core_migration m;
        if (t->kind != TASK_DELETE || t->vm != in->vm || t->node != node
            || t->epoch != in->epoch
            || !core_migration_get(w->core, t->migration, &m)) {
            continue;
        }
        w->r->loaded_deletions++;
        const struct vmx *v = &w->vm[in->vm];
        if (now_ms(w) >= w->ctl_since / 1000 + m.delay_ms
            || (v->nh && v->h[v->nh - 1].node == node)) {
            return; /* due, or the VM returns there (I4 runs it first) */
        }
        for (uint32_t n = 0; n < w->p->nodes; n++) {
            if (w->seen_since_load[n] < m.map_version) {
                violation(w, "I7 a loaded deletion ran early after a "
                          "restart", in->vm, node, n);
                return;
            }
        }
        return;
    }
}

static void
ctl_flush(struct cw *w)
{
    if (store_commit(w->store)) {
        violation(w, "store commit failed", NIL, NIL, NIL);
    }
    for (size_t k = 0; k < w->n_out && w->crash_tasks.n; k++) {
        if (w->out[k].kind == INSTR_DELETE) {
            check_restart_rule(w, w->out_node[k], &w->out[k]);
        }
    }
    if (w->crash_armed && w->n_out) {
        w->crash_armed = false;
        w->r->faults[CHAOS_CRASH_COMMIT]++;
        w->n_out = 0;
        ctl_crash(w);
        return;
    }
    for (size_t k = 0; k < w->n_out; k++) {
        uint32_t i = msg_new(w);
        if (i == NIL) {
            break;
        }
        uint32_t n = w->out_node[k];
        w->msgs[i] = (struct msg){.kind = M_INSTR, .refs = 1, .node = n,
                                  .gen = w->gen[n], .in = w->out[k]};
        send_msg(w, i, true);
    }
    w->n_out = 0;
    arm_core(w, false);
    check_resumes(w);
}

static void
arm_core(struct cw *w, bool after_run)
{
    if (!w->ctl_up) {
        return;
    }
    uint64_t t = sim_core_wake_us(core_next_due(w->core), w->now,
                                  after_run);
    if (t != UINT64_MAX && t < w->core_at) {
        w->core_at = t;
        push(w, t, EV_CORE, 0, 0, 0, 0, 0);
    }
}

/* The agent said hello: mignetd resyncs it (agent_server.c). */
static void
ctl_hello(struct cw *w, uint32_t n)
{
    w->heard[n] = w->now;
    size_t first = w->n_out;
    if (core_node_resync(w->core, n, now_ms(w)) != CORE_E_OK) {
        violation(w, "resync refused", NIL, n, NIL);
    }
    struct core_node_info info;
    core_node_info(w->core, n, &info);
    uint32_t i = msg_new(w);
    if (i == NIL) {
        return;
    }
    size_t cnt = w->n_out - first;
    struct minstr *b = malloc((cnt ? cnt : 1) * sizeof *b);
    if (!b) {
        w->nomem = true;
        return;
    }
    memcpy(b, w->out + first, cnt * sizeof *b);
    w->n_out = first;
    w->msgs[i] = (struct msg){.kind = M_RESYNC, .refs = 1, .node = n,
                              .gen = w->gen[n], .value = info.last_seq,
                              .batch = b, .n_batch = cnt};
    w->r->resyncs++;
    if (store_commit(w->store)) {
        violation(w, "store commit failed", NIL, NIL, NIL);
    }
    send_msg(w, i, true);
    ctl_flush(w);
}

static void
session_drop(struct cw *w, uint32_t n, uint64_t retry_us)
{
    if (!w->sess[n]) {
        return;
    }
    w->sess[n] = 0;
    w->synced[n] = 0;
    w->gen[n]++;
    push(w, w->now + retry_us, EV_RECONNECT, n, 0, 0, 0, 0);
}

static void poll_now(struct cw *w, uint32_t n);

static void
on_reconnect(struct cw *w, uint32_t n)
{
    if (w->sess[n]) {
        return;
    }
    if (unreachable(w, n) || w->now < w->frozen_until[n]) {
        push(w, w->now + 100000, EV_RECONNECT, n, 0, 0, 0, 0);
        return;
    }
    w->sess[n] = 1;
    w->sess_since[n] = w->now;
    w->gen[n]++;
    w->fifo_down[n] = w->fifo_up[n] = 0;
    w->wrote_down[n] = w->wrote_up[n] = 0;
    ctl_hello(w, n);
    /* After reconnecting the agent reports the version it holds again. */
    if (w->sess[n]) {
        send_up(w, n, M_REPORT, w->applied[n]);
    }
    /* A restarted agent reads the map at once. */
    if (w->restarted[n]) {
        w->restarted[n] = 0;
        poll_now(w, n);
    }
}

/* ---- I7 across crashes: the pending tasks before and after ---- */


static bool
collect_task(void *aux, const struct core_task_info *ti)
{
    struct task_set *s = aux;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct core_task_info *t = realloc(s->t, cap * sizeof *t);
        if (!t) {
            return false;
        }
        s->t = t;
        s->cap = cap;
    }
    s->t[s->n++] = *ti;
    return true;
}


static void
ctl_crash(struct cw *w)
{
    w->r->faults[CHAOS_CRASH]++;
    w->crash_tasks.n = 0;
    core_tasks_walk(w->core, collect_task, &w->crash_tasks);
    core_destroy(w->core);
    w->core = NULL;
    w->ctl_up = false;
    if (w->p->store_sqlite) {
        store_destroy(w->store); /* the process dies: the file stays */
        w->store = NULL;
    }
    w->core_at = UINT64_MAX;
    for (uint32_t n = 0; n < w->p->nodes; n++) {
        if (w->sess[n]) {
            w->sess[n] = 0;
            w->synced[n] = 0;
            w->gen[n]++;
        }
    }
    push(w, w->now + 200000 + sim_rng_below(&w->frng, 800000), EV_CTL_UP,
         0, 0, 0, 0, 0);
}

static void
ctl_up(struct cw *w)
{
    if (w->p->store_sqlite) {
        /* mignetd's start: the strict open (marker, checksums). */
        char err[256] = "";
        w->store = store_sqlite_open(w->db, err, sizeof err);
        if (!w->store) {
            violation(w, "I7 the store was refused after a crash", NIL,
                      NIL, NIL);
            return;
        }
    }
    w->core = core_create(&w->cfg, w->store, &w->sink);
    if (!w->core) {
        w->nomem = true;
        return;
    }
    if (core_load(w->core) != CORE_E_OK) {
        violation(w, "I7 reload from the store failed", NIL, NIL, NIL);
        return;
    }
    w->ctl_up = true;
    w->ctl_since = w->now;
    memset(w->seen_since_load, 0, w->p->nodes * sizeof *w->seen_since_load);
    /* Nothing pending may be lost across the crash. */
    struct task_set after = {0};
    core_tasks_walk(w->core, collect_task, &after);
    for (size_t i = 0; i < w->crash_tasks.n; i++) {
        const struct core_task_info *b = &w->crash_tasks.t[i];
        bool found = false;
        for (size_t j = 0; j < after.n && !found; j++) {
            const struct core_task_info *a = &after.t[j];
            found = a->kind == b->kind && a->vm == b->vm
                    && a->node == b->node && a->epoch == b->epoch;
        }
        if (!found) {
            violation(w, "I7 pending task lost across a crash", b->vm,
                      b->node, NIL);
        }
    }
    free(after.t);
    core_run(w->core, now_ms(w));
    ctl_flush(w);
    arm_core(w, true);
    for (uint32_t n = 0; n < w->p->nodes; n++) {
        push(w, w->now + sim_rng_below(&w->frng, 100000), EV_RECONNECT, n,
             0, 0, 0, 0);
    }
}

/* ---- the agent model (docs/agent-protocol.md) ---- */

/* Could a node whose map is fresh enough still send 'vm' to 'node'?
 * Checks the deletion of what 'node' held for 'vm' (I2, I3). */
static void
check_deletion_now(struct cw *w, uint32_t node, uint32_t vm, uint64_t epoch)
{
    struct vmx *v = &w->vm[vm];
    if (v->node == node && !v->paused) {
        struct core_vm_info vi;
        if (w->core && core_vm_info(w->core, vm, &vi) && vi.node == node
            && vi.epoch == epoch) {
            w->r->wrong_deletions++;
            violation(w, "I3 wrong deletion: the VM's current copy", vm,
                      node, NIL);
        }
        return;
    }
    if (v->nh && v->h[v->nh - 1].node == node) {
        /* The VM returns here (I4 runs the old snapshot's DELETE first):
         * what a stale map sends here finds it paused or back. */
        return;
    }
    for (uint32_t s = 0; s < w->p->nodes; s++) {
        /* s's view of vm, and the move that made it stale. */
        size_t k = v->nh;
        while (k > 1 && v->h[k - 1].version > w->applied[s]) {
            k--;
        }
        if (k == v->nh || v->h[k - 1].node != node) {
            continue;
        }
        uint64_t moved = v->h[k].t_us;
        if (w->now - moved >= (uint64_t)w->p->ceiling_ms * 1000) {
            continue; /* cut off longer than the ceiling */
        }
        w->r->early_deletions++;
        violation(w, "I2 deletion while a node's map still sends there",
                  vm, node, s);
        return;
    }
}

/* A deletion is judged on the state at the end of its instant: the
 * instructions of one instant (an abort's DELETE of the prepared copy and
 * the snapshot's INSTALL + RELAY again) land before any packet sees them
 * (at an instant the data plane goes first). */
static void
check_deletion(struct cw *w, uint32_t node, uint32_t vm, uint64_t epoch)
{
    if (w->n_pend == w->cap_pend) {
        size_t cap = w->cap_pend ? w->cap_pend * 2 : 16;
        struct pend *pd = realloc(w->pend, cap * sizeof *pd);
        if (!pd) {
            w->nomem = true;
            return;
        }
        w->pend = pd;
        w->cap_pend = cap;
    }
    w->pend[w->n_pend++] = (struct pend){node, vm, epoch};
}

static void
flush_deletions(struct cw *w)
{
    for (size_t i = 0; i < w->n_pend; i++) {
        const struct pend *pd = &w->pend[i];
        const struct ent *e = ent_at(w, pd->node, pd->vm);
        if (e->has && (!e->inactive || e->relay != NIL)) {
            continue; /* the node still delivers or relays */
        }
        check_deletion_now(w, pd->node, pd->vm, pd->epoch);
    }
    w->n_pend = 0;
}

static void
agent_apply(struct cw *w, uint32_t n, const struct minstr *in)
{
    bool guard = w->cfg.epoch_guard;
    struct ent *e = ent_at(w, n, in->vm);
    switch (in->kind) {
    case INSTR_INSTALL: {
        if (e->has && guard && e->epoch > in->epoch) {
            return;
        }
        bool same = e->has && e->epoch == in->epoch;
        bool inactive = (in->flags & INF_INACTIVE) != 0;
        /* A prepared copy over a relaying snapshot keeps its relay until
         * it is activated; an active copy stays active; an INSTALL
         * without 'inactive' activates (docs/agent-protocol.md). */
        if (!same && !(inactive && e->has && e->relay != NIL
                       && e->epoch < in->epoch)) {
            e->relay = NIL;
        }
        e->inactive = inactive && !(same && !e->inactive);
        if (!e->inactive) {
            e->relay = NIL;
        }
        e->has = 1;
        e->epoch = in->epoch;
        return;
    }
    case INSTR_RELAY:
        if (guard && (!e->has || e->epoch != in->epoch)) {
            return;
        }
        if (!e->has) {
            e->has = 1;
            e->epoch = in->epoch;
        }
        e->relay = in->target;
        return;
    case INSTR_DELETE:
        if (!e->has || (guard && e->epoch != in->epoch)) {
            return;
        }
        check_deletion(w, n, in->vm, e->epoch);
        e->has = 0;
        e->inactive = 0;
        e->relay = NIL;
        return;
    default:
        return;
    }
}

/* A resync: the agent replaces what it holds with exactly that state. */
static void
agent_resync(struct cw *w, uint32_t n, const struct msg *m)
{
    for (uint32_t vm = 0; vm < w->p->vms; vm++) {
        struct ent *e = ent_at(w, n, vm);
        if (!e->has) {
            continue;
        }
        bool kept = false;
        for (size_t k = 0; k < m->n_batch && !kept; k++) {
            kept = m->batch[k].vm == vm
                   && m->batch[k].kind == INSTR_INSTALL
                   && m->batch[k].epoch >= e->epoch;
        }
        if (!kept) {
            check_deletion(w, n, vm, e->epoch);
            e->has = 0;
            e->inactive = 0;
            e->relay = NIL;
        }
    }
    for (size_t k = 0; k < m->n_batch; k++) {
        agent_apply(w, n, &m->batch[k]);
    }
}

static void
on_down(struct cw *w, const struct sim_ev *ev)
{
    struct msg *m = &w->msgs[ev->a];
    uint32_t n = m->node;
    if (m->gen != w->gen[n] || !w->sess[n]) {
        msg_put(w, ev->a);
        return;
    }
    if (w->now < w->frozen_until[n]) {
        /* A stalled agent reads its socket once it runs again. */
        push(w, w->frozen_until[n], EV_DOWN, ev->a, 0, 0, 0, 0);
        return;
    }
    uint64_t seq;
    if (m->kind == M_RESYNC) {
        agent_resync(w, n, m);
        w->synced[n] = 1;
        seq = m->value;
    } else {
        agent_apply(w, n, &m->in);
        seq = m->in.seq;
    }
    msg_put(w, ev->a);
    send_up(w, n, M_ACK, seq);
}

static void
on_up(struct cw *w, const struct sim_ev *ev)
{
    struct msg m = w->msgs[ev->a];
    msg_put(w, ev->a);
    uint32_t n = m.node;
    if (!w->ctl_up || m.gen != w->gen[n] || !w->sess[n]) {
        return;
    }
    w->heard[n] = w->now;
    if (m.kind == M_ACK) {
        (void)core_node_ack(w->core, n, m.value, now_ms(w));
    } else {
        (void)core_node_refresh(w->core, n, m.value, now_ms(w));
        if (m.value > w->seen_since_load[n]) {
            w->seen_since_load[n] = m.value;
        }
    }
    ctl_flush(w);
}

/* ---- polls: the map answer travels outside the session ---- */

static void
poll_now(struct cw *w, uint32_t n)
{
    if (unreachable(w, n) || w->now < w->frozen_until[n]) {
        return; /* the gateway cannot be reached: a failed poll */
    }
    bool faults = w->now < w->t_quiet;
    if (faults && w->p->answer_loss > 0
        && sim_rng_unit(&w->frng) < w->p->answer_loss) {
        w->r->faults[CHAOS_ANSWER_LOSS]++;
        return;
    }
    uint64_t version = core_map_version(w->core);
    uint64_t t = w->now + 2 * w->lat_us;
    if (faults && w->p->reorder > 0
        && sim_rng_unit(&w->frng) < w->p->reorder) {
        w->r->faults[CHAOS_REORDER]++;
        t += 1 + sim_rng_below(&w->frng, 8 * w->lat_us);
    }
    push(w, t, EV_ANSWER, n, (uint32_t)version, (uint32_t)(version >> 32),
         0, 0);
}

/* Every node polls on its interval (+-10 %). */
static void
on_poll(struct cw *w, uint32_t n)
{
    uint64_t iv = (uint64_t)w->p->refresh_ms * 1000;
    push(w, w->now + iv - iv / 10 + sim_rng_below(&w->rng, iv / 5),
         EV_POLL, n, 0, 0, 0, 0);
    poll_now(w, n);
}

static void
on_answer(struct cw *w, const struct sim_ev *ev)
{
    uint32_t n = ev->a;
    uint64_t version = (uint64_t)ev->c << 32 | ev->b;
    if (w->now < w->down_until[n]) {
        return;
    }
    if (version > w->applied[n]) {
        w->applied[n] = version;
    }
    if (w->sess[n]) {
        send_up(w, n, M_REPORT, w->applied[n]);
    }
    /* A restarted agent reads the map at once. */
    if (w->restarted[n]) {
        w->restarted[n] = 0;
        poll_now(w, n);
    }
}

/* ---- the data plane ---- */

/* The entry of vm's history node n's map shows, and whether it is old. */
static size_t
view(const struct cw *w, uint32_t vm, uint32_t n)
{
    const struct vmx *v = &w->vm[vm];
    size_t k = v->nh;
    while (k > 1 && v->h[k - 1].version > w->applied[n]) {
        k--;
    }
    return k - 1;
}

static void
forward(struct cw *w, uint32_t vm, uint32_t from, uint32_t to,
        uint32_t origin, uint8_t hops, uint16_t stale)
{
    if (overlay_cut(w, from, to)) {
        w->r->lost_dataplane_partition++;
        return;
    }
    push(w, w->now + w->dl_us, EV_ARRIVE, vm, to, origin, hops, stale);
}

static void
on_tick(struct cw *w, const struct sim_ev *ev)
{
    uint32_t s = ev->a;
    uint32_t vm = s / w->p->peers;
    push(w, w->now + 1000000 / w->p->pps, EV_TICK, s, 0, 0, 0, 0);
    const struct vmx *sender = &w->vm[w->peers[s]];
    if (sender->paused || w->now >= w->t_end) {
        return;
    }
    uint32_t n = sender->node;
    size_t k = view(w, vm, n);
    w->r->sent++;
    forward(w, vm, n, w->vm[vm].h[k].node, n, 0,
            (uint16_t)(k + 1 < w->vm[vm].nh ? k + 1 : 0));
}

/* A dropped packet: paused, a node cut off longer than the ceiling, or a
 * violation of I1. */
static void
drop(struct cw *w, uint32_t vm, uint32_t node, uint32_t origin,
     uint16_t stale)
{
    const struct vmx *v = &w->vm[vm];
    if (v->paused) {
        w->r->lost_pause++;
        return;
    }
    if (v->mode != MIG_SW_NOW && v->mig && (node == v->src || node == v->dst)
        && w->ctl_up) {
        /* Its switch-over not confirmed yet (manual's gap, the install
         * race): the lifecycle's own classes, not a fault's. */
        struct core_migration m;
        if (core_migration_get(w->core, v->mig, &m)
            && (m.phase == MIG_PREPARING || m.phase == MIG_PREPARED
                || v->stage == ST_SWITCH)) {
            w->r->lost_activation++;
            return;
        }
    }
    if (stale) {
        uint64_t moved = v->h[stale].t_us;
        if (w->now - moved >= (uint64_t)w->p->ceiling_ms * 1000
            || !w->synced[node]) {
            w->r->lost_partitioned++;
            return;
        }
        w->r->lost_stale++;
        violation(w, "I1 stale loss", vm, node, origin);
        return;
    }
    if (!w->synced[node] || !w->synced[v->node]) {
        /* Dropped where it arrived, or looping because the node the VM
         * runs on is cut off and holds an old relay. */
        w->r->lost_partitioned++;
        return;
    }
    w->r->lost_other++;
    violation(w, "I1 loss of a fresh sender's packet", vm, node, origin);
}

/* I5: a packet relayed twice is a violation once the first relay had
 * every chance to be retargeted -- the VM's last move older than a round
 * trip with the worst reordering, and the first relaying node connected
 * and running since (a packet on the wire before the retarget is not). */
static bool
i5_due(const struct cw *w, uint32_t vm, uint32_t first)
{
    const struct vmx *v = &w->vm[vm];
    uint64_t moved = v->h[v->nh - 1].t_us;
    uint64_t slack = 20 * w->lat_us + 2 * w->dl_us;
    if (ent_at((struct cw *)w, first, vm)->relay == v->h[v->nh - 1].node) {
        return false; /* the first relay points at the VM's newest node:
                         the second hop is that node's lag, not I5's */
    }
    return w->sess[first] && w->now > moved + slack
           && w->sess_since[first] < moved
           && w->frozen_until[first] < moved && w->ctl_up
           && w->ctl_since < moved;
}

static void
on_arrive(struct cw *w, const struct sim_ev *ev)
{
    uint32_t vm = ev->a, n = ev->b;
    const struct ent *e = ent_at(w, n, vm);
    const struct vmx *v = &w->vm[vm];
    if (e->has && e->relay != NIL) {
        if (ev->x + 1 >= HOPS_MAX) {
            drop(w, vm, n, ev->c, 0);
            return;
        }
        /* From the first relay on, 'c' is the first relaying node. */
        uint32_t first = ev->x ? ev->c : n;
        if (ev->x >= 1) {
            w->r->two_hop++;
            if (w->cfg.retarget && i5_due(w, vm, first)) {
                violation(w, "I5 two-hop relay", vm, n, first);
            }
        }
        w->r->relayed++;
        forward(w, vm, n, e->relay, first, (uint8_t)(ev->x + 1), ev->y);
        return;
    }
    if (e->has && !e->inactive && v->node == n && !v->paused) {
        w->r->delivered++;
        return;
    }
    if (v->mode == MIG_SW_LOSSLESS && v->stage != ST_IDLE && v->dst == n
        && e->has && !e->inactive) {
        /* The tap's queue: delivered when the VM runs here. */
        w->r->queued++;
        w->r->delivered++;
        return;
    }
    drop(w, vm, n, ev->c, ev->y);
}

/* ---- the VM manager ---- */

static void
retry(struct cw *w, uint8_t type, uint32_t vm, uint32_t b, uint16_t tries)
{
    if (tries < 2000) {
        push(w, w->now + 10000, type, vm, b, 0, 0, (uint16_t)(tries + 1));
    }
}

static enum mig_phase
phase_of(struct cw *w, uint64_t id)
{
    struct core_migration m;
    if (!core_migration_get(w->core, id, &m)) {
        return MIG_N_PHASES;
    }
    return m.phase;
}

static void
on_migrate(struct cw *w, const struct sim_ev *ev)
{
    uint32_t vm = ev->a;
    struct vmx *v = &w->vm[vm];
    if (v->stage != ST_IDLE || !w->ctl_up) {
        retry(w, EV_MIGRATE, vm, ev->b, ev->y);
        return;
    }
    uint32_t dst = ev->b;
    if (dst == v->node) {
        dst = (dst + 1) % w->p->nodes;
    }
    uint64_t h = sim_hash3(w->seed, vm, ev->t);
    static const uint8_t mix[] = {MIG_SW_NOW, MIG_SW_MANUAL,
                                  MIG_SW_LOSSLESS};
    uint8_t mode = w->p->switchover >= 0 ? (uint8_t)w->p->switchover
                                         : mix[h % 3];
    struct core_migrate_opts opts = {.switchover = (enum mig_switchover)mode};
    struct core_migrate_result res;
    enum core_err e = core_migrate_opts(w->core, vm, CORE_NONE, dst, &opts,
                                        now_ms(w), &res);
    ctl_flush(w);
    if (e != CORE_E_OK) {
        retry(w, EV_MIGRATE, vm, ev->b, ev->y);
        return;
    }
    w->r->migrations++;
    v->mig = res.migration;
    v->src = v->node;
    v->dst = dst;
    v->mode = mode;
    uint32_t id = (uint32_t)res.migration;
    if (mode == MIG_SW_NOW) {
        v->stage = ST_PAUSED;
        v->paused = true;
        v->pause_end = w->now + (uint64_t)w->p->pause_ms * 1000;
        push(w, v->pause_end, EV_RESUME, vm, 0, 0, 0, 0);
        return;
    }
    v->stage = ST_PRECOPY;
    uint64_t pre = (uint64_t)w->p->precopy_ms * 1000;
    if ((double)(sim_mix64(h) >> 11) * 0x1p-53 < w->p->abort_rate) {
        push(w, w->now + pre / 2, EV_ABORT, vm, id, 0, 0, 0);
    } else {
        push(w, w->now + pre, EV_PRECOPY, vm, id, 0, 0, 0);
    }
}

static bool
stage_is(const struct cw *w, const struct sim_ev *ev, uint8_t stage)
{
    const struct vmx *v = &w->vm[ev->a];
    return v->stage == stage && (uint32_t)v->mig == ev->b;
}

static void
pause_vm(struct cw *w, uint32_t vm)
{
    struct vmx *v = &w->vm[vm];
    v->stage = ST_PAUSED;
    v->paused = true;
    v->pause_end = w->now + (uint64_t)w->p->pause_ms * 1000;
    push(w, v->pause_end, EV_PAUSE_END, vm, (uint32_t)v->mig, 0, 0, 0);
}

/* The pre-copy converged.  The adapter holds QEMU until the destination
 * is PREPARED; manual then stops the VM, lossless switches first. */
static void
on_precopy(struct cw *w, const struct sim_ev *ev)
{
    if (!stage_is(w, ev, ST_PRECOPY)) {
        return;
    }
    struct vmx *v = &w->vm[ev->a];
    enum mig_phase ph = w->ctl_up ? phase_of(w, v->mig) : MIG_PREPARING;
    if (ph == MIG_ABORTED) {
        v->stage = ST_IDLE; /* the prepare deadline */
        return;
    }
    if (ph != MIG_PREPARED) {
        retry(w, EV_PRECOPY, ev->a, ev->b, ev->y);
        return;
    }
    if (v->mode == MIG_SW_MANUAL) {
        pause_vm(w, ev->a);
        return;
    }
    enum core_err e = core_migration_switchover(w->core, v->mig, now_ms(w));
    if (e == CORE_E_OK) {
        v->stage = ST_HOLD;
    } else {
        retry(w, EV_PRECOPY, ev->a, ev->b, ev->y);
    }
    ctl_flush(w);
}

/* The pause ended: `now` resumes once RELAYING (check_resumes); manual
 * and lossless resume on the destination and call the switch-over
 * (manual's switch, lossless's activation). */
static void
on_pause_end(struct cw *w, const struct sim_ev *ev)
{
    if (!stage_is(w, ev, ST_PAUSED)) {
        return;
    }
    struct vmx *v = &w->vm[ev->a];
    v->paused = false;
    v->node = v->dst;
    v->stage = ST_SWITCH;
    push(w, w->now, EV_SWITCH, ev->a, ev->b, 0, 0, 0);
}

static void
on_switch(struct cw *w, const struct sim_ev *ev)
{
    if (!stage_is(w, ev, ST_SWITCH)) {
        return;
    }
    struct vmx *v = &w->vm[ev->a];
    if (!w->ctl_up) {
        retry(w, EV_SWITCH, ev->a, ev->b, ev->y);
        return;
    }
    enum core_err e = core_migration_switchover(w->core, v->mig, now_ms(w));
    ctl_flush(w);
    struct core_migration m;
    if (e == CORE_E_OK
        || (core_migration_get(w->core, v->mig, &m)
            && (m.activated_ms || m.phase == MIG_CLEANED
                || m.phase == MIG_CLEANING || m.phase == MIG_ABORTED))) {
        v->stage = ST_IDLE;
        return;
    }
    retry(w, EV_SWITCH, ev->a, ev->b, ev->y);
}

/* QEMU's migrate_cancel halfway through the pre-copy. */
static void
on_abort(struct cw *w, const struct sim_ev *ev)
{
    if (!stage_is(w, ev, ST_PRECOPY)) {
        return;
    }
    struct vmx *v = &w->vm[ev->a];
    if (!w->ctl_up) {
        retry(w, EV_ABORT, ev->a, ev->b, ev->y);
        return;
    }
    enum core_err e = core_migration_abort(w->core, v->mig, "cancelled",
                                           now_ms(w));
    ctl_flush(w);
    if (e == CORE_E_OK || phase_of(w, v->mig) == MIG_ABORTED) {
        v->stage = ST_IDLE;
    } else {
        push(w, w->now, EV_PRECOPY, ev->a, ev->b, 0, 0, 0);
    }
}

/* `now`: the VM resumes on its destination once its pause elapsed and
 * the migration left PREPARING (nova waits for vif-plugged); lossless:
 * the VM stops once the switch is confirmed (RELAYING). */
static void
check_resumes(struct cw *w)
{
    if (!w->ctl_up) {
        return;
    }
    for (uint32_t vm = 0; vm < w->p->vms; vm++) {
        struct vmx *v = &w->vm[vm];
        if (v->stage == ST_HOLD) {
            enum mig_phase ph = phase_of(w, v->mig);
            if (ph == MIG_RELAYING || ph == MIG_CLEANING
                || ph == MIG_CLEANED) {
                pause_vm(w, vm);
            }
            continue;
        }
        if (v->stage != ST_PAUSED || v->mode != MIG_SW_NOW
            || w->now < v->pause_end) {
            continue;
        }
        if (phase_of(w, v->mig) != MIG_PREPARING) {
            v->paused = false;
            v->node = v->dst;
            v->stage = ST_IDLE;
        }
    }
}

/* ---- the fault schedule ---- */

static void
schedule_build(struct cw *w, uint64_t seed)
{
    const struct chaos_params *p = w->p;
    struct sim_rng r;
    sim_rng_init(&r, sim_hash3(seed, 0xfa17, 0));
    size_t n = (size_t)p->restarts + p->slow + p->partitions + p->overlay
               + p->crashes;
    w->sc = calloc(n ? n : 1, sizeof *w->sc);
    if (!w->sc) {
        w->nomem = true;
        return;
    }
    uint64_t t0 = 1000000 + 3 * (uint64_t)p->refresh_ms * 1000;
    uint64_t span = w->t_quiet > t0 ? w->t_quiet - t0 : 1;
    uint64_t iv = (uint64_t)p->refresh_ms * 1000;
    uint64_t ceil = (uint64_t)p->ceiling_ms * 1000;
    const uint32_t count[] = {p->restarts, p->slow, p->partitions,
                              p->overlay, p->crashes};
    const uint8_t kind[] = {CHAOS_RESTART, CHAOS_SLOW, CHAOS_PARTITION,
                            CHAOS_OVERLAY, CHAOS_CRASH};
    for (size_t k = 0; k < 5; k++) {
        for (uint32_t i = 0; i < count[k]; i++) {
            struct sched *s = &w->sc[w->n_sc++];
            s->kind = kind[k];
            s->t_us = t0 + sim_rng_below(&r, span);
            s->node = (uint32_t)sim_rng_below(&r, p->nodes);
            s->node2 = (uint32_t)sim_rng_below(&r, p->nodes);
            switch (s->kind) {
            case CHAOS_RESTART:
                s->dur_us = 50000 + sim_rng_below(&r, 2 * iv);
                break;
            case CHAOS_SLOW:
                s->dur_us = iv + sim_rng_below(&r, 6 * iv);
                break;
            case CHAOS_PARTITION:
                /* Short ones, ones between the delay and the ceiling,
                 * and ones longer than the ceiling. */
                s->dur_us = sim_rng_below(&r, 3) == 2
                                ? ceil + sim_rng_below(&r, ceil)
                                : 100000 + sim_rng_below(&r, ceil);
                s->set = 0;
                for (uint32_t m = 0; m < p->nodes && m < 64; m++) {
                    if (m == s->node || sim_rng_below(&r, 4) == 0) {
                        s->set |= UINT64_C(1) << m;
                    }
                }
                break;
            case CHAOS_OVERLAY:
                if (s->node2 == s->node) {
                    s->node2 = (s->node + 1) % p->nodes;
                }
                s->dur_us = 100000 + sim_rng_below(&r, 4 * iv);
                break;
            case CHAOS_CRASH:
                s->node2 = (uint32_t)sim_rng_below(&r, 2); /* at commit */
                break;
            default:
                break;
            }
        }
    }
}

static void
on_fault(struct cw *w, const struct sched *s)
{
    uint64_t end = w->now + s->dur_us;
    switch (s->kind) {
    case CHAOS_RESTART:
        w->r->faults[CHAOS_RESTART]++;
        w->down_until[s->node] = end;
        w->restarted[s->node] = 1;
        session_drop(w, s->node, s->dur_us);
        w->sess[s->node] = 0;
        return;
    case CHAOS_SLOW:
        w->r->faults[CHAOS_SLOW]++;
        if (end > w->frozen_until[s->node]) {
            w->frozen_until[s->node] = end;
        }
        return;
    case CHAOS_PARTITION:
        w->r->faults[CHAOS_PARTITION]++;
        for (uint32_t m = 0; m < w->p->nodes && m < 64; m++) {
            if (s->set >> m & 1) {
                if (end > w->cut_until[m]) {
                    w->cut_until[m] = end;
                }
                session_drop(w, m, s->dur_us);
            }
        }
        return;
    case CHAOS_OVERLAY: {
        w->r->faults[CHAOS_OVERLAY]++;
        size_t nn = w->p->nodes;
        w->ovl_until[s->node * nn + s->node2] = end;
        w->ovl_until[s->node2 * nn + s->node] = end;
        return;
    }
    case CHAOS_CRASH:
        if (!w->ctl_up) {
            return;
        }
        if (s->node2) {
            w->crash_armed = true; /* the next commit with messages */
        } else {
            ctl_crash(w);
        }
        return;
    default:
        return;
    }
}

/* ---- the run ---- */

static bool
setup(struct cw *w)
{
    const struct chaos_params *p = w->p;
    char name[32], addr[32];
    for (uint32_t n = 0; n < p->nodes; n++) {
        snprintf(name, sizeof name, "n%" PRIu32, n);
        snprintf(addr, sizeof addr, "198.18.0.%" PRIu32, n + 1);
        uint32_t idx;
        if (core_node_add(w->core, name, addr, p->refresh_ms, now_ms(w),
                          &idx) != CORE_E_OK || idx != n) {
            return false;
        }
    }
    for (uint32_t v = 0; v < p->vms; v++) {
        struct mn_config cfg = {0};
        cfg.mac[0] = 0x02;
        cfg.mac[5] = (uint8_t)v;
        cfg.mac[4] = (uint8_t)(v >> 8);
        cfg.ip = (198u << 24 | 18u << 16 | 1u << 8) + v + 1;
        cfg.vni = 1000;
        snprintf(name, sizeof name, "vm%" PRIu32, v);
        uint32_t node = (uint32_t)sim_rng_below(&w->rng, p->nodes), idx;
        w->vm[v].node = node;
        if (core_vm_add(w->core, name, &cfg, node, now_ms(w), &idx)
                != CORE_E_OK || idx != v) {
            return false;
        }
    }
    store_commit(w->store);
    /* The setup's instructions arrive at once, and every node holds the
     * whole map. */
    for (size_t k = 0; k < w->n_out; k++) {
        agent_apply(w, w->out_node[k], &w->out[k]);
    }
    w->n_out = 0;
    for (uint32_t n = 0; n < p->nodes; n++) {
        struct core_node_info info;
        core_node_info(w->core, n, &info);
        if (info.last_seq) {
            (void)core_node_ack(w->core, n, info.last_seq, now_ms(w));
        }
        w->applied[n] = core_map_version(w->core);
        (void)core_node_refresh(w->core, n, w->applied[n], now_ms(w));
        w->sess[n] = 1;
        w->synced[n] = 1;
        w->heard[n] = w->now;
        push(w, w->now + sim_rng_below(&w->rng, (uint64_t)p->refresh_ms
                                                    * 1000),
             EV_POLL, n, 0, 0, 0, 0);
    }
    store_commit(w->store);
    return true;
}

/* Liveness and convergence once the faults stopped: every task ended,
 * every agent holds exactly the controller's desired state. */
static void
check_end(struct cw *w)
{
    w->r->tasks_left = w->ctl_up ? core_n_tasks(w->core) : 1;
    if (w->r->tasks_left) {
        violation(w, "liveness: pending tasks left after the faults",
                  NIL, NIL, NIL);
    }
    for (uint32_t vm = 0; vm < w->p->vms && w->ctl_up; vm++) {
        struct core_vm_info vi;
        if (!core_vm_info(w->core, vm, &vi)) {
            continue;
        }
        if (w->vm[vm].stage != ST_IDLE) {
            violation(w, "liveness: a migration never ended in the VM "
                      "manager", vm, vi.node, NIL);
        }
        for (uint32_t n = 0; n < w->p->nodes; n++) {
            const struct ent *e = ent_at(w, n, vm);
            bool want = vi.node == n;
            if (e->has != want || (want && e->epoch != vi.epoch)
                || e->relay != NIL || e->inactive) {
                violation(w, "convergence: agent differs from the desired "
                          "state", vm, n, NIL);
            }
        }
    }
    for (uint64_t id = 1; w->ctl_up && id <= core_n_migrations(w->core);
         id++) {
        struct core_migration m;
        if (core_migration_get(w->core, id, &m) && m.phase == MIG_CLEANED) {
            w->r->cleaned++;
        }
        if (core_migration_get(w->core, id, &m) && m.phase == MIG_ABORTED) {
            w->r->aborted++;
        }
    }
}

static void
dispatch(struct cw *w, const struct sim_ev *ev)
{
    switch (ev->type) {
    case EV_TICK:
        on_tick(w, ev);
        break;
    case EV_ARRIVE:
        on_arrive(w, ev);
        break;
    case EV_DOWN:
        on_down(w, ev);
        break;
    case EV_UP:
        on_up(w, ev);
        break;
    case EV_POLL:
        on_poll(w, ev->a);
        break;
    case EV_ANSWER:
        on_answer(w, ev);
        break;
    case EV_CORE:
        if (ev->t == w->core_at && w->ctl_up) {
            w->core_at = UINT64_MAX;
            core_run(w->core, now_ms(w));
            ctl_flush(w);
            arm_core(w, true);
        }
        break;
    case EV_MIGRATE:
        on_migrate(w, ev);
        break;
    case EV_FAULT:
        on_fault(w, &w->sc[ev->a]);
        break;
    case EV_RECONNECT:
        on_reconnect(w, ev->a);
        break;
    case EV_CTL_UP:
        ctl_up(w);
        break;
    case EV_RESUME:
        check_resumes(w);
        break;
    case EV_PRECOPY:
        on_precopy(w, ev);
        break;
    case EV_PAUSE_END:
        on_pause_end(w, ev);
        break;
    case EV_SWITCH:
        on_switch(w, ev);
        break;
    case EV_ABORT:
        on_abort(w, ev);
        break;
    case EV_BREAK:
        if ((uint32_t)w->gen[ev->a] == ev->b) {
            session_drop(w, ev->a, (uint64_t)ev->c * 1000);
        }
        break;
    default:
        break;
    }
}

void
chaos_params_for_seed(const struct chaos_params *p, uint64_t seed,
                      struct chaos_params *out)
{
    *out = *p;
    if (!p->vary) {
        return;
    }
    struct sim_rng r;
    sim_rng_init(&r, sim_hash3(seed, 0x5a9e, 3));
    out->nodes = 3 + (uint32_t)sim_rng_below(&r, 10);
    out->vms = 4 + (uint32_t)sim_rng_below(&r, 27);
    out->migrations = 4 + (uint32_t)sim_rng_below(&r, 17);
    out->peers = 1 + (uint32_t)sim_rng_below(&r, 3);
    out->refresh_ms = 50 + (uint32_t)sim_rng_below(&r, 751);
    out->latency_ms = (double)(500 + sim_rng_below(&r, 9501)) / 1000;
    out->pause_ms = (uint32_t)sim_rng_below(&r, 101);
    out->precopy_ms = 50 + (uint32_t)sim_rng_below(&r, 451);
}

int
chaos_run(const struct chaos_params *given, uint64_t seed,
          struct chaos_result *r)
{
    struct chaos_params shape;
    chaos_params_for_seed(given, seed, &shape);
    const struct chaos_params *p = &shape;
    memset(r, 0, sizeof *r);
    r->seed = seed;
    struct cw *w = calloc(1, sizeof *w);
    if (!w) {
        return ENOMEM;
    }
    w->p = p;
    w->r = r;
    w->seed = seed;
    int rc = 0;
    if (!core_config_strategy(&w->cfg, p->strategy)) {
        free(w);
        return EINVAL;
    }
    w->cfg.delay_ceiling_ms = p->ceiling_ms;
    w->lat_us = (uint64_t)(p->latency_ms * 1000);
    w->lat_us = w->lat_us ? w->lat_us : 1;
    w->dl_us = 200;
    if (w->cfg.propagation_ms < 2 * w->lat_us / 1000 + 2) {
        w->cfg.propagation_ms = (uint32_t)(2 * w->lat_us / 1000 + 2);
    }
    w->now = 1000000;
    uint64_t t0 = w->now + 3 * (uint64_t)p->refresh_ms * 1000;
    w->t_quiet = t0 + (uint64_t)p->run_ms * 1000;
    w->t_end = w->t_quiet + (uint64_t)p->settle_ms * 1000;
    w->core_at = UINT64_MAX;
    w->ctl_up = true;
    sim_rng_init(&w->rng, sim_hash3(seed, 0x3077, 1));
    sim_rng_init(&w->frng, sim_hash3(seed, 0xfa17, 2));
    sim_evq_init(&w->q);
    size_t nn = p->nodes, nv = p->vms;
    w->vm = calloc(nv, sizeof *w->vm);
    w->ent = calloc(nn * nv, sizeof *w->ent);
    w->peers = calloc((size_t)nv * p->peers, sizeof *w->peers);
    uint64_t **arrs[] = {&w->applied, &w->gen, &w->heard, &w->fifo_down,
                         &w->fifo_up, &w->frozen_until, &w->down_until,
                         &w->cut_until, &w->sess_since,
                         &w->wrote_down, &w->wrote_up,
                         &w->seen_since_load};
    bool ok = w->vm && w->ent && w->peers;
    for (size_t i = 0; i < sizeof arrs / sizeof *arrs; i++) {
        *arrs[i] = calloc(nn, sizeof(uint64_t));
        ok = ok && *arrs[i];
    }
    w->sess = calloc(nn, 1);
    w->restarted = calloc(nn, 1);
    w->synced = calloc(nn, 1);
    w->ovl_until = calloc(nn * nn, sizeof *w->ovl_until);
    if (p->store_sqlite) {
        snprintf(w->dir, sizeof w->dir, "/tmp/mignet-sim-XXXXXX");
        if (mkdtemp(w->dir)) {
            char err[256];
            snprintf(w->db, sizeof w->db, "%s/state.db", w->dir);
            w->store = store_sqlite_open_flags(w->db, STORE_SQLITE_ACCEPT,
                                               err, sizeof err);
        } else {
            w->dir[0] = 0;
        }
    } else {
        w->store = store_mem_create();
    }
    ok = ok && w->sess && w->restarted && w->synced && w->ovl_until
         && w->store;
    w->sink = (struct core_sink){.instr = sink_instr,
                                 .map_change = sink_map_change,
                                 .wrong_delete = sink_wrong_delete,
                                 .aux = w};
    if (ok) {
        for (size_t i = 0; i < nn * nv; i++) {
            w->ent[i].relay = NIL;
        }
        w->core = core_create(&w->cfg, w->store, &w->sink);
        ok = w->core && setup(w);
    }
    if (ok) {
        schedule_build(w, seed);
        for (size_t i = 0; i < w->n_sc; i++) {
            push(w, w->sc[i].t_us, EV_FAULT, (uint32_t)i, 0, 0, 0, 0);
        }
        for (uint32_t v = 0; v < nv; v++) {
            for (uint32_t k = 0; k < p->peers; k++) {
                uint32_t s = v * p->peers + k;
                uint32_t peer = (uint32_t)sim_rng_below(&w->rng, nv);
                w->peers[s] = peer == v ? (v + 1) % (uint32_t)nv : peer;
                push(w, t0 + sim_rng_below(&w->rng, 1000000 / p->pps),
                     EV_TICK, s, 0, 0, 0, 0);
            }
        }
        for (uint32_t j = 0; j < p->migrations; j++) {
            uint64_t t = t0 + sim_rng_below(&w->rng,
                                            (uint64_t)p->run_ms * 1000);
            uint32_t vm = (uint32_t)sim_rng_below(&w->rng, nv);
            uint32_t dst = (uint32_t)sim_rng_below(&w->rng, nn);
            push(w, t, EV_MIGRATE, vm, dst, 0, 0, 0);
        }
        arm_core(w, false);
    }
    struct sim_ev ev;
    while (ok && !w->nomem && sim_evq_pop(&w->q, &ev)) {
        if (ev.t >= w->t_end) {
            break;
        }
        if (ev.t != w->now) {
            flush_deletions(w);
        }
        w->now = ev.t;
        r->events++;
        dispatch(w, &ev);
    }
    if (ok && !w->nomem) {
        flush_deletions(w);
        w->now = w->t_end;
        check_end(w);
    }
    if (!ok || w->nomem) {
        rc = ENOMEM;
    }
    core_destroy(w->core);
    store_destroy(w->store);
    if (w->dir[0]) {
        const char *const ext[] = {"", ".gen", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
            char f[128];
            snprintf(f, sizeof f, "%s%s", w->db, ext[i]);
            (void)unlink(f);
        }
        (void)rmdir(w->dir);
    }
    sim_evq_destroy(&w->q);
    for (size_t v = 0; w->vm && v < nv; v++) {
        free(w->vm[v].h);
    }
    for (size_t i = 0; i < w->n_msgs; i++) {
        free(w->msgs[i].batch);
    }
    for (size_t i = 0; i < sizeof arrs / sizeof *arrs; i++) {
        free(*arrs[i]);
    }
    free(w->vm);
    free(w->ent);
    free(w->peers);
    free(w->sess);
    free(w->restarted);
    free(w->synced);
    free(w->ovl_until);
    free(w->out);
    free(w->out_node);
    free(w->msgs);
    free(w->free_msgs);
    free(w->sc);
    free(w->pend);
    free(w->crash_tasks.t);
    free(w);
    return rc;
}

static int
sched_cmp(const void *a, const void *b)
{
    const struct sched *x = a, *y = b;
    return (x->t_us > y->t_us) - (x->t_us < y->t_us);
}

void
chaos_schedule_print(FILE *f, const struct chaos_params *given,
                     uint64_t seed)
{
    struct chaos_params shape;
    chaos_params_for_seed(given, seed, &shape);
    const struct chaos_params *p = &shape;
    if (p->vary) {
        fprintf(f, "  shape: %" PRIu32 " nodes, %" PRIu32 " VMs, %" PRIu32
                " migrations, %" PRIu32 " peers, refresh %" PRIu32
                " ms, latency %g ms, pause %" PRIu32 " ms, pre-copy %"
                PRIu32 " ms\n", p->nodes, p->vms, p->migrations, p->peers,
                p->refresh_ms, p->latency_ms, p->pause_ms, p->precopy_ms);
    }
    struct cw w = {.p = p};
    uint64_t t0 = 1000000 + 3 * (uint64_t)p->refresh_ms * 1000;
    w.t_quiet = t0 + (uint64_t)p->run_ms * 1000;
    schedule_build(&w, seed);
    if (w.sc) {
        qsort(w.sc, w.n_sc, sizeof *w.sc, sched_cmp);
    }
    for (size_t i = 0; i < w.n_sc; i++) {
        const struct sched *s = &w.sc[i];
        fprintf(f, "  t=%" PRIu64 " ms %s", s->t_us / 1000,
                chaos_fault_names[s->kind]);
        if (s->kind != CHAOS_CRASH) {
            fprintf(f, " node %" PRIu32, s->node);
        }
        if (s->kind == CHAOS_OVERLAY) {
            fprintf(f, "<->%" PRIu32, s->node2);
        }
        if (s->kind == CHAOS_PARTITION) {
            fprintf(f, " set 0x%" PRIx64, s->set);
        }
        if (s->kind == CHAOS_CRASH) {
            fprintf(f, " %s", s->node2 ? "between commit and send"
                                       : "at once");
        } else {
            fprintf(f, " for %" PRIu64 " ms", s->dur_us / 1000);
        }
        fputc('\n', f);
    }
    fprintf(f, "  and per message: loss %g, dup %g, reorder %g, "
            "answer loss %g until t=%" PRIu64 " ms\n", p->loss, p->dup,
            p->reorder, p->answer_loss, w.t_quiet / 1000);
    free(w.sc);
}
