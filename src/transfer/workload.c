/* workload.c: the pre-copy engine's stand-in for a running VM -- a thread
 * that writes D pages a second into the region, uniformly or into a hot
 * set, each write changing the page's contents.
 *
 * Paced by the monotonic clock (it catches up after a stall, so the
 * average rate holds while write faults slow it); paused on request, and
 * precopy_workload_pause() returns only once no write is in flight, so
 * the region is still from then on.  It never touches memory outside the
 * region. */
#include "mignet/transfer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"

enum wl_state { WL_RUN, WL_PAUSE_REQ, WL_PAUSED, WL_STOP };

struct precopy_workload {
    uint8_t *base;
    size_t n_pages;
    struct precopy_workload_config cfg;
    size_t hot_pages;           /* 0 without a hot set */
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    _Atomic int state;          /* enum wl_state */
    _Atomic uint64_t writes;
};

static uint64_t
rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545f4914f6cdd1d);
}

static size_t
pick_page(struct precopy_workload *w, uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    if (w->hot_pages && w->hot_pages < w->n_pages) {
        bool hot = (r % 100) < w->cfg.hot_writes_pct;
        r = rng_next(rng);
        return hot ? (size_t) (r % w->hot_pages)
                   : w->hot_pages
                         + (size_t) (r % (w->n_pages - w->hot_pages));
    }
    return (size_t) (r % w->n_pages);
}

static void
write_page(struct precopy_workload *w, size_t page, uint64_t r)
{
    /* Pages are page-aligned, so a word in one is 8-byte aligned. */
    volatile uint64_t *word = (volatile uint64_t *) (void *) (w->base
        + page * PRECOPY_PAGE_SIZE) + (r % (PRECOPY_PAGE_SIZE / 8));
    *word = *word + 1 + (r >> 40);
}

/* Parks the thread while paused; false once it must stop. */
static bool
check_pause(struct precopy_workload *w)
{
    int s = atomic_load(&w->state);
    if (s == WL_RUN) {
        return true;
    }
    pthread_mutex_lock(&w->mutex);
    if (atomic_load(&w->state) == WL_PAUSE_REQ) {
        atomic_store(&w->state, WL_PAUSED);
        pthread_cond_broadcast(&w->cond);
    }
    while (atomic_load(&w->state) == WL_PAUSED) {
        pthread_cond_wait(&w->cond, &w->mutex);
    }
    s = atomic_load(&w->state);
    pthread_mutex_unlock(&w->mutex);
    return s != WL_STOP;
}

static void *
workload_thread(void *w_)
{
    struct precopy_workload *w = w_;
    uint64_t rng = w->cfg.seed * 2 + 1;
    uint64_t start = clock_mono_us();
    uint64_t done = 0;

    while (check_pause(w)) {
        if (w->cfg.dirty_pps <= 0) {
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        uint64_t now = clock_mono_us();
        uint64_t due = (uint64_t) (w->cfg.dirty_pps
                                   * (double) (now - start) / 1e6);
        if (done >= due) {
            struct timespec ts = {0, 100 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        /* A burst at most 1 ms of writes long, so a pause is seen soon. */
        uint64_t burst = due - done;
        uint64_t cap = (uint64_t) (w->cfg.dirty_pps / 1000) + 1;
        if (burst > cap) {
            burst = cap;
        }
        uint64_t i = 0;
        while (i < burst) {
            size_t page = pick_page(w, &rng);
            write_page(w, page, rng_next(&rng));
            i++;
            /* A pause request stops the burst at once: the writes between
             * the sender's stop decision and the pause are the stop-and-
             * copy's, so they must be few. */
            if (atomic_load_explicit(&w->state, memory_order_relaxed)
                != WL_RUN) {
                break;
            }
        }
        done += i;
        atomic_fetch_add_explicit(&w->writes, i, memory_order_relaxed);
    }
    return NULL;
}

int
precopy_workload_start(void *base, size_t n_pages,
                       const struct precopy_workload_config *cfg,
                       struct precopy_workload **out)
{
    if (!n_pages || !(cfg->dirty_pps >= 0)
        || (cfg->hot && (cfg->hot_pages_pct < 1 || cfg->hot_pages_pct > 100
                         || cfg->hot_writes_pct > 100))) {
        return EINVAL;
    }
    struct precopy_workload *w = calloc(1, sizeof *w);
    if (!w) {
        return ENOMEM;
    }
    w->base = base;
    w->n_pages = n_pages;
    w->cfg = *cfg;
    if (cfg->hot) {
        w->hot_pages = n_pages * cfg->hot_pages_pct / 100;
        if (!w->hot_pages) {
            w->hot_pages = 1;
        }
    }
    pthread_mutex_init(&w->mutex, NULL);
    pthread_cond_init(&w->cond, NULL);
    atomic_store(&w->state, WL_RUN);
    int error = pthread_create(&w->thread, NULL, workload_thread, w);
    if (error) {
        pthread_mutex_destroy(&w->mutex);
        pthread_cond_destroy(&w->cond);
        free(w);
        return error;
    }
    *out = w;
    return 0;
}

void
precopy_workload_pause(struct precopy_workload *w)
{
    pthread_mutex_lock(&w->mutex);
    if (atomic_load(&w->state) == WL_RUN) {
        atomic_store(&w->state, WL_PAUSE_REQ);
    }
    while (atomic_load(&w->state) == WL_PAUSE_REQ) {
        pthread_cond_wait(&w->cond, &w->mutex);
    }
    pthread_mutex_unlock(&w->mutex);
}

uint64_t
precopy_workload_writes(const struct precopy_workload *w)
{
    return atomic_load_explicit(&((struct precopy_workload *) w)->writes,
                                memory_order_relaxed);
}

void
precopy_workload_stop(struct precopy_workload *w)
{
    if (!w) {
        return;
    }
    pthread_mutex_lock(&w->mutex);
    atomic_store(&w->state, WL_STOP);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mutex);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mutex);
    pthread_cond_destroy(&w->cond);
    free(w);
}

bool
precopy_hot_parse(const char *s, unsigned *pages_pct, unsigned *writes_pct)
{
    unsigned a = 0, b = 0;
    int n = 0;
    if (!s || sscanf(s, "%3u:%3u%n", &a, &b, &n) != 2 || s[n] != '\0'
        || s[0] < '0' || s[0] > '9' || a < 1 || a > 100 || b > 100) {
        return false;
    }
    const char *colon = strchr(s, ':');
    if (!colon || colon[1] < '0' || colon[1] > '9') {
        return false;
    }
    *pages_pct = a;
    *writes_pct = b;
    return true;
}
