/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: a simulated workload INI (sim.h); what it accepts can be simulated. */
#define _GNU_SOURCE
#include "freqpilot/sim.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_sim_workload w;
    fp_error err;
    if (fp_sim_workload_parse_ini((const char *)data, size, "fuzz.ini", &w, &err) != FP_OK)
        return 0;
    FUZZ_CHECK(w.n_phases >= 1 && w.n_phases <= FP_SIM_MAX_PHASES);
    int inference = 0;
    for (unsigned i = 0; i < w.n_phases; i++) {
        const fp_sim_phase *p = &w.phases[i];
        FUZZ_CHECK(p->host_s + p->memory_s + p->compute_s > 0);
        FUZZ_CHECK(p->sm_active >= 0 && p->sm_active <= 1 && p->dram_active >= 0 &&
                   p->dram_active <= 1);
        FUZZ_CHECK(p->gpu_util_pct >= 0 && p->gpu_util_pct <= 100);
        inference |= p->inference;
    }
    FUZZ_CHECK(inference);
    return 0;
}
