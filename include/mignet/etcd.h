/* etcd.h: a small blocking client of etcd's v3 API through its JSON
 * gateway (POST /v3/..., keys and values in base64), for the etcd store
 * backend and, next, the controller's leader election (docs/ha.md).
 *
 * Calls block for at most the client's timeout.  Every answer is parsed
 * by the pure etcd_parse_*() functions, which trust nothing they read:
 * an answer that is not what etcd sends is an error, never a guess.
 * Errors are 0 or a positive errno with a message in 'err':
 *   ECONNREFUSED  no endpoint could be reached (each was tried once)
 *   ETIMEDOUT     no whole answer in time (the request may have applied)
 *   E2BIG         etcd refused the request's size or operation count
 *   ENOENT        a lease etcd does not know (expired or revoked)
 *   EPROTO        an answer that does not parse (no HTTP, cut short --
 *                 as an https-only etcd does to plain http -- or not
 *                 etcd's JSON)
 *   EACCES        TLS: etcd's certificate did not verify, or etcd refused
 *                 ours (or its absence).  (A plain http client at an
 *                 https-only etcd sees EIO: etcd closes without a word.)
 *   EIO           any other refusal by etcd (its message in 'err') */
#ifndef MIGNET_ETCD_H
#define MIGNET_ETCD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_DEFAULT_TIMEOUT_MS 5000

struct etcd_client;

/* Checks "HOST:PORT[,HOST:PORT...]" (an optional "etcd://" before it):
 * at most ETCD_MAX_ENDPOINTS, each with a nonzero port.  Returns false
 * with the reason in 'err'. */
bool etcd_endpoints_valid(const char *spec, char *err, size_t errlen);

/* TLS to etcd (docs/ha.md): https to every endpoint, etcd's certificate
 * verified against 'cacert' and checked to name the endpoint's host (a
 * DNS name, or an IP address in its IP subjectAltNames); 'cert' and 'key'
 * (both or neither; NULL) are the client certificate etcd's
 * --client-cert-auth asks for.  PEM files. */
struct etcd_tls {
    const char *cacert;
    const char *cert;
    const char *key;
};

/* A client of the cluster at 'spec' (as above), over TLS when 'tls' is
 * not NULL (its files are read here, once: a missing or unreadable file,
 * a certificate without its key or a key that does not match it is an
 * error now, not at the first request).  Requests go to the first
 * endpoint that answers; one that cannot be connected to is left for the
 * next.  NULL with 'err' set when 'spec' or 'tls' is invalid. */
struct etcd_client *etcd_client_create(const char *spec, int timeout_ms,
                                       const struct etcd_tls *tls,
                                       char *err, size_t errlen);
void etcd_client_destroy(struct etcd_client *);
/* The endpoint in use ("HOST:PORT"). */
const char *etcd_client_endpoint(const struct etcd_client *);
/* The TLS context its requests use (OpenSSL's SSL_CTX), NULL for plain
 * http; it lives as long as the client (another connection to the same
 * etcd, e.g. a watch, may use it). */
struct ssl_ctx_st;
struct ssl_ctx_st *etcd_client_tls_ctx(const struct etcd_client *);

/* One key-value pair of a range answer; key and value are NUL-terminated
 * copies (a value may hold NULs: use value_len). */
struct etcd_kv {
    char *key;
    size_t key_len;
    char *value;
    size_t value_len;
    int64_t create_revision, mod_revision, version, lease;
};

struct etcd_range_result {
    struct etcd_kv *kvs;
    size_t n;
    bool more;        /* 'limit' cut the answer */
    int64_t count;    /* keys in the range */
    int64_t revision; /* the store's revision the answer is from */
};
void etcd_range_result_destroy(struct etcd_range_result *);

/* Keys in ['key', 'range_end') (range_end NULL: 'key' only; "\0" with
 * 'end_len' 1: every key >= 'key'), in key order, at most 'limit' (0:
 * all).  Linearizable.  'res' is replaced. */
int etcd_range(struct etcd_client *, const void *key, size_t key_len,
               const void *range_end, size_t end_len, int64_t limit,
               struct etcd_range_result *res, char *err, size_t errlen);
/* The range_end that makes a range cover every key starting with
 * 'prefix' (etcd's rule: the prefix with its last byte below 0xff
 * incremented).  Writes at most 'len' bytes into 'end', sets '*end_len'.
 * An empty or all-0xff prefix gives "\0" (every key). */
void etcd_prefix_end(const void *prefix, size_t len, char *end,
                     size_t *end_len);

/* Transactions: if every comparison holds, the success operations run,
 * else the failure ones, all at one revision. */
enum etcd_cmp_target { ETCD_CMP_VERSION, ETCD_CMP_CREATE, ETCD_CMP_MOD,
                       ETCD_CMP_VALUE, ETCD_CMP_LEASE };
enum etcd_cmp_result { ETCD_CMP_EQUAL, ETCD_CMP_GREATER, ETCD_CMP_LESS,
                       ETCD_CMP_NOT_EQUAL };
struct etcd_cmp {
    const void *key;
    size_t key_len;
    enum etcd_cmp_target target;
    enum etcd_cmp_result result;
    int64_t number;    /* VERSION, CREATE, MOD, LEASE */
    const void *value; /* VALUE */
    size_t value_len;
};

enum etcd_op_kind { ETCD_OP_PUT, ETCD_OP_DELETE };
struct etcd_op {
    enum etcd_op_kind kind;
    const void *key;
    size_t key_len;
    const void *value; /* PUT */
    size_t value_len;
    int64_t lease;     /* PUT: attach to this lease; 0 = none */
};

struct etcd_txn_result {
    bool succeeded;
    int64_t revision;
};

int etcd_txn(struct etcd_client *, const struct etcd_cmp *, size_t n_cmp,
             const struct etcd_op *success, size_t n_success,
             const struct etcd_op *failure, size_t n_failure,
             struct etcd_txn_result *res, char *err, size_t errlen);

/* Leases.  grant: a lease of 'ttl_s' seconds ('*id' gets its id, '*ttl'
 * what etcd granted); keepalive: renews it ('*ttl' seconds left), ENOENT
 * when it is gone; revoke: ends it and deletes its keys (ENOENT when
 * gone). */
int etcd_lease_grant(struct etcd_client *, int64_t ttl_s, int64_t *id,
                     int64_t *ttl, char *err, size_t errlen);
int etcd_lease_keepalive(struct etcd_client *, int64_t id, int64_t *ttl,
                         char *err, size_t errlen);
int etcd_lease_revoke(struct etcd_client *, int64_t id, char *err,
                      size_t errlen);

/* The answer parsers (pure; tests and fuzzing).  'status' is the HTTP
 * status; an error answer ({"error": ..., "code": N}) gives the errno
 * above with etcd's message in 'err'. */
int etcd_parse_range(int status, const char *body, size_t len,
                     struct etcd_range_result *res, char *err,
                     size_t errlen);
int etcd_parse_txn(int status, const char *body, size_t len,
                   struct etcd_txn_result *res, char *err, size_t errlen);
int etcd_parse_lease_grant(int status, const char *body, size_t len,
                           int64_t *id, int64_t *ttl, char *err,
                           size_t errlen);
int etcd_parse_lease_keepalive(int status, const char *body, size_t len,
                               int64_t id, int64_t *ttl, char *err,
                               size_t errlen);
int etcd_parse_lease_revoke(int status, const char *body, size_t len,
                            char *err, size_t errlen);

#endif /* MIGNET_ETCD_H */
