/* QXL command parser: the only code that reads guest memory.
 *
 * Each entry point takes the memslot table, the command's group id, its
 * QXLPHYSICAL and flags, and returns a host-owned command (qxl-cmd.h) or NULL
 * with a GError (domain RED_PARSE_ERROR) whose message starts with
 * "guest bug: " and names the defect. The caller logs it rate-limited and
 * still releases the command when *release_out.info is non-NULL (the command
 * header was reachable but its contents were bad).
 *
 * Rules the implementation keeps: every guest pointer goes through
 * memslot_get_virt() with the size that will be touched; every guest struct
 * is copied once into a local and only the copy is validated and used; chunk
 * lists are bounded (RED_QXL_MAX_CHUNKS, RED_QXL_MAX_DATA_SIZE) and a chunk
 * seen twice is rejected; size arithmetic is done in 64 bits against these
 * limits. Nothing aborts on guest input.
 *
 * Threading: worker thread only (the table is the worker's).
 */
#pragma once

#include <glib.h>
#include "server/qxl/memslot.h"
#include "server/qxl/qxl-cmd.h"

/* Limits (documented in docs/ by whoever writes the limits page). */
#define RED_QXL_MAX_DATA_SIZE (UINT32_C(1) << 28)   /* bytes in one chunk list / bitmap / copy */
#define RED_QXL_MAX_CMD_DATA (UINT64_C(2) * RED_QXL_MAX_DATA_SIZE) /* all lists of one command */
#define RED_QXL_MAX_CHUNKS 65536u                    /* chunks in one list */
#define RED_QXL_MAX_DIM 32768u                       /* bitmap / surface width and height */
#define RED_QXL_MAX_SURFACE_SIZE (UINT32_C(1) << 30) /* height * |stride| of guest surfaces */
#define RED_QXL_MAX_CURSOR_DIM 1024u                 /* cursor width / height */
#define RED_QXL_MAX_CURSOR_DATA (UINT32_C(8) << 20)  /* bytes of one cursor shape */
#define RED_QXL_MAX_MESSAGE_LEN 100000u              /* QXL_CMD_MESSAGE text */
#define RED_QXL_MAX_MONITORS 16u                     /* heads of one monitors config */

#define RED_PARSE_ERROR (red_parse_error_quark())
GQuark red_parse_error_quark(void);

typedef enum RedParseErrorCode {
    RED_PARSE_ERROR_ADDRESS,    /* a pointer outside its memslot (or wrong generation...) */
    RED_PARSE_ERROR_INVALID,    /* a field with an impossible value */
    RED_PARSE_ERROR_LIMIT,      /* a size or count over one of the limits above */
    RED_PARSE_ERROR_UNSUPPORTED,/* unknown command / draw / image / clip type */
} RedParseErrorCode;

typedef struct RedParseCtx {
    const MemSlotTable *slots;  /* not owned */
    uint32_t n_surfaces;        /* QXLDevInitInfo.n_surfaces: surface ids must be below */
} RedParseCtx;

/* Parses a QXL_CMD_DRAW (QXLDrawable, or QXLCompatDrawable when flags has
 * QXL_COMMAND_FLAG_COMPAT; QXL_COMMAND_FLAG_COMPAT_16BPP converts 16-bit
 * colours). Returns a drawable with one reference, or NULL + err. */
RedDrawable *red_parse_drawable(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                                uint32_t flags, QXLReleaseInfoExt *release_out, GError **err);

/* Parses QXL_CMD_UPDATE. Caller owns the result (red_update_cmd_free). */
RedUpdateCmd *red_parse_update_cmd(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                                   QXLReleaseInfoExt *release_out, GError **err);

/* Parses QXL_CMD_MESSAGE (a NUL-terminated string inside the slot, copied
 * and sanitised). Caller owns the result (red_message_free). */
RedMessage *red_parse_message(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                              QXLReleaseInfoExt *release_out, GError **err);

/* Parses QXL_CMD_SURFACE (create with validated memory / destroy). Caller
 * owns the result (red_surface_cmd_free). */
RedSurfaceCmd *red_parse_surface_cmd(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                                     QXLReleaseInfoExt *release_out, GError **err);

/* Parses QXL_CMD_CURSOR (SET copies the shape). Caller owns the result
 * (red_cursor_cmd_free). */
RedCursorCmd *red_parse_cursor_cmd(const RedParseCtx *ctx, uint32_t group_id, QXLPHYSICAL addr,
                                   QXLReleaseInfoExt *release_out, GError **err);

/* Parses the QXLMonitorsConfig that QXL_IO_MONITORS_CONFIG_ASYNC points at
 * (it is not a ring command: nothing to release). The header is copied
 * once, then 1 .. RED_QXL_MAX_MONITORS heads (and at most max_allowed when
 * that is not 0) are copied once; every head must name a surface below
 * n_surfaces and have width/height <= RED_QXL_MAX_DIM. Returns a host copy
 * (header + count heads, count and max_allowed as validated) that the
 * caller frees with g_free, or NULL + err. Worker thread. */
QXLMonitorsConfig *red_parse_monitors_config(const RedParseCtx *ctx, uint32_t group_id,
                                             QXLPHYSICAL addr, GError **err);

/* Any command, by QXLCommand.type. */
typedef struct RedCommand {
    uint32_t type;              /* QXL_CMD_*; QXL_CMD_NOP = nothing parsed */
    union {
        RedDrawable *draw;
        RedUpdateCmd *update;
        RedMessage *message;
        RedSurfaceCmd *surface;
        RedCursorCmd *cursor;
    } u;
} RedCommand;

/* Parses one ring entry into *out. QXL_CMD_NOP succeeds with nothing to
 * release (release_out->info NULL); unknown types fail. Returns false + err
 * on failure (*out then has type NOP). Worker thread. */
bool red_parse_command(const RedParseCtx *ctx, const QXLCommandExt *ext, RedCommand *out,
                       QXLReleaseInfoExt *release_out, GError **err);

/* Frees what red_parse_command produced and sets type to NOP. Worker thread. */
void red_command_clear(RedCommand *cmd);

/* The fields of QXLDevSurfaceCreate (spice-qxl.h), so this header does not
 * depend on the public API headers. */
typedef struct RedPrimaryRequest {
    uint32_t width, height;
    int32_t stride;
    uint32_t format;
    uint32_t position, mouse_mode, flags, type;
    uint64_t mem;
    uint32_t group_id;
} RedPrimaryRequest;

/* Validates a primary surface request (format, dimensions, stride incl.
 * negative strides where mem is the lowest address) and translates its
 * memory with size height*|stride|. Returns false + err (RED_PARSE_ERROR,
 * "guest bug: ...") on failure. Worker thread. */
bool red_parse_primary(const RedParseCtx *ctx, const RedPrimaryRequest *req,
                       RedPrimarySurface *out, GError **err);

/* Checks surface geometry: known format, 1..RED_QXL_MAX_DIM, stride not 0
 * or INT32_MIN and |stride| >= ceil(width*bpp/8), height*|stride| <=
 * RED_QXL_MAX_SURFACE_SIZE. Sets *size on success, else err. Pure. */
bool red_validate_surface(uint32_t width, uint32_t height, int32_t stride, uint32_t format,
                          uint64_t *size, GError **err);

/* Bits per pixel of a SPICE_SURFACE_FMT_*, 0 when unknown. Pure. */
unsigned red_surface_format_bpp(uint32_t format);
