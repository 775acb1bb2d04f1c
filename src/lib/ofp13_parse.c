/* ofp13_parse.c: reads the compact flow text form that ofp13_print.c
 * writes ("add table=0 priority=100 in_port=1 actions=output:2").
 *
 * For tests and for writing flows readably in code.  Every number is range-
 * checked against its field; any token it does not understand is an error
 * with a reason, and on error the output struct holds nothing useful (the
 * caller must not send it). */
#include "ofp13_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lib/util.h"

struct parse_ctx {
    char *err;
    size_t err_size;
};

static int parse_fail(struct parse_ctx *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
parse_fail(struct parse_ctx *ctx, const char *fmt, ...)
{
    if (ctx->err && ctx->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->err, ctx->err_size, fmt, ap);
        va_end(ap);
    }
    return EINVAL;
}

/* A [s, s+len) slice of the input. */
struct span {
    const char *s;
    size_t len;
};

static bool
span_eq(struct span sp, const char *word)
{
    return strlen(word) == sp.len && !memcmp(sp.s, word, sp.len);
}

static bool
span_starts(struct span sp, const char *prefix, struct span *rest)
{
    size_t n = strlen(prefix);
    if (sp.len < n || memcmp(sp.s, prefix, n)) {
        return false;
    }
    *rest = (struct span){sp.s + n, sp.len - n};
    return true;
}

/* Splits 'sp' at the first 'c': 'head' before, 'tail' after. */
static bool
span_split(struct span sp, char c, struct span *head, struct span *tail)
{
    const char *p = memchr(sp.s, c, sp.len);
    if (!p) {
        return false;
    }
    *head = (struct span){sp.s, (size_t)(p - sp.s)};
    *tail = (struct span){p + 1, sp.len - (size_t)(p - sp.s) - 1};
    return true;
}


/* An unsigned integer, decimal or 0x-hex, filling all of 'sp'. */
static bool
parse_uint(struct span sp, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    size_t i = 0;
    if (sp.len > 2 && sp.s[0] == '0' && (sp.s[1] == 'x' || sp.s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i >= sp.len) {
        return false;
    }
    for (; i < sp.len; i++) {
        int d = hex_digit(sp.s[i]);
        if (d < 0 || (unsigned)d >= base) {
            return false;
        }
        if (v > (UINT64_MAX - (uint64_t)d) / base) {
            return false;
        }
        v = v * base + (uint64_t)d;
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool
parse_eth(struct span sp, uint64_t *out)
{
    uint64_t v = 0;
    if (sp.len != 17) {
        return false;
    }
    for (size_t i = 0; i < 6; i++) {
        int hi = hex_digit(sp.s[i * 3]);
        int lo = hex_digit(sp.s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && sp.s[i * 3 + 2] != ':')) {
            return false;
        }
        v = (v << 8) | (uint64_t)(hi * 16 + lo);
    }
    *out = v;
    return true;
}

static bool
parse_ipv4(struct span sp, uint64_t *out)
{
    uint64_t v = 0;
    struct span rest = sp;
    for (int i = 0; i < 4; i++) {
        struct span part = rest;
        if (i < 3 && !span_split(rest, '.', &part, &rest)) {
            return false;
        }
        uint64_t byte;
        if (!part.len || part.len > 3 || !parse_uint(part, 255, &byte) ||
            hex_digit(part.s[0]) > 9 || memchr(part.s, 'x', part.len)) {
            return false;
        }
        v = (v << 8) | byte;
    }
    *out = v;
    return true;
}

static const struct {
    const char *name;
    uint32_t port;
} port_names[] = {
    {"IN_PORT", OFPP_IN_PORT}, {"TABLE", OFPP_TABLE},
    {"NORMAL", OFPP_NORMAL},   {"FLOOD", OFPP_FLOOD},
    {"ALL", OFPP_ALL},         {"CONTROLLER", OFPP_CONTROLLER},
    {"LOCAL", OFPP_LOCAL},     {"ANY", OFPP_ANY},
};

static bool
parse_port(struct span sp, uint32_t *port)
{
    for (size_t i = 0; i < sizeof port_names / sizeof *port_names; i++) {
        if (sp.len == strlen(port_names[i].name) &&
            !strncasecmp(sp.s, port_names[i].name, sp.len)) {
            *port = port_names[i].port;
            return true;
        }
    }
    uint64_t v;
    if (!parse_uint(sp, UINT32_MAX, &v)) {
        return false;
    }
    *port = (uint32_t)v;
    return true;
}

static bool
parse_field_value(enum ofp_field f, struct span sp, uint64_t *v)
{
    switch (ofp_field_info(f)->format) {
    case OFP_FMT_ETH:
        return parse_eth(sp, v);
    case OFP_FMT_IPV4:
        return parse_ipv4(sp, v);
    case OFP_FMT_PORT: {
        uint32_t port;
        if (!parse_port(sp, &port)) {
            return false;
        }
        *v = port;
        return true;
    }
    case OFP_FMT_DEC:
    case OFP_FMT_HEX:
        return parse_uint(sp, ofp_field_max(f), v);
    }
    return false;
}

static bool
parse_field_mask(enum ofp_field f, struct span sp, uint64_t *mask)
{
    if (ofp_field_info(f)->format == OFP_FMT_IPV4 &&
        !memchr(sp.s, '.', sp.len)) {
        uint64_t n;
        if (!parse_uint(sp, 32, &n)) {
            return false;
        }
        *mask = n ? (UINT32_MAX << (32 - n)) & UINT32_MAX : 0;
        return true;
    }
    if (ofp_field_info(f)->format == OFP_FMT_PORT) {
        return parse_uint(sp, ofp_field_max(f), mask);
    }
    return parse_field_value(f, sp, mask);
}

/* "field=value[/mask]". */
static int
parse_match_item(struct parse_ctx *ctx, struct span item, struct ofp_match *m)
{
    struct span name, value, mask_text;
    if (!span_split(item, '=', &name, &value)) {
        return parse_fail(ctx, "\"%.*s\": expected field=value",
                          (int)item.len, item.s);
    }
    enum ofp_field f;
    if (!ofp_field_from_name(name.s, name.len, &f)) {
        return parse_fail(ctx, "unknown field \"%.*s\"", (int)name.len,
                          name.s);
    }
    if (m->present & (UINT32_C(1) << f)) {
        return parse_fail(ctx, "field %s given twice",
                          ofp_field_info(f)->name);
    }
    bool masked = span_split(value, '/', &value, &mask_text);
    uint64_t v, mask = UINT64_MAX;
    if (!parse_field_value(f, value, &v)) {
        return parse_fail(ctx, "bad value \"%.*s\" for %s", (int)value.len,
                          value.s, ofp_field_info(f)->name);
    }
    if (masked) {
        if (!ofp_field_info(f)->maskable) {
            return parse_fail(ctx, "field %s cannot be masked",
                              ofp_field_info(f)->name);
        }
        if (!parse_field_mask(f, mask_text, &mask)) {
            return parse_fail(ctx, "bad mask \"%.*s\" for %s",
                              (int)mask_text.len, mask_text.s,
                              ofp_field_info(f)->name);
        }
    }
    if (v & ~mask) {
        return parse_fail(ctx, "value of %s has bits outside its mask",
                          ofp_field_info(f)->name);
    }
    ofp_match_set_masked(m, f, v, mask);
    return 0;
}

/* Calls 'fn' for each comma-separated item of 'sp' that is not inside
 * parentheses. */
typedef int item_fn(struct parse_ctx *, struct span, void *aux);

static int
for_each_item(struct parse_ctx *ctx, struct span sp, item_fn *fn, void *aux)
{
    size_t start = 0;
    int depth = 0;
    for (size_t i = 0; i <= sp.len; i++) {
        char c = i < sp.len ? sp.s[i] : ',';
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth < 0) {
                return parse_fail(ctx, "unbalanced ')'");
            }
        } else if (c == ',' && depth == 0) {
            struct span item = {sp.s + start, i - start};
            if (!item.len) {
                return parse_fail(ctx, "empty item in \"%.*s\"", (int)sp.len,
                                  sp.s);
            }
            int error = fn(ctx, item, aux);
            if (error) {
                return error;
            }
            start = i + 1;
        }
    }
    return depth ? parse_fail(ctx, "unbalanced '('") : 0;
}

static int
match_item_fn(struct parse_ctx *ctx, struct span item, void *m)
{
    return parse_match_item(ctx, item, m);
}

/* "eth_src[0..47]" or "eth_src[]" (the whole field). */
static bool
parse_subfield(struct span sp, enum ofp_field *f, uint16_t *ofs,
               uint16_t *n_bits)
{
    struct span name, range;
    if (!sp.len || sp.s[sp.len - 1] != ']' ||
        !span_split(sp, '[', &name, &range) ||
        !ofp_field_from_name(name.s, name.len, f)) {
        return false;
    }
    range.len--; /* Drop ']'. */
    unsigned width = ofp_field_info(*f)->width * 8u;
    if (!range.len) {
        *ofs = 0;
        *n_bits = (uint16_t)width;
        return true;
    }
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < range.len; i++) {
        if (range.s[i] == '.' && range.s[i + 1] == '.') {
            dots = range.s + i;
            break;
        }
    }
    uint64_t lo, hi;
    if (!dots ||
        !parse_uint((struct span){range.s, (size_t)(dots - range.s)},
                    width - 1, &lo) ||
        !parse_uint((struct span){dots + 2,
                                  range.len - (size_t)(dots - range.s) - 2},
                    width - 1, &hi) ||
        hi < lo) {
        return false;
    }
    *ofs = (uint16_t)lo;
    *n_bits = (uint16_t)(hi - lo + 1);
    return true;
}

static int
check_add(struct parse_ctx *ctx, enum ofperr err, struct span item)
{
    if (err) {
        return parse_fail(ctx, "\"%.*s\": %s", (int)item.len, item.s,
                          ofperr_strerror(err));
    }
    return 0;
}

static int
parse_action(struct parse_ctx *ctx, struct span item, void *aux)
{
    struct ofp_actions *acts = aux;
    struct span arg;
    if (span_starts(item, "output:", &arg)) {
        struct span port_text = arg, max_text;
        bool has_max = span_split(arg, ':', &port_text, &max_text);
        uint32_t port;
        uint64_t max_len = 0;
        if (!parse_port(port_text, &port) ||
            (has_max && !parse_uint(max_text, UINT16_MAX, &max_len))) {
            return parse_fail(ctx, "bad output \"%.*s\"", (int)item.len,
                              item.s);
        }
        enum ofperr err = ofp_actions_output(acts, port);
        if (!err) {
            acts->a[acts->n - 1].output.max_len =
                has_max ? (uint16_t)max_len : 0;
        }
        return check_add(ctx, err, item);
    }
    if (span_starts(item, "group:", &arg)) {
        uint64_t g;
        if (!parse_uint(arg, UINT32_MAX, &g)) {
            return parse_fail(ctx, "bad group \"%.*s\"", (int)item.len,
                              item.s);
        }
        return check_add(ctx, ofp_actions_group(acts, (uint32_t)g), item);
    }
    if (span_starts(item, "set_field:", &arg)) {
        const char *arrow = NULL;
        for (size_t i = 0; i + 1 < arg.len; i++) {
            if (arg.s[i] == '-' && arg.s[i + 1] == '>') {
                arrow = arg.s + i;
            }
        }
        enum ofp_field f;
        uint64_t v;
        if (!arrow ||
            !ofp_field_from_name(arrow + 2,
                                 arg.len - (size_t)(arrow - arg.s) - 2, &f) ||
            !parse_field_value(
                f, (struct span){arg.s, (size_t)(arrow - arg.s)}, &v)) {
            return parse_fail(ctx, "bad set_field \"%.*s\"", (int)item.len,
                              item.s);
        }
        return check_add(ctx, ofp_actions_set_field(acts, f, v), item);
    }
    if (span_starts(item, "push_vlan:", &arg)) {
        uint64_t ethertype;
        if (!parse_uint(arg, UINT16_MAX, &ethertype)) {
            return parse_fail(ctx, "bad push_vlan \"%.*s\"", (int)item.len,
                              item.s);
        }
        return check_add(ctx, ofp_actions_push_vlan(acts, (uint16_t)ethertype),
                         item);
    }
    if (span_eq(item, "pop_vlan")) {
        return check_add(ctx, ofp_actions_pop_vlan(acts), item);
    }
    if (span_eq(item, "dec_ttl")) {
        return check_add(ctx, ofp_actions_dec_nw_ttl(acts), item);
    }
    if (span_starts(item, "move:", &arg)) {
        struct span src, dst;
        enum ofp_field sf, df;
        uint16_t sofs, sbits, dofs, dbits;
        const char *arrow = NULL;
        for (size_t i = 0; i + 1 < arg.len; i++) {
            if (arg.s[i] == '-' && arg.s[i + 1] == '>') {
                arrow = arg.s + i;
                break;
            }
        }
        if (!arrow) {
            return parse_fail(ctx, "bad move \"%.*s\"", (int)item.len, item.s);
        }
        src = (struct span){arg.s, (size_t)(arrow - arg.s)};
        dst = (struct span){arrow + 2, arg.len - src.len - 2};
        if (!parse_subfield(src, &sf, &sofs, &sbits) ||
            !parse_subfield(dst, &df, &dofs, &dbits) || sbits != dbits) {
            return parse_fail(ctx, "bad move \"%.*s\"", (int)item.len, item.s);
        }
        return check_add(
            ctx, ofp_actions_move(acts, sf, sofs, df, dofs, sbits), item);
    }
    return parse_fail(ctx, "unknown action \"%.*s\"", (int)item.len, item.s);
}

static int
parse_instruction(struct parse_ctx *ctx, struct span item, void *aux)
{
    struct ofp_instructions *insts = aux;
    struct span arg;
    if (span_eq(item, "drop")) {
        return 0;
    }
    if (span_eq(item, "clear_actions")) {
        insts->present |= OFP_INST_CLEAR;
        return 0;
    }
    if (span_starts(item, "write_actions(", &arg)) {
        if (!arg.len || arg.s[arg.len - 1] != ')' ||
            (insts->present & OFP_INST_WRITE)) {
            return parse_fail(ctx, "bad write_actions");
        }
        arg.len--;
        insts->present |= OFP_INST_WRITE;
        return arg.len ? for_each_item(ctx, arg, parse_action, &insts->write)
                       : 0;
    }
    if (span_starts(item, "write_metadata:", &arg)) {
        struct span value = arg, mask_text;
        bool masked = span_split(arg, '/', &value, &mask_text);
        uint64_t v, mask = UINT64_MAX;
        if (!parse_uint(value, UINT64_MAX, &v) ||
            (masked && !parse_uint(mask_text, UINT64_MAX, &mask)) ||
            (v & ~mask)) {
            return parse_fail(ctx, "bad write_metadata \"%.*s\"",
                              (int)item.len, item.s);
        }
        insts->present |= OFP_INST_METADATA;
        insts->metadata = v;
        insts->metadata_mask = mask;
        return 0;
    }
    if (span_starts(item, "goto_table:", &arg)) {
        uint64_t t;
        if (!parse_uint(arg, OFPTT_MAX, &t)) {
            return parse_fail(ctx, "bad goto_table \"%.*s\"", (int)item.len,
                              item.s);
        }
        insts->present |= OFP_INST_GOTO;
        insts->goto_table = (uint8_t)t;
        return 0;
    }
    if (insts->present & (OFP_INST_CLEAR | OFP_INST_WRITE | OFP_INST_METADATA |
                          OFP_INST_GOTO)) {
        return parse_fail(ctx, "action \"%.*s\" after an instruction",
                          (int)item.len, item.s);
    }
    insts->present |= OFP_INST_APPLY;
    return parse_action(ctx, item, &insts->apply);
}

int
ofp_parse_match(const char *text, struct ofp_match *m, char *err,
                size_t err_size)
{
    struct parse_ctx ctx = {err, err_size};
    struct span sp = {text, strlen(text)};
    ofp_match_init(m);
    if (!sp.len || span_eq(sp, "any")) {
        return 0;
    }
    return for_each_item(&ctx, sp, match_item_fn, m);
}

static const char *const commands[] = {
    "add", "modify", "modify_strict", "delete", "delete_strict",
};

static int
parse_flag(struct parse_ctx *ctx, struct span item, void *aux)
{
    static const char *const names[] = {
        "send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
        "no_byte_counts",
    };
    uint16_t *flags = aux;
    for (unsigned i = 0; i < 5; i++) {
        if (span_eq(item, names[i])) {
            *flags |= (uint16_t)(1u << i);
            return 0;
        }
    }
    return parse_fail(ctx, "unknown flag \"%.*s\"", (int)item.len, item.s);
}

static int
parse_flow_token(struct parse_ctx *ctx, struct span tok,
                 struct ofp_flow_mod *fm, bool *have_actions)
{
    struct span key, value;
    uint64_t v;
    if (!span_split(tok, '=', &key, &value)) {
        return parse_fail(ctx, "unexpected \"%.*s\"", (int)tok.len, tok.s);
    }
    if (span_eq(key, "actions")) {
        if (*have_actions) {
            return parse_fail(ctx, "actions given twice");
        }
        *have_actions = true;
        return value.len ? for_each_item(ctx, value, parse_instruction,
                                         &fm->insts)
                         : parse_fail(ctx, "empty actions");
    }
    if (span_eq(key, "table")) {
        if (span_eq(value, "all")) {
            fm->table_id = OFPTT_ALL;
            return 0;
        }
        if (!parse_uint(value, OFPTT_MAX, &v)) {
            return parse_fail(ctx, "bad table \"%.*s\"", (int)value.len,
                              value.s);
        }
        fm->table_id = (uint8_t)v;
        return 0;
    }
    if (span_eq(key, "priority") || span_eq(key, "idle_timeout") ||
        span_eq(key, "hard_timeout")) {
        if (!parse_uint(value, UINT16_MAX, &v)) {
            return parse_fail(ctx, "bad %.*s \"%.*s\"", (int)key.len, key.s,
                              (int)value.len, value.s);
        }
        uint16_t *dst = span_eq(key, "priority")       ? &fm->priority
                        : span_eq(key, "idle_timeout") ? &fm->idle_timeout
                                                       : &fm->hard_timeout;
        *dst = (uint16_t)v;
        return 0;
    }
    if (span_eq(key, "cookie")) {
        struct span c = value, mask_text;
        bool masked = span_split(value, '/', &c, &mask_text);
        uint64_t mask = 0;
        if (!parse_uint(c, UINT64_MAX, &v) ||
            (masked && !parse_uint(mask_text, UINT64_MAX, &mask))) {
            return parse_fail(ctx, "bad cookie \"%.*s\"", (int)value.len,
                              value.s);
        }
        fm->cookie = v;
        fm->cookie_mask = mask;
        return 0;
    }
    if (span_eq(key, "buffer_id") || span_eq(key, "out_group")) {
        uint32_t *dst =
            span_eq(key, "buffer_id") ? &fm->buffer_id : &fm->out_group;
        if (span_eq(value, "none") || span_eq(value, "any")) {
            *dst = UINT32_MAX;
            return 0;
        }
        if (!parse_uint(value, UINT32_MAX, &v)) {
            return parse_fail(ctx, "bad %.*s", (int)key.len, key.s);
        }
        *dst = (uint32_t)v;
        return 0;
    }
    if (span_eq(key, "out_port")) {
        return parse_port(value, &fm->out_port)
                   ? 0
                   : parse_fail(ctx, "bad out_port \"%.*s\"", (int)value.len,
                                value.s);
    }
    if (span_eq(key, "flags")) {
        fm->flags = 0;
        return for_each_item(ctx, value, parse_flag, &fm->flags);
    }
    /* Anything else is the match. */
    return for_each_item(ctx, tok, match_item_fn, &fm->match);
}

static int
parse_flow_mod(const char *text, struct ofp_flow_mod *fm, char *err,
               size_t err_size)
{
    struct parse_ctx ctx = {err, err_size};
    bool have_actions = false;
    bool first = true;
    ofp_flow_mod_init(fm, OFPFC_ADD);
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (!*p) {
            break;
        }
        struct span tok = {p, strcspn(p, " \t")};
        p += tok.len;
        bool is_command = false;
        if (first) {
            for (unsigned i = 0; i < 5; i++) {
                if (span_eq(tok, commands[i])) {
                    fm->command = (uint8_t)i;
                    is_command = true;
                }
            }
        }
        first = false;
        if (!is_command) {
            int error = parse_flow_token(&ctx, tok, fm, &have_actions);
            if (error) {
                return error;
            }
        }
    }
    if (!have_actions && fm->command < OFPFC_DELETE) {
        return parse_fail(&ctx, "missing actions=");
    }
    return 0;
}

int
ofp_parse_flow_mod(const char *text, struct ofp_flow_mod *fm, char *err,
                   size_t err_size)
{
    int error = parse_flow_mod(text, fm, err, err_size);
    if (error) {
        ofp_flow_mod_destroy(fm); /* Half-parsed actions are not kept. */
    }
    return error;
}
