/* router.c: routes between hosts over the fabric: single (BFS), ECMP and
 * D-R (seed 002 §4.2: Dijkstra over per-period port byte counts, chosen
 * links at the maximum weight until the next period).
 *
 * Sans-I/O: statistics and periods come from the caller.  A route never
 * passes through a host, and no query allocates more than its answer:
 * scratch space is sized once at router_create(). */
#include "mignet/planner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define NONE UINT32_MAX

static const char *const strategy_names[] = {
#define ROUTE_STRATEGY(ENUM, NAME, MSG) NAME,
    ROUTE_STRATEGIES
#undef ROUTE_STRATEGY
};

const char *
route_strategy_name(enum route_strategy s)
{
    return (unsigned) s < ROUTE_N_STRATEGIES ? strategy_names[s] : "unknown";
}

bool
route_strategy_from_name(const char *name, enum route_strategy *s)
{
    size_t i = name_index(strategy_names, ROUTE_N_STRATEGIES, name);
    if (i == ROUTE_N_STRATEGIES) {
        return false;
    }
    *s = (enum route_strategy) i;
    return true;
}

void
route_init(struct route *r)
{
    *r = (struct route) {.src = NONE, .dst = NONE};
}

void
route_destroy(struct route *r)
{
    if (r) {
        free(r->links);
        free(r->nodes);
        free(r->hops);
        route_init(r);
    }
}

bool
route_equal(const struct route *a, const struct route *b)
{
    return a->src == b->src && a->dst == b->dst && a->n_links == b->n_links
           && (!a->n_links
               || !memcmp(a->links, b->links, a->n_links * sizeof *a->links));
}

/* Allocates the arrays of a route with 'n_links' links and 'n_hops'
 * switches; 'r' is left init'ed on failure. */
static int
route_alloc(struct route *r, size_t n_links, size_t n_hops)
{
    route_destroy(r);
    r->links = malloc(n_links * sizeof *r->links);
    r->nodes = malloc((n_links + 1) * sizeof *r->nodes);
    r->hops = malloc((n_hops ? n_hops : 1) * sizeof *r->hops);
    if (!r->links || !r->nodes || !r->hops) {
        route_destroy(r);
        return ENOMEM;
    }
    r->n_links = n_links;
    r->n_hops = n_hops;
    return 0;
}

int
route_copy(struct route *dst, const struct route *src)
{
    struct route tmp;

    route_init(&tmp);
    if (route_alloc(&tmp, src->n_links, src->n_hops)) {
        return ENOMEM;
    }
    memcpy(tmp.links, src->links, src->n_links * sizeof *tmp.links);
    memcpy(tmp.nodes, src->nodes, (src->n_links + 1) * sizeof *tmp.nodes);
    if (src->n_hops) {
        memcpy(tmp.hops, src->hops, src->n_hops * sizeof *tmp.hops);
    }
    tmp.src = src->src;
    tmp.dst = src->dst;
    tmp.weight = src->weight;
    route_destroy(dst);
    *dst = tmp;
    return 0;
}

void
router_config_default(struct router_config *cfg)
{
    *cfg = (struct router_config) {.period_ms = 5000};
}

struct adj {
    uint32_t to;
    uint32_t link;
};

/* Counters of one link end (a switch port; a host end never has any). */
struct port_state {
    bool have;
    uint64_t tx, rx, t_ms;
    double load_tx, load_rx; /* bytes per period */
};

/* Link flags for one query. */
enum { LINK_FREE = 0, LINK_EXCLUDED = 1, LINK_PENALISED = 2 };

struct router {
    const struct fabric *f;
    struct router_config cfg;
    size_t n_nodes, n_links;
    uint32_t *adj_start;        /* n_nodes + 1 */
    struct adj *adj;            /* 2 n_links, by node, in link order */
    struct port_state *ports;   /* link * 2 + end */
    uint64_t *base;             /* measured weight, 1 + bytes a period */
    uint64_t *mark;             /* period in which a route took the link */
    uint64_t period;            /* starts at 1; 0 marks nothing */
    uint8_t *kind;              /* per node, enum fabric_kind */

    /* Scratch. */
    uint64_t *dist;
    uint32_t *prev;             /* link by which a node was reached */
    uint32_t *heap;             /* node ids, a binary min-heap */
    uint32_t *heap_pos;         /* node -> heap index, NONE if absent */
    size_t heap_n;
    uint8_t *flags;             /* per link, LINK_* */
    uint64_t *count;            /* ECMP: shortest paths to dst */
    uint32_t *queue;
};

struct router *
router_create(const struct fabric *f, const struct router_config *cfg)
{
    if (!cfg->period_ms) {
        return NULL;
    }
    struct router *r = calloc(1, sizeof *r);
    if (!r) {
        return NULL;
    }
    size_t n = fabric_n_nodes(f);
    size_t m = fabric_n_links(f);
    r->f = f;
    r->cfg = *cfg;
    r->n_nodes = n;
    r->n_links = m;
    r->period = 1;
    r->adj_start = calloc(n + 1, sizeof *r->adj_start);
    r->adj = calloc(2 * m + 1, sizeof *r->adj);
    r->ports = calloc(2 * m + 1, sizeof *r->ports);
    r->base = calloc(m + 1, sizeof *r->base);
    r->mark = calloc(m + 1, sizeof *r->mark);
    r->dist = calloc(n + 1, sizeof *r->dist);
    r->prev = calloc(n + 1, sizeof *r->prev);
    r->heap = calloc(n + 1, sizeof *r->heap);
    r->heap_pos = calloc(n + 1, sizeof *r->heap_pos);
    r->flags = calloc(m + 1, sizeof *r->flags);
    r->kind = calloc(n + 1, sizeof *r->kind);
    r->count = calloc(n + 1, sizeof *r->count);
    r->queue = calloc(n + 1, sizeof *r->queue);
    if (!r->adj_start || !r->adj || !r->ports || !r->base || !r->mark
        || !r->dist
        || !r->prev || !r->heap || !r->heap_pos || !r->flags || !r->count
        || !r->queue || !r->kind) {
        router_destroy(r);
        return NULL;
    }

    for (size_t l = 0; l < m; l++) {
        r->base[l] = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        r->kind[i] = (uint8_t) fabric_node_kind(f, i);
    }
    /* Adjacency in CSR form; within a node, in link order, which is what
     * makes 'single' deterministic. */
    for (uint32_t l = 0; l < m; l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        r->adj_start[lk->node[0] + 1]++;
        r->adj_start[lk->node[1] + 1]++;
    }
    for (size_t i = 0; i < n; i++) {
        r->adj_start[i + 1] += r->adj_start[i];
    }
    uint32_t *fill = r->queue; /* as a cursor per node */
    memcpy(fill, r->adj_start, n * sizeof *fill);
    for (uint32_t l = 0; l < m; l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        for (unsigned e = 0; e < 2; e++) {
            uint32_t a = lk->node[e];
            r->adj[fill[a]++] = (struct adj) {.to = lk->node[!e], .link = l};
        }
    }
    return r;
}

void
router_destroy(struct router *r)
{
    if (r) {
        free(r->adj_start);
        free(r->adj);
        free(r->ports);
        free(r->base);
        free(r->mark);
        free(r->dist);
        free(r->prev);
        free(r->heap);
        free(r->heap_pos);
        free(r->flags);
        free(r->kind);
        free(r->count);
        free(r->queue);
        free(r);
    }
}

const struct fabric *
router_fabric(const struct router *r)
{
    return r->f;
}

void
router_period_begin(struct router *r)
{
    r->period++;
}

/* 1 + the bytes through both ports of 'link' in a period: the 1 a hop
 * makes an idle fabric take shortest paths. */
static uint64_t
measured_weight(const struct router *r, uint32_t link)
{
    const struct port_state *p = &r->ports[link * 2];
    double bytes = p[0].load_tx + p[0].load_rx + p[1].load_tx + p[1].load_rx;

    if (bytes >= (double) (ROUTER_WEIGHT_MAX - 2)) {
        return ROUTER_WEIGHT_MAX - 1;
    }
    return 1 + (uint64_t) bytes;
}

int
router_port_stats(struct router *r, uint64_t dpid, uint32_t port,
                  uint64_t tx, uint64_t rx, uint64_t now_ms)
{
    uint32_t node, link;
    unsigned end;

    if (!fabric_find_dpid(r->f, dpid, &node)
        || !fabric_port_link(r->f, node, port, &link, &end)
        || link >= r->n_links) {
        return ENOENT;
    }
    struct port_state *ps = &r->ports[link * 2 + end];
    if (ps->have) {
        if (now_ms <= ps->t_ms) {
            return EINVAL;
        }
        /* A counter that went back was reset: count from zero. */
        uint64_t dtx = tx >= ps->tx ? tx - ps->tx : tx;
        uint64_t drx = rx >= ps->rx ? rx - ps->rx : rx;
        double dt = (double) (now_ms - ps->t_ms);
        double scale = (double) r->cfg.period_ms / dt;
        ps->load_tx = (double) dtx * scale;
        ps->load_rx = (double) drx * scale;
    }
    ps->have = true;
    ps->tx = tx;
    ps->rx = rx;
    ps->t_ms = now_ms;
    r->base[link] = measured_weight(r, link);
    return 0;
}

static bool
marked(const struct router *r, uint32_t link)
{
    return r->mark[link] == r->period;
}

uint64_t
router_link_weight(const struct router *r, uint32_t link)
{
    if (link >= r->n_links) {
        return ROUTER_WEIGHT_MAX;
    }
    return marked(r, link) ? ROUTER_WEIGHT_MAX : r->base[link];
}

double
router_link_residual_bps(const struct router *r, uint32_t link,
                         unsigned from_end)
{
    const struct fabric_link *lk = fabric_link(r->f, link);
    if (!lk || link >= r->n_links || from_end > 1) {
        return 0;
    }
    /* Bytes leaving 'from_end' are its tx and the far end's rx; a host
     * end has no counters, so take whichever side measured more. */
    const struct port_state *p = &r->ports[link * 2];
    double tx = p[from_end].load_tx;
    double rx = p[!from_end].load_rx;
    double bytes = tx > rx ? tx : rx;
    double used = bytes * 8.0 * 1000.0 / (double) r->cfg.period_ms;
    double left = (double) lk->capacity_bps - used;
    return left > 0 ? left : 0;
}

void
router_mark(struct router *r, const struct route *route)
{
    for (size_t i = 0; i < route->n_links; i++) {
        if (route->links[i] < r->n_links) {
            r->mark[route->links[i]] = r->period;
        }
    }
}

/* Whether a route may leave 'node': the source, or any switch. */
static bool
transit(const struct router *r, uint32_t node, uint32_t src)
{
    return node == src || r->kind[node] == FABRIC_SWITCH;
}

/* Fills 'out' from r->prev, walking back from 'dst'. */
static int
build_route(struct router *r, uint32_t src, uint32_t dst, uint64_t weight,
            struct route *out)
{
    size_t n = 0;
    for (uint32_t v = dst; v != src; n++) {
        const struct fabric_link *lk = fabric_link(r->f, r->prev[v]);
        v = lk->node[0] == v ? lk->node[1] : lk->node[0];
    }
    if (route_alloc(out, n, n ? n - 1 : 0)) {
        return ENOMEM;
    }
    out->src = src;
    out->dst = dst;
    out->weight = weight;
    out->nodes[n] = dst;
    for (uint32_t v = dst, i = (uint32_t) n; v != src;) {
        uint32_t l = r->prev[v];
        const struct fabric_link *lk = fabric_link(r->f, l);
        v = lk->node[0] == v ? lk->node[1] : lk->node[0];
        out->links[--i] = l;
        out->nodes[i] = v;
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t v = out->nodes[i];
        const struct fabric_link *in = fabric_link(r->f, out->links[i - 1]);
        const struct fabric_link *o = fabric_link(r->f, out->links[i]);
        out->hops[i - 1] = (struct route_hop) {
            .dpid = fabric_node_dpid(r->f, v),
            .node = v,
            .in_port = in->node[0] == v ? in->port[0] : in->port[1],
            .out_port = o->node[0] == v ? o->port[0] : o->port[1],
        };
    }
    return 0;
}

/* Binary min-heap of nodes by (dist, node id); ties go to the lower id so
 * that equal-weight choices are deterministic. */
static bool
heap_less(const struct router *r, uint32_t a, uint32_t b)
{
    return r->dist[a] < r->dist[b] || (r->dist[a] == r->dist[b] && a < b);
}

static void
heap_swap(struct router *r, size_t i, size_t j)
{
    uint32_t t = r->heap[i];
    r->heap[i] = r->heap[j];
    r->heap[j] = t;
    r->heap_pos[r->heap[i]] = (uint32_t) i;
    r->heap_pos[r->heap[j]] = (uint32_t) j;
}

static void
heap_up(struct router *r, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(r, r->heap[i], r->heap[parent])) {
            break;
        }
        heap_swap(r, i, parent);
        i = parent;
    }
}

static void
heap_down(struct router *r, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        if (l < r->heap_n && heap_less(r, r->heap[l], r->heap[best])) {
            best = l;
        }
        if (l + 1 < r->heap_n
            && heap_less(r, r->heap[l + 1], r->heap[best])) {
            best = l + 1;
        }
        if (best == i) {
            return;
        }
        heap_swap(r, i, best);
        i = best;
    }
}

/* Inserts 'v' or, if present, moves it up after its dist decreased. */
static void
heap_push(struct router *r, uint32_t v)
{
    if (r->heap_pos[v] == NONE) {
        r->heap[r->heap_n] = v;
        r->heap_pos[v] = (uint32_t) r->heap_n;
        r->heap_n++;
    }
    heap_up(r, r->heap_pos[v]);
}

static uint32_t
heap_pop(struct router *r)
{
    uint32_t v = r->heap[0];
    r->heap_n--;
    if (r->heap_n) {
        heap_swap(r, 0, r->heap_n);
        heap_down(r, 0);
    }
    r->heap_pos[v] = NONE;
    return v;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Dijkstra from 'src' to 'dst' over weights, honouring r->flags. */
static int
dijkstra(struct router *r, uint32_t src, uint32_t dst, struct route *out)
{
    for (size_t i = 0; i < r->n_nodes; i++) {
        r->dist[i] = UINT64_MAX;
        r->prev[i] = NONE;
        r->heap_pos[i] = NONE;
    }
    r->heap_n = 0;
    r->dist[src] = 0;
    heap_push(r, src);
    while (r->heap_n) {
        uint32_t u = heap_pop(r);
        if (u == dst) {
            return build_route(r, src, dst, r->dist[dst], out);
        }
        if (!transit(r, u, src)) {
            continue;
        }
        for (uint32_t i = r->adj_start[u]; i < r->adj_start[u + 1]; i++) {
            const struct adj *a = &r->adj[i];
            /* Other hosts lead nowhere: keep them out of the heap. */
            if (r->flags[a->link] == LINK_EXCLUDED
                || (a->to != dst && r->kind[a->to] == FABRIC_HOST)) {
                continue;
            }
            uint64_t w = r->flags[a->link] == LINK_PENALISED
                                 || marked(r, a->link)
                             ? ROUTER_WEIGHT_MAX
                             : r->base[a->link];
            uint64_t d = sat_add(r->dist[u], w);
            if (d < r->dist[a->to]) {
                r->dist[a->to] = d;
                r->prev[a->to] = a->link;
                heap_push(r, a->to);
            }
        }
    }
    return ENOENT;
}

/* Breadth-first from 'from' over switches, reaching host 'want' too
 * (no other host) and stopping once it is dequeued.  Leaves hop counts in
 * r->dist (UINT64_MAX: unreached), the discovering link in r->prev and
 * the visiting order in r->queue; returns how many nodes it queued. */
static size_t
bfs(struct router *r, uint32_t from, uint32_t want)
{
    for (size_t i = 0; i < r->n_nodes; i++) {
        r->dist[i] = UINT64_MAX;
        r->prev[i] = NONE;
    }
    size_t head = 0, tail = 0;
    r->dist[from] = 0;
    r->queue[tail++] = from;
    while (head < tail) {
        uint32_t u = r->queue[head++];
        if (u == want) {
            break;
        }
        for (uint32_t i = r->adj_start[u]; i < r->adj_start[u + 1]; i++) {
            const struct adj *a = &r->adj[i];
            if (r->dist[a->to] == UINT64_MAX
                && (a->to == want || r->kind[a->to] == FABRIC_SWITCH)) {
                r->dist[a->to] = r->dist[u] + 1;
                r->prev[a->to] = a->link;
                r->queue[tail++] = a->to;
            }
        }
    }
    return tail;
}

static int
route_single(struct router *r, uint32_t src, uint32_t dst, struct route *out)
{
    bfs(r, src, dst);
    if (r->dist[dst] == UINT64_MAX) {
        return ENOENT;
    }
    return build_route(r, src, dst, r->dist[dst], out);
}

/* Whether 'u' is one hop nearer 'dst' than 'v' after bfs(r, dst, src):
 * only switches, dst and src are ever reached. */
static bool
nearer(const struct router *r, uint32_t u, uint32_t v)
{
    return r->dist[u] != UINT64_MAX && r->dist[u] + 1 == r->dist[v];
}

/* ECMP: count the shortest paths to 'dst' from every node (BFS from
 * 'dst', then a pass in BFS order, which has every node after those
 * nearer), pick number hash(src, dst) mod count and walk it from 'src'. */
static int
route_ecmp(struct router *r, uint32_t src, uint32_t dst, struct route *out)
{
    size_t queued = bfs(r, dst, src);
    if (r->dist[src] == UINT64_MAX) {
        return ENOENT;
    }
    for (size_t q = 0; q < queued; q++) {
        uint32_t v = r->queue[q];
        uint64_t c = v == dst ? 1 : 0;
        for (uint32_t i = r->adj_start[v]; v != dst && i < r->adj_start[v + 1];
             i++) {
            if (nearer(r, r->adj[i].to, v)) {
                c = sat_add(c, r->count[r->adj[i].to]);
            }
        }
        r->count[v] = c;
    }

    uint64_t pick = hash_u64(((uint64_t) src << 32) | dst)
                    % (r->count[src] ? r->count[src] : 1);
    /* Walk from src, recording in r->prev as if searched from src. */
    uint32_t v = src;
    while (v != dst) {
        uint32_t next = NONE, via = NONE;
        for (uint32_t i = r->adj_start[v]; i < r->adj_start[v + 1]; i++) {
            uint32_t u = r->adj[i].to;
            if (!nearer(r, u, v) || !r->count[u]) {
                continue;
            }
            next = u;
            via = r->adj[i].link;
            if (pick < r->count[u]) {
                break;
            }
            pick -= r->count[u];
        }
        if (next == NONE) {
            return ENOENT; /* cannot happen: count[src] > 0 */
        }
        r->prev[next] = via;
        v = next;
    }
    return build_route(r, src, dst, r->dist[src], out);
}

static bool
hosts_ok(const struct router *r, uint32_t src, uint32_t dst)
{
    return src < r->n_nodes && dst < r->n_nodes && src != dst
           && fabric_node_kind(r->f, src) == FABRIC_HOST
           && fabric_node_kind(r->f, dst) == FABRIC_HOST;
}

int
router_find(struct router *r, enum route_strategy s, uint32_t src,
            uint32_t dst, struct route *out)
{
    if (!hosts_ok(r, src, dst)) {
        return EINVAL;
    }
    switch (s) {
    case ROUTE_SINGLE:
        return route_single(r, src, dst, out);
    case ROUTE_ECMP:
        return route_ecmp(r, src, dst, out);
    case ROUTE_DR:
        memset(r->flags, LINK_FREE, r->n_links);
        return dijkstra(r, src, dst, out);
    case ROUTE_N_STRATEGIES:
    default:
        return EINVAL;
    }
}

int
router_route(struct router *r, enum route_strategy s, uint32_t src,
             uint32_t dst, struct route *out)
{
    int err = router_find(r, s, src, dst, out);
    if (!err && s == ROUTE_DR) {
        router_mark(r, out);
    }
    return err;
}

static void
flag_routes(struct router *r, const struct route *in_use, size_t n,
            uint8_t flag)
{
    memset(r->flags, LINK_FREE, r->n_links);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < in_use[i].n_links; j++) {
            if (in_use[i].links[j] < r->n_links) {
                r->flags[in_use[i].links[j]] = flag;
            }
        }
    }
}

/* A host whose every NIC is in use cannot avoid them: free its links
 * from exclusion so "disjoint" means disjoint in the fabric. */
static void
free_unavoidable(struct router *r, uint32_t host)
{
    uint32_t lo = r->adj_start[host], hi = r->adj_start[host + 1];
    for (uint32_t i = lo; i < hi; i++) {
        if (r->flags[r->adj[i].link] != LINK_EXCLUDED) {
            return;
        }
    }
    for (uint32_t i = lo; i < hi; i++) {
        r->flags[r->adj[i].link] = LINK_FREE;
    }
}

int
router_find_extra(struct router *r, uint32_t src, uint32_t dst,
                  const struct route *in_use, size_t n, struct route *out)
{
    if (!hosts_ok(r, src, dst)) {
        return EINVAL;
    }
    flag_routes(r, in_use, n, LINK_EXCLUDED);
    free_unavoidable(r, src);
    free_unavoidable(r, dst);
    int err = dijkstra(r, src, dst, out);
    if (err == ENOENT) {
        /* Nothing disjoint: share as few links in use as possible. */
        flag_routes(r, in_use, n, LINK_PENALISED);
        err = dijkstra(r, src, dst, out);
    }
    memset(r->flags, LINK_FREE, r->n_links);
    if (err) {
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        if (route_equal(out, &in_use[i])) {
            route_destroy(out);
            return ENOENT;
        }
    }
    return 0;
}
