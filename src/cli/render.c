/* render.c: turns the controller's JSON answers into text for people.
 *
 * Pure: JSON in, text out, 'now' passed in.  It accepts lists either bare
 * or wrapped in an object ({"vms": [...]}), shows what is missing as "-",
 * and refuses (CLI_EXIT_BAD_REPLY) only answers it cannot read at all.
 *
 * One time format everywhere: a "*_unix_ms" value is shown as RFC 3339 UTC
 * with milliseconds and its distance from now ("2026-12-02T13:05:01.784Z
 * (in 4.9 s)"), a "*_ms" duration in seconds ("4.25 s", "2 min 3 s"); the
 * key loses its unit suffix.  --json prints the answer as it came. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static enum cli_exit
bad_reply(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum cli_exit
bad_reply(char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
    return CLI_EXIT_BAD_REPLY;
}

/* Appends a scalar for people: strings as they are, booleans as yes/no,
 * null as "-", objects and arrays as compact JSON. */
static void
put_value(const json_t *v, struct strbuf *out)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        strbuf_append(out, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        strbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        strbuf_printf(out, "%.6g", json_real_value(v));
        break;
    case JSON_TRUE:
        strbuf_puts(out, "yes");
        break;
    case JSON_FALSE:
        strbuf_puts(out, "no");
        break;
    case JSON_NULL:
        strbuf_puts(out, "-");
        break;
    default: {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        strbuf_puts(out, text ? text : "?");
        free(text);
        break;
    }
    }
}

/* Looks up 'spec' in 'obj': alternatives separated by '|', each a dotted
 * path ("config.mac").  Returns the first found, or NULL. */
static const json_t *
lookup(const json_t *obj, const char *spec)
{
    char path[128];
    while (*spec) {
        size_t n = strcspn(spec, "|");
        if (n < sizeof path) {
            memcpy(path, spec, n);
            path[n] = '\0';
            const json_t *v = obj;
            for (char *save = NULL, *key = strtok_r(path, ".", &save);
                 key && v; key = strtok_r(NULL, ".", &save)) {
                v = json_is_object(v) ? json_object_get(v, key) : NULL;
            }
            if (v && v != obj) {
                return v;
            }
        }
        spec += n + (spec[n] == '|');
    }
    return NULL;
}

/* The list in an answer: the answer itself, its member 'key', or its only
 * array member. */
static const json_t *
find_list(const json_t *reply, const char *key)
{
    if (json_is_array(reply)) {
        return reply;
    }
    if (!json_is_object(reply)) {
        return NULL;
    }
    const json_t *list = json_object_get(reply, key);
    if (json_is_array(list)) {
        return list;
    }
    const char *k;
    const json_t *v, *found = NULL;
    json_object_foreach ((json_t *) reply, k, v) {
        if (json_is_array(v)) {
            if (found) {
                return NULL;
            }
            found = v;
        }
    }
    return found;
}

enum col_fmt {
    COL_VALUE,    /* as put_value() shows it */
    COL_TIME,     /* a Unix-millisecond time */
    COL_DURATION, /* milliseconds */
};

struct column {
    const char *header;
    const char *spec; /* for lookup() */
    bool right;
    enum col_fmt fmt;
};

void
cli_put_duration(struct strbuf *out, uint64_t ms, bool precise)
{
    if (ms < 60000) {
        if (precise) {
            /* Milliseconds exactly, trailing zeros dropped: "4.25 s". */
            char frac[8];
            snprintf(frac, sizeof frac, "%03u", (unsigned) (ms % 1000));
            size_t n = strlen(frac);
            while (n > 1 && frac[n - 1] == '0') {
                frac[--n] = '\0';
            }
            strbuf_printf(out, "%u.%s s", (unsigned) (ms / 1000), frac);
        } else {
            strbuf_printf(out, "%u.%u s", (unsigned) (ms / 1000),
                          (unsigned) (ms % 1000 / 100));
        }
    } else if (ms < 3600000) {
        strbuf_printf(out, "%u min %u s", (unsigned) (ms / 60000),
                      (unsigned) (ms % 60000 / 1000));
    } else if (ms < 86400000) {
        strbuf_printf(out, "%u h %u min", (unsigned) (ms / 3600000),
                      (unsigned) (ms % 3600000 / 60000));
    } else {
        strbuf_printf(out, "%" PRIu64 " d %u h", ms / 86400000,
                      (unsigned) (ms % 86400000 / 3600000));
    }
}

void
cli_put_time(struct strbuf *out, uint64_t t, uint64_t now)
{
    time_t secs = (time_t) (t / 1000);
    struct tm tm;
    char when[40] = "?";
    if (t / 1000 <= (uint64_t) INT32_MAX * 64 && gmtime_r(&secs, &tm)) {
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    }
    strbuf_printf(out, "%s.%03uZ", when, (unsigned) (t % 1000));
    if (!now) {
        return;
    }
    strbuf_puts(out, t > now ? " (in " : " (");
    cli_put_duration(out, t >= now ? t - now : now - t, false);
    strbuf_puts(out, t > now ? ")" : " ago)");
}

/* A JSON time or duration as put_value() would show it when it is not a
 * non-negative integer (null shows "-"). */
static void
put_time_value(const json_t *v, enum col_fmt fmt, uint64_t now,
               struct strbuf *out)
{
    if (!(json_is_integer(v) && json_integer_value(v) >= 0)
        && !(fmt == COL_DURATION && json_is_real(v)
             && json_real_value(v) >= 0)) {
        put_value(v ? v : json_null(), out);
    } else if (fmt == COL_TIME) {
        cli_put_time(out, (uint64_t) json_integer_value(v), now);
    } else if (json_is_real(v)) {
        double ms = json_real_value(v);
        cli_put_duration(out, ms > 0 && ms < 1e15 ? (uint64_t) (ms + 0.5) : 0,
                         true);
    } else {
        cli_put_duration(out, (uint64_t) json_integer_value(v), true);
    }
}

/* Whether 'key' ends in 'suffix'. */
static bool
ends_with(const char *key, const char *suffix)
{
    size_t k = strlen(key), n = strlen(suffix);
    return k > n && !strcmp(key + k - n, suffix);
}

/* Renders the rows of 'list' under 'cols'.  A "due" spec is shown as a
 * time relative to 'now'; a removed map entry shows "(removed)" as node. */
static enum cli_exit
render_table(const json_t *list, const struct column *cols, size_t n_cols,
             uint64_t now, struct strbuf *out, char *err, size_t errlen)
{
    const char *headers[16];
    const char *cells[16];
    struct strbuf texts[16];

    for (size_t c = 0; c < n_cols; c++) {
        headers[c] = cols[c].header;
        strbuf_init(&texts[c]);
    }
    struct table *t = table_create(n_cols, headers);
    if (!t) {
        return bad_reply(err, errlen, "out of memory");
    }
    for (size_t c = 0; c < n_cols; c++) {
        if (cols[c].right) {
            table_align_right(t, c);
        }
    }

    enum cli_exit rc = CLI_EXIT_OK;
    size_t i;
    const json_t *row;
    json_array_foreach (list, i, row) {
        if (!json_is_object(row)) {
            rc = bad_reply(err, errlen, "list item %zu is not an object", i);
            break;
        }
        bool removed = json_is_true(json_object_get(row, "removed"));
        for (size_t c = 0; c < n_cols; c++) {
            const json_t *v = lookup(row, cols[c].spec);
            strbuf_clear(&texts[c]);
            if (cols[c].fmt != COL_VALUE) {
                put_time_value(v, cols[c].fmt, now, &texts[c]);
            } else if (removed && !strcmp(cols[c].header, "NODE")) {
                strbuf_puts(&texts[c], "(removed)");
            } else if (v) {
                put_value(v, &texts[c]);
            } else {
                strbuf_puts(&texts[c], "-");
            }
            cells[c] = strbuf_str(&texts[c]);
        }
        if (table_add_row(t, cells)) {
            rc = bad_reply(err, errlen, "out of memory");
            break;
        }
    }
    if (rc == CLI_EXIT_OK) {
        table_render(t, out);
    }
    table_destroy(t);
    for (size_t c = 0; c < n_cols; c++) {
        strbuf_destroy(&texts[c]);
    }
    return rc;
}

/* "key: value" lines, nested objects flattened with dotted keys; times
 * and durations as the top of this file says. */
static void
collect_pairs(const json_t *obj, const char *prefix, uint64_t now,
              struct table *t)
{
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *) obj, key, v) {
        struct strbuf name, text;
        strbuf_init(&name);
        strbuf_init(&text);
        strbuf_printf(&name, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (json_is_object(v) && json_object_size(v)) {
            collect_pairs(v, strbuf_str(&name), now, t);
        } else {
            enum col_fmt fmt = ends_with(key, "_unix_ms") ? COL_TIME
                               : ends_with(key, "_ms")    ? COL_DURATION
                                                          : COL_VALUE;
            if (fmt != COL_VALUE) {
                /* "started_unix_ms" -> "started", "delay_ms" -> "delay" */
                size_t cut = fmt == COL_TIME ? 8 : 3;
                strbuf_truncate(&name, name.len - cut);
            }
            strbuf_putc(&name, ':');
            if (fmt != COL_VALUE && (json_is_number(v) || json_is_null(v))) {
                put_time_value(v, fmt, now, &text);
            } else {
                put_value(v, &text);
            }
            const char *cells[2] = {strbuf_str(&name), strbuf_str(&text)};
            table_add_row(t, cells);
        }
        strbuf_destroy(&name);
        strbuf_destroy(&text);
    }
}

enum cli_exit
cli_render_object(const json_t *reply, uint64_t now, struct strbuf *out,
                  char *err, size_t errlen)
{
    if (!reply) {
        return CLI_EXIT_OK;
    }
    if (!json_is_object(reply)) {
        return bad_reply(err, errlen, "expected a JSON object");
    }
    static const char *const headers[2] = {"", ""};
    struct table *t = table_create(2, headers);
    if (!t) {
        return bad_reply(err, errlen, "out of memory");
    }
    collect_pairs(reply, "", now, t);
    struct strbuf all;
    strbuf_init(&all);
    table_render(t, &all);
    /* Drop the empty header line. */
    const char *body = strchr(strbuf_str(&all), '\n');
    strbuf_puts(out, body ? body + 1 : "");
    strbuf_destroy(&all);
    table_destroy(t);
    return CLI_EXIT_OK;
}

static const struct column node_cols[] = {
    {"ID", "id|name", false, COL_VALUE},
    {"ADDRESS", "address", false, COL_VALUE},
    {"CONNECTED", "connected", false, COL_VALUE},
    {"STATE", "state", false, COL_VALUE},
    {"VMS", "vms|n_vms", true, COL_VALUE},
    {"REFRESH", "refresh_ms|expected_refresh_ms", true, COL_DURATION},
    {"OBSERVED", "refresh_mean_ms|refresh.mean_ms|observed_refresh_ms",
     true, COL_DURATION},
    {"MAP_VERSION", "acked_version|map_version|applied_version", true, COL_VALUE},
};

static const struct column vm_cols[] = {
    {"ID", "id|name", false, COL_VALUE},
    {"NODE", "node", false, COL_VALUE},
    {"EPOCH", "epoch", true, COL_VALUE},
    {"MAC", "mac|config.mac", false, COL_VALUE},
    {"IP", "ip|config.ip", false, COL_VALUE},
    {"VNI", "vni|config.vni", true, COL_VALUE},
    {"VLAN", "vlan|config.vlan", true, COL_VALUE},
    {"MIGRATION", "migration", true, COL_VALUE},
    {"TASKS", "pending_tasks|tasks|n_tasks", true, COL_VALUE},
};

static const struct column task_cols[] = {
    {"VM", "vm", false, COL_VALUE},
    {"NODE", "node", false, COL_VALUE},
    {"EPOCH", "epoch", true, COL_VALUE},
    {"KIND", "kind", false, COL_VALUE},
    {"DUE", "due_unix_ms", false, COL_TIME},
};

static const struct column binding_cols[] = {
    {"VM", "vm", false, COL_VALUE},
    {"ID", "id", true, COL_VALUE},
    {"NODE", "node", false, COL_VALUE},
    {"MAC", "mac", false, COL_VALUE},
    {"IP", "ip", false, COL_VALUE},
    {"VLAN", "vlan", true, COL_VALUE},
    {"TYPE", "type", false, COL_VALUE},
    {"ORIGIN", "origin", false, COL_VALUE},
    {"STATUS", "port_status", false, COL_VALUE},
    {"SECURITY", "port_security", false, COL_VALUE},
    {"EXPIRES", "expires_unix_ms", false, COL_TIME},
};

static const struct column map_cols[] = {
    {"VM", "vm|id", false, COL_VALUE},
    {"NODE", "node", false, COL_VALUE},
    {"EPOCH", "epoch", true, COL_VALUE},
    {"VERSION", "version", true, COL_VALUE},
    {"MAC", "mac|config.mac", false, COL_VALUE},
    {"IP", "ip|config.ip", false, COL_VALUE},
    {"VNI", "vni|config.vni", true, COL_VALUE},
    {"VLAN", "vlan|config.vlan", true, COL_VALUE},
};

#define N(A) (sizeof (A) / sizeof (A)[0])

static enum cli_exit
render_list(const json_t *reply, const char *key, const struct column *cols,
            size_t n_cols, uint64_t now, struct strbuf *out, char *err,
            size_t errlen)
{
    const json_t *list = find_list(reply, key);
    if (!list) {
        return bad_reply(err, errlen, "expected a list of %s", key);
    }
    return render_table(list, cols, n_cols, now, out, err, errlen);
}

static enum cli_exit
render_map(const json_t *reply, uint64_t now, struct strbuf *out, char *err,
           size_t errlen)
{
    const json_t *version = json_object_get(reply, "version");
    if (!json_is_integer(version)) {
        return bad_reply(err, errlen, "map answer has no integer 'version'");
    }
    strbuf_printf(out, "map version %" JSON_INTEGER_FORMAT,
                  json_integer_value(version));
    const json_t *since = json_object_get(reply, "since");
    if (json_is_integer(since)) {
        strbuf_printf(out, ", changes since %" JSON_INTEGER_FORMAT,
                      json_integer_value(since));
    }
    if (json_is_true(json_object_get(reply, "full"))) {
        strbuf_puts(out, " (full map)");
    }
    strbuf_putc(out, '\n');
    return render_list(reply, "entries", map_cols, N(map_cols), now, out,
                       err, errlen);
}

static enum cli_exit
render_migrate(const struct cli_parsed *p, const json_t *reply,
               uint64_t now, struct strbuf *out, char *err, size_t errlen)
{
    const json_t *id = json_object_get(reply, "migration");
    const json_t *epoch = json_object_get(reply, "epoch");
    const json_t *delay = json_object_get(reply, "delay_ms");
    if (!json_is_integer(id) || !json_is_integer(epoch)
        || !json_is_integer(delay)) {
        return bad_reply(err, errlen, "migrate answer lacks integer "
                                      "'migration', 'epoch' or 'delay_ms'");
    }
    const char *sw = json_string_value(json_object_get(reply, "switchover"));
    if (sw && strcmp(sw, "now")) {
        strbuf_printf(out,
                      "migration %" JSON_INTEGER_FORMAT ": %s -> %s at epoch "
                      "%" JSON_INTEGER_FORMAT ", switch-over %s\n"
                      "the destination is being prepared (inactive); "
                      "'mignet migration show %" JSON_INTEGER_FORMAT "' "
                      "follows it\n",
                      json_integer_value(id), p->pos[0],
                      cli_opt_value(p, "to"), json_integer_value(epoch), sw,
                      json_integer_value(id));
        return CLI_EXIT_OK;
    }
    /* What the core guarantees (migrate.c, silence.c): the deletion delay
     * starts once both agents confirmed the switch-over (or the prepare
     * timeout passed); every node acknowledging the new location ends it
     * early; a node silent beyond its bound holds it, up to the delay
     * ceiling; the source's agent must then confirm the deletion.  So no
     * deadline is promised, only the delay and what moves it. */
    strbuf_printf(out,
                  "migration %" JSON_INTEGER_FORMAT ": %s -> %s at epoch "
                  "%" JSON_INTEGER_FORMAT "\n"
                  "the source relays until its copy is deleted, after the "
                  "deletion delay of\n",
                  json_integer_value(id), p->pos[0],
                  cli_opt_value(p, "to"), json_integer_value(epoch));
    cli_put_duration(out, (uint64_t) json_integer_value(delay), true);
    strbuf_printf(out,
                  " counted from the switch-over once both nodes confirmed "
                  "it (or the\nprepare timeout passed); earlier once every "
                  "node has the new location, later\nwhile a node stays "
                  "silent (at most to the controller's delay ceiling);\n"
                  "'mignet migration show %" JSON_INTEGER_FORMAT "' says "
                  "when it was cleaned\n",
                  json_integer_value(id));
    return CLI_EXIT_OK;
}

/* A migration's phases in the order they happen, with the member that
 * holds the time each was reached (GET /v1/migrations/{id}). */
static const struct {
    const char *key;
    const char *label;
} timeline[] = {
    {"started_unix_ms", "preparing"},
    {"prepared_unix_ms", "prepared"},
    {"switched_unix_ms", "switched"},
    {"activated_unix_ms", "activated"},
    {"relaying_unix_ms", "relaying"},
    {"cleaning_unix_ms", "cleaning"},
    {"cleaned_unix_ms", "cleaned"},
    {"aborted_unix_ms", "aborted"},
    {"prepare_deadline_unix_ms", "deadline"},
};

/* "timeline:" and one line per phase reached: its time and the time since
 * the start ("+4.25 s"); the prepare deadline only while it can still
 * abort the migration. */
static void
render_timeline(const json_t *m, uint64_t now, struct strbuf *out)
{
    const json_t *start = json_object_get(m, "started_unix_ms");
    const char *phase = json_string_value(json_object_get(m, "phase"));
    bool waiting = phase && (!strcmp(phase, "preparing")
                             || !strcmp(phase, "prepared"));
    if (!json_is_integer(start) || json_integer_value(start) <= 0) {
        return;
    }
    uint64_t t0 = (uint64_t) json_integer_value(start);
    static const char *const headers[3] = {"", "", ""};
    struct table *t = table_create(3, headers);
    if (!t) {
        return;
    }
    for (size_t i = 0; i < N(timeline); i++) {
        const json_t *v = json_object_get(m, timeline[i].key);
        bool deadline = !strcmp(timeline[i].label, "deadline");
        if (!json_is_integer(v) || json_integer_value(v) <= 0
            || (deadline && !waiting)) {
            continue;
        }
        uint64_t ts = (uint64_t) json_integer_value(v);
        struct strbuf when, since;
        strbuf_init(&when);
        strbuf_init(&since);
        cli_put_time(&when, ts, 0);
        strbuf_puts(&since, ts >= t0 ? "+" : "-");
        cli_put_duration(&since, ts >= t0 ? ts - t0 : t0 - ts, true);
        if (deadline) {
            strbuf_printf(&since, " (aborted then unless switched over)");
        }
        const char *cells[3] = {timeline[i].label, strbuf_str(&when),
                                strbuf_str(&since)};
        table_add_row(t, cells);
        strbuf_destroy(&when);
        strbuf_destroy(&since);
    }
    struct strbuf all;
    strbuf_init(&all);
    table_render(t, &all);
    const char *body = strchr(strbuf_str(&all), '\n');
    strbuf_puts(out, "timeline:");
    if (phase && !waiting && strcmp(phase, "cleaned")
        && strcmp(phase, "aborted")) {
        strbuf_printf(out, " (now %s, ", phase);
        cli_put_duration(out, now > t0 ? now - t0 : 0, false);
        strbuf_puts(out, " since the start)");
    }
    strbuf_putc(out, '\n');
    for (const char *line = body ? body + 1 : ""; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t) (nl - line + 1) : strlen(line);
        strbuf_puts(out, "  ");
        strbuf_append(out, line, n);
        line += n;
    }
    strbuf_destroy(&all);
    table_destroy(t);
}

enum cli_exit
cli_render_reply(const struct cli_parsed *p, const json_t *reply,
                 uint64_t now_unix_ms, struct strbuf *out, char *err,
                 size_t errlen)
{
    enum cli_render kind = p->cmd->render;
    if (!reply && kind != CLI_RENDER_OBJECT && kind != CLI_RENDER_DONE) {
        return bad_reply(err, errlen, "empty answer");
    }
    switch (kind) {
    case CLI_RENDER_OBJECT:
        return cli_render_object(reply, now_unix_ms, out, err, errlen);
    case CLI_RENDER_NODES:
        return render_list(reply, "nodes", node_cols, N(node_cols),
                           now_unix_ms, out, err, errlen);
    case CLI_RENDER_VMS:
        return render_list(reply, "vms", vm_cols, N(vm_cols), now_unix_ms,
                           out, err, errlen);
    case CLI_RENDER_TASKS:
        return render_list(reply, "tasks", task_cols, N(task_cols),
                           now_unix_ms, out, err, errlen);
    case CLI_RENDER_MAP:
        return render_map(reply, now_unix_ms, out, err, errlen);
    case CLI_RENDER_BINDINGS:
        return render_list(reply, "bindings", binding_cols, N(binding_cols),
                           now_unix_ms, out, err, errlen);
    case CLI_RENDER_MIGRATE: {
        enum cli_exit rc = render_migrate(p, reply, now_unix_ms, out, err,
                                          errlen);
        if (rc == CLI_EXIT_OK && cli_opt_value(p, "plan")) {
            rc = cli_render_plan(json_object_get(reply, "plan"), out, err,
                                 errlen);
        }
        return rc;
    }
    case CLI_RENDER_MIGRATION: {
        if (!json_is_object(reply)) {
            return bad_reply(err, errlen, "expected a JSON object");
        }
        json_t *copy = json_copy((json_t *) reply);
        if (!copy) {
            return bad_reply(err, errlen, "out of memory");
        }
        json_object_del(copy, "plan");
        for (size_t i = 0; i < N(timeline); i++) {
            json_object_del(copy, timeline[i].key);
        }
        enum cli_exit rc = cli_render_object(copy, now_unix_ms, out, err,
                                             errlen);
        json_decref(copy);
        if (rc == CLI_EXIT_OK) {
            render_timeline(reply, now_unix_ms, out);
        }
        const json_t *plan = json_object_get(reply, "plan");
        if (rc == CLI_EXIT_OK && plan && !json_is_null(plan)) {
            rc = cli_render_plan(plan, out, err, errlen);
        }
        return rc;
    }
    case CLI_RENDER_FABRIC:
        return cli_render_fabric(reply, out, err, errlen);
    case CLI_RENDER_TRANSFER:
    case CLI_RENDER_TRANSFERS:
    case CLI_RENDER_TRANSFER_PAIRS:
        return cli_render_transfers(kind, reply, out, err, errlen);
    case CLI_RENDER_VSWITCHES:
    case CLI_RENDER_VSWITCH:
    case CLI_RENDER_VSWITCH_FLOWS:
    case CLI_RENDER_VSWITCH_MIGRATE:
        return cli_render_vswitch(p, reply, now_unix_ms, out, err, errlen);
    case CLI_RENDER_DONE:
        strbuf_printf(out, "deleted %s %s\n",
                      p->cmd->group ? p->cmd->group : "", p->pos[0]);
        return CLI_EXIT_OK;
    }
    return bad_reply(err, errlen, "no renderer");
}

/* Appends at most 'max' bytes of 's' on one line, control characters
 * shown as '?'. */
static void
put_line_safe(const char *s, size_t len, size_t max, struct strbuf *out)
{
    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char) s[i];
        strbuf_putc(out, c < 0x20 || c == 0x7f ? '?' : (char) c);
    }
    if (len > max) {
        strbuf_puts(out, "...");
    }
}

void
cli_format_error(int status, const char *reason, const char *body,
                 size_t body_len, struct strbuf *out)
{
    json_t *root = body_len ? json_loadb(body, body_len, 0, NULL) : NULL;
    const json_t *e = json_object_get(root, "error");
    const json_t *code = json_object_get(e, "code");
    const json_t *msg = json_object_get(e, "message");

    if (json_is_string(code)) {
        strbuf_printf(out, "controller error %d ", status);
        put_line_safe(json_string_value(code), json_string_length(code), 64,
                      out);
        if (json_is_string(msg)) {
            strbuf_puts(out, ": ");
            put_line_safe(json_string_value(msg), json_string_length(msg),
                          400, out);
        }
    } else {
        strbuf_printf(out, "controller answered %d ", status);
        put_line_safe(reason, strlen(reason), 64, out);
        if (body_len) {
            strbuf_puts(out, ": ");
            put_line_safe(body, body_len, 200, out);
        }
    }
    json_decref(root);
}
