/* model.h: mignet's shared vocabulary -- the names of nodes and VMs and a
 * VM's network configuration, the phases of a migration and the kinds of
 * pending task.
 *
 * It lives in the model layer, below the core, the agent channel and the
 * agent, so each of them speaks the same words without reaching up into
 * another (DESIGN §4).  Pure values: no state, no I/O. */
#ifndef MIGNET_MODEL_H
#define MIGNET_MODEL_H 1

#include <stdbool.h>
#include <stdint.h>

/* Longest node or VM name, not counting the terminating NUL. */
#define MN_NAME_MAX 63

/* Node and VM ids: 1-63 characters of [A-Za-z0-9._:-]. */
bool mn_name_valid(const char *);

/* A VM's network configuration on a node.  Addresses in host byte order. */
struct mn_config {
    uint8_t mac[6];
    uint16_t vlan;    /* 802.1Q VLAN id, 0 = none */
    uint32_t ip;      /* IPv4 address */
    uint32_t vni;     /* overlay VNI, 0 = none */
    uint32_t port;    /* OpenFlow port on the node, 0 = agent chooses */
    uint32_t binding; /* port-security binding id, 0 = none (seed 003) */
};
bool mn_config_equal(const struct mn_config *, const struct mn_config *);
/* VLAN below 4095 and VNI below 2^24. */
bool mn_config_valid(const struct mn_config *);

/* A migration's phases (DESIGN §2). */
#define MIG_PHASES                                                           \
    MIG_PHASE(PREPARED, "prepared")                                          \
    MIG_PHASE(RELAYING, "relaying")                                          \
    MIG_PHASE(CLEANED, "cleaned")
enum mig_phase {
#define MIG_PHASE(ENUM, NAME) MIG_##ENUM,
    MIG_PHASES
#undef MIG_PHASE
};
const char *mig_phase_name(enum mig_phase);

/* Pending task kinds. */
#define TASK_KINDS                                                           \
    TASK_KIND(DELETE, "delete")                                              \
    TASK_KIND(PREPARE_TIMEOUT, "prepare_timeout")                            \
    TASK_KIND(LEASE, "lease") /* a dynamic binding's lease ends */
enum task_kind {
#define TASK_KIND(ENUM, NAME) TASK_##ENUM,
    TASK_KINDS
#undef TASK_KIND
};
const char *task_kind_name(enum task_kind);

#endif /* MIGNET_MODEL_H */
