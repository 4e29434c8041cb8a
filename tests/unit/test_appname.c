/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The dataset's default application name (fp_sweep_app_name, src/profile/appname.c):
 * `python3 infer.py` is "infer", not "python3". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/sim.h"
#include "freqpilot/sweep.h"
#include "testutil.h"

static const char *name_of(char *const *argv)
{
    static char buf[64];
    fp_sweep_app_name(NULL, NULL, argv, buf, sizeof buf);
    return buf;
}

#define NAME(want, ...)                                                                            \
    do {                                                                                           \
        char *argv_[] = {__VA_ARGS__, NULL};                                                       \
        assert_string_equal(name_of(argv_), want);                                                 \
    } while (0)

static void test_interpreters(void **state)
{
    (void)state;
    NAME("infer", "python3", "infer.py");
    NAME("infer", "/usr/bin/python3", "/home/me/llm/infer.py", "--batch", "8");
    NAME("infer", "python3.11", "-u", "-X", "dev", "-W", "ignore", "infer.py");
    NAME("infer", "python", "-OO", "--", "infer.py");
    NAME("serve", "pypy3", "serve.py");
    NAME("vllm.entrypoints.api", "python3", "-m", "vllm.entrypoints.api", "--port", "8000");
    NAME("bench", "python3", "-mbench");
    NAME("python3", "python3", "-c", "print(1)");
    NAME("python3", "python3", "-uc", "print(1)");
    NAME("infer", "python3", "-Wdefault::DeprecationWarning", "infer.py");
    NAME("python3", "python3");
    NAME("python3", "python3", "-");
    NAME("run", "bash", "-e", "scripts/run.sh");
    NAME("sh", "sh", "-c", "python3 infer.py");
    NAME("train.pl", "perl", "train.pl.pl");
}

static void test_programs(void **state)
{
    (void)state;
    NAME("llama-bench", "./build/llama-bench", "-m", "x.gguf");
    NAME("python3-config", "python3-config", "--libs"); /* not an interpreter */
    NAME("trtexec", "/usr/src/tensorrt/bin/trtexec", "--onnx=x.onnx");
}

static void test_given_and_sim(void **state)
{
    (void)state;
    char buf[64];
    char *argv[] = {"python3", "infer.py", NULL};
    fp_sweep_app_name("llama-7b", NULL, argv, buf, sizeof buf);
    assert_string_equal(buf, "llama-7b");
    fp_sim_workload wl;
    memset(&wl, 0, sizeof wl);
    snprintf(wl.name, sizeof wl.name, "vit");
    fp_sweep_app_name(NULL, &wl, NULL, buf, sizeof buf);
    assert_string_equal(buf, "vit");
    /* Truncated to the buffer, NUL-terminated. */
    char small[6];
    fp_sweep_app_name(NULL, NULL, argv, small, sizeof small);
    assert_string_equal(small, "infer");
}

TU_MAIN(cmocka_unit_test(test_interpreters), cmocka_unit_test(test_programs),
        cmocka_unit_test(test_given_and_sim))
