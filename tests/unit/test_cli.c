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
#include "controller/rest_parse.h"

#define MAX_ARGS 32

/* The CLI's bounds of a virtual switch are the API's. */
_Static_assert(CLI_MAX_REPEAT >= 1 && CLI_MAX_REPEAT <= REST_VSWITCH_PORTS_MAX,
               "--port limit within the API's");
_Static_assert(VNET_TARGET_MAX == REST_TARGET_MAX, "controller target");
_Static_assert(MN_PORT_MAX == REST_VSWITCH_PORT_MAX, "port numbers");

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
    assert_null(p.token);
    assert_null(p.cacert);
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

    assert_int_equal(parse_line("--token=t0k3n vm list --cacert /ca.pem "
                                "--url https://h:2",
                                &p, err, sizeof err, words, sizeof words),
                     CLI_EXIT_OK);
    assert_string_equal(p.token, "t0k3n");
    assert_string_equal(p.cacert, "/ca.pem");
    assert_string_equal(p.url, "https://h:2");
    assert_int_equal(parse_line("vm list --token", &p, err, sizeof err,
                                words, sizeof words),
                     CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "--token needs a value"));

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
    {"vswitch migrate vs1", "missing ID VM=NODE..."},
    {"vswitch show vs1 vs2", "unexpected argument 'vs2'"},
    {"vswitch create vs1 --tenant t --vni 5 --controller tcp:127.0.0.1:1",
     "missing --port VM=NUM..."},
    {"vswitch create vs1 --tenant t --tenant u --vni 5 "
     "--controller tcp:127.0.0.1:1 --port vm1=1", "--tenant given twice"},
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
     "\"vlan\":10,\"port\":3,\"node\":\"n1\"}"},
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
    {"vm create vm4 --mac 02:00:00:00:00:04 --node n1 --allow-duplicate",
     "POST", "/v1/vms",
     "{\"id\":\"vm4\",\"allow_duplicate\":true,"
     "\"mac\":\"02:00:00:00:00:04\",\"node\":\"n1\"}"},
    {"vm update vm4 --ip 198.18.1.4 --allow-duplicate", "PATCH",
     "/v1/vms/vm4", "{\"allow_duplicate\":true,\"ip\":\"198.18.1.4\"}"},
    {"binding set vm1 --ip 198.18.1.10 --type dynamic --lease infinite",
     "PUT", "/v1/vms/vm1/binding",
     "{\"ip\":\"198.18.1.10\",\"type\":\"dynamic\","
     "\"lease\":\"infinite\"}"},
    /* Ports in command-line order; the datapath id in hex or decimal. */
    {"vswitch create vs1 --tenant acme --vni 100 --controller "
     "tcp:127.0.0.1:6653 --port vm2=2 --port vm1=1 --datapath-id 0x1f",
     "POST", "/v1/vswitches",
     "{\"id\":\"vs1\",\"tenant\":\"acme\",\"vni\":100,"
     "\"controller\":\"tcp:127.0.0.1:6653\",\"datapath_id\":31,"
     "\"ports\":{\"vm2\":2,\"vm1\":1}}"},
    {"vswitch create vs2 --port=vm3=4294967040 --vni 16777215 --tenant t "
     "--controller unix:/run/c.sock --datapath-id 9223372036854775807",
     "POST", "/v1/vswitches",
     "{\"id\":\"vs2\",\"tenant\":\"t\",\"vni\":16777215,"
     "\"controller\":\"unix:/run/c.sock\","
     "\"datapath_id\":9223372036854775807,"
     "\"ports\":{\"vm3\":4294967040}}"},
    {"vswitch list", "GET", "/v1/vswitches", NULL},
    {"vswitch show vs1", "GET", "/v1/vswitches/vs1", NULL},
    {"vswitch show a/b", "GET", "/v1/vswitches/a%2Fb", NULL},
    {"vswitch flows vs1", "GET", "/v1/vswitches/vs1/flows", NULL},
    {"vswitch delete vs1", "DELETE", "/v1/vswitches/vs1", NULL},
    {"vswitch migrate vs1 vm1=n2", "POST", "/v1/vswitches/vs1/migrate",
     "{\"moves\":{\"vm1\":\"n2\"}}"},
    {"vswitch migrate vs1 vm1=n2 --switchover manual vm2=n3 "
     "--prepare-deadline-ms 5000", "POST", "/v1/vswitches/vs1/migrate",
     "{\"moves\":{\"vm1\":\"n2\",\"vm2\":\"n3\"},"
     "\"prepare_deadline_ms\":5000,\"switchover\":\"manual\"}"},
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

#define VS "vswitch create vs1 --tenant t --vni 5 --controller "           \
           "tcp:127.0.0.1:6653"
static const struct bad_line bad_builds[] = {
    {VS " --port vm1", "--port 'vm1' must be VM=NUMBER"},
    {VS " --port vm1=", "--port 'vm1=' must be VM=NUMBER"},
    {VS " --port =1", "--port '=1' must be VM=NUMBER"},
    {VS " --port vm1=0", "must be VM=NUMBER, the number 1-4294967040"},
    {VS " --port vm1=4294967041", "must be VM=NUMBER"},
    {VS " --port vm/1=1", "--port 'vm/1=1' must be VM=NUMBER"},
    {VS " --port vm1=1 --port vm1=2", "--port 'vm1=2' names a VM given"},
    {VS " --port vm1=1 --port vm2=1", "--port 'vm2=1' has a port number"},
    {VS " --port vm1=1 --datapath-id 0", "--datapath-id must be"},
    {VS " --port vm1=1 --datapath-id 0x", "--datapath-id must be"},
    {VS " --port vm1=1 --datapath-id 0xg1", "--datapath-id must be"},
    {VS " --port vm1=1 --datapath-id 9223372036854775808",
     "--datapath-id must be"},
    {VS " --port vm1=1 --datapath-id 0x8000000000000000",
     "--datapath-id must be"},
    {VS " --port vm1=1 --datapath-id 0x10000000000000000",
     "--datapath-id must be"},
    {"vswitch create vs1 --tenant t --vni 5 --controller 127.0.0.1:6653 "
     "--port vm1=1", "--controller must be tcp:ADDRESS:PORT or unix:PATH"},
    {"vswitch create vs1 --tenant t --vni 5 --controller tcp:localhost:1 "
     "--port vm1=1", "--controller must be"},
    {"vswitch create vs1 --tenant t --vni 5 --controller unix: "
     "--port vm1=1", "--controller must be"},
    {"vswitch create vs1 --tenant t --vni 0 --controller tcp:127.0.0.1:1 "
     "--port vm1=1", "--vni must be a number from 1 to 16777215"},
    {"vswitch create vs1 --tenant t/u --vni 1 --controller tcp:127.0.0.1:1 "
     "--port vm1=1", "--tenant must be"},
    {"vswitch create v/s --tenant t --vni 1 --controller tcp:127.0.0.1:1 "
     "--port vm1=1", "virtual switch id 'v/s'"},
    {"vswitch migrate vs1 vm1", "'vm1' must be VM=NODE"},
    {"vswitch migrate vs1 vm1=n/2", "'vm1=n/2' must be VM=NODE"},
    {"vswitch migrate vs1 vm1=n2 vm1=n3", "'vm1=n3' moves a VM moved"},
    {"vswitch migrate vs1 vm1=n2 --switchover later",
     "--switchover must be"},
    {"vswitch migrate vs1 vm1=n2 --prepare-deadline-ms 5000",
     "--prepare-deadline-ms needs"},
    {"vswitch migrate vs1 vm1=n2 --switchover rarp --prepare-deadline-ms 9",
     "--prepare-deadline-ms must be a number from 1000"},
    {"vswitch migrate v/s vm1=n2", "virtual switch id 'v/s'"},
    {"binding set vm1 --ip 198.18.1.1 --lease soon", "--lease 'soon'"},
    {"vm create vm1 --mac m --ip 198.18.1.1 --node n1", "--mac must be"},
    {"vm create vm1 --mac 02:00:00:00:00:01 --ip i --node n1",
     "--ip must be"},
    {"vm create vm1 --mac 02:00:00:00:00:01 --node n1 --vni x",
     "--vni must be"},
    {"vm create vm1 --mac 02:00:00:00:00:01 --node n1 --vlan -1",
     "--vlan must be"},
    {"vm create vm1 --mac 02:00:00:00:00:01 --node n1 --vni 1 "
     "--port 4294967296", "--port must be"},
    {"vm create vm/1 --mac 02:00:00:00:00:01 --node n1", "VM id 'vm/1'"},
    {"vm migrate vm1 --to n2 --switchover later", "--switchover must be"},
    {"vm migrate vm1 --to n2 --prepare-deadline-ms 5000",
     "--prepare-deadline-ms needs"},
    {"vm migrate vm1 --to n2 --page-size 4096", "--memory-mb is needed"},
    {"vm update vm1", "nothing to update"},
    {"vm update vm1 --allow-duplicate", "nothing to update"},
    {"node drain n1 --targets vm1", "--targets must be VM=NODE"},
    {"node drain n1 --targets =n2", "--targets must be VM=NODE"},
    {"node drain n1 --targets vm1=", "--targets must be VM=NODE"},
    {"node drain n1 --targets vm1=n2,,", "--targets must be VM=NODE"},
    {"node add n1 --address 198.18.0.1 --refresh-ms 0",
     "--refresh-ms must be a number from 10 to 3600000"},
    {"node add n1 --address 198.18.0.1 --refresh-ms 5",
     "--refresh-ms must be"},
    {"node add n1 --address a", "--address must be"},
    {"migration show x", "positive number, not 'x'"},
    {"migration show 0", "positive number"},
    {"map --since -1", "--since must be"},
    {"map --since 18446744073709551616", "--since must be"},
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

#undef VS

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


/* One time format: RFC 3339 UTC with milliseconds, and how far from now;
 * durations in seconds, minutes, hours, days. */
static void
test_time_format(void **state)
{
    static const struct {
        uint64_t t, now;
        const char *want;
    } times[] = {
        /* 2026-12-02T13:05:01.784Z is 1796216701784 ms. */
        {1796216701784ull, 1796216696884ull,
         "2026-12-02T13:05:01.784Z (in 4.9 s)"},
        {1796216701784ull, 1796216706684ull,
         "2026-12-02T13:05:01.784Z (4.9 s ago)"},
        {1796216701784ull, 1796216701784ull,
         "2026-12-02T13:05:01.784Z (0.0 s ago)"},
        {1796216701784ull, 1796213101884ull,
         "2026-12-02T13:05:01.784Z (in 59 min 59 s)"},
        {1796216701784ull, 0, "2026-12-02T13:05:01.784Z"},
        {5, 0, "1970-01-01T00:00:00.005Z"},
    };
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        strbuf_clear(&sb);
        cli_put_time(&sb, times[i].t, times[i].now);
        assert_string_equal(strbuf_str(&sb), times[i].want);
    }
    static const struct {
        uint64_t ms;
        bool precise;
        const char *want;
    } durations[] = {
        {4250, true, "4.25 s"},      {4250, false, "4.2 s"},
        {9250, true, "9.25 s"},      {0, true, "0.0 s"},
        {50, true, "0.05 s"},        {1000, true, "1.0 s"},
        {59999, false, "59.9 s"},    {60000, true, "1 min 0 s"},
        {3599900, false, "59 min 59 s"}, {3600000, true, "1 h 0 min"},
        {90061000, true, "1 d 1 h"},
    };
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        strbuf_clear(&sb);
        cli_put_duration(&sb, durations[i].ms, durations[i].precise);
        assert_string_equal(strbuf_str(&sb), durations[i].want);
    }

    /* Objects: *_unix_ms as times, *_ms as durations, keys without the
     * unit; never the raw number. */
    strbuf_clear(&sb);
    char err[256];
    assert_int_equal(render("node show n1",
                            "{\"id\":\"n1\",\"refresh_ms\":2000,"
                            "\"last_unix_ms\":1796216701784}",
                            1796216706684ull, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb),
                        "id:       n1\n"
                        "refresh:  2.0 s\n"
                        "last:     2026-12-02T13:05:01.784Z (4.9 s ago)\n");
    assert_null(strstr(strbuf_str(&sb), "1796216701784"));
    strbuf_destroy(&sb);
}

/* `mignet migration show`: the phases reached, in order, each with its
 * time and the time since the start. */
static void
test_migration_timeline(void **state)
{
    struct strbuf sb;
    char err[256];
    strbuf_init(&sb);
    assert_int_equal(
        render("migration show 4",
               "{\"id\":4,\"vm\":\"vm1\",\"phase\":\"cleaned\","
               "\"started_unix_ms\":1796216701784,"
               "\"prepared_unix_ms\":1796216701790,"
               "\"switched_unix_ms\":1796216701790,"
               "\"activated_unix_ms\":null,"
               "\"relaying_unix_ms\":1796216701800,"
               "\"cleaning_unix_ms\":1796216711034,"
               "\"cleaned_unix_ms\":1796216711040,"
               "\"aborted_unix_ms\":null,"
               "\"prepare_deadline_unix_ms\":null,"
               "\"delay_ms\":4250,\"plan\":null}",
               1796216800000ull, &sb, err, sizeof err),
        CLI_EXIT_OK);
    const char *want =
        "id:     4\n"
        "vm:     vm1\n"
        "phase:  cleaned\n"
        "delay:  4.25 s\n"
        "timeline:\n"
        "  preparing  2026-12-02T13:05:01.784Z  +0.0 s\n"
        "  prepared   2026-12-02T13:05:01.790Z  +0.006 s\n"
        "  switched   2026-12-02T13:05:01.790Z  +0.006 s\n"
        "  relaying   2026-12-02T13:05:01.800Z  +0.016 s\n"
        "  cleaning   2026-12-02T13:05:11.034Z  +9.25 s\n"
        "  cleaned    2026-12-02T13:05:11.040Z  +9.256 s\n";
    if (strcmp(strbuf_str(&sb), want)) {
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&sb), want);
    }

    /* A migration waiting for its switch-over shows its deadline. */
    strbuf_clear(&sb);
    assert_int_equal(
        render("migration show 5",
               "{\"id\":5,\"phase\":\"prepared\","
               "\"started_unix_ms\":1796216701784,"
               "\"prepared_unix_ms\":1796216701790,"
               "\"prepare_deadline_unix_ms\":1796217301784}",
               1796216800000ull, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_non_null(strstr(strbuf_str(&sb),
                           "  deadline   2026-12-02T13:15:01.784Z  "
                           "+10 min 0 s (aborted then unless switched "
                           "over)\n"));
    strbuf_destroy(&sb);
}

/* Help speaks to the operator: no internal references (design sections,
 * invariants, seed or table numbers) anywhere in `mignet --help`. */
static void
test_help_words(void **state)
{
    static const char *const internal[] = {
        "seed 0", "Table 1", "DESIGN", "\xc2\xa7", "FIG.", "issue ",
    };
    size_t n;
    const struct cli_cmd *cmds = cli_commands(&n);
    struct strbuf sb;
    strbuf_init(&sb);
    cli_help(cmds, n, NULL, NULL, &sb);
    for (size_t i = 0; i < n; i++) {
        cli_help(cmds, n, NULL, &cmds[i], &sb);
    }
    for (size_t k = 0; k < sizeof internal / sizeof internal[0]; k++) {
        const char *hit = strstr(strbuf_str(&sb), internal[k]);
        if (hit) {
            fail_msg("help says '%s': ...%.60s", internal[k], hit);
        }
    }
    /* Invariant numbers: "(I3)". */
    for (const char *p = strstr(strbuf_str(&sb), "(I"); p;
         p = strstr(p + 1, "(I")) {
        if (p[2] >= '0' && p[2] <= '9') {
            fail_msg("help names an invariant: ...%.60s", p);
        }
    }
    strbuf_destroy(&sb);
}

/* The CLI refuses exactly what the API refuses: each command line is
 * paired with the body the API would get for the same values; the CLI's
 * builder and the controller's parser must agree on every pair. */
enum api_kind { API_NODE, API_VM, API_PATCH, API_MIGRATE, API_BINDING,
                API_ABORT, API_DRAIN, API_VSWITCH, API_VSWITCH_MIGRATE };

static bool
api_accepts(enum api_kind k, const char *body)
{
    struct rest_error e;
    size_t len = strlen(body);
    switch (k) {
    case API_NODE: {
        struct rest_node_req r;
        return rest_parse_node(body, len, &r, &e);
    }
    case API_VM: {
        struct rest_vm_req r;
        return rest_parse_vm_create(body, len, &r, &e);
    }
    case API_PATCH: {
        struct mn_config c = {0};
        return rest_parse_vm_patch(body, len, &c, NULL, &e);
    }
    case API_MIGRATE: {
        struct rest_migrate_req r;
        return rest_parse_migrate(body, len, &r, &e);
    }
    case API_BINDING: {
        struct rest_binding_req r;
        return rest_parse_binding(body, len, &r, &e);
    }
    case API_ABORT: {
        struct rest_abort_req r;
        return rest_parse_abort(body, len, &r, &e);
    }
    case API_DRAIN: {
        struct rest_drain_req r;
        bool ok = rest_parse_drain(body, len, &r, &e);
        rest_drain_req_destroy(&r);
        return ok;
    }
    case API_VSWITCH: {
        struct rest_vswitch_req r;
        bool ok = rest_parse_vswitch(body, len, &r, &e);
        if (ok) {
            rest_vswitch_req_destroy(&r);
        }
        return ok;
    }
    case API_VSWITCH_MIGRATE: {
        struct rest_vswitch_migrate_req r;
        bool ok = rest_parse_vswitch_migrate(body, len, &r, &e);
        if (ok) {
            rest_vswitch_migrate_req_destroy(&r);
        }
        return ok;
    }
    }
    return false;
}

static void
test_cli_equals_api(void **state)
{
#define NODE "node add n1 --address 198.18.0.1"
#define NODE_J "{\"id\":\"n1\",\"address\":\"198.18.0.1\""
#define VM "vm create vm1 --mac 02:00:00:00:00:01 --node n1"
#define VM_J "{\"id\":\"vm1\",\"mac\":\"02:00:00:00:00:01\",\"node\":\"n1\""
#define MIG "vm migrate vm1 --to n2"
#define MIG_J "{\"to\":\"n2\""
#define BND "binding set vm1 --ip 198.18.1.1"
#define BND_J "{\"ip\":\"198.18.1.1\""
#define VSW "vswitch create vs1 --tenant acme --vni 7 --controller "     \
            "tcp:127.0.0.1:1"
#define VSW_J "{\"id\":\"vs1\",\"tenant\":\"acme\",\"vni\":7,"          \
              "\"controller\":\"tcp:127.0.0.1:1\","
    static const struct {
        const char *line;
        enum api_kind kind;
        const char *body;
    } pairs[] = {
        {NODE, API_NODE, NODE_J "}"},
        {NODE " --refresh-ms 5", API_NODE, NODE_J ",\"refresh_ms\":5}"},
        {NODE " --refresh-ms 10", API_NODE, NODE_J ",\"refresh_ms\":10}"},
        {NODE " --refresh-ms 3600000", API_NODE,
         NODE_J ",\"refresh_ms\":3600000}"},
        {NODE " --refresh-ms 3600001", API_NODE,
         NODE_J ",\"refresh_ms\":3600001}"},
        {"node add n1 --address ::1", API_NODE,
         "{\"id\":\"n1\",\"address\":\"::1\"}"},
        {"node add n1 --address 300.1.1.1", API_NODE,
         "{\"id\":\"n1\",\"address\":\"300.1.1.1\"}"},
        {"node add n/1 --address 198.18.0.1", API_NODE,
         "{\"id\":\"n/1\",\"address\":\"198.18.0.1\"}"},
        {VM, API_VM, VM_J "}"}, /* no --vni, no --vlan */
        {VM " --vni 16777215", API_VM, VM_J ",\"vni\":16777215}"},
        {VM " --vni 16777216", API_VM, VM_J ",\"vni\":16777216}"},
        {VM " --vlan 4094", API_VM, VM_J ",\"vlan\":4094}"},
        {VM " --vlan 4095", API_VM, VM_J ",\"vlan\":4095}"},
        {VM " --port 4294967040", API_VM, VM_J ",\"port\":4294967040}"},
        {VM " --port 4294967041", API_VM, VM_J ",\"port\":4294967041}"},
        {VM " --ip 198.18.1.1", API_VM, VM_J ",\"ip\":\"198.18.1.1\"}"},
        {VM " --ip 224.0.0.1", API_VM, VM_J ",\"ip\":\"224.0.0.1\"}"},
        {VM " --ip 0.0.0.0", API_VM, VM_J ",\"ip\":\"0.0.0.0\"}"},
        {"vm create vm1 --mac 01:00:00:00:00:01 --node n1", API_VM,
         "{\"id\":\"vm1\",\"mac\":\"01:00:00:00:00:01\",\"node\":\"n1\"}"},
        {"vm create vm1 --mac 00:00:00:00:00:00 --node n1", API_VM,
         "{\"id\":\"vm1\",\"mac\":\"00:00:00:00:00:00\",\"node\":\"n1\"}"},
        {VM " --iface-id a/b", API_VM, VM_J ",\"iface_id\":\"a/b\"}"},
        {VM " --allow-duplicate", API_VM, VM_J ",\"allow_duplicate\":true}"},
        {"vm update vm1 --vlan 4095", API_PATCH, "{\"vlan\":4095}"},
        {"vm update vm1 --vlan 7", API_PATCH, "{\"vlan\":7}"},
        {"vm update vm1 --allow-duplicate", API_PATCH,
         "{\"allow_duplicate\":true}"},
        {MIG, API_MIGRATE, MIG_J "}"},
        {MIG " --memory-mb 16777216", API_MIGRATE,
         MIG_J ",\"memory_mb\":16777216}"},
        {MIG " --memory-mb 16777217", API_MIGRATE,
         MIG_J ",\"memory_mb\":16777217}"},
        {MIG " --memory-mb 1 --page-size 256", API_MIGRATE,
         MIG_J ",\"memory_mb\":1,\"page_size\":256}"},
        {MIG " --memory-mb 1 --page-size 6144", API_MIGRATE,
         MIG_J ",\"memory_mb\":1,\"page_size\":6144}"},
        {MIG " --memory-mb 1 --page-size 8192", API_MIGRATE,
         MIG_J ",\"memory_mb\":1,\"page_size\":8192}"},
        {MIG " --deadline-ms 100", API_MIGRATE, MIG_J ",\"deadline_ms\":100}"},
        {MIG " --memory-mb 1 --deadline-ms 86400001", API_MIGRATE,
         MIG_J ",\"memory_mb\":1,\"deadline_ms\":86400001}"},
        {MIG " --memory-mb 1 --dirty-pages-per-s 2000000000", API_MIGRATE,
         MIG_J ",\"memory_mb\":1,\"dirty_pages_per_s\":2000000000}"},
        {MIG " --target-cpu-free 1.5", API_MIGRATE,
         MIG_J ",\"target_cpu_free\":1.5}"},
        {MIG " --target-cpu-free 0.5", API_MIGRATE,
         MIG_J ",\"target_cpu_free\":0.5}"},
        {MIG " --strategy ecmp", API_MIGRATE, MIG_J ",\"strategy\":\"ecmp\"}"},
        {MIG " --strategy fastest", API_MIGRATE,
         MIG_J ",\"strategy\":\"fastest\"}"},
        {MIG " --switchover rarp", API_MIGRATE,
         MIG_J ",\"switchover\":\"rarp\"}"},
        {MIG " --switchover soon", API_MIGRATE,
         MIG_J ",\"switchover\":\"soon\"}"},
        {MIG " --switchover manual --prepare-deadline-ms 999", API_MIGRATE,
         MIG_J ",\"switchover\":\"manual\",\"prepare_deadline_ms\":999}"},
        {MIG " --switchover manual --prepare-deadline-ms 1000", API_MIGRATE,
         MIG_J ",\"switchover\":\"manual\",\"prepare_deadline_ms\":1000}"},
        {MIG " --prepare-deadline-ms 1000", API_MIGRATE,
         MIG_J ",\"prepare_deadline_ms\":1000}"},
        {"vm migrate vm1 --to n/2", API_MIGRATE, "{\"to\":\"n/2\"}"},
        {BND, API_BINDING, BND_J "}"},
        {BND " --lease 0", API_BINDING, BND_J ",\"lease\":0}"},
        {BND " --lease infinite", API_BINDING, BND_J ",\"lease\":\"infinite\"}"},
        {BND " --type sometimes", API_BINDING, BND_J ",\"type\":\"sometimes\"}"},
        {BND " --vlan 4095", API_BINDING, BND_J ",\"vlan\":4095}"},
        {BND " --port-security trust", API_BINDING,
         BND_J ",\"port_security\":\"trust\"}"},
        {BND " --server 198.18.1.300", API_BINDING,
         BND_J ",\"server\":\"198.18.1.300\"}"},
        {"binding set vm1 --ip 127.0.0.1", API_BINDING,
         "{\"ip\":\"127.0.0.1\"}"},
        {"node drain n1 --targets vm1=n/2", API_DRAIN,
         "{\"targets\":{\"vm1\":\"n/2\"}}"},
        {"node drain n1 --targets vm1=n2", API_DRAIN,
         "{\"targets\":{\"vm1\":\"n2\"}}"},
        {"migration abort 3 --reason because", API_ABORT,
         "{\"reason\":\"because\"}"},
        {VSW " --port vm1=1", API_VSWITCH, VSW_J "\"ports\":{\"vm1\":1}}"},
        {VSW " --port vm1=4294967040", API_VSWITCH,
         VSW_J "\"ports\":{\"vm1\":4294967040}}"},
        {VSW " --port vm1=4294967041", API_VSWITCH,
         VSW_J "\"ports\":{\"vm1\":4294967041}}"},
        {VSW " --port vm1=0", API_VSWITCH, VSW_J "\"ports\":{\"vm1\":0}}"},
        {VSW " --port vm1=1 --port vm2=1", API_VSWITCH,
         VSW_J "\"ports\":{\"vm1\":1,\"vm2\":1}}"},
        {VSW " --port vm1=1 --port vm1=2", API_VSWITCH,
         VSW_J "\"ports\":{\"vm1\":1,\"vm1\":2}}"},
        {VSW " --port v/1=1", API_VSWITCH, VSW_J "\"ports\":{\"v/1\":1}}"},
        {VSW " --port vm1=1 --datapath-id 9223372036854775807", API_VSWITCH,
         VSW_J "\"datapath_id\":9223372036854775807,"
         "\"ports\":{\"vm1\":1}}"},
        {VSW " --port vm1=1 --datapath-id 0", API_VSWITCH,
         VSW_J "\"datapath_id\":0,\"ports\":{\"vm1\":1}}"},
        {"vswitch create vs1 --tenant acme --vni 0 --controller "
         "tcp:127.0.0.1:1 --port vm1=1", API_VSWITCH,
         "{\"id\":\"vs1\",\"tenant\":\"acme\",\"vni\":0,"
         "\"controller\":\"tcp:127.0.0.1:1\",\"ports\":{\"vm1\":1}}"},
        {"vswitch create vs1 --tenant acme --vni 16777216 --controller "
         "tcp:127.0.0.1:1 --port vm1=1", API_VSWITCH,
         "{\"id\":\"vs1\",\"tenant\":\"acme\",\"vni\":16777216,"
         "\"controller\":\"tcp:127.0.0.1:1\",\"ports\":{\"vm1\":1}}"},
        {"vswitch create vs1 --tenant a/b --vni 7 --controller "
         "tcp:127.0.0.1:1 --port vm1=1", API_VSWITCH,
         "{\"id\":\"vs1\",\"tenant\":\"a/b\",\"vni\":7,"
         "\"controller\":\"tcp:127.0.0.1:1\",\"ports\":{\"vm1\":1}}"},
        {"vswitch migrate vs1 vm1=n2", API_VSWITCH_MIGRATE,
         "{\"moves\":{\"vm1\":\"n2\"}}"},
        {"vswitch migrate vs1 vm1=n/2", API_VSWITCH_MIGRATE,
         "{\"moves\":{\"vm1\":\"n/2\"}}"},
        {"vswitch migrate vs1 vm1=n2 vm1=n3", API_VSWITCH_MIGRATE,
         "{\"moves\":{\"vm1\":\"n2\",\"vm1\":\"n3\"}}"},
        {"vswitch migrate vs1 vm1=n2 --switchover lossless", API_VSWITCH_MIGRATE,
         "{\"moves\":{\"vm1\":\"n2\"},\"switchover\":\"lossless\"}"},
        {"vswitch migrate vs1 vm1=n2 --switchover soon", API_VSWITCH_MIGRATE,
         "{\"moves\":{\"vm1\":\"n2\"},\"switchover\":\"soon\"}"},
        {"vswitch migrate vs1 vm1=n2 --prepare-deadline-ms 1000",
         API_VSWITCH_MIGRATE,
         "{\"moves\":{\"vm1\":\"n2\"},\"prepare_deadline_ms\":1000}"},
        {"vswitch migrate vs1 vm1=n2 --switchover rarp "
         "--prepare-deadline-ms 999", API_VSWITCH_MIGRATE,
         "{\"moves\":{\"vm1\":\"n2\"},\"switchover\":\"rarp\","
         "\"prepare_deadline_ms\":999}"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        struct cli_request r;
        char err[256] = "";
        bool cli = build_line(pairs[i].line, &r, err, sizeof err);
        cli_request_destroy(&r);
        bool api = api_accepts(pairs[i].kind, pairs[i].body);
        if (cli != api) {
            fail_msg("'%s': the CLI %s it (%s), the API %s %s",
                     pairs[i].line, cli ? "accepts" : "refuses", err,
                     api ? "accepts" : "refuses", pairs[i].body);
        }
    }
#undef NODE
#undef NODE_J
#undef VM
#undef VM_J
#undef MIG
#undef MIG_J
#undef BND
#undef BND_J
#undef VSW
#undef VSW_J
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
        "ID  ADDRESS     CONNECTED  STATE     VMS  REFRESH  OBSERVED  "
        "MAP_VERSION\n"
        "n1  198.18.0.1  yes        draining    2    1.0 s         -  "
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
                        "vm1  n1        2  delete  "
                        "2026-01-01T00:00:10.250Z (in 2.2 s)\n"
                        "vm2  n3        1  delete  "
                        "2026-01-01T00:00:07.000Z (1.0 s ago)\n");

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
                        "2026-01-01T00:00:10.250Z (in 2.2 s)\n");

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
    /* Durations lose their "_ms" and show in seconds. */
    assert_string_equal(strbuf_str(&sb), "id:              7\n"
                                         "vm:              vm1\n"
                                         "phase:           relaying\n"
                                         "times.started:   0.005 s\n"
                                         "times.cleaned:   -\n"
                                         "released_early:  no\n");

    strbuf_clear(&sb);
    assert_int_equal(render("vm migrate vm1 --to n2",
                            "{\"migration\":12,\"epoch\":4,"
                            "\"delay_ms\":4500}",
                            0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_non_null(
        strstr(strbuf_str(&sb), "migration 12: vm1 -> n2 at epoch 4\n"));
    /* The message promises no deadline the core does not keep: the delay
     * counts from the confirmed switch-over, and silence can hold it. */
    assert_null(strstr(strbuf_str(&sb), "within"));
    assert_non_null(strstr(strbuf_str(&sb),
                           "deletion delay of\n4.5 s counted from the "
                           "switch-over once both nodes confirmed it (or "
                           "the\nprepare timeout passed)"));
    assert_non_null(strstr(strbuf_str(&sb), "later\nwhile a node stays "
                                            "silent"));
    assert_lines_fit(strbuf_str(&sb));

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
        "the source relays until its copy is deleted, after the deletion "
        "delay of\n"
        "0.9 s counted from the switch-over once both nodes confirmed it "
        "(or the\n"
        "prepare timeout passed); earlier once every node has the new "
        "location, later\n"
        "while a node stays silent (at most to the controller's delay "
        "ceiling);\n"
        "'mignet migration show 3' says when it was cleaned\n"
        "plan: dr route h4 -> h1, 16 MiB, 200 dirty pages/s of 4096 B, "
        "deadline 4500 ms\n"
        "bandwidth: nominal (the links')\n"
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


/* Transfer learning: what a report taught, the lists, and a plan that
 * used a learned bandwidth. */
static void
test_render_transfers(void **state)
{
    struct strbuf sb;
    char err[256];
    strbuf_init(&sb);
    static const char est[] =
        "{\"bandwidth_source\":\"nominal\",\"learned_transfers\":0,"
        "\"bandwidth_bps\":1e9,\"total_ms\":1110.4,\"error_ratio\":0.899}";
    static const char tr[] =
        "{\"id\":7,\"from\":\"h1\",\"to\":\"h4\",\"mode\":\"en\","
        "\"transport\":\"tcp\",\"paths\":1,\"mem_mb\":128,"
        "\"total_ms\":11000,\"goodput_Bps\":12.5e6,\"estimate_before\":";
    static const char pair[] =
        "{\"from\":\"h1\",\"to\":\"h4\",\"transfers\":1,"
        "\"bandwidth_bps\":1e8,\"nominal_bps\":1e9}";
    char reply[1024];
    snprintf(reply, sizeof reply,
             "{\"transfer\":%s%s},\"estimate_after\":{\"bandwidth_source\":"
             "\"learned\",\"learned_transfers\":1,\"bandwidth_bps\":1e8,"
             "\"total_ms\":10950,\"error_ratio\":0.0046},\"pair\":%s}",
             tr, est, pair);
    assert_int_equal(render("transfer report r.json --from h1 --to h4",
                            reply, 0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    const char *want =
        "transfer 7 h1 -> h4: 11000 ms, goodput 100.0 Mbit/s\n"
        "estimate before: nominal 1.0 Gbit/s: 1110 ms (error 89.9 %)\n"
        "estimate now:    learned 100.0 Mbit/s: 10950 ms (error 0.5 %)\n"
        "pair h1 -> h4: learned 100.0 Mbit/s a path from 1 transfer(s), "
        "nominal 1.0 Gbit/s\n";
    if (strcmp(strbuf_str(&sb), want)) {
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&sb), want);
    }

    strbuf_clear(&sb);
    snprintf(reply, sizeof reply, "{\"transfers\":[%snull}],\"next\":null}",
             tr);
    assert_int_equal(render("transfer list", reply, 0, &sb, err,
                            sizeof err),
                     CLI_EXIT_OK);
    want = "ID  PAIR      MODE       MEM_MB     TOTAL       GOODPUT  "
           "ESTIMATE_BEFORE\n"
           " 7  h1 -> h4  en/tcp x1     128  11000 ms  100.0 Mbit/s  -\n";
    if (strcmp(strbuf_str(&sb), want)) {
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&sb), want);
    }

    strbuf_clear(&sb);
    snprintf(reply, sizeof reply, "{\"pairs\":[%s],\"next\":null}", pair);
    assert_int_equal(render("transfer pairs --node h1", reply, 0, &sb, err,
                            sizeof err),
                     CLI_EXIT_OK);
    want = "FROM  TO  TRANSFERS       LEARNED     NOMINAL\n"
           "h1    h4          1  100.0 Mbit/s  1.0 Gbit/s\n";
    if (strcmp(strbuf_str(&sb), want)) {
        fail_msg("got:\n%s\nwant:\n%s", strbuf_str(&sb), want);
    }
    /* The wrong shape is refused. */
    strbuf_clear(&sb);
    assert_int_equal(render("transfer pairs", "{\"pairs\":1}", 0, &sb, err,
                            sizeof err),
                     CLI_EXIT_BAD_REPLY);
    assert_int_equal(render("transfer report r.json --from a --to b",
                            "{\"transfer\":{}}", 0, &sb, err, sizeof err),
                     CLI_EXIT_BAD_REPLY);

    /* A plan that used a learned bandwidth says so. */
    strbuf_clear(&sb);
    assert_int_equal(render("migration show 3",
                            "{\"id\":3,\"plan\":{\"strategy\":\"single\","
                            "\"from_host\":\"h4\",\"to_host\":\"h1\","
                            "\"memory_mb\":128,\"dirty_pages_per_s\":0,"
                            "\"page_size\":4096,"
                            "\"bandwidth_source\":\"learned\","
                            "\"learned_transfers\":3,"
                            "\"learned_bandwidth_Bps\":12.5e6,"
                            "\"paths\":[],\"steps\":[]}}",
                            0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_non_null(strstr(strbuf_str(&sb),
                           "\nbandwidth: learned, 100.0 Mbit/s a path from "
                           "3 transfer(s)\n"));
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
    {"vswitch list", "{\"vswitches\":5}"},
    {"vswitch list", "[1]"},
    {"vswitch show vs1", "[]"},
    {"vswitch show vs1", "{\"id\":\"vs1\",\"ports\":[3]}"},
    {"vswitch flows vs1", "{\"id\":\"vs1\"}"},
    {"vswitch flows vs1", "{\"id\":\"vs1\",\"flows\":[\"x\"]}"},
    {"vswitch migrate vs1 vm1=n2", "{\"vswitch\":\"vs1\"}"},
    {"vswitch migrate vs1 vm1=n2",
     "{\"migrations\":{\"vm1\":\"eleven\"}}"},
    {"vm show vm1", "[]"},
    {"vm migrate vm1 --to n2", "{\"migration\":1,\"epoch\":2}"},
    {"vm migrate vm1 --to n2", "{\"migration\":\"1\",\"epoch\":2,"
                               "\"delay_ms\":3}"},
    {"map", "{\"entries\":[]}"},
    {"tasks", NULL},
};

/* Repeatable options and trailing arguments: every value kept in order,
 * and no more than a virtual switch can hold. */
static void
test_parse_repeats(void **state)
{
    size_t n;
    const struct cli_cmd *cmds = cli_commands(&n);
    static char vals[CLI_MAX_REPEAT + 2][16];
    char *argv[4 + 2 * (CLI_MAX_REPEAT + 2)];
    struct cli_parsed p;
    char err[256];

    for (int ports = CLI_MAX_REPEAT; ports <= CLI_MAX_REPEAT + 1; ports++) {
        int argc = 0;
        argv[argc++] = "mignet";
        argv[argc++] = "vswitch";
        argv[argc++] = "create";
        argv[argc++] = "vs1";
        for (int i = 0; i < ports; i++) {
            snprintf(vals[i], sizeof vals[i], "vm%d=%d", i, i + 1);
            argv[argc++] = "--port";
            argv[argc++] = vals[i];
        }
        enum cli_exit rc = cli_parse(cmds, n, argc, argv, &p, err,
                                     sizeof err);
        if (ports > CLI_MAX_REPEAT) {
            assert_int_equal(rc, CLI_EXIT_USAGE);
            assert_non_null(strstr(err, "--port given more than 128 times"));
            continue;
        }
        /* Parsed; only the required options are missing. */
        assert_int_equal(rc, CLI_EXIT_USAGE);
        assert_non_null(strstr(err, "missing --tenant"));
        assert_int_equal(p.n_rep, ports);
        assert_string_equal(cli_opt_nth(&p, "port", 0), "vm0=1");
        assert_string_equal(cli_opt_nth(&p, "port", 127), "vm127=128");
        assert_null(cli_opt_nth(&p, "port", 128));
        assert_null(cli_opt_nth(&p, "tenant", 0));
        assert_string_equal(cli_opt_value(&p, "port"), "vm0=1");
    }

    for (int moves = CLI_MAX_POS - 1; moves <= CLI_MAX_POS; moves++) {
        int argc = 0;
        argv[argc++] = "mignet";
        argv[argc++] = "vswitch";
        argv[argc++] = "migrate";
        argv[argc++] = "vs1";
        for (int i = 0; i < moves; i++) {
            snprintf(vals[i], sizeof vals[i], "vm%d=n%d", i, i % 3);
            argv[argc++] = vals[i];
        }
        enum cli_exit rc = cli_parse(cmds, n, argc, argv, &p, err,
                                     sizeof err);
        if (moves >= CLI_MAX_POS) {
            assert_int_equal(rc, CLI_EXIT_USAGE);
            assert_non_null(strstr(err, "at most 129 arguments"));
            continue;
        }
        assert_int_equal(rc, CLI_EXIT_OK);
        assert_int_equal(p.n_pos, CLI_MAX_POS);
        struct cli_request r;
        cli_request_init(&r);
        assert_true(p.cmd->build(&p, &r, err, sizeof err));
        json_t *body = json_loads(r.body, 0, NULL);
        assert_int_equal(json_object_size(json_object_get(body, "moves")),
                         moves);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(body, "moves"), "vm127")),
                            "n1");
        json_decref(body);
        cli_request_destroy(&r);
    }
}

/* `mignet vswitch ...` answers (vnet_switch_to_json() plus the REST
 * layer's "ensemble" and "controller_connected"): a switch, its ports and
 * counters, its flows in the tenant's terms, an ensemble migration. */
static void
test_render_vswitch(void **state)
{
    struct strbuf sb;
    char err[256];
    strbuf_init(&sb);
#define SW_J                                                                 \
    "{\"id\":\"vs1\",\"tenant\":\"acme\",\"vni\":100,"                     \
    "\"datapath_id\":\"0x0000000000000064\","                              \
    "\"controller\":\"tcp:127.0.0.1:6653\",\"connected\":true,"            \
    "\"active\":2,\"split\":false,\"update_pending\":false,\"n_flows\":2,"  \
    "\"nodes\":[\"n1\",\"n2\"],"                                           \
    "\"ports\":[{\"port\":1,\"vm\":\"vm1\",\"mac\":\"02:00:00:00:00:01\","   \
    "\"key\":15728640,\"node\":\"n1\",\"rx_packets\":10,\"rx_bytes\":980,"  \
    "\"tx_packets\":7,\"tx_bytes\":686},"                                  \
    "{\"port\":2,\"vm\":\"vm2\",\"mac\":\"02:00:00:00:00:02\","             \
    "\"key\":15728641,\"node\":null,\"rx_packets\":0,\"rx_bytes\":0,"       \
    "\"tx_packets\":12345,\"tx_bytes\":1209810}],"                         \
    "\"ensemble\":null,\"controller_connected\":true"
    assert_int_equal(render("vswitch show vs1", SW_J "}", 0, &sb, err,
                            sizeof err),
                     CLI_EXIT_OK);
    assert_string_equal(
        strbuf_str(&sb),
        "id:                    vs1\n"
        "tenant:                acme\n"
        "vni:                   100\n"
        "datapath_id:           0x0000000000000064\n"
        "controller:            tcp:127.0.0.1:6653\n"
        "connected:             yes\n"
        "active:                2\n"
        "split:                 no\n"
        "update_pending:        no\n"
        "n_flows:               2\n"
        "nodes:                 n1, n2\n"
        "ensemble:              -\n"
        "controller_connected:  yes\n"
        "ports:\n"
        "PORT  VM   MAC                NODE  KEY       RX_PACKETS  RX_BYTES  "
        "TX_PACKETS  TX_BYTES\n"
        "   1  vm1  02:00:00:00:00:01  n1    0xf00000          10       980  "
        "         7       686\n"
        "   2  vm2  02:00:00:00:00:02  -     0xf00001           0         0  "
        "     12345   1209810\n");

    /* An integer datapath id is also shown in hexadecimal. */
    strbuf_clear(&sb);
    assert_int_equal(render("vswitch show vs1",
                            "{\"id\":\"vs1\",\"datapath_id\":31,"
                            "\"ports\":[]}", 0, &sb, err, sizeof err),
                     CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb),
                        "id:           vs1\n"
                        "datapath_id:  0x000000000000001f (31)\n"
                        "ports: -\n");

    strbuf_clear(&sb);
    assert_int_equal(
        render("vswitch list",
               "{\"vswitches\":[" SW_J "},{\"id\":\"vs2\","
               "\"tenant\":\"b\",\"vni\":7,\"controller\":\"unix:/c\","
               "\"controller_connected\":false,\"ports\":[],\"n_flows\":0,"
               "\"active\":1,\"nodes\":[],\"ensemble\":[5,6]}]}",
               0, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_string_equal(
        strbuf_str(&sb),
        "ID   TENANT  VNI  CONTROLLER          CONNECTED  PORTS  FLOWS  "
        "VERSION  NODES   ENSEMBLE\n"
        "vs1  acme    100  tcp:127.0.0.1:6653  yes            2      2  "
        "      2  n1, n2  -\n"
        "vs2  b         7  unix:/c             no             0      0  "
        "      1  -       5, 6\n");

    strbuf_clear(&sb);
    assert_int_equal(
        render("vswitch flows vs1",
               SW_J ",\"split\":true,\"flows\":["
               "{\"id\":1,\"priority\":100,\"cookie\":\"0x00000000000000ff\","
               "\"match\":\"in_port=1,dl_dst=02:00:00:00:00:02\","
               "\"actions\":\"actions=output:2\","
               "\"packets\":7,\"bytes\":686,\"duration_ms\":65000,"
               "\"idle_timeout\":10,\"hard_timeout\":0},"
               "{\"id\":2,\"priority\":0,\"cookie\":\"0x0000000000000000\","
               "\"match\":\"any\",\"actions\":\"actions=CONTROLLER:128\","
               "\"packets\":3,\"bytes\":294,\"duration_ms\":900},"
               "{\"id\":3,\"priority\":5,\"match\":\"in_port=2\","
               "\"actions\":\"actions=drop\",\"packets\":0,\"bytes\":0}]}",
               0, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_string_equal(
        strbuf_str(&sb),
        "vswitch vs1: 3 flows, version 2, split (ensemble migration)\n"
        "PRIORITY  MATCH                               ACTIONS         "
        "PACKETS  BYTES        AGE  IDLE  HARD  COOKIE\n"
        "     100  in_port=1,dl_dst=02:00:00:00:00:02  output:2        "
        "      7    686  1 min 5 s  10 s     -  0x00000000000000ff\n"
        "       0  any                                 CONTROLLER:128  "
        "      3    294      0.9 s     -     -  0x0000000000000000\n"
        "       5  in_port=2                           drop            "
        "      0      0          -     -     -  -\n");

    strbuf_clear(&sb);
    assert_int_equal(
        render("vswitch migrate vs1 vm1=n2 vm2=n3 --switchover manual",
               "{\"vswitch\":\"vs1\",\"migrations\":{\"vm1\":11,"
               "\"vm2\":12}}", 0, &sb, err, sizeof err),
        CLI_EXIT_OK);
    assert_string_equal(
        strbuf_str(&sb),
        "ensemble migration of vswitch vs1: 2 VMs\n"
        "VM   TO  MIGRATION\n"
        "vm1  n2         11\n"
        "vm2  n3         12\n"
        "each destination is being prepared (inactive, switch-over "
        "manual);\n'mignet migration switchover ID' switches one over\n"
        "the switch stays split until every migration is over;\n"
        "'mignet vswitch show vs1' follows it\n");

    strbuf_clear(&sb);
    assert_int_equal(render("vswitch delete vs1", NULL, 0, &sb, err,
                            sizeof err),
                     CLI_EXIT_OK);
    assert_string_equal(strbuf_str(&sb), "deleted vswitch vs1\n");
#undef SW_J
    strbuf_destroy(&sb);
}

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
        cmocka_unit_test(test_render_transfers),
        cmocka_unit_test(test_render_fabric),
        cmocka_unit_test(test_render_bad_replies),
        cmocka_unit_test(test_parse_repeats),
        cmocka_unit_test(test_render_vswitch),
        cmocka_unit_test(test_format_error),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_migration_timeline),
        cmocka_unit_test(test_help_words),
        cmocka_unit_test(test_cli_equals_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
