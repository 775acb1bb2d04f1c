/* test_ofp13.c: golden and malformed-input tests of the OpenFlow 1.3 codec.
 *
 * Every golden message is hex written by hand from the OpenFlow 1.3.5
 * layouts, its text form, and (where the message is something mignet
 * sends) a builder that makes it through the API: encode(build) must equal
 * the hex, decode(hex) must print the text, and encode(decode(hex)) must
 * give the hex back.  Malformed inputs must give the spec's error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mignet/ofp.h"

/* ---------------------------------------------------------------------- */
/* Helpers.                                                                */

static struct ofp_msg *
new_msg(uint8_t type, uint32_t xid)
{
    struct ofp_msg *msg = malloc(sizeof *msg);
    assert_non_null(msg);
    ofp_msg_init(msg, type, xid);
    return msg;
}

/* Frees what 'msg' owns (action lists), then 'msg'. */
static void
free_msg(struct ofp_msg *msg)
{
    ofp_msg_destroy(msg);
    free(msg);
}

static void
hex_to_buf(const char *hex, struct ofpbuf *b)
{
    ofpbuf_init(b, 64);
    assert_true(ofpbuf_put_hex(b, hex));
}

static char *
buf_to_hex(const struct ofpbuf *b)
{
    char *s = malloc(b->size * 2 + 1);
    assert_non_null(s);
    for (size_t i = 0; i < b->size; i++) {
        snprintf(s + 2 * i, 3, "%02x", b->data[i]);
    }
    s[b->size * 2] = '\0';
    return s;
}

/* Asserts that 'b' holds exactly the bytes of 'hex'; prints both if not. */
static void
assert_buf_hex(const struct ofpbuf *b, const char *hex)
{
    struct ofpbuf want;
    hex_to_buf(hex, &want);
    char *got_hex = buf_to_hex(b);
    char *want_hex = buf_to_hex(&want);
    assert_string_equal(got_hex, want_hex);
    free(got_hex);
    free(want_hex);
    ofpbuf_uninit(&want);
}

/* ---------------------------------------------------------------------- */
/* Builders: each makes a golden message through the public API.           */

typedef struct ofp_msg *build_fn(struct ofpbuf *raw);

static struct ofp_msg *
build_hello(struct ofpbuf *raw)
{
    (void)raw;
    return new_msg(OFPT_HELLO, 1);
}

static struct ofp_msg *
build_hello_v10(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_HELLO, 2);
    m->version = 1;
    m->hello.version = 1;
    m->hello.has_bitmap = false;
    m->hello.bitmap = 0;
    return m;
}

static const uint8_t barrier_req_xid3[8] = {4, 0x14, 0, 8, 0, 0, 0, 3};
static const uint8_t flow_mod_hdr_xid16[8] = {4, 0x0e, 0, 8, 0, 0, 0, 0x16};

static struct ofp_msg *
build_error(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_ERROR, 3);
    m->error.type = ofperr_type(OFPERR_OFPBRC_BAD_LEN);
    m->error.code = ofperr_code(OFPERR_OFPBRC_BAD_LEN);
    m->error.data = barrier_req_xid3;
    m->error.data_len = sizeof barrier_req_xid3;
    return m;
}

static struct ofp_msg *
build_error_exp(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_ERROR, 0x16);
    m->error.type = OFPET_EXPERIMENTER;
    m->error.code = 5;
    m->error.experimenter = NX_VENDOR_ID;
    m->error.data = flow_mod_hdr_xid16;
    m->error.data_len = sizeof flow_mod_hdr_xid16;
    return m;
}

static struct ofp_msg *
build_echo_request(struct ofpbuf *raw)
{
    (void)raw;
    static const uint8_t abcd[] = {'a', 'b', 'c', 'd'};
    struct ofp_msg *m = new_msg(OFPT_ECHO_REQUEST, 4);
    m->echo.data = abcd;
    m->echo.data_len = sizeof abcd;
    return m;
}

static struct ofp_msg *
build_echo_reply(struct ofpbuf *raw)
{
    (void)raw;
    return new_msg(OFPT_ECHO_REPLY, 5);
}

static struct ofp_msg *
build_features_request(struct ofpbuf *raw)
{
    (void)raw;
    return new_msg(OFPT_FEATURES_REQUEST, 6);
}

static struct ofp_msg *
build_features_reply(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_FEATURES_REPLY, 6);
    m->features.datapath_id = 0xabc;
    m->features.n_buffers = 256;
    m->features.n_tables = 254;
    m->features.capabilities = OFPC_FLOW_STATS | OFPC_TABLE_STATS |
                               OFPC_PORT_STATS | OFPC_GROUP_STATS |
                               OFPC_QUEUE_STATS;
    return m;
}

static struct ofp_msg *
build_get_config_request(struct ofpbuf *raw)
{
    (void)raw;
    return new_msg(OFPT_GET_CONFIG_REQUEST, 8);
}

static struct ofp_msg *
build_get_config_reply(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_GET_CONFIG_REPLY, 8);
    m->config.miss_send_len = 128;
    return m;
}

static struct ofp_msg *
build_set_config(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_SET_CONFIG, 7);
    m->config.flags = OFPC_FRAG_NORMAL;
    m->config.miss_send_len = OFPCML_NO_BUFFER;
    return m;
}

static struct ofp_msg *
build_barrier_request(struct ofpbuf *raw)
{
    (void)raw;
    return new_msg(OFPT_BARRIER_REQUEST, 9);
}

static struct ofp_msg *
build_barrier_reply(struct ofpbuf *raw)
{
    (void)raw;
    return new_msg(OFPT_BARRIER_REPLY, 9);
}

static struct ofp_msg *
build_role_request(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_ROLE_REQUEST, 0xa);
    m->role.role = OFPCR_ROLE_MASTER;
    m->role.generation_id = 5;
    return m;
}

static struct ofp_msg *
build_role_reply(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_ROLE_REPLY, 0xa);
    m->role.role = OFPCR_ROLE_SLAVE;
    m->role.generation_id = UINT64_MAX;
    return m;
}

static struct ofp_msg *
build_set_async(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_SET_ASYNC, 0x1c);
    m->async.packet_in[0] = 0x7;
    m->async.port_status[0] = 0x7;
    m->async.port_status[1] = 0x1;
    m->async.flow_removed[0] = 0xf;
    m->async.flow_removed[1] = 0x80000000u;
    return m;
}

static struct ofp_msg *
build_get_async_request(struct ofpbuf *raw)
{
    (void)raw;
    return new_msg(OFPT_GET_ASYNC_REQUEST, 0x1d);
}

static struct ofp_msg *
build_flow_basic(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 0xb);
    struct ofp_flow_mod *fm = &m->flow_mod;
    fm->priority = 100;
    ofp_match_set(&fm->match, OFP_F_IN_PORT, 1);
    ofp_match_set(&fm->match, OFP_F_ETH_DST, 0x020000000001);
    assert_int_equal(ofp_actions_output(ofp_instructions_apply(&fm->insts), 2),
                     OFPERR_OK);
    return m;
}

static struct ofp_msg *
build_flow_overlay(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 0xc);
    struct ofp_flow_mod *fm = &m->flow_mod;
    fm->table_id = 1;
    fm->priority = 200;
    fm->cookie = 0x1234;
    fm->idle_timeout = 30;
    fm->flags = OFPFF_SEND_FLOW_REM | OFPFF_CHECK_OVERLAP;
    ofp_match_set(&fm->match, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&fm->match, OFP_F_IP_PROTO, 17);
    ofp_match_set_masked(&fm->match, OFP_F_IPV4_DST, 0xc6120000, 0xffff0000);
    ofp_match_set(&fm->match, OFP_F_UDP_DST, 4789);
    struct ofp_actions *a = ofp_instructions_apply(&fm->insts);
    assert_int_equal(ofp_actions_set_field(a, OFP_F_TUNNEL_ID, 5), 0);
    assert_int_equal(ofp_actions_push_vlan(a, 0x8100), 0);
    assert_int_equal(ofp_actions_set_field(a, OFP_F_VLAN_VID, 0x1005), 0);
    assert_int_equal(ofp_actions_output(a, 3), 0);
    fm->insts.present |= OFP_INST_METADATA | OFP_INST_GOTO;
    fm->insts.metadata = 1;
    fm->insts.metadata_mask = 0xff;
    fm->insts.goto_table = 2;
    return m;
}

static struct ofp_msg *
build_flow_arp(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 0xd);
    struct ofp_flow_mod *fm = &m->flow_mod;
    fm->priority = 300;
    ofp_match_set(&fm->match, OFP_F_ETH_TYPE, 0x0806);
    ofp_match_set(&fm->match, OFP_F_ARP_OP, 1);
    ofp_match_set(&fm->match, OFP_F_ARP_TPA, 0xc612000a);
    struct ofp_actions *a = ofp_instructions_apply(&fm->insts);
    assert_int_equal(
        ofp_actions_move(a, OFP_F_ETH_SRC, 0, OFP_F_ETH_DST, 0, 48), 0);
    assert_int_equal(ofp_actions_set_field(a, OFP_F_ETH_SRC, 0x02000000000a),
                     0);
    assert_int_equal(ofp_actions_set_field(a, OFP_F_ARP_OP, 2), 0);
    assert_int_equal(
        ofp_actions_move(a, OFP_F_ARP_SHA, 0, OFP_F_ARP_THA, 0, 48), 0);
    assert_int_equal(
        ofp_actions_move(a, OFP_F_ARP_SPA, 0, OFP_F_ARP_TPA, 0, 32), 0);
    assert_int_equal(ofp_actions_set_field(a, OFP_F_ARP_SHA, 0x02000000000a),
                     0);
    assert_int_equal(ofp_actions_set_field(a, OFP_F_ARP_SPA, 0xc612000a), 0);
    assert_int_equal(ofp_actions_output(a, OFPP_IN_PORT), 0);
    return m;
}

static struct ofp_msg *
build_flow_del_strict(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 0xe);
    struct ofp_flow_mod *fm = &m->flow_mod;
    ofp_flow_mod_init(fm, OFPFC_DELETE_STRICT);
    fm->priority = 100;
    fm->cookie = 0x1234;
    fm->cookie_mask = UINT64_MAX;
    fm->out_port = 2;
    ofp_match_set_masked(&fm->match, OFP_F_ETH_SRC, 0x020000000000,
                         0xffffff000000);
    ofp_match_set_masked(&fm->match, OFP_F_VLAN_VID, OFPVID_PRESENT,
                         OFPVID_PRESENT);
    ofp_match_set(&fm->match, OFP_F_TUNNEL_ID, 5);
    return m;
}

static struct ofp_msg *
build_flow_modify(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 0xf);
    struct ofp_flow_mod *fm = &m->flow_mod;
    ofp_flow_mod_init(fm, OFPFC_MODIFY);
    fm->table_id = 2;
    fm->priority = 10;
    fm->hard_timeout = 60;
    ofp_match_set(&fm->match, OFP_F_IN_PORT, OFPP_LOCAL);
    ofp_match_set(&fm->match, OFP_F_ETH_TYPE, 0x0800);
    ofp_match_set(&fm->match, OFP_F_VLAN_VID, OFPVID_PRESENT | 5);
    ofp_match_set(&fm->match, OFP_F_IP_PROTO, 6);
    ofp_match_set_masked(&fm->match, OFP_F_IPV4_SRC, 0xc6120001, 0xffff00ff);
    ofp_match_set_masked(&fm->match, OFP_F_TCP_DST, 80, 0xfff0);
    struct ofp_actions *a = ofp_instructions_apply(&fm->insts);
    assert_int_equal(ofp_actions_pop_vlan(a), 0);
    assert_int_equal(ofp_actions_dec_nw_ttl(a), 0);
    fm->insts.present |= OFP_INST_CLEAR | OFP_INST_WRITE;
    assert_int_equal(ofp_actions_group(&fm->insts.write, 7), 0);
    assert_int_equal(ofp_actions_controller(&fm->insts.write, 128), 0);
    return m;
}

static const uint8_t frame16[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                                    0x08, 0x06, 0x00, 0x01};

static struct ofp_msg *
build_packet_in(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_PACKET_IN, 0);
    m->packet_in.total_len = 16;
    m->packet_in.reason = OFPR_ACTION;
    m->packet_in.cookie = 1;
    ofp_match_set(&m->packet_in.match, OFP_F_IN_PORT, 3);
    m->packet_in.data = frame16;
    m->packet_in.data_len = sizeof frame16;
    return m;
}

static struct ofp_msg *
build_packet_out(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_PACKET_OUT, 0x10);
    assert_int_equal(ofp_actions_output(&m->packet_out.actions, 1), 0);
    m->packet_out.data = frame16;
    m->packet_out.data_len = sizeof frame16;
    return m;
}

static struct ofp_msg *
build_flow_removed(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_FLOW_REMOVED, 0);
    struct ofp_flow_removed *fr = &m->flow_removed;
    fr->cookie = 5;
    fr->priority = 100;
    fr->reason = OFPRR_IDLE_TIMEOUT;
    fr->duration_sec = 12;
    fr->duration_nsec = 500000000;
    fr->idle_timeout = 10;
    fr->packet_count = 3;
    fr->byte_count = 180;
    ofp_match_set(&fr->match, OFP_F_IN_PORT, 1);
    return m;
}

static struct ofp_msg *
build_port_status(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_PORT_STATUS, 0);
    m->port_status.reason = OFPPR_ADD;
    m->port_status.desc.port_no = 1;
    ofp_eth_from_u64(0x020000000001, m->port_status.desc.hw_addr);
    snprintf(m->port_status.desc.name, sizeof m->port_status.desc.name, "vm1");
    m->port_status.desc.state = OFPPS_LIVE;
    m->port_status.desc.curr_speed = 10000000;
    return m;
}

static struct ofp_msg *
build_flow_stats_request(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_MULTIPART_REQUEST, 0x11);
    m->mp.type = OFPMP_FLOW;
    ofp_match_set(&m->mp.flow_req.match, OFP_F_IN_PORT, 1);
    return m;
}

/* Array replies: built with the entry builders into 'raw', then decoded so
 * the caller can encode the result through ofp_encode() as well. */
static struct ofp_msg *
decode_raw(struct ofpbuf *raw)
{
    struct ofp_msg *m = new_msg(OFPT_HELLO, 0);
    assert_int_equal(ofp_decode(raw->data, raw->size, m), OFPERR_OK);
    return m;
}

static struct ofp_msg *
build_flow_stats_reply(struct ofpbuf *raw)
{
    struct ofp_flow_stats *fs = calloc(1, sizeof *fs);
    assert_non_null(fs);
    size_t start = ofp_mp_reply_start(raw, 0x11, OFPMP_FLOW, 0);
    fs->duration_sec = 5;
    fs->priority = 100;
    fs->cookie = 1;
    fs->packet_count = 10;
    fs->byte_count = 600;
    ofp_match_set(&fs->match, OFP_F_IN_PORT, 1);
    assert_int_equal(
        ofp_actions_output(ofp_instructions_apply(&fs->insts), 2), 0);
    assert_int_equal(ofp_put_flow_stats(raw, fs), OFPERR_OK);
    ofp_flow_stats_destroy(fs);
    memset(fs, 0, sizeof *fs);
    fs->table_id = 1;
    fs->duration_sec = 1;
    fs->duration_nsec = 1;
    assert_int_equal(ofp_put_flow_stats(raw, fs), OFPERR_OK);
    assert_int_equal(ofp_mp_finish(raw, start), OFPERR_OK);
    free(fs);
    return decode_raw(raw);
}

static struct ofp_msg *
build_aggregate_request(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_MULTIPART_REQUEST, 0x15);
    m->mp.type = OFPMP_AGGREGATE;
    m->mp.flow_req.table_id = 0;
    return m;
}

static struct ofp_msg *
build_aggregate_reply(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_MULTIPART_REPLY, 0x15);
    m->mp.type = OFPMP_AGGREGATE;
    m->mp.aggregate.packet_count = 100;
    m->mp.aggregate.byte_count = 6000;
    m->mp.aggregate.flow_count = 3;
    return m;
}

static struct ofp_msg *
build_port_stats_request(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_MULTIPART_REQUEST, 0x12);
    m->mp.type = OFPMP_PORT_STATS;
    m->mp.port_no = OFPP_ANY;
    return m;
}

static struct ofp_msg *
build_port_stats_reply(struct ofpbuf *raw)
{
    size_t start = ofp_mp_reply_start(raw, 0x12, OFPMP_PORT_STATS, 0);
    struct ofp_port_stats ps = {
        .port_no = 1, .rx_packets = 1, .tx_packets = 2, .rx_bytes = 3,
        .tx_bytes = 4, .rx_dropped = 5, .tx_dropped = 6, .rx_errors = 7,
        .tx_errors = 8, .duration_sec = 9, .duration_nsec = 10,
    };
    ofp_put_port_stats(raw, &ps);
    assert_int_equal(ofp_mp_finish(raw, start), OFPERR_OK);
    return decode_raw(raw);
}

static struct ofp_msg *
build_table_stats_reply(struct ofpbuf *raw)
{
    size_t start = ofp_mp_reply_start(raw, 0x16, OFPMP_TABLE, 0);
    struct ofp_table_stats ts = {.table_id = 0, .active_count = 3,
                                 .lookup_count = 100, .matched_count = 80};
    ofp_put_table_stats(raw, &ts);
    assert_int_equal(ofp_mp_finish(raw, start), OFPERR_OK);
    return decode_raw(raw);
}

static struct ofp_msg *
build_port_desc_request(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_MULTIPART_REQUEST, 0x13);
    m->mp.type = OFPMP_PORT_DESC;
    return m;
}

static struct ofp_msg *
build_port_desc_reply(struct ofpbuf *raw)
{
    size_t start = ofp_mp_reply_start(raw, 0x13, OFPMP_PORT_DESC, 0);
    struct ofp_port p = {.port_no = OFPP_LOCAL,
                         .config = OFPPC_PORT_DOWN,
                         .state = OFPPS_LINK_DOWN};
    snprintf(p.name, sizeof p.name, "br0");
    ofp_eth_from_u64(0x020000000002, p.hw_addr);
    ofp_put_port(raw, &p);
    assert_int_equal(ofp_mp_finish(raw, start), OFPERR_OK);
    return decode_raw(raw);
}

static struct ofp_msg *
build_desc_request(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_MULTIPART_REQUEST, 0x14);
    m->mp.type = OFPMP_DESC;
    return m;
}

static struct ofp_msg *
build_desc_reply(struct ofpbuf *raw)
{
    (void)raw;
    struct ofp_msg *m = new_msg(OFPT_MULTIPART_REPLY, 0x14);
    m->mp.type = OFPMP_DESC;
    snprintf(m->mp.desc.mfr_desc, sizeof m->mp.desc.mfr_desc, "mignet");
    snprintf(m->mp.desc.hw_desc, sizeof m->mp.desc.hw_desc, "hw");
    snprintf(m->mp.desc.sw_desc, sizeof m->mp.desc.sw_desc, "0.1");
    snprintf(m->mp.desc.serial_num, sizeof m->mp.desc.serial_num, "42");
    snprintf(m->mp.desc.dp_desc, sizeof m->mp.desc.dp_desc, "br-int");
    return m;
}

/* ---------------------------------------------------------------------- */
/* Golden messages.                                                        */

struct golden {
    const char *name;
    const char *hex;
    const char *text;
    build_fn *build; /* NULL: decode-only (not in canonical form). */
};

/* The desc reply is 1072 bytes of mostly padding; filled in at start-up. */
static char desc_reply_hex[2 * 1072 + 1];

static void
put_padded_hex(char **p, const char *s, size_t width)
{
    for (size_t i = 0; i < width; i++) {
        unsigned c = i < strlen(s) ? (unsigned char)s[i] : 0;
        snprintf(*p, 3, "%02x", c);
        *p += 2;
    }
}

static void
make_desc_reply_hex(void)
{
    char *p = desc_reply_hex;
    const char *head = "0413043000000014" "0000" "0000" "00000000";
    memcpy(p, head, strlen(head));
    p += strlen(head);
    put_padded_hex(&p, "mignet", 256);
    put_padded_hex(&p, "hw", 256);
    put_padded_hex(&p, "0.1", 256);
    put_padded_hex(&p, "42", 32);
    put_padded_hex(&p, "br-int", 256);
    *p = '\0';
}

static const struct golden goldens[] = {
    {"hello", "04000010 00000001 0001 0008 00000010",
     "hello xid=0x1 version=1.3 versions=1.3", build_hello},
    {"hello_of10", "01000008 00000002", "hello xid=0x2 version=1.0",
     build_hello_v10},
    /* Found by fuzzing: re-encoding changed the version of this hello. */
    {"hello_version0", "00000008 00000005", "hello xid=0x5 version=v0", NULL},
    /* An unknown element (type 2) is skipped; a two-word bitmap. */
    {"hello_elements",
     "04000020 00000003 0002 0005 aa000000"
     " 0001 000c 00000012 00000001 00000000",
     "hello xid=0x3 version=1.3 versions=1.0,1.3", NULL},
    {"error", "04010014 00000003 0001 0006 04140008 00000003",
     "error xid=0x3 type=BAD_REQUEST code=OFPBRC_BAD_LEN data_len=8 "
     "request=barrier_request(xid=0x3)",
     build_error},
    {"error_experimenter",
     "04010018 00000016 ffff 0005 00002320 040e0008 00000016",
     "error xid=0x16 type=EXPERIMENTER exp_type=5 experimenter=0x2320 "
     "data_len=8 request=flow_mod(xid=0x16)",
     build_error_exp},
    {"echo_request", "0402000c 00000004 61626364",
     "echo_request xid=0x4 data_len=4 data=61626364", build_echo_request},
    {"echo_reply", "04030008 00000005", "echo_reply xid=0x5 data_len=0",
     build_echo_reply},
    {"features_request", "04050008 00000006", "features_request xid=0x6",
     build_features_request},
    {"features_reply",
     "04060020 00000006 0000000000000abc 00000100 fe 00 0000 0000004f "
     "00000000",
     "features_reply xid=0x6 dpid=0x0000000000000abc n_buffers=256 "
     "n_tables=254 auxiliary_id=0 capabilities=flow_stats,table_stats,"
     "port_stats,group_stats,queue_stats",
     build_features_reply},
    {"get_config_request", "04070008 00000008", "get_config_request xid=0x8",
     build_get_config_request},
    {"get_config_reply", "0408000c 00000008 0000 0080",
     "get_config_reply xid=0x8 frag=normal miss_send_len=128",
     build_get_config_reply},
    {"set_config", "0409000c 00000007 0000 ffff",
     "set_config xid=0x7 frag=normal miss_send_len=65535", build_set_config},
    {"barrier_request", "04140008 00000009", "barrier_request xid=0x9",
     build_barrier_request},
    {"barrier_reply", "04150008 00000009", "barrier_reply xid=0x9",
     build_barrier_reply},
    {"role_request",
     "04180018 0000000a 00000002 00000000 0000000000000005",
     "role_request xid=0xa role=master generation_id=5", build_role_request},
    {"role_reply", "04190018 0000000a 00000003 00000000 ffffffffffffffff",
     "role_reply xid=0xa role=slave generation_id=18446744073709551615",
     build_role_reply},
    /* OpenFlow 1.3.5 §7.3.10: header, then (master/equal, slave) pairs for
     * packet-in, port status and flow removed. */
    {"set_async",
     "041c0020 0000001c 00000007 00000000 00000007 00000001"
     " 0000000f 80000000",
     "set_async xid=0x1c packet_in=0x7/0x0 port_status=0x7/0x1 "
     "flow_removed=0xf/0x80000000",
     build_set_async},
    {"get_async_request", "041a0008 0000001d",
     "get_async_request xid=0x1d", build_get_async_request},
    {"flow_mod_basic",
     /* header, cookie, cookie_mask */
     "040e0060 0000000b 0000000000000000 0000000000000000"
     /* table, command, idle, hard, priority, buffer, out_port, out_group,
      * flags, pad */
     " 00 00 0000 0000 0064 ffffffff ffffffff ffffffff 0000 0000"
     /* match: in_port=1, eth_dst, 2 bytes of padding */
     " 0001 0016 80000004 00000001 80000606 020000000001 0000"
     /* apply_actions(output:2) */
     " 0004 0018 00000000 0000 0010 00000002 0000 000000000000",
     "flow_mod xid=0xb add table=0 priority=100 in_port=1,"
     "eth_dst=02:00:00:00:00:01 actions=output:2",
     build_flow_basic},
    {"flow_mod_overlay",
     "040e00b8 0000000c 0000000000001234 0000000000000000"
     " 01 00 001e 0000 00c8 ffffffff ffffffff ffffffff 0003 0000"
     " 0001 0021 80000a02 0800 80001401 11 80001908 c6120000 ffff0000"
     " 80002002 12b5 00000000000000"
     " 0004 0040 00000000"
     " 0019 0010 80004c08 0000000000000005"
     " 0011 0008 8100 0000"
     " 0019 0010 80000c02 1005 000000000000"
     " 0000 0010 00000003 0000 000000000000"
     " 0002 0018 00000000 0000000000000001 00000000000000ff"
     " 0001 0008 02 000000",
     "flow_mod xid=0xc add table=1 priority=200 cookie=0x1234 "
     "idle_timeout=30 flags=send_flow_rem,check_overlap eth_type=0x0800,"
     "ip_proto=17,ipv4_dst=198.18.0.0/16,udp_dst=4789 "
     "actions=set_field:0x5->tunnel_id,push_vlan:0x8100,"
     "set_field:0x1005->vlan_vid,output:3,write_metadata:0x1/0xff,"
     "goto_table:2",
     build_flow_overlay},
    {"flow_mod_arp_responder",
     "040e00e8 0000000d 0000000000000000 0000000000000000"
     " 00 00 0000 0000 012c ffffffff ffffffff ffffffff 0000 0000"
     " 0001 0018 80000a02 0806 80002a02 0001 80002e04 c612000a"
     " 0004 00a0 00000000"
     " ffff 0018 00002320 0006 0030 0000 0000 80000806 80000606"
     " 0019 0010 80000806 02000000000a 0000"
     " 0019 0010 80002a02 0002 000000000000"
     " ffff 0018 00002320 0006 0030 0000 0000 80003006 80003206"
     " ffff 0018 00002320 0006 0020 0000 0000 80002c04 80002e04"
     " 0019 0010 80003006 02000000000a 0000"
     " 0019 0010 80002c04 c612000a 00000000"
     " 0000 0010 fffffff8 0000 000000000000",
     "flow_mod xid=0xd add table=0 priority=300 eth_type=0x0806,arp_op=1,"
     "arp_tpa=198.18.0.10 actions=move:eth_src[0..47]->eth_dst[0..47],"
     "set_field:02:00:00:00:00:0a->eth_src,set_field:2->arp_op,"
     "move:arp_sha[0..47]->arp_tha[0..47],move:arp_spa[0..31]->"
     "arp_tpa[0..31],set_field:02:00:00:00:00:0a->arp_sha,"
     "set_field:198.18.0.10->arp_spa,output:IN_PORT",
     build_flow_arp},
    /* Open vSwitch reports "move" operands by their NXM names. */
    {"flow_mod_nxm_move",
     "040e0070 00000012 0000000000000000 0000000000000000"
     " 00 00 0000 0000 0064 ffffffff ffffffff ffffffff 0000 0000"
     " 0001 0004 00000000"
     " 0004 0038 00000000"
     " ffff 0018 00002320 0006 0030 0000 0000 00000406 00000206"
     " ffff 0018 00002320 0006 0040 0000 0000 00012008 80000408",
     "flow_mod xid=0x12 add table=0 priority=100 "
     "actions=move:eth_src[0..47]->eth_dst[0..47],"
     "move:tunnel_id[0..63]->metadata[0..63]",
     NULL},
    {"flow_mod_delete_strict",
     "040e0058 0000000e 0000000000001234 ffffffffffffffff"
     " 00 04 0000 0000 0064 ffffffff 00000002 ffffffff 0000 0000"
     " 0001 0028 8000090c 020000000000 ffffff000000 80000d04 1000 1000"
     " 80004c08 0000000000000005",
     "flow_mod xid=0xe delete_strict table=0 priority=100 "
     "cookie=0x1234/0xffffffffffffffff out_port=2 "
     "eth_src=02:00:00:00:00:00/ff:ff:ff:00:00:00,vlan_vid=0x1000/0x1000,"
     "tunnel_id=0x5 actions=drop",
     build_flow_del_strict},
    {"flow_mod_modify",
     "040e00a8 0000000f 0000000000000000 0000000000000000"
     " 02 01 0000 003c 000a ffffffff ffffffff ffffffff 0000 0000"
     " 0001 0031 80000004 fffffffe 80000a02 0800 80000c02 1005"
     " 80001401 06 80001708 c6120001 ffff00ff 80001d04 0050 fff0"
     " 00000000000000"
     " 0004 0018 00000000 0012 0008 00000000 0018 0008 00000000"
     " 0005 0008 00000000"
     " 0003 0020 00000000 0016 0008 00000007"
     " 0000 0010 fffffffd 0080 000000000000",
     "flow_mod xid=0xf modify table=2 priority=10 hard_timeout=60 "
     "in_port=LOCAL,eth_type=0x0800,vlan_vid=0x1005,ip_proto=6,"
     "ipv4_src=198.18.0.1/255.255.0.255,tcp_dst=80/0xfff0 "
     "actions=pop_vlan,dec_ttl,clear_actions,"
     "write_actions(group:7,output:CONTROLLER:128)",
     build_flow_modify},
    {"packet_in",
     "040a003a 00000000 ffffffff 0010 01 00 0000000000000001"
     " 0001 000c 80000004 00000003 00000000 0000"
     " ffffffffffff 020000000001 0806 0001",
     "packet_in xid=0x0 reason=action table=0 cookie=0x1 buffer_id=none "
     "total_len=16 in_port=3 data_len=16 "
     "frame=02:00:00:00:00:01->ff:ff:ff:ff:ff:ff,type=0x0806",
     build_packet_in},
    /* Open vSwitch adds NXM fields (here reg0, class 1) to packet-in
     * matches; they are skipped, not refused. */
    {"packet_in_nxm",
     "040a0042 00000000 ffffffff 0010 00 05 0000000000000000"
     " 0001 0014 80000004 00000003 00010004 0000002a 00000000 0000"
     " ffffffffffff 020000000001 0806 0001",
     "packet_in xid=0x0 reason=no_match table=5 buffer_id=none total_len=16 "
     "in_port=3 data_len=16 frame=02:00:00:00:00:01->ff:ff:ff:ff:ff:ff,"
     "type=0x0806",
     NULL},
    {"packet_out",
     "040d0038 00000010 ffffffff fffffffd 0010 000000000000"
     " 0000 0010 00000001 0000 000000000000"
     " ffffffffffff 020000000001 0806 0001",
     "packet_out xid=0x10 buffer_id=none in_port=CONTROLLER "
     "actions=output:1 data_len=16 "
     "frame=02:00:00:00:00:01->ff:ff:ff:ff:ff:ff,type=0x0806",
     build_packet_out},
    {"flow_removed",
     "040b0040 00000000 0000000000000005 0064 00 00 0000000c 1dcd6500"
     " 000a 0000 0000000000000003 00000000000000b4"
     " 0001 000c 80000004 00000001 00000000",
     "flow_removed xid=0x0 reason=idle_timeout table=0 priority=100 "
     "cookie=0x5 duration=12.500000000s idle_timeout=10 packets=3 "
     "bytes=180 in_port=1",
     build_flow_removed},
    {"port_status",
     "040c0050 00000000 00 00000000000000"
     " 00000001 00000000 020000000001 0000 766d3100000000000000000000000000"
     " 00000000 00000004 00000000 00000000 00000000 00000000 00989680"
     " 00000000",
     "port_status xid=0x0 reason=add port=1 name=\"vm1\" "
     "hw_addr=02:00:00:00:00:01 config=0x0 state=0x4 speed=10000000/0",
     build_port_status},
    {"flow_stats_request",
     "04120040 00000011 0001 0000 00000000"
     " ff 000000 ffffffff ffffffff 00000000 0000000000000000"
     " 0000000000000000 0001 000c 80000004 00000001 00000000",
     "flow_stats_request xid=0x11 table=all in_port=1",
     build_flow_stats_request},
    {"flow_stats_reply",
     "041300a0 00000011 0001 0000 00000000"
     /* entry 1 */
     " 0058 00 00 00000005 00000000 0064 0000 0000 0000 00000000"
     " 0000000000000001 000000000000000a 0000000000000258"
     " 0001 000c 80000004 00000001 00000000"
     " 0004 0018 00000000 0000 0010 00000002 0000 000000000000"
     /* entry 2: empty match, no instructions */
     " 0038 01 00 00000001 00000001 0000 0000 0000 0000 00000000"
     " 0000000000000000 0000000000000000 0000000000000000"
     " 0001 0004 00000000",
     "flow_stats_reply xid=0x11 flows=2: {table=0 priority=100 cookie=0x1 "
     "duration=5.000000000s packets=10 bytes=600 in_port=1 "
     "actions=output:2}, {table=1 priority=0 duration=1.000000001s "
     "packets=0 bytes=0 actions=drop}",
     build_flow_stats_reply},
    {"aggregate_stats_request",
     "04120038 00000015 0002 0000 00000000"
     " 00 000000 ffffffff ffffffff 00000000 0000000000000000"
     " 0000000000000000 0001 0004 00000000",
     "aggregate_stats_request xid=0x15 table=0", build_aggregate_request},
    {"aggregate_stats_reply",
     "04130028 00000015 0002 0000 00000000 0000000000000064"
     " 0000000000001770 00000003 00000000",
     "aggregate_stats_reply xid=0x15 packets=100 bytes=6000 flows=3",
     build_aggregate_reply},
    {"port_stats_request",
     "04120018 00000012 0004 0000 00000000 ffffffff 00000000",
     "port_stats_request xid=0x12 port=ANY", build_port_stats_request},
    {"port_stats_reply",
     "04130080 00000012 0004 0000 00000000 00000001 00000000"
     " 0000000000000001 0000000000000002 0000000000000003 0000000000000004"
     " 0000000000000005 0000000000000006 0000000000000007 0000000000000008"
     " 0000000000000000 0000000000000000 0000000000000000 0000000000000000"
     " 00000009 0000000a",
     "port_stats_reply xid=0x12 ports=1: {port=1 rx_packets=1 tx_packets=2 "
     "rx_bytes=3 tx_bytes=4 rx_dropped=5 tx_dropped=6 rx_errors=7 "
     "tx_errors=8 duration=9.000000010s}",
     build_port_stats_reply},
    {"table_stats_reply",
     "04130028 00000016 0003 0000 00000000"
     " 00000000 00000003 0000000000000064 0000000000000050",
     "table_stats_reply xid=0x16 tables=1: {table=0 active=3 lookup=100 "
     "matched=80}",
     build_table_stats_reply},
    {"port_desc_request", "04120010 00000013 000d 0000 00000000",
     "port_desc_request xid=0x13", build_port_desc_request},
    {"port_desc_reply",
     "04130050 00000013 000d 0000 00000000"
     " fffffffe 00000000 020000000002 0000 62723000000000000000000000000000"
     " 00000001 00000001 00000000 00000000 00000000 00000000 00000000"
     " 00000000",
     "port_desc_reply xid=0x13 ports=1: {port=LOCAL name=\"br0\" "
     "hw_addr=02:00:00:00:00:02 config=0x1 state=0x1 speed=0/0}",
     build_port_desc_reply},
    {"desc_request", "04120010 00000014 0000 0000 00000000",
     "desc_request xid=0x14", build_desc_request},
    {"desc_reply", desc_reply_hex,
     "desc_reply xid=0x14 mfr=\"mignet\" hw=\"hw\" sw=\"0.1\" serial=\"42\" "
     "dp=\"br-int\"",
     build_desc_reply},
};

#define N_GOLDENS (sizeof goldens / sizeof *goldens)

/* decode(hex) prints the golden text. */
static void
test_golden_decode_print(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_GOLDENS; i++) {
        const struct golden *g = &goldens[i];
        struct ofpbuf b;
        struct ofp_msg *msg = new_msg(0, 0);
        print_message("golden %s\n", g->name);
        hex_to_buf(g->hex, &b);
        assert_int_equal(ofp_decode(b.data, b.size, msg), OFPERR_OK);
        char *text = ofp_msg_to_string(msg);
        assert_non_null(text);
        assert_string_equal(text, g->text);
        free(text);
        text = ofp_to_string(b.data, b.size);
        assert_string_equal(text, g->text);
        free(text);
        free_msg(msg);
        ofpbuf_uninit(&b);
    }
}

/* encode(build) == hex: the encoder writes what the spec lays out. */
static void
test_golden_encode(void **state)
{
    (void)state;
    size_t n_built = 0;
    for (size_t i = 0; i < N_GOLDENS; i++) {
        const struct golden *g = &goldens[i];
        if (!g->build) {
            continue;
        }
        print_message("golden %s\n", g->name);
        struct ofpbuf raw, out;
        ofpbuf_init(&raw, 64);
        ofpbuf_init(&out, 64);
        struct ofp_msg *msg = g->build(&raw);
        if (raw.size) {
            /* Built with the entry builders: those bytes must match too. */
            assert_buf_hex(&raw, g->hex);
        }
        assert_int_equal(ofp_encode(msg, &out), OFPERR_OK);
        assert_buf_hex(&out, g->hex);
        free_msg(msg);
        ofpbuf_uninit(&raw);
        ofpbuf_uninit(&out);
        n_built++;
    }
    assert_true(n_built >= N_GOLDENS - 5);
}

/* encode(decode(hex)) == hex, and decode is a fixed point. */
static void
test_golden_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_GOLDENS; i++) {
        const struct golden *g = &goldens[i];
        print_message("golden %s\n", g->name);
        struct ofpbuf b, out;
        struct ofp_msg *msg = new_msg(0, 0), *again = new_msg(0, 0);
        hex_to_buf(g->hex, &b);
        ofpbuf_init(&out, 64);
        assert_int_equal(ofp_decode(b.data, b.size, msg), OFPERR_OK);
        assert_int_equal(ofp_encode(msg, &out), OFPERR_OK);
        if (g->build) {
            assert_buf_hex(&out, g->hex);
        }
        /* Decode-only goldens re-encode canonically: same meaning. */
        assert_int_equal(ofp_decode(out.data, out.size, again), OFPERR_OK);
        char *t1 = ofp_msg_to_string(msg), *t2 = ofp_msg_to_string(again);
        assert_string_equal(t1, t2);
        free(t1);
        free(t2);
        free_msg(msg);
        free_msg(again);
        ofpbuf_uninit(&b);
        ofpbuf_uninit(&out);
    }
}

/* The flow text form parses back to the same bytes. */
static void
test_golden_flow_text(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < N_GOLDENS; i++) {
        const struct golden *g = &goldens[i];
        if (strncmp(g->text, "flow_mod xid=", 13) || !g->build) {
            continue; /* Not a flow, or not in the canonical encoding. */
        }
        print_message("golden %s\n", g->name);
        const char *body = strchr(g->text + 13, ' ');
        assert_non_null(body);
        unsigned long xid = strtoul(g->text + 13, NULL, 16);
        struct ofp_msg *msg = new_msg(OFPT_FLOW_MOD, (uint32_t)xid);
        char err[128] = "";
        assert_int_equal(
            ofp_parse_flow_mod(body + 1, &msg->flow_mod, err, sizeof err), 0);
        struct ofpbuf out;
        ofpbuf_init(&out, 64);
        assert_int_equal(ofp_encode(msg, &out), OFPERR_OK);
        assert_buf_hex(&out, g->hex);
        ofpbuf_uninit(&out);
        free_msg(msg);
        n++;
    }
    assert_int_equal(n, 5);
}

/* ---------------------------------------------------------------------- */
/* Malformed input.                                                        */

/* Fixed part of a flow_mod after the header: add, table 0, priority 100. */
#define FM "0000000000000000 0000000000000000 00 00 0000 0000 0064 " \
           "ffffffff ffffffff ffffffff 0000 0000 "
#define MATCH_IN_PORT1 "0001 000c 80000004 00000001 00000000 "
#define APPLY(LEN) "0004 " LEN " 00000000 "
#define OUTPUT2 "0000 0010 00000002 0000 000000000000 "

struct bad {
    const char *name;
    const char *type;    /* Header type byte as hex, or NULL for raw. */
    const char *body;    /* Body (or, raw, the whole message). */
    enum ofperr want;
};

static const struct bad bads[] = {
    /* Framing. */
    {"empty", NULL, "", OFPERR_OFPBRC_BAD_LEN},
    {"truncated header", NULL, "04 00 00", OFPERR_OFPBRC_BAD_LEN},
    {"header length below 8", NULL, "04020004 00000001",
     OFPERR_OFPBRC_BAD_LEN},
    {"header longer than input", NULL, "04020010 00000001",
     OFPERR_OFPBRC_BAD_LEN},
    {"header shorter than input", NULL, "04020008 00000001 00000000",
     OFPERR_OFPBRC_BAD_LEN},
    {"version 5", NULL, "05020008 00000001", OFPERR_OFPBRC_BAD_VERSION},
    {"version 1 features", NULL, "01050008 00000001",
     OFPERR_OFPBRC_BAD_VERSION},
    {"unknown type", "63", "", OFPERR_OFPBRC_BAD_TYPE},
    {"group_mod unsupported", "0f", "0000 00 00 00000001",
     OFPERR_OFPBRC_BAD_TYPE},
    {"experimenter message", "04", "00002320 00000000",
     OFPERR_OFPBRC_BAD_EXPERIMENTER},
    {"experimenter message short", "04", "00002320",
     OFPERR_OFPBRC_BAD_LEN},
    /* Fixed-size bodies. */
    {"features_request with body", "05", "00000000", OFPERR_OFPBRC_BAD_LEN},
    {"barrier_reply with body", "15", "00", OFPERR_OFPBRC_BAD_LEN},
    {"features_reply short", "06", "0000000000000abc 00000100",
     OFPERR_OFPBRC_BAD_LEN},
    {"set_config short", "09", "0000", OFPERR_OFPBRC_BAD_LEN},
    {"set_config bad flags", "09", "0010 ffff", OFPERR_OFPSCFC_BAD_FLAGS},
    {"error short", "01", "0001", OFPERR_OFPBRC_BAD_LEN},
    {"error experimenter short", "01", "ffff 0001 0000",
     OFPERR_OFPBRC_BAD_LEN},
    {"role short", "18", "00000002 00000000", OFPERR_OFPBRC_BAD_LEN},
    {"role bad", "18", "00000007 00000000 0000000000000000",
     OFPERR_OFPRRFC_BAD_ROLE},
    {"set_async short", "1c", "00000007 00000000 00000007 00000001 0000000f",
     OFPERR_OFPBRC_BAD_LEN},
    {"set_async long", "1c",
     "00000007 00000000 00000007 00000001 0000000f 00000000 00",
     OFPERR_OFPBRC_BAD_LEN},
    {"get_async_request with body", "1a", "00000000",
     OFPERR_OFPBRC_BAD_LEN},
    {"port_status short", "0c", "00 00000000000000 00000001",
     OFPERR_OFPBRC_BAD_LEN},
    /* Hello elements. */
    {"hello element length 0", "00", "0001 0000 00000010",
     OFPERR_OFPBRC_BAD_LEN},
    {"hello element overruns", "00", "0001 0010 00000010",
     OFPERR_OFPBRC_BAD_LEN},
    {"hello bitmap odd length", "00", "0001 0006 0000 0000",
     OFPERR_OFPBRC_BAD_LEN},
    {"hello element header cut", "00", "0001", OFPERR_OFPBRC_BAD_LEN},
    /* Flow mod fixed part and match. */
    {"flow_mod truncated", "0e", "0000000000000000 00000000",
     OFPERR_OFPBRC_BAD_LEN},
    {"flow_mod no match", "0e", FM, OFPERR_OFPBMC_BAD_LEN},
    {"match standard type", "0e", FM "0000 000c 80000004 00000001 00000000",
     OFPERR_OFPBMC_BAD_TYPE},
    {"match length below 4", "0e", FM "0001 0002 00000000",
     OFPERR_OFPBMC_BAD_LEN},
    {"match length overruns", "0e", FM "0001 00f0 80000004 00000001 00000000",
     OFPERR_OFPBMC_BAD_LEN},
    {"match padding missing", "0e", FM "0001 000c 80000004 00000001",
     OFPERR_OFPBMC_BAD_LEN},
    {"OXM payload overruns match", "0e",
     FM "0001 000c 80000008 00000001 00000000", OFPERR_OFPBMC_BAD_LEN},
    {"OXM header cut", "0e", FM "0001 0006 8000 0000", OFPERR_OFPBMC_BAD_LEN},
    {"OXM length wrong for field", "0e",
     FM "0001 000b 80000003 000001 00000000 00", OFPERR_OFPBMC_BAD_FIELD},
    {"OXM masked length wrong", "0e",
     FM "0001 000e 80001906 c6120000 ffff 0000",
     OFPERR_OFPBMC_BAD_FIELD},
    {"OXM unknown basic field", "0e",
     FM "0001 000c 80007e04 00000001 00000000", OFPERR_OFPBMC_BAD_FIELD},
    {"OXM NXM class in flow_mod", "0e",
     FM "0001 000c 00010004 00000001 00000000", OFPERR_OFPBMC_BAD_FIELD},
    {"OXM mask on in_port", "0e",
     FM "0001 0010 80000108 00000001 ffffffff", OFPERR_OFPBMC_BAD_MASK},
    {"OXM duplicate field", "0e",
     FM "0001 0014 80000004 00000001 80000004 00000002 00000000",
     OFPERR_OFPBMC_DUP_FIELD},
    {"OXM value outside mask", "0e",
     FM "0001 0010 80001908 c6120001 ffffff00", OFPERR_OFPBMC_BAD_WILDCARDS},
    {"OXM vlan_vid too big", "0e", FM "0001 000a 80000c02 2000 000000000000",
     OFPERR_OFPBMC_BAD_VALUE},
    /* Flow mod header fields. */
    {"flow_mod bad command", "0e",
     "0000000000000000 0000000000000000 00 09 0000 0000 0064 "
     "ffffffff ffffffff ffffffff 0000 0000 " MATCH_IN_PORT1,
     OFPERR_OFPFMFC_BAD_COMMAND},
    {"flow_mod bad flags", "0e",
     "0000000000000000 0000000000000000 00 00 0000 0000 0064 "
     "ffffffff ffffffff ffffffff 0f00 0000 " MATCH_IN_PORT1,
     OFPERR_OFPFMFC_BAD_FLAGS},
    {"flow_mod add to table all", "0e",
     "0000000000000000 0000000000000000 ff 00 0000 0000 0064 "
     "ffffffff ffffffff ffffffff 0000 0000 " MATCH_IN_PORT1,
     OFPERR_OFPFMFC_BAD_TABLE_ID},
    /* Instructions. */
    {"instruction length not multiple of 8", "0e",
     FM MATCH_IN_PORT1 APPLY("0014") OUTPUT2, OFPERR_OFPBIC_BAD_LEN},
    {"instruction length 4", "0e", FM MATCH_IN_PORT1 "0004 0004 00000000",
     OFPERR_OFPBIC_BAD_LEN},
    {"instruction length 0", "0e", FM MATCH_IN_PORT1 "0004 0000 00000000",
     OFPERR_OFPBIC_BAD_LEN},
    {"instruction overruns", "0e", FM MATCH_IN_PORT1 APPLY("0020") OUTPUT2,
     OFPERR_OFPBIC_BAD_LEN},
    {"instruction header cut", "0e", FM MATCH_IN_PORT1 "0004",
     OFPERR_OFPBIC_BAD_LEN},
    {"unknown instruction", "0e", FM MATCH_IN_PORT1 "0009 0008 00000000",
     OFPERR_OFPBIC_UNKNOWN_INST},
    {"experimenter instruction", "0e",
     FM MATCH_IN_PORT1 "ffff 0008 00002320", OFPERR_OFPBIC_BAD_EXPERIMENTER},
    {"meter instruction", "0e", FM MATCH_IN_PORT1 "0006 0008 00000001",
     OFPERR_OFPBIC_UNSUP_INST},
    {"duplicate instruction", "0e",
     FM MATCH_IN_PORT1 "0005 0008 00000000 0005 0008 00000000",
     OFPERR_OFPBIC_UNSUP_INST},
    {"goto_table backwards", "0e",
     "0000000000000000 0000000000000000 05 00 0000 0000 0064 "
     "ffffffff ffffffff ffffffff 0000 0000 " MATCH_IN_PORT1
     "0001 0008 03000000",
     OFPERR_OFPBIC_BAD_TABLE_ID},
    {"goto_table length 16", "0e",
     FM MATCH_IN_PORT1 "0001 0010 03000000 00000000", OFPERR_OFPBIC_BAD_LEN},
    {"write_metadata short", "0e",
     FM MATCH_IN_PORT1 "0002 0010 00000000 0000000000000001",
     OFPERR_OFPBIC_BAD_LEN},
    {"write_metadata value outside mask", "0e",
     FM MATCH_IN_PORT1
     "0002 0018 00000000 0000000000000100 00000000000000ff",
     OFPERR_OFPBIC_UNSUP_METADATA},
    {"clear_actions with body", "0e",
     FM MATCH_IN_PORT1 "0005 0010 00000000 0012 0008 00000000",
     OFPERR_OFPBIC_BAD_LEN},
    /* Actions. */
    {"action length not multiple of 8", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0000 000c 00000002 ffe5 000000000000",
     OFPERR_OFPBAC_BAD_LEN},
    {"action length 0", "0e",
     FM MATCH_IN_PORT1 APPLY("0010") "0012 0000 00000000",
     OFPERR_OFPBAC_BAD_LEN},
    {"action overruns instruction", "0e",
     FM MATCH_IN_PORT1 APPLY("0010") "0000 0010 00000002 0000 000000000000",
     OFPERR_OFPBAC_BAD_LEN},
    {"output length 24", "0e",
     FM MATCH_IN_PORT1 APPLY("0020")
     "0000 0018 00000002 0000 000000000000 0000000000000000",
     OFPERR_OFPBAC_BAD_LEN},
    {"unknown action", "0e", FM MATCH_IN_PORT1 APPLY("0018")
     "0077 0010 00000002 0000 000000000000", OFPERR_OFPBAC_BAD_TYPE},
    {"unsupported action copy_ttl_out", "0e",
     FM MATCH_IN_PORT1 APPLY("0010") "000b 0008 00000000",
     OFPERR_OFPBAC_BAD_TYPE},
    {"experimenter action unknown vendor", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "ffff 0010 00001234 0006 000000000000",
     OFPERR_OFPBAC_BAD_EXPERIMENTER},
    {"experimenter action short", "0e",
     FM MATCH_IN_PORT1 APPLY("0010") "ffff 0008 00002320",
     OFPERR_OFPBAC_BAD_LEN},
    {"NX action unknown subtype", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "ffff 0010 00002320 00ff 000000000000",
     OFPERR_OFPBAC_BAD_EXP_TYPE},
    {"NX move wrong length", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "ffff 0010 00002320 0006 003000000000",
     OFPERR_OFPBAC_BAD_LEN},
    {"NX move past field end", "0e",
     FM MATCH_IN_PORT1 APPLY("0020")
     "ffff 0018 00002320 0006 0030 0008 0000 80000806 80000606",
     OFPERR_OFPBAC_BAD_ARGUMENT},
    {"NX move unknown field", "0e",
     FM MATCH_IN_PORT1 APPLY("0020")
     "ffff 0018 00002320 0006 0010 0000 0000 00010004 80000606",
     OFPERR_OFPBAC_BAD_ARGUMENT},
    {"set_field unknown field", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0019 0010 80007e04 00000005 00000000",
     OFPERR_OFPBAC_BAD_SET_TYPE},
    {"set_field OXM length wrong", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0019 0010 80004c04 00000005 00000000",
     OFPERR_OFPBAC_BAD_SET_LEN},
    {"set_field action too long", "0e",
     FM MATCH_IN_PORT1 APPLY("0020")
     "0019 0018 80000c02 1005 000000000000 0000000000000000",
     OFPERR_OFPBAC_BAD_SET_LEN},
    {"set_field masked", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0019 0010 80000d04 1005 1fff 00000000",
     OFPERR_OFPBAC_BAD_SET_ARGUMENT},
    {"set_field nonzero padding", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0019 0010 80000c02 1005 0000000000ff",
     OFPERR_OFPBAC_BAD_SET_ARGUMENT},
    {"output to port 0", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0000 0010 00000000 0000 000000000000",
     OFPERR_OFPBAC_BAD_OUT_PORT},
    {"output to ANY", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0000 0010 ffffffff 0000 000000000000",
     OFPERR_OFPBAC_BAD_OUT_PORT},
    {"group ALL", "0e", FM MATCH_IN_PORT1 APPLY("0010") "0016 0008 fffffffc",
     OFPERR_OFPBAC_BAD_OUT_GROUP},
    {"push_vlan of IPv4", "0e",
     FM MATCH_IN_PORT1 APPLY("0010") "0011 0008 0800 0000",
     OFPERR_OFPBAC_BAD_ARGUMENT},
    {"pop_vlan length 16", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0012 0010 00000000 0000000000000000",
     OFPERR_OFPBAC_BAD_LEN},
    /* Consistency, checked as Open vSwitch checks it. */
    {"match prerequisite missing", "0e",
     FM "0001 000c 80001804 c6120001 00000000", OFPERR_OFPBMC_BAD_PREREQ},
    {"vlan_pcp without vlan", "0e", FM "0001 0009 80000e01 03 00000000000000",
     OFPERR_OFPBMC_BAD_PREREQ},
    {"ip_dscp without ip", "0e", FM "0001 0009 80001001 2e 00000000000000",
     OFPERR_OFPBMC_BAD_PREREQ},
    {"ip_dscp above 63", "0e", FM "0001 000f 80000a02 0800 80001001 40 00",
     OFPERR_OFPBMC_BAD_VALUE},
    {"ip_ecn above 3", "0e", FM "0001 000f 80000a02 0800 80001201 04 00",
     OFPERR_OFPBMC_BAD_VALUE},
    {"set_field ipv4_dst without ip", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0019 0010 80001804 c6120001 00000000",
     OFPERR_OFPBAC_MATCH_INCONSISTENT},
    {"pop_vlan of untagged", "0e",
     FM MATCH_IN_PORT1 APPLY("0010") "0012 0008 00000000",
     OFPERR_OFPBAC_MATCH_INCONSISTENT},
    {"dec_ttl without ip", "0e",
     FM MATCH_IN_PORT1 APPLY("0010") "0018 0008 00000000",
     OFPERR_OFPBAC_MATCH_INCONSISTENT},
    {"write_actions set arp_op without arp", "0e",
     FM MATCH_IN_PORT1 "0003 0018 00000000"
     "0019 0010 80002a02 0002 000000000000",
     OFPERR_OFPBAC_MATCH_INCONSISTENT},
    {"set_field vlan_vid without present bit", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0019 0010 80000c02 0005 000000000000",
     OFPERR_OFPBAC_BAD_SET_ARGUMENT},
    {"set_field eth_type", "0e",
     FM MATCH_IN_PORT1 APPLY("0018") "0019 0010 80000a02 0800 000000000000",
     OFPERR_OFPBAC_BAD_SET_ARGUMENT},
    /* Packet in / out. */
    {"packet_in missing pad", "0a",
     "ffffffff 0010 01 00 0000000000000001 " MATCH_IN_PORT1,
     OFPERR_OFPBRC_BAD_LEN},
    {"packet_in short", "0a", "ffffffff 0010", OFPERR_OFPBRC_BAD_LEN},
    {"packet_out actions_len overruns", "0d",
     "ffffffff fffffffd 0020 000000000000 " OUTPUT2, OFPERR_OFPBRC_BAD_LEN},
    {"packet_out action length odd", "0d",
     "ffffffff fffffffd 0010 000000000000 "
     "0000 000c 00000001 0000 000000000000",
     OFPERR_OFPBAC_BAD_LEN},
    {"flow_removed trailing bytes", "0b",
     "0000000000000005 0064 00 00 0000000c 1dcd6500 000a 0000"
     " 0000000000000003 00000000000000b4 " MATCH_IN_PORT1 "00000000 00000000",
     OFPERR_OFPBRC_BAD_LEN},
    /* Multipart. */
    {"multipart short", "12", "0001 0000", OFPERR_OFPBRC_BAD_LEN},
    {"multipart unknown request", "12", "0005 0000 00000000",
     OFPERR_OFPBRC_BAD_MULTIPART},
    {"multipart table request with a body", "12",
     "0003 0000 00000000 00000000", OFPERR_OFPBRC_BAD_LEN},
    {"multipart experimenter", "12",
     "ffff 0000 00000000 00002320 00000000",
     OFPERR_OFPBRC_BAD_EXPERIMENTER},
    {"desc request with body", "12", "0000 0000 00000000 00000000",
     OFPERR_OFPBRC_BAD_LEN},
    {"port stats request short", "12", "0004 0000 00000000 ffffffff",
     OFPERR_OFPBRC_BAD_LEN},
    {"flow stats request trailing", "12",
     "0001 0000 00000000 ff 000000 ffffffff ffffffff 00000000"
     " 0000000000000000 0000000000000000 " MATCH_IN_PORT1 "0000000000000000",
     OFPERR_OFPBRC_BAD_LEN},
    {"flow stats entry length 0", "13",
     "0001 0000 00000000 0000 00 00 00000005 00000000 0064 0000 0000 0000"
     " 00000000 0000000000000001 000000000000000a 0000000000000258"
     " 0001 0004 00000000",
     OFPERR_OFPBRC_BAD_LEN},
    {"flow stats entry overruns", "13",
     "0001 0000 00000000 0040 00 00 00000005 00000000 0064 0000 0000 0000"
     " 00000000 0000000000000001 000000000000000a 0000000000000258"
     " 0001 0004 00000000",
     OFPERR_OFPBRC_BAD_LEN},
    {"flow stats entry header cut", "13", "0001 0000 00000000 0038 00 00",
     OFPERR_OFPBRC_BAD_LEN},
    {"flow stats entry bad instruction", "13",
     "0001 0000 00000000 0040 00 00 00000005 00000000 0064 0000 0000 0000"
     " 00000000 0000000000000001 000000000000000a 0000000000000258"
     " 0001 0004 00000000 0009 0008 00000000",
     OFPERR_OFPBIC_UNKNOWN_INST},
    {"port stats reply partial entry", "13",
     "0004 0000 00000000 00000001 00000000 0000000000000001",
     OFPERR_OFPBRC_BAD_LEN},
    {"port desc reply partial entry", "13",
     "000d 0000 00000000 00000001 00000000", OFPERR_OFPBRC_BAD_LEN},
    {"desc reply short", "13", "0000 0000 00000000 6d69676e6574",
     OFPERR_OFPBRC_BAD_LEN},
    {"aggregate reply short", "13", "0002 0000 00000000 0000000000000064",
     OFPERR_OFPBRC_BAD_LEN},
    {"unknown multipart reply", "13", "0005 0000 00000000",
     OFPERR_OFPBRC_BAD_MULTIPART},
};

/* Builds the message of a 'bad' case, computing the header length. */
static void
build_bad(const struct bad *bc, struct ofpbuf *b)
{
    ofpbuf_init(b, 64);
    if (!bc->type) {
        assert_true(ofpbuf_put_hex(b, bc->body));
        return;
    }
    char head[32];
    snprintf(head, sizeof head, "04%s 0000 00000001", bc->type);
    assert_true(ofpbuf_put_hex(b, head));
    assert_true(ofpbuf_put_hex(b, bc->body));
    b->data[2] = (uint8_t)(b->size >> 8);
    b->data[3] = (uint8_t)b->size;
}

static void
test_malformed(void **state)
{
    (void)state;
    struct ofp_msg *msg = new_msg(0, 0);
    for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
        const struct bad *bc = &bads[i];
        struct ofpbuf b;
        print_message("bad: %s\n", bc->name);
        build_bad(bc, &b);
        enum ofperr err = ofp_decode(b.data, b.size, msg);
        if (err != bc->want) {
            print_error("%s: got %s, want %s\n", bc->name, ofperr_name(err),
                        ofperr_name(bc->want));
        }
        assert_int_equal(err, bc->want);
        /* No partial results survive an error. */
        if (b.size >= 8) {
            assert_int_equal(msg->xid, ofp_ntoh32(*(ofp_be32 *)(b.data + 4)));
            assert_int_equal(msg->type, b.data[1]);
        }
        assert_int_equal(msg->flow_mod.match.present, 0);
        assert_null(msg->packet_in.data);
        char *s = ofp_to_string(b.data, b.size);
        assert_non_null(s);
        assert_non_null(strstr(s, ofperr_name(bc->want)));
        free(s);
        ofpbuf_uninit(&b);
    }
    free_msg(msg);
}

/* Every strict prefix of every golden is refused as BAD_LEN (the header
 * length no longer matches), and with the length patched to fit, decoding
 * the cut message fails or succeeds without reading past it (checked by
 * the sanitizer build and valgrind). */
static void
test_truncations(void **state)
{
    (void)state;
    struct ofp_msg *msg = new_msg(0, 0);
    for (size_t i = 0; i < N_GOLDENS; i++) {
        struct ofpbuf b;
        hex_to_buf(goldens[i].hex, &b);
        for (size_t len = 0; len < b.size; len++) {
            /* An exact-size copy so that reads past 'len' are caught. */
            uint8_t *cut = malloc(len ? len : 1);
            assert_non_null(cut);
            memcpy(cut, b.data, len);
            assert_int_equal(ofp_decode(cut, len, msg), OFPERR_OFPBRC_BAD_LEN);
            if (len >= 8) {
                cut[2] = (uint8_t)(len >> 8);
                cut[3] = (uint8_t)len;
                enum ofperr err = ofp_decode(cut, len, msg);
                ofp_msg_destroy(msg);
                char *s = ofp_to_string(cut, len);
                assert_non_null(s);
                if (err) {
                    assert_non_null(strstr(s, ofperr_name(err)));
                }
                free(s);
            }
            free(cut);
        }
        ofpbuf_uninit(&b);
    }
    free_msg(msg);
}

/* A flow of 'n' actions of every kind (n > 32, the old fixed limit). */
static void
build_long_flow(struct ofp_flow_mod *fm, size_t n)
{
    ofp_flow_mod_init(fm, OFPFC_ADD);
    fm->priority = 7;
    ofp_match_set(&fm->match, OFP_F_ETH_TYPE, 0x0800);
    struct ofp_actions *a = ofp_instructions_apply(&fm->insts);
    for (size_t i = 0; i < n; i++) {
        switch (i % 4) {
        case 0:
            assert_int_equal(ofp_actions_output(a, (uint32_t)(i + 1)), 0);
            break;
        case 1:
            assert_int_equal(
                ofp_actions_set_field(a, OFP_F_IPV4_DST, 0xc6120000 + i), 0);
            break;
        case 2:
            assert_int_equal(ofp_actions_move(a, OFP_F_ETH_SRC, 0,
                                              OFP_F_ETH_DST, 0, 48), 0);
            break;
        default:
            assert_int_equal(ofp_actions_dec_nw_ttl(a), 0);
            break;
        }
    }
    fm->insts.present |= OFP_INST_WRITE;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ofp_actions_group(&fm->insts.write, (uint32_t)i), 0);
    }
}

/* More than 32 actions survive encode/decode, print/parse and copy; the
 * decoder allocates exactly what the message holds. */
static void
test_many_actions(void **state)
{
    (void)state;
    static const size_t sizes[] = {33, 100, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 9);
        build_long_flow(&m->flow_mod, n);
        assert_int_equal(m->flow_mod.insts.apply.n, n);
        struct ofpbuf b;
        ofpbuf_init(&b, 64);
        assert_int_equal(ofp_encode(m, &b), OFPERR_OK);
        assert_int_equal(b.size, ofp_flow_mod_len(&m->flow_mod.match,
                                                  &m->flow_mod.insts));

        struct ofp_msg *back = new_msg(0, 0);
        assert_int_equal(ofp_decode(b.data, b.size, back), OFPERR_OK);
        assert_int_equal(back->flow_mod.insts.apply.n, n);
        assert_int_equal(back->flow_mod.insts.apply.allocated, n);
        assert_int_equal(back->flow_mod.insts.write.allocated, n);
        assert_true(ofp_instructions_equal(&m->flow_mod.insts,
                                           &back->flow_mod.insts));

        /* Text: what is printed parses back to the same flow. */
        char *text = ofp_instructions_to_string(&back->flow_mod.insts);
        assert_non_null(text);
        char *match = ofp_match_to_string(&back->flow_mod.match);
        assert_non_null(match);
        size_t len = strlen(text) + strlen(match) + 64;
        char *line = malloc(len);
        assert_non_null(line);
        snprintf(line, len, "add priority=7 %s %s", match, text);
        struct ofp_msg *parsed = new_msg(OFPT_FLOW_MOD, 9);
        char err[128];
        assert_int_equal(
            ofp_parse_flow_mod(line, &parsed->flow_mod, err, sizeof err), 0);
        assert_true(ofp_instructions_equal(&m->flow_mod.insts,
                                           &parsed->flow_mod.insts));

        /* Copies are deep: changing one leaves the other. */
        struct ofp_instructions copy;
        ofp_instructions_init(&copy);
        ofp_instructions_copy(&copy, &back->flow_mod.insts);
        free_msg(back);
        assert_true(ofp_instructions_equal(&copy, &m->flow_mod.insts));
        copy.apply.a[0].output.port = 4242;
        assert_false(ofp_instructions_equal(&copy, &m->flow_mod.insts));
        ofp_instructions_destroy(&copy);
        ofp_instructions_destroy(&copy); /* Destroy leaves it empty. */
        assert_null(copy.apply.a);

        free(text);
        free(match);
        free(line);
        free_msg(parsed);
        free_msg(m);
        ofpbuf_uninit(&b);
    }
}

/* The most output actions one flow_mod holds encode; one more is refused
 * with nothing appended, and the builder stops at OFP_MAX_ACTIONS. */
static void
test_actions_message_limit(void **state)
{
    (void)state;
    struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 1);
    struct ofp_actions *a = ofp_instructions_apply(&m->flow_mod.insts);
    /* 48 fixed + 8 empty match + 8 instruction header + 16 per output. */
    size_t fit = (UINT16_MAX - 48 - 8 - 8) / 16;
    for (size_t i = 0; i < fit; i++) {
        assert_int_equal(ofp_actions_output(a, 1), 0);
    }
    assert_true(ofp_flow_mod_len(&m->flow_mod.match, &m->flow_mod.insts)
                <= UINT16_MAX);
    assert_true(ofp_flow_fits(&m->flow_mod.match, &m->flow_mod.insts));
    struct ofpbuf b;
    ofpbuf_init(&b, 64);
    assert_int_equal(ofp_encode(m, &b), OFPERR_OK);
    struct ofp_msg *back = new_msg(0, 0);
    assert_int_equal(ofp_decode(b.data, b.size, back), OFPERR_OK);
    assert_int_equal(back->flow_mod.insts.apply.n, fit);
    free_msg(back);

    assert_int_equal(ofp_actions_output(a, 1), 0);
    assert_true(ofp_flow_mod_len(&m->flow_mod.match, &m->flow_mod.insts)
                > UINT16_MAX);
    assert_false(ofp_flow_fits(&m->flow_mod.match, &m->flow_mod.insts));
    ofpbuf_clear(&b);
    assert_int_equal(ofp_encode(m, &b), OFPERR_OFPBRC_BAD_LEN);
    assert_int_equal(b.size, 0);

    /* The builder refuses past what any message could hold. */
    while (a->n < OFP_MAX_ACTIONS) {
        assert_int_equal(ofp_actions_pop_vlan(a), 0);
    }
    assert_int_equal(ofp_actions_pop_vlan(a), OFPERR_OFPBAC_TOO_MANY);
    assert_int_equal(ofp_actions_output(a, 1), OFPERR_OFPBAC_TOO_MANY);
    assert_int_equal(a->n, OFP_MAX_ACTIONS);
    assert_true(a->allocated <= OFP_MAX_ACTIONS);
    free_msg(m);
    ofpbuf_uninit(&b);
}

/* An action list longer than its message allows is refused, and the
 * decoded message owns nothing afterwards. */
static void
test_actions_exceed_message(void **state)
{
    (void)state;
    struct ofp_msg *msg = new_msg(0, 0);
    struct ofpbuf b;

    /* Apply-actions claims 40 bytes (4 outputs... 2 and a half) in a
     * message that carries 24 after its header. */
    hex_to_buf("040e0000 00000001 " FM MATCH_IN_PORT1
               "0004 0028 00000000 0000 0010 00000002 ffff 000000000000",
               &b);
    b.data[2] = (uint8_t)(b.size >> 8);
    b.data[3] = (uint8_t)b.size;
    assert_int_equal(ofp_decode(b.data, b.size, msg), OFPERR_OFPBIC_BAD_LEN);
    assert_null(msg->flow_mod.insts.apply.a);
    ofpbuf_uninit(&b);

    /* The second action's own length runs past its instruction. */
    hex_to_buf("040e0000 00000001 " FM MATCH_IN_PORT1
               "0004 0020 00000000 0000 0010 00000002 ffff 000000000000"
               "0000 0010 00000003",
               &b);
    b.data[2] = (uint8_t)(b.size >> 8);
    b.data[3] = (uint8_t)b.size;
    assert_int_equal(ofp_decode(b.data, b.size, msg), OFPERR_OFPBAC_BAD_LEN);
    assert_null(msg->flow_mod.insts.apply.a);
    ofpbuf_uninit(&b);

    /* A packet_out whose actions_len exceeds the message. */
    hex_to_buf("040d0000 00000002 ffffffff fffffffd 0020 000000000000"
               "0000 0010 00000001 ffff 000000000000",
               &b);
    b.data[2] = (uint8_t)(b.size >> 8);
    b.data[3] = (uint8_t)b.size;
    assert_int_equal(ofp_decode(b.data, b.size, msg), OFPERR_OFPBRC_BAD_LEN);
    assert_null(msg->packet_out.actions.a);
    /* With the right length it decodes: the case above was the length. */
    b.data[8 + 8 + 1] = 0x10;
    assert_int_equal(ofp_decode(b.data, b.size, msg), OFPERR_OK);
    assert_int_equal(msg->packet_out.actions.n, 1);
    assert_int_equal(msg->packet_out.actions.allocated, 1);
    ofpbuf_uninit(&b);
    free_msg(msg);
}

/* ---------------------------------------------------------------------- */
/* Encoder refusals: nothing is appended.                                  */

static void
assert_encode_fails(const struct ofp_msg *msg, enum ofperr want)
{
    struct ofpbuf out;
    ofpbuf_init(&out, 16);
    ofpbuf_put_hex(&out, "abcd");
    assert_int_equal(ofp_encode(msg, &out), want);
    assert_int_equal(out.size, 2);
    ofpbuf_uninit(&out);
}

static void
test_encode_errors(void **state)
{
    (void)state;
    struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 1);
    struct ofp_actions *a = ofp_instructions_apply(&m->flow_mod.insts);

    ofp_actions_output(a, 0);
    assert_encode_fails(m, OFPERR_OFPBAC_BAD_OUT_PORT);

    a->n = 0;
    ofp_actions_push_vlan(a, 0x0800);
    assert_encode_fails(m, OFPERR_OFPBAC_BAD_ARGUMENT);

    a->n = 0;
    ofp_actions_move(a, OFP_F_ETH_SRC, 8, OFP_F_ETH_DST, 0, 48);
    assert_encode_fails(m, OFPERR_OFPBAC_BAD_ARGUMENT);

    a->n = 0;
    assert_int_equal(ofp_actions_set_field(a, OFP_F_VLAN_PCP, 8),
                     OFPERR_OFPBAC_BAD_SET_ARGUMENT);
    assert_int_equal(a->n, 0);

    ofp_match_set_masked(&m->flow_mod.match, OFP_F_IN_PORT, 1, 0xff);
    assert_encode_fails(m, OFPERR_OFPBMC_BAD_MASK);
    ofp_match_init(&m->flow_mod.match);

    m->flow_mod.match.present = UINT32_C(1) << OFP_F_IPV4_DST;
    m->flow_mod.match.masked = UINT32_C(1) << OFP_F_IPV4_DST;
    m->flow_mod.match.value[OFP_F_IPV4_DST] = 0xc6120001;
    m->flow_mod.match.mask[OFP_F_IPV4_DST] = 0xffffff00;
    assert_encode_fails(m, OFPERR_OFPBMC_BAD_WILDCARDS);
    ofp_match_init(&m->flow_mod.match);

    m->flow_mod.table_id = 3;
    m->flow_mod.insts.present |= OFP_INST_GOTO;
    m->flow_mod.insts.goto_table = 3;
    assert_encode_fails(m, OFPERR_OFPBIC_BAD_TABLE_ID);
    m->flow_mod.insts.goto_table = 4;

    m->flow_mod.table_id = OFPTT_ALL;
    assert_encode_fails(m, OFPERR_OFPFMFC_BAD_TABLE_ID);
    m->flow_mod.table_id = 0;

    m->flow_mod.command = 7;
    assert_encode_fails(m, OFPERR_OFPFMFC_BAD_COMMAND);
    m->flow_mod.command = OFPFC_ADD;

    m->flow_mod.flags = 0x20;
    assert_encode_fails(m, OFPERR_OFPFMFC_BAD_FLAGS);
    m->flow_mod.flags = 0;

    struct ofpbuf out;
    ofpbuf_init(&out, 16);
    assert_int_equal(ofp_encode(m, &out), OFPERR_OK);
    ofpbuf_uninit(&out);

    /* Too big for the 16-bit length. */
    static uint8_t big[70000];
    ofp_msg_destroy(m);
    ofp_msg_init(m, OFPT_PACKET_OUT, 2);
    m->packet_out.data = big;
    m->packet_out.data_len = sizeof big;
    assert_encode_fails(m, OFPERR_OFPBRC_BAD_LEN);
    m->packet_out.data_len = 65535 - 24;
    ofpbuf_init(&out, 16);
    assert_int_equal(ofp_encode(m, &out), OFPERR_OK);
    assert_int_equal(out.size, 65535);
    ofpbuf_uninit(&out);

    ofp_msg_init(m, OFPT_GROUP_MOD, 3);
    assert_encode_fails(m, OFPERR_OFPBRC_BAD_TYPE);
    ofp_msg_init(m, OFPT_ROLE_REQUEST, 3);
    m->role.role = 9;
    assert_encode_fails(m, OFPERR_OFPRRFC_BAD_ROLE);
    ofp_msg_init(m, OFPT_MULTIPART_REQUEST, 3);
    m->mp.type = OFPMP_QUEUE;
    assert_encode_fails(m, OFPERR_OFPBRC_BAD_MULTIPART);
    free_msg(m);
}

/* ip_dscp and ip_ecn (what ovs-testcontroller's exact-match flows carry
 * for IPv4): text, wire and back. */
static void
test_ip_dscp_ecn(void **state)
{
    (void)state;
    struct ofp_msg *m = new_msg(OFPT_FLOW_MOD, 4);
    char err[128];
    assert_int_equal(ofp_parse_flow_mod("add priority=1 eth_type=0x0800,"
                                        "ip_dscp=46,nw_ecn=1 actions=output:1",
                                        &m->flow_mod, err, sizeof err),
                     0);
    uint64_t v;
    assert_true(ofp_match_get(&m->flow_mod.match, OFP_F_IP_DSCP, &v, NULL));
    assert_int_equal(v, 46);
    assert_true(ofp_match_get(&m->flow_mod.match, OFP_F_IP_ECN, &v, NULL));
    assert_int_equal(v, 1);
    struct ofpbuf b;
    ofpbuf_init(&b, 64);
    assert_int_equal(ofp_encode(m, &b), OFPERR_OK);
    struct ofp_msg *back = new_msg(0, 0);
    assert_int_equal(ofp_decode(b.data, b.size, back), OFPERR_OK);
    assert_true(ofp_match_equal(&m->flow_mod.match, &back->flow_mod.match));
    char *text = ofp_match_to_string(&back->flow_mod.match);
    assert_string_equal(text, "eth_type=0x0800,ip_dscp=46,ip_ecn=1");
    free(text);
    ofpbuf_uninit(&b);
    free_msg(back);
    free_msg(m);
}

static void
test_encode_error_quotes_64_bytes(void **state)
{
    (void)state;
    uint8_t req[100];
    for (size_t i = 0; i < sizeof req; i++) {
        req[i] = (uint8_t)i;
    }
    struct ofpbuf out;
    ofpbuf_init(&out, 16);
    ofp_encode_error(&out, 7, OFPERR_OFPBMC_BAD_FIELD, req, sizeof req);
    assert_int_equal(out.size, 12 + 64);
    struct ofp_msg *msg = new_msg(0, 0);
    assert_int_equal(ofp_decode(out.data, out.size, msg), OFPERR_OK);
    assert_int_equal(msg->type, OFPT_ERROR);
    assert_int_equal(msg->xid, 7);
    assert_int_equal(msg->error.type, OFPET_BAD_MATCH);
    assert_int_equal(msg->error.code, 6);
    assert_int_equal(msg->error.data_len, 64);
    assert_memory_equal(msg->error.data, req, 64);
    assert_int_equal(ofperr_from_wire(msg->error.type, msg->error.code),
                     OFPERR_OFPBMC_BAD_FIELD);
    free_msg(msg);
    ofpbuf_uninit(&out);
}

/* ---------------------------------------------------------------------- */
/* Hello negotiation and framing.                                          */

static void
test_hello_negotiate(void **state)
{
    (void)state;
    uint32_t of13 = 1u << 4;
    uint32_t of10_13 = (1u << 1) | (1u << 4);
    struct ofp_hello h = {.version = 4, .has_bitmap = true, .bitmap = of13};
    assert_int_equal(ofp_hello_negotiate(&h, of13), 4);
    h.bitmap = (1u << 1) | (1u << 6); /* 1.0 and 1.5 */
    assert_int_equal(ofp_hello_negotiate(&h, of13), 0);
    assert_int_equal(ofp_hello_negotiate(&h, of10_13), 1);
    h.bitmap = 0x7e; /* 1.0 - 1.5 */
    assert_int_equal(ofp_hello_negotiate(&h, of10_13), 4);
    /* No bitmap: the lower of the two versions, if both support it. */
    h = (struct ofp_hello){.version = 6};
    assert_int_equal(ofp_hello_negotiate(&h, of13), 4);
    h.version = 1;
    assert_int_equal(ofp_hello_negotiate(&h, of13), 0);
    assert_int_equal(ofp_hello_negotiate(&h, of10_13), 1);
    h.version = 3;
    assert_int_equal(ofp_hello_negotiate(&h, of10_13), 0);
    h.version = 0;
    assert_int_equal(ofp_hello_negotiate(&h, of13 | 1u), 0);
}

static void
test_frame(void **state)
{
    (void)state;
    struct ofpbuf b;
    hex_to_buf("0402000c 00000004 61626364 0403", &b);
    size_t len = 99;
    assert_int_equal(ofp_frame(b.data, 7, &len), OFPERR_OK);
    assert_int_equal(len, 0);
    assert_int_equal(ofp_frame(b.data, 11, &len), OFPERR_OK);
    assert_int_equal(len, 0);
    assert_int_equal(ofp_frame(b.data, 12, &len), OFPERR_OK);
    assert_int_equal(len, 12);
    assert_int_equal(ofp_frame(b.data, b.size, &len), OFPERR_OK);
    assert_int_equal(len, 12);
    b.data[3] = 4;
    assert_int_equal(ofp_frame(b.data, b.size, &len), OFPERR_OFPBRC_BAD_LEN);
    ofpbuf_uninit(&b);
}

/* ---------------------------------------------------------------------- */
/* Match helpers, text parser, iterators, errors, buffer.                  */

static void
test_match_helpers(void **state)
{
    (void)state;
    struct ofp_match m, n;
    uint64_t v, mask;
    ofp_match_init(&m);
    assert_false(ofp_match_get(&m, OFP_F_ETH_DST, &v, &mask));
    ofp_match_set_masked(&m, OFP_F_IPV4_DST, 0xc6120001, 0xffff0000);
    assert_true(ofp_match_get(&m, OFP_F_IPV4_DST, &v, &mask));
    assert_int_equal(v, 0xc6120000); /* Bits outside the mask dropped. */
    assert_int_equal(mask, 0xffff0000);
    assert_true(m.masked & (UINT32_C(1) << OFP_F_IPV4_DST));
    ofp_match_set_masked(&m, OFP_F_IPV4_DST, 0xc6120001, UINT64_MAX);
    assert_false(m.masked & (UINT32_C(1) << OFP_F_IPV4_DST));
    ofp_match_set_masked(&m, OFP_F_IPV4_DST, 1, 0);
    assert_false(ofp_match_get(&m, OFP_F_IPV4_DST, NULL, NULL));
    assert_int_equal(m.present, 0);

    ofp_match_init(&n);
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0800);
    assert_false(ofp_match_equal(&m, &n));
    ofp_match_set(&n, OFP_F_ETH_TYPE, 0x0800);
    assert_true(ofp_match_equal(&m, &n));

    /* Prerequisites. */
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_IPV4_DST, 1);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OFPBMC_BAD_PREREQ);
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0806);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OFPBMC_BAD_PREREQ);
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0800);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OK);
    ofp_match_set(&m, OFP_F_UDP_DST, 4789);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OFPBMC_BAD_PREREQ);
    ofp_match_set(&m, OFP_F_IP_PROTO, 6);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OFPBMC_BAD_PREREQ);
    ofp_match_set(&m, OFP_F_IP_PROTO, 17);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OK);
    ofp_match_init(&m);
    ofp_match_set(&m, OFP_F_ARP_TPA, 1);
    ofp_match_set(&m, OFP_F_ETH_TYPE, 0x0806);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OK);
    ofp_match_set(&m, OFP_F_VLAN_PCP, 3);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OFPBMC_BAD_PREREQ);
    ofp_match_set(&m, OFP_F_VLAN_VID, OFPVID_PRESENT | 5);
    assert_int_equal(ofp_match_check_prereqs(&m), OFPERR_OK);

    uint8_t mac[6];
    ofp_eth_from_u64(0x0123456789ab, mac);
    assert_int_equal(mac[0], 0x01);
    assert_int_equal(mac[5], 0xab);
    assert_int_equal(ofp_eth_to_u64(mac), 0x0123456789ab);

    enum ofp_field f;
    assert_true(ofp_field_from_name("tun_id", 6, &f));
    assert_int_equal(f, OFP_F_TUNNEL_ID);
    assert_true(ofp_field_from_name("eth_dst", 7, &f));
    assert_int_equal(f, OFP_F_ETH_DST);
    assert_false(ofp_field_from_name("eth_ds", 6, &f));
    assert_int_equal(ofp_field_max(OFP_F_ETH_DST), 0xffffffffffff);
    assert_int_equal(ofp_field_max(OFP_F_TUNNEL_ID), UINT64_MAX);
}

static void
test_parse_text(void **state)
{
    (void)state;
    struct ofp_flow_mod *fm = malloc(sizeof *fm);
    assert_non_null(fm);
    char err[128];
    uint64_t v, mask;

    assert_int_equal(ofp_parse_flow_mod("priority=5 dl_dst=02:00:00:00:00:0A,"
                                        "tun_id=7 actions=output:LOCAL",
                                        fm, err, sizeof err),
                     0);
    assert_int_equal(fm->command, OFPFC_ADD);
    assert_int_equal(fm->priority, 5);
    assert_true(ofp_match_get(&fm->match, OFP_F_ETH_DST, &v, NULL));
    assert_int_equal(v, 0x02000000000a);
    assert_true(ofp_match_get(&fm->match, OFP_F_TUNNEL_ID, &v, NULL));
    assert_int_equal(v, 7);
    assert_int_equal(fm->insts.apply.a[0].output.port, OFPP_LOCAL);
    ofp_flow_mod_destroy(fm);

    struct ofp_match m;
    assert_int_equal(
        ofp_parse_match("ipv4_dst=198.18.0.0/15,ipv4_src=0.0.0.0/0", &m, err,
                        sizeof err),
        0);
    assert_true(ofp_match_get(&m, OFP_F_IPV4_DST, &v, &mask));
    assert_int_equal(v, 0xc6120000);
    assert_int_equal(mask, 0xfffe0000);
    assert_false(ofp_match_get(&m, OFP_F_IPV4_SRC, NULL, NULL));
    assert_int_equal(ofp_parse_match("any", &m, err, sizeof err), 0);
    assert_int_equal(m.present, 0);

    static const struct {
        const char *text;
        const char *why;
    } bad[] = {
        {"priority=5", "missing actions"},
        {"priority=70000 actions=drop", "bad priority"},
        {"table=255 actions=drop", "bad table"},
        {"in_port=1/0xff actions=drop", "cannot be masked"},
        {"eth_dst=02:00:00:00:00 actions=drop", "bad value"},
        {"eth_dst=02:00:00:00:00:0g actions=drop", "bad value"},
        {"ipv4_dst=198.18.0.256 actions=drop", "bad value"},
        {"ipv4_dst=198.18.0.1/33 actions=drop", "bad mask"},
        {"ipv4_dst=198.18.0.1/24 actions=drop", "outside its mask"},
        {"ip_proto=256 actions=drop", "bad value"},
        {"in_port=1,in_port=2 actions=drop", "twice"},
        {"bogus=1 actions=drop", "unknown field"},
        {"actions=output:", "bad output"},
        {"actions=frobnicate", "unknown action"},
        {"actions=set_field:1->nosuch", "bad set_field"},
        {"actions=set_field:8->vlan_pcp", "bad set_field argument"},
        {"actions=goto_table:1,output:2", "after an instruction"},
        {"actions=write_actions(output:1", "unbalanced"},
        {"actions=output:1,,output:2", "empty item"},
        {"actions=move:eth_src[]->ipv4_dst[]", "bad move"},
        {"actions=move:eth_src[0..50]->eth_dst[0..50]", "bad move"},
        {"flags=send_flow_rem,bogus actions=drop", "unknown flag"},
        {"cookie=0x1/zz actions=drop", "bad cookie"},
        {"tcp_dst=-1 actions=drop", "bad value"},
        {"metadata=0x10000000000000000 actions=drop", "bad value"},
        {"add add actions=drop", "unexpected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        print_message("parse: %s\n", bad[i].text);
        assert_int_equal(ofp_parse_flow_mod(bad[i].text, fm, err, sizeof err),
                         EINVAL);
        assert_non_null(strstr(err, bad[i].why));
    }
    free(fm);
}

static void
test_flow_stats_iterator(void **state)
{
    (void)state;
    struct ofpbuf b;
    ofpbuf_init(&b, 64);
    struct ofp_flow_stats *fs = calloc(1, sizeof *fs);
    struct ofp_flow_stats *got = calloc(1, sizeof *got);
    struct ofp_msg *msg = new_msg(0, 0);
    assert_non_null(fs);
    assert_non_null(got);
    size_t start = ofp_mp_reply_start(&b, 9, OFPMP_FLOW, OFPMPF_REPLY_MORE);
    for (unsigned i = 0; i < 300; i++) {
        ofp_flow_stats_destroy(fs);
        memset(fs, 0, sizeof *fs);
        fs->table_id = (uint8_t)(i % 3);
        fs->priority = (uint16_t)i;
        fs->cookie = 1000 + i;
        fs->packet_count = i * 2;
        ofp_match_set(&fs->match, OFP_F_TUNNEL_ID, i);
        ofp_actions_output(ofp_instructions_apply(&fs->insts), i + 1);
        assert_int_equal(ofp_put_flow_stats(&b, fs), OFPERR_OK);
    }
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OK);
    assert_int_equal(ofp_decode(b.data, b.size, msg), OFPERR_OK);
    assert_int_equal(msg->mp.n_entries, 300);
    assert_int_equal(msg->mp.flags, OFPMPF_REPLY_MORE);
    struct ofp_mp_iter it;
    ofp_mp_iter_init(&it, &msg->mp);
    unsigned n = 0;
    uint64_t v;
    while (ofp_flow_stats_next(&it, got)) {
        assert_int_equal(got->priority, n);
        assert_int_equal(got->cookie, 1000 + n);
        assert_int_equal(got->table_id, n % 3);
        assert_int_equal(got->packet_count, n * 2);
        assert_true(ofp_match_get(&got->match, OFP_F_TUNNEL_ID, &v, NULL));
        assert_int_equal(v, n);
        assert_int_equal(got->insts.apply.a[0].output.port, n + 1);
        n++;
    }
    assert_int_equal(n, 300);
    /* The wrong iterator yields nothing. */
    ofp_mp_iter_init(&it, &msg->mp);
    struct ofp_port_stats ps;
    assert_false(ofp_port_stats_next(&it, &ps));

    /* Too many entries for one message: refused, nothing left behind. */
    ofpbuf_clear(&b);
    start = ofp_mp_reply_start(&b, 9, OFPMP_FLOW, 0);
    for (unsigned i = 0; i < 1000; i++) {
        assert_int_equal(ofp_put_flow_stats(&b, fs), OFPERR_OK);
    }
    assert_int_equal(ofp_mp_finish(&b, start), OFPERR_OFPBRC_BAD_LEN);
    assert_int_equal(b.size, start);
    ofp_flow_stats_destroy(fs);
    ofp_flow_stats_destroy(got);
    free(fs);
    free(got);
    free_msg(msg);
    ofpbuf_uninit(&b);
}

static void
test_ofperr_table(void **state)
{
    (void)state;
    for (int e = 1; e < OFPERR_N; e++) {
        assert_int_equal(ofperr_from_wire(ofperr_type(e), ofperr_code(e)), e);
        assert_true(strlen(ofperr_name(e)) > 4);
        assert_non_null(ofperr_type_name(ofperr_type(e)));
    }
    assert_int_equal(ofperr_from_wire(OFPET_BAD_MATCH, 200), OFPERR_OK);
    assert_int_equal(ofperr_type(OFPERR_OFPBRC_BAD_LEN), OFPET_BAD_REQUEST);
    assert_int_equal(ofperr_code(OFPERR_OFPBRC_BAD_LEN), 6);
    assert_int_equal(ofperr_type(OFPERR_OFPBAC_BAD_SET_ARGUMENT),
                     OFPET_BAD_ACTION);
    assert_int_equal(ofperr_code(OFPERR_OFPBAC_BAD_SET_ARGUMENT), 15);
    assert_int_equal(ofperr_code(OFPERR_OFPBMC_DUP_FIELD), 10);
    assert_string_equal(ofperr_name(OFPERR_OFPBIC_UNKNOWN_INST),
                        "OFPBIC_UNKNOWN_INST");
    assert_null(ofperr_type_name(77));
}

static void
test_ofpbuf(void **state)
{
    (void)state;
    struct ofpbuf b;
    ofpbuf_init(&b, 0);
    for (unsigned i = 0; i < 1000; i++) {
        uint8_t byte = (uint8_t)i;
        ofpbuf_put(&b, &byte, 1);
    }
    assert_int_equal(b.size, 1000);
    assert_int_equal(b.data[999], (uint8_t)999);
    assert_false(ofpbuf_put_hex(&b, "0g"));
    assert_false(ofpbuf_put_hex(&b, "012"));
    assert_int_equal(b.size, 1000);

    struct ofpbuf r;
    ofpbuf_use_const(&r, b.data, 10);
    assert_null(ofpbuf_try_pull(&r, 11));
    assert_int_equal(ofpbuf_remaining(&r), 10);
    const uint8_t *p = ofpbuf_try_pull(&r, 4);
    assert_ptr_equal(p, b.data);
    assert_int_equal(ofpbuf_remaining(&r), 6);
    assert_null(ofpbuf_at(&r, 3, 4));
    assert_null(ofpbuf_at(&r, SIZE_MAX, 1));
    assert_non_null(ofpbuf_at(&r, 2, 4));
    assert_null(ofpbuf_try_pull(&r, SIZE_MAX));
    ofpbuf_uninit(&b);
    ofpbuf_uninit(NULL);
}

int
main(void)
{
    make_desc_reply_hex();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_decode_print),
        cmocka_unit_test(test_golden_encode),
        cmocka_unit_test(test_golden_roundtrip),
        cmocka_unit_test(test_golden_flow_text),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_many_actions),
        cmocka_unit_test(test_actions_message_limit),
        cmocka_unit_test(test_actions_exceed_message),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_encode_error_quotes_64_bytes),
        cmocka_unit_test(test_ip_dscp_ecn),
        cmocka_unit_test(test_hello_negotiate),
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_match_helpers),
        cmocka_unit_test(test_parse_text),
        cmocka_unit_test(test_flow_stats_iterator),
        cmocka_unit_test(test_ofperr_table),
        cmocka_unit_test(test_ofpbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
