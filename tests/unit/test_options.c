/* test_options.c: mignetd's flags and config file.
 *
 * Flags must win over the file whatever their order, core settings must
 * apply on top of the chosen strategy, and every bad setting must be an
 * error naming where it came from.  Config files live in a temporary
 * directory removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/options.h"
#include "mignet/etcd.h"

static char tmpdir[256];
static char conf[320];

static int
setup(void **state)
{
    (void) state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/mignet-opt-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        return -1;
    }
    snprintf(conf, sizeof conf, "%s/mignetd.conf", tmpdir);
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    unlink(conf);
    return rmdir(tmpdir);
}

static void
write_conf(const char *text)
{
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Runs options_parse on a NULL-terminated argument list. */
static enum options_result
parse(struct mignetd_options *o, char *err, size_t errlen, ...)
{
    char *argv[32] = {"mignetd"};
    int argc = 1;
    va_list ap;
    va_start(ap, errlen);
    for (char *a; (a = va_arg(ap, char *)) && argc < 31;) {
        argv[argc++] = a;
    }
    va_end(ap);
    FILE *out = fopen("/dev/null", "w");
    err[0] = '\0';
    enum options_result r = options_parse(o, argc, argv, out, err, errlen);
    fclose(out);
    return r;
}

static void
test_defaults(void **state)
{
    (void) state;
    struct mignetd_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, NULL), OPTIONS_RUN);
    assert_string_equal(o.listen, "127.0.0.1:7480");
    assert_string_equal(o.agent_listen, "127.0.0.1:7481");
    assert_string_equal(o.strategy, "mignet");
    assert_int_equal(o.log_level, LOG_LEVEL_INFO);
    struct core_config def;
    core_config_default(&def);
    assert_memory_equal(&o.core, &def, sizeof def);
}

static void
test_flags(void **state)
{
    (void) state;
    struct mignetd_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, "--listen", "127.0.0.1:0",
                           "--agent-listen=[::1]:9000", "--state-dir",
                           "/tmp/x", "--log-level", "debug",
                           "--delay-floor-ms", "2500", "--heartbeat-ms=250",
                           "--push-interval-ms", "0", NULL),
                     OPTIONS_RUN);
    assert_string_equal(o.listen, "127.0.0.1:0");
    assert_string_equal(o.agent_listen, "[::1]:9000");
    assert_string_equal(o.state_dir, "/tmp/x");
    assert_int_equal(o.log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(o.core.delay_floor_ms, 2500);
    assert_int_equal(o.heartbeat_ms, 250);
    assert_int_equal(o.push_interval_ms, 0);
    assert_int_equal(parse(&o, err, sizeof err, NULL), OPTIONS_RUN);
    assert_int_equal(o.push_interval_ms, 10); /* the default */
    assert_false(o.accept_store);
    /* --accept-store takes no value: the next flag is still read. */
    assert_int_equal(parse(&o, err, sizeof err, "--accept-store",
                           "--listen", "127.0.0.1:1", NULL),
                     OPTIONS_RUN);
    assert_true(o.accept_store);
    assert_string_equal(o.listen, "127.0.0.1:1");

    static const char *const bad[][3] = {
        {"--colour", "red", "unknown option"},
        {"--listen", NULL, "needs a value"},
        {"--listen", "7480", "not ADDR:PORT"},
        {"--listen", "127.0.0.1:65536", "not ADDR:PORT"},
        {"--log-level", "chatty", "unknown log level"},
        {"--strategy", "magic", "unknown strategy"},
        {"--heartbeat-ms", "10", "not an integer in"},
        {"--push-interval-ms", "3600001", "not an integer in"},
        {"--delay-floor-ms", "-1", "not an integer in"},
        {"--delay-floor-ms", "12abc", "not an integer in"},
        {"--state_dir", "/x", "unknown option"},
        {"stray", NULL, "unexpected argument"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum options_result r = parse(&o, err, sizeof err, bad[i][0],
                                      bad[i][1], NULL);
        if (r != OPTIONS_ERROR || !strstr(err, bad[i][2])) {
            fail_msg("%s %s: result %d err '%s', want '%s'", bad[i][0],
                     bad[i][1] ? bad[i][1] : "", r, err, bad[i][2]);
        }
    }
    assert_int_equal(parse(&o, err, sizeof err, "--help", NULL),
                     OPTIONS_EXIT);
    assert_int_equal(parse(&o, err, sizeof err, "--version", NULL),
                     OPTIONS_EXIT);
}

/* The store backend (docs/ha.md): flags and the config file. */
static void
test_store(void **state)
{
    (void) state;
    struct mignetd_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, NULL), OPTIONS_RUN);
    assert_string_equal(o.store, "sqlite");
    assert_false(options_store_is_etcd(&o));
    assert_string_equal(o.store_prefix, "/mignet");
    assert_int_equal(o.store_max_txn_ops, 128);
    assert_int_equal(parse(&o, err, sizeof err, "--store",
                           "etcd://198.18.0.1:2379,[::1]:2379,e3:2379",
                           "--store-prefix=/prod/mignet",
                           "--store-max-txn-ops", "10000", NULL),
                     OPTIONS_RUN);
    assert_true(options_store_is_etcd(&o));
    assert_string_equal(o.store, "etcd://198.18.0.1:2379,[::1]:2379,e3:2379");
    assert_string_equal(o.store_prefix, "/prod/mignet");
    assert_int_equal(o.store_max_txn_ops, 10000);
    assert_string_equal(o.replica, "");
    assert_int_equal(o.lease_ttl_s, 3);
    assert_int_equal(parse(&o, err, sizeof err, "--store", "etcd://e1:2379",
                           "--replica", "r2", "--lease-ttl-s", "5",
                           "--advertise-agents", "198.18.0.2:7481",
                           "--advertise-rest", "https://c2:7480", NULL),
                     OPTIONS_RUN);
    assert_string_equal(o.replica, "r2");
    assert_int_equal(o.lease_ttl_s, 5);
    assert_string_equal(o.advertise_agents, "198.18.0.2:7481");
    assert_string_equal(o.advertise_rest, "https://c2:7480");
    assert_true(options_apply_text(&o, "store = sqlite\n"
                                   "store_prefix = /x\n", "f.conf", err,
                                   sizeof err));
    assert_false(options_store_is_etcd(&o));
    assert_string_equal(o.store_prefix, "/x");

    static const char *const bad[][3] = {
        {"--store", "etcd://", "not sqlite or etcd://"},
        {"--store", "etcd://h", "not sqlite or etcd://"},
        {"--store", "etcd://h:0", "not sqlite or etcd://"},
        {"--store", "etcd://h:1,", "not sqlite or etcd://"},
        {"--store", "h:2379", "not sqlite or etcd://"},
        {"--store", "postgres", "not sqlite or etcd://"},
        {"--store-prefix", "mignet", "not a key prefix"},
        {"--store-prefix", "/", "not a key prefix"},
        {"--store-prefix", "/a/", "not a key prefix"},
        {"--store-prefix", "/a//b", "not a key prefix"},
        {"--store-prefix", "/a b", "not a key prefix"},
        {"--store-max-txn-ops", "0", "not an integer in"},
        {"--replica", "r1", "replica needs store etcd://"},
        {"--lease-ttl-s", "1", "not an integer in 2..60"},
        {"--lease-ttl-s", "61", "not an integer in 2..60"},
        {"--advertise-agents", "nohostport", "is not ADDR:PORT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum options_result r = parse(&o, err, sizeof err, bad[i][0],
                                      bad[i][1], NULL);
        if (r != OPTIONS_ERROR || !strstr(err, bad[i][2])) {
            fail_msg("%s %s: result %d err '%s', want '%s'", bad[i][0],
                     bad[i][1], r, err, bad[i][2]);
        }
    }
}

/* TLS to etcd (docs/ha.md): the three files, from flags or the config
 * file, and every combination that cannot work refused with its reason.
 * (Whether the files load is etcd_client_create's part: at start.) */
static void
test_store_tls(void **state)
{
    (void) state;
    struct mignetd_options o;
    struct etcd_tls buf;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, "--store", "etcd://e1:2379",
                           NULL),
                     OPTIONS_RUN);
    assert_null(options_store_tls(&o, &buf)); /* plain http */
    assert_int_equal(parse(&o, err, sizeof err, "--store", "etcd://e1:2379",
                           "--store-cacert", "/etc/ca.pem", NULL),
                     OPTIONS_RUN);
    memset(&buf, 0xa5, sizeof buf);
    assert_ptr_equal(options_store_tls(&o, &buf), &buf);
    assert_string_equal(buf.cacert, "/etc/ca.pem");
    assert_null(buf.cert);
    assert_null(buf.key);

    /* The file gives all three; a flag wins over its line. */
    write_conf("store = etcd://e1:2379\n"
               "store-cacert = /f/ca.pem\n"
               "store-cert = /f/c.pem\n"
               "store-key = \"/f/c.key\"\n");
    assert_int_equal(parse(&o, err, sizeof err, "--config", conf,
                           "--store-cert", "/flag/c.pem", NULL),
                     OPTIONS_RUN);
    assert_ptr_equal(options_store_tls(&o, &buf), &buf);
    assert_string_equal(buf.cacert, "/f/ca.pem");
    assert_string_equal(buf.cert, "/flag/c.pem");
    assert_string_equal(buf.key, "/f/c.key");

    /* A changed CA file is a setting SIGHUP names (applied at restart). */
    struct mignetd_options a, b;
    assert_int_equal(parse(&a, err, sizeof err, "--store", "etcd://e:1",
                           "--store-cacert", "/a.pem", NULL),
                     OPTIONS_RUN);
    assert_int_equal(parse(&b, err, sizeof err, "--store", "etcd://e:1",
                           "--store-cacert", "/b.pem", NULL),
                     OPTIONS_RUN);
    const char *names[8];
    size_t n;
    options_diff(&a, &b, names, &n, 8);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "store-cacert");

    static const char *const bad[][7] = {
        {"--store-cacert", "/ca.pem", NULL, NULL, NULL, NULL,
         "for store etcd://... (TLS to etcd), not sqlite"},
        {"--store", "sqlite", "--store-cacert", "/ca.pem", NULL, NULL,
         "not sqlite"},
        {"--store", "etcd://e:1", "--store-cacert", "/ca.pem",
         "--store-cert", "/c.pem", "store-cert and store-key go together"},
        {"--store", "etcd://e:1", "--store-cacert", "/ca.pem",
         "--store-key", "/c.key", "store-cert and store-key go together"},
        {"--store", "etcd://e:1", "--store-cert", "/c.pem", "--store-key",
         "/c.key", "store-cert needs store-cacert"},
        {"--store", "etcd://e:1", "--store-cacert", "", NULL, NULL,
         "--store-cacert: empty path"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *const *a6 = bad[i];
        enum options_result r = parse(&o, err, sizeof err, a6[0], a6[1],
                                      a6[2], a6[3], a6[4], a6[5], NULL);
        if (r != OPTIONS_ERROR || !strstr(err, a6[6])) {
            fail_msg("case %zu: result %d err '%s', want '%s'", i, r, err,
                     a6[6]);
        }
    }
}

/* The listeners' limits (docs/mignetd.md, "Limits"). */
static void
test_limits(void **state)
{
    (void) state;
    struct mignetd_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, NULL), OPTIONS_RUN);
    assert_int_equal(o.max_conns, 512);
    assert_int_equal(o.max_conns_per_peer, 64);
    assert_int_equal(o.request_timeout_ms, 10000);
    assert_int_equal(parse(&o, err, sizeof err, "--max-conns", "100",
                           "--max-conns-per-peer=8",
                           "--request-timeout-ms", "2500", NULL),
                     OPTIONS_RUN);
    assert_int_equal(o.max_conns, 100);
    assert_int_equal(o.max_conns_per_peer, 8);
    assert_int_equal(o.request_timeout_ms, 2500);
    static const char *const bad[][2] = {
        {"--max-conns", "0"},
        {"--max-conns-per-peer", "0"},
        {"--request-timeout-ms", "99"},
        {"--request-timeout-ms", "3600001"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&o, err, sizeof err, bad[i][0], bad[i][1],
                               NULL),
                         OPTIONS_ERROR);
        assert_non_null(strstr(err, "not an integer in"));
    }
}

/* Core settings apply on top of the strategy whatever the order. */
static void
test_strategy_overrides(void **state)
{
    (void) state;
    struct mignetd_options o;
    char err[256];
    struct core_config fixed;
    core_config_default(&fixed);
    assert_true(core_config_strategy(&fixed, "fixed"));

    assert_int_equal(parse(&o, err, sizeof err, "--fixed-delay-ms", "777",
                           "--strategy", "fixed", NULL),
                     OPTIONS_RUN);
    assert_int_equal(o.core.fixed_delay_ms, 777);
    assert_int_equal(o.core.dynamic_delay, fixed.dynamic_delay);
    assert_int_equal(o.core.relay, fixed.relay);

    assert_int_equal(parse(&o, err, sizeof err, "--delay-floor-ms", "5000",
                           "--delay-ceiling-ms", "4000", NULL),
                     OPTIONS_ERROR);
    assert_non_null(strstr(err, "delay-floor-ms"));
    assert_int_equal(parse(&o, err, sizeof err, "--agent-tls-cert", "c.pem",
                           NULL),
                     OPTIONS_ERROR);
    assert_non_null(strstr(err, "agent-tls-key"));
    /* Node identity: a CA for client certificates needs TLS; the refresh
     * floor is a core setting (default 100). */
    assert_int_equal(parse(&o, err, sizeof err, "--agent-tls-ca", "ca.pem",
                           NULL),
                     OPTIONS_ERROR);
    assert_non_null(strstr(err, "agent-tls-ca needs agent-tls-cert"));
    assert_int_equal(parse(&o, err, sizeof err, "--agent-tls-ca", "ca.pem",
                           "--agent-tls-cert", "c.pem", "--agent-tls-key",
                           "k.pem", NULL),
                     OPTIONS_RUN);
    assert_string_equal(o.tls_ca, "ca.pem");
    assert_int_equal(o.core.refresh_floor_ms, 100);
    assert_int_equal(parse(&o, err, sizeof err, "--refresh-floor-ms", "250",
                           NULL),
                     OPTIONS_RUN);
    assert_int_equal(o.core.refresh_floor_ms, 250);
    assert_int_equal(parse(&o, err, sizeof err, "--refresh-floor-ms",
                           "3600001", NULL),
                     OPTIONS_ERROR);
}

static void
test_config_file(void **state)
{
    (void) state;
    struct mignetd_options o;
    char err[512];
    write_conf("# mignetd settings\n"
               "\n"
               "listen = 127.0.0.1:9480\n"
               "  agent_listen=\"127.0.0.1:9481\"  \n"
               "state-dir = /var/tmp/m\n"
               "prepare-timeout-ms = 1500\r\n"
               "log-level = warn\n");
    /* The flag comes before --config and still wins. */
    assert_int_equal(parse(&o, err, sizeof err, "--listen", "127.0.0.1:1",
                           "--config", conf, NULL),
                     OPTIONS_RUN);
    assert_string_equal(o.listen, "127.0.0.1:1");
    assert_string_equal(o.agent_listen, "127.0.0.1:9481");
    assert_string_equal(o.state_dir, "/var/tmp/m");
    assert_int_equal(o.core.prepare_timeout_ms, 1500);
    assert_int_equal(o.log_level, LOG_LEVEL_WARN);

    static const char *const bad[][2] = {
        {"listen 127.0.0.1:1\n", ":1: expected 'name = value'"},
        {"\nwhat = 1\n", ":2: unknown setting 'what'"},
        {"config = other.conf\n", "unknown setting 'config'"},
        /* Accepting a damaged store is a one-off flag, never a file's. */
        {"accept-store = 1\n", "unknown setting 'accept-store'"},
        {"delay-floor-ms = lots\n", ":1: 'lots' is not an integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_conf(bad[i][0]);
        enum options_result r = parse(&o, err, sizeof err, "--config", conf,
                                      NULL);
        if (r != OPTIONS_ERROR || !strstr(err, bad[i][1])
            || !strstr(err, conf)) {
            fail_msg("file '%s': result %d err '%s', want '%s'", bad[i][0],
                     r, err, bad[i][1]);
        }
    }
    char missing[400];
    snprintf(missing, sizeof missing, "%s/none.conf", tmpdir);
    assert_int_equal(parse(&o, err, sizeof err, "--config", missing, NULL),
                     OPTIONS_ERROR);
    assert_non_null(strstr(err, "none.conf"));
}

static void
test_fabric(void **state)
{
    (void) state;
    struct mignetd_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, NULL), OPTIONS_RUN);
    assert_string_equal(o.fabric.file, "");
    assert_int_equal(o.fabric.n_switches, 0);
    assert_string_equal(o.fabric.strategy, "dr");
    assert_int_equal(o.fabric.poll_ms, 5000);
    assert_int_equal(o.fabric.port_base, 49152);

    write_conf("fabric-switch = s1=unix:/run/a/s1.mgmt\n"
               "fabric_poll_ms = 1000\n");
    assert_int_equal(parse(&o, err, sizeof err, "--config", conf,
                           "--fabric", "/etc/fabric.topo",
                           "--fabric-switch", "s2=tcp:127.0.0.1:6653",
                           "--fabric-switch=core.3=unix:/x y",
                           "--fabric-strategy", "single",
                           "--fabric-poll-ms", "250", "--fabric-listen",
                           "unix:/run/m/fabric.sock", NULL),
                     OPTIONS_RUN);
    assert_string_equal(o.fabric.listen, "unix:/run/m/fabric.sock");
    assert_string_equal(o.fabric.file, "/etc/fabric.topo");
    /* The file's switch, then the flags' (a list appends). */
    assert_int_equal(o.fabric.n_switches, 3);
    assert_string_equal(o.fabric.switches[0].name, "s1");
    assert_string_equal(o.fabric.switches[0].target, "unix:/run/a/s1.mgmt");
    assert_string_equal(o.fabric.switches[1].name, "s2");
    assert_string_equal(o.fabric.switches[1].target, "tcp:127.0.0.1:6653");
    assert_string_equal(o.fabric.switches[2].name, "core.3");
    assert_string_equal(o.fabric.switches[2].target, "unix:/x y");
    assert_string_equal(o.fabric.strategy, "single");
    assert_int_equal(o.fabric.poll_ms, 250);

    static const char *const bad[][3] = {
        {"--fabric-switch", "s1", "not NAME=TARGET"},
        {"--fabric-switch", "=unix:/a", "not NAME=TARGET"},
        {"--fabric-switch", "a/b=unix:/a", "not NAME=TARGET"},
        {"--fabric-switch", "s1=unix:", "not unix:PATH"},
        {"--fabric-switch", "s1=tcp:127.0.0.1", "not unix:PATH"},
        {"--fabric-switch", "s1=tcp:127.0.0.1:0", "not unix:PATH"},
        {"--fabric-switch", "s1=ssl:1.2.3.4:6653", "not unix:PATH"},
        {"--fabric-strategy", "ospf", "not single, ecmp or dr"},
        {"--fabric-poll-ms", "99", "not an integer in"},
        {"--plan-max-paths", "65", "not an integer in"},
        {"--plan-cpu-free-pct", "101", "not an integer in"},
        {"--fabric", "", "empty path"},
        {"--fabric-listen", "6653", "not unix:PATH"},
        {"--fabric-listen", "tcp:0.0.0.0", "not unix:PATH"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&o, err, sizeof err, bad[i][0], bad[i][1],
                               NULL),
                         OPTIONS_ERROR);
        if (!strstr(err, bad[i][2])) {
            fail_msg("%s %s: '%s' lacks '%s'", bad[i][0], bad[i][1], err,
                     bad[i][2]);
        }
    }
    assert_int_equal(parse(&o, err, sizeof err, "--fabric-switch",
                           "s1=unix:/a", "--fabric-switch", "s1=unix:/b",
                           NULL),
                     OPTIONS_ERROR);
    assert_non_null(strstr(err, "given twice"));
}

/* Secure by default: a non-loopback listener needs TLS and credentials
 * unless --insecure; loopback ones do not. */
static void
test_exposure(void **state)
{
    (void) state;
    struct mignetd_options o;
    char err[256];
    static const char *const loop[] = {"127.0.0.1:1", "127.9.8.7:1",
                                       "[::1]:1", "localhost:1"};
    for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++) {
        assert_true(options_addr_loopback(loop[i]));
        assert_int_equal(parse(&o, err, sizeof err, "--listen", loop[i],
                               NULL),
                         OPTIONS_RUN);
    }
    static const char *const open[] = {"0.0.0.0:1", "[::]:1",
                                       "198.18.0.1:1", "128.0.0.1:1",
                                       "ctl.example:1", "[::2]:1"};
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
        assert_false(options_addr_loopback(open[i]));
        assert_int_equal(parse(&o, err, sizeof err, "--listen", open[i],
                               NULL),
                         OPTIONS_ERROR);
        assert_non_null(strstr(err, "not a loopback address"));
        assert_non_null(strstr(err, "--insecure"));
        assert_int_equal(parse(&o, err, sizeof err, "--agent-listen",
                               open[i], NULL),
                         OPTIONS_ERROR);
        assert_non_null(strstr(err, "--agent-tls-cert"));
        assert_int_equal(parse(&o, err, sizeof err, "--listen", open[i],
                               "--agent-listen", open[i], "--insecure",
                               NULL),
                         OPTIONS_RUN);
        assert_true(o.insecure);
    }
    /* TLS without tokens, or tokens without TLS, is not enough. */
    assert_int_equal(parse(&o, err, sizeof err, "--listen", "0.0.0.0:1",
                           "--api-tls-cert", "c", "--api-tls-key", "k",
                           NULL),
                     OPTIONS_ERROR);
    assert_int_equal(parse(&o, err, sizeof err, "--listen", "0.0.0.0:1",
                           "--api-tokens", "t", NULL),
                     OPTIONS_ERROR);
    assert_int_equal(parse(&o, err, sizeof err, "--listen", "0.0.0.0:1",
                           "--api-tls-cert", "c", "--api-tls-key", "k",
                           "--api-tokens", "t", "--agent-listen",
                           "0.0.0.0:2", "--agent-tls-cert", "c",
                           "--agent-tls-key", "k", NULL),
                     OPTIONS_RUN);
    assert_false(o.insecure);
    assert_string_equal(o.api_tokens, "t");
    assert_int_equal(parse(&o, err, sizeof err, "--api-tls-cert", "c",
                           NULL),
                     OPTIONS_ERROR);
    assert_non_null(strstr(err, "go together"));
    assert_int_equal(parse(&o, err, sizeof err, "--insecure=maybe", NULL),
                     OPTIONS_ERROR);
    /* In a file: "insecure = true". */
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs("listen = 0.0.0.0:1\ninsecure = true\n", f);
    fclose(f);
    assert_int_equal(parse(&o, err, sizeof err, "--config", conf, NULL),
                     OPTIONS_RUN);
    assert_true(o.insecure);
    assert_int_equal(parse(&o, err, sizeof err, "--config", conf,
                           "--insecure=false", NULL),
                     OPTIONS_ERROR);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_store_tls),
        cmocka_unit_test(test_strategy_overrides),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_fabric),
        cmocka_unit_test(test_exposure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
