/* test_http_client.c: the HTTP response parser on well-formed and malformed
 * responses, URL parsing and path escaping.
 *
 * Every malformed response must be refused with its specific error and
 * without touching the caller's previous response; every well-formed one
 * must yield exactly its body, whichever way it is framed.  Some tests run
 * real requests against a loopback listener in a child process: plain,
 * on a connection kept open (http_session), and over TLS with client
 * certificates from a PKI the test makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/http_client.h"
#include "lib/strbuf.h"
#include "lib/tls.h"

static enum http_err
parse(const char *text, bool eof, struct http_response *r)
{
    return http_response_parse(text, strlen(text), eof, r);
}

static void
test_content_length(void **state)
{
    struct http_response r;
    http_response_init(&r);
    const char *text = "HTTP/1.1 201 Created\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: 11\r\n"
                       "\r\n"
                       "{\"id\":\"n1\"}";
    assert_int_equal(parse(text, false, &r), HTTP_E_OK);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.reason, "Created");
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(r.body_len, 11);
    assert_string_equal(r.body, "{\"id\":\"n1\"}");

    /* Every strict prefix is incomplete; at EOF it is truncated. */
    struct http_response r2;
    http_response_init(&r2);
    for (size_t n = 0; n < strlen(text); n++) {
        assert_int_equal(http_response_parse(text, n, false, &r2),
                         HTTP_E_INCOMPLETE);
        assert_int_equal(http_response_parse(text, n, true, &r2),
                         HTTP_E_TRUNCATED);
    }
    assert_null(r2.body);
    http_response_destroy(&r);
}

static void
test_bare_lf_and_case(void **state)
{
    struct http_response r;
    http_response_init(&r);
    assert_int_equal(parse("HTTP/1.0 404 Not Found\n"
                           "content-LENGTH:   3  \n"
                           "\n"
                           "abcEXTRA",
                           false, &r),
                     HTTP_E_OK);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_len, 3);
    assert_string_equal(r.body, "abc");
    http_response_destroy(&r);
}

static void
test_chunked(void **state)
{
    struct http_response r;
    http_response_init(&r);
    const char *text = "HTTP/1.1 200 OK\r\n"
                       "Transfer-Encoding: gzip, Chunked\r\n"
                       "Content-Length: 1\r\n"
                       "\r\n"
                       "4;ext=1\r\nWiki\r\n"
                       "A\r\npedia in\r\n\r\n"
                       "0\r\n"
                       "X-Trailer: yes\r\n"
                       "\r\n";
    assert_int_equal(parse(text, false, &r), HTTP_E_OK);
    assert_int_equal(r.body_len, 14);
    assert_string_equal(r.body, "Wikipedia in\r\n");
    for (size_t n = 0; n < strlen(text); n++) {
        struct http_response r2;
        http_response_init(&r2);
        assert_int_equal(http_response_parse(text, n, false, &r2),
                         HTTP_E_INCOMPLETE);
    }
    http_response_destroy(&r);
}

static void
test_read_to_close(void **state)
{
    struct http_response r;
    http_response_init(&r);
    const char *text = "HTTP/1.1 200 OK\r\n\r\n{\"a\":1}";
    assert_int_equal(parse(text, false, &r), HTTP_E_INCOMPLETE);
    assert_int_equal(parse(text, true, &r), HTTP_E_OK);
    assert_string_equal(r.body, "{\"a\":1}");
    /* A non-chunked Transfer-Encoding also reads to close, ignoring any
     * Content-Length. */
    text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
           "Transfer-Encoding: identity\r\n\r\nabcd";
    assert_int_equal(parse(text, false, &r), HTTP_E_INCOMPLETE);
    assert_int_equal(parse(text, true, &r), HTTP_E_OK);
    assert_string_equal(r.body, "abcd");
    http_response_destroy(&r);
}

static void
test_no_body_statuses_and_interim(void **state)
{
    struct http_response r;
    http_response_init(&r);
    assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", false, &r),
                     HTTP_E_OK);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body_len, 0);
    assert_non_null(r.body);
    assert_int_equal(parse("HTTP/1.1 100 Continue\r\n\r\n"
                           "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n"
                           "\r\n{}",
                           false, &r),
                     HTTP_E_OK);
    assert_int_equal(r.status, 202);
    assert_string_equal(r.body, "{}");
    http_response_destroy(&r);
}

struct bad_case {
    const char *text;
    enum http_err expect;
};

static const struct bad_case bad_cases[] = {
    {"HTTP/2 200 OK\r\n\r\n", HTTP_E_BAD_STATUS},
    {"HTTP/1.1 20 OK\r\n\r\n", HTTP_E_BAD_STATUS},
    {"HTTP/1.1 2000 OK\r\n\r\n", HTTP_E_BAD_STATUS},
    {"HTTP/1.1 600 Nope\r\n\r\n", HTTP_E_BAD_STATUS},
    {"HTTP/1.1 099 Nope\r\n\r\n", HTTP_E_BAD_STATUS},
    {"HTTP/1.1  200 OK\r\n\r\n", HTTP_E_BAD_STATUS},
    {"HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_E_BAD_STATUS},
    {"HTTP/1.1 2x0 OK\r\n\r\n", HTTP_E_BAD_STATUS},
    {"SSH-2.0-OpenSSH\r\n\r\n", HTTP_E_BAD_STATUS},
    {"\r\n\r\n", HTTP_E_BAD_STATUS},
    {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", HTTP_E_BAD_HEADER},
    {"HTTP/1.1 200 OK\r\n: empty\r\n\r\n", HTTP_E_BAD_HEADER},
    {"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", HTTP_E_BAD_HEADER},
    {"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", HTTP_E_BAD_HEADER},
    {"HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", HTTP_E_BAD_HEADER},
    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HTTP_E_BAD_LENGTH},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", HTTP_E_BAD_LENGTH},
    {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", HTTP_E_BAD_LENGTH},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx",
     HTTP_E_BAD_LENGTH},
    {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
     HTTP_E_BAD_LENGTH},
    {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     HTTP_E_TOO_LARGE},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     HTTP_E_BAD_CHUNK},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
     HTTP_E_BAD_CHUNK},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n",
     HTTP_E_BAD_CHUNK},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n",
     HTTP_E_BAD_CHUNK},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "fffffffffffffffffff\r\n",
     HTTP_E_TOO_LARGE},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "4000001\r\n",
     HTTP_E_TOO_LARGE},
};

static void
test_malformed(void **state)
{
    struct http_response r;
    http_response_init(&r);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkeep",
                           false, &r),
                     HTTP_E_OK);
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        for (int eof = 0; eof < 2; eof++) {
            enum http_err e = parse(bad_cases[i].text, eof, &r);
            if (e != bad_cases[i].expect) {
                fail_msg("case %zu eof=%d: got %s, want %s", i, eof,
                         http_strerror(e),
                         http_strerror(bad_cases[i].expect));
            }
        }
        /* The previous good response is untouched. */
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "keep");
    }
    http_response_destroy(&r);
}

static void
test_oversized_header(void **state)
{
    struct strbuf sb;
    struct http_response r;
    http_response_init(&r);
    strbuf_init(&sb);
    strbuf_puts(&sb, "HTTP/1.1 200 OK\r\nX-Big: ");
    strbuf_pad(&sb, 'a', HTTP_MAX_HEADER);
    assert_int_equal(http_response_parse(sb.data, sb.len, false, &r),
                     HTTP_E_TOO_LARGE);
    /* Just under the limit with no end yet: still incomplete. */
    strbuf_truncate(&sb, HTTP_MAX_HEADER - 10);
    assert_int_equal(http_response_parse(sb.data, sb.len, false, &r),
                     HTTP_E_INCOMPLETE);
    strbuf_destroy(&sb);
}

static void
test_url_parse(void **state)
{
    struct http_url u;
    char err[128];

    assert_int_equal(http_url_parse("http://127.0.0.1:7480", &u, err,
                                    sizeof err),
                     HTTP_E_OK);
    assert_string_equal(u.host, "127.0.0.1");
    assert_string_equal(u.port, "7480");
    assert_string_equal(u.prefix, "");
    assert_int_equal(http_url_parse("HTTP://ctl.example/api/", &u, err,
                                    sizeof err),
                     HTTP_E_OK);
    assert_string_equal(u.host, "ctl.example");
    assert_string_equal(u.port, "80");
    assert_string_equal(u.prefix, "/api");
    assert_int_equal(http_url_parse("http://[::1]:81/x", &u, err,
                                    sizeof err),
                     HTTP_E_OK);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.port, "81");
    assert_string_equal(u.prefix, "/x");
    assert_false(u.tls);
    assert_int_equal(http_url_parse("https://ctl.example/api", &u, err,
                                    sizeof err),
                     HTTP_E_OK);
    assert_true(u.tls);
    assert_string_equal(u.host, "ctl.example");
    assert_string_equal(u.port, "443");
    assert_string_equal(u.prefix, "/api");
    assert_int_equal(http_url_parse("HTTPS://127.0.0.1:7443", &u, err,
                                    sizeof err),
                     HTTP_E_OK);
    assert_true(u.tls);
    assert_string_equal(u.port, "7443");

    static const char *const bad[] = {
        "127.0.0.1:7480",       "https://",           "http://",
        "http://:80",           "http://h:0",         "http://h:65536",
        "http://h:12a",         "http://h:",          "http://[::1",
        "http://h x",           "http://u@h",         "http://h/?q",
        "http://h\r\nX: y",     "ftp://h",            "http://[::1]x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (http_url_parse(bad[i], &u, err, sizeof err) != HTTP_E_BAD_URL) {
            fail_msg("accepted bad URL '%s'", bad[i]);
        }
        assert_true(strlen(err) > 0);
    }
}

static void
test_escape(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb);
    assert_int_equal(http_escape(&sb, "vm-1.a_b~"), 0);
    assert_string_equal(strbuf_str(&sb), "vm-1.a_b~");
    strbuf_clear(&sb);
    assert_int_equal(http_escape(&sb, "a/b c:d?\r\n\xff"), 0);
    assert_string_equal(strbuf_str(&sb), "a%2Fb%20c%3Ad%3F%0D%0A%FF");
    strbuf_destroy(&sb);
}

/* A listening socket on an ephemeral loopback port, and '*url' for it:
 * "SCHEME://127.0.0.1:PORTSUFFIX". */
static int
listen_loopback(const char *scheme, const char *suffix, struct http_url *url)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(listen(lfd, 4), 0);
    socklen_t slen = sizeof sin;
    assert_int_equal(getsockname(lfd, (struct sockaddr *) &sin, &slen), 0);
    char text[64], err[128];
    snprintf(text, sizeof text, "%s://127.0.0.1:%d%s", scheme,
             ntohs(sin.sin_port), suffix);
    assert_int_equal(http_url_parse(text, url, err, sizeof err), HTTP_E_OK);
    return lfd;
}

/* A real request against a child process that answers with 'reply' in
 * small pieces and returns what it received through a pipe. */
static void
test_request_loopback(void **state)
{
    struct http_url url;
    int lfd = listen_loopback("http", "/pre", &url);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static const char reply[] = "HTTP/1.1 409 Conflict\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n"
                                    "5\r\n{\"err\r\n3\r\nor\"\r\n"
                                    "3\r\n:1}\r\n0\r\n\r\n";
        int fd = accept(lfd, NULL, NULL);
        char buf[4096];
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t n = read(fd, buf + got, sizeof buf - got);
            if (n <= 0) {
                break;
            }
            got += (size_t) n;
            if (got >= 4 && memmem(buf, got, "\r\n\r\n{}", 6)) {
                break;
            }
        }
        if (write(pipefd[1], buf, got) < 0) {
            _exit(1);
        }
        for (size_t i = 0; i < sizeof reply - 1; i += 7) {
            size_t n = sizeof reply - 1 - i < 7 ? sizeof reply - 1 - i : 7;
            if (write(fd, reply + i, n) < 0) {
                _exit(1);
            }
            usleep(1000);
        }
        close(fd);
        _exit(0);
    }
    close(pipefd[1]);

    char err[128];
    struct http_response r;
    http_response_init(&r);
    /* A token that could break the header is refused before connecting. */
    static const char *const bad_tokens[] = {"", "a b", "x\r\nX-Y: z",
                                             "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++) {
        struct http_opts bo = {.token = bad_tokens[i]};
        assert_int_equal(http_request_opts(&url, &bo, "GET", "/", NULL, 0,
                                           5000, &r, err, sizeof err),
                         HTTP_E_BAD_TOKEN);
    }
    struct http_opts opts = {.token = "mgn_tok-en.1"};
    assert_int_equal(http_request_opts(&url, &opts, "POST", "/v1/x?y=1",
                                       "{}", 2, 5000, &r, err, sizeof err),
                     HTTP_E_OK);
    assert_int_equal(r.status, 409);
    assert_string_equal(r.body, "{\"error\":1}");

    char got[4096] = {0};
    ssize_t n = read(pipefd[0], got, sizeof got - 1);
    assert_true(n > 0);
    assert_non_null(strstr(got, "POST /pre/v1/x?y=1 HTTP/1.1\r\n"));
    assert_non_null(strstr(got, "Content-Length: 2\r\n"));
    assert_non_null(strstr(got, "Authorization: Bearer mgn_tok-en.1\r\n"));
    assert_non_null(strstr(got, "Host: 127.0.0.1:"));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pipefd[0]);

    /* The listener is gone once closed: connecting fails as unreachable. */
    close(lfd);
    enum http_err e = http_request(&url, "GET", "/", NULL, 0, 2000, &r, err,
                                   sizeof err);
    assert_int_equal(e, HTTP_E_CONNECT);
    assert_true(http_err_is_unreachable(e));
    assert_non_null(strstr(err, "refused"));
    http_response_destroy(&r);
}

/* The child of test_session: on the first connection answers three
 * requests (the third with "Connection: close", then closes); on the
 * second, one request and closes.  Each request ends with its 2-byte
 * body "{}" (or with its head: GET). */
static void
session_server(int lfd)
{
    static const char *const replies[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\"a\"",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\n\"b\"\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n"
        "\r\n\"c\"",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\"d\"",
    };
    size_t next = 0;
    for (int conn = 0; conn < 2; conn++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            _exit(1);
        }
        for (int req = 0; req < (conn ? 1 : 3); req++) {
            char buf[4096];
            size_t got = 0;
            while (!memmem(buf, got, "\r\n\r\n", 4)) {
                ssize_t n = read(fd, buf + got, sizeof buf - got);
                if (n <= 0) {
                    _exit(2);
                }
                got += (size_t) n;
            }
            /* A request on a connection closed after its answer must
             * never come: "Connection: close" was not sent by the
             * client. */
            if (memmem(buf, got, "Connection: close", 17)) {
                _exit(3);
            }
            const char *r = replies[next++];
            if (write(fd, r, strlen(r)) < 0) {
                _exit(4);
            }
        }
        close(fd);
    }
    _exit(0);
}

/* A session keeps its connection for the next request while the server
 * keeps it open, and opens another when the server said close. */
static void
test_session(void **state)
{
    (void) state;
    struct http_url url;
    int lfd = listen_loopback("http", "", &url);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        session_server(lfd);
    }
    struct http_session *s = http_session_create();
    struct http_response r;
    http_response_init(&r);
    char err[256];
    static const char *const want[] = {"\"a\"", "\"b\"", "\"c\"",
                                       "\"d\""};
    uint64_t opened, reused;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(http_session_request(s, &url, NULL, "GET", "/x",
                                              NULL, 0, 5000, &r, err,
                                              sizeof err),
                         HTTP_E_OK);
        assert_string_equal(r.body, want[i]);
    }
    http_session_counts(s, &opened, &reused);
    assert_int_equal(opened, 2); /* the third answer said close */
    assert_int_equal(reused, 2);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* The server is gone: the idle connection it closed is not used, a
     * new one is refused (unreachable), nothing is sent twice. */
    close(lfd);
    assert_int_equal(http_session_request(s, &url, NULL, "GET", "/x", NULL,
                                          0, 2000, &r, err, sizeof err),
                     HTTP_E_CONNECT);
    http_session_counts(s, &opened, &reused);
    assert_int_equal(reused, 2);
    http_session_destroy(s);
    http_session_destroy(NULL);
    http_response_destroy(&r);
}

/* https to something that is not a TLS server, or with a CA file that
 * does not load: HTTP_E_TLS with the reason, never a response. */
static void
test_tls_refused(void **state)
{
    (void) state;
    struct http_url url;
    int lfd = listen_loopback("https", "", &url);
    char err[256];
    struct http_response r;
    http_response_init(&r);

    /* The connection is queued by the kernel; the CA file is the error. */
    struct http_opts bad_ca = {.cacert = "/nonexistent/ca.pem"};
    assert_int_equal(http_request_opts(&url, &bad_ca, "GET", "/", NULL, 0,
                                       5000, &r, err, sizeof err),
                     HTTP_E_TLS);
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Drop the first (queued) connection, answer plain HTTP on the
         * next. */
        int fd = accept(lfd, NULL, NULL);
        close(fd);
        fd = accept(lfd, NULL, NULL);
        char buf[512];
        if (read(fd, buf, sizeof buf) <= 0) {
            _exit(1);
        }
        static const char plain[] = "HTTP/1.1 200 OK\r\n"
                                    "Content-Length: 2\r\n\r\n{}";
        if (write(fd, plain, sizeof plain - 1) < 0) {
            _exit(1);
        }
        close(fd);
        _exit(0);
    }
    assert_int_equal(http_request_opts(&url, NULL, "GET", "/", NULL, 0,
                                       5000, &r, err, sizeof err),
                     HTTP_E_TLS);
    assert_non_null(strstr(err, "TLS handshake failed"));
    assert_int_equal(r.status, 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(lfd);
    http_response_destroy(&r);
}

/* ---- https with client certificates (lib/tls.c) ---- */

/* A throwaway PKI made with libcrypto in a temporary directory: a CA, a
 * server certificate for IP 127.0.0.1 and a client certificate (CN
 * "client") signed by it, and another CA with a key of its own. */
static char pki[256];

static void
pki_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", pki, name);
}

static void
pki_write(const char *name, X509 *cert, EVP_PKEY *key)
{
    char path[300];
    pki_path(path, sizeof path, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(cert ? PEM_write_X509(f, cert)
                          : PEM_write_PrivateKey(f, key, NULL, NULL, 0,
                                                 NULL, NULL),
                     1);
    assert_int_equal(fclose(f), 0);
}

static void
pki_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

/* A certificate for 'key' named 'cn', signed by 'issuer' ('ikey'), or
 * self-signed (a CA) when 'issuer' is NULL. */
static X509 *
pki_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
         const char *san)
{
    static long serial = 1;
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *) cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    pki_ext(x, issuer, NID_basic_constraints,
            issuer ? "CA:FALSE" : "critical,CA:TRUE");
    if (san) {
        pki_ext(x, issuer, NID_subject_alt_name, san);
    }
    assert_true(X509_sign(x, issuer ? ikey : key, EVP_sha256()) > 0);
    return x;
}

static void
pki_make(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(pki, sizeof pki, "%s/mignet-pki-XXXXXX",
             base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(pki));
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256"),
             *cli_key = EVP_EC_gen("P-256"), *other_key = EVP_EC_gen("P-256");
    assert_true(ca_key && srv_key && cli_key && other_key);
    X509 *ca = pki_cert("test CA", ca_key, NULL, NULL, NULL);
    X509 *other = pki_cert("other CA", other_key, NULL, NULL, NULL);
    X509 *srv = pki_cert("server", srv_key, ca, ca_key, "IP:127.0.0.1");
    X509 *cli = pki_cert("client", cli_key, ca, ca_key, NULL);
    pki_write("ca.pem", ca, NULL);
    pki_write("other-ca.pem", other, NULL);
    pki_write("server.pem", srv, NULL);
    pki_write("server.key", NULL, srv_key);
    pki_write("client.pem", cli, NULL);
    pki_write("client.key", NULL, cli_key);
    pki_write("other.key", NULL, other_key);
    X509 *certs[] = {ca, other, srv, cli};
    EVP_PKEY *keys[] = {ca_key, srv_key, cli_key, other_key};
    for (size_t i = 0; i < 4; i++) {
        X509_free(certs[i]);
        EVP_PKEY_free(keys[i]);
    }
}

static void
pki_remove(void)
{
    static const char *const names[] = {"ca.pem", "other-ca.pem",
                                        "server.pem", "server.key",
                                        "client.pem", "client.key",
                                        "other.key"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[300];
        pki_path(path, sizeof path, names[i]);
        unlink(path);
    }
    rmdir(pki);
}

/* The child of test_tls_client_cert: a TLS server that requires a client
 * certificate signed by the test CA and answers each request on a
 * connection (keep-alive) with the client certificate's CN. */
static void
tls_server(int lfd)
{
    char cert[300], key[300], ca[300], err[256];
    pki_path(cert, sizeof cert, "server.pem");
    pki_path(key, sizeof key, "server.key");
    pki_path(ca, sizeof ca, "ca.pem");
    SSL_CTX *ctx = tls_server_ctx(cert, key, err, sizeof err);
    if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        _exit(1);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
        if (!ssl) {
            _exit(2);
        }
        SSL_set_fd(ssl, fd);
        X509 *peer = NULL;
        char cn[64] = "";
        if (SSL_accept(ssl) == 1 && (peer = SSL_get1_peer_certificate(ssl))) {
            X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
                                      NID_commonName, cn, sizeof cn);
            X509_free(peer);
        }
        char buf[4096];
        while (cn[0]) {
            size_t got = 0;
            while (!memmem(buf, got, "\r\n\r\n", 4)) {
                int n = SSL_read(ssl, buf + got, (int) (sizeof buf - got));
                if (n <= 0) {
                    cn[0] = '\0';
                    break;
                }
                got += (size_t) n;
            }
            char reply[256];
            int n = snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\n"
                             "Content-Length: %zu\r\n\r\n%s", strlen(cn),
                             cn);
            if (cn[0] && SSL_write(ssl, reply, n) != n) {
                break;
            }
        }
        SSL_free(ssl);
        close(fd);
    }
}

/* https to a server that requires a client certificate: with one (from
 * files or a context made once, on a connection kept open) the server
 * sees it; without one, with a certificate but no key, with a key that
 * does not match, or with the wrong CA for the server: HTTP_E_TLS with
 * the reason, never a response. */
static void
test_tls_client_cert(void **state)
{
    (void) state;
    pki_make();
    struct http_url url;
    int lfd = listen_loopback("https", "", &url);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        tls_server(lfd);
    }
    char ca[300], other_ca[300], cert[300], key[300], other_key[300];
    pki_path(ca, sizeof ca, "ca.pem");
    pki_path(other_ca, sizeof other_ca, "other-ca.pem");
    pki_path(cert, sizeof cert, "client.pem");
    pki_path(key, sizeof key, "client.key");
    pki_path(other_key, sizeof other_key, "other.key");
    struct http_response r;
    http_response_init(&r);
    char err[256];

    struct http_opts files = {.cacert = ca, .cert = cert, .key = key};
    assert_int_equal(http_request_opts(&url, &files, "GET", "/", NULL, 0,
                                       5000, &r, err, sizeof err),
                     HTTP_E_OK);
    assert_string_equal(r.body, "client");

    SSL_CTX *ctx = tls_client_ctx_cert(ca, cert, key, err, sizeof err);
    assert_non_null(ctx);
    struct http_opts made = {.ctx = ctx};
    struct http_session *s = http_session_create();
    for (int i = 0; i < 3; i++) {
        http_response_destroy(&r);
        assert_int_equal(http_session_request(s, &url, &made, "GET", "/",
                                              NULL, 0, 5000, &r, err,
                                              sizeof err),
                         HTTP_E_OK);
        assert_string_equal(r.body, "client");
    }
    uint64_t opened, reused;
    http_session_counts(s, &opened, &reused);
    assert_int_equal(opened, 1);
    assert_int_equal(reused, 2);
    http_session_destroy(s);
    SSL_CTX_free(ctx); /* the caller's, kept alive by nothing else */

    struct {
        struct http_opts opts;
        const char *want;
    } refused[] = {
        {{.cacert = ca}, ""}, /* the server refuses: its reason varies */
        {{.cacert = ca, .cert = cert}, "needs its key"},
        {{.cacert = ca, .cert = cert, .key = other_key}, "does not match"},
        {{.cacert = other_ca, .cert = cert, .key = key},
         "certificate verify failed"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        http_response_destroy(&r);
        enum http_err e = http_request_opts(&url, &refused[i].opts, "GET",
                                            "/", NULL, 0, 5000, &r, err,
                                            sizeof err);
        if (e != HTTP_E_TLS || !strstr(err, refused[i].want) || r.body) {
            fail_msg("case %zu: %s: %s (want HTTP_E_TLS, '%s')", i,
                     http_strerror(e), err, refused[i].want);
        }
    }
    assert_null(tls_client_ctx_cert(ca, cert, other_key, err, sizeof err));
    assert_non_null(strstr(err, "does not match"));
    assert_null(tls_client_ctx_cert(ca, NULL, key, err, sizeof err));
    assert_null(tls_client_ctx_cert("/nonexistent.pem", NULL, NULL, err,
                                    sizeof err));
    assert_non_null(strstr(err, "No such file"));

    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(lfd);
    http_response_destroy(&r);
    pki_remove();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_bare_lf_and_case),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_read_to_close),
        cmocka_unit_test(test_no_body_statuses_and_interim),
        cmocka_unit_test(test_tls_refused),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_oversized_header),
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_request_loopback),
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_tls_client_cert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
