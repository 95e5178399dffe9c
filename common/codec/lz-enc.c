/* LZ encoder (LZ_RGB, LZ_PLT, and the XXXA alpha plane of JPEG_ALPHA).
 *
 * Design: pixels are first flattened into 32-bit keys (one pass, which also
 * absorbs padded strides and bottom-up rows), then a single greedy pass
 * finds runs (distance 1) and hash matches over pairs of keys. The hash
 * table is never cleared: entries carry a running position base, so an
 * entry from an earlier image simply fails the range check. */
#include <string.h>
#include <glib.h>

#include "common/codec/lz-codec.h"

#define LZ_HASH_BITS 14
#define LZ_MAX_COPY 32                 /* literals per control byte */
#define LZ_NEAR_LIMIT 8191             /* distance - 1 below this: 13-bit form */
#define LZ_MAX_FAR (65535 + 8191 - 1)  /* upstream MAX_FARDISTANCE */

typedef enum {
    LIT_RGB,       /* 3 bytes B,G,R; length bias 1 */
    LIT_RGB16,     /* 2 bytes, high byte first; length bias 2 */
    LIT_BYTE,      /* 1 byte (palette index or alpha); length bias 3 */
} LitKind;

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

static inline uint32_t hash2(uint32_t a, uint32_t b)
{
    return ((a * 2654435761u) ^ (b * 2246822519u)) >> (32 - LZ_HASH_BITS);
}

/* Byte-valued keys (palette indices, alpha) have only 65536 pairs, far too
 * few to find the right earlier position: hash four of them instead. */
static inline uint32_t hash_at(const uint32_t *k, uint32_t i, bool bytes)
{
    if (bytes) {
        uint32_t v = k[i] | k[i + 1] << 8 | k[i + 2] << 16 | k[i + 3] << 24;
        return (v * 2654435761u) >> (32 - LZ_HASH_BITS);
    }
    return hash2(k[i], k[i + 1]);
}

static void put_literals(CodecBuf *out, const uint32_t *k, uint32_t from, uint32_t to, LitKind kind)
{
    while (from < to) {
        uint32_t cnt = MIN(to - from, (uint32_t)LZ_MAX_COPY);
        codec_buf_reserve(out, 1 + 3 * (size_t)cnt);
        uint8_t *p = out->data + out->len;
        *p++ = (uint8_t)(cnt - 1);
        for (uint32_t i = from; i < from + cnt; i++) {
            uint32_t v = k[i];
            switch (kind) {
            case LIT_RGB:
                *p++ = (uint8_t)v;
                *p++ = (uint8_t)(v >> 8);
                *p++ = (uint8_t)(v >> 16);
                break;
            case LIT_RGB16: {
                /* back from the expanded key to x1r5g5b5 */
                uint32_t v16 = ((v >> 19) & 0x1f) << 10 | ((v >> 11) & 0x1f) << 5 | ((v >> 3) & 0x1f);
                *p++ = (uint8_t)(v16 >> 8);
                *p++ = (uint8_t)v16;
                break;
            }
            case LIT_BYTE:
                *p++ = (uint8_t)v;
                break;
            }
        }
        out->len = (size_t)(p - out->data);
        from += cnt;
    }
}

static void put_match(CodecBuf *out, uint32_t len, uint32_t dist, uint32_t bias)
{
    uint32_t code = len - bias + 1;
    uint32_t d = dist - 1;
    bool near = d < LZ_NEAR_LIMIT;

    codec_buf_reserve(out, 8 + code / 255);
    codec_buf_put_u8(out, (uint8_t)((MIN(code, 7u) << 5) | (near ? d >> 8 : 31)));
    if (code >= 7) {
        uint32_t rem = code - 7;
        for (; rem >= 255; rem -= 255) {
            codec_buf_put_u8(out, 255);
        }
        codec_buf_put_u8(out, (uint8_t)rem);
    }
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
static void lz_pass(LzEncoder *enc, const uint32_t *k, uint32_t n, LitKind kind, CodecBuf *out)
{
    static const uint32_t bias[] = { [LIT_RGB] = 1, [LIT_RGB16] = 2, [LIT_BYTE] = 3 };
    /* shortest match worth its header: 2 pixels, 3 bytes */
    uint32_t min_len = kind == LIT_BYTE ? 3 : 2;
    uint32_t lit = 0, i = 0;
    bool bytes = kind == LIT_BYTE;
    uint32_t span = bytes ? 4 : 2;

    if (enc->base > UINT32_MAX - n - 1) {
        memset(enc->htab, 0, sizeof(enc->htab));
        enc->base = 1;
    }
    uint32_t base = enc->base;

    while (i < n) {
        if (i > 0 && k[i] == k[i - 1]) {
            uint32_t r = 1;
            while (i + r < n && k[i + r] == k[i - 1]) {
                r++;
            }
            if (r >= min_len) {
                put_literals(out, k, lit, i, kind);
                put_match(out, r, 1, bias[kind]);
                i += r;
                lit = i;
                continue;
            }
        }
        if (i + span <= n) {
            uint32_t h = hash_at(k, i, bytes);
            uint32_t cand = enc->htab[h];
            enc->htab[h] = base + i;
            if (cand >= base && cand - base < i) {
                uint32_t c = cand - base;
                uint32_t dist = i - c;
                if (dist <= LZ_MAX_FAR && k[c] == k[i]) {
                    uint32_t len = 0;
                    while (i + len < n && k[c + len] == k[i + len]) {
                        len++;
                    }
                    uint32_t need = dist > LZ_NEAR_LIMIT ? min_len + 1 : min_len;
                    if (len >= need) {
                        put_literals(out, k, lit, i, kind);
                        put_match(out, len, dist, bias[kind]);
                        /* index the match's tail so the next repeat finds it */
                        if (len > 4 && i + len + span <= n) {
                            uint32_t t = i + len - 2;
                            enc->htab[hash_at(k, t, bytes)] = base + t;
                        }
                        i += len;
                        lit = i;
                        continue;
                    }
                }
            }
        }
        i++;
    }
    put_literals(out, k, lit, n, kind);
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
        lz_pass(enc, enc->keys, n, LIT_BYTE, out);
        break;
    case SPICE_BITMAP_FMT_16BIT:
        put_header(out, LZ_TYPE_RGB16, img, img->width * 2);
        lz_pass(enc, enc->keys, n, LIT_RGB16, out);
        break;
    case SPICE_BITMAP_FMT_24BIT:
        put_header(out, LZ_TYPE_RGB24, img, img->width * 3);
        lz_pass(enc, enc->keys, n, LIT_RGB, out);
        break;
    case SPICE_BITMAP_FMT_32BIT:
        put_header(out, LZ_TYPE_RGB32, img, img->width * 4);
        lz_pass(enc, enc->keys, n, LIT_RGB, out);
        break;
    case SPICE_BITMAP_FMT_RGBA:
        put_header(out, LZ_TYPE_RGBA, img, img->width * 4);
        lz_pass(enc, enc->keys, n, LIT_RGB, out);
        for (uint32_t i = 0; i < n; i++) {
            enc->keys[i] = enc->alpha[i];
        }
        lz_pass(enc, enc->keys, n, LIT_BYTE, out);
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
    lz_pass(enc, enc->keys, n, LIT_BYTE, out);
    return true;
}
