/* Render glue: maps a parsed QXL drawable (qxl-cmd.h) onto the software
 * canvas (common/canvas/canvas.h) of its surface. Images are decoded per
 * drawing (the guest's bitmaps stay in guest memory until the release);
 * another surface as source is used in place through its canvas image.
 *
 * Threading: worker thread only.
 */
#include "server/display/worker-private.h"

#include "server/core/log.h"
#include "common/codec/quic-codec.h"

#define RENDER_MAX_TEMPS 8

typedef struct RenderCtx {
    RedWorker *w;
    Drawable *d;
    RedSurface *s;
    pixman_image_t *temps[RENDER_MAX_TEMPS];  /* owned images to unref */
    unsigned n_temps;
    bool ok;
} RenderCtx;

static pixman_image_t *keep(RenderCtx *c, pixman_image_t *img)
{
    if (!img) {
        c->ok = false;
        return NULL;
    }
    g_assert(c->n_temps < RENDER_MAX_TEMPS);
    c->temps[c->n_temps++] = img;
    return img;
}

static RedCanvasBitmap canvas_bitmap(const RedBitmap *bm)
{
    return (RedCanvasBitmap){
        .format = bm->format,
        .top_down = (bm->flags & SPICE_BITMAP_FLAGS_TOP_DOWN) != 0,
        .width = bm->width, .height = bm->height, .stride = bm->stride,
        .data = bm->data, .data_size = bm->data ? bm->data_size : 0,
        .palette = bm->palette ? bm->palette->ents : NULL,
        .palette_entries = bm->palette ? bm->palette->num_ents : 0,
    };
}

static void free_quic_pixels(pixman_image_t *image, void *px)
{
    g_free(px);
}

/* A guest QUIC image (Windows drivers send them) decoded into a new image
 * that owns its pixels; NULL (logged) when the stream is malformed or does
 * not match the descriptor. */
static pixman_image_t *decode_quic(const RedImage *img)
{
    CodecPicture pic = { 0 };
    const char *why = NULL;

    if (!quic_decode(img->u.quic.data, img->u.quic.data_size, &pic, &why)) {
        red_guest_bug("QUIC image: %s", why ? why : "undecodable");
        return NULL;
    }
    if (pic.width != img->width || pic.height != img->height) {
        red_guest_bug("QUIC image is %ux%u, descriptor says %ux%u", pic.width, pic.height,
                      img->width, img->height);
        codec_picture_clear(&pic);
        return NULL;
    }
    pixman_image_t *out = pixman_image_create_bits(pic.has_alpha ? PIXMAN_a8r8g8b8
                                                                 : PIXMAN_x8r8g8b8,
                                                   (int)pic.width, (int)pic.height, pic.px,
                                                   (int)pic.width * 4);
    if (!out) {
        codec_picture_clear(&pic);
        return NULL;
    }
    pixman_image_set_destroy_function(out, free_quic_pixels, pic.px);
    return out;
}

static pixman_image_t *get_image(RenderCtx *c, const RedImage *img, bool as_mask)
{
    GError *err = NULL;
    if (!img) {
        c->ok = false;
        return NULL;
    }
    switch (img->type) {
    case SPICE_IMAGE_TYPE_BITMAP: {
        const RedBitmap *bm = &img->u.bitmap;
        size_t size = 0;
        RedCanvasBitmap cb = canvas_bitmap(bm);
        cb.data = red_bitmap_get_data(bm, &size);
        cb.data_size = size;
        bool high = (img->flags & SPICE_IMAGE_FLAGS_HIGH_BITS_SET) != 0;
        /* The drawable keeps the guest's bitmap until it is released, after
         * rendering: formats the canvas reads as they are are used in place. */
        pixman_image_t *out = as_mask ? red_canvas_decode_mask(&cb, &err)
                                      : red_canvas_wrap_bitmap(&cb, high);
        if (!out && !as_mask) {
            out = red_canvas_decode_bitmap(&cb, high, &err);
        }
        if (!out) {
            red_guest_bug("bitmap: %s", err ? err->message : "undecodable");
            g_clear_error(&err);
        }
        return keep(c, out);
    }
    case SPICE_IMAGE_TYPE_SURFACE: {
        RedSurface *src = surface_get_live(c->w, img->u.surface_id);
        if (!src || as_mask) {
            red_guest_bug("surface %u as %s", img->u.surface_id, as_mask ? "mask" : "missing source");
            c->ok = false;
            return NULL;
        }
        if (src == c->s) {
            /* Drawing a surface onto itself: read a copy first. */
            pixman_box32_t all = { 0, 0, (int32_t)src->width, (int32_t)src->height };
            return keep(c, red_canvas_read_image(src->canvas, &all));
        }
        return red_canvas_get_image(src->canvas);
    }
    case SPICE_IMAGE_TYPE_QUIC:
        if (as_mask) {
            red_guest_bug("QUIC image used as a mask");
            c->ok = false;
            return NULL;
        }
        return keep(c, decode_quic(img));
    default:
        red_log_limited_("unsupported: ", "image type %u not rendered", img->type);
        c->ok = false;
        return NULL;
    }
}

static void get_brush(RenderCtx *c, const RedBrush *b, RedCanvasBrush *out)
{
    memset(out, 0, sizeof(*out));
    switch (b->type) {
    case SPICE_BRUSH_TYPE_SOLID:
        out->type = RED_CANVAS_BRUSH_SOLID;
        out->color = b->u.color;
        break;
    case SPICE_BRUSH_TYPE_PATTERN:
        out->type = RED_CANVAS_BRUSH_PATTERN;
        out->pattern = get_image(c, b->u.pattern.pat, false);
        out->x = b->u.pattern.pos.x;
        out->y = b->u.pattern.pos.y;
        break;
    default:
        out->type = RED_CANVAS_BRUSH_NONE;
        break;
    }
}

static const RedCanvasMask *get_mask(RenderCtx *c, const RedQMask *m, RedCanvasMask *out)
{
    if (!m->bitmap) {
        return NULL;
    }
    out->bitmap = get_image(c, m->bitmap, true);
    out->x = m->pos.x;
    out->y = m->pos.y;
    out->invert = (m->flags & SPICE_MASK_FLAGS_INVERS) != 0;
    return out;
}

static void get_source(RenderCtx *c, const RedImage *img, const RedRect *area, uint8_t scale,
                       RedCanvasSource *out)
{
    out->image = get_image(c, img, false);
    out->area = (pixman_box32_t){ area->left, area->top, area->right, area->bottom };
    out->scale_mode = scale;
}

static void set_transform(pixman_transform_t *t, const RedTransform *r)
{
    pixman_transform_init_identity(t);
    t->matrix[0][0] = (pixman_fixed_t)r->t00;
    t->matrix[0][1] = (pixman_fixed_t)r->t01;
    t->matrix[0][2] = (pixman_fixed_t)r->t02;
    t->matrix[1][0] = (pixman_fixed_t)r->t10;
    t->matrix[1][1] = (pixman_fixed_t)r->t11;
    t->matrix[1][2] = (pixman_fixed_t)r->t12;
}

void render_clip_region(const RedClip *clip, const pixman_box32_t *box, pixman_region32_t *out)
{
    if (clip->type != SPICE_CLIP_TYPE_RECTS) {
        pixman_region32_init_rect(out, box->x1, box->y1, (unsigned)MAX(box->x2 - box->x1, 0),
                                  (unsigned)MAX(box->y2 - box->y1, 0));
        return;
    }
    /* One pass over the clip list, each rectangle cut to the box, then one
     * region built from all of them: a union per rectangle costs O(n^2)
     * (text lines carry dozens of glyph rectangles). */
    pixman_box32_t stack[64];
    pixman_box32_t *boxes = clip->num_rects <= G_N_ELEMENTS(stack)
                            ? stack : g_new(pixman_box32_t, clip->num_rects);
    int n = 0;
    for (uint32_t i = 0; i < clip->num_rects; i++) {
        const RedRect *r = &clip->rects[i];
        pixman_box32_t b = { MAX(r->left, box->x1), MAX(r->top, box->y1),
                             MIN(r->right, box->x2), MIN(r->bottom, box->y2) };
        if (b.x2 > b.x1 && b.y2 > b.y1) {
            boxes[n++] = b;
        }
    }
    if (n == 0) {
        pixman_region32_init(out);
    } else if (n == 1) {
        pixman_region32_init_with_extents(out, &boxes[0]);
    } else {
        pixman_region32_init_rects(out, boxes, n);
    }
    if (boxes != stack) {
        g_free(boxes);
    }
}

static bool draw_stroke(RenderCtx *c, RedCanvas *cv, const pixman_region32_t *clip,
                        const pixman_box32_t *box, const RedStroke *st)
{
    RedCanvasBrush brush;
    get_brush(c, &st->brush, &brush);
    if (!c->ok) {
        return false;
    }
    RedCanvasPathSeg *segs = g_new0(RedCanvasPathSeg, MAX(st->path->num_segments, 1u));
    for (uint32_t i = 0; i < st->path->num_segments; i++) {
        segs[i].flags = st->path->segments[i].flags;
        segs[i].count = st->path->segments[i].count;
        /* RedPointFix and RedCanvasPointFix are both {int32 x, y} 28.4. */
        segs[i].points = (const RedCanvasPointFix *)st->path->segments[i].points;
    }
    RedCanvasLineAttr attr = {
        .flags = st->attr.flags, .style_nseg = st->attr.style_nseg, .style = st->attr.style,
    };
    bool ok = red_canvas_stroke(cv, clip, box, segs, st->path->num_segments, &attr, &brush,
                                st->fore_mode, st->back_mode);
    g_free(segs);
    return ok;
}

static bool draw_text(RenderCtx *c, RedCanvas *cv, const pixman_region32_t *clip,
                      const pixman_box32_t *box, const RedText *t)
{
    RedCanvasText ct;
    memset(&ct, 0, sizeof(ct));
    get_brush(c, &t->fore_brush, &ct.fore);
    get_brush(c, &t->back_brush, &ct.back);
    if (!c->ok) {
        return false;
    }
    const RedString *str = t->str;
    RedCanvasGlyph *glyphs = g_new0(RedCanvasGlyph, MAX(str->length, 1u));
    for (uint32_t i = 0; i < str->length; i++) {
        const RedGlyph *g = &str->glyphs[i];
        glyphs[i].x = g->render_pos.x + g->glyph_origin.x;
        glyphs[i].y = g->render_pos.y + g->glyph_origin.y;
        glyphs[i].width = g->width;
        glyphs[i].height = g->height;
        glyphs[i].data = g->data;
        glyphs[i].data_size = (size_t)g->height * (((size_t)g->width * str->bpp + 7) / 8);
    }
    ct.glyphs = glyphs;
    ct.n_glyphs = str->length;
    ct.depth = str->bpp;
    ct.fore_mode = t->fore_mode;
    ct.back_mode = t->back_mode;
    if (t->back_brush.type != SPICE_BRUSH_TYPE_NONE) {
        ct.back_area = (pixman_box32_t){ t->back_area.left, t->back_area.top,
                                         t->back_area.right, t->back_area.bottom };
    }
    bool ok = red_canvas_text(cv, clip, box, &ct);
    g_free(glyphs);
    return ok;
}

/* A plain copy of a bitmap converted straight into the canvas, reading
 * the guest's pixels (one buffer or its chunks) in place: no decoded
 * image, no gathering, only the pixels that land inside the clip. True
 * when drawn; false when the canvas cannot (the general path draws it). */
static bool copy_bitmap_direct(RedCanvas *cv, const pixman_region32_t *clip,
                               const pixman_box32_t *box, const RedCopy *cp)
{
    const RedImage *img = cp->src_bitmap;
    if (!img || img->type != SPICE_IMAGE_TYPE_BITMAP || cp->mask.bitmap) {
        return false;
    }
    const RedBitmap *bm = &img->u.bitmap;
    RedCanvasBitmap cb = canvas_bitmap(bm);
    RedCanvasChunk stack[8];
    RedCanvasChunk *chunks = NULL;
    if (!bm->data) {
        chunks = bm->n_chunks <= G_N_ELEMENTS(stack) ? stack
                                                     : g_new(RedCanvasChunk, bm->n_chunks);
        for (uint32_t i = 0; i < bm->n_chunks; i++) {
            chunks[i] = (RedCanvasChunk){ bm->chunks[i].data, bm->chunks[i].size };
        }
        cb.chunks = chunks;
        cb.n_chunks = bm->n_chunks;
    }
    pixman_box32_t area = { cp->src_area.left, cp->src_area.top, cp->src_area.right,
                            cp->src_area.bottom };
    RedCanvasDirect r = red_canvas_copy_bitmap(
        cv, clip, box, &cb, (img->flags & SPICE_IMAGE_FLAGS_HIGH_BITS_SET) != 0, &area,
        cp->rop_descriptor);
    if (chunks != stack) {
        g_free(chunks);
    }
    return r == RED_CANVAS_DIRECT_DONE;
}

static bool draw(RenderCtx *c, RedCanvas *cv, const pixman_region32_t *clip,
                 const pixman_box32_t *box)
{
    const RedDrawable *r = c->d->red;
    RedCanvasBrush brush;
    RedCanvasMask mask_buf;
    const RedCanvasMask *mask;
    RedCanvasSource src;

    switch (r->type) {
    case QXL_DRAW_FILL:
        get_brush(c, &r->u.fill.brush, &brush);
        mask = get_mask(c, &r->u.fill.mask, &mask_buf);
        return c->ok && red_canvas_fill(cv, clip, box, &brush, r->u.fill.rop_descriptor, mask);
    case QXL_DRAW_OPAQUE:
        get_source(c, r->u.opaque.src_bitmap, &r->u.opaque.src_area, r->u.opaque.scale_mode,
                   &src);
        get_brush(c, &r->u.opaque.brush, &brush);
        mask = get_mask(c, &r->u.opaque.mask, &mask_buf);
        return c->ok && red_canvas_opaque(cv, clip, box, &src, &brush,
                                          r->u.opaque.rop_descriptor, mask);
    case QXL_DRAW_COPY: {
        if (copy_bitmap_direct(cv, clip, box, &r->u.copy)) {
            return true;
        }
        get_source(c, r->u.copy.src_bitmap, &r->u.copy.src_area, r->u.copy.scale_mode, &src);
        mask = get_mask(c, &r->u.copy.mask, &mask_buf);
        return c->ok && red_canvas_copy(cv, clip, box, &src, r->u.copy.rop_descriptor, mask);
    }
    case QXL_DRAW_BLEND:
        get_source(c, r->u.blend.src_bitmap, &r->u.blend.src_area, r->u.blend.scale_mode,
                   &src);
        mask = get_mask(c, &r->u.blend.mask, &mask_buf);
        return c->ok && red_canvas_blend(cv, clip, box, &src, r->u.blend.rop_descriptor, mask);
    case QXL_DRAW_TRANSPARENT:
        get_source(c, r->u.transparent.src_bitmap, &r->u.transparent.src_area,
                   SPICE_IMAGE_SCALE_MODE_NEAREST, &src);
        return c->ok && red_canvas_transparent(cv, clip, box, &src, r->u.transparent.true_color);
    case QXL_DRAW_ALPHA_BLEND:
        get_source(c, r->u.alpha_blend.src_bitmap, &r->u.alpha_blend.src_area,
                   SPICE_IMAGE_SCALE_MODE_INTERPOLATE, &src);
        return c->ok && red_canvas_alpha_blend(cv, clip, box, &src, r->u.alpha_blend.alpha,
                                               (uint8_t)r->u.alpha_blend.alpha_flags);
    case QXL_COPY_BITS:
        return red_canvas_copy_bits(cv, clip, box, r->u.copy_bits.src_pos.x,
                                    r->u.copy_bits.src_pos.y);
    case QXL_DRAW_ROP3:
        get_source(c, r->u.rop3.src_bitmap, &r->u.rop3.src_area, r->u.rop3.scale_mode, &src);
        get_brush(c, &r->u.rop3.brush, &brush);
        mask = get_mask(c, &r->u.rop3.mask, &mask_buf);
        return c->ok && red_canvas_rop3(cv, clip, box, &src, &brush, r->u.rop3.rop3, mask);
    case QXL_DRAW_STROKE:
        return draw_stroke(c, cv, clip, box, &r->u.stroke);
    case QXL_DRAW_TEXT:
        return draw_text(c, cv, clip, box, &r->u.text);
    case QXL_DRAW_BLACKNESS:
        mask = get_mask(c, &r->u.blackness.mask, &mask_buf);
        return c->ok && red_canvas_blackness(cv, clip, box, mask);
    case QXL_DRAW_WHITENESS:
        mask = get_mask(c, &r->u.whiteness.mask, &mask_buf);
        return c->ok && red_canvas_whiteness(cv, clip, box, mask);
    case QXL_DRAW_INVERS:
        mask = get_mask(c, &r->u.invers.mask, &mask_buf);
        return c->ok && red_canvas_invers(cv, clip, box, mask);
    case QXL_DRAW_COMPOSITE: {
        const RedComposite *k = &r->u.composite;
        RedCanvasComposite comp;
        memset(&comp, 0, sizeof(comp));
        comp.flags = k->flags;
        comp.src = get_image(c, k->src_bitmap, false);
        if (k->mask_bitmap) {
            comp.mask = get_image(c, k->mask_bitmap, false);
        }
        set_transform(&comp.src_transform, &k->src_transform);
        set_transform(&comp.mask_transform, &k->mask_transform);
        comp.src_x = k->src_origin.x;
        comp.src_y = k->src_origin.y;
        comp.mask_x = k->mask_origin.x;
        comp.mask_y = k->mask_origin.y;
        return c->ok && red_canvas_composite(cv, clip, box, &comp);
    }
    default:
        return false;
    }
}

bool render_drawable(RedWorker *w, Drawable *d)
{
    RenderCtx c = { .w = w, .d = d, .s = &w->surfaces[d->surface_id], .ok = true };
    const RedDrawable *r = d->red;
    pixman_box32_t box = { r->bbox.left, r->bbox.top, r->bbox.right, r->bbox.bottom };
    const pixman_region32_t *clip = r->clip.type == SPICE_CLIP_TYPE_RECTS ? &d->region : NULL;

    bool ok = draw(&c, c.s->canvas, clip, &box);
    for (unsigned i = 0; i < c.n_temps; i++) {
        pixman_image_unref(c.temps[i]);
    }
    if (!ok && c.ok) {
        red_guest_bug("surface %u: draw type %u refused by the canvas", d->surface_id, r->type);
    }
    return ok;
}
