/* transfer.h: the pre-copy engine (issue 15, seed 002 built for real).
 *
 * A sender live-copies a memory region of its own while a workload thread
 * dirties it, in rounds whose boundaries follow one of three rules (ack,
 * Early Notification, buffer), over one TCP connection per path or one
 * MPTCP connection; a receiver applies the pages and the two compare a
 * checksum per page.  Three pieces are sans-I/O and unit-tested: the
 * dirty bitmap, the wire format and the round bookkeeping (the stop rule
 * is the planner's precopy_stops_now()).  docs/precopy.md. */
#ifndef MIGNET_TRANSFER_H
#define MIGNET_TRANSFER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/planner.h"

/* ------------------------------------------------------------------ */
/* Dirty bitmap (bitmap.c): one bit a page, set by the fault handler,  */
/* taken whole by the sender at a round boundary.                      */
/* ------------------------------------------------------------------ */

struct precopy_bitmap;  /* defined in bitmap.c */

/* A bitmap of 'n_bits' clear bits, or NULL (out of memory, n_bits 0). */
struct precopy_bitmap *precopy_bitmap_create(size_t n_bits);
void precopy_bitmap_destroy(struct precopy_bitmap *);
size_t precopy_bitmap_size(const struct precopy_bitmap *);
/* Sets bit 'i' (< size) atomically: safe from a fault handler or signal
 * handler while another thread takes the bitmap. */
void precopy_bitmap_set(struct precopy_bitmap *, size_t i);
void precopy_bitmap_set_all(struct precopy_bitmap *);
void precopy_bitmap_clear_all(struct precopy_bitmap *);
bool precopy_bitmap_test(const struct precopy_bitmap *, size_t i);
size_t precopy_bitmap_count(const struct precopy_bitmap *);
/* Moves every set bit of 'from' into 'to' (same size), word by word with
 * an atomic exchange, so a bit set concurrently lands in exactly one of
 * the two.  Returns the number of bits moved. */
size_t precopy_bitmap_take(struct precopy_bitmap *from,
                           struct precopy_bitmap *to);
/* The first set bit at or after 'i', or the size if none. */
size_t precopy_bitmap_next(const struct precopy_bitmap *, size_t i);

/* ------------------------------------------------------------------ */
/* Wire format (wire.c).  Every frame: type (1 byte), 3 zero bytes,    */
/* payload length (4 bytes, big-endian), then the payload.             */
/* ------------------------------------------------------------------ */

#define PRECOPY_WIRE_MAGIC 0x4d475043u    /* "MGPC" */
#define PRECOPY_WIRE_VERSION 1
#define PRECOPY_HDR_LEN 8
#define PRECOPY_PAGE_SIZE 4096u           /* the only page size spoken */
#define PRECOPY_MAX_PAGES (1u << 24)      /* 64 GiB of 4 KiB pages */
#define PRECOPY_MAX_CONNS 16
#define PRECOPY_CSUM_PER_FRAME 8192u      /* checksums in one frame */
/* The largest frame (a CSUM frame of PRECOPY_CSUM_PER_FRAME sums). */
#define PRECOPY_MAX_FRAME (PRECOPY_HDR_LEN + 8 + 8 * PRECOPY_CSUM_PER_FRAME)

enum precopy_msg_type {
    PRECOPY_MSG_HELLO = 1,   /* sender -> receiver, first on a connection */
    PRECOPY_MSG_PAGE = 2,    /* sender -> receiver: a page's contents */
    PRECOPY_MSG_CSUM = 3,    /* sender -> receiver, conn 0, after DONE */
    PRECOPY_MSG_DONE = 4,    /* sender -> receiver: no more pages */
    PRECOPY_MSG_VERDICT = 5, /* receiver -> sender, connection 0 only */
};

struct precopy_msg {
    enum precopy_msg_type type;
    union {
        struct {            /* HELLO: payload 20 bytes */
            uint16_t version;
            uint16_t conn;      /* this connection's index */
            uint16_t n_conns;   /* 1..PRECOPY_MAX_CONNS; conn < n_conns */
            uint32_t page_size; /* PRECOPY_PAGE_SIZE */
            uint32_t n_pages;   /* 1..PRECOPY_MAX_PAGES */
        } hello;
        struct {            /* PAGE: payload 8 + page size */
            uint32_t round;
            uint32_t index;
            const uint8_t *data; /* points into the parsed buffer */
        } page;
        struct {            /* CSUM: payload 8 + 8 * count */
            uint32_t first;
            uint32_t count;      /* 1..PRECOPY_CSUM_PER_FRAME */
            const uint8_t *sums; /* 'count' big-endian u64, in the buffer */
        } csum;
        struct {            /* DONE: payload 8 */
            uint64_t pages;      /* PAGE frames sent on this connection */
        } done;
        struct {            /* VERDICT: payload 8 */
            uint32_t checked;    /* pages compared */
            uint32_t mismatches;
        } verdict;
    } u;
};

/* Parses one frame at the start of 'buf' ('len' bytes).  Returns 0 with
 * '*msg' filled and '*used' set to the frame's length; EAGAIN if 'buf'
 * holds only part of a frame (nothing set); EPROTO for a frame that can
 * never be valid (unknown type, nonzero pad, a length wrong for the
 * type, bad magic or version, out-of-range fields).  Pointers in '*msg'
 * point into 'buf'.  Checks that depend on the session (an index below
 * the HELLO's n_pages) are the caller's: precopy_wire_check(). */
int precopy_wire_parse(const uint8_t *buf, size_t len,
                       struct precopy_msg *msg, size_t *used);
/* Whether 'msg' fits a session of 'n_pages' pages (PAGE index, CSUM
 * range). */
bool precopy_wire_check(const struct precopy_msg *msg, uint32_t n_pages);
/* Encoders write one frame into 'out' if it fits 'cap' and return its
 * length, or 0 if it does not fit. */
size_t precopy_wire_hello(uint8_t *out, size_t cap, uint16_t conn,
                          uint16_t n_conns, uint32_t n_pages);
size_t precopy_wire_page(uint8_t *out, size_t cap, uint32_t round,
                         uint32_t index, const void *page);
size_t precopy_wire_csum(uint8_t *out, size_t cap, uint32_t first,
                         const uint64_t *sums, uint32_t count);
size_t precopy_wire_done(uint8_t *out, size_t cap, uint64_t pages);
size_t precopy_wire_verdict(uint8_t *out, size_t cap, uint32_t checked,
                            uint32_t mismatches);
/* Checksum 'i' (< count) of a parsed CSUM frame. */
uint64_t precopy_wire_csum_at(const struct precopy_msg *msg, uint32_t i);
/* The length of a PAGE frame. */
#define PRECOPY_PAGE_FRAME (PRECOPY_HDR_LEN + 8 + PRECOPY_PAGE_SIZE)

/* A page's checksum (64 bits, seeded with its index, so a page written
 * at the wrong index does not verify). */
uint64_t precopy_page_sum(const void *page, uint32_t index);

/* ------------------------------------------------------------------ */
/* Rounds (rounds.c): what each round sent and when, and whether the   */
/* stop-and-copy comes next.  Pure: times are the caller's.            */
/* ------------------------------------------------------------------ */

struct precopy_round {
    uint32_t round;         /* 1-based; the last one is the stop-and-copy */
    uint64_t start_us;      /* from the start of the migration */
    uint64_t t_us;          /* T_i: from its first page queued to its end */
    uint64_t v_bytes;       /* V_i: bytes written (frames, headers too) */
    uint64_t pages;
};

struct precopy_rounds {
    struct precopy_config cfg;
    double memory_bytes;
    uint32_t page_size;
    uint32_t n;                 /* rounds recorded */
    double page_bytes_sent;     /* pages x page size, every round */
    uint64_t wire_bytes;        /* every round's v_bytes */
    struct precopy_round *list; /* 'n' rounds */
    size_t cap;
    bool stopped;               /* precopy_rounds_end() said stop */
    enum precopy_stop stop;
};

/* Returns 0, or EINVAL (config out of the planner's range, memory 0). */
int precopy_rounds_init(struct precopy_rounds *, const struct precopy_config *,
                        uint64_t memory_bytes, uint32_t page_size);
void precopy_rounds_destroy(struct precopy_rounds *);
/* Records iterative round n + 1 ('pages' pages in 'v_bytes' bytes) and
 * decides, from 'dirty_pages' (dirtied while it ran: the next round's
 * pages), whether the stop-and-copy comes next: sets r->stopped and
 * r->stop by the planner's precopy_stops_now(), with ratio = the next
 * round's pages over this round's.  Returns 0 or ENOMEM. */
int precopy_rounds_end(struct precopy_rounds *, uint64_t start_us,
                       uint64_t t_us, uint64_t pages, uint64_t v_bytes,
                       uint64_t dirty_pages);
/* Records the stop-and-copy round.  Returns 0 or ENOMEM. */
int precopy_rounds_final(struct precopy_rounds *, uint64_t start_us,
                         uint64_t t_us, uint64_t pages, uint64_t v_bytes);

/* ------------------------------------------------------------------ */
/* The engine (track.c, workload.c, engine.c): real memory, threads    */
/* and sockets.                                                        */
/* ------------------------------------------------------------------ */

enum precopy_mode {
    PRECOPY_MODE_ACK,    /* next round when all sent is acknowledged */
    PRECOPY_MODE_EN,     /* next round when the round's bytes left */
    PRECOPY_MODE_BUFFER, /* next round when write() took everything */
};
const char *precopy_mode_name(enum precopy_mode);
bool precopy_mode_parse(const char *, enum precopy_mode *);

enum precopy_tracking {
    PRECOPY_TRACK_UFFD_WP,  /* userfaultfd write-protect */
    PRECOPY_TRACK_MPROTECT, /* mprotect + SIGSEGV */
};
const char *precopy_tracking_name(enum precopy_tracking);

/* Write tracking over a region (track.c). */
struct precopy_track;
/* Starts tracking writes to 'base' ('n_pages' pages): every page is
 * write-protected and a write to a protected page sets its bit in
 * 'dirty' and unprotects it.  Uses userfaultfd write-protect, or mprotect
 * + SIGSEGV if that is unavailable or 'force_mprotect'.  The page is
 * unprotected before its bit is set.  Returns 0 or an
 * errno with 'err' set. */
int precopy_track_start(void *base, size_t n_pages,
                        struct precopy_bitmap *dirty, bool force_mprotect,
                        struct precopy_track **out, char *err, size_t errlen);
enum precopy_tracking precopy_track_kind(const struct precopy_track *);
/* Write-protects every page set in 'pages' (the sender calls it before
 * reading them, so a write during the send marks the page again).
 * Returns 0 or an errno. */
int precopy_track_protect(struct precopy_track *,
                          const struct precopy_bitmap *pages);
/* Returns once every write fault read so far has set its bit.  The bit
 * of a write may trail it by a moment (track.c says why); once the
 * writers are parked, this makes the bitmap complete. */
void precopy_track_quiesce(struct precopy_track *);
/* Write faults handled so far. */
uint64_t precopy_track_faults(const struct precopy_track *);
void precopy_track_stop(struct precopy_track *);

/* Fills 'n_pages' pages at 'base' with pseudo-random content from
 * 'seed' (no two pages alike, none all zero). */
void precopy_region_fill(void *base, size_t n_pages, uint64_t seed);

/* The workload thread (workload.c). */
struct precopy_workload_config {
    double dirty_pps;       /* page writes per second, >= 0 */
    bool hot;               /* a hot set: */
    unsigned hot_pages_pct; /*   1..100 % of the pages (the lowest ones) */
    unsigned hot_writes_pct;/*   get 0..100 % of the writes */
    uint64_t seed;
};
struct precopy_workload;
int precopy_workload_start(void *base, size_t n_pages,
                           const struct precopy_workload_config *,
                           struct precopy_workload **out);
/* Returns once the thread has stopped writing (no write in flight). */
void precopy_workload_pause(struct precopy_workload *);
uint64_t precopy_workload_writes(const struct precopy_workload *);
void precopy_workload_stop(struct precopy_workload *);

/* Parses "PAGES_PCT:WRITES_PCT" (1..100 : 0..100). */
bool precopy_hot_parse(const char *, unsigned *pages_pct,
                       unsigned *writes_pct);

#define PRECOPY_MAX_PATHS PRECOPY_MAX_CONNS

struct precopy_send_opts {
    const char *to[PRECOPY_MAX_PATHS]; /* "HOST:PORT" */
    size_t n_to;
    bool mptcp;
    uint64_t mem_bytes;
    struct precopy_workload_config workload;
    enum precopy_mode mode;
    struct precopy_config cfg;
    uint32_t sample_ms;     /* TCP_INFO sampling period, >= 1 */
    uint32_t timeout_s;
    bool force_mprotect;    /* env MIGNET_PRECOPY_TRACKING=mprotect */
};

struct precopy_sample {
    uint64_t t_us;
    uint32_t conn;
    uint32_t cwnd;
    uint32_t rtt_us;
    uint32_t total_retrans;
    uint32_t unacked;
    uint32_t notsent;
};

struct precopy_send_report {
    struct precopy_rounds rounds;
    enum precopy_tracking tracking;
    uint64_t total_us, downtime_us;
    uint64_t verify_us;         /* the final round's end to the verdict */
    uint64_t bytes;             /* written by the engine, headers too */
    uint64_t retransmits;       /* tcpi_total_retrans over the conns */
    uint64_t writes;            /* the workload's page writes */
    uint64_t faults;            /* write faults tracked */
    uint32_t checked, mismatches;
    bool verified;
    struct precopy_sample *samples;
    size_t n_samples;
};

/* Runs one migration as the sender.  Returns 0 when it ran to the end
 * (the report says whether it verified), or an errno with 'err' set (the
 * report holds what was measured until then).  The caller destroys the
 * report. */
int precopy_send(const struct precopy_send_opts *,
                 struct precopy_send_report *, char *err, size_t errlen);
void precopy_send_report_destroy(struct precopy_send_report *);

struct precopy_recv_opts {
    const char *listen[PRECOPY_MAX_PATHS];
    size_t n_listen;
    bool mptcp;
    uint32_t timeout_s;
    bool corrupt;           /* test only: spoil one page before checking */
};

struct precopy_recv_report {
    uint32_t n_pages, n_conns;
    uint64_t pages;         /* PAGE frames applied */
    uint64_t bytes;         /* read from the connections */
    uint64_t total_us;      /* first connection to verdict sent */
    uint32_t checked, mismatches;
    bool verified;
};

int precopy_recv(const struct precopy_recv_opts *,
                 struct precopy_recv_report *, char *err, size_t errlen);

#endif /* MIGNET_TRANSFER_H */
