/* libFuzzer target: differential round trip of the encoders. Input: u8
 * width-1, u8 height-1, u8 format selector, u8 flags (top_down, padding),
 * then pixel bytes (repeated to fill the bitmap). Every lossless codec must
 * reproduce the picture exactly through its test decoder; GLZ runs through
 * one dictionary/window pair across the inputs of a process, so references
 * into earlier images get exercised too. */
#include <string.h>

#include "fuzz-codec-replay.h"
#include "common/codec/glz-codec.h"
#include "common/codec/lz-codec.h"
#include "common/codec/lz4-codec.h"
#include "common/codec/quic-codec.h"

static bool same(const CodecImage *img, const CodecPicture *pic)
{
    CodecPicture ref;
    codec_image_to_picture(img, &ref);
    bool ok = pic->width == ref.width && pic->height == ref.height;
    uint32_t mask = ref.has_alpha ? 0xffffffffu : 0xffffffu;
    for (size_t i = 0; ok && i < (size_t)ref.width * ref.height; i++) {
        ok = (pic->px[i] & mask) == (ref.px[i] & mask);
    }
    codec_picture_clear(&ref);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t fmts[] = { SPICE_BITMAP_FMT_8BIT, SPICE_BITMAP_FMT_16BIT,
                                    SPICE_BITMAP_FMT_24BIT, SPICE_BITMAP_FMT_32BIT,
                                    SPICE_BITMAP_FMT_RGBA };
    static GlzDictionary *dict;
    static GlzDecoderWindow *win;
    if (size < 5) {
        return 0;
    }
    if (!dict) {
        dict = glz_dictionary_new(1u << 18);
        win = glz_window_new();
    }
    uint32_t w = data[0] + 1u, h = data[1] + 1u;
    uint8_t fmt = fmts[data[2] % G_N_ELEMENTS(fmts)];
    bool top_down = data[3] & 1;
    size_t pad = (data[3] >> 1) & 7;
    const uint8_t *src = data + 4;
    size_t src_len = size - 4;
    size_t stride = (size_t)w * codec_fmt_bpp(fmt) + pad;
    uint8_t *buf = g_malloc(stride * h);
    for (size_t i = 0; i < stride * h; i++) {
        buf[i] = src[i % src_len];
    }
    uint32_t pal[256];
    for (int i = 0; i < 256; i++) {
        pal[i] = (uint32_t)i * 0x10203u;
    }
    CodecImage img = { .fmt = fmt, .width = w, .height = h, .stride = stride, .data = buf,
                       .top_down = top_down, .palette = pal, .palette_n = 256 };
    CodecBuf out = { 0 };
    CodecPicture pic;
    const char *err;

    LzEncoder *lz = lz_encoder_new();
    g_assert(lz_encode(lz, &img, &out));
    g_assert(lz_decode(out.data, out.len, pal, 256, &pic, NULL, &err));
    g_assert(same(&img, &pic));
    codec_picture_clear(&pic);
    lz_encoder_free(lz);

    if (fmt != SPICE_BITMAP_FMT_8BIT) {
        out.len = 0;
        QuicEncoder *q = quic_encoder_new();
        g_assert(quic_encode(q, &img, &out));
        g_assert(quic_decode(out.data, out.len, &pic, &err));
        g_assert(same(&img, &pic));
        codec_picture_clear(&pic);
        quic_encoder_free(q);

        out.len = 0;
        Lz4Encoder *l4 = lz4_encoder_new();
        g_assert(lz4_encode(l4, &img, &out));
        g_assert(lz4_decode(out.data, out.len, w, h, &pic, &err));
        g_assert(same(&img, &pic));
        codec_picture_clear(&pic);
        lz4_encoder_free(l4);

        out.len = 0;
        g_assert(glz_encode(dict, &img, &out));
        g_assert(glz_decode(win, out.data, out.len, &pic, &err));
        g_assert(same(&img, &pic));
        codec_picture_clear(&pic);
    }
    codec_buf_clear(&out);
    g_free(buf);
    return 0;
}
