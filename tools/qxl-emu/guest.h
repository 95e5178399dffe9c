/* The guest driver side of qxl-emu: what the Linux/Windows QXL drivers do.
 *
 * Allocates commands, images and surfaces in device memory, pushes them on
 * the command/cursor rings (waiting for space on the device's interrupt),
 * issues IO-port writes, waits for async completion, and collects the
 * release ring, freeing memory only when the server has released it.  When
 * device memory runs out it collects, then asks the server for memory with
 * QXL_IO_NOTIFY_OOM, bounded by the guest timeout.
 *
 * Single-threaded: one "vCPU" thread, which also iterates the GMainContext
 * given at creation while it waits (so it may be the embedder main loop).
 * Every wait is bounded; on timeout the call returns false and
 * qxl_guest_error() says what was stuck.  After the first failure every
 * call fails fast.
 */
#pragma once

#include "tools/qxl-emu/qxl-emu.h"

typedef struct QxlGuest QxlGuest;

typedef struct QxlGuestStats {
    uint64_t draws, cursor_cmds, surface_cmds, update_cmds;  /* submitted */
    uint64_t collected;         /* commands popped from the release ring and freed */
    uint64_t ring_full_waits;   /* pushes that had to wait for ring space */
    uint64_t oom_rounds;        /* allocations that needed QXL_IO_NOTIFY_OOM */
    uint64_t irqs;              /* interrupt wakeups handled */
    uint64_t mem_peak;          /* bytes of command/image memory in use, peak */
    uint64_t vram_peak;         /* bytes of surface memory in use, peak */
} QxlGuestStats;

/* Bitmap source for qxl_guest_copy_bitmap(). */
typedef struct QxlBitmapSpec {
    uint8_t format;             /* SPICE_BITMAP_FMT_* (1BIT_BE, 4BIT_BE, 8BIT, 16BIT, 24BIT, 32BIT, RGBA) */
    uint32_t width, height;
    bool top_down;              /* QXL_BITMAP_TOP_DOWN */
    bool direct;                /* QXL_BITMAP_DIRECT: data is raw pixels, not a chunk list */
    uint32_t chunks;            /* 1..8 data chunks (ignored when direct) */
    uint64_t image_id;          /* descriptor id; equal ids must mean equal pixels */
    bool cache;                 /* QXL_IMAGE_CACHE */
    uint32_t seed;              /* pixel content */
} QxlBitmapSpec;

/* Creates the guest for `emu`; `ctx` is iterated while waiting.  Caller owns. */
QxlGuest *qxl_guest_new(QxlEmu *emu, GMainContext *ctx);
/* Frees the guest's bookkeeping (not the device).  Accepts NULL. */
void qxl_guest_free(QxlGuest *g);
/* Upper bound for every single wait, in microseconds (default 10 s). */
void qxl_guest_set_timeout(QxlGuest *g, int64_t timeout_us);
/* Memory pressure: command/image allocations beyond `bytes` in use go
 * through the reclaim path (collect, NOTIFY_OOM) as if the bar were that
 * small.  0 lifts the limit. */
void qxl_guest_set_mem_limit(QxlGuest *g, uint64_t bytes);
/* Why the last call failed; NULL if nothing failed.  Owned by the guest. */
const char *qxl_guest_error(QxlGuest *g);
void qxl_guest_get_stats(QxlGuest *g, QxlGuestStats *out);

/* Driver start: unmask interrupts, add the RAM (slot 1) and VRAM (slot 2)
 * memslots through QXL_IO_MEMSLOT_ADD. */
bool qxl_guest_init(QxlGuest *g);

/* Primary surface 0 in the surface0 area, 32-bit xRGB.  A negative stride
 * puts row 0 at the highest address, as QEMU's simple display does. */
bool qxl_guest_create_primary(QxlGuest *g, uint32_t width, uint32_t height,
                              bool negative_stride, bool async);
bool qxl_guest_destroy_primary(QxlGuest *g, bool async);
uint32_t qxl_guest_width(QxlGuest *g);
uint32_t qxl_guest_height(QxlGuest *g);
/* Row 0 (the top row) of the primary and the byte step to the next row:
 * negative for a negative-stride primary, whose top row is at the highest
 * address.  Points into device memory. */
const uint8_t *qxl_guest_primary_pixels(QxlGuest *g, int32_t *stride);

/* Drawing commands on `surface_id` (0 = primary).  Each returns once the
 * command is on the ring. */
bool qxl_guest_fill(QxlGuest *g, uint32_t surface_id, const QXLRect *rect, uint32_t color);
/* A fill clipped to `n` rectangles (glyph-like), the clip list split into
 * `chunks` data chunks. */
bool qxl_guest_fill_clipped(QxlGuest *g, uint32_t surface_id, const QXLRect *bbox,
                            uint32_t color, const QXLRect *clips, uint32_t n,
                            uint32_t chunks);
bool qxl_guest_copy_bitmap(QxlGuest *g, uint32_t surface_id, const QXLRect *dst,
                           const QxlBitmapSpec *spec);
bool qxl_guest_copy_bits(QxlGuest *g, uint32_t surface_id, const QXLRect *dst,
                         int32_t src_x, int32_t src_y);
bool qxl_guest_copy_surface(QxlGuest *g, uint32_t dst_surface, const QXLRect *dst,
                            uint32_t src_surface, const QXLRect *src);
/* QXL_CMD_UPDATE: the server renders `rect` and calls notify_update. */
bool qxl_guest_update_cmd(QxlGuest *g, uint32_t surface_id, const QXLRect *rect,
                          uint32_t update_id);

/* Off-screen surfaces in VRAM.  surface_new returns 0 when no id is free. */
uint32_t qxl_guest_surface_new(QxlGuest *g, uint32_t width, uint32_t height);
bool qxl_guest_surface_destroy(QxlGuest *g, uint32_t surface_id);

/* Cursor ring.  type is SPICE_CURSOR_TYPE_ALPHA or _MONO. */
bool qxl_guest_cursor_set(QxlGuest *g, int16_t x, int16_t y, uint16_t type,
                          uint16_t width, uint16_t height, uint64_t unique);
bool qxl_guest_cursor_move(QxlGuest *g, int16_t x, int16_t y);
bool qxl_guest_cursor_hide(QxlGuest *g);

/* Sync QXL_IO_UPDATE_AREA; *latency_ns (optional) is the blocking time. */
bool qxl_guest_update_area(QxlGuest *g, uint32_t surface_id, const QXLRect *rect,
                           int64_t *latency_ns);
/* Async IOs: issue (waiting first for a previous one, QEMU allows one at a
 * time), then qxl_guest_async_wait() for the IO_CMD interrupt. */
bool qxl_guest_update_area_async(QxlGuest *g, uint32_t surface_id, const QXLRect *rect);
bool qxl_guest_async_io(QxlGuest *g, uint32_t port, uint32_t val);
bool qxl_guest_async_wait(QxlGuest *g, int64_t *latency_ns);
/* QXL_IO_MONITORS_CONFIG_ASYNC with one head covering the primary. */
bool qxl_guest_monitors_config(QxlGuest *g);
/* A sync IO port write with no guest-side preparation. */
void qxl_guest_io(QxlGuest *g, uint32_t port, uint32_t val);

/* Pops the release ring and frees what it names; returns false only on
 * accounting errors.  *freed (optional) gets the number of commands freed. */
bool qxl_guest_collect(QxlGuest *g, unsigned *freed);
/* QXL_IO_FLUSH_RELEASE between two collects: the device pushes its
 * partial release list, the guest frees it. */
bool qxl_guest_flush_release(QxlGuest *g);
/* Waits until the server has taken every command off both rings. */
bool qxl_guest_wait_rings_empty(QxlGuest *g);
/* Runs the GMainContext for `us` microseconds while collecting releases
 * (a paced guest idling between frames). */
bool qxl_guest_idle(QxlGuest *g, int64_t us);

/* Guest shutdown as a driver unload would do it: wait for async IO, wait
 * for the rings, destroy all surfaces and the primary (which also resets
 * the cursor), flush the release list and collect.  Afterwards
 * qxl_emu_outstanding() counts commands the server never released. */
bool qxl_guest_teardown(QxlGuest *g);
