/* The QXL render worker: one thread per QXLInstance with its own
 * GMainContext. It owns the memslot table, the surfaces, the drawable tree,
 * the cursor state, the display and cursor channels of the instance, and it
 * is the only thread that calls the device's QXLInterface callbacks after
 * initialisation. Requests reach it through its dispatcher
 * (worker-msg.h). See docs/worker.md.
 */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "spice.h"
#include "server/core/reds.h"
#include "server/qxl/dispatcher.h"

typedef struct RedWorker RedWorker;
typedef struct RedChannel RedChannel;

/* GError domain of worker creation failures. */
#define RED_WORKER_ERROR (g_quark_from_static_string("red-worker-error"))

/* Bounds on what the worker keeps for the guest before it renders (and so
 * releases) the oldest pending drawables. */
#define RED_WORKER_DEFAULT_MAX_PENDING 1024u          /* drawables */
#define RED_WORKER_DEFAULT_MAX_PENDING_BYTES (64u << 20) /* host bytes held by them */
/* Environment overrides, read when a worker is created. */
#define RED_WORKER_ENV_MAX_PENDING "SPICE_WORKER_MAX_PENDING"
#define RED_WORKER_ENV_MAX_PENDING_BYTES "SPICE_WORKER_MAX_PENDING_BYTES"

/* Main loop: creates the worker for qxl (not started): memslot table from
 * info, the dispatcher, the display and cursor channels (not registered).
 * Returns NULL + err on an unusable init info. Caller owns the result. */
RedWorker *red_worker_new(RedsState *reds, QXLInstance *qxl, const QXLDevInitInfo *info,
                          GError **err);

/* Main loop: starts the worker thread. */
bool red_worker_start_thread(RedWorker *worker, GError **err);

/* Main loop: stops the thread (if started), releases everything the worker
 * still holds back to the device, frees the worker. NULL is fine. */
void red_worker_free(RedWorker *worker);

/* The worker's dispatcher (owned by the worker). Any thread. */
Dispatcher *red_worker_get_dispatcher(RedWorker *worker);

/* The instance's channels (owned by the worker). Main loop, for
 * registration with reds. */
RedChannel *red_worker_get_display_channel(RedWorker *worker);
RedChannel *red_worker_get_cursor_channel(RedWorker *worker);

/* Any thread but the worker's: runs func(data) on the worker thread soon,
 * exactly once (unless the worker is freed first). For channel code that
 * must hop onto the worker (DisplayChannelHost.post_to_worker). */
void red_worker_post_func(RedWorker *worker, void (*func)(void *data), void *data);
