/* test_fabsim_cli.c: `mignet sim --fabric` as a user runs it.
 *
 * Runs the built binary (MIGNET_BUILD_DIR): with --json exactly one JSON
 * object {"params", "results"} with a result per strategy and a record
 * per migration; same arguments -> same numbers; a topology file gives
 * what the builder gives; bad arguments or files -> exit 2, a message on
 * stderr, nothing on stdout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

/* Runs `mignet ARGS`; returns its stdout (caller frees), exit status in
 * '*status'.  stderr goes to 'errfile' when given, else /dev/null. */
static char *
mignet(const char *args, int *status, const char *errfile)
{
    const char *dir = getenv("MIGNET_BUILD_DIR");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/mignet %s 2>%s", dir ? dir : ".", args,
             errfile ? errfile : "/dev/null");
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char *out = NULL;
    size_t cap = 0;
    /* No NUL in the output: one call reads it all. */
    if (getdelim(&out, &cap, '\0', f) < 0) {
        free(out);
        out = strdup("");
        assert_non_null(out);
    }
    int st = pclose(f);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

static json_t *
json_run(const char *args)
{
    int status;
    char *out = mignet(args, &status, NULL);
    assert_int_equal(status, 0);
    json_error_t err;
    json_t *root = json_loads(out, 0, &err); /* refuses trailing bytes */
    if (!root) {
        fail_msg("bad JSON: %s: %.200s", err.text, out);
    }
    free(out);
    assert_true(json_is_object(root));
    return root;
}

static double
num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) {
        fail_msg("'%s' is not a number", key);
    }
    return json_number_value(v);
}

#define SEED002 "sim --fabric seed002 --concurrent --memory-mb 128 --json"

static void
test_json_contract(void **state)
{
    (void)state;
    static const char *const names[] = {"single", "ecmp", "dr", "dr+paths"};
    static const char *const mig_keys[] = {
        "start_ms",    "estimate_ms", "sim_ms",          "setup_ms",
        "downtime_ms", "bytes",       "throughput_mbps",
    };
    json_t *root = json_run(SEED002);
    json_t *params = json_object_get(root, "params");
    assert_string_equal(json_string_value(json_object_get(params, "fabric")),
                        "seed002");
    assert_true(num(params, "link_mbps") == 500);
    assert_true(num(params, "migrations") == 3);
    assert_true(json_is_true(json_object_get(params, "concurrent")));
    json_t *results = json_object_get(root, "results");
    assert_int_equal(json_array_size(results), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *r = json_array_get(results, i);
        assert_string_equal(json_string_value(json_object_get(r, "strategy")),
                            names[i]);
        json_t *t = json_object_get(r, "time_ms");
        assert_true(num(t, "p50") <= num(t, "p99"));
        assert_true(num(t, "p99") <= num(t, "max"));
        assert_true(num(r, "deadlines_met") + num(r, "deadlines_missed") == 3);
        assert_true(num(r, "events") > 0);
        assert_true(json_is_number(json_object_get(r, "wall_ms")));
        json_t *migs = json_object_get(r, "per_migration");
        assert_int_equal(json_array_size(migs), 3);
        for (size_t m = 0; m < 3; m++) {
            json_t *g = json_array_get(migs, m);
            for (size_t k = 0; k < sizeof mig_keys / sizeof *mig_keys; k++) {
                assert_true(num(g, mig_keys[k]) >= 0);
            }
            assert_true(json_is_boolean(json_object_get(g, "deadline_met")));
            json_t *paths = json_object_get(g, "paths");
            assert_true(json_array_size(paths) >= 1);
            json_t *p0 = json_array_get(paths, 0);
            /* h4 -> h1 crosses s5, a core and s4. */
            assert_int_equal(json_array_size(p0), 5);
            assert_string_equal(json_string_value(json_array_get(p0, 0)),
                                json_string_value(json_object_get(g, "src")));
            if (!strcmp(names[i], "dr")) {
                assert_true(num(g, "throughput_mbps") >= 475);
            } else if (!strcmp(names[i], "single")) {
                assert_true(num(g, "throughput_mbps") <= 250);
            }
        }
    }
    json_decref(root);
}

static void
drop_wall(json_t *root)
{
    json_t *results = json_object_get(root, "results");
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_object_del(json_array_get(results, i), "wall_ms");
    }
}

static void
test_same_args_same_numbers(void **state)
{
    (void)state;
    const char *args = "sim --fabric fattree --migrations 10 --rate 4 "
                       "--background 6 --memory-mb 256 --seed 5 --json";
    json_t *a = json_run(args);
    json_t *b = json_run(args);
    drop_wall(a);
    drop_wall(b);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}

/* tests/data/seed002.topo is the builder's fabric: same numbers. */
static void
test_topology_file(void **state)
{
    (void)state;
    const char *src = getenv("MIGNET_SOURCE_DIR");
    char args[1024];
    snprintf(args, sizeof args,
             "sim --topo %s/tests/data/seed002.topo --pairs "
             "h4:h1,h5:h2,h6:h3 --concurrent --memory-mb 128 --json",
             src ? src : ".");
    json_t *file = json_run(args);
    json_t *built = json_run(SEED002);
    json_t *fp = json_object_get(file, "params");
    assert_string_equal(json_string_value(json_object_get(fp, "fabric")),
                        "file");
    assert_true(json_is_null(json_object_get(fp, "link_mbps")));
    json_t *fr = json_object_get(file, "results");
    json_t *br = json_object_get(built, "results");
    assert_int_equal(json_array_size(fr), json_array_size(br));
    for (size_t i = 0; i < json_array_size(fr); i++) {
        json_t *t1 = json_object_get(json_array_get(fr, i), "time_ms");
        json_t *t2 = json_object_get(json_array_get(br, i), "time_ms");
        assert_true(json_equal(t1, t2));
    }
    json_decref(file);
    json_decref(built);
}

static void
test_table_and_errors(void **state)
{
    (void)state;
    int status;
    char *out =
        mignet("sim --fabric seed002 --strategy single,dr", &status, NULL);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "strategy"));
    assert_non_null(strstr(out, "\nsingle "));
    assert_non_null(strstr(out, "\ndr "));
    assert_null(strstr(out, "\necmp "));
    assert_non_null(strstr(out, "h4 -> h1")); /* a line per migration */
    free(out);

    const char *tmp = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/mignet-fabsim-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(tmpl));
    char topo[600], errf[600];
    snprintf(topo, sizeof topo, "%s/bad.topo", tmpl);
    snprintf(errf, sizeof errf, "%s/stderr", tmpl);
    FILE *f = fopen(topo, "w");
    assert_non_null(f);
    fputs("switch s1 dpid=1\nlink s1:1 s9:1 1gbit\n", f);
    assert_int_equal(fclose(f), 0);

    char bad_topo[700];
    snprintf(bad_topo, sizeof bad_topo, "sim --topo %s --json", topo);
    const char *bad[] = {
        "sim --fabric nope --json",
        "sim --fabric fattree --k 3 --json",
        "sim --fabric fattree --strategy teleport --json",
        "sim --topo /nonexistent/fabric.topo --json",
        "sim --fabric seed002 --pairs h1:h1 --json",
        "sim --fabric fattree --bogus 1 --json",
        "sim --fabric seed002 --memory-mb 128 --working-set-mb 129 --json",
        "sim --fabric seed002 --memory-mb 128 --working-set-mb 0.001 --json",
        bad_topo,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out = mignet(bad[i], &status, errf);
        assert_int_equal(status, 2);
        assert_string_equal(out, "");
        free(out);
        FILE *e = fopen(errf, "r");
        assert_non_null(e);
        char msg[512] = "";
        assert_non_null(fgets(msg, sizeof msg, e));
        fclose(e);
        assert_non_null(strstr(msg, "mignet sim: "));
        if (strstr(bad[i], "--working-set-mb")) {
            assert_non_null(strstr(msg, "--working-set-mb"));
        }
        if (bad[i] == bad_topo) {
            /* The parser's line and column. */
            assert_non_null(strstr(msg, "2:"));
            assert_non_null(strstr(msg, "s9"));
        }
    }
    unlink(topo);
    unlink(errf);
    rmdir(tmpl);

    out = mignet("sim --help", &status, NULL);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "--fabric"));
    free(out);
    out = mignet("sim --fabric fattree --help", &status, NULL);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "--dirty-pages-per-s"));
    free(out);
}

/* A working set: writes on pages already dirty in a round are not new,
 * so every round is smaller than D x T and the migrations end sooner; the
 * simulated rounds use the same dirtying as the estimate (an idle fabric,
 * one migration at a time: they agree).  The params echo it. */
static void
test_working_set(void **state)
{
    (void)state;
    json_t *lin = json_run("sim --fabric seed002 --memory-mb 128 "
                           "--dirty-pages-per-s 10000 --strategy single "
                           "--migrations 1 --json");
    json_t *ws = json_run("sim --fabric seed002 --memory-mb 128 "
                          "--dirty-pages-per-s 10000 --working-set-mb 128 "
                          "--strategy single --migrations 1 --json");
    const json_t *rl = json_array_get(json_object_get(lin, "results"), 0);
    const json_t *rw = json_array_get(json_object_get(ws, "results"), 0);
    assert_non_null(rl);
    assert_non_null(rw);
    assert_true(num(rw, "estimate_mean_ms") < num(rl, "estimate_mean_ms"));
    assert_true(num(rw, "bytes") < num(rl, "bytes"));
    assert_true(num(rw, "sim_over_estimate_max") > 0.99);
    assert_true(num(rw, "sim_over_estimate_max") < 1.01);
    assert_int_equal(num(json_object_get(ws, "params"), "working_set_bytes"),
                     128 << 20);
    assert_int_equal(num(json_object_get(lin, "params"), "working_set_bytes"),
                     0);
    json_decref(lin);
    json_decref(ws);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_contract),
        cmocka_unit_test(test_same_args_same_numbers),
        cmocka_unit_test(test_topology_file),
        cmocka_unit_test(test_table_and_errors),
        cmocka_unit_test(test_working_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
