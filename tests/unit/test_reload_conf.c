/* test_reload_conf.c: what SIGHUP's reloads compare and read.
 *
 * options_diff() must name exactly the mignetd settings whose values
 * differ (a reload applies some and logs the rest), and agent_conf_read()
 * must turn mignet-agent's config file into "--name=value" arguments,
 * refusing an unknown name, a line without '=' or an over-long line with
 * the file and line in the message and nothing kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_conf.h"
#include "controller/options.h"

/* Parses 'text' as a config file on top of the defaults into '*o'. */
static void
parse_conf(struct mignetd_options *o, const char *text)
{
    char err[256] = "";
    options_init(o);
    assert_true(options_apply_text(o, text, "t.conf", err, sizeof err));
    assert_true(options_finish(o, err, sizeof err));
}

static void
test_options_diff(void **state)
{
    (void) state;
    struct mignetd_options *a = calloc(1, sizeof *a);
    struct mignetd_options *b = calloc(1, sizeof *b);
    const char *names[16];
    size_t n = 99;

    parse_conf(a, "log-level = info\nheartbeat-ms = 1000\n");
    parse_conf(b, "log-level = info\nheartbeat-ms = 1000\n");
    options_diff(a, b, names, &n, 16);
    assert_int_equal(n, 0);

    parse_conf(b, "log-level = debug\nheartbeat-ms = 2000\n"
                  "api-tokens = /etc/t\ninsecure = true\n"
                  "delay-floor-ms = 7\nfabric-switch = s1=tcp:127.0.0.1:1\n");
    options_diff(a, b, names, &n, 16);
    assert_int_equal(n, 6);
    /* In --help order. */
    assert_string_equal(names[0], "log-level");
    assert_string_equal(names[1], "api-tokens");
    assert_string_equal(names[2], "insecure");
    assert_string_equal(names[3], "heartbeat-ms");
    assert_string_equal(names[4], "fabric-switch");
    assert_string_equal(names[5], "delay-floor-ms");

    /* Each log level on its own. */
    parse_conf(b, "log-level = info\nheartbeat-ms = 1000\n"
                  "access-log-level = info\n");
    options_diff(a, b, names, &n, 16);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "access-log-level");
    parse_conf(b, "log-level = debug\nheartbeat-ms = 1000\n"
                  "access-log-level = info\n");
    options_diff(a, b, names, &n, 16);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "log-level");
    assert_string_equal(names[1], "access-log-level");

    parse_conf(b, "log-level = debug\nheartbeat-ms = 2000\n"
                  "api-tokens = /etc/t\ninsecure = true\n"
                  "delay-floor-ms = 7\nfabric-switch = s1=tcp:127.0.0.1:1\n");
    /* At most 'max' names. */
    options_diff(a, b, names, &n, 2);
    assert_int_equal(n, 2);
    free(a);
    free(b);
}

static char path[] = "/tmp/mignet-test-agent-conf-XXXXXX";

static void
write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool
known(const char *name)
{
    return !strcmp(name, "node") || !strcmp(name, "log-level")
           || !strcmp(name, "refresh-ms");
}

static void
test_agent_conf(void **state)
{
    (void) state;
    struct agent_conf c;
    char err[256];
    write_file("# the agent\n\n  node = n1  \nlog_level=\"debug\"\n"
               "refresh-ms = 2000\nnode = n2\n");
    assert_int_equal(agent_conf_read(path, known, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.args[0], "--node=n1");
    assert_string_equal(c.args[1], "--log-level=debug");
    assert_string_equal(c.names[1], "log-level");
    assert_string_equal(agent_conf_get(&c, "node"), "n2"); /* the last */
    assert_null(agent_conf_get(&c, "ofp"));
    agent_conf_destroy(&c);

    write_file("node = n1\nbogus = 1\n");
    assert_int_not_equal(agent_conf_read(path, known, &c, err, sizeof err),
                         0);
    assert_non_null(strstr(err, ":2: unknown setting 'bogus'"));
    assert_int_equal(c.n, 0);

    write_file("node n1\n");
    assert_int_not_equal(agent_conf_read(path, known, &c, err, sizeof err),
                         0);
    assert_non_null(strstr(err, ":1: expected 'name = value'"));

    char *big = malloc(AGENT_CONF_LINE_MAX + 64);
    memset(big, 'x', AGENT_CONF_LINE_MAX + 62);
    memcpy(big, "node = ", 7);
    big[AGENT_CONF_LINE_MAX + 62] = '\0';
    write_file(big);
    free(big);
    assert_int_not_equal(agent_conf_read(path, known, &c, err, sizeof err),
                         0);
    assert_non_null(strstr(err, ":1: line too long"));

    unlink(path);
    assert_int_not_equal(agent_conf_read(path, known, &c, err, sizeof err),
                         0);
    agent_conf_destroy(NULL);
}

static int
setup(void **state)
{
    (void) state;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_diff),
        cmocka_unit_test(test_agent_conf),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
