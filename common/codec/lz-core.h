/* Match-search core shared by the LZ and GLZ encoders (lz-enc.c,
 * glz-enc.c). Both streams have the same literal runs, the same 3-bit
 * length code with 255-byte extensions and the same greedy search over
 * 32-bit pixel keys: runs (distance 1) first, then a hash probe. What
 * differs is where a probe looks (LZ: one table of positions within the
 * image; GLZ: two tables of positions in the whole dictionary window) and
 * how a reference is written, so those two are hooks of lz_core_pass().
 * Everything here is static inline: each encoder instantiates the pass with
 * its own hooks and constant hash sizes, as if written out. */
#pragma once

#include <glib.h>

#include "common/codec/codec.h"

#define LZ_CORE_MAX_COPY 32            /* literals per control byte */

/* What a pass's keys are and how literals are written. The values are the
 * bias subtracted from a match length in its code, so keep them in order. */
typedef enum {
    LZ_LIT_RGB = 0,    /* 0x00RRGGBB keys, 3 bytes B,G,R */
    LZ_LIT_RGB16 = 1,  /* expanded x1r5g5b5 keys, 2 bytes high first */
    LZ_LIT_BYTE = 2,   /* byte keys (palette index, alpha), 1 byte */
} LzLit;

/* Where a match points: within the image (image_dist 0, dist positions
 * back) or at pixel ofs of the image image_dist images back (GLZ only). */
typedef struct {
    uint32_t dist;
    uint32_t ofs;
    uint64_t image_dist;
} LzRef;

/* Probes position i (i + span <= n) of k[0..n): updates the encoder's hash
 * tables and returns a match length the pass should take (0: none), with
 * its reference in *ref. */
typedef uint32_t (*LzCoreProbe)(void *ctx, const uint32_t *k, uint32_t i, uint32_t n,
                                LzRef *ref);
/* Writes a match of len keys at ref. */
typedef void (*LzCorePutMatch)(CodecBuf *out, uint32_t len, LzLit kind, const LzRef *ref);

static inline uint32_t lz_core_hash_pair(uint32_t a, uint32_t b, unsigned bits)
{
    return ((a * 2654435761u) ^ (b * 2246822519u)) >> (32 - bits);
}

/* Hash of the keys at i for a table of 2^bits slots. Byte keys have only
 * 65536 pairs, far too few to find the right earlier position: four of
 * them are hashed instead. */
static inline uint32_t lz_core_hash_at(const uint32_t *k, uint32_t i, bool bytes, unsigned bits)
{
    if (bytes) {
        uint32_t v = k[i] | k[i + 1] << 8 | k[i + 2] << 16 | k[i + 3] << 24;
        return (v * 2654435761u) >> (32 - bits);
    }
    return lz_core_hash_pair(k[i], k[i + 1], bits);
}

/* Keys a pass must have left at i before it hashes there. */
static inline uint32_t lz_core_span(LzLit kind)
{
    return kind == LZ_LIT_BYTE ? 4 : 2;
}

/* Shortest match worth its header: 2 pixels, 3 bytes. */
static inline uint32_t lz_core_min_len(LzLit kind)
{
    return kind == LZ_LIT_BYTE ? 3 : 2;
}

/* How many of a[0..max) equal b[0..max) from the start. */
static inline uint32_t lz_core_match_len(const uint32_t *a, const uint32_t *b, uint32_t max)
{
    size_t len = 0;            /* a 64-bit index keeps the loop to one induction variable */
    while (len < max && a[len] == b[len]) {
        len++;
    }
    return (uint32_t)len;
}

/* Literal runs for keys k[from..to). */
static inline void lz_core_put_literals(CodecBuf *out, const uint32_t *k, uint32_t from,
                                        uint32_t to, LzLit kind)
{
    while (from < to) {
        uint32_t cnt = MIN(to - from, (uint32_t)LZ_CORE_MAX_COPY);
        codec_buf_reserve(out, 1 + 3 * (size_t)cnt);
        uint8_t *p = out->data + out->len;
        *p++ = (uint8_t)(cnt - 1);
        for (uint32_t i = from; i < from + cnt; i++) {
            uint32_t v = k[i];
            switch (kind) {
            case LZ_LIT_RGB:
                *p++ = (uint8_t)v;
                *p++ = (uint8_t)(v >> 8);
                *p++ = (uint8_t)(v >> 16);
                break;
            case LZ_LIT_RGB16: {
                /* back from the expanded key to x1r5g5b5 */
                uint32_t v16 = ((v >> 19) & 0x1f) << 10 | ((v >> 11) & 0x1f) << 5 |
                               ((v >> 3) & 0x1f);
                *p++ = (uint8_t)(v16 >> 8);
                *p++ = (uint8_t)v16;
                break;
            }
            case LZ_LIT_BYTE:
                *p++ = (uint8_t)v;
                break;
            }
        }
        out->len = (size_t)(p - out->data);
        from += cnt;
    }
}

/* The control byte of a match of len keys (length code in the top three
 * bits, low5 below) and the code's extension bytes. `extra` is how many
 * bytes the caller writes after them. */
static inline void lz_core_put_len(CodecBuf *out, uint32_t len, LzLit kind, uint8_t low5,
                                   size_t extra)
{
    uint32_t code = len - (uint32_t)kind;
    codec_buf_reserve(out, 2 + extra + code / 255);
    codec_buf_put_u8(out, (uint8_t)(MIN(code, 7u) << 5 | low5));
    if (code >= 7) {
        uint32_t rem = code - 7;
        for (; rem >= 255; rem -= 255) {
            codec_buf_put_u8(out, 255);
        }
        codec_buf_put_u8(out, (uint8_t)rem);
    }
}

/* One greedy pass over keys k[0..n): runs of the previous key as matches
 * at distance 1, else whatever `probe` finds, else a literal. With
 * `sparse`, incompressible stretches (photos, noise) are probed more
 * sparsely, down to every 8th position, so they cost little CPU; 32 dense
 * probes after any match still meet every 8th position of an earlier
 * copy. Callers pass constant hooks (the probe G_ALWAYS_INLINE) and a
 * constant kind, one call per kind: each instance then compiles to the
 * loop one would write by hand (callgrind: within 2% of the two separate
 * loops this replaced, docs/codecs.md). */
G_ALWAYS_INLINE static inline void lz_core_pass(const uint32_t *k, uint32_t n, LzLit kind,
                                                bool sparse, LzCoreProbe probe,
                                                LzCorePutMatch put_match, void *ctx,
                                                CodecBuf *out)
{
    uint32_t min_len = lz_core_min_len(kind);
    uint32_t span = lz_core_span(kind);
    uint32_t lit = 0, i = 0;
    uint32_t misses = 0;       /* failed probes since the last match */

    while (i < n) {
        if (i > 0 && k[i] == k[i - 1]) {
            uint32_t r = 1;
            while (i + r < n && k[i + r] == k[i - 1]) {
                r++;
            }
            if (r >= min_len) {
                lz_core_put_literals(out, k, lit, i, kind);
                put_match(out, r, kind, &(LzRef){ .dist = 1 });
                i += r;
                lit = i;
                misses = 0;
                continue;
            }
        }
        if (i + span <= n) {
            LzRef ref = { 0 };
            uint32_t len = probe(ctx, k, i, n, &ref);
            if (len) {
                lz_core_put_literals(out, k, lit, i, kind);
                put_match(out, len, kind, &ref);
                i += len;
                lit = i;
                misses = 0;
                continue;
            }
        }
        i += sparse ? 1 + MIN(misses >> 5, 7u) : 1;
        misses++;
    }
    lz_core_put_literals(out, k, lit, n, kind);
}
