/* binding_rules.c: the anti-spoofing intent a binding implies (see
 * mignet/binding.h and docs/port-security.md): abstract allow and drop
 * rules for the traffic from a VM's port.
 *
 * Pure: it knows no OpenFlow encoding and no flow table (the agent turns
 * these rules into flows), and never reads a clock or does I/O. */
#include "mignet/binding.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/addr.h"
#include "mignet/dhcp.h"

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define IP_PROTO_UDP 17
#define PRIO_GUARD 300
#define PRIO_ALLOW 200
#define PRIO_DEFAULT 100

static struct binding_rule *
rule_new(struct binding_rule *r, enum binding_rule_kind kind, bool drop,
         uint16_t priority, uint32_t port)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->drop = drop;
    r->priority = priority;
    r->match = BINDING_M_IN_PORT;
    r->in_port = port;
    return r;
}

/* Matches Ethernet source 'mac' and EtherType 'type'. */
static void
rule_eth(struct binding_rule *r, const uint8_t mac[6], uint16_t type)
{
    r->match |= BINDING_M_ETH_SRC | BINDING_M_ETH_TYPE;
    memcpy(r->eth_src, mac, 6);
    r->eth_type = type;
}

static void
rule_udp(struct binding_rule *r, uint16_t src, uint16_t dst)
{
    r->match |= BINDING_M_ETH_TYPE | BINDING_M_IP_PROTO | BINDING_M_UDP_SRC;
    r->eth_type = ETH_TYPE_IPV4;
    r->ip_proto = IP_PROTO_UDP;
    r->udp_src = src;
    if (dst) {
        r->match |= BINDING_M_UDP_DST;
        r->udp_dst = dst;
    }
}

static void
rule_arp(struct binding_rule *r, const uint8_t mac[6], uint32_t spa)
{
    rule_eth(r, mac, ETH_TYPE_ARP);
    r->match |= BINDING_M_ARP_SHA | BINDING_M_ARP_SPA;
    memcpy(r->arp_sha, mac, 6);
    r->arp_spa = spa;
}

/* DHCP server messages are dropped, DHCP client messages from 'mac' with
 * source 0.0.0.0 allowed; returns the rules written. */
static size_t
rules_dhcp(uint32_t port, const uint8_t mac[6], struct binding_rule *out)
{
    rule_udp(rule_new(&out[0], BINDING_RULE_DROP_DHCP_SERVER, true,
                      PRIO_GUARD, port),
             DHCP_PORT_SERVER, 0);
    struct binding_rule *r = rule_new(&out[1], BINDING_RULE_ALLOW_DHCP,
                                      false, PRIO_ALLOW, port);
    rule_eth(r, mac, ETH_TYPE_IPV4);
    r->match |= BINDING_M_IP_SRC;
    r->ip_src = 0;
    rule_udp(r, DHCP_PORT_CLIENT, DHCP_PORT_SERVER);
    return 2;
}

size_t
binding_rules(const struct binding *b, uint32_t port,
              struct binding_rule out[BINDING_MAX_RULES])
{
    uint32_t p = b->port ? b->port : port;
    struct binding_rule *r;
    size_t n;

    if (!p) {
        return 0;
    }
    if (b->port_status == BINDING_PORT_DISABLE) {
        rule_new(&out[0], BINDING_RULE_DROP_ALL, true, PRIO_DEFAULT, p);
        return 1;
    }
    if (b->port_security == BINDING_TRUST) {
        rule_new(&out[0], BINDING_RULE_ALLOW_ALL, false, PRIO_DEFAULT, p);
        return 1;
    }
    n = rules_dhcp(p, b->mac, out);
    r = rule_new(&out[n++], BINDING_RULE_ALLOW_IP, false, PRIO_ALLOW, p);
    rule_eth(r, b->mac, ETH_TYPE_IPV4);
    r->match |= BINDING_M_IP_SRC;
    r->ip_src = b->ip;
    rule_arp(rule_new(&out[n++], BINDING_RULE_ALLOW_ARP, false, PRIO_ALLOW,
                      p),
             b->mac, b->ip);
    rule_arp(rule_new(&out[n++], BINDING_RULE_ALLOW_ARP_PROBE, false,
                      PRIO_ALLOW, p),
             b->mac, 0);
    rule_new(&out[n++], BINDING_RULE_DROP_ALL, true, PRIO_DEFAULT, p);
    return n;
}

size_t
binding_rules_unbound(uint32_t port, const uint8_t mac[6],
                      struct binding_rule out[BINDING_MAX_RULES])
{
    if (!port) {
        return 0;
    }
    size_t n = rules_dhcp(port, mac, out);
    rule_new(&out[n++], BINDING_RULE_DROP_ALL, true, PRIO_DEFAULT, port);
    return n;
}

int
binding_rule_format(const struct binding_rule *r, char *buf, size_t len)
{
    char mac[ADDR_MAC_STRLEN], ip[ADDR_IPV4_STRLEN];
    size_t off = 0;
    int n;

#define RULE_PUT(...)                                                        \
    do {                                                                     \
        n = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0, \
                     __VA_ARGS__);                                           \
        if (n < 0) {                                                         \
            return n;                                                        \
        }                                                                    \
        off += (size_t) n;                                                   \
    } while (0)

    if (len) {
        buf[0] = '\0';
    }
    RULE_PUT("in_port=%" PRIu32, r->in_port);
    if (r->match & BINDING_M_ETH_SRC) {
        addr_format_mac(r->eth_src, mac);
        RULE_PUT(",dl_src=%s", mac);
    }
    if (r->match & BINDING_M_ETH_TYPE) {
        RULE_PUT(",dl_type=0x%04x", (unsigned) r->eth_type);
    }
    if (r->match & BINDING_M_IP_SRC) {
        addr_format_ipv4(r->ip_src, ip);
        RULE_PUT(",nw_src=%s", ip);
    }
    if (r->match & BINDING_M_IP_PROTO) {
        RULE_PUT(",nw_proto=%u", (unsigned) r->ip_proto);
    }
    if (r->match & BINDING_M_UDP_SRC) {
        RULE_PUT(",tp_src=%u", (unsigned) r->udp_src);
    }
    if (r->match & BINDING_M_UDP_DST) {
        RULE_PUT(",tp_dst=%u", (unsigned) r->udp_dst);
    }
    if (r->match & BINDING_M_ARP_SHA) {
        addr_format_mac(r->arp_sha, mac);
        RULE_PUT(",arp_sha=%s", mac);
    }
    if (r->match & BINDING_M_ARP_SPA) {
        addr_format_ipv4(r->arp_spa, ip);
        RULE_PUT(",arp_spa=%s", ip);
    }
#undef RULE_PUT
    return (int) off;
}
