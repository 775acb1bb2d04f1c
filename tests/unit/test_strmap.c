/* test_strmap.c: the name -> index map (lib/strmap.h), by name and keyed.
 *
 * The map must find every entry it holds and nothing else, however the
 * hashes collide; strmap_reserve() must make room so that the reserved
 * inserts never allocate, and leave the map unchanged when it fails. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/strmap.h"
#include "lib/util.h"

#define N_NAMES 1000

static char names[N_NAMES][16];

static const char *
name_of(const void *aux, uint32_t idx)
{
    (void) aux;
    return names[idx];
}

static void
test_by_name(void **state)
{
    (void) state;
    struct strmap m;
    strmap_init(&m, name_of, NULL);
    assert_int_equal(strmap_find(&m, "n0"), STRMAP_NONE);
    for (uint32_t i = 0; i < N_NAMES; i++) {
        snprintf(names[i], sizeof names[i], "n%u", (unsigned) i);
        strmap_insert(&m, names[i], i);
    }
    for (uint32_t i = 0; i < N_NAMES; i++) {
        assert_int_equal(strmap_find(&m, names[i]), i);
    }
    assert_int_equal(strmap_find(&m, "n1000"), STRMAP_NONE);
    for (uint32_t i = 0; i < N_NAMES; i += 2) {
        strmap_remove(&m, names[i]);
    }
    for (uint32_t i = 0; i < N_NAMES; i++) {
        assert_int_equal(strmap_find(&m, names[i]),
                         i % 2 ? i : STRMAP_NONE);
    }
    strmap_destroy(&m);
}

static void
test_reserve(void **state)
{
    (void) state;
    struct strmap m;
    strmap_init(&m, name_of, NULL);
    assert_int_equal(strmap_reserve(&m, 100), 0);
    const struct strmap_slot *slots = m.slots;
    size_t memory = strmap_memory(&m);
    assert_true(memory >= 200 * sizeof *m.slots);
    for (uint32_t i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "r%u", (unsigned) i);
        strmap_insert(&m, names[i], i);
    }
    assert_ptr_equal(m.slots, slots); /* the reserved inserts moved nothing */
    assert_int_equal(strmap_reserve(&m, 0), 0);
    assert_ptr_equal(m.slots, slots);

    /* Growing keeps every entry. */
    assert_int_equal(strmap_reserve(&m, 500), 0);
    assert_true(strmap_memory(&m) > memory);
    for (uint32_t i = 0; i < 100; i++) {
        assert_int_equal(strmap_find(&m, names[i]), i);
    }

    /* A request that cannot be met: ENOMEM, the map as it was. */
    slots = m.slots;
    memory = strmap_memory(&m);
    assert_int_equal(strmap_reserve(&m, SIZE_MAX / 8), ENOMEM);
    assert_int_equal(strmap_reserve(&m, SIZE_MAX), ENOMEM);
    assert_ptr_equal(m.slots, slots);
    assert_int_equal(strmap_memory(&m), memory);
    assert_int_equal(m.n, 100);
    assert_int_equal(strmap_find(&m, names[42]), 42);
    strmap_destroy(&m);
}

/* Keyed: 64-bit keys in a table, every one under the same hash bucket
 * half the time, so matching (not the hash) must tell them apart. */
static uint64_t keys[N_NAMES];

static bool
key_match(const void *aux, uint32_t idx, const void *key)
{
    (void) aux;
    return keys[idx] == *(const uint64_t *) key;
}

static uint32_t
key_hash(uint64_t k)
{
    return k % 2 ? 7 : (uint32_t) hash_u64(k);
}

static void
test_keyed(void **state)
{
    (void) state;
    struct strmap m;
    strmap_init(&m, NULL, NULL);
    assert_int_equal(strmap_reserve(&m, N_NAMES), 0);
    for (uint32_t i = 0; i < N_NAMES; i++) {
        keys[i] = UINT64_C(0x100000000) * i + i;
        strmap_insert_keyed(&m, key_hash(keys[i]), i);
    }
    for (uint32_t i = 0; i < N_NAMES; i++) {
        assert_int_equal(
            strmap_find_keyed(&m, key_hash(keys[i]), key_match, &keys[i]), i);
    }
    uint64_t absent = 3;
    assert_int_equal(
        strmap_find_keyed(&m, key_hash(absent), key_match, &absent),
        STRMAP_NONE);
    strmap_remove_keyed(&m, key_hash(keys[1]), key_match, &keys[1]);
    assert_int_equal(
        strmap_find_keyed(&m, key_hash(keys[1]), key_match, &keys[1]),
        STRMAP_NONE);
    assert_int_equal(
        strmap_find_keyed(&m, key_hash(keys[3]), key_match, &keys[3]), 3);
    strmap_destroy(&m);
}

static void
test_hash_u64(void **state)
{
    (void) state;
    /* splitmix64's finaliser: the ECMP pick depends on these values. */
    assert_true(hash_u64(0) == 0);
    assert_true(hash_u64(1) == UINT64_C(0x5692161d100b05e5));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_name),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_keyed),
        cmocka_unit_test(test_hash_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
