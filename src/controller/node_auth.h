/* node_auth.h: node tokens (docs/mignetd.md, "Node identity").
 *
 * A node token is "mgn_" and 43 base64url characters (32 random bytes).
 * mignetd keeps only its SHA-256 (hex) in the core and the store, shows
 * the token once, and compares hashes in constant time. */
#ifndef MIGNET_CONTROLLER_NODE_AUTH_H
#define MIGNET_CONTROLLER_NODE_AUTH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mignet/core.h"

#define NODE_TOKEN_PREFIX "mgn_"
#define NODE_TOKEN_LEN 47 /* "mgn_" + 43 */

/* Writes a new random token (NUL-terminated) to 'out'.  0, or an errno
 * when the kernel gives no randomness. */
int node_token_new(char out[NODE_TOKEN_LEN + 1]);

/* Writes the SHA-256 of 'token' as 64 lowercase hex digits and a NUL. */
void node_token_hash(const char *token, char hex[CORE_TOKEN_HASH_HEX + 1]);

/* Whether 'token' hashes to 'stored_hex' (a node's hash; "" or NULL never
 * matches).  Constant time in the hash comparison. */
bool node_token_matches(const char *token, const char *stored_hex);

/* The node 'token' belongs to, or CORE_NONE.  Looks at every node. */
uint32_t node_token_find(const struct core *, const char *token);

/* Gives node 'node' a new token: written to 'out' (shown once), its hash
 * set in the core (the caller marks the batch dirty).  0 or an errno
 * (EIO: no randomness; ENOENT: no such node). */
int node_token_issue(struct core *, uint32_t node,
                     char out[NODE_TOKEN_LEN + 1]);

#endif /* MIGNET_CONTROLLER_NODE_AUTH_H */
