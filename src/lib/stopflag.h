/* stopflag.h: SIGINT and SIGTERM as a stop flag, for the command-line
 * tools' blocking loops (mignet-bulk, mignet-traffic, the test agent).
 *
 * The handlers are installed without SA_RESTART, so a blocking poll() or
 * sleep returns EINTR and the loop sees the flag at once.  Never for the
 * daemons: libevent owns their signals. */
#ifndef MIGNET_STOPFLAG_H
#define MIGNET_STOPFLAG_H 1

#include <stdbool.h>

/* Makes SIGINT and SIGTERM raise the flag instead of ending the process. */
void stopflag_install(void);
/* Whether SIGINT or SIGTERM has arrived since stopflag_install(). */
bool stopflag_raised(void);

#endif /* MIGNET_STOPFLAG_H */
