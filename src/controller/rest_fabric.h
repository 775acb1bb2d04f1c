/* rest_fabric.h: the fabric's northbound views (GET /v1/fabric, a
 * migration's "plan", the fabric's /metrics lines) and the translation of
 * REST's plan fields and the fabric's refusals.
 *
 * It only reads the fabric through fabric_ctl.h's views: it never changes
 * the fabric, and nothing in the fabric includes it. */
#ifndef MIGNET_CONTROLLER_REST_FABRIC_H
#define MIGNET_CONTROLLER_REST_FABRIC_H 1

#include <stdint.h>

#include <jansson.h>

#include "controller/fabric_ctl.h"

struct rest_error;
struct rest_plan_fields;
struct strbuf;

/* The fabric's request struct from the migrate request's plan fields. */
void rest_fabric_input(const struct rest_plan_fields *,
                       struct fabric_plan_input *);
/* Fills 'e' from a planning refusal (409 no_fabric / no_route /
 * fabric_busy, 422 not_in_fabric / invalid_address / invalid_value, 500
 * no_memory) and the fabric's sentence. */
void rest_fabric_error(struct rest_error *e, enum fabric_plan_err,
                       const char *msg);

/* The plan of 'migration' (a new reference), or NULL if it has none. */
json_t *rest_fabric_plan_json(const struct fabric_ctl *, uint64_t migration);
/* GET /v1/fabric: switches, hosts, links with weights, what LLDP found.
 * Rebuilds the model first if it changed. */
json_t *rest_fabric_json(struct fabric_ctl *);
/* Appends the fabric's metrics.  0 or ENOMEM. */
int rest_fabric_metrics(const struct fabric_ctl *, struct strbuf *);

#endif /* controller/rest_fabric.h */
