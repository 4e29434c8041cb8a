/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "freqpilot/error.h"

fp_status fp_error_set(fp_error *err, fp_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

fp_status fp_error_at(fp_error *err, fp_status code, const char *file, long line, const char *fmt,
                      ...)
{
    if (err) {
        va_list ap;
        int n;
        if (line > 0)
            n = snprintf(err->msg, sizeof err->msg, "%s:%ld: ", file, line);
        else
            n = snprintf(err->msg, sizeof err->msg, "%s: ", file);
        if (n < 0)
            n = 0;
        if ((size_t)n >= sizeof err->msg)
            n = (int)sizeof err->msg - 1;
        va_start(ap, fmt);
        vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void fp_error_clear(fp_error *err)
{
    if (err) {
        err->code = FP_OK;
        err->msg[0] = '\0';
    }
}

void fp_info(const fp_diag *diag, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (!diag || !diag->info)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    diag->info(diag->user, buf);
}

void fp_warn(const fp_diag *diag, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (!diag || !diag->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    diag->warn(diag->user, buf);
}
