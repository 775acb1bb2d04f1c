/* strbuf.h: a growable, always NUL-terminated byte buffer.
 *
 * Used to build wire lines, HTTP requests and printed tables.  It never
 * writes past its allocation and never silently truncates: an append that
 * cannot grow the buffer fails with ENOMEM and leaves the contents as they
 * were. */
#ifndef MIGNET_STRBUF_H
#define MIGNET_STRBUF_H 1

#include <stdarg.h>
#include <stddef.h>

/* Embedded object: strbuf_init() / strbuf_destroy(). */
struct strbuf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
};

void strbuf_init(struct strbuf *);
void strbuf_destroy(struct strbuf *);   /* accepts NULL */
void strbuf_clear(struct strbuf *);     /* len = 0, keeps the allocation */

/* The contents, "" when empty (never NULL). */
const char *strbuf_str(const struct strbuf *);

/* Appenders return 0 or ENOMEM (contents unchanged on failure). */
int strbuf_append(struct strbuf *, const void *data, size_t len);
int strbuf_puts(struct strbuf *, const char *s);
int strbuf_putc(struct strbuf *, char c);
int strbuf_printf(struct strbuf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int strbuf_vprintf(struct strbuf *, const char *fmt, va_list)
    __attribute__((format(printf, 2, 0)));
/* Appends 'n' copies of 'c'. */
int strbuf_pad(struct strbuf *, char c, size_t n);

/* Shortens the contents to 'len' bytes (no-op when already shorter). */
void strbuf_truncate(struct strbuf *, size_t len);

/* Formats into the fixed buffer 'dst' of 'size' bytes (cut if needed;
 * nothing happens when 'dst' is NULL or 'size' is 0).  For the 'err, errlen'
 * explanations many modules return. */
void strbuf_format_into(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Removes the first 'n' bytes (all of them when n >= len). */
void strbuf_consume(struct strbuf *, size_t n);

#endif /* MIGNET_STRBUF_H */
