/* config.h: the core's tunables and the named strategies.
 *
 * 'mignet' is the default; the others exist so the simulator (and anyone
 * curious) can compare mignet with the approaches seed 000 improves on, on
 * the very same core code. */
#ifndef MIGNET_CONFIG_H
#define MIGNET_CONFIG_H 1

#include <stdbool.h>
#include <stdint.h>

struct core_config {
    /* Strategy switches. */
    bool relay;          /* install a relay on the source (seed 000) */
    bool dynamic_delay;  /* delay from refresh statistics, else fixed */
    bool ack_release;    /* end the delay once all nodes acknowledged */
    bool pending_check;  /* I4: run first / cancel pending tasks on return */
    bool retarget;       /* I5: point every live relay at the newest node */
    bool epoch_guard;    /* agents refuse instructions with stale epochs */
    /* Hold a due deletion while a node that has not acknowledged the move
     * is silent beyond its bound, up to delay_ceiling_ms (silence.c).
     * Only with ack_release: it judges nodes by their acknowledgements. */
    bool silence_hold;

    /* Delay, milliseconds. */
    uint32_t fixed_delay_ms;  /* used when !dynamic_delay */
    uint32_t delay_floor_ms;
    uint32_t delay_ceiling_ms;
    uint32_t delay_margin_ms;
    uint32_t propagation_ms;  /* control + data plane propagation bound */
    uint32_t inflight_ms;     /* wait after the last ack (packets in flight) */
    uint32_t prepare_timeout_ms;
    /* A node's refresh bound is mean + dev_factor * deviation of its
     * observed intervals; before it has two observations it is
     * 2 * expected refresh interval. */
    uint32_t dev_factor;
    /* A refresh sooner than this (ms) after the node's last observation
     * is no observation (nor sooner than half its expected interval). */
    uint32_t refresh_floor_ms;
    /* Removals remembered for incremental map reads. */
    uint32_t tombstones;
};

/* Fills 'cfg' with the defaults of strategy 'mignet'. */
void core_config_default(struct core_config *);

/* Strategies: naive, fixed, fast-refresh, clone, seed, mignet.  Sets the
 * switches for 'name' on top of core_config_default(); returns false for an
 * unknown name.  (fast-refresh and clone differ from naive only in what the
 * simulator's nodes and senders do.) */
bool core_config_strategy(struct core_config *, const char *name);

#endif /* MIGNET_CONFIG_H */
