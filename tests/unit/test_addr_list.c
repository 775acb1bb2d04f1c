/* test_addr_list.c: failing over between mignetd's replicas
 * (lib/addr_list.h).
 *
 * A list parses strictly (a bad list changes nothing), a failure moves to
 * the next address or to the named leader when it is listed (never to an
 * address outside the list), and the caller is told to back off exactly
 * when every address failed in a row since the last success. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/addr_list.h"

static void
test_parse(void **state)
{
    (void) state;
    struct addr_list l;
    char err[128];
    assert_int_equal(addr_list_parse(&l, "127.0.0.1:7481", err, sizeof err),
                     0);
    assert_int_equal(l.n, 1);
    assert_string_equal(addr_list_current(&l), "127.0.0.1:7481");
    assert_int_equal(addr_list_parse(&l, "a:1,b:2,c:3", err, sizeof err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.item[2], "c:3");
    assert_int_equal(addr_list_index(&l), 0);

    /* Every bad list is refused and leaves 'l' as it was. */
    static const char *const bad[] = {
        "", ",", "a:1,", ",a:1", "a:1,,b:2", "a:1, b:2", "a:1,a:1",
        "a\x01:1", "1,2,3,4,5,6,7,8,9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(addr_list_parse(&l, bad[i], err, sizeof err),
                         EINVAL);
        assert_true(err[0] != '\0');
        assert_int_equal(l.n, 3);
        assert_string_equal(l.item[0], "a:1");
    }
    assert_int_equal(addr_list_parse(&l, NULL, err, sizeof err), EINVAL);

    char longest[ADDR_LIST_ITEM_MAX + 2];
    memset(longest, 'x', sizeof longest);
    longest[ADDR_LIST_ITEM_MAX] = '\0';
    assert_int_equal(addr_list_parse(&l, longest, err, sizeof err), 0);
    longest[ADDR_LIST_ITEM_MAX] = 'x';
    longest[ADDR_LIST_ITEM_MAX + 1] = '\0';
    assert_int_equal(addr_list_parse(&l, longest, err, sizeof err), EINVAL);
}

static void
test_round_robin_and_backoff(void **state)
{
    (void) state;
    struct addr_list l;
    char err[128];
    assert_int_equal(addr_list_parse(&l, "a:1,b:2,c:3", err, sizeof err), 0);
    assert_false(addr_list_next(&l, NULL));
    assert_string_equal(addr_list_current(&l), "b:2");
    assert_false(addr_list_next(&l, NULL));
    assert_string_equal(addr_list_current(&l), "c:3");
    /* The third failure in a row: all three failed, back off. */
    assert_true(addr_list_next(&l, NULL));
    assert_string_equal(addr_list_current(&l), "a:1");
    assert_true(addr_list_next(&l, NULL)); /* still: no success since */
    addr_list_succeeded(&l);
    assert_false(addr_list_next(&l, NULL));

    /* One address: every failure backs off. */
    assert_int_equal(addr_list_parse(&l, "only:1", err, sizeof err), 0);
    assert_true(addr_list_next(&l, NULL));
    assert_string_equal(addr_list_current(&l), "only:1");
}

static void
test_follow_leader(void **state)
{
    (void) state;
    struct addr_list l;
    char err[128];
    assert_int_equal(addr_list_parse(&l, "a:1,b:2,c:3", err, sizeof err), 0);
    /* a names c: straight to c, skipping b. */
    assert_false(addr_list_next(&l, "c:3"));
    assert_string_equal(addr_list_current(&l), "c:3");
    /* A leader outside the list is never followed: the next one is. */
    assert_false(addr_list_next(&l, "evil:9"));
    assert_string_equal(addr_list_current(&l), "a:1");
    /* Naming itself (a stale hint) moves on too. */
    addr_list_succeeded(&l);
    assert_false(addr_list_next(&l, "a:1"));
    assert_string_equal(addr_list_current(&l), "b:2");
    /* Two followers naming each other during an election: after as many
     * failures as addresses, the caller backs off. */
    addr_list_succeeded(&l);
    assert_false(addr_list_next(&l, "c:3"));
    assert_false(addr_list_next(&l, "b:2"));
    assert_true(addr_list_next(&l, "c:3"));
    size_t at = 99;
    assert_true(addr_list_find(&l, "b:2", &at));
    assert_int_equal(at, 1);
    assert_false(addr_list_find(&l, "b:", NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_round_robin_and_backoff),
        cmocka_unit_test(test_follow_leader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
