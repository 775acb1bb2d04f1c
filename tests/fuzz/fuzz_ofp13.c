/* fuzz_ofp13.c: libFuzzer target for the OpenFlow 1.3 decoder and printer.
 *
 * Any input must decode to a message or an error without a crash or an
 * out-of-bounds read (ASan/UBSan builds); a message that decodes must print,
 * re-encode, and decode again to the same text.  The target aborts on any
 * broken property so the fuzzer records the input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/ofp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "fuzz_ofp13: %s\n  %s\n  %s\n", what, a ? a : "",
            b ? b : "");
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ofp_msg msg, again;

    size_t frame_len;
    if (ofp_frame(data, size, &frame_len) == OFPERR_OK && frame_len > size) {
        fail("frame longer than input", NULL, NULL);
    }

    char *text = ofp_to_string(data, size);
    if (!text) {
        fail("ofp_to_string returned NULL", NULL, NULL);
    }
    enum ofperr err = ofp_decode(data, size, &msg);
    if (err) {
        if (!strstr(text, ofperr_name(err))) {
            fail("error text does not name the error", text,
                 ofperr_name(err));
        }
        free(text);
        return 0;
    }

    /* The decoder allocates exactly the actions the message holds. */
    const struct ofp_actions *lists[2] = {NULL, NULL};
    if (msg.type == OFPT_FLOW_MOD) {
        lists[0] = &msg.flow_mod.insts.apply;
        lists[1] = &msg.flow_mod.insts.write;
    } else if (msg.type == OFPT_PACKET_OUT) {
        lists[0] = &msg.packet_out.actions;
    }
    for (size_t i = 0; i < 2; i++) {
        if (lists[i] && (lists[i]->allocated != lists[i]->n
                         || lists[i]->n * 8 > size)) {
            fail("action list larger than the message", text, NULL);
        }
    }

    struct ofpbuf b;
    ofpbuf_init(&b, size + 64);
    err = ofp_encode(&msg, &b);
    if (err) {
        fail("a decoded message does not re-encode", text, ofperr_name(err));
    }
    if (msg.type == OFPT_FLOW_MOD
        && (ofp_flow_mod_len(&msg.flow_mod.match, &msg.flow_mod.insts)
                != b.size
            || !ofp_flow_fits(&msg.flow_mod.match, &msg.flow_mod.insts))) {
        fail("ofp_flow_mod_len differs from the encoding", text, NULL);
    }
    err = ofp_decode(b.data, b.size, &again);
    if (err) {
        fail("a re-encoded message does not decode", text, ofperr_name(err));
    }
    char *text2 = ofp_msg_to_string(&again);
    if (!text2 || strcmp(text, text2)) {
        fail("re-encoding changed the meaning", text, text2);
    }

    /* Array replies iterate exactly n_entries times. */
    if (msg.type == OFPT_MULTIPART_REPLY && msg.mp.body) {
        static struct ofp_flow_stats fs;
        struct ofp_port_stats ps;
        struct ofp_port port;
        struct ofp_table_stats ts;
        struct ofp_mp_iter it;
        size_t n = 0;
        ofp_mp_iter_init(&it, &msg.mp);
        while (ofp_flow_stats_next(&it, &fs) ||
               ofp_port_stats_next(&it, &ps) ||
               ofp_port_desc_next(&it, &port) ||
               ofp_table_stats_next(&it, &ts)) {
            n++;
        }
        if (n != msg.mp.n_entries) {
            fail("iterator count differs from n_entries", text, NULL);
        }
        ofp_flow_stats_destroy(&fs);
    }
    ofp_msg_destroy(&msg);
    ofp_msg_destroy(&again);
    free(text);
    free(text2);
    ofpbuf_uninit(&b);
    return 0;
}
