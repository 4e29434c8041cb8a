/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One run of a workload (src/profile/workload.h): fork + exec without a shell, exit status,
 * crash signal, timeout of the whole process group, stdout/FIFO inference markers with their
 * timestamps, stdout and stderr captured to files; named and nested marks, PYTHONUNBUFFERED=1
 * in the workload's environment, and fp_workload_window_error on marks that arrived together
 * (buffered output) or a window shorter than one sample interval.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "profile/workload.h"
#include "testutil.h"

static char dir[256], out_path[300], err_path[300], fifo_path[300];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/fp_workload_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", dir);
    snprintf(fifo_path, sizeof fifo_path, "%s/mark.fifo", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(out_path);
    unlink(err_path);
    unlink(fifo_path);
    char p[300];
    snprintf(p, sizeof p, "%s/pid", dir);
    unlink(p);
    rmdir(dir);
    return 0;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static fp_workload_result run(char *const *argv, double timeout_s, int fifo)
{
    fp_workload_opts o = {
        .argv = argv,
        .stdout_path = out_path,
        .stderr_path = err_path,
        .marker_fifo = fifo,
        .timeout_s = timeout_s,
    };
    fp_workload_result r;
    fp_error err;
    assert_int_equal(fp_workload_run(&o, &r, &err), FP_OK);
    return r;
}

static void test_parse_mark(void **state)
{
    (void)state;
    struct {
        const char *line;
        int want;
    } cases[] = {
        {"FREQPILOT_MARK begin", 1},
        {"FREQPILOT_MARK end", 2},
        {"  FREQPILOT_MARK\tbegin \r", 1},
        {"FREQPILOT_MARK  end\t", 2},
        {"FREQPILOT_MARKbegin", 0},
        {"FREQPILOT_MARK beginning", 0},
        {"FREQPILOT_MARK", 0},
        {"FREQPILOT_MARK ", 0},
        {"x FREQPILOT_MARK begin", 0},
        {"freqpilot_mark begin", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(fp_workload_parse_mark(cases[i].line, strlen(cases[i].line)),
                         cases[i].want);
}

static void test_no_shell(void **state)
{
    (void)state;
    /* Arguments reach the program as they are: no splitting, globbing or expansion. */
    char *argv[] = {"printf", "%s|%s|%s\\n", "a  b", "$HOME", "*", NULL};
    double t0 = mono();
    fp_workload_result r = run(argv, 0, 0);
    assert_int_equal(r.exit_status, 0);
    assert_int_equal(r.term_signal, 0);
    assert_int_equal(r.exec_errno, 0);
    assert_false(r.timed_out);
    assert_true(r.pid > 0);
    assert_true(r.start_mono >= t0 - 1e-3 && r.end_mono >= r.start_mono);
    assert_string_equal(slurp(out_path), "a  b|$HOME|*\n");
    assert_string_equal(r.mark_source, "none");
    assert_true(isnan(r.mark_begin_mono) && isnan(r.mark_end_mono));
}

static void test_exit_status_and_stderr(void **state)
{
    (void)state;
    char *argv[] = {"sh", "-c", "echo out line; echo err line >&2; exit 3", NULL};
    fp_workload_result r = run(argv, 0, 0);
    assert_int_equal(r.exit_status, 3);
    assert_int_equal(r.term_signal, 0);
    assert_string_equal(slurp(out_path), "out line\n");
    assert_string_equal(slurp(err_path), "err line\n");
}

static void test_exec_failure(void **state)
{
    (void)state;
    char *argv[] = {"/nonexistent/freqpilot-no-such-program", NULL};
    fp_workload_result r = run(argv, 0, 0);
    assert_int_equal(r.exec_errno, ENOENT);
    assert_int_equal(r.exit_status, 127);
}

static void test_crash_signal(void **state)
{
    (void)state;
    char *argv[] = {"sh", "-c", "kill -SEGV $$", NULL};
    fp_workload_result r = run(argv, 0, 0);
    assert_int_equal(r.term_signal, SIGSEGV);
    assert_int_equal(r.exit_status, 128 + SIGSEGV);
    assert_false(r.timed_out);
}

/* 1 while pid exists and is not a zombie. */
static int running(pid_t pid)
{
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static void test_timeout_kills_group(void **state)
{
    (void)state;
    /* A background grandchild in the same process group must die with the timeout too;
     * the workload ignores SIGTERM, so only the SIGKILL 2 s later ends it. */
    char script[512];
    snprintf(script, sizeof script,
             "sleep 60 & echo $! > '%s/pid'; trap '' TERM; while :; do sleep 0.05; done", dir);
    char *argv[] = {"sh", "-c", script, NULL};
    double t0 = mono();
    fp_workload_result r = run(argv, 0.3, 0);
    double took = mono() - t0;
    assert_true(r.timed_out);
    assert_true(r.term_signal == SIGKILL || r.term_signal == SIGTERM);
    assert_true(took >= 0.3 && took < 6.0);
    char p[300];
    snprintf(p, sizeof p, "%s/pid", dir);
    char *txt = slurp(p);
    assert_non_null(txt);
    pid_t bg = (pid_t)atol(txt);
    assert_true(bg > 0);
    for (int i = 0; i < 100 && running(bg); i++)
        usleep(10000);
    assert_false(running(bg));
}

static void test_stdout_markers(void **state)
{
    (void)state;
    char *argv[] = {"sh", "-c",
                    "echo loading; sleep 0.2; echo FREQPILOT_MARK begin; sleep 0.4; "
                    "echo FREQPILOT_MARK end; echo done",
                    NULL};
    fp_workload_result r = run(argv, 10, 0);
    assert_int_equal(r.exit_status, 0);
    assert_string_equal(r.mark_source, "marker");
    assert_true(isfinite(r.mark_begin_mono) && isfinite(r.mark_end_mono));
    double win = r.mark_end_mono - r.mark_begin_mono;
    assert_true(win >= 0.35 && win < 2.0);
    assert_true(r.mark_begin_mono - r.start_mono >= 0.15);
    assert_true(r.mark_end_mono <= r.end_mono);
    assert_int_equal(r.marks_ignored, 0);
    /* stdout is kept whole, markers included */
    assert_string_equal(slurp(out_path),
                        "loading\nFREQPILOT_MARK begin\nFREQPILOT_MARK end\ndone\n");
}

static void test_unpaired_marks(void **state)
{
    (void)state;
    char *argv[] = {"sh", "-c",
                    "echo FREQPILOT_MARK end; echo FREQPILOT_MARK begin; sleep 0.1; "
                    "echo FREQPILOT_MARK end",
                    NULL};
    fp_workload_result r = run(argv, 10, 0);
    assert_string_equal(r.mark_source, "marker");
    assert_true(isfinite(r.mark_begin_mono) && isfinite(r.mark_end_mono));
    assert_true(r.mark_end_mono > r.mark_begin_mono);
    assert_true(r.marks_ignored >= 1); /* the end before any begin */
}

static void test_fifo_markers(void **state)
{
    (void)state;
    /* The FIFO sits in a folder of freqpilot's own, not in the run folder; fifo_path
     * receives its name. */
    snprintf(fifo_path, sizeof fifo_path, "%s/fifo-name", dir);
    char script[600];
    snprintf(script, sizeof script,
             "test -p \"$FREQPILOT_MARK_FIFO\" || exit 9; echo \"$FREQPILOT_MARK_FIFO\" > %s; "
             "sleep 0.1; echo begin > \"$FREQPILOT_MARK_FIFO\"; sleep 0.3; "
             "echo end > \"$FREQPILOT_MARK_FIFO\"; echo ok",
             fifo_path);
    char *argv[] = {"sh", "-c", script, NULL};
    fp_workload_result r = run(argv, 10, 1);
    assert_int_equal(r.exit_status, 0);
    assert_string_equal(r.mark_source, "pipe");
    double win = r.mark_end_mono - r.mark_begin_mono;
    assert_true(win >= 0.25 && win < 2.0);
    assert_true(r.mark_begin_mono >= r.start_mono && r.mark_end_mono <= r.end_mono);
    assert_string_equal(slurp(out_path), "ok\n");
    /* the FIFO and its folder are removed afterwards */
    char name[600];
    const char *text = slurp(fifo_path);
    assert_non_null(text);
    assert_true(strlen(text) < sizeof name);
    memcpy(name, text, strlen(text) + 1);
    name[strcspn(name, "\n")] = 0;
    assert_non_null(strstr(name, "/freqpilot-mark."));
    assert_null(strstr(name, dir));
    assert_int_not_equal(access(name, F_OK), 0);
    *strrchr(name, '/') = 0;
    assert_int_not_equal(access(name, F_OK), 0);
}

/* ---- inference windows that cannot silently fail (issue 14) ---- */

static fp_workload_result run_sh(const char *script, int fifo)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    fp_workload_result r = run(argv, 20, fifo);
    assert_int_equal(r.exit_status, 0);
    return r;
}

static void test_parse_named(void **state)
{
    (void)state;
    struct {
        const char *line;
        int want;
    } cases[] = {
        {"FREQPILOT_MARK begin infer", 1},    {"FREQPILOT_MARK end infer", 2},
        {"FREQPILOT_MARK begin\tstep-1 ", 1}, {"FREQPILOT_MARK beginx", 0},
        {"FREQPILOT_MARK ended", 0},          {"FREQPILOT_MARK", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(fp_workload_parse_mark(cases[i].line, strlen(cases[i].line)),
                         cases[i].want);
}

/* The environment: PYTHONUNBUFFERED=1 added, a value the user set kept. */
static void test_pythonunbuffered(void **state)
{
    (void)state;
    char *saved = getenv("PYTHONUNBUFFERED") ? strdup(getenv("PYTHONUNBUFFERED")) : NULL;
    unsetenv("PYTHONUNBUFFERED");
    run_sh("echo \"[$PYTHONUNBUFFERED]\"", 0);
    assert_string_equal(slurp(out_path), "[1]\n");
    setenv("PYTHONUNBUFFERED", "", 1);
    run_sh("echo \"[${PYTHONUNBUFFERED-unset}]\"", 0);
    assert_string_equal(slurp(out_path), "[]\n");
    if (saved)
        setenv("PYTHONUNBUFFERED", saved, 1);
    else
        unsetenv("PYTHONUNBUFFERED");
    free(saved);
}

/* Named windows nest on the FIFO: the outer one is the window, its name recorded, nothing
 * ignored; the window is usable. */
static void test_named_nested_fifo(void **state)
{
    (void)state;
    fp_workload_result r =
        run_sh("f=\"$FREQPILOT_MARK_FIFO\"; echo 'begin outer' >\"$f\"; "
               "echo 'begin inner' >\"$f\"; sleep 0.2; echo 'end inner' >\"$f\"; "
               "sleep 0.1; echo 'end outer' >\"$f\"",
               1);
    assert_string_equal(r.mark_source, "pipe");
    assert_string_equal(r.mark_name, "outer");
    assert_int_equal(r.marks_ignored, 0);
    assert_int_equal(r.mark_depth, 0);
    double win = r.mark_end_mono - r.mark_begin_mono;
    assert_true(win >= 0.25 && win < 3.0);
    char why[256] = "";
    assert_int_equal(fp_workload_window_error(&r, 0.05, why, sizeof why), 0);
    assert_string_equal(why, "");
}

/* Both marks in one write, as a block-buffered program flushes them when it exits. */
static void test_marks_together_at_exit(void **state)
{
    (void)state;
    fp_workload_result r =
        run_sh("sleep 0.2; printf 'FREQPILOT_MARK begin\\nwork\\nFREQPILOT_MARK end\\n'", 0);
    assert_true(isfinite(r.mark_begin_mono) && r.mark_end_mono == r.mark_begin_mono);
    char why[256];
    assert_int_equal(fp_workload_window_error(&r, 0.05, why, sizeof why), 1);
    assert_non_null(strstr(why, "markers arrived together at exit: the workload's output is "
                                "buffered"));
    assert_non_null(strstr(why, "flush=True"));
}

/* Together long before the end: buffered, but not at exit. */
static void test_marks_together_early(void **state)
{
    (void)state;
    fp_workload_result r =
        run_sh("printf 'FREQPILOT_MARK begin\\nFREQPILOT_MARK end\\n'; sleep 2.5", 0);
    char why[256];
    assert_int_equal(fp_workload_window_error(&r, 0.05, why, sizeof why), 1);
    assert_non_null(strstr(why, "markers arrived together, "));
    assert_non_null(strstr(why, "s before the workload ended: its output is buffered"));
}

/* A window shorter than one sample interval measures nothing; one longer is fine. */
static void test_short_window(void **state)
{
    (void)state;
    fp_workload_result r =
        run_sh("echo FREQPILOT_MARK begin; sleep 0.3; echo FREQPILOT_MARK end", 0);
    double win = r.mark_end_mono - r.mark_begin_mono;
    assert_true(win > 0.25);
    char why[256];
    assert_int_equal(fp_workload_window_error(&r, 0.05, why, sizeof why), 0);
    /* The same marks against an interval longer than the window. */
    assert_int_equal(fp_workload_window_error(&r, win + 0.5, why, sizeof why), 1);
    assert_non_null(strstr(why, "is shorter than one sample interval"));
    /* No window, no error. */
    fp_workload_result none = r;
    none.mark_end_mono = NAN;
    assert_int_equal(fp_workload_window_error(&none, 0.05, why, sizeof why), 0);
}

/* A Python workload printing markers to the pipe without flush=True and without
 * PYTHONUNBUFFERED in freqpilot's environment: the window is right. */
static void test_python_print_markers(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0)
        skip();
    char *saved = getenv("PYTHONUNBUFFERED") ? strdup(getenv("PYTHONUNBUFFERED")) : NULL;
    unsetenv("PYTHONUNBUFFERED");
    char *argv[] = {"/usr/bin/python3", "-c",
                    "import time\nprint('FREQPILOT_MARK begin')\ntime.sleep(0.4)\n"
                    "print('FREQPILOT_MARK end')\ntime.sleep(0.2)\n",
                    NULL};
    fp_workload_result r = run(argv, 20, 0);
    if (saved)
        setenv("PYTHONUNBUFFERED", saved, 1);
    free(saved);
    assert_int_equal(r.exit_status, 0);
    double win = r.mark_end_mono - r.mark_begin_mono;
    assert_true(win > 0.39 && win < 0.6);
    char why[256];
    assert_int_equal(fp_workload_window_error(&r, 0.05, why, sizeof why), 0);
}

TU_MAIN(cmocka_unit_test(test_parse_mark),
        cmocka_unit_test_setup_teardown(test_no_shell, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_status_and_stderr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdout_markers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unpaired_marks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_markers, setup, teardown),
        cmocka_unit_test(test_parse_named),
        cmocka_unit_test_setup_teardown(test_pythonunbuffered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_nested_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marks_together_at_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marks_together_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_python_print_markers, setup, teardown))
