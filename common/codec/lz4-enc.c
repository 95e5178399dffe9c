/* LZ4 image encoder: one LZ4 stream over the packed rows, cut into large
 * blocks so the 4-byte block headers cost nothing; the hash state carries
 * across blocks (LZ4_compress_fast_continue), as the client decodes them
 * with LZ4_decompress_safe_continue. */
#include <string.h>
#include <glib.h>
#include <lz4.h>

#include "common/codec/lz4-codec.h"

/* Input bytes per block: large blocks keep framing overhead negligible and
 * stay far below LZ4_MAX_INPUT_SIZE. */
#define LZ4_BLOCK_BYTES (1u << 20)

struct Lz4Encoder {
    LZ4_stream_t *stream;      /* owned */
    uint8_t *packed;           /* owned; rows copied together when the stride has padding */
    size_t packed_cap;
};

Lz4Encoder *lz4_encoder_new(void)
{
    Lz4Encoder *enc = g_new0(Lz4Encoder, 1);
    enc->stream = LZ4_createStream();
    g_assert(enc->stream != NULL);
    return enc;
}

void lz4_encoder_free(Lz4Encoder *enc)
{
    if (!enc) {
        return;
    }
    LZ4_freeStream(enc->stream);
    g_free(enc->packed);
    g_free(enc);
}

bool lz4_can_encode(const CodecImage *img)
{
    return codec_image_valid(img) && img->fmt != SPICE_BITMAP_FMT_8BIT;
}

bool lz4_encode(Lz4Encoder *enc, const CodecImage *img, CodecBuf *out)
{
    if (!lz4_can_encode(img)) {
        return false;
    }
    size_t row_bytes = (size_t)img->width * codec_fmt_bpp(img->fmt);
    size_t total = row_bytes * img->height;
    const uint8_t *src = img->data;

    if (img->stride != row_bytes) {
        /* The stream must read as contiguous rows and LZ4 needs its history
         * in place, so padded rows are packed once. */
        if (enc->packed_cap < total) {
            g_free(enc->packed);
            enc->packed = g_malloc(total);
            enc->packed_cap = total;
        }
        for (uint32_t y = 0; y < img->height; y++) {
            memcpy(enc->packed + y * row_bytes, codec_image_row(img, y), row_bytes);
        }
        src = enc->packed;
    }

    LZ4_resetStream_fast(enc->stream);
    codec_buf_put_u8(out, img->top_down ? 1 : 0);
    codec_buf_put_u8(out, img->fmt);
    for (size_t off = 0; off < total; off += LZ4_BLOCK_BYTES) {
        int in_len = (int)MIN((size_t)LZ4_BLOCK_BYTES, total - off);
        int bound = LZ4_compressBound(in_len);
        codec_buf_reserve(out, 4 + (size_t)bound);
        uint8_t *hdr = out->data + out->len;
        int n = LZ4_compress_fast_continue(enc->stream, (const char *)src + off,
                                           (char *)hdr + 4, in_len, bound, 1);
        g_assert(n > 0);
        hdr[0] = (uint8_t)(n >> 24);
        hdr[1] = (uint8_t)(n >> 16);
        hdr[2] = (uint8_t)(n >> 8);
        hdr[3] = (uint8_t)n;
        out->len += 4 + (size_t)n;
    }
    return true;
}
