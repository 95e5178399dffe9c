/* core-loop.c: SpiceCoreInterface over a GMainContext (see core-loop.h).
 *
 * A timer owns at most one timeout GSource, re-created by each start; a
 * watch owns at most one unix-fd GSource, re-created when the mask
 * changes. The server owns the SpiceTimer/SpiceWatch objects it gets back
 * and frees them through timer_remove/watch_remove.
 */
#include "core-loop.h"

#include <glib-unix.h>

typedef struct EmbedderCore {
    SpiceCoreInterface iface;      /* first: the pointer handed out */
    GMainContext *ctx;             /* owned reference */
    EmbedderChannelEventFunc event_func;
    void *event_data;
    unsigned live;                 /* timers + watches not yet removed */
} EmbedderCore;

struct SpiceTimer {
    EmbedderCore *core;
    SpiceTimerFunc func;
    void *opaque;
    GSource *source;               /* owned, NULL while not armed */
};

struct SpiceWatch {
    EmbedderCore *core;
    int fd;                        /* not owned */
    int mask;                      /* SPICE_WATCH_EVENT_* */
    SpiceWatchFunc func;
    void *opaque;
    GSource *source;               /* owned, NULL while mask is 0 */
};

/* The interface callbacks have no context argument: this is the one live
 * core (see core-loop.h). */
static EmbedderCore *current_core;

static EmbedderCore *core_from_iface(const SpiceCoreInterface *iface)
{
    g_assert(iface != NULL && iface == &current_core->iface);
    return current_core;
}

static void source_drop(GSource **source)
{
    if (*source) {
        g_source_destroy(*source);
        g_source_unref(*source);
        *source = NULL;
    }
}

/* ---- timers ---- */

static gboolean timer_dispatch(gpointer data)
{
    SpiceTimer *timer = data;

    /* Disarm before calling out: the callback may re-arm or remove the
     * timer, and GLib keeps the source alive until dispatch returns. */
    g_source_unref(timer->source);
    timer->source = NULL;
    timer->func(timer->opaque);
    return G_SOURCE_REMOVE;
}

static SpiceTimer *core_timer_add(SpiceTimerFunc func, void *opaque)
{
    g_assert(current_core != NULL && func != NULL);
    SpiceTimer *timer = g_new0(SpiceTimer, 1);
    timer->core = current_core;
    timer->func = func;
    timer->opaque = opaque;
    current_core->live++;
    return timer;
}

static void core_timer_start(SpiceTimer *timer, uint32_t ms)
{
    source_drop(&timer->source);
    timer->source = g_timeout_source_new(ms);
    g_source_set_callback(timer->source, timer_dispatch, timer, NULL);
    g_source_attach(timer->source, timer->core->ctx);
}

static void core_timer_cancel(SpiceTimer *timer)
{
    source_drop(&timer->source);
}

static void core_timer_remove(SpiceTimer *timer)
{
    if (!timer) {
        return;
    }
    source_drop(&timer->source);
    g_assert(timer->core->live > 0);
    timer->core->live--;
    g_free(timer);
}

/* ---- fd watches ---- */

static GIOCondition mask_to_condition(int mask)
{
    GIOCondition cond = 0;

    /* HUP and ERR are reported as readable so the reader meets EOF or
     * the error in its recv(); a write-only watch sees them as writable. */
    if (mask & SPICE_WATCH_EVENT_READ) {
        cond |= G_IO_IN | G_IO_HUP | G_IO_ERR;
    }
    if (mask & SPICE_WATCH_EVENT_WRITE) {
        cond |= G_IO_OUT | G_IO_HUP | G_IO_ERR;
    }
    return cond;
}

static gboolean watch_dispatch(gint fd, GIOCondition cond, gpointer data)
{
    SpiceWatch *watch = data;
    int event = 0;

    if (cond & G_IO_NVAL) {
        /* The server closed the fd but kept the watch: its bug. Stop
         * polling instead of spinning on an invalid descriptor. */
        g_warning("embedder core: watch on closed fd %d, disabling it", fd);
        g_source_unref(watch->source);
        watch->source = NULL;
        return G_SOURCE_REMOVE;
    }
    if (cond & G_IO_IN) {
        event |= SPICE_WATCH_EVENT_READ;
    }
    if (cond & G_IO_OUT) {
        event |= SPICE_WATCH_EVENT_WRITE;
    }
    if (cond & (G_IO_HUP | G_IO_ERR)) {
        event |= watch->mask & (SPICE_WATCH_EVENT_READ | SPICE_WATCH_EVENT_WRITE);
    }
    /* The callback may update the mask or remove the watch (freeing it),
     * so nothing below may touch it; the source stays until removed. */
    watch->func(fd, event, watch->opaque);
    return G_SOURCE_CONTINUE;
}

static void watch_arm(SpiceWatch *watch)
{
    source_drop(&watch->source);
    if (watch->mask == 0) {
        return;
    }
    watch->source = g_unix_fd_source_new(watch->fd, mask_to_condition(watch->mask));
    g_source_set_callback(watch->source, G_SOURCE_FUNC(watch_dispatch), watch, NULL);
    g_source_attach(watch->source, watch->core->ctx);
}

static SpiceWatch *core_watch_add(int fd, int event_mask, SpiceWatchFunc func, void *opaque)
{
    g_assert(current_core != NULL && func != NULL && fd >= 0);
    SpiceWatch *watch = g_new0(SpiceWatch, 1);
    watch->core = current_core;
    watch->fd = fd;
    watch->mask = event_mask;
    watch->func = func;
    watch->opaque = opaque;
    watch_arm(watch);
    current_core->live++;
    return watch;
}

static void core_watch_update_mask(SpiceWatch *watch, int event_mask)
{
    if (watch->mask == event_mask && (watch->source || event_mask == 0)) {
        return;
    }
    watch->mask = event_mask;
    watch_arm(watch);
}

static void core_watch_remove(SpiceWatch *watch)
{
    if (!watch) {
        return;
    }
    source_drop(&watch->source);
    g_assert(watch->core->live > 0);
    watch->core->live--;
    g_free(watch);
}

/* ---- channel events ---- */

static void core_channel_event(int event, SpiceChannelEventInfo *info)
{
    EmbedderCore *core = current_core;

    if (core && core->event_func) {
        core->event_func(event, info, core->event_data);
    }
}

/* ---- public ---- */

/* Creates the core; see core-loop.h. Called by the loop's thread. */
SpiceCoreInterface *embedder_core_new(GMainContext *ctx)
{
    if (current_core) {
        return NULL;
    }
    EmbedderCore *core = g_new0(EmbedderCore, 1);
    core->iface.base.type = SPICE_INTERFACE_CORE;
    core->iface.base.description = "embedder GMainContext core";
    core->iface.base.major_version = SPICE_INTERFACE_CORE_MAJOR;
    core->iface.base.minor_version = SPICE_INTERFACE_CORE_MINOR;
    core->iface.timer_add = core_timer_add;
    core->iface.timer_start = core_timer_start;
    core->iface.timer_cancel = core_timer_cancel;
    core->iface.timer_remove = core_timer_remove;
    core->iface.watch_add = core_watch_add;
    core->iface.watch_update_mask = core_watch_update_mask;
    core->iface.watch_remove = core_watch_remove;
    core->iface.channel_event = core_channel_event;
    core->ctx = g_main_context_ref(ctx ? ctx : g_main_context_default());
    current_core = core;
    return &core->iface;
}

/* Frees the core; see core-loop.h. Called by the loop's thread. */
void embedder_core_free(SpiceCoreInterface *iface)
{
    if (!iface) {
        return;
    }
    EmbedderCore *core = core_from_iface(iface);
    if (core->live) {
        g_warning("embedder core: freed with %u timers/watches still registered",
                  core->live);
    }
    g_main_context_unref(core->ctx);
    current_core = NULL;
    g_free(core);
}

/* Sets the channel-event hook; see core-loop.h. Called by the loop's thread. */
void embedder_core_set_channel_event(SpiceCoreInterface *iface,
                                     EmbedderChannelEventFunc func, void *user_data)
{
    EmbedderCore *core = core_from_iface(iface);
    core->event_func = func;
    core->event_data = user_data;
}

/* Counts live timers and watches; see core-loop.h. */
unsigned embedder_core_live_count(const SpiceCoreInterface *iface)
{
    return core_from_iface(iface)->live;
}

/* Returns the borrowed context; see core-loop.h. */
GMainContext *embedder_core_context(const SpiceCoreInterface *iface)
{
    return core_from_iface(iface)->ctx;
}
