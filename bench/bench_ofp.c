/* bench_ofp.c: throughput of the OpenFlow 1.3 codec on flow_mods, reported
 * against a memcpy of the same bytes measured in the same run.
 *
 * Decoding allocates the action lists (exactly what the message holds)
 * and each decoded message is destroyed, so the figures include that.
 *
 * Usage: bench_ofp [SECONDS_PER_CASE]   (default 1.0)
 * It reads the clock only to time itself; it touches no network or files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "mignet/ofp.h"

/* Keeps the compiler from discarding work whose result is unused. */
static void
sink(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

enum bench_op { OP_MEMCPY, OP_ENCODE, OP_DECODE, OP_BOTH };

struct bench_case {
    const char *name;
    const char *flow;
};

static const struct bench_case cases[] = {
    {"relay flow (5 fields, 2 actions)",
     "add table=0 priority=200 cookie=0x1234 in_port=1,eth_type=0x0800,"
     "ipv4_dst=198.18.0.7,eth_dst=02:00:00:00:00:07,tunnel_id=0x64 "
     "actions=set_field:0x65->tunnel_id,output:3"},
    {"ARP responder (3 fields, 8 actions)",
     "add table=0 priority=300 eth_type=0x0806,arp_op=1,"
     "arp_tpa=198.18.0.10 actions=move:eth_src[]->eth_dst[],"
     "set_field:02:00:00:00:00:0a->eth_src,set_field:2->arp_op,"
     "move:arp_sha[]->arp_tha[],move:arp_spa[]->arp_tpa[],"
     "set_field:02:00:00:00:00:0a->arp_sha,"
     "set_field:198.18.0.10->arp_spa,output:IN_PORT"},
};

/* Runs 'op' for about 'seconds'; returns operations per second. */
static double
run(enum bench_op op, const struct ofp_msg *msg, const struct ofpbuf *wire,
    double seconds)
{
    static struct ofp_msg out;
    static uint8_t copy[65536];
    struct ofpbuf b;
    ofpbuf_init(&b, 1024);
    unsigned long n = 0;
    double start = clock_mono_s(), elapsed;
    do {
        for (int i = 0; i < 1000; i++) {
            switch (op) {
            case OP_MEMCPY:
                memcpy(copy, wire->data, wire->size);
                sink(copy);
                break;
            case OP_ENCODE:
                ofpbuf_clear(&b);
                if (ofp_encode(msg, &b)) {
                    abort();
                }
                sink(b.data);
                break;
            case OP_DECODE:
                if (ofp_decode(wire->data, wire->size, &out)) {
                    abort();
                }
                sink(&out);
                ofp_msg_destroy(&out);
                break;
            case OP_BOTH:
                ofpbuf_clear(&b);
                if (ofp_encode(msg, &b) || ofp_decode(b.data, b.size, &out)) {
                    abort();
                }
                sink(&out);
                ofp_msg_destroy(&out);
                break;
            }
        }
        n += 1000;
        elapsed = clock_mono_s() - start;
    } while (elapsed < seconds);
    ofpbuf_uninit(&b);
    return (double)n / elapsed;
}

int
main(int argc, char *argv[])
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    if (seconds <= 0) {
        fprintf(stderr, "usage: bench_ofp [SECONDS_PER_CASE]\n");
        return 2;
    }
    static struct ofp_msg msg;
    printf("%-38s %6s %14s %14s %14s %14s %9s\n", "flow_mod", "bytes",
           "memcpy/s", "encode/s", "decode/s", "enc+dec/s", "memcpy/ed");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[128];
        ofp_msg_init(&msg, OFPT_FLOW_MOD, 1);
        if (ofp_parse_flow_mod(cases[i].flow, &msg.flow_mod, err,
                               sizeof err)) {
            fprintf(stderr, "bench_ofp: %s\n", err);
            return 1;
        }
        struct ofpbuf wire;
        ofpbuf_init(&wire, 256);
        if (ofp_encode(&msg, &wire)) {
            return 1;
        }
        double cp = run(OP_MEMCPY, &msg, &wire, seconds);
        double enc = run(OP_ENCODE, &msg, &wire, seconds);
        double dec = run(OP_DECODE, &msg, &wire, seconds);
        double both = run(OP_BOTH, &msg, &wire, seconds);
        printf("%-38s %6zu %14.0f %14.0f %14.0f %14.0f %8.1fx\n",
               cases[i].name, wire.size, cp, enc, dec, both, cp / both);
        ofpbuf_uninit(&wire);
        ofp_msg_destroy(&msg);
    }
    return 0;
}
