/* render_vswitch.c: the answers of `mignet vswitch` for people (tenant
 * virtual switches, docs/vswitch.md).
 *
 * Pure: JSON in, text out.  A switch shows as "key: value" lines and a
 * table of its ports with their combined counters; its flows as a table
 * in the tenant's own terms (ports are the tenant's port numbers, match
 * and actions as the controller prints them, ovs-ofctl style); an
 * ensemble migration as one line per VM with its migration id.  Anything
 * missing prints as "-"; only an answer of the wrong shape is refused. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static enum cli_exit
refuse(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return CLI_EXIT_BAD_REPLY;
}

/* Appends 'v': a string as it is, an integer in decimal, null or a
 * missing value (NULL) as 'empty', anything else as compact JSON. */
static void
put_text(const json_t *v, const char *empty, struct strbuf *out)
{
    if (!v || json_is_null(v)) {
        strbuf_puts(out, empty);
    } else if (json_is_string(v)) {
        strbuf_append(out, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        strbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        strbuf_puts(out, text ? text : "?");
        free(text);
    }
}

/* The strings or numbers of list 'v' joined by ", ", or "-". */
static void
put_list(const json_t *v, struct strbuf *out)
{
    size_t i;
    const json_t *item;
    if (!json_is_array(v) || !json_array_size(v)) {
        strbuf_puts(out, "-");
        return;
    }
    json_array_foreach (v, i, item) {
        if (i) {
            strbuf_puts(out, ", ");
        }
        put_text(item, "-", out);
    }
}

/* Integer member 'key' in decimal, else "-". */
static void
put_int(const json_t *o, const char *key, struct strbuf *out)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) {
        strbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else {
        strbuf_puts(out, "-");
    }
}

/* Adds one row of 'n' cells built by the caller into 'texts'. */
static int
add_row(struct table *t, struct strbuf *texts, size_t n)
{
    const char *cells[12];
    for (size_t c = 0; c < n && c < 12; c++) {
        cells[c] = strbuf_str(&texts[c]);
    }
    return table_add_row(t, cells);
}

/* A table with 'n' columns (at most 12), right-aligned where 'right' has
 * a 'R' at the column's index.  NULL on allocation failure. */
static struct table *
new_table(const char *const *headers, size_t n, const char *right)
{
    struct table *t = table_create(n, headers);
    for (size_t c = 0; t && c < n && right[c]; c++) {
        if (right[c] == 'R') {
            table_align_right(t, c);
        }
    }
    return t;
}

/* Renders 'rows' (objects) into 'out' with 'fill' writing each row's
 * cells; refuses a row that is not an object. */
static enum cli_exit
render_rows(const json_t *rows, const char *const *headers, size_t n,
            const char *right,
            void (*fill)(const json_t *row, struct strbuf *texts),
            struct strbuf *out, char *err, size_t errlen)
{
    struct strbuf texts[12];
    struct table *t = new_table(headers, n, right);
    if (!t) {
        return refuse(err, errlen, "out of memory");
    }
    for (size_t c = 0; c < n; c++) {
        strbuf_init(&texts[c]);
    }
    enum cli_exit rc = CLI_EXIT_OK;
    size_t i;
    const json_t *row;
    json_array_foreach (rows, i, row) {
        if (!json_is_object(row)) {
            rc = refuse(err, errlen, "a list item is not an object");
            break;
        }
        for (size_t c = 0; c < n; c++) {
            strbuf_clear(&texts[c]);
        }
        fill(row, texts);
        if (add_row(t, texts, n)) {
            rc = refuse(err, errlen, "out of memory");
            break;
        }
    }
    if (rc == CLI_EXIT_OK) {
        table_render(t, out);
    }
    table_destroy(t);
    for (size_t c = 0; c < n; c++) {
        strbuf_destroy(&texts[c]);
    }
    return rc;
}

/* ---- vswitch list ---- */

static void
fill_switch(const json_t *s, struct strbuf *texts)
{
    const json_t *conn = json_object_get(s, "controller_connected");
    if (!conn) {
        conn = json_object_get(s, "connected");
    }
    const json_t *ports = json_object_get(s, "ports");
    const json_t *ens = json_object_get(s, "ensemble");
    put_text(json_object_get(s, "id"), "-", &texts[0]);
    put_text(json_object_get(s, "tenant"), "-", &texts[1]);
    put_int(s, "vni", &texts[2]);
    put_text(json_object_get(s, "controller"), "-", &texts[3]);
    strbuf_puts(&texts[4], json_is_boolean(conn)
                               ? (json_is_true(conn) ? "yes" : "no")
                               : "-");
    if (json_is_array(ports)) {
        strbuf_printf(&texts[5], "%zu", json_array_size(ports));
    } else {
        strbuf_puts(&texts[5], "-");
    }
    put_int(s, "n_flows", &texts[6]);
    put_int(s, "active", &texts[7]);
    put_list(json_object_get(s, "nodes"), &texts[8]);
    put_list(ens, &texts[9]);
}

static enum cli_exit
render_switches(const json_t *reply, struct strbuf *out, char *err,
                size_t errlen)
{
    static const char *const headers[] = {
        "ID", "TENANT", "VNI", "CONTROLLER", "CONNECTED", "PORTS",
        "FLOWS", "VERSION", "NODES", "ENSEMBLE",
    };
    const json_t *list = json_is_array(reply)
                             ? reply
                             : json_object_get(reply, "vswitches");
    if (!json_is_array(list)) {
        return refuse(err, errlen, "expected a list of vswitches");
    }
    return render_rows(list, headers, 10, "..R..RRR", fill_switch, out, err,
                       errlen);
}

/* ---- vswitch show / create ---- */

static void
fill_port(const json_t *p, struct strbuf *texts)
{
    static const char *const counters[] = {
        "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
    };
    const json_t *key = json_object_get(p, "key");
    put_int(p, "port", &texts[0]);
    put_text(json_object_get(p, "vm"), "-", &texts[1]);
    put_text(json_object_get(p, "mac"), "-", &texts[2]);
    put_text(json_object_get(p, "node"), "-", &texts[3]);
    if (json_is_integer(key)) {
        strbuf_printf(&texts[4], "0x%06" PRIx64,
                      (uint64_t) json_integer_value(key));
    } else {
        strbuf_puts(&texts[4], "-");
    }
    for (size_t i = 0; i < 4; i++) {
        put_int(p, counters[i], &texts[5 + i]);
    }
}

static enum cli_exit
render_switch(const json_t *s, uint64_t now, struct strbuf *out, char *err,
              size_t errlen)
{
    static const char *const headers[] = {
        "PORT", "VM", "MAC", "NODE", "KEY", "RX_PACKETS", "RX_BYTES",
        "TX_PACKETS", "TX_BYTES",
    };
    if (!json_is_object(s)) {
        return refuse(err, errlen, "expected a JSON object");
    }
    json_t *copy = json_copy((json_t *) s);
    if (!copy) {
        return refuse(err, errlen, "out of memory");
    }
    json_object_del(copy, "ports");
    json_object_del(copy, "flows");
    /* Lists as words; an integer datapath id also in hexadecimal. */
    static const char *const lists[] = {"nodes", "ensemble"};
    for (size_t i = 0; i < 2; i++) {
        if (json_object_get(copy, lists[i])) {
            struct strbuf sb;
            strbuf_init(&sb);
            put_list(json_object_get(copy, lists[i]), &sb);
            json_object_set_new(copy, lists[i], json_string(strbuf_str(&sb)));
            strbuf_destroy(&sb);
        }
    }
    const json_t *dp = json_object_get(copy, "datapath_id");
    if (json_is_integer(dp)) {
        char text[64];
        snprintf(text, sizeof text, "0x%016" PRIx64 " (%" JSON_INTEGER_FORMAT
                 ")", (uint64_t) json_integer_value(dp),
                 json_integer_value(dp));
        json_object_set_new(copy, "datapath_id", json_string(text));
    }
    enum cli_exit rc = cli_render_object(copy, now, out, err, errlen);
    json_decref(copy);
    const json_t *ports = json_object_get(s, "ports");
    if (rc == CLI_EXIT_OK && json_is_array(ports)) {
        strbuf_puts(out, json_array_size(ports) ? "ports:\n" : "ports: -\n");
        if (json_array_size(ports)) {
            rc = render_rows(ports, headers, 9, "R....RRRR", fill_port, out,
                             err, errlen);
        }
    }
    return rc;
}

/* ---- vswitch flows ---- */

static void
fill_flow(const json_t *f, struct strbuf *texts)
{
    const json_t *cookie = json_object_get(f, "cookie");
    const json_t *dur = json_object_get(f, "duration_ms");
    put_int(f, "priority", &texts[0]);
    put_text(json_object_get(f, "match"), "-", &texts[1]);
    /* "actions=output:2" -> "output:2" */
    const char *acts = json_string_value(json_object_get(f, "actions"));
    if (acts && !strncmp(acts, "actions=", 8)) {
        strbuf_puts(&texts[2], acts + 8);
    } else {
        put_text(json_object_get(f, "actions"), "-", &texts[2]);
    }
    put_int(f, "packets", &texts[3]);
    put_int(f, "bytes", &texts[4]);
    if (json_is_integer(dur) && json_integer_value(dur) >= 0) {
        cli_put_duration(&texts[5], (uint64_t) json_integer_value(dur),
                         false);
    } else {
        strbuf_puts(&texts[5], "-");
    }
    static const char *const timeouts[] = {"idle_timeout", "hard_timeout"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *v = json_object_get(f, timeouts[i]);
        if (json_is_integer(v) && json_integer_value(v) > 0) {
            strbuf_printf(&texts[6 + i], "%" JSON_INTEGER_FORMAT " s",
                          json_integer_value(v));
        } else {
            strbuf_puts(&texts[6 + i], "-");
        }
    }
    put_text(cookie, "-", &texts[8]);
}

static enum cli_exit
render_flows(const json_t *s, struct strbuf *out, char *err, size_t errlen)
{
    static const char *const headers[] = {
        "PRIORITY", "MATCH", "ACTIONS", "PACKETS", "BYTES", "AGE", "IDLE",
        "HARD", "COOKIE",
    };
    const json_t *flows = json_object_get(s, "flows");
    if (!json_is_object(s) || !json_is_array(flows)) {
        return refuse(err, errlen, "expected a vswitch with a list of flows");
    }
    strbuf_puts(out, "vswitch ");
    put_text(json_object_get(s, "id"), "-", out);
    strbuf_printf(out, ": %zu flow%s, version ", json_array_size(flows),
                  json_array_size(flows) == 1 ? "" : "s");
    put_int(s, "active", out);
    if (json_is_true(json_object_get(s, "split"))) {
        strbuf_puts(out, ", split (ensemble migration)");
    }
    if (json_is_true(json_object_get(s, "update_pending"))) {
        strbuf_puts(out, ", update pending");
    }
    strbuf_putc(out, '\n');
    return render_rows(flows, headers, 9, "R..RRRRR", fill_flow, out, err,
                       errlen);
}

/* ---- vswitch migrate ---- */

/* The node VM 'vm' was sent to on the command line, or NULL. */
static const char *
move_target(const struct cli_parsed *p, const char *vm)
{
    size_t n = strlen(vm);
    for (int i = 1; i < p->n_pos; i++) {
        if (!strncmp(p->pos[i], vm, n) && p->pos[i][n] == '=') {
            return p->pos[i] + n + 1;
        }
    }
    return NULL;
}

static enum cli_exit
render_migrate(const struct cli_parsed *p, const json_t *reply,
               struct strbuf *out, char *err, size_t errlen)
{
    static const char *const headers[] = {"VM", "TO", "MIGRATION"};
    const json_t *migs = json_object_get(reply, "migrations");
    const char *vm;
    const json_t *id;
    if (!json_is_object(migs)) {
        return refuse(err, errlen, "migrate answer lacks the object "
                                   "'migrations'");
    }
    json_object_foreach ((json_t *) migs, vm, id) {
        if (!json_is_integer(id)) {
            return refuse(err, errlen, "a migration id is not an integer");
        }
    }
    struct table *t = new_table(headers, 3, "..R");
    if (!t) {
        return refuse(err, errlen, "out of memory");
    }
    json_object_foreach ((json_t *) migs, vm, id) {
        char num[32];
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(id));
        const char *cells[3] = {vm, move_target(p, vm), num};
        table_add_row(t, cells);
    }
    const char *sw = cli_opt_value(p, "switchover");
    strbuf_printf(out, "ensemble migration of vswitch %s: %zu VM%s\n",
                  p->pos[0], json_object_size(migs),
                  json_object_size(migs) == 1 ? "" : "s");
    table_render(t, out);
    table_destroy(t);
    if (sw && strcmp(sw, "now")) {
        strbuf_printf(out, "each destination is being prepared (inactive, "
                           "switch-over %s);\n'mignet migration switchover "
                           "ID' switches one over\n", sw);
    }
    strbuf_printf(out, "the switch stays split until every migration is "
                       "over;\n'mignet vswitch show %s' follows it\n",
                  p->pos[0]);
    return CLI_EXIT_OK;
}

enum cli_exit
cli_render_vswitch(const struct cli_parsed *p, const json_t *reply,
                   uint64_t now_unix_ms, struct strbuf *out, char *err,
                   size_t errlen)
{
    switch (p->cmd->render) {
    case CLI_RENDER_VSWITCHES:
        return render_switches(reply, out, err, errlen);
    case CLI_RENDER_VSWITCH:
        return render_switch(reply, now_unix_ms, out, err, errlen);
    case CLI_RENDER_VSWITCH_FLOWS:
        return render_flows(reply, out, err, errlen);
    case CLI_RENDER_VSWITCH_MIGRATE:
        return render_migrate(p, reply, out, err, errlen);
    default:
        return refuse(err, errlen, "no renderer");
    }
}
