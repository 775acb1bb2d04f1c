/* test_lldp.c: the LLDP discovery frame codec.
 *
 * The encoder is checked against bytes written out by hand from IEEE
 * 802.1AB's TLV layout (not against the decoder), the decoder against
 * frames that break each rule once, and the id extraction against every
 * way a chassis or port id can be foreign. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lldp.h"

static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x05};

/* dpid 0x1d, port 4, TTL 120, from 02:00:00:00:00:05. */
static const uint8_t expect_frame[LLDP_DISCOVERY_LEN] = {
    0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e,       /* nearest bridge */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x05,       /* source */
    0x88, 0xcc,                               /* LLDP */
    0x02, 0x16,                               /* type 1, length 22 */
    0x07,                                     /* locally assigned */
    'd', 'p', 'i', 'd', ':', '0', '0', '0', '0', '0', '0', '0', '0', '0',
    '0', '0', '0', '0', '0', '1', 'd',
    0x04, 0x05,                               /* type 2, length 5 */
    0x02, 0x00, 0x00, 0x00, 0x04,             /* port component, 4 */
    0x06, 0x02, 0x00, 0x78,                   /* type 3, TTL 120 */
    0x00, 0x00,                               /* End */
    /* padding to 60 bytes */
};

static void
test_encode_bytes(void **state)
{
    (void) state;
    uint8_t buf[LLDP_DISCOVERY_LEN + 8];
    memset(buf, 0xaa, sizeof buf);
    size_t n = lldp_encode_discovery(0x1d, 4, mac, 120, buf);
    assert_int_equal(n, LLDP_DISCOVERY_LEN);
    assert_memory_equal(buf, expect_frame, sizeof expect_frame);
    /* Nothing written past the frame. */
    assert_int_equal(buf[LLDP_DISCOVERY_LEN], 0xaa);
}

static void
test_round_trip(void **state)
{
    (void) state;
    static const uint64_t dpids[] = {1, 0x1d, 0xfedcba9876543210ull,
                                     UINT64_MAX};
    static const uint32_t ports[] = {1, 4, 65534, 0xffffff00u};
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 4; j++) {
            uint8_t buf[LLDP_DISCOVERY_LEN];
            struct lldp_pdu pdu;
            size_t n = lldp_encode_discovery(dpids[i], ports[j], mac, 7,
                                             buf);
            assert_int_equal(lldp_decode(buf, n, &pdu), LLDP_E_OK);
            assert_memory_equal(pdu.src, mac, 6);
            assert_int_equal(pdu.ttl, 7);
            uint64_t d = 0;
            uint32_t p = 0;
            assert_true(lldp_discovery_ids(&pdu, &d, &p));
            assert_true(d == dpids[i]);
            assert_int_equal(p, ports[j]);
        }
    }
}

/* A frame of the given TLV bytes after an Ethernet header. */
static size_t
frame(uint8_t *buf, const uint8_t *tlvs, size_t n)
{
    memcpy(buf, expect_frame, 14);
    memcpy(buf + 14, tlvs, n);
    return 14 + n;
}

struct bad_case {
    const char *what;
    uint8_t tlvs[40];
    size_t n;
    enum lldp_err err;
};

#define CH 0x02, 0x03, 0x07, 'a', 'b'   /* chassis "ab" */
#define PT 0x04, 0x02, 0x02, 0x01       /* port component 0x01 */
#define TTL 0x06, 0x02, 0x00, 0x78

static const struct bad_case bad_cases[] = {
    {"nothing after the header", {0}, 0, LLDP_E_MISSING},
    {"port first", {PT, CH, TTL, 0, 0}, 16, LLDP_E_MISSING},
    {"no port", {CH, TTL, 0, 0}, 11, LLDP_E_MISSING},
    {"chassis only, frame ends", {CH}, 5, LLDP_E_MISSING},
    {"chassis and port, frame ends", {CH, PT}, 9, LLDP_E_MISSING},
    {"chassis id empty", {0x02, 0x01, 0x07, PT, TTL}, 11, LLDP_E_BAD_LEN},
    {"chassis length 0", {0x02, 0x00, PT, TTL}, 10, LLDP_E_BAD_LEN},
    {"chassis runs past the end", {0x02, 0x30, 0x07, 'a'}, 4,
     LLDP_E_TRUNCATED},
    {"half a TLV header", {0x02}, 1, LLDP_E_TRUNCATED},
    {"ttl of 3 bytes", {CH, PT, 0x06, 0x03, 0, 0x78, 0}, 14,
     LLDP_E_BAD_LEN},
    {"ttl truncated", {CH, PT, 0x06, 0x02, 0x00}, 12, LLDP_E_TRUNCATED},
    {"second chassis", {CH, PT, TTL, CH, 0, 0}, 20, LLDP_E_DUPLICATE},
    {"second ttl", {CH, PT, TTL, TTL, 0, 0}, 19, LLDP_E_DUPLICATE},
    {"end with a length", {CH, PT, TTL, 0x00, 0x01, 0}, 16,
     LLDP_E_BAD_LEN},
    {"optional TLV overruns", {CH, PT, TTL, 0x08, 0x10, 'x'}, 16,
     LLDP_E_TRUNCATED},
};

static void
test_bad_frames(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        uint8_t buf[64];
        struct lldp_pdu pdu;
        size_t n = frame(buf, c->tlvs, c->n);
        enum lldp_err err = lldp_decode(buf, n, &pdu);
        if (err != c->err) {
            fail_msg("%s: got %s, want %s", c->what, lldp_errname(err),
                     lldp_errname(c->err));
        }
    }
}

static void
test_not_lldp(void **state)
{
    (void) state;
    uint8_t buf[LLDP_DISCOVERY_LEN];
    struct lldp_pdu pdu;
    lldp_encode_discovery(1, 1, mac, 120, buf);
    assert_int_equal(lldp_decode(NULL, 0, &pdu), LLDP_E_SHORT);
    assert_int_equal(lldp_decode(buf, 13, &pdu), LLDP_E_SHORT);
    buf[13] = 0xcd;
    assert_int_equal(lldp_decode(buf, sizeof buf, &pdu), LLDP_E_NOT_LLDP);
    /* Every truncation of a good frame inside its TLVs fails cleanly. */
    lldp_encode_discovery(1, 1, mac, 120, buf);
    for (size_t n = 14; n < 49; n++) {
        enum lldp_err err = lldp_decode(buf, n, &pdu);
        assert_true(err == LLDP_E_MISSING || err == LLDP_E_TRUNCATED);
    }
    /* Cut after the TTL (no End TLV) is a whole PDU. */
    assert_int_equal(lldp_decode(buf, 49, &pdu), LLDP_E_OK);
}

static void
test_optional_tlvs_skipped(void **state)
{
    (void) state;
    static const uint8_t tlvs[] = {
        CH, PT, TTL,
        0x0a, 0x03, 's', 'w', '1',     /* system name */
        0xfe, 0x04, 0x00, 0x26, 0xe1, 0x00, /* organizationally specific */
        0x00, 0x00,
    };
    uint8_t buf[64];
    struct lldp_pdu pdu;
    size_t n = frame(buf, tlvs, sizeof tlvs);
    assert_int_equal(lldp_decode(buf, n, &pdu), LLDP_E_OK);
    assert_int_equal(pdu.chassis_subtype, 7);
    assert_int_equal(pdu.chassis_len, 2);
    assert_memory_equal(pdu.chassis_id, "ab", 2);
    assert_int_equal(pdu.port_len, 1);
    assert_int_equal(pdu.ttl, 120);
    /* A trailing zero byte of padding without an End TLV is fine. */
    static const uint8_t tlvs2[] = {CH, PT, TTL, 0x00};
    n = frame(buf, tlvs2, sizeof tlvs2);
    assert_int_equal(lldp_decode(buf, n, &pdu), LLDP_E_OK);
}

static void
test_foreign_ids(void **state)
{
    (void) state;
    uint8_t buf[LLDP_DISCOVERY_LEN];
    struct lldp_pdu good, pdu;
    uint64_t d = 99;
    uint32_t p = 99;
    lldp_encode_discovery(0xabc, 9, mac, 120, buf);
    assert_int_equal(lldp_decode(buf, sizeof buf, &good), LLDP_E_OK);
    assert_true(lldp_discovery_ids(&good, &d, &p));

    pdu = good;
    pdu.chassis_subtype = 4; /* a MAC address: another LLDP speaker */
    assert_false(lldp_discovery_ids(&pdu, &d, &p));
    pdu = good;
    pdu.chassis_id[10] = 'g';
    assert_false(lldp_discovery_ids(&pdu, &d, &p));
    pdu = good;
    pdu.chassis_id[0] = 'D';
    assert_false(lldp_discovery_ids(&pdu, &d, &p));
    pdu = good;
    pdu.chassis_len = 20;
    assert_false(lldp_discovery_ids(&pdu, &d, &p));
    pdu = good;
    pdu.port_subtype = 5; /* interface name */
    assert_false(lldp_discovery_ids(&pdu, &d, &p));
    pdu = good;
    pdu.port_len = 2;
    assert_false(lldp_discovery_ids(&pdu, &d, &p));
    pdu = good;
    memset(pdu.port_id, 0, 4); /* port 0 */
    assert_false(lldp_discovery_ids(&pdu, &d, &p));
    pdu = good;
    memcpy(pdu.port_id, "\xff\xff\xff\xfe", 4); /* OFPP_CONTROLLER */
    assert_false(lldp_discovery_ids(&pdu, &d, &p));
    /* Nothing written on refusal. */
    assert_true(d == 0xabc);
    assert_int_equal(p, 9);
    /* Upper-case hex is accepted. */
    pdu = good;
    memcpy(pdu.chassis_id + 18, "ABC", 3);
    assert_true(lldp_discovery_ids(&pdu, &d, &p));
    assert_true(d == 0xabc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_bytes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_not_lldp),
        cmocka_unit_test(test_optional_tlvs_skipped),
        cmocka_unit_test(test_foreign_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
