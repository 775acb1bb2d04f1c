/* test_chan_msg.c: the agent-channel codec against golden lines and every
 * kind of malformed input.
 *
 * Golden lines carry distinct non-zero values in every member, so a codec
 * that dropped or swapped a member cannot round-trip them; malformed lines
 * must each produce their specific error and name the member at fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/chan_msg.h"
#include "lib/strbuf.h"

#define SET(DST, SRC) snprintf(DST, sizeof DST, "%s", SRC)

#define INSTR_LINE_HEAD                                                      \
    "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":1,"           \
    "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\""

/* A binding with a distinct non-default value in every member. */
#define BINDING_OBJ                                                          \
    "{\"id\":9,\"node\":\"n1\",\"mac\":\"02:00:00:00:00:01\","                \
    "\"ip\":\"198.18.1.1\",\"vlan\":12,\"port\":5,\"type\":\"dynamic\","      \
    "\"origin\":\"agent\",\"lease\":60,\"expires\":1700000060000,"          \
    "\"server\":\"198.18.1.254\",\"port_status\":\"down\","                 \
    "\"port_security\":\"trust\"}"

static void
build_binding(struct binding *b)
{
    static const uint8_t mac1[6] = {0x02, 0, 0, 0, 0, 0x01};
    memset(b, 0, sizeof *b);
    b->id = 9;
    SET(b->vm, "vm1");
    SET(b->node, "n1");
    memcpy(b->mac, mac1, 6);
    b->ip = 0xc6120101;
    b->vlan = 12;
    b->port = 5;
    b->type = BINDING_DYNAMIC;
    b->origin = BINDING_FROM_AGENT;
    b->lease_s = 60;
    b->expires_ms = 1700000060000ULL;
    b->server = 0xc61201fe;
    b->port_status = BINDING_PORT_DOWN;
    b->port_security = BINDING_TRUST;
}

/* One golden line per message type, in the canonical encoding. */
static const char *const golden[CHAN_N_TYPES] = {
    [CHAN_HELLO] = "{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1,"
                   "\"token\":\"mgn_Ab-_9\"}",
    [CHAN_WELCOME] = "{\"type\":\"welcome\",\"node\":\"node-2.a\","
                     "\"map_version\":42,\"heartbeat_ms\":1500}",
    [CHAN_RESYNC_BEGIN] = "{\"type\":\"resync_begin\",\"seq\":7}",
    [CHAN_RESYNC_END] = "{\"type\":\"resync_end\",\"seq\":9}",
    [CHAN_INSTALL] = "{\"type\":\"install\",\"seq\":11,\"vm\":\"vm1\","
                     "\"epoch\":3,\"mac\":\"02:00:00:00:00:01\","
                     "\"ip\":\"198.18.1.1\",\"vni\":100,\"vlan\":12,"
                     "\"port\":5}",
    [CHAN_RELAY] = "{\"type\":\"relay\",\"seq\":12,\"vm\":\"vm1\","
                   "\"epoch\":3,\"mac\":\"02:00:00:00:00:01\","
                   "\"ip\":\"198.18.1.1\",\"vni\":100,\"vlan\":12,"
                   "\"port\":5,\"target\":\"n2\","
                   "\"target_address\":\"198.18.0.2\",\"target_epoch\":4}",
    [CHAN_DELETE] = "{\"type\":\"delete\",\"seq\":13,\"vm\":\"vm:7\","
                    "\"epoch\":2,\"mac\":\"0a:bb:cc:dd:ee:ff\","
                    "\"ip\":\"198.19.255.254\",\"vni\":16777215,"
                    "\"vlan\":4095,\"port\":4294967295}",
    [CHAN_ACK] = "{\"type\":\"ack\",\"seq\":9223372036854775807}",
    [CHAN_REFRESH] = "{\"type\":\"refresh\",\"version\":77}",
    [CHAN_REPORT] = "{\"type\":\"report\",\"vm\":\"vm_9\",\"epoch\":8}",
    [CHAN_REFUSED] = "{\"type\":\"refused\",\"seq\":14,\"vm\":\"vm1\","
                     "\"epoch\":2,\"held_epoch\":5}",
    [CHAN_HEARTBEAT] = "{\"type\":\"heartbeat\"}",
    [CHAN_ERROR] = "{\"type\":\"error\",\"code\":\"stale_epoch\","
                   "\"message\":\"epoch 2 < 5 \\u00e9\"}",
    [CHAN_DHCP] = "{\"type\":\"dhcp\",\"port\":7,\"frame\":\"00ff10ab\","
                  "\"vm\":\"vm1\"}",
    [CHAN_BINDING] = "{\"type\":\"binding\",\"vm\":\"vm1\","
                     "\"action\":\"updated\",\"binding\":" BINDING_OBJ "}",
    [CHAN_NACK] = "{\"type\":\"nack\",\"seq\":15,"
                  "\"ofp_error\":{\"type\":5,\"code\":65535}}",
    [CHAN_SUBSCRIBE] = "{\"type\":\"subscribe\",\"version\":31}",
    [CHAN_MAP_BEGIN] = "{\"type\":\"map_begin\",\"since\":31,"
                       "\"version\":34}",
    [CHAN_MAP_ENTRY] = "{\"type\":\"map_entry\",\"vm\":\"vm1\","
                       "\"version\":33,\"removed\":false,\"node\":\"n2\","
                       "\"address\":\"198.18.0.2\",\"epoch\":3,"
                       "\"mac\":\"02:00:00:00:00:01\","
                       "\"ip\":\"198.18.1.1\",\"vni\":100,\"vlan\":12,"
                       "\"port\":5}",
    [CHAN_MAP_END] = "{\"type\":\"map_end\",\"version\":34}",
    [CHAN_MAP_ACK] = "{\"type\":\"map_ack\",\"version\":35}",
    [CHAN_ACTIVATED] = "{\"type\":\"activated\",\"vm\":\"vm1\","
                       "\"epoch\":5}",
    [CHAN_NOT_LEADER] = "{\"type\":\"not_leader\","
                        "\"leader\":\"198.18.0.9:7481\"}",
    [CHAN_VNET_BEGIN] = "{\"type\":\"vnet_begin\",\"vswitch\":\"vs1\","
                        "\"vni\":5001,\"active\":3,\"seq\":21,"
                        "\"full\":true}",
    [CHAN_VNET_PORT] = "{\"type\":\"vnet_port\",\"vswitch\":\"vs1\","
                       "\"port\":2,\"vm\":\"vm2\",\"key\":15728642}",
    [CHAN_VNET_FLOW] = "{\"type\":\"vnet_flow\",\"vswitch\":\"vs1\","
                       "\"id\":4294967295,\"version\":3,"
                       "\"ofp\":\"040e0038\"}",
    [CHAN_VNET_FLOW_DEL] = "{\"type\":\"vnet_flow_del\","
                           "\"vswitch\":\"vs1\",\"id\":9,"
                           "\"version\":3}",
    [CHAN_VNET_END] = "{\"type\":\"vnet_end\",\"vswitch\":\"vs1\","
                      "\"seq\":21}",
    [CHAN_VNET_DROP] = "{\"type\":\"vnet_drop\",\"vswitch\":\"vs1\","
                       "\"version\":2,\"seq\":22}",
    [CHAN_VNET_REMOVE] = "{\"type\":\"vnet_remove\","
                         "\"vswitch\":\"vs1\",\"seq\":23}",
    [CHAN_VNET_PACKET_OUT] = "{\"type\":\"vnet_packet_out\","
                             "\"vswitch\":\"vs1\",\"port\":1,"
                             "\"frame\":\"ffffffffffff\"}",
    [CHAN_VNET_STATS_REQ] = "{\"type\":\"vnet_stats_req\","
                            "\"vswitch\":\"vs1\",\"seq\":24}",
    [CHAN_VNET_PACKET_IN] = "{\"type\":\"vnet_packet_in\","
                            "\"vswitch\":\"vs1\",\"port\":3,\"id\":7,"
                            "\"version\":3,\"total_len\":60,"
                            "\"frame\":\"0200000001010200\"}",
    [CHAN_VNET_FSTAT] = "{\"type\":\"vnet_fstat\",\"vswitch\":\"vs1\","
                        "\"id\":7,\"version\":3,\"port\":3,"
                        "\"packets\":100,\"bytes\":6000}",
    [CHAN_VNET_PSTAT] = "{\"type\":\"vnet_pstat\",\"vswitch\":\"vs1\","
                        "\"port\":3,\"packets\":101,\"bytes\":6060}",
    [CHAN_VNET_STATS_END] = "{\"type\":\"vnet_stats_end\","
                            "\"vswitch\":\"vs1\",\"seq\":0,"
                            "\"final\":true}",
    [CHAN_VNET_PTX] = "{\"type\":\"vnet_ptx\",\"vswitch\":\"vs1\","
                      "\"port\":3,\"packets\":90,\"bytes\":5400}",
};

/* Builds, field by field, the message each golden line stands for. */
static void
build(enum chan_msg_type t, struct chan_msg *m)
{
    static const uint8_t mac1[6] = {0x02, 0, 0, 0, 0, 0x01};
    static const uint8_t mac2[6] = {0x0a, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

    chan_msg_init(m, t);
    switch (t) {
    case CHAN_HELLO:
        SET(m->node, "n1");
        SET(m->token, "mgn_Ab-_9");
        break;
    case CHAN_WELCOME:
        SET(m->node, "node-2.a");
        m->map_version = 42;
        m->heartbeat_ms = 1500;
        break;
    case CHAN_RESYNC_BEGIN:
        m->seq = 7;
        break;
    case CHAN_RESYNC_END:
        m->seq = 9;
        break;
    case CHAN_INSTALL:
    case CHAN_RELAY:
        m->seq = t == CHAN_INSTALL ? 11 : 12;
        SET(m->vm, "vm1");
        m->epoch = 3;
        memcpy(m->config.mac, mac1, 6);
        m->config.ip = 0xc6120101; /* 198.18.1.1 */
        m->config.vni = 100;
        m->config.vlan = 12;
        m->config.port = 5;
        if (t == CHAN_RELAY) {
            SET(m->target, "n2");
            SET(m->target_address, "198.18.0.2");
            m->target_epoch = 4;
        }
        break;
    case CHAN_DELETE:
        m->seq = 13;
        SET(m->vm, "vm:7");
        m->epoch = 2;
        memcpy(m->config.mac, mac2, 6);
        m->config.ip = 0xc613fffe;
        m->config.vni = 16777215;
        m->config.vlan = 4095;
        m->config.port = 4294967295u;
        break;
    case CHAN_ACK:
        m->seq = INT64_MAX;
        break;
    case CHAN_REFRESH:
        m->version = 77;
        break;
    case CHAN_REPORT:
        SET(m->vm, "vm_9");
        m->epoch = 8;
        break;
    case CHAN_REFUSED:
        m->seq = 14;
        SET(m->vm, "vm1");
        m->epoch = 2;
        m->held_epoch = 5;
        break;
    case CHAN_HEARTBEAT:
        break;
    case CHAN_ERROR:
        SET(m->code, "stale_epoch");
        SET(m->message, "epoch 2 < 5 \xc3\xa9");
        break;
    case CHAN_DHCP:
        m->port = 7;
        memcpy(m->frame, "\x00\xff\x10\xab", 4);
        m->frame_len = 4;
        SET(m->vm, "vm1");
        break;
    case CHAN_BINDING:
        SET(m->vm, "vm1");
        m->action = BINDING_ACT_UPDATED;
        m->has_binding = true;
        build_binding(&m->binding);
        break;
    case CHAN_NACK:
        m->seq = 15;
        m->ofp_type = 5;
        m->ofp_code = 65535;
        break;
    case CHAN_SUBSCRIBE:
        m->version = 31;
        break;
    case CHAN_MAP_BEGIN:
        m->since = 31;
        m->version = 34;
        break;
    case CHAN_MAP_ENTRY:
        SET(m->vm, "vm1");
        m->version = 33;
        SET(m->node, "n2");
        SET(m->address, "198.18.0.2");
        m->epoch = 3;
        memcpy(m->config.mac, mac1, 6);
        m->config.ip = 0xc6120101;
        m->config.vni = 100;
        m->config.vlan = 12;
        m->config.port = 5;
        break;
    case CHAN_MAP_END:
        m->version = 34;
        break;
    case CHAN_MAP_ACK:
        m->version = 35;
        break;
    case CHAN_ACTIVATED:
        SET(m->vm, "vm1");
        m->epoch = 5;
        break;
    case CHAN_NOT_LEADER:
        SET(m->address, "198.18.0.9:7481");
        break;
    case CHAN_VNET_BEGIN:
        SET(m->vswitch, "vs1");
        m->vni = 5001;
        m->active = 3;
        m->seq = 21;
        m->full = true;
        break;
    case CHAN_VNET_PORT:
        SET(m->vswitch, "vs1");
        m->port = 2;
        SET(m->vm, "vm2");
        m->key = 0xf00002;
        break;
    case CHAN_VNET_FLOW:
        SET(m->vswitch, "vs1");
        m->flow_id = UINT32_MAX;
        m->version = 3;
        memcpy(m->frame, "\x04\x0e\x00\x38", 4);
        m->frame_len = 4;
        break;
    case CHAN_VNET_FLOW_DEL:
        SET(m->vswitch, "vs1");
        m->flow_id = 9;
        m->version = 3;
        break;
    case CHAN_VNET_END:
    case CHAN_VNET_REMOVE:
    case CHAN_VNET_STATS_REQ:
        SET(m->vswitch, "vs1");
        m->seq = t == CHAN_VNET_END ? 21 : t == CHAN_VNET_REMOVE ? 23 : 24;
        break;
    case CHAN_VNET_DROP:
        SET(m->vswitch, "vs1");
        m->version = 2;
        m->seq = 22;
        break;
    case CHAN_VNET_PACKET_OUT:
        SET(m->vswitch, "vs1");
        m->port = 1;
        memset(m->frame, 0xff, 6);
        m->frame_len = 6;
        break;
    case CHAN_VNET_PACKET_IN:
        SET(m->vswitch, "vs1");
        m->port = 3;
        m->flow_id = 7;
        m->version = 3;
        m->total_len = 60;
        memcpy(m->frame, "\x02\x00\x00\x00\x01\x01\x02\x00", 8);
        m->frame_len = 8;
        break;
    case CHAN_VNET_FSTAT:
        SET(m->vswitch, "vs1");
        m->flow_id = 7;
        m->version = 3;
        m->port = 3;
        m->packets = 100;
        m->bytes = 6000;
        break;
    case CHAN_VNET_PSTAT:
        SET(m->vswitch, "vs1");
        m->port = 3;
        m->packets = 101;
        m->bytes = 6060;
        break;
    case CHAN_VNET_STATS_END:
        SET(m->vswitch, "vs1");
        m->final = true;
        break;
    case CHAN_VNET_PTX:
        SET(m->vswitch, "vs1");
        m->port = 3;
        m->packets = 90;
        m->bytes = 5400;
        break;
    default:
        fail();
    }
}

static void
assert_msg_equal(const struct chan_msg *a, const struct chan_msg *b)
{
    assert_int_equal(a->type, b->type);
    assert_string_equal(a->node, b->node);
    assert_int_equal(a->proto, b->proto);
    assert_int_equal(a->map_version, b->map_version);
    assert_int_equal(a->heartbeat_ms, b->heartbeat_ms);
    assert_int_equal(a->seq, b->seq);
    assert_string_equal(a->vm, b->vm);
    assert_int_equal(a->epoch, b->epoch);
    assert_memory_equal(a->config.mac, b->config.mac, 6);
    assert_int_equal(a->config.ip, b->config.ip);
    assert_int_equal(a->config.vni, b->config.vni);
    assert_int_equal(a->config.vlan, b->config.vlan);
    assert_int_equal(a->config.port, b->config.port);
    assert_string_equal(a->target, b->target);
    assert_string_equal(a->target_address, b->target_address);
    assert_int_equal(a->target_epoch, b->target_epoch);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->since, b->since);
    assert_int_equal(a->removed, b->removed);
    assert_string_equal(a->address, b->address);
    assert_int_equal(a->held_epoch, b->held_epoch);
    assert_int_equal(a->ofp_type, b->ofp_type);
    assert_int_equal(a->ofp_code, b->ofp_code);
    assert_string_equal(a->code, b->code);
    assert_string_equal(a->message, b->message);
    assert_int_equal(a->has_binding, b->has_binding);
    if (a->has_binding) {
        char ta[512], tb[512];
        binding_format(&a->binding, ta, sizeof ta);
        binding_format(&b->binding, tb, sizeof tb);
        assert_string_equal(ta, tb);
    }
    assert_int_equal(a->action, b->action);
    assert_int_equal(a->port, b->port);
    assert_int_equal(a->frame_len, b->frame_len);
    assert_memory_equal(a->frame, b->frame, a->frame_len);
    assert_int_equal(a->inactive, b->inactive);
    assert_int_equal(a->activate_on_frame, b->activate_on_frame);
    assert_string_equal(a->iface_id, b->iface_id);
    assert_string_equal(a->vswitch, b->vswitch);
    assert_int_equal(a->vni, b->vni);
    assert_int_equal(a->active, b->active);
    assert_int_equal(a->full, b->full);
    assert_int_equal(a->key, b->key);
    assert_int_equal(a->flow_id, b->flow_id);
    assert_int_equal(a->packets, b->packets);
    assert_int_equal(a->bytes, b->bytes);
    assert_int_equal(a->total_len, b->total_len);
    assert_int_equal(a->final, b->final);
}

/* 'line' decodes to 'want', and 'want' encodes (into 'sb') to 'line'. */
static void
assert_round_trip(const char *line, const struct chan_msg *want,
                  struct strbuf *sb)
{
    struct chan_msg got;
    char err[160];
    memset(&got, 0xa5, sizeof got);
    assert_int_equal(chan_msg_decode(line, strlen(line), &got, err,
                                     sizeof err),
                     CHAN_E_OK);
    assert_msg_equal(&got, want);
    strbuf_clear(sb);
    assert_int_equal(chan_msg_encode(want, sb), CHAN_E_OK);
    assert_int_equal(sb->len, strlen(line) + 1);
    assert_memory_equal(sb->data, line, strlen(line));
}

/* The lifecycle members of install (docs/agent-protocol.md): optional,
 * false / empty by default and then left out of the line (the golden
 * install above has none); set, they round-trip; a bad iface_id or a
 * non-boolean flag is a bad_field naming the member; delete and relay do
 * not carry them. */
static void
test_install_lifecycle(void **state)
{
    static const char line[] =
        "{\"type\":\"install\",\"seq\":11,\"vm\":\"vm1\",\"epoch\":3,"
        "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\",\"vni\":100,"
        "\"vlan\":12,\"port\":5,\"inactive\":true,"
        "\"activate_on_frame\":true,"
        "\"iface_id\":\"5f1c2a4e-0b7d-4c55-9e0a-3f3d1b2c4d5e\"}";
    struct chan_msg want, got;
    char err[160];
    build(CHAN_INSTALL, &want);
    want.inactive = true;
    want.activate_on_frame = true;
    SET(want.iface_id, "5f1c2a4e-0b7d-4c55-9e0a-3f3d1b2c4d5e");
    struct strbuf sb;
    strbuf_init(&sb);
    assert_round_trip(line, &want, &sb);

    /* Only one flag set: only that one is written. */
    want.inactive = false;
    want.iface_id[0] = '\0';
    strbuf_clear(&sb);
    assert_int_equal(chan_msg_encode(&want, &sb), CHAN_E_OK);
    assert_null(strstr(strbuf_str(&sb), "inactive"));
    assert_null(strstr(strbuf_str(&sb), "iface_id"));
    assert_non_null(strstr(strbuf_str(&sb), "\"activate_on_frame\":true}"));
    /* Explicit false decodes like absent. */
    static const char falses[] =
        "{\"type\":\"install\",\"seq\":1,\"vm\":\"v\",\"epoch\":1,"
        "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\","
        "\"inactive\":false,\"activate_on_frame\":false}";
    assert_int_equal(chan_msg_decode(falses, strlen(falses), &got, err,
                                     sizeof err),
                     CHAN_E_OK);
    assert_false(got.inactive);
    assert_false(got.activate_on_frame);
    assert_string_equal(got.iface_id, "");

    /* A 63-character iface_id is the longest; spaces are printable. */
    char buf[256];
    char id[CHAN_IFACE_MAX + 2];
    memset(id, 'x', sizeof id);
    id[CHAN_IFACE_MAX] = '\0';
    id[3] = ' ';
    snprintf(buf, sizeof buf, "%.*s,\"iface_id\":\"%s\"}",
             (int) strlen(falses) - 1, falses, id);
    assert_int_equal(chan_msg_decode(buf, strlen(buf), &got, err,
                                     sizeof err),
                     CHAN_E_OK);
    assert_string_equal(got.iface_id, id);
    static const char plain[] =
        "{\"type\":\"install\",\"seq\":1,\"vm\":\"v\",\"epoch\":1,"
        "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\"";
    static const struct {
        const char *member, *name;
        enum chan_err expect;
    } bad[] = {
        {"\"iface_id\":\"\"", "iface_id", CHAN_E_BAD_STRING},
        {"\"iface_id\":\"tab\\there\"", "iface_id", CHAN_E_BAD_STRING},
        {"\"iface_id\":\"\\u00e9\"", "iface_id", CHAN_E_BAD_STRING},
        {"\"iface_id\":\"del\\u007f\"", "iface_id", CHAN_E_BAD_STRING},
        {"\"iface_id\":7", "iface_id", CHAN_E_WRONG_TYPE},
        {"\"inactive\":1", "inactive", CHAN_E_WRONG_TYPE},
        {"\"activate_on_frame\":\"true\"", "activate_on_frame",
         CHAN_E_WRONG_TYPE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "%s,%s}", plain, bad[i].member);
        assert_int_equal(chan_msg_decode(buf, strlen(buf), &got, err,
                                         sizeof err),
                         bad[i].expect);
        assert_non_null(strstr(err, bad[i].name));
    }
    /* 64 characters: too long. */
    char longid[CHAN_IFACE_MAX + 2];
    memset(longid, 'y', sizeof longid);
    longid[CHAN_IFACE_MAX + 1] = '\0';
    snprintf(buf, sizeof buf, "%.*s,\"iface_id\":\"%s\"}",
             (int) strlen(falses) - 1, falses, longid);
    assert_int_equal(chan_msg_decode(buf, strlen(buf), &got, err,
                                     sizeof err),
                     CHAN_E_BAD_STRING);
    assert_non_null(strstr(err, "iface_id"));
    /* The encoder refuses what the decoder would. */
    build(CHAN_INSTALL, &want);
    SET(want.iface_id, "new\nline");
    strbuf_clear(&sb);
    assert_int_equal(chan_msg_encode(&want, &sb), CHAN_E_BAD_STRING);
    memset(want.iface_id, 'z', sizeof want.iface_id); /* no NUL */
    assert_int_equal(chan_msg_encode(&want, &sb), CHAN_E_BAD_STRING);
    assert_int_equal(sb.len, 0);
    /* delete and relay ignore them (unknown members to those types). */
    build(CHAN_DELETE, &want);
    want.inactive = true;
    SET(want.iface_id, "i1");
    assert_int_equal(chan_msg_encode(&want, &sb), CHAN_E_OK);
    assert_null(strstr(strbuf_str(&sb), "inactive"));
    assert_null(strstr(strbuf_str(&sb), "iface_id"));
    strbuf_destroy(&sb);
}

/* activated: the agent's report, vm and epoch required. */
static void
test_activated(void **state)
{
    struct chan_msg m;
    char err[160];
    static const char no_epoch[] = "{\"type\":\"activated\",\"vm\":\"v\"}";
    assert_int_equal(chan_msg_decode(no_epoch, strlen(no_epoch), &m, err,
                                     sizeof err),
                     CHAN_E_MISSING);
    assert_non_null(strstr(err, "epoch"));
    static const char bad_vm[] =
        "{\"type\":\"activated\",\"vm\":\"a b\",\"epoch\":1}";
    assert_int_equal(chan_msg_decode(bad_vm, strlen(bad_vm), &m, err,
                                     sizeof err),
                     CHAN_E_BAD_NAME);
    assert_true(chan_msg_type_from_name("activated",
                                        &(enum chan_msg_type){0}));
}

/* Instructions carry the binding as an optional member: with it the line
 * round-trips; without it nothing is encoded; a peer that does not know
 * it still reads the rest (the member is ignored like any unknown one). */
static void
test_instr_binding(void **state)
{
    static const char line[] =
        "{\"type\":\"install\",\"seq\":11,\"vm\":\"vm1\",\"epoch\":3,"
        "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\",\"vni\":100,"
        "\"vlan\":12,\"port\":5,\"binding\":" BINDING_OBJ "}";
    struct chan_msg want, got;
    build(CHAN_INSTALL, &want);
    want.has_binding = true;
    build_binding(&want.binding);
    char err[128];
    struct strbuf sb;
    strbuf_init(&sb);
    assert_round_trip(line, &want, &sb);
    /* The same for relay and delete. */
    for (int t = CHAN_RELAY; t <= CHAN_DELETE; t++) {
        build((enum chan_msg_type) t, &want);
        want.has_binding = true;
        build_binding(&want.binding);
        SET(want.binding.vm, want.vm);
        strbuf_clear(&sb);
        assert_int_equal(chan_msg_encode(&want, &sb), CHAN_E_OK);
        assert_non_null(strstr(strbuf_str(&sb), "\"binding\":{\"id\":9,"));
        assert_int_equal(chan_msg_decode(sb.data, sb.len - 1, &got, err,
                                         sizeof err),
                         CHAN_E_OK);
        assert_msg_equal(&got, &want);
    }
    /* Optional members of the binding take their defaults. */
    static const char minimal[] =
        INSTR_LINE_HEAD ",\"binding\":{\"id\":1,\"node\":\"n1\","
        "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\","
        "\"type\":\"static\",\"origin\":\"manager\"}}";
    assert_int_equal(chan_msg_decode(minimal, strlen(minimal), &got, err,
                                     sizeof err),
                     CHAN_E_OK);
    assert_true(got.has_binding);
    assert_int_equal(got.binding.port_status, BINDING_PORT_UP);
    assert_int_equal(got.binding.port_security, BINDING_UNTRUST);
    assert_int_equal(got.binding.expires_ms, 0);
    assert_string_equal(got.binding.vm, "vm1");
    /* A binding that does not validate is never encoded. */
    build(CHAN_INSTALL, &want);
    want.has_binding = true;
    build_binding(&want.binding);
    want.binding.expires_ms = 0; /* dynamic, finite lease, no expiry */
    strbuf_clear(&sb);
    assert_int_equal(chan_msg_encode(&want, &sb), CHAN_E_BAD_BINDING);
    assert_int_equal(sb.len, 0);
    strbuf_destroy(&sb);
}

/* Map push: a removed entry carries only vm, version and removed (other
 * members are ignored, not required); a live one needs node, epoch, mac
 * and ip; the address is optional; map_begin's since is at most its
 * version, on both sides. */
static void
test_map_push_messages(void **state)
{
    struct chan_msg m, want;
    char err[128];
    struct strbuf sb;
    strbuf_init(&sb);

    static const char removed[] =
        "{\"type\":\"map_entry\",\"vm\":\"vm1\",\"version\":9,"
        "\"removed\":true}";
    assert_int_equal(chan_msg_decode(removed, strlen(removed), &m, err,
                                     sizeof err),
                     CHAN_E_OK);
    chan_msg_init(&want, CHAN_MAP_ENTRY);
    SET(want.vm, "vm1");
    want.version = 9;
    want.removed = true;
    assert_msg_equal(&m, &want);
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_OK);
    assert_string_equal(strbuf_str(&sb), "{\"type\":\"map_entry\","
                        "\"vm\":\"vm1\",\"version\":9,\"removed\":true}\n");
    /* Stray members of a removed entry are not looked at. */
    static const char removed_extra[] =
        "{\"type\":\"map_entry\",\"vm\":\"vm1\",\"removed\":true,"
        "\"node\":\"not valid!\",\"epoch\":-1}";
    assert_int_equal(chan_msg_decode(removed_extra, strlen(removed_extra), &m,
                                     err, sizeof err),
                     CHAN_E_OK);
    assert_true(m.removed);
    assert_string_equal(m.node, "");

    /* A live entry without its node, or with a bad 'removed'. */
    static const char no_node[] =
        "{\"type\":\"map_entry\",\"vm\":\"vm1\",\"removed\":false,"
        "\"epoch\":1,\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\"}";
    assert_int_equal(chan_msg_decode(no_node, strlen(no_node), &m, err,
                                     sizeof err),
                     CHAN_E_MISSING);
    assert_non_null(strstr(err, "node"));
    static const char bad_removed[] =
        "{\"type\":\"map_entry\",\"vm\":\"vm1\",\"removed\":1}";
    assert_int_equal(chan_msg_decode(bad_removed, strlen(bad_removed), &m,
                                     err, sizeof err),
                     CHAN_E_WRONG_TYPE);
    assert_non_null(strstr(err, "removed"));
    /* No address: decoded empty, and not encoded. */
    static const char no_address[] =
        "{\"type\":\"map_entry\",\"vm\":\"vm1\",\"version\":0,"
        "\"removed\":false,\"node\":\"n1\",\"epoch\":1,"
        "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\",\"vni\":0,"
        "\"vlan\":0,\"port\":0}";
    assert_int_equal(chan_msg_decode(no_address, strlen(no_address), &m,
                                     err, sizeof err),
                     CHAN_E_OK);
    assert_string_equal(m.address, "");
    strbuf_clear(&sb);
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_OK);
    assert_int_equal(sb.len, strlen(no_address) + 1);
    assert_memory_equal(sb.data, no_address, strlen(no_address));
    /* An address with a space is refused both ways. */
    SET(m.address, "a b");
    strbuf_clear(&sb);
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_BAD_STRING);
    assert_int_equal(sb.len, 0);

    /* since > version. */
    static const char backwards[] =
        "{\"type\":\"map_begin\",\"since\":5,\"version\":4}";
    assert_int_equal(chan_msg_decode(backwards, strlen(backwards), &m, err,
                                     sizeof err),
                     CHAN_E_RANGE);
    assert_non_null(strstr(err, "since"));
    chan_msg_init(&m, CHAN_MAP_BEGIN);
    m.since = 5;
    m.version = 4;
    strbuf_clear(&sb);
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_RANGE);
    assert_int_equal(sb.len, 0);
    m.version = 5; /* an empty push is fine */
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_OK);
    /* Versions are required. */
    static const char no_version[] = "{\"type\":\"map_ack\"}";
    assert_int_equal(chan_msg_decode(no_version, strlen(no_version), &m, err,
                                     sizeof err),
                     CHAN_E_MISSING);
    strbuf_destroy(&sb);
}

static void
test_golden_decode(void **state)
{
    for (int t = 0; t < CHAN_N_TYPES; t++) {
        struct chan_msg expect, got;
        char err[128];
        build((enum chan_msg_type) t, &expect);
        memset(&got, 0xa5, sizeof got);
        assert_int_equal(chan_msg_decode(golden[t], strlen(golden[t]),
                                         &got, err, sizeof err),
                         CHAN_E_OK);
        assert_msg_equal(&got, &expect);
    }
}

static void
test_golden_encode(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (int t = 0; t < CHAN_N_TYPES; t++) {
        struct chan_msg m;
        build((enum chan_msg_type) t, &m);
        strbuf_clear(&sb);
        assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_OK);
        /* The error golden escapes é; jansson writes it as UTF-8. */
        if (t == CHAN_ERROR) {
            assert_string_equal(strbuf_str(&sb),
                                "{\"type\":\"error\",\"code\":"
                                "\"stale_epoch\",\"message\":"
                                "\"epoch 2 < 5 \xc3\xa9\"}\n");
        } else {
            assert_int_equal(sb.len, strlen(golden[t]) + 1);
            assert_memory_equal(sb.data, golden[t], strlen(golden[t]));
            assert_int_equal(sb.data[sb.len - 1], '\n');
        }
    }
    strbuf_destroy(&sb);
}

static void
test_optional_members_default(void **state)
{
    static const char line[] =
        "{\"vm\":\"v\",\"epoch\":1,\"seq\":1,\"type\":\"install\","
        "\"mac\":\"02:00:00:00:00:02\",\"ip\":\"198.18.0.9\","
        "\"future\":[1,{\"x\":null}]}";
    struct chan_msg m;
    memset(&m, 0x5a, sizeof m);
    assert_int_equal(chan_msg_decode(line, strlen(line), &m, NULL, 0),
                     CHAN_E_OK);
    assert_int_equal(m.type, CHAN_INSTALL);
    assert_int_equal(m.config.vni, 0);
    assert_int_equal(m.config.vlan, 0);
    assert_int_equal(m.config.port, 0);
    assert_int_equal(m.config.ip, 0xc6120009);

    static const char hello[] = "{\"type\":\"hello\",\"node\":\"n\","
                                "\"proto\":1}";
    assert_int_equal(chan_msg_decode(hello, strlen(hello), &m, NULL, 0),
                     CHAN_E_OK);
    assert_string_equal(m.token, "");

    static const char err_line[] = "{\"type\":\"error\",\"code\":\"x_1\"}";
    assert_int_equal(chan_msg_decode(err_line, strlen(err_line), &m, NULL,
                                     0),
                     CHAN_E_OK);
    assert_string_equal(m.code, "x_1");
    assert_string_equal(m.message, "");
}

struct bad_case {
    const char *line;
    enum chan_err expect;
    const char *member; /* must appear in the explanation, or NULL */
};

#define INSTR_HEAD                                                           \
    "{\"type\":\"install\",\"seq\":1,\"vm\":\"vm1\",\"epoch\":1,"
#define GOOD_CFG "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1\""
#define BIND_HEAD                                                            \
    "{\"type\":\"binding\",\"vm\":\"vm1\",\"action\":\"created\","           \
    "\"binding\":{\"id\":0,\"node\":\"n1\",\"mac\":\"02:00:00:00:00:01\","  \
    "\"ip\":\"198.18.1.1\","

static const struct bad_case bad_cases[] = {
    {"", CHAN_E_BAD_JSON, NULL},
    {"{", CHAN_E_BAD_JSON, NULL},
    {"{\"type\":\"ack\",\"seq\":1} x", CHAN_E_BAD_JSON, NULL},
    {"{\"type\":\"ack\",\"type\":\"ack\",\"seq\":1}", CHAN_E_BAD_JSON, NULL},
    {"{\"type\":\"ack\",\"seq\":99999999999999999999}", CHAN_E_BAD_JSON,
     NULL},
    {"{\"type\":\"error\",\"code\":\"a\",\"message\":\"a\\u0000b\"}",
     CHAN_E_BAD_JSON, NULL},
    {"{\"type\":\"ack\",\"seq\":1\xff}", CHAN_E_BAD_JSON, NULL},
    {"[1,2]", CHAN_E_NOT_OBJECT, NULL},
    {"\"hello\"", CHAN_E_NOT_OBJECT, NULL},
    {"17", CHAN_E_NOT_OBJECT, NULL},
    {"{}", CHAN_E_NO_TYPE, NULL},
    {"{\"type\":7}", CHAN_E_NO_TYPE, NULL},
    {"{\"type\":null}", CHAN_E_NO_TYPE, NULL},
    {"{\"type\":\"reboot\"}", CHAN_E_UNKNOWN_TYPE, "reboot"},
    {"{\"type\":\"\"}", CHAN_E_UNKNOWN_TYPE, NULL},
    {"{\"type\":\"HELLO\",\"node\":\"n1\",\"proto\":1}", CHAN_E_UNKNOWN_TYPE,
     "HELLO"},
    {"{\"type\":\"hello\",\"proto\":1}", CHAN_E_MISSING, "node"},
    {"{\"type\":\"hello\",\"node\":\"n1\"}", CHAN_E_MISSING, "proto"},
    {"{\"type\":\"ack\"}", CHAN_E_MISSING, "seq"},
    {"{\"type\":\"refresh\"}", CHAN_E_MISSING, "version"},
    {"{\"type\":\"error\"}", CHAN_E_MISSING, "code"},
    {"{\"type\":\"refused\",\"seq\":1,\"vm\":\"v\",\"epoch\":1}",
     CHAN_E_MISSING, "held_epoch"},
    {INSTR_HEAD "\"ip\":\"198.18.1.1\"}", CHAN_E_MISSING, "mac"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00:01\"}", CHAN_E_MISSING, "ip"},
    {"{\"type\":\"relay\",\"seq\":1,\"vm\":\"v\",\"epoch\":1," GOOD_CFG
     ",\"target\":\"n2\",\"target_epoch\":2}",
     CHAN_E_MISSING, "target_address"},
    {"{\"type\":\"welcome\",\"node\":\"n\",\"map_version\":1}",
     CHAN_E_MISSING, "heartbeat_ms"},
    {"{\"type\":\"ack\",\"seq\":\"1\"}", CHAN_E_WRONG_TYPE, "seq"},
    {"{\"type\":\"ack\",\"seq\":1.0}", CHAN_E_WRONG_TYPE, "seq"},
    {"{\"type\":\"ack\",\"seq\":true}", CHAN_E_WRONG_TYPE, "seq"},
    {"{\"type\":\"ack\",\"seq\":null}", CHAN_E_WRONG_TYPE, "seq"},
    {"{\"type\":\"hello\",\"node\":5,\"proto\":1}", CHAN_E_WRONG_TYPE,
     "node"},
    {INSTR_HEAD "\"mac\":[2,0,0,0,0,1],\"ip\":\"198.18.1.1\"}",
     CHAN_E_WRONG_TYPE, "mac"},
    {"{\"type\":\"error\",\"code\":\"x\",\"message\":{}}", CHAN_E_WRONG_TYPE,
     "message"},
    {"{\"type\":\"ack\",\"seq\":-1}", CHAN_E_RANGE, "seq"},
    {"{\"type\":\"hello\",\"node\":\"n1\",\"proto\":0}", CHAN_E_RANGE,
     "proto"},
    {"{\"type\":\"hello\",\"node\":\"n1\",\"proto\":4294967296}",
     CHAN_E_RANGE, "proto"},
    {INSTR_HEAD GOOD_CFG ",\"vlan\":4096}", CHAN_E_RANGE, "vlan"},
    {INSTR_HEAD GOOD_CFG ",\"vni\":16777216}", CHAN_E_RANGE, "vni"},
    {INSTR_HEAD GOOD_CFG ",\"port\":4294967296}", CHAN_E_RANGE, "port"},
    {"{\"type\":\"welcome\",\"node\":\"n\",\"map_version\":1,"
     "\"heartbeat_ms\":-5}",
     CHAN_E_RANGE, "heartbeat_ms"},
    {"{\"type\":\"hello\",\"node\":\"\",\"proto\":1}", CHAN_E_BAD_NAME,
     "node"},
    {"{\"type\":\"hello\",\"node\":\"n 1\",\"proto\":1}", CHAN_E_BAD_NAME,
     "node"},
    {"{\"type\":\"hello\",\"node\":\"n/1\",\"proto\":1}", CHAN_E_BAD_NAME,
     "node"},
    {"{\"type\":\"hello\",\"node\":\"a123456789012345678901234567890123456"
     "789012345678901234567890123\",\"proto\":1}",
     CHAN_E_BAD_NAME, "node"},
    {"{\"type\":\"report\",\"vm\":\"\xc3\xa9\",\"epoch\":1}",
     CHAN_E_BAD_NAME, "vm"},
    {"{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1,\"token\":\"\"}",
     CHAN_E_BAD_STRING, "token"},
    {"{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1,\"token\":\"a b\"}",
     CHAN_E_BAD_STRING, "token"},
    {"{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1,\"token\":7}",
     CHAN_E_WRONG_TYPE, "token"},
    {"{\"type\":\"hello\",\"node\":\"n1\",\"proto\":1,\"token\":"
     "\"mgn_5678901234567890123456789012345678901234567890123456789012345"
     "6789012345678901234567890123456789012345678901234567890123456789\"}",
     CHAN_E_BAD_STRING, "token"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00\",\"ip\":\"198.18.1.1\"}",
     CHAN_E_BAD_MAC, "mac"},
    {INSTR_HEAD "\"mac\":\"02-00-00-00-00-01\",\"ip\":\"198.18.1.1\"}",
     CHAN_E_BAD_MAC, "mac"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00:0g\",\"ip\":\"198.18.1.1\"}",
     CHAN_E_BAD_MAC, "mac"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00:01 \",\"ip\":\"198.18.1.1\"}",
     CHAN_E_BAD_MAC, "mac"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1\"}",
     CHAN_E_BAD_IP, "ip"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.256\"}",
     CHAN_E_BAD_IP, "ip"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.018.1.1\"}",
     CHAN_E_BAD_IP, "ip"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.1.1.\"}",
     CHAN_E_BAD_IP, "ip"},
    {INSTR_HEAD "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"::1\"}",
     CHAN_E_BAD_IP, "ip"},
    {"{\"type\":\"relay\",\"seq\":1,\"vm\":\"v\",\"epoch\":1," GOOD_CFG
     ",\"target\":\"n2\",\"target_address\":\"198.18.0.2 x\","
     "\"target_epoch\":2}",
     CHAN_E_BAD_STRING, "target_address"},
    {"{\"type\":\"relay\",\"seq\":1,\"vm\":\"v\",\"epoch\":1," GOOD_CFG
     ",\"target\":\"n2\",\"target_address\":\"\",\"target_epoch\":2}",
     CHAN_E_BAD_STRING, "target_address"},
    {"{\"type\":\"error\",\"code\":\"Bad\"}", CHAN_E_BAD_STRING, "code"},
    {"{\"type\":\"error\",\"code\":\"\"}", CHAN_E_BAD_STRING, "code"},
    {"{\"type\":\"error\",\"code\":\"abcdefghijabcdefghijabcdefghijab\"}",
     CHAN_E_BAD_STRING, "code"},
    {"{\"type\":\"nack\",\"ofp_error\":{\"type\":1,\"code\":2}}",
     CHAN_E_MISSING, "seq"},
    {"{\"type\":\"nack\",\"seq\":1}", CHAN_E_MISSING, "ofp_error"},
    {"{\"type\":\"nack\",\"seq\":1,\"ofp_error\":{\"type\":1}}",
     CHAN_E_MISSING, "ofp_error.code"},
    {"{\"type\":\"nack\",\"seq\":1,\"ofp_error\":{\"code\":1}}",
     CHAN_E_MISSING, "ofp_error.type"},
    {"{\"type\":\"nack\",\"seq\":1,\"ofp_error\":[1,2]}",
     CHAN_E_WRONG_TYPE, "ofp_error"},
    {"{\"type\":\"nack\",\"seq\":1,"
     "\"ofp_error\":{\"type\":\"5\",\"code\":1}}",
     CHAN_E_WRONG_TYPE, "ofp_error.type"},
    {"{\"type\":\"nack\",\"seq\":1,"
     "\"ofp_error\":{\"type\":65536,\"code\":1}}",
     CHAN_E_RANGE, "ofp_error.type"},
    {"{\"type\":\"nack\",\"seq\":1,"
     "\"ofp_error\":{\"type\":1,\"code\":-1}}",
     CHAN_E_RANGE, "ofp_error.code"},
    {"{\"type\":\"dhcp\",\"frame\":\"00\"}", CHAN_E_MISSING, "port"},
    {"{\"type\":\"vnet_port\",\"port\":1,\"vm\":\"a\",\"key\":1}",
     CHAN_E_MISSING, "vswitch"},
    {"{\"type\":\"vnet_port\",\"vswitch\":\"s\",\"port\":1,"
     "\"vm\":\"a\",\"key\":16777216}", CHAN_E_RANGE, "key"},
    {"{\"type\":\"vnet_flow\",\"vswitch\":\"s\",\"id\":4294967296,"
     "\"version\":1,\"ofp\":\"00\"}", CHAN_E_RANGE, "id"},
    {"{\"type\":\"vnet_flow\",\"vswitch\":\"s\",\"id\":1,"
     "\"version\":1,\"ofp\":\"0G\"}", CHAN_E_BAD_HEX, "ofp"},
    {"{\"type\":\"vnet_fstat\",\"vswitch\":\"s\",\"id\":1,"
     "\"version\":1,\"port\":1,\"packets\":-1,\"bytes\":0}",
     CHAN_E_RANGE, "packets"},
    {"{\"type\":\"dhcp\",\"port\":1}", CHAN_E_MISSING, "frame"},
    {"{\"type\":\"dhcp\",\"port\":1,\"frame\":\"0\"}", CHAN_E_BAD_HEX,
     "frame"},
    {"{\"type\":\"dhcp\",\"port\":1,\"frame\":\"\"}", CHAN_E_BAD_HEX,
     "frame"},
    {"{\"type\":\"dhcp\",\"port\":1,\"frame\":\"0A\"}", CHAN_E_BAD_HEX,
     "frame"},
    {"{\"type\":\"dhcp\",\"port\":1,\"frame\":\"0g\"}", CHAN_E_BAD_HEX,
     "frame"},
    {"{\"type\":\"dhcp\",\"port\":1,\"frame\":\"00\",\"vm\":\"a b\"}",
     CHAN_E_BAD_NAME, "vm"},
    {"{\"type\":\"binding\",\"vm\":\"vm1\",\"action\":\"created\"}",
     CHAN_E_MISSING, "binding"},
    {"{\"type\":\"binding\",\"vm\":\"vm1\",\"binding\":{}}",
     CHAN_E_MISSING, "action"},
    {"{\"type\":\"binding\",\"vm\":\"vm1\",\"action\":\"none\","
     "\"binding\":{}}",
     CHAN_E_BAD_ENUM, "action"},
    {"{\"type\":\"binding\",\"vm\":\"vm1\",\"action\":\"created\","
     "\"binding\":[]}",
     CHAN_E_WRONG_TYPE, "binding"},
    {BIND_HEAD "\"origin\":\"agent\"}}", CHAN_E_MISSING, "type"},
    {BIND_HEAD "\"type\":\"Dynamic\",\"origin\":\"agent\"}}",
     CHAN_E_BAD_ENUM, "type"},
    {BIND_HEAD "\"type\":\"dynamic\",\"origin\":\"switch\"}}",
     CHAN_E_BAD_ENUM, "origin"},
    {BIND_HEAD "\"type\":\"dynamic\",\"origin\":\"agent\","
     "\"port_status\":\"off\"}}",
     CHAN_E_BAD_ENUM, "port_status"},
    {BIND_HEAD "\"type\":\"dynamic\",\"origin\":\"agent\","
     "\"port_security\":1}}",
     CHAN_E_WRONG_TYPE, "port_security"},
    {BIND_HEAD "\"type\":\"static\",\"origin\":\"manager\","
     "\"vlan\":4095}}",
     CHAN_E_RANGE, "vlan"},
    /* Each member is fine, the whole is not: a dynamic binding with no
     * lease; a static one from an agent; a zero IP. */
    {BIND_HEAD "\"type\":\"dynamic\",\"origin\":\"agent\"}}",
     CHAN_E_BAD_BINDING, "binding"},
    {BIND_HEAD "\"type\":\"static\",\"origin\":\"agent\"}}",
     CHAN_E_BAD_BINDING, "binding"},
    {INSTR_HEAD GOOD_CFG ",\"binding\":{\"id\":1,\"node\":\"n1\","
     "\"mac\":\"02:00:00:00:00:01\",\"ip\":\"0.0.0.0\","
     "\"type\":\"static\",\"origin\":\"manager\"}}",
     CHAN_E_BAD_BINDING, "binding"},
};

static void
test_malformed(void **state)
{
    bool seen[CHAN_N_ERRORS] = {false};

    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        struct chan_msg m;
        char err[200];
        enum chan_err e = chan_msg_decode(c->line, strlen(c->line), &m, err,
                                          sizeof err);
        if (e != c->expect) {
            fail_msg("case %zu (%s): got %d (%s), want %d", i, c->line,
                     (int) e, err, (int) c->expect);
        }
        assert_true(strlen(err) > 0);
        if (c->member && !strstr(err, c->member)) {
            fail_msg("case %zu: '%s' does not name '%s'", i, err,
                     c->member);
        }
        seen[e] = true;
    }
    /* Every decode error the codec defines is reachable from a line. */
    for (int e = CHAN_E_TOO_LONG; e < CHAN_N_ERRORS; e++) {
        if (e != CHAN_E_TOO_LONG && e != CHAN_E_NOMEM && !seen[e]) {
            fail_msg("no malformed case yields %s", chan_strerror(e));
        }
    }
}

static void
test_too_long(void **state)
{
    /* A valid message padded with whitespace to exactly the limit (the
     * line's '\n' included) decodes; one byte more does not. */
    size_t len = CHAN_MSG_MAX_LINE - 1;
    char *line = malloc(len + 1);
    assert_non_null(line);
    static const char msg[] = "{\"type\":\"heartbeat\"}";
    memset(line, ' ', len + 1);
    memcpy(line, msg, strlen(msg));
    struct chan_msg m;
    char err[64];
    assert_int_equal(chan_msg_decode(line, len, &m, err, sizeof err),
                     CHAN_E_OK);
    assert_int_equal(m.type, CHAN_HEARTBEAT);
    assert_int_equal(chan_msg_decode(line, len + 1, &m, err, sizeof err),
                     CHAN_E_TOO_LONG);
    assert_true(chan_err_is_fatal(CHAN_E_TOO_LONG));
    free(line);
}

static void
test_fatality(void **state)
{
    assert_true(chan_err_is_fatal(CHAN_E_BAD_JSON));
    assert_true(chan_err_is_fatal(CHAN_E_NOT_OBJECT));
    assert_true(chan_err_is_fatal(CHAN_E_NO_TYPE));
    assert_false(chan_err_is_fatal(CHAN_E_UNKNOWN_TYPE));
    assert_false(chan_err_is_fatal(CHAN_E_RANGE));
    assert_false(chan_err_is_fatal(CHAN_E_MISSING));
    assert_string_equal(chan_err_code(CHAN_E_UNKNOWN_TYPE), "unknown_type");
    assert_string_equal(chan_err_code(CHAN_E_BAD_MAC), "bad_field");
    assert_string_equal(chan_err_code(CHAN_E_NO_TYPE), "no_type");
}

static void
test_long_error_text_is_cut_on_char_boundary(void **state)
{
    struct strbuf line;
    strbuf_init(&line);
    strbuf_puts(&line, "{\"type\":\"error\",\"code\":\"x\",\"message\":\"");
    /* 254 ASCII bytes then 'é' (2 bytes): the cut at 255 would split it. */
    strbuf_pad(&line, 'a', CHAN_TEXT_MAX - 1);
    strbuf_puts(&line, "\xc3\xa9zz\"}");
    struct chan_msg m;
    assert_int_equal(chan_msg_decode(line.data, line.len, &m, NULL, 0),
                     CHAN_E_OK);
    assert_int_equal(strlen(m.message), CHAN_TEXT_MAX - 1);
    strbuf_destroy(&line);
}

static void
test_encode_rejects_invalid(void **state)
{
    struct strbuf sb;
    struct chan_msg m;
    strbuf_init(&sb);
    strbuf_puts(&sb, "keep");

    build(CHAN_INSTALL, &m);
    m.config.vlan = 4096;
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_RANGE);
    build(CHAN_INSTALL, &m);
    m.config.vni = VNI_MAX + 1;
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_RANGE);
    build(CHAN_ACK, &m);
    m.seq = (uint64_t) INT64_MAX + 1;
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_RANGE);
    build(CHAN_HELLO, &m);
    m.proto = 0;
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_RANGE);
    build(CHAN_HELLO, &m);
    SET(m.token, "tab\there");
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_BAD_STRING);
    build(CHAN_HELLO, &m);
    memset(m.token, 'a', sizeof m.token); /* no terminating NUL */
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_BAD_STRING);
    build(CHAN_REPORT, &m);
    SET(m.vm, "has space");
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_BAD_NAME);
    build(CHAN_REPORT, &m);
    memset(m.vm, 'a', sizeof m.vm); /* no terminating NUL */
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_BAD_NAME);
    build(CHAN_RELAY, &m);
    m.target_address[0] = '\0';
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_BAD_STRING);
    build(CHAN_ERROR, &m);
    SET(m.message, "bad \xff utf-8");
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_BAD_STRING);
    build(CHAN_HEARTBEAT, &m);
    m.type = CHAN_N_TYPES;
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_UNKNOWN_TYPE);

    assert_string_equal(strbuf_str(&sb), "keep");
    strbuf_destroy(&sb);
}

static void
test_init_error(void **state)
{
    struct chan_msg m;
    struct strbuf sb;
    strbuf_init(&sb);
    chan_msg_init_error(&m, CHAN_E_BAD_MAC, "mac: nope");
    assert_int_equal(chan_msg_encode(&m, &sb), CHAN_E_OK);
    assert_string_equal(strbuf_str(&sb),
                        "{\"type\":\"error\",\"code\":\"bad_field\","
                        "\"message\":\"mac: nope\"}\n");
    chan_msg_init_error(&m, CHAN_E_NO_TYPE, NULL);
    assert_string_equal(m.code, "no_type");
    assert_string_equal(m.message, chan_strerror(CHAN_E_NO_TYPE));
    strbuf_destroy(&sb);
}

static void
test_frame(void **state)
{
    size_t line_len, used;
    static const char two[] = "{\"a\":1}\n{\"b\":2}\npartial";

    assert_int_equal(chan_frame(two, strlen(two), &line_len, &used),
                     CHAN_E_OK);
    assert_int_equal(line_len, 7);
    assert_int_equal(used, 8);
    assert_int_equal(chan_frame(two + 8, strlen(two) - 8, &line_len, &used),
                     CHAN_E_OK);
    assert_int_equal(used, 8);
    assert_int_equal(chan_frame(two + 16, strlen(two) - 16, &line_len,
                                &used),
                     CHAN_E_OK);
    assert_int_equal(used, 0);

    char *big = malloc(CHAN_MSG_MAX_LINE + 1);
    assert_non_null(big);
    memset(big, 'x', CHAN_MSG_MAX_LINE + 1);
    /* Newline as the 65536th byte: the longest legal line. */
    big[CHAN_MSG_MAX_LINE - 1] = '\n';
    assert_int_equal(chan_frame(big, CHAN_MSG_MAX_LINE + 1, &line_len,
                                &used),
                     CHAN_E_OK);
    assert_int_equal(used, CHAN_MSG_MAX_LINE);
    /* Newline one byte later: too long, even before it arrives. */
    big[CHAN_MSG_MAX_LINE - 1] = 'x';
    big[CHAN_MSG_MAX_LINE] = '\n';
    assert_int_equal(chan_frame(big, CHAN_MSG_MAX_LINE, &line_len, &used),
                     CHAN_E_TOO_LONG);
    assert_int_equal(chan_frame(big, CHAN_MSG_MAX_LINE - 1, &line_len,
                                &used),
                     CHAN_E_OK);
    assert_int_equal(used, 0);
    free(big);
}

static void
test_type_names(void **state)
{
    for (int t = 0; t < CHAN_N_TYPES; t++) {
        enum chan_msg_type back;
        assert_true(chan_msg_type_from_name(
            chan_msg_type_name((enum chan_msg_type) t), &back));
        assert_int_equal(back, t);
    }
    enum chan_msg_type x;
    assert_false(chan_msg_type_from_name("nope", &x));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_decode),
        cmocka_unit_test(test_golden_encode),
        cmocka_unit_test(test_optional_members_default),
        cmocka_unit_test(test_instr_binding),
        cmocka_unit_test(test_install_lifecycle),
        cmocka_unit_test(test_activated),
        cmocka_unit_test(test_map_push_messages),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_fatality),
        cmocka_unit_test(test_long_error_text_is_cut_on_char_boundary),
        cmocka_unit_test(test_encode_rejects_invalid),
        cmocka_unit_test(test_init_error),
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
