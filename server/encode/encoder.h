/* Image encoders: turn a rendered region into the body of a SPICE image.
 *
 * Consumer API (display channel):
 *   RedEncoders *e = red_encoders_new(&policy, dict);   one per display channel client
 *   red_encoders_encode(e, &input, &hints, &out);       -> out.image_type, out.body
 *   red_encoder_output_clear(&out); red_encoders_free(e);
 * out.body holds exactly the bytes that follow the 18-byte SpiceImageDescriptor
 * on the wire (e.g. LZ_RGB: u32 data_size + data); out.image_type goes into the
 * descriptor's type field. The bitmap is only read during the call: every
 * encoder (GLZ included) keeps its own copies.
 *
 * Implementor API: a RedEncoder with a RedEncoderOps vtable per codec
 * (red_encoder_*_new below), plus the plain reference path (raw BITMAP) that
 * every other codec falls back to.
 *
 * RED_ENCODER_DISABLE=quic,glz,zlib-glz,lz,lz4,jpeg (any subset, comma
 * separated) makes red_encoders_new() skip those codecs, so tests can
 * cross-check a codec against its fallbacks.
 *
 * GLZ contract: glz_encode assigns the next image id of the client's window
 * and later images may reference it, so an image encoded as GLZ_RGB or
 * ZLIB_GLZ_RGB MUST reach the client (spice-gtk waits for a missing id
 * forever). Encode when the message is being marshalled for the socket,
 * never for a pipe item that may still be dropped or superseded.
 *
 * Threads: a RedEncoders belongs to the thread of its channel client. The GLZ
 * dictionary may be shared by the display channels of one client (different
 * worker threads); it locks itself.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <pixman.h>
#include <spice/enums.h>

#include "common/codec/codec.h"
#include "common/codec/glz-codec.h"

/* Pixel layouts as the display channel holds them (pixman names). */
typedef enum RedEncFormat {
    RED_ENC_FMT_XRGB8888,      /* PIXMAN_x8r8g8b8 */
    RED_ENC_FMT_ARGB8888,      /* PIXMAN_a8r8g8b8 (alpha is sent) */
    RED_ENC_FMT_RGB565,        /* PIXMAN_r5g6b5: no wire format, sent as 32-bit */
    RED_ENC_FMT_XRGB1555,      /* PIXMAN_x1r5g5b5 */
    RED_ENC_FMT_RGB888,        /* PIXMAN_r8g8b8: bytes B,G,R */
    RED_ENC_FMT_PAL8,          /* 8-bit palette indices */
} RedEncFormat;

typedef struct RedEncInput {
    RedEncFormat format;
    uint32_t width, height;    /* pixels, > 0 */
    size_t stride;             /* bytes between rows in memory, >= width * bpp */
    const uint8_t *data;       /* first row in memory; borrowed for the call */
    bool top_down;             /* first memory row is the top of the picture */
    const uint32_t *palette;   /* PAL8: x8r8g8b8 entries; borrowed */
    uint32_t palette_n;        /* PAL8: 1..256 */
} RedEncInput;

/* What the caller knows about the image. */
typedef enum RedEncGraduality {
    RED_ENC_GRAD_UNKNOWN,      /* let the selector sample the pixels */
    RED_ENC_GRAD_LOW,          /* text, UI: lossless dictionary coders win */
    RED_ENC_GRAD_MEDIUM,
    RED_ENC_GRAD_HIGH,         /* photographic: QUIC (or JPEG) wins */
} RedEncGraduality;

typedef struct RedEncHints {
    bool from_drawable;        /* image comes from a guest drawable (GLZ allowed) */
    bool can_lossy;            /* JPEG is acceptable for this image */
    bool unstable;             /* pixels may change under us (forces raw, as upstream) */
    RedEncGraduality graduality;
} RedEncHints;

typedef enum RedEncCodec {
    RED_CODEC_RAW,             /* SPICE_IMAGE_TYPE_BITMAP, the reference path */
    RED_CODEC_LZ4,
    RED_CODEC_LZ,              /* LZ_RGB or LZ_PLT */
    RED_CODEC_QUIC,
    RED_CODEC_GLZ,
    RED_CODEC_ZLIB_GLZ,
    RED_CODEC_JPEG,            /* JPEG or JPEG_ALPHA */
    RED_CODEC_COUNT,
} RedEncCodec;

typedef struct RedEncOutput {
    uint8_t image_type;        /* SPICE_IMAGE_TYPE_* for the descriptor */
    RedEncCodec codec;         /* which encoder produced it */
    CodecBuf body;             /* owned: bytes after the descriptor */
    int32_t palette_slot;      /* BITMAP 8BIT / LZ_PLT: offset in body of the u32
                                * Palette pointer the marshaller fills; -1 if none */
    bool lossy;                /* JPEG / JPEG_ALPHA */
} RedEncOutput;

/* spice_wan_compression_t values (spice-server.h), for RedEncPolicy. */
enum {
    RED_ENC_WAN_AUTO = 1,
    RED_ENC_WAN_ALWAYS = 2,
    RED_ENC_WAN_NEVER = 3,
};

/* Policy knobs, from spice_server_set_image_compression / _set_jpeg_compression
 * / _set_zlib_glz_compression and the client's caps. */
typedef struct RedEncPolicy {
    SpiceImageCompression image_compression;   /* AUTO_GLZ, AUTO_LZ, QUIC, GLZ, LZ, LZ4, OFF */
    int jpeg;                  /* RED_ENC_WAN_* */
    int zlib_glz;              /* RED_ENC_WAN_* */
    bool client_lz4;           /* client advertised SPICE_DISPLAY_CAP_LZ4_COMPRESSION */
    bool low_bandwidth;        /* the link is slow: WAN "auto" settings switch on */
    int jpeg_quality;          /* 1..100; 0 = default (85) */
} RedEncPolicy;

/* Images smaller than this many bytes (height * stride) go raw: upstream's
 * MIN_SIZE_TO_COMPRESS. */
#define RED_ENC_MIN_SIZE_TO_COMPRESS 54
/* QUIC needs at least this width and height (upstream MIN_DIMENSION_TO_QUIC). */
#define RED_ENC_MIN_DIMENSION_TO_QUIC 3
/* ZLIB_GLZ only wraps GLZ output larger than this (upstream MIN_GLZ_SIZE_FOR_ZLIB). */
#define RED_ENC_MIN_GLZ_SIZE_FOR_ZLIB 100
/* deflate level for ZLIB_GLZ (upstream ZLIB_DEFAULT_COMPRESSION_LEVEL). */
#define RED_ENC_ZLIB_LEVEL 3
#define RED_ENC_DEFAULT_JPEG_QUALITY 85

/* ---- implementor API ---- */

typedef struct RedEncoder RedEncoder;

typedef struct RedEncoderOps {
    const char *name;          /* required: the RED_ENCODER_DISABLE token */
    RedEncCodec codec;         /* required */
    /* required: whether this codec can encode img at all */
    bool (*can_encode)(const RedEncoder *enc, const CodecImage *img);
    /* required: appends the body to out->body and sets out->image_type,
     * palette_slot and lossy; false leaves out->body's length unchanged */
    bool (*encode)(RedEncoder *enc, const CodecImage *img, RedEncOutput *out);
    /* required: frees enc */
    void (*destroy)(RedEncoder *enc);
} RedEncoderOps;

struct RedEncoder {
    const RedEncoderOps *ops;
};

/* Constructors; the caller owns the result (red_encoder_destroy). GLZ and
 * ZLIB_GLZ take a reference on dict. jpeg_quality 0 = default. */
RedEncoder *red_encoder_raw_new(void);
RedEncoder *red_encoder_lz4_new(void);
RedEncoder *red_encoder_lz_new(void);
RedEncoder *red_encoder_quic_new(void);
RedEncoder *red_encoder_glz_new(GlzDictionary *dict);
RedEncoder *red_encoder_zlib_glz_new(GlzDictionary *dict);
RedEncoder *red_encoder_jpeg_new(int jpeg_quality);

/* Frees enc; NULL is fine. */
void red_encoder_destroy(RedEncoder *enc);

/* ---- consumer API ---- */

typedef struct RedEncoders RedEncoders;

/* Creates the encoder set of one display channel client. dict (may be NULL:
 * no GLZ) is the client's GLZ dictionary, created with the window size the
 * client sent in DISPLAY_INIT; the set takes a reference. Reads
 * RED_ENCODER_DISABLE. The caller owns the result. */
RedEncoders *red_encoders_new(const RedEncPolicy *policy, GlzDictionary *dict);
/* Frees the set; NULL is fine. */
void red_encoders_free(RedEncoders *encs);
/* Replaces the policy (e.g. after PREFERRED_COMPRESSION). */
void red_encoders_set_policy(RedEncoders *encs, const RedEncPolicy *policy);
/* Disables codecs by bit (1 << RedEncCodec) on top of the environment. */
void red_encoders_disable(RedEncoders *encs, uint32_t codec_mask);

/* Encodes in with the selection policy and falls back along
 * JPEG -> QUIC -> raw, ZLIB_GLZ -> GLZ -> LZ -> raw, LZ4 -> LZ -> raw.
 * Fills out (caller clears it). Returns false only if `in` itself is invalid
 * (bad format, zero size, stride too small, missing palette: a guest bug the
 * caller reports) or too large to send as one image (raw body over 4 GiB;
 * r5g6b5 over CODEC_MAX_PIXELS): the caller splits the region. Images over
 * CODEC_MAX_PIXELS (64 Mpixel) in other formats go raw. */
bool red_encoders_encode(RedEncoders *encs, const RedEncInput *in,
                         const RedEncHints *hints, RedEncOutput *out);

/* Encodes with exactly one codec, no policy and no fallback (tests, bench).
 * Returns false if that codec is disabled or cannot encode the image. */
bool red_encoders_encode_with(RedEncoders *encs, RedEncCodec codec,
                              const RedEncInput *in, RedEncOutput *out);

/* Frees out's body and resets it. */
void red_encoder_output_clear(RedEncOutput *out);

/* Parses a RED_ENCODER_DISABLE value into a codec bit mask; unknown names
 * are ignored. */
uint32_t red_encoders_parse_disable(const char *list);

/* Codec name for logs ("quic", "glz", ...). */
const char *red_encoder_codec_name(RedEncCodec codec);

/* ---- selection policy (select.c) ---- */

/* The codec the policy picks first for img (before fallbacks), given the
 * disabled mask and the GLZ window in pixels (0 = no dictionary). */
RedEncCodec red_encode_select(const RedEncPolicy *policy, const CodecImage *img,
                              const RedEncHints *hints, uint32_t disabled_mask,
                              uint32_t glz_window_pixels);

/* Samples img and estimates how photographic it is (upstream's graduality
 * score, see docs/codecs.md). */
RedEncGraduality red_encode_graduality(const CodecImage *img);
