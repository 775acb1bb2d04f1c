/* args.c: command-line parsing and help text for `mignet`.
 *
 * Pure functions over argv and the command table: no I/O, no environment.
 * A command line is either fully understood or rejected with a message that
 * names the offending word; nothing is guessed. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/addr.h"
#include "lib/strbuf.h"

#define SET_ERR strbuf_format_into

bool
cli_repeats(const char *synopsis)
{
    size_t n = synopsis ? strlen(synopsis) : 0;
    return n > 3 && !strcmp(synopsis + n - 3, "...");
}

static bool
is_group(const struct cli_cmd *cmds, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++) {
        if (cmds[i].group && !strcmp(cmds[i].group, word)) {
            return true;
        }
    }
    return false;
}

static const struct cli_cmd *
find_cmd(const struct cli_cmd *cmds, size_t n, const char *group,
         const char *name)
{
    for (size_t i = 0; i < n; i++) {
        bool same_group = group ? cmds[i].group
                                      && !strcmp(cmds[i].group, group)
                                : !cmds[i].group;
        if (same_group && !strcmp(cmds[i].name, name)) {
            return &cmds[i];
        }
    }
    return NULL;
}

static int
find_opt(const struct cli_cmd *cmd, const char *name, size_t name_len)
{
    for (int i = 0; i < CLI_MAX_OPTS && cmd->opts[i].name; i++) {
        if (strlen(cmd->opts[i].name) == name_len
            && !strncmp(cmd->opts[i].name, name, name_len)) {
            return i;
        }
    }
    return -1;
}

/* Words seen so far resolve the command: group + name, or a top-level
 * name.  Returns false with 'err' set when they name nothing. */
static bool
resolve(const struct cli_cmd *cmds, size_t n, struct cli_parsed *p,
        const char *word, char *err, size_t errlen)
{
    if (p->cmd) {
        int most = cli_repeats(p->cmd->args) ? CLI_MAX_POS : p->cmd->n_pos;
        if (p->n_pos >= CLI_MAX_POS || p->n_pos >= most) {
            if (cli_repeats(p->cmd->args)) {
                SET_ERR(err, errlen, "at most %d arguments after '%s %s'",
                        CLI_MAX_POS, p->cmd->group ? p->cmd->group : "",
                        p->cmd->name);
            } else {
                SET_ERR(err, errlen, "unexpected argument '%s'", word);
            }
            return false;
        }
        p->pos[p->n_pos++] = word;
        return true;
    }
    if (p->group) {
        p->cmd = find_cmd(cmds, n, p->group, word);
        if (!p->cmd) {
            SET_ERR(err, errlen, "unknown command '%s %s'", p->group, word);
            return false;
        }
        return true;
    }
    p->cmd = find_cmd(cmds, n, NULL, word);
    if (!p->cmd) {
        if (!is_group(cmds, n, word)) {
            SET_ERR(err, errlen, "unknown command '%s'", word);
            return false;
        }
        p->group = word;
    }
    return true;
}

/* Handles global option 'name'; returns 1 if it was one, 0 if not, -1 on
 * error.  '*i' moves past a separate value. */
static int
global_option(struct cli_parsed *p, const char *name, size_t name_len,
              const char *inline_value, int argc, char **argv, int *i,
              char *err, size_t errlen)
{
#define IS(S) (name_len == strlen(S) && !strncmp(name, S, name_len))
    bool flag = IS("json") || IS("help");
    bool valued = IS("url") || IS("timeout") || IS("token")
                  || IS("cacert");
#undef IS
    if (!flag && !valued) {
        return 0;
    }
    if (flag && inline_value) {
        SET_ERR(err, errlen, "--%.*s takes no value", (int) name_len, name);
        return -1;
    }
    if (flag) {
        if (name[0] == 'j') {
            p->json = true;
        } else {
            p->help = true;
        }
        return 1;
    }
    const char *value = inline_value;
    if (!value) {
        if (*i + 1 >= argc || !strncmp(argv[*i + 1], "--", 2)) {
            SET_ERR(err, errlen, "--%.*s needs a value", (int) name_len,
                    name);
            return -1;
        }
        value = argv[++*i];
    }
    if (name[0] == 'u') {
        p->url = value;
    } else if (name[0] == 'c') {
        p->cacert = value;
    } else if (name[1] == 'o') {
        p->token = value;
    } else {
        uint64_t ms;
        if (!addr_parse_u64(value, 1, 3600000, &ms)) {
            SET_ERR(err, errlen,
                    "--timeout must be milliseconds from 1 to 3600000");
            return -1;
        }
        p->timeout_ms = (uint32_t) ms;
    }
    return 1;
}

enum cli_exit
cli_parse(const struct cli_cmd *cmds, size_t n, int argc, char **argv,
          struct cli_parsed *p, char *err, size_t errlen)
{
    bool options_done = false;

    memset(p, 0, sizeof *p);
    SET_ERR(err, errlen, "%s", "");
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || !strcmp(arg, "-")) {
            if (!resolve(cmds, n, p, arg, err, errlen)) {
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (!strcmp(arg, "--")) {
            options_done = true;
            continue;
        }
        if (!strcmp(arg, "-h")) {
            p->help = true;
            continue;
        }
        if (arg[1] != '-') {
            SET_ERR(err, errlen, "unknown option '%s'", arg);
            return CLI_EXIT_USAGE;
        }

        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t) (eq - name) : strlen(name);
        const char *inline_value = eq ? eq + 1 : NULL;
        int g = global_option(p, name, name_len, inline_value, argc, argv,
                              &i, err, errlen);
        if (g < 0) {
            return CLI_EXIT_USAGE;
        }
        if (g > 0) {
            continue;
        }

        int k = p->cmd ? find_opt(p->cmd, name, name_len) : -1;
        if (k < 0) {
            if (p->help) {
                continue; /* `mignet vm create --help --mac` still helps */
            }
            if (p->cmd) {
                SET_ERR(err, errlen, "unknown option '--%.*s' for '%s%s%s'",
                        (int) name_len, name,
                        p->cmd->group ? p->cmd->group : "",
                        p->cmd->group ? " " : "", p->cmd->name);
            } else {
                SET_ERR(err, errlen, "unknown option '--%.*s'",
                        (int) name_len, name);
            }
            return CLI_EXIT_USAGE;
        }
        const struct cli_opt *o = &p->cmd->opts[k];
        if (p->opt[k] && !cli_repeats(o->metavar)) {
            SET_ERR(err, errlen, "--%s given twice", o->name);
            return CLI_EXIT_USAGE;
        }
        if (!o->metavar) {
            if (inline_value) {
                SET_ERR(err, errlen, "--%s takes no value", o->name);
                return CLI_EXIT_USAGE;
            }
            p->opt[k] = "";
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) {
                SET_ERR(err, errlen, "--%s needs a value (%s)", o->name,
                        o->metavar);
                return CLI_EXIT_USAGE;
            }
            inline_value = argv[++i];
        }
        if (cli_repeats(o->metavar)) {
            if (p->n_rep >= CLI_MAX_REPEAT) {
                SET_ERR(err, errlen, "--%s given more than %d times",
                        o->name, CLI_MAX_REPEAT);
                return CLI_EXIT_USAGE;
            }
            p->rep[p->n_rep] = inline_value;
            p->rep_opt[p->n_rep++] = k;
            if (p->opt[k]) {
                continue;
            }
        }
        p->opt[k] = inline_value;
    }

    if (p->help) {
        return CLI_EXIT_OK;
    }
    if (!p->cmd) {
        if (p->group) {
            SET_ERR(err, errlen, "'%s' needs a command", p->group);
        } else {
            SET_ERR(err, errlen, "no command given");
        }
        return CLI_EXIT_USAGE;
    }
    if (p->n_pos < p->cmd->n_pos) {
        SET_ERR(err, errlen, "missing %s", p->cmd->args);
        return CLI_EXIT_USAGE;
    }
    for (int k = 0; k < CLI_MAX_OPTS && p->cmd->opts[k].name; k++) {
        if (p->cmd->opts[k].required && !p->opt[k]) {
            SET_ERR(err, errlen, "missing --%s %s", p->cmd->opts[k].name,
                    p->cmd->opts[k].metavar ? p->cmd->opts[k].metavar : "");
            return CLI_EXIT_USAGE;
        }
    }
    return CLI_EXIT_OK;
}

const char *
cli_opt_value(const struct cli_parsed *p, const char *name)
{
    if (!p->cmd) {
        return NULL;
    }
    int k = find_opt(p->cmd, name, strlen(name));
    return k < 0 ? NULL : p->opt[k];
}

const char *
cli_opt_nth(const struct cli_parsed *p, const char *name, size_t i)
{
    int k = p->cmd ? find_opt(p->cmd, name, strlen(name)) : -1;
    for (size_t r = 0; k >= 0 && r < p->n_rep; r++) {
        if (p->rep_opt[r] == k && !i--) {
            return p->rep[r];
        }
    }
    return NULL;
}

/* ---- Help ---- */

/* Appends 'word' after a space, wrapping to an indented new line when the
 * current line would pass 79 columns. */
static void
put_word(struct strbuf *out, const char *word)
{
    const char *line = strrchr(strbuf_str(out), '\n');
    size_t col = out->len - (line ? (size_t) (line + 1 - out->data) : 0);
    if (col + 1 + strlen(word) > 79) {
        strbuf_puts(out, "\n       ");
    } else {
        strbuf_putc(out, ' ');
    }
    strbuf_puts(out, word);
}

static void
put_synopsis(const struct cli_cmd *c, struct strbuf *out)
{
    struct strbuf word;
    strbuf_init(&word);
    strbuf_puts(out, "mignet");
    if (c->group) {
        put_word(out, c->group);
    }
    put_word(out, c->name);
    if (c->args) {
        put_word(out, c->args);
    }
    for (int k = 0; k < CLI_MAX_OPTS && c->opts[k].name; k++) {
        const struct cli_opt *o = &c->opts[k];
        strbuf_clear(&word);
        strbuf_printf(&word, "%s--%s%s%s%s", o->required ? "" : "[",
                      o->name, o->metavar ? " " : "",
                      o->metavar ? o->metavar : "", o->required ? "" : "]");
        put_word(out, strbuf_str(&word));
    }
    strbuf_destroy(&word);
}

static void
put_globals(struct strbuf *out)
{
    strbuf_puts(out,
                "\nGlobal options (anywhere on the line):\n"
                "  --url URL      controller, http[s]://HOST:PORT "
                "(default: $MIGNET_URL,\n"
                "                 else " CLI_DEFAULT_URL "); URL,URL... "
                "for replicas:\n"
                "                 the next is tried when one cannot be "
                "reached\n"
                "  --token TOKEN  bearer token for the API (default: "
                "$MIGNET_TOKEN)\n"
                "  --cacert FILE  https: verify the controller with this PEM "
                "CA file\n"
                "                 (default: $MIGNET_CACERT, else the "
                "system's CAs)\n"
                "  --json         print the controller's JSON answer\n"
                "  --timeout MS   give up after MS milliseconds "
                "(default 10000)\n"
                "  --help, -h     show help\n");
}

static void
put_exit_codes(struct strbuf *out)
{
    strbuf_puts(out, "\nExit codes:\n");
#define CLI_EXIT(ENUM, CODE, MSG) strbuf_printf(out, "  %d  %s\n", CODE, MSG);
    CLI_EXITS
#undef CLI_EXIT
}

static void
put_command_list(const struct cli_cmd *cmds, size_t n, const char *group,
                 struct strbuf *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct cli_cmd *c = &cmds[i];
        if (group && (!c->group || strcmp(c->group, group))) {
            continue;
        }
        strbuf_puts(out, "  ");
        size_t start = out->len;
        strbuf_printf(out, "%s%s%s%s%s", c->group ? c->group : "",
                      c->group ? " " : "", c->name, c->args ? " " : "",
                      c->args ? c->args : "");
        size_t w = out->len - start;
        strbuf_pad(out, ' ', w < 24 ? 24 - w : 2);
        strbuf_printf(out, "%s\n", c->summary);
    }
}

void
cli_help(const struct cli_cmd *cmds, size_t n, const char *group,
         const struct cli_cmd *cmd, struct strbuf *out)
{
    if (cmd) {
        strbuf_puts(out, "Usage: ");
        put_synopsis(cmd, out);
        strbuf_printf(out, "\n\n%s\n", cmd->summary);
        if (cmd->details) {
            strbuf_printf(out, "\n%s\n", cmd->details);
        }
        if (cmd->opts[0].name) {
            strbuf_puts(out, "\nOptions:\n");
            for (int k = 0; k < CLI_MAX_OPTS && cmd->opts[k].name; k++) {
                const struct cli_opt *o = &cmd->opts[k];
                size_t start = out->len;
                strbuf_printf(out, "  --%s%s%s", o->name,
                              o->metavar ? " " : "",
                              o->metavar ? o->metavar : "");
                size_t w = out->len - start;
                strbuf_pad(out, ' ', w < 22 ? 22 - w : 2);
                bool rep = cli_repeats(o->metavar);
                strbuf_printf(out, "%s%s\n", o->help,
                              o->required && rep ? " (required, repeatable)"
                              : o->required      ? " (required)"
                              : rep              ? " (repeatable)"
                                                 : "");
            }
        }
        put_globals(out);
        return;
    }
    if (group) {
        strbuf_printf(out, "Usage: mignet %s COMMAND [ARGS...]\n\n"
                           "Commands:\n",
                      group);
        put_command_list(cmds, n, group, out);
        strbuf_printf(out, "\nSee 'mignet %s COMMAND --help' for a "
                           "command's options.\n",
                      group);
        put_globals(out);
        return;
    }
    strbuf_puts(out, "Usage: mignet [--url URL] [--json] COMMAND "
                     "[ARGS...]\n\n"
                     "The command line of mignet, the migration-aware SDN "
                     "controller: registers\nnodes and VMs with mignetd, "
                     "migrates VMs and shows what the controller\nknows "
                     "(pending tasks, the gateway map).\n\nCommands:\n");
    put_command_list(cmds, n, NULL, out);
    strbuf_puts(out, "  sim ...                 run the data-centre "
                     "simulator\n"
                     "  precopy send|recv ...   live-copy memory in "
                     "pre-copy rounds\n"
                     "\nSee 'mignet COMMAND --help' for a command's "
                     "options.\n");
    put_globals(out);
    put_exit_codes(out);
}
