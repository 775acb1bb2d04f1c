/* util.c: allocation wrappers and hashing shared by every module.
 * Never returns NULL from an allocation; aborts instead. */
#include "lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
out_of_memory(void)
{
    fputs("mignet: out of memory\n", stderr);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n ? n : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xgrow(void *array, size_t *capp, size_t need, size_t elem)
{
    if (need <= *capp) {
        return array;
    }
    size_t cap = *capp ? *capp : 8;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / elem) {
            out_of_memory();
        }
        cap *= 2;
    }
    *capp = cap;
    return xrealloc(array, cap * elem);
}

char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

size_t
name_index(const char *const *names, size_t n, const char *s)
{
    size_t i = 0;
    while (i < n && (!s || strcmp(s, names[i]))) {
        i++;
    }
    return i;
}

uint32_t
hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 16777619u;
    }
    return h;
}

uint32_t
hash_bytes(const void *p_, size_t n)
{
    const unsigned char *p = p_;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

uint64_t
hash_u64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}
