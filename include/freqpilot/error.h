/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_ERROR_H
#define FREQPILOT_ERROR_H

/*
 * Error reporting of libfreqpilot. The library never prints and never exits:
 * a function that can fail returns an fp_status (0 ok, negative on error) and
 * fills a caller-supplied fp_error with a message that names the file, the
 * line and what was expected ("run.csv:12: expected 11 columns, found 9").
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fp_status {
    FP_OK = 0,
    FP_ERR_IO = -1,      /* open/read/write/rename failed */
    FP_ERR_PARSE = -2,   /* malformed content */
    FP_ERR_FORMAT = -3,  /* unknown or unsupported layout */
    FP_ERR_INVALID = -4, /* bad argument or option */
    FP_ERR_NOMEM = -5,
    FP_ERR_UNSUPPORTED = -6,
    FP_ERR_QUALITY = -7, /* data-quality finding promoted to an error (--strict) */
    FP_ERR_BUSY = -8,    /* held by another process (a GPU lease, freqpilot/lease.h) */
} fp_status;

typedef struct fp_error {
    fp_status code;
    char msg[1024];
} fp_error;

/* Sets err (may be NULL) and returns code, so callers can `return fp_error_set(...)`. */
fp_status fp_error_set(fp_error *err, fp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like fp_error_set with a "FILE:LINE: " prefix (line 0 = no line). */
fp_status fp_error_at(fp_error *err, fp_status code, const char *file, long line, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));

void fp_error_clear(fp_error *err);

/*
 * Non-fatal findings (skipped file, reconstructed timestamps, ...) go through a
 * caller-supplied callback; the CLI prints them as "warning: ..." and --strict
 * turns them into errors. A NULL callback drops them.
 */
typedef void (*fp_warn_fn)(void *user, const char *msg);
typedef struct fp_diag {
    fp_warn_fn warn;
    void *user;
    /* Detail that explains a counted event (each dropped run, ...); NULL drops it. */
    fp_warn_fn info;
} fp_diag;

void fp_warn(const fp_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fp_info(const fp_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
