/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_FUZZ_FILE_H
#define FP_FUZZ_FILE_H
/*
 * For the harnesses of readers that take a path: the input as a file without touching the
 * disk. One memfd per process (a regular file for stat(2), so the readers' regular-files-only
 * rule lets it through), rewritten for each input; its path is /proc/self/fd/N.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-input", 0);
        if (fd < 0)
            __builtin_trap();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        __builtin_trap();
    return path;
}

/* A NUL-terminated copy of the input (free it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *t = malloc(size + 1);
    if (!t)
        __builtin_trap();
    memcpy(t, data, size);
    t[size] = '\0';
    return t;
}

/* A failed invariant: a bug, whatever the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

#endif
