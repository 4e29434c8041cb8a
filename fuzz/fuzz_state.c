/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer harness: the strict state-file parser (include/freqpilot/statefile.h) on
 * arbitrary bytes. What it accepts must be in range, and must survive a round trip: the
 * text fp_state_format writes parses again to the same restore actions.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/statefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fp_state s;
    fp_error err;
    if (fp_state_parse((const char *)data, size, "fuzz.json", &s, &err) != FP_OK)
        return 0;
    if (!s.backend[0] || !s.gpu_uuid[0] || s.gpu_index > 4095 || s.pid < 0)
        abort();
    if (!isnan(s.restore_power_w) && !(s.restore_power_w > 0 && s.restore_power_w < 100000))
        abort();
    if (s.changed.locked_max_mhz > 100000 || s.changed.app_gr_mhz > 100000)
        abort();
    if ((s.changed.locked && !s.reset_locked) || (s.changed.app_clocks_set && !s.reset_app))
        abort(); /* what was changed is always reset */
    char *text = fp_state_format(&s);
    if (!text)
        return 0;
    fp_state t;
    if (fp_state_parse(text, strlen(text), "round-trip.json", &t, &err) != FP_OK)
        abort();
    if (strcmp(t.gpu_uuid, s.gpu_uuid) || strcmp(t.backend, s.backend) ||
        t.reset_locked != s.reset_locked || t.reset_app != s.reset_app ||
        isnan(t.restore_power_w) != isnan(s.restore_power_w) ||
        (!isnan(s.restore_power_w) && t.restore_power_w != s.restore_power_w) ||
        t.workload_pgid != s.workload_pgid || t.pid != s.pid)
        abort();
    free(text);
    return 0;
}
