/* agent_snoop.c: port security in mignet-agent (seed 003).
 *
 * DHCP server messages punted from trusted ports are sent up to mignetd
 * (FIG. 3) or turned into bindings here (FIG. 4); a snooped binding is
 * enforced until mignetd holds it or refuses it, or its lease ends.  It
 * never builds a binding for a VM that is not placed on this node.  Part
 * of the sans-I/O core (agent_core.h): its clocks are the core's. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/pipeline.h"
#include "lib/log.h"
#include "mignet/binding.h"
#include "mignet/dhcp.h"
#include "mignet/ofp.h"

/* The held, local entry of the VM whose MAC is 'mac', or NULL. */
static const struct chan_entry *
local_entry_by_mac(const struct agent_core *a, const uint8_t mac[6])
{
    size_t n = chan_client_n_entries(a->chan);
    for (size_t i = 0; i < n; i++) {
        const struct chan_entry *e = chan_client_entry(a->chan, i);
        if (!e->relay && !memcmp(e->config.mac, mac, 6)) {
            return e;
        }
    }
    return NULL;
}

/* The binding enforced for a held entry: the controller's, or one this
 * agent snooped and the controller has not confirmed yet. */
const struct binding *
agent_entry_binding(const struct agent_core *a, const struct chan_entry *e)
{
    const struct binding *local =
        e->relay ? NULL : binding_table_find_vm(a->snooped, e->vm);
    if (local) {
        return local;
    }
    return e->has_binding ? &e->binding : NULL;
}

/* Drops snooped bindings the controller now holds (same MAC and IP),
 * whose VM is no longer placed here, or whose lease ended. */
void
agent_snooped_prune(struct agent_core *a)
{
    uint32_t cursor = 0, drop[64];
    size_t n_drop = 0;
    uint64_t now = agent_core_wall_ms(a);
    for (const struct binding *b;
         n_drop < 64 && (b = binding_table_next(a->snooped, &cursor));) {
        const struct chan_entry *e = chan_client_find(a->chan, b->vm);
        if (!e || e->relay
            || (e->has_binding && e->binding.ip == b->ip
                && !memcmp(e->binding.mac, b->mac, 6))
            || (b->expires_ms && b->expires_ms <= now)) {
            drop[n_drop++] = b->id;
        }
    }
    for (size_t i = 0; i < n_drop; i++) {
        const struct binding *b = binding_table_get(a->snooped, drop[i]);
        if (b) {
            vm_changes_add(&a->changed, b->vm);
        }
        binding_table_delete(a->snooped, drop[i], NULL);
    }
}

/* FIG. 4: this agent turns the server's message into the VM's binding,
 * enforces it at once and reports it to mignetd. */
static void
snoop_here(struct agent_core *a, const struct dhcp_msg *d)
{
    const struct chan_entry *e = local_entry_by_mac(a, d->chaddr);
    if (!e) {
        return; /* not a VM placed here */
    }
    const struct binding *cur = agent_entry_binding(a, e);
    struct binding_table *scratch = binding_table_create();
    enum binding_err be = BINDING_E_OK;
    if (cur) {
        struct binding c = *cur;
        c.id = 1;
        be = binding_table_add(scratch, &c, NULL);
    }
    struct binding_ctx ctx = {
        .vm = e->vm,
        .node = a->opt.node,
        .port = e->config.port,
        .vlan = e->config.vlan,
        .origin = BINDING_FROM_AGENT,
        .port_status = cur ? cur->port_status : BINDING_PORT_UP,
        .port_security = cur ? cur->port_security : BINDING_UNTRUST,
    };
    enum binding_action act = BINDING_ACT_NONE;
    struct binding nb;
    if (!be) {
        be = binding_table_snoop(scratch, d, &ctx, agent_core_wall_ms(a), &act, &nb);
    }
    binding_table_destroy(scratch);
    if (be) {
        a->dhcp_bad++;
        log_write(LOG_WARN, "agent", "event=snoop_refused node=%s vm=%s "
                  "err=%s", a->opt.node, e->vm, binding_errname(be));
        return;
    }
    if (act == BINDING_ACT_NONE) {
        return;
    }
    const struct binding *old = binding_table_find_vm(a->snooped, e->vm);
    if (old) {
        binding_table_delete(a->snooped, old->id, NULL);
    }
    if (act != BINDING_ACT_REMOVED
        && (be = binding_table_add(a->snooped, &nb, NULL))) {
        log_write(LOG_WARN, "agent", "event=snoop_refused node=%s vm=%s "
                  "err=%s", a->opt.node, e->vm, binding_errname(be));
    }
    a->bindings_snooped++;
    vm_changes_add(&a->changed, e->vm);
    struct chan_msg m;
    chan_msg_init(&m, CHAN_BINDING);
    snprintf(m.vm, sizeof m.vm, "%s", e->vm);
    m.action = act;
    m.has_binding = true;
    m.binding = nb;
    chan_client_send(a->chan, &m, agent_core_ms(a), &a->chan_out);
    agent_schedule_sync(a);
}

void
agent_packet_in(struct agent_core *a, const struct ofp_packet_in *pi)
{
    uint64_t port = 0, mask;
    if ((pi->cookie & PL_COOKIE_KIND_MASK) != pl_cookie_kind(PL_K_PORTSEC)
        || !ofp_match_get(&pi->match, OFP_F_IN_PORT, &port, &mask)
        || a->opt.dhcp_snoop == AGENT_SNOOP_OFF) {
        return;
    }
    a->dhcp_punts++;
    struct dhcp_msg d;
    enum dhcp_err de = dhcp_parse_frame(pi->data, pi->data_len, 0, &d);
    if (!de && d.type == DHCP_ACK && d.yiaddr
        && a->n_pend < MAX_PENDING_ACKS) {
        struct pending_ack *p = &a->pend[a->n_pend++];
        memset(p, 0, sizeof *p);
        memcpy(p->mac, d.chaddr, 6);
        p->ip = d.yiaddr;
        p->t0_us = a->now_us;
    }
    if (a->opt.dhcp_snoop == AGENT_SNOOP_CONTROLLER) {
        /* FIG. 3: the controller parses and decides; send what came. */
        if (!pi->data_len || pi->data_len > CHAN_FRAME_MAX) {
            a->dhcp_bad++;
            return;
        }
        struct chan_msg m;
        chan_msg_init(&m, CHAN_DHCP);
        m.port = (uint32_t) port;
        memcpy(m.frame, pi->data, pi->data_len);
        m.frame_len = pi->data_len;
        if (chan_client_send(a->chan, &m, agent_core_ms(a), &a->chan_out)) {
            a->dhcp_sent++;
        }
        } else if (de) {
        a->dhcp_bad++;
        log_write(LOG_INF, "agent", "event=bad_dhcp node=%s port=%" PRIu64
                  " err=%s", a->opt.node, port, dhcp_errname(de));
    } else {
        snoop_here(a, &d);
    }
}
