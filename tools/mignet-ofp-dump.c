/* mignet-ofp-dump: a command-line window onto mignet's OpenFlow 1.3 codec,
 * used by tests to cross-check the encoder against ovs-ofctl.
 *
 *   mignet-ofp-dump print HEX     decode and print one message
 *   mignet-ofp-dump error HEX     print only the decode result (OK or OFP...)
 *   mignet-ofp-dump flow TEXT     encode a flow_mod from text, print hex
 *   mignet-ofp-dump samples       "name hex" for every message kind mignet
 *                                 encodes, built through the API
 *
 * It only reads its arguments and writes stdout; it never opens a socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/ofp.h"

static void
print_hex(const struct ofpbuf *b)
{
    for (size_t i = 0; i < b->size; i++) {
        printf("%02x", b->data[i]);
    }
}

static void
sample(const char *name, const struct ofp_msg *msg)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    enum ofperr err = ofp_encode(msg, &b);
    if (err) {
        fprintf(stderr, "sample %s: %s\n", name, ofperr_name(err));
        exit(1);
    }
    printf("%s ", name);
    print_hex(&b);
    printf("\n");
    ofpbuf_uninit(&b);
}

static void
sample_flow(const char *name, uint32_t xid, const char *text)
{
    struct ofp_msg *msg = malloc(sizeof *msg);
    char err[128];
    if (!msg) {
        exit(1);
    }
    ofp_msg_init(msg, OFPT_FLOW_MOD, xid);
    if (ofp_parse_flow_mod(text, &msg->flow_mod, err, sizeof err)) {
        fprintf(stderr, "sample %s: %s\n", name, err);
        exit(1);
    }
    sample(name, msg);
    ofp_msg_destroy(msg);
    free(msg);
}

static const uint8_t frame[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xc6, 0x12, 0x00, 0x02,
};

static void
samples(void)
{
    struct ofp_msg *msg = malloc(sizeof *msg);
    if (!msg) {
        exit(1);
    }

    ofp_msg_init(msg, OFPT_HELLO, 1);
    sample("hello", msg);

    static const uint8_t bad[8] = {4, 20, 0, 8, 0, 0, 0, 2};
    ofp_msg_init(msg, OFPT_ERROR, 2);
    msg->error.type = OFPET_BAD_REQUEST;
    msg->error.code = ofperr_code(OFPERR_OFPBRC_BAD_LEN);
    msg->error.data = bad;
    msg->error.data_len = sizeof bad;
    sample("error", msg);

    static const uint8_t echo[] = {'p', 'i', 'n', 'g'};
    ofp_msg_init(msg, OFPT_ECHO_REQUEST, 3);
    msg->echo.data = echo;
    msg->echo.data_len = sizeof echo;
    sample("echo_request", msg);
    msg->type = OFPT_ECHO_REPLY;
    sample("echo_reply", msg);

    ofp_msg_init(msg, OFPT_FEATURES_REQUEST, 4);
    sample("features_request", msg);
    ofp_msg_init(msg, OFPT_FEATURES_REPLY, 4);
    msg->features.datapath_id = 0xabc;
    msg->features.n_buffers = 256;
    msg->features.n_tables = 254;
    msg->features.capabilities = OFPC_FLOW_STATS | OFPC_TABLE_STATS |
                                 OFPC_PORT_STATS | OFPC_GROUP_STATS |
                                 OFPC_QUEUE_STATS;
    sample("features_reply", msg);

    ofp_msg_init(msg, OFPT_GET_CONFIG_REQUEST, 5);
    sample("get_config_request", msg);
    ofp_msg_init(msg, OFPT_GET_CONFIG_REPLY, 5);
    msg->config.miss_send_len = 128;
    sample("get_config_reply", msg);
    ofp_msg_init(msg, OFPT_SET_CONFIG, 6);
    msg->config.miss_send_len = OFPCML_NO_BUFFER;
    sample("set_config", msg);

    ofp_msg_init(msg, OFPT_BARRIER_REQUEST, 7);
    sample("barrier_request", msg);
    ofp_msg_init(msg, OFPT_BARRIER_REPLY, 7);
    sample("barrier_reply", msg);

    ofp_msg_init(msg, OFPT_ROLE_REQUEST, 8);
    msg->role.role = OFPCR_ROLE_MASTER;
    msg->role.generation_id = 5;
    sample("role_request", msg);
    msg->type = OFPT_ROLE_REPLY;
    msg->role.role = OFPCR_ROLE_SLAVE;
    sample("role_reply", msg);

    sample_flow("flow_mod_basic", 9,
                "add table=0 priority=100 in_port=1,eth_dst=02:00:00:00:00:01 "
                "actions=output:2");
    sample_flow("flow_mod_overlay", 10,
                "add table=1 priority=200 cookie=0x1234 idle_timeout=30 "
                "hard_timeout=300 flags=send_flow_rem,check_overlap "
                "eth_type=0x0800,ip_proto=17,ipv4_src=198.18.1.0/24,"
                "ipv4_dst=198.18.0.0/16,udp_src=53,udp_dst=4789 "
                "actions=set_field:0x5->tunnel_id,push_vlan:0x8100,"
                "set_field:0x1005->vlan_vid,output:3,"
                "write_metadata:0x1/0xff,goto_table:2");
    sample_flow("flow_mod_arp_responder", 11,
                "add table=0 priority=300 eth_type=0x0806,arp_op=1,"
                "arp_tpa=198.18.0.10 actions=move:eth_src[]->eth_dst[],"
                "set_field:02:00:00:00:00:0a->eth_src,set_field:2->arp_op,"
                "move:arp_sha[]->arp_tha[],move:arp_spa[]->arp_tpa[],"
                "set_field:02:00:00:00:00:0a->arp_sha,"
                "set_field:198.18.0.10->arp_spa,output:IN_PORT");
    sample_flow("flow_mod_arp_match", 12,
                "add table=3 priority=5 eth_type=0x0806,"
                "arp_spa=198.18.0.0/16,arp_tpa=198.18.0.7,"
                "arp_sha=02:00:00:00:00:07,arp_tha=00:00:00:00:00:00 "
                "actions=output:NORMAL");
    sample_flow("flow_mod_delete_strict", 13,
                "delete_strict table=0 priority=100 "
                "cookie=0x1234/0xffffffffffffffff out_port=2 "
                "eth_src=02:00:00:00:00:00/ff:ff:ff:00:00:00,"
                "vlan_vid=0x1000/0x1000,tunnel_id=0x5");
    sample_flow("flow_mod_delete_all", 14, "delete table=all");
    sample_flow("flow_mod_modify", 15,
                "modify table=2 priority=10 hard_timeout=60 "
                "in_port=LOCAL,eth_type=0x0800,vlan_vid=0x1005,ip_proto=6,"
                "ipv4_src=198.18.0.1/255.255.0.255,tcp_src=1024,"
                "tcp_dst=80/0xfff0 actions=pop_vlan,dec_ttl,clear_actions,"
                "write_actions(group:7,output:CONTROLLER:128)");
    sample_flow("flow_mod_tunnel", 16,
                "add table=0 priority=50 in_port=4,tunnel_id=0x64,"
                "vlan_vid=0x1005,vlan_pcp=3,eth_src=02:00:00:00:00:05,"
                "eth_type=0x0800,ip_proto=17 "
                "actions=set_field:02:00:00:00:00:09->eth_dst,"
                "set_field:198.18.0.9->ipv4_dst,set_field:7->udp_dst,"
                "output:CONTROLLER:65535");
    sample_flow("flow_mod_icmp", 17,
                "add table=0 priority=40 eth_type=0x0800,ip_proto=1,"
                "icmpv4_type=8,icmpv4_code=0,metadata=0x10/0xf0 "
                "actions=set_field:0x2->metadata");
    /* More actions than the codec once held (32): 20 x (tun_id, port). */
    char many[2048];
    size_t off = (size_t) snprintf(many, sizeof many,
                                   "add priority=60 in_port=1 actions=");
    for (unsigned i = 1; i <= 20 && off < sizeof many; i++) {
        off += (size_t) snprintf(many + off, sizeof many - off,
                                 "%sset_field:0x%x->tunnel_id,output:%u",
                                 i > 1 ? "," : "", i, i + 1);
    }
    sample_flow("flow_mod_many_actions", 24, many);

    ofp_msg_init(msg, OFPT_PACKET_IN, 0);
    msg->packet_in.reason = OFPR_ACTION;
    msg->packet_in.cookie = 1;
    msg->packet_in.total_len = sizeof frame;
    ofp_match_set(&msg->packet_in.match, OFP_F_IN_PORT, 3);
    msg->packet_in.data = frame;
    msg->packet_in.data_len = sizeof frame;
    sample("packet_in", msg);

    ofp_msg_init(msg, OFPT_PACKET_OUT, 18);
    ofp_actions_output(&msg->packet_out.actions, 1);
    msg->packet_out.data = frame;
    msg->packet_out.data_len = sizeof frame;
    sample("packet_out", msg);
    ofp_msg_destroy(msg);

    ofp_msg_init(msg, OFPT_FLOW_REMOVED, 0);
    msg->flow_removed.cookie = 5;
    msg->flow_removed.priority = 100;
    msg->flow_removed.reason = OFPRR_IDLE_TIMEOUT;
    msg->flow_removed.duration_sec = 12;
    msg->flow_removed.duration_nsec = 500000000;
    msg->flow_removed.idle_timeout = 10;
    msg->flow_removed.packet_count = 3;
    msg->flow_removed.byte_count = 180;
    ofp_match_set(&msg->flow_removed.match, OFP_F_IN_PORT, 1);
    sample("flow_removed", msg);

    ofp_msg_init(msg, OFPT_PORT_STATUS, 0);
    msg->port_status.reason = OFPPR_ADD;
    msg->port_status.desc.port_no = 1;
    ofp_eth_from_u64(0x020000000001, msg->port_status.desc.hw_addr);
    snprintf(msg->port_status.desc.name, sizeof msg->port_status.desc.name,
             "vm1");
    msg->port_status.desc.state = OFPPS_LIVE;
    msg->port_status.desc.curr_speed = 10000000;
    sample("port_status", msg);

    ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 19);
    msg->mp.type = OFPMP_FLOW;
    ofp_match_set(&msg->mp.flow_req.match, OFP_F_IN_PORT, 1);
    sample("flow_stats_request", msg);
    msg->mp.type = OFPMP_AGGREGATE;
    msg->mp.flow_req.table_id = 0;
    sample("aggregate_stats_request", msg);
    ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 20);
    msg->mp.type = OFPMP_PORT_STATS;
    msg->mp.port_no = OFPP_ANY;
    sample("port_stats_request", msg);
    ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 21);
    msg->mp.type = OFPMP_PORT_DESC;
    sample("port_desc_request", msg);
    ofp_msg_init(msg, OFPT_MULTIPART_REQUEST, 22);
    msg->mp.type = OFPMP_DESC;
    sample("desc_request", msg);

    /* Replies with entries are built with the entry builders. */
    struct ofpbuf b;
    ofpbuf_init(&b, 512);
    struct ofp_flow_stats *fs = calloc(1, sizeof *fs);
    if (!fs) {
        exit(1);
    }
    size_t start = ofp_mp_reply_start(&b, 19, OFPMP_FLOW, 0);
    fs->duration_sec = 5;
    fs->priority = 100;
    fs->cookie = 1;
    fs->packet_count = 10;
    fs->byte_count = 600;
    ofp_match_set(&fs->match, OFP_F_IN_PORT, 1);
    ofp_actions_output(ofp_instructions_apply(&fs->insts), 2);
    if (ofp_put_flow_stats(&b, fs)) {
        exit(1);
    }
    ofp_flow_stats_destroy(fs);
    memset(fs, 0, sizeof *fs);
    fs->table_id = 1;
    fs->duration_sec = 1;
    fs->duration_nsec = 1;
    fs->priority = 7;
    ofp_match_set(&fs->match, OFP_F_ETH_TYPE, 0x0806);
    fs->insts.present = OFP_INST_GOTO;
    fs->insts.goto_table = 2;
    if (ofp_put_flow_stats(&b, fs) || ofp_mp_finish(&b, start)) {
        exit(1);
    }
    printf("flow_stats_reply ");
    print_hex(&b);
    printf("\n");
    ofp_flow_stats_destroy(fs);
    free(fs);

    ofpbuf_clear(&b);
    start = ofp_mp_reply_start(&b, 20, OFPMP_PORT_STATS, 0);
    struct ofp_port_stats ps = {.port_no = 1, .rx_packets = 1,
                                .tx_packets = 2, .rx_bytes = 3,
                                .tx_bytes = 4, .rx_dropped = 5,
                                .tx_dropped = 6, .rx_errors = 7,
                                .tx_errors = 8, .duration_sec = 9};
    ofp_put_port_stats(&b, &ps);
    if (ofp_mp_finish(&b, start)) {
        exit(1);
    }
    printf("port_stats_reply ");
    print_hex(&b);
    printf("\n");

    ofpbuf_clear(&b);
    start = ofp_mp_reply_start(&b, 21, OFPMP_PORT_DESC, 0);
    struct ofp_port port = {.port_no = OFPP_LOCAL, .config = OFPPC_PORT_DOWN,
                            .state = OFPPS_LINK_DOWN};
    snprintf(port.name, sizeof port.name, "br0");
    ofp_eth_from_u64(0x020000000002, port.hw_addr);
    ofp_put_port(&b, &port);
    if (ofp_mp_finish(&b, start)) {
        exit(1);
    }
    printf("port_desc_reply ");
    print_hex(&b);
    printf("\n");
    ofpbuf_uninit(&b);

    ofp_msg_init(msg, OFPT_MULTIPART_REPLY, 22);
    msg->mp.type = OFPMP_AGGREGATE;
    msg->mp.aggregate.packet_count = 100;
    msg->mp.aggregate.byte_count = 6000;
    msg->mp.aggregate.flow_count = 3;
    sample("aggregate_stats_reply", msg);

    ofp_msg_init(msg, OFPT_MULTIPART_REPLY, 23);
    msg->mp.type = OFPMP_DESC;
    snprintf(msg->mp.desc.mfr_desc, sizeof msg->mp.desc.mfr_desc, "mignet");
    snprintf(msg->mp.desc.hw_desc, sizeof msg->mp.desc.hw_desc, "test");
    snprintf(msg->mp.desc.sw_desc, sizeof msg->mp.desc.sw_desc, "0.1");
    snprintf(msg->mp.desc.serial_num, sizeof msg->mp.desc.serial_num, "42");
    snprintf(msg->mp.desc.dp_desc, sizeof msg->mp.desc.dp_desc, "br-int");
    sample("desc_reply", msg);
    free(msg);
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: mignet-ofp-dump print HEX | error HEX | flow TEXT | "
            "samples\n");
    return 2;
}

int
main(int argc, char *argv[])
{
    if (argc == 2 && !strcmp(argv[1], "samples")) {
        samples();
        return 0;
    }
    if (argc != 3) {
        return usage();
    }
    struct ofpbuf b;
    ofpbuf_init(&b, 256);
    int rc = 0;
    if (!strcmp(argv[1], "print") || !strcmp(argv[1], "error")) {
        if (!ofpbuf_put_hex(&b, argv[2])) {
            fprintf(stderr, "mignet-ofp-dump: bad hex\n");
            rc = 2;
        } else if (!strcmp(argv[1], "print")) {
            char *s = ofp_to_string(b.data, b.size);
            printf("%s\n", s ? s : "(out of memory)");
            free(s);
        } else {
            struct ofp_msg *msg = malloc(sizeof *msg);
            if (!msg) {
                return 1;
            }
            printf("%s\n", ofperr_name(ofp_decode(b.data, b.size, msg)));
            ofp_msg_destroy(msg);
            free(msg);
        }
    } else if (!strcmp(argv[1], "flow")) {
        struct ofp_msg *msg = malloc(sizeof *msg);
        char err[128];
        if (!msg) {
            return 1;
        }
        ofp_msg_init(msg, OFPT_FLOW_MOD, 1);
        if (ofp_parse_flow_mod(argv[2], &msg->flow_mod, err, sizeof err)) {
            fprintf(stderr, "mignet-ofp-dump: %s\n", err);
            rc = 1;
        } else {
            enum ofperr e = ofp_encode(msg, &b);
            if (e) {
                fprintf(stderr, "mignet-ofp-dump: %s\n", ofperr_name(e));
                rc = 1;
            } else {
                print_hex(&b);
                printf("\n");
            }
            ofp_msg_destroy(msg);
        }
        free(msg);
    } else {
        rc = usage();
    }
    ofpbuf_uninit(&b);
    return rc;
}
