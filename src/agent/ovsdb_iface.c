/* ovsdb_iface.c: the Interface table monitor (see ovsdb_iface.h).
 *
 * A message is framed by ovsdb_json_frame(), parsed by jansson, and its
 * table updates are checked in full into a staging list before any row
 * changes: a malformed update changes nothing.  It must never read past
 * what it was given, whatever ovsdb-server (or the fuzzer) sends. */
#include "agent/ovsdb_iface.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "lib/util.h"

/* The id of our monitor request (and its monitor id). */
#define MONITOR_ID "mignet-iface"

struct ovsdb_iface {
    struct ovsdb_row *rows;
    size_t n, cap;
    struct strbuf in;
    struct ovsdb_frame frame; /* of the text at the start of 'in' */
    bool ready;
    uint64_t ignored; /* rows beyond OVSDB_IFACE_MAX_ROWS */
    struct vm_changes changes;
};

struct ovsdb_iface *
ovsdb_iface_create(void)
{
    struct ovsdb_iface *o = xcalloc(1, sizeof *o);
    strbuf_init(&o->in);
    vm_changes_init(&o->changes);
    vm_changes_clear(&o->changes);
    return o;
}

void
ovsdb_iface_destroy(struct ovsdb_iface *o)
{
    if (o) {
        free(o->rows);
        strbuf_destroy(&o->in);
        vm_changes_destroy(&o->changes);
        free(o);
    }
}

void
ovsdb_iface_connected(struct ovsdb_iface *o, struct strbuf *out)
{
    strbuf_clear(&o->in);
    memset(&o->frame, 0, sizeof o->frame);
    o->ready = false;
    strbuf_puts(out, "{\"id\":\"" MONITOR_ID "\",\"method\":\"monitor\","
                     "\"params\":[\"Open_vSwitch\",\"" MONITOR_ID "\","
                     "{\"Interface\":{\"columns\":[\"name\",\"ofport\","
                     "\"external_ids\"]}}]}");
}

void
ovsdb_iface_disconnected(struct ovsdb_iface *o)
{
    strbuf_clear(&o->in);
    memset(&o->frame, 0, sizeof o->frame);
    o->ready = false;
}

/* ---- Framing ---- */

int
ovsdb_json_frame(struct ovsdb_frame *f, const char *buf, size_t len,
                 size_t *used)
{
    *used = 0;
    for (size_t i = f->scanned; i < len; i++) {
        if (i >= OVSDB_MSG_MAX) {
            return EMSGSIZE;
        }
        char c = buf[i];
        f->scanned = i + 1;
        if (!f->started) {
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                continue;
            }
            if (c != '{' && c != '[') {
                return EPROTO;
            }
            f->started = true;
            f->depth = 1;
        } else if (f->in_str) {
            if (f->esc) {
                f->esc = false;
            } else if (c == '\\') {
                f->esc = true;
            } else if (c == '"') {
                f->in_str = false;
            }
        } else if (c == '"') {
            f->in_str = true;
        } else if (c == '{' || c == '[') {
            f->depth++;
        } else if ((c == '}' || c == ']') && --f->depth == 0) {
            memset(f, 0, sizeof *f);
            *used = i + 1;
            return 0;
        }
    }
    return 0;
}

/* ---- Rows ---- */

static struct ovsdb_row *
row_find(const struct ovsdb_iface *o, const char *uuid)
{
    for (size_t i = 0; i < o->n; i++) {
        if (!strcmp(o->rows[i].uuid, uuid)) {
            return &o->rows[i];
        }
    }
    return NULL;
}

static void
note_change(struct ovsdb_iface *o, const struct ovsdb_row *r)
{
    if (r->iface_id[0]) {
        vm_changes_add(&o->changes, r->iface_id);
    }
    vm_changes_add(&o->changes, r->name);
}

const struct ovsdb_row *
ovsdb_iface_find(const struct ovsdb_iface *o, const char *iface_id)
{
    const struct ovsdb_row *best = NULL;
    for (size_t i = 0; i < o->n; i++) {
        const struct ovsdb_row *r = &o->rows[i];
        if (strcmp(r->iface_id, iface_id)) {
            continue;
        }
        if (!best || (r->ofport && !best->ofport)
            || (!r->ofport == !best->ofport
                && strcmp(r->name, best->name) < 0)) {
            best = r;
        }
    }
    return best;
}

const struct ovsdb_row *
ovsdb_iface_by_name(const struct ovsdb_iface *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++) {
        if (!strcmp(o->rows[i].name, name)) {
            return &o->rows[i];
        }
    }
    return NULL;
}

const struct ovsdb_row *
ovsdb_iface_row(const struct ovsdb_iface *o, size_t i)
{
    return i < o->n ? &o->rows[i] : NULL;
}

size_t
ovsdb_iface_count(const struct ovsdb_iface *o)
{
    return o->n;
}

bool
ovsdb_iface_ready(const struct ovsdb_iface *o)
{
    return o->ready;
}

struct vm_changes *
ovsdb_iface_changes(struct ovsdb_iface *o)
{
    return &o->changes;
}

/* ---- Parsing table updates ---- */

/* One row update, checked: 'deleted' or the row's new columns. */
struct staged {
    struct ovsdb_row row;
    bool deleted;
};

/* Says why a message is refused; returns EPROTO. */
static int
perr(char *err, size_t errlen, const char *why)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s", why);
    }
    return EPROTO;
}

/* A string no longer than 'max' and with no NUL, into 'dst'. */
static bool
take_string(const json_t *v, char *dst, size_t max)
{
    if (!json_is_string(v) || json_string_length(v) > max
        || strlen(json_string_value(v)) != json_string_length(v)) {
        return false;
    }
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return true;
}

/* An OVSDB value that is either an atom or ["set", [atoms]]. */
static int
parse_ofport(const json_t *v, uint32_t *ofport)
{
    *ofport = 0;
    if (json_is_integer(v)) {
        json_int_t p = json_integer_value(v);
        *ofport = p > 0 && p < 0xff00 ? (uint32_t) p : 0; /* OFPP_MAX */
        return 0;
    }
    if (json_is_array(v) && json_array_size(v) == 2
        && json_is_string(json_array_get(v, 0))
        && !strcmp(json_string_value(json_array_get(v, 0)), "set")
        && json_is_array(json_array_get(v, 1))) {
        const json_t *atoms = json_array_get(v, 1);
        if (json_array_size(atoms) == 0) {
            return 0;
        }
        if (json_array_size(atoms) == 1) {
            return parse_ofport(json_array_get(atoms, 0), ofport);
        }
    }
    return EPROTO;
}

/* ["map", [[key, value], ...]]: its "iface-id", if any and not too long
 * to be a VM's. */
static int
parse_external_ids(const json_t *v, char iface_id[CHAN_IFACE_MAX + 1])
{
    iface_id[0] = '\0';
    if (!json_is_array(v) || json_array_size(v) != 2
        || !json_is_string(json_array_get(v, 0))
        || strcmp(json_string_value(json_array_get(v, 0)), "map")
        || !json_is_array(json_array_get(v, 1))) {
        return EPROTO;
    }
    const json_t *pairs = json_array_get(v, 1);
    for (size_t i = 0; i < json_array_size(pairs); i++) {
        const json_t *pair = json_array_get(pairs, i);
        if (!json_is_array(pair) || json_array_size(pair) != 2
            || !json_is_string(json_array_get(pair, 0))
            || !json_is_string(json_array_get(pair, 1))) {
            return EPROTO;
        }
        if (!strcmp(json_string_value(json_array_get(pair, 0)),
                    "iface-id")
            && !take_string(json_array_get(pair, 1), iface_id,
                            CHAN_IFACE_MAX)) {
            iface_id[0] = '\0'; /* unusable as a VM's: ignored */
        }
    }
    return 0;
}

/* The "new" columns of a row ('old' holds it before, or NULL: columns an
 * update leaves out keep their value).  Returns 0, EPROTO, or -1 for a
 * row no VM port can be (a name longer than OVSDB_IFACE_NAME_MAX). */
static int
parse_row(const json_t *cols, const struct ovsdb_row *old,
          struct ovsdb_row *r, char *err, size_t errlen)
{
    if (!json_is_object(cols)) {
        return perr(err, errlen, "new is not an object");
    }
    const json_t *v = json_object_get(cols, "name");
    if (v && json_is_string(v)
        && json_string_length(v) > OVSDB_IFACE_NAME_MAX) {
        return -1; /* no port of a VM: the row is left out */
    }
    if (v && !take_string(v, r->name, OVSDB_IFACE_NAME_MAX)) {
        return perr(err, errlen, "bad name");
    }
    if (!v && old) {
        snprintf(r->name, sizeof r->name, "%s", old->name);
    }
    v = json_object_get(cols, "ofport");
    if (v ? parse_ofport(v, &r->ofport) != 0 : false) {
        return perr(err, errlen, "bad ofport");
    }
    if (!v && old) {
        r->ofport = old->ofport;
    }
    v = json_object_get(cols, "external_ids");
    if (v ? parse_external_ids(v, r->iface_id) != 0 : false) {
        return perr(err, errlen, "bad external_ids");
    }
    if (!v && old) {
        snprintf(r->iface_id, sizeof r->iface_id, "%s", old->iface_id);
    }
    if (!r->name[0]) {
        return perr(err, errlen, "a row has no name");
    }
    return 0;
}

/* Checks the table updates 'tu' ({"Interface": {uuid: {old, new}}})
 * into 'st' (at most 'max' rows); returns their number or -1. */
static int
stage(const struct ovsdb_iface *o, const json_t *tu, struct staged **stp,
      size_t *np, char *err, size_t errlen)
{
    *stp = NULL;
    *np = 0;
    if (!json_is_object(tu)) {
        return perr(err, errlen, "table updates are not an object");
    }
    const json_t *t = json_object_get(tu, "Interface");
    if (!t) {
        return 0; /* another table: nothing for us */
    }
    if (!json_is_object(t)) {
        return perr(err, errlen, "Interface is not an object");
    }
    size_t n = json_object_size(t);
    struct staged *st = xcalloc(n ? n : 1, sizeof *st);
    size_t k = 0;
    const char *uuid;
    const json_t *ru;
    json_object_foreach((json_t *) t, uuid, ru) {
        struct staged *s = &st[k];
        if (strlen(uuid) >= sizeof s->row.uuid || !*uuid) {
            free(st);
            return perr(err, errlen, "bad row uuid");
        }
        if (!json_is_object(ru)) {
            free(st);
            return perr(err, errlen, "row update is not an object");
        }
        snprintf(s->row.uuid, sizeof s->row.uuid, "%s", uuid);
        const json_t *nw = json_object_get(ru, "new");
        int r = nw ? parse_row(nw, row_find(o, uuid), &s->row, err, errlen)
                   : -1;
        if (r > 0) {
            free(st);
            return EPROTO;
        }
        s->deleted = r < 0; /* gone, or unusable: as if gone */
        k++;
    }
    *stp = st;
    *np = k;
    return 0;
}

/* Applies checked updates; 'initial': they are the whole table. */
static void
apply(struct ovsdb_iface *o, const struct staged *st, size_t n,
      bool initial)
{
    if (initial) {
        for (size_t i = 0; i < o->n; i++) {
            note_change(o, &o->rows[i]);
        }
        o->n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct ovsdb_row *r = row_find(o, st[i].row.uuid);
        if (r) {
            note_change(o, r);
        }
        if (st[i].deleted) {
            if (r) {
                *r = o->rows[--o->n];
            }
            continue;
        }
        if (!r) {
            if (o->n >= OVSDB_IFACE_MAX_ROWS) {
                o->ignored++;
                continue;
            }
            o->rows = xgrow(o->rows, &o->cap, o->n + 1, sizeof *o->rows);
            r = &o->rows[o->n++];
        }
        *r = st[i].row;
        note_change(o, r);
    }
}

static int
table_updates(struct ovsdb_iface *o, const json_t *tu, bool initial,
              char *err, size_t errlen)
{
    struct staged *st;
    size_t n;
    if (stage(o, tu, &st, &n, err, errlen)) {
        return EPROTO;
    }
    apply(o, st, n, initial);
    free(st);
    return 0;
}

/* One JSON-RPC message. */
static int
handle(struct ovsdb_iface *o, const json_t *msg, struct strbuf *out,
       char *err, size_t errlen)
{
    if (!json_is_object(msg)) {
        return perr(err, errlen, "a message is not an object");
    }
    const json_t *method = json_object_get(msg, "method");
    const json_t *params = json_object_get(msg, "params");
    const json_t *id = json_object_get(msg, "id");
    if (json_is_string(method)) {
        const char *m = json_string_value(method);
        if (!strcmp(m, "echo")) {
            /* Answer with the same params and id. */
            json_t *reply = json_object();
            json_object_set(reply, "id", id ? (json_t *) id : json_null());
            json_object_set_new(reply, "result",
                                params ? json_incref((json_t *) params)
                                       : json_array());
            json_object_set_new(reply, "error", json_null());
            char *text = json_dumps(reply, JSON_COMPACT);
            if (text) {
                strbuf_puts(out, text);
            }
            free(text);
            json_decref(reply);
            return 0;
        }
        if (!strcmp(m, "update")) {
            if (!json_is_array(params) || json_array_size(params) != 2) {
                return perr(err, errlen, "bad update params");
            }
            return table_updates(o, json_array_get(params, 1), false, err,
                                 errlen);
        }
        return 0; /* other notifications: not ours */
    }
    if (json_is_string(id) && !strcmp(json_string_value(id), MONITOR_ID)) {
        const json_t *e = json_object_get(msg, "error");
        if (e && !json_is_null(e)) {
            return perr(err, errlen, "the monitor was refused");
        }
        int r = table_updates(o, json_object_get(msg, "result"), true, err,
                              errlen);
        if (!r) {
            o->ready = true;
        }
        return r;
    }
    return 0; /* a reply to something else (an echo of ours: none) */
}

int
ovsdb_iface_receive(struct ovsdb_iface *o, const char *data, size_t len,
                    struct strbuf *out, char *err, size_t errlen)
{
    if (err && errlen) {
        err[0] = '\0';
    }
    if (strbuf_append(&o->in, data, len)) {
        return ENOMEM;
    }
    size_t pos = 0;
    int error = 0;
    while (!error && pos < o->in.len) {
        size_t used;
        error = ovsdb_json_frame(&o->frame, o->in.data + pos,
                                 o->in.len - pos, &used);
        if (error) {
            perr(err, errlen, error == EMSGSIZE ? "message too long"
                                                : "not a JSON-RPC message");
            break;
        }
        if (!used) {
            break;
        }
        json_error_t jerr;
        json_t *msg = json_loadb(o->in.data + pos, used, 0, &jerr);
        if (!msg) {
            if (err && errlen) {
                snprintf(err, errlen, "bad JSON: %s", jerr.text);
            }
            error = EPROTO;
            break;
        }
        error = handle(o, msg, out, err, errlen);
        json_decref(msg);
        pos += used;
    }
    /* The frame state is relative to the first unconsumed byte. */
    if (error) {
        strbuf_clear(&o->in);
        memset(&o->frame, 0, sizeof o->frame);
    } else {
        strbuf_consume(&o->in, pos);
    }
    return error;
}
