/* Text: glyph rasters merged into one string mask (a1 for 1-bpp glyphs, a8
 * for 4/8-bpp), then the fore brush composited OVER through it, after the
 * optional back area is filled with the back brush. Matches spice-common's
 * canvas_get_str_mask / canvas_draw_text. */
#include <string.h>

#include "common/canvas/canvas-private.h"

#define COORD_LIMIT (1 << 28)
#define GLYPH_DIM_LIMIT 4096

static size_t glyph_stride(const RedCanvasGlyph *g, uint32_t depth)
{
    return ((size_t)g->width * depth + 7) / 8;
}

static bool glyph_ok(const RedCanvasGlyph *g, uint32_t depth)
{
    return g->data && g->width <= GLYPH_DIM_LIMIT && g->height <= GLYPH_DIM_LIMIT &&
           g->x > -COORD_LIMIT && g->x < COORD_LIMIT && g->y > -COORD_LIMIT &&
           g->y < COORD_LIMIT && glyph_stride(g, depth) * g->height <= g->data_size;
}

/* Merges one glyph into the mask whose top-left is at (bx, by). Source rows
 * are stored bottom-up. 1 bpp: MSB-first bits ORed in; 4 bpp: high nibble
 * first, each nibble n stored as n << 4, max-combined; 8 bpp: max-combined. */
static void put_glyph(pixman_image_t *mask, const RedCanvasGlyph *g, uint32_t depth,
                      int bx, int by)
{
    int mw = pixman_image_get_width(mask), mh = pixman_image_get_height(mask);
    uint8_t *base = (uint8_t *)pixman_image_get_data(mask);
    int mstride = pixman_image_get_stride(mask);
    size_t gstride = glyph_stride(g, depth);
    int left = g->x - bx, top = g->y - by;

    for (uint32_t row = 0; row < g->height; row++) {
        int y = top + (int)row;
        if (y < 0 || y >= mh) {
            continue;
        }
        const uint8_t *src = g->data + gstride * (g->height - 1 - row);
        uint8_t *dst = base + (ptrdiff_t)y * mstride;
        for (uint32_t i = 0; i < g->width; i++) {
            int x = left + (int)i;
            if (x < 0 || x >= mw) {
                continue;
            }
            if (depth == 1) {
                if (src[i >> 3] & (0x80 >> (i & 7))) {
                    dst[x >> 3] |= (uint8_t)(1u << (x & 7));
                }
            } else {
                uint8_t v = depth == 4 ? (uint8_t)((i & 1) ? (src[i >> 1] << 4) : (src[i >> 1] & 0xf0))
                                       : src[i];
                if (v > dst[x]) {
                    dst[x] = v;
                }
            }
        }
    }
}

/* The merged mask of all glyphs, limited to the canvas: glyph pixels off
 * the canvas can never be drawn, and far-apart guest glyphs then cannot ask
 * for a huge mask. (*pos_x, *pos_y) is the mask's surface position. */
static pixman_image_t *string_mask(RedCanvas *canvas, const RedCanvasText *text, int *pos_x,
                                   int *pos_y, bool *empty)
{
    pixman_box32_t b = { 0, 0, 0, 0 };

    for (uint32_t i = 0; i < text->n_glyphs; i++) {
        const RedCanvasGlyph *g = &text->glyphs[i];
        pixman_box32_t gb = { g->x, g->y, g->x + (int)g->width, g->y + (int)g->height };
        if (i == 0) {
            b = gb;
        } else {
            /* union of boxes, empty ones included, like rect_union */
            b.x1 = MIN(b.x1, gb.x1);
            b.y1 = MIN(b.y1, gb.y1);
            b.x2 = MAX(b.x2, gb.x2);
            b.y2 = MAX(b.y2, gb.y2);
        }
    }
    b.x1 = MAX(b.x1, 0);
    b.y1 = MAX(b.y1, 0);
    b.x2 = MIN(b.x2, canvas->width);
    b.y2 = MIN(b.y2, canvas->height);
    *empty = b.x2 <= b.x1 || b.y2 <= b.y1;
    if (*empty) {
        return NULL;
    }
    pixman_image_t *mask = pixman_image_create_bits(text->depth == 1 ? PIXMAN_a1 : PIXMAN_a8,
                                                    b.x2 - b.x1, b.y2 - b.y1, NULL, 0);
    if (!mask) {
        return NULL;
    }
    for (uint32_t i = 0; i < text->n_glyphs; i++) {
        put_glyph(mask, &text->glyphs[i], text->depth, b.x1, b.y1);
    }
    *pos_x = b.x1;
    *pos_y = b.y1;
    return mask;
}

static void drop_tile(pixman_image_t *image, void *data)
{
    (void)image;
    pixman_image_unref(data);
}

/* The fore brush as a pixman source: solid colours are expanded per
 * channel (5-bit channels on 16-bpp canvases, as spice-common does), patterns
 * repeat from their position. Caller unrefs; NULL for a NONE brush. */
static pixman_image_t *pixman_brush(RedCanvas *canvas, const RedCanvasBrush *brush, bool *bad)
{
    *bad = false;
    if (brush->type == RED_CANVAS_BRUSH_SOLID) {
        uint32_t shift = canvas->bpp == 16 ? 5 : 8, cmask = canvas->bpp == 16 ? 0x1f : 0xff;
        uint32_t c = brush->color;
        pixman_color_t pc;
        pc.blue = (uint16_t)(((c & cmask) * 0xffff) / cmask);
        c >>= shift;
        pc.green = (uint16_t)(((c & cmask) * 0xffff) / cmask);
        c >>= shift;
        pc.red = (uint16_t)(((c & cmask) * 0xffff) / cmask);
        pc.alpha = 0xffff;
        return pixman_image_create_solid_fill(&pc);
    }
    if (brush->type == RED_CANVAS_BRUSH_PATTERN) {
        if (!brush->pattern) {
            *bad = true;
            return NULL;
        }
        pixman_image_t *tile = red_canvas_source_for(canvas, brush->pattern);
        if (!tile) {
            *bad = true;
            return NULL;
        }
        pixman_image_t *view = pixman_image_create_bits(pixman_image_get_format(tile),
                                                        pixman_image_get_width(tile),
                                                        pixman_image_get_height(tile),
                                                        pixman_image_get_data(tile),
                                                        pixman_image_get_stride(tile));
        if (!view) {
            pixman_image_unref(tile);
            *bad = true;
            return NULL;
        }
        /* the view borrows tile's pixels: it owns our reference to tile */
        pixman_image_set_destroy_function(view, drop_tile, tile);
        pixman_transform_t t;
        pixman_transform_init_translate(&t, pixman_int_to_fixed(-brush->x), pixman_int_to_fixed(-brush->y));
        pixman_image_set_transform(view, &t);
        pixman_image_set_repeat(view, PIXMAN_REPEAT_NORMAL);
        return view;
    }
    return NULL;
}

bool red_canvas_text(RedCanvas *canvas, const pixman_region32_t *clip,
                     const pixman_box32_t *box, const RedCanvasText *text)
{
    pixman_region32_t region;

    if (!text || (text->n_glyphs && !text->glyphs)) {
        return false;
    }
    if (text->depth != 1 && text->depth != 4 && text->depth != 8) {
        return false;
    }
    for (uint32_t i = 0; i < text->n_glyphs; i++) {
        if (!glyph_ok(&text->glyphs[i], text->depth)) {
            return false;
        }
    }
    if (!red_canvas_dest_region(canvas, &region, clip, box, NULL)) {
        return false;
    }
    if (!pixman_region32_not_empty(&region)) {
        pixman_region32_fini(&region);
        return true;
    }
    const pixman_box32_t *ba = &text->back_area;
    if (ba->x1 < ba->x2 && ba->y1 < ba->y2) {
        /* spice-common only supports a background under PUT text */
        if (text->fore_mode != SPICE_ROPD_OP_PUT) {
            pixman_region32_fini(&region);
            return false;
        }
        pixman_region32_t back;
        pixman_region32_init_rect(&back, ba->x1, ba->y1, (unsigned)(ba->x2 - ba->x1),
                                  (unsigned)(ba->y2 - ba->y1));
        pixman_region32_intersect(&back, &back, &region);
        if (pixman_region32_not_empty(&back)) {
            red_canvas_draw_brush(canvas, &back, &text->back, RED_ROP_COPY);
        }
        pixman_region32_fini(&back);
    }
    if (text->n_glyphs == 0) {
        pixman_region32_fini(&region);
        return true;
    }
    int px = 0, py = 0;
    bool empty;
    pixman_image_t *mask = string_mask(canvas, text, &px, &py, &empty);
    if (!mask) {
        pixman_region32_fini(&region);
        return empty;
    }
    bool bad;
    pixman_image_t *brush = pixman_brush(canvas, &text->fore, &bad);
    if (brush) {
        int mw = pixman_image_get_width(mask), mh = pixman_image_get_height(mask);
        pixman_image_set_clip_region32(canvas->image, &region);
        pixman_image_composite32(PIXMAN_OP_OVER, brush, mask, canvas->image, 0, 0, 0, 0, px, py,
                                 mw, mh);
        pixman_image_set_clip_region32(canvas->image, NULL);
        if (canvas->format == SPICE_SURFACE_FMT_32_xRGB) {
            /* same quirk as alpha blend: the x byte is cleared over the
             * whole string box when its first pixel shows 0xff */
            int x = px, y = py, w = mw, h = mh;
            int cw = canvas->width, ch = canvas->height;
            if (!(x + w <= 0 || x >= cw || y + h <= 0 || y >= ch || w == 0 || h == 0)) {
                if (x < 0) { w += x; x = 0; }
                if (x + w > cw) { w = cw - x; }
                if (y < 0) { h += y; y = 0; }
                if (y + h > ch) { h = ch - y; }
                if ((red_pixel_get(canvas->image, x, y) & 0xff000000u) == 0xff000000u) {
                    red_rop_fill_rect(canvas->image, x, y, w, h, 0x00ffffffu, RED_ROP_AND);
                }
            }
        }
        pixman_image_unref(brush);
    }
    pixman_image_unref(mask);
    pixman_region32_fini(&region);
    return !bad;
}
