/* agent_vnet.h: tenant virtual switches in mignet-agent's core
 * (agent_vnet.c; docs/agent-protocol.md "vnet_*", docs/dataplane.md
 * "Tenant virtual switches").  Internal to src/agent, like
 * agent-private.h: the core's files call it, the shell never does.
 *
 * The vnet_* instructions arrive one message at a time (agent_core.c
 * decodes them); a push (begin, ports, flows, flow deletions, end) is
 * applied all at once at its end and acknowledged through the barrier of
 * the batch that installs it, or nacked at once with the OpenFlow error
 * of a tenant flow that does not decode (nothing of it applied).  Nothing
 * here reads a clock or touches a socket. */
#ifndef MIGNET_AGENT_AGENT_VNET_H
#define MIGNET_AGENT_AGENT_VNET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_core;
struct agent_vnet;
struct ofp_packet_in;

/* Hooks the engine (pl_engine_set_ext) to compile the switches. */
struct agent_vnet *agent_vnet_create(struct agent_core *);
void agent_vnet_destroy(struct agent_vnet *);
size_t agent_vnet_count(const struct agent_vnet *);

/* A push: vnet_begin (ports listed after it replace the switch's; 'full':
 * flows not listed are deleted, else listed flows are upserts by (id,
 * version)), vnet_port, vnet_flow ('ofp': an OF1.3 FLOW_MOD in tenant
 * terms), vnet_flow_del, vnet_end. */
void agent_vnet_begin(struct agent_core *, const char *vs, uint32_t vni,
                      uint64_t active, uint64_t seq, bool full);
void agent_vnet_port(struct agent_core *, const char *vs, uint32_t port,
                     const char *vm, uint32_t key);
void agent_vnet_flow(struct agent_core *, const char *vs, uint32_t id,
                     uint64_t version, const uint8_t *ofp, size_t len);
void agent_vnet_flow_del(struct agent_core *, const char *vs, uint32_t id,
                         uint64_t version);
void agent_vnet_end(struct agent_core *, const char *vs, uint64_t seq);
/* Final counters of 'version''s flows (or of the whole switch), then
 * their deletion; acknowledged by the barrier of that batch. */
void agent_vnet_drop(struct agent_core *, const char *vs, uint64_t version,
                     uint64_t seq);
void agent_vnet_remove(struct agent_core *, const char *vs, uint64_t seq);
/* Forgets switch 'vs' at once (its flows go at the next sync). */
void agent_vnet_remove_now(struct agent_core *, const char *vs);
/* Counters now, answered with vnet_stats_end {seq}. */
void agent_vnet_stats_req(struct agent_core *, const char *vs, uint64_t seq);
/* The periodic read (--vnet-stats-ms): every switch held, seq 0. */
void agent_vnet_stats(struct agent_core *);
/* Interface 'ofport' lost its link (its VM paused, its tap going): the
 * tenant ports' tx read from it is read now, while it still exists --
 * what it delivered since the last read would go with it. */
void agent_vnet_link_down(struct agent_core *, uint32_t ofport);
/* Sends 'frame' out of tenant port 'port': on its VM's port here, else
 * through the tunnel keyed K(port) to the VM's node.  0, ENOENT (no such
 * switch or port), EHOSTUNREACH (the VM is nowhere this node can reach)
 * or ENOTCONN. */
int agent_vnet_packet_out(struct agent_core *, const char *vs,
                          uint32_t port, const uint8_t *frame, size_t len);
/* A packet-in: true when it came from a tenant flow (PL_K_VNET cookie),
 * then sent up as vnet_packet_in. */
bool agent_vnet_packet_in(struct agent_core *, const struct ofp_packet_in *);
/* The answers to the pushes, drops and removals (their seqs are
 * mignetd's vnet module's own, each answered exactly): a sync began
 * (the ones applied so far and not yet sent go with it); its batch
 * 'batch' was sent (0: it ended without one, they wait for the next);
 * a batch's barrier
 * came back (confirmed: ack; refused: nack with the OpenFlow error
 * 'type'/'code'; neither: they go again with the next batch); a new
 * channel session forgets them. */
void agent_vnet_batch_begin(struct agent_core *);
void agent_vnet_batch_sent(struct agent_core *, uint64_t batch);
void agent_vnet_batch_done(struct agent_core *, uint64_t batch,
                           bool confirmed, bool refused, uint16_t type,
                           uint16_t code);
void agent_vnet_session(struct agent_core *);
/* The switch's flows were read after a (re)connection ('ok', into the
 * installed table): when they hold tenant switch flows and this agent
 * holds no switch yet, the first sync also waits for a push
 * (agent_vnet_awaited), up to the settle deadline. */
void agent_vnet_flows_read(struct agent_core *, bool ok);
bool agent_vnet_awaited(const struct agent_core *);
/* VM 'vm''s view in the engine changed (agent_sync.c update_vm): the
 * switches it is a port of are compiled again; a port that stops
 * entering a switch here reports its flows' final counters first. */
void agent_vnet_vm_changed(struct agent_core *, const char *vm);

struct agent_vnet_stats {
    uint64_t switches, flows;
    uint64_t packet_ins, packet_outs, stats_rounds, pushes, refused;
};
void agent_vnet_get_stats(const struct agent_core *,
                          struct agent_vnet_stats *);

#endif /* MIGNET_AGENT_AGENT_VNET_H */
