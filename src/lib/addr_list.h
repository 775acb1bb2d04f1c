/* addr_list.h: the addresses of mignetd's replicas, as a client fails
 * over between them (the agent's --controller and --gateway, the CLI's
 * --url): a comma-separated list, the one in use, and when to back off.
 *
 * A small state machine with no I/O.  The caller tries the current
 * address; when it fails (cannot connect, or a replica answered that it
 * does not lead), addr_list_next() moves on -- to the leader the replica
 * named, if that is one of the list, else to the next address -- and says
 * whether every address has now failed in a row, so the caller waits
 * before it tries again instead of spinning.  addr_list_succeeded() (a
 * session really started) resets that count.  Leader hints that are not
 * in the list are never followed: a client only talks to the replicas it
 * was configured with. */
#ifndef MIGNET_ADDR_LIST_H
#define MIGNET_ADDR_LIST_H 1

#include <stdbool.h>
#include <stddef.h>

#define ADDR_LIST_MAX 8         /* addresses */
#define ADDR_LIST_ITEM_MAX 255  /* bytes of one address */

struct addr_list {
    char item[ADDR_LIST_MAX][ADDR_LIST_ITEM_MAX + 1];
    size_t n;           /* >= 1 once parsed */
    size_t cur;         /* the address in use */
    size_t failures;    /* failures in a row since the last success */
};

/* Parses "A[,B...]": 1 to ADDR_LIST_MAX addresses, each 1 to
 * ADDR_LIST_ITEM_MAX printable characters without spaces or commas, no
 * duplicates.  Returns 0, or EINVAL with a message in 'err' ('l' is then
 * unchanged). */
int addr_list_parse(struct addr_list *l, const char *csv, char *err,
                    size_t errlen);

/* The address in use, and its index in the list. */
const char *addr_list_current(const struct addr_list *);
size_t addr_list_index(const struct addr_list *);

/* The address in use failed.  Moves to 'leader' if it is one of the list
 * (and not the one that failed), else to the next address.  Returns true
 * when the list's every address has failed in a row (back off). */
bool addr_list_next(struct addr_list *, const char *leader);

/* A session with the current address started: failures reset. */
void addr_list_succeeded(struct addr_list *);

/* Whether 'addr' is one of the list (its index in '*index' if so). */
bool addr_list_find(const struct addr_list *, const char *addr,
                    size_t *index);

#endif /* MIGNET_ADDR_LIST_H */
