/* test_listen_guard.c: the pure parts of mignetd's connection guard.
 *
 * Per-peer and per-listener accounting (a flood from one address must
 * leave room for another) and the accept back-off schedule (growing,
 * capped, starting over after a quiet spell).  No sockets are opened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "controller/listen_guard.h"

static void
test_per_peer(void **state)
{
    (void) state;
    struct lguard_table t;
    size_t idx[8], x;
    lguard_table_init(&t, 6, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lguard_table_admit(&t, "127.0.0.2", 10 + i, 100 + i,
                                            &idx[i]),
                         LGUARD_OK);
    }
    /* The flooding address is full; another one still gets in. */
    assert_int_equal(lguard_table_admit(&t, "127.0.0.2", 20, 200, &x),
                     LGUARD_PEER_FULL);
    assert_int_equal(lguard_table_peer_count(&t, "127.0.0.2"), 3);
    assert_int_equal(lguard_table_admit(&t, "127.0.0.1", 21, 201, &idx[3]),
                     LGUARD_OK);
    assert_int_equal(lguard_table_peer_count(&t, "127.0.0.1"), 1);
    assert_int_equal(t.n_used, 4);
    assert_int_equal(t.slots[idx[3]].fd, 21);
    assert_int_equal(t.slots[idx[3]].ino, 201);
    assert_string_equal(t.slots[idx[3]].peer, "127.0.0.1");

    /* A release makes room for the same address again. */
    uint32_t gen = t.slots[idx[0]].gen;
    lguard_table_release(&t, idx[0], gen);
    assert_int_equal(t.n_used, 3);
    assert_int_equal(lguard_table_peer_count(&t, "127.0.0.2"), 2);
    /* A stale handle (old generation) frees nothing. */
    assert_int_equal(lguard_table_admit(&t, "127.0.0.2", 22, 202, &x),
                     LGUARD_OK);
    assert_int_equal(x, idx[0]);
    lguard_table_release(&t, x, gen);
    assert_int_equal(t.n_used, 4);
    assert_true(t.slots[x].used);
    /* Out of range: nothing. */
    lguard_table_release(&t, 99, 0);
    assert_int_equal(t.n_used, 4);
    lguard_table_destroy(&t);
}

static void
test_total(void **state)
{
    (void) state;
    struct lguard_table t;
    size_t x;
    lguard_table_init(&t, 4, 64);
    char peer[32];
    for (int i = 0; i < 4; i++) {
        snprintf(peer, sizeof peer, "198.18.0.%d", i);
        assert_int_equal(lguard_table_admit(&t, peer, i, (ino_t) i, &x),
                         LGUARD_OK);
    }
    assert_int_equal(lguard_table_admit(&t, "198.18.0.9", 9, 9, &x),
                     LGUARD_TOTAL_FULL);
    assert_int_equal(t.n_used, 4);
    assert_int_equal(t.n_hw, 4);
    lguard_table_release(&t, 2, t.slots[2].gen);
    assert_int_equal(t.n_hw, 4);
    assert_int_equal(lguard_table_admit(&t, "198.18.0.9", 9, 9, &x),
                     LGUARD_OK);
    assert_int_equal(x, 2);
    /* Releasing the top slots lowers the part that is scanned. */
    lguard_table_release(&t, 3, t.slots[3].gen);
    lguard_table_release(&t, 1, t.slots[1].gen);
    assert_int_equal(t.n_hw, 3);
    lguard_table_release(&t, 2, t.slots[2].gen);
    assert_int_equal(t.n_hw, 1);
    assert_int_equal(t.n_used, 1);
    assert_int_equal(lguard_table_admit(&t, "198.18.0.7", 7, 7, &x),
                     LGUARD_OK);
    assert_int_equal(x, 1);
    assert_int_equal(t.n_hw, 2);
    lguard_table_destroy(&t);

    /* A zero cap is one, never none. */
    lguard_table_init(&t, 0, 0);
    assert_int_equal(lguard_table_admit(&t, "a", 1, 1, &x), LGUARD_OK);
    assert_int_equal(lguard_table_admit(&t, "b", 2, 2, &x),
                     LGUARD_TOTAL_FULL);
    assert_int_equal(lguard_table_admit(&t, "a", 3, 3, &x),
                     LGUARD_PEER_FULL);
    lguard_table_destroy(&t);
}

static void
test_backoff(void **state)
{
    (void) state;
    uint32_t d = lguard_backoff_next(0, 0);
    assert_int_equal(d, LGUARD_BACKOFF_MIN_MS);
    uint32_t seen[16];
    for (int i = 0; i < 16; i++) {
        seen[i] = d;
        d = lguard_backoff_next(d, 10);
    }
    assert_int_equal(seen[1], 2 * LGUARD_BACKOFF_MIN_MS);
    assert_int_equal(seen[2], 4 * LGUARD_BACKOFF_MIN_MS);
    for (int i = 1; i < 16; i++) {
        assert_true(seen[i] >= seen[i - 1]);
        assert_true(seen[i] <= LGUARD_BACKOFF_MAX_MS);
    }
    assert_int_equal(seen[15], LGUARD_BACKOFF_MAX_MS);
    /* Quiet long enough: from the start again. */
    assert_int_equal(lguard_backoff_next(LGUARD_BACKOFF_MAX_MS,
                                         LGUARD_BACKOFF_RESET_MS),
                     LGUARD_BACKOFF_MIN_MS);
    assert_int_equal(lguard_backoff_next(LGUARD_BACKOFF_MAX_MS,
                                         LGUARD_BACKOFF_RESET_MS - 1),
                     LGUARD_BACKOFF_MAX_MS);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_peer),
        cmocka_unit_test(test_total),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
