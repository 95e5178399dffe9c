/* The encoder set of one display channel client: input normalisation, the
 * RED_ENCODER_DISABLE switch, and the fallback chain around the codecs.
 * Owned and called by the channel client's thread. */
#include <string.h>
#include <stdlib.h>
#include <glib.h>

#include "server/encode/encoder.h"

struct RedEncoders {
    RedEncPolicy policy;
    GlzDictionary *dict;                       /* ref held, may be NULL */
    RedEncoder *codec[RED_CODEC_COUNT];        /* owned; NULL when not built */
    uint32_t disabled;                         /* 1 << RedEncCodec */
    uint8_t *convert;                          /* owned scratch for RGB565 input */
    size_t convert_cap;
};

static const char *const codec_names[RED_CODEC_COUNT] = {
    [RED_CODEC_RAW] = "raw",
    [RED_CODEC_LZ4] = "lz4",
    [RED_CODEC_LZ] = "lz",
    [RED_CODEC_QUIC] = "quic",
    [RED_CODEC_GLZ] = "glz",
    [RED_CODEC_ZLIB_GLZ] = "zlib-glz",
    [RED_CODEC_JPEG] = "jpeg",
};

const char *red_encoder_codec_name(RedEncCodec codec)
{
    return codec < RED_CODEC_COUNT ? codec_names[codec] : "?";
}

uint32_t red_encoders_parse_disable(const char *list)
{
    uint32_t mask = 0;
    if (!list) {
        return 0;
    }
    gchar **names = g_strsplit(list, ",", -1);
    for (gchar **n = names; *n; n++) {
        g_strstrip(*n);
        /* raw is the reference path and cannot be switched off */
        for (int c = RED_CODEC_RAW + 1; c < RED_CODEC_COUNT; c++) {
            if (g_ascii_strcasecmp(*n, codec_names[c]) == 0) {
                mask |= 1u << c;
            }
        }
    }
    g_strfreev(names);
    return mask;
}

RedEncoders *red_encoders_new(const RedEncPolicy *policy, GlzDictionary *dict)
{
    RedEncoders *encs = g_new0(RedEncoders, 1);
    encs->policy = *policy;
    encs->disabled = red_encoders_parse_disable(g_getenv("RED_ENCODER_DISABLE"));
    encs->codec[RED_CODEC_RAW] = red_encoder_raw_new();
    encs->codec[RED_CODEC_LZ4] = red_encoder_lz4_new();
    encs->codec[RED_CODEC_LZ] = red_encoder_lz_new();
    encs->codec[RED_CODEC_QUIC] = red_encoder_quic_new();
    encs->codec[RED_CODEC_JPEG] = red_encoder_jpeg_new(policy->jpeg_quality);
    if (dict) {
        encs->dict = glz_dictionary_ref(dict);
        encs->codec[RED_CODEC_GLZ] = red_encoder_glz_new(dict);
        encs->codec[RED_CODEC_ZLIB_GLZ] = red_encoder_zlib_glz_new(dict);
    }
    return encs;
}

void red_encoders_free(RedEncoders *encs)
{
    if (!encs) {
        return;
    }
    for (int c = 0; c < RED_CODEC_COUNT; c++) {
        red_encoder_destroy(encs->codec[c]);
    }
    glz_dictionary_unref(encs->dict);
    g_free(encs->convert);
    g_free(encs);
}

void red_encoders_set_policy(RedEncoders *encs, const RedEncPolicy *policy)
{
    encs->policy = *policy;
}

void red_encoders_disable(RedEncoders *encs, uint32_t codec_mask)
{
    encs->disabled |= codec_mask & ~(1u << RED_CODEC_RAW);
}

void red_encoder_destroy(RedEncoder *enc)
{
    if (enc) {
        enc->ops->destroy(enc);
    }
}

void red_encoder_output_clear(RedEncOutput *out)
{
    codec_buf_clear(&out->body);
    memset(out, 0, sizeof(*out));
    out->palette_slot = -1;
}

/* Maps the channel's bitmap onto a codec image; r5g6b5 has no wire format
 * and is widened to x8r8g8b8 into the set's scratch buffer. */
static bool normalise(RedEncoders *encs, const RedEncInput *in, CodecImage *img)
{
    static const uint8_t fmts[] = {
        [RED_ENC_FMT_XRGB8888] = SPICE_BITMAP_FMT_32BIT,
        [RED_ENC_FMT_ARGB8888] = SPICE_BITMAP_FMT_RGBA,
        [RED_ENC_FMT_RGB565] = SPICE_BITMAP_FMT_32BIT,
        [RED_ENC_FMT_XRGB1555] = SPICE_BITMAP_FMT_16BIT,
        [RED_ENC_FMT_RGB888] = SPICE_BITMAP_FMT_24BIT,
        [RED_ENC_FMT_PAL8] = SPICE_BITMAP_FMT_8BIT,
    };
    if ((unsigned)in->format >= G_N_ELEMENTS(fmts)) {
        return false;
    }
    *img = (CodecImage){
        .fmt = fmts[in->format], .width = in->width, .height = in->height,
        .stride = in->stride, .data = in->data, .top_down = in->top_down,
        .palette = in->palette, .palette_n = in->palette_n,
    };
    if (in->format != RED_ENC_FMT_RGB565) {
        return codec_image_sane(img) &&
               encs->codec[RED_CODEC_RAW]->ops->can_encode(encs->codec[RED_CODEC_RAW], img);
    }
    /* widening needs a copy: keep that within the codecs' limit */
    if (in->width == 0 || in->height == 0 || !in->data ||
        (uint64_t)in->width * in->height > CODEC_MAX_PIXELS || in->stride < (size_t)in->width * 2) {
        return false;
    }
    size_t need = (size_t)in->width * in->height * 4;
    if (encs->convert_cap < need) {
        g_free(encs->convert);
        encs->convert = g_malloc(need);
        encs->convert_cap = need;
    }
    for (uint32_t y = 0; y < in->height; y++) {
        const uint8_t *s = in->data + (size_t)y * in->stride;
        uint8_t *d = encs->convert + (size_t)y * in->width * 4;
        for (uint32_t x = 0; x < in->width; x++) {
            uint32_t v = s[2 * x] | s[2 * x + 1] << 8;
            uint32_t r = v >> 11, g = (v >> 5) & 0x3f, b = v & 0x1f;
            d[4 * x] = (uint8_t)(b << 3 | b >> 2);
            d[4 * x + 1] = (uint8_t)(g << 2 | g >> 4);
            d[4 * x + 2] = (uint8_t)(r << 3 | r >> 2);
            d[4 * x + 3] = 0;
        }
    }
    img->data = encs->convert;
    img->stride = (size_t)in->width * 4;
    return true;
}

static RedEncCodec fallback_of(RedEncCodec c)
{
    switch (c) {
    case RED_CODEC_JPEG:
        return RED_CODEC_QUIC;
    case RED_CODEC_ZLIB_GLZ:
        return RED_CODEC_GLZ;
    case RED_CODEC_GLZ:
    case RED_CODEC_LZ4:
        return RED_CODEC_LZ;
    default:
        return RED_CODEC_RAW;
    }
}

/* Lossless codecs without state on either side: when their output is not
 * smaller than the raw BITMAP, the raw one goes instead (GLZ must not: the
 * client's window already counts the image; JPEG is lossy, so smaller). */
static bool replace_by_raw(RedEncCodec c)
{
    return c == RED_CODEC_LZ4 || c == RED_CODEC_LZ || c == RED_CODEC_QUIC;
}

/* Bytes of img's raw BITMAP body (see raw_encode in codecs.c): an 18-byte
 * header and the packed rows. */
static size_t raw_body_bytes(const CodecImage *img)
{
    return 18 + (size_t)img->width * codec_fmt_bpp(img->fmt) * img->height;
}

static bool try_codec(RedEncoders *encs, RedEncCodec c, const CodecImage *img, RedEncOutput *out)
{
    RedEncoder *enc = encs->codec[c];
    if (!enc || ((encs->disabled >> c) & 1u) || !enc->ops->can_encode(enc, img)) {
        return false;
    }
    out->body.len = 0;
    out->palette_slot = -1;
    out->lossy = false;
    out->codec = c;
    return enc->ops->encode(enc, img, out);
}

bool red_encoders_encode(RedEncoders *encs, const RedEncInput *in,
                         const RedEncHints *hints, RedEncOutput *out)
{
    CodecImage img;
    out->palette_slot = -1;
    if (!normalise(encs, in, &img)) {
        return false;
    }
    uint32_t window = encs->dict ? glz_dictionary_window(encs->dict) : 0;
    RedEncCodec c = red_encode_select(&encs->policy, &img, hints, encs->disabled, window);
    for (;;) {
        if (try_codec(encs, c, &img, out)) {
            if (replace_by_raw(c) && out->body.len >= raw_body_bytes(&img)) {
                /* incompressible (noise): raw is smaller and cheaper to decode */
                bool raw = try_codec(encs, RED_CODEC_RAW, &img, out);
                g_assert(raw);      /* normalise() checked raw can take img */
            }
            return true;
        }
        /* the reference path encodes every valid image */
        g_assert(c != RED_CODEC_RAW);
        c = fallback_of(c);
    }
}

bool red_encoders_encode_with(RedEncoders *encs, RedEncCodec codec,
                              const RedEncInput *in, RedEncOutput *out)
{
    CodecImage img;
    out->palette_slot = -1;
    if (codec >= RED_CODEC_COUNT || !normalise(encs, in, &img)) {
        return false;
    }
    return try_codec(encs, codec, &img, out);
}
