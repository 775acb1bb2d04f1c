/* fuzz_chan_msg.c: libFuzzer target for the agent-channel codec.
 *
 * Feeds arbitrary bytes through framing and decoding; whatever decodes must
 * re-encode, and the re-encoded line must decode to the same message.  It
 * must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/chan_msg.h"
#include "lib/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_line(const char *line, size_t len)
{
    struct chan_msg m, again;
    char err[128];

    if (chan_msg_decode(line, len, &m, err, sizeof err) != CHAN_E_OK) {
        if (!err[0]) {
            abort(); /* every failure explains itself */
        }
        return;
    }
    struct strbuf sb;
    strbuf_init(&sb);
    if (chan_msg_encode(&m, &sb) != CHAN_E_OK || sb.len == 0
        || sb.data[sb.len - 1] != '\n'
        || chan_msg_decode(sb.data, sb.len - 1, &again, NULL, 0)
               != CHAN_E_OK
        || memcmp(&m, &again, sizeof m) != 0) {
        abort();
    }
    strbuf_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *) data;

    /* The whole input as one line, then as a stream of lines. */
    check_line(buf, size);
    while (size) {
        size_t line_len, used;
        if (chan_frame(buf, size, &line_len, &used) != CHAN_E_OK
            || !used) {
            break;
        }
        check_line(buf, line_len);
        buf += used;
        size -= used;
    }
    return 0;
}
