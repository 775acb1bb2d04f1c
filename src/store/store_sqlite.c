/* store_sqlite.c: the SQLite (WAL) backend of the durable store (I7).
 *
 * One table per record type holds the latest record per key.  Puts go into
 * one open transaction that store_commit() ends, so a caller can group many
 * changes into a single durable (fsynced) commit.  It must never report a
 * commit as done before SQLite has made it durable, and never hand the
 * core a record it could not read back whole.
 *
 * Integrity (docs/mignetd.md "Store integrity"): every row carries a
 * checksum of its fields (crc, checked on load), every commit counts one
 * generation in the table gen and then in the marker file PATH.gen
 * (store_marker.h), and opening runs a full integrity_check.  A store
 * missing, empty or behind its marker (committed transactions lost, e.g.
 * a damaged or removed WAL) is refused unless the operator accepts it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "mignet/store.h"
#include "store/store_marker.h"

#include <sys/stat.h>
#include <unistd.h>

/* 'mgnt': marks a file as a mignet store. */
#define SQLS_APP_ID 0x6d676e74
/* 2: bindings (seed 003) and the binding snapshot of a task.
 * 3: the migration lifecycle (switch-over modes, cleaning, aborted).
 * 4: the node lifecycle (a node's cordon and drain, a VM's drain target).
 * 5: node identity: the SHA-256 of a node's token (issue 12, N).
 * 6: integrity: a checksum per row, the commit generation (issue 12, T).
 * 7: tenant virtual switch definitions, table vswitches (issue 14).
 * An older file is upgraded in place when opened (sqls_upgrades). */
#define SQLS_SCHEMA 7
/* The first schema with checksums and a generation. */
#define SQLS_SCHEMA_GEN 6

/* Each table's fields in the order of its upsert's parameters: a row's
 * crc is mgcrc() of them (sqls_row_crc). */
#define SQLS_META_COLS "map_version, next_migration, next_task"
#define SQLS_NODE_COLS                                                       \
    "name, address, refresh_ms, gone, cordoned, draining, token_hash"
#define SQLS_VM_COLS                                                         \
    "name, node, mac, vlan, ip, vni, port, binding, epoch, map_version,"    \
    " migration, iface_id, drain_target"
#define SQLS_TASK_COLS                                                       \
    "id, kind, vm, node, epoch, due_ms, migration, need_version,"           \
    " relay_target, target_epoch, mac, vlan, ip, vni, port, binding,"       \
    " binding_rec"
#define SQLS_MIG_COLS                                                        \
    "id, vm, src, dst, epoch, map_version, phase, started_ms, relaying_ms,"  \
    " cleaned_ms, delay_ms, released_early, switchover, prepared_ms,"       \
    " switched_ms, activated_ms, cleaning_ms, aborted_ms,"                  \
    " prepare_deadline_ms, degraded, abort_reason"
#define SQLS_BINDING_COLS "id, record"
#define SQLS_VSWITCH_COLS "name, record"
/* mgcrc() of the first N parameters. */
#define SQLS_CRC3 "mgcrc(?1, ?2, ?3)"
#define SQLS_CRC7 "mgcrc(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
#define SQLS_CRC13                                                           \
    "mgcrc(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
#define SQLS_CRC17                                                           \
    "mgcrc(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"    \
    " ?15, ?16, ?17)"
#define SQLS_CRC21                                                           \
    "mgcrc(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"    \
    " ?15, ?16, ?17, ?18, ?19, ?20, ?21)"

/* Schema 7's new table (created by sqls_schema and by the upgrade). */
#define SQLS_VSWITCHES_TABLE                                                 \
    "CREATE TABLE vswitches(name TEXT PRIMARY KEY, record BLOB NOT NULL,"   \
    " crc INTEGER);"

static const char sqls_schema[] =
    "CREATE TABLE meta("
    " k INTEGER PRIMARY KEY CHECK (k = 0),"
    " map_version INTEGER NOT NULL, next_migration INTEGER NOT NULL,"
    " next_task INTEGER NOT NULL, crc INTEGER);"
    "CREATE TABLE nodes("
    " name TEXT NOT NULL UNIQUE, address TEXT, refresh_ms INTEGER NOT NULL,"
    " gone INTEGER NOT NULL, cordoned INTEGER NOT NULL DEFAULT 0,"
    " draining INTEGER NOT NULL DEFAULT 0, token_hash TEXT, crc INTEGER);"
    "CREATE TABLE vms("
    " name TEXT NOT NULL UNIQUE, node TEXT, mac INTEGER NOT NULL,"
    " vlan INTEGER NOT NULL, ip INTEGER NOT NULL, vni INTEGER NOT NULL,"
    " port INTEGER NOT NULL, binding INTEGER NOT NULL,"
    " epoch INTEGER NOT NULL, map_version INTEGER NOT NULL,"
    " migration INTEGER NOT NULL, iface_id TEXT NOT NULL DEFAULT '',"
    " drain_target TEXT, crc INTEGER);"
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
    " abort_reason TEXT NOT NULL DEFAULT '', crc INTEGER);"
    "CREATE TABLE tasks("
    " id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, vm TEXT, node TEXT,"
    " epoch INTEGER NOT NULL, due_ms INTEGER NOT NULL,"
    " migration INTEGER NOT NULL, need_version INTEGER NOT NULL,"
    " relay_target TEXT, target_epoch INTEGER NOT NULL,"
    " mac INTEGER NOT NULL, vlan INTEGER NOT NULL, ip INTEGER NOT NULL,"
    " vni INTEGER NOT NULL, port INTEGER NOT NULL,"
    " binding INTEGER NOT NULL, binding_rec BLOB, crc INTEGER);"
    "CREATE TABLE bindings(id INTEGER PRIMARY KEY, record BLOB NOT NULL,"
    " crc INTEGER);"
    SQLS_VSWITCHES_TABLE
    "CREATE TABLE gen(k INTEGER PRIMARY KEY CHECK (k = 0),"
    " n INTEGER NOT NULL);"
    "INSERT INTO gen VALUES(0, 0);";

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
    /* 5 -> 6: integrity.  Every row gets its checksum, the store its
     * generation counter (the marker is written after the upgrade). */
    "ALTER TABLE meta ADD COLUMN crc INTEGER;"
    "ALTER TABLE nodes ADD COLUMN crc INTEGER;"
    "ALTER TABLE vms ADD COLUMN crc INTEGER;"
    "ALTER TABLE migrations ADD COLUMN crc INTEGER;"
    "ALTER TABLE tasks ADD COLUMN crc INTEGER;"
    "ALTER TABLE bindings ADD COLUMN crc INTEGER;"
    "UPDATE meta SET crc = mgcrc(" SQLS_META_COLS ");"
    "UPDATE nodes SET crc = mgcrc(" SQLS_NODE_COLS ");"
    "UPDATE vms SET crc = mgcrc(" SQLS_VM_COLS ");"
    "UPDATE migrations SET crc = mgcrc(" SQLS_MIG_COLS ");"
    "UPDATE tasks SET crc = mgcrc(" SQLS_TASK_COLS ");"
    "UPDATE bindings SET crc = mgcrc(" SQLS_BINDING_COLS ");"
    "CREATE TABLE gen(k INTEGER PRIMARY KEY CHECK (k = 0),"
    " n INTEGER NOT NULL);"
    "INSERT INTO gen VALUES(0, 0);",
    /* 6 -> 7: tenant virtual switches; every other table is as it was. */
    SQLS_VSWITCHES_TABLE,
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
    SQLS_VSWITCH_PUT, SQLS_VSWITCH_DEL, SQLS_VSWITCH_LOAD,
    SQLS_BEGIN, SQLS_COMMIT, SQLS_ROLLBACK, SQLS_GEN_PUT,
    SQLS_N_STMTS
};

static const char *const sqls_sql[SQLS_N_STMTS] = {
    [SQLS_META_PUT] =
        "INSERT INTO meta(k, map_version, next_migration, next_task, crc)"
        " VALUES(0, ?1, ?2, ?3, " SQLS_CRC3 ") ON CONFLICT(k) DO UPDATE SET"
        " map_version = ?1, next_migration = ?2, next_task = ?3,"
        " crc = " SQLS_CRC3,
    [SQLS_META_DEL] = "DELETE FROM meta",
    [SQLS_META_LOAD] = "SELECT " SQLS_META_COLS ", crc FROM meta",
    [SQLS_NODE_PUT] =
        "INSERT INTO nodes(" SQLS_NODE_COLS ", crc)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, " SQLS_CRC7 ") ON CONFLICT(name)"
        " DO UPDATE SET address = ?2, refresh_ms = ?3, gone = ?4,"
        " cordoned = ?5, draining = ?6, token_hash = ?7, crc = " SQLS_CRC7,
    [SQLS_NODE_DEL] = "DELETE FROM nodes WHERE name = ?1",
    [SQLS_NODE_LOAD] =
        "SELECT " SQLS_NODE_COLS ", crc FROM nodes ORDER BY rowid",
    [SQLS_VM_PUT] =
        "INSERT INTO vms(" SQLS_VM_COLS ", crc)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
        SQLS_CRC13 ")"
        " ON CONFLICT(name) DO UPDATE SET node = ?2, mac = ?3, vlan = ?4,"
        " ip = ?5, vni = ?6, port = ?7, binding = ?8, epoch = ?9,"
        " map_version = ?10, migration = ?11, iface_id = ?12,"
        " drain_target = ?13, crc = " SQLS_CRC13,
    [SQLS_VM_DEL] = "DELETE FROM vms WHERE name = ?1",
    [SQLS_VM_LOAD] =
        "SELECT " SQLS_VM_COLS ", crc FROM vms ORDER BY rowid",
    [SQLS_TASK_PUT] =
        "INSERT OR REPLACE INTO tasks(" SQLS_TASK_COLS ", crc) VALUES(?1,"
        " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
        " ?17, " SQLS_CRC17 ")",
    [SQLS_TASK_DEL] = "DELETE FROM tasks WHERE id = ?1",
    [SQLS_TASK_LOAD] =
        "SELECT " SQLS_TASK_COLS ", crc FROM tasks ORDER BY id",
    [SQLS_MIG_PUT] =
        "INSERT OR REPLACE INTO migrations(" SQLS_MIG_COLS ", crc)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, " SQLS_CRC21 ")",
    [SQLS_MIG_DEL] = "DELETE FROM migrations WHERE id = ?1",
    [SQLS_MIG_LOAD] =
        "SELECT " SQLS_MIG_COLS ", crc FROM migrations ORDER BY id",
    [SQLS_BINDING_PUT] =
        "INSERT OR REPLACE INTO bindings(id, record, crc) VALUES(?1, ?2,"
        " mgcrc(?1, ?2))",
    [SQLS_BINDING_DEL] = "DELETE FROM bindings WHERE id = ?1",
    [SQLS_BINDING_LOAD] =
        "SELECT " SQLS_BINDING_COLS ", crc FROM bindings ORDER BY id",
    /* An upsert keeps the row (its rowid: first-write order). */
    [SQLS_VSWITCH_PUT] =
        "INSERT INTO vswitches(" SQLS_VSWITCH_COLS ", crc) VALUES(?1, ?2,"
        " mgcrc(?1, ?2)) ON CONFLICT(name) DO UPDATE SET record = ?2,"
        " crc = mgcrc(?1, ?2)",
    [SQLS_VSWITCH_DEL] = "DELETE FROM vswitches WHERE name = ?1",
    [SQLS_VSWITCH_LOAD] =
        "SELECT " SQLS_VSWITCH_COLS ", crc FROM vswitches ORDER BY rowid",
    [SQLS_BEGIN] = "BEGIN IMMEDIATE",
    [SQLS_COMMIT] = "COMMIT",
    [SQLS_ROLLBACK] = "ROLLBACK",
    [SQLS_GEN_PUT] = "UPDATE gen SET n = ?1 WHERE k = 0",
};

struct store_sqlite {
    struct store up;
    sqlite3 *db;
    sqlite3_stmt *stmts[SQLS_N_STMTS];
    bool in_txn;
    bool failed; /* a put failed inside the open transaction */
    uint64_t gen;  /* generation of the last commit */
    int marker_fd; /* PATH.gen, -1 before it is open */
    char path[1024];
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

/* Binds a byte record of at most 'max' bytes, or NULL. */
static int
sqls_bind_blob_max(sqlite3_stmt *st, int col, const void *p, size_t len,
                   size_t max)
{
    if (!p) {
        sqlite3_bind_null(st, col);
        return 0;
    }
    if (len > max) {
        return EINVAL;
    }
    sqlite3_bind_blob(st, col, p, (int) len, SQLITE_STATIC);
    return 0;
}

/* A binding record (at most 64 KiB), or NULL. */
static int
sqls_bind_blob(sqlite3_stmt *st, int col, const void *p, size_t len)
{
    return sqls_bind_blob_max(st, col, p, len, 65536);
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
        [STORE_VSWITCH] = SQLS_VSWITCH_PUT,
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
    case STORE_VSWITCH:
        if (!r->vswitch.name || !r->vswitch.name[0]) {
            return EINVAL;
        }
        sqls_bind_text(st, 1, r->vswitch.name);
        if (!r->del) {
            if (!r->vswitch.record || !r->vswitch.len) {
                return EINVAL;
            }
            return sqls_bind_blob_max(st, 2, r->vswitch.record,
                                      r->vswitch.len,
                                      STORE_VSWITCH_RECORD_MAX);
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
    int err = q->failed ? EIO : 0;
    if (!err) {
        sqls_bind_u64(q->stmts[SQLS_GEN_PUT], 1, q->gen + 1);
        err = sqls_step_done(q, SQLS_GEN_PUT);
    }
    if (!err) {
        err = sqls_step_done(q, SQLS_COMMIT);
    }
    if (!err) {
        /* Durable in the database: only now may the marker say so. */
        q->gen++;
        err = store_marker_update(q->marker_fd, q->gen);
        if (err) {
            log_write(LOG_ERROR, "store", "event=marker_write_failed "
                      "file=%s.gen err=\"%s\"", q->path, strerror(err));
        }
        q->in_txn = false;
        return err;
    }
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

/* ---- Row checksums ---- */

/* Adds one field (type, then value) to a row's checksum. */
static uint64_t
sqls_crc_field(uint64_t h, int type, sqlite3_int64 i, const void *p,
               int len)
{
    unsigned char b[9];
    b[0] = (unsigned char) type;
    for (int k = 0; k < 8; k++) {
        b[k + 1] = (unsigned char) ((uint64_t) i >> (8 * k));
    }
    h = store_fnv1a(h, b, sizeof b);
    return p && len > 0 ? store_fnv1a(h, p, (size_t) len) : h;
}

/* mgcrc(FIELD...): the checksum of a row's fields as stored. */
static void
sqls_crc_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    uint64_t h = STORE_FNV_INIT;
    for (int a = 0; a < argc; a++) {
        sqlite3_value *v = argv[a];
        int t = sqlite3_value_type(v);
        const void *p = NULL;
        sqlite3_int64 i = 0;
        if (t == SQLITE_INTEGER) {
            i = sqlite3_value_int64(v);
        } else if (t == SQLITE_TEXT) {
            p = sqlite3_value_text(v);
        } else if (t == SQLITE_BLOB) {
            p = sqlite3_value_blob(v);
        } else if (t == SQLITE_FLOAT) {
            double d = sqlite3_value_double(v);
            memcpy(&i, &d, sizeof i);
        }
        int len = p ? sqlite3_value_bytes(v) : 0;
        h = sqls_crc_field(h, t, t == SQLITE_TEXT || t == SQLITE_BLOB ? len
                                                                      : i,
                           p, len);
    }
    sqlite3_result_int64(ctx, (sqlite3_int64) h);
}

static const char *const sqls_table[STORE_N_TYPES] = {
    [STORE_META] = "meta", [STORE_NODE] = "nodes", [STORE_VM] = "vms",
    [STORE_TASK] = "tasks", [STORE_MIGRATION] = "migrations",
    [STORE_BINDING] = "bindings", [STORE_VSWITCH] = "vswitches",
};

/* Whether the current row's last column is the checksum of the others. */
static bool
sqls_row_crc_ok(sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st) - 1;
    uint64_t h = STORE_FNV_INIT;
    for (int c = 0; c < n; c++) {
        int t = sqlite3_column_type(st, c);
        const void *p = NULL;
        sqlite3_int64 i = 0;
        if (t == SQLITE_INTEGER) {
            i = sqlite3_column_int64(st, c);
        } else if (t == SQLITE_TEXT) {
            p = sqlite3_column_text(st, c);
        } else if (t == SQLITE_BLOB) {
            p = sqlite3_column_blob(st, c);
        } else if (t == SQLITE_FLOAT) {
            double d = sqlite3_column_double(st, c);
            memcpy(&i, &d, sizeof i);
        }
        int len = p ? sqlite3_column_bytes(st, c) : 0;
        h = sqls_crc_field(h, t, t == SQLITE_TEXT || t == SQLITE_BLOB ? len
                                                                      : i,
                           p, len);
    }
    return sqlite3_column_type(st, n) == SQLITE_INTEGER
           && (uint64_t) sqlite3_column_int64(st, n) == h;
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
    case STORE_VSWITCH:
        /* SQLite lets a TEXT PRIMARY KEY be NULL; the store never writes
         * one, nor an empty record. */
        if (sqlite3_column_type(st, 1) != SQLITE_BLOB) {
            return EBADMSG;
        }
        r->vswitch.name = sqls_col_text(st, 0);
        r->vswitch.record = sqlite3_column_blob(st, 1);
        r->vswitch.len = (size_t) sqlite3_column_bytes(st, 1);
        return r->vswitch.name && r->vswitch.name[0] && r->vswitch.record
                   ? 0
                   : EBADMSG;
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
    int ret = 0, n_rows = 0;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            ret = sqls_fail(q, sqls_sql[id], rc);
            break;
        }
        if (!sqls_row_crc_ok(st)) {
            log_write(LOG_ERROR, "store", "event=corrupt_row file=%s "
                      "table=%s row=%d reason=checksum", q->path,
                      sqls_table[type], n_rows + 1);
            ret = EBADMSG;
            break;
        }
        n_rows++;
        struct store_rec r;
        ret = sqls_read_row(st, type, &r);
        if (ret) {
            log_write(LOG_ERROR, "store", "event=corrupt_row file=%s "
                      "table=%s row=%d", q->path,
                      sqls_table[type], n_rows);
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
        {SQLS_VSWITCH_LOAD, STORE_VSWITCH},
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
    if (q->marker_fd >= 0) {
        close(q->marker_fd);
    }
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
        char sql[4096];
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
    return 0;
}

/* ---- Opening: the integrity checks ---- */

/* The file's size, or -1 when it does not exist (errno ENOENT) or cannot
 * be read. */
static long long
sqls_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (long long) st.st_size;
}

/* Full structural check of every page (PRAGMA integrity_check); 'why'
 * gets its first complaint. */
static bool
sqls_integrity_ok(sqlite3 *db, char *why, size_t n)
{
    return sqls_query_text_is(db, "PRAGMA integrity_check(1)", "ok", why,
                              n);
}

/* The generation the database holds (0 before schema SQLS_SCHEMA_GEN). */
static int
sqls_read_gen(sqlite3 *db, sqlite3_int64 version, uint64_t *gen)
{
    sqlite3_int64 v = 0;
    *gen = 0;
    if (version < SQLS_SCHEMA_GEN) {
        return SQLITE_OK;
    }
    int rc = sqls_query_int(db, "SELECT n FROM gen WHERE k = 0", &v);
    *gen = (uint64_t) v;
    return rc;
}

/* Compares the database's generation with its marker: 0 when they agree
 * (or the database is ahead: the marker lags after a system crash), else
 * an error in 'err' (unless 'accept'). */
static int
sqls_check_marker(struct store_sqlite *q, enum store_marker_state ms,
                  uint64_t marker, const char *mwhy, uint64_t gen,
                  bool upgraded, bool accept, char *err, unsigned errlen)
{
    const char *mp = q->path;
    if (ms == STORE_MARKER_OK && gen == marker) {
        return 0;
    }
    if (ms == STORE_MARKER_OK && gen > marker) {
        log_write(LOG_WARN, "store", "event=marker_behind file=%s.gen "
                  "marker=%" PRIu64 " gen=%" PRIu64 " (a crash before the "
                  "marker was written)", mp, marker, gen);
        return 0;
    }
    if (ms == STORE_MARKER_ABSENT && (gen == 0 || upgraded)) {
        return 0; /* new, or from a mignetd without markers */
    }
    char what[3600];
    if (ms == STORE_MARKER_OK) {
        snprintf(what, sizeof what, "%s is at generation %" PRIu64 " but "
                 "its marker %s.gen says %" PRIu64 ": committed changes "
                 "are missing (a damaged, truncated or removed WAL file "
                 "%s-wal, or an older copy)", mp, gen, mp, marker, mp);
    } else if (ms == STORE_MARKER_ABSENT) {
        snprintf(what, sizeof what, "%s is at generation %" PRIu64 " but "
                 "its marker %s.gen is missing", mp, gen, mp);
    } else {
        snprintf(what, sizeof what, "the marker %s.gen of %s is damaged "
                 "(%s)", mp, mp, mwhy);
    }
    if (accept) {
        log_write(LOG_WARN, "store", "event=store_accepted file=%s gen=%"
                  PRIu64 " problem=\"%s\"", mp, gen, what);
        return 0;
    }
    snprintf(err, errlen, "%s; refusing to start with less state "
             "(restore the state directory, or start once with "
             "--accept-store to use the store as it is)", what);
    return -1;
}

struct store *
store_sqlite_open_flags(const char *path, unsigned flags, char *err,
                        unsigned errlen)
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
    bool accept = flags & STORE_SQLITE_ACCEPT;
    struct store_sqlite *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->up.ops = &store_sqlite_ops;
    q->marker_fd = -1;
    char marker_path[sizeof q->path + 8];
    if (snprintf(q->path, sizeof q->path, "%s", path) >= (int) sizeof q->path
        || !store_marker_path(path, marker_path, sizeof marker_path)) {
        snprintf(err, errlen, "%s: path too long", path);
        free(q);
        return NULL;
    }

    /* A marker says a store was here: its file must be too, whole. */
    uint64_t marker = 0;
    char mwhy[128] = "";
    enum store_marker_state ms = store_marker_read(marker_path, &marker,
                                                   mwhy, sizeof mwhy);
    long long size = sqls_file_size(path);
    bool fresh = size <= 0;
    if (fresh && ms != STORE_MARKER_ABSENT) {
        if (!accept) {
            snprintf(err, errlen, "%s is %s but its marker %s says it "
                     "held committed state; refusing to start with less "
                     "state (restore it, or start once with "
                     "--accept-store to begin empty)", path,
                     size < 0 ? "missing" : "empty (0 bytes)", marker_path);
            free(q);
            return NULL;
        }
        log_write(LOG_WARN, "store", "event=store_accepted file=%s "
                  "problem=%s action=start_empty", path,
                  size < 0 ? "missing" : "empty");
    }

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
    /* Until the checks pass, closing must leave the files as found (no
     * checkpoint folding a partial WAL into the database). */
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    rc = sqlite3_create_function_v2(q->db, "mgcrc", -1,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                    NULL, sqls_crc_func, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(q->db));
        goto fail;
    }

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
    char why[4096];
    if (!fresh && !sqls_integrity_ok(q->db, why, sizeof why)) {
        snprintf(err, errlen, "%s: corrupt: %s", path, why);
        goto fail;
    }
    sqlite3_int64 version = 0;
    uint64_t gen = 0;
    rc = sqls_query_int(q->db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK) {
        rc = sqls_read_gen(q->db, version, &gen);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot read: %s", path,
                 sqlite3_errmsg(q->db));
        goto fail;
    }
    if (!fresh
        && sqls_check_marker(q, ms, marker, mwhy, gen,
                             version < SQLS_SCHEMA_GEN, accept, why,
                             sizeof why)) {
        snprintf(err, errlen, "%s", why);
        goto fail;
    }
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
    /* Checked and ours: the marker now follows this file. */
    rc = sqls_query_int(q->db, "SELECT n FROM gen WHERE k = 0",
                        (sqlite3_int64 *) &gen);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot read: %s", path,
                 sqlite3_errmsg(q->db));
        goto fail;
    }
    q->gen = gen;
    q->marker_fd = store_marker_create(marker_path, gen);
    if (q->marker_fd < 0) {
        snprintf(err, errlen, "%s: cannot write: %s", marker_path,
                 strerror(-q->marker_fd));
        goto fail;
    }
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
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

struct store *
store_sqlite_open(const char *path, char *err, unsigned errlen)
{
    return store_sqlite_open_flags(path, 0, err, errlen);
}
