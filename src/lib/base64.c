/* base64.c: RFC 4648 base64 (see base64.h).
 *
 * Never reads past the given length and never accepts two spellings of
 * the same bytes. */
#include "lib/base64.h"

#include <errno.h>
#include <stdint.h>

#include "lib/strbuf.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_encode(struct strbuf *out, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t start = out->len;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t) b[i] << 16;
        size_t left = n - i;
        if (left > 1) {
            v |= (uint32_t) b[i + 1] << 8;
        }
        if (left > 2) {
            v |= b[i + 2];
        }
        char q[4] = {
            b64_alphabet[(v >> 18) & 63], b64_alphabet[(v >> 12) & 63],
            left > 1 ? b64_alphabet[(v >> 6) & 63] : '=',
            left > 2 ? b64_alphabet[v & 63] : '=',
        };
        if (strbuf_append(out, q, sizeof q)) {
            strbuf_truncate(out, start);
            return ENOMEM;
        }
    }
    return 0;
}

static int
b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int
base64_decode(struct strbuf *out, const char *text, size_t len)
{
    size_t start = out->len;
    if (len % 4) {
        return EINVAL;
    }
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int pad = 0;
        if (last && text[i + 3] == '=') {
            pad = text[i + 2] == '=' ? 2 : 1;
        }
        uint32_t v = 0;
        for (int k = 0; k < 4 - pad; k++) {
            int d = b64_value(text[i + k]);
            if (d < 0) {
                goto bad;
            }
            v = (v << 6) | (uint32_t) d;
        }
        v <<= 6 * pad;
        /* Canonical: the bits a padded group does not use are zero. */
        if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))) {
            goto bad;
        }
        unsigned char bytes[3] = {(unsigned char) (v >> 16),
                                  (unsigned char) (v >> 8),
                                  (unsigned char) v};
        if (strbuf_append(out, bytes, (size_t) (3 - pad))) {
            strbuf_truncate(out, start);
            return ENOMEM;
        }
    }
    return 0;

bad:
    strbuf_truncate(out, start);
    return EINVAL;
}
