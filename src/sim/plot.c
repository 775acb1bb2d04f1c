/* plot.c: `mignet sim --plot FILE.png` and `--plot-data FILE`: the
 * pictures of a run, drawn by gnuplot from the run's own counters.
 *
 * The data file holds exactly what the picture shows: block 0 the packets
 * lost per bucket of simulated time, one column a strategy (each column
 * adds up to the strategy's lost_* classes of the table and the JSON);
 * then one block per strategy with cleaned migrations, its cleanup times
 * sorted, with the fraction of migrations at or below each.  gnuplot is
 * started with an argument vector (no shell) on a script written next to
 * a temporary copy of the data; it is needed at run time only.  Nothing
 * here changes a result. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/simulator.h"

#define GNUPLOT "gnuplot"
#define GNUPLOT_PACKAGE "gnuplot-nox"

int
sim_plot_check(char *err, size_t errlen)
{
    const char *path = getenv("PATH");
    if (!path || !*path) {
        path = "/usr/bin:/bin";
    }
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        char file[4096];
        int k = snprintf(file, sizeof file, "%.*s/%s", (int)len, path,
                         GNUPLOT);
        if (len && k > 0 && (size_t)k < sizeof file
            && !access(file, X_OK)) {
            return 0;
        }
        path = colon ? colon + 1 : path + len;
    }
    snprintf(err, errlen,
             "--plot needs gnuplot, which is not on PATH (Debian: "
             "apt-get install " GNUPLOT_PACKAGE ")");
    return ENOENT;
}

static bool
any_loss(const struct sim_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (sim_result_lost(&r[i])) {
            return true;
        }
    }
    return false;
}

/* Rows of the loss block: the whole traffic time, and any loss after it
 * (packets in flight at the horizon, queues at the end). */
static size_t
loss_rows(const struct sim_result *r, size_t n)
{
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t b = r[i].series_ms ? r[i].series_ms : 1;
        size_t h = (size_t)((r[i].horizon_ms + b - 1) / b);
        rows = h > rows ? h : rows;
        rows = r[i].n_series > rows ? r[i].n_series : rows;
    }
    return rows;
}

static void
write_data(FILE *f, const struct sim_params *p, const struct sim_result *r,
           size_t n)
{
    fprintf(f,
            "# mignet sim --plot-data: %" PRIu32 " nodes, %" PRIu32
            " VMs, %" PRIu32 " migrations (%s), seed %" PRIu64 "\n"
            "# block 0: packets lost per %" PRIu32 " ms of simulated "
            "time (by arrival), from the traffic start; a column a "
            "strategy, each adds up to its lost_* counters\n"
            "# time_s",
            p->nodes, p->vms, p->migrations, sim_pattern_name(p->pattern),
            p->seed, p->plot_bucket_ms);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "\t%s", r[i].strategy);
    }
    fputc('\n', f);
    size_t rows = loss_rows(r, n);
    for (size_t j = 0; j < rows; j++) {
        fprintf(f, "%.3f", (double)j * p->plot_bucket_ms / 1000.0);
        for (size_t i = 0; i < n; i++) {
            uint64_t v = j < r[i].n_series ? r[i].lost_series[j] : 0;
            fprintf(f, "\t%" PRIu64, v);
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < n; i++) {
        if (!r[i].cleaned || !r[i].cleanup_us) {
            fprintf(f, "\n# %s: no migration was cleaned: no block\n",
                    r[i].strategy);
            continue;
        }
        fprintf(f,
                "\n\n# cleanup %s: %" PRIu64 " migrations, from the "
                "migration's start until its last source copy was "
                "deleted\n# cleanup_ms\tfraction\n",
                r[i].strategy, r[i].cleaned);
        for (uint64_t k = 0; k < r[i].cleaned; k++) {
            fprintf(f, "%.3f\t%.6f\n", (double)r[i].cleanup_us[k] / 1000.0,
                    (double)(k + 1) / (double)r[i].cleaned);
        }
    }
}

int
sim_plot_write_data(const char *path, const struct sim_params *p,
                    const struct sim_result *r, size_t n, char *err,
                    size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return e;
    }
    write_data(f, p, r, n);
    int e = ferror(f) ? EIO : 0;
    if (fclose(f) && !e) {
        e = errno;
    }
    if (e) {
        snprintf(err, errlen, "%s: %s", path, strerror(e));
    }
    return e;
}

/* Line styles: colours told apart also in colour-blind vision (Okabe
 * and Ito), widths falling with the index, so a strategy drawn over an
 * identical earlier one leaves that one's wider line visible around it. */
static const char *const colours[] = {
    "#000000", "#E69F00", "#56B4E9", "#009E73",
    "#999999", "#0072B2", "#D55E00", "#CC79A7",
};
#define N_COLOURS (sizeof colours / sizeof colours[0])

static void
line_styles(FILE *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double lw = 4.5 - 3.0 * (double)i / (double)(n > 1 ? n - 1 : 1);
        fprintf(f, "set style line %zu lc rgb '%s' lw %.2f\n", i + 1,
                colours[i % N_COLOURS], lw);
    }
}

/* 's' as a gnuplot single-quoted string (no escapes; '' is a quote). */
static void
gp_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') {
            fputc('\'', f);
        }
        fputc(*s, f);
    }
    fputc('\'', f);
}

static void
write_script(FILE *f, const struct sim_params *p, const struct sim_result *r,
             size_t n, const char *data)
{
    fprintf(f, "set terminal pngcairo size 1280,1100 font 'DejaVu Sans,11'"
               " noenhanced\nset output ");
    gp_string(f, p->plot);
    fprintf(f,
            "\nset datafile separator '\\t'\n"
            "set style data steps\nset grid\n"
            "set key outside right top box spacing 1.2\n"
            "set multiplot layout 2,1 title 'mignet sim: %" PRIu32
            " nodes, %" PRIu32 " VMs, %" PRIu32 " migrations (%s), "
            "refresh %" PRIu32 " ms, %" PRIu32 " peers x %" PRIu32
            " pps, pause %" PRIu32 " ms, seed %" PRIu64 "' font ',13'\n",
            p->nodes, p->vms, p->migrations, sim_pattern_name(p->pattern),
            p->refresh_ms, p->peers, p->pps, p->pause_ms, p->seed);
    line_styles(f, n);
    /* Losses over time. */
    fprintf(f,
            "set title 'Packets lost per %" PRIu32 " ms of simulated time"
            " (legend: total lost)'\n"
            "set xlabel 'simulated time since the traffic start (s)'\n"
            "set ylabel 'packets lost per %" PRIu32 " ms'\n"
            "set xrange [0:*]\nset yrange [0:%s]\n"
            "set lmargin 12\nset rmargin 40\n"
            "plot ",
            p->plot_bucket_ms, p->plot_bucket_ms,
            any_loss(r, n) ? "*" : "1");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s", i ? ", \\\n     " : "");
        gp_string(f, data);
        fprintf(f,
                " index 0 using 1:%zu with steps ls %zu title "
                "'%s (%" PRIu64 ")'",
                i + 2, i + 1, r[i].strategy, sim_result_lost(&r[i]));
    }
    fputc('\n', f);
    /* Cleanup times: a CDF a strategy, log x when every time is > 0. */
    bool any = false, logx = true;
    for (size_t i = 0; i < n; i++) {
        if (r[i].cleaned && r[i].cleanup_us) {
            any = true;
            logx &= r[i].cleanup_us[0] > 0;
        }
    }
    fprintf(f,
            "set title 'Cleanup time: a migration''s start until its last "
            "source copy is deleted (legend: migrations cleaned, p99)'\n"
            "set xlabel 'cleanup time (ms%s)'\n"
            "set ylabel 'fraction of cleaned migrations'\n"
            "set yrange [0:1.02]\n%s",
            logx && any ? ", log scale" : "",
            logx && any ? "set logscale x\nset xrange [*:*]\n"
                        : "set xrange [0:*]\n");
    if (!any) {
        fprintf(f, "set xrange [0:1]\nunset key\n"
                   "set label 1 'no migration was cleaned' at graph 0.5,"
                   "0.5 center\nplot 1/0 notitle\n");
    } else {
        fprintf(f, "plot ");
        size_t block = 1;
        bool first = true;
        for (size_t i = 0; i < n; i++) {
            if (!r[i].cleaned || !r[i].cleanup_us) {
                continue;
            }
            fprintf(f, "%s", first ? "" : ", \\\n     ");
            first = false;
            gp_string(f, data);
            fprintf(f,
                    " index %zu using 1:2 with steps ls %zu title "
                    "'%s (%" PRIu64 ", p99 %.0f ms)'",
                    block++, i + 1, r[i].strategy, r[i].cleaned,
                    r[i].cleanup_p99_ms);
        }
        fputc('\n', f);
    }
    fprintf(f, "unset multiplot\nset output\n");
}

/* Runs gnuplot on 'script'; 0, or EIO with what went wrong. */
static int
run_gnuplot(const char *script, char *err, size_t errlen)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        snprintf(err, errlen, "fork: %s", strerror(e));
        return e;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            close(fd);
        }
        /* gnuplot's chatter would mix with the table or the JSON. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        char *const argv[] = {(char *)GNUPLOT, (char *)script, NULL};
        execvp(GNUPLOT, argv);
        fprintf(stderr, "mignet sim: cannot run %s: %s\n", GNUPLOT,
                strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            int e = errno;
            snprintf(err, errlen, "waitpid: %s", strerror(e));
            return e;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        snprintf(err, errlen, "gnuplot failed (%s %d); its messages are "
                 "above",
                 WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status)
                                   : WTERMSIG(status));
        return EIO;
    }
    return 0;
}

int
sim_plot(const struct sim_params *p, const struct sim_result *r, size_t n,
         char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    int k = snprintf(dir, sizeof dir, "%s/mignet-plot.XXXXXX",
                     tmp && *tmp ? tmp : "/tmp");
    if (k < 0 || (size_t)k >= sizeof dir || !mkdtemp(dir)) {
        int e = k < 0 || (size_t)k >= sizeof dir ? ENAMETOOLONG : errno;
        snprintf(err, errlen, "temporary directory: %s", strerror(e));
        return e;
    }
    char data[4200], script[4200];
    snprintf(data, sizeof data, "%s/data.tsv", dir);
    snprintf(script, sizeof script, "%s/plot.gp", dir);
    int e = sim_plot_write_data(data, p, r, n, err, errlen);
    if (!e) {
        FILE *f = fopen(script, "w");
        if (!f) {
            e = errno;
        } else {
            write_script(f, p, r, n, data);
            e = ferror(f) ? EIO : 0;
            if (fclose(f) && !e) {
                e = errno;
            }
        }
        if (e) {
            snprintf(err, errlen, "%s: %s", script, strerror(e));
        }
    }
    if (!e) {
        /* So a file left from an earlier run cannot pass for this one. */
        unlink(p->plot);
        e = run_gnuplot(script, err, errlen);
    }
    struct stat st;
    if (!e && (stat(p->plot, &st) || !st.st_size)) {
        snprintf(err, errlen, "gnuplot wrote no %s", p->plot);
        e = EIO;
    }
    unlink(data);
    unlink(script);
    rmdir(dir);
    return e;
}
