/* test_binding_table.c: the binding table -- its indexes and conflict
 * rule, churn, lease expiry order, and a table saved as records and loaded
 * back.
 *
 * Expected values are written out here, never computed by the code under
 * test. */
#include "unit/binding_fixture.h"

/* ---- Table ---- */

static void
test_table(void **state)
{
    (void) state;
    struct binding_table *t = binding_table_create();
    struct binding a = sample(), b = sample();
    uint32_t id_a = 0, id_b = 0;

    snprintf(b.vm, sizeof b.vm, "vm2");
    memcpy(b.mac, mac2, 6);
    b.ip = IP(198, 18, 0, 11);

    assert_err(binding_table_add(t, &a, &id_a), BINDING_E_OK);
    assert_err(binding_table_add(t, &b, &id_b), BINDING_E_OK);
    assert_int_equal(id_a, 1);
    assert_int_equal(id_b, 2);
    assert_int_equal(binding_table_count(t), 2);

    const struct binding *g = binding_table_get(t, id_b);
    assert_non_null(g);
    assert_string_equal(g->vm, "vm2");
    assert_int_equal(g->id, id_b);
    assert_ptr_equal(binding_table_find_vm(t, "vm2"), g);
    assert_ptr_equal(binding_table_find_mac(t, mac2, 100), g);
    assert_ptr_equal(binding_table_find_ip(t, IP(198, 18, 0, 11), 100), g);
    assert_string_equal(binding_table_find_ip(t, IP(198, 18, 0, 10), 100)->vm,
                        "vm1");
    /* Lookups are per VLAN. */
    assert_null(binding_table_find_mac(t, mac2, 101));
    assert_null(binding_table_find_ip(t, IP(198, 18, 0, 11), 0));
    assert_null(binding_table_find_vm(t, "vm3"));
    assert_null(binding_table_find_vm(t, NULL));
    assert_null(binding_table_get(t, 3));

    /* A second VM may not take vm1's MAC or IP; vm1 may not bind twice;
     * ids are unique. */
    struct binding c = sample();
    snprintf(c.vm, sizeof c.vm, "vm3");
    assert_err(binding_table_add(t, &c, NULL), BINDING_E_MAC_CONFLICT);
    memcpy(c.mac, (uint8_t[6]) {0x52, 0x54, 0, 0, 0, 3}, 6);
    assert_err(binding_table_add(t, &c, NULL), BINDING_E_IP_CONFLICT);
    c.ip = IP(198, 18, 0, 12);
    struct binding again = sample();
    again.ip = IP(198, 18, 0, 99);
    assert_err(binding_table_add(t, &again, NULL), BINDING_E_VM_BOUND);
    c.id = id_a;
    assert_err(binding_table_add(t, &c, NULL), BINDING_E_DUP_ID);
    assert_int_equal(binding_table_count(t), 2);
    /* The same IP in another VLAN is another address. */
    c.id = 0;
    c.ip = a.ip;
    c.vlan = 200;
    uint32_t id_c;
    assert_err(binding_table_add(t, &c, &id_c), BINDING_E_OK);
    assert_int_equal(id_c, 3);
    assert_string_equal(binding_table_find_ip(t, a.ip, 200)->vm, "vm3");
    assert_string_equal(binding_table_find_ip(t, a.ip, 100)->vm, "vm1");

    /* Replace: by id, checked against the others. */
    struct binding r = *binding_table_get(t, id_b);
    r.ip = a.ip;
    assert_err(binding_table_replace(t, &r), BINDING_E_IP_CONFLICT);
    r.ip = IP(198, 18, 0, 20);
    memcpy(r.mac, mac1, 6);
    assert_err(binding_table_replace(t, &r), BINDING_E_MAC_CONFLICT);
    memcpy(r.mac, mac2, 6);
    snprintf(r.vm, sizeof r.vm, "vm1");
    assert_err(binding_table_replace(t, &r), BINDING_E_VM_BOUND);
    snprintf(r.vm, sizeof r.vm, "vm2b");
    r.id = 77;
    assert_err(binding_table_replace(t, &r), BINDING_E_UNKNOWN_ID);
    r.id = id_b;
    r.vlan = 4095;
    assert_err(binding_table_replace(t, &r), BINDING_E_BAD_VLAN);
    assert_ptr_equal(binding_table_find_ip(t, IP(198, 18, 0, 11), 100),
                     binding_table_get(t, id_b));
    r.vlan = 100;
    assert_err(binding_table_replace(t, &r), BINDING_E_OK);
    assert_null(binding_table_find_ip(t, IP(198, 18, 0, 11), 100));
    assert_null(binding_table_find_vm(t, "vm2"));
    assert_int_equal(binding_table_find_vm(t, "vm2b")->id, id_b);
    assert_int_equal(binding_table_find_ip(t, IP(198, 18, 0, 20), 100)->id,
                     id_b);
    /* Replacing a binding by itself (same keys) is fine. */
    assert_err(binding_table_replace(t, &r), BINDING_E_OK);

    /* Iteration sees each binding once. */
    uint32_t cursor = 0, seen = 0;
    const struct binding *it;
    while ((it = binding_table_next(t, &cursor))) {
        seen |= 1u << it->id;
    }
    assert_int_equal(seen, 1u << 1 | 1u << 2 | 1u << 3);

    /* Delete. */
    struct binding old;
    assert_err(binding_table_delete(t, id_a, &old), BINDING_E_OK);
    assert_string_equal(old.vm, "vm1");
    assert_err(binding_table_delete(t, id_a, NULL), BINDING_E_UNKNOWN_ID);
    assert_null(binding_table_find_vm(t, "vm1"));
    assert_null(binding_table_find_mac(t, mac1, 100));
    assert_null(binding_table_find_ip(t, a.ip, 100));
    assert_int_equal(binding_table_count(t), 2);
    /* Its MAC and IP are free again, for another VM; ids are not reused. */
    struct binding d = sample();
    snprintf(d.vm, sizeof d.vm, "vm4");
    uint32_t id_d;
    assert_err(binding_table_add(t, &d, &id_d), BINDING_E_OK);
    assert_int_equal(id_d, 4);

    /* put: the VM's binding is replaced in place, keeping its id. */
    struct binding p = d;
    p.ip = IP(198, 18, 0, 40);
    p.id = 999; /* ignored */
    uint32_t id_p;
    bool created = true;
    assert_err(binding_table_put(t, &p, &id_p, &created), BINDING_E_OK);
    assert_false(created);
    assert_int_equal(id_p, id_d);
    assert_int_equal(binding_table_get(t, id_d)->ip, IP(198, 18, 0, 40));
    assert_null(binding_table_find_ip(t, d.ip, 100));
    snprintf(p.vm, sizeof p.vm, "vm5");
    memcpy(p.mac, (uint8_t[6]) {0x52, 0x54, 0, 0, 0, 5}, 6);
    p.ip = IP(198, 18, 0, 50);
    assert_err(binding_table_put(t, &p, &id_p, &created), BINDING_E_OK);
    assert_true(created);
    assert_int_equal(id_p, 5);
    p.ip = IP(198, 18, 0, 40);
    assert_err(binding_table_put(t, &p, &id_p, &created),
               BINDING_E_IP_CONFLICT);
    assert_int_equal(binding_table_get(t, 5)->ip, IP(198, 18, 0, 50));

    /* Explicit ids (as on reload) move the id counter past them. */
    struct binding e = nth(60);
    e.id = 1000;
    assert_err(binding_table_add(t, &e, NULL), BINDING_E_OK);
    uint32_t id_f;
    struct binding f = nth(61);
    assert_err(binding_table_add(t, &f, &id_f), BINDING_E_OK);
    assert_int_equal(id_f, 1001);
    e = nth(62);
    e.id = UINT32_MAX;
    assert_err(binding_table_add(t, &e, NULL), BINDING_E_OK);
    f = nth(63);
    assert_err(binding_table_add(t, &f, NULL), BINDING_E_FULL);
    binding_table_destroy(t);
}

/* Adds and deletes many bindings against a shadow array: every index
 * agrees with the shadow after every step (exercises growth and the
 * backward-shift deletion of the keyed maps). */
static void
test_table_churn(void **state)
{
    (void) state;
    enum { N = 3000 };
    static uint32_t ids[N];
    struct binding_table *t = binding_table_create();
    uint64_t rng = 12345;
    size_t live = 0;

    memset(ids, 0, sizeof ids);
    for (int step = 0; step < 20000; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t i = (uint32_t) (rng >> 33) % N;
        struct binding b = nth(i);
        if (ids[i]) {
            assert_err(binding_table_delete(t, ids[i], NULL), BINDING_E_OK);
            assert_null(binding_table_find_vm(t, b.vm));
            assert_null(binding_table_find_mac(t, b.mac, b.vlan));
            assert_null(binding_table_find_ip(t, b.ip, b.vlan));
            assert_null(binding_table_get(t, ids[i]));
            ids[i] = 0;
            live--;
        } else {
            assert_err(binding_table_add(t, &b, &ids[i]), BINDING_E_OK);
            live++;
        }
        assert_int_equal(binding_table_count(t), live);
    }
    for (uint32_t i = 0; i < N; i++) {
        struct binding b = nth(i);
        const struct binding *g = binding_table_find_vm(t, b.vm);
        if (!ids[i]) {
            assert_null(g);
            continue;
        }
        assert_non_null(g);
        assert_int_equal(g->id, ids[i]);
        assert_ptr_equal(binding_table_get(t, ids[i]), g);
        assert_ptr_equal(binding_table_find_mac(t, b.mac, b.vlan), g);
        assert_ptr_equal(binding_table_find_ip(t, b.ip, b.vlan), g);
    }
    binding_table_destroy(t);
}

/* ---- Lease expiry ---- */

static void
test_expiry(void **state)
{
    (void) state;
    struct binding_table *t = binding_table_create();
    static const uint64_t expiries[] = {9000, 3000, 7000, 3000, 1000, 5000};
    struct binding out[8];
    uint64_t due;

    assert_false(binding_table_next_expiry(t, &due));
    assert_int_equal(binding_table_expire(t, UINT64_MAX, out, 8), 0);
    for (uint32_t i = 0; i < 6; i++) {
        struct binding b = nth(i);
        b.expires_ms = expiries[i];
        assert_err(binding_table_add(t, &b, NULL), BINDING_E_OK);
    }
    /* A static binding and an infinite lease never expire. */
    struct binding s = nth(6);
    s.type = BINDING_STATIC;
    s.origin = BINDING_FROM_MANAGER;
    s.lease_s = 0;
    s.expires_ms = 0;
    assert_err(binding_table_add(t, &s, NULL), BINDING_E_OK);
    struct binding inf = nth(7);
    inf.lease_s = DHCP_LEASE_INFINITE;
    inf.expires_ms = 0;
    assert_err(binding_table_add(t, &inf, NULL), BINDING_E_OK);

    assert_true(binding_table_next_expiry(t, &due));
    assert_int_equal(due, 1000);
    assert_int_equal(binding_table_expire(t, 999, out, 8), 0);
    assert_int_equal(binding_table_count(t), 8);
    /* Exactly at the expiry it is gone. */
    assert_int_equal(binding_table_expire(t, 1000, out, 8), 1);
    assert_string_equal(out[0].vm, "vm-4");
    assert_null(binding_table_find_vm(t, "vm-4"));

    /* Renewal (replace with a later expiry) reorders: vm-1 (3000) moves to
     * 8000. */
    struct binding r = *binding_table_find_vm(t, "vm-1");
    r.expires_ms = 8000;
    assert_err(binding_table_replace(t, &r), BINDING_E_OK);
    /* Deleting one takes it out of the order: vm-5 (5000). */
    assert_err(binding_table_delete(t, binding_table_find_vm(t, "vm-5")->id,
                                    NULL),
               BINDING_E_OK);
    assert_true(binding_table_next_expiry(t, &due));
    assert_int_equal(due, 3000);

    /* 'max' bounds one call; the rest wait. */
    assert_int_equal(binding_table_expire(t, 8500, out, 2), 2);
    assert_string_equal(out[0].vm, "vm-3"); /* 3000 */
    assert_string_equal(out[1].vm, "vm-2"); /* 7000 */
    assert_int_equal(binding_table_expire(t, 8500, out, 8), 1);
    assert_string_equal(out[0].vm, "vm-1"); /* 8000 */
    assert_true(binding_table_next_expiry(t, &due));
    assert_int_equal(due, 9000);
    assert_int_equal(binding_table_expire(t, UINT64_MAX, out, 8), 1);
    assert_string_equal(out[0].vm, "vm-0");
    assert_false(binding_table_next_expiry(t, &due));
    assert_int_equal(binding_table_count(t), 2);
    assert_non_null(binding_table_find_vm(t, "vm-6"));
    assert_non_null(binding_table_find_vm(t, "vm-7"));

    /* A dynamic binding replaced by a static one leaves the order. */
    struct binding d = nth(8);
    d.expires_ms = 100;
    uint32_t id_d;
    assert_err(binding_table_add(t, &d, &id_d), BINDING_E_OK);
    d.id = id_d;
    d.type = BINDING_STATIC;
    d.origin = BINDING_FROM_MANAGER;
    d.lease_s = 0;
    d.expires_ms = 0;
    assert_err(binding_table_replace(t, &d), BINDING_E_OK);
    assert_false(binding_table_next_expiry(t, &due));
    binding_table_destroy(t);
}

/* Many random expiries come out in order, ties by id. */
static void
test_expiry_many(void **state)
{
    (void) state;
    enum { N = 2000 };
    struct binding_table *t = binding_table_create();
    uint64_t rng = 99;
    struct binding out[64];

    for (uint32_t i = 0; i < N; i++) {
        struct binding b = nth(i);
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        b.expires_ms = 1 + (rng >> 33) % 500;
        assert_err(binding_table_add(t, &b, NULL), BINDING_E_OK);
    }
    uint64_t last = 0, last_id = 0;
    size_t total = 0;
    for (uint64_t now = 0; now < 500 + 7; now += 7) {
        size_t n;
        while ((n = binding_table_expire(t, now, out, 64)) > 0) {
            for (size_t k = 0; k < n; k++) {
                assert_true(out[k].expires_ms <= now);
                assert_true(out[k].expires_ms > last
                            || (out[k].expires_ms == last
                                && out[k].id > last_id));
                last = out[k].expires_ms;
                last_id = out[k].id;
            }
            total += n;
        }
        uint64_t due;
        if (binding_table_next_expiry(t, &due)) {
            assert_true(due > now);
        }
    }
    assert_int_equal(total, N);
    assert_int_equal(binding_table_count(t), 0);
    binding_table_destroy(t);
}

/* ---- Persistence ---- */

static void
test_persistence(void **state)
{
    (void) state;
    enum { N = 50 };
    struct binding_table *t = binding_table_create();
    static uint8_t blobs[N][BINDING_RECORD_MAX];
    size_t lens[N];
    size_t n = 0;

    for (uint32_t i = 0; i < N; i++) {
        struct binding b = nth(i);
        if (i % 3 == 0) {
            b.type = BINDING_STATIC;
            b.origin = BINDING_FROM_MANAGER;
            b.lease_s = 0;
            b.expires_ms = 0;
        }
        b.expires_ms = b.expires_ms ? 1000 + i : 0;
        assert_err(binding_table_add(t, &b, NULL), BINDING_E_OK);
    }
    for (uint32_t i = 0; i < N; i += 4) {
        assert_err(binding_table_delete(t, i + 1, NULL), BINDING_E_OK);
    }
    uint32_t cursor = 0;
    const struct binding *it;
    while ((it = binding_table_next(t, &cursor))) {
        assert_err(binding_encode(it, blobs[n], sizeof blobs[n], &lens[n]),
                   BINDING_E_OK);
        n++;
    }
    assert_int_equal(n, binding_table_count(t));

    struct binding_table *r = binding_table_create();
    for (size_t k = 0; k < n; k++) {
        struct binding b;
        assert_err(binding_decode(blobs[k], lens[k], &b), BINDING_E_OK);
        assert_err(binding_table_add(r, &b, NULL), BINDING_E_OK);
    }
    assert_int_equal(binding_table_count(r), binding_table_count(t));
    cursor = 0;
    while ((it = binding_table_next(t, &cursor))) {
        const struct binding *c = binding_table_get(r, it->id);
        assert_non_null(c);
        assert_binding_equal(c, it);
        assert_ptr_equal(binding_table_find_ip(r, it->ip, it->vlan), c);
        assert_ptr_equal(binding_table_find_mac(r, it->mac, it->vlan), c);
    }
    uint64_t due_t, due_r;
    assert_true(binding_table_next_expiry(t, &due_t));
    assert_true(binding_table_next_expiry(r, &due_r));
    assert_int_equal(due_t, due_r);
    struct binding fresh = nth(N + 1);
    uint32_t id;
    assert_err(binding_table_add(r, &fresh, &id), BINDING_E_OK);
    assert_int_equal(id, N + 1); /* the largest id loaded was N */
    binding_table_destroy(t);
    binding_table_destroy(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_churn),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expiry_many),
        cmocka_unit_test(test_persistence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
