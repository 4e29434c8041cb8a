/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The board table of gpu_specs.h.
 *
 * Sources, per fact:
 * - [cap] the nvidia-smi captures of shared/data/ai-inference-energy/hardware_info:
 *   Tesla V100-PCIE-32GB (0e234ab/INFO_V100.txt), NVIDIA A100-PCIE-40GB (0e234ab/INFO_A100.txt),
 *   NVIDIA H100 NVL (4d8681b/INFO_H100.txt): every supported graphics clock, the memory clock
 *   they belong to, the default power limit and the frame buffer. The unit test
 *   (tests/unit/test_gpu_specs.c) reads those files and checks these tables against them.
 * - [ds] NVIDIA's public product briefs and datasheets for the other variants: board power
 *   (the default limit), boost (maximum) clock and memory clock. Clock floors and steps are
 *   those of the same die in the captures (GV100 135 MHz in 7.5 MHz steps rounded down,
 *   GA100 210 MHz and GH100 345 MHz in 15 MHz steps).
 * - [ds] also memory bandwidth and dense FP16 tensor throughput (half the "with sparsity"
 *   figure where only that is given: H100 PCIe 1513, SXM5 1979, NVL 1671 TFLOPS), which the
 *   simulated LLM server (src/gpu/sim_server.c) takes its step times from.
 * Settable power-limit ranges are not in either source and are left unknown (NAN): NVML
 * reports them at run time, and range checks use what the device reports.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "freqpilot/gpu_specs.h"

#define CAP "nvidia-smi capture in shared/data/ai-inference-energy/hardware_info"
#define DS "NVIDIA product brief / datasheet (board power, boost and memory clocks)"

static const char *const v100_pcie_16_aliases[] = {"V100-PCIE-16GB", "V100 PCIe 16GB", NULL};
static const char *const v100_pcie_32_aliases[] = {"V100-PCIE-32GB", "V100 PCIe 32GB", NULL};
static const char *const v100_sxm2_16_aliases[] = {"V100-SXM2-16GB", NULL};
static const char *const v100_sxm2_32_aliases[] = {"V100-SXM2-32GB", NULL};
static const char *const a100_pcie_40_aliases[] = {"A100-PCIE-40GB", "A100 PCIe 40GB", NULL};
static const char *const a100_pcie_80_aliases[] = {"A100-PCIE-80GB", "A100 PCIe 80GB", NULL};
static const char *const a100_sxm4_40_aliases[] = {"A100-SXM4-40GB", NULL};
static const char *const a100_sxm4_80_aliases[] = {"A100-SXM4-80GB", NULL};
static const char *const h100_pcie_aliases[] = {"H100-PCIE-80GB", "H100 PCIe 80GB", NULL};
static const char *const h100_sxm5_aliases[] = {"H100-SXM5-80GB", "H100 SXM5 80GB", "H100-SXM5",
                                                "H100 SXM", NULL};
static const char *const h100_nvl_aliases[] = {"H100-NVL", "H100 NVL 94GB", NULL};

/* clang-format off */
static const fp_gpu_spec specs[] = {
    /* name                      family  arch      form   aliases               mem   max   min  step default  TDP     min  max   fb       GB/s  TFLOPS  source */
    {"Tesla V100-PCIE-16GB",   "V100", "Volta",  "PCIe", v100_pcie_16_aliases,  877, 1380, 135, 7.5, 0,     250.0, NAN, NAN, NAN,       900,   112, DS},
    {"Tesla V100-PCIE-32GB",   "V100", "Volta",  "PCIe", v100_pcie_32_aliases,  877, 1380, 135, 7.5, 1230,  250.0, NAN, NAN, 32510.0,   900,   112, CAP},
    {"Tesla V100-SXM2-16GB",   "V100", "Volta",  "SXM2", v100_sxm2_16_aliases,  877, 1530, 135, 7.5, 0,     300.0, NAN, NAN, NAN,       900,   125, DS},
    {"Tesla V100-SXM2-32GB",   "V100", "Volta",  "SXM2", v100_sxm2_32_aliases,  877, 1530, 135, 7.5, 0,     300.0, NAN, NAN, NAN,       900,   125, DS},
    {"NVIDIA A100-PCIE-40GB",  "A100", "Ampere", "PCIe", a100_pcie_40_aliases, 1215, 1410, 210, 15,  1410,  250.0, NAN, NAN, 40536.0,  1555,   312, CAP},
    {"NVIDIA A100 80GB PCIe",  "A100", "Ampere", "PCIe", a100_pcie_80_aliases, 1512, 1410, 210, 15,  0,     300.0, NAN, NAN, NAN,      1935,   312, DS},
    {"NVIDIA A100-SXM4-40GB",  "A100", "Ampere", "SXM4", a100_sxm4_40_aliases, 1215, 1410, 210, 15,  0,     400.0, NAN, NAN, NAN,      1555,   312, DS},
    {"NVIDIA A100-SXM4-80GB",  "A100", "Ampere", "SXM4", a100_sxm4_80_aliases, 1593, 1410, 210, 15,  0,     400.0, NAN, NAN, NAN,      2039,   312, DS},
    {"NVIDIA H100 PCIe",       "H100", "Hopper", "PCIe", h100_pcie_aliases,    1593, 1755, 345, 15,  0,     350.0, NAN, NAN, NAN,      2000,   756, DS},
    {"NVIDIA H100 80GB HBM3",  "H100", "Hopper", "SXM5", h100_sxm5_aliases,    2619, 1980, 345, 15,  0,     700.0, NAN, NAN, NAN,      3350,   989, DS},
    {"NVIDIA H100 NVL",        "H100", "Hopper", "NVL",  h100_nvl_aliases,     2619, 1785, 345, 15,  1785,  400.0, NAN, NAN, 95830.0,  3900, 835.5, CAP},
};
/* clang-format on */
#define NSPECS (sizeof specs / sizeof specs[0])

size_t fp_gpu_spec_count(void)
{
    return NSPECS;
}

const fp_gpu_spec *fp_gpu_spec_at(size_t i)
{
    return i < NSPECS ? &specs[i] : NULL;
}

/* Lower-case letters and digits only, after a leading vendor word: "Tesla V100-PCIE-32GB" and
 * "v100_pcie_32gb" both become "v100pcie32gb". Returns 0 when the key does not fit. */
static int norm_key(const char *s, char *out, size_t size)
{
    while (isspace((unsigned char)*s))
        s++;
    static const char *const vendor[] = {"nvidia", "tesla"};
    for (size_t v = 0; v < 2; v++) {
        size_t n = strlen(vendor[v]);
        if (strncasecmp(s, vendor[v], n) == 0 && !isalnum((unsigned char)s[n])) {
            s += n;
            break;
        }
    }
    size_t k = 0;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s))
            continue;
        if (k + 1 >= size)
            return 0;
        out[k++] = (char)tolower((unsigned char)*s);
    }
    out[k] = 0;
    return k > 0;
}

const fp_gpu_spec *fp_gpu_spec_find(const char *name)
{
    if (!name)
        return NULL;
    char buf[160];
    if (strncasecmp(name, "sim:", 4) == 0)
        name += 4;
    snprintf(buf, sizeof buf, "%s", name);
    /* What names the physical board: drop "(simulated)" and a MIG instance profile. */
    char *p = strstr(buf, " (simulated)");
    if (p)
        *p = 0;
    for (p = strcasestr(buf, " MIG"); p; p = strcasestr(p + 1, " MIG"))
        if (p[4] == ' ' || p[4] == 0) {
            *p = 0;
            break;
        }
    char key[160], cand[160];
    if (!norm_key(buf, key, sizeof key))
        return NULL;
    for (size_t i = 0; i < NSPECS; i++) {
        if (norm_key(specs[i].name, cand, sizeof cand) && strcmp(key, cand) == 0)
            return &specs[i];
        for (const char *const *a = specs[i].aliases; a && *a; a++)
            if (norm_key(*a, cand, sizeof cand) && strcmp(key, cand) == 0)
                return &specs[i];
    }
    return NULL;
}

const char *fp_gpu_arch(const char *name)
{
    const fp_gpu_spec *s = fp_gpu_spec_find(name);
    if (s)
        return s->arch;
    if (!name || !name[0])
        return NULL;
    char fam[64];
    fp_gpu_short_name(strncasecmp(name, "sim:", 4) == 0 ? name + 4 : name, fam, sizeof fam);
    const char *arch = NULL;
    for (size_t i = 0; i < NSPECS; i++) {
        if (strcasecmp(specs[i].family, fam) != 0)
            continue;
        if (arch && strcmp(arch, specs[i].arch) != 0)
            return NULL;
        arch = specs[i].arch;
    }
    return arch;
}

unsigned fp_gpu_spec_n_clocks(const fp_gpu_spec *s)
{
    if (!s || s->clock_step_mhz <= 0 || s->max_clock_mhz < s->min_clock_mhz)
        return 0;
    return (unsigned)floor((s->max_clock_mhz - s->min_clock_mhz) / s->clock_step_mhz + 1e-9) + 1;
}

unsigned fp_gpu_spec_clock_at(const fp_gpu_spec *s, unsigned i)
{
    if (i >= fp_gpu_spec_n_clocks(s))
        return 0;
    /* Volta's 7.5 MHz steps are reported rounded down (1380, 1372, 1365, 1357, ...). */
    return (unsigned)floor(s->max_clock_mhz - s->clock_step_mhz * i + 1e-9);
}

#define MAX_TABLE 256
static unsigned tables[NSPECS][MAX_TABLE];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
    for (size_t i = 0; i < NSPECS; i++) {
        unsigned n = fp_gpu_spec_n_clocks(&specs[i]);
        for (unsigned k = 0; k < n && k < MAX_TABLE; k++)
            tables[i][k] = fp_gpu_spec_clock_at(&specs[i], k);
    }
}

const unsigned *fp_gpu_spec_clock_table(const fp_gpu_spec *s, unsigned *n)
{
    *n = 0;
    if (!s || s < specs || s >= specs + NSPECS)
        return NULL;
    pthread_once(&tables_once, tables_init);
    unsigned k = fp_gpu_spec_n_clocks(s);
    *n = k < MAX_TABLE ? k : MAX_TABLE;
    return tables[s - specs];
}

int fp_gpu_spec_clock_supported(const fp_gpu_spec *s, double mhz)
{
    unsigned n = fp_gpu_spec_n_clocks(s);
    for (unsigned i = 0; i < n; i++)
        if (fabs(fp_gpu_spec_clock_at(s, i) - mhz) <= 0.5)
            return 1;
    return 0;
}

static int unknown_w(double w)
{
    return !isfinite(w) || w <= 0;
}

const fp_gpu_spec *fp_gpu_spec_fill_info(fp_gpu_info *info)
{
    const fp_gpu_spec *s = fp_gpu_spec_find(info->name);
    if (!s)
        return NULL;
    /* The table belongs to one memory clock: not for a device running another one. */
    if (!info->n_graphics_clocks &&
        (!info->mem_clock_mhz || info->mem_clock_mhz == s->mem_clock_mhz)) {
        unsigned n;
        const unsigned *t = fp_gpu_spec_clock_table(s, &n);
        if (n > FP_GPU_MAX_CLOCKS)
            n = FP_GPU_MAX_CLOCKS;
        memcpy(info->graphics_clocks_mhz, t, n * sizeof *t);
        info->n_graphics_clocks = n;
        if (!info->mem_clock_mhz)
            info->mem_clock_mhz = s->mem_clock_mhz;
    }
    if (!info->max_clock_mhz)
        info->max_clock_mhz = info->n_graphics_clocks ? info->graphics_clocks_mhz[0] : 0;
    if (!info->default_clock_mhz)
        info->default_clock_mhz = s->default_clock_mhz;
    if (unknown_w(info->default_power_limit_w))
        info->default_power_limit_w = s->power_limit_w;
    if (unknown_w(info->power_limit_w))
        info->power_limit_w = info->default_power_limit_w;
    if (unknown_w(info->power_limit_min_w))
        info->power_limit_min_w = s->power_limit_min_w;
    if (unknown_w(info->power_limit_max_w))
        info->power_limit_max_w = s->power_limit_max_w;
    if (!info->short_name[0])
        snprintf(info->short_name, sizeof info->short_name, "%s", s->family);
    return s;
}
