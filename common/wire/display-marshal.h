/* Display and cursor channel messages, server -> client: bytes only.
 *
 * The structs below are wire-level descriptions (spice.proto's
 * DisplayChannel and CursorChannel). They borrow every pointer; the writer
 * copies bytes into a WireWriter whose `base` is the body start. Policy
 * (what to send, caching, which image type) lives in server/display; this
 * file only lays out what it is given. Layouts: spice-reference.md sections
 * 2.2, 4.3-4.8 and 5.1.
 *
 * Pointer fields are written as u32 offsets from w->base; the pointed-to
 * objects follow the fixed part, in field order, each one's own children
 * right after it.
 *
 * Pure functions over the writer: any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spice/enums.h>

#include "common/wire/writer.h"

/* Our rect order; written as top, left, bottom, right. */
typedef struct WireRect {
    int32_t left, top, right, bottom;
} WireRect;

typedef struct WirePoint {
    int32_t x, y;
} WirePoint;

typedef struct WireClip {
    uint8_t type;                   /* SPICE_CLIP_TYPE_NONE / RECTS */
    uint32_t num_rects;
    const WireRect *rects;
} WireClip;

typedef struct WirePalette {
    uint64_t unique;
    uint16_t num_ents;
    const uint32_t *ents;
} WirePalette;

typedef struct WireImage {
    uint64_t id;
    uint8_t type;                   /* SPICE_IMAGE_TYPE_* */
    uint8_t flags;                  /* SPICE_IMAGE_FLAGS_* */
    uint32_t width, height;
    union {
        struct {
            uint8_t format;         /* SPICE_BITMAP_FMT_* */
            uint8_t flags;          /* SPICE_BITMAP_FLAGS_TOP_DOWN; PAL_* come from pal_flags */
            uint32_t stride;        /* bytes */
            const WirePalette *palette;     /* NULL for RGB formats */
            const uint8_t *data;    /* stride * height bytes */
        } bitmap;
        struct {                    /* QUIC, LZ_RGB, GLZ_RGB, JPEG, LZ4 */
            const uint8_t *data;
            uint32_t size;
        } binary;
        uint32_t surface_id;        /* SURFACE */
        struct {                    /* when `encoded`: an encoder's output */
            const uint8_t *body;    /* the bytes after the descriptor, as is */
            size_t size;
            int32_t palette_slot;   /* offset in body of a u32 Palette pointer
                                     * to fill, -1 = none */
            const WirePalette *palette; /* written after body when palette_slot >= 0 */
        } encoded;
    } u;                            /* FROM_CACHE*: nothing */
    bool encoded;                   /* u.encoded holds the body, whatever `type` is */
    /* Palette caching for an image that carries a palette (BITMAP, LZ_PLT):
     * SPICE_BITMAP_FLAGS_PAL_FROM_CACHE writes pal_id in place of the
     * palette, PAL_CACHE_ME writes the palette with unique = pal_id; 0
     * writes it inline as given. */
    uint8_t pal_flags;
    uint64_t pal_id;
} WireImage;

typedef struct WireBrush {
    uint8_t type;                   /* SPICE_BRUSH_TYPE_* */
    uint32_t color;                 /* SOLID */
    const WireImage *pat;           /* PATTERN, never NULL then */
    WirePoint pos;                  /* PATTERN */
} WireBrush;

typedef struct WireQMask {
    uint8_t flags;                  /* SPICE_MASK_FLAGS_INVERS */
    WirePoint pos;
    const WireImage *bitmap;        /* NULL = no mask */
} WireQMask;

typedef struct WirePathSeg {
    uint8_t flags;                  /* SPICE_PATH_* */
    uint32_t count;
    const WirePoint *points;        /* 28.4 fixed */
} WirePathSeg;

typedef struct WirePath {
    uint32_t num_segments;
    const WirePathSeg *segments;
} WirePath;

typedef struct WireLineAttr {
    uint8_t flags;                  /* SPICE_LINE_FLAGS_* */
    uint8_t style_nseg;             /* used when STYLED */
    const int32_t *style;           /* 28.4 fixed, style_nseg entries */
} WireLineAttr;

typedef struct WireGlyph {
    WirePoint render_pos, glyph_origin;
    uint16_t width, height;
    const uint8_t *data;            /* ((width * bpp + 7) / 8) * height bytes */
} WireGlyph;

typedef struct WireString {
    uint16_t length;
    uint8_t flags;                  /* SPICE_STRING_FLAGS_RASTER_A1/A4/A8 (+TOP_DOWN) */
    const WireGlyph *glyphs;
} WireString;

typedef struct WireTransform {
    uint32_t t00, t01, t02, t10, t11, t12;
} WireTransform;

/* One drawing message: DisplayBase + the arm selected by `type`. */
typedef struct WireDraw {
    uint16_t type;                  /* SPICE_MSG_DISPLAY_DRAW_* or _COPY_BITS */
    uint32_t surface_id;
    WireRect box;
    WireClip clip;
    union {
        struct {
            WireBrush brush;
            uint16_t rop_descriptor;
            WireQMask mask;
        } fill;
        struct {
            const WireImage *src;
            WireRect src_area;
            WireBrush brush;
            uint16_t rop_descriptor;
            uint8_t scale_mode;
            WireQMask mask;
        } opaque;
        struct {                    /* COPY and BLEND */
            const WireImage *src;
            WireRect src_area;
            uint16_t rop_descriptor;
            uint8_t scale_mode;
            WireQMask mask;
        } copy;
        struct {                    /* BLACKNESS, WHITENESS, INVERS */
            WireQMask mask;
        } whiteness;
        struct {
            const WireImage *src;
            WireRect src_area;
            WireBrush brush;
            uint8_t rop3;
            uint8_t scale_mode;
            WireQMask mask;
        } rop3;
        struct {
            const WirePath *path;
            WireLineAttr attr;
            WireBrush brush;
            uint16_t fore_mode, back_mode;
        } stroke;
        struct {
            const WireString *str;
            WireRect back_area;
            WireBrush fore_brush, back_brush;
            uint16_t fore_mode, back_mode;
        } text;
        struct {
            const WireImage *src;
            WireRect src_area;
            uint32_t src_color, true_color;
        } transparent;
        struct {
            uint8_t alpha_flags;
            uint8_t alpha;
            const WireImage *src;
            WireRect src_area;
        } alpha_blend;
        struct {
            uint32_t flags;         /* SPICE_COMPOSITE_*: HAS_* select the optional parts */
            const WireImage *src;
            const WireImage *mask;  /* written when HAS_MASK */
            WireTransform src_transform, mask_transform;
            int16_t src_origin_x, src_origin_y;
            int16_t mask_origin_x, mask_origin_y;
        } composite;
        WirePoint copy_bits_src;
    } u;
} WireDraw;

typedef struct WireHead {
    uint32_t id, surface_id, width, height, x, y, flags;
} WireHead;

/* Bytes per image row unit: image_size(bpp, width, height) of spice.proto. */
static inline size_t wire_image_size(unsigned bpp, uint32_t width, uint32_t height)
{
    return (((size_t)width * bpp + 7) / 8) * height;
}

/* Display server messages. Each writes one body at the end of w. */
void wire_display_draw(WireWriter *w, const WireDraw *d);
void wire_display_surface_create(WireWriter *w, uint32_t surface_id, uint32_t width,
                                 uint32_t height, uint32_t format, uint32_t flags);
void wire_display_surface_destroy(WireWriter *w, uint32_t surface_id);
/* INVAL_LIST of pixmap ids (RES_TYPE_PIXMAP each). count <= UINT16_MAX. */
void wire_display_inval_list(WireWriter *w, const uint64_t *ids, uint16_t count);
/* INVAL_ALL_PIXMAPS with an empty wait list. */
void wire_display_inval_all_pixmaps(WireWriter *w);
void wire_display_monitors_config(WireWriter *w, const WireHead *heads, uint16_t count,
                                  uint16_t max_allowed);
/* A lone image (descriptor + body), as the pointer target of a draw. */
void wire_display_image(WireWriter *w, const WireImage *img);

/* ---- video streams (spice.proto stream_*; spice-reference.md 4.9) ---- */

typedef struct WireStreamCreate {
    uint32_t surface_id;
    uint32_t id;                    /* < 50 on our side */
    uint8_t flags;                  /* SPICE_STREAM_FLAGS_TOP_DOWN */
    uint8_t codec_type;             /* SPICE_VIDEO_CODEC_TYPE_* */
    uint64_t stamp;
    uint32_t stream_width, stream_height;
    uint32_t src_width, src_height;
    WireRect dest;
    WireClip clip;
} WireStreamCreate;

void wire_display_stream_create(WireWriter *w, const WireStreamCreate *c);
/* STREAM_DATA: {id, multi_media_time, data_size, data}. */
void wire_display_stream_data(WireWriter *w, uint32_t id, uint32_t mm_time,
                              const uint8_t *data, uint32_t size);
/* STREAM_DATA_SIZED: {id, multi_media_time, width, height, dest, data_size,
 * data}. */
void wire_display_stream_data_sized(WireWriter *w, uint32_t id, uint32_t mm_time,
                                    uint32_t width, uint32_t height, const WireRect *dest,
                                    const uint8_t *data, uint32_t size);
void wire_display_stream_clip(WireWriter *w, uint32_t id, const WireClip *clip);
void wire_display_stream_destroy(WireWriter *w, uint32_t id);
void wire_display_stream_activate_report(WireWriter *w, uint32_t stream_id, uint32_t unique_id,
                                         uint32_t max_window_size, uint32_t timeout_ms);

/* SPICE_MSG_LIST bodies: the sub-message table at the body start, then
 * each sub-message {u16 type, u32 size, body}. While a sub-message is open
 * w->base is its body start, so pointer fields inside it are relative to it
 * as spice-gtk parses them. */
typedef struct WireList {
    size_t table;                   /* offset of the first u32 entry */
    uint16_t count, next;
    size_t sub_start;               /* header offset of the open sub-message */
    size_t saved_base;
} WireList;

void wire_list_begin(WireWriter *w, WireList *l, uint16_t count);
void wire_list_sub_begin(WireWriter *w, WireList *l, uint16_t type);
void wire_list_sub_end(WireWriter *w, WireList *l);

/* ---- cursor channel ---- */

typedef struct WireCursor {
    uint16_t flags;                 /* SPICE_CURSOR_FLAGS_*; NONE: nothing else written */
    uint64_t unique;
    uint8_t type;                   /* SPICE_CURSOR_TYPE_* */
    uint16_t width, height, hot_spot_x, hot_spot_y;
    const uint8_t *data;            /* to the end of the message; none with FROM_CACHE */
    size_t data_size;
} WireCursor;

void wire_cursor_init(WireWriter *w, int16_t x, int16_t y, uint16_t trail_length,
                      uint16_t trail_frequency, uint8_t visible, const WireCursor *c);
void wire_cursor_set(WireWriter *w, int16_t x, int16_t y, uint8_t visible, const WireCursor *c);
void wire_cursor_move(WireWriter *w, int16_t x, int16_t y);
void wire_cursor_trail(WireWriter *w, uint16_t length, uint16_t frequency);
void wire_cursor_inval_one(WireWriter *w, uint64_t id);
