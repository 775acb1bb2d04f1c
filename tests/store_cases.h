/* store_cases.h: backend-independent checks of the store interface.
 *
 * Included by the unit test of each backend, which defines
 *   static struct store *suite_open(void);          a fresh, empty store
 *   static struct store *suite_reopen(struct store *); close + reopen
 * Every check compares what load() returns with what was put, field by
 * field, through one canonical text form; it must never compare with
 * results typed in by hand. */
#ifndef MIGNET_TESTS_STORE_CASES_H
#define MIGNET_TESTS_STORE_CASES_H 1

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mignet/store.h"

static struct store *suite_open(void);
static struct store *suite_reopen(struct store *);

#define CASE_TEXT_MAX 1024

static const char *
case_str(const char *s)
{
    return s ? s : "(null)";
}

static void
case_config_text(char *buf, size_t n, const struct mn_config *c)
{
    snprintf(buf, n,
             "mac=%02x%02x%02x%02x%02x%02x vlan=%u ip=%" PRIu32
             " vni=%" PRIu32 " port=%" PRIu32 " binding=%" PRIu32,
             c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4],
             c->mac[5], (unsigned) c->vlan, c->ip, c->vni, c->port,
             c->binding);
}

/* 'len' bytes of 'p' in hex ("-" for NULL). */
static void
case_hex(char *buf, size_t n, const void *p, size_t len)
{
    const unsigned char *b = p;
    size_t off = 0;
    buf[0] = '\0';
    if (!p) {
        snprintf(buf, n, "-");
        return;
    }
    for (size_t i = 0; i < len && off + 3 <= n; i++) {
        off += (size_t) snprintf(buf + off, n - off, "%02x", b[i]);
    }
}

/* FNV-1a of 'len' bytes of 'p': a long record's every byte in a line. */
static uint64_t
case_fnv(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; b && i < len; i++) {
        h = (h ^ b[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* Every field of 'r' as one line. */
static void
case_rec_text(char *buf, size_t n, const struct store_rec *r)
{
    char cfg[160];
    char hex[2 * 128 + 1];
    switch (r->type) {
    case STORE_META:
        snprintf(buf, n, "META v=%" PRIu64 " mig=%" PRIu64 " task=%" PRIu64,
                 r->meta.map_version, r->meta.next_migration,
                 r->meta.next_task);
        break;
    case STORE_NODE:
        snprintf(buf, n, "NODE %s addr=%s refresh=%" PRIu32 " gone=%d"
                 " cordoned=%d draining=%d token=%.12s",
                 case_str(r->node.name), case_str(r->node.address),
                 r->node.refresh_ms, (int) r->node.gone,
                 (int) r->node.cordoned, (int) r->node.draining,
                 r->node.token_hash && r->node.token_hash[0]
                     ? r->node.token_hash
                     : "-");
        break;
    case STORE_VM:
        case_config_text(cfg, sizeof cfg, &r->vm.config);
        snprintf(buf, n,
                 "VM %s node=%s %s epoch=%" PRIu64 " v=%" PRIu64
                 " mig=%" PRIu64 " iface=%s drain=%s",
                 case_str(r->vm.name), case_str(r->vm.node), cfg,
                 r->vm.epoch, r->vm.map_version, r->vm.migration,
                 r->vm.iface_id ? r->vm.iface_id : "",
                 case_str(r->vm.drain_target));
        break;
    case STORE_TASK:
        case_config_text(cfg, sizeof cfg, &r->task.snapshot);
        case_hex(hex, sizeof hex, r->task.binding, r->task.binding_len);
        snprintf(buf, n,
                 "TASK %" PRIu64 " kind=%d vm=%s node=%s epoch=%" PRIu64
                 " due=%" PRIu64 " mig=%" PRIu64 " need=%" PRIu64
                 " target=%s tepoch=%" PRIu64 " %s bind=%s",
                 r->task.id, (int) r->task.kind, case_str(r->task.vm),
                 case_str(r->task.node), r->task.epoch, r->task.due_ms,
                 r->task.migration, r->task.need_version,
                 case_str(r->task.relay_target), r->task.target_epoch, cfg,
                 hex);
        break;
    case STORE_BINDING:
        case_hex(hex, sizeof hex, r->binding.record, r->binding.len);
        snprintf(buf, n, "BINDING %" PRIu32 " %s", r->binding.id, hex);
        break;
    case STORE_VSWITCH:
        /* The first 128 bytes in hex, and a hash of all of them. */
        case_hex(hex, sizeof hex, r->vswitch.record, r->vswitch.len);
        snprintf(buf, n, "VSWITCH %s len=%zu fnv=%016" PRIx64 " %s",
                 case_str(r->vswitch.name), r->vswitch.len,
                 case_fnv(r->vswitch.record, r->vswitch.len), hex);
        break;
    case STORE_MIGRATION:
        snprintf(buf, n,
                 "MIG %" PRIu64 " vm=%s %s->%s epoch=%" PRIu64
                 " v=%" PRIu64 " phase=%d t=%" PRIu64 ",%" PRIu64
                 ",%" PRIu64 " delay=%" PRIu64 " early=%d sw=%d"
                 " t2=%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                 ",%" PRIu64 " deadline=%" PRIu64 " degraded=%d"
                 " reason=%s",
                 r->migration.id, case_str(r->migration.vm),
                 case_str(r->migration.src), case_str(r->migration.dst),
                 r->migration.epoch, r->migration.map_version,
                 (int) r->migration.phase, r->migration.started_ms,
                 r->migration.relaying_ms, r->migration.cleaned_ms,
                 r->migration.delay_ms, (int) r->migration.released_early,
                 (int) r->migration.switchover, r->migration.prepared_ms,
                 r->migration.switched_ms, r->migration.activated_ms,
                 r->migration.cleaning_ms, r->migration.aborted_ms,
                 r->migration.prepare_deadline_ms,
                 (int) r->migration.degraded,
                 case_str(r->migration.abort_reason));
        break;
    default:
        snprintf(buf, n, "BAD TYPE %d", (int) r->type);
        break;
    }
}

/* What load() returned, as text lines. */
struct case_loaded {
    char (*lines)[CASE_TEXT_MAX];
    size_t n, cap;
    size_t stop_after; /* return 'stop_value' after this many; 0 = never */
    int stop_value;
};

static int
case_collect(void *aux, const struct store_rec *r)
{
    struct case_loaded *l = aux;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->lines = realloc(l->lines, l->cap * sizeof *l->lines);
        assert_non_null(l->lines);
    }
    assert_false(r->del);
    case_rec_text(l->lines[l->n++], CASE_TEXT_MAX, r);
    if (l->stop_after && l->n == l->stop_after) {
        return l->stop_value;
    }
    return 0;
}

static void
case_load(struct store *s, struct case_loaded *l)
{
    l->n = 0;
    assert_int_equal(s->ops->load(s, case_collect, l), 0);
}

static void
case_loaded_free(struct case_loaded *l)
{
    free(l->lines);
    memset(l, 0, sizeof *l);
}

/* Expected lines, built from the records that were put. */
static void
case_expect(const struct case_loaded *l, const struct store_rec *const *recs,
            size_t n)
{
    char want[CASE_TEXT_MAX];
    assert_int_equal(l->n, n);
    for (size_t i = 0; i < n; i++) {
        case_rec_text(want, sizeof want, recs[i]);
        assert_string_equal(l->lines[i], want);
    }
}

/* The lines of 'n' records, taken while the caller's buffers are intact;
 * case_expect_lines() compares a load with them after they changed. */
static char (*case_lines_of(const struct store_rec *const *recs,
                            size_t n))[CASE_TEXT_MAX]
{
    char (*lines)[CASE_TEXT_MAX] = calloc(n ? n : 1, sizeof *lines);
    assert_non_null(lines);
    for (size_t i = 0; i < n; i++) {
        case_rec_text(lines[i], CASE_TEXT_MAX, recs[i]);
    }
    return lines;
}

/* Loads 's' and checks it returns exactly 'want' (frees it). */
static void
case_expect_lines(struct store *s, char (*want)[CASE_TEXT_MAX], size_t n)
{
    struct case_loaded got = {0};
    case_load(s, &got);
    assert_int_equal(got.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(got.lines[i], want[i]);
    }
    case_loaded_free(&got);
    free(want);
}

/* ---- Sample records; names live in caller buffers we later clobber. ---- */

struct case_sample {
    char names[8][32];
    unsigned char rec[2][64]; /* byte records, clobbered like the names */
    struct store_rec meta, node_a, node_b, vm, task, mig, bind, lease;
};

static void
case_sample_init(struct case_sample *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->names[0], sizeof c->names[0], "node-a");
    snprintf(c->names[1], sizeof c->names[1], "198.18.0.1");
    snprintf(c->names[2], sizeof c->names[2], "node-b");
    snprintf(c->names[3], sizeof c->names[3], "198.18.0.2");
    snprintf(c->names[4], sizeof c->names[4], "vm.1");

    c->meta.type = STORE_META;
    c->meta.meta.map_version = 41;
    c->meta.meta.next_migration = 7;
    c->meta.meta.next_task = 99;

    c->node_a.type = STORE_NODE;
    c->node_a.node.name = c->names[0];
    c->node_a.node.address = c->names[1];
    c->node_a.node.refresh_ms = 2000;

    c->node_b.type = STORE_NODE;
    c->node_b.node.name = c->names[2];
    c->node_b.node.address = c->names[3];
    c->node_b.node.refresh_ms = 750;
    c->node_b.node.cordoned = true;
    c->node_b.node.draining = true;
    c->node_b.node.token_hash = "9f86d081884c7d659a2feaa0c55ad015"
                                "a3bf4f1b2b0b822cd15d6c15b0f00a08";

    struct mn_config cfg = {
        .mac = {0x02, 0, 0, 0, 0x12, 0x34},
        .vlan = 10, .ip = 0xc6120101u, .vni = 100, .port = 5, .binding = 3,
    };
    c->vm.type = STORE_VM;
    c->vm.vm.name = c->names[4];
    c->vm.vm.node = c->names[2];
    c->vm.vm.config = cfg;
    c->vm.vm.epoch = 5;
    c->vm.vm.map_version = 40;
    c->vm.vm.migration = 6;
    c->vm.vm.iface_id = "5a9c1f0e-3b7d-4e2a-9f61-0c8d2b4e7a13";
    c->vm.vm.drain_target = c->names[0];

    c->task.type = STORE_TASK;
    c->task.task.id = 98;
    c->task.task.kind = TASK_DELETE;
    c->task.task.vm = c->names[4];
    c->task.task.node = c->names[0];
    c->task.task.epoch = 4;
    c->task.task.due_ms = 1700000000123ULL;
    c->task.task.migration = 6;
    c->task.task.need_version = 40;
    c->task.task.relay_target = c->names[2];
    c->task.task.target_epoch = 5;
    c->task.task.snapshot = cfg;
    c->task.task.snapshot.port = 9;
    for (size_t i = 0; i < sizeof c->rec[0]; i++) {
        c->rec[0][i] = (unsigned char) (i * 37 + 1);
        c->rec[1][i] = (unsigned char) (255 - i);
    }
    c->task.task.binding = c->rec[0];
    c->task.task.binding_len = 50;

    /* The store keeps binding records as opaque bytes. */
    c->bind.type = STORE_BINDING;
    c->bind.binding.id = 3;
    c->bind.binding.record = c->rec[1];
    c->bind.binding.len = 61;

    c->lease.type = STORE_TASK;
    c->lease.task.id = 97;
    c->lease.task.kind = TASK_LEASE;
    c->lease.task.vm = c->names[4];
    c->lease.task.node = c->names[2];
    c->lease.task.epoch = 5;
    c->lease.task.due_ms = 1700000600000ULL;
    c->lease.task.snapshot.binding = 3;

    c->mig.type = STORE_MIGRATION;
    c->mig.migration.id = 6;
    c->mig.migration.vm = c->names[4];
    c->mig.migration.src = c->names[0];
    c->mig.migration.dst = c->names[2];
    c->mig.migration.epoch = 5;
    c->mig.migration.map_version = 40;
    c->mig.migration.phase = MIG_RELAYING;
    c->mig.migration.switchover = MIG_SW_LOSSLESS;
    c->mig.migration.prepared_ms = 1700000000100ULL;
    c->mig.migration.switched_ms = 1700000000200ULL;
    c->mig.migration.activated_ms = 1700000000300ULL;
    c->mig.migration.cleaning_ms = 0;
    c->mig.migration.aborted_ms = 0;
    c->mig.migration.prepare_deadline_ms = 1700000600000ULL;
    c->mig.migration.degraded = true;
    c->mig.migration.abort_reason = "";
    c->mig.migration.started_ms = 1700000000000ULL;
    c->mig.migration.relaying_ms = 1700000000010ULL;
    c->mig.migration.delay_ms = 4000;
    c->mig.migration.released_early = true;
}

static void
case_put(struct store *s, const struct store_rec *r)
{
    assert_int_equal(store_put(s, r), 0);
}

/* Puts in scrambled type order; load returns META, NODE, VM, BINDING,
 * (VSWITCH: case_vswitch_roundtrip) MIGRATION, TASK with every field intact, even after the caller's
 * strings and byte records change. */
static void
case_roundtrip(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();

    case_put(s, &c.lease);
    case_put(s, &c.task);
    case_put(s, &c.bind);
    case_put(s, &c.vm);
    case_put(s, &c.mig);
    case_put(s, &c.node_a);
    case_put(s, &c.meta);
    case_put(s, &c.node_b);
    assert_int_equal(store_commit(s), 0);

    /* Expected text while the caller's strings are still intact.  Tasks
     * come in key order from SQLite and in first-write order from memory:
     * the lease (id 97) was written before the deletion (98) for both. */
    const struct store_rec *order[] = {
        &c.meta, &c.node_a, &c.node_b, &c.vm, &c.bind, &c.mig, &c.lease,
        &c.task,
    };
    enum { N_ORDER = sizeof order / sizeof order[0] };
    char (*want)[CASE_TEXT_MAX] = case_lines_of(order, N_ORDER);
    for (size_t i = 0; i < 8; i++) {
        memset(c.names[i], 'X', sizeof c.names[i] - 1);
    }
    memset(c.rec, 0xee, sizeof c.rec);

    s = suite_reopen(s);
    case_expect_lines(s, want, N_ORDER);
    store_destroy(s);
}

/* An upsert keeps the key's first-write position with the newest fields;
 * a delete forgets the key; a key written again after a delete goes last. */
static void
case_upsert_delete(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();

    case_put(s, &c.node_a);
    case_put(s, &c.node_b);
    struct store_rec a2 = c.node_a;
    a2.node.refresh_ms = 1234;
    a2.node.cordoned = true;
    case_put(s, &a2);
    struct store_rec mig2 = c.mig;
    case_put(s, &c.mig);
    mig2.migration.phase = MIG_CLEANED;
    mig2.migration.cleaned_ms = mig2.migration.relaying_ms + 4000;
    case_put(s, &mig2);
    case_put(s, &c.task);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);

    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want1[] = { &a2, &c.node_b, &mig2, &c.task };
    case_expect(&got, want1, 4);

    struct store_rec del = {.type = STORE_NODE, .del = true};
    del.node.name = c.node_a.node.name;
    case_put(s, &del);
    struct store_rec tdel = {.type = STORE_TASK, .del = true};
    tdel.task.id = c.task.task.id;
    case_put(s, &tdel);
    /* Deleting what does not exist is not an error. */
    tdel.task.id = 12345;
    case_put(s, &tdel);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    case_load(s, &got);
    const struct store_rec *want2[] = { &c.node_b, &mig2 };
    case_expect(&got, want2, 2);

    case_put(s, &c.node_a);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    case_load(s, &got);
    const struct store_rec *want3[] = { &c.node_b, &c.node_a, &mig2 };
    case_expect(&got, want3, 3);

    case_loaded_free(&got);
    store_destroy(s);
}

/* load() stops at the first nonzero callback value and returns it. */
static void
case_load_stops(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    case_put(s, &c.meta);
    case_put(s, &c.node_a);
    case_put(s, &c.node_b);
    case_put(s, &c.vm);
    assert_int_equal(store_commit(s), 0);

    struct case_loaded got = {.stop_after = 2, .stop_value = 77};
    assert_int_equal(s->ops->load(s, case_collect, &got), 77);
    assert_int_equal(got.n, 2);
    case_loaded_free(&got);
    store_destroy(s);
}

/* Many keys with interleaved deletes and rewrites keep first-write order. */
static void
case_many(void **state)
{
    (void) state;
    enum { N = 3000 };
    struct store *s = suite_open();
    static char names[N][24];
    static struct store_rec recs[N];
    static bool live[N];

    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "vm-%zu", i * 7919 % 100003);
        recs[i].type = STORE_VM;
        recs[i].vm.name = names[i];
        recs[i].vm.node = "n1";
        recs[i].vm.epoch = i + 1;
        recs[i].vm.config.ip = (uint32_t) (0xc6120000u + i);
        case_put(s, &recs[i]);
        live[i] = true;
        if (i % 3 == 2) {
            /* Forget an older one; rewrite another in place. */
            size_t d = i / 2;
            if (live[d]) {
                struct store_rec del = {.type = STORE_VM, .del = true};
                del.vm.name = names[d];
                case_put(s, &del);
                live[d] = false;
            }
            size_t u = i - 1;
            if (live[u]) {
                recs[u].vm.epoch += 1000;
                case_put(s, &recs[u]);
            }
        }
    }
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);

    const struct store_rec **want = calloc(N, sizeof *want);
    assert_non_null(want);
    size_t n = 0;
    for (size_t i = 0; i < N; i++) {
        if (live[i]) {
            want[n++] = &recs[i];
        }
    }
    struct case_loaded got = {0};
    case_load(s, &got);
    case_expect(&got, want, n);
    assert_true(n < N);
    free(want);
    case_loaded_free(&got);
    store_destroy(s);
}

/* Records without their key, or of an unknown type, are refused and leave
 * the store as it was. */
static void
case_invalid(void **state)
{
    (void) state;
    struct case_sample c;
    case_sample_init(&c);
    struct store *s = suite_open();
    case_put(s, &c.node_a);

    struct store_rec bad = c.node_b;
    bad.node.name = NULL;
    assert_int_equal(store_put(s, &bad), EINVAL);
    bad = c.vm;
    bad.vm.name = NULL;
    assert_int_equal(store_put(s, &bad), EINVAL);
    bad = c.vm;
    bad.type = (enum store_rec_type) 17;
    assert_int_equal(store_put(s, &bad), EINVAL);
    assert_int_equal(store_commit(s), 0);

    s = suite_reopen(s);
    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want[] = { &c.node_a };
    case_expect(&got, want, 1);
    case_loaded_free(&got);
    store_destroy(s);
}

/* ---- Tenant virtual switches: opaque records keyed by name ---- */

/* Two switch definitions in caller buffers (clobbered before loading). */
struct case_vswitches {
    char names[3][32];
    char text[3][160];
    struct store_rec a, b, c;
};

static void
case_vswitch_set(struct store_rec *r, char *name, const char *id,
                 char *text, size_t textlen, const char *json)
{
    memset(r, 0, sizeof *r);
    r->type = STORE_VSWITCH;
    snprintf(name, 32, "%s", id);
    snprintf(text, textlen, "%s", json);
    r->vswitch.name = name;
    r->vswitch.record = text;
    r->vswitch.len = strlen(text);
}

static void
case_vswitches_init(struct case_vswitches *v)
{
    case_vswitch_set(&v->a, v->names[0], "red", v->text[0],
                     sizeof v->text[0],
                     "{\"id\":\"red\",\"tenant\":\"t1\",\"vni\":5001,"
                     "\"controller\":\"tcp:127.0.0.1:6653\","
                     "\"ports\":{\"vm1\":1,\"vm2\":2}}");
    case_vswitch_set(&v->b, v->names[1], "blue.2", v->text[1],
                     sizeof v->text[1],
                     "{\"id\":\"blue.2\",\"tenant\":\"t2\",\"vni\":5002,"
                     "\"ports\":{}}");
    case_vswitch_set(&v->c, v->names[2], "green", v->text[2],
                     sizeof v->text[2], "{\"id\":\"green\"}");
}

static void
case_vswitch_del(struct store *s, const char *name)
{
    struct store_rec del = {.type = STORE_VSWITCH, .del = true};
    del.vswitch.name = name;
    case_put(s, &del);
}

/* Two switches among the other types load after the bindings and before
 * the migrations, in first-write order, byte for byte, after a reopen and
 * after the caller's buffers changed. */
static void
case_vswitch_roundtrip(void **state)
{
    (void) state;
    struct case_sample c;
    struct case_vswitches v;
    case_sample_init(&c);
    case_vswitches_init(&v);
    struct store *s = suite_open();

    case_put(s, &c.task);
    case_put(s, &v.a);
    case_put(s, &c.mig);
    case_put(s, &c.bind);
    case_put(s, &v.b);
    case_put(s, &c.vm);
    case_put(s, &c.node_b);
    case_put(s, &c.meta);
    assert_int_equal(store_commit(s), 0);

    const struct store_rec *order[] = {
        &c.meta, &c.node_b, &c.vm, &c.bind, &v.a, &v.b, &c.mig, &c.task,
    };
    char (*want)[CASE_TEXT_MAX] = case_lines_of(order, 8);
    memset(v.names, 'X', sizeof v.names);
    memset(v.text, 'Y', sizeof v.text);
    memset(c.names, 'X', sizeof c.names);
    memset(c.rec, 0xee, sizeof c.rec);

    s = suite_reopen(s);
    case_expect_lines(s, want, 8);
    store_destroy(s);
}

/* An overwrite keeps the name's place with the new bytes (longer or
 * shorter); a delete forgets the name, also one put in the same batch; a
 * name written again after its delete goes last. */
static void
case_vswitch_overwrite_delete(void **state)
{
    (void) state;
    struct case_vswitches v;
    case_vswitches_init(&v);
    struct store *s = suite_open();
    case_put(s, &v.a);
    case_put(s, &v.b);
    case_put(s, &v.c);
    assert_int_equal(store_commit(s), 0);

    char longer[200], shorter[8];
    memset(longer, 'L', sizeof longer);
    memcpy(shorter, "{\"v\":2}", 7);
    struct store_rec a2 = v.a, c2 = v.c;
    a2.vswitch.record = longer;
    a2.vswitch.len = sizeof longer;
    c2.vswitch.record = shorter;
    c2.vswitch.len = 7;
    case_put(s, &a2);
    case_put(s, &c2);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want1[] = {&a2, &v.b, &c2};
    case_expect(&got, want1, 3);

    case_vswitch_del(s, v.a.vswitch.name);
    case_vswitch_del(s, "never-written");
    struct store_rec tmp = v.b;
    tmp.vswitch.name = "written-then-deleted";
    case_put(s, &tmp);
    case_vswitch_del(s, "written-then-deleted");
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    case_load(s, &got);
    const struct store_rec *want2[] = {&v.b, &c2};
    case_expect(&got, want2, 2);

    case_put(s, &v.a);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    case_load(s, &got);
    const struct store_rec *want3[] = {&v.b, &c2, &v.a};
    case_expect(&got, want3, 3);

    /* Deleting every switch leaves the other types alone. */
    struct case_sample c;
    case_sample_init(&c);
    case_put(s, &c.node_a);
    case_vswitch_del(s, v.a.vswitch.name);
    case_vswitch_del(s, v.b.vswitch.name);
    case_vswitch_del(s, v.c.vswitch.name);
    assert_int_equal(store_commit(s), 0);
    s = suite_reopen(s);
    case_load(s, &got);
    const struct store_rec *want4[] = {&c.node_a};
    case_expect(&got, want4, 1);
    case_loaded_free(&got);
    store_destroy(s);
}

/* The record is bytes, not a string: NULs (first, inside, last) and every
 * byte value come back, and so does a record of the largest size. */
static void
case_vswitch_bytes(void **state)
{
    (void) state;
    static unsigned char all[256 + 3];
    static unsigned char big[STORE_VSWITCH_RECORD_MAX];
    all[0] = 0;
    for (size_t i = 0; i < 256; i++) {
        all[i + 1] = (unsigned char) (255 - i); /* ... 0x01, 0x00 */
    }
    all[257] = 0;
    all[258] = 0;
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (unsigned char) ((i * 2654435761u) >> 13);
    }
    big[0] = big[sizeof big / 2] = big[sizeof big - 1] = 0;
    struct store_rec r1 = {.type = STORE_VSWITCH}, r2 = r1, r3 = r1;
    r1.vswitch.name = "nul";
    r1.vswitch.record = all;
    r1.vswitch.len = sizeof all;
    r2.vswitch.name = "one-nul";
    r2.vswitch.record = "";
    r2.vswitch.len = 1; /* the single byte 0x00 */
    r3.vswitch.name = "big";
    r3.vswitch.record = big;
    r3.vswitch.len = sizeof big;

    struct store *s = suite_open();
    case_put(s, &r1);
    case_put(s, &r2);
    case_put(s, &r3);
    assert_int_equal(store_commit(s), 0);
    const struct store_rec *order[] = {&r1, &r2, &r3};
    char (*want)[CASE_TEXT_MAX] = case_lines_of(order, 3);
    memset(all, 0x5a, sizeof all);
    memset(big, 0x5a, sizeof big);
    s = suite_reopen(s);
    case_expect_lines(s, want, 3);
    store_destroy(s);
}

/* A switch without a name, or (unless deleted) without a record, with an
 * empty one or one above STORE_VSWITCH_RECORD_MAX, is refused by every
 * backend and changes nothing. */
static void
case_vswitch_invalid(void **state)
{
    (void) state;
    static unsigned char big[STORE_VSWITCH_RECORD_MAX + 1];
    struct case_vswitches v;
    case_vswitches_init(&v);
    struct store *s = suite_open();
    case_put(s, &v.a);

    struct store_rec bad = v.b;
    bad.vswitch.name = NULL;
    assert_int_equal(store_put(s, &bad), EINVAL);
    bad.vswitch.name = "";
    assert_int_equal(store_put(s, &bad), EINVAL);
    bad = v.b;
    bad.vswitch.record = NULL;
    assert_int_equal(store_put(s, &bad), EINVAL);
    bad = v.b;
    bad.vswitch.len = 0;
    assert_int_equal(store_put(s, &bad), EINVAL);
    bad = v.a; /* an overwrite refused keeps the old record */
    bad.vswitch.record = big;
    bad.vswitch.len = sizeof big;
    assert_int_equal(store_put(s, &bad), EINVAL);
    struct store_rec del = {.type = STORE_VSWITCH, .del = true};
    assert_int_equal(store_put(s, &del), EINVAL);
    del.vswitch.name = "";
    assert_int_equal(store_put(s, &del), EINVAL);
    assert_int_equal(store_commit(s), 0);

    s = suite_reopen(s);
    struct case_loaded got = {0};
    case_load(s, &got);
    const struct store_rec *want[] = {&v.a};
    case_expect(&got, want, 1);
    case_loaded_free(&got);
    store_destroy(s);
}

#define STORE_CASES                                                          \
    cmocka_unit_test(case_roundtrip),                                        \
    cmocka_unit_test(case_upsert_delete),                                    \
    cmocka_unit_test(case_load_stops),                                       \
    cmocka_unit_test(case_many),                                             \
    cmocka_unit_test(case_invalid),                                          \
    cmocka_unit_test(case_vswitch_roundtrip),                                \
    cmocka_unit_test(case_vswitch_overwrite_delete),                         \
    cmocka_unit_test(case_vswitch_bytes),                                    \
    cmocka_unit_test(case_vswitch_invalid)

#endif /* MIGNET_TESTS_STORE_CASES_H */
