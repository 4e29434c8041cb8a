/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Slowdown budgets per application from an INI file (inih): categories with a
 * budget, applications mapped to a category (or to a number), a default
 * category for the rest. Names compare case-insensitively.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "freqpilot/optimize.h"
#include "util/input.h"

void fp_constraints_init(fp_constraints *c)
{
    static const struct {
        const char *name;
        double max_slowdown;
    } defaults[] = {
        {"latency-sensitive", 0.05}, {"interactive", 0.10}, {"balanced", 0.20},
        {"throughput", 0.30},        {"batch", 0.50},
    };
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        snprintf(c->categories[i].name, sizeof c->categories[i].name, "%s", defaults[i].name);
        c->categories[i].max_slowdown = defaults[i].max_slowdown;
    }
    c->ncategories = sizeof defaults / sizeof defaults[0];
}

static long find_category(const fp_constraints *c, const char *name)
{
    for (size_t i = 0; i < c->ncategories; i++)
        if (strcasecmp(c->categories[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* "0.05" or "5%" (fractions in [0, 10]); 0 on success. */
static int parse_budget(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(v))
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0' || v < 0.0 || v > 10.0)
        return -1;
    *out = v;
    return 0;
}

typedef struct parse_ctx {
    fp_constraints *c;
    char msg[512];
    int failed;
    /* App entries naming a category are resolved after the whole file is read, so a
     * category may be defined below the app that uses it. */
} parse_ctx;

static int fail(parse_ctx *p, const char *fmt, const char *a, const char *b)
{
    if (!p->failed) {
        snprintf(p->msg, sizeof p->msg, fmt, a, b);
        p->failed = 1;
    }
    return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *p = user;
    fp_constraints *c = p->c;
    double v;
    if (strcasecmp(section, "categories") == 0) {
        if (strlen(name) >= sizeof c->categories[0].name)
            return fail(p, "category name '%.40s%s' is too long (31 characters at most)", name,
                        "...");
        if (parse_budget(value, &v))
            return fail(p, "category '%s': expected a slowdown like 0.05 or 5%%, found '%.60s'",
                        name, value);
        long i = find_category(c, name);
        if (i < 0) {
            if (c->ncategories == FP_CONSTRAINTS_MAX_CATEGORIES)
                return fail(p, "too many categories (%s%s)", "32 at most", "");
            i = (long)c->ncategories++;
            snprintf(c->categories[i].name, sizeof c->categories[i].name, "%s", name);
        }
        c->categories[i].max_slowdown = v;
        return 1;
    }
    if (strcasecmp(section, "apps") == 0) {
        if (strlen(name) >= sizeof c->apps[0].app)
            return fail(p, "app name '%.40s%s' is too long (63 characters at most)", name, "...");
        if (strlen(value) == 0)
            return fail(p, "app '%s': expected a category or a slowdown%s", name, "");
        size_t i;
        for (i = 0; i < c->napps; i++)
            if (strcasecmp(c->apps[i].app, name) == 0)
                break;
        if (i == c->napps) {
            if (c->napps == FP_CONSTRAINTS_MAX_APPS)
                return fail(p, "too many apps (%s%s)", "256 at most", "");
            c->napps++;
        }
        snprintf(c->apps[i].app, sizeof c->apps[i].app, "%s", name);
        if (parse_budget(value, &v) == 0) {
            c->apps[i].category[0] = '\0';
            c->apps[i].max_slowdown = v;
        } else {
            if (strlen(value) >= sizeof c->apps[i].category)
                return fail(p, "app '%s': category '%.40s...' is too long", name, value);
            snprintf(c->apps[i].category, sizeof c->apps[i].category, "%s", value);
            c->apps[i].max_slowdown = NAN;
        }
        return 1;
    }
    if (strcasecmp(section, "defaults") == 0) {
        if (strcasecmp(name, "category") != 0)
            return fail(p, "[defaults]: unknown key '%s'%s (expected category)", name, "");
        if (strlen(value) >= sizeof c->default_category)
            return fail(p, "[defaults]: category '%.40s%s' is too long", value, "...");
        snprintf(c->default_category, sizeof c->default_category, "%s", value);
        return 1;
    }
    return fail(p, "unknown section [%.60s]%s (expected categories, apps or defaults)", section,
                "");
}

static fp_status finish(parse_ctx *p, int rc, const char *name, fp_error *err)
{
    if (rc == -1)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
    if (rc == -2)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", name);
    if (rc > 0)
        return fp_error_at(err, FP_ERR_PARSE, name, rc, "%s",
                           p->failed ? p->msg : "expected 'name = value' or '[section]'");
    fp_constraints *c = p->c;
    for (size_t i = 0; i < c->napps; i++) {
        if (!c->apps[i].category[0])
            continue;
        long k = find_category(c, c->apps[i].category);
        if (k < 0)
            return fp_error_at(err, FP_ERR_PARSE, name, 0,
                               "app '%s' names the unknown category '%s'", c->apps[i].app,
                               c->apps[i].category);
        c->apps[i].max_slowdown = c->categories[k].max_slowdown;
    }
    if (c->default_category[0] && find_category(c, c->default_category) < 0)
        return fp_error_at(err, FP_ERR_PARSE, name, 0, "[defaults] names the unknown category '%s'",
                           c->default_category);
    return FP_OK;
}

fp_status fp_constraints_load(const char *path, fp_constraints *c, fp_error *err)
{
    parse_ctx p = {.c = c};
    FILE *f = fp_input_fopen(path, err); /* regular files only: never blocks on a FIFO */
    if (!f)
        return err ? err->code : FP_ERR_IO;
    errno = 0;
    int rc = ini_parse_file(f, handler, &p);
    fclose(f);
    return finish(&p, rc, path, err);
}

fp_status fp_constraints_parse(const char *text, const char *name, fp_constraints *c, fp_error *err)
{
    parse_ctx p = {.c = c};
    int rc = ini_parse_string(text, handler, &p);
    return finish(&p, rc, name ? name : "(string)", err);
}

int fp_constraints_lookup(const fp_constraints *c, const char *app, double *max_slowdown,
                          const char **category)
{
    for (size_t i = 0; i < c->napps; i++)
        if (strcasecmp(c->apps[i].app, app) == 0) {
            *max_slowdown = c->apps[i].max_slowdown;
            if (category)
                *category = c->apps[i].category;
            return 0;
        }
    if (c->default_category[0]) {
        long k = find_category(c, c->default_category);
        if (k >= 0) {
            *max_slowdown = c->categories[k].max_slowdown;
            if (category)
                *category = c->categories[k].name;
            return 0;
        }
    }
    return -1;
}
