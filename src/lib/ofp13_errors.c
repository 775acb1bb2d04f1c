/* ofp13_errors.c: names, messages and wire (type, code) of enum ofperr.
 *
 * One table, generated from OFPERR_LIST, so a name can never disagree with
 * the type/code it is sent as.  Nothing here allocates or fails. */
#include "mignet/ofp.h"

struct ofperr_info {
    const char *name;
    const char *msg;
    uint16_t type;
    uint16_t code;
};

static const struct ofperr_info ofperr_table[OFPERR_N] = {
    [OFPERR_OK] = {"OK", "success", 0, 0},
#define OFPERR(NAME, TYPE, CODE, MSG)                                         \
    [OFPERR_##NAME] = {#NAME, MSG, TYPE, CODE},
    OFPERR_LIST
#undef OFPERR
};

static const struct ofperr_info *
ofperr_info(enum ofperr e)
{
    return (unsigned)e < OFPERR_N ? &ofperr_table[e] : &ofperr_table[0];
}

const char *
ofperr_name(enum ofperr e)
{
    return ofperr_info(e)->name;
}

const char *
ofperr_strerror(enum ofperr e)
{
    return ofperr_info(e)->msg;
}

uint16_t
ofperr_type(enum ofperr e)
{
    return ofperr_info(e)->type;
}

uint16_t
ofperr_code(enum ofperr e)
{
    return ofperr_info(e)->code;
}

enum ofperr
ofperr_from_wire(uint16_t type, uint16_t code)
{
    for (int e = 1; e < OFPERR_N; e++) {
        if (ofperr_table[e].type == type && ofperr_table[e].code == code) {
            return (enum ofperr)e;
        }
    }
    return OFPERR_OK;
}

const char *
ofperr_type_name(uint16_t type)
{
    switch (type) {
    case OFPET_HELLO_FAILED: return "HELLO_FAILED";
    case OFPET_BAD_REQUEST: return "BAD_REQUEST";
    case OFPET_BAD_ACTION: return "BAD_ACTION";
    case OFPET_BAD_INSTRUCTION: return "BAD_INSTRUCTION";
    case OFPET_BAD_MATCH: return "BAD_MATCH";
    case OFPET_FLOW_MOD_FAILED: return "FLOW_MOD_FAILED";
    case OFPET_GROUP_MOD_FAILED: return "GROUP_MOD_FAILED";
    case OFPET_PORT_MOD_FAILED: return "PORT_MOD_FAILED";
    case OFPET_TABLE_MOD_FAILED: return "TABLE_MOD_FAILED";
    case OFPET_QUEUE_OP_FAILED: return "QUEUE_OP_FAILED";
    case OFPET_SWITCH_CONFIG_FAILED: return "SWITCH_CONFIG_FAILED";
    case OFPET_ROLE_REQUEST_FAILED: return "ROLE_REQUEST_FAILED";
    case OFPET_METER_MOD_FAILED: return "METER_MOD_FAILED";
    case OFPET_TABLE_FEATURES_FAILED: return "TABLE_FEATURES_FAILED";
    case OFPET_EXPERIMENTER: return "EXPERIMENTER";
    default: return NULL;
    }
}
