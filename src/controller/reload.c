/* reload.c: what mignetd does on SIGHUP (ctl_reload, ctl.h).
 *
 * The command line and the config file are parsed again exactly as at
 * start-up; of the settings that changed, the log levels (log-level,
 * access-log-level) and the API tokens file apply at once, the others need a restart and are named in
 * one log line and left as they run.  Nothing applies unless everything
 * parses: a bad config or tokens file leaves the daemon as it was.
 * systemd hears RELOADING=1 then READY=1 around it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctl.h"
#include "controller/options.h"
#include "controller/rest.h"
#include "controller/rest_auth.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "lib/strbuf.h"
#include "lib/util.h"

#define RELOAD_MAX_NAMES 64

/* Appends 'name' to the space-separated list 'sb'. */
static void
reload_list_add(struct strbuf *sb, const char *name)
{
    strbuf_printf(sb, "%s%s", sb->len ? " " : "", name);
}

void
ctl_reload(struct ctl *ctl)
{
    sdnotify_reloading();
    log_write(LOG_INF, "ctl", "event=reload signal=HUP config=%s",
              ctl->opts.config_file[0] ? ctl->opts.config_file : "none");

    struct mignetd_options *n = xmalloc(sizeof *n);
    char err[512] = "";
    if (options_parse(n, ctl->argc, ctl->argv, NULL, err, sizeof err)
        != OPTIONS_RUN) {
        log_write(LOG_ERROR, "ctl", "event=reload_failed err=\"%s\" "
                  "msg=\"nothing changed\"", err);
        goto out;
    }
    const char *names[RELOAD_MAX_NAMES];
    size_t n_names;
    options_diff(&ctl->opts, n, names, &n_names, RELOAD_MAX_NAMES);

    /* The tokens file is read again even when its name did not change:
     * its content is what an operator rotates. */
    struct rest_auth *auth = rest_get_auth(ctl->rest);
    bool tokens_changed = false;
    if (rest_auth_reload(auth, n->api_tokens, &tokens_changed, err,
                         sizeof err)) {
        log_write(LOG_ERROR, "ctl", "event=reload_failed err=\"%s\" "
                  "msg=\"nothing changed\"", err);
        goto out;
    }

    struct strbuf changed, ignored;
    strbuf_init(&changed);
    strbuf_init(&ignored);
    for (size_t i = 0; i < n_names; i++) {
        if (!strcmp(names[i], "log-level")) {
            log_set_level(n->log_level);
            ctl->opts.log_level = n->log_level;
            reload_list_add(&changed, names[i]);
        } else if (!strcmp(names[i], "access-log-level")) {
            rest_set_access_level(n->access_log_level);
            ctl->opts.access_log_level = n->access_log_level;
            reload_list_add(&changed, names[i]);
        } else if (!strcmp(names[i], "api-tokens")) {
            snprintf(ctl->opts.api_tokens, sizeof ctl->opts.api_tokens, "%s",
                     n->api_tokens);
        } else {
            reload_list_add(&ignored, names[i]);
        }
    }
    if (tokens_changed) {
        reload_list_add(&changed, "api-tokens");
    }
    log_write(LOG_INF, "ctl", "event=reloaded changed=\"%s\" "
              "log_level=%s api_tokens=%zu", strbuf_str(&changed),
              log_level_name(log_get_level()),
              rest_tokens_count(auth->tokens));
    if (ignored.len) {
        log_write(LOG_WARN, "ctl", "event=reload_ignored "
                  "restart_needed=\"%s\" msg=\"these settings apply at the "
                  "next start\"", strbuf_str(&ignored));
    }
    strbuf_destroy(&changed);
    strbuf_destroy(&ignored);
out:
    free(n);
    sdnotify("READY=1");
}
