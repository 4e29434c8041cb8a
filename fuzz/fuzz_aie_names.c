/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness: the ai-inference-energy folder and file names (profiles, perf.csv, job
 * folders, job profiles); what they accept has a clock of 1..10000 MHz and non-empty parts.
 */
#define _GNU_SOURCE
#include <string.h>

#include "fuzz_file.h"
#include "telemetry/layouts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = fuzz_text(data, size);
    fp_aie_name an;
    if (fp_aie_parse_profile_name(name, &an)) {
        FUZZ_CHECK(an.freq_mhz > 0 && an.arch[0] && an.mode[0] && an.app[0] && an.iter >= 0);
    }
    char arch[32], mode[32], app[64], gpu[64];
    if (fp_aie_parse_perf_name(name, arch, sizeof arch, mode, sizeof mode, app, sizeof app))
        FUZZ_CHECK(arch[0] && mode[0] && app[0]);
    long id;
    if (fp_aie_parse_job_dir(name, gpu, sizeof gpu, app, sizeof app, &id))
        FUZZ_CHECK(gpu[0] && app[0] && id >= 0);
    fp_aie_job_name jn;
    if (fp_aie_parse_job_profile(name, &jn)) {
        FUZZ_CHECK(jn.freq_mhz >= 1 && jn.freq_mhz <= 10000 && jn.run_id[0]);
        FUZZ_CHECK(strstr(name, jn.run_id) == name + 4);
    }
    free(name);
    return 0;
}
