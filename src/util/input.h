/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_INPUT_H
#define FP_UTIL_INPUT_H

/*
 * Opening the files freqpilot reads (docs/formats.md, "Every input"): only regular files are
 * read. A FIFO, a device or a socket is refused from its stat(2), before anything opens it for
 * reading (a FIFO would block the reader until a writer comes). A UTF-8 byte-order mark at
 * the start (spreadsheets write one) is skipped by every reader.
 */

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "freqpilot/error.h"

/* The three bytes of a UTF-8 byte-order mark. */
#define FP_BOM "\xEF\xBB\xBF"
#define FP_BOM_LEN 3

/* 1 when data[0..len) starts with a byte-order mark. */
static inline int fp_has_bom(const void *data, size_t len)
{
    const unsigned char *p = data;
    return len >= FP_BOM_LEN && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF;
}

/*
 * FP_OK when path names a regular file (symbolic links followed); else FP_ERR_IO
 * ("PATH: cannot open: ...") or FP_ERR_FORMAT ("PATH: not a regular file (a FIFO): ...").
 */
fp_status fp_input_check(const char *path, fp_error *err);

/*
 * Opens a regular file for reading (fp_input_check first, then open(2) without blocking and
 * fstat(2) again, so a file swapped for a FIFO in between is refused too). Returns the
 * descriptor (>= 0), or a negative fp_status with err set.
 */
int fp_input_open(const char *path, fp_error *err);

/* fp_input_open as a stdio stream ("r"); NULL with err set. */
FILE *fp_input_fopen(const char *path, fp_error *err);

/*
 * Parses a JSON input file (fp_input_open; a byte-order mark skipped). flags go to jansson
 * (JSON_REJECT_DUPLICATES is always added: a key given twice is an error, never "the last
 * one wins"). NULL with err set to "PATH:LINE: invalid JSON: ..." (FP_ERR_PARSE) or the open
 * error.
 */
json_t *fp_json_load_input(const char *path, size_t flags, fp_error *err);

/* The same on a buffer (fuzzers, tests); name is used in messages. */
json_t *fp_json_load_input_mem(const void *data, size_t len, const char *name, size_t flags,
                               fp_error *err);

#endif
