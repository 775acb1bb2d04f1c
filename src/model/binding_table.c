/* binding_table.c: the table of port-security bindings (see
 * mignet/binding.h), one per VM.
 *
 * Bindings live in a slot array indexed four ways (id, VM, MAC+VLAN,
 * IP+VLAN) and, when they expire, in an indexed heap by expiry.  Nothing
 * here reads a clock or does I/O, and every call checks all it needs
 * before it changes anything, so a rejected call leaves the table as it
 * was. */
#include "mignet/binding.h"

#include <stdlib.h>
#include <string.h>

#include "lib/bytes.h"
#include "lib/heap.h"
#include "lib/strmap.h"
#include "lib/util.h"

struct bslot {
    struct binding b;
    uint32_t heap_pos;
    bool used;
};

struct binding_table {
    struct bslot *slots;
    size_t n_slots, cap_slots;
    uint32_t *free_slots;
    size_t n_free, cap_free;
    size_t count;
    uint64_t next_id;
    struct strmap by_id, by_vm, by_mac, by_ip;
    struct heap expiry;
};

/* Index keys, packed so no padding is hashed. */
struct mac_key {
    uint8_t mac[6];
    uint16_t vlan;
};
struct ip_key {
    uint32_t ip;
    uint16_t vlan;
};

static uint32_t
hash_id(uint32_t id)
{
    uint8_t k[4];
    bytes_put32(k, id);
    return hash_bytes(k, sizeof k);
}

static uint32_t
hash_mac(const struct mac_key *key)
{
    uint8_t k[8];
    memcpy(k, key->mac, 6);
    bytes_put16(k + 6, key->vlan);
    return hash_bytes(k, sizeof k);
}

static uint32_t
hash_ip(const struct ip_key *key)
{
    uint8_t k[6];
    bytes_put32(k, key->ip);
    bytes_put16(k + 4, key->vlan);
    return hash_bytes(k, sizeof k);
}

static const struct binding *
slot_binding(const void *t_, uint32_t idx)
{
    const struct binding_table *t = t_;
    return &t->slots[idx].b;
}

static bool
match_id(const void *t, uint32_t idx, const void *key)
{
    return slot_binding(t, idx)->id == *(const uint32_t *) key;
}

static bool
match_mac(const void *t, uint32_t idx, const void *key_)
{
    const struct mac_key *key = key_;
    const struct binding *b = slot_binding(t, idx);
    return b->vlan == key->vlan && !memcmp(b->mac, key->mac, 6);
}

static bool
match_ip(const void *t, uint32_t idx, const void *key_)
{
    const struct ip_key *key = key_;
    const struct binding *b = slot_binding(t, idx);
    return b->vlan == key->vlan && b->ip == key->ip;
}

static const char *
vm_name_of(const void *t, uint32_t idx)
{
    return slot_binding(t, idx)->vm;
}

static bool
expiry_before(const void *t, uint32_t a, uint32_t b)
{
    const struct binding *x = slot_binding(t, a), *y = slot_binding(t, b);
    return x->expires_ms < y->expires_ms
           || (x->expires_ms == y->expires_ms && x->id < y->id);
}

static void
expiry_set_pos(void *t_, uint32_t idx, uint32_t pos)
{
    struct binding_table *t = t_;
    t->slots[idx].heap_pos = pos;
}

struct binding_table *
binding_table_create(void)
{
    struct binding_table *t = xcalloc(1, sizeof *t);
    t->next_id = 1;
    strmap_init(&t->by_id, NULL, t);
    strmap_init(&t->by_vm, vm_name_of, t);
    strmap_init(&t->by_mac, NULL, t);
    strmap_init(&t->by_ip, NULL, t);
    heap_init(&t->expiry, expiry_before, expiry_set_pos, t);
    return t;
}

void
binding_table_destroy(struct binding_table *t)
{
    if (!t) {
        return;
    }
    strmap_destroy(&t->by_id);
    strmap_destroy(&t->by_vm);
    strmap_destroy(&t->by_mac);
    strmap_destroy(&t->by_ip);
    heap_destroy(&t->expiry);
    free(t->slots);
    free(t->free_slots);
    free(t);
}

size_t
binding_table_count(const struct binding_table *t)
{
    return t->count;
}

static uint32_t
slot_by_id(const struct binding_table *t, uint32_t id)
{
    return strmap_find_keyed(&t->by_id, hash_id(id), match_id, &id);
}

static uint32_t
slot_by_mac(const struct binding_table *t, const uint8_t mac[6],
            uint16_t vlan)
{
    struct mac_key k = {.vlan = vlan};
    memcpy(k.mac, mac, 6);
    return strmap_find_keyed(&t->by_mac, hash_mac(&k), match_mac, &k);
}

static uint32_t
slot_by_ip(const struct binding_table *t, uint32_t ip, uint16_t vlan)
{
    struct ip_key k = {.ip = ip, .vlan = vlan};
    return strmap_find_keyed(&t->by_ip, hash_ip(&k), match_ip, &k);
}

static const struct binding *
binding_at(const struct binding_table *t, uint32_t idx)
{
    return idx == STRMAP_NONE ? NULL : &t->slots[idx].b;
}

const struct binding *
binding_table_get(const struct binding_table *t, uint32_t id)
{
    return binding_at(t, slot_by_id(t, id));
}

const struct binding *
binding_table_find_vm(const struct binding_table *t, const char *vm)
{
    return vm ? binding_at(t, strmap_find(&t->by_vm, vm)) : NULL;
}

const struct binding *
binding_table_find_mac(const struct binding_table *t, const uint8_t mac[6],
                       uint16_t vlan)
{
    return binding_at(t, slot_by_mac(t, mac, vlan));
}

const struct binding *
binding_table_find_ip(const struct binding_table *t, uint32_t ip,
                      uint16_t vlan)
{
    return binding_at(t, slot_by_ip(t, ip, vlan));
}

const struct binding *
binding_table_next(const struct binding_table *t, uint32_t *cursor)
{
    while (*cursor < t->n_slots) {
        const struct bslot *s = &t->slots[(*cursor)++];
        if (s->used) {
            return &s->b;
        }
    }
    return NULL;
}

/* Checks '*b' against every binding but the one in slot 'self'. */
static enum binding_err
table_check(const struct binding_table *t, const struct binding *b,
            uint32_t self)
{
    enum binding_err e = binding_validate(b);
    uint32_t other;

    if (e) {
        return e;
    }
    other = strmap_find(&t->by_vm, b->vm);
    if (other != STRMAP_NONE && other != self) {
        return BINDING_E_VM_BOUND;
    }
    other = slot_by_mac(t, b->mac, b->vlan);
    if (other != STRMAP_NONE && other != self) {
        return BINDING_E_MAC_CONFLICT;
    }
    other = slot_by_ip(t, b->ip, b->vlan);
    if (other != STRMAP_NONE && other != self) {
        return BINDING_E_IP_CONFLICT;
    }
    return BINDING_E_OK;
}

static void
table_index(struct binding_table *t, uint32_t idx)
{
    struct bslot *s = &t->slots[idx];
    const struct binding *b = &s->b;
    struct mac_key mk = {.vlan = b->vlan};
    struct ip_key ik = {.ip = b->ip, .vlan = b->vlan};

    memcpy(mk.mac, b->mac, 6);
    strmap_insert_keyed(&t->by_id, hash_id(b->id), idx);
    strmap_insert(&t->by_vm, b->vm, idx);
    strmap_insert_keyed(&t->by_mac, hash_mac(&mk), idx);
    strmap_insert_keyed(&t->by_ip, hash_ip(&ik), idx);
    s->heap_pos = HEAP_NOT_IN;
    if (b->expires_ms) {
        heap_push(&t->expiry, idx);
    }
}

static void
table_unindex(struct binding_table *t, uint32_t idx)
{
    struct bslot *s = &t->slots[idx];
    const struct binding *b = &s->b;
    struct mac_key mk = {.vlan = b->vlan};
    struct ip_key ik = {.ip = b->ip, .vlan = b->vlan};

    memcpy(mk.mac, b->mac, 6);
    strmap_remove_keyed(&t->by_id, hash_id(b->id), match_id, &b->id);
    strmap_remove(&t->by_vm, b->vm);
    strmap_remove_keyed(&t->by_mac, hash_mac(&mk), match_mac, &mk);
    strmap_remove_keyed(&t->by_ip, hash_ip(&ik), match_ip, &ik);
    if (s->heap_pos != HEAP_NOT_IN) {
        heap_remove(&t->expiry, s->heap_pos);
    }
}

enum binding_err
binding_table_add(struct binding_table *t, const struct binding *b,
                  uint32_t *idp)
{
    enum binding_err e = table_check(t, b, STRMAP_NONE);
    if (e) {
        return e;
    }
    uint32_t id = b->id;
    if (id) {
        if (slot_by_id(t, id) != STRMAP_NONE) {
            return BINDING_E_DUP_ID;
        }
    } else if (t->next_id > UINT32_MAX) {
        return BINDING_E_FULL;
    } else {
        id = (uint32_t) t->next_id;
    }

    uint32_t idx;
    if (t->n_free) {
        idx = t->free_slots[--t->n_free];
    } else {
        t->slots = xgrow(t->slots, &t->cap_slots, t->n_slots + 1,
                         sizeof *t->slots);
        idx = (uint32_t) t->n_slots++;
    }
    struct bslot *s = &t->slots[idx];
    s->b = *b;
    s->b.id = id;
    s->used = true;
    table_index(t, idx);
    t->count++;
    if ((uint64_t) id >= t->next_id) {
        t->next_id = (uint64_t) id + 1;
    }
    if (idp) {
        *idp = id;
    }
    return BINDING_E_OK;
}

enum binding_err
binding_table_replace(struct binding_table *t, const struct binding *b)
{
    uint32_t idx = slot_by_id(t, b->id);
    if (idx == STRMAP_NONE) {
        return BINDING_E_UNKNOWN_ID;
    }
    enum binding_err e = table_check(t, b, idx);
    if (e) {
        return e;
    }
    table_unindex(t, idx);
    t->slots[idx].b = *b;
    table_index(t, idx);
    return BINDING_E_OK;
}

enum binding_err
binding_table_put_check(const struct binding_table *t,
                        const struct binding *b)
{
    uint32_t self = strmap_find(&t->by_vm, b->vm);
    enum binding_err e = table_check(t, b, self);
    if (!e && self == STRMAP_NONE && t->next_id > UINT32_MAX) {
        e = BINDING_E_FULL;
    }
    return e;
}

enum binding_err
binding_table_put(struct binding_table *t, const struct binding *b,
                  uint32_t *idp, bool *created)
{
    const struct binding *old = binding_table_find_vm(t, b->vm);
    struct binding nb = *b;
    enum binding_err e;

    nb.id = old ? old->id : 0;
    e = old ? binding_table_replace(t, &nb)
            : binding_table_add(t, &nb, &nb.id);
    if (!e) {
        if (idp) {
            *idp = nb.id;
        }
        if (created) {
            *created = !old;
        }
    }
    return e;
}

enum binding_err
binding_table_delete(struct binding_table *t, uint32_t id,
                     struct binding *old)
{
    uint32_t idx = slot_by_id(t, id);
    if (idx == STRMAP_NONE) {
        return BINDING_E_UNKNOWN_ID;
    }
    struct bslot *s = &t->slots[idx];
    if (old) {
        *old = s->b;
    }
    table_unindex(t, idx);
    memset(&s->b, 0, sizeof s->b);
    s->used = false;
    t->free_slots = xgrow(t->free_slots, &t->cap_free, t->n_free + 1,
                          sizeof *t->free_slots);
    t->free_slots[t->n_free++] = idx;
    t->count--;
    return BINDING_E_OK;
}

bool
binding_table_next_expiry(const struct binding_table *t, uint64_t *due_ms)
{
    if (heap_is_empty(&t->expiry)) {
        return false;
    }
    *due_ms = t->slots[heap_top(&t->expiry)].b.expires_ms;
    return true;
}

size_t
binding_table_expire(struct binding_table *t, uint64_t now_ms,
                     struct binding *out, size_t max)
{
    size_t n = 0;
    while (n < max && !heap_is_empty(&t->expiry)) {
        const struct binding *b = &t->slots[heap_top(&t->expiry)].b;
        if (b->expires_ms > now_ms) {
            break;
        }
        binding_table_delete(t, b->id, &out[n++]);
    }
    return n;
}
