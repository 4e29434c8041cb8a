/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TELEMETRY_LINEBUF_H
#define FP_TELEMETRY_LINEBUF_H

/*
 * Line reader over a fixed-size buffer: the file is read(2) in 1 MiB chunks and
 * lines are handed out in place (no per-line allocation). The buffer grows only
 * for a single line longer than it, up to 16 MiB; a longer line is an error.
 * NUL bytes are found with one memchr per chunk read and reported on the line
 * that holds them, so the lines before a corrupt region are still returned.
 */

#include <stddef.h>

#include "freqpilot/error.h"

typedef struct fp_linebuf fp_linebuf;

#define FP_LINEBUF_CHUNK (1u << 20)
#define FP_LINEBUF_MAX_LINE (16u << 20)
/* A returned line may be read (never written) up to this many bytes past its end: room for
 * the 16-byte loads of the readers' scans (util/csvcore.h, fp_scan_*). */
#define FP_LINEBUF_PAD 64

fp_status fp_linebuf_open(fp_linebuf **out, const char *path, fp_error *err);
/* Reads from memory (the data is copied chunk by chunk, never modified). name is used in messages.
 */
fp_status fp_linebuf_open_mem(fp_linebuf **out, const void *data, size_t len, const char *name,
                              fp_error *err);
/* Like fp_linebuf_open_mem with a chosen initial buffer size and longest-line cap (tests). */
fp_status fp_linebuf_open_mem_ex(fp_linebuf **out, const void *data, size_t len, const char *name,
                                 size_t chunk, size_t max_line, fp_error *err);

/*
 * 1: *line points at the next line, NUL-terminated, without its '\n' and a
 * trailing '\r' (the buffer is writable until the next call); 0: end of file;
 * <0: an fp_status with err set ("path:LINE: NUL byte in data ...", read error,
 * line too long). Errors are sticky.
 */
int fp_linebuf_next(fp_linebuf *lb, char **line, size_t *len, fp_error *err);
/* 1-based number of the last returned line (0 before the first). */
long fp_linebuf_lineno(const fp_linebuf *lb);
/* 1 when the last returned line had no final newline (a truncated file). */
int fp_linebuf_last_unterminated(const fp_linebuf *lb);
const char *fp_linebuf_path(const fp_linebuf *lb);
/* Bytes consumed so far (offset just past the last returned line). */
unsigned long long fp_linebuf_offset(const fp_linebuf *lb);
fp_status fp_linebuf_rewind(fp_linebuf *lb, fp_error *err);
void fp_linebuf_close(fp_linebuf *lb);

#endif
