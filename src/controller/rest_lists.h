/* rest_lists.h: the REST API's lists with filters and pagination
 * (GET /v1/nodes, /v1/vms, /v1/bindings, /v1/tasks, /v1/migrations). */
#ifndef MIGNET_REST_LISTS_H
#define MIGNET_REST_LISTS_H 1

#include <stdbool.h>

#include <jansson.h>

#include "controller/rest_parse.h"

struct ctl;

/* The answer of GET on the list 'route' with 'query' (may be NULL):
 * true with '*out' (owned by the caller), or false with 'e' (400
 * bad_query: an unknown or malformed parameter). */
bool rest_list_answer(struct ctl *, enum rest_route_id route,
                      const char *query, json_t **out, struct rest_error *e);

#endif /* MIGNET_REST_LISTS_H */
