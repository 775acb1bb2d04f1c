/* rest_auth.h: who may call the northbound API (bearer tokens and roles).
 *
 * Reads the --api-tokens file (lines "ROLE TOKEN [NAME]"), says which role
 * each route needs, and decides a request from its Authorization header:
 * pass, 401 or 403.  Parsing and the route table are pure functions, unit
 * tested and fuzzed; tokens are compared in constant time. */
#ifndef MIGNET_CONTROLLER_REST_AUTH_H
#define MIGNET_CONTROLLER_REST_AUTH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rest_error;
struct rest_route;
struct strbuf;

/* Roles, weakest first: each includes what those before it may do. */
#define REST_ROLES                                                           \
    REST_ROLE(NONE, "none")     /* open: /healthz */                         \
    REST_ROLE(NODE, "node")     /* a node's own token: GET /v1/map only */   \
    REST_ROLE(READER, "reader") /* every GET */                              \
    REST_ROLE(VMM, "vmm")       /* + VMs, migrations, bindings */            \
    REST_ROLE(ADMIN, "admin")   /* + nodes, options, fabric, tokens */
enum rest_role {
#define REST_ROLE(ENUM, NAME) REST_ROLE_##ENUM,
    REST_ROLES
#undef REST_ROLE
};
const char *rest_role_name(enum rest_role);

/* Limits of a token file. */
#define REST_TOKEN_MIN 16
#define REST_TOKEN_MAX 256
#define REST_TOKEN_NAME_MAX 63
#define REST_TOKENS_MAX 1024
#define REST_TOKENS_FILE_MAX (1u << 20)

/* The tokens of one file.  Opaque; rest_tokens_destroy() accepts NULL. */
struct rest_tokens;

/* Parses the text of a token file: one "ROLE TOKEN [NAME]" a line, blank
 * lines and '#' comments allowed; ROLE is admin, vmm or reader; TOKEN is
 * REST_TOKEN_MIN..REST_TOKEN_MAX characters of [A-Za-z0-9._~+/=-], unique
 * in the file; NAME (for logs) [A-Za-z0-9._-], at most
 * REST_TOKEN_NAME_MAX.  A file without a token is an error.  Returns NULL
 * with "ORIGIN:LINE: why" in 'err' on the first bad line. */
struct rest_tokens *rest_tokens_parse(const char *text, size_t len,
                                      const char *origin, char *err,
                                      size_t errlen);
/* Reads and parses 'path'; refuses a file that group or others may
 * access (it holds secrets).  NULL with the reason in 'err'. */
struct rest_tokens *rest_tokens_load(const char *path, char *err,
                                     size_t errlen);
void rest_tokens_destroy(struct rest_tokens *);
size_t rest_tokens_count(const struct rest_tokens *);

/* The role of 'token' (REST_ROLE_NONE when unknown) and its NAME ("" when
 * none); the comparison takes the same time whichever token matches. */
enum rest_role rest_tokens_lookup(const struct rest_tokens *,
                                  const char *token, const char **name);

/* The token of an "Authorization: Bearer TOKEN" header value (scheme
 * case-insensitive), copied to 'out'; false when absent or malformed. */
bool rest_auth_bearer(const char *header, char *out, size_t outlen);

/* The role a route needs.  Routes not named (anything added later) need
 * admin unless they are GETs. */
enum rest_role rest_auth_route_role(const struct rest_route *);

/* The decision for a caller of role 'have' (REST_ROLE_NONE: no valid
 * credential) on a route needing 'need': true, or false with 401
 * unauthorized or 403 forbidden in 'e'.  A node's token passes only
 * GET /v1/map.  'route' may be NULL before the route is known (the path
 * did not match): then only authentication is checked. */
bool rest_auth_decide(enum rest_role have, const struct rest_route *route,
                      struct rest_error *e);

/* ---- The gate ---- */

struct ctl;

/* mignetd's API authentication: embedded in the REST server. */
struct rest_auth {
    struct rest_tokens *tokens; /* NULL: --api-tokens not given, open */
    uint64_t unauthorized;      /* requests refused with 401 */
    uint64_t forbidden;         /* ... with 403 */
};

/* Decides a request from its Authorization header value (NULL when
 * absent): the caller's role comes from the token file, else from a node's
 * token (ctl_node_by_token).  Open when 'a' has no tokens; /healthz is
 * always open.  False with the 401/403 in 'e' (counted). */
bool rest_auth_gate(struct rest_auth *a, struct ctl *ctl,
                    const char *authorization, const struct rest_route *,
                    struct rest_error *e);
/* SIGHUP: replaces the gate's tokens with those of file 'path' ("" or
 * NULL: none, the API is open).  0 with '*changed' saying whether the
 * tokens differ from those before; EINVAL with the reason in 'err' when
 * the file is refused, the running tokens then staying in force. */
int rest_auth_reload(struct rest_auth *a, const char *path, bool *changed,
                     char *err, size_t errlen);
/* Appends mignet_api_refused_total{reason} to 'out'.  0 or ENOMEM. */
int rest_auth_metrics(const struct rest_auth *, struct strbuf *out);

#endif /* MIGNET_CONTROLLER_REST_AUTH_H */
