/* test_sdnotify.c: the readiness datagrams of lib/sdnotify.c.
 *
 * A real AF_UNIX datagram socket stands in for systemd: bound to a path,
 * then to an abstract "@name", it must receive exactly the text sent;
 * without $NOTIFY_SOCKET nothing is sent and nothing fails; a relative or
 * over-long name is refused with EINVAL. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/sdnotify.h"

/* A datagram socket bound to 'name' ("/path" or "@abstract"). */
static int
listener(const char *name)
{
    struct sockaddr_un sa;
    socklen_t len;
    assert_true(sdnotify_addr(name, &sa, &len));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *) &sa, len), 0);
    return fd;
}

/* The next datagram on 'fd' as a string ("" when none is waiting). */
static void
receive(int fd, char *buf, size_t cap)
{
    ssize_t n = recv(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

static void
test_path_socket(void **state)
{
    (void) state;
    char dir[] = "/tmp/mignet-sdnotify-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/notify", dir);
    int fd = listener(path);
    setenv("NOTIFY_SOCKET", path, 1);

    char buf[256];
    assert_int_equal(sdnotify("READY=1"), 0);
    receive(fd, buf, sizeof buf);
    assert_string_equal(buf, "READY=1");
    assert_int_equal(sdnotifyf("RELOADING=1\nSTATUS=%s", "reloading"), 0);
    receive(fd, buf, sizeof buf);
    assert_string_equal(buf, "RELOADING=1\nSTATUS=reloading");
    receive(fd, buf, sizeof buf);
    assert_string_equal(buf, ""); /* one datagram a call */
    assert_int_equal(sdnotify_reloading(), 0);
    receive(fd, buf, sizeof buf);
    assert_true(!strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27));
    assert_true(strtoull(buf + 27, NULL, 10) > 0);

    close(fd);
    unlink(path);
    rmdir(dir);
    /* Nobody listens any more: the error comes back, nothing crashes. */
    assert_int_not_equal(sdnotify("STOPPING=1"), 0);
    unsetenv("NOTIFY_SOCKET");
}

static void
test_abstract_socket(void **state)
{
    (void) state;
    char name[64];
    snprintf(name, sizeof name, "@mignet-test-sdnotify-%ld", (long) getpid());
    int fd = listener(name);
    setenv("NOTIFY_SOCKET", name, 1);
    char buf[256];
    assert_int_equal(sdnotify("STOPPING=1"), 0);
    receive(fd, buf, sizeof buf);
    assert_string_equal(buf, "STOPPING=1");
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}

static void
test_no_socket(void **state)
{
    (void) state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(sdnotify("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(sdnotify("READY=1"), 0);
    unsetenv("NOTIFY_SOCKET");
}

static void
test_bad_names(void **state)
{
    (void) state;
    struct sockaddr_un sa;
    socklen_t len;
    assert_false(sdnotify_addr("relative/path", &sa, &len));
    assert_false(sdnotify_addr("@", &sa, &len));
    assert_false(sdnotify_addr("", &sa, &len));
    char longname[sizeof sa.sun_path + 8];
    memset(longname, 'a', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    assert_false(sdnotify_addr(longname, &sa, &len));
    /* The longest abstract name fits whole (no NUL at its end). */
    longname[0] = '@';
    longname[sizeof sa.sun_path] = '\0';
    assert_true(sdnotify_addr(longname, &sa, &len));
    assert_int_equal(len, offsetof(struct sockaddr_un, sun_path)
                              + sizeof sa.sun_path);
    setenv("NOTIFY_SOCKET", "notify.sock", 1);
    assert_int_equal(sdnotify("READY=1"), EINVAL);
    unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_socket),
        cmocka_unit_test(test_abstract_socket),
        cmocka_unit_test(test_no_socket),
        cmocka_unit_test(test_bad_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
