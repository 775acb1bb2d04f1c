/* strmap.c: name index (see strmap.h).  Deletion uses backward-shift so no
 * tombstones accumulate under churn. */
#include "lib/strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void
strmap_init(struct strmap *m, const char *(*name_of)(const void *, uint32_t),
            const void *aux)
{
    m->slots = NULL;
    m->mask = 0;
    m->n = 0;
    m->name_of = name_of;
    m->aux = aux;
}

void
strmap_destroy(struct strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->mask = m->n = 0;
}

static bool
strmap_name_match(const void *m_, uint32_t idx, const void *name)
{
    const struct strmap *m = m_;
    return !strcmp(m->name_of(m->aux, idx), name);
}

/* The slot holding 'key', or SIZE_MAX. */
static size_t
strmap_slot_of(const struct strmap *m, uint32_t h, strmap_match_fn *match,
               const void *aux, const void *key)
{
    if (!m->slots) {
        return SIZE_MAX;
    }
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        const struct strmap_slot *s = &m->slots[i];
        if (s->idx == STRMAP_NONE) {
            return SIZE_MAX;
        }
        if (s->hash == h && match(aux, s->idx, key)) {
            return i;
        }
    }
}

uint32_t
strmap_find_keyed(const struct strmap *m, uint32_t hash,
                  strmap_match_fn *match, const void *key)
{
    size_t i = strmap_slot_of(m, hash, match, m->aux, key);
    return i == SIZE_MAX ? STRMAP_NONE : m->slots[i].idx;
}

uint32_t
strmap_find(const struct strmap *m, const char *name)
{
    size_t i = strmap_slot_of(m, hash_str(name), strmap_name_match, m, name);
    return i == SIZE_MAX ? STRMAP_NONE : m->slots[i].idx;
}

static void
strmap_place(struct strmap *m, uint32_t h, uint32_t idx)
{
    size_t i = h & m->mask;
    while (m->slots[i].idx != STRMAP_NONE) {
        i = (i + 1) & m->mask;
    }
    m->slots[i].hash = h;
    m->slots[i].idx = idx;
}

/* Moves the entries into 'slots' of 'cap' entries (a power of two). */
static void
strmap_rehash(struct strmap *m, struct strmap_slot *slots, size_t cap)
{
    struct strmap_slot *old = m->slots;
    size_t old_cap = old ? m->mask + 1 : 0;
    m->slots = slots;
    for (size_t i = 0; i < cap; i++) {
        m->slots[i].idx = STRMAP_NONE;
    }
    m->mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].idx != STRMAP_NONE) {
            strmap_place(m, old[i].hash, old[i].idx);
        }
    }
    free(old);
}

static void
strmap_resize(struct strmap *m, size_t cap)
{
    strmap_rehash(m, xmalloc(cap * sizeof *m->slots), cap);
}

int
strmap_reserve(struct strmap *m, size_t k)
{
    size_t need = m->n + k;
    if (need < k || need > SIZE_MAX / (4 * sizeof *m->slots)) {
        return ENOMEM; /* the capacity (under 4 * need) would overflow */
    }
    size_t cap = m->slots ? m->mask + 1 : 0;
    if (need * 2 <= cap) {
        return 0;
    }
    size_t ncap = cap ? cap : 16;
    while (need * 2 > ncap) {
        ncap *= 2;
    }
    struct strmap_slot *slots = malloc(ncap * sizeof *slots);
    if (!slots) {
        return ENOMEM;
    }
    strmap_rehash(m, slots, ncap);
    return 0;
}

void
strmap_insert_keyed(struct strmap *m, uint32_t hash, uint32_t idx)
{
    if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
        strmap_resize(m, m->slots ? (m->mask + 1) * 2 : 16);
    }
    strmap_place(m, hash, idx);
    m->n++;
}

void
strmap_insert(struct strmap *m, const char *name, uint32_t idx)
{
    strmap_insert_keyed(m, hash_str(name), idx);
}

/* Empties slot 'i' by backward-shift deletion. */
static void
strmap_delete_slot(struct strmap *m, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (m->slots[j].idx == STRMAP_NONE) {
            break;
        }
        size_t home = m->slots[j].hash & m->mask;
        /* Move j back to i if its home is not in (i, j]. */
        bool stay = (i <= j) ? (i < home && home <= j)
                             : (i < home || home <= j);
        if (!stay) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].idx = STRMAP_NONE;
    m->n--;
}

void
strmap_remove_keyed(struct strmap *m, uint32_t hash, strmap_match_fn *match,
                    const void *key)
{
    size_t i = strmap_slot_of(m, hash, match, m->aux, key);
    if (i != SIZE_MAX) {
        strmap_delete_slot(m, i);
    }
}

void
strmap_remove(struct strmap *m, const char *name)
{
    size_t i = strmap_slot_of(m, hash_str(name), strmap_name_match, m, name);
    if (i != SIZE_MAX) {
        strmap_delete_slot(m, i);
    }
}

size_t
strmap_memory(const struct strmap *m)
{
    return m->slots ? (m->mask + 1) * sizeof *m->slots : 0;
}
