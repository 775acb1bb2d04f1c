/* pc_delayline.c: a fixed-delay line for the pre-copy test bed
 * (bench/precopy_bed.sh), because this machine's kernel has no netem
 * (CONFIG_NET_SCH_NETEM unset; only tbf, htb and fifos exist).
 *
 * Every frame that arrives on interface IN is sent out of interface OUT
 * DELAY_MS later, in arrival order (a constant delay keeps a FIFO in
 * order).  The bed steers only a path's reverse direction (ACKs) through
 * it with OpenFlow rules, so the data direction stays in the kernel and
 * at line rate while every round trip gets DELAY_MS.  Frames beyond the
 * ring (QUEUE frames) are dropped and counted.  Ends on SIGTERM/SIGINT and
 * prints what it forwarded and dropped on stderr.
 *
 * Usage: pc_delayline IN OUT DELAY_MS [QUEUE]     (root, AF_PACKET)
 * It reads the clock because delaying is its whole job. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DL_FRAME_MAX 9216u
#define DL_BATCH 64u

struct dl_slot {
    uint64_t due_ns;
    uint32_t len;
    uint8_t data[DL_FRAME_MAX];
};

static volatile sig_atomic_t dl_stop;

static void
dl_on_signal(int sig)
{
    (void) sig;
    dl_stop = 1;
}

static uint64_t
dl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* An AF_PACKET socket bound to 'ifname'; 'proto' 0 sends only. */
static int
dl_open(const char *ifname, int proto)
{
    unsigned idx = if_nametoindex(ifname);
    if (!idx) {
        fprintf(stderr, "pc_delayline: no interface %s\n", ifname);
        return -1;
    }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(proto));
    if (fd < 0) {
        perror("pc_delayline: socket");
        return -1;
    }
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(proto),
        .sll_ifindex = (int) idx,
    };
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0) {
        perror("pc_delayline: bind");
        close(fd);
        return -1;
    }
    int buf = 8 << 20;
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    return fd;
}

int
main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: pc_delayline IN OUT DELAY_MS [QUEUE]\n");
        return 2;
    }
    char *end;
    double delay_ms = strtod(argv[3], &end);
    if (*end || !(delay_ms >= 0 && delay_ms <= 10000)) {
        fprintf(stderr, "pc_delayline: bad delay '%s'\n", argv[3]);
        return 2;
    }
    unsigned long cap = 16384;
    if (argc == 5) {
        cap = strtoul(argv[4], &end, 10);
        if (*end || cap < 16 || cap > 1000000) {
            fprintf(stderr, "pc_delayline: bad queue '%s'\n", argv[4]);
            return 2;
        }
    }
    int in = dl_open(argv[1], ETH_P_ALL);
    int out = dl_open(argv[2], 0);
    if (in < 0 || out < 0) {
        return 1;
    }
    struct dl_slot *ring = calloc(cap, sizeof *ring);
    if (!ring) {
        fprintf(stderr, "pc_delayline: out of memory\n");
        return 1;
    }
    struct sigaction sa = {.sa_handler = dl_on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    uint64_t delay_ns = (uint64_t) (delay_ms * 1e6);
    uint64_t head = 0, tail = 0, fwd = 0, dropped = 0, errs = 0;
    while (!dl_stop) {
        uint64_t now = dl_now_ns();
        while (head < tail && ring[head % cap].due_ns <= now) {
            struct dl_slot *s = &ring[head % cap];
            if (send(out, s->data, s->len, 0) < 0) {
                if (errno == EAGAIN || errno == ENOBUFS) {
                    break;
                }
                errs++;
            } else {
                fwd++;
            }
            head++;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000};
        if (head < tail) {
            uint64_t due = ring[head % cap].due_ns;
            uint64_t left = due > now ? due - now : 0;
            ts.tv_sec = (time_t) (left / 1000000000u);
            ts.tv_nsec = (long) (left % 1000000000u);
        }
        struct pollfd pfd = {.fd = in, .events = POLLIN};
        int n = ppoll(&pfd, 1, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            perror("pc_delayline: poll");
            break;
        }
        if (n <= 0) {
            continue;
        }
        for (unsigned i = 0; i < DL_BATCH; i++) {
            struct sockaddr_ll from;
            socklen_t fl = sizeof from;
            struct dl_slot *s = &ring[tail % cap];
            uint8_t scratch[DL_FRAME_MAX];
            bool full = tail - head >= cap;
            ssize_t len = recvfrom(in, full ? scratch : s->data,
                                   DL_FRAME_MAX, 0,
                                   (struct sockaddr *) &from, &fl);
            if (len < 0) {
                break;
            }
            if (from.sll_pkttype == PACKET_OUTGOING) {
                continue;
            }
            if (full) {
                dropped++;
                continue;
            }
            s->len = (uint32_t) len;
            s->due_ns = dl_now_ns() + delay_ns;
            tail++;
        }
    }
    fprintf(stderr, "pc_delayline %s->%s: forwarded %llu dropped %llu "
            "errors %llu\n", argv[1], argv[2], (unsigned long long) fwd,
            (unsigned long long) dropped, (unsigned long long) errs);
    free(ring);
    close(in);
    close(out);
    return 0;
}
