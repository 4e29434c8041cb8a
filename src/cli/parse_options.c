/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The option parser and help renderer of every command (parse_options.h). One table drives
 * both, so the help cannot name an option the parser does not take, nor miss one it does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/parse_options.h"

/* The help page is wrapped to this many columns; option names take at most SPEC_MAX. */
enum { PAGE_WIDTH = 92, INDENT = 4, SPEC_MAX = 24 };

/* Built in to every command; a table entry of the same long name replaces one. */
static const cli_option builtins[] = {
    CLI_VERBOSE("more messages on stderr (-vv: debug)"),
    CLI_QUIET("errors only"),
    CLI_HELP("show this help"),
    {.type = CLI_OPT_CALLBACK,
     .long_name = "options-json",
     .help = "print the option table as JSON",
     .flags = CLI_OPTF_HIDDEN | CLI_OPTF_NOARG},
};
enum { NBUILTINS = sizeof builtins / sizeof builtins[0] };

/* ---- the table ------------------------------------------------------------------------ */

static int in_table(const cli_option *opts, const char *long_name)
{
    for (const cli_option *o = opts; o->type != CLI_OPT_END; o++)
        if (o->long_name && strcmp(o->long_name, long_name) == 0)
            return 1;
    return 0;
}

/*
 * Iterates over the table's entries, then over the built-ins it does not replace:
 *     for (size_t k = 0; (o = option_at(opts, &k)); k++)
 */
static const cli_option *option_at(const cli_option *opts, size_t *k)
{
    size_t n = 0;
    while (opts[n].type != CLI_OPT_END)
        n++;
    if (*k < n)
        return &opts[*k];
    for (; *k < n + NBUILTINS; ++*k)
        if (!in_table(opts, builtins[*k - n].long_name))
            return &builtins[*k - n];
    return NULL;
}

static int takes_value(const cli_option *o)
{
    switch (o->type) {
    case CLI_OPT_FLAG:
    case CLI_OPT_VERBOSE:
    case CLI_OPT_QUIET:
    case CLI_OPT_HELP:
    case CLI_OPT_GROUP:
    case CLI_OPT_END:
        return 0;
    case CLI_OPT_CALLBACK:
        return !(o->flags & CLI_OPTF_NOARG);
    default:
        return 1;
    }
}

static int is_options_json(const cli_option *o)
{
    return o >= builtins && o < builtins + NBUILTINS && o->type == CLI_OPT_CALLBACK;
}

/* ---- ranges --------------------------------------------------------------------------- */

typedef struct range {
    double lo, hi;
    int has_lo, has_hi, lo_open, hi_open;
} range;

static const char *skip_space(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

static int read_number(const char **s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(*s, &end);
    if (end == *s || errno == ERANGE)
        return -1;
    *s = skip_space(end);
    return 0;
}

/* NULL or "": any finite number. The forms are listed in parse_options.h. */
static int parse_range(const char *text, range *r)
{
    memset(r, 0, sizeof *r);
    if (!text || !*text)
        return 0;
    const char *s = skip_space(text);
    if (*s == '(' || *s == '[') {
        r->lo_open = *s == '(';
        s = skip_space(s + 1);
        if (read_number(&s, &r->lo) || *s != ',')
            return -1;
        s = skip_space(s + 1);
        if (read_number(&s, &r->hi) || (*s != ')' && *s != ']'))
            return -1;
        r->hi_open = *s == ')';
        r->has_lo = r->has_hi = 1;
        s = skip_space(s + 1);
    } else if (*s == '>' || *s == '<') {
        int greater = *s == '>', open = s[1] != '=';
        s = skip_space(s + (open ? 1 : 2));
        double v;
        if (read_number(&s, &v))
            return -1;
        if (greater) {
            r->lo = v, r->has_lo = 1, r->lo_open = open;
        } else {
            r->hi = v, r->has_hi = 1, r->hi_open = open;
        }
    } else {
        const char *dots = strstr(s, "..");
        if (!dots)
            return -1;
        char lo[64];
        const char *p = lo;
        if ((size_t)(dots - s) >= sizeof lo)
            return -1;
        memcpy(lo, s, (size_t)(dots - s));
        lo[dots - s] = '\0';
        if (read_number(&p, &r->lo) || *p)
            return -1;
        s = dots + 2;
        if (read_number(&s, &r->hi))
            return -1;
        r->has_lo = r->has_hi = 1;
    }
    return *s || (r->has_lo && r->has_hi && r->lo > r->hi) ? -1 : 0;
}

static int in_range(const range *r, double v)
{
    if (!isfinite(v))
        return 0;
    if (r->has_lo && (r->lo_open ? !(v > r->lo) : !(v >= r->lo)))
        return 0;
    if (r->has_hi && (r->hi_open ? !(v < r->hi) : !(v <= r->hi)))
        return 0;
    return 1;
}

/* "a number in (0, 1)", "watts > 0", "a whole number in 1..1000". */
static void expected(const cli_option *o, char *buf, size_t n)
{
    const char *what = o->what;
    if (!what) {
        switch (o->type) {
        case CLI_OPT_INT:
        case CLI_OPT_LONG:
            what = "a whole number";
            break;
        case CLI_OPT_FRACTION:
            what = "a fraction (0.05) or a percentage (5%)";
            break;
        case CLI_OPT_DOUBLE:
            what = "a number";
            break;
        default:
            what = "a valid value";
        }
    }
    const char *r = o->range;
    if (!r || !*r)
        snprintf(buf, n, "%s", what);
    else if (*r == '>' || *r == '<')
        snprintf(buf, n, "%s %s", what, r);
    else
        snprintf(buf, n, "%s in %s", what, r);
}

/* ---- errors --------------------------------------------------------------------------- */

/* "--name" (or "-o" when spelt so) for messages. */
static void spelling(const cli_option *o, int as_short, char *buf, size_t n)
{
    if (as_short || !o->long_name)
        snprintf(buf, n, "-%c", o->short_name);
    else
        snprintf(buf, n, "--%s", o->long_name);
}

static int usage(const cli_command *cmd, int *exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int usage(const cli_command *cmd, int *exit_code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd->name)
        *exit_code = cli_usage_error(cmd->name, "%s", msg);
    else {
        cli_error("%s", msg);
        fprintf(stderr, "Try '%s --help' for more information.\n", cli_progname);
        *exit_code = EXIT_USAGE;
    }
    return -1;
}

/* ---- values --------------------------------------------------------------------------- */

static int parse_whole(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

/* Stores arg into o's variable. 0, or -1 with why filled. */
static int apply(const cli_option *o, const char *arg, char *why, size_t n)
{
    range r;
    double v;
    long l;
    why[0] = '\0';
    switch (o->type) {
    case CLI_OPT_FLAG:
        *(int *)o->value = o->ival;
        return 0;
    case CLI_OPT_VERBOSE:
        cli_verbosity++;
        return 0;
    case CLI_OPT_QUIET:
        cli_verbosity = 0;
        return 0;
    case CLI_OPT_STRING:
        *(const char **)o->value = arg;
        return 0;
    case CLI_OPT_INT:
    case CLI_OPT_LONG:
        parse_range(o->range, &r);
        if (parse_whole(arg, &l) || !in_range(&r, (double)l) ||
            (o->type == CLI_OPT_INT && (l < -2147483647L || l > 2147483647L)))
            break;
        if (o->type == CLI_OPT_INT)
            *(int *)o->value = (int)l;
        else
            *(long *)o->value = l;
        return 0;
    case CLI_OPT_DOUBLE:
        parse_range(o->range, &r);
        if (cli_parse_double(arg, &v) || !in_range(&r, v))
            break;
        *(double *)o->value = v;
        return 0;
    case CLI_OPT_FRACTION:
        parse_range(o->range, &r);
        if (cli_parse_fraction(arg, &v) || !in_range(&r, v))
            break;
        *(double *)o->value = v;
        return 0;
    case CLI_OPT_CHOICE: {
        for (int i = 0; o->choices[i]; i++)
            if ((o->flags & CLI_OPTF_NOCASE) ? strcasecmp(arg, o->choices[i]) == 0
                                             : strcmp(arg, o->choices[i]) == 0) {
                *(int *)o->value = i;
                return 0;
            }
        /* "expected csv, json or ai-inference-energy" */
        size_t len = (size_t)snprintf(why, n, "expected ");
        for (int i = 0; o->choices[i] && len < n; i++)
            len += (size_t)snprintf(why + len, n - len, "%s%s",
                                    i == 0              ? ""
                                    : o->choices[i + 1] ? ", "
                                                        : " or ",
                                    o->choices[i]);
        return -1;
    }
    case CLI_OPT_LIST:
        if (*o->count >= o->max_items) {
            snprintf(why, n, "given more than %zu times", o->max_items);
            return -1;
        }
        ((const char **)o->value)[(*o->count)++] = arg;
        return 0;
    case CLI_OPT_CALLBACK:
        if (o->cb(o, arg, why, n) == 0)
            return 0;
        break;
    default:
        snprintf(why, n, "cannot be handled (option type %d)", (int)o->type);
        return -1;
    }
    if (!why[0]) {
        char exp[256];
        expected(o, exp, sizeof exp);
        snprintf(why, n, "expected %s", exp);
    }
    return -1;
}

/* ---- lookup --------------------------------------------------------------------------- */

/* The entry named by "--name" (len characters): exact, else a unique prefix (not of a hidden
 * entry). NULL with *ambiguous set when several match. */
static const cli_option *find_long(const cli_option *opts, const char *name, size_t len,
                                   char *ambiguous, size_t n)
{
    const cli_option *hit = NULL;
    size_t nhits = 0, alen = 0;
    const cli_option *o;
    ambiguous[0] = '\0';
    for (size_t k_ = 0; (o = option_at(opts, &k_)) != NULL; k_++) {
        if (o->long_name && strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0)
            return o;
    }
    for (size_t k_ = 0; (o = option_at(opts, &k_)) != NULL; k_++) {
        if (!o->long_name || (o->flags & CLI_OPTF_HIDDEN) || strncmp(o->long_name, name, len))
            continue;
        hit = o;
        nhits++;
        if (alen < n)
            alen += (size_t)snprintf(ambiguous + alen, n - alen, "%s--%s", alen ? ", " : "",
                                     o->long_name);
    }
    return nhits == 1 ? hit : NULL;
}

static const cli_option *find_short(const cli_option *opts, int c)
{
    const cli_option *o;
    for (size_t k_ = 0; (o = option_at(opts, &k_)) != NULL; k_++) {
        if (o->short_name == c)
            return o;
    }
    return NULL;
}

const cli_option *cli_find_long_option(const cli_option *opts, const char *arg)
{
    char amb[256];
    const char *name = strncmp(arg, "--", 2) == 0 ? arg + 2 : arg, *eq = strchr(name, '=');
    return find_long(opts, name, eq ? (size_t)(eq - name) : strlen(name), amb, sizeof amb);
}

int cli_option_takes_value(const cli_option *o)
{
    return takes_value(o);
}

/* ---- parsing -------------------------------------------------------------------------- */

int cli_options_check(const cli_option *opts, char *why, size_t n)
{
    for (const cli_option *o = opts; o->type != CLI_OPT_END; o++) {
        range r;
        const char *name = o->long_name ? o->long_name : "?";
        if (o->type == CLI_OPT_GROUP) {
            if (!o->help || !o->help[0] || o->long_name || o->short_name) {
                snprintf(why, n, "a group without a title, or with an option's name");
                return -1;
            }
            continue;
        }
        if (!o->long_name || !o->long_name[0] || o->long_name[0] == '-') {
            snprintf(why, n, "an option without a long name (or one spelt with '-')");
            return -1;
        }
        for (const cli_option *p = opts; p < o; p++)
            if (p->type == CLI_OPT_GROUP)
                continue;
            else if (strcmp(p->long_name, o->long_name) == 0 ||
                     (o->short_name && p->short_name == o->short_name)) {
                snprintf(why, n, "--%s: given twice in the table", name);
                return -1;
            }
        if (parse_range(o->range, &r)) {
            snprintf(why, n, "--%s: malformed range '%s'", name, o->range);
            return -1;
        }
        if ((o->type == CLI_OPT_CHOICE && (!o->choices || !o->choices[0])) ||
            (o->type == CLI_OPT_LIST && !o->count) || (o->type == CLI_OPT_CALLBACK && !o->cb) ||
            (o->type != CLI_OPT_VERBOSE && o->type != CLI_OPT_QUIET && o->type != CLI_OPT_HELP &&
             o->type != CLI_OPT_CALLBACK && !o->value) ||
            (!o->help && !(o->flags & CLI_OPTF_HIDDEN))) {
            snprintf(why, n, "--%s: incomplete entry (value, choices, count, callback or help)",
                     name);
            return -1;
        }
    }
    return 0;
}

/* Applies one option's value and reports a bad one. 0, or -1 (*exit_code set). */
static int give(const cli_command *cmd, const cli_option *o, int as_short, const char *arg,
                int *exit_code)
{
    char why[512], sp[128];
    if (apply(o, arg, why, sizeof why) == 0) {
        if (o->seen)
            *o->seen = 1;
        return 0;
    }
    spelling(o, as_short, sp, sizeof sp);
    if (arg)
        return usage(cmd, exit_code, "%s: %s, got '%s'", sp, why, arg);
    return usage(cmd, exit_code, "%s: %s", sp, why);
}

/* --help, --options-json: handled where they stand; 1 when it was one of them. */
static int stop_option(const cli_command *cmd, const cli_option *opts, const cli_option *o,
                       int *exit_code)
{
    char why[256];
    if (o->type != CLI_OPT_HELP && !is_options_json(o))
        return 0;
    if (cli_options_check(opts, why, sizeof why)) {
        cli_error("bug: the option table of '%s': %s", cmd->name ? cmd->name : "freqpilot", why);
        *exit_code = EXIT_FAIL;
        return 1;
    }
    if (o->type == CLI_OPT_HELP)
        cli_render_help(stdout, cmd, opts);
    else
        cli_options_json(stdout, cmd, opts);
    *exit_code = fflush(stdout) ? EXIT_FAIL : EXIT_OK;
    return 1;
}

/* A folder given where a file is to be written: usage error before any work. */
static int check_outputs(const cli_command *cmd, const cli_option *opts, int *exit_code)
{
    for (const cli_option *o = opts; o->type != CLI_OPT_END; o++) {
        if (!(o->flags & CLI_OPTF_OUTPUT) || o->type != CLI_OPT_STRING)
            continue;
        char sp[128];
        spelling(o, o->short_name != 0, sp, sizeof sp);
        int rc = cli_check_output(cmd->name ? cmd->name : "", sp, *(const char **)o->value);
        if (rc) {
            *exit_code = rc;
            return -1;
        }
    }
    return 0;
}

/* "-abc": short options, possibly bundled; the last may take the rest or the next word. */
static int parse_short(const cli_command *cmd, const cli_option *opts, int argc, char **argv,
                       int *i, int *exit_code)
{
    const char *a = argv[*i];
    for (size_t k = 1; a[k]; k++) {
        const cli_option *o = find_short(opts, (unsigned char)a[k]);
        if (!o)
            return usage(cmd, exit_code, "unknown option '-%c'", a[k]);
        if (stop_option(cmd, opts, o, exit_code))
            return -1;
        if (!takes_value(o)) {
            if (give(cmd, o, 1, NULL, exit_code))
                return -1;
            continue;
        }
        const char *arg = a + k + 1;
        if (!*arg) {
            if (*i + 1 >= argc)
                return usage(cmd, exit_code, "-%c: needs a value", a[k]);
            arg = argv[++*i];
        }
        return give(cmd, o, 1, arg, exit_code);
    }
    return 0;
}

static int parse_long(const cli_command *cmd, const cli_option *opts, int argc, char **argv, int *i,
                      int *exit_code)
{
    const char *name = argv[*i] + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    char amb[512];
    const cli_option *o = find_long(opts, name, len, amb, sizeof amb);
    if (!o && amb[0])
        return usage(cmd, exit_code, "option '--%.*s' is ambiguous (%s)", (int)len, name, amb);
    if (!o)
        return usage(cmd, exit_code, "unknown option '--%.*s'", (int)len, name);
    if (stop_option(cmd, opts, o, exit_code))
        return -1;
    if (!takes_value(o)) {
        if (eq)
            return usage(cmd, exit_code, "--%s: takes no value, got '%s'", o->long_name, eq + 1);
        return give(cmd, o, 0, NULL, exit_code);
    }
    const char *arg = eq ? eq + 1 : NULL;
    if (!arg) {
        if (*i + 1 >= argc)
            return usage(cmd, exit_code, "--%s: needs a value%s%s%s", o->long_name,
                         o->argh || o->choices ? " (" : "", o->argh ? o->argh : "",
                         o->argh || o->choices ? ")" : "");
        arg = argv[++*i];
    }
    return give(cmd, o, 0, arg, exit_code);
}

int cli_parse_options(const cli_command *cmd, const cli_option *opts, int argc, char **argv,
                      int *exit_code)
{
    int nops = 0, i = 1;
    *exit_code = EXIT_OK;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (cmd->flags & CLI_PARSE_STOP_AT_OPERAND)
                break;
            argv[nops++] = argv[i];
            continue;
        }
        int rc = a[1] == '-' ? parse_long(cmd, opts, argc, argv, &i, exit_code)
                             : parse_short(cmd, opts, argc, argv, &i, exit_code);
        if (rc)
            return -1;
    }
    for (; i < argc; i++)
        argv[nops++] = argv[i];
    argv[nops] = NULL;
    if (check_outputs(cmd, opts, exit_code))
        return -1;
    if (nops > 0 && (cmd->flags & CLI_PARSE_NO_OPERANDS)) {
        *exit_code = cli_usage_error(cmd->name, "unexpected argument '%s'", argv[0]);
        return -1;
    }
    return nops;
}

/* ---- the help page -------------------------------------------------------------------- */

/* Text with every non-empty line indented by n columns. */
static void put_indented(FILE *fp, const char *text, int n)
{
    const char *s = text;
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len)
            fprintf(fp, "%*s%.*s", n, "", (int)len, s);
        fputc('\n', fp);
        s = nl ? nl + 1 : s + len;
    }
}

static void put_section(FILE *fp, const char *title, const char *body)
{
    if (!body)
        return;
    fprintf(fp, "\n%s\n", title);
    put_indented(fp, body, INDENT);
}

/* "-o, --output FILE", "--format csv|json", "--strict". */
static void spec_of(const cli_option *o, char *buf, size_t n)
{
    size_t len = 0;
    if (o->short_name)
        len += (size_t)snprintf(buf + len, n - len, "-%c, ", o->short_name);
    len += (size_t)snprintf(buf + len, n - len, "--%s", o->long_name);
    if (!takes_value(o) || len >= n)
        return;
    if (o->argh) {
        snprintf(buf + len, n - len, " %s", o->argh);
        return;
    }
    for (int i = 0; o->choices && o->choices[i] && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%c%s", i ? '|' : ' ', o->choices[i]);
    if (!o->choices)
        snprintf(buf + len, n - len, " VALUE");
}

/* Words of text from column col, wrapped at PAGE_WIDTH; "\n" breaks the line. The first line
 * continues after `at` columns already written. */
static void put_wrapped(FILE *fp, const char *text, int col, int at)
{
    int pos = at;
    int fresh = 1; /* nothing written on this line yet */
    const char *s = text;
    if (pos < col) {
        fprintf(fp, "%*s", col - pos, "");
        pos = col;
    }
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        if (*s == '\n') {
            fprintf(fp, "\n%*s", col, "");
            pos = col;
            fresh = 1;
            s++;
            continue;
        }
        size_t w = strcspn(s, " \n");
        if (!fresh && pos + 1 + (int)w > PAGE_WIDTH) {
            fprintf(fp, "\n%*s", col, "");
            pos = col;
            fresh = 1;
        }
        if (!fresh) {
            fputc(' ', fp);
            pos++;
        }
        fprintf(fp, "%.*s", (int)w, s);
        pos += (int)w;
        fresh = 0;
        s += w;
    }
    fputc('\n', fp);
}

static void put_option(FILE *fp, const cli_option *o, int col)
{
    char spec[256];
    if (o->flags & CLI_OPTF_HIDDEN)
        return;
    if (o->type == CLI_OPT_GROUP) {
        fprintf(fp, "\n%*s%s\n", INDENT / 2, "", o->help);
        return;
    }
    spec_of(o, spec, sizeof spec);
    fprintf(fp, "%*s%s", INDENT, "", spec);
    int at = INDENT + (int)strlen(spec);
    if (at + 2 > col) {
        fputc('\n', fp);
        at = 0;
    }
    put_wrapped(fp, o->help ? o->help : "", col, at);
}

/* The table's entries; the built-ins it does not replace close the options before its first
 * group (or the list, when it has none). */
static void put_options(FILE *fp, const cli_option *opts)
{
    char spec[256];
    int width = 0;
    const cli_option *o;
    for (size_t k_ = 0; (o = option_at(opts, &k_)) != NULL; k_++) {
        if ((o->flags & CLI_OPTF_HIDDEN) || o->type == CLI_OPT_GROUP)
            continue;
        spec_of(o, spec, sizeof spec);
        int len = (int)strlen(spec);
        if (len <= SPEC_MAX && len > width)
            width = len;
    }
    int col = INDENT + width + 2;
    size_t n = 0;
    while (opts[n].type != CLI_OPT_END)
        n++;
    size_t first_group = 0;
    while (first_group < n && opts[first_group].type != CLI_OPT_GROUP)
        first_group++;
    for (size_t k = 0; k < first_group; k++)
        put_option(fp, &opts[k], col);
    for (size_t k = n; (o = option_at(opts, &k)) != NULL; k++)
        put_option(fp, o, col);
    for (size_t k = first_group; k < n; k++)
        put_option(fp, &opts[k], col);
}

void cli_render_help(FILE *fp, const cli_command *cmd, const cli_option *opts)
{
    fprintf(fp, "NAME\n%*s%s%s%s - %s\n", INDENT, "", cli_progname, cmd->name ? " " : "",
            cmd->name ? cmd->name : "", cmd->summary);
    put_section(fp, "SYNOPSIS", cmd->synopsis);
    put_section(fp, "DESCRIPTION", cmd->description);
    for (const cli_section *s = cmd->sections; s && s->title; s++)
        put_section(fp, s->title, s->body);
    fprintf(fp, "\nOPTIONS\n");
    put_options(fp, opts);
    if (cmd->options_note) {
        fputc('\n', fp);
        put_indented(fp, cmd->options_note, INDENT);
    }
    put_section(fp, "EXIT STATUS", cmd->exit_status);
    put_section(fp, "EXAMPLES", cmd->examples);
}

/* ---- the table as JSON ---------------------------------------------------------------- */

static const char *type_name(cli_opt_type t)
{
    static const char *const names[] = {
        [CLI_OPT_END] = "end",           [CLI_OPT_FLAG] = "flag",       [CLI_OPT_STRING] = "string",
        [CLI_OPT_INT] = "int",           [CLI_OPT_LONG] = "long",       [CLI_OPT_DOUBLE] = "double",
        [CLI_OPT_FRACTION] = "fraction", [CLI_OPT_CHOICE] = "choice",   [CLI_OPT_LIST] = "list",
        [CLI_OPT_CALLBACK] = "callback", [CLI_OPT_VERBOSE] = "verbose", [CLI_OPT_QUIET] = "quiet",
        [CLI_OPT_HELP] = "help",         [CLI_OPT_GROUP] = "group",
    };
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

int cli_options_json(FILE *fp, const cli_command *cmd, const cli_option *opts)
{
    json_t *root = json_object(), *arr = json_array(), *subs = json_array();
    const cli_option *o;
    json_object_set_new(root, "command", str_or_null(cmd->name));
    for (const char *const *s = cmd->subcommands; s && *s; s++)
        json_array_append_new(subs, json_string(*s));
    json_object_set_new(root, "subcommands", subs);
    json_object_set_new(root, "stop_at_operand",
                        json_boolean(cmd->flags & CLI_PARSE_STOP_AT_OPERAND));
    for (size_t k_ = 0; (o = option_at(opts, &k_)) != NULL; k_++) {
        if (o->type == CLI_OPT_GROUP)
            continue;
        json_t *j = json_object();
        char sh[2] = {(char)o->short_name, 0};
        json_object_set_new(j, "long", json_string(o->long_name));
        json_object_set_new(j, "short", o->short_name ? json_string(sh) : json_null());
        json_object_set_new(j, "type", json_string(type_name(o->type)));
        json_object_set_new(j, "takes_value", json_boolean(takes_value(o)));
        json_object_set_new(j, "value_name", str_or_null(o->argh));
        json_object_set_new(j, "range", str_or_null(o->range));
        json_t *ch = json_array();
        for (int i = 0; o->choices && o->choices[i]; i++)
            json_array_append_new(ch, json_string(o->choices[i]));
        json_object_set_new(j, "choices", ch);
        json_object_set_new(j, "output", json_boolean(o->flags & CLI_OPTF_OUTPUT));
        json_object_set_new(j, "hidden", json_boolean(o->flags & CLI_OPTF_HIDDEN));
        json_object_set_new(j, "help", str_or_null(o->help));
        json_array_append_new(arr, j);
    }
    json_object_set_new(root, "options", arr);
    int rc = json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', fp);
    json_decref(root);
    return rc;
}
