/* test_node_auth.c: node tokens (controller/node_auth.h): their form,
 * their hash, and finding a node by its token.
 *
 * Tokens are random, so the tests check the shape and that two differ;
 * the hash is checked against SHA-256's published test vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "controller/node_auth.h"
#include "mignet/config.h"
#include "mignet/store.h"

static void
test_token_form(void **state)
{
    (void) state;
    char a[NODE_TOKEN_LEN + 1], b[NODE_TOKEN_LEN + 1];
    assert_int_equal(node_token_new(a), 0);
    assert_int_equal(node_token_new(b), 0);
    assert_int_equal(strlen(a), NODE_TOKEN_LEN);
    assert_memory_equal(a, "mgn_", 4);
    for (size_t i = 4; i < NODE_TOKEN_LEN; i++) {
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                               "qrstuvwxyz0123456789-_", a[i]));
    }
    assert_string_not_equal(a, b);
}

static void
test_hash_and_match(void **state)
{
    (void) state;
    char hex[CORE_TOKEN_HASH_HEX + 1];
    node_token_hash("abc", hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    assert_true(node_token_matches("abc", hex));
    assert_false(node_token_matches("abd", hex));
    assert_false(node_token_matches("", hex));
    assert_false(node_token_matches(NULL, hex));
    assert_false(node_token_matches("abc", ""));
    assert_false(node_token_matches("abc", NULL));
}

static void
test_issue_and_find(void **state)
{
    (void) state;
    struct core_config cfg;
    core_config_default(&cfg);
    struct store *s = store_mem_create();
    struct core *c = core_create(&cfg, s, NULL);
    uint32_t n1, n2;
    assert_int_equal(core_node_add(c, "n1", "198.18.0.1", 1000, 0, &n1), 0);
    assert_int_equal(core_node_add(c, "n2", "198.18.0.2", 1000, 0, &n2), 0);
    char t1[NODE_TOKEN_LEN + 1], t2[NODE_TOKEN_LEN + 1];
    assert_int_equal(node_token_find(c, "mgn_x"), CORE_NONE);
    assert_int_equal(node_token_issue(c, n1, t1), 0);
    assert_int_equal(node_token_issue(c, n2, t2), 0);
    assert_int_equal(node_token_issue(c, 77, t2), ENOENT);
    assert_int_equal(node_token_find(c, t1), n1);
    assert_int_equal(node_token_find(c, t2), n2);
    assert_int_equal(node_token_find(c, ""), CORE_NONE);
    assert_int_equal(node_token_find(c, NULL), CORE_NONE);
    /* A rotation: the old token no longer finds the node. */
    char old[NODE_TOKEN_LEN + 1];
    memcpy(old, t1, sizeof old);
    assert_int_equal(node_token_issue(c, n1, t1), 0);
    assert_int_equal(node_token_find(c, old), CORE_NONE);
    assert_int_equal(node_token_find(c, t1), n1);
    assert_true(node_token_matches(t1, core_node_token_hash(c, n1)));
    assert_false(node_token_matches(t1, core_node_token_hash(c, n2)));
    core_destroy(c);
    store_destroy(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_form),
        cmocka_unit_test(test_hash_and_match),
        cmocka_unit_test(test_issue_and_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
