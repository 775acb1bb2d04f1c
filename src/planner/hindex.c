/* hindex.c: open-addressing (linear probing) hash index, hash -> id.
 *
 * The table is at most half full, so probes are short and always end at
 * an empty slot.  It never compares keys itself: see hindex.h. */
#include "planner/hindex.h"

#include <errno.h>
#include <stdlib.h>

void
hindex_init(struct hindex *h)
{
    *h = (struct hindex) {0};
}

void
hindex_destroy(struct hindex *h)
{
    if (h) {
        free(h->slots);
        hindex_init(h);
    }
}

static void
put(struct hindex_slot *slots, size_t mask, uint64_t hash, uint32_t id)
{
    size_t i = (size_t) hash & mask;

    while (slots[i].id_plus_1) {
        i = (i + 1) & mask;
    }
    slots[i] = (struct hindex_slot) {.hash = hash, .id_plus_1 = id + 1};
}

int
hindex_reserve(struct hindex *h, size_t k)
{
    size_t cap = h->slots ? h->mask + 1 : 0;

    if ((h->n + k) * 2 <= cap) {
        return 0;
    }
    size_t ncap = cap ? cap : 8;
    while (ncap < (h->n + k) * 2) {
        ncap *= 2;
    }
    struct hindex_slot *slots = calloc(ncap, sizeof *slots);
    if (!slots) {
        return ENOMEM;
    }
    for (size_t i = 0; i < cap; i++) {
        if (h->slots[i].id_plus_1) {
            put(slots, ncap - 1, h->slots[i].hash, h->slots[i].id_plus_1 - 1);
        }
    }
    free(h->slots);
    h->slots = slots;
    h->mask = ncap - 1;
    return 0;
}

void
hindex_insert(struct hindex *h, uint64_t hash, uint32_t id)
{
    put(h->slots, h->mask, hash, id);
    h->n++;
}

bool
hindex_next(const struct hindex *h, uint64_t hash, size_t *pos,
            uint32_t *id)
{
    if (!h->slots) {
        return false;
    }
    /* *pos counts probes made so far. */
    for (size_t i = ((size_t) hash + *pos) & h->mask;
         h->slots[i].id_plus_1; i = (i + 1) & h->mask) {
        ++*pos;
        if (h->slots[i].hash == hash) {
            *id = h->slots[i].id_plus_1 - 1;
            return true;
        }
    }
    return false;
}

uint64_t
hindex_hash_u64(uint64_t x)
{
    /* splitmix64's finaliser. */
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

uint64_t
hindex_hash_bytes(const void *p_, size_t len)
{
    const unsigned char *p = p_;
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return hindex_hash_u64(h);
}
