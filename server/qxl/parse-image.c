/* Images (bitmap, QUIC, surface), palettes, brushes and q-masks. */
#include "server/qxl/parse-internal.h"

#include <stddef.h>
#include <string.h>

static const uint8_t bitmap_bpp[SPICE_BITMAP_FMT_ENUM_END] = {
    [SPICE_BITMAP_FMT_1BIT_LE] = 1, [SPICE_BITMAP_FMT_1BIT_BE] = 1,
    [SPICE_BITMAP_FMT_4BIT_LE] = 4, [SPICE_BITMAP_FMT_4BIT_BE] = 4,
    [SPICE_BITMAP_FMT_8BIT] = 8, [SPICE_BITMAP_FMT_16BIT] = 16,
    [SPICE_BITMAP_FMT_24BIT] = 24, [SPICE_BITMAP_FMT_32BIT] = 32,
    [SPICE_BITMAP_FMT_RGBA] = 32, [SPICE_BITMAP_FMT_8BIT_A] = 8,
};

unsigned red_bitmap_format_bpp(uint32_t format)
{
    return format < SPICE_BITMAP_FMT_ENUM_END ? bitmap_bpp[format] : 0;
}

static bool format_has_palette(uint32_t format)
{
    return format >= SPICE_BITMAP_FMT_1BIT_LE && format <= SPICE_BITMAP_FMT_8BIT;
}

const uint8_t *red_bitmap_get_data(const RedBitmap *bitmap, size_t *size)
{
    if (!bitmap->data) {
        g_assert(bitmap->chunks && !bitmap->owned_data);
        ParseChunks c = { .v = bitmap->chunks, .n = bitmap->n_chunks,
                          .total = bitmap->data_size };
        /* A cache filled on demand: the pixels themselves do not change. */
        RedBitmap *mut = (RedBitmap *)bitmap;
        mut->owned_data = parse_chunks_gather(&c);
        mut->data = mut->owned_data;
    }
    g_assert(bitmap->data && bitmap->data_size == (size_t)bitmap->stride * bitmap->height);
    *size = bitmap->data_size;
    return bitmap->data;
}

/* 16-bit x1r5g5b5 to 32-bit x8r8g8b8, replicating the top bits. */
static uint32_t color_16_to_32(uint32_t c)
{
    uint32_t r = (c >> 10) & 0x1f, g = (c >> 5) & 0x1f, b = c & 0x1f;
    r = (r << 3) | (r >> 2);
    g = (g << 3) | (g >> 2);
    b = (b << 3) | (b >> 2);
    return (r << 16) | (g << 8) | b;
}

uint32_t parse_color(const ParseState *st, uint32_t color)
{
    return (st->flags & QXL_COMMAND_FLAG_COMPAT_16BPP) ? color_16_to_32(color) : color;
}

static bool parse_palette(ParseState *st, QXLPHYSICAL addr, RedPalette **out)
{
    QXLPalette hdr;
    if (!parse_fetch(st, addr, &hdr, sizeof(hdr), "bitmap palette")) {
        return false;
    }
    if (hdr.num_ents > RED_PALETTE_MAX_ENTS) {
        return parse_fail(st, RED_PARSE_ERROR_LIMIT, "bitmap palette with %u entries (max %u)",
                          hdr.num_ents, RED_PALETTE_MAX_ENTS);
    }
    QXLPHYSICAL ents_addr;
    if (!parse_addr_add(st, addr, sizeof(hdr), &ents_addr, "bitmap palette")) {
        return false;
    }
    uint32_t ents[RED_PALETTE_MAX_ENTS];
    if (!parse_fetch(st, ents_addr, ents, hdr.num_ents * sizeof(uint32_t), "palette entries")) {
        return false;
    }
    RedPalette *p = g_new0(RedPalette, 1);
    p->unique = hdr.unique;
    p->num_ents = hdr.num_ents;
    for (unsigned i = 0; i < hdr.num_ents; i++) {
        p->ents[i] = parse_color(st, ents[i]);
    }
    *out = p;
    return true;
}

/* Pixel bytes of a bitmap or QUIC stream: one chunk stays in place, several
 * are gathered into one owned buffer. */
static void take_chunks(const ParseChunks *c, const uint8_t **data, uint8_t **owned)
{
    if (c->n == 1) {
        *data = c->v[0].data;
        *owned = NULL;
    } else {
        *owned = parse_chunks_gather(c);
        *data = *owned;
    }
}

static bool parse_bitmap(ParseState *st, const QXLBitmap *qb, bool is_mask, RedBitmap *bmp)
{
    unsigned bpp = red_bitmap_format_bpp(qb->format);
    if (bpp == 0) {
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "bitmap format %u unknown", qb->format);
    }
    if (qb->x == 0 || qb->y == 0 || qb->x > RED_QXL_MAX_DIM || qb->y > RED_QXL_MAX_DIM) {
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "bitmap size %ux%u outside 1..%u",
                          qb->x, qb->y, RED_QXL_MAX_DIM);
    }
    uint64_t min_stride = ((uint64_t)qb->x * bpp + 7) / 8;
    if (qb->stride < min_stride) {
        return parse_fail(st, RED_PARSE_ERROR_INVALID,
                          "bitmap stride %u < %" G_GUINT64_FORMAT " for width %u at %u bpp",
                          qb->stride, (guint64)min_stride, qb->x, bpp);
    }
    uint64_t size = (uint64_t)qb->stride * qb->y;
    if (size > RED_QXL_MAX_DATA_SIZE) {
        return parse_fail(st, RED_PARSE_ERROR_LIMIT, "bitmap of %" G_GUINT64_FORMAT
                          " bytes exceeds %u", (guint64)size, RED_QXL_MAX_DATA_SIZE);
    }
    bmp->format = qb->format;
    bmp->flags = (qb->flags & QXL_BITMAP_TOP_DOWN) ? SPICE_BITMAP_FLAGS_TOP_DOWN : 0;
    bmp->unstable = (qb->flags & QXL_BITMAP_UNSTABLE) != 0;
    bmp->width = qb->x;
    bmp->height = qb->y;
    bmp->stride = qb->stride;
    bmp->data_size = size;

    if (format_has_palette(qb->format)) {
        if (qb->palette) {
            if (!parse_palette(st, qb->palette, &bmp->palette)) {
                return false;
            }
        } else if (!is_mask) {
            return parse_fail(st, RED_PARSE_ERROR_INVALID, "palette bitmap (format %u) "
                              "without a palette", qb->format);
        }
    }

    if (qb->flags & QXL_BITMAP_DIRECT) {
        bmp->data = parse_pin(st, qb->data, size, "direct bitmap data");
        return bmp->data != NULL;
    }
    ParseChunks c;
    if (!parse_chunks_at(st, qb->data, &c, "bitmap data")) {
        return false;
    }
    if (c.total != size) {
        parse_chunks_clear(&c);
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "bitmap data chunks hold %" G_GUINT64_FORMAT
                          " bytes, stride*height is %" G_GUINT64_FORMAT,
                          (guint64)c.total, (guint64)size);
    }
    if (c.n == 1) {
        bmp->data = c.v[0].data;
        parse_chunks_clear(&c);
    } else {
        /* Gathered only if someone needs one buffer (red_bitmap_get_data). */
        bmp->chunks = c.v;
        bmp->n_chunks = c.n;
    }
    return true;
}

static bool parse_quic(ParseState *st, QXLPHYSICAL img_addr, uint32_t data_size, RedQuic *q)
{
    QXLPHYSICAL chunk_addr;
    if (!parse_addr_add(st, img_addr, offsetof(QXLImage, quic.data), &chunk_addr, "QUIC image")) {
        return false;
    }
    ParseChunks c;
    if (!parse_chunks_at(st, chunk_addr, &c, "QUIC data")) {
        return false;
    }
    if (c.total != data_size || data_size == 0) {
        parse_chunks_clear(&c);
        return parse_fail(st, RED_PARSE_ERROR_INVALID, "QUIC data_size %u but chunks hold %"
                          G_GUINT64_FORMAT " bytes", data_size, (guint64)c.total);
    }
    q->data_size = data_size;
    take_chunks(&c, &q->data, &q->owned_data);
    parse_chunks_clear(&c);
    return true;
}

bool parse_image(ParseState *st, QXLPHYSICAL addr, bool is_mask, bool optional,
                 RedImage **out, const char *what)
{
    *out = NULL;
    if (addr == 0) {
        return optional ? true : parse_fail(st, RED_PARSE_ERROR_INVALID, "%s: no image", what);
    }
    /* Copy only the descriptor first: a SURFACE image is shorter than the
     * bitmap variant and may end right at the slot end. */
    QXLImageDescriptor desc;
    if (!parse_fetch(st, addr, &desc, sizeof(desc), what)) {
        return false;
    }
    QXLPHYSICAL body;
    if (!parse_addr_add(st, addr, sizeof(desc), &body, what)) {
        return false;
    }
    RedImage *img = g_new0(RedImage, 1);
    img->id = desc.id;
    img->type = desc.type;
    img->flags = ((desc.flags & QXL_IMAGE_CACHE) ? SPICE_IMAGE_FLAGS_CACHE_ME : 0) |
                 ((desc.flags & QXL_IMAGE_HIGH_BITS_SET) ? SPICE_IMAGE_FLAGS_HIGH_BITS_SET : 0);
    img->width = desc.width;
    img->height = desc.height;

    bool ok = false;
    switch (desc.type) {
    case SPICE_IMAGE_TYPE_BITMAP: {
        QXLBitmap qb;
        if (!parse_fetch(st, body, &qb, sizeof(qb), what)) {
            break;
        }
        ok = parse_bitmap(st, &qb, is_mask, &img->u.bitmap);
        img->width = img->u.bitmap.width;
        img->height = img->u.bitmap.height;
        break;
    }
    case SPICE_IMAGE_TYPE_QUIC: {
        QXLQUICData qq;
        if (desc.width == 0 || desc.height == 0 || desc.width > RED_QXL_MAX_DIM ||
            desc.height > RED_QXL_MAX_DIM) {
            parse_fail(st, RED_PARSE_ERROR_INVALID, "%s: QUIC image size %ux%u outside 1..%u",
                       what, desc.width, desc.height, RED_QXL_MAX_DIM);
            break;
        }
        if (!parse_fetch(st, body, &qq, sizeof(qq), what)) {
            break;
        }
        ok = parse_quic(st, addr, qq.data_size, &img->u.quic);
        break;
    }
    case SPICE_IMAGE_TYPE_SURFACE: {
        QXLSurfaceId qs;
        if (!parse_fetch(st, body, &qs, sizeof(qs), what)) {
            break;
        }
        ok = parse_surface_id(st, qs.surface_id, what);
        img->u.surface_id = qs.surface_id;
        break;
    }
    default:
        parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "%s: image type %u not accepted from a guest",
                   what, desc.type);
        break;
    }
    if (!ok) {
        red_image_free(img);
        return false;
    }
    *out = img;
    return true;
}

void red_image_free(RedImage *img)
{
    if (!img) {
        return;
    }
    switch (img->type) {
    case SPICE_IMAGE_TYPE_BITMAP:
        g_free(img->u.bitmap.palette);
        g_free(img->u.bitmap.chunks);
        g_free(img->u.bitmap.owned_data);
        break;
    case SPICE_IMAGE_TYPE_QUIC:
        g_free(img->u.quic.owned_data);
        break;
    default:
        break;
    }
    g_free(img);
}

bool parse_brush(ParseState *st, const QXLBrush *qxl, RedBrush *out)
{
    *out = (RedBrush){ .type = qxl->type };
    switch (qxl->type) {
    case SPICE_BRUSH_TYPE_NONE:
        return true;
    case SPICE_BRUSH_TYPE_SOLID:
        out->u.color = parse_color(st, qxl->u.color);
        return true;
    case SPICE_BRUSH_TYPE_PATTERN:
        out->u.pattern.pos = (RedPoint){ qxl->u.pattern.pos.x, qxl->u.pattern.pos.y };
        return parse_image(st, qxl->u.pattern.pat, false, false, &out->u.pattern.pat,
                           "pattern brush");
    default:
        out->type = SPICE_BRUSH_TYPE_NONE;
        return parse_fail(st, RED_PARSE_ERROR_UNSUPPORTED, "brush type %u unknown", qxl->type);
    }
}

void red_brush_clear(RedBrush *brush)
{
    if (brush->type == SPICE_BRUSH_TYPE_PATTERN) {
        red_image_free(brush->u.pattern.pat);
    }
    *brush = (RedBrush){0};
}

bool parse_qmask(ParseState *st, const QXLQMask *qxl, RedQMask *out)
{
    *out = (RedQMask){0};
    if (!parse_image(st, qxl->bitmap, true, true, &out->bitmap, "mask")) {
        return false;
    }
    if (out->bitmap) {
        if (qxl->flags & ~SPICE_MASK_FLAGS_MASK) {
            return parse_fail(st, RED_PARSE_ERROR_INVALID, "mask flags 0x%x unknown", qxl->flags);
        }
        out->flags = qxl->flags;
        out->pos = (RedPoint){ qxl->pos.x, qxl->pos.y };
    }
    return true;
}

void red_qmask_clear(RedQMask *mask)
{
    red_image_free(mask->bitmap);
    *mask = (RedQMask){0};
}
