/* simjson.h: small jansson helpers for the simulators' one-object JSON
 * output ({"params": {...}, "results": [...]}).
 *
 * Every constructor may fail (NULL); these helpers turn that into an
 * error code instead of a crash, and never print a partial object. */
#ifndef MIGNET_SIM_SIMJSON_H
#define MIGNET_SIM_SIMJSON_H 1

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Sets 'key' of 'obj' to 'v' (taking it); -1 when 'v' is NULL. */
int sim_json_set(json_t *obj, const char *key, json_t *v);
/* 'obj', or NULL (and 'obj' freed) when 'failed'. */
json_t *sim_json_finish(json_t *obj, int failed);
/* An integer, or a decimal string above INT64_MAX (JSON integers are
 * signed 64-bit in jansson). */
json_t *sim_json_u64(uint64_t);
/* Milliseconds rounded to the microsecond; null when not finite. */
json_t *sim_json_ms(double ms);
/* Prints {"params": params, "results": results} on one line.  Takes both
 * (either may be NULL: then ENOMEM).  Returns 0 or ENOMEM. */
int sim_json_print(FILE *, json_t *params, json_t *results);

#endif /* MIGNET_SIM_SIMJSON_H */
