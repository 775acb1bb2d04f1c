/* cli.h: the `mignet` command-line client (the VM manager's client of
 * mignetd's northbound API), split into pure pieces that tests drive:
 * argument parsing, help text, request building and answer rendering.
 *
 * None of the pure functions here does I/O or reads the environment or the
 * clock; cli_client_main() is the only one that talks to the world.  The
 * client never changes anything the user did not ask for, and never exits
 * 0 unless the controller accepted the request. */
#ifndef MIGNET_CLI_H
#define MIGNET_CLI_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "mignet/vnet.h"

/* Runs `mignet ARGS...` for everything but `mignet sim`.  Returns the exit
 * code (enum cli_exit). */
int cli_client_main(int argc, char **argv);
/* Runs `mignet precopy send|recv ...` (precopy.c); argv[0] is "precopy".
 * Returns 0 verified, 1 failed migration, 2 bad command line. */
int precopy_main(int argc, char **argv);

/* Exit codes, documented in `mignet --help`. */
#define CLI_EXITS                                                            \
    CLI_EXIT(OK, 0, "success")                                               \
    CLI_EXIT(FAIL, 1, "internal failure (e.g. out of memory)")               \
    CLI_EXIT(USAGE, 2, "bad command line")                                   \
    CLI_EXIT(UNREACHABLE, 3, "controller unreachable, timed out, or not "    \
                             "trusted (TLS)")                                \
    CLI_EXIT(CONTROLLER, 4, "controller answered with an error")             \
    CLI_EXIT(BAD_REPLY, 5, "controller's answer was malformed")

enum cli_exit {
#define CLI_EXIT(ENUM, CODE, MSG) CLI_EXIT_##ENUM = CODE,
    CLI_EXITS
#undef CLI_EXIT
};

#define CLI_DEFAULT_URL "http://127.0.0.1:7480"
#define CLI_DEFAULT_TIMEOUT_MS 10000
#define CLI_MAX_OPTS 12
/* Values of repeatable options, all together: the most ports a virtual
 * switch has. */
#define CLI_MAX_REPEAT VNET_MAX_PORTS
/* Positional arguments: a command whose 'args' end in "..." takes up to
 * this many (`mignet vswitch migrate ID VM=NODE...`). */
#define CLI_MAX_POS (1 + CLI_MAX_REPEAT)

/* How a command's successful answer is printed without --json. */
enum cli_render {
    CLI_RENDER_OBJECT,    /* "key: value" lines */
    CLI_RENDER_NODES,     /* table of nodes */
    CLI_RENDER_VMS,       /* table of VMs */
    CLI_RENDER_TASKS,     /* table of pending tasks */
    CLI_RENDER_MAP,       /* map version + table of entries */
    CLI_RENDER_BINDINGS,  /* table of port-security bindings */
    CLI_RENDER_MIGRATE,   /* one sentence about the started migration
                           * (and its plan with --plan) */
    CLI_RENDER_MIGRATION, /* "key: value" lines, then the plan */
    CLI_RENDER_FABRIC,    /* switches, links and hosts of the fabric */
    CLI_RENDER_TRANSFER,  /* what a transfer report taught */
    CLI_RENDER_TRANSFERS, /* table of reported transfers */
    CLI_RENDER_TRANSFER_PAIRS, /* table of learned node pairs */
    CLI_RENDER_DONE,      /* one sentence: "deleted vm vm1" */
    CLI_RENDER_VSWITCHES, /* table of virtual switches */
    CLI_RENDER_VSWITCH,   /* "key: value" lines, then the ports */
    CLI_RENDER_VSWITCH_FLOWS,   /* the tenant's flow table */
    CLI_RENDER_VSWITCH_MIGRATE, /* the ensemble's migration per VM */
};

struct cli_opt {
    const char *name;    /* "to" for --to; NULL ends the list */
    const char *metavar; /* "NODE"; NULL for a flag without value */
    bool required;
    const char *help;
};
/* An option whose metavar ends in "..." ("VM=NUM...") may be given more
 * than once (cli_opt_nth); a command whose 'args' end in "..." ("ID
 * VM=NODE...") takes 'n_pos' or more positional arguments, up to
 * CLI_MAX_POS. */
bool cli_repeats(const char *synopsis);

struct cli_parsed;
struct cli_request;

struct cli_cmd {
    const char *group;    /* "vm"; NULL for top-level commands */
    const char *name;     /* "migrate" */
    const char *args;     /* positional synopsis, "VM"; NULL for none */
    int n_pos;            /* exact number of positional arguments */
    const char *summary;  /* one line */
    const char *details;  /* more help, or NULL */
    struct cli_opt opts[CLI_MAX_OPTS];
    enum cli_render render;
    /* Builds the HTTP request from parsed arguments; false with 'err' set
     * on a usage error. */
    bool (*build)(const struct cli_parsed *, struct cli_request *,
                  char *err, size_t errlen);
};
/* Commands whose first positional argument is a file the client reads
 * (at most CLI_INPUT_MAX bytes) into cli_parsed's 'input' before build:
 * those rendered as CLI_RENDER_TRANSFER (`mignet transfer report`). */
#define CLI_INPUT_MAX (16u << 20)
#define CLI_CMD_READS_FILE(cmd) ((cmd)->render == CLI_RENDER_TRANSFER)

/* The commands of `mignet` (commands.c). */
const struct cli_cmd *cli_commands(size_t *n);

/* What the command line asked for. */
struct cli_parsed {
    const struct cli_cmd *cmd; /* NULL when only help was asked for */
    const char *group;         /* group named, e.g. for `mignet vm --help` */
    bool help;
    bool json;
    const char *url;     /* --url, NULL if not given */
    const char *token;   /* --token, NULL if not given ($MIGNET_TOKEN) */
    const char *cacert;  /* --cacert, NULL if not given */
    uint32_t timeout_ms; /* --timeout, 0 if not given */
    int n_pos;
    const char *pos[CLI_MAX_POS];
    const char *opt[CLI_MAX_OPTS]; /* per cmd->opts index; flags get "";
                                    * a repeatable option its first value */
    size_t n_rep;                  /* values of repeatable options, in */
    const char *rep[CLI_MAX_REPEAT]; /* command-line order, and the */
    int rep_opt[CLI_MAX_REPEAT];   /* cmd->opts index of each */
    const char *input;   /* CLI_CMD_READS_FILE(cmd): the file's bytes */
    size_t input_len;
};

/* Parses argv[1..argc-1] against 'cmds'.  Returns CLI_EXIT_OK (check
 * 'p->help') or CLI_EXIT_USAGE with 'err' explaining.  Global options
 * (--url URL, --token TOKEN, --cacert FILE, --json, --timeout MS,
 * --help/-h) are accepted anywhere;
 * "--opt=value" and "--opt value" both work; "--" ends options. */
enum cli_exit cli_parse(const struct cli_cmd *cmds, size_t n, int argc,
                        char **argv, struct cli_parsed *p, char *err,
                        size_t errlen);
/* The value of option 'name' of the parsed command, or NULL. */
const char *cli_opt_value(const struct cli_parsed *, const char *name);
/* The i-th value (from 0) of repeatable option 'name', or NULL. */
const char *cli_opt_nth(const struct cli_parsed *, const char *name,
                        size_t i);

/* Help text: the whole tool ('group' NULL, 'cmd' NULL), one group, or one
 * command. */
void cli_help(const struct cli_cmd *cmds, size_t n, const char *group,
              const struct cli_cmd *cmd, struct strbuf *out);

/* An HTTP request to make. */
struct cli_request {
    const char *method;  /* static string */
    struct strbuf path;  /* escaped path and query, e.g. "/v1/vms/vm1" */
    char *body;          /* JSON text, or NULL */
};
void cli_request_init(struct cli_request *);
void cli_request_destroy(struct cli_request *);

/* Renders a successful answer 'reply' (may be NULL for an empty body) of
 * command 'p' for humans.  'now_unix_ms' dates relative times.  Returns
 * CLI_EXIT_OK, or CLI_EXIT_BAD_REPLY with 'err' set when the answer does
 * not have the expected shape. */
enum cli_exit cli_render_reply(const struct cli_parsed *p,
                               const json_t *reply, uint64_t now_unix_ms,
                               struct strbuf *out, char *err, size_t errlen);

/* Times for people, the CLI's one format: RFC 3339 UTC with
 * milliseconds ("2026-12-02T13:05:01.784Z"), followed, when 'now_unix_ms'
 * is not 0, by its distance from now: " (in 4.9 s)" or " (4.9 s ago)". */
void cli_put_time(struct strbuf *out, uint64_t unix_ms, uint64_t now_unix_ms);
/* A duration: "4.25 s" ('precise': milliseconds, trailing zeros dropped;
 * else tenths, "4.2 s"), "2 min 3 s", "1 h 5 min", "2 d 3 h". */
void cli_put_duration(struct strbuf *out, uint64_t ms, bool precise);

/* The plan of a migration ('plan' from the migrate answer or GET
 * /v1/migrations/{id}; null says there is none) and GET /v1/fabric, for
 * people (render_plan.c). */
enum cli_exit cli_render_plan(const json_t *plan, struct strbuf *out,
                              char *err, size_t errlen);
enum cli_exit cli_render_fabric(const json_t *fabric, struct strbuf *out,
                                char *err, size_t errlen);
/* POST /v1/transfers' answer, GET /v1/transfers and GET
 * /v1/transfers/pairs (render_plan.c); 'kind' is one of the
 * CLI_RENDER_TRANSFER* values. */
enum cli_exit cli_render_transfers(enum cli_render kind, const json_t *reply,
                                   struct strbuf *out, char *err,
                                   size_t errlen);

/* "key: value" lines of an object (nested objects flattened with dotted
 * keys; times and durations as render.c says).  A NULL 'reply' prints
 * nothing. */
enum cli_exit cli_render_object(const json_t *reply, uint64_t now_unix_ms,
                                struct strbuf *out, char *err,
                                size_t errlen);
/* The answers of `mignet vswitch` (render_vswitch.c); 'p->cmd->render' is
 * one of the CLI_RENDER_VSWITCH* values. */
enum cli_exit cli_render_vswitch(const struct cli_parsed *p,
                                 const json_t *reply, uint64_t now_unix_ms,
                                 struct strbuf *out, char *err,
                                 size_t errlen);

/* Formats an error answer (status and body as received) into one line for
 * stderr: "controller error 404 unknown_vm: no such VM". */
void cli_format_error(int status, const char *reason, const char *body,
                      size_t body_len, struct strbuf *out);

/* ---- Tables (table.c) ---- */

struct table;
/* A table with 'n_cols' columns; 'headers' are copied. */
struct table *table_create(size_t n_cols, const char *const *headers);
void table_destroy(struct table *);
/* Right-aligns column 'col' (for numbers). */
void table_align_right(struct table *, size_t col);
/* Adds a row of 'n_cols' cells (copied; NULL prints as "-").  Control
 * characters are shown as '?'.  0 or ENOMEM. */
int table_add_row(struct table *, const char *const *cells);
size_t table_n_rows(const struct table *);
/* Appends the table: header row, then rows, columns two spaces apart,
 * padded by UTF-8 characters, no trailing spaces. */
int table_render(const struct table *, struct strbuf *out);

#endif /* MIGNET_CLI_H */
