/* store.h: the durable store interface (I7).
 *
 * The core writes one record per changed object; a backend keeps the latest
 * record per key (or forgets it on 'del') and replays them on load.  The
 * in-memory backend serves tests and the simulator; the SQLite backend
 * (WAL) serves mignetd.  Nothing written is durable until store_commit()
 * returns 0: callers commit before they answer anyone. */
#ifndef MIGNET_STORE_H
#define MIGNET_STORE_H 1

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "mignet/model.h"

enum store_rec_type {
    STORE_META,      /* key: 0; counters */
    STORE_NODE,      /* key: name */
    STORE_VM,        /* key: name */
    STORE_TASK,      /* key: id */
    STORE_MIGRATION, /* key: id */
    STORE_BINDING,   /* key: id */
    STORE_VSWITCH,   /* key: name */
};
#define STORE_N_TYPES (STORE_VSWITCH + 1)

struct store_node_rec {
    const char *name;
    const char *address;
    uint32_t refresh_ms;
    bool cordoned, draining;
    /* SHA-256 of the node's token, 64 lowercase hex digits; NULL or ""
     * for none (a node only TLS can authenticate). */
    const char *token_hash;
    /* Read only: set by stores of schema <= 2 for a node removed while it
     * had VMs; the core loads such a node as cordoned. */
    bool gone;
};

struct store_vm_rec {
    const char *name;
    const char *node;
    struct mn_config config;
    uint64_t epoch;
    uint64_t map_version;
    uint64_t migration; /* latest, 0 = none */
    const char *iface_id; /* NULL or "": the VM's name */
    const char *drain_target; /* node name, NULL = none */
};

struct store_task_rec {
    uint64_t id;
    enum task_kind kind;
    const char *vm;
    const char *node;
    uint64_t epoch;
    uint64_t due_ms;
    uint64_t migration;
    uint64_t need_version;   /* early release once all nodes acked it */
    const char *relay_target; /* NULL = none */
    uint64_t target_epoch;
    struct mn_config snapshot;
    /* The snapshot's binding (binding_encode() record), NULL = none.
     * LEASE tasks name their binding in snapshot.binding. */
    const void *binding;
    size_t binding_len;
};

struct store_migration_rec {
    uint64_t id;
    const char *vm;
    const char *src;
    const char *dst;
    uint64_t epoch;
    uint64_t map_version;
    enum mig_phase phase;
    enum mig_switchover switchover;
    uint64_t started_ms, relaying_ms, cleaned_ms, delay_ms;
    uint64_t prepared_ms, switched_ms, activated_ms, cleaning_ms;
    uint64_t aborted_ms, prepare_deadline_ms;
    bool released_early;
    bool degraded;
    const char *abort_reason; /* "" when none */
};

/* A port-security binding: the binding_encode() record (version, then
 * every field), so the store never needs to know the binding's layout. */
struct store_binding_rec {
    uint32_t id;
    const void *record;
    size_t len;
};

/* A tenant virtual switch's definition (issue 14): opaque bytes that
 * mignetd writes (its JSON text) and reads back itself; the store never
 * looks inside, the core never sees one (core_load skips them).  'record'
 * must hold 1 to STORE_VSWITCH_RECORD_MAX bytes, NUL bytes included;
 * 'name' must not be empty. */
struct store_vswitch_rec {
    const char *name;
    const void *record;
    size_t len;
};
/* The largest record a backend accepts (etcd holds it as base64 in one
 * transaction, beside the rest of a batch). */
#define STORE_VSWITCH_RECORD_MAX (256u * 1024)

struct store_meta_rec {
    uint64_t map_version;
    uint64_t next_migration;
    uint64_t next_task;
};

struct store_rec {
    enum store_rec_type type;
    bool del; /* forget the key; only the key fields are meaningful */
    union {
        struct store_meta_rec meta;
        struct store_node_rec node;
        struct store_vm_rec vm;
        struct store_task_rec task;
        struct store_migration_rec migration;
        struct store_binding_rec binding;
        struct store_vswitch_rec vswitch;
    };
};

struct store;
struct store_txn;
struct store_ops {
    /* Upserts or deletes one record (copying what it needs). 0 or errno. */
    int (*put)(struct store *, const struct store_rec *);
    /* Makes every put so far durable. 0 or errno. */
    int (*commit)(struct store *);
    /* Calls 'cb' for each record: META first, then NODE, VM, BINDING,
     * VSWITCH (in the order each name was first written), MIGRATION,
     * TASK.  Stops and returns the callback's nonzero value. */
    int (*load)(struct store *, int (*cb)(void *aux, const struct store_rec *),
                void *aux);
    void (*destroy)(struct store *);

    /* Pipelined commits (optional: NULL where a backend commits only in
     * place).  commit_begin() takes every put so far out of the open
     * batch into '*txn' (the next put opens a new batch); commit_run()
     * makes it durable, and may run on another thread while puts go into
     * the next batch: it touches nothing but 'txn'; commit_end() takes
     * the result back on the store's thread and frees 'txn'.  At most one
     * txn is in flight; commit() and load() refuse (EBUSY) meanwhile.
     * After a failed txn every later commit fails too: what the next
     * batch was built on may never have been written. */
    int (*commit_begin)(struct store *, struct store_txn **);
    int (*commit_run)(struct store_txn *);
    void (*commit_end)(struct store *, struct store_txn *, int err);
};
struct store {
    const struct store_ops *ops;
    size_t pending; /* puts since the last commit that succeeded */
};

static inline int
store_put(struct store *s, const struct store_rec *r)
{
    s->pending++;
    return s->ops->put(s, r);
}
static inline int
store_commit(struct store *s)
{
    int err = s->ops->commit(s);
    if (!err) {
        s->pending = 0;
    }
    return err;
}
/* Puts since the last commit (a record put twice counts twice): how big
 * the next commit is at most.  The controller ends a batch early by it
 * (a backend may bound a commit: etcd's --max-txn-ops). */
static inline size_t
store_pending(const struct store *s)
{
    return s->pending;
}
/* Whether the backend pipelines commits (store_ops.commit_begin). */
static inline bool
store_can_pipeline(const struct store *s)
{
    return s->ops->commit_begin != NULL;
}
/* commit_begin(): 0 with '*txn' set (NULL when there was nothing to
 * commit); EBUSY with one in flight (nothing changed); or another errno,
 * the batch then failed as commit() would have. */
static inline int
store_commit_begin(struct store *s, struct store_txn **txn)
{
    *txn = NULL;
    int err = s->ops->commit_begin(s, txn);
    if (err != EBUSY) {
        s->pending = 0; /* those puts are in 'txn' (or failed with it) */
    }
    return err;
}
static inline int
store_commit_run(const struct store *s, struct store_txn *txn)
{
    return s->ops->commit_run(txn);
}
static inline void
store_commit_end(struct store *s, struct store_txn *txn, int err)
{
    s->ops->commit_end(s, txn, err);
}
static inline void
store_destroy(struct store *s)
{
    if (s) {
        s->ops->destroy(s);
    }
}

/* In-memory backend (src/store/store_mem.c). */
struct store *store_mem_create(void);
/* Number of records held, by type (tests). */
unsigned long store_mem_count(const struct store *, enum store_rec_type);

/* SQLite backend (src/store/store_sqlite.c): opens or creates 'path' in WAL
 * mode.  On error returns NULL and writes a message to 'err' that names
 * the file.  Beside it, 'path'.gen (the generation marker) is created and
 * kept up to date; a store that is missing, empty, damaged or behind its
 * marker is refused (docs/mignetd.md "Store integrity"). */
struct store *store_sqlite_open(const char *path, char *err, unsigned errlen);
/* store_sqlite_open() with flags: */
#define STORE_SQLITE_ACCEPT 1u /* take the store as it is: a missing or
                                * empty one starts empty, one behind or
                                * without its marker is used as found (the
                                * marker is rewritten); damage inside the
                                * file is still refused */
struct store *store_sqlite_open_flags(const char *path, unsigned flags,
                                      char *err, unsigned errlen);

/* etcd backend (src/store/store_etcd.c, docs/ha.md): the records under
 * 'prefix' ("/mignet": PREFIX/TYPE/KEY, one JSON value each) in the etcd
 * cluster at 'endpoints' ("[etcd://]HOST:PORT[,HOST:PORT...]"; the next is
 * tried when one cannot be connected to), over TLS when 'tls' is not NULL
 * (mignet/etcd.h).  Each commit is one etcd transaction holding every put
 * since the last (the last write of a key wins).  NULL with a message in
 * 'err' when etcd cannot be reached, TLS fails either way, or the prefix
 * holds something else. */
struct etcd_tls;
struct store *store_etcd_open(const char *endpoints, const char *prefix,
                              const struct etcd_tls *tls, char *err,
                              unsigned errlen);
/* etcd's --max-txn-ops (its default: 128).  A commit of more records is
 * refused with STORE_E_TOO_LARGE and writes nothing: a batch is one
 * transaction or none. */
#define STORE_ETCD_MAX_TXN_OPS_DEFAULT 128
void store_etcd_set_max_ops(struct store *, unsigned max_ops);
/* From now on every commit requires etcd key 'key' to be attached to
 * lease 'lease_id' (NULL 'key': no guard); when it is not (the lease
 * expired or was revoked, another process holds the key), the commit
 * writes nothing and fails with STORE_E_GUARD.  A deposed leader can
 * never commit. */
void store_etcd_set_guard(struct store *, const char *key,
                          int64_t lease_id);
/* The commit errors only the etcd backend gives (besides ECONNREFUSED,
 * ETIMEDOUT -- the transaction may or may not have applied -- and EIO). */
#define STORE_E_TOO_LARGE E2BIG      /* more records than max_ops */
#define STORE_E_GUARD EOWNERDEAD     /* the guard lease does not hold */

#endif /* MIGNET_STORE_H */
