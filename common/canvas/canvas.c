/* Canvas lifecycle, destination regions (clip and q-mask), brushes and the
 * rectangle-based drawing operations: fill, opaque, copy, blend, blackness,
 * whiteness, invers, transparent, copy_bits and read-back.
 *
 * Semantics follow spice-common's canvas_base.c / sw_canvas.c: an operation
 * draws on box ∩ canvas ∩ clip ∩ mask; raster ops work on whole pixel words
 * (including the x byte of xRGB); scaled sources go through pixman with the
 * same transform and filter upstream uses. */
#include <stdlib.h>
#include <string.h>

#include "common/canvas/canvas-private.h"

/* Coordinates beyond this are rejected: keeps every sum and difference we
 * form inside int32 (surfaces are far smaller). */
#define COORD_LIMIT (1 << 28)

#define CANVAS_ERROR g_quark_from_static_string("red-canvas")

pixman_format_code_t red_canvas_surface_format_to_pixman(uint32_t surface_format)
{
    switch (surface_format) {
    case SPICE_SURFACE_FMT_1_A: return PIXMAN_a1;
    case SPICE_SURFACE_FMT_8_A: return PIXMAN_a8;
    case SPICE_SURFACE_FMT_16_555: return PIXMAN_x1r5g5b5;
    case SPICE_SURFACE_FMT_16_565: return PIXMAN_r5g6b5;
    case SPICE_SURFACE_FMT_32_xRGB: return PIXMAN_x8r8g8b8;
    case SPICE_SURFACE_FMT_32_ARGB: return PIXMAN_a8r8g8b8;
    default: return (pixman_format_code_t)0;
    }
}

static RedCanvas *canvas_new(uint32_t format, int width, int height, uint8_t *row0,
                             int32_t stride, uint8_t *own, GError **error)
{
    pixman_format_code_t pf = red_canvas_surface_format_to_pixman(format);
    RedCanvas *canvas = g_new0(RedCanvas, 1);

    canvas->format = format;
    canvas->width = width;
    canvas->height = height;
    canvas->bpp = PIXMAN_FORMAT_BPP(pf);
    canvas->own_mem = own;
    canvas->image = pixman_image_create_bits(pf, width, height, (uint32_t *)(void *)row0, stride);
    if (!canvas->image) {
        g_set_error(error, CANVAS_ERROR, 1, "pixman refused a %dx%d canvas", width, height);
        g_free(own);
        g_free(canvas);
        return NULL;
    }
    return canvas;
}

static bool check_geometry(uint32_t format, int width, int height, GError **error)
{
    if (!red_canvas_surface_format_to_pixman(format)) {
        g_set_error(error, CANVAS_ERROR, 1, "unknown surface format %u", format);
        return false;
    }
    if (width <= 0 || height <= 0 || width > (1 << 16) || height > (1 << 16)) {
        g_set_error(error, CANVAS_ERROR, 1, "bad canvas size %dx%d", width, height);
        return false;
    }
    return true;
}

RedCanvas *red_canvas_create_for_data(uint32_t surface_format, int width, int height,
                                      uint8_t *mem, int32_t stride, GError **error)
{
    if (!check_geometry(surface_format, width, height, error)) {
        return NULL;
    }
    int bpp = PIXMAN_FORMAT_BPP(red_canvas_surface_format_to_pixman(surface_format));
    int64_t abs_stride = stride < 0 ? -(int64_t)stride : stride;
    int64_t row_bytes = ((int64_t)width * bpp + 7) / 8;
    if (!mem || abs_stride % 4 != 0 || abs_stride < row_bytes) {
        g_set_error(error, CANVAS_ERROR, 1, "bad canvas stride %d for width %d", stride, width);
        return NULL;
    }
    uint8_t *row0 = stride < 0 ? mem + (height - 1) * abs_stride : mem;
    return canvas_new(surface_format, width, height, row0, stride, NULL, error);
}

RedCanvas *red_canvas_create(uint32_t surface_format, int width, int height, GError **error)
{
    if (!check_geometry(surface_format, width, height, error)) {
        return NULL;
    }
    int bpp = PIXMAN_FORMAT_BPP(red_canvas_surface_format_to_pixman(surface_format));
    int32_t stride = (int32_t)((((int64_t)width * bpp + 31) / 32) * 4);
    uint8_t *mem = g_malloc0((size_t)stride * (size_t)height);
    return canvas_new(surface_format, width, height, mem, stride, mem, error);
}

void red_canvas_destroy(RedCanvas *canvas)
{
    if (!canvas) {
        return;
    }
    pixman_image_unref(canvas->image);
    g_free(canvas->own_mem);
    g_free(canvas);
}

pixman_image_t *red_canvas_get_image(RedCanvas *canvas) { return canvas->image; }
uint32_t red_canvas_get_format(const RedCanvas *canvas) { return canvas->format; }
int red_canvas_get_width(const RedCanvas *canvas) { return canvas->width; }
int red_canvas_get_height(const RedCanvas *canvas) { return canvas->height; }

/* ---- regions ----------------------------------------------------------- */

static bool box_ok(const pixman_box32_t *b)
{
    return b && b->x1 <= b->x2 && b->y1 <= b->y2 &&
           b->x1 > -COORD_LIMIT && b->y1 > -COORD_LIMIT &&
           b->x2 < COORD_LIMIT && b->y2 < COORD_LIMIT;
}

static bool area_ok(const pixman_box32_t *b)
{
    return box_ok(b) && b->x1 < b->x2 && b->y1 < b->y2;
}

static void mask_region(pixman_region32_t *region, const RedCanvasMask *mask,
                        int box_x, int box_y)
{
    pixman_region32_t mreg;
    int mw = pixman_image_get_width(mask->bitmap);
    int mh = pixman_image_get_height(mask->bitmap);

    pixman_region32_init_from_image(&mreg, mask->bitmap);
    if (mask->invert) {
        pixman_box32_t all = { 0, 0, mw, mh };
        pixman_region32_inverse(&mreg, &mreg, &all);
    }
    /* mask pixel (mx, my) covers dest (mx - mask.x + box_x, ...) */
    pixman_region32_translate(&mreg, box_x - mask->x, box_y - mask->y);
    pixman_region32_intersect(region, region, &mreg);
    pixman_region32_fini(&mreg);
}

bool red_canvas_dest_region(RedCanvas *canvas, pixman_region32_t *region,
                            const pixman_region32_t *clip, const pixman_box32_t *box,
                            const RedCanvasMask *mask)
{
    if (!box_ok(box)) {
        pixman_region32_init(region);
        return false;
    }
    if (mask && mask->bitmap) {
        if (pixman_image_get_format(mask->bitmap) != PIXMAN_a1 ||
            mask->x <= -COORD_LIMIT || mask->x >= COORD_LIMIT ||
            mask->y <= -COORD_LIMIT || mask->y >= COORD_LIMIT) {
            pixman_region32_init(region);
            return false;
        }
    }
    pixman_region32_init_rect(region, box->x1, box->y1,
                              (unsigned)(box->x2 - box->x1), (unsigned)(box->y2 - box->y1));
    pixman_region32_t bounds;
    pixman_region32_init_rect(&bounds, 0, 0, (unsigned)canvas->width, (unsigned)canvas->height);
    pixman_region32_intersect(region, region, &bounds);
    pixman_region32_fini(&bounds);
    if (clip) {
        pixman_region32_intersect(region, region, (pixman_region32_t *)clip);
    }
    if (mask && mask->bitmap && pixman_region32_not_empty(region)) {
        mask_region(region, mask, box->x1, box->y1);
    }
    return true;
}

/* ---- sources and brushes ------------------------------------------------ */

static pixman_format_code_t target_format(RedCanvas *canvas, bool src_has_alpha)
{
    pixman_format_code_t f = pixman_image_get_format(canvas->image);
    if (src_has_alpha && f == PIXMAN_x8r8g8b8) {
        return PIXMAN_a8r8g8b8;
    }
    if (!src_has_alpha && f == PIXMAN_a8r8g8b8) {
        return PIXMAN_x8r8g8b8;
    }
    return f;
}

static bool is_32_rgb(pixman_format_code_t f)
{
    return f == PIXMAN_x8r8g8b8 || f == PIXMAN_a8r8g8b8;
}

pixman_image_t *red_canvas_source_for(RedCanvas *canvas, pixman_image_t *src)
{
    pixman_format_code_t sf = pixman_image_get_format(src);
    pixman_format_code_t want = target_format(canvas, PIXMAN_FORMAT_A(sf) != 0);

    /* 32-bit RGB sources are used raw on 32-bit canvases, the fourth byte
     * included, as spice-common does. */
    if (sf == want || (is_32_rgb(sf) && is_32_rgb(want))) {
        return pixman_image_ref(src);
    }
    int w = pixman_image_get_width(src), h = pixman_image_get_height(src);
    pixman_image_t *conv = pixman_image_create_bits(want, w, h, NULL, 0);
    if (!conv) {
        return NULL;
    }
    pixman_image_t *view = pixman_image_create_bits(sf, w, h, pixman_image_get_data(src),
                                                    pixman_image_get_stride(src));
    pixman_image_composite32(PIXMAN_OP_SRC, view, NULL, conv, 0, 0, 0, 0, 0, 0, w, h);
    pixman_image_unref(view);
    return conv;
}

bool red_canvas_draw_brush(RedCanvas *canvas, pixman_region32_t *region,
                           const RedCanvasBrush *brush, RedRop rop)
{
    int n;
    pixman_box32_t *r = pixman_region32_rectangles(region, &n);

    switch (brush ? brush->type : RED_CANVAS_BRUSH_NONE) {
    case RED_CANVAS_BRUSH_SOLID:
        red_rop_fill_rects(canvas->image, r, n, brush->color, rop);
        return true;
    case RED_CANVAS_BRUSH_PATTERN: {
        if (!brush->pattern || pixman_image_get_width(brush->pattern) <= 0 ||
            pixman_image_get_height(brush->pattern) <= 0) {
            return false;
        }
        pixman_image_t *tile = red_canvas_source_for(canvas, brush->pattern);
        if (!tile || red_canvas_image_bpp(tile) != canvas->bpp) {
            if (tile) {
                pixman_image_unref(tile);
            }
            return false;
        }
        for (int i = 0; i < n; i++) {
            red_rop_tile_rect(canvas->image, r[i].x1, r[i].y1, r[i].x2 - r[i].x1,
                              r[i].y2 - r[i].y1, tile, brush->x, brush->y, rop);
        }
        pixman_image_unref(tile);
        return true;
    }
    case RED_CANVAS_BRUSH_NONE:
    default:
        /* the rop may still depend on dest alone (e.g. invert) */
        for (int i = 0; i < n; i++) {
            red_rop_fill_rect(canvas->image, r[i].x1, r[i].y1, r[i].x2 - r[i].x1,
                              r[i].y2 - r[i].y1, 0, rop);
        }
        return true;
    }
}

/* ---- fills ------------------------------------------------------------- */

bool red_canvas_fill(RedCanvas *canvas, const pixman_region32_t *clip,
                     const pixman_box32_t *box, const RedCanvasBrush *brush,
                     uint16_t rop_descriptor, const RedCanvasMask *mask)
{
    pixman_region32_t region;
    bool ok = red_canvas_dest_region(canvas, &region, clip, box, mask);
    RedRop rop = red_canvas_ropd_to_rop(rop_descriptor, RED_ROP_INPUT_BRUSH, RED_ROP_INPUT_DEST);

    if (ok && rop != RED_ROP_NOOP && pixman_region32_not_empty(&region)) {
        ok = red_canvas_draw_brush(canvas, &region, brush, rop);
    }
    pixman_region32_fini(&region);
    return ok;
}

static bool fill_value(RedCanvas *canvas, const pixman_region32_t *clip,
                       const pixman_box32_t *box, const RedCanvasMask *mask,
                       uint32_t value, RedRop rop)
{
    pixman_region32_t region;
    bool ok = red_canvas_dest_region(canvas, &region, clip, box, mask);
    RedCanvasBrush brush = { .type = RED_CANVAS_BRUSH_SOLID, .color = value };

    if (ok) {
        red_canvas_draw_brush(canvas, &region, &brush, rop);
    }
    pixman_region32_fini(&region);
    return ok;
}

bool red_canvas_blackness(RedCanvas *canvas, const pixman_region32_t *clip,
                          const pixman_box32_t *box, const RedCanvasMask *mask)
{
    return fill_value(canvas, clip, box, mask, 0, RED_ROP_COPY);
}

bool red_canvas_whiteness(RedCanvas *canvas, const pixman_region32_t *clip,
                          const pixman_box32_t *box, const RedCanvasMask *mask)
{
    return fill_value(canvas, clip, box, mask, 0xffffffffu, RED_ROP_COPY);
}

bool red_canvas_invers(RedCanvas *canvas, const pixman_region32_t *clip,
                       const pixman_box32_t *box, const RedCanvasMask *mask)
{
    return fill_value(canvas, clip, box, mask, 0, RED_ROP_INVERT);
}

/* ---- copies ------------------------------------------------------------ */

static bool same_size(const pixman_box32_t *a, const pixman_box32_t *b)
{
    return a->x2 - a->x1 == b->x2 - b->x1 && a->y2 - a->y1 == b->y2 - b->y1;
}

/* A view sharing src's pixels, so transforms/filters never touch the
 * caller's image. */
static pixman_image_t *image_view(pixman_image_t *src, pixman_format_code_t format)
{
    return pixman_image_create_bits(format, pixman_image_get_width(src),
                                     pixman_image_get_height(src),
                                     pixman_image_get_data(src),
                                     pixman_image_get_stride(src));
}

static void set_scale(pixman_image_t *view, const pixman_box32_t *sa, int dw, int dh,
                      pixman_filter_t filter)
{
    pixman_transform_t t;
    pixman_fixed_t fsx = (pixman_fixed_t)(((pixman_fixed_48_16_t)(sa->x2 - sa->x1) * 65536) / dw);
    pixman_fixed_t fsy = (pixman_fixed_t)(((pixman_fixed_48_16_t)(sa->y2 - sa->y1) * 65536) / dh);

    pixman_transform_init_scale(&t, fsx, fsy);
    pixman_transform_translate(&t, NULL, pixman_int_to_fixed(sa->x1), pixman_int_to_fixed(sa->y1));
    pixman_image_set_transform(view, &t);
    pixman_image_set_repeat(view, PIXMAN_REPEAT_NONE);
    pixman_image_set_filter(view, filter, NULL, 0);
}

static bool scale_filter(uint32_t mode, pixman_filter_t *out)
{
    if (mode == SPICE_IMAGE_SCALE_MODE_NEAREST) {
        *out = PIXMAN_FILTER_NEAREST;
    } else if (mode == SPICE_IMAGE_SCALE_MODE_INTERPOLATE) {
        *out = PIXMAN_FILTER_GOOD;
    } else {
        return false;
    }
    return true;
}

/* Scales src's area to box, computing only the extents of region (so a huge
 * guest box costs no more than the canvas). Returns an image whose (0,0) is
 * region extents' top-left, drawn only inside region. Caller unrefs. */
static pixman_image_t *scaled_copy(pixman_image_t *src, const pixman_box32_t *sa,
                                   const pixman_box32_t *box, pixman_region32_t *region,
                                   pixman_filter_t filter, pixman_box32_t *ext_out)
{
    pixman_box32_t ext = *pixman_region32_extents(region);
    int ew = ext.x2 - ext.x1, eh = ext.y2 - ext.y1;
    pixman_format_code_t f = pixman_image_get_format(src);
    pixman_image_t *scaled = pixman_image_create_bits(f, ew, eh, NULL, 0);
    if (!scaled) {
        return NULL;
    }
    pixman_image_t *view = image_view(src, f);
    pixman_region32_translate(region, -ext.x1, -ext.y1);
    pixman_image_set_clip_region32(scaled, region);
    set_scale(view, sa, box->x2 - box->x1, box->y2 - box->y1, filter);
    /* each dest pixel samples the same source point as in a box-sized
     * composite: only the origin moves */
    pixman_image_composite32(PIXMAN_OP_SRC, view, NULL, scaled, ext.x1 - box->x1,
                             ext.y1 - box->y1, 0, 0, 0, 0, ew, eh);
    pixman_image_set_clip_region32(scaled, NULL);
    pixman_region32_translate(region, ext.x1, ext.y1);
    pixman_image_unref(view);
    *ext_out = ext;
    return scaled;
}

/* Draws src (area sa) onto region of box with rop, scaling when sizes differ. */
static bool draw_source(RedCanvas *canvas, pixman_region32_t *region,
                        const pixman_box32_t *box, const RedCanvasSource *src, RedRop rop)
{
    int n;
    pixman_box32_t *r;
    pixman_image_t *s = red_canvas_source_for(canvas, src->image);

    if (!s || red_canvas_image_bpp(s) != canvas->bpp) {
        if (s) {
            pixman_image_unref(s);
        }
        return false;
    }
    if (same_size(box, &src->area)) {
        int ox = box->x1 - src->area.x1, oy = box->y1 - src->area.y1;
        r = pixman_region32_rectangles(region, &n);
        for (int i = 0; i < n; i++) {
            red_rop_blit(canvas->image, s, r[i].x1 - ox, r[i].y1 - oy, r[i].x1, r[i].y1,
                         r[i].x2 - r[i].x1, r[i].y2 - r[i].y1, rop);
        }
        pixman_image_unref(s);
        return true;
    }
    pixman_filter_t filter;
    if (!scale_filter(src->scale_mode, &filter) || box->x1 == box->x2 || box->y1 == box->y2) {
        pixman_image_unref(s);
        return false;
    }
    if (rop == RED_ROP_COPY) {
        /* straight into the canvas, as spice-common's scale_image */
        pixman_image_t *view = image_view(s, pixman_image_get_format(s));
        pixman_image_set_clip_region32(canvas->image, region);
        set_scale(view, &src->area, box->x2 - box->x1, box->y2 - box->y1, filter);
        pixman_image_composite32(PIXMAN_OP_SRC, view, NULL, canvas->image, 0, 0, 0, 0,
                                 box->x1, box->y1, box->x2 - box->x1, box->y2 - box->y1);
        pixman_image_set_clip_region32(canvas->image, NULL);
        pixman_image_unref(view);
        pixman_image_unref(s);
        return true;
    }
    pixman_box32_t ext;
    pixman_image_t *scaled = scaled_copy(s, &src->area, box, region, filter, &ext);
    pixman_image_unref(s);
    if (!scaled) {
        return false;
    }
    r = pixman_region32_rectangles(region, &n);
    for (int i = 0; i < n; i++) {
        red_rop_blit(canvas->image, scaled, r[i].x1 - ext.x1, r[i].y1 - ext.y1, r[i].x1,
                     r[i].y1, r[i].x2 - r[i].x1, r[i].y2 - r[i].y1, rop);
    }
    pixman_image_unref(scaled);
    return true;
}

static bool source_ok(const RedCanvasSource *src)
{
    return src && src->image && area_ok(&src->area);
}

bool red_canvas_copy(RedCanvas *canvas, const pixman_region32_t *clip,
                     const pixman_box32_t *box, const RedCanvasSource *src,
                     uint16_t rop_descriptor, const RedCanvasMask *mask)
{
    pixman_region32_t region;
    bool ok = source_ok(src) && red_canvas_dest_region(canvas, &region, clip, box, mask);
    if (!source_ok(src)) {
        return false;
    }
    RedRop rop = red_canvas_ropd_to_rop(rop_descriptor, RED_ROP_INPUT_SRC, RED_ROP_INPUT_DEST);
    if (ok && rop != RED_ROP_NOOP && pixman_region32_not_empty(&region)) {
        ok = draw_source(canvas, &region, box, src, rop);
    }
    pixman_region32_fini(&region);
    return ok;
}

bool red_canvas_blend(RedCanvas *canvas, const pixman_region32_t *clip,
                      const pixman_box32_t *box, const RedCanvasSource *src,
                      uint16_t rop_descriptor, const RedCanvasMask *mask)
{
    return red_canvas_copy(canvas, clip, box, src, rop_descriptor, mask);
}

bool red_canvas_opaque(RedCanvas *canvas, const pixman_region32_t *clip,
                       const pixman_box32_t *box, const RedCanvasSource *src,
                       const RedCanvasBrush *brush, uint16_t rop_descriptor,
                       const RedCanvasMask *mask)
{
    pixman_region32_t region;
    if (!source_ok(src)) {
        return false;
    }
    bool ok = red_canvas_dest_region(canvas, &region, clip, box, mask);
    RedRop rop = red_canvas_ropd_to_rop(rop_descriptor, RED_ROP_INPUT_BRUSH, RED_ROP_INPUT_SRC);
    if (ok && rop != RED_ROP_NOOP && pixman_region32_not_empty(&region)) {
        ok = draw_source(canvas, &region, box, src, RED_ROP_COPY) &&
             red_canvas_draw_brush(canvas, &region, brush, rop);
    }
    pixman_region32_fini(&region);
    return ok;
}

bool red_canvas_transparent(RedCanvas *canvas, const pixman_region32_t *clip,
                            const pixman_box32_t *box, const RedCanvasSource *src,
                            uint32_t true_color)
{
    pixman_region32_t region;
    uint32_t key;
    int n;
    pixman_box32_t *r;

    if (!source_ok(src)) {
        return false;
    }
    bool ok = red_canvas_dest_region(canvas, &region, clip, box, NULL);
    if (!ok || !pixman_region32_not_empty(&region)) {
        pixman_region32_fini(&region);
        return ok;
    }
    switch (canvas->format) {
    case SPICE_SURFACE_FMT_32_xRGB:
    case SPICE_SURFACE_FMT_32_ARGB:
        key = true_color;
        break;
    case SPICE_SURFACE_FMT_16_555:
        key = ((true_color >> 3) & 0x001f) | ((true_color >> 6) & 0x03e0) |
              ((true_color >> 9) & 0x7c00);
        break;
    case SPICE_SURFACE_FMT_16_565:
        key = ((true_color >> 3) & 0x001f) | ((true_color >> 5) & 0x07e0) |
              ((true_color >> 8) & 0xf800);
        break;
    default:
        key = 0;
        break;
    }
    pixman_image_t *s = red_canvas_source_for(canvas, src->image);
    if (!s || red_canvas_image_bpp(s) != canvas->bpp) {
        ok = false;
    } else if (same_size(box, &src->area)) {
        int ox = box->x1 - src->area.x1, oy = box->y1 - src->area.y1;
        r = pixman_region32_rectangles(&region, &n);
        for (int i = 0; i < n; i++) {
            red_rop_blit_colorkey(canvas->image, s, r[i].x1 - ox, r[i].y1 - oy, r[i].x1,
                                  r[i].y1, r[i].x2 - r[i].x1, r[i].y2 - r[i].y1, key);
        }
    } else if (box->x1 == box->x2 || box->y1 == box->y2) {
        ok = false;
    } else {
        pixman_box32_t ext;
        pixman_image_t *scaled = scaled_copy(s, &src->area, box, &region, PIXMAN_FILTER_NEAREST,
                                             &ext);
        ok = scaled != NULL;
        r = pixman_region32_rectangles(&region, &n);
        for (int i = 0; ok && i < n; i++) {
            red_rop_blit_colorkey(canvas->image, scaled, r[i].x1 - ext.x1, r[i].y1 - ext.y1,
                                  r[i].x1, r[i].y1, r[i].x2 - r[i].x1, r[i].y2 - r[i].y1, key);
        }
        if (scaled) {
            pixman_image_unref(scaled);
        }
    }
    if (s) {
        pixman_image_unref(s);
    }
    pixman_region32_fini(&region);
    return ok;
}

/* ---- screen to screen and read-back ------------------------------------ */

bool red_canvas_copy_bits(RedCanvas *canvas, const pixman_region32_t *clip,
                          const pixman_box32_t *box, int32_t src_x, int32_t src_y)
{
    pixman_region32_t region;
    if (src_x <= -COORD_LIMIT || src_x >= COORD_LIMIT || src_y <= -COORD_LIMIT ||
        src_y >= COORD_LIMIT || !red_canvas_dest_region(canvas, &region, clip, box, NULL)) {
        return false;
    }
    int dx = box->x1 - src_x, dy = box->y1 - src_y;
    if (dx == 0 && dy == 0) {
        pixman_region32_fini(&region);
        return true;
    }
    pixman_region32_t src_bounds;
    /* only pixels whose source lies inside the canvas */
    pixman_region32_init_rect(&src_bounds, dx, dy, (unsigned)canvas->width, (unsigned)canvas->height);
    pixman_region32_intersect(&region, &region, &src_bounds);
    pixman_region32_fini(&src_bounds);

    int n;
    pixman_box32_t *r = pixman_region32_rectangles(&region, &n);
#define COPY_ONE(k) red_rop_copy_rect(canvas->image, r[k].x1 - dx, r[k].y1 - dy, \
                                      r[k].x2 - r[k].x1, r[k].y2 - r[k].y1, r[k].x1, r[k].y1)
    /* Region rectangles are y-x banded; visit them so that no rectangle
     * reads pixels an earlier one already overwrote. */
    if (dy > 0) {
        if (dx >= 0) {
            for (int i = n - 1; i >= 0; i--) {
                COPY_ONE(i);
            }
        } else {
            for (int i = n - 1; i >= 0;) {
                int start = i;
                while (start - 1 >= 0 && r[start - 1].y1 == r[i].y1) {
                    start--;
                }
                for (int j = start; j <= i; j++) {
                    COPY_ONE(j);
                }
                i = start - 1;
            }
        }
    } else if (dx > 0) {
        for (int i = 0; i < n;) {
            int end = i;
            while (end < n && r[end].y1 == r[i].y1) {
                end++;
            }
            for (int j = end - 1; j >= i; j--) {
                COPY_ONE(j);
            }
            i = end;
        }
    } else {
        for (int i = 0; i < n; i++) {
            COPY_ONE(i);
        }
    }
#undef COPY_ONE
    pixman_region32_fini(&region);
    return true;
}

static bool inside_canvas(RedCanvas *canvas, const pixman_box32_t *a)
{
    return area_ok(a) && a->x1 >= 0 && a->y1 >= 0 && a->x2 <= canvas->width &&
           a->y2 <= canvas->height;
}

bool red_canvas_read(RedCanvas *canvas, const pixman_box32_t *area,
                     uint8_t *dest, int dest_stride)
{
    if (!inside_canvas(canvas, area) || !dest) {
        return false;
    }
    int w = area->x2 - area->x1;
    if (canvas->bpp == 1) {
        /* bit-granular: go pixel by pixel into an a1 view of dest */
        pixman_image_t *view = pixman_image_create_bits(PIXMAN_a1, w, area->y2 - area->y1,
                                                        (uint32_t *)(void *)dest, dest_stride);
        if (!view) {
            return false;
        }
        for (int y = area->y1; y < area->y2; y++) {
            for (int x = area->x1; x < area->x2; x++) {
                red_pixel_put(view, x - area->x1, y - area->y1, red_pixel_get(canvas->image, x, y));
            }
        }
        pixman_image_unref(view);
        return true;
    }
    int bytes = canvas->bpp / 8;
    uint8_t *base = (uint8_t *)pixman_image_get_data(canvas->image);
    int stride = pixman_image_get_stride(canvas->image);
    for (int y = area->y1; y < area->y2; y++, dest += dest_stride) {
        memcpy(dest, base + (ptrdiff_t)y * stride + (ptrdiff_t)area->x1 * bytes, (size_t)w * bytes);
    }
    return true;
}

pixman_image_t *red_canvas_read_image(RedCanvas *canvas, const pixman_box32_t *area)
{
    if (!inside_canvas(canvas, area)) {
        return NULL;
    }
    pixman_image_t *img = pixman_image_create_bits(pixman_image_get_format(canvas->image),
                                                   area->x2 - area->x1, area->y2 - area->y1,
                                                   NULL, 0);
    if (img && !red_canvas_read(canvas, area, (uint8_t *)pixman_image_get_data(img),
                                pixman_image_get_stride(img))) {
        pixman_image_unref(img);
        return NULL;
    }
    return img;
}
