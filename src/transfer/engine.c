/* engine.c: the pre-copy engine's sockets -- the sender's rounds over one
 * TCP connection per path (or one MPTCP connection) and the receiver that
 * applies pages and checks the copy.
 *
 * Round boundaries (docs/precopy.md "Modes"): 'buffer' when write() has
 * taken the round's last byte, 'en' (Early Notification) when the round's
 * bytes have all left the host (SIOCOUTQNSD == 0 on every connection),
 * 'ack' when everything sent is acknowledged (SIOCOUTQ == 0).  The kernel
 * has no event for the last two, so the engine polls them every
 * PRECOPY_POLL_US (200 us).  A migration only counts when the receiver's
 * per-page checksums equal the sender's over the paused region. */
#include "mignet/transfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h>   /* struct tcp_info with tcpi_notsent_bytes */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/sock.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define PRECOPY_POLL_US 200
#define STAGE_SIZE (256 * 1024)     /* a connection's staging buffer */
#define RX_SIZE (1024 * 1024)       /* a receiver connection's buffer */

_Static_assert(STAGE_SIZE >= PRECOPY_MAX_FRAME, "a frame fits the stage");
_Static_assert(RX_SIZE >= 2 * PRECOPY_MAX_FRAME, "a frame fits the rx");

const char *
precopy_mode_name(enum precopy_mode m)
{
    switch (m) {
    case PRECOPY_MODE_ACK:
        return "ack";
    case PRECOPY_MODE_EN:
        return "en";
    case PRECOPY_MODE_BUFFER:
        return "buffer";
    }
    return "unknown";
}

bool
precopy_mode_parse(const char *s, enum precopy_mode *m)
{
    static const enum precopy_mode all[] = {
        PRECOPY_MODE_ACK, PRECOPY_MODE_EN, PRECOPY_MODE_BUFFER,
    };
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++) {
        if (!strcmp(s, precopy_mode_name(all[i]))) {
            *m = all[i];
            return true;
        }
    }
    return false;
}

static void
sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Resolves numeric "HOST:PORT" (IPv4 or IPv6). */
static int
resolve(const char *hostport, struct sockaddr_storage *ss, socklen_t *sslen,
        char *err, size_t errlen)
{
    char host[256], port[8];
    if (!sock_split_hostport(hostport, host, sizeof host, port, sizeof port)
        || !sock_host_numeric(host)) {
        snprintf(err, errlen, "%s: want ADDRESS:PORT (a numeric address)",
                 hostport);
        return EINVAL;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc || !ai) {
        snprintf(err, errlen, "%s: %s", hostport, gai_strerror(rc));
        return EINVAL;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *sslen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static int
open_socket(int family, bool mptcp, char *err, size_t errlen)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC,
                    mptcp ? IPPROTO_MPTCP : IPPROTO_TCP);
    if (fd < 0) {
        if (mptcp) {
            snprintf(err, errlen,
                     "the kernel refuses MPTCP sockets (socket(..., "
                     "IPPROTO_MPTCP): %s): is net.mptcp.enabled 1 and the "
                     "kernel built with CONFIG_MPTCP?", strerror(errno));
        } else {
            snprintf(err, errlen, "socket: %s", strerror(errno));
        }
    }
    return fd;
}

static int
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? errno : 0;
}

/* Writes all of 'buf' to non-blocking 'fd' before 'deadline_ms'. */
static int
write_all(int fd, const uint8_t *buf, size_t len, int64_t deadline_ms)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t) n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return errno;
        }
        int error = sock_wait(fd, POLLOUT, deadline_ms);
        if (error) {
            return error;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Sender                                                              */
/* ------------------------------------------------------------------ */

struct conn {
    int fd;
    uint8_t *stage;
    size_t len, off;        /* staged bytes, of which 'off' are written */
    size_t cursor;          /* next page to look at in the round's set */
    bool drained;           /* the round's pages are all staged */
    uint64_t pages;         /* PAGE frames staged, every round */
};

struct sender {
    const struct precopy_send_opts *o;
    uint8_t *region;
    size_t n_pages;
    struct conn conns[PRECOPY_MAX_PATHS];
    size_t n_conns;
    uint64_t t0;            /* clock_mono_us() at the start */
    int64_t deadline_ms;    /* sock_now_ms() deadline of the whole run */
    uint64_t bytes;

    /* the TCP_INFO sampler */
    pthread_t sampler;
    bool sampler_started;
    _Atomic bool sampler_stop;
    struct precopy_sample *samples;
    size_t n_samples, cap_samples;
};

#define MAX_SAMPLES (1u << 20)

static void
sample_conn(struct sender *s, size_t c, uint64_t t_us)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(s->conns[c].fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) {
        return;
    }
    if (s->n_samples == s->cap_samples) {
        size_t cap = s->cap_samples ? s->cap_samples * 2 : 1024;
        if (cap > MAX_SAMPLES) {
            return;
        }
        struct precopy_sample *n = realloc(s->samples, cap * sizeof *n);
        if (!n) {
            return;
        }
        s->samples = n;
        s->cap_samples = cap;
    }
    s->samples[s->n_samples++] = (struct precopy_sample) {
        .t_us = t_us,
        .conn = (uint32_t) c,
        .cwnd = ti.tcpi_snd_cwnd,
        .rtt_us = ti.tcpi_rtt,
        .total_retrans = ti.tcpi_total_retrans,
        .unacked = ti.tcpi_unacked,
        .notsent = ti.tcpi_notsent_bytes,
    };
}

static void *
sampler_thread(void *s_)
{
    struct sender *s = s_;
    while (!atomic_load(&s->sampler_stop)) {
        uint64_t t = clock_mono_us() - s->t0;
        for (size_t c = 0; c < s->n_conns; c++) {
            sample_conn(s, c, t);
        }
        sleep_us((long) s->o->sample_ms * 1000);
    }
    return NULL;
}

static int
connect_all(struct sender *s, char *err, size_t errlen)
{
    for (size_t c = 0; c < s->o->n_to; c++) {
        struct sockaddr_storage ss;
        socklen_t sslen;
        int error = resolve(s->o->to[c], &ss, &sslen, err, errlen);
        if (error) {
            return error;
        }
        /* The receiver may still be starting: retry a refused connect. */
        for (;;) {
            int fd = open_socket(ss.ss_family, s->o->mptcp, err, errlen);
            if (fd < 0) {
                return EPROTONOSUPPORT;
            }
            if (connect(fd, (struct sockaddr *) &ss, sslen) == 0) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                s->conns[c].fd = fd;
                break;
            }
            int e = errno;
            close(fd);
            if ((e != ECONNREFUSED && e != EINTR)
                || sock_now_ms() >= s->deadline_ms) {
                snprintf(err, errlen, "connect %s: %s", s->o->to[c],
                         strerror(e));
                return e;
            }
            sleep_us(20000);
        }
        s->n_conns++;
        int error2 = set_nonblock(s->conns[c].fd);
        if (error2) {
            snprintf(err, errlen, "fcntl: %s", strerror(error2));
            return error2;
        }
        s->conns[c].stage = malloc(STAGE_SIZE);
        if (!s->conns[c].stage) {
            snprintf(err, errlen, "out of memory");
            return ENOMEM;
        }
    }
    return 0;
}

/* Stages the next pages of 'set' that belong to connection 'c' (page
 * index modulo the number of connections) until the stage is full. */
static void
stage_pages(struct sender *s, size_t c, const struct precopy_bitmap *set,
            uint32_t round, uint64_t *pages)
{
    struct conn *k = &s->conns[c];
    if (k->off == k->len) {
        k->off = k->len = 0;
    } else if (k->off) {
        memmove(k->stage, k->stage + k->off, k->len - k->off);
        k->len -= k->off;
        k->off = 0;
    }
    while (!k->drained && STAGE_SIZE - k->len >= PRECOPY_PAGE_FRAME) {
        size_t i = precopy_bitmap_next(set, k->cursor);
        while (i < s->n_pages && i % s->n_conns != c) {
            i = precopy_bitmap_next(set, i + 1);
        }
        if (i >= s->n_pages) {
            k->drained = true;
            break;
        }
        k->len += precopy_wire_page(k->stage + k->len, STAGE_SIZE - k->len,
                                    round, (uint32_t) i,
                                    s->region + i * PRECOPY_PAGE_SIZE);
        k->cursor = i + 1;
        k->pages++;
        (*pages)++;
    }
}

/* Writes the pages of 'set' as round 'round' until write() has taken
 * them all.  Adds the pages and bytes to '*pages' and '*bytes'. */
static int
send_set(struct sender *s, const struct precopy_bitmap *set, uint32_t round,
         uint64_t *pages, uint64_t *bytes, char *err, size_t errlen)
{
    for (size_t c = 0; c < s->n_conns; c++) {
        s->conns[c].cursor = 0;
        s->conns[c].drained = false;
    }
    for (;;) {
        struct pollfd pfd[PRECOPY_MAX_PATHS];
        size_t n_wait = 0;
        bool busy = false, progress = false;
        for (size_t c = 0; c < s->n_conns; c++) {
            struct conn *k = &s->conns[c];
            if (k->off == k->len && !k->drained) {
                stage_pages(s, c, set, round, pages);
            }
            if (k->off == k->len) {
                continue;
            }
            busy = true;
            ssize_t n = send(k->fd, k->stage + k->off, k->len - k->off,
                             MSG_NOSIGNAL);
            if (n > 0) {
                k->off += (size_t) n;
                *bytes += (uint64_t) n;
                progress = true;
                if (!k->drained && STAGE_SIZE - (k->len - k->off)
                                       >= STAGE_SIZE / 2) {
                    stage_pages(s, c, set, round, pages);
                }
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                snprintf(err, errlen, "send to %s: %s", s->o->to[c],
                         strerror(errno));
                return errno;
            }
            pfd[n_wait++] = (struct pollfd) {.fd = k->fd, .events = POLLOUT};
        }
        if (!busy) {
            return 0;
        }
        if (!progress) {
            int64_t left = s->deadline_ms - sock_now_ms();
            if (left <= 0) {
                snprintf(err, errlen, "timed out sending round %u", round);
                return ETIMEDOUT;
            }
            if (poll(pfd, n_wait, left > 1000 ? 1000 : (int) left) < 0
                && errno != EINTR) {
                snprintf(err, errlen, "poll: %s", strerror(errno));
                return errno;
            }
        }
    }
}

/* Waits for the mode's round boundary on every connection. */
static int
wait_boundary(struct sender *s, enum precopy_mode mode, char *err,
              size_t errlen)
{
    if (mode == PRECOPY_MODE_BUFFER) {
        return 0;
    }
    unsigned long req = mode == PRECOPY_MODE_ACK ? SIOCOUTQ : SIOCOUTQNSD;
    for (;;) {
        bool left = false;
        for (size_t c = 0; c < s->n_conns && !left; c++) {
            int q = 0;
            if (ioctl(s->conns[c].fd, req, &q) < 0) {
                if (mode == PRECOPY_MODE_EN) {
                    /* tcpi_notsent_bytes says the same. */
                    struct tcp_info ti;
                    socklen_t len = sizeof ti;
                    memset(&ti, 0, sizeof ti);
                    if (getsockopt(s->conns[c].fd, IPPROTO_TCP, TCP_INFO,
                                   &ti, &len) == 0) {
                        q = (int) ti.tcpi_notsent_bytes;
                    } else {
                        snprintf(err, errlen, "SIOCOUTQNSD: %s",
                                 strerror(errno));
                        return errno;
                    }
                } else {
                    snprintf(err, errlen, "SIOCOUTQ: %s", strerror(errno));
                    return errno;
                }
            }
            left = q > 0;
        }
        if (!left) {
            return 0;
        }
        if (sock_now_ms() >= s->deadline_ms) {
            snprintf(err, errlen, "timed out waiting for the %s boundary",
                     precopy_mode_name(mode));
            return ETIMEDOUT;
        }
        sleep_us(PRECOPY_POLL_US);
    }
}

struct hash_job {
    const uint8_t *region;
    size_t first, count;
    uint64_t *sums;
};

static void *
hash_thread(void *j_)
{
    const struct hash_job *j = j_;
    for (size_t i = 0; i < j->count; i++) {
        j->sums[i] = precopy_page_sum(
            j->region + (j->first + i) * PRECOPY_PAGE_SIZE,
            (uint32_t) (j->first + i));
    }
    return NULL;
}

/* Sums of pages first..first+count-1 into 'sums': half on a second
 * thread (the workload's core is idle now: this is downtime). */
static void
hash_pages(const uint8_t *region, size_t first, size_t count, uint64_t *sums)
{
    size_t half = count / 2;
    struct hash_job a = {region, first, half, sums};
    struct hash_job b = {region, first + half, count - half, sums + half};
    pthread_t t;
    bool two = half && pthread_create(&t, NULL, hash_thread, &b) == 0;
    hash_thread(&a);
    if (two) {
        pthread_join(t, NULL);
    } else {
        hash_thread(&b);
    }
}

/* Sends DONE on every connection, then the checksums of the paused
 * region on connection 0, one frame as soon as its pages are hashed (the
 * receiver compares while the sender still hashes), then reads the
 * receiver's verdict. */
static int
verify(struct sender *s, struct precopy_send_report *r, char *err,
       size_t errlen)
{
    uint8_t *buf = malloc(PRECOPY_MAX_FRAME);
    uint64_t *sums = malloc(PRECOPY_CSUM_PER_FRAME * sizeof *sums);
    int error = 0;
    if (!buf || !sums) {
        free(buf);
        free(sums);
        snprintf(err, errlen, "out of memory");
        return ENOMEM;
    }
    for (size_t c = 0; c < s->n_conns && !error; c++) {
        size_t n = precopy_wire_done(buf, PRECOPY_MAX_FRAME,
                                     s->conns[c].pages);
        error = write_all(s->conns[c].fd, buf, n, s->deadline_ms);
        s->bytes += n;
    }
    for (size_t first = 0; first < s->n_pages && !error;
         first += PRECOPY_CSUM_PER_FRAME) {
        size_t count = s->n_pages - first;
        if (count > PRECOPY_CSUM_PER_FRAME) {
            count = PRECOPY_CSUM_PER_FRAME;
        }
        hash_pages(s->region, first, count, sums);
        size_t n = precopy_wire_csum(buf, PRECOPY_MAX_FRAME, (uint32_t) first,
                                     sums, (uint32_t) count);
        error = write_all(s->conns[0].fd, buf, n, s->deadline_ms);
        s->bytes += n;
    }
    free(sums);
    if (error) {
        snprintf(err, errlen, "sending checksums: %s", strerror(error));
        free(buf);
        return error;
    }
    size_t have = 0;
    for (;;) {
        struct precopy_msg m;
        size_t used;
        int pe = precopy_wire_parse(buf, have, &m, &used);
        if (pe == 0) {
            if (m.type != PRECOPY_MSG_VERDICT
                || !precopy_wire_check(&m, (uint32_t) s->n_pages)) {
                snprintf(err, errlen, "the receiver answered with a "
                         "message other than a verdict");
                error = EPROTO;
            } else {
                r->checked = m.u.verdict.checked;
                r->mismatches = m.u.verdict.mismatches;
                r->verified = r->checked == s->n_pages && !r->mismatches;
            }
            break;
        }
        if (pe != EAGAIN || have >= PRECOPY_MAX_FRAME) {
            snprintf(err, errlen, "the receiver's verdict is malformed");
            error = EPROTO;
            break;
        }
        error = sock_wait(s->conns[0].fd, POLLIN, s->deadline_ms);
        if (error) {
            snprintf(err, errlen, "waiting for the verdict: %s",
                     strerror(error));
            break;
        }
        ssize_t n = recv(s->conns[0].fd, buf + have, PRECOPY_MAX_FRAME - have,
                         0);
        if (n == 0) {
            snprintf(err, errlen, "the receiver closed before its verdict");
            error = EPIPE;
            break;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            error = errno;
            snprintf(err, errlen, "reading the verdict: %s", strerror(error));
            break;
        }
        if (n > 0) {
            have += (size_t) n;
        }
    }
    free(buf);
    return error;
}

static uint64_t
retransmits(const struct sender *s)
{
    uint64_t sum = 0;
    for (size_t c = 0; c < s->n_conns; c++) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (getsockopt(s->conns[c].fd, IPPROTO_TCP, TCP_INFO, &ti, &len)
            == 0) {
            sum += ti.tcpi_total_retrans;
        }
    }
    return sum;
}

static int
run_rounds(struct sender *s, struct precopy_bitmap *dirty,
           struct precopy_bitmap *set, struct precopy_track *track,
           struct precopy_workload *wl, struct precopy_send_report *r,
           char *err, size_t errlen)
{
    const struct precopy_send_opts *o = s->o;
    int error;
    uint32_t round = 0;

    /* Round 1 sends every page; round i the pages dirtied in round i-1. */
    precopy_bitmap_set_all(dirty);
    while (!r->rounds.stopped) {
        round++;
        uint64_t start = clock_mono_us();
        precopy_bitmap_clear_all(set);
        precopy_bitmap_take(dirty, set);
        /* Protect before reading: a write from here on faults and marks
         * the page again for the next round. */
        error = precopy_track_protect(track, set);
        if (error) {
            snprintf(err, errlen, "write-protect: %s", strerror(error));
            return error;
        }
        uint64_t pages = 0, bytes = 0;
        error = send_set(s, set, round, &pages, &bytes, err, errlen);
        if (!error) {
            error = wait_boundary(s, o->mode, err, errlen);
        }
        if (error) {
            return error;
        }
        uint64_t end = clock_mono_us();
        s->bytes += bytes;
        error = precopy_rounds_end(&r->rounds, start - s->t0, end - start,
                                   pages, bytes, precopy_bitmap_count(dirty));
        if (error) {
            snprintf(err, errlen, "out of memory");
            return error;
        }
    }

    /* Stop-and-copy: the workload is paused (no write in flight) and the
     * faults in hand have set their bits, so the rest needs no protection
     * and the region is what must arrive. */
    uint64_t pause = clock_mono_us();
    precopy_workload_pause(wl);
    precopy_track_quiesce(track);
    round++;
    precopy_bitmap_clear_all(set);
    precopy_bitmap_take(dirty, set);
    uint64_t pages = 0, bytes = 0;
    error = send_set(s, set, round, &pages, &bytes, err, errlen);
    if (error) {
        return error;
    }
    error = wait_boundary(s, o->mode, err, errlen);
    uint64_t end = clock_mono_us();
    s->bytes += bytes;
    if (!error) {
        error = precopy_rounds_final(&r->rounds, pause - s->t0, end - pause,
                                     pages, bytes);
    }
    if (!error) {
        error = verify(s, r, err, errlen);
    }
    uint64_t done = clock_mono_us();
    r->verify_us = done - end;
    r->downtime_us = done - pause;
    r->total_us = done - s->t0;
    return error;
}

int
precopy_send(const struct precopy_send_opts *o, struct precopy_send_report *r,
             char *err, size_t errlen)
{
    *r = (struct precopy_send_report) {0};
    err[0] = '\0';
    if (o->n_to < 1 || o->n_to > PRECOPY_MAX_PATHS
        || (o->mptcp && o->n_to != 1) || o->sample_ms < 1
        || o->mem_bytes < PRECOPY_PAGE_SIZE
        || o->mem_bytes / PRECOPY_PAGE_SIZE > PRECOPY_MAX_PAGES) {
        snprintf(err, errlen, "invalid options");
        return EINVAL;
    }
    int error = precopy_rounds_init(&r->rounds, &o->cfg, o->mem_bytes,
                                    PRECOPY_PAGE_SIZE);
    if (error) {
        snprintf(err, errlen, "stop conditions out of range");
        return error;
    }

    struct sender s = {.o = o};
    for (size_t c = 0; c < PRECOPY_MAX_PATHS; c++) {
        s.conns[c].fd = -1;
    }
    s.n_pages = o->mem_bytes / PRECOPY_PAGE_SIZE;
    s.deadline_ms = sock_now_ms() + (int64_t) o->timeout_s * 1000;
    size_t len = s.n_pages * PRECOPY_PAGE_SIZE;
    struct precopy_bitmap *dirty = precopy_bitmap_create(s.n_pages);
    struct precopy_bitmap *set = precopy_bitmap_create(s.n_pages);
    struct precopy_track *track = NULL;
    struct precopy_workload *wl = NULL;
    s.region = mmap(NULL, len, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s.region == MAP_FAILED) {
        s.region = NULL;
        snprintf(err, errlen, "mmap %zu bytes: %s", len, strerror(errno));
        error = ENOMEM;
        goto out;
    }
    if (!dirty || !set) {
        snprintf(err, errlen, "out of memory");
        error = ENOMEM;
        goto out;
    }
    madvise(s.region, len, MADV_NOHUGEPAGE);
    precopy_region_fill(s.region, s.n_pages, o->workload.seed + 1);

    error = connect_all(&s, err, errlen);
    if (error) {
        goto out;
    }
    uint8_t hello[64];
    for (size_t c = 0; c < s.n_conns && !error; c++) {
        size_t n = precopy_wire_hello(hello, sizeof hello, (uint16_t) c,
                                      (uint16_t) s.n_conns,
                                      (uint32_t) s.n_pages);
        error = write_all(s.conns[c].fd, hello, n, s.deadline_ms);
        s.bytes += n;
    }
    if (error) {
        snprintf(err, errlen, "sending hello: %s", strerror(error));
        goto out;
    }

    error = precopy_track_start(s.region, s.n_pages, dirty,
                                o->force_mprotect, &track, err, errlen);
    if (error) {
        goto out;
    }
    r->tracking = precopy_track_kind(track);
    error = precopy_workload_start(s.region, s.n_pages, &o->workload, &wl);
    if (error) {
        snprintf(err, errlen, "workload: %s", strerror(error));
        goto out;
    }
    s.t0 = clock_mono_us();
    error = pthread_create(&s.sampler, NULL, sampler_thread, &s);
    if (error) {
        snprintf(err, errlen, "sampler thread: %s", strerror(error));
        goto out;
    }
    s.sampler_started = true;

    error = run_rounds(&s, dirty, set, track, wl, r, err, errlen);

out:
    if (s.sampler_started) {
        atomic_store(&s.sampler_stop, true);
        pthread_join(s.sampler, NULL);
    }
    if (wl) {
        r->writes = precopy_workload_writes(wl);
        precopy_workload_stop(wl);
    }
    if (track) {
        r->faults = precopy_track_faults(track);
        precopy_track_stop(track);
    }
    r->retransmits = retransmits(&s);
    r->bytes = s.bytes;
    r->samples = s.samples;
    r->n_samples = s.n_samples;
    for (size_t c = 0; c < PRECOPY_MAX_PATHS; c++) {
        if (s.conns[c].fd >= 0) {
            close(s.conns[c].fd);
        }
        free(s.conns[c].stage);
    }
    if (s.region) {
        munmap(s.region, len);
    }
    precopy_bitmap_destroy(dirty);
    precopy_bitmap_destroy(set);
    return error;
}

void
precopy_send_report_destroy(struct precopy_send_report *r)
{
    if (r) {
        precopy_rounds_destroy(&r->rounds);
        free(r->samples);
        r->samples = NULL;
        r->n_samples = 0;
    }
}

/* ------------------------------------------------------------------ */
/* Receiver                                                            */
/* ------------------------------------------------------------------ */

struct rconn {
    int fd;
    uint8_t *buf;
    size_t have;
    bool hello, done, eof;
    uint16_t index;
    uint64_t pages;
};

struct receiver {
    struct rconn conns[PRECOPY_MAX_PATHS];
    size_t n_conns;             /* accepted */
    uint32_t n_pages;
    uint16_t session_conns;     /* from HELLO */
    uint8_t *region;
    uint64_t *sums;             /* the sender's */
    uint64_t *mine;             /* of each page as applied */
    uint32_t n_sums;            /* the sender's received, in order */
    size_t n_done;
};

static int
listen_on(const char *addr, bool mptcp, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (resolve(addr, &ss, &sslen, err, errlen)) {
        return -1;
    }
    int fd = open_socket(ss.ss_family, mptcp, err, errlen);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *) &ss, sslen) < 0
        || listen(fd, 16) < 0) {
        snprintf(err, errlen, "listen on %s: %s", addr, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Handles one parsed frame from connection 'k'. */
static int
handle(struct receiver *rv, struct rconn *k, const struct precopy_msg *m,
       struct precopy_recv_report *rep, char *err, size_t errlen)
{
    if (!k->hello && m->type != PRECOPY_MSG_HELLO) {
        snprintf(err, errlen, "protocol error: a frame before HELLO");
        return EPROTO;
    }
    if (k->done && m->type != PRECOPY_MSG_CSUM) {
        snprintf(err, errlen, "protocol error: a frame after DONE");
        return EPROTO;
    }
    switch (m->type) {
    case PRECOPY_MSG_HELLO:
        if (k->hello) {
            snprintf(err, errlen, "protocol error: a second HELLO");
            return EPROTO;
        }
        if (rv->region) {
            if (m->u.hello.n_pages != rv->n_pages
                || m->u.hello.n_conns != rv->session_conns) {
                snprintf(err, errlen, "protocol error: connections "
                         "disagree on the session");
                return EPROTO;
            }
        } else {
            if (m->u.hello.n_conns != rv->n_conns) {
                snprintf(err, errlen, "the sender has %u connections, "
                         "this receiver listens for %zu",
                         m->u.hello.n_conns, rv->n_conns);
                return EPROTO;
            }
            size_t len = (size_t) m->u.hello.n_pages * PRECOPY_PAGE_SIZE;
            void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                           0);
            rv->sums = calloc(m->u.hello.n_pages, sizeof *rv->sums);
            rv->mine = calloc(m->u.hello.n_pages, sizeof *rv->mine);
            if (p == MAP_FAILED || !rv->sums || !rv->mine) {
                if (p != MAP_FAILED) {
                    munmap(p, len);
                }
                snprintf(err, errlen, "cannot hold %u pages",
                         m->u.hello.n_pages);
                return ENOMEM;
            }
            rv->region = p;
            rv->n_pages = m->u.hello.n_pages;
            rv->session_conns = m->u.hello.n_conns;
            rep->n_pages = rv->n_pages;
            rep->n_conns = rv->session_conns;
        }
        for (size_t c = 0; c < rv->n_conns; c++) {
            if (rv->conns[c].hello && rv->conns[c].index == m->u.hello.conn) {
                snprintf(err, errlen, "protocol error: two connections "
                         "say they are %u", m->u.hello.conn);
                return EPROTO;
            }
        }
        k->hello = true;
        k->index = m->u.hello.conn;
        return 0;
    case PRECOPY_MSG_PAGE:
        if (!precopy_wire_check(m, rv->n_pages)
            || m->u.page.index % rv->session_conns != k->index) {
            snprintf(err, errlen, "protocol error: page %u out of range "
                     "or on the wrong connection", m->u.page.index);
            return EPROTO;
        }
        memcpy(rv->region + (size_t) m->u.page.index * PRECOPY_PAGE_SIZE,
               m->u.page.data, PRECOPY_PAGE_SIZE);
        /* The page's sum as it now stands in the region (nothing else
         * writes the region), while its bytes are in the cache: the check
         * at the end only compares. */
        rv->mine[m->u.page.index] = precopy_page_sum(
            rv->region + (size_t) m->u.page.index * PRECOPY_PAGE_SIZE,
            m->u.page.index);
        k->pages++;
        rep->pages++;
        return 0;
    case PRECOPY_MSG_CSUM:
        if (k->index != 0 || !k->done || !precopy_wire_check(m, rv->n_pages)
            || m->u.csum.first != rv->n_sums) {
            snprintf(err, errlen, "protocol error: checksums out of order "
                     "or range");
            return EPROTO;
        }
        for (uint32_t i = 0; i < m->u.csum.count; i++) {
            rv->sums[m->u.csum.first + i] = precopy_wire_csum_at(m, i);
        }
        rv->n_sums += m->u.csum.count;
        return 0;
    case PRECOPY_MSG_DONE:
        if (m->u.done.pages != k->pages) {
            snprintf(err, errlen, "connection %u: the sender sent %llu "
                     "pages, %llu arrived", k->index,
                     (unsigned long long) m->u.done.pages,
                     (unsigned long long) k->pages);
            return EPROTO;
        }
        k->done = true;
        rv->n_done++;
        return 0;
    case PRECOPY_MSG_VERDICT:
        snprintf(err, errlen, "protocol error: a verdict from the sender");
        return EPROTO;
    }
    return EPROTO;
}

/* Reads what 'k' has and handles every whole frame in it. */
static int
drain(struct receiver *rv, struct rconn *k, struct precopy_recv_report *rep,
      char *err, size_t errlen)
{
    ssize_t n = recv(k->fd, k->buf + k->have, RX_SIZE - k->have, 0);
    if (n == 0) {
        k->eof = true;
        if (!k->done || (k->index == 0 && rv->n_sums < rv->n_pages)) {
            snprintf(err, errlen, "the sender closed a connection before "
                     "it was done");
            return EPIPE;
        }
        return 0;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return 0;
        }
        snprintf(err, errlen, "recv: %s", strerror(errno));
        return errno;
    }
    rep->bytes += (uint64_t) n;
    k->have += (size_t) n;
    size_t off = 0;
    for (;;) {
        struct precopy_msg m;
        size_t used;
        int pe = precopy_wire_parse(k->buf + off, k->have - off, &m, &used);
        if (pe == EAGAIN) {
            break;
        }
        if (pe) {
            snprintf(err, errlen, "protocol error: a malformed frame");
            return EPROTO;
        }
        int error = handle(rv, k, &m, rep, err, errlen);
        if (error) {
            return error;
        }
        off += used;
    }
    memmove(k->buf, k->buf + off, k->have - off);
    k->have -= off;
    return 0;
}

int
precopy_recv(const struct precopy_recv_opts *o,
             struct precopy_recv_report *rep, char *err, size_t errlen)
{
    *rep = (struct precopy_recv_report) {0};
    err[0] = '\0';
    if (o->n_listen < 1 || o->n_listen > PRECOPY_MAX_PATHS
        || (o->mptcp && o->n_listen != 1)) {
        snprintf(err, errlen, "invalid options");
        return EINVAL;
    }
    struct receiver rv = {0};
    int lfd[PRECOPY_MAX_PATHS];
    int error = 0;
    int64_t deadline = sock_now_ms() + (int64_t) o->timeout_s * 1000;
    uint64_t t0 = 0;
    for (size_t i = 0; i < PRECOPY_MAX_PATHS; i++) {
        lfd[i] = -1;
        rv.conns[i].fd = -1;
    }
    for (size_t i = 0; i < o->n_listen; i++) {
        lfd[i] = listen_on(o->listen[i], o->mptcp, err, errlen);
        if (lfd[i] < 0) {
            error = EADDRNOTAVAIL;
            goto out;
        }
    }
    /* One connection on every listening socket. */
    for (size_t i = 0; i < o->n_listen; i++) {
        error = sock_wait(lfd[i], POLLIN, deadline);
        if (error) {
            snprintf(err, errlen, "waiting for the sender on %s: %s",
                     o->listen[i], strerror(error));
            goto out;
        }
        int fd = accept4(lfd[i], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            error = errno;
            snprintf(err, errlen, "accept: %s", strerror(error));
            goto out;
        }
        if (!t0) {
            t0 = clock_mono_us();
        }
        rv.conns[i].fd = fd;
        rv.conns[i].buf = malloc(RX_SIZE);
        rv.n_conns++;
        if (!rv.conns[i].buf) {
            error = ENOMEM;
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    /* Until every connection is done and connection 0 brought every
     * checksum. */
    while (rv.n_done < rv.n_conns || rv.n_sums < rv.n_pages) {
        struct pollfd pfd[PRECOPY_MAX_PATHS];
        size_t map[PRECOPY_MAX_PATHS];
        size_t n = 0;
        for (size_t c = 0; c < rv.n_conns; c++) {
            if (!rv.conns[c].done
                || (rv.conns[c].index == 0 && rv.n_sums < rv.n_pages)) {
                pfd[n] = (struct pollfd) {.fd = rv.conns[c].fd,
                                          .events = POLLIN};
                map[n++] = c;
            }
        }
        int64_t left = deadline - sock_now_ms();
        if (left <= 0) {
            error = ETIMEDOUT;
            snprintf(err, errlen, "timed out receiving");
            goto out;
        }
        int rc = poll(pfd, n, left > 1000 ? 1000 : (int) left);
        if (rc < 0 && errno != EINTR) {
            error = errno;
            snprintf(err, errlen, "poll: %s", strerror(error));
            goto out;
        }
        for (size_t i = 0; rc > 0 && i < n; i++) {
            if (pfd[i].revents) {
                error = drain(&rv, &rv.conns[map[i]], rep, err, errlen);
                if (error) {
                    goto out;
                }
            }
        }
    }
    if (o->corrupt) {
        /* Test only: spoils a page after it arrived, to prove the check
         * can fail. */
        size_t i = rv.n_pages / 2;
        rv.region[i * PRECOPY_PAGE_SIZE + 7] ^= 0x5a;
        rv.mine[i] = precopy_page_sum(rv.region + i * PRECOPY_PAGE_SIZE,
                                      (uint32_t) i);
    }
    for (uint32_t i = 0; i < rv.n_pages; i++) {
        if (rv.mine[i] != rv.sums[i]) {
            rep->mismatches++;
        }
    }
    rep->checked = rv.n_pages;
    rep->verified = rep->mismatches == 0;
    uint8_t v[32];
    size_t vn = precopy_wire_verdict(v, sizeof v, rep->checked,
                                     rep->mismatches);
    for (size_t c = 0; c < rv.n_conns; c++) {
        if (rv.conns[c].index == 0) {
            error = write_all(rv.conns[c].fd, v, vn, deadline);
            if (error) {
                snprintf(err, errlen, "sending the verdict: %s",
                         strerror(error));
            }
        }
    }
    rep->total_us = clock_mono_us() - t0;

out:
    for (size_t i = 0; i < PRECOPY_MAX_PATHS; i++) {
        if (lfd[i] >= 0) {
            close(lfd[i]);
        }
        if (rv.conns[i].fd >= 0) {
            close(rv.conns[i].fd);
        }
        free(rv.conns[i].buf);
    }
    if (rv.region) {
        munmap(rv.region, (size_t) rv.n_pages * PRECOPY_PAGE_SIZE);
    }
    free(rv.sums);
    free(rv.mine);
    return error;
}
