/* agent_conf.h: mignet-agent's config file (--config FILE).
 *
 * Lines "name = value" name the agent's long flags without their dashes
 * ('_' may stand for '-'); blank lines and '#' comments are skipped.  The
 * file becomes a list of "--name=value" arguments that main.c parses
 * before the command line, so flags win; SIGHUP reads it again
 * (agent_reload.c). */
#ifndef MIGNET_AGENT_AGENT_CONF_H
#define MIGNET_AGENT_AGENT_CONF_H 1

#include <stdbool.h>
#include <stddef.h>

#define AGENT_CONF_MAX_LINES 256
#define AGENT_CONF_LINE_MAX 1024

/* A config file's settings, in file order. */
struct agent_conf {
    char **names;  /* "node", "log-level", ... (dashes, never '_') */
    char **values;
    char **args;   /* "--name=value" */
    size_t n;
};

/* Reads 'path' into 'c' (initialised here).  A name not accepted by
 * 'known' (when not NULL) is an error.  0, or an errno with "PATH:LINE:
 * why" in 'err' and 'c' empty. */
int agent_conf_read(const char *path, bool (*known)(const char *name),
                    struct agent_conf *c, char *err, size_t errlen);
/* The last value of 'name' in 'c', or NULL. */
const char *agent_conf_get(const struct agent_conf *c, const char *name);
void agent_conf_destroy(struct agent_conf *);

#endif /* MIGNET_AGENT_AGENT_CONF_H */
