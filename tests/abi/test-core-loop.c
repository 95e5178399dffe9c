/* test-core-loop.c: tools/embedder's SpiceCoreInterface over GMainContext.
 *
 * Drives timers and watches the way the server does (arming from inside
 * callbacks, removing a watch from its own callback, mask updates) on a
 * private context, with a socketpair for fd events. Bounded: every wait
 * loop has an iteration cap and timers use 0-1 ms.
 */
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "core-loop.h"

static SpiceCoreInterface *core;
static GMainContext *ctx;

static void run_until(const int *flag, int value)
{
    for (int i = 0; i < 10000 && *flag != value; i++) {
        g_main_context_iteration(ctx, TRUE);
    }
    g_assert_cmpint(*flag, ==, value);
}

/* ---- timers ---- */

typedef struct {
    SpiceTimer *timer;
    int fired;
    int rearm;            /* times to re-arm from the callback */
} TimerCtx;

static void timer_cb(void *opaque)
{
    TimerCtx *t = opaque;
    t->fired++;
    if (t->rearm > 0) {
        t->rearm--;
        core->timer_start(t->timer, 0);
    }
}

static void test_timers(void)
{
    TimerCtx a = { 0 }, b = { 0 };
    a.timer = core->timer_add(timer_cb, &a);
    b.timer = core->timer_add(timer_cb, &b);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 2);

    /* One-shot, re-armed twice from its own callback: fires three times. */
    a.rearm = 2;
    core->timer_start(a.timer, 1);
    run_until(&a.fired, 3);
    for (int i = 0; i < 10; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    g_assert_cmpint(a.fired, ==, 3);

    /* Cancelled before it is due: never fires. Restart replaces. */
    core->timer_start(b.timer, 0);
    core->timer_cancel(b.timer);
    for (int i = 0; i < 10; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    g_assert_cmpint(b.fired, ==, 0);
    core->timer_start(b.timer, 0);
    core->timer_start(b.timer, 0);
    run_until(&b.fired, 1);
    for (int i = 0; i < 10; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    g_assert_cmpint(b.fired, ==, 1);

    /* Removing an armed timer stops it. */
    core->timer_start(a.timer, 0);
    core->timer_remove(a.timer);
    core->timer_remove(b.timer);
    for (int i = 0; i < 10; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    g_assert_cmpint(a.fired, ==, 3);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
}

/* ---- watches ---- */

typedef struct {
    SpiceWatch *watch;
    int events;           /* last event mask seen */
    int calls;
    gboolean remove_self;
} WatchCtx;

static void watch_cb(int fd, int event, void *opaque)
{
    WatchCtx *w = opaque;
    char buf[16];

    w->events = event;
    w->calls++;
    if (event & SPICE_WATCH_EVENT_READ) {
        /* Drain so a level-triggered watch goes quiet. */
        while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
        }
    }
    if (w->remove_self) {
        core->watch_remove(w->watch);
        w->watch = NULL;
    }
}

static void test_watches(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);

    WatchCtx w = { 0 };
    w.watch = core->watch_add(sv[0], SPICE_WATCH_EVENT_READ, watch_cb, &w);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 1);

    /* Nothing to read: no call. */
    for (int i = 0; i < 10; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    g_assert_cmpint(w.calls, ==, 0);

    g_assert_cmpint(write(sv[1], "x", 1), ==, 1);
    run_until(&w.calls, 1);
    g_assert_cmpint(w.events, ==, SPICE_WATCH_EVENT_READ);

    /* Switch to write interest: an empty socket buffer is writable. */
    core->watch_update_mask(w.watch, SPICE_WATCH_EVENT_WRITE);
    run_until(&w.calls, 2);
    g_assert_cmpint(w.events, ==, SPICE_WATCH_EVENT_WRITE);

    /* Mask 0 silences it without removing it. */
    core->watch_update_mask(w.watch, 0);
    int calls = w.calls;
    for (int i = 0; i < 10; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    g_assert_cmpint(w.calls, ==, calls);

    /* Peer closes: a read watch reports READ (EOF), and may remove itself
     * from its own callback. */
    core->watch_update_mask(w.watch, SPICE_WATCH_EVENT_READ);
    w.remove_self = TRUE;
    close(sv[1]);
    run_until(&w.calls, calls + 1);
    g_assert_true(w.events & SPICE_WATCH_EVENT_READ);
    g_assert_null(w.watch);
    for (int i = 0; i < 10; i++) {
        g_main_context_iteration(ctx, FALSE);
    }
    g_assert_cmpint(w.calls, ==, calls + 1);
    g_assert_cmpuint(embedder_core_live_count(core), ==, 0);
    close(sv[0]);
}

/* ---- channel events and identity ---- */

static void event_hook(int event, SpiceChannelEventInfo *info, void *user_data)
{
    *(int *)user_data = event * 100 + info->type;
}

static void test_base_and_events(void)
{
    g_assert_cmpstr(core->base.type, ==, SPICE_INTERFACE_CORE);
    g_assert_cmpuint(core->base.major_version, ==, SPICE_INTERFACE_CORE_MAJOR);
    g_assert_cmpuint(core->base.minor_version, ==, SPICE_INTERFACE_CORE_MINOR);
    g_assert_true(embedder_core_context(core) == ctx);
    /* Only one core at a time. */
    g_assert_null(embedder_core_new(ctx));

    SpiceChannelEventInfo info = { .type = 3 };
    core->channel_event(SPICE_CHANNEL_EVENT_CONNECTED, &info);   /* no hook: ignored */
    int seen = 0;
    embedder_core_set_channel_event(core, event_hook, &seen);
    core->channel_event(SPICE_CHANNEL_EVENT_DISCONNECTED, &info);
    g_assert_cmpint(seen, ==, 303);
    embedder_core_set_channel_event(core, NULL, NULL);
    core->channel_event(SPICE_CHANNEL_EVENT_CONNECTED, &info);
    g_assert_cmpint(seen, ==, 303);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ctx = g_main_context_new();
    core = embedder_core_new(ctx);
    g_assert_nonnull(core);

    g_test_add_func("/embedder/core/base-and-events", test_base_and_events);
    g_test_add_func("/embedder/core/timers", test_timers);
    g_test_add_func("/embedder/core/watches", test_watches);
    int ret = g_test_run();

    embedder_core_free(core);
    g_main_context_unref(ctx);
    return ret;
}
