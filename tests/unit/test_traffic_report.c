/* test_traffic_report.c: the counting behind mignet-traffic's report.
 *
 * Feeds hand-made arrival sequences into the pure report module and checks
 * every count (missing inside and outside pause windows, duplicates,
 * reordering, tail loss), the probe wire format and the window parsers.  It
 * must never open a socket or read the clock: times are given. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/traffic.h"

/* 1,000,000 ms after the epoch: round numbers for due times. */
#define T0_US 1000000000ull

static struct traffic_probe
probe(uint32_t sender, uint32_t rate, uint64_t seq)
{
    struct traffic_probe p = {
        .sender = sender,
        .rate = rate,
        .seq = seq,
        .start_us = T0_US,
        .sent_us = traffic_due_us(T0_US, rate, seq),
    };
    return p;
}

/* Records data probes 'seqs' of 'sender' in that arrival order, each
 * arriving 'delay_us' after it was sent. */
static void
arrive(struct traffic_log *log, uint32_t sender, uint32_t rate,
       const uint64_t *seqs, size_t n, uint64_t delay_us)
{
    for (size_t i = 0; i < n; i++) {
        struct traffic_probe p = probe(sender, rate, seqs[i]);
        assert_int_equal(traffic_log_add(log, &p, p.sent_us + delay_us), 0);
    }
}

static void
arrive_range(struct traffic_log *log, uint32_t sender, uint32_t rate,
             uint64_t first, uint64_t last)
{
    for (uint64_t s = first; s <= last; s++) {
        arrive(log, sender, rate, &s, 1, 100);
    }
}

static void
send_end(struct traffic_log *log, uint32_t sender, uint32_t rate,
         uint64_t count)
{
    struct traffic_probe p = probe(sender, rate, count);
    p.end = true;
    assert_int_equal(traffic_log_add(log, &p, p.sent_us), 0);
}

static void
test_probe_roundtrip(void **state)
{
    (void) state;
    struct traffic_probe p = {
        .sender = 0xdeadbeef, .rate = 2500, .seq = 0x123456,
        .start_us = 0x0102030405060708ull, .sent_us = 0x1112131415161718ull,
    };
    uint8_t buf[TRAFFIC_PROBE_LEN];
    traffic_probe_encode(&p, buf);
    assert_int_equal(buf[0], 'M');
    assert_int_equal(buf[3], 'R');
    assert_int_equal(buf[8], 0xde);  /* big-endian sender */
    assert_int_equal(buf[23], 0x56); /* low byte of seq */

    struct traffic_probe q = {0};
    assert_int_equal(traffic_probe_decode(buf, sizeof buf, &q), 0);
    assert_false(q.end);
    assert_int_equal(q.sender, p.sender);
    assert_int_equal(q.rate, p.rate);
    assert_int_equal(q.seq, p.seq);
    assert_int_equal(q.start_us, p.start_us);
    assert_int_equal(q.sent_us, p.sent_us);

    p.end = true;
    p.seq = TRAFFIC_MAX_SEQ; /* an end probe may count the whole space */
    traffic_probe_encode(&p, buf);
    assert_int_equal(traffic_probe_decode(buf, sizeof buf, &q), 0);
    assert_true(q.end);
    assert_int_equal(q.seq, TRAFFIC_MAX_SEQ);
}

/* Decodes 'good' with byte 'at' set to 'value'; must fail
 * and leave the output alone. */
static void
expect_bad(const uint8_t *good, size_t at, uint8_t value)
{
    uint8_t buf[TRAFFIC_PROBE_LEN];
    memcpy(buf, good, sizeof buf);
    buf[at] = value;
    struct traffic_probe q = {.sender = 77};
    assert_int_equal(traffic_probe_decode(buf, sizeof buf, &q), EINVAL);
    assert_int_equal(q.sender, 77);
}

static void
test_probe_rejects(void **state)
{
    (void) state;
    struct traffic_probe p = probe(5, 1000, 9);
    uint8_t good[TRAFFIC_PROBE_LEN];
    traffic_probe_encode(&p, good);

    struct traffic_probe q = {.sender = 77};
    assert_int_equal(traffic_probe_decode(good, TRAFFIC_PROBE_LEN - 1, &q),
                     EINVAL);
    assert_int_equal(traffic_probe_decode(NULL, 100, &q), EINVAL);
    assert_int_equal(q.sender, 77);

    expect_bad(good, 0, 'X');  /* magic */
    expect_bad(good, 4, 2);    /* version */
    expect_bad(good, 5, 2);    /* kind */
    expect_bad(good, 7, 1);    /* reserved */

    /* rate 0 and rate above the maximum */
    uint8_t buf[TRAFFIC_PROBE_LEN];
    p.rate = 0;
    traffic_probe_encode(&p, buf);
    assert_int_equal(traffic_probe_decode(buf, sizeof buf, &q), EINVAL);
    p.rate = TRAFFIC_MAX_RATE + 1;
    traffic_probe_encode(&p, buf);
    assert_int_equal(traffic_probe_decode(buf, sizeof buf, &q), EINVAL);

    /* a data sequence number beyond the receiver's bound */
    p = probe(5, 1000, TRAFFIC_MAX_SEQ);
    traffic_probe_encode(&p, buf);
    assert_int_equal(traffic_probe_decode(buf, sizeof buf, &q), EINVAL);
    assert_int_equal(q.sender, 77);

    /* trailing bytes are fine (a padded datagram) */
    uint8_t longer[TRAFFIC_PROBE_LEN + 8] = {0};
    memcpy(longer, good, sizeof good);
    assert_int_equal(traffic_probe_decode(longer, sizeof longer, &q), 0);
    assert_int_equal(q.seq, 9);
}

static void
test_due_time(void **state)
{
    (void) state;
    assert_int_equal(traffic_due_us(T0_US, 1000, 0), T0_US);
    assert_int_equal(traffic_due_us(T0_US, 1000, 5), T0_US + 5000);
    assert_int_equal(traffic_due_us(T0_US, 3, 1), T0_US + 333333);
    assert_int_equal(traffic_due_us(T0_US, 3, 3), T0_US + 1000000);
    assert_int_equal(traffic_due_us(T0_US, 0, 3), T0_US);
}

static void
test_clean_stream(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    arrive_range(log, 1, 1000, 0, 99);
    send_end(log, 1, 1000, 100);
    struct traffic_report *r = traffic_report_compute(log, NULL, 0, 0);

    assert_int_equal(r->n_senders, 1);
    assert_true(r->senders[0].end_seen);
    assert_int_equal(r->total.sent, 100);
    assert_int_equal(r->total.received, 100);
    assert_int_equal(r->total.arrivals, 100);
    assert_int_equal(r->total.missing, 0);
    assert_int_equal(r->total.duplicated, 0);
    assert_int_equal(r->total.reordered, 0);
    assert_int_equal(r->n_missing, 0);
    assert_int_equal(r->senders[0].delay_max_us, 100);
    assert_int_equal(r->senders[0].delay_mean_us, 100);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

/* Rate 1000/s from T0: probe s is due at 1,000,000 ms + s ms. */
static void
test_missing_split_by_window(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    arrive_range(log, 1, 1000, 0, 99);
    arrive_range(log, 1, 1000, 200, 499);
    arrive_range(log, 1, 1000, 501, 599);
    send_end(log, 1, 1000, 600);
    /* lost: 100..199 and 500; the pause covers 100..150 */
    struct traffic_window w = {.start_ms = 1000100, .end_ms = 1000150};
    struct traffic_report *r = traffic_report_compute(log, &w, 1, 0);

    assert_int_equal(r->total.sent, 600);
    assert_int_equal(r->total.received, 499);
    assert_int_equal(r->total.missing, 101);
    assert_int_equal(r->total.missing_in_window, 51);
    assert_int_equal(r->total.missing_outside_window, 50);
    assert_int_equal(r->n_missing, 101);
    assert_int_equal(r->missing[0].seq, 100);
    assert_int_equal(r->missing[0].due_us, T0_US + 100000);
    assert_true(r->missing[0].in_window);
    assert_true(r->missing[50].in_window);   /* seq 150, due at the end */
    assert_false(r->missing[51].in_window);  /* seq 151 */
    assert_int_equal(r->missing[100].seq, 500);
    assert_false(r->missing[100].in_window);
    traffic_report_destroy(r);

    /* A slack of 10 ms widens the window to 90..160 (only 100.. lost). */
    w.start_ms = 1000100;
    r = traffic_report_compute(log, &w, 1, 10);
    assert_int_equal(r->total.missing_in_window, 61);
    assert_int_equal(r->total.missing_outside_window, 40);
    assert_int_equal(r->slack_ms, 10);
    traffic_report_destroy(r);

    /* Two windows: the second covers seq 500. */
    struct traffic_window two[2] = {
        {1000100, 1000199}, {1000500, 1000500},
    };
    r = traffic_report_compute(log, two, 2, 0);
    assert_int_equal(r->total.missing_in_window, 101);
    assert_int_equal(r->total.missing_outside_window, 0);
    assert_int_equal(r->n_windows, 2);
    assert_int_equal(r->windows[1].start_ms, 1000500);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

static void
test_duplicates_and_reordering(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    static const uint64_t order[] = {0, 1, 3, 2, 2, 4, 6, 5, 5, 7};
    arrive(log, 9, 100, order, sizeof order / sizeof order[0], 50);
    struct traffic_report *r = traffic_report_compute(log, NULL, 0, 0);

    assert_int_equal(r->total.sent, 8);
    assert_int_equal(r->total.arrivals, 10);
    assert_int_equal(r->total.received, 8);
    assert_int_equal(r->total.duplicated, 2);
    /* 2 after 3 and 5 after 6; the second copies are duplicates only */
    assert_int_equal(r->total.reordered, 2);
    assert_int_equal(r->total.missing, 0);
    assert_false(r->senders[0].end_seen);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

static void
test_tail_loss_needs_end(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    arrive_range(log, 3, 1000, 0, 6);
    struct traffic_report *r = traffic_report_compute(log, NULL, 0, 0);
    /* Without the end probe the tail is invisible. */
    assert_int_equal(r->total.sent, 7);
    assert_int_equal(r->total.missing, 0);
    traffic_report_destroy(r);

    send_end(log, 3, 1000, 10);
    send_end(log, 3, 1000, 10); /* copies of the end probe are harmless */
    assert_int_equal(traffic_log_n_ended(log), 1);
    r = traffic_report_compute(log, NULL, 0, 0);
    assert_int_equal(r->total.sent, 10);
    assert_int_equal(r->total.missing, 3);
    assert_int_equal(r->total.missing_outside_window, 3);
    assert_int_equal(r->missing[0].seq, 7);
    assert_int_equal(r->missing[2].seq, 9);
    assert_int_equal(r->missing[2].due_us, T0_US + 9000);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

static void
test_end_below_highest(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    arrive_range(log, 3, 1000, 0, 9);
    send_end(log, 3, 1000, 4); /* claims fewer than arrived */
    struct traffic_report *r = traffic_report_compute(log, NULL, 0, 0);
    assert_int_equal(r->total.sent, 10);
    assert_int_equal(r->total.missing, 0);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

static void
test_all_lost_but_end(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    send_end(log, 4, 10, 5);
    struct traffic_report *r = traffic_report_compute(log, NULL, 0, 0);
    assert_int_equal(r->total.sent, 5);
    assert_int_equal(r->total.received, 0);
    assert_int_equal(r->total.missing, 5);
    assert_int_equal(r->missing[4].due_us, T0_US + 400000);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

static void
test_several_senders(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    /* interleaved: sender 7 loses 2, sender 2 loses 0 and 4 */
    for (uint64_t s = 0; s < 5; s++) {
        if (s != 2) {
            arrive(log, 7, 1000, &s, 1, 10);
        }
        if (s != 0 && s != 4) {
            arrive(log, 2, 500, &s, 1, 10);
        }
    }
    send_end(log, 7, 1000, 5);
    send_end(log, 2, 500, 5);
    assert_int_equal(traffic_log_n_ended(log), 2);
    struct traffic_report *r = traffic_report_compute(log, NULL, 0, 0);

    assert_int_equal(r->n_senders, 2);
    assert_int_equal(r->senders[0].sender, 2); /* by id */
    assert_int_equal(r->senders[0].rate, 500);
    assert_int_equal(r->senders[0].counts.missing, 2);
    assert_int_equal(r->senders[1].sender, 7);
    assert_int_equal(r->senders[1].counts.missing, 1);
    assert_int_equal(r->total.sent, 10);
    assert_int_equal(r->total.missing, 3);
    assert_int_equal(r->n_missing, 3);
    assert_int_equal(r->missing[0].sender, 2);
    assert_int_equal(r->missing[0].seq, 0);
    assert_int_equal(r->missing[1].sender, 2);
    assert_int_equal(r->missing[1].seq, 4);
    assert_int_equal(r->missing[1].due_us, T0_US + 8000); /* 4 / 500 s */
    assert_int_equal(r->missing[2].sender, 7);
    assert_int_equal(r->missing[2].seq, 2);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

static void
test_inconsistent_sender(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    arrive_range(log, 1, 1000, 0, 2);
    struct traffic_probe p = probe(1, 999, 3); /* another rate */
    assert_int_equal(traffic_log_add(log, &p, p.sent_us), EINVAL);
    p = probe(1, 1000, 3);
    p.start_us += 1; /* another start */
    assert_int_equal(traffic_log_add(log, &p, p.sent_us), EINVAL);
    traffic_log_add_invalid(log);
    struct traffic_report *r = traffic_report_compute(log, NULL, 0, 0);
    assert_int_equal(r->invalid, 3);
    assert_int_equal(r->total.sent, 3);
    assert_int_equal(r->total.arrivals, 3);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

static void
test_empty_log(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    struct traffic_report *r = traffic_report_compute(log, NULL, 0, 5);
    assert_int_equal(r->n_senders, 0);
    assert_int_equal(r->total.sent, 0);
    assert_int_equal(r->n_missing, 0);
    assert_int_equal(traffic_log_n_ended(log), 0);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
    traffic_log_destroy(NULL);
    traffic_report_destroy(NULL);
}

static void
test_windows_parse(void **state)
{
    (void) state;
    struct traffic_window *w = NULL;
    size_t n = 99;
    assert_int_equal(traffic_windows_parse(
        "# pauses\n100 200\n\n  300\t400  \r\n500 500", &w, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(w[0].start_ms, 100);
    assert_int_equal(w[0].end_ms, 200);
    assert_int_equal(w[1].start_ms, 300);
    assert_int_equal(w[1].end_ms, 400);
    assert_int_equal(w[2].start_ms, 500);
    free(w);

    assert_int_equal(traffic_windows_parse("", &w, &n), 0);
    assert_int_equal(n, 0);
    assert_null(w);

    static const char *bad[] = {
        "200 100\n", "100\n", "100 200 300\n", "a b\n", "100 b\n",
        "-1 5\n", "1 2\n3\n", "99999999999999999999 1\n", "1,2\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct traffic_window *keep = (struct traffic_window *) &n;
        w = keep;
        n = 42;
        assert_int_equal(traffic_windows_parse(bad[i], &w, &n), EINVAL);
        assert_ptr_equal(w, keep);
        assert_int_equal(n, 42);
    }
}

static void
test_window_arg(void **state)
{
    (void) state;
    struct traffic_window w = {0};
    assert_int_equal(traffic_window_parse_arg("10:20", &w), 0);
    assert_int_equal(w.start_ms, 10);
    assert_int_equal(w.end_ms, 20);
    static const char *bad[] = {"20:10", "10-20", "10:", ":20", "10:20x",
                                "", "x:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        w.start_ms = 7;
        assert_int_equal(traffic_window_parse_arg(bad[i], &w), EINVAL);
        assert_int_equal(w.start_ms, 7);
    }
    assert_int_equal(traffic_window_parse_arg(NULL, &w), EINVAL);
}

static void
test_json(void **state)
{
    (void) state;
    struct traffic_log *log = traffic_log_create();
    arrive_range(log, 1, 1000, 0, 4);
    arrive_range(log, 1, 1000, 8, 9);
    send_end(log, 1, 1000, 10);
    traffic_log_add_invalid(log);
    struct traffic_window w = {.start_ms = 1000005, .end_ms = 1000006};
    struct traffic_report *r = traffic_report_compute(log, &w, 1, 0);
    r->receiver_drops = 4;
    char *text = traffic_report_to_json(r, 2);

    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    assert_non_null(root);
    json_t *total = json_object_get(root, "total");
    assert_int_equal(json_integer_value(json_object_get(total, "sent")), 10);
    assert_int_equal(json_integer_value(json_object_get(total, "missing")),
                     3);
    assert_int_equal(json_integer_value(
        json_object_get(total, "missing_in_window")), 2);
    assert_int_equal(json_integer_value(
        json_object_get(total, "missing_outside_window")), 1);
    json_t *missing = json_object_get(root, "missing");
    assert_int_equal(json_array_size(missing), 2); /* capped */
    assert_int_equal(json_integer_value(
        json_object_get(root, "missing_listed")), 2);
    json_t *m0 = json_array_get(missing, 0);
    assert_int_equal(json_integer_value(json_object_get(m0, "seq")), 5);
    assert_int_equal(json_integer_value(json_object_get(m0, "due_ms")),
                     1000005);
    assert_true(json_is_true(json_object_get(m0, "in_window")));
    json_t *s0 = json_array_get(json_object_get(root, "senders"), 0);
    assert_int_equal(json_integer_value(json_object_get(s0, "sender")), 1);
    assert_true(json_is_true(json_object_get(s0, "end_seen")));
    assert_int_equal(json_integer_value(json_object_get(s0, "start_ms")),
                     1000000);
    json_t *w0 = json_array_get(json_object_get(root, "windows"), 0);
    assert_int_equal(json_integer_value(json_object_get(w0, "end_ms")),
                     1000006);
    assert_int_equal(json_integer_value(json_object_get(root, "invalid")),
                     1);
    assert_int_equal(json_integer_value(
        json_object_get(root, "receiver_drops")), 4);
    json_decref(root);
    free(text);
    traffic_report_destroy(r);
    traffic_log_destroy(log);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_roundtrip),
        cmocka_unit_test(test_probe_rejects),
        cmocka_unit_test(test_due_time),
        cmocka_unit_test(test_clean_stream),
        cmocka_unit_test(test_missing_split_by_window),
        cmocka_unit_test(test_duplicates_and_reordering),
        cmocka_unit_test(test_tail_loss_needs_end),
        cmocka_unit_test(test_end_below_highest),
        cmocka_unit_test(test_all_lost_but_end),
        cmocka_unit_test(test_several_senders),
        cmocka_unit_test(test_inconsistent_sender),
        cmocka_unit_test(test_empty_log),
        cmocka_unit_test(test_windows_parse),
        cmocka_unit_test(test_window_arg),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
