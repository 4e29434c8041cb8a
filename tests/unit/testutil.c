/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

const char *tu_data_dir(void)
{
    static char buf[4096];
    const char *d = getenv("FREQPILOT_DATA_DIR");
    if (!d || !*d)
        d = "../shared/data";
    struct stat st;
    snprintf(buf, sizeof buf, "%s/ai-inference-energy", d);
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    snprintf(buf, sizeof buf, "%s", d);
    return buf;
}

static char ring[8][4096];
static int ring_pos;

static char *next_slot(void)
{
    char *s = ring[ring_pos];
    ring_pos = (ring_pos + 1) % 8;
    return s;
}

const char *tu_data_path(const char *rel)
{
    const char *d = tu_data_dir();
    if (!d)
        return NULL;
    char *s = next_slot();
    snprintf(s, 4096, "%s/%s", d, rel);
    return s;
}

const char *tu_fixture(const char *rel)
{
    const char *d = getenv("FREQPILOT_TEST_DATA");
    char *s = next_slot();
    snprintf(s, 4096, "%s/%s", d ? d : "tests/data", rel);
    return s;
}

const char *tu_write_temp(const char *content, size_t len)
{
    char *s = next_slot();
    const char *tmp = getenv("TMPDIR");
    snprintf(s, 4096, "%s/fptest.XXXXXX", tmp ? tmp : "/tmp");
    int fd = mkstemp(s);
    if (fd < 0)
        return NULL;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, content + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    return s;
}

void tu_msgs_add(void *user, const char *msg)
{
    tu_msgs *m = user;
    if (m->n < TU_MSGS_MAX)
        snprintf(m->text[m->n], sizeof m->text[0], "%s", msg);
    m->n++;
}

int tu_copy_file(const char *from, const char *to)
{
    char buf[8192];
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    size_t k;
    int bad = !in || !out;
    while (!bad && (k = fread(buf, 1, sizeof buf, in)) > 0)
        bad = fwrite(buf, 1, k, out) != k;
    bad = bad || (in && ferror(in));
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        bad = 1;
    return bad ? -1 : 0;
}
