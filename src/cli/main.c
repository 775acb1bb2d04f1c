/* main.c: the `mignet` command line: a dispatcher to subcommands.
 *
 * Each subcommand lives in its own module and gets argv starting at its
 * own name.  This file must stay a thin table: no subcommand logic here. */
#include <stdio.h>
#include <string.h>

#include "mignet/sim.h"

struct subcommand {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *help;
};

/* Add subcommands here (the VM manager's REST client commands — create,
 * migrate, show, plan — come from their own module). */
static const struct subcommand subcommands[] = {
    {"sim", sim_main, "simulate a data centre migrating VMs (see --help)"},
};
#define N_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void
usage(FILE *f)
{
    fprintf(f, "usage: mignet COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
        fprintf(f, "  %-10s %s\n", subcommands[i].name,
                subcommands[i].help);
    }
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")
        || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
        if (!strcmp(argv[1], subcommands[i].name)) {
            return subcommands[i].main(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "mignet: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
