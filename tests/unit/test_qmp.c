/* test_qmp.c: the QMP client (lib/qmp.h): the line classifier on good and
 * malformed lines, and the blocking client over a socketpair whose other
 * end the test writes by hand -- greeting and negotiation, answers with
 * events queued in between, QEMU's errors, a closed peer, an over-long
 * line, a missing greeting and a command nobody answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/qmp.h"

static int
parse(const char *line, struct qmp_msg *m)
{
    char err[128];
    return qmp_msg_parse(line, strlen(line), m, err, sizeof err);
}

static void
test_parse_good(void **state)
{
    (void) state;
    struct qmp_msg m;
    assert_int_equal(parse("{\"QMP\": {\"version\": {}, \"capabilities\": "
                           "[\"oob\"]}}\r", &m), 0);
    assert_int_equal(m.kind, QMP_GREETING);
    qmp_msg_destroy(&m);

    assert_int_equal(parse("{\"return\": {\"status\": \"active\"}}", &m), 0);
    assert_int_equal(m.kind, QMP_RETURN);
    assert_string_equal(json_string_value(json_object_get(m.data, "status")),
                        "active");
    qmp_msg_destroy(&m);

    assert_int_equal(parse("{\"error\": {\"class\": \"GenericError\", "
                           "\"desc\": \"no\"}}", &m), 0);
    assert_int_equal(m.kind, QMP_ERROR);
    assert_string_equal(m.err_class, "GenericError");
    assert_string_equal(m.err_desc, "no");
    qmp_msg_destroy(&m);

    assert_int_equal(parse("{\"timestamp\": {\"seconds\": 1796187297, "
                           "\"microseconds\": 614071}, \"event\": "
                           "\"MIGRATION\", \"data\": {\"status\": "
                           "\"setup\"}}", &m), 0);
    assert_int_equal(m.kind, QMP_EVENT);
    assert_string_equal(m.event, "MIGRATION");
    assert_true(m.ts_us == 1796187297614071ULL);
    assert_string_equal(qmp_migration_status(&m), "setup");
    qmp_msg_destroy(&m);

    /* QEMU sends -1/-1 when it cannot read its clock. */
    assert_int_equal(parse("{\"event\": \"STOP\", \"timestamp\": "
                           "{\"seconds\": -1, \"microseconds\": -1}}", &m),
                     0);
    assert_true(m.ts_us == 0);
    assert_null(m.data);
    assert_null(qmp_migration_status(&m));
    qmp_msg_destroy(&m);

    /* A MIGRATION event without a string status has none. */
    assert_int_equal(parse("{\"event\": \"MIGRATION\", \"timestamp\": "
                           "{\"seconds\": 1, \"microseconds\": 2}, "
                           "\"data\": {\"status\": 3}}", &m), 0);
    assert_null(qmp_migration_status(&m));
    qmp_msg_destroy(&m);
    qmp_msg_destroy(NULL);
}

static const char *const bad_lines[] = {
    "",
    "{",
    "[1]",
    "\"return\"",
    "{}",
    "{\"return\": 1, \"return\": 2}",
    "{\"error\": {\"class\": \"X\"}}",
    "{\"error\": \"no\"}",
    "{\"event\": \"STOP\"}",
    "{\"event\": 5, \"timestamp\": {\"seconds\": 1, \"microseconds\": 1}}",
    "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1}}",
    "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, "
    "\"microseconds\": 1000000}}",
    "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": -2, "
    "\"microseconds\": 0}}",
    "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 99999999999999, "
    "\"microseconds\": 0}}",
    "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1.5, "
    "\"microseconds\": 0}}",
    "{\"event\": \"X\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 1},"
    " \"data\": [1]}",
    "{\"QMP\": 1}",
};

static void
test_parse_bad(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        struct qmp_msg m;
        char err[128] = "";
        int rc = qmp_msg_parse(bad_lines[i], strlen(bad_lines[i]), &m, err,
                               sizeof err);
        if (rc != EINVAL || !err[0] || m.root) {
            fail_msg("accepted '%s'", bad_lines[i]);
        }
    }
    /* A NUL inside the line is not JSON text. */
    struct qmp_msg m;
    char err[128];
    assert_int_equal(qmp_msg_parse("{\"return\": {}}\0x", 16, &m, err,
                                   sizeof err), EINVAL);
}

/* ---- the client over a socketpair ---- */

static const char greeting[] = "{\"QMP\": {\"version\": {}}}\r\n";
static const char ok[] = "{\"return\": {}}\r\n";

static void
put(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t) strlen(s));
}

/* Reads what the client sent so far (it writes before it waits). */
static void
expect_sent(int fd, const char *want)
{
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static struct qmp *
open_pair(int *peer)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    put(sv[1], greeting);
    put(sv[1], ok);
    char err[128];
    struct qmp *q = qmp_open_fd(sv[0], 1000, err, sizeof err);
    assert_non_null(q);
    expect_sent(sv[1], "{\"execute\":\"qmp_capabilities\"}\n");
    *peer = sv[1];
    return q;
}

static void
test_client_exchange(void **state)
{
    (void) state;
    int peer;
    struct qmp *q = open_pair(&peer);
    char err[256];

    /* An event before the answer is queued, in order, and the answer's
     * value comes back. */
    put(peer, "{\"event\": \"MIGRATION\", \"timestamp\": {\"seconds\": 5, "
              "\"microseconds\": 6}, \"data\": {\"status\": \"setup\"}}\n"
              "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 7, "
              "\"microseconds\": 8}}\n"
              "{\"return\": {\"status\": \"active\"}}\n");
    json_t *ret = NULL;
    assert_int_equal(qmp_execute(q, "query-migrate", NULL, 1000, &ret, err,
                                 sizeof err), 0);
    expect_sent(peer, "{\"execute\":\"query-migrate\"}\n");
    assert_string_equal(json_string_value(json_object_get(ret, "status")),
                        "active");
    json_decref(ret);

    /* Arguments go under "arguments". */
    put(peer, ok);
    assert_int_equal(qmp_execute(q, "migrate", json_pack("{s:s}", "uri",
                                                         "tcp:h:1"),
                                 1000, NULL, err, sizeof err), 0);
    expect_sent(peer, "{\"execute\":\"migrate\",\"arguments\":"
                      "{\"uri\":\"tcp:h:1\"}}\n");

    struct qmp_msg ev;
    assert_int_equal(qmp_next_event(q, 0, &ev, err, sizeof err), 0);
    assert_string_equal(qmp_migration_status(&ev), "setup");
    assert_true(ev.ts_us == 5000006);
    qmp_msg_destroy(&ev);
    assert_int_equal(qmp_next_event(q, 0, &ev, err, sizeof err), 0);
    assert_string_equal(ev.event, "STOP");
    qmp_msg_destroy(&ev);
    assert_int_equal(qmp_next_event(q, 0, &ev, err, sizeof err), ETIMEDOUT);

    /* An event read straight from the socket, split over two writes. */
    put(peer, "{\"event\": \"RESUME\", \"timestamp\": ");
    put(peer, "{\"seconds\": 9, \"microseconds\": 0}}\r\n");
    assert_int_equal(qmp_next_event(q, 1000, &ev, err, sizeof err), 0);
    assert_string_equal(ev.event, "RESUME");
    qmp_msg_destroy(&ev);

    /* QEMU's error answer. */
    put(peer, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
              "\"Parameter 'x' is unexpected\"}}\n");
    assert_int_equal(qmp_execute(q, "migrate-set-parameters",
                                 json_pack("{s:i}", "x", 1), 1000, NULL,
                                 err, sizeof err), EREMOTEIO);
    assert_non_null(strstr(err, "GenericError"));
    assert_non_null(strstr(err, "unexpected"));

    /* An answer when only events may come. */
    put(peer, ok);
    assert_int_equal(qmp_next_event(q, 1000, &ev, err, sizeof err), EPROTO);

    /* Nobody answers: a timeout, not a hang. */
    assert_int_equal(qmp_execute(q, "query-status", NULL, 50, NULL, err,
                                 sizeof err), ETIMEDOUT);

    /* A line that is not QMP. */
    put(peer, "hello\n");
    assert_int_equal(qmp_next_event(q, 1000, &ev, err, sizeof err), EPROTO);

    /* QEMU went away. */
    close(peer);
    assert_int_equal(qmp_execute(q, "query-status", NULL, 1000, NULL, err,
                                 sizeof err), EPIPE);
    qmp_close(q);
    qmp_close(NULL);
}

static void
test_client_long_line(void **state)
{
    (void) state;
    int peer;
    struct qmp *q = open_pair(&peer);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* A child writes more than QMP_MAX_LINE bytes and no newline
         * (the parent's client is not the child's to keep). */
        qmp_close(q);
        static char chunk[65536];
        memset(chunk, 'a', sizeof chunk);
        for (size_t sent = 0; sent <= QMP_MAX_LINE;) {
            ssize_t n = write(peer, chunk, sizeof chunk);
            if (n <= 0) {
                _exit(0);
            }
            sent += (size_t) n;
        }
        _exit(0);
    }
    struct qmp_msg ev;
    char err[128];
    assert_int_equal(qmp_next_event(q, 5000, &ev, err, sizeof err), EPROTO);
    assert_non_null(strstr(err, "longer than"));
    qmp_close(q);
    close(peer);
    waitpid(pid, NULL, 0);
}

static void
test_client_handshake(void **state)
{
    (void) state;
    char err[128];
    int sv[2];

    /* No greeting first. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    put(sv[1], ok);
    assert_null(qmp_open_fd(sv[0], 1000, err, sizeof err));
    assert_non_null(strstr(err, "greeting"));
    close(sv[1]);

    /* qmp_capabilities refused. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    put(sv[1], greeting);
    put(sv[1], "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
               "\"x\"}}\n");
    assert_null(qmp_open_fd(sv[0], 1000, err, sizeof err));
    assert_non_null(strstr(err, "CommandNotFound"));
    close(sv[1]);

    /* Nothing at all. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_null(qmp_open_fd(sv[0], 30, err, sizeof err));
    assert_non_null(strstr(err, "timed out"));
    close(sv[1]);

    /* No such socket; a path too long for a unix address. */
    assert_null(qmp_connect("/nonexistent/qmp.sock", 100, err, sizeof err));
    assert_non_null(strstr(err, "cannot connect"));
    char longpath[200];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    assert_null(qmp_connect(longpath, 100, err, sizeof err));
    assert_non_null(strstr(err, "too long"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_client_exchange),
        cmocka_unit_test(test_client_long_line),
        cmocka_unit_test(test_client_handshake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
