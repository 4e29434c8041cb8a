/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The daemon's rate file (--rate-file, docs/formats.md): the workload writes its throughput,
 * one number per line, to a FIFO or a regular file. The last complete line that is a finite
 * number >= 0 (blanks around it allowed) is the rate; anything else on a line leaves the rate
 * as it was, and a line longer than the buffer is dropped whole.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "govern/govern_int.h"

void gv_rate_init(gv_rate_reader *r)
{
    memset(r, 0, sizeof *r);
    r->rate = NAN;
}

static void take_line(gv_rate_reader *r, char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    s[n] = '\0';
    if (n == 0 || memchr(s, '\0', n))
        return;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end != s && *end == '\0' && v >= 0 && isfinite(v))
        r->rate = v;
}

void gv_rate_feed(gv_rate_reader *r, const char *data, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (r->dropping) {
            /* The rest of a line too long for the buffer. */
        } else if (r->len + take < sizeof r->buf) {
            memcpy(r->buf + r->len, data, take);
            r->len += take;
        } else {
            r->dropping = 1;
            r->len = 0;
        }
        if (!nl)
            return;
        if (!r->dropping)
            take_line(r, r->buf, r->len);
        r->len = 0;
        r->dropping = 0;
        data = nl + 1;
        n -= take + 1;
    }
}
