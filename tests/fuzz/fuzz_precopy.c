/* fuzz_precopy.c: libFuzzer target for the pre-copy engine's wire format
 * (src/transfer/wire.c).
 *
 * Parses arbitrary bytes frame after frame as the receiver does; every
 * frame that parses must re-encode to exactly the bytes it came from, use
 * no more than it was given, and pass or fail precopy_wire_check() without
 * reading outside the buffer.  It must never crash, leak or read out of
 * bounds. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/transfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
reencode(const struct precopy_msg *m, uint8_t *out, size_t cap)
{
    switch (m->type) {
    case PRECOPY_MSG_HELLO:
        return precopy_wire_hello(out, cap, m->u.hello.conn,
                                  m->u.hello.n_conns, m->u.hello.n_pages);
    case PRECOPY_MSG_PAGE:
        return precopy_wire_page(out, cap, m->u.page.round, m->u.page.index,
                                 m->u.page.data);
    case PRECOPY_MSG_CSUM: {
        uint64_t *sums = malloc(m->u.csum.count * sizeof *sums);
        if (!sums) {
            return 0;
        }
        for (uint32_t i = 0; i < m->u.csum.count; i++) {
            sums[i] = precopy_wire_csum_at(m, i);
        }
        size_t n = precopy_wire_csum(out, cap, m->u.csum.first, sums,
                                     m->u.csum.count);
        free(sums);
        return n;
    }
    case PRECOPY_MSG_DONE:
        return precopy_wire_done(out, cap, m->u.done.pages);
    case PRECOPY_MSG_VERDICT:
        return precopy_wire_verdict(out, cap, m->u.verdict.checked,
                                    m->u.verdict.mismatches);
    }
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[PRECOPY_MAX_FRAME];
    uint32_t n_pages = 1;
    size_t off = 0;

    while (off < size) {
        struct precopy_msg m;
        size_t used = 0;
        int rc = precopy_wire_parse(data + off, size - off, &m, &used);
        if (rc == EAGAIN || rc == EPROTO) {
            break;
        }
        if (rc != 0 || used < PRECOPY_HDR_LEN || used > size - off
            || used > PRECOPY_MAX_FRAME) {
            abort();
        }
        if (m.type == PRECOPY_MSG_HELLO) {
            n_pages = m.u.hello.n_pages;
        }
        (void) precopy_wire_check(&m, n_pages);
        if (m.type == PRECOPY_MSG_PAGE) {
            /* The receiver hashes what it applies. */
            (void) precopy_page_sum(m.u.page.data, m.u.page.index);
        }
        size_t n = reencode(&m, out, sizeof out);
        if (n != used || memcmp(out, data + off, n) != 0) {
            abort();
        }
        off += used;
    }
    return 0;
}
