/* etcd_client.c: etcd v3 over its JSON gateway (see mignet/etcd.h).
 *
 * Requests are built as text (keys and values in base64, 64-bit numbers
 * as decimal strings, as the gateway writes them) and sent with the
 * project's blocking HTTP client; answers are parsed with jansson, every
 * field checked for its type and range.  It must never accept an answer
 * it cannot read whole, and never retry a request on another endpoint
 * once it may have reached one (only a failed connect moves on). */
#include "mignet/etcd.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/addr.h"
#include "lib/base64.h"
#include "lib/http_client.h"
#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/tls.h"
#include "lib/util.h"

#define SET_ERR strbuf_format_into

struct etcd_client {
    struct http_url urls[ETCD_MAX_ENDPOINTS];
    char names[ETCD_MAX_ENDPOINTS][300];
    size_t n, cur;
    int timeout_ms;
    SSL_CTX *tls; /* https: made once from struct etcd_tls; NULL: http */
    bool client_cert; /* 'tls' presents a client certificate */
    /* The connection kept open to the endpoint in use: over https a new
     * handshake a request would cost more than the request
     * (bench/bench_store.sh --tls, docs/ha.md). */
    struct http_session *http;
};

/* ---- Endpoints ---- */

static const char *
etcd_skip_scheme(const char *spec)
{
    return !strncmp(spec, "etcd://", 7) ? spec + 7 : spec;
}

/* Parses 'spec' into 'c' (NULL: check only), https URLs when 'tls'. */
static bool
etcd_parse_endpoints(const char *spec, bool tls, struct etcd_client *c,
                     char *err, size_t errlen)
{
    if (!spec) {
        SET_ERR(err, errlen, "no etcd endpoints");
        return false;
    }
    const char *p = etcd_skip_scheme(spec);
    size_t n = 0;
    if (!*p) {
        SET_ERR(err, errlen, "no etcd endpoints in '%s'", spec);
        return false;
    }
    for (;;) {
        size_t len = strcspn(p, ",");
        char one[300], host[256], port[8], url[300];
        if (!len || len >= sizeof one) {
            SET_ERR(err, errlen, "etcd endpoint %zu of '%s' is empty or "
                    "too long", n + 1, spec);
            return false;
        }
        memcpy(one, p, len);
        one[len] = '\0';
        if (!sock_split_hostport(one, host, sizeof host, port, sizeof port)
            || strchr(one, '/')) {
            SET_ERR(err, errlen, "etcd endpoint '%s' is not HOST:PORT with "
                    "a nonzero port", one);
            return false;
        }
        if (n == ETCD_MAX_ENDPOINTS) {
            SET_ERR(err, errlen, "more than %d etcd endpoints",
                    ETCD_MAX_ENDPOINTS);
            return false;
        }
        bool v6 = strchr(host, ':') != NULL;
        snprintf(url, sizeof url, "%s://%s%s%s:%s", tls ? "https" : "http",
                 v6 ? "[" : "", host, v6 ? "]" : "", port);
        struct http_url u;
        char why[128];
        if (http_url_parse(url, &u, why, sizeof why)) {
            SET_ERR(err, errlen, "etcd endpoint '%s': %s", one, why);
            return false;
        }
        if (c) {
            c->urls[n] = u;
            snprintf(c->names[n], sizeof c->names[n], "%s", one);
        }
        n++;
        p += len;
        if (!*p) {
            break;
        }
        p++;
    }
    if (c) {
        c->n = n;
    }
    return true;
}

bool
etcd_endpoints_valid(const char *spec, char *err, size_t errlen)
{
    return etcd_parse_endpoints(spec, false, NULL, err, errlen);
}

struct etcd_client *
etcd_client_create(const char *spec, int timeout_ms,
                   const struct etcd_tls *tls, char *err, size_t errlen)
{
    struct etcd_client *c = xcalloc(1, sizeof *c);
    if (!etcd_parse_endpoints(spec, tls != NULL, c, err, errlen)) {
        free(c);
        return NULL;
    }
    if (tls && !tls->cacert) {
        SET_ERR(err, errlen, "etcd over TLS needs a CA file");
        free(c);
        return NULL;
    }
    if (tls) {
        char why[512];
        c->tls = tls_client_ctx_cert(tls->cacert, tls->cert, tls->key, why,
                                     sizeof why);
        if (!c->tls) {
            SET_ERR(err, errlen, "etcd %s", why);
            free(c);
            return NULL;
        }
        c->client_cert = tls->cert != NULL;
    }
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : ETCD_DEFAULT_TIMEOUT_MS;
    c->http = http_session_create();
    return c;
}

void
etcd_client_destroy(struct etcd_client *c)
{
    if (c) {
        http_session_destroy(c->http);
        SSL_CTX_free(c->tls);
        free(c);
    }
}

SSL_CTX *
etcd_client_tls_ctx(const struct etcd_client *c)
{
    return c->tls;
}

const char *
etcd_client_endpoint(const struct etcd_client *c)
{
    return c->names[c->cur];
}

/* ---- Answers ---- */

void
etcd_range_result_destroy(struct etcd_range_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        free(r->kvs[i].key);
        free(r->kvs[i].value);
    }
    free(r->kvs);
    memset(r, 0, sizeof *r);
}

/* A 64-bit field: absent is 0 (the gateway leaves zeros out); present,
 * a decimal string (how the gateway writes int64) or a JSON integer. */
static bool
etcd_get_i64(const json_t *obj, const char *name, int64_t *out)
{
    const json_t *v = json_object_get(obj, name);
    *out = 0;
    if (!v) {
        return true;
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (!json_is_string(v)) {
        return false;
    }
    const char *s = json_string_value(v);
    bool neg = s[0] == '-';
    uint64_t acc = 0;
    if (strlen(s) != json_string_length(v)
        || !addr_parse_u64(s + neg, 0, neg ? (uint64_t) INT64_MAX + 1
                                           : (uint64_t) INT64_MAX,
                           &acc)) {
        return false;
    }
    *out = neg ? (int64_t) (0 - acc) : (int64_t) acc;
    return true;
}

static bool
etcd_get_bool(const json_t *obj, const char *name, bool *out)
{
    const json_t *v = json_object_get(obj, name);
    *out = false;
    if (!v) {
        return true;
    }
    if (!json_is_boolean(v)) {
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* A base64 field into a fresh NUL-terminated buffer ('*out' NULL and
 * length 0 when absent). */
static bool
etcd_get_bytes(const json_t *obj, const char *name, char **out, size_t *len)
{
    const json_t *v = json_object_get(obj, name);
    *out = NULL;
    *len = 0;
    if (!v) {
        return true;
    }
    if (!json_is_string(v)) {
        return false;
    }
    struct strbuf b;
    strbuf_init(&b);
    if (base64_decode(&b, json_string_value(v), json_string_length(v))
        || strbuf_append(&b, "", 0)) {
        strbuf_destroy(&b);
        return false;
    }
    *out = b.data;
    *len = b.len;
    return true;
}

/* The JSON object of an answer; NULL with 'err' set. */
static json_t *
etcd_load(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        SET_ERR(err, errlen, "etcd answer is not a JSON object%s%s",
                j ? "" : ": ", j ? "" : je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* An error answer: {"error": TEXT, "message": TEXT, "code": N} (or the
 * streaming form {"error": {"grpc_code": N, "message": TEXT, ...}}).
 * Returns its errno, or 0 when 'j' is not one and 'status' is 200. */
static int
etcd_answer_error(int status, const json_t *j, char *err, size_t errlen)
{
    const json_t *e = json_object_get(j, "error");
    if (!e && status == 200) {
        return 0;
    }
    const char *msg = NULL;
    int64_t code = 0;
    if (json_is_object(e)) {
        msg = json_string_value(json_object_get(e, "message"));
        if (!etcd_get_i64(e, "grpc_code", &code)) {
            code = 0;
        }
    } else {
        msg = json_string_value(json_object_get(j, "message"));
        if (!msg) {
            msg = json_string_value(e);
        }
        if (!etcd_get_i64(j, "code", &code)) {
            code = 0;
        }
    }
    if (!msg) {
        msg = "no message";
    }
    SET_ERR(err, errlen, "etcd: %s (HTTP %d, code %" PRId64 ")", msg,
            status, code);
    if (strstr(msg, "too many operations") || strstr(msg, "too large")
        || strstr(msg, "larger than max") || code == 8) {
        return E2BIG;
    }
    if (code == 5 || strstr(msg, "lease not found")) {
        return ENOENT;
    }
    return EIO;
}

/* Loads 'body' and checks that it is no error answer.  NULL with '*error'
 * set otherwise. */
static json_t *
etcd_answer(int status, const char *body, size_t len, int *error, char *err,
            size_t errlen)
{
    json_t *j = etcd_load(body, len, err, errlen);
    if (!j) {
        *error = status == 200 ? EPROTO : EIO;
        if (status != 200) {
            SET_ERR(err, errlen, "etcd answered HTTP %d", status);
        }
        return NULL;
    }
    *error = etcd_answer_error(status, j, err, errlen);
    if (*error) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int
etcd_bad(json_t *j, const char *what, char *err, size_t errlen)
{
    json_decref(j);
    SET_ERR(err, errlen, "etcd answer: bad %s", what);
    return EPROTO;
}

/* The header's revision, which every answer carries. */
static bool
etcd_header_revision(const json_t *j, int64_t *rev)
{
    const json_t *h = json_object_get(j, "header");
    return json_is_object(h) && etcd_get_i64(h, "revision", rev) && *rev >= 0;
}

int
etcd_parse_range(int status, const char *body, size_t len,
                 struct etcd_range_result *res, char *err, size_t errlen)
{
    int error;
    json_t *j = etcd_answer(status, body, len, &error, err, errlen);
    if (!j) {
        return error;
    }
    struct etcd_range_result r = {0};
    if (!etcd_header_revision(j, &r.revision)) {
        return etcd_bad(j, "header", err, errlen);
    }
    if (!etcd_get_i64(j, "count", &r.count) || r.count < 0
        || !etcd_get_bool(j, "more", &r.more)) {
        return etcd_bad(j, "count or more", err, errlen);
    }
    const json_t *kvs = json_object_get(j, "kvs");
    if (kvs && !json_is_array(kvs)) {
        return etcd_bad(j, "kvs", err, errlen);
    }
    size_t n = kvs ? json_array_size(kvs) : 0;
    r.kvs = n ? xcalloc(n, sizeof *r.kvs) : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(kvs, i);
        struct etcd_kv *kv = &r.kvs[r.n];
        if (!json_is_object(o)) {
            goto bad_kv;
        }
        r.n++;
        if (!etcd_get_bytes(o, "key", &kv->key, &kv->key_len)
            || !kv->key_len
            || !etcd_get_bytes(o, "value", &kv->value, &kv->value_len)
            || !etcd_get_i64(o, "create_revision", &kv->create_revision)
            || !etcd_get_i64(o, "mod_revision", &kv->mod_revision)
            || !etcd_get_i64(o, "version", &kv->version)
            || !etcd_get_i64(o, "lease", &kv->lease)) {
            goto bad_kv;
        }
        if (!kv->value) {
            kv->value = xstrdup(""); /* the gateway omits empty values */
        }
    }
    json_decref(j);
    etcd_range_result_destroy(res);
    *res = r;
    return 0;

bad_kv:
    etcd_range_result_destroy(&r);
    return etcd_bad(j, "key-value pair", err, errlen);
}

int
etcd_parse_txn(int status, const char *body, size_t len,
               struct etcd_txn_result *res, char *err, size_t errlen)
{
    int error;
    json_t *j = etcd_answer(status, body, len, &error, err, errlen);
    if (!j) {
        return error;
    }
    struct etcd_txn_result r = {0};
    if (!etcd_header_revision(j, &r.revision)) {
        return etcd_bad(j, "header", err, errlen);
    }
    if (!etcd_get_bool(j, "succeeded", &r.succeeded)) {
        return etcd_bad(j, "succeeded", err, errlen);
    }
    const json_t *resp = json_object_get(j, "responses");
    if (resp && !json_is_array(resp)) {
        return etcd_bad(j, "responses", err, errlen);
    }
    json_decref(j);
    *res = r;
    return 0;
}

int
etcd_parse_lease_grant(int status, const char *body, size_t len,
                       int64_t *id, int64_t *ttl, char *err, size_t errlen)
{
    int error;
    json_t *j = etcd_answer(status, body, len, &error, err, errlen);
    if (!j) {
        return error;
    }
    int64_t rev, i, t;
    if (!etcd_header_revision(j, &rev) || !etcd_get_i64(j, "ID", &i)
        || !etcd_get_i64(j, "TTL", &t) || i <= 0 || t <= 0) {
        return etcd_bad(j, "lease grant", err, errlen);
    }
    json_decref(j);
    *id = i;
    *ttl = t;
    return 0;
}

int
etcd_parse_lease_keepalive(int status, const char *body, size_t len,
                           int64_t id, int64_t *ttl, char *err,
                           size_t errlen)
{
    int error;
    json_t *j = etcd_answer(status, body, len, &error, err, errlen);
    if (!j) {
        return error;
    }
    /* A stream of one message: {"result": {header, ID, TTL}}. */
    const json_t *r = json_object_get(j, "result");
    int64_t rev, i, t;
    if (!json_is_object(r) || !etcd_header_revision(r, &rev)
        || !etcd_get_i64(r, "ID", &i) || !etcd_get_i64(r, "TTL", &t)
        || i != id || t < 0) {
        return etcd_bad(j, "lease keepalive", err, errlen);
    }
    json_decref(j);
    if (t == 0) {
        SET_ERR(err, errlen, "etcd: lease %" PRId64 " not found (expired "
                "or revoked)", id);
        return ENOENT;
    }
    *ttl = t;
    return 0;
}

int
etcd_parse_lease_revoke(int status, const char *body, size_t len,
                        char *err, size_t errlen)
{
    int error;
    json_t *j = etcd_answer(status, body, len, &error, err, errlen);
    if (!j) {
        return error;
    }
    int64_t rev;
    if (!etcd_header_revision(j, &rev)) {
        return etcd_bad(j, "header", err, errlen);
    }
    json_decref(j);
    return 0;
}

/* ---- Requests ---- */

/* Appends "NAME":"BASE64" (with a leading comma unless 'first'). */
static int
etcd_put_b64(struct strbuf *b, const char *name, const void *p, size_t n,
             bool first)
{
    int e = strbuf_printf(b, "%s\"%s\":\"", first ? "" : ",", name);
    if (!e) {
        e = base64_encode(b, p, n);
    }
    return e ? e : strbuf_putc(b, '"');
}

/* The errno (etcd.h) of a request that failed once connected. */
static int
etcd_http_errno(enum http_err e)
{
    switch (e) {
    case HTTP_E_TIMEOUT:
        return ETIMEDOUT;
    case HTTP_E_TLS:
        return EACCES;
    case HTTP_E_IO:
    case HTTP_E_NOMEM:
        return EIO;
    default:
        return EPROTO; /* no HTTP answer we can read */
    }
}

/* POSTs 'body' to 'path' (on the connection kept open, or a new one);
 * moves to the next endpoint only when the current one cannot be
 * connected to. */
static int
etcd_post(struct etcd_client *c, const char *path, const struct strbuf *body,
          struct http_response *resp, char *err, size_t errlen)
{
    char why[256] = "";
    const struct http_opts opts = {.ctx = c->tls};
    for (size_t tries = 0; tries < c->n; tries++) {
        enum http_err e = http_session_request(
            c->http, &c->urls[c->cur], &opts, "POST", path, strbuf_str(body),
            body->len, c->timeout_ms, resp, why, sizeof why);
        if (!e) {
            return 0;
        }
        if (e == HTTP_E_RESOLVE || e == HTTP_E_CONNECT) {
            c->cur = (c->cur + 1) % c->n;
            continue;
        }
        /* What an operator most likely got wrong, when it shows. */
        const char *hint = "";
        if (!c->tls && e == HTTP_E_TRUNCATED) {
            hint = " (an etcd serving https only closes plain http "
                   "connections so: give its CA, mignetd --store-cacert)";
        } else if (e == HTTP_E_TLS && !c->client_cert
                   && strstr(why, "after the handshake")) {
            hint = " (no client certificate given: etcd with "
                   "--client-cert-auth asks for one, --store-cert)";
        }
        SET_ERR(err, errlen, "etcd %s: %s: %s%s", c->names[c->cur],
                http_strerror(e), why, hint);
        return etcd_http_errno(e);
    }
    SET_ERR(err, errlen, "no etcd endpoint answers (last: %s: %s)",
            c->names[c->cur], why);
    return ECONNREFUSED;
}

int
etcd_range(struct etcd_client *c, const void *key, size_t key_len,
           const void *range_end, size_t end_len, int64_t limit,
           struct etcd_range_result *res, char *err, size_t errlen)
{
    struct strbuf b;
    struct http_response resp;
    strbuf_init(&b);
    http_response_init(&resp);
    int e = strbuf_putc(&b, '{');
    if (!e) {
        e = etcd_put_b64(&b, "key", key, key_len, true);
    }
    if (!e && range_end) {
        e = etcd_put_b64(&b, "range_end", range_end, end_len, false);
    }
    if (!e && limit > 0) {
        e = strbuf_printf(&b, ",\"limit\":\"%" PRId64 "\"", limit);
    }
    if (!e) {
        e = strbuf_putc(&b, '}');
    }
    if (e) {
        SET_ERR(err, errlen, "out of memory");
    } else {
        e = etcd_post(c, "/v3/kv/range", &b, &resp, err, errlen);
    }
    if (!e) {
        e = etcd_parse_range(resp.status, resp.body, resp.body_len, res, err,
                             errlen);
    }
    http_response_destroy(&resp);
    strbuf_destroy(&b);
    return e;
}

void
etcd_prefix_end(const void *prefix, size_t len, char *end, size_t *end_len)
{
    const unsigned char *p = prefix;
    size_t n = len;
    while (n && p[n - 1] == 0xff) {
        n--;
    }
    if (!n) {
        end[0] = '\0';
        *end_len = 1;
        return;
    }
    memcpy(end, p, n);
    end[n - 1] = (char) (p[n - 1] + 1);
    *end_len = n;
}

static const char *const etcd_targets[] = {"VERSION", "CREATE", "MOD",
                                           "VALUE", "LEASE"};
static const char *const etcd_results[] = {"EQUAL", "GREATER", "LESS",
                                           "NOT_EQUAL"};
static const char *const etcd_numbers[] = {"version", "create_revision",
                                           "mod_revision", NULL, "lease"};

static int
etcd_put_ops(struct strbuf *b, const char *name, const struct etcd_op *ops,
             size_t n)
{
    int e = strbuf_printf(b, ",\"%s\":[", name);
    for (size_t i = 0; !e && i < n; i++) {
        const struct etcd_op *o = &ops[i];
        e = strbuf_printf(b, "%s{\"%s\":{", i ? "," : "",
                          o->kind == ETCD_OP_PUT ? "request_put"
                                                 : "request_delete_range");
        if (!e) {
            e = etcd_put_b64(b, "key", o->key, o->key_len, true);
        }
        if (!e && o->kind == ETCD_OP_PUT) {
            e = etcd_put_b64(b, "value", o->value, o->value_len, false);
            if (!e && o->lease) {
                e = strbuf_printf(b, ",\"lease\":\"%" PRId64 "\"", o->lease);
            }
        }
        if (!e) {
            e = strbuf_puts(b, "}}");
        }
    }
    return e ? e : strbuf_putc(b, ']');
}

int
etcd_txn(struct etcd_client *c, const struct etcd_cmp *cmps, size_t n_cmp,
         const struct etcd_op *success, size_t n_success,
         const struct etcd_op *failure, size_t n_failure,
         struct etcd_txn_result *res, char *err, size_t errlen)
{
    struct strbuf b;
    struct http_response resp;
    strbuf_init(&b);
    http_response_init(&resp);
    int e = strbuf_puts(&b, "{\"compare\":[");
    for (size_t i = 0; !e && i < n_cmp; i++) {
        const struct etcd_cmp *k = &cmps[i];
        if ((unsigned) k->target > ETCD_CMP_LEASE
            || (unsigned) k->result > ETCD_CMP_NOT_EQUAL) {
            strbuf_destroy(&b);
            SET_ERR(err, errlen, "bad etcd comparison %zu", i);
            return EINVAL;
        }
        e = strbuf_printf(&b, "%s{\"target\":\"%s\",\"result\":\"%s\"",
                          i ? "," : "", etcd_targets[k->target],
                          etcd_results[k->result]);
        if (!e) {
            e = etcd_put_b64(&b, "key", k->key, k->key_len, false);
        }
        if (!e && k->target == ETCD_CMP_VALUE) {
            e = etcd_put_b64(&b, "value", k->value, k->value_len, false);
        } else if (!e) {
            e = strbuf_printf(&b, ",\"%s\":\"%" PRId64 "\"",
                              etcd_numbers[k->target], k->number);
        }
        if (!e) {
            e = strbuf_putc(&b, '}');
        }
    }
    if (!e) {
        e = strbuf_putc(&b, ']');
    }
    if (!e) {
        e = etcd_put_ops(&b, "success", success, n_success);
    }
    if (!e) {
        e = etcd_put_ops(&b, "failure", failure, n_failure);
    }
    if (!e) {
        e = strbuf_putc(&b, '}');
    }
    if (e) {
        SET_ERR(err, errlen, "out of memory");
    } else {
        e = etcd_post(c, "/v3/kv/txn", &b, &resp, err, errlen);
    }
    if (!e) {
        e = etcd_parse_txn(resp.status, resp.body, resp.body_len, res, err,
                           errlen);
    }
    http_response_destroy(&resp);
    strbuf_destroy(&b);
    return e;
}

/* Posts a small fixed request and hands the answer to the caller. */
static int
etcd_simple(struct etcd_client *c, const char *path, const char *json,
            struct http_response *resp, char *err, size_t errlen)
{
    struct strbuf b;
    strbuf_init(&b);
    int e = strbuf_puts(&b, json) ? ENOMEM : 0;
    if (!e) {
        e = etcd_post(c, path, &b, resp, err, errlen);
    } else {
        SET_ERR(err, errlen, "out of memory");
    }
    strbuf_destroy(&b);
    return e;
}

int
etcd_lease_grant(struct etcd_client *c, int64_t ttl_s, int64_t *id,
                 int64_t *ttl, char *err, size_t errlen)
{
    char json[64];
    struct http_response resp;
    http_response_init(&resp);
    snprintf(json, sizeof json, "{\"TTL\":\"%" PRId64 "\"}", ttl_s);
    int e = etcd_simple(c, "/v3/lease/grant", json, &resp, err, errlen);
    if (!e) {
        e = etcd_parse_lease_grant(resp.status, resp.body, resp.body_len, id,
                                   ttl, err, errlen);
    }
    http_response_destroy(&resp);
    return e;
}

int
etcd_lease_keepalive(struct etcd_client *c, int64_t id, int64_t *ttl,
                     char *err, size_t errlen)
{
    char json[64];
    struct http_response resp;
    http_response_init(&resp);
    snprintf(json, sizeof json, "{\"ID\":\"%" PRId64 "\"}", id);
    int e = etcd_simple(c, "/v3/lease/keepalive", json, &resp, err, errlen);
    if (!e) {
        e = etcd_parse_lease_keepalive(resp.status, resp.body,
                                       resp.body_len, id, ttl, err, errlen);
    }
    http_response_destroy(&resp);
    return e;
}

int
etcd_lease_revoke(struct etcd_client *c, int64_t id, char *err,
                  size_t errlen)
{
    char json[64];
    struct http_response resp;
    http_response_init(&resp);
    snprintf(json, sizeof json, "{\"ID\":\"%" PRId64 "\"}", id);
    int e = etcd_simple(c, "/v3/lease/revoke", json, &resp, err, errlen);
    if (!e) {
        e = etcd_parse_lease_revoke(resp.status, resp.body, resp.body_len,
                                    err, errlen);
    }
    http_response_destroy(&resp);
    return e;
}
