/* slow_disk.c: a slow disk for integration tests, preloaded (LD_PRELOAD)
 * into a real mignetd.  While the file named by $MIGNET_SLOW_DISK_FLAG
 * exists, every fsync() and fdatasync() first sleeps the milliseconds
 * written in it -- a busy or shared disk, on which one durable commit
 * takes that long.  Everything else is the real daemon on the real
 * SQLite file.  Test-only; never installed. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int sync_fn(int);

/* The milliseconds the flag file asks for (0: none, or no flag). */
static long
delay_ms(void)
{
    const char *flag = getenv("MIGNET_SLOW_DISK_FLAG");
    FILE *f = flag ? fopen(flag, "r") : NULL;
    long ms = 0;
    if (f) {
        if (fscanf(f, "%ld", &ms) != 1 || ms < 0 || ms > 10000) {
            ms = 0;
        }
        fclose(f);
    }
    return ms;
}

static void
slow_down(void)
{
    int saved = errno;
    long ms = delay_ms();
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    errno = saved;
}

/* Sleeps, then calls the real 'name' (looked up once into '*real'). */
static int
slowed(const char *name, sync_fn **real, int fd)
{
    if (!*real) {
        void *p = dlsym(RTLD_NEXT, name);
        memcpy(real, &p, sizeof *real); /* object to function pointer */
    }
    slow_down();
    return *real ? (*real)(fd) : (errno = ENOSYS, -1);
}

int
fsync(int fd)
{
    static sync_fn *real;
    return slowed("fsync", &real, fd);
}

int
fdatasync(int fd)
{
    static sync_fn *real;
    return slowed("fdatasync", &real, fd);
}
