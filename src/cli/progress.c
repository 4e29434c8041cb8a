/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

struct cli_progress {
    char title[64];
    char label[64]; /* what is being done now, after the bar */
    double total;
    double start_s;
    double last_draw_s;
    int drawn;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

cli_progress *cli_progress_start(const char *title, double total)
{
    /* Progress is for people watching a terminal: never in logs or pipes. */
    if (cli_verbosity < 1 || !isatty(STDERR_FILENO) || getenv("FREQPILOT_NO_PROGRESS"))
        return NULL;
    cli_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->title, sizeof p->title, "%s", title);
    p->total = total > 0 ? total : 1;
    p->start_s = now_s();
    return p;
}

static void fmt_duration(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

void cli_progress_update(cli_progress *p, double done)
{
    if (!p)
        return;
    double t = now_s();
    /* Short jobs never show a bar; long ones redraw at most 5 times a second. */
    if (t - p->start_s < 0.5 || t - p->last_draw_s < 0.2)
        return;
    p->last_draw_s = t;
    double frac = done / p->total;
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    char eta[32] = "--", elapsed[32];
    if (frac > 0.01)
        fmt_duration((t - p->start_s) * (1 - frac) / frac, eta, sizeof eta);
    fmt_duration(t - p->start_s, elapsed, sizeof elapsed);
    int width = 30, fill = (int)(frac * width);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    /* Padded so a shorter line overwrites a longer one. */
    fprintf(stderr, "\r%-16s [%s] %5.1f%%  %s elapsed, ETA %s  %-28s", p->title, bar, frac * 100,
            elapsed, eta, p->label);
    p->drawn = 1;
}

void cli_progress_set_label(cli_progress *p, const char *text)
{
    if (p)
        snprintf(p->label, sizeof p->label, "%s", text ? text : "");
}

void cli_progress_stop(cli_progress *p)
{
    if (!p)
        return;
    if (p->drawn)
        fprintf(stderr, "\r%*s\r", 120, "");
    free(p);
}
