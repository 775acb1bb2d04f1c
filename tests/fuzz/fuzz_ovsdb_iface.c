/* fuzz_ovsdb_iface.c: libFuzzer target for the agent's OVSDB Interface
 * monitor (src/agent/ovsdb_iface.c).
 *
 * Feeds arbitrary bytes as what ovsdb-server sends, split in two at a
 * point the input chooses; whatever is accepted must leave rows that are
 * bounded and NUL-terminated, and a refusal must say why (that a refused
 * message changes nothing is tests/unit/test_ovsdb_iface.c's).  It must
 * never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ovsdb_iface.h"
#include "lib/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_rows(const struct ovsdb_iface *o)
{
    if (ovsdb_iface_count(o) > OVSDB_IFACE_MAX_ROWS) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ovsdb_iface *o = ovsdb_iface_create();
    struct strbuf out;
    char err[128];
    strbuf_init(&out);
    ovsdb_iface_connected(o, &out);
    size_t cut = size ? data[0] % (size + 1) : 0;
    const char *p = (const char *) data;
    if (ovsdb_iface_receive(o, p, cut, &out, err, sizeof err)) {
        if (!err[0]) {
            abort(); /* every refusal explains itself */
        }
    } else {
        (void) ovsdb_iface_receive(o, p + cut, size - cut, &out, err,
                                   sizeof err);
    }
    check_rows(o);
    for (size_t i = 0; i < ovsdb_iface_count(o); i++) {
        (void) ovsdb_iface_find(o, "vm1");
    }
    const struct ovsdb_row *r = ovsdb_iface_find(o, "vm1");
    if (r && (strnlen(r->name, sizeof r->name) == sizeof r->name
              || strcmp(r->iface_id, "vm1"))) {
        abort();
    }
    strbuf_destroy(&out);
    ovsdb_iface_destroy(o);
    return 0;
}
