/* test_precopy_wire.c: the pre-copy engine's wire format (src/transfer/
 * wire.c): every frame round-trips, every prefix of a frame waits for
 * more, and every malformed header or field is refused without touching
 * the output; the page checksum tells pages and indexes apart. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/transfer.h"

static uint8_t page[PRECOPY_PAGE_SIZE];
static uint8_t buf[PRECOPY_MAX_FRAME + 64];

static void
fill_page(uint8_t *p, unsigned seed)
{
    for (size_t i = 0; i < PRECOPY_PAGE_SIZE; i++) {
        p[i] = (uint8_t) (i * 31 + seed * 7 + (i >> 8));
    }
}

static void
parse_ok(const uint8_t *b, size_t len, struct precopy_msg *m)
{
    size_t used = 0;
    assert_int_equal(precopy_wire_parse(b, len, m, &used), 0);
    assert_int_equal(used, len);
}

static void
test_hello_round_trip(void **state)
{
    (void) state;
    struct precopy_msg m;
    size_t n = precopy_wire_hello(buf, sizeof buf, 1, 2, 8192);
    assert_int_equal(n, PRECOPY_HDR_LEN + 20);
    parse_ok(buf, n, &m);
    assert_int_equal(m.type, PRECOPY_MSG_HELLO);
    assert_int_equal(m.u.hello.version, PRECOPY_WIRE_VERSION);
    assert_int_equal(m.u.hello.conn, 1);
    assert_int_equal(m.u.hello.n_conns, 2);
    assert_int_equal(m.u.hello.page_size, PRECOPY_PAGE_SIZE);
    assert_int_equal(m.u.hello.n_pages, 8192);
}

static void
test_page_round_trip(void **state)
{
    (void) state;
    struct precopy_msg m;
    fill_page(page, 3);
    size_t n = precopy_wire_page(buf, sizeof buf, 7, 4095, page);
    assert_int_equal(n, PRECOPY_PAGE_FRAME);
    parse_ok(buf, n, &m);
    assert_int_equal(m.type, PRECOPY_MSG_PAGE);
    assert_int_equal(m.u.page.round, 7);
    assert_int_equal(m.u.page.index, 4095);
    assert_memory_equal(m.u.page.data, page, PRECOPY_PAGE_SIZE);
    assert_ptr_equal(m.u.page.data, buf + PRECOPY_HDR_LEN + 8);
    assert_true(precopy_wire_check(&m, 4096));
    assert_false(precopy_wire_check(&m, 4095));
}

static void
test_csum_done_verdict_round_trip(void **state)
{
    (void) state;
    struct precopy_msg m;
    uint64_t sums[3] = {1, UINT64_MAX, UINT64_C(0x0123456789abcdef)};
    size_t n = precopy_wire_csum(buf, sizeof buf, 100, sums, 3);
    assert_int_equal(n, PRECOPY_HDR_LEN + 8 + 24);
    parse_ok(buf, n, &m);
    assert_int_equal(m.type, PRECOPY_MSG_CSUM);
    assert_int_equal(m.u.csum.first, 100);
    assert_int_equal(m.u.csum.count, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_true(precopy_wire_csum_at(&m, i) == sums[i]);
    }
    assert_true(precopy_wire_check(&m, 103));
    assert_false(precopy_wire_check(&m, 102));
    assert_false(precopy_wire_check(&m, 100));

    n = precopy_wire_done(buf, sizeof buf, UINT64_C(1) << 40);
    parse_ok(buf, n, &m);
    assert_int_equal(m.type, PRECOPY_MSG_DONE);
    assert_true(m.u.done.pages == UINT64_C(1) << 40);

    n = precopy_wire_verdict(buf, sizeof buf, 8192, 3);
    parse_ok(buf, n, &m);
    assert_int_equal(m.type, PRECOPY_MSG_VERDICT);
    assert_int_equal(m.u.verdict.checked, 8192);
    assert_int_equal(m.u.verdict.mismatches, 3);
    assert_true(precopy_wire_check(&m, 8192));
    assert_false(precopy_wire_check(&m, 8191));
}

static void
test_largest_csum_frame(void **state)
{
    (void) state;
    struct precopy_msg m;
    uint64_t *sums = calloc(PRECOPY_CSUM_PER_FRAME + 1, sizeof *sums);
    assert_non_null(sums);
    size_t n = precopy_wire_csum(buf, sizeof buf, 0, sums,
                                 PRECOPY_CSUM_PER_FRAME);
    assert_int_equal(n, PRECOPY_MAX_FRAME);
    parse_ok(buf, n, &m);
    assert_int_equal(m.u.csum.count, PRECOPY_CSUM_PER_FRAME);
    /* One more does not encode; nor none. */
    assert_int_equal(precopy_wire_csum(buf, sizeof buf, 0, sums,
                                       PRECOPY_CSUM_PER_FRAME + 1), 0);
    assert_int_equal(precopy_wire_csum(buf, sizeof buf, 0, sums, 0), 0);
    free(sums);
}

/* Every strict prefix of a valid frame asks for more, and sets nothing. */
static void
test_prefixes_wait(void **state)
{
    (void) state;
    fill_page(page, 1);
    size_t n = precopy_wire_page(buf, sizeof buf, 1, 0, page);
    for (size_t len = 0; len < n; len++) {
        struct precopy_msg m = {.type = 0};
        size_t used = 12345;
        assert_int_equal(precopy_wire_parse(buf, len, &m, &used), EAGAIN);
        assert_int_equal(used, 12345);
        assert_int_equal(m.type, 0);
    }
}

static void
expect_proto(const uint8_t *b, size_t len)
{
    struct precopy_msg m = {.type = 0};
    size_t used = 777;
    assert_int_equal(precopy_wire_parse(b, len, &m, &used), EPROTO);
    assert_int_equal(used, 777);
    assert_int_equal(m.type, 0);
}

static void
test_bad_headers(void **state)
{
    (void) state;
    size_t n = precopy_wire_done(buf, sizeof buf, 5);
    /* Unknown types, seen from the first byte. */
    for (unsigned t = 0; t < 256; t++) {
        if (t >= PRECOPY_MSG_HELLO && t <= PRECOPY_MSG_VERDICT) {
            continue;
        }
        buf[0] = (uint8_t) t;
        expect_proto(buf, 1);
        expect_proto(buf, n);
    }
    buf[0] = PRECOPY_MSG_DONE;
    /* Nonzero pad bytes. */
    for (int i = 1; i < 4; i++) {
        buf[i] = 1;
        expect_proto(buf, (size_t) i + 1);
        expect_proto(buf, n);
        buf[i] = 0;
    }
    /* A length wrong for the type: DONE of 7 and 9 bytes, a huge one. */
    buf[7] = 7;
    expect_proto(buf, n);
    buf[7] = 9;
    expect_proto(buf, n + 1);
    buf[4] = 0xff;
    buf[7] = 8;
    expect_proto(buf, n);
    buf[4] = 0;
    struct precopy_msg m;
    parse_ok(buf, n, &m);
}

static void
test_bad_fields(void **state)
{
    (void) state;
    size_t n;
    /* HELLO: magic, version, pad, conn >= n_conns, n_conns 0 and too
     * many, page size, n_pages 0 and too many. */
    static const struct {
        size_t off;
        uint8_t val;
    } hello_bad[] = {
        {8, 0x00}, {13, 2}, {19, 1}, {15, 5}, {17, 0}, {17, 17},
        {22, 0x20}, {27, 0}, {24, 0x02},
    };
    for (size_t i = 0; i < sizeof hello_bad / sizeof hello_bad[0]; i++) {
        n = precopy_wire_hello(buf, sizeof buf, 1, 2, 8192);
        if (hello_bad[i].off == 27) {
            buf[26] = 0; /* n_pages 0 */
        }
        buf[hello_bad[i].off] = hello_bad[i].val;
        expect_proto(buf, n);
    }
    /* PAGE: round 0, index beyond PRECOPY_MAX_PAGES. */
    fill_page(page, 2);
    n = precopy_wire_page(buf, sizeof buf, 0, 1, page);
    expect_proto(buf, n);
    n = precopy_wire_page(buf, sizeof buf, 1, PRECOPY_MAX_PAGES, page);
    expect_proto(buf, n);
    /* CSUM: a count that disagrees with the length, a range past the
     * largest session. */
    uint64_t sums[2] = {1, 2};
    n = precopy_wire_csum(buf, sizeof buf, 0, sums, 2);
    buf[PRECOPY_HDR_LEN + 7] = 3;
    expect_proto(buf, n);
    n = precopy_wire_csum(buf, sizeof buf, PRECOPY_MAX_PAGES - 1, sums, 2);
    expect_proto(buf, n);
    /* VERDICT: more mismatches than pages checked. */
    n = precopy_wire_verdict(buf, sizeof buf, 2, 3);
    expect_proto(buf, n);
}

static void
test_encoders_refuse_small_buffers(void **state)
{
    (void) state;
    uint64_t sum = 1;
    fill_page(page, 4);
    assert_int_equal(precopy_wire_hello(buf, 27, 0, 1, 1), 0);
    assert_int_equal(precopy_wire_page(buf, PRECOPY_PAGE_FRAME - 1, 1, 0,
                                       page), 0);
    assert_int_equal(precopy_wire_csum(buf, 23, 0, &sum, 1), 0);
    assert_int_equal(precopy_wire_done(buf, 15, 1), 0);
    assert_int_equal(precopy_wire_verdict(buf, 0, 1, 0), 0);
}

/* Frames back to back parse one after the other. */
static void
test_stream(void **state)
{
    (void) state;
    size_t off = 0;
    fill_page(page, 5);
    off += precopy_wire_hello(buf + off, sizeof buf - off, 0, 1, 4);
    off += precopy_wire_page(buf + off, sizeof buf - off, 1, 3, page);
    off += precopy_wire_done(buf + off, sizeof buf - off, 1);
    enum precopy_msg_type want[] = {PRECOPY_MSG_HELLO, PRECOPY_MSG_PAGE,
                                    PRECOPY_MSG_DONE};
    size_t at = 0;
    for (size_t i = 0; i < 3; i++) {
        struct precopy_msg m;
        size_t used;
        assert_int_equal(precopy_wire_parse(buf + at, off - at, &m, &used),
                         0);
        assert_int_equal(m.type, want[i]);
        at += used;
    }
    assert_int_equal(at, off);
}

static void
test_page_sum(void **state)
{
    (void) state;
    static uint8_t a[PRECOPY_PAGE_SIZE], b[PRECOPY_PAGE_SIZE];
    fill_page(a, 9);
    memcpy(b, a, sizeof a);
    assert_true(precopy_page_sum(a, 5) == precopy_page_sum(b, 5));
    assert_true(precopy_page_sum(a, 5) != precopy_page_sum(a, 6));
    /* Any single bit flipped anywhere changes the sum. */
    for (size_t i = 0; i < PRECOPY_PAGE_SIZE; i += 61) {
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (uint8_t) (1u << bit);
            assert_true(precopy_page_sum(a, 5) != precopy_page_sum(b, 5));
            b[i] ^= (uint8_t) (1u << bit);
        }
    }
    /* Two words swapped change it too. */
    uint8_t t[8];
    memcpy(t, b, 8);
    memcpy(b, b + 8, 8);
    memcpy(b + 8, t, 8);
    assert_true(precopy_page_sum(a, 5) != precopy_page_sum(b, 5));
    /* An all-zero page does not sum to zero. */
    memset(b, 0, sizeof b);
    assert_true(precopy_page_sum(b, 0) != 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_round_trip),
        cmocka_unit_test(test_page_round_trip),
        cmocka_unit_test(test_csum_done_verdict_round_trip),
        cmocka_unit_test(test_largest_csum_frame),
        cmocka_unit_test(test_prefixes_wait),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_encoders_refuse_small_buffers),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_page_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
