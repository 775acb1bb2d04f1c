/* rest_views.c: the JSON views of the core's objects that the REST API
 * answers with (a node, a VM, its configuration and binding, a migration).
 * Reads the core and the agent sessions; changes nothing. */
#include "controller/rest_views.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "controller/agent_server.h"
#include "controller/ctl.h"
#include "lib/addr.h"
#include "lib/json.h"
#include "lib/util.h"
#include "mignet/core.h"
#include "mignet/dhcp.h"

/* Sets 'key' of 'obj' to 'v' (taken); no memory is fatal here. */
void
rest_set(json_t *obj, const char *key, json_t *v)
{
    if (!js_set(obj, key, v)) {
        out_of_memory();
    }
}

void
rest_config_json(json_t *obj, const struct mn_config *c)
{
    char mac[ADDR_MAC_STRLEN], ip[ADDR_IPV4_STRLEN];
    addr_format_mac(c->mac, mac);
    addr_format_ipv4(c->ip, ip);
    rest_set(obj, "mac", json_string(mac));
    rest_set(obj, "ip", json_string(ip));
    rest_set(obj, "vni", js_u64(c->vni));
    rest_set(obj, "vlan", js_u64(c->vlan));
    rest_set(obj, "port", js_u64(c->port));
    rest_set(obj, "binding", js_u64(c->binding));
}

/* A binding with every field of seed 003's Table 1 (and its id, origin,
 * DHCP server and absolute expiry). */
json_t *
rest_binding_json(const struct binding *b)
{
    char mac[ADDR_MAC_STRLEN], ip[ADDR_IPV4_STRLEN], srv[ADDR_IPV4_STRLEN];
    addr_format_mac(b->mac, mac);
    addr_format_ipv4(b->ip, ip);
    addr_format_ipv4(b->server, srv);
    json_t *o = json_object();
    rest_set(o, "id", js_u64(b->id));
    rest_set(o, "vm", json_string(b->vm));
    rest_set(o, "node", json_string(b->node));
    rest_set(o, "mac", json_string(mac));
    rest_set(o, "ip", json_string(ip));
    rest_set(o, "vlan", js_u64(b->vlan));
    rest_set(o, "port", js_u64(b->port));
    rest_set(o, "type", json_string(binding_type_name(b->type)));
    rest_set(o, "origin", json_string(binding_origin_name(b->origin)));
    rest_set(o, "lease", b->lease_s == DHCP_LEASE_INFINITE
                             ? json_string("infinite")
                             : js_u64(b->lease_s));
    rest_set(o, "expires_unix_ms", js_time(b->expires_ms));
    rest_set(o, "server", b->server ? json_string(srv) : json_null());
    rest_set(o, "port_status",
             json_string(binding_port_status_name(b->port_status)));
    rest_set(o, "port_security",
             json_string(binding_port_security_name(b->port_security)));
    return o;
}

const char *
rest_node_name(const struct core *core, uint32_t node)
{
    struct core_node_info info;
    return core_node_info(core, node, &info) ? info.name : NULL;
}

struct drain_view {
    const struct core *core;
    json_t *targets;
};

static bool
drain_target_json(void *aux, uint32_t vm, uint32_t target)
{
    struct drain_view *d = aux;
    struct core_vm_info v;
    const char *node = rest_node_name(d->core, target);
    if (core_vm_info(d->core, vm, &v)) {
        rest_set(d->targets, v.name, node ? json_string(node)
                                          : json_null());
    }
    return true;
}

/* A draining node's progress: what is left and where each VM should go
 * (null: no node can take it now). */
static json_t *
drain_json(const struct core *core, uint32_t idx,
           const struct core_node_info *n)
{
    struct drain_view d = {.core = core, .targets = json_object()};
    core_node_vms_walk(core, idx, drain_target_json, &d);
    json_t *o = json_object();
    rest_set(o, "vms_left", js_u64(n->n_vms));
    rest_set(o, "tasks_left", js_u64(n->n_tasks));
    rest_set(o, "cleanups_left", js_u64(core_node_cleanups(core, idx)));
    rest_set(o, "complete", json_boolean(n->state == CORE_NODE_DRAINED));
    rest_set(o, "targets", d.targets);
    return o;
}

json_t *
rest_node_json(struct ctl *ctl, uint32_t idx)
{
    struct core_node_info n;
    if (!core_node_info(ctl->core, idx, &n)) {
        return NULL;
    }
    json_t *o = json_object();
    rest_set(o, "id", json_string(n.name));
    rest_set(o, "address", json_string(n.address));
    rest_set(o, "refresh_ms", js_u64(n.expected_refresh_ms));
    rest_set(o, "state", json_string(core_node_state_name(n.state)));
    rest_set(o, "cordoned", json_boolean(n.cordoned));
    rest_set(o, "draining", json_boolean(n.draining));
    rest_set(o, "drain", n.draining ? drain_json(ctl->core, idx, &n)
                                    : json_null());
    rest_set(o, "connected",
             json_boolean(agent_server_connected(ctl->agents, idx)));
    const char *th = core_node_token_hash(ctl->core, idx);
    rest_set(o, "token_set", json_boolean(th && th[0]));
    rest_set(o, "vms", js_u64(n.n_vms));
    rest_set(o, "tasks", js_u64(n.n_tasks));
    rest_set(o, "map_version", js_u64(n.acked_version));
    rest_set(o, "acked_seq", js_u64(n.acked_seq));
    rest_set(o, "last_seq", js_u64(n.last_seq));
    json_t *r = json_object();
    rest_set(r, "count", js_u64(n.refreshes));
    rest_set(r, "last_unix_ms", js_time(n.last_refresh_ms));
    rest_set(r, "mean_ms", json_real(n.refresh_mean_ms));
    rest_set(r, "dev_ms", json_real(n.refresh_dev_ms));
    rest_set(r, "upper_ms", js_u64(n.refresh_upper_ms));
    rest_set(o, "refresh", r);
    return o;
}

json_t *
rest_vm_json(struct ctl *ctl, uint32_t idx)
{
    struct core_vm_info v;
    if (!core_vm_info(ctl->core, idx, &v)) {
        return NULL;
    }
    const char *node = rest_node_name(ctl->core, v.node);
    json_t *o = json_object();
    rest_set(o, "id", json_string(v.name));
    rest_set(o, "node", node ? json_string(node) : json_null());
    rest_set(o, "iface_id", json_string(v.iface_id));
    rest_config_json(o, &v.config);
    rest_set(o, "epoch", js_u64(v.epoch));
    rest_set(o, "map_version", js_u64(v.map_version));
    rest_set(o, "migration", v.migration ? js_u64(v.migration)
                                          : json_null());
    rest_set(o, "pending_tasks", js_u64(v.n_tasks));
    /* The VM view shows the whole binding where the configuration (and
     * the map) only name it. */
    const struct binding *b = core_binding_get(ctl->core, idx);
    rest_set(o, "binding", b ? rest_binding_json(b) : json_null());
    return o;
}

json_t *
rest_migration_json(struct ctl *ctl, const struct core_migration *m)
{
    json_t *o = json_object();
    /* The names it started with, also once the VM or a node is gone. */
    rest_set(o, "id", js_u64(m->id));
    rest_set(o, "vm", json_string(m->vm_name));
    rest_set(o, "from", json_string(m->src_name));
    rest_set(o, "to", json_string(m->dst_name));
    rest_set(o, "epoch", js_u64(m->epoch));
    rest_set(o, "map_version", js_u64(m->map_version));
    rest_set(o, "phase", json_string(mig_phase_name(m->phase)));
    rest_set(o, "switchover", json_string(mig_switchover_name(m->switchover)));
    rest_set(o, "degraded", json_boolean(m->degraded));
    rest_set(o, "started_unix_ms", js_time(m->started_ms));
    rest_set(o, "prepared_unix_ms", js_time(m->prepared_ms));
    rest_set(o, "switched_unix_ms", js_time(m->switched_ms));
    rest_set(o, "activated_unix_ms", js_time(m->activated_ms));
    rest_set(o, "relaying_unix_ms", js_time(m->relaying_ms));
    rest_set(o, "cleaning_unix_ms", js_time(m->cleaning_ms));
    rest_set(o, "cleaned_unix_ms", js_time(m->cleaned_ms));
    rest_set(o, "aborted_unix_ms", js_time(m->aborted_ms));
    rest_set(o, "prepare_deadline_unix_ms", js_time(m->prepare_deadline_ms));
    rest_set(o, "abort_reason", m->phase == MIG_ABORTED
                                    ? json_string(m->abort_reason)
                                    : json_null());
    rest_set(o, "delay_ms", js_u64(m->delay_ms));
    rest_set(o, "released_early", json_boolean(m->released_early));
    /* The silence hold (docs/mignetd.md): not kept across a restart. */
    rest_set(o, "deletion_held", json_boolean(m->deletion_held));
    rest_set(o, "deletion_forced", json_boolean(m->deletion_forced));
    /* Agents' negative acknowledgements of its instructions (I9). */
    json_t *nacks = json_array();
    for (uint32_t i = 0; i < m->n_nacks && i < CORE_MIG_NACKS_MAX; i++) {
        const struct core_nack *n = &m->nacks[i];
        const char *node = rest_node_name(ctl->core, n->node);
        json_t *e = json_object();
        json_t *oe = json_object();
        rest_set(oe, "type", json_integer(n->ofp_type));
        rest_set(oe, "code", json_integer(n->ofp_code));
        rest_set(e, "node", node ? json_string(node) : json_null());
        rest_set(e, "seq", js_u64(n->seq));
        rest_set(e, "ofp_error", oe);
        json_array_append_new(nacks, e);
    }
    rest_set(o, "nacks", nacks);
    rest_set(o, "nacks_total", js_u64(m->n_nacks));
    return o;
}

json_t *
rest_task_json(struct ctl *ctl, const struct core_task_info *t)
{
    struct core_vm_info v;
    const char *node = rest_node_name(ctl->core, t->node);
    const char *target = t->relay_target != CORE_NONE
                             ? rest_node_name(ctl->core, t->relay_target)
                             : NULL;
    json_t *o = json_object();
    rest_set(o, "id", js_u64(t->id));
    rest_set(o, "vm", core_vm_info(ctl->core, t->vm, &v)
                          ? json_string(v.name)
                          : json_null());
    rest_set(o, "node", node ? json_string(node) : json_null());
    rest_set(o, "epoch", js_u64(t->epoch));
    rest_set(o, "kind", json_string(task_kind_name(t->kind)));
    /* A deletion waiting for its migration to relay has no due time yet
     * (UINT64_MAX). */
    rest_set(o, "due_unix_ms", t->due_ms == UINT64_MAX ? json_null()
                                                       : js_u64(t->due_ms));
    /* A lease belongs to no migration: null, like every absent value. */
    rest_set(o, "migration", t->migration ? js_u64(t->migration)
                                          : json_null());
    rest_set(o, "relay_target", target ? json_string(target)
                                       : json_null());
    return o;
}
