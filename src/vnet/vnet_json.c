/* vnet_json.c: a virtual switch as JSON, for mignetd's REST answers
 * (GET /v1/vswitches/{id}, .../flows).  Read-only: builds a tree from the
 * switch's state and changes nothing. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/json.h"
#include "vnet/vnet_private.h"

static json_t *
port_json(const struct vport *p)
{
    char mac[18];
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", p->mac[0],
             p->mac[1], p->mac[2], p->mac[3], p->mac[4], p->mac[5]);
    json_t *o = json_object();
    bool ok = o && js_set(o, "port", js_u64(p->port))
              && js_set(o, "vm", json_string(p->vm))
              && js_set(o, "mac", json_string(mac))
              && js_set(o, "key", js_u64(p->key))
              && js_set(o, "node", p->node[0] ? json_string(p->node)
                                              : json_null())
              && js_set(o, "rx_packets", js_u64(p->rx_packets))
              && js_set(o, "rx_bytes", js_u64(p->rx_bytes))
              && js_set(o, "tx_packets", js_u64(p->tx_packets))
              && js_set(o, "tx_bytes", js_u64(p->tx_bytes));
    return js_finish(o, ok);
}

/* A malloc'd string as a JSON string (NULL -> null); frees it. */
static json_t *
take_string(char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

static json_t *
flow_json(const struct vflow *f, int64_t now_ms)
{
    json_t *o = json_object();
    int64_t age = now_ms > f->created_ms ? now_ms - f->created_ms : 0;
    bool ok = o && js_set(o, "id", js_u64(f->fid))
              && js_set(o, "priority", js_u64(f->priority))
              && js_set(o, "cookie", js_hex64(f->cookie))
              && js_set(o, "match",
                        take_string(ofp_match_to_string(&f->match)))
              && js_set(o, "actions",
                        take_string(ofp_instructions_to_string(&f->insts)))
              && js_set(o, "packets", js_u64(f->packets))
              && js_set(o, "bytes", js_u64(f->bytes))
              && js_set(o, "duration_ms", js_u64((uint64_t)age))
              && js_set(o, "idle_timeout", js_u64(f->idle_timeout))
              && js_set(o, "hard_timeout", js_u64(f->hard_timeout));
    return js_finish(o, ok);
}

static bool
add_arrays(json_t *o, const struct vswitch *s, bool with_flows,
           int64_t now_ms)
{
    json_t *nodes = json_array(), *ports = json_array();
    bool ok = nodes && ports;
    for (size_t i = 0; ok && i < s->n_nodes; i++) {
        ok = js_append(nodes, json_string(s->nodes[i].name));
    }
    for (size_t i = 0; ok && i < s->n_ports; i++) {
        ok = js_append(ports, port_json(&s->ports[i]));
    }
    ok = js_set(o, "nodes", nodes) && js_set(o, "ports", ports) && ok;
    if (ok && with_flows) {
        json_t *flows = json_array();
        for (size_t i = 0; flows && ok && i < s->n_flows; i++) {
            ok = js_append(flows, flow_json(&s->flows[i], now_ms));
        }
        ok = js_set(o, "flows", flows) && ok;
    }
    return ok;
}

json_t *
vnet_switch_to_json(const struct vnet *v, const char *vs, bool with_flows,
                    int64_t now_ms)
{
    const struct vswitch *s = vnet_find(v, vs);
    struct vnet_switch_info info;
    if (!s || !vnet_switch_info(v, vs, &info)) {
        return NULL;
    }
    json_t *o = json_object();
    bool ok = o && js_set(o, "id", json_string(s->def.id))
              && js_set(o, "tenant", json_string(s->def.tenant))
              && js_set(o, "vni", js_u64(s->def.vni))
              && js_set(o, "datapath_id", js_hex64(s->def.datapath_id))
              && js_set(o, "controller", json_string(s->def.controller))
              && js_set(o, "connected", json_boolean(info.tenant_ready))
              && js_set(o, "active", js_u64(s->active))
              && js_set(o, "split", json_boolean(s->split))
              && js_set(o, "update_pending",
                        json_boolean(info.update_pending))
              && js_set(o, "n_flows", js_u64(s->n_flows))
              && add_arrays(o, s, with_flows, now_ms);
    return js_finish(o, ok);
}
