/* tls.c: OpenSSL contexts set up the one way mignet uses them.
 *
 * Kept apart so the REST server, the agent channel and the CLI cannot
 * drift on protocol floor or verification: TLS 1.2 at least, peers
 * verified by clients, and a failure that says which file was wrong. */
#include "lib/tls.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "lib/util.h"

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "TLS: cannot load certificate %s", cert);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM)
               != 1) {
        snprintf(err, errlen, "TLS: cannot load key %s", key);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "TLS: %s does not match %s", key, cert);
    } else {
        return ctx;
    }
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

/* Whether 'path' can be opened for reading; else 'err' says why ('what'
 * names the role of the file). */
static bool
tls_readable(const char *what, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "TLS: cannot read %s %s: %s", what, path,
                 strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

SSL_CTX *
tls_client_ctx(const char *cafile, char *err, size_t errlen)
{
    return tls_client_ctx_cert(cafile, NULL, NULL, err, errlen);
}

SSL_CTX *
tls_client_ctx_cert(const char *cafile, const char *cert, const char *key,
                    char *err, size_t errlen)
{
    if (!cert != !key) {
        snprintf(err, errlen, "TLS: a client certificate needs its key "
                 "and a key its certificate");
        return NULL;
    }
    if ((cafile && !tls_readable("CA certificates", cafile, err, errlen))
        || (cert && !tls_readable("certificate", cert, err, errlen))
        || (key && !tls_readable("key", key, err, errlen))) {
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = cafile ? SSL_CTX_load_verify_locations(ctx, cafile, NULL)
                    : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        snprintf(err, errlen, "TLS: cannot load CA certificates %s",
                 cafile ? cafile : "(system default)");
    } else if (cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "TLS: cannot load certificate %s (not a PEM "
                 "certificate?)", cert);
    } else if (key && SSL_CTX_use_PrivateKey_file(ctx, key,
                                                  SSL_FILETYPE_PEM) != 1) {
        int why = ERR_GET_REASON(ERR_peek_last_error());
        if (why == X509_R_KEY_VALUES_MISMATCH
            || why == X509_R_KEY_TYPE_MISMATCH) {
            snprintf(err, errlen, "TLS: key %s does not match certificate "
                     "%s", key, cert);
        } else {
            snprintf(err, errlen, "TLS: cannot load key %s (not a PEM "
                     "private key?)", key);
        }
    } else if (cert && SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "TLS: key %s does not match certificate %s",
                 key, cert);
    } else {
        return ctx;
    }
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

int
tls_client_expect_host(SSL *ssl, const char *host)
{
    unsigned char addr[16];
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (inet_pton(AF_INET, host, addr) == 1
        || inet_pton(AF_INET6, host, addr) == 1) {
        return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
    }
    X509_VERIFY_PARAM_set_hostflags(param,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, host) != 1
        || SSL_set_tlsext_host_name(ssl, host) != 1) {
        return -1;
    }
    return 0;
}

void
tls_sha256(const void *data, size_t len, unsigned char out[TLS_SHA256_LEN])
{
    if (!EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL)) {
        out_of_memory();
    }
}
