/* Private to server/qxl/parse-*.c: the parse state and guest-memory
 * helpers every parser file uses. Worker thread only. */
#pragma once

#include "server/qxl/parse.h"

typedef struct ParseState {
    const RedParseCtx *ctx;
    uint32_t group_id;
    uint32_t flags;             /* QXLCommandExt.flags (COMPAT, COMPAT_16BPP) */
    GError **err;
    GError *local_err;          /* used when the caller passed err == NULL */
    uint64_t chunk_bytes;       /* all chunk lists of this command, <= RED_QXL_MAX_CMD_DATA */
} ParseState;

void parse_state_init(ParseState *st, const RedParseCtx *ctx, uint32_t group_id,
                      uint32_t flags, GError **err);
/* Frees local_err if the caller did not want it. */
void parse_state_finish(ParseState *st);

/* Records the first defect ("guest bug: " + text) and returns false. */
bool parse_fail(ParseState *st, RedParseErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Translates addr for `size` bytes; NULL after parse_fail naming `what`. */
const void *parse_pin(ParseState *st, QXLPHYSICAL addr, size_t size, const char *what);

/* Copies `size` guest bytes at addr into dst, once. */
bool parse_fetch(ParseState *st, QXLPHYSICAL addr, void *dst, size_t size, const char *what);

/* addr + delta inside the same slot. */
bool parse_addr_add(ParseState *st, QXLPHYSICAL addr, uint64_t delta, QXLPHYSICAL *out,
                    const char *what);

/* One validated piece of a chunk list (in place). */
typedef RedDataChunk ParseChunk;

typedef struct ParseChunks {
    ParseChunk *v;              /* owned */
    uint32_t n;
    uint64_t total;             /* <= RED_QXL_MAX_DATA_SIZE */
} ParseChunks;

/* Walks a QXLDataChunk list. `first` is the already-copied header of the
 * first chunk, located at guest address first_addr (its data follows the
 * header). Empty chunks count toward RED_QXL_MAX_CHUNKS; a header seen
 * twice (by host address) is a loop and rejected. */
bool parse_chunks_from_header(ParseState *st, const QXLDataChunk *first, QXLPHYSICAL first_addr,
                              ParseChunks *out, const char *what);
/* Same, starting from the address of the first chunk header. */
bool parse_chunks_at(ParseState *st, QXLPHYSICAL addr, ParseChunks *out, const char *what);
/* Copies the first min(max, total) bytes of the chunks into one new host
 * buffer (at least 1 byte long, so the result is never NULL). */
uint8_t *parse_chunks_gather_n(const ParseChunks *chunks, uint64_t max);
/* Copies all chunks into one new host buffer of chunks->total bytes. */
uint8_t *parse_chunks_gather(const ParseChunks *chunks);
void parse_chunks_clear(ParseChunks *chunks);

/* Images, brushes, masks (parse-image.c). An image address of 0 yields
 * NULL without error only when `optional`. */
bool parse_image(ParseState *st, QXLPHYSICAL addr, bool is_mask, bool optional,
                 RedImage **out, const char *what);
bool parse_brush(ParseState *st, const QXLBrush *qxl, RedBrush *out);
void red_brush_clear(RedBrush *brush);
bool parse_qmask(ParseState *st, const QXLQMask *qxl, RedQMask *out);
void red_qmask_clear(RedQMask *mask);
uint32_t parse_color(const ParseState *st, uint32_t color);

/* Shared small validators. */
bool parse_rect(ParseState *st, const QXLRect *qxl, RedRect *out, const char *what);
bool parse_surface_id(ParseState *st, uint32_t id, const char *what);
