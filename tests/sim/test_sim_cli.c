/* test_sim_cli.c: `mignet sim` as a user runs it.
 *
 * Runs the built binary (MIGNET_BUILD_DIR) and checks the contract: with
 * --json exactly one JSON object on stdout with the contract keys, one
 * result per strategy; same arguments -> same numbers; bad arguments ->
 * exit 2, a message on stderr and nothing on stdout. */
#include "simtest.h"

#include <jansson.h>

#define SMALL "--nodes 8 --vms 60 --migrations 12 --refresh-ms 300 "

static char *
run(const char *args, int *status)
{
    return simtest_run_cli(args, status);
}

static const char *const int_keys[] = {
    "sent", "delivered", "lost_pause", "lost_stale", "lost_other",
    "relayed", "extra_packets", "wrong_deletions", "gateway_polls",
    "control_messages", "events", "lost_activation", "lost_install_race",
    "queued", "aborted", "activations",
};

static json_t *
parse_one_object(const char *out)
{
    json_error_t err;
    /* json_loads refuses trailing garbage: exactly one object. */
    json_t *root = json_loads(out, 0, &err);
    if (!root) {
        print_error("bad JSON: %s at %d: %.200s\n", err.text, err.position,
                    out);
    }
    assert_non_null(root);
    assert_true(json_is_object(root));
    return root;
}

static void
test_json_contract(void **state)
{
    (void)state;
    int status;
    char *out = run("sim " SMALL "--pattern pingpong --json", &status);
    assert_int_equal(status, 0);
    json_t *root = parse_one_object(out);
    json_t *params = json_object_get(root, "params");
    assert_true(json_is_object(params));
    assert_int_equal(json_integer_value(json_object_get(params, "nodes")),
                     8);
    assert_string_equal(
        json_string_value(json_object_get(params, "pattern")), "pingpong");
    assert_int_equal(json_integer_value(json_object_get(params, "tail_ms")),
                     -1);
    json_t *results = json_object_get(root, "results");
    assert_true(json_is_array(results));
    assert_int_equal(json_array_size(results), SIM_N_STRATEGIES);
    /* The identical workload: the same traffic in every row. */
    json_t *first = json_array_get(results, 0);
    json_int_t sent0 = json_integer_value(json_object_get(first, "sent"));
    json_int_t horizon0 =
        json_integer_value(json_object_get(first, "horizon_ms"));
    assert_true(horizon0 > 0);
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *r = json_array_get(results, i);
        assert_string_equal(
            json_string_value(json_object_get(r, "strategy")),
            sim_strategies[i]);
        for (size_t k = 0; k < sizeof int_keys / sizeof int_keys[0]; k++) {
            json_t *v = json_object_get(r, int_keys[k]);
            if (!json_is_integer(v)) {
                print_error("%s: %s missing\n", sim_strategies[i],
                            int_keys[k]);
            }
            assert_true(json_is_integer(v));
            assert_true(json_integer_value(v) >= 0);
        }
        json_t *c = json_object_get(r, "cleanup_ms");
        assert_true(json_is_object(c));
        double p50 = json_number_value(json_object_get(c, "p50"));
        double p99 = json_number_value(json_object_get(c, "p99"));
        double max = json_number_value(json_object_get(c, "max"));
        assert_true(json_is_number(json_object_get(c, "p50")));
        assert_true(p50 <= p99 && p99 <= max);
        assert_true(json_is_number(json_object_get(r, "wall_ms")));
        json_int_t sent = json_integer_value(json_object_get(r, "sent"));
        json_int_t sum = 0;
        for (size_t k = 1; k <= 4; k++) {
            sum += json_integer_value(json_object_get(r, int_keys[k]));
        }
        sum += json_integer_value(json_object_get(r, "lost_activation"));
        sum += json_integer_value(json_object_get(r, "lost_install_race"));
        assert_true(sent > 0);
        assert_true(sent == sum);
        assert_true(sent == sent0);
        assert_true(json_integer_value(json_object_get(r, "horizon_ms"))
                    == horizon0);
        assert_true(json_integer_value(json_object_get(r, "after_horizon"))
                    == 0);
    }
    json_decref(root);
    free(out);
}

static void
test_same_args_same_numbers(void **state)
{
    (void)state;
    int s1, s2;
    char *a = run("sim " SMALL "--pattern chain --seed 9 --json", &s1);
    char *b = run("sim " SMALL "--pattern chain --seed 9 --json", &s2);
    assert_int_equal(s1, 0);
    assert_int_equal(s2, 0);
    json_t *ja = parse_one_object(a);
    json_t *jb = parse_one_object(b);
    json_t *ra = json_object_get(ja, "results");
    json_t *rb = json_object_get(jb, "results");
    for (size_t i = 0; i < json_array_size(ra); i++) {
        json_object_del(json_array_get(ra, i), "wall_ms");
        json_object_del(json_array_get(rb, i), "wall_ms");
    }
    assert_true(json_equal(ja, jb));
    json_decref(ja);
    json_decref(jb);
    free(a);
    free(b);
}

static void
test_table_and_errors(void **state)
{
    (void)state;
    int status;
    char *out = run("sim " SMALL "--strategy naive,mignet", &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "strategy"));
    assert_non_null(strstr(out, "\nnaive "));
    assert_non_null(strstr(out, "\nmignet "));
    assert_null(strstr(out, "\nfixed "));
    free(out);

    const char *bad[] = {
        "sim --nodes 0 --json", "sim --pattern spiral --json",
        "sim --strategy nope --json", "sim --frobnicate", "nosuchcommand",
        "sim --vms", "sim --switchover maybe --json",
        "sim --abort-rate 0.5 --json",
        "sim --switchover rarp --abort-rate 2 --json",
        "sim --switchover lossless --precopy-ms -1 --json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out = run(bad[i], &status);
        assert_int_equal(status, 2);
        assert_string_equal(out, "");
        free(out);
    }
    out = run("sim --help", &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "--refresh-jitter"));
    free(out);
}

/* --switchover reaches the params and every row; the table adds the
 * lifecycle's counters. */
static void
test_switchover(void **state)
{
    (void)state;
    int status;
    char *out = run("sim " SMALL "--switchover lossless --precopy-ms 300 "
                    "--abort-rate 0.25 --strategy mignet,naive --json",
                    &status);
    assert_int_equal(status, 0);
    json_t *root = parse_one_object(out);
    json_t *params = json_object_get(root, "params");
    assert_string_equal(
        json_string_value(json_object_get(params, "switchover")),
        "lossless");
    assert_int_equal(
        json_integer_value(json_object_get(params, "precopy_ms")), 300);
    assert_true(json_real_value(json_object_get(params, "abort_rate"))
                == 0.25);
    json_t *results = json_object_get(root, "results");
    assert_int_equal(json_array_size(results), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(results, i);
        assert_string_equal(
            json_string_value(json_object_get(r, "switchover")),
            "lossless");
        assert_true(json_is_number(json_object_get(r,
                                                   "queued_delay_max_ms")));
        assert_true(json_is_number(json_object_get(r,
                                                   "queued_delay_mean_ms")));
    }
    json_t *mignet = json_array_get(results, 0);
    assert_true(json_integer_value(json_object_get(mignet, "queued")) > 0);
    assert_true(json_integer_value(json_object_get(mignet, "aborted")) > 0);
    json_decref(root);
    free(out);

    out = run("sim " SMALL "--switchover rarp --strategy mignet", &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "switch-over rarp: pre-copy 500 ms"));
    assert_non_null(strstr(out, "lifecycle (--switchover rarp)"));
    assert_non_null(strstr(out, "lost_act"));
    free(out);
    out = run("sim " SMALL "--strategy mignet", &status);
    assert_int_equal(status, 0);
    assert_null(strstr(out, "lifecycle"));
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_contract),
        cmocka_unit_test(test_same_args_same_numbers),
        cmocka_unit_test(test_table_and_errors),
        cmocka_unit_test(test_switchover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
