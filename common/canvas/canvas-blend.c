/* Pixman-composited operations and the ternary raster ops: alpha_blend,
 * composite and rop3. Each mirrors spice-common's pixel results: OVER with a
 * solid global-alpha mask, pixman composite on a copy of the box, and the
 * 256 bitwise rop3 functions over pattern, source and dest words. */
#include <math.h>
#include <string.h>

#include "common/canvas/canvas-private.h"

#define COORD_LIMIT (1 << 28)

static pixman_image_t *view_as(pixman_image_t *src, pixman_format_code_t f)
{
    return pixman_image_create_bits(f, pixman_image_get_width(src), pixman_image_get_height(src),
                                     pixman_image_get_data(src), pixman_image_get_stride(src));
}

/* pixman may set the x byte of xRGB pixels while compositing; spice-common
 * clears it again, but only when the rectangle's first pixel shows it. */
static void clear_dest_alpha(pixman_image_t *dest, int x, int y, int width, int height)
{
    int w = pixman_image_get_width(dest), h = pixman_image_get_height(dest);

    if (x + width <= 0 || x >= w || y + height <= 0 || y >= h || width == 0 || height == 0) {
        return;
    }
    if (x < 0) {
        width += x;
        x = 0;
    }
    if (x + width > w) {
        width = w - x;
    }
    if (y < 0) {
        height += y;
        y = 0;
    }
    if (y + height > h) {
        height = h - y;
    }
    if ((red_pixel_get(dest, x, y) & 0xff000000u) == 0xff000000u) {
        red_rop_fill_rect(dest, x, y, width, height, 0x00ffffffu, RED_ROP_AND);
    }
}

bool red_canvas_alpha_blend(RedCanvas *canvas, const pixman_region32_t *clip,
                            const pixman_box32_t *box, const RedCanvasSource *src,
                            uint8_t alpha, uint8_t alpha_flags)
{
    pixman_region32_t region;
    pixman_filter_t filter = PIXMAN_FILTER_NEAREST;

    if (!src || !src->image || src->area.x1 >= src->area.x2 || src->area.y1 >= src->area.y2 ||
        src->area.x1 <= -COORD_LIMIT || src->area.y1 <= -COORD_LIMIT ||
        src->area.x2 >= COORD_LIMIT || src->area.y2 >= COORD_LIMIT) {
        return false;
    }
    if (!red_canvas_dest_region(canvas, &region, clip, box, NULL)) {
        return false;
    }
    if (alpha == 0 || !pixman_region32_not_empty(&region)) {
        pixman_region32_fini(&region);
        return true;
    }
    bool dest_alpha = alpha_flags & SPICE_ALPHA_FLAGS_DEST_HAS_ALPHA;
    pixman_format_code_t sf = pixman_image_get_format(src->image);
    if ((alpha_flags & SPICE_ALPHA_FLAGS_SRC_SURFACE_HAS_ALPHA) && sf == PIXMAN_x8r8g8b8) {
        sf = PIXMAN_a8r8g8b8;
    }
    pixman_image_t *s = view_as(src->image, sf);
    pixman_image_t *d = canvas->image;
    if (dest_alpha && canvas->format == SPICE_SURFACE_FMT_32_xRGB) {
        d = view_as(canvas->image, PIXMAN_a8r8g8b8);
    } else {
        pixman_image_ref(d);
    }
    pixman_image_set_clip_region32(d, &region);
    pixman_image_t *mask = NULL;
    if (alpha != 0xff) {
        pixman_color_t c = { 0, 0, 0, (uint16_t)(alpha * 0x101) };
        mask = pixman_image_create_solid_fill(&c);
    }
    pixman_image_set_repeat(s, PIXMAN_REPEAT_NONE);
    int bw = box->x2 - box->x1, bh = box->y2 - box->y1;
    int sw = src->area.x2 - src->area.x1, sh = src->area.y2 - src->area.y1;
    if (sw == bw && sh == bh) {
        pixman_image_composite32(PIXMAN_OP_OVER, s, mask, d, src->area.x1, src->area.y1, 0, 0,
                                 box->x1, box->y1, bw, bh);
    } else {
        pixman_transform_t t;
        pixman_transform_init_scale(&t,
            (pixman_fixed_t)(((pixman_fixed_48_16_t)sw * 65536) / bw),
            (pixman_fixed_t)(((pixman_fixed_48_16_t)sh * 65536) / bh));
        pixman_transform_translate(&t, NULL, pixman_int_to_fixed(src->area.x1),
                                   pixman_int_to_fixed(src->area.y1));
        pixman_image_set_transform(s, &t);
        /* spice-common always scales alpha blends with NEAREST */
        pixman_image_set_filter(s, filter, NULL, 0);
        pixman_image_composite32(PIXMAN_OP_OVER, s, mask, d, 0, 0, 0, 0, box->x1, box->y1, bw, bh);
    }
    if (canvas->format == SPICE_SURFACE_FMT_32_xRGB && !dest_alpha) {
        clear_dest_alpha(d, box->x1, box->y1, bw, bh);
    }
    pixman_image_set_clip_region32(d, NULL);
    if (mask) {
        pixman_image_unref(mask);
    }
    pixman_image_unref(d);
    pixman_image_unref(s);
    pixman_region32_fini(&region);
    return true;
}

/* Copies the canvas pixels under box into a new box-sized image (pixels
 * outside the canvas read as 0). */
static pixman_image_t *copy_of_box(RedCanvas *canvas, const pixman_box32_t *box)
{
    int w = box->x2 - box->x1, h = box->y2 - box->y1;
    pixman_image_t *d = pixman_image_create_bits(pixman_image_get_format(canvas->image), w, h,
                                                 NULL, 0);
    if (!d) {
        return NULL;
    }
    red_rop_blit(d, canvas->image, box->x1, box->y1, 0, 0, w, h, RED_ROP_COPY);
    /* red_rop_blit clips to the canvas but shifts dest accordingly */
    return d;
}

/* box ∩ canvas: the only pixels an operation can change. */
static pixman_box32_t work_box(RedCanvas *canvas, const pixman_box32_t *box)
{
    pixman_box32_t wb = {
        MAX(box->x1, 0), MAX(box->y1, 0),
        MIN(box->x2, canvas->width), MIN(box->y2, canvas->height),
    };
    return wb;
}

static void blit_back(RedCanvas *canvas, pixman_region32_t *region, pixman_image_t *d,
                      const pixman_box32_t *box)
{
    int n;
    pixman_box32_t *r = pixman_region32_rectangles(region, &n);
    for (int i = 0; i < n; i++) {
        red_rop_blit(canvas->image, d, r[i].x1 - box->x1, r[i].y1 - box->y1, r[i].x1, r[i].y1,
                     r[i].x2 - r[i].x1, r[i].y2 - r[i].y1, RED_ROP_COPY);
    }
}

static pixman_image_t *opaque_view(pixman_image_t *img)
{
    pixman_format_code_t f = pixman_image_get_format(img);
    if (PIXMAN_FORMAT_A(f)) {
        /* same layout with the alpha bits turned into padding */
        f = (pixman_format_code_t)((uint32_t)f & ~(0xfu << 12));
        if (!pixman_format_supported_source(f)) {
            f = pixman_image_get_format(img);
        }
    }
    return view_as(img, f);
}

bool red_canvas_composite(RedCanvas *canvas, const pixman_region32_t *clip,
                          const pixman_box32_t *box, const RedCanvasComposite *comp)
{
    pixman_region32_t region;
    uint32_t fl;

    if (!comp || !comp->src || ((comp->flags & SPICE_COMPOSITE_HAS_MASK) && !comp->mask)) {
        return false;
    }
    fl = comp->flags;
    if (!red_canvas_dest_region(canvas, &region, clip, box, NULL)) {
        return false;
    }
    if (!pixman_region32_not_empty(&region) || box->x1 == box->x2 || box->y1 == box->y2) {
        pixman_region32_fini(&region);
        return true;
    }
    pixman_op_t op = (pixman_op_t)(fl & 0xff);
    pixman_filter_t src_filter = (pixman_filter_t)((fl >> 8) & 7);
    pixman_filter_t mask_filter = (pixman_filter_t)((fl >> 11) & 7);
    pixman_repeat_t src_repeat = (pixman_repeat_t)((fl >> 14) & 3);
    pixman_repeat_t mask_repeat = (pixman_repeat_t)((fl >> 16) & 3);
    /* pixman ops are 0..0x3e; filters up to SEPARABLE_CONVOLUTION need
     * parameters we do not have: reject them instead of crashing pixman. */
    if (op > PIXMAN_OP_HSL_LUMINOSITY || src_filter > PIXMAN_FILTER_BILINEAR ||
        mask_filter > PIXMAN_FILTER_BILINEAR) {
        pixman_region32_fini(&region);
        return false;
    }
    /* only box ∩ canvas is computed: per-pixel results do not depend on the
     * rest, and a huge guest box then costs no more than the canvas */
    pixman_box32_t wb = work_box(canvas, box);
    int ox = wb.x1 - box->x1, oy = wb.y1 - box->y1;
    pixman_image_t *d = copy_of_box(canvas, &wb);
    pixman_image_t *s = (fl & SPICE_COMPOSITE_SOURCE_OPAQUE) ? opaque_view(comp->src)
                                                             : view_as(comp->src, pixman_image_get_format(comp->src));
    pixman_image_t *m = NULL;
    if (!d || !s) {
        goto out;
    }
    if (fl & SPICE_COMPOSITE_HAS_SRC_TRANSFORM) {
        pixman_transform_t t = comp->src_transform;
        t.matrix[2][0] = 0;
        t.matrix[2][1] = 0;
        t.matrix[2][2] = pixman_fixed_1;
        pixman_image_set_transform(s, &t);
    }
    pixman_image_set_filter(s, src_filter, NULL, 0);
    pixman_image_set_repeat(s, src_repeat);
    if (fl & SPICE_COMPOSITE_HAS_MASK) {
        m = view_as(comp->mask, pixman_image_get_format(comp->mask));
        if (!m) {
            goto out;
        }
        if (fl & SPICE_COMPOSITE_HAS_MASK_TRANSFORM) {
            pixman_transform_t t = comp->mask_transform;
            t.matrix[2][0] = 0;
            t.matrix[2][1] = 0;
            t.matrix[2][2] = pixman_fixed_1;
            pixman_image_set_transform(m, &t);
        }
        pixman_image_set_repeat(m, mask_repeat);
        pixman_image_set_filter(m, mask_filter, NULL, 0);
        pixman_image_set_component_alpha(m, (fl & SPICE_COMPOSITE_COMPONENT_ALPHA) != 0);
    }
    pixman_image_composite32(op, s, m, d, comp->src_x + ox, comp->src_y + oy, comp->mask_x + ox,
                             comp->mask_y + oy, 0, 0, wb.x2 - wb.x1, wb.y2 - wb.y1);
    blit_back(canvas, &region, d, &wb);
out:
    if (m) {
        pixman_image_unref(m);
    }
    if (s) {
        pixman_image_unref(s);
    }
    if (d) {
        pixman_image_unref(d);
    }
    pixman_region32_fini(&region);
    return true;
}

/* ---- rop3 -------------------------------------------------------------- */

/* Word-wise rop3: OR of the minterms selected by the code's bits
 * (bit index = pattern << 2 | src << 1 | dest). */
static inline uint32_t rop3_word(uint8_t code, uint32_t p, uint32_t s, uint32_t d)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < 8; i++) {
        if (code & (1u << i)) {
            r |= ((i & 4) ? p : ~p) & ((i & 2) ? s : ~s) & ((i & 1) ? d : ~d);
        }
    }
    return r;
}

/* spice-common's canvas_scale_surface: a width x height image of src's
 * format, sampled with a double-derived scale and a rounded offset. */
static pixman_image_t *rop3_scale(pixman_image_t *src, const pixman_box32_t *sa, int width,
                                  int height, pixman_filter_t filter, int ox, int oy, int ow,
                                  int oh)
{
    pixman_format_code_t f = pixman_image_get_format(src);
    /* only the ow x oh part at (ox, oy) of the width x height result */
    pixman_image_t *out = pixman_image_create_bits(f, ow, oh, NULL, 0);
    if (!out) {
        return NULL;
    }
    pixman_image_t *view = view_as(src, f);
    double sx = (double)(sa->x2 - sa->x1) / width;
    double sy = (double)(sa->y2 - sa->y1) / height;
    pixman_transform_t t;
    pixman_transform_init_scale(&t, pixman_double_to_fixed(sx), pixman_double_to_fixed(sy));
    pixman_image_set_transform(view, &t);
    pixman_image_set_repeat(view, PIXMAN_REPEAT_NONE);
    pixman_image_set_filter(view, filter, NULL, 0);
    pixman_image_composite32(PIXMAN_OP_SRC, view, NULL, out,
                             (int)floor(sa->x1 / sx + 0.5) + ox, (int)floor(sa->y1 / sy + 0.5) + oy,
                             0, 0, 0, 0, ow, oh);
    pixman_image_unref(view);
    return out;
}

static int pos_mod(int64_t a, int b)
{
    int64_t r = a % b;
    return (int)(r < 0 ? r + b : r);
}

bool red_canvas_rop3(RedCanvas *canvas, const pixman_region32_t *clip,
                     const pixman_box32_t *box, const RedCanvasSource *src,
                     const RedCanvasBrush *brush, uint8_t rop3,
                     const RedCanvasMask *mask)
{
    pixman_region32_t region;
    pixman_image_t *d = NULL, *s = NULL, *p = NULL;
    bool ok = false;

    if (!src || !src->image || src->area.x1 >= src->area.x2 || src->area.y1 >= src->area.y2 ||
        src->area.x1 < 0 || src->area.y1 < 0 || src->area.x2 >= COORD_LIMIT ||
        src->area.y2 >= COORD_LIMIT || (canvas->bpp != 16 && canvas->bpp != 32)) {
        return false;
    }
    if (!red_canvas_dest_region(canvas, &region, clip, box, mask)) {
        return false;
    }
    int w = box->x2 - box->x1, h = box->y2 - box->y1;
    if (w == 0 || h == 0 || !pixman_region32_not_empty(&region)) {
        pixman_region32_fini(&region);
        return true;
    }
    pixman_box32_t wb = work_box(canvas, box);
    int ox = wb.x1 - box->x1, oy = wb.y1 - box->y1;
    int ww = wb.x2 - wb.x1, wh = wb.y2 - wb.y1;
    d = copy_of_box(canvas, &wb);
    s = red_canvas_source_for(canvas, src->image);
    if (!d || !s || red_canvas_image_bpp(s) != canvas->bpp) {
        goto out;
    }
    int spx = src->area.x1, spy = src->area.y1;
    if (src->area.x2 - src->area.x1 != w || src->area.y2 - src->area.y1 != h) {
        pixman_filter_t filter;
        if (src->scale_mode == SPICE_IMAGE_SCALE_MODE_NEAREST) {
            filter = PIXMAN_FILTER_NEAREST;
        } else if (src->scale_mode == SPICE_IMAGE_SCALE_MODE_INTERPOLATE) {
            filter = PIXMAN_FILTER_GOOD;
        } else {
            goto out;
        }
        pixman_image_t *scaled = rop3_scale(s, &src->area, w, h, filter, ox, oy, ww, wh);
        pixman_image_unref(s);
        s = scaled;
        if (!s) {
            goto out;
        }
        spx = spy = 0;
    } else {
        if (pixman_image_get_width(s) - spx < w || pixman_image_get_height(s) - spy < h) {
            goto out;   /* source too small for the box: guest bug */
        }
        spx += ox;
        spy += oy;
    }
    int pw = 1, ph = 1, px0 = 0, py = 0;
    uint32_t color = 0;
    if (brush && brush->type == RED_CANVAS_BRUSH_PATTERN) {
        if (!brush->pattern) {
            goto out;
        }
        p = red_canvas_source_for(canvas, brush->pattern);
        if (!p || red_canvas_image_bpp(p) != canvas->bpp) {
            goto out;
        }
        pw = pixman_image_get_width(p);
        ph = pixman_image_get_height(p);
        px0 = pos_mod((int64_t)wb.x1 - brush->x, pw);
        py = pos_mod((int64_t)wb.y1 - brush->y, ph);
    } else if (brush && brush->type == RED_CANVAS_BRUSH_SOLID) {
        color = brush->color;
    }
    uint32_t wmask = canvas->bpp == 16 ? 0xffffu : 0xffffffffu;
    for (int y = 0; y < wh; y++) {
        int px = px0;
        for (int x = 0; x < ww; x++) {
            uint32_t pv = p ? red_pixel_get(p, px, py) : (color & wmask);
            uint32_t r = rop3_word(rop3, pv, red_pixel_get(s, spx + x, spy + y), red_pixel_get(d, x, y));
            red_pixel_put(d, x, y, r & wmask);
            if (++px == pw) {
                px = 0;
            }
        }
        if (++py == ph) {
            py = 0;
        }
    }
    blit_back(canvas, &region, d, &wb);
    ok = true;
out:
    if (p) {
        pixman_image_unref(p);
    }
    if (s) {
        pixman_image_unref(s);
    }
    if (d) {
        pixman_image_unref(d);
    }
    pixman_region32_fini(&region);
    return ok;
}
