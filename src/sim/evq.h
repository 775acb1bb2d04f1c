/* evq.h: the simulator's event queue.
 *
 * A 4-ary min-heap for events at arbitrary times plus FIFO lanes for events
 * whose delay is a constant (packets on the data plane, control messages),
 * merged on pop by (time, rank, sequence number).  The owner's rank orders
 * kinds of events at one instant; the sequence number breaks the remaining
 * ties in insertion order, so a run is a pure function of its inputs; the
 * queue never reorders two events with equal time and rank. */
#ifndef MIGNET_SIM_EVQ_H
#define MIGNET_SIM_EVQ_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One event: 32 bytes.  'type' and the payload mean whatever the owner of
 * the queue decides. */
struct sim_ev {
    uint64_t t;   /* virtual time, microseconds */
    uint32_t seq; /* insertion order, wrapping */
    uint32_t a, b, c;
    uint8_t type;
    uint8_t x;
    uint16_t y;
    uint8_t rank; /* at equal times, lower ranks pop first */
};

/* FIFO lanes: a lane accepts only non-decreasing (time, rank). */
#define SIM_EVQ_LANES 2

struct sim_evq_fifo {
    struct sim_ev *ev;
    size_t head, n, cap; /* ring buffer, cap a power of two */
};

struct sim_evq {
    struct sim_ev *heap;
    size_t n, cap;
    struct sim_evq_fifo lane[SIM_EVQ_LANES];
    uint32_t seq;
};

void sim_evq_init(struct sim_evq *);
void sim_evq_destroy(struct sim_evq *);

/* Queue 'ev' (its 'seq' is assigned here).  Returns 0 or ENOMEM. */
int sim_evq_push(struct sim_evq *, struct sim_ev *ev);
/* Queue 'ev' on FIFO lane 'lane'; its (time, rank) must not be before
 * the last event's pushed on that lane (EINVAL otherwise).  0 or an
 * errno. */
int sim_evq_push_lane(struct sim_evq *, int lane, struct sim_ev *ev);
/* Removes the earliest event into '*ev'; false when the queue is empty. */
bool sim_evq_pop(struct sim_evq *, struct sim_ev *ev);
size_t sim_evq_size(const struct sim_evq *);

/* When a simulator should run the core next, in microseconds, for the
 * core's next due time 'due_ms' (UINT64_MAX: nothing due) at virtual time
 * 'now_us'; UINT64_MAX if it should not be woken.  A task already due runs
 * now, or one millisecond on when the core has just run ('after_run'), so
 * the millisecond clock the core sees moves on. */
static inline uint64_t
sim_core_wake_us(uint64_t due_ms, uint64_t now_us, bool after_run)
{
    if (due_ms == UINT64_MAX) {
        return UINT64_MAX;
    }
    if (due_ms <= now_us / 1000) {
        return after_run ? (now_us / 1000 + 1) * 1000 : now_us;
    }
    return due_ms * 1000;
}

#endif /* MIGNET_SIM_EVQ_H */
