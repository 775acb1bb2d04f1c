/* ofpbuf.h: a byte buffer for building and parsing wire messages.
 *
 * Writers append with ofpbuf_put*(); the buffer grows as needed, so pointers
 * returned by a put are valid only until the next put (keep offsets across
 * puts).  Readers wrap received bytes with ofpbuf_use_const() and consume
 * them only through ofpbuf_try_pull(), which never reads past the end: a
 * parser built on it cannot overrun its input. */
#ifndef MIGNET_OFPBUF_H
#define MIGNET_OFPBUF_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Embedded by value; _init/_uninit.  'data'/'size' are the unread (reader)
 * or written (writer) bytes. */
struct ofpbuf {
    uint8_t *base;    /* Owned allocation, or NULL for a const view. */
    size_t allocated; /* Bytes at 'base'. */
    uint8_t *data;    /* First byte of the contents. */
    size_t size;      /* Bytes of contents. */
    bool readonly;    /* A view of someone else's bytes: no puts. */
};

/* Writer with room for 'capacity' bytes before the first reallocation. */
void ofpbuf_init(struct ofpbuf *, size_t capacity);
/* Frees a writer's memory; a view owns nothing.  Accepts a zeroed struct. */
void ofpbuf_uninit(struct ofpbuf *);
/* Reader over 'size' bytes at 'data', which must outlive the view. */
void ofpbuf_use_const(struct ofpbuf *, const void *data, size_t size);

/* Empties a writer, keeping its memory. */
void ofpbuf_clear(struct ofpbuf *);
/* Drops written bytes beyond the first 'size' (undoes a partial encode). */
void ofpbuf_truncate(struct ofpbuf *, size_t size);

/* Appends 'n' bytes and returns them: uninitialised, zeroed, or a copy of
 * 'p'.  Aborts on allocation failure or size overflow (as OVS's xmalloc):
 * neither can be caused by a peer, because encoded sizes are bounded by the
 * caller's own data. */
void *ofpbuf_put_uninit(struct ofpbuf *, size_t n);
void *ofpbuf_put_zeros(struct ofpbuf *, size_t n);
void *ofpbuf_put(struct ofpbuf *, const void *p, size_t n);

/* Appends the bytes spelled by hex digits in 'hex' (whitespace between
 * digits is ignored).  Returns false, appending nothing, on any other
 * character or an odd number of digits. */
bool ofpbuf_put_hex(struct ofpbuf *, const char *hex);

/* Consumes 'n' bytes from the front and returns a pointer to them, or NULL
 * (consuming nothing) if fewer than 'n' remain. */
const void *ofpbuf_try_pull(struct ofpbuf *, size_t n);

/* Returns the 'n' bytes at 'offset' from 'data', or NULL if out of range. */
void *ofpbuf_at(const struct ofpbuf *, size_t offset, size_t n);

/* Bytes left to read. */
static inline size_t
ofpbuf_remaining(const struct ofpbuf *b)
{
    return b->size;
}

#endif /* mignet/ofpbuf.h */
