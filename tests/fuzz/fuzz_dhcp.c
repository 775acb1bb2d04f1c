/* fuzz_dhcp.c: libFuzzer target for the DHCP parser and builder.
 *
 * Arbitrary bytes go through the frame parser (with and without UDP
 * checksum checks) and the BOOTP parser.  Whatever parses must rebuild and
 * parse back to the same message (less the overload, which the builder
 * never uses), and a rejected input must leave the output untouched.
 * Whatever parses is also snooped into a binding table: a binding it
 * creates must be valid and carry the message's chaddr and yiaddr.  It
 * must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mignet/binding.h"
#include "mignet/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_rebuild(const struct dhcp_msg *m)
{
    uint8_t buf[DHCP_FRAME_MAX];
    size_t len = 0;
    struct dhcp_msg want = *m, back;

    if (dhcp_build(m, buf, sizeof buf, &len) != DHCP_E_OK) {
        abort(); /* anything the parser accepts can be written */
    }
    if (dhcp_parse_frame(buf, len, DHCP_PARSE_UDP_CSUM, &back)
        != DHCP_E_OK) {
        abort();
    }
    want.opts &= ~DHCP_HAS(DHCP_OPT_OVERLOAD);
    want.overload = 0;
    if (memcmp(&want.opts, &back.opts, sizeof want.opts)
        || want.overload != back.overload || want.type != back.type
        || want.xid != back.xid || want.yiaddr != back.yiaddr
        || want.lease_s != back.lease_s || want.server_id != back.server_id
        || want.hostname_len != back.hostname_len
        || memcmp(want.hostname, back.hostname, want.hostname_len)
        || want.client_id_len != back.client_id_len
        || memcmp(want.client_id, back.client_id, want.client_id_len)
        || memcmp(want.chaddr, back.chaddr, sizeof want.chaddr)
        || want.vlan != back.vlan || want.ip_src != back.ip_src
        || want.udp_dst != back.udp_dst) {
        abort();
    }
}

static void
check_snoop(const struct dhcp_msg *m)
{
    struct binding_table *t = binding_table_create();
    struct binding_ctx ctx = {
        .vm = "vm1",
        .node = "node-a",
        .port = 3,
        .vlan = BINDING_VLAN_FRAME,
        .origin = BINDING_FROM_AGENT,
    };
    enum binding_action act = BINDING_ACT_NONE;
    struct binding got;

    if (binding_table_snoop(t, m, &ctx, 1000, &act, &got) == BINDING_E_OK
        && act == BINDING_ACT_CREATED) {
        const struct binding *b = binding_table_find_vm(t, "vm1");
        if (m->type != DHCP_ACK || !b || binding_validate(b)
            || b->ip != m->yiaddr || memcmp(b->mac, m->chaddr, 6)
            || binding_table_count(t) != 1) {
            abort();
        }
    } else if (binding_table_count(t) != 0) {
        abort(); /* nothing else may leave a binding behind */
    }
    binding_table_destroy(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dhcp_msg m, sentinel;

    memset(&m, 0xa5, sizeof m);
    memcpy(&sentinel, &m, sizeof m);
    enum dhcp_err e = dhcp_parse_frame(data, size, 0, &m);
    if (e == DHCP_E_OK) {
        if (m.hostname[m.hostname_len] != '\0') {
            abort();
        }
        check_rebuild(&m);
        check_snoop(&m);
    } else if (e >= DHCP_N_ERRORS || memcmp(&m, &sentinel, sizeof m)) {
        abort();
    }

    /* With checksums: never accepts what the plain parse rejected. */
    struct dhcp_msg c;
    enum dhcp_err ec = dhcp_parse_frame(data, size, DHCP_PARSE_UDP_CSUM,
                                        &c);
    if (ec == DHCP_E_OK && e != DHCP_E_OK) {
        abort();
    }

    struct dhcp_msg b;
    memset(&b, 0xa5, sizeof b);
    if (dhcp_parse_bootp(data, size, &b) != DHCP_E_OK
        && memcmp(&b, &sentinel, sizeof b)) {
        abort();
    }
    return 0;
}
