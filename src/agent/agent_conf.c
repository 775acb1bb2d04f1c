/* agent_conf.c: mignet-agent's config file (see agent_conf.h).  Bounded
 * in lines and line length; a bad line is an error, never skipped. */
#include "agent/agent_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static char *
conf_trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'
                 || s[n - 1] == '\n')) {
        s[--n] = '\0';
    }
    return s;
}

static void
conf_add(struct agent_conf *c, const char *name, const char *value)
{
    c->names = xrealloc(c->names, (c->n + 1) * sizeof *c->names);
    c->values = xrealloc(c->values, (c->n + 1) * sizeof *c->values);
    c->args = xrealloc(c->args, (c->n + 1) * sizeof *c->args);
    c->names[c->n] = xstrdup(name);
    c->values[c->n] = xstrdup(value);
    size_t len = strlen(name) + strlen(value) + 4;
    c->args[c->n] = xmalloc(len);
    snprintf(c->args[c->n], len, "--%s=%s", name, value);
    c->n++;
}

int
agent_conf_read(const char *path, bool (*known)(const char *name),
                struct agent_conf *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return e;
    }
    char line[AGENT_CONF_LINE_MAX + 2];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len > AGENT_CONF_LINE_MAX && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            rc = EINVAL;
            break;
        }
        char *s = conf_trim(line);
        if (!*s || *s == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%u: expected 'name = value'", path,
                     lineno);
            rc = EINVAL;
            break;
        }
        *eq = '\0';
        char *name = conf_trim(s);
        char *value = conf_trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        for (char *p = name; *p; p++) {
            *p = *p == '_' ? '-' : *p;
        }
        if (!*name || (known && !known(name))) {
            snprintf(err, errlen, "%s:%u: unknown setting '%s'", path,
                     lineno, name);
            rc = EINVAL;
            break;
        }
        if (c->n >= AGENT_CONF_MAX_LINES) {
            snprintf(err, errlen, "%s:%u: more than %d settings", path,
                     lineno, AGENT_CONF_MAX_LINES);
            rc = EINVAL;
            break;
        }
        conf_add(c, name, value);
    }
    if (!rc && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = EIO;
    }
    fclose(f);
    if (rc) {
        agent_conf_destroy(c);
    }
    return rc;
}

const char *
agent_conf_get(const struct agent_conf *c, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; c && i < c->n; i++) {
        if (!strcmp(c->names[i], name)) {
            v = c->values[i];
        }
    }
    return v;
}

void
agent_conf_destroy(struct agent_conf *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        free(c->names[i]);
        free(c->values[i]);
        free(c->args[i]);
    }
    free(c->names);
    free(c->values);
    free(c->args);
    memset(c, 0, sizeof *c);
}
