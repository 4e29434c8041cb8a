/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilotd's configuration and access policy (src/service/policy.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "freqpilot/freqpilotd.h"
#include "freqpilot/gpu.h"
#include "service/policy.h"

void fp_svc_config_defaults(fp_svc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->socket, sizeof cfg->socket, "%s", FP_SVC_SOCKET_DEFAULT);
    cfg->socket_mode = 0666;
    snprintf(cfg->backend, sizeof cfg->backend, "%s", FP_GPU_BACKEND_DEFAULT);
    snprintf(cfg->state_dir, sizeof cfg->state_dir, "/var/lib/freqpilot/freqpilotd");
    cfg->max_clients = 64;
    cfg->max_clients_per_user = 8;
    cfg->request_timeout_s = 10;
    snprintf(cfg->squeue, sizeof cfg->squeue, "/usr/bin/squeue");
    snprintf(cfg->scontrol, sizeof cfg->scontrol, "/usr/bin/scontrol");
    snprintf(cfg->run_as, sizeof cfg->run_as, "nobody");
    cfg->slurm_timeout_s = 5;
    cfg->slurm_cache_s = 2;
    cfg->slurm_check_s = 5;
}

/* ---- parsing ---- */

typedef struct parse_ctx {
    fp_svc_config *cfg;
    char msg[600];
    int failed;
    char last_section[128];
    unsigned seen; /* scalar keys of the current section already set */
} parse_ctx;

static int fail(parse_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parse_ctx *p, const char *fmt, ...)
{
    if (!p->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->msg, sizeof p->msg, fmt, ap);
        va_end(ap);
        p->failed = 1;
    }
    return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "on"))
        *out = 1;
    else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0") ||
             !strcasecmp(s, "off"))
        *out = 0;
    else
        return -1;
    return 0;
}

/* "any", "none", "LO:HI" or one number (LO = HI). */
static int parse_range(const char *s, double max, fp_svc_range *r)
{
    if (!strcasecmp(s, "any")) {
        r->kind = FP_SVC_RANGE_ANY;
        return 0;
    }
    if (!strcasecmp(s, "none")) {
        r->kind = FP_SVC_RANGE_NONE;
        return 0;
    }
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    char *colon = strchr(buf, ':');
    double lo, hi;
    if (colon) {
        *colon = 0;
        if (parse_num(buf, 0, max, &lo) || parse_num(colon + 1, 0, max, &hi))
            return -1;
    } else if (parse_num(buf, 0, max, &lo)) {
        return -1;
    } else {
        hi = lo;
    }
    if (!(lo > 0) || lo > hi)
        return -1;
    r->kind = FP_SVC_RANGE_SPAN;
    r->lo = lo;
    r->hi = hi;
    return 0;
}

static int path_value(parse_ctx *p, const char *key, const char *value, char *dst, size_t size)
{
    if (value[0] != '/')
        return fail(p, "%s: expected an absolute path, found '%.200s'", key, value);
    if (strlen(value) >= size)
        return fail(p, "%s: path longer than %zu characters", key, size - 1);
    snprintf(dst, size, "%s", value);
    return 1;
}

/* Appends the comma- or space-separated items of value to list. */
static int list_value(parse_ctx *p, const char *rule, const char *key, const char *value,
                      char *list, size_t item_size, int *n)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", value);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        if (*n >= FP_SVCP_MAX_ITEMS)
            return fail(p, "[allow %s] %s: at most %d entries", rule, key, FP_SVCP_MAX_ITEMS);
        if (strlen(t) >= item_size)
            return fail(p, "[allow %s] %s: '%.60s' is longer than %zu characters", rule, key, t,
                        item_size - 1);
        snprintf(list + (size_t)*n * item_size, item_size, "%s", t);
        (*n)++;
    }
    return 1;
}

enum {
    S_SOCKET = 1 << 0,
    S_MODE = 1 << 1,
    S_GROUP = 1 << 2,
    S_BACKEND = 1 << 3,
    S_STATE = 1 << 4,
    S_LOCK = 1 << 5,
    S_MAXC = 1 << 6,
    S_MAXU = 1 << 7,
    S_TIMEOUT = 1 << 8,
    S_CLOCKS = 1 << 9,
    S_POWER = 1 << 10,
    S_SLURM = 1 << 11,
};

static int once(parse_ctx *p, const char *section, const char *key, unsigned bit)
{
    if (p->seen & bit)
        return fail(p, "[%s] %s: set twice", section, key);
    p->seen |= bit;
    return 1;
}

static int service_key(parse_ctx *p, const char *name, const char *value)
{
    fp_svc_config *c = p->cfg;
    long n;
    double d;
    if (!strcasecmp(name, "socket")) {
        if (!once(p, "service", name, S_SOCKET))
            return 0;
        return path_value(p, name, value, c->socket, sizeof c->socket);
    }
    if (!strcasecmp(name, "socket_mode")) {
        char *end;
        errno = 0;
        unsigned long m = strtoul(value, &end, 8);
        if (!once(p, "service", name, S_MODE))
            return 0;
        if (end == value || *end || errno || m > 0777 || (m & 0600) != 0600)
            return fail(p,
                        "socket_mode: expected an octal mode 0600..0777 (owner rw), found "
                        "'%.40s'",
                        value);
        c->socket_mode = (unsigned)m;
        return 1;
    }
    if (!strcasecmp(name, "socket_group")) {
        if (!once(p, "service", name, S_GROUP))
            return 0;
        if (strlen(value) >= sizeof c->socket_group)
            return fail(p, "socket_group: a group name of at most 63 characters");
        snprintf(c->socket_group, sizeof c->socket_group, "%s", value);
        return 1;
    }
    if (!strcasecmp(name, "backend")) {
        if (!once(p, "service", name, S_BACKEND))
            return 0;
        const fp_gpu_backend *be = fp_gpu_backend_by_name(value);
        if (!be)
            return fail(p, "backend: expected %s, found '%.40s'", fp_gpu_backend_names(), value);
        snprintf(c->backend, sizeof c->backend, "%s", be->name);
        return 1;
    }
    if (!strcasecmp(name, "state_dir")) {
        if (!once(p, "service", name, S_STATE))
            return 0;
        return path_value(p, name, value, c->state_dir, sizeof c->state_dir);
    }
    if (!strcasecmp(name, "lock_dir")) {
        if (!once(p, "service", name, S_LOCK))
            return 0;
        return path_value(p, name, value, c->lock_dir, sizeof c->lock_dir);
    }
    if (!strcasecmp(name, "max_clients")) {
        if (!once(p, "service", name, S_MAXC))
            return 0;
        if (parse_int(value, 1, 4096, &n))
            return fail(p, "max_clients: expected 1..4096, found '%.40s'", value);
        c->max_clients = (int)n;
        return 1;
    }
    if (!strcasecmp(name, "max_clients_per_user")) {
        if (!once(p, "service", name, S_MAXU))
            return 0;
        if (parse_int(value, 1, 4096, &n))
            return fail(p, "max_clients_per_user: expected 1..4096, found '%.40s'", value);
        c->max_clients_per_user = (int)n;
        return 1;
    }
    if (!strcasecmp(name, "request_timeout_s")) {
        if (!once(p, "service", name, S_TIMEOUT))
            return 0;
        if (parse_num(value, 0.1, 600, &d))
            return fail(p, "request_timeout_s: expected 0.1..600 seconds, found '%.40s'", value);
        c->request_timeout_s = d;
        return 1;
    }
    return fail(p,
                "[service]: unknown key '%.60s' (expected socket, socket_mode, socket_group, "
                "backend, state_dir, lock_dir, max_clients, max_clients_per_user, "
                "request_timeout_s)",
                name);
}

static int slurm_key(parse_ctx *p, const char *name, const char *value)
{
    fp_svc_config *c = p->cfg;
    double d;
    if (!strcasecmp(name, "squeue"))
        return path_value(p, name, value, c->squeue, sizeof c->squeue);
    if (!strcasecmp(name, "scontrol"))
        return path_value(p, name, value, c->scontrol, sizeof c->scontrol);
    if (!strcasecmp(name, "slurm_conf"))
        return path_value(p, name, value, c->slurm_conf, sizeof c->slurm_conf);
    if (!strcasecmp(name, "run_as")) {
        if (!*value || strlen(value) >= sizeof c->run_as)
            return fail(p, "run_as: expected a user name of at most 63 characters");
        snprintf(c->run_as, sizeof c->run_as, "%s", value);
        return 1;
    }
    if (!strcasecmp(name, "node")) {
        if (!*value || strlen(value) >= sizeof c->node)
            return fail(p, "node: expected this node's Slurm name");
        snprintf(c->node, sizeof c->node, "%s", value);
        return 1;
    }
    if (!strcasecmp(name, "gpus_from")) {
        if (!strcasecmp(value, "gres"))
            c->gpus_from_node = 0;
        else if (!strcasecmp(value, "node"))
            c->gpus_from_node = 1;
        else
            return fail(p, "gpus_from: expected gres or node, found '%.40s'", value);
        return 1;
    }
    if (!strcasecmp(name, "timeout_s")) {
        if (parse_num(value, 0.1, 120, &d))
            return fail(p, "timeout_s: expected 0.1..120 seconds, found '%.40s'", value);
        c->slurm_timeout_s = d;
        return 1;
    }
    if (!strcasecmp(name, "cache_s")) {
        if (parse_num(value, 0, 3600, &d))
            return fail(p, "cache_s: expected 0..3600 seconds, found '%.40s'", value);
        c->slurm_cache_s = d;
        return 1;
    }
    if (!strcasecmp(name, "check_s")) {
        if (parse_num(value, 0, 3600, &d))
            return fail(p, "check_s: expected 0..3600 seconds (0 = never), found '%.40s'", value);
        c->slurm_check_s = d;
        return 1;
    }
    return fail(p,
                "[slurm]: unknown key '%.60s' (expected squeue, scontrol, slurm_conf, run_as, "
                "node, gpus_from, timeout_s, cache_s, check_s)",
                name);
}

static int rule_key(parse_ctx *p, fp_svc_rule *r, const char *name, const char *value)
{
    if (!strcasecmp(name, "users"))
        return list_value(p, r->name, name, value, &r->users[0][0], sizeof r->users[0],
                          &r->n_users);
    if (!strcasecmp(name, "groups"))
        return list_value(p, r->name, name, value, &r->groups[0][0], sizeof r->groups[0],
                          &r->n_groups);
    if (!strcasecmp(name, "gpus"))
        return list_value(p, r->name, name, value, &r->gpus[0][0], sizeof r->gpus[0], &r->n_gpus);
    if (!strcasecmp(name, "clocks")) {
        if (!once(p, r->name, name, S_CLOCKS))
            return 0;
        if (parse_range(value, FP_SVC_MAX_MHZ, &r->clocks))
            return fail(p,
                        "[allow %s] clocks: expected any, none, MIN:MAX or one clock in MHz, "
                        "found '%.40s'",
                        r->name, value);
        return 1;
    }
    if (!strcasecmp(name, "power_limit")) {
        if (!once(p, r->name, name, S_POWER))
            return 0;
        if (parse_range(value, FP_SVC_MAX_WATTS, &r->power))
            return fail(p,
                        "[allow %s] power_limit: expected any, none, MIN:MAX or one limit in "
                        "W, found '%.40s'",
                        r->name, value);
        return 1;
    }
    if (!strcasecmp(name, "slurm")) {
        if (!once(p, r->name, name, S_SLURM))
            return 0;
        if (parse_bool(value, &r->slurm))
            return fail(p, "[allow %s] slurm: expected yes or no, found '%.40s'", r->name, value);
        return 1;
    }
    return fail(p,
                "[allow %s]: unknown key '%.60s' (expected users, groups, gpus, clocks, "
                "power_limit, slurm)",
                r->name, name);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *p = user;
    fp_svc_config *c = p->cfg;
    if (strcmp(section, p->last_section) != 0) {
        snprintf(p->last_section, sizeof p->last_section, "%s", section);
        p->seen = 0;
        if (!strncasecmp(section, "allow", 5) && (section[5] == ' ' || !section[5])) {
            const char *rn = section + 5;
            while (*rn == ' ')
                rn++;
            if (!*rn)
                return fail(p, "[allow]: give the rule a name ([allow NAME])");
            if (strlen(rn) >= sizeof c->rules[0].name)
                return fail(p, "[allow %.40s...]: a rule name of at most 63 characters", rn);
            for (size_t i = 0; i < c->n_rules; i++)
                if (!strcmp(c->rules[i].name, rn))
                    return fail(p, "[allow %s]: a second rule of that name", rn);
            if (c->n_rules == FP_SVCP_MAX_RULES)
                return fail(p, "at most %d [allow] rules", FP_SVCP_MAX_RULES);
            fp_svc_rule *r = &c->rules[c->n_rules++];
            memset(r, 0, sizeof *r);
            snprintf(r->name, sizeof r->name, "%s", rn);
            r->clocks.kind = FP_SVC_RANGE_ANY;
            r->power.kind = FP_SVC_RANGE_ANY;
        }
    }
    if (!strcasecmp(section, "service"))
        return service_key(p, name, value);
    if (!strcasecmp(section, "slurm"))
        return slurm_key(p, name, value);
    if (!strncasecmp(section, "allow", 5) && c->n_rules)
        return rule_key(p, &c->rules[c->n_rules - 1], name, value);
    return fail(p, "unknown section [%.60s] (expected service, slurm or allow NAME)", section);
}

static fp_status finish(parse_ctx *p, int rc, const char *origin, fp_error *err)
{
    if (rc == -2)
        return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", origin);
    if (rc != 0)
        return fp_error_at(err, FP_ERR_PARSE, origin, rc, "%s",
                           p->failed ? p->msg : "expected 'name = value' or '[section]'");
    fp_svc_config *c = p->cfg;
    for (size_t i = 0; i < c->n_rules; i++) {
        const fp_svc_rule *r = &c->rules[i];
        if (!r->n_users && !r->n_groups)
            return fp_error_at(err, FP_ERR_PARSE, origin, 0,
                               "[allow %s]: names nobody (users = NAME,... or groups = "
                               "NAME,...; users = * for everyone)",
                               r->name);
        if (!r->n_gpus)
            return fp_error_at(err, FP_ERR_PARSE, origin, 0,
                               "[allow %s]: names no GPU (gpus = 0,1,GPU-... or gpus = all)",
                               r->name);
    }
    if (c->max_clients_per_user > c->max_clients)
        return fp_error_at(err, FP_ERR_PARSE, origin, 0,
                           "max_clients_per_user (%d) is above max_clients (%d)",
                           c->max_clients_per_user, c->max_clients);
    return FP_OK;
}

/*
 * The INI reader merges sections of the same name; a policy must not: a second [allow a]
 * (or [service]) is refused with its line.
 */
static fp_status no_repeated_sections(const char *text, const char *origin, fp_error *err)
{
    enum { MAX = FP_SVCP_MAX_RULES + 8 };
    char names[MAX][128];
    int n = 0;
    long line = 0;
    for (const char *p = text; *p;) {
        line++;
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (q < p + len && (*q == ' ' || *q == '\t'))
            q++;
        const char *close = q < p + len && *q == '[' ? memchr(q, ']', (size_t)(p + len - q)) : NULL;
        if (close) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(close - q - 1), q + 1);
            for (int i = 0; i < n; i++)
                if (!strcasecmp(names[i], name))
                    return fp_error_at(err, FP_ERR_PARSE, origin, line,
                                       "[%s] a second time (one section per name: %s)", name,
                                       strncasecmp(name, "allow", 5)
                                           ? "its keys go in one place"
                                           : "a second rule of that name");
            if (n < MAX)
                snprintf(names[n++], sizeof names[0], "%s", name);
        }
        p = e ? e + 1 : p + len;
    }
    return FP_OK;
}

fp_status fp_svc_config_parse(const char *text, const char *origin, fp_svc_config *cfg,
                              fp_error *err)
{
    fp_status st = no_repeated_sections(text, origin, err);
    if (st)
        return st;
    parse_ctx p = {.cfg = cfg};
    int rc = ini_parse_string(text, handler, &p);
    return finish(&p, rc, origin, err);
}

fp_status fp_svc_config_load(const char *path, fp_svc_config *cfg, fp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    fp_status s = FP_OK;
    char *text = NULL;
    if (fstat(fd, &st)) {
        s = fp_error_set(err, FP_ERR_IO, "%s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        s = fp_error_set(err, FP_ERR_INVALID, "%s: not a regular file", path);
    } else if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
        s = fp_error_set(err, FP_ERR_INVALID,
                         "%s: owned by uid %ld with mode %04o: the policy is trusted only when "
                         "its owner (root) alone can change it (chown root; chmod go-w)",
                         path, (long)st.st_uid, (unsigned)(st.st_mode & 07777));
    } else if (st.st_size > 1 << 20) {
        s = fp_error_set(err, FP_ERR_INVALID, "%s: larger than 1 MiB", path);
    } else if (!(text = malloc((size_t)st.st_size + 1))) {
        s = fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    } else {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        text[got] = 0;
        if (memchr(text, 0, got))
            s = fp_error_set(err, FP_ERR_PARSE, "%s: a NUL byte: not a text file", path);
        else
            s = fp_svc_config_parse(text, path, cfg, err);
    }
    if (!s)
        snprintf(cfg->path, sizeof cfg->path, "%s", path);
    free(text);
    close(fd);
    return s;
}

/* ---- decisions ---- */

void fp_svc_who_fill(fp_svc_who *who, uid_t uid, gid_t gid)
{
    memset(who, 0, sizeof *who);
    who->uid = uid;
    who->gid = gid;
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) {
        snprintf(who->user, sizeof who->user, "%s", pw.pw_name);
        int n = (int)(sizeof who->groups / sizeof who->groups[0]);
        if (getgrouplist(pw.pw_name, gid, who->groups, &n) < 0)
            n = (int)(sizeof who->groups / sizeof who->groups[0]);
        who->ngroups = n;
    } else {
        who->groups[0] = gid;
        who->ngroups = 1;
    }
}

static int is_number(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int names_user(const fp_svc_rule *r, const fp_svc_who *who)
{
    for (int i = 0; i < r->n_users; i++) {
        const char *u = r->users[i];
        if (!strcmp(u, "*"))
            return 1;
        if (is_number(u) ? strtoul(u, NULL, 10) == who->uid
                         : (who->user[0] && !strcmp(u, who->user)))
            return 1;
    }
    for (int i = 0; i < r->n_groups; i++) {
        const char *g = r->groups[i];
        gid_t gid;
        if (is_number(g)) {
            gid = (gid_t)strtoul(g, NULL, 10);
        } else {
            struct group gr, *res = NULL;
            char buf[8192];
            if (getgrnam_r(g, &gr, buf, sizeof buf, &res) || !res)
                continue;
            gid = gr.gr_gid;
        }
        if (gid == who->gid)
            return 1;
        for (int k = 0; k < who->ngroups; k++)
            if (who->groups[k] == gid)
                return 1;
    }
    return 0;
}

static int names_gpu(const fp_svc_rule *r, unsigned index, const char *uuid)
{
    for (int i = 0; i < r->n_gpus; i++) {
        const char *g = r->gpus[i];
        if (!strcasecmp(g, "all"))
            return 1;
        if (is_number(g) ? strtoul(g, NULL, 10) == index : !strcasecmp(g, uuid))
            return 1;
    }
    return 0;
}

const fp_svc_rule *fp_svc_policy_rule(const fp_svc_config *cfg, const fp_svc_who *who,
                                      unsigned index, const char *uuid, char *why, size_t why_size)
{
    char granted[512] = "";
    size_t used = 0;
    int named = 0;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const fp_svc_rule *r = &cfg->rules[i];
        if (!names_user(r, who))
            continue;
        if (names_gpu(r, index, uuid))
            return r;
        named = 1;
        for (int k = 0; k < r->n_gpus && used < sizeof granted - 1; k++) {
            int n = snprintf(granted + used, sizeof granted - used, "%s%s", used ? ", " : "",
                             r->gpus[k]);
            if (n > 0)
                used += (size_t)n;
        }
    }
    if (why) {
        char who_s[128];
        if (who->user[0])
            snprintf(who_s, sizeof who_s, "user %s (uid %ld)", who->user, (long)who->uid);
        else
            snprintf(who_s, sizeof who_s, "uid %ld", (long)who->uid);
        const char *src = cfg->path[0] ? cfg->path : "the built-in policy: nobody but root";
        if (named)
            snprintf(why, why_size, "%s may not control GPU %u (%s): the policy (%s) grants GPU %s",
                     who_s, index, uuid, src, granted);
        else
            snprintf(why, why_size,
                     "%s is not in the freqpilotd policy (%s); ask an administrator for an "
                     "[allow] rule",
                     who_s, src);
    }
    return NULL;
}

int fp_svc_range_allows(const fp_svc_range *r, double lo, double hi, const char *unit, char *why,
                        size_t why_size)
{
    if (r->kind == FP_SVC_RANGE_ANY)
        return 1;
    if (r->kind == FP_SVC_RANGE_SPAN && lo >= r->lo && hi <= r->hi)
        return 1;
    if (why) {
        if (r->kind == FP_SVC_RANGE_NONE)
            snprintf(why, why_size, "none allowed");
        else
            snprintf(why, why_size, "%g..%g %s allowed", r->lo, r->hi, unit);
    }
    return 0;
}
