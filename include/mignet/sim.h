/* sim.h: the data-centre simulator's entry point (`mignet sim`). */
#ifndef MIGNET_SIM_H
#define MIGNET_SIM_H 1

/* Runs `mignet sim ARGS...` (argv[0] is "sim").  Returns the exit code. */
int sim_main(int argc, char **argv);

#endif /* MIGNET_SIM_H */
