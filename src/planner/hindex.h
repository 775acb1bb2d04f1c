/* hindex.h: an open-addressing hash index from a 64-bit hash to a 32-bit
 * id, for the planner's name, dpid and port look-ups.
 *
 * It stores only (hash, id); the caller compares keys, so distinct keys
 * with equal hashes stay distinct.  It never owns or frees the keys. */
#ifndef PLANNER_HINDEX_H
#define PLANNER_HINDEX_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hindex_slot {
    uint64_t hash;
    uint32_t id_plus_1; /* 0: empty */
};

struct hindex {
    struct hindex_slot *slots;
    size_t mask; /* capacity - 1; capacity is a power of two */
    size_t n;
};

void hindex_init(struct hindex *);
void hindex_destroy(struct hindex *);

/* Makes room for 'k' more ids, so that the next 'k' hindex_insert()s
 * cannot fail.  Returns 0 or ENOMEM (the index unchanged). */
int hindex_reserve(struct hindex *, size_t k);
/* Adds 'id' under 'hash', into room hindex_reserve() made. */
void hindex_insert(struct hindex *, uint64_t hash, uint32_t id);

/* Iterates the ids stored under 'hash': start with *pos = 0; returns
 * false when there are no more. */
bool hindex_next(const struct hindex *, uint64_t hash, size_t *pos,
                 uint32_t *id);

/* 64-bit FNV-1a of 'len' bytes, then a final mix. */
uint64_t hindex_hash_bytes(const void *, size_t len);
uint64_t hindex_hash_u64(uint64_t);

#endif /* PLANNER_HINDEX_H */
