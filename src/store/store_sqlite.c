/* store_sqlite.c: the SQLite (WAL) backend of the durable store (I7).
 *
 * One table per record type holds the latest record per key.  Puts go into
 * one open transaction that store_commit() ends, so a caller can group many
 * changes into a single durable (fsynced) commit.  It must never report a
 * commit as done before SQLite has made it durable, and never hand the
 * core a record it could not read back whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "mignet/store.h"

/* 'mgnt': marks a file as a mignet store. */
#define SQLS_APP_ID 0x6d676e74
/* 2: bindings (seed 003) and the binding snapshot of a task.
 * 3: the migration lifecycle (switch-over modes, cleaning, aborted).
 * 4: the node lifecycle (a node's cordon and drain, a VM's drain target).
 * 5: node identity (the SHA-256 of a node's token).
 * An older file is upgraded in place when opened (sqls_upgrades). */
#define SQLS_SCHEMA 5

static const char sqls_schema[] =
    "CREATE TABLE meta("
    " k INTEGER PRIMARY KEY CHECK (k = 0),"
    " map_version INTEGER NOT NULL, next_migration INTEGER NOT NULL,"
    " next_task INTEGER NOT NULL);"
    "CREATE TABLE nodes("
    " name TEXT NOT NULL UNIQUE, address TEXT, refresh_ms INTEGER NOT NULL,"
    " gone INTEGER NOT NULL, cordoned INTEGER NOT NULL DEFAULT 0,"
    " draining INTEGER NOT NULL DEFAULT 0, token_hash TEXT);"
    "CREATE TABLE vms("
    " name TEXT NOT NULL UNIQUE, node TEXT, mac INTEGER NOT NULL,"
    " vlan INTEGER NOT NULL, ip INTEGER NOT NULL, vni INTEGER NOT NULL,"
    " port INTEGER NOT NULL, binding INTEGER NOT NULL,"
    " epoch INTEGER NOT NULL, map_version INTEGER NOT NULL,"
    " migration INTEGER NOT NULL, iface_id TEXT NOT NULL DEFAULT '',"
    " drain_target TEXT);"
    "CREATE TABLE migrations("
    " id INTEGER PRIMARY KEY, vm TEXT, src TEXT, dst TEXT,"
    " epoch INTEGER NOT NULL, map_version INTEGER NOT NULL,"
    " phase INTEGER NOT NULL, started_ms INTEGER NOT NULL,"
    " relaying_ms INTEGER NOT NULL, cleaned_ms INTEGER NOT NULL,"
    " delay_ms INTEGER NOT NULL, released_early INTEGER NOT NULL,"
    " switchover INTEGER NOT NULL DEFAULT 0,"
    " prepared_ms INTEGER NOT NULL DEFAULT 0,"
    " switched_ms INTEGER NOT NULL DEFAULT 0,"
    " activated_ms INTEGER NOT NULL DEFAULT 0,"
    " cleaning_ms INTEGER NOT NULL DEFAULT 0,"
    " aborted_ms INTEGER NOT NULL DEFAULT 0,"
    " prepare_deadline_ms INTEGER NOT NULL DEFAULT 0,"
    " degraded INTEGER NOT NULL DEFAULT 0,"
    " abort_reason TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE tasks("
    " id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, vm TEXT, node TEXT,"
    " epoch INTEGER NOT NULL, due_ms INTEGER NOT NULL,"
    " migration INTEGER NOT NULL, need_version INTEGER NOT NULL,"
    " relay_target TEXT, target_epoch INTEGER NOT NULL,"
    " mac INTEGER NOT NULL, vlan INTEGER NOT NULL, ip INTEGER NOT NULL,"
    " vni INTEGER NOT NULL, port INTEGER NOT NULL,"
    " binding INTEGER NOT NULL, binding_rec BLOB);"
    "CREATE TABLE bindings(id INTEGER PRIMARY KEY, record BLOB NOT NULL);";

/* In-place upgrades: sqls_upgrades[v - 1] takes schema v to v + 1, each
 * in one transaction. */
static const char *const sqls_upgrades[] = {
    /* 1 -> 2: the bindings table and the tasks' binding snapshot. */
    "ALTER TABLE tasks ADD COLUMN binding_rec BLOB;"
    "CREATE TABLE bindings(id INTEGER PRIMARY KEY, record BLOB NOT NULL);",
    /* 2 -> 3: the migration lifecycle.  Phases were prepared (0: the
     * gateway had moved, both agents' confirmations awaited), relaying (1)
     * and cleaned (2); they become preparing (0) in `now` mode with the
     * switch-over done at the start, relaying (2) and cleaned (4). */
    "ALTER TABLE vms ADD COLUMN iface_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE migrations ADD COLUMN switchover INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE migrations ADD COLUMN prepared_ms INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE migrations ADD COLUMN switched_ms INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE migrations ADD COLUMN activated_ms INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE migrations ADD COLUMN cleaning_ms INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE migrations ADD COLUMN aborted_ms INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE migrations ADD COLUMN prepare_deadline_ms INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE migrations ADD COLUMN degraded INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE migrations ADD COLUMN abort_reason TEXT NOT NULL"
    " DEFAULT '';"
    "UPDATE migrations SET phase = CASE phase WHEN 1 THEN 2 WHEN 2 THEN 4"
    " ELSE phase END, switched_ms = started_ms, activated_ms = started_ms,"
    " cleaning_ms = cleaned_ms;",
    /* 3 -> 4: the node lifecycle.  Old 'gone' rows keep their mark, which
     * the core reads as cordoned. */
    "ALTER TABLE nodes ADD COLUMN cordoned INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE nodes ADD COLUMN draining INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE vms ADD COLUMN drain_target TEXT;",
    /* 4 -> 5: node identity.  Nodes stored before have no token: only a
     * TLS client certificate authenticates them until one is rotated. */
    "ALTER TABLE nodes ADD COLUMN token_hash TEXT;",
};
_Static_assert(sizeof sqls_upgrades / sizeof sqls_upgrades[0]
                   == SQLS_SCHEMA - 1,
               "one upgrade step per schema version");

/* Statements, by record type: upsert, delete by key, load in order. */
enum sqls_stmt {
    SQLS_META_PUT, SQLS_META_DEL, SQLS_META_LOAD,
    SQLS_NODE_PUT, SQLS_NODE_DEL, SQLS_NODE_LOAD,
    SQLS_VM_PUT, SQLS_VM_DEL, SQLS_VM_LOAD,
    SQLS_TASK_PUT, SQLS_TASK_DEL, SQLS_TASK_LOAD,
    SQLS_MIG_PUT, SQLS_MIG_DEL, SQLS_MIG_LOAD,
    SQLS_BINDING_PUT, SQLS_BINDING_DEL, SQLS_BINDING_LOAD,
    SQLS_BEGIN, SQLS_COMMIT, SQLS_ROLLBACK,
    SQLS_N_STMTS
};

static const char *const sqls_sql[SQLS_N_STMTS] = {
    [SQLS_META_PUT] =
        "INSERT INTO meta(k, map_version, next_migration, next_task)"
        " VALUES(0, ?1, ?2, ?3) ON CONFLICT(k) DO UPDATE SET"
        " map_version = ?1, next_migration = ?2, next_task = ?3",
    [SQLS_META_DEL] = "DELETE FROM meta",
    [SQLS_META_LOAD] =
        "SELECT map_version, next_migration, next_task FROM meta",
    [SQLS_NODE_PUT] =
        "INSERT INTO nodes(name, address, refresh_ms, gone, cordoned,"
        " draining, token_hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT(name) DO UPDATE SET address = ?2, refresh_ms = ?3,"
        " gone = ?4, cordoned = ?5, draining = ?6, token_hash = ?7",
    [SQLS_NODE_DEL] = "DELETE FROM nodes WHERE name = ?1",
    [SQLS_NODE_LOAD] =
        "SELECT name, address, refresh_ms, gone, cordoned, draining,"
        " token_hash FROM nodes ORDER BY rowid",
    [SQLS_VM_PUT] =
        "INSERT INTO vms(name, node, mac, vlan, ip, vni, port, binding,"
        " epoch, map_version, migration, iface_id, drain_target)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        " ON CONFLICT(name) DO UPDATE SET node = ?2, mac = ?3, vlan = ?4,"
        " ip = ?5, vni = ?6, port = ?7, binding = ?8, epoch = ?9,"
        " map_version = ?10, migration = ?11, iface_id = ?12,"
        " drain_target = ?13",
    [SQLS_VM_DEL] = "DELETE FROM vms WHERE name = ?1",
    [SQLS_VM_LOAD] =
        "SELECT name, node, mac, vlan, ip, vni, port, binding, epoch,"
        " map_version, migration, iface_id, drain_target FROM vms"
        " ORDER BY rowid",
    [SQLS_TASK_PUT] =
        "INSERT OR REPLACE INTO tasks(id, kind, vm, node, epoch, due_ms,"
        " migration, need_version, relay_target, target_epoch, mac, vlan,"
        " ip, vni, port, binding, binding_rec) VALUES(?1, ?2, ?3, ?4, ?5,"
        " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [SQLS_TASK_DEL] = "DELETE FROM tasks WHERE id = ?1",
    [SQLS_TASK_LOAD] =
        "SELECT id, kind, vm, node, epoch, due_ms, migration, need_version,"
        " relay_target, target_epoch, mac, vlan, ip, vni, port, binding,"
        " binding_rec FROM tasks ORDER BY id",
    [SQLS_MIG_PUT] =
        "INSERT OR REPLACE INTO migrations(id, vm, src, dst, epoch,"
        " map_version, phase, started_ms, relaying_ms, cleaned_ms, delay_ms,"
        " released_early, switchover, prepared_ms, switched_ms,"
        " activated_ms, cleaning_ms, aborted_ms, prepare_deadline_ms,"
        " degraded, abort_reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
        " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    [SQLS_MIG_DEL] = "DELETE FROM migrations WHERE id = ?1",
    [SQLS_MIG_LOAD] =
        "SELECT id, vm, src, dst, epoch, map_version, phase, started_ms,"
        " relaying_ms, cleaned_ms, delay_ms, released_early, switchover,"
        " prepared_ms, switched_ms, activated_ms, cleaning_ms, aborted_ms,"
        " prepare_deadline_ms, degraded, abort_reason"
        " FROM migrations ORDER BY id",
    [SQLS_BINDING_PUT] =
        "INSERT OR REPLACE INTO bindings(id, record) VALUES(?1, ?2)",
    [SQLS_BINDING_DEL] = "DELETE FROM bindings WHERE id = ?1",
    [SQLS_BINDING_LOAD] = "SELECT id, record FROM bindings ORDER BY id",
    [SQLS_BEGIN] = "BEGIN IMMEDIATE",
    [SQLS_COMMIT] = "COMMIT",
    [SQLS_ROLLBACK] = "ROLLBACK",
};

struct store_sqlite {
    struct store up;
    sqlite3 *db;
    sqlite3_stmt *stmts[SQLS_N_STMTS];
    bool in_txn;
    bool failed; /* a put failed inside the open transaction */
};

static struct store_sqlite *
store_sqlite_cast(struct store *s)
{
    return (struct store_sqlite *) s;
}

/* SQLite result code -> errno. */
static int
sqls_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return ENOMEM;
    case SQLITE_FULL:
        return ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return EBUSY;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return EACCES;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_MISMATCH:
        return EBADMSG;
    case SQLITE_CONSTRAINT:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        return EINVAL;
    default:
        return EIO;
    }
}

static int
sqls_fail(struct store_sqlite *q, const char *what, int rc)
{
    log_write(LOG_ERROR, "store", "event=sqlite_error op=%s rc=%d msg=\"%s\"",
              what, rc, sqlite3_errmsg(q->db));
    return sqls_errno(rc);
}

/* Runs a statement that returns no rows; resets it either way. */
static int
sqls_step_done(struct store_sqlite *q, enum sqls_stmt id)
{
    sqlite3_stmt *st = q->stmts[id];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : sqls_fail(q, sqls_sql[id], rc);
}

static uint64_t
sqls_mac_to_u64(const uint8_t mac[6])
{
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) {
        v = (v << 8) | mac[i];
    }
    return v;
}

static void
sqls_u64_to_mac(uint64_t v, uint8_t mac[6])
{
    for (int i = 5; i >= 0; i--) {
        mac[i] = (uint8_t) (v & 0xff);
        v >>= 8;
    }
}

static void
sqls_bind_u64(sqlite3_stmt *st, int col, uint64_t v)
{
    /* Stored as the same 64 bits; read back with the inverse cast. */
    sqlite3_bind_int64(st, col, (sqlite3_int64) v);
}

static void
sqls_bind_text(sqlite3_stmt *st, int col, const char *s)
{
    if (s) {
        sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, col);
    }
}

/* Binds a byte record, or NULL. */
static int
sqls_bind_blob(sqlite3_stmt *st, int col, const void *p, size_t len)
{
    if (!p) {
        sqlite3_bind_null(st, col);
        return 0;
    }
    if (len > 65536) {
        return EINVAL;
    }
    sqlite3_bind_blob(st, col, p, (int) len, SQLITE_STATIC);
    return 0;
}

/* Binds the six configuration columns starting at 'col'. */
static void
sqls_bind_config(sqlite3_stmt *st, int col, const struct mn_config *c)
{
    sqls_bind_u64(st, col, sqls_mac_to_u64(c->mac));
    sqls_bind_u64(st, col + 1, c->vlan);
    sqls_bind_u64(st, col + 2, c->ip);
    sqls_bind_u64(st, col + 3, c->vni);
    sqls_bind_u64(st, col + 4, c->port);
    sqls_bind_u64(st, col + 5, c->binding);
}

static enum sqls_stmt
sqls_put_stmt(enum store_rec_type type, bool del)
{
    static const enum sqls_stmt put[] = {
        [STORE_META] = SQLS_META_PUT, [STORE_NODE] = SQLS_NODE_PUT,
        [STORE_VM] = SQLS_VM_PUT, [STORE_TASK] = SQLS_TASK_PUT,
        [STORE_MIGRATION] = SQLS_MIG_PUT, [STORE_BINDING] = SQLS_BINDING_PUT,
    };
    return put[type] + (del ? 1 : 0);
}

/* Binds the fields of 'r' to its upsert (or delete) statement. */
static int
sqls_bind_rec(sqlite3_stmt *st, const struct store_rec *r)
{
    switch (r->type) {
    case STORE_META:
        if (!r->del) {
            sqls_bind_u64(st, 1, r->meta.map_version);
            sqls_bind_u64(st, 2, r->meta.next_migration);
            sqls_bind_u64(st, 3, r->meta.next_task);
        }
        return 0;
    case STORE_NODE:
        if (!r->node.name) {
            return EINVAL;
        }
        sqls_bind_text(st, 1, r->node.name);
        if (!r->del) {
            sqls_bind_text(st, 2, r->node.address);
            sqls_bind_u64(st, 3, r->node.refresh_ms);
            sqls_bind_u64(st, 4, r->node.gone);
            sqls_bind_u64(st, 5, r->node.cordoned);
            sqls_bind_u64(st, 6, r->node.draining);
            if (r->node.token_hash && r->node.token_hash[0]) {
                sqls_bind_text(st, 7, r->node.token_hash);
            }
        }
        return 0;
    case STORE_VM:
        if (!r->vm.name) {
            return EINVAL;
        }
        sqls_bind_text(st, 1, r->vm.name);
        if (!r->del) {
            sqls_bind_text(st, 2, r->vm.node);
            sqls_bind_config(st, 3, &r->vm.config);
            sqls_bind_u64(st, 9, r->vm.epoch);
            sqls_bind_u64(st, 10, r->vm.map_version);
            sqls_bind_u64(st, 11, r->vm.migration);
            sqls_bind_text(st, 12, r->vm.iface_id ? r->vm.iface_id : "");
            sqls_bind_text(st, 13, r->vm.drain_target);
        }
        return 0;
    case STORE_TASK:
        sqls_bind_u64(st, 1, r->task.id);
        if (!r->del) {
            sqls_bind_u64(st, 2, r->task.kind);
            sqls_bind_text(st, 3, r->task.vm);
            sqls_bind_text(st, 4, r->task.node);
            sqls_bind_u64(st, 5, r->task.epoch);
            sqls_bind_u64(st, 6, r->task.due_ms);
            sqls_bind_u64(st, 7, r->task.migration);
            sqls_bind_u64(st, 8, r->task.need_version);
            sqls_bind_text(st, 9, r->task.relay_target);
            sqls_bind_u64(st, 10, r->task.target_epoch);
            sqls_bind_config(st, 11, &r->task.snapshot);
            return sqls_bind_blob(st, 17, r->task.binding,
                                  r->task.binding_len);
        }
        return 0;
    case STORE_BINDING:
        sqls_bind_u64(st, 1, r->binding.id);
        if (!r->del) {
            if (!r->binding.record || !r->binding.len) {
                return EINVAL;
            }
            return sqls_bind_blob(st, 2, r->binding.record, r->binding.len);
        }
        return 0;
    case STORE_MIGRATION:
        sqls_bind_u64(st, 1, r->migration.id);
        if (!r->del) {
            sqls_bind_text(st, 2, r->migration.vm);
            sqls_bind_text(st, 3, r->migration.src);
            sqls_bind_text(st, 4, r->migration.dst);
            sqls_bind_u64(st, 5, r->migration.epoch);
            sqls_bind_u64(st, 6, r->migration.map_version);
            sqls_bind_u64(st, 7, r->migration.phase);
            sqls_bind_u64(st, 8, r->migration.started_ms);
            sqls_bind_u64(st, 9, r->migration.relaying_ms);
            sqls_bind_u64(st, 10, r->migration.cleaned_ms);
            sqls_bind_u64(st, 11, r->migration.delay_ms);
            sqls_bind_u64(st, 12, r->migration.released_early);
            sqls_bind_u64(st, 13, r->migration.switchover);
            sqls_bind_u64(st, 14, r->migration.prepared_ms);
            sqls_bind_u64(st, 15, r->migration.switched_ms);
            sqls_bind_u64(st, 16, r->migration.activated_ms);
            sqls_bind_u64(st, 17, r->migration.cleaning_ms);
            sqls_bind_u64(st, 18, r->migration.aborted_ms);
            sqls_bind_u64(st, 19, r->migration.prepare_deadline_ms);
            sqls_bind_u64(st, 20, r->migration.degraded);
            sqls_bind_text(st, 21, r->migration.abort_reason
                                       ? r->migration.abort_reason
                                       : "");
        }
        return 0;
    default:
        return EINVAL;
    }
}

static int
store_sqlite_put(struct store *s, const struct store_rec *r)
{
    struct store_sqlite *q = store_sqlite_cast(s);
    if (!r || (unsigned) r->type >= STORE_N_TYPES) {
        return EINVAL;
    }
    enum sqls_stmt id = sqls_put_stmt(r->type, r->del);
    sqlite3_stmt *st = q->stmts[id];
    int err = sqls_bind_rec(st, r);
    if (err) {
        sqlite3_clear_bindings(st);
        return err;
    }
    if (!q->in_txn) {
        err = sqls_step_done(q, SQLS_BEGIN);
        if (err) {
            sqlite3_clear_bindings(st);
            return err;
        }
        q->in_txn = true;
    }
    err = sqls_step_done(q, id);
    if (err) {
        /* The transaction is poisoned: the next commit rolls it back. */
        q->failed = true;
    }
    return err;
}

static int
store_sqlite_commit(struct store *s)
{
    struct store_sqlite *q = store_sqlite_cast(s);
    if (!q->in_txn) {
        return 0;
    }
    int err = q->failed ? EIO : sqls_step_done(q, SQLS_COMMIT);
    if (err) {
        /* COMMIT can fail and leave the transaction open (e.g. busy). */
        if (!sqlite3_get_autocommit(q->db)) {
            (void) sqls_step_done(q, SQLS_ROLLBACK);
        }
    }
    q->in_txn = false;
    q->failed = false;
    return err;
}

/* Column helpers for load; a NULL where a name must be is corruption. */
static uint64_t
sqls_col_u64(sqlite3_stmt *st, int col)
{
    return (uint64_t) sqlite3_column_int64(st, col);
}

static const char *
sqls_col_text(sqlite3_stmt *st, int col)
{
    return (const char *) sqlite3_column_text(st, col);
}

static void
sqls_col_config(sqlite3_stmt *st, int col, struct mn_config *c)
{
    sqls_u64_to_mac(sqls_col_u64(st, col), c->mac);
    c->vlan = (uint16_t) sqls_col_u64(st, col + 1);
    c->ip = (uint32_t) sqls_col_u64(st, col + 2);
    c->vni = (uint32_t) sqls_col_u64(st, col + 3);
    c->port = (uint32_t) sqls_col_u64(st, col + 4);
    c->binding = (uint32_t) sqls_col_u64(st, col + 5);
}

/* Fills 'r' from the current row of a load statement of 'type'.  Returns
 * EBADMSG for a row that cannot be a record the core wrote. */
static int
sqls_read_row(sqlite3_stmt *st, enum store_rec_type type,
              struct store_rec *r)
{
    memset(r, 0, sizeof *r);
    r->type = type;
    switch (type) {
    case STORE_META:
        r->meta.map_version = sqls_col_u64(st, 0);
        r->meta.next_migration = sqls_col_u64(st, 1);
        r->meta.next_task = sqls_col_u64(st, 2);
        return 0;
    case STORE_NODE:
        r->node.name = sqls_col_text(st, 0);
        r->node.address = sqls_col_text(st, 1);
        r->node.refresh_ms = (uint32_t) sqls_col_u64(st, 2);
        r->node.gone = sqls_col_u64(st, 3) != 0;
        r->node.cordoned = sqls_col_u64(st, 4) != 0;
        r->node.draining = sqls_col_u64(st, 5) != 0;
        r->node.token_hash = sqls_col_text(st, 6);
        return r->node.name ? 0 : EBADMSG;
    case STORE_VM:
        r->vm.name = sqls_col_text(st, 0);
        r->vm.node = sqls_col_text(st, 1);
        sqls_col_config(st, 2, &r->vm.config);
        r->vm.epoch = sqls_col_u64(st, 8);
        r->vm.map_version = sqls_col_u64(st, 9);
        r->vm.migration = sqls_col_u64(st, 10);
        r->vm.iface_id = sqls_col_text(st, 11);
        r->vm.drain_target = sqls_col_text(st, 12);
        return r->vm.name && r->vm.iface_id ? 0 : EBADMSG;
    case STORE_TASK: {
        uint64_t kind = sqls_col_u64(st, 1);
        r->task.id = sqls_col_u64(st, 0);
        r->task.kind = (enum task_kind) kind;
        r->task.vm = sqls_col_text(st, 2);
        r->task.node = sqls_col_text(st, 3);
        r->task.epoch = sqls_col_u64(st, 4);
        r->task.due_ms = sqls_col_u64(st, 5);
        r->task.migration = sqls_col_u64(st, 6);
        r->task.need_version = sqls_col_u64(st, 7);
        r->task.relay_target = sqls_col_text(st, 8);
        r->task.target_epoch = sqls_col_u64(st, 9);
        sqls_col_config(st, 10, &r->task.snapshot);
        r->task.binding = sqlite3_column_blob(st, 16);
        r->task.binding_len = (size_t) sqlite3_column_bytes(st, 16);
        return kind <= TASK_PREPARE_DEADLINE ? 0 : EBADMSG;
    }
    case STORE_BINDING:
        r->binding.id = (uint32_t) sqls_col_u64(st, 0);
        r->binding.record = sqlite3_column_blob(st, 1);
        r->binding.len = (size_t) sqlite3_column_bytes(st, 1);
        return r->binding.record ? 0 : EBADMSG;
    case STORE_MIGRATION: {
        uint64_t phase = sqls_col_u64(st, 6);
        r->migration.id = sqls_col_u64(st, 0);
        r->migration.vm = sqls_col_text(st, 1);
        r->migration.src = sqls_col_text(st, 2);
        r->migration.dst = sqls_col_text(st, 3);
        r->migration.epoch = sqls_col_u64(st, 4);
        r->migration.map_version = sqls_col_u64(st, 5);
        r->migration.phase = (enum mig_phase) phase;
        r->migration.started_ms = sqls_col_u64(st, 7);
        r->migration.relaying_ms = sqls_col_u64(st, 8);
        r->migration.cleaned_ms = sqls_col_u64(st, 9);
        r->migration.delay_ms = sqls_col_u64(st, 10);
        r->migration.released_early = sqls_col_u64(st, 11) != 0;
        uint64_t sw = sqls_col_u64(st, 12);
        r->migration.switchover = (enum mig_switchover) sw;
        r->migration.prepared_ms = sqls_col_u64(st, 13);
        r->migration.switched_ms = sqls_col_u64(st, 14);
        r->migration.activated_ms = sqls_col_u64(st, 15);
        r->migration.cleaning_ms = sqls_col_u64(st, 16);
        r->migration.aborted_ms = sqls_col_u64(st, 17);
        r->migration.prepare_deadline_ms = sqls_col_u64(st, 18);
        r->migration.degraded = sqls_col_u64(st, 19) != 0;
        r->migration.abort_reason = sqls_col_text(st, 20);
        return phase < MIG_N_PHASES && sw < MIG_N_SWITCHOVERS
                       && r->migration.abort_reason
                   ? 0
                   : EBADMSG;
    }
    default:
        return EINVAL;
    }
}

static int
sqls_load_type(struct store_sqlite *q, enum sqls_stmt id,
               enum store_rec_type type,
               int (*cb)(void *, const struct store_rec *), void *aux)
{
    sqlite3_stmt *st = q->stmts[id];
    int ret = 0;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            ret = sqls_fail(q, sqls_sql[id], rc);
            break;
        }
        struct store_rec r;
        ret = sqls_read_row(st, type, &r);
        if (ret) {
            log_write(LOG_ERROR, "store",
                      "event=corrupt_row table_stmt=%d", (int) id);
            break;
        }
        ret = cb(aux, &r);
        if (ret) {
            break;
        }
    }
    sqlite3_reset(st);
    return ret;
}

static int
store_sqlite_load(struct store *s, int (*cb)(void *, const struct store_rec *),
                  void *aux)
{
    static const struct {
        enum sqls_stmt stmt;
        enum store_rec_type type;
    } order[] = {
        {SQLS_META_LOAD, STORE_META},
        {SQLS_NODE_LOAD, STORE_NODE},
        {SQLS_VM_LOAD, STORE_VM},
        {SQLS_BINDING_LOAD, STORE_BINDING},
        {SQLS_MIG_LOAD, STORE_MIGRATION},
        {SQLS_TASK_LOAD, STORE_TASK},
    };
    struct store_sqlite *q = store_sqlite_cast(s);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int err = sqls_load_type(q, order[i].stmt, order[i].type, cb, aux);
        if (err) {
            return err;
        }
    }
    return 0;
}

static void
store_sqlite_destroy(struct store *s)
{
    if (!s) {
        return;
    }
    struct store_sqlite *q = store_sqlite_cast(s);
    if (q->in_txn && q->db && !sqlite3_get_autocommit(q->db)) {
        /* Uncommitted puts are not durable by contract: drop them. */
        (void) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    }
    for (size_t i = 0; i < SQLS_N_STMTS; i++) {
        sqlite3_finalize(q->stmts[i]);
    }
    sqlite3_close(q->db);
    free(q);
}

static const struct store_ops store_sqlite_ops = {
    .put = store_sqlite_put,
    .commit = store_sqlite_commit,
    .load = store_sqlite_load,
    .destroy = store_sqlite_destroy,
};

/* Reads one integer from a query such as "PRAGMA user_version". */
static int
sqls_query_int(sqlite3 *db, const char *sql, sqlite3_int64 *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static bool
sqls_query_text_is(sqlite3 *db, const char *sql, const char *want,
                   char *got, size_t n)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;
    snprintf(got, n, "%s", sqlite3_errstr(SQLITE_ERROR));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *) sqlite3_column_text(st, 0);
        snprintf(got, n, "%s", t ? t : "(null)");
        ok = t && !strcmp(t, want);
    }
    sqlite3_finalize(st);
    return ok;
}

/* Sets up a new file, or checks that an existing one is ours. */
static int
sqls_check_schema(sqlite3 *db, char *err, unsigned errlen)
{
    sqlite3_int64 app = 0, version = 0, n_tables = 0;
    int rc = sqls_query_int(db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK) {
        rc = sqls_query_int(db, "PRAGMA user_version", &version);
    }
    if (rc == SQLITE_OK) {
        rc = sqls_query_int(db, "SELECT count(*) FROM sqlite_master",
                            &n_tables);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot read: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (app == 0 && n_tables == 0) {
        char sql[sizeof sqls_schema + 128];
        snprintf(sql, sizeof sql,
                 "BEGIN; %s PRAGMA application_id = %d;"
                 " PRAGMA user_version = %d; COMMIT;",
                 sqls_schema, SQLS_APP_ID, SQLS_SCHEMA);
        char *msg = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "cannot create schema: %s",
                     msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            return -1;
        }
        return 0;
    }
    if (app != SQLS_APP_ID) {
        snprintf(err, errlen, "not a mignet store (application_id %lld)",
                 (long long) app);
        return -1;
    }
    while (version >= 1 && version < SQLS_SCHEMA) {
        /* Upgrade in one transaction: all of it or none of it. */
        const char *up = sqls_upgrades[version - 1];
        char sql[2048];
        snprintf(sql, sizeof sql, "BEGIN; %s PRAGMA user_version = %lld;"
                 " COMMIT;", up, (long long) version + 1);
        char *msg = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "cannot upgrade schema %lld to %lld: %s",
                     (long long) version, (long long) version + 1,
                     msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        log_write(LOG_INF, "store", "event=schema_upgraded from=%lld to=%lld",
                  (long long) version, (long long) version + 1);
        version++;
    }
    if (version != SQLS_SCHEMA) {
        snprintf(err, errlen, "schema version %lld, this mignetd reads "
                 "1-%d", (long long) version, SQLS_SCHEMA);
        return -1;
    }
    char got[128];
    if (!sqls_query_text_is(db, "PRAGMA quick_check", "ok", got,
                            sizeof got)) {
        snprintf(err, errlen, "corrupt: %s", got);
        return -1;
    }
    return 0;
}

struct store *
store_sqlite_open(const char *path, char *err, unsigned errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!path || !*path) {
        snprintf(err, errlen, "no path given");
        return NULL;
    }
    struct store_sqlite *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->up.ops = &store_sqlite_ops;

    int rc = sqlite3_open_v2(path, &q->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                 | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(q->db, 0);

    /* Exclusive locking (taken by the write below and never released)
     * keeps a second mignetd off the same state; it also spares WAL its
     * shared-memory file.  synchronous=FULL makes each commit durable. */
    char *msg = NULL;
    rc = sqlite3_exec(q->db,
                      "PRAGMA locking_mode = EXCLUSIVE;"
                      " PRAGMA journal_mode = WAL;"
                      " PRAGMA synchronous = FULL;"
                      " PRAGMA foreign_keys = OFF;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 msg ? msg : sqlite3_errmsg(q->db));
        sqlite3_free(msg);
        goto fail;
    }
    char mode[32];
    if (!sqls_query_text_is(q->db, "PRAGMA journal_mode", "wal", mode,
                            sizeof mode)) {
        snprintf(err, errlen, "%s: cannot use WAL (journal_mode %s)", path,
                 mode);
        goto fail;
    }
    char why[256];
    if (sqls_check_schema(q->db, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto fail;
    }
    rc = sqlite3_exec(q->db, "BEGIN EXCLUSIVE; COMMIT;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s (is another mignetd using it?)", path,
                 sqlite3_errmsg(q->db));
        goto fail;
    }
    for (size_t i = 0; i < SQLS_N_STMTS; i++) {
        rc = sqlite3_prepare_v3(q->db, sqls_sql[i], -1,
                                SQLITE_PREPARE_PERSISTENT, &q->stmts[i],
                                NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(q->db));
            goto fail;
        }
    }
    return &q->up;

fail:
    if (q->db && (sqlite3_errcode(q->db) & 0xff) == SQLITE_BUSY
        && !strstr(err, "another mignetd")) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (is another mignetd using it?)");
    }
    store_sqlite_destroy(&q->up);
    return NULL;
}
