/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One item at a time through the big JSON outputs (util/json_stream.h).
 *
 * Writing: jansson lays out an object with JSON_INDENT(k) as "{\n" + k spaces per level; the
 * array member's elements sit two levels deep. So the root is dumped once with a marker in
 * place of the array, and each element is dumped alone and every line of it indented by 2k
 * spaces: the same bytes as dumping the whole tree (tests/unit/test_json_stream.c compares).
 *
 * Reading: a small scanner finds where each member's value, and each element of the array,
 * ends (strings and nesting tracked), and jansson parses that text alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/atomic.h"
#include "util/input.h"
#include "util/json_stream.h"

#define MARK                                                                                       \
    "\x01"                                                                                         \
    "fp-json-stream"                                                                               \
    "\x01"
#define MARK_DUMPED "\"\\u0001fp-json-stream\\u0001\""

static int put_indented(FILE *fp, const char *s, size_t indent)
{
    for (size_t i = 0; i < indent; i++)
        fputc(' ', fp);
    for (; *s; s++) {
        fputc(*s, fp);
        if (*s == '\n')
            for (size_t i = 0; i < indent; i++)
                fputc(' ', fp);
    }
    return ferror(fp) ? -1 : 0;
}

fp_status fp_json_write_stream(const char *path, json_t *root, const char *key, size_t n,
                               fp_json_item_fn item, void *ctx, size_t flags, fp_error *err)
{
    size_t k = flags & 0x1F; /* JSON_INDENT(k) */
    char *text = NULL;
    if (!root || k == 0 || json_object_set_new(root, key, json_string(MARK)) ||
        !(text = json_dumps(root, flags))) {
        json_decref(root);
        return fp_error_set(err, k ? FP_ERR_NOMEM : FP_ERR_INVALID, "%s: %s", path,
                            k ? "out of memory building the JSON"
                              : "streamed JSON needs an indent");
    }
    json_decref(root);
    char *mark = strstr(text, MARK_DUMPED);
    if (!mark) {
        free(text);
        return fp_error_set(err, FP_ERR_INVALID, "%s: %s is not a member of the JSON", path, key);
    }
    fp_atomic_file f;
    fp_status st = fp_atomic_open(&f, path, err);
    if (st) {
        free(text);
        return st;
    }
    int bad = fwrite(text, 1, (size_t)(mark - text), f.fp) != (size_t)(mark - text);
    if (n == 0)
        fputs("[]", f.fp);
    else
        fputs("[\n", f.fp);
    for (size_t i = 0; i < n && !bad; i++) {
        json_t *it = item(ctx, i);
        char *s = it ? json_dumps(it, flags) : NULL;
        json_decref(it);
        if (!s) {
            fp_atomic_abort(&f);
            free(text);
            return fp_error_set(err, FP_ERR_NOMEM, "%s: out of memory building the JSON", path);
        }
        if (i)
            fputs(",\n", f.fp);
        bad = put_indented(f.fp, s, 2 * k) != 0;
        free(s);
    }
    if (n) {
        fputc('\n', f.fp);
        for (size_t i = 0; i < k; i++)
            fputc(' ', f.fp);
        fputc(']', f.fp);
    }
    const char *tail = mark + strlen(MARK_DUMPED);
    bad = bad || fputs(tail, f.fp) == EOF || fputc('\n', f.fp) == EOF;
    free(text);
    if (bad) {
        fp_atomic_abort(&f);
        return fp_error_set(err, FP_ERR_IO, "%s: write failed", path);
    }
    st = fp_atomic_commit(&f, err);
    fp_atomic_abort(&f);
    return st;
}

/* ---- reading ---- */

typedef struct scan {
    FILE *fp;
    const char *path;
    long line;
    char *buf;
    size_t len, cap;
} scan;

static int next_char(scan *s)
{
    int c = getc_unlocked(s->fp);
    if (c == '\n')
        s->line++;
    return c;
}

static int next_nonspace(scan *s)
{
    int c;
    do
        c = next_char(s);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    return c;
}

static int keep(scan *s, int c)
{
    if (s->len + 1 >= s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        char *p = realloc(s->buf, cap);
        if (!p)
            return -1;
        s->buf = p;
        s->cap = cap;
    }
    s->buf[s->len++] = (char)c;
    s->buf[s->len] = '\0';
    return 0;
}

/* The rest of a string whose opening quote was read (kept with it). */
static int scan_string(scan *s)
{
    for (;;) {
        int c = next_char(s);
        if (c == EOF || keep(s, c))
            return -1;
        if (c == '"')
            return 0;
        if (c == '\\') {
            c = next_char(s);
            if (c == EOF || keep(s, c))
                return -1;
        }
    }
}

/* The text of one value starting with c into s->buf; the character after a scalar is pushed
 * back. 0, or -1 at an unexpected end. */
static int scan_value(scan *s, int c)
{
    s->len = 0;
    if (c == EOF)
        return -1;
    if (c == '"')
        return keep(s, c) || scan_string(s);
    if (c == '{' || c == '[') {
        int depth = 0;
        for (;; c = next_char(s)) {
            if (c == EOF || keep(s, c))
                return -1;
            if (c == '"' && scan_string(s))
                return -1;
            depth += (c == '{' || c == '[') - (c == '}' || c == ']');
            if (depth == 0)
                return 0;
        }
    }
    for (; c != EOF && !strchr(",}] \t\r\n", c); c = next_char(s))
        if (keep(s, c))
            return -1;
    if (c == '\n')
        s->line--;
    if (c != EOF)
        ungetc(c, s->fp);
    return s->len ? 0 : -1;
}

static fp_status parse_buf(scan *s, long line, json_t **out, fp_error *err)
{
    json_error_t je;
    *out = json_loadb(s->buf, s->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return fp_error_at(err, FP_ERR_PARSE, s->path, line + (je.line > 1 ? je.line - 1 : 0),
                           "invalid JSON: %s", je.text);
    return FP_OK;
}

static fp_status syntax_at(scan *s, long line, const char *what, fp_error *err)
{
    return fp_error_at(err, FP_ERR_PARSE, s->path, line, "invalid JSON: expected %s", what);
}

static fp_status syntax(scan *s, const char *what, fp_error *err)
{
    return syntax_at(s, s->line, what, err);
}

fp_status fp_json_read_stream(const char *path, const char *key, fp_json_member_fn member,
                              fp_json_elem_fn elem, void *ctx, int *have_key, fp_error *err)
{
    *have_key = 0;
    /* A regular file only (util/input.h); a byte-order mark skipped; a member given twice is an
     * error, as fp_json_load_input has it. */
    scan s = {fp_input_fopen(path, err), path, 1, NULL, 0, 0};
    if (!s.fp)
        return err ? err->code : FP_ERR_IO;
    fp_status st = FP_OK;
    json_t *v = NULL, *seen = json_object();
    int c = next_nonspace(&s);
    if (c == 0xEF && next_char(&s) == 0xBB && next_char(&s) == 0xBF)
        c = next_nonspace(&s);
    if (c != '{') {
        st = syntax(&s, "an object", err);
        goto out;
    }
    c = next_nonspace(&s);
    while (c != '}' && !st) {
        long line = s.line;
        if (scan_value(&s, c) || s.buf[0] != '"' || (st = parse_buf(&s, line, &v, err))) {
            st = st ? st : syntax(&s, "a member name", err);
            break;
        }
        char *name = strdup(json_string_value(v));
        json_decref(v);
        v = NULL;
        if (name && json_object_get(seen, name)) {
            st = fp_error_at(err, FP_ERR_PARSE, path, line,
                             "invalid JSON: duplicate object key "
                             "\"%s\"",
                             name);
            free(name);
            break;
        }
        if (name && json_object_set_new(seen, name, json_true())) {
            free(name);
            name = NULL;
        }
        if (!name || next_nonspace(&s) != ':') {
            free(name);
            st = name ? syntax(&s, "':'", err) : fp_error_set(err, FP_ERR_NOMEM, "out of memory");
            break;
        }
        c = next_nonspace(&s);
        if (strcmp(name, key) == 0 && c == '[') {
            *have_key = 1;
            c = next_nonspace(&s);
            for (size_t i = 0; c != ']' && !st; i++) {
                line = s.line;
                if (scan_value(&s, c)) {
                    st = syntax_at(&s, line, "a complete array element", err);
                    break;
                }
                if (!(st = parse_buf(&s, line, &v, err))) {
                    st = elem(ctx, i, v);
                    json_decref(v);
                    v = NULL;
                }
                c = next_nonspace(&s);
                if (!st && c == ',')
                    c = next_nonspace(&s);
                else if (!st && c != ']')
                    st = syntax(&s, "',' or ']'", err);
            }
        } else {
            line = s.line;
            if (scan_value(&s, c))
                st = syntax_at(&s, line, "a complete value", err);
            else if (!(st = parse_buf(&s, line, &v, err))) {
                st = member(ctx, name, v);
                json_decref(v);
                v = NULL;
            }
        }
        free(name);
        if (st)
            break;
        c = next_nonspace(&s);
        if (c == ',')
            c = next_nonspace(&s);
        else if (c != '}')
            st = syntax(&s, "',' or '}'", err);
    }
    if (!st && next_nonspace(&s) != EOF)
        st = syntax(&s, "the end of the file after the object", err);
out:
    if (ferror(s.fp) && !st)
        st = fp_error_set(err, FP_ERR_IO, "%s: read error", path);
    fclose(s.fp);
    free(s.buf);
    json_decref(seen);
    return st;
}
