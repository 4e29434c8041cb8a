/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "freqpilot/atomic.h"
#include "testutil.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/fpatomic.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static long count_entries(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p) {
        if (fscanf(p, "%ld", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static void test_commit_and_abort(void **state)
{
    (void)state;
    char path[300];
    fp_atomic_file f;
    fp_error err;
    snprintf(path, sizeof path, "%s/out.csv", dir);
    assert_int_equal(fp_atomic_open(&f, path, &err), FP_OK);
    fputs("a,b\n", f.fp);
    /* Nothing visible under the final name before commit. */
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(fp_atomic_commit(&f, &err), FP_OK);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(count_entries(), 1);

    assert_int_equal(fp_atomic_open(&f, path, &err), FP_OK);
    fputs("partial", f.fp);
    fp_atomic_abort(&f);
    /* The old content stays and no temporary file is left. */
    FILE *in = fopen(path, "r");
    char buf[16] = {0};
    assert_non_null(in);
    assert_non_null(fgets(buf, sizeof buf, in));
    fclose(in);
    assert_string_equal(buf, "a,b\n");
    assert_int_equal(count_entries(), 1);
}

static void test_symlink_followed(void **state)
{
    (void)state;
    char target[300], link[300];
    fp_atomic_file f;
    fp_error err;
    snprintf(target, sizeof target, "%s/target.csv", dir);
    snprintf(link, sizeof link, "%s/link.csv", dir);
    FILE *t = fopen(target, "w");
    assert_non_null(t);
    fclose(t);
    assert_int_equal(symlink(target, link), 0);
    if (geteuid() == 0) {
        /* Root writes through no link (a planted one could aim anywhere): refused. */
        assert_int_equal(fp_atomic_open(&f, link, &err), FP_ERR_INVALID);
        assert_non_null(strstr(err.msg, "symbolic link"));
        struct stat st;
        assert_int_equal(stat(target, &st), 0);
        assert_int_equal(st.st_size, 0);
        print_message("running as root: a symbolic link is refused, not followed\n");
        return;
    }
    assert_int_equal(fp_atomic_open(&f, link, &err), FP_OK);
    fputs("x\n", f.fp);
    assert_int_equal(fp_atomic_commit(&f, &err), FP_OK);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_size, 2);
}

static void test_device_written_in_place(void **state)
{
    (void)state;
    fp_atomic_file f;
    fp_error err;
    assert_int_equal(fp_atomic_open(&f, "/dev/null", &err), FP_OK);
    fputs("discarded\n", f.fp);
    assert_int_equal(fp_atomic_commit(&f, &err), FP_OK);
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

static void test_folder_refused(void **state)
{
    (void)state;
    fp_atomic_file f;
    fp_error err;
    assert_int_equal(fp_atomic_open(&f, dir, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "folder"));
}

TU_MAIN_GROUP(setup, teardown, cmocka_unit_test(test_commit_and_abort),
              cmocka_unit_test(test_symlink_followed),
              cmocka_unit_test(test_device_written_in_place), cmocka_unit_test(test_folder_refused))
