/* rest_transfers.c: POST /v1/transfers and the views of what mignetd
 * learned from pre-copy transfers (rest_transfers.h, docs/api.yaml).
 *
 * The estimate a report is compared with is the one a plan between its
 * two nodes would make at that moment (fabric_ctl_estimate(), on as many
 * paths as the transfer used): the error before learning from it is
 * what /metrics' mignet_transfer_estimate_error_ratio counts. */
#include "controller/rest_transfers.h"

#include <math.h>

#include "controller/ctl.h"
#include "controller/fabric_ctl.h"
#include "controller/rest_parse.h"
#include "controller/transfers.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/util.h"
#include "mignet/core.h"

#define METHOD                                                             \
    "median of the last 8 transfers' per-path goodput; a transfer's "     \
    "goodput is sum V_i / sum T_i of its rounds but the stop-and-copy"
_Static_assert(TRANSFERS_WINDOW == 8, "METHOD names the window's size");

/* The estimate of 'p' between its nodes now, with what was learned.  The
 * engine's workload writes 'dirty_pps' pages a second uniformly over its
 * whole region unless it had a hot set: a page written twice in a round
 * is sent once, so the region is the model's working set (for a hot set,
 * two working sets, the model has no term: every write counts). */
static void
rest_transfer_estimate(struct ctl *ctl, const struct transfer_post *p,
                       struct transfer_estimate *est)
{
    struct fabric_plan_input in = {
        .given = true,
        .memory_mb = p->mem_mb,
        .dirty_pages_per_s = p->dirty_pps,
        .working_set_mb = p->hot ? 0 : p->mem_mb,
    };
    *est = (struct transfer_estimate){0};
    est->learned = transfers_learned(ctl->transfers, p->from, p->to,
                                     &in.learned_Bps, &in.learned_n);
    est->learned_n = est->learned ? in.learned_n : 0;
    struct plan_step st;
    if (!fabric_ctl_estimate(ctl->fabric, p->from, p->to, &in, p->paths,
                             &st)
        || !isfinite(st.total_ms)) {
        est->learned = false;
        est->learned_n = 0;
        return;
    }
    est->has = true;
    est->bandwidth_bps = st.bandwidth_bps;
    est->total_ms = st.total_ms;
    est->error_ratio = fabs(p->total_ms - st.total_ms) / p->total_ms;
}

static json_t *
rest_estimate_json(const struct transfer_estimate *est)
{
    if (!est->has) {
        return json_null();
    }
    json_t *o = json_object();
    bool ok = o != NULL;
    ok &= js_set(o, "bandwidth_source",
                 json_string(est->learned ? "learned" : "nominal"));
    ok &= js_set(o, "learned_transfers", js_u64(est->learned_n));
    ok &= js_set(o, "bandwidth_bps", json_real(est->bandwidth_bps));
    ok &= js_set(o, "total_ms", json_real(est->total_ms));
    ok &= js_set(o, "error_ratio", json_real(est->error_ratio));
    return js_finish(o, ok);
}

json_t *
rest_transfer_json(const struct transfer_entry *t)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    ok &= js_set(o, "id", js_u64(t->id));
    ok &= js_set(o, "received_unix_ms", js_time(t->received_ms));
    ok &= js_set(o, "from", json_string(t->from));
    ok &= js_set(o, "to", json_string(t->to));
    ok &= js_set(o, "mode", json_string(t->mode));
    ok &= js_set(o, "transport", json_string(t->transport));
    ok &= js_set(o, "mem_mb", json_integer(t->mem_mb));
    ok &= js_set(o, "dirty_pps", json_real(t->dirty_pps));
    ok &= js_set(o, "paths", json_integer(t->paths));
    ok &= js_set(o, "rounds", json_integer(t->rounds));
    ok &= js_set(o, "total_ms", json_real(t->total_ms));
    ok &= js_set(o, "downtime_ms", json_real(t->downtime_ms));
    ok &= js_set(o, "bytes", json_real(t->bytes));
    ok &= js_set(o, "goodput_Bps", json_real(t->goodput_Bps));
    ok &= js_set(o, "path_goodput_Bps", json_real(t->path_Bps));
    ok &= js_set(o, "estimate_before", rest_estimate_json(&t->before));
    return js_finish(o, ok);
}

json_t *
rest_transfer_pair_json(struct ctl *ctl, const struct transfer_pair *p)
{
    json_t *o = json_object(), *win = json_array();
    bool ok = o && win;
    /* Oldest first. */
    for (size_t i = 0; ok && i < p->n_window; i++) {
        size_t k = (p->next + TRANSFERS_WINDOW - p->n_window + i)
                   % TRANSFERS_WINDOW;
        ok = js_append(win, json_real(p->window[k]));
    }
    struct fabric_plan_input in = {.given = true, .memory_mb = 1};
    struct plan_step st;
    bool nominal = fabric_ctl_estimate(ctl->fabric, p->from, p->to, &in, 1,
                                       &st);
    ok &= js_set(o, "from", json_string(p->from));
    ok &= js_set(o, "to", json_string(p->to));
    ok &= js_set(o, "transfers", js_u64(p->seen));
    ok &= js_set(o, "last_transfer", js_u64(p->last_id));
    ok &= js_set(o, "bandwidth_Bps", json_real(p->learned_Bps));
    ok &= js_set(o, "bandwidth_bps", json_real(p->learned_Bps * 8));
    ok &= js_set(o, "method", json_string(METHOD));
    ok &= js_set(o, "window_Bps", win);
    ok &= js_set(o, "nominal_bps",
                 nominal ? json_real(st.bandwidth_bps) : json_null());
    return js_finish(o, ok);
}

bool
rest_transfers_post(struct ctl *ctl, const char *body, size_t len,
                    json_t **out, struct rest_error *e)
{
    struct transfer_post p;
    if (!transfer_parse_post(body, len, &p, e)) {
        return false;
    }
    bool ok = false;
    double goodput;
    const char *unknown = core_node_find(ctl->core, p.from) == CORE_NONE
                              ? p.from
                          : core_node_find(ctl->core, p.to) == CORE_NONE
                              ? p.to
                              : NULL;
    if (unknown) {
        rest_fail(e, 404, "unknown_node", "no node '%s'", unknown);
    } else if (!transfer_goodput(&p, &goodput)) {
        rest_fail(e, 422, "invalid_value",
                  "the rounds moved no bytes or took no time: no goodput "
                  "to learn");
    } else {
        struct transfer_estimate before, after;
        struct plan_config pc;
        plan_config_default(&pc);
        rest_transfer_estimate(ctl, &p, &before);
        const struct transfer_entry *en = transfers_add(
            ctl->transfers, &p, goodput, pc.striping_overhead, &before,
            clock_wall_ms());
        if (!en) {
            rest_fail(e, 409, "too_many_pairs",
                      "mignetd learns at most %u node pairs",
                      TRANSFERS_PAIRS_MAX);
        } else {
            json_t *tj = rest_transfer_json(en);
            rest_transfer_estimate(ctl, &p, &after);
            *out = json_object();
            ok = *out != NULL;
            ok &= js_set(*out, "transfer", tj);
            ok &= js_set(*out, "estimate_after", rest_estimate_json(&after));
            ok &= js_set(*out, "pair",
                         rest_transfer_pair_json(
                             ctl, transfers_find_pair(ctl->transfers,
                                                      p.from, p.to)));
            *out = js_finish(*out, ok);
            if (!*out) {
                out_of_memory();
            }
            ok = true;
        }
    }
    transfer_post_destroy(&p);
    return ok;
}
