/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --constraints FILE|PRESET: a file, or a preset named like contrib/constraints/NAME.ini. A
 * preset is looked for as a file first ($FREQPILOT_CONSTRAINTS_DIR, then share/freqpilot/
 * constraints beside the running program's bin/, where `make install` puts them, so an
 * administrator may adjust one), then in the copies built into the library, so a name works
 * from any build tree or install.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "freqpilot/optimize.h"
#include "optimize/presets.h"

const char *fp_constraints_preset_at(size_t i)
{
    for (size_t k = 0; fp_constraints_presets_builtin[k].name; k++)
        if (k == i)
            return fp_constraints_presets_builtin[k].name;
    return NULL;
}

/* A preset name: letters, digits, '-', '_' and '.', no '/' and no ".ini". */
static int is_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 60 || (n > 4 && strcmp(s + n - 4, ".ini") == 0))
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return s[0] != '.';
}

static int is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* dir/NAME.ini into buf when it is a file. */
static int find_in(const char *dir, const char *name, char *buf, size_t n)
{
    if (!dir || !dir[0])
        return 0;
    int w = snprintf(buf, n, "%s/%s.ini", dir, name);
    return w > 0 && (size_t)w < n && is_file(buf);
}

/* <prefix>/share/freqpilot/constraints of the running program (<prefix>/bin/freqpilot). */
static void installed_dir(char *buf, size_t n)
{
    char exe[PATH_MAX];
    buf[0] = '\0';
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (l <= 0)
        return;
    exe[l] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    if (snprintf(buf, n, "%s/../share/freqpilot/constraints", exe) >= (int)n)
        buf[0] = '\0';
}

static void set_names(fp_constraints *c, const char *name, const char *source)
{
    size_t n = strnlen(name, sizeof c->name - 1), s = strnlen(source, sizeof c->source - 1);
    memcpy(c->name, name, n);
    c->name[n] = '\0';
    memcpy(c->source, source, s);
    c->source[s] = '\0';
}

fp_status fp_constraints_open(const char *spec, fp_constraints *c, fp_error *err)
{
    fp_constraints_init(c);
    if (!spec || !spec[0])
        return fp_error_set(err, FP_ERR_INVALID, "--constraints: expected a file or a preset name");
    char path[PATH_MAX + 64];
    fp_status st;
    if (!is_name(spec) || is_file(spec)) {
        if ((st = fp_constraints_load(spec, c, err)))
            return st;
        const char *base = strrchr(spec, '/');
        base = base ? base + 1 : spec;
        size_t bl = strlen(base);
        if (bl > 4 && strcmp(base + bl - 4, ".ini") == 0)
            bl -= 4;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(bl < 63 ? bl : 63), base);
        set_names(c, name, spec);
        return FP_OK;
    }
    char inst[PATH_MAX];
    installed_dir(inst, sizeof inst);
    if (find_in(getenv("FREQPILOT_CONSTRAINTS_DIR"), spec, path, sizeof path) ||
        find_in(inst, spec, path, sizeof path)) {
        if ((st = fp_constraints_load(path, c, err)))
            return st;
        set_names(c, spec, path);
        return FP_OK;
    }
    for (size_t k = 0; fp_constraints_presets_builtin[k].name; k++) {
        const fp_constraints_preset_src *p = &fp_constraints_presets_builtin[k];
        if (strcmp(p->name, spec) != 0)
            continue;
        char label[128];
        snprintf(label, sizeof label, "preset %s (built in)", p->name);
        if ((st = fp_constraints_parse(p->text, label, c, err)))
            return st;
        set_names(c, spec, label);
        return FP_OK;
    }
    char list[256] = "";
    size_t off = 0;
    for (size_t k = 0; fp_constraints_presets_builtin[k].name && off < sizeof list; k++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", k ? ", " : "",
                                fp_constraints_presets_builtin[k].name);
    return fp_error_set(err, FP_ERR_INVALID,
                        "--constraints %s: no such file, and no preset of that name (presets: "
                        "%s)",
                        spec, list[0] ? list : "none");
}
