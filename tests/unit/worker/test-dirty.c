/* RedDirty (server/display/dirty.c) against a plain pixman union per
 * addition: seeded random sequences of glyph-like multi-rectangle regions,
 * large single rectangles (the "covers everything" shortcut), reads in
 * between (merges) and clears, with enough boxes to pass RED_DIRTY_BATCH.
 * The rectangles read back must be identical, in order. */
#include <string.h>

#include <glib.h>

#include "server/display/dirty.h"

static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

static void assert_same(pixman_region32_t *a, pixman_region32_t *b)
{
    int na = 0, nb = 0;
    pixman_box32_t *ra = pixman_region32_rectangles(a, &na);
    pixman_box32_t *rb = pixman_region32_rectangles(b, &nb);
    g_assert_cmpint(na, ==, nb);
    g_assert_true(na == 0 || memcmp(ra, rb, (size_t)na * sizeof(*ra)) == 0);
}

static void test_random(void)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    uint64_t total_boxes = 0;
    for (int it = 0; it < 60; it++) {
        RedDirty d;
        red_dirty_init(&d);
        pixman_region32_t ref;
        pixman_region32_init(&ref);
        int steps = 200 + (int)(rnd(&seed) % 1500);
        for (int k = 0; k < steps; k++) {
            pixman_region32_t r;
            uint32_t kind = rnd(&seed) % 16;
            if (kind == 0) {
                int x = (int)(rnd(&seed) % 6), y = (int)(rnd(&seed) % 6);
                pixman_region32_init_rect(&r, x, y, 100 + rnd(&seed) % 40, 100 + rnd(&seed) % 40);
            } else if (kind == 1) {
                pixman_region32_init(&r);               /* empty */
            } else {
                pixman_box32_t b[24];
                int n = 1 + (int)(rnd(&seed) % 24);
                for (int i = 0; i < n; i++) {
                    int x = (int)(rnd(&seed) % 130), y = (int)(rnd(&seed) % 130);
                    b[i] = (pixman_box32_t){ x, y, x + 1 + (int)(rnd(&seed) % 9),
                                             y + 1 + (int)(rnd(&seed) % 14) };
                }
                pixman_region32_init_rects(&r, b, n);
            }
            total_boxes += (uint64_t)pixman_region32_n_rects(&r);
            red_dirty_add(&d, &r);
            pixman_region32_union(&ref, &ref, &r);
            pixman_region32_fini(&r);
            uint32_t ev = rnd(&seed) % 400;
            if (ev == 0) {
                assert_same(red_dirty_get(&d), &ref);
            } else if (ev == 1) {
                red_dirty_clear(&d);
                pixman_region32_clear(&ref);
            }
        }
        assert_same(red_dirty_get(&d), &ref);
        pixman_region32_fini(&ref);
        red_dirty_fini(&d);
    }
    /* Enough additions went through batches that had to merge early. */
    g_assert_cmpuint(total_boxes, >, 4 * RED_DIRTY_BATCH);
}

static void test_cover(void)
{
    RedDirty d;
    red_dirty_init(&d);
    pixman_box32_t glyphs[3] = { { 1, 1, 3, 4 }, { 5, 1, 7, 4 }, { 9, 2, 10, 3 } };
    pixman_region32_t r;
    pixman_region32_init_rects(&r, glyphs, 3);
    red_dirty_add(&d, &r);
    pixman_region32_fini(&r);
    /* A rectangle over everything replaces it; glyphs inside add nothing. */
    pixman_region32_init_rect(&r, 0, 0, 20, 10);
    red_dirty_add(&d, &r);
    pixman_region32_fini(&r);
    g_assert_cmpuint(d.n_boxes, ==, 0);
    pixman_region32_init_rects(&r, glyphs, 3);
    red_dirty_add(&d, &r);
    pixman_region32_fini(&r);
    g_assert_cmpuint(d.n_boxes, ==, 0);
    pixman_region32_t *got = red_dirty_get(&d);
    g_assert_cmpint(pixman_region32_n_rects(got), ==, 1);
    g_assert_cmpint(got->extents.x2, ==, 20);
    red_dirty_clear(&d);
    g_assert_false(pixman_region32_not_empty(red_dirty_get(&d)));
    red_dirty_fini(&d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dirty/random-vs-union", test_random);
    g_test_add_func("/dirty/cover", test_cover);
    return g_test_run();
}
