/* agent.h: mignet-agent, the per-node agent (as ovn-controller is OVN's).
 *
 * It is the OpenFlow 1.3 controller of its node's integration bridge: it
 * keeps a desired flow table computed from what mignetd told it (agent
 * channel) and from its copy of the gateway map (polled on its own
 * refresh interval), sends Open vSwitch only the differences, and
 * acknowledges instructions -- and reports map refreshes -- only once a
 * barrier confirms the flows are in place. */
#ifndef MIGNET_AGENT_AGENT_H
#define MIGNET_AGENT_AGENT_H 1

#include <stdbool.h>
#include <stdint.h>

struct agent_conf;

/* mignet_agent_build_info's version (as mignetd's). */
#define MIGNET_AGENT_VERSION MIGNET_VERSION /* CMakeLists.txt project() */

/* Who turns DHCP ACKs seen on trusted ports into bindings (seed 003). */
enum agent_dhcp_snoop {
    AGENT_SNOOP_CONTROLLER, /* send them up ('dhcp'): FIG. 3 (default) */
    AGENT_SNOOP_AGENT,      /* build the binding here, report it: FIG. 4 */
    AGENT_SNOOP_OFF,        /* do not punt DHCP at all */
};
/* "controller", "agent", "off"; false for anything else. */
bool agent_dhcp_snoop_parse(const char *, enum agent_dhcp_snoop *);

struct agent_options {
    const char *node;        /* this node's id */
    const char *controller;  /* HOST:PORT of mignetd's agent channel */
    const char *gateway;     /* http://HOST:PORT of mignetd's REST */
    const char *ofp;         /* unix:PATH of the bridge's OpenFlow socket */
    /* unix:PATH of the node's ovsdb-server: VMs' ports are found by
     * external_ids:iface-id (then by name); NULL: by name alone. */
    const char *ovsdb;
    const char *tunnel_port; /* name of the overlay port on the bridge */
    const char *metrics;     /* ADDR:PORT for GET /metrics, NULL = none */
    uint32_t refresh_ms;     /* gateway poll interval */
    double refresh_jitter;   /* fraction, uniform +- */
    uint32_t stats_ms;       /* relay flow statistics poll interval */
    uint32_t vnet_stats_ms;  /* tenant switches' counters; 0 = on request */
    uint32_t reconnect_ms;
    uint64_t seed;           /* jitter PRNG seed (0: from the node id) */
    enum agent_dhcp_snoop dhcp_snoop;
    /* Node identity (docs/mignetd.md): the node token's file, and TLS to
     * the channel (the controller's CA; the node's certificate and key,
     * optional with a token).  NULL = none. */
    const char *token_file;
    const char *tls_ca, *tls_cert, *tls_key;
    /* --config (agent_conf.h), read again on SIGHUP (agent_reload.c):
     * its path, its settings as read at start, which names it accepts,
     * and whether --log-level was a flag (flags win).  NULL = none. */
    const char *config_file;
    const struct agent_conf *conf;
    bool (*conf_known)(const char *name);
    bool log_level_flag;
};

void agent_options_default(struct agent_options *);

/* Runs the agent until SIGTERM/SIGINT; SIGHUP reloads (agent_reload.c).
 * Returns the exit code. */
int agent_run(const struct agent_options *);

#endif /* MIGNET_AGENT_AGENT_H */
