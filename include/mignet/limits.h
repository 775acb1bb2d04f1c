/* limits.h: the bounds of every value an operator gives mignet -- one
 * source for the controller's request parsing, the core's checks and the
 * `mignet` command line, so the CLI refuses exactly what the API refuses.
 *
 * Model layer: plain numbers, no state.  A name's length is MN_NAME_MAX
 * (model.h). */
#ifndef MIGNET_LIMITS_H
#define MIGNET_LIMITS_H 1

/* A VM's network configuration (struct mn_config). */
#define MN_VNI_MAX 16777215u  /* 24-bit VXLAN network identifier */
#define MN_VLAN_MAX 4094u     /* 802.1Q VLAN id; 0 = untagged */
#define MN_PORT_MAX 0xffffff00u /* highest OpenFlow port number (OFPP_MAX) */

/* A node's expected map refresh interval. */
#define MN_REFRESH_MIN_MS 10u
#define MN_REFRESH_MAX_MS 3600000u /* an hour */
#define MN_REFRESH_DEFAULT_MS 2000u
/* A node's data-plane address as text (IPv4 or IPv6). */
#define MN_ADDRESS_MAX 63

/* The migration plan's inputs. */
#define MN_MEMORY_MB_MAX 16777216u   /* 16 TiB */
#define MN_DIRTY_RATE_MAX 1e9        /* pages per second */
#define MN_PAGE_SIZE_MIN 512u        /* a power of two in between */
#define MN_PAGE_SIZE_MAX 1073741824u /* 1 GiB huge pages */
#define MN_DEADLINE_MS_MAX 86400000u /* a day */
#define MN_CPU_FREE_MAX 1.0          /* target_cpu_free: a fraction */

/* A migration's prepare deadline (switch-overs other than `now`). */
#define MN_PREPARE_DEADLINE_DEFAULT_MS 600000u
#define MN_PREPARE_DEADLINE_MIN_MS 1000u
#define MN_PREPARE_DEADLINE_MAX_MS 86400000u

/* A pre-copy transfer's report (POST /v1/transfers, `mignet transfer
 * report`): rounds in its round_list (the planner's PRECOPY_MAX_ROUNDS),
 * paths it ran on (the planner's path limit), its times and sizes. */
#define MN_TRANSFER_ROUNDS_MAX 1000u
#define MN_TRANSFER_PATHS_MAX 64u
#define MN_TRANSFER_MS_MAX 86400000.0      /* a day */
#define MN_TRANSFER_BYTES_MAX 9007199254740992.0 /* 2^53: exact in JSON */

/* Longest abort reason kept (printable ASCII), not counting the NUL. */
#define MN_ABORT_REASON_MAX 127

#endif /* MIGNET_LIMITS_H */
