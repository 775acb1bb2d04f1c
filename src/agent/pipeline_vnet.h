/* pipeline_vnet.h: one tenant virtual switch's state on this node compiled
 * into br-int flows (docs/dataplane.md, "Tenant virtual switches"): the
 * dispatch of a tenant port's frames into the active version's table
 * (table 20), the tenant tables 40 and 41 (one per version parity) and
 * the directed delivery of the switch's tunnel keys (table 30).
 *
 * Pure, like pipeline.h: the same inputs always give the same flows; it
 * never talks to a switch.  What the node knows of each tenant VM comes
 * from a lookup the caller gives (the agent's pl_engine views). */
#ifndef MIGNET_AGENT_PIPELINE_VNET_H
#define MIGNET_AGENT_PIPELINE_VNET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/pipeline.h"
#include "mignet/ofp.h"

struct flowtab;

/* Version v's tenant flows live in table PL_T_VNET + (v & 1). */
#define PL_T_VNET 40
#define PL_PRIO_VNET_DISPATCH 400 /* table 20, above the ARP responder */
#define PL_PRIO_VNET_DELIVER 250  /* table 30, above local delivery */

/* One tenant port: tenant port number, its VM, its tunnel key K(p). */
struct pl_vnet_port {
    uint32_t port;
    const char *vm;
    uint32_t key;
};

/* One tenant flow, in tenant terms (OF1.3, table 0 of the tenant's
 * switch): in_port a tenant port, outputs tenant ports, IN_PORT, FLOOD,
 * ALL or CONTROLLER.  Owns its action list (pl_vnet_flow_destroy). */
struct pl_vnet_flow {
    uint32_t id;
    uint64_t version;
    uint16_t priority;
    struct ofp_match match;
    struct ofp_actions actions;
};

/* What the node knows of VM 'vm' (pipeline.h's view), or NULL. */
typedef const struct pl_vm *pl_vnet_vm_fn(void *aux, const char *vm);

struct pl_vnet_env {
    uint32_t tunnel_port; /* 0: no overlay port (yet) */
    pl_vnet_vm_fn *vm;
    void *aux;
};

/* The switch: its tenant VNI, the active version and its ports (FLOOD
 * outputs them in this order). */
struct pl_vnet {
    uint32_t vni;
    uint64_t active;
    const struct pl_vnet_port *ports;
    size_t n_ports;
};

/* Cookie of a tenant flow: PL_COOKIE_MAGIC, PL_K_VNET, the low 8 bits of
 * the version, the flow id. */
uint64_t pl_vnet_cookie(uint64_t version, uint32_t id);
/* Whether 'cookie' is a tenant flow's; then its version byte and id. */
bool pl_vnet_cookie_parse(uint64_t cookie, uint8_t *version_lo,
                          uint32_t *id);
/* The metadata the dispatch writes: active version (low 32 bits) above,
 * tenant port below. */
uint64_t pl_vnet_metadata(uint64_t active, uint32_t port);

/* Frames from 'v''s port enter a tenant switch on this node: placed here
 * (or relaying, still plugged) with a port. */
bool pl_vnet_local(const struct pl_vm *v);

/* Decodes an OF1.3 FLOW_MOD (ADD, table 0, apply-actions of outputs
 * only, no match on tunnel_id, metadata or tun_dst) into 'out' (which
 * must own nothing); 'id' and 'version' are left for the caller.  Returns
 * 0, or the OpenFlow error to answer with ('out' then owns nothing). */
enum ofperr pl_vnet_flow_decode(const void *ofp, size_t len,
                                struct pl_vnet_flow *out);
void pl_vnet_flow_destroy(struct pl_vnet_flow *);
/* 'dst' (owning nothing) becomes a copy of 'src'. */
void pl_vnet_flow_copy(struct pl_vnet_flow *dst,
                       const struct pl_vnet_flow *src);
/* Same priority, match and actions. */
bool pl_vnet_flow_equal(const struct pl_vnet_flow *,
                        const struct pl_vnet_flow *);

/* The switch's own flows: one dispatch per local tenant port, one
 * directed delivery per tenant port whose VM has a port here or relays
 * away.  Added to 'out' where no flow has their key (flowtab_put_new). */
void pipeline_vnet_infra(const struct pl_vnet_env *, const struct pl_vnet *,
                         struct flowtab *out);
/* One tenant flow: one physical flow per local tenant port its match
 * admits.  Returns 0, or EMSGSIZE when one cannot be a single OpenFlow
 * message (it is then left out; 'err' says which). */
int pipeline_vnet_flow(const struct pl_vnet_env *, const struct pl_vnet *,
                       const struct pl_vnet_flow *, struct flowtab *out,
                       char *err, size_t err_size);
/* Everything of one switch: its infra and every flow in 'flows' (the
 * oracle of the incremental computation).  0 or EMSGSIZE as above. */
int pipeline_vnet(const struct pl_vnet_env *, const struct pl_vnet *,
                  const struct pl_vnet_flow *flows, size_t n_flows,
                  struct flowtab *out, char *err, size_t err_size);

#endif /* MIGNET_AGENT_PIPELINE_VNET_H */
