/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Format detection for files and folders. Files are classified by content in
 * detect_file.c; folders by the names they hold (manifest.json, the
 * ai-inference-energy naming schemes).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "freqpilot/reader.h"
#include "telemetry/detect_file.h"
#include "telemetry/layouts.h"

static const char *const format_names[FP_FMT_COUNT] = {
    "auto", "smi-csv", "dcgmi", "telemetry", "dataset", "aie-results", "aie-job", "run-table",
};

const char *fp_format_name(fp_format f)
{
    if ((int)f < 0 || f >= FP_FMT_COUNT)
        return "?";
    return format_names[f];
}

int fp_format_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < FP_FMT_COUNT; i++)
        if (strcasecmp(name, format_names[i]) == 0)
            return i;
    /* Common spellings users type. */
    if (strcasecmp(name, "nvidia-smi") == 0 || strcasecmp(name, "smi") == 0)
        return FP_FMT_SMI_CSV;
    if (strcasecmp(name, "dcgm") == 0 || strcasecmp(name, "dmon") == 0)
        return FP_FMT_DCGMI;
    return -1;
}

fp_status fp_detect_format(const char *path, fp_format *out, fp_error *err)
{
    struct stat sb;
    char manifest[4096];
    fp_format f;

    if (!path || !out)
        return fp_error_set(err, FP_ERR_INVALID, "fp_detect_format: no path");
    if (stat(path, &sb) != 0)
        return fp_error_set(err, FP_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return fp_detect_file_format(path, out, err);

    if (snprintf(manifest, sizeof manifest, "%s/manifest.json", path) < (int)sizeof manifest &&
        stat(manifest, &sb) == 0 && S_ISREG(sb.st_mode)) {
        *out = FP_FMT_DATASET;
        return FP_OK;
    }
    f = fp_aie_classify_dir(path);
    if (f != FP_FMT_AUTO) {
        *out = f;
        return FP_OK;
    }
    return fp_error_set(err, FP_ERR_FORMAT,
                        "%s: unknown folder layout (expected a DATASET/ with manifest.json, an "
                        "ai-inference-energy results folder with <ARCH>-<mode>-<APP>-<freq>-<iter> "
                        "profiles and <ARCH>-<mode>-<app>-perf.csv, or a "
                        "results_<gpu>_<app>_job_<id> folder with run_<n>_<rep>_freq_<MHz>_"
                        "profile.csv and timing_summary.log)",
                        path);
}
