/* heap.h: an indexed binary min-heap of uint32 items.
 *
 * The owner supplies the order and keeps each item's position (so an item
 * can be removed or re-keyed in O(log n)); the heap never allocates per
 * item.  Used for timers, acknowledgement horizons and refresh bounds. */
#ifndef MIGNET_HEAP_H
#define MIGNET_HEAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_NOT_IN UINT32_MAX

struct heap {
    uint32_t *items;
    size_t n, cap;
    /* True if item 'a' must come out before item 'b'. */
    bool (*before)(const void *aux, uint32_t a, uint32_t b);
    /* Records that 'item' is now at 'pos' (HEAP_NOT_IN when removed). */
    void (*set_pos)(void *aux, uint32_t item, uint32_t pos);
    void *aux;
};

void heap_init(struct heap *,
               bool (*before)(const void *, uint32_t, uint32_t),
               void (*set_pos)(void *, uint32_t, uint32_t), void *aux);
void heap_destroy(struct heap *);
void heap_push(struct heap *, uint32_t item);
/* Removes the item at 'pos'. */
void heap_remove(struct heap *, uint32_t pos);
/* Restores order after the key of the item at 'pos' changed. */
void heap_update(struct heap *, uint32_t pos);

static inline bool
heap_is_empty(const struct heap *h)
{
    return h->n == 0;
}
static inline uint32_t
heap_top(const struct heap *h)
{
    return h->items[0];
}

#endif /* MIGNET_HEAP_H */
