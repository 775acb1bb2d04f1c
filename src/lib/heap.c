/* heap.c: indexed binary min-heap (see heap.h).  O(log n) push, remove and
 * re-key; never scans. */
#include "lib/heap.h"

#include <stdlib.h>

#include "lib/util.h"

void
heap_init(struct heap *h, bool (*before)(const void *, uint32_t, uint32_t),
          void (*set_pos)(void *, uint32_t, uint32_t), void *aux)
{
    h->items = NULL;
    h->n = h->cap = 0;
    h->before = before;
    h->set_pos = set_pos;
    h->aux = aux;
}

void
heap_destroy(struct heap *h)
{
    free(h->items);
    h->items = NULL;
    h->n = h->cap = 0;
}

static void
heap_place(struct heap *h, size_t pos, uint32_t item)
{
    h->items[pos] = item;
    h->set_pos(h->aux, item, (uint32_t) pos);
}

static bool
heap_sift_up(struct heap *h, size_t pos)
{
    uint32_t item = h->items[pos];
    size_t start = pos;
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (!h->before(h->aux, item, h->items[parent])) {
            break;
        }
        heap_place(h, pos, h->items[parent]);
        pos = parent;
    }
    heap_place(h, pos, item);
    return pos != start;
}

static void
heap_sift_down(struct heap *h, size_t pos)
{
    uint32_t item = h->items[pos];
    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= h->n) {
            break;
        }
        if (child + 1 < h->n
            && h->before(h->aux, h->items[child + 1], h->items[child])) {
            child++;
        }
        if (!h->before(h->aux, h->items[child], item)) {
            break;
        }
        heap_place(h, pos, h->items[child]);
        pos = child;
    }
    heap_place(h, pos, item);
}

void
heap_push(struct heap *h, uint32_t item)
{
    h->items = xgrow(h->items, &h->cap, h->n + 1, sizeof *h->items);
    h->items[h->n] = item;
    h->n++;
    heap_sift_up(h, h->n - 1);
}

void
heap_remove(struct heap *h, uint32_t pos)
{
    uint32_t item = h->items[pos];
    h->n--;
    if (pos != h->n) {
        h->items[pos] = h->items[h->n];
        heap_update(h, pos);
    }
    h->set_pos(h->aux, item, HEAP_NOT_IN);
}

void
heap_update(struct heap *h, uint32_t pos)
{
    if (!heap_sift_up(h, pos)) {
        heap_sift_down(h, pos);
    }
}
