/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Strict clock state files (include/freqpilot/statefile.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/statefile.h"
#include "util/safedir.h"

#define MAX_MHZ 100000
#define MAX_W 100000.0

void fp_state_init(fp_state *s)
{
    memset(s, 0, sizeof *s);
    s->owner_uid = -1;
    s->changed.power_limit_w = NAN;
    s->restore_power_w = NAN;
}

/* ---- parse ---- */

typedef struct pctx {
    const char *origin;
    fp_error *err;
} pctx;

static fp_status bad(const pctx *c, const char *key, const char *expected)
{
    return fp_error_at(c->err, FP_ERR_PARSE, c->origin, 0,
                       "state file: \"%s\": expected %s; refusing it", key, expected);
}

static fp_status need_bool(const pctx *c, json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v))
        return bad(c, key, "true or false");
    *out = json_is_true(v);
    return FP_OK;
}

static fp_status get_int(const pctx *c, json_t *o, const char *key, int required, long long lo,
                         long long hi, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v && !required)
        return FP_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char what[96];
        snprintf(what, sizeof what, "an integer %lld..%lld", lo, hi);
        return bad(c, key, what);
    }
    *out = json_integer_value(v);
    return FP_OK;
}

/* A number in (0, MAX_W) or null (NAN); the key must be present when required. */
static fp_status get_watts(const pctx *c, json_t *o, const char *key, int required, double *out)
{
    json_t *v = json_object_get(o, key);
    *out = NAN;
    if (!v && !required)
        return FP_OK;
    if (json_is_null(v))
        return FP_OK;
    if (!json_is_number(v) || !(json_number_value(v) > 0 && json_number_value(v) < MAX_W))
        return bad(c, key, "null or a power limit in watts (0 < W < 100000)");
    *out = json_number_value(v);
    return FP_OK;
}

static fp_status get_str(const pctx *c, json_t *o, const char *key, int required, char *buf,
                         size_t size)
{
    json_t *v = json_object_get(o, key);
    if (!v && !required)
        return FP_OK;
    if (!json_is_string(v) || json_string_length(v) >= size ||
        strlen(json_string_value(v)) != json_string_length(v) ||
        (required && json_string_length(v) == 0)) {
        char what[64];
        snprintf(what, sizeof what, "a %sstring shorter than %zu bytes",
                 required ? "non-empty " : "", size);
        return bad(c, key, what);
    }
    snprintf(buf, size, "%s", json_string_value(v));
    return FP_OK;
}

static int ident(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

fp_status fp_state_parse(const char *text, size_t len, const char *origin, fp_state *s,
                         fp_error *err)
{
    fp_state_init(s);
    pctx c = {origin ? origin : "state file", err};
    if (len > FP_STATE_MAX_BYTES)
        return fp_error_at(err, FP_ERR_PARSE, c.origin, 0, "state file larger than %d bytes",
                           FP_STATE_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fp_error_at(err, FP_ERR_PARSE, c.origin, je.line,
                           "state file: not JSON (%s); refusing it", je.text);
    fp_status st = FP_OK;
    long long v = 0;
    json_t *fmt = json_object_get(root, "format");
    json_t *ch = json_object_get(root, "changed");
    json_t *rs = json_object_get(root, "restore");
    json_t *wl = json_object_get(root, "workload");
    if (!json_is_object(root) || !json_is_string(fmt) ||
        strcmp(json_string_value(fmt), FP_STATE_FORMAT) != 0) {
        st = bad(&c, "format", "\"" FP_STATE_FORMAT "\" (not a freqpilot state file)");
        goto out;
    }
    if ((st = get_int(&c, root, "format_version", 1, 1, 1, &v)))
        goto out;
    if ((st = get_str(&c, root, "backend", 1, s->backend, sizeof s->backend)))
        goto out;
    if (!ident(s->backend)) {
        st = bad(&c, "backend", "a backend name such as \"nvml\" or \"sim\"");
        goto out;
    }
    if ((st = get_int(&c, root, "gpu_index", 1, 0, 4095, &v)))
        goto out;
    s->gpu_index = (unsigned)v;
    if ((st = get_str(&c, root, "gpu_uuid", 1, s->gpu_uuid, sizeof s->gpu_uuid)))
        goto out;
    if (!printable(s->gpu_uuid)) {
        st = bad(&c, "gpu_uuid", "a GPU UUID (printable, no spaces)");
        goto out;
    }
    if ((st = get_str(&c, root, "gpu_name", 0, s->gpu_name, sizeof s->gpu_name)))
        goto out;
    if ((st = get_int(&c, root, "pid", 1, 0, 0x7fffffff, &v)))
        goto out;
    s->pid = (long)v;
    v = -1;
    if ((st = get_int(&c, root, "owner_uid", 0, 0, 0x7fffffff, &v)))
        goto out;
    s->owner_uid = (long)v;
    json_t *t = json_object_get(root, "start_utc_s");
    if (t && (!json_is_number(t) || !isfinite(json_number_value(t)))) {
        st = bad(&c, "start_utc_s", "a number of seconds");
        goto out;
    }
    s->start_utc_s = t ? json_number_value(t) : 0;
    if ((st = get_str(&c, root, "command", 0, s->command, sizeof s->command)))
        goto out;
    if (!json_is_object(ch)) {
        st = bad(&c, "changed", "an object");
        goto out;
    }
    if (!json_is_object(rs)) {
        st = bad(&c, "restore", "an object");
        goto out;
    }
    fp_gpu_clock_state *cs = &s->changed;
    long long mhz[4] = {0, 0, 0, 0};
    static const char *const mkeys[4] = {"locked_min_mhz", "locked_max_mhz", "app_mem_mhz",
                                         "app_gr_mhz"};
    if ((st = need_bool(&c, ch, "locked_clocks", &cs->locked)) ||
        (st = need_bool(&c, ch, "app_clocks", &cs->app_clocks_set)) ||
        (st = need_bool(&c, ch, "power_limit", &cs->power_limit_set)))
        goto out;
    for (int i = 0; i < 4; i++)
        if ((st = get_int(&c, ch, mkeys[i], 0, 0, MAX_MHZ, &mhz[i])))
            goto out;
    cs->locked_min_mhz = (unsigned)mhz[0];
    cs->locked_max_mhz = (unsigned)mhz[1];
    cs->app_mem_mhz = (unsigned)mhz[2];
    cs->app_gr_mhz = (unsigned)mhz[3];
    if ((st = get_watts(&c, ch, "power_limit_w", 0, &cs->power_limit_w)))
        goto out;
    if ((st = need_bool(&c, rs, "reset_locked_clocks", &s->reset_locked)) ||
        (st = need_bool(&c, rs, "reset_app_clocks", &s->reset_app)) ||
        (st = get_watts(&c, rs, "power_limit_w", 1, &s->restore_power_w)))
        goto out;
    /* What was changed is reset even when "restore" forgot it (resetting is harmless). */
    s->reset_locked |= cs->locked;
    s->reset_app |= cs->app_clocks_set;
    if (cs->power_limit_set && isnan(s->restore_power_w)) {
        st =
            bad(&c, "restore.power_limit_w", "the limit to put back (changed.power_limit is true)");
        goto out;
    }
    if (wl && !json_is_null(wl)) {
        long long pg = 0, uid = 0, ticks = 0;
        if (!json_is_object(wl)) {
            st = bad(&c, "workload", "an object or null");
            goto out;
        }
        if ((st = get_int(&c, wl, "pgid", 1, 2, 0x7fffffff, &pg)) ||
            (st = get_int(&c, wl, "uid", 1, 0, 0x7fffffff, &uid)) ||
            (st = get_int(&c, wl, "start_ticks", 1, 0, 0x7fffffffffffffffLL, &ticks)))
            goto out;
        s->workload_pgid = (long)pg;
        s->workload_uid = (long)uid;
        s->workload_start_ticks = (unsigned long long)ticks;
    }
out:
    json_decref(root);
    return st;
}

/* ---- format ---- */

static void iso_utc(double t, char *buf, size_t size)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    int ms = (int)((t - (double)s) * 1000.0);
    if (ms < 0 || ms > 999)
        ms = 0;
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03dZ", base, ms);
}

static json_t *watts(double w)
{
    return isfinite(w) ? json_real(w) : json_null();
}

char *fp_state_format(const fp_state *s)
{
    json_t *root = json_object();
    char utc[40];
    iso_utc(s->start_utc_s, utc, sizeof utc);
    json_object_set_new(root, "format", json_string(FP_STATE_FORMAT));
    json_object_set_new(root, "format_version", json_integer(1));
    json_object_set_new(root, "backend", json_string(s->backend));
    json_object_set_new(root, "gpu_index", json_integer(s->gpu_index));
    json_object_set_new(root, "gpu_uuid", json_string(s->gpu_uuid));
    json_object_set_new(root, "gpu_name", json_string(s->gpu_name));
    json_object_set_new(root, "pid", json_integer(s->pid));
    if (s->owner_uid >= 0)
        json_object_set_new(root, "owner_uid", json_integer(s->owner_uid));
    json_object_set_new(root, "start_utc", json_string(utc));
    json_object_set_new(root, "start_utc_s", json_real(s->start_utc_s));
    json_object_set_new(root, "command", json_string(s->command));
    const fp_gpu_clock_state *c = &s->changed;
    json_t *ch = json_object();
    json_object_set_new(ch, "locked_clocks", json_boolean(c->locked));
    json_object_set_new(ch, "locked_min_mhz", json_integer(c->locked_min_mhz));
    json_object_set_new(ch, "locked_max_mhz", json_integer(c->locked_max_mhz));
    json_object_set_new(ch, "app_clocks", json_boolean(c->app_clocks_set));
    json_object_set_new(ch, "app_mem_mhz", json_integer(c->app_mem_mhz));
    json_object_set_new(ch, "app_gr_mhz", json_integer(c->app_gr_mhz));
    json_object_set_new(ch, "power_limit", json_boolean(c->power_limit_set));
    json_object_set_new(ch, "power_limit_w", watts(c->power_limit_w));
    json_object_set_new(root, "changed", ch);
    json_t *rs = json_object();
    json_object_set_new(rs, "reset_locked_clocks", json_boolean(s->reset_locked));
    json_object_set_new(rs, "reset_app_clocks", json_boolean(s->reset_app));
    json_object_set_new(rs, "power_limit_w", watts(s->restore_power_w));
    json_object_set_new(root, "restore", rs);
    if (s->workload_pgid > 1) {
        json_t *wl = json_object();
        json_object_set_new(wl, "pgid", json_integer(s->workload_pgid));
        json_object_set_new(wl, "uid", json_integer(s->workload_uid));
        json_object_set_new(wl, "start_ticks", json_integer((json_int_t)s->workload_start_ticks));
        json_object_set_new(root, "workload", wl);
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *out = realloc(text, n + 2);
    if (!out) {
        free(text);
        return NULL;
    }
    out[n] = '\n';
    out[n + 1] = 0;
    return out;
}

/* ---- folder and files ---- */

fp_status fp_state_file_name(char *buf, size_t size, const char *gpu_uuid, fp_error *err)
{
    return fp_safedir_name(buf, size, gpu_uuid, ".json", err);
}

fp_status fp_state_default_dir(char *buf, size_t size, fp_error *err)
{
    const char *env = getenv("FREQPILOT_STATE_DIR");
    int n;
    if (env && *env)
        n = snprintf(buf, size, "%s", env);
    else if (geteuid() == 0)
        n = snprintf(buf, size, "/var/lib/freqpilot");
    else if ((env = getenv("XDG_STATE_HOME")) && *env == '/')
        n = snprintf(buf, size, "%s/freqpilot", env);
    else if ((env = getenv("HOME")) && *env)
        n = snprintf(buf, size, "%s/.local/state/freqpilot", env);
    else
        return fp_error_set(err, FP_ERR_INVALID,
                            "no state directory: set FREQPILOT_STATE_DIR or HOME");
    if (n < 0 || (size_t)n >= size)
        return fp_error_set(err, FP_ERR_INVALID, "state directory path too long");
    return FP_OK;
}

fp_status fp_state_dir_open(fp_state_dir *d, const char *path, int create, int *missing,
                            fp_error *err)
{
    d->fd = -1;
    d->path[0] = 0;
    if (missing)
        *missing = 0;
    fp_status st;
    if (!path) {
        if ((st = fp_state_default_dir(d->path, sizeof d->path, err)))
            return st;
    } else if (snprintf(d->path, sizeof d->path, "%s", path) >= (int)sizeof d->path) {
        return fp_error_set(err, FP_ERR_INVALID, "state folder path too long");
    }
    return fp_safedir_open(d->path, create, "state folder", &d->fd, missing, err);
}

void fp_state_dir_close(fp_state_dir *d)
{
    if (d && d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
}

fp_status fp_state_read(const fp_state_dir *d, const char *name, fp_state *s, int *missing,
                        fp_error *err)
{
    fp_state_init(s);
    char *text;
    size_t len;
    fp_status st =
        fp_safedir_read(d->fd, d->path, name, FP_STATE_MAX_BYTES, &text, &len, missing, err);
    if (st)
        return st;
    char origin[4400];
    snprintf(origin, sizeof origin, "%s/%s", d->path, name);
    st = fp_state_parse(text, len, origin, s, err);
    free(text);
    if (st)
        return st;
    char want[160];
    if ((st = fp_state_file_name(want, sizeof want, s->gpu_uuid, err)))
        return st;
    if (strcmp(want, name) != 0)
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s names GPU %s, whose state file is %s/%s: refusing a state file "
                            "that does not sit under its GPU's name",
                            origin, s->gpu_uuid, d->path, want);
    return FP_OK;
}

fp_status fp_state_write(const fp_state_dir *d, const fp_state *s, fp_error *err)
{
    char name[160];
    fp_status st = fp_state_file_name(name, sizeof name, s->gpu_uuid, err);
    if (st)
        return st;
    char *text = fp_state_format(s);
    if (!text)
        return fp_error_set(err, FP_ERR_NOMEM, "%s/%s: out of memory", d->path, name);
    st = fp_safedir_write(d->fd, d->path, name, text, strlen(text), 0644, err);
    free(text);
    return st;
}

fp_status fp_state_remove(const fp_state_dir *d, const char *name, fp_error *err)
{
    if (unlinkat(d->fd, name, 0) && errno != ENOENT)
        return fp_error_set(err, FP_ERR_IO, "%s/%s: cannot remove: %s", d->path, name,
                            strerror(errno));
    return FP_OK;
}

void fp_state_remove_temporaries(const fp_state_dir *d, const char *name)
{
    char prefix[200];
    int n = snprintf(prefix, sizeof prefix, ".%s.tmp.", name);
    if (n < 0 || (size_t)n >= sizeof prefix)
        return;
    int fd = dup(d->fd);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(dir);
    struct dirent *de;
    while ((de = readdir(dir)))
        if (strncmp(de->d_name, prefix, (size_t)n) == 0)
            unlinkat(d->fd, de->d_name, 0);
    closedir(dir);
}

fp_status fp_state_list(const fp_state_dir *d, int (*fn)(void *user, const char *name), void *user,
                        fp_error *err)
{
    int fd = dup(d->fd);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return fp_error_set(err, FP_ERR_IO, "%s: cannot list: %s", d->path, strerror(errno));
    }
    rewinddir(dir);
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        if (fn(user, de->d_name))
            break;
    }
    closedir(dir);
    return FP_OK;
}
