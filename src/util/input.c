/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/input.h"

static const char *kind_of(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISDIR(m))
        return "a folder";
    return "not a plain file";
}

static fp_status refuse(const char *path, mode_t m, fp_error *err)
{
    return fp_error_set(err, FP_ERR_FORMAT,
                        "%s: not a regular file (%s): refused, expected a file to read", path,
                        kind_of(m));
}

fp_status fp_input_check(const char *path, fp_error *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return refuse(path, sb.st_mode, err);
    return FP_OK;
}

int fp_input_open(const char *path, fp_error *err)
{
    fp_status st = fp_input_check(path, err);
    if (st != FP_OK)
        return st;
    /* O_NONBLOCK: should the name now be a FIFO, open does not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return fp_error_set(err, FP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        mode_t m = sb.st_mode;
        close(fd);
        return refuse(path, m, err);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

FILE *fp_input_fopen(const char *path, fp_error *err)
{
    int fd = fp_input_open(path, err);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
    }
    return f;
}

static json_t *json_failed(const char *name, const json_error_t *je, fp_error *err)
{
    fp_error_at(err, FP_ERR_PARSE, name, je->line > 0 ? je->line : 0, "invalid JSON: %s", je->text);
    return NULL;
}

json_t *fp_json_load_input(const char *path, size_t flags, fp_error *err)
{
    int fd = fp_input_open(path, err);
    if (fd < 0)
        return NULL;
    unsigned char head[FP_BOM_LEN];
    ssize_t got = pread(fd, head, sizeof head, 0);
    if (got == FP_BOM_LEN && fp_has_bom(head, FP_BOM_LEN))
        (void)lseek(fd, FP_BOM_LEN, SEEK_SET);
    /* Through stdio: json_loadfd reads one byte per read(2), a thousand system calls for
     * one run.json (50,000 of them in a fleet's dataset). */
    FILE *fp = fdopen(fd, "r");
    if (!fp) {
        close(fd);
        fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadf(fp, flags | JSON_REJECT_DUPLICATES, &je);
    fclose(fp);
    if (!root)
        return json_failed(path, &je, err);
    return root;
}

json_t *fp_json_load_input_mem(const void *data, size_t len, const char *name, size_t flags,
                               fp_error *err)
{
    if (fp_has_bom(data, len)) {
        data = (const char *)data + FP_BOM_LEN;
        len -= FP_BOM_LEN;
    }
    json_error_t je;
    json_t *root = json_loadb(data, len, flags | JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return json_failed(name ? name : "<memory>", &je, err);
    return root;
}
