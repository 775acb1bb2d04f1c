/* fabric_flows.h: the OpenFlow flows mignetd puts on fabric switches.
 *
 * Pure translation, no I/O: a planned path (its switch hops) and the
 * migration's host pair and transport become flow_mods, one list per
 * switch; a migration's flows are named by a cookie so they can be removed
 * without touching anything else; LLDP discovery has its punt flow.  It
 * never chooses paths (the planner does) and never sends (fabric_ctl.c
 * does). */
#ifndef MIGNET_CONTROLLER_FABRIC_FLOWS_H
#define MIGNET_CONTROLLER_FABRIC_FLOWS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/ofp.h"
#include "mignet/planner.h"

/* Cookies: 16 bits of tag ("mg"), 40 bits of migration id, 8 bits of path
 * index.  Cookie 'tag | 0' (migration 0) is the LLDP punt flow. */
#define FABRIC_COOKIE_TAG (UINT64_C(0x6d67) << 48)
#define FABRIC_COOKIE_TAG_MASK (UINT64_C(0xffff) << 48)
#define FABRIC_COOKIE_MIG_MASK UINT64_C(0xffffffffffffff00)
#define FABRIC_MIGRATION_MAX ((UINT64_C(1) << 40) - 1)

#define FABRIC_PRIO_LLDP 65000
#define FABRIC_PRIO_PATH 1000

uint64_t fabric_cookie(uint64_t migration, unsigned path);

/* What one path of a migration carries: TCP from 'src_ip' to port
 * 'tcp_port' of 'dst_ip' (and its answers), and with 'arp' the ARP
 * exchange of the pair.  Addresses in host byte order. */
struct fabric_path_key {
    uint32_t src_ip, dst_ip;
    uint16_t tcp_port;
    bool arp;
    uint64_t cookie;
    uint16_t priority;
};

/* One flow for one switch. */
struct fabric_flow {
    uint64_t dpid;
    struct ofp_flow_mod fm;
};

/* How many flows fabric_path_flows() makes for 'n_hops' hops. */
size_t fabric_path_n_flows(size_t n_hops, bool arp);

/* Writes the add flows of a path into 'out' (room for
 * fabric_path_n_flows(), slots that own nothing): per hop, TCP forward
 * (in_port -> out_port, matching tcp_dst) and back (out_port -> in_port,
 * matching tcp_src), then the same for ARP when asked.  Hops must have
 * nonzero ports; returns EINVAL (nothing written that needs freeing)
 * otherwise, else 0 with '*n' set: the caller then owns the 'n' flows'
 * action lists (fabric_flows_destroy()). */
int fabric_path_flows(const struct route_hop *hops, size_t n_hops,
                      const struct fabric_path_key *,
                      struct fabric_flow *out, size_t *n);

/* Frees the action lists of 'n' flows. */
void fabric_flows_destroy(struct fabric_flow *, size_t n);

/* A flow_mod deleting, in every table, the flows whose cookie matches
 * 'cookie' under 'mask'. */
void fabric_delete_flows(uint64_t cookie, uint64_t mask,
                         struct ofp_flow_mod *);

/* The flow sending every LLDP frame to the controller, whole ('fm' owns
 * nothing before; the caller ofp_flow_mod_destroy()s it). */
void fabric_lldp_punt_flow(struct ofp_flow_mod *);

#endif /* controller/fabric_flows.h */
