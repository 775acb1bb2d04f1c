/* dhcp.c: bounds-checked DHCP parser and builder (see mignet/dhcp.h).
 *
 * Every read is preceded by a length check against the bytes the caller
 * gave; nothing is allocated and nothing outside the output struct is
 * written.  The parser fills a local copy and publishes it only when the
 * whole message was accepted, so a rejected frame changes nothing. */
#include "mignet/dhcp.h"

#include <string.h>

#include "lib/bytes.h"

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_QINQ 0x88a8
#define ETH_TYPE_QINQ_OLD 0x9100
#define IPV4_MIN_HDR 20
#define IPV4_PROTO_UDP 17
#define IPV4_MF 0x2000
#define IPV4_DF 0x4000
#define IPV4_OFFSET_MASK 0x1fff
#define UDP_HDR_LEN 8
#define BOOTP_SNAME_OFS 44
#define BOOTP_SNAME_LEN 64
#define BOOTP_FILE_OFS 108
#define BOOTP_FILE_LEN 128
#define BOOTP_COOKIE_OFS 236
#define BOOTP_MIN_LEN 300 /* conventional minimum (RFC 1542 2.1) */
#define OPT_PAD 0
#define OPT_END 255

static const uint8_t dhcp_cookie[4] = {99, 130, 83, 99};

static const struct {
    const char *name, *msg;
} dhcp_errs[] = {
#define DHCP_ERR(ENUM, NAME, MSG) {NAME, MSG},
    DHCP_ERRORS
#undef DHCP_ERR
};

const char *
dhcp_errname(enum dhcp_err e)
{
    return (unsigned) e < DHCP_N_ERRORS ? dhcp_errs[e].name : "unknown";
}

const char *
dhcp_strerror(enum dhcp_err e)
{
    return (unsigned) e < DHCP_N_ERRORS ? dhcp_errs[e].msg : "unknown error";
}

const char *
dhcp_type_name(enum dhcp_type t)
{
    switch (t) {
    case DHCP_TYPE_NONE:
        return "none";
#define DHCP_TYPE(ENUM, CODE, NAME)                                          \
    case DHCP_##ENUM:                                                        \
        return NAME;
        DHCP_TYPES
#undef DHCP_TYPE
    }
    return "unknown";
}

bool
dhcp_type_is_reply(enum dhcp_type t)
{
    return t == DHCP_OFFER || t == DHCP_ACK || t == DHCP_NAK;
}

static bool
dhcp_type_valid(unsigned t)
{
    return t >= DHCP_DISCOVER && t <= DHCP_INFORM;
}

/* Internet checksum (RFC 1071): accumulate 16-bit big-endian words. */
static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2) {
        sum += bytes_get16(p + i);
    }
    if (i < n) {
        sum += (uint32_t) p[i] << 8;
    }
    return sum;
}

static uint16_t
csum_finish(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

/* The UDP pseudo-header sum (RFC 768). */
static uint32_t
csum_pseudo(uint32_t src, uint32_t dst, uint16_t udp_len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff)
           + IPV4_PROTO_UDP + udp_len;
}

/* ---- Options ---- */

enum opt_field { FIELD_OPTIONS, FIELD_FILE, FIELD_SNAME };

/* A single-valued option: rejects a second instance. */
static enum dhcp_err
opt_once(struct dhcp_msg *m, enum dhcp_opt opt)
{
    if (dhcp_msg_has(m, opt)) {
        return DHCP_E_DUP_OPTION;
    }
    m->opts |= DHCP_HAS(opt);
    return DHCP_E_OK;
}

/* A single-valued four-byte option. */
static enum dhcp_err
opt_u32(struct dhcp_msg *m, enum dhcp_opt opt, const uint8_t *v, size_t len,
        uint32_t *dst)
{
    if (len != 4) {
        return DHCP_E_BAD_OPT_LEN;
    }
    enum dhcp_err e = opt_once(m, opt);
    if (!e) {
        *dst = bytes_get32(v);
    }
    return e;
}

/* An option that RFC 3396 lets a sender split into several instances:
 * appends them in order, up to 'max' bytes in total. */
static enum dhcp_err
opt_concat(struct dhcp_msg *m, enum dhcp_opt opt, const uint8_t *v,
           size_t len, uint8_t *dst, size_t *dst_len, size_t max)
{
    if (len > max - *dst_len) {
        return DHCP_E_OPT_TOO_LONG;
    }
    memcpy(dst + *dst_len, v, len);
    *dst_len += len;
    m->opts |= DHCP_HAS(opt);
    return DHCP_E_OK;
}

static enum dhcp_err
opt_take(struct dhcp_msg *m, uint8_t code, const uint8_t *v, size_t len,
         enum opt_field field)
{
    enum dhcp_err e;

    switch (code) {
    case 1:
        return opt_u32(m, DHCP_OPT_SUBNET_MASK, v, len, &m->subnet_mask);
    case 3:
        if (len < 4 || len % 4) {
            return DHCP_E_BAD_OPT_LEN;
        }
        e = opt_once(m, DHCP_OPT_ROUTER);
        if (!e) {
            m->router = bytes_get32(v);
        }
        return e;
    case 12:
        return opt_concat(m, DHCP_OPT_HOSTNAME, v, len,
                          (uint8_t *) m->hostname, &m->hostname_len,
                          DHCP_HOSTNAME_MAX);
    case 50:
        return opt_u32(m, DHCP_OPT_REQUESTED_IP, v, len, &m->requested_ip);
    case 51:
        return opt_u32(m, DHCP_OPT_LEASE_TIME, v, len, &m->lease_s);
    case 52:
        if (field != FIELD_OPTIONS) {
            return DHCP_E_BAD_OVERLOAD;
        }
        if (len != 1) {
            return DHCP_E_BAD_OPT_LEN;
        }
        if (v[0] < 1 || v[0] > 3) {
            return DHCP_E_BAD_OVERLOAD;
        }
        e = opt_once(m, DHCP_OPT_OVERLOAD);
        if (!e) {
            m->overload = v[0];
        }
        return e;
    case 53:
        if (len != 1) {
            return DHCP_E_BAD_OPT_LEN;
        }
        if (!dhcp_type_valid(v[0])) {
            return DHCP_E_BAD_MSG_TYPE;
        }
        e = opt_once(m, DHCP_OPT_MSG_TYPE);
        if (!e) {
            m->type = (enum dhcp_type) v[0];
        }
        return e;
    case 54:
        return opt_u32(m, DHCP_OPT_SERVER_ID, v, len, &m->server_id);
    case 58:
        return opt_u32(m, DHCP_OPT_RENEWAL_TIME, v, len, &m->renewal_s);
    case 59:
        return opt_u32(m, DHCP_OPT_REBINDING_TIME, v, len, &m->rebinding_s);
    case 61:
        return opt_concat(m, DHCP_OPT_CLIENT_ID, v, len, m->client_id,
                          &m->client_id_len, DHCP_CLIENT_ID_MAX);
    default:
        return DHCP_E_OK; /* not ours: skipped, its length already checked */
    }
}

/* Walks one option field ('n' bytes at 'f'), which must end with END. */
static enum dhcp_err
opt_field_parse(struct dhcp_msg *m, const uint8_t *f, size_t n,
                enum opt_field field)
{
    size_t i = 0;

    for (;;) {
        if (i >= n) {
            return DHCP_E_NO_END;
        }
        uint8_t code = f[i];
        if (code == OPT_PAD) {
            i++;
            continue;
        }
        if (code == OPT_END) {
            return DHCP_E_OK;
        }
        if (n - i < 2) {
            return DHCP_E_OPT_TRUNC;
        }
        size_t len = f[i + 1];
        if (len > n - i - 2) {
            return DHCP_E_OPT_OVERRUN;
        }
        enum dhcp_err e = opt_take(m, code, f + i + 2, len, field);
        if (e) {
            return e;
        }
        i += 2 + len;
    }
}

/* ---- Parser ---- */

/* Parses BOOTP and options into '*m', which the caller zeroed. */
static enum dhcp_err
bootp_parse(const uint8_t *b, size_t n, struct dhcp_msg *m)
{
    enum dhcp_err e;

    if (n < DHCP_BOOTP_MIN) {
        return DHCP_E_TRUNC_BOOTP;
    }
    m->op = b[0];
    if (m->op != DHCP_OP_REQUEST && m->op != DHCP_OP_REPLY) {
        return DHCP_E_BAD_OP;
    }
    if (b[1] != 1 || b[2] != 6) {
        return DHCP_E_BAD_HTYPE;
    }
    m->hops = b[3];
    m->xid = bytes_get32(b + 4);
    m->secs = bytes_get16(b + 8);
    m->flags = bytes_get16(b + 10);
    m->ciaddr = bytes_get32(b + 12);
    m->yiaddr = bytes_get32(b + 16);
    m->siaddr = bytes_get32(b + 20);
    m->giaddr = bytes_get32(b + 24);
    memcpy(m->chaddr, b + 28, sizeof m->chaddr);
    if (memcmp(b + BOOTP_COOKIE_OFS, dhcp_cookie, sizeof dhcp_cookie)) {
        return DHCP_E_BAD_COOKIE;
    }

    /* RFC 2131 4.1: options first, then 'file', then 'sname'. */
    e = opt_field_parse(m, b + DHCP_BOOTP_MIN, n - DHCP_BOOTP_MIN,
                        FIELD_OPTIONS);
    if (!e && (m->overload & 1)) {
        e = opt_field_parse(m, b + BOOTP_FILE_OFS, BOOTP_FILE_LEN,
                            FIELD_FILE);
    }
    if (!e && (m->overload & 2)) {
        e = opt_field_parse(m, b + BOOTP_SNAME_OFS, BOOTP_SNAME_LEN,
                            FIELD_SNAME);
    }
    if (e) {
        return e;
    }

    if (!dhcp_msg_has(m, DHCP_OPT_MSG_TYPE)) {
        return DHCP_E_NO_MSG_TYPE;
    }
    if (dhcp_type_is_reply(m->type) != (m->op == DHCP_OP_REPLY)) {
        return DHCP_E_TYPE_OP;
    }
    if ((dhcp_msg_has(m, DHCP_OPT_HOSTNAME) && m->hostname_len < 1)
        || (dhcp_msg_has(m, DHCP_OPT_CLIENT_ID) && m->client_id_len < 2)) {
        return DHCP_E_BAD_OPT_LEN;
    }
    m->hostname[m->hostname_len] = '\0';
    return DHCP_E_OK;
}

enum dhcp_err
dhcp_parse_bootp(const void *payload, size_t len, struct dhcp_msg *out)
{
    struct dhcp_msg m;

    memset(&m, 0, sizeof m);
    enum dhcp_err e = bootp_parse(payload, len, &m);
    if (!e) {
        *out = m;
    }
    return e;
}

static bool
dhcp_ports_valid(uint16_t sport, uint16_t dport)
{
    return (sport == DHCP_PORT_CLIENT && dport == DHCP_PORT_SERVER)
           || (sport == DHCP_PORT_SERVER && dport == DHCP_PORT_CLIENT)
           || (sport == DHCP_PORT_SERVER && dport == DHCP_PORT_SERVER);
}

/* Parses the IPv4, UDP and DHCP layers ('n' bytes at 'ip'). */
static enum dhcp_err
ipv4_parse(const uint8_t *ip, size_t n, unsigned flags, struct dhcp_msg *m)
{
    if (n < IPV4_MIN_HDR) {
        return DHCP_E_TRUNC_IP;
    }
    if (ip[0] >> 4 != 4) {
        return DHCP_E_BAD_IP_VERSION;
    }
    size_t ihl = (size_t) (ip[0] & 0xf) * 4;
    if (ihl < IPV4_MIN_HDR || ihl > n) {
        return DHCP_E_BAD_IHL;
    }
    size_t total = bytes_get16(ip + 2);
    if (total < ihl || total > n) {
        return DHCP_E_BAD_IP_LEN;
    }
    if (csum_finish(csum_add(0, ip, ihl)) != 0) {
        return DHCP_E_BAD_IP_CSUM;
    }
    uint16_t frag = bytes_get16(ip + 6);
    if ((frag & IPV4_MF) || (frag & IPV4_OFFSET_MASK)) {
        return DHCP_E_IP_FRAGMENT;
    }
    if (ip[9] != IPV4_PROTO_UDP) {
        return DHCP_E_NOT_UDP;
    }
    m->ip_src = bytes_get32(ip + 12);
    m->ip_dst = bytes_get32(ip + 16);

    const uint8_t *udp = ip + ihl;
    size_t udp_n = total - ihl;
    if (udp_n < UDP_HDR_LEN) {
        return DHCP_E_TRUNC_UDP;
    }
    if (bytes_get16(udp + 4) != udp_n) {
        return DHCP_E_BAD_UDP_LEN;
    }
    if ((flags & DHCP_PARSE_UDP_CSUM) && bytes_get16(udp + 6) != 0) {
        uint32_t sum = csum_pseudo(m->ip_src, m->ip_dst, (uint16_t) udp_n);
        if (csum_finish(csum_add(sum, udp, udp_n)) != 0) {
            return DHCP_E_BAD_UDP_CSUM;
        }
    }
    m->udp_src = bytes_get16(udp);
    m->udp_dst = bytes_get16(udp + 2);
    if (!dhcp_ports_valid(m->udp_src, m->udp_dst)) {
        return DHCP_E_BAD_PORTS;
    }

    enum dhcp_err e = bootp_parse(udp + UDP_HDR_LEN, udp_n - UDP_HDR_LEN, m);
    if (e) {
        return e;
    }
    if ((m->udp_dst == DHCP_PORT_CLIENT && m->op != DHCP_OP_REPLY)
        || (m->udp_src == DHCP_PORT_CLIENT && m->op != DHCP_OP_REQUEST)) {
        return DHCP_E_OP_PORTS;
    }
    return DHCP_E_OK;
}

enum dhcp_err
dhcp_parse_frame(const void *frame, size_t len, unsigned flags,
                 struct dhcp_msg *out)
{
    const uint8_t *p = frame;
    struct dhcp_msg m;

    memset(&m, 0, sizeof m); /* padding too: callers may memcmp */

    if (len < ETH_HDR_LEN) {
        return DHCP_E_TRUNC_ETH;
    }
    memcpy(m.eth_dst, p, sizeof m.eth_dst);
    memcpy(m.eth_src, p + 6, sizeof m.eth_src);
    uint16_t type = bytes_get16(p + 12);
    size_t off = ETH_HDR_LEN;
    if (type == ETH_TYPE_VLAN) {
        if (len < ETH_HDR_LEN + VLAN_TAG_LEN) {
            return DHCP_E_TRUNC_VLAN;
        }
        uint16_t tci = bytes_get16(p + 14);
        m.vlan_tagged = true;
        m.vlan = tci & 0x0fff;
        m.vlan_pcp = (uint8_t) (tci >> 13);
        type = bytes_get16(p + 16);
        off += VLAN_TAG_LEN;
    }
    if (type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ
        || type == ETH_TYPE_QINQ_OLD) {
        return DHCP_E_STACKED_VLAN;
    }
    if (type != ETH_TYPE_IPV4) {
        return DHCP_E_NOT_IPV4;
    }
    enum dhcp_err e = ipv4_parse(p + off, len - off, flags, &m);
    if (!e) {
        *out = m;
    }
    return e;
}

/* ---- Builder ---- */

void
dhcp_msg_init(struct dhcp_msg *m, enum dhcp_type type, uint32_t xid,
              const uint8_t chaddr[6])
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->opts = DHCP_HAS(DHCP_OPT_MSG_TYPE);
    m->xid = xid;
    memcpy(m->chaddr, chaddr, sizeof m->chaddr);
    m->ip_dst = UINT32_MAX;
    if (dhcp_type_is_reply(type)) {
        m->op = DHCP_OP_REPLY;
        m->udp_src = DHCP_PORT_SERVER;
        m->udp_dst = DHCP_PORT_CLIENT;
        memcpy(m->eth_dst, chaddr, sizeof m->eth_dst);
    } else {
        m->op = DHCP_OP_REQUEST;
        m->udp_src = DHCP_PORT_CLIENT;
        m->udp_dst = DHCP_PORT_SERVER;
        memcpy(m->eth_src, chaddr, sizeof m->eth_src);
        memset(m->eth_dst, 0xff, sizeof m->eth_dst);
    }
}

/* One option the builder may write: its presence bit, code and bytes. */
struct opt_out {
    enum dhcp_opt opt;
    uint8_t code;
    const void *data;
    size_t len;
    uint8_t u32[4];
};

/* Lists the options of 'm' to write, in wire order; returns how many, or
 * SIZE_MAX if one cannot be encoded. */
static size_t
build_opts(const struct dhcp_msg *m, struct opt_out out[DHCP_N_OPTS])
{
    const struct {
        enum dhcp_opt opt;
        uint8_t code;
        uint32_t value;
    } u32s[] = {
        {DHCP_OPT_SERVER_ID, 54, m->server_id},
        {DHCP_OPT_LEASE_TIME, 51, m->lease_s},
        {DHCP_OPT_RENEWAL_TIME, 58, m->renewal_s},
        {DHCP_OPT_REBINDING_TIME, 59, m->rebinding_s},
        {DHCP_OPT_SUBNET_MASK, 1, m->subnet_mask},
        {DHCP_OPT_ROUTER, 3, m->router},
        {DHCP_OPT_REQUESTED_IP, 50, m->requested_ip},
    };
    size_t n = 0;

    if (dhcp_msg_has(m, DHCP_OPT_MSG_TYPE)) {
        if (!dhcp_type_valid(m->type)) {
            return SIZE_MAX;
        }
        out[n] = (struct opt_out) {DHCP_OPT_MSG_TYPE, 53, NULL, 1, {0}};
        out[n].u32[0] = (uint8_t) m->type;
        out[n].data = out[n].u32;
        n++;
    }
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
        if (dhcp_msg_has(m, u32s[i].opt)) {
            out[n] = (struct opt_out) {u32s[i].opt, u32s[i].code, NULL, 4,
                                       {0}};
            bytes_put32(out[n].u32, u32s[i].value);
            out[n].data = out[n].u32;
            n++;
        }
    }
    if (dhcp_msg_has(m, DHCP_OPT_HOSTNAME)) {
        if (m->hostname_len < 1 || m->hostname_len > DHCP_HOSTNAME_MAX) {
            return SIZE_MAX;
        }
        out[n++] = (struct opt_out) {DHCP_OPT_HOSTNAME, 12, m->hostname,
                                     m->hostname_len, {0}};
    }
    if (dhcp_msg_has(m, DHCP_OPT_CLIENT_ID)) {
        if (m->client_id_len < 2 || m->client_id_len > DHCP_CLIENT_ID_MAX) {
            return SIZE_MAX;
        }
        out[n++] = (struct opt_out) {DHCP_OPT_CLIENT_ID, 61, m->client_id,
                                     m->client_id_len, {0}};
    }
    return n;
}

enum dhcp_err
dhcp_build(const struct dhcp_msg *m, void *buf, size_t cap, size_t *len)
{
    struct opt_out opts[DHCP_N_OPTS];
    size_t n_opts = build_opts(m, opts);

    if (n_opts == SIZE_MAX || m->vlan > 0x0fff || m->vlan_pcp > 7) {
        return DHCP_E_BAD_FIELD;
    }
    size_t bootp_len = DHCP_BOOTP_MIN + 1; /* the END option */
    for (size_t i = 0; i < n_opts; i++) {
        bootp_len += 2 + opts[i].len;
    }
    if (bootp_len < BOOTP_MIN_LEN) {
        bootp_len = BOOTP_MIN_LEN;
    }
    size_t l2 = ETH_HDR_LEN + (m->vlan_tagged ? VLAN_TAG_LEN : 0);
    size_t udp_len = UDP_HDR_LEN + bootp_len;
    size_t total = l2 + IPV4_MIN_HDR + udp_len;
    if (total > cap) {
        return DHCP_E_NO_SPACE;
    }

    uint8_t *p = buf;
    memset(p, 0, total);
    memcpy(p, m->eth_dst, 6);
    memcpy(p + 6, m->eth_src, 6);
    if (m->vlan_tagged) {
        bytes_put16(p + 12, ETH_TYPE_VLAN);
        bytes_put16(p + 14, (uint16_t) (m->vlan_pcp << 13 | m->vlan));
    }
    bytes_put16(p + l2 - 2, ETH_TYPE_IPV4);

    uint8_t *ip = p + l2;
    ip[0] = 0x45;
    bytes_put16(ip + 2, (uint16_t) (IPV4_MIN_HDR + udp_len));
    bytes_put16(ip + 6, IPV4_DF);
    ip[8] = 64;
    ip[9] = IPV4_PROTO_UDP;
    bytes_put32(ip + 12, m->ip_src);
    bytes_put32(ip + 16, m->ip_dst);
    bytes_put16(ip + 10, csum_finish(csum_add(0, ip, IPV4_MIN_HDR)));

    uint8_t *udp = ip + IPV4_MIN_HDR;
    bytes_put16(udp, m->udp_src);
    bytes_put16(udp + 2, m->udp_dst);
    bytes_put16(udp + 4, (uint16_t) udp_len);

    uint8_t *b = udp + UDP_HDR_LEN;
    b[0] = m->op;
    b[1] = 1;
    b[2] = 6;
    b[3] = m->hops;
    bytes_put32(b + 4, m->xid);
    bytes_put16(b + 8, m->secs);
    bytes_put16(b + 10, m->flags);
    bytes_put32(b + 12, m->ciaddr);
    bytes_put32(b + 16, m->yiaddr);
    bytes_put32(b + 20, m->siaddr);
    bytes_put32(b + 24, m->giaddr);
    memcpy(b + 28, m->chaddr, 6);
    memcpy(b + BOOTP_COOKIE_OFS, dhcp_cookie, sizeof dhcp_cookie);
    size_t o = DHCP_BOOTP_MIN;
    for (size_t i = 0; i < n_opts; i++) {
        b[o] = opts[i].code;
        b[o + 1] = (uint8_t) opts[i].len;
        memcpy(b + o + 2, opts[i].data, opts[i].len);
        o += 2 + opts[i].len;
    }
    b[o] = OPT_END;

    uint16_t sum = csum_finish(csum_add(
        csum_pseudo(m->ip_src, m->ip_dst, (uint16_t) udp_len), udp, udp_len));
    bytes_put16(udp + 6, sum ? sum : 0xffff); /* 0 means "no checksum" */
    *len = total;
    return DHCP_E_OK;
}
