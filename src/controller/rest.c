/* rest.c: the northbound REST API, the gateway and /metrics on evhttp.
 *
 * Each handler validates the whole request (rest_parse), makes at most one
 * mutating core call, and queues its answer with ctl_reply(): nothing is
 * answered before the batch's commit.  It must never call the core with
 * input that did not pass validation, and never answer anything but JSON
 * (or Prometheus text on /metrics). */
#include "controller/rest.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "controller/agent_server.h"
#include "controller/ctl.h"
#include "controller/listen_guard.h"
#include "controller/replica.h"
#include "controller/migrations.h"
#include "controller/node_auth.h"
#include "controller/rest_auth.h"
#include "controller/rest_fabric.h"
#include "controller/rest_lists.h"
#include "controller/rest_parse.h"
#include "controller/rest_transfers.h"
#include "controller/rest_vswitch.h"
#include "controller/vnet_ctl.h"
#include "controller/transfers.h"
#include "controller/rest_views.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/sock.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "mignet/core.h"

#define REST_JSON "application/json"
#define REST_PROM "text/plain; version=0.0.4; charset=utf-8"

struct rest {
    struct ctl *ctl;
    struct evhttp *http;
    SSL_CTX *ssl_ctx; /* --api-tls-cert; NULL = plain HTTP */
    struct rest_auth auth;
    struct lguard *guard; /* caps, back-off, request bounds */
};

/* ---- Answers ---- */

/* The entity tag of a single resource's answer: FNV-1a (64 bits) of its
 * compact JSON, quoted (a strong validator: any change of any field
 * changes it). */
#define REST_ETAG_LEN 19 /* '"' + 16 hex + '"' + NUL */
static void
rest_etag_of(const char *json, size_t n, char out[REST_ETAG_LEN])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char) json[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, REST_ETAG_LEN, "\"%016" PRIx64 "\"", h);
}

static void
rest_etag(const json_t *obj, char out[REST_ETAG_LEN])
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (!text) {
        out_of_memory();
    }
    rest_etag_of(text, strlen(text), out);
    free(text);
}

/* Whether a GET's If-None-Match names 'tag' (or is "*"): the client's
 * copy is current. */
static bool
rest_none_match(struct evhttp_request *req, const char *tag)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "If-None-Match");
    if (!h || evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        return false;
    }
    size_t tlen = strlen(tag);
    for (const char *p = h; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (!n) {
            break;
        }
        /* Weak comparison (RFC 9110 13.1.2): W/ is ignored. */
        const char *t = p;
        size_t tn = n;
        if (tn > 2 && !strncmp(t, "W/", 2)) {
            t += 2;
            tn -= 2;
        }
        if ((tn == 1 && *t == '*') || (tn == tlen && !strncmp(t, tag, tn))) {
            return true;
        }
        p += n;
    }
    return false;
}

/* json_dump_callback's writer: appends to the strbuf 'aux'. */
static int
rest_dump_cb(const char *buf, size_t size, void *aux)
{
    return strbuf_append(aux, buf, size) ? -1 : 0;
}

/* evbuffer_add_reference's cleanup: the answer's text was a strbuf's. */
static void
rest_dump_free(const void *data, size_t len, void *aux)
{
    (void) len;
    (void) aux;
    free((void *) data);
}

/* Sends 'text' (JSON, without its final newline) as the answer, taking
 * its buffer; with 'etag', its ETag too (and 304 when the client has it). */
static void
rest_send_text(struct ctl *ctl, struct evhttp_request *req, int status,
               struct strbuf *text, bool etag)
{
    struct evbuffer *body = evbuffer_new();
    if (!body) {
        out_of_memory();
    }
    if (text->len && etag) {
        char tag[REST_ETAG_LEN];
        rest_etag_of(text->data, text->len, tag);
        evhttp_add_header(evhttp_request_get_output_headers(req), "ETag",
                          tag);
        if (status == 200 && rest_none_match(req, tag)) {
            /* The client has it: 304, no body. */
            strbuf_destroy(text);
            evbuffer_free(body);
            ctl_reply(ctl, req, 304, NULL, NULL);
            return;
        }
    }
    if (text->len) {
        /* Handed to the body without a copy (a 50,000-VM map is ~9 MB). */
        if (strbuf_putc(text, '\n')
            || evbuffer_add_reference(body, text->data, text->len,
                                      rest_dump_free, NULL)) {
            out_of_memory();
        }
    } else {
        strbuf_destroy(text);
    }
    ctl_reply(ctl, req, status, body, REST_JSON);
}

static void
rest_send_json_tagged(struct ctl *ctl, struct evhttp_request *req,
                      int status, json_t *obj, bool etag)
{
    /* One pass into one buffer (sizing it first wrote it twice). */
    struct strbuf text;
    strbuf_init(&text);
    if (json_dump_callback(obj, rest_dump_cb, &text, JSON_COMPACT)) {
        out_of_memory();
    }
    json_decref(obj);
    rest_send_text(ctl, req, status, &text, etag);
}

static void
rest_send_json(struct ctl *ctl, struct evhttp_request *req, int status,
               json_t *obj)
{
    rest_send_json_tagged(ctl, req, status, obj, false);
}

/* A single resource's answer, with its ETag. */
static void
rest_send_resource(struct ctl *ctl, struct evhttp_request *req, int status,
                   json_t *obj)
{
    rest_send_json_tagged(ctl, req, status, obj, true);
}

/* Whether the request's If-Match, if it has one, names the ETag of 'cur'
 * (the resource as GET shows it now; NULL: it does not exist): "*"
 * matches any existing resource, else one of the comma-separated strong
 * tags must be equal.  On a mismatch, 412 precondition_failed. */
static bool
rest_if_match(struct evhttp_request *req, const json_t *cur,
              struct rest_error *e)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "If-Match");
    if (!h) {
        return true;
    }
    char tag[REST_ETAG_LEN] = "";
    if (cur) {
        rest_etag(cur, tag);
    }
    const char *p = h;
    while (*p) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (!n) {
            break;
        }
        if (cur && ((n == 1 && *p == '*')
                    || (n == strlen(tag) && !strncmp(p, tag, n)))) {
            return true;
        }
        p += n;
    }
    return rest_fail(e, 412, "precondition_failed",
                     cur ? "If-Match does not name the current ETag"
                         : "If-Match: the resource does not exist");
}

static void
rest_send_error(struct ctl *ctl, struct evhttp_request *req,
                const struct rest_error *e)
{
    json_t *obj = json_pack("{s:{s:s,s:s}}", "error", "code", e->code,
                            "message", e->message);
    if (!obj) {
        out_of_memory();
    }
    if (e->status == 405 && e->allow) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          e->allow);
    }
    if (e->status == 401) {
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "WWW-Authenticate", "Bearer realm=\"mignet\"");
    }
    if (e->status >= 500 || log_enabled(LOG_DBG)) {
        log_write(e->status >= 500 ? LOG_ERROR : LOG_DBG, "rest",
                  "event=error status=%d code=%s uri=\"%.80s\"", e->status,
                  e->code, evhttp_request_get_uri(req));
    }
    rest_send_json(ctl, req, e->status, obj);
}

static void
rest_send_core_error(struct ctl *ctl, struct evhttp_request *req,
                     enum core_err err)
{
    struct rest_error e;
    rest_core_error(&e, err);
    rest_send_error(ctl, req, &e);
}

/* 409 duplicate_address naming the VM that has 'cfg''s address in the
 * same network ('except' is the VM being changed, or CORE_NONE). */
static void
rest_send_duplicate(struct ctl *ctl, struct evhttp_request *req,
                    const struct mn_config *cfg, uint32_t except)
{
    struct rest_error e;
    struct core_vm_info other;
    rest_core_error(&e, CORE_E_DUPLICATE_ADDRESS);
    uint32_t owner = core_vm_address_owner(ctl->core, cfg, except);
    if (owner != CORE_NONE && core_vm_info(ctl->core, owner, &other)) {
        bool mac = !memcmp(other.config.mac, cfg->mac, sizeof cfg->mac);
        snprintf(e.message, sizeof e.message,
                 "VM %s has this %s in the same network (%s %u); give "
                 "\"allow_duplicate\": true to accept it", other.name,
                 mac ? "MAC" : "IP", cfg->vni ? "VNI" : "VLAN",
                 cfg->vni ? (unsigned) cfg->vni : (unsigned) cfg->vlan);
    }
    rest_send_error(ctl, req, &e);
}

static void
rest_location(struct evhttp_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
rest_location(struct evhttp_request *req, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
                      buf);
}

/* ---- Nodes ---- */

/* No randomness for a token: a 500 (the node, if just added, stays
 * without a token: only TLS authenticates it until a rotation). */
static void
rest_token_failed(struct ctl *ctl, struct evhttp_request *req,
                  const char *node)
{
    struct rest_error e;
    log_write(LOG_ERROR, "rest", "event=token_failed node=%s", node);
    rest_fail(&e, 500, "internal", "cannot make a token (no randomness)");
    rest_send_error(ctl, req, &e);
}

static void
rest_nodes_post(struct ctl *ctl, struct evhttp_request *req,
                const char *body, size_t len)
{
    struct rest_node_req r;
    struct rest_error e;
    if (!rest_parse_node(body, len, &r, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    uint32_t idx;
    ctl->dirty = true;
    enum core_err err = core_node_add(ctl->core, r.id, r.address,
                                      r.refresh_ms, clock_run_ms(), &idx);
    if (err) {
        rest_send_core_error(ctl, req, err);
        return;
    }
    char token[NODE_TOKEN_LEN + 1];
    if (node_token_issue(ctl->core, idx, token)) {
        rest_token_failed(ctl, req, r.id);
        return;
    }
    log_write(LOG_INF, "rest", "event=node_added node=%s address=%s "
              "refresh_ms=%" PRIu32, r.id, r.address, r.refresh_ms);
    rest_location(req, "/v1/nodes/%s", r.id);
    json_t *o = rest_node_json(ctl, idx);
    rest_set(o, "token", json_string(token));
    rest_send_json(ctl, req, 201, o);
}

/* POST /v1/nodes/{id}/token: a new token; sessions that authenticated
 * with the old one are closed. */
static void
rest_node_token(struct ctl *ctl, struct evhttp_request *req,
                const struct rest_route *rt, const char *body, size_t len)
{
    struct rest_error e;
    if (!rest_parse_empty_body(body, len, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    uint32_t idx = core_node_find(ctl->core, rt->name);
    if (idx == CORE_NONE) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_NODE);
        return;
    }
    char token[NODE_TOKEN_LEN + 1];
    ctl->dirty = true;
    if (node_token_issue(ctl->core, idx, token)) {
        rest_token_failed(ctl, req, rt->name);
        return;
    }
    log_write(LOG_INF, "rest", "event=node_token_rotated node=%s",
              rt->name);
    agent_server_token_rotated(ctl->agents, idx);
    rest_send_json(ctl, req, 200, json_pack("{s:s,s:s}", "node", rt->name,
                                            "token", token));
}

/* A forced removal drops the node's pending cleanups: each is logged. */
struct rest_drop_log {
    struct ctl *ctl;
    const char *name;
};

static bool
rest_drop_logged(void *aux, uint64_t migration, uint32_t vm)
{
    const struct rest_drop_log *d = aux;
    struct core_vm_info v;
    log_write(LOG_WARN, "rest", "event=cleanup_dropped node=%s vm=%s "
              "migration=%" PRIu64, d->name,
              core_vm_info(d->ctl->core, vm, &v) ? v.name : "?",
              migration);
    return true;
}

static void
rest_node_delete(struct ctl *ctl, struct evhttp_request *req,
                 const struct rest_route *rt, uint32_t idx,
                 const char *query)
{
    bool force;
    struct rest_error e;
    if (!rest_parse_node_delete_query(query, &force, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    enum core_err err = core_node_remove_check(ctl->core, idx, force);
    if (err) {
        rest_send_core_error(ctl, req, err);
        return;
    }
    struct rest_drop_log d = {.ctl = ctl, .name = rt->name};
    if (force) {
        core_node_cleanups_walk(ctl->core, idx, rest_drop_logged, &d);
    }
    ctl->dirty = true;
    err = core_node_remove(ctl->core, idx, force, clock_run_ms());
    if (err) {
        rest_send_core_error(ctl, req, err);
        return;
    }
    log_write(LOG_INF, "rest", "event=node_removed node=%s force=%d",
              rt->name, (int) force);
    agent_server_forget_node(ctl->agents, idx);
    ctl_reply(ctl, req, 204, NULL, NULL);
}

static void
rest_node_item(struct ctl *ctl, struct evhttp_request *req,
               const struct rest_route *rt, const char *query)
{
    uint32_t idx = core_node_find(ctl->core, rt->name);
    if (idx == CORE_NONE) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_NODE);
        return;
    }
    if (rt->method == REST_GET) {
        rest_send_resource(ctl, req, 200, rest_node_json(ctl, idx));
        return;
    }
    rest_node_delete(ctl, req, rt, idx, query);
}

/* Resolves the drain body's names; false with the answer sent. */
static bool
rest_drain_targets(struct ctl *ctl, struct evhttp_request *req,
                   const struct rest_drain_req *r,
                   struct core_drain_target *out)
{
    for (size_t i = 0; i < r->n_targets; i++) {
        out[i].vm = core_vm_find(ctl->core, r->targets[i].vm);
        out[i].node = core_node_find(ctl->core, r->targets[i].node);
        if (out[i].vm == CORE_NONE || out[i].node == CORE_NONE) {
            rest_send_core_error(ctl, req, out[i].vm == CORE_NONE
                                               ? CORE_E_UNKNOWN_VM
                                               : CORE_E_UNKNOWN_NODE);
            return false;
        }
    }
    return true;
}

/* POST /v1/nodes/{id}/cordon, /uncordon, /drain. */
static void
rest_node_action(struct ctl *ctl, struct evhttp_request *req,
                 const struct rest_route *rt, const char *body, size_t len)
{
    struct rest_error e;
    struct rest_drain_req dr = {0};
    bool drain = rt->id == REST_R_NODE_DRAIN;
    bool ok = drain ? rest_parse_drain(body, len, &dr, &e)
                    : rest_parse_empty_body(body, len, &e);
    if (!ok) {
        rest_send_error(ctl, req, &e);
        return;
    }
    uint32_t idx = core_node_find(ctl->core, rt->name);
    struct core_drain_target *tg = xcalloc(dr.n_targets + 1, sizeof *tg);
    enum core_err err = CORE_E_OK;
    uint64_t now = clock_run_ms();
    if (idx == CORE_NONE) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_NODE);
    } else if (!drain || rest_drain_targets(ctl, req, &dr, tg)) {
        ctl->dirty = true;
        err = drain ? core_node_drain(ctl->core, idx, tg, dr.n_targets, now)
                    : core_node_cordon(ctl->core, idx,
                                       rt->id == REST_R_NODE_CORDON, now);
        if (err) {
            rest_send_core_error(ctl, req, err);
        } else {
            struct core_node_info n;
            core_node_info(ctl->core, idx, &n);
            log_write(LOG_INF, "rest", "event=node_%s node=%s state=%s "
                      "vms=%" PRIu32 " targets_given=%zu",
                      drain ? "drain"
                            : rt->id == REST_R_NODE_CORDON ? "cordon"
                                                           : "uncordon",
                      rt->name, core_node_state_name(n.state), n.n_vms,
                      dr.n_targets);
            rest_send_json(ctl, req, 200, rest_node_json(ctl, idx));
        }
    }
    free(tg);
    rest_drain_req_destroy(&dr);
}

/* ---- VMs ---- */

static void
rest_vms_post(struct ctl *ctl, struct evhttp_request *req, const char *body,
              size_t len)
{
    struct rest_vm_req r;
    struct rest_error e;
    if (!rest_parse_vm_create(body, len, &r, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    uint32_t node = core_node_find(ctl->core, r.node);
    if (node == CORE_NONE) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_NODE);
        return;
    }
    uint32_t idx;
    uint64_t now = clock_run_ms();
    ctl->dirty = true;
    enum core_err err = core_vm_add_opts(
        ctl->core, r.id, &r.config, node, r.iface_id,
        r.allow_duplicate ? CORE_VM_ALLOW_DUPLICATE : 0, now, &idx);
    if (err == CORE_E_DUPLICATE_ADDRESS) {
        rest_send_duplicate(ctl, req, &r.config, CORE_NONE);
        return;
    }
    if (err) {
        rest_send_core_error(ctl, req, err);
        return;
    }
    log_write(LOG_INF, "rest", "event=vm_added vm=%s node=%s", r.id,
              r.node);
    rest_location(req, "/v1/vms/%s", r.id);
    rest_send_json(ctl, req, 201, rest_vm_json(ctl, idx));
}

static void
rest_vm_item(struct ctl *ctl, struct evhttp_request *req,
             const struct rest_route *rt, const char *body, size_t len)
{
    uint32_t idx = core_vm_find(ctl->core, rt->name);
    if (idx == CORE_NONE) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_VM);
        return;
    }
    if (rt->method == REST_GET) {
        rest_send_resource(ctl, req, 200, rest_vm_json(ctl, idx));
        return;
    }
    uint64_t now = clock_run_ms();
    enum core_err err;
    if (rt->method == REST_PATCH) {
        struct core_vm_info v;
        struct rest_error e;
        core_vm_info(ctl->core, idx, &v);
        struct mn_config c = v.config;
        bool dup = false;
        if (!rest_parse_vm_patch(body, len, &c, &dup, &e)) {
            rest_send_error(ctl, req, &e);
            return;
        }
        json_t *cur = rest_vm_json(ctl, idx);
        bool match = rest_if_match(req, cur, &e);
        json_decref(cur);
        if (!match) {
            rest_send_error(ctl, req, &e);
            return;
        }
        const char *vs = rest_vswitch_of_vm(ctl, rt->name);
        if (vs && (c.vni != v.config.vni
                   || memcmp(c.mac, v.config.mac, sizeof c.mac))) {
            rest_fail(&e, 409, "vm_in_vswitch", "VM '%s' is a port of "
                      "virtual switch '%s': its VNI and MAC stay", rt->name,
                      vs);
            rest_send_error(ctl, req, &e);
            return;
        }
        ctl->dirty = true;
        err = core_vm_update_opts(ctl->core, idx, &c,
                                  dup ? CORE_VM_ALLOW_DUPLICATE : 0, now);
        if (err == CORE_E_DUPLICATE_ADDRESS) {
            rest_send_duplicate(ctl, req, &c, idx);
            return;
        }
        if (err) {
            rest_send_core_error(ctl, req, err);
            return;
        }
        log_write(LOG_INF, "rest", "event=vm_updated vm=%s epoch=%" PRIu64,
                  rt->name, v.epoch);
        rest_send_resource(ctl, req, 200, rest_vm_json(ctl, idx));
        return;
    }
    const char *vs = rest_vswitch_of_vm(ctl, rt->name);
    if (vs) {
        struct rest_error e;
        rest_fail(&e, 409, "vm_in_vswitch", "VM '%s' is a port of virtual "
                  "switch '%s': delete the switch first", rt->name, vs);
        rest_send_error(ctl, req, &e);
        return;
    }
    ctl->dirty = true;
    err = core_vm_remove(ctl->core, idx, now);
    if (err) {
        rest_send_core_error(ctl, req, err);
        return;
    }
    log_write(LOG_INF, "rest", "event=vm_removed vm=%s", rt->name);
    ctl_reply(ctl, req, 204, NULL, NULL);
}

static void
rest_vm_migrate(struct ctl *ctl, struct evhttp_request *req,
                const struct rest_route *rt, const char *body, size_t len)
{
    struct rest_migrate_req r;
    struct rest_error e;
    if (!rest_parse_migrate(body, len, &r, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    uint32_t vm = core_vm_find(ctl->core, rt->name);
    uint32_t to = core_node_find(ctl->core, r.to);
    uint32_t from = r.from[0] ? core_node_find(ctl->core, r.from)
                              : CORE_NONE;
    if (vm == CORE_NONE) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_VM);
        return;
    }
    if (to == CORE_NONE || (r.from[0] && from == CORE_NONE)) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_NODE);
        return;
    }
    struct fabric_plan_input plan;
    rest_fabric_input(&r.plan, &plan);
    struct core_migrate_opts opts = {
        .switchover = r.switchover,
        .prepare_deadline_ms = r.prepare_deadline_ms,
    };
    struct ctl_migrate_req mr = {
        .vm = vm,
        .from = from,
        .to = to,
        .opts = &opts,
        .plan = &plan,
    };
    struct core_migrate_result res;
    struct ctl_migrate_refusal why;
    if (!ctl_migrate(ctl, &mr, clock_run_ms(), &res, &why)) {
        if (why.core) {
            rest_core_error(&e, why.core);
        } else {
            rest_fabric_error(&e, why.fabric, why.message);
        }
        rest_send_error(ctl, req, &e);
        return;
    }
    json_t *plan_json = rest_fabric_plan_json(ctl->fabric, res.migration);
    rest_location(req, "/v1/migrations/%" PRIu64, res.migration);
    json_t *o = json_pack("{s:o,s:o,s:o,s:o}", "migration",
                          js_u64(res.migration), "epoch", js_u64(res.epoch),
                          "delay_ms", js_u64(res.delay_ms), "plan",
                          plan_json ? plan_json : json_null());
    struct core_migration m;
    if (core_migration_get(ctl->core, res.migration, &m)) {
        rest_set(o, "phase", json_string(mig_phase_name(m.phase)));
        rest_set(o, "switchover",
                 json_string(mig_switchover_name(m.switchover)));
    }
    rest_send_json(ctl, req, 202, o);
}

/* ---- Tenant virtual switches (seed 001, rest_vswitch.c) ---- */

static void
rest_vswitch(struct ctl *ctl, struct evhttp_request *req,
             const struct rest_route *rt, const char *body, size_t len)
{
    struct rest_error e;
    json_t *o = NULL;
    int status = 0;
    char loc[MN_NAME_MAX + 32];
    if (!rest_vswitch_handle(ctl, rt, body, len, &status, &o, loc,
                             sizeof loc, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    if (loc[0]) {
        rest_location(req, "%s", loc);
    }
    if (status == 204) {
        ctl_reply(ctl, req, 204, NULL, NULL);
        return;
    }
    if (!o) {
        rest_fail(&e, 500, "no_memory", "out of memory");
        rest_send_error(ctl, req, &e);
        return;
    }
    rest_send_json(ctl, req, status, o);
}

/* ---- Bindings (seed 003) ---- */

static void
rest_send_binding_refused(struct ctl *ctl, struct evhttp_request *req,
                          enum core_err err, enum binding_err berr)
{
    struct rest_error e;
    if (err == CORE_E_BINDING) {
        rest_binding_error(&e, berr);
    } else {
        rest_core_error(&e, err);
    }
    rest_send_error(ctl, req, &e);
}

static void
rest_vm_binding(struct ctl *ctl, struct evhttp_request *req,
                const struct rest_route *rt, const char *body, size_t len)
{
    uint32_t vm = core_vm_find(ctl->core, rt->name);
    if (vm == CORE_NONE) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_VM);
        return;
    }
    const struct binding *b = core_binding_get(ctl->core, vm);
    if (rt->method == REST_GET) {
        if (!b) {
            rest_send_core_error(ctl, req, CORE_E_UNKNOWN_BINDING);
        } else {
            rest_send_resource(ctl, req, 200, rest_binding_json(b));
        }
        return;
    }
    uint64_t now = clock_run_ms();
    enum core_err err;
    if (rt->method == REST_DELETE) {
        ctl->dirty = true;
        err = core_binding_delete(ctl->core, vm, now);
        if (err) {
            rest_send_core_error(ctl, req, err);
            return;
        }
        log_write(LOG_INF, "rest", "event=binding_deleted vm=%s", rt->name);
        ctl_reply(ctl, req, 204, NULL, NULL);
        return;
    }
    struct rest_binding_req r;
    struct rest_error e;
    if (!rest_parse_binding(body, len, &r, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    json_t *cur = b ? rest_binding_json(b) : NULL;
    bool match = rest_if_match(req, cur, &e);
    json_decref(cur);
    if (!match) {
        rest_send_error(ctl, req, &e);
        return;
    }
    if (!r.has_vlan) {
        struct core_vm_info v;
        core_vm_info(ctl->core, vm, &v);
        r.b.vlan = v.config.vlan;
    }
    enum binding_err berr;
    uint32_t id;
    bool created;
    ctl->dirty = true;
    err = core_binding_set(ctl->core, vm, &r.b, now, &berr, &id, &created);
    if (err) {
        rest_send_binding_refused(ctl, req, err, berr);
        return;
    }
    b = core_binding_get(ctl->core, vm);
    char text[512];
    binding_format(b, text, sizeof text);
    log_write(LOG_INF, "rest", "event=binding_set %s created=%d", text,
              (int) created);
    if (created) {
        rest_location(req, "/v1/vms/%s/binding", rt->name);
    }
    rest_send_resource(ctl, req, created ? 201 : 200, rest_binding_json(b));
}

/* ---- Migrations, tasks, map, health, metrics ---- */

static void
rest_migration_get(struct ctl *ctl, struct evhttp_request *req,
                   const struct rest_route *rt)
{
    struct core_migration m;
    if (!core_migration_get(ctl->core, rt->migration, &m)) {
        rest_send_core_error(ctl, req, CORE_E_UNKNOWN_MIGRATION);
        return;
    }
    json_t *o = rest_migration_json(ctl, &m);
    json_t *plan = rest_fabric_plan_json(ctl->fabric, m.id);
    rest_set(o, "plan", plan ? plan : json_null());
    rest_send_resource(ctl, req, 200, o);
}

/* POST /v1/migrations/{id}/switchover and /abort. */
static void
rest_migration_action(struct ctl *ctl, struct evhttp_request *req,
                      const struct rest_route *rt, const char *body,
                      size_t len)
{
    struct rest_error e;
    struct rest_abort_req ab;
    bool abort = rt->id == REST_R_MIGRATION_ABORT;
    if (abort ? !rest_parse_abort(body, len, &ab, &e)
              : !rest_parse_switchover(body, len, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    uint64_t id = rt->migration;
    enum core_err err = abort ? core_migration_abort_check(ctl->core, id)
                              : core_migration_switchover_check(ctl->core,
                                                                id);
    if (err) {
        rest_send_core_error(ctl, req, err);
        return;
    }
    ctl->dirty = true;
    uint64_t now = clock_run_ms();
    err = abort ? core_migration_abort(ctl->core, id,
                                       ab.reason[0] ? ab.reason : "manager",
                                       now)
                : core_migration_switchover(ctl->core, id, now);
    if (err) {
        rest_send_core_error(ctl, req, err);
        return;
    }
    struct core_migration m;
    core_migration_get(ctl->core, id, &m);
    log_write(LOG_INF, "rest", "event=migration_%s id=%" PRIu64 " phase=%s",
              abort ? "abort" : "switchover", id, mig_phase_name(m.phase));
    json_t *o = rest_migration_json(ctl, &m);
    json_t *plan = rest_fabric_plan_json(ctl->fabric, m.id);
    rest_set(o, "plan", plan ? plan : json_null());
    rest_send_json(ctl, req, 200, o);
}

/* One map entry, written as text: the map is the one answer that grows
 * with every VM (50,000 entries are ~9 MB), too big to build as a tree
 * of JSON objects first.  The same fields and values as the views. */
struct rest_map_text {
    struct strbuf *sb;
    size_t n;
    int err;
};

static void
rest_map_entry(void *aux, const struct core_map_entry *e)
{
    struct rest_map_text *t = aux;
    struct strbuf *sb = t->sb;
    int err = strbuf_puts(sb, t->n++ ? ",{\"vm\":" : "{\"vm\":")
              || js_put_string(sb, e->vm)
              || strbuf_puts(sb, ",\"version\":")
              || js_put_u64(sb, e->version)
              || strbuf_puts(sb, e->removed ? ",\"removed\":true"
                                            : ",\"removed\":false");
    if (!err && !e->removed) {
        char mac[ADDR_MAC_STRLEN], ip[ADDR_IPV4_STRLEN];
        addr_format_mac(e->config.mac, mac);
        addr_format_ipv4(e->config.ip, ip);
        err = strbuf_puts(sb, ",\"node\":") || js_put_string(sb, e->node)
              || strbuf_puts(sb, ",\"address\":")
              || js_put_string(sb, e->address)
              || strbuf_puts(sb, ",\"epoch\":") || js_put_u64(sb, e->epoch)
              || strbuf_puts(sb, ",\"mac\":") || js_put_string(sb, mac)
              || strbuf_puts(sb, ",\"ip\":") || js_put_string(sb, ip)
              || strbuf_puts(sb, ",\"vni\":")
              || js_put_u64(sb, e->config.vni)
              || strbuf_puts(sb, ",\"vlan\":")
              || js_put_u64(sb, e->config.vlan)
              || strbuf_puts(sb, ",\"port\":")
              || js_put_u64(sb, e->config.port)
              || strbuf_puts(sb, ",\"binding\":")
              || js_put_u64(sb, e->config.binding);
    }
    if (err || strbuf_putc(sb, '}')) {
        t->err = ENOMEM;
    }
}

/* Whether the request carries "Authorization: Bearer TOKEN" with the
 * token of 'node'. */
static bool
rest_node_bearer(struct evhttp_request *req, struct ctl *ctl, uint32_t node)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "Authorization");
    static const char bearer[] = "Bearer ";
    if (!h || strncasecmp(h, bearer, sizeof bearer - 1)) {
        return false;
    }
    h += sizeof bearer - 1;
    while (*h == ' ') {
        h++;
    }
    return node_token_matches(h, core_node_token_hash(ctl->core, node));
}

static void
rest_map_get(struct ctl *ctl, struct evhttp_request *req, const char *query)
{
    struct rest_map_query q;
    struct rest_error e;
    const char *hdr = evhttp_find_header(evhttp_request_get_input_headers(req),
                                         "X-Mignet-Node");
    if (!rest_parse_map_query(query, hdr, &q, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }
    uint64_t version = core_map_version(ctl->core);
    if (q.since > version) {
        rest_send_core_error(ctl, req, CORE_E_BAD_VERSION);
        return;
    }
    uint32_t node = CORE_NONE;
    if (q.node[0]) {
        node = core_node_find(ctl->core, q.node);
        if (node == CORE_NONE) {
            rest_send_core_error(ctl, req, CORE_E_UNKNOWN_NODE);
            return;
        }
    }
    struct strbuf ents;
    strbuf_init(&ents);
    struct rest_map_text t = {.sb = &ents};
    bool full = !q.since;
    if (!core_map_since(ctl->core, q.since, rest_map_entry, &t)) {
        strbuf_clear(&ents);
        t.n = 0;
        t.err = 0;
        core_map_since(ctl->core, 0, rest_map_entry, &t);
        full = true;
    }
    if (node != CORE_NONE && !rest_node_bearer(req, ctl, node)) {
        /* Not the node's own credential: a read like any other, which
         * acknowledges nothing and is no refresh sample. */
        ctl->metrics.map_reads_unauthenticated++;
        node = CORE_NONE;
    }
    if (node != CORE_NONE) {
        /* The poll acknowledges what the node held when it asked. */
        ctl->dirty = true;
        enum core_err err = core_node_poll(ctl->core, node, q.since,
                                           clock_run_ms());
        if (err) {
            strbuf_destroy(&ents);
            rest_send_core_error(ctl, req, err);
            return;
        }
    }
    struct strbuf text;
    strbuf_init(&text);
    if (t.err || strbuf_puts(&text, "{\"version\":")
        || js_put_u64(&text, version) || strbuf_puts(&text, ",\"since\":")
        || js_put_u64(&text, q.since)
        || strbuf_puts(&text, full ? ",\"full\":true,\"entries\":["
                                   : ",\"full\":false,\"entries\":[")
        || (ents.len && strbuf_append(&text, ents.data, ents.len))
        || strbuf_puts(&text, "]}")) {
        out_of_memory();
    }
    strbuf_destroy(&ents);
    rest_send_text(ctl, req, 200, &text, false);
}

static void
rest_healthz(struct ctl *ctl, struct evhttp_request *req)
{
    struct core_stats st;
    core_get_stats(ctl->core, &st);
    rest_send_json(ctl, req, 200,
                   json_pack("{s:s,s:s,s:o,s:o,s:o}", "status", "ok",
                             /* docs/ha.md: leader, or single */
                             "role",
                             ctl->replica ? replica_role(ctl->replica)
                                          : "single",
                             "map_version",
                             js_u64(core_map_version(ctl->core)),
                             "tasks_pending", js_u64(st.tasks_pending),
                             "agents_connected",
                             js_u64(agent_server_n_connected(
                                 ctl->agents))));
}

static void
rest_metrics(struct rest *rest, struct evhttp_request *req)
{
    struct ctl *ctl = rest->ctl;
    struct strbuf sb;
    strbuf_init(&sb);
    if (metrics_render(&ctl->metrics, ctl->core, &sb)
        || rest_fabric_metrics(ctl->fabric, &sb)
        || transfers_metrics(ctl->transfers, &sb)
        || vnet_ctl_metrics(ctl->vnet, &sb)
        || rest_auth_metrics(&rest->auth, &sb)
        || (ctl->replica /* a follower answers 0 (replica.c) */
            && strbuf_puts(&sb, "# HELP mignet_replica_leader Whether this "
                           "replica leads (1) or follows (0).\n"
                           "# TYPE mignet_replica_leader gauge\n"
                           "mignet_replica_leader 1\n"))) {
        out_of_memory();
    }
    struct evbuffer *body = evbuffer_new();
    if (!body || evbuffer_add(body, strbuf_str(&sb), sb.len)) {
        out_of_memory();
    }
    strbuf_destroy(&sb);
    ctl_reply(ctl, req, 200, body, REST_PROM);
}

/* ---- Dispatch ---- */

static enum rest_method
rest_method_of(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return REST_GET;
    case EVHTTP_REQ_POST:
        return REST_POST;
    case EVHTTP_REQ_PATCH:
        return REST_PATCH;
    case EVHTTP_REQ_PUT:
        return REST_PUT;
    case EVHTTP_REQ_DELETE:
        return REST_DELETE;
    default:
        return REST_OTHER;
    }
}

/* ---- Access log ---- */

/* The access log's level (--access-log-level); one REST server a
 * process. */
static enum log_level rest_access_level = LOG_LEVEL_DEBUG;

void
rest_set_access_level(enum log_level level)
{
    rest_access_level = level;
}

static const char *
rest_method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "OTHER";
    }
}

static const char *
rest_route_name(enum rest_route_id id)
{
    static const char *const names[] = {
#define REST_ROUTE(ENUM, NAME) NAME,
        REST_ROUTES
#undef REST_ROUTE
    };
    return (size_t) id < ARRAY_SIZE(names) ? names[id] : "-";
}

/* Once the answer is written: one line with method, route (the template's
 * name, "-" for no route), path, status and milliseconds from the
 * request's arrival (its handling, the commit it waited for, the write).
 * 'arg' is the arrival time in monotonic microseconds: nothing to free,
 * so a connection that dies first leaks nothing. */
static void
rest_access_done(struct evhttp_request *req, void *arg)
{
    if (!log_enabled(rest_access_level)) {
        return;
    }
    uint64_t t0 = (uint64_t) (uintptr_t) arg;
    uint64_t t1 = clock_mono_us();
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    struct rest_route rt;
    struct rest_error e;
    bool routed = rest_route_match(rest_method_of(cmd), path, &rt, &e);
    log_write(rest_access_level, "rest", "event=access method=%s route=%s "
              "path=\"%.80s\" status=%d ms=%.3f", rest_method_name(cmd),
              routed || e.status == 405 ? rest_route_name(rt.id) : "-",
              path ? path : "", evhttp_request_get_response_code(req),
              (double) (t1 > t0 ? t1 - t0 : 0) / 1000.0);
}

/* The lists (GET): paginated and filtered (rest_lists.c). */
static bool
rest_route_is_list(const struct rest_route *rt)
{
    return rt->method == REST_GET
           && (rt->id == REST_R_NODES || rt->id == REST_R_VMS
               || rt->id == REST_R_BINDINGS || rt->id == REST_R_TASKS
               || rt->id == REST_R_MIGRATIONS || rt->id == REST_R_TRANSFERS
               || rt->id == REST_R_TRANSFER_PAIRS);
}

static void
rest_handle(struct evhttp_request *req, void *arg)
{
    struct rest *rest = arg;
    struct ctl *ctl = rest->ctl;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    struct rest_route rt;
    struct rest_error e;

    evhttp_request_set_on_complete_cb(req, rest_access_done,
                                      (void *) (uintptr_t) clock_mono_us());
    /* Who asks is checked before anything else, so that without a
     * valid token not even a 404 tells which paths exist. */
    bool routed = rest_route_match(
        rest_method_of(evhttp_request_get_command(req)), path, &rt, &e);
    struct rest_error ae;
    if (!rest_auth_gate(&rest->auth, ctl,
                        evhttp_find_header(
                            evhttp_request_get_input_headers(req),
                            "Authorization"),
                        routed ? &rt : NULL, &ae)) {
        rest_send_error(ctl, req, &ae);
        return;
    }
    if (!routed) {
        rest_send_error(ctl, req, &e);
        return;
    }
    /* The request's records must fit in the batch (etcd bounds a
     * commit): if not, the batch so far is committed first. */
    if (!ctl_make_room(ctl)) {
        rest_fail(&e, 500, "store_failed", "the durable store failed");
        rest_send_error(ctl, req, &e);
        return;
    }
    const char *body = NULL;
    size_t len = 0;
    if (rest_route_has_body(&rt)) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        len = evbuffer_get_length(in);
        const char *ct = evhttp_find_header(
            evhttp_request_get_input_headers(req), "Content-Type");
        /* A switch-over or an abort may come without a body. */
        bool optional = rt.id == REST_R_MIGRATION_SWITCHOVER
                        || rt.id == REST_R_MIGRATION_ABORT;
        if (!rest_check_body_size(len, ctl->opts.max_body, &e)
            || ((len || !optional) && !rest_check_content_type(ct, &e))) {
            rest_send_error(ctl, req, &e);
            return;
        }
        body = len ? (const char *) evbuffer_pullup(in, -1) : NULL;
    }
    if (rest_route_is_list(&rt)) {
        json_t *o;
        if (rest_list_answer(ctl, rt.id, query, &o, &e)) {
            rest_send_json(ctl, req, 200, o);
        } else {
            rest_send_error(ctl, req, &e);
        }
        return;
    }
    /* Only the map and a node's removal take query parameters. */
    bool takes_query = rt.id == REST_R_MAP
                       || (rt.id == REST_R_NODE && rt.method == REST_DELETE);
    if (!takes_query && !rest_parse_no_query(query, &e)) {
        rest_send_error(ctl, req, &e);
        return;
    }

    switch (rt.id) {
    case REST_R_NODES:
        rest_nodes_post(ctl, req, body, len);
        break;
    case REST_R_NODE:
        rest_node_item(ctl, req, &rt, query);
        break;
    case REST_R_NODE_CORDON:
    case REST_R_NODE_UNCORDON:
    case REST_R_NODE_DRAIN:
        rest_node_action(ctl, req, &rt, body, len);
        break;
    case REST_R_NODE_TOKEN:
        rest_node_token(ctl, req, &rt, body, len);
        break;
    case REST_R_VMS:
        rest_vms_post(ctl, req, body, len);
        break;
    case REST_R_VM:
        rest_vm_item(ctl, req, &rt, body, len);
        break;
    case REST_R_VM_MIGRATE:
        rest_vm_migrate(ctl, req, &rt, body, len);
        break;
    case REST_R_VM_BINDING:
        rest_vm_binding(ctl, req, &rt, body, len);
        break;
    case REST_R_MIGRATION:
        rest_migration_get(ctl, req, &rt);
        break;
    case REST_R_MIGRATION_SWITCHOVER:
    case REST_R_MIGRATION_ABORT:
        rest_migration_action(ctl, req, &rt, body, len);
        break;
    case REST_R_MAP:
        rest_map_get(ctl, req, query);
        break;
    case REST_R_FABRIC:
        rest_send_json(ctl, req, 200, rest_fabric_json(ctl->fabric));
        break;
    case REST_R_TRANSFERS: {
        json_t *o;
        if (rest_transfers_post(ctl, body, len, &o, &e)) {
            rest_send_json(ctl, req, 201, o);
        } else {
            rest_send_error(ctl, req, &e);
        }
        break;
    }
    case REST_R_VSWITCHES:
    case REST_R_VSWITCH:
    case REST_R_VSWITCH_FLOWS:
    case REST_R_VSWITCH_MIGRATE:
        rest_vswitch(ctl, req, &rt, body, len);
        break;
    case REST_R_HEALTHZ:
        rest_healthz(ctl, req);
        break;
    case REST_R_METRICS:
        rest_metrics(rest, req);
        break;
    default:
        rest_fail(&e, 404, "not_found", "no such resource");
        rest_send_error(ctl, req, &e);
        break;
    }
}

/* evhttp's connections over TLS (--api-tls-cert). */
static struct bufferevent *
rest_tls_bev(struct event_base *base, void *arg)
{
    struct rest *rest = arg;
    SSL *ssl = SSL_new(rest->ssl_ctx);
    if (!ssl) {
        return NULL;
    }
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (bev) {
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    }
    return bev;
}

struct rest_auth *
rest_get_auth(struct rest *rest)
{
    return &rest->auth;
}

/* The token file and the TLS context, before anything is bound. */
static bool
rest_security(struct rest *rest, char *err, size_t errlen)
{
    const struct mignetd_options *o = &rest->ctl->opts;
    if (o->api_tokens[0]) {
        rest->auth.tokens = rest_tokens_load(o->api_tokens, err, errlen);
        if (!rest->auth.tokens) {
            return false;
        }
    }
    if (o->api_tls_cert[0]) {
        rest->ssl_ctx = tls_server_ctx(o->api_tls_cert, o->api_tls_key,
                                       err, errlen);
        if (!rest->ssl_ctx) {
            return false;
        }
    }
    return true;
}

struct rest *
rest_create(struct ctl *ctl, char *err, size_t errlen)
{
    struct rest *rest = xcalloc(1, sizeof *rest);
    rest->ctl = ctl;
    rest->http = evhttp_new(ctl->base);
    if (!rest->http) {
        snprintf(err, errlen, "cannot create the HTTP server");
        free(rest);
        return NULL;
    }
    if (!rest_security(rest, err, errlen)) {
        rest_destroy(rest);
        return NULL;
    }
    evhttp_set_allowed_methods(rest->http,
                               EVHTTP_REQ_GET | EVHTTP_REQ_POST
                                   | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT
                                   | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS
                                   | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT
                                   | EVHTTP_REQ_PATCH);
    /* evhttp refuses a body announced over max_body before reading it
     * (and a chunked one once it passes); the guard makes it JSON. */
    evhttp_set_max_body_size(rest->http, ctl->opts.max_body);
    evhttp_set_max_headers_size(rest->http, LGUARD_HEAD_MAX);
    evhttp_set_timeout(rest->http, 60);
    evhttp_set_gencb(rest->http, rest_handle, rest);
    rest_access_level = ctl->opts.access_log_level;

    int fd = sock_listen(ctl->opts.listen, ctl->rest_addr,
                        sizeof ctl->rest_addr, err, errlen);
    if (fd >= 0 && rest->ssl_ctx) {
        /* Accepted sockets inherit it: TLS writes a response as several
         * records, which Nagle would hold for the client's delayed ACK
         * (40 ms a request). */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    struct evhttp_bound_socket *bound =
        fd < 0 ? NULL : evhttp_accept_socket_with_handle(rest->http, fd);
    if (!bound) {
        if (fd >= 0) {
            evutil_closesocket(fd);
            snprintf(err, errlen, "cannot serve HTTP on %s", ctl->rest_addr);
        }
        rest_destroy(rest);
        return NULL;
    }
    if (!rest->auth.tokens) {
        log_write(LOG_WARN, "rest", "event=api_open listen=%s msg=\"no "
                  "--api-tokens: anyone who can connect may use the API\"",
                  ctl->rest_addr);
    } else {
        log_write(LOG_INF, "rest", "event=api_auth tokens=%zu tls=%d",
                  rest_tokens_count(rest->auth.tokens),
                  rest->ssl_ctx != NULL);
    }
    const struct lguard_config gc = {
        .name = "rest",
        .max_conns = ctl->opts.max_conns,
        .max_per_peer = ctl->opts.max_conns_per_peer,
        .request_timeout_ms = ctl->opts.request_timeout_ms,
    };
    rest->guard = lguard_new(ctl->base, &gc);
    /* evhttp has one bufferevent callback and the guard sets it: a TLS
     * server passes its bufferevent maker here (not evhttp_set_bevcb). */
    lguard_http(rest->guard, rest->http, bound,
                rest->ssl_ctx ? rest_tls_bev : NULL, rest);
    return rest;
}

void
rest_destroy(struct rest *rest)
{
    if (!rest) {
        return;
    }
    if (rest->http) {
        evhttp_free(rest->http);
    }
    SSL_CTX_free(rest->ssl_ctx);
    rest_tokens_destroy(rest->auth.tokens);
    lguard_free(rest->guard); /* after the connections it counts */
    free(rest);
}
