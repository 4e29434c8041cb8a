/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Slowdown budgets from INI files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "freqpilot/optimize.h"
#include "testutil.h"

static void test_defaults(void **state)
{
    (void)state;
    fp_constraints c;
    fp_constraints_init(&c);
    const char *names[] = {"latency-sensitive", "interactive", "balanced", "throughput", "batch"};
    const double want[] = {0.05, 0.10, 0.20, 0.30, 0.50};
    assert_int_equal(c.ncategories, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(c.categories[i].name, names[i]);
        assert_true(c.categories[i].max_slowdown == want[i]);
    }
    double b;
    assert_int_equal(fp_constraints_lookup(&c, "llama", &b, NULL), -1);
}

static void test_contrib_file(void **state)
{
    (void)state;
    char path[4096];
    const char *src = getenv("FREQPILOT_SRC");
    snprintf(path, sizeof path, "%s/contrib/constraints.ini", src ? src : ".");
    fp_constraints c;
    fp_constraints_init(&c);
    fp_error err;
    if (fp_constraints_load(path, &c, &err))
        fail_msg("%s", err.msg);
    const char *apps[] = {"llama", "StableDiffusion", "VIT", "whisper", "lstm"};
    const char *cats[] = {"latency-sensitive", "balanced", "throughput", "batch", "interactive"};
    const double want[] = {0.05, 0.20, 0.30, 0.50, 0.10};
    for (int i = 0; i < 5; i++) {
        double b;
        const char *cat;
        assert_int_equal(fp_constraints_lookup(&c, apps[i], &b, &cat), 0);
        assert_true(b == want[i]);
        assert_string_equal(cat, cats[i]);
    }
}

static void test_overrides_numbers_percent(void **state)
{
    (void)state;
    const char *text = "[apps]\n"
                       "MyApp = 7%\n"
                       "other = fast\n"
                       "[categories]\n"
                       "fast = 0.02\n"
                       "Batch = 40 %\n";
    fp_constraints c;
    fp_constraints_init(&c);
    fp_error err;
    if (fp_constraints_parse(text, "t.ini", &c, &err))
        fail_msg("%s", err.msg);
    double b;
    const char *cat;
    assert_int_equal(fp_constraints_lookup(&c, "myapp", &b, &cat), 0);
    assert_true(fabs(b - 0.07) < 1e-12);
    assert_string_equal(cat, "");
    assert_int_equal(fp_constraints_lookup(&c, "OTHER", &b, &cat), 0);
    assert_true(b == 0.02);
    assert_int_equal(c.ncategories, 6);
    assert_true(fabs(c.categories[4].max_slowdown - 0.40) < 1e-12);
    assert_int_equal(fp_constraints_lookup(&c, "nobody", &b, &cat), -1);
}

static void expect_error(const char *text, const char *what)
{
    fp_constraints c;
    fp_constraints_init(&c);
    fp_error err;
    fp_error_clear(&err);
    assert_int_not_equal(fp_constraints_parse(text, "bad.ini", &c, &err), FP_OK);
    if (!strstr(err.msg, what))
        fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, what);
    assert_non_null(strstr(err.msg, "bad.ini"));
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[categories]\nx = fast\n", "bad.ini:2: category 'x'");
    expect_error("[categories]\nx = -0.1\n", "expected a slowdown");
    expect_error("[apps]\nllama = nosuch\n", "unknown category 'nosuch'");
    expect_error("[weird]\na = 1\n", "unknown section");
    expect_error("[defaults]\ncategory = nosuch\n", "unknown category");
    expect_error("[defaults]\ncolour = red\n", "unknown key");
    expect_error("[apps]\nnovalue\n", "bad.ini:2");
    fp_constraints c;
    fp_constraints_init(&c);
    fp_error err;
    assert_int_equal(fp_constraints_load("/nonexistent/c.ini", &c, &err), FP_ERR_IO);
}

/* The original project's budgets (its plan, shared/docs/seed): selectable by name. */
static void check_original_budgets(const fp_constraints *c)
{
    static const struct {
        const char *app, *cat;
        double budget;
    } want[] = {
        {"LLAMA", "latency-sensitive", 0.15},  {"llama", "latency-sensitive", 0.15},
        {"STABLEDIFFUSION", "balanced", 0.30}, {"stable-diffusion", "balanced", 0.30},
        {"vit", "throughput-oriented", 0.50},  {"Whisper", "batch-processing", 0.40},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        double b;
        const char *cat;
        assert_int_equal(fp_constraints_lookup(c, want[i].app, &b, &cat), 0);
        assert_float_equal(b, want[i].budget, 1e-12);
        assert_string_equal(cat, want[i].cat);
    }
    /* LSTM had no budget in the plan: none here (the caller's default applies) */
    double b;
    assert_int_equal(fp_constraints_lookup(c, "lstm", &b, NULL), -1);
}

static void test_preset_by_name(void **state)
{
    (void)state;
    assert_string_equal(fp_constraints_preset_at(0), "ai-inference-energy");
    assert_null(fp_constraints_preset_at(1));
    unsetenv("FREQPILOT_CONSTRAINTS_DIR");
    fp_constraints c;
    fp_error err;
    if (fp_constraints_open("ai-inference-energy", &c, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(c.name, "ai-inference-energy");
    check_original_budgets(&c);
    /* the built-in copy is the file of contrib/constraints/, by path too */
    char path[4096];
    const char *src = getenv("FREQPILOT_SRC");
    snprintf(path, sizeof path, "%s/contrib/constraints/ai-inference-energy.ini", src ? src : ".");
    if (fp_constraints_open(path, &c, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(c.name, "ai-inference-energy");
    assert_string_equal(c.source, path);
    check_original_budgets(&c);
    /* a file in $FREQPILOT_CONSTRAINTS_DIR overrides the built-in preset of its name */
    const char *p = tu_write_temp("[apps]\nllama = 3%\n", 18);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", p);
    *strrchr(dir, '/') = '\0';
    char link[4200];
    snprintf(link, sizeof link, "%s/mine.ini", dir);
    unlink(link);
    assert_int_equal(symlink(p, link), 0);
    setenv("FREQPILOT_CONSTRAINTS_DIR", dir, 1);
    if (fp_constraints_open("mine", &c, &err))
        fail_msg("%s", err.msg);
    double b;
    assert_int_equal(fp_constraints_lookup(&c, "llama", &b, NULL), 0);
    assert_float_equal(b, 0.03, 1e-12);
    assert_string_equal(c.source, link);
    unsetenv("FREQPILOT_CONSTRAINTS_DIR");
    unlink(link);
    /* neither a file nor a preset: the message lists the presets */
    assert_int_not_equal(fp_constraints_open("no-such-preset", &c, &err), FP_OK);
    assert_non_null(strstr(err.msg, "no-such-preset"));
    assert_non_null(strstr(err.msg, "ai-inference-energy"));
    assert_int_not_equal(fp_constraints_open("/nonexistent/c.ini", &c, &err), FP_OK);
}

TU_MAIN(cmocka_unit_test(test_defaults), cmocka_unit_test(test_contrib_file),
        cmocka_unit_test(test_overrides_numbers_percent), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_preset_by_name))
