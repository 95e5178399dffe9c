/* SPICE_IMAGE_TYPE_LZ4 stream: u8 top_down, u8 SpiceBitmapFmt (16BIT, 24BIT,
 * 32BIT or RGBA), then blocks {u32 big-endian compressed size, LZ4 block}
 * forming one LZ4 stream whose output is the rows in memory order, packed
 * (width * bpp bytes each). Source: spice-common canvas_base.c
 * canvas_get_lz4(). The image body on the wire is {u32 data_size, data}. */
#pragma once

#include "common/codec/codec.h"

typedef struct Lz4Encoder Lz4Encoder;

/* Creates an encoder (reusable LZ4 state). Caller owns it. Any thread, one
 * thread at a time per encoder. */
Lz4Encoder *lz4_encoder_new(void);
/* Frees enc; NULL is fine. */
void lz4_encoder_free(Lz4Encoder *enc);

/* True if fmt can be sent as LZ4. */
bool lz4_can_encode(const CodecImage *img);

/* Appends the LZ4 stream of img to out. Returns false (out unchanged in
 * length) if img is not encodable. */
bool lz4_encode(Lz4Encoder *enc, const CodecImage *img, CodecBuf *out);

/* Test decoder: decodes `data` for a width x height descriptor into pic
 * (caller owns it). Returns false with *err set on malformed input. */
bool lz4_decode(const uint8_t *data, size_t len, uint32_t width, uint32_t height,
                CodecPicture *pic, const char **err);
