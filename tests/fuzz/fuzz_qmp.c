/* fuzz_qmp.c: libFuzzer target for the QMP line classifier, which reads
 * whatever the QEMU at the other end of a socket sends (lib/qmp.h).
 *
 * Checks that a parse never reads out of bounds or leaks, that an accepted
 * line has the fields its kind promises (an event its name and a timestamp
 * in range, an error its class and description), and that a rejected one
 * holds no reference. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qmp_msg m;
    char err[128];
    if (qmp_msg_parse((const char *) data, size, &m, err, sizeof err)) {
        if (m.root || !err[0]) {
            abort();
        }
        return 0;
    }
    if (!m.root) {
        abort();
    }
    switch (m.kind) {
    case QMP_EVENT:
        if (!m.event || m.ts_us > 1000000000000000000ULL
            || (m.data && !json_is_object(m.data))) {
            abort();
        }
        (void) qmp_migration_status(&m);
        break;
    case QMP_ERROR:
        if (!m.err_class || !m.err_desc) {
            abort();
        }
        break;
    case QMP_RETURN:
        if (!m.data) {
            abort();
        }
        break;
    case QMP_GREETING:
        break;
    default:
        abort();
    }
    qmp_msg_destroy(&m);
    return 0;
}
