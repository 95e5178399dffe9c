/* Parser tests over fake device memory: every command type, then malformed
 * commands (bad pointers, generations, loops, sizes, surface ids, strides,
 * formats, types). */
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include "tests/unit/qxl/fake-qxl.h"

#define MEM_SIZE (1u << 20)

static FakeQxl f;

static void setup(void)
{
    fake_qxl_init(&f, MEM_SIZE);
}

static void teardown(void)
{
    fake_qxl_finish(&f);
}

static RedDrawable *parse_draw(QXLPHYSICAL ph, uint32_t flags, GError **err)
{
    QXLReleaseInfoExt rel;
    RedDrawable *d = red_parse_drawable(&f.ctx, FAKE_GROUP, ph, flags, &rel, err);
    if (d) {
        g_assert_true(d->release.info == rel.info);
        g_assert_cmpuint(rel.group_id, ==, FAKE_GROUP);
    }
    return d;
}

/* Expects a rejection whose message names `needle`. */
static void expect_draw_fail(QXLPHYSICAL ph, uint32_t flags, const char *needle)
{
    GError *err = NULL;
    QXLReleaseInfoExt rel;
    RedDrawable *d = red_parse_drawable(&f.ctx, FAKE_GROUP, ph, flags, &rel, &err);
    g_assert_null(d);
    g_assert_nonnull(err);
    g_assert_true(g_str_has_prefix(err->message, "guest bug: "));
    if (!strstr(err->message, needle)) {
        g_error("message '%s' lacks '%s'", err->message, needle);
    }
    g_error_free(err);
}

/* ---- valid commands ---- */

static void test_fill_solid_clip(void)
{
    setup();
    QXLPHYSICAL ph;
    QXLDrawable *q = fake_drawable(&f, QXL_DRAW_FILL, &ph);
    q->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    q->u.fill.brush.u.color = 0x123456;
    q->u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    q->clip.type = SPICE_CLIP_TYPE_RECTS;
    q->clip.data = fake_clip_rects(&f, 5, 3);
    GError *err = NULL;
    RedDrawable *d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(d);
    g_assert_cmpuint(d->type, ==, QXL_DRAW_FILL);
    g_assert_cmphex(d->u.fill.brush.u.color, ==, 0x123456);
    g_assert_cmpuint(d->clip.num_rects, ==, 5);
    g_assert_cmpint(d->clip.rects[4].left, ==, 4);
    g_assert_cmpint(d->clip.rects[4].right, ==, 7);
    g_assert_cmpint(d->bbox.right, ==, 16);
    g_assert_cmpint(d->surfaces_dest[0], ==, -1);
    g_assert_true((void *)d->release.info == (void *)q);
    red_drawable_ref(d);
    red_drawable_unref(d);
    red_drawable_unref(d);
    teardown();
}

static void check_pixels(const RedBitmap *b)
{
    size_t size;
    const uint8_t *p = red_bitmap_get_data(b, &size);
    g_assert_cmpuint(size, ==, (size_t)b->stride * b->height);
    for (size_t i = 0; i < size; i++) {
        g_assert_cmpuint(p[i], ==, (uint8_t)(i * 7 + 1));
    }
}

static void test_copy_bitmap_chunks(void)
{
    setup();
    for (unsigned nchunks = 1; nchunks <= 4; nchunks++) {
        QXLPHYSICAL ph;
        QXLDrawable *q = fake_drawable(&f, QXL_DRAW_COPY, &ph);
        q->u.copy.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_32BIT, 10, 7, 44, nchunks, false, 0);
        q->u.copy.src_area = (QXLRect){ .top = 0, .left = 0, .bottom = 7, .right = 10 };
        q->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
        GError *err = NULL;
        RedDrawable *d = parse_draw(ph, 0, &err);
        g_assert_no_error(err);
        RedImage *img = d->u.copy.src_bitmap;
        g_assert_cmpuint(img->type, ==, SPICE_IMAGE_TYPE_BITMAP);
        g_assert_cmpuint(img->flags, ==, SPICE_IMAGE_FLAGS_CACHE_ME);
        g_assert_cmpuint(img->u.bitmap.width, ==, 10);
        g_assert_cmpuint(img->u.bitmap.flags, ==, SPICE_BITMAP_FLAGS_TOP_DOWN);
        /* One chunk is referenced in place; several stay in place as a
         * chunk list and are gathered only when one buffer is asked for. */
        g_assert_null(img->u.bitmap.owned_data);
        if (nchunks == 1) {
            g_assert_true(img->u.bitmap.data >= f.mem && img->u.bitmap.data < f.mem + f.size);
            g_assert_null(img->u.bitmap.chunks);
        } else {
            g_assert_null(img->u.bitmap.data);
            g_assert_cmpuint(img->u.bitmap.n_chunks, ==, nchunks);
            size_t sum = 0;
            for (uint32_t i = 0; i < img->u.bitmap.n_chunks; i++) {
                const uint8_t *cd = img->u.bitmap.chunks[i].data;
                g_assert_true(cd >= f.mem && cd < f.mem + f.size);
                sum += img->u.bitmap.chunks[i].size;
            }
            g_assert_cmpuint(sum, ==, img->u.bitmap.data_size);
        }
        check_pixels(&img->u.bitmap);
        g_assert_true((img->u.bitmap.owned_data == NULL) == (nchunks == 1));
        check_pixels(&img->u.bitmap);   /* gathered once, then cached */
        red_drawable_unref(d);
    }
    teardown();
}

static void test_opaque_palette_direct_mask(void)
{
    setup();
    QXLPHYSICAL ph;
    QXLDrawable *q = fake_drawable(&f, QXL_DRAW_OPAQUE, &ph);
    q->u.opaque.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_8BIT, 5, 5, 8, 1, true,
                                         fake_palette(&f, 3));
    q->u.opaque.src_area = (QXLRect){ .top = 1, .left = 1, .bottom = 5, .right = 5 };
    q->u.opaque.brush.type = SPICE_BRUSH_TYPE_PATTERN;
    q->u.opaque.brush.u.pattern.pat = fake_bitmap(&f, SPICE_BITMAP_FMT_32BIT, 8, 8, 32, 2, false, 0);
    q->u.opaque.brush.u.pattern.pos = (QXLPoint){ 3, 4 };
    q->u.opaque.mask.bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_1BIT_BE, 16, 16, 2, 1, false, 0);
    q->u.opaque.mask.flags = SPICE_MASK_FLAGS_INVERS;
    GError *err = NULL;
    RedDrawable *d = parse_draw(ph, QXL_COMMAND_FLAG_COMPAT_16BPP & 0, &err);
    g_assert_no_error(err);
    RedBitmap *b = &d->u.opaque.src_bitmap->u.bitmap;
    g_assert_nonnull(b->palette);
    g_assert_cmpuint(b->palette->num_ents, ==, 3);
    g_assert_cmphex(b->palette->ents[2], ==, 0x020202);
    g_assert_cmphex(b->palette->ents[255], ==, 0);
    check_pixels(b);
    g_assert_nonnull(d->u.opaque.brush.u.pattern.pat);
    g_assert_cmpint(d->u.opaque.brush.u.pattern.pos.y, ==, 4);
    check_pixels(&d->u.opaque.brush.u.pattern.pat->u.bitmap);
    g_assert_nonnull(d->u.opaque.mask.bitmap);
    g_assert_null(d->u.opaque.mask.bitmap->u.bitmap.palette);
    g_assert_cmpuint(d->u.opaque.mask.flags, ==, SPICE_MASK_FLAGS_INVERS);
    red_drawable_unref(d);
    teardown();
}

static void test_16bpp_colors(void)
{
    setup();
    QXLPHYSICAL ph;
    QXLDrawable *q = fake_drawable(&f, QXL_DRAW_FILL, &ph);
    q->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    q->u.fill.brush.u.color = 0x7fff;
    RedDrawable *d = parse_draw(ph, QXL_COMMAND_FLAG_COMPAT_16BPP, NULL);
    g_assert_nonnull(d);
    g_assert_cmphex(d->u.fill.brush.u.color, ==, 0xffffff);
    red_drawable_unref(d);
    teardown();
}

static void test_other_draw_types(void)
{
    setup();
    QXLPHYSICAL ph;
    GError *err = NULL;
    QXLDrawable *q;
    RedDrawable *d;

    q = fake_drawable(&f, QXL_DRAW_STROKE, &ph);
    q->u.stroke.path = fake_path(&f, 3);
    q->u.stroke.brush.type = SPICE_BRUSH_TYPE_SOLID;
    q->u.stroke.attr.flags = SPICE_LINE_FLAGS_STYLED;
    q->u.stroke.attr.style_nseg = 2;
    QXLPHYSICAL style_ph;
    int32_t *style = fake_alloc(&f, 8, &style_ph);
    q->u.stroke.attr.style = style_ph;
    style[0] = 16;
    style[1] = 32;
    d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(d->u.stroke.path->num_segments, ==, 3);
    g_assert_cmpuint(d->u.stroke.path->segments[2].count, ==, 3);
    g_assert_cmpint(d->u.stroke.path->segments[2].points[1].x, ==, 33);
    g_assert_cmpint(d->u.stroke.attr.style[1], ==, 32);
    red_drawable_unref(d);

    q = fake_drawable(&f, QXL_DRAW_TEXT, &ph);
    q->u.text.str = fake_string(&f, 4);
    q->u.text.fore_brush.type = SPICE_BRUSH_TYPE_SOLID;
    q->u.text.back_area = (QXLRect){ 0, 0, 10, 10 };
    d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(d->u.text.str->length, ==, 4);
    g_assert_cmpuint(d->u.text.str->bpp, ==, 8);
    g_assert_cmpuint(d->u.text.str->glyphs[3].data[5], ==, 0xa3);
    g_assert_cmpint(d->u.text.str->glyphs[3].render_pos.x, ==, 12);
    red_drawable_unref(d);
    /* Without a back brush, back_area is ignored (drivers leave garbage). */
    q->u.text.back_area = (QXLRect){ .top = 9, .left = 9, .bottom = 1, .right = 1 };
    d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpint(d->u.text.back_area.right, ==, 0);
    red_drawable_unref(d);
    q->u.text.back_brush.type = SPICE_BRUSH_TYPE_SOLID;
    expect_draw_fail(ph, 0, "text back area");

    static const uint8_t simple[] = { QXL_DRAW_NOP, QXL_DRAW_BLACKNESS, QXL_DRAW_WHITENESS,
                                      QXL_DRAW_INVERS, QXL_COPY_BITS };
    for (size_t i = 0; i < G_N_ELEMENTS(simple); i++) {
        q = fake_drawable(&f, simple[i], &ph);
        q->u.copy_bits.src_pos = (QXLPoint){ 1, 2 };
        d = parse_draw(ph, 0, &err);
        g_assert_no_error(err);
        g_assert_cmpuint(d->type, ==, simple[i]);
        red_drawable_unref(d);
    }

    q = fake_drawable(&f, QXL_DRAW_ROP3, &ph);
    q->u.rop3.src_bitmap = fake_surface_image(&f, 3);
    q->u.rop3.src_area = (QXLRect){ 0, 0, 4, 4 };
    q->u.rop3.rop3 = 0xcc;
    q->surfaces_dest[0] = 3;
    q->surfaces_rects[0] = (QXLRect){ 0, 0, 4, 4 };
    d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(d->u.rop3.src_bitmap->u.surface_id, ==, 3);
    g_assert_cmpint(d->surfaces_dest[0], ==, 3);
    red_drawable_unref(d);

    q = fake_drawable(&f, QXL_DRAW_TRANSPARENT, &ph);
    q->u.transparent.src_bitmap = fake_quic_image(&f, 20, 20, 300, 3);
    q->u.transparent.src_area = (QXLRect){ 0, 0, 20, 20 };
    d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    RedQuic *qq = &d->u.transparent.src_bitmap->u.quic;
    g_assert_cmpuint(qq->data_size, ==, 300);
    g_assert_nonnull(qq->owned_data);
    for (unsigned i = 0; i < 300; i++) {
        g_assert_cmpuint(qq->data[i], ==, (uint8_t)i);
    }
    red_drawable_unref(d);

    q = fake_drawable(&f, QXL_DRAW_ALPHA_BLEND, &ph);
    q->u.alpha_blend.alpha = 128;
    q->u.alpha_blend.alpha_flags = SPICE_ALPHA_FLAGS_DEST_HAS_ALPHA;
    q->u.alpha_blend.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_RGBA, 4, 4, 16, 1, false, 0);
    q->u.alpha_blend.src_area = (QXLRect){ 0, 0, 4, 4 };
    d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(d->u.alpha_blend.alpha, ==, 128);
    red_drawable_unref(d);

    q = fake_drawable(&f, QXL_DRAW_BLEND, &ph);
    q->u.blend.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_24BIT, 4, 4, 12, 1, false, 0);
    q->u.blend.src_area = (QXLRect){ 0, 0, 4, 4 };
    q->self_bitmap = 1;
    d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    g_assert_false(d->self_bitmap);
    red_drawable_unref(d);

    q = fake_drawable(&f, QXL_DRAW_COMPOSITE, &ph);
    q->u.composite.flags = QXL_OP_OVER | SPICE_COMPOSITE_HAS_MASK;
    q->u.composite.src = fake_bitmap(&f, SPICE_BITMAP_FMT_RGBA, 4, 4, 16, 1, false, 0);
    QXLPHYSICAL t_ph;
    QXLTransform *t = fake_alloc(&f, sizeof(*t), &t_ph);
    q->u.composite.src_transform = t_ph;
    t->t00 = 0x10000;
    d = parse_draw(ph, 0, &err);
    g_assert_no_error(err);
    /* HAS_MASK came from the guest without a mask: ours to decide. */
    g_assert_cmphex(d->u.composite.flags, ==, QXL_OP_OVER | SPICE_COMPOSITE_HAS_SRC_TRANSFORM);
    g_assert_cmphex(d->u.composite.src_transform.t00, ==, 0x10000);
    g_assert_null(d->u.composite.mask_bitmap);
    red_drawable_unref(d);
    teardown();
}

static void test_compat_drawable(void)
{
    setup();
    QXLPHYSICAL ph;
    QXLCompatDrawable *q = fake_alloc(&f, sizeof(*q), &ph);
    q->type = QXL_COPY_BITS;
    q->effect = QXL_EFFECT_OPAQUE;
    q->bbox = (QXLRect){ .top = 10, .left = 20, .bottom = 30, .right = 60 };
    q->u.copy_bits.src_pos = (QXLPoint){ 5, 6 };
    GError *err = NULL;
    RedDrawable *d = parse_draw(ph, QXL_COMMAND_FLAG_COMPAT, &err);
    g_assert_no_error(err);
    g_assert_cmpint(d->surfaces_dest[0], ==, 0);
    g_assert_cmpint(d->surfaces_rects[0].right, ==, 45);
    g_assert_cmpint(d->surfaces_rects[0].bottom, ==, 26);
    red_drawable_unref(d);

    q = fake_alloc(&f, sizeof(*q), &ph);
    q->type = QXL_DRAW_ALPHA_BLEND;
    q->bbox = (QXLRect){ 0, 0, 4, 4 };
    q->u.alpha_blend.alpha = 9;
    q->u.alpha_blend.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_32BIT, 4, 4, 16, 1, false, 0);
    q->u.alpha_blend.src_area = (QXLRect){ 0, 0, 4, 4 };
    d = parse_draw(ph, QXL_COMMAND_FLAG_COMPAT, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(d->u.alpha_blend.alpha, ==, 9);
    g_assert_cmpuint(d->surface_id, ==, 0);
    red_drawable_unref(d);

    q = fake_alloc(&f, sizeof(*q), &ph);
    q->type = QXL_COPY_BITS;
    q->bbox = (QXLRect){ .top = 0, .left = 0, .bottom = 1, .right = 10 };
    q->u.copy_bits.src_pos = (QXLPoint){ INT32_MAX - 5, 0 };
    expect_draw_fail(ph, QXL_COMMAND_FLAG_COMPAT, "copy bits");
    teardown();
}

static void test_other_commands(void)
{
    setup();
    GError *err = NULL;
    QXLReleaseInfoExt rel;

    QXLPHYSICAL ph = fake_update_cmd(&f, 2);
    RedUpdateCmd *u = red_parse_update_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(u->surface_id, ==, 2);
    g_assert_cmpint(u->area.right, ==, 40);
    g_assert_cmpuint(u->update_id, ==, 7);
    red_update_cmd_free(u);

    ph = fake_message(&f, "hello\x01 guest");
    RedMessage *m = red_parse_message(&f.ctx, FAKE_GROUP, ph, &rel, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(m->text, ==, "hello? guest");
    g_assert_cmpuint(m->len, ==, 12);
    red_message_free(m);

    QXLSurfaceCmd *sc;
    ph = fake_surface_create(&f, 5, 64, 32, -256, SPICE_SURFACE_FMT_32_xRGB, &sc);
    RedSurfaceCmd *s = red_parse_surface_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(s->surface_id, ==, 5);
    g_assert_cmpuint(s->mem_size, ==, 256 * 32);
    g_assert_true(s->line_0 == s->mem + 31 * 256);
    g_assert_true(rel.info == (QXLReleaseInfo *)sc);
    red_surface_cmd_free(s);

    sc->type = QXL_SURFACE_CMD_DESTROY;
    s = red_parse_surface_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(s->type, ==, QXL_SURFACE_CMD_DESTROY);
    red_surface_cmd_free(s);

    ph = fake_cursor_cmd_set(&f, 32, 32, 3);
    RedCursorCmd *c = red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(c->u.set.shape.width, ==, 32);
    g_assert_cmpuint(c->u.set.shape.data_size, ==, 32 * 32 * 4);
    g_assert_cmpuint(c->u.set.shape.data[4095], ==, 0x5a);
    g_assert_cmpint(c->u.set.position.y, ==, 6);
    red_cursor_cmd_free(c);

    QXLCursorCmd *cc = fake_alloc(&f, sizeof(*cc), &ph);
    cc->type = QXL_CURSOR_MOVE;
    cc->u.position = (QXLPoint16){ -3, 9 };
    c = red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err);
    g_assert_no_error(err);
    g_assert_cmpint(c->u.position.x, ==, -3);
    red_cursor_cmd_free(c);

    /* The by-type entry point. */
    QXLCommandExt ext = { .cmd = { .data = fake_update_cmd(&f, 1), .type = QXL_CMD_UPDATE },
                          .group_id = FAKE_GROUP };
    RedCommand cmd;
    g_assert_true(red_parse_command(&f.ctx, &ext, &cmd, &rel, &err));
    g_assert_cmpuint(cmd.type, ==, QXL_CMD_UPDATE);
    red_command_clear(&cmd);
    g_assert_cmpuint(cmd.type, ==, QXL_CMD_NOP);
    ext.cmd.type = 99;
    g_assert_false(red_parse_command(&f.ctx, &ext, &cmd, &rel, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_UNSUPPORTED);
    g_assert_null(rel.info);
    g_clear_error(&err);
    teardown();
}

static void test_primary(void)
{
    setup();
    QXLPHYSICAL mem;
    fake_alloc(&f, 64 * 48 * 4, &mem);
    RedPrimaryRequest req = { .width = 64, .height = 48, .stride = -256,
                              .format = SPICE_SURFACE_FMT_32_xRGB, .mem = mem,
                              .group_id = FAKE_GROUP };
    RedPrimarySurface p;
    GError *err = NULL;
    g_assert_true(red_parse_primary(&f.ctx, &req, &p, &err));
    g_assert_no_error(err);
    g_assert_true(p.line_0 == p.mem + 47 * 256);
    req.height = 49;            /* one row more than the memory holds... */
    req.mem = fake_phys(&f, f.mem + f.size - 64 * 48 * 4);
    g_assert_false(red_parse_primary(&f.ctx, &req, &p, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_ADDRESS);
    g_clear_error(&err);
    req.height = 48;
    req.stride = INT32_MIN;
    g_assert_false(red_parse_primary(&f.ctx, &req, &p, &err));
    g_clear_error(&err);
    req.stride = 255;           /* < 64 * 4 */
    g_assert_false(red_parse_primary(&f.ctx, &req, &p, &err));
    g_clear_error(&err);
    req.stride = 256;
    req.format = 31;
    g_assert_false(red_parse_primary(&f.ctx, &req, &p, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_UNSUPPORTED);
    g_clear_error(&err);
    teardown();
}

/* ---- malformed ---- */

static void test_bad_pointers(void)
{
    setup();
    GError *err = NULL;
    QXLReleaseInfoExt rel;
    /* Outside any slot, wrong generation, wrong group, end of slot. */
    QXLPHYSICAL outside = memslot_make_addr(f.slots, FAKE_SLOT, FAKE_GEN, FAKE_GUEST_BASE + MEM_SIZE);
    QXLPHYSICAL ph;
    fake_drawable(&f, QXL_DRAW_NOP, &ph);
    expect_draw_fail(outside, 0, "outside its memslot");
    expect_draw_fail(ph ^ (UINT64_C(1) << 48), 0, "generation");
    expect_draw_fail(memslot_make_addr(f.slots, 7, FAKE_GEN, FAKE_GUEST_BASE), 0, "not in use");
    g_assert_null(red_parse_drawable(&f.ctx, 0, ph, 0, &rel, &err));
    g_assert_null(rel.info);
    g_clear_error(&err);
    /* A drawable whose last byte is past the slot end. */
    QXLPHYSICAL tail = fake_phys(&f, f.mem + MEM_SIZE - sizeof(QXLDrawable) + 1);
    expect_draw_fail(tail, 0, "drawable");
    /* Release info is reported when the header was readable. */
    QXLDrawable *q = fake_drawable(&f, QXL_DRAW_COPY, &ph);
    q->u.copy.src_bitmap = outside;
    g_assert_null(red_parse_drawable(&f.ctx, FAKE_GROUP, ph, 0, &rel, &err));
    g_assert_true(rel.info == (QXLReleaseInfo *)q);
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_ADDRESS);
    g_clear_error(&err);
    /* Missing source image. */
    q->u.copy.src_bitmap = 0;
    expect_draw_fail(ph, 0, "no image");
    /* Message running to the slot end without a NUL. */
    QXLMessage *m = (QXLMessage *)(f.mem + MEM_SIZE - 16);
    memset(m, 'a', 16);
    g_assert_null(red_parse_message(&f.ctx, FAKE_GROUP, fake_phys(&f, m), &rel, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_LIMIT);
    g_clear_error(&err);
    teardown();
}

static void test_chunk_loops_and_limits(void)
{
    setup();
    QXLPHYSICAL ph;
    QXLDrawable *q = fake_drawable(&f, QXL_DRAW_FILL, &ph);
    q->clip.type = SPICE_CLIP_TYPE_RECTS;
    q->clip.data = fake_clip_rects(&f, 4, 2);
    QXLClipRects *cr = (QXLClipRects *)(f.mem + (q->clip.data - memslot_make_addr(f.slots,
                                        FAKE_SLOT, FAKE_GEN, FAKE_GUEST_BASE)));
    /* Second chunk points back to the first (inline) one. */
    QXLDataChunk *second = memslot_get_virt(f.slots, FAKE_GROUP, cr->chunk.next_chunk,
                                            sizeof(QXLDataChunk), NULL);
    g_assert_nonnull(second);
    QXLPHYSICAL first_chunk;
    g_assert_true(memslot_addr_add(f.slots, q->clip.data, offsetof(QXLClipRects, chunk),
                                   &first_chunk));
    second->next_chunk = first_chunk;
    expect_draw_fail(ph, 0, "loops");
    /* Self loop. */
    second->next_chunk = cr->chunk.next_chunk;
    expect_draw_fail(ph, 0, "loops");

    /* A long list of empty chunks looping far back: hash-set path. */
    QXLPHYSICAL head = 0, prev_ph = 0;
    QXLDataChunk *prev = NULL;
    for (int i = 0; i < 100; i++) {
        QXLPHYSICAL c_ph;
        QXLDataChunk *c = fake_alloc(&f, sizeof(*c), &c_ph);
        if (prev) {
            prev->next_chunk = c_ph;
        } else {
            head = c_ph;
        }
        prev = c;
        prev_ph = c_ph;
    }
    (void)prev_ph;
    prev->next_chunk = head;
    q = fake_drawable(&f, QXL_DRAW_COPY, &ph);
    q->u.copy.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_32BIT, 1, 1, 4, 1, false, 0);
    q->u.copy.src_area = (QXLRect){ 0, 0, 1, 1 };
    QXLImage *img = memslot_get_virt(f.slots, FAKE_GROUP, q->u.copy.src_bitmap, sizeof(QXLImage), NULL);
    img->bitmap.data = head;
    expect_draw_fail(ph, 0, "loops");

    /* Chunk data_size beyond the slot and beyond the limit. */
    QXLPHYSICAL c_ph;
    QXLDataChunk *big = fake_alloc(&f, sizeof(*big) + 4, &c_ph);
    big->data_size = MEM_SIZE;
    img->bitmap.data = c_ph;
    expect_draw_fail(ph, 0, "outside its memslot");
    big->data_size = 0xffffffffu;
    expect_draw_fail(ph, 0, "exceeds");
    /* Chunk total not equal to stride*height. */
    big->data_size = 3;
    expect_draw_fail(ph, 0, "stride*height");
    teardown();
}

/* Per-command budget over all chunk lists: three images sharing one 256 MiB
 * in-place chunk (address space only: PROT_NONE beyond the header page,
 * single chunks are not read by the parser). */
static void test_command_budget(void)
{
    setup();
    size_t big = (size_t)1 << 30;
    uint8_t *m = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    g_assert_true(m != MAP_FAILED);
    g_assert_cmpint(mprotect(m, 4096, PROT_READ | PROT_WRITE), ==, 0);
    g_assert_cmpint(memslot_add(f.slots, FAKE_GROUP, 2, 0, (uintptr_t)m, (uintptr_t)m + big,
                                (uintptr_t)m), ==, MEMSLOT_OK);
    QXLDataChunk *c = (QXLDataChunk *)m;
    c->data_size = RED_QXL_MAX_DATA_SIZE;
    QXLPHYSICAL img_ph;
    QXLImage *img = fake_alloc(&f, sizeof(QXLImage), &img_ph);
    img->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
    img->bitmap = (QXLBitmap){ .format = SPICE_BITMAP_FMT_32BIT, .x = 8192, .y = 8192,
                               .stride = 8192 * 4, .data = memslot_make_addr(f.slots, 2, 0, 0) };
    QXLPHYSICAL ph;
    QXLDrawable *q = fake_drawable(&f, QXL_DRAW_OPAQUE, &ph);
    q->u.opaque.src_bitmap = img_ph;
    q->u.opaque.src_area = (QXLRect){ 0, 0, 16, 16 };
    q->u.opaque.brush.type = SPICE_BRUSH_TYPE_PATTERN;
    q->u.opaque.brush.u.pattern.pat = img_ph;
    GError *err = NULL;
    RedDrawable *d = parse_draw(ph, 0, &err);   /* exactly RED_QXL_MAX_CMD_DATA */
    g_assert_no_error(err);
    g_assert_true(d->u.opaque.src_bitmap->u.bitmap.data == m + sizeof(QXLDataChunk));
    red_drawable_unref(d);
    q->u.opaque.mask.bitmap = img_ph;
    expect_draw_fail(ph, 0, "command data exceeds");
    munmap(m, big);
    teardown();
}

static void test_bad_bitmaps(void)
{
    setup();
    struct {
        uint8_t format;
        uint32_t w, h, stride;
        const char *needle;
    } cases[] = {
        { 0, 4, 4, 16, "format 0 unknown" },
        { 11, 4, 4, 16, "format 11 unknown" },
        { SPICE_BITMAP_FMT_32BIT, 4, 4, 15, "stride 15 < 16" },
        { SPICE_BITMAP_FMT_1BIT_BE, 17, 1, 2, "stride 2 < 3" },
        { SPICE_BITMAP_FMT_32BIT, 0, 4, 16, "outside 1.." },
        { SPICE_BITMAP_FMT_32BIT, 40000, 1, 160000, "outside 1.." },
        { SPICE_BITMAP_FMT_32BIT, 30000, 30000, 120000, "exceeds" },
        { SPICE_BITMAP_FMT_8BIT, 4, 4, 4, "without a palette" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        QXLPHYSICAL ph;
        QXLDrawable *q = fake_drawable(&f, QXL_DRAW_COPY, &ph);
        q->u.copy.src_area = (QXLRect){ 0, 0, 1, 1 };
        QXLPHYSICAL img_ph;
        QXLImage *img = fake_alloc(&f, sizeof(QXLImage), &img_ph);
        img->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
        img->bitmap = (QXLBitmap){ .format = cases[i].format, .x = cases[i].w, .y = cases[i].h,
                                   .stride = cases[i].stride, .flags = QXL_BITMAP_DIRECT };
        QXLPHYSICAL data;
        fake_alloc(&f, 64, &data);
        img->bitmap.data = data;
        q->u.copy.src_bitmap = img_ph;
        expect_draw_fail(ph, 0, cases[i].needle);
    }
    /* Source area outside the bitmap, inverted, negative. */
    QXLPHYSICAL ph;
    QXLDrawable *q = fake_drawable(&f, QXL_DRAW_COPY, &ph);
    q->u.copy.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_32BIT, 4, 4, 16, 1, false, 0);
    q->u.copy.src_area = (QXLRect){ .top = 0, .left = 0, .bottom = 5, .right = 4 };
    expect_draw_fail(ph, 0, "outside the 4x4 bitmap");
    q->u.copy.src_area = (QXLRect){ .top = 0, .left = 3, .bottom = 4, .right = 2 };
    expect_draw_fail(ph, 0, "inverted");
    q->u.copy.src_area = (QXLRect){ .top = -1, .left = 0, .bottom = 4, .right = 2 };
    expect_draw_fail(ph, 0, "negative");
    /* Palette too big, and one past the slot end. */
    q->u.copy.src_area = (QXLRect){ 0, 0, 4, 4 };
    q->u.copy.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_8BIT, 4, 4, 4, 1, false,
                                       fake_palette(&f, 257));
    expect_draw_fail(ph, 0, "257 entries");
    QXLPalette *pal = (QXLPalette *)(f.mem + MEM_SIZE - sizeof(QXLPalette) - 8);
    pal->num_ents = 3;          /* needs 12 bytes, 8 left */
    q->u.copy.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_8BIT, 4, 4, 4, 1, false,
                                       fake_phys(&f, pal));
    expect_draw_fail(ph, 0, "palette entries");
    /* Unsupported image type (LZ from a guest) and bad surface image. */
    QXLPHYSICAL img_ph;
    QXLImage *img = fake_alloc(&f, sizeof(QXLImage), &img_ph);
    img->descriptor.type = SPICE_IMAGE_TYPE_LZ_RGB;
    q->u.copy.src_bitmap = img_ph;
    expect_draw_fail(ph, 0, "image type 101");
    q->u.copy.src_bitmap = fake_surface_image(&f, FAKE_N_SURFACES);
    expect_draw_fail(ph, 0, "surface id 16");
    q->u.copy.src_bitmap = fake_quic_image(&f, 4, 4, 100, 2);
    QXLImage *qi = memslot_get_virt(f.slots, FAKE_GROUP, q->u.copy.src_bitmap, 22, NULL);
    qi->quic.data_size = 99;
    expect_draw_fail(ph, 0, "QUIC data_size 99");
    teardown();
}

static void test_bad_fields(void)
{
    setup();
    QXLPHYSICAL ph;
    QXLDrawable *q = fake_drawable(&f, 15, &ph);
    expect_draw_fail(ph, 0, "draw type 15 unknown");
    q->type = QXL_DRAW_NOP;
    q->surface_id = FAKE_N_SURFACES;
    expect_draw_fail(ph, 0, "surface id 16");
    q->surface_id = 0;
    q->surfaces_dest[1] = 99;
    expect_draw_fail(ph, 0, "surface");
    q->surfaces_dest[1] = -5;
    expect_draw_fail(ph, 0, "source surface -5");
    q->surfaces_dest[1] = -1;
    q->clip.type = 2;
    expect_draw_fail(ph, 0, "clip type 2");
    q->clip.type = 0;
    q->effect = 8;
    expect_draw_fail(ph, 0, "effect 8");
    q->effect = 0;
    q->bbox = (QXLRect){ .top = 5, .left = 0, .bottom = 4, .right = 1 };
    expect_draw_fail(ph, 0, "bbox");
    q->bbox = (QXLRect){ 0, 0, 1, 1 };
    q->type = QXL_DRAW_FILL;
    q->u.fill.brush.type = 3;
    expect_draw_fail(ph, 0, "brush type 3");
    q->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    q->u.fill.rop_descriptor = 0x800;
    expect_draw_fail(ph, 0, "rop descriptor");
    q->u.fill.rop_descriptor = 0;
    q->clip.type = SPICE_CLIP_TYPE_RECTS;
    q->clip.data = fake_clip_rects(&f, 3, 1);
    QXLClipRects *cr = memslot_get_virt(f.slots, FAKE_GROUP, q->clip.data, sizeof(*cr), NULL);
    cr->num_rects = 4;
    expect_draw_fail(ph, 0, "4 clip rects");
    cr->num_rects = 0x40000000;     /* * 16 wraps in 32 bits */
    expect_draw_fail(ph, 0, "clip rects");
    q->clip.type = SPICE_CLIP_TYPE_NONE;

    q->type = QXL_DRAW_STROKE;
    memset(&q->u, 0, sizeof(q->u));
    q->u.stroke.path = fake_path(&f, 2);
    QXLPath *path = memslot_get_virt(f.slots, FAKE_GROUP, q->u.stroke.path, sizeof(*path), NULL);
    QXLPathSeg *seg = (QXLPathSeg *)path->chunk.data;
    seg->count = 1000;
    expect_draw_fail(ph, 0, "past the path data");
    seg->count = 3;
    q->u.stroke.attr.flags = SPICE_LINE_FLAGS_STYLED;
    expect_draw_fail(ph, 0, "without style");
    q->u.stroke.attr.style_nseg = 4;
    q->u.stroke.attr.style = 0;
    expect_draw_fail(ph, 0, "stroke style");

    q->type = QXL_DRAW_TEXT;
    memset(&q->u, 0, sizeof(q->u));
    q->u.text.str = fake_string(&f, 2);
    QXLString *str = memslot_get_virt(f.slots, FAKE_GROUP, q->u.text.str, sizeof(*str), NULL);
    str->length = 3;
    expect_draw_fail(ph, 0, "glyph 2");
    str->length = 1;
    expect_draw_fail(ph, 0, "after its");
    str->length = 2;
    str->flags = 0;
    expect_draw_fail(ph, 0, "raster format");
    str->flags = SPICE_STRING_FLAGS_RASTER_A8;
    str->data_size = 1;
    expect_draw_fail(ph, 0, "data_size 1");
    str->data_size = 2 * (sizeof(QXLRasterGlyph) + 6);
    QXLRasterGlyph *g = (QXLRasterGlyph *)str->chunk.data;
    g->width = 0xffff;
    g->height = 0xffff;
    expect_draw_fail(ph, 0, "glyph 0");

    q->type = QXL_DRAW_COMPOSITE;
    memset(&q->u, 0, sizeof(q->u));
    q->u.composite.flags = 0x20;
    expect_draw_fail(ph, 0, "operator 0x20");
    q->u.composite.flags = QXL_OP_OVER;
    expect_draw_fail(ph, 0, "composite source");
    teardown();
}

static void test_bad_other_commands(void)
{
    setup();
    GError *err = NULL;
    QXLReleaseInfoExt rel;
    QXLSurfaceCmd *sc;
    QXLPHYSICAL ph = fake_surface_create(&f, 1, 16, 16, 64, SPICE_SURFACE_FMT_32_ARGB, &sc);
    struct {
        uint32_t id, w, h, format;
        int32_t stride;
        uint8_t type;
        int code;
    } cases[] = {
        { FAKE_N_SURFACES, 16, 16, 96, 64, 0, RED_PARSE_ERROR_INVALID },
        { 1, 16, 16, 33, 64, 0, RED_PARSE_ERROR_UNSUPPORTED },
        { 1, 16, 16, 96, 63, 0, RED_PARSE_ERROR_INVALID },
        { 1, 16, 16, 96, 0, 0, RED_PARSE_ERROR_INVALID },
        { 1, 16, 17, 96, 64, 0, RED_PARSE_ERROR_ADDRESS },
        { 1, 16, 16, 96, INT32_MIN, 0, RED_PARSE_ERROR_INVALID },
        { 1, 0, 16, 96, 64, 0, RED_PARSE_ERROR_INVALID },
        { 1, 30000, 30000, 96, 120000, 0, RED_PARSE_ERROR_LIMIT },
        { 1, 16, 16, 96, 64, 2, RED_PARSE_ERROR_UNSUPPORTED },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        QXLPHYSICAL mem = sc->u.surface_create.data;
        sc->surface_id = cases[i].id;
        sc->type = cases[i].type;
        sc->u.surface_create = (QXLSurface){ .format = cases[i].format, .width = cases[i].w,
                                             .height = cases[i].h, .stride = cases[i].stride,
                                             .data = mem };
        /* The surface memory sits right before the command: 17 rows overlap
         * the command itself, so move it to the slot end for that case. */
        if (cases[i].h == 17) {
            sc->u.surface_create.data = fake_phys(&f, f.mem + MEM_SIZE - 16 * 64);
        }
        g_assert_null(red_parse_surface_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
        g_assert_error(err, RED_PARSE_ERROR, cases[i].code);
        g_assert_true(rel.info == (QXLReleaseInfo *)sc);
        g_clear_error(&err);
        sc->u.surface_create.data = mem;
    }

    QXLUpdateCmd *u;
    RedCursorCmd *c;
    ph = fake_update_cmd(&f, FAKE_N_SURFACES);
    g_assert_null(red_parse_update_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_INVALID);
    g_clear_error(&err);
    u = memslot_get_virt(f.slots, FAKE_GROUP, ph, sizeof(*u), NULL);
    u->surface_id = 0;
    u->area.left = 100;
    g_assert_null(red_parse_update_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
    g_clear_error(&err);

    ph = fake_cursor_cmd_set(&f, 8, 8, 2);
    QXLCursorCmd *cc = memslot_get_virt(f.slots, FAKE_GROUP, ph, sizeof(*cc), NULL);
    QXLCursor *shape = memslot_get_virt(f.slots, FAKE_GROUP, cc->u.set.shape, sizeof(*shape), NULL);
    shape->data_size = 8 * 8 * 4 + 1;
    g_assert_null(red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_INVALID);
    g_clear_error(&err);
    shape->data_size = 8 * 8 * 4;
    shape->header.width = 9;
    g_assert_null(red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
    g_assert_nonnull(strstr(err->message, "needed"));
    g_clear_error(&err);
    shape->data_size = RED_QXL_MAX_CURSOR_DATA + 1;
    g_assert_null(red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_LIMIT);
    g_clear_error(&err);
    /* Chunks may hold more than data_size: only data_size is copied. */
    shape->header.width = 4;
    shape->data_size = 4 * 8 * 4;
    c = red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(c->u.set.shape.data_size, ==, 128);
    g_assert_cmpuint(c->u.set.shape.data[127], ==, 0x5a);
    red_cursor_cmd_free(c);
    shape->data_size = 8 * 8 * 4;
    shape->header.width = 2000;
    g_assert_null(red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_LIMIT);
    g_clear_error(&err);
    shape->header.width = 8;
    shape->header.type = 7;
    g_assert_null(red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_UNSUPPORTED);
    g_clear_error(&err);
    cc->type = 4;
    g_assert_null(red_parse_cursor_cmd(&f.ctx, FAKE_GROUP, ph, &rel, &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_UNSUPPORTED);
    g_assert_true(rel.info == (QXLReleaseInfo *)cc);
    g_clear_error(&err);
    teardown();
}

/* Monitors config (QXL_IO_MONITORS_CONFIG_ASYNC): a host copy of exactly
 * the validated header and heads, and every defect rejected. */
static void expect_monitors_fail(QXLPHYSICAL ph, int code, const char *needle)
{
    GError *err = NULL;
    g_assert_null(red_parse_monitors_config(&f.ctx, FAKE_GROUP, ph, &err));
    g_assert_error(err, RED_PARSE_ERROR, code);
    g_assert_true(g_str_has_prefix(err->message, "guest bug: "));
    if (!strstr(err->message, needle)) {
        g_error("message '%s' lacks '%s'", err->message, needle);
    }
    g_error_free(err);
}

static void test_monitors_config(void)
{
    setup();
    GError *err = NULL;
    QXLMonitorsConfig *g;
    QXLPHYSICAL ph = fake_monitors_config(&f, 2, &g);
    g->heads[1].surface_id = FAKE_N_SURFACES - 1;
    g->heads[1].flags = 5;
    QXLMonitorsConfig *c = red_parse_monitors_config(&f.ctx, FAKE_GROUP, ph, &err);
    g_assert_no_error(err);
    g_assert_nonnull(c);
    g_assert_true(c != g);
    g_assert_cmpuint(c->count, ==, 2);
    g_assert_cmpuint(c->max_allowed, ==, 2);
    g_assert_cmpmem(c->heads, 2 * sizeof(QXLHead), g->heads, 2 * sizeof(QXLHead));
    /* A host copy: later guest writes do not reach it. */
    g->heads[0].width = 1;
    g_assert_cmpuint(c->heads[0].width, ==, 64);
    g_free(c);

    /* No fixed limit (max_allowed 0) and the largest count. */
    ph = fake_monitors_config(&f, RED_QXL_MAX_MONITORS, &g);
    g->max_allowed = 0;
    c = red_parse_monitors_config(&f.ctx, FAKE_GROUP, ph, NULL);
    g_assert_nonnull(c);
    g_assert_cmpuint(c->count, ==, RED_QXL_MAX_MONITORS);
    g_assert_cmpuint(c->heads[RED_QXL_MAX_MONITORS - 1].x, ==, 64 * (RED_QXL_MAX_MONITORS - 1));
    g_free(c);

    /* Too many heads: over our limit, over the guest's max_allowed, none. */
    ph = fake_monitors_config(&f, RED_QXL_MAX_MONITORS + 1, &g);
    g->max_allowed = 0;
    expect_monitors_fail(ph, RED_PARSE_ERROR_LIMIT, "17 heads");
    ph = fake_monitors_config(&f, 3, &g);
    g->max_allowed = 2;
    expect_monitors_fail(ph, RED_PARSE_ERROR_INVALID, "max_allowed 2");
    g->count = 0;
    expect_monitors_fail(ph, RED_PARSE_ERROR_INVALID, "without heads");

    /* A head on a surface that cannot exist, or larger than any surface. */
    ph = fake_monitors_config(&f, 2, &g);
    g->heads[1].surface_id = FAKE_N_SURFACES;
    expect_monitors_fail(ph, RED_PARSE_ERROR_INVALID, "surface id 16");
    g->heads[1].surface_id = 0;
    g->heads[0].height = RED_QXL_MAX_DIM + 1;
    expect_monitors_fail(ph, RED_PARSE_ERROR_LIMIT, "head 0");

    /* Pointers outside the slot: the header, the heads past the slot end,
     * another group. */
    QXLPHYSICAL outside = memslot_make_addr(f.slots, FAKE_SLOT, FAKE_GEN,
                                            FAKE_GUEST_BASE + MEM_SIZE);
    expect_monitors_fail(outside, RED_PARSE_ERROR_ADDRESS, "monitors config");
    QXLMonitorsConfig *tail = (QXLMonitorsConfig *)(f.mem + MEM_SIZE - sizeof(QXLMonitorsConfig) -
                                                    sizeof(QXLHead));
    memset(tail, 0, sizeof(*tail) + sizeof(QXLHead));
    tail->count = 1;
    c = red_parse_monitors_config(&f.ctx, FAKE_GROUP, fake_phys(&f, tail), NULL);
    g_assert_nonnull(c);
    g_free(c);
    tail->count = 2;
    expect_monitors_fail(fake_phys(&f, tail), RED_PARSE_ERROR_ADDRESS, "monitors config heads");
    g_assert_null(red_parse_monitors_config(&f.ctx, 0, fake_monitors_config(&f, 1, NULL),
                                            &err));
    g_assert_error(err, RED_PARSE_ERROR, RED_PARSE_ERROR_ADDRESS);
    g_clear_error(&err);
    teardown();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qxl/parse/fill-clip", test_fill_solid_clip);
    g_test_add_func("/qxl/parse/copy-chunks", test_copy_bitmap_chunks);
    g_test_add_func("/qxl/parse/opaque-palette-mask", test_opaque_palette_direct_mask);
    g_test_add_func("/qxl/parse/16bpp", test_16bpp_colors);
    g_test_add_func("/qxl/parse/draw-types", test_other_draw_types);
    g_test_add_func("/qxl/parse/compat", test_compat_drawable);
    g_test_add_func("/qxl/parse/other-commands", test_other_commands);
    g_test_add_func("/qxl/parse/primary", test_primary);
    g_test_add_func("/qxl/parse/bad-pointers", test_bad_pointers);
    g_test_add_func("/qxl/parse/chunk-loops-limits", test_chunk_loops_and_limits);
    g_test_add_func("/qxl/parse/bad-bitmaps", test_bad_bitmaps);
    g_test_add_func("/qxl/parse/command-budget", test_command_budget);
    g_test_add_func("/qxl/parse/bad-fields", test_bad_fields);
    g_test_add_func("/qxl/parse/bad-other-commands", test_bad_other_commands);
    g_test_add_func("/qxl/parse/monitors-config", test_monitors_config);
    return g_test_run();
}
