/* mignet-traffic: sequence-numbered UDP probes for the end-to-end tests.
 * "send" emits probes at a fixed rate from inside a VM namespace (run it
 * with ip netns exec); "recv" records every probe's sequence number and
 * arrival time and, at the end, writes one JSON report: sent, received,
 * missing (with when each was due), duplicated, reordered, and losses inside
 * the pause windows apart from the rest.  It only ever opens the UDP socket
 * it is told to, and never decides pass/fail: the tests read the report. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/stopflag.h"
#include "lib/traffic.h"
#include "lib/util.h"

static void
sleep_until_us(uint64_t t)
{
    struct timespec ts = {
        .tv_sec = (time_t) (t / 1000000u),
        .tv_nsec = (long) (t % 1000000u) * 1000,
    };
    while (!stopflag_raised()
           && clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL)
              == EINTR) {
        continue;
    }
}

static void
usage(FILE *f)
{
    fputs(
"usage: mignet-traffic send --dst IP:PORT --rate PPS\n"
"                           (--count N | --duration S) [--id ID] [--bind IP]\n"
"       mignet-traffic recv --port PORT [--bind IP] [--duration S]\n"
"                           [--senders N] [--linger-ms MS]\n"
"                           [--window START_MS:END_MS]... [--window-file F]\n"
"                           [--slack-ms MS] [--report FILE] [--ready-file F]\n"
"                           [--max-listed N]\n"
"send: probe s leaves at start + s/PPS (wall clock); prints one JSON object\n"
"      {sender, sent, send_errors, rate, start_ms, end_ms, late_max_us}\n"
"      when done (late_max_us: the longest a probe left after it was due).\n"
"recv: stops after S seconds, on SIGINT/SIGTERM, or once N senders have\n"
"      sent their end probe (plus --linger-ms, default 300); then writes the\n"
"      JSON report (stdout or --report, written atomically).  Window files\n"
"      hold \"START_MS END_MS\" lines and are read at report time.\n", f);
}

/* Parses a decimal in [lo, hi]; 0 or EINVAL. */
static int
parse_num(const char *s, unsigned long long lo, unsigned long long hi,
          unsigned long long *v)
{
    char *end = NULL;
    if (!s || !*s || *s == '-') {
        return EINVAL;
    }
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x < lo || x > hi) {
        return EINVAL;
    }
    *v = x;
    return 0;
}

static int
parse_ipv4(const char *s, struct in_addr *a)
{
    return inet_pton(AF_INET, s, a) == 1 ? 0 : EINVAL;
}

/* "IP:PORT" -> sockaddr.  0 or EINVAL. */
static int
parse_endpoint(const char *s, struct sockaddr_in *sin)
{
    char host[64];
    const char *colon = s ? strrchr(s, ':') : NULL;
    unsigned long long port = 0;
    if (!colon || (size_t) (colon - s) >= sizeof host
        || parse_num(colon + 1, 1, 65535, &port)) {
        return EINVAL;
    }
    memcpy(host, s, (size_t) (colon - s));
    host[colon - s] = '\0';
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t) port);
    return parse_ipv4(host, &sin->sin_addr);
}

static int
die_usage(const char *what)
{
    fprintf(stderr, "mignet-traffic: %s\n", what);
    usage(stderr);
    return 2;
}

/* ---- send ---- */

static int
cmd_send(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dst", required_argument, NULL, 'd'},
        {"rate", required_argument, NULL, 'r'},
        {"count", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 't'},
        {"id", required_argument, NULL, 'i'},
        {"bind", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    struct sockaddr_in dst = {0}, src = {0};
    bool have_dst = false, have_bind = false;
    unsigned long long rate = 0, count = 0, duration = 0, id = 0;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int err = 0;
        switch (c) {
        case 'd':
            err = parse_endpoint(optarg, &dst);
            have_dst = true;
            break;
        case 'r':
            err = parse_num(optarg, 1, TRAFFIC_MAX_RATE, &rate);
            break;
        case 'c':
            err = parse_num(optarg, 1, TRAFFIC_MAX_SEQ, &count);
            break;
        case 't':
            err = parse_num(optarg, 1, 86400, &duration);
            break;
        case 'i':
            err = parse_num(optarg, 0, UINT32_MAX, &id);
            break;
        case 'b':
            src.sin_family = AF_INET;
            err = parse_ipv4(optarg, &src.sin_addr);
            have_bind = true;
            break;
        default:
            return die_usage("bad option");
        }
        if (err) {
            return die_usage("bad option value");
        }
    }
    if (optind != argc || !have_dst || !rate || (!count == !duration)) {
        return die_usage("send needs --dst, --rate and one of --count, "
                         "--duration");
    }
    if (duration) {
        count = duration * rate;
        if (count > TRAFFIC_MAX_SEQ) {
            return die_usage("duration * rate exceeds the sequence space");
        }
    }

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || (have_bind
                   && bind(fd, (struct sockaddr *) &src, sizeof src))) {
        fprintf(stderr, "mignet-traffic: socket: %s\n", strerror(errno));
        return 1;
    }
    stopflag_install();

    struct traffic_probe p = {
        .sender = (uint32_t) id,
        .rate = (uint32_t) rate,
        .start_us = clock_wall_us() + 1000, /* probe 0 is due 1 ms from now */
    };
    uint64_t errors = 0, late_max = 0;
    uint8_t buf[TRAFFIC_PROBE_LEN];
    for (p.seq = 0; p.seq < count && !stopflag_raised(); p.seq++) {
        sleep_until_us(traffic_due_us(p.start_us, p.rate, p.seq));
        if (stopflag_raised()) {
            break;
        }
        p.sent_us = clock_wall_us();
        uint64_t due = traffic_due_us(p.start_us, p.rate, p.seq);
        if (p.sent_us > due && p.sent_us - due > late_max) {
            late_max = p.sent_us - due; /* the sender was descheduled */
        }
        traffic_probe_encode(&p, buf);
        if (sendto(fd, buf, sizeof buf, 0, (struct sockaddr *) &dst,
                   sizeof dst) < 0) {
            errors++; /* e.g. the VM's link is down: the probe is lost */
        }
    }
    uint64_t sent = p.seq;
    uint64_t end_us = clock_wall_us();

    /* The end probe tells the receiver how many were sent; three copies
     * so one lost datagram does not hide the tail. */
    p.end = true;
    p.seq = sent;
    for (int i = 0; i < 3; i++) {
        p.sent_us = clock_wall_us();
        traffic_probe_encode(&p, buf);
        (void) sendto(fd, buf, sizeof buf, 0, (struct sockaddr *) &dst,
                      sizeof dst);
        struct timespec gap = {.tv_nsec = 20 * 1000 * 1000};
        nanosleep(&gap, NULL);
    }
    close(fd);
    printf("{\"sender\":%u,\"sent\":%llu,\"send_errors\":%llu,"
           "\"rate\":%u,\"start_ms\":%llu,\"end_ms\":%llu,"
           "\"late_max_us\":%llu}\n",
           p.sender, (unsigned long long) sent,
           (unsigned long long) errors, p.rate,
           (unsigned long long) (p.start_us / 1000),
           (unsigned long long) (end_us / 1000),
           (unsigned long long) late_max);
    return 0;
}

/* ---- recv ---- */

struct recv_opts {
    struct sockaddr_in addr;
    unsigned long long duration, senders, linger_ms, slack_ms, max_listed;
    struct traffic_window *windows;
    size_t n_windows;
    const char *window_file;
    const char *report_file;
    const char *ready_file;
};

/* Reads a whole (small) file into a malloc'd string.  0 or errno. */
static int
read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return errno;
    }
    size_t cap = 0, n = 0;
    char *s = NULL;
    for (;;) {
        s = xgrow(s, &cap, n + 4096 + 1, 1);
        size_t got = fread(s + n, 1, 4096, f);
        n += got;
        if (got < 4096) {
            break;
        }
        if (n > (1u << 20)) {
            free(s);
            fclose(f);
            return EFBIG;
        }
    }
    int err = ferror(f) ? EIO : 0;
    fclose(f);
    s[n] = '\0';
    if (err || memchr(s, '\0', n)) {
        free(s);
        return err ? err : EINVAL;
    }
    *out = s;
    return 0;
}

/* Writes 'text' and a newline to 'path' (created or truncated). */
static int
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return errno;
    }
    int err = fputs(text, f) < 0 || fputc('\n', f) < 0 ? EIO : 0;
    if (fclose(f) && !err) {
        err = errno;
    }
    return err;
}

static int
write_file_atomic(const char *path, const char *text)
{
    /* A path that exists and is not a regular file (/dev/null, a pipe)
     * is written in place: a rename would replace the device itself. */
    struct stat st;
    if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
        return write_text(path, text);
    }
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        return ENAMETOOLONG;
    }
    int err = write_text(tmp, text);
    if (!err && rename(tmp, path)) {
        err = errno;
    }
    if (err) {
        unlink(tmp);
    }
    return err;
}

/* Drains the socket into 'log'; adds SO_RXQ_OVFL's counter to '*drops'. */
static void
drain(int fd, struct traffic_log *log, uint32_t *ovfl)
{
    for (;;) {
        uint8_t buf[2048];
        union {
            char space[CMSG_SPACE(sizeof(struct timespec))
                       + CMSG_SPACE(sizeof(uint32_t))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = ctl.space, .msg_controllen = sizeof ctl.space,
        };
        ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
        if (n < 0) {
            return;
        }
        uint64_t arrival = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
             cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level != SOL_SOCKET) {
                continue;
            }
            if (cm->cmsg_type == SO_TIMESTAMPNS
                && cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(cm), sizeof ts);
                arrival = (uint64_t) ts.tv_sec * 1000000u
                          + (uint64_t) ts.tv_nsec / 1000u;
            } else if (cm->cmsg_type == SO_RXQ_OVFL
                       && cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
                memcpy(ovfl, CMSG_DATA(cm), sizeof *ovfl);
            }
        }
        if (!arrival) {
            arrival = clock_wall_us();
        }
        struct traffic_probe p;
        if (traffic_probe_decode(buf, (size_t) n, &p)) {
            traffic_log_add_invalid(log);
        } else {
            (void) traffic_log_add(log, &p, arrival);
        }
    }
}

static int
recv_report(const struct recv_opts *o, const struct traffic_log *log,
            uint32_t drops)
{
    struct traffic_window *w = xcalloc(o->n_windows, sizeof *w);
    size_t nw = o->n_windows;
    if (nw) {
        memcpy(w, o->windows, nw * sizeof *w);
    }
    if (o->window_file) {
        char *text = NULL;
        struct traffic_window *fw = NULL;
        size_t nf = 0;
        int err = read_file(o->window_file, &text);
        if (!err) {
            err = traffic_windows_parse(text, &fw, &nf);
        }
        free(text);
        if (err) {
            fprintf(stderr, "mignet-traffic: window file %s: %s\n",
                    o->window_file, strerror(err));
            free(w);
            return 1;
        }
        w = xrealloc(w, (nw + nf) * sizeof *w);
        if (nf) {
            memcpy(w + nw, fw, nf * sizeof *w);
        }
        nw += nf;
        free(fw);
    }

    struct traffic_report *r = traffic_report_compute(log, w, nw,
                                                      o->slack_ms);
    r->receiver_drops = drops;
    char *json = traffic_report_to_json(r, (size_t) o->max_listed);
    int rc = 0;
    if (o->report_file) {
        int err = write_file_atomic(o->report_file, json);
        if (err) {
            fprintf(stderr, "mignet-traffic: %s: %s\n", o->report_file,
                    strerror(err));
            rc = 1;
        }
    } else {
        puts(json);
    }
    free(json);
    traffic_report_destroy(r);
    free(w);
    return rc;
}

static int
recv_loop(const struct recv_opts *o)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1, rcvbuf = 8 << 20;
    if (fd < 0) {
        fprintf(stderr, "mignet-traffic: socket: %s\n", strerror(errno));
        return 1;
    }
    /* A receiver descheduled for a moment must not drop probes itself:
     * as root the buffer may exceed rmem_max. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf)) {
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    (void) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    (void) setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *) &o->addr, sizeof o->addr)) {
        fprintf(stderr, "mignet-traffic: bind: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    if (o->ready_file && write_file_atomic(o->ready_file, "ready")) {
        fprintf(stderr, "mignet-traffic: cannot write %s\n", o->ready_file);
        close(fd);
        return 1;
    }

    struct traffic_log *log = traffic_log_create();
    uint64_t start = clock_wall_us();
    uint64_t deadline = o->duration ? start + o->duration * 1000000u : 0;
    uint64_t all_ended_at = 0;
    uint32_t drops = 0;
    while (!stopflag_raised()) {
        uint64_t t = clock_wall_us();
        if (deadline && t >= deadline) {
            break;
        }
        if (o->senders && traffic_log_n_ended(log) >= o->senders) {
            if (!all_ended_at) {
                all_ended_at = t;
            } else if (t - all_ended_at >= o->linger_ms * 1000u) {
                break;
            }
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) > 0) {
            drain(fd, log, &drops);
        }
    }
    drain(fd, log, &drops);
    close(fd);
    int rc = recv_report(o, log, drops);
    traffic_log_destroy(log);
    return rc;
}

static int
cmd_recv(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"duration", required_argument, NULL, 't'},
        {"senders", required_argument, NULL, 'n'},
        {"linger-ms", required_argument, NULL, 'l'},
        {"window", required_argument, NULL, 'w'},
        {"window-file", required_argument, NULL, 'W'},
        {"slack-ms", required_argument, NULL, 's'},
        {"report", required_argument, NULL, 'o'},
        {"ready-file", required_argument, NULL, 'R'},
        {"max-listed", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    struct recv_opts o = {.linger_ms = 300, .max_listed = 1000};
    unsigned long long port = 0;
    size_t cap = 0;
    int c, rc;

    o.addr.sin_family = AF_INET;
    o.addr.sin_addr.s_addr = htonl(INADDR_ANY);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int err = 0;
        struct traffic_window w;
        switch (c) {
        case 'p':
            err = parse_num(optarg, 1, 65535, &port);
            break;
        case 'b':
            err = parse_ipv4(optarg, &o.addr.sin_addr);
            break;
        case 't':
            err = parse_num(optarg, 1, 86400, &o.duration);
            break;
        case 'n':
            err = parse_num(optarg, 1, 4096, &o.senders);
            break;
        case 'l':
            err = parse_num(optarg, 0, 60000, &o.linger_ms);
            break;
        case 'w':
            err = traffic_window_parse_arg(optarg, &w);
            if (!err) {
                o.windows = xgrow(o.windows, &cap, o.n_windows + 1,
                                  sizeof *o.windows);
                o.windows[o.n_windows++] = w;
            }
            break;
        case 'W':
            o.window_file = optarg;
            break;
        case 's':
            err = parse_num(optarg, 0, 3600000, &o.slack_ms);
            break;
        case 'o':
            o.report_file = optarg;
            break;
        case 'R':
            o.ready_file = optarg;
            break;
        case 'm':
            err = parse_num(optarg, 0, TRAFFIC_MAX_SEQ, &o.max_listed);
            break;
        default:
            free(o.windows);
            return die_usage("bad option");
        }
        if (err) {
            free(o.windows);
            return die_usage("bad option value");
        }
    }
    if (optind != argc || !port) {
        free(o.windows);
        return die_usage("recv needs --port");
    }
    if (!o.duration && !o.senders) {
        fputs("mignet-traffic: recv runs until SIGINT/SIGTERM "
              "(no --duration or --senders)\n", stderr);
    }
    o.addr.sin_port = htons((uint16_t) port);
    stopflag_install();
    rc = recv_loop(&o);
    free(o.windows);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "send")) {
        return cmd_send(argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "recv")) {
        return cmd_recv(argc - 1, argv + 1);
    }
    return die_usage("the first argument is send or recv");
}
