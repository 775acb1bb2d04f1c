/* planner.h: the migration planner (DESIGN §3, seeds 004 and 002).
 *
 * Four sans-I/O pieces: a pre-copy time estimator, a fabric model loaded
 * from a topology file, D-R routing over port statistics, and the seed-004
 * loop that adds paths until a migration fits its deadline.  Nothing here
 * reads a clock or a socket: callers pass times and statistics in and get
 * plans and OpenFlow hops out.  Formulas and sources: docs/planner.md. */
#ifndef MIGNET_PLANNER_H
#define MIGNET_PLANNER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Pre-copy estimator (Clark et al., NSDI 2005; Xen stop conditions).  */
/* ------------------------------------------------------------------ */

/* Why the iterative phase ended. */
#define PRECOPY_STOPS                                                       \
    PRECOPY_STOP(THRESHOLD, "threshold",                                    \
                 "what remains is under the stop-and-copy threshold")       \
    PRECOPY_STOP(MAX_ROUNDS, "max_rounds", "the round limit was reached")   \
    PRECOPY_STOP(MAX_SENT, "max_sent",                                      \
                 "another round would send more than the cap")              \
    PRECOPY_STOP(NONCONVERGENT, "nonconvergent",                            \
                 "pages are dirtied at least as fast as they are sent")

enum precopy_stop {
#define PRECOPY_STOP(ENUM, NAME, MSG) PRECOPY_STOP_##ENUM,
    PRECOPY_STOPS
#undef PRECOPY_STOP
    PRECOPY_N_STOPS
};
const char *precopy_stop_name(enum precopy_stop);  /* "max_rounds" */
const char *precopy_stop_str(enum precopy_stop);   /* a sentence */

/* Stop conditions.  Defaults are Xen's (seed 002 §2.1 and §6.1).
 * max_rounds is 2..PRECOPY_MAX_ROUNDS; stop_bytes 0 disables that test. */
#define PRECOPY_MAX_ROUNDS 1000
struct precopy_config {
    uint32_t max_rounds;    /* rounds in all, stop-and-copy included: 30 */
    uint64_t stop_bytes;    /* stop-and-copy when remaining < this: 200 KiB */
    double max_factor;      /* never send more than this x memory: 3 */
};
void precopy_config_default(struct precopy_config *);

struct precopy_input {
    uint64_t memory_bytes;      /* > 0 */
    double dirty_pages_per_s;   /* >= 0 */
    uint32_t page_size;         /* bytes, > 0 (4096 usually) */
    double bandwidth_Bps;       /* bytes per second, >= 0 */
    /* How dirtying is counted (docs/planner.md §1).  0: every dirtied page
     * is a new one (D counts distinct pages a second, as a hypervisor's
     * dirty-rate sampling reports it), so a round of T seconds leaves
     * D x page x T bytes.  Else D counts writes a second falling uniformly
     * on this many bytes (<= memory_bytes): a page written twice in a
     * round is sent once, and a round of T seconds leaves
     * W (1 - exp(-D x page x T / W)) bytes. */
    uint64_t working_set_bytes;
};

/* What 'seconds' of the workload of 'in' leaves dirty, in bytes (above). */
double precopy_dirty_bytes(const struct precopy_input *, double seconds);

struct precopy_estimate {
    double total_s;         /* every round, stop-and-copy included */
    double downtime_s;      /* the stop-and-copy round */
    uint32_t rounds;        /* rounds in all; the last is the stop-and-copy */
    double bytes_sent;      /* every round */
    double final_bytes;     /* sent during the stop-and-copy */
    enum precopy_stop stop;
    bool converged;         /* stop == THRESHOLD */
};

/* Both compute the same model; precopy_estimate() is the closed form,
 * precopy_iterate() walks it round by round (with a working set there is
 * no closed form, and both walk it).  Return 0, or EINVAL for an
 * input or configuration out of range ('out' untouched).  Bandwidth 0
 * gives infinite times, 0 rounds and stop NONCONVERGENT. */
int precopy_estimate(const struct precopy_config *,
                     const struct precopy_input *,
                     struct precopy_estimate *out);
int precopy_iterate(const struct precopy_config *,
                    const struct precopy_input *,
                    struct precopy_estimate *out);

/* The stop rule after iterative round 'n' (>= 1), shared by
 * precopy_iterate() and callers that run the rounds themselves at a
 * bandwidth that changes (the fabric simulator): 'sent' bytes went in
 * rounds 1..n, 'next' bytes were dirtied during round n (what round n + 1
 * would send) and 'ratio' is 'next' over round n's bytes (D/B at a
 * constant bandwidth).  Checks, in order: ratio >= 1 (NONCONVERGENT),
 * next < stop_bytes (THRESHOLD), n + 1 >= max_rounds (MAX_ROUNDS), and
 * sent + next + next * ratio > max_factor * memory (MAX_SENT).  Returns
 * true with '*why' set if the stop-and-copy comes now. */
bool precopy_stops_now(const struct precopy_config *, double memory_bytes,
                       uint32_t n, double sent, double next, double ratio,
                       enum precopy_stop *why);

/* Bandwidth of 'n' striped paths: the sum of 'path_bw' times
 * (1 - overhead * (n - 1)), never below 0.  Units are the caller's. */
double precopy_stripe_bandwidth(const double *path_bw, size_t n,
                                double overhead);

/* ------------------------------------------------------------------ */
/* Fabric: switches, hosts, links with capacity.                       */
/* ------------------------------------------------------------------ */

#define FABRIC_NAME_MAX 63          /* names are [A-Za-z0-9._-]{1,63} */
#define FABRIC_MAX_NODES 65536u     /* switches + hosts */
#define FABRIC_MAX_LINKS 262144u
#define FABRIC_PORT_MAX 0xffffff00u /* OFPP_MAX of OpenFlow 1.3 */
#define FABRIC_MAX_BPS 1000000000000000ull /* 1 Pbit/s */
#define FABRIC_DEFAULT_HOST_BPS 1000000000ull /* a host line's default */

#define FABRIC_ERRORS                                                       \
    FABRIC_ERR(OK, "ok", "success")                                         \
    FABRIC_ERR(NOMEM, "no_memory", "out of memory")                         \
    FABRIC_ERR(BAD_CHAR, "bad_char", "invalid character")                   \
    FABRIC_ERR(UNKNOWN_KEYWORD, "unknown_keyword",                          \
               "expected switch, host, nic or link")                        \
    FABRIC_ERR(MISSING_FIELD, "missing_field", "a field is missing")        \
    FABRIC_ERR(EXTRA_FIELD, "extra_field", "unexpected extra field")        \
    FABRIC_ERR(BAD_NAME, "bad_name",                                        \
               "names are 1-63 characters of [A-Za-z0-9._-]")               \
    FABRIC_ERR(DUP_NAME, "duplicate_name", "name already defined")          \
    FABRIC_ERR(BAD_DPID, "bad_dpid",                                        \
               "expected dpid=N with 0 < N < 2^64 (decimal or 0x hex)")     \
    FABRIC_ERR(DUP_DPID, "duplicate_dpid", "dpid already used")             \
    FABRIC_ERR(BAD_ENDPOINT, "bad_endpoint", "expected SWITCH:PORT")        \
    FABRIC_ERR(UNKNOWN_SWITCH, "unknown_switch", "no such switch")          \
    FABRIC_ERR(UNKNOWN_HOST, "unknown_host", "no such host")                \
    FABRIC_ERR(BAD_PORT, "bad_port", "ports are 1-4294967040")              \
    FABRIC_ERR(PORT_IN_USE, "port_in_use", "port already connected")        \
    FABRIC_ERR(SELF_LOOP, "self_loop", "a link joins a switch to itself")   \
    FABRIC_ERR(BAD_RATE, "bad_rate",                                        \
               "expected N{bit,kbit,mbit,gbit,tbit}, 0 < rate <= 1 Pbit")   \
    FABRIC_ERR(TOO_MANY, "too_many", "too many nodes or links")             \
    FABRIC_ERR(BAD_ARG, "bad_argument", "argument out of range")

enum fabric_err {
#define FABRIC_ERR(ENUM, NAME, MSG) FABRIC_E_##ENUM,
    FABRIC_ERRORS
#undef FABRIC_ERR
    FABRIC_N_ERRORS
};
const char *fabric_errname(enum fabric_err);  /* "unknown_switch" */
const char *fabric_strerror(enum fabric_err); /* "no such switch" */

enum fabric_kind { FABRIC_SWITCH, FABRIC_HOST };

/* A link between two node ports.  A host's "port" is its NIC number
 * (1, 2, ...), not an OpenFlow port. */
struct fabric_link {
    uint32_t node[2];
    uint32_t port[2];
    uint64_t capacity_bps;  /* each direction */
};

struct fabric;

struct fabric *fabric_create(void);  /* NULL when out of memory */
void fabric_destroy(struct fabric *);

/* Builders.  Each checks everything before it changes anything: on an
 * error the fabric is as it was.  'node'/'link' may be NULL. */
enum fabric_err fabric_add_switch(struct fabric *, const char *name,
                                  uint64_t dpid, uint32_t *node);
enum fabric_err fabric_add_host(struct fabric *, const char *name,
                                uint32_t *node);
/* Gives host 'host' a NIC cabled to port 'port' of switch 'sw'. */
enum fabric_err fabric_attach(struct fabric *, uint32_t host, uint32_t sw,
                              uint32_t port, uint64_t bps, uint32_t *link);
enum fabric_err fabric_add_link(struct fabric *, uint32_t sw_a,
                                uint32_t port_a, uint32_t sw_b,
                                uint32_t port_b, uint64_t bps,
                                uint32_t *link);

size_t fabric_n_nodes(const struct fabric *);
size_t fabric_n_links(const struct fabric *);
size_t fabric_n_hosts(const struct fabric *);
bool fabric_find(const struct fabric *, const char *name, uint32_t *node);
bool fabric_find_dpid(const struct fabric *, uint64_t dpid, uint32_t *node);
/* Which link is cabled to 'port' of 'node', and which end of it. */
bool fabric_port_link(const struct fabric *, uint32_t node, uint32_t port,
                      uint32_t *link, unsigned *end);
/* Out-of-range indices give NULL / FABRIC_SWITCH / 0. */
const char *fabric_node_name(const struct fabric *, uint32_t node);
enum fabric_kind fabric_node_kind(const struct fabric *, uint32_t node);
uint64_t fabric_node_dpid(const struct fabric *, uint32_t node); /* 0: host */
const struct fabric_link *fabric_link(const struct fabric *, uint32_t link);

/* Topology text, one statement a line ('#' starts a comment):
 *     switch NAME dpid=N
 *     host   NAME SWITCH:PORT [RATE]       RATE defaults to 1gbit
 *     nic    HOST SWITCH:PORT [RATE]       another NIC for HOST
 *     link   SWITCH:PORT SWITCH:PORT RATE
 * Names must be defined before use.  The format is in docs/planner.md. */
struct fabric_parse_error {
    enum fabric_err code;
    uint32_t line;      /* 1-based */
    uint32_t col;       /* 1-based byte column */
    char msg[160];      /* "LINE:COL: message" */
};

/* Parses 'len' bytes of 'text'.  On success stores a new fabric in
 * '*fabricp' (the caller destroys it).  On error leaves '*fabricp' alone,
 * builds no partial graph and fills 'err' (may be NULL). */
enum fabric_err fabric_parse(const char *text, size_t len,
                             struct fabric **fabricp,
                             struct fabric_parse_error *err);

/* The fabric as topology text (switches, then hosts and NICs, then links),
 * which fabric_parse() reads back to the same fabric.  Caller frees.
 * NULL when out of memory. */
char *fabric_format(const struct fabric *);

/* A k-ary fat-tree (k even, 2..48): (k/2)^2 cores "c<i>", per pod k/2
 * aggregation "a<pod>_<i>" and k/2 edge "e<pod>_<i>" switches, k/2 hosts
 * "h<pod>_<edge>_<i>" per edge switch.  Ports 1..k/2 face down, k/2+1..k
 * up. */
enum fabric_err fabric_fat_tree(unsigned k, uint64_t host_bps,
                                uint64_t fabric_bps, struct fabric **);
/* The seed-002 experiment topology (§3.3, §5.2): cores s1-s3, edges s4
 * and s5 each cabled to every core; hosts h1-h3 on s4 and h4-h6 on s5.
 * Every link 'bps' (the paper used 500 Mbit/s). */
enum fabric_err fabric_seed002(uint64_t bps, struct fabric **);

/* ------------------------------------------------------------------ */
/* Routing: single, ECMP and D-R (seed 002 §4.2).                      */
/* ------------------------------------------------------------------ */

#define ROUTE_STRATEGIES                                                    \
    ROUTE_STRATEGY(SINGLE, "single", "one fixed shortest-hop path a pair") \
    ROUTE_STRATEGY(ECMP, "ecmp", "hash of the pair over equal-hop paths")  \
    ROUTE_STRATEGY(DR, "dr", "least-loaded path; chosen links at maximum")

enum route_strategy {
#define ROUTE_STRATEGY(ENUM, NAME, MSG) ROUTE_##ENUM,
    ROUTE_STRATEGIES
#undef ROUTE_STRATEGY
    ROUTE_N_STRATEGIES
};
const char *route_strategy_name(enum route_strategy);
bool route_strategy_from_name(const char *, enum route_strategy *);

/* One switch on a route: the flow to install forwards 'in_port' to
 * 'out_port' on switch 'dpid'. */
struct route_hop {
    uint64_t dpid;
    uint32_t node;
    uint32_t in_port;
    uint32_t out_port;
};

/* A route from host 'src' to host 'dst': nodes[0] == src, nodes[n_links]
 * == dst, links[i] joins nodes[i] and nodes[i + 1]. */
struct route {
    uint32_t src, dst;
    size_t n_links;
    uint32_t *links;
    uint32_t *nodes;        /* n_links + 1 */
    size_t n_hops;
    struct route_hop *hops; /* the switches, in order */
    uint64_t weight;        /* D-R weight when chosen; hop count else */
};
void route_init(struct route *);
void route_destroy(struct route *); /* frees the arrays; re-inits */
bool route_equal(const struct route *, const struct route *);
int route_copy(struct route *dst, const struct route *src); /* 0/ENOMEM */

/* Link weights at or above this are "chosen this period". */
#define ROUTER_WEIGHT_MAX (UINT64_C(1) << 50)

struct router_config {
    uint32_t period_ms;     /* statistics period: 5000 */
};
void router_config_default(struct router_config *);

struct router;

/* The fabric must outlive the router and not change while it lives.
 * NULL when out of memory or 'cfg->period_ms' is 0. */
struct router *router_create(const struct fabric *,
                             const struct router_config *);
void router_destroy(struct router *);
const struct fabric *router_fabric(const struct router *);

/* Starts a statistics period: the links of routes chosen in the last one
 * go back to their measured weight.  Call once a poll, before its
 * samples. */
void router_period_begin(struct router *);

/* One port-statistics sample: cumulative counters of port 'port' on
 * switch 'dpid' at 'now_ms'.  The difference to the port's previous
 * sample, scaled to one period, is the port's load; a counter that went
 * back counts from zero.  Returns 0; ENOENT for a port no link uses;
 * EINVAL if 'now_ms' is not after the port's previous sample. */
int router_port_stats(struct router *, uint64_t dpid, uint32_t port,
                      uint64_t tx_bytes, uint64_t rx_bytes, uint64_t now_ms);

/* 1 + bytes through the link's two ports in the last period, or
 * ROUTER_WEIGHT_MAX while a route chosen this period uses it. */
uint64_t router_link_weight(const struct router *, uint32_t link);
/* Capacity left on 'link' in the direction leaving end 'from_end', from
 * the last period's counters, bits per second (>= 0). */
double router_link_residual_bps(const struct router *, uint32_t link,
                                unsigned from_end);

/* Finds a route from host 'src' to host 'dst' into 'out' (which must be
 * init'ed; its old arrays are freed).  Only the strategy's choice; D-R
 * links are not marked.  Returns 0, EINVAL (not two distinct hosts),
 * ENOENT (unreachable) or ENOMEM. */
int router_find(struct router *, enum route_strategy, uint32_t src,
                uint32_t dst, struct route *out);
/* Raises every link of 'route' to ROUTER_WEIGHT_MAX until the next
 * period. */
void router_mark(struct router *, const struct route *);
/* router_find(), then router_mark() if the strategy is DR. */
int router_route(struct router *, enum route_strategy, uint32_t src,
                 uint32_t dst, struct route *out);
/* The least-weight route from 'src' to 'dst' edge-disjoint from the 'n'
 * routes 'in_use' (a host whose every NIC is in use shares them: nothing
 * else is possible); if there is none, the least-weight route with their
 * links at ROUTER_WEIGHT_MAX.  ENOENT if that equals a route in use or
 * 'dst' is unreachable.  Does not mark. */
int router_find_extra(struct router *, uint32_t src, uint32_t dst,
                      const struct route *in_use, size_t n,
                      struct route *out);

/* ------------------------------------------------------------------ */
/* The seed-004 loop: add paths until the migration fits its deadline. */
/* ------------------------------------------------------------------ */

#define PLAN_STOPS                                                          \
    PLAN_STOP(FITS, "fits", "the estimate meets the deadline")              \
    PLAN_STOP(NO_DEADLINE, "no_deadline", "no deadline was given")          \
    PLAN_STOP(NO_PATH, "no_path",                                           \
              "no further path between source and target")                 \
    PLAN_STOP(SETUP_TOO_SLOW, "setup_too_slow",                             \
              "the next path takes longer to set up than allowed")          \
    PLAN_STOP(CPU_EXHAUSTED, "cpu_exhausted",                               \
              "the target lacks CPU to reassemble another stream")          \
    PLAN_STOP(NO_GAIN, "no_gain",                                           \
              "another path would not shorten the estimate")                \
    PLAN_STOP(MAX_PATHS, "max_paths", "the path limit was reached")

enum plan_stop {
#define PLAN_STOP(ENUM, NAME, MSG) PLAN_STOP_##ENUM,
    PLAN_STOPS
#undef PLAN_STOP
    PLAN_N_STOPS
};
const char *plan_stop_name(enum plan_stop);
const char *plan_stop_str(enum plan_stop);

struct plan_config {
    struct precopy_config precopy;
    double striping_overhead;   /* per extra stream: 0.05 */
    uint32_t flow_install_ms;   /* per switch of a path: 5 */
    uint32_t setup_max_ms;      /* threshold 2 (seed 004): 50 */
    double cpu_per_stream;      /* target CPU per extra stream: 0.10 */
    uint32_t max_paths;         /* 8 */
    bool use_residual;          /* bandwidth = capacity - measured load */
};
void plan_config_default(struct plan_config *);

struct plan_request {
    uint32_t src, dst;          /* fabric hosts */
    uint64_t memory_bytes;
    double dirty_pages_per_s;
    uint32_t page_size;         /* 0 means 4096 */
    uint64_t deadline_ms;       /* threshold 1; 0: none */
    double target_cpu_free;     /* fraction of the target's CPU, 0..1 */
    enum route_strategy strategy; /* of the first path */
    /* A goodput measured between the pair (mignetd's transfer learning),
     * bytes per second of one path; 0: the links' capacity or residual.
     * It replaces the first path's bandwidth, and every path's scales by
     * the same factor (learned over the first path's own), so shared
     * links keep sharing. */
    double learned_Bps;
    uint64_t working_set_bytes; /* precopy_input's; 0: D distinct pages/s */
};

/* The estimate with the first 'n_paths' paths of the plan. */
struct plan_step {
    uint32_t n_paths;
    double bandwidth_bps;       /* striped, bits per second */
    double setup_ms;            /* set-up of the added paths so far */
    double total_ms;            /* estimate.total_s + setup */
    struct precopy_estimate estimate;
};

struct plan;

/* Plans migrating 'req' over the router's fabric (FIG. 3 of seed 004,
 * blocks 304-314).  With strategy DR, marks the paths it takes.  Returns
 * 0, EINVAL (bad request or config), ENOENT (no route at all) or
 * ENOMEM; '*planp' is set only on success. */
int plan_create(struct router *, const struct plan_config *,
                const struct plan_request *, struct plan **planp);
void plan_destroy(struct plan *);

/* The estimate of 'req' on exactly 'n_paths' paths (the strategy's first,
 * then router_find_extra()'s), ignoring its deadline and marking nothing:
 * what a transfer over that many paths is expected to take.  Returns 0,
 * EINVAL (bad request, config or 'n_paths' outside 1..max_paths), ENOENT
 * (no route, or fewer distinct paths than asked) or ENOMEM. */
int plan_estimate_paths(struct router *, const struct plan_config *,
                        const struct plan_request *, uint32_t n_paths,
                        struct plan_step *out);

size_t plan_n_paths(const struct plan *);
const struct route *plan_path(const struct plan *, size_t i);
size_t plan_n_steps(const struct plan *);        /* n_paths */
const struct plan_step *plan_step(const struct plan *, size_t i);
const struct plan_step *plan_final(const struct plan *);
enum plan_stop plan_stop(const struct plan *);
/* One sentence on why the loop stopped, with the numbers. */
const char *plan_explain(const struct plan *);

/* The flows of the paths the loop added (all but the first), for the
 * caller to remove when the migration ends.  Stores a malloc'ed array in
 * '*hops' (NULL when empty) and its length in '*n'; a second call returns
 * none.  Returns 0 or ENOMEM (nothing released). */
int plan_release(struct plan *, struct route_hop **hops, size_t *n);

#endif /* MIGNET_PLANNER_H */
