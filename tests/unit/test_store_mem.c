/* test_store_mem.c: the in-memory store backend.
 *
 * Runs the backend-independent store cases (tests/store_cases.h) and checks
 * what only this backend offers: record counts per type.  It must never
 * depend on another backend being present. */
#include "store_cases.h"

static struct store *
suite_open(void)
{
    struct store *s = store_mem_create();
    assert_non_null(s);
    return s;
}

/* The in-memory store lives as long as the process: "reopening" is using
 * the same object again. */
static struct store *
suite_reopen(struct store *s)
{
    return s;
}

static void
test_count(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();

    assert_int_equal(store_mem_count(s, STORE_NODE), 0);
    case_put(s, &c.node_a);
    case_put(s, &c.node_b);
    case_put(s, &c.node_a);
    case_put(s, &c.task);
    assert_int_equal(store_mem_count(s, STORE_NODE), 2);
    assert_int_equal(store_mem_count(s, STORE_TASK), 1);
    assert_int_equal(store_mem_count(s, STORE_VM), 0);

    struct store_rec del = {.type = STORE_NODE, .del = true};
    del.node.name = "node-b";
    case_put(s, &del);
    assert_int_equal(store_mem_count(s, STORE_NODE), 1);
    assert_int_equal(store_mem_count(s, (enum store_rec_type) 99), 0);
    assert_int_equal(store_mem_count(NULL, STORE_NODE), 0);

    store_destroy(s);
    store_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_CASES,
        cmocka_unit_test(test_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
