/* addr_list.c: failing over between mignetd's replicas (addr_list.h). */
#include "lib/addr_list.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
addr_list_parse(struct addr_list *l, const char *csv, char *err,
                size_t errlen)
{
    struct addr_list t = {0};
    const char *p = csv ? csv : "";
    for (;;) {
        size_t len = strcspn(p, ",");
        if (!len) {
            snprintf(err, errlen, "an empty address in '%s'", csv ? csv : "");
            return EINVAL;
        }
        if (t.n == ADDR_LIST_MAX) {
            snprintf(err, errlen, "more than %d addresses", ADDR_LIST_MAX);
            return EINVAL;
        }
        if (len > ADDR_LIST_ITEM_MAX) {
            snprintf(err, errlen, "an address longer than %d bytes",
                     ADDR_LIST_ITEM_MAX);
            return EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char) p[i];
            if (c <= 0x20 || c >= 0x7f) {
                snprintf(err, errlen, "address %zu has a space or a "
                         "character that is not printable ASCII", t.n + 1);
                return EINVAL;
            }
        }
        memcpy(t.item[t.n], p, len);
        t.item[t.n][len] = '\0';
        if (addr_list_find(&t, t.item[t.n], NULL)) {
            snprintf(err, errlen, "address '%s' is listed twice", t.item[t.n]);
            return EINVAL;
        }
        t.n++;
        if (!p[len]) {
            break;
        }
        p += len + 1;
    }
    *l = t;
    return 0;
}

const char *
addr_list_current(const struct addr_list *l)
{
    return l->item[l->cur];
}

size_t
addr_list_index(const struct addr_list *l)
{
    return l->cur;
}

bool
addr_list_find(const struct addr_list *l, const char *addr, size_t *index)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->item[i], addr)) {
            if (index) {
                *index = i;
            }
            return true;
        }
    }
    return false;
}

bool
addr_list_next(struct addr_list *l, const char *leader)
{
    size_t at;
    if (leader && *leader && addr_list_find(l, leader, &at) && at != l->cur) {
        l->cur = at;
    } else if (l->n) {
        l->cur = (l->cur + 1) % l->n;
    }
    l->failures++;
    return l->failures >= l->n;
}

void
addr_list_succeeded(struct addr_list *l)
{
    l->failures = 0;
}
