/* Damage planning for the display channel client (dcc.h): which boxes a
 * band of damage goes out as, reading their pixels from the canvas, and
 * tiling 32-bit pixels into one-colour rectangles so a box can go out as
 * fills. Pure helpers over regions and pixel buffers; worker thread only
 * because the canvas is. */
#include "server/display/dcc.h"

#include <string.h>
#include <spice/protocol.h>

/* Boxes planned before merging; damage with more rectangles is first
 * reduced to one box per tile of a DCC_DAMAGE_GRID square grid. */
#define DCC_DAMAGE_GRID 8
G_STATIC_ASSERT(DCC_DAMAGE_PLAN_BOXES == DCC_DAMAGE_GRID * DCC_DAMAGE_GRID);
/* Two boxes are merged when the undamaged pixels their bounding box adds
 * cost fewer raw bytes than this (about one DRAW_COPY's headers). */
#define DCC_DAMAGE_MERGE_BYTES 128

uint8_t dcc_bitmap_format_for(uint32_t surface_format, unsigned *bpp)
{
    switch (surface_format) {
    case SPICE_SURFACE_FMT_32_ARGB:
        *bpp = 4;
        return SPICE_BITMAP_FMT_RGBA;
    case SPICE_SURFACE_FMT_16_555:
        *bpp = 2;
        return SPICE_BITMAP_FMT_16BIT;
    case SPICE_SURFACE_FMT_8_A:
        *bpp = 1;
        return SPICE_BITMAP_FMT_8BIT_A;
    default:                        /* 32_xRGB, and 16_565 converted */
        *bpp = 4;
        return SPICE_BITMAP_FMT_32BIT;
    }
}

/* Reads box of canvas as rows of bitmap `format` (top-down). */
uint8_t *dcc_read_pixels(RedCanvas *canvas, const pixman_box32_t *box, uint32_t stride)
{
    int w = box->x2 - box->x1, h = box->y2 - box->y1;
    uint8_t *buf = g_malloc0((size_t)stride * h);
    if (red_canvas_get_format(canvas) == SPICE_SURFACE_FMT_16_565) {
        pixman_image_t *src = red_canvas_read_image(canvas, box);
        pixman_image_t *dst = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h,
                                                       (uint32_t *)(void *)buf, (int)stride);
        if (src && dst) {
            pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, dst, 0, 0, 0, 0, 0, 0, w, h);
        }
        if (src) {
            pixman_image_unref(src);
        }
        if (dst) {
            pixman_image_unref(dst);
        }
    } else {
        red_canvas_read(canvas, box, buf, (int)stride);
    }
    return buf;
}

int64_t dcc_box_area(const pixman_box32_t *b)
{
    return (int64_t)(b->x2 - b->x1) * (b->y2 - b->y1);
}

static pixman_box32_t box_union(const pixman_box32_t *a, const pixman_box32_t *b)
{
    return (pixman_box32_t){ MIN(a->x1, b->x1), MIN(a->y1, b->y1),
                             MAX(a->x2, b->x2), MAX(a->y2, b->y2) };
}

/* Coarsens rects (more than DCC_DAMAGE_PLAN_BOXES) to the bounding box of
 * what falls in each tile of a DCC_DAMAGE_GRID square grid over ext: one
 * pass over the rects, at most DCC_DAMAGE_PLAN_BOXES boxes out. */
static int damage_grid(const pixman_box32_t *rects, int n, const pixman_box32_t *ext,
                       pixman_box32_t *out)
{
    int tw = (ext->x2 - ext->x1 + DCC_DAMAGE_GRID - 1) / DCC_DAMAGE_GRID;
    int th = (ext->y2 - ext->y1 + DCC_DAMAGE_GRID - 1) / DCC_DAMAGE_GRID;
    pixman_box32_t tiles[DCC_DAMAGE_GRID * DCC_DAMAGE_GRID];
    bool used[DCC_DAMAGE_GRID * DCC_DAMAGE_GRID] = { false };

    tw = MAX(tw, 1);
    th = MAX(th, 1);
    for (int i = 0; i < n; i++) {
        const pixman_box32_t *r = &rects[i];
        int tx1 = (r->x1 - ext->x1) / tw, tx2 = (r->x2 - 1 - ext->x1) / tw;
        int ty1 = (r->y1 - ext->y1) / th, ty2 = (r->y2 - 1 - ext->y1) / th;
        for (int ty = ty1; ty <= ty2; ty++) {
            for (int tx = tx1; tx <= tx2; tx++) {
                int t = ty * DCC_DAMAGE_GRID + tx;
                int x0 = ext->x1 + tx * tw, y0 = ext->y1 + ty * th;
                pixman_box32_t c = { MAX(r->x1, x0), MAX(r->y1, y0),
                                     MIN(r->x2, x0 + tw), MIN(r->y2, y0 + th) };
                tiles[t] = used[t] ? box_union(&tiles[t], &c) : c;
                used[t] = true;
            }
        }
    }
    int m = 0;
    for (int t = 0; t < DCC_DAMAGE_GRID * DCC_DAMAGE_GRID; t++) {
        if (used[t]) {
            out[m++] = tiles[t];
        }
    }
    return m;
}

/* Boxes covering region (non-empty), at most DCC_DAMAGE_MAX_RECTS: its
 * rectangles (or a grid's worth of their clusters), then the pair whose
 * bounding box adds the fewest undamaged pixels merged while there are too
 * many boxes or those pixels cost less than one more message. Returns the
 * count written to out (DCC_DAMAGE_PLAN_BOXES long). */
int dcc_damage_plan(const pixman_region32_t *region, unsigned bpp, pixman_box32_t *out)
{
    int n = 0, m;
    const pixman_box32_t *rects = pixman_region32_rectangles((pixman_region32_t *)region, &n);

    if (n <= DCC_DAMAGE_PLAN_BOXES) {
        memcpy(out, rects, (size_t)n * sizeof(*out));
        m = n;
    } else {
        m = damage_grid(rects, n, pixman_region32_extents((pixman_region32_t *)region), out);
    }
    while (m > 1) {
        int bi = 0, bj = 1;
        int64_t best = INT64_MAX;
        for (int i = 0; i < m; i++) {
            for (int j = i + 1; j < m; j++) {
                pixman_box32_t u = box_union(&out[i], &out[j]);
                /* negative when they overlap: merging saves pixels */
                int64_t waste = dcc_box_area(&u) - dcc_box_area(&out[i]) - dcc_box_area(&out[j]);
                if (waste < best) {
                    best = waste;
                    bi = i;
                    bj = j;
                }
            }
        }
        if (m <= DCC_DAMAGE_MAX_RECTS && best * (int64_t)bpp > DCC_DAMAGE_MERGE_BYTES) {
            break;
        }
        out[bi] = box_union(&out[bi], &out[bj]);
        out[bj] = out[--m];
    }
    return m;
}

/* Whether every 32-bit pixel of the rows is the same (*color then). */
bool dcc_box_is_solid(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t stride,
                         uint32_t *color)
{
    uint32_t first;
    memcpy(&first, pixels, sizeof(first));
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *row = pixels + (size_t)y * stride;
        for (uint32_t x = 0; x < width; x++) {
            uint32_t px;
            memcpy(&px, row + (size_t)x * 4, sizeof(px));
            if (px != first) {
                return false;
            }
        }
    }
    *color = first;
    return true;
}

/* Tiles the rows of 32-bit pixels (box at x0, y0) with one-colour
 * rectangles: each row's runs of equal pixels, a run merged into the
 * rectangle above when it spans the same columns in the same colour.
 * Appends them to out (SolidRect); false once more than max are needed. */
bool dcc_solid_rects(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t stride,
                        int32_t x0, int32_t y0, unsigned max, GArray *out)
{
    GArray *open = g_array_new(FALSE, FALSE, sizeof(SolidRect));
    GArray *next = g_array_new(FALSE, FALSE, sizeof(SolidRect));
    bool ok = true;

    for (uint32_t y = 0; y < height && ok; y++) {
        const uint8_t *row = pixels + (size_t)y * stride;
        guint j = 0;
        for (uint32_t x = 0; x < width;) {
            uint32_t c, px;
            memcpy(&c, row + (size_t)x * 4, 4);
            uint32_t e = x + 1;
            while (e < width && (memcpy(&px, row + (size_t)e * 4, 4), px == c)) {
                e++;
            }
            /* rectangles above that start left of this run end here */
            while (j < open->len && g_array_index(open, SolidRect, j).x1 < x0 + (int32_t)x) {
                g_array_append_val(out, g_array_index(open, SolidRect, j));
                j++;
            }
            SolidRect r = { x0 + (int32_t)x, y0 + (int32_t)y, x0 + (int32_t)e,
                            y0 + (int32_t)y + 1, c };
            if (j < open->len) {
                SolidRect *o = &g_array_index(open, SolidRect, j);
                if (o->x1 == r.x1 && o->x2 == r.x2 && o->color == c) {
                    r.y1 = o->y1;
                    j++;
                }
            }
            g_array_append_val(next, r);
            if (out->len + next->len > max) {
                ok = false;
                break;
            }
            x = e;
        }
        for (; ok && j < open->len; j++) {
            g_array_append_val(out, g_array_index(open, SolidRect, j));
        }
        GArray *t = open;
        open = next;
        next = t;
        g_array_set_size(next, 0);
    }
    if (ok) {
        g_array_append_vals(out, open->data, open->len);
        ok = out->len <= max;
    }
    g_array_free(open, TRUE);
    g_array_free(next, TRUE);
    return ok;
}
