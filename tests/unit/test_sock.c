/* test_sock.c: host:port splitting (lib/sock.h).
 *
 * sock_split_addr() is the one parser of "HOST:PORT" and "[V6]:PORT" (the
 * daemon's listen options and fabric targets, the agents' controller
 * address); sock_split_hostport() adds what connecting needs: a nonzero
 * port, copied as written.  Pure string work: nothing here opens a socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/sock.h"

static const char *const bad[] = {
    "", ":80", "host", "host:", "host:x", "::1:80", "[::1]80", "[::1",
    "[]:80", "h:123456", "h:-1", "h:65536", "h:+80", "h: 80",
};

static void
test_split_addr(void **state)
{
    (void) state;
    char host[64];
    uint16_t port = 0;
    assert_true(sock_split_addr("127.0.0.1:7480", host, sizeof host, &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 7480);
    assert_true(sock_split_addr("[::1]:0", host, sizeof host, &port));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_true(sock_split_addr("h:65535", host, sizeof host, &port));
    assert_int_equal(port, 65535);
    assert_true(sock_split_addr("h:00080", host, sizeof host, &port));
    assert_int_equal(port, 80);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sock_split_addr(bad[i], host, sizeof host, &port)) {
            fail_msg("accepted '%s'", bad[i]);
        }
    }
    /* The host must fit with its NUL. */
    assert_false(sock_split_addr("127.0.0.1:1", host, 4, &port));
    assert_true(sock_split_addr("127:1", host, 4, &port));
    assert_string_equal(host, "127");
}

static void
test_split_hostport(void **state)
{
    (void) state;
    char host[64], port[8];
    assert_true(sock_split_hostport("ctl.example:6653", host, sizeof host,
                                    port, sizeof port));
    assert_string_equal(host, "ctl.example");
    assert_string_equal(port, "6653");
    assert_true(sock_split_hostport("[fe80::1]:080", host, sizeof host, port,
                                    sizeof port));
    assert_string_equal(host, "fe80::1");
    assert_string_equal(port, "080"); /* as written */
    /* Port 0 is no place to connect to. */
    assert_false(sock_split_hostport("h:0", host, sizeof host, port,
                                     sizeof port));
    assert_false(sock_split_hostport("[::1]:00", host, sizeof host, port,
                                     sizeof port));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sock_split_hostport(bad[i], host, sizeof host, port,
                                sizeof port)) {
            fail_msg("accepted '%s'", bad[i]);
        }
    }
    /* Both must fit with their NUL. */
    assert_false(sock_split_hostport("h:6653", host, sizeof host, port, 4));
    assert_true(sock_split_hostport("h:6653", host, sizeof host, port, 5));
    assert_false(sock_split_hostport("host:1", host, 4, port, sizeof port));
}

/* Only address literals skip the resolver (the agent reads no
 * resolv.conf for them). */
static void
test_host_numeric(void **state)
{
    (void) state;
    assert_true(sock_host_numeric("198.18.0.1"));
    assert_true(sock_host_numeric("127.0.0.1"));
    assert_true(sock_host_numeric("::1"));
    assert_true(sock_host_numeric("2001:db8::6"));
    assert_false(sock_host_numeric("localhost"));
    assert_false(sock_host_numeric("gw.example"));
    assert_false(sock_host_numeric("198.18.0"));
    assert_false(sock_host_numeric("[::1]"));
    assert_false(sock_host_numeric(""));
    assert_false(sock_host_numeric(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_addr),
        cmocka_unit_test(test_split_hostport),
        cmocka_unit_test(test_host_numeric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
