/* Bitmap decoding: SPICE_BITMAP_FMT_* pixel rows (any stride, either row
 * order) into top-down pixman images, and 1-bit bitmaps into a1 masks.
 * Every read is bounded by the caller's data_size and palette length. */
#include <limits.h>
#include <string.h>

#include "common/canvas/canvas-private.h"

#define CANVAS_ERROR g_quark_from_static_string("red-canvas")
#define BITMAP_DIM_LIMIT (1u << 16)

static uint32_t bits_per_pixel(uint32_t format)
{
    switch (format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
    case SPICE_BITMAP_FMT_1BIT_BE: return 1;
    case SPICE_BITMAP_FMT_4BIT_LE:
    case SPICE_BITMAP_FMT_4BIT_BE: return 4;
    case SPICE_BITMAP_FMT_8BIT:
    case SPICE_BITMAP_FMT_8BIT_A: return 8;
    case SPICE_BITMAP_FMT_16BIT: return 16;
    case SPICE_BITMAP_FMT_24BIT: return 24;
    case SPICE_BITMAP_FMT_32BIT:
    case SPICE_BITMAP_FMT_RGBA: return 32;
    default: return 0;
    }
}

/* Checks sizes; returns the source pointer of image row 0 and its step. */
static bool check_bitmap(const RedCanvasBitmap *bm, const uint8_t **row0, ptrdiff_t *step,
                         GError **error)
{
    uint32_t bpp = bits_per_pixel(bm->format);
    if (!bpp) {
        g_set_error(error, CANVAS_ERROR, 1, "unknown bitmap format %u", bm->format);
        return false;
    }
    if (bm->width == 0 || bm->height == 0 || bm->width > BITMAP_DIM_LIMIT ||
        bm->height > BITMAP_DIM_LIMIT) {
        g_set_error(error, CANVAS_ERROR, 1, "bad bitmap size %ux%u", bm->width, bm->height);
        return false;
    }
    uint64_t row_bytes = ((uint64_t)bm->width * bpp + 7) / 8;
    if (bm->stride < row_bytes) {
        g_set_error(error, CANVAS_ERROR, 1, "bitmap stride %u below row size %" G_GUINT64_FORMAT,
                    bm->stride, row_bytes);
        return false;
    }
    uint64_t need = (uint64_t)bm->stride * (bm->height - 1) + row_bytes;
    if (!bm->data || need > bm->data_size) {
        g_set_error(error, CANVAS_ERROR, 1, "bitmap needs %" G_GUINT64_FORMAT " bytes, has %zu",
                    need, bm->data_size);
        return false;
    }
    if (bpp <= 8 && bm->format != SPICE_BITMAP_FMT_8BIT_A && !bm->palette) {
        g_set_error(error, CANVAS_ERROR, 1, "paletted bitmap without a palette");
        return false;
    }
    if (bm->top_down) {
        *row0 = bm->data;
        *step = (ptrdiff_t)bm->stride;
    } else {
        *row0 = bm->data + (size_t)bm->stride * (bm->height - 1);
        *step = -(ptrdiff_t)bm->stride;
    }
    return true;
}

static pixman_format_code_t output_format(uint32_t format)
{
    switch (format) {
    case SPICE_BITMAP_FMT_16BIT: return PIXMAN_x1r5g5b5;
    case SPICE_BITMAP_FMT_RGBA: return PIXMAN_a8r8g8b8;
    case SPICE_BITMAP_FMT_8BIT_A: return PIXMAN_a8;
    default: return PIXMAN_x8r8g8b8;
    }
}

/* The palette as a lookup table of `size` entries (2, 16 or 256): indexes
 * past palette_entries read as 0, so the pixel loops need no bound check. */
static void palette_lut(const RedCanvasBitmap *bm, uint32_t *lut, uint32_t size)
{
    uint32_t n = MIN(size, bm->palette_entries);
    if (n) {
        memcpy(lut, bm->palette, n * sizeof(uint32_t));
    }
    for (uint32_t i = n; i < size; i++) {
        lut[i] = 0;
    }
}

pixman_image_t *red_canvas_wrap_bitmap(const RedCanvasBitmap *bm, bool high_bits_set)
{
    const uint8_t *src;
    ptrdiff_t step;

    if (!bm || !check_bitmap(bm, &src, &step, NULL)) {
        return NULL;
    }
    pixman_format_code_t of = output_format(bm->format);
    switch (bm->format) {
    case SPICE_BITMAP_FMT_32BIT:
        if (high_bits_set) {
            return NULL;        /* the fourth byte must be rewritten */
        }
        break;
    case SPICE_BITMAP_FMT_RGBA:
    case SPICE_BITMAP_FMT_16BIT:
    case SPICE_BITMAP_FMT_8BIT_A:
        break;
    default:
        return NULL;            /* needs a conversion */
    }
    /* pixman wants 32-bit aligned rows; bottom-up bitmaps become a negative
     * stride from the last row. */
    if ((uintptr_t)src % sizeof(uint32_t) || step % (ptrdiff_t)sizeof(uint32_t) ||
        step > INT_MAX || step < -INT_MAX) {
        return NULL;
    }
    return pixman_image_create_bits(of, (int)bm->width, (int)bm->height,
                                    (uint32_t *)(uintptr_t)src, (int)step);
}

pixman_image_t *red_canvas_decode_bitmap(const RedCanvasBitmap *bm, bool high_bits_set,
                                         GError **error)
{
    const uint8_t *src;
    ptrdiff_t step;

    if (!bm || !check_bitmap(bm, &src, &step, error)) {
        return NULL;
    }
    pixman_format_code_t of = output_format(bm->format);
    /* Every pixel of every row is written below: no need to clear. */
    pixman_image_t *img = pixman_image_create_bits_no_clear(of, (int)bm->width,
                                                            (int)bm->height, NULL, 0);
    if (!img) {
        g_set_error(error, CANVAS_ERROR, 1, "out of memory for a %ux%u image", bm->width, bm->height);
        return NULL;
    }
    uint8_t *dst_row = (uint8_t *)pixman_image_get_data(img);
    int dstride = pixman_image_get_stride(img);
    uint32_t w = bm->width;
    uint32_t lut[256];
    switch (bm->format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
    case SPICE_BITMAP_FMT_1BIT_BE:
        palette_lut(bm, lut, 2);
        break;
    case SPICE_BITMAP_FMT_4BIT_LE:
    case SPICE_BITMAP_FMT_4BIT_BE:
        palette_lut(bm, lut, 16);
        break;
    case SPICE_BITMAP_FMT_8BIT:
        palette_lut(bm, lut, 256);
        break;
    default:
        break;
    }

    for (uint32_t y = 0; y < bm->height; y++, src += step, dst_row += dstride) {
        uint32_t *d32 = (uint32_t *)(void *)dst_row;
        switch (bm->format) {
        case SPICE_BITMAP_FMT_1BIT_LE:
            for (uint32_t x = 0; x < w; x++) {
                d32[x] = lut[(src[x >> 3] >> (x & 7)) & 1];
            }
            break;
        case SPICE_BITMAP_FMT_1BIT_BE:
            for (uint32_t x = 0; x < w; x++) {
                d32[x] = lut[(src[x >> 3] >> (7 - (x & 7))) & 1];
            }
            break;
        case SPICE_BITMAP_FMT_4BIT_LE:
            for (uint32_t x = 0; x < w; x++) {
                d32[x] = lut[(x & 1) ? src[x >> 1] >> 4 : src[x >> 1] & 0xf];
            }
            break;
        case SPICE_BITMAP_FMT_4BIT_BE:
            for (uint32_t x = 0; x < w; x++) {
                d32[x] = lut[(x & 1) ? src[x >> 1] & 0xf : src[x >> 1] >> 4];
            }
            break;
        case SPICE_BITMAP_FMT_8BIT:
            for (uint32_t x = 0; x < w; x++) {
                d32[x] = lut[src[x]];
            }
            break;
        case SPICE_BITMAP_FMT_24BIT:
            for (uint32_t x = 0; x < w; x++) {
                const uint8_t *p = src + 3 * (size_t)x;
                d32[x] = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
            }
            break;
        case SPICE_BITMAP_FMT_16BIT:
            memcpy(dst_row, src, (size_t)w * 2);
            break;
        case SPICE_BITMAP_FMT_8BIT_A:
            memcpy(dst_row, src, w);
            break;
        default:        /* 32BIT, RGBA: little-endian BGRA bytes = native words */
            memcpy(dst_row, src, (size_t)w * 4);
            break;
        }
        if (high_bits_set && of == PIXMAN_x8r8g8b8) {
            for (uint32_t x = 0; x < w; x++) {
                d32[x] |= 0xff000000u;
            }
        }
    }
    return img;
}

static uint8_t reverse_bits(uint8_t b)
{
    b = (uint8_t)((b & 0xf0) >> 4 | (b & 0x0f) << 4);
    b = (uint8_t)((b & 0xcc) >> 2 | (b & 0x33) << 2);
    return (uint8_t)((b & 0xaa) >> 1 | (b & 0x55) << 1);
}

pixman_image_t *red_canvas_decode_mask(const RedCanvasBitmap *bm, GError **error)
{
    const uint8_t *src;
    ptrdiff_t step;

    if (!bm) {
        return NULL;
    }
    if (bm->format != SPICE_BITMAP_FMT_1BIT_LE && bm->format != SPICE_BITMAP_FMT_1BIT_BE) {
        g_set_error(error, CANVAS_ERROR, 1, "mask bitmap format %u is not 1-bit", bm->format);
        return NULL;
    }
    /* masks need no palette: check against a copy that claims one */
    RedCanvasBitmap copy = *bm;
    static const uint32_t dummy[2];
    copy.palette = dummy;
    if (!check_bitmap(&copy, &src, &step, error)) {
        return NULL;
    }
    pixman_image_t *img = pixman_image_create_bits(PIXMAN_a1, (int)bm->width, (int)bm->height,
                                                   NULL, 0);
    if (!img) {
        g_set_error(error, CANVAS_ERROR, 1, "out of memory for a %ux%u mask", bm->width, bm->height);
        return NULL;
    }
    uint8_t *dst = (uint8_t *)pixman_image_get_data(img);
    int dstride = pixman_image_get_stride(img);
    size_t row_bytes = (bm->width + 7) / 8;
    for (uint32_t y = 0; y < bm->height; y++, src += step, dst += dstride) {
        if (bm->format == SPICE_BITMAP_FMT_1BIT_LE) {
            memcpy(dst, src, row_bytes);
        } else {
            for (size_t i = 0; i < row_bytes; i++) {
                dst[i] = reverse_bits(src[i]);
            }
        }
    }
    return img;
}
