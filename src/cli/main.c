/* main.c: the `mignet` executable: `mignet sim ...` runs the simulator,
 * `mignet precopy ...` the pre-copy engine,
 * everything else is the controller's command-line client.
 *
 * A dispatcher only: it must never grow logic of its own. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "mignet/sim.h"

int
main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("mignet %s\n", MIGNET_VERSION);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "sim")) {
        return sim_main(argc - 1, argv + 1);
    }
    if (argc > 1 && !strcmp(argv[1], "precopy")) {
        return precopy_main(argc - 1, argv + 1);
    }
    return cli_client_main(argc, argv);
}
