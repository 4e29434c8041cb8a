/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_OPTIMIZE_PRESETS_H
#define FP_OPTIMIZE_PRESETS_H

/* The constraint presets built into the library (generated from the .ini files of
 * contrib/constraints/ by cmake/embed-presets.cmake), ended by a NULL name. */
typedef struct fp_constraints_preset_src {
    const char *name; /* the file name without .ini */
    const char *text; /* the file */
} fp_constraints_preset_src;

extern const fp_constraints_preset_src fp_constraints_presets_builtin[];

#endif
