/* render_plan.c: a migration's plan and the fabric, for people.
 *
 * Pure: JSON in, text out.  The plan reads as the seed-004 loop ran: the
 * paths, the estimate after each one was added, why the loop stopped,
 * whether the deadline is met and how the flows went in.  Anything the
 * answer lacks prints as "-"; only an answer of the wrong shape (not an
 * object, no list of paths) is refused. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static enum cli_exit
refuse(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return CLI_EXIT_BAD_REPLY;
}

static const char *
str_or(const json_t *o, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* The number at 'key', or NAN. */
static double
num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "30.0 Mbit/s" */
static void
put_rate(struct strbuf *out, double bps)
{
    static const char *const units[] = {"bit/s", "kbit/s", "Mbit/s",
                                        "Gbit/s", "Tbit/s"};
    if (isnan(bps)) {
        strbuf_puts(out, "-");
        return;
    }
    size_t u = 0;
    while (bps >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
        bps /= 1000;
        u++;
    }
    strbuf_printf(out, "%.1f %s", bps, units[u]);
}

/* "1234 ms" with 'decimals', or "-". */
static void
put_ms(struct strbuf *out, double ms, int decimals)
{
    if (isnan(ms)) {
        strbuf_puts(out, "-");
    } else {
        strbuf_printf(out, "%.*f ms", decimals, ms);
    }
}

/* Renders rows of text cells built by 'fill' under 'headers'. */
typedef void fill_fn(const json_t *row, struct strbuf *cells);

static void
put_table(const json_t *rows, const char *const *headers, size_t n_cols,
          const size_t *right, size_t n_right, fill_fn *fill,
          struct strbuf *out)
{
    struct table *t = table_create(n_cols, headers);
    struct strbuf cells[8];
    const char *ptrs[8];
    if (!t || n_cols > 8) {
        table_destroy(t);
        return;
    }
    for (size_t i = 0; i < n_right; i++) {
        table_align_right(t, right[i]);
    }
    for (size_t c = 0; c < n_cols; c++) {
        strbuf_init(&cells[c]);
    }
    size_t i;
    const json_t *row;
    json_array_foreach (rows, i, row) {
        for (size_t c = 0; c < n_cols; c++) {
            strbuf_clear(&cells[c]);
        }
        fill(row, cells);
        for (size_t c = 0; c < n_cols; c++) {
            ptrs[c] = strbuf_str(&cells[c]);
        }
        table_add_row(t, ptrs);
    }
    table_render(t, out);
    table_destroy(t);
    for (size_t c = 0; c < n_cols; c++) {
        strbuf_destroy(&cells[c]);
    }
}

static void
fill_path(const json_t *p, struct strbuf *c)
{
    strbuf_printf(&c[0], "%.0f", num(p, "index") + 1);
    strbuf_puts(&c[1], json_is_true(json_object_get(p, "added")) ? "yes"
                                                                 : "no");
    strbuf_printf(&c[2], "%.0f", num(p, "tcp_port"));
    size_t i;
    const json_t *n;
    json_array_foreach (json_object_get(p, "nodes"), i, n) {
        strbuf_printf(&c[3], "%s%s", i ? " " : "",
                      json_is_string(n) ? json_string_value(n) : "?");
    }
}

static void
fill_step(const json_t *s, struct strbuf *c)
{
    strbuf_printf(&c[0], "%.0f", num(s, "paths"));
    put_rate(&c[1], num(s, "bandwidth_bps"));
    put_ms(&c[2], num(s, "setup_ms"), 0);
    put_ms(&c[3], num(s, "total_ms"), 0);
    put_ms(&c[4], num(s, "downtime_ms"), 1);
    strbuf_printf(&c[5], "%.0f", num(s, "rounds"));
    strbuf_puts(&c[6], str_or(s, "precopy_stop", "-"));
}

enum cli_exit
cli_render_plan(const json_t *plan, struct strbuf *out, char *err,
                size_t errlen)
{
    if (!plan || json_is_null(plan)) {
        strbuf_puts(out, "no plan: the controller has no fabric, or the "
                         "nodes are not its hosts\n");
        return CLI_EXIT_OK;
    }
    const json_t *paths = json_object_get(plan, "paths");
    if (!json_is_object(plan) || !json_is_array(paths)) {
        return refuse(err, errlen, "the plan has no list of paths");
    }
    double mem = num(plan, "memory_mb"), deadline = num(plan, "deadline_ms");
    strbuf_printf(out, "plan: %s route %s -> %s",
                  str_or(plan, "strategy", "-"),
                  str_or(plan, "from_host", "-"),
                  str_or(plan, "to_host", "-"));
    if (isnan(mem)) {
        strbuf_puts(out, " (no estimate: give --memory-mb)\n");
    } else {
        strbuf_printf(out, ", %.0f MiB, %.6g dirty pages/s of %.0f B",
                      mem, num(plan, "dirty_pages_per_s"),
                      num(plan, "page_size"));
        double ws = num(plan, "working_set_mb");
        if (!isnan(ws)) {
            strbuf_printf(out, " (writes on %.0f MiB)", ws);
        }
        if (!isnan(deadline)) {
            strbuf_printf(out, ", deadline %.0f ms", deadline);
        }
        strbuf_putc(out, '\n');
        /* Which bandwidth the estimate assumed (transfer learning). */
        const char *src = str_or(plan, "bandwidth_source", "nominal");
        if (!strcmp(src, "learned")) {
            strbuf_puts(out, "bandwidth: learned, ");
            put_rate(out, num(plan, "learned_bandwidth_Bps") * 8);
            strbuf_printf(out, " a path from %.0f transfer(s)\n",
                          num(plan, "learned_transfers"));
        } else {
            strbuf_printf(out, "bandwidth: %s (the links')\n", src);
        }
    }
    static const char *const path_h[] = {"PATH", "ADDED", "TCP_PORT",
                                         "ROUTE"};
    static const size_t path_r[] = {0, 2};
    put_table(paths, path_h, 4, path_r, 2, fill_path, out);

    const json_t *steps = json_object_get(plan, "steps");
    if (json_is_array(steps) && json_array_size(steps)) {
        static const char *const step_h[] = {
            "STEP_PATHS", "BANDWIDTH", "SET-UP", "ESTIMATE", "DOWNTIME",
            "ROUNDS", "PRECOPY_STOP",
        };
        static const size_t step_r[] = {0, 1, 2, 3, 4, 5};
        put_table(steps, step_h, 7, step_r, 6, fill_step, out);
    }
    const char *stop = str_or(plan, "stop", NULL);
    if (stop) {
        strbuf_printf(out, "stopped adding paths: %s (%s)\n  %s\n", stop,
                      str_or(plan, "stop_reason", "-"),
                      str_or(plan, "explain", "-"));
    }
    const json_t *met = json_object_get(plan, "deadline_met");
    if (json_is_boolean(met)) {
        strbuf_printf(out, "deadline: %s\n",
                      json_is_true(met) ? "met" : "missed");
    }
    const json_t *in = json_object_get(plan, "install");
    if (json_is_object(in)) {
        strbuf_printf(out, "flows: %s, %.0f on %.0f switch(es)",
                      str_or(in, "state", "-"), num(in, "flows"),
                      num(in, "switches"));
        double ms = num(in, "install_ms");
        if (!isnan(ms)) {
            strbuf_printf(out, ", confirmed in %.3f ms", ms);
        }
        const char *e = str_or(in, "error", NULL);
        if (e) {
            strbuf_printf(out, " (%s)", e);
        }
        strbuf_putc(out, '\n');
    }
    double us = num(plan, "planning_us");
    if (!isnan(us)) {
        strbuf_printf(out, "planned in %.0f us\n", us);
    }
    return CLI_EXIT_OK;
}

static void
fill_switch(const json_t *s, struct strbuf *c)
{
    strbuf_puts(&c[0], str_or(s, "name", "-"));
    strbuf_puts(&c[1], str_or(s, "dpid", "-"));
    strbuf_puts(&c[2], json_is_true(json_object_get(s, "connected"))
                           ? "yes"
                           : "no");
    strbuf_printf(&c[3], "%.0f", num(s, "ports"));
    strbuf_printf(&c[4], "%.0f", num(s, "lldp_sent"));
    strbuf_printf(&c[5], "%.0f", num(s, "lldp_received"));
}

static void
fill_link(const json_t *l, struct strbuf *c)
{
    strbuf_puts(&c[0], str_or(l, "a", "-"));
    strbuf_puts(&c[1], str_or(l, "b", "-"));
    put_rate(&c[2], num(l, "capacity_bps"));
    if (json_is_true(json_object_get(l, "chosen"))) {
        strbuf_puts(&c[3], "chosen");
    } else {
        strbuf_printf(&c[3], "%.0f", num(l, "weight"));
    }
    strbuf_puts(&c[4], str_or(l, "source", "-"));
    strbuf_puts(&c[5], json_is_true(json_object_get(l, "lldp")) ? "yes"
                                                                : "no");
}

static void
fill_host(const json_t *h, struct strbuf *c)
{
    strbuf_puts(&c[0], str_or(h, "name", "-"));
    strbuf_puts(&c[1], str_or(h, "switch", "-"));
    strbuf_printf(&c[2], "%.0f", num(h, "nic"));
    put_rate(&c[3], num(h, "capacity_bps"));
}

enum cli_exit
cli_render_fabric(const json_t *f, struct strbuf *out, char *err,
                  size_t errlen)
{
    const json_t *sw = json_object_get(f, "switches");
    const json_t *links = json_object_get(f, "links");
    const json_t *hosts = json_object_get(f, "hosts");
    if (!json_is_object(f) || !json_is_array(sw) || !json_is_array(links)
        || !json_is_array(hosts)) {
        return refuse(err, errlen, "expected switches, links and hosts");
    }
    if (!json_is_true(json_object_get(f, "configured"))) {
        strbuf_puts(out, "no fabric configured (mignetd --fabric FILE, "
                         "--fabric-switch NAME=TARGET)\n");
        return CLI_EXIT_OK;
    }
    strbuf_printf(out, "fabric: %s, first paths by %s, statistics every "
                       "%.0f ms, LLDP every %.0f ms\n",
                  str_or(f, "file", "(discovered)"),
                  str_or(f, "strategy", "-"), num(f, "poll_ms"),
                  num(f, "lldp_ms"));
    static const char *const sw_h[] = {"SWITCH", "DPID", "CONNECTED",
                                       "PORTS", "LLDP_SENT",
                                       "LLDP_RECEIVED"};
    static const size_t sw_r[] = {3, 4, 5};
    if (json_array_size(sw)) {
        put_table(sw, sw_h, 6, sw_r, 3, fill_switch, out);
    }
    static const char *const link_h[] = {"A", "B", "CAPACITY", "WEIGHT",
                                         "SOURCE", "LLDP"};
    static const size_t link_r[] = {2, 3};
    put_table(links, link_h, 6, link_r, 2, fill_link, out);
    static const char *const host_h[] = {"HOST", "SWITCH", "NIC",
                                         "CAPACITY"};
    static const size_t host_r[] = {2, 3};
    put_table(hosts, host_h, 4, host_r, 2, fill_host, out);
    return CLI_EXIT_OK;
}

/* ---- Transfer learning ---- */

/* "nominal 1.0 Gbit/s: 1110 ms (error 90.0 %)", or "-". */
static void
put_estimate(struct strbuf *out, const json_t *e)
{
    if (!json_is_object(e)) {
        strbuf_puts(out, "-");
        return;
    }
    strbuf_printf(out, "%s ", str_or(e, "bandwidth_source", "-"));
    put_rate(out, num(e, "bandwidth_bps"));
    strbuf_puts(out, ": ");
    put_ms(out, num(e, "total_ms"), 0);
    strbuf_printf(out, " (error %.1f %%)", num(e, "error_ratio") * 100);
}

static void
fill_transfer(const json_t *t, struct strbuf *c)
{
    strbuf_printf(&c[0], "%.0f", num(t, "id"));
    strbuf_printf(&c[1], "%s -> %s", str_or(t, "from", "-"),
                  str_or(t, "to", "-"));
    strbuf_printf(&c[2], "%s/%s x%.0f", str_or(t, "mode", "-"),
                  str_or(t, "transport", "-"), num(t, "paths"));
    strbuf_printf(&c[3], "%.0f", num(t, "mem_mb"));
    put_ms(&c[4], num(t, "total_ms"), 0);
    put_rate(&c[5], num(t, "goodput_Bps") * 8);
    put_estimate(&c[6], json_object_get(t, "estimate_before"));
}

static void
fill_pair(const json_t *p, struct strbuf *c)
{
    strbuf_puts(&c[0], str_or(p, "from", "-"));
    strbuf_puts(&c[1], str_or(p, "to", "-"));
    strbuf_printf(&c[2], "%.0f", num(p, "transfers"));
    put_rate(&c[3], num(p, "bandwidth_bps"));
    put_rate(&c[4], num(p, "nominal_bps"));
}

enum cli_exit
cli_render_transfers(enum cli_render kind, const json_t *reply,
                     struct strbuf *out, char *err, size_t errlen)
{
    if (kind == CLI_RENDER_TRANSFERS || kind == CLI_RENDER_TRANSFER_PAIRS) {
        bool pairs = kind == CLI_RENDER_TRANSFER_PAIRS;
        const json_t *rows = json_object_get(reply, pairs ? "pairs"
                                                          : "transfers");
        if (!json_is_array(rows)) {
            return refuse(err, errlen, pairs ? "expected a list of pairs"
                                             : "expected a list of "
                                               "transfers");
        }
        if (pairs) {
            static const char *const h[] = {"FROM", "TO", "TRANSFERS",
                                            "LEARNED", "NOMINAL"};
            static const size_t r[] = {2, 3, 4};
            put_table(rows, h, 5, r, 3, fill_pair, out);
        } else {
            static const char *const h[] = {"ID", "PAIR", "MODE", "MEM_MB",
                                            "TOTAL", "GOODPUT",
                                            "ESTIMATE_BEFORE"};
            static const size_t r[] = {0, 3, 4, 5};
            put_table(rows, h, 7, r, 4, fill_transfer, out);
        }
        return CLI_EXIT_OK;
    }
    const json_t *t = json_object_get(reply, "transfer");
    const json_t *pair = json_object_get(reply, "pair");
    if (!json_is_object(t) || !json_is_object(pair)) {
        return refuse(err, errlen, "expected the transfer and its pair");
    }
    strbuf_printf(out, "transfer %.0f %s -> %s: ", num(t, "id"),
                  str_or(t, "from", "-"), str_or(t, "to", "-"));
    put_ms(out, num(t, "total_ms"), 0);
    strbuf_puts(out, ", goodput ");
    put_rate(out, num(t, "goodput_Bps") * 8);
    strbuf_puts(out, "\nestimate before: ");
    put_estimate(out, json_object_get(t, "estimate_before"));
    strbuf_puts(out, "\nestimate now:    ");
    put_estimate(out, json_object_get(reply, "estimate_after"));
    strbuf_printf(out, "\npair %s -> %s: learned ",
                  str_or(pair, "from", "-"), str_or(pair, "to", "-"));
    put_rate(out, num(pair, "bandwidth_bps"));
    strbuf_printf(out, " a path from %.0f transfer(s), nominal ",
                  num(pair, "transfers"));
    put_rate(out, num(pair, "nominal_bps"));
    strbuf_putc(out, '\n');
    return CLI_EXIT_OK;
}
