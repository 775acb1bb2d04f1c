/* agent_server.h: the controller's side of the agent channel (C1).
 *
 * Accepts agent sessions over TCP or TLS (docs/agent-protocol.md), feeds
 * their acknowledgements, refresh reports and placement reports to the
 * core, and carries the core's instructions to the node they are for.
 * Output is held per session until the batch that produced it has been
 * committed, except an install with nothing queued ahead of it, which is
 * written at once (agent_server.c says why that is safe); a node without a
 * session simply gets its whole state again when its agent (re)connects. */
#ifndef MIGNET_CONTROLLER_AGENT_SERVER_H
#define MIGNET_CONTROLLER_AGENT_SERVER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct core_instr;
struct ctl;

struct agent_server;

/* Creates the server for 'ctl' and starts listening on opts.agent_listen
 * (TLS when opts has a certificate).  Writes the bound address to
 * ctl->agent_addr.  On error returns NULL with a message in 'err'. */
struct agent_server *agent_server_create(struct ctl *, char *err,
                                         size_t errlen);
/* Closes every session and the listener.  Accepts NULL. */
void agent_server_destroy(struct agent_server *);

/* The core's instruction sink: queues 'in' on its node's session. */
void agent_server_instr(struct agent_server *, const struct core_instr *);

/* Installs routed from now until the next call are timed from 't0'
 * (monotonic seconds, clock_mono_s()) to the moment they are written, in
 * the install latency histogram; 0 stops timing.  The migration
 * orchestrator (migrations.c) brackets its core_migrate() call with it. */
void agent_server_time_installs(struct agent_server *, double t0);

/* Ends the batch's output: runs the map push (the map as of this batch)
 * and seals what every session holds so far, for the next release;
 * output queued later belongs to the next batch. */
void agent_server_seal(struct agent_server *);
/* Writes every session's sealed output to its socket (after the commit
 * of the batch it belongs to); what was queued after the seal waits. */
void agent_server_release(struct agent_server *);
/* seal, then release (a batch committed in place). */
void agent_server_flush(struct agent_server *);
/* Drops every session's held output (the commit failed). */
void agent_server_discard(struct agent_server *);

/* Queues 'm' on the session of the node named 'node', if it has one
 * (held until the batch commits, like instructions). */
struct chan_msg;
void agent_server_send_named(struct agent_server *, const char *node,
                             const struct chan_msg *m);

/* Whether node 'node' (core index) has a registered session. */
bool agent_server_connected(const struct agent_server *, uint32_t node);
unsigned agent_server_n_connected(const struct agent_server *);

/* Closes the session of a node whose slot the core no longer holds. */
void agent_server_forget_node(struct agent_server *, uint32_t node);
/* The token of 'node' was rotated: its session, if it authenticated with
 * a token, is told `unauthorized` and closed (the agent reconnects with
 * the new one). */
void agent_server_token_rotated(struct agent_server *, uint32_t node);

#endif /* MIGNET_CONTROLLER_AGENT_SERVER_H */
