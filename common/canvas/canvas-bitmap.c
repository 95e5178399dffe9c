/* Bitmap decoding: SPICE_BITMAP_FMT_* pixel rows (any stride, either row
 * order) into top-down pixman images, and 1-bit bitmaps into a1 masks.
 * Every read is bounded by the caller's data_size and palette length. */
#include <limits.h>
#include <string.h>

#include "common/canvas/canvas-private.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* The palette as a lookup table of 256 entries: indexes past
 * palette_entries (and past the format's range) read as 0, so the pixel
 * loops need no bound check. */
static void palette_lut(const RedCanvasBitmap *bm, uint32_t *lut)
{
    uint32_t size = 0;
    switch (bm->format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
    case SPICE_BITMAP_FMT_1BIT_BE: size = 2; break;
    case SPICE_BITMAP_FMT_4BIT_LE:
    case SPICE_BITMAP_FMT_4BIT_BE: size = 16; break;
    case SPICE_BITMAP_FMT_8BIT: size = 256; break;
    default: return;
    }
    uint32_t n = MIN(size, bm->palette_entries);
    if (n) {
        memcpy(lut, bm->palette, n * sizeof(uint32_t));
    }
    for (uint32_t i = n; i < 256; i++) {
        lut[i] = 0;
    }
}

/* SPICE_IMAGE_FLAGS_HIGH_BITS_SET applied to the table once instead of to
 * every pixel. */
static void lut_set_high(uint32_t *lut)
{
    for (uint32_t i = 0; i < 256; i++) {
        lut[i] |= 0xff000000u;
    }
}

/* 16-bit x1r5g5b5 to x8r8g8b8 as pixman's SRC conversion writes it: each
 * channel widened by replicating its top bits, the fourth byte 0xff. */
static inline uint32_t expand_555(uint32_t c)
{
    uint32_t r = (c >> 10) & 0x1f, g = (c >> 5) & 0x1f, b = c & 0x1f;
    r = (r << 3) | (r >> 2);
    g = (g << 3) | (g >> 2);
    b = (b << 3) | (b >> 2);
    return 0xff000000u | (r << 16) | (g << 8) | b;
}

/* n little-endian x1r5g5b5 pixels at q to x8r8g8b8 (expand_555). */
static void convert_555(const uint8_t *q, uint32_t n, uint32_t *d)
{
    uint32_t i = 0;
#ifdef __SSE2__
    /* Eight pixels a step: each channel moved to the top of its byte, then
     * its top three bits copied into the bottom three. */
    const __m128i zero = _mm_setzero_si128();
    const __m128i mr = _mm_set1_epi32(0x7c00), mg = _mm_set1_epi32(0x03e0);
    const __m128i mb = _mm_set1_epi32(0x001f), m7 = _mm_set1_epi32(0x070707);
    const __m128i alpha = _mm_set1_epi32((int)0xff000000u);
    for (; i + 8 <= n; i += 8) {
        __m128i px = _mm_loadu_si128((const __m128i *)(const void *)(q + 2 * i));
        __m128i halves[2] = { _mm_unpacklo_epi16(px, zero), _mm_unpackhi_epi16(px, zero) };
        for (int h = 0; h < 2; h++) {
            __m128i c = halves[h];
            __m128i t = _mm_or_si128(
                _mm_or_si128(_mm_slli_epi32(_mm_and_si128(c, mr), 9),
                             _mm_slli_epi32(_mm_and_si128(c, mg), 6)),
                _mm_slli_epi32(_mm_and_si128(c, mb), 3));
            t = _mm_or_si128(t, _mm_and_si128(_mm_srli_epi32(t, 5), m7));
            _mm_storeu_si128((__m128i *)(void *)(d + i + 4 * h), _mm_or_si128(t, alpha));
        }
    }
#endif
    for (; i < n; i++) {
        d[i] = expand_555((uint32_t)q[2 * i] | (uint32_t)q[2 * i + 1] << 8);
    }
}

/* Converts n pixels of one row into 32-bit words: q points at the byte
 * holding the first pixel, x0 is that pixel's index from q (nonzero only
 * for 1- and 4-bit formats). Paletted formats read lut (high bits already
 * applied), 16BIT is widened to x8r8g8b8, 32BIT/RGBA are copied (32BIT
 * with the fourth byte forced when high). */
static void convert_span(uint32_t format, const uint8_t *q, uint32_t x0, uint32_t n,
                         uint32_t *d, const uint32_t *lut, bool high)
{
    switch (format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
        for (uint32_t i = 0, x = x0; i < n; i++, x++) {
            d[i] = lut[(q[x >> 3] >> (x & 7)) & 1];
        }
        break;
    case SPICE_BITMAP_FMT_1BIT_BE: {
        uint32_t i = 0, x = x0;
        /* Whole source bytes at a time once aligned. */
        for (; i < n && (x & 7); i++, x++) {
            d[i] = lut[(q[x >> 3] >> (7 - (x & 7))) & 1];
        }
        for (; i + 8 <= n; i += 8, x += 8) {
            uint32_t b = q[x >> 3];
            d[i] = lut[b >> 7];
            d[i + 1] = lut[(b >> 6) & 1];
            d[i + 2] = lut[(b >> 5) & 1];
            d[i + 3] = lut[(b >> 4) & 1];
            d[i + 4] = lut[(b >> 3) & 1];
            d[i + 5] = lut[(b >> 2) & 1];
            d[i + 6] = lut[(b >> 1) & 1];
            d[i + 7] = lut[b & 1];
        }
        for (; i < n; i++, x++) {
            d[i] = lut[(q[x >> 3] >> (7 - (x & 7))) & 1];
        }
        break;
    }
    case SPICE_BITMAP_FMT_4BIT_LE:
        for (uint32_t i = 0, x = x0; i < n; i++, x++) {
            d[i] = lut[(x & 1) ? q[x >> 1] >> 4 : q[x >> 1] & 0xf];
        }
        break;
    case SPICE_BITMAP_FMT_4BIT_BE: {
        uint32_t i = 0, x = x0;
        if (i < n && (x & 1)) {
            d[i++] = lut[q[x >> 1] & 0xf];
            x++;
        }
        for (; i + 2 <= n; i += 2, x += 2) {
            uint32_t b = q[x >> 1];
            d[i] = lut[b >> 4];
            d[i + 1] = lut[b & 0xf];
        }
        if (i < n) {
            d[i] = lut[q[x >> 1] >> 4];
        }
        break;
    }
    case SPICE_BITMAP_FMT_8BIT:
        for (uint32_t i = 0; i < n; i++) {
            d[i] = lut[q[i]];
        }
        break;
    case SPICE_BITMAP_FMT_16BIT:
        convert_555(q, n, d);
        break;
    case SPICE_BITMAP_FMT_24BIT: {
        uint32_t hb = high ? 0xff000000u : 0;
        uint32_t i = 0;
        /* Four pixels from three little-endian words: B0G0R0B1 G1R1B2G2
         * R2B3G3R3. */
        for (; i + 4 <= n; i += 4, q += 12) {
            uint32_t w0, w1, w2;
            memcpy(&w0, q, 4);
            memcpy(&w1, q + 4, 4);
            memcpy(&w2, q + 8, 4);
            d[i] = hb | (w0 & 0xffffffu);
            d[i + 1] = hb | w0 >> 24 | (w1 & 0xffffu) << 8;
            d[i + 2] = hb | w1 >> 16 | (w2 & 0xffu) << 16;
            d[i + 3] = hb | w2 >> 8;
        }
        for (; i < n; i++, q += 3) {
            d[i] = hb | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
        }
        break;
    }
    case SPICE_BITMAP_FMT_32BIT:
        memcpy(d, q, (size_t)n * 4);
        if (high) {
            for (uint32_t i = 0; i < n; i++) {
                d[i] |= 0xff000000u;
            }
        }
        break;
    default:        /* RGBA: little-endian BGRA bytes = native words */
        memcpy(d, q, (size_t)n * 4);
        break;
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
    palette_lut(bm, lut);
    if (high_bits_set && of == PIXMAN_x8r8g8b8) {
        lut_set_high(lut);
    }
    for (uint32_t y = 0; y < bm->height; y++, src += step, dst_row += dstride) {
        switch (bm->format) {
        case SPICE_BITMAP_FMT_16BIT:
            memcpy(dst_row, src, (size_t)w * 2);
            break;
        case SPICE_BITMAP_FMT_8BIT_A:
            memcpy(dst_row, src, w);
            break;
        default:
            convert_span(bm->format, src, 0, w, (uint32_t *)(void *)dst_row, lut,
                         high_bits_set);
            break;
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

/* ---- bitmap copied straight into a canvas ------------------------------- */

/* Reads byte ranges of a bitmap's pixels held in one buffer or in chunks;
 * ranges straddling chunks are assembled in tmp. */
typedef struct RowReader {
    const RedCanvasBitmap *bm;
    uint32_t ci;                /* chunk holding the last range's start */
    size_t cstart;              /* offset of chunk ci */
    uint8_t *tmp;               /* owned, tmp_size bytes */
    size_t tmp_size;
} RowReader;

static const uint8_t *row_read(RowReader *r, size_t off, size_t len)
{
    const RedCanvasBitmap *bm = r->bm;
    if (bm->data) {
        return bm->data + off;
    }
    const RedCanvasChunk *c = bm->chunks;
    /* Rows come in order (up or down): move the cursor from where it was. */
    while (off < r->cstart) {
        r->ci--;
        r->cstart -= c[r->ci].size;
    }
    while (off - r->cstart >= c[r->ci].size) {
        r->cstart += c[r->ci].size;
        r->ci++;
    }
    size_t in = off - r->cstart;
    if (len <= c[r->ci].size - in) {
        return c[r->ci].data + in;
    }
    g_assert(len <= r->tmp_size);
    size_t done = 0;
    for (uint32_t i = r->ci; done < len; i++, in = 0) {
        size_t n = MIN(c[i].size - in, len - done);
        memcpy(r->tmp + done, c[i].data + in, n);
        done += n;
    }
    return r->tmp;
}

static bool copy_area_ok(const pixman_box32_t *a)
{
    const int32_t lim = 1 << 28;
    return a->x1 < a->x2 && a->y1 < a->y2 && a->x1 > -lim && a->y1 > -lim &&
           a->x2 < lim && a->y2 < lim;
}

RedCanvasDirect red_canvas_copy_bitmap(RedCanvas *canvas, const pixman_region32_t *clip,
                                       const pixman_box32_t *box, const RedCanvasBitmap *bm,
                                       bool high_bits_set, const pixman_box32_t *area,
                                       uint16_t rop_descriptor)
{
    if (!canvas || !bm || !box || !area || canvas->bpp != 32 || red_canvas_use_reference() ||
        bm->format == SPICE_BITMAP_FMT_8BIT_A || !copy_area_ok(area) ||
        box->x2 - box->x1 != area->x2 - area->x1 || box->y2 - box->y1 != area->y2 - area->y1 ||
        red_canvas_ropd_to_rop(rop_descriptor, RED_ROP_INPUT_SRC, RED_ROP_INPUT_DEST) !=
            RED_ROP_COPY) {
        return RED_CANVAS_DIRECT_UNSUPPORTED;
    }
    /* Validate against the bytes really there, as decoding would. */
    RedCanvasBitmap sized = *bm;
    size_t max_row = 0;
    if (!bm->data) {
        if (!bm->chunks || !bm->n_chunks) {
            return RED_CANVAS_DIRECT_UNSUPPORTED;
        }
        sized.data = bm->chunks[0].data;
        sized.data_size = 0;
        for (uint32_t i = 0; i < bm->n_chunks; i++) {
            sized.data_size += bm->chunks[i].size;
        }
    }
    const uint8_t *unused_row0;
    ptrdiff_t unused_step;
    if (!check_bitmap(&sized, &unused_row0, &unused_step, NULL)) {
        return RED_CANVAS_DIRECT_UNSUPPORTED;
    }
    pixman_region32_t region;
    if (!red_canvas_dest_region(canvas, &region, clip, box, NULL)) {
        pixman_region32_fini(&region);
        return RED_CANVAS_DIRECT_UNSUPPORTED;
    }
    uint32_t bpp = bits_per_pixel(bm->format);
    max_row = ((size_t)bm->width * bpp + 7) / 8;
    RowReader rr = { .bm = bm };
    if (!bm->data) {
        rr.tmp = g_malloc(max_row);
        rr.tmp_size = max_row;
    }
    uint32_t lut[256];
    palette_lut(bm, lut);
    if (high_bits_set) {
        lut_set_high(lut);
    }
    uint8_t *dbase = (uint8_t *)pixman_image_get_data(canvas->image);
    ptrdiff_t dstride = pixman_image_get_stride(canvas->image);
    int ox = box->x1 - area->x1, oy = box->y1 - area->y1;
    int n;
    pixman_box32_t *r = pixman_region32_rectangles(&region, &n);
    for (int k = 0; k < n; k++) {
        /* Source pixels outside the bitmap leave the canvas alone, as the
         * blit's clipping does. */
        int64_t sx = (int64_t)r[k].x1 - ox, sy = (int64_t)r[k].y1 - oy;
        int64_t dx = r[k].x1, dy = r[k].y1;
        int64_t w = r[k].x2 - r[k].x1, h = r[k].y2 - r[k].y1;
        if (sx < 0) {
            w += sx;
            dx -= sx;
            sx = 0;
        }
        if (sy < 0) {
            h += sy;
            dy -= sy;
            sy = 0;
        }
        w = MIN(w, (int64_t)bm->width - sx);
        h = MIN(h, (int64_t)bm->height - sy);
        if (w <= 0 || h <= 0) {
            continue;
        }
        size_t sb = (size_t)sx * bpp / 8;
        size_t eb = ((size_t)(sx + w) * bpp + 7) / 8;
        uint32_t x0 = bpp < 8 ? (uint32_t)(sx - (int64_t)(sb * 8 / bpp)) : 0;
        uint8_t *drow = dbase + (ptrdiff_t)dy * dstride;
        for (int64_t j = 0; j < h; j++, drow += dstride) {
            uint64_t y = (uint64_t)(sy + j);
            uint64_t mem_row = bm->top_down ? y : bm->height - 1 - y;
            const uint8_t *q = row_read(&rr, (size_t)mem_row * bm->stride + sb, eb - sb);
            convert_span(bm->format, q, x0, (uint32_t)w, (uint32_t *)(void *)drow + dx, lut,
                         high_bits_set);
        }
    }
    g_free(rr.tmp);
    pixman_region32_fini(&region);
    return RED_CANVAS_DIRECT_DONE;
}
