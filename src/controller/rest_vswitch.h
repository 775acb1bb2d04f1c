/* rest_vswitch.h: the REST resources of tenant virtual switches
 * (/v1/vswitches, docs/vswitch.md, docs/api.yaml).  Parses with
 * rest_parse.c, checks with the core and the vnet layer, changes through
 * vnet_ctl.c; rest.c sends what it answers. */
#ifndef MIGNET_CONTROLLER_REST_VSWITCH_H
#define MIGNET_CONTROLLER_REST_VSWITCH_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "controller/rest_parse.h"

struct ctl;

/* One request to a REST_R_VSWITCH* route.  On success sets '*status'
 * (200, 201, 202 or 204), '*out' (NULL for 204) and 'location' ("" when
 * none); on failure fills 'e'. */
bool rest_vswitch_handle(struct ctl *, const struct rest_route *,
                         const char *body, size_t len, int *status,
                         json_t **out, char *location, size_t location_len,
                         struct rest_error *e);

/* The virtual switch VM 'vm' is a port of, or NULL: such a VM keeps its
 * VNI and MAC and is not deleted (409 vm_in_vswitch). */
const char *rest_vswitch_of_vm(struct ctl *, const char *vm);

/* At start, once the core is loaded and the vnet layer exists: adds every
 * switch the store holds (STORE_VSWITCH records) as a POST would, with
 * the VMs' MACs from the core; a port whose VM is gone (or has another
 * VNI) is logged and left out, and the record rewritten (and committed)
 * without it.  A
 * record that does not parse, or a switch that cannot be added any more,
 * stops the start: 'err' says which and why.  Sets '*n' to the switches
 * added.  0 or errno. */
int rest_vswitch_load(struct ctl *, size_t *n, char *err, size_t errlen);

#endif /* MIGNET_CONTROLLER_REST_VSWITCH_H */
