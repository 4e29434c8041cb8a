/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * (gpu, app, clock) index: a hash of (gpu, app, clock bucket) -> a chain of entries in the order
 * added. The bucket of a clock is its nearest whole MHz (floor(f + 0.5)), so every clock within
 * 0.5 MHz of f lies in bucket floor(f) or floor(f) + 1: a lookup follows those two chains,
 * merged back into the order added, and keeps the entries within 0.5 MHz.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/keyidx.h"

#define NONE SIZE_MAX
#define NAN_BUCKET LONG_MIN

typedef struct entry {
    const char *gpu, *app;
    double freq_mhz;
    long bucket;
    uint64_t hash;
    size_t value;
    size_t next; /* the next entry of the same (gpu, app, bucket) */
    size_t tail; /* of a chain's first entry: its last entry */
} entry;

struct fp_keyidx {
    entry *e;
    size_t n, cap;
    size_t *slot; /* first entry of a chain, NONE when empty; nslots a power of 2 */
    size_t nslots, nchains;
};

static long bucket_of(double f)
{
    if (isnan(f))
        return NAN_BUCKET;
    double b = floor(f + 0.5);
    return b >= 9.2e18 ? LONG_MAX : b <= -9.2e18 ? LONG_MIN + 1 : (long)b;
}

static uint64_t hash_key(const char *gpu, const char *app, long bucket)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)gpu; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const unsigned char *p = (const unsigned char *)app; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h ^= (uint64_t)bucket;
    h ^= h >> 33; /* murmur3's finaliser spreads the bits over the mask */
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

fp_keyidx *fp_keyidx_new(size_t n)
{
    fp_keyidx *idx = calloc(1, sizeof *idx);
    if (!idx)
        return NULL;
    size_t ns = 16;
    while (ns < 2 * n)
        ns *= 2;
    idx->slot = malloc(ns * sizeof *idx->slot);
    idx->cap = n ? n : 16;
    idx->e = malloc(idx->cap * sizeof *idx->e);
    if (!idx->slot || !idx->e) {
        fp_keyidx_free(idx);
        return NULL;
    }
    idx->nslots = ns;
    for (size_t i = 0; i < ns; i++)
        idx->slot[i] = NONE;
    return idx;
}

void fp_keyidx_free(fp_keyidx *idx)
{
    if (!idx)
        return;
    free(idx->e);
    free(idx->slot);
    free(idx);
}

size_t fp_keyidx_len(const fp_keyidx *idx)
{
    return idx ? idx->n : 0;
}

/* The slot of the chain (gpu, app, bucket): its first entry, or the empty slot where it goes. */
static size_t *find_slot(const fp_keyidx *idx, const char *gpu, const char *app, long bucket,
                         uint64_t h)
{
    size_t mask = idx->nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        size_t k = idx->slot[i];
        if (k == NONE)
            return &idx->slot[i];
        const entry *e = &idx->e[k];
        if (e->hash == h && e->bucket == bucket && strcmp(e->gpu, gpu) == 0 &&
            strcmp(e->app, app) == 0)
            return &idx->slot[i];
    }
}

static int grow_slots(fp_keyidx *idx)
{
    size_t ns = idx->nslots * 2;
    size_t *s = malloc(ns * sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < ns; i++)
        s[i] = NONE;
    size_t *old = idx->slot, old_n = idx->nslots;
    idx->slot = s;
    idx->nslots = ns;
    for (size_t i = 0; i < old_n; i++)
        if (old[i] != NONE) {
            const entry *e = &idx->e[old[i]];
            *find_slot(idx, e->gpu, e->app, e->bucket, e->hash) = old[i];
        }
    free(old);
    return 0;
}

int fp_keyidx_add(fp_keyidx *idx, const char *gpu, const char *app, double freq_mhz, size_t value)
{
    if (idx->n == idx->cap) {
        size_t cap = 2 * idx->cap;
        entry *e = realloc(idx->e, cap * sizeof *e);
        if (!e)
            return -1;
        idx->e = e;
        idx->cap = cap;
    }
    if (2 * (idx->nchains + 1) > idx->nslots && grow_slots(idx) < 0)
        return -1;
    long b = bucket_of(freq_mhz);
    uint64_t h = hash_key(gpu, app, b);
    size_t k = idx->n++;
    idx->e[k] = (entry){gpu, app, freq_mhz, b, h, value, NONE, k};
    size_t *s = find_slot(idx, gpu, app, b, h);
    if (*s == NONE) {
        *s = k;
        idx->nchains++;
    } else {
        entry *first = &idx->e[*s];
        idx->e[first->tail].next = k;
        first->tail = k;
    }
    return 0;
}

static int matches(const entry *e, double f)
{
    return isnan(f) ? isnan(e->freq_mhz) : fabs(e->freq_mhz - f) < 0.5;
}

/* The first entry from k on (along its chain) that matches f. */
static size_t skip(const fp_keyidx *idx, size_t k, double f)
{
    while (k != NONE && !matches(&idx->e[k], f))
        k = idx->e[k].next;
    return k;
}

void fp_keyidx_find(const fp_keyidx *idx, const char *gpu, const char *app, double freq_mhz,
                    fp_keyidx_iter *it)
{
    it->idx = idx;
    it->freq_mhz = freq_mhz;
    it->next[0] = it->next[1] = NONE;
    if (!idx || idx->n == 0 || isinf(freq_mhz))
        return;
    long b[2];
    int nb = 1;
    if (isnan(freq_mhz)) {
        b[0] = NAN_BUCKET;
    } else {
        double lo = floor(freq_mhz);
        if (fabs(lo) >= 9.2e18)
            return;
        b[0] = (long)lo;
        b[1] = b[0] + 1;
        nb = 2;
    }
    for (int i = 0; i < nb; i++) {
        size_t k = *find_slot(idx, gpu, app, b[i], hash_key(gpu, app, b[i]));
        it->next[i] = skip(idx, k, freq_mhz);
    }
}

int fp_keyidx_next(fp_keyidx_iter *it, size_t *value)
{
    int i = it->next[0] == NONE ? 1 : it->next[1] == NONE ? 0 : it->next[0] < it->next[1] ? 0 : 1;
    size_t k = it->next[i];
    if (k == NONE)
        return 0;
    *value = it->idx->e[k].value;
    it->next[i] = skip(it->idx, it->idx->e[k].next, it->freq_mhz);
    return 1;
}

long fp_keyidx_get(const fp_keyidx *idx, const char *gpu, const char *app, double freq_mhz)
{
    fp_keyidx_iter it;
    size_t v;
    fp_keyidx_find(idx, gpu, app, freq_mhz, &it);
    return fp_keyidx_next(&it, &v) ? (long)v : -1;
}
