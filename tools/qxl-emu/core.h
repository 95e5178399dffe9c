/* A small SpiceCoreInterface over a GMainContext.
 *
 * Stand-in until tools/embedder/core-loop.h (embedder_core_new) is available;
 * then this file goes away.  The interface has no per-instance context
 * argument, so one process has one core: the first call fixes the context.
 */
#pragma once

#include <glib.h>
#include <spice.h>

/* Returns the process-wide core whose timers and watches are GSources
 * attached to `ctx` (dispatched by whoever iterates `ctx`, normally the
 * embedder's main thread).  Static storage: never freed.  Later calls must
 * pass the same ctx.  Timers/watches may be added from any thread; their
 * callbacks run in the thread iterating ctx. */
SpiceCoreInterface *qxl_emu_core_get(GMainContext *ctx);

/* Number of timers/watches still alive (a leak check for tests).  Any thread. */
unsigned qxl_emu_core_live_sources(void);

/* Number of channel_event() calls seen.  Any thread. */
unsigned qxl_emu_core_channel_events(void);
