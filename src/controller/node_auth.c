/* node_auth.c: making, hashing and checking node tokens (node_auth.h).
 *
 * Randomness comes from getrandom(2), hashing from OpenSSL's SHA-256 (the
 * agent channel's TLS links it already).  Hashes are compared with
 * CRYPTO_memcmp so the time of a check says nothing about the secret. */
#include "controller/node_auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "lib/tls.h"

#define NODE_TOKEN_BYTES 32

/* base64url without padding: 32 bytes make 43 characters. */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                             "vwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t) in[i] << 16;
        size_t left = n - i;
        if (left > 1) {
            v |= (uint32_t) in[i + 1] << 8;
        }
        if (left > 2) {
            v |= in[i + 2];
        }
        out[o++] = al[(v >> 18) & 63];
        out[o++] = al[(v >> 12) & 63];
        if (left > 1) {
            out[o++] = al[(v >> 6) & 63];
        }
        if (left > 2) {
            out[o++] = al[v & 63];
        }
    }
    out[o] = '\0';
}

int
node_token_new(char out[NODE_TOKEN_LEN + 1])
{
    unsigned char raw[NODE_TOKEN_BYTES];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return EIO;
        }
        got += (size_t) n;
    }
    memcpy(out, NODE_TOKEN_PREFIX, sizeof NODE_TOKEN_PREFIX - 1);
    b64url(raw, sizeof raw, out + sizeof NODE_TOKEN_PREFIX - 1);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

void
node_token_hash(const char *token, char hex[CORE_TOKEN_HASH_HEX + 1])
{
    _Static_assert(TLS_SHA256_LEN * 2 == CORE_TOKEN_HASH_HEX,
                   "a node token's hash is SHA-256 in hex");
    unsigned char md[TLS_SHA256_LEN];
    tls_sha256(token, strlen(token), md);
    for (size_t i = 0; i < sizeof md; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
}

/* Compares a computed hash with a stored one in constant time. */
static bool
hash_equal(const char *hex, const char *stored)
{
    return stored && strlen(stored) == CORE_TOKEN_HASH_HEX
           && !CRYPTO_memcmp(hex, stored, CORE_TOKEN_HASH_HEX);
}

bool
node_token_matches(const char *token, const char *stored_hex)
{
    char hex[CORE_TOKEN_HASH_HEX + 1];
    if (!token || !*token) {
        return false;
    }
    node_token_hash(token, hex);
    return hash_equal(hex, stored_hex);
}

uint32_t
node_token_find(const struct core *core, const char *token)
{
    char hex[CORE_TOKEN_HASH_HEX + 1];
    uint32_t found = CORE_NONE;
    if (!token || !*token) {
        return CORE_NONE;
    }
    node_token_hash(token, hex);
    size_t n = core_n_nodes(core);
    for (size_t i = 0; i < n; i++) {
        if (hash_equal(hex, core_node_token_hash(core, (uint32_t) i))
            && found == CORE_NONE) {
            found = (uint32_t) i;
        }
    }
    return found;
}

int
node_token_issue(struct core *core, uint32_t node,
                 char out[NODE_TOKEN_LEN + 1])
{
    char hex[CORE_TOKEN_HASH_HEX + 1];
    if (!core_node_token_hash(core, node)) {
        return ENOENT;
    }
    int err = node_token_new(out);
    if (err) {
        return err;
    }
    node_token_hash(out, hex);
    return core_node_set_token_hash(core, node, hex) ? EINVAL : 0;
}
