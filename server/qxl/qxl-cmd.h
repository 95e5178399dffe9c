/* Host-owned QXL commands: what the parser (parse.h) produces from guest
 * memory. Nothing here holds a QXLPHYSICAL; every pointer is either host
 * memory owned by the command or a validated, bounds-checked pointer into a
 * memslot (documented per field).
 *
 * Lifetime of in-place pointers: a field marked "in place" points into guest
 * memory and stays usable until the command is released to the device
 * (release_resource with `release`); after that the guest may reuse it.
 * The guest may also scribble on it at any time, so treat its contents as
 * untrusted bytes: no sizes are ever derived from in-place memory.
 *
 * Releasing: the free functions below free host memory only. Handing the
 * command back to the device (QXLInterface.release_resource(release)) is the
 * worker's job, done exactly once per parsed or rejected command, after the
 * last use of its in-place data.
 *
 * Threading: all of these are owned by the worker thread; the drawable
 * refcount is not atomic.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <spice/enums.h>
#include <spice/qxl_dev.h>

typedef struct RedRect {
    int32_t left, top, right, bottom;   /* right/bottom exclusive, left <= right, top <= bottom */
} RedRect;

typedef struct RedPoint {
    int32_t x, y;
} RedPoint;

typedef struct RedPoint16 {
    int16_t x, y;
} RedPoint16;

typedef struct RedPointFix {
    int32_t x, y;                       /* 28.4 fixed point */
} RedPointFix;

/* ---- images ---- */

#define RED_PALETTE_MAX_ENTS 256u

typedef struct RedPalette {
    uint64_t unique;
    uint16_t num_ents;                  /* as sent by the guest, <= RED_PALETTE_MAX_ENTS */
    uint32_t ents[RED_PALETTE_MAX_ENTS];/* 32-bit colours; entries >= num_ents are 0, so any
                                         * 8-bit index is safe */
} RedPalette;

/* One piece of a guest data chunk list, in place in guest memory. */
typedef struct RedDataChunk {
    const uint8_t *data;
    uint32_t size;
} RedDataChunk;

typedef struct RedBitmap {
    uint8_t format;                     /* SPICE_BITMAP_FMT_* (1BIT_LE .. 8BIT_A) */
    uint8_t flags;                      /* SPICE_BITMAP_FLAGS_TOP_DOWN or 0 */
    bool unstable;                      /* QXL_BITMAP_UNSTABLE: guest may change the pixels;
                                         * copy before using them after the worker returns */
    uint32_t width, height;             /* 1 .. RED_QXL_MAX_DIM */
    uint32_t stride;                    /* bytes, >= ceil(width * bpp / 8) */
    RedPalette *palette;                /* owned, NULL for RGB formats and palette-less masks */
    /* Pixels: use red_bitmap_get_data() for one contiguous buffer. data is
     * in place for one contiguous guest chunk or a QXL_BITMAP_DIRECT
     * bitmap. Several chunks stay in place as `chunks` (validated at parse
     * time, sizes summing to data_size) with data NULL until the first
     * red_bitmap_get_data gathers them into owned_data; the renderer reads
     * the chunks directly, so drawables dropped unrendered copy nothing. */
    const uint8_t *data;
    RedDataChunk *chunks;               /* owned or NULL */
    uint32_t n_chunks;
    uint8_t *owned_data;                /* owned or NULL */
    size_t data_size;                   /* == stride * height */
} RedBitmap;

typedef struct RedQuic {
    const uint8_t *data;                /* in place or == owned_data, see RedBitmap.data */
    uint8_t *owned_data;                /* owned or NULL */
    uint32_t data_size;                 /* bytes of QUIC stream */
} RedQuic;

typedef struct RedImage {
    uint64_t id;                        /* descriptor id (cache key) */
    uint8_t type;                       /* SPICE_IMAGE_TYPE_BITMAP, _QUIC or _SURFACE */
    uint8_t flags;                      /* SPICE_IMAGE_FLAGS_CACHE_ME | _HIGH_BITS_SET */
    uint32_t width, height;             /* descriptor; for BITMAP equal to the bitmap's */
    union {
        RedBitmap bitmap;
        RedQuic quic;
        uint32_t surface_id;            /* < n_surfaces */
    } u;
} RedImage;

/* Bits per pixel of a SPICE_BITMAP_FMT_*, 0 for invalid formats. Pure. */
unsigned red_bitmap_format_bpp(uint32_t format);

/* The bitmap's pixels as one contiguous buffer of exactly stride * height
 * bytes (*size receives that). Never NULL for a parsed bitmap. A bitmap in
 * several chunks is gathered on the first call and the copy cached in the
 * bitmap (the only change made through the const pointer). Worker thread;
 * the buffer belongs to the command (see "in place" above). */
const uint8_t *red_bitmap_get_data(const RedBitmap *bitmap, size_t *size);

/* ---- brushes, masks, clip ---- */

typedef struct RedBrush {
    uint32_t type;                      /* SPICE_BRUSH_TYPE_NONE / SOLID / PATTERN */
    union {
        uint32_t color;                 /* SOLID: 32-bit colour (16bpp guests converted) */
        struct {
            RedImage *pat;              /* owned, never NULL */
            RedPoint pos;
        } pattern;
    } u;
} RedBrush;

typedef struct RedQMask {
    RedImage *bitmap;                   /* owned; NULL = no mask (flags/pos then 0) */
    uint8_t flags;                      /* SPICE_MASK_FLAGS_INVERS */
    RedPoint pos;
} RedQMask;

typedef struct RedClip {
    uint32_t type;                      /* SPICE_CLIP_TYPE_NONE / RECTS */
    uint32_t num_rects;
    RedRect *rects;                     /* owned, num_rects entries (NULL when 0) */
} RedClip;

/* ---- per draw type ---- */

typedef struct RedFill {
    RedBrush brush;
    uint16_t rop_descriptor;            /* SPICE_ROPD_* bits */
    RedQMask mask;
} RedFill;

/* src_area of every source image below is well formed with left, top >= 0
 * and, for BITMAP images, inside the bitmap. For SURFACE images the parser
 * cannot know the surface size: the worker must clip src_area to it. */

typedef struct RedOpaque {
    RedImage *src_bitmap;               /* owned, never NULL */
    RedRect src_area;                   /* inside the bitmap for BITMAP sources */
    RedBrush brush;
    uint16_t rop_descriptor;
    uint8_t scale_mode;                 /* SPICE_IMAGE_SCALE_MODE_* */
    RedQMask mask;
} RedOpaque;

typedef struct RedCopy {                /* also BLEND */
    RedImage *src_bitmap;               /* owned, never NULL */
    RedRect src_area;
    uint16_t rop_descriptor;
    uint8_t scale_mode;
    RedQMask mask;
} RedCopy;

typedef struct RedTransparent {
    RedImage *src_bitmap;               /* owned, never NULL */
    RedRect src_area;
    uint32_t src_color;
    uint32_t true_color;
} RedTransparent;

typedef struct RedAlphaBlend {
    uint16_t alpha_flags;               /* SPICE_ALPHA_FLAGS_* (0 for compat drawables) */
    uint8_t alpha;
    RedImage *src_bitmap;               /* owned, never NULL */
    RedRect src_area;
} RedAlphaBlend;

typedef struct RedRop3 {
    RedImage *src_bitmap;               /* owned, never NULL */
    RedRect src_area;
    RedBrush brush;
    uint8_t rop3;
    uint8_t scale_mode;
    RedQMask mask;
} RedRop3;

typedef struct RedWhiteness {           /* also BLACKNESS and INVERS */
    RedQMask mask;
} RedWhiteness;

typedef struct RedPathSeg {
    uint32_t flags;                     /* QXL_PATH_* (SPICE_PATH_* on the wire) */
    uint32_t count;                     /* points in this segment */
    RedPointFix *points;                /* into RedPath.points */
} RedPathSeg;

typedef struct RedPath {
    uint32_t num_segments;
    RedPathSeg *segments;               /* owned */
    RedPointFix *points;                /* owned, all segments' points */
} RedPath;

typedef struct RedLineAttr {
    uint8_t flags;                      /* SPICE_LINE_FLAGS_* */
    uint8_t join_style, end_style;
    uint8_t style_nseg;                 /* entries in style, 0 unless STYLED */
    int32_t width, miter_limit;         /* 28.4 fixed */
    int32_t *style;                     /* owned, 28.4 fixed, NULL unless STYLED */
} RedLineAttr;

typedef struct RedStroke {
    RedPath *path;                      /* owned, never NULL */
    RedLineAttr attr;
    RedBrush brush;
    uint16_t fore_mode, back_mode;      /* rop descriptors */
} RedStroke;

typedef struct RedGlyph {
    RedPoint render_pos;
    RedPoint glyph_origin;
    uint16_t width, height;
    const uint8_t *data;                /* into RedString.raster, height * ceil(width*bpp/8) bytes */
} RedGlyph;

typedef struct RedString {
    uint16_t flags;                     /* SPICE_STRING_FLAGS_* */
    uint8_t bpp;                        /* 1, 4 or 8 (from the RASTER_A* flag) */
    uint16_t length;                    /* glyphs */
    RedGlyph *glyphs;                   /* owned, length entries */
    uint8_t *raster;                    /* owned copy of the glyph data */
} RedString;

typedef struct RedText {
    RedString *str;                     /* owned, never NULL */
    RedRect back_area;                  /* all 0 when back_brush is NONE */
    RedBrush fore_brush, back_brush;
    uint16_t fore_mode, back_mode;
} RedText;

typedef struct RedTransform {
    uint32_t t00, t01, t02, t10, t11, t12;  /* pixman 16.16, as the guest sent them */
} RedTransform;

typedef struct RedComposite {
    uint32_t flags;                     /* SPICE_COMPOSITE_*: op in bits 0-7 (QXL_OP_*), HAS_* set here */
    RedImage *src_bitmap;               /* owned, never NULL */
    RedImage *mask_bitmap;              /* owned, NULL unless HAS_MASK */
    RedTransform src_transform;         /* valid if HAS_SRC_TRANSFORM */
    RedTransform mask_transform;        /* valid if HAS_MASK_TRANSFORM */
    RedPoint16 src_origin, mask_origin;
} RedComposite;

typedef struct RedCopyBits {
    RedPoint src_pos;
} RedCopyBits;

/* ---- commands ---- */

typedef struct RedDrawable {
    int refs;                           /* red_drawable_ref/unref, worker thread only */
    QXLReleaseInfoExt release;          /* info: host pointer into guest memory */
    uint32_t surface_id;                /* < n_surfaces (0 for compat drawables) */
    uint8_t effect;                     /* QXLEffectType */
    uint8_t type;                       /* QXL_DRAW_* / QXL_COPY_BITS */
    bool self_bitmap;
    RedRect self_bitmap_area;           /* valid if self_bitmap */
    RedRect bbox;
    RedClip clip;
    uint32_t mm_time;
    int32_t surfaces_dest[3];           /* -1 or < n_surfaces */
    RedRect surfaces_rects[3];          /* valid where surfaces_dest[i] != -1 */
    union {
        RedFill fill;
        RedOpaque opaque;
        RedCopy copy;
        RedCopy blend;
        RedTransparent transparent;
        RedAlphaBlend alpha_blend;
        RedCopyBits copy_bits;
        RedRop3 rop3;
        RedStroke stroke;
        RedText text;
        RedWhiteness blackness;
        RedWhiteness whiteness;
        RedWhiteness invers;
        RedComposite composite;
    } u;
} RedDrawable;

typedef struct RedUpdateCmd {
    QXLReleaseInfoExt release;
    RedRect area;
    uint32_t update_id;
    uint32_t surface_id;                /* < n_surfaces */
} RedUpdateCmd;

typedef struct RedMessage {
    QXLReleaseInfoExt release;
    char *text;                         /* owned, NUL-terminated, non-printable bytes replaced
                                         * by '?', at most RED_QXL_MAX_MESSAGE_LEN chars */
    size_t len;
} RedMessage;

typedef struct RedSurfaceCmd {
    QXLReleaseInfoExt release;
    uint32_t surface_id;                /* < n_surfaces */
    uint8_t type;                       /* QXL_SURFACE_CMD_CREATE / DESTROY */
    uint32_t flags;
    /* CREATE only: */
    uint32_t format;                    /* SPICE_SURFACE_FMT_* */
    uint32_t width, height;             /* 1 .. RED_QXL_MAX_DIM */
    int32_t stride;                     /* bytes, never 0 or INT32_MIN; negative = bottom-up */
    uint8_t *mem;                       /* in place, lowest address of the surface memory */
    size_t mem_size;                    /* height * |stride| */
    uint8_t *line_0;                    /* in place, first row: mem, or mem + (height-1)*|stride| */
} RedSurfaceCmd;

typedef struct RedCursorShape {
    uint64_t unique;
    uint16_t type;                      /* SPICE_CURSOR_TYPE_* */
    uint16_t width, height;             /* <= RED_QXL_MAX_CURSOR_DIM */
    uint16_t hot_spot_x, hot_spot_y;
    uint32_t data_size;
    uint8_t *data;                      /* owned copy, data_size bytes; for ALPHA and MONO at least
                                         * the bytes the type needs */
} RedCursorShape;

typedef struct RedCursorCmd {
    QXLReleaseInfoExt release;
    uint8_t type;                       /* QXL_CURSOR_SET / MOVE / HIDE / TRAIL */
    union {
        struct {
            RedPoint16 position;
            uint8_t visible;
            RedCursorShape shape;
        } set;
        struct {
            uint16_t length, frequency;
        } trail;
        RedPoint16 position;            /* MOVE */
    } u;
} RedCursorCmd;

/* The primary surface from QXLDevSurfaceCreate, validated (parse.h). */
typedef struct RedPrimarySurface {
    uint32_t width, height;
    int32_t stride;
    uint32_t format;
    uint32_t position, mouse_mode, flags, type;
    uint8_t *mem;                       /* in place (device memory), lowest address */
    size_t mem_size;                    /* height * |stride| */
    uint8_t *line_0;                    /* first row, see RedSurfaceCmd */
} RedPrimarySurface;

/* Takes a reference. Worker thread. Returns drawable. */
RedDrawable *red_drawable_ref(RedDrawable *drawable);
/* Drops a reference; the last one frees all host memory (not the release,
 * see the top of this file). NULL is fine. Worker thread. */
void red_drawable_unref(RedDrawable *drawable);

/* Single-owner frees (host memory only); NULL is fine. Worker thread. */
void red_update_cmd_free(RedUpdateCmd *cmd);
void red_message_free(RedMessage *cmd);
void red_surface_cmd_free(RedSurfaceCmd *cmd);
void red_cursor_cmd_free(RedCursorCmd *cmd);
/* Frees an image and everything it owns; NULL is fine. Worker thread. */
void red_image_free(RedImage *image);
