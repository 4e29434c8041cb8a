/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the `freqpilot run --config` INI; what it accepts is in range. */
#define _GNU_SOURCE
#include <string.h>

#include "freqpilot/run_config.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_run_config c;
    fp_error err;
    fp_run_config_init(&c);
    if (fp_run_config_parse((const char *)data, size, "fuzz.ini", &c, &err) != FP_OK)
        return 0;
    FUZZ_CHECK(c.runs >= 1 && c.runs <= FP_RUN_CONFIG_MAX_RUNS);
    FUZZ_CHECK(c.clock_step >= 1 && c.clock_step <= FP_RUN_CONFIG_MAX_CLOCK_STEP);
    FUZZ_CHECK(c.headline_slowdown >= 0 && c.headline_slowdown <= 10);
    FUZZ_CHECK(c.gpus[0] && c.objectives[0]);
    FUZZ_CHECK(c.impact.utilisation > 0 && c.impact.utilisation <= 1);
    FUZZ_CHECK(c.impact.price_per_kwh >= 0 && c.impact.grid_g_per_kwh >= 0 && c.impact.gpus > 0);
    FUZZ_CHECK(c.impact.currency[0] && strlen(c.impact.currency) < sizeof c.impact.currency);
    if (c.constraints[0]) { /* accepted only when it opens */
        fp_constraints cons;
        FUZZ_CHECK(fp_constraints_open(c.constraints, &cons, &err) == FP_OK);
    }
    return 0;
}
