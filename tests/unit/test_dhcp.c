/* test_dhcp.c: the DHCP parser and builder against frames written here by
 * hand, byte by byte (checksums from tests/fuzz/gen_dhcp_corpus.py, an
 * independent encoder), and one mutation per error.
 *
 * It must never build its expectations with the code under test: golden
 * bytes are literals, and the builder is checked against them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mignet/dhcp.h"

struct gf {
    uint8_t b[2048];
    size_t n;
};

static void
gf_put(struct gf *f, const uint8_t *p, size_t n)
{
    assert_true(f->n + n <= sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

#define PUT(F, ...)                                                          \
    do {                                                                     \
        static const uint8_t put_[] = {__VA_ARGS__};                         \
        gf_put(F, put_, sizeof put_);                                        \
    } while (0)

static void
gf_zero(struct gf *f, size_t n)
{
    static const uint8_t zeros[256];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        gf_put(f, zeros, k);
        n -= k;
    }
}

static const uint8_t client_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t server_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
static const uint8_t vlan_mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define IP(A, B, C, D)                                                       \
    ((uint32_t) (A) << 24 | (uint32_t) (B) << 16 | (uint32_t) (C) << 8 | (D))

/* Offsets in an untagged frame. */
#define OFS_IP 14
#define OFS_UDP 34
#define OFS_BOOTP 42
#define OFS_OPTS 282

/* DHCPACK 198.18.0.1 -> 198.18.0.10, lease 3600 s, T1 1800, T2 3150. */
static void
golden_ack(struct gf *f)
{
    f->n = 0;
    PUT(f, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56); /* dst: the client */
    PUT(f, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe); /* src: the server */
    PUT(f, 0x08, 0x00);                         /* IPv4 */
    PUT(f, 0x45, 0x00, 0x01, 0x48,              /* v4, IHL 5, len 328 */
        0x00, 0x00, 0x40, 0x00,                 /* id 0, DF */
        0x40, 0x11, 0xad, 0x75,                 /* TTL 64, UDP, csum */
        198, 18, 0, 1, 198, 18, 0, 10);
    PUT(f, 0x00, 0x43, 0x00, 0x44, 0x01, 0x34, 0x90, 0x43); /* 67->68 */
    PUT(f, 0x02, 0x01, 0x06, 0x00,          /* reply, Ethernet, hops 0 */
        0x39, 0x03, 0xf3, 0x26,             /* xid */
        0x00, 0x00, 0x00, 0x00,             /* secs, flags */
        0, 0, 0, 0, 198, 18, 0, 10,         /* ciaddr, yiaddr */
        198, 18, 0, 1, 0, 0, 0, 0,          /* siaddr, giaddr */
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56); /* chaddr */
    gf_zero(f, 10 + 64 + 128);              /* chaddr pad, sname, file */
    PUT(f, 99, 130, 83, 99);                /* magic cookie */
    PUT(f, 53, 1, 5,                        /* DHCPACK */
        54, 4, 198, 18, 0, 1,               /* server id */
        51, 4, 0x00, 0x00, 0x0e, 0x10,      /* lease 3600 */
        58, 4, 0x00, 0x00, 0x07, 0x08,      /* T1 1800 */
        59, 4, 0x00, 0x00, 0x0c, 0x4e,      /* T2 3150 */
        1, 4, 255, 255, 254, 0,             /* mask */
        3, 4, 198, 18, 0, 1,                /* router */
        255);                               /* end */
    gf_zero(f, 342 - f->n);
}

/* DHCPNAK, broadcast, with a message option (56) the parser skips. */
static void
golden_nak(struct gf *f)
{
    f->n = 0;
    PUT(f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    PUT(f, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe);
    PUT(f, 0x08, 0x00);
    PUT(f, 0x45, 0x00, 0x01, 0x48, 0x00, 0x00, 0x40, 0x00,
        0x40, 0x11, 0x73, 0x92,
        198, 18, 0, 1, 255, 255, 255, 255);
    PUT(f, 0x00, 0x43, 0x00, 0x44, 0x01, 0x34, 0x18, 0xe0);
    PUT(f, 0x02, 0x01, 0x06, 0x00, 0x39, 0x03, 0xf3, 0x27,
        0x00, 0x00, 0x80, 0x00,             /* broadcast flag */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
    gf_zero(f, 10 + 64 + 128);
    PUT(f, 99, 130, 83, 99);
    PUT(f, 53, 1, 6,                        /* DHCPNAK */
        54, 4, 198, 18, 0, 1,
        56, 10, 'l', 'e', 'a', 's', 'e', ' ', 'g', 'o', 'n', 'e',
        255);
    gf_zero(f, 342 - f->n);
}

/* DHCPRELEASE of 198.18.0.10, unicast to the server, with a client id. */
static void
golden_release(struct gf *f)
{
    f->n = 0;
    PUT(f, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe);
    PUT(f, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
    PUT(f, 0x08, 0x00);
    PUT(f, 0x45, 0x00, 0x01, 0x48, 0x00, 0x00, 0x40, 0x00,
        0x40, 0x11, 0xad, 0x75,
        198, 18, 0, 10, 198, 18, 0, 1);
    PUT(f, 0x00, 0x44, 0x00, 0x43, 0x01, 0x34, 0x40, 0xb0); /* 68->67 */
    PUT(f, 0x01, 0x01, 0x06, 0x00, 0x11, 0x22, 0x33, 0x44,
        0x00, 0x00, 0x00, 0x00,
        198, 18, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
    gf_zero(f, 10 + 64 + 128);
    PUT(f, 99, 130, 83, 99);
    PUT(f, 53, 1, 7,                        /* DHCPRELEASE */
        54, 4, 198, 18, 0, 1,
        61, 7, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, /* client id */
        255);
    gf_zero(f, 342 - f->n);
}

/* DHCPACK in VLAN 100 (PCP 5), infinite lease, hostname "vm-1". */
static void
golden_vlan_ack(struct gf *f)
{
    f->n = 0;
    PUT(f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    PUT(f, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe);
    PUT(f, 0x81, 0x00, 0xa0, 0x64);         /* 802.1Q, PCP 5, VID 100 */
    PUT(f, 0x08, 0x00);
    PUT(f, 0x45, 0x00, 0x01, 0x48, 0x00, 0x00, 0x40, 0x00,
        0x40, 0x11, 0x72, 0x92,
        198, 18, 1, 1, 255, 255, 255, 255);
    PUT(f, 0x00, 0x43, 0x00, 0x44, 0x01, 0x34, 0x55, 0x02);
    PUT(f, 0x02, 0x01, 0x06, 0x00, 0xca, 0xfe, 0xf0, 0x0d,
        0x00, 0x00, 0x80, 0x00,
        0, 0, 0, 0, 198, 18, 1, 20, 0, 0, 0, 0, 0, 0, 0, 0,
        0x52, 0x54, 0x00, 0xab, 0xcd, 0xef);
    gf_zero(f, 10 + 64 + 128);
    PUT(f, 99, 130, 83, 99);
    PUT(f, 53, 1, 5,
        54, 4, 198, 18, 1, 1,
        51, 4, 0xff, 0xff, 0xff, 0xff,      /* infinite */
        1, 4, 255, 255, 255, 0,
        12, 4, 'v', 'm', '-', '1',
        255);
    gf_zero(f, 346 - f->n);
}

/* Test-local RFC 1071 checksum, so mutations can keep a valid header. */
static void
fix_ip_csum(uint8_t *ip)
{
    size_t ihl = (size_t) (ip[0] & 0xf) * 4;
    uint32_t sum = 0;
    ip[10] = ip[11] = 0;
    for (size_t i = 0; i < ihl; i += 2) {
        sum += (uint32_t) ip[i] << 8 | ip[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10] = (uint8_t) (~sum >> 8);
    ip[11] = (uint8_t) ~sum;
}

/* Shrinks or grows an untagged frame so BOOTP is 'bootp' bytes long,
 * keeping the IPv4 and UDP lengths consistent. */
static void
set_bootp_len(struct gf *f, size_t bootp)
{
    size_t udp = 8 + bootp;
    f->b[OFS_IP + 2] = (uint8_t) ((20 + udp) >> 8);
    f->b[OFS_IP + 3] = (uint8_t) (20 + udp);
    f->b[OFS_UDP + 4] = (uint8_t) (udp >> 8);
    f->b[OFS_UDP + 5] = (uint8_t) udp;
    fix_ip_csum(f->b + OFS_IP);
    f->n = OFS_BOOTP + bootp;
}

/* The golden ACK with its option field replaced by exactly 'opts'. */
static void
ack_with_opts(struct gf *f, const char *opts, size_t n)
{
    golden_ack(f);
    memcpy(f->b + OFS_OPTS, opts, n);
    set_bootp_len(f, 240 + n);
}

static void
assert_parse(const struct gf *f, unsigned flags, struct dhcp_msg *m)
{
    enum dhcp_err e = dhcp_parse_frame(f->b, f->n, flags, m);
    if (e) {
        fail_msg("parse: %s", dhcp_errname(e));
    }
}

/* Builds 'm' and compares with the golden bytes. */
static void
assert_builds_to(const struct dhcp_msg *m, const struct gf *want)
{
    uint8_t buf[DHCP_FRAME_MAX];
    size_t len = 0;
    assert_int_equal(dhcp_build(m, buf, sizeof buf, &len), DHCP_E_OK);
    assert_int_equal(len, want->n);
    assert_memory_equal(buf, want->b, len);
}

static void
test_golden_ack(void **state)
{
    (void) state;
    struct gf f;
    struct dhcp_msg m;
    golden_ack(&f);
    assert_parse(&f, DHCP_PARSE_UDP_CSUM, &m);

    assert_memory_equal(m.eth_dst, client_mac, 6);
    assert_memory_equal(m.eth_src, server_mac, 6);
    assert_false(m.vlan_tagged);
    assert_int_equal(m.ip_src, IP(198, 18, 0, 1));
    assert_int_equal(m.ip_dst, IP(198, 18, 0, 10));
    assert_int_equal(m.udp_src, 67);
    assert_int_equal(m.udp_dst, 68);
    assert_int_equal(m.op, DHCP_OP_REPLY);
    assert_int_equal(m.xid, 0x3903f326);
    assert_int_equal(m.flags, 0);
    assert_int_equal(m.ciaddr, 0);
    assert_int_equal(m.yiaddr, IP(198, 18, 0, 10));
    assert_int_equal(m.siaddr, IP(198, 18, 0, 1));
    assert_int_equal(m.giaddr, 0);
    assert_memory_equal(m.chaddr, client_mac, 6);
    assert_int_equal(m.type, DHCP_ACK);
    assert_string_equal(dhcp_type_name(m.type), "ack");
    assert_int_equal(m.server_id, IP(198, 18, 0, 1));
    assert_int_equal(m.lease_s, 3600);
    assert_int_equal(m.renewal_s, 1800);
    assert_int_equal(m.rebinding_s, 3150);
    assert_int_equal(m.subnet_mask, IP(255, 255, 254, 0));
    assert_int_equal(m.router, IP(198, 18, 0, 1));
    assert_int_equal(m.opts,
                     DHCP_HAS(DHCP_OPT_MSG_TYPE) | DHCP_HAS(DHCP_OPT_SERVER_ID)
                         | DHCP_HAS(DHCP_OPT_LEASE_TIME)
                         | DHCP_HAS(DHCP_OPT_RENEWAL_TIME)
                         | DHCP_HAS(DHCP_OPT_REBINDING_TIME)
                         | DHCP_HAS(DHCP_OPT_SUBNET_MASK)
                         | DHCP_HAS(DHCP_OPT_ROUTER));
    assert_false(dhcp_msg_has(&m, DHCP_OPT_HOSTNAME));
    assert_builds_to(&m, &f);

    /* The same message built from scratch, as a server would. */
    struct dhcp_msg b;
    dhcp_msg_init(&b, DHCP_ACK, 0x3903f326, client_mac);
    memcpy(b.eth_src, server_mac, 6);
    b.ip_src = IP(198, 18, 0, 1);
    b.ip_dst = IP(198, 18, 0, 10);
    b.yiaddr = IP(198, 18, 0, 10);
    b.siaddr = IP(198, 18, 0, 1);
    b.server_id = IP(198, 18, 0, 1);
    b.lease_s = 3600;
    b.renewal_s = 1800;
    b.rebinding_s = 3150;
    b.subnet_mask = IP(255, 255, 254, 0);
    b.router = IP(198, 18, 0, 1);
    b.opts |= DHCP_HAS(DHCP_OPT_SERVER_ID) | DHCP_HAS(DHCP_OPT_LEASE_TIME)
              | DHCP_HAS(DHCP_OPT_RENEWAL_TIME)
              | DHCP_HAS(DHCP_OPT_REBINDING_TIME)
              | DHCP_HAS(DHCP_OPT_SUBNET_MASK) | DHCP_HAS(DHCP_OPT_ROUTER);
    assert_builds_to(&b, &f);

    /* The BOOTP payload alone parses to the same BOOTP fields. */
    struct dhcp_msg p;
    assert_int_equal(dhcp_parse_bootp(f.b + OFS_BOOTP, f.n - OFS_BOOTP, &p),
                     DHCP_E_OK);
    assert_int_equal(p.xid, m.xid);
    assert_int_equal(p.lease_s, 3600);
    assert_int_equal(p.ip_src, 0);
    assert_int_equal(p.udp_src, 0);
}

static void
test_golden_nak(void **state)
{
    (void) state;
    struct gf f;
    struct dhcp_msg m;
    golden_nak(&f);
    assert_parse(&f, DHCP_PARSE_UDP_CSUM, &m);
    assert_memory_equal(m.eth_dst, bcast_mac, 6);
    assert_int_equal(m.ip_dst, UINT32_MAX);
    assert_int_equal(m.type, DHCP_NAK);
    assert_int_equal(m.xid, 0x3903f327);
    assert_int_equal(m.flags, DHCP_FLAG_BROADCAST);
    assert_int_equal(m.yiaddr, 0);
    assert_int_equal(m.server_id, IP(198, 18, 0, 1));
    assert_memory_equal(m.chaddr, client_mac, 6);
    /* Option 56 was skipped, not taken for anything. */
    assert_int_equal(m.opts, DHCP_HAS(DHCP_OPT_MSG_TYPE)
                                 | DHCP_HAS(DHCP_OPT_SERVER_ID));
}

static void
test_golden_release(void **state)
{
    (void) state;
    struct gf f;
    struct dhcp_msg m;
    golden_release(&f);
    assert_parse(&f, DHCP_PARSE_UDP_CSUM, &m);
    assert_memory_equal(m.eth_src, client_mac, 6);
    assert_memory_equal(m.eth_dst, server_mac, 6);
    assert_int_equal(m.udp_src, 68);
    assert_int_equal(m.udp_dst, 67);
    assert_int_equal(m.op, DHCP_OP_REQUEST);
    assert_int_equal(m.type, DHCP_RELEASE);
    assert_int_equal(m.xid, 0x11223344);
    assert_int_equal(m.ciaddr, IP(198, 18, 0, 10));
    assert_int_equal(m.server_id, IP(198, 18, 0, 1));
    assert_int_equal(m.client_id_len, 7);
    static const uint8_t cid[7] = {1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    assert_memory_equal(m.client_id, cid, 7);
    assert_builds_to(&m, &f);

    struct dhcp_msg b;
    dhcp_msg_init(&b, DHCP_RELEASE, 0x11223344, client_mac);
    memcpy(b.eth_dst, server_mac, 6);
    b.ip_src = b.ciaddr = IP(198, 18, 0, 10);
    b.ip_dst = b.server_id = IP(198, 18, 0, 1);
    memcpy(b.client_id, cid, sizeof cid);
    b.client_id_len = sizeof cid;
    b.opts |= DHCP_HAS(DHCP_OPT_SERVER_ID) | DHCP_HAS(DHCP_OPT_CLIENT_ID);
    assert_builds_to(&b, &f);
}

static void
test_golden_vlan_ack(void **state)
{
    (void) state;
    struct gf f;
    struct dhcp_msg m;
    golden_vlan_ack(&f);
    assert_parse(&f, DHCP_PARSE_UDP_CSUM, &m);
    assert_true(m.vlan_tagged);
    assert_int_equal(m.vlan, 100);
    assert_int_equal(m.vlan_pcp, 5);
    assert_int_equal(m.type, DHCP_ACK);
    assert_int_equal(m.xid, 0xcafef00d);
    assert_int_equal(m.yiaddr, IP(198, 18, 1, 20));
    assert_memory_equal(m.chaddr, vlan_mac, 6);
    assert_int_equal(m.lease_s, DHCP_LEASE_INFINITE);
    assert_int_equal(m.subnet_mask, IP(255, 255, 255, 0));
    assert_int_equal(m.hostname_len, 4);
    assert_string_equal(m.hostname, "vm-1");
    assert_builds_to(&m, &f);
}

/* Options continued in 'file' and 'sname' (overload 3); the hostname is
 * split over all three fields and joined in RFC 2131 order. */
static void
test_overload(void **state)
{
    (void) state;
    struct gf f;
    struct dhcp_msg m;
    static const char opts[] = "\x35\x01\x05\x34\x01\x03\x0c\x02vm\xff";
    static const char file[] = "\x33\x04\x00\x00\x00\x3c\x0c\x03-ov\xff";
    static const char sname[] = "\x36\x04\xc6\x12\x00\x01\x0c\x02" "er\xff";

    ack_with_opts(&f, opts, sizeof opts - 1);
    memcpy(f.b + OFS_BOOTP + 108, file, sizeof file - 1);
    memcpy(f.b + OFS_BOOTP + 44, sname, sizeof sname - 1);
    assert_parse(&f, 0, &m);
    assert_int_equal(m.overload, 3);
    assert_true(dhcp_msg_has(&m, DHCP_OPT_OVERLOAD));
    assert_int_equal(m.lease_s, 60);
    assert_int_equal(m.server_id, IP(198, 18, 0, 1));
    assert_string_equal(m.hostname, "vm-over");

    /* Overload 1: only 'file' is read; sname's options are ignored. */
    f.b[OFS_OPTS + 5] = 1;
    assert_parse(&f, 0, &m);
    assert_string_equal(m.hostname, "vm-ov");
    assert_false(dhcp_msg_has(&m, DHCP_OPT_SERVER_ID));

    /* Overload 2: only 'sname'. */
    f.b[OFS_OPTS + 5] = 2;
    assert_parse(&f, 0, &m);
    assert_string_equal(m.hostname, "vmer");
    assert_false(dhcp_msg_has(&m, DHCP_OPT_LEASE_TIME));

    /* A file field that never ends. */
    f.b[OFS_OPTS + 5] = 1;
    memset(f.b + OFS_BOOTP + 108, 0, 128);
    assert_int_equal(dhcp_parse_frame(f.b, f.n, 0, &m), DHCP_E_NO_END);

    /* Option 52 inside 'file'. */
    memcpy(f.b + OFS_BOOTP + 108, "\x34\x01\x01\xff", 4);
    assert_int_equal(dhcp_parse_frame(f.b, f.n, 0, &m),
                     DHCP_E_BAD_OVERLOAD);
}

static void
test_padding_and_ip_options(void **state)
{
    (void) state;
    struct gf f;
    struct dhcp_msg m;

    /* Ethernet padding after the IPv4 packet is ignored. */
    golden_ack(&f);
    gf_zero(&f, 20);
    assert_parse(&f, DHCP_PARSE_UDP_CSUM, &m);
    assert_int_equal(m.lease_s, 3600);

    /* An IPv4 header with 4 bytes of options (IHL 6). */
    golden_ack(&f);
    memmove(f.b + OFS_UDP + 4, f.b + OFS_UDP, f.n - OFS_UDP);
    memset(f.b + OFS_UDP, 0x01, 4); /* NOPs */
    f.n += 4;
    f.b[OFS_IP] = 0x46;
    f.b[OFS_IP + 3] += 4;
    fix_ip_csum(f.b + OFS_IP);
    assert_parse(&f, DHCP_PARSE_UDP_CSUM, &m);
    assert_int_equal(m.yiaddr, IP(198, 18, 0, 10));

    /* Options padded with PAD before END; shortest legal BOOTP. */
    static const char opts[] = "\x00\x35\x01\x05\x00\x00\xff";
    ack_with_opts(&f, opts, sizeof opts - 1);
    assert_parse(&f, 0, &m);
    assert_int_equal(m.type, DHCP_ACK);

    /* RFC 3396: a hostname split in two instances. */
    static const char split[] = "\x35\x01\x05\x0c\x03vm-\x0c\x03one\xff";
    ack_with_opts(&f, split, sizeof split - 1);
    assert_parse(&f, 0, &m);
    assert_string_equal(m.hostname, "vm-one");
    assert_int_equal(m.hostname_len, 6);

    /* A checksum of zero means "none", even when checking. */
    golden_ack(&f);
    f.b[OFS_UDP + 6] = f.b[OFS_UDP + 7] = 0;
    assert_parse(&f, DHCP_PARSE_UDP_CSUM, &m);
}

/* One header mutation of a golden frame and the error it must give. */
struct mutation {
    const char *what;
    void (*golden)(struct gf *);
    size_t at;          /* where 'bytes' go */
    size_t n;           /* how many of 'bytes' */
    uint8_t bytes[4];
    bool fix_ip;        /* recompute the IPv4 checksum after */
    size_t cut;         /* then truncate to this length, 0 = keep */
    unsigned flags;
    enum dhcp_err want;
};

static const struct mutation mutations[] = {
    {"13-byte frame", golden_ack, 0, 0, {0}, false, 13, 0,
     DHCP_E_TRUNC_ETH},
    {"ends in the VLAN tag", golden_vlan_ack, 0, 0, {0}, false, 17, 0,
     DHCP_E_TRUNC_VLAN},
    {"two 802.1Q tags", golden_vlan_ack, 16, 2, {0x81, 0x00}, false, 0, 0,
     DHCP_E_STACKED_VLAN},
    {"an 802.1ad tag", golden_ack, 12, 2, {0x88, 0xa8}, false, 0, 0,
     DHCP_E_STACKED_VLAN},
    {"IPv6", golden_ack, 12, 2, {0x86, 0xdd}, false, 0, 0,
     DHCP_E_NOT_IPV4},
    {"ARP", golden_vlan_ack, 16, 2, {0x08, 0x06}, false, 0, 0,
     DHCP_E_NOT_IPV4},
    {"19 bytes of IPv4", golden_ack, 0, 0, {0}, false, 33, 0,
     DHCP_E_TRUNC_IP},
    {"IP version 6", golden_ack, OFS_IP, 1, {0x65}, true, 0, 0,
     DHCP_E_BAD_IP_VERSION},
    {"IHL 4", golden_ack, OFS_IP, 1, {0x44}, false, 0, 0, DHCP_E_BAD_IHL},
    {"IHL past the frame", golden_ack, OFS_IP, 1, {0x4f}, false, 60, 0,
     DHCP_E_BAD_IHL},
    {"total length 19", golden_ack, OFS_IP + 2, 2, {0x00, 0x13}, true, 0,
     0, DHCP_E_BAD_IP_LEN},
    {"total length past the frame", golden_ack, OFS_IP + 2, 2,
     {0x01, 0x49}, true, 0, 0, DHCP_E_BAD_IP_LEN},
    {"IP checksum", golden_ack, OFS_IP + 11, 1, {0x76}, false, 0, 0,
     DHCP_E_BAD_IP_CSUM},
    {"more fragments", golden_ack, OFS_IP + 6, 2, {0x20, 0x00}, true, 0, 0,
     DHCP_E_IP_FRAGMENT},
    {"fragment offset", golden_ack, OFS_IP + 6, 2, {0x00, 0x01}, true, 0,
     0, DHCP_E_IP_FRAGMENT},
    {"TCP", golden_ack, OFS_IP + 9, 1, {6}, true, 0, 0, DHCP_E_NOT_UDP},
    {"UDP length short by one", golden_ack, OFS_UDP + 5, 1, {0x33}, false,
     0, 0, DHCP_E_BAD_UDP_LEN},
    {"UDP length 7", golden_ack, OFS_UDP + 4, 2, {0x00, 0x07}, false, 0, 0,
     DHCP_E_BAD_UDP_LEN},
    {"UDP checksum", golden_ack, OFS_UDP + 7, 1, {0x44}, false, 0,
     DHCP_PARSE_UDP_CSUM, DHCP_E_BAD_UDP_CSUM},
    {"payload byte under the UDP checksum", golden_ack, OFS_OPTS + 20, 1,
     {0x11}, false, 0, DHCP_PARSE_UDP_CSUM, DHCP_E_BAD_UDP_CSUM},
    {"port 69", golden_ack, OFS_UDP + 3, 1, {69}, false, 0, 0,
     DHCP_E_BAD_PORTS},
    {"68->68", golden_ack, OFS_UDP + 1, 1, {68}, false, 0, 0,
     DHCP_E_BAD_PORTS},
    {"op 3", golden_ack, OFS_BOOTP, 1, {3}, false, 0, 0, DHCP_E_BAD_OP},
    {"op 0", golden_ack, OFS_BOOTP, 1, {0}, false, 0, 0, DHCP_E_BAD_OP},
    {"request sent to the client port", golden_release, OFS_UDP, 4,
     {0x00, 0x43, 0x00, 0x44}, false, 0, 0, DHCP_E_OP_PORTS},
    {"reply from the client port", golden_ack, OFS_UDP, 4,
     {0x00, 0x44, 0x00, 0x43}, false, 0, 0, DHCP_E_OP_PORTS},
    {"htype 6", golden_ack, OFS_BOOTP + 1, 1, {6}, false, 0, 0,
     DHCP_E_BAD_HTYPE},
    {"hlen 16", golden_ack, OFS_BOOTP + 2, 1, {16}, false, 0, 0,
     DHCP_E_BAD_HTYPE},
    {"cookie", golden_ack, OFS_BOOTP + 239, 1, {0x62}, false, 0, 0,
     DHCP_E_BAD_COOKIE},
    {"ACK with op request", golden_ack, OFS_BOOTP, 1, {1}, false, 0, 0,
     DHCP_E_TYPE_OP},
    {"RELEASE with op reply", golden_release, OFS_BOOTP, 1, {2}, false, 0,
     0, DHCP_E_TYPE_OP},
};

static void
test_mutations(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof mutations / sizeof mutations[0]; i++) {
        const struct mutation *mu = &mutations[i];
        struct gf f;
        struct dhcp_msg m, before;

        mu->golden(&f);
        memcpy(f.b + mu->at, mu->bytes, mu->n);
        if (mu->fix_ip) {
            fix_ip_csum(f.b + OFS_IP);
        }
        if (mu->cut) {
            f.n = mu->cut;
        }
        memset(&m, 0xab, sizeof m);
        memcpy(&before, &m, sizeof m);
        enum dhcp_err e = dhcp_parse_frame(f.b, f.n, mu->flags, &m);
        if (e != mu->want) {
            fail_msg("%s: got %s, want %s", mu->what, dhcp_errname(e),
                     dhcp_errname(mu->want));
        }
        /* Rejected input leaves the output as it was. */
        assert_memory_equal(&m, &before, sizeof m);
    }
}

/* BOOTP shorter than header + cookie, with consistent IP/UDP lengths. */
static void
test_truncated_layers(void **state)
{
    (void) state;
    struct gf f;
    struct dhcp_msg m;

    golden_ack(&f);
    set_bootp_len(&f, 239);
    assert_int_equal(dhcp_parse_frame(f.b, f.n, 0, &m),
                     DHCP_E_TRUNC_BOOTP);
    golden_ack(&f);
    set_bootp_len(&f, 240);
    assert_int_equal(dhcp_parse_frame(f.b, f.n, 0, &m), DHCP_E_NO_END);
    /* IPv4 payload of 7 bytes: no room for UDP. */
    golden_ack(&f);
    f.b[OFS_IP + 2] = 0;
    f.b[OFS_IP + 3] = 27;
    fix_ip_csum(f.b + OFS_IP);
    f.n = OFS_UDP + 7;
    assert_int_equal(dhcp_parse_frame(f.b, f.n, 0, &m), DHCP_E_TRUNC_UDP);
    /* Every prefix of a good frame fails cleanly. */
    golden_vlan_ack(&f);
    for (size_t n = 0; n < f.n; n++) {
        assert_int_not_equal(dhcp_parse_frame(f.b, n, 0, &m), DHCP_E_OK);
    }
    assert_int_equal(dhcp_parse_bootp(f.b, 10, &m), DHCP_E_TRUNC_BOOTP);
}

struct opt_case {
    const char *what;
    const char *opts;
    size_t n;
    enum dhcp_err want;
};
#define OPTS(S) S, sizeof S - 1

static const struct opt_case opt_cases[] = {
    {"length byte missing", OPTS("\x35\x01\x05\x36"), DHCP_E_OPT_TRUNC},
    {"data past the field", OPTS("\x35\x01\x05\x36\x08\xc6\x12"),
     DHCP_E_OPT_OVERRUN},
    {"no end", OPTS("\x35\x01\x05"), DHCP_E_NO_END},
    {"only pads", OPTS("\x35\x01\x05\x00\x00\x00"), DHCP_E_NO_END},
    {"type of length 2", OPTS("\x35\x02\x05\x00\xff"), DHCP_E_BAD_OPT_LEN},
    {"server id of length 3", OPTS("\x35\x01\x05\x36\x03\xc6\x12\x00\xff"),
     DHCP_E_BAD_OPT_LEN},
    {"lease of length 5",
     OPTS("\x35\x01\x05\x33\x05\x00\x00\x00\x3c\x00\xff"),
     DHCP_E_BAD_OPT_LEN},
    {"router of length 6",
     OPTS("\x35\x01\x05\x03\x06\xc6\x12\x00\x01\x00\x00\xff"),
     DHCP_E_BAD_OPT_LEN},
    {"empty hostname", OPTS("\x35\x01\x05\x0c\x00\xff"),
     DHCP_E_BAD_OPT_LEN},
    {"client id of 1 byte", OPTS("\x35\x01\x05\x3d\x01\x01\xff"),
     DHCP_E_BAD_OPT_LEN},
    {"overload of length 2", OPTS("\x35\x01\x05\x34\x02\x01\x01\xff"),
     DHCP_E_BAD_OPT_LEN},
    {"two types", OPTS("\x35\x01\x05\x35\x01\x05\xff"), DHCP_E_DUP_OPTION},
    {"two server ids",
     OPTS("\x35\x01\x05\x36\x04\xc6\x12\x00\x01\x36\x04\xc6\x12\x00\x02"
          "\xff"),
     DHCP_E_DUP_OPTION},
    {"two leases",
     OPTS("\x35\x01\x05\x33\x04\x00\x00\x00\x3c\x33\x04\x00\x00\x00\x3d"
          "\xff"),
     DHCP_E_DUP_OPTION},
    {"two overloads", OPTS("\x35\x01\x05\x34\x01\x01\x34\x01\x01\xff"),
     DHCP_E_DUP_OPTION},
    {"overload 4", OPTS("\x35\x01\x05\x34\x01\x04\xff"),
     DHCP_E_BAD_OVERLOAD},
    {"overload 0", OPTS("\x35\x01\x05\x34\x01\x00\xff"),
     DHCP_E_BAD_OVERLOAD},
    {"no type", OPTS("\x36\x04\xc6\x12\x00\x01\xff"), DHCP_E_NO_MSG_TYPE},
    {"empty options", OPTS("\xff"), DHCP_E_NO_MSG_TYPE},
    {"type 9", OPTS("\x35\x01\x09\xff"), DHCP_E_BAD_MSG_TYPE},
    {"type 0", OPTS("\x35\x01\x00\xff"), DHCP_E_BAD_MSG_TYPE},
    {"DISCOVER in a reply", OPTS("\x35\x01\x01\xff"), DHCP_E_TYPE_OP},
};

static void
test_option_errors(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof opt_cases / sizeof opt_cases[0]; i++) {
        const struct opt_case *c = &opt_cases[i];
        struct gf f;
        struct dhcp_msg m, before;
        ack_with_opts(&f, c->opts, c->n);
        memset(&m, 0x5a, sizeof m);
        memcpy(&before, &m, sizeof m);
        enum dhcp_err e = dhcp_parse_frame(f.b, f.n, 0, &m);
        if (e != c->want) {
            fail_msg("%s: got %s, want %s", c->what, dhcp_errname(e),
                     dhcp_errname(c->want));
        }
        assert_memory_equal(&m, &before, sizeof m);
    }

    /* Concatenated hostname over 255 bytes. */
    struct gf f;
    struct dhcp_msg m;
    char opts[3 + 2 * 202 + 1];
    memcpy(opts, "\x35\x01\x05", 3);
    for (int k = 0; k < 2; k++) {
        opts[3 + k * 202] = 12;
        opts[4 + k * 202] = (char) 200;
        memset(opts + 5 + k * 202, 'a', 200);
    }
    opts[sizeof opts - 1] = (char) 0xff;
    ack_with_opts(&f, opts, sizeof opts);
    assert_int_equal(dhcp_parse_frame(f.b, f.n, 0, &m),
                     DHCP_E_OPT_TOO_LONG);
    /* Exactly 255 is fine. */
    opts[4 + 202] = 55;
    opts[5 + 202 + 55] = (char) 0xff;
    ack_with_opts(&f, opts, 5 + 202 + 56);
    assert_parse(&f, 0, &m);
    assert_int_equal(m.hostname_len, 255);
    assert_int_equal(strlen(m.hostname), 255);
}

static void
test_build_errors(void **state)
{
    (void) state;
    struct dhcp_msg m;
    uint8_t buf[DHCP_FRAME_MAX];
    size_t len = 7;

    dhcp_msg_init(&m, DHCP_DISCOVER, 1, client_mac);
    assert_int_equal(m.op, DHCP_OP_REQUEST);
    assert_memory_equal(m.eth_src, client_mac, 6);
    assert_memory_equal(m.eth_dst, bcast_mac, 6);
    assert_int_equal(dhcp_build(&m, buf, 341, &len), DHCP_E_NO_SPACE);
    assert_int_equal(len, 7);
    assert_int_equal(dhcp_build(&m, buf, 342, &len), DHCP_E_OK);
    assert_int_equal(len, 342);

    struct dhcp_msg bad = m;
    bad.vlan_tagged = true;
    bad.vlan = 4096;
    assert_int_equal(dhcp_build(&bad, buf, sizeof buf, &len),
                     DHCP_E_BAD_FIELD);
    bad = m;
    bad.vlan_tagged = true;
    bad.vlan_pcp = 8;
    assert_int_equal(dhcp_build(&bad, buf, sizeof buf, &len),
                     DHCP_E_BAD_FIELD);
    bad = m;
    bad.type = (enum dhcp_type) 9;
    assert_int_equal(dhcp_build(&bad, buf, sizeof buf, &len),
                     DHCP_E_BAD_FIELD);
    bad = m;
    bad.opts |= DHCP_HAS(DHCP_OPT_HOSTNAME);
    assert_int_equal(dhcp_build(&bad, buf, sizeof buf, &len),
                     DHCP_E_BAD_FIELD);
    bad = m;
    bad.opts |= DHCP_HAS(DHCP_OPT_CLIENT_ID);
    bad.client_id_len = 1;
    assert_int_equal(dhcp_build(&bad, buf, sizeof buf, &len),
                     DHCP_E_BAD_FIELD);
    assert_int_equal(len, 342);

    /* Without the type bit no option 53 is written, and the parser says
     * so. */
    bad = m;
    bad.opts = 0;
    assert_int_equal(dhcp_build(&bad, buf, sizeof buf, &len), DHCP_E_OK);
    assert_int_equal(dhcp_parse_frame(buf, len, 0, &bad),
                     DHCP_E_NO_MSG_TYPE);
}

/* Every message type the agent and the tests build comes back whole. */
static void
test_build_round_trip(void **state)
{
    (void) state;
    static const enum dhcp_type types[] = {
        DHCP_DISCOVER, DHCP_OFFER, DHCP_REQUEST, DHCP_DECLINE,
        DHCP_ACK,      DHCP_NAK,   DHCP_RELEASE, DHCP_INFORM,
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct dhcp_msg m, back;
        uint8_t buf[DHCP_FRAME_MAX];
        size_t len;
        dhcp_msg_init(&m, types[i], 0x1000 + (uint32_t) i, vlan_mac);
        m.vlan_tagged = i % 2;
        m.vlan = m.vlan_tagged ? (uint16_t) (i * 500) : 0;
        m.requested_ip = IP(198, 18, 3, (uint32_t) i);
        m.opts |= DHCP_HAS(DHCP_OPT_REQUESTED_IP);
        memcpy(m.hostname, "host", 5);
        m.hostname_len = 4;
        m.opts |= DHCP_HAS(DHCP_OPT_HOSTNAME);
        assert_int_equal(dhcp_build(&m, buf, sizeof buf, &len), DHCP_E_OK);
        assert_int_equal(dhcp_parse_frame(buf, len, DHCP_PARSE_UDP_CSUM,
                                          &back),
                         DHCP_E_OK);
        assert_memory_equal(&m, &back, sizeof m);
        assert_int_equal(back.type, types[i]);
        assert_true(dhcp_type_is_reply(types[i])
                    == (back.op == DHCP_OP_REPLY));
    }
}

static void
test_names(void **state)
{
    (void) state;
    assert_string_equal(dhcp_errname(DHCP_E_BAD_COOKIE), "bad_cookie");
    assert_string_equal(dhcp_strerror(DHCP_E_OK), "success");
    assert_string_equal(dhcp_errname((enum dhcp_err) 999), "unknown");
    assert_string_equal(dhcp_strerror((enum dhcp_err) 999), "unknown error");
    assert_string_equal(dhcp_type_name(DHCP_TYPE_NONE), "none");
    assert_string_equal(dhcp_type_name(DHCP_RELEASE), "release");
    assert_string_equal(dhcp_type_name((enum dhcp_type) 42), "unknown");
    /* Names are distinct, so logs tell errors apart. */
    for (int i = 0; i < DHCP_N_ERRORS; i++) {
        for (int j = i + 1; j < DHCP_N_ERRORS; j++) {
            assert_string_not_equal(dhcp_errname((enum dhcp_err) i),
                                    dhcp_errname((enum dhcp_err) j));
            assert_string_not_equal(dhcp_strerror((enum dhcp_err) i),
                                    dhcp_strerror((enum dhcp_err) j));
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_ack),
        cmocka_unit_test(test_golden_nak),
        cmocka_unit_test(test_golden_release),
        cmocka_unit_test(test_golden_vlan_ack),
        cmocka_unit_test(test_overload),
        cmocka_unit_test(test_padding_and_ip_options),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_truncated_layers),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_build_round_trip),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
