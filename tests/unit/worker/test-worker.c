/* Worker tests through the public ABI with a fake QXL device: rendering
 * (pixel-exact against pixman references), update_area sync/async,
 * exactly-once releases, destroy_surface_wait, the S3 sequence, OOM,
 * occlusion, surface dependencies and malformed commands. */
#include <string.h>

#include "fake-device.h"
#include "common/codec/quic-codec.h"

#define W 64
#define H 48

typedef struct Ref {
    pixman_image_t *img;        /* x8r8g8b8 W x H, what the surface must hold */
} Ref;

static void ref_init(Ref *r, int w, int h)
{
    r->img = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, NULL, w * 4);
}

static uint32_t ref_px(Ref *r, int x, int y)
{
    uint32_t *bits = pixman_image_get_data(r->img);
    return bits[y * (pixman_image_get_stride(r->img) / 4) + x];
}

static void ref_fill(Ref *r, int l, int t, int rr, int b, uint32_t color)
{
    pixman_color_t c = {
        .red = (uint16_t)(((color >> 16) & 0xff) * 0x101),
        .green = (uint16_t)(((color >> 8) & 0xff) * 0x101),
        .blue = (uint16_t)((color & 0xff) * 0x101), .alpha = 0xffff,
    };
    pixman_box32_t box = { l, t, rr, b };
    pixman_image_fill_boxes(PIXMAN_OP_SRC, r->img, &c, 1, &box);
}

static pixman_image_t *make_pixels(uint32_t *px, int w, int h, uint32_t seed)
{
    for (int i = 0; i < w * h; i++) {
        px[i] = (seed * 2654435761u + (uint32_t)i * 40503u) & 0x00ffffff;
    }
    return pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, px, w * 4);
}

static void ref_copy(Ref *r, pixman_image_t *src, int sx, int sy, int dx, int dy, int w, int h)
{
    pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, r->img, sx, sy, 0, 0, dx, dy, w, h);
}

/* Compares the low 24 bits of every pixel. */
static void check_surface(Ref *r, const uint8_t *row0, int32_t stride, int w, int h)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint32_t got = fake_pixel(row0, stride, x, y) & 0xffffff;
            uint32_t want = ref_px(r, x, y) & 0xffffff;
            if (got != want) {
                g_error("pixel (%d,%d): got %06x want %06x", x, y, got, want);
            }
        }
    }
}

static void update_all(FakeDev *d, uint32_t surface_id, int w, int h, QXLRect *dirty,
                       uint32_t n_dirty)
{
    QXLRect area = { .top = 0, .left = 0, .bottom = h, .right = w };
    spice_qxl_update_area(&d->qxl, surface_id, &area, dirty, n_dirty, 1);
}

static void push_fill(FakeDev *d, uint32_t sid, int l, int t, int r, int b, uint32_t color,
                      uint32_t *id_out)
{
    QXLPHYSICAL p;
    QXLDrawable *dr = fake_drawable(d, sid, QXL_DRAW_FILL, l, t, r, b, &p);
    dr->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    dr->u.fill.brush.u.color = color;
    dr->u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    if (id_out) {
        *id_out = (uint32_t)dr->release_info.id;
    }
    fake_push(d, false, p, QXL_CMD_DRAW);
}

static void push_copy(FakeDev *d, uint32_t sid, uint8_t type, QXLPHYSICAL img, int sx, int sy,
                      int dx, int dy, int w, int h, uint16_t rop)
{
    QXLPHYSICAL p;
    QXLDrawable *dr = fake_drawable(d, sid, type, dx, dy, dx + w, dy + h, &p);
    dr->u.copy.src_bitmap = img;
    dr->u.copy.src_area = (QXLRect){ .top = sy, .left = sx, .bottom = sy + h, .right = sx + w };
    dr->u.copy.rop_descriptor = rop;
    fake_push(d, false, p, QXL_CMD_DRAW);
}

static uint8_t state_of(FakeDev *d, uint32_t id)
{
    g_mutex_lock(&d->lock);
    uint8_t s = d->state[id];
    g_mutex_unlock(&d->lock);
    return s;
}

static bool wait_released(FakeDev *d, uint32_t id)
{
    gint64 end = g_get_monotonic_time() + FAKE_WAIT_US;
    g_mutex_lock(&d->lock);
    while (d->state[id] != 2 && g_cond_wait_until(&d->cond, &d->lock, end)) {
    }
    bool ok = d->state[id] == 2;
    g_mutex_unlock(&d->lock);
    return ok;
}

static void finish(FakeDev *d)
{
    spice_qxl_destroy_surfaces(&d->qxl);
    g_assert_true(fake_wait_all_released(d));
    g_assert_cmpuint(d->bad_releases, ==, 0);
    g_assert_cmpuint(d->wrong_thread, ==, 0);
    fake_dev_free(d);
}

/* ---- tests ---- */

static void test_render_draw_types(void)
{
    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, true, &stride);
    Ref ref;
    ref_init(&ref, W, H);

    /* FILL */
    push_fill(d, 0, 2, 3, 30, 20, 0xff0000, NULL);
    ref_fill(&ref, 2, 3, 30, 20, 0xff0000);

    /* COPY of an 8x8 bitmap, and of a sub-area of a 16x16 one */
    uint32_t px8[64], px16[256];
    pixman_image_t *src8 = make_pixels(px8, 8, 8, 1);
    pixman_image_t *src16 = make_pixels(px16, 16, 16, 2);
    push_copy(d, 0, QXL_DRAW_COPY, fake_image(d, 8, 8, px8), 0, 0, 10, 10, 8, 8,
              SPICE_ROPD_OP_PUT);
    ref_copy(&ref, src8, 0, 0, 10, 10, 8, 8);
    push_copy(d, 0, QXL_DRAW_COPY, fake_image(d, 16, 16, px16), 4, 2, 40, 30, 10, 12,
              SPICE_ROPD_OP_PUT);
    ref_copy(&ref, src16, 4, 2, 40, 30, 10, 12);

    /* COPY_BITS: (5,4)-(21,20) to (40,5) */
    {
        QXLPHYSICAL p;
        QXLDrawable *dr = fake_drawable(d, 0, QXL_COPY_BITS, 40, 5, 56, 21, &p);
        dr->u.copy_bits.src_pos.x = 5;
        dr->u.copy_bits.src_pos.y = 4;
        fake_push(d, false, p, QXL_CMD_DRAW);
        pixman_image_t *tmp = pixman_image_create_bits(PIXMAN_x8r8g8b8, 16, 16, NULL, 64);
        pixman_image_composite32(PIXMAN_OP_SRC, ref.img, NULL, tmp, 5, 4, 0, 0, 0, 0, 16, 16);
        ref_copy(&ref, tmp, 0, 0, 40, 5, 16, 16);
        pixman_image_unref(tmp);
    }

    /* BLEND with XOR: dest ^= src */
    uint32_t pxb[36];
    pixman_image_t *srcb = make_pixels(pxb, 6, 6, 3);
    push_copy(d, 0, QXL_DRAW_BLEND, fake_image(d, 6, 6, pxb), 0, 0, 26, 16, 6, 6,
              SPICE_ROPD_OP_XOR);
    uint32_t *rb = pixman_image_get_data(ref.img);
    for (int y = 0; y < 6; y++) {
        for (int x = 0; x < 6; x++) {
            rb[(16 + y) * W + 26 + x] ^= pxb[y * 6 + x];
        }
    }

    /* OPAQUE: source copied, then AND with a solid brush */
    uint32_t pxo[16];
    pixman_image_t *srco = make_pixels(pxo, 4, 4, 4);
    {
        QXLPHYSICAL p;
        QXLDrawable *dr = fake_drawable(d, 0, QXL_DRAW_OPAQUE, 1, 40, 5, 44, &p);
        dr->u.opaque.src_bitmap = fake_image(d, 4, 4, pxo);
        dr->u.opaque.src_area = (QXLRect){ .top = 0, .left = 0, .bottom = 4, .right = 4 };
        dr->u.opaque.brush.type = SPICE_BRUSH_TYPE_SOLID;
        dr->u.opaque.brush.u.color = 0x00f0f00f;
        dr->u.opaque.rop_descriptor = SPICE_ROPD_OP_AND;
        fake_push(d, false, p, QXL_CMD_DRAW);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                rb[(40 + y) * W + 1 + x] = pxo[y * 4 + x] & 0x00f0f00f;
            }
        }
    }

    /* FILL clipped to two rects */
    {
        QXLPHYSICAL p;
        QXLDrawable *dr = fake_drawable(d, 0, QXL_DRAW_FILL, 0, 22, 64, 28, &p);
        dr->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
        dr->u.fill.brush.u.color = 0x00ff00;
        dr->u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
        QXLRect rects[2] = { { .top = 20, .left = 0, .bottom = 30, .right = 4 },
                             { .top = 24, .left = 60, .bottom = 26, .right = 70 } };
        dr->clip.type = SPICE_CLIP_TYPE_RECTS;
        dr->clip.data = fake_clip(d, rects, 2);
        fake_push(d, false, p, QXL_CMD_DRAW);
        ref_fill(&ref, 0, 22, 4, 28, 0x00ff00);
        ref_fill(&ref, 60, 24, 64, 26, 0x00ff00);
    }

    /* BLACKNESS, WHITENESS, INVERS (no mask) */
    {
        static const uint8_t types[3] = { QXL_DRAW_BLACKNESS, QXL_DRAW_WHITENESS,
                                          QXL_DRAW_INVERS };
        for (int i = 0; i < 3; i++) {
            QXLPHYSICAL p;
            int x0 = 33 + i * 4;
            fake_drawable(d, 0, types[i], x0, 0, x0 + 4, 30, &p);
            fake_push(d, false, p, QXL_CMD_DRAW);
            for (int y = 0; y < 30; y++) {
                for (int x = x0; x < x0 + 4; x++) {
                    uint32_t *px = &rb[y * W + x];
                    *px = i == 0 ? 0 : i == 1 ? 0xffffff : (~*px & 0xffffff);
                }
            }
        }
    }

    QXLRect dirty[32];
    memset(dirty, 0xff, sizeof(dirty));
    update_all(d, 0, W, H, dirty, 32);
    check_surface(&ref, row0, stride, W, H);
    /* Dirty rects: non-empty, inside the surface, zero-terminated. */
    g_assert_true(dirty[0].right > dirty[0].left && dirty[0].bottom > dirty[0].top);
    uint32_t n = 0;
    while (n < 32 && dirty[n].right > dirty[n].left) {
        g_assert_cmpint(dirty[n].left, >=, 0);
        g_assert_cmpint(dirty[n].bottom, <=, H);
        n++;
    }
    /* Cleared: a second update reports nothing. */
    update_all(d, 0, W, H, dirty, 32);
    g_assert_cmpint(dirty[0].right - dirty[0].left, ==, 0);

    pixman_image_unref(src8);
    pixman_image_unref(src16);
    pixman_image_unref(srcb);
    pixman_image_unref(srco);
    pixman_image_unref(ref.img);
    finish(d);
}

/* A QUIC image from the guest (Windows drivers send these): encoded here
 * with our encoder, put in guest memory as QXLImage + one data chunk, and
 * rendered by the worker to exactly the original pixels. A corrupt stream
 * is rejected and the worker keeps rendering. */
static QXLPHYSICAL quic_image(FakeDev *d, uint32_t w, uint32_t h, const uint8_t *quic, size_t n)
{
    QXLPHYSICAL phys;
    QXLImage *img = fake_alloc(d, sizeof(QXLImageDescriptor) + sizeof(QXLQUICData) +
                                  sizeof(QXLDataChunk) + n, &phys);
    img->descriptor.type = SPICE_IMAGE_TYPE_QUIC;
    img->descriptor.width = w;
    img->descriptor.height = h;
    img->quic.data_size = (uint32_t)n;
    QXLDataChunk *chunk = (QXLDataChunk *)img->quic.data;
    chunk->data_size = (uint32_t)n;
    chunk->prev_chunk = 0;
    chunk->next_chunk = 0;
    memcpy(chunk->data, quic, n);
    return phys;
}

static void test_render_quic(void)
{
    enum { QW = 24, QH = 17 };
    uint32_t px[QW * QH];
    for (int y = 0; y < QH; y++) {
        for (int x = 0; x < QW; x++) {
            px[y * QW + x] = (uint32_t)(x * 10) << 16 | (uint32_t)(y * 13) << 8 | (uint32_t)(x ^ y);
        }
    }
    CodecImage ci = { .fmt = SPICE_BITMAP_FMT_32BIT, .width = QW, .height = QH,
                      .stride = QW * 4, .data = (const uint8_t *)px, .top_down = true };
    QuicEncoder *enc = quic_encoder_new();
    CodecBuf buf = { 0 };
    g_assert_true(quic_encode(enc, &ci, &buf));

    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, true, &stride);
    push_copy(d, 0, QXL_DRAW_COPY, quic_image(d, QW, QH, buf.data, buf.len), 0, 0, 5, 7, QW, QH,
              SPICE_ROPD_OP_PUT);
    /* The same stream with its middle trashed: a guest bug, not a crash. */
    uint8_t *bad = g_memdup2(buf.data, buf.len);
    memset(bad + buf.len / 3, 0xa5, buf.len / 3);
    push_copy(d, 0, QXL_DRAW_COPY, quic_image(d, QW, QH, bad, buf.len), 0, 0, 30, 28, QW, QH,
              SPICE_ROPD_OP_PUT);
    push_fill(d, 0, 50, 2, 54, 6, 0x123456, NULL);
    update_all(d, 0, W, H, NULL, 0);
    for (int y = 0; y < QH; y++) {
        for (int x = 0; x < QW; x++) {
            g_assert_cmphex(fake_pixel(row0, stride, 5 + x, 7 + y) & 0xffffff, ==,
                            px[y * QW + x] & 0xffffff);
        }
    }
    g_assert_cmphex(fake_pixel(row0, stride, 51, 3) & 0xffffff, ==, 0x123456);
    g_free(bad);
    codec_buf_clear(&buf);
    quic_encoder_free(enc);
    finish(d);
}

static void test_update_area_async(void)
{
    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, false, &stride);
    Ref ref;
    ref_init(&ref, W, H);
    push_fill(d, 0, 5, 6, 20, 30, 0x123456, NULL);
    ref_fill(&ref, 5, 6, 20, 30, 0x123456);

    QXLRect area = { .top = 0, .left = 0, .bottom = H, .right = W };
    spice_qxl_update_area_async(&d->qxl, 0, &area, 1, 0xabcdef01);
    g_assert_cmpuint(fake_wait_cookie(d, 0xabcdef01), ==, 1);
    check_surface(&ref, row0, stride, W, H);
    g_mutex_lock(&d->lock);
    g_assert_cmpuint(d->update_area_completes, ==, 1);
    g_assert_cmpuint(d->last_n_rects, ==, 1);
    g_assert_cmpint(d->last_rects[0].left, ==, 5);
    g_assert_cmpint(d->last_rects[0].top, ==, 6);
    g_assert_cmpint(d->last_rects[0].right, ==, 20);
    g_assert_cmpint(d->last_rects[0].bottom, ==, 30);
    g_mutex_unlock(&d->lock);

    /* Nothing new: no dirty rects, completion still exactly once. */
    spice_qxl_update_area_async(&d->qxl, 0, &area, 1, 7);
    g_assert_cmpuint(fake_wait_cookie(d, 7), ==, 1);
    g_mutex_lock(&d->lock);
    g_assert_cmpuint(d->last_n_rects, ==, 0);
    g_mutex_unlock(&d->lock);

    /* Bad surface id: still completed once. */
    spice_qxl_update_area_async(&d->qxl, 9999, &area, 1, 8);
    g_assert_cmpuint(fake_wait_cookie(d, 8), ==, 1);

    /* QXL_CMD_UPDATE renders and notifies. */
    push_fill(d, 0, 30, 30, 40, 40, 0x00aa00, NULL);
    ref_fill(&ref, 30, 30, 40, 40, 0x00aa00);
    QXLRect a2 = { .top = 30, .left = 30, .bottom = 40, .right = 40 };
    fake_push(d, false, fake_update_cmd(d, 0, a2, 42), QXL_CMD_UPDATE);
    g_assert_true(fake_wait_all_released(d));
    check_surface(&ref, row0, stride, W, H);
    g_mutex_lock(&d->lock);
    g_assert_cmpuint(d->notified_updates->len, ==, 1);
    g_assert_cmpuint(g_array_index(d->notified_updates, uint32_t, 0), ==, 42);
    g_assert_cmpuint(d->completions, ==, 3);
    g_mutex_unlock(&d->lock);
    pixman_image_unref(ref.img);
    finish(d);
}

static void test_occlusion(void)
{
    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, false, &stride);
    uint32_t a, b, c;
    push_fill(d, 0, 10, 10, 20, 20, 0xff0000, &a);
    push_fill(d, 0, 12, 12, 14, 14, 0x0000ff, &b);
    push_fill(d, 0, 5, 5, 25, 25, 0x00ff00, &c);
    /* a and b are covered by c: released without any render request. */
    g_assert_true(wait_released(d, a));
    g_assert_true(wait_released(d, b));
    g_assert_cmpuint(state_of(d, c), ==, 1);
    QXLRect area = { .top = 0, .left = 0, .bottom = 1, .right = 1 };
    spice_qxl_update_area(&d->qxl, 0, &area, NULL, 0, 0);
    /* Outside the area: c still pending. */
    g_assert_cmpuint(state_of(d, c), ==, 1);
    update_all(d, 0, W, H, NULL, 0);
    g_assert_cmpuint(state_of(d, c), ==, 2);
    g_assert_cmphex(fake_pixel(row0, stride, 12, 12) & 0xffffff, ==, 0x00ff00);

    /* A reader in between keeps what it reads: COPY_BITS reads (10,10)
     * before a fill covers it. */
    uint32_t e;
    push_fill(d, 0, 10, 10, 20, 20, 0xff0000, &e);
    QXLPHYSICAL p;
    QXLDrawable *dr = fake_drawable(d, 0, QXL_COPY_BITS, 40, 10, 50, 20, &p);
    dr->u.copy_bits.src_pos.x = 10;
    dr->u.copy_bits.src_pos.y = 10;
    fake_push(d, false, p, QXL_CMD_DRAW);
    push_fill(d, 0, 0, 0, 30, 30, 0x000000, NULL);
    update_all(d, 0, W, H, NULL, 0);
    g_assert_cmphex(fake_pixel(row0, stride, 45, 15) & 0xffffff, ==, 0xff0000);
    g_assert_cmphex(fake_pixel(row0, stride, 15, 15) & 0xffffff, ==, 0x000000);
    finish(d);
}

static void test_surface_dependency(void)
{
    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, false, &stride);
    uint8_t *smem;
    QXLPHYSICAL create = fake_surface_create(d, 3, 16, 16, &smem);
    uint32_t create_id = (uint32_t)((QXLSurfaceCmd *)(d->mem + (create & 0xffffffffffffull)))
                             ->release_info.id;
    fake_push(d, false, create, QXL_CMD_SURFACE);
    push_fill(d, 3, 0, 0, 16, 16, 0xff0000, NULL);
    /* primary <- surface 3 (red), then surface 3 turns blue. */
    push_copy(d, 0, QXL_DRAW_COPY, fake_surface_image(d, 3), 0, 0, 8, 8, 16, 16,
              SPICE_ROPD_OP_PUT);
    push_fill(d, 3, 0, 0, 16, 16, 0x0000ff, NULL);
    update_all(d, 0, W, H, NULL, 0);
    g_assert_cmphex(fake_pixel(row0, stride, 10, 10) & 0xffffff, ==, 0xff0000);
    update_all(d, 3, 16, 16, NULL, 0);
    g_assert_cmphex(fake_pixel(smem, 64, 3, 3) & 0xffffff, ==, 0x0000ff);

    /* destroy_surface_wait: copy pending, then destroy: afterwards every
     * command of surface 3 is released and the copy rendered. */
    push_fill(d, 3, 0, 0, 16, 16, 0x00ff00, NULL);
    push_copy(d, 0, QXL_DRAW_COPY, fake_surface_image(d, 3), 0, 0, 30, 8, 16, 16,
              SPICE_ROPD_OP_PUT);
    QXLPHYSICAL destroy = fake_surface_destroy(d, 3);
    fake_push(d, false, destroy, QXL_CMD_SURFACE);
    g_assert_cmpuint(state_of(d, create_id), !=, 0);
    spice_qxl_destroy_surface_wait(&d->qxl, 3);
    g_assert_cmpuint(state_of(d, create_id), ==, 2);
    g_assert_cmpuint(d->flush_calls, >=, 1);
    update_all(d, 0, W, H, NULL, 0);
    g_assert_cmphex(fake_pixel(row0, stride, 35, 10) & 0xffffff, ==, 0x00ff00);
    /* The id can be reused at once. */
    fake_push(d, false, fake_surface_create(d, 3, 8, 8, &smem), QXL_CMD_SURFACE);
    push_fill(d, 3, 0, 0, 8, 8, 0x777777, NULL);
    update_all(d, 3, 8, 8, NULL, 0);
    g_assert_cmphex(fake_pixel(smem, 32, 7, 7) & 0xffffff, ==, 0x777777);
    finish(d);
}

static void test_s3_sequence(void)
{
    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, true, &stride);
    uint8_t *smem;
    fake_push(d, false, fake_surface_create(d, 1, 16, 16, &smem), QXL_CMD_SURFACE);
    push_fill(d, 1, 0, 0, 16, 16, 0x445566, NULL);
    push_fill(d, 0, 0, 0, W, H, 0x101010, NULL);
    fake_push(d, true, fake_cursor_cmd(d, QXL_CURSOR_SET), QXL_CMD_CURSOR);
    fake_push(d, true, fake_cursor_cmd(d, QXL_CURSOR_MOVE), QXL_CMD_CURSOR);
    /* (3) FLUSH_SURFACES_ASYNC: everything rendered to device memory. */
    spice_qxl_flush_surfaces_async(&d->qxl, 1);
    g_assert_cmpuint(fake_wait_cookie(d, 1), ==, 1);
    g_assert_cmphex(fake_pixel(smem, 64, 15, 15) & 0xffffff, ==, 0x445566);
    g_assert_cmphex(fake_pixel(row0, stride, W - 1, H - 1) & 0xffffff, ==, 0x101010);
    /* (4) DESTROY_ALL_SURFACES_ASYNC: afterwards the server holds nothing. */
    spice_qxl_destroy_surfaces_async(&d->qxl, 2);
    g_assert_cmpuint(fake_wait_cookie(d, 2), ==, 1);
    g_assert_cmpuint(fake_outstanding(d), ==, 0);
    /* Resume: the guest creates its surfaces again. */
    row0 = fake_create_primary(d, W, H, false, &stride);
    push_fill(d, 0, 1, 1, 2, 2, 0xabcdef, NULL);
    update_all(d, 0, W, H, NULL, 0);
    g_assert_cmphex(fake_pixel(row0, stride, 1, 1) & 0xffffff, ==, 0xabcdef);
    finish(d);
}

static void test_oom(void)
{
    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    fake_create_primary(d, W, H, false, &stride);
    for (int i = 0; i < 40; i++) {
        push_fill(d, 0, i, 0, i + 1, 1, 0x010101u * (uint32_t)i, NULL);
    }
    spice_qxl_oom(&d->qxl);
    g_assert_true(fake_wait_all_released(d));
    /* oom does not wait; a sync request queued behind it returns only once
     * the worker finished it, including its flush_resources call. */
    spice_qxl_reset_image_cache(&d->qxl);
    g_mutex_lock(&d->lock);
    g_assert_cmpuint(d->flush_calls, >=, 1);
    g_mutex_unlock(&d->lock);
    finish(d);
}

static void test_malformed(void)
{
    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, false, &stride);
    QXLPHYSICAL p;
    /* Address outside every slot: nothing to release. */
    fake_push(d, false, ((uint64_t)FAKE_SLOT << 56) | (d->size + 4096), QXL_CMD_DRAW);
    fake_push(d, false, ((uint64_t)5 << 56), QXL_CMD_DRAW);
    /* Unknown command type. */
    /* (Its layout is unknown, so the parser offers no release pointer and
     * the command is not handed back, as upstream: untrack it.) */
    QXLPHYSICAL unknown = fake_update_cmd(d, 0, (QXLRect){ 0 }, 1);
    g_mutex_lock(&d->lock);
    d->state[--d->next_id] = 0;
    d->submitted--;
    g_mutex_unlock(&d->lock);
    fake_push(d, false, unknown, 77);
    /* Drawable on a surface that does not exist / out of range. */
    push_fill(d, 5, 0, 0, 4, 4, 0xffffff, NULL);
    push_fill(d, 10000, 0, 0, 4, 4, 0xffffff, NULL);
    /* Unknown draw type. */
    fake_drawable(d, 0, 200, 0, 0, 4, 4, &p);
    fake_push(d, false, p, QXL_CMD_DRAW);
    /* Bitmap pointer outside the slot. */
    QXLDrawable *dr = fake_drawable(d, 0, QXL_DRAW_COPY, 0, 0, 4, 4, &p);
    dr->u.copy.src_bitmap = ((uint64_t)FAKE_SLOT << 56) | (d->size - 2);
    dr->u.copy.src_area = (QXLRect){ .bottom = 4, .right = 4 };
    dr->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    fake_push(d, false, p, QXL_CMD_DRAW);
    /* Copy from a surface that does not exist. */
    push_copy(d, 0, QXL_DRAW_COPY, fake_surface_image(d, 7), 0, 0, 0, 0, 4, 4,
              SPICE_ROPD_OP_PUT);
    /* Surface create with an absurd size, destroy of a missing surface. */
    uint8_t *smem;
    QXLPHYSICAL sc = fake_surface_create(d, 2, 16, 16, &smem);
    ((QXLSurfaceCmd *)(d->mem + (sc & 0xffffffffffffull)))->u.surface_create.width = 1u << 30;
    fake_push(d, false, sc, QXL_CMD_SURFACE);
    fake_push(d, false, fake_surface_destroy(d, 4), QXL_CMD_SURFACE);
    /* Cursor command on the display ring, draw command on the cursor ring. */
    fake_push(d, false, fake_cursor_cmd(d, QXL_CURSOR_MOVE), QXL_CMD_CURSOR);
    fake_drawable(d, 0, QXL_DRAW_FILL, 0, 0, 4, 4, &p);
    fake_push(d, true, p, QXL_CMD_DRAW);
    /* Bad primary: the worker refuses it and still serves. */
    QXLDevSurfaceCreate bad = { .width = 100000, .height = 2, .stride = 4,
                                .format = SPICE_SURFACE_FMT_32_xRGB, .group_id = 1 };
    spice_qxl_create_primary_surface(&d->qxl, 1, &bad);
    QXLRect area = { .top = 0, .left = 0, .bottom = 4, .right = 4 };
    spice_qxl_update_area(&d->qxl, 77, &area, NULL, 0, 0);

    /* Still serving. */
    push_fill(d, 0, 0, 0, 8, 8, 0x336699, NULL);
    update_all(d, 0, W, H, NULL, 0);
    g_assert_cmphex(fake_pixel(row0, stride, 7, 7) & 0xffffff, ==, 0x336699);
    g_assert_true(fake_wait_all_released(d));
    finish(d);
}

/* A long mixed workload with a small pending bound: fills, copies, surface
 * copies, surface create/destroy, updates, cursor commands. Every command
 * must come back exactly once and the primary must match the reference. */
static void test_long_workload(void)
{
    g_setenv("SPICE_WORKER_MAX_PENDING", "16", TRUE);
    FakeDev *d = fake_dev_new(8, 64 << 20);
    g_unsetenv("SPICE_WORKER_MAX_PENDING");
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, true, &stride);
    Ref ref, sref;
    ref_init(&ref, W, H);
    ref_init(&sref, 16, 16);
    GRand *rnd = g_rand_new_with_seed(1234);
    bool have_surface = false;
    uint32_t px[64];
    pixman_image_t *src = make_pixels(px, 8, 8, 9);
    QXLPHYSICAL img = 0;

    for (int i = 0; i < 3000; i++) {
        int op = g_rand_int_range(rnd, 0, 100);
        int x = g_rand_int_range(rnd, 0, W - 8), y = g_rand_int_range(rnd, 0, H - 8);
        int w = g_rand_int_range(rnd, 1, 9), h = g_rand_int_range(rnd, 1, 9);
        uint32_t color = g_rand_int(rnd) & 0xffffff;
        if (op < 45) {
            push_fill(d, 0, x, y, x + w, y + h, color, NULL);
            ref_fill(&ref, x, y, x + w, y + h, color);
        } else if (op < 65) {
            img = fake_image(d, 8, 8, px);
            push_copy(d, 0, QXL_DRAW_COPY, img, 0, 0, x, y, w, h, SPICE_ROPD_OP_PUT);
            ref_copy(&ref, src, 0, 0, x, y, w, h);
        } else if (op < 75 && have_surface) {
            push_fill(d, 1, x % 16, y % 16, x % 16 + w, y % 16 + h, color, NULL);
            ref_fill(&sref, x % 16, y % 16, MIN(x % 16 + w, 16), MIN(y % 16 + h, 16), color);
        } else if (op < 85 && have_surface) {
            push_copy(d, 0, QXL_DRAW_COPY, fake_surface_image(d, 1), 0, 0, x, y, 8, 8,
                      SPICE_ROPD_OP_PUT);
            ref_copy(&ref, sref.img, 0, 0, x, y, 8, 8);
        } else if (op < 90) {
            uint8_t *smem;
            if (have_surface) {
                fake_push(d, false, fake_surface_destroy(d, 1), QXL_CMD_SURFACE);
            }
            fake_push(d, false, fake_surface_create(d, 1, 16, 16, &smem), QXL_CMD_SURFACE);
            ref_fill(&sref, 0, 0, 16, 16, 0);
            have_surface = true;
        } else if (op < 95) {
            QXLRect a = { .top = y, .left = x, .bottom = y + h, .right = x + w };
            fake_push(d, false, fake_update_cmd(d, 0, a, (uint32_t)i), QXL_CMD_UPDATE);
        } else {
            fake_push(d, true, fake_cursor_cmd(d, op & 1 ? QXL_CURSOR_SET : QXL_CURSOR_MOVE),
                      QXL_CMD_CURSOR);
        }
        if (i % 500 == 499) {
            update_all(d, 0, W, H, NULL, 0);
            check_surface(&ref, row0, stride, W, H);
        }
    }
    update_all(d, 0, W, H, NULL, 0);
    check_surface(&ref, row0, stride, W, H);
    spice_qxl_reset_cursor(&d->qxl);
    g_rand_free(rnd);
    pixman_image_unref(src);
    pixman_image_unref(ref.img);
    pixman_image_unref(sref.img);
    finish(d);
}

static void test_stop_start(void)
{
    FakeDev *d = fake_dev_new(16, 8 << 20);
    int32_t stride;
    uint8_t *row0 = fake_create_primary(d, W, H, false, &stride);
    uint32_t id;
    push_fill(d, 0, 0, 0, 4, 4, 0x0a0b0c, &id);
    QXLRect area = { .top = 0, .left = 0, .bottom = 1, .right = 1 };
    spice_qxl_update_area(&d->qxl, 0, &area, NULL, 0, 0);
    spice_server_vm_stop(d->server);
    /* Stop renders what is pending. */
    g_assert_cmpuint(state_of(d, id), ==, 2);
    g_assert_cmphex(fake_pixel(row0, stride, 3, 3) & 0xffffff, ==, 0x0a0b0c);
    /* While stopped the rings are not read. */
    push_fill(d, 0, 0, 0, 4, 4, 0x111111, &id);
    spice_qxl_wakeup(&d->qxl);
    spice_qxl_update_area(&d->qxl, 0, &area, NULL, 0, 0);
    g_assert_cmpuint(state_of(d, id), ==, 1);
    spice_server_vm_start(d->server);
    spice_qxl_update_area(&d->qxl, 0, &area, NULL, 0, 0);
    g_assert_cmpuint(state_of(d, id), ==, 2);
    g_assert_cmphex(fake_pixel(row0, stride, 0, 0) & 0xffffff, ==, 0x111111);
    /* Misc entry points must not crash. */
    spice_qxl_reset_image_cache(&d->qxl);
    spice_qxl_set_device_info(&d->qxl, "pci/0000/02.0", 0, 1);
    spice_qxl_driver_unload(&d->qxl);
    spice_qxl_del_memslot(&d->qxl, 0, 3);
    spice_qxl_loadvm_commands(&d->qxl, NULL, 0);
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    spice_qxl_set_max_monitors(&d->qxl, 2);
    G_GNUC_END_IGNORE_DEPRECATIONS

    /* loadvm: a surface create (data kept) and a cursor SET, as QEMU's
     * post_load replays them. */
    uint8_t *smem;
    QXLCommandExt cmds[2];
    memset(cmds, 0, sizeof(cmds));
    cmds[0].cmd.data = fake_surface_create(d, 2, 8, 8, &smem);
    cmds[0].cmd.type = QXL_CMD_SURFACE;
    cmds[0].group_id = FAKE_GROUP;
    cmds[1].cmd.data = fake_cursor_cmd(d, QXL_CURSOR_SET);
    cmds[1].cmd.type = QXL_CMD_CURSOR;
    cmds[1].group_id = FAKE_GROUP;
    memset(smem, 0x5a, 8 * 8 * 4);
    spice_qxl_loadvm_commands(&d->qxl, cmds, 2);
    g_assert_cmphex(fake_pixel(smem, 32, 4, 4), ==, 0x5a5a5a5a);
    push_fill(d, 2, 0, 0, 2, 2, 0x00ff00, NULL);
    update_all(d, 2, 8, 8, NULL, 0);
    g_assert_cmphex(fake_pixel(smem, 32, 1, 1) & 0xffffff, ==, 0x00ff00);
    g_assert_cmphex(fake_pixel(smem, 32, 4, 4), ==, 0x5a5a5a5a);

    /* monitors config: a valid one and one outside the slot, each completed
     * exactly once. */
    QXLPHYSICAL mp;
    QXLMonitorsConfig *mc = fake_alloc(d, sizeof(*mc) + 2 * sizeof(QXLHead), &mp);
    mc->count = 2;
    mc->max_allowed = 2;
    mc->heads[0] = (QXLHead){ .id = 0, .width = 32, .height = 48 };
    mc->heads[1] = (QXLHead){ .id = 1, .x = 32, .width = 32, .height = 48 };
    spice_qxl_monitors_config_async(&d->qxl, mp, FAKE_GROUP, 100);
    spice_qxl_monitors_config_async(&d->qxl, ((uint64_t)FAKE_SLOT << 56) | d->size, FAKE_GROUP,
                                    101);
    g_assert_cmpuint(fake_wait_cookie(d, 100), ==, 1);
    g_assert_cmpuint(fake_wait_cookie(d, 101), ==, 1);
    finish(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* Guest-bug warnings are expected here (malformed commands). */
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
    g_test_add_func("/worker/render-draw-types", test_render_draw_types);
    g_test_add_func("/worker/render-quic", test_render_quic);
    g_test_add_func("/worker/update-area-async", test_update_area_async);
    g_test_add_func("/worker/occlusion", test_occlusion);
    g_test_add_func("/worker/surface-dependency", test_surface_dependency);
    g_test_add_func("/worker/s3-sequence", test_s3_sequence);
    g_test_add_func("/worker/oom", test_oom);
    g_test_add_func("/worker/malformed", test_malformed);
    g_test_add_func("/worker/long-workload", test_long_workload);
    g_test_add_func("/worker/stop-start", test_stop_start);
    return g_test_run();
}
