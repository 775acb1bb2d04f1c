/* fuzz_binding.c: libFuzzer target for the binding record decoder and the
 * binding text parser.
 *
 * A record that decodes must validate and re-encode to exactly the same
 * bytes (the encoding is canonical); text that parses must validate and
 * survive format -> parse unchanged.  Rejected input must leave the output
 * untouched.  It must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/binding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_record(const uint8_t *data, size_t size)
{
    struct binding b, sentinel;
    uint8_t buf[BINDING_RECORD_MAX];
    size_t len = 0;

    memset(&b, 0xa5, sizeof b);
    memcpy(&sentinel, &b, sizeof b);
    enum binding_err e = binding_decode(data, size, &b);
    if (e != BINDING_E_OK) {
        if (e >= BINDING_N_ERRORS || memcmp(&b, &sentinel, sizeof b)) {
            abort();
        }
        return;
    }
    if (binding_validate(&b) != BINDING_E_OK
        || binding_encode(&b, buf, sizeof buf, &len) != BINDING_E_OK
        || len != size || memcmp(buf, data, size)) {
        abort();
    }
}

static void
check_text(const uint8_t *data, size_t size)
{
    char text[1024], again[1024], third[1024];
    struct binding b, back;

    if (size >= sizeof text) {
        size = sizeof text - 1;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (binding_parse(text, &b) != BINDING_E_OK) {
        return;
    }
    if (binding_validate(&b) != BINDING_E_OK) {
        abort();
    }
    int n = binding_format(&b, again, sizeof again);
    if (n <= 0 || (size_t) n >= sizeof again
        || binding_parse(again, &back) != BINDING_E_OK) {
        abort();
    }
    binding_format(&back, third, sizeof third);
    if (strcmp(again, third)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_record(data, size);
    check_text(data, size);
    return 0;
}
