/* wire.c: the pre-copy engine's wire format, the only place that knows
 * its bytes (docs/precopy.md "Wire format").
 *
 * A frame is an 8-byte header -- type, three zero bytes, the payload
 * length (big-endian u32) -- and a payload whose length is fixed or
 * bounded by the type.  The parser reads only through bounds-checked
 * loads, never trusts a length before checking it against the type, and
 * rejects a frame it cannot fully validate; it never allocates. */
#include "mignet/transfer.h"

#include <errno.h>
#include <string.h>

#include "lib/bytes.h"

static uint64_t
get64(const uint8_t *p)
{
    return ((uint64_t) bytes_get32(p) << 32) | bytes_get32(p + 4);
}

static void
put64(uint8_t *p, uint64_t v)
{
    bytes_put32(p, (uint32_t) (v >> 32));
    bytes_put32(p + 4, (uint32_t) v);
}

#define HELLO_LEN 20u   /* magic 4, version 2, conn 2, n_conns 2, pad 2,
                         * page_size 4, n_pages 4 */
#define PAGE_LEN (8u + PRECOPY_PAGE_SIZE)
#define DONE_LEN 8u
#define VERDICT_LEN 8u

_Static_assert(PRECOPY_PAGE_FRAME == PRECOPY_HDR_LEN + PAGE_LEN,
               "PAGE frame size");
_Static_assert(PRECOPY_MAX_FRAME >= PRECOPY_PAGE_FRAME, "largest frame");

/* Whether 'len' is a valid payload length for 'type'. */
static bool
len_ok(uint8_t type, uint32_t len)
{
    switch (type) {
    case PRECOPY_MSG_HELLO:
        return len == HELLO_LEN;
    case PRECOPY_MSG_PAGE:
        return len == PAGE_LEN;
    case PRECOPY_MSG_CSUM:
        return len >= 16 && len <= 8 + 8 * PRECOPY_CSUM_PER_FRAME
               && len % 8 == 0;
    case PRECOPY_MSG_DONE:
        return len == DONE_LEN;
    case PRECOPY_MSG_VERDICT:
        return len == VERDICT_LEN;
    default:
        return false;
    }
}

int
precopy_wire_parse(const uint8_t *buf, size_t len, struct precopy_msg *msg,
                   size_t *used)
{
    if (len < PRECOPY_HDR_LEN) {
        /* Reject a bad type or pad as soon as its bytes are here, so a
         * peer speaking something else fails fast. */
        if ((len >= 1 && (buf[0] < PRECOPY_MSG_HELLO
                          || buf[0] > PRECOPY_MSG_VERDICT))
            || (len >= 2 && buf[1]) || (len >= 3 && buf[2])
            || (len >= 4 && buf[3])) {
            return EPROTO;
        }
        return EAGAIN;
    }
    uint8_t type = buf[0];
    uint32_t plen = bytes_get32(buf + 4);
    if (buf[1] || buf[2] || buf[3] || !len_ok(type, plen)) {
        return EPROTO;
    }
    if (len - PRECOPY_HDR_LEN < plen) {
        return EAGAIN;
    }
    const uint8_t *p = buf + PRECOPY_HDR_LEN;
    struct precopy_msg m = {.type = (enum precopy_msg_type) type};
    switch (type) {
    case PRECOPY_MSG_HELLO:
        if (bytes_get32(p) != PRECOPY_WIRE_MAGIC
            || bytes_get16(p + 4) != PRECOPY_WIRE_VERSION || bytes_get16(p + 10)) {
            return EPROTO;
        }
        m.u.hello.version = bytes_get16(p + 4);
        m.u.hello.conn = bytes_get16(p + 6);
        m.u.hello.n_conns = bytes_get16(p + 8);
        m.u.hello.page_size = bytes_get32(p + 12);
        m.u.hello.n_pages = bytes_get32(p + 16);
        if (m.u.hello.n_conns < 1 || m.u.hello.n_conns > PRECOPY_MAX_CONNS
            || m.u.hello.conn >= m.u.hello.n_conns
            || m.u.hello.page_size != PRECOPY_PAGE_SIZE
            || m.u.hello.n_pages < 1
            || m.u.hello.n_pages > PRECOPY_MAX_PAGES) {
            return EPROTO;
        }
        break;
    case PRECOPY_MSG_PAGE:
        m.u.page.round = bytes_get32(p);
        m.u.page.index = bytes_get32(p + 4);
        m.u.page.data = p + 8;
        if (m.u.page.round < 1 || m.u.page.index >= PRECOPY_MAX_PAGES) {
            return EPROTO;
        }
        break;
    case PRECOPY_MSG_CSUM:
        m.u.csum.first = bytes_get32(p);
        m.u.csum.count = bytes_get32(p + 4);
        m.u.csum.sums = p + 8;
        if (m.u.csum.count != (plen - 8) / 8
            || m.u.csum.first >= PRECOPY_MAX_PAGES
            || m.u.csum.count > PRECOPY_MAX_PAGES - m.u.csum.first) {
            return EPROTO;
        }
        break;
    case PRECOPY_MSG_DONE:
        m.u.done.pages = get64(p);
        break;
    case PRECOPY_MSG_VERDICT:
        m.u.verdict.checked = bytes_get32(p);
        m.u.verdict.mismatches = bytes_get32(p + 4);
        if (m.u.verdict.mismatches > m.u.verdict.checked) {
            return EPROTO;
        }
        break;
    default:
        return EPROTO;
    }
    *msg = m;
    *used = PRECOPY_HDR_LEN + plen;
    return 0;
}

bool
precopy_wire_check(const struct precopy_msg *msg, uint32_t n_pages)
{
    switch (msg->type) {
    case PRECOPY_MSG_PAGE:
        return msg->u.page.index < n_pages;
    case PRECOPY_MSG_CSUM:
        return msg->u.csum.first < n_pages
               && msg->u.csum.count <= n_pages - msg->u.csum.first;
    case PRECOPY_MSG_VERDICT:
        return msg->u.verdict.checked <= n_pages;
    default:
        return true;
    }
}

static uint8_t *
header(uint8_t *out, size_t cap, enum precopy_msg_type type, uint32_t plen)
{
    if (cap < PRECOPY_HDR_LEN || cap - PRECOPY_HDR_LEN < plen) {
        return NULL;
    }
    out[0] = (uint8_t) type;
    out[1] = out[2] = out[3] = 0;
    bytes_put32(out + 4, plen);
    return out + PRECOPY_HDR_LEN;
}

size_t
precopy_wire_hello(uint8_t *out, size_t cap, uint16_t conn, uint16_t n_conns,
                   uint32_t n_pages)
{
    uint8_t *p = header(out, cap, PRECOPY_MSG_HELLO, HELLO_LEN);
    if (!p) {
        return 0;
    }
    bytes_put32(p, PRECOPY_WIRE_MAGIC);
    bytes_put16(p + 4, PRECOPY_WIRE_VERSION);
    bytes_put16(p + 6, conn);
    bytes_put16(p + 8, n_conns);
    bytes_put16(p + 10, 0);
    bytes_put32(p + 12, PRECOPY_PAGE_SIZE);
    bytes_put32(p + 16, n_pages);
    return PRECOPY_HDR_LEN + HELLO_LEN;
}

size_t
precopy_wire_page(uint8_t *out, size_t cap, uint32_t round, uint32_t index,
                  const void *page)
{
    uint8_t *p = header(out, cap, PRECOPY_MSG_PAGE, PAGE_LEN);
    if (!p) {
        return 0;
    }
    bytes_put32(p, round);
    bytes_put32(p + 4, index);
    memcpy(p + 8, page, PRECOPY_PAGE_SIZE);
    return PRECOPY_PAGE_FRAME;
}

size_t
precopy_wire_csum(uint8_t *out, size_t cap, uint32_t first,
                  const uint64_t *sums, uint32_t count)
{
    if (count < 1 || count > PRECOPY_CSUM_PER_FRAME) {
        return 0;
    }
    uint32_t plen = 8 + 8 * count;
    uint8_t *p = header(out, cap, PRECOPY_MSG_CSUM, plen);
    if (!p) {
        return 0;
    }
    bytes_put32(p, first);
    bytes_put32(p + 4, count);
    for (uint32_t i = 0; i < count; i++) {
        put64(p + 8 + 8 * i, sums[i]);
    }
    return PRECOPY_HDR_LEN + plen;
}

size_t
precopy_wire_done(uint8_t *out, size_t cap, uint64_t pages)
{
    uint8_t *p = header(out, cap, PRECOPY_MSG_DONE, DONE_LEN);
    if (!p) {
        return 0;
    }
    put64(p, pages);
    return PRECOPY_HDR_LEN + DONE_LEN;
}

size_t
precopy_wire_verdict(uint8_t *out, size_t cap, uint32_t checked,
                     uint32_t mismatches)
{
    uint8_t *p = header(out, cap, PRECOPY_MSG_VERDICT, VERDICT_LEN);
    if (!p) {
        return 0;
    }
    bytes_put32(p, checked);
    bytes_put32(p + 4, mismatches);
    return PRECOPY_HDR_LEN + VERDICT_LEN;
}

uint64_t
precopy_wire_csum_at(const struct precopy_msg *msg, uint32_t i)
{
    return i < msg->u.csum.count ? get64(msg->u.csum.sums + 8 * (size_t) i)
                                 : 0;
}

uint64_t
precopy_page_sum(const void *page, uint32_t index)
{
    /* Four independent multiply-xor lanes over the page's 64-bit words
     * (fast enough to check 1 GiB inside the downtime), mixed at the end.
     * Not cryptographic: it catches a wrong or stale page, not an
     * adversary. */
    const uint8_t *p = page;
    const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);
    uint64_t h[4] = {index + k, (uint64_t) index * 3 + 1, ~(uint64_t) index,
                     UINT64_C(0x243f6a8885a308d3) ^ index};
    for (size_t off = 0; off < PRECOPY_PAGE_SIZE; off += 32) {
        for (int l = 0; l < 4; l++) {
            uint64_t w;
            memcpy(&w, p + off + 8 * l, sizeof w);
            h[l] = (h[l] ^ w) * k;
            h[l] ^= h[l] >> 29;
        }
    }
    uint64_t x = h[0] ^ (h[1] * 31) ^ (h[2] * 131) ^ (h[3] * 1031);
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return x;
}
