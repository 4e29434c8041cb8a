/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The streamed JSON writer gives json_dumpf's bytes of the whole tree (random items: nested
 * objects and arrays, empty ones, escapes, every scalar kind; members before and after the
 * array; several indents and precisions), and the streamed reader gives back every member and
 * element, and names the line of a syntax error.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "util/json_stream.h"
#include "util/output.h"

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static unsigned rnd(unsigned n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (unsigned)(rs % n);
}

static json_t *random_value(int depth)
{
    static const char *const strs[] = {"",
                                       "A100",
                                       "quote \" and \\ backslash",
                                       "tab\tnew\nline",
                                       "unicode \xc3\xa9\xe2\x89\xa4",
                                       "{[,:]}"};
    switch (rnd(depth > 2 ? 6 : 8)) {
    case 0:
        return json_real((double)rnd(100000) / 7.0 - 5000.0);
    case 1:
        return json_integer((json_int_t)rnd(1000000) - 500);
    case 2:
        return json_string(strs[rnd(6)]);
    case 3:
        return json_null();
    case 4:
        return json_boolean(rnd(2));
    case 5:
        return json_real(1e-300 * rnd(10));
    case 6: {
        json_t *a = json_array();
        for (unsigned i = rnd(4); i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (unsigned i = rnd(5); i > 0; i--) {
            char k[16];
            snprintf(k, sizeof k, "k%u", rnd(20));
            json_object_set_new(o, k, random_value(depth + 1));
        }
        return o;
    }
    }
}

static json_t *random_item(void)
{
    json_t *o = json_object();
    json_object_set_new(o, "gpu", json_string("H100-n0042"));
    for (unsigned i = rnd(6); i > 0; i--) {
        char k[16];
        snprintf(k, sizeof k, "f%u", i);
        json_object_set_new(o, k, random_value(1));
    }
    return o;
}

typedef struct items {
    json_t *arr;
} items;

static json_t *item_at(void *ctx, size_t i)
{
    return json_incref(json_array_get(((items *)ctx)->arr, i));
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
    s[len] = '\0';
    fclose(f);
    *n = (size_t)len;
    return s;
}

/* What the reader hands back, gathered into a tree again. */
typedef struct gathered {
    json_t *root, *arr;
} gathered;

static fp_status on_member(void *ctx, const char *key, json_t *v)
{
    json_object_set(((gathered *)ctx)->root, key, v);
    return FP_OK;
}

static fp_status on_elem(void *ctx, size_t i, json_t *v)
{
    gathered *g = ctx;
    assert_int_equal(i, json_array_size(g->arr));
    json_array_append(g->arr, v);
    return FP_OK;
}

static void test_same_bytes_and_back(void **state)
{
    (void)state;
    static const size_t flags[] = {FP_JSON_FLAGS, JSON_INDENT(2) | JSON_REAL_PRECISION(6),
                                   JSON_INDENT(4) | JSON_REAL_PRECISION(17)};
    static const size_t counts[] = {0, 1, 2, 37};
    char path[64], ref[64];
    snprintf(path, sizeof path, "%s", tu_write_temp("", 0));
    snprintf(ref, sizeof ref, "%s", tu_write_temp("", 0));
    for (int trial = 0; trial < 60; trial++) {
        size_t fl = flags[trial % 3], n = counts[(trial / 3) % 4];
        items it = {json_array()};
        for (size_t i = 0; i < n; i++)
            json_array_append_new(it.arr, random_item());
        /* The whole tree, dumped at once: the reference. */
        json_t *full = json_object();
        json_object_set_new(full, "format", json_string("test"));
        json_object_set_new(full, "confidence", json_real(0.95));
        json_object_set(full, "results", it.arr);
        json_object_set_new(full, "after", random_value(1));
        assert_int_equal(fp_json_write_atomic(ref, json_deep_copy(full), fl, NULL), FP_OK);
        /* The same with the array streamed. */
        json_t *root = json_deep_copy(full);
        json_object_set_new(root, "results", json_null());
        assert_int_equal(fp_json_write_stream(path, root, "results", n, item_at, &it, fl, NULL),
                         FP_OK);
        size_t la, lb;
        char *a = slurp(ref, &la), *b = slurp(path, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
        /* Read back one element at a time. */
        gathered g = {json_object(), json_array()};
        int have = 0;
        fp_error err;
        assert_int_equal(fp_json_read_stream(path, "results", on_member, on_elem, &g, &have, &err),
                         FP_OK);
        assert_true(have);
        json_object_set_new(g.root, "results", g.arr);
        json_t *back = json_load_file(ref, 0, NULL); /* the numbers as written */
        assert_non_null(back);
        assert_true(json_equal(g.root, back));
        json_decref(back);
        json_decref(g.root);
        json_decref(full);
        json_decref(it.arr);
    }
    remove(path);
    remove(ref);
}

static void test_read_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        long line;
    } bad[] = {
        {"[1, 2]\n", 1},
        {"{\n  \"results\": [\n    {\"a\": 1},\n    {\"b\": 2\n", 4},
        {"{\n  \"results\": [\n    {\"a\": 1} {\"b\": 2}\n  ]\n}\n", 3},
        {"{\n  \"x\": 1\n}\ngarbage\n", 4},
        {"{\n  \"x\": tru\n}\n", 2},
        {"{\n  \"results\": [\n    {\"a\": 1},\n    {\"b\": }\n  ]\n}\n", 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = tu_write_temp(bad[i].text, strlen(bad[i].text));
        gathered g = {json_object(), json_array()};
        int have;
        fp_error err;
        fp_error_clear(&err);
        assert_int_equal(fp_json_read_stream(path, "results", on_member, on_elem, &g, &have, &err),
                         FP_ERR_PARSE);
        char want[64];
        snprintf(want, sizeof want, ":%ld:", bad[i].line);
        print_message("%s\n", err.msg);
        assert_non_null(strstr(err.msg, want));
        json_decref(g.root);
        json_decref(g.arr);
    }
    /* No such array: said, not an error of the syntax. */
    const char *path = tu_write_temp("{\"results\": 3}", 14);
    gathered g = {json_object(), json_array()};
    int have = 1;
    assert_int_equal(fp_json_read_stream(path, "results", on_member, on_elem, &g, &have, NULL),
                     FP_OK);
    assert_false(have);
    assert_int_equal(json_integer_value(json_object_get(g.root, "results")), 3);
    json_decref(g.root);
    json_decref(g.arr);
}

TU_MAIN(cmocka_unit_test(test_same_bytes_and_back), cmocka_unit_test(test_read_errors))
