/* strbuf.c: growable NUL-terminated byte buffer (see strbuf.h).
 *
 * Growth is checked for size_t overflow; a failed append never changes the
 * buffer, so callers can report ENOMEM without cleaning up half a line. */
#include "lib/strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
strbuf_init(struct strbuf *sb)
{
    sb->data = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void
strbuf_destroy(struct strbuf *sb)
{
    if (sb) {
        free(sb->data);
        strbuf_init(sb);
    }
}

void
strbuf_clear(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->data) {
        sb->data[0] = '\0';
    }
}

const char *
strbuf_str(const struct strbuf *sb)
{
    return sb->data ? sb->data : "";
}

/* Makes room for 'extra' more bytes plus the NUL. */
static int
strbuf_reserve(struct strbuf *sb, size_t extra)
{
    if (extra > SIZE_MAX - 1 - sb->len) {
        return ENOMEM;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap) {
        return 0;
    }
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(sb->data, cap);
    if (!p) {
        return ENOMEM;
    }
    sb->data = p;
    sb->cap = cap;
    return 0;
}

int
strbuf_append(struct strbuf *sb, const void *data, size_t len)
{
    int error = strbuf_reserve(sb, len);
    if (error) {
        return error;
    }
    if (len) {
        memcpy(sb->data + sb->len, data, len);
    }
    sb->len += len;
    sb->data[sb->len] = '\0';
    return 0;
}

int
strbuf_puts(struct strbuf *sb, const char *s)
{
    return strbuf_append(sb, s, strlen(s));
}

int
strbuf_putc(struct strbuf *sb, char c)
{
    return strbuf_append(sb, &c, 1);
}

int
strbuf_pad(struct strbuf *sb, char c, size_t n)
{
    int error = strbuf_reserve(sb, n);
    if (error) {
        return error;
    }
    memset(sb->data + sb->len, c, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return 0;
}

int
strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        return EINVAL;
    }
    int error = strbuf_reserve(sb, (size_t) n);
    if (error) {
        return error;
    }
    vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, args);
    sb->len += (size_t) n;
    return 0;
}

int
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int error = strbuf_vprintf(sb, fmt, args);
    va_end(args);
    return error;
}

void
strbuf_consume(struct strbuf *sb, size_t n)
{
    if (n >= sb->len) {
        strbuf_clear(sb);
        return;
    }
    memmove(sb->data, sb->data + n, sb->len - n);
    sb->len -= n;
    sb->data[sb->len] = '\0';
}

void
strbuf_truncate(struct strbuf *sb, size_t len)
{
    if (len < sb->len) {
        sb->len = len;
        sb->data[len] = '\0';
    }
}

void
strbuf_format_into(char *dst, size_t size, const char *fmt, ...)
{
    if (dst && size) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(dst, size, fmt, args);
        va_end(args);
    }
}
