/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TELEMETRY_CSVCORE_H
#define FP_TELEMETRY_CSVCORE_H

/* The one CSV/whitespace field splitter and number parser every reader uses. */

#include <stddef.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * Splits line (len bytes, NUL-terminated) in place at sep, trims spaces and
 * tabs around each field and unquotes "quoted" fields ("" is a quote). Each
 * field is NUL-terminated. Returns the field count, or -1 when there are more
 * than max fields.
 */
int fp_csv_split(char *line, size_t len, char sep, char **fields, size_t *lens, int max);

/* Splits on runs of spaces/tabs (dcgmi dmon). Same return convention. */
int fp_ws_split(char *line, size_t len, char **fields, size_t *lens, int max);

/*
 * Strict number parse of s[0..len) (no surrounding spaces): 0 = ok (*out set);
 * 1 = not available (empty, N/A, [N/A], [Not Supported], any other bracketed
 * nvidia-smi marker; *out = NAN); -1 = not a number. Decimal numbers are
 * correctly rounded (fast path for up to 15 significant digits and short
 * fractions, strtod otherwise); "0x..." hexadecimal integers (clock-event
 * masks) are accepted.
 */
int fp_parse_num(const char *s, size_t len, double *out);

/* 1 when s[0..len) is one of the "not available" markers fp_parse_num accepts. */
int fp_is_na(const char *s, size_t len);

/* 10^0 .. 10^22, exact. */
extern const double fp_pow10_tab[23];

/*
 * The readers' fast path for the usual cell, "[-]DIGITS[.DIGITS]" with 1 to 15
 * digits in all: parses from p (before end) and returns the first byte after
 * the number, or NULL when the text does not start that way or has too many
 * digits (the caller then takes the general path). The caller checks that the
 * number ends the cell. The value is bit-identical to fp_parse_num's (the same
 * exact mantissa divided by the same exact power of ten).
 */
static inline const char *fp_parse_simple(const char *p, const char *end, double *out)
{
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    const char *d0 = p;
    unsigned long long mant = 0;
    while (p < end && (unsigned)(*p - '0') < 10)
        mant = mant * 10 + (unsigned)(*p++ - '0');
    int nint = (int)(p - d0), nfrac = 0;
    if (p < end && *p == '.') {
        const char *f0 = ++p;
        while (p < end && (unsigned)(*p - '0') < 10)
            mant = mant * 10 + (unsigned)(*p++ - '0');
        nfrac = (int)(p - f0);
    }
    if (nint + nfrac == 0 || nint + nfrac > 15)
        return NULL;
    double v = (double)mant;
    if (nfrac)
        v /= fp_pow10_tab[nfrac];
    *out = neg ? -v : v;
    return p;
}

/*
 * Scans for the readers' fast paths over a line of an fp_linebuf, which may be
 * read up to FP_LINEBUF_PAD bytes past end: 16 bytes at a time with SSE2 (part
 * of every x86-64), a byte loop elsewhere. Each returns the first byte in
 * [p, end) that is c / a blank (' ' or '\t') / not a blank, or end.
 */
static inline const char *fp_scan_to(const char *p, const char *end, char c)
{
#if defined(__SSE2__)
    const __m128i cc = _mm_set1_epi8(c);
    while (p < end) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, cc));
        if (m) {
            p += __builtin_ctz(m);
            return p < end ? p : end;
        }
        p += 16;
    }
    return end;
#else
    while (p < end && *p != c)
        p++;
    return p;
#endif
}

#if defined(__SSE2__)
static inline unsigned fp_blank_mask16(const char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')),
                                                    _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'))));
}
#endif

static inline const char *fp_scan_blank(const char *p, const char *end)
{
#if defined(__SSE2__)
    while (p < end) {
        unsigned m = fp_blank_mask16(p);
        if (m) {
            p += __builtin_ctz(m);
            return p < end ? p : end;
        }
        p += 16;
    }
    return end;
#else
    while (p < end && *p != ' ' && *p != '\t')
        p++;
    return p;
#endif
}

static inline const char *fp_scan_nonblank(const char *p, const char *end)
{
#if defined(__SSE2__)
    while (p < end) {
        unsigned m = ~fp_blank_mask16(p) & 0xFFFFu;
        if (m) {
            p += __builtin_ctz(m);
            return p < end ? p : end;
        }
        p += 16;
    }
    return end;
#else
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
#endif
}

#endif
