/* agent_sync.c: mignet-agent's desired state and its sync to the switch
 * (part of the sans-I/O core, agent_core.h: no socket, no clock).
 *
 * A sync is a job done a slice per turn of the agent's loop, so that a
 * start or a resync at 50,000 VMs (100,000 flows) never holds the loop
 * for more than a few milliseconds (issue 10 item 4): begin() takes the
 * change sets -- the VMs whose held entry, map entry, port or snooped
 * binding changed -- and what the batch will confirm; then, within a
 * budget of work per turn (SYNC_TURN_WORK), the VIEWS stage feeds the
 * engine (pl_engine.c) those VMs' views, the ENGINE stage recomputes the
 * dirty owners, and the SEND stage hands the changed keys to ofctrl.c,
 * which sends only those flow_mods and, after
 * the last slice, a barrier, and acks (or nacks) the instructions once
 * the barrier's reply comes.  What arrives meanwhile waits in the change
 * sets for the next job;
 * agent_batch_done reports the map version a confirmed batch carried.
 * After a (re)connection the first sync waits for the switch's flows to be
 * read and, when the switch still held some, for the desired state
 * (agent_flows_read).  It must never acknowledge an instruction, or
 * report a map version, that Open vSwitch did not accept. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_map.h"
#include "agent/agent_vnet.h"
#include "agent/map_push.h"
#include "agent/flowtab.h"
#include "agent/pipeline.h"
#include "agent/pl_engine.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mignet/ofp.h"

static bool job_carries_activation(const struct agent_core *);

/* An instruction confirmed later than this is logged at info level. */
#define SLOW_INSTRUCTION_US 100000

uint64_t
agent_now_ms(void *aux)
{
    return agent_core_ms(aux);
}

/* ofctrl hook: a batch's barrier completed.  ofctrl.c has already
 * acknowledged or nacked its instructions; a confirmed batch also reports
 * its map version and ends the timing of what it carried. */
void
agent_batch_done(void *aux, const struct ofctrl_batch *b,
                 enum ofctrl_outcome outcome,
                 const struct ofconn_barrier_result *r)
{
    struct agent_core *a = aux;
    if (b->session == a->session) {
        agent_vnet_batch_done(a, b->id, outcome == OFCTRL_CONFIRMED,
                              outcome == OFCTRL_REFUSED, r->first_type,
                              r->first_code);
    }
    if (outcome == OFCTRL_LOST) {
        return; /* resynced in full when the switch is back */
    }
    if (outcome != OFCTRL_CONFIRMED) {
        return; /* a nack, maybe, is queued */
    }
    uint64_t t = agent_core_ms(a);
    a->confirmed_flows = b->n_installed;
    if (b->n_mods >= a->biggest_batch) {
        a->biggest_batch = b->n_mods;
        a->biggest_batch_us = a->now_us - b->sent_us;
    }
    if (b->session == a->session && b->ack_seq && b->oldest_instr_us) {
        uint64_t lat = a->now_us - b->oldest_instr_us;
        agent_lat_add(&a->instr_lat, lat);
        /* Where an instruction's time went: waiting for the sync to
         * begin (an earlier one under way), building it, the switch. */
        log_write(lat > SLOW_INSTRUCTION_US ? LOG_INF : LOG_DBG, "agent",
                  "event=instruction_confirmed node=%s "
                  "seq=%" PRIu64 " flow_mods=%zu latency_us=%" PRIu64
                  " wait_us=%" PRIu64 " build_us=%" PRIu64
                  " switch_us=%" PRIu64, a->opt.node, b->ack_seq, b->n_mods,
                  lat, b->begun_us - b->oldest_instr_us,
                  b->sent_us - b->begun_us, a->now_us - b->sent_us);
    }
    /* The first batch begun after the resync's end carries all of it. */
    if (b->session == a->session && a->resync_since_us
        && b->begun_us >= a->resync_since_us) {
        a->resync_confirmed_us = a->now_us - a->resync_since_us;
        a->resync_since_us = 0;
        log_write(LOG_INF, "agent", "event=resync_confirmed node=%s "
                  "seq=%" PRIu64 " flow_mods=%zu flows=%zu latency_us=%"
                  PRIu64, a->opt.node, b->ack_seq, b->n_mods,
                  b->n_installed, a->resync_confirmed_us);
    }
    /* The map version the batch implements is now true on the switch:
     * report a polled version as a refresh, acknowledge a pushed one as a
     * map_ack. */
    if (b->version > a->confirmed_version) {
        a->confirmed_version = b->version;
    }
    map_push_confirmed(a->push, a->chan, a->map, b->version, t,
                       &a->chan_out);
    /* Activations this batch made true on the switch; a session not
     * ready to hear them gets them with a later batch.  The report names
     * every activation not yet reported: while a newer one waits for its
     * flows (not sent yet, or in a sync under way), all wait for it. */
    if (a->activation_batch && b->id >= a->activation_batch) {
        a->activation_batch = 0;
        if (a->activation_due || job_carries_activation(a)) {
            /* the later batch reports them all */
        } else if (!chan_client_welcomed(a->chan)
                   || chan_client_in_resync(a->chan)) {
            a->activation_due = true;
        } else {
            (void) chan_client_report_activated(a->chan, t, &a->chan_out);
        }
    }
    /* ACKs whose binding's flows this batch confirmed. */
    uint64_t us = a->now_us;
    size_t j = 0;
    for (size_t i = 0; i < a->n_pend; i++) {
        struct pending_ack *p = &a->pend[i];
        if (p->batch && p->batch <= b->id) {
            agent_lat_add(&a->enforce_lat, us - p->t0_us);
            log_write(LOG_INF, "agent", "event=binding_enforced node=%s "
                      "ack_to_flows_us=%" PRIu64, a->opt.node,
                      us - p->t0_us);
        } else if (us - p->t0_us < PENDING_ACK_MAX_US) {
            a->pend[j++] = *p;
        }
    }
    a->n_pend = j;
}

/* The map's view of VM 'name' when it lives on another node this node
 * can reach: fills 'v' and returns true. */
static bool
remote_view(struct agent_core *a, const char *name, struct pl_vm *v)
{
    const struct amap_entry *m = agent_map_find(a->map, name);
    if (!m || !strcmp(m->node, a->opt.node) || !m->address) {
        return false;
    }
    v->kind = PL_VM_REMOTE;
    v->config = m->config;
    v->peer = m->address;
    return true;
}

/* The engine's view of VM 'name': its held entry (placed here or
 * relaying), else its map entry (elsewhere), else none.  An inactive
 * entry attracts nothing: senders here follow the map (the VM still runs
 * where the map says), and its port is only watched when it activates on
 * a frame -- but one that relays (the relay it inherited: the VM migrates
 * back here while stale senders still send to its old snapshot) keeps
 * the relay's flows, without the port's. */
static void
update_vm(struct agent_core *a, const char *name)
{
    struct pl_vm v = {.vm = name};
    const struct chan_entry *e = chan_client_find(a->chan, name);
    bool keep;
    if (e && e->inactive && e->relay
        && addr_parse_ipv4(e->target_address, &v.peer)) {
        uint32_t port = agent_entry_port(a, e);
        v.kind = PL_VM_RELAY;
        v.config = chan_entry_relay_inherited(e) ? e->relay_config
                                                 : e->config;
        v.watch_port = e->activate_on_frame ? port : 0;
        if (port) {
            agent_prime_port(a, name, e->epoch, e->config.mac, port);
        }
        keep = true;
    } else if (e && e->inactive) {
        uint32_t port = agent_entry_port(a, e);
        v.watch_port = e->activate_on_frame ? port : 0;
        if (!remote_view(a, name, &v)) {
            v.kind = PL_VM_INACTIVE;
        }
        /* Its own configuration for the overlay delivery to its port
         * (the map's is the VM's too, unless a change is in flight). */
        v.config = e->config;
        v.ofport = port;
        if (port) {
            agent_prime_port(a, name, e->epoch, e->config.mac, port);
        }
        keep = v.kind == PL_VM_REMOTE || v.watch_port || v.ofport;
    } else if (e) {
        v.config = e->config;
        v.binding = agent_entry_binding(a, e);
        /* A relay's snapshot keeps its port's flows while the VM's port
         * is still here (until its DELETE). */
        v.ofport = agent_entry_port(a, e);
        v.kind = e->relay ? PL_VM_RELAY : PL_VM_LOCAL;
        if (!e->relay && e->activate_on_frame && !e->activated) {
            v.watch_port = v.ofport; /* forwards, and reports its frame */
        }
        keep = !e->relay || addr_parse_ipv4(e->target_address, &v.peer);
    } else {
        /* Not held: the map's, unless it is ours or unreachable (then
         * the instructions win). */
        keep = remote_view(a, name, &v);
    }
    if (keep) {
        pl_engine_set_vm(a->engine, &v);
    } else {
        pl_engine_remove_vm(a->engine, name);
    }
    agent_vnet_vm_changed(a, name); /* the tenant switches it is a port of */
}

/* Work per turn of the loop, in units of about a VM's view or an owner's
 * recompute (2-3 us); a flow compared costs an eighth, a flow_mod sent
 * two (FLOWTAB_MOD_COST).  SYNC_TURN_WORK of it is about 2 ms on the
 * bench machine (bench/bench_agent_turns.c); the core never reads the
 * clock, so the budget is counted in work, not time.  A small sync (an
 * instruction) is done in one turn, stage after stage. */
#define SYNC_TURN_WORK 200
#define SYNC_FLOWS_PER_UNIT 8

enum sync_stage { SYNC_IDLE, SYNC_VIEWS, SYNC_ENGINE, SYNC_SEND };

/* The sync under way. */
struct agent_sync_job {
    enum sync_stage stage;
    /* VIEWS: the VMs whose views to rebuild (copied: the inputs may drop
     * a name before its turn comes), and how many are done. */
    char (*names)[MN_NAME_MAX + 1];
    size_t n, cap, next;
    struct ofctrl_batch batch; /* what its barrier will confirm */
    bool activation;           /* the batch carries the activation report */
    struct pl_engine_stats e0;
};

struct agent_sync_job *
agent_sync_job_create(void)
{
    return xcalloc(1, sizeof(struct agent_sync_job));
}

void
agent_sync_job_destroy(struct agent_sync_job *j)
{
    if (j) {
        free(j->names);
        free(j);
    }
}

bool
agent_sync_busy(const struct agent_core *a)
{
    return a->job->stage != SYNC_IDLE;
}

uint64_t
agent_sync_covered_seq(const struct agent_core *a)
{
    uint64_t seq = a->synced_seq > a->replayed_seq ? a->synced_seq
                                                   : a->replayed_seq;
    if (agent_sync_busy(a) && a->job->batch.session == a->session
        && a->job->batch.ack_seq > seq) {
        seq = a->job->batch.ack_seq;
    }
    return seq;
}

/* A sync under way carries an activation report. */
static bool
job_carries_activation(const struct agent_core *a)
{
    return agent_sync_busy(a) && a->job->activation;
}

static void
add_name(struct agent_sync_job *j, const char *name)
{
    j->names = xgrow(j->names, &j->cap, j->n + 1, sizeof *j->names);
    size_t len = strnlen(name, MN_NAME_MAX); /* inputs hold valid names */
    memcpy(j->names[j->n], name, len);
    j->names[j->n++][len] = '\0';
}

static void
add_changed(struct agent_sync_job *j, const struct vm_changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        add_name(j, c->names[i]);
    }
}

/* Every VM one source says ('remote': the map, else the held entries),
 * and the engine's VMs that came from it before and it no longer has:
 * their views are rebuilt (update_vm() of a name reads the inputs as
 * they are at its turn, so the order does not matter, and a name twice
 * costs twice).  'map_too': the map's VMs are added anyway. */
static void
add_source(struct agent_core *a, bool remote, bool map_too)
{
    struct agent_sync_job *j = a->job;
    for (size_t i = 0; i < pl_engine_n_vms(a->engine); i++) {
        const struct pl_vm *v = pl_engine_vm(a->engine, i);
        /* A watched port is a held entry's, whatever the kind. */
        bool from_map = v->kind == PL_VM_REMOTE;
        bool from_held = !from_map || v->watch_port;
        if (remote ? from_map && !agent_map_find(a->map, v->vm)
                   : from_held && !chan_client_find(a->chan, v->vm)) {
            add_name(j, v->vm);
        }
    }
    size_t n = remote ? agent_map_count(a->map)
                      : chan_client_n_entries(a->chan);
    for (size_t i = 0; i < n; i++) {
        add_name(j, remote ? agent_map_entry(a->map, i)->vm
                           : chan_client_entry(a->chan, i)->vm);
    }
    for (size_t i = 0; !remote && !map_too && i < agent_map_count(a->map);
         i++) {
        /* Held before with no view (a relay it cannot tunnel for): its
         * map entry may count now. */
        const char *vm = agent_map_entry(a->map, i)->vm;
        if (!pl_engine_has_vm(a->engine, vm)) {
            add_name(j, vm);
        }
    }
}

/* Timing DHCP ACKs' enforcement: the desired flows now enforce the
 * bindings of every held VM. */
static void
mark_enforced(struct agent_core *a)
{
    size_t n_open = 0;
    for (size_t k = 0; k < a->n_pend; k++) {
        n_open += !a->pend[k].enforced;
    }
    size_t n_held = chan_client_n_entries(a->chan);
    for (size_t i = 0; i < n_held && n_open; i++) {
        const struct chan_entry *e = chan_client_entry(a->chan, i);
        const struct binding *b = agent_entry_binding(a, e);
        for (size_t k = 0; b && k < a->n_pend; k++) {
            struct pending_ack *p = &a->pend[k];
            if (!p->enforced && p->ip == b->ip && !memcmp(p->mac, b->mac, 6)) {
                p->enforced = true;
                n_open--;
            }
        }
    }
}

/* Starts a job: the node's view -- held entries (placed here or
 * relaying), the map, the ports and the snooped bindings -- as change
 * sets, drained here; only the VMs they name are rebuilt and recomputed
 * (pl_engine.h); a resync rebuilds every held VM's view, a full map
 * answer every map VM's, an option change or a refused batch recomputes
 * every owner.  The batch confirms what was received until now: the
 * instructions, the map version and the activations of this moment. */
static void
begin(struct agent_core *a)
{
    struct agent_sync_job *j = a->job;
    agent_snooped_prune(a);
    pl_engine_set_options(a->engine,
                          agent_port_lookup(a, a->opt.tunnel_port),
                          a->opt.dhcp_snoop != AGENT_SNOOP_OFF);
    if (ofctrl_failed(a->ofctrl)) {
        pl_engine_recompute_all(a->engine); /* the fallback */
    }
    const struct vm_changes *held = chan_client_changes(a->chan);
    const struct vm_changes *map = agent_map_changes(a->map);
    /* A resync rebuilds the held VMs' views, a full map answer the
     * map's: a resync at 50,000 map entries costs its own VMs. */
    bool all = a->changed.all;
    bool map_all = all || map->all;
    j->n = j->next = 0;
    if (all || held->all) {
        add_source(a, false, map_all);
    } else {
        add_changed(j, held);
    }
    if (map_all) {
        add_source(a, true, false);
    } else {
        add_changed(j, map);
    }
    add_changed(j, &a->changed);
    chan_client_clear_changes(a->chan);
    agent_map_clear_changes(a->map);
    vm_changes_clear(&a->changed);
    /* No ack while a resync comes in (chan_client_pending_ack): the
     * batch then confirms no instruction, and their clock goes on. */
    uint64_t ack = chan_client_pending_ack(a->chan);
    j->batch = (struct ofctrl_batch){
        .session = a->session,
        .ack_seq = ack,
        .version = agent_map_version(a->map),
        .oldest_instr_us = ack ? a->unconfirmed_since_us : 0,
        .begun_us = a->now_us,
    };
    if (ack) {
        /* Instructions from now on start the latency clock again. */
        a->unconfirmed_since_us = 0;
    }
    j->activation = a->activation_due;
    a->activation_due = false;
    agent_vnet_batch_begin(a);
    pl_engine_get_stats(a->engine, &j->e0);
    j->stage = SYNC_VIEWS;
}

/* The job ends without a batch: what it was to confirm waits for the
 * next one. */
static void
give_up(struct agent_core *a)
{
    struct agent_sync_job *j = a->job;
    if (j->batch.oldest_instr_us && j->batch.session == a->session
        && (!a->unconfirmed_since_us
            || j->batch.oldest_instr_us < a->unconfirmed_since_us)) {
        a->unconfirmed_since_us = j->batch.oldest_instr_us;
    }
    a->activation_due |= j->activation;
    agent_vnet_batch_sent(a, 0);
    j->stage = SYNC_IDLE;
}

static void
views_step(struct agent_core *a, size_t *budget)
{
    struct agent_sync_job *j = a->job;
    for (; *budget && j->next < j->n; --*budget) {
        update_vm(a, j->names[j->next++]);
    }
    if (j->next == j->n) {
        mark_enforced(a);
        /* The room for the VMs' flows (two each at least) before they
         * are computed: growing a table rehashes what it holds, so it is
         * cheaper now than at 65,536 flows in some later turn. */
        pl_engine_reserve(a->engine, 2 * pl_engine_n_vms(a->engine));
        j->stage = SYNC_ENGINE;
    }
}

static void
engine_step(struct agent_core *a, size_t *budget)
{
    char err[256];
    int error = pl_engine_run_some(a->engine, budget, err, sizeof err);
    if (error == EAGAIN) {
        return;
    }
    if (error) {
        /* Nothing is sent, so nothing is acknowledged: the switch keeps
         * the last complete table rather than half of a new one. */
        log_write(LOG_ERROR, "agent", "event=flow_inexpressible node=%s "
                  "action=kept_installed error=\"%s\"", a->opt.node, err);
        give_up(a);
        return;
    }
    ofctrl_set_session(a->ofctrl, a->session);
    if (ofctrl_sync_begin(a->ofctrl, a->installed,
                          pl_engine_desired(a->engine),
                          pl_engine_tracked(a->engine))) {
        /* Not connected, or the switch is being read: the next
         * connection, or the read's end, syncs in full. */
        give_up(a);
        return;
    }
    /* The same for the switch's copy (what the read found may be far
     * fewer flows). */
    flowtab_reserve(a->installed, flowtab_count(pl_engine_desired(a->engine)));
    a->job->batch.sent_us = a->now_us;
    a->job->stage = SYNC_SEND;
}

static void
send_step(struct agent_core *a, size_t *budget)
{
    struct agent_sync_job *j = a->job;
    struct flowtab_diff d;
    size_t flows = *budget * SYNC_FLOWS_PER_UNIT;
    int error = ofctrl_sync_step(a->ofctrl, a->installed,
                                 pl_engine_desired(a->engine),
                                 pl_engine_tracked(a->engine), &flows,
                                 &j->batch, &d);
    *budget = flows / SYNC_FLOWS_PER_UNIT;
    if (error == EAGAIN) {
        return;
    }
    if (error) {
        give_up(a); /* not connected: the next connection syncs in full */
        return;
    }
    j->stage = SYNC_IDLE;
    pl_engine_clear_tracked(a->engine); /* sent */
    agent_vnet_batch_sent(a, j->batch.id);
    if (j->activation) {
        a->activation_batch = j->batch.id;
    }
    a->flow_mods += d.added + d.modified + d.deleted;
    a->syncs++;
    if (j->batch.session == a->session
        && j->batch.ack_seq > a->synced_seq) {
        a->synced_seq = j->batch.ack_seq;
    }
    for (size_t k = 0; k < a->n_pend; k++) {
        if (a->pend[k].enforced && !a->pend[k].batch) {
            a->pend[k].batch = j->batch.id;
        }
    }
    if (d.added || d.modified || d.deleted) {
        struct pl_engine_stats e1;
        pl_engine_get_stats(a->engine, &e1);
        log_write(LOG_DBG, "agent", "event=flows_synced node=%s added=%zu "
                  "modified=%zu deleted=%zu installed=%zu vms=%" PRIu64
                  " full=%" PRIu64, a->opt.node, d.added, d.modified,
                  d.deleted, flowtab_count(a->installed),
                  e1.vms - j->e0.vms, e1.full - j->e0.full);
    }
}

static uint64_t
resyncs(const struct agent_core *a)
{
    struct chan_client_stats st;
    chan_client_get_stats(a->chan, &st);
    return st.resyncs;
}

/* ofctrl hook: the installed table is now what the switch holds.  If
 * that is nothing, nothing can be blackholed: sync at once.  Otherwise
 * the first sync waits until the desired state is known, so that flows
 * the agent merely has not heard about yet are not deleted. */
void
agent_flows_read(void *aux, bool ok)
{
    struct agent_core *a = aux;
    agent_vnet_flows_read(a, ok);
    if (!ok || !flowtab_count(a->installed)) {
        a->settled = true;
    } else if (!a->settled && !a->settle_at) {
        a->settle_at = a->now_us + SETTLE_WAIT_MS * UINT64_C(1000);
    }
    agent_schedule_sync(a);
}

void
agent_settle_expired(struct agent_core *a)
{
    if (!a->settled) {
        log_write(LOG_WARN, "agent", "event=settle_timeout node=%s "
                  "wait_ms=%d resynced=%d map=%d", a->opt.node,
                  SETTLE_WAIT_MS, resyncs(a) > 0,
                  a->map_loaded);
        a->settled = true;
    }
    agent_schedule_sync(a);
}

/* The desired state is known: a resync from mignetd and a map read --
 * and, when the switch held tenant switch flows, a tenant switch push
 * (agent_vnet.c), so that a restart deletes no tenant's flows either. */
static bool
settled(struct agent_core *a)
{
    if (!a->settled && a->map_loaded && resyncs(a)
        && !agent_vnet_awaited(a)) {
        a->settled = true;
        a->settle_at = 0;
    }
    return a->settled;
}

void
agent_sync(struct agent_core *a)
{
    struct agent_sync_job *j = a->job;
    if (j->stage == SYNC_IDLE) {
        if (!a->of_ready || ofctrl_reading(a->ofctrl) || !settled(a)) {
            /* Resynced in full when the switch is back; or the switch's
             * flows, or the desired state, are not known yet. */
            return;
        }
        begin(a);
    }
    /* Stage after stage while this turn's work lasts. */
    size_t budget = SYNC_TURN_WORK;
    while (budget && j->stage != SYNC_IDLE) {
        switch (j->stage) {
        case SYNC_VIEWS:
            views_step(a, &budget);
            break;
        case SYNC_ENGINE:
            engine_step(a, &budget);
            break;
        case SYNC_SEND:
            send_step(a, &budget);
            break;
        case SYNC_IDLE:
            break;
        }
    }
}

void
agent_schedule_sync(struct agent_core *a)
{
    a->sync_due = true;
}
