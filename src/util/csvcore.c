/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/csvcore.h"

static inline int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int fp_csv_split(char *line, size_t len, char sep, char **fields, size_t *lens, int max)
{
    char *p = line, *end = line + len;
    int n = 0;
    for (;;) {
        while (p < end && is_blank(*p))
            p++;
        char *f = p, *fend;
        if (p < end && *p == '"') {
            /* Quoted: unescape "" in place; text after the closing quote up to sep is kept. */
            char *w = p;
            p++;
            while (p < end) {
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (p < end && *p != sep)
                *w++ = *p++;
            fend = w;
        } else {
            /* Fields are short: a byte loop beats a memchr call per field. */
            char *q = p;
            while (q < end && *q != sep)
                q++;
            p = q;
            fend = q;
        }
        while (fend > f && is_blank(fend[-1]))
            fend--;
        if (n >= max)
            return -1;
        fields[n] = f;
        lens[n] = (size_t)(fend - f);
        n++;
        int more = p < end; /* p is at sep */
        *fend = '\0';
        if (!more)
            break;
        p++;
    }
    return n;
}

int fp_ws_split(char *line, size_t len, char **fields, size_t *lens, int max)
{
    char *p = line, *end = line + len;
    int n = 0;
    for (;;) {
        while (p < end && is_blank(*p))
            p++;
        if (p >= end)
            break;
        char *f = p;
        while (p < end && !is_blank(*p))
            p++;
        if (n >= max)
            return -1;
        fields[n] = f;
        lens[n] = (size_t)(p - f);
        n++;
        if (p < end)
            *p++ = '\0';
    }
    return n;
}

int fp_is_na(const char *s, size_t len)
{
    if (len == 0)
        return 1;
    if (len == 3 && (memcmp(s, "N/A", 3) == 0 || memcmp(s, "n/a", 3) == 0))
        return 1;
    /* nvidia-smi writes every "no value" as a bracketed phrase: [N/A], [Not Supported],
     * [Unknown Error], [GPU is lost], [Insufficient Permissions], ... */
    if (len >= 3 && s[0] == '[' && s[len - 1] == ']')
        return 1;
    return 0;
}

/* Exact powers of ten as doubles (10^22 is the largest exactly representable). */
const double fp_pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int parse_hex(const char *s, size_t len, double *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 16)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = (double)v;
    return 0;
}

static int parse_slow(const char *s, size_t len, double *out)
{
    char tmp[128];
    if (len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *e;
    double v = strtod(tmp, &e);
    if (e != tmp + len)
        return -1;
    *out = v;
    return 0;
}

int fp_parse_num(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        if (parse_hex(p + 2, (size_t)(end - p - 2), out) != 0)
            return -1;
        if (neg)
            *out = -*out;
        return 0;
    }
    uint64_t mant = 0;
    int ndig = 0, nfrac = 0, sig;
    /* Leading zeros are not significant digits; the mantissa keeps the rest (exact while
     * sig <= 19, and the fast path below needs far fewer). */
    const char *z = p;
    while (p < end && *p == '0')
        p++;
    const char *d0 = p;
    while (p < end && (unsigned)(*p - '0') < 10)
        mant = mant * 10 + (uint64_t)(*p++ - '0');
    sig = (int)(p - d0);
    ndig = (int)(p - z);
    if (p < end && *p == '.') {
        const char *f0 = ++p;
        if (sig == 0)
            while (p < end && *p == '0')
                p++;
        const char *fs = p;
        while (p < end && (unsigned)(*p - '0') < 10)
            mant = mant * 10 + (uint64_t)(*p++ - '0');
        sig += (int)(p - fs);
        nfrac = (int)(p - f0);
        ndig += nfrac;
    }
    if (ndig == 0) {
        if (fp_is_na(s, len)) {
            *out = NAN;
            return 1;
        }
        return -1;
    }
    if (p < end) {
        /* Only an exponent may follow; validate it, then let strtod round it. */
        if (*p != 'e' && *p != 'E')
            return -1;
        const char *q = p + 1;
        if (q < end && (*q == '-' || *q == '+'))
            q++;
        if (q >= end)
            return -1;
        while (q < end && (unsigned)(*q - '0') < 10)
            q++;
        if (q != end)
            return -1;
        return parse_slow(s, len, out);
    }
    /* Clinger's fast path: an exact integer mantissa divided by an exact power of ten is
     * correctly rounded. Leading zeros of the fraction were not counted in sig, so the
     * mantissa holds every digit when sig <= 19. */
    if (sig <= 19 && mant <= (UINT64_C(1) << 53) && nfrac <= 22) {
        double v = (double)mant;
        if (nfrac)
            v /= fp_pow10_tab[nfrac];
        *out = neg ? -v : v;
        return 0;
    }
    return parse_slow(s, len, out);
}

const unsigned char fp_tail_ones[32] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

static void mask2_bytes(const char *p, size_t nw, char a, char b, uint64_t *ma, uint64_t *mb)
{
    for (size_t w = 0; w < nw; w++, p += 64) {
        uint64_t x = 0, y = 0;
        for (int i = 0; i < 64; i++) {
            x |= (uint64_t)(p[i] == a) << i;
            y |= (uint64_t)(p[i] == b) << i;
        }
        ma[w] = x;
        mb[w] = y;
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

static void mask2_sse2(const char *p, size_t nw, char a, char b, uint64_t *ma, uint64_t *mb)
{
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
    for (size_t w = 0; w < nw; w++, p += 64) {
        uint64_t x = 0, y = 0;
        for (int k = 0; k < 4; k++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
            x |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, va)) << (16 * k);
            y |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vb)) << (16 * k);
        }
        ma[w] = x;
        mb[w] = y;
    }
}

__attribute__((target("avx2"))) static void mask2_avx2(const char *p, size_t nw, char a, char b,
                                                       uint64_t *ma, uint64_t *mb)
{
    const __m256i va = _mm256_set1_epi8(a), vb = _mm256_set1_epi8(b);
    for (size_t w = 0; w < nw; w++, p += 64) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
        uint32_t a0 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, va));
        uint32_t a1 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, va));
        uint32_t b0 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, vb));
        uint32_t b1 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, vb));
        ma[w] = a0 | (uint64_t)a1 << 32;
        mb[w] = b0 | (uint64_t)b1 << 32;
    }
}

static int cpu_level(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 2 : 1;
}
#else
static int cpu_level(void)
{
    return 0;
}
#endif

typedef void (*mask2_fn)(const char *, size_t, char, char, uint64_t *, uint64_t *);

static int simd_level = -1; /* -1: not chosen yet */
static mask2_fn mask2_impl;

static mask2_fn impl_for(int level)
{
#if defined(__x86_64__) || defined(__i386__)
    if (level >= 2)
        return mask2_avx2;
    if (level == 1)
        return mask2_sse2;
#endif
    (void)level;
    return mask2_bytes;
}

int fp_simd_level_set(int level)
{
    int max = cpu_level();
    if (level < 0 || level > max)
        level = max;
    __atomic_store_n(&mask2_impl, impl_for(level), __ATOMIC_RELAXED);
    __atomic_store_n(&simd_level, level, __ATOMIC_RELAXED);
    return level;
}

int fp_simd_level(void)
{
    int l = __atomic_load_n(&simd_level, __ATOMIC_RELAXED);
    return l >= 0 ? l : fp_simd_level_set(-1);
}

void fp_mask2(const char *p, size_t nw, char a, char b, uint64_t *ma, uint64_t *mb)
{
    mask2_fn f = __atomic_load_n(&mask2_impl, __ATOMIC_RELAXED);
    if (!f) {
        fp_simd_level();
        f = __atomic_load_n(&mask2_impl, __ATOMIC_RELAXED);
    }
    f(p, nw, a, b, ma, mb);
}
