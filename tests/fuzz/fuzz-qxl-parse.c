/* libFuzzer target for the QXL command parser.
 *
 * Input: a FakeFuzzHeader (tests/unit/qxl/fake-qxl.h: command type, flags,
 * offset of the command) followed by bytes that become device memory in one
 * memslot (group FAKE_GROUP, slot FAKE_SLOT), copied into a buffer of exactly
 * that size so ASan sees any read past the slot. Every parser runs on the
 * command address and every byte of each result is touched, so an in-place
 * pointer outside the slot shows up. The command type FAKE_FUZZ_MONITORS_CONFIG
 * names red_parse_monitors_config (the QXL_IO_MONITORS_CONFIG_ASYNC data).
 * Seeds: gen-qxl-parse-corpus.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz-qxl-parse.h"
#include "tests/unit/qxl/fake-qxl.h"

static volatile uint8_t sink;

static void touch(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc ^= b[i];
    }
    sink ^= acc;
}

static void touch_image(const RedImage *img)
{
    if (!img) {
        return;
    }
    if (img->type == SPICE_IMAGE_TYPE_BITMAP) {
        size_t size;
        const uint8_t *p = red_bitmap_get_data(&img->u.bitmap, &size);
        touch(p, size);
        if (img->u.bitmap.palette) {
            touch(img->u.bitmap.palette->ents, sizeof(img->u.bitmap.palette->ents));
        }
    } else if (img->type == SPICE_IMAGE_TYPE_QUIC) {
        touch(img->u.quic.data, img->u.quic.data_size);
    }
}

static void touch_brush(const RedBrush *b)
{
    if (b->type == SPICE_BRUSH_TYPE_PATTERN) {
        touch_image(b->u.pattern.pat);
    }
}

static void touch_drawable(const RedDrawable *d)
{
    touch(d->release.info, sizeof(QXLReleaseInfo));
    touch(d->clip.rects, (size_t)d->clip.num_rects * sizeof(RedRect));
    switch (d->type) {
    case QXL_DRAW_FILL:
        touch_brush(&d->u.fill.brush);
        touch_image(d->u.fill.mask.bitmap);
        break;
    case QXL_DRAW_OPAQUE:
        touch_image(d->u.opaque.src_bitmap);
        touch_brush(&d->u.opaque.brush);
        touch_image(d->u.opaque.mask.bitmap);
        break;
    case QXL_DRAW_COPY:
    case QXL_DRAW_BLEND:
        touch_image(d->u.copy.src_bitmap);
        touch_image(d->u.copy.mask.bitmap);
        break;
    case QXL_DRAW_BLACKNESS:
    case QXL_DRAW_WHITENESS:
    case QXL_DRAW_INVERS:
        touch_image(d->u.whiteness.mask.bitmap);
        break;
    case QXL_DRAW_ROP3:
        touch_image(d->u.rop3.src_bitmap);
        touch_brush(&d->u.rop3.brush);
        touch_image(d->u.rop3.mask.bitmap);
        break;
    case QXL_DRAW_STROKE: {
        const RedPath *p = d->u.stroke.path;
        for (uint32_t i = 0; i < p->num_segments; i++) {
            touch(p->segments[i].points, (size_t)p->segments[i].count * sizeof(RedPointFix));
        }
        touch(d->u.stroke.attr.style, d->u.stroke.attr.style_nseg * sizeof(int32_t));
        touch_brush(&d->u.stroke.brush);
        break;
    }
    case QXL_DRAW_TEXT: {
        const RedString *s = d->u.text.str;
        for (uint32_t i = 0; i < s->length; i++) {
            const RedGlyph *g = &s->glyphs[i];
            touch(g->data, (size_t)g->height * (((size_t)g->width * s->bpp + 7) / 8));
        }
        touch_brush(&d->u.text.fore_brush);
        touch_brush(&d->u.text.back_brush);
        break;
    }
    case QXL_DRAW_TRANSPARENT:
        touch_image(d->u.transparent.src_bitmap);
        break;
    case QXL_DRAW_ALPHA_BLEND:
        touch_image(d->u.alpha_blend.src_bitmap);
        break;
    case QXL_DRAW_COMPOSITE:
        touch_image(d->u.composite.src_bitmap);
        touch_image(d->u.composite.mask_bitmap);
        break;
    default:
        break;
    }
}

static void touch_command(const RedCommand *c)
{
    switch (c->type) {
    case QXL_CMD_DRAW:
        touch_drawable(c->u.draw);
        break;
    case QXL_CMD_MESSAGE:
        touch(c->u.message->text, c->u.message->len + 1);
        break;
    case QXL_CMD_SURFACE:
        if (c->u.surface->type == QXL_SURFACE_CMD_CREATE) {
            touch(c->u.surface->mem, c->u.surface->mem_size);
        }
        break;
    case QXL_CMD_CURSOR:
        if (c->u.cursor->type == QXL_CURSOR_SET) {
            touch(c->u.cursor->u.set.shape.data, c->u.cursor->u.set.shape.data_size);
        }
        break;
    default:
        break;
    }
}

/* Parses one command of `type` at addr and checks the result; returns
 * whether it parsed. */
static bool run_one(FakeQxl *f, uint32_t type, QXLPHYSICAL addr, uint32_t flags)
{
    QXLCommandExt ext = { .cmd = { .data = addr, .type = type }, .group_id = FAKE_GROUP,
                          .flags = flags };
    RedCommand cmd;
    QXLReleaseInfoExt rel;
    GError *err = NULL;
    bool ok = red_parse_command(&f->ctx, &ext, &cmd, &rel, &err);
    if (ok) {
        g_assert_null(err);
        touch_command(&cmd);
        red_command_clear(&cmd);
    } else {
        /* Every rejection names the guest as the culprit. */
        g_assert_nonnull(err);
        g_assert_true(g_str_has_prefix(err->message, "guest bug: "));
        g_error_free(err);
    }
    if (rel.info) {
        touch(rel.info, sizeof(*rel.info));
    }
    return ok;
}

/* Parses a monitors config at addr and checks the copy; returns whether it
 * parsed. */
static bool run_monitors(FakeQxl *f, QXLPHYSICAL addr)
{
    GError *err = NULL;
    QXLMonitorsConfig *c = red_parse_monitors_config(&f->ctx, FAKE_GROUP, addr, &err);
    if (!c) {
        g_assert_nonnull(err);
        g_assert_true(g_str_has_prefix(err->message, "guest bug: "));
        g_error_free(err);
        return false;
    }
    g_assert_null(err);
    g_assert_true(c->count >= 1 && c->count <= RED_QXL_MAX_MONITORS);
    g_assert_true(!c->max_allowed || c->count <= c->max_allowed);
    for (uint32_t i = 0; i < c->count; i++) {
        g_assert_cmpuint(c->heads[i].surface_id, <, f->ctx.n_surfaces);
    }
    touch(c, sizeof(*c) + c->count * sizeof(QXLHead));
    g_free(c);
    return true;
}

bool fuzz_qxl_parse_run(const uint8_t *data, size_t size)
{
    FakeFuzzHeader h;
    if (size <= sizeof(h)) {
        return false;
    }
    memcpy(&h, data, sizeof(h));
    size_t mem_size = size - sizeof(h);
    uint8_t *mem = malloc(mem_size);
    memcpy(mem, data + sizeof(h), mem_size);

    FakeQxl f;
    fake_qxl_init_over(&f, mem, mem_size);
    QXLPHYSICAL addr = memslot_make_addr(f.slots, FAKE_SLOT, FAKE_GEN,
                                         FAKE_GUEST_BASE + h.offset);
    bool ok = h.cmd_type == FAKE_FUZZ_MONITORS_CONFIG ? run_monitors(&f, addr)
                                                      : run_one(&f, h.cmd_type, addr, h.flags);
    if (h.cmd_type != FAKE_FUZZ_MONITORS_CONFIG) {
        run_monitors(&f, addr);
    }
    /* The other parsers on the same bytes: more paths per input. */
    for (uint32_t t = QXL_CMD_DRAW; t <= QXL_CMD_SURFACE; t++) {
        if (t != h.cmd_type) {
            run_one(&f, t, addr, h.flags ^ QXL_COMMAND_FLAG_COMPAT);
        }
    }
    if (mem_size - (h.offset < mem_size ? h.offset : mem_size) >= 16) {
        uint32_t v[4];
        memcpy(v, mem + h.offset, sizeof(v));
        RedPrimaryRequest req = { .width = v[0] & 0xffff, .height = v[0] >> 16,
                                  .stride = (int32_t)v[1], .format = v[2] & 0x7f,
                                  .mem = addr + 16 + (v[3] & 0xff), .group_id = FAKE_GROUP };
        RedPrimarySurface p;
        GError *err = NULL;
        if (red_parse_primary(&f.ctx, &req, &p, &err)) {
            touch(p.mem, p.mem_size);
            touch(p.line_0, (size_t)(p.stride < 0 ? -(int64_t)p.stride : p.stride));
        }
        g_clear_error(&err);
    }
    fake_qxl_finish(&f);
    free(mem);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_qxl_parse_run(data, size);
    return 0;
}

bool fuzz_replay_accepts(const uint8_t *data, size_t size);

bool fuzz_replay_accepts(const uint8_t *data, size_t size)
{
    return fuzz_qxl_parse_run(data, size);
}
