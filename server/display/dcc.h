/* Internals of the display channel shared by its files:
 *   display-channel.c  channel object, connect, worker events, surfaces
 *   dcc.c              per-client state, start sequence, pipe policy, damage
 *   dcc-draw.c         draw operations: copy from RedDrawable, marshal
 *   dcc-cache.c        per-client pixmap and palette cache accounting
 *   dcc-damage-plan.c  damage bands as boxes, pixel reads, one-colour tiling
 *   stream*.c          video streams (stream.h, docs/streams.md)
 *
 * Threading: everything here is used on the worker thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <pixman.h>

#include "common/wire/display-marshal.h"
#include "common/wire/display-msgs.h"
#include "server/channel/channel.h"
#include "server/display/display-channel.h"
#include "server/display/stream.h"
#include "server/encode/encoder.h"

/* ---- pixmap cache (dcc-cache.c) ---- */

/* Evictions one add may cause at most (bounds an INVAL_LIST). */
#define PIXMAP_CACHE_MAX_EVICT 1024u
/* Largest cache a client may ask for, in pixels (spice-gtk: 20 M). */
#define PIXMAP_CACHE_MAX_PIXELS (INT64_C(1) << 30)

typedef struct PixmapCacheItem PixmapCacheItem;

/* The server's model of one client's image cache: ids the client holds
 * (added with CACHE_ME and not yet invalidated), sized in pixels. */
typedef struct PixmapCache {
    GHashTable *items;              /* uint64 id -> PixmapCacheItem*, owned */
    GQueue lru;                     /* PixmapCacheItem*, head = least recently used */
    int64_t capacity;               /* pixels, from DISPLAY_INIT; <= 0 = no cache */
    int64_t used;                   /* pixels */
    uint64_t hits, adds, evictions;
} PixmapCache;

void pixmap_cache_init(PixmapCache *c);
void pixmap_cache_fini(PixmapCache *c);
/* Forgets everything (the client was told INVAL_ALL_PIXMAPS) and takes a
 * new capacity. */
void pixmap_cache_reset(PixmapCache *c, int64_t capacity);
/* A hit marks id used by message `serial` (not evictable while that
 * message is built) and most recently used. */
bool pixmap_cache_lookup(PixmapCache *c, uint64_t id, uint64_t serial);
/* Adds id (pixels large) for message `serial`, evicting least recently used
 * ids not used by `serial`; evicted ids are appended to evicted (uint64).
 * Returns false (nothing changed) when it cannot fit. Added items are
 * lossless until pixmap_cache_set_lossy. */
bool pixmap_cache_add(PixmapCache *c, uint64_t id, int64_t pixels, uint64_t serial,
                      GArray *evicted);
/* Whether the client holds a lossy (JPEG) version of id. */
bool pixmap_cache_is_lossy(PixmapCache *c, uint64_t id);
/* Marks id lossy (sent as JPEG with CACHE_ME) or lossless (replaced with
 * CACHE_REPLACE_ME); unknown ids are ignored. */
void pixmap_cache_set_lossy(PixmapCache *c, uint64_t id, bool lossy);

/* ---- palette cache (dcc-cache.c) ---- */

/* Palettes the client is told to keep at most (upstream keeps 128). */
#define PALETTE_CACHE_ITEMS 128u

typedef struct PaletteCacheItem PaletteCacheItem;

/* The server's model of one client's palette cache. Entries are keyed by
 * a hash of the palette's colours, not by the guest's `unique`: the guest
 * may leave it 0 or reuse it, and the key is what goes on the wire as the
 * palette's unique. Each entry keeps the colours, so a hash collision is
 * caught and that palette sent inline. */
typedef struct PaletteCache {
    GHashTable *items;              /* uint64 key -> PaletteCacheItem*, owned */
    GQueue lru;                     /* PaletteCacheItem*, head = least recently used */
    uint64_t hits, adds, evictions;
} PaletteCache;

void palette_cache_init(PaletteCache *c);
void palette_cache_fini(PaletteCache *c);
/* Forgets everything (the client was told INVAL_ALL_PALETTES). */
void palette_cache_reset(PaletteCache *c);
/* Decides how palette p travels in message `serial`: returns
 * SPICE_BITMAP_FLAGS_PAL_FROM_CACHE (send only *wire_id),
 * SPICE_BITMAP_FLAGS_PAL_CACHE_ME (send the palette with unique = *wire_id)
 * or 0 (send it inline, uncached). A palette added by this same message is
 * never sent FROM_CACHE (the client may decode the images of one message in
 * another order). An id evicted to make room is appended to evicted
 * (uint64); the client must get INVAL_PALETTE for it. */
uint8_t palette_cache_use(PaletteCache *c, const WirePalette *p, uint64_t serial,
                          uint64_t *wire_id, GArray *evicted);

/* ---- damage planning (dcc-damage-plan.c) ---- */

/* A band of damage (at most half the pipe budget of pixels) goes out as at
 * most this many boxes, each the current pixels of one box of it, so the
 * bytes follow what changed rather than the band's bounding box. */
#define DCC_DAMAGE_MAX_RECTS 32
/* Boxes a band of damage is planned as at most, before merging. */
#define DCC_DAMAGE_PLAN_BOXES 64

/* A one-colour rectangle of a damage box (surface coordinates). */
typedef struct SolidRect {
    int32_t x1, y1, x2, y2;
    uint32_t color;
} SolidRect;

/* The SPICE_BITMAP_FMT_* of a surface format's pixels and their bytes per
 * pixel (*bpp). */
uint8_t dcc_bitmap_format_for(uint32_t surface_format, unsigned *bpp);
/* A copy of box's pixels from canvas, rows of `stride` bytes (g_free). */
uint8_t *dcc_read_pixels(RedCanvas *canvas, const pixman_box32_t *box, uint32_t stride);
int64_t dcc_box_area(const pixman_box32_t *b);
/* Plans region as boxes covering it (out holds DCC_DAMAGE_PLAN_BOXES),
 * merged down to at most DCC_DAMAGE_MAX_RECTS and further while merging
 * costs fewer bytes than it saves (bpp bytes a pixel); returns how many
 * were written to out. */
int dcc_damage_plan(const pixman_region32_t *region, unsigned bpp, pixman_box32_t *out);
/* Whether every 32-bit pixel of the rows is the same (*color then). */
bool dcc_box_is_solid(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t stride,
                      uint32_t *color);
/* Tiles rows of 32-bit pixels (box at x0, y0) with one-colour rectangles,
 * appended to out (SolidRect); false once more than max are needed. */
bool dcc_solid_rects(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t stride,
                     int32_t x0, int32_t y0, unsigned max, GArray *out);

/* ---- draw operations (dcc-draw.c) ---- */

#define DRAW_OP_MAX_IMAGES 4

/* A guest drawable turned into a wire draw, with every byte it needs
 * copied (no guest memory referenced). Shared by the pipes of all clients
 * (refcounted, worker thread). */
typedef struct DisplayDrawOp {
    int refs;
    size_t bytes;                   /* host memory held, charged to each pipe */
    uint32_t surface_id;
    pixman_region32_t region;       /* pixels it writes */
    WireDraw draw;                  /* pointers into the storage below */
    uint32_t n_images;
    WireImage *images[DRAW_OP_MAX_IMAGES];      /* owned, with their data */
    const WireImage **slots[DRAW_OP_MAX_IMAGES];/* where in draw each image is referenced */
    uint32_t n_src_surfaces;
    uint32_t src_surfaces[DRAW_OP_MAX_IMAGES];  /* surfaces read as SURFACE images */
    GPtrArray *storage;             /* owned blocks (g_free) */
} DisplayDrawOp;

/* Builds an op from a drawable; NULL when it cannot be expressed as a wire
 * draw (the caller falls back to sending the area as an image). */
DisplayDrawOp *display_draw_op_new(const RedDrawable *red, const pixman_region32_t *region);
DisplayDrawOp *display_draw_op_ref(DisplayDrawOp *op);
void display_draw_op_unref(DisplayDrawOp *op);

/* ---- channel and clients ---- */

typedef struct DisplaySurfaceInfo {
    bool live;
    bool primary;
    uint32_t width, height, format;
} DisplaySurfaceInfo;

typedef struct DisplayChannel {
    RedChannel base;                /* first: RedChannel* casts */
    DisplayChannelHost host;
    StreamDetector streams;         /* video detection and live streams */
    RedTimer *stream_timer;         /* owned, created with the first stream */
    int64_t (*stream_clock)(void);  /* ms, monotonic; tests may replace it */
    GHashTable *surfaces;           /* uint32 id -> DisplaySurfaceInfo*, owned */
    bool guest_heads_set;           /* a guest monitors config is in effect */
    uint32_t n_heads;
    DisplayHead heads[DISPLAY_MAX_HEADS];
    uint32_t max_allowed;
    /* encoding settings (spice_server_set_*_compression), by value */
    SpiceImageCompression image_compression;
    int jpeg_state, zlib_glz_state; /* spice_wan_compression_t */
    uint32_t lossy_upgrade_ms;      /* quiet time before lossy areas are resent */
} DisplayChannel;

typedef enum DccMode {
    DCC_WAIT_INIT,                  /* SET_ACK sent, waiting for DISPLAY_INIT */
    DCC_DRAW,                       /* draw operations go into the pipe */
    DCC_DAMAGE,                     /* behind: only damage accumulates */
} DccMode;

/* One client's view of one channel stream (stream.c). */
typedef struct StreamAgent {
    bool active;                    /* STREAM_CREATE queued, no DESTROY yet */
    bool refused;                   /* the client cannot play stream `generation` */
    uint32_t generation;            /* Stream.generation it follows */
    RedRect dest;                   /* as created on the client */
    uint32_t width, height;         /* frame size as created */
    pixman_region32_t clip;         /* as last told to the client */
    pixman_region32_t lossy;        /* pixels frames may have painted: upgraded at the end */
    uint32_t queued;                /* frame items in the pipe */
    int64_t last_queued_ms;         /* -1: none yet */
    uint32_t report_id;             /* unique_id of STREAM_ACTIVATE_REPORT, 0 = none */
    uint32_t last_stamp;            /* multi_media_time of the last frame */
    StreamRate rate;
} StreamAgent;

/* One client's drain-rate estimate and catch-up pacing (dcc.c, "pace"). */
typedef struct DccPace {
    int64_t t0_ms;                  /* start of the backlog being measured, -1: none */
    uint64_t serial0, bytes0;       /* rcc->serial, rcc->pipe_bytes_out at t0_ms */
    double items, bytes, span_ms;   /* decayed sums over backlogged time */
    int64_t credit;                 /* draw bytes turned into damage, not yet spent */
    double band_bytes, band_px;     /* damage images sent: wire bytes, pixels */
    int64_t damage_since_ms;        /* -1: no damage pending */
    int64_t last_draw_ms;
    int64_t px_est, px_est_ms;      /* cached damage area (pixels), when measured */
    int64_t catchup_px_left;        /* pixels the current catch-up may still send */
    bool catchup_started;           /* its first band is queued */
    uint64_t draws, catchup_draws0; /* drawables seen; at the catch-up's start */
    RedTimer *timer;                /* owned: max delay / quiet guest checks */
    bool timer_armed;
    uint64_t refused, refused0;     /* drawables made damage; at the last catch-up's end */
    uint64_t stall_serial;          /* rcc->serial at the last rejected drawable */
    uint32_t stall_rejects;         /* drawables rejected since it last moved */
    uint64_t catchups, trimmed;     /* statistics */
} DccPace;

typedef struct DisplayChannelClient {
    RedChannelClient base;          /* first */
    DisplayChannel *dc;
    DccMode mode;
    RedTimer *init_timer;           /* until DISPLAY_INIT */
    bool start_pending;             /* MONITORS_CONFIG + MARK after the first damage */
    GHashTable *client_surfaces;    /* uint32 id set: surfaces created on the client */
    GHashTable *damage;             /* uint32 id -> pixman_region32_t*, owned */
    PixmapCache cache;              /* changed at marshal time only */
    uint64_t msg_serial;            /* counts marshalled draws (cache pinning) */
    GArray *evicted;                /* uint64 scratch for one message */
    PaletteCache palettes;          /* changed at marshal time only */
    GArray *evicted_palettes;       /* uint64 scratch for one message */
    SpiceImageCompression image_compression;   /* in effect: server's or client's choice */
    RedEncoders *encoders;          /* owned, from DISPLAY_INIT on */
    GlzDictionary *glz;             /* one reference; shared by the session (dcc-encode.c) */
    RedClient *glz_client;          /* registry key of glz (not a reference) */
    GHashTable *lossy;              /* uint32 id -> pixman_region32_t*: pixels the
                                     * client holds lossy (JPEG), owned */
    RedTimer *upgrade_timer;        /* resends lossy areas once quiet */
    uint64_t enc_images[RED_CODEC_COUNT];       /* images sent per codec */
    uint64_t enc_bytes[RED_CODEC_COUNT];        /* their body bytes */
    uint64_t drops, damage_bands;   /* statistics: drops, bands planned */
    uint64_t damage_rects;          /* damage images sent */
    StreamAgent *agents;            /* STREAM_MAX, owned */
    DccPace pace;                   /* drain rate, catch-up pacing */
} DisplayChannelClient;

static inline DisplayChannel *display_channel_from(RedChannel *c)
{
    g_assert(display_channel_is(c));
    return (DisplayChannel *)c;
}

/* dcc.c */
void dcc_on_connect(DisplayChannelClient *dcc);
bool dcc_handle_message(RedChannelClient *rcc, uint16_t type, uint32_t size, const uint8_t *body);
void dcc_on_disconnect(RedChannelClient *rcc);
void dcc_on_pipe_drained(RedChannelClient *rcc);
/* A surface was created; cleared: its memory is all zeros (no content
 * needs sending, the client starts from zeros too). */
void dcc_surface_create(DisplayChannelClient *dcc, uint32_t id, const DisplaySurfaceInfo *s,
                        bool cleared);
void dcc_surface_destroy(DisplayChannelClient *dcc, uint32_t id);
void dcc_draw(DisplayChannelClient *dcc, DisplayDrawOp *op, uint32_t surface_id,
              const pixman_region32_t *region);
void dcc_monitors_config(DisplayChannelClient *dcc);
void dcc_reset_cache(DisplayChannelClient *dcc);
size_t dcc_queued_bytes(const DisplayChannelClient *dcc);
bool dcc_has_surface(const DisplayChannelClient *dcc, uint32_t id);
/* dcc-draw.c: queues op for dcc (a pipe item holding a reference). */
void dcc_queue_draw_op(DisplayChannelClient *dcc, DisplayDrawOp *op);
/* dcc-draw.c: the op held by a DCC_ITEM_DRAW pipe item (borrowed). */
DisplayDrawOp *dcc_draw_item_op(RedPipeItem *item);
/* dcc.c: damage helpers for stream.c. */
void dcc_add_damage(DisplayChannelClient *dcc, uint32_t surface_id,
                    const pixman_region32_t *region);
/* Starts sending damage now if the pipe is idle. */
void dcc_push_damage(DisplayChannelClient *dcc);
/* Whether a drawable could be queued as a draw now (DRAW mode, room under
 * the limits and the drain bound): when no client wants it, the channel
 * does not copy it into an op. */
bool dcc_wants_draw(const DisplayChannelClient *dcc);
/* Bytes of draw operations (and frames) a pipe may hold. */
size_t dcc_ops_limit(const DisplayChannelClient *dcc);
/* ---- encoding (dcc-encode.c) ---- */

/* Lossy areas are resent losslessly after this long without a new lossy
 * image (ms); display_channel_set_lossy_upgrade_delay changes it. */
#define DISPLAY_LOSSY_UPGRADE_MS 1000u

/* Creates the client's encoder set and joins its session's GLZ dictionary
 * (window from DISPLAY_INIT, in pixels). */
void dcc_encoders_start(DisplayChannelClient *dcc, int32_t glz_window_pixels);
/* Frees the encoder set, the dictionary reference and the lossy state. */
void dcc_encoders_stop(DisplayChannelClient *dcc);
/* Re-reads the channel's settings, dcc->image_compression and the caps. */
void dcc_encoders_update(DisplayChannelClient *dcc);
/* Marshal time only: encodes src (a BITMAP the encoders take) into out,
 * whose body lives in enc (the caller clears it after writing the message).
 * False: src goes as it is (not a bitmap, 1/4-bit, A8, or invalid). */
bool dcc_encode_image(DisplayChannelClient *dcc, const WireImage *src, bool can_lossy,
                      WireImage *out, RedEncOutput *enc);
void dcc_lossy_init(DisplayChannelClient *dcc);
/* The client now holds region of surface id lossy: arms the upgrade. */
void dcc_lossy_add(DisplayChannelClient *dcc, uint32_t id, const pixman_region32_t *region);
/* region of surface id was sent losslessly. */
void dcc_lossy_subtract(DisplayChannelClient *dcc, uint32_t id, const pixman_region32_t *region);
/* Marshal time: op went to the client; sent_lossy if one of its images was
 * lossy. Keeps the lossy map true (ops reading lossy pixels spread it). */
void dcc_lossy_note_draw(DisplayChannelClient *dcc, const DisplayDrawOp *op, bool sent_lossy);
void dcc_lossy_surface_gone(DisplayChannelClient *dcc, uint32_t id);
/* Restarts a pending upgrade timer with the channel's delay. */
void dcc_lossy_rearm(DisplayChannelClient *dcc);

/* Kind of pipe items holding a draw op (for dropping). */
#define DCC_ITEM_DRAW 1
#define DCC_ITEM_DAMAGE 2
#define DCC_ITEM_STREAM_FRAME 3

/* ---- streams (stream.c) ---- */

typedef enum StreamDrawResult {
    STREAM_DRAW_ORDINARY,           /* send it as usual */
    STREAM_DRAW_AS_DAMAGE,          /* it reads lossy stream pixels: send it as damage */
    STREAM_DRAW_DONE,               /* a video frame: stream.c sent it */
} StreamDrawResult;

void display_streams_init(DisplayChannel *dc);
void display_streams_fini(DisplayChannel *dc);
/* Every drawable passes here before it is sent (worker thread). */
StreamDrawResult display_streams_draw(DisplayChannel *dc, const RedDrawable *red,
                                      const pixman_region32_t *region);
/* Surface surface_id is going away: its streams end without upgrade. */
void display_streams_surface_destroy(DisplayChannel *dc, uint32_t surface_id);
/* Ends every stream, upgrading the areas to lossless images. */
void display_streams_stop_all(DisplayChannel *dc);
void dcc_streams_init(DisplayChannelClient *dcc);
void dcc_streams_fini(DisplayChannelClient *dcc);
/* A STREAM_REPORT from the client (already size-checked). */
void dcc_stream_report(DisplayChannelClient *dcc, const WireDisplayMsg *m);
