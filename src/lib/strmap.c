/* strmap.c: name index (see strmap.h).  Deletion uses backward-shift so no
 * tombstones accumulate under churn. */
#include "lib/strmap.h"

#include <stdlib.h>
#include <string.h>

#include <stdbool.h>

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

uint32_t
strmap_find(const struct strmap *m, const char *name)
{
    if (!m->slots) {
        return STRMAP_NONE;
    }
    uint32_t h = hash_str(name);
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        const struct strmap_slot *s = &m->slots[i];
        if (s->idx == STRMAP_NONE) {
            return STRMAP_NONE;
        }
        if (s->hash == h && !strcmp(m->name_of(m->aux, s->idx), name)) {
            return s->idx;
        }
    }
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

static void
strmap_resize(struct strmap *m, size_t cap)
{
    struct strmap_slot *old = m->slots;
    size_t old_cap = old ? m->mask + 1 : 0;
    m->slots = xmalloc(cap * sizeof *m->slots);
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

void
strmap_insert(struct strmap *m, const char *name, uint32_t idx)
{
    if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
        strmap_resize(m, m->slots ? (m->mask + 1) * 2 : 16);
    }
    strmap_place(m, hash_str(name), idx);
    m->n++;
}

void
strmap_remove(struct strmap *m, const char *name)
{
    if (!m->slots) {
        return;
    }
    uint32_t h = hash_str(name);
    size_t i = h & m->mask;
    for (;; i = (i + 1) & m->mask) {
        struct strmap_slot *s = &m->slots[i];
        if (s->idx == STRMAP_NONE) {
            return;
        }
        if (s->hash == h && !strcmp(m->name_of(m->aux, s->idx), name)) {
            break;
        }
    }
    /* Backward-shift deletion. */
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

size_t
strmap_memory(const struct strmap *m)
{
    return m->slots ? (m->mask + 1) * sizeof *m->slots : 0;
}
