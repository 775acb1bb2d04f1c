/* rest_lists.c: the REST API's lists -- nodes, VMs, bindings, tasks and
 * migrations -- with their filters and pagination (docs/api.yaml,
 * "Lists").
 *
 * A list is collected (filters applied), sorted in its documented order,
 * and cut into a page: "marker" is the sort key of the last item of the
 * previous page (its answer's "next"), so a page starts after it even when
 * that item is gone meanwhile.  Reads the core; changes nothing. */
#include "controller/rest_lists.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/rest_transfers.h"
#include "controller/rest_views.h"
#include "controller/transfers.h"
#include "lib/addr.h"
#include "lib/json.h"
#include "lib/util.h"
#include "mignet/binding.h"
#include "mignet/core.h"

/* One item of a list: its sort key (a name, or one or two numbers) and
 * where to find it. */
struct rest_item {
    const char *name; /* by name; NULL: by (k1, k2) */
    uint64_t k1, k2;
    size_t ref;
};

struct rest_list {
    struct rest_item *v;
    size_t n, cap;
    bool descending; /* newest (highest key) first */
};

static void
rest_list_add(struct rest_list *l, const char *name, uint64_t k1,
              uint64_t k2, size_t ref)
{
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof *l->v);
    l->v[l->n++] = (struct rest_item){name, k1, k2, ref};
}

static int
rest_item_cmp(const struct rest_item *a, const struct rest_item *b)
{
    if (a->name || b->name) {
        return strcmp(a->name ? a->name : "", b->name ? b->name : "");
    }
    if (a->k1 != b->k1) {
        return a->k1 < b->k1 ? -1 : 1;
    }
    return a->k2 < b->k2 ? -1 : a->k2 > b->k2;
}

static int
rest_item_asc(const void *a, const void *b)
{
    return rest_item_cmp(a, b);
}

static int
rest_item_desc(const void *a, const void *b)
{
    return rest_item_cmp(b, a);
}

/* The marker of 'it' (its "next"): the name, "K1", or "K1.K2". */
static void
rest_item_marker(const struct rest_item *it, bool two, char *out, size_t n)
{
    if (it->name) {
        snprintf(out, n, "%s", it->name);
    } else if (two) {
        snprintf(out, n, "%" PRIu64 ".%" PRIu64, it->k1, it->k2);
    } else {
        snprintf(out, n, "%" PRIu64, it->k1);
    }
}

/* Parses 'marker' into the key of the list's items. */
static bool
rest_marker_key(const char *marker, bool by_name, bool two,
                struct rest_item *key, struct rest_error *e)
{
    memset(key, 0, sizeof *key);
    if (by_name) {
        key->name = marker;
        return true;
    }
    char a[REST_MARKER_MAX + 1];
    snprintf(a, sizeof a, "%s", marker);
    char *dot = strchr(a, '.');
    if (dot) {
        *dot = '\0';
    }
    if (!addr_parse_u64(a, 0, UINT64_MAX, &key->k1)
        || (two != (dot != NULL))
        || (dot && !addr_parse_u64(dot + 1, 0, UINT64_MAX, &key->k2))) {
        return rest_fail(e, 400, "bad_query",
                         "'marker' is not a 'next' of this list");
    }
    return true;
}

typedef json_t *rest_render_fn(struct ctl *, void *aux, size_t ref);

/* Sorts 'l', cuts the page 'q' asks for, and answers {"NAME": [...],
 * "next": marker or null}. */
static bool
rest_page(struct ctl *ctl, struct rest_list *l, bool by_name, bool two,
          const struct rest_list_query *q, const char *name,
          rest_render_fn *render, void *aux, json_t **out,
          struct rest_error *e)
{
    if (l->n) {
        qsort(l->v, l->n, sizeof *l->v,
              l->descending ? rest_item_desc : rest_item_asc);
    }
    size_t start = 0;
    if (q->marker[0]) {
        struct rest_item key;
        if (!rest_marker_key(q->marker, by_name, two, &key, e)) {
            free(l->v);
            return false;
        }
        while (start < l->n
               && (l->descending ? rest_item_cmp(&l->v[start], &key) >= 0
                                 : rest_item_cmp(&l->v[start], &key) <= 0)) {
            start++;
        }
    }
    size_t end = l->n;
    if (q->limit && end - start > q->limit) {
        end = start + q->limit;
    }
    json_t *list = json_array();
    for (size_t i = start; i < end; i++) {
        json_t *o = render(ctl, aux, l->v[i].ref);
        if (o && json_array_append_new(list, o)) {
            out_of_memory();
        }
    }
    json_t *next = json_null();
    if (end < l->n && end > start) {
        char m[REST_MARKER_MAX + 1];
        rest_item_marker(&l->v[end - 1], two, m, sizeof m);
        next = json_string(m);
    }
    free(l->v);
    *out = json_pack("{s:o,s:o}", name, list, "next", next);
    if (!*out) {
        out_of_memory();
    }
    return true;
}

/* ---- Nodes and VMs, by id ---- */

static json_t *
rest_render_node(struct ctl *ctl, void *aux, size_t ref)
{
    (void) aux;
    return rest_node_json(ctl, (uint32_t) ref);
}

static bool
rest_nodes(struct ctl *ctl, const struct rest_list_query *q, json_t **out,
           struct rest_error *e)
{
    struct rest_list l = {0};
    struct core_node_info *info = xcalloc(core_n_nodes(ctl->core) + 1,
                                          sizeof *info);
    for (uint32_t i = 0; i < core_n_nodes(ctl->core); i++) {
        if (core_node_info(ctl->core, i, &info[i])) {
            rest_list_add(&l, info[i].name, 0, 0, i);
        }
    }
    bool ok = rest_page(ctl, &l, true, false, q, "nodes", rest_render_node,
                        NULL, out, e);
    free(info);
    return ok;
}

static json_t *
rest_render_vm(struct ctl *ctl, void *aux, size_t ref)
{
    (void) aux;
    return rest_vm_json(ctl, (uint32_t) ref);
}

static bool
rest_vms(struct ctl *ctl, const struct rest_list_query *q, json_t **out,
         struct rest_error *e)
{
    struct rest_list l = {0};
    size_t n = core_n_vms(ctl->core);
    struct core_vm_info *info = xcalloc(n + 1, sizeof *info);
    for (uint32_t i = 0; i < n; i++) {
        if (!core_vm_info(ctl->core, i, &info[i])) {
            continue;
        }
        const char *node = rest_node_name(ctl->core, info[i].node);
        if (q->node[0] && (!node || strcmp(node, q->node))) {
            continue;
        }
        rest_list_add(&l, info[i].name, 0, 0, i);
    }
    bool ok = rest_page(ctl, &l, true, false, q, "vms", rest_render_vm,
                        NULL, out, e);
    free(info);
    return ok;
}

/* ---- Bindings, by id ---- */

static json_t *
rest_render_binding(struct ctl *ctl, void *aux, size_t ref)
{
    (void) ctl;
    const struct binding **v = aux;
    return rest_binding_json(v[ref]);
}

static bool
rest_bindings(struct ctl *ctl, const struct rest_list_query *q, json_t **out,
              struct rest_error *e)
{
    size_t n = core_n_bindings(ctl->core), k = 0;
    const struct binding **v = xcalloc(n + 1, sizeof *v);
    struct rest_list l = {0};
    uint32_t cursor = 0;
    for (const struct binding *b;
         k < n && (b = core_binding_next(ctl->core, &cursor));) {
        if ((q->vm[0] && strcmp(b->vm, q->vm))
            || (q->node[0] && strcmp(b->node, q->node))) {
            continue;
        }
        v[k] = b;
        rest_list_add(&l, NULL, b->id, 0, k++);
    }
    bool ok = rest_page(ctl, &l, false, false, q, "bindings",
                        rest_render_binding, v, out, e);
    free(v);
    return ok;
}

/* ---- Tasks, earliest due first ---- */

struct rest_tasks {
    struct ctl *ctl;
    const struct rest_list_query *q;
    struct core_task_info *v;
    size_t n, cap;
};

static bool
rest_task_collect(void *aux, const struct core_task_info *t)
{
    struct rest_tasks *ts = aux;
    struct core_vm_info vi;
    if (ts->q->vm[0] && (!core_vm_info(ts->ctl->core, t->vm, &vi)
                         || strcmp(vi.name, ts->q->vm))) {
        return true;
    }
    const char *node = rest_node_name(ts->ctl->core, t->node);
    if (ts->q->node[0] && (!node || strcmp(node, ts->q->node))) {
        return true;
    }
    ts->v = xgrow(ts->v, &ts->cap, ts->n + 1, sizeof *ts->v);
    ts->v[ts->n++] = *t;
    return true;
}

static json_t *
rest_render_task(struct ctl *ctl, void *aux, size_t ref)
{
    const struct core_task_info *v = aux;
    return rest_task_json(ctl, &v[ref]);
}

static bool
rest_tasks(struct ctl *ctl, const struct rest_list_query *q, json_t **out,
           struct rest_error *e)
{
    struct rest_tasks ts = {.ctl = ctl, .q = q};
    core_tasks_walk(ctl->core, rest_task_collect, &ts);
    struct rest_list l = {0};
    for (size_t i = 0; i < ts.n; i++) {
        /* A deletion without a due time yet (UINT64_MAX) comes last. */
        rest_list_add(&l, NULL, ts.v[i].due_ms, ts.v[i].id, i);
    }
    bool ok = rest_page(ctl, &l, false, true, q, "tasks", rest_render_task,
                        ts.v, out, e);
    free(ts.v);
    return ok;
}

/* ---- Migrations, newest first ---- */

static json_t *
rest_render_migration(struct ctl *ctl, void *aux, size_t ref)
{
    (void) aux;
    struct core_migration m;
    if (!core_migration_get(ctl->core, ref, &m)) {
        return NULL;
    }
    return rest_migration_json(ctl, &m);
}

static bool
rest_migrations(struct ctl *ctl, const struct rest_list_query *q,
                json_t **out, struct rest_error *e)
{
    struct rest_list l = {.descending = true};
    uint64_t n = core_n_migrations(ctl->core);
    for (uint64_t id = 1; id <= n; id++) {
        struct core_migration m;
        if (!core_migration_get(ctl->core, id, &m)
            || (q->vm[0] && strcmp(m.vm_name, q->vm))
            || (q->node[0] && strcmp(m.src_name, q->node)
                && strcmp(m.dst_name, q->node))
            || (q->has_phase && m.phase != q->phase)) {
            continue;
        }
        rest_list_add(&l, NULL, id, 0, id);
    }
    return rest_page(ctl, &l, false, false, q, "migrations",
                     rest_render_migration, NULL, out, e);
}

/* ---- Transfers, newest first; pairs in the order first reported ---- */

static json_t *
rest_render_transfer(struct ctl *ctl, void *aux, size_t ref)
{
    (void) aux;
    return rest_transfer_json(transfers_get(ctl->transfers, ref));
}

static bool
rest_transfers(struct ctl *ctl, const struct rest_list_query *q,
               json_t **out, struct rest_error *e)
{
    struct rest_list l = {.descending = true};
    for (size_t i = 0; i < transfers_n(ctl->transfers); i++) {
        const struct transfer_entry *t = transfers_get(ctl->transfers, i);
        if (q->node[0] && strcmp(t->from, q->node)
            && strcmp(t->to, q->node)) {
            continue;
        }
        rest_list_add(&l, NULL, t->id, 0, i);
    }
    return rest_page(ctl, &l, false, false, q, "transfers",
                     rest_render_transfer, NULL, out, e);
}

static json_t *
rest_render_pair(struct ctl *ctl, void *aux, size_t ref)
{
    (void) aux;
    return rest_transfer_pair_json(ctl, transfers_pair(ctl->transfers, ref));
}

static bool
rest_transfer_pairs(struct ctl *ctl, const struct rest_list_query *q,
                    json_t **out, struct rest_error *e)
{
    struct rest_list l = {0};
    /* Pairs are never forgotten while mignetd runs: a pair's place in
     * the table (from 1) is its stable key and marker. */
    for (size_t i = 0; i < transfers_n_pairs(ctl->transfers); i++) {
        const struct transfer_pair *p = transfers_pair(ctl->transfers, i);
        if (q->node[0] && strcmp(p->from, q->node)
            && strcmp(p->to, q->node)) {
            continue;
        }
        rest_list_add(&l, NULL, i + 1, 0, i);
    }
    return rest_page(ctl, &l, false, false, q, "pairs", rest_render_pair,
                     NULL, out, e);
}

bool
rest_list_answer(struct ctl *ctl, enum rest_route_id route,
                 const char *query, json_t **out, struct rest_error *e)
{
    static const struct {
        enum rest_route_id route;
        unsigned filters;
        bool (*list)(struct ctl *, const struct rest_list_query *,
                     json_t **, struct rest_error *);
    } lists[] = {
        {REST_R_NODES, 0, rest_nodes},
        {REST_R_VMS, REST_Q_NODE, rest_vms},
        {REST_R_BINDINGS, REST_Q_NODE | REST_Q_VM, rest_bindings},
        {REST_R_TASKS, REST_Q_NODE | REST_Q_VM, rest_tasks},
        {REST_R_MIGRATIONS, REST_Q_NODE | REST_Q_VM | REST_Q_PHASE,
         rest_migrations},
        {REST_R_TRANSFERS, REST_Q_NODE, rest_transfers},
        {REST_R_TRANSFER_PAIRS, REST_Q_NODE, rest_transfer_pairs},
    };
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        if (lists[i].route == route) {
            struct rest_list_query q;
            return rest_parse_list_query(query, lists[i].filters, &q, e)
                   && lists[i].list(ctl, &q, out, e);
        }
    }
    return rest_fail(e, 404, "not_found", "no such resource");
}
