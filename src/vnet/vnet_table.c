/* vnet_table.c: a tenant's logical flow table (table 0) with OpenFlow 1.3
 * flow-mod semantics, and the slice checks that keep a tenant inside its
 * virtual switch.
 *
 * A refused flow-mod changes nothing: every check runs before the first
 * change.  Accepted changes are handed to vnet_push.c by flow id. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "vnet/vnet_private.h"

void
vflow_destroy(struct vflow *f)
{
    ofp_instructions_destroy(&f->insts);
}

void
vtable_clear(struct vswitch *s)
{
    for (size_t i = 0; i < s->n_flows; i++) {
        vflow_destroy(&s->flows[i]);
    }
    s->n_flows = 0;
    s->fid_idx.stale = true;
}

bool
vflow_is_table_miss(const struct vflow *f)
{
    return f->priority == 0 && f->match.present == 0;
}

/* ---- Slice checks. ---------------------------------------------------- */

static bool
is_port(const struct vswitch *s, uint32_t port)
{
    return vswitch_port((struct vswitch *)s, port) != NULL;
}

static enum ofperr
check_match(const struct vswitch *s, const struct ofp_match *m)
{
    uint32_t hidden = (1u << OFP_F_METADATA) | (1u << OFP_F_TUNNEL_ID)
                      | (1u << OFP_F_TUN_IPV4_DST);
    if (m->present & hidden) {
        return OFPERR_OFPBMC_BAD_FIELD;
    }
    if ((m->present & (1u << OFP_F_IN_PORT))
        && !is_port(s, (uint32_t)m->value[OFP_F_IN_PORT])) {
        return OFPERR_OFPBMC_BAD_VALUE;
    }
    return OFPERR_OK;
}

enum ofperr
vtable_check_actions(const struct vswitch *s, const struct ofp_actions *acts,
                     bool packet_out)
{
    for (size_t i = 0; i < acts->n; i++) {
        const struct ofp_action *a = &acts->a[i];
        if (a->type != OFP_ACT_OUTPUT) {
            return OFPERR_OFPBAC_BAD_TYPE;
        }
        uint32_t p = a->output.port;
        bool ok = is_port(s, p) || p == OFPP_IN_PORT || p == OFPP_FLOOD
                  || p == OFPP_ALL || (!packet_out && p == OFPP_CONTROLLER);
        if (!ok) {
            return OFPERR_OFPBAC_BAD_OUT_PORT;
        }
    }
    return OFPERR_OK;
}

static enum ofperr
check_insts(const struct vswitch *s, const struct ofp_instructions *in)
{
    if (in->present & ~(uint32_t)OFP_INST_APPLY) {
        return OFPERR_OFPBIC_UNSUP_INST;
    }
    return vtable_check_actions(s, &in->apply, false);
}

/* Everything an ADD or MODIFY must pass. */
static enum ofperr
check_add(const struct vswitch *s, const struct ofp_flow_mod *fm)
{
    if (fm->table_id != 0) {
        return OFPERR_OFPFMFC_BAD_TABLE_ID;
    }
    if (fm->buffer_id != OFP_NO_BUFFER) {
        return OFPERR_OFPBRC_BUFFER_UNKNOWN;
    }
    enum ofperr e = check_match(s, &fm->match);
    if (!e) {
        e = check_insts(s, &fm->insts);
    }
    if (!e && ofp_flow_mod_len(&fm->match, &fm->insts) > CHAN_FRAME_MAX) {
        e = OFPERR_OFPBAC_TOO_MANY;
    }
    return e;
}

/* ---- Selection. ------------------------------------------------------- */

static bool
overlaps(const struct ofp_match *a, const struct ofp_match *b)
{
    uint32_t both = a->present & b->present;
    for (int f = 0; f < OFP_F_N; f++) {
        if ((both & (1u << f))
            && ((a->value[f] ^ b->value[f]) & a->mask[f] & b->mask[f])) {
            return false;
        }
    }
    return true;
}

/* Whether 'fm' (a request match) admits everything flow match 'fl' does. */
static bool
subsumes(const struct ofp_match *rq, const struct ofp_match *fl)
{
    for (int f = 0; f < OFP_F_N; f++) {
        if (!(rq->present & (1u << f))) {
            continue;
        }
        if (!(fl->present & (1u << f))
            || (fl->mask[f] & rq->mask[f]) != rq->mask[f]
            || (fl->value[f] & rq->mask[f]) != rq->value[f]) {
            return false;
        }
    }
    return true;
}

static bool
outputs_to(const struct vflow *f, uint32_t port)
{
    const struct ofp_actions *a = &f->insts.apply;
    for (size_t i = 0; i < a->n; i++) {
        if (a->a[i].type == OFP_ACT_OUTPUT && a->a[i].output.port == port) {
            return true;
        }
    }
    return false;
}

bool
vtable_selects(const struct vflow *f, const struct ofp_match *m,
               uint64_t cookie, uint64_t cookie_mask, uint32_t out_port)
{
    return subsumes(m, &f->match)
           && (f->cookie & cookie_mask) == (cookie & cookie_mask)
           && (out_port == OFPP_ANY || outputs_to(f, out_port));
}

static bool
selects_strict(const struct vflow *f, const struct ofp_flow_mod *fm)
{
    return f->priority == fm->priority
           && ofp_match_equal(&f->match, &fm->match)
           && (f->cookie & fm->cookie_mask) == (fm->cookie & fm->cookie_mask);
}

/* ---- Changes. --------------------------------------------------------- */

static uint32_t
new_fid(struct vswitch *s)
{
    uint32_t fid = s->next_fid++;
    if (!s->next_fid) {
        s->next_fid = 1;
    }
    return fid;
}

static void
set_flow(struct vflow *f, const struct ofp_flow_mod *fm, int64_t now_ms)
{
    f->priority = fm->priority;
    f->idle_timeout = fm->idle_timeout;
    f->hard_timeout = fm->hard_timeout;
    f->flags = fm->flags;
    f->cookie = fm->cookie;
    f->match = fm->match;
    ofp_instructions_copy(&f->insts, &fm->insts);
    f->created_ms = now_ms;
    f->used_ms = now_ms;
}

/* Gives 'f' a fresh id and zero counters (OFPFF_RESET_COUNTS): the nodes
 * drop the old id and count the new one from zero. */
static void
reset_counts(struct vswitch *s, struct vflow *f, uint32_t xid)
{
    uint32_t old = f->fid;
    vstats_drop_flow(s, old);
    f->fid = new_fid(s);
    s->fid_idx.stale = true;
    f->packets = f->bytes = 0;
    vpush_changed(s, old, xid);
}

static enum ofperr
flow_add(struct vswitch *s, const struct ofp_flow_mod *fm, uint32_t xid,
         int64_t now_ms)
{
    size_t pos = s->n_flows;
    for (size_t i = 0; i < s->n_flows; i++) {
        struct vflow *f = &s->flows[i];
        if (f->priority == fm->priority && (fm->flags & OFPFF_CHECK_OVERLAP)
            && overlaps(&f->match, &fm->match)) {
            return OFPERR_OFPFMFC_OVERLAP;
        }
        if (f->priority == fm->priority
            && ofp_match_equal(&f->match, &fm->match)) {
            set_flow(f, fm, now_ms);
            if (fm->flags & OFPFF_RESET_COUNTS) {
                reset_counts(s, f, xid);
            }
            vpush_changed(s, f->fid, xid);
            return OFPERR_OK;
        }
        if (pos == s->n_flows && f->priority < fm->priority) {
            pos = i;
        }
    }
    if (s->n_flows >= VNET_MAX_FLOWS) {
        return OFPERR_OFPFMFC_TABLE_FULL;
    }
    s->flows = xgrow(s->flows, &s->cap_flows, s->n_flows + 1,
                     sizeof *s->flows);
    memmove(&s->flows[pos + 1], &s->flows[pos],
            (s->n_flows - pos) * sizeof *s->flows);
    s->n_flows++;
    s->fid_idx.stale = true;
    struct vflow *f = &s->flows[pos];
    memset(f, 0, sizeof *f);
    f->fid = new_fid(s);
    set_flow(f, fm, now_ms);
    vpush_changed(s, f->fid, xid);
    return OFPERR_OK;
}

static void
flow_modify(struct vswitch *s, const struct ofp_flow_mod *fm, uint32_t xid)
{
    bool strict = fm->command == OFPFC_MODIFY_STRICT;
    for (size_t i = 0; i < s->n_flows; i++) {
        struct vflow *f = &s->flows[i];
        bool hit = strict ? selects_strict(f, fm)
                          : vtable_selects(f, &fm->match, fm->cookie,
                                           fm->cookie_mask, OFPP_ANY);
        if (!hit) {
            continue;
        }
        ofp_instructions_copy(&f->insts, &fm->insts);
        if (fm->flags & OFPFF_RESET_COUNTS) {
            reset_counts(s, f, xid);
        }
        vpush_changed(s, f->fid, xid);
    }
}

static void
flow_delete(struct vswitch *s, const struct ofp_flow_mod *fm,
            int64_t now_ms)
{
    if (fm->out_group != OFPG_ANY) {
        return; /* No flow of a virtual switch uses a group. */
    }
    bool strict = fm->command == OFPFC_DELETE_STRICT;
    for (size_t i = 0; i < s->n_flows;) {
        struct vflow *f = &s->flows[i];
        bool hit = vtable_selects(f, &fm->match, fm->cookie, fm->cookie_mask,
                                  fm->out_port)
                   && (!strict || selects_strict(f, fm));
        if (hit) {
            vtable_remove(s, i, OFPRR_DELETE, now_ms);
        } else {
            i++;
        }
    }
}

enum ofperr
vtable_flow_mod(struct vswitch *s, const struct ofp_flow_mod *fm,
                uint32_t xid, int64_t now_ms)
{
    bool del = fm->command == OFPFC_DELETE
               || fm->command == OFPFC_DELETE_STRICT;
    enum ofperr e;
    if (del) {
        e = fm->table_id != 0 && fm->table_id != OFPTT_ALL
                ? OFPERR_OFPFMFC_BAD_TABLE_ID
                : check_match(s, &fm->match);
    } else if (fm->command > OFPFC_DELETE_STRICT) {
        e = OFPERR_OFPFMFC_BAD_COMMAND;
    } else {
        e = check_add(s, fm);
    }
    if (e) {
        return e;
    }
    switch (fm->command) {
    case OFPFC_ADD:
        return flow_add(s, fm, xid, now_ms);
    case OFPFC_MODIFY:
    case OFPFC_MODIFY_STRICT:
        flow_modify(s, fm, xid);
        return OFPERR_OK;
    default:
        flow_delete(s, fm, now_ms);
        return OFPERR_OK;
    }
}

/* ---- Removal and timeouts. ------------------------------------------- */

static void
send_flow_removed(struct vswitch *s, const struct vflow *f, uint8_t reason,
                  int64_t now_ms)
{
    if (!(f->flags & OFPFF_SEND_FLOW_REM) || !s->ready
        || !(s->async.flow_removed[s->role == OFPCR_ROLE_SLAVE]
              & (1u << reason))) {
        return;
    }
    struct ofp_msg m;
    ofp_msg_init(&m, OFPT_FLOW_REMOVED, 0);
    struct ofp_flow_removed *r = &m.flow_removed;
    int64_t age = now_ms > f->created_ms ? now_ms - f->created_ms : 0;
    r->cookie = f->cookie;
    r->priority = f->priority;
    r->reason = reason;
    r->table_id = 0;
    r->duration_sec = (uint32_t)(age / 1000);
    r->duration_nsec = (uint32_t)(age % 1000) * 1000000u;
    r->idle_timeout = f->idle_timeout;
    r->hard_timeout = f->hard_timeout;
    r->packet_count = f->packets;
    r->byte_count = f->bytes;
    r->match = f->match;
    vconn_send_msg(s, &m);
}

void
vtable_remove(struct vswitch *s, size_t i, uint8_t reason, int64_t now_ms)
{
    struct vflow *f = &s->flows[i];
    uint32_t fid = f->fid;
    send_flow_removed(s, f, reason, now_ms);
    vstats_drop_flow(s, fid);
    vflow_destroy(f);
    memmove(&s->flows[i], &s->flows[i + 1],
            (s->n_flows - i - 1) * sizeof *s->flows);
    s->n_flows--;
    s->fid_idx.stale = true;
    vpush_changed(s, fid, 0);
}

static int64_t
expiry(const struct vflow *f, uint8_t *reason)
{
    int64_t t = INT64_MAX;
    if (f->hard_timeout) {
        t = f->created_ms + (int64_t)f->hard_timeout * 1000;
        *reason = OFPRR_HARD_TIMEOUT;
    }
    if (f->idle_timeout) {
        int64_t i = f->used_ms + (int64_t)f->idle_timeout * 1000;
        if (i < t) {
            t = i;
            *reason = OFPRR_IDLE_TIMEOUT;
        }
    }
    return t;
}

void
vtable_expire(struct vswitch *s, int64_t now_ms)
{
    for (size_t i = 0; i < s->n_flows;) {
        uint8_t reason = 0;
        if (expiry(&s->flows[i], &reason) <= now_ms) {
            vtable_remove(s, i, reason, now_ms);
            s->vnet->counters.flows_expired++;
        } else {
            i++;
        }
    }
}

int64_t
vtable_next_expiry(const struct vswitch *s)
{
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < s->n_flows; i++) {
        uint8_t reason;
        int64_t e = expiry(&s->flows[i], &reason);
        t = e < t ? e : t;
    }
    return t;
}
