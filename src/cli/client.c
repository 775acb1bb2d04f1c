/* client.c: `mignet` as the VM manager's client of mignetd: parse, send one
 * request, print the answer, exit with a code scripts can rely on.
 *
 * This is the only part of the CLI that touches the world (environment,
 * clock, network, stdout/stderr).  It never retries a request that changes
 * state, and never reports success unless the controller answered 2xx. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/addr_list.h"
#include "lib/clock.h"
#include "lib/http_client.h"

static void
print_help(const struct cli_cmd *cmds, size_t n, const struct cli_parsed *p,
           FILE *stream)
{
    struct strbuf sb;
    strbuf_init(&sb);
    cli_help(cmds, n, p->cmd ? NULL : p->group, p->cmd, &sb);
    fputs(strbuf_str(&sb), stream);
    strbuf_destroy(&sb);
}

static int
usage_error(const struct cli_parsed *p, const char *err)
{
    fprintf(stderr, "mignet: %s\n", err);
    if (p->cmd) {
        fprintf(stderr, "Try 'mignet %s%s%s --help'.\n",
                p->cmd->group ? p->cmd->group : "",
                p->cmd->group ? " " : "", p->cmd->name);
    } else if (p->group) {
        fprintf(stderr, "Try 'mignet %s --help'.\n", p->group);
    } else {
        fprintf(stderr, "Try 'mignet --help'.\n");
    }
    return CLI_EXIT_USAGE;
}

/* Prints 'body' to stdout as received, ending with a newline. */
static void
print_body(const struct http_response *resp)
{
    fwrite(resp->body, 1, resp->body_len, stdout);
    if (resp->body_len && resp->body[resp->body_len - 1] != '\n') {
        putchar('\n');
    }
}

/* --token-out FILE: writes the answer's node token to FILE (mode 0600,
 * replaced if it exists) and takes it out of 'reply', so it is never
 * printed.  0, or an errno with a message on stderr. */
static int
save_token(const struct cli_parsed *p, json_t *reply)
{
    const char *path = cli_opt_value(p, "token-out");
    json_t *tok = json_is_object(reply) ? json_object_get(reply, "token")
                                        : NULL;
    if (!path) {
        return 0;
    }
    if (!json_is_string(tok)) {
        fprintf(stderr, "mignet: the answer carries no token\n");
        return EINVAL;
    }
    const char *text = json_string_value(tok);
    size_t len = strlen(text);
    int err = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600)
        || write(fd, text, len) != (ssize_t) len || write(fd, "\n", 1) != 1) {
        err = errno ? errno : EIO;
    }
    if (fd >= 0 && close(fd) && !err) {
        err = errno;
    }
    if (err) {
        fprintf(stderr, "mignet: cannot write the token to %s: %s; rotate "
                "it with 'mignet node token ID --token-out FILE'\n", path,
                strerror(err));
        return err;
    }
    json_object_del(reply, "token");
    return 0;
}

static int
handle_reply(const struct cli_parsed *p, const char *url_text,
             const struct http_response *resp)
{
    if (resp->status < 200 || resp->status > 299) {
        struct strbuf msg;
        strbuf_init(&msg);
        cli_format_error(resp->status, resp->reason, resp->body,
                         resp->body_len, &msg);
        fprintf(stderr, "mignet: %s\n", strbuf_str(&msg));
        strbuf_destroy(&msg);
        if (resp->status == 401) {
            fprintf(stderr, "mignet: the controller wants a valid API token:"
                            " give --token TOKEN or set MIGNET_TOKEN.\n");
        } else if (resp->status == 403) {
            fprintf(stderr, "mignet: the token's role may not do this; "
                            "use a token with a stronger role.\n");
        }
        if (p->json && resp->body_len) {
            json_t *j = json_loadb(resp->body, resp->body_len, 0, NULL);
            if (j) {
                print_body(resp);
                json_decref(j);
            }
        }
        return CLI_EXIT_CONTROLLER;
    }

    json_t *reply = NULL;
    if (resp->body_len) {
        json_error_t jerr;
        reply = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY,
                           &jerr);
        if (!reply) {
            fprintf(stderr,
                    "mignet: malformed answer from %s (status %d): %s\n",
                    url_text, resp->status, jerr.text);
            return CLI_EXIT_BAD_REPLY;
        }
    }
    if (save_token(p, reply)) {
        json_decref(reply);
        return CLI_EXIT_FAIL;
    }
    if (p->json && cli_opt_value(p, "token-out")) {
        char *text = json_dumps(reply, JSON_COMPACT);
        if (text) {
            puts(text);
        }
        free(text);
        json_decref(reply);
        return text ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    if (p->json) {
        print_body(resp);
        json_decref(reply);
        return CLI_EXIT_OK;
    }

    struct strbuf out;
    char err[256] = "";
    strbuf_init(&out);
    enum cli_exit rc = cli_render_reply(p, reply, clock_wall_ms(), &out, err,
                                        sizeof err);
    if (rc == CLI_EXIT_OK) {
        fputs(strbuf_str(&out), stdout);
    } else {
        fprintf(stderr, "mignet: unexpected answer from %s: %s\n", url_text,
                err);
    }
    strbuf_destroy(&out);
    json_decref(reply);
    return rc;
}

/* Reads the whole file 'path' (at most CLI_INPUT_MAX bytes) into a
 * malloc'ed, NUL-terminated '*buf'.  0 or an errno (EFBIG: too large). */
static int
read_input(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return errno;
    }
    char *b = malloc(CLI_INPUT_MAX + 1);
    if (!b) {
        fclose(f);
        return ENOMEM;
    }
    size_t n = fread(b, 1, CLI_INPUT_MAX + 1, f);
    int err = ferror(f) ? EIO : n > CLI_INPUT_MAX ? EFBIG : 0;
    fclose(f);
    if (err) {
        free(b);
        return err;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* An environment variable's value; NULL when unset or empty. */
/* A replica that does not lead (503 not_leader, docs/ha.md): the request
 * changed nothing, the next URL may be the leader. */
static bool
cli_not_leader(const struct http_response *resp)
{
    if (resp->status != 503 || !resp->body) {
        return false;
    }
    json_t *v = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *code = NULL;
    bool yes = v && !json_unpack(v, "{s:{s:s}}", "error", "code", &code)
               && !strcmp(code, "not_leader");
    json_decref(v);
    return yes;
}

static const char *
env_value(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int
cli_client_main(int argc, char **argv)
{
    size_t n;
    const struct cli_cmd *cmds = cli_commands(&n);
    struct cli_parsed p;
    char err[256];

    if (argc < 2) {
        memset(&p, 0, sizeof p);
        print_help(cmds, n, &p, stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_parse(cmds, n, argc, argv, &p, err, sizeof err)) {
        return usage_error(&p, err);
    }
    if (p.help) {
        print_help(cmds, n, &p, stdout);
        return CLI_EXIT_OK;
    }

    const char *urls_text = p.url;
    if (!urls_text) {
        urls_text = getenv("MIGNET_URL");
        if (!urls_text || !*urls_text) {
            urls_text = CLI_DEFAULT_URL;
        }
    }
    /* One URL, or one per replica of mignetd: tried in order. */
    struct addr_list urls;
    struct http_url url;
    char url_err[128];
    if (addr_list_parse(&urls, urls_text, url_err, sizeof url_err)) {
        snprintf(err, sizeof err, "bad controller URL list '%.120s': %.100s",
                 urls_text, url_err);
        return usage_error(&p, err);
    }
    for (size_t i = 0; i < urls.n; i++) {
        if (http_url_parse(urls.item[i], &url, url_err, sizeof url_err)) {
            snprintf(err, sizeof err, "bad controller URL '%.120s': %.100s",
                     urls.item[i], url_err);
            return usage_error(&p, err);
        }
    }

    char *input = NULL;
    if (CLI_CMD_READS_FILE(p.cmd)) {
        int ferr = read_input(p.pos[0], &input, &p.input_len);
        if (ferr) {
            fprintf(stderr, "mignet: cannot read %s: %s\n", p.pos[0],
                    ferr == EFBIG ? "larger than 16 MiB" : strerror(ferr));
            return CLI_EXIT_USAGE;
        }
        p.input = input;
    }
    struct cli_request req;
    cli_request_init(&req);
    bool built = p.cmd->build(&p, &req, err, sizeof err);
    free(input);
    p.input = NULL;
    if (!built) {
        cli_request_destroy(&req);
        return usage_error(&p, err);
    }

    struct http_opts opts = {
        .token = p.token ? p.token : env_value("MIGNET_TOKEN"),
        .cacert = p.cacert ? p.cacert : env_value("MIGNET_CACERT"),
    };
    struct http_response resp;
    http_response_init(&resp);
    int timeout = p.timeout_ms ? (int) p.timeout_ms : CLI_DEFAULT_TIMEOUT_MS;
    enum http_err e;
    const char *url_text;
    for (;;) {
        url_text = addr_list_current(&urls);
        http_url_parse(url_text, &url, url_err, sizeof url_err);
        e = http_request_opts(&url, &opts, req.method, strbuf_str(&req.path),
                              req.body, req.body ? strlen(req.body) : 0,
                              timeout, &resp, err, sizeof err);
        /* The next replica only when this request cannot have reached
         * anyone (no connection), a replica that does not lead refused it
         * (503 not_leader: nothing changed), or it reads and timed out: a
         * request that changes state is never sent twice. */
        bool unsent = e == HTTP_E_RESOLVE || e == HTTP_E_CONNECT
                      || (e == HTTP_E_OK && cli_not_leader(&resp));
        bool reads = !strcmp(req.method, "GET");
        if (!(unsent || (reads && e == HTTP_E_TIMEOUT))
            || addr_list_next(&urls, NULL)) {
            break;
        }
        http_response_destroy(&resp);
        http_response_init(&resp);
    }
    int rc;
    if (e == HTTP_E_OK) {
        rc = handle_reply(&p, url_text, &resp);
    } else if (e == HTTP_E_BAD_TOKEN) {
        fprintf(stderr, "mignet: bad --token or MIGNET_TOKEN: %s\n", err);
        rc = CLI_EXIT_USAGE;
    } else if (e == HTTP_E_TLS) {
        fprintf(stderr,
                "mignet: no trusted TLS connection to %s: %s\n"
                "Give the controller's CA with --cacert FILE.\n",
                url_text, err);
        rc = CLI_EXIT_UNREACHABLE;
    } else if (http_err_is_unreachable(e) || e == HTTP_E_IO) {
        fprintf(stderr,
                "mignet: cannot reach the controller at %s: %s (%s)\n"
                "Is mignetd running?  Set --url or MIGNET_URL.\n",
                urls.n > 1 ? urls_text : url_text, http_strerror(e), err);
        rc = CLI_EXIT_UNREACHABLE;
    } else if (e == HTTP_E_NOMEM) {
        fprintf(stderr, "mignet: out of memory\n");
        rc = CLI_EXIT_FAIL;
    } else {
        fprintf(stderr, "mignet: malformed answer from %s: %s\n", url_text,
                http_strerror(e));
        rc = CLI_EXIT_BAD_REPLY;
    }
    http_response_destroy(&resp);
    cli_request_destroy(&req);
    return rc;
}
