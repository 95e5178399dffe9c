/* core-loop.h: a reference SpiceCoreInterface over a GMainContext.
 *
 * The smallest event loop an embedder can hand to spice_server_init():
 * one-shot timers and fd watches as GSources on a GMainContext, and
 * channel events forwarded to an optional hook. Used by the reference
 * embedder, the ABI consumer test, integration tests and the bench.
 *
 * Threading: everything here, including every callback the server makes
 * through the returned interface, runs on the one thread that iterates
 * the context.
 *
 * SpiceCoreInterface's timer_add/watch_add carry no user pointer, so the
 * adapter keeps its state in the library: at most one core exists at a
 * time (several servers may share it).
 */
#pragma once

#include <stdbool.h>
#include <glib.h>
#include <spice.h>

/* Receives SpiceCoreInterface.channel_event calls; info is owned by the
 * server and valid until the DISCONNECTED event for it returns. */
typedef void (*EmbedderChannelEventFunc)(int event, SpiceChannelEventInfo *info,
                                         void *user_data);

/* Creates the core over ctx (a reference is taken; NULL means the global
 * default context). Returns the interface, owned by the caller and freed
 * with embedder_core_free(), with base.type "core" and the header's
 * major/minor set; or NULL if another core is still alive. */
SpiceCoreInterface *embedder_core_new(GMainContext *ctx);

/* Frees a core from embedder_core_new(). Every timer and watch should
 * have been removed (spice_server_destroy() does that); leftovers are
 * reported with a warning and left attached. NULL is ok. */
void embedder_core_free(SpiceCoreInterface *core);

/* Sets (or with func NULL clears) the channel-event hook. */
void embedder_core_set_channel_event(SpiceCoreInterface *core,
                                     EmbedderChannelEventFunc func, void *user_data);

/* Number of timers plus watches created and not yet removed: lets tests
 * check that a server released everything it took from the loop. */
unsigned embedder_core_live_count(const SpiceCoreInterface *core);

/* The context the core runs on (borrowed). */
GMainContext *embedder_core_context(const SpiceCoreInterface *core);
