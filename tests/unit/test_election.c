/* test_election.c: the leader election's state machine
 * (controller/election.h): campaigns, renewals, expiry, loss. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "controller/election.h"

/* A follower campaigns at once, then once a poll period while it loses. */
static void
test_follower_polls(void **state)
{
    (void) state;
    struct election e;
    election_init(&e, 3, 250, 1000);
    assert_int_equal(election_tick(&e, 1000), ELECTION_CAMPAIGN);
    election_campaign_done(&e, 1000, 1010, false, 0);
    assert_int_equal(e.role, ELECTION_FOLLOWER);
    assert_int_equal(election_next_ms(&e), 1260);
    assert_int_equal(election_tick(&e, 1259), ELECTION_NONE);
    assert_int_equal(election_tick(&e, 1260), ELECTION_CAMPAIGN);
}

/* A watch that saw the leader key go wakes a follower at once; a leader
 * is not moved by it, and a wake never puts a campaign later. */
static void
test_wake(void **state)
{
    (void) state;
    struct election e;
    election_init(&e, 3, 5000, 1000);
    assert_int_equal(election_tick(&e, 1000), ELECTION_CAMPAIGN);
    election_campaign_done(&e, 1000, 1010, false, 0);
    assert_int_equal(election_tick(&e, 1500), ELECTION_NONE);
    election_wake(&e, 1500);
    assert_int_equal(election_next_ms(&e), 1500);
    assert_int_equal(election_tick(&e, 1500), ELECTION_CAMPAIGN);
    election_campaign_done(&e, 1500, 1510, true, 3);
    assert_int_equal(e.role, ELECTION_LEADER);
    uint64_t next = election_next_ms(&e);
    election_wake(&e, 1600);
    assert_int_equal(election_next_ms(&e), next);

    election_init(&e, 3, 5000, 0);
    election_campaign_done(&e, 0, 10, false, 0); /* due at 5010 */
    election_wake(&e, 6000);
    assert_int_equal(election_next_ms(&e), 5010);
}

/* A won campaign: the lease counts from when it was sent; keepalives
 * every third of the TTL push it on. */
static void
test_leader_renews(void **state)
{
    (void) state;
    struct election e;
    election_init(&e, 3, 250, 0);
    assert_int_equal(election_tick(&e, 0), ELECTION_CAMPAIGN);
    election_campaign_done(&e, 0, 40, true, 3);
    assert_int_equal(e.role, ELECTION_LEADER);
    assert_int_equal(e.expires_ms, 3000);
    assert_int_equal(election_next_ms(&e), 1040);
    assert_int_equal(election_tick(&e, 1039), ELECTION_NONE);
    assert_int_equal(election_tick(&e, 1040), ELECTION_KEEPALIVE);
    election_keepalive_done(&e, 1040, 1050, 0, 3);
    assert_int_equal(e.expires_ms, 4040);
    assert_int_equal(election_next_ms(&e), 2050);
    /* Always renewed in time: never expires. */
    for (uint64_t t = 2050; t < 60000; t = election_next_ms(&e)) {
        assert_int_equal(election_tick(&e, t), ELECTION_KEEPALIVE);
        election_keepalive_done(&e, t, t + 5, 0, 3);
        assert_true(e.expires_ms > election_next_ms(&e) + 1000);
    }
    assert_int_equal(e.role, ELECTION_LEADER);
}

/* Keepalives that fail (etcd unreachable) are retried; the lease counts
 * only until it would expire, then the leader steps down for good. */
static void
test_leader_expires(void **state)
{
    (void) state;
    struct election e;
    election_init(&e, 3, 250, 0);
    election_campaign_done(&e, 0, 10, true, 3);
    uint64_t t = 1010;
    enum election_action a = election_tick(&e, t);
    while (a == ELECTION_KEEPALIVE || a == ELECTION_NONE) {
        if (a == ELECTION_KEEPALIVE) {
            election_keepalive_done(&e, t, t + 20, ETIMEDOUT, 0);
        }
        assert_true(election_next_ms(&e) <= 3000);
        t = election_next_ms(&e);
        a = election_tick(&e, t);
    }
    assert_int_equal(a, ELECTION_STEP_DOWN);
    assert_int_equal(t, 3000);
    assert_int_equal(e.role, ELECTION_LOST);
    /* Lost stays lost, whatever comes later. */
    election_keepalive_done(&e, t, t, 0, 3);
    election_campaign_done(&e, t, t, true, 3);
    assert_int_equal(election_tick(&e, t + 10000), ELECTION_STEP_DOWN);
}

/* etcd says the lease is gone: lost at once, even with time left. */
static void
test_leader_lease_gone(void **state)
{
    (void) state;
    struct election e;
    election_init(&e, 5, 250, 0);
    election_campaign_done(&e, 0, 10, true, 5);
    assert_int_equal(election_tick(&e, 1700), ELECTION_KEEPALIVE);
    election_keepalive_done(&e, 1700, 1710, ENOENT, 0);
    assert_int_equal(e.role, ELECTION_LOST);
    assert_int_equal(election_tick(&e, 1711), ELECTION_STEP_DOWN);
}

/* A late keepalive answer never shortens the lease, and an answer that
 * arrives after the lease would have expired deposes. */
static void
test_late_answers(void **state)
{
    (void) state;
    struct election e;
    election_init(&e, 3, 250, 0);
    election_campaign_done(&e, 0, 10, true, 3);
    election_keepalive_done(&e, 2000, 2010, 0, 3);
    assert_int_equal(e.expires_ms, 5000);
    election_keepalive_done(&e, 1000, 2020, 0, 3);
    assert_int_equal(e.expires_ms, 5000);
    /* A campaign whose answer came after its own lease ran out. */
    struct election f;
    election_init(&f, 3, 250, 0);
    election_campaign_done(&f, 0, 3500, true, 3);
    assert_int_equal(f.role, ELECTION_LOST);
    assert_string_equal(election_role_name(f.role), "deposed");
    assert_string_equal(election_role_name(ELECTION_LEADER), "leader");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follower_polls),
        cmocka_unit_test(test_wake),
        cmocka_unit_test(test_leader_renews),
        cmocka_unit_test(test_leader_expires),
        cmocka_unit_test(test_leader_lease_gone),
        cmocka_unit_test(test_late_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
