/* SpiceCoreInterface over a GMainContext; see core.h.
 *
 * Locking: GSource attach/destroy is thread-safe in GLib; the counters are
 * atomics.  A timer or watch object itself belongs to the server, which
 * (upstream and ours) drives each one from a single thread.
 */
#include <glib-unix.h>

#include "tools/qxl-emu/core.h"

struct SpiceTimer {
    GSource *source;        /* pending one-shot timeout, or NULL; owned */
    SpiceTimerFunc func;
    void *opaque;
};

struct SpiceWatch {
    GSource *source;        /* fd source, or NULL when the mask is 0; owned */
    int fd;
    SpiceWatchFunc func;
    void *opaque;
};

static GMainContext *core_ctx;
static gint live_sources;
static gint channel_events;

static gboolean timer_fire(gpointer data)
{
    SpiceTimer *timer = data;

    /* One-shot: forget the source before calling out, the callback may
     * re-arm the timer. */
    g_source_unref(timer->source);
    timer->source = NULL;
    timer->func(timer->opaque);
    return G_SOURCE_REMOVE;
}

static SpiceTimer *core_timer_add(SpiceTimerFunc func, void *opaque)
{
    SpiceTimer *timer = g_new0(SpiceTimer, 1);

    timer->func = func;
    timer->opaque = opaque;
    g_atomic_int_inc(&live_sources);
    return timer;
}

static void core_timer_cancel(SpiceTimer *timer)
{
    if (timer->source) {
        g_source_destroy(timer->source);
        g_source_unref(timer->source);
        timer->source = NULL;
    }
}

static void core_timer_start(SpiceTimer *timer, uint32_t ms)
{
    core_timer_cancel(timer);
    timer->source = g_timeout_source_new(ms);
    g_source_set_callback(timer->source, timer_fire, timer, NULL);
    g_source_attach(timer->source, core_ctx);
}

static void core_timer_remove(SpiceTimer *timer)
{
    if (!timer) {
        return;
    }
    core_timer_cancel(timer);
    g_atomic_int_dec_and_test(&live_sources);
    g_free(timer);
}

static gboolean watch_fire(gint fd, GIOCondition cond, gpointer data)
{
    SpiceWatch *watch = data;
    int events = 0;

    if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
        events |= SPICE_WATCH_EVENT_READ;
    }
    if (cond & G_IO_OUT) {
        events |= SPICE_WATCH_EVENT_WRITE;
    }
    watch->func(fd, events, watch->opaque);
    return G_SOURCE_CONTINUE;
}

static void watch_arm(SpiceWatch *watch, int mask)
{
    GIOCondition cond = 0;

    if (watch->source) {
        g_source_destroy(watch->source);
        g_source_unref(watch->source);
        watch->source = NULL;
    }
    if (mask & SPICE_WATCH_EVENT_READ) {
        cond |= G_IO_IN | G_IO_HUP | G_IO_ERR;
    }
    if (mask & SPICE_WATCH_EVENT_WRITE) {
        cond |= G_IO_OUT;
    }
    if (!cond) {
        return;
    }
    watch->source = g_unix_fd_source_new(watch->fd, cond);
    g_source_set_callback(watch->source, G_SOURCE_FUNC(watch_fire), watch, NULL);
    g_source_attach(watch->source, core_ctx);
}

static SpiceWatch *core_watch_add(int fd, int mask, SpiceWatchFunc func, void *opaque)
{
    SpiceWatch *watch = g_new0(SpiceWatch, 1);

    watch->fd = fd;
    watch->func = func;
    watch->opaque = opaque;
    watch_arm(watch, mask);
    g_atomic_int_inc(&live_sources);
    return watch;
}

static void core_watch_update_mask(SpiceWatch *watch, int mask)
{
    watch_arm(watch, mask);
}

static void core_watch_remove(SpiceWatch *watch)
{
    if (!watch) {
        return;
    }
    watch_arm(watch, 0);
    g_atomic_int_dec_and_test(&live_sources);
    g_free(watch);
}

static void core_channel_event(int event, SpiceChannelEventInfo *info)
{
    /* The bench runs without clients; a client hook would record these. */
    g_atomic_int_inc(&channel_events);
}

static SpiceCoreInterface core_iface = {
    .base = {
        .type = SPICE_INTERFACE_CORE,
        .description = "qxl-emu core over GMainContext",
        .major_version = SPICE_INTERFACE_CORE_MAJOR,
        .minor_version = SPICE_INTERFACE_CORE_MINOR,
    },
    .timer_add = core_timer_add,
    .timer_start = core_timer_start,
    .timer_cancel = core_timer_cancel,
    .timer_remove = core_timer_remove,
    .watch_add = core_watch_add,
    .watch_update_mask = core_watch_update_mask,
    .watch_remove = core_watch_remove,
    .channel_event = core_channel_event,
};

SpiceCoreInterface *qxl_emu_core_get(GMainContext *ctx)
{
    g_assert(ctx);
    g_assert(!core_ctx || core_ctx == ctx);
    if (!core_ctx) {
        core_ctx = g_main_context_ref(ctx);
    }
    return &core_iface;
}

unsigned qxl_emu_core_live_sources(void)
{
    return (unsigned)g_atomic_int_get(&live_sources);
}

unsigned qxl_emu_core_channel_events(void)
{
    return (unsigned)g_atomic_int_get(&channel_events);
}
