/* RedLoop backends: the embedder's SpiceCoreInterface and a GMainContext. */
#include "server/core/loop.h"

#include <glib-unix.h>

struct RedTimer {
    RedLoop *loop;
    RedTimerFunc func;
    void *opaque;
    SpiceTimer *core_timer;     /* core backend */
    GSource *source;            /* glib backend, NULL when not armed */
};

struct RedWatch {
    RedLoop *loop;
    int fd;
    RedWatchFunc func;
    void *opaque;
    SpiceWatch *core_watch;     /* core backend */
    GSource *source;            /* glib backend */
    gpointer fd_tag;            /* glib backend */
};

void red_timer_start(RedTimer *timer, uint32_t ms)
{
    timer->loop->ops->timer_start(timer, ms);
}

void red_timer_cancel(RedTimer *timer)
{
    if (timer) {
        timer->loop->ops->timer_cancel(timer);
    }
}

void red_timer_remove(RedTimer *timer)
{
    if (timer) {
        timer->loop->ops->timer_remove(timer);
    }
}

void red_watch_update_mask(RedWatch *watch, int mask)
{
    watch->loop->ops->watch_update_mask(watch, mask);
}

void red_watch_remove(RedWatch *watch)
{
    if (watch) {
        watch->loop->ops->watch_remove(watch);
    }
}

void red_loop_free(RedLoop *loop)
{
    if (loop) {
        loop->ops->free(loop);
    }
}

/* ---- embedder core backend ---- */

typedef struct {
    RedLoop base;
    const SpiceCoreInterface *core;
} CoreLoop;

static void core_timer_cb(void *opaque)
{
    RedTimer *t = opaque;
    t->func(t->opaque);
}

static RedTimer *core_timer_add(RedLoop *loop, RedTimerFunc func, void *opaque)
{
    CoreLoop *cl = (CoreLoop *)loop;
    RedTimer *t = g_new0(RedTimer, 1);
    t->loop = loop;
    t->func = func;
    t->opaque = opaque;
    t->core_timer = cl->core->timer_add(core_timer_cb, t);
    if (!t->core_timer) {
        g_free(t);
        return NULL;
    }
    return t;
}

static void core_timer_start(RedTimer *t, uint32_t ms)
{
    ((CoreLoop *)t->loop)->core->timer_start(t->core_timer, ms);
}

static void core_timer_cancel(RedTimer *t)
{
    ((CoreLoop *)t->loop)->core->timer_cancel(t->core_timer);
}

static void core_timer_remove(RedTimer *t)
{
    ((CoreLoop *)t->loop)->core->timer_remove(t->core_timer);
    g_free(t);
}

static void core_watch_cb(int fd, int event, void *opaque)
{
    RedWatch *w = opaque;
    w->func(fd, event, w->opaque);
}

static RedWatch *core_watch_add(RedLoop *loop, int fd, int mask, RedWatchFunc func, void *opaque)
{
    CoreLoop *cl = (CoreLoop *)loop;
    RedWatch *w = g_new0(RedWatch, 1);
    w->loop = loop;
    w->fd = fd;
    w->func = func;
    w->opaque = opaque;
    w->core_watch = cl->core->watch_add(fd, mask, core_watch_cb, w);
    if (!w->core_watch) {
        g_free(w);
        return NULL;
    }
    return w;
}

static void core_watch_update_mask(RedWatch *w, int mask)
{
    ((CoreLoop *)w->loop)->core->watch_update_mask(w->core_watch, mask);
}

static void core_watch_remove(RedWatch *w)
{
    ((CoreLoop *)w->loop)->core->watch_remove(w->core_watch);
    g_free(w);
}

static void core_loop_free(RedLoop *loop)
{
    g_free(loop);
}

static const RedLoopOps core_loop_ops = {
    .timer_add = core_timer_add,
    .timer_start = core_timer_start,
    .timer_cancel = core_timer_cancel,
    .timer_remove = core_timer_remove,
    .watch_add = core_watch_add,
    .watch_update_mask = core_watch_update_mask,
    .watch_remove = core_watch_remove,
    .free = core_loop_free,
};

RedLoop *red_loop_new_core(const SpiceCoreInterface *core)
{
    CoreLoop *cl = g_new0(CoreLoop, 1);
    cl->base.ops = &core_loop_ops;
    cl->core = core;
    return &cl->base;
}

/* ---- GMainContext backend ---- */

typedef struct {
    RedLoop base;
    GMainContext *ctx;
} GlibLoop;

static gboolean glib_timer_cb(gpointer opaque)
{
    RedTimer *t = opaque;
    /* Drop our reference first: the callback may re-arm or remove the timer. */
    GSource *src = t->source;
    t->source = NULL;
    g_source_unref(src);
    t->func(t->opaque);
    return G_SOURCE_REMOVE;
}

static RedTimer *glib_timer_add(RedLoop *loop, RedTimerFunc func, void *opaque)
{
    RedTimer *t = g_new0(RedTimer, 1);
    t->loop = loop;
    t->func = func;
    t->opaque = opaque;
    return t;
}

static void glib_timer_cancel(RedTimer *t)
{
    if (t->source) {
        g_source_destroy(t->source);
        g_source_unref(t->source);
        t->source = NULL;
    }
}

static void glib_timer_start(RedTimer *t, uint32_t ms)
{
    glib_timer_cancel(t);
    t->source = g_timeout_source_new(ms);
    g_source_set_callback(t->source, glib_timer_cb, t, NULL);
    g_source_attach(t->source, ((GlibLoop *)t->loop)->ctx);
}

static void glib_timer_remove(RedTimer *t)
{
    glib_timer_cancel(t);
    g_free(t);
}

typedef struct {
    GSource base;
    RedWatch *watch;
} WatchSource;

static GIOCondition mask_to_cond(int mask)
{
    GIOCondition c = 0;
    if (mask & RED_WATCH_READ) {
        c |= G_IO_IN;
    }
    if (mask & RED_WATCH_WRITE) {
        c |= G_IO_OUT;
    }
    return c;
}

static gboolean watch_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    RedWatch *w = ((WatchSource *)source)->watch;
    GIOCondition c = g_source_query_unix_fd(source, w->fd_tag);
    int ev = 0;
    /* Report hang-ups and errors as readable so the owner sees EOF/the error. */
    if (c & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
        ev |= RED_WATCH_READ;
    }
    if (c & G_IO_OUT) {
        ev |= RED_WATCH_WRITE;
    }
    if (ev) {
        w->func(w->fd, ev, w->opaque);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs watch_source_funcs = {
    .dispatch = watch_source_dispatch,
};

static RedWatch *glib_watch_add(RedLoop *loop, int fd, int mask, RedWatchFunc func, void *opaque)
{
    RedWatch *w = g_new0(RedWatch, 1);
    w->loop = loop;
    w->fd = fd;
    w->func = func;
    w->opaque = opaque;
    w->source = g_source_new(&watch_source_funcs, sizeof(WatchSource));
    ((WatchSource *)w->source)->watch = w;
    w->fd_tag = g_source_add_unix_fd(w->source, fd, mask_to_cond(mask));
    g_source_attach(w->source, ((GlibLoop *)loop)->ctx);
    return w;
}

static void glib_watch_update_mask(RedWatch *w, int mask)
{
    g_source_modify_unix_fd(w->source, w->fd_tag, mask_to_cond(mask));
}

static void glib_watch_remove(RedWatch *w)
{
    g_source_destroy(w->source);
    g_source_unref(w->source);
    g_free(w);
}

static void glib_loop_free(RedLoop *loop)
{
    GlibLoop *gl = (GlibLoop *)loop;
    g_main_context_unref(gl->ctx);
    g_free(gl);
}

static const RedLoopOps glib_loop_ops = {
    .timer_add = glib_timer_add,
    .timer_start = glib_timer_start,
    .timer_cancel = glib_timer_cancel,
    .timer_remove = glib_timer_remove,
    .watch_add = glib_watch_add,
    .watch_update_mask = glib_watch_update_mask,
    .watch_remove = glib_watch_remove,
    .free = glib_loop_free,
};

RedLoop *red_loop_new_glib(GMainContext *ctx)
{
    GlibLoop *gl = g_new0(GlibLoop, 1);
    gl->base.ops = &glib_loop_ops;
    gl->ctx = g_main_context_ref(ctx);
    return &gl->base;
}
