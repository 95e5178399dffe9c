/* QXL_CMD_DRAW: QXLDrawable and QXLCompatDrawable, with their clip rects,
 * paths, glyph strings and per-type payloads. */
#include "server/qxl/parse-internal.h"

#include <stddef.h>
#include <string.h>

/* ---- clip ---- */

static bool parse_clip(ParseState *st, const QXLClip *qxl, RedClip *out)
{
    *out = (RedClip){ .type = qxl->type };
    if (qxl->type == SPICE_CLIP_TYPE_NONE) {
        return true;
    }
    if (qxl->type != SPICE_CLIP_TYPE_RECTS) {
        out->type = SPICE_CLIP_TYPE_NONE;
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "clip type %u unknown", qxl->type);
    }
    QXLClipRects hdr;
    if (!parse_fetch(st, qxl->data, &hdr, sizeof(hdr), "clip rects")) {
        return false;
    }
    QXLPHYSICAL chunk_addr;
    if (!parse_addr_add(st, qxl->data, offsetof(QXLClipRects, chunk), &chunk_addr, "clip rects")) {
        return false;
    }
    ParseChunks c;
    if (!parse_chunks_from_header(st, &hdr.chunk, chunk_addr, &c, "clip rects")) {
        return false;
    }
    if ((uint64_t)hdr.num_rects * sizeof(QXLRect) != c.total) {
        parse_chunks_clear(&c);
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "%u clip rects but chunks hold %"
                          G_GUINT64_FORMAT " bytes", hdr.num_rects, (guint64)c.total);
    }
    QXLRect *raw = (QXLRect *)parse_chunks_gather(&c);
    parse_chunks_clear(&c);
    out->rects = hdr.num_rects ? g_new(RedRect, hdr.num_rects) : NULL;
    out->num_rects = hdr.num_rects;
    bool ok = true;
    for (uint32_t i = 0; i < hdr.num_rects && ok; i++) {
        QXLRect r;
        memcpy(&r, &raw[i], sizeof(r));
        ok = parse_rect(st, &r, &out->rects[i], "clip rect");
    }
    g_free(raw);
    return ok;
}

static void red_clip_clear(RedClip *clip)
{
    g_free(clip->rects);
    *clip = (RedClip){0};
}

/* ---- path ---- */

static void red_path_free(RedPath *path)
{
    if (path) {
        g_free(path->segments);
        g_free(path->points);
        g_free(path);
    }
}

static bool parse_path(ParseState *st, QXLPHYSICAL addr, RedPath **out)
{
    *out = NULL;
    QXLPath hdr;
    if (!parse_fetch(st, addr, &hdr, sizeof(hdr), "stroke path")) {
        return false;
    }
    QXLPHYSICAL chunk_addr;
    if (!parse_addr_add(st, addr, offsetof(QXLPath, chunk), &chunk_addr, "stroke path")) {
        return false;
    }
    ParseChunks c;
    if (!parse_chunks_from_header(st, &hdr.chunk, chunk_addr, &c, "stroke path")) {
        return false;
    }
    uint8_t *buf = parse_chunks_gather(&c);
    size_t size = c.total;
    parse_chunks_clear(&c);

    /* First pass over the host copy: count, so the second can fill exact
     * arrays. Trailing bytes shorter than a segment header are ignored like
     * upstream does. */
    uint32_t nseg = 0;
    uint64_t npts = 0;
    size_t off = 0;
    while (size - off >= sizeof(QXLPathSeg)) {
        QXLPathSeg seg;
        memcpy(&seg, buf + off, sizeof(seg));
        off += sizeof(seg);
        if ((uint64_t)seg.count * sizeof(QXLPointFix) > size - off) {
            g_free(buf);
            return parse_fail(st, RED_PARSE_ERROR_INVALID, "path segment %u claims %u points "
                              "past the path data", nseg, seg.count);
        }
        off += (size_t)seg.count * sizeof(QXLPointFix);
        npts += seg.count;
        nseg++;
    }
    RedPath *path = g_new0(RedPath, 1);
    path->num_segments = nseg;
    path->segments = g_new0(RedPathSeg, nseg ? nseg : 1);
    path->points = g_new0(RedPointFix, npts ? npts : 1);
    off = 0;
    RedPointFix *pt = path->points;
    for (uint32_t i = 0; i < nseg; i++) {
        QXLPathSeg seg;
        memcpy(&seg, buf + off, sizeof(seg));
        off += sizeof(seg);
        path->segments[i] = (RedPathSeg){ .flags = seg.flags, .count = seg.count, .points = pt };
        for (uint32_t j = 0; j < seg.count; j++) {
            QXLPointFix p;
            memcpy(&p, buf + off, sizeof(p));
            off += sizeof(p);
            *pt++ = (RedPointFix){ p.x, p.y };
        }
    }
    g_free(buf);
    *out = path;
    return true;
}

/* ---- glyph strings ---- */

static void red_string_free(RedString *s)
{
    if (s) {
        g_free(s->glyphs);
        g_free(s->raster);
        g_free(s);
    }
}

static bool parse_string(ParseState *st, QXLPHYSICAL addr, RedString **out)
{
    *out = NULL;
    QXLString hdr;
    if (!parse_fetch(st, addr, &hdr, sizeof(hdr), "text string")) {
        return false;
    }
    unsigned bpp;
    if (hdr.flags & SPICE_STRING_FLAGS_RASTER_A1) {
        bpp = 1;
    } else if (hdr.flags & SPICE_STRING_FLAGS_RASTER_A4) {
        bpp = 4;
    } else if (hdr.flags & SPICE_STRING_FLAGS_RASTER_A8) {
        bpp = 8;
    } else {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "text string flags 0x%x name no "
                          "raster format", hdr.flags);
    }
    QXLPHYSICAL chunk_addr;
    if (!parse_addr_add(st, addr, offsetof(QXLString, chunk), &chunk_addr, "text string")) {
        return false;
    }
    ParseChunks c;
    if (!parse_chunks_from_header(st, &hdr.chunk, chunk_addr, &c, "text string")) {
        return false;
    }
    if (c.total != hdr.data_size) {
        parse_chunks_clear(&c);
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "text string data_size %u but chunks "
                          "hold %" G_GUINT64_FORMAT " bytes", hdr.data_size, (guint64)c.total);
    }
    RedString *s = g_new0(RedString, 1);
    s->flags = hdr.flags;
    s->bpp = bpp;
    s->length = hdr.length;
    s->raster = parse_chunks_gather(&c);
    size_t size = c.total;
    parse_chunks_clear(&c);
    s->glyphs = g_new0(RedGlyph, hdr.length ? hdr.length : 1);

    size_t off = 0;
    for (uint32_t i = 0; i < hdr.length; i++) {
        QXLRasterGlyph g;
        if (size - off < sizeof(g)) {
            red_string_free(s);
            return parse_fail(st, RED_PARSE_ERROR_INVALID, "text string ends inside glyph %u "
                              "of %u", i, hdr.length);
        }
        memcpy(&g, s->raster + off, sizeof(g));
        off += sizeof(g);
        uint64_t glyph_size = (uint64_t)g.height * (((uint64_t)g.width * bpp + 7) / 8);
        if (glyph_size > size - off) {
            red_string_free(s);
            return parse_fail(st, RED_PARSE_ERROR_INVALID, "glyph %u (%ux%u) runs past the "
                              "string data", i, g.width, g.height);
        }
        s->glyphs[i] = (RedGlyph){
            .render_pos = { g.render_pos.x, g.render_pos.y },
            .glyph_origin = { g.glyph_origin.x, g.glyph_origin.y },
            .width = g.width, .height = g.height, .data = s->raster + off,
        };
        off += glyph_size;
    }
    if (off != size) {
        red_string_free(s);
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "text string has %zu bytes after its "
                          "%u glyphs", size - off, hdr.length);
    }
    *out = s;
    return true;
}

/* ---- per-type payloads ---- */

static bool check_rop(ParseState *st, uint16_t rop, const char *what)
{
    if (rop & ~SPICE_ROPD_MASK) {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "%s: rop descriptor 0x%x has "
                          "unknown bits", what, rop);
    }
    return true;
}

static bool check_scale(ParseState *st, uint8_t mode, const char *what)
{
    if (mode >= SPICE_IMAGE_SCALE_MODE_ENUM_END) {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "%s: scale mode %u unknown", what, mode);
    }
    return true;
}

/* src_area must be well formed and, for bitmaps, inside the bitmap. */
static bool parse_src(ParseState *st, QXLPHYSICAL bitmap, const QXLRect *area,
                      RedImage **img, RedRect *out, const char *what)
{
    if (!parse_image(st, bitmap, false, false, img, what)) {
        return false;
    }
    if (!parse_rect(st, area, out, what)) {
        return false;
    }
    if (out->left < 0 || out->top < 0) {
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "%s: negative source area", what);
    }
    if ((*img)->type == SPICE_IMAGE_TYPE_BITMAP &&
        ((uint32_t)out->right > (*img)->u.bitmap.width ||
         (uint32_t)out->bottom > (*img)->u.bitmap.height)) {
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "%s: source area (%d,%d)-(%d,%d) outside "
                          "the %ux%u bitmap", what, out->left, out->top, out->right, out->bottom,
                          (*img)->u.bitmap.width, (*img)->u.bitmap.height);
    }
    return true;
}

static bool parse_copy(ParseState *st, const QXLCopy *q, RedCopy *r, const char *what)
{
    r->rop_descriptor = q->rop_descriptor;
    r->scale_mode = q->scale_mode;
    return check_rop(st, q->rop_descriptor, what) && check_scale(st, q->scale_mode, what) &&
           parse_src(st, q->src_bitmap, &q->src_area, &r->src_bitmap, &r->src_area, what) &&
           parse_qmask(st, &q->mask, &r->mask);
}

static bool parse_opaque(ParseState *st, const QXLOpaque *q, RedOpaque *r)
{
    r->rop_descriptor = q->rop_descriptor;
    r->scale_mode = q->scale_mode;
    return check_rop(st, q->rop_descriptor, "opaque") && check_scale(st, q->scale_mode, "opaque") &&
           parse_src(st, q->src_bitmap, &q->src_area, &r->src_bitmap, &r->src_area, "opaque") &&
           parse_brush(st, &q->brush, &r->brush) && parse_qmask(st, &q->mask, &r->mask);
}

static bool parse_rop3(ParseState *st, const QXLRop3 *q, RedRop3 *r)
{
    r->rop3 = q->rop3;
    r->scale_mode = q->scale_mode;
    return check_scale(st, q->scale_mode, "rop3") &&
           parse_src(st, q->src_bitmap, &q->src_area, &r->src_bitmap, &r->src_area, "rop3") &&
           parse_brush(st, &q->brush, &r->brush) && parse_qmask(st, &q->mask, &r->mask);
}

static bool parse_fill(ParseState *st, const QXLFill *q, RedFill *r)
{
    r->rop_descriptor = q->rop_descriptor;
    return check_rop(st, q->rop_descriptor, "fill") && parse_brush(st, &q->brush, &r->brush) &&
           parse_qmask(st, &q->mask, &r->mask);
}

static bool parse_stroke(ParseState *st, const QXLStroke *q, RedStroke *r)
{
    r->fore_mode = q->fore_mode;
    r->back_mode = q->back_mode;
    r->attr = (RedLineAttr){
        .flags = q->attr.flags, .join_style = q->attr.join_style,
        .end_style = q->attr.end_style, .width = q->attr.width,
        .miter_limit = q->attr.miter_limit,
    };
    if (!check_rop(st, q->fore_mode, "stroke") || !check_rop(st, q->back_mode, "stroke")) {
        return false;
    }
    if (q->attr.flags & ~SPICE_LINE_FLAGS_MASK) {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "stroke line flags 0x%x unknown",
                          q->attr.flags);
    }
    if (q->attr.flags & SPICE_LINE_FLAGS_STYLED) {
        if (q->attr.style_nseg == 0) {
            return parse_fail(st, RED_PARSE_ERROR_INVALID, "styled stroke without style segments");
        }
        int32_t style[256];
        if (!parse_fetch(st, q->attr.style, style, q->attr.style_nseg * sizeof(int32_t),
                         "stroke style")) {
            return false;
        }
        r->attr.style_nseg = q->attr.style_nseg;
        r->attr.style = g_memdup2(style, q->attr.style_nseg * sizeof(int32_t));
    }
    return parse_path(st, q->path, &r->path) && parse_brush(st, &q->brush, &r->brush);
}

static bool parse_text(ParseState *st, const QXLText *q, RedText *r)
{
    r->fore_mode = q->fore_mode;
    r->back_mode = q->back_mode;
    if (!check_rop(st, q->fore_mode, "text") || !check_rop(st, q->back_mode, "text") ||
        !parse_string(st, q->str, &r->str) || !parse_brush(st, &q->fore_brush, &r->fore_brush) ||
        !parse_brush(st, &q->back_brush, &r->back_brush)) {
        return false;
    }
    /* Drivers leave back_area unset when there is no background to paint. */
    if (r->back_brush.type == SPICE_BRUSH_TYPE_NONE) {
        r->back_area = (RedRect){0};
        return true;
    }
    return parse_rect(st, &q->back_area, &r->back_area, "text back area");
}

static bool parse_transparent(ParseState *st, const QXLTransparent *q, RedTransparent *r)
{
    r->src_color = parse_color(st, q->src_color);
    r->true_color = parse_color(st, q->true_color);
    return parse_src(st, q->src_bitmap, &q->src_area, &r->src_bitmap, &r->src_area, "transparent");
}

static bool parse_transform(ParseState *st, QXLPHYSICAL addr, RedTransform *out)
{
    QXLTransform t;
    if (!parse_fetch(st, addr, &t, sizeof(t), "composite transform")) {
        return false;
    }
    *out = (RedTransform){ t.t00, t.t01, t.t02, t.t10, t.t11, t.t12 };
    return true;
}

static bool composite_op_known(uint32_t op)
{
    return op <= QXL_OP_SATURATE || (op >= QXL_OP_MULTIPLY && op <= QXL_OP_HSL_LUMINOSITY);
}

static bool parse_composite(ParseState *st, const QXLComposite *q, RedComposite *r)
{
    /* HAS_* bits are ours to set from the pointers, never the guest's. */
    r->flags = q->flags & SPICE_COMPOSITE_FLAGS_MASK &
               ~(uint32_t)(SPICE_COMPOSITE_HAS_MASK | SPICE_COMPOSITE_HAS_SRC_TRANSFORM |
                           SPICE_COMPOSITE_HAS_MASK_TRANSFORM);
    r->src_origin = (RedPoint16){ q->src_origin.x, q->src_origin.y };
    r->mask_origin = (RedPoint16){ q->mask_origin.x, q->mask_origin.y };
    if (!composite_op_known(q->flags & 0xff)) {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "composite operator 0x%x unknown",
                          q->flags & 0xff);
    }
    if (q->flags & ~(uint32_t)SPICE_COMPOSITE_FLAGS_MASK) {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "composite flags 0x%x unknown", q->flags);
    }
    if (!parse_image(st, q->src, false, false, &r->src_bitmap, "composite source")) {
        return false;
    }
    if (q->src_transform) {
        if (!parse_transform(st, q->src_transform, &r->src_transform)) {
            return false;
        }
        r->flags |= SPICE_COMPOSITE_HAS_SRC_TRANSFORM;
    }
    if (q->mask) {
        if (!parse_image(st, q->mask, false, false, &r->mask_bitmap, "composite mask")) {
            return false;
        }
        r->flags |= SPICE_COMPOSITE_HAS_MASK;
        if (q->mask_transform) {
            if (!parse_transform(st, q->mask_transform, &r->mask_transform)) {
                return false;
            }
            r->flags |= SPICE_COMPOSITE_HAS_MASK_TRANSFORM;
        }
    }
    return true;
}

/* The union payload shared by native and compat drawables (alpha blend and
 * composite differ and are handled by the callers). */
static bool parse_payload(ParseState *st, RedDrawable *d, const void *u)
{
    switch (d->type) {
    case QXL_DRAW_NOP:
        return true;
    case QXL_DRAW_FILL:
        return parse_fill(st, u, &d->u.fill);
    case QXL_DRAW_OPAQUE:
        return parse_opaque(st, u, &d->u.opaque);
    case QXL_DRAW_COPY:
        /* Some drivers set self_bitmap on copies; it means nothing there. */
        d->self_bitmap = false;
        return parse_copy(st, u, &d->u.copy, "copy");
    case QXL_DRAW_BLEND:
        d->self_bitmap = false;
        return parse_copy(st, u, &d->u.blend, "blend");
    case QXL_COPY_BITS: {
        QXLCopyBits cb;
        memcpy(&cb, u, sizeof(cb));
        d->u.copy_bits.src_pos = (RedPoint){ cb.src_pos.x, cb.src_pos.y };
        return true;
    }
    case QXL_DRAW_BLACKNESS:
    case QXL_DRAW_WHITENESS:
    case QXL_DRAW_INVERS:
        return parse_qmask(st, &((const QXLWhiteness *)u)->mask, &d->u.whiteness.mask);
    case QXL_DRAW_ROP3:
        return parse_rop3(st, u, &d->u.rop3);
    case QXL_DRAW_STROKE:
        return parse_stroke(st, u, &d->u.stroke);
    case QXL_DRAW_TEXT:
        return parse_text(st, u, &d->u.text);
    case QXL_DRAW_TRANSPARENT:
        return parse_transparent(st, u, &d->u.transparent);
    default:
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "draw type %u unknown", d->type);
    }
}

static bool parse_effect(ParseState *st, uint8_t effect)
{
    if (effect > QXL_EFFECT_OPAQUE_BRUSH) {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "drawable effect %u unknown", effect);
    }
    return true;
}

static bool parse_native(ParseState *st, QXLPHYSICAL addr, RedDrawable *d,
                         QXLReleaseInfoExt *release_out)
{
    QXLDrawable q;
    const void *p = parse_pin(st, addr, sizeof(q), "drawable");
    if (!p) {
        return false;
    }
    memcpy(&q, p, sizeof(q));
    d->release = (QXLReleaseInfoExt){ .info = (QXLReleaseInfo *)p, .group_id = st->group_id };
    *release_out = d->release;

    d->surface_id = q.surface_id;
    d->effect = q.effect;
    d->type = q.type;
    d->self_bitmap = q.self_bitmap != 0;
    d->mm_time = q.mm_time;
    if (!parse_surface_id(st, q.surface_id, "drawable") || !parse_effect(st, q.effect) ||
        !parse_rect(st, &q.bbox, &d->bbox, "drawable bbox")) {
        return false;
    }
    if (d->self_bitmap &&
        !parse_rect(st, &q.self_bitmap_area, &d->self_bitmap_area, "self bitmap area")) {
        return false;
    }
    for (int i = 0; i < 3; i++) {
        d->surfaces_dest[i] = q.surfaces_dest[i];
        if (q.surfaces_dest[i] == -1) {
            continue;
        }
        if (q.surfaces_dest[i] < 0 || !parse_surface_id(st, (uint32_t)q.surfaces_dest[i],
                                                        "drawable source surface")) {
            return parse_fail(st, RED_PARSE_ERROR_INVALID, "drawable source surface %d invalid",
                              q.surfaces_dest[i]);
        }
        if (!parse_rect(st, &q.surfaces_rects[i], &d->surfaces_rects[i], "source surface rect")) {
            return false;
        }
    }
    if (!parse_clip(st, &q.clip, &d->clip)) {
        return false;
    }
    switch (q.type) {
    case QXL_DRAW_ALPHA_BLEND:
        d->u.alpha_blend.alpha_flags = q.u.alpha_blend.alpha_flags;
        d->u.alpha_blend.alpha = q.u.alpha_blend.alpha;
        if (q.u.alpha_blend.alpha_flags & ~SPICE_ALPHA_FLAGS_MASK) {
            return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "alpha blend flags 0x%x unknown",
                              q.u.alpha_blend.alpha_flags);
        }
        return parse_src(st, q.u.alpha_blend.src_bitmap, &q.u.alpha_blend.src_area,
                         &d->u.alpha_blend.src_bitmap, &d->u.alpha_blend.src_area, "alpha blend");
    case QXL_DRAW_COMPOSITE:
        return parse_composite(st, &q.u.composite, &d->u.composite);
    default:
        return parse_payload(st, d, &q.u);
    }
}

static bool parse_compat(ParseState *st, QXLPHYSICAL addr, RedDrawable *d,
                         QXLReleaseInfoExt *release_out)
{
    QXLCompatDrawable q;
    const void *p = parse_pin(st, addr, sizeof(q), "compat drawable");
    if (!p) {
        return false;
    }
    memcpy(&q, p, sizeof(q));
    d->release = (QXLReleaseInfoExt){ .info = (QXLReleaseInfo *)p, .group_id = st->group_id };
    *release_out = d->release;

    d->surface_id = 0;
    d->effect = q.effect;
    d->type = q.type;
    d->mm_time = q.mm_time;
    d->self_bitmap = q.bitmap_offset != 0;
    d->surfaces_dest[0] = d->surfaces_dest[1] = d->surfaces_dest[2] = -1;
    if (!parse_surface_id(st, 0, "compat drawable") || !parse_effect(st, q.effect) ||
        !parse_rect(st, &q.bbox, &d->bbox, "compat drawable bbox")) {
        return false;
    }
    if (d->self_bitmap &&
        !parse_rect(st, &q.bitmap_area, &d->self_bitmap_area, "self bitmap area")) {
        return false;
    }
    if (!parse_clip(st, &q.clip, &d->clip)) {
        return false;
    }
    switch (q.type) {
    case QXL_DRAW_ALPHA_BLEND:
        d->u.alpha_blend.alpha = q.u.alpha_blend.alpha;
        return parse_src(st, q.u.alpha_blend.src_bitmap, &q.u.alpha_blend.src_area,
                         &d->u.alpha_blend.src_bitmap, &d->u.alpha_blend.src_area, "alpha blend");
    case QXL_COPY_BITS: {
        /* Old drivers copy within surface 0: make that dependency explicit
         * (64-bit math: a guest bbox can be as wide as int32 allows). */
        int64_t x = q.u.copy_bits.src_pos.x, y = q.u.copy_bits.src_pos.y;
        int64_t r = x + ((int64_t)d->bbox.right - d->bbox.left);
        int64_t b = y + ((int64_t)d->bbox.bottom - d->bbox.top);
        if (r > INT32_MAX || b > INT32_MAX) {
            return parse_fail(st, RED_PARSE_ERROR_INVALID, "copy bits source overflows");
        }
        d->u.copy_bits.src_pos = (RedPoint){ (int32_t)x, (int32_t)y };
        d->surfaces_dest[0] = 0;
        d->surfaces_rects[0] = (RedRect){ .left = (int32_t)x, .top = (int32_t)y,
                                          .right = (int32_t)r, .bottom = (int32_t)b };
        return true;
    }
    case QXL_DRAW_COMPOSITE:
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "composite in a compat drawable");
    default:
        return parse_payload(st, d, &q.u);
    }
}

RedDrawable *red_parse_drawable(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                                uint32_t flags, QXLReleaseInfoExt *release_out, GError **err)
{
    ParseState st;
    QXLReleaseInfoExt dummy;
    if (!release_out) {
        release_out = &dummy;
    }
    *release_out = (QXLReleaseInfoExt){ .info = NULL, .group_id = group_id };
    parse_state_init(&st, ctx, group_id, flags, err);
    RedDrawable *d = g_new0(RedDrawable, 1);
    d->refs = 1;
    d->surfaces_dest[0] = d->surfaces_dest[1] = d->surfaces_dest[2] = -1;
    bool ok = (flags & QXL_COMMAND_FLAG_COMPAT) ? parse_compat(&st, addr, d, release_out)
                                                : parse_native(&st, addr, d, release_out);
    parse_state_finish(&st);
    if (!ok) {
        red_drawable_unref(d);
        return NULL;
    }
    return d;
}

RedDrawable *red_drawable_ref(RedDrawable *d)
{
    g_assert(d->refs > 0);
    d->refs++;
    return d;
}

static void red_drawable_put(RedDrawable *d)
{
    red_clip_clear(&d->clip);
    switch (d->type) {
    case QXL_DRAW_FILL:
        red_brush_clear(&d->u.fill.brush);
        red_qmask_clear(&d->u.fill.mask);
        break;
    case QXL_DRAW_OPAQUE:
        red_image_free(d->u.opaque.src_bitmap);
        red_brush_clear(&d->u.opaque.brush);
        red_qmask_clear(&d->u.opaque.mask);
        break;
    case QXL_DRAW_COPY:
    case QXL_DRAW_BLEND:
        red_image_free(d->u.copy.src_bitmap);
        red_qmask_clear(&d->u.copy.mask);
        break;
    case QXL_DRAW_BLACKNESS:
    case QXL_DRAW_WHITENESS:
    case QXL_DRAW_INVERS:
        red_qmask_clear(&d->u.whiteness.mask);
        break;
    case QXL_DRAW_ROP3:
        red_image_free(d->u.rop3.src_bitmap);
        red_brush_clear(&d->u.rop3.brush);
        red_qmask_clear(&d->u.rop3.mask);
        break;
    case QXL_DRAW_STROKE:
        red_path_free(d->u.stroke.path);
        g_free(d->u.stroke.attr.style);
        red_brush_clear(&d->u.stroke.brush);
        break;
    case QXL_DRAW_TEXT:
        red_string_free(d->u.text.str);
        red_brush_clear(&d->u.text.fore_brush);
        red_brush_clear(&d->u.text.back_brush);
        break;
    case QXL_DRAW_TRANSPARENT:
        red_image_free(d->u.transparent.src_bitmap);
        break;
    case QXL_DRAW_ALPHA_BLEND:
        red_image_free(d->u.alpha_blend.src_bitmap);
        break;
    case QXL_DRAW_COMPOSITE:
        red_image_free(d->u.composite.src_bitmap);
        red_image_free(d->u.composite.mask_bitmap);
        break;
    default:
        break;
    }
}

void red_drawable_unref(RedDrawable *d)
{
    if (!d) {
        return;
    }
    g_assert(d->refs > 0);
    if (--d->refs > 0) {
        return;
    }
    red_drawable_put(d);
    g_free(d);
}
