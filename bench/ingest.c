/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Ingest benchmark: generates an nvidia-smi CSV, a dcgmi dmon file and a DATASET/ of one run
 * whose telemetry.csv is written by fp_telemetry_writer as profile writes it, of realistic
 * rows (SIZE_MB each, default 1024) in a temporary folder, then times on each file
 *   (a) wc -l FILE                      (the floor: just finding newlines)
 *   (b) fp_ts_open + fp_ts_next loop    (in process)
 *   (b') the same with fp_ts_next_batch, 64 samples a call
 *   (c) FREQPILOT_BIN aggregate FILE -o /dev/null   (when a binary is given and it works;
 *       for telemetry.csv: aggregate DATASET/, the run's marked window, as a user loads it)
 * (CPU seconds, user + system: the machine may be shared; best of 3 each, every process
 * pinned to one CPU) and prints the file size, MB/s, the ratio
 * to wc -l and the peak RSS of each, and aggregate's ratio against issue 17's goals: >= 0.15x
 * wc -l for nvidia-smi CSV and telemetry.csv in a dataset, >= 0.2x for dcgmi. Two floors, in
 * process, tell what no parser can beat on this machine: read(2) of 1 MiB chunks alone, and read(2)
 * plus the readers' structural bitmaps ('\n' and the separator, 64 bytes at a time) over every
 * byte. The files are removed; nothing is written anywhere else
 * ($TMPDIR, default /tmp).
 *
 * usage: bench_ingest [SIZE_MB] [FREQPILOT_BIN]
 *        bench_ingest --generate DIR SIZE_MB     (writes DIR/smi.csv, DIR/dcgmi.dmon and
 *                                                 DIR/dataset/; kept)
 *        bench_ingest --files SMI_CSV DCGMI_DMON [FREQPILOT_BIN]   (times existing files)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "bench_ingest"
#include "bench_gen.h"
#include "freqpilot/reader.h"
#include "util/csvcore.h"

static const char dcgm_header[] =
    "# Entity  GRACT  SMACT  SMOCC  TENSO  DRAMA  FP64A  FP32A  FP16A                 PCITX      "
    "           PCIRX       GPUTL       MCUTL       MUSAM       GUSAM       POWER             "
    "TOTEC "
    " SACLK\n"
    "      Id                                                                                     "
    "                                                                          W                mJ "
    "      \n";

static void gen_dcgmi(const char *path, double size_b)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    double written = 0;
    double energy = 313324248219.0;
    unsigned seed = 7;
    long row = 0;
    while (written < size_b) {
        if (row % 14 == 0) /* dmon repeats its header, after a blank line */
            written += fprintf(f, "%s%s", row ? "\n" : "", dcgm_header);
        seed = seed * 1103515245u + 12345u;
        double a = ((seed >> 16) % 1000) / 1000.0;
        double p = 43.0 + a * 200.0;
        energy += p * 50.0;
        written +=
            fprintf(f,
                    "     GPU 0  %.3f  %.3f  %.3f  %.3f  %.3f  0.000  %.3f  %.3f  %20u  "
                    "%20u  %10d  %10d  %10.3f  %10.3f  %10.3f  %16.0f   1230\n",
                    a, a * 0.9, a * 0.5, a * 0.3, a * 0.6, a * 0.2, a * 0.1, seed % 9999999u,
                    (seed >> 3) % 9999999u, (int)(a * 100), (int)(a * 40), 0.0, 0.0, p, energy);
        row++;
    }
    if (fclose(f) != 0)
        die(path);
}

static double reader_pass(const char *path, long *rows, double *checksum)
{
    fp_ts_reader *r;
    fp_error err;
    double t0 = cpu_now_s();
    if (fp_ts_open(path, FP_FMT_AUTO, NULL, &r, &err) != FP_OK) {
        fprintf(stderr, "bench_ingest: %s\n", err.msg);
        exit(1);
    }
    fp_sample s;
    int rc;
    long n = 0;
    double sum = 0;
    while ((rc = fp_ts_next(r, &s, &err)) == 1) {
        sum += s.v[FP_COL_POWER_W];
        n++;
    }
    if (rc < 0) {
        fprintf(stderr, "bench_ingest: %s\n", err.msg);
        exit(1);
    }
    fp_ts_close(r);
    *rows = n;
    *checksum = sum;
    return cpu_now_s() - t0;
}

static double reader_batch_pass(const char *path, long *rows, double *checksum)
{
    fp_ts_reader *r;
    fp_error err;
    static fp_sample s[64];
    double t0 = cpu_now_s();
    if (fp_ts_open(path, FP_FMT_AUTO, NULL, &r, &err) != FP_OK) {
        fprintf(stderr, "bench_ingest: %s\n", err.msg);
        exit(1);
    }
    int rc;
    long n = 0;
    double sum = 0;
    while ((rc = fp_ts_next_batch(r, s, 64, &err)) > 0) {
        for (int k = 0; k < rc; k++)
            sum += s[k].v[FP_COL_POWER_W];
        n += rc;
    }
    if (rc < 0) {
        fprintf(stderr, "bench_ingest: %s\n", err.msg);
        exit(1);
    }
    fp_ts_close(r);
    *rows = n;
    *checksum = sum;
    return cpu_now_s() - t0;
}

/* The floors: read(2) alone (masks == 0), or read(2) + the '\n' / sep bitmaps of every byte. */
static double floor_pass(const char *path, int masks, char sep, unsigned long long *check)
{
    enum { CHUNK = 1 << 20 };
    static char buf[CHUNK + 64];
    static uint64_t ma[CHUNK / 64], mb[CHUNK / 64];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(path);
    double t0 = cpu_now_s();
    uint64_t acc = 0;
    ssize_t got;
    while ((got = read(fd, buf, CHUNK)) > 0) {
        if (!masks) {
            acc += (unsigned char)buf[got - 1];
            continue;
        }
        size_t nw = ((size_t)got + 63) / 64;
        fp_mask2(buf, nw, '\n', sep, ma, mb);
        for (size_t w = 0; w < nw; w++)
            acc ^= ma[w] + mb[w];
    }
    double t = cpu_now_s() - t0;
    close(fd);
    *check += acc;
    return t;
}

/*
 * label, the file, what aggregate reads (the file, or the dataset around it) and aggregate's
 * goal (its speed / wc -l's, 0 none).
 */
/* Rows of the generated telemetry.csv for about size_b bytes (~80 bytes a row). */
static long rows_for(double size_b)
{
    return (long)(size_b / 80.0) + 1;
}

static void bench_file(const char *label, const char *path, const char *agg_input, double goal,
                       const char *bin)
{
    double mb;
    FILE *f = fopen(path, "r");
    if (!f)
        die(path);
    fseek(f, 0, SEEK_END);
    mb = (double)ftell(f) / 1e6;
    fclose(f);

    /* Warm the page cache so every contender reads from memory; best of 3 each. */
    char *wc_argv[] = {"wc", "-l", (char *)path, NULL};
    double secs, cpu, wc_s = INFINITY, rd_s = INFINITY, ag_s = INFINITY;
    long wc_rss = 0, ag_rss = 0, rss;
    run_child(wc_argv, &secs, NULL);
    for (int i = 0; i < 3; i++) {
        if (run_child_cpu(wc_argv, &secs, &cpu, &rss) != 0) {
            fprintf(stderr, "bench_ingest: wc -l failed\n");
            exit(1);
        }
        wc_s = cpu < wc_s ? cpu : wc_s;
        wc_rss = rss > wc_rss ? rss : wc_rss;
    }
    long rows = 0;
    double sum = 0;
    for (int i = 0; i < 3; i++) {
        double t = reader_pass(path, &rows, &sum);
        rd_s = t < rd_s ? t : rd_s;
    }
    double rb_s = INFINITY, f0_s = INFINITY, f1_s = INFINITY;
    for (int i = 0; i < 3; i++) {
        double t = reader_batch_pass(path, &rows, &sum);
        rb_s = t < rb_s ? t : rb_s;
    }
    unsigned long long check = 0;
    char sep = strcmp(label, "dcgmi") == 0 ? ' ' : ',';
    for (int i = 0; i < 3; i++) {
        double t = floor_pass(path, 0, sep, &check);
        f0_s = t < f0_s ? t : f0_s;
        t = floor_pass(path, 1, sep, &check);
        f1_s = t < f1_s ? t : f1_s;
    }
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    printf("%-6s %8.1f MB  %ld rows  (mean power %.3f W)\n", label, mb, rows, sum / rows);
    printf("  wc -l        %8.1f MB/s  %6.3f s                 peak RSS %6ld KiB\n", mb / wc_s,
           wc_s, wc_rss);
    printf("  fp_ts_next   %8.1f MB/s  %6.3f s  %5.2fx wc -l  peak RSS %6ld KiB (this process)\n",
           mb / rd_s, rd_s, wc_s / rd_s, self.ru_maxrss);
    printf("  next_batch   %8.1f MB/s  %6.3f s  %5.2fx wc -l\n", mb / rb_s, rb_s, wc_s / rb_s);
    printf("  floor read   %8.1f MB/s  %6.3f s  %5.2fx wc -l  (read(2) only)\n", mb / f0_s, f0_s,
           wc_s / f0_s);
    printf("  floor masks  %8.1f MB/s  %6.3f s  %5.2fx wc -l  (read + '\\n'/'%c' bitmaps, simd "
           "level %d)%s\n",
           mb / f1_s, f1_s, wc_s / f1_s, sep, fp_simd_level(), check == 42 ? " " : "");
    if (bin) {
        char *ag_argv[] = {(char *)bin, "-q",        "aggregate", (char *)agg_input,
                           "-o",        "/dev/null", NULL};
        int rc = 0;
        for (int i = 0; i < 3 && rc == 0; i++) {
            rc = run_child_cpu(ag_argv, &secs, &cpu, &rss);
            ag_s = cpu < ag_s ? cpu : ag_s;
            ag_rss = rss > ag_rss ? rss : ag_rss;
        }
        if (rc == 0)
            printf("  aggregate    %8.1f MB/s  %6.3f s  %5.2fx wc -l  peak RSS %6ld KiB%s\n",
                   mb / ag_s, ag_s, wc_s / ag_s, ag_rss, agg_input != path ? " (the dataset)" : "");
        if (rc == 0 && goal > 0)
            printf("  goal         aggregate >= %.2fx wc -l: %.2fx, %s\n", goal, wc_s / ag_s,
                   wc_s / ag_s >= goal ? "met" : "MISSED");
        else
            printf("  aggregate    skipped (%s aggregate exited with %d)\n", bin, rc);
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--generate") == 0) {
        /* bench_ingest --generate DIR SIZE_MB: writes DIR/smi.csv and DIR/dcgmi.dmon, keeps them.
         */
        char smi_p[4200], dcgmi_p[4200], ds_p[4200];
        snprintf(smi_p, sizeof smi_p, "%s/smi.csv", argv[2]);
        snprintf(dcgmi_p, sizeof dcgmi_p, "%s/dcgmi.dmon", argv[2]);
        snprintf(ds_p, sizeof ds_p, "%s/dataset", argv[2]);
        gen_smi(smi_p, atof(argv[3]) * 1e6);
        gen_dcgmi(dcgmi_p, atof(argv[3]) * 1e6);
        gen_dataset(ds_p, "llama", 1, 1, rows_for(atof(argv[3]) * 1e6));
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "--files") == 0) {
        /* bench_ingest --files SMI.csv DCGMI.dmon [FREQPILOT_BIN]: existing files, kept. */
        bench_file("smi", argv[2], argv[2], 0.15, argc > 4 ? argv[4] : NULL);
        bench_file("dcgmi", argv[3], argv[3], 0.2, argc > 4 ? argv[4] : NULL);
        return 0;
    }
    double size_mb = argc > 1 ? atof(argv[1]) : 1024;
    const char *bin = argc > 2 ? argv[2] : NULL;
    if (!(size_mb > 0)) {
        fprintf(stderr, "usage: bench_ingest [SIZE_MB] [FREQPILOT_BIN]\n"
                        "       bench_ingest --generate DIR SIZE_MB\n"
                        "       bench_ingest --files SMI_CSV DCGMI_DMON [FREQPILOT_BIN]\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[4096], smi[4200], dcgmi[4200], ds[4200], tcsv[4400];
    snprintf(dir, sizeof dir, "%s/fp-bench-ingest.XXXXXX", tmp);
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(smi, sizeof smi, "%s/smi.csv", dir);
    snprintf(dcgmi, sizeof dcgmi, "%s/dcgmi.dmon", dir);
    snprintf(ds, sizeof ds, "%s/dataset", dir);
    double t0 = now_s();
    gen_smi(smi, size_mb * 1e6);
    gen_dcgmi(dcgmi, size_mb * 1e6);
    gen_dataset(ds, "llama", 1, 1, rows_for(size_mb * 1e6));
    snprintf(tcsv, sizeof tcsv, "%s/A100/llama/1410/1/telemetry.csv", ds);
    printf("generated 3 x %.0f MB in %.1f s (%s)\n", size_mb, now_s() - t0, dir);
    pin_cpus(1); /* one core: this process and the children it starts */
    bench_file("smi", smi, smi, 0.15, bin);
    bench_file("dcgmi", dcgmi, dcgmi, 0.2, bin);
    bench_file("telemetry.csv", tcsv, ds, 0.15, bin);
    char *rm_argv[] = {"rm", "-rf", dir, NULL};
    double secs;
    run_child(rm_argv, &secs, NULL);
    return 0;
}
