/* fuzz_lldp.c: libFuzzer target for the LLDP discovery codec.
 *
 * Any frame must decode or fail with a named error, never read outside
 * its bytes; a frame that names a switch and port must re-encode to a
 * frame naming the same ones.  It keeps no state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lldp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy so ASan sees any overread. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        return 0;
    }
    memcpy(copy, data, size);
    struct lldp_pdu pdu;
    enum lldp_err err = lldp_decode(copy, size, &pdu);
    if ((unsigned) err >= LLDP_N_ERRORS) {
        abort();
    }
    uint64_t dpid;
    uint32_t port;
    if (!err && lldp_discovery_ids(&pdu, &dpid, &port)) {
        uint8_t buf[LLDP_DISCOVERY_LEN];
        struct lldp_pdu again;
        uint64_t d2;
        uint32_t p2;
        size_t n = lldp_encode_discovery(dpid, port, pdu.src, pdu.ttl, buf);
        if (lldp_decode(buf, n, &again) != LLDP_E_OK
            || !lldp_discovery_ids(&again, &d2, &p2) || d2 != dpid
            || p2 != port || again.ttl != pdu.ttl
            || memcmp(again.src, pdu.src, 6)) {
            abort();
        }
    }
    free(copy);
    return 0;
}
