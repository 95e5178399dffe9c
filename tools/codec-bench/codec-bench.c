/* codec-bench: encode the same pictures with every codec and print CPU
 * time per megapixel and output size. Not a test; numbers go into
 * docs/codecs.md.
 *   codec-bench [iterations]
 * Pictures (1024x768 x8r8g8b8): text, ui, photo, gradient, noise, and a
 * "scroll" pair where the second frame is the first shifted by 8 rows (GLZ
 * can reference the first through its window). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>

#include "server/encode/encoder.h"

#define W 1024
#define H 768

static uint64_t rng_state = 1;

static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void fill(uint32_t *px, const char *kind)
{
    for (uint32_t y = 0; y < H; y++) {
        for (uint32_t x = 0; x < W; x++) {
            uint32_t v;
            if (!strcmp(kind, "text")) {
                /* 8x16 cells with glyph-like strokes on white */
                uint32_t cx = x % 8, cy = y % 16, cell = (x / 8) * 131 + (y / 16) * 71;
                v = ((cell + cx * 3 + cy) % 11 == 0 && cy > 2 && cy < 13) ? 0x202020 : 0xffffff;
            } else if (!strcmp(kind, "ui")) {
                v = y < 24 ? 0x3050a0 : (x % 200 < 2 || y % 150 < 2) ? 0x808080 :
                    ((x / 200 + y / 150) & 1) ? 0xf0f0f0 : 0xe0e8f0;
            } else if (!strcmp(kind, "photo")) {
                int b = (int)(128 + 50 * ((x * 7 + y * 3) % 251) / 251.0 + (int)(rnd() % 13) - 6);
                b = b < 0 ? 0 : b > 255 ? 255 : b;
                v = (uint32_t)b << 16 | (uint32_t)(b * 3 / 4) << 8 | (uint32_t)(255 - b);
            } else if (!strcmp(kind, "gradient")) {
                v = (x * 255 / W) << 16 | (y * 255 / H) << 8 | ((x + y) & 0xff);
            } else {
                v = rnd() & 0xffffff;
            }
            px[(size_t)y * W + x] = v;
        }
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 5;
    static const char *const kinds[] = { "text", "ui", "photo", "gradient", "noise" };
    static const RedEncCodec codecs[] = { RED_CODEC_RAW, RED_CODEC_LZ4, RED_CODEC_LZ,
                                          RED_CODEC_QUIC, RED_CODEC_GLZ, RED_CODEC_ZLIB_GLZ,
                                          RED_CODEC_JPEG };
    uint32_t *px = g_new(uint32_t, W * H);
    RedEncPolicy pol = { .image_compression = SPICE_IMAGE_COMPRESSION_AUTO_GLZ,
                         .jpeg = RED_ENC_WAN_AUTO, .zlib_glz = RED_ENC_WAN_AUTO, .client_lz4 = true };

    printf("%-9s %-9s %12s %10s %8s\n", "picture", "codec", "ms/frame", "bytes", "ratio");
    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
        fill(px, kinds[k]);
        RedEncInput in = { .format = RED_ENC_FMT_XRGB8888, .width = W, .height = H,
                           .stride = W * 4, .data = (const uint8_t *)px, .top_down = true };
        for (size_t c = 0; c < G_N_ELEMENTS(codecs); c++) {
            size_t bytes = 0;
            double t = 0;
            for (int i = 0; i < iters; i++) {
                /* a fresh dictionary each time: no help from earlier frames */
                GlzDictionary *dict = glz_dictionary_new(16u << 20);
                RedEncoders *encs = red_encoders_new(&pol, dict);
                RedEncOutput out = { 0 };
                double t0 = now_s();
                if (!red_encoders_encode_with(encs, codecs[c], &in, &out)) {
                    fprintf(stderr, "%s failed\n", red_encoder_codec_name(codecs[c]));
                    return 1;
                }
                t += now_s() - t0;
                bytes = out.body.len;
                red_encoder_output_clear(&out);
                red_encoders_free(encs);
                glz_dictionary_unref(dict);
            }
            printf("%-9s %-9s %12.2f %10zu %8.2f\n", kinds[k], red_encoder_codec_name(codecs[c]),
                   t * 1000 / iters, bytes, (double)W * H * 4 / bytes);
        }
        /* the policy's own pick for this picture */
        GlzDictionary *dict = glz_dictionary_new(16u << 20);
        RedEncoders *encs = red_encoders_new(&pol, dict);
        RedEncOutput out = { 0 };
        RedEncHints hints = { .from_drawable = true };
        red_encoders_encode(encs, &in, &hints, &out);
        printf("%-9s %-9s (auto_glz picks this)\n", kinds[k], red_encoder_codec_name(out.codec));
        red_encoder_output_clear(&out);
        red_encoders_free(encs);
        glz_dictionary_unref(dict);
    }

    /* scroll: frame 2 is frame 1 moved up by 8 rows with one new band */
    fill(px, "text");
    uint32_t *px2 = g_new(uint32_t, W * H);
    memcpy(px2, px + 8 * W, (size_t)W * (H - 8) * 4);
    for (size_t i = (size_t)W * (H - 8); i < (size_t)W * H; i++) {
        px2[i] = 0xffffff;
    }
    static const RedEncCodec scroll_codecs[] = { RED_CODEC_LZ4, RED_CODEC_LZ, RED_CODEC_GLZ,
                                                 RED_CODEC_ZLIB_GLZ };
    for (size_t c = 0; c < G_N_ELEMENTS(scroll_codecs); c++) {
        GlzDictionary *dict = glz_dictionary_new(16u << 20);
        RedEncoders *encs = red_encoders_new(&pol, dict);
        RedEncInput a = { .format = RED_ENC_FMT_XRGB8888, .width = W, .height = H,
                          .stride = W * 4, .data = (const uint8_t *)px, .top_down = true };
        RedEncInput b = a;
        b.data = (const uint8_t *)px2;
        RedEncOutput out = { 0 };
        red_encoders_encode_with(encs, scroll_codecs[c], &a, &out);
        red_encoder_output_clear(&out);
        double t0 = now_s();
        red_encoders_encode_with(encs, scroll_codecs[c], &b, &out);
        double t = now_s() - t0;
        printf("%-9s %-9s %12.2f %10zu %8.2f\n", "scroll-2", red_encoder_codec_name(scroll_codecs[c]),
               t * 1000, out.body.len, (double)W * H * 4 / out.body.len);
        red_encoder_output_clear(&out);
        red_encoders_free(encs);
        glz_dictionary_unref(dict);
    }
    g_free(px);
    g_free(px2);
    return 0;
}
