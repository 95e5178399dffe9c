/* Surfaces of one worker: the primary (from create_primary_surface) and the
 * off-screen ones (QXL_CMD_SURFACE), each a canvas drawing straight into
 * guest memory.
 *
 * Ownership: a surface has one reference for its guest existence (from
 * create to the guest's destroy) plus one per holder (pending drawables
 * reading it; later, client pipe items). The guest's create command stays
 * unreleased while the surface exists and is released together with the
 * destroy command when the last reference goes, as upstream does (QEMU's
 * savevm relies on the create command staying valid).
 *
 * Threading: worker thread only.
 */
#include "server/display/worker-private.h"

#include <string.h>

#include "server/core/log.h"
#include "server/display/cursor-channel.h"
#include "server/display/display-channel.h"

void surfaces_init(RedWorker *w)
{
    w->surfaces = g_new0(RedSurface, w->n_surfaces);
    for (uint32_t i = 0; i < w->n_surfaces; i++) {
        w->surfaces[i].id = i;
        g_queue_init(&w->surfaces[i].pending);
        red_dirty_init(&w->surfaces[i].dirty);
    }
}

void surfaces_fini(RedWorker *w)
{
    if (!w->surfaces) {
        return;
    }
    surfaces_destroy_all(w);
    for (uint32_t i = 0; i < w->n_surfaces; i++) {
        g_assert(w->surfaces[i].refs == 0);
        red_dirty_fini(&w->surfaces[i].dirty);
    }
    g_clear_pointer(&w->surfaces, g_free);
}

RedSurface *surface_get_live(RedWorker *w, uint32_t id)
{
    if (id >= w->n_surfaces || !w->surfaces[id].live) {
        return NULL;
    }
    return &w->surfaces[id];
}

void surface_ref(RedSurface *s)
{
    g_assert(s->refs > 0);
    s->refs++;
}

void surface_unref(RedWorker *w, RedSurface *s)
{
    g_assert(s->refs > 0);
    if (--s->refs > 0) {
        return;
    }
    g_assert(!s->live && g_queue_is_empty(&s->pending) && !s->readers);
    red_canvas_destroy(s->canvas);
    s->canvas = NULL;
    /* Gone: give the batch buffer back too. */
    red_dirty_fini(&s->dirty);
    red_dirty_init(&s->dirty);
    QXLReleaseInfoExt create = s->create_release, destroy = s->destroy_release;
    s->create_release = (QXLReleaseInfoExt){ 0 };
    s->destroy_release = (QXLReleaseInfoExt){ 0 };
    s->mem = NULL;
    s->primary = false;
    worker_release(w, create);
    worker_release(w, destroy);
}

RedSurface *surface_create(RedWorker *w, uint32_t id, uint32_t width, uint32_t height,
                           int32_t stride, uint32_t format, uint8_t *mem, size_t mem_size,
                           bool keep_data, bool primary, QXLReleaseInfoExt create_release)
{
    if (id >= w->n_surfaces) {
        red_guest_bug("surface id %u >= %u", id, w->n_surfaces);
        return NULL;
    }
    RedSurface *s = &w->surfaces[id];
    if (s->refs) {
        red_guest_bug("surface %u created while it still exists", id);
        return NULL;
    }
    GError *err = NULL;
    RedCanvas *canvas = red_canvas_create_for_data(format, (int)width, (int)height, mem,
                                                   stride, &err);
    if (!canvas) {
        red_guest_bug("surface %u: %s", id, err ? err->message : "canvas refused");
        g_clear_error(&err);
        return NULL;
    }
    if (!keep_data) {
        memset(mem, 0, mem_size);
    }
    s->refs = 1;
    s->live = true;
    s->primary = primary;
    s->width = width;
    s->height = height;
    s->stride = stride;
    s->format = format;
    s->mem = mem;
    s->mem_size = mem_size;
    s->canvas = canvas;
    s->create_release = create_release;
    s->destroy_release = (QXLReleaseInfoExt){ 0 };
    red_dirty_clear(&s->dirty);
    display_channel_surface_create_mem(w->display_channel, id, width, height, format, primary,
                                       !keep_data);
    return s;
}

void surface_destroy(RedWorker *w, RedSurface *s, QXLReleaseInfoExt destroy_release)
{
    g_assert(s->live);
    /* Whoever reads this surface must see its last pixels. */
    tree_render_readers(w, s, NULL);
    tree_drop_surface(w, s);
    display_channel_surface_destroy(w->display_channel, s->id);
    if (s->primary) {
        /* Clients lose their cursor with the primary, as upstream does. */
        cursor_channel_reset(w->cursor_channel);
    }
    s->live = false;
    s->destroy_release = destroy_release;
    surface_unref(w, s);
}

void surfaces_destroy_all(RedWorker *w)
{
    /* Readers first everywhere, so no drawable keeps another surface. */
    for (uint32_t i = 0; i < w->n_surfaces; i++) {
        RedSurface *s = &w->surfaces[i];
        if (s->live) {
            tree_render_readers(w, s, NULL);
        }
    }
    for (uint32_t i = 0; i < w->n_surfaces; i++) {
        RedSurface *s = &w->surfaces[i];
        if (s->live) {
            QXLReleaseInfoExt none = { 0 };
            surface_destroy(w, s, none);
        }
    }
}

void worker_handle_surface_cmd(RedWorker *w, RedSurfaceCmd *cmd, bool loadvm)
{
    switch (cmd->type) {
    case QXL_SURFACE_CMD_CREATE: {
        bool keep = loadvm || (cmd->flags & QXL_SURF_FLAG_KEEP_DATA);
        if (!surface_create(w, cmd->surface_id, cmd->width, cmd->height, cmd->stride,
                            cmd->format, cmd->mem, cmd->mem_size, keep, false,
                            cmd->release)) {
            w->stats.rejected++;
            worker_release(w, cmd->release);
        }
        break;
    }
    case QXL_SURFACE_CMD_DESTROY: {
        RedSurface *s = surface_get_live(w, cmd->surface_id);
        if (!s || s->primary) {
            red_guest_bug("destroy of %s surface %u", s ? "the primary" : "a missing",
                          cmd->surface_id);
            w->stats.rejected++;
            worker_release(w, cmd->release);
            break;
        }
        surface_destroy(w, s, cmd->release);
        break;
    }
    default:
        red_guest_bug("surface command type %u", cmd->type);
        w->stats.rejected++;
        worker_release(w, cmd->release);
        break;
    }
}
