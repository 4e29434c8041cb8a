/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sweep runner (sweep.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/clockctl.h"
#include "freqpilot/clockguard.h"
#include "freqpilot/dataset.h"
#include "freqpilot/telemetry_io.h"
#include "freqpilot/version.h"
#include "profile/dcgmi_sampler.h"
#include "profile/sampler.h"
#include "freqpilot/sweep.h"
#include "profile/workload.h"
#include "util/asuser.h"
#include "util/output.h"

/* Idle sampled around a simulated run, like the few samples around a real process. */
#define SIM_IDLE_BEFORE_S 0.5
#define SIM_IDLE_AFTER_S 0.5

int fp_sweep_order_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcasecmp(name, "random") == 0)
        return FP_ORDER_RANDOM;
    if (strcasecmp(name, "interleaved") == 0)
        return FP_ORDER_INTERLEAVED;
    if (strcasecmp(name, "descending") == 0)
        return FP_ORDER_DESCENDING;
    return -1;
}

const char *fp_sweep_order_name(fp_sweep_order o)
{
    switch (o) {
    case FP_ORDER_INTERLEAVED:
        return "interleaved";
    case FP_ORDER_DESCENDING:
        return "descending";
    default:
        return "random";
    }
}

void fp_sweep_opts_init(fp_sweep_opts *o)
{
    memset(o, 0, sizeof *o);
    o->runs = 3;
    o->warmup = 1;
    o->interval_s = 0.05;
    o->order = FP_ORDER_RANDOM;
    o->seed = 1;
    o->baseline_every = 10;
    o->task_id = -1;
    o->clocks_per_task = 1;
}

/* ---- clocks and plan ---- */

static int cmp_desc(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int add_clock(unsigned *out, size_t max, size_t *n, unsigned c)
{
    for (size_t i = 0; i < *n; i++)
        if (out[i] == c)
            return 0;
    if (*n >= max)
        return -1;
    out[(*n)++] = c;
    return 0;
}

static int parse_num(const char *s, size_t len, double *v)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    *v = strtod(buf, &end);
    return *end || errno || !isfinite(*v) || *v < 0 ? -1 : 0;
}

fp_status fp_sweep_parse_clocks(const char *spec, const fp_gpu_info *info, unsigned *out,
                                size_t max, size_t *n, fp_error *err)
{
    *n = 0;
    if (!info->n_graphics_clocks)
        return fp_error_set(err, FP_ERR_UNSUPPORTED, "%s: the supported clocks cannot be read",
                            info->name);
    if (!spec || !*spec || strcasecmp(spec, "all") == 0) {
        for (unsigned i = 0; i < info->n_graphics_clocks; i++)
            if (add_clock(out, max, n, info->graphics_clocks_mhz[i]))
                return fp_error_set(err, FP_ERR_INVALID, "more than %zu clocks", max);
    } else if (strchr(spec, ':')) {
        double a[3] = {0, 0, 0};
        int k = 0;
        const char *p = spec;
        while (k < 3) {
            const char *e = strchr(p, ':');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (parse_num(p, len, &a[k]))
                goto bad;
            k++;
            if (!e)
                break;
            p = e + 1;
        }
        if (k < 2 || (k == 3 && strchr(p, ':')))
            goto bad;
        double lo = fmin(a[0], a[1]), hi = fmax(a[0], a[1]), step = a[2];
        if (step > 0) {
            for (double f = hi; f >= lo - 1e-9; f -= step)
                if (add_clock(out, max, n, fp_gpu_snap_clock(info, f)))
                    return fp_error_set(err, FP_ERR_INVALID, "more than %zu clocks", max);
        } else {
            for (unsigned i = 0; i < info->n_graphics_clocks; i++) {
                unsigned c = info->graphics_clocks_mhz[i];
                if (c >= lo && c <= hi && add_clock(out, max, n, c))
                    return fp_error_set(err, FP_ERR_INVALID, "more than %zu clocks", max);
            }
            if (!*n)
                add_clock(out, max, n, fp_gpu_snap_clock(info, (lo + hi) / 2));
        }
    } else {
        const char *p = spec;
        for (;;) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            double v;
            if (parse_num(p, len, &v))
                goto bad;
            if (add_clock(out, max, n, fp_gpu_snap_clock(info, v)))
                return fp_error_set(err, FP_ERR_INVALID, "more than %zu clocks", max);
            if (!e)
                break;
            p = e + 1;
        }
    }
    qsort(out, *n, sizeof *out, cmp_desc);
    return FP_OK;
bad:
    return fp_error_set(err, FP_ERR_INVALID,
                        "--clocks %s: expected all, a list (1410,1200) or MIN:MAX[:STEP] in MHz",
                        spec);
}

/* splitmix64: a small, well-mixed generator for the shuffle. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

fp_status fp_sweep_plan(const unsigned *clocks, size_t n_clocks, int runs, int warmup,
                        fp_sweep_order order, uint64_t seed, int baseline_every,
                        fp_sweep_item **items, size_t *n_items, fp_error *err)
{
    *items = NULL;
    *n_items = 0;
    if (!n_clocks || runs < 1 || warmup < 0)
        return fp_error_set(err, FP_ERR_INVALID, "empty sweep (clocks %zu, runs %d)", n_clocks,
                            runs);
    size_t measured = n_clocks * (size_t)runs;
    size_t extra = order == FP_ORDER_RANDOM && baseline_every > 0 && n_clocks > 1
                       ? measured / (size_t)baseline_every + 1
                       : 0;
    size_t cap = measured + n_clocks * (size_t)warmup + extra;
    fp_sweep_item *m = calloc(measured, sizeof *m);
    fp_sweep_item *v = calloc(cap, sizeof *v);
    char *warmed = calloc(n_clocks, 1);
    if (!m || !v || !warmed) {
        free(m);
        free(v);
        free(warmed);
        return fp_error_set(err, FP_ERR_NOMEM, "sweep plan: out of memory");
    }
    /* Measured runs: descending = clock by clock; interleaved and random = round by round. */
    size_t k = 0;
    if (order == FP_ORDER_DESCENDING) {
        for (size_t c = 0; c < n_clocks; c++)
            for (int r = 1; r <= runs; r++)
                m[k++] = (fp_sweep_item){clocks[c], r, 0, 0};
    } else {
        for (int r = 1; r <= runs; r++)
            for (size_t c = 0; c < n_clocks; c++)
                m[k++] = (fp_sweep_item){clocks[c], r, 0, 0};
    }
    unsigned base = clocks[0];
    for (size_t c = 1; c < n_clocks; c++)
        if (clocks[c] > base)
            base = clocks[c];
    if (order == FP_ORDER_RANDOM) {
        uint64_t s = seed;
        for (size_t i = measured; i > 1; i--) {
            size_t j = (size_t)(next_rand(&s) % i);
            fp_sweep_item t = m[i - 1];
            m[i - 1] = m[j];
            m[j] = t;
        }
        /* Repetition numbers follow the order in which a clock's runs happen. */
        int *seen = calloc(n_clocks, sizeof *seen);
        if (!seen) {
            free(m);
            free(v);
            free(warmed);
            return fp_error_set(err, FP_ERR_NOMEM, "sweep plan: out of memory");
        }
        for (size_t i = 0; i < measured; i++)
            for (size_t c = 0; c < n_clocks; c++)
                if (clocks[c] == m[i].clock_mhz)
                    m[i].repetition = ++seen[c];
        free(seen);
    }
    size_t nv = 0;
    if (order == FP_ORDER_INTERLEAVED) {
        for (size_t c = 0; c < n_clocks; c++)
            for (int w = 1; w <= warmup; w++)
                v[nv++] = (fp_sweep_item){clocks[c], w, 1, 0};
        memset(warmed, 1, n_clocks);
    }
    int base_reps = runs;
    size_t since_base = 0;
    for (size_t i = 0; i < measured; i++) {
        size_t c = 0;
        while (clocks[c] != m[i].clock_mhz)
            c++;
        if (!warmed[c]) {
            for (int w = 1; w <= warmup; w++)
                v[nv++] = (fp_sweep_item){clocks[c], w, 1, 0};
            warmed[c] = 1;
        }
        v[nv++] = m[i];
        since_base = m[i].clock_mhz == base ? 0 : since_base + 1;
        if (extra && since_base >= (size_t)baseline_every && i + 1 < measured && nv < cap) {
            v[nv++] = (fp_sweep_item){base, ++base_reps, 0, 1};
            since_base = 0;
        }
    }
    free(m);
    free(warmed);
    *items = v;
    *n_items = nv;
    return FP_OK;
}

/* ---- dataset files ---- */

static double utc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static fp_status check_manifest(const char *path, const fp_dataset_manifest *want, int force,
                                int by_model, fp_error *err)
{
    fp_dataset_manifest have;
    fp_status st = fp_dataset_read_manifest(path, &have, err);
    if (st)
        return st;
    const char *what = NULL;
    if (strcmp(have.app, want->app) != 0)
        what = "app";
    else if (by_model) {
        /* A task on another node: same model, driver and MIG mode, or refused (no --force). */
        const char *hw = NULL;
        char why[400] = "";
        if (strcmp(have.gpu_name, want->gpu_name) != 0) {
            hw = "GPU model";
            snprintf(why, sizeof why, "this node has %s, the dataset %s", want->gpu_name,
                     have.gpu_name);
        } else if (have.driver[0] && strcmp(have.driver, want->driver) != 0) {
            hw = "driver";
            snprintf(why, sizeof why, "this node has %s, the dataset %s", want->driver,
                     have.driver);
        } else if (have.mig[0] && strcmp(have.mig, want->mig) != 0) {
            hw = "MIG mode";
            snprintf(why, sizeof why, "this node has MIG %s, the dataset %s", want->mig, have.mig);
        }
        if (hw)
            return fp_error_set(err, FP_ERR_INVALID,
                                "%s: heterogeneous GPUs refused: %s differs (%s); run this "
                                "sweep on nodes of one type (--partition/--constraint) or use "
                                "another --out",
                                path, hw, why);
    } else if (strcmp(have.gpu_uuid, want->gpu_uuid) != 0)
        what = "GPU";
    else if (have.n_clocks != want->n_clocks)
        what = "clocks";
    else if (have.runs_per_clock != want->runs_per_clock || have.warmup_runs != want->warmup_runs)
        what = "runs";
    else if (strcmp(have.order, want->order) != 0 || have.seed != want->seed)
        what = "order/seed";
    for (size_t i = 0; !what && i < have.n_clocks; i++)
        if (have.clocks_mhz[i] != want->clocks_mhz[i])
            what = "clocks";
    if (what && !force)
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: this dataset holds a different sweep (%s differ); use another "
                            "--out, or --force to add to it",
                            path, what);
    return FP_OK;
}

/*
 * run.json through the dataset writer, then freqpilot's extra keys added; every file under a
 * fresh name (mkstemp / fp_atomic_open), never a fixed temporary name a link could sit on.
 */
static fp_status write_run_json(const char *dir, const fp_run_record *rec, json_t *extra,
                                fp_error *err)
{
    char base[4200], path[4200];
    snprintf(base, sizeof base, "%s/.run.json.base.XXXXXX", dir);
    snprintf(path, sizeof path, "%s/run.json", dir);
    int fd = mkostemp(base, O_CLOEXEC);
    if (fd < 0)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create: %s", base, strerror(errno));
    close(fd);
    fp_status st = fp_dataset_write_run_json(base, rec, err);
    if (st) {
        unlink(base);
        return st;
    }
    json_error_t je;
    json_t *root = json_load_file(base, 0, &je);
    unlink(base);
    if (!root)
        return fp_error_at(err, FP_ERR_IO, base, je.line, "cannot read back: %s", je.text);
    json_object_update(root, extra);
    return fp_json_write_atomic(path, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER, err);
}

static fp_status write_telemetry(const char *dir, const fp_sample_buf *b, fp_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/telemetry.csv", dir);
    fp_telemetry_writer *w;
    fp_status st = fp_telemetry_writer_open(&w, path, err);
    if (st)
        return st;
    for (size_t i = 0; i < b->n; i++)
        if ((st = fp_telemetry_write_sample(w, &b->v[i], err))) {
            fp_telemetry_writer_abort(w);
            return st;
        }
    return fp_telemetry_writer_commit(w, err);
}

/* Mean SM clock over [a, b] of t_s (all samples when the window is unknown). */
static double mean_clock(const fp_sample_buf *b, double a, double e)
{
    double sum = 0;
    size_t n = 0;
    int win = isfinite(a) && isfinite(e);
    for (size_t i = 0; i < b->n; i++) {
        double t = b->v[i].v[FP_COL_T_S], c = b->v[i].v[FP_COL_SM_CLOCK_MHZ];
        if (isnan(c) || (win && (t < a || t > e)))
            continue;
        sum += c;
        n++;
    }
    return n ? sum / (double)n : NAN;
}

/* ---- one run ---- */

typedef struct run_out {
    fp_sample_buf samples;
    fp_run_record rec;
    json_t *extra;
    int exit_status, timed_out, interrupted_sig;
    char failure[256];
} run_out;

static fp_status sim_run(const fp_sweep_opts *o, fp_gpu *gpu, size_t position, run_out *ro,
                         fp_error *err)
{
    fp_sim_device *dev = fp_gpu_sim_device(gpu);
    if (!dev)
        return fp_error_set(err, FP_ERR_INVALID, "--workload needs --backend sim");
    double t0 = fp_sim_device_time(dev);
    double dt = o->interval_s;
    fp_status st = FP_OK;
    int started = 0;
    double idle_until = INFINITY;
    ro->rec.start_utc_s = utc_now();
    for (;;) {
        fp_sample s;
        fp_sample_clear(&s);
        if ((st = o->be->sample(gpu, &s, err)))
            return st;
        double now = fp_sim_device_time(dev);
        s.v[FP_COL_T_S] = now - t0;
        if (fp_sample_buf_push(&ro->samples, &s))
            return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        if (!started && now - t0 >= SIM_IDLE_BEFORE_S - 1e-9) {
            fp_sim_device_start(dev, o->sim_workload, (unsigned)position, 0);
            started = 1;
        } else if (started && !fp_sim_device_busy(dev) && !isfinite(idle_until)) {
            idle_until = now + SIM_IDLE_AFTER_S;
        }
        if (now >= idle_until - 1e-9)
            break;
        if (fp_clockguard_pending_signal()) {
            fp_sim_device_start(dev, NULL, 0, 0);
            ro->interrupted_sig = fp_clockguard_pending_signal();
            return FP_OK;
        }
        fp_sim_advance(dev, dt);
    }
    double ws, we;
    fp_sim_device_window(dev, &ws, &we);
    ro->rec.window_start_s = ws - t0;
    ro->rec.window_end_s = we - t0;
    snprintf(ro->rec.window_source, sizeof ro->rec.window_source, "%s",
             isfinite(ws) && isfinite(we) ? "marker" : "none");
    ro->rec.start_monotonic_s = t0;
    ro->rec.end_monotonic_s = fp_sim_device_time(dev);
    ro->rec.wall_time_s = ro->rec.end_monotonic_s - t0;
    ro->rec.end_utc_s = ro->rec.start_utc_s + ro->rec.wall_time_s;
    ro->rec.exit_status = 0;
    json_object_set_new(ro->extra, "simulated", json_true());
    if (o->cooldown_s > 0)
        fp_sim_advance(dev, o->cooldown_s);
    return st;
}

static fp_status process_run(const fp_sweep_opts *o, fp_gpu *gpu, fp_clockguard *guard,
                             unsigned gpu_index, const char *dir, run_out *ro, fp_error *err)
{
    char out_path[4200], err_path[4200];
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", dir);
    fp_workload_opts wo = {
        .argv = o->argv,
        .stdout_path = out_path,
        .stderr_path = err_path,
        .marker_fifo = 1,
        .guard = guard,
        .timeout_s = o->run_timeout_s,
        .tick = o->tick,
        .tick_user = o->user,
    };
    double t0 = fp_mono_now();
    ro->rec.start_utc_s = utc_now();
    fp_sampler *smp;
    fp_status st = fp_sampler_start(&smp, o->be, gpu, o->interval_s, t0, err);
    if (st)
        return st;
    fp_dcgmi_sampler *dc = NULL;
    if (o->sampler_dcgmi && (st = fp_dcgmi_start(&dc, o->dcgmi_path, gpu_index, o->dcgmi_fields,
                                                 o->interval_s, t0, err))) {
        fp_sampler_stop(smp, NULL, NULL, NULL);
        return st;
    }
    fp_workload_result wr;
    fp_status wst = fp_workload_run(&wo, &wr, err);
    fp_sampler_stats ss;
    fp_error e2;
    st = fp_sampler_stop(smp, &ro->samples, &ss, &e2);
    if (dc) {
        fp_sample_buf rows = {0};
        fp_error e3;
        if (fp_dcgmi_stop(dc, &rows, &e3) == FP_OK)
            fp_dcgmi_merge(&ro->samples, &rows, 2 * o->interval_s + 0.1);
        else
            fp_warn(&o->diag, "dcgmi: %s", e3.msg);
        json_object_set_new(ro->extra, "dcgmi_rows", json_integer((json_int_t)rows.n));
        fp_sample_buf_free(&rows);
    }
    if (wst)
        return wst;
    if (st) {
        *err = e2;
        return st;
    }
    ro->interrupted_sig = wr.interrupted_sig;
    ro->exit_status = wr.exit_status;
    ro->timed_out = wr.timed_out;
    ro->rec.start_monotonic_s = wr.start_mono;
    ro->rec.end_monotonic_s = wr.end_mono;
    ro->rec.wall_time_s = wr.end_mono - wr.start_mono;
    ro->rec.end_utc_s = ro->rec.start_utc_s + (wr.end_mono - t0);
    ro->rec.exit_status = wr.exit_status;
    if (isfinite(wr.mark_begin_mono) && isfinite(wr.mark_end_mono)) {
        ro->rec.window_start_s = wr.mark_begin_mono - t0;
        ro->rec.window_end_s = wr.mark_end_mono - t0;
        snprintf(ro->rec.window_source, sizeof ro->rec.window_source, "%s", wr.mark_source);
        if (wr.mark_name[0])
            json_object_set_new(ro->extra, "window_name", json_string(wr.mark_name));
        /* Never a silent zero window: a run whose marks are unusable is a failed run. */
        fp_workload_window_error(&wr, o->interval_s, ro->rec.window_error,
                                 sizeof ro->rec.window_error);
    } else if (isfinite(wr.mark_begin_mono)) {
        fp_warn(&o->diag, "%s: FREQPILOT_MARK begin without end; no marked window", dir);
    }
    if (wr.exec_errno)
        snprintf(ro->failure, sizeof ro->failure, "cannot run %s: %s", o->argv[0],
                 strerror(wr.exec_errno));
    else if (wr.timed_out)
        snprintf(ro->failure, sizeof ro->failure, "timed out after %g s (--run-timeout)",
                 o->run_timeout_s);
    else if (wr.term_signal && !wr.interrupted_sig)
        snprintf(ro->failure, sizeof ro->failure, "killed by signal %d (%s)", wr.term_signal,
                 strsignal(wr.term_signal));
    else if (wr.exit_status)
        snprintf(ro->failure, sizeof ro->failure, "exit status %d", wr.exit_status);
    else if (ro->rec.window_error[0])
        snprintf(ro->failure, sizeof ro->failure, "%s", ro->rec.window_error);
    json_t *x = ro->extra;
    json_object_set_new(x, "stdout", json_string("stdout.txt"));
    json_object_set_new(x, "stderr", json_string("stderr.txt"));
    json_object_set_new(x, "timed_out", json_boolean(wr.timed_out));
    json_object_set_new(x, "term_signal", json_integer(wr.term_signal));
    json_object_set_new(x, "marks_ignored", json_integer(wr.marks_ignored));
    json_object_set_new(x, "samples", json_integer((json_int_t)ss.samples));
    json_object_set_new(x, "sample_errors", json_integer((json_int_t)ss.errors));
    json_object_set_new(x, "samples_missed", json_integer((json_int_t)ss.missed));
    json_object_set_new(x, "sample_lateness_max_s", json_real(ss.lateness_max_s));
    if (o->cooldown_s > 0) {
        double until = fp_mono_now() + o->cooldown_s;
        while (fp_mono_now() < until && !fp_clockguard_pending_signal())
            usleep(20000);
    }
    return FP_OK;
}

/* ---- the sweep ---- */

/* DATASET/.locks/<host>-<pid>-<gpu index>.json for `freqpilot status` (best effort). */
static void write_lock(const fp_sweep_opts *o, const fp_gpu_info *info, const fp_sweep_item *plan,
                       size_t n_plan, const char *host, char *path, size_t size)
{
    char dir[4200];
    path[0] = 0;
    snprintf(dir, sizeof dir, "%s/%s", o->out_dir, FP_SWEEP_LOCK_DIR);
    if (mkdir(dir, 0777) && errno != EEXIST)
        return;
    json_t *root = json_object(), *clocks = json_array();
    if (!root || !clocks) {
        json_decref(root);
        json_decref(clocks);
        return;
    }
    for (size_t i = 0; i < n_plan; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = plan[j].clock_mhz == plan[i].clock_mhz;
        if (!seen)
            json_array_append_new(clocks, json_integer(plan[i].clock_mhz));
    }
    json_object_set_new(root, "pid", json_integer((json_int_t)getpid()));
    json_object_set_new(root, "host", json_string(host));
    json_object_set_new(root, "gpu", json_string(info->short_name));
    json_object_set_new(root, "gpu_index", json_integer(info->index));
    json_object_set_new(root, "clocks_mhz", clocks);
    json_object_set_new(root, "task_id", json_integer(o->task_id));
    static const char *const env[] = {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"};
    static const char *const key[] = {"slurm_job_id", "slurm_array_job_id", "slurm_array_task_id"};
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(env[i]);
        json_object_set_new(root, key[i], v && *v ? json_string(v) : json_null());
    }
    snprintf(path, size, "%s/%s-%ld-%u.json", dir, host, (long)getpid(), info->index);
    fp_error e2;
    if (fp_json_write_atomic(path, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER, &e2))
        path[0] = 0;
}

static void join_cmd(char *const *argv, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; argv && argv[i] && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "", argv[i]);
}

/*
 * The dataset belongs to the user who ran `sudo freqpilot profile`: every step below runs in a
 * process acting as that user (util/asuser.h; in-process when there is no one to act as), so
 * the kernel checks each path, link and permission as it would for them, and root only keeps
 * the GPU and the clock state.
 */

typedef struct manifest_step_args {
    const fp_sweep_opts *o;
    const fp_dataset_manifest *man;
    const char *mpath;
    const fp_gpu_info *info;
    const fp_sweep_item *plan;
    size_t n_plan;
    const char *host;
} manifest_step_args;

/* The manifest (created exclusively, else compared) and the live-sweep file; returns its path. */
static fp_status manifest_step(void *arg, void *ret, fp_error *err)
{
    const manifest_step_args *a = arg;
    char *lock_path = ret;
    lock_path[0] = 0;
    /* Several tasks may start at once: created exclusively, else compared. */
    int created = 0;
    fp_status st = fp_dataset_create_manifest(a->o->out_dir, a->man, &created, err);
    if (!st && !created)
        st = check_manifest(a->mpath, a->man, a->o->force, a->o->task_id >= 0, err);
    if (!st)
        write_lock(a->o, a->info, a->plan, a->n_plan, a->host, lock_path, 4300);
    return st;
}

typedef struct run_dir_ret {
    char dir[4096];
    int done; /* run.json exists: finished in an earlier session */
} run_dir_ret;

static fp_status run_dir_step(void *arg, void *ret, fp_error *err)
{
    const fp_sweep_opts *o = ((void **)arg)[0];
    const fp_run_record *rec = ((void **)arg)[1];
    run_dir_ret *r = ret;
    fp_status st = fp_dataset_run_dir(r->dir, sizeof r->dir, o->out_dir, rec, 1, err);
    if (st)
        return st;
    char rj[4200];
    snprintf(rj, sizeof rj, "%s/run.json", r->dir);
    r->done = access(rj, F_OK) == 0;
    return FP_OK;
}

typedef struct write_step_args {
    const char *dir;
    const run_out *ro;
} write_step_args;

static fp_status write_step(void *arg, void *ret, fp_error *err)
{
    const write_step_args *a = arg;
    (void)ret;
    fp_status st = write_telemetry(a->dir, &a->ro->samples, err);
    return st ? st : write_run_json(a->dir, &a->ro->rec, a->ro->extra, err);
}

static fp_status unlink_step(void *arg, void *ret, fp_error *err)
{
    (void)ret;
    (void)err;
    unlink((const char *)arg);
    return FP_OK;
}

fp_status fp_sweep_run(const fp_sweep_opts *o, fp_sweep_summary *sum, fp_error *err)
{
    memset(sum, 0, sizeof *sum);
    if (!o->out_dir)
        return fp_error_set(err, FP_ERR_INVALID, "no output dataset (--out)");
    if (!o->argv && !o->sim_workload)
        return fp_error_set(err, FP_ERR_INVALID, "no workload: give -- COMMAND [ARGS...]");
    snprintf(sum->dataset, sizeof sum->dataset, "%s", o->out_dir);
    const fp_invoker *who;
    fp_status st = fp_invoker_get(&who, err);
    if (st)
        return st;
    if ((st = o->be->init(err)))
        return st;
    fp_gpu *gpu = NULL;
    fp_clockctl *guard = NULL;
    char lock_path[4300] = "";
    fp_sweep_item *plan = NULL;
    size_t n_plan = 0;
    fp_gpu_info *info = calloc(1, sizeof *info);
    fp_dataset_manifest *man = calloc(1, sizeof *man);
    unsigned *clocks = calloc(FP_GPU_MAX_CLOCKS, sizeof *clocks);
    if (!info || !man || !clocks) {
        st = fp_error_set(err, FP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = o->be->open(o->gpu_id ? o->gpu_id : "0", &gpu, err)) ||
        (st = o->be->info(gpu, info, err)))
        goto out;
    snprintf(sum->gpu_short, sizeof sum->gpu_short, "%s", info->short_name);
    if (o->sampler_dcgmi && !fp_dcgmi_available(o->dcgmi_path)) {
        st = fp_error_set(err, FP_ERR_UNSUPPORTED,
                          "--sampler dcgmi: '%s' not found or not executable (install DCGM "
                          "and start nv-hostengine, or use --sampler nvml)",
                          o->dcgmi_path ? o->dcgmi_path : "dcgmi");
        goto out;
    }
    size_t n_clocks = 0;
    if (!o->no_clock_control &&
        (st = fp_sweep_parse_clocks(o->clocks, info, clocks, FP_GPU_MAX_CLOCKS, &n_clocks, err)))
        goto out;
    if (o->no_clock_control) {
        /* Sample only: one "clock" bucket, named after the clock the GPU runs at. */
        fp_sample s;
        fp_sample_clear(&s);
        if ((st = o->be->sample(gpu, &s, err)))
            goto out;
        double c = s.v[FP_COL_SM_CLOCK_MHZ];
        clocks[0] = isfinite(c) && c > 0 ? (info->n_graphics_clocks ? fp_gpu_snap_clock(info, c)
                                                                    : (unsigned)lround(c))
                                         : info->max_clock_mhz;
        if (!clocks[0]) {
            st = fp_error_set(err, FP_ERR_UNSUPPORTED, "%s: the SM clock cannot be read",
                              info->name);
            goto out;
        }
        n_clocks = 1;
    }
    {
        /* A cluster task runs its slice of the clock list only (sweep.h). */
        const unsigned *slice = clocks;
        size_t n_slice = n_clocks;
        uint64_t seed = o->seed;
        int baseline_every = o->baseline_every;
        if (o->task_id >= 0) {
            int k = o->clocks_per_task > 0 ? o->clocks_per_task : 1;
            size_t first = (size_t)o->task_id * (size_t)k;
            if (o->no_clock_control || first >= n_clocks) {
                st = fp_error_set(err, FP_ERR_INVALID,
                                  "task %d: the sweep has %zu clock(s), %d per task (tasks 0..%d)",
                                  o->task_id, n_clocks, k, fp_sweep_n_tasks(n_clocks, k) - 1);
                goto out;
            }
            slice = clocks + first;
            n_slice = n_clocks - first < (size_t)k ? n_clocks - first : (size_t)k;
            seed = o->seed + (uint64_t)o->task_id;
            if (first != 0)
                baseline_every = 0; /* the baseline (highest) clock lives in task 0 */
        }
        if ((st = fp_sweep_plan(slice, n_slice, o->runs, o->warmup, o->order, seed, baseline_every,
                                &plan, &n_plan, err)))
            goto out;
    }
    sum->planned = n_plan;

    /* Manifest: written once; a later session must be the same sweep. */
    fp_dataset_manifest_init(man);
    snprintf(man->gpu_name, sizeof man->gpu_name, "%s", info->name);
    snprintf(man->gpu_short, sizeof man->gpu_short, "%s", info->short_name);
    snprintf(man->gpu_uuid, sizeof man->gpu_uuid, "%s", info->uuid);
    snprintf(man->driver, sizeof man->driver, "%.63s", info->driver);
    fp_sweep_app_name(o->app, o->sim_workload, o->argv, man->app, sizeof man->app);
    if (o->command_line)
        snprintf(man->command, sizeof man->command, "%s", o->command_line);
    else if (o->argv)
        join_cmd(o->argv, man->command, sizeof man->command);
    else
        snprintf(man->command, sizeof man->command, "sim workload %s", o->sim_workload->name);
    for (size_t i = 0; i < n_clocks && i < FP_DATASET_MAX_CLOCKS; i++)
        man->clocks_mhz[man->n_clocks++] = clocks[i];
    man->runs_per_clock = o->runs;
    man->warmup_runs = o->warmup;
    snprintf(man->order, sizeof man->order, "%s",
             o->order_name ? o->order_name : fp_sweep_order_name(o->order));
    man->seed = o->seed;
    snprintf(man->tool_version, sizeof man->tool_version, "%s", FREQPILOT_VERSION);
    man->created_utc = utc_now();
    man->simulated = info->simulated;
    snprintf(man->mig, sizeof man->mig, "%s",
             info->mig_enabled > 0    ? "enabled"
             : info->mig_enabled == 0 ? "disabled"
                                      : "");
    char mpath[4200];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", o->out_dir);
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    {
        manifest_step_args ma = {o, man, mpath, info, plan, n_plan, host};
        if ((st = fp_invoker_call(who, manifest_step, &ma, lock_path, sizeof lock_path, err)))
            goto out;
    }

    if (!o->no_clock_control) {
        /* Directly or through freqpilotd (freqpilot/clockctl.h): the sampler reads NVML here
         * either way. */
        fp_clockctl_opts go = {.guard = {
                                   .state_dir = o->state_dir,
                                   .force = o->force,
                                   .no_state_file = info->simulated,
                                   .command = man->command,
                               }};
        if ((st = fp_clockctl_begin(&guard, o->be, gpu, &go, err)))
            goto out;
    }

    double t_start = fp_mono_now();
    fp_sweep_ctx dctx = {info, man->app, clocks, n_clocks};
    for (size_t i = 0; o->next_item || i < n_plan; i++) {
        const fp_sweep_item *it = o->next_item ? NULL : &plan[i];
        fp_sweep_item dyn;
        size_t pos = i; /* sweep position, 0-based */
        if (o->next_item) {
            int more = 0;
            if ((st = o->next_item(o->user, &dctx, i, &dyn, &pos, &more, err)))
                goto out;
            if (!more)
                break;
            it = &dyn;
        }
        fp_sweep_event ev = {.index = i, .total = n_plan, .item = it, .readback_mhz = NAN};
        run_out ro;
        memset(&ro, 0, sizeof ro);
        fp_run_record_init(&ro.rec);
        snprintf(ro.rec.gpu, sizeof ro.rec.gpu, "%s", info->short_name);
        snprintf(ro.rec.app, sizeof ro.rec.app, "%s", man->app);
        ro.rec.requested_clock_mhz = it->clock_mhz;
        ro.rec.repetition = it->repetition;
        ro.rec.warmup = it->warmup;
        ro.rec.sweep_position = (long)pos + 1;
        snprintf(ro.rec.telemetry, sizeof ro.rec.telemetry, "telemetry.csv");
        snprintf(ro.rec.gpu_name, sizeof ro.rec.gpu_name, "%s", info->name);
        snprintf(ro.rec.gpu_uuid, sizeof ro.rec.gpu_uuid, "%s", info->uuid);
        snprintf(ro.rec.driver, sizeof ro.rec.driver, "%.63s", info->driver);
        snprintf(ro.rec.mig, sizeof ro.rec.mig, "%s", man->mig);
        snprintf(ro.rec.host, sizeof ro.rec.host, "%s", host);
        run_dir_ret rd;
        void *rd_args[2] = {(void *)o, &ro.rec};
        if ((st = fp_invoker_call(who, run_dir_step, rd_args, &rd, sizeof rd, err)))
            goto out;
        const char *dir = rd.dir;
        if (rd.done) {
            sum->skipped++;
            ev.skipped = ev.finished = 1;
            ev.elapsed_s = fp_mono_now() - t_start;
            if (o->event)
                o->event(o->user, &ev);
            continue;
        }
        ev.elapsed_s = fp_mono_now() - t_start;
        if (o->event)
            o->event(o->user, &ev);
        ro.extra = json_object();
        /* Lock and read back (on the sim backend the GPU is idle: read back at its clock). */
        double readback = NAN;
        if (guard) {
            /* Application clocks (a ceiling) only where locking is unsupported. */
            int used_app = 0;
            if ((st = fp_clockctl_lock_ex(guard, it->clock_mhz, it->clock_mhz, 1, &readback,
                                          &used_app, err))) {
                json_decref(ro.extra);
                goto out;
            }
            json_object_set_new(ro.extra, "clock_method",
                                json_string(used_app ? "application_clocks" : "locked"));
        } else {
            fp_sample s;
            fp_sample_clear(&s);
            if (o->be->sample(gpu, &s, err) == FP_OK)
                readback = s.v[FP_COL_SM_CLOCK_MHZ];
        }
        if (o->sim_workload)
            st = sim_run(o, gpu, pos, &ro, err);
        else
            st = process_run(o, gpu, guard ? fp_clockctl_guard(guard) : NULL, info->index, dir, &ro,
                             err);
        /*
         * The signal handler forwards SIGINT/SIGTERM/SIGHUP to the workload, which may die of
         * it before the run loop sees the flag: a run that ends with a signal pending was
         * interrupted, not failed, and must be redone by the next session.
         */
        if (!ro.interrupted_sig)
            ro.interrupted_sig = fp_clockguard_pending_signal();
        if (st || ro.interrupted_sig) {
            /* An interrupted run leaves no run.json: the next session redoes it. */
            sum->interrupted_sig = ro.interrupted_sig;
            fp_sample_buf_free(&ro.samples);
            json_decref(ro.extra);
            goto out;
        }
        ro.rec.achieved_clock_mhz =
            mean_clock(&ro.samples, ro.rec.window_start_s, ro.rec.window_end_s);
        if (isnan(ro.rec.achieved_clock_mhz))
            ro.rec.achieved_clock_mhz = readback;
        int not_held = !o->no_clock_control && isfinite(readback) &&
                       fabs(readback - (double)it->clock_mhz) > 0.5;
        json_object_set_new(ro.extra, "readback_clock_mhz",
                            isfinite(readback) ? json_real(readback) : json_null());
        json_object_set_new(ro.extra, "clock_not_held", json_boolean(not_held));
        json_object_set_new(ro.extra, "clock_control", json_boolean(!o->no_clock_control));
        json_object_set_new(ro.extra, "baseline_revisit", json_boolean(it->baseline_revisit));
        json_object_set_new(ro.extra, "failure",
                            ro.failure[0] ? json_string(ro.failure) : json_null());
        write_step_args wa = {dir, &ro};
        st = fp_invoker_call(who, write_step, &wa, NULL, 0, err);
        fp_sample_buf_free(&ro.samples);
        json_decref(ro.extra);
        if (st)
            goto out;
        sum->done++;
        sum->clock_not_held += not_held;
        ev.finished = 1;
        ev.exit_status = ro.exit_status;
        ev.timed_out = ro.timed_out;
        ev.clock_not_held = not_held;
        ev.readback_mhz = readback;
        ev.elapsed_s = fp_mono_now() - t_start;
        int failed = fp_run_record_failed(&ro.rec);
        if (ro.exit_status) {
            sum->failed++;
            fp_warn(&o->diag, "%u MHz %s%d: workload failed: %s (%s/stderr.txt)", it->clock_mhz,
                    it->warmup ? "warm-up " : "run ", it->repetition, ro.failure, dir);
        } else if (failed) {
            sum->failed++;
            fp_warn(&o->diag, "%u MHz %s%d: the run measured nothing: %s (%s/run.json)",
                    it->clock_mhz, it->warmup ? "warm-up " : "run ", it->repetition,
                    ro.rec.window_error, dir);
        }
        if (o->event)
            o->event(o->user, &ev);
        if (failed && o->stop_on_failure) {
            st = fp_error_set(err, FP_ERR_IO, "stopping (--on-failure stop): at %u MHz: %s",
                              it->clock_mhz, ro.failure);
            goto out;
        }
        if ((sum->interrupted_sig = fp_clockguard_pending_signal()))
            goto out;
    }
out:
    if (lock_path[0]) {
        fp_error e2;
        fp_invoker_call(who, unlink_step, lock_path, NULL, 0, &e2);
    }
    fp_status rst = FP_OK;
    fp_error rerr;
    if (guard) {
        rst = fp_clockctl_restore(guard, &rerr);
        fp_clockctl_end(guard);
    }
    if (rst && !st)
        st = fp_error_set(err, rst, "restoring the clocks: %s", rerr.msg);
    if (gpu)
        o->be->close(gpu);
    o->be->shutdown();
    free(plan);
    free(info);
    free(man);
    free(clocks);
    return st;
}
