/* chan_client.c: the agent side of the agent channel (see chan_client.h).
 *
 * Applies the controller's instructions to the held entries under the
 * epoch rule (I4) and never lets an instruction with a stale epoch change
 * anything; a resync replaces the held state only once complete.  A
 * malformed or out-of-protocol message never changes the held state. */
#include "agent/chan_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "mignet/model.h"
#include "lib/strbuf.h"
#include "lib/strmap.h"

/* Entries sorted by VM id -- except while a resync builds one: then they
 * are appended as they come and found through 'index', and sorted once at
 * the end (a 50,000-VM resync would otherwise move the array for each). */
struct entry_table {
    struct chan_entry *v;
    size_t n, cap;
    bool unsorted;
    struct strmap index; /* while 'unsorted': VM id -> position */
};

struct chan_client {
    char node[MN_NAME_MAX + 1];
    char token[CHAN_TOKEN_MAX + 1]; /* hello's; "" = none (TLS) */
    struct chan_client_hooks hooks;
    bool ack;
    bool report;

    /* Session. */
    bool connected;
    bool welcomed;
    bool in_resync;
    uint64_t connected_at;
    uint64_t last_rx, last_tx;
    uint64_t pending_ack; /* highest applied seq not yet acknowledged */
    struct strbuf in;
    char leader[CHAN_ADDRESS_MAX + 1]; /* the last not_leader's hint */

    struct entry_table held;
    struct entry_table staging; /* during a resync */
    struct vm_changes changes;  /* held entries changed since drained */
    struct chan_client_stats stats;
};

/* ---- Entry tables ---- */

/* Returns the index of 'vm', or where it would go with *found false. */
static size_t
table_search(const struct entry_table *t, const char *vm, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(t->v[mid].vm, vm);
        if (!cmp) {
            *found = true;
            return mid;
        }
        if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

static const char *
table_name_of(const void *aux, uint32_t i)
{
    const struct entry_table *t = aux;
    return t->v[i].vm;
}

/* Where 'vm' is (*found), or where it goes in a sorted table. */
static size_t
table_locate(const struct entry_table *t, const char *vm, bool *found)
{
    if (!t->unsorted) {
        return table_search(t, vm, found);
    }
    uint32_t i = strmap_find(&t->index, vm);
    *found = i != STRMAP_NONE;
    return *found ? i : t->n;
}

static struct chan_entry *
table_find(const struct entry_table *t, const char *vm)
{
    bool found;
    size_t i = table_locate(t, vm, &found);
    return found ? &t->v[i] : NULL;
}

/* Inserts or replaces the entry for e->vm.  0 or ENOMEM. */
static int
table_put(struct entry_table *t, const struct chan_entry *e)
{
    bool found;
    size_t i = table_locate(t, e->vm, &found);
    if (found) {
        t->v[i] = *e;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct chan_entry *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            return ENOMEM;
        }
        t->v = v;
        t->cap = cap;
    }
    if (t->unsorted && strmap_reserve(&t->index, 1)) {
        return ENOMEM;
    }
    memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof *t->v);
    t->v[i] = *e;
    t->n++;
    if (t->unsorted) {
        strmap_insert(&t->index, t->v[i].vm, (uint32_t) i);
    }
    return 0;
}

static void
table_remove(struct entry_table *t, const char *vm)
{
    bool found;
    size_t i = table_locate(t, vm, &found);
    if (!found) {
        return;
    }
    if (!t->unsorted) {
        memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
        t->n--;
        return;
    }
    /* Unsorted: the last entry takes its place. */
    strmap_remove(&t->index, vm);
    size_t last = --t->n;
    if (i != last) {
        strmap_remove(&t->index, t->v[last].vm);
        t->v[i] = t->v[last];
        strmap_insert(&t->index, t->v[i].vm, (uint32_t) i);
    }
}

/* Empties 't'; 'unsorted': it fills in arrival order (a resync). */
static void
table_clear(struct entry_table *t, bool unsorted)
{
    if (t->unsorted) {
        strmap_destroy(&t->index);
    }
    t->n = 0;
    t->unsorted = unsorted;
    if (unsorted) {
        strmap_init(&t->index, table_name_of, t);
    }
}

static int
entry_cmp(const void *a, const void *b)
{
    const struct chan_entry *x = a, *y = b;
    return strcmp(x->vm, y->vm);
}

/* Sorts an unsorted table (names are unique: the index saw to it). */
static void
table_sort(struct entry_table *t)
{
    if (t->unsorted) {
        if (t->n > 1) { /* (qsort may not be given NULL, even for 0) */
            qsort(t->v, t->n, sizeof *t->v, entry_cmp);
        }
        strmap_destroy(&t->index);
        t->unsorted = false;
    }
}

static void
table_destroy(struct entry_table *t)
{
    table_clear(t, false);
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* ---- Lifecycle ---- */

struct chan_client *
chan_client_create(const char *node, const struct chan_client_hooks *hooks)
{
    if (!mn_name_valid(node)) {
        return NULL;
    }
    struct chan_client *c = calloc(1, sizeof *c);
    if (!c) {
        return NULL;
    }
    snprintf(c->node, sizeof c->node, "%s", node);
    if (hooks) {
        c->hooks = *hooks;
    }
    c->ack = true;
    strbuf_init(&c->in);
    vm_changes_init(&c->changes);
    return c;
}

void
chan_client_destroy(struct chan_client *c)
{
    if (c) {
        strbuf_destroy(&c->in);
        table_destroy(&c->held);
        table_destroy(&c->staging);
        vm_changes_destroy(&c->changes);
        free(c);
    }
}

void
chan_client_set_ack(struct chan_client *c, bool ack)
{
    c->ack = ack;
}

void
chan_client_set_report(struct chan_client *c, bool report)
{
    c->report = report;
}

/* ---- Output ---- */

static void
send_msg(struct chan_client *c, const struct chan_msg *msg, uint64_t now,
         struct strbuf *out)
{
    if (chan_msg_encode(msg, out) == CHAN_E_OK) {
        c->last_tx = now;
        if (c->hooks.sent) {
            c->hooks.sent(c->hooks.aux, msg);
        }
    }
}

static void
violation(struct chan_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
violation(struct chan_client *c, const char *fmt, ...)
{
    char what[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    c->stats.violations++;
    if (c->hooks.violation) {
        c->hooks.violation(c->hooks.aux, what);
    }
}

static void
state_changed(struct chan_client *c)
{
    if (c->hooks.state_changed) {
        c->hooks.state_changed(c->hooks.aux);
    }
}

static void
send_ack(struct chan_client *c, uint64_t now, struct strbuf *out)
{
    if (c->ack && c->pending_ack > c->stats.acked_seq) {
        struct chan_msg msg;
        chan_msg_init(&msg, CHAN_ACK);
        msg.seq = c->pending_ack;
        send_msg(c, &msg, now, out);
        c->stats.acked_seq = c->pending_ack;
    }
}

uint64_t
chan_client_pending_ack(const struct chan_client *c)
{
    if (c->in_resync) {
        return 0; /* the replayed state is staged, not applied yet */
    }
    return c->pending_ack > c->stats.acked_seq ? c->pending_ack : 0;
}

void
chan_client_ack(struct chan_client *c, uint64_t seq, uint64_t now,
                struct strbuf *out)
{
    if (!c->connected || !c->welcomed || c->in_resync) {
        return;
    }
    if (seq > c->pending_ack) {
        seq = c->pending_ack;
    }
    if (seq > c->stats.acked_seq) {
        struct chan_msg msg;
        chan_msg_init(&msg, CHAN_ACK);
        msg.seq = seq;
        send_msg(c, &msg, now, out);
        c->stats.acked_seq = seq;
    }
}

void
chan_client_nack(struct chan_client *c, uint64_t seq, uint16_t ofp_type,
                 uint16_t ofp_code, uint64_t now, struct strbuf *out)
{
    if (!c->connected || !c->welcomed || c->in_resync) {
        return;
    }
    if (seq > c->pending_ack) {
        seq = c->pending_ack;
    }
    if (seq > c->stats.acked_seq && seq > c->stats.nacked_seq) {
        struct chan_msg msg;
        chan_msg_init(&msg, CHAN_NACK);
        msg.seq = seq;
        msg.ofp_type = ofp_type;
        msg.ofp_code = ofp_code;
        send_msg(c, &msg, now, out);
        c->stats.nacked_seq = seq;
        c->stats.nacks++;
    }
}

/* ---- Session ---- */

bool
chan_client_set_token(struct chan_client *c, const char *token)
{
    struct chan_msg probe;
    struct strbuf sb;
    chan_msg_init(&probe, CHAN_HELLO);
    snprintf(probe.node, sizeof probe.node, "%s", c->node);
    if (strlen(token) > CHAN_TOKEN_MAX) {
        return false;
    }
    snprintf(probe.token, sizeof probe.token, "%s", token);
    strbuf_init(&sb);
    bool ok = !chan_msg_encode(&probe, &sb);
    strbuf_destroy(&sb);
    if (ok) {
        memcpy(c->token, probe.token, sizeof c->token);
    }
    return ok;
}

void
chan_client_connected(struct chan_client *c, uint64_t now,
                      struct strbuf *out)
{
    struct chan_msg hello;

    c->connected = true;
    c->welcomed = false;
    c->in_resync = false;
    table_clear(&c->staging, false);
    c->connected_at = c->last_rx = c->last_tx = now;
    c->pending_ack = 0;
    c->stats.acked_seq = 0;
    c->stats.nacked_seq = 0;
    c->stats.last_seq = 0;
    strbuf_clear(&c->in);

    chan_msg_init(&hello, CHAN_HELLO);
    snprintf(hello.node, sizeof hello.node, "%s", c->node);
    memcpy(hello.token, c->token, sizeof hello.token);
    send_msg(c, &hello, now, out);
}

void
chan_client_disconnected(struct chan_client *c)
{
    c->connected = false;
    c->welcomed = false;
    c->in_resync = false;
    table_clear(&c->staging, false);
    strbuf_clear(&c->in);
}

bool
chan_entry_relay_inherited(const struct chan_entry *e)
{
    return e->relay && e->relay_epoch != e->epoch;
}

/* An active entry delivers locally: a relay it inherited ends. */
static void
end_inherited_relay(struct chan_entry *e)
{
    if (!e->inactive && chan_entry_relay_inherited(e)) {
        e->relay = false;
        e->target[0] = e->target_address[0] = '\0';
        e->target_epoch = e->relay_epoch = 0;
        memset(&e->relay_config, 0, sizeof e->relay_config);
    }
}

/* 'e' replaces 'held' (NULL: none) at the same or a newer epoch: an
 * activation (by a frame, or an install without 'inactive') sticks for
 * its epoch, and ends an inherited relay. */
static void
carry_activation(struct chan_entry *e, const struct chan_entry *held)
{
    if (held && held->epoch == e->epoch) {
        e->activated = held->activated;
        if (!held->inactive) {
            e->inactive = false;
        }
    }
    if (e->activated) {
        e->inactive = false;
    }
    end_inherited_relay(e);
}

/* An inactive install of a newer epoch over 'held', an entry that relays:
 * 'e' goes on relaying as 'held' did (stale senders still send here)
 * until it is activated or deleted. */
static void
inherit_relay(struct chan_entry *e, const struct chan_entry *held)
{
    e->relay = true;
    memcpy(e->target, held->target, sizeof e->target);
    memcpy(e->target_address, held->target_address,
           sizeof e->target_address);
    e->target_epoch = held->target_epoch;
    e->relay_epoch = held->relay_epoch;
    e->relay_config = chan_entry_relay_inherited(held) ? held->relay_config
                                                       : held->config;
}

/* Whether a `relay` of 'epoch' names 'held''s relay: the snapshot held at
 * that epoch, or the relay an inactive entry inherited from it (a
 * retarget, I5). */
static bool
relay_names(const struct chan_entry *held, uint64_t epoch)
{
    return held->epoch == epoch
           || (held->inactive && chan_entry_relay_inherited(held)
               && held->relay_epoch == epoch);
}

/* Applies an instruction to 'table' under the epoch rule.  Returns true if
 * applied, false if refused (with '*held_epoch' the epoch held, 0 for
 * none). */
static bool
apply_instr(struct entry_table *t, const struct chan_msg *m,
            uint64_t *held_epoch, bool *nomem)
{
    struct chan_entry *held = table_find(t, m->vm);

    *held_epoch = held ? held->epoch : 0;
    *nomem = false;
    switch (m->type) {
    case CHAN_INSTALL: {
        if (held && m->epoch < held->epoch) {
            return false;
        }
        struct chan_entry e = {0};
        if (held && m->epoch == held->epoch) {
            e = *held; /* configuration update: the relay stays */
        } else if (held && held->relay && m->inactive) {
            inherit_relay(&e, held);
        }
        snprintf(e.vm, sizeof e.vm, "%s", m->vm);
        e.epoch = m->epoch;
        e.config = m->config;
        /* The install says the whole configuration: no binding in it
         * means the VM has none now. */
        e.has_binding = m->has_binding;
        memset(&e.binding, 0, sizeof e.binding);
        if (m->has_binding) {
            e.binding = m->binding;
        }
        e.inactive = m->inactive;
        e.activate_on_frame = m->activate_on_frame;
        snprintf(e.iface_id, sizeof e.iface_id, "%s", m->iface_id);
        carry_activation(&e, held);
        *nomem = table_put(t, &e) != 0;
        return !*nomem;
    }
    case CHAN_RELAY:
        if (!held || !relay_names(held, m->epoch)) {
            return false;
        }
        if (held->epoch == m->epoch) {
            held->relay = true;
            held->relay_epoch = m->epoch;
            if (m->has_binding) {
                held->has_binding = true;
                held->binding = m->binding; /* the snapshot's, as it was */
            }
        }
        snprintf(held->target, sizeof held->target, "%s", m->target);
        snprintf(held->target_address, sizeof held->target_address, "%s",
                 m->target_address);
        held->target_epoch = m->target_epoch;
        return true;
    case CHAN_DELETE:
        if (!held || held->epoch != m->epoch) {
            return false;
        }
        table_remove(t, m->vm);
        return true;
    default:
        return false;
    }
}

static void
handle_instr(struct chan_client *c, const struct chan_msg *m, uint64_t now,
             struct strbuf *out)
{
    if (!c->welcomed) {
        violation(c, "%s (seq %llu) before welcome",
                  chan_msg_type_name(m->type), (unsigned long long) m->seq);
        return;
    }
    if (m->seq <= c->stats.last_seq) {
        violation(c, "%s seq %llu not above %llu",
                  chan_msg_type_name(m->type), (unsigned long long) m->seq,
                  (unsigned long long) c->stats.last_seq);
    } else {
        c->stats.last_seq = m->seq;
    }

    uint64_t held_epoch;
    bool nomem;
    struct entry_table *t = c->in_resync ? &c->staging : &c->held;
    if (apply_instr(t, m, &held_epoch, &nomem)) {
        if (m->type == CHAN_INSTALL) {
            c->stats.installs++;
        } else if (m->type == CHAN_RELAY) {
            c->stats.relays++;
        } else {
            c->stats.deletes++;
        }
        if (!c->in_resync) {
            vm_changes_add(&c->changes, m->vm);
            state_changed(c);
        }
    } else if (nomem) {
        return; /* not applied: not acknowledged either */
    } else {
        struct chan_msg r;
        chan_msg_init(&r, CHAN_REFUSED);
        r.seq = m->seq;
        snprintf(r.vm, sizeof r.vm, "%s", m->vm);
        r.epoch = m->epoch;
        r.held_epoch = held_epoch;
        send_msg(c, &r, now, out);
        c->stats.refused++;
    }
    if (m->seq > c->pending_ack) {
        c->pending_ack = m->seq;
    }
}

static void
handle_welcome(struct chan_client *c, const struct chan_msg *m,
               uint64_t now, struct strbuf *out)
{
    if (c->welcomed) {
        violation(c, "second welcome in one session");
    }
    if (strcmp(m->node, c->node)) {
        violation(c, "welcome for node '%s', this is '%s'", m->node,
                  c->node);
    }
    c->welcomed = true;
    c->stats.sessions++;
    c->stats.map_version = m->map_version;
    c->stats.heartbeat_ms = m->heartbeat_ms;
    if (c->report) {
        for (size_t i = 0; i < c->held.n; i++) {
            struct chan_msg r;
            chan_msg_init(&r, CHAN_REPORT);
            snprintf(r.vm, sizeof r.vm, "%s", c->held.v[i].vm);
            r.epoch = c->held.v[i].epoch;
            send_msg(c, &r, now, out);
        }
    }
}

static void
handle_resync(struct chan_client *c, const struct chan_msg *m)
{
    if (!c->welcomed) {
        violation(c, "%s before welcome", chan_msg_type_name(m->type));
        return;
    }
    if (m->type == CHAN_RESYNC_BEGIN) {
        if (c->in_resync) {
            violation(c, "resync_begin inside a resync");
        }
        c->in_resync = true;
        table_clear(&c->staging, true);
        return;
    }
    if (!c->in_resync) {
        violation(c, "resync_end without resync_begin");
        return;
    }
    /* The node's state now reflects every instruction up to the seq the
     * controller had sent when the resync ended. */
    if (m->seq > c->pending_ack) {
        c->pending_ack = m->seq;
    }
    /* The resync's state replaces everything held; what the agent
     * activated at an epoch the resync still has stays active. */
    table_sort(&c->staging);
    for (size_t i = 0; i < c->staging.n; i++) {
        struct chan_entry *e = &c->staging.v[i];
        carry_activation(e, table_find(&c->held, e->vm));
    }
    struct entry_table tmp = c->held;
    c->held = c->staging;
    c->staging = tmp;
    table_clear(&c->staging, false);
    c->in_resync = false;
    c->stats.resyncs++;
    c->stats.resync_seq = m->seq;
    vm_changes_all(&c->changes);
    state_changed(c);
}

static int
handle_line(struct chan_client *c, const char *line, size_t len,
            uint64_t now, struct strbuf *out)
{
    struct chan_msg m;
    char err[160];
    enum chan_err e = chan_msg_decode(line, len, &m, err, sizeof err);

    if (c->hooks.received) {
        c->hooks.received(c->hooks.aux, line, len, e ? NULL : &m, e);
    }
    if (e) {
        struct chan_msg reply;
        chan_msg_init_error(&reply, e, err);
        send_msg(c, &reply, now, out);
        violation(c, "malformed message: %s", err);
        return chan_err_is_fatal(e) ? EPROTO : 0;
    }

    switch (m.type) {
    case CHAN_WELCOME:
        handle_welcome(c, &m, now, out);
        break;
    case CHAN_RESYNC_BEGIN:
    case CHAN_RESYNC_END:
        handle_resync(c, &m);
        break;
    case CHAN_INSTALL:
    case CHAN_RELAY:
    case CHAN_DELETE:
        handle_instr(c, &m, now, out);
        break;
    case CHAN_HEARTBEAT:
        c->stats.heartbeats++;
        break;
    case CHAN_ERROR:
        c->stats.errors++;
        break;
    case CHAN_NOT_LEADER:
        /* A replica that does not lead: the session ends here, and the
         * shell connects to the leader it names (or the next address). */
        c->stats.not_leader++;
        snprintf(c->leader, sizeof c->leader, "%s", m.address);
        return EREMCHG;
    case CHAN_MAP_BEGIN:
    case CHAN_MAP_ENTRY:
    case CHAN_MAP_END:
        break; /* map push: the agent's map, through the 'received' hook */
    case CHAN_VNET_BEGIN:
    case CHAN_VNET_PORT:
    case CHAN_VNET_FLOW:
    case CHAN_VNET_FLOW_DEL:
    case CHAN_VNET_END:
    case CHAN_VNET_DROP:
    case CHAN_VNET_REMOVE:
    case CHAN_VNET_PACKET_OUT:
    case CHAN_VNET_STATS_REQ:
        if (!c->welcomed) {
            violation(c, "%s before welcome", chan_msg_type_name(m.type));
        } else if (c->ack && (m.type == CHAN_VNET_END
                              || m.type == CHAN_VNET_DROP
                              || m.type == CHAN_VNET_REMOVE)) {
            /* A client that acknowledges on its own (the test agent: no
             * data plane) acknowledges a tenant switch instruction on
             * arrival; mignet-agent does after its barrier.  Their seqs
             * are mignetd's vnet module's own: each is acknowledged
             * exactly, outside the instructions' cumulative acks. */
            struct chan_msg ack;
            chan_msg_init(&ack, CHAN_ACK);
            ack.seq = m.seq;
            send_msg(c, &ack, now, out);
        }
        break; /* tenant switches: the agent's, through 'received' */
    case CHAN_SUBSCRIBE:
    case CHAN_MAP_ACK:
    case CHAN_HELLO:
    case CHAN_ACK:
    case CHAN_REFRESH:
    case CHAN_REPORT:
    case CHAN_REFUSED:
    case CHAN_NACK:
    case CHAN_ACTIVATED:
    default:
        violation(c, "agent-side message '%s' from the controller",
                  chan_msg_type_name(m.type));
        break;
    }
    return 0;
}

int
chan_client_receive(struct chan_client *c, const char *data, size_t len,
                    uint64_t now, struct strbuf *out)
{
    int error = 0;

    if (!c->connected) {
        return ENOTCONN;
    }
    c->last_rx = now;
    if (strbuf_append(&c->in, data, len)) {
        return ENOMEM;
    }
    size_t pos = 0;
    while (!error) {
        size_t line_len, used;
        if (chan_frame(c->in.data + pos, c->in.len - pos, &line_len, &used)) {
            struct chan_msg reply;
            chan_msg_init_error(&reply, CHAN_E_TOO_LONG, NULL);
            send_msg(c, &reply, now, out);
            violation(c, "line longer than %d bytes", CHAN_MSG_MAX_LINE);
            error = EMSGSIZE;
            break;
        }
        if (!used) {
            break;
        }
        error = handle_line(c, c->in.data + pos, line_len, now, out);
        pos += used;
    }
    strbuf_consume(&c->in, pos);
    if (!c->in_resync) {
        send_ack(c, now, out);
    }
    return error;
}

const char *
chan_client_leader(const struct chan_client *c)
{
    return c->leader;
}

int
chan_client_run(struct chan_client *c, uint64_t now, struct strbuf *out)
{
    if (!c->connected) {
        return 0;
    }
    if (!c->welcomed) {
        return now - c->connected_at >= CHAN_CLIENT_WELCOME_TIMEOUT_MS
                   ? ETIMEDOUT
                   : 0;
    }
    uint64_t hb = c->stats.heartbeat_ms;
    if (!hb) {
        return 0;
    }
    if (now - c->last_rx >= 3 * hb) {
        return ETIMEDOUT;
    }
    if (now - c->last_tx >= hb) {
        struct chan_msg msg;
        chan_msg_init(&msg, CHAN_HEARTBEAT);
        send_msg(c, &msg, now, out);
    }
    return 0;
}

uint64_t
chan_client_next_wake(const struct chan_client *c)
{
    if (!c->connected) {
        return UINT64_MAX;
    }
    if (!c->welcomed) {
        return c->connected_at + CHAN_CLIENT_WELCOME_TIMEOUT_MS;
    }
    uint64_t hb = c->stats.heartbeat_ms;
    if (!hb) {
        return UINT64_MAX;
    }
    uint64_t beat = c->last_tx + hb;
    uint64_t dead = c->last_rx + 3 * hb;
    return beat < dead ? beat : dead;
}

bool
chan_client_send(struct chan_client *c, const struct chan_msg *msg,
                 uint64_t now, struct strbuf *out)
{
    if (!c->connected || !c->welcomed) {
        return false;
    }
    size_t before = out->len;
    send_msg(c, msg, now, out);
    return out->len > before;
}

void
chan_client_refreshed(struct chan_client *c, uint64_t version,
                      uint64_t now, struct strbuf *out)
{
    if (c->connected && c->welcomed) {
        struct chan_msg msg;
        chan_msg_init(&msg, CHAN_REFRESH);
        msg.version = version;
        send_msg(c, &msg, now, out);
    }
}

bool
chan_client_activate(struct chan_client *c, const char *vm, uint64_t epoch)
{
    struct chan_entry *e = table_find(&c->held, vm);
    if (!e || e->epoch != epoch || !e->activate_on_frame || e->activated) {
        return false;
    }
    e->activated = true;
    e->inactive = false;
    end_inherited_relay(e);
    c->stats.activations++;
    vm_changes_add(&c->changes, vm);
    state_changed(c);
    return true;
}

bool
chan_client_activation_unreported(const struct chan_entry *e)
{
    return e->activated && e->activate_on_frame;
}

size_t
chan_client_report_activated(struct chan_client *c, uint64_t now,
                             struct strbuf *out)
{
    size_t n = 0;
    if (!c->connected || !c->welcomed || c->in_resync) {
        return 0;
    }
    for (size_t i = 0; i < c->held.n; i++) {
        const struct chan_entry *e = &c->held.v[i];
        if (chan_client_activation_unreported(e)) {
            struct chan_msg m;
            chan_msg_init(&m, CHAN_ACTIVATED);
            snprintf(m.vm, sizeof m.vm, "%s", e->vm);
            m.epoch = e->epoch;
            send_msg(c, &m, now, out);
            n++;
        }
    }
    c->stats.activated_sent += n;
    return n;
}

bool
chan_client_welcomed(const struct chan_client *c)
{
    return c->welcomed;
}

bool
chan_client_in_resync(const struct chan_client *c)
{
    return c->in_resync;
}

const char *
chan_client_node(const struct chan_client *c)
{
    return c->node;
}

void
chan_client_get_stats(const struct chan_client *c,
                      struct chan_client_stats *stats)
{
    *stats = c->stats;
}

size_t
chan_client_n_entries(const struct chan_client *c)
{
    return c->held.n;
}

const struct chan_entry *
chan_client_entry(const struct chan_client *c, size_t i)
{
    return i < c->held.n ? &c->held.v[i] : NULL;
}

const struct chan_entry *
chan_client_find(const struct chan_client *c, const char *vm)
{
    return table_find(&c->held, vm);
}

const struct vm_changes *
chan_client_changes(const struct chan_client *c)
{
    return &c->changes;
}

void
chan_client_clear_changes(struct chan_client *c)
{
    vm_changes_clear(&c->changes);
}
