/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "freqpilot/deploy.h"
#include "freqpilot/optimize.h"
#include "util/asuser.h"

int cli_verbosity = 1;
const char *cli_progname = "freqpilot";

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s", prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("error: ", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    if (cli_verbosity < 1)
        return;
    va_start(ap, fmt);
    vlog("warning: ", fmt, ap);
    va_end(ap);
}

void cli_info(const char *fmt, ...)
{
    va_list ap;
    if (cli_verbosity < 2)
        return;
    va_start(ap, fmt);
    vlog("info: ", fmt, ap);
    va_end(ap);
}

void cli_debug(const char *fmt, ...)
{
    va_list ap;
    if (cli_verbosity < 3)
        return;
    va_start(ap, fmt);
    vlog("debug: ", fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("error: ", fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s %s --help' for more information.\n", cli_progname, cmd);
    return EXIT_USAGE;
}

static void diag_warn(void *user, const char *msg)
{
    cli_diag_state *st = user;
    if (st)
        st->count++;
    cli_warn("%s", msg);
}

/*
 * Library details (each dropped run, ...) are info-level: shown with -v, otherwise counted
 * and summarised once when the command ends, so a noisy sweep cannot bury the warnings.
 */
static long info_total;

static void info_summary(void)
{
    if (info_total > 0 && cli_verbosity == 1)
        fprintf(stderr,
                "warning: %ld run(s) dropped as cold starts or outliers while aggregating (each "
                "explained with -v)\n",
                info_total);
    info_total = 0; /* said once */
}

void cli_diag_summary(void)
{
    info_summary();
}

static void diag_info(void *user, const char *msg)
{
    (void)user;
    static int registered;
    if (info_total++ == 0 && !registered) {
        registered = 1;
        atexit(info_summary);
    }
    cli_info("%s", msg);
}

fp_diag cli_diag(cli_diag_state *state)
{
    fp_diag d = {diag_warn, state, diag_info};
    return d;
}

int cli_check_output(const char *cmd, const char *option, const char *path)
{
    struct stat st;
    if (!path || strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    return cli_usage_error(cmd, "%s %s: is a folder, expected a file name", option, path);
}

int cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cli_parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int cli_mkdirs(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int cli_parse_fraction(const char *s, double *out)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    int percent = buf[n - 1] == '%';
    if (percent)
        buf[n - 1] = '\0';
    double v;
    if (cli_parse_double(buf, &v) || !(v >= 0.0))
        return -1;
    *out = percent ? v / 100.0 : v;
    return 0;
}

int cli_open_constraints(const char *spec, fp_constraints *c, const fp_constraints **out)
{
    *out = NULL;
    if (!spec || !spec[0])
        return 0;
    fp_error err;
    if (fp_constraints_open(spec, c, &err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    *out = c;
    return 0;
}

int cli_drop_root(void)
{
    const fp_invoker *who;
    fp_error err;
    if (fp_invoker_get(&who, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    int e = fp_invoker_become(who);
    if (e) {
        cli_error("cannot act as uid %ld: %s", (long)who->uid, strerror(e));
        return 1;
    }
    return 0;
}

int cli_check_state_dir_option(const char *cmd, const char *dir)
{
    const fp_invoker *who;
    fp_error err;
    if (fp_invoker_get(&who, &err)) {
        cli_error("%s", err.msg);
        return 1;
    }
    if (!who->drop)
        return 0;
    cli_usage_error(cmd,
                    "--state-dir %s: not under sudo (root writes clock state only where the "
                    "administrator said: $FREQPILOT_STATE_DIR or the default)",
                    dir);
    return 1;
}
