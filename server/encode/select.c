/* Selection policy: which codec an image goes through, following upstream's
 * documented choice for spice_server_set_image_compression (facts from
 * spice server dcc.cpp get_compression_for_bitmap and image-encoders.cpp;
 * see docs/codecs.md for the table). Pure functions; any thread. */
#include <glib.h>

#include "server/encode/encoder.h"

/* Graduality sampling (upstream facts: a sample every 15 pixels, pair
 * weights +0.5 same / +1.0 contrasting (any channel differs by >= 60) /
 * -0.25 smooth; HIGH below -0.03 for 24/32-bit and below 0 for 16-bit,
 * MEDIUM below 0.002). */
#define GRAD_SAMPLE_JUMP 15
#define GRAD_CONTRAST_TH 60
#define GRAD_HIGH_TH_24 (-0.03)
#define GRAD_HIGH_TH_16 0.0
#define GRAD_MEDIUM_TH 0.002

static uint32_t grad_pixel(const CodecImage *img, const uint8_t *row, uint32_t x)
{
    switch (img->fmt) {
    case SPICE_BITMAP_FMT_16BIT:
        return codec_rgb16_to_32((uint16_t)(row[2 * x] | row[2 * x + 1] << 8));
    case SPICE_BITMAP_FMT_24BIT:
        return (uint32_t)row[3 * x] | row[3 * x + 1] << 8 | (uint32_t)row[3 * x + 2] << 16;
    default:
        return codec_get_u32le(row + 4 * x) & 0xffffff;
    }
}

static double pair_score(uint32_t a, uint32_t b)
{
    if (a == b) {
        return 0.5;
    }
    for (int s = 0; s < 24; s += 8) {
        int d = (int)((a >> s) & 0xff) - (int)((b >> s) & 0xff);
        if (d >= GRAD_CONTRAST_TH || d <= -GRAD_CONTRAST_TH) {
            return 1.0;
        }
    }
    return -0.25;
}

RedEncGraduality red_encode_graduality(const CodecImage *img)
{
    if (img->fmt == SPICE_BITMAP_FMT_8BIT || img->width < 2 || img->height < 2) {
        return RED_ENC_GRAD_LOW;
    }
    double score = 0;
    uint32_t samples = 0;
    /* Walk the picture in a diagonal-ish lattice so columns are not all
     * sampled at the same x; each sample scores its right and lower pair. */
    uint32_t phase = 0;
    for (uint32_t y = 0; y + 1 < img->height; y += 2) {
        const uint8_t *row = codec_image_row(img, y);
        const uint8_t *below = codec_image_row(img, y + 1);
        for (uint32_t x = phase; x + 1 < img->width; x += GRAD_SAMPLE_JUMP) {
            uint32_t p = grad_pixel(img, row, x);
            score += pair_score(p, grad_pixel(img, row, x + 1));
            score += pair_score(p, grad_pixel(img, below, x));
            samples += 2;
        }
        phase = (phase + 7) % GRAD_SAMPLE_JUMP;
    }
    if (samples == 0) {
        return RED_ENC_GRAD_LOW;
    }
    score /= samples;
    double high = img->fmt == SPICE_BITMAP_FMT_16BIT ? GRAD_HIGH_TH_16 : GRAD_HIGH_TH_24;
    if (score < high) {
        return RED_ENC_GRAD_HIGH;
    }
    if (score < GRAD_MEDIUM_TH) {
        return RED_ENC_GRAD_MEDIUM;
    }
    return RED_ENC_GRAD_LOW;
}

static bool fmt_is_rgb(uint8_t fmt)
{
    return fmt == SPICE_BITMAP_FMT_16BIT || fmt == SPICE_BITMAP_FMT_24BIT ||
           fmt == SPICE_BITMAP_FMT_32BIT || fmt == SPICE_BITMAP_FMT_RGBA;
}

static bool has_extra_stride(const CodecImage *img)
{
    return img->stride != (size_t)img->width * codec_fmt_bpp(img->fmt);
}

static bool wan_on(int setting, const RedEncPolicy *p)
{
    return setting == RED_ENC_WAN_ALWAYS ||
           (setting == RED_ENC_WAN_AUTO && p->low_bandwidth);
}

static bool can_quic(const CodecImage *img)
{
    return fmt_is_rgb(img->fmt) && img->width >= RED_ENC_MIN_DIMENSION_TO_QUIC &&
           img->height >= RED_ENC_MIN_DIMENSION_TO_QUIC;
}

#define DISABLED(mask, codec) (((mask) >> (codec)) & 1u)

RedEncCodec red_encode_select(const RedEncPolicy *p, const CodecImage *img,
                              const RedEncHints *h, uint32_t disabled,
                              uint32_t glz_window_pixels)
{
    SpiceImageCompression comp = p->image_compression;

    if ((uint64_t)img->height * img->stride < RED_ENC_MIN_SIZE_TO_COMPRESS ||
        comp == SPICE_IMAGE_COMPRESSION_OFF || h->unstable) {
        return RED_CODEC_RAW;
    }

    bool quic = false;
    if (comp == SPICE_IMAGE_COMPRESSION_QUIC) {
        if (!can_quic(img)) {
            return RED_CODEC_RAW;
        }
        quic = true;
    } else if (comp == SPICE_IMAGE_COMPRESSION_AUTO_GLZ ||
               comp == SPICE_IMAGE_COMPRESSION_AUTO_LZ) {
        if (can_quic(img) && !DISABLED(disabled, RED_CODEC_QUIC)) {
            RedEncGraduality g = h->graduality;
            if (g == RED_ENC_GRAD_UNKNOWN) {
                g = red_encode_graduality(img);
            }
            quic = g == RED_ENC_GRAD_HIGH;
        }
        comp = comp == SPICE_IMAGE_COMPRESSION_AUTO_LZ ? SPICE_IMAGE_COMPRESSION_LZ
                                                       : SPICE_IMAGE_COMPRESSION_GLZ;
    }

    if (quic) {
        /* JPEG replaces QUIC when lossy is allowed and the WAN setting is on;
         * RGBA needs packed rows for the alpha plane (upstream rule). */
        if (h->can_lossy && wan_on(p->jpeg, p) && !DISABLED(disabled, RED_CODEC_JPEG) &&
            (img->fmt != SPICE_BITMAP_FMT_RGBA || !has_extra_stride(img))) {
            return RED_CODEC_JPEG;
        }
        return DISABLED(disabled, RED_CODEC_QUIC) ? RED_CODEC_RAW : RED_CODEC_QUIC;
    }

    if (comp == SPICE_IMAGE_COMPRESSION_GLZ) {
        if (!h->from_drawable || !fmt_is_rgb(img->fmt) || glz_window_pixels == 0 ||
            (uint64_t)img->width * img->height >= glz_window_pixels ||
            DISABLED(disabled, RED_CODEC_GLZ)) {
            comp = SPICE_IMAGE_COMPRESSION_LZ;
        } else if (wan_on(p->zlib_glz, p) && !DISABLED(disabled, RED_CODEC_ZLIB_GLZ)) {
            return RED_CODEC_ZLIB_GLZ;
        } else {
            return RED_CODEC_GLZ;
        }
    }
    if (comp == SPICE_IMAGE_COMPRESSION_LZ4) {
        if (fmt_is_rgb(img->fmt) && p->client_lz4 && !has_extra_stride(img) &&
            !DISABLED(disabled, RED_CODEC_LZ4)) {
            return RED_CODEC_LZ4;
        }
        comp = SPICE_IMAGE_COMPRESSION_LZ;
    }
    if (comp == SPICE_IMAGE_COMPRESSION_LZ) {
        return DISABLED(disabled, RED_CODEC_LZ) ? RED_CODEC_RAW : RED_CODEC_LZ;
    }
    return RED_CODEC_RAW;
}
