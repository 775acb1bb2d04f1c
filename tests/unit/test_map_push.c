/* test_map_push.c: the agent's side of map push (map_push.c) and
 * agent_map_apply_push().
 *
 * A push applies all at once at its map_end, or not at all: bad entries,
 * gaps and lines out of order leave the map as it was and make the agent
 * subscribe again.  A confirmed version is reported as a map_ack when a
 * push brought it and as a refresh when a poll did -- never a pushed
 * version as a refresh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_map.h"
#include "agent/chan_client.h"
#include "agent/map_push.h"
#include "lib/strbuf.h"
#include "proto/chan_msg.h"

#define SET(DST, SRC) snprintf(DST, sizeof DST, "%s", SRC)

static struct chan_msg
begin(uint64_t since, uint64_t version)
{
    struct chan_msg m;
    chan_msg_init(&m, CHAN_MAP_BEGIN);
    m.since = since;
    m.version = version;
    return m;
}

static struct chan_msg
entry(const char *vm, const char *node, uint64_t epoch)
{
    struct chan_msg m;
    chan_msg_init(&m, CHAN_MAP_ENTRY);
    SET(m.vm, vm);
    if (node) {
        SET(m.node, node);
        SET(m.address, "198.18.0.2");
        m.epoch = epoch;
        m.config.mac[0] = 0x02;
        m.config.ip = 0xc6120101;
    } else {
        m.removed = true;
    }
    return m;
}

static struct chan_msg
end(uint64_t version)
{
    struct chan_msg m;
    chan_msg_init(&m, CHAN_MAP_END);
    m.version = version;
    return m;
}

static enum map_push_result
feed(struct map_push *p, struct agent_map *map, struct chan_msg m)
{
    char err[160];
    return map_push_receive(p, map, &m, err, sizeof err);
}

/* A welcomed client whose output goes to 'out'. */
static struct chan_client *
welcomed_client(struct strbuf *out)
{
    struct chan_client *c = chan_client_create("n1", NULL);
    chan_client_connected(c, 1, out);
    static const char welcome[] =
        "{\"type\":\"welcome\",\"node\":\"n1\",\"map_version\":0,"
        "\"heartbeat_ms\":1000}\n";
    assert_int_equal(chan_client_receive(c, welcome, strlen(welcome), 2,
                                         out),
                     0);
    strbuf_clear(out);
    return c;
}

static void
test_apply_push(void **state)
{
    (void) state;
    struct agent_map *m = agent_map_create();
    struct amap_change ch[2] = {0};
    char err[160];
    SET(ch[0].e.vm, "vm1");
    SET(ch[0].e.node, "n2");
    ch[0].e.epoch = 1;
    SET(ch[1].e.vm, "vm2");
    SET(ch[1].e.node, "n3");
    ch[1].e.epoch = 4;
    /* The whole map (since 0). */
    assert_int_equal(agent_map_apply_push(m, 0, 5, ch, 2, err, sizeof err),
                     0);
    assert_int_equal(agent_map_version(m), 5);
    assert_int_equal(agent_map_count(m), 2);
    assert_int_equal(agent_map_polled_version(m), 0); /* not a poll */
    /* A delta: vm1 moves, vm2 goes. */
    ch[0].e.epoch = 2;
    SET(ch[0].e.node, "n4");
    ch[1].removed = true;
    assert_int_equal(agent_map_apply_push(m, 5, 7, ch, 2, err, sizeof err),
                     0);
    assert_int_equal(agent_map_version(m), 7);
    assert_int_equal(agent_map_count(m), 1);
    assert_string_equal(agent_map_find(m, "vm1")->node, "n4");
    assert_null(agent_map_find(m, "vm2"));
    /* A delta from an older version that reaches further applies too (its
     * entries are the state at 'version'). */
    ch[1].removed = false;
    assert_int_equal(agent_map_apply_push(m, 6, 8, ch, 2, err, sizeof err),
                     0);
    assert_int_equal(agent_map_count(m), 2);
    /* Already held: nothing to do. */
    assert_int_equal(agent_map_apply_push(m, 7, 8, ch, 1, err, sizeof err),
                     EALREADY);
    assert_int_equal(agent_map_apply_push(m, 0, 8, ch, 1, err, sizeof err),
                     EALREADY);
    assert_int_equal(agent_map_count(m), 2);
    /* A gap, since > version, a bad entry: EINVAL, nothing changes. */
    assert_int_equal(agent_map_apply_push(m, 9, 10, ch, 1, err, sizeof err),
                     EINVAL);
    assert_non_null(strstr(err, "holds 8"));
    assert_int_equal(agent_map_apply_push(m, 8, 7, ch, 1, err, sizeof err),
                     EINVAL);
    struct amap_change bad[2];
    memcpy(bad, ch, sizeof bad);
    SET(bad[0].e.node, "n9"); /* would change vm1 ... */
    bad[1].e.epoch = 0;       /* ... but vm2's entry is bad */
    assert_int_equal(agent_map_apply_push(m, 8, 9, bad, 2, err,
                                          sizeof err),
                     EINVAL);
    assert_non_null(strstr(err, "entry 1"));
    assert_string_equal(agent_map_find(m, "vm1")->node, "n4");
    assert_int_equal(agent_map_version(m), 8);
    SET(bad[1].e.node, "not a name!");
    bad[1].e.epoch = 1;
    assert_int_equal(agent_map_apply_push(m, 8, 9, bad, 2, err,
                                          sizeof err),
                     EINVAL);
    assert_int_equal(agent_map_version(m), 8);
    /* A full push replaces everything. */
    assert_int_equal(agent_map_apply_push(m, 0, 12, ch, 1, err, sizeof err),
                     0);
    assert_int_equal(agent_map_count(m), 1);
    /* A poll answer sets the polled version. */
    static const char poll[] = "{\"version\":13,\"full\":false,"
                               "\"entries\":[]}";
    assert_int_equal(agent_map_apply(m, poll, strlen(poll), err, sizeof err),
                     0);
    assert_int_equal(agent_map_polled_version(m), 13);
    /* A push overtakes a poll: the poll's older answer (vm1 elsewhere, a
     * full map without vm1's move) changes nothing. */
    SET(ch[0].e.node, "n7");
    ch[0].e.epoch = 9;
    assert_int_equal(agent_map_apply_push(m, 13, 15, ch, 1, err,
                                          sizeof err),
                     0);
    static const char old[] =
        "{\"version\":14,\"full\":true,\"entries\":[{\"vm\":\"vm1\","
        "\"removed\":false,\"node\":\"n4\",\"address\":\"198.18.0.4\","
        "\"epoch\":8,\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\"},"
        "{\"vm\":\"vm5\",\"removed\":false,\"node\":\"n4\","
        "\"epoch\":1,\"mac\":\"02:00:00:00:00:05\",\"ip\":\"198.18.1.5\"}]}";
    assert_int_equal(agent_map_apply(m, old, strlen(old), err, sizeof err),
                     0);
    assert_int_equal(agent_map_version(m), 15);
    assert_string_equal(agent_map_find(m, "vm1")->node, "n7");
    assert_null(agent_map_find(m, "vm5"));
    assert_int_equal(agent_map_polled_version(m), 14);
    /* One as new as the map applies. */
    static const char same[] = "{\"version\":15,\"full\":false,"
                               "\"entries\":[]}";
    assert_int_equal(agent_map_apply(m, same, strlen(same), err,
                                     sizeof err),
                     0);
    assert_int_equal(agent_map_polled_version(m), 15);
    agent_map_destroy(m);
}

static void
test_receive(void **state)
{
    (void) state;
    struct agent_map *m = agent_map_create();
    struct map_push *p = map_push_create();
    struct map_push_stats st;
    assert_int_equal(feed(p, m, begin(0, 3)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, entry("vm1", "n2", 1)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, entry("vm2", "n3", 1)), MAP_PUSH_NONE);
    assert_int_equal(agent_map_count(m), 0); /* not before map_end */
    assert_int_equal(feed(p, m, end(3)), MAP_PUSH_APPLIED);
    assert_int_equal(agent_map_count(m), 2);
    assert_int_equal(agent_map_version(m), 3);
    assert_int_equal(agent_map_find(m, "vm1")->address, 0xc6120002);
    /* A removal. */
    assert_int_equal(feed(p, m, begin(3, 4)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, entry("vm2", NULL, 0)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(4)), MAP_PUSH_APPLIED);
    assert_int_equal(agent_map_count(m), 1);
    map_push_get_stats(p, &st);
    assert_int_equal(st.applied, 2);
    assert_int_equal(st.changes, 3);
    /* Out of order: refused, the map unchanged. */
    assert_int_equal(feed(p, m, entry("vm3", "n2", 1)), MAP_PUSH_REFUSED);
    assert_int_equal(feed(p, m, end(5)), MAP_PUSH_REFUSED);
    assert_int_equal(feed(p, m, begin(4, 5)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, begin(4, 5)), MAP_PUSH_REFUSED);
    assert_int_equal(feed(p, m, begin(4, 6)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, entry("vm3", "n2", 1)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(7)), MAP_PUSH_REFUSED); /* not 6 */
    /* A gap. */
    assert_int_equal(feed(p, m, begin(5, 6)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(6)), MAP_PUSH_REFUSED);
    assert_int_equal(agent_map_count(m), 1);
    assert_int_equal(agent_map_version(m), 4);
    /* Stale. */
    assert_int_equal(feed(p, m, begin(2, 3)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(3)), MAP_PUSH_STALE);
    /* A half-received push is dropped by a new session. */
    assert_int_equal(feed(p, m, begin(4, 5)), MAP_PUSH_NONE);
    map_push_session(p);
    assert_int_equal(feed(p, m, end(5)), MAP_PUSH_REFUSED);
    /* Other messages are not its business. */
    struct chan_msg hb;
    chan_msg_init(&hb, CHAN_HEARTBEAT);
    assert_int_equal(feed(p, m, hb), MAP_PUSH_NONE);
    map_push_get_stats(p, &st);
    assert_int_equal(st.refused, 6);
    assert_int_equal(st.stale, 1);
    map_push_destroy(p);
    agent_map_destroy(m);
}

static void
test_subscribe(void **state)
{
    (void) state;
    struct strbuf out;
    strbuf_init(&out);
    struct agent_map *m = agent_map_create();
    struct map_push *p = map_push_create();
    struct chan_client *c = chan_client_create("n1", NULL);
    /* Not welcomed: nothing. */
    chan_client_connected(c, 1, &out);
    strbuf_clear(&out);
    map_push_run(p, c, m, 1, &out);
    assert_int_equal(out.len, 0);
    chan_client_destroy(c);
    c = welcomed_client(&out);
    map_push_run(p, c, m, 3, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"type\":\"subscribe\",\"version\":0}\n");
    strbuf_clear(&out);
    map_push_run(p, c, m, 4, &out); /* once per session */
    assert_int_equal(out.len, 0);
    /* A gap makes it subscribe again from the version held... */
    assert_int_equal(feed(p, m, begin(0, 2)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(2)), MAP_PUSH_APPLIED);
    assert_int_equal(feed(p, m, begin(5, 6)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(6)), MAP_PUSH_REFUSED);
    map_push_run(p, c, m, 5, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"type\":\"subscribe\",\"version\":2}\n");
    strbuf_clear(&out);
    /* ... once: pushes already on the way are refused quietly. */
    assert_int_equal(feed(p, m, begin(6, 7)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(7)), MAP_PUSH_REFUSED);
    map_push_run(p, c, m, 6, &out);
    assert_int_equal(out.len, 0);
    /* A new session subscribes again; push_disabled stops it. */
    map_push_session(p);
    struct chan_msg e;
    chan_msg_init(&e, CHAN_ERROR);
    SET(e.code, "push_disabled");
    assert_int_equal(feed(p, m, e), MAP_PUSH_NONE);
    map_push_run(p, c, m, 7, &out);
    assert_int_equal(out.len, 0);
    chan_client_destroy(c);
    map_push_destroy(p);
    agent_map_destroy(m);
    strbuf_destroy(&out);
}

static void
test_confirmed(void **state)
{
    (void) state;
    struct strbuf out;
    strbuf_init(&out);
    struct agent_map *m = agent_map_create();
    struct map_push *p = map_push_create();
    struct chan_client *c = welcomed_client(&out);
    char err[160];
    /* Polled version 3: a refresh, as before push. */
    static const char poll3[] = "{\"version\":3,\"full\":true,"
                                "\"entries\":[]}";
    assert_int_equal(agent_map_apply(m, poll3, strlen(poll3), err,
                                     sizeof err),
                     0);
    map_push_confirmed(p, c, m, 3, 10, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"type\":\"refresh\",\"version\":3}\n");
    strbuf_clear(&out);
    map_push_confirmed(p, c, m, 3, 11, &out); /* once */
    assert_int_equal(out.len, 0);
    /* Pushed version 5: a map_ack, never a refresh. */
    assert_int_equal(feed(p, m, begin(3, 5)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(5)), MAP_PUSH_APPLIED);
    map_push_confirmed(p, c, m, 5, 12, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"type\":\"map_ack\",\"version\":5}\n");
    strbuf_clear(&out);
    map_push_confirmed(p, c, m, 5, 13, &out);
    assert_int_equal(out.len, 0);
    /* A batch computed before the next poll answer: nothing new. */
    static const char poll7[] = "{\"version\":7,\"full\":false,"
                                "\"entries\":[]}";
    assert_int_equal(agent_map_apply(m, poll7, strlen(poll7), err,
                                     sizeof err),
                     0);
    map_push_confirmed(p, c, m, 5, 14, &out);
    assert_int_equal(out.len, 0);
    /* Its own batch: the poll's refresh. */
    map_push_confirmed(p, c, m, 7, 15, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"type\":\"refresh\",\"version\":7}\n");
    strbuf_clear(&out);
    /* A new session reports again. */
    map_push_session(p);
    map_push_confirmed(p, c, m, 7, 16, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"type\":\"refresh\",\"version\":7}\n");
    strbuf_clear(&out);
    /* A version pushed in an earlier session is not acknowledged in this
     * one (the controller would refuse it); one pushed in this one is. */
    map_push_session(p);
    assert_int_equal(feed(p, m, begin(7, 9)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(9)), MAP_PUSH_APPLIED);
    map_push_session(p);
    map_push_confirmed(p, c, m, 9, 17, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"type\":\"refresh\",\"version\":7}\n");
    strbuf_clear(&out);
    assert_int_equal(feed(p, m, begin(9, 10)), MAP_PUSH_NONE);
    assert_int_equal(feed(p, m, end(10)), MAP_PUSH_APPLIED);
    map_push_confirmed(p, c, m, 10, 18, &out);
    assert_string_equal(strbuf_str(&out),
                        "{\"type\":\"map_ack\",\"version\":10}\n");
    chan_client_destroy(c);
    map_push_destroy(p);
    agent_map_destroy(m);
    strbuf_destroy(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_push),
        cmocka_unit_test(test_receive),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_confirmed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
