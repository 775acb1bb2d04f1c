/* test_log.c: log_write's escaping and rate limit.
 *
 * A value with a newline must stay inside its line, and one noisy
 * (component, event) pair must be cut to its budget while the others
 * still log; the count of dropped lines comes back on a later line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
    return fake_now;
}

struct capture {
    char *buf;
    size_t len;
    FILE *f;
};

static void
capture_start(struct capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    log_set_stream(c->f);
}

static void
capture_end(struct capture *c)
{
    log_set_stream(NULL);
    fclose(c->f);
    free(c->buf);
}

static size_t
count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static size_t
count_str(const char *s, const char *needle)
{
    size_t n = 0;
    for (; (s = strstr(s, needle)); s++) {
        n++;
    }
    return n;
}

static void
test_escape(void **state)
{
    (void) state;
    char out[64];
    size_t n = log_escape(out, sizeof out, "a\nb\r\tc\x01\x7f\\", 9);
    assert_string_equal(out, "a\\nb\\r\\tc\\x01\\x7f\\");
    assert_int_equal(n, strlen(out));
    /* A cut never splits an escape. */
    n = log_escape(out, 4, "ab\ncd", 5);
    assert_string_equal(out, "ab");
    assert_int_equal(n, 2);
    assert_int_equal(log_escape(out, 0, "x", 1), 0);
}

static void
test_injection(void **state)
{
    (void) state;
    struct capture c;
    log_set_rate(0, 0);
    capture_start(&c);
    log_write(LOG_LEVEL_WARN, "agent", "event=error message=\"%s\"",
              "bad\nts=2026-01-01T00:00:00.000Z level=error comp=core "
              "event=forged");
    fflush(c.f);
    assert_int_equal(count_lines(c.buf), 1);
    assert_non_null(strstr(c.buf, "message=\"bad\\nts=2026"));
    assert_null(strstr(c.buf, "\nts=2026"));
    capture_end(&c);
    log_set_rate(LOG_RATE_BURST_DEFAULT, LOG_RATE_PER_S_DEFAULT);
}

static void
test_rate_limit(void **state)
{
    (void) state;
    struct capture c;
    fake_now = 1000;
    log_set_time_source(fake_clock);
    log_set_rate(5, 2);
    capture_start(&c);
    for (int i = 0; i < 100; i++) {
        log_write(LOG_LEVEL_WARN, "rest", "event=noisy i=%d", i);
    }
    /* Another event of the same component still logs. */
    log_write(LOG_LEVEL_WARN, "rest", "event=quiet");
    fflush(c.f);
    assert_int_equal(count_str(c.buf, "event=noisy"), 5);
    assert_int_equal(count_str(c.buf, "event=quiet"), 1);
    assert_null(strstr(c.buf, "log_suppressed"));

    /* One second later: two more, the first says how many were cut. */
    fake_now += 1000;
    for (int i = 0; i < 10; i++) {
        log_write(LOG_LEVEL_WARN, "rest", "event=noisy i=%d", i);
    }
    fflush(c.f);
    assert_int_equal(count_str(c.buf, "event=noisy"), 7);
    assert_int_equal(count_str(c.buf, "log_suppressed=95\n"), 1);
    assert_int_equal(count_str(c.buf, "log_suppressed="), 1);
    capture_end(&c);

    /* More keys than slots: each new key still gets its burst. */
    capture_start(&c);
    for (int i = 0; i < 200; i++) {
        log_write(LOG_LEVEL_WARN, "x", "event=k%d", i);
    }
    fflush(c.f);
    assert_int_equal(count_lines(c.buf), 200);
    capture_end(&c);

    log_set_time_source(NULL);
    log_set_rate(LOG_RATE_BURST_DEFAULT, LOG_RATE_PER_S_DEFAULT);
}

static void
test_take(void **state)
{
    (void) state;
    uint64_t sup;
    log_set_rate(2, 1);
    assert_true(log_rl_take("a b", 10, &sup));
    assert_true(log_rl_take("a b", 10, &sup));
    assert_false(log_rl_take("a b", 10, &sup));
    assert_false(log_rl_take("a b", 500, &sup));
    /* 1 line/s: a whole token after 1000 ms. */
    assert_true(log_rl_take("a b", 1010, &sup));
    assert_int_equal(sup, 2);
    assert_false(log_rl_take("a b", 1011, &sup));
    /* The bucket never holds more than the burst. */
    assert_true(log_rl_take("a b", 100000, &sup));
    assert_int_equal(sup, 1);
    assert_true(log_rl_take("a b", 100000, &sup));
    assert_false(log_rl_take("a b", 100000, &sup));
    log_set_rate(0, 0);
    for (int i = 0; i < 1000; i++) {
        assert_true(log_rl_take("a b", 5, &sup));
    }
    log_set_rate(LOG_RATE_BURST_DEFAULT, LOG_RATE_PER_S_DEFAULT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_injection),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
