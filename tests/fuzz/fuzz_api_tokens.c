/* fuzz_api_tokens.c: libFuzzer target for the --api-tokens file parser.
 *
 * The file is an operator's, but a parser that reads a secret file must
 * never read out of bounds or leak, and must answer either tokens or an
 * error naming where, never both or neither. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controller/rest_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    struct rest_tokens *t = rest_tokens_parse((const char *) data, size,
                                              "f", err, sizeof err);
    if (!t == !err[0] || (!t && strncmp(err, "f", 1))) {
        abort();
    }
    if (t) {
        const char *name;
        size_t n = rest_tokens_count(t);
        if (!n || n > REST_TOKENS_MAX
            || rest_tokens_lookup(t, "", &name) != REST_ROLE_NONE) {
            abort();
        }
    }
    rest_tokens_destroy(t);
    return 0;
}
