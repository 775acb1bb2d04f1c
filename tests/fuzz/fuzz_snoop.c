/* fuzz_snoop.c: libFuzzer target for the controller's DHCP snooping path
 * (seed 003, FIG. 3) from the wire to the core.
 *
 * The input is a frame as an agent would punt it: it travels through the
 * agent channel ('dhcp' line, hex), is parsed with dhcp_parse_frame and,
 * if it parses, is snooped into a core holding a VM whose MAC is the
 * frame's client (and one that already holds a static binding).  Checks:
 * the frame survives the channel byte for byte; a frame that does not
 * parse never reaches the core; whatever the core accepts leaves a valid
 * binding with the ACK's address, the VM's IP following it and a lease
 * task exactly when the lease ends; whatever it refuses changes nothing.
 * It must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/chan_msg.h"
#include "lib/strbuf.h"
#include "mignet/binding.h"
#include "mignet/core.h"
#include "mignet/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
    size_t instrs;
};

static void
count_instr(void *aux, const struct core_instr *in)
{
    struct count *c = aux;
    c->instrs++;
    if (in->binding && binding_validate(in->binding)) {
        abort(); /* an instruction carried an invalid binding */
    }
}

static bool
count_lease(void *aux, const struct core_task_info *t)
{
    size_t *n = aux;
    *n += t->kind == TASK_LEASE;
    return true;
}

static size_t
leases(const struct core *c)
{
    size_t n = 0;
    core_tasks_walk(c, count_lease, &n);
    return n;
}

/* The frame through the channel, as the controller receives it. */
static void
through_channel(const uint8_t *data, size_t size)
{
    struct chan_msg m, back;
    chan_msg_init(&m, CHAN_DHCP);
    m.port = 7;
    memcpy(m.frame, data, size);
    m.frame_len = size;
    struct strbuf sb;
    strbuf_init(&sb);
    if (chan_msg_encode(&m, &sb) != CHAN_E_OK
        || chan_msg_decode(sb.data, sb.len - 1, &back, NULL, 0) != CHAN_E_OK
        || back.frame_len != size || memcmp(back.frame, data, size)) {
        abort();
    }
    strbuf_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size || size > CHAN_FRAME_MAX) {
        return 0;
    }
    through_channel(data, size);

    struct dhcp_msg d;
    if (dhcp_parse_frame(data, size, 0, &d) != DHCP_E_OK) {
        return 0; /* refused as bad_dhcp: the core never sees it */
    }
    struct count cnt = {0};
    struct core_sink sink = {.instr = count_instr, .aux = &cnt};
    struct core_config cfg;
    core_config_default(&cfg);
    struct core *c = core_create(&cfg, NULL, &sink);
    uint32_t node, vm, other;
    struct mn_config mc = {.vni = 100};
    memcpy(mc.mac, d.chaddr, 6);
    struct mn_config oc = {.mac = {2, 0, 0, 0, 0x77, 0x77}, .vni = 100};
    if (core_node_add(c, "n1", "198.18.0.1", 1000, 0, &node)
        || core_vm_add(c, "other", &oc, node, 0, &other)
        /* chaddr may be "other"'s MAC: allowed here, so that the
         * ambiguous case is fuzzed too (duplicates are refused by
         * default). */
        || core_vm_add_opts(c, "vm1", &mc, node, NULL,
                            CORE_VM_ALLOW_DUPLICATE, 0, &vm)) {
        abort();
    }
    struct binding s = {0};
    s.ip = 0xc6120163u; /* 198.18.1.99, held statically by "other" */
    s.type = BINDING_STATIC;
    s.origin = BINDING_FROM_MANAGER;
    enum binding_err be;
    if (core_binding_set(c, other, &s, 0, &be, NULL, NULL)) {
        abort();
    }
    size_t n_before = cnt.instrs;
    uint64_t version = core_map_version(c);

    enum binding_action act;
    uint32_t found = CORE_NONE;
    uint64_t now = 1700000000000ull;
    enum core_err err = core_binding_snoop(c, node, CORE_NONE, &d, now, &be,
                                           &act, &found);
    const struct binding *b = core_binding_get(c, vm);
    struct core_vm_info vi;
    if (!core_vm_info(c, vm, &vi)) {
        abort();
    }
    if (err || act == BINDING_ACT_NONE) {
        /* Refused or nothing to do: nothing changed. */
        if (b || vi.config.ip || cnt.instrs != n_before
            || core_map_version(c) != version || leases(c)) {
            abort();
        }
    } else if (act == BINDING_ACT_CREATED) {
        if (!b || binding_validate(b) || b->ip != d.yiaddr
            || vi.config.ip != d.yiaddr || vi.config.binding != b->id
            || b->origin != BINDING_FROM_CONTROLLER
            || memcmp(b->mac, d.chaddr, 6) || found != vm
            || leases(c) != (b->expires_ms ? 1u : 0u)
            || cnt.instrs != n_before + 1) {
            abort();
        }
    } else {
        abort(); /* nothing to update or remove in a fresh VM */
    }
    /* The static binding of the other VM is untouched either way. */
    const struct binding *held = core_binding_get(c, other);
    if (!held || held->ip != s.ip || held->type != BINDING_STATIC) {
        abort();
    }
    core_destroy(c);
    return 0;
}
