/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Clock safety (include/freqpilot/clockguard.h): the GPU's lease, a strict write-ahead state
 * file, restore on every exit path, and the signal plumbing that lets the owner restore
 * before dying.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/clockguard.h"
#include "freqpilot/statefile.h"

#define MAX_GUARDS 16

struct fp_clockguard {
    const fp_gpu_backend *be;
    fp_gpu *gpu;
    fp_gpu_info info;
    fp_lease *lease;  /* NULL with no_state_file */
    fp_state_dir dir; /* fd -1 with no_state_file */
    char name[160];   /* state file name in dir */
    char path[4400];  /* dir/name ("" = no state file) */
    char abspath[4400];
    int file_written;
    int state_failed;
    fp_state st;             /* identity, what was changed, what restore does */
    char takeover_dir[4096]; /* a gone owner's state file in another folder, removed once */
    char takeover_name[160]; /* ours records what it said to restore */
};

static fp_clockguard *volatile live[MAX_GUARDS];
static int atexit_done;
static void rebuild_restore_argv(void);

/* ---- paths ---- */

fp_status fp_clockguard_default_dir(char *buf, size_t size, fp_error *err)
{
    return fp_state_default_dir(buf, size, err);
}

fp_status fp_clockguard_state_path(char *buf, size_t size, const char *state_dir, const char *uuid,
                                   fp_error *err)
{
    char dir[4096], name[160];
    fp_status st;
    if (!state_dir) {
        if ((st = fp_state_default_dir(dir, sizeof dir, err)))
            return st;
        state_dir = dir;
    }
    if ((st = fp_state_file_name(name, sizeof name, uuid, err)))
        return st;
    int n = snprintf(buf, size, "%s/%s", state_dir, name);
    if (n < 0 || (size_t)n >= size)
        return fp_error_set(err, FP_ERR_INVALID, "state file path too long");
    return FP_OK;
}

/* "dir/name" split (a bare name is in "."). */
static fp_status split_path(const char *path, char *dir, size_t dsize, char *name, size_t nsize,
                            fp_error *err)
{
    const char *slash = strrchr(path, '/');
    int n1, n2;
    if (!slash) {
        n1 = snprintf(dir, dsize, ".");
        n2 = snprintf(name, nsize, "%s", path);
    } else {
        n1 = snprintf(dir, dsize, "%.*s", slash == path ? 1 : (int)(slash - path), path);
        n2 = snprintf(name, nsize, "%s", slash + 1);
    }
    if (n1 < 0 || (size_t)n1 >= dsize || n2 < 0 || (size_t)n2 >= nsize || !name[0])
        return fp_error_set(err, FP_ERR_INVALID, "%s: not a state file path", path);
    return FP_OK;
}

/* An absolute spelling of dir/name for the lease record (no symbolic links resolved). */
static void absolute(const char *dir, const char *name, char *buf, size_t size)
{
    char cwd[4096];
    if (dir[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(buf, size, "%s/%s", dir, name);
    else
        snprintf(buf, size, "%s/%s/%s", cwd, dir, name);
}

/* ---- the state file of a guard ---- */

static int pending(const fp_state *s)
{
    return s->reset_locked || s->reset_app || isfinite(s->restore_power_w);
}

/* The state file says what is pending, or is removed when nothing is. */
static fp_status sync_state(fp_clockguard *g, fp_error *err)
{
    if (g->dir.fd < 0)
        return FP_OK;
    fp_status st;
    if (pending(&g->st)) {
        if ((st = fp_state_write(&g->dir, &g->st, err)))
            return st;
        g->file_written = 1;
        if ((st = fp_lease_set_state_file(g->lease, g->abspath, err)))
            return st;
        if (g->takeover_name[0]) {
            /* Ours now records what the other owner's file said to restore. */
            fp_state_dir od;
            fp_error e2;
            if (fp_state_dir_open(&od, g->takeover_dir, 0, NULL, &e2) == FP_OK) {
                fp_state_remove(&od, g->takeover_name, &e2);
                fp_state_dir_close(&od);
            }
            g->takeover_name[0] = 0;
        }
        return FP_OK;
    }
    if (g->file_written) {
        if ((st = fp_state_remove(&g->dir, g->name, err)))
            return st;
        g->file_written = 0;
    }
    return fp_lease_set_state_file(g->lease, "", err);
}

/* ---- the workload left behind ---- */

/* Start time (clock ticks after boot), process group and state letter of pid; -1 when
 * unreadable. */
static int proc_stat(long pid, long *pgrp, unsigned long long *start, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
    if (!p)
        return -1;
    /* after ") ": state(3) ppid(4) pgrp(5) ... starttime(22) */
    char *save = NULL;
    int field = 2;
    for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 3)
            *state = tok[0];
        if (field == 5)
            *pgrp = strtol(tok, NULL, 10);
        if (field == 22) {
            *start = strtoull(tok, NULL, 10);
            return 0;
        }
    }
    return -1;
}

/*
 * Ends what is left of a workload's process group after its owner died: every process of
 * that group run by uid and started no earlier than the group (a pgid number reused by
 * someone else's later group would not match the uid, and the kernel does not reuse it while
 * any member lives). Returns the number of processes killed.
 */
static int end_workload(long pgid, long uid, unsigned long long start_ticks)
{
    if (pgid <= 1)
        return 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int killed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 1 || pid == (long)getpid())
            continue;
        long pg = 0;
        unsigned long long start = 0;
        char path[64], state = 0;
        struct stat sb;
        snprintf(path, sizeof path, "/proc/%ld", pid);
        if (proc_stat(pid, &pg, &start, &state) || pg != pgid || start < start_ticks ||
            state == 'Z' || stat(path, &sb) || (long)sb.st_uid != uid)
            continue;
        if (kill((pid_t)pid, SIGKILL) == 0)
            killed++;
    }
    closedir(d);
    return killed;
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
            break;
        }
    rebuild_restore_argv();
}

static void unregister_live(fp_clockguard *g)
{
    for (int i = 0; i < MAX_GUARDS; i++)
        if (live[i] == g)
            live[i] = NULL;
    rebuild_restore_argv();
}

static void free_guard(fp_clockguard *g)
{
    fp_lease_release(g->lease);
    fp_state_dir_close(&g->dir);
    free(g);
}

/* Reads a state file of this GPU left by a gone owner; *found = 0 when there is none. */
static fp_status read_left(fp_clockguard *g, const char *dir, const char *name, fp_state *s,
                           int *found, fp_error *err)
{
    *found = 0;
    fp_state_dir d;
    int missing = 0;
    fp_status st = fp_state_dir_open(&d, dir, 0, &missing, err);
    if (st)
        return missing ? FP_OK : st;
    st = fp_state_read(&d, name, s, &missing, err);
    fp_state_dir_close(&d);
    if (st)
        return missing ? FP_OK : st;
    if (strcmp(s->gpu_uuid, g->info.uuid) != 0)
        return fp_error_set(err, FP_ERR_INVALID, "%s/%s: records GPU %s, not %s; refusing it", dir,
                            name, s->gpu_uuid, g->info.uuid);
    *found = 1;
    return FP_OK;
}

/* Takes over what a gone owner's state file says to restore. */
static fp_status inherit(fp_clockguard *g, const fp_state *s, const char *path, fp_error *err)
{
    if (isfinite(s->restore_power_w) && !isfinite(g->st.restore_power_w)) {
        char what[4500];
        snprintf(what, sizeof what, "%s: restore.power_limit_w", path);
        fp_status st = fp_gpu_check_power_limit(&g->info, s->restore_power_w, what, err);
        if (st)
            return st;
        g->st.restore_power_w = s->restore_power_w;
        g->st.changed.power_limit_set = 1;
        g->st.changed.power_limit_w = s->restore_power_w;
    }
    if (s->reset_locked) {
        g->st.reset_locked = 1;
        g->st.changed.locked = 1;
    }
    if (s->reset_app) {
        g->st.reset_app = 1;
        g->st.changed.app_clocks_set = 1;
    }
    end_workload(s->workload_pgid, s->workload_uid, s->workload_start_ticks);
    return FP_OK;
}

static fp_status refuse_left(const char *path, const fp_state *s, const char *uuid, int other_dir,
                             fp_error *err)
{
    return fp_error_set(err, FP_ERR_INVALID,
                        "%s: an earlier freqpilot (pid %ld, no longer running) left GPU %s with "
                        "changed clocks; run 'freqpilot restore' first, or use --force%s%s%s",
                        path, s->pid, uuid,
                        other_dir ? " (it is in another state folder: "
                                    "freqpilot restore "
                                  : "",
                        other_dir ? path : "", other_dir ? ")" : "");
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
    g->dir.fd = -1;
    fp_status st = be->info(gpu, &g->info, err);
    if (st)
        goto fail;
    fp_state_init(&g->st);
    snprintf(g->st.backend, sizeof g->st.backend, "%s", be->name);
    g->st.gpu_index = g->info.index;
    snprintf(g->st.gpu_uuid, sizeof g->st.gpu_uuid, "%s", g->info.uuid);
    snprintf(g->st.gpu_name, sizeof g->st.gpu_name, "%s", g->info.name);
    g->st.pid = (long)getpid();
    snprintf(g->st.command, sizeof g->st.command, "%s", opts->command ? opts->command : "");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g->st.start_utc_s = ts.tv_sec + ts.tv_nsec * 1e-9;
    if (opts->no_state_file)
        goto done;

    if ((st = fp_state_dir_open(&g->dir, opts->state_dir, 1, NULL, err)) ||
        (st = fp_state_file_name(g->name, sizeof g->name, g->info.uuid, err)))
        goto fail;
    snprintf(g->path, sizeof g->path, "%s/%s", g->dir.path, g->name);
    absolute(g->dir.path, g->name, g->abspath, sizeof g->abspath);
    fp_lease_owner own = {.command = g->st.command[0] ? g->st.command : "freqpilot", .uid = -1};
    if (opts->owner) {
        own = *opts->owner;
        if (!own.command)
            own.command = g->st.command;
    }
    if ((st = fp_lease_acquire(&g->lease, opts->lock_dir, g->info.uuid, &own, NULL, err)))
        goto fail;
    fp_state_remove_temporaries(&g->dir, g->name); /* of a writer killed mid-write */
    {
        const fp_lease_record *rec = fp_lease_previous(g->lease);
        g->st.owner_uid = fp_lease_current(g->lease)->uid;
        /* Changes left by a gone owner: in this folder, or wherever the lease says. */
        fp_state left;
        int found = 0;
        if ((st = read_left(g, g->dir.path, g->name, &left, &found, err))) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            st = fp_error_set(err, FP_ERR_INVALID,
                              "%s (a state file of an earlier session that fails the checks; "
                              "check the GPU and remove it, --force does not bypass this)",
                              msg);
            goto fail;
        }
        if (found) {
            if (!opts->force) {
                st = refuse_left(g->path, &left, g->info.uuid, 0, err);
                goto fail;
            }
            if ((st = inherit(g, &left, g->path, err)))
                goto fail;
        }
        if (rec->state_file[0] && strcmp(rec->state_file, g->abspath) != 0) {
            char odir[4096], oname[160];
            if ((st = split_path(rec->state_file, odir, sizeof odir, oname, sizeof oname, err)))
                goto fail;
            if ((st = read_left(g, odir, oname, &left, &found, err)))
                goto fail;
            if (found && !opts->force) {
                st = refuse_left(rec->state_file, &left, g->info.uuid, 1, err);
                goto fail;
            }
            if (found) {
                if ((st = inherit(g, &left, rec->state_file, err)))
                    goto fail;
                snprintf(g->takeover_dir, sizeof g->takeover_dir, "%s", odir);
                snprintf(g->takeover_name, sizeof g->takeover_name, "%s", oname);
            }
        }
        /* What was inherited is recorded as ours at once; nothing left: no file. */
        if ((st = sync_state(g, err)))
            goto fail;
    }
done:
    register_live(g);
    *out = g;
    return FP_OK;
fail:
    free_guard(g);
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
    *out = g->st.changed;
}

int fp_clockguard_state_failed(const fp_clockguard *g)
{
    return g->state_failed;
}

/*
 * Records the change (saved first), applies it with apply(), and takes it back out of the
 * record when either the state file or the driver refuses it.
 */
static fp_status recorded_change(fp_clockguard *g, const fp_state *before, fp_status applied_st,
                                 fp_error *err)
{
    (void)err;
    if (applied_st) {
        g->st = *before;
        fp_error e2;
        sync_state(g, &e2); /* best effort: removes a file left with nothing to restore */
    }
    return applied_st;
}

static fp_status write_ahead(fp_clockguard *g, const fp_state *before, fp_error *err)
{
    fp_status st = sync_state(g, err);
    if (st) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        g->st = *before;
        g->state_failed = 1;
        return fp_error_set(err, st,
                            "%s (the state file must record a change before it is made: "
                            "nothing changed)",
                            msg);
    }
    g->state_failed = 0;
    return FP_OK;
}

fp_status fp_clockguard_set_app_clocks(fp_clockguard *g, unsigned mem_mhz, unsigned gr_mhz,
                                       fp_error *err)
{
    fp_status st = fp_gpu_check_clock(&g->info, gr_mhz, "application clock", err);
    if (st)
        return st;
    fp_state before = g->st;
    g->st.reset_app = 1;
    g->st.changed.app_clocks_set = 1;
    g->st.changed.app_mem_mhz = mem_mhz;
    g->st.changed.app_gr_mhz = gr_mhz;
    if ((st = write_ahead(g, &before, err)))
        return st;
    return recorded_change(g, &before, g->be->set_app_clocks(g->gpu, mem_mhz, gr_mhz, err), err);
}

fp_status fp_clockguard_lock_ex(fp_clockguard *g, unsigned min_mhz, unsigned max_mhz,
                                int allow_app_fallback, double *reached_mhz, int *used_app_clocks,
                                fp_error *err)
{
    if (used_app_clocks)
        *used_app_clocks = 0;
    if (reached_mhz)
        *reached_mhz = NAN;
    fp_status st;
    if ((st = fp_gpu_check_clock(&g->info, min_mhz, "locked clock (minimum)", err)) ||
        (st = fp_gpu_check_clock(&g->info, max_mhz, "locked clock (maximum)", err)))
        return st;
    if (min_mhz > max_mhz)
        return fp_error_set(err, FP_ERR_INVALID, "locked clocks %u..%u MHz: minimum above maximum",
                            min_mhz, max_mhz);
    /* Write-ahead: the state file says "locked" before the driver is asked. */
    fp_state before = g->st;
    g->st.reset_locked = 1;
    g->st.changed.locked = 1;
    g->st.changed.locked_min_mhz = min_mhz;
    g->st.changed.locked_max_mhz = max_mhz;
    if ((st = write_ahead(g, &before, err)))
        return st;
    st = g->be->lock_clocks(g->gpu, min_mhz, max_mhz, err);
    if (st == FP_ERR_UNSUPPORTED && allow_app_fallback) {
        recorded_change(g, &before, st, err);
        st = fp_clockguard_set_app_clocks(g, g->info.mem_clock_mhz, max_mhz, err);
        if (!st && used_app_clocks)
            *used_app_clocks = 1;
    } else if ((st = recorded_change(g, &before, st, err))) {
        return st;
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

fp_status fp_clockguard_set_power_limit(fp_clockguard *g, double watts, fp_error *err)
{
    fp_status st = fp_gpu_check_power_limit(&g->info, watts, "power limit", err);
    if (st)
        return st;
    fp_state before = g->st;
    if (!isfinite(g->st.restore_power_w)) {
        /* The limit to go back to: the one in force now (re-read, not the cached info). */
        fp_gpu_info now;
        if ((st = g->be->info(g->gpu, &now, err)))
            return st;
        if (!isfinite(now.power_limit_w))
            return fp_error_set(err, FP_ERR_UNSUPPORTED,
                                "power limit: the current limit cannot be read, so it could "
                                "not be restored; not changing it");
        g->st.restore_power_w = now.power_limit_w;
    }
    g->st.changed.power_limit_set = 1;
    g->st.changed.power_limit_w = g->st.restore_power_w;
    if ((st = write_ahead(g, &before, err)))
        return st;
    return recorded_change(g, &before, g->be->set_power_limit(g->gpu, watts, err), err);
}

static unsigned long long start_ticks_of(pid_t pid)
{
    long pg;
    unsigned long long start = 0;
    char state;
    return proc_stat((long)pid, &pg, &start, &state) ? 0 : start;
}

fp_status fp_clockguard_set_workload(fp_clockguard *g, pid_t pgid, uid_t uid, fp_error *err)
{
    g->st.workload_pgid = pgid > 1 ? (long)pgid : 0;
    g->st.workload_uid = (long)uid;
    g->st.workload_start_ticks = pgid > 1 ? start_ticks_of(pgid) : 0;
    /* Only worth a write while something is recorded to restore. */
    return g->file_written || pending(&g->st) ? sync_state(g, err) : FP_OK;
}

/* Performs the recorded resets on gpu; counts steps done in rep (may be NULL). */
static fp_status do_restore(const fp_gpu_backend *be, fp_gpu *gpu, fp_state *s,
                            fp_clockguard_report *rep, fp_error *err)
{
    fp_status first = FP_OK;
    fp_error e2;
    fp_error *e = err ? err : &e2;
    if (s->reset_locked) {
        fp_status st = be->reset_clocks(gpu, first ? &e2 : e);
        if (!st) {
            s->reset_locked = 0;
            if (rep)
                rep->reset_locked = 1;
        } else if (!first) {
            first = st;
        }
    }
    if (s->reset_app) {
        fp_status st = be->reset_app_clocks(gpu, first ? &e2 : e);
        if (!st) {
            s->reset_app = 0;
            if (rep)
                rep->reset_app = 1;
        } else if (!first) {
            first = st;
        }
    }
    if (isfinite(s->restore_power_w)) {
        fp_status st = be->set_power_limit(gpu, s->restore_power_w, first ? &e2 : e);
        if (!st) {
            s->restore_power_w = NAN;
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
    fp_status st = do_restore(g->be, g->gpu, &g->st, NULL, err);
    if (!st) {
        memset(&g->st.changed, 0, sizeof g->st.changed);
        g->st.changed.power_limit_w = NAN;
    }
    fp_error e2;
    fp_status sst = sync_state(g, st ? &e2 : err); /* removed, or what is left to restore */
    return st ? st : sst;
}

/* freqpilotd's reset and reset_power_limit: part of what fp_clockguard_restore does. */
fp_status fp_clockguard_reset_clocks(fp_clockguard *g, fp_error *err)
{
    fp_state part = g->st;
    part.restore_power_w = NAN; /* the power limit stays as it is */
    fp_status st = do_restore(g->be, g->gpu, &part, NULL, err);
    g->st.reset_locked = part.reset_locked;
    g->st.reset_app = part.reset_app;
    if (!g->st.reset_locked) {
        g->st.changed.locked = 0;
        g->st.changed.locked_min_mhz = g->st.changed.locked_max_mhz = 0;
    }
    if (!g->st.reset_app) {
        g->st.changed.app_clocks_set = 0;
        g->st.changed.app_mem_mhz = g->st.changed.app_gr_mhz = 0;
    }
    fp_error e2;
    fp_status sst = sync_state(g, st ? &e2 : err);
    return st ? st : sst;
}

fp_status fp_clockguard_reset_power_limit(fp_clockguard *g, fp_error *err)
{
    fp_state part = g->st;
    part.reset_locked = part.reset_app = 0; /* the clocks stay as they are */
    fp_status st = do_restore(g->be, g->gpu, &part, NULL, err);
    g->st.restore_power_w = part.restore_power_w;
    if (!isfinite(g->st.restore_power_w)) {
        g->st.changed.power_limit_set = 0;
        g->st.changed.power_limit_w = NAN;
    }
    fp_error e2;
    fp_status sst = sync_state(g, st ? &e2 : err);
    return st ? st : sst;
}

void fp_clockguard_end(fp_clockguard *g)
{
    if (!g)
        return;
    unregister_live(g);
    if (pending(&g->st) || g->file_written)
        fp_clockguard_restore(g, NULL);
    free_guard(g);
}

void fp_clockguard_detach(fp_clockguard *g)
{
    if (!g)
        return;
    unregister_live(g);
    free_guard(g); /* the lease record keeps naming the state file for the next owner */
}

/* ---- restore from a state file ---- */

static int looks_like_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 5 && strcmp(s + n - 5, ".json") == 0);
}

static void fill_report(fp_clockguard_report *rep, const fp_state *s)
{
    snprintf(rep->backend, sizeof rep->backend, "%s", s->backend);
    snprintf(rep->gpu_uuid, sizeof rep->gpu_uuid, "%s", s->gpu_uuid);
    rep->gpu_index = s->gpu_index;
    rep->pid = (pid_t)s->pid;
    rep->changed = s->changed;
    rep->changed.locked = s->reset_locked;
    rep->changed.app_clocks_set = s->reset_app;
    rep->changed.power_limit_set = isfinite(s->restore_power_w);
    rep->changed.power_limit_w = s->restore_power_w;
}

/* Where what lives: its folder and file name. */
static fp_status locate(const char *what, const char *state_dir, char *dir, size_t dsize,
                        char *name, size_t nsize, fp_error *err)
{
    if (looks_like_path(what))
        return split_path(what, dir, dsize, name, nsize, err);
    fp_status st;
    if (state_dir)
        snprintf(dir, dsize, "%s", state_dir);
    else if ((st = fp_state_default_dir(dir, dsize, err)))
        return st;
    return fp_state_file_name(name, nsize, what, err);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Takes the GPU's lease for a restore (see FP_RESTORE_* flags). */
static fp_status restore_lease(const char *uuid, int flags, fp_lease **lease,
                               fp_clockguard_report *rep, fp_error *err)
{
    fp_lease_owner own = {.command = "freqpilot restore", .uid = -1};
    fp_lease_record holder;
    double waited = 0, limit = 0;
    int stopped = 0;
    for (;;) {
        fp_status st = fp_lease_acquire(lease, NULL, uuid, &own, &holder, err);
        if (st != FP_ERR_BUSY)
            return st;
        rep->in_use = 1;
        rep->holder_pid = holder.pid;
        snprintf(rep->holder_command, sizeof rep->holder_command, "%s", holder.command);
        if (flags & FP_RESTORE_STOP_HOLDER) {
            limit = 10;
            if (!stopped && holder.pid > 1 && holder.pid != (long)getpid())
                kill((pid_t)holder.pid, SIGTERM);
            stopped = 1;
        } else if (flags & FP_RESTORE_WAIT) {
            limit = 2;
        }
        if (waited >= limit)
            return st;
        sleep_s(0.05);
        waited += 0.05;
    }
}

fp_status fp_clockguard_restore_from_state(const char *what, const char *state_dir, int flags,
                                           fp_clockguard_report *rep, fp_error *err)
{
    memset(rep, 0, sizeof *rep);
    char dir[4096], name[160];
    fp_status st = locate(what, state_dir, dir, sizeof dir, name, sizeof name, err);
    if (st)
        return st;
    snprintf(rep->path, sizeof rep->path, "%s/%s", dir, name);
    fp_state_dir d;
    int missing = 0;
    if ((st = fp_state_dir_open(&d, dir, 0, &missing, err)))
        return missing
                   ? fp_error_set(err, FP_ERR_IO, "%s: no state file (nothing to restore for %s)",
                                  rep->path, what)
                   : st;
    fp_state s;
    fp_lease *lease = NULL;
    const fp_gpu_backend *be = NULL;
    fp_gpu *gpu = NULL;
    if ((st = fp_state_read(&d, name, &s, &missing, err))) {
        if (missing)
            st = fp_error_set(err, FP_ERR_IO, "%s: no state file (nothing to restore for %s)",
                              rep->path, what);
        goto out;
    }
    fill_report(rep, &s);
    /* The lease proves the owner is gone; then the file is read again (it may have restored). */
    if ((st = restore_lease(s.gpu_uuid, flags, &lease, rep, err)))
        goto out;
    if ((st = fp_state_read(&d, name, &s, &missing, err))) {
        if (missing) {
            rep->gone = 1;
            fp_state_remove_temporaries(&d, name);
            st = FP_OK;
        }
        goto out;
    }
    fill_report(rep, &s);
    fp_state_remove_temporaries(&d, name);
    if (!(be = fp_gpu_backend_by_name(s.backend))) {
        st = fp_error_at(err, FP_ERR_PARSE, rep->path, 0, "unknown backend \"%s\"", s.backend);
        goto out;
    }
    if ((st = be->init(err))) {
        be = NULL;
        goto out;
    }
    /* By UUID only: a file naming a GPU that is not here changes nothing. */
    fp_gpu_info info;
    if ((st = be->open(s.gpu_uuid, &gpu, err)) || (st = be->info(gpu, &info, err)))
        goto out;
    if (strcmp(info.uuid, s.gpu_uuid) != 0) {
        st = fp_error_set(err, FP_ERR_INVALID, "%s: GPU %s not found (opened %s); nothing changed",
                          rep->path, s.gpu_uuid, info.uuid);
        goto out;
    }
    if (isfinite(s.restore_power_w)) {
        char w[4500];
        snprintf(w, sizeof w, "%s: restore.power_limit_w", rep->path);
        if ((st = fp_gpu_check_power_limit(&info, s.restore_power_w, w, err)))
            goto out;
    }
    rep->workload_killed = end_workload(s.workload_pgid, s.workload_uid, s.workload_start_ticks);
    if ((st = do_restore(be, gpu, &s, rep, err)))
        goto out;
    if ((st = fp_state_remove(&d, name, err)))
        goto out;
    char abs[4400];
    absolute(dir, name, abs, sizeof abs);
    const char *recorded = fp_lease_previous(lease)->state_file;
    if (!recorded[0] || strcmp(recorded, abs) == 0)
        fp_lease_set_state_file(lease, "", NULL);
out:
    if (gpu)
        be->close(gpu);
    if (be)
        be->shutdown();
    fp_lease_release(lease);
    fp_state_dir_close(&d);
    return st;
}

fp_status fp_clockguard_read_state(const char *path, fp_clockguard_report *rep, fp_error *err)
{
    memset(rep, 0, sizeof *rep);
    snprintf(rep->path, sizeof rep->path, "%s", path);
    char dir[4096], name[160];
    fp_status st = split_path(path, dir, sizeof dir, name, sizeof name, err);
    if (st)
        return st;
    fp_state_dir d;
    if ((st = fp_state_dir_open(&d, dir, 0, NULL, err)))
        return st;
    fp_state s;
    st = fp_state_read(&d, name, &s, NULL, err);
    fp_state_dir_close(&d);
    if (st)
        return st;
    fill_report(rep, &s);
    fp_lease_record r;
    int held = 0;
    fp_error e2;
    if (fp_lease_read(NULL, s.gpu_uuid, &held, &r, &e2) == FP_OK && held) {
        rep->in_use = 1;
        rep->holder_pid = r.pid;
        snprintf(rep->holder_command, sizeof rep->holder_command, "%s", r.command);
    }
    return FP_OK;
}

typedef struct list_ctx {
    const char *dir;
    int (*fn)(void *user, const char *path);
    void *user;
} list_ctx;

static int list_one(void *user, const char *name)
{
    list_ctx *c = user;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    return c->fn(c->user, path);
}

fp_status fp_clockguard_list(const char *state_dir, int (*fn)(void *user, const char *path),
                             void *user, fp_error *err)
{
    fp_state_dir d;
    int missing = 0;
    fp_status st = fp_state_dir_open(&d, state_dir, 0, &missing, err);
    if (st)
        return missing ? FP_OK : st;
    list_ctx c = {d.path, fn, user};
    st = fp_state_list(&d, list_one, &c, err);
    fp_state_dir_close(&d);
    return st;
}

/* ---- signals ---- */

extern char **environ;

static volatile sig_atomic_t pending_sig;
static volatile pid_t child_pgid;
static int caught;
static struct sigaction old_int, old_term, old_hup;

/*
 * The second-signal restore: argv for `EXE restore --exit-signal SIG PATH...`, built in two
 * buffers so that the handler always sees a complete one (the index flips after the build).
 */
static char restore_exe[4096];
static char sig_text[16];
static char *restore_argv[2][MAX_GUARDS + 5];
static volatile sig_atomic_t restore_argv_ready = -1;

static void rebuild_restore_argv(void)
{
    if (!restore_exe[0])
        return;
    int next = restore_argv_ready == 0 ? 1 : 0;
    char **a = restore_argv[next];
    int n = 0, paths = 0;
    a[n++] = restore_exe;
    a[n++] = "restore";
    a[n++] = "--exit-signal";
    a[n++] = sig_text;
    for (int i = 0; i < MAX_GUARDS; i++) {
        fp_clockguard *g = live[i];
        if (g && g->path[0]) {
            a[n++] = g->path;
            paths++;
        }
    }
    a[n] = NULL;
    restore_argv_ready = paths ? next : -1;
}

void fp_clockguard_exec_on_second_signal(const char *exe)
{
    snprintf(restore_exe, sizeof restore_exe, "%s", exe ? exe : "");
    if (!exe)
        restore_argv_ready = -1;
    else
        rebuild_restore_argv();
}

static void on_signal(int sig)
{
    int saved = errno;
    pid_t pg = child_pgid;
    if (pending_sig) {
        /*
         * Second signal: the owner did not get round to restoring. Only async-signal-safe
         * calls from here: the workload group is killed, then a fresh process (same pid,
         * so the caller still waits for it) restores from the state files, or the signal
         * ends us and the state files are left for 'freqpilot restore'.
         */
        if (pg > 0)
            kill(-pg, SIGKILL);
        int r = restore_argv_ready;
        if (r >= 0) {
            char digits[16];
            int n = 0, v = sig;
            do {
                digits[n++] = (char)('0' + v % 10);
                v /= 10;
            } while (v && n < 15);
            for (int i = 0; i < n; i++)
                sig_text[i] = digits[n - 1 - i];
            sig_text[n] = 0;
            execve(restore_exe, restore_argv[r], environ);
        }
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
        raise(sig);
    } else if (pg > 0) {
        kill(-pg, sig == SIGINT ? SIGINT : SIGTERM);
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
    /* One handler at a time: the second signal waits for the first to be recorded. */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
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
    restore_argv_ready = -1;
    fp_clockguard_release_signals();
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}
