/* Internals of the render worker shared by its files: worker.c (thread,
 * dispatcher messages, rings), surface.c (surfaces), tree.c (drawable tree,
 * update area), render.c (drawables onto the canvas), worker-channels.c
 * (display/cursor channels), monitors.c (monitors config).
 *
 * Threading: everything here belongs to the worker thread, except the
 * fields marked "main loop" which are set before the thread starts.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <pixman.h>

#include "common/canvas/canvas.h"
#include "server/channel/channel.h"
#include "server/core/loop.h"
#include "server/qxl/memslot.h"
#include "server/qxl/parse.h"
#include "server/display/dirty.h"
#include "server/display/worker.h"
#include "server/display/worker-msg.h"

/* Surfaces beyond this id are refused whatever the device says. */
#define RED_WORKER_MAX_SURFACES 10000u
/* Commands taken from one ring per loop iteration before yielding to the
 * dispatcher. */
#define RED_WORKER_CMD_BATCH 50u
/* Commands a "drain the rings" request processes at most (a guest that
 * keeps refilling the ring cannot hold the worker forever). */
#define RED_WORKER_DRAIN_MAX 10000u
/* Monitors accepted in a monitors config. */
#define RED_WORKER_MAX_MONITORS 16u

typedef struct RedSurface RedSurface;
typedef struct Drawable Drawable;

/* A surface dependency of a drawable: it reads `rect` of surface `id`. */
typedef struct DrawableDep {
    uint32_t surface_id;
    pixman_box32_t rect;
} DrawableDep;

#define DRAWABLE_MAX_DEPS 8

/* A parsed QXL drawable waiting in (or taken out of) its surface's tree.
 * Holds the device resource: the release happens when the last reference
 * goes (drawable_unref). */
struct Drawable {
    int refs;
    RedWorker *worker;
    RedDrawable *red;                   /* one reference, owned */
    uint32_t surface_id;
    pixman_region32_t region;           /* pixels it writes: bbox & clip & surface */
    pixman_region32_t visible;          /* region minus what later opaque drawables
                                         * cover before anyone reads it */
    pixman_region32_t self_read;        /* pixels of its own surface it reads */
    bool opaque;                        /* output does not depend on the old pixels */
    uint32_t n_deps;
    DrawableDep deps[DRAWABLE_MAX_DEPS];/* other surfaces it reads (refs held) */
    size_t bytes;                       /* host bytes charged to the memory bound */
    GList *surface_link;                /* in RedSurface.pending, NULL when out */
    GList *global_link;                 /* in RedWorker.pending, NULL when out */
};

struct RedSurface {
    uint32_t id;
    int refs;                           /* 0 = slot free; guest existence + holders */
    bool live;                          /* created and not yet destroyed by the guest */
    bool primary;                       /* from create_primary_surface */
    uint32_t width, height, format;
    int32_t stride;
    uint8_t *mem;                       /* lowest address, guest memory, not owned */
    size_t mem_size;
    RedCanvas *canvas;                  /* owned, draws into mem */
    QXLReleaseInfoExt create_release;   /* held while the surface exists */
    QXLReleaseInfoExt destroy_release;  /* held until the last reference */
    GQueue pending;                     /* Drawable*, z-order (head = oldest) */
    GList *readers;                     /* pending Drawable* on other surfaces reading us */
    RedDirty dirty;                     /* rendered since the guest last cleared it */
};

typedef struct RedCursorState {
    bool visible;
    RedPoint16 position;
    RedCursorCmd *current;              /* the last SET, held (release pending) */
    uint16_t trail_length, trail_frequency;
} RedCursorState;

typedef struct RedWorkerStats {
    uint64_t commands, cursor_commands;
    uint64_t releases;                  /* release_resource calls */
    uint64_t rejected;                  /* guest commands refused */
    uint64_t rendered, dropped;         /* drawables rendered / dropped occluded */
    uint64_t forced;                    /* renders forced by the memory bound */
} RedWorkerStats;

struct RedWorker {
    /* set on the main loop before the thread starts */
    RedsState *reds;                    /* not owned */
    QXLInstance *qxl;                   /* embedder's, not owned */
    const QXLInterface *qif;
    QXLDevInitInfo info;
    uint32_t n_surfaces;
    uint32_t max_pending;
    size_t max_pending_bytes;
    Dispatcher *dispatcher;             /* owned */
    GThread *thread;
    GMainContext *ctx;                  /* owned */
    GMainLoop *main_loop;               /* owned */
    RedLoop *loop;                      /* owned, over ctx */
    RedChannel *display_channel;        /* owned (worker-channels.c) */
    RedChannel *cursor_channel;         /* owned */

    /* worker thread */
    MemSlotTable *slots;                /* owned */
    RedParseCtx parse_ctx;
    bool running;                       /* VM running: rings may be read */
    RedWatch *dispatcher_watch;
    RedTimer *poll_timer;
    bool display_waiting, cursor_waiting; /* notification requested, sleeping */
    RedSurface *surfaces;               /* n_surfaces entries, owned */
    GQueue pending;                     /* every pending Drawable*, oldest first */
    size_t pending_bytes;
    RedCursorState cursor;
    QXLMonitorsConfig *monitors_config; /* owned copy (heads follow), or NULL */
    uint32_t max_monitors;
    char device_address[WORKER_DEVICE_ADDRESS_MAX];
    uint32_t display_id_start, display_id_count;
    uint32_t mouse_mode;
    bool driver_unloaded;
    RedWorkerStats stats;
};

/* ---- worker.c ---- */
/* Hands a command's resources back to the device (exactly once per command;
 * info NULL is ignored). Worker thread. */
void worker_release(RedWorker *w, QXLReleaseInfoExt release);
/* Takes commands from the display ring until it is empty or `max` were
 * processed (only while running). Worker thread. */
unsigned worker_drain_display(RedWorker *w, unsigned max);

/* ---- surface.c ---- */
void surfaces_init(RedWorker *w);
void surfaces_fini(RedWorker *w);
RedSurface *surface_get_live(RedWorker *w, uint32_t id);
void surface_ref(RedSurface *s);
void surface_unref(RedWorker *w, RedSurface *s);
/* Creates surface id on memory [mem, mem+mem_size) (lowest address). Returns
 * NULL + logs a guest bug when the id is busy or the canvas refuses. */
RedSurface *surface_create(RedWorker *w, uint32_t id, uint32_t width, uint32_t height,
                           int32_t stride, uint32_t format, uint8_t *mem, size_t mem_size,
                           bool keep_data, bool primary, QXLReleaseInfoExt create_release);
/* The guest destroys surface s: pending readers are rendered, its own
 * pending drawables dropped, destroy_release is held until the last ref. */
void surface_destroy(RedWorker *w, RedSurface *s, QXLReleaseInfoExt destroy_release);
/* Every surface destroyed (destroy_surfaces). */
void surfaces_destroy_all(RedWorker *w);
void worker_handle_surface_cmd(RedWorker *w, RedSurfaceCmd *cmd, bool loadvm);


/* ---- tree.c ---- */
/* Takes ownership of red (one reference) and either queues it in its
 * surface's tree or rejects it (released). */
void tree_add_drawable(RedWorker *w, RedDrawable *red);
void drawable_unref(Drawable *d);
/* Renders surface s's pending drawables up to and including last. */
void tree_render_until(RedWorker *w, RedSurface *s, Drawable *last);
/* Renders what is pending on s and intersects area (plus everything older
 * on s, keeping z-order). */
void tree_render_area(RedWorker *w, RedSurface *s, const pixman_box32_t *area);
/* Renders every pending drawable of every surface. */
void tree_render_all(RedWorker *w);
/* Renders the pending drawables of other surfaces that read s (inside area
 * or anywhere when area is NULL). */
void tree_render_readers(RedWorker *w, RedSurface *s, const pixman_region32_t *area);
/* Drops s's pending drawables without rendering them (released). */
void tree_drop_surface(RedWorker *w, RedSurface *s);
/* Enforces max_pending / max_pending_bytes. */
void tree_enforce_bound(RedWorker *w);

/* Renders what is pending on surface_id and intersects region (plus
 * everything older on that surface). Unknown ids are ignored. For channel
 * code that reads pixels (DisplayChannelHost.render_region). */
void worker_render_region(RedWorker *w, uint32_t surface_id, const pixman_region32_t *region);
/* The canvas of a live surface, NULL otherwise (borrowed). */
RedCanvas *worker_get_canvas(RedWorker *w, uint32_t surface_id);

/* ---- render.c ---- */
/* Rasterises d onto its surface's canvas. Returns false when the drawable
 * could not be drawn (logged as a guest bug or unsupported). */
bool render_drawable(RedWorker *w, Drawable *d);
/* Converts a guest clip into a region (NULL-equivalent: empty rect count
 * with type NONE -> region = the box). */
void render_clip_region(const RedClip *clip, const pixman_box32_t *box,
                        pixman_region32_t *out);

/* ---- worker-channels.c ---- */
void worker_channels_create(RedWorker *w);
void worker_channels_destroy(RedWorker *w);
void worker_channels_close(RedWorker *w);

/* ---- monitors.c ---- */
void worker_monitors_config(RedWorker *w, QXLPHYSICAL addr, int32_t group_id);
