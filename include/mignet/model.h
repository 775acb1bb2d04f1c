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

#include "mignet/limits.h"

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
/* VLAN at most MN_VLAN_MAX, VNI at most MN_VNI_MAX, port at most
 * MN_PORT_MAX (limits.h). */
bool mn_config_valid(const struct mn_config *);
/* A VM's MAC: unicast and not all-zero. */
bool mn_mac_valid(const uint8_t mac[6]);
/* A VM's IPv4 address (host order): not 0.0.0.0, multicast or class E
 * (which holds broadcast). */
bool mn_ip_valid(uint32_t ip);

/* A migration's phases (DESIGN §2):
 *
 *   preparing -> prepared -> relaying -> cleaning -> cleaned, and aborted.
 *
 * PREPARING: the destination was told to hold the VM (inactive unless the
 * switch-over is `now`), its acknowledgement is awaited.  PREPARED: it
 * did; waiting for the switch-over.  RELAYING: switched over and confirmed
 * by both agents; the source relays, its deletion is pending.  CLEANING:
 * the deletion was sent to the source.  CLEANED: the source confirmed it.
 * ABORTED: stopped before the destination became active; the source never
 * lost the VM.  The numbers are stored (schema 3): append only. */
#define MIG_PHASES                                                           \
    MIG_PHASE(PREPARING, "preparing")                                        \
    MIG_PHASE(PREPARED, "prepared")                                          \
    MIG_PHASE(RELAYING, "relaying")                                          \
    MIG_PHASE(CLEANING, "cleaning")                                          \
    MIG_PHASE(CLEANED, "cleaned")                                            \
    MIG_PHASE(ABORTED, "aborted")
enum mig_phase {
#define MIG_PHASE(ENUM, NAME) MIG_##ENUM,
    MIG_PHASES
#undef MIG_PHASE
    MIG_N_PHASES
};
const char *mig_phase_name(enum mig_phase);

/* How a migration switches over (DESIGN §2): `now` prepares and switches
 * in one call; `manual` waits for the VM manager's switch-over call;
 * `rarp` for the VM's first frame at the destination; `lossless` switches
 * the network just before the hypervisor stops the VM.  Stored: append
 * only. */
#define MIG_SWITCHOVERS                                                      \
    MIG_SW(NOW, "now")                                                       \
    MIG_SW(MANUAL, "manual")                                                 \
    MIG_SW(RARP, "rarp")                                                     \
    MIG_SW(LOSSLESS, "lossless")
enum mig_switchover {
#define MIG_SW(ENUM, NAME) MIG_SW_##ENUM,
    MIG_SWITCHOVERS
#undef MIG_SW
    MIG_N_SWITCHOVERS
};
const char *mig_switchover_name(enum mig_switchover);
/* Parses a switch-over mode name; false when unknown. */
bool mig_switchover_from_name(const char *, enum mig_switchover *);

/* Pending task kinds. */
#define TASK_KINDS                                                           \
    TASK_KIND(DELETE, "delete")                                              \
    TASK_KIND(PREPARE_TIMEOUT, "prepare_timeout")                            \
    TASK_KIND(LEASE, "lease") /* a dynamic binding's lease ends */       \
    TASK_KIND(PREPARE_DEADLINE, "prepare_deadline") /* abort if unswitched */
enum task_kind {
#define TASK_KIND(ENUM, NAME) TASK_##ENUM,
    TASK_KINDS
#undef TASK_KIND
};
const char *task_kind_name(enum task_kind);

#endif /* MIGNET_MODEL_H */
