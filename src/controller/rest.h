/* rest.h: mignetd's northbound HTTP server (REST API, gateway, metrics).
 *
 * Serves docs/api.yaml with libevent's evhttp.  Requests are validated by
 * rest_parse before the core sees them; answers are queued with
 * ctl_reply() so they leave only after the batch's store commit. */
#ifndef MIGNET_CONTROLLER_REST_H
#define MIGNET_CONTROLLER_REST_H 1

#include <stddef.h>

#include "lib/log.h"

struct ctl;
struct rest;
struct rest_auth;

/* Starts serving on opts.listen; writes the bound address to
 * ctl->rest_addr.  On error returns NULL with a message in 'err'. */
struct rest *rest_create(struct ctl *, char *err, size_t errlen);
/* The access log's level (--access-log-level), for SIGHUP's reload. */
void rest_set_access_level(enum log_level);
/* The API's authentication gate, for SIGHUP's token reload. */
struct rest_auth *rest_get_auth(struct rest *);
/* Stops listening and closes connections.  Accepts NULL. */
void rest_destroy(struct rest *);

#endif /* MIGNET_CONTROLLER_REST_H */
