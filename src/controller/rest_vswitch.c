/* rest_vswitch.c: POST/GET /v1/vswitches, GET/DELETE /v1/vswitches/{id},
 * GET /v1/vswitches/{id}/flows and POST /v1/vswitches/{id}/migrate
 * (rest_vswitch.h).
 *
 * A switch's ports are VMs mignet knows, each in at most one switch, with
 * the switch's VNI as their own (that VNI carries the tenant's traffic
 * on the overlay; docs/dataplane.md) below --vnet-key-base (the ports'
 * tunnel keys live above it); two switches never share a VNI.  A refusal
 * changes nothing.
 *
 * Durability ("Nothing lost", DESIGN): an accepted switch is a
 * STORE_VSWITCH record, its definition as the JSON text of a POST body,
 * written in the batch of the change (the 201 and 204 go out after its
 * commit; a failed commit stops mignetd before anything is answered, so
 * a switch added in memory then never outlives the process), and read
 * back at start (rest_vswitch_load) through the same checks as a POST. */
#include "controller/rest_vswitch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "controller/ctl.h"
#include "controller/vnet_ctl.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/ofconn.h"
#include "lib/util.h"
#include "mignet/core.h"
#include "mignet/store.h"
#include "mignet/vnet.h"

static json_t *
rest_vswitch_json(struct ctl *ctl, const char *vs, bool with_flows)
{
    struct vnet *vnet = vnet_ctl_vnet(ctl->vnet);
    json_t *o = vnet_switch_to_json(vnet, vs, with_flows,
                                    (int64_t) clock_run_ms());
    if (!o) {
        return NULL;
    }
    const uint64_t *ids;
    size_t n = vnet_ctl_ensemble(ctl->vnet, vs, &ids);
    json_t *ens = json_null();
    if (n) {
        ens = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(ens, js_u64(ids[i]));
        }
    }
    json_object_set_new(o, "ensemble", ens);
    json_object_set_new(o, "controller_connected",
                        json_boolean(vnet_ctl_connected(ctl->vnet, vs)));
    return o;
}

/* The switch that already has VM 'vm' as a port, or NULL. */
static const char *
vswitch_of_vm(const struct vnet *vnet, const char *vm)
{
    for (size_t i = 0; i < vnet_n_switches(vnet); i++) {
        const char *id = vnet_switch_id(vnet, i);
        const struct vnet_switch_def *d = vnet_switch_def(vnet, id);
        for (size_t p = 0; d && p < d->n_ports; p++) {
            if (!strcmp(d->ports[p].vm, vm)) {
                return id;
            }
        }
    }
    return NULL;
}

const char *
rest_vswitch_of_vm(struct ctl *ctl, const char *vm)
{
    return vswitch_of_vm(vnet_ctl_vnet(ctl->vnet), vm);
}

/* A port of a switch read back at start ('restore') that no longer
 * fits: logged and left out (the VM went, or is not what it was). */
static void
rest_vswitch_port_dropped(const char *vs, const char *vm, const char *why)
{
    log_write(LOG_WARN, "vnet", "event=vswitch_port_dropped vswitch=%s "
              "vm=%s reason=%s", vs, vm, why);
}

/* The request as a switch definition, checked against the core.  With
 * 'restore' (a record read back at start), a port whose VM is gone, has
 * another VNI or is a port elsewhere is logged and left out instead. */
static bool
rest_vswitch_def(struct ctl *ctl, const struct rest_vswitch_req *r,
                 bool restore, struct vnet_switch_def *d,
                 struct rest_error *e)
{
    struct vnet *vnet = vnet_ctl_vnet(ctl->vnet);
    if (vnet_switch_def(vnet, r->id)) {
        return rest_fail(e, 409, "exists", "virtual switch '%s' exists",
                         r->id);
    }
    if (r->vni >= ctl->opts.vnet_key_base) {
        return rest_fail(e, 422, "invalid_value", "'vni' must be below "
                         "--vnet-key-base (%u)",
                         (unsigned) ctl->opts.vnet_key_base);
    }
    for (size_t i = 0; i < vnet_n_switches(vnet); i++) {
        const struct vnet_switch_def *o =
            vnet_switch_def(vnet, vnet_switch_id(vnet, i));
        if (o && o->vni == r->vni) {
            return rest_fail(e, 409, "vni_in_use", "virtual switch '%s' "
                             "has VNI %u", o->id, (unsigned) r->vni);
        }
    }
    if (r->n_ports > VNET_MAX_PORTS) {
        return rest_fail(e, 422, "invalid_value", "at most %d ports",
                         VNET_MAX_PORTS);
    }
    memset(d, 0, sizeof *d);
    snprintf(d->id, sizeof d->id, "%s", r->id);
    snprintf(d->tenant, sizeof d->tenant, "%s", r->tenant);
    snprintf(d->controller, sizeof d->controller, "%s", r->controller);
    d->vni = r->vni;
    d->datapath_id = r->has_dpid ? r->dpid : 0;
    for (size_t i = 0; i < r->n_ports; i++) {
        const char *vm_name = r->ports[i].vm;
        uint32_t vm = core_vm_find(ctl->core, vm_name);
        struct core_vm_info vi;
        if (vm == CORE_NONE || !core_vm_info(ctl->core, vm, &vi)) {
            if (restore) {
                rest_vswitch_port_dropped(r->id, vm_name, "no_vm");
                continue;
            }
            return rest_fail(e, 404, "unknown_vm", "no VM '%s'", vm_name);
        }
        if (vi.config.vni != r->vni) {
            if (restore) {
                rest_vswitch_port_dropped(r->id, vm_name, "vni_mismatch");
                continue;
            }
            return rest_fail(e, 422, "vni_mismatch", "VM '%s' has VNI %u, "
                             "the switch %u", vm_name,
                             (unsigned) vi.config.vni, (unsigned) r->vni);
        }
        const char *other = vswitch_of_vm(vnet, vm_name);
        if (other) {
            if (restore) {
                rest_vswitch_port_dropped(r->id, vm_name, "vm_in_vswitch");
                continue;
            }
            return rest_fail(e, 409, "vm_in_vswitch", "VM '%s' is a port "
                             "of virtual switch '%s'", vm_name, other);
        }
        struct vnet_port_def *p = &d->ports[d->n_ports++];
        p->port = r->ports[i].port;
        snprintf(p->vm, sizeof p->vm, "%s", vm_name);
        memcpy(p->mac, vi.config.mac, sizeof p->mac);
    }
    return true;
}

/* The switch's STORE_VSWITCH record: 'd' as the JSON text of the POST
 * body that makes it (rest_parse_vswitch reads it back); NULL when out of
 * memory.  The caller frees it. */
static char *
rest_vswitch_record(const struct vnet_switch_def *d)
{
    json_t *ports = json_object();
    json_t *o = json_object();
    if (!ports || !o) {
        json_decref(ports);
        json_decref(o);
        return NULL;
    }
    for (size_t i = 0; i < d->n_ports; i++) {
        json_object_set_new(ports, d->ports[i].vm,
                            json_integer((json_int_t) d->ports[i].port));
    }
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "tenant", json_string(d->tenant));
    json_object_set_new(o, "vni", json_integer((json_int_t) d->vni));
    json_object_set_new(o, "controller", json_string(d->controller));
    if (d->datapath_id) { /* given (0: derived from the VNI again) */
        json_object_set_new(o, "datapath_id", js_u64(d->datapath_id));
    }
    json_object_set_new(o, "ports", ports);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

/* Writes switch 'vs' (d != NULL) or its deletion (d == NULL) to the
 * store, for this batch's commit.  0 or errno. */
static int
rest_vswitch_persist(struct ctl *ctl, const char *vs,
                     const struct vnet_switch_def *d)
{
    struct store_rec rec = {.type = STORE_VSWITCH, .del = d == NULL};
    rec.vswitch.name = vs;
    char *text = NULL;
    if (d) {
        text = rest_vswitch_record(d);
        if (!text) {
            return ENOMEM;
        }
        rec.vswitch.record = text;
        rec.vswitch.len = strlen(text);
        if (rec.vswitch.len > STORE_VSWITCH_RECORD_MAX) {
            free(text);
            return E2BIG;
        }
    }
    ctl->dirty = true;
    int err = store_put(ctl->store, &rec);
    free(text);
    if (err) {
        log_write(LOG_ERROR, "store", "event=put_failed vswitch=%s "
                  "err=\"%s\"", vs, strerror(err));
    }
    return err;
}

/* Adds the switch of request 'r' (a POST, or with 'restore' a record read
 * back at start): checks it, hands it to the vnet layer, writes its
 * record (at start only when a port was left out; rest_vswitch_load
 * commits it) and starts dialing its controller.  A refusal changes nothing.  On success '*d' is the
 * switch's definition. */
static bool
rest_vswitch_add(struct ctl *ctl, const struct rest_vswitch_req *r,
                 bool restore, struct vnet_switch_def *d,
                 struct rest_error *e)
{
    char err[160];
    if (!rest_vswitch_def(ctl, r, restore, d, e)) {
        return false;
    }
    char target_err[128];
    struct sockaddr_storage ss;
    int sslen;
    if (ofconn_parse_target(d->controller, &ss, &sslen, target_err,
                            sizeof target_err)) {
        return rest_fail(e, 422, "invalid_value", "'controller': %s",
                         target_err);
    }
    struct vnet *vnet = vnet_ctl_vnet(ctl->vnet);
    int error = vnet_switch_add(vnet, d, err, sizeof err);
    if (error) {
        return rest_fail(e, error == EEXIST ? 409 : 422,
                         error == EEXIST   ? "exists"
                         : error == ENOSPC ? "no_tunnel_keys"
                                           : "invalid_value",
                         "%s", err);
    }
    if ((!restore || d->n_ports != r->n_ports)
        && rest_vswitch_persist(ctl, d->id, d)) {
        vnet_switch_remove(vnet, d->id);
        return rest_fail(e, 500, "store_failed", "the durable store "
                         "failed");
    }
    vnet_ctl_switch_added(ctl->vnet, d->id);
    return true;
}

static bool
rest_vswitch_create(struct ctl *ctl, const char *body, size_t len,
                    int *status, json_t **out, char *loc, size_t loclen,
                    struct rest_error *e)
{
    struct rest_vswitch_req r;
    if (!rest_parse_vswitch(body, len, &r, e)) {
        return false;
    }
    struct vnet_switch_def *d = xcalloc(1, sizeof *d);
    bool ok = rest_vswitch_add(ctl, &r, false, d, e);
    if (ok) {
        log_write(LOG_INF, "rest", "event=vswitch_created vswitch=%s "
                  "vni=%u ports=%zu", d->id, (unsigned) d->vni, d->n_ports);
        *status = 201;
        *out = rest_vswitch_json(ctl, d->id, false);
        snprintf(loc, loclen, "/v1/vswitches/%s", d->id);
    }
    free(d);
    rest_vswitch_req_destroy(&r);
    return ok;
}

/* ---- Start: the switches the store holds ---- */

struct rest_vswitch_loaded {
    char name[MN_NAME_MAX + 1];
    char *record; /* NUL-terminated copy */
    size_t len;
};
struct rest_vswitch_loading {
    struct rest_vswitch_loaded *recs;
    size_t n, cap;
};

static int
rest_vswitch_load_cb(void *aux, const struct store_rec *rec)
{
    struct rest_vswitch_loading *l = aux;
    if (rec->type != STORE_VSWITCH || rec->del) {
        return 0;
    }
    l->recs = xgrow(l->recs, &l->cap, l->n + 1, sizeof *l->recs);
    struct rest_vswitch_loaded *c = &l->recs[l->n++];
    snprintf(c->name, sizeof c->name, "%s",
             rec->vswitch.name ? rec->vswitch.name : "");
    c->len = rec->vswitch.record ? rec->vswitch.len : 0;
    c->record = xmalloc(c->len + 1);
    if (c->len) {
        memcpy(c->record, rec->vswitch.record, c->len);
    }
    c->record[c->len] = '\0';
    return 0;
}

/* One record read back: parsed and added as a POST would be.  False with
 * 'err' saying why when it is damaged or cannot be added any more. */
static bool
rest_vswitch_restore(struct ctl *ctl, const struct rest_vswitch_loaded *c,
                     char *err, size_t errlen)
{
    struct rest_vswitch_req r;
    struct rest_error e;
    if (!rest_parse_vswitch(c->record, c->len, &r, &e)) {
        snprintf(err, errlen, "virtual switch '%s': the record does not "
                 "parse: %s", c->name, e.message);
        return false;
    }
    bool ok = true;
    if (strcmp(r.id, c->name)) {
        snprintf(err, errlen, "virtual switch '%s': the record names "
                 "'%s'", c->name, r.id);
        ok = false;
    }
    struct vnet_switch_def *d = xcalloc(1, sizeof *d);
    if (ok && !rest_vswitch_add(ctl, &r, true, d, &e)) {
        snprintf(err, errlen, "virtual switch '%s': %s", c->name,
                 e.message);
        ok = false;
    }
    if (ok) {
        log_write(LOG_INF, "vnet", "event=vswitch_loaded vswitch=%s vni=%u "
                  "ports=%zu", d->id, (unsigned) d->vni, d->n_ports);
    }
    free(d);
    rest_vswitch_req_destroy(&r);
    return ok;
}

int
rest_vswitch_load(struct ctl *ctl, size_t *n, char *err, size_t errlen)
{
    struct rest_vswitch_loading l = {0};
    *n = 0;
    /* Copied first, added after: the store is not written to while it
     * is being read. */
    int error = ctl->store->ops->load(ctl->store, rest_vswitch_load_cb,
                                      &l);
    if (error) {
        snprintf(err, errlen, "reading the virtual switches: %s",
                 strerror(error > 0 ? error : EIO));
    }
    for (size_t i = 0; !error && i < l.n; i++) {
        if (!rest_vswitch_restore(ctl, &l.recs[i], err, errlen)) {
            error = EINVAL;
            break;
        }
        (*n)++;
        /* A record rewritten without a port is committed now, one at a
         * time: however many there are, no batch outgrows the store's
         * bound (etcd's --max-txn-ops). */
        if (store_pending(ctl->store)) {
            error = store_commit(ctl->store);
            if (error) {
                snprintf(err, errlen, "virtual switch '%s': rewriting its "
                         "record: %s", l.recs[i].name, strerror(error));
            }
        }
    }
    for (size_t i = 0; i < l.n; i++) {
        free(l.recs[i].record);
    }
    free(l.recs);
    return error;
}

static bool
rest_vswitch_migrate(struct ctl *ctl, const char *vs, const char *body,
                     size_t len, int *status, json_t **out,
                     struct rest_error *e)
{
    struct vnet *vnet = vnet_ctl_vnet(ctl->vnet);
    const struct vnet_switch_def *d = vnet_switch_def(vnet, vs);
    struct rest_vswitch_migrate_req r;
    if (!rest_parse_vswitch_migrate(body, len, &r, e)) {
        return false;
    }
    bool ok = true;
    struct vnet_ctl_move *moves = xcalloc(r.n, sizeof *moves);
    for (size_t i = 0; ok && i < r.n; i++) {
        bool port = false;
        for (size_t p = 0; p < d->n_ports && !port; p++) {
            port = !strcmp(d->ports[p].vm, r.moves[i].vm);
        }
        if (!port) {
            ok = rest_fail(e, 422, "not_a_port", "VM '%s' is not a port of "
                           "'%s'", r.moves[i].vm, vs);
        }
        snprintf(moves[i].vm, sizeof moves[i].vm, "%s", r.moves[i].vm);
        snprintf(moves[i].node, sizeof moves[i].node, "%s",
                 r.moves[i].node);
    }
    uint64_t *ids = xcalloc(r.n, sizeof *ids);
    struct core_migrate_opts opts = {
        .switchover = r.switchover,
        .prepare_deadline_ms = r.prepare_deadline_ms,
    };
    enum core_err cerr = CORE_E_OK;
    char err[160];
    if (ok && !vnet_ctl_migrate(ctl->vnet, vs, moves, r.n, &opts, ids,
                                &cerr, err, sizeof err)) {
        if (cerr) {
            rest_core_error(e, cerr);
            snprintf(e->message, sizeof e->message, "%s", err);
        } else {
            rest_fail(e, 409, "ensemble_running", "%s", err);
        }
        ok = false;
    }
    if (ok) {
        ctl->dirty = true;
        json_t *migs = json_object();
        for (size_t i = 0; i < r.n; i++) {
            json_object_set_new(migs, moves[i].vm, js_u64(ids[i]));
        }
        *out = json_object();
        json_object_set_new(*out, "vswitch", json_string(vs));
        json_object_set_new(*out, "migrations", migs);
        *status = 202;
    }
    free(ids);
    free(moves);
    rest_vswitch_migrate_req_destroy(&r);
    return ok;
}

bool
rest_vswitch_handle(struct ctl *ctl, const struct rest_route *rt,
                    const char *body, size_t len, int *status, json_t **out,
                    char *loc, size_t loclen, struct rest_error *e)
{
    struct vnet *vnet = vnet_ctl_vnet(ctl->vnet);
    *out = NULL;
    loc[0] = '\0';
    if (rt->id == REST_R_VSWITCHES) {
        if (rt->method == REST_POST) {
            return rest_vswitch_create(ctl, body, len, status, out, loc,
                                       loclen, e);
        }
        json_t *list = json_array();
        for (size_t i = 0; i < vnet_n_switches(vnet); i++) {
            json_t *v = rest_vswitch_json(ctl, vnet_switch_id(vnet, i),
                                          false);
            if (v) {
                json_array_append_new(list, v);
            }
        }
        *status = 200;
        *out = json_pack("{s:o}", "vswitches", list);
        return true;
    }
    if (!vnet_switch_def(vnet, rt->name)) {
        return rest_fail(e, 404, "unknown_vswitch",
                         "no virtual switch '%s'", rt->name);
    }
    switch (rt->id) {
    case REST_R_VSWITCH:
        if (rt->method == REST_DELETE) {
            if (rest_vswitch_persist(ctl, rt->name, NULL)) {
                return rest_fail(e, 500, "store_failed", "the durable "
                                 "store failed");
            }
            vnet_ctl_switch_removed(ctl->vnet, rt->name);
            vnet_switch_remove(vnet, rt->name);
            log_write(LOG_INF, "rest", "event=vswitch_removed vswitch=%s",
                      rt->name);
            *status = 204;
            return true;
        }
        *status = 200;
        *out = rest_vswitch_json(ctl, rt->name, false);
        return true;
    case REST_R_VSWITCH_FLOWS:
        *status = 200;
        *out = rest_vswitch_json(ctl, rt->name, true);
        return true;
    case REST_R_VSWITCH_MIGRATE:
        return rest_vswitch_migrate(ctl, rt->name, body, len, status, out,
                                    e);
    default:
        return rest_fail(e, 404, "not_found", "no such resource");
    }
}
