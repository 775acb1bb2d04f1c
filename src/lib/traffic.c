/* traffic.c: probe wire format, pause-window parsing and the loss report
 * of mignet-traffic (see traffic.h).  Pure: no I/O, no clock; the tool
 * feeds it packets and times.  It must never trust input: a malformed
 * probe or window line is rejected with EINVAL and changes nothing. */
#include "lib/traffic.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* Bounds the receiver's memory when junk claims to be many senders. */
#define TRAFFIC_MAX_SENDERS 4096

static void
put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    put_u16(p, (uint16_t) (v >> 16));
    put_u16(p + 2, (uint16_t) v);
}

static void
put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t) (v >> 32));
    put_u32(p + 4, (uint32_t) v);
}

static uint16_t
get_u16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
    return ((uint32_t) get_u16(p) << 16) | get_u16(p + 2);
}

static uint64_t
get_u64(const uint8_t *p)
{
    return ((uint64_t) get_u32(p) << 32) | get_u32(p + 4);
}

void
traffic_probe_encode(const struct traffic_probe *p, uint8_t *buf)
{
    memset(buf, 0, TRAFFIC_PROBE_LEN);
    put_u32(buf, TRAFFIC_MAGIC);
    buf[4] = TRAFFIC_VERSION;
    buf[5] = p->end ? 1 : 0;
    put_u32(buf + 8, p->sender);
    put_u32(buf + 12, p->rate);
    put_u64(buf + 16, p->seq);
    put_u64(buf + 24, p->start_us);
    put_u64(buf + 32, p->sent_us);
}

int
traffic_probe_decode(const uint8_t *buf, size_t len, struct traffic_probe *p)
{
    if (!buf || len < TRAFFIC_PROBE_LEN) {
        return EINVAL;
    }
    if (get_u32(buf) != TRAFFIC_MAGIC || buf[4] != TRAFFIC_VERSION
        || buf[5] > 1 || get_u16(buf + 6) != 0) {
        return EINVAL;
    }
    struct traffic_probe q = {
        .end = buf[5] == 1,
        .sender = get_u32(buf + 8),
        .rate = get_u32(buf + 12),
        .seq = get_u64(buf + 16),
        .start_us = get_u64(buf + 24),
        .sent_us = get_u64(buf + 32),
    };
    if (q.rate == 0 || q.rate > TRAFFIC_MAX_RATE) {
        return EINVAL;
    }
    /* Data: a sequence number; end: how many were sent. */
    if (q.end ? q.seq > TRAFFIC_MAX_SEQ : q.seq >= TRAFFIC_MAX_SEQ) {
        return EINVAL;
    }
    *p = q;
    return 0;
}

uint64_t
traffic_due_us(uint64_t start_us, uint32_t rate, uint64_t seq)
{
    if (rate == 0) {
        return start_us;
    }
    return start_us + seq * 1000000u / rate;
}

/* Parses an unsigned decimal at '*s', advancing it.  0 or EINVAL. */
static int
parse_u64(const char **s, uint64_t *v)
{
    const char *p = *s;
    uint64_t x = 0;
    if (*p < '0' || *p > '9') {
        return EINVAL;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned) (*p - '0');
        if (x > (UINT64_MAX - d) / 10) {
            return EINVAL;
        }
        x = x * 10 + d;
    }
    *s = p;
    *v = x;
    return 0;
}

static const char *
skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r') {
        p++;
    }
    return p;
}

int
traffic_window_parse_arg(const char *arg, struct traffic_window *w)
{
    struct traffic_window x = {0};
    const char *p = arg;
    if (!arg || parse_u64(&p, &x.start_ms) || *p++ != ':'
        || parse_u64(&p, &x.end_ms) || *p != '\0'
        || x.start_ms > x.end_ms) {
        return EINVAL;
    }
    *w = x;
    return 0;
}

int
traffic_windows_parse(const char *text, struct traffic_window **windows,
                      size_t *n)
{
    struct traffic_window *v = NULL;
    size_t nv = 0, cap = 0;
    const char *p = text ? text : "";

    while (*p) {
        p = skip_blanks(p);
        if (*p == '#') {
            while (*p && *p != '\n') {
                p++;
            }
        }
        if (*p == '\n' || *p == '\0') {
            if (*p) {
                p++;
            }
            continue;
        }
        struct traffic_window w = {0};
        if (parse_u64(&p, &w.start_ms)) {
            goto bad;
        }
        const char *q = skip_blanks(p);
        if (q == p || parse_u64(&q, &w.end_ms)) {
            goto bad;
        }
        p = skip_blanks(q);
        if ((*p != '\n' && *p != '\0') || w.start_ms > w.end_ms) {
            goto bad;
        }
        v = xgrow(v, &cap, nv + 1, sizeof *v);
        v[nv++] = w;
    }
    *windows = v;
    *n = nv;
    return 0;

bad:
    free(v);
    return EINVAL;
}

/* ---- The arrival log ---- */

struct traffic_sender {
    uint32_t id;
    uint32_t rate;
    uint64_t start_us;
    bool any_data;
    uint64_t max_seq;
    bool end_seen;
    uint64_t end_count;
};

struct traffic_arrival {
    uint32_t sender; /* index into log->senders */
    uint64_t seq;
    uint64_t delay_us;
};

struct traffic_log {
    struct traffic_sender *senders;
    size_t n_senders, cap_senders;
    struct traffic_arrival *arrivals;
    size_t n_arrivals, cap_arrivals;
    uint64_t invalid;
};

struct traffic_log *
traffic_log_create(void)
{
    struct traffic_log *log = xcalloc(1, sizeof *log);
    return log;
}

void
traffic_log_destroy(struct traffic_log *log)
{
    if (log) {
        free(log->senders);
        free(log->arrivals);
        free(log);
    }
}

void
traffic_log_add_invalid(struct traffic_log *log)
{
    log->invalid++;
}

/* The index of sender 'p->sender', created from 'p' if new; SIZE_MAX when
 * 'p' contradicts it or there are too many senders. */
static size_t
log_sender(struct traffic_log *log, const struct traffic_probe *p)
{
    for (size_t i = 0; i < log->n_senders; i++) {
        struct traffic_sender *s = &log->senders[i];
        if (s->id == p->sender) {
            if (s->rate != p->rate || s->start_us != p->start_us) {
                return SIZE_MAX;
            }
            return i;
        }
    }
    if (log->n_senders >= TRAFFIC_MAX_SENDERS) {
        return SIZE_MAX;
    }
    log->senders = xgrow(log->senders, &log->cap_senders,
                         log->n_senders + 1, sizeof *log->senders);
    struct traffic_sender *s = &log->senders[log->n_senders];
    *s = (struct traffic_sender) {
        .id = p->sender, .rate = p->rate, .start_us = p->start_us,
    };
    return log->n_senders++;
}

int
traffic_log_add(struct traffic_log *log, const struct traffic_probe *p,
                uint64_t arrival_us)
{
    size_t i = log_sender(log, p);
    if (i == SIZE_MAX) {
        log->invalid++;
        return EINVAL;
    }
    struct traffic_sender *s = &log->senders[i];
    if (p->end) {
        if (!s->end_seen || p->seq > s->end_count) {
            s->end_count = p->seq;
        }
        s->end_seen = true;
        return 0;
    }
    if (!s->any_data || p->seq > s->max_seq) {
        s->max_seq = p->seq;
    }
    s->any_data = true;
    log->arrivals = xgrow(log->arrivals, &log->cap_arrivals,
                          log->n_arrivals + 1, sizeof *log->arrivals);
    log->arrivals[log->n_arrivals++] = (struct traffic_arrival) {
        .sender = (uint32_t) i,
        .seq = p->seq,
        .delay_us = arrival_us > p->sent_us ? arrival_us - p->sent_us : 0,
    };
    return 0;
}

size_t
traffic_log_n_ended(const struct traffic_log *log)
{
    size_t n = 0;
    for (size_t i = 0; i < log->n_senders; i++) {
        n += log->senders[i].end_seen;
    }
    return n;
}

/* ---- The report ---- */

static bool
in_any_window(uint64_t due_us, const struct traffic_window *w, size_t n,
              uint64_t slack_ms)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t lo_ms = w[i].start_ms > slack_ms
                         ? w[i].start_ms - slack_ms : 0;
        uint64_t lo = lo_ms * 1000;
        uint64_t hi = (w[i].end_ms + slack_ms) * 1000 + 999;
        if (due_us >= lo && due_us <= hi) {
            return true;
        }
    }
    return false;
}

static void
counts_add(struct traffic_counts *sum, const struct traffic_counts *c)
{
    sum->sent += c->sent;
    sum->arrivals += c->arrivals;
    sum->received += c->received;
    sum->missing += c->missing;
    sum->missing_in_window += c->missing_in_window;
    sum->missing_outside_window += c->missing_outside_window;
    sum->duplicated += c->duplicated;
    sum->reordered += c->reordered;
}

/* Per-sender working state while walking the arrivals. */
struct sender_work {
    uint8_t *copies; /* per seq, saturating at 255 */
    bool any;
    uint64_t max_first; /* highest seq whose first copy has arrived */
    uint64_t delay_sum;
};

/* Sender indices in the order the report presents them: by id. */
struct sender_order {
    uint32_t id;
    size_t index;
};

static int
cmp_sender_order(const void *a_, const void *b_)
{
    const struct sender_order *a = a_, *b = b_;
    return a->id < b->id ? -1 : a->id > b->id;
}

struct traffic_report *
traffic_report_compute(const struct traffic_log *log,
                       const struct traffic_window *windows,
                       size_t n_windows, uint64_t slack_ms)
{
    struct traffic_report *r = xcalloc(1, sizeof *r);
    size_t ns = log->n_senders;
    struct sender_work *work = xcalloc(ns, sizeof *work);
    struct sender_order *order = xcalloc(ns, sizeof *order);

    r->invalid = log->invalid;
    r->slack_ms = slack_ms;
    r->n_windows = n_windows;
    r->windows = xcalloc(n_windows, sizeof *r->windows);
    if (n_windows) {
        memcpy(r->windows, windows, n_windows * sizeof *windows);
    }
    r->n_senders = ns;
    r->senders = xcalloc(ns, sizeof *r->senders);

    for (size_t i = 0; i < ns; i++) {
        order[i] = (struct sender_order) {log->senders[i].id, i};
    }
    qsort(order, ns, sizeof *order, cmp_sender_order);
    /* work[] and r->senders[] are indexed by the log's sender index
     * until the end, where the report is laid out in 'order'. */
    struct traffic_sender_report *by_index = xcalloc(ns, sizeof *by_index);
    for (size_t i = 0; i < ns; i++) {
        const struct traffic_sender *s = &log->senders[i];
        struct traffic_sender_report *sr = &by_index[i];
        uint64_t highest = s->any_data ? s->max_seq + 1 : 0;
        sr->sender = s->id;
        sr->rate = s->rate;
        sr->start_us = s->start_us;
        sr->end_seen = s->end_seen;
        sr->counts.sent = s->end_seen && s->end_count > highest
                          ? s->end_count : highest;
        work[i].copies = xcalloc(sr->counts.sent, 1);
    }

    for (size_t k = 0; k < log->n_arrivals; k++) {
        const struct traffic_arrival *a = &log->arrivals[k];
        struct sender_work *w = &work[a->sender];
        struct traffic_sender_report *sr = &by_index[a->sender];
        struct traffic_counts *c = &sr->counts;
        c->arrivals++;
        w->delay_sum += a->delay_us;
        if (a->delay_us > sr->delay_max_us) {
            sr->delay_max_us = a->delay_us;
        }
        if (w->copies[a->seq]) {
            c->duplicated++;
        } else {
            c->received++;
            if (w->any && a->seq < w->max_first) {
                c->reordered++;
            }
            if (!w->any || a->seq > w->max_first) {
                w->max_first = a->seq;
            }
            w->any = true;
        }
        if (w->copies[a->seq] < UINT8_MAX) {
            w->copies[a->seq]++;
        }
    }

    size_t cap_missing = 0;
    for (size_t o = 0; o < ns; o++) {
        size_t i = order[o].index;
        struct traffic_sender_report *sr = &by_index[i];
        struct traffic_counts *c = &sr->counts;
        if (c->arrivals) {
            sr->delay_mean_us = work[i].delay_sum / c->arrivals;
        }
        c->missing = c->sent - c->received;
        for (uint64_t seq = 0; seq < c->sent; seq++) {
            if (work[i].copies[seq]) {
                continue;
            }
            struct traffic_missing m = {
                .sender = sr->sender,
                .seq = seq,
                .due_us = traffic_due_us(sr->start_us, sr->rate, seq),
            };
            m.in_window = in_any_window(m.due_us, windows, n_windows,
                                        slack_ms);
            if (m.in_window) {
                c->missing_in_window++;
            } else {
                c->missing_outside_window++;
            }
            r->missing = xgrow(r->missing, &cap_missing, r->n_missing + 1,
                               sizeof *r->missing);
            r->missing[r->n_missing++] = m;
        }
        free(work[i].copies);
        counts_add(&r->total, c);
        r->senders[o] = *sr;
    }
    free(by_index);
    free(order);
    free(work);
    return r;
}

void
traffic_report_destroy(struct traffic_report *r)
{
    if (r) {
        free(r->senders);
        free(r->missing);
        free(r->windows);
        free(r);
    }
}

static json_t *
counts_json(const struct traffic_counts *c)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "sent", (json_int_t) c->sent,
                     "arrivals", (json_int_t) c->arrivals,
                     "received", (json_int_t) c->received,
                     "missing", (json_int_t) c->missing,
                     "missing_in_window", (json_int_t) c->missing_in_window,
                     "missing_outside_window",
                     (json_int_t) c->missing_outside_window,
                     "duplicated", (json_int_t) c->duplicated,
                     "reordered", (json_int_t) c->reordered);
}

char *
traffic_report_to_json(const struct traffic_report *r, size_t max_listed)
{
    json_t *root = json_object();
    json_t *senders = json_array();
    for (size_t i = 0; i < r->n_senders; i++) {
        const struct traffic_sender_report *s = &r->senders[i];
        json_t *o = counts_json(&s->counts);
        json_object_set_new(o, "sender", json_integer(s->sender));
        json_object_set_new(o, "rate", json_integer(s->rate));
        json_object_set_new(o, "start_ms",
                            json_integer((json_int_t) (s->start_us / 1000)));
        json_object_set_new(o, "end_seen", json_boolean(s->end_seen));
        json_object_set_new(o, "delay_max_us",
                            json_integer((json_int_t) s->delay_max_us));
        json_object_set_new(o, "delay_mean_us",
                            json_integer((json_int_t) s->delay_mean_us));
        json_array_append_new(senders, o);
    }
    json_object_set_new(root, "senders", senders);
    json_object_set_new(root, "total", counts_json(&r->total));

    json_t *missing = json_array();
    size_t listed = r->n_missing < max_listed ? r->n_missing : max_listed;
    for (size_t i = 0; i < listed; i++) {
        const struct traffic_missing *m = &r->missing[i];
        json_array_append_new(missing, json_pack(
            "{s:I, s:I, s:I, s:b}", "sender", (json_int_t) m->sender,
            "seq", (json_int_t) m->seq,
            "due_ms", (json_int_t) (m->due_us / 1000),
            "in_window", (int) m->in_window));
    }
    json_object_set_new(root, "missing", missing);
    json_object_set_new(root, "missing_listed", json_integer((json_int_t)
                                                             listed));

    json_t *windows = json_array();
    for (size_t i = 0; i < r->n_windows; i++) {
        json_array_append_new(windows, json_pack(
            "{s:I, s:I}", "start_ms", (json_int_t) r->windows[i].start_ms,
            "end_ms", (json_int_t) r->windows[i].end_ms));
    }
    json_object_set_new(root, "windows", windows);
    json_object_set_new(root, "slack_ms",
                        json_integer((json_int_t) r->slack_ms));
    json_object_set_new(root, "invalid",
                        json_integer((json_int_t) r->invalid));
    json_object_set_new(root, "receiver_drops",
                        json_integer((json_int_t) r->receiver_drops));

    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) {
        out_of_memory();
    }
    return text;
}
