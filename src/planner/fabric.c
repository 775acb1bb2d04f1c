/* fabric.c: the fabric model (switches, hosts, links with capacity) and
 * its builders, including the k-ary fat-tree and the seed-002 topology.
 *
 * Every builder validates all of its arguments and reserves all memory
 * before it changes anything, so a failed call leaves the fabric exactly
 * as it was; the topology parser relies on that. */
#include "mignet/planner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strmap.h"
#include "lib/util.h"

struct fnode {
    char name[FABRIC_NAME_MAX + 1];
    enum fabric_kind kind;
    uint64_t dpid;      /* switches */
    uint32_t n_nics;    /* hosts */
};

struct fabric {
    struct fnode *nodes;
    size_t n_nodes, cap_nodes;
    size_t n_hosts;
    struct fabric_link *links;
    size_t n_links, cap_links;
    struct strmap by_name;  /* node ids */
    struct strmap by_dpid;  /* node ids */
    struct strmap by_port;  /* link ends: link * 2 + end */
};

static const char *const err_names[] = {
#define FABRIC_ERR(ENUM, NAME, MSG) NAME,
    FABRIC_ERRORS
#undef FABRIC_ERR
};

static const char *const err_strs[] = {
#define FABRIC_ERR(ENUM, NAME, MSG) MSG,
    FABRIC_ERRORS
#undef FABRIC_ERR
};

const char *
fabric_errname(enum fabric_err e)
{
    return (unsigned) e < FABRIC_N_ERRORS ? err_names[e] : "unknown";
}

const char *
fabric_strerror(enum fabric_err e)
{
    return (unsigned) e < FABRIC_N_ERRORS ? err_strs[e] : "unknown error";
}

static const char *
node_name(const void *f_, uint32_t id)
{
    const struct fabric *f = f_;
    return f->nodes[id].name;
}

struct fabric *
fabric_create(void)
{
    struct fabric *f = calloc(1, sizeof *f);

    if (f) {
        strmap_init(&f->by_name, node_name, f);
        strmap_init(&f->by_dpid, NULL, f);
        strmap_init(&f->by_port, NULL, f);
    }
    return f;
}

void
fabric_destroy(struct fabric *f)
{
    if (f) {
        free(f->nodes);
        free(f->links);
        strmap_destroy(&f->by_name);
        strmap_destroy(&f->by_dpid);
        strmap_destroy(&f->by_port);
        free(f);
    }
}

static bool
name_ok(const char *name)
{
    size_t n = 0;

    for (; name[n]; n++) {
        char c = name[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '.' || c == '_'
                  || c == '-';
        if (!ok || n >= FABRIC_NAME_MAX) {
            return false;
        }
    }
    return n > 0;
}

static uint32_t
dpid_hash(uint64_t dpid)
{
    return (uint32_t) hash_u64(dpid);
}

static bool
dpid_match(const void *f_, uint32_t id, const void *dpid)
{
    const struct fabric *f = f_;
    return f->nodes[id].dpid == *(const uint64_t *) dpid;
}

/* A port: the node and its port number. */
struct port_key {
    uint32_t node, port;
};

static uint32_t
port_hash(uint32_t node, uint32_t port)
{
    return (uint32_t) hash_u64(((uint64_t) node << 32) | port);
}

/* Link end 'e' (link * 2 + end) is port 'key'. */
static bool
port_match(const void *f_, uint32_t e, const void *key_)
{
    const struct fabric *f = f_;
    const struct port_key *key = key_;
    const struct fabric_link *l = &f->links[e / 2];
    return l->node[e % 2] == key->node && l->port[e % 2] == key->port;
}

bool
fabric_find(const struct fabric *f, const char *name, uint32_t *node)
{
    uint32_t id = strmap_find(&f->by_name, name);
    if (id == STRMAP_NONE) {
        return false;
    }
    if (node) {
        *node = id;
    }
    return true;
}

bool
fabric_find_dpid(const struct fabric *f, uint64_t dpid, uint32_t *node)
{
    uint32_t id = strmap_find_keyed(&f->by_dpid, dpid_hash(dpid), dpid_match,
                                    &dpid);
    if (id == STRMAP_NONE) {
        return false;
    }
    if (node) {
        *node = id;
    }
    return true;
}

bool
fabric_port_link(const struct fabric *f, uint32_t node, uint32_t port,
                 uint32_t *link, unsigned *end)
{
    struct port_key key = {.node = node, .port = port};
    uint32_t e = strmap_find_keyed(&f->by_port, port_hash(node, port),
                                   port_match, &key);
    if (e == STRMAP_NONE) {
        return false;
    }
    if (link) {
        *link = e / 2;
    }
    if (end) {
        *end = e % 2;
    }
    return true;
}

/* Grows '*arr' (of '*cap' elements of 'size') to hold one more than 'n'. */
static int
grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) {
        return 0;
    }
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, ncap * size);
    if (!p) {
        return ENOMEM;
    }
    *arr = p;
    *cap = ncap;
    return 0;
}

static enum fabric_err
add_node(struct fabric *f, const char *name, enum fabric_kind kind,
         uint64_t dpid, uint32_t *node)
{
    if (!name_ok(name)) {
        return FABRIC_E_BAD_NAME;
    }
    if (fabric_find(f, name, NULL)) {
        return FABRIC_E_DUP_NAME;
    }
    if (kind == FABRIC_SWITCH) {
        if (!dpid) {
            return FABRIC_E_BAD_DPID;
        }
        if (fabric_find_dpid(f, dpid, NULL)) {
            return FABRIC_E_DUP_DPID;
        }
    }
    if (f->n_nodes >= FABRIC_MAX_NODES) {
        return FABRIC_E_TOO_MANY;
    }
    if (grow((void **) &f->nodes, &f->cap_nodes, f->n_nodes, sizeof *f->nodes)
        || strmap_reserve(&f->by_name, 1) || strmap_reserve(&f->by_dpid, 1)) {
        return FABRIC_E_NOMEM;
    }

    uint32_t id = (uint32_t) f->n_nodes++;
    struct fnode *n = &f->nodes[id];
    *n = (struct fnode) {.kind = kind, .dpid = dpid};
    snprintf(n->name, sizeof n->name, "%s", name);
    strmap_insert(&f->by_name, name, id);
    if (kind == FABRIC_SWITCH) {
        strmap_insert_keyed(&f->by_dpid, dpid_hash(dpid), id);
    } else {
        f->n_hosts++;
    }
    if (node) {
        *node = id;
    }
    return FABRIC_E_OK;
}

enum fabric_err
fabric_add_switch(struct fabric *f, const char *name, uint64_t dpid,
                  uint32_t *node)
{
    return add_node(f, name, FABRIC_SWITCH, dpid, node);
}

enum fabric_err
fabric_add_host(struct fabric *f, const char *name, uint32_t *node)
{
    return add_node(f, name, FABRIC_HOST, 0, node);
}

static enum fabric_err
check_end(const struct fabric *f, uint32_t node, uint32_t port,
          enum fabric_kind kind)
{
    if (node >= f->n_nodes || f->nodes[node].kind != kind) {
        return kind == FABRIC_SWITCH ? FABRIC_E_UNKNOWN_SWITCH
                                     : FABRIC_E_UNKNOWN_HOST;
    }
    if (port == 0 || port > FABRIC_PORT_MAX) {
        return FABRIC_E_BAD_PORT;
    }
    if (fabric_port_link(f, node, port, NULL, NULL)) {
        return FABRIC_E_PORT_IN_USE;
    }
    return FABRIC_E_OK;
}

static enum fabric_err
add_link(struct fabric *f, uint32_t a, uint32_t pa, uint32_t b, uint32_t pb,
         uint64_t bps, uint32_t *link)
{
    if (bps == 0 || bps > FABRIC_MAX_BPS) {
        return FABRIC_E_BAD_RATE;
    }
    if (f->n_links >= FABRIC_MAX_LINKS) {
        return FABRIC_E_TOO_MANY;
    }
    if (grow((void **) &f->links, &f->cap_links, f->n_links, sizeof *f->links)
        || strmap_reserve(&f->by_port, 2)) {
        return FABRIC_E_NOMEM;
    }

    uint32_t id = (uint32_t) f->n_links++;
    f->links[id] = (struct fabric_link) {
        .node = {a, b},
        .port = {pa, pb},
        .capacity_bps = bps,
    };
    strmap_insert_keyed(&f->by_port, port_hash(a, pa), id * 2);
    strmap_insert_keyed(&f->by_port, port_hash(b, pb), id * 2 + 1);
    if (link) {
        *link = id;
    }
    return FABRIC_E_OK;
}

enum fabric_err
fabric_attach(struct fabric *f, uint32_t host, uint32_t sw, uint32_t port,
              uint64_t bps, uint32_t *link)
{
    if (host >= f->n_nodes || f->nodes[host].kind != FABRIC_HOST) {
        return FABRIC_E_UNKNOWN_HOST;
    }
    enum fabric_err e = check_end(f, sw, port, FABRIC_SWITCH);
    if (e) {
        return e;
    }
    /* A host's port is its NIC number; the first NIC is 1. */
    uint32_t nic = f->nodes[host].n_nics + 1;
    e = add_link(f, sw, port, host, nic, bps, link);
    if (!e) {
        f->nodes[host].n_nics = nic;
    }
    return e;
}

enum fabric_err
fabric_add_link(struct fabric *f, uint32_t a, uint32_t pa, uint32_t b,
                uint32_t pb, uint64_t bps, uint32_t *link)
{
    enum fabric_err e = check_end(f, a, pa, FABRIC_SWITCH);
    if (!e) {
        e = check_end(f, b, pb, FABRIC_SWITCH);
    }
    if (!e && a == b) {
        e = FABRIC_E_SELF_LOOP;
    }
    return e ? e : add_link(f, a, pa, b, pb, bps, link);
}

size_t
fabric_n_nodes(const struct fabric *f)
{
    return f->n_nodes;
}

size_t
fabric_n_links(const struct fabric *f)
{
    return f->n_links;
}

size_t
fabric_n_hosts(const struct fabric *f)
{
    return f->n_hosts;
}

const char *
fabric_node_name(const struct fabric *f, uint32_t node)
{
    return node < f->n_nodes ? f->nodes[node].name : NULL;
}

enum fabric_kind
fabric_node_kind(const struct fabric *f, uint32_t node)
{
    return node < f->n_nodes ? f->nodes[node].kind : FABRIC_SWITCH;
}

uint64_t
fabric_node_dpid(const struct fabric *f, uint32_t node)
{
    return node < f->n_nodes ? f->nodes[node].dpid : 0;
}

const struct fabric_link *
fabric_link(const struct fabric *f, uint32_t link)
{
    return link < f->n_links ? &f->links[link] : NULL;
}

/* Builders of known topologies.  They name nodes with snprintf into
 * buffers far larger than any name they make. */

enum fabric_err
fabric_fat_tree(unsigned k, uint64_t host_bps, uint64_t fabric_bps,
                struct fabric **fabricp)
{
    if (k < 2 || k > 48 || k % 2) {
        return FABRIC_E_BAD_ARG;
    }
    struct fabric *f = fabric_create();
    if (!f) {
        return FABRIC_E_NOMEM;
    }

    unsigned h = k / 2;
    uint64_t dpid = 1;
    enum fabric_err e = FABRIC_E_OK;
    char name[32];
    /* Node ids in creation order: cores, then per pod aggs, edges. */
    uint32_t core0 = 0;

    for (unsigned c = 0; !e && c < h * h; c++) {
        snprintf(name, sizeof name, "c%u", c + 1);
        e = fabric_add_switch(f, name, dpid++, NULL);
    }
    for (unsigned p = 0; !e && p < k; p++) {
        uint32_t agg0 = (uint32_t) fabric_n_nodes(f);
        for (unsigned i = 0; !e && i < h; i++) {
            snprintf(name, sizeof name, "a%u_%u", p + 1, i + 1);
            e = fabric_add_switch(f, name, dpid++, NULL);
        }
        uint32_t edge0 = (uint32_t) fabric_n_nodes(f);
        for (unsigned i = 0; !e && i < h; i++) {
            snprintf(name, sizeof name, "e%u_%u", p + 1, i + 1);
            e = fabric_add_switch(f, name, dpid++, NULL);
        }
        /* Aggregation switch i takes cores i*h .. i*h + h-1 on its up
         * ports; core c meets pod p on its port p + 1. */
        for (unsigned i = 0; !e && i < h; i++) {
            for (unsigned j = 0; !e && j < h; j++) {
                uint32_t core = core0 + i * h + j;
                e = fabric_add_link(f, agg0 + i, h + 1 + j, core, p + 1,
                                    fabric_bps, NULL);
            }
        }
        /* Edge i, up port h+1+j, to aggregation j, down port i+1. */
        for (unsigned i = 0; !e && i < h; i++) {
            for (unsigned j = 0; !e && j < h; j++) {
                e = fabric_add_link(f, edge0 + i, h + 1 + j, agg0 + j, i + 1,
                                    fabric_bps, NULL);
            }
        }
        for (unsigned i = 0; !e && i < h; i++) {
            for (unsigned j = 0; !e && j < h; j++) {
                uint32_t host;
                snprintf(name, sizeof name, "h%u_%u_%u", p + 1, i + 1, j + 1);
                e = fabric_add_host(f, name, &host);
                if (!e) {
                    e = fabric_attach(f, host, edge0 + i, j + 1, host_bps,
                                      NULL);
                }
            }
        }
    }
    if (e) {
        fabric_destroy(f);
        return e;
    }
    *fabricp = f;
    return FABRIC_E_OK;
}

enum fabric_err
fabric_seed002(uint64_t bps, struct fabric **fabricp)
{
    struct fabric *f = fabric_create();
    if (!f) {
        return FABRIC_E_NOMEM;
    }

    enum fabric_err e = FABRIC_E_OK;
    char name[16];
    uint32_t sw[5];

    for (unsigned i = 0; !e && i < 5; i++) {
        snprintf(name, sizeof name, "s%u", i + 1);
        e = fabric_add_switch(f, name, i + 1, &sw[i]);
    }
    /* Core s(c+1), port 1 to s4 and port 2 to s5; edges use ports 4..6
     * upward, so paths (5, c, 4) exist for c = 1, 2, 3. */
    for (unsigned c = 0; !e && c < 3; c++) {
        e = fabric_add_link(f, sw[c], 1, sw[3], 4 + c, bps, NULL);
        if (!e) {
            e = fabric_add_link(f, sw[c], 2, sw[4], 4 + c, bps, NULL);
        }
    }
    for (unsigned i = 0; !e && i < 6; i++) {
        uint32_t host;
        snprintf(name, sizeof name, "h%u", i + 1);
        e = fabric_add_host(f, name, &host);
        if (!e) {
            e = fabric_attach(f, host, sw[i < 3 ? 3 : 4], i % 3 + 1, bps,
                              NULL);
        }
    }
    if (e) {
        fabric_destroy(f);
        return e;
    }
    *fabricp = f;
    return FABRIC_E_OK;
}
