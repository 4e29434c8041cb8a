/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The dataset's application name when --app is not given (sweep.h). */
#include <stdio.h>
#include <string.h>

#include "freqpilot/sweep.h"

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* python, python3, python3.11, pypy3, ...: name then digits and dots only. */
static int is_versioned(const char *name, const char *stem)
{
    size_t n = strlen(stem);
    if (strncmp(name, stem, n) != 0)
        return 0;
    for (const char *p = name + n; *p; p++)
        if (!(*p == '.' || (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

static int is_python(const char *name)
{
    return is_versioned(name, "python") || is_versioned(name, "pypy");
}

/* Other interpreters and their option that gives the program inline (no script then). */
static const struct {
    const char *name, *inline_opt;
} others[] = {
    {"sh", "-c"},   {"bash", "-c"}, {"dash", "-c"}, {"zsh", "-c"},
    {"perl", "-e"}, {"ruby", "-e"}, {"node", "-e"},
};

/* NULL when prog is no interpreter; else its inline-program option ("-c" for Python). */
static const char *inline_option(const char *prog)
{
    if (is_python(prog))
        return "-c";
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (strcmp(prog, others[i].name) == 0)
            return others[i].inline_opt;
    return NULL;
}

/* Python options that take a value in the next argument. */
static int python_opt_has_value(const char *a)
{
    return strcmp(a, "-W") == 0 || strcmp(a, "-X") == 0 ||
           strcmp(a, "--check-hash-based-pycs") == 0;
}

/* The script of "INTERPRETER [OPTIONS] SCRIPT ...", or "-m MODULE"'s module; NULL when the
 * program comes inline (-c, -e) or from standard input. *is_module = 1 for a module. */
static const char *script_of(char *const *argv, const char *inline_opt, int *is_module)
{
    int py = is_python(base_name(argv[0]));
    *is_module = 0;
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == 0)
            return strcmp(a, "-") == 0 ? NULL : a;
        if (strcmp(a, "--") == 0)
            return argv[i + 1];
        if (strcmp(a, inline_opt) == 0)
            return NULL;
        if (!py)
            continue;
        if (strncmp(a, "-m", 2) == 0) {
            *is_module = 1;
            return a[2] ? a + 2 : argv[i + 1];
        }
        /* -c in a cluster of flags (-uc); not inside a -W/-X value. */
        if (a[1] != '-' && a[1] != 'W' && a[1] != 'X' && strchr(a, 'c'))
            return NULL;
        if (python_opt_has_value(a) && argv[i + 1])
            i++;
    }
    return NULL;
}

void fp_sweep_app_name(const char *app, const fp_sim_workload *sim, char *const *argv, char *buf,
                       size_t size)
{
    if (app) {
        snprintf(buf, size, "%s", app);
        return;
    }
    if (sim || !argv || !argv[0]) {
        snprintf(buf, size, "%s", sim ? sim->name : "workload");
        return;
    }
    const char *prog = base_name(argv[0]);
    snprintf(buf, size, "%s", prog);
    const char *inline_opt = inline_option(prog);
    if (!inline_opt)
        return;
    int is_module = 0;
    const char *script = script_of(argv, inline_opt, &is_module);
    if (!script || !*script)
        return;
    char name[256];
    snprintf(name, sizeof name, "%s", is_module ? script : base_name(script));
    if (!is_module) {
        /* infer.py -> infer; a name that is only an extension keeps it. */
        char *dot = strrchr(name, '.');
        if (dot && dot != name)
            *dot = 0;
    }
    if (name[0] && !strchr(name, '/'))
        snprintf(buf, size, "%s", name);
}
