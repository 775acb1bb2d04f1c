/* model.c: the rules of mignet's shared words (see model.h): which names
 * are valid, when two configurations are the same.  Pure functions. */
#include "mignet/model.h"

#include <string.h>

#include "lib/util.h"

bool
mn_name_valid(const char *name)
{
    if (!name) {
        return false;
    }
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '.' || c == '_'
                  || c == ':' || c == '-';
        if (!ok || n >= MN_NAME_MAX) {
            return false;
        }
    }
    return n > 0;
}

bool
mn_config_equal(const struct mn_config *a, const struct mn_config *b)
{
    return !memcmp(a->mac, b->mac, sizeof a->mac) && a->vlan == b->vlan
           && a->ip == b->ip && a->vni == b->vni && a->port == b->port
           && a->binding == b->binding;
}

bool
mn_config_valid(const struct mn_config *c)
{
    return c->vlan <= MN_VLAN_MAX && c->vni <= MN_VNI_MAX
           && c->port <= MN_PORT_MAX;
}

bool
mn_mac_valid(const uint8_t m[6])
{
    bool zero = !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
    return !zero && !(m[0] & 1); /* not all-zero, multicast or broadcast */
}

bool
mn_ip_valid(uint32_t ip)
{
    return ip != 0 && ip >> 28 < 0xe;
}

const char *
mig_phase_name(enum mig_phase p)
{
    static const char *const names[] = {
#define MIG_PHASE(ENUM, NAME) NAME,
        MIG_PHASES
#undef MIG_PHASE
    };
    return (unsigned) p < ARRAY_SIZE(names) ? names[p] : "?";
}

const char *
mig_switchover_name(enum mig_switchover m)
{
    static const char *const names[] = {
#define MIG_SW(ENUM, NAME) NAME,
        MIG_SWITCHOVERS
#undef MIG_SW
    };
    return (unsigned) m < ARRAY_SIZE(names) ? names[m] : "?";
}

bool
mig_switchover_from_name(const char *s, enum mig_switchover *out)
{
    for (int m = 0; m < MIG_N_SWITCHOVERS; m++) {
        if (!strcmp(s, mig_switchover_name((enum mig_switchover) m))) {
            *out = (enum mig_switchover) m;
            return true;
        }
    }
    return false;
}

const char *
task_kind_name(enum task_kind k)
{
    static const char *const names[] = {
#define TASK_KIND(ENUM, NAME) NAME,
        TASK_KINDS
#undef TASK_KIND
    };
    return (unsigned) k < ARRAY_SIZE(names) ? names[k] : "?";
}
