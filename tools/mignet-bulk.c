/* mignet-bulk: TCP bulk transfers for the fabric tests (run it inside a
 * host namespace with ip netns exec).  "recv" listens on a block of ports
 * and counts what arrives; "send" streams bytes, striped over one TCP
 * connection per port (each port a path of the plan); "precopy" emulates a
 * pre-copy live migration with a synthetic dirty rate (round 1 copies the
 * memory; each next round copies what was dirtied while the last one was
 * sent; Xen's stop conditions), so a measured run can be set against the
 * estimator.  It only opens the sockets it is told to, never decides
 * pass/fail, and reports JSON: the tests read it.  "precopy" here is the
 * old emulator (a static buffer, dirty bytes computed as D x round time),
 * kept for test_fabric_deadline; `mignet precopy send|recv` is the real
 * engine (real memory, write tracking, verification: docs/precopy.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/stopflag.h"
#include "mignet/planner.h"

#define MAX_STREAMS 16
#define CHUNK 65536
#define DONE_BYTE 'K'

static void
usage(FILE *f)
{
    fputs(
"usage: mignet-bulk recv --port P [--streams K] [--bind IP] [--report F]\n"
"                        [--ready-file F] [--timeout S]\n"
"       mignet-bulk send --to IP --port P [--streams K]\n"
"                        (--bytes N | --seconds S) [--sndbuf B] [--report F]\n"
"       mignet-bulk precopy --to IP --port P [--streams K]\n"
"                        --memory-bytes M --dirty-pages-per-s D\n"
"                        [--page-size 4096] [--stop-bytes 204800]\n"
"                        [--max-rounds 30] [--max-factor 3] [--sndbuf B]\n"
"                        [--report F]\n"
"Stream i uses TCP port P+i.  recv accepts K streams on ports P..P+K-1,\n"
"counts their bytes until each closes, answers each with one byte and\n"
"reports per stream and in all.  send with --bytes stripes N bytes over\n"
"the streams (whichever can take more gets the next 64 KiB) and ends when\n"
"the receiver has confirmed every byte; with --seconds each stream sends\n"
"as fast as it can for S seconds.  precopy sends round 1 = M bytes, then\n"
"round i+1 = the bytes dirtied at D pages/s during round i (a round ends\n"
"when its bytes are written: early notification), until what remains is\n"
"under the stop bytes, the round limit, or the M x factor cap; then the\n"
"stop-and-copy round.  --sndbuf (default 131072) bounds what a socket\n"
"holds, so a round's time is the wire's.\n", f);
}

static int
die_usage(const char *what)
{
    fprintf(stderr, "mignet-bulk: %s\n", what);
    usage(stderr);
    return 2;
}

static bool
parse_real(const char *s, double lo, double hi, double *v)
{
    char *end = NULL;
    if (!s || !*s) {
        return false;
    }
    errno = 0;
    double x = strtod(s, &end);
    if (errno || *end || !isfinite(x) || x < lo || x > hi) {
        return false;
    }
    *v = x;
    return true;
}

/* Writes 'obj' to 'path' atomically (stdout if NULL); takes the ref. */
static int
write_report(json_t *obj, const char *path)
{
    int rc = 0;
    if (!path) {
        json_dumpf(obj, stdout, JSON_INDENT(1));
        putchar('\n');
    } else {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (json_dump_file(obj, tmp, JSON_INDENT(1)) || rename(tmp, path)) {
            fprintf(stderr, "mignet-bulk: cannot write %s: %s\n", path,
                    strerror(errno));
            rc = 1;
        }
    }
    json_decref(obj);
    return rc;
}

static void
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- recv ---- */

struct rstream {
    int fd;
    uint16_t port;
    uint64_t bytes;
    double first, last;
    bool done;
};

static int
cmd_recv(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"streams", required_argument, NULL, 'k'},
        {"bind", required_argument, NULL, 'b'},
        {"report", required_argument, NULL, 'r'},
        {"ready-file", required_argument, NULL, 'y'},
        {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    uint64_t port = 0, k = 1, timeout = 600;
    const char *bind_ip = "0.0.0.0", *report = NULL, *ready = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'p': ok = addr_parse_u64(optarg, 1, 65535, &port); break;
        case 'k': ok = addr_parse_u64(optarg, 1, MAX_STREAMS, &k); break;
        case 'b': bind_ip = optarg; break;
        case 'r': report = optarg; break;
        case 'y': ready = optarg; break;
        case 't': ok = addr_parse_u64(optarg, 1, 86400, &timeout); break;
        default: return die_usage("unknown option");
        }
        if (!ok) {
            return die_usage("bad value");
        }
    }
    if (!port || port + k - 1 > 65535) {
        return die_usage("recv needs --port P (P+K-1 <= 65535)");
    }
    int lfd[MAX_STREAMS];
    for (uint64_t i = 0; i < k; i++) {
        struct sockaddr_in sin = {0};
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t) (port + i));
        if (inet_pton(AF_INET, bind_ip, &sin.sin_addr) != 1) {
            return die_usage("--bind must be an IPv4 address");
        }
        int one = 1;
        lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd[i] < 0
            || setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
            || bind(lfd[i], (struct sockaddr *) &sin, sizeof sin)
            || listen(lfd[i], 4)) {
            fprintf(stderr, "mignet-bulk: port %llu: %s\n",
                    (unsigned long long) (port + i), strerror(errno));
            return 1;
        }
        set_nonblock(lfd[i]);
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f) {
            fclose(f);
        }
    }
    struct rstream st[MAX_STREAMS] = {{0}};
    for (size_t i = 0; i < k; i++) {
        st[i].fd = -1;
        st[i].port = (uint16_t) (port + i);
    }
    size_t n_done = 0;
    double deadline = clock_mono_s() + (double) timeout;
    static char buf[CHUNK];
    while (n_done < k && !stopflag_raised() && clock_mono_s() < deadline) {
        struct pollfd pfd[MAX_STREAMS];
        for (size_t i = 0; i < k; i++) {
            pfd[i].fd = st[i].done ? -1 : st[i].fd >= 0 ? st[i].fd : lfd[i];
            pfd[i].events = POLLIN;
        }
        if (poll(pfd, k, 200) < 0 && errno != EINTR) {
            return 1;
        }
        for (size_t i = 0; i < k; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            if (st[i].fd < 0) {
                st[i].fd = accept4(lfd[i], NULL, NULL,
                                   SOCK_NONBLOCK | SOCK_CLOEXEC);
                continue;
            }
            for (;;) {
                ssize_t n = read(st[i].fd, buf, sizeof buf);
                if (n > 0) {
                    double t = clock_mono_s();
                    if (!st[i].bytes) {
                        st[i].first = t;
                    }
                    st[i].last = t;
                    st[i].bytes += (uint64_t) n;
                    continue;
                }
                if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    /* The sender finished: confirm every byte arrived. */
                    char done = DONE_BYTE;
                    if (n == 0 && write(st[i].fd, &done, 1) != 1) {
                        /* The sender learns it from the close. */
                    }
                    close(st[i].fd);
                    st[i].done = true;
                    n_done++;
                }
                break;
            }
        }
    }
    json_t *streams = json_array();
    uint64_t total = 0;
    double first = INFINITY, last = 0;
    for (size_t i = 0; i < k; i++) {
        double secs = st[i].last - st[i].first;
        json_array_append_new(
            streams, json_pack("{s:i,s:I,s:f,s:f,s:b}", "port", st[i].port,
                               "bytes", (json_int_t) st[i].bytes, "seconds",
                               secs, "mbit_per_s",
                               secs > 0 ? st[i].bytes * 8 / secs / 1e6 : 0.0,
                               "complete", st[i].done));
        total += st[i].bytes;
        if (st[i].bytes) {
            first = st[i].first < first ? st[i].first : first;
            last = st[i].last > last ? st[i].last : last;
        }
        if (!st[i].done && st[i].fd >= 0) {
            close(st[i].fd);
        }
        close(lfd[i]);
    }
    double secs = total ? last - first : 0;
    return write_report(
        json_pack("{s:o,s:I,s:f,s:f,s:b}", "streams", streams, "bytes",
                  (json_int_t) total, "seconds", secs, "mbit_per_s",
                  secs > 0 ? total * 8 / secs / 1e6 : 0.0, "complete",
                  n_done == k),
        report);
}

/* ---- send and precopy ---- */

struct sender {
    int fd[MAX_STREAMS];
    uint64_t sent[MAX_STREAMS];
    size_t k;
    double t_start;
};

static int
connect_streams(struct sender *s, const char *to, uint64_t port, size_t k,
                uint64_t sndbuf)
{
    s->k = k;
    for (size_t i = 0; i < k; i++) {
        struct sockaddr_in sin = {0};
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t) (port + i));
        if (inet_pton(AF_INET, to, &sin.sin_addr) != 1) {
            return die_usage("--to must be an IPv4 address");
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int buf = (int) sndbuf;
        if (fd < 0
            || setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf)) {
            return 1;
        }
        /* A few tries: the route may be going in as the test starts. */
        int tries = 0;
        while (connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
            if (++tries >= 50 || stopflag_raised()) {
                fprintf(stderr, "mignet-bulk: connect %s:%llu: %s\n", to,
                        (unsigned long long) (port + i), strerror(errno));
                return 1;
            }
            close(fd);
            usleep(100000);
            fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0
                || setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf)) {
                return 1;
            }
        }
        set_nonblock(fd);
        s->fd[i] = fd;
    }
    return 0;
}

/* Writes 'n' bytes striped over the streams: any stream that can take
 * more gets the next chunk.  With 'until' > 0 it stops at that time
 * instead.  Returns false if a stream failed. */
static bool
send_striped(struct sender *s, uint64_t n, double until)
{
    static char buf[CHUNK];
    uint64_t left = n;
    while ((until > 0 ? clock_mono_s() < until : left > 0)
           && !stopflag_raised()) {
        struct pollfd pfd[MAX_STREAMS];
        for (size_t i = 0; i < s->k; i++) {
            pfd[i].fd = s->fd[i];
            pfd[i].events = POLLOUT;
        }
        if (poll(pfd, s->k, 100) < 0 && errno != EINTR) {
            return false;
        }
        for (size_t i = 0; i < s->k; i++) {
            if (!(pfd[i].revents & POLLOUT)) {
                if (pfd[i].revents & (POLLERR | POLLHUP)) {
                    return false;
                }
                continue;
            }
            size_t want = sizeof buf;
            if (until <= 0) {
                want = left < want ? (size_t) left : want;
            }
            if (!want) {
                break;
            }
            ssize_t w = write(s->fd[i], buf, want);
            if (w < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                    continue;
                }
                return false;
            }
            s->sent[i] += (uint64_t) w;
            if (until <= 0) {
                left -= (uint64_t) w;
            }
        }
    }
    return !stopflag_raised();
}

/* Closes the sending side and waits for every receiver's confirmation.
 * Returns the time it came, or NAN. */
static double
finish_streams(struct sender *s)
{
    bool got[MAX_STREAMS] = {false};
    size_t n = 0;
    for (size_t i = 0; i < s->k; i++) {
        shutdown(s->fd[i], SHUT_WR);
    }
    double deadline = clock_mono_s() + 120;
    while (n < s->k && clock_mono_s() < deadline && !stopflag_raised()) {
        struct pollfd pfd[MAX_STREAMS];
        for (size_t i = 0; i < s->k; i++) {
            pfd[i].fd = got[i] ? -1 : s->fd[i];
            pfd[i].events = POLLIN;
        }
        if (poll(pfd, s->k, 200) < 0 && errno != EINTR) {
            break;
        }
        for (size_t i = 0; i < s->k; i++) {
            char c;
            if (!got[i] && (pfd[i].revents & (POLLIN | POLLHUP))
                && read(s->fd[i], &c, 1) == 1 && c == DONE_BYTE) {
                got[i] = true;
                n++;
            }
        }
    }
    double t = clock_mono_s();
    for (size_t i = 0; i < s->k; i++) {
        close(s->fd[i]);
    }
    return n == s->k ? t : NAN;
}

static json_t *
streams_json(const struct sender *s, uint64_t port)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->k; i++) {
        json_array_append_new(a, json_pack("{s:i,s:I}", "port",
                                           (int) (port + i), "bytes",
                                           (json_int_t) s->sent[i]));
    }
    return a;
}

struct send_args {
    const char *to, *report;
    uint64_t port, k, bytes, sndbuf, seconds;
    /* precopy */
    uint64_t memory, page_size, stop_bytes, max_rounds;
    double dirty, max_factor;
};

static int
parse_send_args(int argc, char **argv, bool precopy, struct send_args *a)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"port", required_argument, NULL, 'p'},
        {"streams", required_argument, NULL, 'k'},
        {"bytes", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'},
        {"sndbuf", required_argument, NULL, 'b'},
        {"report", required_argument, NULL, 'r'},
        {"memory-bytes", required_argument, NULL, 'm'},
        {"dirty-pages-per-s", required_argument, NULL, 'd'},
        {"page-size", required_argument, NULL, 'g'},
        {"stop-bytes", required_argument, NULL, 'x'},
        {"max-rounds", required_argument, NULL, 'R'},
        {"max-factor", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    *a = (struct send_args){
        .k = 1, .sndbuf = 131072, .page_size = 4096, .stop_bytes = 204800,
        .max_rounds = 30, .max_factor = 3, .dirty = -1,
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 't': a->to = optarg; break;
        case 'p': ok = addr_parse_u64(optarg, 1, 65535, &a->port); break;
        case 'k': ok = addr_parse_u64(optarg, 1, MAX_STREAMS, &a->k); break;
        case 'n': ok = addr_parse_u64(optarg, 1, UINT64_MAX >> 1, &a->bytes);
            break;
        case 's': ok = addr_parse_u64(optarg, 1, 86400, &a->seconds); break;
        case 'b': ok = addr_parse_u64(optarg, 4096, 1 << 26, &a->sndbuf); break;
        case 'r': a->report = optarg; break;
        case 'm': ok = addr_parse_u64(optarg, 1, UINT64_MAX >> 1, &a->memory);
            break;
        case 'd': ok = parse_real(optarg, 0, 1e9, &a->dirty); break;
        case 'g': ok = addr_parse_u64(optarg, 1, 1 << 30, &a->page_size); break;
        case 'x': ok = addr_parse_u64(optarg, 0, UINT64_MAX >> 1,
                                 &a->stop_bytes);
            break;
        case 'R': ok = addr_parse_u64(optarg, 2, 1000, &a->max_rounds); break;
        case 'F': ok = parse_real(optarg, 1, 1000, &a->max_factor); break;
        default: return die_usage("unknown option");
        }
        if (!ok) {
            return die_usage("bad value");
        }
    }
    if (!a->to || !a->port || a->port + a->k - 1 > 65535) {
        return die_usage("needs --to IP and --port P (P+K-1 <= 65535)");
    }
    if (precopy ? (!a->memory || a->dirty < 0)
                : (!a->bytes == !a->seconds)) {
        return die_usage(precopy ? "precopy needs --memory-bytes and "
                                   "--dirty-pages-per-s"
                                 : "give --bytes N or --seconds S");
    }
    return 0;
}

static int
cmd_send(int argc, char **argv)
{
    struct send_args a;
    int rc = parse_send_args(argc, argv, false, &a);
    struct sender s = {0};
    if (rc || (rc = connect_streams(&s, a.to, a.port, a.k, a.sndbuf))) {
        return rc;
    }
    uint64_t start_ms = clock_wall_ms();
    s.t_start = clock_mono_s();
    bool ok = send_striped(&s, a.bytes,
                           a.seconds ? s.t_start + (double) a.seconds : 0);
    double end = ok ? finish_streams(&s) : NAN;
    uint64_t total = 0;
    for (size_t i = 0; i < s.k; i++) {
        total += s.sent[i];
    }
    double secs = end - s.t_start;
    return write_report(
               json_pack("{s:o,s:I,s:o,s:o,s:I,s:b}", "streams",
                         streams_json(&s, a.port), "bytes",
                         (json_int_t) total, "seconds",
                         isnan(secs) ? json_null() : json_real(secs),
                         "mbit_per_s",
                         isnan(secs) ? json_null()
                                     : json_real(total * 8 / secs / 1e6),
                         "start_unix_ms", (json_int_t) start_ms, "complete",
                         !isnan(secs)),
               a.report)
           || isnan(secs);
}

static int
cmd_precopy(int argc, char **argv)
{
    struct send_args a;
    int rc = parse_send_args(argc, argv, true, &a);
    struct sender s = {0};
    if (rc || (rc = connect_streams(&s, a.to, a.port, a.k, a.sndbuf))) {
        return rc;
    }
    const double m = (double) a.memory;
    struct precopy_config cfg = {
        .max_rounds = (uint32_t) a.max_rounds,
        .stop_bytes = a.stop_bytes,
        .max_factor = a.max_factor,
    };
    const double dirty_Bps = a.dirty * (double) a.page_size;
    json_t *rounds = json_array();
    const char *stop = NULL;
    double v = m, sent = 0;
    bool ok = true;
    uint64_t start_ms = clock_wall_ms();
    s.t_start = clock_mono_s();
    uint64_t round = 1;
    /* Iterative rounds: this round sends v; what it dirties is next. */
    for (;; round++) {
        double t0 = clock_mono_s();
        ok = send_striped(&s, (uint64_t) llround(v), 0);
        double dt = clock_mono_s() - t0;
        sent += v;
        json_array_append_new(rounds, json_pack("{s:I,s:f}", "bytes",
                                                (json_int_t) llround(v),
                                                "seconds", dt));
        if (!ok) {
            break;
        }
        double next = dirty_Bps * dt;
        next = next < m ? next : m;
        /* Xen's stop conditions, exactly as the estimator applies them. */
        enum precopy_stop why;
        bool stops = precopy_stops_now(&cfg, m, (uint32_t) round, sent,
                                       next, next / v, &why);
        v = next;
        if (stops) {
            stop = precopy_stop_name(why);
            break;
        }
    }
    /* Stop-and-copy: the VM is paused while this goes. */
    double td = clock_mono_s();
    if (ok && v >= 1) {
        ok = send_striped(&s, (uint64_t) llround(v), 0);
        sent += v;
        round++;
        json_array_append_new(rounds, json_pack("{s:I,s:n}", "bytes",
                                                (json_int_t) llround(v),
                                                "seconds"));
    }
    double end = ok ? finish_streams(&s) : NAN;
    double secs = end - s.t_start;
    return write_report(
               json_pack("{s:o,s:o,s:s,s:I,s:f,s:o,s:o,s:I,s:b}", "streams",
                         streams_json(&s, a.port), "rounds", rounds, "stop",
                         stop ? stop : "failed", "n_rounds",
                         (json_int_t) round, "bytes", sent, "seconds",
                         isnan(secs) ? json_null() : json_real(secs),
                         "downtime_seconds",
                         isnan(end) ? json_null() : json_real(end - td),
                         "start_unix_ms", (json_int_t) start_ms, "complete",
                         !isnan(secs)),
               a.report)
           || isnan(secs);
}

int
main(int argc, char **argv)
{
    stopflag_install();
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        return die_usage("give a command");
    }
    optind = 2;
    if (!strcmp(argv[1], "recv")) {
        return cmd_recv(argc, argv);
    }
    if (!strcmp(argv[1], "send")) {
        return cmd_send(argc, argv);
    }
    if (!strcmp(argv[1], "precopy")) {
        return cmd_precopy(argc, argv);
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    return die_usage("unknown command");
}
