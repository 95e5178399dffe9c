/* Monitors config from QXL_IO_MONITORS_CONFIG_ASYNC: the parser
 * (red_parse_monitors_config) copies and validates the guest's
 * QXLMonitorsConfig; the worker keeps that copy and hands the heads to the
 * display channel (MONITORS_CONFIG to clients).
 *
 * Threading: worker thread only.
 */
#include "server/display/worker-private.h"

#include <string.h>

#include "server/core/log.h"
#include "server/display/display-channel.h"

void worker_monitors_config(RedWorker *w, QXLPHYSICAL addr, int32_t group_id)
{
    if (group_id < 0) {
        red_guest_bug("monitors config in group %d", group_id);
        return;
    }
    GError *err = NULL;
    QXLMonitorsConfig *copy = red_parse_monitors_config(&w->parse_ctx, (uint32_t)group_id, addr,
                                                        &err);
    if (!copy) {
        /* The parser's message already starts with "guest bug: ". */
        const char *m = err->message;
        red_guest_bug("%s", g_str_has_prefix(m, "guest bug: ") ? m + strlen("guest bug: ") : m);
        g_error_free(err);
        return;
    }
    g_free(w->monitors_config);
    w->monitors_config = copy;
    w->driver_unloaded = false;

    DisplayHead heads[DISPLAY_MAX_HEADS];
    uint32_t n = MIN(copy->count, DISPLAY_MAX_HEADS);
    for (uint32_t i = 0; i < n; i++) {
        const QXLHead *h = &copy->heads[i];
        heads[i] = (DisplayHead){ .id = h->id, .surface_id = h->surface_id, .width = h->width,
                                  .height = h->height, .x = h->x, .y = h->y, .flags = h->flags };
    }
    display_channel_monitors_config(w->display_channel, heads, n, copy->max_allowed);
}
