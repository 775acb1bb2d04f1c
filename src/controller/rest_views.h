/* rest_views.h: the JSON views of the core's objects in REST answers
 * (docs/api.yaml).  Every constructor returns a new object the caller
 * owns; out of memory aborts (util.h). */
#ifndef MIGNET_REST_VIEWS_H
#define MIGNET_REST_VIEWS_H 1

#include <stdint.h>

#include <jansson.h>

struct binding;
struct core;
struct core_migration;
struct ctl;
struct mn_config;

/* Sets 'key' of 'obj' to 'v' (taken); no memory is fatal here. */
void rest_set(json_t *obj, const char *key, json_t *v);
/* mac, ip, vni, vlan, port and binding of 'c', into 'obj'. */
void rest_config_json(json_t *obj, const struct mn_config *c);
json_t *rest_binding_json(const struct binding *);
/* The node's name, or NULL when 'node' is not a live node. */
const char *rest_node_name(const struct core *, uint32_t node);
json_t *rest_node_json(struct ctl *, uint32_t node);
json_t *rest_vm_json(struct ctl *, uint32_t vm);
json_t *rest_migration_json(struct ctl *, const struct core_migration *);
struct core_task_info;
json_t *rest_task_json(struct ctl *, const struct core_task_info *);

#endif /* MIGNET_REST_VIEWS_H */
