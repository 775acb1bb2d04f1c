/* test_store_etcd.c: the etcd store backend against a real etcd.
 *
 * With MIGNET_TEST_ETCD=HOST:PORT (tests/integration/test_store_etcd.sh
 * starts an etcd on loopback and sets it), runs the backend-independent
 * store cases (tests/store_cases.h; each case under its own prefix, each
 * "reopen" a new client on the same keys), then what only this backend
 * does: one transaction per batch, refused whole above the transaction
 * limit (ours, and etcd's --max-txn-ops given as MIGNET_TEST_ETCD_MAX_OPS),
 * the lease guard, pipelined commits, a prefix holding something else.
 * Without it, only the cases that need no server run (the unit label has
 * no etcd).  With MIGNET_TEST_ETCD_CACERT (and _CERT, _KEY) every client
 * speaks TLS (tests/integration/test_store_etcd_tls.sh). */
#include <inttypes.h>
#include <unistd.h>

#include "mignet/etcd.h"
#include "store_cases.h"

static const char *endpoint;
/* MIGNET_TEST_ETCD_CACERT (and _CERT, _KEY): the same over TLS
 * (test_store_etcd_tls.sh); NULL: plain http. */
static struct etcd_tls tls_files;
static const struct etcd_tls *tls;
static char prefix[128];
static unsigned serial;

static struct store *
open_ok(void)
{
    char err[512] = "";
    struct store *s = store_etcd_open(endpoint, prefix, tls, err,
                                      sizeof err);
    if (!s) {
        fail_msg("store_etcd_open(%s, %s): %s", endpoint, prefix, err);
    }
    store_etcd_set_max_ops(s, 100000);
    return s;
}

/* Each case gets its own prefix. */
static struct store *
suite_open(void)
{
    if (!endpoint) {
        skip();
    }
    snprintf(prefix, sizeof prefix, "/mignet-test-%ld-%u", (long) getpid(),
             serial++);
    return open_ok();
}

static struct store *
suite_reopen(struct store *s)
{
    store_destroy(s);
    return open_ok();
}

static unsigned long
count_loaded(struct store *s)
{
    struct case_loaded got = {0};
    case_load(s, &got);
    unsigned long n = got.n;
    case_loaded_free(&got);
    return n;
}

/* A batch above our limit is refused whole; the store stays usable and a
 * batch at the limit is one transaction. */
static void
test_batch_limit(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    case_put(s, &c.node_a);
    assert_int_equal(store_commit(s), 0);

    store_etcd_set_max_ops(s, 5);
    char names[6][16];
    struct store_rec r[6];
    for (int i = 0; i < 6; i++) {
        snprintf(names[i], sizeof names[i], "vm-%d", i);
        r[i] = c.vm;
        r[i].vm.name = names[i];
        case_put(s, &r[i]);
    }
    /* Rewrites of a key count once: 6 keys, 7 puts. */
    case_put(s, &r[2]);
    assert_int_equal(store_commit(s), STORE_E_TOO_LARGE);
    s = suite_reopen(s);
    assert_int_equal(count_loaded(s), 1); /* nothing of the batch */

    store_etcd_set_max_ops(s, 5);
    for (int i = 0; i < 5; i++) {
        case_put(s, &r[i]);
        case_put(s, &r[i]);
    }
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    assert_int_equal(count_loaded(s), 6);
    store_destroy(s);
}

/* etcd's own --max-txn-ops refuses a bigger transaction whole. */
static void
test_server_limit(void **state)
{
    (void) state;
    const char *max = getenv("MIGNET_TEST_ETCD_MAX_OPS");
    if (!endpoint || !max) {
        skip();
    }
    unsigned long n = strtoul(max, NULL, 10) + 1;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    store_etcd_set_max_ops(s, (unsigned) n); /* we are told too much */
    for (unsigned long i = 0; i < n; i++) {
        struct store_rec t = c.task;
        t.task.id = i + 1;
        case_put(s, &t);
    }
    assert_int_equal(store_commit(s), STORE_E_TOO_LARGE);
    s = suite_reopen(s);
    assert_int_equal(count_loaded(s), 0);
    store_destroy(s);
}

/* The guard: commits need the guard key on the guard lease. */
static void
test_guard(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    char err[512], key[200];
    struct etcd_client *e = etcd_client_create(endpoint, 5000, tls, err,
                                               sizeof err);
    assert_non_null(e);
    int64_t lease, ttl, other, ttl2;
    assert_int_equal(etcd_lease_grant(e, 30, &lease, &ttl, err, sizeof err),
                     0);
    assert_int_equal(etcd_lease_grant(e, 30, &other, &ttl2, err, sizeof err),
                     0);
    assert_true(ttl > 0 && ttl <= 30 && lease != other);
    snprintf(key, sizeof key, "%s-leader", prefix);

    /* No guard key yet: refused, nothing written -- also with lease 0,
     * which is what etcd compares a missing key's lease as. */
    store_etcd_set_guard(s, key, lease);
    case_put(s, &c.node_a);
    assert_int_equal(store_commit(s), STORE_E_GUARD);
    store_etcd_set_guard(s, key, 0);
    case_put(s, &c.node_a);
    assert_int_equal(store_commit(s), STORE_E_GUARD);
    store_etcd_set_guard(s, key, lease);

    struct etcd_op hold = {
        .kind = ETCD_OP_PUT, .key = key, .key_len = strlen(key),
        .value = "me", .value_len = 2, .lease = lease,
    };
    struct etcd_txn_result res;
    assert_int_equal(etcd_txn(e, NULL, 0, &hold, 1, NULL, 0, &res, err,
                              sizeof err), 0);
    assert_true(res.succeeded);
    case_put(s, &c.node_a);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(etcd_lease_keepalive(e, lease, &ttl, err, sizeof err),
                     0);
    assert_true(ttl > 0);

    /* Another holder (the key on another lease): refused. */
    store_etcd_set_guard(s, key, other);
    case_put(s, &c.node_b);
    assert_int_equal(store_commit(s), STORE_E_GUARD);

    /* The lease ends (revoked: its key goes): refused from then on. */
    store_etcd_set_guard(s, key, lease);
    assert_int_equal(etcd_lease_revoke(e, lease, err, sizeof err), 0);
    assert_int_equal(etcd_lease_keepalive(e, lease, &ttl, err, sizeof err),
                     ENOENT);
    assert_int_equal(etcd_lease_revoke(e, lease, err, sizeof err), ENOENT);
    case_put(s, &c.node_b);
    case_put(s, &c.vm);
    assert_int_equal(store_commit(s), STORE_E_GUARD);

    /* Unguarded, the same store commits again. */
    store_etcd_set_guard(s, NULL, 0);
    case_put(s, &c.vm);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want[] = {&c.node_a, &c.vm};
    case_expect(&got, want, 2);
    case_loaded_free(&got);
    assert_int_equal(etcd_lease_revoke(e, other, err, sizeof err), 0);
    etcd_client_destroy(e);
    store_destroy(s);
}

static int
count_cb(void *aux, const struct store_rec *r)
{
    (void) r;
    ++*(unsigned *) aux;
    return 0;
}

/* Pipelined commits: the next batch fills while one is in flight; etcd
 * holds each batch only once its own commit ended; a key the batch in
 * flight writes may be written again (or deleted) meanwhile. */
static void
test_pipeline(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    assert_true(store_can_pipeline(s));
    struct store_txn *t, *t2;
    assert_int_equal(store_commit_begin(s, &t), 0);
    assert_null(t); /* nothing to commit */

    case_put(s, &c.node_a);
    case_put(s, &c.node_b);
    assert_int_equal(store_commit_begin(s, &t), 0);
    assert_non_null(t);
    assert_int_equal(store_pending(s), 0);
    struct store_rec del_b = c.node_b;
    del_b.del = true;
    case_put(s, &del_b);
    case_put(s, &c.vm);
    assert_int_equal(store_pending(s), 2);
    /* One in flight at a time; no load or in-place commit meanwhile, and
     * the refusals change nothing. */
    assert_int_equal(store_commit_begin(s, &t2), EBUSY);
    assert_int_equal(store_commit(s), EBUSY);
    unsigned n = 0;
    assert_int_equal(s->ops->load(s, count_cb, &n), EBUSY);
    assert_int_equal(store_pending(s), 2);

    assert_int_equal(store_commit_run(s, t), 0);
    store_commit_end(s, t, 0);
    struct store *o = open_ok(); /* what etcd holds: the first batch */
    struct case_loaded got = {0};
    case_load(o, &got);
    const struct store_rec *first[] = {&c.node_a, &c.node_b};
    case_expect(&got, first, 2);
    case_loaded_free(&got);
    store_destroy(o);

    assert_int_equal(store_commit(s), 0); /* the second, in place */
    s = suite_reopen(s);
    case_load(s, &got);
    const struct store_rec *second[] = {&c.node_a, &c.vm};
    case_expect(&got, second, 2);
    case_loaded_free(&got);
    store_destroy(s);
}

/* A pipelined commit that failed: its keys are as etcd holds them; with
 * no put since, the store goes on; with puts since (they may rest on what
 * was lost), every later commit fails. */
static void
test_pipeline_failed(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    char key[200];
    snprintf(key, sizeof key, "%s-nobody", prefix);
    struct store_txn *t;

    store_etcd_set_guard(s, key, 7); /* nobody holds it: refused */
    case_put(s, &c.node_a);
    assert_int_equal(store_commit_begin(s, &t), 0);
    assert_int_equal(store_commit_run(s, t), STORE_E_GUARD);
    store_commit_end(s, t, STORE_E_GUARD);
    store_etcd_set_guard(s, NULL, 0);
    case_put(s, &c.vm);
    assert_int_equal(store_commit(s), 0);

    store_etcd_set_guard(s, key, 7);
    case_put(s, &c.node_b);
    assert_int_equal(store_commit_begin(s, &t), 0);
    case_put(s, &c.task); /* the next batch, built on node_b */
    assert_int_equal(store_commit_run(s, t), STORE_E_GUARD);
    store_commit_end(s, t, STORE_E_GUARD);
    store_etcd_set_guard(s, NULL, 0);
    assert_int_equal(store_commit(s), STORE_E_GUARD);
    case_put(s, &c.mig);
    assert_int_equal(store_commit(s), STORE_E_GUARD);

    s = suite_reopen(s);
    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want[] = {&c.vm};
    case_expect(&got, want, 1);
    case_loaded_free(&got);
    store_destroy(s);
}

/* A prefix whose schema key is not ours is refused; a record that is not
 * ours fails the load. */
static void
test_foreign(void **state)
{
    (void) state;
    struct store *s = suite_open();
    store_destroy(s);
    char err[512], key[200];
    struct etcd_client *e = etcd_client_create(endpoint, 5000, tls, err,
                                               sizeof err);
    assert_non_null(e);
    snprintf(key, sizeof key, "%s/vm/x", prefix);
    struct etcd_op op = {
        .kind = ETCD_OP_PUT, .key = key, .key_len = strlen(key),
        .value = "[1]", .value_len = 3,
    };
    struct etcd_txn_result res;
    assert_int_equal(etcd_txn(e, NULL, 0, &op, 1, NULL, 0, &res, err,
                              sizeof err), 0);
    s = open_ok();
    struct case_loaded got = {0};
    assert_int_equal(s->ops->load(s, case_collect, &got), EBADMSG);
    case_loaded_free(&got);
    store_destroy(s);

    snprintf(key, sizeof key, "%s/schema", prefix);
    op.key = key;
    op.key_len = strlen(key);
    op.value = "something else";
    op.value_len = strlen(op.value);
    assert_int_equal(etcd_txn(e, NULL, 0, &op, 1, NULL, 0, &res, err,
                              sizeof err), 0);
    assert_null(store_etcd_open(endpoint, prefix, tls, err, sizeof err));
    assert_non_null(strstr(err, "something else"));
    etcd_client_destroy(e);
}

/* Writes 'value' at PREFIX/'type_key' behind the store's back. */
static void
put_raw(struct etcd_client *e, const char *type_key, const char *value)
{
    char err[512], key[300];
    snprintf(key, sizeof key, "%s/%s", prefix, type_key);
    struct etcd_op op = {
        .kind = ETCD_OP_PUT, .key = key, .key_len = strlen(key),
        .value = value, .value_len = strlen(value),
    };
    struct etcd_txn_result res;
    assert_int_equal(etcd_txn(e, NULL, 0, &op, 1, NULL, 0, &res, err,
                              sizeof err), 0);
}

/* A virtual switch is PREFIX/vswitch/NAME holding [1, SEQ, NAME, BASE64]
 * (docs/ha.md): one written that way by hand loads; one whose key and
 * name differ, with a null or empty record, or one field short fails the
 * load. */
static void
test_vswitch_value(void **state)
{
    (void) state;
    if (!endpoint) {
        skip();
    }
    static const struct {
        const char *key, *value;
        int want;
    } cases[] = {
        {"vswitch/red", "[1,1,\"red\",\"AHsAfQA=\"]", 0},
        {"vswitch/red", "[1,1,\"blue\",\"AHsAfQA=\"]", EBADMSG},
        {"vswitch/red", "[1,1,\"red\",null]", EBADMSG},
        {"vswitch/red", "[1,1,\"red\",\"\"]", EBADMSG},
        {"vswitch/red", "[1,1,\"red\"]", EBADMSG},
        {"vswitch/red", "[2,1,\"red\",\"AHsAfQA=\"]", EBADMSG},
    };
    char err[512];
    struct etcd_client *e = etcd_client_create(endpoint, 5000, tls, err,
                                               sizeof err);
    assert_non_null(e);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store *s = suite_open();
        put_raw(e, cases[i].key, cases[i].value);
        struct case_loaded got = {0};
        int ret = s->ops->load(s, case_collect, &got);
        if (ret != cases[i].want) {
            fail_msg("%s = %s: load returned %d, want %d", cases[i].key,
                     cases[i].value, ret, cases[i].want);
        }
        if (!ret) {
            /* The bytes 00 7b 00 7d 00 ("\0{\0}\0"). */
            struct store_rec r = {.type = STORE_VSWITCH};
            r.vswitch.name = "red";
            r.vswitch.record = "\0{\0}";
            r.vswitch.len = 5;
            const struct store_rec *want[] = {&r};
            case_expect(&got, want, 1);
        }
        case_loaded_free(&got);
        store_destroy(s);
    }
    etcd_client_destroy(e);
}

/* No server, or a bad prefix: a clear error, no store. */
static void
test_open_errors(void **state)
{
    (void) state;
    char err[512] = "";
    assert_null(
        store_etcd_open("127.0.0.1:1", "/mignet", NULL, err, sizeof err));
    assert_non_null(strstr(err, "no etcd endpoint answers"));
    assert_null(
        store_etcd_open("127.0.0.1:1", "mignet", NULL, err, sizeof err));
    assert_null(
        store_etcd_open("127.0.0.1:1", "/mignet/", NULL, err, sizeof err));
    assert_null(store_etcd_open("nope", "/mignet", NULL, err, sizeof err));
}

int
main(void)
{
    endpoint = getenv("MIGNET_TEST_ETCD");
    if (endpoint && !*endpoint) {
        endpoint = NULL;
    }
    tls_files.cacert = getenv("MIGNET_TEST_ETCD_CACERT");
    tls_files.cert = getenv("MIGNET_TEST_ETCD_CERT");
    tls_files.key = getenv("MIGNET_TEST_ETCD_KEY");
    tls = tls_files.cacert && *tls_files.cacert ? &tls_files : NULL;
    const struct CMUnitTest tests[] = {
        STORE_CASES,
        cmocka_unit_test(test_batch_limit),
        cmocka_unit_test(test_server_limit),
        cmocka_unit_test(test_guard),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_pipeline_failed),
        cmocka_unit_test(test_foreign),
        cmocka_unit_test(test_vswitch_value),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
