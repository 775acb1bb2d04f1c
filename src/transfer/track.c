/* track.c: write tracking for the pre-copy engine -- which pages of the
 * region were written since they were last sent.
 *
 * userfaultfd write-protect is the choice: this kernel has no soft-dirty
 * bits (/proc/PID/clear_refs "4" is accepted but tracks nothing, so
 * pagemap-based tracking, what QEMU's and CRIU's dirty logging would use
 * outside KVM, sees nothing), while UFFD_FEATURE_PAGEFAULT_FLAG_WP with
 * UFFDIO_REGISTER_MODE_WP and UFFDIO_WRITEPROTECT works on anonymous
 * memory.  A thread reads the write faults, unprotects the page (which
 * wakes the writer), then sets the page's bit in the dirty bitmap.  That
 * order is the race-free one against the sender's "take the bitmap,
 * protect, read": a bit set before the take means the unprotect is done
 * and the sender's protect comes after it; a bit set after the take lands
 * in the next round.  (Bit first would let a take slip between the bit
 * and the unprotect: the page taken, protected in vain, then unprotected
 * with its bit clear, and its later writes lost.)  The bit may trail the
 * write, so the stop-and-copy, once the writers are parked, waits for the
 * faults in hand: precopy_track_quiesce().  Where userfaultfd is
 * unavailable
 * (vm.unprivileged_userfaultfd=0 without the capability, an old kernel)
 * mprotect + SIGSEGV does the same from a signal handler, one tracker per
 * process.  The sender write-protects a page again BEFORE it reads it for
 * sending, so a write during the send marks it dirty for the next round.
 * Nothing here sends or decides anything. */
#include "mignet/transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

struct precopy_track {
    enum precopy_tracking kind;
    uint8_t *base;
    size_t n_pages;
    struct precopy_bitmap *dirty;
    _Atomic uint64_t faults;
    _Atomic uint64_t in_hand;   /* faults read, bit not yet set */
    /* userfaultfd */
    int uffd;
    int stop_fd;            /* eventfd that ends the fault thread */
    pthread_t thread;
    bool thread_started;
};

const char *
precopy_tracking_name(enum precopy_tracking t)
{
    return t == PRECOPY_TRACK_UFFD_WP ? "uffd-wp" : "mprotect";
}

/* ---- userfaultfd write-protect ---- */

static int
uffd_wp(struct precopy_track *t, size_t first, size_t n, bool protect)
{
    struct uffdio_writeprotect wp = {
        .range = {
            .start = (uint64_t) (uintptr_t) (t->base
                                             + first * PRECOPY_PAGE_SIZE),
            .len = (uint64_t) n * PRECOPY_PAGE_SIZE,
        },
        .mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
    };
    while (ioctl(t->uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            return errno;
        }
    }
    return 0;
}

static void *
uffd_thread(void *t_)
{
    struct precopy_track *t = t_;
    struct uffd_msg msgs[64];

    for (;;) {
        struct pollfd pfd[2] = {
            {.fd = t->uffd, .events = POLLIN},
            {.fd = t->stop_fd, .events = POLLIN},
        };
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (pfd[1].revents) {
            break;
        }
        ssize_t n = read(t->uffd, msgs, sizeof msgs);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            break;
        }
        size_t count = (size_t) n / sizeof msgs[0];
        /* Counted before any write they hold can complete (that needs
         * the unprotect below). */
        atomic_fetch_add(&t->in_hand, count);
        for (size_t i = 0; i < count; i++) {
            const struct uffd_msg *m = &msgs[i];
            uintptr_t a = (uintptr_t) m->arg.pagefault.address;
            uintptr_t b = (uintptr_t) t->base;
            if (m->event == UFFD_EVENT_PAGEFAULT && a >= b
                && (a - b) / PRECOPY_PAGE_SIZE < t->n_pages) {
                size_t page = (a - b) / PRECOPY_PAGE_SIZE;
                /* Unprotect, then the bit (the header says why). */
                uffd_wp(t, page, 1, false);
                precopy_bitmap_set(t->dirty, page);
                atomic_fetch_add_explicit(&t->faults, 1,
                                          memory_order_relaxed);
            }
            atomic_fetch_sub(&t->in_hand, 1);
        }
    }
    return NULL;
}

static int
uffd_start(struct precopy_track *t, char *err, size_t errlen)
{
    int fd = (int) syscall(SYS_userfaultfd,
                           O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0) {
        fd = (int) syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    }
    if (fd < 0) {
        snprintf(err, errlen, "userfaultfd: %s", strerror(errno));
        return errno;
    }
    t->uffd = fd;
    struct uffdio_api api = {
        .api = UFFD_API,
        .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP,
    };
    if (ioctl(fd, UFFDIO_API, &api) < 0
        || !(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
        snprintf(err, errlen, "userfaultfd: no write-protect feature");
        return ENOTSUP;
    }
    struct uffdio_register reg = {
        .range = {
            .start = (uint64_t) (uintptr_t) t->base,
            .len = (uint64_t) t->n_pages * PRECOPY_PAGE_SIZE,
        },
        .mode = UFFDIO_REGISTER_MODE_WP,
    };
    if (ioctl(fd, UFFDIO_REGISTER, &reg) < 0) {
        snprintf(err, errlen, "UFFDIO_REGISTER (write-protect): %s",
                 strerror(errno));
        return errno;
    }
    int error = uffd_wp(t, 0, t->n_pages, true);
    if (error) {
        snprintf(err, errlen, "UFFDIO_WRITEPROTECT: %s", strerror(error));
        return error;
    }
    t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t->stop_fd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return errno;
    }
    error = pthread_create(&t->thread, NULL, uffd_thread, t);
    if (error) {
        snprintf(err, errlen, "fault thread: %s", strerror(error));
        return error;
    }
    t->thread_started = true;
    return 0;
}

/* ---- mprotect + SIGSEGV (one tracker per process) ---- */

static struct precopy_track *_Atomic sig_track;
static struct sigaction old_segv;

static void
segv_handler(int sig, siginfo_t *si, void *ctx)
{
    struct precopy_track *t = atomic_load(&sig_track);
    uintptr_t a = (uintptr_t) si->si_addr;
    if (t && a >= (uintptr_t) t->base
        && (a - (uintptr_t) t->base) / PRECOPY_PAGE_SIZE < t->n_pages) {
        size_t page = (a - (uintptr_t) t->base) / PRECOPY_PAGE_SIZE;
        /* Unprotect, then the bit, as the fault thread does; the write
         * waits for this handler, so no quiescing is needed. */
        if (mprotect(t->base + page * PRECOPY_PAGE_SIZE, PRECOPY_PAGE_SIZE,
                     PROT_READ | PROT_WRITE) == 0) {
            precopy_bitmap_set(t->dirty, page);
            atomic_fetch_add_explicit(&t->faults, 1, memory_order_relaxed);
            return;
        }
    }
    /* Not ours: the default action, on the same fault again. */
    (void) sig;
    (void) ctx;
    signal(SIGSEGV, SIG_DFL);
}

static int
mprotect_start(struct precopy_track *t, char *err, size_t errlen)
{
    struct precopy_track *none = NULL;
    if (!atomic_compare_exchange_strong(&sig_track, &none, t)) {
        snprintf(err, errlen, "mprotect tracking: one region a process");
        return EBUSY;
    }
    struct sigaction sa = {0};
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_segv) < 0) {
        atomic_store(&sig_track, NULL);
        snprintf(err, errlen, "sigaction: %s", strerror(errno));
        return errno;
    }
    if (mprotect(t->base, t->n_pages * PRECOPY_PAGE_SIZE, PROT_READ) < 0) {
        int error = errno;
        sigaction(SIGSEGV, &old_segv, NULL);
        atomic_store(&sig_track, NULL);
        snprintf(err, errlen, "mprotect: %s", strerror(error));
        return error;
    }
    return 0;
}

static int
protect_range(struct precopy_track *t, size_t first, size_t n)
{
    if (t->kind == PRECOPY_TRACK_UFFD_WP) {
        return uffd_wp(t, first, n, true);
    }
    if (mprotect(t->base + first * PRECOPY_PAGE_SIZE, n * PRECOPY_PAGE_SIZE,
                 PROT_READ) < 0) {
        return errno;
    }
    return 0;
}

/* ---- common ---- */

int
precopy_track_start(void *base, size_t n_pages, struct precopy_bitmap *dirty,
                    bool force_mprotect, struct precopy_track **out,
                    char *err, size_t errlen)
{
    struct precopy_track *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return ENOMEM;
    }
    t->base = base;
    t->n_pages = n_pages;
    t->dirty = dirty;
    t->uffd = -1;
    t->stop_fd = -1;
    /* One fault a 4 KiB page: a transparent huge page would be tracked
     * (and sent) as 512 pages at once. */
    madvise(base, n_pages * PRECOPY_PAGE_SIZE, MADV_NOHUGEPAGE);

    int error = ENOTSUP;
    char uerr[160] = "";
    if (!force_mprotect) {
        t->kind = PRECOPY_TRACK_UFFD_WP;
        error = uffd_start(t, uerr, sizeof uerr);
        if (error) {
            if (t->stop_fd >= 0) {
                close(t->stop_fd);
                t->stop_fd = -1;
            }
            if (t->uffd >= 0) {
                close(t->uffd); /* unregisters and unprotects */
                t->uffd = -1;
            }
        }
    }
    if (error) {
        t->kind = PRECOPY_TRACK_MPROTECT;
        error = mprotect_start(t, err, errlen);
        if (error) {
            if (uerr[0]) {
                size_t l = strlen(err);
                snprintf(err + l, errlen - l, " (and %s)", uerr);
            }
            free(t);
            return error;
        }
    }
    *out = t;
    return 0;
}

enum precopy_tracking
precopy_track_kind(const struct precopy_track *t)
{
    return t->kind;
}

int
precopy_track_protect(struct precopy_track *t,
                      const struct precopy_bitmap *pages)
{
    size_t n = precopy_bitmap_size(pages);
    if (n > t->n_pages) {
        n = t->n_pages;
    }
    size_t set = precopy_bitmap_count(pages);
    /* With mprotect, always the whole region: every page the handler
     * unprotected split the mapping (Linux caps a process at
     * vm.max_map_count mappings, 65,530 by default), and one call over
     * the region merges it back into one. */
    if (set > t->n_pages / 8 || t->kind == PRECOPY_TRACK_MPROTECT) {
        /* Many runs: one call over the whole region does the same (a page
         * not in 'pages' was not written since it was last protected, so
         * it is protected already) in one page-table walk. */
        return protect_range(t, 0, t->n_pages);
    }
    size_t i = precopy_bitmap_next(pages, 0);
    while (i < n) {
        size_t j = i + 1;
        while (j < n && precopy_bitmap_test(pages, j)) {
            j++;
        }
        int error = protect_range(t, i, j - i);
        if (error) {
            return error;
        }
        i = precopy_bitmap_next(pages, j);
    }
    return 0;
}

void
precopy_track_quiesce(struct precopy_track *t)
{
    while (atomic_load(&t->in_hand)) {
        struct timespec ts = {0, 20 * 1000};
        nanosleep(&ts, NULL);
    }
}

uint64_t
precopy_track_faults(const struct precopy_track *t)
{
    return atomic_load_explicit(&((struct precopy_track *) t)->faults,
                                memory_order_relaxed);
}

void
precopy_track_stop(struct precopy_track *t)
{
    if (!t) {
        return;
    }
    if (t->kind == PRECOPY_TRACK_UFFD_WP) {
        if (t->thread_started) {
            uint64_t one = 1;
            if (write(t->stop_fd, &one, sizeof one) < 0) {
                /* eventfd writes only fail on overflow: not with 1 */
            }
            pthread_join(t->thread, NULL);
        }
        if (t->uffd >= 0) {
            close(t->uffd);
        }
        if (t->stop_fd >= 0) {
            close(t->stop_fd);
        }
    } else {
        mprotect(t->base, t->n_pages * PRECOPY_PAGE_SIZE,
                 PROT_READ | PROT_WRITE);
        sigaction(SIGSEGV, &old_segv, NULL);
        atomic_store(&sig_track, NULL);
    }
    free(t);
}

void
precopy_region_fill(void *base, size_t n_pages, uint64_t seed)
{
    uint64_t *w = base;
    uint64_t x = seed | 1;
    size_t n = n_pages * (PRECOPY_PAGE_SIZE / 8);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w[i] = x * UINT64_C(0x2545f4914f6cdd1d) + i;
    }
}
