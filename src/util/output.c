/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <string.h>

#include "freqpilot/atomic.h"
#include "util/output.h"

fp_status fp_json_write_atomic(const char *path, json_t *root, size_t flags, fp_error *err)
{
    if (!root)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory building the JSON", path);
    fp_atomic_file f;
    fp_status st = fp_atomic_open(&f, path, err);
    if (st) {
        json_decref(root);
        return st;
    }
    int bad = json_dumpf(root, f.fp, flags) != 0 || fputc('\n', f.fp) == EOF;
    json_decref(root);
    if (bad) {
        fp_atomic_abort(&f);
        return fp_error_set(err, FP_ERR_IO, "%s: write failed", path);
    }
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    return st;
}

void fp_csv_put_str(FILE *fp, const char *s)
{
    size_t n = strlen(s);
    if (!strpbrk(s, ",\"\n\r") && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

void fp_csv_put_num(FILE *fp, double v)
{
    fputc(',', fp);
    if (isfinite(v))
        fprintf(fp, "%.10g", v);
}

double fp_num_as_written(double v)
{
    if (!isfinite(v))
        return v;
    char buf[64];
    snprintf(buf, sizeof buf, "%.10g", v);
    return strtod(buf, NULL);
}
