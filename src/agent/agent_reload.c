/* agent_reload.c: what mignet-agent does on SIGHUP (agent-private.h).
 *
 * The config file (--config) and the token file are read again; the log
 * level (unless --log-level was a flag) and the node token apply at once
 * -- the token from the next connection to mignetd -- and every other
 * setting of the file that changed is named in one log line as needing a
 * restart.  Nothing applies unless both files parse.  systemd hears
 * RELOADING=1 then READY=1 around it. */
#include <stdio.h>
#include <string.h>

#include "agent/agent-private.h"
#include "agent/agent_conf.h"
#include "agent/chan_client.h"
#include "agent/credentials.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/strbuf.h"

static void
reload_list_add(struct strbuf *sb, const char *name)
{
    strbuf_printf(sb, "%s%s", sb->len ? " " : "", name);
}

/* Whether 'name' has the same value (or none) in 'a' and 'b'. */
static bool
conf_same(const struct agent_conf *a, const struct agent_conf *b,
          const char *name)
{
    const char *va = agent_conf_get(a, name), *vb = agent_conf_get(b, name);
    return va == vb || (va && vb && !strcmp(va, vb));
}

/* Names the settings other than the log level that differ between the
 * file read at start ('old') and now ('now'), each once. */
static void
conf_restart_needed(const struct agent_conf *old, const struct agent_conf *now,
                    struct strbuf *out)
{
    const struct agent_conf *both[2] = {old, now};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; both[k] && i < both[k]->n; i++) {
            const char *name = both[k]->names[i];
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++) {
                seen = !strcmp(both[k]->names[j], name);
            }
            for (size_t j = 0; k == 1 && old && j < old->n && !seen; j++) {
                seen = !strcmp(old->names[j], name);
            }
            if (!seen && strcmp(name, "log-level")
                && !conf_same(old, now, name)) {
                reload_list_add(out, name);
            }
        }
    }
}

void
agent_reload(struct agent *a)
{
    sdnotify_reloading();
    const struct agent_options *o = &a->opt;
    log_write(LOG_INF, "agent", "event=reload signal=HUP config=%s",
              o->config_file ? o->config_file : "none");

    char err[512] = "";
    struct agent_conf now = {0};
    struct strbuf changed, ignored;
    strbuf_init(&changed);
    strbuf_init(&ignored);
    enum log_level level = log_get_level();
    char token[CHAN_TOKEN_MAX + 1] = "";
    if (o->config_file
        && agent_conf_read(o->config_file, o->conf_known, &now, err,
                           sizeof err)) {
        goto failed;
    }
    if (o->config_file && !o->log_level_flag) {
        const char *v = agent_conf_get(&now, "log-level");
        if (!v) {
            level = LOG_LEVEL_INFO; /* the default, as at start */
        } else if (!log_level_parse(v, &level)) {
            snprintf(err, sizeof err, "%s: unknown log level '%s'",
                     o->config_file, v);
            goto failed;
        }
    }
    if (o->token_file && agent_token_read(o->token_file, token, err,
                                          sizeof err)) {
        goto failed;
    }

    if (level != log_get_level()) {
        log_set_level(level);
        reload_list_add(&changed, "log-level");
    }
    if (o->token_file && strcmp(token, a->token)) {
        snprintf(a->token, sizeof a->token, "%s", token);
        chan_client_set_token(a->core->chan, a->token);
        reload_list_add(&changed, "token");
    }
    if (o->config_file) {
        conf_restart_needed(o->conf, &now, &ignored);
    }
    log_write(LOG_INF, "agent", "event=reloaded node=%s changed=\"%s\" "
              "log_level=%s", o->node, strbuf_str(&changed),
              log_level_name(log_get_level()));
    if (ignored.len) {
        log_write(LOG_WARN, "agent", "event=reload_ignored "
                  "restart_needed=\"%s\" msg=\"these settings apply at the "
                  "next start\"", strbuf_str(&ignored));
    }
    goto out;
failed:
    log_write(LOG_ERROR, "agent", "event=reload_failed err=\"%s\" "
              "msg=\"nothing changed\"", err);
out:
    explicit_bzero(token, sizeof token);
    agent_conf_destroy(&now);
    strbuf_destroy(&changed);
    strbuf_destroy(&ignored);
    sdnotify("READY=1");
}
