/* ofpbuf.c: growable byte buffer with bounds-checked reads.
 *
 * The only way a parser consumes bytes is ofpbuf_try_pull(), which checks
 * the remaining length before handing out a pointer; it must never return
 * memory beyond the view it was given. */
#include "mignet/ofpbuf.h"
#include "lib/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
ofpbuf_die(const char *what)
{
    fprintf(stderr, "ofpbuf: %s\n", what);
    abort();
}

void
ofpbuf_init(struct ofpbuf *b, size_t capacity)
{
    *b = (struct ofpbuf){0};
    if (capacity) {
        b->base = xmalloc(capacity);
        b->allocated = capacity;
    }
    b->data = b->base;
}

void
ofpbuf_uninit(struct ofpbuf *b)
{
    if (b) {
        free(b->base);
        *b = (struct ofpbuf){0};
    }
}

void
ofpbuf_use_const(struct ofpbuf *b, const void *data, size_t size)
{
    *b = (struct ofpbuf){0};
    /* The cast drops const; 'readonly' makes every put abort instead. */
    b->data = (uint8_t *)(uintptr_t)data;
    b->size = size;
    b->readonly = true;
}

void
ofpbuf_clear(struct ofpbuf *b)
{
    assert(!b->readonly);
    b->data = b->base;
    b->size = 0;
}

void
ofpbuf_truncate(struct ofpbuf *b, size_t size)
{
    assert(!b->readonly);
    if (size < b->size) {
        b->size = size;
    }
}

void *
ofpbuf_put_uninit(struct ofpbuf *b, size_t n)
{
    if (b->readonly) {
        ofpbuf_die("put on a read-only view");
    }
    if (!b->base) {
        b->data = NULL;
    }
    size_t head = b->base ? (size_t)(b->data - b->base) : 0;
    if (n > SIZE_MAX - head - b->size) {
        ofpbuf_die("size overflow");
    }
    size_t need = head + b->size + n;
    if (need > b->allocated) {
        size_t cap = b->allocated ? b->allocated : 64;
        while (cap < need) {
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        }
        uint8_t *nb = xrealloc(b->base, cap);
        b->base = nb;
        b->allocated = cap;
        b->data = nb + head;
    }
    uint8_t *p = b->data + b->size;
    b->size += n;
    return p;
}

void *
ofpbuf_put_zeros(struct ofpbuf *b, size_t n)
{
    void *p = ofpbuf_put_uninit(b, n);
    if (n) {
        memset(p, 0, n);
    }
    return p;
}

void *
ofpbuf_put(struct ofpbuf *b, const void *src, size_t n)
{
    void *p = ofpbuf_put_uninit(b, n);
    if (n) {
        memcpy(p, src, n);
    }
    return p;
}

const void *
ofpbuf_try_pull(struct ofpbuf *b, size_t n)
{
    if (n > b->size) {
        return NULL;
    }
    const void *p = b->data;
    b->data += n;
    b->size -= n;
    return p;
}

void *
ofpbuf_at(const struct ofpbuf *b, size_t offset, size_t n)
{
    if (offset > b->size || n > b->size - offset) {
        return NULL;
    }
    return b->data + offset;
}


bool
ofpbuf_put_hex(struct ofpbuf *b, const char *hex)
{
    size_t start = b->size;
    int hi = -1;
    for (const char *s = hex; *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t') {
            continue;
        }
        int v = hex_digit(*s);
        if (v < 0) {
            ofpbuf_truncate(b, start);
            return false;
        }
        if (hi < 0) {
            hi = v;
        } else {
            uint8_t byte = (uint8_t)(hi * 16 + v);
            ofpbuf_put(b, &byte, 1);
            hi = -1;
        }
    }
    if (hi >= 0) {
        ofpbuf_truncate(b, start);
        return false;
    }
    return true;
}
