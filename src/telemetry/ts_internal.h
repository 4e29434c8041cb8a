/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TELEMETRY_TS_INTERNAL_H
#define FP_TELEMETRY_TS_INTERNAL_H

/*
 * Shared state of the time-series readers (smi_csv.c, dcgmi.c, telemetry_csv.c).
 * ts_reader.c owns the public entry points and calls the format's ops (format.h):
 * open (reads the header, builds the column map) and next (one sample), then checks
 * every sample against the limits of docs/formats.md.
 */

#include <stdint.h>

#include "freqpilot/reader.h"
#include "util/linebuf.h"

#define TS_MAX_FIELDS 256
/* Longest dcgmi row of the bitmap fast path, and its 64-bit words (+1 for the end bit). */
#define TS_TPL_MAX 1024
#define TS_TPL_WORDS (TS_TPL_MAX / 64 + 1)

/* What a file column holds. */
enum ts_kind {
    TK_IGNORE = 0, /* unknown to fp_col: not parsed, only counted */
    TK_NUM,        /* a number (units and N/A markers allowed) into col[] */
    TK_TIME,       /* nvidia-smi timestamp "2025/07/09 01:17:36.754" */
    TK_INDEX,      /* nvidia-smi GPU index */
    TK_NAME,       /* device name (nvidia-smi name, DCGM DVNAM) */
    TK_PSTATE,     /* "P0" or 0 */
};

struct fp_format_ops;

struct fp_ts_reader {
    fp_linebuf *lb;
    fp_format fmt;
    const struct fp_format_ops *ops;
    fp_ts_options opt;
    fp_ts_info info;

    int ncols; /* value columns in a data row */
    unsigned char kind[TS_MAX_FIELDS];
    signed char col[TS_MAX_FIELDS];     /* fp_col for TK_NUM */
    const char *colname[TS_MAX_FIELDS]; /* for messages; points into hdr or static text */
    char *hdr;                          /* copy of the header line */
    size_t hdr_len;
    char *fields[TS_MAX_FIELDS + 2];
    size_t lens[TS_MAX_FIELDS + 2];

    long row;        /* data rows of the kept GPU returned since open/rewind */
    int time_col;    /* -1 when absent */
    int index_col;   /* -1 when absent */
    int name_col;    /* -1 when absent */
    long keep_index; /* GPU index / entity id kept; -1 until chosen */
    int64_t t0_s;    /* first timestamp: whole seconds and fraction */
    double t0_frac;
    int have_t0;
    double interval; /* seconds per row when time is reconstructed */

    /* nvidia-smi timestamps: the last date part "YYYY/MM/DD " seen and its epoch seconds */
    char date_key[11];
    int have_date;
    int64_t date_sec;
    uint64_t date_k8; /* date_key's bytes 0..7 and 7..10, compared as two words */
    uint32_t date_k4;

    /* dcgmi */
    char keep_type[16]; /* entity type kept ("GPU", "GPU-I") */
    long garbage_line;  /* first non-data line after data began, 0 when none */
    long garbage_count;
    char garbage_text[64];
    int seen_data;
    int prescanning;
    /* dcgmi: the repeated header [0] and units line [1] verbatim, once seen (skipped by a
     * memcmp instead of a split); skip_tmp holds the line before it is split */
    char skip_line[2][512];
    size_t skip_len[2];
    char skip_tmp[512];
    /* dcgmi bitmap path: the token layout of the last plain row of the kept entity. Fixed-width
     * tables repeat it: a row with the same length, token bitmaps and entity bytes is parsed at
     * the remembered offsets without walking its tokens. tpl_len 0: none. */
    size_t tpl_len;
    int tpl_n;                                           /* mapped cells */
    uint64_t tpl_st[TS_TPL_WORDS], tpl_en[TS_TPL_WORDS]; /* token starts / ends */
    unsigned short tpl_off[FP_COL_COUNT], tpl_end[FP_COL_COUNT];
    signed char tpl_col[FP_COL_COUNT];
    unsigned short tpl_head_off, tpl_head_len; /* "GPU 0": entity type to id, bytes kept */
    char tpl_head[32];

    /* telemetry.csv fast path: each column's last plain cell (its bytes, zero-padded, and
     * its value). A run's clocks, P-state, limits and most counters repeat row after row: the
     * same bytes are the same number, found by one 16-byte compare instead of a parse. */
    unsigned char tc_text[FP_COL_COUNT][16] __attribute__((aligned(16)));
    unsigned char tc_len[FP_COL_COUNT]; /* 0: nothing cached */
    double tc_val[FP_COL_COUNT];

    /* fp_ts_next_batch: an error met after samples were filled, returned by the next call */
    int pending_rc;
    fp_error pending_err;
    /* the checks of every sample (ts_reader.c): the last t_s returned, NAN before the first */
    double last_t;
    int unchecked; /* FP_TS_UNCHECKED: values returned as parsed (parser tests) */
};

/* fp_ts_open with flags: FP_TS_UNCHECKED skips the range and time-order checks, for tests of
 * the parsers alone (random values in random order). Never used on user input. */
#define FP_TS_UNCHECKED 1
fp_status fp_ts_open_flags(const char *path, fp_format fmt, const fp_ts_options *opt, int flags,
                           fp_ts_reader **out, fp_error *err);

/* Restarts at the first data row (rewind + the format's open); info counters restart, facts
 * learnt at open stay. For a format's prepare. */
fp_status fp_ts_restart(fp_ts_reader *r, fp_error *err);

/* The physical range of each column (limits.c; docs/formats.md): a value outside is an error. */
extern const double fp_col_lo[FP_COL_COUNT], fp_col_hi[FP_COL_COUNT];
/* "0..5000 W": the range of a column in words, for messages. */
const char *fp_col_range_text(fp_col c);

/* "PATH:LINE: column NAME given twice (columns A and B): which one to read is ambiguous". */
int fp_ts_err_duplicate(fp_ts_reader *r, long line, const char *name, int first, int second,
                        fp_error *err);

/* Helpers shared by the formats. */
/* fp_sample_clear, inlined for the per-row fast paths. */
static inline void sample_nan(fp_sample *s)
{
    for (int c = 0; c < FP_COL_COUNT; c++)
        s->v[c] = __builtin_nan("");
}
/* Keeps a copy of the header line so field names outlive the line buffer. */
fp_status fp_ts_keep_header(fp_ts_reader *r, const char *line, size_t len, fp_error *err);
/*
 * CSV readers: skips leading blank lines, keeps the first line as the header (r->hdr) and
 * splits it into r->fields/r->lens; *lineno = its line, *ncols = its column count. An empty
 * file is an error naming the file.
 */
fp_status fp_ts_read_csv_header(fp_ts_reader *r, long *lineno, int *ncols, fp_error *err);
/* "path:LINE: expected N columns, found M" (+ a hint for a truncated last line). */
int fp_ts_err_columns(fp_ts_reader *r, int found, fp_error *err);
/* "path:LINE: column NAME: expected a number, found 'TEXT'". */
int fp_ts_err_value(fp_ts_reader *r, int field, const char *text, size_t len, fp_error *err);
/*
 * Parses a numeric cell that may carry a unit suffix ("70.12 W", "35 %", "1410 MHz")
 * or a P-state ("P0"). 0 ok, 1 not available (NAN), -1 not a number.
 */
int fp_ts_parse_cell(const char *s, size_t len, double *out);
/*
 * nvidia-smi timestamp "YYYY/MM/DD HH:MM:SS[.fff]" (read as UTC) -> whole epoch
 * seconds and fraction. 0 ok, -1 not a timestamp.
 */
int fp_smi_parse_time(const char *s, size_t len, int64_t *sec, double *frac);

#endif
