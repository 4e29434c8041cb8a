/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot's own DATASET/ layout: manifest.json + one folder per run with
 * telemetry.csv and run.json (keys documented in include/freqpilot/dataset.h and
 * docs/formats.md). freqpilot writes every file of it atomically, so a damaged run (an
 * unreadable run.json, a value no GPU can have, a successful run without its telemetry) is
 * an error naming the file, never a run quietly left out.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/aggregate.h"
#include "freqpilot/dataset.h"
#include "telemetry/format.h"
#include "telemetry/layouts.h"
#include "util/input.h"
#include "util/output.h"

void fp_dataset_manifest_init(fp_dataset_manifest *m)
{
    memset(m, 0, sizeof *m);
    m->created_utc = NAN;
    m->runs_per_clock = -1;
    m->warmup_runs = -1;
}

void fp_run_record_init(fp_run_record *r)
{
    memset(r, 0, sizeof *r);
    r->requested_clock_mhz = NAN;
    r->achieved_clock_mhz = NAN;
    r->repetition = -1;
    r->sweep_position = -1;
    r->start_monotonic_s = r->end_monotonic_s = NAN;
    r->start_utc_s = r->end_utc_s = NAN;
    r->wall_time_s = NAN;
    r->window_start_s = r->window_end_s = NAN;
    snprintf(r->window_source, sizeof r->window_source, "none");
    snprintf(r->telemetry, sizeof r->telemetry, "telemetry.csv");
}

/* ---- JSON helpers ---- */

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void iso_utc(double epoch, char *buf, size_t size)
{
    time_t t = (time_t)floor(epoch);
    struct tm tm;
    int ms = (int)lround((epoch - floor(epoch)) * 1000.0);
    if (ms >= 1000) {
        t += 1;
        ms -= 1000;
    }
    gmtime_r(&t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static json_t *time_or_null(double epoch)
{
    char buf[64];
    if (!isfinite(epoch))
        return json_null();
    iso_utc(epoch, buf, sizeof buf);
    return json_string(buf);
}

static double parse_iso(const char *s)
{
    int Y, M, D, h, m;
    double sec;
    struct tm tm;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf", &Y, &M, &D, &h, &m, &sec) != 6)
        return NAN;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    return (double)timegm(&tm) + sec;
}

/* Manifests and run records: every member in its order, doubles to the last digit. */
static fp_status write_json(const char *path, json_t *root, fp_error *err)
{
    return fp_json_write_atomic(
        path, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17), err);
}

static fp_status mkdir_p(const char *path, fp_error *err)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof buf)
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return fp_error_set(err, FP_ERR_IO, "%s: cannot create folder: %s", buf,
                                strerror(errno));
        buf[i] = c;
    }
    return FP_OK;
}

static json_t *manifest_json(const fp_dataset_manifest *m)
{
    json_t *root = json_object(), *gpu = json_object(), *clocks = json_array();
    if (!root || !gpu || !clocks) {
        json_decref(root);
        json_decref(gpu);
        json_decref(clocks);
        return NULL;
    }
    json_object_set_new(gpu, "name", json_string(m->gpu_name));
    json_object_set_new(gpu, "short", json_string(m->gpu_short));
    json_object_set_new(gpu, "uuid", json_string(m->gpu_uuid));
    json_object_set_new(gpu, "driver", json_string(m->driver));
    if (m->mig[0])
        json_object_set_new(gpu, "mig", json_string(m->mig));
    for (size_t i = 0; i < m->n_clocks && i < FP_DATASET_MAX_CLOCKS; i++)
        json_array_append_new(clocks, num_or_null(m->clocks_mhz[i]));
    json_object_set_new(root, "format", json_string(FP_DATASET_FORMAT));
    json_object_set_new(root, "format_version", json_integer(FP_DATASET_FORMAT_VERSION));
    json_object_set_new(root, "gpu", gpu);
    json_object_set_new(root, "app", json_string(m->app));
    json_object_set_new(root, "command", json_string(m->command));
    if (m->simulated)
        json_object_set_new(root, "simulated", json_true());
    json_object_set_new(root, "clocks_mhz", clocks);
    json_object_set_new(root, "runs_per_clock",
                        m->runs_per_clock >= 0 ? json_integer(m->runs_per_clock) : json_null());
    json_object_set_new(root, "warmup_runs",
                        m->warmup_runs >= 0 ? json_integer(m->warmup_runs) : json_null());
    json_object_set_new(root, "order", json_string(m->order));
    json_object_set_new(root, "seed", json_integer((json_int_t)m->seed));
    json_object_set_new(root, "tool_version", json_string(m->tool_version));
    json_object_set_new(root, "created_utc", time_or_null(m->created_utc));
    return root;
}

fp_status fp_dataset_write_manifest(const char *dataset_dir, const fp_dataset_manifest *m,
                                    fp_error *err)
{
    char path[4096];
    fp_status st;
    if ((st = mkdir_p(dataset_dir, err)) != FP_OK)
        return st;
    if (snprintf(path, sizeof path, "%s/manifest.json", dataset_dir) >= (int)sizeof path)
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", dataset_dir);
    return write_json(path, manifest_json(m), err);
}

fp_status fp_dataset_create_manifest(const char *dataset_dir, const fp_dataset_manifest *m,
                                     int *created, fp_error *err)
{
    char path[4096], tmp[4200], host[64] = "host";
    fp_status st;
    *created = 0;
    if ((st = mkdir_p(dataset_dir, err)) != FP_OK)
        return st;
    if (snprintf(path, sizeof path, "%s/manifest.json", dataset_dir) >= (int)sizeof path)
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", dataset_dir);
    if (access(path, F_OK) == 0)
        return FP_OK;
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    /* A complete file under a private name, then link(2): atomic, never replaces. */
    snprintf(tmp, sizeof tmp, "%s/.manifest.%s.%ld.json", dataset_dir, host, (long)getpid());
    if ((st = write_json(tmp, manifest_json(m), err)) != FP_OK)
        return st;
    if (link(tmp, path) == 0) {
        *created = 1;
    } else if (errno != EEXIST) {
        int e = errno;
        unlink(tmp);
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    unlink(tmp);
    return FP_OK;
}

static int differs(const char *a, const char *b)
{
    return a[0] && b[0] && strcmp(a, b) != 0;
}

const char *fp_dataset_gpu_mismatch(const fp_dataset_manifest *m, const fp_run_record *r, char *why,
                                    size_t why_size)
{
    const char *what = NULL, *have = "", *want = "";
    if (differs(r->gpu_name, m->gpu_name)) {
        what = "GPU model";
        have = r->gpu_name;
        want = m->gpu_name;
    } else if (differs(r->driver, m->driver)) {
        what = "driver";
        have = r->driver;
        want = m->driver;
    } else if (differs(r->mig, m->mig)) {
        what = "MIG mode";
        have = r->mig;
        want = m->mig;
    }
    if (what && why && why_size)
        snprintf(why, why_size, "%s: run has %s, dataset has %s", what, have, want);
    return what;
}

fp_status fp_dataset_write_run_json(const char *path, const fp_run_record *r, fp_error *err)
{
    json_t *root = json_object();
    if (!root)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    json_object_set_new(root, "gpu", json_string(r->gpu));
    json_object_set_new(root, "app", json_string(r->app));
    json_object_set_new(root, "requested_clock_mhz", num_or_null(r->requested_clock_mhz));
    json_object_set_new(root, "achieved_clock_mhz", num_or_null(r->achieved_clock_mhz));
    json_object_set_new(root, "repetition",
                        r->repetition >= 0 ? json_integer(r->repetition) : json_null());
    json_object_set_new(root, "warmup", json_boolean(r->warmup));
    json_object_set_new(root, "sweep_position",
                        r->sweep_position >= 0 ? json_integer(r->sweep_position) : json_null());
    json_object_set_new(root, "start_monotonic_s", num_or_null(r->start_monotonic_s));
    json_object_set_new(root, "end_monotonic_s", num_or_null(r->end_monotonic_s));
    json_object_set_new(root, "start_utc", time_or_null(r->start_utc_s));
    json_object_set_new(root, "end_utc", time_or_null(r->end_utc_s));
    json_object_set_new(root, "start_utc_s", num_or_null(r->start_utc_s));
    json_object_set_new(root, "end_utc_s", num_or_null(r->end_utc_s));
    json_object_set_new(root, "wall_time_s", num_or_null(r->wall_time_s));
    json_object_set_new(root, "window_start_s", num_or_null(r->window_start_s));
    json_object_set_new(root, "window_end_s", num_or_null(r->window_end_s));
    json_object_set_new(root, "window_source", json_string(r->window_source));
    json_object_set_new(root, "exit_status", json_integer(r->exit_status));
    if (r->window_error[0])
        json_object_set_new(root, "window_error", json_string(r->window_error));
    json_object_set_new(root, "telemetry", json_string(r->telemetry));
    if (r->gpu_name[0])
        json_object_set_new(root, "gpu_name", json_string(r->gpu_name));
    if (r->gpu_uuid[0])
        json_object_set_new(root, "gpu_uuid", json_string(r->gpu_uuid));
    if (r->driver[0])
        json_object_set_new(root, "driver", json_string(r->driver));
    if (r->mig[0])
        json_object_set_new(root, "mig", json_string(r->mig));
    if (r->host[0])
        json_object_set_new(root, "host", json_string(r->host));
    return write_json(path, root, err);
}

/* ---- reading ---- */

static json_t *load_json(const char *path, fp_error *err)
{
    json_t *root = fp_json_load_input(path, 0, err);
    if (!root)
        return NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        fp_error_at(err, FP_ERR_PARSE, path, 1, "expected a JSON object");
        return NULL;
    }
    return root;
}

/* Number (or null/absent -> NAN); a value of another type is an error. */
static int get_num(json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    *out = NAN;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 0;
}

/* Whole number in [lo, hi] (or null/absent -> dflt); anything else is an error. */
static int get_int(json_t *o, const char *key, double lo, double hi, long dflt, long *out)
{
    double v;
    *out = dflt;
    if (get_num(o, key, &v))
        return -1;
    if (isnan(v))
        return 0;
    if (!(v >= lo && v <= hi && v == floor(v)))
        return -1;
    *out = (long)v;
    return 0;
}

static int get_str(json_t *o, const char *key, char *buf, size_t size)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    snprintf(buf, size, "%s", json_string_value(v));
    return 0;
}

#define BAD_KEY(path, key, what)                                                                   \
    fp_error_at(err, FP_ERR_PARSE, path, 0, "key \"%s\": expected %s", key, what)

fp_status fp_dataset_read_manifest(const char *path, fp_dataset_manifest *m, fp_error *err)
{
    json_t *root = load_json(path, err), *gpu, *clocks;
    char fmt[64] = "", created[64] = "";
    double v;
    long iv;
    fp_status st = FP_OK;
    if (!root)
        return FP_ERR_PARSE;
    fp_dataset_manifest_init(m);
    if (get_str(root, "format", fmt, sizeof fmt) || strcmp(fmt, FP_DATASET_FORMAT) != 0) {
        st = BAD_KEY(path, "format", "\"" FP_DATASET_FORMAT "\"");
        goto out;
    }
    if (get_num(root, "format_version", &v) || !(v >= 1 && v <= FP_DATASET_FORMAT_VERSION)) {
        st = BAD_KEY(path, "format_version", "1");
        goto out;
    }
    gpu = json_object_get(root, "gpu");
    if (gpu && json_is_object(gpu)) {
        if (get_str(gpu, "name", m->gpu_name, sizeof m->gpu_name) ||
            get_str(gpu, "short", m->gpu_short, sizeof m->gpu_short) ||
            get_str(gpu, "uuid", m->gpu_uuid, sizeof m->gpu_uuid) ||
            get_str(gpu, "driver", m->driver, sizeof m->driver) ||
            get_str(gpu, "mig", m->mig, sizeof m->mig)) {
            st = BAD_KEY(path, "gpu", "strings name, short, uuid, driver, mig");
            goto out;
        }
    }
    if (get_str(root, "app", m->app, sizeof m->app) ||
        get_str(root, "command", m->command, sizeof m->command) ||
        get_str(root, "order", m->order, sizeof m->order) ||
        get_str(root, "tool_version", m->tool_version, sizeof m->tool_version) ||
        get_str(root, "created_utc", created, sizeof created)) {
        st = BAD_KEY(path, "app/command/order/tool_version/created_utc", "strings");
        goto out;
    }
    m->created_utc = created[0] ? parse_iso(created) : NAN;
    m->simulated = json_is_true(json_object_get(root, "simulated"));
    clocks = json_object_get(root, "clocks_mhz");
    if (clocks) {
        size_t i;
        json_t *c;
        if (!json_is_array(clocks)) {
            st = BAD_KEY(path, "clocks_mhz", "an array of numbers");
            goto out;
        }
        json_array_foreach(clocks, i, c)
        {
            if (!json_is_number(c) || i >= FP_DATASET_MAX_CLOCKS ||
                !(json_number_value(c) > 0 && json_number_value(c) <= FP_DATASET_MHZ_MAX)) {
                st = BAD_KEY(path, "clocks_mhz", "an array of at most 512 clocks of 1..10000 MHz");
                goto out;
            }
            m->clocks_mhz[m->n_clocks++] = json_number_value(c);
        }
    }
    if (get_int(root, "runs_per_clock", 0, 1e6, -1, &iv)) {
        st = BAD_KEY(path, "runs_per_clock", "an integer");
        goto out;
    }
    m->runs_per_clock = (int)iv;
    if (get_int(root, "warmup_runs", 0, 1e6, -1, &iv)) {
        st = BAD_KEY(path, "warmup_runs", "an integer");
        goto out;
    }
    m->warmup_runs = (int)iv;
    if (get_num(root, "seed", &v)) {
        st = BAD_KEY(path, "seed", "an integer");
        goto out;
    }
    {
        json_t *s = json_object_get(root, "seed");
        m->seed = json_is_integer(s) ? (unsigned long long)json_integer_value(s) : 0;
    }
out:
    json_decref(root);
    return st;
}

fp_status fp_dataset_read_run_json(const char *path, fp_run_record *r, fp_error *err)
{
    static const char *const num_keys[] = {
        "requested_clock_mhz", "achieved_clock_mhz", "start_monotonic_s",
        "end_monotonic_s",     "start_utc_s",        "end_utc_s",
        "wall_time_s",         "window_start_s",     "window_end_s",
    };
    json_t *root = load_json(path, err);
    double *dst[9];
    long iv;
    fp_status st = FP_OK;
    if (!root)
        return FP_ERR_PARSE;
    fp_run_record_init(r);
    dst[0] = &r->requested_clock_mhz;
    dst[1] = &r->achieved_clock_mhz;
    dst[2] = &r->start_monotonic_s;
    dst[3] = &r->end_monotonic_s;
    dst[4] = &r->start_utc_s;
    dst[5] = &r->end_utc_s;
    dst[6] = &r->wall_time_s;
    dst[7] = &r->window_start_s;
    dst[8] = &r->window_end_s;
    for (int i = 0; i < 9; i++) {
        if (get_num(root, num_keys[i], dst[i])) {
            st = BAD_KEY(path, num_keys[i], "a number or null");
            goto out;
        }
    }
    if (get_str(root, "gpu", r->gpu, sizeof r->gpu) ||
        get_str(root, "app", r->app, sizeof r->app) ||
        get_str(root, "window_source", r->window_source, sizeof r->window_source) ||
        get_str(root, "telemetry", r->telemetry, sizeof r->telemetry) ||
        get_str(root, "gpu_name", r->gpu_name, sizeof r->gpu_name) ||
        get_str(root, "gpu_uuid", r->gpu_uuid, sizeof r->gpu_uuid) ||
        get_str(root, "driver", r->driver, sizeof r->driver) ||
        get_str(root, "mig", r->mig, sizeof r->mig) ||
        get_str(root, "host", r->host, sizeof r->host) ||
        get_str(root, "window_error", r->window_error, sizeof r->window_error)) {
        st = BAD_KEY(path,
                     "gpu/app/window_source/telemetry/gpu_name/gpu_uuid/driver/mig/host/"
                     "window_error",
                     "strings");
        goto out;
    }
    {
        /* What no run can have (docs/formats.md, "Impossible values"). */
        static const struct {
            int idx;
            double lo, hi;
            const char *what;
        } lim[] = {
            {0, 1, FP_DATASET_MHZ_MAX, "a clock of 1..10000 MHz or null"},
            {1, 0, FP_DATASET_MHZ_MAX, "a clock of 0..10000 MHz or null"},
            {6, 0, 1e7, "seconds, 0..1e7, or null"},
        };
        for (size_t k = 0; k < sizeof lim / sizeof *lim; k++) {
            double v = *dst[lim[k].idx];
            if (!isnan(v) && !(v >= lim[k].lo && v <= lim[k].hi)) {
                st = fp_error_at(err, FP_ERR_PARSE, path, 0,
                                 "key \"%s\": %.10g is impossible (expected %s)",
                                 num_keys[lim[k].idx], v, lim[k].what);
                goto out;
            }
        }
        /* start/end pairs: the end never before the start. */
        static const int pair[] = {2, 4, 7};
        for (size_t j = 0; j < sizeof pair / sizeof *pair; j++) {
            int k = pair[j];
            if (*dst[k + 1] < *dst[k]) {
                st = fp_error_at(err, FP_ERR_PARSE, path, 0,
                                 "key \"%s\" (%.10g) is before \"%s\" (%.10g): expected the "
                                 "end after the start",
                                 num_keys[k + 1], *dst[k + 1], num_keys[k], *dst[k]);
                goto out;
            }
        }
    }
    if (isnan(r->start_utc_s)) {
        char s[64] = "";
        if (get_str(root, "start_utc", s, sizeof s) == 0 && s[0])
            r->start_utc_s = parse_iso(s);
    }
    if (get_int(root, "repetition", 0, 1e6, -1, &iv)) {
        st = BAD_KEY(path, "repetition", "an integer");
        goto out;
    }
    r->repetition = (int)iv;
    if (get_int(root, "sweep_position", 0, 1e15, -1, &iv)) {
        st = BAD_KEY(path, "sweep_position", "an integer");
        goto out;
    }
    r->sweep_position = iv;
    if (get_int(root, "exit_status", -1e6, 1e6, 0, &iv)) {
        st = BAD_KEY(path, "exit_status", "an integer");
        goto out;
    }
    r->exit_status = (int)iv;
    {
        json_t *w = json_object_get(root, "warmup");
        if (w && !json_is_boolean(w) && !json_is_null(w)) {
            st = BAD_KEY(path, "warmup", "true or false");
            goto out;
        }
        r->warmup = w && json_is_true(w);
    }
    if (!strchr(r->telemetry, '/') && r->telemetry[0] == '\0')
        snprintf(r->telemetry, sizeof r->telemetry, "telemetry.csv");
    if (strchr(r->telemetry, '/') || strcmp(r->telemetry, "..") == 0) {
        st = BAD_KEY(path, "telemetry", "a file name in the run folder");
        goto out;
    }
out:
    json_decref(root);
    return st;
}

fp_status fp_dataset_run_dir(char *buf, size_t size, const char *dataset_dir,
                             const fp_run_record *r, int create, fp_error *err)
{
    int n = snprintf(buf, size, "%s/%s/%s/%.0f/%s%d", dataset_dir, r->gpu, r->app,
                     r->requested_clock_mhz, r->warmup ? "w" : "", r->repetition);
    if (n < 0 || (size_t)n >= size)
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", dataset_dir);
    if (!r->gpu[0] || !r->app[0] || strchr(r->gpu, '/') || strchr(r->app, '/') ||
        !isfinite(r->requested_clock_mhz))
        return fp_error_set(err, FP_ERR_INVALID,
                            "run record needs gpu, app (without '/') and requested_clock_mhz");
    return create ? mkdir_p(buf, err) : FP_OK;
}

/* ---- loader ---- */

static fp_status load_run_dir(const char *dir, const fp_dataset_manifest *man,
                              const fp_load_options *opt, fp_run_list *out, fp_error *err)
{
    char path[4096];
    fp_run_record rec;
    fp_run_buf rb;
    fp_metrics_options m;
    fp_status st;
    const fp_diag *diag = opt ? opt->diag : NULL;

    snprintf(path, sizeof path, "%s/run.json", dir);
    if ((st = fp_dataset_read_run_json(path, &rec, err)) != FP_OK)
        return st;
    if (rec.warmup)
        return FP_OK; /* discarded by design */
    {
        /* Heterogeneity is refused, not averaged (docs/cluster.md). */
        char why[512];
        if (fp_dataset_gpu_mismatch(man, &rec, why, sizeof why)) {
            fp_warn(diag,
                    "skipped %s: gpu_mismatch: measured on a different GPU than the dataset's "
                    "manifest (%s%s%s)",
                    dir, why, rec.host[0] ? "; host " : "", rec.host);
            return FP_OK;
        }
    }
    if (isnan(rec.requested_clock_mhz))
        return fp_error_at(err, FP_ERR_PARSE, path, 0,
                           "key \"requested_clock_mhz\": expected the clock of the run, found "
                           "null");
    fp_run_buf_init(&rb);
    snprintf(rb.gpu, sizeof rb.gpu, "%s", rec.gpu[0] ? rec.gpu : man->gpu_short);
    snprintf(rb.gpu_name, sizeof rb.gpu_name, "%.63s", man->gpu_name);
    /* The label follows the data: a simulated dataset's runs say so in their device name. */
    if (man->simulated && !fp_gpu_name_simulated(rb.gpu_name)) {
        size_t l = strnlen(rb.gpu_name, sizeof rb.gpu_name - 13);
        snprintf(rb.gpu_name + l, sizeof rb.gpu_name - l, " (simulated)");
    }
    snprintf(rb.app, sizeof rb.app, "%s", rec.app[0] ? rec.app : man->app);
    rb.run.freq_mhz = rec.requested_clock_mhz;
    rb.run.run_index = rec.sweep_position;
    rb.run.repetition = rec.repetition;
    rb.run.start_utc = rec.start_utc_s;
    if (fp_run_record_failed(&rec))
        rb.run.flags |= FP_FLAG_FAILED;
    if (rec.window_error[0])
        fp_warn(diag, "%s: %s; the run is dropped", dir, rec.window_error);
    if (rec.exit_status == 124)
        rb.run.flags |= FP_FLAG_TIMEOUT;
    snprintf(path, sizeof path, "%s/%s", dir, rec.telemetry);
    fp_run_set_source(&rb, path, 0);
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        /* A failed run may have no telemetry: it is dropped as failed. A successful one must. */
        if (fp_run_record_failed(&rec))
            return fp_run_list_push(out, &rb.run, err);
        return fp_error_set(err, FP_ERR_PARSE,
                            "%s/run.json: the run succeeded (exit_status 0) but its telemetry %s "
                            "is missing: expected both files (remove the run folder, or run "
                            "'freqpilot profile --resume' to measure it again)",
                            dir, rec.telemetry);
    }
    fp_metrics_options_init(&m);
    m.requested_mhz = rec.requested_clock_mhz;
    m.window_start_s = rec.window_start_s;
    m.window_end_s = rec.window_end_s;
    if (opt) {
        m.counter_tolerance = opt->counter_tolerance;
        m.clock_tolerance_mhz = opt->clock_tolerance_mhz;
    }
    if ((st = fp_run_from_telemetry(path, FP_FMT_TELEMETRY, &m, opt, &rb, err)) != FP_OK)
        return st;
    /* Without an SM clock column, the clock read back at run time is the evidence. */
    if (isnan(rb.run.sm_clock_mhz) && isfinite(rec.achieved_clock_mhz)) {
        rb.run.sm_clock_mhz = rec.achieved_clock_mhz;
        if (isfinite(rec.requested_clock_mhz) && opt &&
            fabs(rec.achieved_clock_mhz - rec.requested_clock_mhz) > opt->clock_tolerance_mhz)
            rb.run.flags |= FP_FLAG_CLOCK_NOT_HELD;
    }
    return fp_run_list_push(out, &rb.run, err);
}

static fp_status walk(const char *dir, int depth, const fp_dataset_manifest *man,
                      const fp_load_options *opt, fp_run_list *out, fp_error *err)
{
    char path[4096];
    fp_dir_entries d;
    fp_status st;
    struct stat sb;

    snprintf(path, sizeof path, "%s/run.json", dir);
    if (depth > 0 && lstat(path, &sb) == 0)
        return load_run_dir(dir, man, opt, out, err);
    if (depth >= 5)
        return FP_OK;
    if ((st = fp_dir_list(dir, &d, err)) != FP_OK)
        return st;
    for (size_t i = 0; i < d.n && st == FP_OK; i++) {
        if (snprintf(path, sizeof path, "%s/%s", dir, d.name[i]) >= (int)sizeof path ||
            stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            st = walk(path, depth + 1, man, opt, out, err);
        else if (!S_ISREG(sb.st_mode))
            st = fp_input_check(path, err); /* a FIFO, device or socket: refused, not opened */
    }
    fp_dir_entries_free(&d);
    return st;
}

fp_status fp_dataset_load(const char *dir, const fp_load_options *opt, fp_run_list *out,
                          fp_error *err)
{
    char path[4096];
    fp_dataset_manifest *man;
    fp_status st;
    size_t before = out->len;

    if (snprintf(path, sizeof path, "%s/manifest.json", dir) >= (int)sizeof path)
        return fp_error_set(err, FP_ERR_INVALID, "%s: path too long", dir);
    if (!(man = malloc(sizeof *man)))
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    if ((st = fp_dataset_read_manifest(path, man, err)) == FP_OK) {
        if (!man->gpu_short[0] && man->gpu_name[0])
            fp_gpu_short_name(man->gpu_name, man->gpu_short, sizeof man->gpu_short);
        st = walk(dir, 0, man, opt, out, err);
    }
    free(man);
    if (st == FP_OK && out->len == before)
        st =
            fp_error_set(err, FP_ERR_FORMAT,
                         "%s: no runs found (expected <gpu>/<app>/<freq_mhz>/<run>/run.json)", dir);
    return st;
}

/* manifest.json in the folder. */
static int dataset_sniff(const fp_dir_entries *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->name[i], "manifest.json") == 0)
            return FP_SNIFF_SURE;
    return FP_SNIFF_NO;
}

const fp_format_ops fp_format_dataset = {
    .name = "dataset",
    .aliases = {"freqpilot-dataset", NULL},
    .description = "a freqpilot DATASET/",
    .sniff_dir = dataset_sniff,
    .load = fp_dataset_load,
};
