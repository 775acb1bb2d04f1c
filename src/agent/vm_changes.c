/* vm_changes.c: change sets of VM names (see vm_changes.h).
 *
 * Names are appended, duplicates and all: the engine marks a VM dirty
 * once however often it is set, and a set is drained at every compute. */
#include "agent/vm_changes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void
vm_changes_init(struct vm_changes *c)
{
    memset(c, 0, sizeof *c);
    c->all = true;
}

void
vm_changes_destroy(struct vm_changes *c)
{
    if (c) {
        free(c->names);
        memset(c, 0, sizeof *c);
    }
}

void
vm_changes_all(struct vm_changes *c)
{
    c->all = true;
    c->n = 0;
}

void
vm_changes_add(struct vm_changes *c, const char *name)
{
    if (c->all) {
        return;
    }
    if (c->n >= VM_CHANGES_MAX || strlen(name) > MN_NAME_MAX) {
        vm_changes_all(c);
        return;
    }
    if (c->n == c->cap) {
        /* No memory is no error here: "everything" is always right. */
        size_t cap = c->cap ? c->cap * 2 : 64;
        void *p = realloc(c->names, cap * sizeof *c->names);
        if (!p) {
            vm_changes_all(c);
            return;
        }
        c->names = p;
        c->cap = cap;
    }
    snprintf(c->names[c->n++], sizeof c->names[0], "%s", name);
}

void
vm_changes_clear(struct vm_changes *c)
{
    c->all = false;
    c->n = 0;
}
