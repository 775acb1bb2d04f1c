/* fabric_flows.c: planned paths as OpenFlow flows on fabric switches.
 *
 * Each hop of a path forwards the migration's TCP stream from the port it
 * enters on to the port it leaves by, and the answers the other way, with
 * in_port in the match so a flow can never send a packet back where it
 * came from.  It must never produce a flow the switch would refuse
 * (ofp_flow_check) and never a flow without the migration's cookie. */
#include "controller/fabric_flows.h"

#include <errno.h>
#include <string.h>

#include "lib/lldp.h"

uint64_t
fabric_cookie(uint64_t migration, unsigned path)
{
    return FABRIC_COOKIE_TAG | (migration & FABRIC_MIGRATION_MAX) << 8
           | (path & 0xff);
}

size_t
fabric_path_n_flows(size_t n_hops, bool arp)
{
    return n_hops * (arp ? 4 : 2);
}

/* One flow: 'in' to 'out' for packets from 'a' to 'b'.  'tcp' says which
 * TCP port field carries the key's port (OFP_F_TCP_DST forward,
 * OFP_F_TCP_SRC back); OFP_F_N makes it an ARP flow. */
static int
one_flow(const struct fabric_path_key *k, uint64_t dpid, uint32_t in,
         uint32_t out, uint32_t a, uint32_t b, enum ofp_field tcp,
         struct fabric_flow *f)
{
    struct ofp_flow_mod *fm = &f->fm;
    f->dpid = dpid;
    ofp_flow_mod_init(fm, OFPFC_ADD);
    fm->cookie = k->cookie;
    fm->priority = k->priority;
    ofp_match_set(&fm->match, OFP_F_IN_PORT, in);
    if (tcp == OFP_F_N) {
        ofp_match_set(&fm->match, OFP_F_ETH_TYPE, 0x0806);
        ofp_match_set(&fm->match, OFP_F_ARP_SPA, a);
        ofp_match_set(&fm->match, OFP_F_ARP_TPA, b);
    } else {
        ofp_match_set(&fm->match, OFP_F_ETH_TYPE, 0x0800);
        ofp_match_set(&fm->match, OFP_F_IP_PROTO, 6);
        ofp_match_set(&fm->match, OFP_F_IPV4_SRC, a);
        ofp_match_set(&fm->match, OFP_F_IPV4_DST, b);
        ofp_match_set(&fm->match, tcp, k->tcp_port);
    }
    if (ofp_actions_output(ofp_instructions_apply(&fm->insts), out)
        || ofp_flow_check(&fm->match, &fm->insts)) {
        return EINVAL;
    }
    return 0;
}

int
fabric_path_flows(const struct route_hop *hops, size_t n_hops,
                  const struct fabric_path_key *k, struct fabric_flow *out,
                  size_t *n)
{
    size_t m = 0;
    for (size_t i = 0; i < n_hops; i++) {
        const struct route_hop *h = &hops[i];
        if (!h->in_port || !h->out_port || h->in_port > OFPP_MAX
            || h->out_port > OFPP_MAX || h->in_port == h->out_port) {
            return EINVAL;
        }
    }
    for (size_t i = 0; i < n_hops; i++) {
        const struct route_hop *h = &hops[i];
        int err = one_flow(k, h->dpid, h->in_port, h->out_port, k->src_ip,
                           k->dst_ip, OFP_F_TCP_DST, &out[m++]);
        err = err ? err
                  : one_flow(k, h->dpid, h->out_port, h->in_port, k->dst_ip,
                             k->src_ip, OFP_F_TCP_SRC, &out[m++]);
        if (!err && k->arp) {
            err = one_flow(k, h->dpid, h->in_port, h->out_port, k->src_ip,
                           k->dst_ip, OFP_F_N, &out[m++]);
            err = err ? err
                      : one_flow(k, h->dpid, h->out_port, h->in_port,
                                 k->dst_ip, k->src_ip, OFP_F_N, &out[m++]);
        }
        if (err) {
            fabric_flows_destroy(out, m);
            return err;
        }
    }
    *n = m;
    return 0;
}

void
fabric_flows_destroy(struct fabric_flow *flows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ofp_flow_mod_destroy(&flows[i].fm);
    }
}

void
fabric_delete_flows(uint64_t cookie, uint64_t mask, struct ofp_flow_mod *fm)
{
    ofp_flow_mod_init(fm, OFPFC_DELETE);
    fm->table_id = OFPTT_ALL;
    fm->cookie = cookie;
    fm->cookie_mask = mask;
}

void
fabric_lldp_punt_flow(struct ofp_flow_mod *fm)
{
    ofp_flow_mod_init(fm, OFPFC_ADD);
    fm->cookie = fabric_cookie(0, 0);
    fm->priority = FABRIC_PRIO_LLDP;
    ofp_match_set(&fm->match, OFP_F_ETH_TYPE, LLDP_ETHERTYPE);
    (void) ofp_actions_controller(ofp_instructions_apply(&fm->insts),
                                  OFPCML_NO_BUFFER);
}
