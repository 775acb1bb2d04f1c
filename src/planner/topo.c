/* topo.c: the topology file format: fabric_parse() and fabric_format().
 *
 * The parser reads untrusted text: every read is bounds-checked against
 * 'len', every number overflow-checked, and an error anywhere discards
 * the whole fabric so the caller never sees a partial graph.  It never
 * allocates per byte or recurses. */
#include "mignet/planner.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Fields kept of a line: the longest statement (link) has 4; the 5th is
 * kept so that arity() can point at it. */
#define MAX_FIELDS 5

struct field {
    const char *p;
    size_t len;
    size_t col; /* 1-based */
};

struct line {
    struct field f[MAX_FIELDS];
    size_t n;
    size_t no; /* 1-based line number */
};

struct parse {
    struct fabric *fabric;
    struct fabric_parse_error *err;
};

static uint32_t
clamp32(size_t x)
{
    return x > UINT32_MAX ? UINT32_MAX : (uint32_t) x;
}

/* Records an error at 'line':'col'; 'fmt' adds detail after the code's
 * message.  Returns 'code'. */
static enum fabric_err fail(struct parse *, enum fabric_err, size_t line,
                            size_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum fabric_err
fail(struct parse *ps, enum fabric_err code, size_t line, size_t col,
     const char *fmt, ...)
{
    struct fabric_parse_error *err = ps->err;
    if (!err) {
        return code;
    }
    char detail[96] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    err->code = code;
    err->line = clamp32(line);
    err->col = clamp32(col);
    snprintf(err->msg, sizeof err->msg, "%" PRIu32 ":%" PRIu32 ": %s%s%s",
             err->line, err->col, fabric_strerror(code), *detail ? ": " : "",
             detail);
    return code;
}

/* Quotes at most 32 bytes of a field in messages (fields are printable
 * ASCII, checked by the tokenizer). */
#define FIELD_FMT "\"%.*s%s\""
#define FIELD_ARG(F)                                                        \
    (int) ((F)->len > 32 ? 32 : (F)->len), (F)->p, (F)->len > 32 ? "..." : ""

static bool
field_is(const struct field *f, const char *word)
{
    return f->len == strlen(word) && !memcmp(f->p, word, f->len);
}

/* Copies a name field into 'buf' (FABRIC_NAME_MAX + 1 bytes).  Returns
 * false if it cannot be a name; fabric_add_* check the characters. */
static bool
field_name(const struct field *f, char *buf)
{
    if (f->len == 0 || f->len > FABRIC_NAME_MAX) {
        return false;
    }
    memcpy(buf, f->p, f->len);
    buf[f->len] = '\0';
    return true;
}

/* Decimal digits (or 0x hex if 'hex_ok') into '*v'; false on anything
 * else, on emptiness or on overflow. */
static bool
parse_u64(const char *p, size_t len, bool hex_ok, uint64_t *v)
{
    unsigned base = 10;

    if (hex_ok && len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
        len -= 2;
    }
    if (len == 0) {
        return false;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        char c = p[i];
        if (c >= '0' && c <= '9') {
            d = (unsigned) (c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            d = (unsigned) (c - 'a' + 10);
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            d = (unsigned) (c - 'A' + 10);
        } else {
            return false;
        }
        if (x > (UINT64_MAX - d) / base) {
            return false;
        }
        x = x * base + d;
    }
    *v = x;
    return true;
}

static const struct {
    const char *suffix;
    uint64_t mult;
} units[] = {
    {"tbit", UINT64_C(1000000000000)},
    {"gbit", UINT64_C(1000000000)},
    {"mbit", UINT64_C(1000000)},
    {"kbit", UINT64_C(1000)},
    {"bit", 1},
};

/* N followed by a unit, case-insensitive: "500mbit", "10Gbit". */
static bool
parse_rate(const struct field *f, uint64_t *bps)
{
    size_t digits = 0;

    while (digits < f->len && f->p[digits] >= '0' && f->p[digits] <= '9') {
        digits++;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t ul = strlen(units[i].suffix);
        uint64_t n;
        if (f->len - digits == ul
            && !strncasecmp(f->p + digits, units[i].suffix, ul)
            && parse_u64(f->p, digits, false, &n) && n > 0
            && n <= FABRIC_MAX_BPS / units[i].mult) {
            *bps = n * units[i].mult;
            return true;
        }
    }
    return false;
}

/* "NAME:PORT" where NAME is a switch already defined. */
static enum fabric_err
parse_endpoint(struct parse *ps, const struct line *ln, size_t i,
               uint32_t *node, uint32_t *port)
{
    const struct field *f = &ln->f[i];
    const char *colon = NULL;

    for (size_t j = f->len; j > 0; j--) {
        if (f->p[j - 1] == ':') {
            colon = f->p + j - 1;
            break;
        }
    }
    if (!colon) {
        return fail(ps, FABRIC_E_BAD_ENDPOINT, ln->no, f->col,
                    FIELD_FMT, FIELD_ARG(f));
    }
    size_t nlen = (size_t) (colon - f->p);
    size_t plen = f->len - nlen - 1;
    char name[FABRIC_NAME_MAX + 1];
    struct field nf = {.p = f->p, .len = nlen, .col = f->col};
    if (!field_name(&nf, name)) {
        return fail(ps, FABRIC_E_BAD_ENDPOINT, ln->no, f->col,
                    FIELD_FMT, FIELD_ARG(f));
    }
    if (!fabric_find(ps->fabric, name, node)
        || fabric_node_kind(ps->fabric, *node) != FABRIC_SWITCH) {
        return fail(ps, FABRIC_E_UNKNOWN_SWITCH, ln->no, f->col,
                    FIELD_FMT, FIELD_ARG(&nf));
    }
    uint64_t p;
    size_t pcol = f->col + nlen + 1;
    if (!parse_u64(colon + 1, plen, false, &p) || p == 0
        || p > FABRIC_PORT_MAX) {
        struct field pf = {.p = colon + 1, .len = plen};
        return fail(ps, FABRIC_E_BAD_PORT, ln->no, pcol, FIELD_FMT,
                    FIELD_ARG(&pf));
    }
    *port = (uint32_t) p;
    return FABRIC_E_OK;
}

/* Checks the field count: 'min' to 'max' fields after the keyword
 * ('max' + 1 < MAX_FIELDS, so the first field too many is kept). */
static enum fabric_err
arity(struct parse *ps, const struct line *ln, size_t min, size_t max,
      size_t end_col, const char *what)
{
    if (ln->n - 1 < min) {
        return fail(ps, FABRIC_E_MISSING_FIELD, ln->no, end_col, "%s", what);
    }
    if (ln->n - 1 > max) {
        const struct field *extra = &ln->f[max + 1 < MAX_FIELDS ? max + 1 : 0];
        return fail(ps, FABRIC_E_EXTRA_FIELD, ln->no, extra->col, FIELD_FMT,
                    FIELD_ARG(extra));
    }
    return FABRIC_E_OK;
}

/* Errors of fabric_add_*() placed at the field they are about. */
static enum fabric_err
at(struct parse *ps, const struct line *ln, enum fabric_err e, size_t i)
{
    if (e == FABRIC_E_OK) {
        return e;
    }
    return fail(ps, e, ln->no, ln->f[i].col, FIELD_FMT, FIELD_ARG(&ln->f[i]));
}

static enum fabric_err
do_switch(struct parse *ps, const struct line *ln, size_t end_col)
{
    enum fabric_err e =
        arity(ps, ln, 2, 2, end_col, "switch NAME dpid=N");
    if (e) {
        return e;
    }
    char name[FABRIC_NAME_MAX + 1];
    if (!field_name(&ln->f[1], name)) {
        return at(ps, ln, FABRIC_E_BAD_NAME, 1);
    }
    const struct field *d = &ln->f[2];
    uint64_t dpid;
    if (d->len < 5 || memcmp(d->p, "dpid=", 5)
        || !parse_u64(d->p + 5, d->len - 5, true, &dpid) || !dpid) {
        return at(ps, ln, FABRIC_E_BAD_DPID, 2);
    }
    e = fabric_add_switch(ps->fabric, name, dpid, NULL);
    return at(ps, ln, e, e == FABRIC_E_DUP_DPID ? 2 : 1);
}

/* host NAME SW:PORT [RATE] and nic HOST SW:PORT [RATE]. */
static enum fabric_err
do_host(struct parse *ps, const struct line *ln, size_t end_col, bool nic)
{
    enum fabric_err e = arity(ps, ln, 2, 3, end_col,
                              nic ? "nic HOST SWITCH:PORT [RATE]"
                                  : "host NAME SWITCH:PORT [RATE]");
    if (e) {
        return e;
    }
    char name[FABRIC_NAME_MAX + 1];
    if (!field_name(&ln->f[1], name)) {
        return at(ps, ln, FABRIC_E_BAD_NAME, 1);
    }
    uint32_t sw, port, host;
    e = parse_endpoint(ps, ln, 2, &sw, &port);
    if (e) {
        return e;
    }
    uint64_t bps = FABRIC_DEFAULT_HOST_BPS;
    if (ln->n > 3 && !parse_rate(&ln->f[3], &bps)) {
        return at(ps, ln, FABRIC_E_BAD_RATE, 3);
    }
    if (nic) {
        if (!fabric_find(ps->fabric, name, &host)
            || fabric_node_kind(ps->fabric, host) != FABRIC_HOST) {
            return at(ps, ln, FABRIC_E_UNKNOWN_HOST, 1);
        }
    } else if (fabric_find(ps->fabric, name, NULL)) {
        return at(ps, ln, FABRIC_E_DUP_NAME, 1);
    }
    /* Check the port before adding the host, so a failure leaves no
     * host without a NIC behind. */
    if (fabric_port_link(ps->fabric, sw, port, NULL, NULL)) {
        return at(ps, ln, FABRIC_E_PORT_IN_USE, 2);
    }
    if (!nic) {
        e = fabric_add_host(ps->fabric, name, &host);
        if (e) {
            return at(ps, ln, e, 1);
        }
    }
    e = fabric_attach(ps->fabric, host, sw, port, bps, NULL);
    return at(ps, ln, e, 2);
}

static enum fabric_err
do_link(struct parse *ps, const struct line *ln, size_t end_col)
{
    enum fabric_err e = arity(ps, ln, 3, 3, end_col,
                              "link SWITCH:PORT SWITCH:PORT RATE");
    if (e) {
        return e;
    }
    uint32_t a, pa, b, pb;
    uint64_t bps;
    if ((e = parse_endpoint(ps, ln, 1, &a, &pa))
        || (e = parse_endpoint(ps, ln, 2, &b, &pb))) {
        return e;
    }
    if (!parse_rate(&ln->f[3], &bps)) {
        return at(ps, ln, FABRIC_E_BAD_RATE, 3);
    }
    if (fabric_port_link(ps->fabric, a, pa, NULL, NULL)) {
        return at(ps, ln, FABRIC_E_PORT_IN_USE, 1);
    }
    e = fabric_add_link(ps->fabric, a, pa, b, pb, bps, NULL);
    return at(ps, ln, e, 2);
}

/* Splits the line [p, end) into fields; '#' starts a comment.  Fields are
 * printable ASCII; space, tab and CR separate them. */
static enum fabric_err
tokenize(struct parse *ps, const char *p, const char *end, struct line *ln,
         size_t *end_col)
{
    size_t i = 0;
    size_t len = (size_t) (end - p);

    ln->n = 0;
    while (i < len) {
        unsigned char c = (unsigned char) p[i];
        if (c == '#') {
            break;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (c < 0x21 || c > 0x7e) {
            return fail(ps, FABRIC_E_BAD_CHAR, ln->no, i + 1, "byte 0x%02x",
                        c);
        }
        size_t start = i;
        while (i < len) {
            c = (unsigned char) p[i];
            if (c < 0x21 || c > 0x7e || c == '#') {
                break;
            }
            i++;
        }
        /* Fields past MAX_FIELDS are checked but not kept: arity()
         * reports the first one too many, which is kept. */
        if (ln->n < MAX_FIELDS) {
            ln->f[ln->n] = (struct field) {
                .p = p + start, .len = i - start, .col = start + 1};
        }
        ln->n++;
    }
    *end_col = i + 1;
    return FABRIC_E_OK;
}

static enum fabric_err
parse_line(struct parse *ps, const char *p, const char *end, size_t no)
{
    struct line ln = {.no = no};
    size_t end_col = 1;
    enum fabric_err e = tokenize(ps, p, end, &ln, &end_col);

    if (e || ln.n == 0) {
        return e;
    }
    const struct field *kw = &ln.f[0];
    if (field_is(kw, "switch")) {
        return do_switch(ps, &ln, end_col);
    } else if (field_is(kw, "host")) {
        return do_host(ps, &ln, end_col, false);
    } else if (field_is(kw, "nic")) {
        return do_host(ps, &ln, end_col, true);
    } else if (field_is(kw, "link")) {
        return do_link(ps, &ln, end_col);
    }
    return fail(ps, FABRIC_E_UNKNOWN_KEYWORD, no, kw->col, FIELD_FMT,
                FIELD_ARG(kw));
}

enum fabric_err
fabric_parse(const char *text, size_t len, struct fabric **fabricp,
             struct fabric_parse_error *err)
{
    struct parse ps = {.err = err};

    if (err) {
        *err = (struct fabric_parse_error) {0};
    }
    ps.fabric = fabric_create();
    if (!ps.fabric) {
        return fail(&ps, FABRIC_E_NOMEM, 0, 0, NULL);
    }

    const char *p = text;
    const char *end = text + len;
    size_t no = 1;
    enum fabric_err e = FABRIC_E_OK;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *eol = nl ? nl : end;
        e = parse_line(&ps, p, eol, no++);
        if (e) {
            break;
        }
        p = nl ? nl + 1 : end;
    }
    if (e) {
        fabric_destroy(ps.fabric);
        return e;
    }
    *fabricp = ps.fabric;
    return FABRIC_E_OK;
}

/* Formatting.  A host without a NIC has no line of its own and is left
 * out (only the builders can make one). */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sbuf_printf(struct sbuf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    for (int tries = 0; !b->oom && tries < 2; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL,
                          b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t) n < b->cap) {
            b->len += (size_t) n;
            return;
        }
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap <= b->len + (size_t) n) {
            ncap *= 2;
        }
        char *q = realloc(b->p, ncap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = ncap;
    }
}

static void
format_rate(struct sbuf *b, uint64_t bps)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (bps % units[i].mult == 0) {
            sbuf_printf(b, "%" PRIu64 "%s", bps / units[i].mult,
                        units[i].suffix);
            return;
        }
    }
}

static void
format_end(struct sbuf *b, const struct fabric *f, const struct fabric_link *l,
           unsigned end)
{
    sbuf_printf(b, "%s:%" PRIu32, fabric_node_name(f, l->node[end]),
                l->port[end]);
}

char *
fabric_format(const struct fabric *f)
{
    struct sbuf b = {0};
    size_t n_nodes = fabric_n_nodes(f);
    size_t n_links = fabric_n_links(f);

    sbuf_printf(&b, "# mignet topology: %zu nodes, %zu links\n", n_nodes,
                n_links);
    for (uint32_t i = 0; i < n_nodes; i++) {
        if (fabric_node_kind(f, i) == FABRIC_SWITCH) {
            sbuf_printf(&b, "switch %s dpid=%#" PRIx64 "\n",
                        fabric_node_name(f, i), fabric_node_dpid(f, i));
        }
    }
    /* A host's NICs are its links with a host end, in NIC order: links
     * are numbered in creation order and NICs too. */
    for (uint32_t l = 0; l < n_links; l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        if (fabric_node_kind(f, lk->node[1]) != FABRIC_HOST) {
            continue;
        }
        sbuf_printf(&b, "%s %s ", lk->port[1] == 1 ? "host" : "nic",
                    fabric_node_name(f, lk->node[1]));
        format_end(&b, f, lk, 0);
        sbuf_printf(&b, " ");
        format_rate(&b, lk->capacity_bps);
        sbuf_printf(&b, "\n");
    }
    for (uint32_t l = 0; l < n_links; l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        if (fabric_node_kind(f, lk->node[1]) == FABRIC_HOST) {
            continue;
        }
        sbuf_printf(&b, "link ");
        format_end(&b, f, lk, 0);
        sbuf_printf(&b, " ");
        format_end(&b, f, lk, 1);
        sbuf_printf(&b, " ");
        format_rate(&b, lk->capacity_bps);
        sbuf_printf(&b, "\n");
    }
    if (b.oom || !b.p) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
