/* test_rest_auth.c: the API's token file, roles and decisions.
 *
 * Every bad token-file line must be refused naming FILE:LINE, a file that
 * others may read must be refused, a token must map to its own role only,
 * and each route must need the role the contract gives it (reader: GETs;
 * vmm: VMs and migrations; admin: the rest; a node: GET /v1/map only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/rest_auth.h"
#include "controller/rest_parse.h"

#define TOK_A "admin-0123456789abcdef"
#define TOK_V "vmm-0123456789abcdef/+="
#define TOK_R "reader_0123456789.~"

static const char good[] = "# mignet API tokens\n"
                           "\n"
                           "admin " TOK_A " ops\n"
                           "  vmm\t" TOK_V "\r\n"
                           "reader " TOK_R " dash.board-1 \n"
                           "   # indented comment";

static void
test_parse_good(void **state)
{
    (void) state;
    char err[256] = "";
    struct rest_tokens *t = rest_tokens_parse(good, strlen(good), "f", err,
                                              sizeof err);
    assert_non_null(t);
    assert_int_equal(rest_tokens_count(t), 3);
    const char *name;
    assert_int_equal(rest_tokens_lookup(t, TOK_A, &name), REST_ROLE_ADMIN);
    assert_string_equal(name, "ops");
    assert_int_equal(rest_tokens_lookup(t, TOK_V, &name), REST_ROLE_VMM);
    assert_string_equal(name, "");
    assert_int_equal(rest_tokens_lookup(t, TOK_R, &name), REST_ROLE_READER);
    assert_string_equal(name, "dash.board-1");
    /* Near misses: a prefix, one more character, another case. */
    assert_int_equal(rest_tokens_lookup(t, "admin-0123456789abcde", &name),
                     REST_ROLE_NONE);
    assert_int_equal(rest_tokens_lookup(t, TOK_A "0", &name),
                     REST_ROLE_NONE);
    assert_int_equal(rest_tokens_lookup(t, "ADMIN-0123456789abcdef", &name),
                     REST_ROLE_NONE);
    assert_int_equal(rest_tokens_lookup(t, "", &name), REST_ROLE_NONE);
    assert_int_equal(rest_tokens_lookup(t, NULL, &name), REST_ROLE_NONE);
    assert_int_equal(rest_tokens_lookup(NULL, TOK_A, &name), REST_ROLE_NONE);
    rest_tokens_destroy(t);
    rest_tokens_destroy(NULL);
}

static void
test_parse_bad(void **state)
{
    (void) state;
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"", "f: no token"},
        {"# only a comment\n\n", "f: no token"},
        {"admin\n", "f:1: expected 'ROLE TOKEN [NAME]'"},
        {"\nadmin " TOK_A " ops extra\n", "f:2: expected"},
        {"root " TOK_A "\n", "f:1: unknown role 'root'"},
        {"Admin " TOK_A "\n", "f:1: unknown role"},
        {"admin short\n", "f:1: a token has 16 to 256"},
        {"admin " TOK_A "\nreader " TOK_A "\n", "f:2: the token is already"},
        {"admin 0123456789abcdef!\n", "f:1: a token has only"},
        {"admin 0123456789abcdef\"x\n", "f:1: a token has only"},
        {"admin " TOK_A " bad/name\n", "f:1: a name has only"},
        {"admin " TOK_A
         " n123456789n123456789n123456789n123456789n123456789n123456789n1234"
         "\n",
         "f:1: a name has at most"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        struct rest_tokens *t = rest_tokens_parse(
            cases[i].text, strlen(cases[i].text), "f", err, sizeof err);
        if (t || strncmp(err, cases[i].want, strlen(cases[i].want))) {
            fail_msg("case %zu: got '%s', want '%s'", i, err,
                     cases[i].want);
        }
    }
    /* A 257-character token, and a NUL byte. */
    char text[400];
    memset(text, 'x', sizeof text);
    memcpy(text, "admin ", 6);
    text[6 + 257] = '\n';
    char err[256];
    assert_null(rest_tokens_parse(text, 6 + 258, "f", err, sizeof err));
    assert_non_null(strstr(err, "16 to 256"));
    text[6 + 256] = '\n';
    struct rest_tokens *t = rest_tokens_parse(text, 6 + 257, "f", err,
                                              sizeof err);
    assert_non_null(t);
    rest_tokens_destroy(t);
    assert_null(rest_tokens_parse("admin " TOK_A "\0", 7 + strlen(TOK_A),
                                  "f", err, sizeof err));
    assert_non_null(strstr(err, "not a text file"));
}

static void
test_load_mode(void **state)
{
    (void) state;
    char path[] = "/tmp/mignet-tokens-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, good, strlen(good)), (ssize_t) strlen(good));
    close(fd);
    char err[512];
    static const mode_t bad[] = {0640, 0604, 0620, 0602, 0644};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(path, bad[i]), 0);
        assert_null(rest_tokens_load(path, err, sizeof err));
        assert_non_null(strstr(err, "group or others may access it"));
        assert_non_null(strstr(err, path));
    }
    assert_int_equal(chmod(path, 0600), 0);
    struct rest_tokens *t = rest_tokens_load(path, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(rest_tokens_count(t), 3);
    rest_tokens_destroy(t);
    assert_int_equal(chmod(path, 0400), 0);
    t = rest_tokens_load(path, err, sizeof err);
    assert_non_null(t);
    rest_tokens_destroy(t);
    unlink(path);
    assert_null(rest_tokens_load(path, err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
    assert_null(rest_tokens_load("/tmp", err, sizeof err));
}

static void
test_bearer(void **state)
{
    (void) state;
    char tok[32];
    assert_true(rest_auth_bearer("Bearer abc", tok, sizeof tok));
    assert_string_equal(tok, "abc");
    assert_true(rest_auth_bearer("  bearer \t x.y~z+/=  ", tok, sizeof tok));
    assert_string_equal(tok, "x.y~z+/=");
    static const char *const bad[] = {
        NULL, "", "Bearer", "Bearer ", "Basic YWJj", "Bearerabc",
        "Bearer a b", "Bearer a\"", "Token abc",
        "Bearer 0123456789012345678901234567890123456789",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(tok, sizeof tok, "%s", "unchanged");
        if (rest_auth_bearer(bad[i], tok, sizeof tok)) {
            fail_msg("'%s' accepted", bad[i] ? bad[i] : "(null)");
        }
    }
}

static enum rest_role
role_of(enum rest_method m, const char *path)
{
    struct rest_route r;
    struct rest_error e;
    if (!rest_route_match(m, path, &r, &e)) {
        fail_msg("%s does not route: %s", path, e.message);
    }
    return rest_auth_route_role(&r);
}

static void
test_route_roles(void **state)
{
    (void) state;
    static const struct {
        enum rest_method m;
        const char *path;
        enum rest_role need;
    } t[] = {
        {REST_GET, "/healthz", REST_ROLE_NONE},
        {REST_GET, "/metrics", REST_ROLE_READER},
        {REST_GET, "/v1/map", REST_ROLE_READER},
        {REST_GET, "/v1/nodes", REST_ROLE_READER},
        {REST_GET, "/v1/nodes/n1", REST_ROLE_READER},
        {REST_GET, "/v1/vms", REST_ROLE_READER},
        {REST_GET, "/v1/vms/v1", REST_ROLE_READER},
        {REST_GET, "/v1/migrations/3", REST_ROLE_READER},
        {REST_GET, "/v1/tasks", REST_ROLE_READER},
        {REST_GET, "/v1/bindings", REST_ROLE_READER},
        {REST_GET, "/v1/fabric", REST_ROLE_READER},
        {REST_POST, "/v1/vms", REST_ROLE_VMM},
        {REST_DELETE, "/v1/vms/v1", REST_ROLE_VMM},
        {REST_POST, "/v1/vms/v1/migrate", REST_ROLE_VMM},
        {REST_PUT, "/v1/vms/v1/binding", REST_ROLE_VMM},
        {REST_DELETE, "/v1/vms/v1/binding", REST_ROLE_VMM},
        {REST_POST, "/v1/migrations/3/switchover", REST_ROLE_VMM},
        {REST_POST, "/v1/migrations/3/abort", REST_ROLE_VMM},
        {REST_POST, "/v1/nodes", REST_ROLE_ADMIN},
        {REST_DELETE, "/v1/nodes/n1", REST_ROLE_ADMIN},
        {REST_POST, "/v1/nodes/n1/cordon", REST_ROLE_ADMIN},
        {REST_POST, "/v1/nodes/n1/uncordon", REST_ROLE_ADMIN},
        {REST_POST, "/v1/nodes/n1/drain", REST_ROLE_ADMIN},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        enum rest_role got = role_of(t[i].m, t[i].path);
        if (got != t[i].need) {
            fail_msg("%s needs %s, want %s", t[i].path, rest_role_name(got),
                     rest_role_name(t[i].need));
        }
    }
    /* A route nobody listed that changes state needs admin. */
    struct rest_route r = {.id = REST_R_FABRIC, .method = REST_POST};
    assert_int_equal(rest_auth_route_role(&r), REST_ROLE_ADMIN);
}

static void
test_decide(void **state)
{
    (void) state;
    struct rest_route get_map = {.id = REST_R_MAP, .method = REST_GET};
    struct rest_route get_vms = {.id = REST_R_VMS, .method = REST_GET};
    struct rest_route post_vms = {.id = REST_R_VMS, .method = REST_POST};
    struct rest_route post_nodes = {.id = REST_R_NODES, .method = REST_POST};
    struct rest_route health = {.id = REST_R_HEALTHZ, .method = REST_GET};
    struct rest_error e;

    assert_true(rest_auth_decide(REST_ROLE_NONE, &health, &e));
    memset(&e, 0, sizeof e);
    assert_false(rest_auth_decide(REST_ROLE_NONE, &get_vms, &e));
    assert_int_equal(e.status, 401);
    assert_string_equal(e.code, "unauthorized");
    assert_false(rest_auth_decide(REST_ROLE_NONE, NULL, &e));
    assert_int_equal(e.status, 401);

    assert_true(rest_auth_decide(REST_ROLE_NODE, &get_map, &e));
    assert_true(rest_auth_decide(REST_ROLE_NODE, NULL, &e));
    assert_false(rest_auth_decide(REST_ROLE_NODE, &get_vms, &e));
    assert_int_equal(e.status, 403);
    assert_string_equal(e.code, "forbidden");

    assert_true(rest_auth_decide(REST_ROLE_READER, &get_map, &e));
    assert_true(rest_auth_decide(REST_ROLE_READER, &get_vms, &e));
    assert_false(rest_auth_decide(REST_ROLE_READER, &post_vms, &e));
    assert_int_equal(e.status, 403);
    assert_non_null(strstr(e.message, "needs vmm"));

    assert_true(rest_auth_decide(REST_ROLE_VMM, &post_vms, &e));
    assert_false(rest_auth_decide(REST_ROLE_VMM, &post_nodes, &e));
    assert_int_equal(e.status, 403);
    assert_non_null(strstr(e.message, "needs admin"));

    assert_true(rest_auth_decide(REST_ROLE_ADMIN, &post_nodes, &e));
    assert_true(rest_auth_decide(REST_ROLE_ADMIN, &post_vms, &e));
    assert_true(rest_auth_decide(REST_ROLE_ADMIN, &get_map, &e));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_load_mode),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_route_roles),
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
