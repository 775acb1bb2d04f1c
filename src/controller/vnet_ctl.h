/* vnet_ctl.h: tenant virtual switches in mignetd (seed 001, LIME;
 * docs/vswitch.md).
 *
 * The vnet layer (mignet/vnet.h) is the switch itself, sans I/O; this
 * module gives it its sockets and its facts: it dials each switch's
 * tenant controller (as Open vSwitch does after `set-controller`) and
 * carries bytes both ways, carries the switch's messages to and from the
 * node agents (agent_server.c), tells it which nodes host each switch
 * (from the core's placements and migrations), runs its timers, and runs
 * ensemble migrations: one migration per VM through ctl_migrate(), the
 * switch split (old and new copies at once) until the last of them is
 * cleaned or aborted. */
#ifndef MIGNET_CONTROLLER_VNET_CTL_H
#define MIGNET_CONTROLLER_VNET_CTL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/core.h"
#include "mignet/model.h"

struct chan_msg;
struct ctl;
struct vnet;
struct vnet_ctl;

struct vnet_ctl *vnet_ctl_create(struct ctl *, char *err, size_t errlen);
void vnet_ctl_destroy(struct vnet_ctl *);
struct vnet *vnet_ctl_vnet(struct vnet_ctl *);

/* A new switch (already accepted by the vnet layer) starts dialing its
 * controller; a removed one hangs up. */
void vnet_ctl_switch_added(struct vnet_ctl *, const char *vswitch);
void vnet_ctl_switch_removed(struct vnet_ctl *, const char *vswitch);

/* The agent channel: a node's session came up (registered) or went; a
 * vnet_* message arrived, or an ack/nack that may be of a switch's push:
 * vnet_ctl_node_msg() returns whether it was the switches' (else it is
 * the core's). */
void vnet_ctl_node_up(struct vnet_ctl *, const char *node);
void vnet_ctl_node_down(struct vnet_ctl *, const char *node);
bool vnet_ctl_node_msg(struct vnet_ctl *, const char *node,
                       const struct chan_msg *);

/* A VM's gateway entry changed, or a migration its phase (the core's
 * sink): which nodes host each switch is looked at again after the
 * batch.  Accepts NULL (the core loads before the switches exist). */
void vnet_ctl_placement_changed(struct vnet_ctl *);

/* An ensemble migration: one migration per move, all checked before any
 * starts (a refusal changes nothing).  On success fills 'ids' (one per
 * move, in order); on refusal sets '*cerr' (the core's) or returns false
 * with 'err' saying why. */
struct vnet_ctl_move {
    char vm[MN_NAME_MAX + 1];
    char node[MN_NAME_MAX + 1];
};
bool vnet_ctl_migrate(struct vnet_ctl *, const char *vswitch,
                      const struct vnet_ctl_move *, size_t n,
                      const struct core_migrate_opts *, uint64_t *ids,
                      enum core_err *cerr, char *err, size_t errlen);
/* The ensemble running for 'vswitch': its migration ids, 0 if none. */
size_t vnet_ctl_ensemble(const struct vnet_ctl *, const char *vswitch,
                         const uint64_t **ids);
/* Whether the tenant controller of 'vswitch' is connected. */
bool vnet_ctl_connected(const struct vnet_ctl *, const char *vswitch);

/* The switches' metrics in the Prometheus text format; 0 or ENOMEM. */
struct strbuf;
int vnet_ctl_metrics(const struct vnet_ctl *, struct strbuf *out);

/* End of a batch (after its commit): which nodes host each switch, if
 * a placement changed, and the switches' output to the agents. */
void vnet_ctl_after_batch(struct vnet_ctl *);

#endif /* MIGNET_CONTROLLER_VNET_CTL_H */
