/* SPDX-License-Identifier: GPL-3.0-or-later */
/* UTF-8 checks and boundary-safe copies (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#include <string.h>

#include "util/utf8.h"

/* Length of the valid sequence at s (at most n bytes available), 0 when invalid or cut. */
static size_t seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < k)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return k;
}

size_t fp_utf8_valid_prefix(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t k = seq_len(u + i, len - i);
        if (!k)
            break;
        i += k;
    }
    return i;
}

size_t fp_utf8_copy(char *dst, size_t size, const char *s, size_t len)
{
    if (!size)
        return 0;
    size_t n = len;
    if (len > size - 1) {
        /* Cut back to a character boundary: s[n] (inside s) must not continue a character. */
        const unsigned char *u = (const unsigned char *)s;
        n = size - 1;
        size_t back = 0;
        while (n > 0 && back < 3 && (u[n] & 0xC0) == 0x80) {
            n--;
            back++;
        }
        if ((u[n] & 0xC0) == 0x80) /* not UTF-8 there anyway: cut where the room ends */
            n = size - 1;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    return n;
}

int fp_utf8_valid(const char *s)
{
    size_t n = strlen(s);
    return fp_utf8_valid_prefix(s, n) == n;
}

char *fp_utf8_sanitize(char *dst, size_t size, const char *s)
{
    if (!size)
        return dst;
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, o = 0;
    while (i < n) {
        size_t k = seq_len(u + i, n - i);
        if (!k) {
            if (o + 1 >= size)
                break;
            dst[o++] = '?';
            i++;
            continue;
        }
        if (o + k >= size)
            break;
        memcpy(dst + o, s + i, k);
        o += k;
        i += k;
    }
    dst[o] = '\0';
    return dst;
}
