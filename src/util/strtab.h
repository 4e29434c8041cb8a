/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_STRTAB_H
#define FP_UTIL_STRTAB_H

/*
 * A string table: copies of strings in large blocks that never move, so the pointers handed out
 * stay valid until the table is freed. fp_strtab_intern keeps one copy of each distinct string
 * (a run list's GPU and app names: a handful among a million runs); fp_strtab_add copies
 * without looking (the runs' sources, each different).
 */

#include <stddef.h>

typedef struct fp_strtab fp_strtab;

fp_strtab *fp_strtab_new(void);
void fp_strtab_free(fp_strtab *t);
/* The table's copy of s (the same pointer for equal strings); NULL on no memory. */
const char *fp_strtab_intern(fp_strtab *t, const char *s);
/* A new copy of s in the table; NULL on no memory. */
const char *fp_strtab_add(fp_strtab *t, const char *s);
/* Bytes held (blocks and index), for tests and benchmarks. */
size_t fp_strtab_bytes(const fp_strtab *t);

#endif
