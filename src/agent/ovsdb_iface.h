/* ovsdb_iface.h: the agent's view of Open vSwitch's Interface table, as
 * ovn-controller keeps one: a sans-I/O OVSDB JSON-RPC client (RFC 7047)
 * that monitors the columns name, ofport and external_ids, so a VM's port
 * is found by external_ids:iface-id as libvirt and OpenStack set it.
 *
 * It never touches a socket: the shell (agent_ovsdb.c) feeds it the
 * bytes ovsdb-server sends and writes what it queues.  Every input is
 * bounded and checked; a malformed message changes nothing and tells the
 * caller to close (a new connection monitors the table afresh).  Fuzzed
 * by tests/fuzz/fuzz_ovsdb_iface.c.
 *
 *   o = ovsdb_iface_create();
 *   connected:    ovsdb_iface_connected(o, &out);       // the monitor
 *   bytes:        if (ovsdb_iface_receive(o, buf, n, &out, err, sz))
 *                     close and reconnect;
 *   lookups:      ovsdb_iface_find(o, "vm1")             // by iface-id
 *   what changed: ovsdb_iface_changes(o) (iface-ids and names), then
 *                 vm_changes_clear() */
#ifndef MIGNET_AGENT_OVSDB_IFACE_H
#define MIGNET_AGENT_OVSDB_IFACE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/vm_changes.h"
#include "proto/chan_msg.h"

struct strbuf;

/* Rows kept (Interface rows beyond it are counted and ignored). */
#define OVSDB_IFACE_MAX_ROWS 4096
/* Longest interface name kept; a longer one makes its row unusable. */
#define OVSDB_IFACE_NAME_MAX 63
/* Longest message accepted from ovsdb-server (bytes). */
#define OVSDB_MSG_MAX (8u << 20)

struct ovsdb_row {
    char uuid[40];                         /* the row's _uuid */
    char name[OVSDB_IFACE_NAME_MAX + 1];
    uint32_t ofport;                       /* 0: none (yet) */
    char iface_id[CHAN_IFACE_MAX + 1];     /* "" when none or too long */
};

struct ovsdb_iface;

struct ovsdb_iface *ovsdb_iface_create(void);
void ovsdb_iface_destroy(struct ovsdb_iface *);

/* A connection to ovsdb-server is up: queues the monitor request. */
void ovsdb_iface_connected(struct ovsdb_iface *, struct strbuf *out);
/* Bytes from ovsdb-server (any split).  Queues answers to its echo
 * requests.  Returns 0, or EPROTO (a malformed message: 'err' says what;
 * nothing it carried was applied) or EMSGSIZE (a message over
 * OVSDB_MSG_MAX): close the connection. */
int ovsdb_iface_receive(struct ovsdb_iface *, const char *data, size_t len,
                        struct strbuf *out, char *err, size_t errlen);
/* The connection is gone (the rows stay until a new monitor replaces
 * them). */
void ovsdb_iface_disconnected(struct ovsdb_iface *);

/* The row whose external_ids:iface-id is 'iface_id' (of several, the one
 * with an ofport, then the first by name), or NULL. */
const struct ovsdb_row *ovsdb_iface_find(const struct ovsdb_iface *,
                                         const char *iface_id);
/* The rows, by index (valid until the next receive); several may carry
 * one iface-id (one per bridge of this Open vSwitch). */
const struct ovsdb_row *ovsdb_iface_row(const struct ovsdb_iface *,
                                        size_t i);
/* The row of the interface called 'name', or NULL. */
const struct ovsdb_row *ovsdb_iface_by_name(const struct ovsdb_iface *,
                                            const char *name);
size_t ovsdb_iface_count(const struct ovsdb_iface *);
/* Whether the initial monitor reply has come on this connection. */
bool ovsdb_iface_ready(const struct ovsdb_iface *);
/* The iface-ids and interface names of rows that changed since the
 * caller last cleared it (vm_changes_clear). */
struct vm_changes *ovsdb_iface_changes(struct ovsdb_iface *);

/* Finds the end of the first JSON text in a buffer (an object or array,
 * as JSON-RPC sends), resuming where the last call on the same buffer
 * stopped: 'f' starts zeroed and is zeroed again once a text was found.
 * Returns 0 with *used its length (from the buffer's start), or 0 with
 * *used 0 when more bytes are needed, or EPROTO when the buffer does not
 * start one, or EMSGSIZE when it would exceed OVSDB_MSG_MAX. */
struct ovsdb_frame {
    size_t scanned, depth;
    bool started, in_str, esc;
};
int ovsdb_json_frame(struct ovsdb_frame *f, const char *buf, size_t len,
                     size_t *used);

#endif /* MIGNET_AGENT_OVSDB_IFACE_H */
