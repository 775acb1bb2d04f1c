/* http_client.h: a small blocking HTTP/1.1 client for talking to mignetd's
 * northbound API and gateway (the `mignet` CLI, test and real agents) and
 * to etcd.
 *
 * One request per connection ("Connection: close"), or a connection kept
 * open (struct http_session); every step bounded by a deadline.  The response parser is a pure function over bytes so it can
 * be tested and fuzzed on its own; it must never read past its input,
 * accept a response it cannot frame, or buffer more than HTTP_MAX_BODY. */
#ifndef MIGNET_HTTP_CLIENT_H
#define MIGNET_HTTP_CLIENT_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* Limits on what a response may contain. */
#define HTTP_MAX_HEADER (64 * 1024)        /* status line + headers */
#define HTTP_MAX_BODY (64 * 1024 * 1024)   /* decoded body */

#define HTTP_ERRORS                                                          \
    HTTP_ERR(OK, "success")                                                  \
    HTTP_ERR(INCOMPLETE, "response incomplete, more bytes needed")           \
    HTTP_ERR(BAD_URL, "bad URL")                                             \
    HTTP_ERR(RESOLVE, "cannot resolve host")                                 \
    HTTP_ERR(CONNECT, "cannot connect")                                      \
    HTTP_ERR(TIMEOUT, "timed out")                                           \
    HTTP_ERR(IO, "connection failed")                                        \
    HTTP_ERR(BAD_STATUS, "malformed status line")                            \
    HTTP_ERR(BAD_HEADER, "malformed header")                                 \
    HTTP_ERR(BAD_LENGTH, "malformed or conflicting Content-Length")          \
    HTTP_ERR(BAD_CHUNK, "malformed chunked encoding")                        \
    HTTP_ERR(TRUNCATED, "connection closed before the response ended")       \
    HTTP_ERR(TOO_LARGE, "response too large")                                \
    HTTP_ERR(NOMEM, "out of memory")                                         \
    HTTP_ERR(TLS, "TLS handshake or server verification failed")             \
    HTTP_ERR(BAD_TOKEN, "bad bearer token")

enum http_err {
#define HTTP_ERR(ENUM, MSG) HTTP_E_##ENUM,
    HTTP_ERRORS
#undef HTTP_ERR
    HTTP_N_ERRORS
};
const char *http_strerror(enum http_err);
/* The controller could not be reached at all (resolve, connect, or a
 * timeout), as opposed to a reply that made no sense. */
bool http_err_is_unreachable(enum http_err);

/* "http[s]://HOST[:PORT][/PREFIX]".  HOST is a name, an IPv4 address or
 * a bracketed IPv6 address; PORT defaults to 80 (https: 443); PREFIX (no
 * trailing '/') is put before every request path. */
struct http_url {
    bool tls; /* https:// */
    char host[256];
    char port[6];
    char prefix[256];
};
/* Returns HTTP_E_OK or HTTP_E_BAD_URL with an explanation in 'err'. */
enum http_err http_url_parse(const char *, struct http_url *, char *err,
                             size_t errlen);

/* Appends 's' to 'out' percent-encoded for use as one path segment (or a
 * query value): everything but [A-Za-z0-9._~-] is escaped.  0 or ENOMEM. */
int http_escape(struct strbuf *out, const char *s);

/* Embedded object: http_response_init() / http_response_destroy(). */
struct http_response {
    int status;              /* 100-599 */
    char reason[64];         /* cut if longer */
    char content_type[128];  /* "" when absent; cut if longer */
    char *body;              /* NUL-terminated, decoded; never NULL after
                              * a successful parse */
    size_t body_len;
};
void http_response_init(struct http_response *);
void http_response_destroy(struct http_response *);

/* Parses the response held in the first 'len' bytes of 'buf'; 'eof' says
 * the peer closed the connection after them.  Returns HTTP_E_OK with
 * 'resp' filled (replacing what it held), HTTP_E_INCOMPLETE when more bytes
 * are needed (never when 'eof'), or a parse error (BAD_STATUS, BAD_HEADER,
 * BAD_LENGTH, BAD_CHUNK, TRUNCATED, TOO_LARGE, NOMEM).  Interim 1xx
 * responses are skipped.  Pure: no I/O, no global state. */
enum http_err http_response_parse(const char *buf, size_t len, bool eof,
                                  struct http_response *resp);

/* Sends 'method' 'url->prefix''path' (path starts with '/', already
 * escaped; may carry a query) with 'body' ('body_len' bytes, sent as
 * application/json; NULL for none) and waits at most 'timeout_ms' in all
 * for the whole response.  Any HTTP status is HTTP_E_OK: the caller looks
 * at resp->status.  On error 'err' explains (e.g. the errno text). */
enum http_err http_request(const struct http_url *, const char *method,
                           const char *path, const char *body,
                           size_t body_len, int timeout_ms,
                           struct http_response *resp, char *err,
                           size_t errlen);

/* What a request carries beyond its URL. */
struct http_opts {
    /* Sent as "Authorization: Bearer TOKEN"; NULL for none.  Printable
     * ASCII without spaces, else HTTP_E_BAD_TOKEN. */
    const char *token;
    /* https: the PEM CA file the server's certificate must chain to
     * (NULL: the system's CAs).  The certificate must also name the URL's
     * host (DNS name, or IP address for an address literal). */
    const char *cacert;
    /* https: the PEM client certificate chain and its key, presented to a
     * server that asks for one (both NULL: none; both or neither). */
    const char *cert;
    const char *key;
    /* https: a client context made once by tls_client_ctx_cert(), used
     * instead of 'cacert', 'cert' and 'key' (which would load the files
     * again for each request).  The caller keeps it. */
    struct ssl_ctx_st *ctx;
};

/* http_request() with 'opts' (NULL: none).  Over https the handshake and
 * the verification are within the same deadline; their failure is
 * HTTP_E_TLS with the reason (e.g. the verification error) in 'err', and
 * so is a TLS alert the server sends later (with TLS 1.3 a server refuses
 * a missing client certificate after the client's handshake ended). */
enum http_err http_request_opts(const struct http_url *,
                                const struct http_opts *, const char *method,
                                const char *path, const char *body,
                                size_t body_len, int timeout_ms,
                                struct http_response *resp, char *err,
                                size_t errlen);

/* A connection kept open between requests (HTTP/1.1 keep-alive), for a
 * client that talks to one server often (the etcd client: over https a
 * handshake a request costs more than the request).  A request goes on
 * the open connection when it is to the same scheme, host and port and
 * the server has not closed it meanwhile (checked before sending, never
 * by sending again: a request is sent at most once); else on a new one,
 * which the TLS settings of that request's 'opts' set up.  The connection
 * is closed after any error, and after an answer that does not leave it
 * usable (framed by the close, "Connection: close").  Blocking, one
 * request at a time, like http_request_opts(). */
struct http_session;
struct http_session *http_session_create(void);
void http_session_destroy(struct http_session *);
enum http_err http_session_request(struct http_session *,
                                   const struct http_url *,
                                   const struct http_opts *,
                                   const char *method, const char *path,
                                   const char *body, size_t body_len,
                                   int timeout_ms,
                                   struct http_response *resp, char *err,
                                   size_t errlen);
/* Connections opened, and requests sent on one already used. */
void http_session_counts(const struct http_session *, uint64_t *opened,
                         uint64_t *reused);

#endif /* MIGNET_HTTP_CLIENT_H */
