/* See stream-util.h. */
#include "tests/unit/stream/stream-util.h"

#include <math.h>
#include <string.h>
#include <spice/enums.h>

static TestDraw *frame(int x, int y, int w, int h, int n, bool video)
{
    TestDraw *d = test_draw_copy_bitmap(0, x, y, w, h, 1, 0, SPICE_BITMAP_FMT_32BIT, true);
    uint32_t *px = (uint32_t *)(void *)d->pixels;   /* stride is w * 4 */
    for (int row = 0; row < h; row++) {
        for (int col = 0; col < w; col++) {
            uint32_t v;
            if (video) {
                double t = n * 0.2;
                uint32_t r = (uint32_t)(127.5 + 127.5 * sin(col * 0.05 + t));
                uint32_t g = (uint32_t)(127.5 + 127.5 * sin(row * 0.07 - t));
                uint32_t b = (uint32_t)(127.5 + 127.5 * sin((col + row) * 0.03 + t * 0.5));
                v = r << 16 | g << 8 | b;
            } else {
                /* 6x9 glyph cells, a few lit pixels each, shifted with n */
                int cx = (col + n) % 6, cy = row % 9, glyph = ((col + n) / 6 + row / 9) % 5;
                bool ink = cx < 5 && cy < 7 && ((cx * 3 + cy * 5 + glyph) % 4 == 0);
                v = ink ? 0x000000 : 0xffffff;
            }
            px[(size_t)row * w + col] = v;
        }
    }
    return d;
}

TestDraw *stream_test_video_frame(int x, int y, int w, int h, int n)
{
    return frame(x, y, w, h, n, true);
}

TestDraw *stream_test_text_frame(int x, int y, int w, int h, int n)
{
    return frame(x, y, w, h, n, false);
}
