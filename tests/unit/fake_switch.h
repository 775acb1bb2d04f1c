/* fake_switch.h: a scripted Open vSwitch for the agent's unit tests: it
 * decodes what the agent sent (types, xids, flow_mod commands) and
 * encodes replies with lib's OpenFlow 1.3 codec for a 'deliver' function
 * (ofconn_receive, agent_core_of_receive).
 *
 * Only test code includes this; every helper asserts through cmocka. */
#ifndef TESTS_FAKE_SWITCH_H
#define TESTS_FAKE_SWITCH_H 1

#include <stdint.h>
#include <stdlib.h>

#include "mignet/ofp.h"

#define FSW_MAX 512

/* What the switch received. */
struct taken {
    size_t n;
    uint8_t type[FSW_MAX];
    uint32_t xid[FSW_MAX];
    uint8_t cmd[FSW_MAX];      /* flow_mods: the command */
    uint64_t in_port[FSW_MAX]; /* flow_mods: the match's in_port, or 0 */
    /* flow_mods, flow statistics requests: */
    uint64_t cookie[FSW_MAX], cookie_mask[FSW_MAX];
    uint16_t mp_type[FSW_MAX]; /* multipart requests: the type */
    uint32_t mp_port[FSW_MAX]; /* port statistics requests: the port */
    /* packet_outs: the first output action's port, the frame's type */
    uint32_t out_port[FSW_MAX];
    uint16_t ethertype[FSW_MAX];
};

/* Decodes every message in 'out' into 't', then clears 'out'. */
static inline void
fsw_take(struct ofpbuf *out, struct taken *t)
{
    struct ofp_msg *msg = malloc(sizeof *msg);
    assert_non_null(msg);
    memset(t, 0, sizeof *t);
    for (size_t off = 0; off < out->size;) {
        size_t len;
        const uint8_t *p = (const uint8_t *) out->data + off;
        assert_int_equal(ofp_frame(p, out->size - off, &len), OFPERR_OK);
        assert_int_equal(ofp_decode(p, len, msg), OFPERR_OK);
        assert_true(t->n < FSW_MAX);
        t->type[t->n] = msg->type;
        if (msg->type == OFPT_FLOW_MOD) {
            t->cmd[t->n] = msg->flow_mod.command;
            t->cookie[t->n] = msg->flow_mod.cookie;
            t->cookie_mask[t->n] = msg->flow_mod.cookie_mask;
            (void) ofp_match_get(&msg->flow_mod.match, OFP_F_IN_PORT,
                                 &t->in_port[t->n], NULL);
        } else if (msg->type == OFPT_PACKET_OUT) {
            const struct ofp_packet_out *po = &msg->packet_out;
            if (po->actions.n && po->actions.a[0].type == OFP_ACT_OUTPUT) {
                t->out_port[t->n] = po->actions.a[0].output.port;
            }
            if (po->data_len >= 14) {
                t->ethertype[t->n] = (uint16_t) (po->data[12] << 8
                                                 | po->data[13]);
            }
        } else if (msg->type == OFPT_MULTIPART_REQUEST) {
            t->mp_type[t->n] = msg->mp.type;
            if (msg->mp.type == OFPMP_FLOW) {
                t->cookie[t->n] = msg->mp.flow_req.cookie;
                t->cookie_mask[t->n] = msg->mp.flow_req.cookie_mask;
            } else if (msg->mp.type == OFPMP_PORT_STATS) {
                t->mp_port[t->n] = msg->mp.port_no;
            }
        }
        t->xid[t->n++] = msg->xid;
        ofp_msg_destroy(msg);
        off += len;
    }
    ofpbuf_clear(out);
    free(msg);
}

/* Hands 'len' bytes from the switch to the agent (asserting it took
 * them). */
typedef void fsw_deliver_fn(void *aux, const void *data, size_t len);

static inline void
fsw_send(fsw_deliver_fn *deliver, void *aux, const struct ofp_msg *msg)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 64);
    assert_int_equal(ofp_encode(msg, &b), OFPERR_OK);
    deliver(aux, b.data, b.size);
    ofpbuf_uninit(&b);
}

/* A message of 'type' with no body (barrier reply, features reply...). */
static inline void
fsw_reply(fsw_deliver_fn *deliver, void *aux, uint8_t type, uint32_t xid)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, type, xid);
    fsw_send(deliver, aux, &msg);
}

/* An OpenFlow error for message 'xid'. */
static inline void
fsw_error(fsw_deliver_fn *deliver, void *aux, uint32_t xid, uint16_t type,
          uint16_t code)
{
    struct ofp_msg msg;
    ofp_msg_init(&msg, OFPT_ERROR, xid);
    msg.error.type = type;
    msg.error.code = code;
    fsw_send(deliver, aux, &msg);
}

#endif /* TESTS_FAKE_SWITCH_H */
