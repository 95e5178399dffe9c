/* The encoder interface: every codec through its vtable on every input
 * format (r5g6b5 included), bodies parsed as the client parses them and
 * decoded exactly (JPEG within a PSNR bound, JPEG_ALPHA's alpha exactly);
 * the selection policy's decisions; fallbacks; and RED_ENCODER_DISABLE
 * cross-checking a codec against the reference path. */
#include <math.h>
#include <zlib.h>

#include "codec-test-util.h"
#include "common/codec/glz-codec.h"
#include "common/codec/jpeg-codec.h"
#include "common/codec/lz-codec.h"
#include "common/codec/lz4-codec.h"
#include "common/codec/quic-codec.h"
#include "server/encode/encoder.h"

/* Decodes a body as the client would (BITMAP parsed here). */
static bool decode_body(const RedEncOutput *out, uint32_t w, uint32_t h, const uint32_t *pal,
                        uint32_t npal, GlzDecoderWindow *win, CodecPicture *pic, const char **err)
{
    const uint8_t *b = out->body.data;
    size_t n = out->body.len;
    switch (out->image_type) {
    case SPICE_IMAGE_TYPE_BITMAP: {
        g_assert_cmpuint(n, >=, 18);
        uint8_t fmt = b[0];
        bool top_down = b[1] & SPICE_BITMAP_FLAGS_TOP_DOWN;
        g_assert_cmpuint(codec_get_u32le(b + 2), ==, w);
        g_assert_cmpuint(codec_get_u32le(b + 6), ==, h);
        uint32_t stride = codec_get_u32le(b + 10);
        g_assert_cmpint(out->palette_slot, ==, fmt == SPICE_BITMAP_FMT_8BIT ? 14 : -1);
        g_assert_cmpuint(n, ==, 18 + (size_t)stride * h);
        CodecImage img = { .fmt = fmt, .width = w, .height = h, .stride = stride,
                           .data = b + 18, .top_down = top_down, .palette = pal, .palette_n = npal };
        codec_image_to_picture(&img, pic);
        return true;
    }
    case SPICE_IMAGE_TYPE_LZ4:
        g_assert_cmpuint(codec_get_u32le(b), ==, n - 4);
        return lz4_decode(b + 4, n - 4, w, h, pic, err);
    case SPICE_IMAGE_TYPE_LZ_RGB:
        g_assert_cmpuint(codec_get_u32le(b), ==, n - 4);
        return lz_decode(b + 4, n - 4, NULL, 0, pic, NULL, err);
    case SPICE_IMAGE_TYPE_LZ_PLT:
        g_assert_cmpuint(b[0], ==, 0);
        g_assert_cmpuint(codec_get_u32le(b + 1), ==, n - 9);
        g_assert_cmpint(out->palette_slot, ==, 5);
        return lz_decode(b + 9, n - 9, pal, npal, pic, NULL, err);
    case SPICE_IMAGE_TYPE_QUIC:
        g_assert_cmpuint(codec_get_u32le(b), ==, n - 4);
        return quic_decode(b + 4, n - 4, pic, err);
    case SPICE_IMAGE_TYPE_GLZ_RGB:
        g_assert_cmpuint(codec_get_u32le(b), ==, n - 4);
        return glz_decode(win, b + 4, n - 4, pic, err);
    case SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB: {
        uLongf glz_len = codec_get_u32le(b);
        g_assert_cmpuint(codec_get_u32le(b + 4), ==, n - 8);
        uint8_t *glz = g_malloc(glz_len);
        g_assert_cmpint(uncompress(glz, &glz_len, b + 8, n - 8), ==, Z_OK);
        bool ok = glz_decode(win, glz, glz_len, pic, err);
        g_free(glz);
        return ok;
    }
    case SPICE_IMAGE_TYPE_JPEG:
        g_assert_cmpuint(codec_get_u32le(b), ==, n - 4);
        return jpeg_decode(b + 4, n - 4, pic, err);
    case SPICE_IMAGE_TYPE_JPEG_ALPHA: {
        uint32_t jpeg_size = codec_get_u32le(b + 1), data_size = codec_get_u32le(b + 5);
        g_assert_cmpuint(data_size, ==, n - 9);
        g_assert_cmpuint(jpeg_size, <, data_size);
        if (!jpeg_decode(b + 9, jpeg_size, pic, err)) {
            return false;
        }
        CodecPicture alpha;
        uint8_t type;
        if (!lz_decode(b + 9 + jpeg_size, data_size - jpeg_size, NULL, 0, &alpha, &type, err)) {
            codec_picture_clear(pic);
            return false;
        }
        g_assert_cmpuint(type, ==, LZ_TYPE_XXXA);
        g_assert_cmpuint(alpha.width, ==, w);
        g_assert_cmpuint(alpha.height, ==, h);
        for (size_t i = 0; i < (size_t)w * h; i++) {
            pic->px[i] = (pic->px[i] & 0xffffff) | (alpha.px[i] & 0xff000000u);
        }
        pic->has_alpha = true;
        codec_picture_clear(&alpha);
        return true;
    }
    default:
        *err = "unexpected image type";
        return false;
    }
}

static double psnr(const CodecPicture *a, const CodecPicture *b)
{
    double se = 0;
    size_t n = (size_t)a->width * a->height;
    for (size_t i = 0; i < n; i++) {
        for (int s = 0; s < 24; s += 8) {
            double d = (double)((a->px[i] >> s) & 0xff) - (double)((b->px[i] >> s) & 0xff);
            se += d * d;
        }
    }
    double mse = se / (3.0 * n);
    return mse == 0 ? 99.0 : 10 * log10(255.0 * 255.0 / mse);
}

static const RedEncFormat all_formats[] = {
    RED_ENC_FMT_XRGB8888, RED_ENC_FMT_ARGB8888, RED_ENC_FMT_RGB565, RED_ENC_FMT_XRGB1555,
    RED_ENC_FMT_RGB888, RED_ENC_FMT_PAL8,
};

/* Builds an input in `format` from master; expected = what the client must show. */
static RedEncInput make_input(Rng *r, const uint32_t *master, uint32_t w, uint32_t h,
                              RedEncFormat format, size_t pad, bool top_down, uint8_t **buf,
                              uint32_t *pal, CodecImage *expected, uint8_t **exp_buf)
{
    static const uint8_t map[] = {
        [RED_ENC_FMT_XRGB8888] = SPICE_BITMAP_FMT_32BIT, [RED_ENC_FMT_ARGB8888] = SPICE_BITMAP_FMT_RGBA,
        [RED_ENC_FMT_RGB565] = SPICE_BITMAP_FMT_32BIT, [RED_ENC_FMT_XRGB1555] = SPICE_BITMAP_FMT_16BIT,
        [RED_ENC_FMT_RGB888] = SPICE_BITMAP_FMT_24BIT, [RED_ENC_FMT_PAL8] = SPICE_BITMAP_FMT_8BIT,
    };
    *exp_buf = NULL;
    if (format != RED_ENC_FMT_RGB565) {
        CodecImage img = make_image(r, master, w, h, map[format], pad, top_down, buf, pal);
        *expected = img;
        return (RedEncInput){ .format = format, .width = w, .height = h, .stride = img.stride,
                              .data = img.data, .top_down = top_down, .palette = pal,
                              .palette_n = img.palette_n };
    }
    size_t stride = (size_t)w * 2 + pad;
    uint8_t *b = g_malloc0(stride * h);
    uint8_t *e = g_malloc((size_t)w * 4 * h);
    for (uint32_t y = 0; y < h; y++) {
        uint32_t row = top_down ? y : h - 1 - y;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v = master[(size_t)y * w + x];
            uint32_t R = (v >> 19) & 0x1f, G = (v >> 10) & 0x3f, B = (v >> 3) & 0x1f;
            uint32_t v16 = R << 11 | G << 5 | B;
            b[row * stride + 2 * x] = (uint8_t)v16;
            b[row * stride + 2 * x + 1] = (uint8_t)(v16 >> 8);
            uint32_t x32 = (R << 3 | R >> 2) << 16 | (G << 2 | G >> 4) << 8 | (B << 3 | B >> 2);
            codec_put_u32le(e + ((size_t)row * w + x) * 4, x32);
        }
    }
    *buf = b;
    *exp_buf = e;
    *expected = (CodecImage){ .fmt = SPICE_BITMAP_FMT_32BIT, .width = w, .height = h,
                              .stride = (size_t)w * 4, .data = e, .top_down = top_down };
    return (RedEncInput){ .format = format, .width = w, .height = h, .stride = stride,
                          .data = b, .top_down = top_down };
}

static void test_every_codec_every_format(void)
{
    GlzDictionary *dict = glz_dictionary_new(1u << 22);
    RedEncPolicy pol = { .image_compression = SPICE_IMAGE_COMPRESSION_AUTO_GLZ,
                         .jpeg = RED_ENC_WAN_AUTO, .zlib_glz = RED_ENC_WAN_AUTO };
    RedEncoders *encs = red_encoders_new(&pol, dict);
    GlzDecoderWindow *win = glz_window_new();
    Rng r = { 1234 };
    int encoded[RED_CODEC_COUNT] = { 0 };

    for (int iter = 0; iter < 60; iter++) {
        for (size_t f = 0; f < G_N_ELEMENTS(all_formats); f++) {
            for (int c = 0; c < RED_CODEC_COUNT; c++) {
                uint32_t w = rng_range(&r, 1, 90), h = rng_range(&r, 1, 70), pal[256];
                int kind = (int)(rng_next(&r) % KIND_COUNT);
                if (c == RED_CODEC_JPEG) {
                    kind = KIND_PHOTO;
                }
                uint32_t *master = make_master(&r, kind, w, h);
                uint8_t *buf, *exp_buf;
                CodecImage expected;
                RedEncInput in = make_input(&r, master, w, h, all_formats[f],
                                            rng_next(&r) % 2 ? 0 : 3, rng_next(&r) & 1,
                                            &buf, pal, &expected, &exp_buf);
                RedEncOutput out = { 0 };
                if (red_encoders_encode_with(encs, (RedEncCodec)c, &in, &out)) {
                    encoded[c]++;
                    CodecPicture pic;
                    const char *err = "?";
                    if (!decode_body(&out, w, h, pal, in.palette_n, win, &pic, &err)) {
                        g_error("%s fmt %d: %s", red_encoder_codec_name(c), all_formats[f], err);
                    }
                    if (out.lossy) {
                        CodecPicture ref;
                        codec_image_to_picture(&expected, &ref);
                        if (w >= 8 && h >= 8) {
                            g_assert_cmpfloat(psnr(&pic, &ref), >, 25.0);   /* noisy, tiny pictures */
                        }
                        if (expected.fmt == SPICE_BITMAP_FMT_RGBA) {
                            for (size_t i = 0; i < (size_t)w * h; i++) {
                                g_assert_cmphex(pic.px[i] >> 24, ==, ref.px[i] >> 24);
                            }
                        }
                        codec_picture_clear(&ref);
                    } else {
                        g_assert_true(picture_matches(&expected, &pic, red_encoder_codec_name(c)));
                    }
                    codec_picture_clear(&pic);
                } else {
                    /* only these refusals are legitimate */
                    bool pal8 = all_formats[f] == RED_ENC_FMT_PAL8;
                    g_assert_true(pal8 && c != RED_CODEC_LZ && c != RED_CODEC_RAW);
                }
                red_encoder_output_clear(&out);
                g_free(buf);
                g_free(exp_buf);
                g_free(master);
            }
        }
    }
    for (int c = 0; c < RED_CODEC_COUNT; c++) {
        g_assert_cmpint(encoded[c], >, 0);
    }
    glz_window_free(win);
    red_encoders_free(encs);
    glz_dictionary_unref(dict);
}

static CodecImage solid(uint8_t fmt, uint32_t w, uint32_t h, size_t stride, const uint8_t *data)
{
    static uint32_t pal[2] = { 0, 0xffffff };
    return (CodecImage){ .fmt = fmt, .width = w, .height = h, .stride = stride, .data = data,
                         .top_down = true, .palette = pal, .palette_n = 2 };
}

static void test_policy(void)
{
    uint32_t w = 64, h = 64;
    uint32_t *photo = make_master(&(Rng){ 5 }, KIND_PHOTO, w, h);
    uint32_t *text = make_master(&(Rng){ 6 }, KIND_TEXT, w, h);
    CodecImage ph = solid(SPICE_BITMAP_FMT_32BIT, w, h, w * 4, (const uint8_t *)photo);
    CodecImage tx = solid(SPICE_BITMAP_FMT_32BIT, w, h, w * 4, (const uint8_t *)text);
    CodecImage tx_pad = solid(SPICE_BITMAP_FMT_32BIT, w, h / 2, w * 8, (const uint8_t *)text);
    CodecImage pal8 = solid(SPICE_BITMAP_FMT_8BIT, w, h, w, (const uint8_t *)text);
    CodecImage tiny = solid(SPICE_BITMAP_FMT_32BIT, 3, 4, 12, (const uint8_t *)text);
    RedEncHints drawable = { .from_drawable = true };
    RedEncHints lossy = { .from_drawable = true, .can_lossy = true };
    RedEncHints plain = { 0 };
    uint32_t win = 1u << 20;
    RedEncPolicy p = { .jpeg = RED_ENC_WAN_AUTO, .zlib_glz = RED_ENC_WAN_AUTO };

    g_assert_cmpint(red_encode_graduality(&ph), ==, RED_ENC_GRAD_HIGH);
    g_assert_cmpint(red_encode_graduality(&tx), !=, RED_ENC_GRAD_HIGH);

    p.image_compression = SPICE_IMAGE_COMPRESSION_AUTO_GLZ;
    g_assert_cmpint(red_encode_select(&p, &ph, &drawable, 0, win), ==, RED_CODEC_QUIC);
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, win), ==, RED_CODEC_GLZ);
    g_assert_cmpint(red_encode_select(&p, &tx, &plain, 0, win), ==, RED_CODEC_LZ);
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, 0), ==, RED_CODEC_LZ);
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, 64 * 64), ==, RED_CODEC_LZ);
    g_assert_cmpint(red_encode_select(&p, &tiny, &drawable, 0, win), ==, RED_CODEC_RAW);
    /* WAN settings: auto follows the link, always/never force */
    g_assert_cmpint(red_encode_select(&p, &ph, &lossy, 0, win), ==, RED_CODEC_QUIC);
    p.low_bandwidth = true;
    g_assert_cmpint(red_encode_select(&p, &ph, &lossy, 0, win), ==, RED_CODEC_JPEG);
    g_assert_cmpint(red_encode_select(&p, &ph, &drawable, 0, win), ==, RED_CODEC_QUIC);
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, win), ==, RED_CODEC_ZLIB_GLZ);
    p.jpeg = RED_ENC_WAN_NEVER;
    p.zlib_glz = RED_ENC_WAN_NEVER;
    g_assert_cmpint(red_encode_select(&p, &ph, &lossy, 0, win), ==, RED_CODEC_QUIC);
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, win), ==, RED_CODEC_GLZ);
    p.low_bandwidth = false;
    p.jpeg = RED_ENC_WAN_ALWAYS;
    g_assert_cmpint(red_encode_select(&p, &ph, &lossy, 0, win), ==, RED_CODEC_JPEG);
    p.jpeg = RED_ENC_WAN_AUTO;

    p.image_compression = SPICE_IMAGE_COMPRESSION_AUTO_LZ;
    g_assert_cmpint(red_encode_select(&p, &ph, &drawable, 0, win), ==, RED_CODEC_QUIC);
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, win), ==, RED_CODEC_LZ);
    /* a graduality hint skips the sampling */
    RedEncHints hinted = { .from_drawable = true, .graduality = RED_ENC_GRAD_HIGH };
    g_assert_cmpint(red_encode_select(&p, &tx, &hinted, 0, win), ==, RED_CODEC_QUIC);

    p.image_compression = SPICE_IMAGE_COMPRESSION_QUIC;
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, win), ==, RED_CODEC_QUIC);
    g_assert_cmpint(red_encode_select(&p, &pal8, &drawable, 0, win), ==, RED_CODEC_RAW);
    p.image_compression = SPICE_IMAGE_COMPRESSION_GLZ;
    g_assert_cmpint(red_encode_select(&p, &ph, &drawable, 0, win), ==, RED_CODEC_GLZ);
    g_assert_cmpint(red_encode_select(&p, &pal8, &drawable, 0, win), ==, RED_CODEC_LZ);
    p.image_compression = SPICE_IMAGE_COMPRESSION_LZ;
    g_assert_cmpint(red_encode_select(&p, &ph, &drawable, 0, win), ==, RED_CODEC_LZ);
    p.image_compression = SPICE_IMAGE_COMPRESSION_LZ4;
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, win), ==, RED_CODEC_LZ);
    p.client_lz4 = true;
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, win), ==, RED_CODEC_LZ4);
    g_assert_cmpint(red_encode_select(&p, &tx_pad, &drawable, 0, win), ==, RED_CODEC_LZ);
    g_assert_cmpint(red_encode_select(&p, &pal8, &drawable, 0, win), ==, RED_CODEC_LZ);
    p.image_compression = SPICE_IMAGE_COMPRESSION_OFF;
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 0, win), ==, RED_CODEC_RAW);
    p.image_compression = SPICE_IMAGE_COMPRESSION_LZ;
    RedEncHints unstable = { .unstable = true };
    g_assert_cmpint(red_encode_select(&p, &tx, &unstable, 0, win), ==, RED_CODEC_RAW);

    /* disabled codecs */
    p.image_compression = SPICE_IMAGE_COMPRESSION_AUTO_GLZ;
    g_assert_cmpint(red_encode_select(&p, &ph, &drawable, 1u << RED_CODEC_QUIC, win), ==, RED_CODEC_GLZ);
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable, 1u << RED_CODEC_GLZ, win), ==, RED_CODEC_LZ);
    g_assert_cmpint(red_encode_select(&p, &tx, &drawable,
                                      1u << RED_CODEC_GLZ | 1u << RED_CODEC_LZ, win), ==, RED_CODEC_RAW);
    g_assert_cmphex(red_encoders_parse_disable("quic, GLZ,zlib-glz,bogus,raw"), ==,
                    1u << RED_CODEC_QUIC | 1u << RED_CODEC_GLZ | 1u << RED_CODEC_ZLIB_GLZ);
    g_free(photo);
    g_free(text);
}

/* RED_ENCODER_DISABLE: the same images through the policy with QUIC, GLZ
 * and LZ switched off must come out raw, and decode to the same pictures. */
static void test_env_disable(void)
{
    RedEncPolicy pol = { .image_compression = SPICE_IMAGE_COMPRESSION_AUTO_GLZ,
                         .jpeg = RED_ENC_WAN_NEVER, .zlib_glz = RED_ENC_WAN_NEVER };
    GlzDictionary *dict = glz_dictionary_new(1u << 22);
    RedEncoders *normal = red_encoders_new(&pol, dict);
    g_setenv("RED_ENCODER_DISABLE", "quic,glz,lz", TRUE);
    RedEncoders *reduced = red_encoders_new(&pol, dict);
    g_unsetenv("RED_ENCODER_DISABLE");
    GlzDecoderWindow *win = glz_window_new();
    Rng r = { 77 };
    for (int i = 0; i < 30; i++) {
        uint32_t w = rng_range(&r, 8, 80), h = rng_range(&r, 8, 60), pal[256];
        uint32_t *master = make_master(&r, i % 2 ? KIND_PHOTO : KIND_TEXT, w, h);
        uint8_t *buf, *exp_buf;
        CodecImage expected;
        RedEncInput in = make_input(&r, master, w, h, RED_ENC_FMT_XRGB8888, 0, true, &buf, pal,
                                    &expected, &exp_buf);
        RedEncHints hints = { .from_drawable = true };
        RedEncOutput a = { 0 }, b = { 0 };
        g_assert_true(red_encoders_encode(normal, &in, &hints, &a));
        g_assert_true(red_encoders_encode(reduced, &in, &hints, &b));
        g_assert_cmpint(a.codec, !=, RED_CODEC_RAW);
        g_assert_cmpint(b.codec, ==, RED_CODEC_RAW);
        CodecPicture pa, pb;
        const char *err = "?";
        g_assert_true(decode_body(&a, w, h, pal, 0, win, &pa, &err));
        g_assert_true(decode_body(&b, w, h, pal, 0, win, &pb, &err));
        g_assert_cmpmem(pa.px, (size_t)w * h * 4, pb.px, (size_t)w * h * 4);
        g_assert_true(picture_matches(&expected, &pa, "env"));
        codec_picture_clear(&pa);
        codec_picture_clear(&pb);
        red_encoder_output_clear(&a);
        red_encoder_output_clear(&b);
        g_free(buf);
        g_free(master);
    }
    glz_window_free(win);
    red_encoders_free(normal);
    red_encoders_free(reduced);
    glz_dictionary_unref(dict);
}

/* JPEG at the default quality on a smooth picture, and lower quality
 * costing fewer bytes. */
static void test_jpeg_quality(void)
{
    uint32_t w = 128, h = 96;
    uint32_t *master = make_master(&(Rng){ 3 }, KIND_GRADIENT, w, h);
    CodecImage img = { .fmt = SPICE_BITMAP_FMT_32BIT, .width = w, .height = h, .stride = w * 4,
                       .data = (const uint8_t *)master, .top_down = false };
    CodecBuf q85 = { 0 }, q30 = { 0 };
    g_assert_true(jpeg_encode(&img, RED_ENC_DEFAULT_JPEG_QUALITY, &q85));
    g_assert_true(jpeg_encode(&img, 30, &q30));
    g_assert_cmpuint(q30.len, <, q85.len);
    CodecPicture pic, ref;
    const char *err = "?";
    g_assert_true(jpeg_decode(q85.data, q85.len, &pic, &err));
    codec_image_to_picture(&img, &ref);
    g_assert_cmpfloat(psnr(&pic, &ref), >, 35.0);
    codec_picture_clear(&pic);
    /* garbage is rejected */
    g_assert_false(jpeg_decode(q85.data + 10, q85.len / 3, &pic, &err) && (codec_picture_clear(&pic), true));
    codec_picture_clear(&ref);
    codec_buf_clear(&q85);
    codec_buf_clear(&q30);
    g_free(master);
}

/* Stateless lossless codecs never send more than the raw BITMAP: 32-bit
 * noise under LZ4 (which keeps the pad byte and grows by its framing) goes
 * raw, exactly; a compressible picture still goes LZ4; encode_with (no
 * policy) still returns the LZ4 body, which is the larger one. */
static void test_incompressible_goes_raw(void)
{
    uint32_t w = 160, h = 120;
    uint32_t *noise = make_master(&(Rng){ 9 }, KIND_NOISE, w, h);
    uint32_t *text = make_master(&(Rng){ 10 }, KIND_TEXT, w, h);
    RedEncPolicy pol = { .image_compression = SPICE_IMAGE_COMPRESSION_LZ4, .client_lz4 = true,
                         .jpeg = RED_ENC_WAN_NEVER, .zlib_glz = RED_ENC_WAN_NEVER };
    RedEncoders *encs = red_encoders_new(&pol, NULL);
    RedEncHints hints = { .from_drawable = true };
    size_t raw_bytes = 18 + (size_t)w * h * 4;
    RedEncInput in = { .format = RED_ENC_FMT_XRGB8888, .width = w, .height = h,
                       .stride = (size_t)w * 4, .data = (const uint8_t *)noise, .top_down = true };
    RedEncOutput out = { 0 }, lz4 = { 0 };

    g_assert_true(red_encoders_encode_with(encs, RED_CODEC_LZ4, &in, &lz4));
    g_assert_cmpuint(lz4.body.len, >=, raw_bytes);      /* the premise: LZ4 grows noise */
    g_assert_true(red_encoders_encode(encs, &in, &hints, &out));
    g_assert_cmpint(out.codec, ==, RED_CODEC_RAW);
    g_assert_cmpint(out.image_type, ==, SPICE_IMAGE_TYPE_BITMAP);
    g_assert_cmpuint(out.body.len, ==, raw_bytes);
    CodecPicture pic;
    const char *err = "?";
    g_assert_true(decode_body(&out, w, h, NULL, 0, NULL, &pic, &err));
    CodecImage img = { .fmt = SPICE_BITMAP_FMT_32BIT, .width = w, .height = h,
                       .stride = (size_t)w * 4, .data = (const uint8_t *)noise, .top_down = true };
    g_assert_true(picture_matches(&img, &pic, "noise"));
    codec_picture_clear(&pic);
    red_encoder_output_clear(&out);
    red_encoder_output_clear(&lz4);

    in.data = (const uint8_t *)text;
    g_assert_true(red_encoders_encode(encs, &in, &hints, &out));
    g_assert_cmpint(out.codec, ==, RED_CODEC_LZ4);
    g_assert_cmpuint(out.body.len, <, raw_bytes);
    red_encoder_output_clear(&out);

    /* the same rule for LZ (LZ_RGB drops the pad byte, so it wins on
     * 32-bit noise; 24-bit noise it cannot shrink) */
    pol.image_compression = SPICE_IMAGE_COMPRESSION_LZ;
    red_encoders_set_policy(encs, &pol);
    uint8_t *rgb = g_malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        rgb[i] = (uint8_t)(noise[i / 3] >> (8 * (i % 3)));
    }
    RedEncInput in24 = { .format = RED_ENC_FMT_RGB888, .width = w, .height = h,
                         .stride = (size_t)w * 3, .data = rgb, .top_down = true };
    g_assert_true(red_encoders_encode(encs, &in24, &hints, &out));
    g_assert_cmpint(out.codec, ==, RED_CODEC_RAW);
    g_assert_cmpuint(out.body.len, ==, 18 + (size_t)w * h * 3);
    red_encoder_output_clear(&out);

    g_free(rgb);
    red_encoders_free(encs);
    g_free(noise);
    g_free(text);
}

/* Invalid inputs are refused, never encoded. */
static void test_invalid_input(void)
{
    RedEncPolicy pol = { .image_compression = SPICE_IMAGE_COMPRESSION_AUTO_LZ };
    RedEncoders *encs = red_encoders_new(&pol, NULL);
    uint8_t px[64] = { 0 };
    RedEncHints hints = { 0 };
    RedEncOutput out = { 0 };
    RedEncInput bad[] = {
        { .format = RED_ENC_FMT_XRGB8888, .width = 0, .height = 2, .stride = 8, .data = px },
        { .format = RED_ENC_FMT_XRGB8888, .width = 4, .height = 2, .stride = 8, .data = px },
        { .format = RED_ENC_FMT_PAL8, .width = 4, .height = 2, .stride = 4, .data = px },
        { .format = RED_ENC_FMT_RGB565, .width = 4, .height = 2, .stride = 6, .data = px },
        { .format = (RedEncFormat)42, .width = 1, .height = 1, .stride = 4, .data = px },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(red_encoders_encode(encs, &bad[i], &hints, &out));
    }
    /* palette indices past the palette: LZ_PLT refuses, the raw path sends it */
    uint32_t pal[2] = { 0, 0xffffff };
    uint8_t idx[64];
    memset(idx, 7, sizeof(idx));
    RedEncInput p8 = { .format = RED_ENC_FMT_PAL8, .width = 8, .height = 8, .stride = 8,
                       .data = idx, .top_down = true, .palette = pal, .palette_n = 2 };
    g_assert_true(red_encoders_encode(encs, &p8, &hints, &out));
    g_assert_cmpint(out.image_type, ==, SPICE_IMAGE_TYPE_BITMAP);
    red_encoder_output_clear(&out);
    red_encoders_free(encs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/codec/encoders/every-codec-every-format", test_every_codec_every_format);
    g_test_add_func("/codec/encoders/policy", test_policy);
    g_test_add_func("/codec/encoders/env-disable", test_env_disable);
    g_test_add_func("/codec/encoders/invalid-input", test_invalid_input);
    g_test_add_func("/codec/encoders/jpeg-quality", test_jpeg_quality);
    g_test_add_func("/codec/encoders/incompressible-goes-raw", test_incompressible_goes_raw);
    return g_test_run();
}
