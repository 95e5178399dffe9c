/* Lossless round trips through the test decoders: `lz4`, `lz` or `quic`.
 * Seeded random cases (every kind of picture, every bitmap format the codec
 * takes, odd sizes, padded strides, both row orders) plus fixed edge cases:
 * 1x1, 3x3, rows wider than QUIC's 2048-symbol wait-mask step, and images
 * large enough to reach the last wait-mask index. A failing case prints its
 * seed; `test-codec-roundtrip CODEC SEED` replays one. */
#include "codec-test-util.h"
#include "common/codec/lz4-codec.h"
#include "common/codec/lz-codec.h"
#include "common/codec/quic-codec.h"

typedef struct {
    Lz4Encoder *lz4;
    LzEncoder *lz;
    QuicEncoder *quic;
    const char *name;
    size_t in_bytes, out_bytes;
} Ctx;

static bool encode_decode(Ctx *cx, const CodecImage *img, const char *what)
{
    CodecBuf out = { 0 };
    CodecPicture pic;
    const char *err = "?";
    bool ok;

    if (strcmp(cx->name, "lz4") == 0) {
        g_assert_true(lz4_encode(cx->lz4, img, &out));
        ok = lz4_decode(out.data, out.len, img->width, img->height, &pic, &err);
    } else if (strcmp(cx->name, "lz") == 0) {
        g_assert_true(lz_encode(cx->lz, img, &out));
        ok = lz_decode(out.data, out.len, img->palette, img->palette_n, &pic, NULL, &err);
    } else {
        g_assert_true(quic_encode(cx->quic, img, &out));
        g_assert_cmpuint(out.len % 4, ==, 0);
        ok = quic_decode(out.data, out.len, &pic, &err);
    }
    if (!ok) {
        fprintf(stderr, "%s: decode failed: %s\n", what, err);
    } else {
        ok = picture_matches(img, &pic, what);
        codec_picture_clear(&pic);
    }
    cx->in_bytes += (size_t)img->width * img->height * codec_fmt_bpp(img->fmt);
    cx->out_bytes += out.len;

    /* every strict prefix must be rejected, never crash */
    if (ok && out.len > 1) {
        size_t cut = out.len / 2;
        bool prefix_ok;
        if (strcmp(cx->name, "lz4") == 0) {
            prefix_ok = lz4_decode(out.data, cut, img->width, img->height, &pic, &err);
        } else if (strcmp(cx->name, "lz") == 0) {
            prefix_ok = lz_decode(out.data, cut, img->palette, img->palette_n, &pic, NULL, &err);
        } else {
            prefix_ok = quic_decode(out.data, cut & ~(size_t)3, &pic, &err);
        }
        if (prefix_ok) {
            codec_picture_clear(&pic);
        }
        if (prefix_ok) {
            fprintf(stderr, "%s: truncated stream accepted\n", what);
            ok = false;
        }
    }
    codec_buf_clear(&out);
    return ok;
}

static bool run_case(Ctx *cx, uint64_t seed, const uint8_t *fmts, size_t nfmts)
{
    Rng r = { seed * 0x9e3779b97f4a7c15ull + 1 };
    Case c = random_case(&r, fmts, nfmts, 300, 160);
    uint32_t pal[256];
    uint8_t *buf;
    uint32_t *master = make_master(&r, c.kind, c.w, c.h);
    CodecImage img = make_image(&r, master, c.w, c.h, c.fmt, c.pad, c.top_down, &buf, pal);
    char what[160];
    snprintf(what, sizeof(what), "%s seed %" G_GUINT64_FORMAT " %ux%u %s fmt %u pad %zu %s",
             cx->name, seed, c.w, c.h, kind_names[c.kind], c.fmt, c.pad,
             c.top_down ? "top-down" : "bottom-up");
    bool ok = encode_decode(cx, &img, what);
    g_free(buf);
    g_free(master);
    return ok;
}

static bool fixed_cases(Ctx *cx, const uint8_t *fmts, size_t nfmts)
{
    /* 1024x200 and 700x300 put candidates beyond LZ's 73725-pixel reach */
    static const uint32_t sizes[][2] = { { 1, 1 }, { 3, 3 }, { 2100, 7 }, { 4099, 3 }, { 160, 120 },
                                         { 1024, 200 }, { 700, 300 } };
    bool ok = true;
    Rng r = { 42 };
    for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
        for (size_t f = 0; f < nfmts; f++) {
            for (int kind = 0; kind < KIND_COUNT; kind++) {
                uint32_t w = sizes[s][0], h = sizes[s][1], pal[256];
                uint8_t *buf;
                uint32_t *master = make_master(&r, kind, w, h);
                CodecImage img = make_image(&r, master, w, h, fmts[f], s & 1 ? 3 : 0,
                                            kind & 1, &buf, pal);
                char what[128];
                snprintf(what, sizeof(what), "%s fixed %ux%u %s fmt %u", cx->name, w, h,
                         kind_names[kind], fmts[f]);
                ok &= encode_decode(cx, &img, what);
                g_free(buf);
                g_free(master);
            }
        }
    }
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s lz4|lz|quic [seed]\n", argv[0]);
        return 2;
    }
    Ctx cx = { .lz4 = lz4_encoder_new(), .lz = lz_encoder_new(), .quic = quic_encoder_new(),
               .name = argv[1] };
    static const uint8_t lz_fmts[] = {
        SPICE_BITMAP_FMT_8BIT, SPICE_BITMAP_FMT_16BIT, SPICE_BITMAP_FMT_24BIT,
        SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA,
    };
    const uint8_t *fmts = strcmp(cx.name, "lz") == 0 ? lz_fmts : rgb_fmts;
    size_t nfmts = strcmp(cx.name, "lz") == 0 ? G_N_ELEMENTS(lz_fmts) : G_N_ELEMENTS(rgb_fmts);
    int failures = 0;

    if (argc > 2) {
        return run_case(&cx, g_ascii_strtoull(argv[2], NULL, 10), fmts, nfmts) ? 0 : 1;
    }
    for (uint64_t seed = 0; seed < 400; seed++) {
        if (!run_case(&cx, seed, fmts, nfmts)) {
            failures++;
        }
    }
    if (!fixed_cases(&cx, fmts, nfmts)) {
        failures++;
    }
    printf("%s: %d failures, %zu bytes in, %zu bytes out\n", cx.name, failures,
           cx.in_bytes, cx.out_bytes);
    lz4_encoder_free(cx.lz4);
    lz_encoder_free(cx.lz);
    quic_encoder_free(cx.quic);
    return failures ? 1 : 0;
}
