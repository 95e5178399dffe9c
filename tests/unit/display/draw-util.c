/* See draw-util.h. */
#include "tests/unit/display/draw-util.h"

#include <string.h>
#include <spice/enums.h>
#include <spice/protocol.h>
#include <spice/qxl_dev.h>

#include "common/wire/reader.h"

/* ---- building drawables ---- */

static TestDraw *draw_new(uint32_t surface_id, uint8_t type, int x, int y, int w, int h)
{
    TestDraw *d = g_new0(TestDraw, 1);
    d->red.refs = 1;
    d->red.surface_id = surface_id;
    d->red.type = type;
    d->red.effect = QXL_EFFECT_OPAQUE;
    d->red.bbox = (RedRect){ x, y, x + w, y + h };
    d->red.clip.type = SPICE_CLIP_TYPE_NONE;
    for (int i = 0; i < 3; i++) {
        d->red.surfaces_dest[i] = -1;
    }
    return d;
}

TestDraw *test_draw_fill(uint32_t surface_id, int x, int y, int w, int h, uint32_t color)
{
    TestDraw *d = draw_new(surface_id, QXL_DRAW_FILL, x, y, w, h);
    d->red.u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    d->red.u.fill.brush.u.color = color;
    d->red.u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    return d;
}

TestDraw *test_draw_copy_bitmap(uint32_t surface_id, int x, int y, int w, int h, uint32_t seed,
                                uint64_t cache_id, uint8_t format, bool top_down)
{
    TestDraw *d = draw_new(surface_id, QXL_DRAW_COPY, x, y, w, h);
    unsigned bpp = format == SPICE_BITMAP_FMT_24BIT ? 3 : 4;
    uint32_t stride = ((uint32_t)w * bpp + 3) & ~3u;
    d->pixels = g_malloc0((size_t)stride * h);
    GRand *r = g_rand_new_with_seed(seed);
    for (int row = 0; row < h; row++) {
        for (int col = 0; col < w; col++) {
            uint32_t v = g_rand_int(r);
            /* smooth-ish content: a gradient plus noise in the low bits */
            v = ((uint32_t)(row * 255 / MAX(h, 1)) << 16) | ((uint32_t)(col * 255 / MAX(w, 1)) << 8) |
                (v & 0xff);
            memcpy(d->pixels + (size_t)row * stride + (size_t)col * bpp, &v, bpp);
        }
    }
    g_rand_free(r);
    RedImage *img = &d->image;
    img->id = cache_id;
    img->type = SPICE_IMAGE_TYPE_BITMAP;
    img->flags = cache_id ? SPICE_IMAGE_FLAGS_CACHE_ME : 0;
    img->width = (uint32_t)w;
    img->height = (uint32_t)h;
    img->u.bitmap.format = format;
    img->u.bitmap.flags = top_down ? SPICE_BITMAP_FLAGS_TOP_DOWN : 0;
    img->u.bitmap.width = (uint32_t)w;
    img->u.bitmap.height = (uint32_t)h;
    img->u.bitmap.stride = stride;
    img->u.bitmap.data = d->pixels;
    img->u.bitmap.data_size = (size_t)stride * h;
    d->red.u.copy.src_bitmap = img;
    d->red.u.copy.src_area = (RedRect){ 0, 0, w, h };
    d->red.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    d->red.u.copy.scale_mode = SPICE_IMAGE_SCALE_MODE_NEAREST;
    return d;
}

TestDraw *test_draw_copy_surface(uint32_t surface_id, int x, int y, int w, int h,
                                 uint32_t src_surface, int sx, int sy)
{
    TestDraw *d = draw_new(surface_id, QXL_DRAW_COPY, x, y, w, h);
    d->image.type = SPICE_IMAGE_TYPE_SURFACE;
    d->image.u.surface_id = src_surface;
    d->red.u.copy.src_bitmap = &d->image;
    d->red.u.copy.src_area = (RedRect){ sx, sy, sx + w, sy + h };
    d->red.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    d->red.surfaces_dest[0] = (int32_t)src_surface;
    d->red.surfaces_rects[0] = d->red.u.copy.src_area;
    return d;
}

TestDraw *test_draw_copy_bits(uint32_t surface_id, int x, int y, int w, int h, int sx, int sy)
{
    TestDraw *d = draw_new(surface_id, QXL_COPY_BITS, x, y, w, h);
    d->red.u.copy_bits.src_pos = (RedPoint){ sx, sy };
    return d;
}

void test_draw_free(TestDraw *d)
{
    if (d) {
        g_free(d->pixels);
        g_free(d);
    }
}

void test_draw_render(TestDraw *d, RedCanvas **canvases)
{
    RedCanvas *canvas = canvases[d->red.surface_id];
    pixman_box32_t box = { d->red.bbox.left, d->red.bbox.top, d->red.bbox.right,
                           d->red.bbox.bottom };
    g_assert_nonnull(canvas);
    switch (d->red.type) {
    case QXL_DRAW_FILL: {
        RedCanvasBrush b = { .type = RED_CANVAS_BRUSH_SOLID, .color = d->red.u.fill.brush.u.color };
        g_assert_true(red_canvas_fill(canvas, NULL, &box, &b, SPICE_ROPD_OP_PUT, NULL));
        break;
    }
    case QXL_DRAW_COPY: {
        const RedImage *img = d->red.u.copy.src_bitmap;
        const RedRect *a = &d->red.u.copy.src_area;
        pixman_image_t *src;
        if (img->type == SPICE_IMAGE_TYPE_SURFACE) {
            src = pixman_image_ref(red_canvas_get_image(canvases[img->u.surface_id]));
        } else {
            RedCanvasBitmap bm = {
                .format = img->u.bitmap.format,
                .top_down = img->u.bitmap.flags & SPICE_BITMAP_FLAGS_TOP_DOWN,
                .width = img->u.bitmap.width, .height = img->u.bitmap.height,
                .stride = img->u.bitmap.stride, .data = img->u.bitmap.data,
                .data_size = img->u.bitmap.data_size,
            };
            src = red_canvas_decode_bitmap(&bm, false, NULL);
        }
        g_assert_nonnull(src);
        RedCanvasSource s = { src, { a->left, a->top, a->right, a->bottom },
                              SPICE_IMAGE_SCALE_MODE_NEAREST };
        g_assert_true(red_canvas_copy(canvas, NULL, &box, &s, SPICE_ROPD_OP_PUT, NULL));
        pixman_image_unref(src);
        break;
    }
    case QXL_COPY_BITS:
        g_assert_true(red_canvas_copy_bits(canvas, NULL, &box, d->red.u.copy_bits.src_pos.x,
                                           d->red.u.copy_bits.src_pos.y));
        break;
    default:
        g_assert_not_reached();
    }
}

/* ---- client decoder ---- */

static void client_error(TestClient *c, const char *what)
{
    if (!c->error) {
        c->error = true;
        g_strlcpy(c->error_text, what, sizeof(c->error_text));
    }
}

static void image_unref(gpointer p)
{
    pixman_image_unref(p);
}

void test_client_init(TestClient *c)
{
    memset(c, 0, sizeof(*c));
    c->cache = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                     image_unref);
    pixman_region32_init(&c->image_damage);
}

void test_client_fini(TestClient *c)
{
    for (int i = 0; i < TEST_MAX_SURFACES; i++) {
        g_free(c->surfaces[i].pixels);
    }
    g_hash_table_destroy(c->cache);
    pixman_region32_fini(&c->image_damage);
}

static void get_rect(WireReader *r, pixman_box32_t *b)
{
    b->y1 = (int32_t)wire_get_u32(r);
    b->x1 = (int32_t)wire_get_u32(r);
    b->y2 = (int32_t)wire_get_u32(r);
    b->x2 = (int32_t)wire_get_u32(r);
}

static TestClientSurface *client_surface(TestClient *c, uint32_t id)
{
    if (id >= TEST_MAX_SURFACES || !c->surfaces[id].live) {
        client_error(c, "draw on an unknown surface");
        return NULL;
    }
    return &c->surfaces[id];
}

/* DisplayBase -> surface and clip region (box & clip rects & surface). */
static TestClientSurface *read_base(TestClient *c, WireReader *r, pixman_box32_t *box,
                                    pixman_region32_t *region)
{
    uint32_t id = wire_get_u32(r);
    get_rect(r, box);
    uint8_t clip = wire_get_u8(r);
    pixman_region32_init_rect(region, box->x1, box->y1, (unsigned)(box->x2 - box->x1),
                              (unsigned)(box->y2 - box->y1));
    if (clip == SPICE_CLIP_TYPE_RECTS) {
        uint32_t n = wire_get_u32(r);
        pixman_region32_t cr;
        pixman_region32_init(&cr);
        for (uint32_t i = 0; i < n && r->ok; i++) {
            pixman_box32_t b;
            get_rect(r, &b);
            pixman_region32_union_rect(&cr, &cr, b.x1, b.y1, (unsigned)(b.x2 - b.x1),
                                       (unsigned)(b.y2 - b.y1));
        }
        pixman_region32_intersect(region, region, &cr);
        pixman_region32_fini(&cr);
    }
    TestClientSurface *s = client_surface(c, id);
    if (s) {
        pixman_region32_intersect_rect(region, region, 0, 0, s->width, s->height);
    }
    return s;
}

static pixman_image_t *surface_image(TestClientSurface *s)
{
    return pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)s->width, (int)s->height, s->pixels,
                                    (int)s->width * 4);
}

/* Decodes the image at body offset `at`; returns a new reference. */
static pixman_image_t *read_image(TestClient *c, const uint8_t *body, uint32_t size, uint32_t at,
                                  bool *was_bitmap)
{
    WireReader r;
    wire_reader_init(&r, body, size);
    if (at == 0 || !wire_get_bytes(&r, at)) {
        client_error(c, "bad image offset");
        return NULL;
    }
    uint64_t id = wire_get_u64(&r);
    uint8_t type = wire_get_u8(&r);
    uint8_t flags = wire_get_u8(&r);
    uint32_t w = wire_get_u32(&r), h = wire_get_u32(&r);
    pixman_image_t *img = NULL;
    *was_bitmap = false;
    switch (type) {
    case SPICE_IMAGE_TYPE_BITMAP: {
        RedCanvasBitmap bm = { 0 };
        bm.format = wire_get_u8(&r);
        bm.top_down = wire_get_u8(&r) & SPICE_BITMAP_FLAGS_TOP_DOWN;
        bm.width = wire_get_u32(&r);
        bm.height = wire_get_u32(&r);
        bm.stride = wire_get_u32(&r);
        uint32_t pal = wire_get_u32(&r);
        bm.data_size = (size_t)bm.stride * bm.height;
        bm.data = wire_get_bytes(&r, bm.data_size);
        if (!r.ok || pal != 0 || bm.width != w || bm.height != h) {
            client_error(c, "bad bitmap");
            return NULL;
        }
        img = red_canvas_decode_bitmap(&bm, false, NULL);
        *was_bitmap = true;
        break;
    }
    case SPICE_IMAGE_TYPE_FROM_CACHE: {
        pixman_image_t *hit = g_hash_table_lookup(c->cache, &id);
        if (!hit) {
            client_error(c, "FROM_CACHE of an id the client does not have");
            return NULL;
        }
        c->from_cache++;
        return pixman_image_ref(hit);
    }
    case SPICE_IMAGE_TYPE_SURFACE: {
        TestClientSurface *s = client_surface(c, wire_get_u32(&r));
        if (!s) {
            return NULL;
        }
        img = surface_image(s);
        break;
    }
    default:
        client_error(c, "unexpected image type");
        return NULL;
    }
    if (img && (flags & SPICE_IMAGE_FLAGS_CACHE_ME)) {
        uint64_t *key = g_new(uint64_t, 1);
        *key = id;
        if (g_hash_table_contains(c->cache, key)) {
            client_error(c, "CACHE_ME of an id already cached");
        }
        g_hash_table_replace(c->cache, key, pixman_image_ref(img));
    }
    return img;
}

static void fill_region(TestClientSurface *s, const pixman_region32_t *region, uint32_t color)
{
    int n;
    const pixman_box32_t *b = pixman_region32_rectangles((pixman_region32_t *)region, &n);
    for (int i = 0; i < n; i++) {
        for (int y = b[i].y1; y < b[i].y2; y++) {
            for (int x = b[i].x1; x < b[i].x2; x++) {
                s->pixels[(size_t)y * s->width + x] = color;
            }
        }
    }
}

static void blit(TestClientSurface *s, pixman_image_t *src, pixman_region32_t *region,
                 const pixman_box32_t *box, int sx, int sy)
{
    pixman_image_t *dst = surface_image(s);
    /* copy the source first: it may be this very surface */
    int w = box->x2 - box->x1, h = box->y2 - box->y1;
    pixman_image_t *tmp = pixman_image_create_bits(PIXMAN_x8r8g8b8, MAX(w, 1), MAX(h, 1), NULL, 0);
    pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, tmp, sx, sy, 0, 0, 0, 0, w, h);
    pixman_image_set_clip_region32(dst, region);
    pixman_image_composite32(PIXMAN_OP_SRC, tmp, NULL, dst, 0, 0, 0, 0, box->x1, box->y1, w, h);
    pixman_image_unref(tmp);
    pixman_image_unref(dst);
}

static void handle_draw(TestClient *c, uint16_t type, const uint8_t *body, uint32_t size)
{
    WireReader r;
    pixman_box32_t box;
    pixman_region32_t region;
    wire_reader_init(&r, body, size);
    TestClientSurface *s = read_base(c, &r, &box, &region);
    if (!s) {
        pixman_region32_fini(&region);
        return;
    }
    switch (type) {
    case SPICE_MSG_DISPLAY_DRAW_FILL: {
        uint8_t brush = wire_get_u8(&r);
        uint32_t color = wire_get_u32(&r);
        uint16_t rop = wire_get_u16(&r);
        if (brush != SPICE_BRUSH_TYPE_SOLID || rop != SPICE_ROPD_OP_PUT) {
            client_error(c, "unexpected fill");
            break;
        }
        fill_region(s, &region, color);
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_COPY: {
        uint32_t at = wire_get_u32(&r);
        pixman_box32_t area;
        get_rect(&r, &area);
        uint16_t rop = wire_get_u16(&r);
        if (!r.ok || rop != SPICE_ROPD_OP_PUT) {
            client_error(c, "unexpected copy");
            break;
        }
        bool was_bitmap;
        pixman_image_t *src = read_image(c, body, size, at, &was_bitmap);
        if (!src) {
            break;
        }
        blit(s, src, &region, &box, area.x1, area.y1);
        pixman_image_unref(src);
        if (was_bitmap && s == &c->surfaces[0]) {
            pixman_region32_union(&c->image_damage, &c->image_damage, &region);
        }
        break;
    }
    case SPICE_MSG_DISPLAY_COPY_BITS: {
        int32_t sx = (int32_t)wire_get_u32(&r), sy = (int32_t)wire_get_u32(&r);
        pixman_image_t *src = surface_image(s);
        blit(s, src, &region, &box, sx, sy);
        pixman_image_unref(src);
        break;
    }
    default:
        client_error(c, "unexpected draw type");
    }
    if (!r.ok) {
        client_error(c, "truncated draw");
    }
    pixman_region32_fini(&region);
}

void test_client_handle(TestClient *c, uint16_t type, const uint8_t *body, uint32_t size)
{
    WireReader r;
    wire_reader_init(&r, body, size);
    c->messages++;
    if (type < G_N_ELEMENTS(c->counts)) {
        c->counts[type]++;
    }
    switch (type) {
    case SPICE_MSG_LIST: {
        uint16_t n = wire_get_u16(&r);
        for (uint16_t i = 0; i < n && r.ok; i++) {
            uint32_t off = wire_get_u32(&r);
            WireReader s;
            wire_reader_init(&s, body, size);
            if (!wire_get_bytes(&s, off)) {
                client_error(c, "bad LIST offset");
                return;
            }
            uint16_t st = wire_get_u16(&s);
            uint32_t ss = wire_get_u32(&s);
            const uint8_t *sb = wire_get_bytes(&s, ss);
            if (!s.ok) {
                client_error(c, "bad LIST entry");
                return;
            }
            test_client_handle(c, st, sb, ss);
        }
        break;
    }
    case SPICE_MSG_DISPLAY_SURFACE_CREATE: {
        uint32_t id = wire_get_u32(&r), w = wire_get_u32(&r), h = wire_get_u32(&r);
        if (id >= TEST_MAX_SURFACES) {
            client_error(c, "surface id");
            return;
        }
        TestClientSurface *s = &c->surfaces[id];
        g_free(s->pixels);
        s->live = true;
        s->width = w;
        s->height = h;
        s->pixels = g_new0(uint32_t, (size_t)w * h);
        break;
    }
    case SPICE_MSG_DISPLAY_SURFACE_DESTROY: {
        uint32_t id = wire_get_u32(&r);
        if (id < TEST_MAX_SURFACES) {
            g_clear_pointer(&c->surfaces[id].pixels, g_free);
            c->surfaces[id].live = false;
        }
        break;
    }
    case SPICE_MSG_DISPLAY_INVAL_LIST: {
        uint16_t n = wire_get_u16(&r);
        for (uint16_t i = 0; i < n && r.ok; i++) {
            wire_get_u8(&r);
            uint64_t id = wire_get_u64(&r);
            if (!g_hash_table_remove(c->cache, &id)) {
                client_error(c, "INVAL_LIST of an id not cached");
            }
        }
        break;
    }
    case SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS:
        g_hash_table_remove_all(c->cache);
        break;
    case SPICE_MSG_DISPLAY_DRAW_FILL:
    case SPICE_MSG_DISPLAY_DRAW_COPY:
    case SPICE_MSG_DISPLAY_COPY_BITS:
        handle_draw(c, type, body, size);
        break;
    default:
        break;                      /* MARK, MONITORS_CONFIG, palettes, SET_ACK ... */
    }
}

long test_client_compare(const TestClient *c, uint32_t id, RedCanvas *canvas)
{
    const TestClientSurface *s = &c->surfaces[id];
    int w = red_canvas_get_width(canvas), h = red_canvas_get_height(canvas);
    if (!s->live || (int)s->width != w || (int)s->height != h) {
        return -1;
    }
    uint32_t *ref = g_new(uint32_t, (size_t)w * h);
    pixman_box32_t all = { 0, 0, w, h };
    g_assert_true(red_canvas_read(canvas, &all, (uint8_t *)ref, w * 4));
    long diff = 0;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        diff += ((ref[i] ^ s->pixels[i]) & 0xffffff) != 0;
    }
    g_free(ref);
    return diff;
}
