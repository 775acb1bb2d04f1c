/* fuzz_ofconn.c: libFuzzer target for the OpenFlow connection's input
 * path (framing, dispatch to requests, barriers and hooks).
 *
 * The connection is brought to READY with a request, a multipart request
 * and a barrier outstanding, then fed the input in chunks whose sizes come
 * from the input itself.  It must never crash, and every outstanding
 * request must end in exactly one final callback (checked at disconnect). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/ofconn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_final;

static void
on_reply(void *aux, const struct ofp_msg *msg, bool last)
{
    (void)aux;
    (void)msg;
    n_final += last;
}

static void
on_barrier(void *aux, const struct ofconn_barrier_result *r)
{
    (void)aux;
    (void)r;
    n_final++;
}

static void
feed(struct ofconn *c, const struct ofp_msg *msg)
{
    struct ofpbuf b;
    ofpbuf_init(&b, 64);
    if (ofp_encode(msg, &b) || ofconn_receive(c, b.data, b.size, 0)) {
        abort();
    }
    ofpbuf_uninit(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ofp_msg msg;
    log_set_level(LOG_ERROR);
    n_final = 0;
    struct ofconn *c = ofconn_create(NULL, NULL, NULL);
    ofconn_connected(c, 0);
    ofp_msg_init(&msg, OFPT_HELLO, 1);
    feed(c, &msg);
    ofp_msg_init(&msg, OFPT_FEATURES_REPLY, 2); /* xid of features_request */
    feed(c, &msg);
    if (ofconn_get_state(c) != OFCONN_READY) {
        abort();
    }
    /* xids 3 (desc), 4 (flow stats), 5 (flow_mod), 6 (barrier). */
    ofp_msg_init(&msg, OFPT_MULTIPART_REQUEST, 0);
    msg.mp.type = OFPMP_DESC;
    ofconn_request(c, &msg, on_reply, NULL, NULL);
    ofp_msg_init(&msg, OFPT_MULTIPART_REQUEST, 0);
    msg.mp.type = OFPMP_FLOW;
    ofconn_request(c, &msg, on_reply, NULL, NULL);
    ofp_msg_init(&msg, OFPT_FLOW_MOD, 0);
    ofconn_send(c, &msg, NULL);
    ofconn_barrier(c, on_barrier, NULL);

    int64_t now = 0;
    size_t off = 0;
    while (off < size) {
        size_t chunk = 1 + data[off] % 64;
        off++;
        if (chunk > size - off) {
            chunk = size - off;
        }
        now += 100;
        if (ofconn_receive(c, data + off, chunk, now) ||
            ofconn_run(c, now)) {
            break;
        }
        ofpbuf_clear(ofconn_output(c));
        off += chunk;
    }
    ofconn_disconnected(c);
    if (n_final != 3 || ofconn_n_pending(c)) {
        fprintf(stderr, "fuzz_ofconn: %d final callbacks, want 3\n", n_final);
        abort();
    }
    ofconn_destroy(c);
    return 0;
}
