/* GLZ through a shared dictionary: a sequence of images where later ones
 * repeat (shifted, partly changed) earlier ones, so matches must go through
 * the window; every image decodes exactly in a client-side window that
 * releases what win_head_dist allows. Also: a small window that forces
 * evictions, a reset in the middle, RGBA alpha passes, mixed formats, and
 * ZLIB_GLZ output through the encoder interface inflated like
 * decode-zlib.c. */
#include <zlib.h>

#include "codec-test-util.h"
#include "common/codec/glz-codec.h"
#include "common/codec/lz-codec.h"
#include "server/encode/encoder.h"

static uint32_t read_be32(const uint8_t *p)
{
    return codec_get_u32be(p);
}

static uint64_t glz_id(const CodecBuf *b)
{
    return (uint64_t)read_be32(b->data + 21) << 32 | read_be32(b->data + 25);
}

static uint32_t glz_head_dist(const CodecBuf *b)
{
    return read_be32(b->data + 29);
}

/* A screen-like sequence: a base picture, then copies with a moving
 * changed band; the formats cycle so cross-format references happen. */
static void run_sequence(uint32_t window, int frames, uint64_t seed, bool reset_midway,
                         size_t *total_out, size_t *lz_total_out)
{
    Rng r = { seed };
    GlzDictionary *dict = glz_dictionary_new(window);
    GlzDecoderWindow *win = glz_window_new();
    uint32_t w = 97, h = 61;
    uint32_t *master = make_master(&r, KIND_UI, w, h);
    LzEncoder *lz = lz_encoder_new();
    *total_out = 0;
    *lz_total_out = 0;

    for (int f = 0; f < frames; f++) {
        if (reset_midway && f == frames / 2) {
            uint64_t before = glz_dictionary_next_id(dict);
            glz_dictionary_reset(dict);
            g_assert_cmpuint(glz_dictionary_next_id(dict), ==, before);
        }
        /* change a band of rows, keep the rest */
        uint32_t band = (uint32_t)f * 5 % h;
        for (uint32_t y = band; y < MIN(h, band + 4); y++) {
            for (uint32_t x = 0; x < w; x++) {
                master[(size_t)y * w + x] = rng_next(&r) | 0xff000000u;
            }
        }
        uint8_t fmt = rgb_fmts[f % 4 == 3 ? 3 : (f % 5 == 4 ? 1 : 2)];
        if (f % 7 == 6) {
            fmt = SPICE_BITMAP_FMT_16BIT;
        }
        uint32_t pal[256];
        uint8_t *buf;
        CodecImage img = make_image(&r, master, w, h, fmt, f % 3 == 0 ? 4 : 0, f & 1, &buf, pal);
        CodecBuf out = { 0 };
        g_assert_true(glz_can_encode(dict, &img));
        g_assert_true(glz_encode(dict, &img, &out));
        if (reset_midway && f == frames / 2) {
            g_assert_cmpuint(glz_head_dist(&out), ==, 0);
        }
        CodecPicture pic;
        const char *err = "?";
        if (!glz_decode(win, out.data, out.len, &pic, &err)) {
            g_error("frame %d (id %" G_GUINT64_FORMAT "): %s", f, glz_id(&out), err);
        }
        char what[64];
        snprintf(what, sizeof(what), "glz frame %d fmt %u", f, fmt);
        g_assert_true(picture_matches(&img, &pic, what));
        codec_picture_clear(&pic);
        *total_out += out.len;
        CodecBuf lz_out = { 0 };
        g_assert_true(lz_encode(lz, &img, &lz_out));
        *lz_total_out += lz_out.len;
        codec_buf_clear(&lz_out);
        /* the client never keeps more images than the window implies */
        g_assert_cmpuint(glz_window_count(win), <=, (uint64_t)window / (w * h) + 1);
        codec_buf_clear(&out);
        g_free(buf);
    }
    g_free(master);
    lz_encoder_free(lz);
    glz_window_free(win);
    glz_dictionary_unref(dict);
}

static void test_sequence(void)
{
    size_t total, lz_total;
    run_sequence(1u << 22, 30, 7, false, &total, &lz_total);
    /* later frames are mostly references into earlier ones */
    g_assert_cmpuint(total, <, lz_total * 3 / 5);
}

static void test_small_window(void)
{
    size_t total, lz_total;
    /* room for about two images: constant eviction */
    run_sequence(97 * 61 * 2 + 10, 25, 11, false, &total, &lz_total);
}

static void test_reset(void)
{
    size_t total, lz_total;
    run_sequence(1u << 22, 20, 13, true, &total, &lz_total);
}

static void test_random_images(void)
{
    GlzDictionary *dict = glz_dictionary_new(1u << 20);
    GlzDecoderWindow *win = glz_window_new();
    for (uint64_t seed = 0; seed < 200; seed++) {
        Rng r = { seed * 77 + 5 };
        Case c = random_case(&r, rgb_fmts, G_N_ELEMENTS(rgb_fmts), 200, 120);
        uint32_t pal[256];
        uint8_t *buf;
        uint32_t *master = make_master(&r, c.kind, c.w, c.h);
        CodecImage img = make_image(&r, master, c.w, c.h, c.fmt, c.pad, c.top_down, &buf, pal);
        CodecBuf out = { 0 };
        g_assert_true(glz_encode(dict, &img, &out));
        CodecPicture pic;
        const char *err = "?";
        if (!glz_decode(win, out.data, out.len, &pic, &err)) {
            g_error("seed %" G_GUINT64_FORMAT ": %s", seed, err);
        }
        char what[64];
        snprintf(what, sizeof(what), "glz random seed %" G_GUINT64_FORMAT, seed);
        g_assert_true(picture_matches(&img, &pic, what));
        codec_picture_clear(&pic);
        codec_buf_clear(&out);
        g_free(buf);
        g_free(master);
    }
    /* images larger than the window are refused (the policy falls back to LZ) */
    uint32_t big[64 * 64] = { 0 };
    CodecImage img = { .fmt = SPICE_BITMAP_FMT_32BIT, .width = 64, .height = 64,
                       .stride = 256, .data = (const uint8_t *)big, .top_down = true };
    GlzDictionary *tiny = glz_dictionary_new(64 * 64);
    g_assert_false(glz_can_encode(tiny, &img));
    glz_dictionary_unref(tiny);
    /* a client cannot make the window unbounded */
    GlzDictionary *huge = glz_dictionary_new(UINT32_MAX);
    g_assert_cmpuint(glz_dictionary_window(huge), ==, GLZ_MAX_WINDOW_PIXELS);
    glz_dictionary_unref(huge);
    glz_window_free(win);
    glz_dictionary_unref(dict);
}

/* Pictures over 2^17 pixels: intra-image distances and offsets into
 * earlier images that need the 25-bit offset form, and references that end
 * exactly at the end of the referenced image. */
static void test_large(void)
{
    GlzDictionary *dict = glz_dictionary_new(1u << 22);
    GlzDecoderWindow *win = glz_window_new();
    Rng r = { 31 };
    uint32_t w = 640, h = 400;
    /* noisy content: every pixel pair is nearly unique, so the matcher finds
     * the far copies */
    uint32_t *master = make_master(&r, KIND_NOISE, w, h);
    /* the bottom rows repeat the top rows: distances of ~240000 pixels */
    memcpy(master + (size_t)(h - 20) * w, master, (size_t)20 * w * 4);
    for (int f = 0; f < 4; f++) {
        uint32_t pal[256];
        uint8_t *buf;
        /* frame f shifts the picture by f rows: references land deep in earlier images */
        uint32_t *shifted = g_new(uint32_t, (size_t)w * h);
        for (uint32_t y = 0; y < h; y++) {
            memcpy(shifted + (size_t)y * w, master + (size_t)((y + (uint32_t)f * 3) % h) * w, w * 4);
        }
        /* frames 2 and 3 are RGBA: the second one's alpha pass can use the first's */
        CodecImage img = make_image(&r, shifted, w, h, f >= 2 ? SPICE_BITMAP_FMT_RGBA :
                                    SPICE_BITMAP_FMT_32BIT, 0, f != 1, &buf, pal);
        CodecBuf out = { 0 };
        g_assert_true(glz_encode(dict, &img, &out));
        CodecPicture pic;
        const char *err = "?";
        if (!glz_decode(win, out.data, out.len, &pic, &err)) {
            g_error("large frame %d: %s", f, err);
        }
        g_assert_true(picture_matches(&img, &pic, "glz large"));
        g_test_message("large frame %d: %zu bytes", f, out.len);
        if (f == 1 || f == 3) {
            g_assert_cmpuint(out.len, <, (size_t)w * h / 4);
        }
        codec_picture_clear(&pic);
        codec_buf_clear(&out);
        g_free(buf);
        g_free(shifted);
    }
    g_free(master);
    glz_window_free(win);
    glz_dictionary_unref(dict);
}

/* ZLIB_GLZ_RGB through the encoder interface: body = glz_data_size,
 * data_size, zlib stream; inflating gives a GLZ stream that decodes. */
static void test_zlib_glz(void)
{
    GlzDictionary *dict = glz_dictionary_new(1u << 22);
    RedEncPolicy pol = { .image_compression = SPICE_IMAGE_COMPRESSION_GLZ,
                         .jpeg = RED_ENC_WAN_NEVER, .zlib_glz = RED_ENC_WAN_ALWAYS };
    RedEncoders *encs = red_encoders_new(&pol, dict);
    GlzDecoderWindow *win = glz_window_new();
    Rng r = { 99 };
    int zlib_seen = 0;
    for (int f = 0; f < 12; f++) {
        uint32_t w = 120, h = 40;
        uint32_t *master = make_master(&r, f % 2 ? KIND_TEXT : KIND_UI, w, h);
        RedEncInput in = { .format = RED_ENC_FMT_XRGB8888, .width = w, .height = h,
                           .stride = w * 4, .data = (const uint8_t *)master, .top_down = true };
        RedEncHints hints = { .from_drawable = true, .graduality = RED_ENC_GRAD_LOW };
        RedEncOutput out = { 0 };
        g_assert_true(red_encoders_encode(encs, &in, &hints, &out));
        const uint8_t *glz;
        size_t glz_len;
        uint8_t *inflated = NULL;
        if (out.image_type == SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB) {
            zlib_seen++;
            uLongf n = codec_get_u32le(out.body.data);
            g_assert_cmpuint(codec_get_u32le(out.body.data + 4), ==, out.body.len - 8);
            inflated = g_malloc(n);
            g_assert_cmpint(uncompress(inflated, &n, out.body.data + 8, out.body.len - 8), ==, Z_OK);
            g_assert_cmpuint(n, ==, codec_get_u32le(out.body.data));
            glz = inflated;
            glz_len = n;
        } else {
            g_assert_cmpuint(out.image_type, ==, SPICE_IMAGE_TYPE_GLZ_RGB);
            glz = out.body.data + 4;
            glz_len = out.body.len - 4;
        }
        CodecPicture pic;
        const char *err = "?";
        if (!glz_decode(win, glz, glz_len, &pic, &err)) {
            g_error("zlib-glz frame %d: %s", f, err);
        }
        CodecImage img = { .fmt = SPICE_BITMAP_FMT_32BIT, .width = w, .height = h,
                           .stride = w * 4, .data = (const uint8_t *)master, .top_down = true };
        g_assert_true(picture_matches(&img, &pic, "zlib-glz"));
        codec_picture_clear(&pic);
        g_free(inflated);
        red_encoder_output_clear(&out);
        g_free(master);
    }
    g_assert_cmpint(zlib_seen, >, 0);
    glz_window_free(win);
    red_encoders_free(encs);
    glz_dictionary_unref(dict);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/codec/glz/sequence", test_sequence);
    g_test_add_func("/codec/glz/small-window", test_small_window);
    g_test_add_func("/codec/glz/reset", test_reset);
    g_test_add_func("/codec/glz/random", test_random_images);
    g_test_add_func("/codec/glz/zlib", test_zlib_glz);
    g_test_add_func("/codec/glz/large", test_large);
    return g_test_run();
}
