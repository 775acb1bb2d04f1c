/* credentials.h: how an agent proves its node to mignetd (docs/mignetd.md,
 * "Node identity"): the node token read from a file, and the client TLS
 * context for the agent channel.  Shared by mignet-agent and the test
 * agent so both read and present credentials the same way. */
#ifndef MIGNET_AGENT_CREDENTIALS_H
#define MIGNET_AGENT_CREDENTIALS_H 1

#include <stddef.h>

#include "proto/chan_msg.h"

struct ssl_ctx_st;

/* Reads the node token from 'path': the first line, surrounding spaces
 * and the newline dropped.  0, or an errno with 'err' explaining (a file
 * that cannot be read, an empty token, one the channel cannot carry).
 * 'out' has room for CHAN_TOKEN_MAX + 1 bytes. */
int agent_token_read(const char *path, char out[CHAN_TOKEN_MAX + 1],
                     char *err, size_t errlen);

/* A TLS client context for the agent channel: the controller's
 * certificate must chain to 'ca' (PEM); 'cert' and 'key' (both or neither)
 * are the node's client certificate, whose CN is the node id.  NULL with
 * 'err' set on failure. */
struct ssl_ctx_st *agent_tls_client_ctx(const char *ca, const char *cert,
                                        const char *key, char *err,
                                        size_t errlen);

#endif /* MIGNET_AGENT_CREDENTIALS_H */
