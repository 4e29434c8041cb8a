/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_GLOSSARY_H
#define FREQPILOT_GLOSSARY_H

/*
 * One glossary for every word a command can print about a result: the data flags of
 * aggregated.csv (run.h, fp_flag_name; drift and not_clock_bound are also aggregate's
 * per-(gpu, app) findings), the flags optimize adds (fp_opt_flag_name), the verdicts
 * (fp_verdict_name), validate's checks (fp_check_name) and their statuses. The report prints
 * it; tests/unit/test_glossary.c walks every name function so that a new flag without an entry
 * here fails.
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp_glossary_entry {
    const char *term; /* as the outputs spell it: "clock_not_held", "deployable", ... */
    const char *kind; /* "data flag", "finding", "optimize flag", "verdict", "check", "status" */
    const char *text; /* what it means and what to do about it, one or two sentences */
} fp_glossary_entry;

/* Entry i (in the order the report lists them: verdicts, optimize flags, data flags, checks,
 * statuses); NULL past the end. */
const fp_glossary_entry *fp_glossary_at(size_t i);
/* The entry for term (exact spelling) of kind (NULL: the first of any kind: "drift" is both a
 * finding and a check), NULL when there is none. */
const fp_glossary_entry *fp_glossary_find(const char *term, const char *kind);
/* Its text, or "" when the glossary has no entry for term. */
const char *fp_glossary_text(const char *term);

#ifdef __cplusplus
}
#endif
#endif
