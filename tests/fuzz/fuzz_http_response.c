/* fuzz_http_response.c: libFuzzer target for the HTTP client's response
 * parser, which reads whatever a (possibly hostile) server sends.
 *
 * Checks that a parse never reads out of bounds or leaks, that a response
 * complete without EOF is the same one with EOF, and that a decoded body is
 * never longer than the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/http_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *) data;
    struct http_response open, closed;

    http_response_init(&open);
    http_response_init(&closed);
    enum http_err e_open = http_response_parse(buf, size, false, &open);
    enum http_err e_closed = http_response_parse(buf, size, true, &closed);

    if (e_closed == HTTP_E_INCOMPLETE) {
        abort(); /* at EOF an answer is complete or wrong */
    }
    if (e_open == HTTP_E_OK) {
        if (e_closed != HTTP_E_OK || open.status != closed.status
            || open.body_len != closed.body_len
            || memcmp(open.body, closed.body, open.body_len)) {
            abort();
        }
    }
    if (e_closed == HTTP_E_OK
        && (closed.body_len > size || closed.body[closed.body_len] != '\0'
            || closed.status < 100 || closed.status > 599)) {
        abort();
    }
    http_response_destroy(&open);
    http_response_destroy(&closed);
    return 0;
}
