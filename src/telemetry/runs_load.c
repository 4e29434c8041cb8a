/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fp_runs_load: every input format becomes a list of runs. This file holds
 * the run list, the flag vocabulary and the dispatch by format; the layouts
 * themselves live in runtable.c, aie.c and dataset.c.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "freqpilot/metrics.h"
#include "freqpilot/run.h"
#include "telemetry/detect_file.h"
#include "telemetry/format.h"
#include "telemetry/layouts.h"
#include "util/grow.h"
#include "util/strtab.h"
#include "util/input.h"

static const char *const flag_names[FP_FLAG_COUNT_] = {
    "clock_not_held",     "throttled",       "counter_mismatch",
    "time_reconstructed", "window_detected", "window_from_timing",
    "window_mismatch",    "no_activity",     "cold_start_dropped",
    "outlier_dropped",    "high_cv",         "drift",
    "not_clock_bound",    "failed",          "energy_from_power",
    "gpu_mismatch",       "empty_window",    "timeout",
    "coarse_timing",      "time_gap",
};

/* flag_bit is the flag's value (FP_FLAG_THROTTLED), not its index. NULL when not one flag. */
const char *fp_flag_name(unsigned flag_bit)
{
    for (int i = 0; i < FP_FLAG_COUNT_; i++)
        if (flag_bit == (1u << i))
            return flag_names[i];
    return NULL;
}

int fp_flags_format(uint32_t flags, char *buf, int size)
{
    int len = 0;
    if (size > 0)
        buf[0] = '\0';
    for (int i = 0; i < FP_FLAG_COUNT_; i++) {
        if (!(flags & (1u << i)))
            continue;
        int n = snprintf(size > len ? buf + len : NULL, size > len ? (size_t)(size - len) : 0,
                         "%s%s", len ? ";" : "", flag_names[i]);
        if (n < 0)
            break;
        len += n;
    }
    return len;
}

void fp_run_init(fp_run *run)
{
    memset(run, 0, sizeof *run);
    run->gpu = run->gpu_name = run->app = run->source = "";
    run->freq_mhz = NAN;
    run->run_index = -1;
    run->repetition = -1;
    run->start_utc = NAN;
    run->time_s = NAN;
    run->energy_j = NAN;
    run->power_w = NAN;
    run->energy_counter_j = NAN;
    run->energy_integral_j = NAN;
    run->sm_clock_mhz = NAN;
    run->gpu_util_pct = NAN;
    run->sm_active = NAN;
    run->dram_active = NAN;
    run->tensor_active = NAN;
    run->fp_active = NAN;
    run->temp_c = NAN;
    run->throttled_frac = NAN;
    run->samples = 0;
    run->flags = 0;
}

void fp_run_buf_init(fp_run_buf *b)
{
    fp_run_init(&b->run);
    b->gpu[0] = b->gpu_name[0] = b->app[0] = b->source[0] = '\0';
    b->run.gpu = b->gpu;
    b->run.gpu_name = b->gpu_name;
    b->run.app = b->app;
    b->run.source = b->source;
}

fp_status fp_run_list_push(fp_run_list *list, const fp_run *run, fp_error *err)
{
    if (FP_GROW(list->items, list->len, list->cap, 64))
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory (%zu runs)", list->len + 1);
    if (!list->strings && !(list->strings = fp_strtab_new()))
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    fp_run r = *run;
    if (!(r.gpu = fp_strtab_intern(list->strings, run->gpu ? run->gpu : "")) ||
        !(r.gpu_name = fp_strtab_intern(list->strings, run->gpu_name ? run->gpu_name : "")) ||
        !(r.app = fp_strtab_intern(list->strings, run->app ? run->app : "")) ||
        !(r.source = fp_strtab_add(list->strings, run->source ? run->source : "")))
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory (%zu runs)", list->len + 1);
    list->items[list->len++] = r;
    return FP_OK;
}

void fp_run_list_free(fp_run_list *list)
{
    free(list->items);
    fp_strtab_free(list->strings);
    list->items = NULL;
    list->strings = NULL;
    list->len = list->cap = 0;
}

void fp_load_options_init(fp_load_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->format = FP_FMT_AUTO;
    opt->ts.interval_s = 0;
    opt->ts.gpu_index = -1;
    opt->ts.diag = NULL;
    opt->counter_tolerance = 0.05;
    opt->clock_tolerance_mhz = 30.0;
    opt->gpu_override = NULL;
    opt->app_override = NULL;
    opt->freq_override_mhz = NAN;
    opt->diag = NULL;
}

void fp_run_set_source(fp_run_buf *b, const char *path, long line)
{
    char tail[32] = "";
    size_t len = strlen(path), room;
    if (line > 0)
        snprintf(tail, sizeof tail, ":%ld", line);
    room = sizeof b->source - 1 - strlen(tail);
    if (len > room) /* the file name matters more than the folders above it */
        snprintf(b->source, sizeof b->source, "...%s%s", path + len - (room - 3), tail);
    else
        snprintf(b->source, sizeof b->source, "%s%s", path, tail);
    b->run.source = b->source;
}

/* fp_gpu_short_name lives in src/gpu/gpu_common.c (one implementation). */

static fp_load_options default_opts(const fp_load_options *opt)
{
    fp_load_options o;
    if (opt)
        return *opt;
    fp_load_options_init(&o);
    return o;
}

fp_status fp_run_from_telemetry(const char *path, fp_format fmt, const fp_metrics_options *mopt,
                                const fp_load_options *opt_in, fp_run_buf *b, fp_error *err)
{
    fp_run *run = &b->run;
    fp_load_options opt = default_opts(opt_in);
    fp_ts_reader *r = NULL;
    fp_ts_options ts = opt.ts;
    fp_window_info win;
    fp_status st;

    if (!ts.diag)
        ts.diag = opt.diag;
    if ((st = fp_ts_open(path, fmt, &ts, &r, err)) != FP_OK)
        return st;
    st = fp_run_metrics(r, mopt, run, &win, err);
    if (st == FP_OK) {
        const fp_ts_info *info = fp_ts_get_info(r);
        if (info->time_reconstructed)
            run->flags |= FP_FLAG_TIME_RECONSTRUCTED;
        if (isnan(run->start_utc) && !isnan(info->start_utc))
            run->start_utc = info->start_utc + (win.start_s > 0 ? win.start_s : 0);
        if (info->gpu_name[0]) {
            char short_name[64];
            fp_gpu_short_name(info->gpu_name, short_name, sizeof short_name);
            if (!run->gpu_name[0]) {
                snprintf(b->gpu_name, sizeof b->gpu_name, "%.63s", info->gpu_name);
                run->gpu_name = b->gpu_name;
            }
            if (!run->gpu[0]) {
                snprintf(b->gpu, sizeof b->gpu, "%s", short_name);
                run->gpu = b->gpu;
            } else if (strcmp(short_name, info->gpu_name) != 0 &&
                       strcasecmp(short_name, run->gpu) != 0)
                run->flags |= FP_FLAG_GPU_MISMATCH; /* a V100 job profiled on an A100 node */
        }
    }
    fp_ts_close(r);
    return st;
}

/* ---- dispatch ---- */

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A single raw telemetry file given alone: one run, detector window. */
fp_status fp_load_raw(const char *path, fp_format fmt, const fp_load_options *opt, fp_run_list *out,
                      fp_error *err)
{
    fp_run_buf rb;
    fp_metrics_options mopt;
    fp_status st;

    fp_run_buf_init(&rb);
    fp_metrics_options_init(&mopt);
    mopt.counter_tolerance = opt->counter_tolerance;
    mopt.clock_tolerance_mhz = opt->clock_tolerance_mhz;
    mopt.requested_mhz = opt->freq_override_mhz;
    if (opt->gpu_override)
        snprintf(rb.gpu, sizeof rb.gpu, "%s", opt->gpu_override);
    if (opt->app_override)
        snprintf(rb.app, sizeof rb.app, "%s", opt->app_override);
    rb.run.freq_mhz = opt->freq_override_mhz;
    fp_run_set_source(&rb, path, 0);
    if ((st = fp_run_from_telemetry(path, fmt, &mopt, opt, &rb, err)) != FP_OK)
        return st;
    /* Nothing names the run: the file's stem is the app, the GPU "unknown" unless the file
     * names its device, the clock the SM clock the GPU ran at — said once, never left empty. */
    if (!rb.app[0] || !rb.gpu[0] || !isfinite(rb.run.freq_mhz)) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (!rb.app[0]) {
            size_t n = strcspn(base, ".");
            snprintf(rb.app, sizeof rb.app, "%.*s", (int)(n ? n : strlen(base)), base);
        }
        if (!rb.gpu[0])
            snprintf(rb.gpu, sizeof rb.gpu, "unknown");
        if (!isfinite(rb.run.freq_mhz) && isfinite(rb.run.sm_clock_mhz))
            rb.run.freq_mhz = round(rb.run.sm_clock_mhz);
        fp_warn(opt->diag,
                "%s: a raw telemetry file given alone is named gpu '%s', app '%s', clock %.0f MHz "
                "(the SM clock reached); --gpu, --app and --freq name it",
                path, rb.gpu, rb.app, rb.run.freq_mhz);
    }
    return fp_run_list_push(out, &rb.run, err);
}

static fp_status load_one(const char *path, fp_format fmt, const fp_load_options *opt,
                          fp_run_list *out, fp_error *err)
{
    const fp_format_ops *ops = fp_format_get(fmt);
    if (!ops)
        return fp_error_set(err, FP_ERR_FORMAT, "%s: unknown input format %d", path, (int)fmt);
    if (ops->load)
        return ops->load(path, opt, out, err);
    if (ops->next)
        return fp_load_raw(path, fmt, opt, out, err);
    return fp_error_set(err, FP_ERR_FORMAT, "%s: %s cannot be loaded as runs", path,
                        ops->description);
}

/* Extensions and names that are never data: skipped silently inside a folder. */
static int looks_like_data(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && (strcasecmp(dot, ".csv") == 0 || strcasecmp(dot, ".tsv") == 0 ||
                strcasecmp(dot, ".dat") == 0 || strcasecmp(dot, ".dmon") == 0))
        return 1;
    return 0;
}

#define MAX_DEPTH 16

static fp_status load_tree(const char *dir, const fp_load_options *opt, fp_run_list *out, int depth,
                           fp_error *err)
{
    fp_dir_entries d;
    fp_status st;

    if (depth > MAX_DEPTH) {
        fp_warn(opt->diag, "%s: folders nested deeper than %d levels are not searched", dir,
                MAX_DEPTH);
        return FP_OK;
    }
    if ((st = fp_dir_list(dir, &d, err)) != FP_OK)
        return st;
    for (size_t i = 0; i < d.n && st == FP_OK; i++) {
        char path[4096];
        fp_format fmt;
        fp_error e;
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s", dir, d.name[i]) >= (int)sizeof path)
            continue;
        if (stat(path, &sb) != 0)
            continue; /* a dangling link: nothing to read */
        if (S_ISDIR(sb.st_mode)) {
            if (fp_detect_format(path, &fmt, &e) == FP_OK)
                st = load_one(path, fmt, opt, out, err);
            else
                st = load_tree(path, opt, out, depth + 1, err);
            continue;
        }
        /* A FIFO, device or socket among the data is refused, never opened. */
        if (!S_ISREG(sb.st_mode)) {
            st = fp_input_check(path, err);
            continue;
        }
        fp_error_clear(&e);
        if (fp_detect_format(path, &fmt, &e) != FP_OK) {
            if (looks_like_data(d.name[i]) || e.code == FP_ERR_PARSE)
                fp_warn(opt->diag, "skipped %s", e.msg);
            continue;
        }
        fp_error_clear(&e);
        if (load_one(path, fmt, opt, out, &e) != FP_OK)
            fp_warn(opt->diag, "skipped %s", e.msg);
    }
    fp_dir_entries_free(&d);
    return st;
}

fp_status fp_runs_load(const char *path, const fp_load_options *opt_in, fp_run_list *out,
                       fp_error *err)
{
    fp_load_options opt = default_opts(opt_in);
    fp_format fmt = opt.format;
    fp_error e;
    fp_status st;

    if (!path || !out)
        return fp_error_set(err, FP_ERR_INVALID, "fp_runs_load: no path or output list");
    if (fmt == FP_FMT_AUTO) {
        fp_error_clear(&e);
        st = fp_detect_format(path, &fmt, &e);
        if (st != FP_OK) {
            /* A folder of folders: search it for layouts and files we know. */
            if (is_dir(path) && e.code == FP_ERR_FORMAT) {
                size_t before = out->len;
                if ((st = load_tree(path, &opt, out, 0, err)) != FP_OK) {
                    out->len = before;
                    return st;
                }
                if (out->len == before)
                    return fp_error_set(
                        err, FP_ERR_FORMAT,
                        "%s: no runs found (expected a DATASET/ with manifest.json, "
                        "an ai-inference-energy results or job folder, per-run "
                        "tables or telemetry files)",
                        path);
                return FP_OK;
            }
            if (err)
                *err = e;
            return st;
        }
    } else if (!is_dir(path) && (st = fp_input_check(path, err)) != FP_OK) {
        return st;
    }
    return load_one(path, fmt, &opt, out, err);
}
