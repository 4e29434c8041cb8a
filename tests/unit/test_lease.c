/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * GPU leases (include/freqpilot/lease.h): one holder per GPU across processes and within one
 * process, released when the holder dies, a record that outlives it, and a lock folder that
 * is trusted only when nobody else can write it.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "freqpilot/lease.h"
#include "testutil.h"

static char dir[256];
static const char *const GPU = "GPU-0123-test";

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/fp_lease_XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void test_one_holder_and_record(void **state)
{
    (void)state;
    fp_lease *a = NULL, *b = NULL;
    fp_lease_record holder;
    fp_error err;
    fp_lease_owner own = {.command = "unit test", .uid = 1234};
    assert_int_equal(fp_lease_acquire(&a, dir, GPU, &own, NULL, &err), FP_OK);
    assert_string_equal(fp_lease_gpu(a), GPU);
    assert_int_equal(fp_lease_current(a)->uid, 1234);
    /* A second open of the same lock in this process is refused too (one per connection). */
    assert_int_equal(fp_lease_acquire(&b, dir, GPU, NULL, &holder, &err), FP_ERR_BUSY);
    assert_null(b);
    assert_int_equal(holder.pid, getpid());
    assert_string_equal(holder.command, "unit test");
    assert_non_null(strstr(err.msg, "already leased by this process"));
    /* Another GPU is another lease. */
    assert_int_equal(fp_lease_acquire(&b, dir, "GPU-other", NULL, NULL, &err), FP_OK);
    fp_lease_release(b);
    int held = 0;
    fp_lease_record r;
    assert_int_equal(fp_lease_read(dir, GPU, &held, &r, &err), FP_OK);
    assert_true(held);
    assert_int_equal(r.pid, getpid());
    assert_int_equal(fp_lease_set_state_file(a, "/var/lib/freqpilot/x.json", &err), FP_OK);
    fp_lease_release(a);
    /* Released: free, and the record still names the unrestored changes. */
    assert_int_equal(fp_lease_read(dir, GPU, &held, &r, &err), FP_OK);
    assert_false(held);
    assert_string_equal(r.state_file, "/var/lib/freqpilot/x.json");
    assert_int_equal(fp_lease_acquire(&a, dir, GPU, NULL, NULL, &err), FP_OK);
    assert_string_equal(fp_lease_previous(a)->state_file, "/var/lib/freqpilot/x.json");
    assert_string_equal(fp_lease_current(a)->state_file, "/var/lib/freqpilot/x.json");
    assert_int_equal(fp_lease_set_state_file(a, NULL, &err), FP_OK);
    fp_lease_release(a);
    assert_int_equal(fp_lease_read(dir, GPU, &held, &r, &err), FP_OK);
    assert_string_equal(r.state_file, "");
    /* No lock file at all: free, empty record. */
    assert_int_equal(fp_lease_read(dir, "GPU-never", &held, &r, &err), FP_OK);
    assert_false(held);
    assert_int_equal(r.pid, 0);
}

static void test_released_when_holder_dies(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fp_lease *l;
        fp_error err;
        fp_lease_owner own = {.command = "child", .uid = -1};
        char ok = fp_lease_acquire(&l, dir, GPU, &own, NULL, &err) == FP_OK;
        if (write(fds[1], &ok, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    char ok = 0;
    assert_int_equal(read(fds[0], &ok, 1), 1);
    close(fds[0]);
    assert_true(ok);
    fp_lease *l = NULL;
    fp_lease_record holder;
    fp_error err;
    assert_int_equal(fp_lease_acquire(&l, dir, GPU, NULL, &holder, &err), FP_ERR_BUSY);
    assert_int_equal(holder.pid, pid);
    char want[64];
    snprintf(want, sizeof want, "in use by pid %ld (child", (long)pid);
    assert_non_null(strstr(err.msg, want));
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* SIGKILL released it: no pid check involved. */
    assert_int_equal(fp_lease_acquire(&l, dir, GPU, NULL, NULL, &err), FP_OK);
    assert_int_equal(fp_lease_previous(l)->pid, pid);
    fp_lease_release(l);
}

static void test_untrusted_folder(void **state)
{
    (void)state;
    fp_lease *l = NULL;
    fp_error err;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/open", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(fp_lease_acquire(&l, sub, GPU, NULL, NULL, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "writable by others"));
    assert_int_equal(chmod(sub, 0775), 0);
    assert_int_equal(fp_lease_acquire(&l, sub, GPU, NULL, NULL, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "writable by its group"));
    /* A symbolic link in place of the lock file is refused. */
    assert_int_equal(chmod(sub, 0755), 0);
    char link[400];
    snprintf(link, sizeof link, "%s/%s.lock", sub, GPU);
    assert_int_equal(symlink("/etc/hostname", link), 0);
    assert_int_equal(fp_lease_acquire(&l, sub, GPU, NULL, NULL, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "symbolic link"));
    /* The folder is created (0755) when missing; no UUID, no lease. */
    char fresh[300];
    snprintf(fresh, sizeof fresh, "%s/a/b/locks", dir);
    assert_int_equal(fp_lease_acquire(&l, fresh, GPU, NULL, NULL, &err), FP_OK);
    fp_lease_release(l);
    struct stat st;
    assert_int_equal(stat(fresh, &st), 0);
    assert_int_equal(st.st_mode & 022, 0);
    assert_int_equal(fp_lease_acquire(&l, fresh, "", NULL, NULL, &err), FP_ERR_INVALID);
}

static void test_default_dir(void **state)
{
    (void)state;
    char buf[512];
    fp_error err;
    setenv("FREQPILOT_LOCK_DIR", "/x/locks", 1);
    assert_int_equal(fp_lease_default_dir(buf, sizeof buf, &err), FP_OK);
    assert_string_equal(buf, "/x/locks");
    unsetenv("FREQPILOT_LOCK_DIR");
    assert_int_equal(fp_lease_default_dir(buf, sizeof buf, &err), FP_OK);
    if (geteuid() == 0)
        assert_string_equal(buf, "/run/freqpilot/locks");
    else
        assert_non_null(strstr(buf, "freqpilot"));
}

TU_MAIN(cmocka_unit_test_setup_teardown(test_one_holder_and_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_released_when_holder_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untrusted_folder, setup, teardown),
        cmocka_unit_test(test_default_dir))
