/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Whether data comes from the simulated GPU: the label follows the data (aggregate.h). */
#include <string.h>

#include "freqpilot/aggregate.h"

int fp_gpu_name_simulated(const char *gpu_name)
{
    return gpu_name && strstr(gpu_name, "(simulated)") != NULL;
}

int fp_agg_simulated(const fp_agg_result *res)
{
    for (size_t i = 0; res && i < res->nrows; i++)
        if (fp_gpu_name_simulated(res->rows[i].gpu_name))
            return 1;
    return 0;
}
