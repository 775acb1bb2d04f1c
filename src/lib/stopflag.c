/* stopflag.c: SIGINT/SIGTERM as a stop flag (see stopflag.h).  The handler
 * only sets the flag: nothing else is async-signal-safe enough here. */
#include "lib/stopflag.h"

#include <signal.h>

static volatile sig_atomic_t stopflag;

static void
stopflag_handler(int sig)
{
    (void) sig;
    stopflag = 1;
}

void
stopflag_install(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = stopflag_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool
stopflag_raised(void)
{
    return stopflag;
}
