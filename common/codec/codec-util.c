/* Helpers shared by the codec cores: buffer growth, bitmap validation and
 * the reference conversion the tests compare decoded pictures against. */
#include <string.h>
#include <glib.h>

#include "common/codec/codec.h"

unsigned codec_fmt_bpp(uint8_t fmt)
{
    switch (fmt) {
    case SPICE_BITMAP_FMT_8BIT:
        return 1;
    case SPICE_BITMAP_FMT_16BIT:
        return 2;
    case SPICE_BITMAP_FMT_24BIT:
        return 3;
    case SPICE_BITMAP_FMT_32BIT:
    case SPICE_BITMAP_FMT_RGBA:
        return 4;
    default:
        return 0;
    }
}

bool codec_image_valid(const CodecImage *img)
{
    return codec_image_sane(img) && (uint64_t)img->width * img->height <= CODEC_MAX_PIXELS;
}

bool codec_image_sane(const CodecImage *img)
{
    unsigned bpp = codec_fmt_bpp(img->fmt);

    if (bpp == 0 || img->data == NULL || img->width == 0 || img->height == 0) {
        return false;
    }
    if (img->stride < (uint64_t)img->width * bpp) {
        return false;
    }
    if (img->fmt == SPICE_BITMAP_FMT_8BIT &&
        (img->palette == NULL || img->palette_n == 0 || img->palette_n > 256)) {
        return false;
    }
    return true;
}

void codec_image_to_picture(const CodecImage *img, CodecPicture *pic)
{
    pic->width = img->width;
    pic->height = img->height;
    pic->has_alpha = img->fmt == SPICE_BITMAP_FMT_RGBA;
    pic->px = g_new(uint32_t, (size_t)img->width * img->height);
    for (uint32_t y = 0; y < img->height; y++) {
        const uint8_t *s = codec_image_top_row(img, y);
        uint32_t *d = pic->px + (size_t)y * img->width;
        for (uint32_t x = 0; x < img->width; x++) {
            switch (img->fmt) {
            case SPICE_BITMAP_FMT_8BIT:
                /* an index past the palette is the guest's problem; show black */
                d[x] = s[x] < img->palette_n ? img->palette[s[x]] & 0xffffff : 0;
                break;
            case SPICE_BITMAP_FMT_16BIT:
                d[x] = codec_rgb16_to_32((uint16_t)(s[2 * x] | s[2 * x + 1] << 8));
                break;
            case SPICE_BITMAP_FMT_24BIT:
                d[x] = (uint32_t)s[3 * x] | s[3 * x + 1] << 8 | (uint32_t)s[3 * x + 2] << 16;
                break;
            case SPICE_BITMAP_FMT_32BIT:
                d[x] = codec_get_u32le(s + 4 * x) & 0xffffff;
                break;
            case SPICE_BITMAP_FMT_RGBA:
                d[x] = codec_get_u32le(s + 4 * x);
                break;
            default:
                g_assert_not_reached();
            }
        }
    }
}

void codec_picture_clear(CodecPicture *pic)
{
    g_free(pic->px);
    memset(pic, 0, sizeof(*pic));
}

void codec_buf_reserve(CodecBuf *buf, size_t extra)
{
    if (buf->cap - buf->len >= extra) {
        return;
    }
    size_t need = buf->len + extra;
    g_assert(need >= buf->len);
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    buf->data = g_realloc(buf->data, cap);
    buf->cap = cap;
}

void codec_buf_clear(CodecBuf *buf)
{
    g_free(buf->data);
    memset(buf, 0, sizeof(*buf));
}
