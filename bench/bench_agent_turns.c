/* bench_agent_turns.c: how long mignet-agent's core holds its loop.
 *
 * The agent is one libevent loop; every call into its sans-I/O core
 * (agent_core.h) is one turn of that loop, and nothing else -- an
 * instruction, a barrier reply, a heartbeat -- is served while a turn
 * runs.  This bench drives the core the way the shell does, with a
 * scripted switch in the same process (handshake, port table, the read
 * of its flows, barrier replies), and times every call:
 *   start:   a new agent, an empty switch, a map of V VMs on another
 *            node (2 flows each) -- until the switch confirms the table;
 *   restart: a new agent, a switch that still holds that table (read
 *            back in flow statistics) -- until the minimal diff is
 *            confirmed;
 *   instr:   then one install instruction -- until its ack;
 *   growth:  a new agent with V/10 VMs, then the others as delta
 *            answers of 500, each confirmed before the next;
 *   held:    a new agent told by a channel resync that V VMs are placed
 *            on its node, the lines in 16 KB reads.
 * For each: the longest turn and what it was, the turns taken, and the
 * time from start to confirmation.  Baseline in the same run: one
 * json_loadb of the map answer (what a single-turn parse costs).
 *
 * Usage: bench_agent_turns [V=50000]
 * It reads the clock only to time itself; no network, no files. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_core.h"
#include "agent/flowtab.h"
#include "lib/clock.h"
#include "mignet/ofpbuf.h"
#include "lib/strbuf.h"
#include "mignet/ofp.h"

/* The longest turn of each kind. */
#define N_KINDS 8
struct kind {
    const char *what;
    uint64_t max_us, n;
};

struct bed {
    struct agent_core *c;
    const struct flowtab *held; /* what the switch holds at connection */
    uint64_t turns, max_us, sum_us;
    const char *max_what;
    struct kind kinds[N_KINDS];
    uint64_t mods;
    struct ofpbuf reply; /* the switch's answers, delivered in pump() */
};

static void
turn_done(struct bed *b, const char *what, uint64_t t0)
{
    uint64_t us = clock_mono_us() - t0;
    b->turns++;
    b->sum_us += us;
    for (size_t i = 0; i < N_KINDS; i++) {
        struct kind *k = &b->kinds[i];
        if (!k->what || !strcmp(k->what, what)) {
            k->what = what;
            k->n++;
            k->max_us = us > k->max_us ? us : k->max_us;
            break;
        }
    }
    if (us > b->max_us) {
        b->max_us = us;
        b->max_what = what;
    }
}

#define TURN(B, WHAT, CALL)                                                  \
    do {                                                                     \
        uint64_t t0_ = clock_mono_us();                                      \
        CALL;                                                                \
        turn_done(B, WHAT, t0_);                                             \
    } while (0)

static void
die(const char *what)
{
    fprintf(stderr, "bench_agent_turns: %s\n", what);
    exit(1);
}

struct put_ctx {
    struct ofpbuf *b;
    uint32_t xid;
    size_t start, n;
};

static void
put_flow(void *aux, const struct flowtab_flow *f)
{
    struct put_ctx *p = aux;
    if (p->n == 200) { /* ~ 20 KB messages, as Open vSwitch splits them */
        if (ofp_mp_finish(p->b, p->start) != OFPERR_OK) {
            die("flow stats reply");
        }
        p->start = ofp_mp_reply_start(p->b, p->xid, OFPMP_FLOW,
                                      OFPMPF_REPLY_MORE);
        p->n = 0;
    }
    struct ofp_flow_stats fs = {
        .table_id = f->table, .priority = f->priority, .cookie = f->cookie,
        .match = f->match, .insts = f->insts,
    };
    if (ofp_put_flow_stats(p->b, &fs) != OFPERR_OK) {
        die("flow stats entry");
    }
    p->n++;
}

/* The switch: answers what the agent sent ('out'), into b->reply. */
static void
answer(struct bed *b, struct ofpbuf *out)
{
    const uint8_t *p = out->data;
    for (size_t off = 0; off < out->size;) {
        size_t len;
        if (ofp_frame(p + off, out->size - off, &len) != OFPERR_OK || !len) {
            die("agent sent a broken message");
        }
        const uint8_t *m = p + off;
        uint8_t type = m[1];
        uint32_t xid = (uint32_t) m[4] << 24 | (uint32_t) m[5] << 16
                       | (uint32_t) m[6] << 8 | m[7];
        struct ofp_msg msg;
        if (type == OFPT_HELLO) {
            ofp_encode_hello(&b->reply, 1);
        } else if (type == OFPT_FEATURES_REQUEST) {
            ofp_msg_init(&msg, OFPT_FEATURES_REPLY, xid);
            ofp_encode(&msg, &b->reply);
        } else if (type == OFPT_BARRIER_REQUEST) {
            ofp_msg_init(&msg, OFPT_BARRIER_REPLY, xid);
            ofp_encode(&msg, &b->reply);
        } else if (type == OFPT_FLOW_MOD) {
            b->mods++;
        } else if (type == OFPT_MULTIPART_REQUEST) {
            uint16_t mp = (uint16_t) (m[8] << 8 | m[9]);
            if (mp == OFPMP_PORT_DESC) {
                size_t s = ofp_mp_reply_start(&b->reply, xid, mp, 0);
                struct ofp_port port = {.port_no = 10};
                snprintf(port.name, sizeof port.name, "vxlan0");
                ofp_put_port(&b->reply, &port);
                ofp_mp_finish(&b->reply, s);
            } else if (mp == OFPMP_FLOW) {
                struct put_ctx pc = {.b = &b->reply, .xid = xid};
                pc.start = ofp_mp_reply_start(&b->reply, xid, mp,
                                              OFPMPF_REPLY_MORE);
                if (b->held) {
                    flowtab_walk(b->held, put_flow, &pc);
                }
                /* The last message of the reply has no MORE flag. */
                uint8_t *h = (uint8_t *) b->reply.data + pc.start;
                h[10] = h[11] = 0;
                ofp_mp_finish(&b->reply, pc.start);
            } else {
                size_t s = ofp_mp_reply_start(&b->reply, xid, mp, 0);
                ofp_mp_finish(&b->reply, s);
            }
        }
        off += len;
    }
    ofpbuf_clear(out);
}

/* Hands the switch's answers to the agent as a socket would, in reads of
 * at most 64 KB, one turn each; returns whether there were any. */
static bool
pump(struct bed *b)
{
    answer(b, agent_core_of_output(b->c));
    if (!b->reply.size) {
        return false;
    }
    struct ofpbuf in;
    ofpbuf_init(&in, b->reply.size);
    ofpbuf_put(&in, b->reply.data, b->reply.size);
    ofpbuf_clear(&b->reply);
    for (size_t off = 0; off < in.size;) {
        size_t n = in.size - off < 65536 ? in.size - off : 65536;
        int rc;
        TURN(b, "switch bytes",
             rc = agent_core_of_receive(b->c, (uint8_t *) in.data + off, n,
                                        clock_mono_us()));
        if (rc) {
            die("agent refused the switch's bytes");
        }
        off += n;
    }
    ofpbuf_uninit(&in);
    strbuf_clear(agent_core_chan_output(b->c));
    return true;
}

static void
feed(struct bed *b, const char *what, const char *text)
{
    int rc;
    TURN(b, what, rc = agent_core_chan_receive(b->c, text, strlen(text),
                                                clock_mono_us()));
    if (rc) {
        die("agent refused a channel line");
    }
}

/* A map answer with VMs bulkFROM..bulkTO, at 'version' ('full': the
 * whole map; else the changes since the version before). */
static char *
map_answer(size_t from, size_t to, size_t version, bool full, size_t *len)
{
    struct strbuf s;
    strbuf_init(&s);
    strbuf_printf(&s, "{\"version\": %zu, \"full\": %s, \"entries\": [",
                  version, full ? "true" : "false");
    for (size_t i = from; i <= to; i++) {
        strbuf_printf(&s, "%s{\"vm\": \"bulk%zu\", \"version\": %zu, "
                      "\"removed\": false, \"node\": \"n2\", \"address\": "
                      "\"198.18.0.2\", \"epoch\": 1, \"mac\": "
                      "\"02:00:00:03:%02zx:%02zx\", \"ip\": "
                      "\"198.19.%zu.%zu\", \"vni\": 100}",
                      i > from ? ", " : "", i, version, i / 256 % 256,
                      i % 256, 1 + i / 250 % 250, i % 250 + 1);
    }
    strbuf_printf(&s, "]}");
    *len = strlen(strbuf_str(&s));
    char *out = strdup(strbuf_str(&s));
    strbuf_destroy(&s);
    return out;
}

struct result {
    uint64_t turns, max_us, total_us, mods;
    const char *max_what;
    struct kind kinds[N_KINDS];
};

/* Runs the core's timers and the switch until 'done' holds. */
static void
settle(struct bed *b, bool (*done)(const struct bed *), uint64_t t_start,
       struct result *r)
{
    for (int spins = 0; !done(b); spins++) {
        uint64_t now = clock_mono_us();
        if (agent_core_next_wake(b->c) <= now) {
            int todo;
            TURN(b, "run", todo = agent_core_run(b->c, now));
            (void) todo;
        }
        if (!pump(b) && spins > 10000000) {
            die("never confirmed");
        }
    }
    r->turns = b->turns;
    r->max_us = b->max_us;
    r->max_what = b->max_what;
    r->total_us = clock_mono_us() - t_start;
    r->mods = b->mods;
    memcpy(r->kinds, b->kinds, sizeof r->kinds);
}

static size_t want_version;

static bool
table_confirmed(const struct bed *b)
{
    return b->c->confirmed_version >= want_version;
}

/* Every instruction received so far is covered by a confirmed batch. */
static bool
instr_settled(const struct bed *b)
{
    return !agent_sync_busy(b->c) && !b->c->sync_due && b->c->synced_seq
           && !chan_client_pending_ack(b->c->chan);
}

static bool
instr_acked(const struct bed *b)
{
    return b->c->synced_seq >= 1 && !b->c->unconfirmed_since_us
           && b->c->confirmed_version >= want_version
           && b->c->instr_lat.total > 0;
}

/* A new agent in 'b': its switch connected (handshake, ports, the read
 * of what it holds), its channel welcomed with an empty resync.
 * Returns when it started. */
static uint64_t
bed_up(struct bed *b)
{
    struct agent_core_options o = {
        .node = "n1", .tunnel_port = "vxlan0",
        .dhcp_snoop = AGENT_SNOOP_OFF,
    };
    ofpbuf_init(&b->reply, 4096);
    uint64_t t0 = clock_mono_us();
    b->c = agent_core_create(&o, t0);
    TURN(b, "switch connected", agent_core_of_connected(b->c, t0));
    TURN(b, "channel connected", agent_core_chan_connected(b->c, t0));
    feed(b, "welcome", "{\"type\":\"welcome\",\"node\":\"n1\","
         "\"map_version\":1,\"heartbeat_ms\":1000}\n"
         "{\"type\":\"resync_begin\",\"seq\":0}\n"
         "{\"type\":\"resync_end\",\"seq\":0}\n");
    while (pump(b)) {
    }
    return t0;
}

/* A new agent on a switch holding 'held' (NULL: nothing), the map
 * answered once; returns the core (the caller destroys it). */
static struct agent_core *
run_start(const char *map, size_t len, const struct flowtab *held,
          struct result *r, struct result *instr)
{
    struct bed b = {.held = held};
    uint64_t t0 = bed_up(&b);
    char err[256];
    int rc;
    TURN(&b, "map answer", rc = agent_core_map_answer(b.c, map, len,
                                                      clock_mono_us(), err,
                                                      sizeof err));
    if (rc) {
        die(err);
    }
    settle(&b, table_confirmed, t0, r);
    if (instr) {
        b.turns = b.max_us = 0;
        b.mods = 0;
        b.max_what = NULL;
        memset(b.kinds, 0, sizeof b.kinds);
        uint64_t t1 = clock_mono_us();
        feed(&b, "instruction", "{\"type\":\"install\",\"seq\":1,\"vm\":"
             "\"vmx\",\"epoch\":1,\"mac\":\"02:00:00:00:00:01\",\"ip\":"
             "\"198.18.1.1\"}\n");
        settle(&b, instr_acked, t1, instr);
    }
    ofpbuf_uninit(&b.reply);
    return b.c;
}

/* growth: a new agent with a tenth of the VMs, then the rest arriving
 * as delta answers of GROWTH_STEP VMs, each confirmed before the next
 * (the node's table grows from ~V/5 to ~2V flows, crossing every
 * power of two on the way). */
#define GROWTH_STEP 500
static void
run_growth(size_t v, struct result *r)
{
    struct bed b = {.held = NULL};
    uint64_t t0 = bed_up(&b);
    size_t first = v / 10, len;
    char err[256];
    char *map = map_answer(1, first, first, true, &len);
    want_version = first;
    if (agent_core_map_answer(b.c, map, len, clock_mono_us(), err,
                              sizeof err)) {
        die(err);
    }
    free(map);
    settle(&b, table_confirmed, t0, r);
    b.turns = b.max_us = b.mods = 0;
    memset(b.kinds, 0, sizeof b.kinds);
    uint64_t t1 = clock_mono_us();
    for (size_t from = first + 1; from <= v; from += GROWTH_STEP) {
        size_t to = from + GROWTH_STEP - 1 < v ? from + GROWTH_STEP - 1 : v;
        map = map_answer(from, to, to, false, &len);
        int rc;
        TURN(&b, "map answer", rc = agent_core_map_answer(
                                   b.c, map, len, clock_mono_us(), err,
                                   sizeof err));
        free(map);
        if (rc) {
            die(err);
        }
        want_version = to;
        settle(&b, table_confirmed, t1, r);
    }
    ofpbuf_uninit(&b.reply);
    agent_core_destroy(b.c);
}

/* held: a new agent told about V VMs placed on this node by a resync on
 * its channel (no map), the lines arriving as a socket delivers them
 * (16 KB reads), until the resync's barrier is confirmed. */
static void
run_held(size_t v, struct result *r)
{
    struct bed b = {.held = NULL};
    uint64_t t0 = bed_up(&b);
    struct strbuf s;
    strbuf_init(&s);
    strbuf_printf(&s, "{\"type\":\"resync_begin\",\"seq\":0}\n");
    for (size_t i = 1; i <= v; i++) {
        strbuf_printf(&s, "{\"type\":\"install\",\"seq\":%zu,\"vm\":"
                      "\"held%zu\",\"epoch\":1,\"mac\":"
                      "\"02:00:00:04:%02zx:%02zx\",\"ip\":\"198.19.%zu.%zu\","
                      "\"vni\":100}\n", i, i, i / 256 % 256, i % 256,
                      1 + i / 250 % 250, i % 250 + 1);
    }
    strbuf_printf(&s, "{\"type\":\"resync_end\",\"seq\":%zu}\n", v);
    const char *text = strbuf_str(&s);
    size_t len = strlen(text);
    b.turns = b.max_us = b.mods = 0;
    memset(b.kinds, 0, sizeof b.kinds);
    for (size_t off = 0; off < len; off += 16384) {
        size_t n = len - off < 16384 ? len - off : 16384;
        int rc;
        TURN(&b, "channel bytes", rc = agent_core_chan_receive(
                                      b.c, text + off, n, clock_mono_us()));
        if (rc) {
            die("agent refused the resync");
        }
        uint64_t now = clock_mono_us();
        if (agent_core_next_wake(b.c) <= now) {
            TURN(&b, "run", (void) agent_core_run(b.c, now));
        }
        pump(&b);
    }
    strbuf_destroy(&s);
    want_version = 0;
    settle(&b, instr_settled, t0, r);
    ofpbuf_uninit(&b.reply);
    agent_core_destroy(b.c);
}

static void
print(const char *name, const struct result *r, bool comma)
{
    printf("  \"%s\": {\"turns\": %llu, \"longest_turn_ms\": %.3f, "
           "\"longest_turn\": \"%s\", \"to_confirmed_ms\": %.3f, "
           "\"flow_mods\": %llu,\n    \"longest_by_kind_ms\": {",
           name, (unsigned long long) r->turns, r->max_us / 1e3,
           r->max_what ? r->max_what : "", r->total_us / 1e3,
           (unsigned long long) r->mods);
    for (size_t i = 0; i < N_KINDS && r->kinds[i].what; i++) {
        printf("%s\"%s\": %.3f", i ? ", " : "", r->kinds[i].what,
               r->kinds[i].max_us / 1e3);
    }
    printf("}}%s\n", comma ? "," : "");
}

int
main(int argc, char **argv)
{
    size_t v = argc > 1 ? strtoul(argv[1], NULL, 10) : 50000;
    if (argc > 2 || !v || v > 60000) {
        fprintf(stderr, "usage: bench_agent_turns [VMS=50000, <= 60000]\n");
        return 2;
    }
    size_t len;
    char *map = map_answer(1, v, v + 1, true, &len);
    want_version = v + 1;

    uint64_t t0 = clock_mono_us();
    json_error_t je;
    json_t *j = json_loadb(map, len, 0, &je);
    uint64_t parse_us = clock_mono_us() - t0;
    json_decref(j);

    struct result start, restart, instr;
    struct agent_core *first = run_start(map, len, NULL, &start, NULL);
    struct agent_core *second = run_start(map, len, first->installed,
                                          &restart, &instr);
    printf("{\"vms\": %zu, \"flows\": %zu, \"map_bytes\": %zu,\n"
           "  \"baseline_json_loadb_ms\": %.3f,\n",
           v, flowtab_count(first->installed), len, parse_us / 1e3);
    print("start", &start, true);
    print("restart", &restart, true);
    print("instruction_after_restart", &instr, true);
    struct result growth;
    run_growth(v, &growth);
    print("growth", &growth, true);
    struct result held;
    run_held(v, &held);
    print("held", &held, false);
    printf("}\n");
    agent_core_destroy(first);
    agent_core_destroy(second);
    free(map);
    return 0;
}
