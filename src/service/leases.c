/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilotd's GPUs and leases (src/service/server.h): who may change what (the policy and,
 * for slurm = yes rules, the user's running jobs), one clock guard per leased GPU, and what
 * happens when a connection ends, a job ends, the service starts or stops.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/version.h"
#include "profile/sampler.h"
#include "service/server_int.h"
#include "util/safedir.h"

static double utc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- start and stop ---- */

typedef struct leftover_ctx {
    fp_svc_server *s;
    int restored, failed;
} leftover_ctx;

/* A state file of an earlier instance: its client is gone with it, so restore. */
static int restore_leftover(void *user, const char *path)
{
    leftover_ctx *lc = user;
    fp_clockguard_report rep;
    fp_error err;
    if (fp_clockguard_restore_from_state(path, lc->s->cfg.state_dir, 0, &rep, &err)) {
        lc->failed++;
        svc_log(lc->s, 0, "restoring what an earlier freqpilotd left (%s) failed: %s", path,
                err.msg);
        return 0;
    }
    lc->restored++;
    svc_log(lc->s, 1, "restored GPU %u (%s) left changed by an earlier freqpilotd (pid %ld):%s%s%s",
            rep.gpu_index, rep.gpu_uuid, (long)rep.pid,
            rep.reset_locked ? " locked clocks reset" : "",
            rep.reset_app ? " application clocks reset" : "",
            rep.power_limit_restored ? " power limit restored" : "");
    return 0;
}

/*
 * One instance per state folder: an open-file lock on STATE_DIR/.freqpilotd.lock, released
 * by the kernel however the instance ends. A second instance must not restore the leases
 * of a running one as leftovers.
 */
static fp_status instance_lock(fp_svc_server *s, fp_error *err)
{
    /* The state folder as the state files need it: ours, not writable by others. */
    int dirfd = -1, fd = -1;
    fp_status st =
        fp_safedir_open(s->cfg.state_dir, 1, "freqpilotd state folder", &dirfd, NULL, err);
    if (!st)
        st = fp_safedir_open_file(dirfd, s->cfg.state_dir, ".freqpilotd.lock", O_RDWR | O_CREAT,
                                  0600, &fd, NULL, err);
    if (dirfd >= 0)
        close(dirfd);
    if (st)
        return st;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_OFD_SETLK, &fl)) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        close(fd);
        return fp_error_set(err, FP_ERR_BUSY,
                            "%s: another freqpilotd (pid %s) uses this state folder; stop it first",
                            s->cfg.state_dir, pid[0] ? pid : "?");
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
        /* the lock is what counts; the pid is for the message */
    }
    s->instance_fd = fd;
    return FP_OK;
}

fp_status svc_leases_open(fp_svc_server *s, fp_error *err)
{
    s->pfds = calloc((size_t)s->cfg.max_clients + 1, sizeof *s->pfds);
    if (!s->pfds)
        return fp_error_set(err, FP_ERR_NOMEM, "out of memory");
    s->be = fp_gpu_backend_by_name(s->cfg.backend);
    if (!s->be)
        return fp_error_set(err, FP_ERR_INVALID, "backend '%s': expected %s", s->cfg.backend,
                            fp_gpu_backend_names());
    if (s->be->simulated)
        svc_log(s, 1,
                "backend %s: its GPUs live in this process, so requests work but no other "
                "process sees their clocks (for trying the protocol, not for GPUs)",
                s->be->name);
    fp_status st = instance_lock(s, err);
    if (st)
        return st;
    /* Before anything is served: what a killed instance left is put back. */
    leftover_ctx lc = {s, 0, 0};
    st = fp_clockguard_list(s->cfg.state_dir, restore_leftover, &lc, err);
    if (st)
        return st;
    if ((st = s->be->init(err)))
        return st;
    s->be_open = 1;
    unsigned n = 0;
    if ((st = s->be->count(&n, err)))
        return st;
    if (n > SVC_MAX_GPUS)
        n = SVC_MAX_GPUS;
    for (unsigned i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "%u", i);
        svc_gpu *g = &s->gpus[s->n_gpus];
        if ((st = s->be->open(id, &g->gpu, err)))
            return st;
        s->n_gpus++;
        if ((st = s->be->info(g->gpu, &g->info, err)))
            return st;
    }
    return FP_OK;
}

/* Restores what g's guard changed and ends the lease; why is for the log. */
static fp_status lease_end(fp_svc_server *s, svc_gpu *g, const char *why, fp_error *err)
{
    fp_error e2;
    fp_status st = fp_clockguard_restore(g->guard, err ? err : &e2);
    if (st)
        svc_log(s, 0,
                "GPU %u (%s) of %s: restoring failed (%s); the state file stays for the next "
                "start or 'freqpilot restore'",
                g->info.index, g->info.uuid, g->user, (err ? err : &e2)->msg);
    else
        svc_log(s, 2, "GPU %u (%s) restored and released: %s", g->info.index, g->info.uuid, why);
    fp_clockguard_end(g->guard);
    g->guard = NULL;
    g->holder = NULL;
    g->slurm = 0;
    g->adopted_unchanged = 0;
    return st;
}

void svc_leases_close(fp_svc_server *s)
{
    for (unsigned i = 0; i < s->n_gpus; i++) {
        svc_gpu *g = &s->gpus[i];
        if (g->guard)
            lease_end(s, g, "freqpilotd stops", NULL);
        if (g->gpu)
            s->be->close(g->gpu);
    }
    s->n_gpus = 0;
    if (s->be_open)
        s->be->shutdown();
    s->be_open = 0;
    free(s->pfds);
    s->pfds = NULL;
    if (s->instance_fd >= 0)
        close(s->instance_fd);
    s->instance_fd = -1;
}

/* A taken-over lease its new connection did not change goes back to being kept. */
static int keep_again(fp_svc_server *s, svc_gpu *g)
{
    if (!g->adopted_unchanged)
        return 0;
    g->holder = NULL;
    g->adopted_unchanged = 0;
    svc_log(s, 2,
            "GPU %u (%s): kept for %s again (the connection that took it over changed "
            "nothing)",
            g->info.index, g->info.uuid, g->user);
    return 1;
}

void svc_leases_conn_closed(fp_svc_server *s, svc_conn *c)
{
    char name[160], why[220];
    svc_conn_name(c, name, sizeof name);
    snprintf(why, sizeof why, "the connection of %s ended", name);
    for (unsigned i = 0; i < s->n_gpus; i++) {
        svc_gpu *g = &s->gpus[i];
        if (g->guard && g->holder == c && !keep_again(s, g))
            lease_end(s, g, why, NULL);
    }
}

/* ---- Slurm ---- */

void svc_slurm_forget(fp_svc_server *s)
{
    memset(s->slurm, 0, sizeof s->slurm);
}

static const svc_slurm_entry *slurm_jobs(fp_svc_server *s, uid_t uid)
{
    double now = fp_mono_now();
    svc_slurm_entry *slot = &s->slurm[0];
    for (size_t i = 0; i < SVC_SLURM_CACHE; i++) {
        svc_slurm_entry *e = &s->slurm[i];
        if (e->at > 0 && e->uid == uid) {
            if (now - e->at < s->cfg.slurm_cache_s)
                return e;
            slot = e;
            break;
        }
        if (e->at < slot->at)
            slot = e;
    }
    fp_error err;
    slot->uid = uid;
    slot->st = fp_svc_slurm_query(&s->cfg, uid, &slot->jobs, &err);
    snprintf(slot->msg, sizeof slot->msg, "%s", slot->st ? err.msg : "");
    slot->at = fp_mono_now();
    if (slot->st)
        svc_log(s, 1, "asking Slurm about uid %ld: %s", (long)uid, slot->msg);
    return slot;
}

/*
 * 1 when a running job of uid holds GPU index; 0 when Slurm says none does; -1 when Slurm
 * could not be asked. why says it for the last two. A request is refused either way (the
 * service fails closed); a held lease is taken back only when Slurm said no.
 */
static int slurm_allows(fp_svc_server *s, uid_t uid, const char *user, unsigned index, char *why,
                        size_t size)
{
    const svc_slurm_entry *e = slurm_jobs(s, uid);
    char node[256];
    fp_svc_slurm_node(&s->cfg, node, sizeof node);
    if (e->st) {
        snprintf(why, size, "Slurm could not be asked whether a job of %s holds GPU %u: %.400s",
                 user, index, e->msg);
        return -1;
    }
    if (fp_svc_slurm_holds(&s->cfg, &e->jobs, index))
        return 1;
    char jobs[200] = "";
    size_t used = 0;
    for (size_t i = 0; i < e->jobs.n_jobs && used < sizeof jobs - 24; i++)
        used += (size_t)snprintf(jobs + used, sizeof jobs - used, "%s%ld", i ? ", " : "",
                                 e->jobs.jobs[i]);
    if (!e->jobs.n_jobs)
        snprintf(why, size,
                 "%s has no running Slurm job on node %s (a slurm = yes rule allows "
                 "GPU %u only while a job of theirs holds it)",
                 user, node, index);
    else
        snprintf(why, size, "no running Slurm job of %s on node %s holds GPU %u (running: %s)",
                 user, node, index, jobs);
    return 0;
}

/* ---- helpers ---- */

static const char *who_name(const svc_conn *c, char *buf, size_t size)
{
    if (c->who.user[0])
        snprintf(buf, size, "%s", c->who.user);
    else
        snprintf(buf, size, "uid %ld", (long)c->who.uid);
    return buf;
}

static svc_gpu *find_gpu(fp_svc_server *s, svc_conn *c, const fp_svc_request *req)
{
    const char *id = req->gpu;
    int digits = *id != 0;
    for (const char *p = id; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    for (unsigned i = 0; i < s->n_gpus; i++) {
        svc_gpu *g = &s->gpus[i];
        if (digits ? strtoul(id, NULL, 10) == g->info.index : !strcasecmp(id, g->info.uuid))
            return g;
    }
    svc_reply_error(c, req, FP_SVC_E_NO_GPU,
                    "no GPU '%s' here (%u GPU(s): indices 0..%u or their UUIDs)", id, s->n_gpus,
                    s->n_gpus ? s->n_gpus - 1 : 0);
    return NULL;
}

static void holder_text(const svc_gpu *g, char *buf, size_t size)
{
    time_t t = (time_t)g->since_utc_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    if (g->holder)
        snprintf(buf, size, "%s (uid %ld, pid %ld %s) since %s", g->user, (long)g->uid, g->pid,
                 g->comm, when);
    else
        snprintf(buf, size,
                 "%s (uid %ld), kept after its 'freqpilot apply' (pid %ld) ended, since %s; "
                 "'freqpilot restore' as that user or root gives it back",
                 g->user, (long)g->uid, g->pid, when);
}

/* The rule that lets c change g (root: none needed). NULL with the error sent otherwise. */
static int permitted(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g,
                     const fp_svc_rule **rule_out)
{
    *rule_out = NULL;
    if (c->who.uid == 0)
        return 1;
    char why[700], name[64];
    const fp_svc_rule *r =
        fp_svc_policy_rule(&s->cfg, &c->who, g->info.index, g->info.uuid, why, sizeof why);
    if (!r) {
        svc_log(s, 2, "refused %s of %s on GPU %u: %s", fp_svc_op_name(req->op),
                who_name(c, name, sizeof name), g->info.index, why);
        svc_reply_error(c, req, FP_SVC_E_DENIED, "%s", why);
        return 0;
    }
    if (r->slurm && slurm_allows(s, c->who.uid, who_name(c, name, sizeof name), g->info.index, why,
                                 sizeof why) != 1) {
        svc_log(s, 2, "refused %s of %s on GPU %u: %s", fp_svc_op_name(req->op), name,
                g->info.index, why);
        svc_reply_error(c, req, FP_SVC_E_DENIED, "%s", why);
        return 0;
    }
    *rule_out = r;
    return 1;
}

/* c's lease of g, taking it when free (or kept for c's user after an apply). */
static int take(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g,
                const fp_svc_rule *rule)
{
    char name[160];
    svc_conn_name(c, name, sizeof name);
    if (g->guard) {
        if (g->holder == c)
            return 1;
        if (!g->holder && g->uid == c->who.uid) {
            /* The same user's detached lease (an earlier apply): this connection takes it
             * over, with what it is to restore. */
            g->holder = c;
            g->pid = c->pid;
            g->adopted_unchanged = 1;
            snprintf(g->comm, sizeof g->comm, "%s", c->comm);
            svc_log(s, 2, "GPU %u (%s): %s takes over the lease kept for them", g->info.index,
                    g->info.uuid, name);
            return 1;
        }
        char h[400];
        holder_text(g, h, sizeof h);
        svc_log(s, 2, "refused %s of %s on GPU %u: leased by %s", fp_svc_op_name(req->op), name,
                g->info.index, h);
        svc_reply_error(c, req, FP_SVC_E_BUSY, "GPU %u (%s) is leased by %s", g->info.index,
                        g->info.uuid, h);
        return 0;
    }
    char command[300];
    snprintf(command, sizeof command, "freqpilotd for %s", name);
    /* The clock guard takes the GPU's lease on behalf of the client (its record names them):
     * one owner per GPU, whether it came through here or as root directly. */
    fp_lease_owner own = {.command = command, .uid = (long)c->who.uid};
    fp_clockguard_opts go = {.state_dir = s->cfg.state_dir,
                             .command = command,
                             .lock_dir = s->cfg.lock_dir[0] ? s->cfg.lock_dir : NULL,
                             .owner = &own};
    fp_error err;
    fp_status st = fp_clockguard_begin(&g->guard, s->be, g->gpu, &go, &err);
    if (st) {
        g->guard = NULL;
        svc_log(s, 1, "GPU %u (%s) for %s: %s", g->info.index, g->info.uuid, name, err.msg);
        svc_reply_error(c, req, st == FP_ERR_BUSY ? FP_SVC_E_BUSY : FP_SVC_E_FAILED,
                        "GPU %u (%s): %s", g->info.index, g->info.uuid, err.msg);
        return 0;
    }
    g->holder = c;
    g->uid = c->who.uid;
    if (c->who.user[0])
        snprintf(g->user, sizeof g->user, "%s", c->who.user);
    else
        snprintf(g->user, sizeof g->user, "uid %ld", (long)c->who.uid);
    g->pid = c->pid;
    snprintf(g->comm, sizeof g->comm, "%s", c->comm);
    g->since_utc_s = utc_now();
    g->slurm = rule && rule->slurm;
    g->revoked_conn = 0;
    svc_log(s, 2, "GPU %u (%s) leased to %s", g->info.index, g->info.uuid, name);
    return 1;
}

/* g must be c's (lease, then revocation, then nothing). */
static int holds(svc_conn *c, const fp_svc_request *req, svc_gpu *g)
{
    if (g->guard && g->holder == c)
        return 1;
    if (g->revoked_conn == c->id)
        svc_reply_error(c, req, FP_SVC_E_REVOKED, "%s", g->revoked_msg);
    else
        svc_reply_error(c, req, FP_SVC_E_BAD_REQUEST,
                        "%s: this connection holds no lease of GPU %u (%s)",
                        fp_svc_op_name(req->op), g->info.index, g->info.uuid);
    return 0;
}

static json_t *range_json(fp_svc_range_kind kind, double lo, double hi, double dev_lo,
                          double dev_hi)
{
    if (kind == FP_SVC_RANGE_NONE)
        return json_null();
    if (kind == FP_SVC_RANGE_SPAN) {
        dev_lo = fmax(dev_lo, lo);
        dev_hi = fmin(dev_hi, hi);
    }
    if (!(dev_lo <= dev_hi))
        return json_null();
    return json_pack("[f,f]", dev_lo, dev_hi);
}

static void clock_span(const fp_gpu_info *info, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = 0;
    for (unsigned i = 0; i < info->n_graphics_clocks; i++) {
        double c = info->graphics_clocks_mhz[i];
        if (c > 0 && c < *lo)
            *lo = c;
        if (c > *hi)
            *hi = c;
    }
}

/* The GPU's own ranges (nothing changes when they fail). */
static int device_allows_clocks(svc_conn *c, const fp_svc_request *req, const svc_gpu *g)
{
    fp_error err;
    if (!fp_gpu_check_clock(&g->info, req->min_mhz, "lock (min_mhz)", &err) &&
        !fp_gpu_check_clock(&g->info, req->max_mhz, "lock (max_mhz)", &err))
        return 1;
    svc_reply_error(c, req, FP_SVC_E_RANGE, "GPU %u: %s", g->info.index, err.msg);
    return 0;
}

static int device_allows_power(svc_conn *c, const fp_svc_request *req, const svc_gpu *g)
{
    fp_error err;
    if (!fp_gpu_check_power_limit(&g->info, req->watts, "power_limit", &err))
        return 1;
    svc_reply_error(c, req, FP_SVC_E_RANGE, "GPU %u: %s", g->info.index, err.msg);
    return 0;
}

/* ---- requests ---- */

static json_t *gpu_json(fp_svc_server *s, const svc_gpu *g)
{
    json_t *o = json_pack("{s:i,s:s,s:s}", "index", (int)g->info.index, "uuid", g->info.uuid,
                          "name", g->info.name);
    (void)s;
    if (!g->guard) {
        json_object_set_new(o, "lease", json_null());
        return o;
    }
    fp_gpu_clock_state cs;
    fp_clockguard_changes(g->guard, &cs);
    json_t *l = json_pack("{s:I,s:s,s:I,s:s,s:f,s:b}", "uid", (json_int_t)g->uid, "user", g->user,
                          "pid", (json_int_t)g->pid, "command", g->comm, "since_utc_s",
                          g->since_utc_s, "detached", g->holder == NULL);
    json_object_set_new(l, "slurm", json_boolean(g->slurm));
    json_t *ch = json_pack("{s:b,s:b,s:b}", "locked_clocks", cs.locked, "app_clocks",
                           cs.app_clocks_set, "power_limit", cs.power_limit_set);
    if (cs.locked) {
        json_object_set_new(ch, "locked_min_mhz", json_integer(cs.locked_min_mhz));
        json_object_set_new(ch, "locked_max_mhz", json_integer(cs.locked_max_mhz));
    }
    json_object_set_new(l, "changed", ch);
    json_object_set_new(o, "lease", l);
    return o;
}

static void op_hello(fp_svc_server *s, svc_conn *c, const fp_svc_request *req)
{
    svc_reply(c, req,
              json_pack("{s:b,s:s,s:s,s:i,s:I,s:s,s:I,s:s}", "ok", 1, "service", "freqpilotd",
                        "version", FREQPILOT_VERSION, "protocol", FP_SVC_PROTOCOL, "uid",
                        (json_int_t)c->who.uid, "user", c->who.user, "pid", (json_int_t)c->pid,
                        "backend", s->be->name));
}

static void op_list(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, int leased_only)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < s->n_gpus; i++)
        if (!leased_only || s->gpus[i].guard)
            json_array_append_new(a, gpu_json(s, &s->gpus[i]));
    svc_reply(c, req, json_pack("{s:b,s:o}", "ok", 1, leased_only ? "leases" : "gpus", a));
}

static void op_info(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g)
{
    fp_gpu_info now;
    fp_error err;
    if (s->be->info(g->gpu, &now, &err)) {
        svc_reply_error(c, req, FP_SVC_E_FAILED, "GPU %u: %s", g->info.index, err.msg);
        return;
    }
    json_t *clocks = json_array();
    for (unsigned i = 0; i < now.n_graphics_clocks; i++)
        json_array_append_new(clocks, json_integer(now.graphics_clocks_mhz[i]));
    json_t *gj = gpu_json(s, g);
    json_object_set_new(gj, "clocks_mhz", clocks);
    json_object_set_new(gj, "mem_clock_mhz", json_integer(now.mem_clock_mhz));
    json_object_set_new(gj, "max_clock_mhz", json_integer(now.max_clock_mhz));
#define W(k, v) json_object_set_new(gj, k, isfinite(v) ? json_real(v) : json_null())
    W("power_limit_w", now.power_limit_w);
    W("power_limit_min_w", now.power_limit_min_w);
    W("power_limit_max_w", now.power_limit_max_w);
    W("default_power_limit_w", now.default_power_limit_w);
#undef W
    /* What the caller may set (the policy within the device's ranges). */
    double clo, chi;
    clock_span(&now, &clo, &chi);
    json_t *allowed;
    if (c->who.uid == 0) {
        allowed = json_pack(
            "{s:b,s:o,s:o,s:s}", "ok", 1, "clocks_mhz",
            range_json(FP_SVC_RANGE_ANY, 0, 0, clo, chi), "power_limit_w",
            range_json(FP_SVC_RANGE_ANY, 0, 0, now.power_limit_min_w, now.power_limit_max_w), "why",
            "root");
    } else {
        char why[700];
        const fp_svc_rule *r =
            fp_svc_policy_rule(&s->cfg, &c->who, g->info.index, g->info.uuid, why, sizeof why);
        if (!r) {
            allowed =
                json_pack("{s:b,s:n,s:n,s:s}", "ok", 0, "clocks_mhz", "power_limit_w", "why", why);
        } else {
            char rule[200];
            snprintf(rule, sizeof rule, "rule '%s'%s", r->name,
                     r->slurm ? " (while a Slurm job of yours holds the GPU)" : "");
            allowed = json_pack("{s:b,s:o,s:o,s:s,s:b}", "ok", 1, "clocks_mhz",
                                range_json(r->clocks.kind, r->clocks.lo, r->clocks.hi, clo, chi),
                                "power_limit_w",
                                range_json(r->power.kind, r->power.lo, r->power.hi,
                                           now.power_limit_min_w, now.power_limit_max_w),
                                "why", rule, "slurm", r->slurm);
        }
    }
    json_object_set_new(gj, "allowed", allowed);
    svc_reply(c, req, json_pack("{s:b,s:o}", "ok", 1, "gpu", gj));
}

static void op_lock(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g)
{
    const fp_svc_rule *r;
    if (!permitted(s, c, req, g, &r))
        return;
    char why[200];
    if (r && !fp_svc_range_allows(&r->clocks, req->min_mhz, req->max_mhz, "MHz", why, sizeof why)) {
        svc_log(s, 2, "refused lock of %s on GPU %u: %u..%u MHz (%s, rule '%s')", c->who.user,
                g->info.index, req->min_mhz, req->max_mhz, why, r->name);
        svc_reply_error(c, req, FP_SVC_E_RANGE,
                        "lock %u..%u MHz on GPU %u: outside what the policy allows %s (%s, "
                        "rule '%s'); nothing changed",
                        req->min_mhz, req->max_mhz, g->info.index, c->who.user, why, r->name);
        return;
    }
    if (!device_allows_clocks(c, req, g) || !take(s, c, req, g, r))
        return;
    double reached = NAN;
    int used_app = 0;
    fp_error err;
    if (fp_clockguard_lock_ex(g->guard, req->min_mhz, req->max_mhz, req->app_fallback, &reached,
                              &used_app, &err)) {
        svc_reply_error(c, req, FP_SVC_E_FAILED, "GPU %u: locking %u..%u MHz failed: %s",
                        g->info.index, req->min_mhz, req->max_mhz, err.msg);
        return;
    }
    g->adopted_unchanged = 0;
    svc_log(s, 3, "GPU %u locked at %u..%u MHz for %s", g->info.index, req->min_mhz, req->max_mhz,
            g->user);
    json_t *reply =
        json_pack("{s:b,s:s,s:i,s:i,s:i,s:s}", "ok", 1, "gpu", g->info.uuid, "index",
                  (int)g->info.index, "min_mhz", (int)req->min_mhz, "max_mhz", (int)req->max_mhz,
                  "method", used_app ? "application_clocks" : "locked");
    json_object_set_new(reply, "reached_mhz", isfinite(reached) ? json_real(reached) : json_null());
    svc_reply(c, req, reply);
}

static void op_power(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g)
{
    const fp_svc_rule *r;
    if (!permitted(s, c, req, g, &r))
        return;
    char why[200];
    if (r && !fp_svc_range_allows(&r->power, req->watts, req->watts, "W", why, sizeof why)) {
        svc_log(s, 2, "refused power_limit of %s on GPU %u: %g W (%s, rule '%s')", c->who.user,
                g->info.index, req->watts, why, r->name);
        svc_reply_error(c, req, FP_SVC_E_RANGE,
                        "power limit %g W on GPU %u: outside what the policy allows %s (%s, "
                        "rule '%s'); nothing changed",
                        req->watts, g->info.index, c->who.user, why, r->name);
        return;
    }
    if (!device_allows_power(c, req, g) || !take(s, c, req, g, r))
        return;
    fp_error err;
    if (fp_clockguard_set_power_limit(g->guard, req->watts, &err)) {
        svc_reply_error(c, req, FP_SVC_E_FAILED, "GPU %u: power limit %g W failed: %s",
                        g->info.index, req->watts, err.msg);
        return;
    }
    g->adopted_unchanged = 0;
    svc_reply(c, req,
              json_pack("{s:b,s:s,s:i,s:f}", "ok", 1, "gpu", g->info.uuid, "index",
                        (int)g->info.index, "watts", req->watts));
}

static void op_acquire(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g)
{
    const fp_svc_rule *r;
    if (!permitted(s, c, req, g, &r) || !take(s, c, req, g, r))
        return;
    svc_reply(
        c, req,
        json_pack("{s:b,s:s,s:i}", "ok", 1, "gpu", g->info.uuid, "index", (int)g->info.index));
}

/* reset / reset_power_limit: what the lease changed goes back, the lease stays. */
static void op_reset(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g)
{
    if (!holds(c, req, g))
        return;
    fp_error err;
    g->adopted_unchanged = 0;
    fp_status st = req->op == FP_SVC_RESET ? fp_clockguard_reset_clocks(g->guard, &err)
                                           : fp_clockguard_reset_power_limit(g->guard, &err);
    if (st) {
        svc_reply_error(c, req, FP_SVC_E_FAILED, "GPU %u: %s failed: %s", g->info.index,
                        fp_svc_op_name(req->op), err.msg);
        return;
    }
    svc_reply(
        c, req,
        json_pack("{s:b,s:s,s:i}", "ok", 1, "gpu", g->info.uuid, "index", (int)g->info.index));
}

static void op_release(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g)
{
    if (!holds(c, req, g))
        return;
    char name[160], why[220];
    svc_conn_name(c, name, sizeof name);
    snprintf(why, sizeof why, "released by %s", name);
    fp_error err;
    if (keep_again(s, g)) {
        svc_reply(c, req,
                  json_pack("{s:b,s:s,s:i,s:b}", "ok", 1, "gpu", g->info.uuid, "index",
                            (int)g->info.index, "kept", 1));
        return;
    }
    if (lease_end(s, g, why, &err)) {
        svc_reply_error(c, req, FP_SVC_E_FAILED, "GPU %u: restoring failed: %s", g->info.index,
                        err.msg);
        return;
    }
    svc_reply(
        c, req,
        json_pack("{s:b,s:s,s:i}", "ok", 1, "gpu", g->info.uuid, "index", (int)g->info.index));
}

static void op_detach(fp_svc_server *s, svc_conn *c, const fp_svc_request *req, svc_gpu *g)
{
    if (!holds(c, req, g))
        return;
    g->holder = NULL;
    g->adopted_unchanged = 0;
    svc_log(s, 2, "GPU %u (%s): lease kept for %s after their connection", g->info.index,
            g->info.uuid, g->user);
    svc_reply(
        c, req,
        json_pack("{s:b,s:s,s:i}", "ok", 1, "gpu", g->info.uuid, "index", (int)g->info.index));
}

static void op_restore(fp_svc_server *s, svc_conn *c, const fp_svc_request *req)
{
    int root = c->who.uid == 0;
    if (!root && req->uid >= 0 && (uid_t)req->uid != c->who.uid) {
        svc_reply_error(c, req, FP_SVC_E_DENIED,
                        "restore: only root may restore the leases of another user");
        return;
    }
    svc_gpu *only = NULL;
    if (req->gpu[0] && !(only = find_gpu(s, c, req)))
        return;
    json_t *done = json_array(), *skipped = json_array();
    char name[160], why[220];
    svc_conn_name(c, name, sizeof name);
    snprintf(why, sizeof why, "restored on request of %s", name);
    int failed = 0;
    for (unsigned i = 0; i < s->n_gpus; i++) {
        svc_gpu *g = &s->gpus[i];
        if (!g->guard || (only && g != only))
            continue;
        int mine = g->uid == c->who.uid;
        if (req->uid >= 0 ? g->uid != (uid_t)req->uid : !root && !mine)
            continue;
        if (!root && !mine) /* a GPU named by a user: not theirs to give back */
            continue;
        if (g->holder && g->holder != c && !req->force) {
            char h[400];
            holder_text(g, h, sizeof h);
            json_array_append_new(skipped, json_pack("{s:i,s:s,s:s}", "index", (int)g->info.index,
                                                     "uuid", g->info.uuid, "why", h));
            continue;
        }
        svc_conn *was = g->holder;
        char msg[400];
        snprintf(msg, sizeof msg, "GPU %u (%s): the lease was restored and taken back by %s",
                 g->info.index, g->info.uuid, name);
        json_int_t uid = (json_int_t)g->uid;
        fp_error err;
        if (lease_end(s, g, why, &err)) {
            failed++;
            json_array_append_new(skipped, json_pack("{s:i,s:s,s:s}", "index", (int)g->info.index,
                                                     "uuid", g->info.uuid, "why", err.msg));
            continue;
        }
        if (was && was != c) {
            g->revoked_conn = was->id;
            snprintf(g->revoked_msg, sizeof g->revoked_msg, "%s", msg);
        }
        json_array_append_new(done, json_pack("{s:i,s:s,s:I}", "index", (int)g->info.index, "uuid",
                                              g->info.uuid, "uid", uid));
    }
    if (failed) {
        json_decref(done);
        char first[600] = "restoring failed";
        json_t *w = json_object_get(json_array_get(skipped, json_array_size(skipped) - 1), "why");
        if (json_is_string(w))
            snprintf(first, sizeof first, "restoring failed: %s", json_string_value(w));
        json_decref(skipped);
        svc_reply_error(c, req, FP_SVC_E_FAILED, "%s", first);
        return;
    }
    svc_reply(c, req, json_pack("{s:b,s:o,s:o}", "ok", 1, "restored", done, "skipped", skipped));
}

void svc_dispatch(fp_svc_server *s, svc_conn *c, const fp_svc_request *req)
{
    switch (req->op) {
    case FP_SVC_HELLO:
        op_hello(s, c, req);
        return;
    case FP_SVC_GPUS:
        op_list(s, c, req, 0);
        return;
    case FP_SVC_STATUS:
        op_list(s, c, req, 1);
        return;
    case FP_SVC_RESTORE:
        op_restore(s, c, req);
        return;
    default:
        break;
    }
    svc_gpu *g = find_gpu(s, c, req);
    if (!g)
        return;
    switch (req->op) {
    case FP_SVC_INFO:
        op_info(s, c, req, g);
        break;
    case FP_SVC_ACQUIRE:
        op_acquire(s, c, req, g);
        break;
    case FP_SVC_LOCK:
        op_lock(s, c, req, g);
        break;
    case FP_SVC_POWER_LIMIT:
        op_power(s, c, req, g);
        break;
    case FP_SVC_RESET:
    case FP_SVC_RESET_POWER_LIMIT:
        op_reset(s, c, req, g);
        break;
    case FP_SVC_RELEASE:
        op_release(s, c, req, g);
        break;
    case FP_SVC_DETACH:
        op_detach(s, c, req, g);
        break;
    default:
        svc_reply_error(c, req, FP_SVC_E_BAD_REQUEST, "op %s: not handled",
                        fp_svc_op_name(req->op));
        break;
    }
}

/* Slurm-granted leases whose job has ended are restored and taken back. */
void svc_leases_tick(fp_svc_server *s)
{
    if (!(s->cfg.slurm_check_s > 0) || fp_mono_now() < s->next_slurm_check)
        return;
    s->next_slurm_check = fp_mono_now() + s->cfg.slurm_check_s;
    for (unsigned i = 0; i < s->n_gpus; i++) {
        svc_gpu *g = &s->gpus[i];
        if (!g->guard || !g->slurm)
            continue;
        char why[600];
        int held = slurm_allows(s, g->uid, g->user, g->info.index, why, sizeof why);
        if (held == 1)
            continue;
        if (held < 0) { /* a slow or restarting controller takes nobody's GPU away */
            svc_log(s, 1, "GPU %u (%s): lease kept for now: %s", g->info.index, g->info.uuid, why);
            continue;
        }
        svc_conn *was = g->holder;
        char msg[800];
        snprintf(msg, sizeof msg, "GPU %u (%s): the lease was restored and taken back: %s",
                 g->info.index, g->info.uuid, why);
        lease_end(s, g, why, NULL);
        if (was) {
            g->revoked_conn = was->id;
            snprintf(g->revoked_msg, sizeof g->revoked_msg, "%s", msg);
        }
        svc_log(s, 2, "%s", msg);
    }
}
