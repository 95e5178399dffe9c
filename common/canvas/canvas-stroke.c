/* Stroke: paths of lines and cubic beziers drawn as zero-width lines.
 *
 * Like spice-common: points are rounded from 28.4 fixed, beziers are split
 * until they deviate less than half a pixel from their chord, each polyline
 * is drawn with X11's zero-width Bresenham rules (octant bias, CapNotLast:
 * a segment never draws its last pixel), one segment at a time with the
 * fore rop, clipped to the canvas and the destination region.
 *
 * Pixels are computed in closed form (pixel k of a segment), so a segment
 * costs at most the canvas size however long the guest made it. */
#include <stdlib.h>
#include <string.h>

#include "common/canvas/canvas-private.h"

#define MAX_POINTS (1 << 20)    /* per stroke, after bezier flattening */
#define MAX_BEZIER_DEPTH 40

typedef struct {
    int32_t x, y;
} IPoint;

typedef struct {
    IPoint *pts;
    uint32_t n, size;
    bool overflow;
} Lines;

typedef struct {
    RedCanvas *canvas;
    pixman_region32_t *region;
    RedRop rop;
    bool solid;
    uint32_t color;
    pixman_image_t *tile;
    int32_t tile_x, tile_y;
    /* dashes: lengths in pixels; index/offset carried along a polyline */
    uint8_t dash[256];
    int n_dash;
    int dash_total;
    int dash_index, dash_offset;
    int dash_start_offset;
} Stroke;

static int fix_to_int(int32_t f)
{
    int v = f >> 4;
    return (f & 0x0f) > 8 ? v + 1 : v;
}

static void lines_append(Lines *l, int32_t x, int32_t y)
{
    if (l->overflow) {
        return;
    }
    if (l->n == l->size) {
        if (l->size >= MAX_POINTS) {
            l->overflow = true;
            return;
        }
        l->size = l->size ? l->size * 2 : 16;
        l->pts = g_renew(IPoint, l->pts, l->size);
    }
    l->pts[l->n].x = x;
    l->pts[l->n].y = y;
    l->n++;
}

static int64_t dot(int64_t x1, int64_t y1, int64_t x2, int64_t y2)
{
    return (x1 * x2 + y1 * y2) >> 4;
}

/* Flattens one cubic (28.4 points) appending the end points of the chords. */
static void subdivide(Lines *l, RedCanvasPointFix p0, RedCanvasPointFix p1,
                      RedCanvasPointFix p2, RedCanvasPointFix p3, int depth)
{
    int64_t a2 = dot(p1.x - p0.x, p1.y - p0.y, p1.x - p0.x, p1.y - p0.y);
    int64_t b2 = dot(p3.x - p0.x, p3.y - p0.y, p3.x - p0.x, p3.y - p0.y);
    int64_t c2 = dot(p2.x - p3.x, p2.y - p3.y, p2.x - p3.x, p2.y - p3.y);
    int64_t ab = dot(p1.x - p0.x, p1.y - p0.y, p3.x - p0.x, p3.y - p0.y);
    int64_t cb = dot(p2.x - p3.x, p2.y - p3.y, p0.x - p3.x, p0.y - p3.y);
    /* int64 wraps for huge coordinates; compute in unsigned to stay defined */
    int64_t h1 = (int64_t)((uint64_t)a2 * (uint64_t)b2 - (uint64_t)ab * (uint64_t)ab) >> 3;
    int64_t h2 = (int64_t)((uint64_t)c2 * (uint64_t)b2 - (uint64_t)cb * (uint64_t)cb) >> 3;

    if ((h1 < b2 && h2 < b2) || depth >= MAX_BEZIER_DEPTH || l->overflow) {
        lines_append(l, fix_to_int(p3.x), fix_to_int(p3.y));
        return;
    }
    RedCanvasPointFix p01 = { (p0.x + p1.x) / 2, (p0.y + p1.y) / 2 };
    RedCanvasPointFix p12 = { (p1.x + p2.x) / 2, (p1.y + p2.y) / 2 };
    RedCanvasPointFix p23 = { (p2.x + p3.x) / 2, (p2.y + p3.y) / 2 };
    RedCanvasPointFix p012 = { (p01.x + p12.x) / 2, (p01.y + p12.y) / 2 };
    RedCanvasPointFix p123 = { (p12.x + p23.x) / 2, (p12.y + p23.y) / 2 };
    RedCanvasPointFix p0123 = { (p012.x + p123.x) / 2, (p012.y + p123.y) / 2 };
    subdivide(l, p0, p01, p012, p0123, depth + 1);
    subdivide(l, p0123, p123, p23, p3, depth + 1);
}

static void plot(Stroke *st, int x, int y)
{
    if (!pixman_region32_contains_point(st->region, x, y, NULL)) {
        return;
    }
    if (st->solid) {
        red_rop_fill_rect(st->canvas->image, x, y, 1, 1, st->color, st->rop);
    } else {
        red_rop_tile_rect(st->canvas->image, x, y, 1, 1, st->tile, st->tile_x, st->tile_y, st->rop);
    }
}

/* Advances the dash state by one pixel; returns whether that pixel is "on". */
static bool dash_step(Stroke *st)
{
    if (st->n_dash == 0) {
        return true;
    }
    bool on = (st->dash_index & 1) == 0;
    if (++st->dash_offset >= st->dash[st->dash_index]) {
        st->dash_offset = 0;
        do {
            st->dash_index = (st->dash_index + 1) % st->n_dash;
        } while (st->dash[st->dash_index] == 0);
    }
    return on;
}

/* Moves the dash state forward by n pixels without drawing. */
static void dash_skip(Stroke *st, int64_t n)
{
    if (st->n_dash == 0 || n <= 0) {
        return;
    }
    n %= 2 * (int64_t)st->dash_total;   /* two periods keep the on/off parity */
    while (n-- > 0) {
        dash_step(st);
    }
}

/* One zero-width segment, endpoint excluded. */
static void draw_segment(Stroke *st, int64_t x1, int64_t y1, int64_t x2, int64_t y2)
{
    int64_t adx = x2 - x1, ady = y2 - y1;
    int sx = 1, sy = 1;
    unsigned octant = 0;
    const unsigned bias = (1u << 3) | (1u << 7) | (1u << 6) | (1u << 4);

    if (adx < 0) {
        adx = -adx;
        sx = -1;
        octant |= 4;
    }
    if (ady < 0) {
        ady = -ady;
        sy = -1;
        octant |= 2;
    }
    bool xmajor = adx > ady;
    if (!xmajor) {
        octant |= 1;
    }
    int64_t b = (bias >> octant) & 1;
    int64_t len = xmajor ? adx : ady, minor = xmajor ? ady : adx;
    if (len == 0) {
        return;
    }
    /* Major-axis range of k whose pixel lies inside the canvas. */
    int64_t major0 = xmajor ? x1 : y1;
    int s_major = xmajor ? sx : sy;
    int64_t limit = xmajor ? st->canvas->width : st->canvas->height;
    int64_t k_lo, k_hi;         /* inclusive */
    if (s_major > 0) {
        k_lo = -major0;
        k_hi = limit - 1 - major0;
    } else {
        k_lo = major0 - (limit - 1);
        k_hi = major0;
    }
    if (k_lo < 0) {
        k_lo = 0;
    }
    if (k_hi > len - 1) {
        k_hi = len - 1;
    }
    if (st->n_dash == 0 && k_lo > k_hi) {
        return;
    }
    if (k_lo > k_hi) {
        dash_skip(st, len);
        return;
    }
    dash_skip(st, k_lo);
    for (int64_t k = k_lo; k <= k_hi; k++) {
        int64_t m = (2 * k * minor + len - b) / (2 * len);
        int64_t x = xmajor ? x1 + k * sx : x1 + m * sx;
        int64_t y = xmajor ? y1 + m * sy : y1 + k * sy;
        bool on = dash_step(st);
        if (on && x >= 0 && y >= 0 && x < st->canvas->width && y < st->canvas->height) {
            plot(st, (int)x, (int)y);
        }
    }
    dash_skip(st, len - 1 - k_hi);
}

static void lines_draw(Stroke *st, Lines *l)
{
    st->dash_index = 0;
    st->dash_offset = 0;
    if (st->n_dash) {
        /* START_WITH_GAP: the rotated list starts dash_start_offset pixels in */
        dash_skip(st, st->dash_start_offset);
    }
    for (uint32_t i = 1; i < l->n; i++) {
        draw_segment(st, l->pts[i - 1].x, l->pts[i - 1].y, l->pts[i].x, l->pts[i].y);
    }
    l->n = 0;
}

bool red_canvas_stroke(RedCanvas *canvas, const pixman_region32_t *clip,
                       const pixman_box32_t *box, const RedCanvasPathSeg *segs,
                       uint32_t n_segs, const RedCanvasLineAttr *attr,
                       const RedCanvasBrush *brush, uint16_t fore_mode,
                       uint16_t back_mode)
{
    pixman_region32_t region;
    Stroke st = { 0 };
    Lines l = { 0 };
    bool ok = true;

    (void)back_mode;    /* spice-common ignores the back mode for strokes */
    if ((n_segs && !segs) || !attr || !brush) {
        return false;
    }
    if (!red_canvas_dest_region(canvas, &region, clip, box, NULL)) {
        return false;
    }
    if (!pixman_region32_not_empty(&region)) {
        pixman_region32_fini(&region);
        return true;
    }
    st.canvas = canvas;
    st.region = &region;
    st.rop = red_canvas_ropd_to_rop(fore_mode, RED_ROP_INPUT_BRUSH, RED_ROP_INPUT_DEST);
    if (brush->type == RED_CANVAS_BRUSH_PATTERN) {
        if (!brush->pattern) {
            pixman_region32_fini(&region);
            return false;
        }
        st.tile = red_canvas_source_for(canvas, brush->pattern);
        if (!st.tile || red_canvas_image_bpp(st.tile) != canvas->bpp ||
            pixman_image_get_width(st.tile) <= 0 || pixman_image_get_height(st.tile) <= 0) {
            ok = false;
            goto out;
        }
        st.tile_x = brush->x;
        st.tile_y = brush->y;
    } else {
        st.solid = true;
        st.color = brush->type == RED_CANVAS_BRUSH_SOLID ? brush->color : 0;
    }
    if (attr->flags & SPICE_LINE_FLAGS_STYLED) {
        uint32_t n = attr->style_nseg;
        if (n == 0 || n > 255 || !attr->style) {
            ok = false;
            goto out;
        }
        /* spice-common keeps dash lengths in unsigned chars */
        if (attr->flags & SPICE_LINE_FLAGS_START_WITH_GAP) {
            st.dash[n - 1] = (uint8_t)fix_to_int(attr->style[0]);
            for (uint32_t i = 0; i + 1 < n; i++) {
                st.dash[i] = (uint8_t)fix_to_int(attr->style[i + 1]);
            }
            st.dash_start_offset = st.dash[0];
        } else {
            for (uint32_t i = 0; i < n; i++) {
                st.dash[i] = (uint8_t)fix_to_int(attr->style[i]);
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            st.dash_total += st.dash[i];
        }
        st.n_dash = st.dash_total ? (int)n : 0;      /* all-zero list draws solid */
        if (st.n_dash && st.dash[0] == 0) {
            /* start on the first non-empty dash, keeping its parity */
            st.dash_index = 0;
        }
    }
    for (uint32_t i = 0; i < n_segs && ok; i++) {
        const RedCanvasPathSeg *seg = &segs[i];
        const RedCanvasPointFix *p = seg->points, *end;
        if (seg->count && !p) {
            ok = false;
            break;
        }
        end = p + seg->count;
        for (const RedCanvasPointFix *q = p; q < end; q++) {
            /* keeps bezier midpoint sums inside int32 */
            if (q->x <= -(1 << 30) || q->x >= (1 << 30) || q->y <= -(1 << 30) || q->y >= (1 << 30)) {
                ok = false;
            }
        }
        if (!ok) {
            break;
        }
        if (seg->flags & SPICE_PATH_BEGIN) {
            if (seg->count == 0) {
                ok = false;
                break;
            }
            lines_draw(&st, &l);
            lines_append(&l, fix_to_int(p->x), fix_to_int(p->y));
            p++;
        }
        if (seg->flags & SPICE_PATH_BEZIER) {
            if ((end - p) % 3 != 0 || (l.n == 0 && p < end)) {
                ok = false;
                break;
            }
            for (; p + 2 < end; p += 3) {
                RedCanvasPointFix p0 = { l.pts[l.n - 1].x * 16, l.pts[l.n - 1].y * 16 };
                subdivide(&l, p0, p[0], p[1], p[2], 0);
            }
        } else {
            for (; p < end; p++) {
                lines_append(&l, fix_to_int(p->x), fix_to_int(p->y));
            }
        }
        if (seg->flags & SPICE_PATH_END) {
            if ((seg->flags & SPICE_PATH_CLOSE) && l.n) {
                lines_append(&l, l.pts[0].x, l.pts[0].y);
            }
            lines_draw(&st, &l);
        }
        if (l.overflow) {
            ok = false;
        }
    }
    if (ok) {
        lines_draw(&st, &l);
    }
out:
    g_free(l.pts);
    if (st.tile) {
        pixman_image_unref(st.tile);
    }
    pixman_region32_fini(&region);
    return ok;
}
