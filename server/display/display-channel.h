/* The display channel (SPICE channel type 2) of one QXL instance: streams
 * the worker's surfaces and drawing to display clients.
 *
 * The worker owns surfaces, canvases and the drawable tree; this module
 * owns the channel, its clients (DisplayChannelClient), their pipes,
 * pixmap caches and damage. The worker tells it what happens (surface
 * created/destroyed, drawable entered the tree, monitors config, cache
 * reset) through the display_channel_* calls below; the channel calls back
 * through DisplayChannelHost when it needs pixels or a thread hop.
 *
 * Threading: display_channel_new() on any thread before the worker runs;
 * everything else on the worker thread (the thread that iterates
 * worker_loop). The host callbacks are called on the worker thread except
 * post_to_worker, called from the main loop. See docs/display.md.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <pixman.h>

#include "common/canvas/canvas.h"
#include "server/channel/channel.h"
#include "server/qxl/qxl-cmd.h"

/* What the worker provides. All slots required unless marked. */
typedef struct DisplayChannelHost {
    void *opaque;
    /* Main loop (channel connect / request_disconnect): run func(data) on
     * the worker thread soon. Must not block; must run func exactly once. */
    void (*post_to_worker)(void *opaque, void (*func)(void *data), void *data);
    /* Worker thread: bring the canvas of surface_id up to date inside
     * region (render pending drawables there) before pixels are read. */
    void (*render_region)(void *opaque, uint32_t surface_id, const pixman_region32_t *region);
    /* Worker thread: the canvas of a live surface, NULL if none (borrowed). */
    RedCanvas *(*get_canvas)(void *opaque, uint32_t surface_id);
    /* Worker thread, optional: the set of clients or their caps changed;
     * the worker calls display_channel_get_client_caps() and forwards it
     * to QXLInterface.set_client_capabilities. */
    void (*client_caps_changed)(void *opaque);
} DisplayChannelHost;

/* Environment override of the per-client pipe budget in bytes, read by
 * display_channel_new() (default RED_PIPE_DEFAULT_BUDGET). */
#define DISPLAY_ENV_PIPE_BUDGET "SPICE_DISPLAY_PIPE_BUDGET"
/* Smallest budget accepted (a damage band must fit). */
#define DISPLAY_MIN_PIPE_BUDGET (256u << 10)
/* Surfaces the channel tracks (ids >= this are ignored, logged). */
#define DISPLAY_MAX_SURFACES 10000u
/* A client that has not sent DISPLAY_INIT after this long is dropped. */
#define DISPLAY_INIT_TIMEOUT_MS 30000u
/* Heads kept from a monitors config. */
#define DISPLAY_MAX_HEADS 16u

/* A monitor head, as the guest configured it (QXLHead). */
typedef struct DisplayHead {
    uint32_t id, surface_id;
    uint32_t width, height;
    uint32_t x, y;
    uint32_t flags;
} DisplayHead;

/* Creates the channel (not registered with reds: the caller does that on
 * the main loop). host is copied. Any thread, before the worker iterates
 * worker_loop. The caller owns the result; free with display_channel_free
 * on the worker thread (or after it stopped). */
RedChannel *display_channel_new(RedsState *reds, RedLoop *worker_loop, uint8_t id,
                                const DisplayChannelHost *host);
/* Disconnects every client and frees the channel. NULL is fine. Worker
 * thread (or any thread once the worker loop no longer runs). */
void display_channel_free(RedChannel *channel);

/* True for channels made by display_channel_new. */
bool display_channel_is(const RedChannel *channel);

/* ---- events from the worker (worker thread) ---- */

/* A surface exists now (format SPICE_SURFACE_FMT_*) and its memory may
 * already hold a picture: connected clients are sent its content. */
void display_channel_surface_create(RedChannel *dc, uint32_t surface_id, uint32_t width,
                                    uint32_t height, uint32_t format, bool primary);
/* The same, saying whether the surface memory was just zeroed (no
 * KEEP_DATA, no loadvm, nothing drawn yet): then connected clients are sent
 * no content (spice-gtk starts a new surface from zeros too), only the
 * SURFACE_CREATE (and for a primary MONITORS_CONFIG and MARK). Clients
 * connecting later still get the whole picture. */
void display_channel_surface_create_mem(RedChannel *dc, uint32_t surface_id, uint32_t width,
                                        uint32_t height, uint32_t format, bool primary,
                                        bool mem_cleared);
/* The surface is gone (its pending drawing no longer matters). */
void display_channel_surface_destroy(RedChannel *dc, uint32_t surface_id);
/* A guest drawable entered the tree of its surface. region = the pixels it
 * writes (bbox & clip & surface); NULL means bbox & clip. Everything the
 * channel needs is copied before returning: red stays the caller's. */
void display_channel_draw(RedChannel *dc, const RedDrawable *red,
                          const pixman_region32_t *region);
/* The guest's monitors config (heads copied); count 0 returns to the
 * default one-head config of the primary. */
void display_channel_monitors_config(RedChannel *dc, const DisplayHead *heads, uint32_t count,
                                     uint32_t max_allowed);
/* The guest reset its image cache (or the driver was reset): every client's
 * pixmap cache is emptied (INVAL_ALL_PIXMAPS) before later images. */
void display_channel_reset(RedChannel *dc);

/* spice_server_set_streaming_video changed (SPICE_STREAM_VIDEO_OFF / ALL /
 * FILTER): live streams end (their areas upgraded to lossless images) and
 * detection follows the new mode. display_channel_new reads the mode the
 * server had then. */
void display_channel_set_streaming_video(RedChannel *dc, int mode);
/* spice_server_set_image_compression / _set_jpeg_compression /
 * _set_zlib_glz_compression changed (values by value: SpiceImageCompression,
 * spice_wan_compression_t): every client's encoders follow at once, which
 * overrides a client's PREFERRED_COMPRESSION. Invalid values are ignored.
 * display_channel_new reads the settings the server had then. */
void display_channel_set_compression(RedChannel *dc, int image_compression, int jpeg_state,
                                     int zlib_glz_state);
/* Lossy (JPEG) areas are resent losslessly after ms without a new lossy
 * image (default DISPLAY_LOSSY_UPGRADE_MS); pending upgrades restart with
 * the new delay. Tests use it to look at the lossy picture first. */
void display_channel_set_lossy_upgrade_delay(RedChannel *dc, uint32_t ms);
/* Tests: the monotonic clock (ms) stream detection and timeouts use. */
void display_channel_set_stream_clock(RedChannel *dc, int64_t (*now_ms)(void));

/* ---- queries (worker thread) ---- */

/* Fills caps (bitmap of SPICE_DISPLAY_CAP_*, caps_size bytes) with the caps
 * every connected client has; returns whether any client is connected. */
bool display_channel_get_client_caps(RedChannel *dc, uint8_t *caps, size_t caps_size);
/* Bytes queued for all clients (pipes plus messages being written). */
size_t display_channel_pipe_bytes(RedChannel *dc);
/* The per-client pipe budget in bytes. */
size_t display_channel_pipe_budget(RedChannel *dc);
