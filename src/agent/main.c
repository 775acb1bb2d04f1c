/* main.c: `mignet-agent`, the per-node agent: flags and a config file of
 * the same names (agent_conf.h; flags win); agent.c runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/agent_conf.h"
#include "lib/log.h"

static void
usage(FILE *f)
{
    fprintf(f,
"usage: mignet-agent --node ID --ofp unix:PATH [options]\n"
"\n"
"The per-node agent of mignet: programs this node's Open vSwitch bridge\n"
"over OpenFlow 1.3 from mignetd's instructions and the gateway map.\n"
"\n"
"  --node ID              this node's id (as registered with mignetd)\n"
"  --ofp unix:PATH        the bridge's OpenFlow socket (RUNDIR/BR.mgmt)\n"
"  --ovsdb unix:PATH      the node's ovsdb-server (RUNDIR/db.sock): find a\n"
"                         VM's port by external_ids:iface-id, then by its\n"
"                         name (default: by name alone)\n"
"  --controller H:P       mignetd's agent channel (default 127.0.0.1:7481);\n"
"                         H:P,H:P... for replicas: the agent follows the\n"
"                         leader and fails over to the next\n"
"  --gateway URL          mignetd's REST/gateway (default\n"
"                         http://127.0.0.1:7480; http:// only: https://\n"
"                         is refused); one per --controller address to\n"
"                         follow the channel's replica, else tried in turn\n"
"  --tunnel-port NAME     overlay port on the bridge (default vxlan0)\n"
"  --refresh-ms MS        gateway poll interval (default 2000)\n"
"  --refresh-jitter F     +- fraction of the interval (default 0.1)\n"
"  --stats-ms MS          relay flow statistics interval (default 1000)\n"
"  --vnet-stats-ms MS     tenant virtual switches' counters interval\n"
"                         (default 500; 0: only on request)\n"
"  --metrics H:P          serve GET /metrics (Prometheus) there\n"
"  --dhcp-snoop MODE      who turns DHCP ACKs seen on trusted ports into\n"
"                         bindings: controller (default: sent up),\n"
"                         agent (built here and reported), off\n"
"  --token-file FILE      the node's token (mignet node add --token-out)\n"
"  --tls-ca FILE          TLS to the channel; mignetd's CA (PEM)\n"
"  --tls-cert FILE        the node's client certificate (CN = node id)\n"
"  --tls-key FILE         its key; with --tls-cert no token is needed\n"
"  --log-level LEVEL      debug, info, warn, error (default info)\n"
"  --config FILE          read 'name = value' lines naming these flags\n"
"                         (flags win); SIGHUP reads it again\n"
"  --version              print the version\n"
"  --help                 this text\n");
}

static const struct option longopts[] = {
    {"node", required_argument, NULL, 'n'},
    {"ofp", required_argument, NULL, 'o'},
    {"ovsdb", required_argument, NULL, 'O'},
    {"controller", required_argument, NULL, 'c'},
    {"gateway", required_argument, NULL, 'g'},
    {"tunnel-port", required_argument, NULL, 't'},
    {"refresh-ms", required_argument, NULL, 'r'},
    {"refresh-jitter", required_argument, NULL, 'j'},
    {"stats-ms", required_argument, NULL, 's'},
    {"vnet-stats-ms", required_argument, NULL, 'S'},
    {"metrics", required_argument, NULL, 'm'},
    {"dhcp-snoop", required_argument, NULL, 'd'},
    {"log-level", required_argument, NULL, 'l'},
    {"token-file", required_argument, NULL, 'T'},
    {"tls-ca", required_argument, NULL, 'A'},
    {"tls-cert", required_argument, NULL, 'C'},
    {"tls-key", required_argument, NULL, 'K'},
    {"config", required_argument, NULL, 'F'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A name a config file may set: a flag with a value, not --config. */
static bool
conf_known(const char *name)
{
    for (const struct option *lo = longopts; lo->name; lo++) {
        if (!strcmp(lo->name, name)) {
            return lo->has_arg == required_argument && lo->val != 'F';
        }
    }
    return false;
}

/* The value of --config in 'argv' (the last one), or NULL. */
static const char *
find_config(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            break;
        }
        if (!strncmp(argv[i], "--config=", 9)) {
            path = argv[i] + 9;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            path = argv[++i];
        }
    }
    return path;
}

/* Whether --log-level is on the command line itself. */
static bool
has_log_level_flag(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--log-level")
            || !strncmp(argv[i], "--log-level=", 12)) {
            return true;
        }
    }
    return false;
}

static int agent_main(int argc, char **argv, struct agent_options *o);

int
main(int argc, char **argv)
{
    struct agent_options o;
    agent_options_default(&o);
    static struct agent_conf conf; /* its strings live as long as 'o' */
    const char *config = find_config(argc, argv);
    if (!config) {
        return agent_main(argc, argv, &o);
    }
    char err[600];
    if (agent_conf_read(config, conf_known, &conf, err, sizeof err)) {
        fprintf(stderr, "mignet-agent: --config: %s\n", err);
        return 2;
    }
    /* The file's settings first, then the command line: flags win. */
    char **all = calloc((size_t) argc + conf.n + 1, sizeof *all);
    if (!all) {
        fprintf(stderr, "mignet-agent: out of memory\n");
        return 1;
    }
    all[0] = argv[0];
    memcpy(all + 1, conf.args, conf.n * sizeof *all);
    memcpy(all + 1 + conf.n, argv + 1, (size_t) (argc - 1) * sizeof *all);
    o.config_file = config;
    o.conf = &conf;
    o.conf_known = conf_known;
    o.log_level_flag = has_log_level_flag(argc, argv);
    int rc = agent_main(argc + (int) conf.n, all, &o);
    free(all);
    agent_conf_destroy(&conf);
    return rc;
}

static int
agent_main(int argc, char **argv, struct agent_options *op)
{
    struct agent_options o = *op;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o.node = optarg; break;
        case 'o': o.ofp = optarg; break;
        case 'O':
            if (strncmp(optarg, "unix:", 5) || !optarg[5]) {
                fprintf(stderr, "mignet-agent: --ovsdb takes unix:PATH, "
                        "not '%s'\n", optarg);
                return 2;
            }
            o.ovsdb = optarg;
            break;
        case 'c': o.controller = optarg; break;
        case 'g': o.gateway = optarg; break;
        case 't': o.tunnel_port = optarg; break;
        case 'm': o.metrics = optarg; break;
        case 'T': o.token_file = optarg; break;
        case 'A': o.tls_ca = optarg; break;
        case 'C': o.tls_cert = optarg; break;
        case 'K': o.tls_key = optarg; break;
        case 'd':
            if (!agent_dhcp_snoop_parse(optarg, &o.dhcp_snoop)) {
                fprintf(stderr, "mignet-agent: --dhcp-snoop takes "
                        "controller, agent or off, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'r':
        case 's': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || !v || v > 3600000) {
                fprintf(stderr, "mignet-agent: bad interval '%s'\n", optarg);
                return 2;
            }
            if (c == 'r') {
                o.refresh_ms = (uint32_t) v;
            } else {
                o.stats_ms = (uint32_t) v;
            }
            break;
        }
        case 'S': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || !*optarg || v > 3600000) {
                fprintf(stderr, "mignet-agent: bad interval '%s'\n", optarg);
                return 2;
            }
            o.vnet_stats_ms = (uint32_t) v;
            break;
        }
        case 'j':
            o.refresh_jitter = strtod(optarg, &end);
            if (*end || o.refresh_jitter < 0 || o.refresh_jitter >= 1) {
                fprintf(stderr, "mignet-agent: bad jitter '%s'\n", optarg);
                return 2;
            }
            break;
        case 'l': {
            enum log_level lvl;
            if (!log_level_parse(optarg, &lvl)) {
                fprintf(stderr, "mignet-agent: bad log level '%s'\n",
                        optarg);
                return 2;
            }
            log_set_level(lvl);
            break;
        }
        case 'F':
            break; /* read before (main) */
        case 'V':
            printf("mignet-agent %s\n", MIGNET_AGENT_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !o.node || !o.ofp) {
        usage(stderr);
        return 2;
    }
    if ((o.tls_cert || o.tls_key) && !o.tls_ca) {
        fprintf(stderr, "mignet-agent: --tls-cert and --tls-key need "
                "--tls-ca\n");
        return 2;
    }
    if (!o.token_file && !o.tls_cert) {
        fprintf(stderr, "mignet-agent: give the node's credential: "
                "--token-file FILE or --tls-cert/--tls-key\n");
        return 2;
    }
    return agent_run(&o);
}
