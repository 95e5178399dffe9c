/* Display/cursor channel unit tests: marshaller byte layouts
 * (spice-reference.md 4.3-4.8, 5.1), the display client-message table, the
 * pixmap cache accounting, and the pipe policy against a client on a
 * socketpair that this test decodes itself (draw-util.c): a stalled client
 * keeps the pipe under budget while thousands of drawables arrive, then
 * converges to the server canvas with damage images limited to what
 * changed. Every loop is bounded; no sleeps. */
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <spice/protocol.h>

#include "common/wire/display-marshal.h"
#include "common/wire/display-msgs.h"
#include "server/display/cursor-channel.h"
#include "server/display/dcc.h"
#include "server/display/display-channel.h"
#include "tests/unit/display/draw-util.h"
#include "tests/unit/display/raw-client.h"

/* ---- marshallers ---- */

static void test_draw_copy_layout(void)
{
    uint8_t px[2 * 4 * 2];
    for (unsigned i = 0; i < sizeof(px); i++) {
        px[i] = (uint8_t)i;
    }
    WireImage img = { .id = 0x1122334455667788ull, .type = SPICE_IMAGE_TYPE_BITMAP,
                      .flags = SPICE_IMAGE_FLAGS_CACHE_ME, .width = 2, .height = 2 };
    img.u.bitmap.format = SPICE_BITMAP_FMT_32BIT;
    img.u.bitmap.flags = SPICE_BITMAP_FLAGS_TOP_DOWN;
    img.u.bitmap.stride = 8;
    img.u.bitmap.data = px;
    WireDraw d = { .type = SPICE_MSG_DISPLAY_DRAW_COPY, .surface_id = 0,
                   .box = { 10, 20, 12, 22 }, .clip = { SPICE_CLIP_TYPE_NONE, 0, NULL } };
    d.u.copy.src = &img;
    d.u.copy.src_area = (WireRect){ 0, 0, 2, 2 };
    d.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;

    WireWriter w;
    wire_writer_init(&w);
    wire_display_draw(&w, &d);
    /* 21 base + 36 copy = 57, image at 57: 18 descriptor + 18 bitmap header */
    g_assert_cmpuint(w.len, ==, 57 + 36 + sizeof(px));
    g_assert_cmpuint(rd32(w.data + 0), ==, 0);
    g_assert_cmpuint(rd32(w.data + 4), ==, 20);      /* top */
    g_assert_cmpuint(rd32(w.data + 8), ==, 10);      /* left */
    g_assert_cmpuint(rd32(w.data + 12), ==, 22);     /* bottom */
    g_assert_cmpuint(rd32(w.data + 16), ==, 12);     /* right */
    g_assert_cmpuint(w.data[20], ==, SPICE_CLIP_TYPE_NONE);
    g_assert_cmpuint(rd32(w.data + 21), ==, 57);     /* src_bitmap offset */
    g_assert_cmpuint(rd16(w.data + 41), ==, SPICE_ROPD_OP_PUT);
    g_assert_cmpuint(rd32(w.data + 53), ==, 0);      /* no mask */
    const uint8_t *im = w.data + 57;
    g_assert_cmpuint(rd32(im), ==, 0x55667788u);
    g_assert_cmpuint(im[8], ==, SPICE_IMAGE_TYPE_BITMAP);
    g_assert_cmpuint(im[9], ==, SPICE_IMAGE_FLAGS_CACHE_ME);
    g_assert_cmpuint(im[18], ==, SPICE_BITMAP_FMT_32BIT);
    g_assert_cmpuint(im[19], ==, SPICE_BITMAP_FLAGS_TOP_DOWN);
    g_assert_cmpuint(rd32(im + 28), ==, 8);           /* stride */
    g_assert_cmpuint(rd32(im + 32), ==, 0);           /* no palette */
    g_assert_cmpmem(im + 36, sizeof(px), px, sizeof(px));
    wire_writer_clear(&w);
}

/* An 8-bit bitmap's palette: inline with CACHE_ME (unique = the cache id),
 * then by id alone with PAL_FROM_CACHE; the same for an encoder's LZ_PLT
 * body, where the flags byte leads the body. */
static void test_palette_layouts(void)
{
    uint8_t px[4] = { 0, 1, 1, 0 };
    uint32_t ents[2] = { 0x112233, 0x445566 };
    WirePalette pal = { .unique = 7, .num_ents = 2, .ents = ents };
    WireImage img = { .id = 1, .type = SPICE_IMAGE_TYPE_BITMAP, .width = 2, .height = 2 };
    img.u.bitmap.format = SPICE_BITMAP_FMT_8BIT;
    img.u.bitmap.stride = 2;
    img.u.bitmap.data = px;
    img.u.bitmap.palette = &pal;
    img.pal_flags = SPICE_BITMAP_FLAGS_PAL_CACHE_ME;
    img.pal_id = 0xabcdef0123456789ull;

    WireWriter w;
    wire_writer_init(&w);
    wire_display_image(&w, &img);
    /* 18 descriptor + 18 header + 4 pixels, then the palette */
    g_assert_cmpuint(w.len, ==, 40 + 8 + 2 + 8);
    g_assert_cmpuint(w.data[19], ==, SPICE_BITMAP_FLAGS_PAL_CACHE_ME);
    g_assert_cmpuint(rd32(w.data + 32), ==, 40);     /* palette offset */
    g_assert_cmpuint(rd32(w.data + 40), ==, 0x23456789u);
    g_assert_cmpuint(rd32(w.data + 44), ==, 0xabcdef01u);
    g_assert_cmpuint(rd16(w.data + 48), ==, 2);
    g_assert_cmpuint(rd32(w.data + 54), ==, 0x445566);

    wire_writer_reset(&w);
    img.pal_flags = SPICE_BITMAP_FLAGS_PAL_FROM_CACHE;
    wire_display_image(&w, &img);
    g_assert_cmpuint(w.len, ==, 32 + 8 + 4);          /* the id replaces the pointer */
    g_assert_cmpuint(w.data[19], ==, SPICE_BITMAP_FLAGS_PAL_FROM_CACHE);
    g_assert_cmpuint(rd32(w.data + 32), ==, 0x23456789u);
    g_assert_cmpmem(w.data + 40, 4, px, 4);

    /* LZ_PLT: flags, data_size, palette slot at 5, then the LZ data */
    uint8_t body[5 + 4 + 3] = { SPICE_BITMAP_FLAGS_TOP_DOWN, 3, 0, 0, 0, 0, 0, 0, 0, 9, 8, 7 };
    WireImage lz = { .id = 2, .type = SPICE_IMAGE_TYPE_LZ_PLT, .width = 2, .height = 2,
                     .encoded = true };
    lz.u.encoded.body = body;
    lz.u.encoded.size = sizeof(body);
    lz.u.encoded.palette_slot = 5;
    lz.u.encoded.palette = &pal;
    lz.pal_flags = SPICE_BITMAP_FLAGS_PAL_FROM_CACHE;
    lz.pal_id = 0x42;
    wire_writer_reset(&w);
    wire_display_image(&w, &lz);
    g_assert_cmpuint(w.len, ==, 18 + 5 + 8 + 3);
    g_assert_cmpuint(w.data[18], ==,
                     SPICE_BITMAP_FLAGS_TOP_DOWN | SPICE_BITMAP_FLAGS_PAL_FROM_CACHE);
    g_assert_cmpuint(rd32(w.data + 23), ==, 0x42);
    g_assert_cmpuint(rd32(w.data + 27), ==, 0);
    g_assert_cmpuint(w.data[31], ==, 9);
    g_assert_cmpuint(w.data[33], ==, 7);
    g_assert_cmpuint(body[0], ==, SPICE_BITMAP_FLAGS_TOP_DOWN);      /* source untouched */

    lz.pal_flags = SPICE_BITMAP_FLAGS_PAL_CACHE_ME;
    wire_writer_reset(&w);
    wire_display_image(&w, &lz);
    g_assert_cmpuint(w.len, ==, 18 + sizeof(body) + 8 + 2 + 8);
    g_assert_cmpuint(w.data[18], ==, SPICE_BITMAP_FLAGS_TOP_DOWN | SPICE_BITMAP_FLAGS_PAL_CACHE_ME);
    g_assert_cmpuint(rd32(w.data + 23), ==, 18 + sizeof(body));
    g_assert_cmpuint(rd32(w.data + 18 + sizeof(body)), ==, 0x42);     /* unique = cache id */
    wire_writer_clear(&w);
}

static void test_fill_clip_layout(void)
{
    WireRect rects[2] = { { 0, 0, 4, 4 }, { 8, 8, 9, 9 } };
    WireDraw d = { .type = SPICE_MSG_DISPLAY_DRAW_FILL, .surface_id = 3, .box = { 0, 0, 9, 9 },
                   .clip = { SPICE_CLIP_TYPE_RECTS, 2, rects } };
    d.u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    d.u.fill.brush.color = 0xabcdef;
    d.u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    WireWriter w;
    wire_writer_init(&w);
    wire_display_draw(&w, &d);
    /* 20 + clip(1 + 4 + 32) + brush 5 + rop 2 + mask 13 */
    g_assert_cmpuint(w.len, ==, 20 + 37 + 5 + 2 + 13);
    g_assert_cmpuint(w.data[20], ==, SPICE_CLIP_TYPE_RECTS);
    g_assert_cmpuint(rd32(w.data + 21), ==, 2);
    g_assert_cmpuint(rd32(w.data + 25 + 16 + 4), ==, 8);  /* second rect left */
    g_assert_cmpuint(w.data[57], ==, SPICE_BRUSH_TYPE_SOLID);
    g_assert_cmpuint(rd32(w.data + 58), ==, 0xabcdef);
    wire_writer_clear(&w);
}

static void test_simple_layouts(void)
{
    WireWriter w;
    wire_writer_init(&w);
    wire_display_surface_create(&w, 0, 640, 480, SPICE_SURFACE_FMT_32_xRGB,
                                SPICE_SURFACE_FLAGS_PRIMARY);
    g_assert_cmpuint(w.len, ==, 20);
    g_assert_cmpuint(rd32(w.data + 4), ==, 640);
    g_assert_cmpuint(rd32(w.data + 12), ==, 32);
    g_assert_cmpuint(rd32(w.data + 16), ==, 1);
    wire_writer_reset(&w);

    uint64_t ids[2] = { 5, 0x100000000ull };
    wire_display_inval_list(&w, ids, 2);
    g_assert_cmpuint(w.len, ==, 2 + 9 * 2);           /* ResourceID packed: 9 bytes */
    g_assert_cmpuint(rd16(w.data), ==, 2);
    g_assert_cmpuint(w.data[2], ==, SPICE_RES_TYPE_PIXMAP);
    g_assert_cmpuint(w.data[11], ==, SPICE_RES_TYPE_PIXMAP);
    g_assert_cmpuint(rd32(w.data + 12), ==, 0);
    g_assert_cmpuint(rd32(w.data + 16), ==, 1);
    wire_writer_reset(&w);

    WireHead h = { 0, 0, 800, 600, 0, 0, 0 };
    wire_display_monitors_config(&w, &h, 1, 1);
    g_assert_cmpuint(w.len, ==, 4 + 28);
    g_assert_cmpuint(rd32(w.data + 12), ==, 800);
    wire_writer_reset(&w);

    wire_display_inval_all_pixmaps(&w);
    g_assert_cmpuint(w.len, ==, 1);
    wire_writer_reset(&w);

    /* LIST: table of offsets from the body, sub headers {u16, u32} */
    WireList l;
    wire_list_begin(&w, &l, 2);
    wire_list_sub_begin(&w, &l, SPICE_MSG_DISPLAY_INVAL_LIST);
    wire_display_inval_list(&w, ids, 1);
    wire_list_sub_end(&w, &l);
    wire_list_sub_begin(&w, &l, SPICE_MSG_DISPLAY_SURFACE_DESTROY);
    wire_display_surface_destroy(&w, 7);
    wire_list_sub_end(&w, &l);
    g_assert_cmpuint(rd16(w.data), ==, 2);
    g_assert_cmpuint(rd32(w.data + 2), ==, 10);
    g_assert_cmpuint(rd16(w.data + 10), ==, SPICE_MSG_DISPLAY_INVAL_LIST);
    g_assert_cmpuint(rd32(w.data + 12), ==, 11);
    g_assert_cmpuint(rd32(w.data + 6), ==, 10 + 6 + 11);
    g_assert_cmpuint(rd16(w.data + 27), ==, SPICE_MSG_DISPLAY_SURFACE_DESTROY);
    g_assert_cmpuint(rd32(w.data + 29), ==, 4);
    g_assert_cmpuint(rd32(w.data + 33), ==, 7);
    g_assert_cmpuint(w.base, ==, 0);
    wire_writer_clear(&w);
}

static void test_cursor_layouts(void)
{
    WireWriter w;
    wire_writer_init(&w);
    WireCursor none = { .flags = SPICE_CURSOR_FLAGS_NONE };
    wire_cursor_init(&w, 3, -1, 0, 0, 1, &none);
    g_assert_cmpuint(w.len, ==, 2 + 2 + 2 + 2 + 1 + 2);
    g_assert_cmpuint(rd16(w.data + 2), ==, 0xffff);
    g_assert_cmpuint(rd16(w.data + 9), ==, SPICE_CURSOR_FLAGS_NONE);
    wire_writer_reset(&w);

    uint8_t mono[2 * 2 * 1];
    memset(mono, 0xa5, sizeof(mono));
    WireCursor c = { .flags = SPICE_CURSOR_FLAGS_CACHE_ME, .unique = 42,
                     .type = SPICE_CURSOR_TYPE_MONO, .width = 2, .height = 2, .hot_spot_x = 1,
                     .data = mono, .data_size = sizeof(mono) };
    wire_cursor_set(&w, 10, 20, 1, &c);
    /* Point16 4 + visible 1 + flags 2 + header 17 + data */
    g_assert_cmpuint(w.len, ==, 4 + 1 + 2 + 17 + sizeof(mono));
    g_assert_cmpuint(rd32(w.data + 7), ==, 42);
    g_assert_cmpuint(w.data[15], ==, SPICE_CURSOR_TYPE_MONO);
    g_assert_cmpuint(rd16(w.data + 20), ==, 1);
    wire_writer_reset(&w);

    c.flags = SPICE_CURSOR_FLAGS_FROM_CACHE;
    wire_cursor_set(&w, 10, 20, 1, &c);
    g_assert_cmpuint(w.len, ==, 4 + 1 + 2 + 17);
    wire_writer_clear(&w);
}

static void test_parse_display_msgs(void)
{
    WireDisplayMsg m;
    uint8_t init[14] = { 1, 0x00, 0x00, 0x40, 0x01, 0, 0, 0, 0, 1, 0x00, 0x00, 0x30, 0x00 };
    WireParseResult r = wire_parse_display_msg(SPICE_MSGC_DISPLAY_INIT, init, 14, &m);
    g_assert_true(r.ok);
    g_assert_cmpint(m.u.init.pixmap_cache_size, ==, 0x1400000);
    g_assert_cmpint(m.u.init.glz_dictionary_window_size, ==, 0x300000);
    g_assert_false(wire_parse_display_msg(SPICE_MSGC_DISPLAY_INIT, init, 13, &m).ok);
    g_assert_false(wire_parse_display_msg(SPICE_MSGC_DISPLAY_INIT, init, 15, &m).ok);
    g_assert_false(wire_parse_display_msg(200, init, 1, &m).ok);
    uint8_t codecs[3] = { 2, 1, 3 };
    g_assert_true(wire_parse_display_msg(SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE, codecs,
                                         3, &m).ok);
    g_assert_cmpuint(m.u.preferred_video_codec.num_codecs, ==, 2);
    codecs[0] = 5;
    g_assert_false(wire_parse_display_msg(SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE, codecs,
                                          3, &m).ok);
    g_assert_true(wire_parse_display_msg(SPICE_MSGC_DISPLAY_GL_DRAW_DONE, NULL, 0, &m).ok);
    g_assert_false(wire_parse_display_msg(SPICE_MSGC_DISPLAY_STREAM_REPORT, init, 14, &m).ok);
}

static void test_pixmap_cache(void)
{
    PixmapCache c;
    GArray *ev = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    pixmap_cache_init(&c);
    pixmap_cache_reset(&c, 100);
    g_assert_true(pixmap_cache_add(&c, 1, 40, 1, ev));
    g_assert_true(pixmap_cache_add(&c, 2, 40, 2, ev));
    g_assert_false(pixmap_cache_add(&c, 3, 101, 3, ev));   /* larger than the cache */
    g_assert_true(pixmap_cache_lookup(&c, 1, 4));           /* 1 becomes most recent */
    g_assert_true(pixmap_cache_add(&c, 3, 40, 5, ev));      /* evicts 2 (LRU), not 1 */
    g_assert_cmpuint(ev->len, ==, 1);
    g_assert_cmpuint(g_array_index(ev, uint64_t, 0), ==, 2);
    g_assert_false(pixmap_cache_lookup(&c, 2, 6));
    /* ids used by the message being built are never evicted for it */
    g_array_set_size(ev, 0);
    g_assert_true(pixmap_cache_lookup(&c, 1, 7));
    g_assert_true(pixmap_cache_lookup(&c, 3, 7));
    g_assert_false(pixmap_cache_add(&c, 4, 40, 7, ev));
    g_assert_cmpuint(ev->len, ==, 0);
    g_assert_cmpint(c.used, ==, 80);
    pixmap_cache_reset(&c, 100);
    g_assert_false(pixmap_cache_lookup(&c, 1, 8));
    g_assert_cmpint(c.used, ==, 0);
    pixmap_cache_fini(&c);
    g_array_free(ev, TRUE);
}

/* ---- channel against a decoding client on a socketpair (raw-client.h) ---- */

/* A random drawable: fills, cacheable bitmaps from a pool, copies from
 * the off-screen surface, scrolls. */
static void random_draw(RawHarness *h, GRand *r, int area_w, int area_h, bool only_fills)
{
    int w = g_rand_int_range(r, 1, 48), hh = g_rand_int_range(r, 1, 48);
    int x = g_rand_int_range(r, 0, area_w - w), y = g_rand_int_range(r, 0, area_h - hh);
    int kind = only_fills ? 0 : g_rand_int_range(r, 0, 10);
    if (kind < 5) {
        rh_draw(h, test_draw_fill(0, x, y, w, hh, g_rand_int(r) & 0xffffff));
    } else if (kind < 8) {
        uint64_t id = (uint64_t)g_rand_int_range(r, 1, 12);
        /* the content of a cacheable id must never change */
        int s = 8 + (int)id * 2;
        rh_draw(h, test_draw_copy_bitmap(0, MIN(x, area_w - s), MIN(y, area_h - s), s, s,
                                      (uint32_t)id, id << 20, SPICE_BITMAP_FMT_32BIT, true));
    } else if (kind < 9) {
        rh_draw(h, test_draw_fill(1, x % 32, y % 32, 16, 16, g_rand_int(r) & 0xffffff));
        rh_draw(h, test_draw_copy_surface(0, x % (area_w - 32), y % (area_h - 32), 32, 32, 1,
                                          0, 0));
    } else {
        rh_draw(h, test_draw_copy_bits(0, 0, 0, area_w, area_h - 4, 0, 4));
    }
}

static void test_palette_cache(void)
{
    PaletteCache c;
    GArray *ev = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    uint32_t a_ents[3] = { 1, 2, 3 }, b_ents[3] = { 1, 2, 4 };
    WirePalette a = { .unique = 0, .num_ents = 3, .ents = a_ents };
    WirePalette b = { .unique = 0, .num_ents = 3, .ents = b_ents };
    uint64_t ida = 0, idb = 0, id = 0;

    palette_cache_init(&c);
    g_assert_cmpuint(palette_cache_use(&c, &a, 1, &ida, ev), ==, SPICE_BITMAP_FLAGS_PAL_CACHE_ME);
    g_assert_cmpuint(ida, !=, 0);
    /* the same message again: inline, not by id */
    g_assert_cmpuint(palette_cache_use(&c, &a, 1, &id, ev), ==, 0);
    g_assert_cmpuint(palette_cache_use(&c, &a, 2, &id, ev), ==, SPICE_BITMAP_FLAGS_PAL_FROM_CACHE);
    g_assert_cmpuint(id, ==, ida);
    /* keyed by colours: the guest's unique does not matter */
    WirePalette a2 = a;
    a2.unique = 99;
    g_assert_cmpuint(palette_cache_use(&c, &a2, 3, &id, ev), ==, SPICE_BITMAP_FLAGS_PAL_FROM_CACHE);
    g_assert_cmpuint(palette_cache_use(&c, &b, 3, &idb, ev), ==, SPICE_BITMAP_FLAGS_PAL_CACHE_ME);
    g_assert_cmpuint(idb, !=, ida);
    g_assert_cmpuint(c.hits, ==, 2);
    g_assert_cmpuint(ev->len, ==, 0);

    /* fill it: the least recently used (a, used by 3 before b) goes first,
     * reported for INVAL_PALETTE */
    uint32_t ents[PALETTE_CACHE_ITEMS][1];
    for (uint32_t i = 0; i < PALETTE_CACHE_ITEMS - 2; i++) {
        ents[i][0] = 1000 + i;
        WirePalette p = { .num_ents = 1, .ents = ents[i] };
        g_assert_cmpuint(palette_cache_use(&c, &p, 10 + i, &id, ev), ==,
                         SPICE_BITMAP_FLAGS_PAL_CACHE_ME);
    }
    g_assert_cmpuint(ev->len, ==, 0);
    ents[PALETTE_CACHE_ITEMS - 1][0] = 5000;
    WirePalette last = { .num_ents = 1, .ents = ents[PALETTE_CACHE_ITEMS - 1] };
    g_assert_cmpuint(palette_cache_use(&c, &last, 500, &id, ev), ==,
                     SPICE_BITMAP_FLAGS_PAL_CACHE_ME);
    g_assert_cmpuint(ev->len, ==, 1);
    g_assert_cmpuint(g_array_index(ev, uint64_t, 0), ==, ida);
    g_assert_cmpuint(palette_cache_use(&c, &a, 501, &id, ev), ==, SPICE_BITMAP_FLAGS_PAL_CACHE_ME);
    g_assert_cmpuint(ev->len, ==, 2);
    g_assert_cmpuint(g_array_index(ev, uint64_t, 1), ==, idb);  /* b was next */

    /* an entry the message already uses is not evicted for it */
    palette_cache_reset(&c);
    g_array_set_size(ev, 0);
    g_assert_cmpuint(palette_cache_use(&c, &a, 1, &id, ev), ==, SPICE_BITMAP_FLAGS_PAL_CACHE_ME);
    g_assert_cmpuint(palette_cache_use(&c, &a, 2, &id, ev), ==, SPICE_BITMAP_FLAGS_PAL_FROM_CACHE);
    palette_cache_fini(&c);
    g_array_unref(ev);
}

static void idle_post(void *opaque, void (*func)(void *data), void *data)
{
    func(data);
}

static void idle_render(void *opaque, uint32_t surface_id, const pixman_region32_t *region)
{
}

static RedCanvas *idle_canvas(void *opaque, uint32_t surface_id)
{
    return NULL;
}

/* spice-gtk shares one image cache between the display channels of a
 * session and announces it whole to each: with two display channels (two
 * QXL devices) each client gets half, so together they fit. */
static void test_pixmap_cache_split(void)
{
    RawHarness h;
    rh_init(&h);
    DisplayChannelHost host = { NULL, idle_post, idle_render, idle_canvas, NULL };
    RedChannel *second = display_channel_new(h.reds, h.loop, 1, &host);
    g_assert_cmpint(g_atomic_int_get(&h.reds->display_channels), ==, 2);
    rh_connect(&h, 0);
    DisplayChannelClient *dcc = h.dc->clients->data;
    g_assert_cmpint(dcc->cache.capacity, ==, 4096 / 2);     /* rh_connect's DISPLAY_INIT */
    display_channel_free(second);
    g_assert_cmpint(g_atomic_int_get(&h.reds->display_channels), ==, 1);
    rh_fini(&h);
}

static void test_channel_converges(void)
{
    RawHarness h;
    rh_init(&h);
    rh_draw(&h, test_draw_fill(0, 10, 10, 100, 50, 0x123456));  /* before connect */
    rh_connect(&h, 0);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);

    GRand *r = g_rand_new_with_seed(7);
    for (int i = 0; i < 400; i++) {
        random_draw(&h, r, RH_PRIMARY_W, RH_PRIMARY_H, false);
        rh_pump(&h, true);
    }
    rh_settle(&h);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    g_assert_cmpint(test_client_compare(&h.tc, 1, h.canvases[1]), ==, 0);
    g_assert_cmpuint(h.tc.from_cache, >, 0);                 /* cache hits */
    g_assert_cmpuint(h.tc.counts[SPICE_MSG_LIST], >, 0);     /* 4096-pixel cache evicts */
    g_assert_cmpuint(h.tc.counts[SPICE_MSG_DISPLAY_COPY_BITS], >, 0);

    /* reset: the cache starts over on both sides */
    display_channel_reset(h.dc);
    for (int i = 0; i < 50; i++) {
        random_draw(&h, r, RH_PRIMARY_W, RH_PRIMARY_H, false);
    }
    rh_settle(&h);
    g_assert_false(h.tc.error);
    g_assert_cmpuint(h.tc.counts[SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS], ==, 1);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    g_rand_free(r);
    rh_fini(&h);
}

static void test_stalled_client(void)
{
    RawHarness h;
    rh_init(&h);
    rh_connect(&h, 0);
    GRand *r = g_rand_new_with_seed(11);

    /* The client stops reading; the worker keeps drawing. */
    h.max_pipe = 0;
    for (int i = 0; i < 5000; i++) {
        random_draw(&h, r, RH_PRIMARY_W, RH_PRIMARY_H, false);
        rh_pump(&h, false);
        g_assert_cmpuint(display_channel_pipe_bytes(h.dc), <=, RH_BUDGET);
    }
    g_assert_cmpuint(h.max_pipe, <=, RH_BUDGET);
    DisplayChannelClient *dcc = h.dc->clients->data;
    g_assert_cmpint(dcc->mode, ==, DCC_DAMAGE);
    g_assert_cmpuint(dcc->drops, >, 0);
    uint32_t msgs_before = h.tc.messages;
    rh_settle(&h);
    g_assert_false(h.tc.error);
    /* far fewer messages than drawables: the backlog went as damage */
    g_assert_cmpuint(h.tc.messages - msgs_before, <, 5000);
    g_assert_cmpint(dcc->mode, ==, DCC_DRAW);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    g_assert_cmpint(test_client_compare(&h.tc, 1, h.canvases[1]), ==, 0);

    /* Stall again with fills inside one rectangle only: the damage images
     * sent afterwards stay inside it, and read the canvas via render_region. */
    pixman_region32_clear(&h.tc.image_damage);
    unsigned renders = h.render_calls;
    for (int i = 0; i < 3000; i++) {
        int x = 40 + g_rand_int_range(r, 0, 60), y = 30 + g_rand_int_range(r, 0, 50);
        rh_draw(&h, test_draw_fill(0, x, y, 20, 20, g_rand_int(r) & 0xffffff));
        rh_pump(&h, false);
        g_assert_cmpuint(display_channel_pipe_bytes(h.dc), <=, RH_BUDGET);
    }
    g_assert_cmpint(dcc->mode, ==, DCC_DAMAGE);
    rh_settle(&h);
    g_assert_false(h.tc.error);
    g_assert_true(pixman_region32_not_empty(&h.tc.image_damage));
    pixman_region32_t outside;
    pixman_region32_init(&outside);
    pixman_region32_subtract(&outside, &h.tc.image_damage, &(pixman_region32_t){
        .extents = { 40, 30, 40 + 60 + 20, 30 + 50 + 20 }, .data = NULL });
    g_assert_false(pixman_region32_not_empty(&outside));
    pixman_region32_fini(&outside);
    g_assert_cmpuint(h.render_calls, >, renders);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    g_rand_free(r);
    rh_fini(&h);
}

static void test_disconnect_mid_stream(void)
{
    RawHarness h;
    rh_init(&h);
    rh_connect(&h, 0);
    GRand *r = g_rand_new_with_seed(3);
    for (int i = 0; i < 2000; i++) {
        random_draw(&h, r, RH_PRIMARY_W, RH_PRIMARY_H, false);
        rh_pump(&h, false);
    }
    g_assert_cmpuint(display_channel_pipe_bytes(h.dc), >, 0);
    close(h.fd);
    h.fd = -1;
    for (int i = 0; i < 100 && h.dc->clients; i++) {
        rh_pump(&h, false);
        random_draw(&h, r, RH_PRIMARY_W, RH_PRIMARY_H, false);
    }
    g_assert_null(h.dc->clients);
    g_assert_cmpuint(display_channel_pipe_bytes(h.dc), ==, 0);
    g_assert_cmpuint(h.caps_changed, ==, 2);
    g_rand_free(r);
    rh_fini(&h);
}

static void test_resolution_change(void)
{
    RawHarness h;
    rh_init(&h);
    rh_connect(&h, 0);
    rh_draw(&h, test_draw_fill(0, 0, 0, 50, 50, 0xff0000));
    display_channel_surface_destroy(h.dc, 0);
    red_canvas_destroy(h.canvases[0]);
    h.canvases[0] = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, 320, 200, NULL);
    {
        RedCanvasBrush b = { .type = RED_CANVAS_BRUSH_SOLID, .color = 0x00ff00 };
        pixman_box32_t box = { 0, 0, 320, 200 };
        red_canvas_fill(h.canvases[0], NULL, &box, &b, SPICE_ROPD_OP_PUT, NULL);
    }
    /* the new primary already holds a picture: it goes as damage */
    display_channel_surface_create(h.dc, 0, 320, 200, SPICE_SURFACE_FMT_32_xRGB, true);
    rh_draw(&h, test_draw_fill(0, 300, 180, 20, 20, 0x0000ff));
    rh_settle(&h);
    g_assert_false(h.tc.error);
    g_assert_cmpint(test_client_compare(&h.tc, 0, h.canvases[0]), ==, 0);
    g_assert_cmpuint(h.tc.counts[SPICE_MSG_DISPLAY_MARK], ==, 2);
    g_assert_cmpuint(h.tc.counts[SPICE_MSG_DISPLAY_MONITORS_CONFIG], ==, 2);
    rh_fini(&h);
}

static void test_bad_client_message(void)
{
    RawHarness h;
    rh_init(&h);
    rh_connect(&h, 0);
    g_test_expect_message("Spice", G_LOG_LEVEL_WARNING, "client bug:*");
    uint8_t junk[3] = { 1, 2, 3 };
    rh_send(&h, SPICE_MSGC_DISPLAY_INIT, junk, sizeof(junk));
    for (int i = 0; i < 100 && h.dc->clients; i++) {
        rh_pump(&h, true);
    }
    g_test_assert_expected_messages();
    g_assert_null(h.dc->clients);
    rh_fini(&h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/display/marshal/draw-copy", test_draw_copy_layout);
    g_test_add_func("/display/marshal/palette", test_palette_layouts);
    g_test_add_func("/display/marshal/fill-clip", test_fill_clip_layout);
    g_test_add_func("/display/marshal/simple", test_simple_layouts);
    g_test_add_func("/display/marshal/cursor", test_cursor_layouts);
    g_test_add_func("/display/parse/client-msgs", test_parse_display_msgs);
    g_test_add_func("/display/cache/pixmap", test_pixmap_cache);
    g_test_add_func("/display/cache/palette", test_palette_cache);
    g_test_add_func("/display/cache/pixmap-split", test_pixmap_cache_split);
    g_test_add_func("/display/channel/converges", test_channel_converges);
    g_test_add_func("/display/channel/stalled-client", test_stalled_client);
    g_test_add_func("/display/channel/disconnect-mid-stream", test_disconnect_mid_stream);
    g_test_add_func("/display/channel/resolution-change", test_resolution_change);
    g_test_add_func("/display/channel/bad-client-message", test_bad_client_message);
    return g_test_run();
}
