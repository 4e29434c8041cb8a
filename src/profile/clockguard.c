/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Clock safety (include/freqpilot/clockguard.h): a write-ahead state file per GPU, restore on
 * every exit path, and the signal plumbing that lets the owner restore before dying.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/clockguard.h"

#define STATE_FORMAT "freqpilot-state"
#define MAX_GUARDS 16

struct fp_clockguard {
    const fp_gpu_backend *be;
    fp_gpu *gpu;
    fp_gpu_info info;
    char path[4096]; /* "" = no state file */
    char command[2048];
    double start_utc_s;
    fp_gpu_clock_state changed;
    /* What restore does (inherited from a forced-over state file too). */
    int reset_locked, reset_app;
    double restore_power_w; /* NAN = nothing to restore */
    int power_changed;
};

static fp_clockguard *volatile live[MAX_GUARDS];
static int atexit_done;

/* ---- paths ---- */

static int dir_usable(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) == 0;
    /* Creatable when the parent is writable. */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return 0;
    *slash = 0;
    return access(parent, W_OK | X_OK) == 0;
}

fp_status fp_clockguard_default_dir(char *buf, size_t size, fp_error *err)
{
    const char *env = getenv("FREQPILOT_STATE_DIR");
    int n;
    if (env && *env) {
        n = snprintf(buf, size, "%s", env);
    } else if (geteuid() == 0 && dir_usable("/var/lib/freqpilot")) {
        n = snprintf(buf, size, "/var/lib/freqpilot");
    } else if ((env = getenv("XDG_STATE_HOME")) && *env == '/') {
        n = snprintf(buf, size, "%s/freqpilot", env);
    } else if ((env = getenv("HOME")) && *env) {
        n = snprintf(buf, size, "%s/.local/state/freqpilot", env);
    } else {
        return fp_error_set(err, FP_ERR_INVALID,
                            "no state directory: set FREQPILOT_STATE_DIR or HOME");
    }
    if (n < 0 || (size_t)n >= size)
        return fp_error_set(err, FP_ERR_INVALID, "state directory path too long");
    return FP_OK;
}

fp_status fp_clockguard_state_path(char *buf, size_t size, const char *state_dir, const char *uuid,
                                   fp_error *err)
{
    char dir[4096];
    if (!state_dir) {
        fp_status st = fp_clockguard_default_dir(dir, sizeof dir, err);
        if (st)
            return st;
        state_dir = dir;
    }
    char name[128];
    size_t j = 0;
    for (const char *p = uuid && *uuid ? uuid : "unknown"; *p && j < sizeof name - 1; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        name[j++] = ok ? c : '_';
    }
    name[j] = 0;
    int n = snprintf(buf, size, "%s/%s.json", state_dir, name);
    if (n < 0 || (size_t)n >= size)
        return fp_error_set(err, FP_ERR_INVALID, "state file path too long");
    return FP_OK;
}

static fp_status mkdir_p(const char *dir, fp_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return fp_error_set(err, FP_ERR_IO, "%s: cannot create folder: %s", tmp,
                                strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
    return FP_OK;
}

/* ---- state file ---- */

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

static fp_status write_state(const fp_clockguard *g, fp_error *err)
{
    if (!g->path[0])
        return FP_OK;
    json_t *root = json_object();
    char utc[40];
    iso_utc(g->start_utc_s, utc, sizeof utc);
    json_object_set_new(root, "format", json_string(STATE_FORMAT));
    json_object_set_new(root, "format_version", json_integer(1));
    json_object_set_new(root, "backend", json_string(g->be->name));
    json_object_set_new(root, "gpu_index", json_integer(g->info.index));
    json_object_set_new(root, "gpu_uuid", json_string(g->info.uuid));
    json_object_set_new(root, "gpu_name", json_string(g->info.name));
    json_object_set_new(root, "pid", json_integer(getpid()));
    json_object_set_new(root, "start_utc", json_string(utc));
    json_object_set_new(root, "start_utc_s", json_real(g->start_utc_s));
    json_object_set_new(root, "command", json_string(g->command));
    const fp_gpu_clock_state *c = &g->changed;
    json_t *ch = json_object();
    json_object_set_new(ch, "locked_clocks", json_boolean(c->locked));
    json_object_set_new(ch, "locked_min_mhz", json_integer(c->locked_min_mhz));
    json_object_set_new(ch, "locked_max_mhz", json_integer(c->locked_max_mhz));
    json_object_set_new(ch, "app_clocks", json_boolean(c->app_clocks_set));
    json_object_set_new(ch, "app_mem_mhz", json_integer(c->app_mem_mhz));
    json_object_set_new(ch, "app_gr_mhz", json_integer(c->app_gr_mhz));
    json_object_set_new(ch, "power_limit", json_boolean(c->power_limit_set));
    json_object_set_new(ch, "power_limit_w",
                        isfinite(c->power_limit_w) ? json_real(c->power_limit_w) : json_null());
    json_object_set_new(root, "changed", ch);
    json_t *rs = json_object();
    json_object_set_new(rs, "reset_locked_clocks", json_boolean(g->reset_locked));
    json_object_set_new(rs, "reset_app_clocks", json_boolean(g->reset_app));
    json_object_set_new(rs, "power_limit_w",
                        g->power_changed && isfinite(g->restore_power_w)
                            ? json_real(g->restore_power_w)
                            : json_null());
    json_object_set_new(root, "restore", rs);

    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", g->path, (long)getpid());
    fp_status st = FP_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (fd < 0 || !text) {
        st = fp_error_set(err, FP_ERR_IO, "%s: cannot write state file: %s", tmp,
                          fd < 0 ? strerror(errno) : "out of memory");
    } else {
        size_t len = strlen(text);
        int ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && !fsync(fd);
        ok = !close(fd) && ok;
        fd = -1;
        if (!ok || rename(tmp, g->path))
            st = fp_error_set(err, FP_ERR_IO, "%s: cannot write state file: %s", g->path,
                              strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    if (st)
        unlink(tmp);
    free(text);
    return st;
}

static int get_bool(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return v && json_is_true(v);
}

static double get_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return v && json_is_number(v) ? json_number_value(v) : NAN;
}

static int pid_alive(pid_t pid)
{
    if (pid <= 0)
        return 0;
    return kill(pid, 0) == 0 || errno == EPERM;
}

fp_status fp_clockguard_read_state(const char *path, fp_clockguard_report *rep, fp_error *err)
{
    memset(rep, 0, sizeof *rep);
    snprintf(rep->path, sizeof rep->path, "%s", path);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return fp_error_at(err, errno == ENOENT ? FP_ERR_IO : FP_ERR_PARSE, path, je.line,
                           "cannot read state file: %s", je.text);
    fp_status st = FP_OK;
    json_t *fmt = json_object_get(root, "format");
    json_t *be = json_object_get(root, "backend");
    json_t *ch = json_object_get(root, "changed");
    json_t *rs = json_object_get(root, "restore");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), STATE_FORMAT) != 0 ||
        !json_is_string(be) || !json_is_object(ch) || !json_is_object(rs)) {
        st = fp_error_at(err, FP_ERR_PARSE, path, 0,
                         "expected a freqpilot state file (format \"" STATE_FORMAT
                         "\" with backend, changed and restore)");
        goto out;
    }
    snprintf(rep->backend, sizeof rep->backend, "%s", json_string_value(be));
    json_t *u = json_object_get(root, "gpu_uuid");
    snprintf(rep->gpu_uuid, sizeof rep->gpu_uuid, "%s",
             json_is_string(u) ? json_string_value(u) : "");
    double idx = get_num(root, "gpu_index");
    rep->gpu_index = isfinite(idx) && idx >= 0 ? (unsigned)idx : 0;
    double pid = get_num(root, "pid");
    rep->pid = isfinite(pid) ? (pid_t)pid : 0;
    rep->pid_alive = rep->pid != getpid() && pid_alive(rep->pid);
    fp_gpu_clock_state *c = &rep->changed;
    c->locked = get_bool(ch, "locked_clocks") || get_bool(rs, "reset_locked_clocks");
    c->locked_min_mhz = (unsigned)fmax(0, get_num(ch, "locked_min_mhz"));
    c->locked_max_mhz = (unsigned)fmax(0, get_num(ch, "locked_max_mhz"));
    c->app_clocks_set = get_bool(ch, "app_clocks") || get_bool(rs, "reset_app_clocks");
    c->app_mem_mhz = (unsigned)fmax(0, get_num(ch, "app_mem_mhz"));
    c->app_gr_mhz = (unsigned)fmax(0, get_num(ch, "app_gr_mhz"));
    c->power_limit_w = get_num(rs, "power_limit_w");
    c->power_limit_set = isfinite(c->power_limit_w);
out:
    json_decref(root);
    return st;
}

/* ---- guard life cycle ---- */

static void run_atexit(void)
{
    for (int i = 0; i < MAX_GUARDS; i++) {
        fp_clockguard *g = live[i];
        if (g)
            fp_clockguard_restore(g, NULL);
    }
}

static void register_live(fp_clockguard *g)
{
    if (!atexit_done) {
        atexit(run_atexit);
        atexit_done = 1;
    }
    for (int i = 0; i < MAX_GUARDS; i++)
        if (!live[i]) {
            live[i] = g;
            return;
        }
}

static void unregister_live(fp_clockguard *g)
{
    for (int i = 0; i < MAX_GUARDS; i++)
        if (live[i] == g)
            live[i] = NULL;
}

fp_status fp_clockguard_begin(fp_clockguard **out, const fp_gpu_backend *be, fp_gpu *gpu,
                              const fp_clockguard_opts *opts, fp_error *err)
{
    *out = NULL;
    fp_clockguard_opts none = {0};
    if (!opts)
        opts = &none;
    fp_clockguard *g = calloc(1, sizeof *g);
    if (!g)
        return fp_error_set(err, FP_ERR_NOMEM, "clock guard: out of memory");
    g->be = be;
    g->gpu = gpu;
    g->restore_power_w = NAN;
    g->changed.power_limit_w = NAN;
    snprintf(g->command, sizeof g->command, "%s", opts->command ? opts->command : "");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g->start_utc_s = ts.tv_sec + ts.tv_nsec * 1e-9;
    fp_status st = be->info(gpu, &g->info, err);
    if (st)
        goto fail;
    if (!opts->no_state_file) {
        char dir[4096];
        if (opts->state_dir)
            snprintf(dir, sizeof dir, "%s", opts->state_dir);
        else if ((st = fp_clockguard_default_dir(dir, sizeof dir, err)))
            goto fail;
        if ((st = mkdir_p(dir, err)) ||
            (st = fp_clockguard_state_path(g->path, sizeof g->path, dir, g->info.uuid, err)))
            goto fail;
        if (access(g->path, F_OK) == 0) {
            fp_clockguard_report rep;
            fp_error e2;
            fp_status rst = fp_clockguard_read_state(g->path, &rep, &e2);
            if (!opts->force) {
                if (rst)
                    st = fp_error_set(err, FP_ERR_INVALID,
                                      "%s: unreadable state file of an earlier session (%s); "
                                      "check the GPU and remove it, or use --force",
                                      g->path, e2.msg);
                else if (rep.pid == getpid())
                    st = fp_error_set(err, FP_ERR_INVALID,
                                      "%s: GPU %s is already guarded by this process (pid "
                                      "%ld); end that guard first",
                                      g->path, g->info.uuid, (long)rep.pid);
                else if (rep.pid_alive)
                    st = fp_error_set(err, FP_ERR_INVALID,
                                      "%s: GPU %s is in use by another freqpilot (pid %ld, "
                                      "still running); stop it first or use --force",
                                      g->path, g->info.uuid, (long)rep.pid);
                else
                    st = fp_error_set(err, FP_ERR_INVALID,
                                      "%s: an earlier freqpilot (pid %ld, no longer running) "
                                      "left GPU %s with changed clocks; run 'freqpilot restore' "
                                      "first, or use --force",
                                      g->path, (long)rep.pid, g->info.uuid);
                goto fail;
            }
            if (!rst) {
                /* Taking over: whatever the earlier session changed is restored by us. */
                g->reset_locked = rep.changed.locked;
                g->reset_app = rep.changed.app_clocks_set;
                if (rep.changed.power_limit_set) {
                    g->power_changed = 1;
                    g->restore_power_w = rep.changed.power_limit_w;
                }
            }
        }
        if ((st = write_state(g, err)))
            goto fail;
    }
    register_live(g);
    *out = g;
    return FP_OK;
fail:
    free(g);
    return st;
}

fp_gpu *fp_clockguard_gpu(const fp_clockguard *g)
{
    return g->gpu;
}

const char *fp_clockguard_path(const fp_clockguard *g)
{
    return g->path;
}

void fp_clockguard_changes(const fp_clockguard *g, fp_gpu_clock_state *out)
{
    *out = g->changed;
}

fp_status fp_clockguard_lock_ex(fp_clockguard *g, unsigned min_mhz, unsigned max_mhz,
                                int allow_app_fallback, double *reached_mhz, int *used_app_clocks,
                                fp_error *err)
{
    if (used_app_clocks)
        *used_app_clocks = 0;
    if (reached_mhz)
        *reached_mhz = NAN;
    /* Write-ahead: the state file says "locked" before the driver is asked. */
    int was_locked = g->reset_locked;
    g->reset_locked = 1;
    g->changed.locked = 1;
    g->changed.locked_min_mhz = min_mhz;
    g->changed.locked_max_mhz = max_mhz;
    fp_status st = write_state(g, err);
    if (st)
        return st;
    st = g->be->lock_clocks(g->gpu, min_mhz, max_mhz, err);
    if (st == FP_ERR_UNSUPPORTED && allow_app_fallback) {
        g->reset_locked = was_locked;
        g->changed.locked = was_locked;
        st = fp_clockguard_set_app_clocks(g, g->info.mem_clock_mhz, max_mhz, err);
        if (!st && used_app_clocks)
            *used_app_clocks = 1;
    }
    if (st)
        return st;
    if (reached_mhz) {
        fp_sample s;
        fp_sample_clear(&s);
        fp_error e2;
        if (g->be->sample(g->gpu, &s, &e2) == FP_OK)
            *reached_mhz = s.v[FP_COL_SM_CLOCK_MHZ];
    }
    return FP_OK;
}

fp_status fp_clockguard_lock(fp_clockguard *g, unsigned min_mhz, unsigned max_mhz,
                             double *reached_mhz, fp_error *err)
{
    return fp_clockguard_lock_ex(g, min_mhz, max_mhz, 0, reached_mhz, NULL, err);
}

fp_status fp_clockguard_set_app_clocks(fp_clockguard *g, unsigned mem_mhz, unsigned gr_mhz,
                                       fp_error *err)
{
    g->reset_app = 1;
    g->changed.app_clocks_set = 1;
    g->changed.app_mem_mhz = mem_mhz;
    g->changed.app_gr_mhz = gr_mhz;
    fp_status st = write_state(g, err);
    if (st)
        return st;
    return g->be->set_app_clocks(g->gpu, mem_mhz, gr_mhz, err);
}

fp_status fp_clockguard_set_power_limit(fp_clockguard *g, double watts, fp_error *err)
{
    if (!g->power_changed) {
        /* The limit to go back to: the one in force now (re-read, not the cached info). */
        fp_gpu_info now;
        fp_status st = g->be->info(g->gpu, &now, err);
        if (st)
            return st;
        g->restore_power_w = now.power_limit_w;
        if (!isfinite(g->restore_power_w))
            return fp_error_set(err, FP_ERR_UNSUPPORTED,
                                "power limit: the current limit cannot be read, so it could "
                                "not be restored; not changing it");
        g->power_changed = 1;
    }
    g->changed.power_limit_set = 1;
    g->changed.power_limit_w = g->restore_power_w;
    fp_status st = write_state(g, err);
    if (st)
        return st;
    return g->be->set_power_limit(g->gpu, watts, err);
}

static int pending_changes(const fp_clockguard *g)
{
    return g->reset_locked || g->reset_app || g->power_changed;
}

/* Performs the recorded resets on gpu; counts steps done in rep (may be NULL). */
static fp_status do_restore(const fp_gpu_backend *be, fp_gpu *gpu, int *reset_locked,
                            int *reset_app, int *power_changed, double power_w,
                            fp_clockguard_report *rep, fp_error *err)
{
    fp_status first = FP_OK;
    fp_error e2;
    fp_error *e = err ? err : &e2;
    if (*reset_locked) {
        fp_status st = be->reset_clocks(gpu, first ? &e2 : e);
        if (!st) {
            *reset_locked = 0;
            if (rep)
                rep->reset_locked = 1;
        } else if (!first) {
            first = st;
        }
    }
    if (*reset_app) {
        fp_status st = be->reset_app_clocks(gpu, first ? &e2 : e);
        if (!st) {
            *reset_app = 0;
            if (rep)
                rep->reset_app = 1;
        } else if (!first) {
            first = st;
        }
    }
    if (*power_changed) {
        fp_status st = be->set_power_limit(gpu, power_w, first ? &e2 : e);
        if (!st) {
            *power_changed = 0;
            if (rep)
                rep->power_limit_restored = 1;
        } else if (!first) {
            first = st;
        }
    }
    return first;
}

fp_status fp_clockguard_restore(fp_clockguard *g, fp_error *err)
{
    fp_status st = do_restore(g->be, g->gpu, &g->reset_locked, &g->reset_app, &g->power_changed,
                              g->restore_power_w, NULL, err);
    if (st) {
        write_state(g, NULL); /* what is left to restore */
        return st;
    }
    memset(&g->changed, 0, sizeof g->changed);
    g->changed.power_limit_w = NAN;
    if (g->path[0] && unlink(g->path) && errno != ENOENT)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot remove state file: %s", g->path,
                            strerror(errno));
    return FP_OK;
}

/* After a partial reset: the state file says what is left, or goes when nothing is. */
static fp_status settle(fp_clockguard *g, fp_error *err)
{
    if (pending_changes(g))
        return write_state(g, err);
    if (g->path[0] && unlink(g->path) && errno != ENOENT)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot remove state file: %s", g->path,
                            strerror(errno));
    return FP_OK;
}

fp_status fp_clockguard_reset_clocks(fp_clockguard *g, fp_error *err)
{
    int power = 0;
    fp_status st =
        do_restore(g->be, g->gpu, &g->reset_locked, &g->reset_app, &power, NAN, NULL, err);
    if (!g->reset_locked) {
        g->changed.locked = 0;
        g->changed.locked_min_mhz = g->changed.locked_max_mhz = 0;
    }
    if (!g->reset_app) {
        g->changed.app_clocks_set = 0;
        g->changed.app_mem_mhz = g->changed.app_gr_mhz = 0;
    }
    fp_status s2 = settle(g, st ? NULL : err);
    return st ? st : s2;
}

fp_status fp_clockguard_reset_power_limit(fp_clockguard *g, fp_error *err)
{
    int none = 0, none2 = 0;
    fp_status st =
        do_restore(g->be, g->gpu, &none, &none2, &g->power_changed, g->restore_power_w, NULL, err);
    if (!g->power_changed) {
        g->changed.power_limit_set = 0;
        g->changed.power_limit_w = NAN;
    }
    fp_status s2 = settle(g, st ? NULL : err);
    return st ? st : s2;
}

void fp_clockguard_end(fp_clockguard *g)
{
    if (!g)
        return;
    unregister_live(g);
    if (pending_changes(g) || (g->path[0] && access(g->path, F_OK) == 0))
        fp_clockguard_restore(g, NULL);
    free(g);
}

void fp_clockguard_detach(fp_clockguard *g)
{
    if (!g)
        return;
    unregister_live(g);
    free(g);
}

/* ---- restore from a state file ---- */

static int looks_like_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 5 && strcmp(s + n - 5, ".json") == 0);
}

fp_status fp_clockguard_restore_from_state(const char *what, const char *state_dir, int force,
                                           fp_clockguard_report *rep, fp_error *err)
{
    char path[4096];
    fp_status st;
    if (looks_like_path(what))
        snprintf(path, sizeof path, "%s", what);
    else if ((st = fp_clockguard_state_path(path, sizeof path, state_dir, what, err)))
        return st;
    if (access(path, F_OK) != 0)
        return fp_error_set(err, FP_ERR_IO, "%s: no state file (nothing to restore for %s)", path,
                            what);
    if ((st = fp_clockguard_read_state(path, rep, err)))
        return st;
    if (rep->pid_alive && !force)
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: the freqpilot that wrote it (pid %ld) is still running and "
                            "will restore the GPU itself; use --force to restore anyway",
                            path, (long)rep->pid);
    const fp_gpu_backend *be = fp_gpu_backend_by_name(rep->backend);
    if (!be)
        return fp_error_at(err, FP_ERR_PARSE, path, 0, "unknown backend \"%s\"", rep->backend);
    if ((st = be->init(err)))
        return st;
    fp_gpu *gpu = NULL;
    char index[16];
    snprintf(index, sizeof index, "%u", rep->gpu_index);
    if (rep->gpu_uuid[0])
        st = be->open(rep->gpu_uuid, &gpu, err);
    if (!gpu)
        st = be->open(index, &gpu, err);
    if (!st) {
        int rl = rep->changed.locked, ra = rep->changed.app_clocks_set,
            rp = rep->changed.power_limit_set;
        st = do_restore(be, gpu, &rl, &ra, &rp, rep->changed.power_limit_w, rep, err);
        be->close(gpu);
    }
    be->shutdown();
    if (st)
        return st;
    if (unlink(path) && errno != ENOENT)
        return fp_error_set(err, FP_ERR_IO,
                            "%s: GPU restored but the state file cannot be "
                            "removed: %s",
                            path, strerror(errno));
    return FP_OK;
}

fp_status fp_clockguard_list(const char *state_dir, int (*fn)(void *user, const char *path),
                             void *user, fp_error *err)
{
    char dir[4096];
    if (state_dir)
        snprintf(dir, sizeof dir, "%s", state_dir);
    else {
        fp_status st = fp_clockguard_default_dir(dir, sizeof dir, err);
        if (st)
            return st;
    }
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT
                   ? FP_OK
                   : fp_error_set(err, FP_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (fn(user, path))
            break;
    }
    closedir(d);
    return FP_OK;
}

/* ---- signals ---- */

static volatile sig_atomic_t pending_sig;
static volatile pid_t child_pgid;
static int caught;
static struct sigaction old_int, old_term, old_hup;

static void on_signal(int sig)
{
    int saved = errno;
    pid_t pg = child_pgid;
    if (pg > 0)
        kill(-pg, sig == SIGINT ? SIGINT : SIGTERM);
    if (pending_sig) {
        /*
         * Second signal: the owner did not get round to restoring. Restore from here (not
         * async-signal-safe, but the process is about to die with the GPU locked otherwise).
         */
        run_atexit();
        for (int i = 0; i < MAX_GUARDS; i++)
            live[i] = NULL;
        signal(sig, SIG_DFL);
        raise(sig);
    }
    pending_sig = sig;
    errno = saved;
}

fp_status fp_clockguard_catch_signals(fp_error *err)
{
    if (caught)
        return FP_OK;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR so the owner notices */
    /* A signal ignored by our parent (nohup, a background job's SIGINT) stays ignored. */
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction *olds[] = {&old_int, &old_term, &old_hup};
    for (int i = 0; i < 3; i++) {
        if (sigaction(sigs[i], NULL, olds[i]))
            return fp_error_set(err, FP_ERR_IO, "sigaction: %s", strerror(errno));
        if (olds[i]->sa_handler != SIG_IGN && sigaction(sigs[i], &sa, NULL))
            return fp_error_set(err, FP_ERR_IO, "sigaction: %s", strerror(errno));
    }
    caught = 1;
    return FP_OK;
}

void fp_clockguard_release_signals(void)
{
    if (!caught)
        return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    caught = 0;
}

int fp_clockguard_pending_signal(void)
{
    return pending_sig;
}

void fp_clockguard_set_child_pgid(pid_t pgid)
{
    child_pgid = pgid;
}

void fp_clockguard_reraise(int sig)
{
    run_atexit();
    for (int i = 0; i < MAX_GUARDS; i++)
        live[i] = NULL;
    fp_clockguard_release_signals();
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}
