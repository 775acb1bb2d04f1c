/* store_etcd.c: the etcd backend of the durable store (docs/ha.md).
 *
 * Each record is one etcd key, PREFIX/TYPE/KEY, whose value is a JSON
 * array: the encoding's version, the key's first-write order ("seq",
 * which load() keeps within a type, as the other backends do), then every
 * field of its store_*_rec in the order of the field tables below (one
 * description per record type, named as the SQLite columns are; the names
 * document the positions, docs/ha.md).  An array, not an object: etcd's
 * JSON gateway costs grow with the bytes of a transaction, and the names
 * would double them.  put()
 * only buffers (the last write of a key wins); commit() sends the whole
 * batch as ONE etcd transaction, so a batch is applied all or nothing.
 * A batch over the server's --max-txn-ops is refused, never split (a split
 * would not be atomic).  With a guard set, the transaction also compares
 * that the guard key is held by the guard lease: a process whose lease
 * ended (a deposed leader) can never commit.  Commits may be pipelined
 * (store.h): commit_begin() moves the batch into a store_txn that
 * commit_run() sends from another thread while the next batch fills; the
 * keys it writes stay in the index, marked in flight, until commit_end().
 *
 * It must never report a commit before etcd answered that it applied,
 * and never hand the core a record it could not read back whole. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/addr.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/util.h"
#include "mignet/etcd.h"
#include "mignet/store.h"

/* The value encoding's version ("v"); a newer one is refused. */
#define SE_ENCODING 1
/* The schema key's value: what wrote under this prefix. */
#define SE_SCHEMA_VALUE "mignet-store-etcd 1"
/* Keys a range answer holds at most (load pages through a type). */
#define SE_PAGE 1000

/* ---- The records' fields ---- */

enum se_kind {
    SE_U64, SE_U32, SE_U16, SE_BOOL, SE_STR, SE_MAC, SE_BYTES,
    SE_STR0,      /* a string that is "" when NULL (as in SQLite) */
    SE_KIND_ENUM, /* enum task_kind / mig_phase / mig_switchover */
};

struct se_field {
    const char *name;
    enum se_kind kind;
    size_t off;     /* into struct store_rec */
    size_t len_off; /* SE_BYTES: the size_t length */
    uint64_t max;   /* SE_KIND_ENUM: values below it */
    bool key;       /* part of the key (SE_STR name or SE_U64/U32 id) */
};

#define SE_OFF(F) offsetof(struct store_rec, F)
#define SE_F(NAME, KIND, F) {NAME, KIND, SE_OFF(F), 0, 0, false}
#define SE_KEY(NAME, KIND, F) {NAME, KIND, SE_OFF(F), 0, 0, true}
#define SE_ENUM(NAME, F, MAX) {NAME, SE_KIND_ENUM, SE_OFF(F), 0, MAX, false}
#define SE_BLOB(NAME, F, LEN) {NAME, SE_BYTES, SE_OFF(F), SE_OFF(LEN), 0, false}
#define SE_CONFIG(C)                                                         \
    SE_F("mac", SE_MAC, C.mac), SE_F("vlan", SE_U16, C.vlan),               \
    SE_F("ip", SE_U32, C.ip), SE_F("vni", SE_U32, C.vni),                   \
    SE_F("port", SE_U32, C.port), SE_F("binding", SE_U32, C.binding)

static const struct se_field se_meta_fields[] = {
    SE_F("map_version", SE_U64, meta.map_version),
    SE_F("next_migration", SE_U64, meta.next_migration),
    SE_F("next_task", SE_U64, meta.next_task),
};
static const struct se_field se_node_fields[] = {
    SE_KEY("name", SE_STR, node.name),
    SE_F("address", SE_STR, node.address),
    SE_F("refresh_ms", SE_U32, node.refresh_ms),
    SE_F("gone", SE_BOOL, node.gone),
    SE_F("cordoned", SE_BOOL, node.cordoned),
    SE_F("draining", SE_BOOL, node.draining),
    SE_F("token_hash", SE_STR, node.token_hash),
};
static const struct se_field se_vm_fields[] = {
    SE_KEY("name", SE_STR, vm.name),
    SE_F("node", SE_STR, vm.node),
    SE_CONFIG(vm.config),
    SE_F("epoch", SE_U64, vm.epoch),
    SE_F("map_version", SE_U64, vm.map_version),
    SE_F("migration", SE_U64, vm.migration),
    SE_F("iface_id", SE_STR0, vm.iface_id),
    SE_F("drain_target", SE_STR, vm.drain_target),
};
static const struct se_field se_task_fields[] = {
    SE_KEY("id", SE_U64, task.id),
    SE_ENUM("kind", task.kind, TASK_PREPARE_DEADLINE + 1),
    SE_F("vm", SE_STR, task.vm),
    SE_F("node", SE_STR, task.node),
    SE_F("epoch", SE_U64, task.epoch),
    SE_F("due_ms", SE_U64, task.due_ms),
    SE_F("migration", SE_U64, task.migration),
    SE_F("need_version", SE_U64, task.need_version),
    SE_F("relay_target", SE_STR, task.relay_target),
    SE_F("target_epoch", SE_U64, task.target_epoch),
    SE_CONFIG(task.snapshot),
    SE_BLOB("binding_rec", task.binding, task.binding_len),
};
static const struct se_field se_mig_fields[] = {
    SE_KEY("id", SE_U64, migration.id),
    SE_F("vm", SE_STR, migration.vm),
    SE_F("src", SE_STR, migration.src),
    SE_F("dst", SE_STR, migration.dst),
    SE_F("epoch", SE_U64, migration.epoch),
    SE_F("map_version", SE_U64, migration.map_version),
    SE_ENUM("phase", migration.phase, MIG_N_PHASES),
    SE_F("started_ms", SE_U64, migration.started_ms),
    SE_F("relaying_ms", SE_U64, migration.relaying_ms),
    SE_F("cleaned_ms", SE_U64, migration.cleaned_ms),
    SE_F("delay_ms", SE_U64, migration.delay_ms),
    SE_F("released_early", SE_BOOL, migration.released_early),
    SE_ENUM("switchover", migration.switchover, MIG_N_SWITCHOVERS),
    SE_F("prepared_ms", SE_U64, migration.prepared_ms),
    SE_F("switched_ms", SE_U64, migration.switched_ms),
    SE_F("activated_ms", SE_U64, migration.activated_ms),
    SE_F("cleaning_ms", SE_U64, migration.cleaning_ms),
    SE_F("aborted_ms", SE_U64, migration.aborted_ms),
    SE_F("prepare_deadline_ms", SE_U64, migration.prepare_deadline_ms),
    SE_F("degraded", SE_BOOL, migration.degraded),
    SE_F("abort_reason", SE_STR0, migration.abort_reason),
};
static const struct se_field se_binding_fields[] = {
    SE_KEY("id", SE_U32, binding.id),
    SE_BLOB("record", binding.record, binding.len),
};
static const struct se_field se_vswitch_fields[] = {
    SE_KEY("name", SE_STR, vswitch.name),
    SE_BLOB("record", vswitch.record, vswitch.len),
};

static const struct {
    const char *name; /* the key's TYPE part */
    const struct se_field *fields;
    size_t n;
} se_types[STORE_N_TYPES] = {
#define SE_TYPE(T, NAME, F) [T] = {NAME, F, sizeof F / sizeof F[0]}
    SE_TYPE(STORE_META, "meta", se_meta_fields),
    SE_TYPE(STORE_NODE, "node", se_node_fields),
    SE_TYPE(STORE_VM, "vm", se_vm_fields),
    SE_TYPE(STORE_TASK, "task", se_task_fields),
    SE_TYPE(STORE_MIGRATION, "migration", se_mig_fields),
    SE_TYPE(STORE_BINDING, "binding", se_binding_fields),
    SE_TYPE(STORE_VSWITCH, "vswitch", se_vswitch_fields),
#undef SE_TYPE
};

/* load()'s order (store.h). */
static const enum store_rec_type se_load_order[] = {
    STORE_META,    STORE_NODE,      STORE_VM,   STORE_BINDING,
    STORE_VSWITCH, STORE_MIGRATION, STORE_TASK,
};
_Static_assert(sizeof se_load_order / sizeof se_load_order[0]
                   == STORE_N_TYPES,
               "every type in the load order");

/* ---- The store ---- */

/* One key this store knows: written (committed), or written in the open
 * batch.  seq 0 = absent. */
struct se_entry {
    struct se_entry *next; /* hash chain */
    uint64_t seq;          /* as of the last put, committed or not */
    uint64_t committed;    /* as etcd holds it */
    long op;               /* its operation in the batch, -1 = none */
    bool inflight;         /* written by the commit in flight */
    char key[];
};

struct se_op {
    struct se_entry *entry;
    char *value; /* NULL = delete */
    size_t len;
    uint64_t seq; /* the entry's seq once this op applied (0: deleted) */
};

/* A batch taken out of the store (commit_begin) and made durable
 * (commit_run, possibly on another thread: it reads only this). */
struct store_txn {
    struct etcd_client *etcd;
    struct se_op *ops;
    struct etcd_op *eops;
    size_t n_ops;
    char *guard_key;
    int64_t guard_lease;
    char err[512]; /* commit_run's failure, logged by commit_end */
};

struct store_etcd {
    struct store up;
    struct etcd_client *etcd;
    char prefix[256];
    unsigned max_ops;
    /* The index of known keys (chained hash). */
    struct se_entry **buckets;
    size_t n_buckets, n_entries;
    bool indexed; /* the index holds every key under the prefix */
    uint64_t next_seq;
    /* The open batch. */
    struct se_op *ops;
    size_t n_ops, ops_cap;
    /* The guard: every commit requires 'guard_key' held by the lease. */
    char *guard_key;
    int64_t guard_lease;
    /* A put failed (the core does not look): the commit must fail. */
    int failed;
    /* The commit in flight (pipelined), NULL = none. */
    struct store_txn *txn;
    /* A pipelined commit failed with puts already made after it: every
     * later commit fails with this (they may rest on what was lost). */
    int broken;
    /* Statistics (logged on destroy; bench and docs). */
    uint64_t commits;
    size_t max_batch;
};

static struct store_etcd *
se_cast(struct store *s)
{
    return (struct store_etcd *) s;
}

static struct se_entry **
se_slot(struct store_etcd *q, const char *key)
{
    uint32_t h = hash_str(key);
    struct se_entry **pp = &q->buckets[h & (q->n_buckets - 1)];
    while (*pp && strcmp((*pp)->key, key)) {
        pp = &(*pp)->next;
    }
    return pp;
}

static void
se_grow(struct store_etcd *q)
{
    size_t n = q->n_buckets ? q->n_buckets * 2 : 1024;
    struct se_entry **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < q->n_buckets; i++) {
        struct se_entry *e = q->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            uint32_t h = hash_str(e->key);
            e->next = b[h & (n - 1)];
            b[h & (n - 1)] = e;
        }
    }
    free(q->buckets);
    q->buckets = b;
    q->n_buckets = n;
}

static struct se_entry *
se_find_or_add(struct store_etcd *q, const char *key)
{
    if (q->n_entries >= q->n_buckets) {
        se_grow(q);
    }
    struct se_entry **pp = se_slot(q, key);
    if (!*pp) {
        size_t len = strlen(key);
        struct se_entry *e = xmalloc(sizeof *e + len + 1);
        memcpy(e->key, key, len + 1);
        e->next = NULL;
        e->seq = e->committed = 0;
        e->op = -1;
        e->inflight = false;
        *pp = e;
        q->n_entries++;
    }
    return *pp;
}

static void
se_remove(struct store_etcd *q, struct se_entry *e)
{
    struct se_entry **pp = se_slot(q, e->key);
    if (*pp == e && !e->inflight) { /* the commit in flight names it */
        *pp = e->next;
        free(e);
        q->n_entries--;
    }
}

static void
se_index_clear(struct store_etcd *q)
{
    for (size_t i = 0; i < q->n_buckets; i++) {
        struct se_entry *e = q->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
        q->buckets[i] = NULL;
    }
    q->n_entries = 0;
    q->indexed = false;
}

/* PREFIX/TYPE/ */
static int
se_type_prefix(const struct store_etcd *q, enum store_rec_type t,
               struct strbuf *out)
{
    return strbuf_printf(out, "%s/%s/", q->prefix, se_types[t].name);
}

/* The key of 'r', or EINVAL when it has none. */
static int
se_key(const struct store_etcd *q, const struct store_rec *r,
       struct strbuf *out)
{
    strbuf_clear(out);
    if ((unsigned) r->type >= STORE_N_TYPES) {
        return EINVAL;
    }
    int e = se_type_prefix(q, r->type, out);
    if (e) {
        return e;
    }
    switch (r->type) {
    case STORE_META:
        return strbuf_putc(out, '0');
    case STORE_NODE:
        return r->node.name && *r->node.name ? strbuf_puts(out, r->node.name)
                                             : EINVAL;
    case STORE_VM:
        return r->vm.name && *r->vm.name ? strbuf_puts(out, r->vm.name)
                                         : EINVAL;
    case STORE_TASK:
        return strbuf_printf(out, "%020" PRIu64, r->task.id);
    case STORE_MIGRATION:
        return strbuf_printf(out, "%020" PRIu64, r->migration.id);
    case STORE_BINDING:
        return strbuf_printf(out, "%010" PRIu32, r->binding.id);
    case STORE_VSWITCH:
        return r->vswitch.name && *r->vswitch.name
                   ? strbuf_puts(out, r->vswitch.name)
                   : EINVAL;
    default:
        return EINVAL;
    }
}

/* ---- Encoding ---- */

/* The value of 'r' (every field of its type) as JSON text. */
static char *
se_encode(const struct store_rec *r, uint64_t seq, size_t *len)
{
    const char *base = (const char *) r;
    json_t *o = json_array();
    bool ok = o && js_append(o, json_integer(SE_ENCODING))
              && js_append(o, js_u64(seq));
    for (size_t i = 0; ok && i < se_types[r->type].n; i++) {
        const struct se_field *f = &se_types[r->type].fields[i];
        const char *p = base + f->off;
        json_t *v = NULL;
        switch (f->kind) {
        case SE_U64: {
            uint64_t x;
            memcpy(&x, p, sizeof x);
            v = js_u64(x);
            break;
        }
        case SE_U32: {
            uint32_t x;
            memcpy(&x, p, sizeof x);
            v = json_integer(x);
            break;
        }
        case SE_U16: {
            uint16_t x;
            memcpy(&x, p, sizeof x);
            v = json_integer(x);
            break;
        }
        case SE_BOOL: {
            bool x;
            memcpy(&x, p, sizeof x);
            v = json_boolean(x);
            break;
        }
        case SE_KIND_ENUM: {
            int x;
            memcpy(&x, p, sizeof x);
            v = json_integer(x);
            break;
        }
        case SE_STR:
        case SE_STR0: {
            const char *s;
            memcpy(&s, p, sizeof s);
            v = s ? json_string(s)
                  : f->kind == SE_STR0 ? json_string("") : json_null();
            break;
        }
        case SE_MAC: {
            const uint8_t *m = (const uint8_t *) p;
            v = json_sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
                             m[2], m[3], m[4], m[5]);
            break;
        }
        case SE_BYTES: {
            const void *b;
            size_t n;
            memcpy(&b, p, sizeof b);
            memcpy(&n, base + f->len_off, sizeof n);
            if (!b) {
                v = json_null();
                break;
            }
            struct strbuf sb;
            strbuf_init(&sb);
            if (!base64_encode(&sb, b, n)) {
                v = json_stringn(strbuf_str(&sb), sb.len);
            }
            strbuf_destroy(&sb);
            break;
        }
        }
        ok = js_append(o, v);
    }
    char *text = ok ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    *len = text ? strlen(text) : 0;
    return text;
}

static bool
se_get_u64(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t) json_integer_value(v);
        return true;
    }
    if (!json_is_string(v)) {
        return false;
    }
    const char *s = json_string_value(v);
    uint64_t acc = 0;
    if (strlen(s) != json_string_length(v)
        || !addr_parse_u64(s, 0, UINT64_MAX, &acc)) {
        return false;
    }
    /* One spelling only: above INT64_MAX as a string, below as a number. */
    if (acc <= INT64_MAX) {
        return false;
    }
    *out = acc;
    return true;
}

/* A decoded value: the record points into 'json' and 'bytes'. */
struct se_loaded {
    json_t *json;
    uint64_t seq;
    struct strbuf bytes[2]; /* decoded SE_BYTES fields */
    struct store_rec rec;
};

static void
se_loaded_destroy(struct se_loaded *l)
{
    json_decref(l->json);
    strbuf_destroy(&l->bytes[0]);
    strbuf_destroy(&l->bytes[1]);
}

/* Decodes the value of 'kv' as a record of 'type'.  EBADMSG for anything
 * the encoder would not have written, or a key that is not the record's. */
static int
se_decode(const struct store_etcd *q, enum store_rec_type type,
          const struct etcd_kv *kv, struct se_loaded *l, char *why,
          size_t whylen)
{
    json_error_t je;
    memset(l, 0, sizeof *l);
    strbuf_init(&l->bytes[0]);
    strbuf_init(&l->bytes[1]);
    l->json = json_loadb(kv->value, kv->value_len, JSON_REJECT_DUPLICATES,
                         &je);
    const json_t *o = l->json;
    uint64_t v = 0;
    if (!json_is_array(o)) {
        snprintf(why, whylen, "not a JSON array");
        return EBADMSG;
    }
    if (!se_get_u64(json_array_get(o, 0), &v) || v != SE_ENCODING
        || !se_get_u64(json_array_get(o, 1), &l->seq) || !l->seq) {
        snprintf(why, whylen, "encoding version or seq missing or unknown");
        return EBADMSG;
    }
    if (json_array_size(o) != se_types[type].n + 2) {
        snprintf(why, whylen, "%zu fields, want %zu", json_array_size(o),
                 se_types[type].n + 2);
        return EBADMSG;
    }
    struct store_rec *r = &l->rec;
    char *base = (char *) r;
    r->type = type;
    int n_bytes = 0;
    for (size_t i = 0; i < se_types[type].n; i++) {
        const struct se_field *f = &se_types[type].fields[i];
        const json_t *j = json_array_get(o, i + 2);
        char *p = base + f->off;
        uint64_t x = 0;
        bool ok = j != NULL;
        switch (f->kind) {
        case SE_U64:
            ok = ok && se_get_u64(j, &x);
            memcpy(p, &x, sizeof x);
            break;
        case SE_U32:
        case SE_U16:
        case SE_KIND_ENUM: {
            uint64_t max = f->kind == SE_U32   ? UINT32_MAX
                           : f->kind == SE_U16 ? UINT16_MAX
                                               : f->max - 1;
            ok = ok && json_is_integer(j) && json_integer_value(j) >= 0
                 && (uint64_t) json_integer_value(j) <= max;
            x = ok ? (uint64_t) json_integer_value(j) : 0;
            if (f->kind == SE_U32) {
                uint32_t y = (uint32_t) x;
                memcpy(p, &y, sizeof y);
            } else if (f->kind == SE_U16) {
                uint16_t y = (uint16_t) x;
                memcpy(p, &y, sizeof y);
            } else {
                int y = (int) x;
                memcpy(p, &y, sizeof y);
            }
            break;
        }
        case SE_BOOL: {
            bool b = json_is_true(j);
            ok = ok && json_is_boolean(j);
            memcpy(p, &b, sizeof b);
            break;
        }
        case SE_STR:
        case SE_STR0: {
            const char *s = json_string_value(j);
            ok = ok && ((json_is_null(j) && f->kind == SE_STR)
                        || (s && strlen(s) == json_string_length(j)));
            memcpy(p, &s, sizeof s);
            break;
        }
        case SE_MAC: {
            const char *s = json_string_value(j);
            unsigned m[6];
            char tail;
            ok = ok && s && json_string_length(j) == 17
                 && sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1],
                           &m[2], &m[3], &m[4], &m[5], &tail) == 6;
            for (int k = 0; ok && k < 6; k++) {
                ((uint8_t *) p)[k] = (uint8_t) m[k];
            }
            break;
        }
        case SE_BYTES: {
            const void *b = NULL;
            size_t n = 0;
            if (ok && json_is_string(j) && n_bytes < 2) {
                struct strbuf *sb = &l->bytes[n_bytes++];
                ok = !base64_decode(sb, json_string_value(j),
                                    json_string_length(j))
                     && !strbuf_append(sb, "", 0);
                b = sb->data;
                n = sb->len;
            } else {
                ok = ok && json_is_null(j);
            }
            memcpy(p, &b, sizeof b);
            memcpy(base + f->len_off, &n, sizeof n);
            break;
        }
        }
        if (!ok) {
            snprintf(why, whylen, "field %s missing or of the wrong type",
                     f->name);
            return EBADMSG;
        }
    }
    /* What the other backends insist on too. */
    if ((type == STORE_BINDING && !r->binding.record)
        || (type == STORE_VSWITCH && !r->vswitch.record)) {
        snprintf(why, whylen, "a required field is null");
        return EBADMSG;
    }
    if (type == STORE_VSWITCH
        && (!r->vswitch.len || r->vswitch.len > STORE_VSWITCH_RECORD_MAX)) {
        snprintf(why, whylen, "record of %zu bytes (1-%u)", r->vswitch.len,
                 STORE_VSWITCH_RECORD_MAX);
        return EBADMSG;
    }
    struct strbuf k;
    strbuf_init(&k);
    bool same = !se_key(q, r, &k) && k.len == kv->key_len
                && !memcmp(k.data, kv->key, k.len);
    strbuf_destroy(&k);
    if (!same) {
        snprintf(why, whylen, "the key does not match the record");
        return EBADMSG;
    }
    return 0;
}

/* ---- Reading ---- */

/* Every key of 'type' (paged), decoded, in seq order.  Fills the index
 * with them. */
static int
se_read_type(struct store_etcd *q, enum store_rec_type type,
             struct se_loaded **outp, size_t *np)
{
    struct strbuf from;
    strbuf_init(&from);
    char err[512];
    struct se_loaded *out = NULL;
    size_t n = 0, cap = 0;
    int e = se_type_prefix(q, type, &from);
    char end[512];
    size_t end_len = 0;
    if (!e) {
        etcd_prefix_end(from.data, from.len, end, &end_len);
    }
    while (!e) {
        struct etcd_range_result rr = {0};
        e = etcd_range(q->etcd, from.data, from.len, end, end_len, SE_PAGE,
                       &rr, err, sizeof err);
        if (e) {
            log_write(LOG_ERROR, "store", "event=etcd_error op=range "
                      "err=\"%s\"", err);
            break;
        }
        for (size_t i = 0; i < rr.n && !e; i++) {
            out = xgrow(out, &cap, n + 1, sizeof *out);
            char why[128];
            e = se_decode(q, type, &rr.kvs[i], &out[n], why, sizeof why);
            n++;
            if (e) {
                log_write(LOG_ERROR, "store", "event=corrupt_record "
                          "key=\"%s\" reason=\"%s\"", rr.kvs[i].key, why);
            }
        }
        bool more = rr.more && rr.n;
        if (!e && more) {
            /* The next page starts just after the last key. */
            const struct etcd_kv *last = &rr.kvs[rr.n - 1];
            strbuf_clear(&from);
            if (strbuf_append(&from, last->key, last->key_len)
                || strbuf_append(&from, "", 1)) {
                e = ENOMEM;
            }
        }
        etcd_range_result_destroy(&rr);
        if (!more) {
            break;
        }
    }
    strbuf_destroy(&from);
    if (e) {
        for (size_t i = 0; i < n; i++) {
            se_loaded_destroy(&out[i]);
        }
        free(out);
        return e;
    }
    *outp = out;
    *np = n;
    return 0;
}

static int
se_cmp_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct se_loaded *) a)->seq;
    uint64_t y = ((const struct se_loaded *) b)->seq;
    return x < y ? -1 : x > y;
}

/* Records every key read into the index (committed, seq as stored). */
static void
se_index_add(struct store_etcd *q, const struct se_loaded *l, size_t n)
{
    struct strbuf k;
    strbuf_init(&k);
    for (size_t i = 0; i < n; i++) {
        if (se_key(q, &l[i].rec, &k)) {
            continue;
        }
        struct se_entry *e = se_find_or_add(q, strbuf_str(&k));
        e->seq = e->committed = l[i].seq;
        if (l[i].seq >= q->next_seq) {
            q->next_seq = l[i].seq + 1;
        }
    }
    strbuf_destroy(&k);
}

/* Reads every record (calling 'cb' unless NULL) and rebuilds the index
 * from them.  Only with no batch open. */
static int
se_scan(struct store_etcd *q, int (*cb)(void *, const struct store_rec *),
        void *aux)
{
    se_index_clear(q);
    int ret = 0;
    for (size_t t = 0; t < STORE_N_TYPES && !ret; t++) {
        enum store_rec_type type = se_load_order[t];
        struct se_loaded *l = NULL;
        size_t n = 0;
        ret = se_read_type(q, type, &l, &n);
        if (ret) {
            break;
        }
        if (n > 1) { /* (qsort may not be given NULL, even for 0) */
            qsort(l, n, sizeof *l, se_cmp_seq);
        }
        se_index_add(q, l, n);
        for (size_t i = 0; i < n && cb && !ret; i++) {
            ret = cb(aux, &l[i].rec);
        }
        for (size_t i = 0; i < n; i++) {
            se_loaded_destroy(&l[i]);
        }
        free(l);
    }
    /* Complete only when every type was read: a callback's stop or an
     * error leaves it to the next put to read again. */
    q->indexed = !ret;
    if (ret) {
        se_index_clear(q);
    }
    return ret;
}

/* ---- The store's operations ---- */

/* Forgets the open batch: its keys are as etcd holds them.  Only with
 * no commit in flight (an in-flight key's 'committed' is not yet true). */
static void
se_batch_drop(struct store_etcd *q)
{
    for (size_t i = 0; i < q->n_ops; i++) {
        struct se_entry *e = q->ops[i].entry;
        e->seq = e->committed;
        e->op = -1;
        free(q->ops[i].value);
        if (!e->seq) {
            se_remove(q, e);
        }
    }
    q->n_ops = 0;
}

static int se_put(struct store_etcd *, const struct store_rec *);

static int
store_etcd_put(struct store *s, const struct store_rec *r)
{
    struct store_etcd *q = se_cast(s);
    int e = se_put(q, r);
    if (e && e != EINVAL && !q->failed) {
        q->failed = e; /* EINVAL changes nothing; anything else loses a
                        * write the caller counts on */
    }
    return e;
}

static int
se_put(struct store_etcd *q, const struct store_rec *r)
{
    if (!r || (unsigned) r->type >= STORE_N_TYPES) {
        return EINVAL;
    }
    if (!r->del && r->type == STORE_BINDING
        && (!r->binding.record || !r->binding.len)) {
        return EINVAL;
    }
    if (!r->del && r->type == STORE_VSWITCH
        && (!r->vswitch.record || !r->vswitch.len
            || r->vswitch.len > STORE_VSWITCH_RECORD_MAX)) {
        return EINVAL;
    }
    if (!q->indexed && !q->n_ops) {
        if (q->txn) {
            return EBUSY; /* no scan while the client is in use */
        }
        int e = se_scan(q, NULL, NULL);
        if (e) {
            return e;
        }
    }
    struct strbuf k;
    strbuf_init(&k);
    int e = se_key(q, r, &k);
    if (e) {
        strbuf_destroy(&k);
        return e;
    }
    struct se_entry *ent = se_find_or_add(q, strbuf_str(&k));
    strbuf_destroy(&k);
    uint64_t seq = r->del ? 0 : ent->seq ? ent->seq : q->next_seq;
    char *value = NULL;
    size_t len = 0;
    if (!r->del) {
        value = se_encode(r, seq, &len);
        if (!value) {
            if (ent->op < 0 && !ent->seq) {
                se_remove(q, ent);
            }
            return ENOMEM;
        }
        if (seq == q->next_seq) {
            q->next_seq++;
        }
    }
    ent->seq = seq;
    if (ent->op >= 0) {
        struct se_op *op = &q->ops[ent->op];
        free(op->value);
        op->value = value;
        op->len = len;
        op->seq = seq;
    } else {
        q->ops = xgrow(q->ops, &q->ops_cap, q->n_ops + 1, sizeof *q->ops);
        ent->op = (long) q->n_ops;
        q->ops[q->n_ops++] = (struct se_op){ent, value, len, seq};
    }
    return 0;
}

/* Takes the open batch out as one transaction (store.h). */
static int
store_etcd_commit_begin(struct store *s, struct store_txn **out)
{
    struct store_etcd *q = se_cast(s);
    *out = NULL;
    if (q->txn) {
        return EBUSY;
    }
    int e = q->broken ? q->broken : q->failed;
    if (e) {
        log_write(LOG_ERROR, "store", "event=etcd_commit_failed ops=%zu "
                  "err=\"%s: %s\"", q->n_ops, q->broken
                  ? "an earlier pipelined commit failed" : "a put failed",
                  strerror(e));
        q->failed = 0;
        se_batch_drop(q);
        return e;
    }
    if (!q->n_ops) {
        return 0;
    }
    if (q->n_ops > q->max_ops) {
        log_write(LOG_ERROR, "store", "event=etcd_batch_too_large ops=%zu "
                  "max_txn_ops=%u action=refused (one transaction or none: "
                  "raise etcd's --max-txn-ops and --store-max-txn-ops)",
                  q->n_ops, q->max_ops);
        se_batch_drop(q);
        return E2BIG;
    }
    struct store_txn *t = xcalloc(1, sizeof *t);
    t->etcd = q->etcd;
    t->ops = q->ops;
    t->n_ops = q->n_ops;
    t->eops = xcalloc(t->n_ops, sizeof *t->eops);
    for (size_t i = 0; i < t->n_ops; i++) {
        struct se_op *o = &t->ops[i];
        t->eops[i] = (struct etcd_op){
            .kind = o->value ? ETCD_OP_PUT : ETCD_OP_DELETE,
            .key = o->entry->key,
            .key_len = strlen(o->entry->key),
            .value = o->value,
            .value_len = o->len,
        };
        o->entry->op = -1; /* the next put opens the next batch */
        o->entry->inflight = true;
    }
    t->guard_key = q->guard_key ? xstrdup(q->guard_key) : NULL;
    t->guard_lease = q->guard_lease;
    q->ops = NULL;
    q->n_ops = q->ops_cap = 0;
    q->txn = t;
    *out = t;
    return 0;
}

/* The transaction, with the guard when one is set.  Reads only 't'. */
static int
store_etcd_commit_run(struct store_txn *t)
{
    /* The guard: the key exists (etcd compares a missing key's lease as
     * 0) and is attached to the lease. */
    size_t klen = t->guard_key ? strlen(t->guard_key) : 0;
    struct etcd_cmp guard[2] = {
        {.key = t->guard_key, .key_len = klen, .target = ETCD_CMP_VERSION,
         .result = ETCD_CMP_GREATER, .number = 0},
        {.key = t->guard_key, .key_len = klen, .target = ETCD_CMP_LEASE,
         .result = ETCD_CMP_EQUAL, .number = t->guard_lease},
    };
    struct etcd_txn_result res = {0};
    int e = etcd_txn(t->etcd, guard, t->guard_key ? 2 : 0, t->eops,
                     t->n_ops, NULL, 0, &res, t->err, sizeof t->err);
    if (!e && !res.succeeded) {
        snprintf(t->err, sizeof t->err, "guard key %s is not held by "
                 "lease %" PRId64 " (the lease ended or another process "
                 "holds it)", t->guard_key, t->guard_lease);
        e = STORE_E_GUARD;
    }
    return e;
}

/* Back on the store's thread: the keys 't' wrote are committed, or (on
 * 'err') as they were; a failure after later puts breaks the store. */
static void
store_etcd_commit_end(struct store *s, struct store_txn *t, int err)
{
    struct store_etcd *q = se_cast(s);
    if (err) {
        log_write(LOG_ERROR, "store", "event=etcd_commit_failed ops=%zu "
                  "endpoint=%s err=\"%s\"", t->n_ops,
                  etcd_client_endpoint(q->etcd), t->err);
        if (q->n_ops && !q->broken) {
            q->broken = err;
        }
    } else {
        q->commits++;
        if (t->n_ops > q->max_batch) {
            q->max_batch = t->n_ops;
        }
    }
    for (size_t i = 0; i < t->n_ops; i++) {
        struct se_entry *e = t->ops[i].entry;
        e->inflight = false;
        if (!err) {
            e->committed = t->ops[i].seq;
        } else if (e->op < 0) {
            e->seq = e->committed;
        }
        free(t->ops[i].value);
        if (!e->seq && e->op < 0) {
            se_remove(q, e);
        }
    }
    free(t->ops);
    free(t->eops);
    free(t->guard_key);
    free(t);
    q->txn = NULL;
}

/* In place: the three steps on this thread. */
static int
store_etcd_commit(struct store *s)
{
    struct store_txn *t;
    int e = store_etcd_commit_begin(s, &t);
    if (e || !t) {
        return e;
    }
    e = store_etcd_commit_run(t);
    store_etcd_commit_end(s, t, e);
    return e;
}

static int
store_etcd_load(struct store *s, int (*cb)(void *, const struct store_rec *),
                void *aux)
{
    struct store_etcd *q = se_cast(s);
    if (q->n_ops || q->txn) {
        return EBUSY; /* load with a batch open would lose it */
    }
    return se_scan(q, cb, aux);
}

static void
store_etcd_destroy(struct store *s)
{
    if (!s) {
        return;
    }
    struct store_etcd *q = se_cast(s);
    if (q->commits) {
        log_write(LOG_INF, "store", "event=etcd_closed commits=%" PRIu64
                  " largest_txn_ops=%zu", q->commits, q->max_batch);
    }
    if (q->txn) { /* never run: the caller ends what it begins */
        store_etcd_commit_end(s, q->txn, ECANCELED);
    }
    se_batch_drop(q); /* uncommitted puts are not durable */
    se_index_clear(q);
    free(q->buckets);
    free(q->ops);
    free(q->guard_key);
    etcd_client_destroy(q->etcd);
    free(q);
}

static const struct store_ops store_etcd_ops = {
    .put = store_etcd_put,
    .commit = store_etcd_commit,
    .load = store_etcd_load,
    .destroy = store_etcd_destroy,
    .commit_begin = store_etcd_commit_begin,
    .commit_run = store_etcd_commit_run,
    .commit_end = store_etcd_commit_end,
};

/* Writes the schema key if the prefix has none; refuses another. */
static int
se_check_schema(struct store_etcd *q, char *err, unsigned errlen)
{
    char key[300], why[512];
    snprintf(key, sizeof key, "%s/schema", q->prefix);
    struct etcd_cmp absent = {
        .key = key, .key_len = strlen(key), .target = ETCD_CMP_VERSION,
        .result = ETCD_CMP_EQUAL, .number = 0,
    };
    struct etcd_op put = {
        .kind = ETCD_OP_PUT, .key = key, .key_len = strlen(key),
        .value = SE_SCHEMA_VALUE, .value_len = strlen(SE_SCHEMA_VALUE),
    };
    struct etcd_txn_result res;
    int e = etcd_txn(q->etcd, &absent, 1, &put, 1, NULL, 0, &res, why,
                     sizeof why);
    if (e) {
        snprintf(err, errlen, "%s", why);
        return e;
    }
    if (res.succeeded) {
        return 0;
    }
    struct etcd_range_result rr = {0};
    e = etcd_range(q->etcd, key, strlen(key), NULL, 0, 1, &rr, why,
                   sizeof why);
    if (e) {
        snprintf(err, errlen, "%s", why);
        return e;
    }
    bool ours = rr.n == 1 && rr.kvs[0].value_len == strlen(SE_SCHEMA_VALUE)
                && !memcmp(rr.kvs[0].value, SE_SCHEMA_VALUE,
                           rr.kvs[0].value_len);
    if (!ours) {
        snprintf(err, errlen, "etcd key %s holds '%.64s', not '%s': "
                 "another program's data or a newer mignet", key,
                 rr.n ? rr.kvs[0].value : "", SE_SCHEMA_VALUE);
        e = EPROTO;
    }
    etcd_range_result_destroy(&rr);
    return e;
}

struct store *
store_etcd_open(const char *endpoints, const char *prefix,
                const struct etcd_tls *tls, char *err, unsigned errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!prefix || prefix[0] != '/' || strlen(prefix) >= 256
        || prefix[strlen(prefix) - 1] == '/') {
        snprintf(err, errlen, "store prefix must start with '/', not end "
                 "with one, and be shorter than 256 bytes");
        return NULL;
    }
    char why[512];
    struct etcd_client *c = etcd_client_create(endpoints, 0, tls, why,
                                               sizeof why);
    if (!c) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    struct store_etcd *q = xcalloc(1, sizeof *q);
    q->up.ops = &store_etcd_ops;
    q->etcd = c;
    q->max_ops = STORE_ETCD_MAX_TXN_OPS_DEFAULT;
    q->next_seq = 1;
    snprintf(q->prefix, sizeof q->prefix, "%s", prefix);
    se_grow(q);
    if (se_check_schema(q, why, sizeof why)) {
        snprintf(err, errlen, "etcd %s: %s", endpoints, why);
        store_etcd_destroy(&q->up);
        return NULL;
    }
    return &q->up;
}

void
store_etcd_set_max_ops(struct store *s, unsigned max_ops)
{
    se_cast(s)->max_ops = max_ops ? max_ops : 1;
}

void
store_etcd_set_guard(struct store *s, const char *key, int64_t lease_id)
{
    struct store_etcd *q = se_cast(s);
    free(q->guard_key);
    q->guard_key = key ? xstrdup(key) : NULL;
    q->guard_lease = key ? lease_id : 0;
}
