/* Display and cursor server messages: layouts of spice.proto (see
 * display-marshal.h). Fixed parts first; pointer targets are queued while
 * the fixed part is written and appended after it, in field order. */
#include "common/wire/display-marshal.h"

#include <glib.h>

enum {
    DEFER_IMAGE,
    DEFER_PATH,
    DEFER_STRING,
    DEFER_STYLE,
};

typedef struct Deferred {
    size_t at;                      /* offset of the u32 pointer */
    int kind;
    const void *obj;
    uint32_t count;                 /* DEFER_STYLE entries */
} Deferred;

/* A draw has at most: src, mask, brush pattern(s), path/string, style. */
#define MAX_DEFERRED 8

typedef struct DeferList {
    Deferred d[MAX_DEFERRED];
    unsigned n;
} DeferList;

static void defer(WireWriter *w, DeferList *l, int kind, const void *obj, uint32_t count)
{
    size_t at = wire_put_ptr(w);
    if (!obj) {
        return;                     /* NULL pointer: offset stays 0 */
    }
    g_assert(l->n < MAX_DEFERRED);
    l->d[l->n++] = (Deferred){ at, kind, obj, count };
}

static void put_rect(WireWriter *w, const WireRect *r)
{
    wire_put_i32(w, r->top);
    wire_put_i32(w, r->left);
    wire_put_i32(w, r->bottom);
    wire_put_i32(w, r->right);
}

static void put_point(WireWriter *w, const WirePoint *p)
{
    wire_put_i32(w, p->x);
    wire_put_i32(w, p->y);
}

static void put_clip(WireWriter *w, const WireClip *c)
{
    wire_put_u8(w, c->type);
    if (c->type == SPICE_CLIP_TYPE_RECTS) {
        wire_put_u32(w, c->num_rects);
        for (uint32_t i = 0; i < c->num_rects; i++) {
            put_rect(w, &c->rects[i]);
        }
    }
}

static void put_palette(WireWriter *w, const WirePalette *p, uint64_t unique)
{
    wire_put_u64(w, unique);
    wire_put_u16(w, p->num_ents);
    for (uint16_t i = 0; i < p->num_ents; i++) {
        wire_put_u32(w, p->ents[i]);
    }
}

/* The unique a palette goes out with: the cache id when the client is told
 * to keep it, else the guest's (which the client then ignores). */
static uint64_t palette_unique(const WireImage *img, const WirePalette *p)
{
    return (img->pal_flags & SPICE_BITMAP_FLAGS_PAL_CACHE_ME) ? img->pal_id : p->unique;
}

/* An encoder's body with a palette slot (BITMAP: format, flags, x, y,
 * stride, slot; LZ_PLT: flags, data_size, slot): the bitmap flags byte
 * gets the PAL_* bits, and a cached palette is its u64 id in the slot. */
static void put_encoded_with_palette(WireWriter *w, const WireImage *img)
{
    const uint8_t *body = img->u.encoded.body;
    size_t size = img->u.encoded.size;
    size_t slot = (size_t)img->u.encoded.palette_slot;
    const WirePalette *pal = img->u.encoded.palette;
    size_t flags_off = img->type == SPICE_IMAGE_TYPE_LZ_PLT ? 0 : 1;

    g_assert(slot + 4 <= size);
    g_assert(img->pal_flags == 0 || img->type == SPICE_IMAGE_TYPE_LZ_PLT ||
             img->type == SPICE_IMAGE_TYPE_BITMAP);
    size_t body_at = w->len;
    if (img->pal_flags & SPICE_BITMAP_FLAGS_PAL_FROM_CACHE) {
        wire_put_bytes(w, body, slot);
        wire_put_u64(w, img->pal_id);
        wire_put_bytes(w, body + slot + 4, size - slot - 4);
    } else {
        wire_put_bytes(w, body, size);
        wire_fix_ptr(w, body_at + slot);
        put_palette(w, pal, palette_unique(img, pal));
    }
    w->data[body_at + flags_off] |= img->pal_flags;
}

void wire_display_image(WireWriter *w, const WireImage *img)
{
    wire_put_u64(w, img->id);
    wire_put_u8(w, img->type);
    wire_put_u8(w, img->flags);
    wire_put_u32(w, img->width);
    wire_put_u32(w, img->height);
    if (img->encoded) {
        if (img->u.encoded.palette_slot >= 0 && img->u.encoded.palette) {
            put_encoded_with_palette(w, img);
        } else {
            wire_put_bytes(w, img->u.encoded.body, img->u.encoded.size);
        }
        return;
    }
    switch (img->type) {
    case SPICE_IMAGE_TYPE_BITMAP: {
        const WirePalette *pal = img->u.bitmap.palette;
        uint8_t pal_flags = pal ? img->pal_flags : 0;
        wire_put_u8(w, img->u.bitmap.format);
        wire_put_u8(w, img->u.bitmap.flags | pal_flags);
        wire_put_u32(w, img->width);
        wire_put_u32(w, img->height);
        wire_put_u32(w, img->u.bitmap.stride);
        if (pal_flags & SPICE_BITMAP_FLAGS_PAL_FROM_CACHE) {
            wire_put_u64(w, img->pal_id);
            wire_put_bytes(w, img->u.bitmap.data, (size_t)img->u.bitmap.stride * img->height);
            break;
        }
        size_t pal_at = wire_put_ptr(w);
        wire_put_bytes(w, img->u.bitmap.data, (size_t)img->u.bitmap.stride * img->height);
        if (pal) {
            wire_fix_ptr(w, pal_at);
            put_palette(w, pal, palette_unique(img, pal));
        }
        break;
    }
    case SPICE_IMAGE_TYPE_QUIC:
    case SPICE_IMAGE_TYPE_LZ_RGB:
    case SPICE_IMAGE_TYPE_GLZ_RGB:
    case SPICE_IMAGE_TYPE_JPEG:
    case SPICE_IMAGE_TYPE_LZ4:
        wire_put_u32(w, img->u.binary.size);
        wire_put_bytes(w, img->u.binary.data, img->u.binary.size);
        break;
    case SPICE_IMAGE_TYPE_SURFACE:
        wire_put_u32(w, img->u.surface_id);
        break;
    case SPICE_IMAGE_TYPE_FROM_CACHE:
    case SPICE_IMAGE_TYPE_FROM_CACHE_LOSSLESS:
        break;
    default:
        g_error("wire_display_image: image type %u not supported", img->type); /* our bug */
    }
}

static void put_path(WireWriter *w, const WirePath *p)
{
    wire_put_u32(w, p->num_segments);
    for (uint32_t i = 0; i < p->num_segments; i++) {
        const WirePathSeg *s = &p->segments[i];
        wire_put_u8(w, s->flags);
        wire_put_u32(w, s->count);
        for (uint32_t j = 0; j < s->count; j++) {
            put_point(w, &s->points[j]);
        }
    }
}

static unsigned string_bpp(uint8_t flags)
{
    if (flags & SPICE_STRING_FLAGS_RASTER_A1) {
        return 1;
    }
    if (flags & SPICE_STRING_FLAGS_RASTER_A4) {
        return 4;
    }
    return 8;
}

static void put_string(WireWriter *w, const WireString *s)
{
    unsigned bpp = string_bpp(s->flags);
    wire_put_u16(w, s->length);
    wire_put_u8(w, s->flags);
    for (uint16_t i = 0; i < s->length; i++) {
        const WireGlyph *g = &s->glyphs[i];
        put_point(w, &g->render_pos);
        put_point(w, &g->glyph_origin);
        wire_put_u16(w, g->width);
        wire_put_u16(w, g->height);
        wire_put_bytes(w, g->data, wire_image_size(bpp, g->width, g->height));
    }
}

static void flush_deferred(WireWriter *w, DeferList *l)
{
    for (unsigned i = 0; i < l->n; i++) {
        const Deferred *d = &l->d[i];
        wire_fix_ptr(w, d->at);
        switch (d->kind) {
        case DEFER_IMAGE:
            wire_display_image(w, d->obj);
            break;
        case DEFER_PATH:
            put_path(w, d->obj);
            break;
        case DEFER_STRING:
            put_string(w, d->obj);
            break;
        case DEFER_STYLE:
            for (uint32_t j = 0; j < d->count; j++) {
                wire_put_i32(w, ((const int32_t *)d->obj)[j]);
            }
            break;
        default:
            g_assert_not_reached();
        }
    }
}

static void put_brush(WireWriter *w, DeferList *l, const WireBrush *b)
{
    wire_put_u8(w, b->type);
    if (b->type == SPICE_BRUSH_TYPE_SOLID) {
        wire_put_u32(w, b->color);
    } else if (b->type == SPICE_BRUSH_TYPE_PATTERN) {
        defer(w, l, DEFER_IMAGE, b->pat, 0);
        put_point(w, &b->pos);
    }
}

static void put_qmask(WireWriter *w, DeferList *l, const WireQMask *m)
{
    wire_put_u8(w, m->flags);
    put_point(w, &m->pos);
    defer(w, l, DEFER_IMAGE, m->bitmap, 0);
}

static void put_transform(WireWriter *w, const WireTransform *t)
{
    wire_put_u32(w, t->t00);
    wire_put_u32(w, t->t01);
    wire_put_u32(w, t->t02);
    wire_put_u32(w, t->t10);
    wire_put_u32(w, t->t11);
    wire_put_u32(w, t->t12);
}

void wire_display_draw(WireWriter *w, const WireDraw *d)
{
    DeferList l = { .n = 0 };

    wire_put_u32(w, d->surface_id);
    put_rect(w, &d->box);
    put_clip(w, &d->clip);

    switch (d->type) {
    case SPICE_MSG_DISPLAY_DRAW_FILL:
        put_brush(w, &l, &d->u.fill.brush);
        wire_put_u16(w, d->u.fill.rop_descriptor);
        put_qmask(w, &l, &d->u.fill.mask);
        break;
    case SPICE_MSG_DISPLAY_DRAW_OPAQUE:
        defer(w, &l, DEFER_IMAGE, d->u.opaque.src, 0);
        put_rect(w, &d->u.opaque.src_area);
        put_brush(w, &l, &d->u.opaque.brush);
        wire_put_u16(w, d->u.opaque.rop_descriptor);
        wire_put_u8(w, d->u.opaque.scale_mode);
        put_qmask(w, &l, &d->u.opaque.mask);
        break;
    case SPICE_MSG_DISPLAY_DRAW_COPY:
    case SPICE_MSG_DISPLAY_DRAW_BLEND:
        defer(w, &l, DEFER_IMAGE, d->u.copy.src, 0);
        put_rect(w, &d->u.copy.src_area);
        wire_put_u16(w, d->u.copy.rop_descriptor);
        wire_put_u8(w, d->u.copy.scale_mode);
        put_qmask(w, &l, &d->u.copy.mask);
        break;
    case SPICE_MSG_DISPLAY_DRAW_BLACKNESS:
    case SPICE_MSG_DISPLAY_DRAW_WHITENESS:
    case SPICE_MSG_DISPLAY_DRAW_INVERS:
        put_qmask(w, &l, &d->u.whiteness.mask);
        break;
    case SPICE_MSG_DISPLAY_DRAW_ROP3:
        defer(w, &l, DEFER_IMAGE, d->u.rop3.src, 0);
        put_rect(w, &d->u.rop3.src_area);
        put_brush(w, &l, &d->u.rop3.brush);
        wire_put_u8(w, d->u.rop3.rop3);
        wire_put_u8(w, d->u.rop3.scale_mode);
        put_qmask(w, &l, &d->u.rop3.mask);
        break;
    case SPICE_MSG_DISPLAY_DRAW_STROKE:
        defer(w, &l, DEFER_PATH, d->u.stroke.path, 0);
        wire_put_u8(w, d->u.stroke.attr.flags);
        if (d->u.stroke.attr.flags & SPICE_LINE_FLAGS_STYLED) {
            wire_put_u8(w, d->u.stroke.attr.style_nseg);
            defer(w, &l, DEFER_STYLE, d->u.stroke.attr.style, d->u.stroke.attr.style_nseg);
        }
        put_brush(w, &l, &d->u.stroke.brush);
        wire_put_u16(w, d->u.stroke.fore_mode);
        wire_put_u16(w, d->u.stroke.back_mode);
        break;
    case SPICE_MSG_DISPLAY_DRAW_TEXT:
        defer(w, &l, DEFER_STRING, d->u.text.str, 0);
        put_rect(w, &d->u.text.back_area);
        put_brush(w, &l, &d->u.text.fore_brush);
        put_brush(w, &l, &d->u.text.back_brush);
        wire_put_u16(w, d->u.text.fore_mode);
        wire_put_u16(w, d->u.text.back_mode);
        break;
    case SPICE_MSG_DISPLAY_DRAW_TRANSPARENT:
        defer(w, &l, DEFER_IMAGE, d->u.transparent.src, 0);
        put_rect(w, &d->u.transparent.src_area);
        wire_put_u32(w, d->u.transparent.src_color);
        wire_put_u32(w, d->u.transparent.true_color);
        break;
    case SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND:
        wire_put_u8(w, d->u.alpha_blend.alpha_flags);
        wire_put_u8(w, d->u.alpha_blend.alpha);
        defer(w, &l, DEFER_IMAGE, d->u.alpha_blend.src, 0);
        put_rect(w, &d->u.alpha_blend.src_area);
        break;
    case SPICE_MSG_DISPLAY_DRAW_COMPOSITE: {
        uint32_t f = d->u.composite.flags;
        wire_put_u32(w, f);
        defer(w, &l, DEFER_IMAGE, d->u.composite.src, 0);
        if (f & SPICE_COMPOSITE_HAS_MASK) {
            defer(w, &l, DEFER_IMAGE, d->u.composite.mask, 0);
        }
        if (f & SPICE_COMPOSITE_HAS_SRC_TRANSFORM) {
            put_transform(w, &d->u.composite.src_transform);
        }
        if (f & SPICE_COMPOSITE_HAS_MASK_TRANSFORM) {
            put_transform(w, &d->u.composite.mask_transform);
        }
        wire_put_u16(w, (uint16_t)d->u.composite.src_origin_x);
        wire_put_u16(w, (uint16_t)d->u.composite.src_origin_y);
        wire_put_u16(w, (uint16_t)d->u.composite.mask_origin_x);
        wire_put_u16(w, (uint16_t)d->u.composite.mask_origin_y);
        break;
    }
    case SPICE_MSG_DISPLAY_COPY_BITS:
        put_point(w, &d->u.copy_bits_src);
        break;
    default:
        g_error("wire_display_draw: message type %u is not a draw", d->type); /* our bug */
    }
    flush_deferred(w, &l);
}

void wire_display_surface_create(WireWriter *w, uint32_t surface_id, uint32_t width,
                                 uint32_t height, uint32_t format, uint32_t flags)
{
    wire_put_u32(w, surface_id);
    wire_put_u32(w, width);
    wire_put_u32(w, height);
    wire_put_u32(w, format);
    wire_put_u32(w, flags);
}

void wire_display_surface_destroy(WireWriter *w, uint32_t surface_id)
{
    wire_put_u32(w, surface_id);
}

void wire_display_inval_list(WireWriter *w, const uint64_t *ids, uint16_t count)
{
    wire_put_u16(w, count);
    for (uint16_t i = 0; i < count; i++) {
        wire_put_u8(w, SPICE_RES_TYPE_PIXMAP);
        wire_put_u64(w, ids[i]);
    }
}

void wire_display_inval_all_pixmaps(WireWriter *w)
{
    wire_put_u8(w, 0);              /* wait_count */
}

void wire_display_monitors_config(WireWriter *w, const WireHead *heads, uint16_t count,
                                  uint16_t max_allowed)
{
    wire_put_u16(w, count);
    wire_put_u16(w, max_allowed);
    for (uint16_t i = 0; i < count; i++) {
        wire_put_u32(w, heads[i].id);
        wire_put_u32(w, heads[i].surface_id);
        wire_put_u32(w, heads[i].width);
        wire_put_u32(w, heads[i].height);
        wire_put_u32(w, heads[i].x);
        wire_put_u32(w, heads[i].y);
        wire_put_u32(w, heads[i].flags);
    }
}

void wire_list_begin(WireWriter *w, WireList *l, uint16_t count)
{
    wire_put_u16(w, count);
    l->table = w->len;
    l->count = count;
    l->next = 0;
    l->saved_base = w->base;
    wire_put_space(w, (size_t)count * 4);
}

void wire_list_sub_begin(WireWriter *w, WireList *l, uint16_t type)
{
    g_assert(l->next < l->count);
    /* table entries are offsets from the message body start */
    wire_set_u32(w, l->table + 4u * l->next, (uint32_t)(w->len - l->saved_base));
    l->next++;
    l->sub_start = w->len;
    wire_put_u16(w, type);
    wire_put_u32(w, 0);
    w->base = w->len;
}

void wire_list_sub_end(WireWriter *w, WireList *l)
{
    size_t body = w->len - (l->sub_start + 6);
    g_assert(body <= UINT32_MAX);
    wire_set_u32(w, l->sub_start + 2, (uint32_t)body);
    w->base = l->saved_base;
}

/* ---- cursor ---- */

static void put_cursor(WireWriter *w, const WireCursor *c)
{
    wire_put_u16(w, c->flags);
    if (c->flags & SPICE_CURSOR_FLAGS_NONE) {
        return;
    }
    wire_put_u64(w, c->unique);
    wire_put_u8(w, c->type);
    wire_put_u16(w, c->width);
    wire_put_u16(w, c->height);
    wire_put_u16(w, c->hot_spot_x);
    wire_put_u16(w, c->hot_spot_y);
    if (!(c->flags & SPICE_CURSOR_FLAGS_FROM_CACHE)) {
        wire_put_bytes(w, c->data, c->data_size);
    }
}

void wire_cursor_init(WireWriter *w, int16_t x, int16_t y, uint16_t trail_length,
                      uint16_t trail_frequency, uint8_t visible, const WireCursor *c)
{
    wire_put_u16(w, (uint16_t)x);
    wire_put_u16(w, (uint16_t)y);
    wire_put_u16(w, trail_length);
    wire_put_u16(w, trail_frequency);
    wire_put_u8(w, visible);
    put_cursor(w, c);
}

void wire_cursor_set(WireWriter *w, int16_t x, int16_t y, uint8_t visible, const WireCursor *c)
{
    wire_put_u16(w, (uint16_t)x);
    wire_put_u16(w, (uint16_t)y);
    wire_put_u8(w, visible);
    put_cursor(w, c);
}

void wire_cursor_move(WireWriter *w, int16_t x, int16_t y)
{
    wire_put_u16(w, (uint16_t)x);
    wire_put_u16(w, (uint16_t)y);
}

void wire_cursor_trail(WireWriter *w, uint16_t length, uint16_t frequency)
{
    wire_put_u16(w, length);
    wire_put_u16(w, frequency);
}

void wire_cursor_inval_one(WireWriter *w, uint64_t id)
{
    wire_put_u64(w, id);
}

/* ---- video streams ---- */

void wire_display_stream_create(WireWriter *w, const WireStreamCreate *c)
{
    wire_put_u32(w, c->surface_id);
    wire_put_u32(w, c->id);
    wire_put_u8(w, c->flags);
    wire_put_u8(w, c->codec_type);
    wire_put_u64(w, c->stamp);
    wire_put_u32(w, c->stream_width);
    wire_put_u32(w, c->stream_height);
    wire_put_u32(w, c->src_width);
    wire_put_u32(w, c->src_height);
    put_rect(w, &c->dest);
    put_clip(w, &c->clip);
}

void wire_display_stream_data(WireWriter *w, uint32_t id, uint32_t mm_time,
                              const uint8_t *data, uint32_t size)
{
    wire_put_u32(w, id);
    wire_put_u32(w, mm_time);
    wire_put_u32(w, size);
    wire_put_bytes(w, data, size);
}

void wire_display_stream_data_sized(WireWriter *w, uint32_t id, uint32_t mm_time,
                                    uint32_t width, uint32_t height, const WireRect *dest,
                                    const uint8_t *data, uint32_t size)
{
    wire_put_u32(w, id);
    wire_put_u32(w, mm_time);
    wire_put_u32(w, width);
    wire_put_u32(w, height);
    put_rect(w, dest);
    wire_put_u32(w, size);
    wire_put_bytes(w, data, size);
}

void wire_display_stream_clip(WireWriter *w, uint32_t id, const WireClip *clip)
{
    wire_put_u32(w, id);
    put_clip(w, clip);
}

void wire_display_stream_destroy(WireWriter *w, uint32_t id)
{
    wire_put_u32(w, id);
}

void wire_display_stream_activate_report(WireWriter *w, uint32_t stream_id, uint32_t unique_id,
                                         uint32_t max_window_size, uint32_t timeout_ms)
{
    wire_put_u32(w, stream_id);
    wire_put_u32(w, unique_id);
    wire_put_u32(w, max_window_size);
    wire_put_u32(w, timeout_ms);
}
