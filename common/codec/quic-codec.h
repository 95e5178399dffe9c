/* QUIC (spice-common quic.c, quic_tmpl.c, quic_family_tmpl.c): SFALIC-style
 * predictive coder, adaptive Golomb-Rice codes chosen per context bucket,
 * run-length (MELCODE) mode; a bit stream packed MSB-first into 32-bit
 * little-endian words. Header words: magic "QUIC" 0x43495551, version 0,
 * QuicImageType, width, height. Rows are coded top row first. The image
 * body on the wire is {u32 data_size, data}, data_size a multiple of 4. */
#pragma once

#include "common/codec/codec.h"

/* QuicImageType values (quic.h). */
enum {
    QUIC_TYPE_INVALID = 0, QUIC_TYPE_GRAY, QUIC_TYPE_RGB16, QUIC_TYPE_RGB24,
    QUIC_TYPE_RGB32, QUIC_TYPE_RGBA,
};
#define QUIC_MAGIC 0x43495551u

typedef struct QuicEncoder QuicEncoder;

/* Creates an encoder (model and row buffers reused). Caller owns it. */
QuicEncoder *quic_encoder_new(void);
void quic_encoder_free(QuicEncoder *enc);

/* True for 16BIT, 24BIT, 32BIT and RGBA bitmaps. */
bool quic_can_encode(const CodecImage *img);
/* Appends the QUIC stream of img to out. */
bool quic_encode(QuicEncoder *enc, const CodecImage *img, CodecBuf *out);

/* Decoder: pic as the client shows it (RGB16 expanded to 32-bit). Used by
 * the tests and by the worker to render guest QUIC images, so it bounds-checks
 * every read and is fuzzed (tests/fuzz/fuzz-codec-quic.c). */
bool quic_decode(const uint8_t *data, size_t len, CodecPicture *pic, const char **err);
