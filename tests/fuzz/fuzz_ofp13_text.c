/* fuzz_ofp13_text.c: libFuzzer target for the flow text parser.
 *
 * Any text must parse or be refused with a reason, never crash.  A flow
 * that parses and encodes must decode, print, and parse again to the same
 * bytes: the text form and the wire form say the same thing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/ofp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_ofp13_text: %s: %s\n", what, detail ? detail : "");
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ofp_msg msg, back, again;
    char err[256];
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';

    ofp_msg_init(&msg, OFPT_FLOW_MOD, 7);
    err[0] = '\0';
    if (ofp_parse_flow_mod(text, &msg.flow_mod, err, sizeof err)) {
        if (!err[0]) {
            fail("refused without a reason", text);
        }
        free(text);
        return 0;
    }
    struct ofpbuf b, b2;
    ofpbuf_init(&b, 256);
    ofpbuf_init(&b2, 256);
    if (ofp_encode(&msg, &b) == OFPERR_OK) {
        if (ofp_decode(b.data, b.size, &back)) {
            fail("encoded flow does not decode", text);
        }
        char *printed = ofp_msg_to_string(&back);
        /* "flow_mod xid=0x7 " precedes the flow text. */
        if (!printed || strncmp(printed, "flow_mod xid=0x7 ", 17)) {
            fail("unexpected print", printed);
        }
        ofp_msg_init(&again, OFPT_FLOW_MOD, 7);
        if (ofp_parse_flow_mod(printed + 17, &again.flow_mod, err,
                               sizeof err)) {
            fail("printed flow does not parse", printed);
        }
        if (ofp_encode(&again, &b2) || b.size != b2.size ||
            memcmp(b.data, b2.data, b.size)) {
            fail("print/parse changed the flow", printed);
        }
        free(printed);
        ofp_msg_destroy(&back);
        ofp_msg_destroy(&again);
    }
    ofp_msg_destroy(&msg);
    ofpbuf_uninit(&b);
    ofpbuf_uninit(&b2);
    free(text);
    return 0;
}
