/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * optimize's outputs: the JSON and CSV of docs/formats.md (written atomically), a table for
 * people, a deploy script, and reading the JSON back for validate and apply.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "freqpilot/aie_results.h"
#include "freqpilot/atomic.h"
#include "freqpilot/optimize.h"
#include "util/grow.h"
#include "util/json_stream.h"
#include "util/output.h"

static json_t *num_json(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int set(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v ? v : json_null());
}

static json_t *result_json(const fp_opt_result *r)
{
    char flags[1024];
    fp_opt_flags_format(r->data_flags, r->opt_flags, flags, sizeof flags);
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= set(o, "gpu", json_string(r->gpu));
    bad |= set(o, "app", json_string(r->app));
    bad |= set(o, "objective", json_string(r->objective));
    bad |= set(o, "max_slowdown", num_json(r->max_slowdown));
    bad |= set(o, "freq_mhz", num_json(r->freq_mhz));
    bad |= set(o, "baseline_mhz", num_json(r->baseline_mhz));
    bad |= set(o, "time_s", num_json(r->time_s));
    bad |= set(o, "energy_j", num_json(r->energy_j));
    bad |= set(o, "power_w", num_json(r->power_w));
    bad |= set(o, "energy_saving", num_json(r->cmp.energy_saving));
    bad |= set(o, "energy_saving_lo", num_json(r->cmp.energy_saving_lo));
    bad |= set(o, "energy_saving_hi", num_json(r->cmp.energy_saving_hi));
    bad |= set(o, "slowdown", num_json(r->cmp.slowdown));
    bad |= set(o, "slowdown_lo", num_json(r->cmp.slowdown_lo));
    bad |= set(o, "slowdown_hi", num_json(r->cmp.slowdown_hi));
    bad |= set(o, "slowdown_bound", num_json(r->cmp.slowdown_bound));
    bad |= set(o, "feasible", json_boolean(r->feasible));
    bad |= set(o, "flags", json_string(flags));
    bad |= set(o, "category", r->category[0] ? json_string(r->category) : json_null());
    bad |= set(o, "objective_value", num_json(r->objective_value));
    bad |= set(o, "verdict", json_string(fp_verdict_name(r->verdict)));
    bad |= set(o, "verdict_reason", json_string(r->verdict_reason));
    bad |= set(o, "message", r->message[0] ? json_string(r->message) : json_null());
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *result_item(void *ctx, size_t i)
{
    return result_json(&((const fp_opt_results *)ctx)->items[i]);
}

/* One result at a time: a fleet has hundreds of thousands (util/json_stream.h). */
fp_status fp_opt_write_json(const fp_opt_results *r, const char *path, fp_error *err)
{
    json_t *root = json_object();
    if (!root || set(root, "baseline", json_string(r->baseline)) ||
        set(root, "confidence", num_json(r->confidence)) ||
        set(root, "budget_confidence", num_json(r->budget_confidence)) ||
        set(root, "margin", num_json(r->margin)) ||
        (r->simulated && set(root, "simulated", json_true())) ||
        set(root, "results", json_null())) {
        json_decref(root);
        return fp_error_set(err, FP_ERR_NOMEM, "optimize: out of memory");
    }
    return fp_json_write_stream(path, root, "results", r->len, result_item, (void *)r,
                                FP_JSON_FLAGS, err);
}

fp_status fp_opt_write_csv(const fp_opt_results *r, const char *path, fp_error *err)
{
    fp_atomic_file f;
    fp_status st = fp_atomic_open(&f, path, err);
    if (st)
        return st;
    fputs("gpu,app,objective,max_slowdown,freq_mhz,baseline_mhz,time_s,energy_j,power_w,"
          "energy_saving,energy_saving_lo,energy_saving_hi,slowdown,slowdown_lo,slowdown_hi,"
          "feasible,flags,baseline,category,objective_value,message,slowdown_bound,verdict,verdict_"
          "reason\n",
          f.fp);
    for (size_t i = 0; i < r->len; i++) {
        const fp_opt_result *x = &r->items[i];
        char flags[1024];
        fp_opt_flags_format(x->data_flags, x->opt_flags, flags, sizeof flags);
        fp_csv_put_str(f.fp, x->gpu);
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, x->app);
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, x->objective);
        fp_csv_put_num(f.fp, x->max_slowdown);
        fp_csv_put_num(f.fp, x->freq_mhz);
        fp_csv_put_num(f.fp, x->baseline_mhz);
        fp_csv_put_num(f.fp, x->time_s);
        fp_csv_put_num(f.fp, x->energy_j);
        fp_csv_put_num(f.fp, x->power_w);
        fp_csv_put_num(f.fp, x->cmp.energy_saving);
        fp_csv_put_num(f.fp, x->cmp.energy_saving_lo);
        fp_csv_put_num(f.fp, x->cmp.energy_saving_hi);
        fp_csv_put_num(f.fp, x->cmp.slowdown);
        fp_csv_put_num(f.fp, x->cmp.slowdown_lo);
        fp_csv_put_num(f.fp, x->cmp.slowdown_hi);
        fprintf(f.fp, ",%s,", x->feasible ? "true" : "false");
        fp_csv_put_str(f.fp, flags);
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, r->baseline);
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, x->category);
        fp_csv_put_num(f.fp, x->objective_value);
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, x->message);
        fp_csv_put_num(f.fp, x->cmp.slowdown_bound);
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, fp_verdict_name(x->verdict));
        fputc(',', f.fp);
        fp_csv_put_str(f.fp, x->verdict_reason);
        fputc('\n', f.fp);
    }
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    return st;
}

static void pct(char *buf, size_t n, double v, double lo, double hi)
{
    if (!isfinite(v))
        snprintf(buf, n, "-");
    else if (isfinite(lo) && isfinite(hi))
        snprintf(buf, n, "%6.1f%% [%5.1f, %5.1f]", 100 * v, 100 * lo, 100 * hi);
    else
        snprintf(buf, n, "%6.1f%% [   ?,    ?]", 100 * v);
}

void fp_opt_print_table(const fp_opt_results *r, FILE *fp)
{
    if (r->simulated)
        fprintf(fp, "# SIMULATED DATA: measured on freqpilot's simulated GPU, not on hardware\n");
    fprintf(fp,
            "# choice: lowest estimated objective; a faster clock is kept unless a slower one is "
            "better by more than %.1f %%;\n# budget: the slowdown's %.0f %% one-sided bound "
            "within it; intervals: %.0f %% (docs/method.md C)\n",
            100 * r->margin, 100 * r->budget_confidence, 100 * r->confidence);
    fprintf(fp, "%-6s %-16s %-10s %6s %6s %6s %-25s %-25s %-27s %s\n", "gpu", "app", "objective",
            "budget", "MHz", "base", "energy saving [95% CI]", "slowdown [95% CI]", "verdict",
            "notes");
    for (size_t i = 0; i < r->len; i++) {
        const fp_opt_result *x = &r->items[i];
        char bud[16], sav[48], slo[48], flags[1024];
        if (isfinite(x->max_slowdown))
            snprintf(bud, sizeof bud, "%g%%", 100 * x->max_slowdown);
        else
            snprintf(bud, sizeof bud, "-");
        pct(sav, sizeof sav, x->cmp.energy_saving, x->cmp.energy_saving_lo,
            x->cmp.energy_saving_hi);
        pct(slo, sizeof slo, x->cmp.slowdown, x->cmp.slowdown_lo, x->cmp.slowdown_hi);
        fp_opt_flags_format(x->data_flags, x->opt_flags, flags, sizeof flags);
        fprintf(fp, "%-6s %-16s %-10s %6s %6.0f %6.0f %-25s %-25s %-27s %s\n", x->gpu, x->app,
                x->objective, bud, x->freq_mhz, x->baseline_mhz, sav, slo,
                fp_verdict_name(x->verdict), flags);
        fprintf(fp, "       %s\n", x->verdict_reason);
    }
}

/* Single-quoted for sh. */
static void sh_quote(FILE *fp, const char *s)
{
    fputc('\'', fp);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", fp);
        else
            fputc(*s, fp);
    }
    fputc('\'', fp);
}

/* The result of (gpu, app) the deploy script uses: the first one (the first objective). */
static int first_of_pair(const fp_opt_results *r, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(r->items[j].gpu, r->items[i].gpu) == 0 &&
            strcmp(r->items[j].app, r->items[i].app) == 0)
            return 0;
    return 1;
}

/* The text of a verdict's reason as a sh comment or double-quoted message (no quotes). */
static void sh_text(FILE *fp, const char *s)
{
    for (; *s; s++)
        fputc(*s == '"' || *s == '\\' || *s == '$' || *s == '`' || *s == '\n' ? '\'' : *s, fp);
}

fp_status fp_opt_write_deploy_script(const fp_opt_results *r, const char *path, int force,
                                     fp_error *err)
{
    fp_atomic_file f;
    fp_status st = fp_atomic_open(&f, path, err);
    if (st)
        return st;
    FILE *fp = f.fp;
    fputs("#!/bin/sh\n"
          "# Generated by freqpilot optimize. Locks the chosen SM clock of one (gpu, app)\n"
          "# through the clock guard (a state file records what to restore).\n"
          "#   sh THIS_SCRIPT GPU/APP [GPU_INDEX]   e.g. A100/llama 0\n"
          "#   sh THIS_SCRIPT restore [ARGS]        freqpilot restore ARGS\n"
          "# FREQPILOT (default: freqpilot) and FREQPILOT_BACKEND (nvml) may be overridden.\n",
          fp);
    fprintf(fp,
            "# Only recommendations whose verdict is \"deployable\" are applied%s; the others "
            "exit 1\n# with their verdict.\n",
            force ? " (written with --force: every recommendation is)" : "");
    fputs("set -eu\n"
          "FREQPILOT=${FREQPILOT:-freqpilot}\n"
          "BACKEND=${FREQPILOT_BACKEND:-nvml}\n"
          "what=${1:?usage: $0 GPU/APP [GPU_INDEX] | restore [ARGS]}\n"
          "shift\n"
          "if [ \"$what\" = restore ]; then\n"
          "    exec \"$FREQPILOT\" restore \"$@\"\n"
          "fi\n"
          "gpu=${1:-0}\n"
          "case \"$what\" in\n",
          fp);
    for (size_t i = 0; i < r->len; i++) {
        const fp_opt_result *x = &r->items[i];
        if (!first_of_pair(r, i))
            continue;
        fputs("    ", fp);
        sh_quote(fp, x->gpu);
        fputc('/', fp);
        sh_quote(fp, x->app);
        fprintf(fp, ")\n        # objective %s, budget ", x->objective);
        if (isfinite(x->max_slowdown))
            fprintf(fp, "%.3g", x->max_slowdown);
        else
            fputs("none", fp);
        fprintf(fp, ", energy saving %.1f %%, slowdown %.1f %%\n        # verdict: %s: ",
                100 * x->cmp.energy_saving, 100 * x->cmp.slowdown, fp_verdict_name(x->verdict));
        sh_text(fp, x->verdict_reason);
        fputc('\n', fp);
        if (x->verdict == FP_VERDICT_DEPLOYABLE || force) {
            fprintf(fp,
                    "        exec \"$FREQPILOT\" apply --backend \"$BACKEND\" --gpu \"$gpu\" "
                    "--clock %.0f%s ;;\n",
                    x->freq_mhz, x->verdict == FP_VERDICT_DEPLOYABLE ? "" : " # forced");
        } else {
            fprintf(fp, "        echo \"%s/%s: not applied: %s: ", x->gpu, x->app,
                    fp_verdict_name(x->verdict));
            sh_text(fp, x->verdict_reason);
            fputs("\" >&2\n        exit 1 ;;\n", fp);
        }
    }
    fputs("    *)\n"
          "        echo \"no recommendation for $what\" >&2\n"
          "        exit 1 ;;\n"
          "esac\n",
          fp);
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    if (!st && strcmp(path, "-") != 0)
        chmod(path, 0755);
    return st;
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void jstr(json_t *o, const char *k, char *buf, size_t n)
{
    json_t *v = json_object_get(o, k);
    snprintf(buf, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static void parse_flags(const char *s, uint32_t *data, uint32_t *opt)
{
    *data = *opt = 0;
    while (*s) {
        size_t len = strcspn(s, ";");
        for (unsigned b = 0; b < 32; b++) {
            const char *n = fp_flag_name(b);
            if (n && strlen(n) == len && strncmp(n, s, len) == 0)
                *data |= 1u << b;
            n = fp_opt_flag_name(b);
            if (n && strlen(n) == len && strncmp(n, s, len) == 0)
                *opt |= 1u << b;
        }
        s += len;
        if (*s == ';')
            s++;
    }
}

typedef struct opt_read {
    const char *path;
    fp_opt_results *out;
    fp_error *err;
} opt_read;

static double num_of(json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static fp_status opt_member(void *ctx, const char *key, json_t *v)
{
    opt_read *x = ctx;
    if (!strcmp(key, "baseline"))
        snprintf(x->out->baseline, sizeof x->out->baseline, "%s",
                 json_is_string(v) ? json_string_value(v) : "");
    else if (!strcmp(key, "confidence"))
        x->out->confidence = num_of(v);
    else if (!strcmp(key, "budget_confidence"))
        x->out->budget_confidence = num_of(v);
    else if (!strcmp(key, "margin"))
        x->out->margin = num_of(v);
    else if (!strcmp(key, "simulated"))
        x->out->simulated = json_is_true(v);
    return FP_OK;
}

static fp_status opt_result(void *ctx, size_t i, json_t *o)
{
    opt_read *x = ctx;
    fp_opt_results *out = x->out;
    fp_opt_result r;
    memset(&r, 0, sizeof r);
    if (!json_is_object(o))
        return fp_error_at(x->err, FP_ERR_FORMAT, x->path, 0, "results[%zu]: expected an object",
                           i);
    jstr(o, "gpu", r.gpu, sizeof r.gpu);
    jstr(o, "app", r.app, sizeof r.app);
    jstr(o, "objective", r.objective, sizeof r.objective);
    jstr(o, "category", r.category, sizeof r.category);
    jstr(o, "message", r.message, sizeof r.message);
    r.max_slowdown = jnum(o, "max_slowdown");
    r.freq_mhz = jnum(o, "freq_mhz");
    r.baseline_mhz = jnum(o, "baseline_mhz");
    r.time_s = jnum(o, "time_s");
    r.energy_j = jnum(o, "energy_j");
    r.power_w = jnum(o, "power_w");
    r.objective_value = jnum(o, "objective_value");
    r.cmp.energy_saving = jnum(o, "energy_saving");
    r.cmp.energy_saving_lo = jnum(o, "energy_saving_lo");
    r.cmp.energy_saving_hi = jnum(o, "energy_saving_hi");
    r.cmp.slowdown = jnum(o, "slowdown");
    r.cmp.slowdown_lo = jnum(o, "slowdown_lo");
    r.cmp.slowdown_hi = jnum(o, "slowdown_hi");
    r.cmp.slowdown_bound = jnum(o, "slowdown_bound");
    r.feasible = json_is_true(json_object_get(o, "feasible"));
    char verdict[64];
    jstr(o, "verdict", verdict, sizeof verdict);
    jstr(o, "verdict_reason", r.verdict_reason, sizeof r.verdict_reason);
    int vd = fp_verdict_from_name(verdict);
    if (vd < 0) {
        /* An older file without verdicts: nothing in it may be deployed unchecked. */
        vd = FP_VERDICT_INSUFFICIENT;
        snprintf(r.verdict_reason, sizeof r.verdict_reason,
                 "%s: no verdict in the file (written by an older freqpilot optimize): run "
                 "optimize again",
                 verdict[0] ? verdict : "unknown");
    }
    r.verdict = (fp_verdict)vd;
    char flags[1024];
    jstr(o, "flags", flags, sizeof flags);
    parse_flags(flags, &r.data_flags, &r.opt_flags);
    if (!r.gpu[0] || !r.app[0] || !isfinite(r.freq_mhz))
        return fp_error_at(x->err, FP_ERR_FORMAT, x->path, 0,
                           "results[%zu]: expected gpu, app and freq_mhz", i);
    /* What no recommendation can be (docs/formats.md, "Impossible values"). */
    if (!(r.freq_mhz > 0 && r.freq_mhz <= 10000) ||
        (isfinite(r.baseline_mhz) && !(r.baseline_mhz > 0 && r.baseline_mhz <= 10000)) ||
        r.time_s < 0 || r.energy_j < 0 || r.power_w < 0 || r.power_w > 5000)
        return fp_error_at(x->err, FP_ERR_PARSE, x->path, 0,
                           "results[%zu]: impossible values (expected freq_mhz and baseline_mhz of "
                           "1..10000 MHz, time_s and energy_j >= 0, power_w of 0..5000 W)",
                           i);
    if (FP_GROW(out->items, out->len, out->cap, 16))
        return fp_error_set(x->err, FP_ERR_NOMEM, "out of memory");
    out->items[out->len++] = r;
    return FP_OK;
}

/* One result at a time (util/json_stream.h): a fleet's file has hundreds of thousands. */
fp_status fp_opt_read_json(const char *path, fp_opt_results *out, fp_error *err)
{
    memset(out, 0, sizeof *out);
    /* The original project's optimal_frequencies.json: its numbers, labelled as such. */
    if (fp_aie_results_detect(path))
        return fp_aie_results_read(path, out, err);
    out->confidence = out->budget_confidence = out->margin = NAN; /* absent: unknown */
    opt_read x = {path, out, err};
    int have = 0;
    fp_status st = fp_json_read_stream(path, "results", opt_member, opt_result, &x, &have, err);
    if (!st && !have)
        st = fp_error_at(err, FP_ERR_FORMAT, path, 0,
                         "expected an object with a \"results\" array (freqpilot optimize "
                         "output)");
    if (st)
        fp_opt_results_free(out);
    return st;
}
