/* test_ovsdb_iface.c: the agent's Interface table monitor (ovsdb_iface.h)
 * fed canned ovsdb-server lines, as ovsdb-server 3.1 writes them: the
 * monitor request it sends, the initial rows, inserts, modifications and
 * deletions, echo answered, messages split anywhere or glued together,
 * and malformed input refused with nothing changed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/ovsdb_iface.h"
#include "lib/strbuf.h"

#define U1 "2b9b1b2e-6a1f-4c11-9f0e-000000000001"
#define U2 "2b9b1b2e-6a1f-4c11-9f0e-000000000002"
/* The monitor reply: tap-a carries vm1's iface-id, br0 nothing, tap-b no
 * ofport yet. */
#define INITIAL                                                              \
    "{\"id\":\"mignet-iface\",\"result\":{\"Interface\":{"                   \
    "\"" U1 "\":{\"new\":{\"name\":\"tap-a\",\"ofport\":7,"                  \
    "\"external_ids\":[\"map\",[[\"attached-mac\",\"02:00:00:00:00:01\"],"  \
    "[\"iface-id\",\"vm1\"]]]}},"                                            \
    "\"" U2 "\":{\"new\":{\"name\":\"tap-b\",\"ofport\":[\"set\",[]],"       \
    "\"external_ids\":[\"map\",[[\"iface-id\",\"5f1c2a4e\"]]]}}}},"          \
    "\"error\":null}"

static struct ovsdb_iface *
fed(const char *text, int want)
{
    struct ovsdb_iface *o = ovsdb_iface_create();
    struct strbuf out;
    strbuf_init(&out);
    char err[128];
    ovsdb_iface_connected(o, &out);
    assert_int_equal(ovsdb_iface_receive(o, text, strlen(text), &out, err,
                                         sizeof err),
                     want);
    strbuf_destroy(&out);
    return o;
}

static void
test_monitor_request(void **state)
{
    (void) state;
    struct ovsdb_iface *o = ovsdb_iface_create();
    struct strbuf out;
    strbuf_init(&out);
    ovsdb_iface_connected(o, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"id\":\"mignet-iface\",\"method\":\"monitor\","
                        "\"params\":[\"Open_vSwitch\",\"mignet-iface\","
                        "{\"Interface\":{\"columns\":[\"name\",\"ofport\","
                        "\"external_ids\"]}}]}");
    assert_false(ovsdb_iface_ready(o));
    strbuf_destroy(&out);
    ovsdb_iface_destroy(o);
}

static void
test_initial_rows(void **state)
{
    (void) state;
    struct ovsdb_iface *o = fed(INITIAL, 0);
    assert_true(ovsdb_iface_ready(o));
    assert_int_equal(ovsdb_iface_count(o), 2);
    const struct ovsdb_row *r = ovsdb_iface_find(o, "vm1");
    assert_non_null(r);
    assert_string_equal(r->name, "tap-a");
    assert_int_equal(r->ofport, 7);
    r = ovsdb_iface_find(o, "5f1c2a4e");
    assert_non_null(r);
    assert_int_equal(r->ofport, 0); /* not assigned yet */
    assert_null(ovsdb_iface_find(o, "vm2"));
    assert_null(ovsdb_iface_find(o, "02:00:00:00:00:01")); /* other keys */
    assert_non_null(ovsdb_iface_by_name(o, "tap-b"));
    /* Both rows' iface-ids and names are changes to look at. */
    struct vm_changes *c = ovsdb_iface_changes(o);
    assert_false(c->all);
    assert_int_equal(c->n, 4);
    ovsdb_iface_destroy(o);
}

/* Updates: an ofport assigned, an iface-id moved to another port, a row
 * deleted; each names what changed. */
static void
test_updates(void **state)
{
    (void) state;
    struct ovsdb_iface *o = fed(INITIAL, 0);
    vm_changes_clear(ovsdb_iface_changes(o));
    struct strbuf out;
    strbuf_init(&out);
    static const char upd[] =
        "{\"id\":null,\"method\":\"update\",\"params\":[\"mignet-iface\","
        "{\"Interface\":{\"" U2 "\":{\"old\":{\"ofport\":[\"set\",[]]},"
        "\"new\":{\"name\":\"tap-b\",\"ofport\":9,\"external_ids\":"
        "[\"map\",[[\"iface-id\",\"vm1\"]]]}},"
        "\"" U1 "\":{\"old\":{\"name\":\"tap-a\",\"ofport\":7,"
        "\"external_ids\":[\"map\",[]]}}}}]}";
    assert_int_equal(ovsdb_iface_receive(o, upd, strlen(upd), &out, NULL,
                                         0),
                     0);
    assert_int_equal(ovsdb_iface_count(o), 1);
    const struct ovsdb_row *r = ovsdb_iface_find(o, "vm1");
    assert_non_null(r);
    assert_string_equal(r->name, "tap-b");
    assert_int_equal(r->ofport, 9);
    assert_null(ovsdb_iface_by_name(o, "tap-a"));
    struct vm_changes *c = ovsdb_iface_changes(o);
    bool saw_old_id = false;
    for (size_t i = 0; i < c->n; i++) {
        saw_old_id |= !strcmp(c->names[i], "5f1c2a4e");
    }
    assert_true(saw_old_id); /* the iface-id tap-b had before */
    assert_int_equal(out.len, 0);
    strbuf_destroy(&out);
    ovsdb_iface_destroy(o);
}

/* Two rows with one iface-id: the one with an ofport wins. */
static void
test_duplicate_iface_id(void **state)
{
    (void) state;
    struct ovsdb_iface *o = fed(INITIAL, 0);
    struct strbuf out;
    strbuf_init(&out);
    static const char upd[] =
        "{\"id\":null,\"method\":\"update\",\"params\":[\"mignet-iface\","
        "{\"Interface\":{\"" U2 "\":{\"new\":{\"name\":\"aaa\","
        "\"ofport\":[\"set\",[]],\"external_ids\":"
        "[\"map\",[[\"iface-id\",\"vm1\"]]]}}}}]}";
    assert_int_equal(ovsdb_iface_receive(o, upd, strlen(upd), &out, NULL,
                                         0),
                     0);
    assert_string_equal(ovsdb_iface_find(o, "vm1")->name, "tap-a");
    strbuf_destroy(&out);
    ovsdb_iface_destroy(o);
}

/* Echo requests are answered with their id and params; messages split
 * byte by byte, or glued, read the same. */
static void
test_echo_and_framing(void **state)
{
    (void) state;
    struct ovsdb_iface *o = ovsdb_iface_create();
    struct strbuf out;
    strbuf_init(&out);
    ovsdb_iface_connected(o, &out);
    strbuf_clear(&out);
    static const char text[] =
        "{\"id\":\"echo\",\"method\":\"echo\",\"params\":[]}\n" INITIAL
        "{\"method\":\"echo\",\"params\":[\"x}\\\"{\"],\"id\":5}";
    for (size_t i = 0; i < strlen(text); i++) {
        assert_int_equal(ovsdb_iface_receive(o, &text[i], 1, &out, NULL, 0),
                         0);
    }
    assert_string_equal(strbuf_str(&out),
                        "{\"id\":\"echo\",\"result\":[],\"error\":null}"
                        "{\"id\":5,\"result\":[\"x}\\\"{\"],"
                        "\"error\":null}");
    assert_int_equal(ovsdb_iface_count(o), 2);
    assert_true(ovsdb_iface_ready(o));
    strbuf_destroy(&out);
    ovsdb_iface_destroy(o);
}

/* Malformed input: an error naming the fault, nothing applied -- not
 * even the good rows of the same update. */
static void
test_malformed_changes_nothing(void **state)
{
    (void) state;
    static const char *const bad[] = {
        "garbage",
        "{\"id\":\"mignet-iface\",\"result\":{\"Interface\":[]}}",
        "{\"id\":\"mignet-iface\",\"error\":{\"error\":\"unknown\"}}",
        "{\"id\":null,\"method\":\"update\",\"params\":[1]}",
        "{\"method\":\"update\",\"params\":[null,{\"Interface\":{"
        "\"" U2 "\":{\"new\":{\"name\":\"ok\",\"ofport\":3}},"
        "\"" U1 "\":{\"new\":{\"name\":7}}}}]}",
        "{\"method\":\"update\",\"params\":[null,{\"Interface\":{"
        "\"" U1 "\":{\"new\":{\"name\":\"x\",\"ofport\":\"7\"}}}}]}",
        "{\"method\":\"update\",\"params\":[null,{\"Interface\":{"
        "\"" U1 "\":{\"new\":{\"name\":\"x\","
        "\"external_ids\":[\"map\",[[\"iface-id\"]]]}}}}]}",
        "{\"method\":\"update\",\"params\":[null,{\"Interface\":{"
        "\"" U1 "\":{\"new\":{\"name\":\"x\",\"ofport\":[\"set\",[1,2]]}}}}]}",
        "{\"method\":\"update\",\"params\":[null,{\"Interface\":{"
        "\"" U1 "\":{\"new\":{\"name\":\"\"}}}}]}",
        "{\"method\":\"update\",\"params\":[null,{\"Interface\":{"
        "\"" U1 "\":{\"new\":{\"name\":\"a\\u0000b\"}}}}]}",
        "{\"method\":\"update\",\"params\":[null,{\"Interface\":{"
        "\"" U1 "\":7}}]}",
        "{\"a\":1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ovsdb_iface *o = fed(INITIAL, 0);
        struct strbuf out;
        strbuf_init(&out);
        char err[128];
        assert_int_equal(ovsdb_iface_receive(o, bad[i], strlen(bad[i]),
                                             &out, err, sizeof err),
                         EPROTO);
        assert_true(strlen(err) > 0);
        assert_int_equal(ovsdb_iface_count(o), 2);
        assert_string_equal(ovsdb_iface_find(o, "vm1")->name, "tap-a");
        assert_int_equal(ovsdb_iface_find(o, "vm1")->ofport, 7);
        strbuf_destroy(&out);
        ovsdb_iface_destroy(o);
    }
}

/* Values out of bounds: a too long iface-id is no VM's; a row with a
 * too long name is left out (the others stay usable); a negative ofport
 * (an error) is none. */
static void
test_bounds(void **state)
{
    (void) state;
    char line[1024];
    char longid[CHAN_IFACE_MAX + 2];
    memset(longid, 'i', sizeof longid);
    longid[CHAN_IFACE_MAX + 1] = '\0';
    snprintf(line, sizeof line,
             "{\"id\":\"mignet-iface\",\"result\":{\"Interface\":{"
             "\"" U1 "\":{\"new\":{\"name\":\"t\",\"ofport\":-1,"
             "\"external_ids\":[\"map\",[[\"iface-id\",\"%s\"]]]}}}}}",
             longid);
    struct ovsdb_iface *o = fed(line, 0);
    assert_int_equal(ovsdb_iface_count(o), 1);
    assert_int_equal(ovsdb_iface_by_name(o, "t")->ofport, 0);
    assert_string_equal(ovsdb_iface_by_name(o, "t")->iface_id, "");
    ovsdb_iface_destroy(o);
    char longname[OVSDB_IFACE_NAME_MAX + 2];
    memset(longname, 'n', sizeof longname);
    longname[OVSDB_IFACE_NAME_MAX + 1] = '\0';
    snprintf(line, sizeof line,
             "{\"id\":\"mignet-iface\",\"result\":{\"Interface\":{"
             "\"" U1 "\":{\"new\":{\"name\":\"%s\"}},"
             "\"" U2 "\":{\"new\":{\"name\":\"short\"}}}}}", longname);
    o = fed(line, 0);
    assert_int_equal(ovsdb_iface_count(o), 1);
    assert_non_null(ovsdb_iface_by_name(o, "short"));
    ovsdb_iface_destroy(o);
}

static void
test_frame_limits(void **state)
{
    (void) state;
    struct ovsdb_frame f = {0};
    size_t used;
    assert_int_equal(ovsdb_json_frame(&f, "  {\"a\":[1,{}]} {", 16, &used),
                     0);
    assert_int_equal(used, 14);
    memset(&f, 0, sizeof f);
    assert_int_equal(ovsdb_json_frame(&f, "{\"a\":\"}", 7, &used), 0);
    assert_int_equal(used, 0); /* the brace is in a string: incomplete */
    assert_int_equal(ovsdb_json_frame(&f, "{\"a\":\"}\"}", 9, &used), 0);
    assert_int_equal(used, 9); /* resumed where it stopped */
    memset(&f, 0, sizeof f);
    assert_int_equal(ovsdb_json_frame(&f, "7", 1, &used), EPROTO);
    size_t n = OVSDB_MSG_MAX + 2;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '[';
    memset(&f, 0, sizeof f);
    assert_int_equal(ovsdb_json_frame(&f, big, n, &used), EMSGSIZE);
    free(big);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monitor_request),
        cmocka_unit_test(test_initial_rows),
        cmocka_unit_test(test_updates),
        cmocka_unit_test(test_duplicate_iface_id),
        cmocka_unit_test(test_echo_and_framing),
        cmocka_unit_test(test_malformed_changes_nothing),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_frame_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
