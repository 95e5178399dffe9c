/* Fake QXL device memory and guest-struct builders, see fake-qxl.h. */
#include "tests/unit/qxl/fake-qxl.h"

#include <stdlib.h>
#include <string.h>

static void setup_slots(FakeQxl *f)
{
    const char *err = NULL;
    f->slots = memslot_table_new(2, 8, 8, 8, 0, &err);
    g_assert_nonnull(f->slots);
    uint64_t start = (uintptr_t)f->mem;
    MemSlotError e = memslot_add(f->slots, FAKE_GROUP, FAKE_SLOT, FAKE_GEN, start,
                                 start + f->size, start - FAKE_GUEST_BASE);
    g_assert_cmpint(e, ==, MEMSLOT_OK);
    f->ctx = (RedParseCtx){ .slots = f->slots, .n_surfaces = FAKE_N_SURFACES };
}

void fake_qxl_init(FakeQxl *f, size_t size)
{
    *f = (FakeQxl){ .mem = g_malloc0(size), .own_mem = true, .size = size };
    setup_slots(f);
}

void fake_qxl_init_over(FakeQxl *f, uint8_t *mem, size_t size)
{
    *f = (FakeQxl){ .mem = mem, .size = size, .used = size };
    setup_slots(f);
}

void fake_qxl_finish(FakeQxl *f)
{
    memslot_table_free(f->slots);
    if (f->own_mem) {
        g_free(f->mem);
    }
    *f = (FakeQxl){0};
}

QXLPHYSICAL fake_phys(const FakeQxl *f, const void *host)
{
    size_t off = (const uint8_t *)host - f->mem;
    return memslot_make_addr(f->slots, FAKE_SLOT, FAKE_GEN, FAKE_GUEST_BASE + off);
}

void *fake_alloc(FakeQxl *f, size_t n, QXLPHYSICAL *phys)
{
    size_t at = (f->used + 7) & ~(size_t)7;
    g_assert_cmpuint(at + n, <=, f->size);
    f->used = at + n;
    void *p = f->mem + at;
    memset(p, 0, n);
    if (phys) {
        *phys = fake_phys(f, p);
    }
    return p;
}

void *fake_alloc_inline(FakeQxl *f, size_t head, size_t data_size, QXLPHYSICAL *phys)
{
    return fake_alloc(f, head + data_size, phys);
}

/* Writes data[from..size) as nchunks-1 more chunks, linking them after `first`. */
static void link_rest(FakeQxl *f, QXLDataChunk *first, const uint8_t *data, size_t first_len,
                      size_t size, unsigned nchunks)
{
    QXLDataChunk *prev = first;
    size_t off = first_len;
    for (unsigned i = 1; i < nchunks; i++) {
        size_t len = (i == nchunks - 1) ? size - off : (size - first_len) / (nchunks - 1);
        QXLPHYSICAL ph;
        QXLDataChunk *c = fake_alloc(f, sizeof(*c) + len, &ph);
        c->data_size = len;
        c->prev_chunk = fake_phys(f, prev);
        memcpy(c->data, data + off, len);
        prev->next_chunk = ph;
        prev = c;
        off += len;
    }
    g_assert_cmpuint(off, ==, size);
}

static size_t first_len_of(size_t size, unsigned nchunks)
{
    return nchunks <= 1 ? size : size / nchunks;
}

QXLPHYSICAL fake_chunks(FakeQxl *f, const void *data, size_t size, unsigned nchunks)
{
    size_t first_len = first_len_of(size, nchunks);
    QXLPHYSICAL ph;
    QXLDataChunk *c = fake_alloc(f, sizeof(*c) + first_len, &ph);
    c->data_size = first_len;
    memcpy(c->data, data, first_len);
    link_rest(f, c, data, first_len, size, nchunks ? nchunks : 1);
    return ph;
}

/* Struct `head` bytes long ending in an inline QXLDataChunk. */
static void *inline_chunks(FakeQxl *f, size_t head, const void *data, size_t size,
                           unsigned nchunks, QXLPHYSICAL *ph)
{
    size_t first_len = first_len_of(size, nchunks);
    uint8_t *s = fake_alloc(f, head + first_len, ph);
    QXLDataChunk *c = (QXLDataChunk *)(s + head - sizeof(QXLDataChunk));
    c->data_size = first_len;
    memcpy(c->data, data, first_len);
    link_rest(f, c, data, first_len, size, nchunks ? nchunks : 1);
    return s;
}

QXLPHYSICAL fake_palette(FakeQxl *f, unsigned num_ents)
{
    QXLPHYSICAL ph;
    QXLPalette *p = fake_alloc(f, sizeof(*p) + num_ents * 4, &ph);
    p->unique = 77;
    p->num_ents = num_ents;
    for (unsigned i = 0; i < num_ents; i++) {
        p->ents[i] = 0x010101 * i;
    }
    return ph;
}

QXLPHYSICAL fake_bitmap(FakeQxl *f, uint8_t format, uint32_t w, uint32_t h, uint32_t stride,
                        unsigned nchunks, bool direct, QXLPHYSICAL palette)
{
    size_t size = (size_t)stride * h;
    uint8_t *pix = g_malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++) {
        pix[i] = (uint8_t)(i * 7 + 1);
    }
    QXLPHYSICAL ph;
    QXLImage *img = fake_alloc(f, sizeof(QXLImageDescriptor) + sizeof(QXLBitmap), &ph);
    img->descriptor = (QXLImageDescriptor){ .id = 42, .type = SPICE_IMAGE_TYPE_BITMAP,
                                            .flags = QXL_IMAGE_CACHE, .width = w, .height = h };
    img->bitmap.format = format;
    img->bitmap.flags = QXL_BITMAP_TOP_DOWN | (direct ? QXL_BITMAP_DIRECT : 0);
    img->bitmap.x = w;
    img->bitmap.y = h;
    img->bitmap.stride = stride;
    img->bitmap.palette = palette;
    if (direct) {
        QXLPHYSICAL dp;
        uint8_t *d = fake_alloc(f, size, &dp);
        memcpy(d, pix, size);
        img->bitmap.data = dp;
    } else {
        img->bitmap.data = fake_chunks(f, pix, size, nchunks);
    }
    g_free(pix);
    return ph;
}

QXLPHYSICAL fake_surface_image(FakeQxl *f, uint32_t surface_id)
{
    QXLPHYSICAL ph;
    uint8_t *p = fake_alloc(f, sizeof(QXLImageDescriptor) + sizeof(QXLSurfaceId), &ph);
    QXLImageDescriptor d = { .id = 9, .type = SPICE_IMAGE_TYPE_SURFACE, .width = 4, .height = 4 };
    memcpy(p, &d, sizeof(d));
    QXLSurfaceId s = { surface_id };
    memcpy(p + sizeof(d), &s, sizeof(s));
    return ph;
}

QXLPHYSICAL fake_quic_image(FakeQxl *f, uint32_t w, uint32_t h, size_t data_size,
                            unsigned nchunks)
{
    uint8_t *data = g_malloc0(data_size ? data_size : 1);
    for (size_t i = 0; i < data_size; i++) {
        data[i] = (uint8_t)i;
    }
    QXLPHYSICAL ph;
    size_t head = sizeof(QXLImageDescriptor) + sizeof(QXLQUICData) + sizeof(QXLDataChunk);
    uint8_t *p = inline_chunks(f, head, data, data_size, nchunks, &ph);
    QXLImageDescriptor d = { .id = 5, .type = SPICE_IMAGE_TYPE_QUIC, .width = w, .height = h };
    memcpy(p, &d, sizeof(d));
    uint32_t ds = data_size;
    memcpy(p + sizeof(d), &ds, sizeof(ds));
    g_free(data);
    return ph;
}

QXLDrawable *fake_drawable(FakeQxl *f, uint8_t type, QXLPHYSICAL *phys)
{
    QXLDrawable *d = fake_alloc(f, sizeof(*d), phys);
    d->release_info.id = 0x1234;
    d->type = type;
    d->effect = QXL_EFFECT_OPAQUE;
    d->bbox = (QXLRect){ .top = 0, .left = 0, .bottom = 16, .right = 16 };
    d->clip.type = SPICE_CLIP_TYPE_NONE;
    d->surfaces_dest[0] = d->surfaces_dest[1] = d->surfaces_dest[2] = -1;
    return d;
}

QXLPHYSICAL fake_clip_rects(FakeQxl *f, unsigned n, unsigned nchunks)
{
    QXLRect *r = g_new0(QXLRect, n ? n : 1);
    for (unsigned i = 0; i < n; i++) {
        r[i] = (QXLRect){ .top = i, .left = i, .bottom = i + 2, .right = i + 3 };
    }
    QXLPHYSICAL ph;
    QXLClipRects *c = inline_chunks(f, sizeof(QXLClipRects), r, n * sizeof(QXLRect), nchunks, &ph);
    c->num_rects = n;
    g_free(r);
    return ph;
}

QXLPHYSICAL fake_path(FakeQxl *f, unsigned nseg)
{
    size_t seg_size = sizeof(QXLPathSeg) + 3 * sizeof(QXLPointFix);
    size_t size = seg_size * nseg;
    uint8_t *buf = g_malloc0(size ? size : 1);
    for (unsigned i = 0; i < nseg; i++) {
        QXLPathSeg s = { .flags = i == 0 ? QXL_PATH_BEGIN : 0, .count = 3 };
        memcpy(buf + i * seg_size, &s, sizeof(s));
        for (int j = 0; j < 3; j++) {
            QXLPointFix p = { (int)(i * 16 + j), (int)(j * 16) };
            memcpy(buf + i * seg_size + sizeof(s) + j * sizeof(p), &p, sizeof(p));
        }
    }
    QXLPHYSICAL ph;
    QXLPath *p = inline_chunks(f, sizeof(QXLPath), buf, size, 1, &ph);
    p->data_size = size;
    g_free(buf);
    return ph;
}

QXLPHYSICAL fake_string(FakeQxl *f, unsigned n)
{
    size_t gsize = sizeof(QXLRasterGlyph) + 3 * 2;
    size_t size = gsize * n;
    uint8_t *buf = g_malloc0(size ? size : 1);
    for (unsigned i = 0; i < n; i++) {
        QXLRasterGlyph g = { .render_pos = { (int)i * 4, 10 }, .width = 3, .height = 2 };
        memcpy(buf + i * gsize, &g, sizeof(g));
        memset(buf + i * gsize + sizeof(g), 0xa0 + i, 6);
    }
    QXLPHYSICAL ph;
    QXLString *s = inline_chunks(f, sizeof(QXLString), buf, size, 1, &ph);
    s->data_size = size;
    s->length = n;
    s->flags = SPICE_STRING_FLAGS_RASTER_A8;
    g_free(buf);
    return ph;
}

QXLPHYSICAL fake_cursor_cmd_set(FakeQxl *f, uint16_t w, uint16_t h, unsigned nchunks)
{
    size_t size = (size_t)w * h * 4;
    uint8_t *buf = g_malloc0(size ? size : 1);
    memset(buf, 0x5a, size);
    QXLPHYSICAL shape;
    QXLCursor *c = inline_chunks(f, sizeof(QXLCursor), buf, size, nchunks, &shape);
    c->header = (QXLCursorHeader){ .unique = 1, .type = SPICE_CURSOR_TYPE_ALPHA,
                                   .width = w, .height = h, .hot_spot_x = 1, .hot_spot_y = 2 };
    c->data_size = size;
    g_free(buf);
    QXLPHYSICAL ph;
    QXLCursorCmd *cmd = fake_alloc(f, sizeof(*cmd), &ph);
    cmd->type = QXL_CURSOR_SET;
    cmd->u.set.position = (QXLPoint16){ 5, 6 };
    cmd->u.set.visible = 1;
    cmd->u.set.shape = shape;
    return ph;
}

QXLPHYSICAL fake_surface_create(FakeQxl *f, uint32_t id, uint32_t w, uint32_t h, int32_t stride,
                                uint32_t format, QXLSurfaceCmd **cmd_out)
{
    size_t abs_stride = stride < 0 ? (size_t)-(int64_t)stride : (size_t)stride;
    QXLPHYSICAL mem;
    fake_alloc(f, abs_stride * h, &mem);
    QXLPHYSICAL ph;
    QXLSurfaceCmd *cmd = fake_alloc(f, sizeof(*cmd), &ph);
    cmd->surface_id = id;
    cmd->type = QXL_SURFACE_CMD_CREATE;
    cmd->u.surface_create = (QXLSurface){ .format = format, .width = w, .height = h,
                                          .stride = stride, .data = mem };
    if (cmd_out) {
        *cmd_out = cmd;
    }
    return ph;
}

QXLPHYSICAL fake_update_cmd(FakeQxl *f, uint32_t surface_id)
{
    QXLPHYSICAL ph;
    QXLUpdateCmd *u = fake_alloc(f, sizeof(*u), &ph);
    u->area = (QXLRect){ .top = 1, .left = 2, .bottom = 30, .right = 40 };
    u->update_id = 7;
    u->surface_id = surface_id;
    return ph;
}

QXLPHYSICAL fake_message(FakeQxl *f, const char *text)
{
    size_t len = strlen(text) + 1;
    QXLPHYSICAL ph;
    QXLMessage *m = fake_alloc(f, sizeof(*m) + len, &ph);
    memcpy(m->data, text, len);
    return ph;
}

QXLPHYSICAL fake_monitors_config(FakeQxl *f, unsigned count, QXLMonitorsConfig **cfg)
{
    QXLPHYSICAL ph;
    QXLMonitorsConfig *c = fake_alloc(f, sizeof(*c) + count * sizeof(QXLHead), &ph);
    c->count = (uint16_t)count;
    c->max_allowed = (uint16_t)count;
    for (unsigned i = 0; i < count; i++) {
        c->heads[i] = (QXLHead){ .id = i, .surface_id = 0, .width = 64, .height = 48,
                                 .x = 64 * i, .y = 0 };
    }
    if (cfg) {
        *cfg = c;
    }
    return ph;
}
