/* table.c: aligned text tables for the command line.
 *
 * Cells are copied and sanitised on the way in, so whatever a controller
 * sends can never put escape sequences on the user's terminal. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct table {
    size_t n_cols;
    char **headers;
    bool *right;
    char **cells; /* n_rows * n_cols */
    size_t n_rows;
    size_t cap_rows;
};

/* Copies 's' replacing control characters (and DEL) by '?'. */
static char *
sanitised_copy(const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        copy[i] = c < 0x20 || c == 0x7f ? '?' : (char) c;
    }
    copy[n] = '\0';
    return copy;
}

/* Width in UTF-8 characters (continuation bytes do not count). */
static size_t
text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            w++;
        }
    }
    return w;
}

struct table *
table_create(size_t n_cols, const char *const *headers)
{
    struct table *t = calloc(1, sizeof *t);
    if (!t) {
        return NULL;
    }
    t->n_cols = n_cols;
    t->headers = calloc(n_cols, sizeof *t->headers);
    t->right = calloc(n_cols, sizeof *t->right);
    if (!t->headers || !t->right) {
        table_destroy(t);
        return NULL;
    }
    for (size_t i = 0; i < n_cols; i++) {
        t->headers[i] = sanitised_copy(headers[i]);
        if (!t->headers[i]) {
            table_destroy(t);
            return NULL;
        }
    }
    return t;
}

void
table_destroy(struct table *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; t->headers && i < t->n_cols; i++) {
        free(t->headers[i]);
    }
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++) {
        free(t->cells[i]);
    }
    free(t->headers);
    free(t->right);
    free(t->cells);
    free(t);
}

void
table_align_right(struct table *t, size_t col)
{
    if (col < t->n_cols) {
        t->right[col] = true;
    }
}

size_t
table_n_rows(const struct table *t)
{
    return t->n_rows;
}

int
table_add_row(struct table *t, const char *const *cells)
{
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
        if (cap > SIZE_MAX / sizeof *t->cells / (t->n_cols + 1)) {
            return ENOMEM;
        }
        char **p = realloc(t->cells, cap * t->n_cols * sizeof *p);
        if (!p) {
            return ENOMEM;
        }
        t->cells = p;
        t->cap_rows = cap;
    }
    char **row = t->cells + t->n_rows * t->n_cols;
    for (size_t i = 0; i < t->n_cols; i++) {
        row[i] = sanitised_copy(cells[i] ? cells[i] : "-");
        if (!row[i]) {
            while (i--) {
                free(row[i]);
            }
            return ENOMEM;
        }
    }
    t->n_rows++;
    return 0;
}

static int
render_row(const struct table *t, char *const *row, const size_t *widths,
           struct strbuf *out)
{
    /* The last column with text, so no line ends in spaces. */
    size_t last = t->n_cols;
    while (last > 0 && !row[last - 1][0]) {
        last--;
    }
    int error = 0;
    for (size_t i = 0; i < last && !error; i++) {
        size_t pad = widths[i] - text_width(row[i]);
        if (i > 0) {
            error = strbuf_puts(out, "  ");
        }
        if (!error && t->right[i]) {
            error = strbuf_pad(out, ' ', pad);
        }
        if (!error) {
            error = strbuf_puts(out, row[i]);
        }
        if (!error && !t->right[i] && i + 1 < last) {
            error = strbuf_pad(out, ' ', pad);
        }
    }
    return error ? error : strbuf_putc(out, '\n');
}

int
table_render(const struct table *t, struct strbuf *out)
{
    size_t *widths = calloc(t->n_cols ? t->n_cols : 1, sizeof *widths);
    if (!widths) {
        return ENOMEM;
    }
    for (size_t c = 0; c < t->n_cols; c++) {
        widths[c] = text_width(t->headers[c]);
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t w = text_width(t->cells[r * t->n_cols + c]);
            if (w > widths[c]) {
                widths[c] = w;
            }
        }
    }
    int error = render_row(t, t->headers, widths, out);
    for (size_t r = 0; r < t->n_rows && !error; r++) {
        error = render_row(t, t->cells + r * t->n_cols, widths, out);
    }
    free(widths);
    return error;
}
