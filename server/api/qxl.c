/* The spice_qxl_* entry points (include/spice-server/spice-qxl.h).
 *
 * Thin: each one validates its arguments, copies what it needs into a
 * plain-data message (worker-msg.h) and hands it to the instance's worker
 * through red_qxl_dispatch(). Sync calls wait for the worker only; async
 * calls return at once and the worker completes the cookie.
 *
 * Threading: called from any embedder thread (QEMU's vCPU threads and main
 * loop), never from the worker itself.
 */
#include <string.h>
#include <unistd.h>

#include "spice.h"
#include "server/core/log.h"
#include "server/display/worker-msg.h"
#include "server/qxl/red-qxl.h"

/* Upper bound on loadvm commands in one call (QEMU passes one per surface
 * plus the cursor). */
#define LOADVM_MAX_COMMANDS 65536u

static void post(QXLInstance *qxl, WorkerMsgType type, const void *payload, size_t size)
{
    red_qxl_dispatch(qxl, type, payload, size, false, NULL, 0);
}

static void call(QXLInstance *qxl, WorkerMsgType type, const void *payload, size_t size)
{
    red_qxl_dispatch(qxl, type, payload, size, true, NULL, 0);
}

void spice_qxl_wakeup(QXLInstance *instance)
{
    post(instance, WORKER_MSG_WAKEUP, NULL, 0);
}

void spice_qxl_oom(QXLInstance *instance)
{
    post(instance, WORKER_MSG_OOM, NULL, 0);
}

void spice_qxl_start(QXLInstance *instance)
{
    red_qxl_start(instance);
}

void spice_qxl_stop(QXLInstance *instance)
{
    red_qxl_stop(instance);
}

void spice_qxl_update_area(QXLInstance *instance, uint32_t surface_id,
                                              struct QXLRect *area, struct QXLRect *dirty_rects,
                                              uint32_t num_dirty_rects,
                                              uint32_t clear_dirty_region)
{
    if (!area) {
        red_log_limited_("embedder bug: ", "spice_qxl_update_area without an area");
        return;
    }
    if (!dirty_rects) {
        num_dirty_rects = 0;
    }
    WorkerMsgUpdateArea m = {
        .surface_id = surface_id, .area = *area,
        .clear_dirty_region = clear_dirty_region, .num_dirty_rects = num_dirty_rects,
    };
    red_qxl_dispatch(instance, WORKER_MSG_UPDATE_AREA, &m, sizeof(m), true, dirty_rects,
                     (size_t)num_dirty_rects * sizeof(QXLRect));
}

void spice_qxl_update_area_async(QXLInstance *instance, uint32_t surface_id,
                                                    QXLRect *qxl_area,
                                                    uint32_t clear_dirty_region,
                                                    uint64_t cookie)
{
    WorkerMsgUpdateArea m = {
        .a = { .async = true, .cookie = cookie },
        .surface_id = surface_id, .clear_dirty_region = clear_dirty_region,
    };
    if (qxl_area) {
        m.area = *qxl_area;
    } else {
        /* An empty area: nothing rendered, the dirty rects still reported. */
        red_log_limited_("embedder bug: ", "spice_qxl_update_area_async without an area");
    }
    post(instance, WORKER_MSG_UPDATE_AREA, &m, sizeof(m));
}

void spice_qxl_add_memslot(QXLInstance *instance, QXLDevMemSlot *slot)
{
    if (!slot) {
        return;
    }
    WorkerMsgMemslot m = { .slot = *slot };
    call(instance, WORKER_MSG_ADD_MEMSLOT, &m, sizeof(m));
}

void spice_qxl_add_memslot_async(QXLInstance *instance, QXLDevMemSlot *slot,
                                                    uint64_t cookie)
{
    WorkerMsgMemslot m = { .a = { .async = true, .cookie = cookie } };
    if (slot) {
        m.slot = *slot;
    } else {
        /* Completes anyway; an all-zero slot is refused by the worker. */
        m.slot.slot_group_id = UINT32_MAX;
    }
    post(instance, WORKER_MSG_ADD_MEMSLOT, &m, sizeof(m));
}

void spice_qxl_del_memslot(QXLInstance *instance, uint32_t slot_group_id,
                                              uint32_t slot_id)
{
    WorkerMsgDelMemslot m = { .group_id = slot_group_id, .slot_id = slot_id };
    post(instance, WORKER_MSG_DEL_MEMSLOT, &m, sizeof(m));
}

void spice_qxl_reset_memslots(QXLInstance *instance)
{
    post(instance, WORKER_MSG_RESET_MEMSLOTS, NULL, 0);
}

void spice_qxl_destroy_surfaces(QXLInstance *instance)
{
    WorkerMsgAsync m = { 0 };
    call(instance, WORKER_MSG_DESTROY_SURFACES, &m, sizeof(m));
}

void spice_qxl_destroy_surfaces_async(QXLInstance *instance, uint64_t cookie)
{
    WorkerMsgAsync m = { .async = true, .cookie = cookie };
    post(instance, WORKER_MSG_DESTROY_SURFACES, &m, sizeof(m));
}

void spice_qxl_destroy_primary_surface(QXLInstance *instance,
                                                          uint32_t surface_id)
{
    WorkerMsgSurface m = { .surface_id = surface_id };
    call(instance, WORKER_MSG_DESTROY_PRIMARY, &m, sizeof(m));
}

void spice_qxl_destroy_primary_surface_async(QXLInstance *instance,
                                                                uint32_t surface_id,
                                                                uint64_t cookie)
{
    WorkerMsgSurface m = { .a = { .async = true, .cookie = cookie }, .surface_id = surface_id };
    post(instance, WORKER_MSG_DESTROY_PRIMARY, &m, sizeof(m));
}

void spice_qxl_create_primary_surface(QXLInstance *instance,
                                                         uint32_t surface_id,
                                                         QXLDevSurfaceCreate *surface)
{
    if (!surface) {
        return;
    }
    WorkerMsgSurface m = { .surface_id = surface_id, .create = *surface };
    call(instance, WORKER_MSG_CREATE_PRIMARY, &m, sizeof(m));
}

void spice_qxl_create_primary_surface_async(QXLInstance *instance,
                                                               uint32_t surface_id,
                                                               QXLDevSurfaceCreate *surface,
                                                               uint64_t cookie)
{
    WorkerMsgSurface m = { .a = { .async = true, .cookie = cookie }, .surface_id = surface_id };
    if (surface) {
        m.create = *surface;
    }
    post(instance, WORKER_MSG_CREATE_PRIMARY, &m, sizeof(m));
}

void spice_qxl_reset_image_cache(QXLInstance *instance)
{
    call(instance, WORKER_MSG_RESET_IMAGE_CACHE, NULL, 0);
}

void spice_qxl_reset_cursor(QXLInstance *instance)
{
    call(instance, WORKER_MSG_RESET_CURSOR, NULL, 0);
}

void spice_qxl_destroy_surface_wait(QXLInstance *instance,
                                                       uint32_t surface_id)
{
    WorkerMsgSurface m = { .surface_id = surface_id };
    call(instance, WORKER_MSG_DESTROY_SURFACE_WAIT, &m, sizeof(m));
}

void spice_qxl_destroy_surface_async(QXLInstance *instance,
                                                        uint32_t surface_id, uint64_t cookie)
{
    WorkerMsgSurface m = { .a = { .async = true, .cookie = cookie }, .surface_id = surface_id };
    post(instance, WORKER_MSG_DESTROY_SURFACE_WAIT, &m, sizeof(m));
}

void spice_qxl_loadvm_commands(QXLInstance *instance,
                                                  struct QXLCommandExt *ext, uint32_t count)
{
    if (!ext || count == 0) {
        return;
    }
    if (count > LOADVM_MAX_COMMANDS) {
        red_log_limited_("embedder bug: ", "loadvm with %u commands, keeping %u", count,
                         LOADVM_MAX_COMMANDS);
        count = LOADVM_MAX_COMMANDS;
    }
    size_t size = sizeof(WorkerMsgLoadvm) + (size_t)count * sizeof(QXLCommandExt);
    WorkerMsgLoadvm *m = g_malloc(size);
    m->count = count;
    memcpy(m->cmds, ext, (size_t)count * sizeof(QXLCommandExt));
    call(instance, WORKER_MSG_LOADVM_COMMANDS, m, size);
    g_free(m);
}

void spice_qxl_flush_surfaces_async(QXLInstance *instance, uint64_t cookie)
{
    WorkerMsgAsync m = { .async = true, .cookie = cookie };
    post(instance, WORKER_MSG_FLUSH_SURFACES, &m, sizeof(m));
}

void spice_qxl_monitors_config_async(QXLInstance *instance,
                                                        QXLPHYSICAL monitors_config,
                                                        int group_id, uint64_t cookie)
{
    WorkerMsgMonitorsConfig m = {
        .a = { .async = true, .cookie = cookie },
        .addr = monitors_config, .group_id = group_id,
    };
    post(instance, WORKER_MSG_MONITORS_CONFIG, &m, sizeof(m));
}

void spice_qxl_driver_unload(QXLInstance *instance)
{
    post(instance, WORKER_MSG_DRIVER_UNLOAD, NULL, 0);
}

void spice_qxl_set_max_monitors(QXLInstance *instance,
                                                   unsigned int max_monitors)
{
    WorkerMsgU32 m = { .value = max_monitors };
    post(instance, WORKER_MSG_SET_MAX_MONITORS, &m, sizeof(m));
}

void spice_qxl_set_device_info(QXLInstance *instance,
                                                  const char *device_address,
                                                  uint32_t device_display_id_start,
                                                  uint32_t device_display_id_count)
{
    WorkerMsgDeviceInfo m;
    memset(&m, 0, sizeof(m));
    if (device_address) {
        if (strlen(device_address) >= sizeof(m.device_address)) {
            red_log_limited_("embedder bug: ", "device address longer than %zu bytes ignored",
                             sizeof(m.device_address) - 1);
            return;
        }
        g_strlcpy(m.device_address, device_address, sizeof(m.device_address));
    }
    m.display_id_start = device_display_id_start;
    m.display_id_count = device_display_id_count;
    post(instance, WORKER_MSG_SET_DEVICE_INFO, &m, sizeof(m));
}

void spice_qxl_gl_scanout(QXLInstance *qxl, int fd, uint32_t width,
                                             uint32_t height, uint32_t stride, uint32_t format,
                                             int y_0_top)
{
    (void)qxl; (void)width; (void)height; (void)stride; (void)format; (void)y_0_top;
    /* The fd is ours now; without GL support there is nothing to show. */
    if (fd >= 0) {
        close(fd);
    }
    red_log_unimplemented(__func__);
}

void spice_qxl_gl_draw_async(QXLInstance *qxl, uint32_t x, uint32_t y,
                                                uint32_t w, uint32_t h, uint64_t cookie)
{
    (void)x; (void)y; (void)w; (void)h;
    WorkerMsgAsync m = { .async = true, .cookie = cookie };
    post(qxl, WORKER_MSG_GL_DRAW, &m, sizeof(m));
}
