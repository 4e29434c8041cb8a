/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilot restore: put back clocks left changed by a killed freqpilot (state files). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "freqpilot/clockctl.h"
#include "freqpilot/clockguard.h"

const cli_command restore_cmd = {
    .name = "restore",
    .summary = "reset clocks left changed by a killed freqpilot (state files)",
    .synopsis = "freqpilot restore [--state-dir DIR] [--force] [--list] [UUID|STATE_FILE...]\n"
                "freqpilot restore --all [--state-dir DIR] [--force] [--list]\n",
    .description =
        "freqpilot (profile, apply, run, govern daemon) writes a state file, one per GPU,\n"
        "before it changes clocks or the power limit, and removes it once they are restored.\n"
        "A freqpilot killed with SIGKILL (or a crash) leaves it behind; this command resets\n"
        "what it records (locked clocks, application clocks, power limit) through the same\n"
        "backend and then removes the file. With --all (or no argument) every state file in\n"
        "the state directory is restored, as the systemd unit contrib/freqpilot-govern.service\n"
        "does in ExecStopPost. A UUID names the state file of that GPU in the state\n"
        "directory; an argument with a '/' is a state file path.\n"
        "\n"
        "Only trusted state files are acted on: the state folder must be owned by the user\n"
        "freqpilot runs as (root under sudo) and not writable by group or others, and a\n"
        "state file must be a regular file (not a symbolic link) of that user, parse\n"
        "strictly, and name the GPU its file name is made of; the GPU is opened by that UUID\n"
        "only, and a power limit outside the GPU's range is refused before anything changes.\n"
        "If the state file records the workload that ran under the lock, what is left of its\n"
        "process group (processes of that user, started with it) is ended first.\n"
        "\n"
        "restore takes the GPU's lease (see 'freqpilot profile --help'): a GPU leased by a\n"
        "running freqpilot is left alone (an error), since that freqpilot restores it when\n"
        "it ends; --force sends it SIGTERM and waits up to 10 s for it to do so.\n"
        "\n"
        "A user who is not root, where freqpilotd's socket exists, also gets back through it\n"
        "what the service keeps for them after 'freqpilot apply' (a UUID: that GPU; --force:\n"
        "also GPUs another connection of theirs holds); --list shows its leases too\n"
        "('freqpilot service --help', docs/freqpilotd.md).\n",
    .exit_status =
        "0 restored (or nothing to restore; with --list, every file was read); 1 a restore\n"
        "failed or a state file could not be read; 2 usage error.\n",
    .examples = "freqpilot restore --list\n"
                "sudo freqpilot restore --all\n"
                "freqpilot restore --state-dir /tmp/fp-state --force\n",
};

typedef struct ctx {
    const char *state_dir;
    int flags, list, failed, restored, quiet_missing;
} ctx;

static void describe(const fp_clockguard_report *r)
{
    char who[320];
    if (r->in_use)
        snprintf(who, sizeof who, "in use by pid %ld (%s)", r->holder_pid,
                 r->holder_command[0] ? r->holder_command : "freqpilot");
    else
        snprintf(who, sizeof who, "owner gone");
    printf("%s: backend %s, GPU %u %s, written by pid %ld (%s):", r->path, r->backend, r->gpu_index,
           r->gpu_uuid, (long)r->pid, who);
    if (r->changed.locked)
        printf(" locked clocks %u..%u MHz", r->changed.locked_min_mhz, r->changed.locked_max_mhz);
    if (r->changed.app_clocks_set)
        printf(" application clocks %u,%u MHz", r->changed.app_mem_mhz, r->changed.app_gr_mhz);
    if (r->changed.power_limit_set)
        printf(" power limit (restore to %g W)", r->changed.power_limit_w);
    if (!r->changed.locked && !r->changed.app_clocks_set && !r->changed.power_limit_set)
        printf(" nothing changed yet");
    printf("\n");
}

static int one(void *user, const char *what)
{
    ctx *c = user;
    fp_clockguard_report rep;
    fp_error err;
    if (c->list) {
        if (fp_clockguard_read_state(what, &rep, &err)) {
            cli_error("%s", err.msg);
            c->failed++;
        } else {
            describe(&rep);
        }
        return 0;
    }
    fp_status st = fp_clockguard_restore_from_state(what, c->state_dir, c->flags, &rep, &err);
    if (st) {
        if (!(c->quiet_missing && st == FP_ERR_IO && strstr(err.msg, "no state file"))) {
            cli_error("%s", err.msg);
            c->failed++;
        }
        return 0;
    }
    c->restored++;
    if (rep.gone) {
        printf("GPU %s: restored by the freqpilot that held it; %s is gone\n", rep.gpu_uuid,
               rep.path);
        return 0;
    }
    printf("restored GPU %u (%s, %s):%s%s%s; removed %s", rep.gpu_index, rep.gpu_uuid, rep.backend,
           rep.reset_locked ? " locked clocks reset" : "",
           rep.reset_app ? " application clocks reset" : "",
           rep.power_limit_restored ? " power limit restored" : "", rep.path);
    if (rep.workload_killed)
        printf("; ended %d leftover workload process(es)", rep.workload_killed);
    printf("\n");
    return 0;
}

int cmd_restore(int argc, char **argv)
{
    ctx c = {0};
    int all = 0, exit_signal = 0, force_flag = 0;
    const cli_option opts[] = {
        CLI_STRING("state-dir", &c.state_dir, "DIR",
                   "where state files live ($FREQPILOT_STATE_DIR, else /var/lib/freqpilot as "
                   "root, else $XDG_STATE_HOME/freqpilot or ~/.local/state/freqpilot); refused "
                   "under sudo (the folder root trusts is the administrator's choice)"),
        CLI_FLAG("all", &all, "every state file in the state directory (no UUID or file given)"),
        CLI_FLAG("force", &force_flag,
                 "stop a running freqpilot that holds the GPU (SIGTERM), then restore what it "
                 "left"),
        CLI_FLAG("list", &c.list, "only list the state files and what they record; change nothing"),
        CLI_INT("exit-signal", &exit_signal, "SIG", "1..64",
                "after restoring, end by signal SIG (freqpilot runs this itself when a second "
                "signal arrives before it could restore)"),
        CLI_END,
    };
    int prc, nargs = cli_parse_options(&restore_cmd, opts, argc, argv, &prc);
    if (nargs < 0)
        return prc;
    if (c.state_dir && cli_check_state_dir_option("restore", c.state_dir))
        return EXIT_USAGE;
    if (force_flag)
        c.flags |= FP_RESTORE_STOP_HOLDER;
    if (exit_signal) {
        /* What a second signal interrupted: state files that do not exist any more were
         * restored before it came; the lease may still be held by our children. */
        c.flags |= FP_RESTORE_WAIT;
        c.quiet_missing = 1;
    }
    if (cli_sim_configure_from_env())
        return EXIT_FAIL;
    if (all && nargs > 0)
        return cli_usage_error("restore",
                               "--all restores every state file; give no UUID or "
                               "file with it (got '%s')",
                               argv[0]);
    /* A user who is not root gets back what freqpilotd keeps for them (clockctl.h). */
    fp_clockctl_via via = FP_CLOCKCTL_DIRECT;
    const fp_gpu_backend *nvml = fp_gpu_backend_by_name(FP_GPU_BACKEND_DEFAULT);
    if (nvml && fp_clockctl_resolve(nvml, NULL, &via, NULL, 0, NULL) == FP_OK &&
        via == FP_CLOCKCTL_SERVICE && cli_clock_path("restore", nvml))
        return EXIT_USAGE;
    int svc = via == FP_CLOCKCTL_SERVICE && !exit_signal;
    int force = (c.flags & FP_RESTORE_STOP_HOLDER) != 0;
    if (nargs > 0) {
        for (int i = 0; i < nargs; i++) {
            if (svc && !strchr(argv[i], '/') && !c.list) {
                if (cli_service_restore(NULL, argv[i], -1, 0, force))
                    c.failed++;
            } else if (c.list) {
                char path[4200];
                fp_error err;
                if (!strchr(argv[i], '/') &&
                    fp_clockguard_state_path(path, sizeof path, c.state_dir, argv[i], &err)) {
                    cli_error("%s", err.msg);
                    return EXIT_FAIL;
                }
                one(&c, strchr(argv[i], '/') ? argv[i] : path);
            } else {
                one(&c, argv[i]);
            }
        }
    } else {
        fp_error err;
        if (fp_clockguard_list(c.state_dir, one, &c, &err)) {
            cli_error("%s", err.msg);
            return EXIT_FAIL;
        }
        if (!c.restored && !c.failed && !c.list)
            cli_info("no state files: nothing to restore");
        if (svc &&
            (c.list ? cli_service_status(NULL) : cli_service_restore(NULL, NULL, -1, 1, force)))
            c.failed++;
    }
    if (exit_signal) {
        fflush(NULL);
        fp_clockguard_reraise(exit_signal); /* nothing left to restore here: just the signal */
    }
    return c.failed ? EXIT_FAIL : EXIT_OK;
}
