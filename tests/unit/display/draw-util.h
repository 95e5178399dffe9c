/* Test helpers for the display channel: build RedDrawables the way the
 * QXL parser would (host memory, no guest), render them onto a RedCanvas
 * the way the worker would, and a small SPICE display-message decoder that
 * replays what a client draws (fills, copies of BITMAP / FROM_CACHE /
 * SURFACE images, copy_bits, LIST, cache invalidation). Used by the unit
 * tests here and by tests/integration/display. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "common/canvas/canvas.h"
#include "server/qxl/qxl-cmd.h"

#define TEST_MAX_SURFACES 8

/* A drawable plus the memory it points at; free with test_draw_free. */
typedef struct TestDraw {
    RedDrawable red;
    RedImage image;
    uint8_t *pixels;                /* owned, the bitmap's */
} TestDraw;

TestDraw *test_draw_fill(uint32_t surface_id, int x, int y, int w, int h, uint32_t color);
/* A 32BIT top-down bitmap of w x h with a pattern from seed, copied to
 * (x, y). cache_id != 0 marks it CACHE_ME with that id. */
TestDraw *test_draw_copy_bitmap(uint32_t surface_id, int x, int y, int w, int h, uint32_t seed,
                                uint64_t cache_id, uint8_t format, bool top_down);
/* Copies (sx, sy, w, h) of src_surface onto (x, y) of surface_id. */
TestDraw *test_draw_copy_surface(uint32_t surface_id, int x, int y, int w, int h,
                                 uint32_t src_surface, int sx, int sy);
TestDraw *test_draw_copy_bits(uint32_t surface_id, int x, int y, int w, int h, int sx, int sy);
void test_draw_free(TestDraw *d);
/* Renders d on canvases[d->red.surface_id] (SURFACE sources from canvases). */
void test_draw_render(TestDraw *d, RedCanvas **canvases);

/* ---- client-side decoder ---- */

typedef struct TestClientSurface {
    bool live;
    uint32_t width, height;
    uint32_t *pixels;               /* owned, xRGB */
} TestClientSurface;

typedef struct TestClient {
    TestClientSurface surfaces[TEST_MAX_SURFACES];
    GHashTable *cache;              /* uint64 id -> pixman_image_t* */
    uint32_t counts[512];           /* messages seen per type (types < 512) */
    uint32_t messages;
    uint32_t from_cache;            /* FROM_CACHE images resolved */
    pixman_region32_t image_damage; /* primary pixels written by BITMAP DRAW_COPYs */
    bool error;
    char error_text[200];
} TestClient;

void test_client_init(TestClient *c);
void test_client_fini(TestClient *c);
/* Applies one server message body. */
void test_client_handle(TestClient *c, uint16_t type, const uint8_t *body, uint32_t size);
/* Compares client surface id with canvas (low 24 bits of each pixel).
 * Returns the number of differing pixels (or -1 on size mismatch). */
long test_client_compare(const TestClient *c, uint32_t id, RedCanvas *canvas);
