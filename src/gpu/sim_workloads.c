/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Built-in workloads of the simulated GPU and user-described INI workloads.
 *
 * The per-GPU seconds are calibrated against the medians of
 * shared/data/ai-inference-energy/measured_runs.csv (run_index > 3, i.e. without the cold
 * starts); docs/simulated-gpu.md lists the targets and the differences that remain.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "freqpilot/sim.h"
#include "util/input.h"

enum { V100, A100, H100 };

/* Activities at f_max: sm, occupancy, tensor, dram, fp64, fp32, fp16, gpu_util %, mem_util %. */
typedef struct acts {
    double sm, occ, tensor, dram, fp64, fp32, fp16, util, mutil;
} acts;

static const acts ACT_IDLE = {0};

static unsigned add_phase(fp_sim_workload *w, const char *name, int inference, int idle, acts a,
                          double fb_mib)
{
    unsigned i = w->n_phases++;
    fp_sim_phase *p = &w->phases[i];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->inference = inference;
    p->idle = idle;
    p->sm_active = a.sm;
    p->sm_occupancy = a.occ;
    p->tensor_active = a.tensor;
    p->dram_active = a.dram;
    p->fp64_active = a.fp64;
    p->fp32_active = a.fp32;
    p->fp16_active = a.fp16;
    p->gpu_util_pct = a.util;
    p->mem_util_pct = a.mutil;
    p->fb_mib = fb_mib;
    return i;
}

static void secs(fp_sim_workload *w, int slot, unsigned phase, double h, double m, double c)
{
    w->gpu_secs[slot][phase][0] = h;
    w->gpu_secs[slot][phase][1] = m;
    w->gpu_secs[slot][phase][2] = c;
    if (slot == A100) { /* the phase's own seconds: the A100 calibration */
        w->phases[phase].host_s = h;
        w->phases[phase].memory_s = m;
        w->phases[phase].compute_s = c;
    }
}

/* Same seconds on the three GPUs, each scaled. */
static void secs3(fp_sim_workload *w, unsigned phase, const double s[3][3])
{
    for (int g = 0; g < 3; g++)
        secs(w, g, phase, s[g][0], s[g][1], s[g][2]);
}

/* Per-GPU activity multipliers: calibrate the mean power at f_max to the measured one. */
static void act_scale(fp_sim_workload *w, double v100, double a100, double h100)
{
    w->gpu_act_scale[V100] = v100;
    w->gpu_act_scale[A100] = a100;
    w->gpu_act_scale[H100] = h100;
}

static void init_header(fp_sim_workload *w, const char *name, const char *desc, double k)
{
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    snprintf(w->description, sizeof w->description, "%s", desc);
    w->overlap_k = k;
    w->has_gpu_secs = 1;
}

/* LLaMA-7B text generation: load (idle), warm-up, prefill (compute), decode (memory). */
static void make_llama(fp_sim_workload *w)
{
    init_header(w, "llama",
                "LLaMA-7B generation: load, warm-up, prefill (compute), decode (memory)", 8.0);
    w->gpu_overlap_k[V100] = 3.0;
    const acts pre = {0.70, 0.45, 0.45, 0.30, 0, 0.10, 0.40, 98, 30};
    const acts dec = {0.18, 0.20, 0.10, 0.55, 0, 0.05, 0.12, 90, 55};
    unsigned p;
    p = add_phase(w, "load", 0, 1, ACT_IDLE, 14000);
    secs3(w, p, (const double[3][3]){{12.0, 0, 0}, {9.5, 0, 0}, {7.2, 0, 0}});
    p = add_phase(w, "warmup", 0, 0, pre, 14200);
    secs3(w, p, (const double[3][3]){{0.2, 0.1, 0.5}, {0.2, 0.1, 0.4}, {0.2, 0.1, 0.3}});
    p = add_phase(w, "prefill", 1, 0, pre, 14500);
    secs3(w, p, (const double[3][3]){{0.5, 0.3, 1.5}, {1.0, 0.5, 1.5}, {0.5, 0.3, 1.2}});
    p = add_phase(w, "decode", 1, 0, dec, 15000);
    secs3(w, p, (const double[3][3]){{1.5, 24.0, 16.0}, {15.5, 14.0, 5.0}, {6.3, 12.3, 3.8}});
    act_scale(w, 1.25, 1.39, 0.92);
}

/* Stable Diffusion v1.4: denoising steps (compute) alternating with short host stretches. */
static void make_sd(fp_sim_workload *w)
{
    init_header(w, "stablediffusion",
                "Stable Diffusion v1.4: denoising steps (compute) between host stretches, VAE",
                1.0);
    const acts den = {0.55, 0.40, 0.35, 0.30, 0, 0.15, 0.35, 95, 30};
    const acts gap = {0.02, 0.02, 0, 0.01, 0, 0.01, 0, 5, 1};
    const acts vae = {0.45, 0.35, 0.20, 0.40, 0, 0.25, 0.15, 95, 40};
    unsigned p = add_phase(w, "load", 0, 1, ACT_IDLE, 5000);
    secs3(w, p, (const double[3][3]){{3.0, 0, 0}, {2.5, 0, 0}, {2.0, 0, 0}});
    p = add_phase(w, "warmup", 0, 0, den, 5200);
    secs3(w, p, (const double[3][3]){{0.2, 0.1, 0.3}, {0.2, 0.1, 0.2}, {0.2, 0.1, 0.1}});
    for (int s = 0; s < 5; s++) {
        char name[32];
        snprintf(name, sizeof name, "denoise%d", s + 1);
        p = add_phase(w, name, 1, 0, den, 6500);
        secs3(w, p, (const double[3][3]){{0.9, 0.84, 0.85}, {0.8, 0.75, 0.42}, {0.9, 0.55, 0.18}});
        snprintf(name, sizeof name, "host%d", s + 1);
        p = add_phase(w, name, 1, 0, gap, 6500);
        secs3(w, p, (const double[3][3]){{0.1, 0, 0}, {0.1, 0, 0}, {0.1, 0, 0}});
    }
    p = add_phase(w, "vae", 1, 0, vae, 7000);
    secs3(w, p, (const double[3][3]){{0.05, 0.2, 0.25}, {0.05, 0.2, 0.13}, {0.1, 0.15, 0.1}});
    act_scale(w, 0.59, 0.59, 0.28);
}

/* ViT-L/16 image classification: batches (compute, tensor) with host-side data loading. */
static void make_vit(fp_sim_workload *w)
{
    init_header(w, "vit", "ViT-L/16 classification: batches (compute, tensor) and data loading",
                1.0);
    const acts batch = {0.30, 0.25, 0.18, 0.12, 0, 0.10, 0.20, 60, 10};
    const acts load = {0.01, 0.01, 0, 0.01, 0, 0, 0, 2, 0};
    unsigned p = add_phase(w, "load", 0, 1, ACT_IDLE, 2500);
    secs3(w, p, (const double[3][3]){{3.0, 0, 0}, {2.5, 0, 0}, {2.0, 0, 0}});
    p = add_phase(w, "warmup", 0, 0, batch, 2600);
    secs3(w, p, (const double[3][3]){{0.3, 0.1, 0.2}, {0.3, 0.1, 0.2}, {0.3, 0.1, 0.1}});
    for (int b = 0; b < 6; b++) {
        char name[32];
        snprintf(name, sizeof name, "batch%d", b + 1);
        p = add_phase(w, name, 1, 0, batch, 3200);
        secs3(w, p, (const double[3][3]){{3.6, 0.4, 0.6}, {3.6, 0.3, 0.4}, {2.2, 0.3, 0.4}});
        snprintf(name, sizeof name, "dataload%d", b + 1);
        p = add_phase(w, name, 1, 0, load, 3200);
        secs3(w, p, (const double[3][3]){{1.0, 0, 0}, {1.0, 0, 0}, {0.7, 0, 0}});
    }
    act_scale(w, 0.57, 0.60, 0.31);
}

/* Whisper-base transcription: encode (compute), decode (memory/host), lightly loaded GPU. */
static void make_whisper(fp_sim_workload *w)
{
    init_header(w, "whisper", "Whisper-base transcription: encode (compute), decode (host/memory)",
                1.0);
    const acts enc = {0.45, 0.35, 0.25, 0.20, 0, 0.20, 0.25, 90, 20};
    const acts dec = {0.06, 0.05, 0.02, 0.06, 0, 0.03, 0.03, 30, 6};
    unsigned p = add_phase(w, "load", 0, 1, ACT_IDLE, 1200);
    secs3(w, p, (const double[3][3]){{2.0, 0, 0}, {1.5, 0, 0}, {1.2, 0, 0}});
    p = add_phase(w, "warmup", 0, 0, enc, 1300);
    secs3(w, p, (const double[3][3]){{0.2, 0.05, 0.1}, {0.2, 0.05, 0.1}, {0.2, 0.05, 0.05}});
    for (int s = 0; s < 3; s++) {
        char name[32];
        snprintf(name, sizeof name, "encode%d", s + 1);
        p = add_phase(w, name, 1, 0, enc, 1500);
        secs3(w, p, (const double[3][3]){{0.3, 0.1, 0.25}, {0.3, 0.1, 0.15}, {0.3, 0.1, 0.1}});
        snprintf(name, sizeof name, "decode%d", s + 1);
        p = add_phase(w, name, 1, 0, dec, 1500);
        secs3(w, p, (const double[3][3]){{2.6, 0.5, 0.08}, {2.7, 0.45, 0.05}, {3.6, 0.6, 0.03}});
    }
    act_scale(w, 0.56, 0.68, 0.58);
}

/* LSTM sentiment model: small kernels, host-heavy. */
static void make_lstm(fp_sim_workload *w)
{
    init_header(w, "lstm", "LSTM sentiment model: small kernels, host-heavy", 1.0);
    const acts step = {0.15, 0.10, 0.02, 0.08, 0, 0.12, 0.02, 40, 8};
    unsigned p = add_phase(w, "load", 0, 1, ACT_IDLE, 600);
    secs3(w, p, (const double[3][3]){{2.0, 0, 0}, {2.0, 0, 0}, {1.5, 0, 0}});
    for (int s = 0; s < 5; s++) {
        char name[32];
        snprintf(name, sizeof name, "epoch%d", s + 1);
        p = add_phase(w, name, 1, 0, step, 900);
        secs3(w, p, (const double[3][3]){{3.8, 0.3, 0.3}, {1.6, 0.15, 0.15}, {1.4, 0.1, 0.1}});
    }
}

static fp_sim_workload builtins[5];
#define NBUILTIN (sizeof builtins / sizeof builtins[0])

static void builtins_init(void)
{
    static int done;
    if (done)
        return;
    make_llama(&builtins[0]);
    make_lstm(&builtins[1]);
    make_sd(&builtins[2]);
    make_vit(&builtins[3]);
    make_whisper(&builtins[4]);
    done = 1;
}

unsigned fp_sim_workload_count(void)
{
    return NBUILTIN;
}

const fp_sim_workload *fp_sim_workload_at(unsigned i)
{
    builtins_init();
    return i < NBUILTIN ? &builtins[i] : NULL;
}

const fp_sim_workload *fp_sim_workload_find(const char *name)
{
    builtins_init();
    if (!name)
        return NULL;
    if (strcasecmp(name, "sd") == 0 || strcasecmp(name, "stable-diffusion") == 0 ||
        strcasecmp(name, "stable_diffusion") == 0)
        name = "stablediffusion";
    for (unsigned i = 0; i < NBUILTIN; i++)
        if (strcasecmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

/* ---- INI workloads ---- */

typedef struct ini_ctx {
    fp_sim_workload *w;
    const char *path;
    fp_error *err;
    int failed;
    FILE *file;
    int line, at_line_start;
    char section[128];
    uint64_t seen; /* keys of the current section given so far (one bit each) */
} ini_ctx;

/* A key given twice in one section: which value counts would be a guess. */
static int seen_twice(ini_ctx *c, int bit, const char *name, int line)
{
    uint64_t b = (uint64_t)1 << bit;
    if (c->seen & b) {
        char what[300];
        snprintf(what, sizeof what, "key '%s' given twice in [%s]", name, c->section);
        fp_error_at(c->err, FP_ERR_PARSE, c->path, line, "%s: expected each key once", what);
        c->failed = 1;
        return 1;
    }
    c->seen |= b;
    return 0;
}

/* inih's handler has no line number in every build of the library: count lines here. */
static char *ini_reader_fn(char *str, int num, void *stream)
{
    ini_ctx *c = stream;
    char *r = fgets(str, num, c->file);
    if (r) {
        if (c->at_line_start)
            c->line++;
        size_t n = strlen(r);
        c->at_line_start = n > 0 && r[n - 1] == '\n';
    }
    return r;
}

static int ini_fail(ini_ctx *c, int line, const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b);
    fp_error_at(c->err, FP_ERR_PARSE, c->path, line, "%s", msg);
    c->failed = 1;
    return 0;
}

static int parse_num(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == v || *end || errno || !isfinite(d) || d < lo || d > hi)
        return -1;
    *out = d;
    return 0;
}

static int handle_kv(ini_ctx *c, const char *section, const char *name, const char *value,
                     int line);

static int on_ini_kv(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *c = user;
    if (c->failed)
        return 0;
    /* A section seen for the first time starts a phase (or the [workload] block). */
    if (strcmp(section, c->section) != 0) {
        snprintf(c->section, sizeof c->section, "%s", section);
        c->seen = 0;
        if (!handle_kv(c, section, NULL, NULL, c->line))
            return 0;
    }
    return handle_kv(c, section, name, value, c->line);
}

static int handle_kv(ini_ctx *c, const char *section, const char *name, const char *value, int line)
{
    fp_sim_workload *w = c->w;
    if (strcasecmp(section, "workload") == 0) {
        if (!name) /* new section */
            return 1;
        static const char *const wkeys[] = {"name", "description", "overlap"};
        for (int k = 0; k < 3; k++)
            if (strcasecmp(name, wkeys[k]) == 0 && seen_twice(c, k, name, line))
                return 0;
        if (strcasecmp(name, "name") == 0) {
            if (!*value || strlen(value) >= sizeof w->name)
                return ini_fail(c, line, "workload name '%s': expected 1..31 characters%s", value,
                                "");
            snprintf(w->name, sizeof w->name, "%s", value);
            return 1;
        }
        if (strcasecmp(name, "description") == 0) {
            snprintf(w->description, sizeof w->description, "%s", value);
            return 1;
        }
        if (strcasecmp(name, "overlap") == 0) {
            if (parse_num(value, 1.0, 64.0, &w->overlap_k))
                return ini_fail(c, line, "overlap = '%s': expected a number in 1..64%s", value, "");
            return 1;
        }
        return ini_fail(c, line,
                        "unknown key '%s' in [workload]%s (expected name, description, overlap)",
                        name, "");
    }
    if (strncasecmp(section, "phase", 5) == 0 && (section[5] == ' ' || section[5] == '\0')) {
        const char *pname = section + 5;
        while (*pname == ' ')
            pname++;
        if (!name) { /* a new [phase NAME] section */
            if (!*pname)
                return ini_fail(c, line, "[phase]: expected a name, as in [phase decode]%s%s", "",
                                "");
            if (w->n_phases >= FP_SIM_MAX_PHASES)
                return ini_fail(c, line, "[phase %s]: more than %s phases", pname, "16");
            fp_sim_phase *p = &w->phases[w->n_phases++];
            memset(p, 0, sizeof *p);
            snprintf(p->name, sizeof p->name, "%s", pname);
            p->inference = 1;
            p->gpu_util_pct = NAN; /* derived from the activities unless given */
            p->mem_util_pct = NAN;
            return 1;
        }
        fp_sim_phase *p = &w->phases[w->n_phases - 1];
        static const struct {
            const char *key;
            size_t off;
            double hi;
        } keys[] = {
            {"host_s", offsetof(fp_sim_phase, host_s), 1e7},
            {"memory_s", offsetof(fp_sim_phase, memory_s), 1e7},
            {"compute_s", offsetof(fp_sim_phase, compute_s), 1e7},
            {"sm_active", offsetof(fp_sim_phase, sm_active), 1},
            {"sm_occupancy", offsetof(fp_sim_phase, sm_occupancy), 1},
            {"tensor_active", offsetof(fp_sim_phase, tensor_active), 1},
            {"dram_active", offsetof(fp_sim_phase, dram_active), 1},
            {"fp64_active", offsetof(fp_sim_phase, fp64_active), 1},
            {"fp32_active", offsetof(fp_sim_phase, fp32_active), 1},
            {"fp16_active", offsetof(fp_sim_phase, fp16_active), 1},
            {"gpu_util", offsetof(fp_sim_phase, gpu_util_pct), 100},
            {"mem_util", offsetof(fp_sim_phase, mem_util_pct), 100},
            {"fb_mib", offsetof(fp_sim_phase, fb_mib), 1e7},
        };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            if (strcasecmp(name, keys[i].key) == 0) {
                if (seen_twice(c, (int)i, name, line))
                    return 0;
                double *dst = (double *)((char *)p + keys[i].off);
                if (parse_num(value, 0.0, keys[i].hi, dst)) {
                    char range[64];
                    snprintf(range, sizeof range, "a number in 0..%g", keys[i].hi);
                    char what[160];
                    snprintf(what, sizeof what, "%s = '%s'", name, value);
                    return ini_fail(c, line, "%s: expected %s", what, range);
                }
                return 1;
            }
        }
        if (strcasecmp(name, "inference") == 0 || strcasecmp(name, "idle") == 0) {
            if (seen_twice(c, 40 + (strcasecmp(name, "idle") == 0), name, line))
                return 0;
            int *dst = strcasecmp(name, "idle") == 0 ? &p->idle : &p->inference;
            if (strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0 ||
                strcasecmp(value, "no") == 0)
                *dst = 0;
            else if (strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
                     strcasecmp(value, "yes") == 0)
                *dst = 1;
            else
                return ini_fail(c, line, "%s = '%s': expected 0 or 1", name, value);
            return 1;
        }
        return ini_fail(c, line, "unknown key '%s' in [phase %s]", name, pname);
    }
    return ini_fail(c, line, "unknown section [%s]%s (expected [workload] or [phase NAME])",
                    section, "");
}

/* The workload INI on an open stream; path names it in messages. */
static fp_status load_stream(FILE *f, const char *path, fp_sim_workload *out, fp_error *err)
{
    ini_ctx c = {.w = out, .path = path, .err = err, .file = f, .at_line_start = 1};
    int rc = ini_parse_stream(ini_reader_fn, &c, on_ini_kv, &c);
    if (c.failed)
        return FP_ERR_PARSE;
    if (rc > 0)
        return fp_error_at(err, FP_ERR_PARSE, path, rc,
                           "expected '[section]', 'key = value' or a comment");
    if (rc < 0)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot read", path);
    if (!out->name[0]) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        snprintf(out->name, sizeof out->name, "%.*s", (int)strcspn(base, "."), base);
    }
    if (out->n_phases == 0)
        return fp_error_at(err, FP_ERR_PARSE, path, 0, "expected at least one [phase NAME]");
    int any_inf = 0;
    for (unsigned i = 0; i < out->n_phases; i++) {
        fp_sim_phase *p = &out->phases[i];
        if (p->host_s + p->memory_s + p->compute_s <= 0)
            return fp_error_at(err, FP_ERR_PARSE, path, 0,
                               "[phase %s]: expected host_s + memory_s + compute_s > 0", p->name);
        double dev = p->memory_s + p->compute_s, tot = dev + p->host_s;
        if (isnan(p->gpu_util_pct))
            p->gpu_util_pct = p->idle ? 0 : 100.0 * dev / tot;
        if (isnan(p->mem_util_pct))
            p->mem_util_pct = 100.0 * p->dram_active;
        any_inf |= p->inference;
    }
    if (!any_inf)
        return fp_error_at(err, FP_ERR_PARSE, path, 0,
                           "expected at least one phase with inference = 1");
    return FP_OK;
}

fp_status fp_sim_workload_load_ini(const char *path, fp_sim_workload *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    out->overlap_k = 1.0;
    FILE *f = fp_input_fopen(path, err); /* regular files only: never blocks on a FIFO */
    if (!f)
        return err ? err->code : FP_ERR_IO;
    fp_status st = load_stream(f, path, out, err);
    fclose(f);
    return st;
}

fp_status fp_sim_workload_parse_ini(const char *text, size_t len, const char *name,
                                    fp_sim_workload *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    out->overlap_k = 1.0;
    if (len == 0)
        return fp_error_at(err, FP_ERR_PARSE, name, 0, "expected at least one [phase NAME]");
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", name);
    fp_status st = load_stream(f, name, out, err);
    fclose(f);
    return st;
}

fp_status fp_sim_workload_resolve(const char *name, fp_sim_workload *out, fp_error *err)
{
    const fp_sim_workload *b = fp_sim_workload_find(name);
    if (b) {
        *out = *b;
        return FP_OK;
    }
    struct stat st;
    if (name && stat(name, &st) == 0 && S_ISREG(st.st_mode))
        return fp_sim_workload_load_ini(name, out, err);
    return fp_error_set(err, FP_ERR_INVALID,
                        "unknown workload '%s' (expected llama, stablediffusion, vit, whisper, "
                        "lstm or an INI file)",
                        name ? name : "");
}
