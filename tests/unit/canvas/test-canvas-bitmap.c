/* Every SPICE_BITMAP_FMT_* decoded against an independent per-pixel
 * decoder, both row orders, padded strides, exact-size buffers (so ASan
 * catches any over-read), plus masks and rejected inputs. */
#include "canvas-test-util.h"

static const uint32_t formats[] = {
    SPICE_BITMAP_FMT_1BIT_LE, SPICE_BITMAP_FMT_1BIT_BE, SPICE_BITMAP_FMT_4BIT_LE,
    SPICE_BITMAP_FMT_4BIT_BE, SPICE_BITMAP_FMT_8BIT, SPICE_BITMAP_FMT_16BIT,
    SPICE_BITMAP_FMT_24BIT, SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA,
    SPICE_BITMAP_FMT_8BIT_A,
};

static unsigned bpp_of(uint32_t f)
{
    switch (f) {
    case SPICE_BITMAP_FMT_1BIT_LE: case SPICE_BITMAP_FMT_1BIT_BE: return 1;
    case SPICE_BITMAP_FMT_4BIT_LE: case SPICE_BITMAP_FMT_4BIT_BE: return 4;
    case SPICE_BITMAP_FMT_8BIT: case SPICE_BITMAP_FMT_8BIT_A: return 8;
    case SPICE_BITMAP_FMT_16BIT: return 16;
    case SPICE_BITMAP_FMT_24BIT: return 24;
    default: return 32;
    }
}

/* Pixel x of a source row, by the format's definition. */
static uint32_t ref_pixel(uint32_t f, const uint8_t *row, unsigned x, const uint32_t *pal,
                          unsigned npal)
{
    unsigned idx;
    switch (f) {
    case SPICE_BITMAP_FMT_1BIT_LE: idx = (row[x / 8] >> (x % 8)) & 1; break;
    case SPICE_BITMAP_FMT_1BIT_BE: idx = (row[x / 8] >> (7 - x % 8)) & 1; break;
    case SPICE_BITMAP_FMT_4BIT_LE: idx = x % 2 ? row[x / 2] >> 4 : row[x / 2] & 15; break;
    case SPICE_BITMAP_FMT_4BIT_BE: idx = x % 2 ? row[x / 2] & 15 : row[x / 2] >> 4; break;
    case SPICE_BITMAP_FMT_8BIT: idx = row[x]; break;
    case SPICE_BITMAP_FMT_8BIT_A: return row[x];
    case SPICE_BITMAP_FMT_16BIT: return row[2 * x] | row[2 * x + 1] << 8;
    case SPICE_BITMAP_FMT_24BIT: return row[3 * x] | row[3 * x + 1] << 8 | (uint32_t)row[3 * x + 2] << 16;
    default:
        return row[4 * x] | row[4 * x + 1] << 8 | (uint32_t)row[4 * x + 2] << 16 |
               (uint32_t)row[4 * x + 3] << 24;
    }
    return idx < npal ? pal[idx] : 0;
}

static void test_all_formats(void)
{
    Rng rng = { 4242 };
    uint32_t pal[256];
    for (int i = 0; i < 256; i++) {
        pal[i] = rng_next(&rng);
    }
    for (unsigned fi = 0; fi < G_N_ELEMENTS(formats); fi++) {
        for (int iter = 0; iter < 24; iter++) {
            uint32_t f = formats[fi];
            unsigned w = (unsigned)rng_range(&rng, 1, 37), h = (unsigned)rng_range(&rng, 1, 9);
            unsigned row = (w * bpp_of(f) + 7) / 8;
            unsigned stride = row + (unsigned)rng_range(&rng, 0, 5);
            /* the last row needs no padding: size the buffer exactly */
            size_t size = (size_t)stride * (h - 1) + row;
            uint8_t *data = g_malloc(size);
            for (size_t i = 0; i < size; i++) {
                data[i] = (uint8_t)rng_next(&rng);
            }
            unsigned npal = (unsigned)rng_range(&rng, 1, 256);
            bool top_down = iter & 1, high = iter & 2;
            RedCanvasBitmap bm = { f, top_down, w, h, stride, data, size, pal, npal };
            GError *err = NULL;
            pixman_image_t *img = red_canvas_decode_bitmap(&bm, high, &err);
            g_assert_no_error(err);
            g_assert_nonnull(img);
            pixman_format_code_t want_fmt = f == SPICE_BITMAP_FMT_16BIT ? PIXMAN_x1r5g5b5
                                          : f == SPICE_BITMAP_FMT_RGBA ? PIXMAN_a8r8g8b8
                                          : f == SPICE_BITMAP_FMT_8BIT_A ? PIXMAN_a8 : PIXMAN_x8r8g8b8;
            g_assert_cmpint(pixman_image_get_format(img), ==, want_fmt);
            for (unsigned y = 0; y < h; y++) {
                const uint8_t *src_row = data + (size_t)stride * (top_down ? y : h - 1 - y);
                for (unsigned x = 0; x < w; x++) {
                    uint32_t want = ref_pixel(f, src_row, x, pal, npal);
                    if (high && want_fmt == PIXMAN_x8r8g8b8) {
                        want |= 0xff000000u;
                    }
                    if (img_get(img, (int)x, (int)y) != want) {
                        g_error("format %u (%u,%u): 0x%x vs 0x%x", f, x, y, img_get(img, (int)x, (int)y), want);
                    }
                }
            }
            /* Read in place where possible: the same pixels as the copy. */
            pixman_image_t *wrapped = red_canvas_wrap_bitmap(&bm, high);
            bool wrappable = (f == SPICE_BITMAP_FMT_32BIT && !high) ||
                             f == SPICE_BITMAP_FMT_RGBA || f == SPICE_BITMAP_FMT_16BIT ||
                             f == SPICE_BITMAP_FMT_8BIT_A;
            g_assert_true(!wrapped || wrappable);
            if (wrappable && stride % 4 == 0) {
                g_assert_nonnull(wrapped);
            }
            if (wrapped) {
                g_assert_cmpint(pixman_image_get_format(wrapped), ==, want_fmt);
                for (unsigned y = 0; y < h; y++) {
                    for (unsigned x = 0; x < w; x++) {
                        g_assert_cmphex(img_get(wrapped, (int)x, (int)y), ==,
                                        img_get(img, (int)x, (int)y));
                    }
                }
                /* pixman reads it like the copy (negative strides too). */
                pixman_image_t *da = pixman_image_create_bits(PIXMAN_a8r8g8b8, (int)w, (int)h,
                                                              NULL, 0);
                pixman_image_t *db = pixman_image_create_bits(PIXMAN_a8r8g8b8, (int)w, (int)h,
                                                              NULL, 0);
                pixman_image_composite32(PIXMAN_OP_SRC, wrapped, NULL, da, 0, 0, 0, 0, 0, 0,
                                         (int)w, (int)h);
                pixman_image_composite32(PIXMAN_OP_SRC, img, NULL, db, 0, 0, 0, 0, 0, 0,
                                         (int)w, (int)h);
                g_assert_cmpmem(pixman_image_get_data(da), (size_t)w * h * 4,
                                pixman_image_get_data(db), (size_t)w * h * 4);
                pixman_image_unref(da);
                pixman_image_unref(db);
                pixman_image_unref(wrapped);
            }
            pixman_image_unref(img);
            /* one byte short is refused */
            bm.data_size = size - 1;
            g_assert_null(red_canvas_decode_bitmap(&bm, false, &err));
            g_assert_nonnull(err);
            g_clear_error(&err);
            g_assert_null(red_canvas_wrap_bitmap(&bm, false));
            g_free(data);
        }
    }
}

static void test_rejects(void)
{
    uint8_t data[64] = { 0 };
    GError *err = NULL;
    RedCanvasBitmap bm = { SPICE_BITMAP_FMT_8BIT, true, 4, 4, 4, data, sizeof(data), NULL, 0 };
    g_assert_null(red_canvas_decode_bitmap(&bm, false, &err));     /* no palette */
    g_clear_error(&err);
    bm.format = SPICE_BITMAP_FMT_32BIT;
    bm.stride = 8;                                                  /* below a row */
    g_assert_null(red_canvas_decode_bitmap(&bm, false, &err));
    g_clear_error(&err);
    bm.stride = 16;
    bm.width = 0;
    g_assert_null(red_canvas_decode_bitmap(&bm, false, &err));
    g_clear_error(&err);
    bm.width = 4;
    bm.format = 77;
    g_assert_null(red_canvas_decode_bitmap(&bm, false, &err));
    g_clear_error(&err);
    bm.format = SPICE_BITMAP_FMT_32BIT;
    bm.height = 0x10000000;
    g_assert_null(red_canvas_decode_bitmap(&bm, false, &err));
    g_clear_error(&err);
}

static void test_masks(void)
{
    Rng rng = { 8 };
    for (int be = 0; be < 2; be++) {
        for (int td = 0; td < 2; td++) {
            unsigned w = 13, h = 5, stride = 3;
            size_t size = stride * (h - 1) + 2;
            uint8_t *data = g_malloc(size);
            for (size_t i = 0; i < size; i++) {
                data[i] = (uint8_t)rng_next(&rng);
            }
            RedCanvasBitmap bm = { be ? SPICE_BITMAP_FMT_1BIT_BE : SPICE_BITMAP_FMT_1BIT_LE,
                                   td, w, h, stride, data, size, NULL, 0 };
            pixman_image_t *m = red_canvas_decode_mask(&bm, NULL);
            g_assert_nonnull(m);
            g_assert_cmpint(pixman_image_get_format(m), ==, PIXMAN_a1);
            for (unsigned y = 0; y < h; y++) {
                const uint8_t *row = data + stride * (td ? y : h - 1 - y);
                for (unsigned x = 0; x < w; x++) {
                    unsigned bit = be ? (row[x / 8] >> (7 - x % 8)) & 1 : (row[x / 8] >> (x % 8)) & 1;
                    g_assert_cmpuint(img_get(m, (int)x, (int)y), ==, bit);
                }
            }
            pixman_image_unref(m);
            g_free(data);
        }
    }
    uint8_t d[4] = { 0 };
    RedCanvasBitmap bad = { SPICE_BITMAP_FMT_8BIT, true, 2, 2, 2, d, 4, NULL, 0 };
    GError *err = NULL;
    g_assert_null(red_canvas_decode_mask(&bad, &err));
    g_clear_error(&err);
}

/* A decoded 32BIT bitmap drawn on a 16_565 canvas is converted by pixman. */
static void test_conversion_on_copy(void)
{
    Rng rng = { 3 };
    RedCanvas *c = red_canvas_create(SPICE_SURFACE_FMT_16_565, 8, 8, NULL);
    pixman_image_t *src = random_image(&rng, PIXMAN_x8r8g8b8, 8, 8);
    RedCanvasSource so = { src, { 0, 0, 8, 8 }, SPICE_IMAGE_SCALE_MODE_NEAREST };
    pixman_box32_t box = { 0, 0, 8, 8 };
    g_assert_true(red_canvas_copy(c, NULL, &box, &so, SPICE_ROPD_OP_PUT, NULL));
    pixman_image_t *img = red_canvas_get_image(c);
    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
            uint32_t p = img_get(src, x, y);
            uint32_t want = ((p >> 8) & 0xf800) | ((p >> 5) & 0x07e0) | ((p >> 3) & 0x1f);
            g_assert_cmphex(img_get(img, x, y), ==, want);
        }
    }
    pixman_image_unref(src);
    red_canvas_destroy(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/canvas/bitmap/all-formats", test_all_formats);
    g_test_add_func("/canvas/bitmap/rejects", test_rejects);
    g_test_add_func("/canvas/bitmap/masks", test_masks);
    g_test_add_func("/canvas/bitmap/conversion", test_conversion_on_copy);
    return g_test_run();
}
