/* A fake QXL device for the worker tests: device memory in one shared
 * mapping (memslot group 1, slot 1), command and cursor "rings" as locked
 * queues with QEMU's notification semantics, and bookkeeping that checks
 * the server: every command released exactly once with its exact
 * QXLReleaseInfo pointer and group, every async cookie completed exactly
 * once, and every worker-only callback made from one thread.
 *
 * It plugs into the server through the public ABI (spice_server_new/init/
 * add_interface over tools/embedder's core loop).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <pixman.h>
#include <spice.h>

#define FAKE_GROUP 1u
#define FAKE_SLOT 1u
#define FAKE_MAX_TRACKED 65536u
#define FAKE_WAIT_US (10 * G_USEC_PER_SEC)   /* bound on every wait */

typedef struct FakeDev {
    QXLInstance qxl;
    QXLInterface qif;
    uint32_t n_surfaces;
    uint8_t *mem;                       /* shared mapping */
    size_t size, used;
    GMainContext *ctx;
    SpiceCoreInterface *core;
    SpiceServer *server;

    GMutex lock;                        /* guards everything below */
    GCond cond;
    GQueue cmds, cursor_cmds;           /* QXLCommandExt* */
    bool notify_cmd, notify_cursor;     /* a wakeup was requested */
    uint8_t state[FAKE_MAX_TRACKED];    /* 0 unused, 1 submitted, 2 released */
    uint32_t group_of[FAKE_MAX_TRACKED];
    uint32_t next_id;
    uint64_t submitted, released, bad_releases;
    uint64_t flush_calls, unflushed;
    GThread *worker;                    /* first thread of a worker callback */
    uint64_t wrong_thread;
    GHashTable *cookies;                /* cookie -> completion count */
    uint64_t completions;
    uint64_t update_area_completes;
    QXLRect last_rects[64];
    uint32_t last_n_rects, last_update_surface;
    GArray *notified_updates;           /* uint32_t update ids */
    uint64_t req_notifications;
} FakeDev;

/* Creates the device (n_surfaces, `size` bytes of device memory), a server
 * with it added, the VM running and the guest memslot added. */
FakeDev *fake_dev_new(uint32_t n_surfaces, size_t size);
/* Removes the interface, destroys the server, frees everything. */
void fake_dev_free(FakeDev *d);

/* Zeroed, 8-aligned device memory; *phys gets its guest address. */
void *fake_alloc(FakeDev *d, size_t n, QXLPHYSICAL *phys);
QXLPHYSICAL fake_phys(FakeDev *d, const void *host);
/* Gives a command's QXLReleaseInfo an id and marks it submitted. */
void fake_track(FakeDev *d, QXLReleaseInfo *info);
/* Puts a command on the display (or cursor) ring; wakes the server if it
 * asked for a notification. */
void fake_push(FakeDev *d, bool cursor, QXLPHYSICAL addr, uint32_t type);

/* Waits (bounded) until every submitted command was released. */
bool fake_wait_all_released(FakeDev *d);
/* Waits (bounded) until `cookie` was completed; returns its count. */
unsigned fake_wait_cookie(FakeDev *d, uint64_t cookie);
/* Current count of releases / outstanding commands. */
uint64_t fake_outstanding(FakeDev *d);

/* The primary surface: w x h 32-bit xRGB in device memory; stride
 * negative when bottom_up. Returns the row-0 pointer; *stride_out gets the
 * byte distance between rows (negative for bottom-up). */
uint8_t *fake_create_primary(FakeDev *d, uint32_t w, uint32_t h, bool bottom_up,
                             int32_t *stride_out);

/* ---- command builders (each tracked; push separately) ---- */
QXLDrawable *fake_drawable(FakeDev *d, uint32_t surface_id, uint8_t type,
                           int32_t l, int32_t t, int32_t r, int32_t b, QXLPHYSICAL *phys);
/* A 32BIT top-down direct bitmap image of w x h pixels. */
QXLPHYSICAL fake_image(FakeDev *d, uint32_t w, uint32_t h, const uint32_t *pixels);
QXLPHYSICAL fake_surface_image(FakeDev *d, uint32_t surface_id);
/* QXL_CMD_SURFACE create (positive stride, xRGB) / destroy. Create returns
 * the surface memory through *mem. */
QXLPHYSICAL fake_surface_create(FakeDev *d, uint32_t id, uint32_t w, uint32_t h, uint8_t **mem);
QXLPHYSICAL fake_surface_destroy(FakeDev *d, uint32_t id);
QXLPHYSICAL fake_update_cmd(FakeDev *d, uint32_t surface_id, QXLRect area, uint32_t update_id);
QXLPHYSICAL fake_cursor_cmd(FakeDev *d, uint8_t type);
QXLPHYSICAL fake_clip(FakeDev *d, const QXLRect *rects, uint32_t n);

/* Reads a pixel of a surface (row-0 pointer + stride). */
static inline uint32_t fake_pixel(const uint8_t *row0, int32_t stride, int x, int y)
{
    return ((const uint32_t *)(row0 + (ptrdiff_t)y * stride))[x];
}
