/* test_planner_topo.c: the fabric model, its builders (fat-tree,
 * seed 002) and the topology parser: every malformed line type gives its
 * own error at the right line and column, and no partial graph.
 *
 * Each error case follows valid lines, so a parser that kept what it had
 * built would be caught by the untouched-output check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "unit/planner_helpers.h"

static const char good[] =
    "# a small fabric\n"
    "switch s1 dpid=1\r\n"
    "switch\ts2   dpid=0x2a  # hex dpid, tabs, trailing comment\n"
    "\n"
    "   # indented comment\n"
    "link s1:10 s2:10 10gbit\n"
    "link s1:11 s2:11 2500Mbit\n"
    "host h1 s1:1\n"
    "host h2 s2:1 100mbit\n"
    "nic h2 s1:2 1500kbit\n"
    "host web-1.a_b s2:2 7bit"; /* no final newline */

static void
test_parse_good(void **state)
{
    struct fabric *f = parse_ok(good);

    assert_int_equal(fabric_n_nodes(f), 5);
    assert_int_equal(fabric_n_hosts(f), 3);
    assert_int_equal(fabric_n_links(f), 6);

    uint32_t s2 = node_of(f, "s2");
    assert_int_equal(fabric_node_kind(f, s2), FABRIC_SWITCH);
    assert_int_equal(fabric_node_dpid(f, s2), 42);
    uint32_t by_dpid = UINT32_MAX;
    assert_true(fabric_find_dpid(f, 42, &by_dpid));
    assert_int_equal(by_dpid, s2);
    assert_false(fabric_find_dpid(f, 3, NULL));

    uint32_t link;
    unsigned end;
    assert_true(fabric_port_link(f, node_of(f, "s1"), 11, &link, &end));
    assert_int_equal(fabric_link(f, link)->capacity_bps, 2500000000ull);
    assert_int_equal(end, 0);
    assert_int_equal(fabric_link(f, link)->node[1], s2);
    assert_int_equal(fabric_link(f, link)->port[1], 11);

    /* h1 defaults to 1 Gbit/s; h2 has two NICs. */
    uint32_t h1 = node_of(f, "h1"), h2 = node_of(f, "h2");
    assert_true(fabric_port_link(f, h1, 1, &link, &end));
    assert_int_equal(fabric_link(f, link)->capacity_bps,
                     FABRIC_DEFAULT_HOST_BPS);
    assert_int_equal(fabric_node_kind(f, h1), FABRIC_HOST);
    assert_true(fabric_port_link(f, h2, 2, &link, &end));
    assert_int_equal(fabric_link(f, link)->capacity_bps, 1500000);
    assert_int_equal(fabric_link(f, link)->node[0], node_of(f, "s1"));
    assert_int_equal(fabric_link(f, link)->port[0], 2);
    assert_false(fabric_port_link(f, h2, 3, NULL, NULL));
    assert_true(fabric_port_link(f, node_of(f, "web-1.a_b"), 1, &link,
                                 NULL));
    assert_int_equal(fabric_link(f, link)->capacity_bps, 7);

    /* Out-of-range accessors. */
    assert_null(fabric_node_name(f, 99));
    assert_null(fabric_link(f, 99));
    assert_int_equal(fabric_node_dpid(f, 99), 0);
    fabric_destroy(f);
}

/* Formatting and parsing again gives the same fabric. */
static void
test_format_round_trip(void **state)
{
    struct fabric *f = parse_ok(good);
    char *text = fabric_format(f);
    assert_non_null(text);
    struct fabric *g = parse_ok(text);
    char *again = fabric_format(g);
    assert_non_null(again);
    assert_string_equal(text, again);
    assert_int_equal(fabric_n_nodes(g), fabric_n_nodes(f));
    assert_int_equal(fabric_n_links(g), fabric_n_links(f));
    for (uint32_t l = 0; l < fabric_n_links(f); l++) {
        const struct fabric_link *a = fabric_link(f, l);
        uint32_t gl;
        unsigned end;
        const char *name = fabric_node_name(f, a->node[0]);
        assert_true(
            fabric_port_link(g, node_of(g, name), a->port[0], &gl, &end));
        assert_int_equal(fabric_link(g, gl)->capacity_bps, a->capacity_bps);
    }
    free(text);
    free(again);
    fabric_destroy(f);
    fabric_destroy(g);
}

struct bad_case {
    const char *text;
    size_t len; /* the text may hold a NUL */
    enum fabric_err code;
    uint32_t line, col;
};

#define BAD(TEXT, CODE, LINE, COL) {TEXT, sizeof TEXT - 1, CODE, LINE, COL}

/* Lines before the bad one, so that a partial graph would exist. */
#define PRE "switch s1 dpid=1\nswitch s2 dpid=2\nhost h1 s1:1\n"

static const struct bad_case bad[] = {
    /* Any line. */
    BAD(PRE "bogus x", FABRIC_E_UNKNOWN_KEYWORD, 4, 1),
    BAD(PRE "Switch s3 dpid=3", FABRIC_E_UNKNOWN_KEYWORD, 4, 1),
    BAD(PRE "switch s3 dpid=3\x01", FABRIC_E_BAD_CHAR, 4, 17),
    BAD(PRE "switch s3\0 dpid=3", FABRIC_E_BAD_CHAR, 4, 10),
    BAD(PRE "  switch s\xc3\xa9 dpid=3", FABRIC_E_BAD_CHAR, 4, 11),
    BAD(PRE "link a b c d e f", FABRIC_E_EXTRA_FIELD, 4, 12),
    BAD(PRE "bogus a b c d e f", FABRIC_E_UNKNOWN_KEYWORD, 4, 1),
    /* switch */
    BAD(PRE "switch", FABRIC_E_MISSING_FIELD, 4, 7),
    BAD(PRE "switch s3", FABRIC_E_MISSING_FIELD, 4, 10),
    BAD(PRE "switch s3 dpid=3 x", FABRIC_E_EXTRA_FIELD, 4, 18),
    BAD(PRE "switch s:3 dpid=3", FABRIC_E_BAD_NAME, 4, 8),
    BAD(PRE "switch s/3 dpid=3", FABRIC_E_BAD_NAME, 4, 8),
    BAD(PRE "switch "
         "a123456789012345678901234567890123456789012345678901234567890123"
         " dpid=3",
     FABRIC_E_BAD_NAME, 4, 8),
    BAD(PRE "switch s3 dpid=0", FABRIC_E_BAD_DPID, 4, 11),
    BAD(PRE "switch s3 dpid=", FABRIC_E_BAD_DPID, 4, 11),
    BAD(PRE "switch s3 dpid=0x", FABRIC_E_BAD_DPID, 4, 11),
    BAD(PRE "switch s3 dpid=12a", FABRIC_E_BAD_DPID, 4, 11),
    BAD(PRE "switch s3 id=3", FABRIC_E_BAD_DPID, 4, 11),
    BAD(PRE "switch s3 dpid=18446744073709551616", FABRIC_E_BAD_DPID, 4, 11),
    BAD(PRE "switch s3 dpid=0x10000000000000000", FABRIC_E_BAD_DPID, 4, 11),
    BAD(PRE "switch s2 dpid=3", FABRIC_E_DUP_NAME, 4, 8),
    BAD(PRE "switch h1 dpid=3", FABRIC_E_DUP_NAME, 4, 8),
    BAD(PRE "switch s3 dpid=0x2", FABRIC_E_DUP_DPID, 4, 11),
    /* host */
    BAD(PRE "host", FABRIC_E_MISSING_FIELD, 4, 5),
    BAD(PRE "host h2", FABRIC_E_MISSING_FIELD, 4, 8),
    BAD(PRE "host h2 s1:2 1gbit x", FABRIC_E_EXTRA_FIELD, 4, 20),
    BAD(PRE "host h$ s1:2", FABRIC_E_BAD_NAME, 4, 6),
    BAD(PRE "host h2 s1", FABRIC_E_BAD_ENDPOINT, 4, 9),
    BAD(PRE "host h2 :2", FABRIC_E_BAD_ENDPOINT, 4, 9),
    BAD(PRE "host h2 s9:2", FABRIC_E_UNKNOWN_SWITCH, 4, 9),
    BAD(PRE "host h2 h1:2", FABRIC_E_UNKNOWN_SWITCH, 4, 9),
    BAD(PRE "host h2 s1:0", FABRIC_E_BAD_PORT, 4, 12),
    BAD(PRE "host h2 s1:", FABRIC_E_BAD_PORT, 4, 12),
    BAD(PRE "host h2 s1:x1", FABRIC_E_BAD_PORT, 4, 12),
    BAD(PRE "host h2 s1:4294967041", FABRIC_E_BAD_PORT, 4, 12),
    BAD(PRE "host h2 s1:1", FABRIC_E_PORT_IN_USE, 4, 9),
    BAD(PRE "host h1 s1:2", FABRIC_E_DUP_NAME, 4, 6),
    BAD(PRE "host s2 s1:2", FABRIC_E_DUP_NAME, 4, 6),
    BAD(PRE "host h2 s1:2 fast", FABRIC_E_BAD_RATE, 4, 14),
    BAD(PRE "host h2 s1:2 100", FABRIC_E_BAD_RATE, 4, 14),
    BAD(PRE "host h2 s1:2 0gbit", FABRIC_E_BAD_RATE, 4, 14),
    BAD(PRE "host h2 s1:2 mbit", FABRIC_E_BAD_RATE, 4, 14),
    BAD(PRE "host h2 s1:2 1001tbit", FABRIC_E_BAD_RATE, 4, 14),
    BAD(PRE "host h2 s1:2 99999999999999999999bit", FABRIC_E_BAD_RATE, 4, 14),
    /* nic */
    BAD(PRE "nic h1", FABRIC_E_MISSING_FIELD, 4, 7),
    BAD(PRE "nic h9 s1:2", FABRIC_E_UNKNOWN_HOST, 4, 5),
    BAD(PRE "nic s2 s1:2", FABRIC_E_UNKNOWN_HOST, 4, 5),
    BAD(PRE "nic h1 s1:1", FABRIC_E_PORT_IN_USE, 4, 8),
    BAD(PRE "nic h1 s1:2 1gbit 1", FABRIC_E_EXTRA_FIELD, 4, 19),
    /* link */
    BAD(PRE "link s1:2 s2:2", FABRIC_E_MISSING_FIELD, 4, 15),
    BAD(PRE "link s1:2 s2:2 1gbit x", FABRIC_E_EXTRA_FIELD, 4, 22),
    BAD(PRE "link s1-2 s2:2 1gbit", FABRIC_E_BAD_ENDPOINT, 4, 6),
    BAD(PRE "link s1:2 s2 1gbit", FABRIC_E_BAD_ENDPOINT, 4, 11),
    BAD(PRE "link s1:2 s3:2 1gbit", FABRIC_E_UNKNOWN_SWITCH, 4, 11),
    BAD(PRE "link h1:2 s2:2 1gbit", FABRIC_E_UNKNOWN_SWITCH, 4, 6),
    BAD(PRE "link s1:2 s2:99999999999 1gbit", FABRIC_E_BAD_PORT, 4, 14),
    BAD(PRE "link s1:2 s2:2 1gigabit", FABRIC_E_BAD_RATE, 4, 16),
    BAD(PRE "link s1:1 s2:2 1gbit", FABRIC_E_PORT_IN_USE, 4, 6),
    BAD(PRE "link s1:2 s2:2 1gbit\nlink s1:3 s2:2 1gbit",
     FABRIC_E_PORT_IN_USE, 5, 11),
    BAD(PRE "link s1:2 s1:3 1gbit", FABRIC_E_SELF_LOOP, 4, 11),
    BAD(PRE "link s1:2 s1:2 1gbit", FABRIC_E_SELF_LOOP, 4, 11),
    /* Definition before use. */
    BAD("host h1 s1:1\nswitch s1 dpid=1", FABRIC_E_UNKNOWN_SWITCH, 1, 9),
};

static void
test_parse_errors(void **state)
{
    unsigned seen[FABRIC_N_ERRORS] = {0};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const struct bad_case *c = &bad[i];
        size_t len = c->len;
        struct fabric *sentinel = (struct fabric *) &seen;
        struct fabric *f = sentinel;
        struct fabric_parse_error err;
        enum fabric_err e = fabric_parse(c->text, len, &f, &err);
        if (e != c->code || err.line != c->line || err.col != c->col) {
            fail_msg("case %zu: want %s at %u:%u, got %s (%s)", i,
                     fabric_errname(c->code), c->line, c->col,
                     fabric_errname(e), err.msg);
        }
        assert_int_equal(err.code, c->code);
        assert_ptr_equal(f, sentinel); /* no partial graph handed out */
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%u:%u: %s", c->line, c->col,
                 fabric_strerror(c->code));
        assert_true(!strncmp(err.msg, prefix, strlen(prefix)));
        seen[c->code]++;
    }
    /* Every parse error the format can produce has a case. */
    for (unsigned e = 0; e < FABRIC_N_ERRORS; e++) {
        /* TOO_MANY: test_limits; NOMEM and BAD_ARG: not from text. */
        if (e == FABRIC_E_OK || e == FABRIC_E_NOMEM || e == FABRIC_E_TOO_MANY
            || e == FABRIC_E_BAD_ARG) {
            continue;
        }
        if (!seen[e]) {
            fail_msg("no case for %s", fabric_errname(e));
        }
    }
}

/* Limits: the first node or link past them is refused where it stands,
 * and nothing is handed out. */
static void
test_limits(void **state)
{
    size_t cap = (size_t) FABRIC_MAX_LINKS * 40 + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    struct fabric *f = NULL;
    struct fabric_parse_error err;

    size_t len = 0;
    for (uint32_t i = 1; i <= FABRIC_MAX_NODES + 1; i++) {
        len += (size_t) snprintf(text + len, cap - len,
                                 "switch s%u dpid=%u\n", i, i);
    }
    assert_int_equal(fabric_parse(text, len, &f, &err), FABRIC_E_TOO_MANY);
    assert_int_equal(err.line, FABRIC_MAX_NODES + 1);
    assert_int_equal(err.col, 8);
    assert_null(f);

    len = (size_t) snprintf(text, cap, "switch a dpid=1\nswitch b dpid=2\n");
    for (uint32_t i = 1; i <= FABRIC_MAX_LINKS + 1; i++) {
        len += (size_t) snprintf(text + len, cap - len,
                                 "link a:%u b:%u 1gbit\n", i, i);
    }
    assert_int_equal(fabric_parse(text, len, &f, &err), FABRIC_E_TOO_MANY);
    assert_int_equal(err.line, FABRIC_MAX_LINKS + 3);
    assert_null(f);

    /* One fewer link parses. */
    char *last = strstr(text + len - 40, "\nlink") + 1;
    assert_int_equal(fabric_parse(text, (size_t) (last - text), &f, &err),
                     FABRIC_E_OK);
    assert_int_equal(fabric_n_links(f), FABRIC_MAX_LINKS);
    fabric_destroy(f);
    free(text);
}

/* A NULL error pointer is allowed; the fabric is still withheld. */
static void
test_parse_error_without_report(void **state)
{
    const char text[] = "switch s1 dpid=1\nlink s1:1 s1:2 1gbit\n";
    struct fabric *f = NULL;
    assert_int_equal(fabric_parse(text, sizeof text - 1, &f, NULL),
                     FABRIC_E_SELF_LOOP);
    assert_null(f);
    /* An empty text is an empty fabric. */
    assert_int_equal(fabric_parse("", 0, &f, NULL), FABRIC_E_OK);
    assert_non_null(f);
    assert_int_equal(fabric_n_nodes(f), 0);
    fabric_destroy(f);
}

/* The builders refuse bad arguments and change nothing when they do. */
static void
test_builders_refuse(void **state)
{
    struct fabric *f = parse_ok("switch s1 dpid=1\nswitch s2 dpid=2\n"
                                "host h1 s1:1\n");
    uint32_t s1 = node_of(f, "s1"), s2 = node_of(f, "s2");
    uint32_t h1 = node_of(f, "h1");
    size_t nodes = fabric_n_nodes(f), links = fabric_n_links(f);

    assert_int_equal(fabric_add_switch(f, "s3", 0, NULL), FABRIC_E_BAD_DPID);
    assert_int_equal(fabric_add_switch(f, "", 3, NULL), FABRIC_E_BAD_NAME);
    assert_int_equal(fabric_add_host(f, "s1", NULL), FABRIC_E_DUP_NAME);
    assert_int_equal(fabric_add_link(f, s1, 2, h1, 2, 1000, NULL),
                     FABRIC_E_UNKNOWN_SWITCH);
    assert_int_equal(fabric_add_link(f, s1, 2, 77, 2, 1000, NULL),
                     FABRIC_E_UNKNOWN_SWITCH);
    assert_int_equal(fabric_add_link(f, s1, 2, s2, 2, 0, NULL),
                     FABRIC_E_BAD_RATE);
    assert_int_equal(fabric_add_link(f, s1, 2, s2, FABRIC_PORT_MAX + 1, 1,
                                     NULL),
                     FABRIC_E_BAD_PORT);
    assert_int_equal(fabric_attach(f, s2, s1, 3, 1000, NULL),
                     FABRIC_E_UNKNOWN_HOST);
    assert_int_equal(fabric_attach(f, h1, s1, 1, 1000, NULL),
                     FABRIC_E_PORT_IN_USE);
    assert_int_equal(fabric_n_nodes(f), nodes);
    assert_int_equal(fabric_n_links(f), links);
    assert_false(fabric_port_link(f, s1, 2, NULL, NULL));
    assert_false(fabric_port_link(f, h1, 2, NULL, NULL));
    fabric_destroy(f);
}

static uint32_t
degree(const struct fabric *f, uint32_t node)
{
    uint32_t d = 0;
    for (uint32_t l = 0; l < fabric_n_links(f); l++) {
        const struct fabric_link *lk = fabric_link(f, l);
        d += (lk->node[0] == node) + (lk->node[1] == node);
    }
    return d;
}

static void
test_fat_tree(void **state)
{
    struct fabric *f = NULL;
    unsigned ks[] = {2, 4, 8};

    for (size_t i = 0; i < 3; i++) {
        unsigned k = ks[i];
        assert_int_equal(fabric_fat_tree(k, 10000000000ull, 1000000000ull,
                                         &f),
                         FABRIC_E_OK);
        size_t switches = 5 * k * k / 4, hosts = k * k * k / 4;
        assert_int_equal(fabric_n_nodes(f), switches + hosts);
        assert_int_equal(fabric_n_hosts(f), hosts);
        assert_int_equal(fabric_n_links(f), 3 * hosts);
        /* Every switch uses all k ports; every host one. */
        for (uint32_t n = 0; n < fabric_n_nodes(f); n++) {
            bool sw = fabric_node_kind(f, n) == FABRIC_SWITCH;
            assert_int_equal(degree(f, n), sw ? k : 1);
            if (sw) {
                for (uint32_t p = 1; p <= k; p++) {
                    assert_true(fabric_port_link(f, n, p, NULL, NULL));
                }
            }
        }
        /* Core c1 reaches each pod once, on port = pod. */
        uint32_t c1 = node_of(f, "c1");
        for (uint32_t p = 1; p <= k; p++) {
            uint32_t l;
            unsigned end;
            assert_true(fabric_port_link(f, c1, p, &l, &end));
            const char *agg =
                fabric_node_name(f, fabric_link(f, l)->node[!end]);
            char want[16];
            snprintf(want, sizeof want, "a%u_1", p);
            assert_string_equal(agg, want);
        }
        /* Host links run at the host rate, the rest at the fabric's. */
        uint32_t h = node_of(f, "h1_1_1"), l;
        assert_true(fabric_port_link(f, h, 1, &l, NULL));
        assert_int_equal(fabric_link(f, l)->capacity_bps, 10000000000ull);
        assert_true(fabric_port_link(f, c1, 1, &l, NULL));
        assert_int_equal(fabric_link(f, l)->capacity_bps, 1000000000ull);

        char *text = fabric_format(f);
        assert_non_null(text);
        struct fabric *g = parse_ok(text);
        char *again = fabric_format(g);
        assert_string_equal(text, again);
        free(text);
        free(again);
        fabric_destroy(g);
        fabric_destroy(f);
    }

    assert_int_equal(fabric_fat_tree(16, 1000, 1000, &f), FABRIC_E_OK);
    assert_int_equal(fabric_n_hosts(f), 1024);
    assert_int_equal(fabric_n_nodes(f), 1024 + 320);
    fabric_destroy(f);

    f = NULL;
    assert_int_equal(fabric_fat_tree(3, 1, 1, &f), FABRIC_E_BAD_ARG);
    assert_int_equal(fabric_fat_tree(0, 1, 1, &f), FABRIC_E_BAD_ARG);
    assert_int_equal(fabric_fat_tree(50, 1, 1, &f), FABRIC_E_BAD_ARG);
    assert_int_equal(fabric_fat_tree(4, 0, 1, &f), FABRIC_E_BAD_RATE);
    assert_null(f);
}

static char *
read_data(const char *name)
{
    const char *dir = getenv("MIGNET_SOURCE_DIR");
    if (!dir) {
        fail_msg("MIGNET_SOURCE_DIR is not set (run through ctest)");
    }
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fail_msg("cannot open %s", path);
    }
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

/* The builder and the file in tests/data describe the same fabric, and
 * it has the layout docs/planner.md gives. */
static void
test_seed002(void **state)
{
    struct fabric *f = NULL;
    assert_int_equal(fabric_seed002(500000000ull, &f), FABRIC_E_OK);
    struct fabric *g = parse_ok(read_data("seed002.topo"));
    char *a = fabric_format(f), *b = fabric_format(g);
    assert_string_equal(a, b);
    free(a);
    free(b);

    assert_int_equal(fabric_n_nodes(f), 11);
    assert_int_equal(fabric_n_links(f), 12);
    for (unsigned h = 1; h <= 6; h++) {
        char name[8];
        snprintf(name, sizeof name, "h%u", h);
        uint32_t l;
        unsigned end;
        assert_true(fabric_port_link(f, node_of(f, name), 1, &l, &end));
        const char *sw = fabric_node_name(f, fabric_link(f, l)->node[!end]);
        assert_string_equal(sw, h <= 3 ? "s4" : "s5");
    }
    const char *cores[] = {"s1", "s2", "s3"};
    for (size_t c = 0; c < 3; c++) {
        uint32_t n = node_of(f, cores[c]);
        assert_int_equal(degree(f, n), 2);
        uint32_t l;
        unsigned end;
        assert_true(fabric_port_link(f, n, 1, &l, &end));
        assert_string_equal(fabric_node_name(f, fabric_link(f, l)->node[!end]),
                            "s4");
        assert_true(fabric_port_link(f, n, 2, &l, &end));
        assert_string_equal(fabric_node_name(f, fabric_link(f, l)->node[!end]),
                            "s5");
    }
    fabric_destroy(f);
    fabric_destroy(g);
}

static void
test_error_names(void **state)
{
    assert_string_equal(fabric_errname(FABRIC_E_PORT_IN_USE), "port_in_use");
    assert_string_equal(fabric_strerror(FABRIC_E_UNKNOWN_SWITCH),
                        "no such switch");
    assert_string_equal(fabric_errname(FABRIC_N_ERRORS), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_error_without_report),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_builders_refuse),
        cmocka_unit_test(test_fat_tree),
        cmocka_unit_test(test_seed002),
        cmocka_unit_test(test_error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
