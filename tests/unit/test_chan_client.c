/* test_chan_client.c: the agent side of the channel: session, resync,
 * the epoch rule, cumulative acks, heartbeats and malformed input.
 *
 * Each test plays the controller by feeding exact protocol lines and checks
 * both the held entries and the exact lines the agent answers with. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/chan_client.h"
#include "agent/credentials.h"
#include "lib/strbuf.h"

#define CFG(MAC_LAST) "\"mac\":\"02:00:00:00:00:0" MAC_LAST "\","           \
                      "\"ip\":\"198.18.1." MAC_LAST "\",\"vni\":100"

#define WELCOME                                                              \
    "{\"type\":\"welcome\",\"node\":\"n1\",\"map_version\":5,"               \
    "\"heartbeat_ms\":1000}\n"

struct recorder {
    int state_changes;
    int violations;
    int received;
    char last_violation[256];
};

static void
on_received(void *aux, const char *line, size_t len,
            const struct chan_msg *msg, enum chan_err e)
{
    struct recorder *r = aux;
    r->received++;
}

static void
on_state(void *aux)
{
    struct recorder *r = aux;
    r->state_changes++;
}

static void
on_violation(void *aux, const char *what)
{
    struct recorder *r = aux;
    r->violations++;
    snprintf(r->last_violation, sizeof r->last_violation, "%s", what);
}

struct fixture {
    struct chan_client *c;
    struct recorder rec;
    struct strbuf out;
};

static int
setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    struct chan_client_hooks hooks = {
        .received = on_received,
        .state_changed = on_state,
        .violation = on_violation,
        .aux = &f.rec,
    };
    f.c = chan_client_create("n1", &hooks);
    assert_non_null(f.c);
    strbuf_init(&f.out);
    *state = &f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    chan_client_destroy(f->c);
    strbuf_destroy(&f->out);
    return 0;
}

static int
feed(struct fixture *f, const char *text, uint64_t now)
{
    return chan_client_receive(f->c, text, strlen(text), now, &f->out);
}

/* Asserts the output is exactly 'want' and clears it. */
static void
expect_out(struct fixture *f, const char *want)
{
    assert_string_equal(strbuf_str(&f->out), want);
    strbuf_clear(&f->out);
}

static void
connect_welcome(struct fixture *f)
{
    chan_client_connected(f->c, 100, &f->out);
    expect_out(f, "{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1}\n");
    assert_false(chan_client_welcomed(f->c));
    assert_int_equal(feed(f, WELCOME, 110), 0);
    assert_true(chan_client_welcomed(f->c));
    expect_out(f, "");
}

#define BIND(IP, TYPE, ORIGIN)                                               \
    "\"binding\":{\"id\":4,\"node\":\"n1\",\"mac\":\"02:00:00:00:00:01\","    \
    "\"ip\":\"" IP "\",\"type\":\"" TYPE "\",\"origin\":\"" ORIGIN "\"}"

/* Port security: the install's binding is held with the entry; an install
 * without one clears it; a relay keeps the snapshot's; the agent's own
 * messages go out only in a welcomed session. */
static void
test_binding_held(void **state)
{
    struct fixture *f = *state;
    struct chan_msg m;
    chan_msg_init(&m, CHAN_DHCP);
    m.port = 3;
    m.frame_len = 1;
    assert_false(chan_client_send(f->c, &m, 50, &f->out));
    assert_int_equal(f->out.len, 0);
    connect_welcome(f);
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":1,"
                "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.7\","
                BIND("198.18.1.7", "static", "manager") "}\n", 120),
        0);
    const struct chan_entry *e = chan_client_find(f->c, "vm1");
    assert_non_null(e);
    assert_true(e->has_binding);
    assert_int_equal(e->binding.id, 4);
    assert_int_equal(e->binding.ip, 0xc6120107);
    assert_string_equal(e->binding.vm, "vm1");
    assert_int_equal(
        feed(f, "{\"type\":\"relay\",\"seq\":2,\"vm\":\"vm1\",\"epoch\":1,"
                "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.7\","
                "\"target\":\"n2\",\"target_address\":\"198.18.0.2\","
                "\"target_epoch\":2," BIND("198.18.1.7", "static", "manager")
                "}\n", 130),
        0);
    e = chan_client_find(f->c, "vm1");
    assert_true(e->relay);
    assert_true(e->has_binding);
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":3,\"vm\":\"vm1\",\"epoch\":1,"
                "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.7\"}\n",
             140),
        0);
    e = chan_client_find(f->c, "vm1");
    assert_false(e->has_binding);
    assert_true(e->relay); /* an update at the same epoch keeps the relay */
    strbuf_clear(&f->out);
    m.frame[0] = 0xab;
    assert_true(chan_client_send(f->c, &m, 150, &f->out));
    expect_out(f, "{\"type\":\"dhcp\",\"port\":3,\"frame\":\"ab\"}\n");
}

static void
test_resync_replaces_state(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);
    const struct vm_changes *ch = chan_client_changes(f->c);
    assert_true(ch->all); /* nothing drained yet */
    chan_client_clear_changes(f->c);

    /* Something held from before. */
    assert_int_equal(feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"old\","
                             "\"epoch\":1," CFG("9") "}\n",
                          120),
                     0);
    expect_out(f, "{\"type\":\"ack\",\"seq\":1}\n");
    assert_non_null(chan_client_find(f->c, "old"));
    int changes = f->rec.state_changes;
    assert_false(ch->all);
    assert_int_equal(ch->n, 1); /* an instruction names its VM */
    assert_string_equal(ch->names[0], "old");
    chan_client_clear_changes(f->c);

    assert_int_equal(
        feed(f,
             "{\"type\":\"resync_begin\",\"seq\":2}\n"
             "{\"type\":\"install\",\"seq\":3,\"vm\":\"vm2\",\"epoch\":4,"
             CFG("2") "}\n"
             "{\"type\":\"install\",\"seq\":4,\"vm\":\"vm1\",\"epoch\":2,"
             CFG("1") "}\n"
             "{\"type\":\"relay\",\"seq\":5,\"vm\":\"vm1\",\"epoch\":2,"
             CFG("1") ",\"target\":\"n2\",\"target_address\":\"198.18.0.2\","
             "\"target_epoch\":3}\n",
             130),
        0);
    /* Inside the resync nothing changes and nothing is acknowledged. */
    assert_true(chan_client_in_resync(f->c));
    expect_out(f, "");
    assert_int_equal(chan_client_n_entries(f->c), 1);
    assert_int_equal(f->rec.state_changes, changes);
    assert_false(ch->all);
    assert_int_equal(ch->n, 0);

    assert_int_equal(feed(f, "{\"type\":\"resync_end\",\"seq\":6}\n", 140),
                     0);
    assert_false(chan_client_in_resync(f->c));
    expect_out(f, "{\"type\":\"ack\",\"seq\":6}\n");
    assert_int_equal(f->rec.state_changes, changes + 1);
    assert_true(ch->all); /* a resync changes everything */
    assert_int_equal(chan_client_n_entries(f->c), 2);
    assert_null(chan_client_find(f->c, "old"));
    const struct chan_entry *e = chan_client_entry(f->c, 0);
    assert_string_equal(e->vm, "vm1"); /* sorted */
    assert_int_equal(e->epoch, 2);
    assert_true(e->relay);
    assert_string_equal(e->target, "n2");
    assert_string_equal(e->target_address, "198.18.0.2");
    assert_int_equal(e->target_epoch, 3);
    assert_int_equal(e->config.ip, 0xc6120101);
    e = chan_client_entry(f->c, 1);
    assert_string_equal(e->vm, "vm2");
    assert_int_equal(e->epoch, 4);
    assert_false(e->relay);
    assert_int_equal(f->rec.violations, 0);

    struct chan_client_stats st;
    chan_client_get_stats(f->c, &st);
    assert_int_equal(st.resyncs, 1);
    assert_int_equal(st.installs, 3);
    assert_int_equal(st.relays, 1);
    assert_int_equal(st.acked_seq, 6);
    assert_int_equal(st.map_version, 5);
    assert_int_equal(st.heartbeat_ms, 1000);
}

/* A resync builds its state in arrival order and sorts it once at the
 * end: thousands of VMs in descending order, one installed twice (the
 * later, newer epoch wins), one refused for a stale epoch, come out
 * sorted, unique and findable. */
static void
test_large_resync_sorted(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);
    enum { N = 3000 };
    uint64_t seq = 1;
    char line[256];
    snprintf(line, sizeof line, "{\"type\":\"resync_begin\",\"seq\":%llu}\n",
             (unsigned long long) seq++);
    assert_int_equal(feed(f, line, 120), 0);
    for (int i = N - 1; i >= 0; i--) {
        snprintf(line, sizeof line,
                 "{\"type\":\"install\",\"seq\":%llu,\"vm\":\"v%04d\","
                 "\"epoch\":2," CFG("1") "}\n",
                 (unsigned long long) seq++, i);
        assert_int_equal(feed(f, line, 120), 0);
    }
    /* v0005 again, newer; v0007 again, older. */
    struct {
        const char *vm;
        int epoch;
    } again[] = {{"v0005", 9}, {"v0007", 1}};
    for (int k = 0; k < 2; k++) {
        snprintf(line, sizeof line,
                 "{\"type\":\"install\",\"seq\":%llu,\"vm\":\"%s\","
                 "\"epoch\":%d," CFG("1") "}\n",
                 (unsigned long long) seq++, again[k].vm, again[k].epoch);
        assert_int_equal(feed(f, line, 120), 0);
    }
    /* The stale one is refused at once, even inside the resync. */
    assert_non_null(strstr(strbuf_str(&f->out), "\"type\":\"refused\""));
    strbuf_clear(&f->out);
    assert_int_equal(chan_client_n_entries(f->c), 0);
    snprintf(line, sizeof line, "{\"type\":\"resync_end\",\"seq\":%llu}\n",
             (unsigned long long) seq);
    assert_int_equal(feed(f, line, 130), 0);
    assert_int_equal(chan_client_n_entries(f->c), N);
    for (size_t i = 1; i < N; i++) {
        assert_true(strcmp(chan_client_entry(f->c, i - 1)->vm,
                           chan_client_entry(f->c, i)->vm)
                    < 0);
    }
    assert_int_equal(chan_client_find(f->c, "v0005")->epoch, 9);
    assert_int_equal(chan_client_find(f->c, "v0007")->epoch, 2);
    assert_int_equal(chan_client_find(f->c, "v2999")->epoch, 2);
    assert_int_equal(f->rec.violations, 0);
}

static void
test_epoch_rule(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);

    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":5,"
                CFG("1") "}\n",
             120),
        0);
    expect_out(f, "{\"type\":\"ack\",\"seq\":1}\n");

    /* Older install, relay and delete at another epoch: all refused, the
     * entry untouched, and the seqs still acknowledged. */
    assert_int_equal(
        feed(f,
             "{\"type\":\"install\",\"seq\":2,\"vm\":\"vm1\",\"epoch\":4,"
             CFG("7") "}\n"
             "{\"type\":\"relay\",\"seq\":3,\"vm\":\"vm1\",\"epoch\":4,"
             CFG("1") ",\"target\":\"n2\",\"target_address\":\"a\","
             "\"target_epoch\":6}\n"
             "{\"type\":\"delete\",\"seq\":4,\"vm\":\"vm1\",\"epoch\":6,"
             CFG("1") "}\n"
             "{\"type\":\"delete\",\"seq\":5,\"vm\":\"nope\",\"epoch\":1,"
             CFG("1") "}\n",
             130),
        0);
    expect_out(f, "{\"type\":\"refused\",\"seq\":2,\"vm\":\"vm1\","
                  "\"epoch\":4,\"held_epoch\":5}\n"
                  "{\"type\":\"refused\",\"seq\":3,\"vm\":\"vm1\","
                  "\"epoch\":4,\"held_epoch\":5}\n"
                  "{\"type\":\"refused\",\"seq\":4,\"vm\":\"vm1\","
                  "\"epoch\":6,\"held_epoch\":5}\n"
                  "{\"type\":\"refused\",\"seq\":5,\"vm\":\"nope\","
                  "\"epoch\":1,\"held_epoch\":0}\n"
                  "{\"type\":\"ack\",\"seq\":5}\n");
    const struct chan_entry *e = chan_client_find(f->c, "vm1");
    assert_non_null(e);
    assert_int_equal(e->epoch, 5);
    assert_int_equal(e->config.mac[5], 1);
    assert_false(e->relay);

    /* Relay at the held epoch, then a same-epoch update keeps the relay. */
    assert_int_equal(
        feed(f,
             "{\"type\":\"relay\",\"seq\":6,\"vm\":\"vm1\",\"epoch\":5,"
             CFG("1") ",\"target\":\"n3\",\"target_address\":\"b\","
             "\"target_epoch\":6}\n"
             "{\"type\":\"install\",\"seq\":7,\"vm\":\"vm1\",\"epoch\":5,"
             CFG("8") "}\n",
             140),
        0);
    expect_out(f, "{\"type\":\"ack\",\"seq\":7}\n");
    e = chan_client_find(f->c, "vm1");
    assert_true(e->relay);
    assert_string_equal(e->target, "n3");
    assert_int_equal(e->config.mac[5], 8);

    /* A newer install replaces the entry and drops the relay. */
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":8,\"vm\":\"vm1\",\"epoch\":9,"
                CFG("1") "}\n",
             150),
        0);
    e = chan_client_find(f->c, "vm1");
    assert_int_equal(e->epoch, 9);
    assert_false(e->relay);

    /* Delete at the held epoch removes it. */
    strbuf_clear(&f->out);
    assert_int_equal(
        feed(f, "{\"type\":\"delete\",\"seq\":9,\"vm\":\"vm1\",\"epoch\":9,"
                CFG("1") "}\n",
             160),
        0);
    expect_out(f, "{\"type\":\"ack\",\"seq\":9}\n");
    assert_null(chan_client_find(f->c, "vm1"));

    struct chan_client_stats st;
    chan_client_get_stats(f->c, &st);
    assert_int_equal(st.refused, 4);
    assert_int_equal(st.deletes, 1);
    assert_int_equal(f->rec.violations, 0);
}

static void
test_split_bytes(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);
    static const char text[] =
        "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":5,"
        CFG("1") "}\n{\"type\":\"heartbeat\"}\n";
    for (size_t i = 0; i < strlen(text); i++) {
        assert_int_equal(chan_client_receive(f->c, text + i, 1, 200 + i,
                                             &f->out),
                         0);
    }
    expect_out(f, "{\"type\":\"ack\",\"seq\":1}\n");
    assert_non_null(chan_client_find(f->c, "vm1"));
    struct chan_client_stats st;
    chan_client_get_stats(f->c, &st);
    assert_int_equal(st.heartbeats, 1);
}

static void
test_malformed_input(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);

    /* Unknown type: answered, the session goes on. */
    assert_int_equal(feed(f, "{\"type\":\"teleport\"}\n", 120), 0);
    expect_out(f, "{\"type\":\"error\",\"code\":\"unknown_type\","
                  "\"message\":\"unknown message type 'teleport'\"}\n");
    /* A bad member of a known type: answered, nothing applied. */
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":1,"
                "\"mac\":\"zz\",\"ip\":\"198.18.1.1\"}\n",
             130),
        0);
    expect_out(f, "{\"type\":\"error\",\"code\":\"bad_field\",\"message\":"
                  "\"mac: not a MAC address like 02:00:00:00:00:01\"}\n");
    assert_int_equal(chan_client_n_entries(f->c), 0);
    /* Invalid JSON: answered, then the session must close. */
    assert_int_equal(feed(f, "{oops\n", 140), EPROTO);
    assert_non_null(strstr(strbuf_str(&f->out), "\"code\":\"bad_json\""));
    strbuf_clear(&f->out);
    assert_int_equal(chan_client_n_entries(f->c), 0);
    assert_int_equal(f->rec.violations, 3);
}

/* A replica that does not lead answers hello with not_leader: the
 * session must end (EREMCHG), naming the leader it gave; entries held
 * from an earlier session stay; a bad leader address is refused like any
 * bad member and names nothing. */
static void
test_not_leader(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\","
                "\"epoch\":1,\"mac\":\"02:00:00:00:00:01\","
                "\"ip\":\"198.18.1.1\"}\n", 120),
        0);
    strbuf_clear(&f->out);
    chan_client_disconnected(f->c);
    assert_string_equal(chan_client_leader(f->c), "");

    chan_client_connected(f->c, 200, &f->out);
    strbuf_clear(&f->out);
    assert_int_equal(feed(f, "{\"type\":\"not_leader\","
                             "\"leader\":\"198.18.0.7:7481\"}\n", 210),
                     EREMCHG);
    assert_string_equal(chan_client_leader(f->c), "198.18.0.7:7481");
    assert_false(chan_client_welcomed(f->c));
    assert_int_equal(chan_client_n_entries(f->c), 1);
    struct chan_client_stats st;
    chan_client_get_stats(f->c, &st);
    assert_int_equal(st.not_leader, 1);
    chan_client_disconnected(f->c);

    /* No leader known (an election under way). */
    chan_client_connected(f->c, 300, &f->out);
    strbuf_clear(&f->out);
    assert_int_equal(feed(f, "{\"type\":\"not_leader\"}\n", 310), EREMCHG);
    assert_string_equal(chan_client_leader(f->c), "");
    chan_client_disconnected(f->c);

    /* A leader with a space: a bad member, answered; nothing named. */
    chan_client_connected(f->c, 400, &f->out);
    strbuf_clear(&f->out);
    assert_int_equal(feed(f, "{\"type\":\"not_leader\","
                             "\"leader\":\"a b\"}\n", 410), 0);
    assert_non_null(strstr(strbuf_str(&f->out), "\"code\":\"bad_field\""));
    assert_string_equal(chan_client_leader(f->c), "");
    chan_client_get_stats(f->c, &st);
    assert_int_equal(st.not_leader, 2);
}

static void
test_too_long(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);
    struct strbuf big;
    strbuf_init(&big);
    strbuf_pad(&big, ' ', CHAN_MSG_MAX_LINE);
    assert_int_equal(chan_client_receive(f->c, big.data, big.len, 120,
                                         &f->out),
                     EMSGSIZE);
    assert_non_null(strstr(strbuf_str(&f->out), "\"code\":\"too_long\""));
    strbuf_destroy(&big);
}

static void
test_before_welcome_and_violations(void **state)
{
    struct fixture *f = *state;
    chan_client_connected(f->c, 100, &f->out);
    strbuf_clear(&f->out);
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":1,"
                CFG("1") "}\n",
             110),
        0);
    expect_out(f, ""); /* neither applied nor acknowledged */
    assert_int_equal(chan_client_n_entries(f->c), 0);
    assert_int_equal(f->rec.violations, 1);
    assert_non_null(strstr(f->rec.last_violation, "before welcome"));

    assert_int_equal(feed(f, "{\"type\":\"welcome\",\"node\":\"n7\","
                             "\"map_version\":0,\"heartbeat_ms\":0}\n",
                          120),
                     0);
    assert_int_equal(f->rec.violations, 2);
    assert_int_equal(feed(f, "{\"type\":\"resync_end\",\"seq\":1}\n", 130),
                     0);
    assert_int_equal(f->rec.violations, 3);
    assert_int_equal(feed(f, "{\"type\":\"ack\",\"seq\":1}\n", 130), 0);
    assert_int_equal(f->rec.violations, 4);
    /* Seqs must grow. */
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":4,\"vm\":\"vm1\",\"epoch\":1,"
                CFG("1") "}\n"
                "{\"type\":\"install\",\"seq\":4,\"vm\":\"vm2\",\"epoch\":1,"
                CFG("2") "}\n",
             140),
        0);
    assert_int_equal(f->rec.violations, 5);
    assert_non_null(strstr(f->rec.last_violation, "not above"));
}

static void
test_heartbeats_and_timeouts(void **state)
{
    struct fixture *f = *state;
    chan_client_connected(f->c, 100, &f->out);
    strbuf_clear(&f->out);
    assert_int_equal(chan_client_next_wake(f->c),
                     100 + CHAN_CLIENT_WELCOME_TIMEOUT_MS);
    assert_int_equal(chan_client_run(f->c, 5000, &f->out), 0);
    assert_int_equal(chan_client_run(f->c,
                                     100 + CHAN_CLIENT_WELCOME_TIMEOUT_MS,
                                     &f->out),
                     ETIMEDOUT);

    chan_client_connected(f->c, 20000, &f->out);
    strbuf_clear(&f->out);
    assert_int_equal(feed(f, WELCOME, 20000), 0); /* heartbeat 1000 ms */
    assert_int_equal(chan_client_next_wake(f->c), 21000);
    assert_int_equal(chan_client_run(f->c, 20999, &f->out), 0);
    expect_out(f, "");
    assert_int_equal(chan_client_run(f->c, 21000, &f->out), 0);
    expect_out(f, "{\"type\":\"heartbeat\"}\n");
    assert_int_equal(chan_client_next_wake(f->c), 22000);
    /* The controller's heartbeat keeps the session alive. */
    assert_int_equal(feed(f, "{\"type\":\"heartbeat\"}\n", 22500), 0);
    assert_int_equal(chan_client_run(f->c, 25499, &f->out), 0);
    assert_int_equal(chan_client_run(f->c, 25500, &f->out), ETIMEDOUT);
}

static void
test_options_refresh_report_noack(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":3,"
                CFG("1") "}\n",
             120),
        0);
    strbuf_clear(&f->out);
    chan_client_refreshed(f->c, 42, 130, &f->out);
    expect_out(f, "{\"type\":\"refresh\",\"version\":42}\n");

    /* Reconnect with reports on and acks off. */
    chan_client_disconnected(f->c);
    chan_client_refreshed(f->c, 43, 140, &f->out);
    expect_out(f, ""); /* not connected */
    chan_client_set_report(f->c, true);
    chan_client_set_ack(f->c, false);
    chan_client_connected(f->c, 150, &f->out);
    strbuf_clear(&f->out);
    assert_int_equal(feed(f, WELCOME, 160), 0);
    expect_out(f, "{\"type\":\"report\",\"vm\":\"vm1\",\"epoch\":3}\n");
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":9,\"vm\":\"vm2\",\"epoch\":1,"
                CFG("2") "}\n",
             170),
        0);
    expect_out(f, "");
    assert_non_null(chan_client_find(f->c, "vm2"));
}

/* With acks held back (the real agent): a nack names the highest applied
 * seq and acknowledges nothing; it is not repeated for the same seq; a
 * later ack still covers it; nothing beyond what was applied is nacked. */
static void
test_nack(void **state)
{
    struct fixture *f = *state;
    chan_client_set_ack(f->c, false);
    connect_welcome(f);
    chan_client_nack(f->c, 1, 5, 2, 115, &f->out);
    expect_out(f, ""); /* nothing applied yet */
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":3,"
                CFG("1") "}\n{\"type\":\"install\",\"seq\":2,"
                "\"vm\":\"vm2\",\"epoch\":1," CFG("2") "}\n",
             120),
        0);
    expect_out(f, "");
    chan_client_nack(f->c, 7, 5, 2, 130, &f->out);
    expect_out(f, "{\"type\":\"nack\",\"seq\":2,"
                  "\"ofp_error\":{\"type\":5,\"code\":2}}\n");
    chan_client_nack(f->c, 2, 5, 3, 131, &f->out);
    expect_out(f, "");
    struct chan_client_stats st;
    chan_client_get_stats(f->c, &st);
    assert_int_equal(st.acked_seq, 0);
    assert_int_equal(st.nacked_seq, 2);
    assert_int_equal(st.nacks, 1);
    assert_int_equal(chan_client_pending_ack(f->c), 2);
    chan_client_ack(f->c, 2, 140, &f->out);
    expect_out(f, "{\"type\":\"ack\",\"seq\":2}\n");
    chan_client_nack(f->c, 2, 5, 2, 150, &f->out);
    expect_out(f, ""); /* already acknowledged */
}

/* With acks held back: nothing is pending while a resync comes in (its
 * state is staged, not applied); at resync_end all of it is. */
static void
test_no_pending_ack_during_resync(void **state)
{
    struct fixture *f = *state;
    chan_client_set_ack(f->c, false);
    connect_welcome(f);
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":1,"
                CFG("1") "}\n", 120),
        0);
    assert_int_equal(chan_client_pending_ack(f->c), 1);
    assert_int_equal(
        feed(f, "{\"type\":\"resync_begin\",\"seq\":1}\n"
                "{\"type\":\"install\",\"seq\":2,\"vm\":\"vm2\",\"epoch\":1,"
                CFG("2") "}\n", 121),
        0);
    assert_int_equal(chan_client_pending_ack(f->c), 0);
    assert_int_equal(feed(f, "{\"type\":\"resync_end\",\"seq\":3}\n", 122),
                     0);
    assert_int_equal(chan_client_pending_ack(f->c), 3);
    struct chan_client_stats st;
    chan_client_get_stats(f->c, &st);
    assert_int_equal(st.resync_seq, 3);
}

static void
test_disconnect_drops_partial_resync(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);
    assert_int_equal(
        feed(f, "{\"type\":\"install\",\"seq\":1,\"vm\":\"keep\",\"epoch\":1,"
                CFG("1") "}\n"
                "{\"type\":\"resync_begin\",\"seq\":2}\n"
                "{\"type\":\"install\",\"seq\":3,\"vm\":\"new\",\"epoch\":1,"
                CFG("2") "}\n",
             120),
        0);
    chan_client_disconnected(f->c);
    assert_false(chan_client_in_resync(f->c));
    assert_int_equal(chan_client_n_entries(f->c), 1);
    assert_non_null(chan_client_find(f->c, "keep"));
    assert_null(chan_client_find(f->c, "new"));
    assert_int_equal(feed(f, "{}\n", 130), ENOTCONN);
}

static void
test_create_rejects_bad_node(void **state)
{
    assert_null(chan_client_create("bad node", NULL));
    assert_null(chan_client_create("", NULL));
    struct chan_client *c = chan_client_create("ok", NULL);
    assert_non_null(c);
    assert_string_equal(chan_client_node(c), "ok");
    chan_client_destroy(c);
    chan_client_destroy(NULL);
}

/* The node's token goes in every hello; one the channel cannot carry is
 * refused and the previous one stays. */
static void
test_token_in_hello(void **state)
{
    struct fixture *f = *state;
    assert_true(chan_client_set_token(f->c, ""));  /* none: TLS */
    assert_true(chan_client_set_token(f->c, "mgn_Ab-_9"));
    assert_false(chan_client_set_token(f->c, "has space"));
    char longer[CHAN_TOKEN_MAX + 2];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_false(chan_client_set_token(f->c, longer));
    chan_client_connected(f->c, 100, &f->out);
    expect_out(f, "{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1,"
                  "\"token\":\"mgn_Ab-_9\"}\n");
    chan_client_disconnected(f->c);
    chan_client_connected(f->c, 200, &f->out);
    expect_out(f, "{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1,"
                  "\"token\":\"mgn_Ab-_9\"}\n");
}

/* agent_token_read: the first line, trimmed; empty, too long or spaced
 * tokens and missing files are errors. */
static void
test_token_file(void **state)
{
    (void) state;
    char path[] = "/tmp/mignet-token-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct {
        const char *text;
        int err;
        const char *want;
    } cases[] = {
        {"mgn_abc\n", 0, "mgn_abc"},
        {"  mgn_abc \r\nsecond line\n", 0, "mgn_abc"},
        {"\n", EINVAL, NULL},
        {"", EINVAL, NULL},
        {"mgn a\n", EINVAL, NULL},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
         EINVAL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(cases[i].text, fp);
        fclose(fp);
        char tok[CHAN_TOKEN_MAX + 1] = "";
        char err[256] = "";
        assert_int_equal(agent_token_read(path, tok, err, sizeof err),
                         cases[i].err);
        if (cases[i].want) {
            assert_string_equal(tok, cases[i].want);
        } else {
            assert_true(err[0] != '\0');
        }
    }
    unlink(path);
    char tok[CHAN_TOKEN_MAX + 1], err[256];
    assert_int_equal(agent_token_read(path, tok, err, sizeof err), ENOENT);
}

/* Tenant switch instructions: their seqs are mignetd's vnet module's own
 * (from 2^62): a client that acknowledges on its own (the test agent)
 * answers each exactly at vnet_end, vnet_drop and vnet_remove, apart from
 * the instructions' cumulative acks; one that waits for its data plane
 * (mignet-agent) leaves them to the agent; agent-side vnet messages from
 * the controller are violations. */
static void
test_vnet_acked(void **state)
{
    struct fixture *f = *state;
    connect_welcome(f);
    assert_int_equal(feed(f, "{\"type\":\"vnet_begin\",\"vswitch\":\"vs1\","
                             "\"vni\":100,\"active\":0,"
                             "\"seq\":4611686018427387904}\n"
                             "{\"type\":\"vnet_port\",\"vswitch\":\"vs1\","
                             "\"port\":1,\"vm\":\"vm1\",\"key\":7}\n", 120),
                     0);
    expect_out(f, "");
    assert_int_equal(feed(f, "{\"type\":\"vnet_end\",\"vswitch\":\"vs1\","
                             "\"seq\":4611686018427387904}\n", 130), 0);
    expect_out(f, "{\"type\":\"ack\",\"seq\":4611686018427387904}\n");
    /* An instruction after it is acknowledged on its own seq. */
    assert_int_equal(feed(f, "{\"type\":\"install\",\"seq\":3,\"vm\":"
                             "\"vm1\",\"epoch\":1," CFG("1") "}\n", 135),
                     0);
    expect_out(f, "{\"type\":\"ack\",\"seq\":3}\n");
    assert_int_equal(feed(f, "{\"type\":\"vnet_drop\",\"vswitch\":\"vs1\","
                             "\"version\":0,"
                             "\"seq\":4611686018427387905}\n", 140), 0);
    expect_out(f, "{\"type\":\"ack\",\"seq\":4611686018427387905}\n");
    assert_int_equal(f->rec.violations, 0);
    assert_int_equal(feed(f, "{\"type\":\"vnet_pstat\",\"vswitch\":\"vs1\","
                             "\"port\":1,\"packets\":1,\"bytes\":2}\n",
                          150), 0);
    assert_int_equal(f->rec.violations, 1);
    expect_out(f, "");
    /* Waiting for the data plane: nothing here. */
    chan_client_set_ack(f->c, false);
    assert_int_equal(feed(f, "{\"type\":\"vnet_remove\",\"vswitch\":\"vs1\","
                             "\"seq\":4611686018427387906}\n", 160), 0);
    expect_out(f, "");
    assert_int_equal(chan_client_pending_ack(f->c), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_binding_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_resync_sorted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resync_replaces_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_epoch_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_leader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_input, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_before_welcome_and_violations,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeats_and_timeouts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_options_refresh_report_noack,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_pending_ack_during_resync,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_drops_partial_resync,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack, setup, teardown),
        cmocka_unit_test(test_create_rejects_bad_node),
        cmocka_unit_test_setup_teardown(test_token_in_hello, setup,
                                        teardown),
        cmocka_unit_test(test_token_file),
        cmocka_unit_test_setup_teardown(test_vnet_acked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
