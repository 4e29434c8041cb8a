/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_KEYIDX_H
#define FP_UTIL_KEYIDX_H

/*
 * The one keyed index of freqpilot: (gpu, app, clock) -> the values added under that key, in
 * the order added. Built once in O(n), then a lookup costs O(1) where a scan of every row or
 * run cost O(n): aggregate's rows for model, report, optimize and validate, the dropped runs
 * for the dropped-run check. Clocks match as everywhere in freqpilot: within 0.5 MHz (two NAN
 * clocks match each other, so an index of (gpu, app) pairs adds and looks up NAN). The index
 * keeps the gpu and app pointers it is given, not copies: they must outlive it.
 */

#include <stddef.h>

typedef struct fp_keyidx fp_keyidx;

/* An empty index sized for about n entries (it grows); NULL on no memory. */
fp_keyidx *fp_keyidx_new(size_t n);
void fp_keyidx_free(fp_keyidx *idx);
/* Adds value under (gpu, app, freq_mhz). 0, or -1 on no memory. */
int fp_keyidx_add(fp_keyidx *idx, const char *gpu, const char *app, double freq_mhz, size_t value);
/* Entries added so far. */
size_t fp_keyidx_len(const fp_keyidx *idx);

/* The values under a key, in the order they were added (fp_keyidx_find, then fp_keyidx_next
 * until it returns 0). */
typedef struct fp_keyidx_iter {
    const fp_keyidx *idx;
    double freq_mhz;
    size_t next[2]; /* next entry of the two clock buckets that can hold a match */
} fp_keyidx_iter;
void fp_keyidx_find(const fp_keyidx *idx, const char *gpu, const char *app, double freq_mhz,
                    fp_keyidx_iter *it);
int fp_keyidx_next(fp_keyidx_iter *it, size_t *value);
/* The first value added under the key; -1 when there is none. */
long fp_keyidx_get(const fp_keyidx *idx, const char *gpu, const char *app, double freq_mhz);

#endif
