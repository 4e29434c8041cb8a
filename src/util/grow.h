/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_GROW_H
#define FP_UTIL_GROW_H

/*
 * Growable arrays: LEN elements in use of CAP allocated, the capacity doubling when full (FIRST
 * elements the first time), as every list of the library grows.
 */

#include <stdint.h>
#include <stdlib.h>

/* items with room for one more element of size bytes: items itself while len < *cap, else
 * reallocated (*cap updated); NULL when out of memory (items untouched and still owned). */
static inline void *fp_grow(void *items, size_t len, size_t *cap, size_t size, size_t first)
{
    if (len < *cap)
        return items;
    size_t n = *cap ? 2 * *cap : first;
    if (n > SIZE_MAX / size)
        return NULL;
    void *p = realloc(items, n * size);
    if (p)
        *cap = n;
    return p;
}

/* Room for ITEMS[LEN] (ITEMS reallocated as fp_grow, CAP a size_t): 0, or -1 when out of
 * memory (the array unchanged). */
#define FP_GROW(ITEMS, LEN, CAP, FIRST)                                                            \
    __extension__({                                                                                \
        void *grown_ = fp_grow((ITEMS), (LEN), &(CAP), sizeof *(ITEMS), (FIRST));                  \
        grown_ ? ((ITEMS) = grown_, 0) : -1;                                                       \
    })

#endif
