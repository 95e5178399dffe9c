/* LZ_RGB / LZ_PLT stream (spice-common lz.c, lz_decompress_tmpl.c,
 * lz_common.h): 7 big-endian u32 (magic "LZ  " 0x20205a4c, version
 * 0x00010001, LzImageType, width, height, stride, top_down), then the pixel
 * stream of the rows in memory order; RGBA adds a second pass carrying the
 * alpha bytes. The image body on the wire is {u32 data_size, data} for
 * LZ_RGB and {u8 flags, u32 data_size, palette pointer or id, data} for
 * LZ_PLT. */
#pragma once

#include "common/codec/codec.h"

/* LzImageType values (lz_common.h). */
enum {
    LZ_TYPE_INVALID = 0,
    LZ_TYPE_PLT1_LE, LZ_TYPE_PLT1_BE, LZ_TYPE_PLT4_LE, LZ_TYPE_PLT4_BE, LZ_TYPE_PLT8,
    LZ_TYPE_RGB16, LZ_TYPE_RGB24, LZ_TYPE_RGB32, LZ_TYPE_RGBA, LZ_TYPE_XXXA, LZ_TYPE_A8,
};
#define LZ_MAGIC 0x20205a4cu
#define LZ_VERSION 0x00010001u

typedef struct LzEncoder LzEncoder;

/* Creates an encoder (hash table and scratch reused across images). The
 * caller owns it; one thread at a time. */
LzEncoder *lz_encoder_new(void);
void lz_encoder_free(LzEncoder *enc);

/* True for 8BIT (sent as PLT8), 16BIT, 24BIT, 32BIT and RGBA bitmaps. */
bool lz_can_encode(const CodecImage *img);
/* Appends the LZ stream of img (type chosen from its format) to out. */
bool lz_encode(LzEncoder *enc, const CodecImage *img, CodecBuf *out);
/* Appends an XXXA stream carrying only img's alpha (RGBA bitmaps), rows in
 * memory order with img->top_down: the alpha plane of JPEG_ALPHA. */
bool lz_encode_alpha(LzEncoder *enc, const CodecImage *img, CodecBuf *out);

/* ---- shared by the LZ and GLZ encoders ---- */

/* Flattens img's pixels in memory-row order into keys the match finder
 * compares: 0x00RRGGBB (16-bit expanded as the client does), or the index
 * for 8BIT. alpha (RGBA only, may be NULL) gets the alpha bytes. keys must
 * hold width * height entries. */
void lz_image_keys(const CodecImage *img, uint32_t *keys, uint8_t *alpha);

/* Test decoder. palette (8BIT images, may be NULL otherwise) maps PLT8
 * indices. Output: the picture as the client shows it; XXXA gives alpha
 * only (RGB 0) with has_alpha. False with *err on malformed input. */
bool lz_decode(const uint8_t *data, size_t len, const uint32_t *palette, uint32_t palette_n,
               CodecPicture *pic, uint8_t *out_type, const char **err);
