/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Slurm jobs and the GPUs they hold, read as an unprivileged user (src/service/slurm_jobs.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "profile/sampler.h"
#include "service/slurm_jobs.h"
#include "util/asuser.h"

void fp_svc_slurm_node(const fp_svc_config *cfg, char *buf, size_t size)
{
    if (cfg->node[0]) {
        snprintf(buf, size, "%s", cfg->node);
        return;
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char *dot = strchr(host, '.');
    if (dot)
        *dot = 0;
    snprintf(buf, size, "%s", host);
}

/* ---- parsers ---- */

fp_status fp_svc_slurm_parse_ids(const char *text, long *jobs, size_t max, size_t *n, fp_error *err)
{
    *n = 0;
    const char *p = text;
    int line = 0;
    while (*p) {
        line++;
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        const char *q = p;
        while (q < p + len && isspace((unsigned char)*q))
            q++;
        if (q < p + len) {
            long v = 0;
            for (; q < p + len; q++) {
                if (!isdigit((unsigned char)*q) || v > 100000000000L)
                    return fp_error_at(err, FP_ERR_PARSE, "squeue", line,
                                       "expected a job id, found '%.*s'",
                                       (int)(len > 40 ? 40 : len), p);
                v = v * 10 + (*q - '0');
            }
            if (*n < max)
                jobs[(*n)++] = v;
        }
        p = e ? e + 1 : p + len;
    }
    return FP_OK;
}

/* "prefix[01-03,7]suffix" style part (one bracket at most) against node. */
static int hostpart_has(const char *part, size_t len, const char *node)
{
    const char *lb = memchr(part, '[', len);
    if (!lb)
        return strlen(node) == len && strncmp(part, node, len) == 0;
    const char *rb = memchr(lb, ']', len - (size_t)(lb - part));
    if (!rb)
        return 0;
    size_t plen = (size_t)(lb - part), slen = len - (size_t)(rb + 1 - part);
    size_t nlen = strlen(node);
    if (nlen <= plen + slen || strncmp(node, part, plen) ||
        strncmp(node + nlen - slen, rb + 1, slen))
        return 0;
    /* The number in node between prefix and suffix. */
    const char *num = node + plen;
    size_t numlen = nlen - plen - slen;
    for (size_t i = 0; i < numlen; i++)
        if (!isdigit((unsigned char)num[i]))
            return 0;
    long v = strtol(num, NULL, 10);
    const char *r = lb + 1;
    while (r < rb) {
        const char *c = memchr(r, ',', (size_t)(rb - r));
        const char *end = c ? c : rb;
        const char *dash = memchr(r, '-', (size_t)(end - r));
        size_t w = (size_t)((dash ? dash : end) - r);
        long a = strtol(r, NULL, 10), b = dash ? strtol(dash + 1, NULL, 10) : a;
        /* Zero-padded ranges ("01-04") name "01", not "1". */
        int padded = w > 1 && r[0] == '0';
        if (v >= a && v <= b && (!padded || numlen == w))
            return 1;
        r = end + 1;
    }
    return 0;
}

int fp_svc_hostlist_has(const char *list, const char *node)
{
    const char *p = list;
    while (*p) {
        /* One part: up to a comma outside brackets. */
        const char *q = p;
        int depth = 0;
        while (*q && (depth || *q != ',')) {
            if (*q == '[')
                depth++;
            else if (*q == ']' && depth)
                depth--;
            q++;
        }
        if (q > p && hostpart_has(p, (size_t)(q - p), node))
            return 1;
        p = *q ? q + 1 : q;
    }
    return 0;
}

/* Appends the indices of "0-1,3" (up to ')') to gpus. */
static void add_indices(const char *s, unsigned *gpus, size_t max, size_t *n)
{
    while (*s && *s != ')') {
        if (!isdigit((unsigned char)*s))
            return;
        char *end;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (*end == '-') {
            if (!isdigit((unsigned char)end[1]))
                return;
            b = strtoul(end + 1, &end, 10);
        }
        for (unsigned long i = a; i <= b && i < 4096 && *n < max; i++) {
            size_t k;
            for (k = 0; k < *n; k++)
                if (gpus[k] == i)
                    break;
            if (k == *n)
                gpus[(*n)++] = (unsigned)i;
        }
        s = end;
        if (*s == ',')
            s++;
    }
}

fp_status fp_svc_slurm_parse_job(const char *text, const char *node, unsigned *gpus, size_t max,
                                 size_t *n, int *on_node, fp_error *err)
{
    *on_node = 0;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        p = e ? e + 1 : p + len;
        /* Tokens: "Nodes=vm", "GRES=gpu:1(IDX:0)". NumNodes= and NodeList= are other keys. */
        char *nodes = NULL, *gres = NULL, *save = NULL;
        for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
            if (!strncmp(t, "Nodes=", 6))
                nodes = t + 6;
            else if (!strncmp(t, "GRES=", 5))
                gres = t + 5;
        }
        if (!nodes || !fp_svc_hostlist_has(nodes, node))
            continue;
        *on_node = 1;
        /* gpu:2(IDX:0-1), gpu:a100:1(IDX:3), gpu(IDX:0,2), maybe beside other GRES. */
        for (const char *g = gres; g && *g;) {
            int at_gpu = (g == gres || g[-1] == ',') && !strncmp(g, "gpu", 3) &&
                         (g[3] == ':' || g[3] == '(');
            if (at_gpu) {
                const char *idx = strstr(g, "(IDX:");
                if (idx) {
                    add_indices(idx + 5, gpus, max, n);
                    const char *close = strchr(idx, ')');
                    g = close ? close + 1 : idx + 5;
                    continue;
                }
            }
            g++;
        }
    }
    (void)err;
    return FP_OK;
}

/* ---- running the helpers ---- */

fp_status fp_svc_run_helper(char *const argv[], const char *run_as, char *const envp[],
                            double timeout_s, char *out, size_t out_size, fp_error *err)
{
    struct passwd pw, *res = NULL;
    char pwbuf[4096];
    if (getpwnam_r(run_as, &pw, pwbuf, sizeof pwbuf, &res) || !res)
        return fp_error_set(err, FP_ERR_INVALID, "%s: the user %s to run it as does not exist",
                            argv[0], run_as);
    if (pw.pw_uid == 0)
        return fp_error_set(err, FP_ERR_INVALID,
                            "%s: refusing to run it as %s (uid 0): give [slurm] run_as an "
                            "unprivileged user",
                            argv[0], run_as);
    /* No supplementary groups; an unprivileged service runs its helpers as itself. */
    fp_invoker as = {.drop = geteuid() == 0, .uid = pw.pw_uid, .gid = pw.pw_gid, .ngroups = 0};
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC))
        return fp_error_set(err, FP_ERR_IO, "pipe: %s", strerror(errno));
    if (pipe2(pe, O_CLOEXEC)) {
        close(po[0]);
        close(po[1]);
        return fp_error_set(err, FP_ERR_IO, "pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        return fp_error_set(err, FP_ERR_IO, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here: the service may run other threads. */
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
            _exit(126);
        if (fp_invoker_become(&as))
            _exit(126);
        /* After the drop: a change of credentials clears it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    size_t got = 0, egot = 0;
    char ebuf[512];
    double deadline = fp_mono_now() + timeout_s;
    int open_fds = 2, timed_out = 0, truncated = 0;
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    while (open_fds) {
        double left = deadline - fp_mono_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(fds, 2, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char tmp[4096];
            ssize_t k = read(fds[i].fd, tmp, sizeof tmp);
            if (k <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 0) {
                size_t room = out_size - 1 - got;
                size_t take = (size_t)k < room ? (size_t)k : room;
                memcpy(out + got, tmp, take);
                got += take;
                truncated |= take < (size_t)k;
            } else {
                size_t room = sizeof ebuf - 1 - egot;
                size_t take = (size_t)k < room ? (size_t)k : room;
                memcpy(ebuf + egot, tmp, take);
                egot += take;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    out[got] = 0;
    ebuf[egot] = 0;
    char *nl = strchr(ebuf, '\n');
    if (nl)
        *nl = 0;
    if (timed_out)
        return fp_error_set(err, FP_ERR_IO, "%s: no answer within %g s", argv[0], timeout_s);
    if (WIFSIGNALED(status))
        return fp_error_set(err, FP_ERR_IO, "%s: killed by signal %d", argv[0], WTERMSIG(status));
    if (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot run it as %s (exit %d)", argv[0], run_as,
                            WEXITSTATUS(status));
    if (WEXITSTATUS(status))
        return fp_error_set(err, FP_ERR_IO, "%s: exit %d%s%s", argv[0], WEXITSTATUS(status),
                            ebuf[0] ? ": " : "", ebuf);
    if (truncated)
        return fp_error_set(err, FP_ERR_IO, "%s: more than %zu bytes of output", argv[0],
                            out_size - 1);
    return FP_OK;
}

fp_status fp_svc_slurm_query(const fp_svc_config *cfg, uid_t uid, fp_svc_slurm_jobs *out,
                             fp_error *err)
{
    memset(out, 0, sizeof *out);
    char node[256], uid_s[32], conf_env[1100] = "";
    fp_svc_slurm_node(cfg, node, sizeof node);
    snprintf(uid_s, sizeof uid_s, "%ld", (long)uid);
    const char *conf = cfg->slurm_conf[0] ? cfg->slurm_conf : getenv("SLURM_CONF");
    char *envp[4] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL, NULL};
    if (conf && *conf) {
        snprintf(conf_env, sizeof conf_env, "SLURM_CONF=%s", conf);
        envp[2] = conf_env;
    }
    char *sq[] = {(char *)cfg->squeue, "-h", "-t", "R", "-u", uid_s, "-w", node, "-o", "%A", NULL};
    static char text[65536];
    fp_status st =
        fp_svc_run_helper(sq, cfg->run_as, envp, cfg->slurm_timeout_s, text, sizeof text, err);
    if (st)
        return st;
    if ((st = fp_svc_slurm_parse_ids(text, out->jobs, FP_SVC_SLURM_MAX_JOBS, &out->n_jobs, err)))
        return st;
    if (cfg->gpus_from_node)
        return FP_OK;
    for (size_t i = 0; i < out->n_jobs; i++) {
        char id[32];
        snprintf(id, sizeof id, "%ld", out->jobs[i]);
        char *sc[] = {(char *)cfg->scontrol, "-d", "show", "job", id, NULL};
        if ((st = fp_svc_run_helper(sc, cfg->run_as, envp, cfg->slurm_timeout_s, text, sizeof text,
                                    err)))
            return st;
        int on_node = 0;
        fp_svc_slurm_parse_job(text, node, out->gpus, FP_SVC_SLURM_MAX_GPUS, &out->n_gpus, &on_node,
                               err);
    }
    return FP_OK;
}

int fp_svc_slurm_holds(const fp_svc_config *cfg, const fp_svc_slurm_jobs *jobs, unsigned index)
{
    if (!jobs->n_jobs)
        return 0;
    if (cfg->gpus_from_node)
        return 1;
    for (size_t i = 0; i < jobs->n_gpus; i++)
        if (jobs->gpus[i] == index)
            return 1;
    return 0;
}
