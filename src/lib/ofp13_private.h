/* ofp13_private.h: pieces shared by the OpenFlow 1.3 codec's files.
 *
 * Pull functions consume exactly the bytes they describe from a bounds-
 * checked ofpbuf view and return an OpenFlow error for anything malformed;
 * put functions append to a writer.  Nothing outside src/lib/ofp13*.c may
 * include this header. */
#ifndef MIGNET_OFP13_PRIVATE_H
#define MIGNET_OFP13_PRIVATE_H 1

#include "mignet/ofp.h"

/* How much of a match the decoder insists on knowing. */
enum ofp13_match_mode {
    OFP13_MATCH_STRICT,  /* Unknown fields are OFPBMC_BAD_FIELD. */
    OFP13_MATCH_LENIENT, /* Unknown fields are skipped (packet_in). */
};

/* Field lookup by OXM field number (basic class); false if unknown. */
/* The OXM header of field 'f' (its class, number and length). */
uint32_t ofp13_oxm_header(enum ofp_field f, bool hasmask);
/* The field an OXM header names (basic class, or Open vSwitch's NXM_1). */
bool ofp13_field_from_header(uint32_t h, enum ofp_field *);
bool ofp13_field_from_oxm(uint8_t oxm_field, enum ofp_field *);

/* Largest value the field may hold (vlan_vid: 13 bits, vlan_pcp: 3). */
uint64_t ofp13_field_value_max(enum ofp_field);

/* What a flow's match (and the actions run so far) say about a packet,
 * for checking prerequisites the way the switch does. */
struct ofp13_flow_ctx {
    int eth_type; /* -1 if not matched exactly. */
    int ip_proto; /* -1 if not matched exactly. */
    bool vlan;    /* The packet carries a VLAN tag. */
};
void ofp13_flow_ctx_init(struct ofp13_flow_ctx *, const struct ofp_match *);
/* Whether field 'f' may be matched (or, 'for_action', written). */
bool ofp13_field_prereqs_ok(enum ofp_field, const struct ofp13_flow_ctx *,
                            bool for_action);

/* Match: header, OXM TLVs, padding to 8. */
enum ofperr ofp13_pull_match(struct ofpbuf *, struct ofp_match *,
                             enum ofp13_match_mode);
void ofp13_put_match(struct ofpbuf *, const struct ofp_match *);
/* The bytes ofp13_put_match() appends for 'm', padding included. */
size_t ofp13_match_len(const struct ofp_match *);
/* Each field's value fits its width and lies within its mask. */
enum ofperr ofp13_check_match(const struct ofp_match *);

/* Exactly 'len' bytes of actions.  'len' must already be known to fit. */
enum ofperr ofp13_pull_actions(struct ofpbuf *, size_t len,
                               struct ofp_actions *);
enum ofperr ofp13_put_actions(struct ofpbuf *, const struct ofp_actions *);
/* The bytes ofp13_put_instructions() appends for 'insts' (valid ones). */
size_t ofp13_instructions_len(const struct ofp_instructions *);

/* Exactly 'len' bytes of instructions, for a flow in 'table_id'
 * (OFPTT_ALL if not known). */
enum ofperr ofp13_pull_instructions(struct ofpbuf *, size_t len,
                                    uint8_t table_id,
                                    struct ofp_instructions *);
/* Also refuses a goto_table that does not lead past 'table_id'. */
enum ofperr ofp13_put_instructions(struct ofpbuf *,
                                   const struct ofp_instructions *,
                                   uint8_t table_id);

/* Writes 'width' low-order bytes of 'v' big-endian at 'p' and back. */
void ofp13_put_uint(uint8_t *p, uint64_t v, size_t width);
uint64_t ofp13_get_uint(const uint8_t *p, size_t width);

/* Shared by ofp13.c, ofp13_decode.c and ofp13_encode.c. */
/* Appends an OpenFlow header of 'type'; returns where the message
 * starts. */
size_t ofp13_put_header(struct ofpbuf *, uint8_t type, uint32_t xid);
/* Sets the length of the message that begins at 'start', or removes it if
 * it is too long for the 16-bit length field. */
enum ofperr ofp13_finish(struct ofpbuf *, size_t start);
/* A NUL-padded wire string into a C string of 'dst_size', and back. */
void ofp13_copy_name(char *dst, size_t dst_size, const char *src,
                     size_t src_len);
void ofp13_put_name(char *dst, size_t dst_len, const char *src);
/* The fixed part of a struct whose first 8 bytes are the header: appended
 * zeroed, or pulled after the header was consumed.  Both return a pointer
 * to the whole struct (the pull NULL when too short). */
void *ofp13_put_fixed(struct ofpbuf *, size_t struct_size);
const void *ofp13_pull_fixed(struct ofpbuf *, size_t struct_size);
/* Checks every entry of a multipart array body of 'type'; '*n' gets how
 * many there are. */
enum ofperr ofp13_validate_mp_array(uint16_t type, const uint8_t *body,
                                    size_t len, size_t *n);

static inline size_t
ofp13_round_up8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

#endif /* ofp13_private.h */
