/* agent_map.c: the agent's copy of the gateway map (see agent_map.h).
 *
 * Answers are parsed completely into a staging list before anything is
 * applied, so a bad answer never leaves a half-updated map.  A poll
 * answer is read a slice at a time (agent_map_read_step): the top-level
 * object is walked member by member, the entries array element by
 * element, each element parsed by jansson on its own (lib/json.h's
 * js_value_len finds its bytes), and a full answer's new table is built
 * aside and swapped in, so 50,000 entries (9 MB) never hold the agent's
 * loop at once. */
#include "agent/agent_map.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/json.h"
#include "mignet/model.h"
#include "lib/strmap.h"
#include "lib/util.h"

/* Entries and their index by VM name. */
struct amap_table {
    struct amap_entry *e;
    size_t n, cap;
    struct strmap index;
};

/* Where a poll answer being read stands. */
enum read_state {
    READ_MEMBER,  /* expects the next top-level member, or '}' */
    READ_ENTRIES, /* inside "entries": the next element, or ']' */
    READ_BUILD,   /* parsed: a full answer's table is being built */
};

/* Top-level members a reader remembers (for duplicates): more is not a
 * map answer (it has three; a whole-document parse took any number). */
#define READ_MAX_KEYS 16

struct amap_reader {
    char *buf;
    size_t len, pos;
    enum read_state state;
    bool first; /* no member (element) read yet in this object (array) */
    bool has_version, has_entries, full;
    uint64_t version;
    char *keys[READ_MAX_KEYS];
    size_t n_keys;
    struct amap_change *st; /* the entries, as parsed */
    size_t n, cap;
    size_t built;              /* READ_BUILD: entries put so far */
    struct amap_table *shadow; /* READ_BUILD: the full answer's table */
};

struct agent_map {
    struct amap_table *t;
    uint64_t version;
    uint64_t polled; /* version of the last poll answer applied */
    struct vm_changes changes; /* entries changed since drained */
    struct amap_reader *reader; /* a poll answer being read, or NULL */
};

static const char *
entry_name(const void *aux, uint32_t i)
{
    const struct amap_table *t = aux;
    return t->e[i].vm;
}

static struct amap_table *
table_create(void)
{
    struct amap_table *t = xcalloc(1, sizeof *t);
    strmap_init(&t->index, entry_name, t);
    return t;
}

static void
table_destroy(struct amap_table *t)
{
    if (t) {
        strmap_destroy(&t->index);
        free(t->e);
        free(t);
    }
}

static bool
table_remove(struct amap_table *t, const char *vm)
{
    uint32_t i = strmap_find(&t->index, vm);
    if (i == STRMAP_NONE) {
        return false;
    }
    strmap_remove(&t->index, vm);
    size_t last = t->n - 1;
    if (i != last) {
        strmap_remove(&t->index, t->e[last].vm);
        t->e[i] = t->e[last];
        strmap_insert(&t->index, t->e[i].vm, i);
    }
    t->n--;
    return true;
}

static void
table_put(struct amap_table *t, const struct amap_entry *e)
{
    uint32_t i = strmap_find(&t->index, e->vm);
    if (i != STRMAP_NONE) {
        t->e[i] = *e;
        return;
    }
    t->e = xgrow(t->e, &t->cap, t->n + 1, sizeof *t->e);
    t->e[t->n] = *e;
    strmap_insert(&t->index, e->vm, (uint32_t) t->n);
    t->n++;
}

static void
reader_free(struct amap_reader *r)
{
    if (r) {
        free(r->buf);
        for (size_t i = 0; i < r->n_keys; i++) {
            free(r->keys[i]);
        }
        free(r->st);
        table_destroy(r->shadow);
        free(r);
    }
}

struct agent_map *
agent_map_create(void)
{
    struct agent_map *m = xcalloc(1, sizeof *m);
    m->t = table_create();
    vm_changes_init(&m->changes);
    return m;
}

void
agent_map_destroy(struct agent_map *m)
{
    if (m) {
        table_destroy(m->t);
        reader_free(m->reader);
        vm_changes_destroy(&m->changes);
        free(m);
    }
}

uint64_t
agent_map_version(const struct agent_map *m)
{
    return m->version;
}

size_t
agent_map_count(const struct agent_map *m)
{
    return m->t->n;
}

const struct amap_entry *
agent_map_entry(const struct agent_map *m, size_t i)
{
    return i < m->t->n ? &m->t->e[i] : NULL;
}

const struct amap_entry *
agent_map_find(const struct agent_map *m, const char *vm)
{
    uint32_t i = strmap_find(&m->t->index, vm);
    return i == STRMAP_NONE ? NULL : &m->t->e[i];
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return EINVAL;
}

static bool
get_uint(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        *out = 0;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0
        || (uint64_t) json_integer_value(v) > max) {
        return false;
    }
    *out = (uint64_t) json_integer_value(v);
    return true;
}

/* A live change's members beyond what JSON (or the channel codec) type
 * checks: the same rules for a poll answer and a push. */
static int
check_change(const struct amap_change *s, char *err, size_t errlen,
             size_t i)
{
    if (!mn_name_valid(s->e.vm)) {
        return fail(err, errlen, "entry %zu: no valid 'vm'", i);
    }
    if (s->removed) {
        return 0;
    }
    if (!mn_name_valid(s->e.node)) {
        return fail(err, errlen, "entry %zu: no valid 'node'", i);
    }
    if (!s->e.epoch || s->e.epoch > UINT64_MAX >> 1
        || s->e.config.vni > 0xffffff || s->e.config.vlan > 4095) {
        return fail(err, errlen, "entry %zu: epoch/vni/vlan/port invalid",
                    i);
    }
    return 0;
}

static int
parse_entry(json_t *o, struct amap_change *s, char *err, size_t errlen,
            size_t i)
{
    memset(s, 0, sizeof *s);
    const char *vm = json_string_value(json_object_get(o, "vm"));
    if (!json_is_object(o) || !vm || !mn_name_valid(vm)) {
        return fail(err, errlen, "entry %zu: no valid 'vm'", i);
    }
    snprintf(s->e.vm, sizeof s->e.vm, "%s", vm);
    json_t *removed = json_object_get(o, "removed");
    if (removed && !json_is_boolean(removed)) {
        return fail(err, errlen, "entry %zu: 'removed' is not a boolean", i);
    }
    if (removed && json_is_true(removed)) {
        s->removed = true;
        return 0;
    }
    const char *node = json_string_value(json_object_get(o, "node"));
    const char *mac = json_string_value(json_object_get(o, "mac"));
    const char *ip = json_string_value(json_object_get(o, "ip"));
    const char *address = json_string_value(json_object_get(o, "address"));
    uint64_t epoch, vni, vlan, port;
    if (!node || !mn_name_valid(node)) {
        return fail(err, errlen, "entry %zu: no valid 'node'", i);
    }
    if (!mac || !addr_parse_mac(mac, s->e.config.mac)) {
        return fail(err, errlen, "entry %zu: no valid 'mac'", i);
    }
    if (!ip || !addr_parse_ipv4(ip, &s->e.config.ip)) {
        return fail(err, errlen, "entry %zu: no valid 'ip'", i);
    }
    if (!get_uint(o, "epoch", UINT64_MAX >> 1, &epoch) || !epoch
        || !get_uint(o, "vni", 0xffffff, &vni)
        || !get_uint(o, "vlan", 4095, &vlan)
        || !get_uint(o, "port", UINT32_MAX, &port)) {
        return fail(err, errlen, "entry %zu: epoch/vni/vlan/port invalid",
                    i);
    }
    snprintf(s->e.node, sizeof s->e.node, "%s", node);
    if (!address || !addr_parse_ipv4(address, &s->e.address)) {
        s->e.address = 0; /* not an overlay peer we can reach */
    }
    s->e.epoch = epoch;
    s->e.config.vni = (uint32_t) vni;
    s->e.config.vlan = (uint16_t) vlan;
    s->e.config.port = (uint32_t) port;
    return check_change(s, err, errlen, i);
}

/* Every change goes through remove_vm(), put_vm() or a full answer's
 * swap (commit), which record it in the change set, whatever answer or
 * push it came from. */
static void
remove_vm(struct agent_map *m, const char *vm)
{
    if (table_remove(m->t, vm)) {
        vm_changes_add(&m->changes, vm);
    }
}

static void
put_vm(struct agent_map *m, const struct amap_entry *e)
{
    vm_changes_add(&m->changes, e->vm);
    table_put(m->t, e);
}

/* The changes of a full update, applied to a table of their own. */
static void
build(struct amap_table *t, const struct amap_change *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (st[i].removed) {
            (void) table_remove(t, st[i].e.vm);
        } else {
            table_put(t, &st[i].e);
        }
    }
}

/* Applies checked changes: the whole map when 'full' ('shadow', when
 * not NULL, is already their table: it is taken). */
static void
commit(struct agent_map *m, const struct amap_change *st, size_t n,
       bool full, uint64_t version, struct amap_table *shadow)
{
    if (full) {
        if (!shadow) {
            shadow = table_create();
            build(shadow, st, n);
        }
        table_destroy(m->t);
        m->t = shadow;
        vm_changes_all(&m->changes);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (st[i].removed) {
                remove_vm(m, st[i].e.vm);
            } else {
                put_vm(m, &st[i].e);
            }
        }
    }
    m->version = version;
}

uint64_t
agent_map_polled_version(const struct agent_map *m)
{
    return m->polled;
}

int
agent_map_apply_push(struct agent_map *m, uint64_t since, uint64_t version,
                     const struct amap_change *ch, size_t n, char *err,
                     size_t errlen)
{
    if (since > version) {
        return fail(err, errlen, "push from version %" PRIu64 " to %"
                    PRIu64, since, version);
    }
    if (since > m->version) {
        return fail(err, errlen, "push from version %" PRIu64 " but the "
                    "map holds %" PRIu64, since, m->version);
    }
    if (version <= m->version && (since || m->version)) {
        return EALREADY;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = check_change(&ch[i], err, errlen, i);
        if (rc) {
            return rc;
        }
    }
    commit(m, ch, n, since == 0, version, NULL);
    return 0;
}

/* ---- Reading a poll answer, a slice at a time ---- */

static int
read_fail(struct agent_map *m, char *err, size_t errlen, const char *what)
{
    int rc = fail(err, errlen, "%s (at byte %zu)", what, m->reader->pos);
    reader_free(m->reader);
    m->reader = NULL;
    return rc;
}

static void
skip_ws(struct amap_reader *r)
{
    r->pos += js_ws_len(r->buf + r->pos, r->len - r->pos);
}

/* Deepest nesting of one entry or one other member's value: a map
 * answer nests 2 levels; jansson would take 2,048. */
#define READ_MAX_DEPTH 32

/* The JSON value at the reader's position, consumed; NULL (with 'je'
 * filled when jansson refused it, '*deep' when it nests deeper than
 * READ_MAX_DEPTH) if there is none. */
static json_t *
take_value(struct amap_reader *r, size_t flags, json_error_t *je,
           bool *deep)
{
    size_t depth;
    size_t n = js_value_len(r->buf + r->pos, r->len - r->pos, &depth);
    *deep = depth > READ_MAX_DEPTH;
    if (!n || *deep) {
        snprintf(je->text, sizeof je->text, "no value");
        return NULL;
    }
    json_t *v = json_loadb(r->buf + r->pos, n,
                           flags | JSON_REJECT_DUPLICATES, je);
    r->pos += n;
    return v;
}

/* One top-level member (or the object's end).  0, EAGAIN (go on) or
 * EINVAL. */
static int
read_member(struct agent_map *m, char *err, size_t errlen)
{
    struct amap_reader *r = m->reader;
    skip_ws(r);
    if (r->pos < r->len && r->buf[r->pos] == '}') {
        r->pos++;
        skip_ws(r);
        if (r->pos != r->len) {
            return read_fail(m, err, errlen, "not JSON: text after the end");
        }
        if (!r->has_version || !r->has_entries) {
            return read_fail(m, err, errlen, "not a map answer (version, "
                             "full, entries)");
        }
        r->state = READ_BUILD;
        return EAGAIN;
    }
    if (!r->first) {
        if (r->pos >= r->len || r->buf[r->pos] != ',') {
            return read_fail(m, err, errlen, "not JSON: ',' or '}' expected");
        }
        r->pos++;
        skip_ws(r);
    }
    json_error_t je;
    bool deep;
    json_t *key = take_value(r, JSON_DECODE_ANY, &je, &deep);
    if (!key && !deep) {
        return read_fail(m, err, errlen, "not JSON: a member's name");
    }
    if (!json_is_string(key) || r->n_keys == READ_MAX_KEYS) {
        json_decref(key);
        return read_fail(m, err, errlen, "not a map answer (a member)");
    }
    const char *k = json_string_value(key);
    for (size_t i = 0; i < r->n_keys; i++) {
        if (!strcmp(r->keys[i], k)) {
            json_decref(key);
            return read_fail(m, err, errlen, "not JSON: duplicate key");
        }
    }
    r->keys[r->n_keys++] = xstrdup(k);
    json_decref(key);
    r->first = false;
    skip_ws(r);
    if (r->pos >= r->len || r->buf[r->pos] != ':') {
        return read_fail(m, err, errlen, "not JSON: ':' expected");
    }
    r->pos++;
    skip_ws(r);
    k = r->keys[r->n_keys - 1];
    if (!strcmp(k, "entries")) {
        if (r->pos >= r->len || r->buf[r->pos] != '[') {
            return read_fail(m, err, errlen, "not a map answer (version, "
                             "full, entries)");
        }
        r->pos++;
        r->has_entries = true;
        r->state = READ_ENTRIES;
        r->first = true;
        return EAGAIN;
    }
    json_t *v = take_value(r, JSON_DECODE_ANY, &je, &deep);
    if (!v) {
        return read_fail(m, err, errlen,
                         deep ? "not a map answer (a member nested too "
                                "deep)"
                              : "not JSON: a member's value");
    }
    bool ok = true;
    if (!strcmp(k, "version")) {
        ok = json_is_integer(v) && json_integer_value(v) >= 0
             && (uint64_t) json_integer_value(v) <= UINT64_MAX >> 1;
        r->version = ok ? (uint64_t) json_integer_value(v) : 0;
        r->has_version = true;
    } else if (!strcmp(k, "full")) {
        ok = json_is_boolean(v);
        r->full = json_is_true(v);
    }
    json_decref(v);
    if (!ok) {
        return read_fail(m, err, errlen, "not a map answer (version, full, "
                         "entries)");
    }
    return EAGAIN;
}

/* One element of "entries" (or the array's end). */
static int
read_entry(struct agent_map *m, char *err, size_t errlen)
{
    struct amap_reader *r = m->reader;
    skip_ws(r);
    if (r->pos < r->len && r->buf[r->pos] == ']' && r->first) {
        r->pos++;
        r->state = READ_MEMBER;
        r->first = false;
        return EAGAIN;
    }
    if (!r->first) {
        if (r->pos < r->len && r->buf[r->pos] == ']') {
            r->pos++;
            r->state = READ_MEMBER;
            return EAGAIN;
        }
        if (r->pos >= r->len || r->buf[r->pos] != ',') {
            return read_fail(m, err, errlen, "not JSON: ',' or ']' expected");
        }
        r->pos++;
        skip_ws(r);
    }
    r->first = false;
    json_error_t je;
    bool deep;
    json_t *o = take_value(r, JSON_DECODE_ANY, &je, &deep);
    if (!o) {
        char what[200];
        if (deep) {
            snprintf(what, sizeof what, "not a map answer: entry %zu "
                     "nested too deep", r->n);
        } else {
            snprintf(what, sizeof what, "not JSON: entry %zu: %s", r->n,
                     je.text);
        }
        return read_fail(m, err, errlen, what);
    }
    r->st = xgrow(r->st, &r->cap, r->n + 1, sizeof *r->st);
    char e[160];
    int rc = parse_entry(o, &r->st[r->n], e, sizeof e, r->n);
    json_decref(o);
    if (rc) {
        return read_fail(m, err, errlen, e);
    }
    r->n++;
    return EAGAIN;
}

int
agent_map_read_take(struct agent_map *m, char *json, size_t len, char *err,
                    size_t errlen)
{
    if (m->reader) {
        free(json);
        return fail(err, errlen, "an answer is being read");
    }
    size_t ws = js_ws_len(json, len);
    if (ws == len || json[ws] != '{') {
        free(json);
        return fail(err, errlen, "not a map answer (no object)");
    }
    struct amap_reader *r = xcalloc(1, sizeof *r);
    r->buf = json;
    r->len = len;
    r->pos = ws + 1;
    r->state = READ_MEMBER;
    r->first = true;
    m->reader = r;
    return 0;
}

int
agent_map_read_begin(struct agent_map *m, const char *json, size_t len,
                     char *err, size_t errlen)
{
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, json, len);
    return agent_map_read_take(m, copy, len, err, errlen);
}

bool
agent_map_reading(const struct agent_map *m)
{
    return m->reader != NULL;
}

int
agent_map_read_step(struct agent_map *m, size_t *budget, char *err,
                    size_t errlen)
{
    struct amap_reader *r = m->reader;
    if (!r) {
        return fail(err, errlen, "no answer is being read");
    }
    while (*budget) {
        int rc;
        if (r->state == READ_MEMBER) {
            rc = read_member(m, err, errlen);
        } else if (r->state == READ_ENTRIES) {
            rc = read_entry(m, err, errlen);
            --*budget;
        } else if (r->full && r->version >= m->version) {
            /* The new table, built aside: the map keeps serving. */
            if (!r->shadow) {
                r->shadow = table_create(); /* its room at once: cheap */
                if (strmap_reserve(&r->shadow->index, r->n)) {
                    abort(); /* no memory: as xmalloc */
                }
                r->shadow->e = xgrow(r->shadow->e, &r->shadow->cap,
                                     r->n ? r->n : 1, sizeof *r->shadow->e);
            }
            size_t n = r->n - r->built < *budget ? r->n - r->built : *budget;
            build(r->shadow, r->st + r->built, n);
            r->built += n;
            *budget -= n;
            rc = r->built < r->n ? EAGAIN : 0;
        } else {
            rc = 0;
        }
        if (rc != EAGAIN) {
            if (rc) {
                return rc; /* the reader is gone, nothing applied */
            }
            /* An answer older than the map (a push overtook the poll)
             * would take entries back to older states: nothing in it is
             * new.  A full one built against an older map is built. */
            if (r->version >= m->version) {
                struct amap_table *shadow = r->shadow;
                r->shadow = NULL;
                commit(m, r->st, r->n, r->full, r->version, shadow);
            }
            m->polled = r->version;
            reader_free(m->reader);
            m->reader = NULL;
            return 0;
        }
    }
    return EAGAIN;
}

int
agent_map_apply(struct agent_map *m, const char *json, size_t len, char *err,
                size_t errlen)
{
    int rc = agent_map_read_begin(m, json, len, err, errlen);
    if (!rc) {
        size_t budget = SIZE_MAX;
        rc = agent_map_read_step(m, &budget, err, errlen);
    }
    return rc;
}

const struct vm_changes *
agent_map_changes(const struct agent_map *m)
{
    return &m->changes;
}

void
agent_map_clear_changes(struct agent_map *m)
{
    vm_changes_clear(&m->changes);
}
