/* http_client.c: blocking HTTP/1.1 client and response parser (see
 * http_client.h).
 *
 * The parser trusts nothing it reads: every length is bounded and checked
 * for overflow before use, and a response is only accepted when it can be
 * framed exactly (Content-Length, chunked, or read to close).  The I/O half
 * never blocks past its deadline and never raises SIGPIPE. */
#include "lib/http_client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/sock.h"
#include "lib/strbuf.h"
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
    static const char scheme[] = "http://";

    if (!url || strncasecmp(url, scheme, sizeof scheme - 1)) {
        if (url && !strncasecmp(url, "https://", 8)) {
            SET_ERR(err, errlen, "https is not supported; use http://");
        } else {
            SET_ERR(err, errlen, "URL must start with http://");
        }
        return HTTP_E_BAD_URL;
    }
    const char *p = url + sizeof scheme - 1;
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
    snprintf(u.port, sizeof u.port, "80");
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

enum http_err
http_response_parse(const char *buf, size_t len, bool eof,
                    struct http_response *resp)
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
        }
    } else if (avail > HTTP_MAX_BODY) {
        e = HTTP_E_TOO_LARGE;
    } else if (!eof) {
        e = HTTP_E_INCOMPLETE; /* framed by the close */
    } else if (strbuf_append(&body, c.p, avail)) {
        e = HTTP_E_NOMEM;
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
    return HTTP_E_OK;

fail:
    if (e == HTTP_E_INCOMPLETE && eof) {
        e = HTTP_E_TRUNCATED;
    }
    return e;
}

/* ---- I/O ---- */

/* Waits for 'events' on 'fd' until 'deadline'. */
static enum http_err
wait_fd(int fd, short events, int64_t deadline)
{
    int error = sock_wait(fd, events, deadline);
    return !error ? HTTP_E_OK
                  : error == ETIMEDOUT ? HTTP_E_TIMEOUT : HTTP_E_IO;
}

static enum http_err
send_all(int fd, const char *data, size_t len, int64_t deadline)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t) n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            enum http_err e = wait_fd(fd, POLLOUT, deadline);
            if (e) {
                return e;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return HTTP_E_IO;
        }
    }
    return HTTP_E_OK;
}

static enum http_err
receive(int fd, int64_t deadline, struct http_response *resp)
{
    struct strbuf in;
    enum http_err e;

    strbuf_init(&in);
    for (;;) {
        char chunk[16384];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n > 0) {
            if (in.len + (size_t) n
                > (size_t) HTTP_MAX_HEADER + HTTP_MAX_BODY * 2) {
                e = HTTP_E_TOO_LARGE;
                break;
            }
            if (strbuf_append(&in, chunk, (size_t) n)) {
                e = HTTP_E_NOMEM;
                break;
            }
            e = http_response_parse(in.data, in.len, false, resp);
            if (e != HTTP_E_INCOMPLETE) {
                break;
            }
        } else if (n == 0) {
            e = http_response_parse(strbuf_str(&in), in.len, true, resp);
            break;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            e = wait_fd(fd, POLLIN, deadline);
            if (e) {
                break;
            }
        } else if (errno != EINTR) {
            e = HTTP_E_IO;
            break;
        }
    }
    strbuf_destroy(&in);
    return e;
}

enum http_err
http_request(const struct http_url *url, const char *method,
             const char *path, const char *body, size_t body_len,
             int timeout_ms, struct http_response *resp, char *err,
             size_t errlen)
{
    int64_t deadline = sock_now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    struct strbuf req;
    enum http_err e;

    SET_ERR(err, errlen, "%s", "");
    strbuf_init(&req);
    bool v6 = strchr(url->host, ':') != NULL;
    int error = strbuf_printf(&req,
                              "%s %s%s HTTP/1.1\r\n"
                              "Host: %s%s%s:%s\r\n"
                              "User-Agent: mignet\r\n"
                              "Accept: application/json\r\n"
                              "Connection: close\r\n",
                              method, url->prefix, path, v6 ? "[" : "",
                              url->host, v6 ? "]" : "", url->port);
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

    int fd = -1;
    error = sock_connect(url->host, url->port,
                         (int) (deadline - sock_now_ms()), &fd, err, errlen);
    if (error) {
        strbuf_destroy(&req);
        return error == ENOENT      ? HTTP_E_RESOLVE
               : error == ETIMEDOUT ? HTTP_E_TIMEOUT
                                    : HTTP_E_CONNECT;
    }

    e = send_all(fd, req.data, req.len, deadline);
    if (!e || e == HTTP_E_IO) {
        /* Even when the send failed the peer may have answered (e.g. 413
         * before reading the whole body): try to read it. */
        enum http_err re = receive(fd, deadline, resp);
        e = e && re ? e : re;
    }
    if (e == HTTP_E_IO) {
        SET_ERR(err, errlen, "%s", strerror(errno));
    } else if (e == HTTP_E_TIMEOUT) {
        SET_ERR(err, errlen, "no complete answer within %d ms", timeout_ms);
    } else if (e) {
        SET_ERR(err, errlen, "%s", http_strerror(e));
    }
    close(fd);
    strbuf_destroy(&req);
    return e;
}
