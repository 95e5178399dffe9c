/* Seeded random operations run twice, once with the specialised raster-op
 * kernels and once with the per-pixel reference path, on identical canvases;
 * after every operation the pixels must match. RED_CANVAS_SEED picks the
 * seed, RED_CANVAS_ITERATIONS the count (default 1500); a failure prints the
 * seed and iteration so one case can be replayed. */
#include "canvas-test-util.h"

#define W 40
#define H 30

static const uint16_t ops[] = {
    0, SPICE_ROPD_OP_PUT, SPICE_ROPD_OP_OR, SPICE_ROPD_OP_AND, SPICE_ROPD_OP_XOR,
    SPICE_ROPD_OP_BLACKNESS, SPICE_ROPD_OP_WHITENESS, SPICE_ROPD_OP_INVERS,
};

static uint16_t random_desc(Rng *r)
{
    uint16_t d = ops[rng_next(r) % G_N_ELEMENTS(ops)] | (rng_next(r) & 7);
    return (rng_next(r) & 1) ? d | SPICE_ROPD_INVERS_RES : d;
}

static pixman_box32_t random_box(Rng *r)
{
    int x = rng_range(r, -5, W), y = rng_range(r, -5, H);
    return (pixman_box32_t){ x, y, x + rng_range(r, 1, W), y + rng_range(r, 1, H) };
}

/* Runs operation number `kind` with parameters drawn from a copy of rng on
 * canvas c; both paths draw the same parameters. */
static void run_op(RedCanvas *c, Rng rng, uint32_t format, int kind)
{
    pixman_format_code_t pf = red_canvas_surface_format_to_pixman(format);
    pixman_box32_t box = random_box(&rng);
    pixman_box32_t rects[3];
    for (int i = 0; i < 3; i++) {
        rects[i] = random_box(&rng);
    }
    pixman_region32_t clip;
    pixman_region32_init_rects(&clip, rects, 3);
    const pixman_region32_t *cl = (rng_next(&rng) & 1) ? &clip : NULL;
    uint8_t *mbits = NULL;
    RedCanvasMask mask = { 0 };
    if (rng_next(&rng) % 3 == 0) {
        mask.bitmap = make_mask(&rng, rng_range(&rng, 1, 50), rng_range(&rng, 1, 40), &mbits);
        mask.x = rng_range(&rng, -5, 5);
        mask.y = rng_range(&rng, -5, 5);
        mask.invert = rng_next(&rng) & 1;
    }
    RedCanvasBrush brush = { .type = (RedCanvasBrushType)(rng_next(&rng) % 3), .color = rng_next(&rng),
                             .x = rng_range(&rng, -20, 20), .y = rng_range(&rng, -20, 20) };
    brush.pattern = random_image(&rng, pf, rng_range(&rng, 1, 9), rng_range(&rng, 1, 9));
    pixman_image_t *src = random_image(&rng, pf, rng_range(&rng, 1, 60), rng_range(&rng, 1, 50));
    RedCanvasSource so = { src, random_box(&rng), (uint32_t)(rng_next(&rng) & 1) };
    if (rng_next(&rng) & 1) {
        so.area.x2 = so.area.x1 + (box.x2 - box.x1);
        so.area.y2 = so.area.y1 + (box.y2 - box.y1);
    }
    uint16_t desc = random_desc(&rng);

    switch (kind) {
    case 0:
        red_canvas_fill(c, cl, &box, &brush, desc, &mask);
        break;
    case 1:
        /* scaled INTERPOLATE is pixman's business; keep the rop paths */
        so.scale_mode = SPICE_IMAGE_SCALE_MODE_NEAREST;
        red_canvas_copy(c, cl, &box, &so, desc, &mask);
        break;
    case 2:
        so.scale_mode = SPICE_IMAGE_SCALE_MODE_NEAREST;
        red_canvas_opaque(c, cl, &box, &so, &brush, desc, &mask);
        break;
    case 3:
        red_canvas_invers(c, cl, &box, &mask);
        break;
    case 4:
        red_canvas_transparent(c, cl, &box, &so, rng_next(&rng));
        break;
    case 5:
        red_canvas_copy_bits(c, cl, &box, rng_range(&rng, -5, W), rng_range(&rng, -5, H));
        break;
    default: {
        RedCanvasPointFix pts[5];
        for (int i = 0; i < 5; i++) {
            pts[i] = (RedCanvasPointFix){ rng_range(&rng, -100, W * 16 + 100),
                                          rng_range(&rng, -100, H * 16 + 100) };
        }
        RedCanvasPathSeg seg = { SPICE_PATH_BEGIN | SPICE_PATH_END | SPICE_PATH_CLOSE, 5, pts };
        int32_t style[3] = { rng_range(&rng, 0, 80), rng_range(&rng, 0, 80), rng_range(&rng, 16, 80) };
        RedCanvasLineAttr attr = { (uint32_t)(rng_next(&rng) & 0xc), 3, style };
        red_canvas_stroke(c, cl, &box, &seg, 1, &attr, &brush, desc, 0);
        break;
    }
    }
    pixman_image_unref(src);
    pixman_image_unref(brush.pattern);
    if (mask.bitmap) {
        pixman_image_unref(mask.bitmap);
    }
    g_free(mbits);
    pixman_region32_fini(&clip);
}

static void test_random(void)
{
    const char *s = getenv("RED_CANVAS_SEED"), *n = getenv("RED_CANVAS_ITERATIONS");
    uint64_t seed = s ? g_ascii_strtoull(s, NULL, 0) : 0x2545f4914f6cdd1dull;
    long iterations = n ? atol(n) : 1500;
    Rng rng = { seed ? seed : 1 };
    uint64_t checksum = 0xcbf29ce484222325ull;

    for (unsigned fi = 0; fi < G_N_ELEMENTS(all_formats); fi++) {
        uint32_t format = all_formats[fi];
        TestCanvas fast, ref;
        Rng init = rng;
        tc_init(&fast, format, W, H, fi & 1, &init);
        init = rng;
        tc_init(&ref, format, W, H, fi & 1, &init);
        rng = init;
        for (long it = 0; it < iterations; it++) {
            int kind = (int)(rng_next(&rng) % 7);
            Rng op_rng = { rng_next(&rng) | 1 };
            red_canvas_set_reference(false);
            run_op(fast.canvas, op_rng, format, kind);
            red_canvas_set_reference(true);
            run_op(ref.canvas, op_rng, format, kind);
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    uint32_t a = tc_get(&fast, x, y), b = tc_get(&ref, x, y);
                    if (a != b) {
                        g_error("seed 0x%" G_GINT64_MODIFIER "x format %u iteration %ld op %d: "
                                "(%d,%d) fast 0x%x reference 0x%x", (guint64)seed, format, it,
                                kind, x, y, a, b);
                    }
                    checksum = (checksum ^ a) * 0x100000001b3ull;
                }
            }
        }
        tc_fini(&fast);
        tc_fini(&ref);
    }
    red_canvas_set_reference(false);
    g_test_message("seed 0x%" G_GINT64_MODIFIER "x checksum 0x%016" G_GINT64_MODIFIER "x",
                   (guint64)seed, (guint64)checksum);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/canvas/random/fast-vs-reference", test_random);
    return g_test_run();
}
