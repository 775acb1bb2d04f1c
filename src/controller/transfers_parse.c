/* transfers_parse.c: the body of POST /v1/transfers, checked completely
 * (transfers.h).
 *
 * A pure function from text to a validated report or an error: no ctl,
 * no clock, no global state, so the fuzzer runs it as mignetd does.
 * Every number must be finite and in its range before anything else
 * looks at it. */
#include "controller/transfers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "controller/rest_parse.h"

/* Every key of 'obj' must be in 'allowed' (NULL-terminated). */
static bool
tp_keys(json_t *obj, const char *where, const char *const *allowed,
        struct rest_error *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) {
            ok = !strcmp(key, *a);
        }
        if (!ok) {
            return rest_fail(e, 422, "unknown_field",
                             "unknown field '%.40s' in %s", key, where);
        }
    }
    return true;
}

/* A number (integer or real) in [min, max] at 'key'; 'integer' refuses
 * a fraction.  Absent or null: false with missing_field if 'required',
 * else true with '*present' false. */
static bool
tp_num(json_t *obj, const char *where, const char *key, bool required,
       bool integer, double min, double max, bool *present, double *out,
       struct rest_error *e)
{
    json_t *v = json_object_get(obj, key);
    if (present) {
        *present = false;
    }
    if (!v || json_is_null(v)) {
        return required ? rest_fail(e, 422, "missing_field",
                                    "'%s' is required in %s", key, where)
                        : true;
    }
    if (!json_is_number(v) || (integer && !json_is_integer(v))) {
        return rest_fail(e, 422, "invalid_type", "'%s' in %s must be %s",
                         key, where, integer ? "an integer" : "a number");
    }
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max) {
        return rest_fail(e, 422, "invalid_value",
                         "'%s' in %s must be between %.15g and %.15g", key,
                         where, min, max);
    }
    if (present) {
        *present = true;
    }
    *out = d;
    return true;
}

/* A string at 'key' that is one of 'choices' (NULL-terminated); absent
 * is allowed unless 'required'. */
static bool
tp_choice(json_t *obj, const char *key, bool required,
          const char *const *choices, char *out, size_t outlen,
          struct rest_error *e)
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v || json_is_null(v)) {
        return required ? rest_fail(e, 422, "missing_field",
                                    "'%s' is required in the report", key)
                        : true;
    }
    if (!json_is_string(v)) {
        return rest_fail(e, 422, "invalid_type",
                         "'%s' in the report must be a string", key);
    }
    for (const char *const *c = choices; *c; c++) {
        if (!strcmp(json_string_value(v), *c)) {
            snprintf(out, outlen, "%s", *c);
            return true;
        }
    }
    return rest_fail(e, 422, "invalid_value",
                     "'%s' in the report is not one the engine writes", key);
}

static bool
tp_name(json_t *obj, const char *key, char out[MN_NAME_MAX + 1],
        struct rest_error *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        return rest_fail(e, 422, "missing_field", "'%s' is required", key);
    }
    if (!json_is_string(v)) {
        return rest_fail(e, 422, "invalid_type", "'%s' must be a string",
                         key);
    }
    if (!mn_name_valid(json_string_value(v))) {
        return rest_fail(e, 422, "invalid_name",
                         "'%s' must be 1-63 characters of [A-Za-z0-9._:-]",
                         key);
    }
    snprintf(out, MN_NAME_MAX + 1, "%s", json_string_value(v));
    return true;
}

/* "hot": null or {"pages_pct", "writes_pct"}, each 0..100.  A hot set
 * of every page is uniform writing: 'p->hot' stays false. */
static bool
tp_hot(json_t *rep, struct transfer_post *p, struct rest_error *e)
{
    static const char *const keys[] = {"pages_pct", "writes_pct", NULL};
    json_t *h = json_object_get(rep, "hot");
    if (!h || json_is_null(h)) {
        return true;
    }
    double pages, writes;
    if (!json_is_object(h)) {
        return rest_fail(e, 422, "invalid_type",
                         "'hot' in the report must be null or an object");
    }
    if (!tp_keys(h, "'hot'", keys, e)
        || !tp_num(h, "'hot'", "pages_pct", true, false, 0, 100, NULL,
                   &pages, e)
        || !tp_num(h, "'hot'", "writes_pct", true, false, 0, 100, NULL,
                   &writes, e)) {
        return false;
    }
    p->hot = pages < 100;
    return true;
}

/* "timeline": the engine's TCP_INFO samples.  Nothing is learned from
 * it; each sample must still be an object of known, finite numbers. */
static bool
tp_timeline(json_t *rep, struct rest_error *e)
{
    static const char *const keys[] = {"t_ms", "conn", "cwnd", "rtt_us",
                                       "total_retrans", "unacked",
                                       "notsent", NULL};
    json_t *tl = json_object_get(rep, "timeline");
    if (!tl || json_is_null(tl)) {
        return true;
    }
    if (!json_is_array(tl)) {
        return rest_fail(e, 422, "invalid_type",
                         "'timeline' in the report must be an array");
    }
    size_t i;
    json_t *s;
    json_array_foreach(tl, i, s) {
        if (!json_is_object(s)) {
            return rest_fail(e, 422, "invalid_type",
                             "timeline samples must be objects");
        }
        if (!tp_keys(s, "a timeline sample", keys, e)) {
            return false;
        }
        for (const char *const *k = keys; *k; k++) {
            double d;
            if (!tp_num(s, "a timeline sample", *k, false, false, 0,
                        MN_TRANSFER_BYTES_MAX, NULL, &d, e)) {
                return false;
            }
        }
    }
    return true;
}

static bool
tp_rounds(json_t *rep, struct transfer_post *p, struct rest_error *e)
{
    static const char *const keys[] = {"round", "start_ms", "t_ms",
                                       "v_bytes", "pages", NULL};
    json_t *rl = json_object_get(rep, "round_list");
    if (!rl || json_is_null(rl)) {
        return rest_fail(e, 422, "missing_field",
                         "'round_list' is required in the report");
    }
    if (!json_is_array(rl)) {
        return rest_fail(e, 422, "invalid_type",
                         "'round_list' in the report must be an array");
    }
    size_t n = json_array_size(rl);
    if (!n || n > MN_TRANSFER_ROUNDS_MAX) {
        return rest_fail(e, 422, "invalid_value",
                         "'round_list' must hold 1 to %u rounds",
                         MN_TRANSFER_ROUNDS_MAX);
    }
    if (n != p->rounds) {
        return rest_fail(e, 422, "invalid_value",
                         "'rounds' is %u but 'round_list' holds %zu",
                         (unsigned) p->rounds, n);
    }
    p->round_list = calloc(n, sizeof *p->round_list);
    if (!p->round_list) {
        return rest_fail(e, 500, "no_memory", "out of memory");
    }
    double prev_start = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(rl, i);
        struct transfer_round *tr = &p->round_list[i];
        double round;
        if (!json_is_object(r)) {
            return rest_fail(e, 422, "invalid_type",
                             "rounds must be objects");
        }
        if (!tp_keys(r, "a round", keys, e)
            || !tp_num(r, "a round", "round", true, true, 1,
                       MN_TRANSFER_ROUNDS_MAX, NULL, &round, e)
            || !tp_num(r, "a round", "start_ms", true, false, 0,
                       MN_TRANSFER_MS_MAX, NULL, &tr->start_ms, e)
            || !tp_num(r, "a round", "t_ms", true, false, 0,
                       MN_TRANSFER_MS_MAX, NULL, &tr->t_ms, e)
            || !tp_num(r, "a round", "v_bytes", true, true, 0,
                       MN_TRANSFER_BYTES_MAX, NULL, &tr->v_bytes, e)
            || !tp_num(r, "a round", "pages", true, true, 0,
                       MN_TRANSFER_BYTES_MAX, NULL, &tr->pages, e)) {
            return false;
        }
        tr->round = (uint32_t) round;
        if (tr->round != i + 1) {
            return rest_fail(e, 422, "invalid_value",
                             "round %zu of 'round_list' says it is round %u",
                             i + 1, (unsigned) tr->round);
        }
        if (tr->start_ms < prev_start) {
            return rest_fail(e, 422, "invalid_value",
                             "round %zu starts before the one before it",
                             i + 1);
        }
        prev_start = tr->start_ms;
    }
    return true;
}

static bool
tp_report(json_t *rep, struct transfer_post *p, struct rest_error *e)
{
    static const char *const keys[] = {
        "mode", "mem_mb", "dirty_pps", "hot", "paths", "transport",
        "total_ms", "downtime_ms", "bytes", "rounds", "retransmits",
        "verified", "stop", "tracking", "round_list", "timeline",
        /* The engine's own accounting and settings: checked, not
         * learned from. */
        "verify_ms", "checked", "mismatches", "writes", "faults",
        "max_rounds", "stop_bytes", "max_factor", "error", NULL};
    static const char *const counts[] = {"retransmits", "checked",
                                         "mismatches", "writes", "faults",
                                         "stop_bytes", NULL};
    static const char *const modes[] = {"ack", "en", "buffer", NULL};
    static const char *const transports[] = {"tcp", "mptcp", NULL};
    static const char *const R = "the report";
    double d;
    if (!json_is_object(rep)) {
        return rest_fail(e, 422, "invalid_type",
                         "'report' must be an object");
    }
    if (!tp_keys(rep, R, keys, e)
        || !tp_choice(rep, "mode", true, modes, p->mode, sizeof p->mode, e)
        || !tp_choice(rep, "transport", true, transports, p->transport,
                      sizeof p->transport, e)) {
        return false;
    }
    if (!tp_num(rep, R, "mem_mb", true, true, 1, MN_MEMORY_MB_MAX, NULL, &d,
                e)) {
        return false;
    }
    p->mem_mb = (uint32_t) d;
    if (!tp_num(rep, R, "dirty_pps", true, false, 0, MN_DIRTY_RATE_MAX, NULL,
                &p->dirty_pps, e)
        || !tp_num(rep, R, "paths", true, true, 1, MN_TRANSFER_PATHS_MAX,
                   NULL, &d, e)) {
        return false;
    }
    p->paths = (uint32_t) d;
    if (!tp_num(rep, R, "total_ms", true, false, 0, MN_TRANSFER_MS_MAX, NULL,
                &p->total_ms, e)
        || !tp_num(rep, R, "downtime_ms", true, false, 0, MN_TRANSFER_MS_MAX,
                   NULL, &p->downtime_ms, e)
        || !tp_num(rep, R, "bytes", true, true, 0, MN_TRANSFER_BYTES_MAX,
                   NULL, &p->bytes, e)
        || !tp_num(rep, R, "rounds", true, true, 1, MN_TRANSFER_ROUNDS_MAX,
                   NULL, &d, e)) {
        return false;
    }
    p->rounds = (uint32_t) d;
    if (!(p->total_ms > 0)) {
        return rest_fail(e, 422, "invalid_value",
                         "'total_ms' in the report must be above 0");
    }
    if (p->downtime_ms > p->total_ms) {
        return rest_fail(e, 422, "invalid_value",
                         "'downtime_ms' exceeds 'total_ms'");
    }
    for (const char *const *k = counts; *k; k++) {
        if (!tp_num(rep, R, *k, false, true, 0, MN_TRANSFER_BYTES_MAX, NULL,
                    &d, e)) {
            return false;
        }
    }
    if (!tp_num(rep, R, "verify_ms", false, false, 0, MN_TRANSFER_MS_MAX,
                NULL, &d, e)
        || !tp_num(rep, R, "max_rounds", false, true, 2,
                   MN_TRANSFER_ROUNDS_MAX, NULL, &d, e)
        || !tp_num(rep, R, "max_factor", false, false, 0, 1e6, NULL, &d,
                   e)) {
        return false;
    }
    json_t *v = json_object_get(rep, "verified");
    if (v && !json_is_null(v) && !json_is_boolean(v)) {
        return rest_fail(e, 422, "invalid_type",
                         "'verified' in the report must be true or false");
    }
    if (json_is_false(v)) {
        /* A copy that did not verify is a failed migration: its times
         * teach nothing about a working one. */
        return rest_fail(e, 422, "not_verified",
                         "the transfer did not verify: nothing to learn");
    }
    static const struct {
        const char *key;
        size_t max;
    } strs[] = {{"stop", 32}, {"tracking", 32}, {"error", 512}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        json_t *s = json_object_get(rep, strs[i].key);
        if (s && !json_is_null(s)
            && (!json_is_string(s) || !json_string_length(s)
                || json_string_length(s) > strs[i].max)) {
            return rest_fail(e, 422, "invalid_type",
                             "'%s' in the report must be a string of 1 to "
                             "%zu bytes", strs[i].key, strs[i].max);
        }
    }
    return tp_hot(rep, p, e) && tp_timeline(rep, e) && tp_rounds(rep, p, e);
}

bool
transfer_parse_post(const char *body, size_t len, struct transfer_post *out,
                    struct rest_error *e)
{
    static const char *const keys[] = {"from", "to", "report", NULL};
    struct transfer_post p = {0};
    if (!body || !len) {
        return rest_fail(e, 400, "bad_json", "the request needs a JSON body");
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        return rest_fail(e, 400, "bad_json",
                         "invalid JSON at line %d column %d: %s", jerr.line,
                         jerr.column, jerr.text);
    }
    bool ok;
    if (!json_is_object(root)) {
        ok = rest_fail(e, 400, "bad_json", "the body must be a JSON object");
    } else {
        json_t *rep = json_object_get(root, "report");
        ok = tp_keys(root, "the body", keys, e)
             && tp_name(root, "from", p.from, e)
             && tp_name(root, "to", p.to, e)
             && (strcmp(p.from, p.to)
                     ? true
                     : rest_fail(e, 422, "invalid_value",
                                 "'from' and 'to' are the same node"))
             && (rep && !json_is_null(rep)
                     ? tp_report(rep, &p, e)
                     : rest_fail(e, 422, "missing_field",
                                 "'report' is required"));
    }
    json_decref(root);
    if (!ok) {
        transfer_post_destroy(&p);
        return false;
    }
    p.n_rounds = p.rounds;
    *out = p;
    return true;
}

void
transfer_post_destroy(struct transfer_post *p)
{
    if (p) {
        free(p->round_list);
        p->round_list = NULL;
        p->n_rounds = 0;
    }
}
