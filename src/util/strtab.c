/* SPDX-License-Identifier: GPL-3.0-or-later */
/* String table (util/strtab.h): bump allocation in blocks, an open-addressing hash for interning.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/strtab.h"

#define BLOCK 65536

typedef struct block {
    struct block *next;
    size_t used, size;
    char data[];
} block;

struct fp_strtab {
    block *head;
    const char **slot; /* interned strings; NULL = empty; nslots a power of 2 */
    size_t nslots, n;
    size_t bytes;
};

fp_strtab *fp_strtab_new(void)
{
    return calloc(1, sizeof(fp_strtab));
}

void fp_strtab_free(fp_strtab *t)
{
    if (!t)
        return;
    for (block *b = t->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(t->slot);
    free(t);
}

size_t fp_strtab_bytes(const fp_strtab *t)
{
    return t ? t->bytes + t->nslots * sizeof *t->slot : 0;
}

const char *fp_strtab_add(fp_strtab *t, const char *s)
{
    size_t len = strlen(s) + 1;
    block *b = t->head;
    if (!b || b->size - b->used < len) {
        size_t size = len > BLOCK / 4 ? len : BLOCK; /* a long string gets a block of its own */
        block *nb = malloc(sizeof *nb + size);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->size = size;
        t->bytes += sizeof *nb + size;
        if (b && size != BLOCK) { /* keep filling the current block */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            t->head = nb;
        }
        b = nb;
    }
    char *p = b->data + b->used;
    memcpy(p, s, len);
    b->used += len;
    return p;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int grow(fp_strtab *t)
{
    size_t ns = t->nslots ? 2 * t->nslots : 64;
    const char **slot = calloc(ns, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slot[i]) {
            size_t j = (size_t)hash_str(t->slot[i]) & (ns - 1);
            while (slot[j])
                j = (j + 1) & (ns - 1);
            slot[j] = t->slot[i];
        }
    free(t->slot);
    t->slot = slot;
    t->nslots = ns;
    return 0;
}

const char *fp_strtab_intern(fp_strtab *t, const char *s)
{
    if (2 * (t->n + 1) > t->nslots && grow(t) < 0)
        return NULL;
    size_t j = (size_t)hash_str(s) & (t->nslots - 1);
    for (; t->slot[j]; j = (j + 1) & (t->nslots - 1))
        if (strcmp(t->slot[j], s) == 0)
            return t->slot[j];
    const char *p = fp_strtab_add(t, s);
    if (p) {
        t->slot[j] = p;
        t->n++;
    }
    return p;
}
