/* fuzz_rest_json.c: libFuzzer target for the northbound request parsing.
 *
 * The first byte picks what the rest of the input is fed to: a node, VM,
 * patch, migrate, binding, abort/switch-over or drain body, a map,
 * list or node-delete query, or a route path; each result is checked for
 * consistency (valid output on success, a known status and code on
 * failure, nothing written by a failed parse).  It must never crash, leak
 * or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/rest_parse.h"
#include "lib/addr.h"
#include "mignet/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_error(const struct rest_error *e)
{
    static const int ok[] = {400, 404, 405, 413, 415, 422};
    bool known = false;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        known |= e->status == ok[i];
    }
    if (!known || !e->code || !e->code[0] || !e->message[0]) {
        abort();
    }
}

static void
check_config(const struct mn_config *c)
{
    /* IP 0.0.0.0: not given (DHCP assigns one); bindings are never set
     * through a VM body. */
    if (!rest_mac_valid(c->mac) || (c->ip && !rest_ip_valid(c->ip))
        || c->vni > REST_VNI_MAX || c->vlan > REST_VLAN_MAX
        || c->port > REST_PORT_MAX || c->binding) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const char *body = (const char *) data + 1;
    size_t len = size - 1;
    struct rest_error e = {0};

    /* NUL-terminated copy for the string-based parsers. */
    char *str = malloc(len + 1);
    if (!str) {
        return 0;
    }
    memcpy(str, body, len);
    str[len] = '\0';

    switch (data[0] % 10) {
    case 0: {
        struct rest_node_req r;
        if (rest_parse_node(body, len, &r, &e)) {
            if (!mn_name_valid(r.id) || !r.address[0]
                || r.refresh_ms < REST_REFRESH_MIN_MS
                || r.refresh_ms > REST_REFRESH_MAX_MS) {
                abort();
            }
        } else {
            check_error(&e);
        }
        break;
    }
    case 1: {
        struct rest_vm_req r;
        if (rest_parse_vm_create(body, len, &r, &e)) {
            if (!mn_name_valid(r.id) || !mn_name_valid(r.node)
                || (r.iface_id[0] && !mn_name_valid(r.iface_id))) {
                abort();
            }
            check_config(&r.config);
        } else {
            check_error(&e);
        }
        break;
    }
    case 2: {
        const struct mn_config orig = {
            .mac = {2, 0, 0, 0, 0, 1}, .ip = 0xc6120101u, .vni = 1,
        };
        struct mn_config c = orig;
        if (rest_parse_vm_patch(body, len, &c, NULL, &e)) {
            check_config(&c);
        } else {
            check_error(&e);
            if (memcmp(&c, &orig, sizeof c)) {
                abort(); /* a refused patch changed something */
            }
        }
        break;
    }
    case 3: {
        struct rest_migrate_req r;
        if (rest_parse_migrate(body, len, &r, &e)) {
            const struct rest_plan_fields *pf = &r.plan;
            if (!mn_name_valid(r.to)
                || (r.from[0] && !mn_name_valid(r.from))
                || pf->memory_mb > REST_MEMORY_MB_MAX
                || (!pf->memory_mb
                    && (pf->dirty_pages_per_s || pf->page_size
                        || pf->deadline_ms))
                || !(pf->dirty_pages_per_s >= 0
                     && pf->dirty_pages_per_s <= REST_DIRTY_RATE_MAX)
                || (pf->page_size & (pf->page_size - 1))
                || pf->deadline_ms > REST_DEADLINE_MS_MAX
                || (pf->has_cpu && !(pf->target_cpu_free >= 0
                                     && pf->target_cpu_free <= 1))
                || (unsigned) pf->strategy >= ROUTE_N_STRATEGIES
                || (unsigned) r.switchover >= MIG_N_SWITCHOVERS
                || (r.prepare_deadline_ms
                    && (r.switchover == MIG_SW_NOW
                        || r.prepare_deadline_ms
                               < CORE_PREPARE_DEADLINE_MIN_MS
                        || r.prepare_deadline_ms
                               > CORE_PREPARE_DEADLINE_MAX_MS))) {
                abort();
            }
        } else {
            check_error(&e);
        }
        break;
    }
    case 4: {
        /* "query\nheader" */
        char *nl = strchr(str, '\n');
        const char *header = NULL;
        if (nl) {
            *nl = '\0';
            header = nl + 1;
        }
        struct rest_map_query q;
        if (rest_parse_map_query(str, header, &q, &e)) {
            if (q.node[0] && !mn_name_valid(q.node)) {
                abort();
            }
        } else {
            check_error(&e);
        }
        break;
    }
    case 5: {
        struct rest_binding_req r;
        memset(&r, 0x5a, sizeof r);
        struct rest_binding_req orig = r;
        if (rest_parse_binding(body, len, &r, &e)) {
            /* Every value passed its field's check; what is left for the
             * core is the whole (and the VM's own values). */
            if (!r.b.ip || r.b.origin != BINDING_FROM_MANAGER
                || (unsigned) r.b.type >= BINDING_N_TYPES
                || r.b.vlan > BINDING_VLAN_MAX
                || r.b.port > BINDING_PORT_MAX || r.b.vm[0]) {
                abort();
            }
        } else {
            check_error(&e);
            if (memcmp(&r, &orig, sizeof r)) {
                abort(); /* a refused body wrote its output */
            }
        }
        break;
    }
    case 6: {
        /* The two action bodies: abort's and switch-over's. */
        struct rest_abort_req r;
        memset(&r, 0x5a, sizeof r);
        struct rest_abort_req orig = r;
        if (rest_parse_abort(body, len, &r, &e)) {
            size_t n = strnlen(r.reason, sizeof r.reason);
            if (n >= sizeof r.reason) {
                abort();
            }
            for (size_t i = 0; i < n; i++) {
                if (r.reason[i] < 0x20 || r.reason[i] >= 0x7f) {
                    abort();
                }
            }
        } else {
            check_error(&e);
            if (memcmp(&r, &orig, sizeof r)) {
                abort();
            }
        }
        if (!rest_parse_switchover(body, len, &e)) {
            check_error(&e);
        } else if (len && body[0] != '{' && body[0] != ' '
                   && body[0] != '\t' && body[0] != '\n'
                   && body[0] != '\r') {
            abort(); /* only an empty body or an object is a switch-over */
        }
        break;
    }
    case 7: {
        /* POST /v1/nodes/{id}/drain (cordon's empty body too). */
        struct rest_drain_req r;
        if (rest_parse_drain(body, len, &r, &e)) {
            for (size_t i = 0; i < r.n_targets; i++) {
                if (!mn_name_valid(r.targets[i].vm)
                    || !mn_name_valid(r.targets[i].node)) {
                    abort();
                }
            }
            rest_drain_req_destroy(&r);
        } else {
            check_error(&e);
            if (r.targets || r.n_targets) {
                abort(); /* a refused body kept targets */
            }
        }
        if (!rest_parse_empty_body(body, len, &e)) {
            check_error(&e);
        }
        break;
    }
    case 8: {
        if (data[0] & 2) {
            /* A list's query, with some of the filters allowed. */
            struct rest_list_query q;
            memset(&q, 0x5a, sizeof q);
            unsigned allowed = (unsigned) (data[0] >> 2) & 7u;
            if (rest_parse_list_query(str, allowed, &q, &e)) {
                if (q.limit > REST_LIMIT_MAX
                    || (q.marker[0] && !mn_name_valid(q.marker))
                    || (q.node[0] && (!(allowed & REST_Q_NODE)
                                      || !mn_name_valid(q.node)))
                    || (q.vm[0] && (!(allowed & REST_Q_VM)
                                    || !mn_name_valid(q.vm)))
                    || (q.has_phase && (!(allowed & REST_Q_PHASE)
                                        || (unsigned) q.phase
                                               >= MIG_N_PHASES))) {
                    abort();
                }
            } else {
                check_error(&e);
                if (q.limit != 0x5a5a5a5au) {
                    abort(); /* a refused query wrote nothing */
                }
            }
            break;
        }
        bool force = data[0] & 1;
        bool orig = force;
        if (!rest_parse_node_delete_query(str, &force, &e)) {
            check_error(&e);
            if (force != orig) {
                abort();
            }
        }
        break;
    }
    default: {
        struct rest_route r;
        enum rest_method m = (enum rest_method) (data[0] / 8 % 6);
        if (rest_route_match(m, str, &r, &e)) {
            if (r.name[0] && !mn_name_valid(r.name)) {
                abort();
            }
        } else {
            check_error(&e);
            if ((e.status == 405) != (e.allow != NULL)) {
                abort(); /* a 405, and only a 405, names Allow */
            }
        }
        break;
    }
    }
    free(str);
    return 0;
}
