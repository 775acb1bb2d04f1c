/* main.c: the mignetd executable.
 *
 * Parses the settings and hands over to ctl_main(); everything else lives
 * in libmignet so tests and benchmarks drive the same code.  It must stay
 * this thin. */
#include <stdio.h>

#include "controller/ctl.h"
#include "controller/options.h"

int
main(int argc, char **argv)
{
    struct mignetd_options opts;
    char err[512] = "";
    switch (options_parse(&opts, argc, argv, stdout, err, sizeof err)) {
    case OPTIONS_RUN:
        return ctl_main(&opts, argc, argv);
    case OPTIONS_EXIT:
        return 0;
    case OPTIONS_ERROR:
    default:
        fprintf(stderr, "mignetd: %s\n", err);
        return 2;
    }
}
