/* rest_auth.c: bearer tokens and roles for the northbound API.
 *
 * Tokens are kept only as SHA-256 digests and a presented token is hashed
 * and compared with every one of them with CRYPTO_memcmp, so neither the
 * answer's timing nor an early exit tells how much of a guess was right.
 * The gate runs before a handler sees the request and changes nothing but
 * the refusal counters. */
#include "controller/rest_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "controller/ctl.h"
#include "controller/metrics.h"
#include "controller/rest_parse.h"
#include "lib/strbuf.h"
#include "lib/tls.h"
#include "lib/util.h"

struct rest_token {
    unsigned char digest[TLS_SHA256_LEN];
    enum rest_role role;
    char name[REST_TOKEN_NAME_MAX + 1];
};

struct rest_tokens {
    struct rest_token *v;
    size_t n;
};

const char *
rest_role_name(enum rest_role r)
{
    static const char *const names[] = {
#define REST_ROLE(ENUM, NAME) NAME,
        REST_ROLES
#undef REST_ROLE
    };
    return (size_t) r < sizeof names / sizeof names[0] ? names[r] : "?";
}

/* ---- The token file ---- */

static bool
token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c && strchr("._~+/=-", c));
}

static bool
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Splits 'line' ('n' bytes, no newline) into at most 'max' fields
 * separated by blanks; returns the number found, or max + 1 if more. */
static size_t
split_fields(const char *line, size_t n, const char **f, size_t *flen,
             size_t max)
{
    size_t k = 0, i = 0;
    while (i < n) {
        while (i < n && (line[i] == ' ' || line[i] == '\t')) {
            i++;
        }
        if (i == n) {
            break;
        }
        if (k == max) {
            return max + 1;
        }
        f[k] = line + i;
        while (i < n && line[i] != ' ' && line[i] != '\t') {
            i++;
        }
        flen[k] = (size_t) (line + i - f[k]);
        k++;
    }
    return k;
}

/* Checks one line's fields and appends its token; false with 'why'. */
static bool
parse_line(struct rest_tokens *t, const char *line, size_t n, char *why,
           size_t whylen)
{
    const char *f[3];
    size_t flen[3];
    size_t k = split_fields(line, n, f, flen, 3);
    if (k < 2 || k > 3) {
        snprintf(why, whylen, "expected 'ROLE TOKEN [NAME]'");
        return false;
    }
    enum rest_role role;
    if (flen[0] == 5 && !memcmp(f[0], "admin", 5)) {
        role = REST_ROLE_ADMIN;
    } else if (flen[0] == 3 && !memcmp(f[0], "vmm", 3)) {
        role = REST_ROLE_VMM;
    } else if (flen[0] == 6 && !memcmp(f[0], "reader", 6)) {
        role = REST_ROLE_READER;
    } else {
        snprintf(why, whylen, "unknown role '%.*s' (admin, vmm or reader)",
                 (int) (flen[0] < 16 ? flen[0] : 16), f[0]);
        return false;
    }
    if (flen[1] < REST_TOKEN_MIN || flen[1] > REST_TOKEN_MAX) {
        snprintf(why, whylen, "a token has %d to %d characters",
                 REST_TOKEN_MIN, REST_TOKEN_MAX);
        return false;
    }
    for (size_t i = 0; i < flen[1]; i++) {
        if (!token_char(f[1][i])) {
            snprintf(why, whylen, "a token has only A-Z a-z 0-9 . _ ~ + "
                     "/ = -");
            return false;
        }
    }
    struct rest_token tok = {.role = role};
    if (k == 3) {
        if (flen[2] > REST_TOKEN_NAME_MAX) {
            snprintf(why, whylen, "a name has at most %d characters",
                     REST_TOKEN_NAME_MAX);
            return false;
        }
        for (size_t i = 0; i < flen[2]; i++) {
            if (!name_char(f[2][i])) {
                snprintf(why, whylen, "a name has only A-Z a-z 0-9 . _ -");
                return false;
            }
        }
        memcpy(tok.name, f[2], flen[2]);
    }
    tls_sha256(f[1], flen[1], tok.digest);
    for (size_t i = 0; i < t->n; i++) {
        if (!memcmp(t->v[i].digest, tok.digest, sizeof tok.digest)) {
            snprintf(why, whylen, "the token is already given on an "
                     "earlier line");
            return false;
        }
    }
    if (t->n == REST_TOKENS_MAX) {
        snprintf(why, whylen, "more than %d tokens", REST_TOKENS_MAX);
        return false;
    }
    t->v = xrealloc(t->v, (t->n + 1) * sizeof *t->v);
    t->v[t->n++] = tok;
    return true;
}

struct rest_tokens *
rest_tokens_parse(const char *text, size_t len, const char *origin,
                  char *err, size_t errlen)
{
    struct rest_tokens *t = xcalloc(1, sizeof *t);
    size_t lineno = 0;
    const char *p = text, *end = text + len;
    char why[96];

    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: not a text file", origin);
        rest_tokens_destroy(t);
        return NULL;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t) (eol - p);
        lineno++;
        if (n && p[n - 1] == '\r') {
            n--;
        }
        size_t lead = 0;
        while (lead < n && (p[lead] == ' ' || p[lead] == '\t')) {
            lead++;
        }
        if (lead < n && p[lead] != '#'
            && !parse_line(t, p + lead, n - lead, why, sizeof why)) {
            snprintf(err, errlen, "%s:%zu: %s", origin, lineno, why);
            rest_tokens_destroy(t);
            return NULL;
        }
        p = nl ? nl + 1 : end;
    }
    if (!t->n) {
        snprintf(err, errlen, "%s: no token in the file", origin);
        rest_tokens_destroy(t);
        return NULL;
    }
    return t;
}

struct rest_tokens *
rest_tokens_load(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    const char *bad = !S_ISREG(st.st_mode) ? "not a regular file"
                      : st.st_mode & (S_IRWXG | S_IRWXO)
                          ? "group or others may access it (it holds "
                            "secrets: chmod 600)"
                      : st.st_size > (off_t) REST_TOKENS_FILE_MAX
                          ? "too large"
                          : NULL;
    if (bad) {
        snprintf(err, errlen, "%s: %s", path, bad);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t) st.st_size + 1, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0 || (size_t) got == cap - n) {
            snprintf(err, errlen, "%s: %s", path,
                     got < 0 ? strerror(errno) : "changed while read");
            free(buf);
            close(fd);
            return NULL;
        }
        if (!got) {
            break;
        }
        n += (size_t) got;
    }
    close(fd);
    struct rest_tokens *t = rest_tokens_parse(buf, n, path, err, errlen);
    explicit_bzero(buf, cap);
    free(buf);
    return t;
}

void
rest_tokens_destroy(struct rest_tokens *t)
{
    if (t) {
        free(t->v);
        free(t);
    }
}

size_t
rest_tokens_count(const struct rest_tokens *t)
{
    return t ? t->n : 0;
}

enum rest_role
rest_tokens_lookup(const struct rest_tokens *t, const char *token,
                   const char **name)
{
    unsigned char d[TLS_SHA256_LEN];
    const struct rest_token *hit = NULL;
    *name = "";
    if (!t || !token) {
        return REST_ROLE_NONE;
    }
    tls_sha256(token, strlen(token), d);
    for (size_t i = 0; i < t->n; i++) {
        /* No early exit: every digest is compared. */
        bool eq = !CRYPTO_memcmp(t->v[i].digest, d, sizeof d);
        hit = eq ? &t->v[i] : hit;
    }
    if (!hit) {
        return REST_ROLE_NONE;
    }
    *name = hit->name;
    return hit->role;
}

/* ---- Requests ---- */

bool
rest_auth_bearer(const char *h, char *out, size_t outlen)
{
    if (!h) {
        return false;
    }
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    if (strncasecmp(h, "Bearer", 6) || (h[6] != ' ' && h[6] != '\t')) {
        return false;
    }
    h += 6;
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    size_t n = 0;
    while (token_char(h[n])) {
        n++;
    }
    size_t rest = n;
    while (h[rest] == ' ' || h[rest] == '\t') {
        rest++;
    }
    if (!n || h[rest] || n >= outlen) {
        return false;
    }
    memcpy(out, h, n);
    out[n] = '\0';
    return true;
}

enum rest_role
rest_auth_route_role(const struct rest_route *r)
{
    if (r->id == REST_R_HEALTHZ) {
        return REST_ROLE_NONE;
    }
    if (r->method == REST_GET) {
        return REST_ROLE_READER;
    }
    switch (r->id) {
    case REST_R_VMS:
    case REST_R_VM:
    case REST_R_VM_MIGRATE:
    case REST_R_VM_BINDING:
    case REST_R_MIGRATION_SWITCHOVER:
    case REST_R_MIGRATION_ABORT:
    case REST_R_TRANSFERS: /* the migration engine's reports */
    case REST_R_VSWITCH_MIGRATE: /* a VM manager moves a tenant's VMs */
        return REST_ROLE_VMM;
    default:
        return REST_ROLE_ADMIN;
    }
}

bool
rest_auth_decide(enum rest_role have, const struct rest_route *r,
                 struct rest_error *e)
{
    enum rest_role need = r ? rest_auth_route_role(r) : REST_ROLE_NODE;
    if (need == REST_ROLE_NONE) {
        return true;
    }
    if (have == REST_ROLE_NONE) {
        return rest_fail(e, 401, "unauthorized",
                         "a valid bearer token is needed "
                         "(Authorization: Bearer TOKEN)");
    }
    bool ok = have == REST_ROLE_NODE
                  ? !r || (r->id == REST_R_MAP && r->method == REST_GET)
                  : have >= need;
    if (!ok) {
        return rest_fail(e, 403, "forbidden",
                         "role %s may not do this (it needs %s)",
                         rest_role_name(have),
                         rest_role_name(need == REST_ROLE_NODE
                                            ? REST_ROLE_READER
                                            : need));
    }
    return true;
}

/* ---- The gate ---- */

bool
rest_auth_gate(struct rest_auth *a, struct ctl *ctl,
               const char *authorization, const struct rest_route *r,
               struct rest_error *e)
{
    if (!a->tokens || (r && rest_auth_route_role(r) == REST_ROLE_NONE)) {
        return true;
    }
    char token[REST_TOKEN_MAX + 1];
    enum rest_role have = REST_ROLE_NONE;
    if (rest_auth_bearer(authorization, token, sizeof token)) {
        const char *name;
        have = rest_tokens_lookup(a->tokens, token, &name);
        if (have == REST_ROLE_NONE
            && ctl_node_by_token(ctl, token) != CORE_NONE) {
            have = REST_ROLE_NODE;
        }
        explicit_bzero(token, sizeof token);
    }
    if (rest_auth_decide(have, r, e)) {
        return true;
    }
    if (e->status == 401) {
        a->unauthorized++;
    } else {
        a->forbidden++;
    }
    return false;
}

/* Whether 'a' and 'b' hold the same tokens with the same roles and
 * names (NULL: none). */
static bool
rest_tokens_equal(const struct rest_tokens *a, const struct rest_tokens *b)
{
    if (!a || !b) {
        return a == b;
    }
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (memcmp(a->v[i].digest, b->v[i].digest, sizeof a->v[i].digest)
            || a->v[i].role != b->v[i].role
            || strcmp(a->v[i].name, b->v[i].name)) {
            return false;
        }
    }
    return true;
}

int
rest_auth_reload(struct rest_auth *a, const char *path, bool *changed,
                 char *err, size_t errlen)
{
    struct rest_tokens *t = NULL;
    if (path && *path) {
        t = rest_tokens_load(path, err, errlen);
        if (!t) {
            return EINVAL;
        }
    }
    *changed = !rest_tokens_equal(a->tokens, t);
    rest_tokens_destroy(a->tokens);
    a->tokens = t;
    return 0;
}

int
rest_auth_metrics(const struct rest_auth *a, struct strbuf *out)
{
    int err = metrics_head(out, "mignet_api_refused_total", "counter",
                           "API requests refused by authentication (401) "
                           "or authorization (403)");
    if (!err) {
        err = strbuf_printf(out,
                            "mignet_api_refused_total{reason=\"unauthorized"
                            "\"} %llu\n"
                            "mignet_api_refused_total{reason=\"forbidden\"} "
                            "%llu\n",
                            (unsigned long long) a->unauthorized,
                            (unsigned long long) a->forbidden);
    }
    return err;
}
