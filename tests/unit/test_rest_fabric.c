/* test_rest_fabric.c: the REST side of fabric planning -- the plan
 * fields reach the fabric unchanged, and each planning refusal gets the
 * status and code docs/api.yaml gives it.  Also the one u64 rule of
 * lib/json.h that the REST answers now follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controller/rest_fabric.h"
#include "controller/rest_parse.h"
#include "lib/json.h"
#include "lib/strbuf.h"

static void
test_input(void **state)
{
    (void) state;
    struct rest_plan_fields pf = {
        .given = true,
        .memory_mb = 4096,
        .dirty_pages_per_s = 2500.5,
        .page_size = 2048,
        .deadline_ms = 900,
        .has_strategy = true,
        .strategy = ROUTE_DR,
        .has_cpu = true,
        .target_cpu_free = 0.25,
    };
    struct fabric_plan_input in;
    rest_fabric_input(&pf, &in);
    assert_true(in.given);
    assert_int_equal(in.memory_mb, 4096);
    assert_true(in.dirty_pages_per_s == 2500.5);
    assert_int_equal(in.page_size, 2048);
    assert_int_equal(in.deadline_ms, 900);
    assert_true(in.has_strategy && in.strategy == ROUTE_DR);
    assert_true(in.has_cpu && in.target_cpu_free == 0.25);
}

static void
test_errors(void **state)
{
    (void) state;
    static const struct {
        enum fabric_plan_err err;
        int status;
        const char *code;
    } cases[] = {
        {FABRIC_PLAN_E_NO_FABRIC, 409, "no_fabric"},
        {FABRIC_PLAN_E_NOT_IN_FABRIC, 422, "not_in_fabric"},
        {FABRIC_PLAN_E_INVALID_ADDRESS, 422, "invalid_address"},
        {FABRIC_PLAN_E_BUSY, 409, "fabric_busy"},
        {FABRIC_PLAN_E_NO_ROUTE, 409, "no_route"},
        {FABRIC_PLAN_E_INVALID_VALUE, 422, "invalid_value"},
        {FABRIC_PLAN_E_NO_MEMORY, 500, "no_memory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rest_error e;
        rest_fabric_error(&e, cases[i].err, "node 'n9' is not a host");
        assert_int_equal(e.status, cases[i].status);
        assert_string_equal(e.code, cases[i].code);
        assert_string_equal(e.message, "node 'n9' is not a host");
    }
}

static void
test_u64_rule(void **state)
{
    (void) state;
    json_t *small = js_u64(INT64_MAX), *big = js_u64(UINT64_MAX);
    assert_true(json_is_integer(small));
    assert_true(json_integer_value(small) == INT64_MAX);
    assert_true(json_is_string(big));
    assert_string_equal(json_string_value(big), "18446744073709551615");
    json_decref(small);
    json_decref(big);
}

/* The text writers (the gateway map's) write what jansson writes for the
 * same value, byte for byte. */
static void
test_text_writers_equal_jansson(void **state)
{
    (void) state;
    static const char *const strings[] = {
        "", "vm1", "a\"b", "back\\slash", "tab\tnl\ncr\r", "\x01\x1f end",
        "\b\f", "caf\xc3\xa9", "\"\"\\\\",
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        struct strbuf sb;
        strbuf_init(&sb);
        assert_int_equal(js_put_string(&sb, strings[i]), 0);
        json_t *v = json_string(strings[i]);
        assert_non_null(v);
        char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_string_equal(strbuf_str(&sb), want);
        free(want);
        json_decref(v);
        strbuf_destroy(&sb);
    }
    static const uint64_t nums[] = {0, 1, 4095, INT64_MAX,
                                    (uint64_t) INT64_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        struct strbuf sb;
        strbuf_init(&sb);
        assert_int_equal(js_put_u64(&sb, nums[i]), 0);
        json_t *v = js_u64(nums[i]);
        char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_string_equal(strbuf_str(&sb), want);
        free(want);
        json_decref(v);
        strbuf_destroy(&sb);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_u64_rule),
        cmocka_unit_test(test_text_writers_equal_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
