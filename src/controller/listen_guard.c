/* listen_guard.c: connection caps, accept back-off and REST request
 * bounds for mignetd's listeners (listen_guard.h).
 *
 * evhttp (libevent 2.1) has no connection hooks of its own: the guard
 * makes each connection's bufferevent (evhttp_set_bevcb), looks at its
 * socket once evhttp has set it (the caps: over one, it is shut down
 * before evhttp reads a byte), times each request from its first byte
 * to its answer (trickling clients are shut down) and turns evhttp's own
 * HTML error pages (a body over the limit is refused from its announced
 * length, before it is read) into the API's JSON errors.  A slot whose
 * socket is closed is found by its descriptor and inode (socket inodes
 * are unique among open sockets). */
#include "controller/listen_guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/util.h"

/* Stale slots (connections closed without telling the guard) are looked
 * for at most this often, and only when a cap is reached. */
#define LGUARD_SWEEP_MS 100
/* REST: after this many refusals in a row the listener pauses for a
 * millisecond, so evhttp closes them before more are accepted (a refused
 * socket is only shut down: evhttp owns its descriptor). */
#define LGUARD_BURST 64
/* Refusals are summed up in one line at most this often. */
#define LGUARD_REPORT_MS 1000

/* ---- Pure parts ---- */

void
lguard_table_init(struct lguard_table *t, uint32_t max_conns,
                  uint32_t max_per_peer)
{
    t->n_slots = max_conns ? max_conns : 1;
    t->slots = xcalloc(t->n_slots, sizeof *t->slots);
    t->n_used = t->n_hw = 0;
    t->max_per_peer = max_per_peer ? max_per_peer : 1;
}

void
lguard_table_destroy(struct lguard_table *t)
{
    free(t->slots);
    t->slots = NULL;
    t->n_slots = t->n_used = t->n_hw = 0;
}

size_t
lguard_table_peer_count(const struct lguard_table *t, const char *peer)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_hw; i++) {
        n += t->slots[i].used && !strcmp(t->slots[i].peer, peer);
    }
    return n;
}

enum lguard_verdict
lguard_table_admit(struct lguard_table *t, const char *peer, int fd,
                   ino_t ino, size_t *idx)
{
    /* Slots past n_hw were never used: the scan costs the connections
     * open, not the cap. */
    size_t free_slot = t->n_hw < t->n_slots ? t->n_hw : t->n_slots;
    size_t same = 0;
    for (size_t i = 0; i < t->n_hw; i++) {
        const struct lguard_slot *s = &t->slots[i];
        if (!s->used) {
            free_slot = free_slot < i ? free_slot : i;
        } else if (!strcmp(s->peer, peer)) {
            same++;
        }
    }
    if (same >= t->max_per_peer) {
        return LGUARD_PEER_FULL;
    }
    if (free_slot == t->n_slots) {
        return LGUARD_TOTAL_FULL;
    }
    struct lguard_slot *s = &t->slots[free_slot];
    uint32_t gen = s->gen;
    memset(s, 0, sizeof *s);
    s->used = true;
    s->gen = gen;
    s->fd = fd;
    s->ino = ino;
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    t->n_used++;
    if (free_slot >= t->n_hw) {
        t->n_hw = free_slot + 1;
    }
    *idx = free_slot;
    return LGUARD_OK;
}

void
lguard_table_release(struct lguard_table *t, size_t idx, uint32_t gen)
{
    if (idx < t->n_slots && t->slots[idx].used && t->slots[idx].gen == gen) {
        t->slots[idx].used = false;
        t->slots[idx].gen++;
        t->n_used--;
        while (t->n_hw && !t->slots[t->n_hw - 1].used) {
            t->n_hw--;
        }
    }
}

uint32_t
lguard_backoff_next(uint32_t prev_ms, uint64_t quiet_ms)
{
    if (!prev_ms || quiet_ms >= LGUARD_BACKOFF_RESET_MS) {
        return LGUARD_BACKOFF_MIN_MS;
    }
    uint64_t next = (uint64_t) prev_ms * 2;
    return next > LGUARD_BACKOFF_MAX_MS ? LGUARD_BACKOFF_MAX_MS
                                        : (uint32_t) next;
}

/* ---- The guard ---- */

struct lguard_conn;

struct lguard {
    struct event_base *base;
    struct lguard_config cfg;
    char name[16];
    struct lguard_table table;
    uint64_t last_sweep_ms;
    /* Accept back-off. */
    struct evconnlistener *listener;
    struct event *backoff_timer;
    uint32_t backoff_ms;
    uint64_t last_error_ms;
    int last_errno;
    /* Refusals since the last report line. */
    struct event *report_timer;
    struct lguard_stats stats, reported;
    uint32_t max_backoff_seen;
    /* REST: connections whose socket is not looked at yet. */
    struct lguard_conn *pending;
    struct event *pending_ev;
    struct event *resume_timer; /* ends a pause after a burst */
    unsigned burst_refused;
    lguard_make_bev make;
    void *make_arg;
};

static void lguard_sweep(struct lguard *);

/* Arms 'ev' to fire in 'ms' milliseconds. */
static void
lguard_arm(struct event *ev, uint32_t ms)
{
    struct timeval tv = {
        .tv_sec = ms / 1000,
        .tv_usec = (suseconds_t) (ms % 1000) * 1000,
    };
    evtimer_add(ev, &tv);
}

static void
lguard_report_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lguard *g = arg;
    const struct lguard_stats *s = &g->stats, *r = &g->reported;
    (void) fd;
    (void) what;
    lguard_sweep(g); /* 'open' counts only live connections */
    log_write(LOG_WARN, "listen", "event=limits listener=%s "
              "refused_peer=%" PRIu64 " refused_total=%" PRIu64
              " accept_backoffs=%" PRIu64 " backoff_ms=%" PRIu32
              " errno=%d timeouts=%" PRIu64 " too_large=%" PRIu64
              " open=%zu", g->name, s->refused_peer - r->refused_peer,
              s->refused_total - r->refused_total, s->backoffs - r->backoffs,
              g->max_backoff_seen, g->last_errno, s->timeouts - r->timeouts,
              s->too_large - r->too_large, g->table.n_used);
    g->reported = g->stats;
    g->max_backoff_seen = 0;
}

/* Something was refused: one line sums it up within LGUARD_REPORT_MS. */
static void
lguard_note(struct lguard *g)
{
    if (!evtimer_pending(g->report_timer, NULL)) {
        lguard_arm(g->report_timer, LGUARD_REPORT_MS);
    }
}

static void
lguard_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lguard *g = arg;
    (void) fd;
    (void) what;
    if (g->listener) {
        evconnlistener_enable(g->listener);
    }
}

/* The guards watching a listener: libevent hands an error callback the
 * listener's own argument (evhttp's, the agent server's), so the guard
 * is found by its listener. */
#define LGUARD_MAX_WATCHED 8
static struct lguard *lguard_watching[LGUARD_MAX_WATCHED];

static void
lguard_accept_error(struct evconnlistener *l, void *arg)
{
    struct lguard *g = NULL;
    (void) arg;
    for (size_t i = 0; i < LGUARD_MAX_WATCHED && !g; i++) {
        if (lguard_watching[i] && lguard_watching[i]->listener == l) {
            g = lguard_watching[i];
        }
    }
    if (!g) {
        return; /* cannot happen: the callback is set with the guard */
    }
    uint64_t now = clock_mono_ms();
    g->last_errno = EVUTIL_SOCKET_ERROR();
    g->backoff_ms = lguard_backoff_next(g->backoff_ms,
                                        g->last_error_ms
                                            ? now - g->last_error_ms
                                            : UINT64_MAX);
    g->last_error_ms = now;
    if (g->backoff_ms > g->max_backoff_seen) {
        g->max_backoff_seen = g->backoff_ms;
    }
    g->stats.backoffs++;
    evconnlistener_disable(l);
    lguard_arm(g->backoff_timer, g->backoff_ms);
    lguard_note(g);
}

void
lguard_watch_listener(struct lguard *g, struct evconnlistener *l)
{
    for (size_t i = 0; i < LGUARD_MAX_WATCHED; i++) {
        if (!lguard_watching[i] || lguard_watching[i] == g) {
            lguard_watching[i] = g;
            g->listener = l;
            evconnlistener_set_error_cb(l, lguard_accept_error);
            return;
        }
    }
    abort(); /* more listeners than mignetd has */
}

/* The numeric address of 'sa' without its port. */
static void
lguard_peer_of(const struct sockaddr *sa, char *buf, size_t len)
{
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        inet_ntop(AF_INET, &in.sin_addr, buf, (socklen_t) len);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        inet_ntop(AF_INET6, &in6.sin6_addr, buf, (socklen_t) len);
    } else {
        snprintf(buf, len, "local");
    }
}

static void lguard_conn_free(struct lguard_conn *);

static void
lguard_slot_drop(struct lguard *g, size_t i)
{
    struct lguard_slot *s = &g->table.slots[i];
    if (s->conn) {
        lguard_conn_free(s->conn);
    }
    lguard_table_release(&g->table, i, s->gen);
}

/* Frees the slots of connections closed behind the guard's back (the
 * descriptor is gone or is another socket now). */
static void
lguard_sweep(struct lguard *g)
{
    struct lguard_table *t = &g->table;
    for (size_t i = t->n_hw; i-- > 0;) {
        struct lguard_slot *s = &t->slots[i];
        struct stat st;
        if (s->used && (fstat(s->fd, &st) || !S_ISSOCK(st.st_mode)
                        || st.st_ino != s->ino)) {
            lguard_slot_drop(g, i);
        }
    }
}

/* Admits the connection on 'fd' from 'sa' or counts the refusal. */
static bool
lguard_admit_fd(struct lguard *g, int fd, const struct sockaddr *sa,
                size_t *slot)
{
    char peer[LGUARD_PEER_MAX];
    struct stat st;
    lguard_peer_of(sa, peer, sizeof peer);
    if (fstat(fd, &st)) {
        return false;
    }
    enum lguard_verdict v = lguard_table_admit(&g->table, peer, fd,
                                               st.st_ino, slot);
    if (v != LGUARD_OK) {
        uint64_t now = clock_mono_ms();
        if (now - g->last_sweep_ms >= LGUARD_SWEEP_MS) {
            g->last_sweep_ms = now;
            lguard_sweep(g);
            v = lguard_table_admit(&g->table, peer, fd, st.st_ino, slot);
        }
    }
    if (v == LGUARD_OK) {
        return true;
    }
    if (v == LGUARD_PEER_FULL) {
        g->stats.refused_peer++;
    } else {
        g->stats.refused_total++;
    }
    lguard_note(g);
    return false;
}

bool
lguard_accept(struct lguard *g, int fd, const struct sockaddr *sa)
{
    size_t slot;
    return lguard_admit_fd(g, fd, sa, &slot);
}

/* ---- REST connections ---- */

enum lguard_req_state {
    LGUARD_IDLE, /* between requests */
    LGUARD_BUSY, /* a request is arriving or being answered */
};

/* One REST connection, watched through callbacks on its bufferevent's
 * buffers (evhttp owns the bufferevent and frees it without telling
 * anyone: the connection is freed with its slot, once its socket is
 * seen closed, so a callback never outlives it). */
struct lguard_conn {
    struct lguard *g;
    struct lguard_conn *prev, *next; /* on g->pending */
    bool on_pending;
    struct bufferevent *bev;
    struct evbuffer_cb_entry *in_cb, *out_cb;
    struct event *deadline, *fix;
    enum lguard_req_state state;
    int fd;
    ino_t ino;
};

static void
lguard_pending_remove(struct lguard_conn *c)
{
    if (!c->on_pending) {
        return;
    }
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        c->g->pending = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
    c->on_pending = false;
}

static void
lguard_conn_free(struct lguard_conn *c)
{
    lguard_pending_remove(c);
    event_free(c->deadline);
    event_free(c->fix);
    free(c);
}

/* Whether the connection's socket is still open (its bufferevent too). */
static bool
lguard_conn_alive(const struct lguard_conn *c)
{
    struct stat st;
    return c->fd >= 0 && !fstat(c->fd, &st) && S_ISSOCK(st.st_mode)
           && st.st_ino == c->ino;
}

static void
lguard_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lguard_conn *c = arg;
    (void) fd;
    (void) what;
    if (lguard_conn_alive(c)) {
        c->g->stats.timeouts++;
        lguard_note(c->g);
        /* evhttp reads the end of the stream and frees the connection. */
        shutdown(c->fd, SHUT_RDWR);
    }
}

static void
lguard_arm_deadline(struct lguard_conn *c)
{
    if (c->g->cfg.request_timeout_ms) {
        lguard_arm(c->deadline, c->g->cfg.request_timeout_ms);
    }
}

/* Bytes of a request: its time starts with its first byte. */
static void
lguard_in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
             void *arg)
{
    struct lguard_conn *c = arg;
    (void) buf;
    if (info->n_added && c->state == LGUARD_IDLE) {
        c->state = LGUARD_BUSY;
        lguard_arm_deadline(c);
    }
}

/* The JSON code, message and reason phrase of an error page evhttp wrote
 * itself. */
struct lguard_page {
    const char *code, *message, *reason;
};

static struct lguard_page
lguard_error_page(int status)
{
    switch (status) {
    case 413:
        return (struct lguard_page){"too_large",
                                    "the body is over --max-body-bytes",
                                    "Payload Too Large"};
    case 404:
        return (struct lguard_page){"not_found", "no such resource",
                                    "Not Found"};
    case 405:
        return (struct lguard_page){"method_not_allowed",
                                    "the resource does not allow this "
                                    "method", "Method Not Allowed"};
    case 501:
        return (struct lguard_page){"not_implemented",
                                    "the HTTP server does not know this "
                                    "method", "Not Implemented"};
    case 400:
        return (struct lguard_page){"bad_request",
                                    "malformed request (request line, "
                                    "header or body framing)",
                                    "Bad Request"};
    default:
        return (struct lguard_page){status >= 500 ? "internal"
                                                  : "bad_request",
                                    "the HTTP server refused the request",
                                    status >= 500 ? "Internal Server Error"
                                                  : "Bad Request"};
    }
}

/* evhttp answers some errors itself (a body over the limit, a head over
 * 16 KiB, a malformed request) with an HTML page: it is replaced by the
 * API's JSON error before a byte of it is sent. */
static void
lguard_fix_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lguard_conn *c = arg;
    (void) fd;
    (void) what;
    if (!lguard_conn_alive(c)) {
        return;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct evbuffer_ptr end = evbuffer_search(out, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) {
        return;
    }
    const char *head = (const char *) evbuffer_pullup(out, end.pos);
    /* The status line, as a bounded string: the head is not NUL-ended. */
    char first[32];
    size_t n = (size_t) end.pos < sizeof first - 1 ? (size_t) end.pos
                                                   : sizeof first - 1;
    memcpy(first, head, n);
    first[n] = '\0';
    int status = 0;
    if (sscanf(first, "HTTP/1.%*d %d", &status) != 1
        || !memmem(head, (size_t) end.pos, "Content-Type: text/html", 23)) {
        return;
    }
    struct lguard_page pg = lguard_error_page(status);
    char body[200], line[256];
    int blen = snprintf(body, sizeof body,
                        "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
                        pg.code, pg.message);
    int hlen = snprintf(line, sizeof line,
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json"
                        "\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
                        status, pg.reason, blen);
    if (status == 413) {
        c->g->stats.too_large++;
        lguard_note(c->g);
    }
    evbuffer_drain(out, evbuffer_get_length(out));
    evbuffer_add(out, line, (size_t) hlen);
    evbuffer_add(out, body, (size_t) blen);
}

/* An answer ends its request's time (unless it is a "100 Continue"
 * before the body). */
static void
lguard_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
              void *arg)
{
    struct lguard_conn *c = arg;
    static const char cont[] = "HTTP/1.1 100";
    if (!info->n_added || info->orig_size) {
        return; /* only the first bytes of an answer matter */
    }
    unsigned char *p = evbuffer_pullup(buf, sizeof cont - 1);
    if (p && !memcmp(p, cont, sizeof cont - 1)) {
        return;
    }
    c->state = LGUARD_IDLE;
    evtimer_del(c->deadline);
    /* "HTTP/1.x 4.." or "5..": an error, maybe one of evhttp's HTML
     * pages (also 501 for an unknown method, and to HTTP/1.0). */
    if (p && !memcmp(p, "HTTP/1.", 7) && (p[9] == '4' || p[9] == '5')) {
        /* Looked at once the whole head is written: before any write. */
        event_active(c->fix, EV_TIMEOUT, 0);
    }
}

/* Looks at the sockets evhttp has set since the last call: each gets a
 * slot or is shut down at once. */
static void
lguard_check_pending(struct lguard *g)
{
    while (g->pending) {
        struct lguard_conn *c = g->pending;
        lguard_pending_remove(c);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        struct stat st;
        size_t slot;
        c->fd = bufferevent_getfd(c->bev);
        bool ok = c->fd >= 0
                  && !getpeername(c->fd, (struct sockaddr *) &ss, &sl)
                  && !fstat(c->fd, &st);
        if (ok && lguard_admit_fd(g, c->fd, (struct sockaddr *) &ss,
                                  &slot)) {
            c->ino = st.st_ino;
            g->table.slots[slot].conn = c;
            /* A new connection's first request must arrive in time. */
            c->state = LGUARD_BUSY;
            lguard_arm_deadline(c);
            continue;
        }
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
        evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
        if (c->fd >= 0) {
            shutdown(c->fd, SHUT_RDWR); /* evhttp frees it */
        }
        lguard_conn_free(c);
        if (++g->burst_refused >= LGUARD_BURST && g->listener) {
            evconnlistener_disable(g->listener);
            lguard_arm(g->resume_timer, 1);
        }
    }
}

static void
lguard_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lguard *g = arg;
    (void) fd;
    (void) what;
    g->burst_refused = 0;
    if (!evtimer_pending(g->backoff_timer, NULL)) {
        evconnlistener_enable(g->listener);
    }
}

static void
lguard_pending_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    lguard_check_pending(arg);
}

static struct bufferevent *
lguard_http_bevcb(struct event_base *base, void *arg)
{
    struct lguard *g = arg;
    /* The connection accepted before this one has its socket by now. */
    lguard_check_pending(g);
    struct bufferevent *bev =
        g->make ? g->make(base, g->make_arg)
                : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        return NULL;
    }
    struct lguard_conn *c = xcalloc(1, sizeof *c);
    c->g = g;
    c->fd = -1;
    c->bev = bev;
    c->deadline = evtimer_new(base, lguard_deadline_cb, c);
    c->fix = event_new(base, -1, 0, lguard_fix_cb, c);
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), lguard_in_cb, c);
    c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), lguard_out_cb,
                                c);
    if (!c->deadline || !c->fix || !c->in_cb || !c->out_cb) {
        out_of_memory();
    }
    c->next = g->pending;
    if (g->pending) {
        g->pending->prev = c;
    }
    g->pending = c;
    c->on_pending = true;
    event_active(g->pending_ev, EV_TIMEOUT, 0);
    return bev;
}

void
lguard_http(struct lguard *g, struct evhttp *http,
            struct evhttp_bound_socket *bound, lguard_make_bev make,
            void *make_arg)
{
    g->make = make;
    g->make_arg = make_arg;
    evhttp_set_bevcb(http, lguard_http_bevcb, g);
    if (bound) {
        lguard_watch_listener(g, evhttp_bound_socket_get_listener(bound));
    }
}

/* ---- Life ---- */

struct lguard *
lguard_new(struct event_base *base, const struct lguard_config *cfg)
{
    struct lguard *g = xcalloc(1, sizeof *g);
    g->base = base;
    g->cfg = *cfg;
    snprintf(g->name, sizeof g->name, "%s", cfg->name ? cfg->name : "-");
    g->cfg.name = g->name;
    lguard_table_init(&g->table, cfg->max_conns, cfg->max_per_peer);
    g->backoff_timer = evtimer_new(base, lguard_backoff_cb, g);
    g->report_timer = evtimer_new(base, lguard_report_cb, g);
    g->pending_ev = event_new(base, -1, 0, lguard_pending_cb, g);
    g->resume_timer = evtimer_new(base, lguard_resume_cb, g);
    if (!g->backoff_timer || !g->report_timer || !g->pending_ev
        || !g->resume_timer) {
        out_of_memory();
    }
    return g;
}

void
lguard_free(struct lguard *g)
{
    if (!g) {
        return;
    }
    for (size_t i = 0; i < LGUARD_MAX_WATCHED; i++) {
        if (lguard_watching[i] == g) {
            lguard_watching[i] = NULL;
        }
    }
    while (g->pending) {
        lguard_conn_free(g->pending);
    }
    for (size_t i = g->table.n_hw; i-- > 0;) {
        if (g->table.slots[i].used) {
            lguard_slot_drop(g, i);
        }
    }
    event_free(g->backoff_timer);
    event_free(g->report_timer);
    event_free(g->pending_ev);
    event_free(g->resume_timer);
    lguard_table_destroy(&g->table);
    free(g);
}

void
lguard_get_stats(const struct lguard *g, struct lguard_stats *s)
{
    *s = g->stats;
    s->open = g->table.n_used;
}
