/* ofp13_print.c: one-line text form of OpenFlow 1.3 messages for logs and
 * tests, in the spirit of ovs-ofctl.
 *
 * It prints decoded structs only, so it never touches raw wire bytes except
 * through the validated iterators; the text of a flow_mod is exactly what
 * ofp_parse_flow_mod() reads back.  Output size is unbounded (a flow stats
 * reply may be long); allocation failure yields NULL, never a crash. */
#include "ofp13_private.h"
#include "lib/strbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The line being built; once an append fails the line is abandoned. */
struct ds {
    struct strbuf sb;
    bool failed;
};

static void ds_put(struct ds *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ds_put(struct ds *ds, const char *fmt, ...)
{
    if (ds->failed) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    ds->failed = strbuf_vprintf(&ds->sb, fmt, ap) != 0;
    va_end(ap);
}

/* Hands the line to the caller (NULL if an append failed). */
static char *
ds_steal(struct ds *ds)
{
    if (ds->failed) {
        strbuf_destroy(&ds->sb);
        return NULL;
    }
    if (!ds->sb.data) {
        return strdup("");
    }
    return ds->sb.data; /* Ownership passes to the caller. */
}

/* ---------------------------------------------------------------------- */
/* Values.                                                                 */

const char *
ofp_type_name(uint8_t type)
{
    static const char *const names[] = {
        [OFPT_HELLO] = "hello",
        [OFPT_ERROR] = "error",
        [OFPT_ECHO_REQUEST] = "echo_request",
        [OFPT_ECHO_REPLY] = "echo_reply",
        [OFPT_EXPERIMENTER] = "experimenter",
        [OFPT_FEATURES_REQUEST] = "features_request",
        [OFPT_FEATURES_REPLY] = "features_reply",
        [OFPT_GET_CONFIG_REQUEST] = "get_config_request",
        [OFPT_GET_CONFIG_REPLY] = "get_config_reply",
        [OFPT_SET_CONFIG] = "set_config",
        [OFPT_PACKET_IN] = "packet_in",
        [OFPT_FLOW_REMOVED] = "flow_removed",
        [OFPT_PORT_STATUS] = "port_status",
        [OFPT_PACKET_OUT] = "packet_out",
        [OFPT_FLOW_MOD] = "flow_mod",
        [OFPT_GROUP_MOD] = "group_mod",
        [OFPT_PORT_MOD] = "port_mod",
        [OFPT_TABLE_MOD] = "table_mod",
        [OFPT_MULTIPART_REQUEST] = "multipart_request",
        [OFPT_MULTIPART_REPLY] = "multipart_reply",
        [OFPT_BARRIER_REQUEST] = "barrier_request",
        [OFPT_BARRIER_REPLY] = "barrier_reply",
        [OFPT_QUEUE_GET_CONFIG_REQUEST] = "queue_get_config_request",
        [OFPT_QUEUE_GET_CONFIG_REPLY] = "queue_get_config_reply",
        [OFPT_ROLE_REQUEST] = "role_request",
        [OFPT_ROLE_REPLY] = "role_reply",
        [OFPT_GET_ASYNC_REQUEST] = "get_async_request",
        [OFPT_GET_ASYNC_REPLY] = "get_async_reply",
        [OFPT_SET_ASYNC] = "set_async",
        [OFPT_METER_MOD] = "meter_mod",
    };
    if (type < sizeof names / sizeof *names && names[type]) {
        return names[type];
    }
    static const char *const unknown = "unknown_type";
    return unknown;
}

static const char *
reserved_port_name(uint32_t port)
{
    switch (port) {
    case OFPP_IN_PORT: return "IN_PORT";
    case OFPP_TABLE: return "TABLE";
    case OFPP_NORMAL: return "NORMAL";
    case OFPP_FLOOD: return "FLOOD";
    case OFPP_ALL: return "ALL";
    case OFPP_CONTROLLER: return "CONTROLLER";
    case OFPP_LOCAL: return "LOCAL";
    case OFPP_ANY: return "ANY";
    default: return NULL;
    }
}

static void
put_port(struct ds *ds, uint32_t port)
{
    const char *name = reserved_port_name(port);
    if (name) {
        ds_put(ds, "%s", name);
    } else {
        ds_put(ds, "%" PRIu32, port);
    }
}

static void
put_eth(struct ds *ds, uint64_t v)
{
    uint8_t m[OFP_ETH_ALEN];
    ofp_eth_from_u64(v, m);
    ds_put(ds, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
           m[5]);
}

static void
put_ipv4(struct ds *ds, uint64_t v)
{
    ds_put(ds, "%u.%u.%u.%u", (unsigned)(v >> 24) & 0xff,
           (unsigned)(v >> 16) & 0xff, (unsigned)(v >> 8) & 0xff,
           (unsigned)v & 0xff);
}

/* The prefix length of a CIDR mask, or -1. */
static int
cidr_len(uint32_t mask)
{
    uint32_t inv = ~mask;
    if (inv & (inv + 1)) {
        return -1;
    }
    int n = 0;
    while (mask) {
        n++;
        mask <<= 1;
    }
    return n;
}

static void
put_field_value(struct ds *ds, enum ofp_field f, uint64_t v)
{
    switch (ofp_field_info(f)->format) {
    case OFP_FMT_DEC:
        ds_put(ds, "%" PRIu64, v);
        break;
    case OFP_FMT_HEX:
        if (ofp_field_info(f)->width == 2) {
            ds_put(ds, "0x%04" PRIx64, v); /* eth_type=0x0800 */
        } else {
            ds_put(ds, "0x%" PRIx64, v);
        }
        break;
    case OFP_FMT_ETH:
        put_eth(ds, v);
        break;
    case OFP_FMT_IPV4:
        put_ipv4(ds, v);
        break;
    case OFP_FMT_PORT:
        put_port(ds, (uint32_t)v);
        break;
    }
}

static void
put_field_mask(struct ds *ds, enum ofp_field f, uint64_t mask)
{
    switch (ofp_field_info(f)->format) {
    case OFP_FMT_ETH:
        put_eth(ds, mask);
        break;
    case OFP_FMT_IPV4: {
        int n = cidr_len((uint32_t)mask);
        if (n >= 0) {
            ds_put(ds, "%d", n);
        } else {
            put_ipv4(ds, mask);
        }
        break;
    }
    case OFP_FMT_HEX:
        put_field_value(ds, f, mask);
        break;
    default:
        ds_put(ds, "0x%" PRIx64, mask);
        break;
    }
}

static void
put_match(struct ds *ds, const struct ofp_match *m)
{
    const char *sep = "";
    for (int i = 0; i < OFP_F_N; i++) {
        enum ofp_field f = (enum ofp_field)i;
        uint32_t bit = UINT32_C(1) << f;
        if (!(m->present & bit)) {
            continue;
        }
        ds_put(ds, "%s%s=", sep, ofp_field_info(f)->name);
        put_field_value(ds, f, m->value[f]);
        if (m->masked & bit) {
            ds_put(ds, "/");
            put_field_mask(ds, f, m->mask[f]);
        }
        sep = ",";
    }
}

static void
put_action(struct ds *ds, const struct ofp_action *a)
{
    switch (a->type) {
    case OFP_ACT_OUTPUT:
        ds_put(ds, "output:");
        put_port(ds, a->output.port);
        if (a->output.port == OFPP_CONTROLLER || a->output.max_len) {
            ds_put(ds, ":%u", a->output.max_len);
        }
        break;
    case OFP_ACT_GROUP:
        ds_put(ds, "group:%" PRIu32, a->group_id);
        break;
    case OFP_ACT_SET_FIELD:
        ds_put(ds, "set_field:");
        put_field_value(ds, a->set_field.field, a->set_field.value);
        ds_put(ds, "->%s", ofp_field_info(a->set_field.field)->name);
        break;
    case OFP_ACT_PUSH_VLAN:
        ds_put(ds, "push_vlan:0x%04x", a->ethertype);
        break;
    case OFP_ACT_POP_VLAN:
        ds_put(ds, "pop_vlan");
        break;
    case OFP_ACT_DEC_NW_TTL:
        ds_put(ds, "dec_ttl");
        break;
    case OFP_ACT_MOVE:
        ds_put(ds, "move:%s[%u..%u]->%s[%u..%u]",
               ofp_field_info(a->move.src)->name, a->move.src_ofs,
               a->move.src_ofs + a->move.n_bits - 1u,
               ofp_field_info(a->move.dst)->name, a->move.dst_ofs,
               a->move.dst_ofs + a->move.n_bits - 1u);
        break;
    }
}

static void
put_actions(struct ds *ds, const struct ofp_actions *acts, const char **sep)
{
    for (size_t i = 0; i < acts->n; i++) {
        ds_put(ds, "%s", *sep);
        put_action(ds, &acts->a[i]);
        *sep = ",";
    }
}

static void
put_instructions(struct ds *ds, const struct ofp_instructions *insts)
{
    const char *sep = "";
    ds_put(ds, "actions=");
    if (insts->present & OFP_INST_APPLY) {
        put_actions(ds, &insts->apply, &sep);
    }
    if (insts->present & OFP_INST_CLEAR) {
        ds_put(ds, "%sclear_actions", sep);
        sep = ",";
    }
    if (insts->present & OFP_INST_WRITE) {
        const char *inner = "";
        ds_put(ds, "%swrite_actions(", sep);
        put_actions(ds, &insts->write, &inner);
        ds_put(ds, ")");
        sep = ",";
    }
    if (insts->present & OFP_INST_METADATA) {
        ds_put(ds, "%swrite_metadata:0x%" PRIx64 "/0x%" PRIx64, sep,
               insts->metadata, insts->metadata_mask);
        sep = ",";
    }
    if (insts->present & OFP_INST_GOTO) {
        ds_put(ds, "%sgoto_table:%u", sep, insts->goto_table);
        sep = ",";
    }
    if (!*sep) {
        ds_put(ds, "drop");
    }
}

static const char *const flow_flag_names[] = {
    "send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
    "no_byte_counts",
};

static void
put_flow_flags(struct ds *ds, uint16_t flags)
{
    if (!flags) {
        return;
    }
    const char *sep = " flags=";
    for (unsigned i = 0; i < 5; i++) {
        if (flags & (1u << i)) {
            ds_put(ds, "%s%s", sep, flow_flag_names[i]);
            sep = ",";
        }
    }
}

static const char *const flow_mod_commands[] = {
    "add", "modify", "modify_strict", "delete", "delete_strict",
};

/* Match and instructions, each preceded by a space when present. */
static void
put_match_insts(struct ds *ds, const struct ofp_match *m,
                const struct ofp_instructions *insts)
{
    if (m->present) {
        ds_put(ds, " ");
        put_match(ds, m);
    }
    ds_put(ds, " ");
    put_instructions(ds, insts);
}

static void
put_cookie(struct ds *ds, uint64_t cookie, uint64_t mask)
{
    if (mask) {
        ds_put(ds, " cookie=0x%" PRIx64 "/0x%" PRIx64, cookie, mask);
    } else if (cookie) {
        ds_put(ds, " cookie=0x%" PRIx64, cookie);
    }
}

static void
put_flow_mod(struct ds *ds, const struct ofp_flow_mod *fm)
{
    ds_put(ds, " %s", flow_mod_commands[fm->command < 5 ? fm->command : 0]);
    if (fm->table_id == OFPTT_ALL) {
        ds_put(ds, " table=all");
    } else {
        ds_put(ds, " table=%u", fm->table_id);
    }
    ds_put(ds, " priority=%u", fm->priority);
    put_cookie(ds, fm->cookie, fm->cookie_mask);
    if (fm->idle_timeout) {
        ds_put(ds, " idle_timeout=%u", fm->idle_timeout);
    }
    if (fm->hard_timeout) {
        ds_put(ds, " hard_timeout=%u", fm->hard_timeout);
    }
    if (fm->buffer_id != OFP_NO_BUFFER) {
        ds_put(ds, " buffer_id=%" PRIu32, fm->buffer_id);
    }
    if (fm->out_port != OFPP_ANY) {
        ds_put(ds, " out_port=");
        put_port(ds, fm->out_port);
    }
    if (fm->out_group != OFPG_ANY) {
        ds_put(ds, " out_group=%" PRIu32, fm->out_group);
    }
    put_flow_flags(ds, fm->flags);
    put_match_insts(ds, &fm->match, &fm->insts);
}

static void
put_duration(struct ds *ds, uint32_t sec, uint32_t nsec)
{
    ds_put(ds, " duration=%" PRIu32 ".%09" PRIu32 "s", sec, nsec);
}

static void
put_flow_removed(struct ds *ds, const struct ofp_flow_removed *fr)
{
    static const char *const reasons[] = {"idle_timeout", "hard_timeout",
                                          "delete", "group_delete"};
    if (fr->reason < 4) {
        ds_put(ds, " reason=%s", reasons[fr->reason]);
    } else {
        ds_put(ds, " reason=%u", fr->reason);
    }
    ds_put(ds, " table=%u priority=%u", fr->table_id, fr->priority);
    put_cookie(ds, fr->cookie, 0);
    put_duration(ds, fr->duration_sec, fr->duration_nsec);
    if (fr->idle_timeout) {
        ds_put(ds, " idle_timeout=%u", fr->idle_timeout);
    }
    if (fr->hard_timeout) {
        ds_put(ds, " hard_timeout=%u", fr->hard_timeout);
    }
    ds_put(ds, " packets=%" PRIu64 " bytes=%" PRIu64, fr->packet_count,
           fr->byte_count);
    if (fr->match.present) {
        ds_put(ds, " ");
        put_match(ds, &fr->match);
    }
}

static void
put_buffer_id(struct ds *ds, uint32_t id)
{
    if (id == OFP_NO_BUFFER) {
        ds_put(ds, " buffer_id=none");
    } else {
        ds_put(ds, " buffer_id=%" PRIu32, id);
    }
}

/* A short summary of an Ethernet frame: addresses and type. */
static void
put_frame(struct ds *ds, const uint8_t *data, size_t len)
{
    ds_put(ds, " data_len=%zu", len);
    if (len >= 14) {
        ds_put(ds, " frame=");
        put_eth(ds, ofp13_get_uint(data + 6, 6));
        ds_put(ds, "->");
        put_eth(ds, ofp13_get_uint(data, 6));
        ds_put(ds, ",type=0x%04x", (unsigned)ofp13_get_uint(data + 12, 2));
    }
}

static void
put_packet_in(struct ds *ds, const struct ofp_packet_in *pi)
{
    static const char *const reasons[] = {"no_match", "action",
                                          "invalid_ttl"};
    if (pi->reason < 3) {
        ds_put(ds, " reason=%s", reasons[pi->reason]);
    } else {
        ds_put(ds, " reason=%u", pi->reason);
    }
    ds_put(ds, " table=%u", pi->table_id);
    put_cookie(ds, pi->cookie, 0);
    put_buffer_id(ds, pi->buffer_id);
    ds_put(ds, " total_len=%u", pi->total_len);
    if (pi->match.present) {
        ds_put(ds, " ");
        put_match(ds, &pi->match);
    }
    put_frame(ds, pi->data, pi->data_len);
}

static void
put_packet_out(struct ds *ds, const struct ofp_packet_out *po)
{
    const char *sep = "";
    put_buffer_id(ds, po->buffer_id);
    ds_put(ds, " in_port=");
    put_port(ds, po->in_port);
    ds_put(ds, " actions=");
    put_actions(ds, &po->actions, &sep);
    if (!*sep) {
        ds_put(ds, "drop");
    }
    put_frame(ds, po->data, po->data_len);
}

static void
put_port_desc(struct ds *ds, const struct ofp_port *p)
{
    ds_put(ds, "port=");
    put_port(ds, p->port_no);
    ds_put(ds, " name=\"");
    for (const char *c = p->name; *c; c++) {
        if (*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\') {
            ds_put(ds, "%c", *c);
        } else {
            ds_put(ds, "\\x%02x", (unsigned char)*c);
        }
    }
    ds_put(ds, "\" hw_addr=");
    put_eth(ds, ofp_eth_to_u64(p->hw_addr));
    ds_put(ds, " config=0x%" PRIx32 " state=0x%" PRIx32, p->config,
           p->state);
    if (p->curr || p->advertised || p->supported || p->peer) {
        ds_put(ds, " features=0x%" PRIx32 "/0x%" PRIx32 "/0x%" PRIx32
                   "/0x%" PRIx32,
               p->curr, p->advertised, p->supported, p->peer);
    }
    ds_put(ds, " speed=%" PRIu32 "/%" PRIu32, p->curr_speed, p->max_speed);
}

static void
put_quoted(struct ds *ds, const char *key, const char *s)
{
    ds_put(ds, " %s=\"", key);
    for (; *s; s++) {
        if (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') {
            ds_put(ds, "%c", *s);
        } else {
            ds_put(ds, "\\x%02x", (unsigned char)*s);
        }
    }
    ds_put(ds, "\"");
}

static void
put_flow_stats_request(struct ds *ds, const struct ofp_flow_stats_request *r)
{
    if (r->table_id == OFPTT_ALL) {
        ds_put(ds, " table=all");
    } else {
        ds_put(ds, " table=%u", r->table_id);
    }
    if (r->out_port != OFPP_ANY) {
        ds_put(ds, " out_port=");
        put_port(ds, r->out_port);
    }
    if (r->out_group != OFPG_ANY) {
        ds_put(ds, " out_group=%" PRIu32, r->out_group);
    }
    put_cookie(ds, r->cookie, r->cookie_mask);
    if (r->match.present) {
        ds_put(ds, " ");
        put_match(ds, &r->match);
    }
}

static void
put_flow_stats(struct ds *ds, const struct ofp_flow_stats *fs,
               bool with_counters)
{
    ds_put(ds, "table=%u priority=%u", fs->table_id, fs->priority);
    put_cookie(ds, fs->cookie, 0);
    if (with_counters) {
        put_duration(ds, fs->duration_sec, fs->duration_nsec);
    }
    if (fs->idle_timeout) {
        ds_put(ds, " idle_timeout=%u", fs->idle_timeout);
    }
    if (fs->hard_timeout) {
        ds_put(ds, " hard_timeout=%u", fs->hard_timeout);
    }
    put_flow_flags(ds, fs->flags);
    if (with_counters) {
        ds_put(ds, " packets=%" PRIu64 " bytes=%" PRIu64, fs->packet_count,
               fs->byte_count);
    }
    put_match_insts(ds, &fs->match, &fs->insts);
}

static void
put_port_stats(struct ds *ds, const struct ofp_port_stats *ps)
{
    ds_put(ds, "port=");
    put_port(ds, ps->port_no);
    ds_put(ds,
           " rx_packets=%" PRIu64 " tx_packets=%" PRIu64 " rx_bytes=%" PRIu64
           " tx_bytes=%" PRIu64 " rx_dropped=%" PRIu64 " tx_dropped=%" PRIu64
           " rx_errors=%" PRIu64 " tx_errors=%" PRIu64,
           ps->rx_packets, ps->tx_packets, ps->rx_bytes, ps->tx_bytes,
           ps->rx_dropped, ps->tx_dropped, ps->rx_errors, ps->tx_errors);
    if (ps->rx_frame_err || ps->rx_over_err || ps->rx_crc_err ||
        ps->collisions) {
        ds_put(ds,
               " rx_frame_err=%" PRIu64 " rx_over_err=%" PRIu64
               " rx_crc_err=%" PRIu64 " collisions=%" PRIu64,
               ps->rx_frame_err, ps->rx_over_err, ps->rx_crc_err,
               ps->collisions);
    }
    put_duration(ds, ps->duration_sec, ps->duration_nsec);
}

static const char *
mp_name(uint16_t type)
{
    switch (type) {
    case OFPMP_DESC: return "desc";
    case OFPMP_FLOW: return "flow_stats";
    case OFPMP_AGGREGATE: return "aggregate_stats";
    case OFPMP_PORT_STATS: return "port_stats";
    case OFPMP_PORT_DESC: return "port_desc";
    case OFPMP_TABLE: return "table_stats";
    default: return NULL;
    }
}

static void
put_multipart(struct ds *ds, bool request, const struct ofp_multipart *mp,
              uint32_t xid)
{
    const char *name = mp_name(mp->type);
    if (name) {
        ds_put(ds, "%s_%s xid=0x%" PRIx32, name, request ? "request" : "reply",
               xid);
    } else {
        ds_put(ds, "multipart_%s xid=0x%" PRIx32 " type=%u",
               request ? "request" : "reply", xid, mp->type);
    }
    if (mp->flags & OFPMPF_REQ_MORE) {
        ds_put(ds, " flags=more");
    }
    if (mp->flags & ~OFPMPF_REQ_MORE) {
        ds_put(ds, " flags=0x%x", mp->flags);
    }

    if (request) {
        if (mp->type == OFPMP_FLOW || mp->type == OFPMP_AGGREGATE) {
            put_flow_stats_request(ds, &mp->flow_req);
        } else if (mp->type == OFPMP_PORT_STATS) {
            ds_put(ds, " port=");
            put_port(ds, mp->port_no);
        }
        return;
    }

    struct ofp_mp_iter it;
    ofp_mp_iter_init(&it, mp);
    const char *sep = ": {";
    switch (mp->type) {
    case OFPMP_DESC:
        put_quoted(ds, "mfr", mp->desc.mfr_desc);
        put_quoted(ds, "hw", mp->desc.hw_desc);
        put_quoted(ds, "sw", mp->desc.sw_desc);
        put_quoted(ds, "serial", mp->desc.serial_num);
        put_quoted(ds, "dp", mp->desc.dp_desc);
        return;
    case OFPMP_AGGREGATE:
        ds_put(ds, " packets=%" PRIu64 " bytes=%" PRIu64 " flows=%" PRIu32,
               mp->aggregate.packet_count, mp->aggregate.byte_count,
               mp->aggregate.flow_count);
        return;
    case OFPMP_FLOW: {
        struct ofp_flow_stats *fs = calloc(1, sizeof *fs);
        if (!fs) {
            ds->failed = true;
            return;
        }
        ds_put(ds, " flows=%zu", mp->n_entries);
        while (ofp_flow_stats_next(&it, fs)) {
            ds_put(ds, "%s", sep);
            put_flow_stats(ds, fs, true);
            ds_put(ds, "}");
            sep = ", {";
        }
        ofp_flow_stats_destroy(fs);
        free(fs);
        return;
    }
    case OFPMP_PORT_STATS: {
        struct ofp_port_stats ps;
        ds_put(ds, " ports=%zu", mp->n_entries);
        while (ofp_port_stats_next(&it, &ps)) {
            ds_put(ds, "%s", sep);
            put_port_stats(ds, &ps);
            ds_put(ds, "}");
            sep = ", {";
        }
        return;
    }
    case OFPMP_TABLE: {
        struct ofp_table_stats ts;
        ds_put(ds, " tables=%zu", mp->n_entries);
        while (ofp_table_stats_next(&it, &ts)) {
            ds_put(ds,
                   "%stable=%u active=%" PRIu32 " lookup=%" PRIu64
                   " matched=%" PRIu64 "}",
                   sep, ts.table_id, ts.active_count, ts.lookup_count,
                   ts.matched_count);
            sep = ", {";
        }
        return;
    }
    case OFPMP_PORT_DESC: {
        struct ofp_port p;
        ds_put(ds, " ports=%zu", mp->n_entries);
        while (ofp_port_desc_next(&it, &p)) {
            ds_put(ds, "%s", sep);
            put_port_desc(ds, &p);
            ds_put(ds, "}");
            sep = ", {";
        }
        return;
    }
    default:
        ds_put(ds, " body_len=%zu", mp->body_len);
        return;
    }
}

static void
put_version(struct ds *ds, unsigned v)
{
    if (v >= 1 && v <= 6) {
        ds_put(ds, "1.%u", v - 1);
    } else {
        ds_put(ds, "v%u", v);
    }
}

static void
put_hello(struct ds *ds, const struct ofp_hello *h)
{
    ds_put(ds, " version=");
    put_version(ds, h->version);
    if (h->has_bitmap) {
        const char *sep = "";
        ds_put(ds, " versions=");
        for (unsigned v = 0; v < 32; v++) {
            if (h->bitmap & (1u << v)) {
                ds_put(ds, "%s", sep);
                put_version(ds, v);
                sep = ",";
            }
        }
        if (!*sep) {
            ds_put(ds, "none");
        }
    }
}

static void
put_error(struct ds *ds, const struct ofp_error *e)
{
    const char *tname = ofperr_type_name(e->type);
    enum ofperr known = ofperr_from_wire(e->type, e->code);
    if (tname) {
        ds_put(ds, " type=%s", tname);
    } else {
        ds_put(ds, " type=%u", e->type);
    }
    if (e->type == OFPET_EXPERIMENTER) {
        ds_put(ds, " exp_type=%u experimenter=0x%" PRIx32, e->code,
               e->experimenter);
    } else if (known) {
        ds_put(ds, " code=%s", ofperr_name(known));
    } else {
        ds_put(ds, " code=%u", e->code);
    }
    ds_put(ds, " data_len=%zu", e->data_len);
    if (e->data_len >= sizeof(struct ofp13_header)) {
        const struct ofp13_header *oh = (const void *)e->data;
        ds_put(ds, " request=%s(xid=0x%" PRIx32 ")", ofp_type_name(oh->type),
               ofp_ntoh32(oh->xid));
    }
}

static void
put_hex(struct ds *ds, const uint8_t *data, size_t len)
{
    ds_put(ds, " data_len=%zu", len);
    if (len) {
        ds_put(ds, " data=");
        for (size_t i = 0; i < len && i < 32; i++) {
            ds_put(ds, "%02x", data[i]);
        }
        if (len > 32) {
            ds_put(ds, "...");
        }
    }
}

static const char *const role_names[] = {"nochange", "equal", "master",
                                         "slave"};

static void
put_msg(struct ds *ds, const struct ofp_msg *msg)
{
    if (msg->type == OFPT_MULTIPART_REQUEST ||
        msg->type == OFPT_MULTIPART_REPLY) {
        put_multipart(ds, msg->type == OFPT_MULTIPART_REQUEST, &msg->mp,
                      msg->xid);
        return;
    }
    ds_put(ds, "%s xid=0x%" PRIx32, ofp_type_name(msg->type), msg->xid);
    switch (msg->type) {
    case OFPT_HELLO:
        put_hello(ds, &msg->hello);
        break;
    case OFPT_ERROR:
        put_error(ds, &msg->error);
        break;
    case OFPT_ECHO_REQUEST:
    case OFPT_ECHO_REPLY:
        put_hex(ds, msg->echo.data, msg->echo.data_len);
        break;
    case OFPT_FEATURES_REPLY: {
        static const char *const caps[] = {
            "flow_stats", "table_stats", "port_stats", "group_stats",
            "bit4",       "ip_reasm",    "queue_stats", "bit7",
            "port_blocked",
        };
        const struct ofp_features *f = &msg->features;
        ds_put(ds,
               " dpid=0x%016" PRIx64 " n_buffers=%" PRIu32
               " n_tables=%u auxiliary_id=%u capabilities=",
               f->datapath_id, f->n_buffers, f->n_tables, f->auxiliary_id);
        const char *sep = "";
        for (unsigned i = 0; i < 32; i++) {
            if (f->capabilities & (1u << i)) {
                if (i < sizeof caps / sizeof *caps) {
                    ds_put(ds, "%s%s", sep, caps[i]);
                } else {
                    ds_put(ds, "%sbit%u", sep, i);
                }
                sep = ",";
            }
        }
        if (!*sep) {
            ds_put(ds, "none");
        }
        break;
    }
    case OFPT_GET_CONFIG_REPLY:
    case OFPT_SET_CONFIG: {
        static const char *const frag[] = {"normal", "drop", "reasm",
                                           "mask"};
        ds_put(ds, " frag=%s miss_send_len=%u",
               frag[msg->config.flags & OFPC_FRAG_MASK],
               msg->config.miss_send_len);
        break;
    }
    case OFPT_FLOW_MOD:
        put_flow_mod(ds, &msg->flow_mod);
        break;
    case OFPT_FLOW_REMOVED:
        put_flow_removed(ds, &msg->flow_removed);
        break;
    case OFPT_PACKET_IN:
        put_packet_in(ds, &msg->packet_in);
        break;
    case OFPT_PACKET_OUT:
        put_packet_out(ds, &msg->packet_out);
        break;
    case OFPT_PORT_STATUS: {
        static const char *const reasons[] = {"add", "delete", "modify"};
        uint8_t r = msg->port_status.reason;
        if (r < 3) {
            ds_put(ds, " reason=%s ", reasons[r]);
        } else {
            ds_put(ds, " reason=%u ", r);
        }
        put_port_desc(ds, &msg->port_status.desc);
        break;
    }
    case OFPT_ROLE_REQUEST:
    case OFPT_ROLE_REPLY:
        ds_put(ds, " role=%s generation_id=%" PRIu64,
               role_names[msg->role.role & 3], msg->role.generation_id);
        break;
    case OFPT_SET_ASYNC:
    case OFPT_GET_ASYNC_REPLY:
        ds_put(ds, " packet_in=0x%" PRIx32 "/0x%" PRIx32
               " port_status=0x%" PRIx32 "/0x%" PRIx32
               " flow_removed=0x%" PRIx32 "/0x%" PRIx32,
               msg->async.packet_in[0], msg->async.packet_in[1],
               msg->async.port_status[0], msg->async.port_status[1],
               msg->async.flow_removed[0], msg->async.flow_removed[1]);
        break;
    default:
        break;
    }
}

char *
ofp_msg_to_string(const struct ofp_msg *msg)
{
    struct ds ds = {0};
    strbuf_init(&ds.sb);
    put_msg(&ds, msg);
    return ds_steal(&ds);
}

char *
ofp_to_string(const void *data, size_t len)
{
    struct ofp_msg *msg = malloc(sizeof *msg);
    if (!msg) {
        return NULL;
    }
    enum ofperr err = ofp_decode(data, len, msg);
    char *s;
    if (err) {
        struct ds ds = {0};
        strbuf_init(&ds.sb);
        ds_put(&ds, "bad message: %s", ofperr_name(err));
        if (len >= sizeof(struct ofp13_header)) {
            ds_put(&ds, " (%s xid=0x%" PRIx32 " len=%zu)",
                   ofp_type_name(msg->type), msg->xid, len);
        } else {
            ds_put(&ds, " (%zu bytes)", len);
        }
        s = ds_steal(&ds);
    } else {
        s = ofp_msg_to_string(msg);
        ofp_msg_destroy(msg);
    }
    free(msg);
    return s;
}

char *
ofp_match_to_string(const struct ofp_match *m)
{
    struct ds ds = {0};
    strbuf_init(&ds.sb);
    if (m->present) {
        put_match(&ds, m);
    } else {
        ds_put(&ds, "any");
    }
    return ds_steal(&ds);
}

char *
ofp_instructions_to_string(const struct ofp_instructions *insts)
{
    struct ds ds = {0};
    strbuf_init(&ds.sb);
    put_instructions(&ds, insts);
    return ds_steal(&ds);
}

char *
ofp_flow_stats_to_string(const struct ofp_flow_stats *fs, bool with_counters)
{
    struct ds ds = {0};
    strbuf_init(&ds.sb);
    put_flow_stats(&ds, fs, with_counters);
    return ds_steal(&ds);
}
