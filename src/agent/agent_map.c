/* agent_map.c: the agent's copy of the gateway map (see agent_map.h).
 *
 * Answers are parsed completely into a staging list before anything is
 * applied, so a bad answer never leaves a half-updated map. */
#include "agent/agent_map.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "mignet/model.h"
#include "lib/strmap.h"
#include "lib/util.h"

struct agent_map {
    struct amap_entry *e;
    size_t n, cap;
    struct strmap index;
    uint64_t version;
    uint64_t polled; /* version of the last poll answer applied */
    struct vm_changes changes; /* entries changed since drained */
};

static const char *
entry_name(const void *aux, uint32_t i)
{
    const struct agent_map *m = aux;
    return m->e[i].vm;
}

struct agent_map *
agent_map_create(void)
{
    struct agent_map *m = xcalloc(1, sizeof *m);
    strmap_init(&m->index, entry_name, m);
    vm_changes_init(&m->changes);
    return m;
}

void
agent_map_destroy(struct agent_map *m)
{
    if (m) {
        strmap_destroy(&m->index);
        vm_changes_destroy(&m->changes);
        free(m->e);
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
    return m->n;
}

const struct amap_entry *
agent_map_entry(const struct agent_map *m, size_t i)
{
    return i < m->n ? &m->e[i] : NULL;
}

const struct amap_entry *
agent_map_find(const struct agent_map *m, const char *vm)
{
    uint32_t i = strmap_find(&m->index, vm);
    return i == STRMAP_NONE ? NULL : &m->e[i];
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

/* Every change goes through reset(), remove_vm() and put_vm(), which
 * record it in the change set, whatever answer or push it came from. */
static void
reset(struct agent_map *m)
{
    strmap_destroy(&m->index);
    strmap_init(&m->index, entry_name, m);
    m->n = 0;
    vm_changes_all(&m->changes);
}

static void
remove_vm(struct agent_map *m, const char *vm)
{
    uint32_t i = strmap_find(&m->index, vm);
    if (i == STRMAP_NONE) {
        return;
    }
    vm_changes_add(&m->changes, vm);
    strmap_remove(&m->index, vm);
    size_t last = m->n - 1;
    if (i != last) {
        strmap_remove(&m->index, m->e[last].vm);
        m->e[i] = m->e[last];
        strmap_insert(&m->index, m->e[i].vm, i);
    }
    m->n--;
}

static void
put_vm(struct agent_map *m, const struct amap_entry *e)
{
    vm_changes_add(&m->changes, e->vm);
    uint32_t i = strmap_find(&m->index, e->vm);
    if (i != STRMAP_NONE) {
        m->e[i] = *e;
        return;
    }
    m->e = xgrow(m->e, &m->cap, m->n + 1, sizeof *m->e);
    m->e[m->n] = *e;
    strmap_insert(&m->index, e->vm, (uint32_t) m->n);
    m->n++;
}

/* Applies checked changes: the whole map when 'full'. */
static void
commit(struct agent_map *m, const struct amap_change *st, size_t n,
       bool full, uint64_t version)
{
    if (full) {
        reset(m);
    }
    for (size_t i = 0; i < n; i++) {
        if (st[i].removed) {
            remove_vm(m, st[i].e.vm);
        } else {
            put_vm(m, &st[i].e);
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
    commit(m, ch, n, since == 0, version);
    return 0;
}

int
agent_map_apply(struct agent_map *m, const char *json, size_t len, char *err,
                size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        return fail(err, errlen, "not JSON: %s", je.text);
    }
    int rc = 0;
    uint64_t version;
    json_t *full = json_object_get(root, "full");
    json_t *entries = json_object_get(root, "entries");
    struct amap_change *st = NULL;
    size_t n = 0;
    if (!json_is_object(root) || !json_is_array(entries)
        || !get_uint(root, "version", UINT64_MAX >> 1, &version)
        || !json_object_get(root, "version")
        || (full && !json_is_boolean(full))) {
        rc = fail(err, errlen, "not a map answer (version, full, entries)");
        goto out;
    }
    n = json_array_size(entries);
    st = xcalloc(n ? n : 1, sizeof *st);
    for (size_t i = 0; i < n; i++) {
        rc = parse_entry(json_array_get(entries, i), &st[i], err, errlen, i);
        if (rc) {
            goto out;
        }
    }
    /* An answer older than the map (a push overtook the poll) would take
     * entries back to older states: nothing in it is new. */
    if (version >= m->version) {
        commit(m, st, n, full && json_is_true(full), version);
    }
    m->polled = version;
out:
    free(st);
    json_decref(root);
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
