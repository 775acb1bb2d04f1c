/* binding_fixture.h: sample bindings and assertions shared by the
 * binding unit tests (test_binding*.c).  Test-only; expected values are
 * written out here, never computed by the code under test. */
#ifndef MIGNET_TESTS_BINDING_FIXTURE_H
#define MIGNET_TESTS_BINDING_FIXTURE_H 1

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mignet/binding.h"
#include "mignet/dhcp.h"

#define IP(A, B, C, D)                                                       \
    ((uint32_t) (A) << 24 | (uint32_t) (B) << 16 | (uint32_t) (C) << 8 | (D))

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t mac2[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};

/* A valid dynamic binding learned by the controller. */
static inline struct binding
sample(void)
{
    struct binding b;
    memset(&b, 0, sizeof b);
    snprintf(b.vm, sizeof b.vm, "vm1");
    snprintf(b.node, sizeof b.node, "node-a");
    memcpy(b.mac, mac1, 6);
    b.ip = IP(198, 18, 0, 10);
    b.vlan = 100;
    b.port = 3;
    b.type = BINDING_DYNAMIC;
    b.origin = BINDING_FROM_CONTROLLER;
    b.port_status = BINDING_PORT_UP;
    b.port_security = BINDING_UNTRUST;
    b.lease_s = 3600;
    b.expires_ms = 5000 + 3600 * 1000;
    b.server = IP(198, 18, 0, 1);
    return b;
}

/* The i-th of many distinct valid bindings. */
static inline struct binding
nth(uint32_t i)
{
    struct binding b = sample();
    snprintf(b.vm, sizeof b.vm, "vm-%u", (unsigned) i);
    b.mac[3] = (uint8_t) (i >> 16);
    b.mac[4] = (uint8_t) (i >> 8);
    b.mac[5] = (uint8_t) i;
    b.ip = IP(198, 18, 0, 0) + 1 + i;
    return b;
}

/* Compares every field through the text form (which prints them all);
 * memcmp would also compare padding. */
static inline void
assert_binding_equal(const struct binding *a, const struct binding *b)
{
    char ta[512], tb[512];
    binding_format(a, ta, sizeof ta);
    binding_format(b, tb, sizeof tb);
    assert_string_equal(ta, tb);
}

#define assert_err(CALL, WANT)                                               \
    do {                                                                     \
        enum binding_err got_ = (CALL);                                      \
        if (got_ != (WANT)) {                                                \
            fail_msg("%s: got %s, want %s", #CALL, binding_errname(got_),    \
                     binding_errname(WANT));                                 \
        }                                                                    \
    } while (0)

#endif /* MIGNET_TESTS_BINDING_FIXTURE_H */
