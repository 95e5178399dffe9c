/* The QUIC encoder's output for a fixed set of seeded images, folded into
 * one checksum recorded from the encoder as it was before its speed-up
 * (2026-11-21). Any change to the encoder must keep the streams byte for
 * byte: the wire format and the client's model evolution are fixed. Run
 * with an argument "print" to show the checksum of the current encoder. */
#include "tests/unit/codec/codec-test-util.h"
#include "common/codec/quic-codec.h"

#define GOLDEN_HASH 0xb9528c7a7fd77560ull
#define GOLDEN_BYTES 4574376u

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

static uint64_t encode_one(QuicEncoder *enc, Rng *r, const Case *c, uint64_t h, size_t *bytes)
{
    uint32_t pal[256];
    uint8_t *buf;
    uint32_t *master = make_master(r, c->kind, c->w, c->h);
    CodecImage img = make_image(r, master, c->w, c->h, c->fmt, c->pad, c->top_down, &buf, pal);
    CodecBuf out = { 0 };
    g_assert_true(quic_encode(enc, &img, &out));
    g_assert_cmpuint(out.len % 4, ==, 0);
    uint8_t len_le[4];
    codec_put_u32le(len_le, (uint32_t)out.len);
    h = fnv1a(fnv1a(h, len_le, 4), out.data, out.len);
    *bytes += out.len;
    codec_buf_clear(&out);
    g_free(buf);
    g_free(master);
    return h;
}

int main(int argc, char **argv)
{
    QuicEncoder *enc = quic_encoder_new();
    Rng r = { 20261121 };
    uint64_t h = 0xcbf29ce484222325ull;
    size_t bytes = 0;

    /* every kind in every format at sizes that cross the wait-mask steps
     * (2048 symbols) inside a row and between rows */
    static const uint32_t sizes[][2] = { { 1, 1 }, { 3, 7 }, { 2100, 3 }, { 257, 61 }, { 640, 48 } };
    for (int k = 0; k < KIND_COUNT; k++) {
        for (size_t f = 0; f < G_N_ELEMENTS(rgb_fmts); f++) {
            for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++) {
                Case c = { .w = sizes[s][0], .h = sizes[s][1], .kind = k, .fmt = rgb_fmts[f],
                           .pad = s & 1 ? 3 : 0, .top_down = f & 1 };
                h = encode_one(enc, &r, &c, h, &bytes);
            }
        }
    }
    for (int i = 0; i < 300; i++) {
        Case c = random_case(&r, rgb_fmts, G_N_ELEMENTS(rgb_fmts), 200, 120);
        h = encode_one(enc, &r, &c, h, &bytes);
    }
    quic_encoder_free(enc);

    if (argc > 1 && strcmp(argv[1], "print") == 0) {
        printf("#define GOLDEN_HASH 0x%016llxull\n#define GOLDEN_BYTES %zuu\n",
               (unsigned long long)h, bytes);
        return 0;
    }
    if (h != GOLDEN_HASH || bytes != GOLDEN_BYTES) {
        fprintf(stderr, "QUIC streams changed: hash 0x%016llx bytes %zu, recorded 0x%016llx %u\n",
                (unsigned long long)h, bytes, GOLDEN_HASH, GOLDEN_BYTES);
        return 1;
    }
    printf("QUIC streams identical: hash 0x%016llx, %zu bytes\n", (unsigned long long)h, bytes);
    return 0;
}
