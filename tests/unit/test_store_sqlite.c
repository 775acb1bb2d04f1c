/* test_store_sqlite.c: the SQLite store backend, on real files.
 *
 * Runs the backend-independent store cases against a real database file in
 * a fresh temporary directory (each "reopen" closes and opens the file
 * again), then the failure modes only a file has: a crash before or after
 * commit, garbage, somebody else's database, a missing directory, a second
 * opener.  It must never touch files outside its temporary directory. */
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_marker.h"
#include "store_cases.h"

static char tmpdir[256];
static char dbpath[300];
static unsigned db_serial;

static void
remove_db_files(const char *path)
{
    char p[400];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-journal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s.gen", path);
    unlink(p);
}

static struct store *
open_ok(const char *path)
{
    char err[256] = "";
    struct store *s = store_sqlite_open(path, err, sizeof err);
    if (!s) {
        fail_msg("store_sqlite_open(%s): %s", path, err);
    }
    return s;
}

/* Each case gets its own file. */
static struct store *
suite_open(void)
{
    if (dbpath[0]) {
        remove_db_files(dbpath);
    }
    snprintf(dbpath, sizeof dbpath, "%s/case%u.db", tmpdir, db_serial++);
    return open_ok(dbpath);
}

static struct store *
suite_reopen(struct store *s)
{
    store_destroy(s);
    return open_ok(dbpath);
}

static int
setup_dir(void **state)
{
    (void) state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/mignet-sqlite-XXXXXX",
             base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown_dir(void **state)
{
    (void) state;
    for (unsigned i = 0; i < db_serial; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s/case%u.db", tmpdir, i);
        remove_db_files(p);
    }
    char p[320];
    snprintf(p, sizeof p, "%s/other.db", tmpdir);
    remove_db_files(p);
    snprintf(p, sizeof p, "%s/garbage.db", tmpdir);
    remove_db_files(p);
    return rmdir(tmpdir);
}

static void
expect_open_fails(const char *path, const char *needle)
{
    char err[4096] = "";
    struct store *s = store_sqlite_open(path, err, sizeof err);
    if (s) {
        store_destroy(s);
        fail_msg("open of %s succeeded; expected an error with '%s'", path,
                 needle);
    }
    if (!strstr(err, needle)) {
        fail_msg("error '%s' does not mention '%s'", err, needle);
    }
}

/* Values above INT64_MAX survive SQLite's signed integers. */
static void
test_u64_extremes(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    c.task.task.due_ms = UINT64_MAX - 1;
    c.task.task.epoch = (uint64_t) INT64_MAX + 5;
    c.meta.meta.map_version = UINT64_MAX;
    c.task.task.snapshot.mac[0] = 0xfe;
    c.task.task.snapshot.ip = UINT32_MAX;
    case_put(s, &c.meta);
    case_put(s, &c.task);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want[] = { &c.meta, &c.task };
    case_expect(&got, want, 2);
    case_loaded_free(&got);
    store_destroy(s);
}

/* A process that dies after commit keeps what it committed and loses what
 * it put afterwards; the file opens cleanly after the crash. */
static void
test_crash_after_commit(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    store_destroy(suite_open()); /* fresh path, file created */

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        struct store *s = store_sqlite_open(dbpath, err, sizeof err);
        if (!s || store_put(s, &c.node_a) || store_put(s, &c.vm)
            || store_commit(s) || store_put(s, &c.node_b)
            || store_put(s, &c.task)) {
            _exit(3);
        }
        /* Die without closing anything, like kill -9. */
        raise(SIGKILL);
        _exit(4);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    struct store *s = open_ok(dbpath);
    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want[] = { &c.node_a, &c.vm };
    case_expect(&got, want, 2);
    case_loaded_free(&got);
    store_destroy(s);
}

/* Closing with puts not yet committed drops them. */
static void
test_uncommitted_dropped(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    case_put(s, &c.node_a);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_commit(s), 0); /* nothing pending: fine */
    case_put(s, &c.node_b);
    s = suite_reopen(s);
    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want[] = { &c.node_a };
    case_expect(&got, want, 1);
    case_loaded_free(&got);
    store_destroy(s);
}

static void
write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void
test_garbage_file(void **state)
{
    (void) state;
    char path[320];
    snprintf(path, sizeof path, "%s/garbage.db", tmpdir);
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++) {
        junk[i] = (char) (i * 131 + 7);
    }
    write_file(path, junk, sizeof junk);
    expect_open_fails(path, path);
    expect_open_fails(path, "not a database");
}

/* A SQLite database that some other program made is not ours. */
static void
test_foreign_database(void **state)
{
    (void) state;
    char path[320];
    snprintf(path, sizeof path, "%s/other.db", tmpdir);
    remove_db_files(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(path, "not a mignet store");
}

/* Damage inside the file (a page overwritten) is found at open, before
 * the core could load half a state. */
static void
test_corrupt_page(void **state)
{
    (void) state;
    struct store *s = suite_open();
    static char names[400][16];
    for (size_t i = 0; i < 400; i++) {
        struct store_rec r = {.type = STORE_VM};
        snprintf(names[i], sizeof names[i], "vm%zu", i);
        r.vm.name = names[i];
        r.vm.node = "n1";
        r.vm.epoch = i;
        case_put(s, &r);
    }
    assert_int_equal(store_commit(s), 0);
    store_destroy(s);

    struct stat st;
    assert_int_equal(stat(dbpath, &st), 0);
    assert_true(st.st_size >= 4 * 4096);
    FILE *f = fopen(dbpath, "r+b");
    assert_non_null(f);
    char junk[4096];
    memset(junk, 0xa5, sizeof junk);
    /* Page 3 (1-based) holds table b-tree data, not the header. */
    assert_int_equal(fseek(f, 2 * 4096, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    assert_int_equal(fclose(f), 0);

    expect_open_fails(dbpath, "corrupt");
}

static void
test_missing_dir(void **state)
{
    (void) state;
    char path[320];
    snprintf(path, sizeof path, "%s/no/such/dir/mignet.db", tmpdir);
    expect_open_fails(path, "unable to open");
    char err[64] = "";
    assert_null(store_sqlite_open(NULL, err, sizeof err));
    assert_true(err[0] != '\0');
    assert_null(store_sqlite_open("", NULL, 0));
}

/* Two daemons on one state directory would fork the truth. */
static void
test_second_opener_refused(void **state)
{
    (void) state;
    struct store *s = suite_open();
    struct case_sample c;
    case_sample_init(&c);
    case_put(s, &c.node_a);
    assert_int_equal(store_commit(s), 0);

    /* SQLite's own lock accounting makes a second connection in this
     * process conflict just as another process would. */
    expect_open_fails(dbpath, "locked");

    /* The first opener is unaffected. */
    case_put(s, &c.node_b);
    assert_int_equal(store_commit(s), 0);
    store_destroy(s);
}

/* The schema of store version 1 (before bindings), as mignetd wrote it. */
static const char schema_v1[] =
    "CREATE TABLE meta(k INTEGER PRIMARY KEY CHECK (k = 0),"
    " map_version INTEGER NOT NULL, next_migration INTEGER NOT NULL,"
    " next_task INTEGER NOT NULL);"
    "CREATE TABLE nodes(name TEXT NOT NULL UNIQUE, address TEXT,"
    " refresh_ms INTEGER NOT NULL, gone INTEGER NOT NULL);"
    "CREATE TABLE vms(name TEXT NOT NULL UNIQUE, node TEXT,"
    " mac INTEGER NOT NULL, vlan INTEGER NOT NULL, ip INTEGER NOT NULL,"
    " vni INTEGER NOT NULL, port INTEGER NOT NULL,"
    " binding INTEGER NOT NULL, epoch INTEGER NOT NULL,"
    " map_version INTEGER NOT NULL, migration INTEGER NOT NULL);"
    "CREATE TABLE migrations(id INTEGER PRIMARY KEY, vm TEXT, src TEXT,"
    " dst TEXT, epoch INTEGER NOT NULL, map_version INTEGER NOT NULL,"
    " phase INTEGER NOT NULL, started_ms INTEGER NOT NULL,"
    " relaying_ms INTEGER NOT NULL, cleaned_ms INTEGER NOT NULL,"
    " delay_ms INTEGER NOT NULL, released_early INTEGER NOT NULL);"
    "CREATE TABLE tasks(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
    " vm TEXT, node TEXT, epoch INTEGER NOT NULL, due_ms INTEGER NOT NULL,"
    " migration INTEGER NOT NULL, need_version INTEGER NOT NULL,"
    " relay_target TEXT, target_epoch INTEGER NOT NULL,"
    " mac INTEGER NOT NULL, vlan INTEGER NOT NULL, ip INTEGER NOT NULL,"
    " vni INTEGER NOT NULL, port INTEGER NOT NULL,"
    " binding INTEGER NOT NULL);";

/* One integer from 'sql' on the closed file 'path'. */
static sqlite3_int64
query_file(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3_int64 v = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static sqlite3_int64
user_version(const char *path)
{
    return query_file(path, "PRAGMA user_version");
}

/* A version 1 file (a mignetd from before bindings) is upgraded in place,
 * step by step to 7: its records load unchanged (nodes without a token),
 * tasks without a binding snapshot, nodes neither cordoned nor draining,
 * and bindings and virtual switches can be stored; a file from a newer
 * mignetd is refused. */
static void
test_schema_upgrade(void **state)
{
    (void) state;
    struct store *s = suite_open();
    store_destroy(s);
    remove_db_files(dbpath);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    char sql[4096];
    snprintf(sql, sizeof sql,
             "BEGIN; %s PRAGMA application_id = %d; PRAGMA user_version = 1;"
             " INSERT INTO nodes VALUES('node-a', '198.18.0.1', 2000, 0);"
             " INSERT INTO tasks VALUES(98, 0, 'vm.1', 'node-a', 4, 17, 6,"
             " 40, NULL, 5, 2, 10, 3323068673, 100, 9, 3);"
             " INSERT INTO migrations VALUES(6, 'vm.1', 'node-a', 'node-a',"
             " 4, 40, 1, 1000, 1100, 0, 900, 0);"
             " INSERT INTO migrations VALUES(7, 'vm.1', 'node-a', 'node-a',"
             " 5, 41, 2, 2000, 2100, 3000, 900, 1);"
             " INSERT INTO migrations VALUES(8, 'vm.1', 'node-a', 'node-a',"
             " 6, 42, 0, 4000, 0, 0, 0, 0); COMMIT;",
             schema_v1, 0x6d676e74);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("v1 schema: %s", msg);
    }
    sqlite3_close(db);

    s = open_ok(dbpath);
    struct case_loaded got = {0};
    case_load(s, &got);
    assert_int_equal(got.n, 5);
    assert_string_equal(got.lines[0], "NODE node-a addr=198.18.0.1 "
                                      "refresh=2000 gone=0 cordoned=0"
                                      " draining=0 token=-");
    /* Schema 3's phases: relaying (1 -> 2), cleaned (2 -> 4), prepared
     * with the gateway moved (0 -> preparing, 0, switched at its start). */
    assert_non_null(strstr(got.lines[1], "MIG 6 "));
    assert_non_null(strstr(got.lines[1], " phase=2 t=1000,1100,0 "));
    assert_non_null(strstr(got.lines[1], " sw=0 t2=0,1000,1000,0,0 "));
    assert_non_null(strstr(got.lines[2], " phase=4 t=2000,2100,3000 "));
    assert_non_null(strstr(got.lines[2], " t2=0,2000,2000,3000,0 "));
    assert_non_null(strstr(got.lines[3], " phase=0 t=4000,0,0 "));
    assert_non_null(strstr(got.lines[3], " t2=0,4000,4000,0,0 deadline=0"
                                         " degraded=0 reason="));
    assert_non_null(strstr(got.lines[4], "TASK 98 kind=0 vm=vm.1"));
    assert_non_null(strstr(got.lines[4], "binding=3 bind=-"));
    struct case_sample c;
    case_sample_init(&c);
    case_put(s, &c.bind);
    struct case_vswitches v;
    case_vswitches_init(&v);
    case_put(s, &v.a);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    case_load(s, &got);
    assert_int_equal(got.n, 7);
    assert_non_null(strstr(got.lines[1], "BINDING 3 "));
    assert_non_null(strstr(got.lines[2], "VSWITCH red "));
    case_loaded_free(&got);
    store_destroy(s);
    assert_int_equal(user_version(dbpath), 7);

    /* A newer schema than this mignetd knows: refused, file untouched. */
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 8", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(dbpath, "schema version 8");
    assert_int_equal(user_version(dbpath), 8);
}

/* ---- Integrity (docs/mignetd.md "Store integrity") ---- */

static char marker_of_db[320];

static const char *
marker_path(void)
{
    snprintf(marker_of_db, sizeof marker_of_db, "%s.gen", dbpath);
    return marker_of_db;
}

static uint64_t
marker_gen(void)
{
    uint64_t g = 0;
    char why[64];
    assert_int_equal(store_marker_read(marker_path(), &g, why, sizeof why),
                     STORE_MARKER_OK);
    return g;
}

/* A store of three commits, closed; returns the sample it holds. */
static void
three_commits(struct case_sample *c)
{
    case_sample_init(c);
    struct store *s = suite_open();
    assert_int_equal(marker_gen(), 0);
    case_put(s, &c->node_a);
    assert_int_equal(store_commit(s), 0);
    case_put(s, &c->node_b);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_commit(s), 0); /* nothing put: no generation */
    case_put(s, &c->vm);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(marker_gen(), 3);
    store_destroy(s);
}

static struct store *
open_accept(const char *path)
{
    char err[4096] = "";
    struct store *s = store_sqlite_open_flags(path, STORE_SQLITE_ACCEPT, err,
                                              sizeof err);
    if (!s) {
        fail_msg("accepting %s: %s", path, err);
    }
    return s;
}

static void
set_marker(uint64_t gen)
{
    int fd = store_marker_create(marker_path(), gen);
    assert_true(fd >= 0);
    close(fd);
}

/* A database behind its marker lost committed transactions: refused,
 * naming the file; accepted on request, after which the marker follows. */
static void
test_behind_marker_refused(void **state)
{
    (void) state;
    struct case_sample c;
    three_commits(&c);
    set_marker(5);
    expect_open_fails(dbpath, dbpath);
    expect_open_fails(dbpath, "generation 3 but its marker");
    assert_int_equal(marker_gen(), 5); /* a refusal changes nothing */
    store_destroy(open_accept(dbpath));
    assert_int_equal(marker_gen(), 3);
    struct store *s = open_ok(dbpath);
    struct case_loaded got = {0};
    case_load(s, &got);
    assert_int_equal(got.n, 3);
    case_loaded_free(&got);
    store_destroy(s);
    /* Ahead of its marker (the marker's write lost in a system crash):
     * fine, and the marker catches up. */
    set_marker(2);
    store_destroy(open_ok(dbpath));
    assert_int_equal(marker_gen(), 3);
}

/* A marker without its store: a missing or 0-byte file is refused (never
 * a silent empty start); accepted on request it starts empty. */
static void
test_missing_or_empty_refused(void **state)
{
    (void) state;
    struct case_sample c;
    for (int empty = 0; empty < 2; empty++) {
        three_commits(&c);
        if (empty) {
            assert_int_equal(truncate(dbpath, 0), 0);
        } else {
            assert_int_equal(unlink(dbpath), 0);
        }
        expect_open_fails(dbpath, dbpath);
        expect_open_fails(dbpath, empty ? "empty (0 bytes)" : "is missing");
        struct stat st;
        assert_int_equal(stat(dbpath, &st) == 0, empty);
        struct store *s = open_accept(dbpath);
        struct case_loaded got = {0};
        case_load(s, &got);
        assert_int_equal(got.n, 0);
        case_loaded_free(&got);
        store_destroy(s);
        assert_int_equal(marker_gen(), 0);
    }
}

/* A damaged or removed marker is refused too (it could hide lost
 * commits); a store made before markers existed gets one. */
static void
test_marker_damaged_or_removed(void **state)
{
    (void) state;
    struct case_sample c;
    three_commits(&c);
    write_file(marker_path(), "mignet-gen 3\n", 13);
    expect_open_fails(dbpath, "damaged");
    set_marker(3);
    char text[128];
    FILE *f = fopen(marker_path(), "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    text[12] ^= 1; /* one digit of the generation */
    write_file(marker_path(), text, n);
    expect_open_fails(dbpath, "checksum mismatch");
    assert_int_equal(unlink(marker_path()), 0);
    expect_open_fails(dbpath, "is missing");
    store_destroy(open_accept(dbpath));
    assert_int_equal(marker_gen(), 3);
}

/* A field changed behind the store's back (the bytes of a record, which
 * integrity_check does not read) fails the load, naming file and table. */
static void
test_row_checksum(void **state)
{
    (void) state;
    struct case_sample c;
    three_commits(&c);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE vms SET epoch = epoch + 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct store *s = open_ok(dbpath);
    struct case_loaded got = {0};
    assert_int_equal(s->ops->load(s, case_collect, &got), EBADMSG);
    case_loaded_free(&got);
    store_destroy(s);
}

/* ---- Schema 7: tenant virtual switches ---- */

/* Runs 'sql' on the closed store file 'path' (a change behind the
 * store's back). */
static void
exec_on_file(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg);
    }
    sqlite3_close(db);
}

/* Makes the closed store 'path' a schema-6 file: the 6 -> 7 step only adds
 * the vswitches table, so schema 6 is schema 7 without it.  (Written by
 * the store, not by hand, so that every row carries its real checksum and
 * the generation marker matches.) */
static void
make_schema6(const char *path)
{
    exec_on_file(path, "DROP TABLE vswitches; PRAGMA user_version = 6;");
    assert_int_equal(user_version(path), 6);
    /* What mignetd 6 created, table for table. */
    assert_int_equal(query_file(path, "SELECT group_concat(name, ',') ="
                                      " 'meta,nodes,vms,migrations,tasks,"
                                      "bindings,gen' FROM (SELECT name FROM"
                                      " sqlite_master WHERE type = 'table'"
                                      " ORDER BY rowid)"),
                     1);
}

/* A schema-6 file holding every other type is upgraded in place to 7:
 * every record loads as before (checksums and marker intact), the new
 * table is there and empty, and switches can be stored in it.  An upgrade
 * that cannot apply changes nothing. */
static void
test_schema_upgrade_6(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    const struct store_rec *all[] = {
        &c.meta, &c.node_a, &c.node_b, &c.vm, &c.bind, &c.mig, &c.lease,
        &c.task,
    };
    enum { N_ALL = sizeof all / sizeof all[0] };
    for (size_t i = 0; i < N_ALL; i++) {
        case_put(s, all[i]);
    }
    assert_int_equal(store_commit(s), 0);
    store_destroy(s);
    make_schema6(dbpath);
    uint64_t gen_before = marker_gen();

    s = open_ok(dbpath);
    struct case_loaded got = {0};
    case_load(s, &got);
    case_expect(&got, all, N_ALL);
    store_destroy(s);
    assert_int_equal(user_version(dbpath), 7);
    assert_int_equal(marker_gen(), gen_before);
    assert_int_equal(query_file(dbpath, "SELECT count(*) FROM vswitches"), 0);
    /* The same table as a new file's. */
    char fresh[320];
    snprintf(fresh, sizeof fresh, "%s/other.db", tmpdir);
    remove_db_files(fresh);
    store_destroy(open_ok(fresh));
    const char *def = "SELECT sql FROM sqlite_master WHERE name = 'vswitches'";
    sqlite3 *db1 = NULL, *db2 = NULL;
    sqlite3_stmt *st1 = NULL, *st2 = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db1), SQLITE_OK);
    assert_int_equal(sqlite3_open(fresh, &db2), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db1, def, -1, &st1, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db2, def, -1, &st2, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st1), SQLITE_ROW);
    assert_int_equal(sqlite3_step(st2), SQLITE_ROW);
    assert_string_equal((const char *) sqlite3_column_text(st1, 0),
                        (const char *) sqlite3_column_text(st2, 0));
    sqlite3_finalize(st1);
    sqlite3_finalize(st2);
    sqlite3_close(db1);
    sqlite3_close(db2);
    remove_db_files(fresh);

    struct case_vswitches v;
    case_vswitches_init(&v);
    s = open_ok(dbpath);
    case_put(s, &v.b);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    case_load(s, &got);
    const struct store_rec *with[] = {
        &c.meta, &c.node_a, &c.node_b, &c.vm, &c.bind, &v.b, &c.mig,
        &c.lease, &c.task,
    };
    case_expect(&got, with, N_ALL + 1);
    case_loaded_free(&got);
    store_destroy(s);

    /* A schema-6 file that already has a table of that name (not ours):
     * the step fails, is rolled back whole, and the open is refused. */
    exec_on_file(dbpath, "PRAGMA user_version = 6;");
    expect_open_fails(dbpath, "cannot upgrade schema 6 to 7");
    assert_int_equal(user_version(dbpath), 6);
    assert_int_equal(query_file(dbpath, "SELECT count(*) FROM vswitches"), 1);
}

/* A switch's row changed behind the store's back (its bytes, or its
 * checksum), or one the store could not have written, fails the load:
 * the core and mignetd never get a damaged definition. */
static void
test_vswitch_row_checksum(void **state)
{
    (void) state;
    static const char *const damage[] = {
        "UPDATE vswitches SET record = X'7b7d' WHERE name = 'red'",
        "UPDATE vswitches SET crc = crc + 1 WHERE name = 'blue.2'",
        "UPDATE vswitches SET name = 'red2' WHERE name = 'red'",
        "UPDATE vswitches SET record = CAST(record AS TEXT)"
        " WHERE name = 'red'",
        "UPDATE vswitches SET crc = NULL WHERE name = 'red'",
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        struct case_sample c;
        struct case_vswitches v;
        case_sample_init(&c);
        case_vswitches_init(&v);
        struct store *s = suite_open();
        case_put(s, &c.node_a);
        case_put(s, &v.a);
        case_put(s, &v.b);
        assert_int_equal(store_commit(s), 0);
        store_destroy(s);
        exec_on_file(dbpath, damage[i]);
        s = open_ok(dbpath);
        struct case_loaded got = {0};
        int err = s->ops->load(s, case_collect, &got);
        if (err != EBADMSG) {
            fail_msg("'%s': load returned %d, not EBADMSG", damage[i], err);
        }
        /* Records before the damaged row were handed over; the caller
         * (core_load) throws everything away on the error. */
        assert_true(got.n <= 2);
        case_loaded_free(&got);
        store_destroy(s);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_CASES,
        cmocka_unit_test(test_u64_extremes),
        cmocka_unit_test(test_crash_after_commit),
        cmocka_unit_test(test_uncommitted_dropped),
        cmocka_unit_test(test_garbage_file),
        cmocka_unit_test(test_foreign_database),
        cmocka_unit_test(test_corrupt_page),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_second_opener_refused),
        cmocka_unit_test(test_schema_upgrade),
        cmocka_unit_test(test_behind_marker_refused),
        cmocka_unit_test(test_missing_or_empty_refused),
        cmocka_unit_test(test_marker_damaged_or_removed),
        cmocka_unit_test(test_row_checksum),
        cmocka_unit_test(test_schema_upgrade_6),
        cmocka_unit_test(test_vswitch_row_checksum),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
