/* fuzz_topo.c: libFuzzer target for the topology parser.
 *
 * Any input must parse or fail cleanly (no crash, no leak, no partial
 * graph); whatever parses must format to text that parses back to the
 * same fabric.  It never writes files or keeps state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/planner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fabric *f = NULL;
    struct fabric_parse_error err;

    enum fabric_err e = fabric_parse((const char *) data, size, &f, &err);
    if (e != FABRIC_E_OK) {
        /* A failed parse hands nothing out and explains itself. */
        if (f || err.code != e || !err.msg[0]) {
            abort();
        }
        return 0;
    }
    char *text = fabric_format(f);
    if (!text) {
        abort();
    }
    struct fabric *g = NULL;
    if (fabric_parse(text, strlen(text), &g, &err) != FABRIC_E_OK) {
        abort();
    }
    char *again = fabric_format(g);
    if (!again || strcmp(text, again)
        || fabric_n_nodes(f) != fabric_n_nodes(g)
        || fabric_n_links(f) != fabric_n_links(g)) {
        abort();
    }
    free(text);
    free(again);
    fabric_destroy(f);
    fabric_destroy(g);
    return 0;
}
