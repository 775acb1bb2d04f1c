/* probe-echo: the probe receiver inside the QEMU test guest (built static,
 * run by the guest's /init).  It receives the sequenced UDP probes of
 * tools/mignet-traffic, counts them per sender (distinct sequence numbers
 * and copies beyond the first, in the guest's memory, so the counts travel
 * with a live migration), and reflects every probe verbatim to the port
 * given by --reflect-port at the probe's source address, where an ordinary
 * `mignet-traffic recv` (the collector) computes loss against the pause
 * windows.  A datagram "MNGQ ID" asks for sender ID's counts and the
 * sequence numbers it never received (as ranges, with the sender's start
 * and rate, so the host tells which were due inside a pause): the answer is
 * one JSON line, at most ECHO_ANSWER_MAX bytes, to the asker. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/traffic.h"

#define ECHO_MAX_SENDERS 16
#define ECHO_QUERY "MNGQ "
#define ECHO_ANSWER_MAX 1400 /* one unfragmented datagram */

/* One sender's counts.  The bitmap covers TRAFFIC_MAX_SEQ sequence numbers
 * (2 MiB, allocated on the sender's first probe; untouched pages cost the
 * guest nothing). */
struct echo_sender {
    bool used;
    uint32_t id;
    uint8_t *seen;
    uint64_t received;   /* distinct sequence numbers */
    uint64_t duplicates; /* copies beyond the first */
    uint64_t ends;       /* end probes */
    uint64_t sent;       /* from the end probe, else highest seq + 1 */
    uint64_t start_us;   /* the sender's, from its probes */
    uint32_t rate;
};

struct echo_state {
    struct echo_sender senders[ECHO_MAX_SENDERS];
    size_t next_slot; /* when every slot is used, the oldest is reused */
    uint64_t invalid;
    uint64_t reflect_errors;
};

static struct echo_sender *
echo_sender_find(struct echo_state *st, uint32_t id, bool create)
{
    for (size_t i = 0; i < ECHO_MAX_SENDERS; i++) {
        if (st->senders[i].used && st->senders[i].id == id) {
            return &st->senders[i];
        }
    }
    if (!create) {
        return NULL;
    }
    struct echo_sender *s = &st->senders[st->next_slot];
    st->next_slot = (st->next_slot + 1) % ECHO_MAX_SENDERS;
    uint8_t *seen = s->seen;
    if (!seen) {
        seen = calloc(TRAFFIC_MAX_SEQ / 8 + 1, 1);
        if (!seen) {
            return NULL;
        }
    } else {
        memset(seen, 0, TRAFFIC_MAX_SEQ / 8 + 1);
    }
    memset(s, 0, sizeof *s);
    s->used = true;
    s->id = id;
    s->seen = seen;
    return s;
}

/* Counts probe 'p'.  false if it could not be recorded (no memory). */
static bool
echo_count(struct echo_state *st, const struct traffic_probe *p)
{
    struct echo_sender *s = echo_sender_find(st, p->sender, true);
    if (!s) {
        return false;
    }
    s->start_us = p->start_us;
    s->rate = p->rate;
    if (p->end) {
        s->ends++;
        s->sent = p->seq;
        return true;
    }
    if (!s->ends && p->seq + 1 > s->sent) {
        s->sent = p->seq + 1;
    }
    uint8_t bit = (uint8_t) (1u << (p->seq % 8));
    if (s->seen[p->seq / 8] & bit) {
        s->duplicates++;
    } else {
        s->seen[p->seq / 8] |= bit;
        s->received++;
    }
    return true;
}

/* The guest's UDP receive-buffer drops (/proc/net/snmp), or 0. */
static unsigned long long
udp_rcvbuf_errors(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    char head[512], vals[512];
    unsigned long long v = 0;
    if (!f) {
        return 0;
    }
    while (fgets(head, sizeof head, f) && fgets(vals, sizeof vals, f)) {
        if (strncmp(head, "Udp: ", 5)) {
            continue;
        }
        /* Field RcvbufErrors: same position in both lines. */
        char *hs = NULL, *vs = NULL;
        char *h = strtok_r(head, " \n", &hs);
        char *x = strtok_r(vals, " \n", &vs);
        while (h && x) {
            if (!strcmp(h, "RcvbufErrors")) {
                v = strtoull(x, NULL, 10);
                break;
            }
            h = strtok_r(NULL, " \n", &hs);
            x = strtok_r(NULL, " \n", &vs);
        }
        break;
    }
    fclose(f);
    return v;
}

/* Appends to 'out' (of 'size', '*len' used) the ranges "A-B," of sequence
 * numbers below 's->sent' never received; false if they did not all fit
 * (what fits is kept). */
static bool
echo_missing(const struct echo_sender *s, char *out, size_t size,
             size_t *len)
{
    uint64_t seq = 0;
    while (seq < s->sent) {
        if (s->seen[seq / 8] & (1u << (seq % 8))) {
            seq++;
            continue;
        }
        uint64_t first = seq;
        while (seq < s->sent && !(s->seen[seq / 8] & (1u << (seq % 8)))) {
            seq++;
        }
        int n = snprintf(out + *len, size - *len, "%s%llu-%llu",
                         *len ? "," : "", (unsigned long long) first,
                         (unsigned long long) (seq - 1));
        if (n < 0 || (size_t) n >= size - *len) {
            out[*len] = '\0';
            return false;
        }
        *len += (size_t) n;
    }
    return true;
}

/* Answers query 'q' (NUL-terminated, after the "MNGQ " prefix). */
static void
echo_answer(int fd, struct echo_state *st, const char *q,
            const struct sockaddr_in *to)
{
    char out[ECHO_ANSWER_MAX];
    char *end = NULL;
    errno = 0;
    unsigned long id = strtoul(q, &end, 10);
    int n;
    if (errno || end == q || (*end && *end != '\n') || id > UINT32_MAX) {
        n = snprintf(out, sizeof out, "{\"error\":\"bad query\"}\n");
    } else {
        const struct echo_sender *s = echo_sender_find(st, (uint32_t) id,
                                                       false);
        static const struct echo_sender none;
        if (!s) {
            s = &none;
        }
        char missing[ECHO_ANSWER_MAX - 400];
        size_t mlen = 0;
        bool complete = !s->seen
                        || echo_missing(s, missing, sizeof missing, &mlen);
        missing[mlen] = '\0';
        n = snprintf(out, sizeof out,
                     "{\"sender\":%lu,\"received\":%llu,"
                     "\"duplicates\":%llu,\"ends\":%llu,\"sent\":%llu,"
                     "\"start_us\":%llu,\"rate\":%u,"
                     "\"invalid\":%llu,\"reflect_errors\":%llu,"
                     "\"udp_rcvbuf_errors\":%llu,"
                     "\"missing_complete\":%s,\"missing\":\"%s\"}\n",
                     id, (unsigned long long) s->received,
                     (unsigned long long) s->duplicates,
                     (unsigned long long) s->ends,
                     (unsigned long long) s->sent,
                     (unsigned long long) s->start_us, s->rate,
                     (unsigned long long) st->invalid,
                     (unsigned long long) st->reflect_errors,
                     udp_rcvbuf_errors(), complete ? "true" : "false",
                     missing);
    }
    if (n > 0 && (size_t) n < sizeof out) {
        (void) sendto(fd, out, (size_t) n, 0, (const struct sockaddr *) to,
                      sizeof *to);
    }
}

static int
parse_port(const char *s, uint16_t *port)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 65535) {
        return EINVAL;
    }
    *port = (uint16_t) v;
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"reflect-port", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    uint16_t port = 0, reflect_port = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int err = EINVAL;
        if (c == 'p') {
            err = parse_port(optarg, &port);
        } else if (c == 'r') {
            err = parse_port(optarg, &reflect_port);
        }
        if (err) {
            fprintf(stderr, "usage: probe-echo --port P --reflect-port R\n");
            return 2;
        }
    }
    if (optind != argc || !port || !reflect_port) {
        fprintf(stderr, "usage: probe-echo --port P --reflect-port R\n");
        return 2;
    }

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_ANY),
    };
    int rcvbuf = 16 << 20; /* /init raises rmem_max to match */
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof addr)) {
        fprintf(stderr, "probe-echo: bind: %s\n", strerror(errno));
        return 1;
    }
    printf("probe-echo: listening on %u, reflecting to port %u\n",
           (unsigned) port, (unsigned) reflect_port);
    fflush(stdout);

    static struct echo_state st;
    for (;;) {
        uint8_t buf[512];
        struct sockaddr_in from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf - 1, 0,
                             (struct sockaddr *) &from, &fromlen);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "probe-echo: recv: %s\n", strerror(errno));
            return 1;
        }
        if ((size_t) n > strlen(ECHO_QUERY)
            && !memcmp(buf, ECHO_QUERY, strlen(ECHO_QUERY))) {
            buf[n] = '\0';
            echo_answer(fd, &st, (const char *) buf + strlen(ECHO_QUERY),
                        &from);
            continue;
        }
        struct traffic_probe p;
        if (traffic_probe_decode(buf, (size_t) n, &p)
            || !echo_count(&st, &p)) {
            st.invalid++;
            continue;
        }
        struct sockaddr_in back = from;
        back.sin_port = htons(reflect_port);
        if (sendto(fd, buf, (size_t) n, 0, (struct sockaddr *) &back,
                   sizeof back) < 0) {
            st.reflect_errors++;
        }
    }
}
