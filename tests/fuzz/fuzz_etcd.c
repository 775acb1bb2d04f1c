/* fuzz_etcd.c: libFuzzer target for the etcd client's answer parsers,
 * which read whatever an etcd endpoint (or anything listening there)
 * sends.
 *
 * The first byte picks the parser, the second the HTTP status class; the
 * rest is the body.  Checks that no parse reads out of bounds or leaks,
 * that a refused answer leaves the caller's result as it was, and that an
 * accepted range holds only keys and values that fit in the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    static const int statuses[] = {200, 400, 404, 500, 503, 200, 200, 200};
    int which = data[0] % 5;
    int status = statuses[data[1] % 8];
    const char *body = (const char *) data + 2;
    size_t len = size - 2;
    char err[256];

    switch (which) {
    case 0: {
        struct etcd_range_result r = {.revision = -7};
        int e = etcd_parse_range(status, body, len, &r, err, sizeof err);
        if (e && (r.revision != -7 || r.n || r.kvs)) {
            abort();
        }
        for (size_t i = 0; !e && i < r.n; i++) {
            const struct etcd_kv *kv = &r.kvs[i];
            if (!kv->key || !kv->key_len || kv->key_len > len
                || kv->key[kv->key_len] != '\0' || !kv->value
                || kv->value_len > len || kv->value[kv->value_len] != '\0') {
                abort();
            }
        }
        if (!e && (r.count < 0 || r.revision < 0 || r.n > len)) {
            abort();
        }
        etcd_range_result_destroy(&r);
        break;
    }
    case 1: {
        struct etcd_txn_result t = {.succeeded = true, .revision = -7};
        int e = etcd_parse_txn(status, body, len, &t, err, sizeof err);
        if (e && (t.revision != -7 || !t.succeeded)) {
            abort();
        }
        break;
    }
    case 2: {
        int64_t id = -7, ttl = -7;
        int e = etcd_parse_lease_grant(status, body, len, &id, &ttl, err,
                                       sizeof err);
        if ((e && (id != -7 || ttl != -7)) || (!e && (id <= 0 || ttl <= 0))) {
            abort();
        }
        break;
    }
    case 3: {
        int64_t ttl = -7;
        int e = etcd_parse_lease_keepalive(status, body, len, 42, &ttl, err,
                                           sizeof err);
        if ((e && ttl != -7) || (!e && ttl <= 0)) {
            abort();
        }
        break;
    }
    default:
        (void) etcd_parse_lease_revoke(status, body, len, err, sizeof err);
        break;
    }
    return 0;
}
