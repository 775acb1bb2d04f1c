/* bench_rest.c: mignetd under load, through its real REST API and agent
 * channel on loopback, with durable SQLite commits.
 *
 * Starts the real mignetd binary (twice, on fresh state directories) and
 * measures: (1) migrations/s accepted by many parallel keep-alive clients
 * and the latency of a migrate call at that load, against two baselines
 * from the same run (GET /healthz round trips; single-record durable
 * commits of the same store); (2) at low load, the time from sending
 * POST migrate to the destination agent reading its install instruction;
 * (3) 10,000 VMs with 1,000 migrations in flight, round after round, with
 * the daemon's memory and pending tasks sampled, and a final check that
 * nothing was lost.  The throughput phase runs twice in the same run:
 * plain HTTP, then HTTPS (TLS 1.2+, a throwaway certificate made with the
 * openssl CLI) with a bearer token on every request, so the cost of
 * authentication is read beside the plain figure.  It never leaves a
 * daemon running: each is stopped by PID (SIGTERM, then SIGKILL on
 * timeout). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/clock.h"
#include "lib/tls.h"
#include "proto/chan_msg.h"
#include "mignet/etcd.h"
#include "mignet/store.h"

/* ---- Settings ---- */

struct settings {
    const char *mignetd;
    int clients;       /* parallel HTTP clients */
    int nodes;
    int vms;           /* throughput phase: each migrated once */
    int lat_samples;   /* low-load latency phase */
    int mem_vms;       /* memory phase */
    int mem_inflight;  /* concurrent migrations */
    int mem_rounds;
    /* --store etcd://...: every daemon on that etcd (bench/bench_store.sh),
     * with --store-max-txn-ops 'store_max_ops'; NULL = SQLite. */
    const char *store;
    const char *store_max_ops;
    bool serial_commits; /* mignetd --serial-commits (the baseline) */
    /* --store-cacert/-cert/-key: TLS to that etcd (bench_store.sh --tls),
     * for the daemons and the baseline commits alike; NULL = http. */
    const char *store_cacert, *store_cert, *store_key;
    bool throughput_only; /* the plain throughput phase alone */
};

static struct settings cfg = {
    .clients = 64, .nodes = 100, .vms = 60000, .lat_samples = 2000,
    .mem_vms = 10000, .mem_inflight = 1000, .mem_rounds = 20,
};

/* The secure mode: HTTPS + bearer token (sec.on) for the daemons started
 * while it is on. */
static struct {
    bool on;
    SSL_CTX *ctx; /* verifies the throwaway certificate */
    char dir[256];
    char cert[300], key[300], tokens[300];
    char token[80]; /* admin */
} sec;

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_rest: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- Latency samples ---- */

struct samples {
    double *v;
    size_t n, cap;
};

static void
samples_add(struct samples *s, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) {
            die("out of memory");
        }
    }
    s->v[s->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) in milliseconds; sorts 's'. */
static double
samples_q_ms(struct samples *s, double q)
{
    if (!s->n) {
        return 0;
    }
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t i = (size_t) (q * (double) (s->n - 1) + 0.5);
    return s->v[i] * 1000.0;
}

static void
samples_merge(struct samples *dst, const struct samples *src)
{
    for (size_t i = 0; i < src->n; i++) {
        samples_add(dst, src->v[i]);
    }
}

/* ---- The daemon ---- */

struct daemon {
    pid_t pid;
    char dir[256];
    char rest_host[64];
    int rest_port;
    int agent_port;
};

static void
daemon_start(struct daemon *d, const char *name, const char *const *extra)
{
    snprintf(d->dir, sizeof d->dir, "%s/mignet-bench-%s-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
    if (!mkdtemp(d->dir)) {
        die("mkdtemp: %s", strerror(errno));
    }
    char state[300];
    snprintf(state, sizeof state, "%s/state", d->dir);
    int pipefd[2];
    if (pipe(pipefd)) {
        die("pipe: %s", strerror(errno));
    }
    const char *argv[40] = {
        cfg.mignetd, "--listen", "127.0.0.1:0", "--agent-listen",
        "127.0.0.1:0", "--state-dir", state, "--log-level", "warn",
        /* Every client and agent is on 127.0.0.1: above the per-address
         * cap (docs/mignetd.md, "Limits"). */
        "--max-conns-per-peer", "100000", "--max-conns", "100000",
    };
    int argc = 13;
    char prefix[64];
    if (cfg.store) {
        /* A fresh prefix a daemon: the state starts empty, as SQLite's. */
        static unsigned serial;
        snprintf(prefix, sizeof prefix, "/mignet-bench-%ld-%u",
                 (long) getpid(), serial++);
        argv[argc++] = "--store";
        argv[argc++] = cfg.store;
        argv[argc++] = "--store-prefix";
        argv[argc++] = prefix;
        argv[argc++] = "--store-max-txn-ops";
        argv[argc++] = cfg.store_max_ops;
        if (cfg.serial_commits) {
            argv[argc++] = "--serial-commits";
        }
    }
    if (cfg.store && cfg.store_cacert) {
        argv[argc++] = "--store-cacert";
        argv[argc++] = cfg.store_cacert;
    }
    if (cfg.store && cfg.store_cert) {
        argv[argc++] = "--store-cert";
        argv[argc++] = cfg.store_cert;
        argv[argc++] = "--store-key";
        argv[argc++] = cfg.store_key;
    }
    for (; extra && *extra && argc < 30; extra++) {
        argv[argc++] = *extra;
    }
    if (sec.on) {
        argv[argc++] = "--api-tls-cert";
        argv[argc++] = sec.cert;
        argv[argc++] = "--api-tls-key";
        argv[argc++] = sec.key;
        argv[argc++] = "--api-tokens";
        argv[argc++] = sec.tokens;
    }
    d->pid = fork();
    if (d->pid < 0) {
        die("fork: %s", strerror(errno));
    }
    if (d->pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(cfg.mignetd, (char *const *) argv);
        _exit(127);
    }
    close(pipefd[1]);
    char line[512];
    FILE *f = fdopen(pipefd[0], "r");
    if (!f || !fgets(line, sizeof line, f)) {
        die("mignetd (%s) did not start", cfg.mignetd);
    }
    fclose(f);
    if (sscanf(line, "mignetd ready rest=%63[^:]:%d agents=127.0.0.1:%d",
               d->rest_host, &d->rest_port, &d->agent_port) != 3) {
        die("unexpected ready line: %s", line);
    }
}

static long
daemon_rss_kib(const struct daemon *d)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int) d->pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    return kib;
}

/* Stops the daemon by PID; returns its exit status (or -1 if killed). */
static int
daemon_stop(struct daemon *d)
{
    int status = 0;
    kill(d->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            goto done;
        }
        usleep(50000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &status, 0);
done:;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
    if (system(cmd)) {
        fprintf(stderr, "bench_rest: could not remove %s\n", d->dir);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- A blocking keep-alive HTTP/1.1 client ---- */

struct http {
    int fd;
    SSL *ssl; /* secure mode */
    char buf[1 << 16];
    size_t len; /* bytes in buf */
};

static int
tcp_connect(const char *host, int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_port = htons((uint16_t) port);
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        die("bad host %s", host);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
        die("connect %s:%d: %s", host, port, strerror(errno));
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void
write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            die("send: %s", strerror(errno));
        }
        p += w;
        n -= (size_t) w;
    }
}

static void
http_write(struct http *h, const char *p, size_t n)
{
    if (!h->ssl) {
        write_all(h->fd, p, n);
        return;
    }
    while (n) {
        int w = SSL_write(h->ssl, p, (int) n);
        if (w <= 0) {
            die("SSL_write: error %d", SSL_get_error(h->ssl, w));
        }
        p += w;
        n -= (size_t) w;
    }
}

static ssize_t
http_read(struct http *h, char *p, size_t n)
{
    if (!h->ssl) {
        return recv(h->fd, p, n, 0);
    }
    int r = SSL_read(h->ssl, p, (int) n);
    return r > 0 ? r : -1;
}

/* One request; returns the status and copies up to 'outlen' - 1 bytes of
 * the body into 'out' (NUL-terminated) when 'out' is not NULL.  In the
 * secure mode it carries the bearer token. */
static int
http_call(struct http *h, const char *method, const char *path,
          const char *body, char *out, size_t outlen)
{
    char req[1024], auth[128] = "";
    size_t blen = body ? strlen(body) : 0;
    if (h->ssl) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n",
                 sec.token);
    }
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: bench\r\n%s%s"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, auth,
                     body ? "Content-Type: application/json\r\n" : "",
                     blen);
    http_write(h, req, (size_t) n);
    if (blen) {
        http_write(h, body, blen);
    }
    /* Read the head, then Content-Length bytes. */
    size_t head_end = 0, clen = 0;
    for (;;) {
        if (!head_end) {
            char *e = memmem(h->buf, h->len, "\r\n\r\n", 4);
            if (e) {
                head_end = (size_t) (e - h->buf) + 4;
                h->buf[head_end - 1] = '\0';
                const char *cl = strcasestr(h->buf, "\r\nContent-Length:");
                clen = cl ? strtoul(cl + 17, NULL, 10) : 0;
                if (head_end + clen > sizeof h->buf) {
                    die("answer too large for the bench (%zu)", clen);
                }
            }
        }
        if (head_end && h->len >= head_end + clen) {
            break;
        }
        ssize_t r = http_read(h, h->buf + h->len, sizeof h->buf - h->len);
        if (r <= 0) {
            die("recv: %s", r ? strerror(errno) : "closed");
        }
        h->len += (size_t) r;
    }
    int status = 0;
    if (sscanf(h->buf, "HTTP/1.%*d %d", &status) != 1) {
        die("bad status line");
    }
    if (out && outlen) {
        size_t n2 = clen < outlen - 1 ? clen : outlen - 1;
        memcpy(out, h->buf + head_end, n2);
        out[n2] = '\0';
    }
    memmove(h->buf, h->buf + head_end + clen, h->len - head_end - clen);
    h->len -= head_end + clen;
    return status;
}

/* Connects (and in the secure mode completes a verified handshake). */
static void
http_open(struct http *h, const struct daemon *d)
{
    h->fd = tcp_connect(d->rest_host, d->rest_port);
    h->len = 0;
    h->ssl = NULL;
    if (!sec.on) {
        return;
    }
    h->ssl = SSL_new(sec.ctx);
    if (!h->ssl || !SSL_set_fd(h->ssl, h->fd)
        || tls_client_expect_host(h->ssl, d->rest_host)
        || SSL_connect(h->ssl) != 1) {
        die("TLS handshake with %s:%d failed (verify: %s)", d->rest_host,
            d->rest_port,
            h->ssl ? X509_verify_cert_error_string(
                         SSL_get_verify_result(h->ssl))
                   : "-");
    }
}

static void
http_close(struct http *h)
{
    SSL_free(h->ssl);
    h->ssl = NULL;
    close(h->fd);
}

/* A JSON number field of an answer (e.g. "tasks_pending"). */
static long long
json_field(const char *text, const char *key)
{
    json_t *j = json_loads(text, 0, NULL);
    long long v = j ? (long long) json_integer_value(json_object_get(j, key))
                    : -1;
    json_decref(j);
    return v;
}

/* The daemon's /metrics page, in a buffer the next call reuses. */
static const char *
get_metrics(const struct daemon *d)
{
    static char body[1 << 16];
    struct http h;
    http_open(&h, d);
    if (http_call(&h, "GET", "/metrics", NULL, body, sizeof body) != 200) {
        die("GET /metrics failed");
    }
    http_close(&h);
    return body;
}

/* A Prometheus sample "name value" from /metrics. */
static double
metric(const struct daemon *d, const char *name)
{
    const char *body = get_metrics(d);
    size_t n = strlen(name);
    for (const char *p = body; (p = strstr(p, name)); p++) {
        if ((p == body || p[-1] == '\n') && p[n] == ' ') {
            return strtod(p + n + 1, NULL);
        }
    }
    return -1;
}

/* The cumulative bucket counts of histogram 'name' in /metrics; returns
 * the number of finite buckets (bounds in 'le'). */
static int
histogram(const struct daemon *d, const char *name, double *le,
          double *cum, int max)
{
    const char *body = get_metrics(d);
    char prefix[128];
    int n = snprintf(prefix, sizeof prefix, "%s_bucket{le=\"", name);
    int k = 0;
    for (const char *p = body; k < max && (p = strstr(p, prefix)); p++) {
        if (p[n] == '+') {
            break;
        }
        le[k] = strtod(p + n, NULL);
        const char *sp = strchr(p, ' ');
        cum[k++] = sp ? strtod(sp + 1, NULL) : 0;
    }
    return k;
}

/* ---- Parallel clients ---- */

enum job {
    JOB_HEALTHZ,
    JOB_HEALTHZ_NEW, /* a new connection for each request, as the CLI */
    JOB_CREATE,
    JOB_MIGRATE,
};

struct worker {
    pthread_t thread;
    const struct daemon *d;
    enum job job;
    int id;
    int first, count;  /* VM index range */
    int round;         /* migrate: destination rotation */
    double until;      /* healthz: stop time */
    long ok, bad;
    struct samples lat;
};

static int
vm_node(int vm, int round)
{
    return (vm + round) % cfg.nodes;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct http h;
    char path[128], body[256];
    http_open(&h, w->d);
    for (int i = 0;; i++) {
        int vm = w->first + i;
        int status, want;
        double t0 = clock_mono_s();
        if (w->job == JOB_HEALTHZ || w->job == JOB_HEALTHZ_NEW) {
            if (t0 >= w->until) {
                break;
            }
            if (w->job == JOB_HEALTHZ_NEW && i) {
                http_close(&h);
                http_open(&h, w->d);
            }
            status = http_call(&h, "GET", "/healthz", NULL, NULL, 0);
            want = 200;
        } else if (i >= w->count) {
            break;
        } else if (w->job == JOB_CREATE) {
            snprintf(body, sizeof body,
                     "{\"id\":\"vm%d\",\"mac\":\"02:00:%02x:%02x:%02x:01\","
                     "\"ip\":\"198.18.%d.%d\",\"vni\":%d,\"node\":\"n%d\"}",
                     vm, (vm >> 16) & 0xff, (vm >> 8) & 0xff, vm & 0xff,
                     (vm >> 8) & 0xff, (vm & 0xff) | 1, 100 + vm % 1000,
                     vm_node(vm, 0));
            status = http_call(&h, "POST", "/v1/vms", body, NULL, 0);
            want = 201;
        } else {
            snprintf(path, sizeof path, "/v1/vms/vm%d/migrate", vm);
            snprintf(body, sizeof body, "{\"to\":\"n%d\"}",
                     vm_node(vm, w->round));
            status = http_call(&h, "POST", path, body, NULL, 0);
            want = 202;
        }
        samples_add(&w->lat, clock_mono_s() - t0);
        if (status == want) {
            w->ok++;
        } else {
            w->bad++;
        }
    }
    http_close(&h);
    return NULL;
}

struct run_result {
    double seconds;
    long ok, bad;
    struct samples lat;
};

/* Runs 'job' over VMs [0, n) split across the clients (or for 'secs'
 * seconds for JOB_HEALTHZ*). */
static struct run_result
run_parallel(const struct daemon *d, enum job job, int first, int n,
             int round, double secs)
{
    int c = cfg.clients;
    struct worker *w = calloc((size_t) c, sizeof *w);
    struct run_result res = {0};
    if (!w) {
        die("out of memory");
    }
    double t0 = clock_mono_s();
    for (int i = 0; i < c; i++) {
        w[i].d = d;
        w[i].job = job;
        w[i].id = i;
        w[i].first = first + (int) ((long) n * i / c);
        w[i].count = first + (int) ((long) n * (i + 1) / c) - w[i].first;
        w[i].round = round;
        w[i].until = t0 + secs;
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i])) {
            die("pthread_create");
        }
    }
    for (int i = 0; i < c; i++) {
        pthread_join(w[i].thread, NULL);
        res.ok += w[i].ok;
        res.bad += w[i].bad;
        samples_merge(&res.lat, &w[i].lat);
        free(w[i].lat.v);
    }
    res.seconds = clock_mono_s() - t0;
    free(w);
    return res;
}

/* ---- Agents: one thread serving every node's session ---- */

struct agents {
    pthread_t thread;
    int n;
    int *fd;
    char **buf;
    size_t *len;
    int stop_pipe[2];
    /* Latency probe: the install the main thread waits for. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char want_vm[MN_NAME_MAX + 1];
    uint64_t want_epoch;
    double got_at; /* 0 until seen */
    atomic_long installs, relays, deletes;
};

static void
agent_send(int fd, const char *line)
{
    write_all(fd, line, strlen(line));
}

static void
agents_line(struct agents *a, int i, const char *line, size_t len,
            uint64_t *ack)
{
    struct chan_msg m;
    if (chan_msg_decode(line, len, &m, NULL, 0)) {
        die("agent n%d: bad line from mignetd: %.*s", i, (int) len, line);
    }
    switch (m.type) {
    case CHAN_INSTALL:
        atomic_fetch_add(&a->installs, 1);
        pthread_mutex_lock(&a->mu);
        if (!a->got_at && m.epoch == a->want_epoch
            && !strcmp(m.vm, a->want_vm)) {
            a->got_at = clock_mono_s();
            pthread_cond_broadcast(&a->cv);
        }
        pthread_mutex_unlock(&a->mu);
        *ack = m.seq;
        break;
    case CHAN_RELAY:
        atomic_fetch_add(&a->relays, 1);
        *ack = m.seq;
        break;
    case CHAN_DELETE:
        atomic_fetch_add(&a->deletes, 1);
        *ack = m.seq;
        break;
    case CHAN_RESYNC_END:
        *ack = m.seq;
        break;
    case CHAN_ERROR:
        die("agent n%d: error %s: %s", i, m.code, m.message);
    default:
        break;
    }
}

static void *
agents_main(void *arg)
{
    struct agents *a = arg;
    struct pollfd *p = calloc((size_t) a->n + 1, sizeof *p);
    if (!p) {
        die("out of memory");
    }
    for (int i = 0; i < a->n; i++) {
        p[i].fd = a->fd[i];
        p[i].events = POLLIN;
    }
    p[a->n].fd = a->stop_pipe[0];
    p[a->n].events = POLLIN;
    for (;;) {
        if (poll(p, (nfds_t) a->n + 1, -1) < 0 && errno != EINTR) {
            die("poll: %s", strerror(errno));
        }
        if (p[a->n].revents) {
            break;
        }
        for (int i = 0; i < a->n; i++) {
            if (!p[i].revents) {
                continue;
            }
            ssize_t r = recv(a->fd[i], a->buf[i] + a->len[i],
                             CHAN_MSG_MAX_LINE - a->len[i], 0);
            if (r <= 0) {
                die("agent n%d: session closed", i);
            }
            a->len[i] += (size_t) r;
            uint64_t ack = 0;
            size_t start = 0;
            for (;;) {
                char *nl = memchr(a->buf[i] + start, '\n',
                                  a->len[i] - start);
                if (!nl) {
                    break;
                }
                size_t l = (size_t) (nl - (a->buf[i] + start));
                agents_line(a, i, a->buf[i] + start, l, &ack);
                start += l + 1;
            }
            memmove(a->buf[i], a->buf[i] + start, a->len[i] - start);
            a->len[i] -= start;
            if (ack) {
                /* One cumulative ack for everything read. */
                char line[64];
                snprintf(line, sizeof line,
                         "{\"type\":\"ack\",\"seq\":%" PRIu64 "}\n", ack);
                agent_send(a->fd[i], line);
            }
        }
    }
    free(p);
    return NULL;
}

static void
agents_start(struct agents *a, const struct daemon *d, int n)
{
    memset(a, 0, sizeof *a);
    a->n = n;
    a->fd = calloc((size_t) n, sizeof *a->fd);
    a->buf = calloc((size_t) n, sizeof *a->buf);
    a->len = calloc((size_t) n, sizeof *a->len);
    if (!a->fd || !a->buf || !a->len || pipe(a->stop_pipe)) {
        die("out of memory");
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    for (int i = 0; i < n; i++) {
        char hello[128];
        a->buf[i] = malloc(CHAN_MSG_MAX_LINE);
        if (!a->buf[i]) {
            die("out of memory");
        }
        a->fd[i] = tcp_connect("127.0.0.1", d->agent_port);
        snprintf(hello, sizeof hello,
                 "{\"type\":\"hello\",\"node\":\"n%d\",\"proto\":1}\n", i);
        agent_send(a->fd[i], hello);
    }
    if (pthread_create(&a->thread, NULL, agents_main, a)) {
        die("pthread_create");
    }
}

static void
agents_stop(struct agents *a)
{
    if (write(a->stop_pipe[1], "x", 1) != 1) {
        die("stop pipe");
    }
    pthread_join(a->thread, NULL);
    for (int i = 0; i < a->n; i++) {
        close(a->fd[i]);
        free(a->buf[i]);
    }
    close(a->stop_pipe[0]);
    close(a->stop_pipe[1]);
    free(a->fd);
    free(a->buf);
    free(a->len);
}

/* ---- Phases ---- */

static void
add_nodes(const struct daemon *d, int refresh_ms)
{
    struct http h;
    http_open(&h, d);
    for (int i = 0; i < cfg.nodes; i++) {
        char body[160];
        snprintf(body, sizeof body,
                 "{\"id\":\"n%d\",\"address\":\"198.18.%d.%d\","
                 "\"refresh_ms\":%d}",
                 i, 200 + i / 250, 1 + i % 250, refresh_ms);
        if (http_call(&h, "POST", "/v1/nodes", body, NULL, 0) != 201) {
            die("POST /v1/nodes n%d failed", i);
        }
    }
    http_close(&h);
}

/* Durable single-record commits of the same store on the same disk; their
 * latencies go to 'lat'. */
static double
baseline_commits_per_s(struct samples *lat)
{
    char dir[256], path[300], err[256];
    snprintf(dir, sizeof dir, "%s/mignet-bench-sqlite-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        die("mkdtemp");
    }
    snprintf(path, sizeof path, "%s/b.db", dir);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "/mignet-bench-baseline-%ld",
             (long) getpid());
    struct etcd_tls tls = {cfg.store_cacert, cfg.store_cert, cfg.store_key};
    struct store *s = cfg.store
                          ? store_etcd_open(cfg.store, prefix,
                                            cfg.store_cacert ? &tls : NULL,
                                            err, sizeof err)
                          : store_sqlite_open(path, err, sizeof err);
    if (!s) {
        die("baseline store: %s", err);
    }
    int n = 2000;
    double t0 = clock_mono_s();
    for (int i = 0; i < n; i++) {
        struct store_rec r = {.type = STORE_META};
        r.meta.map_version = (uint64_t) i;
        double t1 = clock_mono_s();
        if (store_put(s, &r) || store_commit(s)) {
            die("baseline commit failed");
        }
        samples_add(lat, clock_mono_s() - t1);
    }
    double secs = clock_mono_s() - t0;
    store_destroy(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {
        fprintf(stderr, "bench_rest: could not remove %s\n", dir);
    }
    return n / secs;
}

/* The figures of one throughput run, for the plain/secure comparison. */
struct tput {
    double hz_rate, hz_p99;   /* keep-alive GET /healthz */
    double new_rate, new_p99; /* GET /healthz, a connection each */
    double cr_rate;
    double mg_rate, mg_p50, mg_p99;
};

static struct tput
phase_throughput(void)
{
    static const char *const extra[] = {"--prepare-timeout-ms", "3600000",
                                        NULL};
    struct daemon d;
    daemon_start(&d, sec.on ? "tput-tls" : "tput", extra);
    add_nodes(&d, 1000);

    struct samples commit_lat = {0};
    double commit_base = sec.on ? 0 : baseline_commits_per_s(&commit_lat);
    struct run_result hz = run_parallel(&d, JOB_HEALTHZ, 0, 0, 0, 3.0);
    struct run_result nc = run_parallel(&d, JOB_HEALTHZ_NEW, 0, 0, 0, 1.0);
    struct run_result cr = run_parallel(&d, JOB_CREATE, 0, cfg.vms, 0, 0);
    if (cr.bad) {
        die("%ld VM creates failed", cr.bad);
    }
    double commits0 = metric(&d, "mignet_store_commits_total");
    double csum0 = metric(&d, "mignet_store_commit_seconds_sum");
    struct run_result mg = run_parallel(&d, JOB_MIGRATE, 0, cfg.vms, 1, 0);
    double commits = metric(&d, "mignet_store_commits_total") - commits0;
    double csum = metric(&d, "mignet_store_commit_seconds_sum") - csum0;
    long rss = daemon_rss_kib(&d);
    int rc = daemon_stop(&d);

    struct tput t = {
        .hz_rate = (double) hz.ok / hz.seconds,
        .hz_p99 = samples_q_ms(&hz.lat, 0.99),
        .new_rate = (double) nc.ok / nc.seconds,
        .new_p99 = samples_q_ms(&nc.lat, 0.99),
        .cr_rate = (double) cr.ok / cr.seconds,
        .mg_rate = (double) mg.ok / mg.seconds,
        .mg_p50 = samples_q_ms(&mg.lat, 0.50),
        .mg_p99 = samples_q_ms(&mg.lat, 0.99),
    };
    printf("## Throughput%s (%d parallel clients, %d nodes, durable "
           "commits%s%s%s)\n\n",
           sec.on ? " over HTTPS with a bearer token" : "", cfg.clients,
           cfg.nodes, cfg.store ? ", store " : ", store SQLite",
           cfg.store ? cfg.store : "",
           !cfg.store ? "" : cfg.serial_commits ? ", serial commits"
                                                : ", pipelined commits");
    printf("| figure | measured |\n|---|---|\n");
    printf("| baseline: GET /healthz round trips/s | %.0f (p99 %.2f ms) |\n",
           t.hz_rate, t.hz_p99);
    printf("| GET /healthz with a new connection each/s | %.0f (p99 %.2f "
           "ms) |\n",
           t.new_rate, t.new_p99);
    if (!sec.on) {
        printf("| baseline: single-record durable commits/s (same store, "
               "same disk) | %.0f (p50 %.3f ms, p99 %.3f ms) |\n",
               commit_base, samples_q_ms(&commit_lat, 0.5),
               samples_q_ms(&commit_lat, 0.99));
    }
    printf("| VM creates/s (POST /v1/vms, %d VMs) | %.0f |\n", cfg.vms,
           t.cr_rate);
    printf("| **migrations/s accepted (202)** | **%.0f** |\n", t.mg_rate);
    printf("| migrations refused | %ld |\n", mg.bad);
    printf("| migrate latency p50 / p99 / p99.9 | %.2f / %.2f / %.2f ms |\n",
           t.mg_p50, t.mg_p99, samples_q_ms(&mg.lat, 0.999));
    printf("| migrations per durable commit (group commit) | %.1f |\n",
           commits > 0 ? (double) mg.ok / commits : 0);
    printf("| mean commit latency | %.3f ms |\n",
           commits > 0 ? csum / commits * 1000 : 0);
    printf("| migrate rate / healthz rate | %.2f |\n",
           t.mg_rate / t.hz_rate);
    if (!sec.on) {
        printf("| migrate rate / single-record commit rate | %.1f |\n",
               t.mg_rate / commit_base);
    }
    printf("| daemon RSS after %d VMs + %ld migrations | %.1f MiB |\n",
           cfg.vms, mg.ok, (double) rss / 1024);
    printf("| daemon exit code on SIGTERM | %d |\n\n", rc);
    fflush(stdout);
    free(commit_lat.v);
    free(hz.lat.v);
    free(nc.lat.v);
    free(cr.lat.v);
    free(mg.lat.v);
    return t;
}

/* The secure mode's files: a throwaway self-signed certificate for
 * 127.0.0.1 (ECDSA P-256, by the openssl CLI) and a token file with one
 * token a role (the bench uses admin's). */
static void
secure_setup(void)
{
    snprintf(sec.dir, sizeof sec.dir, "%s/mignet-bench-tls-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(sec.dir)) {
        die("mkdtemp: %s", strerror(errno));
    }
    snprintf(sec.cert, sizeof sec.cert, "%s/api.pem", sec.dir);
    snprintf(sec.key, sizeof sec.key, "%s/api.key", sec.dir);
    snprintf(sec.tokens, sizeof sec.tokens, "%s/tokens", sec.dir);
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' "
             ">/dev/null 2>&1",
             sec.key, sec.cert);
    if (system(cmd)) {
        die("cannot make a certificate with the openssl CLI");
    }
    FILE *r = fopen("/dev/urandom", "rb");
    unsigned char rnd[24];
    if (!r || fread(rnd, 1, sizeof rnd, r) != sizeof rnd) {
        die("/dev/urandom");
    }
    fclose(r);
    int n = snprintf(sec.token, sizeof sec.token, "bench_");
    for (size_t i = 0; i < sizeof rnd; i++) {
        n += snprintf(sec.token + n, sizeof sec.token - (size_t) n, "%02x",
                      rnd[i]);
    }
    FILE *f = fopen(sec.tokens, "w");
    if (!f || fchmod(fileno(f), 0600)) {
        die("%s: %s", sec.tokens, strerror(errno));
    }
    fprintf(f, "reader %s-r\nvmm %s-v\nadmin %s bench\n", sec.token,
            sec.token, sec.token);
    fclose(f);
    char err[256];
    sec.ctx = tls_client_ctx(sec.cert, err, sizeof err);
    if (!sec.ctx) {
        die("%s", err);
    }
    sec.on = true;
}

static void
secure_teardown(void)
{
    sec.on = false;
    SSL_CTX_free(sec.ctx);
    sec.ctx = NULL;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sec.dir);
    if (system(cmd)) {
        fprintf(stderr, "bench_rest: could not remove %s\n", sec.dir);
    }
}

/* Plain, then HTTPS + token, in the same run; then the two side by side. */
static void
phase_throughput_both(void)
{
    struct tput p = phase_throughput();
    secure_setup();
    struct tput s = phase_throughput();
    secure_teardown();
    printf("## Authenticated REST throughput beside plain (same run)\n\n"
           "HTTPS: TLS 1.2+ (OpenSSL through libevent), ECDSA P-256 "
           "certificate, every request with `Authorization: Bearer` checked "
           "against a 3-token file (admin role).\n\n");
    printf("| figure | plain HTTP | HTTPS + token | secure / plain |\n"
           "|---|---|---|---|\n");
    printf("| GET /healthz keep-alive/s (p99) | %.0f (%.2f ms) | %.0f "
           "(%.2f ms) | %.2f |\n",
           p.hz_rate, p.hz_p99, s.hz_rate, s.hz_p99, s.hz_rate / p.hz_rate);
    printf("| GET /healthz, a new connection each/s (p99) | %.0f (%.2f ms) "
           "| %.0f (%.2f ms) | %.2f |\n",
           p.new_rate, p.new_p99, s.new_rate, s.new_p99,
           s.new_rate / p.new_rate);
    printf("| VM creates/s | %.0f | %.0f | %.2f |\n", p.cr_rate, s.cr_rate,
           s.cr_rate / p.cr_rate);
    printf("| **migrations/s accepted** | **%.0f** | **%.0f** | %.2f |\n",
           p.mg_rate, s.mg_rate, s.mg_rate / p.mg_rate);
    printf("| migrate latency p50 / p99 | %.2f / %.2f ms | %.2f / %.2f ms "
           "| |\n\n",
           p.mg_p50, p.mg_p99, s.mg_p50, s.mg_p99);
    fflush(stdout);
}

/* Waits until the daemon reports no pending tasks; returns the peak of
 * pending tasks seen while waiting. */
static long long
wait_idle(const struct daemon *d, struct http *h, double timeout)
{
    char body[512];
    long long peak = 0;
    double end = clock_mono_s() + timeout;
    for (;;) {
        if (http_call(h, "GET", "/healthz", NULL, body, sizeof body) != 200) {
            die("GET /healthz failed");
        }
        long long t = json_field(body, "tasks_pending");
        peak = t > peak ? t : peak;
        if (t == 0) {
            return peak;
        }
        if (clock_mono_s() > end) {
            die("still %lld tasks pending after %.0f s", t, timeout);
        }
        usleep(20000);
    }
    (void) d;
}

static void
phase_agents(void)
{
    /* Nodes that refresh every 100 ms: deletions are due ~0.5 s after a
     * migration relays. */
    static const char *const extra[] = {"--heartbeat-ms", "5000", NULL};
    struct daemon d;
    daemon_start(&d, "agents", extra);
    add_nodes(&d, 100);
    struct agents ag;
    agents_start(&ag, &d, cfg.nodes);

    /* -- Latency at low load: one migration at a time. -- */
    int nlat = cfg.lat_samples < cfg.mem_vms ? cfg.lat_samples : cfg.mem_vms;
    struct run_result cr = run_parallel(&d, JOB_CREATE, 0, cfg.mem_vms, 0,
                                        0);
    if (cr.bad) {
        die("%ld VM creates failed", cr.bad);
    }
    double le[16], cum0[16], cum1[16];
    int nb = histogram(&d, "mignet_migrate_install_seconds", le, cum0, 16);
    struct http h;
    http_open(&h, &d);
    struct samples lat = {0}, api = {0};
    char path[64], body[128], out[256];
    for (int i = 0; i < nlat; i++) {
        int vm = i;
        pthread_mutex_lock(&ag.mu);
        snprintf(ag.want_vm, sizeof ag.want_vm, "vm%d", vm);
        ag.want_epoch = 2;
        ag.got_at = 0;
        pthread_mutex_unlock(&ag.mu);
        snprintf(path, sizeof path, "/v1/vms/vm%d/migrate", vm);
        snprintf(body, sizeof body, "{\"to\":\"n%d\"}", vm_node(vm, 1));
        double t0 = clock_mono_s();
        if (http_call(&h, "POST", path, body, out, sizeof out) != 202) {
            die("migrate vm%d: %s", vm, out);
        }
        samples_add(&api, clock_mono_s() - t0);
        pthread_mutex_lock(&ag.mu);
        while (!ag.got_at) {
            pthread_cond_wait(&ag.cv, &ag.mu);
        }
        samples_add(&lat, ag.got_at - t0);
        pthread_mutex_unlock(&ag.mu);
        usleep(2000);
    }
    wait_idle(&d, &h, 60);
    if (histogram(&d, "mignet_migrate_install_seconds", le, cum1, 16)
        != nb) {
        die("histogram changed shape");
    }
    /* Inside the daemon: the smallest bucket bound that holds 99% of the
     * migrations of this phase. */
    double n_inst = cum1[nb - 1] - cum0[nb - 1], in_1ms = 0, in_2ms = 0;
    double p99_bound = -1;
    for (int b = 0; b < nb; b++) {
        double c = cum1[b] - cum0[b];
        if (p99_bound < 0 && n_inst > 0 && c >= 0.99 * n_inst) {
            p99_bound = le[b];
        }
        in_1ms = le[b] <= 0.001 ? c : in_1ms;
        in_2ms = le[b] <= 0.002 ? c : in_2ms;
    }
    printf("## Instruction latency at low load (%d migrations, one at a "
           "time, %d agents connected)\n\n",
           nlat, cfg.nodes);
    printf("| figure | p50 | p99 | max |\n|---|---|---|---|\n");
    printf("| POST migrate -> install read by the destination agent | "
           "%.3f ms | **%.3f ms** | %.3f ms |\n",
           samples_q_ms(&lat, 0.5), samples_q_ms(&lat, 0.99),
           samples_q_ms(&lat, 1.0));
    printf("| POST migrate -> 202 answer (baseline, same requests) | "
           "%.3f ms | %.3f ms | %.3f ms |\n\n",
           samples_q_ms(&api, 0.5), samples_q_ms(&api, 0.99),
           samples_q_ms(&api, 1.0));
    printf("Inside mignetd (histogram `mignet_migrate_install_seconds`, "
           "request handled -> install written to the socket): %.0f "
           "installs, %.2f%% within 1 ms, %.2f%% within 2 ms, p99 <= "
           "%g ms.\n\n",
           n_inst, n_inst > 0 ? 100 * in_1ms / n_inst : 0,
           n_inst > 0 ? 100 * in_2ms / n_inst : 0,
           p99_bound < 0 ? -1 : p99_bound * 1000);
    fflush(stdout);

    /* -- Memory: mem_vms VMs, mem_inflight migrations at a time. -- */
    printf("## Load: %d VMs, %d concurrent migrations per round, %d "
           "rounds\n\n",
           cfg.mem_vms, cfg.mem_inflight, cfg.mem_rounds);
    printf("| round | migrations so far | peak pending tasks | daemon RSS "
           "|\n|---|---|---|---|\n");
    long total = nlat;
    long rss_first = 0, rss_last = 0;
    int *round_of = calloc((size_t) cfg.mem_vms, sizeof *round_of);
    if (!round_of) {
        die("out of memory");
    }
    for (int i = 0; i < nlat; i++) {
        round_of[i] = 1;
    }
    for (int r = 0; r < cfg.mem_rounds; r++) {
        int first = (int) ((long) r * cfg.mem_inflight % cfg.mem_vms);
        int n = cfg.mem_inflight;
        if (first + n > cfg.mem_vms) {
            n = cfg.mem_vms - first;
        }
        /* The round number picks a destination other than the VM's
         * current node. */
        int round = round_of[first] + 1;
        for (int i = first; i < first + n; i++) {
            if (round_of[i] + 1 != round) {
                die("bench bookkeeping");
            }
        }
        struct run_result mg = run_parallel(&d, JOB_MIGRATE, first, n,
                                            round, 0);
        if (mg.bad) {
            die("round %d: %ld migrations refused", r, mg.bad);
        }
        for (int i = first; i < first + n; i++) {
            round_of[i] = round;
        }
        total += mg.ok;
        long long peak = wait_idle(&d, &h, 120);
        long rss = daemon_rss_kib(&d);
        if (r == 0) {
            rss_first = rss;
        }
        rss_last = rss;
        if (r < 3 || r == cfg.mem_rounds - 1 || r % 5 == 4) {
            printf("| %d | %ld | %lld | %.1f MiB |\n", r + 1, total, peak,
                   (double) rss / 1024);
        }
        free(mg.lat.v);
    }
    /* Nothing lost: every VM is where its last migration sent it, every
     * migration is cleaned and every deletion reached its agent. */
    long misplaced = 0;
    for (int vm = 0; vm < cfg.mem_vms; vm++) {
        char want[32];
        snprintf(path, sizeof path, "/v1/vms/vm%d", vm);
        if (http_call(&h, "GET", path, NULL, out, sizeof out) != 200) {
            die("GET %s failed", path);
        }
        snprintf(want, sizeof want, "\"node\":\"n%d\"",
                 vm_node(vm, round_of[vm]));
        misplaced += !strstr(out, want);
    }
    double cleaned = metric(&d, "mignet_migrations{phase=\"cleaned\"}");
    http_close(&h);
    agents_stop(&ag);
    int rc = daemon_stop(&d);
    printf("\n| check | result |\n|---|---|\n");
    printf("| migrations issued / cleaned | %ld / %.0f |\n", total, cleaned);
    printf("| delete instructions read by agents | %ld |\n",
           atomic_load(&ag.deletes));
    printf("| VMs not where their last migration put them | %ld |\n",
           misplaced);
    printf("| RSS growth from round 1 to round %d | %.1f MiB (%.0f B per "
           "migration) |\n",
           cfg.mem_rounds, (double) (rss_last - rss_first) / 1024,
           total > cfg.mem_inflight
               ? (double) (rss_last - rss_first) * 1024
                     / (double) (total - nlat - cfg.mem_inflight)
               : 0);
    printf("| daemon exit code on SIGTERM | %d |\n", rc);
    free(round_of);
    free(lat.v);
    free(api.v);
    free(cr.lat.v);
    if (misplaced || (long) cleaned != total
        || atomic_load(&ag.deletes) != total) {
        die("lost work: %ld misplaced, %.0f of %ld cleaned, %ld deletes",
            misplaced, cleaned, total, atomic_load(&ag.deletes));
    }
}

static void
usage(void)
{
    printf("usage: bench_rest [--quick] [--clients N] [--nodes N] [--vms N]"
           "\n       [--latency-samples N] [--mem-vms N] [--mem-inflight N]"
           "\n       [--mem-rounds N] [--mignetd PATH]"
           "\n       [--store etcd://HOST:PORT --store-max-txn-ops N"
           "\n        [--store-cacert F [--store-cert F --store-key F]]"
           "\n        [--serial-commits]]"
           " [--throughput-only]\n"
           "Starts mignetd (default: next to this binary) on loopback with "
           "temporary state\nand prints markdown tables for "
           "docs/PERFORMANCE.md.\n");
}

int
main(int argc, char **argv)
{
    static char exe[512];
    struct {
        const char *flag;
        int *v;
    } ints[] = {
        {"--clients", &cfg.clients}, {"--nodes", &cfg.nodes},
        {"--vms", &cfg.vms}, {"--latency-samples", &cfg.lat_samples},
        {"--mem-vms", &cfg.mem_vms}, {"--mem-inflight", &cfg.mem_inflight},
        {"--mem-rounds", &cfg.mem_rounds},
    };
    for (int i = 1; i < argc; i++) {
        bool done = false;
        if (!strcmp(argv[i], "--help")) {
            usage();
            return 0;
        }
        if (!strcmp(argv[i], "--quick")) {
            cfg.clients = 16;
            cfg.vms = 4000;
            cfg.lat_samples = 200;
            cfg.mem_vms = 2000;
            cfg.mem_inflight = 200;
            cfg.mem_rounds = 4;
            cfg.nodes = 20;
            continue;
        }
        if (!strcmp(argv[i], "--mignetd") && i + 1 < argc) {
            cfg.mignetd = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--store") && i + 1 < argc) {
            cfg.store = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--store-max-txn-ops") && i + 1 < argc) {
            cfg.store_max_ops = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--serial-commits")) {
            cfg.serial_commits = true;
            continue;
        }
        const char **tls_flag = !strcmp(argv[i], "--store-cacert")
                                    ? &cfg.store_cacert
                                : !strcmp(argv[i], "--store-cert")
                                    ? &cfg.store_cert
                                : !strcmp(argv[i], "--store-key")
                                    ? &cfg.store_key
                                    : NULL;
        if (tls_flag && i + 1 < argc) {
            *tls_flag = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--throughput-only")) {
            cfg.throughput_only = true;
            continue;
        }
        for (size_t j = 0; j < sizeof ints / sizeof ints[0]; j++) {
            if (!strcmp(argv[i], ints[j].flag) && i + 1 < argc) {
                *ints[j].v = atoi(argv[++i]);
                done = true;
            }
        }
        if (!done) {
            usage();
            return 2;
        }
    }
    if (cfg.clients < 1 || cfg.nodes < 2 || cfg.vms < cfg.clients
        || cfg.mem_vms < cfg.mem_inflight || cfg.mem_inflight < 1
        || cfg.mem_vms > 60000 || cfg.vms > 60000) {
        die("bad sizes (VMs at most 60000: their MACs and IPs are "
            "generated)");
    }
    if (!cfg.mignetd) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
        if (n <= 0) {
            die("cannot find myself; use --mignetd");
        }
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        snprintf(slash + 1, 16, "mignetd");
        cfg.mignetd = exe;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("# bench_rest: mignetd %s\n\n", cfg.mignetd);
    if (cfg.store && !cfg.store_max_ops) {
        cfg.store_max_ops = "10000";
    }
    if (cfg.throughput_only) {
        (void) phase_throughput();
        return 0;
    }
    phase_throughput_both();
    phase_agents();
    return 0;
}
