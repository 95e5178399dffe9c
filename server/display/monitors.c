/* Monitors config from QXL_IO_MONITORS_CONFIG_ASYNC: a QXLMonitorsConfig in
 * guest memory, copied once through the memslots and validated on the copy.
 * The worker keeps the copy for the display channel (MONITORS_CONFIG to
 * clients).
 *
 * This belongs with the command parser (server/qxl/parse*.c, the only code
 * meant to read guest memory); it lives here until the parser offers it.
 *
 * Threading: worker thread only.
 */
#include "server/display/worker-private.h"

#include <string.h>

#include "server/core/log.h"
#include "server/display/display-channel.h"

void worker_monitors_config(RedWorker *w, QXLPHYSICAL addr, int32_t group_id)
{
    MemSlotError e = MEMSLOT_OK;
    if (group_id < 0) {
        red_guest_bug("monitors config in group %d", group_id);
        return;
    }
    const QXLMonitorsConfig *hdr_g = memslot_get_virt(w->slots, (uint32_t)group_id, addr,
                                                      sizeof(QXLMonitorsConfig), &e);
    if (!hdr_g) {
        red_guest_bug("monitors config address: %s", memslot_strerror(e));
        return;
    }
    QXLMonitorsConfig hdr;
    memcpy(&hdr, hdr_g, sizeof(hdr));
    uint32_t count = hdr.count;
    if (count == 0 || count > RED_WORKER_MAX_MONITORS ||
        (hdr.max_allowed && count > hdr.max_allowed)) {
        red_guest_bug("monitors config with %u heads (max_allowed %u)", count, hdr.max_allowed);
        return;
    }
    size_t size = sizeof(QXLMonitorsConfig) + (size_t)count * sizeof(QXLHead);
    const uint8_t *all_g = memslot_get_virt(w->slots, (uint32_t)group_id, addr, size, &e);
    if (!all_g) {
        red_guest_bug("monitors config heads: %s", memslot_strerror(e));
        return;
    }
    QXLMonitorsConfig *copy = g_malloc(size);
    memcpy(copy, all_g, size);
    /* The guest may have changed the header between the two reads. */
    copy->count = (uint16_t)count;
    copy->max_allowed = hdr.max_allowed;
    for (uint32_t i = 0; i < count; i++) {
        QXLHead *h = &copy->heads[i];
        if (h->width > RED_QXL_MAX_DIM || h->height > RED_QXL_MAX_DIM ||
            h->surface_id >= w->n_surfaces) {
            red_guest_bug("monitors config head %u: %ux%u on surface %u", i, h->width,
                          h->height, h->surface_id);
            g_free(copy);
            return;
        }
    }
    g_free(w->monitors_config);
    w->monitors_config = copy;
    w->driver_unloaded = false;

    DisplayHead heads[DISPLAY_MAX_HEADS];
    uint32_t n = MIN(count, DISPLAY_MAX_HEADS);
    for (uint32_t i = 0; i < n; i++) {
        const QXLHead *h = &copy->heads[i];
        heads[i] = (DisplayHead){ .id = h->id, .surface_id = h->surface_id, .width = h->width,
                                  .height = h->height, .x = h->x, .y = h->y, .flags = h->flags };
    }
    display_channel_monitors_config(w->display_channel, heads, n, copy->max_allowed);
}
