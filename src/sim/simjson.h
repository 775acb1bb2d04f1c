/* simjson.h: the simulators' one JSON object on stdout,
 * {"params": {...}, "results": [...]}, for `mignet sim` and
 * `mignet sim --fabric` alike.
 *
 * The objects are built with lib/json.h; this only prints them, whole or
 * not at all. */
#ifndef MIGNET_SIM_SIMJSON_H
#define MIGNET_SIM_SIMJSON_H 1

#include <stdio.h>

#include <jansson.h>

/* Prints {"params": params, "results": results} on one line.  Takes both
 * (either may be NULL: then ENOMEM).  Returns 0 or ENOMEM. */
int sim_json_print(FILE *, json_t *params, json_t *results);

#endif /* MIGNET_SIM_SIMJSON_H */
