/* base64.h: RFC 4648 base64 (the standard alphabet, with padding), as the
 * etcd v3 JSON gateway writes keys and values.
 *
 * The decoder is strict: it accepts only canonical input (length a
 * multiple of four, padding only at the end, unused bits zero), so one
 * byte string has exactly one accepted text. */
#ifndef MIGNET_BASE64_H
#define MIGNET_BASE64_H 1

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/* Characters base64_encode() writes for 'n' bytes (no NUL). */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Appends 'n' bytes of 'p' encoded to 'out'.  0 or ENOMEM. */
int base64_encode(struct strbuf *out, const void *p, size_t n);

/* Decodes the 'len' characters of 'text' into 'out' (appended).  Returns
 * 0, EINVAL for text that is not canonical base64, or ENOMEM. */
int base64_decode(struct strbuf *out, const char *text, size_t len);

#endif /* MIGNET_BASE64_H */
