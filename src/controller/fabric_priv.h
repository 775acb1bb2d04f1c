/* fabric_priv.h: the fabric controller's own structures, shared by its
 * files and nothing else.
 *
 *   fabric_ctl.c      lifecycle, the model (file + live links, rebuilt
 *                     when they change) and planning glue
 *   fabric_switch.c   OpenFlow sessions to the switches (lib/ofconn)
 *   fabric_lldp.c     links found by LLDP: discovery and the link table
 *   fabric_install.c  a plan's flows: install, release, barriers
 *
 * No file outside these includes it: the rest of mignetd sees
 * fabric_ctl.h only. */
#ifndef MIGNET_CONTROLLER_FABRIC_PRIV_H
#define MIGNET_CONTROLLER_FABRIC_PRIV_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller/fabric_ctl.h"
#include "controller/metrics.h"
#include "controller/options.h"
#include "mignet/ofp.h"
#include "mignet/planner.h"

#include <event2/util.h>

struct event;
struct evconnlistener;
struct ofconn;

struct fc_port {
    uint32_t no;
    uint8_t mac[6];
    bool up;
};

struct fc_switch {
    struct fabric_ctl *fc;
    char name[OPTIONS_SWITCH_NAME_MAX + 1];
    char target[OPTIONS_TARGET_MAX]; /* configured, or the peer that dialed */
    bool dialed_in;              /* accepted on --fabric-listen */
    bool dead;                   /* dialed in and gone: to be freed */
    struct ofconn *conn;
    struct event *retry;         /* configured switches: reconnect */
    uint32_t retry_ms;
    bool ready;
    uint64_t dpid;
    struct fc_port *ports;
    size_t n_ports, cap_ports;
    uint64_t connects, lldp_sent, lldp_received, errors;
};

/* A link LLDP found, ends ordered by (dpid, port). */
struct fc_dlink {
    uint64_t dpid[2];
    uint32_t port[2];
    int64_t seen_ms[2]; /* frame from end i seen at the other; 0 = never */
};

/* The last two counter samples of a switch port, replayed into a new
 * router when the fabric is rebuilt so D-R weights survive it. */
struct fc_sample {
    uint64_t dpid;
    uint32_t port;
    unsigned n;          /* samples held, 0..2; [1] is the newer */
    uint64_t tx[2], rx[2];
    int64_t t[2];
};

#define FCM_STATES                                                          \
    FCM_STATE(INSTALLING, "installing")                                     \
    FCM_STATE(INSTALLED, "installed")                                       \
    FCM_STATE(FAILED, "failed")                                             \
    FCM_STATE(RELEASING, "releasing")                                       \
    FCM_STATE(RELEASED, "released")

enum fcm_state {
#define FCM_STATE(ENUM, NAME) FCM_##ENUM,
    FCM_STATES
#undef FCM_STATE
};

/* The names of a path's nodes then of its hops' switches, fixed when it
 * was planned. */
struct fc_names {
    char **v;
    size_t n_nodes, n_hops;
};

struct fabric_mig {
    uint64_t id;                 /* 0 until the core accepted it */
    uint32_t src_ip, dst_ip;
    uint32_t slot;
    uint16_t port0;              /* TCP port of path 0 */
    uint16_t priority;
    struct plan *plan;           /* NULL: a route only (no estimate) */
    struct route route;          /* that route */
    bool dr_first;               /* path 0 was a D-R choice (marked) */
    uint64_t period;             /* the statistics period it was made in */
    /* What was planned for, for GET. */
    char from_host[FABRIC_NAME_MAX + 1], to_host[FABRIC_NAME_MAX + 1];
    struct fabric_plan_input input;
    enum route_strategy strategy;
    double target_cpu_free;
    struct fc_names *names;      /* per path */
    double planning_s;

    enum fcm_state state;
    unsigned pending[2];         /* barriers outstanding: install, release */
    uint32_t n_flows, n_switches, n_errors;
    char error[160];
    double t0;                   /* monotonic start of install/release */
    uint64_t started_ms, installed_ms, released_ms; /* Unix ms; 0 = not */
    double install_ms;
};

struct fabric_ctl {
    struct ctl *ctl;
    const struct options_fabric *opt;
    struct fabric *file;         /* the topology file, NULL if none */
    struct fabric *fab;          /* file + live links; NULL if neither */
    struct router *router;
    bool dirty;                  /* rebuild before the next use */
    struct plan_config pcfg;
    enum route_strategy strategy;
    double install_ms_per_switch; /* smoothed, for pcfg.flow_install_ms */

    struct fc_switch **sw;
    size_t n_sw, cap_sw;
    struct evconnlistener *listener;
    char listen_path[OPTIONS_TARGET_MAX]; /* a unix socket to unlink */
    struct fc_dlink *links;
    size_t n_links, cap_links;
    struct fabric_mig **migs;
    size_t n_migs, cap_migs;
    struct fc_sample *samples;
    size_t n_samples, cap_samples;
    uint64_t period;             /* statistics periods begun */

    struct event *poll_timer, *lldp_timer;
    struct event *reaper;        /* frees switches that dialed in and left */

    struct fabric_ctl_stats stats;
    struct metrics_hist plan_hist, install_hist;
};

/* fabric_ctl.c: helpers and the model. */
int64_t fc_now(void);
void fc_arm(struct event *, uint32_t ms);
struct fabric_mig *fc_mig_find(const struct fabric_ctl *, uint64_t id);
size_t mig_n_paths(const struct fabric_mig *);
const struct route *mig_path(const struct fabric_mig *, size_t i);
bool mig_live(const struct fabric_mig *);
void mig_free(struct fabric_mig *);
/* "s1" for a dpid the model knows, else "0x..." */
void fc_dpid_name(const struct fabric_ctl *, uint64_t dpid, char *buf,
                  size_t len);
/* "s1:4" for an end of a link. */
void fc_end_name(const struct fabric_ctl *, uint64_t dpid, uint32_t port,
                 char *buf, size_t len);
/* Rebuilds the model if it is dirty. */
void fc_ensure(struct fabric_ctl *);
/* Records a port counter sample (for replays after rebuilds). */
void fc_sample(struct fabric_ctl *, uint64_t dpid, uint32_t port,
               uint64_t tx, uint64_t rx, int64_t now);

/* fabric_switch.c: switch connections. */
/* The ready switch with 'dpid', or NULL. */
struct fc_switch *fc_switch_by_dpid(struct fabric_ctl *, uint64_t dpid);
struct fc_switch *fc_switch_new(struct fabric_ctl *, const char *name,
                                const char *target);
/* A configured switch: connect now, retry with backoff. */
void fc_switch_dial(struct fc_switch *);
void fc_switch_free(struct fc_switch *);
/* Frees the switches that dialed in and went away. */
void fc_reap_cb(evutil_socket_t fd, short what, void *aux);
/* Listens on --fabric-listen.  0, or -1 with 'err' set. */
int fc_listen(struct fabric_ctl *, char *err, size_t errlen);
/* Asks every ready switch for its port counters. */
void fc_poll_switches(struct fabric_ctl *);
void fc_send(struct fc_switch *, struct ofp_msg *);
void fc_send_flow(struct fc_switch *, const struct ofp_flow_mod *);

/* fabric_lldp.c: links found by LLDP. */
bool fc_dlink_alive(const struct fabric_ctl *, const struct fc_dlink *,
                    int64_t now);
/* Sends discovery frames out of every up port of 's', or of 'p'. */
void fc_send_lldp_all(struct fc_switch *);
void fc_send_lldp(struct fc_switch *, const struct fc_port *);
/* A packet-in: a discovery frame of ours, or counted as foreign. */
void fc_lldp_packet_in(struct fc_switch *, const struct ofp_packet_in *);
/* Removes links with an end on ('dpid', 'port'); port 0: any port. */
void fc_links_drop_port(struct fabric_ctl *, uint64_t dpid, uint32_t port,
                        const char *why);
/* The LLDP timer: expire links, send discovery frames. */
void fc_lldp_cb(evutil_socket_t fd, short what, void *aux);

/* fabric_install.c: a plan's flows. */
/* The TCP port of path 'path' (each path is its own flow). */
uint16_t mig_port(const struct fabric_mig *, size_t path);
void mig_install(struct fabric_ctl *, struct fabric_mig *);
void mig_release(struct fabric_ctl *, struct fabric_mig *);
/* Sends the flows of 'm' that belong on switch 's'.  Returns how many. */
uint32_t mig_send_flows(struct fabric_mig *, struct fc_switch *);
/* Drops the oldest ended plans beyond what is kept for GET. */
void fc_trim(struct fabric_ctl *);

#endif /* controller/fabric_priv.h */
