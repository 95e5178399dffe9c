/* Internal interfaces shared by the canvas files. Not for use outside
 * common/canvas/ (tests may include it to reach the reference kernels). */
#pragma once

#include "common/canvas/canvas.h"

struct RedCanvas {
    uint32_t format;            /* SPICE_SURFACE_FMT_* */
    int width, height;
    int bpp;                    /* 1, 8, 16 or 32 */
    pixman_image_t *image;      /* owned; bits point at row 0, stride may be < 0 */
    uint8_t *own_mem;           /* owned when the canvas allocated its memory */
};

/* X11 GX raster ops, as spice-common's SpiceROP (value = truth table with
 * bit 3 for src=0,dst=0 ... bit 0 for src=1,dst=1). */
typedef enum {
    RED_ROP_CLEAR, RED_ROP_AND, RED_ROP_AND_REVERSE, RED_ROP_COPY,
    RED_ROP_AND_INVERTED, RED_ROP_NOOP, RED_ROP_XOR, RED_ROP_OR,
    RED_ROP_NOR, RED_ROP_EQUIV, RED_ROP_INVERT, RED_ROP_OR_REVERSE,
    RED_ROP_COPY_INVERTED, RED_ROP_OR_INVERTED, RED_ROP_NAND, RED_ROP_SET,
} RedRop;

typedef enum {
    RED_ROP_INPUT_SRC,
    RED_ROP_INPUT_BRUSH,
    RED_ROP_INPUT_DEST,
} RedRopInput;

/* Maps a SPICE_ROPD_* descriptor to a RedRop given which operands play the
 * "src" and "dest" roles. */
RedRop red_canvas_ropd_to_rop(uint16_t desc, RedRopInput src_input, RedRopInput dest_input);

/* True when RED_CANVAS_REFERENCE=1 (or after red_canvas_set_reference). */
bool red_canvas_use_reference(void);
/* Forces the reference path on or off (tests). */
void red_canvas_set_reference(bool on);

/* Bits per pixel of a pixman image (x8r8g8b8 -> 32, x1r5g5b5 -> 16, a1 -> 1). */
int red_canvas_image_bpp(pixman_image_t *image);

/* Raster-op kernels. Rectangles must lie inside dest; the caller clips.
 * Images may have negative strides. */
void red_rop_fill_rect(pixman_image_t *dest, int x, int y, int w, int h,
                       uint32_t value, RedRop rop);
/* red_rop_fill_rect over n rectangles (each inside dest). */
void red_rop_fill_rects(pixman_image_t *dest, const pixman_box32_t *rects, int n,
                        uint32_t value, RedRop rop);
/* Tile must have dest's bpp; (ox, oy) is where tile pixel (0,0) lands. */
void red_rop_tile_rect(pixman_image_t *dest, int x, int y, int w, int h,
                       pixman_image_t *tile, int ox, int oy, RedRop rop);
/* Source rectangle is clipped to src's bounds (dest shifted accordingly), as
 * spice-common's blit does; src must have dest's bpp. */
void red_rop_blit(pixman_image_t *dest, pixman_image_t *src, int sx, int sy,
                  int dx, int dy, int w, int h, RedRop rop);
/* Copies src pixels that differ from key (low 24 bits for 32 bpp). */
void red_rop_blit_colorkey(pixman_image_t *dest, pixman_image_t *src, int sx, int sy,
                           int dx, int dy, int w, int h, uint32_t key);
/* Copies a rectangle within one image; overlap-safe for any direction. */
void red_rop_copy_rect(pixman_image_t *image, int sx, int sy, int w, int h, int dx, int dy);

/* Reads/writes one pixel of any supported bpp (reference helpers). */
uint32_t red_pixel_get(pixman_image_t *image, int x, int y);
void red_pixel_put(pixman_image_t *image, int x, int y, uint32_t v);

/* Applies a RedRop to one word (reference formula). */
static inline uint32_t red_rop_apply(RedRop rop, uint32_t s, uint32_t d)
{
    uint32_t r = 0;
    if (rop & 8) r |= ~s & ~d;
    if (rop & 4) r |= ~s & d;
    if (rop & 2) r |= s & ~d;
    if (rop & 1) r |= s & d;
    return r;
}

/* Clip and mask helpers (canvas.c). Initialises region to box ∩ canvas ∩
 * clip, then removes pixels excluded by mask (which is positioned relative to
 * the box origin). Returns false on invalid arguments (region left empty). */
bool red_canvas_dest_region(RedCanvas *canvas, pixman_region32_t *region,
                            const pixman_region32_t *clip, const pixman_box32_t *box,
                            const RedCanvasMask *mask);

/* Applies a brush over every rectangle of region with rop (canvas.c). */
bool red_canvas_draw_brush(RedCanvas *canvas, pixman_region32_t *region,
                           const RedCanvasBrush *brush, RedRop rop);

/* Returns src itself (ref'ed) when its bits can be used raw with the canvas,
 * else a converted copy in the canvas's target format. Caller unrefs. */
pixman_image_t *red_canvas_source_for(RedCanvas *canvas, pixman_image_t *src);
