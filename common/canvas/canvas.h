/* Software canvas over pixman: rasterises QXL/SPICE drawing operations into
 * surface memory with the same pixel results as spice-common's sw canvas.
 *
 * The API is pixman-level: it knows nothing about QXL or wire structs. A glue
 * layer maps parsed drawables onto these calls. All coordinates are surface
 * coordinates; all rectangles are pixman_box32_t {x1, y1, x2, y2} (x2/y2
 * exclusive). Every drawing call takes an optional clip region (NULL = no
 * clip) and the destination box (the drawable's bbox); the canvas bounds are
 * always applied.
 *
 * Threading: a RedCanvas is used by one thread at a time (the render worker);
 * nothing here locks. Input validation: values that come from a guest (boxes,
 * areas, path points, glyph sizes, palette indices) are checked or clamped, a
 * bad one makes the call return false without touching memory it may not.
 * Environment: RED_CANVAS_REFERENCE=1 makes the raster-op kernels use the
 * plain per-pixel reference implementation (read once, at first use).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <pixman.h>
#include <spice/enums.h>

typedef struct RedCanvas RedCanvas;

/* A 1-bit mask (QMask): pixels of the destination box are drawn only where
 * the mask bit at (dest - box origin + pos) is set (clear when invert). Pixels
 * that fall outside the mask image are never drawn. */
typedef struct RedCanvasMask {
    pixman_image_t *bitmap;     /* PIXMAN_a1, borrowed; NULL = no mask */
    int32_t x, y;               /* mask pixel drawn at the box's top-left */
    bool invert;
} RedCanvasMask;

typedef enum {
    RED_CANVAS_BRUSH_NONE,
    RED_CANVAS_BRUSH_SOLID,
    RED_CANVAS_BRUSH_PATTERN,
} RedCanvasBrushType;

typedef struct RedCanvasBrush {
    RedCanvasBrushType type;
    uint32_t color;             /* SOLID: raw pixel value in the canvas format */
    pixman_image_t *pattern;    /* PATTERN: tile, borrowed, any format */
    int32_t x, y;               /* PATTERN: surface position of tile pixel (0,0) */
} RedCanvasBrush;

/* 28.4 fixed point, as QXLPointFix / SpicePointFix. */
typedef struct RedCanvasPointFix {
    int32_t x, y;
} RedCanvasPointFix;

typedef struct RedCanvasPathSeg {
    uint32_t flags;             /* SPICE_PATH_BEGIN | END | CLOSE | BEZIER */
    uint32_t count;             /* number of points */
    const RedCanvasPointFix *points;
} RedCanvasPathSeg;

typedef struct RedCanvasLineAttr {
    uint32_t flags;             /* SPICE_LINE_FLAGS_STYLED | START_WITH_GAP */
    uint32_t style_nseg;        /* entries in style, at most 255 used */
    const int32_t *style;       /* 28.4 fixed segment lengths */
} RedCanvasLineAttr;

/* One raster glyph. Its box is (x, y, x + width, y + height) where x/y are
 * render_pos + glyph_origin. Rows are stored bottom row first (that is how
 * spice-common renders them), each row padded to a whole byte. */
typedef struct RedCanvasGlyph {
    int32_t x, y;
    uint32_t width, height;
    const uint8_t *data;
    size_t data_size;           /* bytes readable at data */
} RedCanvasGlyph;

typedef struct RedCanvasText {
    const RedCanvasGlyph *glyphs;
    uint32_t n_glyphs;
    uint32_t depth;             /* 1, 4 or 8 bits per glyph pixel */
    RedCanvasBrush fore;
    RedCanvasBrush back;
    uint16_t fore_mode, back_mode;      /* SPICE_ROPD_* */
    pixman_box32_t back_area;   /* empty = no background */
} RedCanvasText;

/* Source with area and scaling, used by copy-like operations. */
typedef struct RedCanvasSource {
    pixman_image_t *image;      /* borrowed; another canvas's image is fine */
    pixman_box32_t area;        /* src_area in source pixels */
    uint32_t scale_mode;        /* SPICE_IMAGE_SCALE_MODE_* when sizes differ */
} RedCanvasSource;

typedef struct RedCanvasComposite {
    uint32_t flags;             /* SpiceComposite flags: op, filters, repeats, ... */
    pixman_image_t *src;        /* borrowed */
    pixman_image_t *mask;       /* borrowed, used when flags & HAS_MASK */
    pixman_transform_t src_transform;   /* used when HAS_SRC_TRANSFORM */
    pixman_transform_t mask_transform;  /* used when HAS_MASK_TRANSFORM */
    int16_t src_x, src_y;
    int16_t mask_x, mask_y;
} RedCanvasComposite;

/* Lifecycle ---------------------------------------------------------------- */

/* Creates a canvas over caller memory (not copied, not freed). mem is the
 * lowest address of the buffer; when stride < 0 row 0 starts at
 * mem + (height - 1) * -stride, as QXLDevSurfaceCreate defines. |stride| must
 * be a multiple of 4 and hold a row. Any thread; caller owns the result. */
RedCanvas *red_canvas_create_for_data(uint32_t surface_format, int width, int height,
                                      uint8_t *mem, int32_t stride, GError **error);

/* Creates a canvas with its own zeroed memory (top-down). Caller owns it. */
RedCanvas *red_canvas_create(uint32_t surface_format, int width, int height,
                             GError **error);

/* Destroys a canvas (NULL is fine); caller memory is left alone. */
void red_canvas_destroy(RedCanvas *canvas);

/* The canvas's pixman image (borrowed; valid until destroy). Use it as the
 * source of another canvas's operations for surface-to-surface drawing. */
pixman_image_t *red_canvas_get_image(RedCanvas *canvas);
uint32_t red_canvas_get_format(const RedCanvas *canvas);
int red_canvas_get_width(const RedCanvas *canvas);
int red_canvas_get_height(const RedCanvas *canvas);

/* Maps a SPICE_SURFACE_FMT_* to a pixman format; 0 when unknown. */
pixman_format_code_t red_canvas_surface_format_to_pixman(uint32_t surface_format);

/* Drawing ------------------------------------------------------------------ 
 * All return false when an argument is invalid (nothing drawn), true
 * otherwise (also when clipping leaves nothing to draw). Worker thread. */

bool red_canvas_fill(RedCanvas *canvas, const pixman_region32_t *clip,
                     const pixman_box32_t *box, const RedCanvasBrush *brush,
                     uint16_t rop_descriptor, const RedCanvasMask *mask);

/* OPAQUE: the source is copied, then the brush is applied over it with the
 * rop descriptor (brush as the "src" operand, the copied pixels as "dest"). */
bool red_canvas_opaque(RedCanvas *canvas, const pixman_region32_t *clip,
                       const pixman_box32_t *box, const RedCanvasSource *src,
                       const RedCanvasBrush *brush, uint16_t rop_descriptor,
                       const RedCanvasMask *mask);

bool red_canvas_copy(RedCanvas *canvas, const pixman_region32_t *clip,
                     const pixman_box32_t *box, const RedCanvasSource *src,
                     uint16_t rop_descriptor, const RedCanvasMask *mask);

/* BLEND is drawn exactly like COPY by spice-common. */
bool red_canvas_blend(RedCanvas *canvas, const pixman_region32_t *clip,
                      const pixman_box32_t *box, const RedCanvasSource *src,
                      uint16_t rop_descriptor, const RedCanvasMask *mask);

bool red_canvas_blackness(RedCanvas *canvas, const pixman_region32_t *clip,
                          const pixman_box32_t *box, const RedCanvasMask *mask);
bool red_canvas_whiteness(RedCanvas *canvas, const pixman_region32_t *clip,
                          const pixman_box32_t *box, const RedCanvasMask *mask);
bool red_canvas_invers(RedCanvas *canvas, const pixman_region32_t *clip,
                       const pixman_box32_t *box, const RedCanvasMask *mask);

/* ROP3: dest = rop3(pattern/color, src, dest) bitwise, for all 256 codes.
 * Only 16 and 32 bpp canvases (like spice-common). */
bool red_canvas_rop3(RedCanvas *canvas, const pixman_region32_t *clip,
                     const pixman_box32_t *box, const RedCanvasSource *src,
                     const RedCanvasBrush *brush, uint8_t rop3,
                     const RedCanvasMask *mask);

/* STROKE: zero-width lines through the path (beziers flattened), fore_mode as
 * rop descriptor; back_mode is ignored (as upstream). Solid lines are
 * pixel-identical to spice-common (X11 miZeroLine rules). Styled lines draw
 * the "on" dashes along the same zero-width pixels; spice-common instead runs
 * X11's wide-dash code with width 1, so dashed pixels can differ there. */
bool red_canvas_stroke(RedCanvas *canvas, const pixman_region32_t *clip,
                       const pixman_box32_t *box, const RedCanvasPathSeg *segs,
                       uint32_t n_segs, const RedCanvasLineAttr *attr,
                       const RedCanvasBrush *brush, uint16_t fore_mode,
                       uint16_t back_mode);

bool red_canvas_text(RedCanvas *canvas, const pixman_region32_t *clip,
                     const pixman_box32_t *box, const RedCanvasText *text);

/* TRANSPARENT: source pixels equal to the key (compared in canvas format, low
 * 24 bits for 32 bpp) are skipped. true_color is 32-bit xRGB. */
bool red_canvas_transparent(RedCanvas *canvas, const pixman_region32_t *clip,
                            const pixman_box32_t *box, const RedCanvasSource *src,
                            uint32_t true_color);

/* ALPHA_BLEND: src OVER dest with a global alpha; alpha_flags are
 * SPICE_ALPHA_FLAGS_* (SRC_SURFACE_HAS_ALPHA reinterprets an xRGB source as
 * ARGB: pass it only for surface sources, upstream ignores it for bitmaps;
 * DEST_HAS_ALPHA keeps the dest alpha byte of an xRGB canvas). The source is
 * used in its own format (decode bitmaps without conversion). */
bool red_canvas_alpha_blend(RedCanvas *canvas, const pixman_region32_t *clip,
                            const pixman_box32_t *box, const RedCanvasSource *src,
                            uint8_t alpha, uint8_t alpha_flags);

/* COMPOSITE: pixman op/filters/repeats/component-alpha from the flags on a
 * copy of the box, copied back inside the clip. SOURCE_OPAQUE drops the
 * source's alpha (upstream honours it for surface sources only: clear it for
 * bitmaps); DEST_OPAQUE and MASK_OPAQUE are ignored, as upstream does.
 * Filters needing parameters (convolution) are rejected. */
bool red_canvas_composite(RedCanvas *canvas, const pixman_region32_t *clip,
                          const pixman_box32_t *box, const RedCanvasComposite *comp);

/* COPY_BITS: copies the canvas area at (src_x, src_y) onto box; overlapping
 * areas are handled. */
bool red_canvas_copy_bits(RedCanvas *canvas, const pixman_region32_t *clip,
                          const pixman_box32_t *box, int32_t src_x, int32_t src_y);

/* Reads an area (must lie inside the canvas) into dest rows of dest_stride
 * bytes, top row first, in the canvas format. */
bool red_canvas_read(RedCanvas *canvas, const pixman_box32_t *area,
                     uint8_t *dest, int dest_stride);

/* Returns a new top-down image holding a copy of area in the canvas format,
 * or NULL on an invalid area. Caller owns (pixman_image_unref). */
pixman_image_t *red_canvas_read_image(RedCanvas *canvas, const pixman_box32_t *area);

/* Bitmap decoding ------------------------------------------------------------ */

/* One contiguous piece of a bitmap's pixel bytes. */
typedef struct RedCanvasChunk {
    const uint8_t *data;
    size_t size;
} RedCanvasChunk;

typedef struct RedCanvasBitmap {
    uint32_t format;            /* SPICE_BITMAP_FMT_* */
    bool top_down;              /* SPICE_BITMAP_FLAGS_TOP_DOWN */
    uint32_t width, height;
    uint32_t stride;            /* bytes between rows in data */
    const uint8_t *data;
    size_t data_size;           /* bytes readable at data */
    const uint32_t *palette;    /* xRGB entries, for 1/4/8-bit formats */
    uint32_t palette_entries;
    /* Only red_canvas_copy_bitmap: with data NULL, the pixel bytes are these
     * pieces end to end (data_size ignored; rows may straddle pieces). */
    const RedCanvasChunk *chunks;
    uint32_t n_chunks;
} RedCanvasBitmap;

/* Decodes a bitmap into a new top-down pixman image: 1/4/8-bit paletted to
 * x8r8g8b8 (palette entries are 32-bit xRGB; a 16-bpp guest palette must be
 * widened by the caller) (palette indexes past palette_entries read as 0), 16BIT to
 * x1r5g5b5, 24BIT/32BIT to x8r8g8b8 (32BIT keeps its fourth byte), RGBA to
 * a8r8g8b8, 8BIT_A to a8. high_bits_set ORs 0xff000000 into x8r8g8b8 results
 * (SPICE_IMAGE_FLAGS_HIGH_BITS_SET). Returns NULL (and sets error) on bad
 * sizes, short data, a missing palette or an unknown format. Any thread;
 * caller owns the image. */
pixman_image_t *red_canvas_decode_bitmap(const RedCanvasBitmap *bitmap, bool high_bits_set,
                                         GError **error);

/* The same image as red_canvas_decode_bitmap would return, but reading the
 * bitmap's data in place (no copy) when the format needs no conversion
 * (32BIT without high_bits_set, RGBA, 16BIT, 8BIT_A) and rows are 32-bit
 * aligned; bottom-up bitmaps get a negative stride. NULL when that is not
 * possible or the bitmap is invalid: decode it instead. The data must stay
 * valid and unchanged while the image is used. Any thread; caller owns the
 * image (not the pixels). */
pixman_image_t *red_canvas_wrap_bitmap(const RedCanvasBitmap *bitmap, bool high_bits_set);

typedef enum {
    RED_CANVAS_DIRECT_UNSUPPORTED,  /* nothing drawn: use red_canvas_copy instead */
    RED_CANVAS_DIRECT_DONE,         /* drawn, as red_canvas_copy would have */
} RedCanvasDirect;

/* red_canvas_copy of a bitmap source without the intermediate image: the
 * bitmap's pixels are converted straight into the canvas inside box ∩
 * canvas ∩ clip, reading only the rows and columns that land there (data
 * or chunks). Handles the common case only: a 32-bpp canvas, a rop
 * descriptor that is a plain copy, area the size of box (no scaling), no
 * mask, and a 1/4/8-bit paletted, 16BIT, 24BIT, 32BIT or RGBA bitmap that
 * is valid; the result is pixel-identical to decoding (or wrapping) the
 * bitmap and calling red_canvas_copy. Anything else, and the reference
 * mode, returns RED_CANVAS_DIRECT_UNSUPPORTED without touching the canvas.
 * Any thread (the canvas's owner). */
RedCanvasDirect red_canvas_copy_bitmap(RedCanvas *canvas, const pixman_region32_t *clip,
                                       const pixman_box32_t *box, const RedCanvasBitmap *bitmap,
                                       bool high_bits_set, const pixman_box32_t *area,
                                       uint16_t rop_descriptor);

/* Decodes a 1-bit bitmap (1BIT_LE or 1BIT_BE) into a PIXMAN_a1 mask image,
 * ready for RedCanvasMask. Caller owns the image. */
pixman_image_t *red_canvas_decode_mask(const RedCanvasBitmap *bitmap, GError **error);
