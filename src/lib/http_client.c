/* http_client.c: blocking HTTP/1.1 client and response parser (see
 * http_client.h).
 *
 * The parser trusts nothing it reads: every length is bounded and checked
 * for overflow before use, and a response is only accepted when it can be
 * framed exactly (Content-Length, chunked, or read to close).  The I/O half
 * (plain or TLS over the same non-blocking socket) never blocks past its
 * deadline and never raises SIGPIPE. */
#include "lib/http_client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib/sock.h"
#include "lib/strbuf.h"
#include "lib/tls.h"
#include "lib/util.h"

#define SET_ERR strbuf_format_into

static const char *const http_messages[] = {
#define HTTP_ERR(ENUM, MSG) MSG,
    HTTP_ERRORS
#undef HTTP_ERR
};

const char *
http_strerror(enum http_err e)
{
    return (unsigned) e < HTTP_N_ERRORS ? http_messages[e] : "unknown error";
}

bool
http_err_is_unreachable(enum http_err e)
{
    return e == HTTP_E_RESOLVE || e == HTTP_E_CONNECT || e == HTTP_E_TIMEOUT;
}

/* ---- URLs ---- */

static bool
is_url_char(char c)
{
    return (unsigned char) c > 0x20 && (unsigned char) c < 0x7f
           && c != '?' && c != '#' && c != '@' && c != '\\';
}

enum http_err
http_url_parse(const char *url, struct http_url *out, char *err,
               size_t errlen)
{
    struct http_url u = {0};

    if (url && !strncasecmp(url, "https://", 8)) {
        u.tls = true;
    } else if (!url || strncasecmp(url, "http://", 7)) {
        SET_ERR(err, errlen, "URL must start with http:// or https://");
        return HTTP_E_BAD_URL;
    }
    const char *p = url + (u.tls ? 8 : 7);
    for (const char *q = p; *q; q++) {
        if (!is_url_char(*q)) {
            SET_ERR(err, errlen, "URL contains a space, control character,"
                                 " '?', '#', '@' or '\\'");
            return HTTP_E_BAD_URL;
        }
    }

    /* Host. */
    const char *host = p, *host_end;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) {
            SET_ERR(err, errlen, "unterminated '[' in URL host");
            return HTTP_E_BAD_URL;
        }
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/");
        p = host_end;
    }
    size_t host_len = (size_t) (host_end - host);
    if (!host_len || host_len >= sizeof u.host) {
        SET_ERR(err, errlen, "URL host is empty or too long");
        return HTTP_E_BAD_URL;
    }
    memcpy(u.host, host, host_len);

    /* Port. */
    snprintf(u.port, sizeof u.port, u.tls ? "443" : "80");
    if (*p == ':') {
        p++;
        size_t n = strspn(p, "0123456789");
        unsigned long port = 0;
        for (size_t i = 0; i < n && i < 6; i++) {
            port = port * 10 + (unsigned long) (p[i] - '0');
        }
        if (n == 0 || n > 5 || port == 0 || port > 65535
            || (p[n] && p[n] != '/')) {
            SET_ERR(err, errlen, "URL port must be 1-65535");
            return HTTP_E_BAD_URL;
        }
        snprintf(u.port, sizeof u.port, "%lu", port);
        p += n;
    } else if (*p && *p != '/') {
        SET_ERR(err, errlen, "unexpected '%c' after URL host", *p);
        return HTTP_E_BAD_URL;
    }

    /* Prefix, without trailing slashes. */
    size_t n = strlen(p);
    while (n && p[n - 1] == '/') {
        n--;
    }
    if (n >= sizeof u.prefix) {
        SET_ERR(err, errlen, "URL path too long");
        return HTTP_E_BAD_URL;
    }
    memcpy(u.prefix, p, n);
    *out = u;
    return HTTP_E_OK;
}

int
http_escape(struct strbuf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                     || (c >= '0' && c <= '9') || c == '.' || c == '_'
                     || c == '~' || c == '-';
        int error = plain ? strbuf_putc(out, (char) c)
                          : strbuf_printf(out, "%%%c%c", hex[c >> 4],
                                          hex[c & 15]);
        if (error) {
            return error;
        }
    }
    return 0;
}

/* ---- Response parsing ---- */

void
http_response_init(struct http_response *resp)
{
    memset(resp, 0, sizeof *resp);
}

void
http_response_destroy(struct http_response *resp)
{
    if (resp) {
        free(resp->body);
        http_response_init(resp);
    }
}

/* A cursor over the input. */
struct cursor {
    const char *p;
    const char *end;
};

/* Finds the next line; on success sets [*line, *line + *n) without its
 * "\r\n" (or bare "\n") and advances.  Returns false when no complete line
 * is within 'max' bytes. */
static bool
next_line(struct cursor *c, size_t max, const char **line, size_t *n,
          bool *too_long)
{
    size_t avail = (size_t) (c->end - c->p);
    size_t scan = avail < max ? avail : max;
    const char *nl = memchr(c->p, '\n', scan);

    *too_long = !nl && avail >= max;
    if (!nl) {
        return false;
    }
    *line = c->p;
    *n = (size_t) (nl - c->p);
    if (*n && nl[-1] == '\r') {
        (*n)--;
    }
    c->p = nl + 1;
    return true;
}

static bool
is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

static void
copy_cut(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size) {
        n = size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Does the comma-separated list [v, v+n) end with the token "chunked"? */
static bool
last_coding_is_chunked(const char *v, size_t n)
{
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) {
        n--;
    }
    size_t start = n;
    while (start && v[start - 1] != ',' && v[start - 1] != ' '
           && v[start - 1] != '\t') {
        start--;
    }
    return n - start == 7 && !strncasecmp(v + start, "chunked", 7);
}

/* Parses a decimal Content-Length value. */
static bool
parse_length(const char *v, size_t n, size_t *out)
{
    size_t value = 0;
    if (!n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return false;
        }
        if (value > HTTP_MAX_BODY) {
            value = (size_t) HTTP_MAX_BODY + 1; /* saturate, too large */
            continue;
        }
        value = value * 10 + (size_t) (v[i] - '0');
    }
    *out = value;
    return true;
}

struct head {
    int status;
    bool chunked;
    bool has_length;
    size_t length;
    bool close; /* HTTP/1.0, or "Connection: close" */
};

/* Parses one status line and header block starting at c->p. */
static enum http_err
parse_head(struct cursor *c, struct head *h, struct http_response *resp)
{
    const char *start = c->p;
    const char *line;
    size_t n;
    bool too_long;

    memset(h, 0, sizeof *h);
    if (!next_line(c, HTTP_MAX_HEADER, &line, &n, &too_long)) {
        return too_long ? HTTP_E_TOO_LARGE : HTTP_E_INCOMPLETE;
    }
    /* "HTTP/1.x SSS[ reason]" */
    if (n < 12 || memcmp(line, "HTTP/1.", 7) || (line[7] != '0'
                                                 && line[7] != '1')
        || line[8] != ' ' || line[9] < '1' || line[9] > '5'
        || line[10] < '0' || line[10] > '9' || line[11] < '0'
        || line[11] > '9' || (n > 12 && line[12] != ' ')) {
        return HTTP_E_BAD_STATUS;
    }
    h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10
                + (line[11] - '0');
    h->close = line[7] == '0';
    for (size_t i = 12; i < n; i++) {
        unsigned char ch = (unsigned char) line[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return HTTP_E_BAD_STATUS;
        }
    }
    copy_cut(resp->reason, sizeof resp->reason, n > 13 ? line + 13 : "",
             n > 13 ? n - 13 : 0);

    for (;;) {
        size_t used = (size_t) (c->p - start);
        if (!next_line(c, HTTP_MAX_HEADER - used, &line, &n, &too_long)) {
            return too_long ? HTTP_E_TOO_LARGE : HTTP_E_INCOMPLETE;
        }
        if (n == 0) {
            return HTTP_E_OK;
        }
        size_t colon = 0;
        while (colon < n && is_tchar(line[colon])) {
            colon++;
        }
        if (colon == 0 || colon == n || line[colon] != ':') {
            return HTTP_E_BAD_HEADER; /* also obs-fold and "Name :" */
        }
        const char *v = line + colon + 1;
        size_t vn = n - colon - 1;
        for (size_t i = 0; i < vn; i++) {
            unsigned char ch = (unsigned char) v[i];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                return HTTP_E_BAD_HEADER;
            }
        }
        while (vn && (*v == ' ' || *v == '\t')) {
            v++;
            vn--;
        }
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) {
            vn--;
        }
        if (colon == 14 && !strncasecmp(line, "content-length", 14)) {
            size_t length;
            if (!parse_length(v, vn, &length)
                || (h->has_length && length != h->length)) {
                return HTTP_E_BAD_LENGTH;
            }
            h->has_length = true;
            h->length = length;
        } else if (colon == 17
                   && !strncasecmp(line, "transfer-encoding", 17)) {
            h->chunked = last_coding_is_chunked(v, vn);
            if (!h->chunked) {
                h->has_length = false; /* framed by close */
                h->length = 0;
            }
        } else if (colon == 12 && !strncasecmp(line, "content-type", 12)) {
            copy_cut(resp->content_type, sizeof resp->content_type, v, vn);
        } else if (colon == 10 && !strncasecmp(line, "connection", 10)
                   && vn >= 5) {
            for (size_t i = 0; i + 5 <= vn; i++) {
                h->close |= !strncasecmp(v + i, "close", 5);
            }
        }
    }
}


/* Decodes a chunked body at c->p into 'out'. */
static enum http_err
parse_chunked(struct cursor *c, struct strbuf *out)
{
    for (;;) {
        const char *line;
        size_t n;
        bool too_long;
        if (!next_line(c, 1024, &line, &n, &too_long)) {
            return too_long ? HTTP_E_BAD_CHUNK : HTTP_E_INCOMPLETE;
        }
        size_t size = 0, i = 0;
        for (; i < n; i++) {
            int d = hex_digit(line[i]);
            if (d < 0) {
                break;
            }
            if (size > HTTP_MAX_BODY) {
                return HTTP_E_TOO_LARGE;
            }
            size = size * 16 + (size_t) d;
        }
        if (i == 0 || (i < n && line[i] != ';' && line[i] != ' '
                       && line[i] != '\t')) {
            return HTTP_E_BAD_CHUNK;
        }
        if (size == 0) {
            /* Trailers, up to the empty line. */
            for (;;) {
                if (!next_line(c, HTTP_MAX_HEADER, &line, &n, &too_long)) {
                    return too_long ? HTTP_E_BAD_CHUNK : HTTP_E_INCOMPLETE;
                }
                if (n == 0) {
                    return HTTP_E_OK;
                }
            }
        }
        if (size > HTTP_MAX_BODY - out->len) {
            return HTTP_E_TOO_LARGE;
        }
        size_t avail = (size_t) (c->end - c->p);
        if (avail < size) {
            return HTTP_E_INCOMPLETE;
        }
        if (strbuf_append(out, c->p, size)) {
            return HTTP_E_NOMEM;
        }
        c->p += size;
        avail -= size;
        if (avail < 1 || (c->p[0] == '\r' && avail < 2)) {
            return HTTP_E_INCOMPLETE;
        }
        if (c->p[0] == '\n') {
            c->p += 1;
        } else if (c->p[0] == '\r' && c->p[1] == '\n') {
            c->p += 2;
        } else {
            return HTTP_E_BAD_CHUNK;
        }
    }
}

/* http_response_parse(), and for a connection kept open: '*used' gets
 * the bytes the response took, '*reusable' whether the connection may
 * carry another request after it (the response framed by its length or
 * chunks, HTTP/1.1, no "Connection: close"). */
static enum http_err
parse_response(const char *buf, size_t len, bool eof,
               struct http_response *resp, size_t *used, bool *reusable)
{
    struct http_response r;
    struct cursor c = {buf, buf + len};
    struct head h;
    enum http_err e;

    http_response_init(&r);
    for (;;) {
        e = parse_head(&c, &h, &r);
        if (e) {
            goto fail;
        }
        if (h.status >= 200 || h.status == 101) {
            break;
        }
    }

    struct strbuf body;
    strbuf_init(&body);
    size_t avail = (size_t) (c.end - c.p);
    if (h.status == 204 || h.status == 304 || h.status == 101) {
        /* No body. */
    } else if (h.chunked) {
        e = parse_chunked(&c, &body);
    } else if (h.has_length) {
        if (h.length > HTTP_MAX_BODY) {
            e = HTTP_E_TOO_LARGE;
        } else if (avail < h.length) {
            e = HTTP_E_INCOMPLETE;
        } else if (strbuf_append(&body, c.p, h.length)) {
            e = HTTP_E_NOMEM;
        } else {
            c.p += h.length;
        }
    } else if (avail > HTTP_MAX_BODY) {
        e = HTTP_E_TOO_LARGE;
    } else if (!eof) {
        e = HTTP_E_INCOMPLETE; /* framed by the close */
    } else if (strbuf_append(&body, c.p, avail)) {
        e = HTTP_E_NOMEM;
    } else {
        c.p = c.end;
    }
    if (!e && !body.data && strbuf_append(&body, "", 0)) {
        e = HTTP_E_NOMEM;
    }
    if (e) {
        strbuf_destroy(&body);
        goto fail;
    }
    r.status = h.status;
    r.body = body.data;
    r.body_len = body.len;
    http_response_destroy(resp);
    *resp = r;
    *used = (size_t) (c.p - buf);
    *reusable = !h.close && !eof && h.status != 101
                && (h.chunked || h.has_length || h.status == 204
                    || h.status == 304);
    return HTTP_E_OK;

fail:
    if (e == HTTP_E_INCOMPLETE && eof) {
        e = HTTP_E_TRUNCATED;
    }
    return e;
}

enum http_err
http_response_parse(const char *buf, size_t len, bool eof,
                    struct http_response *resp)
{
    size_t used;
    bool reusable;
    return parse_response(buf, len, eof, resp, &used, &reusable);
}

/* ---- I/O ---- */

/* A connection: the socket, and the TLS session over it for https. */
struct http_conn {
    int fd;
    SSL *ssl;
    char why[192]; /* a TLS error after the handshake ("" = none) */
    size_t got;    /* bytes of the current answer received */
};

/* Waits for 'events' on 'fd' until 'deadline'. */
static enum http_err
wait_fd(int fd, short events, int64_t deadline)
{
    int error = sock_wait(fd, events, deadline);
    return !error ? HTTP_E_OK
                  : error == ETIMEDOUT ? HTTP_E_TIMEOUT : HTTP_E_IO;
}

/* After a TLS call returned 'r': what to wait for (POLLIN/POLLOUT), 0
 * for a clean end of the stream, or -1 for an error. */
static int
tls_want(SSL *ssl, int r)
{
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return POLLIN;
    case SSL_ERROR_WANT_WRITE:
        return POLLOUT;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        return -1;
    }
}

/* Moves up to 'len' bytes in one step, waiting as needed: '*done' gets
 * the count, 0 meaning the peer closed (reads). */
static enum http_err
conn_io(struct http_conn *c, bool writing, void *buf, size_t len,
        size_t *done, int64_t deadline)
{
    int n = len > INT_MAX ? INT_MAX : (int) len;
    for (;;) {
        short ev;
        if (c->ssl) {
            int r = writing ? SSL_write(c->ssl, buf, n)
                            : SSL_read(c->ssl, buf, n);
            if (r > 0) {
                *done = (size_t) r;
                return HTTP_E_OK;
            }
            int want = tls_want(c->ssl, r);
            if (want <= 0) {
                enum http_err e = want || writing ? HTTP_E_IO : HTTP_E_OK;
                if (SSL_get_error(c->ssl, r) == SSL_ERROR_SSL) {
                    /* e.g. the server's alert refusing our certificate */
                    const char *why = ERR_reason_error_string(
                        ERR_peek_last_error());
                    snprintf(c->why, sizeof c->why, "TLS error after the "
                             "handshake: %s", why ? why : "unknown");
                    e = HTTP_E_TLS;
                }
                ERR_clear_error();
                *done = 0;
                return e;
            }
            ev = (short) want;
        } else {
            ssize_t r = writing ? send(c->fd, buf, (size_t) n, MSG_NOSIGNAL)
                                : recv(c->fd, buf, (size_t) n, 0);
            if (r >= 0) {
                *done = (size_t) r;
                return writing && !r ? HTTP_E_IO : HTTP_E_OK;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                return HTTP_E_IO;
            }
            ev = writing ? POLLOUT : POLLIN;
        }
        enum http_err e = wait_fd(c->fd, ev, deadline);
        if (e) {
            return e;
        }
    }
}

static enum http_err
send_all(struct http_conn *c, const char *data, size_t len,
         int64_t deadline)
{
    while (len) {
        size_t n;
        enum http_err e = conn_io(c, true, (void *) data, len, &n, deadline);
        if (e) {
            return e;
        }
        data += n;
        len -= n;
    }
    return HTTP_E_OK;
}

/* Reads one response; '*reusable' says whether the connection may carry
 * the next request (parse_response(), and nothing read beyond it). */
static enum http_err
receive(struct http_conn *c, int64_t deadline, struct http_response *resp,
        bool *reusable)
{
    struct strbuf in;
    enum http_err e;
    size_t used = 0;

    *reusable = false;
    strbuf_init(&in);
    for (;;) {
        char chunk[16384];
        size_t n;
        e = conn_io(c, false, chunk, sizeof chunk, &n, deadline);
        if (e) {
            break;
        }
        if (!n) {
            e = parse_response(strbuf_str(&in), in.len, true, resp, &used,
                               reusable);
            break;
        }
        if (in.len + n > (size_t) HTTP_MAX_HEADER + HTTP_MAX_BODY * 2) {
            e = HTTP_E_TOO_LARGE;
            break;
        }
        c->got += n;
        if (strbuf_append(&in, chunk, n)) {
            e = HTTP_E_NOMEM;
            break;
        }
        e = parse_response(in.data, in.len, false, resp, &used, reusable);
        if (e != HTTP_E_INCOMPLETE) {
            *reusable = !e && *reusable && used == in.len;
            break;
        }
    }
    strbuf_destroy(&in);
    return e;
}

/* The TLS handshake over 'c->fd', verifying the server as 'opts' say
 * (its context, or one made of its files) and its name 'host', within
 * 'deadline'. */
static enum http_err
conn_tls(struct http_conn *c, const struct http_opts *opts, const char *host,
         int64_t deadline, char *err, size_t errlen)
{
    SSL_CTX *ctx = opts->ctx;
    if (ctx) {
        SSL_CTX_up_ref(ctx);
    } else {
        ctx = tls_client_ctx_cert(opts->cacert, opts->cert, opts->key, err,
                                  errlen);
        if (!ctx) {
            return HTTP_E_TLS;
        }
    }
    c->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the session holds a reference */
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)
        || tls_client_expect_host(c->ssl, host)) {
        SET_ERR(err, errlen, "TLS: cannot set up the session");
        ERR_clear_error();
        return HTTP_E_TLS;
    }
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* A close without close_notify ends the stream; the parser still
     * refuses a response cut short of its framing. */
    SSL_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    for (;;) {
        int r = SSL_connect(c->ssl);
        if (r == 1) {
            return HTTP_E_OK;
        }
        int want = tls_want(c->ssl, r);
        if (want <= 0) {
            break;
        }
        enum http_err e = wait_fd(c->fd, (short) want, deadline);
        if (e) {
            return e;
        }
    }
    long v = SSL_get_verify_result(c->ssl);
    unsigned long code = ERR_peek_last_error();
    const char *why = ERR_reason_error_string(code);
    if (v != X509_V_OK) {
        SET_ERR(err, errlen, "certificate verify failed: %s",
                X509_verify_cert_error_string(v));
    } else {
        SET_ERR(err, errlen, "TLS handshake failed: %s",
                why ? why : "connection closed");
    }
    ERR_clear_error();
    return HTTP_E_TLS;
}

static bool
token_valid(const char *t)
{
    if (!*t) {
        return false;
    }
    for (; *t; t++) {
        if ((unsigned char) *t <= 0x20 || (unsigned char) *t >= 0x7f) {
            return false;
        }
    }
    return true;
}

enum http_err
http_request(const struct http_url *url, const char *method,
             const char *path, const char *body, size_t body_len,
             int timeout_ms, struct http_response *resp, char *err,
             size_t errlen)
{
    return http_request_opts(url, NULL, method, path, body, body_len,
                             timeout_ms, resp, err, errlen);
}

/* ---- Connections kept open ---- */

struct http_session {
    struct http_conn conn; /* fd -1: none open */
    struct http_url url;   /* what 'conn' is connected to */
    uint64_t opened, reused;
};

struct http_session *
http_session_create(void)
{
    struct http_session *s = xcalloc(1, sizeof *s);
    s->conn.fd = -1;
    return s;
}

static void
conn_close(struct http_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->why[0] = '\0';
}

void
http_session_destroy(struct http_session *s)
{
    if (s) {
        conn_close(&s->conn);
        free(s);
    }
}

void
http_session_counts(const struct http_session *s, uint64_t *opened,
                    uint64_t *reused)
{
    *opened = s->opened;
    *reused = s->reused;
}

static bool
same_server(const struct http_url *a, const struct http_url *b)
{
    return a->tls == b->tls && !strcmp(a->host, b->host)
           && !strcmp(a->port, b->port);
}

/* Whether the idle connection 'c' can carry a request: the server has
 * neither closed it nor sent anything unasked (a TLS record that is no
 * data, e.g. a session ticket, is consumed and does not count). */
static bool
conn_idle_usable(struct http_conn *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    if (n == 0) {
        return true;
    }
    if (n < 0 || (p.revents & (POLLERR | POLLNVAL))) {
        return false;
    }
    char byte;
    if (c->ssl) {
        int r = SSL_peek(c->ssl, &byte, 1);
        bool idle = r <= 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ;
        ERR_clear_error();
        return idle;
    }
    ssize_t r = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* OpenSSL writes with write(2), which raises SIGPIPE on a connection the
 * peer closed (a kept connection makes that likelier): the calling thread
 * blocks SIGPIPE while it does TLS I/O, and a SIGPIPE it raised meanwhile
 * is taken back before it unblocks it. */
struct sigpipe_guard {
    sigset_t old;
    bool was_pending;
};

/* Fills 'pipe_set' with SIGPIPE alone; whether SIGPIPE is pending. */
static bool
sigpipe_pending(sigset_t *pipe_set)
{
    sigset_t pending;
    sigemptyset(pipe_set);
    sigaddset(pipe_set, SIGPIPE);
    sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
}

static void
sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t pipe_set;
    g->was_pending = sigpipe_pending(&pipe_set);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

static void
sigpipe_restore(struct sigpipe_guard *g)
{
    sigset_t pipe_set;
    if (sigpipe_pending(&pipe_set) && !g->was_pending) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static enum http_err exchange_io(struct http_session *, struct http_conn *,
                                 const struct http_url *,
                                 const struct http_opts *,
                                 const struct strbuf *req, int timeout_ms,
                                 int64_t deadline, struct http_response *,
                                 char *err, size_t errlen);

/* One request on 's''s connection (opened or reused) or, with 's' NULL,
 * on a connection of its own closed after it. */
static enum http_err
exchange(struct http_session *s, const struct http_url *url,
         const struct http_opts *opts, const char *method, const char *path,
         const char *body, size_t body_len, int timeout_ms,
         struct http_response *resp, char *err, size_t errlen)
{
    int64_t deadline = sock_now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    const struct http_opts none = {0};
    struct strbuf req;
    enum http_err e;

    SET_ERR(err, errlen, "%s", "");
    opts = opts ? opts : &none;
    if (opts->token && !token_valid(opts->token)) {
        SET_ERR(err, errlen, "the token is empty or has a space or a "
                             "control character");
        return HTTP_E_BAD_TOKEN;
    }
    strbuf_init(&req);
    bool v6 = strchr(url->host, ':') != NULL;
    int error = strbuf_printf(&req,
                              "%s %s%s HTTP/1.1\r\n"
                              "Host: %s%s%s:%s\r\n"
                              "User-Agent: mignet\r\n"
                              "Accept: application/json\r\n"
                              "%s",
                              method, url->prefix, path, v6 ? "[" : "",
                              url->host, v6 ? "]" : "", url->port,
                              s ? "" : "Connection: close\r\n");
    if (!error && opts->token) {
        error = strbuf_printf(&req, "Authorization: Bearer %s\r\n",
                              opts->token);
    }
    if (!error && body) {
        error = strbuf_printf(&req,
                              "Content-Type: application/json\r\n"
                              "Content-Length: %zu\r\n",
                              body_len);
    }
    if (!error) {
        error = strbuf_puts(&req, "\r\n");
    }
    if (!error && body) {
        error = strbuf_append(&req, body, body_len);
    }
    if (error) {
        strbuf_destroy(&req);
        return HTTP_E_NOMEM;
    }

    struct http_conn own = {.fd = -1, .why = ""};
    struct http_conn *c = s ? &s->conn : &own;
    struct sigpipe_guard guard;
    sigpipe_block(&guard);
    e = exchange_io(s, c, url, opts, &req, timeout_ms, deadline, resp, err,
                    errlen);
    sigpipe_restore(&guard);
    strbuf_destroy(&req);
    return e;
}

/* exchange()'s I/O: 'req' on 'c' (s's, or its own). */
static enum http_err
exchange_io(struct http_session *s, struct http_conn *c,
            const struct http_url *url, const struct http_opts *opts,
            const struct strbuf *req, int timeout_ms, int64_t deadline,
            struct http_response *resp, char *err, size_t errlen)
{
    enum http_err e;
    int error;
    if (s && c->fd >= 0
        && (!same_server(&s->url, url) || !conn_idle_usable(c))) {
        conn_close(c);
    }
    bool opened = c->fd < 0;
    if (!opened) {
        s->reused++;
        e = HTTP_E_OK;
    } else {
        error = sock_connect(url->host, url->port,
                             (int) (deadline - sock_now_ms()), &c->fd, err,
                             errlen);
        if (error) {
            c->fd = -1;
            return error == ENOENT      ? HTTP_E_RESOLVE
                   : error == ETIMEDOUT ? HTTP_E_TIMEOUT
                                        : HTTP_E_CONNECT;
        }
        if (s) {
            s->url = *url;
            s->opened++;
        }
        e = url->tls ? conn_tls(c, opts, url->host, deadline, err, errlen)
                     : HTTP_E_OK;
    }
    bool reusable = false;
    bool fresh_tls = !e && url->tls && opened;
    c->got = 0;
    if (!e) {
        e = send_all(c, req->data, req->len, deadline);
    }
    if (!e || e == HTTP_E_IO) {
        /* Even when the send failed the peer may have answered (e.g. 413
         * before reading the whole body): try to read it. */
        enum http_err re = receive(c, deadline, resp, &reusable);
        e = e && re && re != HTTP_E_TLS ? e : re; /* an alert says most */
    }
    if (fresh_tls && !c->got && (e == HTTP_E_IO || e == HTTP_E_TRUNCATED)) {
        /* TLS 1.3: a server refuses a client certificate (or its absence)
         * after the client's handshake ended; its alert may be lost when
         * it closes before we read it. */
        snprintf(c->why, sizeof c->why, "the server closed the connection "
                 "after the handshake without a word (it may refuse our "
                 "client certificate, or its absence)");
        e = HTTP_E_TLS;
    }
    if (e == HTTP_E_IO) {
        SET_ERR(err, errlen, "%s", strerror(errno));
    } else if (e == HTTP_E_TIMEOUT) {
        SET_ERR(err, errlen, "no complete answer within %d ms", timeout_ms);
    } else if (e == HTTP_E_TLS && c->why[0]) {
        SET_ERR(err, errlen, "%s", c->why);
    } else if (e && e != HTTP_E_TLS) {
        SET_ERR(err, errlen, "%s", http_strerror(e));
    }
    if (e || !reusable || !s) {
        conn_close(c);
    }
    return e;
}

enum http_err
http_request_opts(const struct http_url *url, const struct http_opts *opts,
                  const char *method, const char *path, const char *body,
                  size_t body_len, int timeout_ms,
                  struct http_response *resp, char *err, size_t errlen)
{
    return exchange(NULL, url, opts, method, path, body, body_len,
                    timeout_ms, resp, err, errlen);
}

enum http_err
http_session_request(struct http_session *s, const struct http_url *url,
                     const struct http_opts *opts, const char *method,
                     const char *path, const char *body, size_t body_len,
                     int timeout_ms, struct http_response *resp, char *err,
                     size_t errlen)
{
    return exchange(s, url, opts, method, path, body, body_len, timeout_ms,
                    resp, err, errlen);
}
