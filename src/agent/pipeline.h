/* pipeline.h: the OpenFlow 1.3 pipeline an agent programs on its node's
 * integration bridge (docs/dataplane.md), computed from what the node
 * knows: which VMs it holds (placed here, or a snapshot relaying to a new
 * node) and where the gateway map says every other VM lives.
 *
 * Pure: the same inputs always give the same flow table; it never talks
 * to a switch. */
#ifndef MIGNET_AGENT_PIPELINE_H
#define MIGNET_AGENT_PIPELINE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/binding.h"
#include "mignet/model.h"

struct flowtab;

/* Tables. */
enum {
    PL_T_CLASSIFY = 0,   /* by ingress: VM port or tunnel */
    PL_T_PORTSEC = 10,   /* anti-spoofing on VM ports (seed 003) */
    PL_T_FROM_VM = 20,   /* forwarding of VM traffic */
    PL_T_FROM_TUN = 30,  /* delivery (or relay) of overlay traffic */
};

/* Cookies: the top 16 bits say "mignet", the next 8 the kind of flow, the
 * low 32 bits a hash of the VM id (so statistics can be read per kind). */
#define PL_COOKIE_MAGIC UINT64_C(0x4d47)
enum pl_kind {
    PL_K_INFRA = 0, /* classification, defaults, drops */
    PL_K_LOCAL = 1, /* delivery to a VM placed here */
    PL_K_RELAY = 2, /* relay of a migrated VM's traffic (seed 000) */
    PL_K_REMOTE = 3, /* forwarding to a VM elsewhere, per the map */
    PL_K_ARP = 4,   /* ARP responder */
    PL_K_PORTSEC = 5, /* port security: anti-spoofing, DHCP (seed 003) */
    PL_K_ACTIVATE = 6, /* table 0 on a watched VM port: first frame punted */
    PL_K_VNET = 7,  /* a tenant flow (pipeline_vnet.h): version byte, id */
    PL_K_VNET_INFRA = 8, /* a tenant port's dispatch and delivery */
};

/* Port-security priorities in table 10: binding_rules()' relative
 * priorities on top of this base; the DHCP punt on trusted ports above
 * them all. */
#define PL_PORTSEC_BASE 1000
#define PL_PRIO_DHCP_PUNT (PL_PORTSEC_BASE + 400)
/* Table 20: DHCP broadcasts between VM ports and trusted (server) ports. */
#define PL_PRIO_DHCP 250
uint64_t pl_cookie(enum pl_kind, const char *vm);
#define PL_COOKIE_KIND_MASK UINT64_C(0xffffff0000000000)
/* Every flow of the agent's: the bits PL_COOKIE_MAGIC sits in. */
#define PL_COOKIE_MAGIC_MASK UINT64_C(0xffff000000000000)
static inline uint64_t
pl_cookie_kind(enum pl_kind kind)
{
    return (PL_COOKIE_MAGIC << 48) | ((uint64_t) kind << 40);
}

/* One VM as this node sees it. */
enum pl_vm_kind {
    PL_VM_LOCAL,  /* placed here: deliver to 'ofport' */
    PL_VM_RELAY,  /* a snapshot here relaying to 'peer' */
    PL_VM_REMOTE, /* placed on node 'peer' per the map */
    PL_VM_INACTIVE, /* held here inactive, no map entry elsewhere: no
                     * flows but the watch */
};
struct pl_vm {
    const char *vm;
    enum pl_vm_kind kind;
    struct mn_config config;
    /* LOCAL (RELAY): the VM's port, 0 when not plugged.  REMOTE,
     * INACTIVE: a prepared (inactive) copy's port, 0 for none: overlay
     * traffic for the VM is delivered to it -- only the switch-over makes
     * anyone tunnel it here, and its relay may land before the install
     * that activates the copy. */
    uint32_t ofport;
    uint32_t peer;   /* RELAY, REMOTE: the node's underlay IPv4 */
    /* LOCAL, RELAY: the binding enforced on 'ofport', or NULL.  Without
     * one, a VM with IP 0.0.0.0 may only get an address (DHCP); a VM
     * with a configured IP is not filtered. */
    const struct binding *binding;
    /* Any kind: the port whose frames are punted to the agent (packet-in,
     * cookie kind PL_K_ACTIVATE) to activate the VM here; 0 = none.  A
     * LOCAL VM's own port keeps forwarding (its classify flow punts a
     * copy); any other kind's watched port sends only to the agent. */
    uint32_t watch_port;
};

struct pl_input {
    uint32_t tunnel_port; /* 0: no overlay port (yet) */
    /* Send DHCP server messages (UDP 67->68) entering through trusted
     * ports to the controller as well (DHCP snooping on). */
    bool dhcp_punt;
    const struct pl_vm *vms;
    size_t n_vms;
};

/* The overlay key of a configuration: its VNI, else its VLAN. */
uint32_t pl_key(const struct mn_config *);

/* Replaces the contents of 'out' with the pipeline for 'in'.  Returns 0,
 * or EMSGSIZE when a flow cannot be expressed as one OpenFlow message
 * (e.g. a DHCP broadcast to more ports of one key than a flow_mod can
 * name): no flow is ever shortened, so 'out' then lacks that flow and must
 * not be installed; 'err' (if not NULL) says which flow.
 *
 * Every flow has one *owner*: the infrastructure, a key group (the DHCP
 * broadcasts of one overlay key, which depend on every local port of that
 * key) or a VM.  When two owners produce a flow with the same key (table,
 * priority, match) -- a misconfiguration such as two VMs with one MAC --
 * the owner that ranks first keeps it, whatever the order of 'in->vms':
 * the infrastructure, then key groups by key, then VMs by name (strcmp);
 * inside one owner, its first flow with that key.  pipeline_compute() is
 * the owners' flows in that order, first writer wins; pl_engine.c
 * computes the same table owner by owner, with the same rule. */
int pipeline_compute(const struct pl_input *in, struct flowtab *out,
                     char *err, size_t err_size);

/* One owner's flows, added to 'out' where no flow has their key yet
 * (flowtab_put_new); the same 0 or EMSGSIZE.  Only 'in''s options are
 * read (tunnel_port, dhcp_punt), never its VMs. */
int pipeline_infra(const struct pl_input *in, struct flowtab *out,
                   char *err, size_t err_size);
int pipeline_vm(const struct pl_input *in, const struct pl_vm *,
                struct flowtab *out, char *err, size_t err_size);
/* The key group of 'key': 'members' are every VM with pl_key_member() and
 * that key, in pl_vm_cmp() order (the order of the ports in its flows). */
int pipeline_key(const struct pl_input *in, uint32_t key,
                 const struct pl_vm *const *members, size_t n,
                 struct flowtab *out, char *err, size_t err_size);
/* 'v' belongs to the key group of its key (placed here, plugged). */
bool pl_key_member(const struct pl_vm *v);
/* Port security trusts 'v''s port (a DHCP server's). */
bool pl_trusted(const struct pl_vm *v);
/* The order of VMs as owners: by name. */
int pl_vm_cmp(const struct pl_vm *, const struct pl_vm *);

#endif /* MIGNET_AGENT_PIPELINE_H */
