/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The clock guard (include/freqpilot/clockguard.h) on the simulated GPU, through a backend
 * that wraps the sim backend to look at the state file at the moment each change reaches the
 * "driver" and to count the resets. State files live in a fresh temporary directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
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
#include <jansson.h>

#include "freqpilot/clockguard.h"
#include "freqpilot/sim.h"
#include "testutil.h"

/* ---- a sim backend that watches the state file ---- */

static fp_gpu_backend wrap;
static const char *watch_path; /* state file to inspect on each change */
static int n_lock, n_reset, n_reset_app, n_app, n_power;
static int lock_saw_state; /* the state file recorded the lock before the driver call */
static int app_saw_state, power_saw_state;
static unsigned lock_saw_min, lock_saw_max;
static double power_saw_restore_w;

static json_t *load_state(const char *path)
{
    json_error_t je;
    return json_load_file(path, 0, &je);
}

static fp_status w_lock(fp_gpu *gpu, unsigned lo, unsigned hi, fp_error *err)
{
    n_lock++;
    json_t *root = watch_path ? load_state(watch_path) : NULL;
    json_t *ch = root ? json_object_get(root, "changed") : NULL;
    lock_saw_state = ch && json_is_true(json_object_get(ch, "locked_clocks"));
    lock_saw_min = ch ? (unsigned)json_integer_value(json_object_get(ch, "locked_min_mhz")) : 0;
    lock_saw_max = ch ? (unsigned)json_integer_value(json_object_get(ch, "locked_max_mhz")) : 0;
    json_decref(root);
    return fp_gpu_backend_sim()->lock_clocks(gpu, lo, hi, err);
}

static fp_status w_refuse(fp_gpu *gpu, unsigned lo, unsigned hi, fp_error *err)
{
    (void)gpu;
    n_lock++;
    return fp_error_set(err, FP_ERR_IO, "SetGpuLockedClocks(%u, %u): Insufficient Permissions", lo,
                        hi);
}

static fp_status w_reset(fp_gpu *gpu, fp_error *err)
{
    n_reset++;
    return fp_gpu_backend_sim()->reset_clocks(gpu, err);
}

static fp_status w_app(fp_gpu *gpu, unsigned mem, unsigned gr, fp_error *err)
{
    n_app++;
    json_t *root = watch_path ? load_state(watch_path) : NULL;
    json_t *ch = root ? json_object_get(root, "changed") : NULL;
    app_saw_state = ch && json_is_true(json_object_get(ch, "app_clocks")) &&
                    json_integer_value(json_object_get(ch, "app_gr_mhz")) == gr;
    json_decref(root);
    return fp_gpu_backend_sim()->set_app_clocks(gpu, mem, gr, err);
}

static fp_status w_reset_app(fp_gpu *gpu, fp_error *err)
{
    n_reset_app++;
    return fp_gpu_backend_sim()->reset_app_clocks(gpu, err);
}

static fp_status w_power(fp_gpu *gpu, double watts, fp_error *err)
{
    n_power++;
    json_t *root = watch_path ? load_state(watch_path) : NULL;
    json_t *rs = root ? json_object_get(root, "restore") : NULL;
    json_t *ch = root ? json_object_get(root, "changed") : NULL;
    power_saw_state = ch && json_is_true(json_object_get(ch, "power_limit"));
    power_saw_restore_w = rs && json_is_number(json_object_get(rs, "power_limit_w"))
                              ? json_number_value(json_object_get(rs, "power_limit_w"))
                              : NAN;
    json_decref(root);
    return fp_gpu_backend_sim()->set_power_limit(gpu, watts, err);
}

static char tmpdir[256];

static int rm_cb(void *user, const char *path)
{
    (void)user;
    unlink(path);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    wrap = *fp_gpu_backend_sim();
    wrap.lock_clocks = w_lock;
    wrap.reset_clocks = w_reset;
    wrap.set_app_clocks = w_app;
    wrap.reset_app_clocks = w_reset_app;
    wrap.set_power_limit = w_power;
    n_lock = n_reset = n_reset_app = n_app = n_power = 0;
    lock_saw_state = app_saw_state = power_saw_state = 0;
    watch_path = NULL;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fp_clockguard_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    fp_sim_backend_options so;
    fp_sim_backend_options_init(&so);
    so.noise_scale = 0.0; /* no noise, no workload */
    fp_sim_backend_configure(&so);
    char locks[300];
    snprintf(locks, sizeof locks, "%s/locks", tmpdir);
    setenv("FREQPILOT_LOCK_DIR", locks, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/state", tmpdir);
    fp_clockguard_list(sub, rm_cb, NULL, NULL);
    rmdir(sub);
    fp_clockguard_list(tmpdir, rm_cb, NULL, NULL);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static fp_gpu *open_gpu(const char *id)
{
    fp_gpu *gpu = NULL;
    fp_error err;
    assert_int_equal(wrap.open(id, &gpu, &err), FP_OK);
    return gpu;
}

static double sm_clock(fp_gpu *gpu)
{
    fp_sample s;
    fp_error err;
    assert_int_equal(wrap.sample(gpu, &s, &err), FP_OK);
    return s.v[FP_COL_SM_CLOCK_MHZ];
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ---- tests ---- */

static void test_state_path_rules(void **state)
{
    (void)state;
    char buf[512];
    fp_error err;
    assert_int_equal(fp_clockguard_state_path(buf, sizeof buf, "/d", "GPU-ab/c d:1", &err), FP_OK);
    assert_string_equal(buf, "/d/GPU-ab_c_d_1.json");
    assert_int_equal(fp_clockguard_state_path(buf, sizeof buf, "/d", "", &err), FP_OK);
    assert_string_equal(buf, "/d/unknown.json");
    assert_int_not_equal(fp_clockguard_state_path(buf, 8, "/d", "GPU-1234", &err), FP_OK);

    /* FREQPILOT_STATE_DIR wins. */
    setenv("FREQPILOT_STATE_DIR", tmpdir, 1);
    assert_int_equal(fp_clockguard_default_dir(buf, sizeof buf, &err), FP_OK);
    assert_string_equal(buf, tmpdir);
    assert_int_equal(fp_clockguard_state_path(buf, sizeof buf, NULL, "GPU-x", &err), FP_OK);
    char want[512];
    snprintf(want, sizeof want, "%s/GPU-x.json", tmpdir);
    assert_string_equal(buf, want);
    unsetenv("FREQPILOT_STATE_DIR");

    /* Without it: root with a usable /var/lib -> /var/lib/freqpilot; else XDG, else HOME. */
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char *xdg = getenv("XDG_STATE_HOME") ? strdup(getenv("XDG_STATE_HOME")) : NULL;
    int root_default = geteuid() == 0 && access("/var/lib", W_OK | X_OK) == 0;
    setenv("XDG_STATE_HOME", "/xdg/state", 1);
    setenv("HOME", "/home/someone", 1);
    assert_int_equal(fp_clockguard_default_dir(buf, sizeof buf, &err), FP_OK);
    assert_string_equal(buf, root_default ? "/var/lib/freqpilot" : "/xdg/state/freqpilot");
    if (!root_default) {
        setenv("XDG_STATE_HOME", "relative/ignored", 1);
        assert_int_equal(fp_clockguard_default_dir(buf, sizeof buf, &err), FP_OK);
        assert_string_equal(buf, "/home/someone/.local/state/freqpilot");
        unsetenv("XDG_STATE_HOME");
        unsetenv("HOME");
        assert_int_equal(fp_clockguard_default_dir(buf, sizeof buf, &err), FP_ERR_INVALID);
        assert_non_null(strstr(err.msg, "FREQPILOT_STATE_DIR"));
    } else {
        print_message("running as root: /var/lib/freqpilot is the default; XDG/HOME rules "
                      "not reachable here\n");
    }
    if (home)
        setenv("HOME", home, 1);
    else
        unsetenv("HOME");
    if (xdg)
        setenv("XDG_STATE_HOME", xdg, 1);
    else
        unsetenv("XDG_STATE_HOME");
    free(home);
    free(xdg);
}

static void test_write_ahead_contents_restore(void **state)
{
    (void)state;
    fp_gpu *gpu = open_gpu("A100");
    fp_gpu_info info;
    fp_error err;
    assert_int_equal(wrap.info(gpu, &info, &err), FP_OK);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/state", tmpdir); /* created by begin */
    fp_clockguard_opts o = {.state_dir = dir, .command = "unit test"};
    fp_clockguard *g = NULL;
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_OK);
    const char *path = fp_clockguard_path(g);
    char want[512];
    snprintf(want, sizeof want, "%s/%s.json", dir, info.uuid);
    assert_string_equal(path, want);
    /* No state file before the first change (nothing to restore yet). */
    assert_false(exists(path));
    assert_int_equal(n_lock + n_app + n_power, 0);

    /* Lock: the state file records it before the driver is called; read back. */
    watch_path = path;
    double reached = 0;
    assert_int_equal(fp_clockguard_lock(g, 900, 900, &reached, &err), FP_OK);
    assert_int_equal(n_lock, 1);
    assert_true(lock_saw_state);
    assert_int_equal(lock_saw_min, 900);
    assert_int_equal(lock_saw_max, 900);
    assert_true(reached == 900.0);
    assert_true(sm_clock(gpu) == 900.0);
    json_t *root = load_state(path);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "format")), "freqpilot-state");
    assert_int_equal(json_integer_value(json_object_get(root, "format_version")), 1);
    assert_string_equal(json_string_value(json_object_get(root, "backend")), "sim");
    assert_string_equal(json_string_value(json_object_get(root, "gpu_uuid")), info.uuid);
    assert_string_equal(json_string_value(json_object_get(root, "gpu_name")), info.name);
    assert_string_equal(json_string_value(json_object_get(root, "command")), "unit test");
    assert_int_equal(json_integer_value(json_object_get(root, "pid")), getpid());
    assert_non_null(strchr(json_string_value(json_object_get(root, "start_utc")), 'T'));
    json_t *ch = json_object_get(root, "changed");
    assert_true(json_is_true(json_object_get(ch, "locked_clocks")));
    assert_true(json_is_false(json_object_get(ch, "app_clocks")));
    assert_true(json_is_false(json_object_get(ch, "power_limit")));
    assert_true(json_is_null(json_object_get(json_object_get(root, "restore"), "power_limit_w")));
    json_decref(root);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);

    /* Out of the GPU's range: refused before the record or the driver sees it. */
    assert_int_equal(fp_clockguard_lock(g, 5000, 5000, NULL, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "outside the supported clocks"));
    assert_int_equal(fp_clockguard_lock(g, 0, 0, NULL, &err), FP_ERR_INVALID);
    assert_int_equal(fp_clockguard_set_power_limit(g, 1e9, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "outside the power-limit range"));
    assert_int_equal(n_lock + n_power, 1);

    /* Application clocks and power limit: write-ahead too, with the limit to go back to. */
    assert_int_equal(fp_clockguard_set_app_clocks(g, info.mem_clock_mhz, 1005, &err), FP_OK);
    assert_true(app_saw_state);
    assert_int_equal(fp_clockguard_set_power_limit(g, 200.0, &err), FP_OK);
    assert_true(power_saw_state);
    assert_true(power_saw_restore_w == info.power_limit_w);
    assert_int_equal(wrap.info(gpu, &info, &err), FP_OK);
    assert_true(info.power_limit_w == 200.0);
    fp_clockguard_report rep;
    assert_int_equal(fp_clockguard_read_state(path, &rep, &err), FP_OK);
    assert_true(rep.changed.locked && rep.changed.app_clocks_set && rep.changed.power_limit_set);
    assert_int_equal(rep.changed.locked_max_mhz, 900);
    assert_int_equal(rep.changed.app_gr_mhz, 1005);
    assert_true(rep.changed.power_limit_w == 250.0);
    assert_int_equal(rep.pid, getpid());
    assert_true(rep.in_use); /* the lease: held by this process */
    assert_int_equal(rep.holder_pid, getpid());
    assert_string_equal(rep.backend, "sim");

    /* Restore: every change undone, the state file removed, the guard still usable. */
    assert_int_equal(fp_clockguard_restore(g, &err), FP_OK);
    assert_int_equal(n_reset, 1);
    assert_int_equal(n_reset_app, 1);
    assert_int_equal(n_power, 2);
    assert_false(exists(path));
    assert_int_equal(wrap.info(gpu, &info, &err), FP_OK);
    assert_true(info.power_limit_w == 250.0);
    assert_true(sm_clock(gpu) < 900.0); /* idle clock again */
    fp_gpu_clock_state cs;
    fp_clockguard_changes(g, &cs);
    assert_false(cs.locked || cs.app_clocks_set || cs.power_limit_set);
    /* end with nothing changed: no further reset */
    fp_clockguard_end(g);
    assert_int_equal(n_reset, 1);
    wrap.close(gpu);
}

static void test_end_restores(void **state)
{
    (void)state;
    fp_gpu *gpu = open_gpu("H100");
    fp_clockguard_opts o = {.state_dir = tmpdir};
    fp_clockguard *g = NULL;
    fp_error err;
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s", fp_clockguard_path(g));
    assert_int_equal(fp_clockguard_lock(g, 1005, 1005, NULL, &err), FP_OK);
    fp_clockguard_end(g);
    assert_int_equal(n_reset, 1);
    assert_false(exists(path));
    wrap.close(gpu);
}

static void test_refuse_same_process(void **state)
{
    (void)state;
    fp_gpu *gpu = open_gpu("V100");
    fp_clockguard_opts o = {.state_dir = tmpdir};
    fp_clockguard *g1 = NULL, *g2 = NULL;
    fp_error err;
    assert_int_equal(fp_clockguard_begin(&g1, &wrap, gpu, &o, &err), FP_OK);
    assert_int_equal(fp_clockguard_begin(&g2, &wrap, gpu, &o, &err), FP_ERR_BUSY);
    assert_null(g2);
    assert_non_null(strstr(err.msg, "already leased by this process"));
    /* A different state folder does not help: the lease is per GPU. */
    char other[300];
    snprintf(other, sizeof other, "%s/other-state", tmpdir);
    fp_clockguard_opts o2 = {.state_dir = other};
    assert_int_equal(fp_clockguard_begin(&g2, &wrap, gpu, &o2, &err), FP_ERR_BUSY);
    assert_null(g2);
    fp_clockguard_end(g1);
    wrap.close(gpu);
}

static void test_refuse_while_alive(void **state)
{
    (void)state;
    /* Another live process holds the GPU: it locks, tells us, then waits to be killed. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        fp_gpu *gpu = NULL;
        fp_clockguard *g = NULL;
        fp_error err;
        fp_clockguard_opts o = {.state_dir = tmpdir};
        char ok = fp_gpu_backend_sim()->open("V100", &gpu, &err) == FP_OK &&
                  fp_clockguard_begin(&g, fp_gpu_backend_sim(), gpu, &o, &err) == FP_OK &&
                  fp_clockguard_lock(g, 900, 900, NULL, &err) == FP_OK;
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
    fp_gpu *gpu = open_gpu("V100");
    fp_clockguard_opts o = {.state_dir = tmpdir};
    fp_clockguard *g = NULL;
    fp_error err;
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_ERR_BUSY);
    assert_null(g);
    assert_non_null(strstr(err.msg, "is in use by"));
    char pidtxt[32];
    snprintf(pidtxt, sizeof pidtxt, "pid %ld", (long)pid);
    assert_non_null(strstr(err.msg, pidtxt));
    /* --force does not take a GPU from a running owner. */
    o.force = 1;
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_ERR_BUSY);
    /* restore_from_state leaves a live owner's GPU alone */
    char path[512];
    assert_int_equal(fp_clockguard_state_path(path, sizeof path, tmpdir,
                                              "GPU-SIM-V100-0000-0000-0000-000000000000", &err),
                     FP_OK);
    fp_clockguard_report rep;
    assert_int_equal(fp_clockguard_restore_from_state(path, NULL, 0, &rep, &err), FP_ERR_BUSY);
    assert_non_null(strstr(err.msg, pidtxt));
    assert_true(rep.in_use);
    assert_true(exists(path));
    /* SIGKILL: the file stays, now of a dead process, and restore works without force. */
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(fp_clockguard_restore_from_state(path, NULL, 0, &rep, &err), FP_OK);
    assert_true(rep.reset_locked);
    assert_false(exists(path));
    wrap.close(gpu);
}

/* A child that locks the clock and dies without restoring (as after SIGKILL). */
static pid_t leave_state_file(const char *gpu_id, unsigned mhz)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fp_gpu *gpu = NULL;
        fp_clockguard *g = NULL;
        fp_error err;
        fp_clockguard_opts o = {.state_dir = tmpdir};
        int ok = fp_gpu_backend_sim()->open(gpu_id, &gpu, &err) == FP_OK &&
                 fp_clockguard_begin(&g, fp_gpu_backend_sim(), gpu, &o, &err) == FP_OK &&
                 fp_clockguard_lock(g, mhz, mhz, NULL, &err) == FP_OK;
        _exit(ok ? 0 : 1); /* no atexit: the state file stays */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return pid;
}

static void test_refuse_unrestored_and_force(void **state)
{
    (void)state;
    pid_t dead = leave_state_file("A100", 810);
    fp_gpu *gpu = open_gpu("A100");
    fp_clockguard_opts o = {.state_dir = tmpdir};
    fp_clockguard *g = NULL;
    fp_error err;
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_ERR_INVALID);
    assert_null(g);
    assert_non_null(strstr(err.msg, "no longer running"));
    assert_non_null(strstr(err.msg, "freqpilot restore"));
    char pidtxt[32];
    snprintf(pidtxt, sizeof pidtxt, "pid %ld", (long)dead);
    assert_non_null(strstr(err.msg, pidtxt));
    /* Forced: the new guard inherits the earlier lock's restore. */
    o.force = 1;
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_OK);
    fp_clockguard_report rep;
    assert_int_equal(fp_clockguard_read_state(fp_clockguard_path(g), &rep, &err), FP_OK);
    assert_int_equal(rep.pid, getpid());
    char path[4096];
    snprintf(path, sizeof path, "%s", fp_clockguard_path(g));
    fp_clockguard_end(g);
    assert_int_equal(n_reset, 1); /* the inherited lock was reset */
    assert_false(exists(path));
    wrap.close(gpu);
}

static void test_restore_from_state(void **state)
{
    (void)state;
    pid_t dead = leave_state_file("H100", 1200);
    char path[512];
    fp_error err;
    assert_int_equal(fp_clockguard_state_path(path, sizeof path, tmpdir,
                                              "GPU-SIM-H100-0000-0000-0000-000000000000", &err),
                     FP_OK);
    assert_true(exists(path));
    fp_clockguard_report rep;
    assert_int_equal(fp_clockguard_read_state(path, &rep, &err), FP_OK);
    assert_int_equal(rep.pid, dead);
    assert_false(rep.in_use);
    assert_true(rep.changed.locked);
    assert_int_equal(rep.changed.locked_min_mhz, 1200);
    /* By UUID, looked up in the state directory. */
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fp_clockguard_restore_from_state("GPU-SIM-H100-0000-0000-0000-000000000000",
                                                      tmpdir, 0, &rep, &err),
                     FP_OK);
    assert_true(rep.reset_locked);
    assert_false(rep.reset_app);
    assert_false(rep.power_limit_restored);
    assert_string_equal(rep.backend, "sim");
    assert_false(exists(path));
    /* Nothing left: a clear error. */
    assert_int_equal(fp_clockguard_restore_from_state(path, NULL, 0, &rep, &err), FP_ERR_IO);
    assert_non_null(strstr(err.msg, "no state file"));

    /* Planted or damaged files: refused with a message, nothing restored, the file stays. */
    static const char *const bad[][2] = {
        {"{\"format\": \"freqpilot-state\", \"format_version\": 1, \"backend\": \"xyz\", "
         "\"gpu_index\": 0, \"gpu_uuid\": \"GPU-SIM-H100-0000-0000-0000-000000000000\", "
         "\"pid\": 0, \"changed\": {\"locked_clocks\": true, \"app_clocks\": false, "
         "\"power_limit\": false}, \"restore\": {\"reset_locked_clocks\": true, "
         "\"reset_app_clocks\": false, \"power_limit_w\": null}}",
         "xyz"},
        /* an empty "restore" must not pass for "nothing to do" */
        {"{\"format\": \"freqpilot-state\", \"format_version\": 1, \"backend\": \"sim\", "
         "\"gpu_index\": 0, \"gpu_uuid\": \"GPU-SIM-H100-0000-0000-0000-000000000000\", "
         "\"pid\": 0, \"changed\": {\"locked_clocks\": false, \"app_clocks\": false, "
         "\"power_limit\": false}, \"restore\": {}}",
         "reset_locked_clocks"},
        /* a file naming another GPU than the one it sits under */
        {"{\"format\": \"freqpilot-state\", \"format_version\": 1, \"backend\": \"sim\", "
         "\"gpu_index\": 0, \"gpu_uuid\": \"GPU-SIM-A100-0000-0000-0000-000000000000\", "
         "\"pid\": 0, \"changed\": {\"locked_clocks\": false, \"app_clocks\": false, "
         "\"power_limit\": true}, \"restore\": {\"reset_locked_clocks\": false, "
         "\"reset_app_clocks\": false, \"power_limit_w\": 150}}",
         "does not sit under its GPU's name"},
        /* a power limit no GPU has */
        {"{\"format\": \"freqpilot-state\", \"format_version\": 1, \"backend\": \"sim\", "
         "\"gpu_index\": 0, \"gpu_uuid\": \"GPU-SIM-H100-0000-0000-0000-000000000000\", "
         "\"pid\": 0, \"changed\": {\"locked_clocks\": false, \"app_clocks\": false, "
         "\"power_limit\": true}, \"restore\": {\"reset_locked_clocks\": false, "
         "\"reset_app_clocks\": false, \"power_limit_w\": 1e20}}",
         "power_limit_w"},
        {"{\"format\": \"freqpilot-state\", \"format_version\": 1, \"backend\": \"sim\", "
         "\"gpu_index\": 0, \"gpu_uuid\": \"GPU-SIM-H100-0000-0000-0000-000000000000\", "
         "\"pid\": 0, \"changed\": {\"locked_clocks\": false, \"app_clocks\": false, "
         "\"power_limit\": true}, \"restore\": {\"reset_locked_clocks\": false, "
         "\"reset_app_clocks\": false, \"power_limit_w\": 5}}",
         "outside the power-limit range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", bad[i][0]);
        fclose(f);
        n_reset = n_power = 0;
        assert_int_not_equal(fp_clockguard_restore_from_state(path, NULL, 0, &rep, &err), FP_OK);
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("case %zu: '%s' not in '%s'", i, bad[i][1], err.msg);
        assert_true(exists(path));
        unlink(path);
    }
    /* A symbolic link in place of the file, a folder others may write: refused. */
    char target[512];
    snprintf(target, sizeof target, "%s/target", tmpdir);
    FILE *f = fopen(target, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(symlink(target, path), 0);
    assert_int_not_equal(fp_clockguard_restore_from_state(path, NULL, 0, &rep, &err), FP_OK);
    assert_non_null(strstr(err.msg, "symbolic link"));
    unlink(path);
    unlink(target);
    leave_state_file("H100", 1200);
    assert_int_equal(chmod(tmpdir, 0777), 0);
    assert_int_not_equal(fp_clockguard_restore_from_state(path, NULL, 0, &rep, &err), FP_OK);
    assert_non_null(strstr(err.msg, "writable by others"));
    fp_gpu *gpu = open_gpu("H100");
    fp_clockguard_opts o = {.state_dir = tmpdir, .force = 1};
    fp_clockguard *g = NULL;
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "writable by others"));
    assert_int_equal(chmod(tmpdir, 0700), 0);
    assert_int_equal(fp_clockguard_restore_from_state(path, NULL, 0, &rep, &err), FP_OK);
    wrap.close(gpu);
}

/* A refused first change leaves no state file (and so blocks no later session). */
static void test_refused_change_leaves_nothing(void **state)
{
    (void)state;
    fp_gpu_backend refusing = wrap;
    refusing.lock_clocks = w_refuse;
    fp_gpu *gpu = open_gpu("A100");
    fp_clockguard_opts o = {.state_dir = tmpdir};
    fp_clockguard *g = NULL;
    fp_error err;
    /* A writer killed mid-write left a temporary file: the next owner removes it. */
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname,
             "%s/.GPU-SIM-A100-0000-0000-0000-000000000000.json.tmp.99999.0badf00d", tmpdir);
    FILE *tf = fopen(tmpname, "w");
    assert_non_null(tf);
    fclose(tf);
    assert_int_equal(fp_clockguard_begin(&g, &refusing, gpu, &o, &err), FP_OK);
    assert_false(exists(tmpname));
    char path[4096];
    snprintf(path, sizeof path, "%s", fp_clockguard_path(g));
    assert_int_not_equal(fp_clockguard_lock(g, 900, 900, NULL, &err), FP_OK);
    assert_non_null(strstr(err.msg, "Insufficient Permissions"));
    assert_false(exists(path));
    fp_gpu_clock_state cs;
    fp_clockguard_changes(g, &cs);
    assert_false(cs.locked);
    fp_clockguard_end(g);
    assert_int_equal(n_reset, 0); /* nothing was changed, nothing to reset */
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_OK);
    fp_clockguard_end(g);
    wrap.close(gpu);
}

static int list_cb(void *user, const char *path)
{
    tu_msgs_add(user, path);
    return 0;
}

static void test_list(void **state)
{
    (void)state;
    tu_msgs l = {0};
    fp_error err;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none", tmpdir);
    assert_int_equal(fp_clockguard_list(missing, list_cb, &l, &err), FP_OK);
    assert_int_equal(l.n, 0);
    leave_state_file("V100", 900);
    leave_state_file("A100", 900);
    char other[300];
    snprintf(other, sizeof other, "%s/notes.txt", tmpdir);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(fp_clockguard_list(tmpdir, list_cb, &l, &err), FP_OK);
    assert_int_equal(l.n, 2);
    int v = 0, a = 0;
    for (int i = 0; i < 2; i++) {
        v += strstr(l.text[i], "GPU-SIM-V100") != NULL;
        a += strstr(l.text[i], "GPU-SIM-A100") != NULL;
    }
    assert_int_equal(v, 1);
    assert_int_equal(a, 1);
    /* Restoring all of them empties the directory. */
    for (int i = 0; i < 2; i++) {
        fp_clockguard_report rep;
        assert_int_equal(fp_clockguard_restore_from_state(l.text[i], NULL, 0, &rep, &err), FP_OK);
    }
    l.n = 0;
    assert_int_equal(fp_clockguard_list(tmpdir, list_cb, &l, &err), FP_OK);
    assert_int_equal(l.n, 0);
    unlink(other);
}

static void test_detach(void **state)
{
    (void)state;
    fp_gpu *gpu = open_gpu("A100");
    fp_clockguard_opts o = {.state_dir = tmpdir};
    fp_clockguard *g = NULL;
    fp_error err;
    assert_int_equal(fp_clockguard_begin(&g, &wrap, gpu, &o, &err), FP_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s", fp_clockguard_path(g));
    assert_int_equal(fp_clockguard_lock(g, 1110, 1110, NULL, &err), FP_OK);
    fp_clockguard_detach(g);
    fp_clockguard_detach(NULL);
    /* Nothing reset, the clock still locked, the state file still there. */
    assert_int_equal(n_reset, 0);
    assert_true(sm_clock(gpu) == 1110.0);
    assert_true(exists(path));
    fp_clockguard_report rep;
    assert_int_equal(fp_clockguard_read_state(path, &rep, &err), FP_OK);
    assert_true(rep.changed.locked);
    assert_int_equal(rep.changed.locked_max_mhz, 1110);
    /* A new session is refused (the file records a lock), restore puts it back. */
    fp_clockguard *g2 = NULL;
    assert_int_equal(fp_clockguard_begin(&g2, &wrap, gpu, &o, &err), FP_ERR_INVALID);
    assert_int_equal(fp_clockguard_restore_from_state(path, NULL, 0, &rep, &err), FP_OK);
    assert_true(rep.reset_locked);
    assert_false(exists(path));
    wrap.close(gpu);
}

static void test_detach_survives_exit(void **state)
{
    (void)state;
    /* A child that detaches and exits normally (atexit runs): the state file stays. */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fp_gpu *gpu = NULL;
        fp_clockguard *g = NULL;
        fp_error err;
        fp_clockguard_opts o = {.state_dir = tmpdir};
        if (fp_gpu_backend_sim()->open("V100", &gpu, &err) ||
            fp_clockguard_begin(&g, fp_gpu_backend_sim(), gpu, &o, &err) ||
            fp_clockguard_lock(g, 900, 900, NULL, &err))
            _exit(1);
        fp_clockguard_detach(g);
        fp_gpu_backend_sim()->close(gpu);
        exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char path[512];
    fp_error err;
    assert_int_equal(fp_clockguard_state_path(path, sizeof path, tmpdir,
                                              "GPU-SIM-V100-0000-0000-0000-000000000000", &err),
                     FP_OK);
    assert_true(exists(path));
    unlink(path);
}

TU_MAIN(cmocka_unit_test_setup_teardown(test_state_path_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_ahead_contents_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_same_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_while_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_unrestored_and_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_from_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_change_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach_survives_exit, setup, teardown))
