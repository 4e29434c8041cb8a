/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TELEMETRY_FORMAT_H
#define FP_TELEMETRY_FORMAT_H

/*
 * The input format registry (docs/formats.md has every format, docs/extending.md how to add
 * one). Each format is one file that defines one fp_format_ops and one line of formats.def,
 * whose position is the fp_format value (formats.c tables them). Detection asks every format how well a file's
 * first lines (or a folder's entries) fit it and takes the best; an unknown format is an
 * error, never handed to some default parser.
 *
 *   time series (one file = one series of samples): open, next (and prepare, close)
 *   run level (a file or folder = many runs): load
 *
 * A time-series format gets the one-run load of runs_load.c (detector window) for free.
 */

#include <stddef.h>

#include "freqpilot/metrics.h"
#include "freqpilot/reader.h"
#include "freqpilot/run.h"

/* At most this many first non-blank lines are handed to the file sniffers. */
#define FP_SNIFF_LINES 8
#define FP_SNIFF_FIELDS 256

/* The first lines of a file (byte-order mark removed), for the sniffers. */
typedef struct fp_sniff {
    const char *name;
    int n; /* non-blank lines below */
    const char *line[FP_SNIFF_LINES];
    size_t len[FP_SNIFF_LINES];
    long lineno[FP_SNIFF_LINES];
    int comments; /* lines starting with '#' before first (a dcgmi header counts as one) */
    int first;    /* index of the first line that does not start with '#', n when none */
    /* That line split at ',' (fp_csv_split: trimmed, unquoted); nfields -1 when none. */
    int nfields;
    char *field[FP_SNIFF_FIELDS];
    size_t flen[FP_SNIFF_FIELDS];
} fp_sniff;

/* The entries of a folder (sorted, hidden ones left out), for the folder sniffers. */
typedef struct fp_dir_entries {
    const char *dir;
    char **name;
    size_t n;
} fp_dir_entries;

/* Sniff scores: how well the input fits a format. The highest wins; 0 = not this format. */
#define FP_SNIFF_NO 0
#define FP_SNIFF_WEAK 40   /* known column names, nothing distinctive */
#define FP_SNIFF_LIKELY 70 /* the format's own header or naming scheme */
#define FP_SNIFF_SURE 100  /* a marker only this format writes */

typedef struct fp_format_ops {
    const char *name;        /* the --input-format name: "smi-csv" */
    const char *aliases[4];  /* other spellings users type, NULL-terminated */
    const char *description; /* for messages: "an nvidia-smi CSV" */
    /* Files: the first lines; folders: the entries. NULL when the format has none of them. */
    int (*sniff_file)(const fp_sniff *s);
    int (*sniff_dir)(const fp_dir_entries *d);

    /* Time series. open reads up to the first data row (exclusive) and may be called again
     * after a rewind; next returns 1 with *s filled, 0 at the end, < 0 an fp_status. */
    fp_status (*open)(fp_ts_reader *r, fp_error *err);
    int (*next)(fp_ts_reader *r, fp_sample *s, fp_error *err);
    /* Optional: once after the first open (dcgmi infers its interval); may rewind and open. */
    fp_status (*prepare)(fp_ts_reader *r, fp_error *err);

    /* Run level: appends every run found at path (all or nothing for a file). */
    fp_status (*load)(const char *path, const fp_load_options *opt, fp_run_list *out,
                      fp_error *err);
} fp_format_ops;

/* The ops of a format value; NULL for FP_FMT_AUTO and values outside the table. */
const fp_format_ops *fp_format_get(fp_format f);

/* Files: every format's sniff_file over the first lines (detect_file.h, fp_detect_file_format).
 * Folders: every format's sniff_dir over the entries; FP_FMT_AUTO when none claims it. */
fp_format fp_sniff_dir(const char *dir);

/* Folder entries (sorted, no hidden names); free with fp_dir_entries_free. */
fp_status fp_dir_list(const char *dir, fp_dir_entries *out, fp_error *err);
void fp_dir_entries_free(fp_dir_entries *d);

/* Sniff helpers: 1 when the line's fields hold name ("power.draw [W]" matches "power.draw"),
 * exactly and case-insensitively for _ci. */
int fp_sniff_has(const fp_sniff *s, const char *name);
int fp_sniff_has_ci(const fp_sniff *s, const char *const *names);

/* The one-run load every time-series format shares (runs_load.c). */
fp_status fp_load_raw(const char *path, fp_format fmt, const fp_load_options *opt, fp_run_list *out,
                      fp_error *err);

/* The formats: one file each, listed in formats.def (formats.c declares and tables them). */

#endif
