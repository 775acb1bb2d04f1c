/* vm_changes.h: a change set of VM names, what the agent's inputs
 * (channel entries, the gateway map, ports, snooped bindings) record so
 * that compute() rebuilds only those VMs' views (pl_engine.h).
 *
 * A set either names VMs or says "everything" (a resync, a full map
 * answer, more names than it keeps); draining it is the reader's job. */
#ifndef MIGNET_AGENT_VM_CHANGES_H
#define MIGNET_AGENT_VM_CHANGES_H 1

#include <stdbool.h>
#include <stddef.h>

#include "mignet/model.h"

/* More changed names than this between two drains: "everything". */
#define VM_CHANGES_MAX 65536

struct vm_changes {
    bool all;
    char (*names)[MN_NAME_MAX + 1];
    size_t n, cap;
};

/* Starts as "everything": nothing was read yet. */
void vm_changes_init(struct vm_changes *);
void vm_changes_destroy(struct vm_changes *);
/* Records 'name' (a longer one than a VM name can be is "everything"). */
void vm_changes_add(struct vm_changes *, const char *name);
void vm_changes_all(struct vm_changes *);
/* Drained: nothing changed since. */
void vm_changes_clear(struct vm_changes *);

#endif /* MIGNET_AGENT_VM_CHANGES_H */
