/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness: freqpilotd's request parser (src/service/proto.c), whose input is
 * whatever any local user writes to the service's socket. Besides not crashing: whatever it
 * accepts is within the documented bounds, and formats back to a line that parses to the
 * same request.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/freqpilotd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_svc_request a, b;
    fp_error err;
    if (fp_svc_request_parse((const char *)data, size, &a, &err) != FP_OK)
        return 0;
    if ((unsigned)a.op >= FP_SVC_OP_COUNT || strlen(a.gpu) > 95)
        abort();
    if (a.op == FP_SVC_LOCK &&
        (a.min_mhz < 1 || a.max_mhz > FP_SVC_MAX_MHZ || a.min_mhz > a.max_mhz))
        abort();
    if (a.op == FP_SVC_POWER_LIMIT && !(a.watts > 0 && a.watts <= FP_SVC_MAX_WATTS))
        abort();
    char *line = fp_svc_request_format(&a);
    if (!line)
        return 0;
    if (fp_svc_request_parse(line, strlen(line), &b, &err) != FP_OK ||
        memcmp(&a, &b, sizeof a) != 0)
        abort();
    free(line);
    return 0;
}
