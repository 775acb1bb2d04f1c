/* test_cli.c: the `mignet` client's pure parts: argument parsing, help,
 * the HTTP request each command makes, and how answers are printed.
 *
 * Requests are compared byte for byte with the bodies the northbound API
 * documents, and tables with exact text, so a changed member name, a lost
 * option or a misaligned column fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

#define MAX_ARGS 32

/* Parses a space-separated command line ("mignet" prepended). */
static enum cli_exit
parse_line(const char *line, struct cli_parsed *p, char *err, size_t errlen,
           char *storage, size_t storage_len)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    size_t cmds_n;
    const struct cli_cmd *cmds = cli_commands(&cmds_n);

    snprintf(storage, storage_len, "%s", line);
    argv[argc++] = "mignet";
    for (char *save = NULL, *w = strtok_r(storage, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
        assert_true(argc < MAX_ARGS);
        argv[argc++] = w;
    }
    return cli_parse(cmds, cmds_n, argc, argv, p, err, errlen);
}

/* Storage for argv words: parsed results point into it. */
static char words[1024];

static void
test_parse_ok(void **state)
{
    struct cli_parsed p;
    char err[256];

    assert_int_equal(parse_line("vm migrate vm1 --to n2", &p, err,
                                sizeof err, words, sizeof words),
                     CLI_EXIT_OK);
    assert_string_equal(p.cmd->group, "vm");
    assert_string_equal(p.cmd->name, "migrate");
    assert_int_equal(p.n_pos, 1);
    assert_string_equal(p.pos[0], "vm1");
    assert_string_equal(cli_opt_value(&p, "to"), "n2");
    assert_null(cli_opt_value(&p, "from"));
    assert_false(p.json);
    assert_null(p.url);
    assert_false(p.help);

    assert_int_equal(parse_line("--json vm migrate --to=n2 vm1 --from n1 "
                                "--url http://h:1 --timeout 500",
                                &p, err, sizeof err, words, sizeof words),
                     CLI_EXIT_OK);
    assert_true(p.json);
    assert_string_equal(p.url, "http://h:1");
    assert_int_equal(p.timeout_ms, 500);
    assert_string_equal(cli_opt_value(&p, "to"), "n2");
    assert_string_equal(cli_opt_value(&p, "from"), "n1");
    assert_string_equal(p.pos[0], "vm1");

    assert_int_equal(parse_line("tasks", &p, err, sizeof err, words,
                                sizeof words),
                     CLI_EXIT_OK);
    assert_null(p.cmd->group);
    assert_string_equal(p.cmd->name, "tasks");

    assert_int_equal(parse_line("vm show -- --odd", &p, err, sizeof err,
                                words, sizeof words),
                     CLI_EXIT_OK);
    assert_string_equal(p.pos[0], "--odd");

    assert_int_equal(parse_line("map --since 0", &p, err, sizeof err, words,
                                sizeof words),
                     CLI_EXIT_OK);
    assert_string_equal(cli_opt_value(&p, "since"), "0");
}

static void
test_parse_help(void **state)
{
    struct cli_parsed p;
    char err[256];

    assert_int_equal(parse_line("--help", &p, err, sizeof err, words,
                                sizeof words),
                     CLI_EXIT_OK);
    assert_true(p.help);
    assert_null(p.cmd);
    assert_null(p.group);
    assert_int_equal(parse_line("vm --help", &p, err, sizeof err, words,
                                sizeof words),
                     CLI_EXIT_OK);
    assert_true(p.help);
    assert_null(p.cmd);
    assert_string_equal(p.group, "vm");
    /* Help wins over a missing required option. */
    assert_int_equal(parse_line("vm migrate -h", &p, err, sizeof err, words,
                                sizeof words),
                     CLI_EXIT_OK);
    assert_true(p.help);
    assert_string_equal(p.cmd->name, "migrate");
}

struct bad_line {
    const char *line;
    const char *message; /* substring of the error */
};

static const struct bad_line bad_lines[] = {
    {"", "no command"},
    {"vm", "'vm' needs a command"},
    {"vm frob", "unknown command 'vm frob'"},
    {"frob", "unknown command 'frob'"},
    {"vm migrate vm1", "missing --to NODE"},
    {"vm migrate vm1 --to", "--to needs a value"},
    {"vm migrate vm1 --to --json", "--to needs a value"},
    {"vm migrate vm1 --to n2 --to n3", "--to given twice"},
    {"vm show", "missing ID"},
    {"vm show a b", "unexpected argument 'b'"},
    {"vm list --bogus", "unknown option '--bogus' for 'vm list'"},
    {"--bogus vm list", "unknown option '--bogus'"},
    {"--json=1 tasks", "--json takes no value"},
    {"tasks --timeout 0", "--timeout must be"},
    {"tasks --timeout x", "--timeout must be"},
    {"tasks --url", "--url needs a value"},
    {"-x tasks", "unknown option '-x'"},
    {"node add n1", "missing --address ADDR"},
    {"vm create vm1 --mac m --ip i --vni 1", "missing --node NODE"},
};

static void
test_parse_errors(void **state)
{
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        struct cli_parsed p;
        char err[256] = "";
        enum cli_exit rc = parse_line(bad_lines[i].line, &p, err, sizeof err,
                                      words, sizeof words);
        if (rc != CLI_EXIT_USAGE || !strstr(err, bad_lines[i].message)) {
            fail_msg("'%s': rc %d, error '%s', want '%s'", bad_lines[i].line,
                     (int) rc, err, bad_lines[i].message);
        }
    }
}

static void
assert_lines_fit(const char *text)
{
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t) (nl - line) : strlen(line);
        if (n > 79) {
            fail_msg("help line longer than 79 columns: %.*s", (int) n,
                     line);
        }
        if (n && line[n - 1] == ' ') {
            fail_msg("help line ends in a space: %.*s", (int) n, line);
        }
        line += n + (nl != NULL);
    }
}

static void
test_help_text(void **state)
{
    size_t n;
    const struct cli_cmd *cmds = cli_commands(&n);
    struct strbuf sb;
    strbuf_init(&sb);

    cli_help(cmds, n, NULL, NULL, &sb);
    assert_lines_fit(strbuf_str(&sb));
    char want[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(want, sizeof want, "\n  %s%s%s", cmds[i].group
                                                      ? cmds[i].group
                                                      : "",
                 cmds[i].group ? " " : "", cmds[i].name);
        if (!strstr(strbuf_str(&sb), want)) {
            fail_msg("top help lacks '%s'", want + 3);
        }
    }
    assert_non_null(strstr(strbuf_str(&sb), "MIGNET_URL"));
    assert_non_null(strstr(strbuf_str(&sb), "  3  controller unreachable"));

    strbuf_clear(&sb);
    cli_help(cmds, n, "vm", NULL, &sb);
    assert_lines_fit(strbuf_str(&sb));
    assert_non_null(strstr(strbuf_str(&sb), "  vm migrate VM"));
    assert_non_null(strstr(strbuf_str(&sb), "  vm create ID"));
    assert_null(strstr(strbuf_str(&sb), "node add"));

    for (size_t i = 0; i < n; i++) {
        strbuf_clear(&sb);
        cli_help(cmds, n, NULL, &cmds[i], &sb);
        assert_lines_fit(strbuf_str(&sb));
        assert_non_null(strstr(strbuf_str(&sb), "Usage: mignet "));
        for (int k = 0; k < CLI_MAX_OPTS && cmds[i].opts[k].name; k++) {
            snprintf(want, sizeof want, "  --%s", cmds[i].opts[k].name);
            assert_non_null(strstr(strbuf_str(&sb), want));
        }
    }
    strbuf_destroy(&sb);
}

/* Parses and builds; returns whether the builder accepted the line. */
static bool
build_line(const char *line, struct cli_request *r, char *err,
           size_t errlen)
{
    struct cli_parsed p;
    assert_int_equal(parse_line(line, &p, err, errlen, words, sizeof words),
                     CLI_EXIT_OK);
    cli_request_init(r);
    return p.cmd->build(&p, r, err, errlen);
}

struct build_case {
    const char *line;
    const char *method;
    const char *path;
    const char *body; /* NULL: no body */
};

static const struct build_case build_cases[] = {
    {"node add n1 --address 198.18.0.1 --refresh-ms 2000", "POST",
     "/v1/nodes",
     "{\"id\":\"n1\",\"address\":\"198.18.0.1\",\"refresh_ms\":2000}"},
    {"node add n2 --address 198.18.0.2", "POST", "/v1/nodes",
     "{\"id\":\"n2\",\"address\":\"198.18.0.2\"}"},
    {"node list", "GET", "/v1/nodes", NULL},
    {"node show n1", "GET", "/v1/nodes/n1", NULL},
    {"node cordon n1", "POST", "/v1/nodes/n1/cordon", "{}"},
    {"node uncordon n1", "POST", "/v1/nodes/n1/uncordon", "{}"},
    {"node drain n1", "POST", "/v1/nodes/n1/drain", "{}"},
    {"node token n1", "POST", "/v1/nodes/n1/token", "{}"},
    {"node token n1 --token-out /tmp/t", "POST", "/v1/nodes/n1/token", "{}"},
    {"node drain n1 --targets vm1=n3,vm.2=n4", "POST", "/v1/nodes/n1/drain",
     "{\"targets\":{\"vm1\":\"n3\",\"vm.2\":\"n4\"}}"},
    {"node delete n1", "DELETE", "/v1/nodes/n1", NULL},
    {"node delete n1 --force", "DELETE", "/v1/nodes/n1?force=true", NULL},
    {"vm create vm1 --mac 02:00:00:00:00:01 --ip 198.18.1.1 --vni 100 "
     "--node n1",
     "POST", "/v1/vms",
     "{\"id\":\"vm1\",\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\","
     "\"vni\":100,\"node\":\"n1\"}"},
    {"vm create vm2 --node n1 --vlan 10 --port 3 --ip 198.18.1.2 "
     "--mac 02:00:00:00:00:02",
     "POST", "/v1/vms",
     "{\"id\":\"vm2\",\"mac\":\"02:00:00:00:00:02\",\"ip\":\"198.18.1.2\","
     "\"vlan\":10,\"node\":\"n1\",\"port\":3}"},
    {"vm list", "GET", "/v1/vms", NULL},
    {"vm show a/b", "GET", "/v1/vms/a%2Fb", NULL},
    {"vm update vm1 --ip 198.18.1.9", "PATCH", "/v1/vms/vm1",
     "{\"ip\":\"198.18.1.9\"}"},
    {"vm update vm1 --port 0 --mac 02:00:00:00:00:09", "PATCH",
     "/v1/vms/vm1", "{\"mac\":\"02:00:00:00:00:09\",\"port\":0}"},
    {"vm delete vm1", "DELETE", "/v1/vms/vm1", NULL},
    {"vm migrate vm1 --to n2", "POST", "/v1/vms/vm1/migrate",
     "{\"to\":\"n2\"}"},
    {"vm migrate vm1 --from n1 --to n2", "POST", "/v1/vms/vm1/migrate",
     "{\"to\":\"n2\",\"from\":\"n1\"}"},
    {"vm migrate vm1 --to n2 --plan --memory-mb 1024 --dirty-pages-per-s "
     "2500.5 --page-size 4096 --deadline-ms 4500 --strategy single "
     "--target-cpu-free 0.5",
     "POST", "/v1/vms/vm1/migrate",
     "{\"to\":\"n2\",\"memory_mb\":1024,\"dirty_pages_per_s\":2500.5,"
     "\"page_size\":4096,\"deadline_ms\":4500,\"target_cpu_free\":0.5,"
     "\"strategy\":\"single\"}"},
    /* Whole numbers go as integers; --plan alone changes no field. */
    {"vm migrate vm1 --to n2 --memory-mb 64 --dirty-pages-per-s 5000 "
     "--plan",
     "POST", "/v1/vms/vm1/migrate",
     "{\"to\":\"n2\",\"memory_mb\":64,\"dirty_pages_per_s\":5000}"},
    {"migration show 7", "GET", "/v1/migrations/7", NULL},
    {"fabric show", "GET", "/v1/fabric", NULL},
    {"tasks", "GET", "/v1/tasks", NULL},
    {"map", "GET", "/v1/map", NULL},
    {"map --since 5", "GET", "/v1/map?since=5", NULL},
    {"vm create vm3 --mac 02:00:00:00:00:03 --vni 100 --node n1", "POST",
     "/v1/vms",
     "{\"id\":\"vm3\",\"mac\":\"02:00:00:00:00:03\",\"vni\":100,"
     "\"node\":\"n1\"}"},
    {"binding list", "GET", "/v1/bindings", NULL},
    {"binding show vm1", "GET", "/v1/vms/vm1/binding", NULL},
    {"binding delete vm1", "DELETE", "/v1/vms/vm1/binding", NULL},
    {"binding set vm1 --ip 198.18.1.10", "PUT", "/v1/vms/vm1/binding",
     "{\"ip\":\"198.18.1.10\"}"},
    {"binding set vm1 --ip 198.18.1.10 --type dynamic --lease 30 "
     "--port-status down --port-security trust --server 198.18.1.254 "
     "--mac 02:00:00:00:00:01 --vlan 0 --port 5 --node n1",
     "PUT", "/v1/vms/vm1/binding",
     "{\"ip\":\"198.18.1.10\",\"type\":\"dynamic\",\"lease\":30,"
     "\"server\":\"198.18.1.254\",\"port_status\":\"down\","
     "\"port_security\":\"trust\",\"mac\":\"02:00:00:00:00:01\","
     "\"node\":\"n1\",\"vlan\":0,\"port\":5}"},
    {"binding set vm1 --ip 198.18.1.10 --type dynamic --lease infinite",
     "PUT", "/v1/vms/vm1/binding",
     "{\"ip\":\"198.18.1.10\",\"type\":\"dynamic\","
     "\"lease\":\"infinite\"}"},
};

static void
test_build_requests(void **state)
{
    for (size_t i = 0; i < sizeof build_cases / sizeof build_cases[0]; i++) {
        const struct build_case *c = &build_cases[i];
        struct cli_request r;
        char err[256] = "";
        if (!build_line(c->line, &r, err, sizeof err)) {
            fail_msg("'%s' refused: %s", c->line, err);
        }
        assert_string_equal(r.method, c->method);
        assert_string_equal(strbuf_str(&r.path), c->path);
        if (c->body) {
            assert_non_null(r.body);
            assert_string_equal(r.body, c->body);
        } else {
            assert_null(r.body);
        }
        cli_request_destroy(&r);
    }
}

static const struct bad_line bad_builds[] = {
    {"binding set vm1 --ip 198.18.1.1 --lease soon", "--lease must be"},
    {"binding set vm1 --ip 198.18.1.1 --lease 0", "--lease must be"},
    {"vm create vm1 --mac m --ip i --node n1", "--vni N or --vlan N"},
    {"vm create vm1 --mac m --ip i --node n1 --vni x", "--vni must be"},
    {"vm create vm1 --mac m --ip i --node n1 --vlan -1", "--vlan must be"},
    {"vm create vm1 --mac m --ip i --node n1 --vni 1 --port 4294967296",
     "--port must be"},
    {"vm update vm1", "nothing to update"},
    {"node drain n1 --targets vm1", "--targets must be VM=NODE"},
    {"node drain n1 --targets =n2", "--targets must be VM=NODE"},
    {"node drain n1 --targets vm1=", "--targets must be VM=NODE"},
    {"node drain n1 --targets vm1=n2,,", "--targets must be VM=NODE"},
    {"node add n1 --address a --refresh-ms 0", "--refresh-ms must be"},
    {"migration show x", "positive number, not 'x'"},
    {"migration show 0", "positive number"},
    {"map --since -1", "--since must be"},
    {"map --since 9223372036854775808", "--since must be"},
    {"vm migrate vm1 --to n2 --memory-mb 0", "--memory-mb must be"},
    {"vm migrate vm1 --to n2 --memory-mb 1.5", "--memory-mb must be"},
    {"vm migrate vm1 --to n2 --dirty-pages-per-s -3",
     "--dirty-pages-per-s must be"},
    {"vm migrate vm1 --to n2 --dirty-pages-per-s 5k",
     "--dirty-pages-per-s must be"},
    {"vm migrate vm1 --to n2 --dirty-pages-per-s nan",
     "--dirty-pages-per-s must be"},
    {"vm migrate vm1 --to n2 --deadline-ms soon", "--deadline-ms must be"},
    {"vm migrate vm1 --to n2 --target-cpu-free inf",
     "--target-cpu-free must be"},
};

static void
test_build_errors(void **state)
{
    for (size_t i = 0; i < sizeof bad_builds / sizeof bad_builds[0]; i++) {
        struct cli_request r;
        char err[256] = "";
        if (build_line(bad_builds[i].line, &r, err, sizeof err)
            || !strstr(err, bad_builds[i].message)) {
            fail_msg("'%s': error '%s', want '%s'", bad_builds[i].line, err,
                     bad_builds[i].message);
        }
        cli_request_destroy(&r);
    }
}

static void
test_table(void **state)
{
    static const char *const headers[] = {"NAME", "N", "NOTE"};
    struct table *t = table_create(3, headers);
    assert_non_null(t);
    table_align_right(t, 1);
    const char *r1[] = {"a", "5", "x"};
    const char *r2[] = {"longer\x1b[31m", "1234", NULL};
    const char *r3[] = {"\xc3\xa9t\xc3\xa9", "7", ""};
    assert_int_equal(table_add_row(t, r1), 0);
    assert_int_equal(table_add_row(t, r2), 0);
    assert_int_equal(table_add_row(t, r3), 0);
    assert_int_equal(table_n_rows(t), 3);
    struct strbuf sb;
    strbuf_init(&sb);
    assert_int_equal(table_render(t, &sb), 0);
    assert_string_equal(strbuf_str(&sb), "NAME            N  NOTE\n"
                                         "a               5  x\n"
                                         "longer?[31m  1234  -\n"
                                         "\xc3\xa9t\xc3\xa9             7\n");
    strbuf_destroy(&sb);
    table_destroy(t);
    table_destroy(NULL);
}

/* Renders 'json' as the answer to 'line'. */
static enum cli_exit
render(const char *line, const char *json, uint64_t now, struct strbuf *out,
       char *err, size_t errlen)
{
    struct cli_parsed p;
    char perr[256];
    assert_int_equal(parse_line(line, &p, perr, sizeof perr, words,
                                sizeof words),
                     CLI_EXIT_OK);
    json_t *reply = NULL;
    if (json) {
        reply = json_loads(json, JSON_DECODE_ANY, NULL);
        assert_non_null(reply);
    }
    enum cli_exit rc = cli_render_reply(&p, reply, now, out, err, errlen);
    json_decref(reply);
    return rc;
}

static void
test_render_lists(void **state)
{
    struct strbuf sb;
    char err[256];
    strbuf_init(&sb);

    assert_int_equal(
        render("vm list",
               "{\"vms\":[{\"id\":\"vm1\",\"node\":\"n1\",\"epoch\":3,"
               "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\","
               "\"vni\":100,\"vlan\":0,\"migration\":2,\"tasks\":1},"
               "{\"id\":\"vm10\",\"node\":\"n2\",\"epoch\":1,"
               "\"config\":{\"mac\":\"02:00:00:00:00:0a\","
               "\"ip\":\"198.18.1.10\",\"vlan\":7}}]}",
               0, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_string_equal(
        strbuf_str(&sb),
        "ID    NODE  EPOCH  MAC                IP           VNI  VLAN  "
        "MIGRATION  TASKS\n"
        "vm1   n1        3  02:00:00:00:00:01  198.18.1.1   100     0  "
        "        2      1\n"
        "vm10  n2        1  02:00:00:00:00:0a  198.18.1.10    -     7  "
        "        -      -\n");

    strbuf_clear(&sb);
    assert_int_equal(
        render("node list",
               "{\"nodes\":[{\"id\":\"n1\",\"address\":\"198.18.0.1\","
               "\"connected\":true,\"state\":\"draining\",\"vms\":2,"
               "\"refresh_ms\":1000,\"map_version\":7}]}",
               0, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_string_equal(
        strbuf_str(&sb),
        "ID  ADDRESS     CONNECTED  STATE     VMS  REFRESH_MS  OBSERVED_MS  "
        "MAP_VERSION\n"
        "n1  198.18.0.1  yes        draining    2        1000            -  "
        "          7\n");

    strbuf_clear(&sb);
    /* 2026-01-01T00:00:10.250Z is 1767225610250 ms. */
    assert_int_equal(
        render("tasks",
               "{\"tasks\":[{\"vm\":\"vm1\",\"node\":\"n1\",\"epoch\":2,"
               "\"kind\":\"delete\",\"due_unix_ms\":1767225610250},"
               "{\"vm\":\"vm2\",\"node\":\"n3\",\"epoch\":1,"
               "\"kind\":\"delete\",\"due_unix_ms\":1767225607000}]}",
               1767225608000ull, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb),
                        "VM   NODE  EPOCH  KIND    DUE\n"
                        "vm1  n1        2  delete  00:00:10.250Z (in 2.2s)\n"
                        "vm2  n3        1  delete  00:00:07.000Z "
                        "(overdue 1.0s)\n");

    strbuf_clear(&sb);
    assert_int_equal(render("tasks", "{\"tasks\":[]}", 0, &sb, err,
                            sizeof err),
                     CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb), "VM  NODE  EPOCH  KIND  DUE\n");

    strbuf_clear(&sb);
    assert_int_equal(
        render("map --since 3",
               "{\"version\":9,\"since\":3,\"entries\":["
               "{\"vm\":\"vm1\",\"node\":\"n2\",\"epoch\":4,\"version\":8,"
               "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\","
               "\"vni\":100,\"vlan\":0},"
               "{\"vm\":\"vm2\",\"node\":null,\"removed\":true,\"epoch\":1,"
               "\"version\":9}]}",
               0, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb),
                        "map version 9, changes since 3\n"
                        "VM   NODE       EPOCH  VERSION  MAC"
                        "                IP          VNI  VLAN\n"
                        "vm1  n2             4        8  02:00:00:00:00:01"
                        "  198.18.1.1  100     0\n"
                        "vm2  (removed)      1        9  -"
                        "                  -             -     -\n");

    strbuf_clear(&sb);
    assert_int_equal(
        render("binding list",
               "{\"bindings\":[{\"id\":3,\"vm\":\"vm1\",\"node\":\"n1\","
               "\"mac\":\"02:00:00:00:01:01\",\"ip\":\"198.18.1.100\","
               "\"vlan\":0,\"port\":0,\"type\":\"dynamic\","
               "\"origin\":\"controller\",\"lease\":120,"
               "\"expires_unix_ms\":1767225610250,\"server\":null,"
               "\"port_status\":\"up\",\"port_security\":\"untrust\"}]}",
               1767225608000ull, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb),
                        "VM   ID  NODE  MAC                IP            "
                        "VLAN  TYPE     ORIGIN      STATUS  SECURITY  "
                        "EXPIRES\n"
                        "vm1   3  n1    02:00:00:00:01:01  198.18.1.100     "
                        "0  dynamic  controller  up      untrust   "
                        "00:00:10.250Z (in 2.2s)\n");

    /* A bare array works as well as a wrapped one. */
    strbuf_clear(&sb);
    assert_int_equal(render("node list",
                            "[{\"id\":\"n1\",\"address\":\"198.18.0.1\","
                            "\"connected\":true,\"refresh_ms\":2000}]",
                            0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_non_null(strstr(strbuf_str(&sb), "n1  198.18.0.1  yes"));
    strbuf_destroy(&sb);
}

static void
test_render_object_and_sentences(void **state)
{
    struct strbuf sb;
    char err[256];
    strbuf_init(&sb);

    assert_int_equal(render("migration show 7",
                            "{\"id\":7,\"vm\":\"vm1\",\"phase\":\"relaying\","
                            "\"times\":{\"started_ms\":5,\"cleaned_ms\":null},"
                            "\"released_early\":false}",
                            0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb), "id:                7\n"
                                         "vm:                vm1\n"
                                         "phase:             relaying\n"
                                         "times.started_ms:  5\n"
                                         "times.cleaned_ms:  -\n"
                                         "released_early:    no\n");

    strbuf_clear(&sb);
    assert_int_equal(render("vm migrate vm1 --to n2",
                            "{\"migration\":12,\"epoch\":4,"
                            "\"delay_ms\":4500}",
                            0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_non_null(
        strstr(strbuf_str(&sb), "migration 12: vm1 -> n2 at epoch 4\n"));
    assert_non_null(strstr(strbuf_str(&sb), "within 4500 ms"));

    strbuf_clear(&sb);
    assert_int_equal(render("vm delete vm1", NULL, 0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb), "deleted vm vm1\n");
    strbuf_destroy(&sb);
}

/* A plan as mignetd answers it: two paths, the second added because one
 * misses the deadline. */
static const char plan_reply[] =
    "{\"migration\":3,\"epoch\":2,\"delay_ms\":900,\"plan\":{"
    "\"strategy\":\"dr\",\"from_host\":\"h4\",\"to_host\":\"h1\","
    "\"memory_mb\":16,\"dirty_pages_per_s\":200,\"page_size\":4096,"
    "\"deadline_ms\":4500,\"target_cpu_free\":1.0,"
    "\"paths\":[{\"index\":0,\"added\":false,\"tcp_port\":49152,"
    "\"nodes\":[\"h4\",\"s5\",\"s1\",\"s4\",\"h1\"]},"
    "{\"index\":1,\"added\":true,\"tcp_port\":49153,"
    "\"nodes\":[\"h4\",\"s5\",\"s2\",\"s4\",\"h1\"]}],"
    "\"steps\":[{\"paths\":1,\"bandwidth_bps\":30000000.0,"
    "\"setup_ms\":0,\"total_ms\":5172.4,\"downtime_ms\":0.91,"
    "\"rounds\":6,\"precopy_stop\":\"threshold\"},"
    "{\"paths\":2,\"bandwidth_bps\":57000000.0,\"setup_ms\":15,"
    "\"total_ms\":2532.7,\"downtime_ms\":0.2,\"rounds\":5,"
    "\"precopy_stop\":\"threshold\"}],"
    "\"stop\":\"fits\",\"stop_reason\":\"the estimate meets the "
    "deadline\",\"explain\":\"estimate 2533 ms <= deadline 4500 ms on 2 "
    "path(s)\",\"deadline_met\":true,\"planning_us\":41.2,"
    "\"install\":{\"state\":\"installed\",\"switches\":4,"
    "\"flows\":20,\"install_ms\":3.25,\"error\":null}}}";

static void
test_render_plan(void **state)
{
    struct strbuf sb;
    char err[256];
    strbuf_init(&sb);
    assert_int_equal(render("vm migrate vm1 --to h1 --plan", plan_reply, 0,
                            &sb, err, sizeof err),
                     CLI_EXIT_OK);
    const char *want =
        "migration 3: vm1 -> h1 at epoch 2\n"
        "the source keeps a relay; its snapshot is deleted within 900 ms\n"
        "(earlier once every node has the new location)\n"
        "plan: dr route h4 -> h1, 16 MiB, 200 dirty pages/s of 4096 B, "
        "deadline 4500 ms\n"
        "PATH  ADDED  TCP_PORT  ROUTE\n"
        "   1  no        49152  h4 s5 s1 s4 h1\n"
        "   2  yes       49153  h4 s5 s2 s4 h1\n"
        "STEP_PATHS    BANDWIDTH  SET-UP  ESTIMATE  DOWNTIME  ROUNDS  "
        "PRECOPY_STOP\n"
        "         1  30.0 Mbit/s    0 ms   5172 ms    0.9 ms       6  "
        "threshold\n"
        "         2  57.0 Mbit/s   15 ms   2533 ms    0.2 ms       5  "
        "threshold\n"
        "stopped adding paths: fits (the estimate meets the deadline)\n"
        "  estimate 2533 ms <= deadline 4500 ms on 2 path(s)\n"
        "deadline: met\n"
        "flows: installed, 20 on 4 switch(es), confirmed in 3.250 ms\n"
        "planned in 41 us\n";
    if (strcmp(strbuf_str(&sb), want)) {
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&sb), want);
    }

    /* Without --plan only the sentence. */
    strbuf_clear(&sb);
    assert_int_equal(render("vm migrate vm1 --to h1", plan_reply, 0, &sb,
                            err, sizeof err),
                     CLI_EXIT_OK);
    assert_null(strstr(strbuf_str(&sb), "plan:"));

    /* migration show: the fields, then the plan. */
    strbuf_clear(&sb);
    assert_int_equal(render("migration show 3",
                            "{\"id\":3,\"phase\":\"prepared\","
                            "\"plan\":{\"strategy\":\"single\","
                            "\"from_host\":\"h4\",\"to_host\":\"h1\","
                            "\"paths\":[],\"steps\":[],\"stop\":null,"
                            "\"deadline_met\":null,\"install\":{"
                            "\"state\":\"failed\",\"flows\":0,"
                            "\"switches\":3,\"install_ms\":null,"
                            "\"error\":\"switch s5 is not connected\"}}}",
                            0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    want = "id:     3\n"
           "phase:  prepared\n"
           "plan: single route h4 -> h1 (no estimate: give --memory-mb)\n"
           "PATH  ADDED  TCP_PORT  ROUTE\n"
           "flows: failed, 0 on 3 switch(es) (switch s5 is not connected)\n";
    if (strcmp(strbuf_str(&sb), want)) {
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&sb), want);
    }
    strbuf_clear(&sb);
    assert_int_equal(render("vm migrate vm1 --to h1 --plan",
                            "{\"migration\":3,\"epoch\":2,"
                            "\"delay_ms\":900,\"plan\":null}",
                            0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_non_null(strstr(strbuf_str(&sb), "no plan: "));
    strbuf_destroy(&sb);
}

static void
test_render_fabric(void **state)
{
    struct strbuf sb;
    char err[256];
    strbuf_init(&sb);
    assert_int_equal(
        render("fabric show",
               "{\"configured\":true,\"file\":\"f.topo\","
               "\"strategy\":\"dr\",\"poll_ms\":5000,\"lldp_ms\":1000,"
               "\"switches\":[{\"name\":\"s1\",\"dpid\":\"0x01\","
               "\"connected\":true,\"ports\":2,\"lldp_sent\":8,"
               "\"lldp_received\":7}],"
               "\"links\":[{\"a\":\"s1:1\",\"b\":\"s4:4\","
               "\"capacity_bps\":30000000,\"weight\":1125899906842624,"
               "\"chosen\":true,\"source\":\"lldp\",\"lldp\":true},"
               "{\"a\":\"s2:1\",\"b\":\"s4:5\",\"capacity_bps\":1e9,"
               "\"weight\":5121,\"chosen\":false,\"source\":\"file\","
               "\"lldp\":false}],"
               "\"hosts\":[{\"name\":\"h1\",\"switch\":\"s4:1\","
               "\"nic\":1,\"capacity_bps\":1000000000}]}",
               0, &sb, err, sizeof err),
        CLI_EXIT_OK);
    const char *want =
        "fabric: f.topo, first paths by dr, statistics every 5000 ms, LLDP "
        "every 1000 ms\n"
        "SWITCH  DPID  CONNECTED  PORTS  LLDP_SENT  LLDP_RECEIVED\n"
        "s1      0x01  yes            2          8              7\n"
        "A     B        CAPACITY  WEIGHT  SOURCE  LLDP\n"
        "s1:1  s4:4  30.0 Mbit/s  chosen  lldp    yes\n"
        "s2:1  s4:5   1.0 Gbit/s    5121  file    no\n"
        "HOST  SWITCH  NIC    CAPACITY\n"
        "h1    s4:1      1  1.0 Gbit/s\n";
    if (strcmp(strbuf_str(&sb), want)) {
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&sb), want);
    }
    strbuf_clear(&sb);
    assert_int_equal(render("fabric show",
                            "{\"configured\":false,\"switches\":[],"
                            "\"links\":[],\"hosts\":[]}",
                            0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_non_null(strstr(strbuf_str(&sb), "no fabric configured"));
    strbuf_destroy(&sb);
}

static const struct {
    const char *line;
    const char *json;
} bad_replies[] = {
    {"vm migrate vm1 --to n2 --plan",
     "{\"migration\":1,\"epoch\":2,\"delay_ms\":3,\"plan\":{}}"},
    {"vm migrate vm1 --to n2 --plan",
     "{\"migration\":1,\"epoch\":2,\"delay_ms\":3,\"plan\":[]}"},
    {"migration show 1", "{\"id\":1,\"plan\":{\"paths\":7}}"},
    {"migration show 1", "[]"},
    {"fabric show", "{\"switches\":[],\"links\":[]}"},
    {"fabric show", "[]"},
    {"vm list", "5"},
    {"vm list", "{\"count\":2}"},
    {"vm list", "{\"a\":[],\"b\":[]}"},
    {"vm list", "[1,2]"},
    {"vm show vm1", "[]"},
    {"vm migrate vm1 --to n2", "{\"migration\":1,\"epoch\":2}"},
    {"vm migrate vm1 --to n2", "{\"migration\":\"1\",\"epoch\":2,"
                               "\"delay_ms\":3}"},
    {"map", "{\"entries\":[]}"},
    {"tasks", NULL},
};

static void
test_render_bad_replies(void **state)
{
    for (size_t i = 0; i < sizeof bad_replies / sizeof bad_replies[0]; i++) {
        struct strbuf sb;
        char err[256] = "";
        strbuf_init(&sb);
        if (render(bad_replies[i].line, bad_replies[i].json, 0, &sb, err,
                   sizeof err)
                != CLI_EXIT_BAD_REPLY
            || !err[0]) {
            fail_msg("'%s' accepted answer %s", bad_replies[i].line,
                     bad_replies[i].json ? bad_replies[i].json : "(none)");
        }
        strbuf_destroy(&sb);
    }
}

static void
test_format_error(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb);
    static const char body[] =
        "{\"error\":{\"code\":\"unknown_vm\",\"message\":\"no such VM\"}}";
    cli_format_error(404, "Not Found", body, strlen(body), &sb);
    assert_string_equal(strbuf_str(&sb),
                        "controller error 404 unknown_vm: no such VM");

    strbuf_clear(&sb);
    static const char html[] = "<h1>bad\r\ngateway</h1>";
    cli_format_error(502, "Bad Gateway", html, strlen(html), &sb);
    assert_string_equal(strbuf_str(&sb), "controller answered 502 Bad "
                                         "Gateway: <h1>bad??gateway</h1>");

    strbuf_clear(&sb);
    cli_format_error(500, "Internal", "", 0, &sb);
    assert_string_equal(strbuf_str(&sb), "controller answered 500 Internal");
    strbuf_destroy(&sb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_help),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_help_text),
        cmocka_unit_test(test_build_requests),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_render_lists),
        cmocka_unit_test(test_render_object_and_sentences),
        cmocka_unit_test(test_render_plan),
        cmocka_unit_test(test_render_fabric),
        cmocka_unit_test(test_render_bad_replies),
        cmocka_unit_test(test_format_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
