/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The glossary covers every word a command can print about a result: each name function of the
 * code (data flags, optimize flags, verdicts, checks, statuses) is walked to its end, so a new
 * flag without a glossary entry fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "freqpilot/glossary.h"
#include "freqpilot/optimize.h"
#include "freqpilot/run.h"
#include "testutil.h"

static void has(const char *term, const char *kind, int *missing)
{
    const fp_glossary_entry *e = fp_glossary_find(term, kind);
    if (!e) {
        /* findings are data flags that aggregate also reports per (gpu, app) */
        if (kind && strcmp(kind, "data flag") == 0)
            e = fp_glossary_find(term, "finding");
    }
    if (!e || !e->text || strlen(e->text) < 20) {
        print_message("no glossary entry (%s) for '%s'\n", kind ? kind : "any", term);
        (*missing)++;
    }
}

static void every_name_has_an_entry(void **state)
{
    (void)state;
    int missing = 0, n = 0;
    for (unsigned i = 0; i < 32; i++) {
        const char *name = fp_flag_name(1u << i);
        if (name) {
            has(name, "data flag", &missing);
            n++;
        }
    }
    assert_int_equal(n, FP_FLAG_COUNT_);
    n = 0;
    for (unsigned b = 0; b < 32; b++) {
        const char *name = fp_opt_flag_name(b);
        if (name) {
            has(name, "optimize flag", &missing);
            n++;
        }
    }
    assert_int_equal(n, FP_OPT_FLAG_COUNT_);
    n = 0;
    for (int v = 0; v < 32; v++) {
        const char *name = fp_verdict_name((fp_verdict)v);
        if (name) {
            has(name, "verdict", &missing);
            n++;
        }
    }
    assert_int_equal(n, FP_VERDICT_COUNT_);
    n = 0;
    for (size_t k = 0; k < 32; k++) {
        const char *name = fp_check_name(k);
        if (name) {
            has(name, "check", &missing);
            n++;
        }
    }
    assert_int_equal(n, FP_VALIDATE_NCHECKS);
    for (int s = FP_CHECK_PASS; s <= FP_CHECK_NA; s++)
        has(fp_check_status_name((fp_check_status)s), "status", &missing);
    assert_int_equal(missing, 0);
}

/* Every entry names something the code can print: no stale entries. */
static void every_entry_is_a_name_of_the_code(void **state)
{
    (void)state;
    for (size_t i = 0; fp_glossary_at(i); i++) {
        const fp_glossary_entry *e = fp_glossary_at(i);
        int found = 0;
        for (unsigned b = 0; b < 32 && !found; b++) {
            const char *a = fp_flag_name(1u << b), *o = fp_opt_flag_name(b), *c = fp_check_name(b);
            const char *v = fp_verdict_name((fp_verdict)b);
            found = (a && !strcmp(a, e->term)) || (o && !strcmp(o, e->term)) ||
                    (c && !strcmp(c, e->term)) || (v && !strcmp(v, e->term));
        }
        for (int s = FP_CHECK_PASS; s <= FP_CHECK_NA && !found; s++)
            found = !strcmp(fp_check_status_name((fp_check_status)s), e->term);
        if (!found)
            print_message("glossary entry '%s' names nothing the code prints\n", e->term);
        assert_true(found);
    }
    assert_string_equal(fp_glossary_find("drift", "check")->kind, "check");
    assert_string_equal(fp_glossary_find("drift", NULL)->kind, "finding");
    assert_string_equal(fp_glossary_text("no such flag"), "");
}

TU_MAIN(cmocka_unit_test(every_name_has_an_entry),
        cmocka_unit_test(every_entry_is_a_name_of_the_code))
