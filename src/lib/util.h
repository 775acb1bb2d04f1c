/* util.h: allocation that never returns NULL, and small helpers.
 *
 * Out of memory aborts with a message, as in Open vSwitch: the daemons are
 * not expected to limp on without memory, and checking every allocation
 * would hide the real error paths. */
#ifndef MIGNET_UTIL_H
#define MIGNET_UTIL_H 1

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(A) (sizeof (A) / sizeof (A)[0])

void *xmalloc(size_t);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *, size_t);
/* Grows '*arrayp' (of '*capp' elements of 'elem' bytes) to hold at least
 * 'need' elements, doubling. */
void *xgrow(void *array, size_t *capp, size_t need, size_t elem);
char *xstrdup(const char *);
void out_of_memory(void) __attribute__((noreturn));

/* The value of hexadecimal digit 'c' (either case), or -1. */
static inline int
hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The index of 's' in the 'n' strings of 'names', or 'n' when it is not
 * there (or 's' is NULL): the one lookup behind every enum's
 * name-to-value parser. */
size_t name_index(const char *const *names, size_t n, const char *s);

/* 32-bit FNV-1a of a NUL-terminated string. */
uint32_t hash_str(const char *);
/* 32-bit FNV-1a of 'n' bytes (callers hash packed keys, never padding). */
uint32_t hash_bytes(const void *, size_t n);
/* splitmix64's finaliser: every bit of 'x' moves every bit of the result
 * (for integer keys, and a fixed pseudo-random pick). */
uint64_t hash_u64(uint64_t x);

#endif /* MIGNET_UTIL_H */
