/* Draw operations: a RedDrawable copied into a host-owned wire draw
 * (DisplayDrawOp) when it enters the tree, and the pipe item that sends one
 * to a client. The pixmap cache is consulted when the item is marshalled,
 * not when it is queued: an item dropped from a slow client's pipe then
 * never changes what the server believes the client holds. */
#include "server/display/dcc.h"

#include <string.h>
#include <spice/protocol.h>
#include <spice/qxl_dev.h>

#include "server/core/log.h"

/* ---- building ---- */

static void *op_alloc(DisplayDrawOp *op, size_t size)
{
    void *p = g_malloc0(size ? size : 1);
    g_ptr_array_add(op->storage, p);
    op->bytes += size;
    return p;
}

static void *op_dup(DisplayDrawOp *op, const void *src, size_t size)
{
    void *p = op_alloc(op, size);
    if (size) {
        memcpy(p, src, size);
    }
    return p;
}

static WireRect wrect(const RedRect *r)
{
    return (WireRect){ r->left, r->top, r->right, r->bottom };
}

/* Copies a guest image; records where the draw references it. */
static bool op_image(DisplayDrawOp *op, const RedImage *img, const WireImage **slot)
{
    if (!img) {
        *slot = NULL;
        return true;
    }
    if (op->n_images >= DRAW_OP_MAX_IMAGES) {
        return false;
    }
    WireImage *wi = op_alloc(op, sizeof(*wi));
    wi->id = img->id;
    wi->flags = img->flags & (SPICE_IMAGE_FLAGS_CACHE_ME | SPICE_IMAGE_FLAGS_HIGH_BITS_SET);
    wi->width = img->width;
    wi->height = img->height;
    switch (img->type) {
    case SPICE_IMAGE_TYPE_BITMAP: {
        const RedBitmap *b = &img->u.bitmap;
        size_t size = 0;
        const uint8_t *data = red_bitmap_get_data(b, &size);
        if (size != (size_t)b->stride * b->height) {
            return false;
        }
        wi->type = SPICE_IMAGE_TYPE_BITMAP;
        wi->width = b->width;
        wi->height = b->height;
        wi->u.bitmap.format = b->format;
        wi->u.bitmap.flags = b->flags & SPICE_BITMAP_FLAGS_TOP_DOWN;
        wi->u.bitmap.stride = b->stride;
        wi->u.bitmap.data = op_dup(op, data, size);
        if (b->palette) {
            WirePalette *p = op_alloc(op, sizeof(*p));
            uint16_t n = MIN(b->palette->num_ents, (uint16_t)RED_PALETTE_MAX_ENTS);
            p->unique = b->palette->unique;
            p->num_ents = n;
            p->ents = op_dup(op, b->palette->ents, n * sizeof(uint32_t));
            wi->u.bitmap.palette = p;
        }
        break;
    }
    case SPICE_IMAGE_TYPE_QUIC:
        wi->type = SPICE_IMAGE_TYPE_QUIC;
        wi->u.binary.size = img->u.quic.data_size;
        wi->u.binary.data = op_dup(op, img->u.quic.data, img->u.quic.data_size);
        break;
    case SPICE_IMAGE_TYPE_SURFACE:
        wi->type = SPICE_IMAGE_TYPE_SURFACE;
        wi->flags = 0;
        wi->u.surface_id = img->u.surface_id;
        op->src_surfaces[op->n_src_surfaces++] = img->u.surface_id;
        break;
    default:
        return false;
    }
    op->images[op->n_images] = wi;
    op->slots[op->n_images] = slot;
    op->n_images++;
    *slot = wi;
    return true;
}

static bool op_brush(DisplayDrawOp *op, const RedBrush *b, WireBrush *out)
{
    out->type = (uint8_t)b->type;
    if (b->type == SPICE_BRUSH_TYPE_SOLID) {
        out->color = b->u.color;
    } else if (b->type == SPICE_BRUSH_TYPE_PATTERN) {
        out->pos = (WirePoint){ b->u.pattern.pos.x, b->u.pattern.pos.y };
        return op_image(op, b->u.pattern.pat, &out->pat);
    }
    return true;
}

static bool op_mask(DisplayDrawOp *op, const RedQMask *m, WireQMask *out)
{
    out->flags = m->flags;
    out->pos = (WirePoint){ m->pos.x, m->pos.y };
    return op_image(op, m->bitmap, &out->bitmap);
}

static bool op_path(DisplayDrawOp *op, const RedPath *path, const WirePath **out)
{
    WirePath *p = op_alloc(op, sizeof(*p));
    WirePathSeg *segs = op_alloc(op, sizeof(*segs) * path->num_segments);
    for (uint32_t i = 0; i < path->num_segments; i++) {
        const RedPathSeg *s = &path->segments[i];
        WirePoint *pts = op_alloc(op, sizeof(*pts) * s->count);
        for (uint32_t j = 0; j < s->count; j++) {
            pts[j] = (WirePoint){ s->points[j].x, s->points[j].y };
        }
        segs[i] = (WirePathSeg){ (uint8_t)s->flags, s->count, pts };
    }
    p->num_segments = path->num_segments;
    p->segments = segs;
    *out = p;
    return true;
}

static bool op_string(DisplayDrawOp *op, const RedString *str, const WireString **out)
{
    WireString *s = op_alloc(op, sizeof(*s));
    WireGlyph *g = op_alloc(op, sizeof(*g) * str->length);
    for (uint16_t i = 0; i < str->length; i++) {
        const RedGlyph *rg = &str->glyphs[i];
        g[i].render_pos = (WirePoint){ rg->render_pos.x, rg->render_pos.y };
        g[i].glyph_origin = (WirePoint){ rg->glyph_origin.x, rg->glyph_origin.y };
        g[i].width = rg->width;
        g[i].height = rg->height;
        g[i].data = op_dup(op, rg->data, wire_image_size(str->bpp, rg->width, rg->height));
    }
    s->length = str->length;
    s->flags = (uint8_t)str->flags;
    s->glyphs = g;
    *out = s;
    return true;
}

static WireTransform wtransform(const RedTransform *t)
{
    return (WireTransform){ t->t00, t->t01, t->t02, t->t10, t->t11, t->t12 };
}

/* Fills op->draw from red; false when some part cannot be sent. */
static bool op_fill_draw(DisplayDrawOp *op, const RedDrawable *red)
{
    WireDraw *d = &op->draw;

    d->surface_id = red->surface_id;
    d->box = wrect(&red->bbox);
    d->clip.type = (uint8_t)red->clip.type;
    if (red->clip.type == SPICE_CLIP_TYPE_RECTS) {
        WireRect *rects = op_alloc(op, sizeof(*rects) * red->clip.num_rects);
        for (uint32_t i = 0; i < red->clip.num_rects; i++) {
            rects[i] = wrect(&red->clip.rects[i]);
        }
        d->clip.num_rects = red->clip.num_rects;
        d->clip.rects = rects;
    }

    switch (red->type) {
    case QXL_DRAW_FILL:
        d->type = SPICE_MSG_DISPLAY_DRAW_FILL;
        d->u.fill.rop_descriptor = red->u.fill.rop_descriptor;
        return op_brush(op, &red->u.fill.brush, &d->u.fill.brush) &&
               op_mask(op, &red->u.fill.mask, &d->u.fill.mask);
    case QXL_DRAW_OPAQUE:
        d->type = SPICE_MSG_DISPLAY_DRAW_OPAQUE;
        d->u.opaque.src_area = wrect(&red->u.opaque.src_area);
        d->u.opaque.rop_descriptor = red->u.opaque.rop_descriptor;
        d->u.opaque.scale_mode = red->u.opaque.scale_mode;
        return op_image(op, red->u.opaque.src_bitmap, &d->u.opaque.src) &&
               op_brush(op, &red->u.opaque.brush, &d->u.opaque.brush) &&
               op_mask(op, &red->u.opaque.mask, &d->u.opaque.mask);
    case QXL_DRAW_COPY:
    case QXL_DRAW_BLEND: {
        const RedCopy *c = red->type == QXL_DRAW_COPY ? &red->u.copy : &red->u.blend;
        d->type = red->type == QXL_DRAW_COPY ? SPICE_MSG_DISPLAY_DRAW_COPY
                                             : SPICE_MSG_DISPLAY_DRAW_BLEND;
        d->u.copy.src_area = wrect(&c->src_area);
        d->u.copy.rop_descriptor = c->rop_descriptor;
        d->u.copy.scale_mode = c->scale_mode;
        return op_image(op, c->src_bitmap, &d->u.copy.src) &&
               op_mask(op, &c->mask, &d->u.copy.mask);
    }
    case QXL_COPY_BITS:
        d->type = SPICE_MSG_DISPLAY_COPY_BITS;
        d->u.copy_bits_src = (WirePoint){ red->u.copy_bits.src_pos.x, red->u.copy_bits.src_pos.y };
        return true;
    case QXL_DRAW_BLACKNESS:
        d->type = SPICE_MSG_DISPLAY_DRAW_BLACKNESS;
        return op_mask(op, &red->u.blackness.mask, &d->u.whiteness.mask);
    case QXL_DRAW_WHITENESS:
        d->type = SPICE_MSG_DISPLAY_DRAW_WHITENESS;
        return op_mask(op, &red->u.whiteness.mask, &d->u.whiteness.mask);
    case QXL_DRAW_INVERS:
        d->type = SPICE_MSG_DISPLAY_DRAW_INVERS;
        return op_mask(op, &red->u.invers.mask, &d->u.whiteness.mask);
    case QXL_DRAW_ROP3:
        d->type = SPICE_MSG_DISPLAY_DRAW_ROP3;
        d->u.rop3.src_area = wrect(&red->u.rop3.src_area);
        d->u.rop3.rop3 = red->u.rop3.rop3;
        d->u.rop3.scale_mode = red->u.rop3.scale_mode;
        return op_image(op, red->u.rop3.src_bitmap, &d->u.rop3.src) &&
               op_brush(op, &red->u.rop3.brush, &d->u.rop3.brush) &&
               op_mask(op, &red->u.rop3.mask, &d->u.rop3.mask);
    case QXL_DRAW_STROKE: {
        const RedStroke *s = &red->u.stroke;
        d->type = SPICE_MSG_DISPLAY_DRAW_STROKE;
        d->u.stroke.attr.flags = s->attr.flags;
        if (s->attr.flags & SPICE_LINE_FLAGS_STYLED) {
            d->u.stroke.attr.style_nseg = s->attr.style_nseg;
            d->u.stroke.attr.style = op_dup(op, s->attr.style,
                                            sizeof(int32_t) * s->attr.style_nseg);
        }
        d->u.stroke.fore_mode = s->fore_mode;
        d->u.stroke.back_mode = s->back_mode;
        return op_path(op, s->path, &d->u.stroke.path) &&
               op_brush(op, &s->brush, &d->u.stroke.brush);
    }
    case QXL_DRAW_TEXT: {
        const RedText *t = &red->u.text;
        d->type = SPICE_MSG_DISPLAY_DRAW_TEXT;
        d->u.text.back_area = wrect(&t->back_area);
        d->u.text.fore_mode = t->fore_mode;
        d->u.text.back_mode = t->back_mode;
        return op_string(op, t->str, &d->u.text.str) &&
               op_brush(op, &t->fore_brush, &d->u.text.fore_brush) &&
               op_brush(op, &t->back_brush, &d->u.text.back_brush);
    }
    case QXL_DRAW_TRANSPARENT:
        d->type = SPICE_MSG_DISPLAY_DRAW_TRANSPARENT;
        d->u.transparent.src_area = wrect(&red->u.transparent.src_area);
        d->u.transparent.src_color = red->u.transparent.src_color;
        d->u.transparent.true_color = red->u.transparent.true_color;
        return op_image(op, red->u.transparent.src_bitmap, &d->u.transparent.src);
    case QXL_DRAW_ALPHA_BLEND:
        d->type = SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND;
        d->u.alpha_blend.alpha_flags = (uint8_t)red->u.alpha_blend.alpha_flags;
        d->u.alpha_blend.alpha = red->u.alpha_blend.alpha;
        d->u.alpha_blend.src_area = wrect(&red->u.alpha_blend.src_area);
        return op_image(op, red->u.alpha_blend.src_bitmap, &d->u.alpha_blend.src);
    case QXL_DRAW_COMPOSITE: {
        const RedComposite *c = &red->u.composite;
        d->type = SPICE_MSG_DISPLAY_DRAW_COMPOSITE;
        d->u.composite.flags = c->flags;
        d->u.composite.src_transform = wtransform(&c->src_transform);
        d->u.composite.mask_transform = wtransform(&c->mask_transform);
        d->u.composite.src_origin_x = c->src_origin.x;
        d->u.composite.src_origin_y = c->src_origin.y;
        d->u.composite.mask_origin_x = c->mask_origin.x;
        d->u.composite.mask_origin_y = c->mask_origin.y;
        if ((c->flags & SPICE_COMPOSITE_HAS_MASK) && !c->mask_bitmap) {
            return false;
        }
        return op_image(op, c->src_bitmap, &d->u.composite.src) &&
               op_image(op, (c->flags & SPICE_COMPOSITE_HAS_MASK) ? c->mask_bitmap : NULL,
                        &d->u.composite.mask);
    }
    default:
        return false;
    }
}

DisplayDrawOp *display_draw_op_new(const RedDrawable *red, const pixman_region32_t *region)
{
    /* A self_bitmap drawable reads its own destination as it was before
     * drawing: that is only known server-side, so it goes as an image. */
    if (red->self_bitmap || red->type == QXL_DRAW_NOP) {
        return NULL;
    }
    DisplayDrawOp *op = g_new0(DisplayDrawOp, 1);
    op->refs = 1;
    op->bytes = sizeof(*op);
    op->surface_id = red->surface_id;
    op->storage = g_ptr_array_new_with_free_func(g_free);
    pixman_region32_init(&op->region);
    if (region) {
        pixman_region32_copy(&op->region, region);
    }
    if (!op_fill_draw(op, red)) {
        display_draw_op_unref(op);
        return NULL;
    }
    return op;
}

DisplayDrawOp *display_draw_op_ref(DisplayDrawOp *op)
{
    op->refs++;
    return op;
}

void display_draw_op_unref(DisplayDrawOp *op)
{
    if (!op || --op->refs > 0) {
        return;
    }
    pixman_region32_fini(&op->region);
    g_ptr_array_free(op->storage, TRUE);
    g_free(op);
}

/* ---- sending ---- */

typedef struct DrawItem {
    RedPipeItem base;
    DisplayDrawOp *op;
} DrawItem;

/* Whether image i of op may be sent lossy: only the source of a plain
 * copy onto the primary (what a client shows, not what later draws read
 * from an off-screen surface), as upstream limits JPEG to such sources. */
static bool image_can_lossy(const DisplayDrawOp *op, uint32_t i)
{
    const WireDraw *d = &op->draw;
    return d->type == SPICE_MSG_DISPLAY_DRAW_COPY && op->surface_id == 0 &&
           op->slots[i] == &d->u.copy.src && d->u.copy.rop_descriptor == SPICE_ROPD_OP_PUT &&
           !d->u.copy.mask.bitmap;
}

/* Resolves one image against the client's cache for message `serial` and
 * encodes it (enc holds the body until the message is written). Sets
 * *lossy when the client will draw lossy pixels from it. */
static void resolve_image(DisplayChannelClient *dcc, const WireImage *src, bool can_lossy,
                          WireImage *out, RedEncOutput *enc, uint64_t serial, bool *lossy)
{
    bool cacheable = (src->flags & SPICE_IMAGE_FLAGS_CACHE_ME) &&
                     src->type != SPICE_IMAGE_TYPE_SURFACE;
    bool replace = false;

    if (cacheable && pixmap_cache_lookup(&dcc->cache, src->id, serial)) {
        bool cached_lossy = pixmap_cache_is_lossy(&dcc->cache, src->id);
        if (!cached_lossy || can_lossy) {
            *out = *src;
            memset(&out->u, 0, sizeof(out->u));
            out->encoded = false;
            out->type = SPICE_IMAGE_TYPE_FROM_CACHE;
            out->flags = 0;
            *lossy |= cached_lossy;
            return;
        }
        /* The client holds a JPEG version and this use needs the exact
         * one: send it losslessly and have the client replace its copy. */
        replace = true;
        can_lossy = false;
    }
    if (!dcc_encode_image(dcc, src, can_lossy, out, enc)) {
        *out = *src;
    }
    out->flags &= (uint8_t)~(SPICE_IMAGE_FLAGS_CACHE_ME | SPICE_IMAGE_FLAGS_CACHE_REPLACE_ME);
    bool sent_lossy = out->encoded && enc->lossy;
    *lossy |= sent_lossy;
    if (replace) {
        out->flags |= SPICE_IMAGE_FLAGS_CACHE_REPLACE_ME;
        pixmap_cache_set_lossy(&dcc->cache, src->id, false);
    } else if (cacheable && pixmap_cache_add(&dcc->cache, src->id,
                                             (int64_t)src->width * src->height, serial,
                                             dcc->evicted)) {
        out->flags |= SPICE_IMAGE_FLAGS_CACHE_ME;
        pixmap_cache_set_lossy(&dcc->cache, src->id, sent_lossy);
    }
    const WirePalette *pal = NULL;
    if (out->encoded && out->u.encoded.palette_slot >= 0) {
        pal = out->u.encoded.palette;
    } else if (!out->encoded && out->type == SPICE_IMAGE_TYPE_BITMAP) {
        pal = out->u.bitmap.palette;
    }
    out->pal_flags = 0;
    if (pal) {
        out->pal_flags = palette_cache_use(&dcc->palettes, pal, serial, &out->pal_id,
                                           dcc->evicted_palettes);
    }
}

static uint16_t draw_item_marshal(RedChannelClient *rcc, RedPipeItem *base, WireWriter *w)
{
    DisplayChannelClient *dcc = (DisplayChannelClient *)rcc;
    DisplayDrawOp *op = ((DrawItem *)base)->op;
    WireImage local[DRAW_OP_MAX_IMAGES];
    RedEncOutput enc[DRAW_OP_MAX_IMAGES];
    WireDraw d = op->draw;
    uint64_t serial = ++dcc->msg_serial;
    bool lossy = false;
    uint16_t type = d.type;

    g_array_set_size(dcc->evicted, 0);
    g_array_set_size(dcc->evicted_palettes, 0);
    for (uint32_t i = 0; i < op->n_images; i++) {
        memset(&enc[i], 0, sizeof(enc[i]));
        resolve_image(dcc, op->images[i], image_can_lossy(op, i), &local[i], &enc[i], serial,
                      &lossy);
        size_t off = (size_t)((const char *)op->slots[i] - (const char *)&op->draw);
        g_assert(off + sizeof(void *) <= sizeof(d));
        const WireImage *p = &local[i];
        memcpy((char *)&d + off, &p, sizeof(p));
    }
    dcc_lossy_note_draw(dcc, op, lossy);
    if (dcc->evicted->len == 0 && dcc->evicted_palettes->len == 0) {
        wire_display_draw(w, &d);
    } else {
        /* The client must drop the evicted ids before this message adds new
         * ones: all go in one LIST, invalidations first. */
        WireList l;
        wire_list_begin(w, &l, (uint16_t)((dcc->evicted->len ? 1u : 0u) + dcc->evicted_palettes->len + 1u));
        if (dcc->evicted->len) {
            wire_list_sub_begin(w, &l, SPICE_MSG_DISPLAY_INVAL_LIST);
            wire_display_inval_list(w, (const uint64_t *)(void *)dcc->evicted->data,
                                    (uint16_t)dcc->evicted->len);
            wire_list_sub_end(w, &l);
        }
        for (guint i = 0; i < dcc->evicted_palettes->len; i++) {
            wire_list_sub_begin(w, &l, SPICE_MSG_DISPLAY_INVAL_PALETTE);
            wire_put_u64(w, g_array_index(dcc->evicted_palettes, uint64_t, i));
            wire_list_sub_end(w, &l);
        }
        wire_list_sub_begin(w, &l, d.type);
        wire_display_draw(w, &d);
        wire_list_sub_end(w, &l);
        type = SPICE_MSG_LIST;
    }
    for (uint32_t i = 0; i < op->n_images; i++) {
        red_encoder_output_clear(&enc[i]);
    }
    return type;
}

static void draw_item_free(RedPipeItem *base)
{
    DrawItem *item = (DrawItem *)base;
    display_draw_op_unref(item->op);
    g_free(item);
}

static const RedPipeItemOps draw_item_ops = {
    .marshal = draw_item_marshal,
    .free = draw_item_free,
};

void dcc_queue_draw_op(DisplayChannelClient *dcc, DisplayDrawOp *op)
{
    DrawItem *item = g_new0(DrawItem, 1);
    item->base.ops = &draw_item_ops;
    item->base.kind = DCC_ITEM_DRAW;
    item->base.size = sizeof(*item) + op->bytes;
    item->op = display_draw_op_ref(op);
    red_channel_client_pipe_add(&dcc->base, &item->base);
}

DisplayDrawOp *dcc_draw_item_op(RedPipeItem *item)
{
    g_assert(item->ops == &draw_item_ops);
    return ((DrawItem *)item)->op;
}
