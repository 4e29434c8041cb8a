/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Placeholder: replaced by the dlopen NVML backend. */
#include "freqpilot/gpu.h"
const fp_gpu_backend *fp_gpu_backend_nvml(void)
{
    return NULL;
}
