/* binding_snoop.c: DHCP snooping (see mignet/binding.h): the binding a
 * DHCP ACK grants, and what one snooped DHCP message does to the VM's
 * binding in a table.
 *
 * It reads messages lib's dhcp.c has already parsed and changes the table
 * only through binding_table_*(); it never parses packets, reads a clock
 * or does I/O. */
#include "mignet/binding.h"

#include <stdio.h>
#include <string.h>

#include "mignet/dhcp.h"
#include "mignet/model.h"

enum binding_err
binding_from_ack(const struct dhcp_msg *m, const struct binding_ctx *ctx,
                 uint64_t now_ms, struct binding *out)
{
    struct binding b;

    memset(&b, 0, sizeof b);
    if (m->type != DHCP_ACK) {
        return BINDING_E_NOT_ACK;
    }
    if (!m->yiaddr) {
        return BINDING_E_NO_YIADDR;
    }
    if (!dhcp_msg_has(m, DHCP_OPT_LEASE_TIME)) {
        return BINDING_E_NO_LEASE_OPT;
    }
    if (!dhcp_msg_has(m, DHCP_OPT_SERVER_ID)) {
        return BINDING_E_NO_SERVER_ID;
    }
    if (ctx->origin != BINDING_FROM_CONTROLLER
        && ctx->origin != BINDING_FROM_AGENT) {
        return BINDING_E_BAD_ORIGIN;
    }
    if (!ctx->vm || !mn_name_valid(ctx->vm)) {
        return BINDING_E_BAD_VM;
    }
    if (!ctx->node || !mn_name_valid(ctx->node)) {
        return BINDING_E_BAD_NODE;
    }
    uint32_t vlan = ctx->vlan == BINDING_VLAN_FRAME
                        ? (m->vlan_tagged ? m->vlan : 0)
                        : ctx->vlan;
    if (vlan > BINDING_VLAN_MAX) {
        return BINDING_E_BAD_VLAN;
    }
    if (m->lease_s == 0) {
        return BINDING_E_BAD_LEASE;
    }
    if (m->lease_s != DHCP_LEASE_INFINITE) {
        uint64_t ms = (uint64_t) m->lease_s * 1000;
        if (now_ms > UINT64_MAX - ms) {
            return BINDING_E_BAD_LEASE;
        }
        b.expires_ms = now_ms + ms;
    }
    snprintf(b.vm, sizeof b.vm, "%s", ctx->vm);
    snprintf(b.node, sizeof b.node, "%s", ctx->node);
    memcpy(b.mac, m->chaddr, sizeof b.mac);
    b.ip = m->yiaddr;
    b.vlan = (uint16_t) vlan;
    b.port = ctx->port;
    b.type = BINDING_DYNAMIC;
    b.origin = ctx->origin;
    b.port_status = ctx->port_status;
    b.port_security = ctx->port_security;
    b.lease_s = m->lease_s;
    b.server = m->server_id;
    enum binding_err e = binding_validate(&b);
    if (!e) {
        *out = b;
    }
    return e;
}

/* The VM's dynamic binding if it is for 'mac' (and 'ip', unless 0). */
static const struct binding *
snoop_own(const struct binding_table *t, const char *vm,
          const uint8_t mac[6], uint32_t ip)
{
    const struct binding *b = binding_table_find_vm(t, vm);
    if (!b || b->type != BINDING_DYNAMIC || memcmp(b->mac, mac, 6)
        || (ip && b->ip != ip)) {
        return NULL;
    }
    return b;
}

enum binding_err
binding_table_snoop(struct binding_table *t, const struct dhcp_msg *m,
                    const struct binding_ctx *ctx, uint64_t now_ms,
                    enum binding_action *action, struct binding *result)
{
    enum binding_action act = BINDING_ACT_NONE;
    struct binding nb;
    const struct binding *own = NULL;
    enum binding_err e;
    bool created;

    memset(&nb, 0, sizeof nb);
    if (!ctx->vm || !mn_name_valid(ctx->vm)) {
        return BINDING_E_BAD_VM;
    }
    switch (m->type) {
    case DHCP_ACK:
        if (!m->yiaddr) {
            break; /* an ACK to an INFORM grants nothing */
        }
        if ((e = binding_from_ack(m, ctx, now_ms, &nb))) {
            return e;
        }
        own = binding_table_find_vm(t, ctx->vm);
        if (own && own->type == BINDING_STATIC) {
            return BINDING_E_STATIC_HELD;
        }
        if ((e = binding_table_put(t, &nb, &nb.id, &created))) {
            return e;
        }
        act = created ? BINDING_ACT_CREATED : BINDING_ACT_UPDATED;
        break;
    case DHCP_RELEASE:
        if (m->ciaddr) {
            own = snoop_own(t, ctx->vm, m->chaddr, m->ciaddr);
        }
        break;
    case DHCP_DECLINE:
        if (dhcp_msg_has(m, DHCP_OPT_REQUESTED_IP) && m->requested_ip) {
            own = snoop_own(t, ctx->vm, m->chaddr, m->requested_ip);
        }
        break;
    case DHCP_NAK:
        own = snoop_own(t, ctx->vm, m->chaddr, 0);
        break;
    default:
        break;
    }
    if (act == BINDING_ACT_NONE && own) {
        binding_table_delete(t, own->id, &nb);
        act = BINDING_ACT_REMOVED;
    }
    if (action) {
        *action = act;
    }
    if (result && act != BINDING_ACT_NONE) {
        *result = nb;
    }
    return BINDING_E_OK;
}
