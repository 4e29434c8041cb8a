/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FREQPILOT_GPU_SPECS_H
#define FREQPILOT_GPU_SPECS_H

/*
 * GPU facts in one place: every supported board variant with its supported SM clocks,
 * memory clock, power limits and default clocks (src/gpu/specs.c says where each number
 * comes from). Lookups match NVML's device name exactly (case, spaces, '-' and '_' aside)
 * or one of a board's listed aliases; a name that is not a known board is "unknown" (NULL),
 * never the nearest board: a bare family name such as "A100" names no board, because an
 * A100 may have a 250, 300 or 400 W limit.
 *
 * Facts a backend reports at run time (NVML's supported clocks and power limits) take
 * precedence: fp_gpu_spec_fill_info() only fills what the backend left unknown.
 */

#include <stddef.h>

#include "freqpilot/gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fp_gpu_spec {
    const char *name;           /* NVML device name: "NVIDIA A100-SXM4-80GB" */
    const char *family;         /* short name used in freqpilot's outputs: "A100" */
    const char *arch;           /* "Volta", "Ampere", "Hopper" */
    const char *form_factor;    /* "PCIe", "SXM2", "SXM4", "SXM5", "NVL" */
    const char *const *aliases; /* NULL-terminated other exact spellings; may be NULL */
    unsigned mem_clock_mhz;     /* memory clock the graphics clock table belongs to */
    unsigned max_clock_mhz;     /* highest supported SM clock */
    unsigned min_clock_mhz;     /* lowest supported SM clock */
    double clock_step_mhz;      /* table step: 15, or 7.5 with values rounded down (Volta) */
    unsigned default_clock_mhz; /* default applications clock; 0 when unknown */
    double power_limit_w;       /* default power limit (TDP); NAN when unknown */
    double power_limit_min_w, power_limit_max_w; /* settable range; NAN when unknown */
    double mem_total_mib; /* frame buffer as NVML reports it; NAN when unknown */
    double mem_bandwidth_gbs; /* memory bandwidth, GB/s (datasheet) */
    double fp16_tflops;       /* dense FP16 tensor throughput at the boost clock (datasheet) */
    const char *source;   /* where these numbers come from */
} fp_gpu_spec;

size_t fp_gpu_spec_count(void);
const fp_gpu_spec *fp_gpu_spec_at(size_t i);

/*
 * The board named by name: NVML's device name or a listed alias, compared ignoring case,
 * spaces, '-' and '_' and a leading "NVIDIA"/"Tesla"; a " (simulated)" suffix, a "sim:"
 * prefix and a MIG instance suffix (" MIG 4g.47gb") name the physical board. NULL when
 * name is NULL, empty or not a known board.
 */
const fp_gpu_spec *fp_gpu_spec_find(const char *name);

/*
 * The architecture of a board or of a family ("Volta" for "Tesla V100-PCIE-32GB" and for a bare
 * "V100", whose boards all share one); NULL when unknown or when a family mixes architectures.
 */
const char *fp_gpu_arch(const char *name);

/* Number of supported SM clocks and the i-th, high to low (0 when i is out of range). */
unsigned fp_gpu_spec_n_clocks(const fp_gpu_spec *s);
unsigned fp_gpu_spec_clock_at(const fp_gpu_spec *s, unsigned i);
/* The whole table (static storage, high to low); *n gets its length. Thread-safe. */
const unsigned *fp_gpu_spec_clock_table(const fp_gpu_spec *s, unsigned *n);
/* 1 when mhz is one of s's supported clocks (to 0.5 MHz). */
int fp_gpu_spec_clock_supported(const fp_gpu_spec *s, double mhz);

/*
 * Completes info from the spec of info->name: the clock table (when the device runs the memory
 * clock the table belongs to, or reports none), memory clock, default clock and power limits,
 * each only where the backend left it unknown (0 clocks, NAN or 0 W).
 * Returns the spec used, or NULL when info->name is not a known board (info unchanged).
 */
const fp_gpu_spec *fp_gpu_spec_fill_info(fp_gpu_info *info);

#ifdef __cplusplus
}
#endif
#endif
