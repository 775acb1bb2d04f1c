/* strmap.h: a name -> uint32 index, open addressing with linear probing.
 *
 * The map stores only (hash, index) pairs; the owner keeps the names and
 * answers 'name_of(aux, index)', so a million entries cost 8 bytes each at
 * most twice over.  Never stores duplicates: callers check with
 * strmap_find() first. */
#ifndef MIGNET_STRMAP_H
#define MIGNET_STRMAP_H 1

#include <stdbool.h>
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
/* Makes room for 'k' more entries, so that the next 'k' inserts neither
 * allocate nor abort.  Returns 0 or ENOMEM (the map unchanged): for
 * owners that report allocation failures instead of aborting. */
int strmap_reserve(struct strmap *, size_t k);
/* Removes 'name' if present. */
void strmap_remove(struct strmap *, const char *name);
size_t strmap_memory(const struct strmap *);

/* The same index for keys that are not names (MAC+VLAN, ids...): the
 * caller hashes the key and answers whether entry 'idx' holds it.  A map
 * used this way may be initialised with a NULL 'name_of'; 'aux' is passed
 * to 'match'. */
typedef bool strmap_match_fn(const void *aux, uint32_t idx, const void *key);
uint32_t strmap_find_keyed(const struct strmap *, uint32_t hash,
                           strmap_match_fn *, const void *key);
void strmap_insert_keyed(struct strmap *, uint32_t hash, uint32_t idx);
/* Removes the entry holding 'key' if present. */
void strmap_remove_keyed(struct strmap *, uint32_t hash, strmap_match_fn *,
                         const void *key);

#endif /* MIGNET_STRMAP_H */
