/* traffic.h: sequence-numbered UDP probes and the loss report of
 * mignet-traffic, as pure functions (no sockets, no clock), so the counting
 * is unit-tested apart from the tool.
 *
 * A sender numbers its probes 0, 1, 2... and sends probe 's' when it is due,
 * at start + s / rate; every probe carries the sender's id, rate and start,
 * so a receiver knows when a probe it never saw was due.  The report splits
 * missing probes into those due inside a pause window (the VM was paused:
 * expected) and the rest (a real loss).  Nothing here may trust a packet:
 * every decode is bounds-checked and bad input is counted, never fatal. */
#ifndef MIGNET_TRAFFIC_H
#define MIGNET_TRAFFIC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRAFFIC_MAGIC 0x4d4e5452u /* "MNTR" */
#define TRAFFIC_VERSION 1
#define TRAFFIC_PROBE_LEN 40
/* Highest sequence number accepted (bounds the receiver's memory). */
#define TRAFFIC_MAX_SEQ (1u << 24)
#define TRAFFIC_MAX_RATE 1000000u

/* One probe.  Wire form (big-endian, TRAFFIC_PROBE_LEN bytes):
 *   u32 magic, u8 version, u8 kind (0 data, 1 end), u16 zero,
 *   u32 sender, u32 rate (probes/s), u64 seq (end: probes sent),
 *   u64 start_us (wall clock µs at which probe 0 was due), u64 sent_us. */
struct traffic_probe {
    bool end;
    uint32_t sender;
    uint32_t rate;
    uint64_t seq;
    uint64_t start_us;
    uint64_t sent_us;
};

/* Writes 'p' into 'buf' (at least TRAFFIC_PROBE_LEN bytes). */
void traffic_probe_encode(const struct traffic_probe *p, uint8_t *buf);
/* Parses 'len' bytes; 0 or EINVAL (short, bad magic/version/kind, rate 0 or
 * above TRAFFIC_MAX_RATE, data seq above TRAFFIC_MAX_SEQ).  On error '*p'
 * is unchanged. */
int traffic_probe_decode(const uint8_t *buf, size_t len,
                         struct traffic_probe *p);

/* Wall-clock µs at which probe 'seq' was due. */
uint64_t traffic_due_us(uint64_t start_us, uint32_t rate, uint64_t seq);

/* A pause window, wall-clock ms, inclusive. */
struct traffic_window {
    uint64_t start_ms;
    uint64_t end_ms;
};

/* Parses a window list: one "START_MS END_MS" pair per line (blank lines
 * and '#' comments allowed), as tests/e2e/lib.sh writes it.  On success
 * '*windows' is malloc'd (NULL when empty) and '*n' set; EINVAL on a bad
 * line (start after end, not a number, trailing junk), leaving both
 * untouched. */
int traffic_windows_parse(const char *text, struct traffic_window **windows,
                          size_t *n);
/* Parses "START_MS:END_MS" (a --window argument).  0 or EINVAL. */
int traffic_window_parse_arg(const char *arg, struct traffic_window *w);

/* Every probe a receiver saw, in arrival order. */
struct traffic_log;

struct traffic_log *traffic_log_create(void);
void traffic_log_destroy(struct traffic_log *);
/* Records probe 'p' that arrived at 'arrival_us'.  EINVAL (and counted as
 * invalid, nothing recorded) when it contradicts what the sender announced
 * before (another rate or start). */
int traffic_log_add(struct traffic_log *, const struct traffic_probe *p,
                    uint64_t arrival_us);
/* Counts a datagram that was not a probe. */
void traffic_log_add_invalid(struct traffic_log *);
/* Number of distinct senders whose end probe has arrived. */
size_t traffic_log_n_ended(const struct traffic_log *);

struct traffic_counts {
    uint64_t sent;       /* end probe's count, else highest seq + 1 */
    uint64_t arrivals;   /* data probes received, copies included */
    uint64_t received;   /* distinct sequence numbers received */
    uint64_t missing;    /* sent - received */
    uint64_t missing_in_window;
    uint64_t missing_outside_window;
    uint64_t duplicated; /* arrivals - received */
    uint64_t reordered;  /* first copies arriving after a higher seq */
};

struct traffic_sender_report {
    uint32_t sender;
    uint32_t rate;
    uint64_t start_us;
    bool end_seen;
    struct traffic_counts counts;
    uint64_t delay_max_us; /* arrival - sent, over arrivals */
    uint64_t delay_mean_us;
};

struct traffic_missing {
    uint32_t sender;
    uint64_t seq;
    uint64_t due_us;
    bool in_window;
};

struct traffic_report {
    struct traffic_sender_report *senders; /* by sender id */
    size_t n_senders;
    struct traffic_counts total;
    struct traffic_missing *missing; /* by sender, then seq */
    size_t n_missing;
    uint64_t invalid;
    uint64_t receiver_drops; /* set by the caller: the receiving socket's
                              * own drops (SO_RXQ_OVFL), not the network's */
    struct traffic_window *windows;
    size_t n_windows;
    uint64_t slack_ms;
};

/* Computes the report of 'log'.  A missing probe is "in window" when it was
 * due within 'slack_ms' of one of the 'n_windows' windows (the slack covers
 * probes in flight when the pause began).  Never fails; free with
 * traffic_report_destroy(). */
struct traffic_report *traffic_report_compute(const struct traffic_log *,
                                              const struct traffic_window *,
                                              size_t n_windows,
                                              uint64_t slack_ms);
void traffic_report_destroy(struct traffic_report *);

/* The report as one JSON object (malloc'd string): "senders", "total",
 * "missing" (at most 'max_listed' entries of {sender, seq, due_ms,
 * in_window}; "missing_listed" says how many), "windows", "slack_ms",
 * "invalid", "receiver_drops". */
char *traffic_report_to_json(const struct traffic_report *,
                             size_t max_listed);

#endif /* MIGNET_TRAFFIC_H */
