/* planner_helpers.h: small helpers shared by the planner's unit tests.
 *
 * Only test code includes this; it must never hide a failure (every
 * helper asserts through cmocka). */
#ifndef TESTS_PLANNER_HELPERS_H
#define TESTS_PLANNER_HELPERS_H 1

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mignet/planner.h"

/* |a - b| <= rel * max(|a|, |b|), or both infinite alike. */
#define assert_near(a, b, rel)                                              \
    do {                                                                    \
        double a_ = (a), b_ = (b);                                          \
        double m_ = fabs(a_) > fabs(b_) ? fabs(a_) : fabs(b_);              \
        if (!(a_ == b_ || fabs(a_ - b_) <= (rel) * m_)) {                   \
            fail_msg("%s = %.17g, %s = %.17g", #a, a_, #b, b_);             \
        }                                                                   \
    } while (0)

/* Parses 'text', which must be a valid topology. */
static inline struct fabric *
parse_ok(const char *text)
{
    struct fabric *f = NULL;
    struct fabric_parse_error err;
    enum fabric_err e = fabric_parse(text, strlen(text), &f, &err);
    if (e) {
        fail_msg("parse: %s", err.msg);
    }
    assert_non_null(f);
    return f;
}

static inline uint32_t
node_of(const struct fabric *f, const char *name)
{
    uint32_t n = UINT32_MAX;
    if (!fabric_find(f, name, &n)) {
        fail_msg("no node %s", name);
    }
    return n;
}

/* The route's nodes as "h4 s5 s1 s4 h1". */
static inline const char *
route_str(const struct fabric *f, const struct route *r, char *buf,
          size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; r->nodes && i <= r->n_links && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? " " : "",
                         fabric_node_name(f, r->nodes[i]));
        if (n < 0) {
            break;
        }
        used += (size_t) n;
    }
    return buf;
}

#endif /* TESTS_PLANNER_HELPERS_H */
