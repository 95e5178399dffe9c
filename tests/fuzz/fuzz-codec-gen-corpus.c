/* Writes the seed corpora of the fuzz-codec-* targets from our encoders:
 * a handful of small pictures of each kind and format. Run from the source
 * root: fuzz-codec-gen-corpus tests/fuzz/corpus */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "common/codec/glz-codec.h"
#include "common/codec/jpeg-codec.h"
#include "common/codec/lz-codec.h"
#include "common/codec/lz4-codec.h"
#include "common/codec/quic-codec.h"

static void save(const char *root, const char *codec, int n, const CodecBuf *b, const uint8_t *prefix,
                 size_t plen)
{
    char *dir = g_build_filename(root, codec, NULL);
    g_mkdir_with_parents(dir, 0755);
    char name[32];
    snprintf(name, sizeof(name), "seed-%02d", n);
    char *path = g_build_filename(dir, name, NULL);
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, prefix, (guint)plen);
    g_byte_array_append(a, b->data, (guint)b->len);
    g_assert(g_file_set_contents(path, (const char *)a->data, a->len, NULL));
    g_byte_array_unref(a);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s CORPUS-ROOT\n", argv[0]);
        return 2;
    }
    const char *root = argv[1];
    static const uint8_t fmts[] = { SPICE_BITMAP_FMT_16BIT, SPICE_BITMAP_FMT_24BIT,
                                    SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA };
    uint32_t pal[16];
    for (int i = 0; i < 16; i++) {
        pal[i] = (uint32_t)i * 0x111111u;
    }
    Lz4Encoder *lz4 = lz4_encoder_new();
    LzEncoder *lz = lz_encoder_new();
    QuicEncoder *quic = quic_encoder_new();
    GlzDictionary *dict = glz_dictionary_new(1u << 16);
    CodecBuf glz_seq = { 0 };
    int n = 0;
    for (int f = 0; f < 4; f++) {
        for (int k = 0; k < 2; k++, n++) {
            uint32_t w = 7 + (uint32_t)n * 3, h = 5 + (uint32_t)n;
            size_t stride = (size_t)w * 4;
            uint8_t *px = g_malloc(stride * h);
            for (size_t i = 0; i < stride * h; i++) {
                px[i] = k ? (uint8_t)(i * 37 / 5) : (uint8_t)((i / 40) * 50);
            }
            CodecImage img = { .fmt = fmts[f], .width = w, .height = h, .stride = stride,
                               .data = px, .top_down = k, .palette = pal, .palette_n = 16 };
            CodecBuf b = { 0 };
            uint8_t dims[4] = { (uint8_t)(w - 1), 0, (uint8_t)(h - 1), 0 };
            lz4_encode(lz4, &img, &b);
            save(root, "codec-lz4", n, &b, dims, 4);
            b.len = 0;
            lz_encode(lz, &img, &b);
            save(root, "codec-lz", n, &b, (const uint8_t[]){ 0 }, 1);
            b.len = 0;
            quic_encode(quic, &img, &b);
            save(root, "codec-quic", n, &b, NULL, 0);
            b.len = 0;
            jpeg_encode(&img, 50, &b);
            save(root, "codec-jpeg", n, &b, NULL, 0);
            b.len = 0;
            glz_encode(dict, &img, &b);
            uint8_t l[2] = { (uint8_t)b.len, (uint8_t)(b.len >> 8) };
            save(root, "codec-glz", n, &b, l, 2);
            codec_buf_reserve(&glz_seq, b.len + 2);
            glz_seq.data[glz_seq.len++] = l[0];
            glz_seq.data[glz_seq.len++] = l[1];
            memcpy(glz_seq.data + glz_seq.len, b.data, b.len);
            glz_seq.len += b.len;
            /* a palette image for LZ_PLT */
            img.fmt = SPICE_BITMAP_FMT_8BIT;
            for (size_t i = 0; i < stride * h; i++) {
                px[i] &= 15;
            }
            img.stride = w;
            b.len = 0;
            lz_encode(lz, &img, &b);
            save(root, "codec-lz", 50 + n, &b, (const uint8_t[]){ 16 }, 1);
            codec_buf_clear(&b);
            g_free(px);
        }
    }
    save(root, "codec-glz", 99, &glz_seq, NULL, 0);
    codec_buf_clear(&glz_seq);
    glz_dictionary_unref(dict);
    lz4_encoder_free(lz4);
    lz_encoder_free(lz);
    quic_encoder_free(quic);
    return 0;
}
