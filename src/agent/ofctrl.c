/* ofctrl.c: flow batches, their barriers, and the acks or nacks they earn
 * (see ofctrl.h).
 *
 * Barriers complete in the order they were sent (ofconn calls each exactly
 * once), so the batches wait in a FIFO.  A failure starts a new
 * generation: batches of an older one may have been computed on a table
 * the switch does not hold and are never acknowledged.  It must never
 * queue an 'ack' for a batch that had an error, or that followed one
 * before a full resend was confirmed. */
#include "agent/ofctrl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/chan_client.h"
#include "agent/flowtab.h"
#include "lib/log.h"
#include "lib/util.h"

struct ofctrl {
    struct ofconn *conn;
    struct chan_client *chan;
    struct strbuf *chan_out;
    struct ofctrl_hooks hooks;
    uint64_t session;
    uint64_t gen;     /* bumped by a refused batch and by a reconnection */
    bool resend;      /* the next sync sends the whole table */
    bool full;        /* the next tracked sync diffs whole tables: the
                       * installed table is new (read, or reconnected) */
    uint64_t next_id;
    struct ofctrl_batch *fifo; /* waiting for their barrier, oldest first */
    size_t head, n, cap;
    struct ofctrl_stats stats;
    /* ofctrl_read_switch(): the table being filled, while the read is
     * under way; 'read_gen' tells a reply of an older connection. */
    struct flowtab *reading;
    uint64_t read_cookie, read_mask, read_gen;
    size_t read_n;
    /* A sync sent a slice at a time (ofctrl_sync_begin/step): where its
     * diff stands, whether it diffs whole tables, and the generation it
     * began in (its batch belongs to that one). */
    bool syncing, sync_all;
    struct flowtab_cursor cur;
    uint64_t sync_gen;
};

struct ofctrl *
ofctrl_create(struct ofconn *conn, struct chan_client *chan,
              struct strbuf *chan_out, const struct ofctrl_hooks *hooks)
{
    struct ofctrl *c = xcalloc(1, sizeof *c);
    c->conn = conn;
    c->chan = chan;
    c->chan_out = chan_out;
    if (hooks) {
        c->hooks = *hooks;
    }
    c->full = true;
    return c;
}

void
ofctrl_destroy(struct ofctrl *c)
{
    if (c) {
        free(c->fifo);
        free(c);
    }
}

void
ofctrl_set_session(struct ofctrl *c, uint64_t session)
{
    c->session = session;
}

void
ofctrl_reconnected(struct ofctrl *c)
{
    c->gen++;
    c->resend = false;
    c->full = true;
    c->syncing = false; /* its flow_mods went with the connection */
}

bool
ofctrl_reading(const struct ofctrl *c)
{
    return c->reading != NULL;
}

static void
read_finish(struct ofctrl *c, bool ok)
{
    c->reading = NULL;
    if (ok) {
        c->stats.reads++;
        c->stats.read_flows = c->read_n;
    }
    if (c->hooks.read) {
        c->hooks.read(c->hooks.aux, ok);
    }
}

/* The switch could not list its flows: delete ours, start from none. */
static void
read_failed(struct ofctrl *c, const struct ofp_msg *err)
{
    log_write(LOG_WARN, "agent", "event=flow_read_failed type=%u code=%u "
              "action=deleted_own_flows", (unsigned) err->error.type,
              (unsigned) err->error.code);
    flowtab_clear(c->reading);
    struct ofp_msg del;
    ofp_msg_init(&del, OFPT_FLOW_MOD, 0);
    ofp_flow_mod_init(&del.flow_mod, OFPFC_DELETE);
    del.flow_mod.table_id = OFPTT_ALL;
    del.flow_mod.cookie = c->read_cookie;
    del.flow_mod.cookie_mask = c->read_mask;
    (void) ofconn_send(c->conn, &del, NULL);
    read_finish(c, false);
}

/* ofconn reply: one part of the flow statistics, an error, or NULL when
 * the connection ended (the next connection reads again). */
static void
read_reply(void *aux, const struct ofp_msg *msg, bool last)
{
    struct ofctrl *c = aux;
    if (!c->reading || c->read_gen != c->gen) {
        return; /* an older connection's */
    }
    if (!msg) {
        c->reading = NULL;
        return;
    }
    if (msg->type == OFPT_ERROR) {
        read_failed(c, msg);
        return;
    }
    if (msg->type == OFPT_MULTIPART_REPLY && msg->mp.type == OFPMP_FLOW) {
        struct ofp_mp_iter it;
        struct ofp_flow_stats fs = {0};
        ofp_mp_iter_init(&it, &msg->mp);
        while (ofp_flow_stats_next(&it, &fs)) {
            if ((fs.cookie & c->read_mask) != c->read_cookie) {
                continue; /* not ours, whatever the switch filtered */
            }
            struct flowtab_flow f = {
                .table = fs.table_id,
                .priority = fs.priority,
                .cookie = fs.cookie,
                .match = fs.match,
                .insts = fs.insts, /* copied by flowtab_put */
            };
            flowtab_put(c->reading, &f);
            c->read_n++;
        }
        ofp_flow_stats_destroy(&fs);
    }
    if (last) {
        log_write(LOG_INF, "agent", "event=flows_read flows=%zu",
                  flowtab_count(c->reading));
        read_finish(c, true);
    }
}

void
ofctrl_flow_stats_request(struct ofp_msg *msg, uint64_t cookie,
                          uint64_t cookie_mask)
{
    ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 0);
    msg->mp.type = OFPMP_FLOW;
    msg->mp.flow_req.table_id = OFPTT_ALL;
    msg->mp.flow_req.out_port = OFPP_ANY;
    msg->mp.flow_req.out_group = OFPG_ANY;
    msg->mp.flow_req.cookie = cookie & cookie_mask;
    msg->mp.flow_req.cookie_mask = cookie_mask;
}

int
ofctrl_read_switch(struct ofctrl *c, struct flowtab *installed,
                   uint64_t cookie, uint64_t cookie_mask)
{
    if (ofconn_get_state(c->conn) != OFCONN_READY) {
        return ENOTCONN;
    }
    flowtab_clear(installed);
    c->full = true;
    struct ofp_msg req;
    ofctrl_flow_stats_request(&req, cookie, cookie_mask);
    c->reading = installed;
    c->read_cookie = cookie & cookie_mask;
    c->read_mask = cookie_mask;
    c->read_gen = c->gen;
    c->read_n = 0;
    if (ofconn_request(c->conn, &req, read_reply, c, NULL)) {
        c->reading = NULL;
        return ENOTCONN;
    }
    return 0;
}

bool
ofctrl_failed(const struct ofctrl *c)
{
    return c->resend;
}

void
ofctrl_get_stats(const struct ofctrl *c, struct ofctrl_stats *out)
{
    *out = c->stats;
}

static enum ofctrl_outcome
judge(struct ofctrl *c, const struct ofctrl_batch *b,
      const struct ofconn_barrier_result *r)
{
    if (r->closed) {
        c->stats.lost++;
        return OFCTRL_LOST;
    }
    bool ours = b->session == c->session && b->ack_seq;
    uint64_t now = c->hooks.now_ms ? c->hooks.now_ms(c->hooks.aux) : 0;
    if (r->n_errors) {
        c->stats.refused++;
        c->stats.ofp_errors += r->n_errors;
        if (b->gen == c->gen) {
            c->gen++;
            c->resend = true;
        }
        log_write(LOG_WARN, "agent", "event=batch_refused batch=%llu "
                  "seq=%llu errors=%u first_type=%u first_code=%u",
                  (unsigned long long) b->id,
                  (unsigned long long) b->ack_seq, (unsigned) r->n_errors,
                  (unsigned) r->first_type, (unsigned) r->first_code);
        if (ours) {
            chan_client_nack(c->chan, b->ack_seq, r->first_type,
                             r->first_code, now, c->chan_out);
        }
        return OFCTRL_REFUSED;
    }
    if (b->gen != c->gen) {
        c->stats.stale++;
        return OFCTRL_STALE;
    }
    c->stats.confirmed++;
    if (ours) {
        chan_client_ack(c->chan, b->ack_seq, now, c->chan_out);
    }
    return OFCTRL_CONFIRMED;
}

static void
barrier_cb(void *aux, const struct ofconn_barrier_result *r)
{
    struct ofctrl *c = aux;
    if (!c->n) {
        return; /* cannot happen: one callback per barrier */
    }
    struct ofctrl_batch b = c->fifo[c->head];
    c->head++;
    c->n--;
    if (!c->n) {
        c->head = 0;
    }
    enum ofctrl_outcome o = judge(c, &b, r);
    if (c->hooks.done) {
        c->hooks.done(c->hooks.aux, &b, o, r);
    }
}

struct stale_walk {
    const struct flowtab *desired;
    struct flowtab *stale;
};

static void
collect_stale(void *aux, const struct flowtab_flow *f)
{
    struct stale_walk *w = aux;
    if (!flowtab_find(w->desired, f->table, f->priority, &f->match)) {
        flowtab_put(w->stale, f);
    }
}

static void
put_flow(void *aux, const struct flowtab_flow *f)
{
    flowtab_put(aux, f);
}

/* After a failure the installed table is not what the switch holds: keep
 * in it only what must be deleted, so every desired flow is added again. */
static void
forget_installed(struct flowtab *installed, const struct flowtab *desired)
{
    struct stale_walk w = {desired, flowtab_create()};
    flowtab_walk(installed, collect_stale, &w);
    flowtab_clear(installed);
    flowtab_walk(w.stale, put_flow, installed);
    flowtab_destroy(w.stale);
}

/* Sends the flow_mods in 'b' (one slice of a sync). */
static void
send_mods(struct ofctrl *c, const struct ofpbuf *b)
{
    /* The agent encodes every flow itself; whole 1.3 messages. */
    if (b->size && ofconn_send_encoded(c->conn, b->data, b->size, NULL, NULL)) {
        abort();
    }
}

/* Closes the sync with a barrier for 'batch': the barrier's result
 * carries the errors of every slice's flow_mods. */
static void
send_barrier(struct ofctrl *c, const struct flowtab_diff *d,
             const struct flowtab *installed, struct ofctrl_batch *batch,
             struct flowtab_diff *diffp)
{
    if (ofconn_barrier(c->conn, barrier_cb, c)) {
        abort();
    }
    batch->id = ++c->next_id;
    batch->gen = c->sync_gen;
    batch->n_mods = d->added + d->modified + d->deleted;
    batch->n_installed = flowtab_count(installed);
    if (c->head + c->n == c->cap && c->head) {
        memmove(c->fifo, c->fifo + c->head, c->n * sizeof *c->fifo);
        c->head = 0;
    }
    c->fifo = xgrow(c->fifo, &c->cap, c->head + c->n + 1, sizeof *c->fifo);
    c->fifo[c->head + c->n++] = *batch;
    c->stats.batches++;
    if (diffp) {
        *diffp = *d;
    }
}

/* Whether a sync may go now: 0, ENOTCONN or EAGAIN (see ofctrl.h). */
static int
sync_ready(const struct ofctrl *c)
{
    if (ofconn_get_state(c->conn) != OFCONN_READY) {
        return ENOTCONN;
    }
    return c->reading ? EAGAIN : 0;
}

int
ofctrl_sync_begin(struct ofctrl *c, struct flowtab *installed,
                  const struct flowtab *desired, const struct flowtab *tracked)
{
    int error = sync_ready(c);
    if (error) {
        return error;
    }
    if (c->syncing) {
        return EBUSY;
    }
    if (c->resend) {
        forget_installed(installed, desired);
        c->resend = false;
        c->full = true;
    }
    c->sync_all = c->full || !tracked;
    c->full = false;
    c->syncing = true;
    c->sync_gen = c->gen;
    flowtab_cursor_init(&c->cur);
    return 0;
}

int
ofctrl_sync_step(struct ofctrl *c, struct flowtab *installed,
                 const struct flowtab *desired, const struct flowtab *tracked,
                 size_t *budget, struct ofctrl_batch *batch,
                 struct flowtab_diff *diffp)
{
    if (!c->syncing) {
        return EINVAL;
    }
    if (ofconn_get_state(c->conn) != OFCONN_READY) {
        c->syncing = false;
        return ENOTCONN;
    }
    struct ofpbuf b;
    ofpbuf_init(&b, 4096);
    uint32_t xid = 1; /* ofconn gives every message its own */
    bool done = flowtab_sync_step(installed, desired,
                                  c->sync_all ? NULL : tracked, &b, &xid,
                                  &c->cur, budget);
    send_mods(c, &b);
    ofpbuf_uninit(&b);
    if (!done) {
        return EAGAIN;
    }
    c->syncing = false;
    send_barrier(c, &c->cur.diff, installed, batch, diffp);
    return 0;
}

/* Both syncs in one call: the keys of 'tracked', or every key when it is
 * NULL or the installed table is new. */
static int
sync_keys(struct ofctrl *c, struct flowtab *installed,
          const struct flowtab *desired, const struct flowtab *tracked,
          struct ofctrl_batch *batch, struct flowtab_diff *diffp)
{
    int error = ofctrl_sync_begin(c, installed, desired, tracked);
    if (!error) {
        size_t budget = SIZE_MAX;
        error = ofctrl_sync_step(c, installed, desired, tracked, &budget,
                                 batch, diffp);
    }
    return error;
}

int
ofctrl_sync(struct ofctrl *c, struct flowtab *installed,
            struct flowtab *desired, struct ofctrl_batch *batch,
            struct flowtab_diff *diffp)
{
    int error = sync_keys(c, installed, desired, NULL, batch, diffp);
    if (!error) {
        flowtab_clear(desired);
    }
    return error;
}

int
ofctrl_sync_tracked(struct ofctrl *c, struct flowtab *installed,
                    const struct flowtab *desired,
                    const struct flowtab *tracked,
                    struct ofctrl_batch *batch, struct flowtab_diff *diffp)
{
    return sync_keys(c, installed, desired, tracked, batch, diffp);
}
