/* Writes the seed corpus of the QXL parser fuzz target: one valid command
 * of each kind in fake device memory, as FakeFuzzHeader + memory.
 * Usage: gen-qxl-parse-corpus OUTDIR   (tests/fuzz/corpus/qxl-parse) */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include "tests/unit/qxl/fake-qxl.h"

#define SEED_MEM 65536u

static const char *outdir;
static FakeQxl f;

static void begin(void)
{
    fake_qxl_init(&f, SEED_MEM);
}

static void finish(const char *name, uint8_t type, uint8_t flags, QXLPHYSICAL cmd)
{
    FakeFuzzHeader h = { .cmd_type = type, .flags = flags };
    h.offset = (uint32_t)((cmd & f.slots->offset_mask) - FAKE_GUEST_BASE);
    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, (const guint8 *)&h, sizeof(h));
    g_byte_array_append(out, f.mem, f.used);
    gchar *file = g_strdup_printf("%s/valid-%s", outdir, name);
    GError *err = NULL;
    if (!g_file_set_contents(file, (const gchar *)out->data, out->len, &err)) {
        g_error("%s", err->message);
    }
    g_free(file);
    g_byte_array_unref(out);
    fake_qxl_finish(&f);
}

static void draw_seeds(void)
{
    QXLPHYSICAL ph;
    QXLDrawable *q;

    begin();
    q = fake_drawable(&f, QXL_DRAW_FILL, &ph);
    q->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    q->u.fill.brush.u.color = 0xff00ff;
    q->u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    q->clip.type = SPICE_CLIP_TYPE_RECTS;
    q->clip.data = fake_clip_rects(&f, 3, 2);
    finish("fill-clip", QXL_CMD_DRAW, 0, ph);

    begin();
    q = fake_drawable(&f, QXL_DRAW_COPY, &ph);
    q->u.copy.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_32BIT, 8, 6, 32, 3, false, 0);
    q->u.copy.src_area = (QXLRect){ 0, 0, 6, 8 };
    q->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    finish("copy-chunked", QXL_CMD_DRAW, 0, ph);

    begin();
    q = fake_drawable(&f, QXL_DRAW_OPAQUE, &ph);
    q->u.opaque.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_8BIT, 4, 4, 4, 1, true,
                                         fake_palette(&f, 4));
    q->u.opaque.src_area = (QXLRect){ 0, 0, 4, 4 };
    q->u.opaque.brush.type = SPICE_BRUSH_TYPE_PATTERN;
    q->u.opaque.brush.u.pattern.pat = fake_bitmap(&f, SPICE_BITMAP_FMT_16BIT, 4, 4, 8, 1, false, 0);
    q->u.opaque.mask.bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_1BIT_LE, 16, 16, 2, 1, false, 0);
    finish("opaque-palette-pattern-mask", QXL_CMD_DRAW, 0, ph);

    begin();
    q = fake_drawable(&f, QXL_DRAW_STROKE, &ph);
    q->u.stroke.path = fake_path(&f, 2);
    q->u.stroke.brush.type = SPICE_BRUSH_TYPE_SOLID;
    q->u.stroke.attr.flags = SPICE_LINE_FLAGS_STYLED;
    q->u.stroke.attr.style_nseg = 2;
    QXLPHYSICAL style;
    fake_alloc(&f, 8, &style);
    q->u.stroke.attr.style = style;
    finish("stroke", QXL_CMD_DRAW, 0, ph);

    begin();
    q = fake_drawable(&f, QXL_DRAW_TEXT, &ph);
    q->u.text.str = fake_string(&f, 3);
    q->u.text.fore_brush.type = SPICE_BRUSH_TYPE_SOLID;
    finish("text", QXL_CMD_DRAW, 0, ph);

    begin();
    q = fake_drawable(&f, QXL_DRAW_ROP3, &ph);
    q->u.rop3.src_bitmap = fake_surface_image(&f, 1);
    q->u.rop3.src_area = (QXLRect){ 0, 0, 4, 4 };
    q->surfaces_dest[0] = 1;
    q->surfaces_rects[0] = (QXLRect){ 0, 0, 4, 4 };
    finish("rop3-surface", QXL_CMD_DRAW, 0, ph);

    begin();
    q = fake_drawable(&f, QXL_DRAW_TRANSPARENT, &ph);
    q->u.transparent.src_bitmap = fake_quic_image(&f, 8, 8, 64, 2);
    q->u.transparent.src_area = (QXLRect){ 0, 0, 8, 8 };
    finish("transparent-quic", QXL_CMD_DRAW, 0, ph);

    begin();
    q = fake_drawable(&f, QXL_DRAW_COMPOSITE, &ph);
    q->u.composite.flags = QXL_OP_OVER;
    q->u.composite.src = fake_bitmap(&f, SPICE_BITMAP_FMT_RGBA, 4, 4, 16, 1, false, 0);
    q->u.composite.mask = fake_bitmap(&f, SPICE_BITMAP_FMT_8BIT_A, 4, 4, 4, 1, false, 0);
    QXLPHYSICAL tr;
    QXLTransform *t = fake_alloc(&f, sizeof(*t), &tr);
    t->t00 = t->t11 = 0x10000;
    q->u.composite.src_transform = tr;
    finish("composite", QXL_CMD_DRAW, 0, ph);

    begin();
    q = fake_drawable(&f, QXL_DRAW_ALPHA_BLEND, &ph);
    q->u.alpha_blend.alpha = 200;
    q->u.alpha_blend.src_bitmap = fake_bitmap(&f, SPICE_BITMAP_FMT_RGBA, 4, 4, 16, 2, false, 0);
    q->u.alpha_blend.src_area = (QXLRect){ 0, 0, 4, 4 };
    finish("alpha-blend", QXL_CMD_DRAW, 0, ph);

    begin();
    QXLCompatDrawable *c = fake_alloc(&f, sizeof(*c), &ph);
    c->type = QXL_COPY_BITS;
    c->bbox = (QXLRect){ 0, 0, 10, 10 };
    c->u.copy_bits.src_pos = (QXLPoint){ 3, 3 };
    finish("compat-copy-bits", QXL_CMD_DRAW, QXL_COMMAND_FLAG_COMPAT, ph);

    begin();
    c = fake_alloc(&f, sizeof(*c), &ph);
    c->type = QXL_DRAW_FILL;
    c->bbox = (QXLRect){ 0, 0, 10, 10 };
    c->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    c->u.fill.brush.u.color = 0x7c00;
    finish("compat-fill-16bpp", QXL_CMD_DRAW,
           QXL_COMMAND_FLAG_COMPAT | QXL_COMMAND_FLAG_COMPAT_16BPP, ph);
}

static void other_seeds(void)
{
    QXLPHYSICAL ph;

    begin();
    finish("update", QXL_CMD_UPDATE, 0, fake_update_cmd(&f, 0));

    begin();
    finish("message", QXL_CMD_MESSAGE, 0, fake_message(&f, "guest says hi"));

    begin();
    ph = fake_surface_create(&f, 2, 16, 8, -64, SPICE_SURFACE_FMT_32_xRGB, NULL);
    finish("surface-create", QXL_CMD_SURFACE, 0, ph);

    begin();
    QXLSurfaceCmd *s;
    ph = fake_surface_create(&f, 2, 16, 8, 64, SPICE_SURFACE_FMT_32_ARGB, &s);
    s->type = QXL_SURFACE_CMD_DESTROY;
    finish("surface-destroy", QXL_CMD_SURFACE, 0, ph);

    begin();
    finish("cursor-set", QXL_CMD_CURSOR, 0, fake_cursor_cmd_set(&f, 16, 16, 2));

    begin();
    QXLCursorCmd *cc = fake_alloc(&f, sizeof(*cc), &ph);
    cc->type = QXL_CURSOR_MOVE;
    cc->u.position = (QXLPoint16){ 100, 200 };
    finish("cursor-move", QXL_CMD_CURSOR, 0, ph);

    begin();
    finish("monitors-config", FAKE_FUZZ_MONITORS_CONFIG, 0, fake_monitors_config(&f, 2, NULL));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    draw_seeds();
    other_seeds();
    return 0;
}
