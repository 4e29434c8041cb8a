/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GPU leases (include/freqpilot/lease.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/lease.h"
#include "util/asuser.h"
#include "util/safedir.h"

#define RECORD_MAX 16384

struct fp_lease {
    int fd;
    char uuid[96];
    char path[4300];
    fp_lease_record prev, mine;
};

fp_status fp_lease_default_dir(char *buf, size_t size, fp_error *err)
{
    const char *env = getenv("FREQPILOT_LOCK_DIR");
    int n;
    if (env && *env)
        n = snprintf(buf, size, "%s", env);
    else if (geteuid() == 0)
        n = snprintf(buf, size, "/run/freqpilot/locks");
    else if ((env = getenv("XDG_RUNTIME_DIR")) && *env == '/')
        n = snprintf(buf, size, "%s/freqpilot/locks", env);
    else
        n = snprintf(buf, size, "/tmp/freqpilot-%ld/locks", (long)geteuid());
    if (n < 0 || (size_t)n >= size)
        return fp_error_set(err, FP_ERR_INVALID, "lock folder path too long");
    return FP_OK;
}

static void parse_record(const char *text, size_t len, fp_lease_record *r)
{
    memset(r, 0, sizeof *r);
    r->uid = -1;
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    json_t *v;
    if (json_is_integer(v = json_object_get(root, "pid")) && json_integer_value(v) > 0)
        r->pid = (long)json_integer_value(v);
    if (json_is_integer(v = json_object_get(root, "uid")))
        r->uid = (long)json_integer_value(v);
    if (json_is_number(v = json_object_get(root, "since_utc_s")))
        r->since_utc_s = json_number_value(v);
    if (json_is_string(v = json_object_get(root, "command")))
        snprintf(r->command, sizeof r->command, "%s", json_string_value(v));
    if (json_is_string(v = json_object_get(root, "state_file")) && json_string_value(v)[0] == '/')
        snprintf(r->state_file, sizeof r->state_file, "%s", json_string_value(v));
    json_decref(root);
}

static void read_record(int fd, fp_lease_record *r)
{
    char *buf = malloc(RECORD_MAX + 1);
    size_t n = 0;
    ssize_t got;
    while (buf && n < RECORD_MAX && (got = pread(fd, buf + n, RECORD_MAX - n, (off_t)n)) > 0)
        n += (size_t)got;
    if (buf)
        parse_record(buf, n, r);
    else
        memset(r, 0, sizeof *r);
    free(buf);
}

static fp_status write_record(fp_lease *l, fp_error *err)
{
    json_t *root = json_object();
    json_object_set_new(root, "pid", json_integer(l->mine.pid));
    json_object_set_new(root, "uid", json_integer(l->mine.uid));
    json_object_set_new(root, "since_utc_s", json_real(l->mine.since_utc_s));
    json_object_set_new(root, "command", json_string(l->mine.command));
    json_object_set_new(root, "gpu_uuid", json_string(l->uuid));
    json_object_set_new(root, "state_file", json_string(l->mine.state_file));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", l->path);
    size_t len = strlen(text);
    int bad = ftruncate(l->fd, 0) || pwrite(l->fd, text, len, 0) != (ssize_t)len ||
              pwrite(l->fd, "\n", 1, (off_t)len) != 1 || fsync(l->fd);
    int e = errno;
    free(text);
    if (bad)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot write the lease record: %s", l->path,
                            strerror(e));
    return FP_OK;
}

static void describe(const fp_lease_record *r, char *buf, size_t size)
{
    char when[64] = "";
    if (r->since_utc_s > 0) {
        time_t t = (time_t)r->since_utc_s;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, " since %Y-%m-%dT%H:%M:%SZ", &tm);
    }
    char uid[32] = "";
    if (r->uid >= 0)
        snprintf(uid, sizeof uid, ", uid %ld", r->uid);
    snprintf(buf, size, "pid %ld (%s%s)%s", r->pid, r->command[0] ? r->command : "freqpilot", uid,
             when);
}

/* The lock file of uuid in dir, opened and checked; dirfd closed on return. */
static fp_status open_lock_file(const char *dir, const char *uuid, int create, char *path,
                                size_t psize, int *fd, int *missing, fp_error *err)
{
    char d[4096], name[160];
    fp_status st;
    if (!dir) {
        if ((st = fp_lease_default_dir(d, sizeof d, err)))
            return st;
        dir = d;
    }
    if ((st = fp_safedir_name(name, sizeof name, uuid, ".lock", err)))
        return st;
    snprintf(path, psize, "%s/%s", dir, name);
    int dfd;
    if ((st = fp_safedir_open(dir, create, "lock folder", &dfd, missing, err)))
        return st;
    st = fp_safedir_open_file(dfd, dir, name, create ? O_RDWR | O_CREAT : O_RDONLY, 0644, fd,
                              missing, err);
    close(dfd);
    return st;
}

fp_status fp_lease_acquire(fp_lease **out, const char *dir, const char *gpu_uuid,
                           const fp_lease_owner *owner, fp_lease_record *holder, fp_error *err)
{
    *out = NULL;
    if (holder)
        memset(holder, 0, sizeof *holder);
    if (!gpu_uuid || !*gpu_uuid)
        return fp_error_set(err, FP_ERR_INVALID, "GPU lease: the GPU has no UUID");
    fp_lease *l = calloc(1, sizeof *l);
    if (!l)
        return fp_error_set(err, FP_ERR_NOMEM, "GPU lease: out of memory");
    l->fd = -1;
    snprintf(l->uuid, sizeof l->uuid, "%s", gpu_uuid);
    fp_status st = open_lock_file(dir, gpu_uuid, 1, l->path, sizeof l->path, &l->fd, NULL, err);
    if (st) {
        free(l);
        return st;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(l->fd, F_OFD_SETLK, &fl)) {
        int e = errno;
        fp_lease_record r;
        /* A holder writes its record right after it gets the lock: give it a moment. */
        for (int i = 0; i < 50; i++) {
            read_record(l->fd, &r);
            if (r.pid > 0 && (kill((pid_t)r.pid, 0) == 0 || errno == EPERM))
                break;
            struct timespec nap = {0, 10 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
        close(l->fd);
        free(l);
        if (e != EAGAIN && e != EACCES)
            return fp_error_set(err, FP_ERR_IO, "GPU %s: cannot lock its lease: %s", gpu_uuid,
                                strerror(e));
        if (holder)
            *holder = r;
        char who[512];
        describe(&r, who, sizeof who);
        if (r.pid == (long)getpid())
            return fp_error_set(err, FP_ERR_BUSY,
                                "GPU %s is already leased by this process (%s); end that first",
                                gpu_uuid, who);
        return fp_error_set(err, FP_ERR_BUSY,
                            "GPU %s is in use by %s: one freqpilot changes a GPU's clocks at a "
                            "time; wait for it to end or stop it (it restores the GPU on "
                            "SIGTERM)",
                            gpu_uuid, who);
    }
    read_record(l->fd, &l->prev);
    l->mine.pid = (long)getpid();
    l->mine.uid = owner ? owner->uid : -1;
    if (l->mine.uid < 0) {
        const fp_invoker *u;
        fp_error e2;
        l->mine.uid = fp_invoker_get(&u, &e2) == FP_OK ? (long)u->uid : (long)geteuid();
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    l->mine.since_utc_s = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
    snprintf(l->mine.command, sizeof l->mine.command, "%s",
             owner && owner->command ? owner->command : "freqpilot");
    /* Unrestored changes of an earlier holder stay recorded until someone restores them. */
    snprintf(l->mine.state_file, sizeof l->mine.state_file, "%s", l->prev.state_file);
    if ((st = write_record(l, err))) {
        close(l->fd);
        free(l);
        return st;
    }
    *out = l;
    return FP_OK;
}

const fp_lease_record *fp_lease_previous(const fp_lease *l)
{
    return &l->prev;
}

const fp_lease_record *fp_lease_current(const fp_lease *l)
{
    return &l->mine;
}

const char *fp_lease_gpu(const fp_lease *l)
{
    return l->uuid;
}

const char *fp_lease_path(const fp_lease *l)
{
    return l->path;
}

fp_status fp_lease_set_state_file(fp_lease *l, const char *path, fp_error *err)
{
    if (!path)
        path = "";
    if (strcmp(path, l->mine.state_file) == 0)
        return FP_OK;
    snprintf(l->mine.state_file, sizeof l->mine.state_file, "%s", path);
    return write_record(l, err);
}

void fp_lease_release(fp_lease *l)
{
    if (!l)
        return;
    if (l->fd >= 0)
        close(l->fd);
    free(l);
}

fp_status fp_lease_read(const char *dir, const char *gpu_uuid, int *held, fp_lease_record *rec,
                        fp_error *err)
{
    *held = 0;
    memset(rec, 0, sizeof *rec);
    rec->uid = -1;
    char path[4300];
    int fd, missing = 0;
    fp_status st = open_lock_file(dir, gpu_uuid, 0, path, sizeof path, &fd, &missing, err);
    if (st)
        return missing ? FP_OK : st;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_OFD_GETLK, &fl) == 0)
        *held = fl.l_type != F_UNLCK;
    read_record(fd, rec);
    close(fd);
    return FP_OK;
}
