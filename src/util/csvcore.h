/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TELEMETRY_CSVCORE_H
#define FP_TELEMETRY_CSVCORE_H

/* The one CSV/whitespace field splitter and number parser every reader uses. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
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
 * Structural bitmaps (simdjson-style) for the readers' row fast paths. For
 * i < 64 * nw: bit i % 64 of ma[i / 64] is set when p[i] == a, of mb[i / 64]
 * when p[i] == b. Reads p[0 .. 64 * nw): over an fp_linebuf line of len bytes,
 * nw = len / 64 + 1 stays inside the line's FP_LINEBUF_PAD. AVX2 when the CPU
 * has it (checked at run time), SSE2 on other x86-64, a byte loop elsewhere.
 */
void fp_mask2(const char *p, size_t nw, char a, char b, uint64_t *ma, uint64_t *mb);

/*
 * A CSV row's comma bitmap (fp_mask2 over the line of len bytes, nw = len / 64 + 1 words in
 * mc): the bits past the line dropped and one virtual comma ending the last cell. Returns
 * the number of words, or 0 when the row holds a quote (mq: scratch of nw words), which
 * the bitmap walk does not handle.
 */
static inline size_t fp_csv_row_commas(const char *line, size_t len, uint64_t *mc, uint64_t *mq)
{
    size_t nw = len / 64 + 1;
    fp_mask2(line, nw, ',', '"', mc, mq);
    uint64_t keep = ((uint64_t)1 << (len % 64)) - 1, quotes = 0;
    mc[nw - 1] = (mc[nw - 1] & keep) | ((uint64_t)1 << (len % 64));
    mq[nw - 1] &= keep;
    for (size_t w = 0; w < nw; w++)
        quotes |= mq[w];
    return quotes ? 0 : nw;
}

/* The fp_mask2 implementation in use: 2 AVX2, 1 SSE2, 0 bytes. fp_simd_level_set picks one
 * (tests; clamped to what the CPU has) and returns the level now in force. */
int fp_simd_level(void);
int fp_simd_level_set(int level);

/* fp_tail_ones[16 + k] .. : a 16-byte load at fp_tail_ones + n has its last n bytes 0xFF. */
extern const unsigned char fp_tail_ones[32];

/*
 * [p, e) when it is 1 to 8 digits and nothing else: 1 with *out the exact value, else 0. SWAR
 * (eight digits in one 64-bit word); loads the 8 bytes at p, so the caller's buffer must be
 * readable up to p + 8 (an fp_linebuf line is, through its padding).
 */
static inline __attribute__((always_inline)) int fp_parse_digits8(const char *p, const char *e,
                                                                  double *out)
{
    size_t len = (size_t)(e - p);
    if (len - 1 >= 8)
        return 0;
    uint64_t w;
    memcpy(&w, p, 8);
    /* The digits moved to the top of the word, '0's before them: "00001410". */
    w = (w << ((8 - len) * 8)) | (len == 8 ? 0 : 0x3030303030303030ull >> (len * 8));
    if (((w & 0xF0F0F0F0F0F0F0F0ull) |
         (((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) != 0x3333333333333333ull)
        return 0; /* not all digits */
    w -= 0x3030303030303030ull;
    w = w * 10 + (w >> 8); /* pairs */
    w = (((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
         (((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
        32;
    *out = (double)(uint32_t)w;
    return 1;
}

/*
 * [p, e) when it is "DIGITS" or "DIGITS.DIGITS", 1 to 8 digits on each side and 15 at most in
 * all: 1 with *mant the digits as one exact integer and *nfrac the digits after the '.', else
 * 0. The value is *mant / 10^*nfrac, as fp_parse_num computes it. Reads up to 16 bytes from p
 * (an fp_linebuf line's padding).
 */
static inline __attribute__((always_inline)) int fp_parse_dec8(const char *p, const char *e,
                                                               double *mant, int *nfrac)
{
    const char *dot = p;
#if defined(__SSE2__)
    size_t len = (size_t)(e - p);
    if (len - 1 >= 16)
        return 0;
    unsigned md = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
                      _mm_loadu_si128((const __m128i *)(const void *)p), _mm_set1_epi8('.'))) &
                  ((1u << len) - 1);
    dot = md ? p + __builtin_ctz(md) : e;
#else
    while (dot < e && *dot != '.')
        dot++;
#endif
    double ip, fp;
    if (!fp_parse_digits8(p, dot, &ip))
        return 0;
    if (dot == e) {
        *mant = ip;
        *nfrac = 0;
        return 1;
    }
    int nf = (int)(e - dot - 1);
    if ((dot - p) + nf > 15 || !fp_parse_digits8(dot + 1, e, &fp))
        return 0;
    *mant = ip * fp_pow10_tab[nf] + fp; /* < 10^15: exact */
    *nfrac = nf;
    return 1;
}

/*
 * Branch-light parse of the token [p, e) when it is only digits with at most
 * one '.', 1 to 15 digits in all (the readers' usual cell): 1 with *out set,
 * bit-identical to fp_parse_simple / fp_parse_num (the same exact mantissa
 * divided by the same exact power of ten); 0 for anything else (a sign, N/A,
 * units, more digits...: the caller takes its general path). Loads the 16
 * bytes that end at e, so lo (the lowest readable byte, e.g. the line start)
 * must satisfy e - 16 >= lo, else 0.
 */
static inline __attribute__((always_inline)) int
fp_parse_short_m(const char *lo, const char *p, const char *e, double *mant, int *nfrac_out)
{
#if defined(__SSE2__)
    size_t len = (size_t)(e - p);
    if (len - 1 >= 16 || e - lo < 16)
        return 0;
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(e - 16));
    __m128i c = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i dig = _mm_cmpeq_epi8(_mm_min_epu8(c, _mm_set1_epi8(9)), c);
    unsigned lenm = (0xFFFFu << (16 - len)) & 0xFFFFu;
    unsigned md = (unsigned)_mm_movemask_epi8(dig) & lenm;
    unsigned mdot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))) & lenm;
    /* (md == 0xFFFF: 16 digits, too many.) */
    if ((md | mdot) != lenm || (mdot & (mdot - 1)) || md == 0 || md == 0xFFFFu)
        return 0;
    int nfrac = mdot ? 15 - __builtin_ctz(mdot) : 0;
    __m128i inlen = _mm_loadu_si128((const __m128i *)(const void *)(fp_tail_ones + len));
    __m128i frac = _mm_loadu_si128((const __m128i *)(const void *)(fp_tail_ones + nfrac));
    __m128i dv = _mm_and_si128(_mm_and_si128(c, dig), inlen);
    __m128i dint = _mm_andnot_si128(frac, dv), dfrac = _mm_and_si128(frac, dv);
    /* With a '.', the integer digits move one place right, onto the '.': one digit string. */
    __m128i sel = _mm_set1_epi8((char)-(mdot != 0));
    __m128i d = _mm_or_si128(
        _mm_or_si128(_mm_and_si128(sel, _mm_slli_si128(dint, 1)), _mm_andnot_si128(sel, dint)),
        dfrac);
    /* 16 digits -> 8 pairs -> 4 groups of 4 -> 2 groups of 8 (each step exact in 32 bits). */
    const __m128i zero = _mm_setzero_si128();
    const __m128i w10 = _mm_set_epi16(1, 10, 1, 10, 1, 10, 1, 10);
    __m128i pairs = _mm_packs_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(d, zero), w10),
                                    _mm_madd_epi16(_mm_unpackhi_epi8(d, zero), w10));
    __m128i quads = _mm_madd_epi16(pairs, _mm_set_epi16(1, 100, 1, 100, 1, 100, 1, 100));
    quads = _mm_packs_epi32(quads, quads);
    __m128i oct = _mm_madd_epi16(quads, _mm_set_epi16(1, 10000, 1, 10000, 1, 10000, 1, 10000));
    uint64_t hi = (uint32_t)_mm_cvtsi128_si32(oct);
    uint64_t lo8 = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(oct, 4));
    *mant = (double)(hi * 100000000u + lo8); /* < 10^15: exact */
    *nfrac_out = nfrac;
    return 1;
#else
    (void)lo;
    (void)p;
    (void)e;
    (void)mant;
    (void)nfrac_out;
    return 0;
#endif
}

static inline __attribute__((always_inline)) int fp_parse_short(const char *lo, const char *p,
                                                                const char *e, double *out)
{
#if defined(__SSE2__)
    double m;
    int nfrac;
    if (!fp_parse_short_m(lo, p, e, &m, &nfrac))
        return 0;
    if (nfrac) /* a division is slow: integers (most cells) skip it */
        m /= fp_pow10_tab[nfrac];
    *out = m;
    return 1;
#else
    (void)lo;
    const char *q = fp_parse_simple(p, e, out);
    return q == e && p < e && *p != '-';
#endif
}

/*
 * Divisions put off to the end of a row and done two at a time (divpd costs
 * what one divsd does): fp_divq_parse stores an integer cell at once and
 * queues a fraction's mantissa / 10^nfrac; fp_divq_flush writes the queued
 * quotients (each the correctly rounded one, as the scalar division gives).
 */
#define FP_DIVQ_MAX 32
typedef struct fp_divq {
    int n;
    double num[FP_DIVQ_MAX], den[FP_DIVQ_MAX];
    double *dst[FP_DIVQ_MAX];
} fp_divq;

static inline void fp_divq_flush(fp_divq *q)
{
    int i = 0;
#if defined(__SSE2__)
    for (; i + 2 <= q->n; i += 2) {
        __m128d v = _mm_div_pd(_mm_loadu_pd(q->num + i), _mm_loadu_pd(q->den + i));
        _mm_storel_pd(q->dst[i], v);
        _mm_storeh_pd(q->dst[i + 1], v);
    }
#endif
    for (; i < q->n; i++)
        *q->dst[i] = q->num[i] / q->den[i];
    q->n = 0;
}

/* fp_parse_short into *out, the division (if any) queued on q. */
static inline __attribute__((always_inline)) int
fp_divq_parse(fp_divq *q, const char *lo, const char *p, const char *e, double *out)
{
#if defined(__SSE2__)
    double m;
    int nfrac;
    if (!fp_parse_short_m(lo, p, e, &m, &nfrac))
        return 0;
    if (!nfrac) {
        *out = m;
        return 1;
    }
    if (q->n == FP_DIVQ_MAX)
        fp_divq_flush(q);
    q->num[q->n] = m;
    q->den[q->n] = fp_pow10_tab[nfrac];
    q->dst[q->n++] = out;
    return 1;
#else
    (void)q;
    return fp_parse_short(lo, p, e, out);
#endif
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
