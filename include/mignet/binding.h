/* binding.h: port-security (DHCP snooping) bindings, one per VM, with every
 * field of seed 003's Table 1, and the table that holds them.
 *
 * A binding comes to exist in one of three ways (the seed's FIG. 3, 4, 5):
 * the controller builds it from a DHCP ACK a switch reports, an agent
 * builds it locally and reports it, or the VM manager supplies it.  The
 * module is pure: it never reads a clock (callers pass 'now' in ms on a
 * clock of their choosing), never does I/O, and a rejected call changes
 * nothing.  The anti-spoofing rules a binding implies are produced here as
 * abstract matches; the agent turns them into OpenFlow.
 *
 * A model-layer header (DESIGN §4), implemented in src/model by binding.c
 * (the value, its names, validation, text form and record),
 * binding_table.c (the table), binding_snoop.c (from DHCP) and
 * binding_rules.c (the anti-spoofing rules). */
#ifndef MIGNET_BINDING_H
#define MIGNET_BINDING_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dhcp_msg;

/* Longest VM or node id (same rule as MN_NAME_MAX). */
#define BINDING_NAME_MAX 63
#define BINDING_VLAN_MAX 4094
#define BINDING_PORT_MAX 0xffffff00u /* OFPP_MAX */

/* Errors: enum suffix, stable name, message. */
#define BINDING_ERRORS                                                       \
    BINDING_ERR(OK, "ok", "success")                                         \
    BINDING_ERR(BAD_ID, "invalid_id", "binding id 0 is reserved")            \
    BINDING_ERR(BAD_VM, "invalid_vm",                                        \
                "VM ids are 1-63 characters of [A-Za-z0-9._:-]")             \
    BINDING_ERR(BAD_NODE, "invalid_node",                                    \
                "node ids are 1-63 characters of [A-Za-z0-9._:-]")           \
    BINDING_ERR(BAD_MAC, "invalid_mac",                                      \
                "a MAC address is six hex pairs separated by ':'")           \
    BINDING_ERR(ZERO_MAC, "zero_mac", "the MAC address is 00:00:00:00:00:00") \
    BINDING_ERR(BROADCAST_MAC, "broadcast_mac",                              \
                "the MAC address is the broadcast address")                  \
    BINDING_ERR(MULTICAST_MAC, "multicast_mac",                              \
                "the MAC address is a group (multicast) address")            \
    BINDING_ERR(BAD_IP, "invalid_ip", "an IPv4 address is a.b.c.d")          \
    BINDING_ERR(ZERO_IP, "zero_ip", "the IP address is 0.0.0.0")             \
    BINDING_ERR(BROADCAST_IP, "broadcast_ip",                                \
                "the IP address is 255.255.255.255")                         \
    BINDING_ERR(MULTICAST_IP, "multicast_ip",                                \
                "the IP address is multicast (224.0.0.0/4)")                 \
    BINDING_ERR(RESERVED_IP, "reserved_ip",                                  \
                "the IP address is loopback or reserved (127/8, 240/4)")     \
    BINDING_ERR(BAD_VLAN, "invalid_vlan", "the VLAN is not 0-4094")          \
    BINDING_ERR(BAD_PORT, "invalid_port",                                    \
                "the port is not an OpenFlow port number (0-0xffffff00)")    \
    BINDING_ERR(BAD_TYPE, "invalid_type", "the type is not dynamic/static")  \
    BINDING_ERR(BAD_ORIGIN, "invalid_origin",                                \
                "the origin is not controller/agent/manager")                \
    BINDING_ERR(BAD_PORT_STATUS, "invalid_port_status",                      \
                "the port status is not up/down/disable")                    \
    BINDING_ERR(BAD_PORT_SECURITY, "invalid_port_security",                  \
                "the port security is not trust/untrust")                    \
    BINDING_ERR(BAD_LEASE, "invalid_lease",                                  \
                "a dynamic binding needs a lease and a matching expiry")     \
    BINDING_ERR(STATIC_LEASE, "static_lease",                                \
                "a static binding has no lease and no expiry")               \
    BINDING_ERR(ORIGIN_TYPE, "origin_type_mismatch",                         \
                "bindings learned from DHCP (controller, agent) are dynamic") \
    BINDING_ERR(BAD_SERVER, "invalid_server",                                \
                "the DHCP server address is not a unicast address")          \
    BINDING_ERR(BAD_SYNTAX, "invalid_syntax",                                \
                "expected space-separated key=value pairs")                  \
    BINDING_ERR(BAD_FIELD, "unknown_field", "no binding field of that name") \
    BINDING_ERR(DUP_FIELD, "duplicate_field", "a field is given twice")      \
    BINDING_ERR(MISSING_FIELD, "missing_field",                              \
                "vm, node, mac and ip are required")                         \
    BINDING_ERR(UNKNOWN_ID, "unknown_binding", "no binding with this id")    \
    BINDING_ERR(DUP_ID, "duplicate_binding", "a binding with this id exists") \
    BINDING_ERR(VM_BOUND, "vm_bound", "the VM already has a binding")        \
    BINDING_ERR(MAC_CONFLICT, "mac_conflict",                                \
                "the MAC is bound to another VM in this VLAN")               \
    BINDING_ERR(IP_CONFLICT, "ip_conflict",                                  \
                "the IP is bound to another VM in this VLAN")                \
    BINDING_ERR(STATIC_HELD, "static_binding_held",                          \
                "the VM has a static binding, which DHCP does not replace")  \
    BINDING_ERR(FULL, "table_full", "no binding id is left")                 \
    BINDING_ERR(NOT_ACK, "not_ack", "the DHCP message is not an ACK")        \
    BINDING_ERR(NO_YIADDR, "no_yiaddr",                                      \
                "the ACK assigns no address (yiaddr 0.0.0.0)")               \
    BINDING_ERR(NO_LEASE_OPT, "no_lease_option",                             \
                "the ACK carries no lease time (option 51)")                 \
    BINDING_ERR(NO_SERVER_ID, "no_server_id",                                \
                "the ACK carries no server identifier (option 54)")          \
    BINDING_ERR(REC_SHORT, "record_truncated",                               \
                "a binding record is shorter than its header and names")     \
    BINDING_ERR(REC_VERSION, "record_version",                               \
                "a binding record has an unknown version")                   \
    BINDING_ERR(REC_LENGTH, "record_length",                                 \
                "a binding record has bytes after its names")                \
    BINDING_ERR(REC_RESERVED, "record_reserved",                             \
                "a binding record has a nonzero reserved byte")              \
    BINDING_ERR(NO_SPACE, "no_space", "the output buffer is too small")

enum binding_err {
#define BINDING_ERR(ENUM, NAME, MSG) BINDING_E_##ENUM,
    BINDING_ERRORS
#undef BINDING_ERR
    BINDING_N_ERRORS
};
const char *binding_errname(enum binding_err);  /* "mac_conflict" */
const char *binding_strerror(enum binding_err); /* "the MAC is bound ..." */

/* Table 1 "Type": who assigned the address. */
#define BINDING_TYPES                                                        \
    BINDING_TYPE(DYNAMIC, "dynamic") /* a DHCP server, with a lease */       \
    BINDING_TYPE(STATIC, "static")   /* the VM manager, no lease */
enum binding_type {
#define BINDING_TYPE(ENUM, NAME) BINDING_##ENUM,
    BINDING_TYPES
#undef BINDING_TYPE
    BINDING_N_TYPES
};

/* How the binding came to exist (seed FIG. 3, 4, 5). */
#define BINDING_ORIGINS                                                      \
    BINDING_ORIGIN(CONTROLLER, "controller") /* from a reported ACK */       \
    BINDING_ORIGIN(AGENT, "agent")           /* built by the node */         \
    BINDING_ORIGIN(MANAGER, "manager")       /* from the VM manager */
enum binding_origin {
#define BINDING_ORIGIN(ENUM, NAME) BINDING_FROM_##ENUM,
    BINDING_ORIGINS
#undef BINDING_ORIGIN
    BINDING_N_ORIGINS
};

/* Table 1 "Port status". */
#define BINDING_PORT_STATUSES                                                \
    BINDING_PORT_STATUS(UP, "up")                                            \
    BINDING_PORT_STATUS(DOWN, "down")                                        \
    BINDING_PORT_STATUS(DISABLE, "disable")
enum binding_port_status {
#define BINDING_PORT_STATUS(ENUM, NAME) BINDING_PORT_##ENUM,
    BINDING_PORT_STATUSES
#undef BINDING_PORT_STATUS
    BINDING_N_PORT_STATUSES
};

/* Table 1 "Port security" (UNTRUST first: a zeroed binding is filtered). */
#define BINDING_PORT_SECURITIES                                              \
    BINDING_PORT_SECURITY(UNTRUST, "untrust")                                \
    BINDING_PORT_SECURITY(TRUST, "trust")
enum binding_port_security {
#define BINDING_PORT_SECURITY(ENUM, NAME) BINDING_##ENUM,
    BINDING_PORT_SECURITIES
#undef BINDING_PORT_SECURITY
    BINDING_N_PORT_SECURITIES
};

/* Names of the enums above ("?" out of range) and their parsers (false on
 * an unknown name, leaving '*out' unchanged). */
const char *binding_type_name(enum binding_type);
const char *binding_origin_name(enum binding_origin);
const char *binding_port_status_name(enum binding_port_status);
const char *binding_port_security_name(enum binding_port_security);
bool binding_type_parse(const char *, enum binding_type *out);
bool binding_origin_parse(const char *, enum binding_origin *out);
bool binding_port_status_parse(const char *, enum binding_port_status *out);
bool binding_port_security_parse(const char *,
                                 enum binding_port_security *out);

/* One binding (seed 003 Table 1, plus id, origin and DHCP server).
 * Addresses in host byte order. */
struct binding {
    uint32_t id;                        /* 0 = the table chooses */
    char vm[BINDING_NAME_MAX + 1];      /* VM ID */
    char node[BINDING_NAME_MAX + 1];    /* forwarding switch ID */
    uint8_t mac[6];                     /* MAC address */
    uint32_t ip;                        /* IP address */
    uint16_t vlan;                      /* VLAN, 0 = untagged */
    uint32_t port;                      /* OpenFlow port, 0 = the VM's */
    enum binding_type type;             /* Type */
    enum binding_origin origin;
    enum binding_port_status port_status;
    enum binding_port_security port_security;
    uint32_t lease_s;    /* Lease as granted; 0 static; DHCP_LEASE_INFINITE */
    uint64_t expires_ms; /* absolute, on the caller's clock; 0 = never */
    uint32_t server;     /* DHCP server identifier, 0 = none */
};

/* The fields by name, for the API, the CLI and the text form. */
#define BINDING_FIELDS                                                       \
    BINDING_FIELD(ID, "id")                                                  \
    BINDING_FIELD(VM, "vm")                                                  \
    BINDING_FIELD(NODE, "node")                                              \
    BINDING_FIELD(MAC, "mac")                                                \
    BINDING_FIELD(IP, "ip")                                                  \
    BINDING_FIELD(VLAN, "vlan")                                              \
    BINDING_FIELD(PORT, "port")                                              \
    BINDING_FIELD(TYPE, "type")                                              \
    BINDING_FIELD(ORIGIN, "origin")                                          \
    BINDING_FIELD(LEASE, "lease")                                            \
    BINDING_FIELD(EXPIRES, "expires")                                        \
    BINDING_FIELD(SERVER, "server")                                          \
    BINDING_FIELD(PORT_STATUS, "port_status")                                \
    BINDING_FIELD(PORT_SECURITY, "port_security")
enum binding_field {
#define BINDING_FIELD(ENUM, NAME) BINDING_F_##ENUM,
    BINDING_FIELDS
#undef BINDING_FIELD
    BINDING_N_FIELDS
};
const char *binding_field_name(enum binding_field); /* "port_status" */
/* BINDING_N_FIELDS for an unknown name. */
enum binding_field binding_field_lookup(const char *name);

/* Checks every field; the first problem found, in struct order. */
enum binding_err binding_validate(const struct binding *);

/* Sets one field from its text form ("52:54:00:00:00:01", "198.18.0.9",
 * "dynamic", decimal numbers; id 0 = not yet assigned; lease "infinite").
 * Checks the value's syntax and range only
 * (binding_validate() checks the whole).  '*b' unchanged on error. */
enum binding_err binding_field_set(struct binding *b, enum binding_field,
                                   const char *value);
/* Writes one field's text form; returns what snprintf() would. */
int binding_field_format(const struct binding *, enum binding_field,
                         char *buf, size_t len);

/* "id=1 vm=vm1 node=n1 mac=... ip=... vlan=0 port=3 type=dynamic ..."
 * with every field; returns what snprintf() would. */
int binding_format(const struct binding *, char *buf, size_t len);
/* Parses space-separated key=value pairs into '*out'.  vm, node, mac and
 * ip are required; the rest default to a static binding from the manager
 * (id 0, vlan 0, port 0, lease 0, port up, untrust).  Validates the
 * result.  '*out' unchanged on error. */
enum binding_err binding_parse(const char *text, struct binding *out);

/* ---- Compact record (for the store; versioned, big-endian) ---- */
#define BINDING_RECORD_VERSION 1
#define BINDING_RECORD_HDR 44
#define BINDING_RECORD_MAX (BINDING_RECORD_HDR + 2 * BINDING_NAME_MAX)
/* Writes '*b' (which must be valid, with a nonzero id) into 'buf' and its
 * length into '*len'.  BINDING_E_NO_SPACE if 'cap' is short. */
enum binding_err binding_encode(const struct binding *b, void *buf,
                                size_t cap, size_t *len);
/* Reads one record of exactly 'len' bytes; every field is validated, so a
 * decoded binding is as trustworthy as one that passed
 * binding_validate().  '*out' unchanged on error. */
enum binding_err binding_decode(const void *buf, size_t len,
                                struct binding *out);

/* ---- From DHCP ---- */

/* Where a snooped DHCP message was seen and whom it concerns. */
struct binding_ctx {
    const char *vm;   /* the VM behind the port */
    const char *node; /* the node (forwarding switch) that saw it */
    uint32_t port;    /* the VM's OpenFlow port */
    /* The VM's VLAN; BINDING_VLAN_FRAME takes the frame's 802.1Q tag (0
     * when untagged). */
    uint32_t vlan;
    enum binding_origin origin; /* CONTROLLER or AGENT */
    enum binding_port_status port_status;
    enum binding_port_security port_security;
};
#define BINDING_VLAN_FRAME UINT32_MAX

/* Builds the binding a DHCP ACK grants: MAC = chaddr, IP = yiaddr, lease
 * from option 51 (expiry now_ms + lease; never for an infinite lease),
 * server from option 54.  Fails with NOT_ACK, NO_YIADDR (e.g. an ACK to an
 * INFORM), NO_LEASE_OPT, NO_SERVER_ID, BAD_ORIGIN (a manager does not
 * snoop), or any validation error.  '*out' unchanged on error.  The caller
 * must only pass ACKs that entered through a trusted port. */
enum binding_err binding_from_ack(const struct dhcp_msg *ack,
                                  const struct binding_ctx *, uint64_t now_ms,
                                  struct binding *out);

/* ---- Table ---- */

struct binding_table;

struct binding_table *binding_table_create(void);
void binding_table_destroy(struct binding_table *); /* accepts NULL */
size_t binding_table_count(const struct binding_table *);

/* Adds a copy of '*b' (its id if nonzero, else the next free one, stored
 * in '*id' if 'id' is nonnull).  Fails when invalid, or with DUP_ID,
 * VM_BOUND (one binding per VM), MAC_CONFLICT / IP_CONFLICT (the MAC or IP
 * is bound to another VM in the same VLAN), FULL. */
enum binding_err binding_table_add(struct binding_table *,
                                   const struct binding *b, uint32_t *id);
/* Replaces the binding with id b->id by '*b' (same checks as add, against
 * the other bindings). */
enum binding_err binding_table_replace(struct binding_table *,
                                       const struct binding *b);
/* Adds '*b' or replaces the VM's binding (keeping its id; b->id is
 * ignored).  '*id' gets the id, '*created' whether it is new. */
enum binding_err binding_table_put(struct binding_table *,
                                   const struct binding *b, uint32_t *id,
                                   bool *created);
/* What binding_table_put() would answer for '*b', without changing the
 * table. */
enum binding_err binding_table_put_check(const struct binding_table *,
                                         const struct binding *b);
/* Removes binding 'id', copying it to '*old' if nonnull. */
enum binding_err binding_table_delete(struct binding_table *, uint32_t id,
                                      struct binding *old);

/* Lookups, O(1).  The pointer is valid until the table next changes. */
const struct binding *binding_table_get(const struct binding_table *,
                                        uint32_t id);
const struct binding *binding_table_find_vm(const struct binding_table *,
                                            const char *vm);
const struct binding *binding_table_find_mac(const struct binding_table *,
                                             const uint8_t mac[6],
                                             uint16_t vlan);
const struct binding *binding_table_find_ip(const struct binding_table *,
                                            uint32_t ip, uint16_t vlan);
/* Iteration in no particular order: start with '*cursor' = 0; NULL at the
 * end.  The table must not change during an iteration. */
const struct binding *binding_table_next(const struct binding_table *,
                                         uint32_t *cursor);

/* The earliest expiry among bindings that expire; false if none does. */
bool binding_table_next_expiry(const struct binding_table *,
                               uint64_t *due_ms);
/* Removes bindings whose expiry is <= 'now_ms', earliest first, copying
 * up to 'max' of them to 'out'; returns how many were removed (the rest
 * wait for the next call). */
size_t binding_table_expire(struct binding_table *, uint64_t now_ms,
                            struct binding *out, size_t max);

/* What binding_table_snoop() did. */
#define BINDING_ACTIONS                                                      \
    BINDING_ACTION(NONE, "none")                                             \
    BINDING_ACTION(CREATED, "created")                                       \
    BINDING_ACTION(UPDATED, "updated")                                       \
    BINDING_ACTION(REMOVED, "removed")
enum binding_action {
#define BINDING_ACTION(ENUM, NAME) BINDING_ACT_##ENUM,
    BINDING_ACTIONS
#undef BINDING_ACTION
};
const char *binding_action_name(enum binding_action);

/* Applies one snooped DHCP message for ctx->vm (DHCP snooping):
 *  ACK with an address: creates the VM's binding, or renews/replaces its
 *      dynamic one (STATIC_HELD if the VM has a static binding);
 *  RELEASE (ciaddr), DECLINE (requested IP) and NAK: removes the VM's
 *      dynamic binding when its MAC is the message's chaddr (and, for
 *      RELEASE/DECLINE, its IP is the one given up);
 *  anything else: nothing.
 * '*action' and '*result' (the binding created, updated or removed) are
 * set on success; either may be NULL. */
enum binding_err binding_table_snoop(struct binding_table *,
                                     const struct dhcp_msg *,
                                     const struct binding_ctx *,
                                     uint64_t now_ms,
                                     enum binding_action *action,
                                     struct binding *result);

/* ---- Anti-spoofing intent (docs/port-security.md) ---- */

#define BINDING_RULE_KINDS                                                   \
    BINDING_RULE_KIND(DROP_DHCP_SERVER, "drop_dhcp_server")                  \
    BINDING_RULE_KIND(ALLOW_IP, "allow_ip")                                  \
    BINDING_RULE_KIND(ALLOW_ARP, "allow_arp")                                \
    BINDING_RULE_KIND(ALLOW_ARP_PROBE, "allow_arp_probe")                    \
    BINDING_RULE_KIND(ALLOW_DHCP, "allow_dhcp")                              \
    BINDING_RULE_KIND(ALLOW_ALL, "allow_all")                                \
    BINDING_RULE_KIND(DROP_ALL, "drop_all")
enum binding_rule_kind {
#define BINDING_RULE_KIND(ENUM, NAME) BINDING_RULE_##ENUM,
    BINDING_RULE_KINDS
#undef BINDING_RULE_KIND
};
const char *binding_rule_kind_name(enum binding_rule_kind);

/* Which match fields of a rule apply. */
enum {
    BINDING_M_IN_PORT = 1 << 0,
    BINDING_M_ETH_SRC = 1 << 1,
    BINDING_M_ETH_TYPE = 1 << 2,
    BINDING_M_IP_SRC = 1 << 3,
    BINDING_M_IP_PROTO = 1 << 4,
    BINDING_M_UDP_SRC = 1 << 5,
    BINDING_M_UDP_DST = 1 << 6,
    BINDING_M_ARP_SHA = 1 << 7,
    BINDING_M_ARP_SPA = 1 << 8,
};

/* One abstract rule for traffic *from* the VM's port.  'priority' is
 * relative (higher wins); the agent adds its table's base.  DROP rules are
 * counted (the agent reads their flow statistics). */
struct binding_rule {
    enum binding_rule_kind kind;
    bool drop;
    uint16_t priority;
    uint32_t match; /* BINDING_M_* */
    uint32_t in_port;
    uint8_t eth_src[6];
    uint16_t eth_type;
    uint32_t ip_src;
    uint8_t ip_proto;
    uint16_t udp_src, udp_dst;
    uint8_t arp_sha[6];
    uint32_t arp_spa;
};
#define BINDING_MAX_RULES 6

/* The rules that enforce '*b' on OpenFlow port 'port' (the binding's own
 * port when it is nonzero).  Untrusted port: drop DHCP server messages;
 * allow IPv4 with eth_src = MAC and ip_src = IP, ARP with sha = MAC and
 * spa = IP, ARP probes (spa 0.0.0.0) from MAC, DHCP client->server
 * (UDP 68->67) from MAC with ip_src 0.0.0.0; drop everything else.
 * Trusted port: allow everything.  Disabled port: drop everything.
 * Returns the number of rules written to 'out' (0 if no port is known). */
size_t binding_rules(const struct binding *b, uint32_t port,
                     struct binding_rule out[BINDING_MAX_RULES]);
/* The rules for a VM port with no binding yet: only DHCP from 'mac' with
 * ip_src 0.0.0.0 passes, DHCP server messages and the rest are dropped. */
size_t binding_rules_unbound(uint32_t port, const uint8_t mac[6],
                             struct binding_rule out[BINDING_MAX_RULES]);
/* The match in ovs-ofctl syntax ("in_port=3,dl_src=...,dl_type=0x0800,
 * nw_src=..."); returns what snprintf() would. */
int binding_rule_format(const struct binding_rule *, char *buf, size_t len);

#endif /* MIGNET_BINDING_H */
