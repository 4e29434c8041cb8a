/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot service (and freqpilotd, the same binary under that name): the clock-control
 * service for users who are not root, and the commands that look at it (docs/freqpilotd.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "freqpilot/clockctl.h"
#include "freqpilot/freqpilotd.h"
#include "service/policy.h"
#include "service/server.h"

static const cli_section service_sections[] = {
    {"COMMANDS",
     "run      the service (also: the binary called as freqpilotd); stops on SIGTERM or\n"
     "         SIGINT after restoring every lease, reads the policy again on SIGHUP\n"
     "check    reads the policy file and prints what it allows (exit 1 when it is bad)\n"
     "status   the leases: GPU, user, process, since when, what is changed\n"
     "info     the GPUs (or one): clocks, power limits, what you may set, the holder\n"
     "restore  gives back leases: yours kept after 'freqpilot apply' (--force: also those\n"
     "         held by another of your connections); root: anyone's (--gpu, --uid, --all),\n"
     "         as a Slurm epilog does (contrib/slurm/)\n"
     "call     sends one request line of the protocol (docs/freqpilotd.md) on one\n"
     "         connection and prints the reply; exit 0 when it says ok. The connection\n"
     "         ends with the command, and with it whatever the request changed.\n"},
    {"ENVIRONMENT",
     "FREQPILOT_SOCKET          where clients look for the service\n"
     "FREQPILOT_CLOCK_CONTROL   auto (default), direct or service: how profile, apply and\n"
     "                          govern daemon change clocks (auto: the service for users\n"
     "                          who are not root when its socket exists)\n"},
    {NULL, NULL},
};

const cli_command service_cmd = {
    .name = "service",
    .summary = "freqpilotd: clock control for users who are not root",
    .synopsis =
        "freqpilot service run [--config FILE] [--socket PATH] [--state-dir DIR]\n"
        "freqpilotd [--config FILE] [--socket PATH] [--state-dir DIR]\n"
        "freqpilot service check [--config FILE]\n"
        "freqpilot service status [--socket PATH] [--format table|json]\n"
        "freqpilot service info [--socket PATH] [--gpu ID] [--format table|json]\n"
        "freqpilot service restore [--socket PATH] [--gpu ID | --uid UID | --all] [--force]\n"
        "freqpilot service call [--socket PATH] 'JSON REQUEST'\n",
    .description =
        "freqpilotd is a small root service that changes GPU clocks and power limits for\n"
        "users who are not root, within what its policy allows them, and puts everything\n"
        "back when their connection ends: normal exit, crash or SIGKILL (docs/freqpilotd.md).\n"
        "profile, apply, restore and govern daemon use it without being asked when they run\n"
        "as a user who is not root and its socket exists; they say which way they change\n"
        "clocks. One client at a time holds a GPU (its lease); a second one is refused with\n"
        "the name of the holder. The policy file names users and groups, their GPUs and\n"
        "clock and power ranges, and can require a running Slurm job holding the GPU.\n"
        "Nobody but root may change anything without it. The service's own state survives\n"
        "its restart: what an instance left changed is restored when the next one starts.\n",
    .sections = service_sections,
    .exit_status =
        "0 success (run: stopped by a signal after restoring); 1 failure (the policy file is\n"
        "bad, the socket is in use, a request was refused); 2 usage error.\n",
    .subcommands = (const char *const[]){"status", "run", "check", "info", "restore", "call", NULL},
    .examples = "sudo freqpilotd --config /etc/freqpilot/freqpilotd.conf\n"
                "freqpilot service check --config contrib/freqpilotd.conf\n"
                "freqpilot service status\n"
                "freqpilot service info --gpu 0\n"
                "sudo freqpilot service restore --gpu 0 --force\n"
                "freqpilot service call '{\"op\": \"info\", \"gpu\": \"0\"}'\n",
};

typedef struct svc_opts {
    const char *config, *socket, *state_dir, *gpu;
    long uid;
    int all, force, json;
} svc_opts;

/* ---- run ---- */

static volatile sig_atomic_t stop_sig, reload_sig;

static void on_stop(int sig)
{
    stop_sig = sig;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_sig = 1;
}

static void svc_log_stderr(void *user, int level, const char *msg)
{
    (void)user;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > cli_verbosity + 1)
        return;
    fprintf(stderr, "freqpilotd: %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
}

static int load_config(const svc_opts *o, fp_svc_config *cfg)
{
    fp_svc_config_defaults(cfg);
    const char *path = o->config ? o->config : FP_SVC_CONFIG_DEFAULT;
    struct stat st;
    if (!o->config && stat(path, &st) != 0) {
        cli_warn("%s: no policy file: nobody but root may change clocks", path);
        return 0;
    }
    fp_error err;
    if (fp_svc_config_load(path, cfg, &err)) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

static int do_run(const svc_opts *o)
{
    fp_svc_config *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    if (load_config(o, cfg)) {
        free(cfg);
        return EXIT_FAIL;
    }
    if (o->socket)
        snprintf(cfg->socket, sizeof cfg->socket, "%s", o->socket);
    if (o->state_dir)
        snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", o->state_dir);
    if (geteuid() != 0)
        cli_warn("freqpilotd runs as uid %ld, not root: NVML refuses clock changes to it",
                 (long)geteuid());
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fp_svc_server *s = NULL;
    fp_error err;
    if (fp_svc_server_open(&s, cfg, svc_log_stderr, NULL, &err)) {
        cli_error("freqpilotd: %s", err.msg);
        free(cfg);
        return EXIT_FAIL;
    }
    free(cfg);
    fp_svc_server_run(s, &stop_sig, &reload_sig, &err);
    svc_log_stderr(NULL, 2, "stopping: restoring every lease");
    fp_svc_server_close(s);
    return EXIT_OK;
}

static int do_check(const svc_opts *o)
{
    fp_svc_config *cfg = malloc(sizeof *cfg);
    if (!cfg || load_config(o, cfg)) {
        free(cfg);
        return EXIT_FAIL;
    }
    printf("%s: socket %s (mode %04o%s%s), backend %s, state %s, %d connections (%d per "
           "user)\n",
           cfg->path[0] ? cfg->path : "(built-in)", cfg->socket, cfg->socket_mode,
           cfg->socket_group[0] ? ", group " : "", cfg->socket_group, cfg->backend, cfg->state_dir,
           cfg->max_clients, cfg->max_clients_per_user);
    if (!cfg->n_rules)
        printf("no [allow] rules: nobody but root may change clocks\n");
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const fp_svc_rule *r = &cfg->rules[i];
        printf("rule %s:", r->name);
        for (int k = 0; k < r->n_users; k++)
            printf("%s%s", k ? "," : " users ", r->users[k]);
        for (int k = 0; k < r->n_groups; k++)
            printf("%s%s", k ? "," : " groups ", r->groups[k]);
        for (int k = 0; k < r->n_gpus; k++)
            printf("%s%s", k ? "," : "; gpus ", r->gpus[k]);
        const fp_svc_range *rs[2] = {&r->clocks, &r->power};
        const char *names[2] = {"clocks", "power_limit"}, *units[2] = {"MHz", "W"};
        for (int k = 0; k < 2; k++) {
            if (rs[k]->kind == FP_SVC_RANGE_SPAN)
                printf("; %s %g..%g %s", names[k], rs[k]->lo, rs[k]->hi, units[k]);
            else
                printf("; %s %s", names[k], rs[k]->kind == FP_SVC_RANGE_ANY ? "any" : "none");
        }
        printf("%s\n", r->slurm ? "; only while a Slurm job of the user holds the GPU" : "");
    }
    free(cfg);
    return EXIT_OK;
}

/* ---- client commands ---- */

static int do_status(const svc_opts *o);

static int client_call(const svc_opts *o, const fp_svc_request *req, json_t **reply)
{
    fp_svc_client *c = NULL;
    fp_error err;
    char *text = NULL;
    *reply = NULL;
    if (fp_svc_connect(&c, o->socket, 0, &err) || fp_svc_call(c, req, &text, NULL, &err)) {
        cli_error("%s", err.msg);
        fp_svc_close(c);
        free(text);
        return EXIT_FAIL;
    }
    fp_svc_close(c);
    if (o->json)
        printf("%s\n", text);
    *reply = json_loads(text, 0, NULL);
    free(text);
    return *reply ? EXIT_OK : EXIT_FAIL;
}

static void print_lease(json_t *l)
{
    if (!json_is_object(l)) {
        printf("free");
        return;
    }
    time_t t = (time_t)json_number_value(json_object_get(l, "since_utc_s"));
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *ch = json_object_get(l, "changed");
    printf("%s (uid %lld) pid %lld %s since %s%s%s", json_string_value(json_object_get(l, "user")),
           (long long)json_integer_value(json_object_get(l, "uid")),
           (long long)json_integer_value(json_object_get(l, "pid")),
           json_string_value(json_object_get(l, "command")), when,
           json_is_true(json_object_get(l, "detached")) ? ", kept after apply" : "",
           json_is_true(json_object_get(l, "slurm")) ? ", Slurm" : "");
    if (json_is_true(json_object_get(ch, "locked_clocks")))
        printf(": locked %lld..%lld MHz",
               (long long)json_integer_value(json_object_get(ch, "locked_min_mhz")),
               (long long)json_integer_value(json_object_get(ch, "locked_max_mhz")));
    if (json_is_true(json_object_get(ch, "app_clocks")))
        printf(": application clocks");
    if (json_is_true(json_object_get(ch, "power_limit")))
        printf(": power limit");
}

int cli_service_status(const char *socket)
{
    svc_opts o = {.socket = socket};
    return do_status(&o);
}

static int do_status(const svc_opts *o)
{
    fp_svc_request req;
    fp_svc_request_init(&req, FP_SVC_STATUS);
    json_t *r;
    int rc = client_call(o, &req, &r);
    if (rc || o->json) {
        json_decref(r);
        return rc;
    }
    json_t *a = json_object_get(r, "leases");
    if (!json_array_size(a))
        printf("no leases\n");
    size_t i;
    json_t *g;
    json_array_foreach(a, i, g)
    {
        printf("GPU %lld %s: ", (long long)json_integer_value(json_object_get(g, "index")),
               json_string_value(json_object_get(g, "uuid")));
        print_lease(json_object_get(g, "lease"));
        printf("\n");
    }
    json_decref(r);
    return EXIT_OK;
}

static void print_range(const char *what, json_t *r, const char *unit)
{
    if (json_is_array(r))
        printf("%s %g..%g %s", what, json_number_value(json_array_get(r, 0)),
               json_number_value(json_array_get(r, 1)), unit);
    else
        printf("%s none", what);
}

static int do_info(const svc_opts *o)
{
    fp_svc_request req;
    fp_svc_request_init(&req, o->gpu ? FP_SVC_INFO : FP_SVC_GPUS);
    if (o->gpu)
        snprintf(req.gpu, sizeof req.gpu, "%s", o->gpu);
    json_t *r;
    int rc = client_call(o, &req, &r);
    if (rc || o->json) {
        json_decref(r);
        return rc;
    }
    if (!o->gpu) {
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(r, "gpus"), i, g)
        {
            printf("GPU %lld %s %s: ", (long long)json_integer_value(json_object_get(g, "index")),
                   json_string_value(json_object_get(g, "uuid")),
                   json_string_value(json_object_get(g, "name")));
            print_lease(json_object_get(g, "lease"));
            printf("\n");
        }
        json_decref(r);
        return EXIT_OK;
    }
    json_t *g = json_object_get(r, "gpu"), *cl = json_object_get(g, "clocks_mhz");
    json_t *al = json_object_get(g, "allowed");
    printf("GPU %lld %s %s\n", (long long)json_integer_value(json_object_get(g, "index")),
           json_string_value(json_object_get(g, "uuid")),
           json_string_value(json_object_get(g, "name")));
    size_t n = json_array_size(cl);
    printf("  supported clocks: %zu, %lld..%lld MHz (memory %lld MHz)\n", n,
           n ? (long long)json_integer_value(json_array_get(cl, n - 1)) : 0LL,
           n ? (long long)json_integer_value(json_array_get(cl, 0)) : 0LL,
           (long long)json_integer_value(json_object_get(g, "mem_clock_mhz")));
    printf("  power limit: %g W (%g..%g W, default %g W)\n",
           json_number_value(json_object_get(g, "power_limit_w")),
           json_number_value(json_object_get(g, "power_limit_min_w")),
           json_number_value(json_object_get(g, "power_limit_max_w")),
           json_number_value(json_object_get(g, "default_power_limit_w")));
    printf("  you may set: ");
    if (json_is_true(json_object_get(al, "ok"))) {
        print_range("clocks", json_object_get(al, "clocks_mhz"), "MHz");
        print_range(", power limit", json_object_get(al, "power_limit_w"), "W");
        printf(" (%s)\n", json_string_value(json_object_get(al, "why")));
    } else {
        printf("nothing: %s\n", json_string_value(json_object_get(al, "why")));
    }
    printf("  lease: ");
    print_lease(json_object_get(g, "lease"));
    printf("\n");
    json_decref(r);
    return EXIT_OK;
}

int cli_service_restore(const char *socket, const char *gpu, long uid, int all, int force)
{
    fp_svc_request req;
    fp_svc_request_init(&req, FP_SVC_RESTORE);
    if (gpu)
        snprintf(req.gpu, sizeof req.gpu, "%s", gpu);
    req.uid = uid;
    req.all = all;
    req.force = force;
    svc_opts o = {.socket = socket};
    json_t *r;
    int rc = client_call(&o, &req, &r);
    if (rc)
        return rc;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "restored"), i, e)
        printf("freqpilotd restored GPU %lld (%s) of uid %lld and ended its lease\n",
               (long long)json_integer_value(json_object_get(e, "index")),
               json_string_value(json_object_get(e, "uuid")),
               (long long)json_integer_value(json_object_get(e, "uid")));
    json_array_foreach(json_object_get(r, "skipped"), i, e)
        cli_warn("GPU %lld (%s) left alone: leased by %s (--force restores it)",
                 (long long)json_integer_value(json_object_get(e, "index")),
                 json_string_value(json_object_get(e, "uuid")),
                 json_string_value(json_object_get(e, "why")));
    if (!json_array_size(json_object_get(r, "restored")) &&
        !json_array_size(json_object_get(r, "skipped")))
        cli_info("freqpilotd: no lease to restore");
    json_decref(r);
    return EXIT_OK;
}

int cli_clock_path(const char *cmd, const fp_gpu_backend *be)
{
    char desc[600];
    fp_clockctl_via via;
    fp_error err;
    if (fp_clockctl_resolve(be, NULL, &via, desc, sizeof desc, &err)) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
    }
    if (desc[0] && cli_verbosity >= 1)
        fprintf(stderr, "freqpilot %s: %s\n", cmd, desc);
    return 0;
}

/* The options into o: the operands (argv[0..n)), or -1 with *rc the exit code. */
static int parse(int argc, char **argv, svc_opts *o, int *rc)
{
    const cli_option opts[] = {
        CLI_STRING("config", &o->config, "FILE",
                   "policy file (/etc/freqpilot/freqpilotd.conf; without it only root may "
                   "change clocks)"),
        CLI_STRING("socket", &o->socket, "PATH",
                   "the socket (run: overrides the file; others: $FREQPILOT_SOCKET, else "
                   "/run/freqpilot/freqpilotd.sock)"),
        CLI_STRING("state-dir", &o->state_dir, "DIR",
                   "run: where the service keeps its state files (the file's state_dir, "
                   "default /var/lib/freqpilot/freqpilotd)"),
        CLI_STRING("gpu", &o->gpu, "ID", "a GPU index or UUID"),
        {.type = CLI_OPT_LONG,
         .long_name = "uid",
         .value = &o->uid,
         .argh = "UID",
         .what = "a user id",
         .range = "0..2147483647",
         .help = "restore: the leases of this user (root only for other users)"},
        CLI_FLAG("all", &o->all, "restore: every lease you may give back"),
        CLI_FLAG("force", &o->force, "restore: also leases held by a live connection"),
        CLI_CHOICE("format", &o->json, CLI_CHOICES("table", "json"),
                   "table (default) or json (the service's reply)"),
        CLI_VERBOSE("run: debug messages (each connection)"),
        CLI_QUIET("run: warnings and errors only"),
        CLI_END,
    };
    return cli_parse_options(&service_cmd, opts, argc, argv, rc);
}

/* call: one raw request, its reply printed as the service sent it. */
static int do_call(const svc_opts *o, const char *line)
{
    fp_svc_request req;
    fp_error err;
    if (fp_svc_request_parse(line, strlen(line), &req, &err)) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
    }
    fp_svc_client *c = NULL;
    char *text = NULL;
    fp_status st = fp_svc_connect(&c, o->socket, 0, &err);
    if (!st)
        st = fp_svc_call(c, &req, &text, NULL, &err);
    if (text)
        printf("%s\n", text);
    else if (st)
        cli_error("%s", err.msg);
    free(text);
    fp_svc_close(c);
    return st ? EXIT_FAIL : EXIT_OK;
}

/* freqpilotd [OPTIONS]: freqpilot service run [OPTIONS]. */
int cmd_freqpilotd(int argc, char **argv)
{
    cli_progname = "freqpilotd";
    svc_opts o = {.uid = -1};
    int rc, n = parse(argc, argv, &o, &rc);
    if (n < 0)
        return rc;
    if (n > 0)
        return cli_usage_error("service", "unexpected argument '%s'", argv[0]);
    return do_run(&o);
}

int cmd_service(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("service", "expected run, check, status, info, restore or call");
    const char *sub = argv[1];
    svc_opts o = {.uid = -1};
    /* The subcommand first, then its options; `service --help` is the page. */
    char **args = sub[0] == '-' ? argv : argv + 1; /* the operands, after parse */
    int rc, operands = parse(sub[0] == '-' ? argc : argc - 1, args, &o, &rc);
    if (operands < 0)
        return rc;
    if (sub[0] == '-')
        return cli_usage_error("service", "expected run, check, status, info, restore or call");
    int restore = !strcmp(sub, "restore"), call = !strcmp(sub, "call");
    if (call && operands != 1)
        return cli_usage_error("service", "call takes one request: 'JSON'");
    if (!call && operands > 0)
        return cli_usage_error("service", "unexpected argument '%s'", args[0]);
    if ((o.config || o.state_dir) && strcmp(sub, "run") && strcmp(sub, "check"))
        return cli_usage_error("service", "--config and --state-dir go with run or check");
    if ((o.uid >= 0 || o.all || o.force) && !restore)
        return cli_usage_error("service", "--uid, --all and --force go with restore");
    if (restore && !!o.gpu + (o.uid >= 0) + o.all > 1)
        return cli_usage_error("service", "restore: give at most one of --gpu, --uid, --all");
    if (!strcmp(sub, "run"))
        return do_run(&o);
    if (!strcmp(sub, "check"))
        return do_check(&o);
    if (!strcmp(sub, "status"))
        return do_status(&o);
    if (!strcmp(sub, "info"))
        return do_info(&o);
    if (restore)
        return cli_service_restore(o.socket, o.gpu, o.uid, o.all, o.force);
    if (call)
        return do_call(&o, args[0]);
    return cli_usage_error("service",
                           "unknown subcommand '%s' (expected run, check, status, info, "
                           "restore or call)",
                           sub);
}
