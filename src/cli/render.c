/* render.c: turns the controller's JSON answers into text for people.
 *
 * Pure: JSON in, text out, 'now' passed in.  It accepts lists either bare
 * or wrapped in an object ({"vms": [...]}), shows what is missing as "-",
 * and refuses (CLI_EXIT_BAD_REPLY) only answers it cannot read at all. */
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

struct column {
    const char *header;
    const char *spec; /* for lookup() */
    bool right;
};

/* Formats a Unix-millisecond due time relative to 'now'. */
static void
put_due(const json_t *due, uint64_t now, struct strbuf *out)
{
    if (!json_is_integer(due) || json_integer_value(due) < 0) {
        put_value(due ? due : json_null(), out);
        return;
    }
    uint64_t t = (uint64_t) json_integer_value(due);
    time_t secs = (time_t) (t / 1000);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&secs, &tm)) {
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    }
    uint64_t d = t >= now ? t - now : now - t;
    strbuf_printf(out, "%s.%03uZ (%s%" PRIu64 ".%us)", when,
                  (unsigned) (t % 1000), t >= now ? "in " : "overdue ",
                  d / 1000, (unsigned) (d % 1000 / 100));
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
            size_t sl = strlen(cols[c].spec);
            if (sl >= 7 && !strcmp(cols[c].spec + sl - 7, "unix_ms")) {
                put_due(v, now, &texts[c]);
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

/* "key: value" lines, nested objects flattened with dotted keys. */
static void
collect_pairs(const json_t *obj, const char *prefix, struct table *t)
{
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *) obj, key, v) {
        struct strbuf name, text;
        strbuf_init(&name);
        strbuf_init(&text);
        strbuf_printf(&name, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (json_is_object(v) && json_object_size(v)) {
            collect_pairs(v, strbuf_str(&name), t);
        } else {
            strbuf_putc(&name, ':');
            put_value(v, &text);
            const char *cells[2] = {strbuf_str(&name), strbuf_str(&text)};
            table_add_row(t, cells);
        }
        strbuf_destroy(&name);
        strbuf_destroy(&text);
    }
}

static enum cli_exit
render_object(const json_t *reply, struct strbuf *out, char *err,
              size_t errlen)
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
    collect_pairs(reply, "", t);
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
    {"ID", "id|name", false},
    {"ADDRESS", "address", false},
    {"CONNECTED", "connected", false},
    {"STATE", "state", false},
    {"VMS", "vms|n_vms", true},
    {"REFRESH_MS", "refresh_ms|expected_refresh_ms", true},
    {"OBSERVED_MS", "refresh_mean_ms|refresh.mean_ms|observed_refresh_ms",
     true},
    {"MAP_VERSION", "acked_version|map_version|applied_version", true},
};

static const struct column vm_cols[] = {
    {"ID", "id|name", false},
    {"NODE", "node", false},
    {"EPOCH", "epoch", true},
    {"MAC", "mac|config.mac", false},
    {"IP", "ip|config.ip", false},
    {"VNI", "vni|config.vni", true},
    {"VLAN", "vlan|config.vlan", true},
    {"MIGRATION", "migration", true},
    {"TASKS", "pending_tasks|tasks|n_tasks", true},
};

static const struct column task_cols[] = {
    {"VM", "vm", false},
    {"NODE", "node", false},
    {"EPOCH", "epoch", true},
    {"KIND", "kind", false},
    {"DUE", "due_unix_ms", false},
};

static const struct column binding_cols[] = {
    {"VM", "vm", false},
    {"ID", "id", true},
    {"NODE", "node", false},
    {"MAC", "mac", false},
    {"IP", "ip", false},
    {"VLAN", "vlan", true},
    {"TYPE", "type", false},
    {"ORIGIN", "origin", false},
    {"STATUS", "port_status", false},
    {"SECURITY", "port_security", false},
    {"EXPIRES", "expires_unix_ms", false},
};

static const struct column map_cols[] = {
    {"VM", "vm|id", false},
    {"NODE", "node", false},
    {"EPOCH", "epoch", true},
    {"VERSION", "version", true},
    {"MAC", "mac|config.mac", false},
    {"IP", "ip|config.ip", false},
    {"VNI", "vni|config.vni", true},
    {"VLAN", "vlan|config.vlan", true},
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
               struct strbuf *out, char *err, size_t errlen)
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
    strbuf_printf(out,
                  "migration %" JSON_INTEGER_FORMAT ": %s -> %s at epoch "
                  "%" JSON_INTEGER_FORMAT "\n"
                  "the source keeps a relay; its snapshot is deleted within "
                  "%" JSON_INTEGER_FORMAT " ms\n"
                  "(earlier once every node has the new location)\n",
                  json_integer_value(id), p->pos[0],
                  cli_opt_value(p, "to"), json_integer_value(epoch),
                  json_integer_value(delay));
    return CLI_EXIT_OK;
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
        return render_object(reply, out, err, errlen);
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
        enum cli_exit rc = render_migrate(p, reply, out, err, errlen);
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
        enum cli_exit rc = render_object(copy, out, err, errlen);
        json_decref(copy);
        const json_t *plan = json_object_get(reply, "plan");
        if (rc == CLI_EXIT_OK && plan && !json_is_null(plan)) {
            rc = cli_render_plan(plan, out, err, errlen);
        }
        return rc;
    }
    case CLI_RENDER_FABRIC:
        return cli_render_fabric(reply, out, err, errlen);
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
