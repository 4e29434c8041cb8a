/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_GPU_CLOCK_TABLES_H
#define FP_GPU_CLOCK_TABLES_H

/*
 * Facts of real parts, taken from the nvidia-smi captures in
 * shared/data/ai-inference-energy/hardware_info (INFO_V100.txt, INFO_A100.txt of 0e234ab,
 * INFO_H100.txt of 4d8681b, MIG disabled) and docs/simulated-gpu.md.
 */

typedef struct fp_clock_table {
    const char *short_name;     /* "A100" */
    const char *name;           /* NVML device name */
    unsigned mem_clock_mhz;     /* memory clock the graphics table belongs to */
    const unsigned *clocks_mhz; /* supported graphics clocks, high to low */
    unsigned n_clocks;
    unsigned default_clock_mhz; /* default applications clock */
    double power_limit_w, power_limit_min_w, power_limit_max_w;
    double idle_power_w;
    double fb_total_mib;
} fp_clock_table;

extern const fp_clock_table fp_clock_table_v100;
extern const fp_clock_table fp_clock_table_a100;
extern const fp_clock_table fp_clock_table_h100;

/* By short name ("V100", "A100", "H100"), case-insensitive; NULL when unknown. */
const fp_clock_table *fp_clock_table_find(const char *short_name);

#endif
