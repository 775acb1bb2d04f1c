/* options.h: mignetd's settings from flags and a config file.
 *
 * Pure parsing: defaults, then the config file (key = value lines), then
 * flags, which win.  It never opens sockets or the store; an invalid
 * setting is an error message, never a silent default. */
#ifndef MIGNET_CONTROLLER_OPTIONS_H
#define MIGNET_CONTROLLER_OPTIONS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"
#include "mignet/config.h"

#define OPTIONS_PATH_MAX 512
#define OPTIONS_ADDR_MAX 128
#define OPTIONS_N_CORE 10 /* numeric core settings (options.c) */
#define OPTIONS_MAX_SWITCHES 128 /* --fabric-switch entries */
#define OPTIONS_SWITCH_NAME_MAX 63
#define OPTIONS_TARGET_MAX 256
/* Store integrity (T): start on the store as it is (docs/mignetd.md). */
#define OPTIONS_ACCEPT_STORE "--accept-store"

/* One fabric switch mignetd connects to: its name in the topology and its
 * OpenFlow target ("unix:PATH" or "tcp:ADDR:PORT"). */
struct options_switch {
    char name[OPTIONS_SWITCH_NAME_MAX + 1];
    char target[OPTIONS_TARGET_MAX];
};

/* Fabric control and the planner (docs/planner.md, "mignetd"). */
struct options_fabric {
    char file[OPTIONS_PATH_MAX];  /* topology file; "" = none */
    struct options_switch switches[OPTIONS_MAX_SWITCHES];
    size_t n_switches;
    char listen[OPTIONS_TARGET_MAX]; /* switches dial in here; "" = no */
    char strategy[16];            /* single|ecmp|dr: a plan's first path */
    uint32_t poll_ms;             /* port statistics period */
    uint32_t lldp_ms;             /* LLDP period; links expire after 3 */
    uint32_t link_mbit;           /* capacity of a discovered link */
    uint32_t port_base;           /* TCP port of a migration's path 0 */
    uint32_t setup_max_ms;        /* seed 004's second threshold */
    uint32_t max_paths;
    uint32_t cpu_free_pct;        /* target CPU free when not given */
};

struct mignetd_options {
    char listen[OPTIONS_ADDR_MAX];       /* REST + gateway, ADDR:PORT */
    char agent_listen[OPTIONS_ADDR_MAX]; /* agent channel, ADDR:PORT */
    char state_dir[OPTIONS_PATH_MAX];    /* holds mignet.db */
    /* The durable store (docs/ha.md): "" or "sqlite" = STATE_DIR/mignet.db;
     * "etcd://HOST:PORT[,HOST:PORT...]" = the etcd backend, its records
     * under 'store_prefix', each batch one transaction of at most
     * 'store_max_txn_ops' records (etcd's --max-txn-ops). */
    char store[OPTIONS_PATH_MAX];
    char store_prefix[OPTIONS_ADDR_MAX];
    uint32_t store_max_txn_ops;
    /* TLS to etcd (docs/ha.md): "" = plain http; a CA file = https to
     * every endpoint, etcd's certificate verified against it; the client
     * certificate and key (both or neither) for --client-cert-auth. */
    char store_cacert[OPTIONS_PATH_MAX];
    char store_cert[OPTIONS_PATH_MAX];
    char store_key[OPTIONS_PATH_MAX];
    /* Replicas (docs/ha.md): "" = a single mignetd; else this replica's
     * name, leader election on an etcd lease of 'lease_ttl_s' seconds;
     * the addresses named to clients while another replica leads ("" =
     * the listeners'). */
    char replica[OPTIONS_ADDR_MAX];
    uint32_t lease_ttl_s;
    char advertise_agents[OPTIONS_ADDR_MAX];
    char advertise_rest[OPTIONS_PATH_MAX];
    char config_file[OPTIONS_PATH_MAX];  /* "" = none */
    char strategy[32];
    char tls_cert[OPTIONS_PATH_MAX]; /* agent channel TLS; "" = plain TCP */
    char tls_key[OPTIONS_PATH_MAX];
    char tls_ca[OPTIONS_PATH_MAX]; /* verifies agents' certificates */
    /* Northbound API security (docs/mignetd.md, "Northbound
     * authentication"): HTTPS on --listen, bearer tokens with roles, and
     * whether a non-loopback listener may go without them. */
    char api_tls_cert[OPTIONS_PATH_MAX]; /* "" = plain HTTP */
    char api_tls_key[OPTIONS_PATH_MAX];
    char api_tokens[OPTIONS_PATH_MAX];   /* "" = no authentication */
    bool insecure;
    /* Commit in place (no pipelining even where the store can). */
    bool serial_commits;
    enum log_level log_level;
    /* The REST access log's level: one line a request (docs/mignetd.md
     * "Access log"). */
    enum log_level access_log_level;
    uint32_t heartbeat_ms;
    uint32_t push_interval_ms; /* map push coalescing; 0 = push off */
    uint32_t max_body;
    uint32_t vnet_key_base; /* tenant switch ports' tunnel keys (seed 001) */
    /* Limits of both listeners (listen_guard.h). */
    uint32_t max_conns;          /* per listener */
    uint32_t max_conns_per_peer; /* per client address */
    uint32_t request_timeout_ms; /* a whole REST request */
    struct options_fabric fabric;
    /* Store integrity (T): --accept-store, flags only. */
    bool accept_store;
    struct core_config core; /* strategy + overrides applied */
    /* Core settings given explicitly; they apply on top of the strategy
     * whatever the order they were given in. */
    struct {
        bool set;
        uint32_t value;
    } core_override[OPTIONS_N_CORE];
};

/* What options_parse() wants the caller to do. */
enum options_result {
    OPTIONS_RUN,   /* settings are valid */
    OPTIONS_EXIT,  /* --help or --version printed; exit 0 */
    OPTIONS_ERROR, /* 'err' says why; exit 2 */
};

/* Parses 'argv' (and the file named by --config, if any) into 'o'.
 * --help/--version text goes to 'out'. */
enum options_result options_parse(struct mignetd_options *o, int argc,
                                  char **argv, void *out, char *err,
                                  size_t errlen);

/* Sets 'o' to the defaults. */
void options_init(struct mignetd_options *o);
/* Applies the text of a config file (options_parse reads the file with
 * it).  'origin' names it in errors.  Returns false with 'err' set on the
 * first bad line. */
bool options_apply_text(struct mignetd_options *o, const char *text,
                        const char *origin, char *err, size_t errlen);
/* Computes o->core from the strategy and the overrides and checks the
 * settings together (e.g. floor <= ceiling). */
bool options_finish(struct mignetd_options *o, char *err, size_t errlen);

/* The names of the settings whose values differ between 'a' and 'b'
 * (both finished), in --help order: at most 'max' into 'names', their
 * count in '*n'.  SIGHUP's reload (reload.c) compares with it. */
void options_diff(const struct mignetd_options *a,
                  const struct mignetd_options *b, const char **names,
                  size_t *n, size_t max);

/* Whether 'o' selects the etcd store backend (--store etcd://...). */
bool options_store_is_etcd(const struct mignetd_options *o);

/* The TLS settings of every etcd client mignetd makes (the store, the
 * leader election): 'buf' filled from 'o' and returned, or NULL when
 * --store-cacert is not given (plain http).  'buf' must outlive the
 * use of the result; its strings point into 'o'. */
struct etcd_tls;
const struct etcd_tls *options_store_tls(const struct mignetd_options *o,
                                         struct etcd_tls *buf);

/* Whether the host of "ADDR:PORT" 'addr' is a loopback address
 * (127.0.0.0/8, ::1 or "localhost"); a name or a wildcard is not. */
bool options_addr_loopback(const char *addr);

/* "unix:PATH" or "tcp:ADDR:PORT" with a nonzero port. */
bool options_target_valid(const char *);

/* Adds a fabric switch from "NAME=TARGET" ('where' prefixes errors). */
bool options_add_switch(struct mignetd_options *o, const char *value,
                        const char *where, char *err, size_t errlen);

#endif /* MIGNET_CONTROLLER_OPTIONS_H */
