/* bitmap.c: the pre-copy engine's dirty bitmap, one bit a page.
 *
 * The write-fault handler sets bits while the sender takes them, so every
 * word is read and written atomically: a bit set during a take lands in
 * the taken copy or stays for the next round, never in neither.  No
 * locks, no allocation after create (a fault or signal handler calls
 * precopy_bitmap_set()). */
#include "mignet/transfer.h"

#include <stdatomic.h>
#include <stdlib.h>

struct precopy_bitmap {
    size_t n_bits;
    size_t n_words;
    _Atomic uint64_t *words;
};

struct precopy_bitmap *
precopy_bitmap_create(size_t n_bits)
{
    if (n_bits == 0) {
        return NULL;
    }
    struct precopy_bitmap *b = calloc(1, sizeof *b);
    if (!b) {
        return NULL;
    }
    b->n_bits = n_bits;
    b->n_words = (n_bits + 63) / 64;
    b->words = calloc(b->n_words, sizeof *b->words);
    if (!b->words) {
        free(b);
        return NULL;
    }
    return b;
}

void
precopy_bitmap_destroy(struct precopy_bitmap *b)
{
    if (b) {
        free(b->words);
        free(b);
    }
}

size_t
precopy_bitmap_size(const struct precopy_bitmap *b)
{
    return b->n_bits;
}

void
precopy_bitmap_set(struct precopy_bitmap *b, size_t i)
{
    if (i < b->n_bits) {
        atomic_fetch_or_explicit(&b->words[i / 64], UINT64_C(1) << (i % 64),
                                 memory_order_relaxed);
    }
}

void
precopy_bitmap_set_all(struct precopy_bitmap *b)
{
    for (size_t w = 0; w < b->n_words; w++) {
        size_t left = b->n_bits - w * 64;
        uint64_t v = left >= 64 ? UINT64_MAX : (UINT64_C(1) << left) - 1;
        atomic_store_explicit(&b->words[w], v, memory_order_relaxed);
    }
}

void
precopy_bitmap_clear_all(struct precopy_bitmap *b)
{
    for (size_t w = 0; w < b->n_words; w++) {
        atomic_store_explicit(&b->words[w], 0, memory_order_relaxed);
    }
}

bool
precopy_bitmap_test(const struct precopy_bitmap *b, size_t i)
{
    if (i >= b->n_bits) {
        return false;
    }
    uint64_t v = atomic_load_explicit(&b->words[i / 64], memory_order_relaxed);
    return (v >> (i % 64)) & 1;
}

size_t
precopy_bitmap_count(const struct precopy_bitmap *b)
{
    size_t n = 0;
    for (size_t w = 0; w < b->n_words; w++) {
        n += (size_t) __builtin_popcountll(
            atomic_load_explicit(&b->words[w], memory_order_relaxed));
    }
    return n;
}

size_t
precopy_bitmap_take(struct precopy_bitmap *from, struct precopy_bitmap *to)
{
    size_t n = 0;
    size_t words = from->n_words < to->n_words ? from->n_words : to->n_words;
    for (size_t w = 0; w < words; w++) {
        if (!atomic_load_explicit(&from->words[w], memory_order_relaxed)) {
            continue;
        }
        uint64_t v = atomic_exchange_explicit(&from->words[w], 0,
                                              memory_order_acq_rel);
        atomic_fetch_or_explicit(&to->words[w], v, memory_order_relaxed);
        n += (size_t) __builtin_popcountll(v);
    }
    return n;
}

size_t
precopy_bitmap_next(const struct precopy_bitmap *b, size_t i)
{
    if (i >= b->n_bits) {
        return b->n_bits;
    }
    size_t w = i / 64;
    uint64_t v = atomic_load_explicit(&b->words[w], memory_order_relaxed)
                 & (UINT64_MAX << (i % 64));
    for (;;) {
        if (v) {
            size_t bit = w * 64 + (size_t) __builtin_ctzll(v);
            return bit < b->n_bits ? bit : b->n_bits;
        }
        if (++w >= b->n_words) {
            return b->n_bits;
        }
        v = atomic_load_explicit(&b->words[w], memory_order_relaxed);
    }
}
