/* strmap.h: a name -> uint32 index, open addressing with linear probing.
 *
 * The map stores only (hash, index) pairs; the owner keeps the names and
 * answers 'name_of(aux, index)', so a million entries cost 8 bytes each at
 * most twice over.  Never stores duplicates: callers check with
 * strmap_find() first. */
#ifndef MIGNET_STRMAP_H
#define MIGNET_STRMAP_H 1

#include <stddef.h>
#include <stdint.h>

#define STRMAP_NONE UINT32_MAX

struct strmap_slot {
    uint32_t hash;
    uint32_t idx; /* STRMAP_NONE = empty */
};

struct strmap {
    struct strmap_slot *slots;
    size_t mask; /* capacity - 1; capacity is a power of two */
    size_t n;
    const char *(*name_of)(const void *aux, uint32_t idx);
    const void *aux;
};

void strmap_init(struct strmap *,
                 const char *(*name_of)(const void *, uint32_t),
                 const void *aux);
void strmap_destroy(struct strmap *);
uint32_t strmap_find(const struct strmap *, const char *name);
void strmap_insert(struct strmap *, const char *name, uint32_t idx);
/* Removes 'name' if present. */
void strmap_remove(struct strmap *, const char *name);
size_t strmap_memory(const struct strmap *);

#endif /* MIGNET_STRMAP_H */
