/* The display and cursor channels of one QXL instance. Both run on the
 * worker's loop; the main loop only registers them with reds and hands
 * authenticated links over (connect -> dispatcher -> worker).
 *
 * The protocols live in display-channel*.c / dcc*.c and cursor-channel.c;
 * this file only connects them to the worker (DisplayChannelHost).
 *
 * Threading: create/destroy on the main loop (thread not running),
 * connect_op/request_disconnect on any thread, the rest on the worker.
 */
#include "server/display/worker-private.h"

#include <spice/protocol.h>

#include "server/core/log.h"
#include "server/display/cursor-channel.h"
#include "server/display/display-channel.h"

static void host_post(void *opaque, void (*func)(void *data), void *data)
{
    red_worker_post_func(opaque, func, data);
}

static void host_render_region(void *opaque, uint32_t surface_id, const pixman_region32_t *region)
{
    worker_render_region(opaque, surface_id, region);
}

static RedCanvas *host_get_canvas(void *opaque, uint32_t surface_id)
{
    return worker_get_canvas(opaque, surface_id);
}

/* QXL interface 3.2+: tell the guest driver which drawing features the
 * connected clients share (it then may use composite, A8 surfaces...). */
static void host_client_caps_changed(void *opaque)
{
    RedWorker *w = opaque;
    uint8_t caps[SPICE_CAPABILITIES_SIZE] = { 0 };

    if (w->qif->base.minor_version < 2 || !w->qif->set_client_capabilities || !w->running) {
        return;
    }
    bool present = display_channel_get_client_caps(w->display_channel, caps, sizeof(caps));
    w->qif->set_client_capabilities(w->qxl, present, caps);
}

void worker_channels_create(RedWorker *w)
{
    const DisplayChannelHost dhost = {
        .opaque = w,
        .post_to_worker = host_post,
        .render_region = host_render_region,
        .get_canvas = host_get_canvas,
        .client_caps_changed = host_client_caps_changed,
    };
    const CursorChannelHost chost = {
        .opaque = w,
        .post_to_worker = host_post,
    };
    w->display_channel = display_channel_new(w->reds, w->loop, (uint8_t)w->qxl->id, &dhost);
    w->cursor_channel = cursor_channel_new(w->reds, w->loop, (uint8_t)w->qxl->id, &chost);
}

void worker_channels_destroy(RedWorker *w)
{
    g_clear_pointer(&w->display_channel, display_channel_free);
    g_clear_pointer(&w->cursor_channel, cursor_channel_free);
}

void worker_channels_close(RedWorker *w)
{
    if (w->display_channel) {
        red_channel_disconnect_all(w->display_channel);
    }
    if (w->cursor_channel) {
        red_channel_disconnect_all(w->cursor_channel);
    }
}
