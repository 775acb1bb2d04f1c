/* vswitch.c: the set of tenant virtual switches -- definitions, ports and
 * their tunnel keys, which nodes are up, and the dispatch of node messages
 * and timers to the switch they are for.
 *
 * Sans-I/O: no clock, no socket; every input carries 'now_ms'. */
#include "mignet/vnet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "vnet/vnet_private.h"

void
vnet_options_init(struct vnet_options *o)
{
    memset(o, 0, sizeof *o);
    o->key_base = 0xf00000;
    o->key_max = VNI_MAX;
    o->seq_base = UINT64_C(1) << 62;
    o->stats_timeout_ms = 1000;
    o->merge_window_ms = 1000;
}

struct vnet *
vnet_create(const struct vnet_options *opts)
{
    struct vnet *v = xcalloc(1, sizeof *v);
    if (opts) {
        v->opts = *opts;
    } else {
        vnet_options_init(&v->opts);
    }
    v->next_seq = v->opts.seq_base ? v->opts.seq_base : 1;
    if (!v->opts.key_base) {
        v->opts.key_base = 1; /* Key 0 means "allocate one". */
    }
    if (v->opts.key_max < v->opts.key_base) {
        v->opts.key_max = v->opts.key_base;
    }
    v->next_key = v->opts.key_base;
    return v;
}

static void
vswitch_destroy(struct vswitch *s)
{
    if (!s) {
        return;
    }
    vtable_clear(s);
    free(s->flows);
    vconn_reset(s);
    free(s->barriers);
    free(s->sreq);
    ofpbuf_uninit(&s->in);
    ofpbuf_uninit(&s->out);
    free(s->dirty);
    vsnap_clear(&s->snap_active);
    vsnap_clear(&s->snap_staged);
    free(s->snap_active.f);
    free(s->snap_staged.f);
    vpush_nodes_destroy(s);
    free(s->ctr);
    vidx_destroy(&s->fid_idx);
    vidx_destroy(&s->ctr_idx);
    free(s);
}

void
vnet_destroy(struct vnet *v)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < v->n_sw; i++) {
        vswitch_destroy(v->sw[i]);
    }
    free(v->sw);
    free(v->up);
    free(v->q);
    free(v->orphan);
    free(v);
}

struct vswitch *
vnet_find(const struct vnet *v, const char *vs)
{
    for (size_t i = 0; vs && i < v->n_sw; i++) {
        if (!strcmp(v->sw[i]->def.id, vs)) {
            return v->sw[i];
        }
    }
    return NULL;
}

struct vport *
vswitch_port(struct vswitch *s, uint32_t port)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        if (s->ports[i].port == port) {
            return &s->ports[i];
        }
    }
    return NULL;
}

static bool
key_used(const struct vnet *v, uint32_t key)
{
    for (size_t i = 0; i < v->n_sw; i++) {
        for (size_t k = 0; k < v->sw[i]->n_ports; k++) {
            if (v->sw[i]->ports[k].key == key) {
                return true;
            }
        }
    }
    return false;
}

static int
check_key(const struct vnet *v, const struct vnet_switch_def *d, size_t i,
          char *err, size_t errlen)
{
    uint32_t key = d->ports[i].key;
    bool bad = key < v->opts.key_base || key > v->opts.key_max
               || key_used(v, key);
    for (size_t j = 0; !bad && j < i; j++) {
        bad = d->ports[j].key == key;
    }
    if (bad) {
        snprintf(err, errlen, "ports: port %u: key %u is taken or outside "
                 "the tunnel key range", (unsigned)d->ports[i].port,
                 (unsigned)key);
        return EINVAL;
    }
    return 0;
}

static int
check_def(const struct vnet *v, const struct vnet_switch_def *d, char *err,
          size_t errlen)
{
    if (!mn_name_valid(d->id)) {
        snprintf(err, errlen, "id: not 1-63 characters of [A-Za-z0-9._:-]");
        return EINVAL;
    }
    if (d->tenant[0] && !mn_name_valid(d->tenant)) {
        snprintf(err, errlen, "tenant: not a valid name");
        return EINVAL;
    }
    if (d->vni > VNI_MAX || d->vni >= v->opts.key_base) {
        snprintf(err, errlen, "vni: must be below the tunnel key base %u",
                 (unsigned)v->opts.key_base);
        return EINVAL;
    }
    if (d->n_ports > VNET_MAX_PORTS) {
        snprintf(err, errlen, "ports: at most %d", VNET_MAX_PORTS);
        return EINVAL;
    }
    for (size_t i = 0; i < d->n_ports; i++) {
        const struct vnet_port_def *p = &d->ports[i];
        if (p->port == 0 || p->port > OFPP_MAX) {
            snprintf(err, errlen, "ports: %u is not a port number",
                     (unsigned)p->port);
            return EINVAL;
        }
        if (!mn_name_valid(p->vm)) {
            snprintf(err, errlen, "ports: port %u: bad VM id",
                     (unsigned)p->port);
            return EINVAL;
        }
        if (p->key && check_key(v, d, i, err, errlen)) {
            return EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (d->ports[j].port == p->port
                || !strcmp(d->ports[j].vm, p->vm)) {
                snprintf(err, errlen, "ports: port %u or VM %s twice",
                         (unsigned)p->port, p->vm);
                return EINVAL;
            }
        }
    }
    return 0;
}

/* Keys not used by any switch nor given in 'd', counted up to d->n_ports
 * (enough to know whether 'd' fits), from 'next_key' on, wrapping. */
static size_t
free_keys(const struct vnet *v, const struct vnet_switch_def *d)
{
    uint64_t range = (uint64_t)v->opts.key_max - v->opts.key_base + 1;
    uint64_t k = v->next_key;
    size_t n = 0;
    for (uint64_t i = 0; i < range && n < d->n_ports; i++) {
        bool given = false;
        for (size_t p = 0; p < d->n_ports && !given; p++) {
            given = d->ports[p].key == k;
        }
        n += !given && !key_used(v, (uint32_t)k);
        k = k >= v->opts.key_max ? v->opts.key_base : k + 1;
    }
    return n;
}

/* The next key no switch (nor 's', being built) uses, from 'next_key' on,
 * wrapping to key_base.  free_keys() said there is one. */
static uint32_t
alloc_key(struct vnet *v, const struct vswitch *s)
{
    for (;;) {
        uint32_t k = v->next_key;
        v->next_key = k >= v->opts.key_max ? v->opts.key_base : k + 1;
        bool mine = false;
        for (size_t i = 0; i < s->n_ports && !mine; i++) {
            mine = s->ports[i].key == k;
        }
        if (!mine && !key_used(v, k)) {
            return k;
        }
    }
}

int
vnet_switch_add(struct vnet *v, const struct vnet_switch_def *d, char *err,
                size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    int e = check_def(v, d, err, errlen);
    if (e) {
        return e;
    }
    if (vnet_find(v, d->id)) {
        snprintf(err, errlen, "vswitch %s exists", d->id);
        return EEXIST;
    }
    if (free_keys(v, d) < d->n_ports) {
        snprintf(err, errlen, "no tunnel keys left");
        return ENOSPC;
    }
    struct vswitch *s = xcalloc(1, sizeof *s);
    s->vnet = v;
    s->def = *d;
    s->def.controller[VNET_TARGET_MAX] = '\0';
    if (!s->def.datapath_id) {
        s->def.datapath_id = (UINT64_C(0x6d6e) << 48)
                             | ((uint64_t)d->vni << 16)
                             | (hash_str(d->id) & 0xffff);
    }
    s->n_ports = d->n_ports;
    for (size_t i = 0; i < d->n_ports; i++) {
        struct vport *p = &s->ports[i];
        p->port = d->ports[i].port;
        snprintf(p->vm, sizeof p->vm, "%s", d->ports[i].vm);
        memcpy(p->mac, d->ports[i].mac, 6);
        p->key = d->ports[i].key;
    }
    for (size_t i = 0; i < d->n_ports; i++) {
        if (!s->ports[i].key) {
            s->ports[i].key = alloc_key(v, s);
        }
    }
    s->next_fid = 1;
    s->active = 1;
    ofpbuf_init(&s->in, 0);
    ofpbuf_init(&s->out, 0);
    vconn_reset(s);
    v->sw = xgrow(v->sw, &v->cap_sw, v->n_sw + 1, sizeof *v->sw);
    v->sw[v->n_sw++] = s;
    return 0;
}

int
vnet_switch_remove(struct vnet *v, const char *vs)
{
    for (size_t i = 0; i < v->n_sw; i++) {
        if (!strcmp(v->sw[i]->def.id, vs)) {
            struct vswitch *s = v->sw[i];
            vpush_remove_all(s);
            vswitch_destroy(s);
            memmove(&v->sw[i], &v->sw[i + 1],
                    (v->n_sw - i - 1) * sizeof *v->sw);
            v->n_sw--;
            return 0;
        }
    }
    return ENOENT;
}

const struct vnet_switch_def *
vnet_switch_def(const struct vnet *v, const char *vs)
{
    const struct vswitch *s = vnet_find(v, vs);
    return s ? &s->def : NULL;
}

uint32_t
vnet_port_key(const struct vnet *v, const char *vs, uint32_t port)
{
    struct vswitch *s = vnet_find(v, vs);
    struct vport *p = s ? vswitch_port(s, port) : NULL;
    return p ? p->key : 0;
}

size_t
vnet_n_switches(const struct vnet *v)
{
    return v->n_sw;
}

const char *
vnet_switch_id(const struct vnet *v, size_t i)
{
    return i < v->n_sw ? v->sw[i]->def.id : NULL;
}

bool
vnet_switch_info(const struct vnet *v, const char *vs,
                 struct vnet_switch_info *info)
{
    const struct vswitch *s = vnet_find(v, vs);
    if (!s) {
        return false;
    }
    memset(info, 0, sizeof *info);
    info->tenant_connected = s->connected;
    info->tenant_ready = s->ready;
    info->active = s->active;
    info->n_flows = s->n_flows;
    info->n_nodes = s->n_nodes;
    info->split = s->split;
    info->update_pending = s->phase != VTP_NONE || s->table_dirty
                           || s->n_dirty || !vpush_barrier_ready(s, s->gen);
    return true;
}

void
vnet_get_counters(const struct vnet *v, struct vnet_counters *c)
{
    *c = v->counters;
}

/* ---- Nodes up and down. ---------------------------------------------- */

bool
vnet_node_is_up(const struct vnet *v, const char *node)
{
    for (size_t i = 0; i < v->n_up; i++) {
        if (!strcmp(v->up[i], node)) {
            return true;
        }
    }
    return false;
}

void
vnet_node_up(struct vnet *v, const char *node, int64_t now_ms)
{
    v->now_ms = now_ms;
    if (!node || !mn_name_valid(node) || vnet_node_is_up(v, node)) {
        return;
    }
    v->up = xgrow(v->up, &v->cap_up, v->n_up + 1, sizeof *v->up);
    snprintf(v->up[v->n_up++], sizeof *v->up, "%s", node);
    for (size_t i = 0; i < v->n_sw; i++) {
        struct vnode *n = vpush_node(v->sw[i], node);
        if (n) {
            n->n_push = 0;
            n->nacks = 0;
            vpush_full(v->sw[i], n);
            vpush_progress(v->sw[i], now_ms);
        }
    }
}

void
vnet_node_down(struct vnet *v, const char *node, int64_t now_ms)
{
    v->now_ms = now_ms;
    for (size_t i = 0; i < v->n_up; i++) {
        if (!strcmp(v->up[i], node)) {
            memmove(&v->up[i], &v->up[i + 1],
                    (v->n_up - i - 1) * sizeof *v->up);
            v->n_up--;
            break;
        }
    }
    for (size_t i = 0; i < v->n_sw; i++) {
        struct vswitch *s = v->sw[i];
        struct vnode *n = vpush_node(s, node);
        if (n) {
            n->n_push = 0;
        }
        for (size_t r = 0; r < s->n_sreq; r++) {
            vconn_stats_end(s, node, s->sreq[r].seq);
        }
        vconn_answer_ready_stats(s, now_ms);
        vpush_progress(s, now_ms);
    }
}

/* ---- Node messages. --------------------------------------------------- */

bool
vnet_node_msg(struct vnet *v, const char *node, const struct chan_msg *m,
              int64_t now_ms)
{
    v->now_ms = now_ms;
    if (m->type == CHAN_ACK || m->type == CHAN_NACK) {
        return vpush_ack(v, node, m->seq, m->type == CHAN_NACK, m->ofp_type,
                         m->ofp_code, now_ms);
    }
    if (m->type != CHAN_VNET_PACKET_IN && m->type != CHAN_VNET_FSTAT
        && m->type != CHAN_VNET_PSTAT && m->type != CHAN_VNET_PTX
        && m->type != CHAN_VNET_STATS_END) {
        return false;
    }
    struct vswitch *s = vnet_find(v, m->vswitch);
    if (!s || !vpush_node(s, node)) {
        return true; /* Ours, but for a switch it does not host: ignored. */
    }
    switch (m->type) {
    case CHAN_VNET_PACKET_IN:
        vstats_packet_in(s, node, m, now_ms);
        break;
    case CHAN_VNET_FSTAT:
        vstats_fstat(s, node, m, now_ms);
        break;
    case CHAN_VNET_PSTAT:
        vstats_pstat(s, node, m);
        break;
    case CHAN_VNET_PTX:
        vstats_ptx(s, node, m);
        break;
    default:
        vconn_stats_end(s, node, m->seq);
        vconn_answer_ready_stats(s, now_ms);
        break;
    }
    return true;
}

void
vnet_queue(struct vnet *v, const char *node, const struct chan_msg *m)
{
    if (v->q_n == v->q_cap) {
        size_t cap = v->q_cap ? v->q_cap * 2 : 16;
        struct vqueued *q = xcalloc(cap, sizeof *q);
        for (size_t i = 0; i < v->q_n; i++) {
            q[i] = v->q[(v->q_head + i) % v->q_cap];
        }
        free(v->q);
        v->q = q;
        v->q_cap = cap;
        v->q_head = 0;
    }
    struct vqueued *e = &v->q[(v->q_head + v->q_n) % v->q_cap];
    snprintf(e->node, sizeof e->node, "%s", node);
    e->msg = *m;
    v->q_n++;
}

bool
vnet_node_output(struct vnet *v, char node[MN_NAME_MAX + 1],
                 struct chan_msg *msg)
{
    if (!v->q_n) {
        return false;
    }
    struct vqueued *e = &v->q[v->q_head];
    memcpy(node, e->node, MN_NAME_MAX + 1);
    *msg = e->msg;
    v->q_head = (v->q_head + 1) % v->q_cap;
    v->q_n--;
    return true;
}

/* ---- Time. ------------------------------------------------------------ */

void
vnet_run(struct vnet *v, int64_t now_ms)
{
    v->now_ms = now_ms;
    for (size_t i = 0; i < v->n_sw; i++) {
        struct vswitch *s = v->sw[i];
        vtable_expire(s, now_ms);
        vpush_flush(s);
        vconn_stats_timeouts(s, now_ms);
        vpush_progress(s, now_ms);
    }
}

int64_t
vnet_next_wake(const struct vnet *v)
{
    int64_t wake = INT64_MAX;
    for (size_t i = 0; i < v->n_sw; i++) {
        int64_t a = vtable_next_expiry(v->sw[i]);
        int64_t b = vconn_next_wake(v->sw[i]);
        wake = a < wake ? a : wake;
        wake = b < wake ? b : wake;
    }
    return wake;
}
