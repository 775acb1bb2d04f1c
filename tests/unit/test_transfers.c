/* test_transfers.c: transfer learning's pure parts (transfers.h): the
 * POST /v1/transfers body parser (accepts the engine's report, refuses
 * each malformed field with its code and writes nothing), the goodput of
 * a report's rounds, the per-path goodput, the median, a pair's window,
 * the kept list and the error histogram's exposition. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/rest_parse.h"
#include "controller/transfers.h"
#include "lib/strbuf.h"

/* A report of three rounds: 100 MB in 8 s, 4 MB in 0.32 s, then a
 * stop-and-copy of 0.16 MB in 0.05 s.  Goodput 104e6 B / 8.32 s. */
#define ROUNDS                                                              \
    "[{\"round\":1,\"start_ms\":0,\"t_ms\":8000,\"v_bytes\":100000000,"   \
    "\"pages\":24414},"                                                     \
    "{\"round\":2,\"start_ms\":8000,\"t_ms\":320,\"v_bytes\":4000000,"    \
    "\"pages\":976},"                                                       \
    "{\"round\":3,\"start_ms\":8320,\"t_ms\":50,\"v_bytes\":160000,"      \
    "\"pages\":39}]"
#define REPORT(extra)                                                       \
    "{\"mode\":\"en\",\"mem_mb\":96,\"dirty_pps\":5000,\"hot\":null,"      \
    "\"paths\":1,\"transport\":\"tcp\",\"total_ms\":8400,"                  \
    "\"downtime_ms\":60,\"bytes\":104200000,\"rounds\":3,"                  \
    "\"retransmits\":2,\"verified\":true,\"stop\":\"threshold\","           \
    "\"tracking\":\"uffd-wp\",\"verify_ms\":3.5,\"checked\":24576,"        \
    "\"mismatches\":0,\"writes\":41000,\"faults\":9000,\"max_rounds\":30,"  \
    "\"stop_bytes\":204800,\"max_factor\":3.0,"                           \
    "\"timeline\":[{\"t_ms\":1.5,\"conn\":0,"                               \
    "\"cwnd\":10,\"rtt_us\":210,\"total_retrans\":0,\"unacked\":4,"         \
    "\"notsent\":0}],\"round_list\":" ROUNDS extra "}"
#define BODY(extra) "{\"from\":\"h1\",\"to\":\"h4\",\"report\":" REPORT(extra) "}"

static bool
parse(const char *body, struct transfer_post *p, struct rest_error *e)
{
    return transfer_parse_post(body, strlen(body), p, e);
}

static void
test_parse_good(void **state)
{
    (void) state;
    struct transfer_post p;
    struct rest_error e;
    assert_true(parse(BODY(""), &p, &e));
    assert_string_equal(p.from, "h1");
    assert_string_equal(p.to, "h4");
    assert_string_equal(p.mode, "en");
    assert_string_equal(p.transport, "tcp");
    assert_int_equal(p.mem_mb, 96);
    assert_int_equal(p.paths, 1);
    assert_int_equal(p.n_rounds, 3);
    assert_float_equal(p.round_list[1].t_ms, 320, 0);
    assert_float_equal(p.round_list[2].v_bytes, 160000, 0);
    double g;
    assert_true(transfer_goodput(&p, &g));
    assert_float_equal(g, 104e6 / 8.32, 1e-6);
    transfer_post_destroy(&p);
    transfer_post_destroy(&p); /* twice is harmless */

    /* Only what the learner needs is required. */
    static const char minimal[] =
        "{\"from\":\"a\",\"to\":\"b\",\"report\":{\"mode\":\"ack\","
        "\"mem_mb\":1,\"dirty_pps\":0,\"paths\":2,\"transport\":\"mptcp\","
        "\"total_ms\":10,\"downtime_ms\":10,\"bytes\":4096,\"rounds\":1,"
        "\"round_list\":[{\"round\":1,\"start_ms\":0,\"t_ms\":10,"
        "\"v_bytes\":4096,\"pages\":1}]}}";
    assert_true(parse(minimal, &p, &e));
    /* One round: its own rate. */
    assert_true(transfer_goodput(&p, &g));
    assert_float_equal(g, 409600, 1e-9);
    transfer_post_destroy(&p);
}

/* Each bad body: its status and code, and '*p' untouched. */
static void
test_parse_bad(void **state)
{
    (void) state;
    static const struct {
        const char *body;
        int status;
        const char *code;
    } cases[] = {
        {"", 400, "bad_json"},
        {"nope", 400, "bad_json"},
        {"[]", 400, "bad_json"},
        {"{\"from\":\"h1\",\"from\":\"h2\"}", 400, "bad_json"},
        {"{\"from\":\"h1\",\"to\":\"h4\",\"report\":{\"total_ms\":1e999}}",
         400, "bad_json"},
        {"{\"from\":\"h1\",\"to\":\"h4\"}", 422, "missing_field"},
        {"{\"to\":\"h4\",\"report\":{}}", 422, "missing_field"},
        {"{\"from\":\"h1\",\"to\":\"h4\",\"report\":[]}", 422,
         "invalid_type"},
        {"{\"from\":\"h 1\",\"to\":\"h4\",\"report\":{}}", 422,
         "invalid_name"},
        {"{\"from\":\"h1\",\"to\":\"h1\",\"report\":{}}", 422,
         "invalid_value"},
        {"{\"from\":1,\"to\":\"h4\",\"report\":{}}", 422, "invalid_type"},
        {"{\"from\":\"h1\",\"to\":\"h4\",\"x\":1,\"report\":{}}", 422,
         "unknown_field"},
        {BODY(",\"extra\":1"), 422, "unknown_field"},
        {BODY(",\"verified\":false"), 400, "bad_json"}, /* duplicate key */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct transfer_post p;
        memset(&p, 0xa5, sizeof p);
        struct rest_error e = {0};
        if (parse(cases[i].body, &p, &e)) {
            fail_msg("case %zu accepted", i);
        }
        if (e.status != cases[i].status || strcmp(e.code, cases[i].code)) {
            fail_msg("case %zu: %d %s (%s), want %d %s", i, e.status, e.code,
                     e.message, cases[i].status, cases[i].code);
        }
        unsigned char *b = (unsigned char *) &p;
        for (size_t k = 0; k < sizeof p; k++) {
            assert_int_equal(b[k], 0xa5);
        }
    }
}

/* One field of a valid report changed at a time ("KEY":VALUE replaced). */
static void
test_parse_fields(void **state)
{
    (void) state;
    static const struct {
        const char *from, *to, *code;
    } cases[] = {
        {"\"mode\":\"en\"", "\"mode\":\"fast\"", "invalid_value"},
        {"\"mode\":\"en\"", "\"mode\":1", "invalid_type"},
        {"\"mem_mb\":96", "\"mem_mb\":0", "invalid_value"},
        {"\"mem_mb\":96", "\"mem_mb\":96.5", "invalid_type"},
        {"\"mem_mb\":96", "\"mem_mb\":16777217", "invalid_value"},
        {"\"dirty_pps\":5000", "\"dirty_pps\":-1", "invalid_value"},
        {"\"dirty_pps\":5000", "\"dirty_pps\":\"x\"", "invalid_type"},
        {"\"paths\":1", "\"paths\":0", "invalid_value"},
        {"\"paths\":1", "\"paths\":65", "invalid_value"},
        {"\"transport\":\"tcp\"", "\"transport\":\"udp\"", "invalid_value"},
        {"\"total_ms\":8400", "\"total_ms\":0", "invalid_value"},
        {"\"total_ms\":8400", "\"total_ms\":1e300", "invalid_value"},
        {"\"downtime_ms\":60", "\"downtime_ms\":9000", "invalid_value"},
        {"\"bytes\":104200000", "\"bytes\":-5", "invalid_value"},
        {"\"bytes\":104200000", "\"bytes\":1e17", "invalid_type"},
        {"\"rounds\":3", "\"rounds\":2", "invalid_value"},
        {"\"rounds\":3", "\"rounds\":1001", "invalid_value"},
        {"\"retransmits\":2", "\"retransmits\":-2", "invalid_value"},
        {"\"verified\":true", "\"verified\":false", "not_verified"},
        {"\"verified\":true", "\"verified\":1", "invalid_type"},
        {"\"stop\":\"threshold\"", "\"stop\":\"\"", "invalid_type"},
        {"\"verify_ms\":3.5", "\"verify_ms\":-3.5", "invalid_value"},
        {"\"mismatches\":0", "\"mismatches\":0.5", "invalid_type"},
        {"\"max_rounds\":30", "\"max_rounds\":1", "invalid_value"},
        {"\"max_factor\":3.0", "\"max_factor\":\"3\"", "invalid_type"},
        {"\"max_factor\":3.0", "\"max_factor\":3.0,\"error\":7",
         "invalid_type"},
        {"\"hot\":null", "\"hot\":{\"pages_pct\":10}", "missing_field"},
        {"\"hot\":null", "\"hot\":{\"pages_pct\":10,\"writes_pct\":101}",
         "invalid_value"},
        {"\"hot\":null", "\"hot\":[]", "invalid_type"},
        {"\"cwnd\":10", "\"cwnd\":-10", "invalid_value"},
        {"\"cwnd\":10", "\"cwnd\":10,\"x\":1", "unknown_field"},
        {"\"round\":2", "\"round\":3", "invalid_value"},
        {"\"round\":2", "\"round\":0", "invalid_value"},
        {"\"start_ms\":8320", "\"start_ms\":10", "invalid_value"},
        {"\"t_ms\":320", "\"t_ms\":-1", "invalid_value"},
        {"\"t_ms\":320", "\"t_ms\":null", "missing_field"},
        {"\"v_bytes\":4000000", "\"v_bytes\":4000000.5", "invalid_type"},
        {"\"pages\":976", "\"pages\":976,\"what\":1", "unknown_field"},
    };
    const char *good = BODY("");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *at = strstr(good, cases[i].from);
        assert_non_null(at);
        char body[4096];
        snprintf(body, sizeof body, "%.*s%s%s", (int) (at - good), good,
                 cases[i].to, at + strlen(cases[i].from));
        struct transfer_post p;
        struct rest_error e = {0};
        if (parse(body, &p, &e)) {
            transfer_post_destroy(&p);
            fail_msg("case %zu (%s) accepted", i, cases[i].to);
        }
        if (e.status != 422 || strcmp(e.code, cases[i].code)) {
            fail_msg("case %zu (%s): %d %s (%s), want 422 %s", i,
                     cases[i].to, e.status, e.code, e.message,
                     cases[i].code);
        }
    }
}

static void
test_goodput_nothing(void **state)
{
    (void) state;
    struct transfer_round r[2] = {{1, 0, 0, 100, 1}, {2, 0, 5, 10, 1}};
    struct transfer_post p = {.round_list = r, .n_rounds = 2};
    double g = -1;
    assert_false(transfer_goodput(&p, &g)); /* no time in round 1 */
    r[0] = (struct transfer_round){1, 0, 10, 0, 0};
    assert_false(transfer_goodput(&p, &g)); /* no bytes */
    assert_float_equal(g, -1, 0);
}

static void
test_per_path_and_median(void **state)
{
    (void) state;
    assert_float_equal(transfer_per_path(100, 1, 0.05), 100, 0);
    /* 2 paths at 5 % overhead carry 1.9 x one path. */
    assert_float_equal(transfer_per_path(190, 2, 0.05), 100, 1e-9);
    assert_float_equal(transfer_per_path(270, 3, 0.05), 100, 1e-9);
    double v[] = {5, 1, 4, 2, 3};
    assert_float_equal(transfer_median(v, 5), 3, 0);
    assert_float_equal(transfer_median(v, 4), 3, 0); /* 1 2 4 5 */
    assert_float_equal(transfer_median(v, 1), 5, 0);
    assert_float_equal(v[0], 5, 0); /* not sorted in place */
}

static struct transfer_post
post_of(const char *from, const char *to, double total_ms, uint32_t paths)
{
    struct transfer_post p = {.mem_mb = 1, .paths = paths, .rounds = 2,
                              .total_ms = total_ms};
    snprintf(p.from, sizeof p.from, "%s", from);
    snprintf(p.to, sizeof p.to, "%s", to);
    snprintf(p.mode, sizeof p.mode, "en");
    snprintf(p.transport, sizeof p.transport, "tcp");
    return p;
}

static void
test_learning(void **state)
{
    (void) state;
    struct transfers *t = transfers_create();
    double bw;
    uint64_t n;
    assert_false(transfers_learned(t, "a", "b", &bw, &n));
    struct transfer_estimate none = {0};
    struct transfer_estimate nominal = {.has = true, .error_ratio = 0.9};
    struct transfer_estimate learned = {.has = true, .learned = true,
                                        .learned_n = 1, .error_ratio = 0.05};
    struct transfer_post p = post_of("a", "b", 1000, 1);

    /* Goodputs 10, 1000 (an outlier), 12, 11: the median ignores it. */
    const double g[] = {10, 1000, 12, 11};
    const double want[] = {10, 505, 12, 11.5};
    for (size_t i = 0; i < 4; i++) {
        const struct transfer_entry *en = transfers_add(
            t, &p, g[i], 0.05, i ? &learned : &nominal, 1000 + i);
        assert_non_null(en);
        assert_int_equal(en->id, i + 1);
        assert_true(transfers_learned(t, "a", "b", &bw, &n));
        assert_float_equal(bw, want[i], 1e-12);
        assert_int_equal(n, i + 1);
    }
    /* Directional: b -> a learned nothing. */
    assert_false(transfers_learned(t, "b", "a", &bw, &n));
    /* Two paths: the per-path goodput is stored. */
    struct transfer_post two = post_of("b", "a", 1000, 2);
    const struct transfer_entry *en = transfers_add(t, &two, 190, 0.05,
                                                    &none, 5);
    assert_float_equal(en->path_Bps, 100, 1e-9);
    assert_true(transfers_learned(t, "b", "a", &bw, &n));
    assert_float_equal(bw, 100, 1e-9);
    assert_int_equal(transfers_n_pairs(t), 2);

    /* The window holds the last TRANSFERS_WINDOW only. */
    for (size_t i = 0; i < TRANSFERS_WINDOW; i++) {
        transfers_add(t, &p, 50, 0.05, &learned, 10);
    }
    assert_true(transfers_learned(t, "a", "b", &bw, &n));
    assert_float_equal(bw, 50, 0);
    assert_int_equal(n, 4 + TRANSFERS_WINDOW);
    const struct transfer_pair *pr = transfers_find_pair(t, "a", "b");
    assert_int_equal(pr->n_window, TRANSFERS_WINDOW);
    assert_int_equal(pr->last_id, 5 + TRANSFERS_WINDOW);

    /* The list keeps the newest TRANSFERS_KEEP, oldest first. */
    for (size_t i = 0; i < TRANSFERS_KEEP; i++) {
        transfers_add(t, &p, 50, 0.05, &none, 20);
    }
    assert_int_equal(transfers_n(t), TRANSFERS_KEEP);
    assert_int_equal(transfers_get(t, 0)->id, 5 + TRANSFERS_WINDOW + 1);
    assert_int_equal(transfers_get(t, TRANSFERS_KEEP - 1)->id,
                     5 + TRANSFERS_WINDOW + TRANSFERS_KEEP);
    assert_null(transfers_get(t, TRANSFERS_KEEP));

    /* The histogram: 1 nominal (0.9), 3 + 8 learned (0.05 each). */
    struct strbuf sb;
    strbuf_init(&sb);
    assert_int_equal(transfers_metrics(t, &sb), 0);
    const char *txt = strbuf_str(&sb);
    assert_non_null(strstr(txt, "# TYPE mignet_transfer_estimate_error_ratio "
                                "histogram\n"));
    assert_non_null(strstr(txt, "mignet_transfer_estimate_error_ratio_count"
                                "{source=\"nominal\"} 1\n"));
    assert_non_null(strstr(txt, "mignet_transfer_estimate_error_ratio_bucket"
                                "{source=\"nominal\",le=\"0.5\"} 0\n"));
    assert_non_null(strstr(txt, "mignet_transfer_estimate_error_ratio_bucket"
                                "{source=\"nominal\",le=\"1\"} 1\n"));
    assert_non_null(strstr(txt, "mignet_transfer_estimate_error_ratio_count"
                                "{source=\"learned\"} 11\n"));
    assert_non_null(strstr(txt, "mignet_transfer_estimate_error_ratio_bucket"
                                "{source=\"learned\",le=\"0.05\"} 11\n"));
    char want_total[64];
    snprintf(want_total, sizeof want_total, "mignet_transfers_total %u\n",
             5 + TRANSFERS_WINDOW + TRANSFERS_KEEP);
    assert_non_null(strstr(txt, want_total));
    strbuf_destroy(&sb);
    transfers_destroy(t);
    transfers_destroy(NULL);
}

static void
test_pairs_full(void **state)
{
    (void) state;
    struct transfers *t = transfers_create();
    struct transfer_estimate none = {0};
    char name[16];
    for (unsigned i = 0; i < TRANSFERS_PAIRS_MAX; i++) {
        snprintf(name, sizeof name, "n%u", i);
        struct transfer_post p = post_of("src", name, 10, 1);
        assert_non_null(transfers_add(t, &p, 1, 0.05, &none, 1));
    }
    struct transfer_post p = post_of("src", "one-more", 10, 1);
    assert_null(transfers_add(t, &p, 1, 0.05, &none, 1));
    assert_int_equal(transfers_n(t), TRANSFERS_KEEP);
    /* A known pair still learns. */
    p = post_of("src", "n0", 10, 1);
    assert_non_null(transfers_add(t, &p, 3, 0.05, &none, 1));
    transfers_destroy(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_goodput_nothing),
        cmocka_unit_test(test_per_path_and_median),
        cmocka_unit_test(test_learning),
        cmocka_unit_test(test_pairs_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
