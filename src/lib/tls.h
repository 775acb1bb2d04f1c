/* tls.h: OpenSSL contexts set up the one way mignet uses them.
 *
 * Servers (the REST API, the agent channel) load a certificate chain and
 * its key; clients verify the server against a CA file and its name.  Both
 * refuse anything older than TLS 1.2.  Errors name the file at fault. */
#ifndef MIGNET_LIB_TLS_H
#define MIGNET_LIB_TLS_H 1

#include <stddef.h>

#include <openssl/ssl.h>

/* A server context with the PEM chain 'cert' and key 'key'; NULL with
 * the reason in 'err'. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, char *err,
                        size_t errlen);

/* A client context that verifies the server against the PEM 'cafile'
 * (NULL: the system's default CA paths); NULL with 'err' set. */
SSL_CTX *tls_client_ctx(const char *cafile, char *err, size_t errlen);

/* tls_client_ctx() that also presents the PEM chain 'cert' with its key
 * 'key' to servers that ask for a client certificate (both NULL: none;
 * one without the other is refused).  A file that cannot be read, a PEM
 * that does not parse or a key that does not match the certificate is
 * refused here, with the file and the reason in 'err'. */
SSL_CTX *tls_client_ctx_cert(const char *cafile, const char *cert,
                             const char *key, char *err, size_t errlen);

/* Makes 'ssl' check that the server's certificate names 'host' (a DNS
 * name, or an IP address checked against the IP SANs) and sends it as SNI
 * when it is a name.  0 or -1. */
int tls_client_expect_host(SSL *ssl, const char *host);

/* The SHA-256 digest of 'len' bytes at 'data' (the form in which mignet
 * keeps every secret token: API tokens and node tokens alike).  Aborts
 * only when libcrypto cannot allocate. */
#define TLS_SHA256_LEN 32
void tls_sha256(const void *data, size_t len,
                unsigned char out[TLS_SHA256_LEN]);

#endif /* MIGNET_LIB_TLS_H */
