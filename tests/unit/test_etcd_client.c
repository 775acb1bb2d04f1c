/* test_etcd_client.c: the etcd client's pure parts, on answers recorded
 * from etcd 3.4's JSON gateway.
 *
 * Checks base64 both ways (and that only canonical text decodes), the
 * endpoint lists mignetd accepts, the prefix rule of ranges, and that
 * every answer parser reads the recorded answers exactly and refuses
 * what etcd would not send.  It never talks to a server. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base64.h"
#include "lib/strbuf.h"
#include "mignet/etcd.h"

#define HDR "\"header\":{\"cluster_id\":\"12683254527128697823\"," \
            "\"member_id\":\"18259917093815115896\",\"revision\":\"4\"," \
            "\"raft_term\":\"2\"}"

static void
test_base64(void **state)
{
    (void) state;
    static const struct {
        const char *plain, *coded;
    } v[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct strbuf b;
        strbuf_init(&b);
        assert_int_equal(base64_encode(&b, v[i].plain, strlen(v[i].plain)),
                         0);
        assert_string_equal(strbuf_str(&b), v[i].coded);
        assert_int_equal(b.len, BASE64_LEN(strlen(v[i].plain)));
        strbuf_clear(&b);
        assert_int_equal(base64_decode(&b, v[i].coded, strlen(v[i].coded)),
                         0);
        assert_int_equal(b.len, strlen(v[i].plain));
        assert_memory_equal(strbuf_str(&b), v[i].plain, b.len);
        strbuf_destroy(&b);
    }
    /* Every byte value survives. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (unsigned char) (255 - i);
    }
    struct strbuf b, d;
    strbuf_init(&b);
    strbuf_init(&d);
    assert_int_equal(base64_encode(&b, all, sizeof all), 0);
    assert_int_equal(base64_decode(&d, b.data, b.len), 0);
    assert_int_equal(d.len, sizeof all);
    assert_memory_equal(d.data, all, sizeof all);
    /* Not canonical, not base64: refused, nothing appended. */
    static const char *const bad[] = {
        "Zg=", "Zg", "Zh==", "Zm9=", "Z===", "====", "Zg==Zg==", "Zm9v!A==",
        "Zm 9", "Zm9v\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t before = d.len;
        assert_int_equal(base64_decode(&d, bad[i], strlen(bad[i])), EINVAL);
        assert_int_equal(d.len, before);
    }
    strbuf_destroy(&b);
    strbuf_destroy(&d);
}

static void
test_endpoints(void **state)
{
    (void) state;
    char err[256];
    assert_true(etcd_endpoints_valid("127.0.0.1:2379", err, sizeof err));
    assert_true(etcd_endpoints_valid("etcd://a:1,b:2,[::1]:2379", err,
                                     sizeof err));
    static const char *const bad[] = {
        "", "etcd://", "127.0.0.1", "a:0", "a:1,", ",a:1", "a:1,,b:2",
        "a:99999", "http://a:1", "a:1/x",
        "a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(etcd_endpoints_valid(bad[i], err, sizeof err));
        assert_true(err[0] != '\0');
    }
    assert_null(etcd_client_create("nope", 100, NULL, err, sizeof err));
    struct etcd_client *c = etcd_client_create("etcd://h1:5,h2:6", 100,
                                               NULL, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(etcd_client_endpoint(c), "h1:5");
    assert_null(etcd_client_tls_ctx(c));
    etcd_client_destroy(c);
    etcd_client_destroy(NULL);

    /* TLS settings are checked, and their files read, when the client is
     * made: never a client that fails at its first request instead. */
    static const struct {
        struct etcd_tls tls;
        const char *want;
    } bad_tls[] = {
        {{.cacert = NULL}, "needs a CA file"},
        {{.cacert = "/nonexistent/ca.pem"},
         "cannot read CA certificates /nonexistent/ca.pem"},
        {{.cacert = "/dev/null", .cert = "/dev/null"}, "needs its key"},
        {{.cacert = "/dev/null"}, "cannot load CA certificates /dev/null"},
    };
    for (size_t i = 0; i < sizeof bad_tls / sizeof bad_tls[0]; i++) {
        err[0] = '\0';
        assert_null(etcd_client_create("h1:5", 100, &bad_tls[i].tls, err,
                                       sizeof err));
        if (!strstr(err, bad_tls[i].want)) {
            fail_msg("case %zu: '%s', want '%s'", i, err, bad_tls[i].want);
        }
    }
}

static void
test_prefix_end(void **state)
{
    (void) state;
    char end[16];
    size_t n;
    etcd_prefix_end("/m/vm/", 6, end, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(end, "/m/vm0", 6);
    etcd_prefix_end("a\xff\xff", 3, end, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(end, "b", 1);
    etcd_prefix_end("\xff", 1, end, &n);
    assert_int_equal(n, 1);
    assert_int_equal(end[0], 0);
}

static void
test_parse_range(void **state)
{
    (void) state;
    char err[256];
    struct etcd_range_result r = {0};
    const char *a = "{" HDR ",\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":"
                    "\"2\",\"mod_revision\":\"3\",\"version\":\"2\",\"value\":"
                    "\"YmFy\",\"lease\":\"7\"},{\"key\":\"Zm9w\"}],"
                    "\"more\":true,\"count\":\"5\"}";
    assert_int_equal(etcd_parse_range(200, a, strlen(a), &r, err, sizeof err),
                     0);
    assert_int_equal(r.n, 2);
    assert_true(r.more);
    assert_int_equal(r.count, 5);
    assert_int_equal(r.revision, 4);
    assert_string_equal(r.kvs[0].key, "foo");
    assert_string_equal(r.kvs[0].value, "bar");
    assert_int_equal(r.kvs[0].value_len, 3);
    assert_int_equal(r.kvs[0].create_revision, 2);
    assert_int_equal(r.kvs[0].mod_revision, 3);
    assert_int_equal(r.kvs[0].version, 2);
    assert_int_equal(r.kvs[0].lease, 7);
    assert_string_equal(r.kvs[1].key, "fop");
    assert_int_equal(r.kvs[1].value_len, 0); /* omitted: empty */
    assert_string_equal(r.kvs[1].value, "");

    /* An empty range: no kvs, no count. */
    const char *empty = "{" HDR "}";
    assert_int_equal(etcd_parse_range(200, empty, strlen(empty), &r, err,
                                      sizeof err), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.count, 0);
    assert_false(r.more);

    /* Refused, and 'r' left as it was. */
    static const char *const bad[] = {
        "", "[]", "{}", "{\"header\":{}", "{" HDR ",\"kvs\":{}}",
        "{" HDR ",\"kvs\":[1]}", "{" HDR ",\"kvs\":[{\"value\":\"YQ==\"}]}",
        "{" HDR ",\"kvs\":[{\"key\":\"Zm9\"}]}",
        "{" HDR ",\"kvs\":[{\"key\":\"Zg==\",\"version\":\"x\"}]}",
        "{" HDR ",\"kvs\":[{\"key\":\"Zg==\",\"version\":\"99999999999999999999\"}]}",
        "{" HDR ",\"count\":\"-1\"}", "{" HDR ",\"more\":\"yes\"}",
        "{\"header\":{\"revision\":\"1\"},\"header\":{\"revision\":\"2\"}}",
        "{\"header\":{\"revision\":\"-2\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r.revision = 77;
        assert_int_equal(etcd_parse_range(200, bad[i], strlen(bad[i]), &r,
                                          err, sizeof err), EPROTO);
        assert_int_equal(r.revision, 77);
    }
    etcd_range_result_destroy(&r);
}

static void
test_parse_txn(void **state)
{
    (void) state;
    char err[256];
    struct etcd_txn_result t;
    const char *ok = "{" HDR ",\"succeeded\":true,\"responses\":[{\""
                     "response_put\":{\"header\":{\"revision\":\"4\"}}}]}";
    assert_int_equal(etcd_parse_txn(200, ok, strlen(ok), &t, err,
                                    sizeof err), 0);
    assert_true(t.succeeded);
    assert_int_equal(t.revision, 4);
    const char *no = "{" HDR "}";
    assert_int_equal(etcd_parse_txn(200, no, strlen(no), &t, err,
                                    sizeof err), 0);
    assert_false(t.succeeded);

    /* Errors as etcd gives them. */
    const char *ops = "{\"error\":\"etcdserver: too many operations in txn "
                      "request\",\"message\":\"etcdserver: too many "
                      "operations in txn request\",\"code\":3}";
    assert_int_equal(etcd_parse_txn(400, ops, strlen(ops), &t, err,
                                    sizeof err), E2BIG);
    assert_non_null(strstr(err, "too many operations"));
    const char *big = "{\"error\":\"etcdserver: request is too large\","
                      "\"message\":\"etcdserver: request is too large\","
                      "\"code\":3}";
    assert_int_equal(etcd_parse_txn(400, big, strlen(big), &t, err,
                                    sizeof err), E2BIG);
    const char *other = "{\"error\":\"etcdserver: no leader\",\"message\":"
                        "\"etcdserver: no leader\",\"code\":14}";
    assert_int_equal(etcd_parse_txn(503, other, strlen(other), &t, err,
                                    sizeof err), EIO);
    assert_non_null(strstr(err, "no leader"));
    assert_int_equal(etcd_parse_txn(502, "Bad Gateway", 11, &t, err,
                                    sizeof err), EIO);
    const char *b = "{" HDR ",\"succeeded\":1}";
    assert_int_equal(etcd_parse_txn(200, b, strlen(b), &t, err, sizeof err),
                     EPROTO);
    b = "{" HDR ",\"responses\":{}}";
    assert_int_equal(etcd_parse_txn(200, b, strlen(b), &t, err, sizeof err),
                     EPROTO);
}

static void
test_parse_lease(void **state)
{
    (void) state;
    char err[256];
    int64_t id = 0, ttl = 0;
    const char *g = "{" HDR ",\"ID\":\"6951484384092757767\",\"TTL\":\"5\"}";
    assert_int_equal(etcd_parse_lease_grant(200, g, strlen(g), &id, &ttl,
                                            err, sizeof err), 0);
    assert_true(id == 6951484384092757767LL);
    assert_int_equal(ttl, 5);
    const char *g0 = "{" HDR ",\"TTL\":\"5\"}";
    assert_int_equal(etcd_parse_lease_grant(200, g0, strlen(g0), &id, &ttl,
                                            err, sizeof err), EPROTO);

    const char *k = "{\"result\":{" HDR ",\"ID\":\"6951484384092757767\","
                    "\"TTL\":\"5\"}}";
    ttl = 0;
    assert_int_equal(etcd_parse_lease_keepalive(200, k, strlen(k),
                                                6951484384092757767LL, &ttl,
                                                err, sizeof err), 0);
    assert_int_equal(ttl, 5);
    /* The same answer for another lease is not an answer. */
    assert_int_equal(etcd_parse_lease_keepalive(200, k, strlen(k), 12, &ttl,
                                                err, sizeof err), EPROTO);
    /* A lease etcd does not know: TTL left out. */
    const char *gone = "{\"result\":{" HDR ",\"ID\":\"123\"}}";
    assert_int_equal(etcd_parse_lease_keepalive(200, gone, strlen(gone), 123,
                                                &ttl, err, sizeof err),
                     ENOENT);
    const char *se = "{\"error\":{\"grpc_code\":5,\"http_code\":404,"
                     "\"message\":\"etcdserver: requested lease not found\","
                     "\"http_status\":\"Not Found\"}}";
    assert_int_equal(etcd_parse_lease_keepalive(200, se, strlen(se), 123,
                                                &ttl, err, sizeof err),
                     ENOENT);

    const char *rv = "{" HDR "}";
    assert_int_equal(etcd_parse_lease_revoke(200, rv, strlen(rv), err,
                                             sizeof err), 0);
    const char *nf = "{\"error\":\"etcdserver: requested lease not found\","
                     "\"message\":\"etcdserver: requested lease not found\","
                     "\"code\":5}";
    assert_int_equal(etcd_parse_lease_revoke(404, nf, strlen(nf), err,
                                             sizeof err), ENOENT);
}

/* Nothing listens: every endpoint is tried, then ECONNREFUSED. */
static void
test_unreachable(void **state)
{
    (void) state;
    char err[256];
    struct etcd_client *c = etcd_client_create("127.0.0.1:1,127.0.0.1:2",
                                               2000, NULL, err, sizeof err);
    assert_non_null(c);
    struct etcd_range_result r = {0};
    assert_int_equal(etcd_range(c, "a", 1, NULL, 0, 0, &r, err, sizeof err),
                     ECONNREFUSED);
    assert_non_null(strstr(err, "no etcd endpoint answers"));
    etcd_client_destroy(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_prefix_end),
        cmocka_unit_test(test_parse_range),
        cmocka_unit_test(test_parse_txn),
        cmocka_unit_test(test_parse_lease),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
