/* store_marker.c: the generation marker beside the SQLite store (see
 * store_marker.h).  One fixed-size line, "mignet-gen N C\n" with N the
 * generation in 20 digits and C the FNV-1a of "mignet-gen N" in 16 hex
 * digits, so a torn or edited marker reads as damaged, never as a number.
 */
#include "store/store_marker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MARKER_PREFIX "mignet-gen "
/* "mignet-gen " + 20 digits + ' ' + 16 hex digits + '\n' */
#define MARKER_LEN (11 + 20 + 1 + 16 + 1)

uint64_t
store_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

bool
store_marker_path(const char *db_path, char *out, size_t n)
{
    int len = snprintf(out, n, "%s.gen", db_path);
    return len > 0 && (size_t) len < n;
}

static void
marker_format(char buf[MARKER_LEN + 1], uint64_t gen)
{
    snprintf(buf, MARKER_LEN + 1, MARKER_PREFIX "%020" PRIu64, gen);
    uint64_t sum = store_fnv1a(STORE_FNV_INIT, buf, strlen(buf));
    size_t n = strlen(buf);
    snprintf(buf + n, MARKER_LEN + 1 - n, " %016" PRIx64 "\n", sum);
}

enum store_marker_state
store_marker_read(const char *path, uint64_t *gen, char *why, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return STORE_MARKER_ABSENT;
        }
        snprintf(why, n, "cannot read: %s", strerror(errno));
        return STORE_MARKER_DAMAGED;
    }
    char buf[MARKER_LEN + 2];
    ssize_t got = read(fd, buf, sizeof buf);
    close(fd);
    if (got != MARKER_LEN) {
        snprintf(why, n, "%zd bytes, want %d", got, MARKER_LEN);
        return STORE_MARKER_DAMAGED;
    }
    buf[MARKER_LEN] = '\0';
    uint64_t v = 0;
    for (size_t i = 11; i < 31; i++) {
        if (buf[i] < '0' || buf[i] > '9') {
            snprintf(why, n, "not a generation marker");
            return STORE_MARKER_DAMAGED;
        }
        v = v * 10 + (uint64_t) (buf[i] - '0');
    }
    char want[MARKER_LEN + 1];
    marker_format(want, v);
    if (memcmp(buf, want, MARKER_LEN)) {
        snprintf(why, n, "checksum mismatch");
        return STORE_MARKER_DAMAGED;
    }
    *gen = v;
    return STORE_MARKER_OK;
}

static int
write_all_at(int fd, const char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, buf + done, n - done, (off_t) done);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        done += (size_t) w;
    }
    return 0;
}

int
store_marker_update(int fd, uint64_t gen)
{
    char buf[MARKER_LEN + 1];
    marker_format(buf, gen);
    return write_all_at(fd, buf, MARKER_LEN);
}

int
store_marker_create(const char *path, uint64_t gen)
{
    char tmp[1100], dir[1100];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp
        || snprintf(dir, sizeof dir, "%s", path) >= (int) sizeof dir) {
        return -ENAMETOOLONG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -errno;
    }
    int err = store_marker_update(fd, gen);
    if (!err && fsync(fd)) {
        err = errno;
    }
    if (!err && rename(tmp, path)) {
        err = errno;
    }
    if (err) {
        close(fd);
        unlink(tmp);
        return -err;
    }
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void) fsync(dfd);
        close(dfd);
    }
    return fd;
}
