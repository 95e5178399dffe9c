/* Event-loop adapter: one interface for the two loops the server runs on.
 *
 * The embedder's SpiceCoreInterface drives the main loop (reds, main and
 * inputs channels, listeners); each QXL worker thread runs its own
 * GMainContext. Channel code is written against RedLoop so it runs on
 * either, and tests can drive it with a plain GMainContext.
 *
 * Threading: a RedLoop and everything created from it are used only by the
 * thread that runs that loop. red_loop_new_glib() may be called from any
 * thread; the returned loop then belongs to the thread iterating ctx.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "spice-core.h"

typedef struct RedLoop RedLoop;
typedef struct RedTimer RedTimer;
typedef struct RedWatch RedWatch;

/* Same bit values as SPICE_WATCH_EVENT_READ/WRITE. */
enum {
    RED_WATCH_READ = 1,
    RED_WATCH_WRITE = 2,
};

typedef void (*RedTimerFunc)(void *opaque);
typedef void (*RedWatchFunc)(int fd, int event, void *opaque);

typedef struct RedLoopOps {
    RedTimer *(*timer_add)(RedLoop *loop, RedTimerFunc func, void *opaque);
    void (*timer_start)(RedTimer *timer, uint32_t ms);
    void (*timer_cancel)(RedTimer *timer);
    void (*timer_remove)(RedTimer *timer);
    RedWatch *(*watch_add)(RedLoop *loop, int fd, int mask, RedWatchFunc func, void *opaque);
    void (*watch_update_mask)(RedWatch *watch, int mask);
    void (*watch_remove)(RedWatch *watch);
    void (*free)(RedLoop *loop);
} RedLoopOps;

struct RedLoop {
    const RedLoopOps *ops;
};

/* Loop over the embedder's core interface (not owned; must outlive the loop).
 * Returns an owned loop; free with red_loop_free(). */
RedLoop *red_loop_new_core(const SpiceCoreInterface *core);

/* Loop over a GMainContext (a reference is taken). Returns an owned loop. */
RedLoop *red_loop_new_glib(GMainContext *ctx);

/* Frees the adapter; timers and watches must already be removed. NULL is ok. */
void red_loop_free(RedLoop *loop);

static inline RedTimer *red_timer_add(RedLoop *loop, RedTimerFunc f, void *opaque)
{
    return loop->ops->timer_add(loop, f, opaque);
}

/* Timers are one-shot: start again from the callback to repeat. */
void red_timer_start(RedTimer *timer, uint32_t ms);
void red_timer_cancel(RedTimer *timer);
/* Removes and frees; NULL is ok. */
void red_timer_remove(RedTimer *timer);

static inline RedWatch *red_watch_add(RedLoop *loop, int fd, int mask, RedWatchFunc f, void *opaque)
{
    return loop->ops->watch_add(loop, fd, mask, f, opaque);
}
void red_watch_update_mask(RedWatch *watch, int mask);
/* Removes and frees; NULL is ok. */
void red_watch_remove(RedWatch *watch);
