/* config.c: defaults and the named strategies of the core.
 *
 * A strategy is only a set of switches on the one core: the baselines the
 * simulator compares with mignet run the same code with features off, so a
 * difference in results is the feature and nothing else. */
#include "mignet/config.h"

#include <string.h>

void
core_config_default(struct core_config *c)
{
    memset(c, 0, sizeof *c);
    c->relay = true;
    c->dynamic_delay = true;
    c->ack_release = true;
    c->pending_check = true;
    c->retarget = true;
    c->epoch_guard = true;
    c->silence_hold = true;
    c->fixed_delay_ms = 3000;
    c->delay_floor_ms = 100;
    c->delay_ceiling_ms = 120000;
    c->delay_margin_ms = 200;
    c->propagation_ms = 50;
    c->inflight_ms = 50;
    c->prepare_timeout_ms = 5000;
    c->dev_factor = 4;
    c->refresh_floor_ms = 100;
    c->tombstones = 65536;
}

bool
core_config_strategy(struct core_config *c, const char *name)
{
    core_config_default(c);
    if (!strcmp(name, "mignet")) {
        return true;
    }
    c->ack_release = false;
    c->retarget = false;
    c->epoch_guard = false;
    c->silence_hold = false;
    if (!strcmp(name, "seed")) {
        /* Seed 000 as written: dynamic delay, relay, snapshot deletion and
         * the pending-task check; no acknowledgements, epochs or
         * retargeting. */
        return true;
    }
    c->pending_check = false;
    if (!strcmp(name, "fixed")) {
        /* Delete after a fixed delay, relay meanwhile, no checks. */
        c->dynamic_delay = false;
        return true;
    }
    if (!strcmp(name, "naive") || !strcmp(name, "fast-refresh")
        || !strcmp(name, "clone")) {
        c->relay = false;
        c->dynamic_delay = false;
        c->fixed_delay_ms = 0;
        return true;
    }
    core_config_default(c);
    return false;
}
