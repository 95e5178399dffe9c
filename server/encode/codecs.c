/* One RedEncoder per codec: each wraps a codec core from common/codec and
 * frames its stream as the image body that follows the descriptor. Called on
 * the owning channel client's thread. */
#include <string.h>
#include <glib.h>
#include <zlib.h>

#include "server/encode/encoder.h"
#include "common/codec/lz4-codec.h"
#include "common/codec/lz-codec.h"
#include "common/codec/quic-codec.h"
#include "common/codec/jpeg-codec.h"

/* Reserves a u32 at the end of out for a size written later; returns its offset. */
static size_t reserve_u32(CodecBuf *out)
{
    size_t at = out->len;
    codec_buf_put_u32le(out, 0);
    return at;
}

static void patch_size(CodecBuf *out, size_t at)
{
    size_t n = out->len - at - 4;
    g_assert(n <= UINT32_MAX);
    codec_put_u32le(out->data + at, (uint32_t)n);
}

/* ---- raw BITMAP: the reference path ---- */

/* Any well-formed bitmap whose body fits a SPICE message (u32 sizes). */
static bool raw_can_encode(const RedEncoder *enc, const CodecImage *img)
{
    return codec_image_sane(img) &&
           (uint64_t)img->width * codec_fmt_bpp(img->fmt) * img->height <= UINT32_MAX - 64;
}

static bool raw_encode(RedEncoder *enc, const CodecImage *img, RedEncOutput *out)
{
    size_t row = (size_t)img->width * codec_fmt_bpp(img->fmt);
    CodecBuf *b = &out->body;

    codec_buf_put_u8(b, img->fmt);
    codec_buf_put_u8(b, img->top_down ? SPICE_BITMAP_FLAGS_TOP_DOWN : 0);
    codec_buf_put_u32le(b, img->width);
    codec_buf_put_u32le(b, img->height);
    codec_buf_put_u32le(b, (uint32_t)row);        /* rows go packed */
    out->palette_slot = img->fmt == SPICE_BITMAP_FMT_8BIT ? (int32_t)b->len : -1;
    codec_buf_put_u32le(b, 0);
    codec_buf_reserve(b, row * img->height);
    for (uint32_t y = 0; y < img->height; y++) {
        memcpy(b->data + b->len, codec_image_row(img, y), row);
        b->len += row;
    }
    out->image_type = SPICE_IMAGE_TYPE_BITMAP;
    return true;
}

static void plain_destroy(RedEncoder *enc)
{
    g_free(enc);
}

static const RedEncoderOps raw_ops = {
    .name = "raw", .codec = RED_CODEC_RAW,
    .can_encode = raw_can_encode, .encode = raw_encode, .destroy = plain_destroy,
};

RedEncoder *red_encoder_raw_new(void)
{
    RedEncoder *enc = g_new0(RedEncoder, 1);
    enc->ops = &raw_ops;
    return enc;
}

/* ---- LZ4 ---- */

typedef struct {
    RedEncoder base;
    Lz4Encoder *lz4;           /* owned */
} RedLz4Encoder;

static bool lz4_vt_can(const RedEncoder *enc, const CodecImage *img)
{
    return lz4_can_encode(img);
}

static bool lz4_vt_encode(RedEncoder *enc, const CodecImage *img, RedEncOutput *out)
{
    RedLz4Encoder *e = (RedLz4Encoder *)enc;
    size_t at = reserve_u32(&out->body);
    if (!lz4_encode(e->lz4, img, &out->body)) {
        return false;
    }
    patch_size(&out->body, at);
    out->image_type = SPICE_IMAGE_TYPE_LZ4;
    return true;
}

static void lz4_vt_destroy(RedEncoder *enc)
{
    lz4_encoder_free(((RedLz4Encoder *)enc)->lz4);
    g_free(enc);
}

static const RedEncoderOps lz4_ops = {
    .name = "lz4", .codec = RED_CODEC_LZ4,
    .can_encode = lz4_vt_can, .encode = lz4_vt_encode, .destroy = lz4_vt_destroy,
};

RedEncoder *red_encoder_lz4_new(void)
{
    RedLz4Encoder *e = g_new0(RedLz4Encoder, 1);
    e->base.ops = &lz4_ops;
    e->lz4 = lz4_encoder_new();
    return &e->base;
}

/* ---- LZ (LZ_RGB, LZ_PLT) ---- */

typedef struct {
    RedEncoder base;
    LzEncoder *lz;             /* owned */
} RedLzEncoder;

static bool lz_vt_can(const RedEncoder *enc, const CodecImage *img)
{
    return lz_can_encode(img);
}

static bool lz_vt_encode(RedEncoder *enc, const CodecImage *img, RedEncOutput *out)
{
    RedLzEncoder *e = (RedLzEncoder *)enc;
    CodecBuf *b = &out->body;
    size_t at;

    if (img->fmt == SPICE_BITMAP_FMT_8BIT) {
        codec_buf_put_u8(b, 0);                   /* flags: palette by pointer */
        at = reserve_u32(b);
        out->palette_slot = (int32_t)b->len;
        codec_buf_put_u32le(b, 0);
        size_t start = b->len;
        if (!lz_encode(e->lz, img, b)) {
            return false;
        }
        codec_put_u32le(b->data + at, (uint32_t)(b->len - start));
        out->image_type = SPICE_IMAGE_TYPE_LZ_PLT;
        return true;
    }
    at = reserve_u32(b);
    if (!lz_encode(e->lz, img, b)) {
        return false;
    }
    patch_size(b, at);
    out->image_type = SPICE_IMAGE_TYPE_LZ_RGB;
    return true;
}

static void lz_vt_destroy(RedEncoder *enc)
{
    lz_encoder_free(((RedLzEncoder *)enc)->lz);
    g_free(enc);
}

static const RedEncoderOps lz_ops = {
    .name = "lz", .codec = RED_CODEC_LZ,
    .can_encode = lz_vt_can, .encode = lz_vt_encode, .destroy = lz_vt_destroy,
};

RedEncoder *red_encoder_lz_new(void)
{
    RedLzEncoder *e = g_new0(RedLzEncoder, 1);
    e->base.ops = &lz_ops;
    e->lz = lz_encoder_new();
    return &e->base;
}

/* ---- QUIC ---- */

typedef struct {
    RedEncoder base;
    QuicEncoder *quic;         /* owned */
} RedQuicEncoder;

static bool quic_vt_can(const RedEncoder *enc, const CodecImage *img)
{
    return quic_can_encode(img);
}

static bool quic_vt_encode(RedEncoder *enc, const CodecImage *img, RedEncOutput *out)
{
    RedQuicEncoder *e = (RedQuicEncoder *)enc;
    size_t at = reserve_u32(&out->body);
    if (!quic_encode(e->quic, img, &out->body)) {
        return false;
    }
    patch_size(&out->body, at);
    out->image_type = SPICE_IMAGE_TYPE_QUIC;
    return true;
}

static void quic_vt_destroy(RedEncoder *enc)
{
    quic_encoder_free(((RedQuicEncoder *)enc)->quic);
    g_free(enc);
}

static const RedEncoderOps quic_ops = {
    .name = "quic", .codec = RED_CODEC_QUIC,
    .can_encode = quic_vt_can, .encode = quic_vt_encode, .destroy = quic_vt_destroy,
};

RedEncoder *red_encoder_quic_new(void)
{
    RedQuicEncoder *e = g_new0(RedQuicEncoder, 1);
    e->base.ops = &quic_ops;
    e->quic = quic_encoder_new();
    return &e->base;
}

/* ---- GLZ and ZLIB_GLZ ---- */

typedef struct {
    RedEncoder base;
    GlzDictionary *dict;       /* ref held */
    CodecBuf glz;              /* owned scratch (ZLIB_GLZ) */
    z_stream zs;               /* ZLIB_GLZ deflate state */
    bool zs_ready;
} RedGlzEncoder;

static bool glz_vt_can(const RedEncoder *enc, const CodecImage *img)
{
    return glz_can_encode(((const RedGlzEncoder *)enc)->dict, img);
}

static bool glz_vt_encode(RedEncoder *enc, const CodecImage *img, RedEncOutput *out)
{
    RedGlzEncoder *e = (RedGlzEncoder *)enc;
    size_t at = reserve_u32(&out->body);
    if (!glz_encode(e->dict, img, &out->body)) {
        return false;
    }
    patch_size(&out->body, at);
    out->image_type = SPICE_IMAGE_TYPE_GLZ_RGB;
    return true;
}

/* Deflates e->glz (zlib format, as decode-zlib.c inflates) after the two
 * size words; false if it does not come out smaller. */
static bool deflate_glz(RedGlzEncoder *e, CodecBuf *b)
{
    size_t start = b->len;
    uLong bound = deflateBound(&e->zs, (uLong)e->glz.len);
    codec_buf_reserve(b, 8 + bound);
    codec_buf_put_u32le(b, (uint32_t)e->glz.len);
    codec_buf_put_u32le(b, 0);
    deflateReset(&e->zs);
    e->zs.next_in = e->glz.data;
    e->zs.avail_in = (uInt)e->glz.len;
    e->zs.next_out = b->data + b->len;
    e->zs.avail_out = (uInt)bound;
    int rc = deflate(&e->zs, Z_FINISH);
    g_assert(rc == Z_STREAM_END);
    size_t n = bound - e->zs.avail_out;
    if (n >= e->glz.len) {
        b->len = start;
        return false;
    }
    codec_put_u32le(b->data + start + 4, (uint32_t)n);
    b->len += n;
    return true;
}

static bool zlib_glz_vt_encode(RedEncoder *enc, const CodecImage *img, RedEncOutput *out)
{
    RedGlzEncoder *e = (RedGlzEncoder *)enc;
    e->glz.len = 0;
    if (!glz_encode(e->dict, img, &e->glz)) {
        return false;
    }
    if (e->glz.len > RED_ENC_MIN_GLZ_SIZE_FOR_ZLIB && e->glz.len <= UINT32_MAX &&
        deflate_glz(e, &out->body)) {
        out->image_type = SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB;
        return true;
    }
    /* the image is in the dictionary now: it must go out as plain GLZ */
    codec_buf_put_u32le(&out->body, (uint32_t)e->glz.len);
    codec_buf_reserve(&out->body, e->glz.len);
    memcpy(out->body.data + out->body.len, e->glz.data, e->glz.len);
    out->body.len += e->glz.len;
    out->image_type = SPICE_IMAGE_TYPE_GLZ_RGB;
    out->codec = RED_CODEC_GLZ;
    return true;
}

static void glz_vt_destroy(RedEncoder *enc)
{
    RedGlzEncoder *e = (RedGlzEncoder *)enc;
    if (e->zs_ready) {
        deflateEnd(&e->zs);
    }
    codec_buf_clear(&e->glz);
    glz_dictionary_unref(e->dict);
    g_free(e);
}

static const RedEncoderOps glz_ops = {
    .name = "glz", .codec = RED_CODEC_GLZ,
    .can_encode = glz_vt_can, .encode = glz_vt_encode, .destroy = glz_vt_destroy,
};

static const RedEncoderOps zlib_glz_ops = {
    .name = "zlib-glz", .codec = RED_CODEC_ZLIB_GLZ,
    .can_encode = glz_vt_can, .encode = zlib_glz_vt_encode, .destroy = glz_vt_destroy,
};

RedEncoder *red_encoder_glz_new(GlzDictionary *dict)
{
    RedGlzEncoder *e = g_new0(RedGlzEncoder, 1);
    e->base.ops = &glz_ops;
    e->dict = glz_dictionary_ref(dict);
    return &e->base;
}

RedEncoder *red_encoder_zlib_glz_new(GlzDictionary *dict)
{
    RedGlzEncoder *e = g_new0(RedGlzEncoder, 1);
    e->base.ops = &zlib_glz_ops;
    e->dict = glz_dictionary_ref(dict);
    int rc = deflateInit(&e->zs, RED_ENC_ZLIB_LEVEL);
    g_assert(rc == Z_OK);
    e->zs_ready = true;
    return &e->base;
}

/* ---- JPEG, JPEG_ALPHA ---- */

typedef struct {
    RedEncoder base;
    int quality;
    LzEncoder *lz;             /* owned: alpha plane of JPEG_ALPHA */
} RedJpegEncoder;

static bool jpeg_vt_can(const RedEncoder *enc, const CodecImage *img)
{
    return jpeg_can_encode(img);
}

static bool jpeg_vt_encode(RedEncoder *enc, const CodecImage *img, RedEncOutput *out)
{
    RedJpegEncoder *e = (RedJpegEncoder *)enc;
    CodecBuf *b = &out->body;

    out->lossy = true;
    if (img->fmt != SPICE_BITMAP_FMT_RGBA) {
        size_t at = reserve_u32(b);
        if (!jpeg_encode(img, e->quality, b)) {
            return false;
        }
        patch_size(b, at);
        out->image_type = SPICE_IMAGE_TYPE_JPEG;
        return true;
    }
    /* JPEG_ALPHA: the LZ alpha plane's top_down must equal the flag */
    codec_buf_put_u8(b, img->top_down ? SPICE_JPEG_ALPHA_FLAGS_TOP_DOWN : 0);
    size_t jpeg_at = reserve_u32(b);
    size_t data_at = reserve_u32(b);
    size_t start = b->len;
    if (!jpeg_encode(img, e->quality, b)) {
        return false;
    }
    codec_put_u32le(b->data + jpeg_at, (uint32_t)(b->len - start));
    if (!lz_encode_alpha(e->lz, img, b)) {
        return false;
    }
    codec_put_u32le(b->data + data_at, (uint32_t)(b->len - start));
    out->image_type = SPICE_IMAGE_TYPE_JPEG_ALPHA;
    return true;
}

static void jpeg_vt_destroy(RedEncoder *enc)
{
    lz_encoder_free(((RedJpegEncoder *)enc)->lz);
    g_free(enc);
}

static const RedEncoderOps jpeg_ops = {
    .name = "jpeg", .codec = RED_CODEC_JPEG,
    .can_encode = jpeg_vt_can, .encode = jpeg_vt_encode, .destroy = jpeg_vt_destroy,
};

RedEncoder *red_encoder_jpeg_new(int quality)
{
    RedJpegEncoder *e = g_new0(RedJpegEncoder, 1);
    e->base.ops = &jpeg_ops;
    e->quality = quality > 0 && quality <= 100 ? quality : RED_ENC_DEFAULT_JPEG_QUALITY;
    e->lz = lz_encoder_new();
    return &e->base;
}
