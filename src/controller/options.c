/* options.c: mignetd's settings from flags and a config file.
 *
 * One table names every setting once; flags (--name VALUE, --name=VALUE)
 * and config file lines (name = value) both go through it.  It must never
 * accept a value it cannot use exactly as given. */
#include "controller/options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/rest_parse.h"
#include "lib/sock.h"
#include "mignet/etcd.h"
#include "mignet/planner.h"
#include "mignet/store.h"

#define MIGNETD_VERSION MIGNET_VERSION /* CMakeLists.txt project() */

enum opt_kind {
    OPT_ADDR,     /* ADDR:PORT */
    OPT_PATH,
    OPT_STRATEGY,
    OPT_LEVEL,
    OPT_U32,      /* a field of struct mignetd_options */
    OPT_CORE,     /* a numeric core setting (core_override) */
    OPT_CONFIG,   /* --config, flags only */
    OPT_ROUTE,    /* a route strategy of the planner */
    OPT_TARGET,   /* unix:PATH or tcp:ADDR:PORT */
    OPT_SWITCH,   /* NAME=TARGET, repeatable */
    OPT_BOOL,     /* a flag without a value; "name = true|false" in files */
    OPT_STORE,    /* sqlite | etcd://HOST:PORT[,HOST:PORT...] */
    OPT_PREFIX,   /* an etcd key prefix: /NAME[/NAME...] */
};

struct opt_def {
    const char *name;
    enum opt_kind kind;
    size_t offset; /* into mignetd_options, or core_config for OPT_CORE */
    size_t size;   /* of a string field */
    uint32_t min, max;
    int core_index;
    const char *help;
};

#define OPT_STR(NAME, KIND, FIELD, HELP)                                     \
    {NAME, KIND, offsetof(struct mignetd_options, FIELD),                    \
     sizeof ((struct mignetd_options *) 0)->FIELD, 0, 0, -1, HELP}
#define OPT_NUM(NAME, FIELD, MIN, MAX, HELP)                                 \
    {NAME, OPT_U32, offsetof(struct mignetd_options, FIELD), 0, MIN, MAX,   \
     -1, HELP}
#define OPT_CORE_NUM(NAME, FIELD, IDX, MIN, MAX, HELP)                       \
    {NAME, OPT_CORE, offsetof(struct core_config, FIELD), 0, MIN, MAX, IDX, \
     HELP}

static const struct opt_def opt_defs[] = {
    OPT_STR("listen", OPT_ADDR, listen,
            "ADDR:PORT  northbound REST and gateway (127.0.0.1:7480)"),
    OPT_STR("agent-listen", OPT_ADDR, agent_listen,
            "ADDR:PORT  agent channel (127.0.0.1:7481)"),
    OPT_STR("state-dir", OPT_PATH, state_dir,
            "DIR  holds the store mignet.db (/var/lib/mignet)"),
    /* The store backend (docs/ha.md). */
    OPT_STR("store", OPT_STORE, store,
            "sqlite|etcd://HOST:PORT[,HOST:PORT...]  the durable store: "
            "STATE_DIR/mignet.db (sqlite, the default) or an etcd cluster"),
    OPT_STR("store-prefix", OPT_PREFIX, store_prefix,
            "/PATH  etcd: the key prefix of mignet's records (/mignet)"),
    {"serial-commits", OPT_BOOL,
     offsetof(struct mignetd_options, serial_commits), 0, 0, 0, -1,
     "commit each batch before the next starts filling (etcd pipelines "
     "them by default: one commit in flight while the next batch fills)"},
    OPT_NUM("store-max-txn-ops", store_max_txn_ops, 1, 10000000,
            "N  etcd: the server's --max-txn-ops; a batch of more records "
            "is refused (128)"),
    OPT_STR("store-cacert", OPT_PATH, store_cacert,
            "FILE  etcd: talk https to every endpoint, etcd's certificate "
            "verified against this PEM CA (and its host name or IP)"),
    OPT_STR("store-cert", OPT_PATH, store_cert,
            "FILE  etcd: PEM client certificate (etcd --client-cert-auth); "
            "with --store-key"),
    OPT_STR("store-key", OPT_PATH, store_key,
            "FILE  etcd: PEM private key of --store-cert"),
    /* Replicas and leader election (docs/ha.md). */
    OPT_STR("replica", OPT_PATH, replica,
            "NAME  run as one replica of several on the etcd store: only "
            "the elected leader serves (docs/ha.md)"),
    OPT_NUM("lease-ttl-s", lease_ttl_s, 2, 60,
            "N  the leader's etcd lease, seconds (3)"),
    OPT_STR("advertise-agents", OPT_ADDR, advertise_agents,
            "HOST:PORT  the agent channel as agents reach it, named to them "
            "while another replica leads (--agent-listen)"),
    OPT_STR("advertise-rest", OPT_PATH, advertise_rest,
            "URL  the REST API as clients reach it, named to them while "
            "another replica leads (http(s)://--listen)"),
    OPT_STR("config", OPT_CONFIG, config_file,
            "FILE  read 'name = value' settings (flags win)"),
    OPT_STR("log-level", OPT_LEVEL, log_level,
            "debug|info|warn|error (info)"),
    OPT_STR("access-log-level", OPT_LEVEL, access_log_level,
            "debug|info|warn|error  one line a REST request (debug)"),
    OPT_STR("strategy", OPT_STRATEGY, strategy,
            "NAME  how deletions are timed: mignet (the default); naive, "
            "fixed, fast-refresh, clone and seed are baselines for comparison, "
            "not for production"),
    OPT_STR("agent-tls-cert", OPT_PATH, tls_cert,
            "FILE  PEM certificate: agents must use TLS"),
    OPT_STR("agent-tls-key", OPT_PATH, tls_key,
            "FILE  PEM private key for --agent-tls-cert"),
    /* Node identity (docs/mignetd.md). */
    OPT_STR("agent-tls-ca", OPT_PATH, tls_ca,
            "FILE  PEM CA: an agent's client certificate signed by it "
            "with CN = node id authenticates the node"),
    OPT_STR("api-tls-cert", OPT_PATH, api_tls_cert,
            "FILE  PEM certificate: serve --listen over HTTPS"),
    OPT_STR("api-tls-key", OPT_PATH, api_tls_key,
            "FILE  PEM private key for --api-tls-cert"),
    OPT_STR("api-tokens", OPT_PATH, api_tokens,
            "FILE  bearer tokens, lines 'ROLE TOKEN [NAME]' (mode 0600)"),
    {"insecure", OPT_BOOL, offsetof(struct mignetd_options, insecure), 0,
     0, 0, -1, "allow a non-loopback listener without TLS and tokens"},
    OPT_NUM("heartbeat-ms", heartbeat_ms, 50, 600000,
            "N  agent heartbeat interval (1000)"),
    OPT_NUM("push-interval-ms", push_interval_ms, 0, 3600000,
            "N  map push to subscribed agents: at most one per node per "
            "N ms; 0 = off (10)"),
    OPT_NUM("max-body-bytes", max_body, 1024, 1048576,
            "N  request body limit (65536)"),
    OPT_NUM("vnet-key-base", vnet_key_base, 1, 16777215,
            "N  tunnel keys of tenant switch ports start here; VM VNIs "
            "stay below it (15728640 = 0xf00000)"),
    /* Limits of both listeners (docs/mignetd.md, "Limits"). */
    OPT_NUM("max-conns", max_conns, 1, 1000000,
            "N  open connections per listener; more are closed (512)"),
    OPT_NUM("max-conns-per-peer", max_conns_per_peer, 1, 1000000,
            "N  open connections per client address (64)"),
    OPT_NUM("request-timeout-ms", request_timeout_ms, 100, 3600000,
            "N  a REST request must arrive whole within this (10000)"),
    OPT_STR("fabric", OPT_PATH, fabric.file,
            "FILE  fabric topology (docs/planner.md); enables planning"),
    {"fabric-switch", OPT_SWITCH, 0, 0, 0, 0, -1,
     "NAME=unix:PATH|tcp:ADDR:PORT  an OpenFlow fabric switch "
     "(repeatable)"},
    OPT_STR("fabric-listen", OPT_TARGET, fabric.listen,
            "unix:PATH|tcp:ADDR:PORT  switches dial in here"),
    OPT_STR("fabric-strategy", OPT_ROUTE, fabric.strategy,
            "single|ecmp|dr  routing of a plan's first path (dr)"),
    OPT_NUM("fabric-poll-ms", fabric.poll_ms, 100, 3600000,
            "N  port statistics period for the links' load weights (5000)"),
    OPT_NUM("fabric-lldp-ms", fabric.lldp_ms, 100, 3600000,
            "N  LLDP discovery period; links expire after 3 (5000)"),
    OPT_NUM("fabric-link-mbit", fabric.link_mbit, 1, 1000000000,
            "N  capacity of a discovered link, Mbit/s (1000)"),
    OPT_NUM("fabric-port-base", fabric.port_base, 1, 65000,
            "N  TCP port of a migration's first path (49152)"),
    OPT_NUM("plan-setup-max-ms", fabric.setup_max_ms, 0, 3600000,
            "N  longest set-up of an added path (50)"),
    OPT_NUM("plan-max-paths", fabric.max_paths, 1, 64,
            "N  most paths of one migration (8)"),
    OPT_NUM("plan-cpu-free-pct", fabric.cpu_free_pct, 0, 100,
            "N  target CPU free when a request does not say (100)"),
    OPT_CORE_NUM("delay-floor-ms", delay_floor_ms, 0, 0, UINT32_MAX,
                 "N  shortest deletion delay"),
    OPT_CORE_NUM("delay-ceiling-ms", delay_ceiling_ms, 1, 0, UINT32_MAX,
                 "N  longest deletion delay"),
    OPT_CORE_NUM("fixed-delay-ms", fixed_delay_ms, 2, 0, UINT32_MAX,
                 "N  the delay of strategies without a dynamic one"),
    OPT_CORE_NUM("delay-margin-ms", delay_margin_ms, 3, 0, UINT32_MAX,
                 "N  margin added to the dynamic delay"),
    OPT_CORE_NUM("propagation-ms", propagation_ms, 4, 0, UINT32_MAX,
                 "N  control + data plane propagation bound"),
    OPT_CORE_NUM("inflight-ms", inflight_ms, 5, 0, UINT32_MAX,
                 "N  wait after the last acknowledgement"),
    OPT_CORE_NUM("prepare-timeout-ms", prepare_timeout_ms, 6, 1, UINT32_MAX,
                 "N  relay without waiting for both agents after this"),
    OPT_CORE_NUM("dev-factor", dev_factor, 7, 0, 1000,
                 "N  refresh bound = mean + N * deviation"),
    OPT_CORE_NUM("tombstones", tombstones, 8, 0, 100000000,
                 "N  removals remembered for incremental map reads"),
    OPT_CORE_NUM("refresh-floor-ms", refresh_floor_ms, 9, 0, 3600000,
                 "N  a refresh sooner than this is no refresh sample"),
};
#define N_OPT_DEFS (sizeof opt_defs / sizeof opt_defs[0])

static bool options_check_exposure(const struct mignetd_options *,
                                   char *err, size_t errlen);
static bool options_check_store_tls(const struct mignetd_options *,
                                    char *err, size_t errlen);

void
options_init(struct mignetd_options *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->listen, sizeof o->listen, "127.0.0.1:7480");
    snprintf(o->agent_listen, sizeof o->agent_listen, "127.0.0.1:7481");
    snprintf(o->state_dir, sizeof o->state_dir, "/var/lib/mignet");
    snprintf(o->strategy, sizeof o->strategy, "mignet");
    snprintf(o->store, sizeof o->store, "sqlite");
    snprintf(o->store_prefix, sizeof o->store_prefix, "/mignet");
    o->store_max_txn_ops = STORE_ETCD_MAX_TXN_OPS_DEFAULT;
    o->lease_ttl_s = 3;
    o->log_level = LOG_LEVEL_INFO;
    o->access_log_level = LOG_LEVEL_DEBUG;
    o->heartbeat_ms = 1000;
    o->push_interval_ms = 10;
    o->max_body = REST_MAX_BODY_DEFAULT;
    o->vnet_key_base = 0xf00000;
    o->max_conns = 512;
    o->max_conns_per_peer = 64;
    o->request_timeout_ms = 10000;
    snprintf(o->fabric.strategy, sizeof o->fabric.strategy, "dr");
    o->fabric.poll_ms = 5000;
    o->fabric.lldp_ms = 5000;
    o->fabric.link_mbit = 1000;
    o->fabric.port_base = 49152;
    o->fabric.setup_max_ms = 50;
    o->fabric.max_paths = 8;
    o->fabric.cpu_free_pct = 100;
    core_config_default(&o->core);
}

static const struct opt_def *
opt_find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPT_DEFS; i++) {
        /* Config files may spell names with '_' for '-'. */
        const char *d = opt_defs[i].name;
        if (strlen(d) != len) {
            continue;
        }
        size_t j = 0;
        while (j < len && (d[j] == name[j] || (d[j] == '-'
                                               && name[j] == '_'))) {
            j++;
        }
        if (j == len) {
            return &opt_defs[i];
        }
    }
    return NULL;
}

static bool
opt_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    if (!*s || *s == '-' || *s == '+') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        return false;
    }
    *out = (uint32_t) v;
    return true;
}

static bool
opt_switch_name_valid(const char *s, size_t len)
{
    if (!len || len > OPTIONS_SWITCH_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_'
              || c == '-')) {
            return false;
        }
    }
    return true;
}

bool
options_target_valid(const char *target)
{
    char host[OPTIONS_ADDR_MAX];
    uint16_t port;
    bool unix_ok = !strncmp(target, "unix:", 5) && target[5];
    bool tcp_ok = !strncmp(target, "tcp:", 4)
                  && sock_split_addr(target + 4, host, sizeof host, &port)
                  && port;
    return (unix_ok || tcp_ok) && strlen(target) < OPTIONS_TARGET_MAX;
}

bool
options_add_switch(struct mignetd_options *o, const char *value,
                   const char *where, char *err, size_t errlen)
{
    const char *eq = strchr(value, '=');
    size_t nlen = eq ? (size_t) (eq - value) : 0;
    if (!eq || !opt_switch_name_valid(value, nlen)) {
        snprintf(err, errlen, "%s: '%s' is not NAME=TARGET with NAME of "
                 "[A-Za-z0-9._-]", where, value);
        return false;
    }
    const char *target = eq + 1;
    if (!options_target_valid(target)) {
        snprintf(err, errlen, "%s: target '%s' is not unix:PATH or "
                 "tcp:ADDR:PORT", where, target);
        return false;
    }
    struct options_fabric *f = &o->fabric;
    for (size_t i = 0; i < f->n_switches; i++) {
        if (strlen(f->switches[i].name) == nlen
            && !memcmp(f->switches[i].name, value, nlen)) {
            snprintf(err, errlen, "%s: switch '%.*s' given twice", where,
                     (int) nlen, value);
            return false;
        }
    }
    if (f->n_switches >= OPTIONS_MAX_SWITCHES) {
        snprintf(err, errlen, "%s: more than %d fabric switches", where,
                 OPTIONS_MAX_SWITCHES);
        return false;
    }
    struct options_switch *sw = &f->switches[f->n_switches++];
    memcpy(sw->name, value, nlen);
    sw->name[nlen] = '\0';
    snprintf(sw->target, sizeof sw->target, "%s", target);
    return true;
}

/* Applies one setting; 'where' prefixes errors ("--listen", "f.conf:3"). */
static bool
opt_apply(struct mignetd_options *o, const struct opt_def *d,
          const char *value, const char *where, char *err, size_t errlen)
{
    char *base = (char *) o;
    switch (d->kind) {
    case OPT_ADDR: {
        char host[OPTIONS_ADDR_MAX];
        uint16_t port;
        if (!sock_split_addr(value, host, sizeof host, &port)) {
            snprintf(err, errlen, "%s: '%s' is not ADDR:PORT", where, value);
            return false;
        }
        break;
    }
    case OPT_PATH:
    case OPT_CONFIG:
        if (!*value) {
            snprintf(err, errlen, "%s: empty path", where);
            return false;
        }
        break;
    case OPT_STRATEGY: {
        struct core_config probe;
        core_config_default(&probe);
        if (!core_config_strategy(&probe, value)) {
            snprintf(err, errlen, "%s: unknown strategy '%s'", where, value);
            return false;
        }
        break;
    }
    case OPT_ROUTE: {
        enum route_strategy rs;
        if (!route_strategy_from_name(value, &rs)) {
            snprintf(err, errlen, "%s: '%s' is not single, ecmp or dr",
                     where, value);
            return false;
        }
        break;
    }
    case OPT_SWITCH:
        return options_add_switch(o, value, where, err, errlen);
    case OPT_STORE: {
        char why[256];
        if (strcmp(value, "sqlite")
            && (strncmp(value, "etcd://", 7)
                || !etcd_endpoints_valid(value, why, sizeof why))) {
            snprintf(err, errlen, "%s: '%s' is not sqlite or "
                     "etcd://HOST:PORT[,HOST:PORT...]", where, value);
            return false;
        }
        break;
    }
    case OPT_PREFIX: {
        size_t n = strlen(value);
        bool ok = n > 1 && value[0] == '/' && value[n - 1] != '/';
        for (size_t i = 0; ok && i < n; i++) {
            unsigned char c = (unsigned char) value[i];
            ok = c > 0x20 && c < 0x7f && !(c == '/' && value[i + 1] == '/');
        }
        if (!ok) {
            snprintf(err, errlen, "%s: '%s' is not a key prefix /NAME[/NAME"
                     "...] of printable characters", where, value);
            return false;
        }
        break;
    }
    case OPT_TARGET:
        if (!options_target_valid(value)) {
            snprintf(err, errlen, "%s: '%s' is not unix:PATH or "
                     "tcp:ADDR:PORT", where, value);
            return false;
        }
        break;
    case OPT_BOOL:
        if (strcmp(value, "true") && strcmp(value, "false")) {
            snprintf(err, errlen, "%s: '%s' is not true or false", where,
                     value);
            return false;
        }
        {
            bool v = !strcmp(value, "true");
            memcpy(base + d->offset, &v, sizeof v);
        }
        return true;
    case OPT_LEVEL: {
        enum log_level lv;
        if (!log_level_parse(value, &lv)) {
            snprintf(err, errlen, "%s: unknown log level '%s'", where,
                     value);
            return false;
        }
        memcpy(base + d->offset, &lv, sizeof lv);
        return true;
    }
    case OPT_U32:
    case OPT_CORE: {
        uint32_t v;
        if (!opt_parse_u32(value, d->min, d->max, &v)) {
            snprintf(err, errlen, "%s: '%s' is not an integer in %u..%u",
                     where, value, (unsigned) d->min, (unsigned) d->max);
            return false;
        }
        if (d->kind == OPT_U32) {
            memcpy(base + d->offset, &v, sizeof v);
        } else {
            o->core_override[d->core_index].set = true;
            o->core_override[d->core_index].value = v;
        }
        return true;
    }
    default:
        return false;
    }
    if (strlen(value) >= d->size) {
        snprintf(err, errlen, "%s: value too long", where);
        return false;
    }
    snprintf(base + d->offset, d->size, "%s", value);
    return true;
}

static char *
opt_trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

bool
options_apply_text(struct mignetd_options *o, const char *text,
                   const char *origin, char *err, size_t errlen)
{
    unsigned lineno = 0;
    const char *p = text;
    while (*p) {
        char line[1024];
        size_t len = strcspn(p, "\n");
        lineno++;
        char where[OPTIONS_PATH_MAX + 32];
        snprintf(where, sizeof where, "%s:%u", origin, lineno);
        if (len >= sizeof line) {
            snprintf(err, errlen, "%s: line too long", where);
            return false;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (p[len] == '\n');

        char *s = opt_trim(line);
        if (!*s || *s == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s: expected 'name = value'", where);
            return false;
        }
        *eq = '\0';
        char *name = opt_trim(s);
        char *value = opt_trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        const struct opt_def *d = opt_find(name, strlen(name));
        if (!d || d->kind == OPT_CONFIG) {
            snprintf(err, errlen, "%s: unknown setting '%s'", where, name);
            return false;
        }
        if (!opt_apply(o, d, value, where, err, errlen)) {
            return false;
        }
    }
    return true;
}

bool
options_finish(struct mignetd_options *o, char *err, size_t errlen)
{
    struct core_config c;
    core_config_default(&c);
    if (!core_config_strategy(&c, o->strategy)) {
        snprintf(err, errlen, "unknown strategy '%s'", o->strategy);
        return false;
    }
    for (size_t i = 0; i < N_OPT_DEFS; i++) {
        const struct opt_def *d = &opt_defs[i];
        if (d->kind == OPT_CORE && o->core_override[d->core_index].set) {
            memcpy((char *) &c + d->offset,
                   &o->core_override[d->core_index].value, sizeof(uint32_t));
        }
    }
    if (c.delay_floor_ms > c.delay_ceiling_ms) {
        snprintf(err, errlen,
                 "delay-floor-ms (%u) is above delay-ceiling-ms (%u)",
                 (unsigned) c.delay_floor_ms, (unsigned) c.delay_ceiling_ms);
        return false;
    }
    if (!o->tls_cert[0] != !o->tls_key[0]) {
        snprintf(err, errlen,
                 "agent-tls-cert and agent-tls-key go together");
        return false;
    }
    if (o->tls_ca[0] && !o->tls_cert[0]) {
        snprintf(err, errlen, "agent-tls-ca needs agent-tls-cert and "
                 "agent-tls-key (client certificates need TLS)");
        return false;
    }
    if (!options_check_exposure(o, err, errlen)) {
        return false;
    }
    if (o->replica[0] && strncmp(o->store, "etcd://", 7)) {
        snprintf(err, errlen, "replica needs store etcd://... (the "
                 "replicas elect their leader on etcd)");
        return false;
    }
    if (!options_check_store_tls(o, err, errlen)) {
        return false;
    }
    o->core = c;
    return true;
}

bool
options_store_is_etcd(const struct mignetd_options *o)
{
    return !strncmp(o->store, "etcd://", 7);
}

/* TLS to etcd: only with an etcd store; a client certificate needs its
 * key (and the reverse) and https (--store-cacert).  The files are read
 * when the etcd clients are made, at start (etcd.h). */
static bool
options_check_store_tls(const struct mignetd_options *o, char *err,
                        size_t errlen)
{
    bool any = o->store_cacert[0] || o->store_cert[0] || o->store_key[0];
    if (any && !options_store_is_etcd(o)) {
        snprintf(err, errlen, "store-cacert, store-cert and store-key are "
                 "for store etcd://... (TLS to etcd), not %s",
                 o->store[0] ? o->store : "sqlite");
        return false;
    }
    if (!o->store_cert[0] != !o->store_key[0]) {
        snprintf(err, errlen, "store-cert and store-key go together");
        return false;
    }
    if (o->store_cert[0] && !o->store_cacert[0]) {
        snprintf(err, errlen, "store-cert needs store-cacert (a client "
                 "certificate is sent over https only)");
        return false;
    }
    return true;
}

const struct etcd_tls *
options_store_tls(const struct mignetd_options *o, struct etcd_tls *buf)
{
    if (!o->store_cacert[0]) {
        return NULL;
    }
    *buf = (struct etcd_tls){
        .cacert = o->store_cacert,
        .cert = o->store_cert[0] ? o->store_cert : NULL,
        .key = o->store_key[0] ? o->store_key : NULL,
    };
    return buf;
}

bool
options_addr_loopback(const char *addr)
{
    char host[OPTIONS_ADDR_MAX];
    uint16_t port;
    struct in_addr a4;
    struct in6_addr a6;
    if (!sock_split_addr(addr, host, sizeof host, &port)) {
        return false;
    }
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return !strcmp(host, "localhost");
}

/* Secure by default: a listener other hosts can reach needs TLS and
 * credentials (the API: --api-tls-cert and --api-tokens; the agent
 * channel: --agent-tls-cert, node credentials being always on) unless
 * --insecure says otherwise.  Checked before anything is bound. */
static bool
options_check_exposure(const struct mignetd_options *o, char *err,
                       size_t errlen)
{
    if (!o->api_tls_cert[0] != !o->api_tls_key[0]) {
        snprintf(err, errlen, "api-tls-cert and api-tls-key go together");
        return false;
    }
    if (o->insecure) {
        return true;
    }
    if (!options_addr_loopback(o->listen)
        && (!o->api_tls_cert[0] || !o->api_tokens[0])) {
        snprintf(err, errlen,
                 "--listen %s is not a loopback address: it needs "
                 "--api-tls-cert, --api-tls-key and --api-tokens "
                 "(or --insecure)", o->listen);
        return false;
    }
    if (!options_addr_loopback(o->agent_listen) && !o->tls_cert[0]) {
        snprintf(err, errlen,
                 "--agent-listen %s is not a loopback address: it needs "
                 "--agent-tls-cert and --agent-tls-key (or --insecure)",
                 o->agent_listen);
        return false;
    }
    return true;
}

/* Whether setting 'd' has the same value in 'a' and 'b'. */
static bool
opt_same(const struct opt_def *d, const struct mignetd_options *a,
         const struct mignetd_options *b)
{
    const char *pa = (const char *) a, *pb = (const char *) b;
    switch (d->kind) {
    case OPT_CONFIG:
        return true; /* the file itself; its settings are compared */
    case OPT_LEVEL:
        return !memcmp(pa + d->offset, pb + d->offset,
                       sizeof(enum log_level));
    case OPT_BOOL:
        return !memcmp(pa + d->offset, pb + d->offset, sizeof(bool));
    case OPT_U32:
        return !memcmp(pa + d->offset, pb + d->offset, sizeof(uint32_t));
    case OPT_CORE:
        return !memcmp((const char *) &a->core + d->offset,
                       (const char *) &b->core + d->offset,
                       sizeof(uint32_t));
    case OPT_SWITCH:
        if (a->fabric.n_switches != b->fabric.n_switches) {
            return false;
        }
        for (size_t i = 0; i < a->fabric.n_switches; i++) {
            if (strcmp(a->fabric.switches[i].name,
                       b->fabric.switches[i].name)
                || strcmp(a->fabric.switches[i].target,
                          b->fabric.switches[i].target)) {
                return false;
            }
        }
        return true;
    default:
        return !strcmp(pa + d->offset, pb + d->offset);
    }
}

void
options_diff(const struct mignetd_options *a,
             const struct mignetd_options *b, const char **names,
             size_t *n, size_t max)
{
    *n = 0;
    for (size_t i = 0; i < N_OPT_DEFS && *n < max; i++) {
        if (!opt_same(&opt_defs[i], a, b)) {
            names[(*n)++] = opt_defs[i].name;
        }
    }
}

static void
opt_usage(FILE *f)
{
    fprintf(f,
            "usage: mignetd [--name VALUE]...\n"
            "The mignet controller: northbound REST, gateway, agent "
            "channel, durable store.\n"
            "Runs in the foreground; prints one 'mignetd ready ...' line "
            "when serving.\n\n");
    struct core_config def;
    core_config_default(&def);
    for (size_t i = 0; i < N_OPT_DEFS; i++) {
        const struct opt_def *d = &opt_defs[i];
        if (d->kind == OPT_CORE) {
            uint32_t v;
            memcpy(&v, (const char *) &def + d->offset, sizeof v);
            fprintf(f, "  --%-20s %s (%u)\n", d->name, d->help,
                    (unsigned) v);
        } else {
            fprintf(f, "  --%-20s %s\n", d->name, d->help);
        }
    }
    fprintf(f, "  --%-20s %s\n", &OPTIONS_ACCEPT_STORE[2],
            "start on the store as it is (after damage or a restored "
            "backup: docs/mignetd.md)");
    fprintf(f, "  --%-20s %s\n  --%-20s %s\n", "help", "this text",
            "version", "print the version");
}

static bool
opt_read_file(const char *path, char **text, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (n + 1 >= cap) {
            char *b = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                snprintf(err, errlen, "%s: too large", path);
                ok = false;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (!got) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: read error", path);
                ok = false;
            }
            break;
        }
    }
    fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    if (memchr(buf, '\0', n)) {
        free(buf);
        snprintf(err, errlen, "%s: not a text file", path);
        return false;
    }
    buf[n] = '\0';
    *text = buf;
    return true;
}

/* Finds the value of flag 'argv[*i]': "--name=value" or "--name value". */
static const struct opt_def *
opt_flag(int argc, char **argv, int *i, const char **value, char *err,
         size_t errlen)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t) (eq - arg) : strlen(arg);
    const struct opt_def *d = opt_find(arg, len);
    if (!d || memchr(arg, '_', len)) {
        snprintf(err, errlen, "unknown option '%s' (see --help)", argv[*i]);
        return NULL;
    }
    if (eq) {
        *value = eq + 1;
    } else if (d->kind == OPT_BOOL) {
        *value = "true";
    } else if (*i + 1 < argc) {
        *value = argv[++*i];
    } else {
        snprintf(err, errlen, "option '--%s' needs a value", d->name);
        return NULL;
    }
    return d;
}

enum options_result
options_parse(struct mignetd_options *o, int argc, char **argv, void *out,
              char *err, size_t errlen)
{
    FILE *f = out ? out : stdout;
    options_init(o);

    /* First pass: --help, --version, --config and unknown flags. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            opt_usage(f);
            return OPTIONS_EXIT;
        }
        if (!strcmp(a, "--version")) {
            fprintf(f, "mignetd %s\n", MIGNETD_VERSION);
            return OPTIONS_EXIT;
        }
        if (strncmp(a, "--", 2)) {
            snprintf(err, errlen, "unexpected argument '%s' (see --help)",
                     a);
            return OPTIONS_ERROR;
        }
        /* Store integrity (T): a flag without a value, never from a
         * config file, so that accepting a store is a one-off decision. */
        if (!strcmp(a, OPTIONS_ACCEPT_STORE)) {
            o->accept_store = true;
            continue;
        }
        const char *value;
        const struct opt_def *d = opt_flag(argc, argv, &i, &value, err,
                                           errlen);
        if (!d) {
            return OPTIONS_ERROR;
        }
        if (d->kind == OPT_CONFIG
            && !opt_apply(o, d, value, "--config", err, errlen)) {
            return OPTIONS_ERROR;
        }
    }
    if (o->config_file[0]) {
        char *text = NULL;
        if (!opt_read_file(o->config_file, &text, err, errlen)) {
            return OPTIONS_ERROR;
        }
        bool ok = options_apply_text(o, text, o->config_file, err, errlen);
        free(text);
        if (!ok) {
            return OPTIONS_ERROR;
        }
    }
    /* Second pass: flags win over the file. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], OPTIONS_ACCEPT_STORE)) {
            continue;
        }
        const char *value;
        const struct opt_def *d = opt_flag(argc, argv, &i, &value, err,
                                           errlen);
        char where[64];
        snprintf(where, sizeof where, "--%s", d->name);
        if (d->kind != OPT_CONFIG
            && !opt_apply(o, d, value, where, err, errlen)) {
            return OPTIONS_ERROR;
        }
    }
    return options_finish(o, err, errlen) ? OPTIONS_RUN : OPTIONS_ERROR;
}
