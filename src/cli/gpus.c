/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilot gpus: list the GPUs a backend sees. Read-only: safe on a
 * production GPU (it never changes clocks or limits).
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "freqpilot/gpu.h"

const cli_command gpus_cmd = {
    .name = "gpus",
    .flags = CLI_PARSE_NO_OPERANDS,
    .summary = "list GPUs: clocks, power limits, MIG mode (read-only)",
    .synopsis = "freqpilot gpus [--backend nvml|sim] [--json]\n",
    .description =
        "Lists the GPUs the backend sees, one block per device: name, UUID, driver, the\n"
        "memory clock the SM clock table belongs to, the number and range of supported SM\n"
        "clocks, the default applications clock, the power limit with its allowed range,\n"
        "and the MIG mode. Values the driver does not report are shown as '-' (null in\n"
        "JSON). Never changes anything on the GPU: safe beside a running job, no root needed.\n",
    .options_note =
        "FREQPILOT_SIM_GPU=V100|A100|H100 picks the simulated model (docs/simulated-gpu.md).\n",
    .exit_status =
        "0 success (also when no GPU is found); 1 no NVML or a driver error; 2 usage error.\n",
    .examples = "freqpilot gpus\n"
                "freqpilot gpus --backend sim --json\n"
                "FREQPILOT_SIM_GPU=H100 freqpilot gpus --backend sim\n",
};

static void fmt_w(char *buf, size_t n, double w)
{
    if (isfinite(w))
        snprintf(buf, n, "%g W", w);
    else
        snprintf(buf, n, "-");
}

static void print_text(const fp_gpu_info *in)
{
    char lim[32], lo[32], hi[32], def[32];
    printf("GPU %u: %s (%s)%s\n", in->index, in->name, in->short_name,
           in->simulated ? " [simulated]" : "");
    printf("    uuid           %s\n", in->uuid[0] ? in->uuid : "-");
    printf("    driver         %s\n", in->driver[0] ? in->driver : "-");
    if (in->mem_clock_mhz)
        printf("    memory clock   %u MHz\n", in->mem_clock_mhz);
    else
        printf("    memory clock   -\n");
    if (in->n_graphics_clocks)
        printf("    SM clocks      %u supported, %u..%u MHz\n", in->n_graphics_clocks,
               in->graphics_clocks_mhz[in->n_graphics_clocks - 1], in->graphics_clocks_mhz[0]);
    else
        printf("    SM clocks      - (the driver lists none)\n");
    if (in->max_clock_mhz)
        printf("    max SM clock   %u MHz\n", in->max_clock_mhz);
    else
        printf("    max SM clock   -\n");
    if (in->default_clock_mhz)
        printf("    default clock  %u MHz (applications clock)\n", in->default_clock_mhz);
    else
        printf("    default clock  -\n");
    fmt_w(lim, sizeof lim, in->power_limit_w);
    fmt_w(lo, sizeof lo, in->power_limit_min_w);
    fmt_w(hi, sizeof hi, in->power_limit_max_w);
    fmt_w(def, sizeof def, in->default_power_limit_w);
    printf("    power limit    %s (range %s..%s, default %s)\n", lim, lo, hi, def);
    printf("    MIG            %s\n", in->mig_enabled < 0 ? "-"
                                      : in->mig_enabled   ? "enabled"
                                                          : "disabled");
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *uint_or_null(unsigned v)
{
    return v ? json_integer(v) : json_null();
}

static json_t *info_json(const fp_gpu_info *in)
{
    json_t *clocks = json_array();
    for (unsigned i = 0; i < in->n_graphics_clocks; i++)
        json_array_append_new(clocks, json_integer(in->graphics_clocks_mhz[i]));
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(in->index));
    json_object_set_new(o, "name", json_string(in->name));
    json_object_set_new(o, "short_name", json_string(in->short_name));
    json_object_set_new(o, "uuid", in->uuid[0] ? json_string(in->uuid) : json_null());
    json_object_set_new(o, "driver", in->driver[0] ? json_string(in->driver) : json_null());
    json_object_set_new(o, "mem_clock_mhz", uint_or_null(in->mem_clock_mhz));
    json_object_set_new(o, "n_sm_clocks", json_integer(in->n_graphics_clocks));
    json_object_set_new(o, "min_sm_clock_mhz",
                        in->n_graphics_clocks
                            ? json_integer(in->graphics_clocks_mhz[in->n_graphics_clocks - 1])
                            : json_null());
    json_object_set_new(o, "max_sm_clock_mhz", uint_or_null(in->max_clock_mhz));
    json_object_set_new(o, "default_clock_mhz", uint_or_null(in->default_clock_mhz));
    json_object_set_new(o, "sm_clocks_mhz", clocks);
    json_object_set_new(o, "power_limit_w", num_or_null(in->power_limit_w));
    json_object_set_new(o, "power_limit_min_w", num_or_null(in->power_limit_min_w));
    json_object_set_new(o, "power_limit_max_w", num_or_null(in->power_limit_max_w));
    json_object_set_new(o, "default_power_limit_w", num_or_null(in->default_power_limit_w));
    json_object_set_new(o, "mig_enabled",
                        in->mig_enabled < 0 ? json_null() : json_boolean(in->mig_enabled));
    json_object_set_new(o, "simulated", json_boolean(in->simulated));
    return o;
}

int cmd_gpus(int argc, char **argv)
{
    const char *backend_name = FP_GPU_BACKEND_DEFAULT;
    int as_json = 0;
    char backends[512];
    const cli_option opts[] = {
        CLI_CALLBACK("backend", &backend_name, "NAME", NULL, cli_opt_backend,
                     cli_backend_help("", backends, sizeof backends)),
        CLI_FLAG("json", &as_json,
                 "one JSON object {\"backend\", \"gpus\": [...]} on stdout, with the full SM "
                 "clock table of each GPU"),
        CLI_END,
    };
    int rc, nargs = cli_parse_options(&gpus_cmd, opts, argc, argv, &rc);
    if (nargs < 0)
        return rc;
    if (cli_sim_configure_from_env())
        return EXIT_FAIL;
    const fp_gpu_backend *b = fp_gpu_backend_by_name(backend_name);
    fp_error err = {0};
    if (b->init(&err) != FP_OK) {
        cli_error("%s", err.msg);
        return EXIT_FAIL;
    }
    rc = EXIT_OK;
    unsigned n = 0;
    json_t *list = json_array();
    if (b->count(&n, &err) != FP_OK) {
        cli_error("%s", err.msg);
        rc = EXIT_FAIL;
        n = 0;
    }
    for (unsigned i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "%u", i);
        fp_gpu *g = NULL;
        fp_gpu_info info;
        if (b->open(id, &g, &err) != FP_OK || b->info(g, &info, &err) != FP_OK) {
            cli_error("GPU %u: %s", i, err.msg);
            rc = EXIT_FAIL;
            b->close(g);
            continue;
        }
        b->close(g);
        if (as_json) {
            json_array_append_new(list, info_json(&info));
        } else {
            if (i)
                putchar('\n');
            print_text(&info);
        }
    }
    if (as_json) {
        json_t *root = json_object();
        json_object_set_new(root, "backend", json_string(b->name));
        json_object_set_new(root, "gpus", list);
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (s)
            puts(s);
        free(s);
        json_decref(root);
    } else {
        json_decref(list);
        if (n == 0 && rc == EXIT_OK)
            printf("no GPUs found\n");
    }
    b->shutdown();
    if (fflush(stdout) != 0) {
        cli_error("writing to stdout failed");
        rc = EXIT_FAIL;
    }
    return rc;
}
