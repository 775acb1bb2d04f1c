/* fuzz_vnet_conn.c: libFuzzer target for a tenant's OpenFlow session with
 * a virtual switch (src/vnet): arbitrary bytes from the tenant controller.
 *
 * The switch has three ports and two up hosting nodes; the session starts
 * with a valid hello so the input reaches every message handler.  The
 * input is fed in chunks whose sizes come from the input itself; between
 * chunks the nodes ack every push, report counters and a packet-in, and
 * time moves (timeouts, one split/unsplit), and the input's bits take a
 * node down and up again, move the hosting set and a VM's placement.  It must never crash or leak,
 * and everything the switch sends the tenant must frame and decode as
 * OpenFlow 1.3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/ofp.h"
#include "mignet/vnet.h"
#include "proto/chan_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct chan_msg msg;

static void
check_tenant_output(struct vnet *v)
{
    struct ofpbuf *out = vnet_tenant_output(v, "vs");
    size_t off = 0;
    while (off < out->size) {
        size_t len = 0;
        if (ofp_frame(out->data + off, out->size - off, &len) || !len) {
            abort();
        }
        struct ofp_msg m;
        if (ofp_decode(out->data + off, len, &m)) {
            abort();
        }
        ofp_msg_destroy(&m);
        off += len;
    }
    ofpbuf_clear(out);
}

/* Acks every push queued for the nodes and answers stats requests. */
static void
nodes_answer(struct vnet *v, int64_t now, uint8_t salt)
{
    char node[MN_NAME_MAX + 1];
    static struct chan_msg in;
    while (vnet_node_output(v, node, &msg)) {
        if (msg.type == CHAN_VNET_END || msg.type == CHAN_VNET_DROP
            || msg.type == CHAN_VNET_REMOVE) {
            chan_msg_init(&in, (salt & 7) == 3 ? CHAN_NACK : CHAN_ACK);
            in.seq = msg.seq;
            in.ofp_type = OFPET_FLOW_MOD_FAILED;
            vnet_node_msg(v, node, &in, now);
        } else if (msg.type == CHAN_VNET_FLOW) {
            chan_msg_init(&in, CHAN_VNET_FSTAT);
            snprintf(in.vswitch, sizeof in.vswitch, "vs");
            in.flow_id = msg.flow_id;
            in.version = msg.version;
            in.port = 1 + salt % 4;
            in.packets = salt;
            in.bytes = salt * 60u;
            vnet_node_msg(v, node, &in, now);
        } else if (msg.type == CHAN_VNET_STATS_REQ) {
            chan_msg_init(&in, CHAN_VNET_STATS_END);
            snprintf(in.vswitch, sizeof in.vswitch, "vs");
            in.seq = msg.seq;
            vnet_node_msg(v, node, &in, now);
        }
    }
}

static void
packet_in(struct vnet *v, const uint8_t *data, size_t n, int64_t now,
          uint8_t salt)
{
    static struct chan_msg in;
    chan_msg_init(&in, CHAN_VNET_PACKET_IN);
    snprintf(in.vswitch, sizeof in.vswitch, "vs");
    in.port = salt % 5;
    in.flow_id = salt % 7;
    in.version = 1;
    in.frame_len = n < CHAN_FRAME_MAX ? n : CHAN_FRAME_MAX;
    memcpy(in.frame, data, in.frame_len);
    in.total_len = (uint32_t)in.frame_len;
    vnet_node_msg(v, salt & 1 ? "n1" : "n2", &in, now);
}

/* Nodes coming and going, the hosting set and a VM's node changing. */
static void
churn(struct vnet *v, int64_t now, uint8_t salt)
{
    static const char *const sets[3][2] = {
        {"n1", "n2"}, {"n2", "n3"}, {"n1", NULL}};
    switch (salt >> 5) {
    case 1:
        vnet_node_down(v, salt & 1 ? "n1" : "n2", now);
        break;
    case 2:
        vnet_node_up(v, salt & 1 ? "n1" : "n3", now);
        vnet_node_up(v, "n2", now);
        break;
    case 3:
        vnet_set_nodes(v, "vs", sets[salt % 3], salt % 3 == 2 ? 1 : 2);
        break;
    case 4:
        vnet_set_vm_node(v, "vs", salt & 1 ? "vm1" : "vm2",
                         salt & 2 ? "n3" : "n1");
        break;
    default:
        break;
    }
}

static struct vnet *
make_switch(void)
{
    static struct vnet_switch_def d;
    memset(&d, 0, sizeof d);
    snprintf(d.id, sizeof d.id, "vs");
    snprintf(d.tenant, sizeof d.tenant, "t");
    d.vni = 7;
    d.n_ports = 3;
    for (int i = 0; i < 3; i++) {
        d.ports[i].port = (uint32_t)i + 1;
        snprintf(d.ports[i].vm, sizeof d.ports[i].vm, "vm%d", i);
        d.ports[i].mac[0] = 2;
        d.ports[i].mac[5] = (uint8_t)i;
    }
    struct vnet *v = vnet_create(NULL);
    if (vnet_switch_add(v, &d, NULL, 0)) {
        abort();
    }
    const char *nodes[2] = {"n1", "n2"};
    vnet_node_up(v, "n1", 0);
    vnet_node_up(v, "n2", 0);
    vnet_set_nodes(v, "vs", nodes, 2);
    return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vnet *v = make_switch();
    int64_t now = 1000;
    vnet_tenant_connected(v, "vs", now);
    static const uint8_t hello[8] = {4, OFPT_HELLO, 0, 8, 0, 0, 0, 1};
    vnet_tenant_input(v, "vs", hello, sizeof hello, now);
    size_t off = 0;
    int step = 0;
    while (off < size) {
        uint8_t salt = data[off];
        size_t chunk = 1 + salt % 97;
        chunk = chunk < size - off ? chunk : size - off;
        vnet_tenant_input(v, "vs", data + off, chunk, now);
        check_tenant_output(v);
        nodes_answer(v, now, salt);
        packet_in(v, data + off, chunk, now, salt);
        if (step == 3) {
            vnet_split_begin(v, "vs");
        } else if (step == 9) {
            vnet_split_end(v, "vs");
        }
        churn(v, now, salt);
        now += salt * 37;
        vnet_run(v, now);
        check_tenant_output(v);
        off += chunk;
        step++;
    }
    nodes_answer(v, now, 0);
    vnet_node_down(v, "n2", now);
    vnet_run(v, now + 5000);
    check_tenant_output(v);
    vnet_switch_remove(v, "vs");
    nodes_answer(v, now, 0);
    vnet_destroy(v);
    return 0;
}
