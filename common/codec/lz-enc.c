/* LZ encoder (LZ_RGB, LZ_PLT, and the XXXA alpha plane of JPEG_ALPHA).
 *
 * Design: pixels are first flattened into 32-bit keys (one pass, which also
 * absorbs padded strides and bottom-up rows), then a single greedy pass
 * finds runs (distance 1) and hash matches over pairs of keys; the pass
 * and the literal/length coding are lz-core.h's, shared with GLZ. The hash
 * table is never cleared: entries carry a running position base, so an
 * entry from an earlier image simply fails the range check. */
#include <string.h>
#include <glib.h>

#include "common/codec/lz-codec.h"
#include "common/codec/lz-core.h"

#define LZ_HASH_BITS 14
#define LZ_NEAR_LIMIT 8191             /* distance - 1 below this: 13-bit form */
#define LZ_MAX_FAR (65535 + 8191 - 1)  /* upstream MAX_FARDISTANCE */

struct LzEncoder {
    uint32_t htab[1u << LZ_HASH_BITS];   /* base + position of a key pair */
    uint32_t base;                       /* added to positions of the current pass */
    uint32_t *keys;                      /* owned scratch */
    uint8_t *alpha;                      /* owned scratch */
    size_t cap;                          /* pixels keys/alpha can hold */
};

LzEncoder *lz_encoder_new(void)
{
    LzEncoder *enc = g_new0(LzEncoder, 1);
    enc->base = 1;
    return enc;
}

void lz_encoder_free(LzEncoder *enc)
{
    if (!enc) {
        return;
    }
    g_free(enc->keys);
    g_free(enc->alpha);
    g_free(enc);
}

bool lz_can_encode(const CodecImage *img)
{
    return codec_image_valid(img);
}

void lz_image_keys(const CodecImage *img, uint32_t *keys, uint8_t *alpha)
{
    uint32_t w = img->width;
    for (uint32_t y = 0; y < img->height; y++) {
        const uint8_t *s = codec_image_row(img, y);
        uint32_t *k = keys + (size_t)y * w;
        switch (img->fmt) {
        case SPICE_BITMAP_FMT_8BIT:
            for (uint32_t x = 0; x < w; x++) {
                k[x] = s[x];
            }
            break;
        case SPICE_BITMAP_FMT_16BIT:
            for (uint32_t x = 0; x < w; x++) {
                k[x] = codec_rgb16_to_32((uint16_t)(s[2 * x] | s[2 * x + 1] << 8));
            }
            break;
        case SPICE_BITMAP_FMT_24BIT:
            for (uint32_t x = 0; x < w; x++) {
                k[x] = (uint32_t)s[3 * x] | s[3 * x + 1] << 8 | (uint32_t)s[3 * x + 2] << 16;
            }
            break;
        default:
            for (uint32_t x = 0; x < w; x++) {
                uint32_t v = codec_get_u32le(s + 4 * x);
                k[x] = v & 0xffffff;
            }
            if (alpha) {
                uint8_t *a = alpha + (size_t)y * w;
                for (uint32_t x = 0; x < w; x++) {
                    a[x] = s[4 * x + 3];
                }
            }
            break;
        }
    }
}

/* One pass's state for the probe hook. */
typedef struct {
    LzEncoder *enc;
    uint32_t base;             /* htab value of position 0 */
    LzLit kind;
} LzPass;

/* The probe of lz_core_pass: one candidate per position, from a table of
 * the latest position of each key pair (four byte keys). */
G_ALWAYS_INLINE static inline uint32_t lz_probe(void *ctx, const uint32_t *k, uint32_t i,
                                                uint32_t n, LzRef *ref)
{
    LzPass *p = ctx;
    uint32_t *htab = p->enc->htab;
    bool bytes = p->kind == LZ_LIT_BYTE;
    uint32_t h = lz_core_hash_at(k, i, bytes, LZ_HASH_BITS);
    uint32_t cand = htab[h];
    htab[h] = p->base + i;
    if (cand < p->base || cand - p->base >= i) {
        return 0;
    }
    uint32_t c = cand - p->base;
    uint32_t dist = i - c;
    if (dist > LZ_MAX_FAR || k[c] != k[i]) {
        return 0;
    }
    uint32_t len = lz_core_match_len(k + c, k + i, n - i);
    /* a far match has a two-byte longer header */
    uint32_t min_len = lz_core_min_len(p->kind);
    if (len < (dist > LZ_NEAR_LIMIT ? min_len + 1 : min_len)) {
        return 0;
    }
    /* index the match's tail so the next repeat finds it */
    if (len > 4 && i + len + lz_core_span(p->kind) <= n) {
        uint32_t t = i + len - 2;
        htab[lz_core_hash_at(k, t, bytes, LZ_HASH_BITS)] = p->base + t;
    }
    ref->dist = dist;
    return len;
}

/* The match writer of lz_core_pass: distance - 1 in 13 bits, or 255 and
 * 16 more bits past LZ_NEAR_LIMIT. */
static void lz_put_match(CodecBuf *out, uint32_t len, LzLit kind, const LzRef *ref)
{
    uint32_t d = ref->dist - 1;
    bool near = d < LZ_NEAR_LIMIT;

    lz_core_put_len(out, len, kind, (uint8_t)(near ? d >> 8 : 31), 3);
    if (near) {
        codec_buf_put_u8(out, (uint8_t)d);
    } else {
        d -= LZ_NEAR_LIMIT;
        codec_buf_put_u8(out, 255);
        codec_buf_put_u8(out, (uint8_t)(d >> 8));
        codec_buf_put_u8(out, (uint8_t)d);
    }
}

/* One LZ pass over n keys. */
static void lz_pass(LzEncoder *enc, const uint32_t *k, uint32_t n, LzLit kind, CodecBuf *out)
{
    if (enc->base > UINT32_MAX - n - 1) {
        memset(enc->htab, 0, sizeof(enc->htab));
        enc->base = 1;
    }
    LzPass pass = { .enc = enc, .base = enc->base, .kind = kind };
    /* one instance per kind, so the hash and literal choices are constants */
    switch (kind) {
    case LZ_LIT_RGB:
        lz_core_pass(k, n, LZ_LIT_RGB, false, lz_probe, lz_put_match, &pass, out);
        break;
    case LZ_LIT_RGB16:
        lz_core_pass(k, n, LZ_LIT_RGB16, false, lz_probe, lz_put_match, &pass, out);
        break;
    case LZ_LIT_BYTE:
        lz_core_pass(k, n, LZ_LIT_BYTE, false, lz_probe, lz_put_match, &pass, out);
        break;
    }
    enc->base += n;
}

static void put_header(CodecBuf *out, uint32_t type, const CodecImage *img, uint32_t stride)
{
    codec_buf_put_u32be(out, LZ_MAGIC);
    codec_buf_put_u32be(out, LZ_VERSION);
    codec_buf_put_u32be(out, type);
    codec_buf_put_u32be(out, img->width);
    codec_buf_put_u32be(out, img->height);
    codec_buf_put_u32be(out, stride);
    codec_buf_put_u32be(out, img->top_down ? 1 : 0);
}

static void ensure_scratch(LzEncoder *enc, size_t n)
{
    if (enc->cap < n) {
        g_free(enc->keys);
        g_free(enc->alpha);
        enc->keys = g_new(uint32_t, n);
        enc->alpha = g_new(uint8_t, n);
        enc->cap = n;
    }
}

bool lz_encode(LzEncoder *enc, const CodecImage *img, CodecBuf *out)
{
    if (!lz_can_encode(img)) {
        return false;
    }
    uint32_t n = img->width * img->height;
    ensure_scratch(enc, n);
    lz_image_keys(img, enc->keys, img->fmt == SPICE_BITMAP_FMT_RGBA ? enc->alpha : NULL);

    switch (img->fmt) {
    case SPICE_BITMAP_FMT_8BIT:
        /* the client indexes the palette without a bounds check */
        for (uint32_t i = 0; i < n; i++) {
            if (enc->keys[i] >= img->palette_n) {
                return false;
            }
        }
        put_header(out, LZ_TYPE_PLT8, img, img->width);
        lz_pass(enc, enc->keys, n, LZ_LIT_BYTE, out);
        break;
    case SPICE_BITMAP_FMT_16BIT:
        put_header(out, LZ_TYPE_RGB16, img, img->width * 2);
        lz_pass(enc, enc->keys, n, LZ_LIT_RGB16, out);
        break;
    case SPICE_BITMAP_FMT_24BIT:
        put_header(out, LZ_TYPE_RGB24, img, img->width * 3);
        lz_pass(enc, enc->keys, n, LZ_LIT_RGB, out);
        break;
    case SPICE_BITMAP_FMT_32BIT:
        put_header(out, LZ_TYPE_RGB32, img, img->width * 4);
        lz_pass(enc, enc->keys, n, LZ_LIT_RGB, out);
        break;
    case SPICE_BITMAP_FMT_RGBA:
        put_header(out, LZ_TYPE_RGBA, img, img->width * 4);
        lz_pass(enc, enc->keys, n, LZ_LIT_RGB, out);
        for (uint32_t i = 0; i < n; i++) {
            enc->keys[i] = enc->alpha[i];
        }
        lz_pass(enc, enc->keys, n, LZ_LIT_BYTE, out);
        break;
    default:
        return false;
    }
    return true;
}

bool lz_encode_alpha(LzEncoder *enc, const CodecImage *img, CodecBuf *out)
{
    if (!codec_image_valid(img) || img->fmt != SPICE_BITMAP_FMT_RGBA) {
        return false;
    }
    uint32_t n = img->width * img->height;
    ensure_scratch(enc, n);
    for (uint32_t y = 0; y < img->height; y++) {
        const uint8_t *s = codec_image_row(img, y);
        for (uint32_t x = 0; x < img->width; x++) {
            enc->keys[(size_t)y * img->width + x] = s[4 * x + 3];
        }
    }
    put_header(out, LZ_TYPE_XXXA, img, img->width * 4);
    lz_pass(enc, enc->keys, n, LZ_LIT_BYTE, out);
    return true;
}
