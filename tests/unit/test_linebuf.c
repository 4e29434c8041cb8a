/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/csvcore.h"
#include "util/linebuf.h"
#include "testutil.h"

/* Reads every line of lb into one '|'-joined string. */
static int join_lines(fp_linebuf *lb, char *out, size_t cap, fp_error *err)
{
    char *line;
    size_t len;
    int r;
    out[0] = '\0';
    while ((r = fp_linebuf_next(lb, &line, &len, err)) == 1) {
        assert_int_equal(strlen(line), len);
        strncat(out, line, cap - strlen(out) - 2);
        strcat(out, "|");
    }
    return r;
}

static void test_lines_crlf_and_unterminated(void **state)
{
    const char data[] = "a,b\r\n\nccc\nlast";
    fp_linebuf *lb;
    fp_error err;
    char out[256];
    assert_int_equal(fp_linebuf_open_mem(&lb, data, sizeof data - 1, "mem", &err), FP_OK);
    assert_int_equal(join_lines(lb, out, sizeof out, &err), 0);
    assert_string_equal(out, "a,b||ccc|last|");
    assert_int_equal(fp_linebuf_lineno(lb), 4);
    assert_true(fp_linebuf_last_unterminated(lb));
    assert_int_equal(fp_linebuf_rewind(lb, &err), FP_OK);
    assert_int_equal(join_lines(lb, out, sizeof out, &err), 0);
    assert_string_equal(out, "a,b||ccc|last|");
    fp_linebuf_close(lb);
}

static void test_terminated_last_line(void **state)
{
    fp_linebuf *lb;
    fp_error err;
    char out[64];
    assert_int_equal(fp_linebuf_open_mem(&lb, "x\ny\n", 4, "mem", &err), FP_OK);
    assert_int_equal(join_lines(lb, out, sizeof out, &err), 0);
    assert_string_equal(out, "x|y|");
    assert_false(fp_linebuf_last_unterminated(lb));
    fp_linebuf_close(lb);
    /* An empty input has no lines. */
    assert_int_equal(fp_linebuf_open_mem(&lb, "", 0, "mem", &err), FP_OK);
    assert_int_equal(join_lines(lb, out, sizeof out, &err), 0);
    assert_int_equal(fp_linebuf_lineno(lb), 0);
    fp_linebuf_close(lb);
}

static void test_nul_byte_reports_its_line(void **state)
{
    const char data[] = "ok1\nok2\nbad\0bad\nok4\n";
    fp_linebuf *lb;
    fp_error err;
    char *line;
    size_t len;
    assert_int_equal(fp_linebuf_open_mem(&lb, data, sizeof data - 1, "f.csv", &err), FP_OK);
    assert_int_equal(fp_linebuf_next(lb, &line, &len, &err), 1);
    assert_int_equal(fp_linebuf_next(lb, &line, &len, &err), 1);
    assert_string_equal(line, "ok2");
    assert_int_equal(fp_linebuf_next(lb, &line, &len, &err), FP_ERR_PARSE);
    assert_string_equal(err.msg, "f.csv:3: NUL byte in data (corrupt or binary file)");
    /* Sticky. */
    assert_int_equal(fp_linebuf_next(lb, &line, &len, &err), FP_ERR_PARSE);
    fp_linebuf_close(lb);
}

/* Tiny buffers force compaction, growth and the long-line cap on every path. */
static void test_small_buffer_growth_and_cap(void **state)
{
    char data[4000];
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(data + n, "%d,%d\n", i, i * i);
    for (size_t chunk = 16; chunk <= 64; chunk += 7) {
        fp_linebuf *lb;
        fp_error err;
        char *line;
        size_t len;
        int i = 0, r;
        assert_int_equal(fp_linebuf_open_mem_ex(&lb, data, n, "m", chunk, 1024, &err), FP_OK);
        while ((r = fp_linebuf_next(lb, &line, &len, &err)) == 1) {
            char want[32];
            sprintf(want, "%d,%d", i, i * i);
            assert_string_equal(line, want);
            i++;
        }
        assert_int_equal(r, 0);
        assert_int_equal(i, 300);
        assert_int_equal(fp_linebuf_offset(lb), n);
        fp_linebuf_close(lb);
    }
    /* A line longer than the cap is an error naming the line. */
    char big[300];
    memset(big, 'x', sizeof big);
    memcpy(big, "ok\n", 3);
    fp_linebuf *lb;
    fp_error err;
    char *line;
    size_t len;
    assert_int_equal(fp_linebuf_open_mem_ex(&lb, big, sizeof big, "big", 16, 128, &err), FP_OK);
    assert_int_equal(fp_linebuf_next(lb, &line, &len, &err), 1);
    assert_int_equal(fp_linebuf_next(lb, &line, &len, &err), FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "big:2: line longer than 128 bytes"));
    fp_linebuf_close(lb);
}

static void test_file_open_and_missing(void **state)
{
    const char content[] = "h1,h2\n1,2\n";
    const char *p = tu_write_temp(content, sizeof content - 1);
    fp_linebuf *lb;
    fp_error err;
    char out[64];
    assert_int_equal(fp_linebuf_open(&lb, p, &err), FP_OK);
    assert_string_equal(fp_linebuf_path(lb), p);
    assert_int_equal(join_lines(lb, out, sizeof out, &err), 0);
    assert_string_equal(out, "h1,h2|1,2|");
    fp_linebuf_close(lb);
    remove(p);
    assert_int_equal(fp_linebuf_open(&lb, "/nonexistent/x.csv", &err), FP_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.csv"));
}

static void test_csv_split(void **state)
{
    char line[] = " 2025/07/09 01:17:36.754 , 0,NVIDIA A100 , \"a,\"\"b\" ,,70.12 W";
    char *f[8];
    size_t l[8];
    int n = fp_csv_split(line, strlen(line), ',', f, l, 8);
    assert_int_equal(n, 6);
    assert_string_equal(f[0], "2025/07/09 01:17:36.754");
    assert_string_equal(f[1], "0");
    assert_string_equal(f[2], "NVIDIA A100");
    assert_string_equal(f[3], "a,\"b");
    assert_int_equal(l[3], 4);
    assert_string_equal(f[4], "");
    assert_int_equal(l[4], 0);
    assert_string_equal(f[5], "70.12 W");
    char line2[] = "a,b,c";
    assert_int_equal(fp_csv_split(line2, 5, ',', f, l, 2), -1);
    char line3[] = "";
    assert_int_equal(fp_csv_split(line3, 0, ',', f, l, 2), 1);
    char line4[] = "x,";
    assert_int_equal(fp_csv_split(line4, 2, ',', f, l, 4), 2);
    assert_int_equal(l[1], 0);
}

static void test_ws_split(void **state)
{
    char line[] = "GPU 0   12.5\tN/A  \t ";
    char *f[8];
    size_t l[8];
    int n = fp_ws_split(line, strlen(line), f, l, 8);
    assert_int_equal(n, 4);
    assert_string_equal(f[0], "GPU");
    assert_string_equal(f[1], "0");
    assert_string_equal(f[2], "12.5");
    assert_string_equal(f[3], "N/A");
    char blank[] = "   ";
    assert_int_equal(fp_ws_split(blank, 3, f, l, 8), 0);
    char many[] = "a b c";
    assert_int_equal(fp_ws_split(many, 5, f, l, 2), -1);
}

static double num(const char *s, int want_rc)
{
    double v = -12345;
    assert_int_equal(fp_parse_num(s, strlen(s), &v), want_rc);
    return v;
}

static void test_parse_num_exact(void **state)
{
    /* Each must equal what strtod (correctly rounded) gives. */
    const char *cases[] = {"313324248219",
                           "43.454",
                           "0.000",
                           "-1.5e-3",
                           "70.12",
                           "1410",
                           "0.0043",
                           "-0",
                           "+7.25",
                           "5.",
                           ".5",
                           "1e3",
                           "123456789.123456789",
                           "0.1",
                           "0.3",
                           "99.99",
                           "2619",
                           "12345678901234567890123",
                           "3.4028234663852886e38",
                           "0.000001"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double v = num(cases[i], 0);
        double want = strtod(cases[i], NULL);
        if (memcmp(&v, &want, sizeof v) != 0)
            fail_msg("%s: got %.17g want %.17g", cases[i], v, want);
    }
    assert_true(num("0x0000000000000004", 0) == 4.0);
    assert_true(num("0x00000000000000A0", 0) == 160.0);
}

static void test_parse_num_na_and_bad(void **state)
{
    const char *na[] = {"", "N/A", "[N/A]", "[Not Supported]", "[Unknown Error]", "[GPU is lost]"};
    for (size_t i = 0; i < sizeof na / sizeof *na; i++)
        assert_true(isnan(num(na[i], 1)));
    const char *bad[] = {"abc", "70.12 W", "1.2.3", "-",   ".",   "1e", "1e+", "nan",
                         "inf", "0x",      "0xZZ",  "1,5", "12a", "[x", "e5",  "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v;
        if (fp_parse_num(bad[i], strlen(bad[i]), &v) != -1)
            fail_msg("'%s' accepted as a number", bad[i]);
    }
}

TU_MAIN(cmocka_unit_test(test_lines_crlf_and_unterminated),
        cmocka_unit_test(test_terminated_last_line),
        cmocka_unit_test(test_nul_byte_reports_its_line),
        cmocka_unit_test(test_small_buffer_growth_and_cap),
        cmocka_unit_test(test_file_open_and_missing), cmocka_unit_test(test_csv_split),
        cmocka_unit_test(test_ws_split), cmocka_unit_test(test_parse_num_exact),
        cmocka_unit_test(test_parse_num_na_and_bad))
