/* Shared harness for the display-channel tests against the real
 * spice-client-glib (tests/integration/display, tests/integration/compression).
 *
 * The test plays the QXL worker: a thread with its own GMainContext owns
 * the surfaces (RedCanvas) and feeds display_channel_* / cursor_channel_*
 * events made from RedDrawable / RedCursorCmd structs. The server runs on
 * the test thread's default context (tools/embedder core loop) with the
 * client (spice-gtk's coroutines run there too). Since the display
 * channel's registration normally comes from the worker, the harness
 * registers the channels with reds itself.
 *
 * on_worker() runs a job on the worker thread and waits for it without
 * iterating the main context, so the client reads nothing meanwhile (a
 * stalled client). Every wait is bounded (WAIT_MS, WAIT_FOR of
 * tests/integration/loop-util.h); no sleeps.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <spice-client.h>

#include "core-loop.h"
#include "server/core/reds.h"
#include "server/display/cursor-channel.h"
#include "server/display/dcc.h"
#include "server/display/display-channel.h"
#include "tests/integration/loop-util.h"
#include "tests/unit/display/draw-util.h"

#define WAIT_MS 15000

typedef struct Worker {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    RedLoop *rloop;
    RedChannel *dc, *cc;
    RedCanvas *canvases[TEST_MAX_SURFACES];
    GMutex lock;
    GCond cond;
    unsigned render_calls;
} Worker;

typedef struct Client {
    SpiceSession *session;
    SpiceChannel *main, *display, *cursor;
    int display_event;
    unsigned cursor_sets;
    int cursor_w, cursor_hx;
    uint32_t cursor_px;
} Client;

extern Worker W;
extern Client C;

/* Runs func on the worker thread and waits for it. */
void on_worker(void (*func)(void *data), void *data);

/* Creates the server (configure, if given, runs before spice_server_init),
 * the fake worker and its channels. Returns the server. */
SpiceServer *harness_start(void (*configure)(SpiceServer *server));
/* Connects a spice-client-glib session and waits for the display channel. */
void harness_connect(void);
/* Disconnects the client and frees everything harness_start made. */
void harness_stop(void);

/* Worker jobs. */
typedef struct SurfaceJob {
    uint32_t id, w, h, color;
    bool primary, destroy;
} SurfaceJob;
void surface_job(void *data);

/* Worker thread: renders d on the canvases, sends it, frees it. */
void harness_draw(TestDraw *d);

typedef struct SnapJob {
    uint32_t *pixels;               /* owned by the caller (g_free) */
    int w, h;
} SnapJob;
void snap_job(void *data);

/* Client primary equals the server canvas (low 24 bits). */
bool primary_matches(const SnapJob *snap);
/* PSNR (dB) of the client primary against the snapshot; -1 if there is no
 * marked primary of that size, INFINITY when equal. */
double primary_psnr(const SnapJob *snap);
/* The same inside the rectangle (x, y, w, h), which lies in the primary. */
double primary_psnr_rect(const SnapJob *snap, int x, int y, int w, int h);
/* Waits until the client primary equals the server canvas; g_error if not. */
void expect_converged(const char *what);
